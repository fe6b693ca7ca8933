/* indexer_check.c - verification of one block holding followed logs: its
 * header against its hash, its parent, its transactions (senders
 * recovered) and receipts against their roots, the logs against the
 * receipts; a block that contradicts itself fetched again, and the
 * endpoints' quorum on disputed blocks.  What fails becomes a finding.
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
#include "gpuledger/secp.h"
#include "gpuledger/trie.h"
#include "gpuledger/tx.h"
#include "gpuledger/tx_check.h"
#include "indexer_int.h"

/* -------------------------------------------------------- block contents */

static json_t *check_finding(ix_check *c, const char *kind)
{
    json_t *f = ix_finding_new(c->ix, kind, c->blk->num);
    fset_hex(f, "block_hash", c->rec.hash, 32);
    return f;
}

/* A finding gl_tx_check made, placed as check_finding places its own
 * (steals f; NULL when out of memory). */
static json_t *check_placed(ix_check *c, json_t *f)
{
    char bh[67];
    if (f && (json_object_set_new(f, "platform", json_string(c->ix->p->name)) ||
              json_object_set_new(f, "block_hash", json_string(ix_hex_of(c->rec.hash, 32, bh))))) {
        json_decref(f);
        return NULL;
    }
    return f;
}

/* A claim contradicted inside one answer (a lie, never a reorg): always a
 * finding, and in strict mode the block is fetched again. */
static gl_code lie(ix_check *c, json_t *f, gl_err *err)
{
    c->lied = true;
    return ix_finding_add(c->ix, c->blk->num, f, err);
}

/* Answers that disagree with each other (possibly a reorg in flight): in
 * strict mode only a retry, in the last attempt a finding. */
static gl_code mismatch(ix_check *c, json_t *f, gl_err *err)
{
    c->bad = true;
    if (c->strict) {
        json_decref(f);
        return f ? GL_OK : ix_nomem(err);
    }
    return ix_finding_add(c->ix, c->blk->num, f, err);
}

/* Header: hash recomputed (HEADERS and up) or taken as claimed. */
static gl_code check_header(ix_check *c, gl_err *err)
{
    gl_indexer *ix = c->ix;
    const json_t *blk = c->blk->block;
    gl_err e2;
    if (!blk) { /* no fetch (verify none): what the logs say */
        const gl_log *g = &c->blk->logs[0];
        memcpy(c->rec.hash, g->block_hash, 32);
        c->rec.timestamp = g->ts;
        return GL_OK;
    }
    c->has_claimed = ix_get_fixed(json_object_get(blk, "hash"), c->claimed, 32);
    if (gl_block_header_from_json_ex(&c->hdr, blk, GL_BLOCK_FORK_GAPS, &e2))
        return gl_err_set(err, GL_ERPC, "block %" PRIu64 ": the endpoint's header is unreadable: %s", c->blk->num,
                          e2.msg);
    c->has_hdr = true;
    if (c->hdr.number != c->blk->num)
        return gl_err_set(err, GL_ERPC, "asked for block %" PRIu64 ", the endpoint answered block %" PRIu64,
                          c->blk->num, c->hdr.number);
    memcpy(c->rec.parent_hash, c->hdr.parent_hash, 32);
    c->rec.timestamp = c->hdr.timestamp;
    if (ix->o.verify < GL_INDEXER_VERIFY_HEADERS) {
        if (!c->has_claimed)
            return gl_err_set(err, GL_ERPC, "block %" PRIu64 ": no hash in the endpoint's answer", c->blk->num);
        memcpy(c->rec.hash, c->claimed, 32);
        return GL_OK;
    }
    /* The hash first, from the header alone: it is what the store keeps. */
    gl_code rc = gl_block_header_hash(&c->hdr, c->rec.hash, err);
    if (rc)
        return rc;
    if (c->has_claimed && !memcmp(c->claimed, c->rec.hash, 32)) {
        c->rec.verified |= GL_STORE_BLOCK_HASH_OK;
    } else {
        json_t *f = check_finding(c, "header_hash_mismatch");
        fset_str(f, "field", "hash");
        if (c->has_claimed)
            fset_hex(f, "claimed", c->claimed, 32);
        else
            fset_str(f, "claimed", "");
        fset_hex(f, "computed", c->rec.hash, 32);
        json_t *hj = gl_block_header_to_json(&c->hdr, NULL);
        if (f && hj)
            json_object_set_new(f, "header", hj);
        else
            json_decref(hj);
        if ((rc = lie(c, f, err)))
            return rc;
    }
    /* Then the body: uncles hash, transactions root and hashes, withdrawals
     * root.  A block whose transactions this build cannot rebuild (a chain's
     * own transaction types) keeps its verified hash; only the body goes
     * unchecked, said in the log. */
    gl_block_report rep;
    gl_block_report_init(&rep);
    if (gl_block_verify_ex(NULL, blk, GL_BLOCK_FORK_GAPS, &rep, &e2)) {
        gl_block_report_release(&rep);
        ixlog(ix, 1, "block %" PRIu64 ": transactions root not checked: %s", c->blk->num, e2.msg);
        return GL_OK;
    }
    for (size_t i = 0; !rc && i < rep.n; i++) {
        const gl_block_check *k = &rep.checks[i];
        if (k->status != GL_BLOCK_MISMATCH || k->kind == GL_CHECK_HEADER_HASH)
            continue;
        json_t *f = check_finding(c, gl_block_check_finding(k->kind));
        fset_str(f, "field", k->field);
        fset_str(f, "claimed", k->claimed);
        fset_str(f, "computed", k->computed);
        fset_str(f, "reason", k->reason);
        fset_str(f, "differs", k->differs);
        rc = lie(c, f, err);
    }
    gl_block_report_release(&rep);
    return rc;
}

