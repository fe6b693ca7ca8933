/* store_open.c - opening and closing the store (see store.h and
 * docs/STORE.md): the RocksDB boundary (error conversion, options), the
 * directory probe, read-only inspection, creation, schema migration, the
 * column families and the platform bindings.
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
#include "store_int.h"

const char *const st_family_names[GL_STORE_CF_COUNT] = {
    "meta",      "blocks",       "txs",        "txhash",  "events",   "transfers",
    "appearances", "cursors",    "findings", "labels",   "analysis",
};

const char *gl_store_family_name(gl_store_family cf)
{
    if ((int)cf < 0 || (int)cf >= GL_STORE_CF_COUNT)
        return NULL;
    return st_family_names[cf];
}

static int family_index(const char *name)
{
    for (int i = 0; i < GL_STORE_CF_COUNT; i++)
        if (strcmp(st_family_names[i], name) == 0)
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
gl_code db_fail(gl_err *err, const char *dir, char *errptr, const char *what)
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

gl_code st_key_successor(uint8_t *k, size_t n)
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

/* Does `s` start with `prefix` and continue with digits up to `suffix`? */
bool numbered(const char *s, const char *prefix, const char *suffix)
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

gl_code probe_dir(const char *dir, dir_state *out, gl_err *err)
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

binding *binding_find(binding_list *l, const char *name)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->v[i].name, name) == 0)
            return &l->v[i];
    return NULL;
}

gl_code binding_add(binding_list *l, const char *name, uint64_t chain_id, gl_err *err)
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

gl_code binding_conflict(gl_err *err, const char *dir, const char *name, uint64_t have,
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

void store_free(gl_store *s)
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
gl_code attach(gl_store *s, const char *const *names, size_t n, bool read_only,
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

gl_code meta_get(gl_store *s, const char *key, char **val, size_t *vlen, gl_err *err)
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
        names[i + 1] = st_family_names[i];
}

static gl_code create_store(gl_store *s, const char *created_by, gl_err *err)
{
    const char *names[GL_STORE_CF_COUNT + 1];
    all_names(names);
    gl_code rc = attach(s, names, GL_STORE_CF_COUNT + 1, false, true, err);
    s->version = GL_STORE_SCHEMA_VERSION;
    return rc ? rc : write_meta(s, created_by, err);
}

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
                              st_family_names[i]);
    if (load_bindings(s, err))
        return GL_EDB;
    /* A bad marker refuses the open before anything is written. */
    pend_span sp[PENDING_SPANS_MAX];
    size_t nsp;
    if (st_pending_read(s, sp, &nsp, err) || st_spans_read(s, META_AHEAD_KEY, sp, &nsp, err))
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
            rocksdb_create_column_family(s->db, s->opts, st_family_names[GL_STORE_CF_ANALYSIS], &e);
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
gl_code list_families(gl_store *s, char ***listed, size_t *n, gl_err *err)
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
        st_unlink_leftovers(s);
        rc = st_ahead_repair(s, err);
        rc = rc ? rc : st_pending_repair(s, err);
    }
    return rc;
}

/* A store struct for `dir`, nothing opened yet. */
gl_store *store_alloc(const char *dir, gl_err *err)
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

gl_store *gl_store_open(const char *dir, const gl_store_open_opts *opts, gl_err *err)
{
    return open_mode(dir, opts, WAL_TOLERATE_TAIL, err);
}

gl_store *open_mode(const char *dir, const gl_store_open_opts *opts, int wal_mode, gl_err *err)
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
