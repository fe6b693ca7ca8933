/* store.c - the indexer's embedded store on RocksDB (see store.h and
 * docs/STORE.md).
 *
 * Sections: types, RocksDB boundary (error conversion, options), opening
 * (directory probe, read-only inspection, creation), meta and bindings,
 * batches, rollback, point reads, iterators, stats and verification.
 *
 * Every RocksDB errptr is turned into a gl_err in exactly one place
 * (db_fail) and freed there.  Opening inspects an existing directory with a
 * read-only handle, which writes no file in RocksDB 7.8, and only reopens it
 * read-write once it is known to be a sound gpuledger store of this schema
 * that the caller may use: a refused directory is never changed.
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

/* ----------------------------------------------------------------- types */

static const char *const family_names[GL_STORE_CF_COUNT] = {
    "meta",      "blocks",       "txs",        "txhash",  "events",   "transfers",
    "appearances", "cursors",    "findings", "labels",   "analysis",
};

#define META_MAGIC_KEY "magic"
#define META_MAGIC_VAL "gpuledger-store"
#define META_SCHEMA_KEY "schema_version"
/* Schema 1's block-ordered twin of the appearances (see migrate_v1). */
#define LEGACY_APPEAR_POS "appear_pos"
#define META_CREATED_KEY "created_by"
#define META_CHAIN_PREFIX "chain/"
/* Blocks whose appearances a bulk writer has committed the records of but
 * not yet written (see "bulk appearances" below). */
#define META_PENDING_KEY "pending_appearances"
/* Blocks from which a bulk writer may have written records whose batch
 * (and cursor) it did not commit (see "bulk records" below). */
#define META_AHEAD_KEY "records_ahead"
/* The sorted table files a bulk writer builds before RocksDB takes them in. */
#define INGEST_FILE "gpuledger-ingest.sst"
#define RECORDS_FILE_PREFIX "gpuledger-records-"
#define META_DEFHASH_PREFIX "defhash/"
/* The definition itself, its canonical JSON (see gl_store_get_platform_def). */
#define META_DEF_PREFIX "def/"

/* RocksDB's WAL recovery modes (rocksdb/c.h).  Every ordinary open uses
 * kTolerateCorruptedTailRecords: a torn last write (kill -9 in the middle
 * of a write, a full disk) is dropped, since it was never committed, but a
 * record that fails its checksum refuses the open.  kPointInTimeRecovery
 * (RocksDB's default) would stop at the first damaged record and drop every
 * committed batch after it silently; it is used only to look at what comes
 * before the damage and by gl_store_recover.  kSkipAnyCorruptedRecords
 * reads what comes after it (read-only, to say what was lost). */
#define WAL_TOLERATE_TAIL 0
#define WAL_POINT_IN_TIME 2
#define WAL_SKIP_ANY 3
/* meta: what gl_store_recover lost (a JSON array, one entry a recovery). */
#define META_RECOVERED_KEY "recovered"

typedef struct binding {
    char name[GL_STORE_NAME_MAX];
    uint64_t chain_id;
} binding;

typedef struct binding_list {
    binding *v;
    size_t n, cap;
} binding_list;

/* Fixed-size appearance keys, back to back. */
typedef struct keyv {
    uint8_t *v;
    size_t n, cap;
} keyv;

/* Records of one family, back to back: klen(1) vlen(4) key value. */
typedef struct recv {
    gl_buf data;
    size_t n;
} recv;

/* An address of a bucket being sorted: its first key, how many keys it
 * has, and where its run starts. */
typedef struct addr_group {
    const uint8_t *addr;
    size_t count, start;
} addr_group;

/* Buffers the appearance sort keeps from file to file, grown as needed
 * (one file is written at a time: on the file thread, or under the lock
 * with none in flight).  Fresh ones per file cost ~4% of indexing's CPU in
 * page faults. */
typedef struct sort_scratch {
    uint8_t *tmp;
    size_t *start;
    uint32_t *slot, *gid;
    addr_group *g, *sorted;
    size_t tmp_cap, start_cap, slot_cap, gid_cap, g_cap, sorted_cap;
} sort_scratch;

/* Blocks lo..hi of a chain. */
typedef struct pend_span {
    uint64_t chain_id, lo, hi;
} pend_span;

#define PENDING_SPANS_MAX 64

/* A batch gathering fewer appearance keys than ingest_keys / GATHER_DIV
 * (4096 by default: a follower at the head) writes them itself, after
 * whatever was gathered before: small table files would only make work for
 * compactions, and the gathered keys of a finished backfill get written. */
#define GATHER_DIV 64
/* A batch with ingest_keys / RECORDS_DIV events (or transfers) or more
 * (1,024 by default) writes them as a table file (see "bulk records"):
 * such files sit at the bottom of the tree and are never compacted, so
 * they may be smaller than the appearances' files; a follower at the head
 * (a few blocks at a time) still writes through its batch. */
#define RECORDS_DIV 256

struct gl_store {
    char *dir;
    rocksdb_t *db;
    rocksdb_options_t *opts;
    rocksdb_options_t *opts_vec; /* the appearances family, read-write (see attach) */
    rocksdb_column_family_handle_t *cf[GL_STORE_CF_COUNT];
    rocksdb_column_family_handle_t *cf_default;
    rocksdb_column_family_handle_t *cf_legacy; /* schema 1's appear_pos, while migrating */
    bool migrate_v1;      /* a schema 1 store, to bring to 2 when opened read-write */
    unsigned version;     /* the schema version as opened (1, 2: migrated by a writer) */
    int wal_mode;         /* WAL_TOLERATE_TAIL but when looking at a damaged log */
    rocksdb_readoptions_t *ro;
    rocksdb_writeoptions_t *wo;
    bool read_only;
    bool bulk_write; /* opts->bulk_write (see attach) */
    pthread_mutex_t lock; /* commits, the binding cache, the pending keys */
    binding_list bindings;
    /* Bulk appearances: keys whose records are committed, gathered for
     * the next table file; the block span of each chain they cover, as
     * META_PENDING_KEY says on disk. */
    keyv pending;
    pend_span spans[PENDING_SPANS_MAX];
    size_t nspans;
    size_t ingest_keys; /* gather this many before writing a file */
    /* The previous gathering, being written by a thread of its own while
     * the next one fills (flight and its spans belong to that thread until
     * it is joined). */
    bool in_flight;
    pthread_t ingester;
    keyv flight;
    pend_span flight_spans[PENDING_SPANS_MAX];
    size_t nflight_spans;
    gl_code flight_rc;
    gl_err flight_err;
    bool keep_marker; /* keys were lost to a failure: only an open derives them */
    sort_scratch sort;
};

typedef struct seq_slot {
    uint64_t chain_id, block;
    uint32_t next;
} seq_slot;

typedef struct rollback_mark {
    uint64_t chain_id, from;
} rollback_mark;

struct gl_store_batch {
    gl_store *s;
    rocksdb_writebatch_t *wb;
    size_t count;
    bool has_puts;
    binding_list binds; /* bindings this batch makes or relies on */
    seq_slot *seqs;
    size_t nseqs, capseqs;
    rollback_mark *rbs;
    size_t nrbs, caprbs;
    uint64_t appearances; /* appearance keys put */
    gl_buf scratch;
    bool gather;          /* appearance puts go to `gathered`, not wb */
    keyv gathered;        /* this batch's appearance keys (bulk writers) */
    bool deletes_appearances;
    recv recs[2];         /* events, transfers (bulk writers): see "bulk records" */
};

typedef enum iter_kind {
    IT_BLOCK, IT_TX, IT_EVENT, IT_TRANSFER, IT_FINDING, IT_APPEARANCE, IT_LABEL, IT_CURSOR,
    IT_ANALYSIS,
} iter_kind;

/* The longest upper bound: an analysis key prefix. */
#define BOUND_MAX GL_STORE_ANALYSIS_KEY_MAX

struct gl_store_iter {
    gl_store *s;
    iter_kind kind;
    gl_store_family cf;
    rocksdb_readoptions_t *ro;
    rocksdb_iterator_t *it; /* NULL over a family the store lacks: empty */
    bool advance;           /* analysis: step past the record returned last */
    uint8_t hi[BOUND_MAX]; /* the upper bound must outlive the iterator */
};

const char *gl_store_family_name(gl_store_family cf)
{
    if ((int)cf < 0 || (int)cf >= GL_STORE_CF_COUNT)
        return NULL;
    return family_names[cf];
}

static int family_index(const char *name)
{
    for (int i = 0; i < GL_STORE_CF_COUNT; i++)
        if (strcmp(family_names[i], name) == 0)
            return i;
    return -1;
}

/* ------------------------------------------------------ RocksDB boundary */

/* What to do about an I/O error RocksDB reports, by its errno text. */
static const char *io_hint(const char *e)
{
    if (strstr(e, "No space left on device"))
        return " (the disk is full: free space and run again; what was committed before is kept)";
    if (strstr(e, "File too large"))
        return " (a file size limit was reached: raise it (ulimit -f) and run again; what was "
               "committed before is kept)";
    if (strstr(e, "Permission denied") || strstr(e, "Read-only file system"))
        return " (the store's directory cannot be written: make it writable, or open the store "
               "read-only)";
    return "";
}

