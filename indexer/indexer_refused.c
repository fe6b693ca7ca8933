/* indexer_refused.c - the fallback for a single block whose eth_getLogs is
 * refused as too large: the request split by address and topic, and when
 * even one address and topic is refused, the logs read from the block's
 * receipts and proven against its receiptsRoot.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gpuledger/abi.h"
#include "gpuledger/block.h"
#include "gpuledger/indexer.h"
#include "gpuledger/log_reader.h"
#include "gpuledger/range_plan.h"
#include "gpuledger/receipts_fetch.h"
#include "gpuledger/secp.h"
#include "gpuledger/trie.h"
#include "gpuledger/tx.h"
#include "gpuledger/tx_check.h"
#include "indexer_int.h"

/* ------------------------------------------------- a refused single block */

/* eth_getLogs over block n for the addresses f[first, first + na) and the
 * topics [t0, t0 + nt), cut in halves (addresses first, then topics) while
 * the endpoint refuses it as too large.  Every (address, topic) pair is
 * asked in exactly one filter, so nothing comes twice.  *leaf is set (and
 * nothing more asked) when a filter of one address and one topic is
 * refused: cutting cannot help.  Other failures are returned as they are. */
static gl_code logs_split(ix_fetch *f, size_t first, size_t na, size_t t0, size_t nt, uint64_t n, gl_logs *out,
                          bool *leaf, gl_err *err)
{
    ix_fetch sub = *f;
    sub.topics = f->topics + t0;
    sub.ntopics = nt;
    gl_call_info info;
    memset(&info, 0, sizeof info);
    gl_code rc = ix_get_logs_chunk(&sub, first, na, n, n, out, &info, err);
    f->requests = sub.requests;
    f->dropped = sub.dropped;
    if (rc != GL_ERPC || info.cls != GL_RPC_ERR_RANGE_TOO_LARGE)
        return rc;
    if (na > 1) {
        size_t h = na / 2;
        rc = logs_split(f, first, h, t0, nt, n, out, leaf, err);
        return rc || *leaf ? rc : logs_split(f, first + h, na - h, t0, nt, n, out, leaf, err);
    }
    if (nt > 1) {
        size_t h = nt / 2;
        rc = logs_split(f, first, na, t0, h, n, out, leaf, err);
        return rc || *leaf ? rc : logs_split(f, first, na, t0 + h, nt - h, n, out, leaf, err);
    }
    *leaf = true;
    return GL_OK;
}

/* The receipts of block n as the endpoint gives them (receipts_fetch.h);
 * learning that it lacks eth_getBlockReceipts is remembered in
 * ix->no_block_receipts. */
static gl_code block_receipts(gl_indexer *ix, gl_endpoints *e, uint64_t n, const json_t *txs, json_t **out,
                              gl_err *err)
{
    bool was = ix->no_block_receipts;
    gl_err why;
    gl_code rc = gl_receipts_fetch(e, 1, &n, &txs, &ix->no_block_receipts, &why, out, err);
    if (ix->no_block_receipts && !was)
        ixlog(ix, 1, "eth_getBlockReceipts failed (%s): asking for each transaction's receipt", why.msg);
    return rc;
}

/* One log of a proven receipt (JSON) as the gl_log eth_getLogs would have
 * given; false when it is malformed. */
static bool log_from_receipt(gl_log *g, const json_t *o, uint64_t n, uint32_t log_index, uint32_t tx_index,
                             const uint8_t block_hash[32], const uint8_t tx_hash[32], uint64_t ts)
{
    const json_t *topics = json_object_get(o, "topics");
    if (!ix_get_fixed(json_object_get(o, "address"), g->address, 20) || !json_is_array(topics) ||
        json_array_size(topics) > 4)
        return false;
    g->ntopics = json_array_size(topics);
    for (size_t t = 0; t < g->ntopics; t++)
        if (!ix_get_fixed(json_array_get(topics, t), g->topics[t], 32))
            return false;
    const char *data = json_string_value(json_object_get(o, "data"));
    gl_buf b = GL_BUF_INIT;
    if (!data || gl_hex_decode_buf(data, &b, NULL)) {
        gl_buf_release(&b);
        return false;
    }
    g->data = b.len ? b.data : NULL;
    g->len = b.len;
    if (!b.len)
        gl_buf_release(&b);
    g->block = n;
    g->log_index = log_index;
    g->tx_index = tx_index;
    memcpy(g->block_hash, block_hash, 32);
    memcpy(g->tx_hash, tx_hash, 32);
    g->has_ts = true;
    g->ts = ts;
    g->removed = false;
    return true;
}

