/* indexer_range.c - processing a planned range: the batch (begin, discard,
 * commit with the cursor), the fetch of the blocks holding logs (and its
 * prefetch on a thread), chunks of blocks, and the range's commit.
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

/* ------------------------------------------------------------ the batch */

gl_code ix_batch_ensure(gl_indexer *ix, gl_err *err)
{
    if (!ix->b && !(ix->b = gl_store_batch_new(ix->s, err)))
        return err ? err->code : GL_ENOMEM;
    return GL_OK;
}

void prev_from_cursor(gl_indexer *ix)
{
    ix->has_prev = ix->has_cursor && memcmp(ix->cur.hash, ix_zero32, 32) != 0;
    if (ix->has_prev) {
        ix->prev_num = ix->cur.block;
        memcpy(ix->prev_hash, ix->cur.hash, 32);
    }
}

/* Drop the batch being built and what was learned with it. */
static gl_code batch_discard(gl_indexer *ix, gl_err *err)
{
    gl_store_batch_free(ix->b);
    ix->b = NULL;
    memset(&ix->bc, 0, sizeof ix->bc);
    prev_from_cursor(ix);
    return ix_tables_rebuild(ix, err);
}

/* Commit the batch with the cursor at (block, hash). */
static gl_code batch_commit(gl_indexer *ix, uint64_t block, const uint8_t hash[32], gl_err *err)
{
    gl_code rc;
    if ((rc = ix_batch_ensure(ix, err)) || (rc = ix_findings_flush(ix, block, err)))
        return rc;
    /* The definition with its hash, in one batch: the analyzer reads each
     * event's kind from it, and checks it against the hash. */
    if (ix->defhash_pending &&
        ((rc = gl_store_batch_set_platform_hash(ix->b, ix->p->name, ix->chain, ix->p->digest, err)) ||
         (rc = gl_store_batch_set_platform_def(ix->b, ix->p->name, ix->chain, ix->p->canonical, err))))
        return rc;
    uint64_t appearances = gl_store_batch_appearances(ix->b);
    if ((rc = gl_store_batch_set_cursor(ix->b, ix->chain, ix->p->name, block, hash, err)) ||
        (rc = gl_store_batch_commit(ix->b, err)))
        return rc;
    ix->defhash_pending = false;
    ix->has_cursor = true;
    ix->cur.chain_id = ix->chain;
    snprintf(ix->cur.name, sizeof ix->cur.name, "%s", ix->p->name);
    ix->cur.block = block;
    memcpy(ix->cur.hash, hash, 32);
    ix->st.events += ix->bc.events;
    ix->st.txs += ix->bc.txs;
    ix->st.blocks += ix->bc.blocks;
    ix->st.transfers += ix->bc.transfers;
    ix->st.appearances += appearances;
    ix->st.logs += ix->bc.logs;
    ix->st.blocks_fetched += ix->bc.fetched;
    memset(&ix->bc, 0, sizeof ix->bc);
    ix->st.batches++;
    ix->st.cursor = block;
    return GL_OK;
}

/* ------------------------------------------------------ processing ranges */

static bool need_blocks(const gl_indexer *ix, const gl_log *logs, size_t n)
{
    if (ix->o.verify >= GL_INDEXER_VERIFY_SENDERS || ix->uses_tx_roles)
        return true;
    for (size_t i = 0; i < n; i++)
        if (!logs[i].has_ts)
            return true;
    return false;
}

static ix_bfetch bfetch_of(const gl_indexer *ix, gl_endpoints *e)
{
    ix_bfetch f;
    memset(&f, 0, sizeof f);
    f.e = e;
    f.s = ix->s;
    f.chain = ix->chain;
    f.verify = ix->o.verify;
    /* Without either, a block is fetched only for its time and hash (logs
     * without blockTimestamp): its header is all that is needed, and a
     * busy mainnet block's transactions are ~100 times its header. */
    f.full = ix->o.verify >= GL_INDEXER_VERIFY_SENDERS || ix->uses_tx_roles;
    f.has_prev = ix->has_prev;
    f.prev_num = ix->prev_num;
    f.no_block_receipts = ix->no_block_receipts;
    return f;
}

