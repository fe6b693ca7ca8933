/* store_read.c - point reads of the store: its meta (schema, bindings,
 * platform definitions and hashes, creator) and single records by key
 * (blocks, txs, transfers, events, cursors, analysis records).
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

unsigned gl_store_schema_version(const gl_store *s) { return s->version; }

bool gl_store_has_analysis_family(const gl_store *s) { return s->cf[GL_STORE_CF_ANALYSIS] != NULL; }

gl_code gl_store_get_binding(gl_store *s, const char *platform, uint64_t *chain_id, bool *found,
                             gl_err *err)
{
    *found = false;
    *chain_id = 0;
    if (!gl_store_name_ok(platform))
        return gl_err_set(err, GL_EINVAL, "bad platform name '%.80s'",
                          platform ? platform : "(null)");
    pthread_mutex_lock(&s->lock);
    binding *b = binding_find(&s->bindings, platform);
    if (b) {
        *found = true;
        *chain_id = b->chain_id;
    }
    pthread_mutex_unlock(&s->lock);
    return GL_OK;
}

gl_code gl_store_list_bindings(gl_store *s, uint64_t **chain_ids, char (**names)[GL_STORE_NAME_MAX], size_t *n,
                               gl_err *err)
{
    if (chain_ids)
        *chain_ids = NULL;
    if (names)
        *names = NULL;
    *n = 0;
    pthread_mutex_lock(&s->lock);
    size_t count = s->bindings.n;
    uint64_t *ids = count && chain_ids ? malloc(count * sizeof *ids) : NULL;
    char(*nm)[GL_STORE_NAME_MAX] = count && names ? malloc(count * sizeof *nm) : NULL;
    if (count && ((chain_ids && !ids) || (names && !nm))) {
        pthread_mutex_unlock(&s->lock);
        free(ids);
        free(nm);
        return gl_err_set(err, GL_ENOMEM, "out of memory listing %zu bindings", count);
    }
    for (size_t i = 0; i < count; i++) {
        if (ids)
            ids[i] = s->bindings.v[i].chain_id;
        if (nm)
            memcpy(nm[i], s->bindings.v[i].name, GL_STORE_NAME_MAX);
    }
    pthread_mutex_unlock(&s->lock);
    if (chain_ids)
        *chain_ids = ids;
    if (names)
        *names = nm;
    *n = count;
    return GL_OK;
}

gl_code gl_store_get_platform_hash(gl_store *s, const char *platform,
                                   uint8_t hash[GL_STORE_HASH_LEN], bool *found, gl_err *err)
{
    *found = false;
    if (!gl_store_name_ok(platform))
        return gl_err_set(err, GL_EINVAL, "bad platform name '%.80s'",
                          platform ? platform : "(null)");
    char key[sizeof META_DEFHASH_PREFIX + GL_STORE_NAME_MAX];
    snprintf(key, sizeof key, "%s%s", META_DEFHASH_PREFIX, platform);
    char *val;
    size_t vl;
    if (meta_get(s, key, &val, &vl, err))
        return GL_EDB;
    if (!val)
        return GL_OK;
    gl_code rc = GL_OK;
    if (vl != GL_STORE_HASH_LEN)
        rc = gl_err_set(err, GL_EDB, "store '%s' is damaged: bad definition hash of '%s'",
                        s->dir, platform);
    else {
        memcpy(hash, val, GL_STORE_HASH_LEN);
        *found = true;
    }
    free(val);
    return rc;
}

gl_code gl_store_get_platform_def(gl_store *s, const char *platform, char **json, gl_err *err)
{
    *json = NULL;
    if (!gl_store_name_ok(platform))
        return gl_err_set(err, GL_EINVAL, "bad platform name '%.80s'",
                          platform ? platform : "(null)");
    char key[sizeof META_DEF_PREFIX + GL_STORE_NAME_MAX];
    snprintf(key, sizeof key, "%s%s", META_DEF_PREFIX, platform);
    char *val;
    size_t vl;
    if (meta_get(s, key, &val, &vl, err))
        return GL_EDB;
    if (!val)
        return GL_OK;
    uint8_t want[GL_STORE_HASH_LEN], got[GL_KECCAK256_LEN];
    bool found;
    gl_code rc = gl_store_get_platform_hash(s, platform, want, &found, err);
    if (rc) {
        free(val);
        return rc;
    }
    gl_keccak256(val, vl, got);
    if (!found || memcmp(got, want, GL_STORE_HASH_LEN)) {
        free(val);
        return gl_err_set(err, GL_EDB, "store '%s' is damaged: definition of '%s' does not match its hash",
                          s->dir, platform);
    }
    char *text = malloc(vl + 1);
    if (!text) {
        free(val);
        return gl_err_set(err, GL_ENOMEM, "out of memory for the definition of '%s'", platform);
    }
    memcpy(text, val, vl);
    text[vl] = '\0';
    free(val);
    *json = text;
    return GL_OK;
}

gl_code gl_store_get_created_by(gl_store *s, char *out, size_t cap, gl_err *err)
{
    char *val;
    size_t vl;
    if (cap == 0)
        return gl_err_set(err, GL_EINVAL, "no room for the created-by text");
    out[0] = '\0';
    if (meta_get(s, META_CREATED_KEY, &val, &vl, err))
        return GL_EDB;
    if (!val)
        return GL_OK;
    gl_code rc = GL_OK;
    if (vl >= cap)
        rc = gl_err_set(err, GL_ERANGE, "created-by text of %zu bytes does not fit", vl);
    else {
        memcpy(out, val, vl);
        out[vl] = '\0';
    }
    free(val);
    return rc;
}

/* ------------------------------------------------------------ point reads */