/* Block n's logs that f asks for, read from its receipts once: the header
 * (eth_getBlockByNumber(n, false)) is rehashed, and the receipts must hash
 * to its receiptsRoot, one per transaction hash it lists, each naming that
 * hash.  The logs then carry what was proven: their position (the log
 * index counts the block's logs in receipt order), the header's computed
 * hash and its time.  An answer that does not hold together sets *why
 * (nothing appended); failures of the calls are returned. */
static gl_code receipt_logs_once(gl_indexer *ix, ix_fetch *f, uint64_t n, gl_logs *out, char *why, size_t cap,
                                 gl_err *err)
{
    json_t *blk = NULL, *rs = NULL;
    size_t nr = 0, before = out->n;
    gl_err e2;
    gl_code r2;
    gl_code rc = gl_endpoints_call(f->e, "eth_getBlockByNumber", json_pack("[o,b]", ix_qty_json(n), 0), &blk, NULL,
                                   err);
    if (rc)
        return rc;
    gl_block_header hdr;
    gl_block_header_init(&hdr);
    uint8_t hash[32];
    const json_t *txs = json_object_get(blk, "transactions");
    if (!json_is_object(blk) || gl_block_header_from_json_ex(&hdr, blk, GL_BLOCK_FORK_GAPS, &e2)) {
        snprintf(why, cap, "the header is unreadable: %.200s", json_is_object(blk) ? e2.msg : "no block");
        goto done;
    }
    if (hdr.number != n || !json_is_array(txs)) {
        snprintf(why, cap, "the endpoint answered block %" PRIu64 "%s", hdr.number,
                 json_is_array(txs) ? "" : " without its transaction hashes");
        goto done;
    }
    if ((rc = gl_block_header_hash(&hdr, hash, err)) || (rc = block_receipts(ix, f->e, n, txs, &rs, err)))
        goto done;
    nr = json_array_size(rs);
    if (nr != json_array_size(txs)) {
        snprintf(why, cap, "%zu receipts for %zu transactions", nr, json_array_size(txs));
        goto done;
    }
    uint8_t root[32];
    if ((r2 = gl_indexer_receipts_root(root, rs, &e2)) == GL_ENOMEM) {
        rc = ix_nomem(err);
        goto done;
    }
    if (r2) {
        snprintf(why, cap, "%.200s", e2.msg);
        goto done;
    }
    if (memcmp(root, hdr.receipts_root, 32)) {
        char c1[67], c2[67];
        snprintf(why, cap, "the receipts hash to %s, the header's receiptsRoot is %s", ix_hex_of(root, 32, c1),
                 ix_hex_of(hdr.receipts_root, 32, c2));
        goto done;
    }
    uint64_t flat = 0;
    for (size_t i = 0; i < nr && !why[0]; i++) {
        const json_t *r = json_array_get(rs, i), *logs = json_object_get(r, "logs");
        uint8_t th[32], listed[32];
        if (!ix_get_fixed(json_object_get(r, "transactionHash"), th, 32) ||
            !ix_get_fixed(json_array_get(txs, i), listed, 32) || memcmp(th, listed, 32)) {
            snprintf(why, cap, "receipt %zu is not the receipt of the header's transaction %zu", i, i);
            break;
        }
        for (size_t k = 0; k < json_array_size(logs); k++, flat++) {
            gl_log probe;
            memset(&probe, 0, sizeof probe);
            if (!log_from_receipt(&probe, json_array_get(logs, k), n, (uint32_t)flat, (uint32_t)i, hash, th,
                                  hdr.timestamp)) {
                snprintf(why, cap, "receipt %zu: log %zu is malformed", i, k);
                break;
            }
            const ix_addr *a = bsearch(probe.address, f->addrs, f->naddrs, sizeof *f->addrs, ix_addr_cmp);
            if (!a || !ix_addr_live(a, n) || !probe.ntopics || !ix_fetch_topic(f, probe.topics[0])) {
                free(probe.data);
                continue;
            }
            gl_log *g = gl_logs_push(out);
            if (!g) {
                free(probe.data);
                rc = ix_nomem(err);
                goto done;
            }
            *g = probe;
        }
    }
done:
    if (rc || why[0])
        gl_logs_truncate(out, before);
    gl_block_header_release(&hdr);
    json_decref(rs);
    json_decref(blk);
    return rc;
}

