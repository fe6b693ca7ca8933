/* store_batch.c - write batches: the put of every record kind, and of the
 * appearances each record implies, the findings' sequence numbers, labels,
 * cursors, platform definitions and analysis records (committed by
 * store_bulk.c).
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

/* ---------------------------------------------------------------- batches */

gl_store_batch *gl_store_batch_new(gl_store *s, gl_err *err)
{
    if (s->read_only) {
        gl_err_set(err, GL_EINVAL, "store '%s' is open read-only", s->dir);
        return NULL;
    }
    gl_store_batch *b = calloc(1, sizeof *b);
    if (!b || !(b->wb = rocksdb_writebatch_create())) {
        free(b);
        gl_err_set(err, GL_ENOMEM, "out of memory for a batch");
        return NULL;
    }
    b->s = s;
    b->gather = s->bulk_write;
    gl_buf_init(&b->scratch);
    gl_buf_init(&b->recs[0].data);
    gl_buf_init(&b->recs[1].data);
    return b;
}

void gl_store_batch_free(gl_store_batch *b)
{
    if (!b)
        return;
    rocksdb_writebatch_destroy(b->wb);
    free(b->binds.v);
    free(b->seqs);
    free(b->rbs);
    free(b->gathered.v);
    gl_buf_release(&b->scratch);
    gl_buf_release(&b->recs[0].data);
    gl_buf_release(&b->recs[1].data);
    free(b);
}

size_t gl_store_batch_count(const gl_store_batch *b)
{
    return b->count;
}

void wb_put(gl_store_batch *b, gl_store_family cf, const void *k, size_t kl, const void *v,
            size_t vl)
{
    rocksdb_writebatch_put_cf(b->wb, b->s->cf[cf], (const char *)k, kl, (const char *)v, vl);
}

/* A record put: kept aside by a gathering batch (see "bulk records"). */
static void rec_put(gl_store_batch *b, gl_store_family cf, const void *k, size_t kl, const void *v, size_t vl)
{
    int r = cf == GL_STORE_CF_EVENTS ? 0 : 1;
    uint8_t h[5];
    h[0] = (uint8_t)kl;
    gl_store_be32_put(h + 1, (uint32_t)vl);
    if (b->gather && gl_buf_append(&b->recs[r].data, h, 5, NULL) == GL_OK &&
        gl_buf_append(&b->recs[r].data, k, kl, NULL) == GL_OK &&
        gl_buf_append(&b->recs[r].data, v, vl, NULL) == GL_OK) {
        b->recs[r].n++;
        return;
    }
    wb_put(b, cf, k, kl, v, vl);
}

void wb_del(gl_store_batch *b, gl_store_family cf, const void *k, size_t kl)
{
    rocksdb_writebatch_delete_cf(b->wb, b->s->cf[cf], (const char *)k, kl);
}

static void put_done(gl_store_batch *b)
{
    b->count++;
    b->has_puts = true;
}

/* Check `name` -> chain against the store and the batch; on first use add
 * the binding to the batch (meta put).  Nothing changes on failure. */
static gl_code batch_bind(gl_store_batch *b, const char *name, uint64_t chain_id, gl_err *err)
{
    binding *mine = binding_find(&b->binds, name);
    if (mine) {
        if (mine->chain_id != chain_id)
            return binding_conflict(err, b->s->dir, name, mine->chain_id, chain_id);
        return GL_OK;
    }
    pthread_mutex_lock(&b->s->lock);
    binding *theirs = binding_find(&b->s->bindings, name);
    uint64_t have = theirs ? theirs->chain_id : 0;
    pthread_mutex_unlock(&b->s->lock);
    if (have && have != chain_id)
        return binding_conflict(err, b->s->dir, name, have, chain_id);
    if (binding_add(&b->binds, name, chain_id, err))
        return GL_ENOMEM;
    if (!have) {
        char key[sizeof META_CHAIN_PREFIX + GL_STORE_NAME_MAX];
        uint8_t v[8];
        snprintf(key, sizeof key, "%s%s", META_CHAIN_PREFIX, name);
        gl_store_be64_put(v, chain_id);
        wb_put(b, GL_STORE_CF_META, key, strlen(key), v, 8);
    }
    return GL_OK;
}

