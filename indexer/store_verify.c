/* store_verify.c - counts and stats of the store's families, and
 * gl_store_verify: every record decoded and its derived appearances and
 * txhash entries present.
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

/* ------------------------------------------------------- stats and checks */

gl_code gl_store_count(gl_store *s, gl_store_family cf, uint64_t *n, gl_err *err)
{
    *n = 0;
    if ((int)cf < 0 || (int)cf >= GL_STORE_CF_COUNT)
        return gl_err_set(err, GL_EINVAL, "no family %d", (int)cf);
    if (!s->cf[cf])
        return GL_OK; /* analysis, in a schema 2 store opened read-only */
    rocksdb_readoptions_t *ro = rocksdb_readoptions_create();
    rocksdb_readoptions_set_fill_cache(ro, 0);
    rocksdb_iterator_t *it = rocksdb_create_iterator_cf(s->db, ro, s->cf[cf]);
    for (rocksdb_iter_seek_to_first(it); rocksdb_iter_valid(it); rocksdb_iter_next(it))
        (*n)++;
    char *e = NULL;
    rocksdb_iter_get_error(it, &e);
    rocksdb_iter_destroy(it);
    rocksdb_readoptions_destroy(ro);
    if (e)
        return db_fail(err, s->dir, e, st_family_names[cf]);
    return GL_OK;
}

gl_code gl_store_stats_get(gl_store *s, gl_store_stats *out, gl_err *err)
{
    memset(out, 0, sizeof *out);
    for (int i = 0; i < GL_STORE_CF_COUNT; i++) {
        if (!s->cf[i])
            continue; /* analysis, in a schema 2 store opened read-only: 0 */
        rocksdb_readoptions_t *ro = rocksdb_readoptions_create();
        rocksdb_readoptions_set_fill_cache(ro, 0);
        rocksdb_iterator_t *it = rocksdb_create_iterator_cf(s->db, ro, s->cf[i]);
        /* the flags word sits at a fixed offset of txs and transfers
         * (docs/STORE.md), so the imported ones are counted in the same scan */
        size_t flag_at = i == GL_STORE_CF_TXS ? 105 : i == GL_STORE_CF_TRANSFERS ? 157 : 0;
        for (rocksdb_iter_seek_to_first(it); rocksdb_iter_valid(it); rocksdb_iter_next(it)) {
            out->records[i]++;
            if (!flag_at)
                continue;
            size_t vl;
            const char *v = rocksdb_iter_value(it, &vl);
            if (vl >= flag_at + 4 && (gl_store_be32_get((const uint8_t *)v + flag_at) & GL_STORE_TX_IMPORTED))
                (*(i == GL_STORE_CF_TXS ? &out->imported_txs : &out->imported_transfers))++;
        }
        char *e = NULL;
        rocksdb_iter_get_error(it, &e);
        rocksdb_iter_destroy(it);
        rocksdb_readoptions_destroy(ro);
        if (e)
            return db_fail(err, s->dir, e, st_family_names[i]);
        uint64_t bytes = 0;
        if (rocksdb_property_int_cf(s->db, s->cf[i], "rocksdb.total-sst-files-size", &bytes) == 0)
            out->sst_bytes[i] = bytes;
    }
    return GL_OK;
}

/* Does a record at a's position imply a?  (The records read are decoded;
 * a damaged one implies nothing, and is reported on its own.) */
static gl_code appearance_derived(gl_store *s, const gl_store_appearance *a, bool *found, gl_err *err)
{
    *found = false;
    for (int pass = 0; pass < 2 && !*found; pass++) {
        /* pass 0: the transfer at the position; pass 1: the event or tx */
        uint8_t k[GL_STORE_POS_LEN];
        size_t kl;
        gl_store_family cf;
        if (pass == 0) {
            gl_store_key_pos(k, &a->pos);
            kl = GL_STORE_POS_LEN;
            cf = GL_STORE_CF_TRANSFERS;
        } else if (a->pos.kind == GL_STORE_POS_LOG && a->pos.sub == 0) {
            gl_store_key_event(k, a->pos.chain_id, a->pos.block, a->pos.index);
            kl = GL_STORE_EVENT_KEY_LEN;
            cf = GL_STORE_CF_EVENTS;
        } else if (a->pos.kind == GL_STORE_POS_TX) {
            gl_store_key_tx(k, a->pos.chain_id, a->pos.block, a->pos.index);
            kl = GL_STORE_TX_KEY_LEN;
            cf = GL_STORE_CF_TXS;
        } else {
            break;
        }
        char *v;
        size_t vl;
        if (st_get_raw(s, cf, k, kl, &v, &vl, err))
            return GL_EDB;
        if (!v)
            continue;
        gl_store_appearance d[DERIVED_MAX];
        size_t n;
        record_derived(cf, k, kl, (const uint8_t *)v, vl, d, &n, NULL);
        free(v);
        for (size_t i = 0; i < n && !*found; i++)
            *found = d[i].role == a->role && !memcmp(d[i].addr, a->addr, GL_STORE_ADDR_LEN);
    }
    return GL_OK;
}

