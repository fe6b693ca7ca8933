/* store.h - the indexer's embedded store: RocksDB with one column family per
 * kind of record, written in atomic, durable batches.
 *
 * What is stored (the byte layout of every key and value is in docs/STORE.md):
 *   meta         schema version, creator, platform -> chain bindings, the
 *                platform definitions (canonical JSON) and their hashes
 *   blocks       chain | number -> hash, parent hash, timestamp, what was verified
 *   txs          chain | block | tx index -> hash, from, to, value, flags
 *   txhash       chain | tx hash -> block | tx index
 *   events       chain | block | log index -> a decoded marketplace event
 *   transfers    chain | block | position -> a native or token transfer
 *   appearances  address | chain | block | position | role -> (empty), written
 *                by the store with the event, transfer or tx that implies
 *                them, and found again from those records by a rollback
 *   cursors      chain | platform name -> last committed block and its hash
 *   findings     chain | block | seq -> an integrity finding (JSON, with evidence)
 *   labels       address | source -> label, category, confidence
 *   analysis     the analyzer's results: opaque keys (1..255 bytes) and
 *                values, laid out by analyzer/results.c; kept by rollbacks
 * Numbers in keys are big-endian, so a block range is a key range and a
 * reorg rollback is a range delete.
 *
 * Durability: every write goes through a gl_store_batch, committed as ONE
 * RocksDB WriteBatch with the WAL on and sync=true.  Put the cursor into the
 * batch that holds its range: after a crash (kill -9 at any moment) the store
 * holds either all of a batch or none of it, so the cursor never points past
 * data that is missing and nothing exists past the cursor.
 *
 * Opening never changes a store it refuses: a directory that is not a
 * gpuledger store, a store of a newer schema, a damaged store, or a store
 * bound to other chains than the caller expects is checked with a read-only
 * RocksDB handle (which writes no file) before the read-write open.
 *
 * Chain binding: each platform name (which is also the cursor name) is bound
 * to one chain id by the first batch that uses it (an event, a cursor, a
 * platform hash).  Using the name with another chain id later is an error
 * that names both ids, and the whole batch is refused.
 *
 * Threads: a gl_store may be shared by threads.  Reads and iterators are safe
 * concurrently; commits and rollbacks serialise on an internal mutex.  A
 * gl_store_batch or gl_store_iter must be used by one thread at a time.
 *
 * Ownership: records are plain structs with fixed-size fields and no heap
 * pointers, except gl_store_finding.json (a jansson reference the reader
 * owns).  Nothing here keeps global state.
 */
#ifndef GPULEDGER_STORE_H
#define GPULEDGER_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "gpuledger/bytes.h"
#include "gpuledger/err.h"
#include "gpuledger/u256.h"

/* ---------------------------------------------------------------- limits */

/* The schema this code reads and writes.  A store with a larger number was
 * written by a newer gpuledger and is refused untouched.  3 = 2 + the
 * analysis family; 1 and 2 are migrated by a read-write open. */
#define GL_STORE_SCHEMA_VERSION 3u

/* Platform, cursor, event and id names (the NUL included): the longest
 * event name of the real platforms is "WinningTicketRedeemed" (21); 64 leaves
 * room for definitions such as "golem-polygon-deposits". */
#define GL_STORE_NAME_MAX 64
/* Free text (GPU model, label, label source, created-by), NUL included:
 * Spheron's specs carry model strings like "NVIDIA H100 80GB HBM3 SXM5". */
#define GL_STORE_TEXT_MAX 128
/* Addresses with a role in one event.  Swan's TaskCreated carries an
 * address[] cpList; tasks seen on chain list a handful of providers.  The
 * indexer keeps the first 32 (they are also the event's appearances). */
#define GL_STORE_EVENT_ROLES_MAX 32
/* Ids in one event (lease id, order id, fizz id, deposit id, ...). */
#define GL_STORE_EVENT_IDS_MAX 4

/* Analysis keys (analyzer/results.c): an entity id or a month with a
 * platform name fits in far less; 255 keeps a length in one byte. */
#define GL_STORE_ANALYSIS_KEY_MAX 255

#define GL_STORE_ADDR_LEN 20
#define GL_STORE_HASH_LEN 32

/* -------------------------------------------------------------- families */

typedef enum gl_store_family {
    GL_STORE_CF_META = 0,
    GL_STORE_CF_BLOCKS,
    GL_STORE_CF_TXS,
    GL_STORE_CF_TXHASH,
    GL_STORE_CF_EVENTS,
    GL_STORE_CF_TRANSFERS,
    GL_STORE_CF_APPEARANCES,
    GL_STORE_CF_CURSORS,
    GL_STORE_CF_FINDINGS,
    GL_STORE_CF_LABELS,
    GL_STORE_CF_ANALYSIS, /* schema 3: absent in a schema 2 store opened read-only */
} gl_store_family;
#define GL_STORE_CF_COUNT 11

/* The column family's name in RocksDB ("meta", "blocks", ...); NULL when
 * `cf` is out of range. */
const char *gl_store_family_name(gl_store_family cf);

/* --------------------------------------------------------------- records */

/* What was checked about a block (gl_store_block.verified). */
#define GL_STORE_BLOCK_HASH_OK      0x01u /* hash recomputed from the RLP header */
#define GL_STORE_BLOCK_PARENT_OK    0x02u /* parent hash equals the stored parent's hash */
#define GL_STORE_BLOCK_SENDERS_OK   0x04u /* every stored tx's sender recovered and matched */
#define GL_STORE_BLOCK_RECEIPTS_OK  0x08u /* logs proven against receiptsRoot */
#define GL_STORE_BLOCK_QUORUM_OK    0x10u /* two endpoints agreed on the hash */

typedef struct gl_store_block {
    uint64_t chain_id;
    uint64_t number;
    uint8_t hash[GL_STORE_HASH_LEN];
    uint8_t parent_hash[GL_STORE_HASH_LEN];
    uint64_t timestamp; /* seconds since 1970, as in the header */
    uint32_t verified;  /* GL_STORE_BLOCK_* */
} gl_store_block;

