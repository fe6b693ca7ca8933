/* store_iter.c - iterators over the store: records by block range,
 * appearances and labels by address, cursors, analysis records by prefix.
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

/* -------------------------------------------------------------- iterators */

void gl_store_set_scan_readahead(gl_store *s, size_t bytes) { s->scan_readahead = bytes; }

static gl_store_iter *iter_new(gl_store *s, iter_kind kind, gl_store_family cf, const uint8_t *lo,
                               size_t lolen, const uint8_t *hi, size_t hilen, gl_err *err)
{
    gl_store_iter *it = calloc(1, sizeof *it);
    if (!it || !(it->ro = rocksdb_readoptions_create())) {
        free(it);
        gl_err_set(err, GL_ENOMEM, "out of memory for an iterator");
        return NULL;
    }
    it->s = s;
    it->kind = kind;
    it->cf = cf;
    if (hilen) {
        memcpy(it->hi, hi, hilen);
        rocksdb_readoptions_set_iterate_upper_bound(it->ro, (const char *)it->hi, hilen);
    }
    if (s->scan_readahead) {
        rocksdb_readoptions_set_readahead_size(it->ro, s->scan_readahead);
        rocksdb_readoptions_set_fill_cache(it->ro, 0);
    }
    if (!s->cf[cf])
        return it; /* a family the store lacks (analysis before schema 3): empty */
    it->it = rocksdb_create_iterator_cf(s->db, it->ro, s->cf[cf]);
    if (lolen)
        rocksdb_iter_seek(it->it, (const char *)lo, lolen);
    else
        rocksdb_iter_seek_to_first(it->it);
    return it;
}

/* A block range [from, to] of chain: lo = chain|from, hi = the successor
 * of chain|to, or chain+1 when to is the largest block. */
static gl_store_iter *iter_blocks_range(gl_store *s, iter_kind kind, gl_store_family cf,
                                        uint64_t chain_id, uint64_t from, uint64_t to,
                                        gl_err *err)
{
    if (chain_id == 0 || chain_id == UINT64_MAX || from > to) {
        gl_err_set(err, GL_EINVAL, "bad range: chain %llu, blocks %llu to %llu",
                   (unsigned long long)chain_id, (unsigned long long)from,
                   (unsigned long long)to);
        return NULL;
    }
    uint8_t lo[16], hi[16];
    gl_store_key_block(lo, chain_id, from);
    gl_store_key_block(hi, chain_id, to);
    st_key_successor(hi, 16); /* chain < UINT64_MAX: cannot overflow */
    return iter_new(s, kind, cf, lo, 16, hi, 16, err);
}

gl_store_iter *gl_store_iter_blocks(gl_store *s, uint64_t chain_id, uint64_t from, uint64_t to,
                                    gl_err *err)
{
    return iter_blocks_range(s, IT_BLOCK, GL_STORE_CF_BLOCKS, chain_id, from, to, err);
}

gl_store_iter *gl_store_iter_txs(gl_store *s, uint64_t chain_id, uint64_t from, uint64_t to,
                                 gl_err *err)
{
    return iter_blocks_range(s, IT_TX, GL_STORE_CF_TXS, chain_id, from, to, err);
}

gl_store_iter *gl_store_iter_events(gl_store *s, uint64_t chain_id, uint64_t from, uint64_t to,
                                    gl_err *err)
{
    return iter_blocks_range(s, IT_EVENT, GL_STORE_CF_EVENTS, chain_id, from, to, err);
}

gl_store_iter *gl_store_iter_transfers(gl_store *s, uint64_t chain_id, uint64_t from,
                                       uint64_t to, gl_err *err)
{
    return iter_blocks_range(s, IT_TRANSFER, GL_STORE_CF_TRANSFERS, chain_id, from, to, err);
}

gl_store_iter *gl_store_iter_findings(gl_store *s, uint64_t chain_id, uint64_t from, uint64_t to,
                                      gl_err *err)
{
    return iter_blocks_range(s, IT_FINDING, GL_STORE_CF_FINDINGS, chain_id, from, to, err);
}