/* Are the appearances one record implies (one of tx, ev, t) all stored? */
static gl_code derived_present(gl_store *s, const gl_store_tx *tx, const gl_store_event *ev,
                               const gl_store_transfer *t, gl_err *err)
{
    gl_store_appearance d[DERIVED_MAX];
    size_t n = tx ? derive_tx(tx, d) : ev ? derive_event(ev, d) : derive_transfer(t, d);
    for (size_t i = 0; i < n; i++) {
        uint8_t k[GL_STORE_APPEARANCE_KEY_LEN];
        if (gl_store_key_appearance(k, &d[i], true, err))
            return GL_EINVAL;
        char *v;
        size_t vl;
        if (st_get_raw(s, GL_STORE_CF_APPEARANCES, k, sizeof k, &v, &vl, err))
            return GL_EDB;
        free(v);
        if (!v) {
            char h[2 * GL_STORE_ADDR_LEN + 3];
            return gl_err_set(err, GL_EINVAL, "its %s appearance of %s is missing", gl_store_role_name(d[i].role),
                              gl_hex_encode(d[i].addr, GL_STORE_ADDR_LEN, true, h));
        }
    }
    return GL_OK;
}

/* Decode one record of family `cf` (meta: known keys only). */
static gl_code verify_record(gl_store *s, int cf, const uint8_t *k, size_t kl, const uint8_t *v,
                             size_t vl, gl_err *err)
{
    union {
        gl_store_block b;
        gl_store_tx t;
        gl_store_event e;
        gl_store_transfer x;
        gl_store_appearance a;
        gl_store_cursor c;
        gl_store_label l;
        gl_store_finding f;
    } u;
    switch ((gl_store_family)cf) {
    case GL_STORE_CF_META: {
        bool known = (kl == strlen(META_MAGIC_KEY) && !memcmp(k, META_MAGIC_KEY, kl)) ||
                     (kl == strlen(META_SCHEMA_KEY) && !memcmp(k, META_SCHEMA_KEY, kl)) ||
                     (kl == strlen(META_CREATED_KEY) && !memcmp(k, META_CREATED_KEY, kl)) ||
                     (kl > 6 && !memcmp(k, META_CHAIN_PREFIX, 6) && vl == 8) ||
                     (kl > 8 && !memcmp(k, META_DEFHASH_PREFIX, 8) && vl == 32);
        if (known)
            return GL_OK;
        if (kl == strlen(META_RECOVERED_KEY) && !memcmp(k, META_RECOVERED_KEY, kl)) {
            size_t n;
            return gl_store_lost_spans(s, NULL, 0, &n, NULL, err); /* GL_EDB names the damage */
        }
        if (kl > 4 && kl - 4 < GL_STORE_NAME_MAX && !memcmp(k, META_DEF_PREFIX, 4)) {
            /* a definition: it must hash to the stored defhash */
            char name[GL_STORE_NAME_MAX], *json;
            memcpy(name, k + 4, kl - 4);
            name[kl - 4] = '\0';
            gl_code rc = gl_store_get_platform_def(s, name, &json, err);
            free(json);
            return rc; /* GL_EDB names the damage itself */
        }
        return gl_err_set(err, GL_EINVAL, "unknown meta key");
    }
    case GL_STORE_CF_BLOCKS: return gl_store_block_decode(&u.b, k, kl, v, vl, err);
    case GL_STORE_CF_TXS:
        if (gl_store_tx_decode(&u.t, k, kl, v, vl, err))
            return GL_EINVAL;
        return derived_present(s, &u.t, NULL, NULL, err);
    case GL_STORE_CF_TXHASH:
        if (kl != GL_STORE_TXHASH_KEY_LEN || vl != GL_STORE_TXHASH_VAL_LEN)
            return gl_err_set(err, GL_EINVAL, "txhash record of bad size");
        return GL_OK;
    case GL_STORE_CF_EVENTS:
        if (gl_store_event_decode(&u.e, k, kl, v, vl, err))
            return GL_EINVAL;
        return derived_present(s, NULL, &u.e, NULL, err);
    case GL_STORE_CF_TRANSFERS:
        if (gl_store_transfer_decode(&u.x, k, kl, v, vl, err))
            return GL_EINVAL;
        return derived_present(s, NULL, NULL, &u.x, err);
    case GL_STORE_CF_APPEARANCES: {
        if (kl != GL_STORE_APPEARANCE_KEY_LEN || vl != 0)
            return gl_err_set(err, GL_EINVAL, "appearance record of bad size");
        if (gl_store_appearance_decode(&u.a, k, true, err))
            return GL_EINVAL;
        bool found;
        if (appearance_derived(s, &u.a, &found, err))
            return GL_EDB;
        return found ? GL_OK : gl_err_set(err, GL_EINVAL, "appearance that no record at its position implies");
    }
    case GL_STORE_CF_CURSORS: return gl_store_cursor_decode(&u.c, k, kl, v, vl, err);
    case GL_STORE_CF_FINDINGS: {
        gl_code rc = finding_decode_kv(&u.f, k, kl, v, vl, err);
        json_decref(u.f.json);
        return rc;
    }
    case GL_STORE_CF_LABELS: return gl_store_label_decode(&u.l, k, kl, v, vl, err);
    case GL_STORE_CF_ANALYSIS:
        (void)v;
        (void)vl;
        return kl >= 1 && kl <= GL_STORE_ANALYSIS_KEY_MAX
                   ? GL_OK
                   : gl_err_set(err, GL_EINVAL, "analysis key of %zu bytes", kl);
    }
    return GL_OK;
}