/* Count and log what a fetch learned, once its blocks are taken. */
static void bfetch_settle(gl_indexer *ix, const ix_bfetch *f)
{
    ix->bc.fetched += f->fetched;
    if (f->switched && !ix->no_block_receipts) {
        ixlog(ix, 1, "eth_getBlockReceipts failed (%s): asking for each transaction's receipt", f->why.msg);
        ix->no_block_receipts = true;
    }
}

/* Fetch what the blocks of a chunk need, in JSON-RPC batches. */
static gl_code fetch_blocks(ix_bfetch *f, ix_blk *blks, size_t nb, gl_err *err)
{
    size_t cap = 2 * nb, n = 0;
    const char **methods = calloc(cap, sizeof *methods);
    json_t **params = calloc(cap, sizeof *params), **results = calloc(cap, sizeof *results);
    json_t ***dest = calloc(cap, sizeof *dest);
    gl_code rc = GL_OK;
    if (!methods || !params || !results || !dest) {
        rc = gl_err_set(err, GL_ENOMEM, "out of memory fetching blocks");
        goto done;
    }
    for (size_t i = 0; i < nb; i++) {
        uint64_t b = blks[i].num;
        methods[n] = "eth_getBlockByNumber";
        params[n] = json_pack("[o,b]", ix_qty_json(b), f->full);
        blks[i].full = f->full;
        dest[n++] = &blks[i].block;
        if (f->verify < GL_INDEXER_VERIFY_HEADERS || b == 0 || (i > 0 && blks[i - 1].num == b - 1) ||
            (f->has_prev && f->prev_num == b - 1))
            continue;
        gl_store_block sb;
        bool found;
        if ((rc = gl_store_get_block(f->s, f->chain, b - 1, &sb, &found, err)))
            goto done;
        if (found)
            continue;
        methods[n] = "eth_getBlockByNumber";
        params[n] = json_pack("[o,b]", ix_qty_json(b - 1), 0);
        dest[n++] = &blks[i].parent;
    }
    for (size_t i = 0; i < n; i++)
        if (!params[i]) {
            rc = gl_err_set(err, GL_ENOMEM, "out of memory fetching blocks");
            goto done;
        }
    if ((rc = gl_endpoints_call_many(f->e, n, methods, params, results, err)))
        goto done;
    for (size_t i = 0; i < n; i++) {
        *dest[i] = results[i];
        results[i] = NULL;
    }
    f->fetched += nb;
    for (size_t i = 0; i < nb; i++)
        if (!json_is_object(blks[i].block)) {
            rc = gl_err_set(err, GL_ERPC, "block %" PRIu64 " holds logs but the endpoint does not have it",
                            blks[i].num);
            goto done;
        }
    if (f->verify < GL_INDEXER_VERIFY_FULL)
        goto done;
    /* Receipts: one call per block, or per transaction where the endpoint
     * lacks eth_getBlockReceipts. */
    uint64_t *nums = calloc(nb, sizeof *nums);
    const json_t **txs = calloc(nb, sizeof *txs);
    json_t **rs = calloc(nb, sizeof *rs);
    bool was = f->no_block_receipts;
    rc = nums && txs && rs ? GL_OK : gl_err_set(err, GL_ENOMEM, "out of memory fetching blocks");
    for (size_t i = 0; i < nb && !rc; i++) {
        nums[i] = blks[i].num;
        txs[i] = json_object_get(blks[i].block, "transactions");
    }
    if (!rc && !(rc = gl_receipts_fetch(f->e, nb, nums, txs, &f->no_block_receipts, &f->why, rs, err)))
        for (size_t i = 0; i < nb; i++)
            blks[i].receipts = rs[i];
    f->switched |= f->no_block_receipts && !was;
    free(nums);
    free(txs);
    free(rs);
done:
    for (size_t i = 0; params && i < cap; i++)
        json_decref(params[i]);
    for (size_t i = 0; results && i < cap; i++)
        json_decref(results[i]);
    free(methods);
    free(params);
    free(results);
    free(dest);
    return rc;
}

