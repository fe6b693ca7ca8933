/* store_rollback.c - rolling a chain's records back from a block (and the
 * appearances derived from them), and the repairs a read-write open makes
 * from the bulk writer's markers: appearances derived again, records
 * written ahead of their batch rolled back.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include <rocksdb/c.h>

#include "gpuledger/keccak.h"
#include "gpuledger/store.h"
#include "store_int.h"

/* At a read-write open: act on the spans of marker `key` (fix, per span,
 * into one ordinary batch) and drop the marker in that batch. */
static gl_code marker_repair(gl_store *s, const char *key, gl_code (*fix)(gl_store_batch *, const pend_span *, gl_err *),
                             gl_err *err)
{
    pend_span v[PENDING_SPANS_MAX];
    size_t n;
    gl_code rc = st_spans_read(s, key, v, &n, err);
    if (rc || !n)
        return rc;
    gl_store_batch *b = gl_store_batch_new(s, err);
    if (!b)
        return err ? err->code : GL_ENOMEM;
    b->gather = false;
    for (size_t i = 0; i < n && !rc; i++)
        rc = fix(b, &v[i], err);
    if (!rc) {
        st_spans_encode(s, key, NULL, 0, b->wb);
        rc = gl_store_batch_commit(b, err);
    }
    gl_store_batch_free(b);
    return rc;
}

/* Derive the appearances of the span's records again (committing every
 * 100,000 keys on the way). */
static gl_code derive_span(gl_store_batch *b, const pend_span *sp, gl_err *err)
{
    uint8_t lo[16], hi[16];
    gl_store_key_block(lo, sp->chain_id, sp->lo);
    gl_store_key_block(hi, sp->chain_id, sp->hi);
    st_key_successor(hi, sizeof hi); /* bounds every key at block hi (chains stop below 2^64-1) */
    return derive_range(b, lo, sizeof lo, hi, sizeof hi, false, 100000, err);
}

/* At a read-write open: derive the appearances a marker says are missing
 * (through ordinary batches) and drop the marker in the last one. */
gl_code st_pending_repair(gl_store *s, gl_err *err)
{
    return marker_repair(s, META_PENDING_KEY, derive_span, err);
}

static gl_code rollback_span(gl_store_batch *b, const pend_span *sp, gl_err *err)
{
    return gl_store_batch_rollback(b, sp->chain_id, sp->lo, err);
}

/* At a read-write open: roll each chain a marker names back to its block
 * (records may stand there that no committed batch wrote), in one batch
 * that drops the marker. */
gl_code st_ahead_repair(gl_store *s, gl_err *err)
{
    return marker_repair(s, META_AHEAD_KEY, rollback_span, err);
}

/* --------------------------------------------------------------- rollback */

/* Delete the txhash entries of the txs at chain/>=from, when they point
 * there. */
static gl_code rollback_txhash(gl_store_batch *b, uint64_t chain_id, uint64_t from, gl_err *err)
{
    gl_store *s = b->s;
    uint8_t lo[16], hi[8];
    gl_store_key_block(lo, chain_id, from);
    gl_store_be64_put(hi, chain_id);
    st_key_successor(hi, 8);
    rocksdb_readoptions_t *ro = rocksdb_readoptions_create();
    rocksdb_readoptions_set_iterate_upper_bound(ro, (const char *)hi, sizeof hi);
    rocksdb_iterator_t *it = rocksdb_create_iterator_cf(s->db, ro, s->cf[GL_STORE_CF_TXS]);
    gl_code rc = GL_OK;
    for (rocksdb_iter_seek(it, (const char *)lo, sizeof lo); !rc && rocksdb_iter_valid(it);
         rocksdb_iter_next(it)) {
        size_t kl, vl, hl = 0;
        const uint8_t *k = (const uint8_t *)rocksdb_iter_key(it, &kl);
        const uint8_t *v = (const uint8_t *)rocksdb_iter_value(it, &vl);
        if (kl != GL_STORE_TX_KEY_LEN || vl != GL_STORE_TX_VAL_LEN) {
            rc = gl_err_set(err, GL_EDB, "store '%s' is damaged: a tx record of bad size", s->dir);
            break;
        }
        uint8_t hk[GL_STORE_TXHASH_KEY_LEN];
        memcpy(hk, k, 8);
        memcpy(hk + 8, v, 32);
        char *e = NULL;
        char *hv = rocksdb_get_cf(s->db, s->ro, s->cf[GL_STORE_CF_TXHASH], (const char *)hk,
                                  sizeof hk, &hl, &e);
        if (e) {
            rc = db_fail(err, s->dir, e, "reading txhash");
            break;
        }
        if (hv && hl == GL_STORE_TXHASH_VAL_LEN && gl_store_be64_get((uint8_t *)hv) >= from)
            wb_del(b, GL_STORE_CF_TXHASH, hk, sizeof hk);
        free(hv);
    }
    char *e = NULL;
    rocksdb_iter_get_error(it, &e);
    rocksdb_iter_destroy(it);
    rocksdb_readoptions_destroy(ro);
    if (e && !rc)
        return db_fail(err, s->dir, e, "reading txs");
    free(e);
    return rc;
}