gl_code gl_store_verify(gl_store *s, gl_err *err)
{
    pend_span sp[PENDING_SPANS_MAX];
    size_t nsp;
    gl_code prc = st_pending_read(s, sp, &nsp, err);
    if (prc)
        return prc;
    if (nsp)
        return gl_err_set(err, GL_EDB,
                          "store '%s' is incomplete: the appearances of chain %" PRIu64 " blocks %" PRIu64 "..%" PRIu64
                          "%s were not written (an interrupted bulk write); opening it read-write derives them",
                          s->dir, sp[0].chain_id, sp[0].lo, sp[0].hi, nsp > 1 ? " and more" : "");
    if ((prc = st_spans_read(s, META_AHEAD_KEY, sp, &nsp, err)))
        return prc;
    if (nsp)
        return gl_err_set(err, GL_EDB,
                          "store '%s' is incomplete: records of chain %" PRIu64 " blocks %" PRIu64 "..%" PRIu64
                          "%s were written without the batch that commits them (an interrupted bulk write); "
                          "opening it read-write rolls the chain back to block %" PRIu64,
                          s->dir, sp[0].chain_id, sp[0].lo, sp[0].hi, nsp > 1 ? " and more" : "", sp[0].lo);
    for (int i = 0; i < GL_STORE_CF_COUNT; i++) {
        if (!s->cf[i])
            continue; /* analysis, in a schema 2 store opened read-only */
        rocksdb_readoptions_t *ro = rocksdb_readoptions_create();
        rocksdb_readoptions_set_verify_checksums(ro, 1);
        rocksdb_readoptions_set_fill_cache(ro, 0);
        rocksdb_iterator_t *it = rocksdb_create_iterator_cf(s->db, ro, s->cf[i]);
        gl_code rc = GL_OK;
        for (rocksdb_iter_seek_to_first(it); rocksdb_iter_valid(it); rocksdb_iter_next(it)) {
            size_t kl, vl;
            const uint8_t *k = (const uint8_t *)rocksdb_iter_key(it, &kl);
            const uint8_t *v = (const uint8_t *)rocksdb_iter_value(it, &vl);
            rc = verify_record(s, i, k, kl, v, vl, err);
            if (rc == GL_EDB)
                break;
            if (rc) {
                char hex[2 * 46 + 3];
                gl_hex_encode(k, kl < 46 ? kl : 46, true, hex);
                gl_err_prefix(err, "store '%s' is damaged: '%s' record at key %s: ", s->dir,
                              st_family_names[i], hex);
                rc = err ? (err->code = GL_EDB) : GL_EDB;
                break;
            }
        }
        char *e = NULL;
        rocksdb_iter_get_error(it, &e);
        rocksdb_iter_destroy(it);
        rocksdb_readoptions_destroy(ro);
        if (e && !rc)
            return db_fail(err, s->dir, e, st_family_names[i]);
        free(e);
        if (rc)
            return rc;
    }
    return GL_OK;
}
