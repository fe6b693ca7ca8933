/* store_bulk.c - the bulk writer and the commit of a batch: appearance keys
 * gathered across batches, sorted and ingested as table files by a thread
 * of their own, a large batch's events and transfers written as table files,
 * the crash markers of both (repaired by store_rollback.c), and
 * gl_store_batch_commit.
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

/* ------------------------------------------------- bulk appearances */

/* A bulk writer (opts->bulk_write: the indexer) puts ~6 appearance keys
 * per event, all over the key space.  Through a memtable each costs a WAL
 * write, an insert and, at flush, a place in a sort whose comparisons
 * RocksDB makes through its internal-key comparator: that sort alone was
 * ~20% of indexing's CPU.  So the keys of committed batches are gathered
 * here, sorted by plain byte order and written as one table file that
 * RocksDB takes in whole (IngestExternalFile).
 *
 * Crash safety: the batch that commits the records also writes
 * META_PENDING_KEY, the block span per chain whose appearances are not yet
 * in a file; once a file is in, the marker is deleted.  A read-write open
 * that finds the marker derives those appearances again from the records
 * (derive_range), so a kill at any point loses nothing: the records are
 * the truth and appearances are derived from them.  Puts of an appearance
 * are idempotent (empty value), so deriving more than was lost is
 * harmless.  A file that fails keeps its keys gathered and marked for the
 * next attempt (flight_failed). */

/* Put the span marker `key` holding v[0..n) into wb (n 0: delete it). */
void st_spans_encode(gl_store *s, const char *key, const pend_span *v, size_t n, rocksdb_writebatch_t *wb)
{
    uint8_t buf[PENDING_SPANS_MAX * 24];
    for (size_t i = 0; i < n; i++) {
        gl_store_be64_put(buf + 24 * i, v[i].chain_id);
        gl_store_be64_put(buf + 24 * i + 8, v[i].lo);
        gl_store_be64_put(buf + 24 * i + 16, v[i].hi);
    }
    rocksdb_column_family_handle_t *m = s->cf[GL_STORE_CF_META];
    if (n)
        rocksdb_writebatch_put_cf(wb, m, key, strlen(key), (const char *)buf, 24 * n);
    else
        rocksdb_writebatch_delete_cf(wb, m, key, strlen(key));
}

static void pending_encode(gl_store *s, const pend_span *v, size_t n, rocksdb_writebatch_t *wb)
{
    st_spans_encode(s, META_PENDING_KEY, v, n, wb);
}

/* Widen v (*n spans, one per chain) to hold chain/block.  False when a
 * new chain finds no room. */
static bool span_add(pend_span v[PENDING_SPANS_MAX], size_t *n, uint64_t chain, uint64_t lo, uint64_t hi)
{
    size_t j = 0;
    while (j < *n && v[j].chain_id != chain)
        j++;
    if (j == *n) {
        if (*n == PENDING_SPANS_MAX)
            return false;
        v[(*n)++] = (pend_span){chain, lo, hi};
    }
    if (lo < v[j].lo)
        v[j].lo = lo;
    if (hi > v[j].hi)
        v[j].hi = hi;
    return true;
}

/* The spans of the gathering with b's keys added, into out; the marker's
 * new value (those and the spans in flight) goes into b. */
static gl_code pending_mark(gl_store_batch *b, pend_span out[PENDING_SPANS_MAX], size_t *nout, gl_err *err)
{
    gl_store *s = b->s;
    size_t n = s->nspans;
    memcpy(out, s->spans, n * sizeof *out);
    for (size_t i = 0; i < b->gathered.n; i++) {
        const uint8_t *k = b->gathered.v + i * GL_STORE_APPEARANCE_KEY_LEN + GL_STORE_ADDR_LEN;
        uint64_t block = gl_store_be64_get(k + 8);
        if (!span_add(out, &n, gl_store_be64_get(k), block, block))
            goto full;
    }
    *nout = n;
    pend_span all[PENDING_SPANS_MAX];
    size_t nall = n;
    memcpy(all, out, n * sizeof *out);
    for (size_t i = 0; i < s->nflight_spans; i++)
        if (!span_add(all, &nall, s->flight_spans[i].chain_id, s->flight_spans[i].lo, s->flight_spans[i].hi))
            goto full;
    pending_encode(s, all, nall, b->wb);
    return GL_OK;
full:
    return gl_err_set(err, GL_EINVAL, "store '%s' has appearances of more than %d chains to write",
                      s->dir, PENDING_SPANS_MAX);
}