gl_code gl_store_batch_put_block(gl_store_batch *b, const gl_store_block *blk, gl_err *err)
{
    uint8_t k[GL_STORE_BLOCK_KEY_LEN], v[GL_STORE_BLOCK_VAL_LEN];
    if (gl_store_block_encode(blk, v, err))
        return GL_EINVAL;
    gl_store_key_block(k, blk->chain_id, blk->number);
    wb_put(b, GL_STORE_CF_BLOCKS, k, sizeof k, v, sizeof v);
    put_done(b);
    return GL_OK;
}

static const uint8_t zero_addr[GL_STORE_ADDR_LEN];

static size_t add_derived(gl_store_appearance *out, size_t n, const gl_store_pos *pos, gl_store_role role,
                          const uint8_t addr[GL_STORE_ADDR_LEN])
{
    if (!memcmp(addr, zero_addr, GL_STORE_ADDR_LEN))
        return n;
    out[n].pos = *pos;
    out[n].role = role;
    memcpy(out[n].addr, addr, GL_STORE_ADDR_LEN);
    return n + 1;
}

size_t derive_event(const gl_store_event *ev, gl_store_appearance out[DERIVED_MAX])
{
    gl_store_pos pos = {ev->chain_id, ev->block, GL_STORE_POS_LOG, ev->log_index, 0};
    size_t n = add_derived(out, 0, &pos, GL_STORE_ROLE_CONTRACT, ev->contract);
    for (size_t i = 0; i < ev->n_roles && i < GL_STORE_EVENT_ROLES_MAX; i++)
        n = add_derived(out, n, &pos, ev->roles[i].role, ev->roles[i].addr);
    return n;
}

size_t derive_transfer(const gl_store_transfer *t, gl_store_appearance out[DERIVED_MAX])
{
    size_t n = add_derived(out, 0, &t->pos, GL_STORE_ROLE_SENDER, t->from);
    n = add_derived(out, n, &t->pos, GL_STORE_ROLE_RECIPIENT, t->to);
    if (t->asset != GL_STORE_ASSET_NATIVE)
        n = add_derived(out, n, &t->pos, GL_STORE_ROLE_TOKEN, t->token);
    return n;
}

size_t derive_tx(const gl_store_tx *tx, gl_store_appearance out[DERIVED_MAX])
{
    gl_store_pos pos = {tx->chain_id, tx->block, GL_STORE_POS_TX, tx->index, 0};
    size_t n = add_derived(out, 0, &pos, GL_STORE_ROLE_TX_FROM, tx->from);
    if (tx->has_to)
        n = add_derived(out, n, &pos, GL_STORE_ROLE_TX_TO, tx->to);
    return n;
}

/* Grow the array whose pointer is at pp (room for *cap elements of `size`
 * bytes) to hold `need`.  pp is any T **: the pointer is read and written
 * with memcpy, not through a void ** that does not point at one. */
bool st_grow(void *pp, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return true;
    size_t c = *cap ? *cap : 64;
    while (c < need)
        c *= 2;
    void *p;
    memcpy(&p, pp, sizeof p);
    void *v = realloc(p, c * size);
    if (!v)
        return false;
    memcpy(pp, &v, sizeof v);
    *cap = c;
    return true;
}

/* Past this many keys an array of appearance keys grows by this many at a
 * time, not twice over: the pending keys and the in-flight ones reach
 * ingest_keys plus a batch, and doubling them left each buffer up to half
 * empty (48 MB of the 113 MB heap peak indexing 100k events; massif). */
#define KEYV_STEP ((size_t)1 << 16)

bool keyv_reserve(keyv *kv, size_t more)
{
    size_t need = kv->n + more, c = kv->cap ? kv->cap : 64;
    if (need <= kv->cap)
        return true;
    while (c < need)
        c += c < KEYV_STEP ? c : KEYV_STEP;
    uint8_t *v = realloc(kv->v, c * GL_STORE_APPEARANCE_KEY_LEN);
    if (!v)
        return false;
    kv->v = v;
    kv->cap = c;
    return true;
}