static gl_store_iter *iter_address(gl_store *s, iter_kind kind, gl_store_family cf,
                                   const uint8_t *addr, gl_err *err)
{
    if (!addr)
        return iter_new(s, kind, cf, NULL, 0, NULL, 0, err);
    uint8_t hi[20];
    memcpy(hi, addr, 20);
    bool bounded = st_key_successor(hi, 20) == GL_OK;
    return iter_new(s, kind, cf, addr, 20, hi, bounded ? 20 : 0, err);
}

gl_store_iter *gl_store_iter_appearances(gl_store *s, const uint8_t addr[GL_STORE_ADDR_LEN],
                                         gl_err *err)
{
    if (!addr) {
        gl_err_set(err, GL_EINVAL, "no address given");
        return NULL;
    }
    return iter_address(s, IT_APPEARANCE, GL_STORE_CF_APPEARANCES, addr, err);
}

gl_store_iter *gl_store_iter_labels(gl_store *s, const uint8_t *addr, gl_err *err)
{
    return iter_address(s, IT_LABEL, GL_STORE_CF_LABELS, addr, err);
}

gl_store_iter *gl_store_iter_cursors(gl_store *s, gl_err *err)
{
    return iter_new(s, IT_CURSOR, GL_STORE_CF_CURSORS, NULL, 0, NULL, 0, err);
}

gl_store_iter *gl_store_iter_analysis(gl_store *s, const void *prefix, size_t plen, gl_err *err)
{
    if (plen > GL_STORE_ANALYSIS_KEY_MAX || (plen && !prefix)) {
        gl_err_set(err, GL_EINVAL, "an analysis key prefix has 0 to %d bytes, not %zu",
                   GL_STORE_ANALYSIS_KEY_MAX, plen);
        return NULL;
    }
    /* The upper bound is the prefix's successor as a prefix: trailing 0xff
     * bytes dropped, the last byte left incremented (key_successor's
     * carry would let in keys such as "b" for "a\xff").  None when the
     * prefix is empty or all 0xff. */
    uint8_t hi[GL_STORE_ANALYSIS_KEY_MAX];
    size_t hl = plen;
    if (plen)
        memcpy(hi, prefix, plen);
    while (hl && hi[hl - 1] == 0xff)
        hl--;
    if (hl)
        hi[hl - 1]++;
    return iter_new(s, IT_ANALYSIS, GL_STORE_CF_ANALYSIS, prefix, plen, hi, hl, err);
}

void gl_store_iter_free(gl_store_iter *it)
{
    if (!it)
        return;
    if (it->it)
        rocksdb_iter_destroy(it->it);
    rocksdb_readoptions_destroy(it->ro);
    free(it);
}

/* Position on the current record: *end true when there is none. */
static gl_code iter_cur(gl_store_iter *it, iter_kind want, const uint8_t **k, size_t *kl,
                        const uint8_t **v, size_t *vl, bool *end, gl_err *err)
{
    *end = false;
    if (it->kind != want)
        return gl_err_set(err, GL_EINVAL, "this iterator is over '%s', not that record",
                          st_family_names[it->cf]);
    if (!it->it) {
        *end = true;
        return GL_OK;
    }
    if (!rocksdb_iter_valid(it->it)) {
        char *e = NULL;
        rocksdb_iter_get_error(it->it, &e);
        if (e)
            return db_fail(err, it->s->dir, e, st_family_names[it->cf]);
        *end = true;
        return GL_OK;
    }
    *k = (const uint8_t *)rocksdb_iter_key(it->it, kl);
    *v = (const uint8_t *)rocksdb_iter_value(it->it, vl);
    return GL_OK;
}

/* After decoding: advance on success, name the damage on failure. */
static gl_code iter_done(gl_store_iter *it, gl_code rc, gl_err *err)
{
    if (rc)
        return st_damaged(it->s, it->cf, err);
    rocksdb_iter_next(it->it);
    return GL_OK;
}