/* Convert and free a RocksDB error.  Corruption is named as damage. */
static gl_code db_fail(gl_err *err, const char *dir, char *errptr, const char *what)
{
    gl_code rc;
    if (errptr && strncmp(errptr, "Corruption", 10) == 0)
        rc = gl_err_set(err, GL_EDB, "store '%s' is damaged: %s: %s", dir, what, errptr);
    else
        rc = gl_err_set(err, GL_EDB, "store '%s': %s: %s%s", dir, what,
                        errptr ? errptr : "unknown error", errptr ? io_hint(errptr) : "");
    free(errptr);
    return rc;
}

static rocksdb_options_t *make_options(bool create, int wal_mode)
{
    rocksdb_options_t *o = rocksdb_options_create();
    if (!o)
        return NULL;
    rocksdb_options_set_create_if_missing(o, create);
    rocksdb_options_set_create_missing_column_families(o, create);
    rocksdb_options_set_paranoid_checks(o, 1);
    rocksdb_options_set_wal_recovery_mode(o, wal_mode);
    rocksdb_options_set_keep_log_file_num(o, 4);
    rocksdb_options_set_max_log_file_size(o, (size_t)4 << 20);
    /* One cap on the memtables of all families together: with a dozen
     * families at RocksDB's default 64 MiB each, indexing 200k events held
     * ~265 MB of write buffers; 32 MiB in all keeps the indexer near 85 MB. */
    rocksdb_options_set_db_write_buffer_size(o, (size_t)32 << 20);
    return o;
}

static gl_code key_successor(uint8_t *k, size_t n)
{
    for (size_t i = n; i-- > 0;) {
        if (k[i] != 0xff) {
            k[i]++;
            return GL_OK;
        }
        k[i] = 0;
    }
    return GL_ERANGE;
}

/* ------------------------------------------------------ opening: probes */

/* DIR_HALF: only files RocksDB writes while it creates a database, before
 * CURRENT exists (LOCK, IDENTITY, LOG, MANIFEST-n, OPTIONS-n, n.dbtmp): a
 * creation killed half-way, which nothing else leaves behind. */
typedef enum dir_state { DIR_MISSING, DIR_EMPTY, DIR_HALF, DIR_ROCKSDB } dir_state;

/* Does `s` start with `prefix` and continue with digits up to `suffix`? */
static bool numbered(const char *s, const char *prefix, const char *suffix)
{
    size_t pl = strlen(prefix), sl = strlen(suffix), n = strlen(s);
    if (n <= pl + sl || strncmp(s, prefix, pl) != 0 || strcmp(s + n - sl, suffix) != 0)
        return false;
    for (size_t i = pl; i < n - sl; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

static bool creation_file(const char *name)
{
    return !strcmp(name, "LOCK") || !strcmp(name, "IDENTITY") || !strcmp(name, "LOG") ||
           numbered(name, "LOG.old.", "") || numbered(name, "MANIFEST-", "") ||
           numbered(name, "OPTIONS-", "") || numbered(name, "", ".dbtmp");
}

static gl_code probe_dir(const char *dir, dir_state *out, gl_err *err)
{
    struct stat st;
    if (stat(dir, &st) != 0) {
        if (errno == ENOENT) {
            *out = DIR_MISSING;
            return GL_OK;
        }
        return gl_err_set(err, GL_EIO, "store '%s': %s", dir, strerror(errno));
    }
    if (!S_ISDIR(st.st_mode))
        return gl_err_set(err, GL_EDB, "store '%s' is not a directory", dir);
    DIR *d = opendir(dir);
    if (!d)
        return gl_err_set(err, GL_EIO, "store '%s': cannot list: %s", dir, strerror(errno));
    bool current = false, half = true;
    size_t n = 0;
    char first[64] = "";
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if (n++ == 0)
            snprintf(first, sizeof first, "%.60s", e->d_name);
        if (strcmp(e->d_name, "CURRENT") == 0)
            current = true;
        else if (!creation_file(e->d_name))
            half = false;
    }
    closedir(d);
    if (n == 0)
        *out = DIR_EMPTY;
    else if (current)
        *out = DIR_ROCKSDB;
    else if (half)
        *out = DIR_HALF;
    else
        return gl_err_set(err, GL_EDB,
                          "'%s' is not a gpuledger store: it holds files ('%s', ...) but no "
                          "RocksDB database",
                          dir, first);
    return GL_OK;
}

static gl_code mkdir_p(const char *dir, gl_err *err)
{
    char path[4096];
    size_t n = strlen(dir);
    if (n == 0 || n >= sizeof path)
        return gl_err_set(err, GL_EINVAL, "store directory name of %zu bytes", n);
    memcpy(path, dir, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (path[i] != '/' && path[i] != '\0')
            continue;
        char c = path[i];
        path[i] = '\0';
        if (mkdir(path, 0755) != 0 && errno != EEXIST)
            return gl_err_set(err, GL_EIO, "cannot create '%s': %s", path, strerror(errno));
        path[i] = c;
    }
    return GL_OK;
}

/* --------------------------------------------------------------- bindings */

static binding *binding_find(binding_list *l, const char *name)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->v[i].name, name) == 0)
            return &l->v[i];
    return NULL;
}

static gl_code binding_add(binding_list *l, const char *name, uint64_t chain_id, gl_err *err)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 8;
        binding *v = realloc(l->v, cap * sizeof *v);
        if (!v)
            return gl_err_set(err, GL_ENOMEM, "out of memory for platform bindings");
        l->v = v;
        l->cap = cap;
    }
    snprintf(l->v[l->n].name, sizeof l->v[l->n].name, "%s", name);
    l->v[l->n++].chain_id = chain_id;
    return GL_OK;
}

static gl_code binding_conflict(gl_err *err, const char *dir, const char *name, uint64_t have,
                                uint64_t want)
{
    return gl_err_set(err, GL_EDB, "store '%s' holds chain %llu for platform '%s', not %llu", dir,
                      (unsigned long long)have, name, (unsigned long long)want);
}

/* Load every "chain/<name>" entry of meta into the cache. */
static gl_code load_bindings(gl_store *s, gl_err *err)
{
    rocksdb_iterator_t *it = rocksdb_create_iterator_cf(s->db, s->ro, s->cf[GL_STORE_CF_META]);
    if (!it)
        return gl_err_set(err, GL_ENOMEM, "out of memory for an iterator");
    size_t plen = strlen(META_CHAIN_PREFIX);
    gl_code rc = GL_OK;
    for (rocksdb_iter_seek(it, META_CHAIN_PREFIX, plen); rocksdb_iter_valid(it);
         rocksdb_iter_next(it)) {
        size_t kl, vl;
        const char *k = rocksdb_iter_key(it, &kl);
        const char *v = rocksdb_iter_value(it, &vl);
        if (kl < plen || memcmp(k, META_CHAIN_PREFIX, plen) != 0)
            break;
        char name[GL_STORE_NAME_MAX];
        if (kl - plen >= sizeof name || vl != 8) {
            rc = gl_err_set(err, GL_EDB, "store '%s' is damaged: a bad chain binding in meta",
                            s->dir);
            break;
        }
        memcpy(name, k + plen, kl - plen);
        name[kl - plen] = '\0';
        if (!gl_store_name_ok(name)) {
            rc = gl_err_set(err, GL_EDB, "store '%s' is damaged: a bad platform name in meta",
                            s->dir);
            break;
        }
        if ((rc = binding_add(&s->bindings, name, gl_store_be64_get((const uint8_t *)v), err)))
            break;
    }
    char *e = NULL;
    rocksdb_iter_get_error(it, &e);
    rocksdb_iter_destroy(it);
    if (e)
        return db_fail(err, s->dir, e, "reading meta");
    return rc;
}

/* ------------------------------------------------------ opening: handles */

static void store_free(gl_store *s)
{
    if (!s)
        return;
    for (int i = 0; i < GL_STORE_CF_COUNT; i++)
        if (s->cf[i])
            rocksdb_column_family_handle_destroy(s->cf[i]);
    if (s->cf_default)
        rocksdb_column_family_handle_destroy(s->cf_default);
    if (s->cf_legacy) /* a schema 1 store opened read-only */
        rocksdb_column_family_handle_destroy(s->cf_legacy);
    if (s->db)
        rocksdb_close(s->db);
    if (s->opts)
        rocksdb_options_destroy(s->opts);
    if (s->opts_vec)
        rocksdb_options_destroy(s->opts_vec);
    if (s->ro)
        rocksdb_readoptions_destroy(s->ro);
    if (s->wo)
        rocksdb_writeoptions_destroy(s->wo);
    pthread_mutex_destroy(&s->lock);
    free(s->pending.v);
    free(s->flight.v);
    free(s->sort.tmp);
    free(s->sort.start);
    free(s->sort.slot);
    free(s->sort.gid);
    free(s->sort.g);
    free(s->sort.sorted);
    free(s->bindings.v);
    free(s->dir);
    free(s);
}