/* gl_store_tx.flags */
#define GL_STORE_TX_SENDER_OK       0x01u /* sender recovered from the signature, equals `from` */
#define GL_STORE_TX_SENDER_MISMATCH 0x02u /* recovered sender differs (a finding holds both) */
#define GL_STORE_TX_FAILED          0x04u /* receipt status 0 */
/* Imported from a file (`gpuledger import`), nothing checked: no sender
 * recovered, no block hash recomputed.  Never set with SENDER_OK; every
 * output (export, db stats) says so. */
#define GL_STORE_TX_IMPORTED        0x08u

typedef struct gl_store_tx {
    uint64_t chain_id;
    uint64_t block;
    uint32_t index; /* position in the block */
    uint8_t hash[GL_STORE_HASH_LEN];
    uint8_t from[GL_STORE_ADDR_LEN];
    bool has_to;    /* false: contract creation */
    uint8_t to[GL_STORE_ADDR_LEN];
    gl_u256 value;
    uint32_t flags; /* GL_STORE_TX_* */
} gl_store_tx;

/* A place in a chain.  Sorted (as keys are) by chain, block, kind, index, sub.
 *   GL_STORE_POS_TX     a transaction: index = tx index, sub = 0
 *   GL_STORE_POS_LOG    a log: index = block-wide log index, sub = item within
 *                       the log (an ERC-1155 TransferBatch element), else 0
 *   GL_STORE_POS_TRACE  an internal call: index = tx index, sub = the call's
 *                       number in the tx's trace (depth-first, from 1) */
typedef enum gl_store_pos_kind {
    GL_STORE_POS_TX = 0,
    GL_STORE_POS_LOG = 1,
    GL_STORE_POS_TRACE = 2,
} gl_store_pos_kind;

typedef struct gl_store_pos {
    uint64_t chain_id;
    uint64_t block;
    gl_store_pos_kind kind;
    uint32_t index;
    uint32_t sub;
} gl_store_pos;

/* What an address is at a position.  Stored as one byte: values are stable
 * across versions (append only). */
typedef enum gl_store_role {
    GL_STORE_ROLE_TX_FROM = 1,     /* signer of the transaction */
    GL_STORE_ROLE_TX_TO = 2,       /* callee of the transaction */
    GL_STORE_ROLE_SENDER = 3,      /* a transfer's from */
    GL_STORE_ROLE_RECIPIENT = 4,   /* a transfer's to */
    GL_STORE_ROLE_BUYER = 5,       /* pays for compute (tenant, gateway, requestor, user) */
    GL_STORE_ROLE_PROVIDER = 6,    /* sells compute (orchestrator, provider, cp) */
    GL_STORE_ROLE_PAYER = 7,       /* funds a purchase on someone's behalf */
    GL_STORE_ROLE_FUNDER = 8,      /* funds a deposit (Golem id >> 96) */
    GL_STORE_ROLE_SPENDER = 9,     /* may spend a deposit */
    GL_STORE_ROLE_BENEFICIARY = 10,/* receives a reward on another's behalf */
    GL_STORE_ROLE_CONTRACT = 11,   /* emitted the event */
    GL_STORE_ROLE_TOKEN = 12,      /* the token contract of a transfer or price */
    GL_STORE_ROLE_OWNER = 13,      /* owns a deal or lease contract */
} gl_store_role;
#define GL_STORE_ROLE_LAST GL_STORE_ROLE_OWNER

/* "tx_from", "buyer", ...; NULL for a value that is not a role. */
const char *gl_store_role_name(gl_store_role role);
/* The role named `name`: GL_EINVAL naming it when there is none. */
gl_code gl_store_role_parse(const char *name, gl_store_role *out /* OUT */, gl_err *err);

typedef struct gl_store_role_addr {
    gl_store_role role;
    uint8_t addr[GL_STORE_ADDR_LEN];
} gl_store_role_addr;

typedef struct gl_store_id {
    char name[GL_STORE_NAME_MAX]; /* "leaseId", "orderId", "taskUid" (a keccak hash), ... */
    uint8_t value[32];            /* big-endian uint256, or the 32-byte hash */
} gl_store_id;

/* gl_store_event.verified */
#define GL_STORE_EVENT_SENDER_OK 0x01u /* the tx's sender was recovered and matched */
#define GL_STORE_EVENT_PROVEN    0x02u /* the log was proven against receiptsRoot */
#define GL_STORE_EVENT_DISPUTED  0x04u /* endpoints disagreed; a finding holds the evidence */

/* A decoded marketplace event.  Optional fields: has_* flags, empty strings
 * and zero counts mean "the chain does not record it". */
typedef struct gl_store_event {
    uint64_t chain_id;
    uint64_t block;
    uint32_t log_index;              /* block-wide */
    char platform[GL_STORE_NAME_MAX];/* bound to chain_id, see the top */
    char name[GL_STORE_NAME_MAX];    /* "LeaseCreated", ... */
    uint8_t contract[GL_STORE_ADDR_LEN];
    uint8_t tx_hash[GL_STORE_HASH_LEN];
    uint32_t tx_index;
    bool has_tx_from;
    uint8_t tx_from[GL_STORE_ADDR_LEN];
    size_t n_roles;
    gl_store_role_addr roles[GL_STORE_EVENT_ROLES_MAX];
    bool has_amount;
    gl_u256 amount;                  /* in the token's smallest unit */
    bool has_token;
    uint8_t token[GL_STORE_ADDR_LEN];/* absent with has_amount: the native coin */
    size_t n_ids;
    gl_store_id ids[GL_STORE_EVENT_IDS_MAX];
    char gpu_model[GL_STORE_TEXT_MAX];
    uint32_t gpu_count;
    uint64_t duration_s;
    uint64_t gpu_mhours;             /* GPU-hours in thousandths */
    uint32_t verified;               /* GL_STORE_EVENT_* */
} gl_store_event;