static void blks_free(ix_blk *blks, size_t nb)
{
    for (size_t i = 0; i < nb; i++) {
        json_decref(blks[i].block);
        json_decref(blks[i].parent);
        json_decref(blks[i].receipts);
    }
    free(blks);
}

/* The blocks of logs[0..n) (sorted), each pointing at its logs; NULL when
 * out of memory. */
static ix_blk *chunk_layout(gl_log *logs, size_t n, size_t *nb_out)
{
    size_t nb = 0;
    for (size_t i = 0; i < n; i++)
        if (i == 0 || logs[i].block != logs[i - 1].block)
            nb++;
    ix_blk *blks = calloc(nb ? nb : 1, sizeof *blks);
    if (!blks)
        return NULL;
    for (size_t i = 0, k = 0; i < n; k++) {
        size_t j = i;
        while (j < n && logs[j].block == logs[i].block)
            j++;
        blks[k].num = logs[i].block;
        blks[k].logs = &logs[i];
        blks[k].nlogs = j - i;
        i = j;
    }
    *nb_out = nb;
    return blks;
}

/* The blocks of the next chunk, fetched on a thread with the block pool. */
typedef struct ix_bprefetch {
    pthread_t thread;
    bool running;
    size_t first, end;      /* the chunk: logs[first..end) of the range */
    ix_blk *blks;
    size_t nb;
    ix_bfetch f;
    gl_code rc;
    gl_err err;
} ix_bprefetch;

static void *bprefetch_main(void *arg)
{
    ix_bprefetch *p = arg;
    p->rc = fetch_blocks(&p->f, p->blks, p->nb, &p->err);
    return NULL;
}

/* Start fetching the blocks of logs[first..end), as the chunk before it
 * (whose last block is `prev`) will leave things once processed. */
static void bprefetch_start(gl_indexer *ix, ix_bprefetch *p, gl_log *logs, size_t first, size_t end, uint64_t prev)
{
    if (!ix->pf_blocks || p->running || !need_blocks(ix, &logs[first], end - first))
        return;
    if (!(p->blks = chunk_layout(&logs[first], end - first, &p->nb)))
        return;
    p->first = first;
    p->end = end;
    p->f = bfetch_of(ix, ix->pf_blocks);
    p->f.has_prev = true;
    p->f.prev_num = prev;
    p->rc = GL_OK;
    gl_err_clear(&p->err);
    if (pthread_create(&p->thread, NULL, bprefetch_main, p)) {
        blks_free(p->blks, p->nb);
        p->blks = NULL;
        return;
    }
    p->running = true;
}

/* Wait for the prefetch; its blocks (and outcome) when it fetched
 * logs[first..end), else NULL (its work dropped). */
static ix_blk *bprefetch_take(gl_indexer *ix, ix_bprefetch *p, size_t first, size_t end, size_t *nb, gl_code *rc,
                              gl_err *err)
{
    if (!p->running)
        return NULL;
    pthread_join(p->thread, NULL);
    p->running = false;
    ix_blk *blks = p->blks;
    p->blks = NULL;
    if (p->first != first || p->end != end) {
        blks_free(blks, p->nb);
        return NULL;
    }
    bfetch_settle(ix, &p->f);
    *nb = p->nb;
    *rc = p->rc;
    if (p->rc && err)
        *err = p->err;
    return blks;
}

/* Check and store one chunk's blocks; `fetched` says whether their fetch
 * already ran (on the prefetch thread), with outcome frc. */