static int key_cmp(const void *a, const void *b) { return memcmp(a, b, GL_STORE_APPEARANCE_KEY_LEN); }

/* s->dir/INGEST_FILE, malloc'd (NULL when out of memory). */
char *ingest_path(const gl_store *s)
{
    size_t n = strlen(s->dir) + sizeof "/" INGEST_FILE;
    char *path = malloc(n);
    if (path)
        snprintf(path, n, "%s/%s", s->dir, INGEST_FILE);
    return path;
}

/* Insertion sort of len keys, false (the keys a permutation, unsorted)
 * once it has moved more than a linear budget of them. */
static bool insertion_sort(uint8_t *p, size_t len)
{
    enum { L = GL_STORE_APPEARANCE_KEY_LEN };
    uint8_t k[L];
    size_t moves = 0, budget = 8 * len + 64;
    for (size_t i = 1; i < len; i++) {
        if (memcmp(p + (i - 1) * L, p + i * L, L) <= 0)
            continue;
        memcpy(k, p + i * L, L);
        size_t j = i;
        for (; j > 0 && memcmp(p + (j - 1) * L, k, L) > 0 && moves <= budget; j--, moves++)
            memcpy(p + j * L, p + (j - 1) * L, L);
        memcpy(p + j * L, k, L);
        if (moves > budget)
            return false;
    }
    return true;
}

static int group_cmp(const void *a, const void *b)
{
    return memcmp(((const addr_group *)a)->addr, ((const addr_group *)b)->addr, GL_STORE_ADDR_LEN);
}

static uint64_t addr_hash(const uint8_t *a)
{
    uint64_t x = 0, y = 0, z = 0;
    memcpy(&x, a, 8);
    memcpy(&y, a + 8, 8);
    memcpy(&z, a + 12, 8);
    x ^= (y << 21 | y >> 43) ^ (z << 42 | z >> 22);
    x ^= x >> 33; /* murmur3's finaliser: every input bit reaches the low bits */
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ull;
    return x ^ x >> 33;
}

/* Sort one bucket (keys whose addresses share their first two bytes;
 * spare: room for as many keys, free to use).  Each address's keys arrive
 * in position order; only the roles at one position may not (an event's
 * payer role, 7, before its transfer's sender role, 3).  So the keys are
 * grouped by address (a hash table of the bucket's addresses, which are
 * sorted among themselves), moved stably into address order, and each
 * address's run is insertion-sorted: linear in the keys, where a hub's
 * bucket (a token on every transfer), or addresses that share leading
 * bytes (low, vanity or test addresses) would cost a full sort of the
 * bucket.  Out of memory: qsort. */