/* Close the database and its handles, keep the rest of `s`. */
static void store_detach(gl_store *s)
{
    for (int i = 0; i < GL_STORE_CF_COUNT; i++)
        if (s->cf[i]) {
            rocksdb_column_family_handle_destroy(s->cf[i]);
            s->cf[i] = NULL;
        }
    if (s->cf_default) {
        rocksdb_column_family_handle_destroy(s->cf_default);
        s->cf_default = NULL;
    }
    if (s->cf_legacy) {
        rocksdb_column_family_handle_destroy(s->cf_legacy);
        s->cf_legacy = NULL;
    }
    if (s->db) {
        rocksdb_close(s->db);
        s->db = NULL;
    }
    if (s->opts) {
        rocksdb_options_destroy(s->opts);
        s->opts = NULL;
    }
    if (s->opts_vec) {
        rocksdb_options_destroy(s->opts_vec);
        s->opts_vec = NULL;
    }
}

/* The families a bulk writer fills without reading them back.  Not events
 * and transfers: a bulk writer's go in as table files (see "bulk
 * records"), and RocksDB seeks their memtables before taking a file in,
 * which a vector memtable answers by sorting a copy of itself. */
static bool bulk_family(int cf)
{
    return cf == GL_STORE_CF_TXS || cf == GL_STORE_CF_TXHASH || cf == GL_STORE_CF_APPEARANCES;
}

/* Open `names` (n of them) read-only or read-write and map the handles.
 * Families not named stay NULL. */
static gl_code attach(gl_store *s, const char *const *names, size_t n, bool read_only,
                      bool create, gl_err *err)
{
    s->opts = make_options(create, s->wal_mode);
    /* The record families take puts by the hundred thousand during
     * indexing, and appearances and txhash land all over their key space:
     * skip-list memtable inserts took over half of the indexing CPU.  A
     * vector memtable appends and sorts once, at flush, but every read of
     * it sorts a copy: only for a writer that asked, and never for the
     * families the indexer reads back as it goes (blocks, cursors, meta). */
    bool vec = !read_only && s->bulk_write;
    if (vec && (s->opts_vec = make_options(create, s->wal_mode))) {
        rocksdb_options_set_memtable_vector_rep(s->opts_vec);
        /* Commits are serialised by s->lock anyway; a vector memtable
         * refuses the concurrent-insert mode. */
        rocksdb_options_set_allow_concurrent_memtable_write(s->opts_vec, 0);
        if (s->opts)
            rocksdb_options_set_allow_concurrent_memtable_write(s->opts, 0);
    }
    rocksdb_column_family_handle_t **h = calloc(n, sizeof *h);
    const rocksdb_options_t **co = calloc(n, sizeof *co);
    if (!s->opts || (vec && !s->opts_vec) || !h || !co) {
        free(h);
        free(co);
        return gl_err_set(err, GL_ENOMEM, "out of memory opening store '%s'", s->dir);
    }
    for (size_t i = 0; i < n; i++)
        co[i] = vec && bulk_family(family_index(names[i])) ? s->opts_vec : s->opts;
    char *e = NULL;
    if (read_only)
        s->db = rocksdb_open_for_read_only_column_families(s->opts, s->dir, (int)n, names, co, h,
                                                           0, &e);
    else
        s->db = rocksdb_open_column_families(s->opts, s->dir, (int)n, names, co, h, &e);
    free(co);
    if (e) {
        free(h);
        s->db = NULL;
        if (!read_only && !strstr(e, "Permission denied") && !strstr(e, "Read-only file system") &&
            (strstr(e, "/LOCK:") || strstr(e, "lock hold by current process"))) {
            gl_code rc = gl_err_set(err, GL_EDB, "store '%s' is in use by another process: %s",
                                    s->dir, e);
            free(e);
            return rc;
        }
        return db_fail(err, s->dir, e, read_only ? "opening read-only" : "opening");
    }
    for (size_t i = 0; i < n; i++) {
        int fi = family_index(names[i]);
        if (fi >= 0)
            s->cf[fi] = h[i];
        else if (strcmp(names[i], "default") == 0)
            s->cf_default = h[i];
        else if (strcmp(names[i], LEGACY_APPEAR_POS) == 0 && !s->cf_legacy)
            s->cf_legacy = h[i];
        else
            rocksdb_column_family_handle_destroy(h[i]); /* unknown: refused later */
    }
    free(h);
    return GL_OK;
}

static gl_code meta_get(gl_store *s, const char *key, char **val, size_t *vlen, gl_err *err)
{
    char *e = NULL;
    *val = rocksdb_get_cf(s->db, s->ro, s->cf[GL_STORE_CF_META], key, strlen(key), vlen, &e);
    if (e)
        return db_fail(err, s->dir, e, "reading meta");
    return GL_OK;
}

/* Is every family that is open empty? */
static gl_code all_empty(gl_store *s, bool *empty, gl_err *err)
{
    *empty = true;
    for (int i = 0; i < GL_STORE_CF_COUNT + 1 && *empty; i++) {
        rocksdb_column_family_handle_t *h = i < GL_STORE_CF_COUNT ? s->cf[i] : s->cf_default;
        if (!h)
            continue;
        rocksdb_iterator_t *it = rocksdb_create_iterator_cf(s->db, s->ro, h);
        rocksdb_iter_seek_to_first(it);
        if (rocksdb_iter_valid(it))
            *empty = false;
        char *e = NULL;
        rocksdb_iter_get_error(it, &e);
        rocksdb_iter_destroy(it);
        if (e)
            return db_fail(err, s->dir, e, "reading");
    }
    return GL_OK;
}

/* Write the meta records of a new store, durably, in one batch. */
static gl_code write_meta(gl_store *s, const char *created_by, gl_err *err)
{
    rocksdb_writebatch_t *wb = rocksdb_writebatch_create();
    uint8_t ver[4];
    gl_store_be32_put(ver, GL_STORE_SCHEMA_VERSION);
    rocksdb_column_family_handle_t *m = s->cf[GL_STORE_CF_META];
    rocksdb_writebatch_put_cf(wb, m, META_MAGIC_KEY, strlen(META_MAGIC_KEY), META_MAGIC_VAL,
                              strlen(META_MAGIC_VAL));
    rocksdb_writebatch_put_cf(wb, m, META_SCHEMA_KEY, strlen(META_SCHEMA_KEY), (const char *)ver,
                              4);
    rocksdb_writebatch_put_cf(wb, m, META_CREATED_KEY, strlen(META_CREATED_KEY), created_by,
                              strlen(created_by));
    char *e = NULL;
    rocksdb_write(s->db, s->wo, wb, &e);
    rocksdb_writebatch_destroy(wb);
    if (e)
        return db_fail(err, s->dir, e, "writing meta");
    return GL_OK;
}

/* The names to open read-write: "default" and ours. */
static void all_names(const char *names[GL_STORE_CF_COUNT + 1])
{
    names[0] = "default";
    for (int i = 0; i < GL_STORE_CF_COUNT; i++)
        names[i + 1] = family_names[i];
}

static gl_code create_store(gl_store *s, const char *created_by, gl_err *err)
{
    const char *names[GL_STORE_CF_COUNT + 1];
    all_names(names);
    gl_code rc = attach(s, names, GL_STORE_CF_COUNT + 1, false, true, err);
    s->version = GL_STORE_SCHEMA_VERSION;
    return rc ? rc : write_meta(s, created_by, err);
}

static gl_code pending_repair(gl_store *s, gl_err *err);
static gl_code pending_read(gl_store *s, pend_span out[PENDING_SPANS_MAX], size_t *n, gl_err *err);
static gl_code spans_read(gl_store *s, const char *key, pend_span out[PENDING_SPANS_MAX], size_t *n, gl_err *err);
static gl_code ahead_repair(gl_store *s, gl_err *err);
static void unlink_leftovers(const gl_store *s);
static gl_code ingest_locked(gl_store *s, gl_err *err);
static char *ingest_path(const gl_store *s);

typedef enum verdict { V_OPEN, V_FINISH_CREATION } verdict;

/* With a read-only handle on every listed family: decide whether the store
 * may be opened, must have its creation finished, or is refused. */