#define ITER_NEXT(fn, type, kindv, decode)                                                      \
    gl_code fn(gl_store_iter *it, type *out, bool *end, gl_err *err)                          \
    {                                                                                          \
        const uint8_t *k, *v;                                                                  \
        size_t kl, vl;                                                                         \
        gl_code rc = iter_cur(it, kindv, &k, &kl, &v, &vl, end, err);                          \
        if (rc || *end)                                                                        \
            return rc;                                                                         \
        return iter_done(it, decode(out, k, kl, v, vl, err), err);                             \
    }

ITER_NEXT(gl_store_next_block, gl_store_block, IT_BLOCK, gl_store_block_decode)
ITER_NEXT(gl_store_next_tx, gl_store_tx, IT_TX, gl_store_tx_decode)
ITER_NEXT(gl_store_next_event, gl_store_event, IT_EVENT, gl_store_event_decode)
ITER_NEXT(gl_store_next_transfer, gl_store_transfer, IT_TRANSFER, gl_store_transfer_decode)
ITER_NEXT(gl_store_next_label, gl_store_label, IT_LABEL, gl_store_label_decode)
ITER_NEXT(gl_store_next_cursor, gl_store_cursor, IT_CURSOR, gl_store_cursor_decode)

static gl_code appearance_decode_kv(gl_store_appearance *out, const uint8_t *k, size_t kl,
                                    const uint8_t *v, size_t vl, gl_err *err)
{
    (void)v;
    if (kl != GL_STORE_APPEARANCE_KEY_LEN || vl != 0)
        return gl_err_set(err, GL_EINVAL, "appearance key of %zu bytes, value of %zu", kl, vl);
    return gl_store_appearance_decode(out, k, true, err);
}

ITER_NEXT(gl_store_next_appearance, gl_store_appearance, IT_APPEARANCE, appearance_decode_kv)

gl_code finding_decode_kv(gl_store_finding *out, const uint8_t *k, size_t kl,
                          const uint8_t *v, size_t vl, gl_err *err)
{
    out->json = NULL;
    if (kl != GL_STORE_FINDING_KEY_LEN)
        return gl_err_set(err, GL_EINVAL, "finding key of %zu bytes", kl);
    out->chain_id = gl_store_be64_get(k);
    out->block = gl_store_be64_get(k + 8);
    out->seq = gl_store_be32_get(k + 16);
    json_error_t je;
    json_t *j = json_loadb((const char *)v, vl, JSON_REJECT_DUPLICATES, &je);
    if (!j || !json_is_object(j)) {
        json_decref(j);
        return gl_err_set(err, GL_EINVAL, "finding is not a JSON object: %s",
                          j ? "another JSON type" : je.text);
    }
    out->json = j;
    return GL_OK;
}

ITER_NEXT(gl_store_next_finding, gl_store_finding, IT_FINDING, finding_decode_kv)

/* The record is returned in place (RocksDB's own buffers), so the step past
 * it waits for the next call. */
gl_code gl_store_next_analysis(gl_store_iter *it, const uint8_t **key, size_t *klen, const uint8_t **val,
                               size_t *vlen, bool *end, gl_err *err)
{
    if (it->kind == IT_ANALYSIS && it->advance && it->it) {
        rocksdb_iter_next(it->it);
        it->advance = false;
    }
    const uint8_t *k, *v;
    size_t kl, vl;
    gl_code rc = iter_cur(it, IT_ANALYSIS, &k, &kl, &v, &vl, end, err);
    if (rc || *end)
        return rc;
    if (kl < 1 || kl > GL_STORE_ANALYSIS_KEY_MAX) {
        gl_err_set(err, GL_EINVAL, "analysis key of %zu bytes", kl);
        return st_damaged(it->s, it->cf, err);
    }
    *key = k;
    *klen = kl;
    *val = v;
    *vlen = vl;
    it->advance = true;
    return GL_OK;
}