typedef enum gl_store_asset {
    GL_STORE_ASSET_NATIVE = 0,
    GL_STORE_ASSET_ERC20 = 1,
    GL_STORE_ASSET_ERC721 = 2,
    GL_STORE_ASSET_ERC1155 = 3,
} gl_store_asset;

typedef struct gl_store_transfer {
    gl_store_pos pos;   /* TX or TRACE for native transfers, LOG for tokens */
    gl_store_asset asset;
    uint8_t token[GL_STORE_ADDR_LEN]; /* zero for native */
    uint8_t from[GL_STORE_ADDR_LEN];
    uint8_t to[GL_STORE_ADDR_LEN];
    gl_u256 amount;     /* 1 for ERC-721 */
    gl_u256 token_id;   /* ERC-721 / ERC-1155, else zero */
    uint8_t tx_hash[GL_STORE_HASH_LEN];
    uint32_t flags;     /* GL_STORE_TX_* of the carrying tx */
} gl_store_transfer;

typedef struct gl_store_appearance {
    uint8_t addr[GL_STORE_ADDR_LEN];
    gl_store_pos pos;
    gl_store_role role;
} gl_store_appearance;

typedef struct gl_store_cursor {
    uint64_t chain_id;
    char name[GL_STORE_NAME_MAX]; /* the platform name */
    uint64_t block;               /* last block whose records are all stored */
    uint8_t hash[GL_STORE_HASH_LEN]; /* its hash; zero when unknown */
} gl_store_cursor;

typedef struct gl_store_finding {
    uint64_t chain_id;
    uint64_t block;
    uint32_t seq;   /* 0, 1, ... within the block, in commit order */
    json_t *json;   /* an object; the reader owns the reference */
} gl_store_finding;

typedef struct gl_store_label {
    uint8_t addr[GL_STORE_ADDR_LEN];
    char source[GL_STORE_TEXT_MAX];   /* where it came from: "ofac-sdn-2024-05.csv" */
    char label[GL_STORE_TEXT_MAX];    /* "Binance 14" */
    char category[GL_STORE_NAME_MAX]; /* "exchange", "bridge", "mixer", "sanctioned", ... */
    uint16_t confidence;              /* thousandths, 0..1000 */
} gl_store_label;

/* ----------------------------------------------------------- open, close */

typedef struct gl_store gl_store;

typedef struct gl_store_binding {
    const char *platform;
    uint64_t chain_id;
} gl_store_binding;

typedef struct gl_store_open_opts {
    bool create;            /* make a new store when dir is missing or empty,
                               and finish one whose creation was interrupted */
    bool read_only;         /* never write; batches then fail */
    const char *created_by; /* recorded at creation (NULL: "gpuledger") */
    const gl_store_binding *bindings; /* platforms the caller will use: each */
    size_t n_bindings;                /* must be unbound or bound to that chain */
    bool bulk_write;        /* a writer that puts many records and reads few
                               back (the indexer): the record families
                               (txs, txhash, events, transfers, appearances)
                               keep unflushed puts unsorted,
                               which makes puts cheap and reads of unflushed
                               records slow (each read sorts a copy).  Its
                               appearance keys are gathered and written as
                               sorted table files (ingest_keys at a time, and
                               at close); a marker written with each batch
                               lets a read-write open derive again whatever a
                               kill left out.  A batch's events and transfers,
                               when there are ingest_keys / 256 or more of a
                               family, go in as a table file before the batch
                               (see gl_store_records_ahead for a kill in
                               between).  What is stored is the same either
                               way */
    size_t ingest_keys;     /* bulk_write: appearance keys per table file
                               (0: GL_STORE_INGEST_KEYS_DEFAULT); a batch
                               with fewer than ingest_keys / 64 keys (a
                               follower at the head) writes everything
                               gathered so far, then its own keys as an
                               ordinary batch does */
} gl_store_open_opts;

/* 2^18 keys of 46 bytes: a 12 MB buffer, and table files large enough that
 * compacting them stays cheap. */
#define GL_STORE_INGEST_KEYS_DEFAULT ((size_t)1 << 18)

/* Open (or with opts->create, create) the store in directory `dir`.  opts
 * may be NULL: open an existing store read-write.
 *
 * Returns NULL on failure, with err (GL_EDB unless said) naming the
 * directory and the problem; in every refusal below the directory and its
 * files are left exactly as they were:
 *   - dir missing or empty without opts->create, or not a directory;
 *   - dir holds files but no RocksDB database ("not a gpuledger store");
 *   - a RocksDB database of something else (no gpuledger meta);
 *   - a store of a newer schema ("written by a newer gpuledger");
 *   - a store whose creation was interrupted, without opts->create;
 *   - damage RocksDB detects at open (paranoid checks: MANIFEST, WAL, table
 *     footers and index blocks), reported as "store 'X' is damaged: ...";
 *   - a binding in opts that conflicts: "store 'X' holds chain 1 for
 *     platform 'golem-polygon', not 137";
 *   - another process has the store open read-write ("in use");
 *   GL_EINVAL for a NULL dir or a bad binding name, GL_EIO when the
 *   directory cannot be read or created, GL_ENOMEM. */
gl_store *gl_store_open(const char *dir, const gl_store_open_opts *opts, gl_err *err);

/* Write what a bulk writer has gathered (see bulk_write) and drop the
 * marker: a writer that wants to know calls this before gl_store_close.
 * GL_EDB naming the failure, the marker then kept for the next read-write
 * open to derive the keys; GL_ENOMEM. */
gl_code gl_store_write_gathered(gl_store *s, gl_err *err);

/* Start writing what a bulk writer has gathered (at least ingest_keys /
 * 64 keys) on its file thread, after waiting for a file already being
 * written, and return: a writer that knows its run is about to end calls
 * this before its last batches, so that gl_store_write_gathered has only
 * their keys left to write (the indexer, before its last range: the end of
 * a 200k-event run waited ~60 ms for a whole file).  Errors as
 * gl_store_write_gathered's, for a file that failed before. */