/* Every log must name the block hash the block has. */
static gl_code check_log_hashes(ix_check *c, gl_err *err)
{
    gl_code rc = GL_OK;
    for (size_t i = 0; !rc && i < c->blk->nlogs; i++) {
        const gl_log *g = &c->blk->logs[i];
        if (!memcmp(g->block_hash, c->rec.hash, 32))
            continue;
        json_t *f = check_finding(c, "log_block_hash_mismatch");
        fset_int(f, "log_index", g->log_index);
        fset_hex(f, "tx_hash", g->tx_hash, 32);
        fset_str(f, "field", "blockHash");
        fset_hex(f, "claimed", g->block_hash, 32);
        fset_hex(f, "computed", c->rec.hash, 32);
        rc = mismatch(c, f, err);
    }
    return rc;
}

/* The parent link: the parent's hash as stored, as the cursor holds it, as
 * this pass verified it, or recomputed from the parent's fetched header. */
static gl_code check_parent(ix_check *c, gl_err *err)
{
    gl_indexer *ix = c->ix;
    uint64_t n = c->blk->num;
    if (ix->o.verify < GL_INDEXER_VERIFY_HEADERS || n == 0 || !c->has_hdr)
        return GL_OK;
    uint8_t known[32];
    bool have = false, authoritative = false;
    if (ix->has_prev && ix->prev_num == n - 1) {
        memcpy(known, ix->prev_hash, 32);
        have = authoritative = true;
    } else {
        gl_store_block sb;
        bool found;
        gl_code rc = gl_store_get_block(ix->s, ix->chain, n - 1, &sb, &found, err);
        if (rc)
            return rc;
        if (found) {
            memcpy(known, sb.hash, 32);
            have = authoritative = true;
        } else if (c->blk->parent) {
            have = gl_block_json_hash(c->blk->parent, n - 1, known, NULL) == GL_OK;
            if (!have) {
                json_t *f = check_finding(c, "parent_mismatch");
                fset_str(f, "reason", "the parent's header is unreadable");
                return mismatch(c, f, err);
            }
        }
    }
    if (!have)
        return GL_OK;
    if (!memcmp(known, c->hdr.parent_hash, 32)) {
        c->rec.verified |= GL_STORE_BLOCK_PARENT_OK;
        return GL_OK;
    }
    if (authoritative && c->strict && !ix->parent_lenient) {
        /* The chain under what is stored may have changed: let the driver
         * look for a reorg before anything else. */
        ix->signal = IX_REORG;
        return GL_OK;
    }
    json_t *f = check_finding(c, "parent_mismatch");
    fset_str(f, "field", "parentHash");
    fset_hex(f, "claimed", c->hdr.parent_hash, 32);
    fset_hex(f, "computed", known, 32);
    fset_str(f, "reason", authoritative ? "the stored parent's hash differs" : "the parent's header hashes otherwise");
    return mismatch(c, f, err);
}