static gl_code inspect(gl_store *s, char **listed, size_t nlisted, const gl_store_open_opts *o,
                       verdict *v, gl_err *err)
{
    const char *unknown = NULL, *legacy = NULL;
    for (size_t i = 0; i < nlisted; i++) {
        if (!strcmp(listed[i], LEGACY_APPEAR_POS))
            legacy = listed[i];
        else if (family_index(listed[i]) < 0 && strcmp(listed[i], "default") != 0)
            unknown = listed[i];
    }
    char *val = NULL;
    size_t vl = 0;
    if (s->cf[GL_STORE_CF_META] && meta_get(s, META_MAGIC_KEY, &val, &vl, err))
        return GL_EDB;
    if (!val) {
        /* No magic: an interrupted creation if every family is ours (or
         * RocksDB's "default") and empty; otherwise something else. */
        bool empty;
        if (unknown)
            goto foreign;
        if (all_empty(s, &empty, err))
            return GL_EDB;
        if (!empty)
            goto foreign;
        if (!o->create || o->read_only)
            return gl_err_set(err, GL_EDB,
                              "the creation of store '%s' was interrupted: open it with create "
                              "to finish it",
                              s->dir);
        *v = V_FINISH_CREATION;
        return GL_OK;
    }
    bool magic_ok = vl == strlen(META_MAGIC_VAL) && memcmp(val, META_MAGIC_VAL, vl) == 0;
    free(val);
    if (!magic_ok)
        goto foreign;
    if (meta_get(s, META_SCHEMA_KEY, &val, &vl, err))
        return GL_EDB;
    if (!val || vl != 4) {
        free(val);
        return gl_err_set(err, GL_EDB, "store '%s' is damaged: its schema version is missing",
                          s->dir);
    }
    uint32_t ver = gl_store_be32_get((const uint8_t *)val);
    free(val);
    if (ver > GL_STORE_SCHEMA_VERSION)
        return gl_err_set(err, GL_EDB,
                          "store '%s' has schema version %u, newer than this gpuledger "
                          "understands (%u): use a newer gpuledger",
                          s->dir, ver, GL_STORE_SCHEMA_VERSION);
    if (ver == 1) {
        /* Schema 1 kept a block-ordered twin of the appearances
         * (appear_pos); 2 finds them from the records.  Readers ignore the
         * twin; a writer drops it and moves the version on (open_existing). */
        s->migrate_v1 = true;
        legacy = NULL;
    } else if (ver < 2)
        return gl_err_set(err, GL_EDB,
                          "store '%s' has schema version %u, older than %u, and no migration "
                          "exists",
                          s->dir, ver, GL_STORE_SCHEMA_VERSION);
    s->version = ver;
    if (unknown || legacy)
        return gl_err_set(err, GL_EDB, "store '%s' is damaged: unknown column family '%s'",
                          s->dir, unknown ? unknown : legacy);
    /* Schemas 1 and 2 have no analysis family (a migration to 3 cut short
     * after creating it leaves one: harmless). */
    for (int i = 0; i < GL_STORE_CF_COUNT; i++)
        if (!s->cf[i] && !(i == GL_STORE_CF_ANALYSIS && ver < 3))
            return gl_err_set(err, GL_EDB,
                              "store '%s' is damaged: column family '%s' is missing", s->dir,
                              family_names[i]);
    if (load_bindings(s, err))
        return GL_EDB;
    /* A bad marker refuses the open before anything is written. */
    pend_span sp[PENDING_SPANS_MAX];
    size_t nsp;
    if (pending_read(s, sp, &nsp, err) || spans_read(s, META_AHEAD_KEY, sp, &nsp, err))
        return GL_EDB;
    for (size_t i = 0; i < o->n_bindings; i++) {
        binding *b = binding_find(&s->bindings, o->bindings[i].platform);
        if (b && b->chain_id != o->bindings[i].chain_id)
            return binding_conflict(err, s->dir, b->name, b->chain_id, o->bindings[i].chain_id);
    }
    *v = V_OPEN;
    return GL_OK;
foreign:
    return gl_err_set(err, GL_EDB,
                      "'%s' is a RocksDB database but not a gpuledger store (no gpuledger meta)",
                      s->dir);
}

static gl_code derive_range(gl_store_batch *b, const uint8_t *lo, size_t lol, const uint8_t *hi, size_t hil,
                            bool del, uint64_t commit_every, gl_err *err);

/* Set meta's schema_version (a synced put). */
static gl_code write_version(gl_store *s, uint32_t version, gl_err *err)
{
    uint8_t ver[4];
    char *e = NULL;
    gl_store_be32_put(ver, version);
    rocksdb_put_cf(s->db, s->wo, s->cf[GL_STORE_CF_META], META_SCHEMA_KEY, strlen(META_SCHEMA_KEY),
                   (const char *)ver, 4, &e);
    if (e)
        return db_fail(err, s->dir, e, "writing the schema version");
    return GL_OK;
}

/* Schema 1 -> 2: drop the appear_pos family, rebuild the appearances from
 * the records (schema 1's writers put some that 2 does not imply, such as
 * the zero address's, and left out the token of an event's transfer), then
 * record version 2.  In that order: until the version is written the store
 * is a schema 1 store, and a migration cut short by a crash runs again
 * from the start (each step can be repeated). */
static gl_code migrate_v1(gl_store *s, gl_err *err)
{
    char *e = NULL;
    if (s->cf_legacy) {
        rocksdb_drop_column_family(s->db, s->cf_legacy, &e);
        if (e)
            return db_fail(err, s->dir, e, "dropping schema 1's appear_pos family");
        rocksdb_column_family_handle_destroy(s->cf_legacy);
        s->cf_legacy = NULL;
    }
    uint8_t all[GL_STORE_APPEARANCE_KEY_LEN + 1];
    memset(all, 0xff, sizeof all); /* above every 46-byte key */
    rocksdb_delete_range_cf(s->db, s->wo, s->cf[GL_STORE_CF_APPEARANCES], "", 0, (const char *)all, sizeof all, &e);
    if (e)
        return db_fail(err, s->dir, e, "clearing the appearances");
    gl_store_batch *b = gl_store_batch_new(s, err);
    if (!b)
        return err ? err->code : GL_ENOMEM;
    b->gather = false; /* straight into the family, marker-free: the version comes after */
    gl_code rc = derive_range(b, (const uint8_t *)"", 0, NULL, 0, false, 100000, err); /* bounded batches */
    if (!rc)
        rc = gl_store_batch_commit(b, err);
    gl_store_batch_free(b);
    if (rc)
        return rc;
    if ((rc = write_version(s, 2, err)))
        return rc;
    s->migrate_v1 = false;
    return GL_OK;
}

/* Schema 2 -> 3: create the analysis family (unless a migration cut short
 * already did), then record version 3.  In that order: a crash in between
 * leaves a schema 2 store with the family, which the next read-write open
 * takes up here. */
static gl_code migrate_v2(gl_store *s, gl_err *err)
{
    if (!s->cf[GL_STORE_CF_ANALYSIS]) {
        char *e = NULL;
        rocksdb_column_family_handle_t *h =
            rocksdb_create_column_family(s->db, s->opts, family_names[GL_STORE_CF_ANALYSIS], &e);
        if (e)
            return db_fail(err, s->dir, e, "creating the analysis family");
        s->cf[GL_STORE_CF_ANALYSIS] = h;
    }
    gl_code rc = write_version(s, 3, err);
    if (!rc)
        s->version = 3;
    return rc;
}

/* The column families of s->dir, into *listed (free with
 * rocksdb_list_column_families_destroy) and *n. */
static gl_code list_families(gl_store *s, char ***listed, size_t *n, gl_err *err)
{
    rocksdb_options_t *lo = make_options(false, s->wal_mode);
    if (!lo)
        return gl_err_set(err, GL_ENOMEM, "out of memory");
    char *e = NULL;
    *n = 0;
    *listed = rocksdb_list_column_families(lo, s->dir, n, &e);
    rocksdb_options_destroy(lo);
    if (e) {
        /* RocksDB 7.8 returns a malloc(0) array even on failure. */
        if (*listed)
            rocksdb_list_column_families_destroy(*listed, *n);
        *listed = NULL;
        return db_fail(err, s->dir, e, "listing column families");
    }
    return GL_OK;
}

static gl_store *store_alloc(const char *dir, gl_err *err);
static gl_code wal_survey(const char *dir, gl_store_wal_report *r, gl_err *err);
static void wal_message(const char *dir, const gl_store_wal_report *r, gl_err *err);

/* Open an existing RocksDB directory: inspect read-only, then reopen. */
static gl_code open_existing(gl_store *s, const gl_store_open_opts *o, gl_err *err)
{
    char **listed = NULL;
    size_t n = 0;
    gl_code rc = list_families(s, &listed, &n, err);
    if (rc)
        return rc;
    gl_err ea = {0};
    rc = attach(s, (const char *const *)listed, n, true, false, &ea);
    if (rc == GL_EDB && s->wal_mode == WAL_TOLERATE_TAIL && strstr(ea.msg, "Corruption")) {
        /* Damage in the log, or elsewhere?  The log's is told apart: what
         * comes before it is readable, and the user must hear what. */
        gl_store_wal_report *r = malloc(sizeof *r);
        gl_err e2 = {0};
        if (r && wal_survey(s->dir, r, &e2) == GL_OK && r->damaged)
            wal_message(s->dir, r, &ea);
        free(r);
    }
    if (rc && err)
        *err = ea;
    verdict v = V_OPEN;
    bool legacy = s->cf_legacy != NULL; /* attach kept schema 1's appear_pos */
    bool analysis = s->cf[GL_STORE_CF_ANALYSIS] != NULL; /* absent before schema 3 */
    if (!rc)
        rc = inspect(s, listed, n, o, &v, err);
    rocksdb_list_column_families_destroy(listed, n);
    if (rc)
        return rc;
    if (o->read_only)
        return GL_OK;
    store_detach(s);
    if (v == V_FINISH_CREATION)
        return create_store(s, o->created_by ? o->created_by : "gpuledger", err);
    /* RocksDB opens exactly the families there are: all or none. */
    const char *names[GL_STORE_CF_COUNT + 2];
    all_names(names);
    size_t n_open = GL_STORE_CF_COUNT + 1;
    if (!analysis)
        n_open--; /* the last: created by migrate_v2 */
    if (legacy)
        names[n_open++] = LEGACY_APPEAR_POS;
    rc = attach(s, names, n_open, false, false, err);
    if (!rc && s->migrate_v1)
        rc = migrate_v1(s, err);
    if (!rc && s->version < 3)
        rc = migrate_v2(s, err);
    if (!rc) {
        unlink_leftovers(s);
        rc = ahead_repair(s, err);
        rc = rc ? rc : pending_repair(s, err);
    }
    return rc;
}