/* The appearances one stored record of family cf (events, transfers or
 * txs) implies, into out (*n of them).  GL_EINVAL for a record that does
 * not decode (*n is 0). */
gl_code record_derived(gl_store_family cf, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl,
                       gl_store_appearance out[DERIVED_MAX], size_t *n, gl_err *err)
{
    union {
        gl_store_event e;
        gl_store_transfer t;
        gl_store_tx x;
    } u;
    gl_code rc = GL_EINVAL;
    *n = 0;
    if (cf == GL_STORE_CF_EVENTS && !(rc = gl_store_event_decode(&u.e, k, kl, v, vl, err)))
        *n = derive_event(&u.e, out);
    else if (cf == GL_STORE_CF_TRANSFERS && !(rc = gl_store_transfer_decode(&u.t, k, kl, v, vl, err)))
        *n = derive_transfer(&u.t, out);
    else if (cf == GL_STORE_CF_TXS && !(rc = gl_store_tx_decode(&u.x, k, kl, v, vl, err)))
        *n = derive_tx(&u.x, out);
    return rc;
}

/* Put (del false) or delete the appearances implied by the records of
 * events, transfers and txs with keys in [lo, hi) (hi NULL: no end),
 * committing b every commit_every appearance keys put (0: never; a
 * rollback's batch must stay whole).  GL_EDB for a record that does not
 * decode. */
gl_code derive_range(gl_store_batch *b, const uint8_t *lo, size_t lol, const uint8_t *hi, size_t hil,
                     bool del, uint64_t commit_every, gl_err *err)
{
    static const gl_store_family sources[] = {GL_STORE_CF_EVENTS, GL_STORE_CF_TRANSFERS, GL_STORE_CF_TXS};
    gl_store *s = b->s;
    gl_code rc = GL_OK;
    for (size_t f = 0; f < sizeof sources / sizeof sources[0] && !rc; f++) {
        gl_store_family cf = sources[f];
        rocksdb_readoptions_t *ro = rocksdb_readoptions_create();
        if (hi)
            rocksdb_readoptions_set_iterate_upper_bound(ro, (const char *)hi, hil);
        rocksdb_iterator_t *it = rocksdb_create_iterator_cf(s->db, ro, s->cf[cf]);
        for (rocksdb_iter_seek(it, (const char *)lo, lol); !rc && rocksdb_iter_valid(it); rocksdb_iter_next(it)) {
            size_t kl, vl, n;
            const uint8_t *k = (const uint8_t *)rocksdb_iter_key(it, &kl);
            const uint8_t *v = (const uint8_t *)rocksdb_iter_value(it, &vl);
            gl_store_appearance a[DERIVED_MAX];
            gl_err e2;
            if (record_derived(cf, k, kl, v, vl, a, &n, &e2)) {
                rc = gl_err_set(err, GL_EDB, "store '%s' is damaged: a bad %s record: %s", s->dir, st_family_names[cf],
                                e2.msg);
                break;
            }
            write_derived(b, a, n, del);
            if (commit_every && b->appearances >= commit_every)
                rc = gl_store_batch_commit(b, err);
        }
        char *e = NULL;
        rocksdb_iter_get_error(it, &e);
        rocksdb_iter_destroy(it);
        rocksdb_readoptions_destroy(ro);
        if (e && !rc)
            rc = db_fail(err, s->dir, e, st_family_names[cf]);
        free(e);
    }
    return rc;
}

/* Delete the appearances of every event, transfer and tx at chain/>=from:
 * they are what those records implied when they were put. */
static gl_code rollback_appearances(gl_store_batch *b, uint64_t chain_id, uint64_t from, gl_err *err)
{
    uint8_t lo[16], hi[8];
    gl_store_key_block(lo, chain_id, from);
    gl_store_be64_put(hi, chain_id);
    st_key_successor(hi, 8);
    return derive_range(b, lo, sizeof lo, hi, sizeof hi, true, 0, err);
}