/* Append the keys of `from` to kv, which keyv_reserve made room in. */
void keyv_append(keyv *kv, const keyv *from)
{
    memcpy(kv->v + kv->n * GL_STORE_APPEARANCE_KEY_LEN, from->v, from->n * GL_STORE_APPEARANCE_KEY_LEN);
    kv->n += from->n;
}

/* Put (del false) or delete the appearance keys of a[0..n).  A gathering
 * batch keeps its puts aside (see "bulk appearances"); where memory for
 * that runs out they go into the batch as usual. */
void write_derived(gl_store_batch *b, const gl_store_appearance *a, size_t n, bool del)
{
    for (size_t i = 0; i < n; i++) {
        uint8_t k[GL_STORE_APPEARANCE_KEY_LEN];
        if (gl_store_key_appearance(k, &a[i], true, NULL))
            continue; /* the record validated: cannot happen */
        if (del) {
            wb_del(b, GL_STORE_CF_APPEARANCES, k, sizeof k);
            b->deletes_appearances = true;
            continue;
        }
        b->appearances++;
        if (b->gather && keyv_reserve(&b->gathered, 1))
            memcpy(b->gathered.v + b->gathered.n++ * GL_STORE_APPEARANCE_KEY_LEN, k, sizeof k);
        else
            wb_put(b, GL_STORE_CF_APPEARANCES, k, sizeof k, "", 0);
    }
}

gl_code gl_store_batch_put_tx(gl_store_batch *b, const gl_store_tx *tx, gl_err *err)
{
    uint8_t k[GL_STORE_TX_KEY_LEN], v[GL_STORE_TX_VAL_LEN];
    uint8_t hk[GL_STORE_TXHASH_KEY_LEN], hv[GL_STORE_TXHASH_VAL_LEN];
    if (gl_store_tx_encode(tx, v, err))
        return GL_EINVAL;
    gl_store_key_tx(k, tx->chain_id, tx->block, tx->index);
    gl_store_be64_put(hk, tx->chain_id);
    memcpy(hk + 8, tx->hash, 32);
    memcpy(hv, k + 8, 12);
    wb_put(b, GL_STORE_CF_TXS, k, sizeof k, v, sizeof v);
    wb_put(b, GL_STORE_CF_TXHASH, hk, sizeof hk, hv, sizeof hv);
    gl_store_appearance a[DERIVED_MAX];
    write_derived(b, a, derive_tx(tx, a), false);
    put_done(b);
    return GL_OK;
}

gl_code gl_store_batch_put_event(gl_store_batch *b, const gl_store_event *ev, gl_err *err)
{
    gl_buf_reset(&b->scratch);
    gl_code rc = gl_store_event_encode(ev, &b->scratch, err);
    if (rc || (rc = batch_bind(b, ev->platform, ev->chain_id, err)))
        return rc;
    uint8_t k[GL_STORE_EVENT_KEY_LEN];
    gl_store_key_event(k, ev->chain_id, ev->block, ev->log_index);
    rec_put(b, GL_STORE_CF_EVENTS, k, sizeof k, b->scratch.data, b->scratch.len);
    gl_store_appearance a[DERIVED_MAX];
    write_derived(b, a, derive_event(ev, a), false);
    put_done(b);
    return GL_OK;
}

gl_code gl_store_batch_put_transfer(gl_store_batch *b, const gl_store_transfer *t, gl_err *err)
{
    uint8_t k[GL_STORE_POS_LEN], v[GL_STORE_TRANSFER_VAL_LEN];
    if (gl_store_transfer_encode(t, v, err))
        return GL_EINVAL;
    gl_store_key_pos(k, &t->pos);
    rec_put(b, GL_STORE_CF_TRANSFERS, k, sizeof k, v, sizeof v);
    gl_store_appearance a[DERIVED_MAX];
    write_derived(b, a, derive_transfer(t, a), false);
    put_done(b);
    return GL_OK;
}

uint64_t gl_store_batch_appearances(const gl_store_batch *b) { return b->appearances; }

