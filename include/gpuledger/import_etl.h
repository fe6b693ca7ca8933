/* import_etl.h - import ethereum-etl / BigQuery crypto_ethereum CSV exports
 * (token_transfers.csv, transactions.csv, traces.csv, blocks.csv) into the
 * store as transfers, txs and blocks flagged GL_STORE_TX_IMPORTED: read from
 * a file, nothing checked.  docs/IMPORT.md is the format and the mapping.
 *
 * Two phases, kept apart so that the first can be fuzzed without a store:
 *
 *   1. parse (gl_import_etl_parse_buf / _parse_file, then _resolve): every
 *      file is read completely and every row validated; the file kind comes
 *      from its header row; columns are matched by name (extra and newer
 *      columns are ignored, a missing required one is an error).  Resolve
 *      then checks the files against each other (one content per position,
 *      one hash and timestamp per block, trace trees complete) and builds
 *      the records.  Any error names the file, the line and the column, and
 *      nothing has been written.
 *   2. write (gl_import_etl_write): every record is first compared with
 *      what the store holds at its key (a conflict is an error before any
 *      write; an equal record is skipped, so importing a file again is a
 *      no-op; a record the indexer stored checked is kept), then the new
 *      ones are written in batches of GL_IMPORT_ETL_BATCH_RECORDS.
 *
 * Ownership: a gl_import_etl owns everything it parsed (memory grows with
 * the rows that yield records); nothing here prints or keeps global state.
 */
#ifndef GPULEDGER_IMPORT_ETL_H
#define GPULEDGER_IMPORT_ETL_H

#include <stddef.h>
#include <stdint.h>

#include "gpuledger/err.h"
#include "gpuledger/store.h"

/* Records per write batch.  An import up to this size is one RocksDB
 * WriteBatch: all or nothing.  A larger one is written in several, in key
 * order; a kill in between leaves a prefix, and running the same import
 * again writes the rest (what is stored compares equal and is skipped).
 * 100,000 transfers with their appearances are ~35 MB of batch. */
#define GL_IMPORT_ETL_BATCH_RECORDS 100000u

/* ethereum-etl's default for these exports: BigQuery's crypto_ethereum
 * dataset is Ethereum mainnet. */
#define GL_IMPORT_ETL_DEFAULT_CHAIN 1u

typedef enum gl_import_etl_kind {
    GL_IMPORT_ETL_TOKEN_TRANSFERS,
    GL_IMPORT_ETL_TRANSACTIONS,
    GL_IMPORT_ETL_TRACES,
    GL_IMPORT_ETL_BLOCKS,
} gl_import_etl_kind;

/* "token_transfers", "transactions", "traces", "blocks"; NULL otherwise. */
const char *gl_import_etl_kind_name(gl_import_etl_kind kind);

typedef struct gl_import_etl gl_import_etl;

typedef struct gl_import_etl_summary {
    /* parse and resolve */
    uint64_t files;
    uint64_t rows;             /* data rows read */
    uint64_t duplicate_rows;   /* a row equal to one already read (overlapping exports) */
    uint64_t token_transfers;  /* transfers at a log position */
    uint64_t tx_transfers;     /* native transfers at a tx position */
    uint64_t trace_transfers;  /* native transfers at a trace position */
    uint64_t txs;              /* tx records: value > 0, or carrying a transfer */
    uint64_t blocks;           /* block records (hash and timestamp known) */
    uint64_t creations_skipped;/* contract creations with value whose contract address the files do not give */
    /* write */
    uint64_t written;          /* records put */
    uint64_t already_stored;   /* equal to what the store holds: skipped */
    uint64_t kept_checked;     /* the store holds the same record checked by the indexer: kept */
    uint64_t no_timestamp;     /* transfers whose block has no known timestamp (imported anyway) */
    uint64_t batches;          /* batches committed */
    uint64_t files_seen_before;/* files whose digest the store already holds */
} gl_import_etl_summary;

/* A new, empty import for chain `chain_id` (not 0).  NULL with GL_EINVAL or
 * GL_ENOMEM. */
gl_import_etl *gl_import_etl_new(uint64_t chain_id, gl_err *err);

/* NULL is a no-op. */
void gl_import_etl_free(gl_import_etl *im);

/* Parse one whole file held in memory; `name` is what errors call it.
 * *kind (may be NULL) gets the kind its header names.  On failure
 * (GL_EINVAL "NAME:LINE: column 'C': ...", GL_ERANGE for a value past
 * 2^256 - 1 or a u32/u64 field, GL_ENOMEM) the import is unusable: free it. */
gl_code gl_import_etl_parse_buf(gl_import_etl *im, const char *name, const void *data, size_t len,
                                gl_import_etl_kind *kind /* OUT */, gl_err *err);

/* gl_import_etl_parse_buf on a file's whole contents (read into memory);
 * also records the file's keccak-256 (see gl_import_etl_write).  GL_EIO
 * naming the path when it cannot be read. */
gl_code gl_import_etl_parse_file(gl_import_etl *im, const char *path, gl_import_etl_kind *kind /* OUT */,
                                 gl_err *err);

/* Check the parsed files against each other and build the records (see
 * docs/IMPORT.md): two rows at one position with different content, two
 * hashes or timestamps for one block, a tx hash at two places, a trace
 * tree with a call missing are GL_EINVAL naming both files and lines.
 * Fills the parse half of *sum (may be NULL).  Once only; then the import
 * is unusable on failure. */
gl_code gl_import_etl_resolve(gl_import_etl *im, gl_import_etl_summary *sum /* OUT */, gl_err *err);

/* Write a resolved import into `s` (opened read-write, not bulk_write).
 * First every record is compared with the store: a different record at the
 * same key is GL_EVERIFY naming the file, line and position, and nothing is
 * written; an equal one is skipped; a txs or transfers record the indexer
 * stored (not imported) that says the same from, to, value and tx hash is
 * kept with its checks, as is a stored block with the same hash and
 * timestamp.  Then the rest goes in batches (GL_IMPORT_ETL_BATCH_RECORDS),
 * the last one binding each file's name in the store, "etl/" + the first
 * 16 bytes of its keccak-256 in hex, to the chain (docs/IMPORT.md).  A file
 * bound to another chain is GL_EINVAL before anything is written.  GL_EDB
 * from the store.  Fills the write half of *sum (may be NULL). */
gl_code gl_import_etl_write(gl_store *s, gl_import_etl *im, gl_import_etl_summary *sum /* OUT */, gl_err *err);

#endif