/* A store struct for `dir`, nothing opened yet. */
static gl_store *store_alloc(const char *dir, gl_err *err)
{
    gl_store *s = calloc(1, sizeof *s);
    if (!s || !(s->dir = strdup(dir)) || !(s->ro = rocksdb_readoptions_create()) ||
        !(s->wo = rocksdb_writeoptions_create())) {
        if (s) {
            if (s->ro)
                rocksdb_readoptions_destroy(s->ro);
            free(s->dir);
            free(s);
        }
        gl_err_set(err, GL_ENOMEM, "out of memory opening store");
        return NULL;
    }
    pthread_mutex_init(&s->lock, NULL);
    rocksdb_writeoptions_set_sync(s->wo, 1);
    s->ingest_keys = GL_STORE_INGEST_KEYS_DEFAULT;
    return s;
}

static gl_store *open_mode(const char *dir, const gl_store_open_opts *opts, int wal_mode, gl_err *err);

gl_store *gl_store_open(const char *dir, const gl_store_open_opts *opts, gl_err *err)
{
    return open_mode(dir, opts, WAL_TOLERATE_TAIL, err);
}

static gl_store *open_mode(const char *dir, const gl_store_open_opts *opts, int wal_mode, gl_err *err)
{
    const gl_store_open_opts none = {0};
    const gl_store_open_opts *o = opts ? opts : &none;
    if (!dir || !dir[0]) {
        gl_err_set(err, GL_EINVAL, "no store directory given");
        return NULL;
    }
    for (size_t i = 0; i < o->n_bindings; i++)
        if (!gl_store_name_ok(o->bindings[i].platform) || o->bindings[i].chain_id == 0) {
            gl_err_set(err, GL_EINVAL, "binding %zu: bad platform name or chain id 0", i);
            return NULL;
        }
    if (o->created_by && strlen(o->created_by) >= GL_STORE_TEXT_MAX) {
        gl_err_set(err, GL_EINVAL, "created-by text is too long");
        return NULL;
    }
    gl_store *s = store_alloc(dir, err);
    if (!s)
        return NULL;
    s->wal_mode = wal_mode;
    s->read_only = o->read_only;
    s->bulk_write = o->bulk_write;
    s->ingest_keys = o->ingest_keys ? o->ingest_keys : GL_STORE_INGEST_KEYS_DEFAULT;

    dir_state st = DIR_MISSING;
    gl_code rc = probe_dir(dir, &st, err);
    if (!rc && st != DIR_ROCKSDB) {
        if (!o->create || o->read_only)
            rc = gl_err_set(err, GL_EDB,
                            st == DIR_MISSING ? "store '%s' does not exist"
                            : st == DIR_EMPTY ? "store '%s' is an empty directory, not a store"
                                              : "the creation of store '%s' was interrupted: "
                                                "open it with create to finish it",
                            dir);
        else if (st == DIR_MISSING)
            rc = mkdir_p(dir, err);
        if (!rc)
            rc = create_store(s, o->created_by ? o->created_by : "gpuledger", err);
    } else if (!rc) {
        rc = open_existing(s, o, err);
    }
    if (rc) {
        store_free(s);
        return NULL;
    }
    return s;
}

void gl_store_close(gl_store *s)
{
    /* A failure leaves the marker: the next read-write open derives the
     * keys again (see "bulk appearances"). */
    if (s && s->db && (s->pending.n || s->in_flight)) {
        pthread_mutex_lock(&s->lock);
        ingest_locked(s, NULL);
        pthread_mutex_unlock(&s->lock);
    }
    store_free(s);
}

const char *gl_store_dir(const gl_store *s)
{
    return s->dir;
}

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