/* The last stored seq at chain/block: *have false when there is none. */
static gl_code last_finding_seq(gl_store *s, uint64_t chain_id, uint64_t block, uint32_t *seq,
                                bool *have, gl_err *err)
{
    uint8_t k[GL_STORE_FINDING_KEY_LEN];
    gl_store_key_event(k, chain_id, block, UINT32_MAX);
    rocksdb_iterator_t *it = rocksdb_create_iterator_cf(s->db, s->ro, s->cf[GL_STORE_CF_FINDINGS]);
    rocksdb_iter_seek_for_prev(it, (const char *)k, sizeof k);
    *have = false;
    if (rocksdb_iter_valid(it)) {
        size_t kl;
        const uint8_t *ik = (const uint8_t *)rocksdb_iter_key(it, &kl);
        if (kl == sizeof k && memcmp(ik, k, 16) == 0) {
            *have = true;
            *seq = gl_store_be32_get(ik + 16);
        }
    }
    char *e = NULL;
    rocksdb_iter_get_error(it, &e);
    rocksdb_iter_destroy(it);
    if (e)
        return db_fail(err, s->dir, e, "reading findings");
    return GL_OK;
}

gl_code gl_store_batch_put_finding(gl_store_batch *b, uint64_t chain_id, uint64_t block,
                                   const json_t *finding, uint32_t *seq, gl_err *err)
{
    if (chain_id == 0)
        return gl_err_set(err, GL_EINVAL, "chain id 0 is not a chain");
    if (!json_is_object(finding))
        return gl_err_set(err, GL_EINVAL, "a finding must be a JSON object");
    seq_slot *slot = NULL;
    for (size_t i = 0; i < b->nseqs; i++)
        if (b->seqs[i].chain_id == chain_id && b->seqs[i].block == block)
            slot = &b->seqs[i];
    if (!slot) {
        uint32_t next = 0, last = 0;
        bool rolled = false, have = false;
        for (size_t i = 0; i < b->nrbs; i++)
            if (b->rbs[i].chain_id == chain_id && block >= b->rbs[i].from)
                rolled = true;
        if (!rolled && last_finding_seq(b->s, chain_id, block, &last, &have, err))
            return GL_EDB;
        if (have && last == UINT32_MAX)
            return gl_err_set(err, GL_ERANGE, "block %llu has no free finding number",
                              (unsigned long long)block);
        next = have ? last + 1 : 0;
        if (b->nseqs == b->capseqs) {
            size_t cap = b->capseqs ? b->capseqs * 2 : 8;
            seq_slot *v = realloc(b->seqs, cap * sizeof *v);
            if (!v)
                return gl_err_set(err, GL_ENOMEM, "out of memory for a finding");
            b->seqs = v;
            b->capseqs = cap;
        }
        slot = &b->seqs[b->nseqs++];
        *slot = (seq_slot){chain_id, block, next};
    }
    if (slot->next == UINT32_MAX)
        return gl_err_set(err, GL_ERANGE, "block %llu has no free finding number",
                          (unsigned long long)block);
    char *text = json_dumps(finding, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII);
    if (!text)
        return gl_err_set(err, GL_ENOMEM, "out of memory for a finding");
    uint8_t k[GL_STORE_FINDING_KEY_LEN];
    gl_store_key_event(k, chain_id, block, slot->next);
    wb_put(b, GL_STORE_CF_FINDINGS, k, sizeof k, text, strlen(text));
    free(text);
    if (seq)
        *seq = slot->next;
    slot->next++;
    put_done(b);
    return GL_OK;
}

gl_code gl_store_batch_put_label(gl_store_batch *b, const gl_store_label *l, gl_err *err)
{
    gl_buf_reset(&b->scratch);
    gl_code rc = gl_store_label_encode(l, &b->scratch, err);
    if (rc)
        return rc;
    uint8_t k[20 + GL_STORE_TEXT_MAX];
    size_t sl = strlen(l->source);
    memcpy(k, l->addr, 20);
    memcpy(k + 20, l->source, sl);
    wb_put(b, GL_STORE_CF_LABELS, k, 20 + sl, b->scratch.data, b->scratch.len);
    put_done(b);
    return GL_OK;
}