ix_tx *ix_tx_of(ix_check *c, uint32_t index)
{
    for (size_t i = 0; i < c->ntxs; i++)
        if (c->txs[i].index == index)
            return &c->txs[i];
    return NULL;
}

/* The transactions behind the logs: rebuilt, bound to the log's tx hash,
 * sender recovered (SENDERS and up). */
static gl_code check_txs(ix_check *c, gl_err *err)
{
    gl_indexer *ix = c->ix;
    const json_t *list = c->blk->block && c->blk->full ? json_object_get(c->blk->block, "transactions") : NULL;
    bool all_ok = c->ntxs > 0;
    gl_code rc = GL_OK;
    for (size_t i = 0; !rc && i < c->ntxs; i++) {
        ix_tx *t = &c->txs[i];
        const gl_log *g = NULL;
        for (size_t k = 0; k < c->blk->nlogs && !g; k++)
            if (c->blk->logs[k].tx_index == t->index)
                g = &c->blk->logs[k];
        t->rec.chain_id = ix->chain;
        t->rec.block = c->blk->num;
        t->rec.index = t->index;
        memcpy(t->rec.hash, g->tx_hash, 32);
        if (!list) {
            all_ok = false;
            continue;
        }
        /* high s only before EIP-2: no base fee (pre-London) stands in for that */
        unsigned flags = c->has_hdr && !(c->hdr.ext & GL_BLOCK_HAS_BASE_FEE) ? GL_TX_ALLOW_HIGH_S : 0;
        const gl_secp *secp = ix->o.verify >= GL_INDEXER_VERIFY_SENDERS ? ix->secp : NULL;
        gl_tx_checked tc;
        json_t *f;
        if ((rc = gl_tx_check(secp, &tc, &f, json_array_get(list, t->index), ix->chain, c->blk->num, t->index,
                              g->tx_hash, flags, err)))
            break;
        t->rec = tc.rec;
        t->has_from = tc.has_from;
        t->ok = true;
        all_ok = all_ok && tc.verdict == GL_TX_CHECK_SENDER_OK;
        switch (tc.verdict) {
        case GL_TX_CHECK_SENDER_OK:
        case GL_TX_CHECK_UNRECOVERED:
            break;
        case GL_TX_CHECK_SENDER_MISMATCH:
        case GL_TX_CHECK_UNRECOVERABLE:
            rc = ix_finding_add(ix, c->blk->num, check_placed(c, f), err);
            break;
        case GL_TX_CHECK_UNSUPPORTED:
            /* A transaction type this build cannot rebuild (a chain's own
             * system transactions): nothing to check it with.  The
             * endpoint's from/to/value are kept, unverified (no SENDER_OK
             * flag), and said in the log. */
            ixlog(ix, 1, "block %" PRIu64 " tx %u: sender not checked: %s", c->blk->num, t->index, tc.reason);
            t->ok = tc.has_from;
            break;
        case GL_TX_CHECK_UNREADABLE:
        case GL_TX_CHECK_HASH_MISMATCH:
            /* Not the tx the log names: said as the log's claim, and in
             * strict mode a retry (the block may have changed under the
             * logs). */
            json_decref(f);
            t->ok = false;
            f = check_finding(c, "log_tx_mismatch");
            fset_int(f, "tx_index", t->index);
            if (tc.verdict == GL_TX_CHECK_UNREADABLE) {
                fset_hex(f, "tx_hash", g->tx_hash, 32);
                fset_str(f, "reason", tc.reason);
            } else {
                fset_str(f, "field", "transactionHash");
                fset_hex(f, "claimed", g->tx_hash, 32);
                fset_hex(f, "computed", tc.computed, 32);
            }
            rc = mismatch(c, f, err);
            break;
        }
    }
    if (!rc && all_ok && ix->o.verify >= GL_INDEXER_VERIFY_SENDERS)
        c->rec.verified |= GL_STORE_BLOCK_SENDERS_OK;
    return rc;
}