static void wb_put(gl_store_batch *b, gl_store_family cf, const void *k, size_t kl, const void *v,
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

static void wb_del(gl_store_batch *b, gl_store_family cf, const void *k, size_t kl)
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

/* ------------------------------------------------- derived appearances */

/* The appearances a record implies (docs/STORE.md, "appearances"): the
 * store writes them with the record, and a rollback finds them again from
 * the records it removes, so no second, block-ordered copy of the index is
 * kept.  The zero address gets none: as the other side of every mint, burn
 * and creation it would hold them all. */
#define DERIVED_MAX (GL_STORE_EVENT_ROLES_MAX + 1)

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

static size_t derive_event(const gl_store_event *ev, gl_store_appearance out[DERIVED_MAX])
{
    gl_store_pos pos = {ev->chain_id, ev->block, GL_STORE_POS_LOG, ev->log_index, 0};
    size_t n = add_derived(out, 0, &pos, GL_STORE_ROLE_CONTRACT, ev->contract);
    for (size_t i = 0; i < ev->n_roles && i < GL_STORE_EVENT_ROLES_MAX; i++)
        n = add_derived(out, n, &pos, ev->roles[i].role, ev->roles[i].addr);
    return n;
}

static size_t derive_transfer(const gl_store_transfer *t, gl_store_appearance out[DERIVED_MAX])
{
    size_t n = add_derived(out, 0, &t->pos, GL_STORE_ROLE_SENDER, t->from);
    n = add_derived(out, n, &t->pos, GL_STORE_ROLE_RECIPIENT, t->to);
    if (t->asset != GL_STORE_ASSET_NATIVE)
        n = add_derived(out, n, &t->pos, GL_STORE_ROLE_TOKEN, t->token);
    return n;
}

static size_t derive_tx(const gl_store_tx *tx, gl_store_appearance out[DERIVED_MAX])
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
static bool grow(void *pp, size_t *cap, size_t need, size_t size)
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

static bool keyv_reserve(keyv *kv, size_t more)
{
    return grow(&kv->v, &kv->cap, kv->n + more, GL_STORE_APPEARANCE_KEY_LEN);
}

/* Append the keys of `from` to kv, which keyv_reserve made room in. */
static void keyv_append(keyv *kv, const keyv *from)
{
    memcpy(kv->v + kv->n * GL_STORE_APPEARANCE_KEY_LEN, from->v, from->n * GL_STORE_APPEARANCE_KEY_LEN);
    kv->n += from->n;
}

/* Put (del false) or delete the appearance keys of a[0..n).  A gathering
 * batch keeps its puts aside (see "bulk appearances"); where memory for
 * that runs out they go into the batch as usual. */
static void write_derived(gl_store_batch *b, const gl_store_appearance *a, size_t n, bool del)
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
static bool analysis_key_ok(const void *key, size_t klen)
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
static void spans_encode(gl_store *s, const char *key, const pend_span *v, size_t n, rocksdb_writebatch_t *wb)
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
    spans_encode(s, META_PENDING_KEY, v, n, wb);
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
static char *ingest_path(const gl_store *s)
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
    if (!grow(&sc->slot, &sc->slot_cap, cap, sizeof *sc->slot) || !grow(&sc->gid, &sc->gid_cap, len, sizeof *sc->gid))
        goto whole;
    uint32_t *slot = sc->slot, *gid = sc->gid; /* slot: group + 1, 0 = empty */
    memset(slot, 0, cap * sizeof *slot);
    for (i = 0; i < len; i++) {
        const uint8_t *a = p + i * L;
        size_t h = (size_t)addr_hash(a) & (cap - 1);
        while (slot[h] && memcmp(sc->g[slot[h] - 1].addr, a, A))
            h = (h + 1) & (cap - 1);
        if (!slot[h]) {
            if (!grow(&sc->g, &sc->g_cap, ng + 1, sizeof *sc->g))
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
        if (!grow(&sc->sorted, &sc->sorted_cap, ng, sizeof *sc->sorted))
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
    if (!grow(&sc->tmp, &sc->tmp_cap, n * L, 1) || !grow(&sc->start, &sc->start_cap, B + 1, sizeof *sc->start)) {
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
static gl_code ingest_locked(gl_store *s, gl_err *err)
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
static gl_code spans_read(gl_store *s, const char *key, pend_span out[PENDING_SPANS_MAX], size_t *n, gl_err *err)
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

static gl_code pending_read(gl_store *s, pend_span out[PENDING_SPANS_MAX], size_t *n, gl_err *err)
{
    return spans_read(s, META_PENDING_KEY, out, n, err);
}

/* At a read-write open: act on the spans of marker `key` (fix, per span,
 * into one ordinary batch) and drop the marker in that batch. */
static gl_code marker_repair(gl_store *s, const char *key, gl_code (*fix)(gl_store_batch *, const pend_span *, gl_err *),
                             gl_err *err)
{
    pend_span v[PENDING_SPANS_MAX];
    size_t n;
    gl_code rc = spans_read(s, key, v, &n, err);
    if (rc || !n)
        return rc;
    gl_store_batch *b = gl_store_batch_new(s, err);
    if (!b)
        return err ? err->code : GL_ENOMEM;
    b->gather = false;
    for (size_t i = 0; i < n && !rc; i++)
        rc = fix(b, &v[i], err);
    if (!rc) {
        spans_encode(s, key, NULL, 0, b->wb);
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
    key_successor(hi, sizeof hi); /* bounds every key at block hi (chains stop below 2^64-1) */
    return derive_range(b, lo, sizeof lo, hi, sizeof hi, false, 100000, err);
}

/* At a read-write open: derive the appearances a marker says are missing
 * (through ordinary batches) and drop the marker in the last one. */
static gl_code pending_repair(gl_store *s, gl_err *err)
{
    return marker_repair(s, META_PENDING_KEY, derive_span, err);
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
        return gl_err_set(err, GL_ENOMEM, "out of memory writing %zu %s", rv->n, family_names[cf]);
    }
    snprintf(path, plen, "%s/" RECORDS_FILE_PREFIX "%s.sst", s->dir, family_names[cf]);
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
    spans_encode(s, META_AHEAD_KEY, v, n, mark);
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
    spans_encode(s, META_AHEAD_KEY, NULL, 0, b->wb);
    return GL_OK;
}

static gl_code rollback_span(gl_store_batch *b, const pend_span *sp, gl_err *err)
{
    return gl_store_batch_rollback(b, sp->chain_id, sp->lo, err);
}

/* At a read-write open: roll each chain a marker names back to its block
 * (records may stand there that no committed batch wrote), in one batch
 * that drops the marker. */
static gl_code ahead_repair(gl_store *s, gl_err *err)
{
    return marker_repair(s, META_AHEAD_KEY, rollback_span, err);
}

/* Table files a kill left before RocksDB took them in. */
static void unlink_leftovers(const gl_store *s)
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
static gl_code commit_locked(gl_store_batch *b, gl_err *err)
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
    gl_code rc = spans_read(s, key, v, &k, err);
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
    gl_code rc = commit_locked(b, err);
    pthread_mutex_unlock(&b->s->lock);
    return rc;
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
    key_successor(hi, 8);
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
static gl_code record_derived(gl_store_family cf, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl,
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
static gl_code derive_range(gl_store_batch *b, const uint8_t *lo, size_t lol, const uint8_t *hi, size_t hil,
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
                rc = gl_err_set(err, GL_EDB, "store '%s' is damaged: a bad %s record: %s", s->dir, family_names[cf],
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
            rc = db_fail(err, s->dir, e, family_names[cf]);
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
    key_successor(hi, 8);
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
    key_successor(hi, 8);
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
    key_successor(hi, 8);
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
    rc = rc ? rc : commit_locked(b, err);
    pthread_mutex_unlock(&s->lock);
    gl_store_batch_free(b);
    return rc;
}

/* ------------------------------------------------------------ point reads */

/* Get key from cf: *val NULL when absent (then GL_OK).  Free with free(). */
static gl_code get_raw(gl_store *s, gl_store_family cf, const void *k, size_t kl, char **val,
                       size_t *vl, gl_err *err)
{
    char *e = NULL;
    *val = rocksdb_get_cf(s->db, s->ro, s->cf[cf], (const char *)k, kl, vl, &e);
    if (e)
        return db_fail(err, s->dir, e, family_names[cf]);
    return GL_OK;
}

/* A record that does not decode: prefix the decoder's message. */
static gl_code damaged(gl_store *s, gl_store_family cf, gl_err *err)
{
    if (err) {
        gl_err_prefix(err, "store '%s' is damaged: bad record in '%s': ", s->dir,
                      family_names[cf]);
        err->code = GL_EDB;
    }
    return GL_EDB;
}

gl_code gl_store_get_block(gl_store *s, uint64_t chain_id, uint64_t number, gl_store_block *out,
                           bool *found, gl_err *err)
{
    uint8_t k[GL_STORE_BLOCK_KEY_LEN];
    char *v;
    size_t vl;
    *found = false;
    gl_store_key_block(k, chain_id, number);
    if (get_raw(s, GL_STORE_CF_BLOCKS, k, sizeof k, &v, &vl, err))
        return GL_EDB;
    if (!v)
        return GL_OK;
    gl_code rc = gl_store_block_decode(out, k, sizeof k, (uint8_t *)v, vl, err);
    free(v);
    if (rc)
        return damaged(s, GL_STORE_CF_BLOCKS, err);
    *found = true;
    return GL_OK;
}

gl_code gl_store_get_tx(gl_store *s, uint64_t chain_id, uint64_t block, uint32_t index,
                        gl_store_tx *out, bool *found, gl_err *err)
{
    uint8_t k[GL_STORE_TX_KEY_LEN];
    char *v;
    size_t vl;
    *found = false;
    gl_store_key_tx(k, chain_id, block, index);
    if (get_raw(s, GL_STORE_CF_TXS, k, sizeof k, &v, &vl, err))
        return GL_EDB;
    if (!v)
        return GL_OK;
    gl_code rc = gl_store_tx_decode(out, k, sizeof k, (uint8_t *)v, vl, err);
    free(v);
    if (rc)
        return damaged(s, GL_STORE_CF_TXS, err);
    *found = true;
    return GL_OK;
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
    if (get_raw(s, GL_STORE_CF_TXHASH, k, sizeof k, &v, &vl, err))
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
    char *v;
    size_t vl;
    *found = false;
    if (!pos->chain_id || pos->kind > GL_STORE_POS_TRACE)
        return gl_err_set(err, GL_EINVAL, "bad transfer position (chain %" PRIu64 ", kind %d)", pos->chain_id,
                          (int)pos->kind);
    gl_store_key_pos(k, pos);
    if (get_raw(s, GL_STORE_CF_TRANSFERS, k, sizeof k, &v, &vl, err))
        return GL_EDB;
    if (!v)
        return GL_OK;
    gl_code rc = gl_store_transfer_decode(out, k, sizeof k, (uint8_t *)v, vl, err);
    free(v);
    if (rc)
        return damaged(s, GL_STORE_CF_TRANSFERS, err);
    *found = true;
    return GL_OK;
}

gl_code gl_store_get_event(gl_store *s, uint64_t chain_id, uint64_t block, uint32_t log_index,
                           gl_store_event *out, bool *found, gl_err *err)
{
    uint8_t k[GL_STORE_EVENT_KEY_LEN];
    char *v;
    size_t vl;
    *found = false;
    gl_store_key_event(k, chain_id, block, log_index);
    if (get_raw(s, GL_STORE_CF_EVENTS, k, sizeof k, &v, &vl, err))
        return GL_EDB;
    if (!v)
        return GL_OK;
    gl_code rc = gl_store_event_decode(out, k, sizeof k, (uint8_t *)v, vl, err);
    free(v);
    if (rc)
        return damaged(s, GL_STORE_CF_EVENTS, err);
    *found = true;
    return GL_OK;
}

gl_code gl_store_get_cursor(gl_store *s, uint64_t chain_id, const char *name,
                            gl_store_cursor *out, bool *found, gl_err *err)
{
    gl_buf k = GL_BUF_INIT;
    char *v;
    size_t vl;
    *found = false;
    gl_code rc = gl_store_key_cursor(&k, chain_id, name, err);
    if (rc) {
        gl_buf_release(&k);
        return rc;
    }
    rc = get_raw(s, GL_STORE_CF_CURSORS, k.data, k.len, &v, &vl, err);
    if (!rc && v) {
        rc = gl_store_cursor_decode(out, k.data, k.len, (uint8_t *)v, vl, err);
        if (rc)
            rc = damaged(s, GL_STORE_CF_CURSORS, err);
        else
            *found = true;
    }
    free(v);
    gl_buf_release(&k);
    return rc;
}

uint64_t gl_store_latest_sequence(gl_store *s)
{
    return rocksdb_get_latest_sequence_number(s->db);
}

gl_code gl_store_flush_analysis(gl_store *s, gl_err *err)
{
    if (!s->cf[GL_STORE_CF_ANALYSIS])
        return GL_OK;
    rocksdb_flushoptions_t *fo = rocksdb_flushoptions_create();
    if (!fo)
        return gl_err_set(err, GL_ENOMEM, "out of memory");
    rocksdb_flushoptions_set_wait(fo, 1);
    char *e = NULL;
    pthread_mutex_lock(&s->lock);
    rocksdb_flush_cf(s->db, fo, s->cf[GL_STORE_CF_ANALYSIS], &e);
    pthread_mutex_unlock(&s->lock);
    rocksdb_flushoptions_destroy(fo);
    return e ? db_fail(err, s->dir, e, "flushing the analysis") : GL_OK;
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
    gl_code rc = get_raw(s, GL_STORE_CF_ANALYSIS, key, klen, val, vlen, err);
    if (rc || !*val)
        *vlen = 0;
    return rc;
}

/* -------------------------------------------------------------- iterators */

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
    key_successor(hi, 16); /* chain < UINT64_MAX: cannot overflow */
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
    bool bounded = key_successor(hi, 20) == GL_OK;
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
                          family_names[it->cf]);
    if (!it->it) {
        *end = true;
        return GL_OK;
    }
    if (!rocksdb_iter_valid(it->it)) {
        char *e = NULL;
        rocksdb_iter_get_error(it->it, &e);
        if (e)
            return db_fail(err, it->s->dir, e, family_names[it->cf]);
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
        return damaged(it->s, it->cf, err);
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

static gl_code finding_decode_kv(gl_store_finding *out, const uint8_t *k, size_t kl,
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
        return damaged(it->s, it->cf, err);
    }
    *key = k;
    *klen = kl;
    *val = v;
    *vlen = vl;
    it->advance = true;
    return GL_OK;
}

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
        return db_fail(err, s->dir, e, family_names[cf]);
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
            return db_fail(err, s->dir, e, family_names[i]);
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
        if (get_raw(s, cf, k, kl, &v, &vl, err))
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
        if (get_raw(s, GL_STORE_CF_APPEARANCES, k, sizeof k, &v, &vl, err))
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
    gl_code prc = pending_read(s, sp, &nsp, err);
    if (prc)
        return prc;
    if (nsp)
        return gl_err_set(err, GL_EDB,
                          "store '%s' is incomplete: the appearances of chain %" PRIu64 " blocks %" PRIu64 "..%" PRIu64
                          "%s were not written (an interrupted bulk write); opening it read-write derives them",
                          s->dir, sp[0].chain_id, sp[0].lo, sp[0].hi, nsp > 1 ? " and more" : "");
    if ((prc = spans_read(s, META_AHEAD_KEY, sp, &nsp, err)))
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
                              family_names[i], hex);
                rc = err ? (err->code = GL_EDB) : GL_EDB;
                break;
            }
        }
        char *e = NULL;
        rocksdb_iter_get_error(it, &e);
        rocksdb_iter_destroy(it);
        rocksdb_readoptions_destroy(ro);
        if (e && !rc)
            return db_fail(err, s->dir, e, family_names[i]);
        free(e);
        if (rc)
            return rc;
    }
    return GL_OK;
}