static void sort_bucket(sort_scratch *sc, uint8_t *p, size_t len, uint8_t *spare)
{
    enum { L = GL_STORE_APPEARANCE_KEY_LEN, A = GL_STORE_ADDR_LEN };
    size_t i = 1;
    while (i < len && memcmp(p + (i - 1) * L, p + i * L, L) <= 0)
        i++;
    if (i >= len)
        return;
    size_t cap = 64;
    while (cap < 2 * len && cap < ((size_t)1 << 30))
        cap *= 2;
    size_t ng = 0;
    if (!st_grow(&sc->slot, &sc->slot_cap, cap, sizeof *sc->slot) || !st_grow(&sc->gid, &sc->gid_cap, len, sizeof *sc->gid))
        goto whole;
    uint32_t *slot = sc->slot, *gid = sc->gid; /* slot: group + 1, 0 = empty */
    memset(slot, 0, cap * sizeof *slot);
    for (i = 0; i < len; i++) {
        const uint8_t *a = p + i * L;
        size_t h = (size_t)addr_hash(a) & (cap - 1);
        while (slot[h] && memcmp(sc->g[slot[h] - 1].addr, a, A))
            h = (h + 1) & (cap - 1);
        if (!slot[h]) {
            if (!st_grow(&sc->g, &sc->g_cap, ng + 1, sizeof *sc->g))
                goto whole;
            sc->g[ng] = (addr_group){a, 0, 0};
            slot[h] = (uint32_t)++ng;
        }
        gid[i] = slot[h] - 1;
        sc->g[gid[i]].count++;
    }
    addr_group *g = sc->g;
    if (ng > 1) {
        /* the groups in address order give each its run's start */
        if (!st_grow(&sc->sorted, &sc->sorted_cap, ng, sizeof *sc->sorted))
            goto whole;
        addr_group *sorted = sc->sorted;
        memcpy(sorted, g, ng * sizeof *g);
        for (size_t j = 0; j < ng; j++)
            sorted[j].start = j; /* remember the group's number */
        qsort(sorted, ng, sizeof *sorted, group_cmp);
        size_t at = 0;
        for (size_t j = 0; j < ng; j++) {
            g[sorted[j].start].start = at;
            at += sorted[j].count;
        }
        for (size_t j = 0; j < ng; j++)
            g[j].count = g[j].start; /* now the next free place */
        for (i = 0; i < len; i++)
            memcpy(spare + g[gid[i]].count++ * L, p + i * L, L);
        memcpy(p, spare, len * L);
    }
    for (size_t j = 0; j < ng; j++) {
        size_t lo = ng > 1 ? g[j].start : 0, n = ng > 1 ? g[j].count - g[j].start : len;
        if (!insertion_sort(p + lo * L, n))
            qsort(p + lo * L, n, L, key_cmp);
    }
    return;
whole:
    qsort(p, len, L, key_cmp);
}

/* The n keys of v in byte order: a pointer to them, in sc->tmp, or in v
 * itself when there was no memory for that (v is then sorted in place,
 * otherwise left in pieces).  Appearance keys open with an address, so a
 * counting pass on its first two bytes leaves small buckets, each sorted
 * by sort_bucket with the same stretch of v as its spare room. */
static const uint8_t *sort_keys(sort_scratch *sc, uint8_t *v, size_t n)
{
    enum { L = GL_STORE_APPEARANCE_KEY_LEN, B = 65536 };
    if (!st_grow(&sc->tmp, &sc->tmp_cap, n * L, 1) || !st_grow(&sc->start, &sc->start_cap, B + 1, sizeof *sc->start)) {
        qsort(v, n, L, key_cmp);
        return v;
    }
    size_t *start = sc->start;
    uint8_t *tmp = sc->tmp;
    memset(start, 0, (B + 1) * sizeof *start);
    for (size_t i = 0; i < n; i++)
        start[(size_t)v[i * L] << 8 | v[i * L + 1]]++;
    size_t at = 0;
    for (size_t b = 0; b <= B; b++) {
        size_t c = b < B ? start[b] : 0;
        start[b] = at;
        at += c;
    }
    for (size_t i = 0; i < n; i++) {
        size_t b = (size_t)v[i * L] << 8 | v[i * L + 1];
        memcpy(tmp + start[b]++ * L, v + i * L, L);
    }
    /* start[b] is now the end of bucket b */
    for (size_t b = 0, lo = 0; b < B; lo = start[b++])
        sort_bucket(sc, tmp + lo * L, start[b] - lo, v + lo * L);
    return tmp;
}

/* Finish the table file w writes at path (unless *e already holds an
 * error), have RocksDB take it into family cf (moved, not copied), and
 * remove whatever is left at path; w and eo are freed.  *e: RocksDB's
 * error, if any. */