/* FULL: rebuild receiptsRoot and find every log in the proven receipts. */
/* Does a receipt's log (JSON) say what our log says: address, topics, data? */
static bool receipt_log_same(const json_t *o, const gl_log *g)
{
    uint8_t a[32];
    const json_t *topics = json_object_get(o, "topics");
    if (!ix_get_fixed(json_object_get(o, "address"), a, 20) || memcmp(a, g->address, 20) ||
        json_array_size(topics) != g->ntopics)
        return false;
    for (size_t t = 0; t < g->ntopics; t++)
        if (!ix_get_fixed(json_array_get(topics, t), a, 32) || memcmp(a, g->topics[t], 32))
            return false;
    const char *data = json_string_value(json_object_get(o, "data"));
    size_t n = data ? strlen(data) : 0;
    if (n < 2 || data[0] != '0' || data[1] != 'x' || (n - 2) != 2 * g->len)
        return false;
    for (size_t i = 0; i < g->len; i++) {
        int hi = gl_hex_digit((unsigned char)data[2 + 2 * i]), lo = gl_hex_digit((unsigned char)data[3 + 2 * i]);
        if (hi < 0 || lo < 0 || (uint8_t)(hi << 4 | lo) != g->data[i])
            return false;
    }
    return true;
}

static gl_code check_receipts(ix_check *c, gl_err *err)
{
    gl_indexer *ix = c->ix;
    if (ix->o.verify < GL_INDEXER_VERIFY_FULL || !c->has_hdr)
        return GL_OK;
    const json_t *rs = c->blk->receipts;
    size_t n = json_array_size(rs);
    size_t ntx = json_array_size(json_object_get(c->blk->block, "transactions"));
    gl_code rc = GL_OK;
    gl_err e2;
    const char *why = NULL;
    uint8_t root[32];
    if (!json_is_array(rs) || n != ntx)
        why = "the receipts do not match the transactions one to one";
    if (!why) {
        gl_code r2 = gl_indexer_receipts_root(root, rs, &e2);
        if (r2 == GL_ENOMEM)
            return ix_nomem(err);
        if (r2)
            why = e2.msg;
        else if (memcmp(root, c->hdr.receipts_root, 32))
            why = "receiptsRoot differs";
    }
    if (why) {
        json_t *f = check_finding(c, "receipts_root_mismatch");
        fset_str(f, "field", "receiptsRoot");
        fset_hex(f, "claimed", c->hdr.receipts_root, 32);
        if (!strcmp(why, "receiptsRoot differs"))
            fset_hex(f, "computed", root, 32);
        fset_str(f, "reason", why);
        return mismatch(c, f, err);
    }
    c->rec.verified |= GL_STORE_BLOCK_RECEIPTS_OK;
    /* Walk the receipts' logs in order: their position is the log index. */
    size_t li = 0; /* next of our logs (sorted by log index) */
    uint64_t flat = 0;
    for (size_t i = 0; i < n && li < c->blk->nlogs; i++) {
        const json_t *logs = json_object_get(json_array_get(rs, i), "logs");
        for (size_t k = 0; k < json_array_size(logs) && li < c->blk->nlogs; k++, flat++) {
            const gl_log *g = &c->blk->logs[li];
            if (g->log_index != flat)
                continue;
            bool same = i == g->tx_index && receipt_log_same(json_array_get(logs, k), g);
            if (same)
                c->proven[li] = true;
            li++;
        }
    }
    for (size_t k = 0; !rc && k < c->blk->nlogs; k++) {
        if (c->proven[k])
            continue;
        json_t *f = check_finding(c, "log_not_proven");
        fset_int(f, "log_index", c->blk->logs[k].log_index);
        fset_hex(f, "tx_hash", c->blk->logs[k].tx_hash, 32);
        fset_str(f, "reason", "the log is not at its position in the proven receipts");
        rc = mismatch(c, f, err);
    }
    return rc;
}