/* Get key from cf: *val NULL when absent (then GL_OK).  Free with free(). */
gl_code st_get_raw(gl_store *s, gl_store_family cf, const void *k, size_t kl, char **val,
                size_t *vl, gl_err *err)
{
    char *e = NULL;
    *val = rocksdb_get_cf(s->db, s->ro, s->cf[cf], (const char *)k, kl, vl, &e);
    if (e)
        return db_fail(err, s->dir, e, st_family_names[cf]);
    return GL_OK;
}

/* A record that does not decode: prefix the decoder's message. */
gl_code st_damaged(gl_store *s, gl_store_family cf, gl_err *err)
{
    if (err) {
        gl_err_prefix(err, "store '%s' is damaged: bad record in '%s': ", s->dir,
                      st_family_names[cf]);
        err->code = GL_EDB;
    }
    return GL_EDB;
}

/* Read and decode the record at key k of cf, one of blocks, txs,
 * transfers, events and cursors, into out (that family's record type).
 * *found false, and GL_OK, when there is none; GL_EDB when the read fails
 * or the record does not decode. */
static gl_code st_get_record(gl_store *s, gl_store_family cf, const uint8_t *k, size_t kl, void *out, bool *found,
                             gl_err *err)
{
    char *v;
    size_t vl;
    *found = false;
    if (st_get_raw(s, cf, k, kl, &v, &vl, err))
        return GL_EDB;
    if (!v)
        return GL_OK;
    const uint8_t *u = (const uint8_t *)v;
    gl_code rc = cf == GL_STORE_CF_BLOCKS      ? gl_store_block_decode(out, k, kl, u, vl, err)
                 : cf == GL_STORE_CF_TXS       ? gl_store_tx_decode(out, k, kl, u, vl, err)
                 : cf == GL_STORE_CF_TRANSFERS ? gl_store_transfer_decode(out, k, kl, u, vl, err)
                 : cf == GL_STORE_CF_EVENTS    ? gl_store_event_decode(out, k, kl, u, vl, err)
                                               : gl_store_cursor_decode(out, k, kl, u, vl, err);
    free(v);
    if (rc)
        return st_damaged(s, cf, err);
    *found = true;
    return GL_OK;
}

gl_code gl_store_get_block(gl_store *s, uint64_t chain_id, uint64_t number, gl_store_block *out,
                           bool *found, gl_err *err)
{
    uint8_t k[GL_STORE_BLOCK_KEY_LEN];
    gl_store_key_block(k, chain_id, number);
    return st_get_record(s, GL_STORE_CF_BLOCKS, k, sizeof k, out, found, err);
}