gl_code gl_store_write_gathered_begin(gl_store *s, gl_err *err);

/* Blocks of a chain, first to last. */
typedef struct gl_store_span {
    uint64_t chain_id, first, last;
} gl_store_span;

/* The blocks whose records a bulk writer committed but whose appearances it
 * did not write (killed before its table file: see bulk_write), up to max
 * spans into out, *n of them (0: none pending).  A read-write open derives
 * them.  GL_EDB when the marker is damaged. */
gl_code gl_store_pending_appearances(gl_store *s, gl_store_span *out, size_t max, size_t *n /* OUT */,
                                     gl_err *err);

/* Spans of blocks whose events or transfers a bulk writer wrote as table
 * files but whose batch (and cursor) it did not commit (killed in between:
 * see bulk_write), up to max into out, *n of them (0: none).  A read-write
 * open rolls each chain back to its span's first block, as a reorg would,
 * so every platform indexing that chain resumes from there.  GL_EDB when
 * the marker is damaged. */
gl_code gl_store_records_ahead(gl_store *s, gl_store_span *out, size_t max, size_t *n /* OUT */, gl_err *err);

/* ------------------------------------------ a damaged log, and recovery
 *
 * Every open replays the write-ahead log in RocksDB's
 * kTolerateCorruptedTailRecords mode: a torn last write (kill -9, a full
 * disk) is dropped, as it was never committed, but a record that fails its
 * checksum anywhere refuses the open.  (Point-in-time recovery, RocksDB's
 * default, would keep the records before the damage and drop every
 * committed batch after it without a word: a store of 10 events read as 4.)
 * gl_store_open then says what the readable part holds and what to run;
 * gl_store_wal_check says it in data, and gl_store_recover keeps the
 * readable part and records what was lost (docs/STORE.md, "A damaged
 * write-ahead log"). */

#define GL_STORE_REPORT_CURSORS 64

/* A cursor as the damaged log tells it. */
typedef struct gl_store_wal_cursor {
    uint64_t chain_id;
    char name[GL_STORE_NAME_MAX];
    bool kept;            /* the part before the damage holds this cursor */
    uint64_t kept_block;  /* ... at this block */
    bool reached;         /* the log's readable records, those past the
                             damage included, hold it */
    uint64_t reached_block; /* ... at this block: how far the store had got
                             at least (RocksDB skips the rest of the log's
                             32 KiB block that holds the damage) */
} gl_store_wal_cursor;

typedef struct gl_store_wal_report {
    bool damaged;         /* false: the log is sound to its end */
    char damage[160];     /* RocksDB's words, "Corruption: checksum mismatch" */
    bool later_known;     /* the records past the damage could be read
                             (RocksDB's kSkipAnyCorruptedRecords): the
                             reached fields and later_records are set */
    size_t n;             /* cursors in `cursors` */
    size_t n_more;        /* cursors that did not fit */
    gl_store_wal_cursor cursors[GL_STORE_REPORT_CURSORS];
    uint64_t kept_records[GL_STORE_CF_COUNT];  /* records before the damage */
    uint64_t later_records[GL_STORE_CF_COUNT]; /* with those past it (later_known) */
    char kept_log[256];   /* gl_store_recover: where the damaged log was copied */
} gl_store_wal_report;

/* Check the write-ahead log of the store in `dir` to its end, read-only
 * (no file is written).  GL_OK with out->damaged false when it is sound;
 * GL_OK with out->damaged true and the cursors before and past the damage
 * when a record in it is damaged; the open's error (GL_EDB naming the
 * problem: not a store, damage outside the log, ...) otherwise. */
gl_code gl_store_wal_check(const char *dir, gl_store_wal_report *out /* OUT */, gl_err *err);

/* Recover the store in `dir` from a damaged write-ahead log: copy the log
 * files into dir/damaged-wal-<UTC time>/ (evidence, never read again by the
 * store), open with point-in-time recovery (the records before the damage
 * kept, the rest dropped), make the appearances from each chain's lowest
 * cursor on exactly those its records imply (a bulk writer's table files
 * are outside the log), and record in meta 'recovered', in the same batch,
 * that every platform may have lost the blocks after its cursor (see
 * gl_store_lost_spans): the log cannot say which batches the damage took.
 * The store then opens as usual and verifies (gl_store_verify), or the
 * error says why not.
 * out is the report of gl_store_wal_check, kept_log set.  GL_OK with
 * out->damaged false when the log is sound (nothing done); GL_EDB when the
 * store cannot be opened even so (damage outside the log) or is in use. */
gl_code gl_store_recover(const char *dir, gl_store_wal_report *out /* OUT */, gl_err *err);

/* A span of blocks lost to a damaged log, per platform (meta 'recovered'). */
typedef struct gl_store_lost {
    uint64_t chain_id;
    char platform[GL_STORE_NAME_MAX];
    uint64_t first;       /* the first block lost */
    bool last_known;
    uint64_t last;        /* the last (how far the store had got), if known */
    bool has_cursor;
    uint64_t cursor;      /* the platform's cursor now */
    bool covered;         /* indexed again since: the cursor is at or past
                             `last` (past first - 1 when last is unknown) */
} gl_store_lost;

/* Every span the store's recoveries lost, up to max into out, *n of them
 * (0: never recovered), with whether an index run has covered it since.
 * *open_spans (may be NULL) counts those not covered: while it is not 0
 * the store is known to lack records (db stats, db check and exports say
 * so).  GL_EDB when the marker is damaged. */
gl_code gl_store_lost_spans(gl_store *s, gl_store_lost *out, size_t max, size_t *n /* OUT */,
                            size_t *open_spans /* OUT */, gl_err *err);

/* Close and free.  Committed batches are already durable.  A bulk writer's
 * gathered appearances are written here (a failure leaves them marked, for
 * the next read-write open to derive).  NULL is a no-op.  Cannot fail. */
