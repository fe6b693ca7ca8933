/* indexer_reorg.c - reorgs: the cursor loaded, the stored blocks compared
 * with the endpoint's to find where the chain forked, and the rollback to
 * the fork with its finding.
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

/* ------------------------------------------------------------------ reorgs */

gl_code ix_cursor_load(gl_indexer *ix, gl_err *err)
{
    bool found;
    gl_code rc = gl_store_get_cursor(ix->s, ix->chain, ix->p->name, &ix->cur, &found, err);
    if (rc)
        return rc;
    ix->has_cursor = found;
    prev_from_cursor(ix);
    return GL_OK;
}

/* Roll everything of the chain at blocks >= from back, with a "reorg"
 * finding in the same batch, and relearn from what is left. */
static gl_code rollback_to(gl_indexer *ix, uint64_t from, const uint8_t old_hash[32], const uint8_t new_hash[32],
                           gl_err *err)
{
    gl_code rc;
    uint64_t old = ix->cur.block;
    gl_store_batch_free(ix->b);
    ix->b = NULL;
    memset(&ix->bc, 0, sizeof ix->bc);
    if ((rc = ix_batch_ensure(ix, err)) || (rc = gl_store_batch_rollback(ix->b, ix->chain, from, err)))
        return rc;
    uint64_t at = from ? from - 1 : 0;
    json_t *f = ix_finding_new(ix, "reorg", at);
    fset_int(f, "from_block", from);
    fset_int(f, "old_cursor", old);
    fset_hex(f, "old_cursor_hash", old_hash, 32);
    if (new_hash)
        fset_hex(f, "new_cursor_hash", new_hash, 32);
    else
        fset_str(f, "new_cursor_hash", "");
    fset_str(f, "reason", "the endpoint's chain no longer holds the stored blocks from this one on");
    if (!f)
        return ix_nomem(err);
    rc = gl_store_batch_put_finding(ix->b, ix->chain, at, f, NULL, err);
    json_decref(f);
    if (rc || (rc = gl_store_batch_commit(ix->b, err)))
        return rc;
    ix->st.rollbacks++;
    ix->st.findings++;
    ixlog(ix, 1, "reorg: rolled back blocks %" PRIu64 "..%" PRIu64 " of chain %" PRIu64, from, old, ix->chain);
    /* Queued findings about replaced blocks are moot. */
    size_t w = 0;
    for (size_t i = 0; i < ix->npend; i++) {
        if (ix->pend[i].block >= from)
            json_decref(ix->pend[i].json);
        else
            ix->pend[w++] = ix->pend[i];
    }
    ix->npend = w;
    if ((rc = ix_cursor_load(ix, err)))
        return rc;
    return ix_tables_rebuild(ix, err);
}

/* Up to `max` stored blocks of the chain at or below hi, highest first. */
static gl_code stored_below(gl_indexer *ix, uint64_t hi, gl_store_block *out, size_t max, size_t *n,
                            uint64_t *scanned_lo, gl_err *err)
{
    *n = 0;
    uint64_t span = 1024;
    for (;;) {
        uint64_t lo = hi >= span ? hi - span + 1 : 0;
        gl_store_iter *it = gl_store_iter_blocks(ix->s, ix->chain, lo, hi, err);
        if (!it)
            return err ? err->code : GL_ENOMEM;
        size_t total = 0;
    gl_code rc = GL_OK;
        for (;;) {
            gl_store_block b;
            bool end;
            if ((rc = gl_store_next_block(it, &b, &end, err)) || end)
                break;
            out[total % max] = b; /* ring of the last `max` */
            total++;
        }
        gl_store_iter_free(it);
        if (rc)
            return rc;
        if (total) {
            /* Highest first. */
            size_t k = total < max ? total : max;
            gl_store_block tmp[64];
            for (size_t i = 0; i < k; i++)
                tmp[i] = out[(total - 1 - i) % max];
            memcpy(out, tmp, k * sizeof *out);
            *n = k;
            *scanned_lo = lo;
            return GL_OK;
        }
        if (lo == 0) {
            *scanned_lo = 0;
            return GL_OK;
        }
        hi = lo - 1;
        if (span < (UINT64_C(1) << 40))
            span *= 2;
    }
}

/* Is the cursor still on the endpoint's chain?  If not, find the highest
 * stored block the endpoint agrees with and roll back everything above. */
gl_code ix_reorg_check(gl_indexer *ix, bool *rolled, gl_err *err)
{
    *rolled = false;
    if (!ix->has_cursor || !memcmp(ix->cur.hash, ix_zero32, 32))
        return GL_OK;
    uint8_t h[32];
    bool exists;
    gl_code rc = ix_endpoint_hash(ix, ix->cur.block, h, &exists, err);
    if (rc)
        return rc;
    if (exists && !memcmp(h, ix->cur.hash, 32))
        return GL_OK;
    uint8_t old_hash[32];
    memcpy(old_hash, ix->cur.hash, 32);
    ixlog(ix, 1, "the cursor's block %" PRIu64 " is no longer on the endpoint's chain: looking for the fork",
          ix->cur.block);
    /* Walk down the stored blocks, 64 at a time. */
    enum { W = 64 };
    gl_store_block sb[W];
    uint64_t hi = ix->cur.block ? ix->cur.block - 1 : 0;
    uint64_t from = ix->cur.block; /* everything from here on goes */
    bool found = false;
    while (!found && ix->cur.block > 0) {
        size_t n;
        uint64_t lo;
        if ((rc = stored_below(ix, hi, sb, W, &n, &lo, err)))
            return rc;
        if (!n)
            break;
        const char *methods[W];
        json_t *params[W], *results[W];
        for (size_t i = 0; i < n; i++) {
            methods[i] = "eth_getBlockByNumber";
            params[i] = json_pack("[o,b]", ix_qty_json(sb[i].number), 0);
            results[i] = NULL;
        }
        rc = gl_endpoints_call_many(ix->e, n, methods, params, results, err);
        for (size_t i = 0; i < n; i++)
            json_decref(params[i]);
        if (rc)
            return rc;
        for (size_t i = 0; i < n && !found; i++) {
            uint8_t eh[32];
            bool ok = false;
            if (json_is_object(results[i])) {
                if (ix->o.verify >= GL_INDEXER_VERIFY_HEADERS) {
                    ok = gl_block_json_hash(results[i], sb[i].number, eh, NULL) == GL_OK;
                } else {
                    ok = ix_get_fixed(json_object_get(results[i], "hash"), eh, 32);
                }
            }
            if (ok && !memcmp(eh, sb[i].hash, 32)) {
                found = true; /* the fork is above this block */
                from = sb[i].number + 1;
            } else {
                from = sb[i].number;
            }
        }
        for (size_t i = 0; i < n; i++)
            json_decref(results[i]);
        if (found || sb[n - 1].number == 0)
            break;
        hi = sb[n - 1].number - 1;
    }
    /* No stored block agrees: the fork is somewhere below all of them, so
     * everything from the definition's start is indexed again. */
    if (!found && ix->start_block < from)
        from = ix->start_block;
    if ((rc = rollback_to(ix, from, old_hash, exists ? h : NULL, err)))
        return rc;
    *rolled = true;
    return GL_OK;
}