/* Block n's logs from its proven receipts, asked again (GL_INDEXER_RETRIES
 * times) while the answers do not hold together; then GL_ERPC naming why. */
static gl_code receipt_logs(gl_indexer *ix, ix_fetch *f, uint64_t n, gl_logs *out, gl_err *err)
{
    for (unsigned attempt = 0;; attempt++) {
        char why[256] = "";
        gl_code rc = receipt_logs_once(ix, f, n, out, why, sizeof why, err);
        if (rc || !why[0])
            return rc;
        if (attempt >= GL_INDEXER_RETRIES)
            return gl_err_set(err, GL_ERPC,
                              "block %" PRIu64 ": eth_getLogs is refused as too large and its receipts do not "
                              "prove its logs: %s",
                              n, why);
        ix->st.retries++;
        ix_nap(ix, gl_endpoints_backoff_ms(f->e, attempt));
    }
}

/* Block n's eth_getLogs was refused as too large.  A provider under load
 * refuses spuriously, and a busy block can really exceed a cap, so: ask
 * again (GL_INDEXER_RETRIES times, after the pool's back-off), then split
 * the filter by address and by topic, and at last read the block's
 * receipts.  Appends the logs eth_getLogs would have given; on failure out
 * is as it was.  Runs on the indexer's thread (f's pool is ix->e). */
gl_code logs_refused_block(gl_indexer *ix, ix_fetch *f, uint64_t n, gl_logs *out, gl_err *err)
{
    size_t before = out->n;
    gl_code rc = GL_OK;
    ix->st.refused_blocks++;
    for (unsigned i = 0; i < GL_INDEXER_RETRIES; i++) {
        ix_nap(ix, gl_endpoints_backoff_ms(f->e, i));
        gl_call_info info;
        memset(&info, 0, sizeof info);
        rc = ix_get_logs(f, n, n, out, &info, err);
        if (rc != GL_ERPC || info.cls != GL_RPC_ERR_RANGE_TOO_LARGE)
            return rc;
    }
    rc = GL_OK;
    bool leaf = false;
    for (size_t first = 0; !rc && !leaf && first < f->naddrs; first += f->per_request) {
        size_t na = f->naddrs - first < f->per_request ? f->naddrs - first : f->per_request;
        rc = logs_split(f, first, na, 0, f->ntopics, n, out, &leaf, err);
    }
    if (rc || leaf)
        gl_logs_truncate(out, before);
    if (rc)
        return rc;
    if (!leaf) {
        ix->st.split_blocks++;
        ixlog(ix, 1, "block %" PRIu64 ": eth_getLogs refused as too large; read with the filter split", n);
        return GL_OK;
    }
    if ((rc = receipt_logs(ix, f, n, out, err)))
        return rc;
    ix->st.receipt_blocks++;
    ixlog(ix, 1, "block %" PRIu64 ": eth_getLogs refused as too large, even for one address and topic; read from "
          "its receipts, proven against its receiptsRoot", n);
    return GL_OK;
}