gl_code gl_store_batch_set_cursor(gl_store_batch *b, uint64_t chain_id, const char *name,
                                  uint64_t block, const uint8_t hash[GL_STORE_HASH_LEN],
                                  gl_err *err)
{
    gl_buf_reset(&b->scratch);
    gl_code rc = gl_store_key_cursor(&b->scratch, chain_id, name, err);
    if (rc || (rc = batch_bind(b, name, chain_id, err)))
        return rc;
    uint8_t v[GL_STORE_CURSOR_VAL_LEN];
    gl_store_be64_put(v, block);
    memcpy(v + 8, hash, 32);
    wb_put(b, GL_STORE_CF_CURSORS, b->scratch.data, b->scratch.len, v, sizeof v);
    put_done(b);
    return GL_OK;
}

gl_code gl_store_batch_set_platform_hash(gl_store_batch *b, const char *platform,
                                         uint64_t chain_id,
                                         const uint8_t hash[GL_STORE_HASH_LEN], gl_err *err)
{
    if (chain_id == 0)
        return gl_err_set(err, GL_EINVAL, "chain id 0 is not a chain");
    if (!gl_store_name_ok(platform))
        return gl_err_set(err, GL_EINVAL, "bad platform name '%.80s'",
                          platform ? platform : "(null)");
    gl_code rc = batch_bind(b, platform, chain_id, err);
    if (rc)
        return rc;
    char key[sizeof META_DEFHASH_PREFIX + GL_STORE_NAME_MAX];
    snprintf(key, sizeof key, "%s%s", META_DEFHASH_PREFIX, platform);
    wb_put(b, GL_STORE_CF_META, key, strlen(key), hash, GL_STORE_HASH_LEN);
    put_done(b);
    return GL_OK;
}

gl_code gl_store_batch_set_platform_def(gl_store_batch *b, const char *platform, uint64_t chain_id,
                                        const char *canonical_json, gl_err *err)
{
    if (chain_id == 0)
        return gl_err_set(err, GL_EINVAL, "chain id 0 is not a chain");
    if (!gl_store_name_ok(platform))
        return gl_err_set(err, GL_EINVAL, "bad platform name '%.80s'",
                          platform ? platform : "(null)");
    if (!canonical_json || !canonical_json[0])
        return gl_err_set(err, GL_EINVAL, "no definition text for '%s'", platform);
    gl_code rc = batch_bind(b, platform, chain_id, err);
    if (rc)
        return rc;
    char key[sizeof META_DEF_PREFIX + GL_STORE_NAME_MAX];
    snprintf(key, sizeof key, "%s%s", META_DEF_PREFIX, platform);
    wb_put(b, GL_STORE_CF_META, key, strlen(key), canonical_json, strlen(canonical_json));
    put_done(b);
    return GL_OK;
}

/* --------------------------------------------------------- analysis */

/* The analyzer's records: opaque keys of 1..GL_STORE_ANALYSIS_KEY_MAX
 * bytes.  Not block data: rollbacks never touch them. */
bool analysis_key_ok(const void *key, size_t klen)
{
    return key && klen >= 1 && klen <= GL_STORE_ANALYSIS_KEY_MAX;
}

gl_code gl_store_batch_put_analysis(gl_store_batch *b, const void *key, size_t klen, const void *val,
                                    size_t vlen, gl_err *err)
{
    if (!analysis_key_ok(key, klen))
        return gl_err_set(err, GL_EINVAL, "an analysis key has 1 to %d bytes, not %zu",
                          GL_STORE_ANALYSIS_KEY_MAX, key ? klen : (size_t)0);
    if (!val && vlen)
        return gl_err_set(err, GL_EINVAL, "no analysis value given");
    wb_put(b, GL_STORE_CF_ANALYSIS, key, klen, val ? val : "", vlen);
    put_done(b);
    return GL_OK;
}

gl_code gl_store_batch_clear_analysis(gl_store_batch *b, gl_err *err)
{
    if (!b)
        return gl_err_set(err, GL_EINVAL, "no batch given");
    /* ["", 0xff x 256) holds every key of 1..255 bytes: one that is not all
     * 0xff has a smaller byte within the bound's length, and 255 0xff bytes
     * are a prefix of the bound. */
    uint8_t hi[GL_STORE_ANALYSIS_KEY_MAX + 1];
    memset(hi, 0xff, sizeof hi);
    rocksdb_writebatch_delete_range_cf(b->wb, b->s->cf[GL_STORE_CF_ANALYSIS], "", 0, (const char *)hi,
                                       sizeof hi);
    b->count++;
    return GL_OK;
}