static gl_code process_chunk(gl_indexer *ix, gl_log *logs, size_t n, ix_blk *blks, size_t nb, bool fetched,
                             gl_code frc, bool strict, gl_err *err)
{
    gl_code rc = ix_batch_ensure(ix, err);
    if (!rc && need_blocks(ix, logs, n)) {
        if (!fetched) {
            ix_bfetch f = bfetch_of(ix, ix->e);
            frc = fetch_blocks(&f, blks, nb, err);
            bfetch_settle(ix, &f);
        }
        rc = frc;
        if (rc == GL_ERPC && strict) { /* e.g. a block the endpoint lost in a reorg */
            ixlog(ix, 1, "%s: fetching the range again", err ? err->msg : "bad answer");
            ix->signal = IX_RETRY;
            rc = GL_OK;
        }
    }
    for (size_t k = 0; !rc && ix->signal != IX_REORG && k < nb; k++)
        rc = ix_block_process(ix, &blks[k], strict, ix->signal == IX_NONE, err);
    return rc;
}

/* The hash of block n as the endpoint has it (recomputed from the header
 * from HEADERS up).  *exists false when the endpoint has no such block. */
gl_code ix_endpoint_hash(gl_indexer *ix, uint64_t n, uint8_t out[32], bool *exists, gl_err *err)
{
    json_t *res = NULL;
    *exists = false;
    gl_code rc = gl_endpoints_call(ix->e, "eth_getBlockByNumber", json_pack("[o,b]", ix_qty_json(n), 0), &res, NULL, err);
    if (rc)
        return rc;
    if (json_is_null(res)) {
        json_decref(res);
        return GL_OK;
    }
    rc = GL_OK;
    if (ix->o.verify >= GL_INDEXER_VERIFY_HEADERS) {
        gl_err e2;
        rc = gl_block_json_hash(res, n, out, &e2);
        if (rc == GL_ENOMEM)
            gl_err_set(err, rc, "%s", e2.msg);
        else if (rc)
            rc = gl_err_set(err, GL_ERPC, "block %" PRIu64 ": the endpoint's header %s", n, e2.msg);
    } else if (!ix_get_fixed(json_object_get(res, "hash"), out, 32)) {
        rc = gl_err_set(err, GL_ERPC, "block %" PRIu64 ": no hash in the endpoint's answer", n);
    }
    json_decref(res);
    *exists = rc == GL_OK;
    return rc;
}

/* Where the chunk starting at logs[i] ends: at most `chunk` blocks and,
 * past its first `min_blocks` blocks, GL_INDEXER_CHUNK_LOGS logs (and
 * batch_logs): a chunk's blocks (and with --verify full their receipts)
 * are in memory twice over, the next chunk's being prefetched, and a dense
 * block's receipts are as large as its logs.  min_blocks is 2 where no
 * receipts are fetched: a chunk's blocks go out over as many connections at
 * once, and one dense block a chunk put 41 full-block requests in series
 * on the chain (5,000 logs a block, bench/RESULTS.md). */
static size_t chunk_end(const gl_logs *logs, size_t i, size_t chunk, size_t per_batch, size_t min_blocks)
{
    size_t j = i, nb = 0;
    if (per_batch > GL_INDEXER_CHUNK_LOGS)
        per_batch = GL_INDEXER_CHUNK_LOGS;
    while (j < logs->n && nb < chunk && (nb < min_blocks || j - i < per_batch)) {
        uint64_t b = logs->v[j].block;
        nb++;
        while (j < logs->n && logs->v[j].block == b)
            j++;
    }
    return j;
}

/* ------------------------------------------- a range's first chunk ahead */

/* Arm `a` for the range starting at lo, on the logs prefetch thread's pool
 * e: it fetches as the range before will leave things (its last block,
 * lo - 1, known). */