static void sst_ingest(gl_store *s, rocksdb_sstfilewriter_t *w, rocksdb_envoptions_t *eo, const char *path,
                       gl_store_family cf, char **e)
{
    if (!*e)
        rocksdb_sstfilewriter_finish(w, e);
    rocksdb_sstfilewriter_destroy(w);
    rocksdb_envoptions_destroy(eo);
    if (!*e) {
        rocksdb_ingestexternalfileoptions_t *io = rocksdb_ingestexternalfileoptions_create();
        rocksdb_ingestexternalfileoptions_set_move_files(io, 1);
        const char *files[1] = {path};
        rocksdb_ingest_external_file_cf(s->db, s->cf[cf], files, 1, io, e);
        rocksdb_ingestexternalfileoptions_destroy(io);
    }
    unlink(path); /* taken in by a link, or a failure's leftover */
}

/* Write the keys of kv as one sorted table file and have RocksDB take it
 * in (no lock needed: the file is private until then, and ingestion is
 * one of RocksDB's thread-safe calls).  kv is emptied on success. */
static gl_code ingest_file(gl_store *s, keyv *kv, gl_err *err)
{
    if (!kv->n)
        return GL_OK;
    enum { L = GL_STORE_APPEARANCE_KEY_LEN };
    const uint8_t *sorted = sort_keys(&s->sort, kv->v, kv->n);
    char *path = ingest_path(s);
    rocksdb_envoptions_t *eo = rocksdb_envoptions_create();
    rocksdb_sstfilewriter_t *w = eo ? rocksdb_sstfilewriter_create(eo, s->opts) : NULL;
    if (!path || !w) {
        free(path);
        if (w)
            rocksdb_sstfilewriter_destroy(w);
        if (eo)
            rocksdb_envoptions_destroy(eo);
        if (sorted != kv->v) /* the keys stay gathered: whole again */
            memcpy(kv->v, sorted, kv->n * L);
        return gl_err_set(err, GL_ENOMEM, "out of memory writing appearances");
    }
    char *e = NULL;
    rocksdb_sstfilewriter_open(w, path, &e);
    const uint8_t *prev = NULL;
    for (size_t i = 0; !e && i < kv->n; i++) {
        const uint8_t *k = sorted + i * L;
        if (prev && !memcmp(prev, k, L))
            continue;
        rocksdb_sstfilewriter_put(w, (const char *)k, L, "", 0, &e);
        prev = k;
    }
    sst_ingest(s, w, eo, path, GL_STORE_CF_APPEARANCES, &e);
    free(path);
    if (e) {
        if (sorted != kv->v) /* the keys stay gathered: whole again */
            memcpy(kv->v, sorted, kv->n * L);
        return db_fail(err, s->dir, e, "writing the appearances' table file");
    }
    kv->n = 0;
    return GL_OK;
}

static void *ingester_main(void *arg)
{
    gl_store *s = arg;
    s->flight_rc = ingest_file(s, &s->flight, &s->flight_err);
    return NULL;
}

/* Under s->lock: a file of the flight keys failed.  They and their spans
 * go back into the gathering, to be written with it (the marker keeps
 * covering them); when there is no memory for that, the marker is kept for
 * good (keep_marker), for the next read-write open to derive them. */
static void flight_failed(gl_store *s)
{
    for (size_t i = 0; i < s->nflight_spans; i++)
        if (!span_add(s->spans, &s->nspans, s->flight_spans[i].chain_id, s->flight_spans[i].lo,
                      s->flight_spans[i].hi))
            s->keep_marker = true;
    if (keyv_reserve(&s->pending, s->flight.n))
        keyv_append(&s->pending, &s->flight);
    else
        s->keep_marker = true;
}

/* Under s->lock: wait for the file in flight; its failure is returned
 * (the keys kept, see flight_failed). */
static gl_code flight_join(gl_store *s, gl_err *err)
{
    if (!s->in_flight)
        return GL_OK;
    pthread_join(s->ingester, NULL);
    s->in_flight = false;
    gl_code rc = s->flight_rc;
    if (rc) {
        flight_failed(s);
        gl_err_set(err, rc, "%s", s->flight_err.msg);
    }
    s->flight.n = 0;
    s->nflight_spans = 0;
    return rc;
}

/* Under s->lock: hand the gathering to a thread that writes it while the
 * next one fills (at once, when no thread can be started). */
