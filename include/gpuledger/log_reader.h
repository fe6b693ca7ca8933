/* log_reader.h - eth_getLogs answers read as they stream, into flat log
 * records, without building a JSON tree.
 *
 * Why: an eth_getLogs answer of 10,000 logs is ~6 MB of JSON.  Parsing it
 * into a jansson tree and walking it took a third of the indexer's CPU
 * (jansson: ~50 MB/s here, with a malloc per value); yajl's event parser
 * reads the same answer at ~500 MB/s and the reader decodes each field
 * straight into its record.  The plain shape of such answers is first read
 * by json_scan.h's scanner, which gives the same events several times
 * faster and leaves anything else (escapes, floats, malformed text) to
 * yajl: parsing went from ~14% to ~6% of indexing's CPU.
 *
 * The reader is strict where the indexer relies on a field (address, topics,
 * data, blockNumber, blockHash, transactionHash, transactionIndex, logIndex:
 * present, of the right type and length) and lenient elsewhere (unknown
 * members are skipped, whatever their shape; quantities may be "0x.." hex or
 * JSON integers; blockTimestamp and removed are optional).  A member given
 * twice in one log is refused: which one would count is the endpoint's
 * guess.  Messages name the log's position in the answer and the field, for
 * example "log 3: bad or missing blockHash".
 */
#ifndef GPULEDGER_LOG_READER_H
#define GPULEDGER_LOG_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gpuledger/endpoint.h"
#include "gpuledger/err.h"

/* One log as the endpoint gave it (nothing verified yet). */
typedef struct gl_log {
    uint64_t block;
    uint32_t log_index;
    uint32_t tx_index;
    uint8_t address[20];
    uint8_t topics[4][32];
    size_t ntopics;
    uint8_t *data; /* owned (malloc); NULL when len is 0 */
    size_t len;
    uint8_t block_hash[32];
    uint8_t tx_hash[32];
    bool has_ts;   /* the answer carried blockTimestamp */
    uint64_t ts;
    bool removed;  /* "removed": true (withdrawn by a reorg) */
} gl_log;

/* A growable list of logs. */
typedef struct gl_logs {
    gl_log *v;
    size_t n, cap;
} gl_logs;

/* Drop the logs (keeping the room); release everything. */
void gl_logs_clear(gl_logs *l);
void gl_logs_free(gl_logs *l);
/* Drop the logs from index `n` on (n <= l->n). */
void gl_logs_truncate(gl_logs *l, size_t n);
/* A new zeroed log at the end; NULL when out of memory (l unchanged). */
gl_log *gl_logs_push(gl_logs *l);
/* Sort by (block, log index) and drop repeats of a position (the first
 * kept): overlapping answers give the same log twice. */
void gl_logs_sort(gl_logs *l);

/* The reader.  Fields are private; it lives wherever the caller likes (no
 * allocation of its own) and appends to `out`. */
/* A hex string as last read in one place of a log, and its bytes: block
 * hash, tx hash, address and topics repeat from log to log (every log of a
 * block, of a transaction, of a contract, of an event), and comparing the
 * text is cheaper than decoding it again. */
typedef struct gl_log_hex_memo {
    size_t n;           /* 0: empty */
    char text[66];      /* "0x" + up to 32 bytes */
    uint8_t bytes[32];
} gl_log_hex_memo;

typedef struct gl_log_reader {
    gl_logs *out;
    size_t mark;       /* out->n when the current answer began */
    int state;
    int field;
    unsigned skip;     /* nesting of an unknown member's value being skipped */
    unsigned seen;     /* members seen in the current log (bit per field) */
    size_t index;      /* position of the current log in the answer */
    bool done, failed;
    gl_code code;
    char why[160];
    gl_log_hex_memo memo[7]; /* address, block hash, tx hash, topics 0..3 */
} gl_log_reader;

/* Set up r to append to out. */
void gl_log_reader_init(gl_log_reader *r, gl_logs *out);

/* The hooks for gl_endpoints_call_stream: each answer's logs are appended
 * to out (a retried call first drops what a failed answer had added). */
gl_result_reader gl_log_reader_hooks(gl_log_reader *r);

/* Read a whole eth_getLogs result (a JSON array of logs, `len` bytes) into
 * out.  GL_ERPC naming the log and the field for a log the indexer cannot
 * use, or JSON that is not an array of objects (yajl's message, with the
 * byte offset); GL_ENOMEM.  On failure out is as it was. */
gl_code gl_log_reader_parse(const char *json, size_t len, gl_logs *out, gl_err *err);

#endif