/* --------------------------------------------- a damaged log, recovery */

/* A read-only look at `dir` with the log replayed in `mode`: every family
 * attached, nothing checked.  NULL with err when RocksDB refuses. */
static gl_store *peek(const char *dir, int mode, gl_err *err)
{
    gl_store *s = store_alloc(dir, err);
    if (!s)
        return NULL;
    s->wal_mode = mode;
    s->read_only = true;
    char **listed = NULL;
    size_t n = 0;
    gl_code rc = list_families(s, &listed, &n, err);
    if (!rc) {
        rc = attach(s, (const char *const *)listed, n, true, false, err);
        rocksdb_list_column_families_destroy(listed, n);
    }
    if (rc) {
        store_free(s);
        return NULL;
    }
    return s;
}

static gl_store_wal_cursor *report_cursor(gl_store_wal_report *r, uint64_t chain, const char *name)
{
    for (size_t i = 0; i < r->n; i++)
        if (r->cursors[i].chain_id == chain && !strcmp(r->cursors[i].name, name))
            return &r->cursors[i];
    if (r->n == GL_STORE_REPORT_CURSORS) {
        r->n_more++;
        return NULL;
    }
    gl_store_wal_cursor *c = &r->cursors[r->n++];
    memset(c, 0, sizeof *c);
    c->chain_id = chain;
    snprintf(c->name, sizeof c->name, "%s", name);
    return c;
}

/* The cursors and record counts of a peek, as kept (before the damage) or
 * reached (with the records past it). */
static gl_code report_fill(gl_store *s, gl_store_wal_report *r, bool kept, gl_err *err)
{
    gl_store_stats st;
    gl_code rc = gl_store_stats_get(s, &st, err);
    if (rc)
        return rc;
    memcpy(kept ? r->kept_records : r->later_records, st.records, sizeof st.records);
    gl_store_iter *it = gl_store_iter_cursors(s, err);
    if (!it)
        return GL_ENOMEM;
    for (bool end = false; !rc;) {
        gl_store_cursor cur;
        if ((rc = gl_store_next_cursor(it, &cur, &end, err)) || end)
            break;
        gl_store_wal_cursor *c = report_cursor(r, cur.chain_id, cur.name);
        if (c && kept) {
            c->kept = true;
            c->kept_block = cur.block;
        } else if (c) {
            c->reached = true;
            c->reached_block = cur.block;
        }
    }
    gl_store_iter_free(it);
    return rc;
}

/* Is the log of `dir` damaged before its end, and what is on either side
 * of the damage?  GL_OK with r->damaged false when a tail-tolerant open
 * works; the error of that open when the damage is not (only) in the log. */
static gl_code wal_survey(const char *dir, gl_store_wal_report *r, gl_err *err)
{
    memset(r, 0, sizeof *r);
    gl_err e0 = {0};
    gl_store *s = peek(dir, WAL_TOLERATE_TAIL, &e0);
    if (s) {
        store_free(s);
        return GL_OK;
    }
    if (!strstr(e0.msg, "Corruption") || !(s = peek(dir, WAL_POINT_IN_TIME, NULL))) {
        if (err)
            *err = e0;
        return e0.code ? e0.code : GL_EDB;
    }
    r->damaged = true;
    snprintf(r->damage, sizeof r->damage, "%s", strstr(e0.msg, "Corruption"));
    gl_code rc = report_fill(s, r, true, err);
    store_free(s);
    if (rc)
        return rc;
    if ((s = peek(dir, WAL_SKIP_ANY, NULL))) {
        gl_err e1 = {0};
        r->later_known = report_fill(s, r, false, &e1) == GL_OK;
        store_free(s);
    }
    return GL_OK;
}

/* "store 'X' is damaged: its write-ahead log ..." with what the readable
 * part holds and the commands to run, into err. */
static void wal_message(const char *dir, const gl_store_wal_report *r, gl_err *err)
{
    char kept[240] = "no platform's cursor is readable (what is lost is no index run's)";
    if (r->n) {
        const gl_store_wal_cursor *c = &r->cursors[0];
        int l = c->kept ? snprintf(kept, sizeof kept, "platform %s (chain %" PRIu64 ") is recovered up to block %" PRIu64
                                   " and what the log held after it is lost",
                                   c->name, c->chain_id, c->kept_block)
                        : snprintf(kept, sizeof kept, "platform %s (chain %" PRIu64 ") is lost entirely", c->name,
                                   c->chain_id);
        if (l > 0 && (size_t)l < sizeof kept && c->reached && c->kept && c->reached_block > c->kept_block)
            l += snprintf(kept + l, sizeof kept - (size_t)l, " (it had reached block %" PRIu64 " at least)",
                          c->reached_block);
        if (l > 0 && (size_t)l < sizeof kept && r->n + r->n_more > 1)
            snprintf(kept + l, sizeof kept - (size_t)l, "; %zu more platforms", r->n + r->n_more - 1);
    }
    gl_err_set(err, GL_EDB,
               "store '%s' is damaged: its write-ahead log is corrupt (%s), and opening it would keep only "
               "what comes before the damage: %s. Nothing was changed. Run 'gpuledger db recover --db %s' "
               "to keep what is readable, then 'gpuledger index' to fetch the rest again",
               dir, r->damage, kept, dir);
}

gl_code gl_store_wal_check(const char *dir, gl_store_wal_report *out, gl_err *err)
{
    if (!dir || !dir[0] || !out)
        return gl_err_set(err, GL_EINVAL, "no store directory given");
    memset(out, 0, sizeof *out);
    dir_state st = DIR_MISSING;
    gl_code rc = probe_dir(dir, &st, err);
    if (rc)
        return rc;
    if (st != DIR_ROCKSDB)
        return gl_err_set(err, GL_EDB,
                          st == DIR_MISSING ? "store '%s' does not exist"
                          : st == DIR_EMPTY ? "store '%s' is an empty directory, not a store"
                                            : "the creation of store '%s' was interrupted: open it with create "
                                              "to finish it",
                          dir);
    return wal_survey(dir, out, err);
}

/* Copy every write-ahead log file of `dir` into a new directory
 * dir/damaged-wal-<UTC time>[-n]; its name into out. */
static gl_code keep_logs(const char *dir, char *out, size_t cap, gl_err *err)
{
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    char stamp[32];
    strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
    char path[4096];
    for (int i = 0;; i++) {
        snprintf(out, cap, i ? "damaged-wal-%s-%d" : "damaged-wal-%s", stamp, i);
        snprintf(path, sizeof path, "%s/%s", dir, out);
        if (mkdir(path, 0755) == 0)
            break;
        if (errno != EEXIST || i > 100)
            return gl_err_set(err, GL_EIO, "store '%s': cannot make '%s' to keep the damaged log: %s", dir, path,
                              strerror(errno));
    }
    DIR *d = opendir(dir);
    if (!d)
        return gl_err_set(err, GL_EIO, "store '%s': cannot list: %s", dir, strerror(errno));
    gl_code rc = GL_OK;
    struct dirent *e;
    while (!rc && (e = readdir(d)) != NULL) {
        if (!numbered(e->d_name, "", ".log"))
            continue;
        char from[4400], to[4400];
        snprintf(from, sizeof from, "%s/%s", dir, e->d_name);
        snprintf(to, sizeof to, "%s/%s", path, e->d_name);
        FILE *in = fopen(from, "rb"), *o = fopen(to, "wb");
        char buf[65536];
        size_t k;
        while (in && o && (k = fread(buf, 1, sizeof buf, in)) > 0)
            if (fwrite(buf, 1, k, o) != k)
                break;
        bool ok = in && o && !ferror(in) && !ferror(o);
        if (in)
            fclose(in);
        if (o && fclose(o) != 0)
            ok = false;
        if (!ok)
            rc = gl_err_set(err, GL_EIO, "store '%s': cannot copy the damaged log '%s' to '%s': %s", dir, from,
                            to, strerror(errno));
    }
    closedir(d);
    return rc;
}