static gl_code ingest_start(gl_store *s, gl_err *err)
{
    gl_code rc = flight_join(s, err);
    if (rc)
        return rc;
    keyv t = s->flight;
    s->flight = s->pending;
    s->pending = t;
    s->pending.n = 0;
    memcpy(s->flight_spans, s->spans, s->nspans * sizeof *s->spans);
    s->nflight_spans = s->nspans;
    s->nspans = 0;
    s->flight_rc = GL_OK;
    if (pthread_create(&s->ingester, NULL, ingester_main, s) == 0) {
        s->in_flight = true;
        return GL_OK;
    }
    rc = ingest_file(s, &s->flight, err);
    if (rc)
        flight_failed(s);
    s->flight.n = 0;
    s->nflight_spans = 0;
    return rc;
}

/* Under s->lock: every gathered key into table files, then the marker
 * dropped (or, after a failure, left for the next read-write open). */
gl_code ingest_locked(gl_store *s, gl_err *err)
{
    gl_code rc = flight_join(s, err);
    if (!rc)
        rc = ingest_file(s, &s->pending, err);
    if (rc || s->keep_marker)
        return rc;
    s->nspans = 0;
    char *e = NULL;
    rocksdb_writebatch_t *wb = rocksdb_writebatch_create();
    pending_encode(s, NULL, 0, wb);
    rocksdb_write(s->db, s->wo, wb, &e);
    rocksdb_writebatch_destroy(wb);
    /* The files are in either way: a marker left behind only makes the
     * next read-write open derive the same keys again. */
    if (e)
        return db_fail(err, s->dir, e, "clearing the pending appearances");
    return GL_OK;
}

/* The spans of the marker `key`, if any (GL_EDB when it is malformed). */
gl_code st_spans_read(gl_store *s, const char *key, pend_span out[PENDING_SPANS_MAX], size_t *n, gl_err *err)
{
    char *val = NULL;
    size_t vl = 0;
    *n = 0;
    if (meta_get(s, key, &val, &vl, err))
        return GL_EDB;
    if (!val)
        return GL_OK;
    gl_code rc = GL_OK;
    if (vl == 0 || vl % 24 || vl / 24 > PENDING_SPANS_MAX) {
        rc = gl_err_set(err, GL_EDB, "store '%s' is damaged: meta '%s' has %zu bytes", s->dir, key, vl);
    } else {
        for (size_t i = 0; i < vl / 24 && !rc; i++) {
            const uint8_t *p = (const uint8_t *)val + 24 * i;
            out[i] = (pend_span){gl_store_be64_get(p), gl_store_be64_get(p + 8), gl_store_be64_get(p + 16)};
            if (out[i].lo > out[i].hi || out[i].chain_id == 0 || out[i].chain_id == UINT64_MAX)
                rc = gl_err_set(err, GL_EDB, "store '%s' is damaged: meta '%s' holds a bad span", s->dir,
                                key);
        }
        *n = rc ? 0 : vl / 24;
    }
    free(val);
    return rc;
}

gl_code st_pending_read(gl_store *s, pend_span out[PENDING_SPANS_MAX], size_t *n, gl_err *err)
{
    return st_spans_read(s, META_PENDING_KEY, out, n, err);
}

/* ------------------------------------------------- bulk records */

/* A bulk writer's events and transfers arrive in key order (block, log),
 * tens of thousands per batch.  Through the WAL and a memtable each was
 * written twice, inserted, sorted again at flush and built into a table
 * file there: ~35% of indexing's CPU.  So a gathering batch keeps them
 * aside (rec_put) and, when it holds enough, writes each family as one
 * table file that RocksDB takes in (at the bottom of the tree: keys that
 * follow what is stored overlap nothing, so no compaction touches them).
 *
 * Crash safety: the files go in before the batch that holds the cursor,
 * so a kill in between leaves records past the cursor that no batch
 * committed.  Before the first file a synced write puts META_AHEAD_KEY,
 * the lowest block per chain the files hold; the batch deletes it.  A
 * read-write open that finds it rolls the chain back to that block
 * (ahead_repair), as a reorg would: every platform indexing the chain
 * resumes from there.  A batch holding a rollback writes its records
 * through the WAL: its range deletes must come before them. */