void gl_store_close(gl_store *s);

/* The directory the store was opened from. */
const char *gl_store_dir(const gl_store *s);
/* The schema version of the store as opened: GL_STORE_SCHEMA_VERSION, or 1
 * or 2 for an older store opened read-only (read-write opens migrate it). */
unsigned gl_store_schema_version(const gl_store *s);

/* Does the store have the analysis family?  False only for a schema 1 or 2
 * store opened read-only: its analysis reads then find nothing and its
 * analysis iterators are empty. */
bool gl_store_has_analysis_family(const gl_store *s);

/* The chain id `platform` is bound to: GL_OK with *found false when unbound;
 * GL_EINVAL for a bad name. */
gl_code gl_store_get_binding(gl_store *s, const char *platform, uint64_t *chain_id /* OUT */,
                             bool *found /* OUT */, gl_err *err);

/* Every platform -> chain binding the store holds, as a fresh array the
 * caller frees (names are copied into `names`, a parallel array of
 * GL_STORE_NAME_MAX-byte slots, also freed by the caller; either OUT may be
 * NULL when not wanted).  *n = 0 and NULLs for an empty store.  GL_ENOMEM. */
gl_code gl_store_list_bindings(gl_store *s, uint64_t **chain_ids /* OUT */,
                               char (**names)[GL_STORE_NAME_MAX] /* OUT */, size_t *n /* OUT */,
                               gl_err *err);

/* The stored hash of `platform`'s definition (see
 * gl_store_batch_set_platform_hash): *found false when none; GL_EDB when
 * the read fails. */
gl_code gl_store_get_platform_hash(gl_store *s, const char *platform,
                                   uint8_t hash[GL_STORE_HASH_LEN] /* OUT */, bool *found /* OUT */,
                                   gl_err *err);

/* The stored canonical JSON of `platform`'s definition (see
 * gl_store_batch_set_platform_def): *json a malloc'd NUL-terminated copy
 * the caller frees, NULL when none is stored (a store indexed before
 * definitions were kept).  Its keccak-256 is checked against the stored
 * definition hash: GL_EDB "store 'X' is damaged: definition of 'P' does
 * not match its hash" when they differ (or the hash is missing); GL_EDB
 * when the read fails; GL_EINVAL for a bad name; GL_ENOMEM. */
gl_code gl_store_get_platform_def(gl_store *s, const char *platform, char **json /* OUT */,
                                  gl_err *err);

/* The creator string recorded at creation, into out (cap bytes). */
gl_code gl_store_get_created_by(gl_store *s, char *out /* OUT */, size_t cap, gl_err *err);

/* ---------------------------------------------------------------- batches */

typedef struct gl_store_batch gl_store_batch;

/* A new, empty batch on `s`.  NULL with GL_ENOMEM, or GL_EINVAL when the
 * store was opened read-only. */
gl_store_batch *gl_store_batch_new(gl_store *s, gl_err *err);

/* Free a batch; what was not committed is dropped.  NULL is a no-op. */
void gl_store_batch_free(gl_store_batch *b);

/* Number of records put into the batch since it was made or last committed
 * (a tx counts once, a rollback once). */
size_t gl_store_batch_count(const gl_store_batch *b);

/* The puts.  Each validates the whole record first and on failure leaves the
 * batch as it was: GL_EINVAL for chain id 0, a name empty, too long or with
 * bytes outside 0x21..0x7e, an unknown role, kind or asset, too many roles or
 * ids, a label confidence above 1000, a finding that is not a JSON object;
 * GL_ENOMEM.  A later put of the same key replaces the earlier one. */
gl_code gl_store_batch_put_block(gl_store_batch *b, const gl_store_block *blk, gl_err *err);
/* Events, transfers and txs also write the appearances they imply (and a tx
 * its txhash lookup).  The store is the only writer of appearances, so that
 * a rollback can find them again from the records it removes:
 *   event     the emitting contract (contract) and every role address, at
 *             the log's position;
 *   transfer  from (sender), to (recipient) and, for a token, the token
 *             (token), at the transfer's position;
 *   tx        from (tx_from) and to (tx_to, not for a creation), at the
 *             tx's position;
 * the zero address never (it is the other side of every mint and burn).
 * A record put again with other addresses leaves the old addresses'
 * appearances behind (gl_store_verify names them). */
gl_code gl_store_batch_put_tx(gl_store_batch *b, const gl_store_tx *tx, gl_err *err);
/* Binds ev->platform to ev->chain_id: a conflict with the store or with an
 * earlier put of this batch is refused at once with GL_EDB (naming both
 * chain ids), and checked again at commit.  The same holds for
 * gl_store_batch_set_cursor and gl_store_batch_set_platform_hash. */
gl_code gl_store_batch_put_event(gl_store_batch *b, const gl_store_event *ev, gl_err *err);
gl_code gl_store_batch_put_transfer(gl_store_batch *b, const gl_store_transfer *t, gl_err *err);
/* Appearance keys put into the batch since it was made or last committed:
 * what a caller reports as "appearances". */
uint64_t gl_store_batch_appearances(const gl_store_batch *b);
/* Appends a finding (a JSON object, stored compact with sorted keys) at
 * chain/block with the next free seq (after those stored and those already
 * in this batch; 0 for a block this batch rolled back), which goes to *seq
 * when seq is not NULL.  GL_EDB when the last stored seq cannot be read,
 * GL_ERANGE when the block has used every seq. */
gl_code gl_store_batch_put_finding(gl_store_batch *b, uint64_t chain_id, uint64_t block,
                                   const json_t *finding, uint32_t *seq /* OUT */, gl_err *err);
/* Adds or replaces the label of (addr, source). */
gl_code gl_store_batch_put_label(gl_store_batch *b, const gl_store_label *l, gl_err *err);
/* Sets the cursor of platform `name` on `chain_id`; binds the name. */
gl_code gl_store_batch_set_cursor(gl_store_batch *b, uint64_t chain_id, const char *name,
                                  uint64_t block, const uint8_t hash[GL_STORE_HASH_LEN],
                                  gl_err *err);