/* The recovery's entry for meta 'recovered': when, what, where the log
 * was kept, and each platform's span that may be lost: every block after
 * the one its cursor holds before the damage (to the block the readable
 * records past it reach, when they reach further; else open-ended). */
static json_t *recovery_entry(const gl_store_wal_report *r)
{
    char at[32];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(at, sizeof at, "%Y-%m-%dT%H:%M:%SZ", &tm);
    json_t *lost = json_array();
    for (size_t i = 0; i < r->n; i++) {
        const gl_store_wal_cursor *c = &r->cursors[i];
        uint64_t first = c->kept ? c->kept_block + 1 : 0;
        json_t *last = c->reached && c->reached_block >= first ? json_integer((json_int_t)c->reached_block)
                                                                 : json_null();
        json_array_append_new(lost, json_pack("{s:I, s:s, s:I, s:o}", "chain_id", (json_int_t)c->chain_id,
                                              "platform", c->name, "first", (json_int_t)first, "last", last));
    }
    return json_pack("{s:s, s:s, s:s, s:o}", "at", at, "damage", r->damage, "kept_log", r->kept_log, "lost", lost);
}

/* In one batch, after point-in-time recovery: make the appearances of
 * every chain from its lowest kept cursor on exactly those its records
 * imply (a bulk writer writes appearances and records as table files,
 * outside the log, so some may belong to records the damage took, and
 * some records may lack theirs), and append the recovery to meta
 * 'recovered'.  Records are kept as they are: what is readable is
 * evidence, and an index run puts the same keys again. */
static gl_code recover_commit(gl_store *s, const gl_store_wal_report *r, gl_err *err)
{
    uint64_t chains[GL_STORE_REPORT_CURSORS], from[GL_STORE_REPORT_CURSORS];
    size_t nch = 0;
    for (size_t i = 0; i < r->n; i++) {
        const gl_store_wal_cursor *c = &r->cursors[i];
        uint64_t f = c->kept ? c->kept_block + 1 : 0;
        size_t j = 0;
        while (j < nch && chains[j] != c->chain_id)
            j++;
        if (j == nch) {
            chains[nch] = c->chain_id;
            from[nch++] = f;
        } else if (f < from[j])
            from[j] = f;
    }
    gl_store_batch *b = gl_store_batch_new(s, err);
    if (!b)
        return err ? err->code : GL_ENOMEM;
    gl_code rc = GL_OK;
    if (nch) {
        rocksdb_iterator_t *it = rocksdb_create_iterator_cf(s->db, s->ro, s->cf[GL_STORE_CF_APPEARANCES]);
        for (rocksdb_iter_seek_to_first(it); rocksdb_iter_valid(it); rocksdb_iter_next(it)) {
            size_t kl;
            const uint8_t *k = (const uint8_t *)rocksdb_iter_key(it, &kl);
            if (kl != GL_STORE_APPEARANCE_KEY_LEN)
                continue; /* damage, for gl_store_verify to name */
            uint64_t ch = gl_store_be64_get(k + 20), blk = gl_store_be64_get(k + 28);
            for (size_t j = 0; j < nch; j++)
                if (ch == chains[j] && blk >= from[j])
                    wb_del(b, GL_STORE_CF_APPEARANCES, k, kl);
        }
        char *e = NULL;
        rocksdb_iter_get_error(it, &e);
        rocksdb_iter_destroy(it);
        if (e)
            rc = db_fail(err, s->dir, e, "reading the appearances");
    }
    for (size_t j = 0; j < nch && !rc; j++) {
        uint8_t lo[16], hi[8];
        gl_store_be64_put(lo, chains[j]);
        gl_store_be64_put(lo + 8, from[j]);
        gl_store_be64_put(hi, chains[j] + 1); /* chain ids below 2^64-1 */
        rc = derive_range(b, lo, sizeof lo, hi, sizeof hi, false, 0, err);
    }
    /* The marker: the entries before, and this one. */
    json_t *all = NULL;
    if (!rc) {
        char *val = NULL;
        size_t vl = 0;
        rc = meta_get(s, META_RECOVERED_KEY, &val, &vl, err);
        all = val ? json_loadb(val, vl, 0, NULL) : json_array();
        free(val);
        if (!rc && !json_is_array(all))
            rc = gl_err_set(err, GL_EDB, "store '%s' is damaged: meta '%s' is not a JSON array", s->dir,
                            META_RECOVERED_KEY);
    }
    if (!rc) {
        json_array_append_new(all, recovery_entry(r));
        char *text = json_dumps(all, JSON_COMPACT | JSON_SORT_KEYS);
        if (!text)
            rc = gl_err_set(err, GL_ENOMEM, "out of memory recovering");
        else {
            wb_put(b, GL_STORE_CF_META, META_RECOVERED_KEY, strlen(META_RECOVERED_KEY), text, strlen(text));
            rc = gl_store_batch_commit(b, err);
        }
        free(text);
    }
    json_decref(all);
    gl_store_batch_free(b);
    return rc;
}

gl_code gl_store_recover(const char *dir, gl_store_wal_report *out, gl_err *err)
{
    gl_code rc = gl_store_wal_check(dir, out, err);
    if (rc || !out->damaged)
        return rc;
    if ((rc = keep_logs(dir, out->kept_log, sizeof out->kept_log, err)))
        return rc;
    const gl_store_open_opts o = {0};
    gl_store *s = open_mode(dir, &o, WAL_POINT_IN_TIME, err);
    if (!s)
        return err ? err->code : GL_EDB;
    rc = recover_commit(s, out, err);
    gl_store_close(s);
    if (rc)
        return rc;
    /* What an ordinary open sees now: a sound log, a store that verifies. */
    s = gl_store_open(dir, &o, err);
    if (!s)
        return gl_err_prefix(err, "after recovery: ");
    rc = gl_store_verify(s, err);
    gl_store_close(s);
    return rc ? gl_err_prefix(err, "after recovery: ") : GL_OK;
}

gl_code gl_store_lost_spans(gl_store *s, gl_store_lost *out, size_t max, size_t *n, size_t *open_spans,
                            gl_err *err)
{
    *n = 0;
    if (open_spans)
        *open_spans = 0;
    char *val = NULL;
    size_t vl = 0;
    gl_code rc = meta_get(s, META_RECOVERED_KEY, &val, &vl, err);
    if (rc || !val)
        return rc;
    json_t *all = json_loadb(val, vl, 0, NULL);
    free(val);
    if (!json_is_array(all)) {
        json_decref(all);
        return gl_err_set(err, GL_EDB, "store '%s' is damaged: meta '%s' is not a JSON array", s->dir,
                          META_RECOVERED_KEY);
    }
    size_t i, j;
    json_t *rec, *l;
    json_array_foreach(all, i, rec)
    {
        json_array_foreach(json_object_get(rec, "lost"), j, l)
        {
            const char *name = json_string_value(json_object_get(l, "platform"));
            json_t *ch = json_object_get(l, "chain_id"), *first = json_object_get(l, "first"),
                   *last = json_object_get(l, "last");
            if (!name || !gl_store_name_ok(name) || !json_is_integer(ch) || !json_is_integer(first) ||
                !(json_is_integer(last) || json_is_null(last))) {
                json_decref(all);
                return gl_err_set(err, GL_EDB, "store '%s' is damaged: meta '%s' has a malformed entry", s->dir,
                                  META_RECOVERED_KEY);
            }
            gl_store_lost x;
            memset(&x, 0, sizeof x);
            x.chain_id = (uint64_t)json_integer_value(ch);
            snprintf(x.platform, sizeof x.platform, "%s", name);
            x.first = (uint64_t)json_integer_value(first);
            x.last_known = json_is_integer(last);
            x.last = x.last_known ? (uint64_t)json_integer_value(last) : 0;
            gl_store_cursor cur;
            if ((rc = gl_store_get_cursor(s, x.chain_id, name, &cur, &x.has_cursor, err))) {
                json_decref(all);
                return rc;
            }
            x.cursor = x.has_cursor ? cur.block : 0;
            x.covered = x.has_cursor && (x.last_known ? x.cursor >= x.last : x.cursor + 1 > x.first);
            if (!x.covered && open_spans)
                (*open_spans)++;
            if (*n < max)
                out[*n] = x;
            (*n)++;
        }
    }
    json_decref(all);
    if (*n > max)
        *n = max;
    return GL_OK;
}