/* One gathered record: key and value point into the batch's recv. */
typedef struct rec_ref {
    const uint8_t *k, *v;
    uint32_t kl, vl;
    size_t seq; /* arrival: the later of equal keys wins, as in a batch */
} rec_ref;

static int rec_cmp(const void *a, const void *b)
{
    const rec_ref *x = a, *y = b;
    int c = memcmp(x->k, y->k, x->kl < y->kl ? x->kl : y->kl);
    if (c)
        return c;
    if (x->kl != y->kl)
        return x->kl < y->kl ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* The records of rv in key order (equal keys by arrival), malloc'd. */
static rec_ref *rec_index(const recv *rv)
{
    rec_ref *refs = malloc((rv->n ? rv->n : 1) * sizeof *refs);
    if (!refs)
        return NULL;
    const uint8_t *p = rv->data.data;
    bool sorted = true;
    for (size_t i = 0; i < rv->n; i++) {
        refs[i] = (rec_ref){p + 5, p + 5 + p[0], p[0], gl_store_be32_get(p + 1), i};
        p += 5 + (size_t)refs[i].kl + refs[i].vl;
        if (i && sorted && rec_cmp(&refs[i - 1], &refs[i]) >= 0)
            sorted = false;
    }
    if (!sorted)
        qsort(refs, rv->n, sizeof *refs, rec_cmp);
    return refs;
}

static void recs_clear(recv *rv)
{
    gl_buf_reset(&rv->data);
    rv->n = 0;
}

/* Replay the records of rv into the batch (puts of family cf). */
static void records_to_batch(gl_store_batch *b, recv *rv, gl_store_family cf)
{
    const uint8_t *p = rv->data.data;
    for (size_t i = 0; i < rv->n; i++) {
        size_t kl = p[0], vl = gl_store_be32_get(p + 1);
        wb_put(b, cf, p + 5, kl, p + 5 + kl, vl);
        p += 5 + kl + vl;
    }
    recs_clear(rv);
}

/* Write the records of rv (family cf) as one table file and have RocksDB
 * take it in.  rv is emptied on success. */
static gl_code records_file(gl_store *s, recv *rv, gl_store_family cf, gl_err *err)
{
    rec_ref *refs = rec_index(rv);
    size_t plen = strlen(s->dir) + sizeof "/" RECORDS_FILE_PREFIX ".sst" + 16;
    char *path = malloc(plen);
    rocksdb_envoptions_t *eo = rocksdb_envoptions_create();
    rocksdb_sstfilewriter_t *w = eo ? rocksdb_sstfilewriter_create(eo, s->opts) : NULL;
    if (!refs || !path || !w) {
        free(refs);
        free(path);
        if (w)
            rocksdb_sstfilewriter_destroy(w);
        if (eo)
            rocksdb_envoptions_destroy(eo);
        return gl_err_set(err, GL_ENOMEM, "out of memory writing %zu %s", rv->n, st_family_names[cf]);
    }
    snprintf(path, plen, "%s/" RECORDS_FILE_PREFIX "%s.sst", s->dir, st_family_names[cf]);
    char *e = NULL;
    rocksdb_sstfilewriter_open(w, path, &e);
    for (size_t i = 0; !e && i < rv->n; i++) {
        const rec_ref *r = &refs[i];
        if (i + 1 < rv->n && r->kl == refs[i + 1].kl && !memcmp(r->k, refs[i + 1].k, r->kl))
            continue; /* a later put of the same key follows */
        rocksdb_sstfilewriter_put(w, (const char *)r->k, r->kl, (const char *)r->v, r->vl, &e);
    }
    free(refs);
    sst_ingest(s, w, eo, path, cf, &e);
    free(path);
    if (e)
        return db_fail(err, s->dir, e, "writing a table file of records");
    recs_clear(rv);
    return GL_OK;
}

/* Under s->lock, before the batch is written: its events and transfers as
 * table files (marker first) where there are enough of them, else into
 * the batch.  On success the batch deletes the marker. */
static gl_code records_write(gl_store_batch *b, gl_err *err)
{
    static const gl_store_family fam[2] = {GL_STORE_CF_EVENTS, GL_STORE_CF_TRANSFERS};
    gl_store *s = b->s;
    size_t min = s->ingest_keys / RECORDS_DIV;
    bool file[2], any = false;
    for (int r = 0; r < 2; r++)
        any |= file[r] = b->nrbs == 0 && b->recs[r].n && b->recs[r].n >= min;
    if (!any) {
        for (int r = 0; r < 2; r++)
            records_to_batch(b, &b->recs[r], fam[r]);
        return GL_OK;
    }
    /* Both families' keys open with chain and block. */
    pend_span v[PENDING_SPANS_MAX];
    size_t n = 0;
    for (int r = 0; r < 2; r++) {
        const uint8_t *p = b->recs[r].data.data, *prev = NULL;
        for (size_t i = 0; i < b->recs[r].n; i++) {
            if (!prev || memcmp(prev, p + 5, 16)) { /* a block not seen just before */
                uint64_t block = gl_store_be64_get(p + 5 + 8);
                if (!span_add(v, &n, gl_store_be64_get(p + 5), block, block))
                    return gl_err_set(err, GL_EINVAL, "store '%s': a batch of records on more than %d chains",
                                      s->dir, PENDING_SPANS_MAX);
                prev = p + 5;
            }
            p += 5 + (size_t)p[0] + gl_store_be32_get(p + 1);
        }
    }
    rocksdb_writebatch_t *mark = rocksdb_writebatch_create();
    if (!mark)
        return gl_err_set(err, GL_ENOMEM, "out of memory for a batch");
    st_spans_encode(s, META_AHEAD_KEY, v, n, mark);
    char *e = NULL;
    rocksdb_write(s->db, s->wo, mark, &e);
    rocksdb_writebatch_destroy(mark);
    if (e)
        return db_fail(err, s->dir, e, "marking records ahead of their batch");
    gl_code rc = GL_OK;
    for (int r = 0; r < 2 && !rc; r++)
        if (file[r])
            rc = records_file(s, &b->recs[r], fam[r], err);
    if (rc)
        return rc; /* the marker stays: the next read-write open rolls back */
    for (int r = 0; r < 2; r++)
        records_to_batch(b, &b->recs[r], fam[r]);
    st_spans_encode(s, META_AHEAD_KEY, NULL, 0, b->wb);
    return GL_OK;
}

/* Table files a kill left before RocksDB took them in. */
void st_unlink_leftovers(const gl_store *s)
{
    static const char *const names[] = {INGEST_FILE, RECORDS_FILE_PREFIX "events.sst",
                                        RECORDS_FILE_PREFIX "transfers.sst"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        size_t n = strlen(s->dir) + strlen(names[i]) + 2;
        char *path = malloc(n);
        if (path) {
            snprintf(path, n, "%s/%s", s->dir, names[i]);
            unlink(path);
        }
        free(path);
    }
}

/* Under s->lock: check the batch's bindings, write, update the cache. */
gl_code st_commit_locked(gl_store_batch *b, gl_err *err)
{
    gl_store *s = b->s;
    for (size_t i = 0; i < b->binds.n; i++) {
        binding *have = binding_find(&s->bindings, b->binds.v[i].name);
        if (have && have->chain_id != b->binds.v[i].chain_id)
            return binding_conflict(err, s->dir, have->name, have->chain_id,
                                    b->binds.v[i].chain_id);
    }
    /* A delete must not be overtaken by a gathered put of the same key
     * written after it. */
    gl_code rc;
    if (b->deletes_appearances && (s->pending.n || s->in_flight) && (rc = ingest_locked(s, err)))
        return rc;
    /* Reserve the cache first, so nothing can fail after the write. */
    size_t need = s->bindings.n + b->binds.n;
    if (need > s->bindings.cap) {
        binding *v = realloc(s->bindings.v, need * sizeof *v);
        if (!v)
            return gl_err_set(err, GL_ENOMEM, "out of memory for platform bindings");
        s->bindings.v = v;
        s->bindings.cap = need;
    }
    if (b->gathered.n && b->gathered.n < s->ingest_keys / GATHER_DIV) {
        if ((s->pending.n || s->in_flight) && (rc = ingest_locked(s, err)))
            return rc;
        for (size_t i = 0; i < b->gathered.n; i++)
            wb_put(b, GL_STORE_CF_APPEARANCES, b->gathered.v + i * GL_STORE_APPEARANCE_KEY_LEN,
                   GL_STORE_APPEARANCE_KEY_LEN, "", 0);
        b->gathered.n = 0;
    }
    pend_span spans[PENDING_SPANS_MAX];
    size_t nspans = 0;
    if (b->gathered.n) {
        if (!keyv_reserve(&s->pending, b->gathered.n))
            return gl_err_set(err, GL_ENOMEM, "out of memory for gathered appearances");
        if ((rc = pending_mark(b, spans, &nspans, err)))
            return rc;
    }
    if ((rc = records_write(b, err)))
        return rc;
    char *e = NULL;
    rocksdb_write(s->db, s->wo, b->wb, &e);
    if (e)
        return db_fail(err, s->dir, e, "committing a batch");
    for (size_t i = 0; i < b->binds.n; i++)
        if (!binding_find(&s->bindings, b->binds.v[i].name))
            s->bindings.v[s->bindings.n++] = b->binds.v[i];
    if (b->gathered.n) {
        keyv_append(&s->pending, &b->gathered); /* reserved above */
        memcpy(s->spans, spans, nspans * sizeof *spans);
        s->nspans = nspans;
    }
    rocksdb_writebatch_clear(b->wb);
    b->count = 0;
    b->appearances = 0;
    b->has_puts = false;
    b->binds.n = 0;
    b->nseqs = 0;
    b->nrbs = 0;
    b->gathered.n = 0;
    b->deletes_appearances = false;
    /* The batch is committed whatever happens to the file: its marker
     * makes the next read-write open rebuild what a failure leaves out. */
    if (s->pending.n >= s->ingest_keys)
        return ingest_start(s, err);
    return GL_OK;
}

static gl_code spans_get(gl_store *s, const char *key, gl_store_span *out, size_t max, size_t *n, gl_err *err)
{
    pend_span v[PENDING_SPANS_MAX];
    size_t k;
    *n = 0;
    gl_code rc = st_spans_read(s, key, v, &k, err);
    for (size_t i = 0; !rc && i < k && i < max; i++)
        out[(*n)++] = (gl_store_span){v[i].chain_id, v[i].lo, v[i].hi};
    return rc;
}

gl_code gl_store_pending_appearances(gl_store *s, gl_store_span *out, size_t max, size_t *n, gl_err *err)
{
    return spans_get(s, META_PENDING_KEY, out, max, n, err);
}

gl_code gl_store_records_ahead(gl_store *s, gl_store_span *out, size_t max, size_t *n, gl_err *err)
{
    return spans_get(s, META_AHEAD_KEY, out, max, n, err);
}

gl_code gl_store_write_gathered_begin(gl_store *s, gl_err *err)
{
    pthread_mutex_lock(&s->lock);
    gl_code rc = s->pending.n >= s->ingest_keys / GATHER_DIV ? ingest_start(s, err) : GL_OK;
    pthread_mutex_unlock(&s->lock);
    return rc;
}

gl_code gl_store_write_gathered(gl_store *s, gl_err *err)
{
    pthread_mutex_lock(&s->lock);
    gl_code rc = s->pending.n || s->in_flight ? ingest_locked(s, err) : GL_OK;
    pthread_mutex_unlock(&s->lock);
    return rc;
}

gl_code gl_store_batch_commit(gl_store_batch *b, gl_err *err)
{
    pthread_mutex_lock(&b->s->lock);
    gl_code rc = st_commit_locked(b, err);
    pthread_mutex_unlock(&b->s->lock);
    return rc;
}