/* Records the keccak-256 of `platform`'s definition file; binds the name.
 * A writer records the definition itself (gl_store_batch_set_platform_def)
 * in the same batch. */
gl_code gl_store_batch_set_platform_hash(gl_store_batch *b, const char *platform,
                                         uint64_t chain_id,
                                         const uint8_t hash[GL_STORE_HASH_LEN], gl_err *err);
/* Records `platform`'s definition as its canonical JSON text (compact, keys
 * sorted: the bytes whose keccak-256 is the hash, gl_platform.canonical);
 * binds the name.  Put it in the batch that sets the hash: a reader checks
 * one against the other.  GL_EINVAL for chain id 0, a bad name, or a NULL
 * or empty text; GL_EDB for a binding conflict. */
gl_code gl_store_batch_set_platform_def(gl_store_batch *b, const char *platform,
                                        uint64_t chain_id, const char *canonical_json,
                                        gl_err *err);

/* The analyzer's results (the analysis family, docs/STORE.md): keys of 1 to
 * GL_STORE_ANALYSIS_KEY_MAX bytes, values of any length, both opaque to the
 * store (analyzer/results.c lays them out).  Rollbacks leave them alone.
 * The put: GL_EINVAL for a NULL or bad-length key (or a NULL value with a
 * length), the batch unchanged; a later put of the same key wins. */
gl_code gl_store_batch_put_analysis(gl_store_batch *b, const void *key, size_t klen,
                                    const void *val, size_t vlen, gl_err *err);
/* Deletes every analysis record, in this batch (one range delete): puts
 * made later in the same batch survive, earlier ones go with the rest.
 * Cannot fail but for a NULL batch (GL_EINVAL). */
gl_code gl_store_batch_clear_analysis(gl_store_batch *b, gl_err *err);

/* Adds to the batch the removal of everything of chain `chain_id` at blocks
 * >= from_block: range deletes in blocks, txs, events, transfers and
 * findings, point deletes of the txhash entries that point into the range
 * and of the appearances its events, transfers and txs imply (read from the
 * store now), and every cursor of the
 * chain at or past from_block moved back to from_block - 1 with that block's
 * stored hash (zero hash when it is not stored; the cursor is deleted when
 * from_block is 0).  Puts made later in the same batch survive, so a reorg
 * and the new fork's blocks can commit as one write.
 * GL_EINVAL when the batch already holds puts (a rollback must come first,
 * or entries put before it would escape it) or chain_id is 0; GL_EDB when
 * the store cannot be read. */
gl_code gl_store_batch_rollback(gl_store_batch *b, uint64_t chain_id, uint64_t from_block,
                                gl_err *err);

/* Write the batch atomically and durably (WAL, fsync) and empty it for reuse.
 * The bindings it implies are checked first: a platform name used with
 * another chain id than the one it is bound to (in the store or earlier in
 * this batch) refuses the whole batch with GL_EDB ("store 'X' holds chain 1
 * for platform 'p', not 137").  GL_EDB also when RocksDB fails the write.
 * On failure nothing is written and the batch is left as it was. */
gl_code gl_store_batch_commit(gl_store_batch *b, gl_err *err);

/* gl_store_batch_rollback + commit in one call. */
gl_code gl_store_rollback(gl_store *s, uint64_t chain_id, uint64_t from_block, gl_err *err);

/* ---------------------------------------------------------------- reading */

/* Point reads.  GL_OK with *found false when the record does not exist;
 * GL_EDB when the read fails or the stored bytes do not decode (damage);
 * GL_EINVAL for a bad name. */
gl_code gl_store_get_block(gl_store *s, uint64_t chain_id, uint64_t number,
                           gl_store_block *out /* OUT */, bool *found /* OUT */, gl_err *err);
gl_code gl_store_get_tx(gl_store *s, uint64_t chain_id, uint64_t block, uint32_t index,
                        gl_store_tx *out /* OUT */, bool *found /* OUT */, gl_err *err);
gl_code gl_store_get_tx_by_hash(gl_store *s, uint64_t chain_id,
                                const uint8_t hash[GL_STORE_HASH_LEN], gl_store_tx *out /* OUT */,
                                bool *found /* OUT */, gl_err *err);
gl_code gl_store_get_event(gl_store *s, uint64_t chain_id, uint64_t block, uint32_t log_index,
                           gl_store_event *out /* OUT */, bool *found /* OUT */, gl_err *err);
gl_code gl_store_get_cursor(gl_store *s, uint64_t chain_id, const char *name,
                            gl_store_cursor *out /* OUT */, bool *found /* OUT */, gl_err *err);
/* The analysis family replaced by records written straight to table files
 * (indexer/store_analysis.c): no write-ahead log, no memtable, no flush.
 * Puts must come in strictly ascending key order (memcmp, shorter first);
 * nothing is visible until commit, which clears the family and takes the
 * files in as one step (a crash before it leaves the old analysis, a crash
 * inside it none).  Files a crashed writer left are removed by the next
 * writer.  A failed put or commit leaves the writer failed: free it. */
typedef struct gl_store_analysis_writer gl_store_analysis_writer;
gl_store_analysis_writer *gl_store_analysis_writer_new(gl_store *s, gl_err *err);
gl_code gl_store_analysis_writer_put(gl_store_analysis_writer *w, const void *key, size_t klen, const void *val,
                                     size_t vlen, gl_err *err);
gl_code gl_store_analysis_writer_commit(gl_store_analysis_writer *w, gl_err *err);
void gl_store_analysis_writer_free(gl_store_analysis_writer *w);

/* RocksDB's latest sequence number: every committed put or delete (and
 * every ingested file) moves it on, so an analysis can tell whether
 * anything was written after it.  Cannot fail. */