void ix_ahead_prepare(const gl_indexer *ix, ix_ahead *a, gl_endpoints *e, uint64_t lo)
{
    ix_ahead_drop(a);
    if (!lo)
        return;
    a->armed = true;
    a->want_blocks = ix->o.verify >= GL_INDEXER_VERIFY_SENDERS || ix->uses_tx_roles;
    a->chunk = ix->o.block_chunk ? ix->o.block_chunk : GL_INDEXER_BLOCK_CHUNK_DEFAULT;
    a->per_batch = ix->o.batch_logs ? ix->o.batch_logs : GL_INDEXER_BATCH_LOGS_DEFAULT;
    a->min_blocks = ix->o.verify >= GL_INDEXER_VERIFY_FULL ? 1 : 2;
    a->f = bfetch_of(ix, e);
    a->f.has_prev = true;
    a->f.prev_num = lo - 1;
}

/* On the prefetch thread, once the range's logs are in `logs`: sort them
 * (as ix_discover will) and fetch the first chunk's blocks. */
void ix_ahead_fetch(ix_ahead *a, gl_logs *logs)
{
    if (!a->armed || !logs->n)
        return;
    gl_logs_sort(logs);
    size_t end = chunk_end(logs, 0, a->chunk, a->per_batch, a->min_blocks);
    bool want = a->want_blocks;
    for (size_t i = 0; !want && i < end; i++)
        want = !logs->v[i].has_ts;
    if (!want || !(a->blks = chunk_layout(logs->v, end, &a->nb)))
        return;
    a->end = end;
    gl_err_clear(&a->err);
    a->rc = fetch_blocks(&a->f, a->blks, a->nb, &a->err);
    a->done = true;
}

void ix_ahead_drop(ix_ahead *a)
{
    if (a->blks)
        blks_free(a->blks, a->nb);
    memset(a, 0, sizeof *a);
}

/* The blocks of logs[0..end) from `a`, moved into a layout of the logs as
 * they are now, when `a` fetched the same blocks as the indexer would now
 * (discovery may have added logs, a retry moved the range); else NULL. */
static ix_blk *ahead_take(gl_indexer *ix, ix_ahead *a, gl_log *logs, size_t end, size_t *nb, gl_code *rc,
                          gl_err *err)
{
    if (!a || !a->done || a->end != end || ix->has_prev != a->f.has_prev ||
        (ix->has_prev && ix->prev_num != a->f.prev_num))
        return NULL;
    ix_blk *blks = chunk_layout(logs, end, nb);
    if (!blks || *nb != a->nb) {
        free(blks);
        return NULL;
    }
    for (size_t k = 0; k < a->nb; k++)
        if (blks[k].num != a->blks[k].num) {
            free(blks);
            return NULL;
        }
    for (size_t k = 0; k < a->nb; k++) {
        blks[k].block = a->blks[k].block;
        blks[k].full = a->blks[k].full;
        blks[k].parent = a->blks[k].parent;
        blks[k].receipts = a->blks[k].receipts;
        a->blks[k].block = a->blks[k].parent = a->blks[k].receipts = NULL;
    }
    bfetch_settle(ix, &a->f);
    *rc = a->rc;
    if (a->rc && err)
        *err = a->err;
    ix_ahead_drop(a);
    return blks;
}

/* Store the records of [lo, hi] (logs sorted), committing every batch_logs
 * logs and at hi. */
