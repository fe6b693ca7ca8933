/* store_int.h - what the store's own files share; not an API (that is
 * include/gpuledger/store.h, the formats are docs/STORE.md): the meta keys
 * and constants, the layout of gl_store, gl_store_batch and gl_store_iter,
 * and the functions one of these files calls in another.
 *
 * The store, one job a file:
 *   store_open.c      the RocksDB boundary, opening (probe, read-only
 *                     inspection, creation, migration), bindings, close
 *   store_read.c      point reads: meta, bindings, definitions, records
 *   store_batch.c     batches: the puts of records and of the appearances
 *                     they imply
 *   store_bulk.c      the bulk writer (appearances and records as table
 *                     files) and the commit of a batch
 *   store_rollback.c  rollback from a block, and the repairs an open makes
 *                     from the bulk writer's markers
 *   store_iter.c      iterators over ranges, addresses and prefixes
 *   store_verify.c    counts, stats and gl_store_verify
 *   store_recover.c   a damaged write-ahead log: check, recovery, losses
 *   store_analysis.c  the analysis family replaced by sorted table files
 *   store_keys.c      the byte layouts of keys and values
 */
#ifndef GL_INDEXER_STORE_INT_H
#define GL_INDEXER_STORE_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rocksdb/c.h>

#include "gpuledger/store.h"

/* ----------------------------------------------------------------- types */

#define META_MAGIC_KEY "magic"
#define META_MAGIC_VAL "gpuledger-store"
#define META_SCHEMA_KEY "schema_version"
/* Schema 1's block-ordered twin of the appearances (see migrate_v1). */
#define LEGACY_APPEAR_POS "appear_pos"
#define META_CREATED_KEY "created_by"
#define META_CHAIN_PREFIX "chain/"
/* Blocks whose appearances a bulk writer has committed the records of but
 * not yet written (see "bulk appearances" in store_bulk.c). */
#define META_PENDING_KEY "pending_appearances"
/* Blocks from which a bulk writer may have written records whose batch
 * (and cursor) it did not commit (see "bulk records" in store_bulk.c). */
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
    size_t scan_readahead; /* gl_store_set_scan_readahead: 0 = RocksDB's own */
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

/* DIR_HALF: only files RocksDB writes while it creates a database, before
 * CURRENT exists (LOCK, IDENTITY, LOG, MANIFEST-n, OPTIONS-n, n.dbtmp): a
 * creation killed half-way, which nothing else leaves behind. */
typedef enum dir_state { DIR_MISSING, DIR_EMPTY, DIR_HALF, DIR_ROCKSDB } dir_state;

/* ------------------------------------------------- derived appearances */

/* The appearances a record implies (docs/STORE.md, "appearances"): the
 * store writes them with the record, and a rollback finds them again from
 * the records it removes, so no second, block-ordered copy of the index is
 * kept.  The zero address gets none: as the other side of every mint, burn
 * and creation it would hold them all. */
#define DERIVED_MAX (GL_STORE_EVENT_ROLES_MAX + 1)

/* store_open.c */
extern const char *const st_family_names[GL_STORE_CF_COUNT];
gl_code db_fail(gl_err *err, const char *dir, char *errptr, const char *what);
gl_code st_key_successor(uint8_t *k, size_t n);
bool numbered(const char *s, const char *prefix, const char *suffix);
gl_code probe_dir(const char *dir, dir_state *out, gl_err *err);
binding *binding_find(binding_list *l, const char *name);
gl_code binding_add(binding_list *l, const char *name, uint64_t chain_id, gl_err *err);
gl_code binding_conflict(gl_err *err, const char *dir, const char *name, uint64_t have,
                         uint64_t want);
void store_free(gl_store *s);
gl_code attach(gl_store *s, const char *const *names, size_t n, bool read_only,
               bool create, gl_err *err);
gl_code meta_get(gl_store *s, const char *key, char **val, size_t *vlen, gl_err *err);
gl_code list_families(gl_store *s, char ***listed, size_t *n, gl_err *err);
gl_store *store_alloc(const char *dir, gl_err *err);
gl_store *open_mode(const char *dir, const gl_store_open_opts *opts, int wal_mode, gl_err *err);

/* store_read.c */
gl_code st_get_raw(gl_store *s, gl_store_family cf, const void *k, size_t kl, char **val,
                size_t *vl, gl_err *err);
gl_code st_damaged(gl_store *s, gl_store_family cf, gl_err *err);

/* store_batch.c */
void wb_put(gl_store_batch *b, gl_store_family cf, const void *k, size_t kl, const void *v,
            size_t vl);
void wb_del(gl_store_batch *b, gl_store_family cf, const void *k, size_t kl);
size_t derive_event(const gl_store_event *ev, gl_store_appearance out[DERIVED_MAX]);
size_t derive_transfer(const gl_store_transfer *t, gl_store_appearance out[DERIVED_MAX]);
size_t derive_tx(const gl_store_tx *tx, gl_store_appearance out[DERIVED_MAX]);
bool st_grow(void *pp, size_t *cap, size_t need, size_t size);
bool keyv_reserve(keyv *kv, size_t more);
void keyv_append(keyv *kv, const keyv *from);
void write_derived(gl_store_batch *b, const gl_store_appearance *a, size_t n, bool del);
bool analysis_key_ok(const void *key, size_t klen);

/* store_bulk.c */
void st_spans_encode(gl_store *s, const char *key, const pend_span *v, size_t n, rocksdb_writebatch_t *wb);
char *ingest_path(const gl_store *s);
gl_code ingest_locked(gl_store *s, gl_err *err);
gl_code st_spans_read(gl_store *s, const char *key, pend_span out[PENDING_SPANS_MAX], size_t *n, gl_err *err);
gl_code st_pending_read(gl_store *s, pend_span out[PENDING_SPANS_MAX], size_t *n, gl_err *err);
void st_unlink_leftovers(const gl_store *s);
gl_code st_commit_locked(gl_store_batch *b, gl_err *err);

/* store_rollback.c */
gl_code st_pending_repair(gl_store *s, gl_err *err);
gl_code st_ahead_repair(gl_store *s, gl_err *err);
gl_code record_derived(gl_store_family cf, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl,
                       gl_store_appearance out[DERIVED_MAX], size_t *n, gl_err *err);
gl_code derive_range(gl_store_batch *b, const uint8_t *lo, size_t lol, const uint8_t *hi, size_t hil,
                            bool del, uint64_t commit_every, gl_err *err);

/* store_iter.c */
gl_code finding_decode_kv(gl_store_finding *out, const uint8_t *k, size_t kl,
                          const uint8_t *v, size_t vl, gl_err *err);

/* store_recover.c */
gl_code wal_survey(const char *dir, gl_store_wal_report *r, gl_err *err);
void wal_message(const char *dir, const gl_store_wal_report *r, gl_err *err);

#endif