uint64_t gl_store_latest_sequence(gl_store *s);

/* Iterators made from now on read `bytes` ahead and leave RocksDB's block
 * cache alone (0: RocksDB's defaults again).  For a reader about to walk
 * whole families once (the analyzer's load), not for short range reads. */
void gl_store_set_scan_readahead(gl_store *s, size_t bytes);

/* The analysis record at `key` (1..255 bytes): *val a malloc'd copy the
 * caller frees and *vlen its length, or *val NULL (and *vlen 0) when absent,
 * also in a store without the family.  GL_EINVAL for a bad key, GL_EDB when
 * the read fails. */
gl_code gl_store_get_analysis(gl_store *s, const void *key, size_t klen, char **val /* OUT */,
                              size_t *vlen /* OUT */, gl_err *err);

/* The transfer at `pos` (an importer compares what it would write with what
 * is stored).  GL_EINVAL for a bad position (chain 0, unknown kind). */
gl_code gl_store_get_transfer(gl_store *s, const gl_store_pos *pos, gl_store_transfer *out /* OUT */,
                              bool *found /* OUT */, gl_err *err);

/* Iterators over key ranges, in key order.  Block ranges are inclusive at
 * both ends.  The constructors return NULL with GL_ENOMEM or GL_EINVAL.
 * Each gl_store_next_X fills *out and sets *end false, or sets *end true
 * when the range is exhausted; GL_EDB when RocksDB reports an error
 * (corruption included) or a record does not decode, GL_EINVAL when the
 * iterator is of another kind.  An iterator sees the store as it was when it
 * was made. */
typedef struct gl_store_iter gl_store_iter;

gl_store_iter *gl_store_iter_blocks(gl_store *s, uint64_t chain_id, uint64_t from, uint64_t to,
                                    gl_err *err);
gl_store_iter *gl_store_iter_txs(gl_store *s, uint64_t chain_id, uint64_t from, uint64_t to,
                                 gl_err *err);
gl_store_iter *gl_store_iter_events(gl_store *s, uint64_t chain_id, uint64_t from, uint64_t to,
                                    gl_err *err);
gl_store_iter *gl_store_iter_transfers(gl_store *s, uint64_t chain_id, uint64_t from,
                                       uint64_t to, gl_err *err);
gl_store_iter *gl_store_iter_findings(gl_store *s, uint64_t chain_id, uint64_t from, uint64_t to,
                                      gl_err *err);
/* Every appearance of `addr`, on every chain, ordered by chain and block. */
gl_store_iter *gl_store_iter_appearances(gl_store *s, const uint8_t addr[GL_STORE_ADDR_LEN],
                                         gl_err *err);
/* The labels of `addr`, or of every address when addr is NULL. */
gl_store_iter *gl_store_iter_labels(gl_store *s, const uint8_t *addr, gl_err *err);
/* Every cursor of every chain. */
gl_store_iter *gl_store_iter_cursors(gl_store *s, gl_err *err);
/* Every analysis record whose key starts with `prefix` (plen 0..255 bytes;
 * 0: all), in key order; empty in a store without the family. */
gl_store_iter *gl_store_iter_analysis(gl_store *s, const void *prefix, size_t plen, gl_err *err);

gl_code gl_store_next_block(gl_store_iter *it, gl_store_block *out, bool *end, gl_err *err);
gl_code gl_store_next_tx(gl_store_iter *it, gl_store_tx *out, bool *end, gl_err *err);
gl_code gl_store_next_event(gl_store_iter *it, gl_store_event *out, bool *end, gl_err *err);
gl_code gl_store_next_transfer(gl_store_iter *it, gl_store_transfer *out, bool *end, gl_err *err);
/* out->json is a new reference: json_decref it. */
gl_code gl_store_next_finding(gl_store_iter *it, gl_store_finding *out, bool *end, gl_err *err);
gl_code gl_store_next_appearance(gl_store_iter *it, gl_store_appearance *out, bool *end,
                                 gl_err *err);
gl_code gl_store_next_label(gl_store_iter *it, gl_store_label *out, bool *end, gl_err *err);
gl_code gl_store_next_cursor(gl_store_iter *it, gl_store_cursor *out, bool *end, gl_err *err);
/* The next analysis record: *key, *klen and *val, *vlen point into the
 * iterator and stay valid until the next call on it or its free.  A stored
 * key of a bad length is damage (GL_EDB). */
gl_code gl_store_next_analysis(gl_store_iter *it, const uint8_t **key, size_t *klen,
                               const uint8_t **val, size_t *vlen, bool *end, gl_err *err);

/* NULL is a no-op. */
void gl_store_iter_free(gl_store_iter *it);

/* ------------------------------------------------------- stats and checks */

typedef struct gl_store_stats {
    uint64_t records[GL_STORE_CF_COUNT]; /* exact, by a full scan of each family */
    uint64_t sst_bytes[GL_STORE_CF_COUNT]; /* table files on disk (memtables excluded) */
    uint64_t imported_txs;       /* txs with GL_STORE_TX_IMPORTED (read from their flags) */
    uint64_t imported_transfers; /* transfers with GL_STORE_TX_IMPORTED */
} gl_store_stats;

/* Count every family's records, and the txs and transfers flagged
 * imported (their flags word, read without decoding the rest).  GL_EDB
 * when a scan fails. */
gl_code gl_store_stats_get(gl_store *s, gl_store_stats *out /* OUT */, gl_err *err);

/* The number of records of one family, as gl_store_stats_get counts them
 * (a scan of its keys), without scanning the others: the analyzer's stamp
 * needs five families, and the appearances alone hold several keys per
 * transfer.  GL_EINVAL for a bad family, GL_EDB when the scan fails. */
gl_code gl_store_count(gl_store *s, gl_store_family cf, uint64_t *n /* OUT */, gl_err *err);

/* Read every record of every family with checksums verified and decode it,
 * and check that every appearance is implied by a record at its position
 * and every record's appearances are there.  GL_EDB naming the first
 * problem ("store 'X' is damaged: ..."). */