gl_code gl_store_get_tx(gl_store *s, uint64_t chain_id, uint64_t block, uint32_t index,
                        gl_store_tx *out, bool *found, gl_err *err)
{
    uint8_t k[GL_STORE_TX_KEY_LEN];
    gl_store_key_tx(k, chain_id, block, index);
    return st_get_record(s, GL_STORE_CF_TXS, k, sizeof k, out, found, err);
}

gl_code gl_store_get_tx_by_hash(gl_store *s, uint64_t chain_id,
                                const uint8_t hash[GL_STORE_HASH_LEN], gl_store_tx *out,
                                bool *found, gl_err *err)
{
    uint8_t k[GL_STORE_TXHASH_KEY_LEN];
    char *v;
    size_t vl;
    *found = false;
    gl_store_be64_put(k, chain_id);
    memcpy(k + 8, hash, 32);
    if (st_get_raw(s, GL_STORE_CF_TXHASH, k, sizeof k, &v, &vl, err))
        return GL_EDB;
    if (!v)
        return GL_OK;
    if (vl != GL_STORE_TXHASH_VAL_LEN) {
        free(v);
        return gl_err_set(err, GL_EDB, "store '%s' is damaged: bad record in 'txhash'", s->dir);
    }
    uint64_t block = gl_store_be64_get((uint8_t *)v);
    uint32_t index = gl_store_be32_get((uint8_t *)v + 8);
    free(v);
    if (gl_store_get_tx(s, chain_id, block, index, out, found, err))
        return GL_EDB;
    if (!*found || memcmp(out->hash, hash, 32) != 0) {
        *found = false;
        return gl_err_set(err, GL_EDB,
                          "store '%s' is damaged: txhash points to block %llu index %u, which "
                          "does not hold that tx",
                          s->dir, (unsigned long long)block, index);
    }
    return GL_OK;
}

gl_code gl_store_get_transfer(gl_store *s, const gl_store_pos *pos, gl_store_transfer *out, bool *found,
                              gl_err *err)
{
    uint8_t k[GL_STORE_POS_LEN];
    *found = false;
    if (!pos->chain_id || pos->kind > GL_STORE_POS_TRACE)
        return gl_err_set(err, GL_EINVAL, "bad transfer position (chain %" PRIu64 ", kind %d)", pos->chain_id,
                          (int)pos->kind);
    gl_store_key_pos(k, pos);
    return st_get_record(s, GL_STORE_CF_TRANSFERS, k, sizeof k, out, found, err);
}

gl_code gl_store_get_event(gl_store *s, uint64_t chain_id, uint64_t block, uint32_t log_index,
                           gl_store_event *out, bool *found, gl_err *err)
{
    uint8_t k[GL_STORE_EVENT_KEY_LEN];
    gl_store_key_event(k, chain_id, block, log_index);
    return st_get_record(s, GL_STORE_CF_EVENTS, k, sizeof k, out, found, err);
}

gl_code gl_store_get_cursor(gl_store *s, uint64_t chain_id, const char *name,
                            gl_store_cursor *out, bool *found, gl_err *err)
{
    gl_buf k = GL_BUF_INIT;
    *found = false;
    gl_code rc = gl_store_key_cursor(&k, chain_id, name, err);
    if (!rc)
        rc = st_get_record(s, GL_STORE_CF_CURSORS, k.data, k.len, out, found, err);
    gl_buf_release(&k);
    return rc;
}

uint64_t gl_store_latest_sequence(gl_store *s)
{
    return rocksdb_get_latest_sequence_number(s->db);
}

gl_code gl_store_get_analysis(gl_store *s, const void *key, size_t klen, char **val, size_t *vlen,
                              gl_err *err)
{
    *val = NULL;
    *vlen = 0;
    if (!analysis_key_ok(key, klen))
        return gl_err_set(err, GL_EINVAL, "an analysis key has 1 to %d bytes, not %zu",
                          GL_STORE_ANALYSIS_KEY_MAX, key ? klen : (size_t)0);
    if (!s->cf[GL_STORE_CF_ANALYSIS])
        return GL_OK; /* a schema 2 store opened read-only */
    gl_code rc = st_get_raw(s, GL_STORE_CF_ANALYSIS, key, klen, val, vlen, err);
    if (rc || !*val)
        *vlen = 0;
    return rc;
}