static gl_code process_range(gl_indexer *ix, uint64_t hi, gl_logs *logs, ix_ahead *ahead, bool strict, gl_err *err)
{
    size_t chunk = ix->o.block_chunk ? ix->o.block_chunk : GL_INDEXER_BLOCK_CHUNK_DEFAULT;
    size_t per_batch = ix->o.batch_logs ? ix->o.batch_logs : GL_INDEXER_BATCH_LOGS_DEFAULT;
    size_t min_blocks = ix->o.verify >= GL_INDEXER_VERIFY_FULL ? 1 : 2;
    gl_code rc = GL_OK;
    ix_bprefetch bp;
    memset(&bp, 0, sizeof bp);
    for (size_t i = 0; i < logs->n;) {
        size_t j = chunk_end(logs, i, chunk, per_batch, min_blocks), nb = 0;
        gl_code frc = GL_OK;
        ix_blk *blks = i == 0 ? ahead_take(ix, ahead, logs->v, j, &nb, &frc, err)
                              : bprefetch_take(ix, &bp, i, j, &nb, &frc, err);
        bool fetched = blks != NULL;
        if (!blks && !(blks = chunk_layout(&logs->v[i], j - i, &nb))) {
            rc = ix_nomem(err);
            break;
        }
        if (j < logs->n)
            bprefetch_start(ix, &bp, logs->v, j, chunk_end(logs, j, chunk, per_batch, min_blocks), logs->v[j - 1].block);
        rc = process_chunk(ix, &logs->v[i], j - i, blks, nb, fetched, frc, strict, err);
        blks_free(blks, nb);
        if (rc || ix->signal != IX_NONE)
            break;
        i = j;
        if (ix->bc.logs >= per_batch && i < logs->n) {
            if ((rc = batch_commit(ix, ix->prev_num, ix->prev_hash, err)))
                break;
            if (ix_want_stop(ix)) {
                ix->signal = IX_STOP;
                break;
            }
        }
    }
    size_t unused;
    gl_code urc;
    blks_free(bprefetch_take(ix, &bp, SIZE_MAX, SIZE_MAX, &unused, &urc, NULL), 0);
    if (rc || ix->signal != IX_NONE)
        return rc;
    uint8_t h[32];
    if (ix->has_prev && ix->prev_num == hi) {
        memcpy(h, ix->prev_hash, 32);
    } else {
        bool exists;
        if ((rc = ix_endpoint_hash(ix, hi, h, &exists, err)))
            return rc;
        if (!exists) {
            if (strict) {
                ix->signal = IX_RETRY;
                return GL_OK;
            }
            return gl_err_set(err, GL_ERPC, "the endpoint has no block %" PRIu64 " any more", hi);
        }
    }
    if ((rc = ix_batch_ensure(ix, err)) || (rc = batch_commit(ix, hi, h, err)))
        return rc;
    ix->has_prev = true;
    ix->prev_num = hi;
    memcpy(ix->prev_hash, h, 32);
    return GL_OK;
}

/* One planned range [lo, hi] whose logs are in hand: discover, process,
 * and on an inconsistent answer fetch what is not committed again. */
gl_code ix_do_range(gl_indexer *ix, uint64_t lo, uint64_t hi, gl_logs *logs, ix_ahead *ahead, gl_err *err)
{
    for (unsigned attempt = 0;; attempt++) {
        bool strict = attempt < GL_INDEXER_RETRIES;
        gl_code rc;
        if (attempt > 0) {
            if (ix->has_cursor && ix->cur.block >= lo)
                lo = ix->cur.block + 1;
            if (lo > hi)
                return GL_OK;
            gl_logs_clear(logs);
            if ((rc = ix_get_logs_planned(ix, lo, hi, NULL, 0, logs, err)))
                return rc;
        }
        /* what was fetched ahead is for the first attempt only */
        rc = ix_discover(ix, hi, logs, err);
        if (!rc)
            rc = process_range(ix, hi, logs, attempt == 0 ? ahead : NULL, strict, err);
        if (ahead)
            ix_ahead_drop(ahead);
        if (rc) {
            gl_err keep;
            if (err)
                keep = *err;
            batch_discard(ix, NULL);
            if (err)
                *err = keep;
            return rc;
        }
        if (ix->signal == IX_RETRY) {
            ix->st.retries++;
            ixlog(ix, 1, "inconsistent answers for blocks %" PRIu64 "..%" PRIu64 ": fetching them again", lo, hi);
            ix->signal = IX_NONE;
            if ((rc = batch_discard(ix, err)))
                return rc;
            continue;
        }
        if (ix->signal == IX_REORG)
            return batch_discard(ix, err);
        return GL_OK;
    }
}