/* Move the chain's cursors at or past `from` back to from - 1. */
static gl_code rollback_cursors(gl_store_batch *b, uint64_t chain_id, uint64_t from, gl_err *err)
{
    gl_store *s = b->s;
    uint8_t back[GL_STORE_CURSOR_VAL_LEN] = {0};
    if (from > 0) {
        gl_store_block blk;
        bool found;
        if (gl_store_get_block(s, chain_id, from - 1, &blk, &found, err))
            return GL_EDB;
        gl_store_be64_put(back, from - 1);
        if (found)
            memcpy(back + 8, blk.hash, 32);
    }
    uint8_t lo[8], hi[8];
    gl_store_be64_put(lo, chain_id);
    memcpy(hi, lo, 8);
    st_key_successor(hi, 8);
    rocksdb_readoptions_t *ro = rocksdb_readoptions_create();
    rocksdb_readoptions_set_iterate_upper_bound(ro, (const char *)hi, sizeof hi);
    rocksdb_iterator_t *it = rocksdb_create_iterator_cf(s->db, ro, s->cf[GL_STORE_CF_CURSORS]);
    gl_code rc = GL_OK;
    for (rocksdb_iter_seek(it, (const char *)lo, sizeof lo); rocksdb_iter_valid(it);
         rocksdb_iter_next(it)) {
        size_t kl, vl;
        const uint8_t *k = (const uint8_t *)rocksdb_iter_key(it, &kl);
        const uint8_t *v = (const uint8_t *)rocksdb_iter_value(it, &vl);
        gl_store_cursor c;
        if (gl_store_cursor_decode(&c, k, kl, v, vl, NULL)) {
            rc = gl_err_set(err, GL_EDB, "store '%s' is damaged: a bad cursor", s->dir);
            break;
        }
        if (c.block < from)
            continue;
        if (from == 0)
            wb_del(b, GL_STORE_CF_CURSORS, k, kl);
        else
            wb_put(b, GL_STORE_CF_CURSORS, k, kl, back, sizeof back);
    }
    char *e = NULL;
    rocksdb_iter_get_error(it, &e);
    rocksdb_iter_destroy(it);
    rocksdb_readoptions_destroy(ro);
    if (e && !rc)
        return db_fail(err, s->dir, e, "reading cursors");
    free(e);
    return rc;
}

gl_code gl_store_batch_rollback(gl_store_batch *b, uint64_t chain_id, uint64_t from_block,
                                gl_err *err)
{
    if (chain_id == 0 || chain_id == UINT64_MAX)
        return gl_err_set(err, GL_EINVAL, "chain id %llu is not a chain",
                          (unsigned long long)chain_id);
    if (b->has_puts)
        return gl_err_set(err, GL_EINVAL, "a rollback must come before the batch's puts");
    for (size_t i = 0; i < b->nrbs; i++)
        if (b->rbs[i].chain_id == chain_id && b->rbs[i].from <= from_block)
            return GL_OK; /* already covered */
    if (b->nrbs == b->caprbs) {
        size_t cap = b->caprbs ? b->caprbs * 2 : 4;
        rollback_mark *v = realloc(b->rbs, cap * sizeof *v);
        if (!v)
            return gl_err_set(err, GL_ENOMEM, "out of memory for a rollback");
        b->rbs = v;
        b->caprbs = cap;
    }
    /* Reads first; on failure the batch must stay as it was, so record
     * where it ended and cut back to it. */
    rocksdb_writebatch_set_save_point(b->wb);
    gl_code rc = rollback_txhash(b, chain_id, from_block, err);
    rc = rc ? rc : rollback_appearances(b, chain_id, from_block, err);
    rc = rc ? rc : rollback_cursors(b, chain_id, from_block, err);
    if (rc) {
        char *e = NULL;
        rocksdb_writebatch_rollback_to_save_point(b->wb, &e);
        free(e);
        return rc;
    }
    char *e = NULL;
    rocksdb_writebatch_pop_save_point(b->wb, &e);
    free(e);
    uint8_t lo[16], hi[8];
    gl_store_key_block(lo, chain_id, from_block);
    gl_store_be64_put(hi, chain_id);
    st_key_successor(hi, 8);
    static const gl_store_family ranged[] = {
        GL_STORE_CF_BLOCKS,   GL_STORE_CF_TXS,      GL_STORE_CF_EVENTS,
        GL_STORE_CF_TRANSFERS, GL_STORE_CF_FINDINGS,
    };
    for (size_t i = 0; i < sizeof ranged / sizeof ranged[0]; i++)
        rocksdb_writebatch_delete_range_cf(b->wb, b->s->cf[ranged[i]], (const char *)lo,
                                           sizeof lo, (const char *)hi, sizeof hi);
    b->rbs[b->nrbs++] = (rollback_mark){chain_id, from_block};
    b->count++;
    return GL_OK;
}

gl_code gl_store_rollback(gl_store *s, uint64_t chain_id, uint64_t from_block, gl_err *err)
{
    gl_store_batch *b = gl_store_batch_new(s, err);
    if (!b)
        return err ? err->code : GL_ENOMEM;
    pthread_mutex_lock(&s->lock);
    gl_code rc = gl_store_batch_rollback(b, chain_id, from_block, err);
    rc = rc ? rc : st_commit_locked(b, err);
    pthread_mutex_unlock(&s->lock);
    gl_store_batch_free(b);
    return rc;
}
