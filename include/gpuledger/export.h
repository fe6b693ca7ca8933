/* export.h - stored events and transfers as flat records for tools
 * (pandas, DuckDB, spreadsheets): CSV (RFC 4180) or JSON Lines.
 *
 * One schema for both kinds of record: the same columns, in the same order,
 * whatever is exported, so that an events file and a transfers file can be
 * concatenated or unioned.  docs/EXPORT.md documents every column; the
 * order is stable (a new column is only ever appended).
 *
 * Values are exact: token amounts and ids are decimal strings written from
 * the 256-bit integers, hours are plain decimals (never scientific
 * notation), addresses and hashes are lowercase 0x-hex.  A value that is
 * not known is an empty CSV field and a JSON null; every JSON object has
 * every key.  CSV: a header line, CRLF line ends, a field quoted (with its
 * quotes doubled) when it holds a comma, a quote, CR or LF.  Text that is
 * not valid UTF-8 has each bad byte replaced with U+FFFD in both formats.
 *
 * Streaming: gl_export_run reads the store through its iterators and holds
 * one record (and one block) at a time, so memory does not grow with the
 * store.  Output goes through a caller-supplied sink; nothing here prints.
 */
#ifndef GPULEDGER_EXPORT_H
#define GPULEDGER_EXPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gpuledger/bytes.h"
#include "gpuledger/err.h"
#include "gpuledger/store.h"

typedef enum gl_export_format {
    GL_EXPORT_CSV,
    GL_EXPORT_JSONL,
} gl_export_format;

typedef enum gl_export_kind {
    GL_EXPORT_EVENTS,
    GL_EXPORT_TRANSFERS,
} gl_export_kind;

/* What the store knows around a record (the block, the carrying tx): it
 * fills block_hash, timestamp, tx_index (transfers at a log position),
 * sender checks and block_checks.  A NULL context, or has_* false, leaves
 * those columns unknown. */
typedef struct gl_export_ctx {
    bool has_block;
    gl_store_block block;
    bool has_tx;
    gl_store_tx tx;
} gl_export_ctx;

/* The column names, in order; *n gets their number.  Static storage.
 * Cannot fail. */
const char *const *gl_export_columns(size_t *n /* OUT */);

/* "csv"/"jsonl" (also "json" for JSON Lines) -> format; "events"/"transfers"
 * -> kind.  GL_EINVAL naming the text otherwise. */
gl_code gl_export_format_parse(const char *s, gl_export_format *out /* OUT */, gl_err *err);
gl_code gl_export_kind_parse(const char *s, gl_export_kind *out /* OUT */, gl_err *err);

/* Append the CSV header line (with its CRLF) to out; nothing for JSONL.
 * GL_ENOMEM only. */
gl_code gl_export_header(gl_buf *out, gl_export_format fmt, gl_err *err);

/* Append one record, line end included.  ctx may be NULL.  GL_ENOMEM only
 * (out->len is restored); a value the store would never hold (an unknown
 * role or asset) is written as its number, never refused. */
gl_code gl_export_event(gl_buf *out, gl_export_format fmt, const gl_store_event *ev,
                        const gl_export_ctx *ctx, gl_err *err);
gl_code gl_export_transfer(gl_buf *out, gl_export_format fmt, const gl_store_transfer *t,
                           const gl_export_ctx *ctx, gl_err *err);

/* Where gl_export_run writes: called with consecutive pieces of output
 * (whole records).  Returns GL_OK or an error (it fills err), which stops
 * the export. */
typedef gl_code (*gl_export_sink)(void *ctx, const void *data, size_t len, gl_err *err);

typedef struct gl_export_opts {
    gl_export_kind kind;
    gl_export_format format;
    const uint64_t *chains;  /* the chains to export, in this order; with a */
    size_t n_chains;         /* platform and none given: the platform's chain */
    const char *platform;    /* only this platform's chain, and for events only
                                its events; NULL = all */
    uint64_t from_block;     /* inclusive */
    uint64_t to_block;       /* inclusive; UINT64_MAX = no bound */
    bool with_context;       /* look up blocks and txs (default in the CLI) */
} gl_export_opts;

typedef struct gl_export_stats {
    uint64_t records;        /* written */
    uint64_t skipped;        /* read but filtered out (platform) */
    uint64_t no_block;       /* written without a stored block (no hash/time) */
} gl_export_stats;

/* Write the header and every matching record of the chains in opts to
 * `sink`.  Fails with GL_EINVAL for bad options (from > to, a bad platform
 * name), GL_EDB when the store cannot be read or holds damage (the store's
 * message), GL_ENOMEM, or the sink's error; what was written before the
 * failure stays written (the CLI writes to a temporary file and renames it
 * only on success).  stats may be NULL. */
gl_code gl_export_run(gl_store *s, const gl_export_opts *opts, gl_export_sink sink, void *sink_ctx,
                      gl_export_stats *stats /* OUT */, gl_err *err);

/* The chains the store holds data for, ascending and without duplicates,
 * found from its cursors and its platform -> chain bindings.  *chains is a heap
 * array the caller frees (NULL when *n is 0).  GL_EDB, GL_ENOMEM. */
gl_code gl_export_list_chains(gl_store *s, uint64_t **chains /* OUT */, size_t *n /* OUT */,
                              gl_err *err);

#endif