gl_code gl_store_verify(gl_store *s, gl_err *err);

/* -------------------------------------- key and value layouts (docs/STORE.md)
 * The byte layouts, exposed so that tools and tests can read a store with
 * plain RocksDB.  Encoders append to `out` (GL_EINVAL for a record that fails
 * validation, GL_ENOMEM); decoders fill the record from exact bytes and fail
 * with GL_EINVAL naming what is wrong (length, tag, value). */

#define GL_STORE_BLOCK_KEY_LEN 16      /* chain | number */
#define GL_STORE_BLOCK_VAL_LEN 76
#define GL_STORE_TX_KEY_LEN 20         /* chain | block | index */
#define GL_STORE_TX_VAL_LEN 109
#define GL_STORE_TXHASH_KEY_LEN 40     /* chain | hash */
#define GL_STORE_TXHASH_VAL_LEN 12     /* block | index */
#define GL_STORE_EVENT_KEY_LEN 20      /* chain | block | log index */
#define GL_STORE_POS_LEN 25            /* chain | block | kind | index | sub */
#define GL_STORE_TRANSFER_VAL_LEN 161
#define GL_STORE_APPEARANCE_KEY_LEN 46 /* address | pos | role */
#define GL_STORE_FINDING_KEY_LEN 20    /* chain | block | seq */
#define GL_STORE_CURSOR_VAL_LEN 40     /* block | hash */
/* The first byte of every TLV value (events, labels). */
#define GL_STORE_TLV_FORMAT 1

/* Big-endian integers, as every key and value holds them.  Inline: the
 * indexer reads and writes them a few million times a run (one call each
 * was ~2% of its CPU); the loops compile to a byte swap. */
static inline void gl_store_be64_put(uint8_t out[8], uint64_t v)
{
    for (int i = 7; i >= 0; i--) {
        out[i] = (uint8_t)(v & 0xff);
        v >>= 8;
    }
}

static inline uint64_t gl_store_be64_get(const uint8_t in[8])
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = (v << 8) | in[i];
    return v;
}

static inline void gl_store_be32_put(uint8_t out[4], uint32_t v)
{
    out[0] = (uint8_t)(v >> 24);
    out[1] = (uint8_t)(v >> 16);
    out[2] = (uint8_t)(v >> 8);
    out[3] = (uint8_t)v;
}

static inline uint32_t gl_store_be32_get(const uint8_t in[4])
{
    return ((uint32_t)in[0] << 24) | ((uint32_t)in[1] << 16) | ((uint32_t)in[2] << 8) | in[3];
}

/* Is `name` a valid platform/cursor name (1..63 bytes in 0x21..0x7e)? */
bool gl_store_name_ok(const char *name);

void gl_store_key_block(uint8_t out[GL_STORE_BLOCK_KEY_LEN], uint64_t chain_id, uint64_t number);
void gl_store_key_tx(uint8_t out[GL_STORE_TX_KEY_LEN], uint64_t chain_id, uint64_t block,
                     uint32_t index);
void gl_store_key_event(uint8_t out[GL_STORE_EVENT_KEY_LEN], uint64_t chain_id, uint64_t block,
                        uint32_t log_index);
void gl_store_key_pos(uint8_t out[GL_STORE_POS_LEN], const gl_store_pos *pos);
gl_code gl_store_pos_decode(gl_store_pos *out, const uint8_t in[GL_STORE_POS_LEN], gl_err *err);
/* by_address: the appearances key (address first); else the same fields
 * block first (position, role, address: the layout of schema 1's
 * appear_pos family, kept for tools that sort appearances by block).
 * GL_EINVAL for a bad chain id, position kind or role. */
gl_code gl_store_key_appearance(uint8_t out[GL_STORE_APPEARANCE_KEY_LEN],
                                const gl_store_appearance *a, bool by_address, gl_err *err);
gl_code gl_store_appearance_decode(gl_store_appearance *out,
                                   const uint8_t in[GL_STORE_APPEARANCE_KEY_LEN], bool by_address,
                                   gl_err *err);

gl_code gl_store_block_encode(const gl_store_block *blk, uint8_t out[GL_STORE_BLOCK_VAL_LEN],
                              gl_err *err);
gl_code gl_store_block_decode(gl_store_block *out, const uint8_t *key, size_t klen,
                              const uint8_t *val, size_t vlen, gl_err *err);
gl_code gl_store_tx_encode(const gl_store_tx *tx, uint8_t out[GL_STORE_TX_VAL_LEN], gl_err *err);
gl_code gl_store_tx_decode(gl_store_tx *out, const uint8_t *key, size_t klen, const uint8_t *val,
                           size_t vlen, gl_err *err);
gl_code gl_store_transfer_encode(const gl_store_transfer *t,
                                 uint8_t out[GL_STORE_TRANSFER_VAL_LEN], gl_err *err);
gl_code gl_store_transfer_decode(gl_store_transfer *out, const uint8_t *key, size_t klen,
                                 const uint8_t *val, size_t vlen, gl_err *err);
gl_code gl_store_event_encode(const gl_store_event *ev, gl_buf *out, gl_err *err);
gl_code gl_store_event_decode(gl_store_event *out, const uint8_t *key, size_t klen,
                              const uint8_t *val, size_t vlen, gl_err *err);
gl_code gl_store_label_encode(const gl_store_label *l, gl_buf *out, gl_err *err);
gl_code gl_store_label_decode(gl_store_label *out, const uint8_t *key, size_t klen,
                              const uint8_t *val, size_t vlen, gl_err *err);
/* The cursor key is chain | name (no NUL). */
gl_code gl_store_key_cursor(gl_buf *out, uint64_t chain_id, const char *name, gl_err *err);
gl_code gl_store_cursor_decode(gl_store_cursor *out, const uint8_t *key, size_t klen,
                               const uint8_t *val, size_t vlen, gl_err *err);

#endif