/* Fetch block n again (after it contradicted itself). */
static gl_code refetch_block(gl_indexer *ix, ix_blk *blk, gl_err *err)
{
    json_t *res = NULL;
    gl_code rc = gl_endpoints_call(ix->e, "eth_getBlockByNumber",
                                   json_pack("[o,b]", ix_qty_json(blk->num), blk->full), &res, NULL, err);
    if (rc)
        return rc;
    if (!json_is_object(res)) {
        json_decref(res);
        return gl_err_set(err, GL_ERPC, "block %" PRIu64 " holds logs but the endpoint does not have it", blk->num);
    }
    json_decref(blk->block);
    blk->block = res;
    ix->bc.fetched++;
    return GL_OK;
}

void ix_check_release(ix_check *c)
{
    gl_block_header_release(&c->hdr);
    free(c->txs);
    free(c->proven);
    c->txs = NULL;
    c->proven = NULL;
}

/* Run every check of one block; a block that contradicts itself (a header
 * that does not hash to its claim, a wrong transactions root) is fetched
 * again, up to GL_INDEXER_RETRIES times, its lies kept as findings. */
gl_code ix_block_check(gl_indexer *ix, ix_blk *blk, bool strict, ix_check *c, gl_err *err)
{
    for (unsigned attempt = 0;; attempt++) {
        memset(c, 0, sizeof *c);
        c->ix = ix;
        c->blk = blk;
        c->strict = strict;
        c->rec.chain_id = ix->chain;
        c->rec.number = blk->num;
        gl_block_header_init(&c->hdr);
        c->txs = calloc(blk->nlogs, sizeof *c->txs);
        c->proven = calloc(blk->nlogs, sizeof *c->proven);
        if (!c->txs || !c->proven)
            return ix_nomem(err);
        for (size_t i = 0; i < blk->nlogs; i++)
            if (!ix_tx_of(c, blk->logs[i].tx_index))
                c->txs[c->ntxs++].index = blk->logs[i].tx_index;
        gl_code rc = check_header(c, err);
        if (rc == GL_ERPC && strict) { /* a garbled answer: fetch it again */
            ixlog(ix, 1, "%s", err ? err->msg : "garbled block");
            c->bad = true;
            return GL_OK;
        }
        if (rc || (rc = check_log_hashes(c, err)) || (rc = check_parent(c, err)))
            return rc;
        if (ix->signal == IX_REORG)
            return GL_OK;
        if ((rc = check_txs(c, err)) || (rc = check_receipts(c, err)))
            return rc;
        if (!c->lied || attempt >= GL_INDEXER_RETRIES || !blk->block)
            return GL_OK;
        ix->st.retries++;
        ixlog(ix, 1, "block %" PRIu64 " contradicts itself: fetching it again", blk->num);
        ix_check_release(c);
        if ((rc = refetch_block(ix, blk, err)))
            return rc;
    }
}

/* The block's hash as two endpoints give it (gl_endpoints_block_hash). */
gl_code ix_check_quorum(gl_indexer *ix, ix_check *c, bool *disputed, gl_err *err)
{
    uint8_t h[32];
    gl_err e2;
    gl_code rc = gl_endpoints_block_hash(ix->e, c->blk->num, h, &e2);
    if (rc == GL_OK && !memcmp(h, c->rec.hash, 32)) {
        c->rec.verified |= GL_STORE_BLOCK_QUORUM_OK;
        return GL_OK;
    }
    if (rc != GL_OK && rc != GL_EVERIFY) {
        if (err)
            *err = e2;
        return rc;
    }
    *disputed = true;
    json_t *f = check_finding(c, "endpoints_disagree");
    fset_str(f, "field", "hash");
    if (rc == GL_OK) {
        fset_hex(f, "claimed", h, 32);
        fset_hex(f, "computed", c->rec.hash, 32);
        fset_str(f, "reason", "the endpoints agree on another hash than the verified block's");
    } else {
        fset_str(f, "reason", e2.msg);
    }
    return ix_finding_add(ix, c->blk->num, f, err);
}
