/* faultproxy.h - a fault-injecting JSON-RPC proxy for tests.
 *
 * gl_fproxy listens on 127.0.0.1 (a kernel-chosen port), accepts any number
 * of kept-alive HTTP/1.1 connections (one thread each), and forwards every
 * JSON-RPC request - single or batch - to an upstream node (anvil) with
 * libcurl.  Rules, chosen per request, make it misbehave the ways public
 * endpoints do (docs/FAULTS.md lists them with the tests that cover them):
 *
 *   whole request     429 with Retry-After, 5xx with an HTML page, a reset
 *                     connection, a slow answer, a truncated or malformed
 *                     body, a batch answer missing an id or repeating one,
 *                     a batch answer in another order, a batch refused as
 *                     too large;
 *   one call          eth_getLogs range caps in five real providers'
 *                     words (the suggested range computed from the real
 *                     logs), "header not found" on the first request for
 *                     a block, a wrong chain id, any JSON-RPC error, a
 *                     filter refused by its shape (one block, several
 *                     addresses or topics) whatever it holds;
 *   one answer        a lying `from`, a wrong block hash or header field, a
 *                     changed field of a block's transaction, a successful
 *                     receipt's status made reverted (the proxy
 *                     keeps a record of each lie it told).
 *
 * The request path is ignored (so "http://127.0.0.1:PORT/v3/KEY" works, and
 * rules can quote the path back to test secret scrubbing).
 *
 * Counters: connections, HTTP requests, JSON-RPC calls per method,
 * injections per fault kind and per rule, the most requests in flight at
 * once, the largest batch.  All counters and
 * rules are guarded by one mutex: the accessors may be called from the
 * test's thread while requests are being served.
 *
 * Test-support code: it may print diagnostics on stderr; it never exits.
 */
#ifndef GPULEDGER_TEST_FAULTPROXY_H
#define GPULEDGER_TEST_FAULTPROXY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum gl_fault {
    GL_FAULT_NONE,
    /* eth_getLogs range caps (per call; `cap` = logs or blocks). */
    GL_FAULT_RANGE_INFURA,      /* > cap logs: -32005 "query returned more than CAP results. Try
                                   with this block range [0x.., 0x..]." */
    GL_FAULT_RANGE_ALCHEMY,     /* > cap logs and span > `span` (default 2000): -32602 "Log response
                                   size exceeded. You can make eth_getLogs requests with up to a SPAN
                                   block range and no limit on the response size, or you can request
                                   any block range with a cap of CAP logs in the response. Based on
                                   your parameters, this block range should work: [0x.., 0x..]" */
    GL_FAULT_RANGE_SPAN_413,    /* span > cap blocks: HTTP 413, -32614 "eth_getLogs is limited to a
                                   CAP range" (CAP with thousands commas) */
    GL_FAULT_RANGE_SPAN,        /* span > cap blocks: -32000 "exceed maximum block range: CAP" */
    GL_FAULT_RANGE_COUNT,       /* > cap logs: -32005 "logs matched by query exceeds limit of CAP"
                                   (no suggestion) */
    /* Whole request. */
    GL_FAULT_HTTP_429,          /* HTTP 429, Retry-After: retry_after_s (omitted when 0) */
    GL_FAULT_HTTP_5XX,          /* http_status (default 502) with an nginx-style HTML page */
    GL_FAULT_RESET,             /* close without answering: variant 0 = TCP RST (SO_LINGER 0),
                                   1 = orderly close */
    GL_FAULT_SLOW,              /* wait delay_ms, then answer normally (other rules still apply) */
    GL_FAULT_TRUNCATED,         /* variant 0: half the real body with a matching Content-Length
                                   (invalid JSON); 1: Content-Length of the whole body, half sent,
                                   connection closed */
    GL_FAULT_MALFORMED,         /* variant 0: the real body with its first ':' made '='; 1: valid
                                   JSON with "result" renamed "reslt" (every element) */
    GL_FAULT_BATCH_MISSING_ID,  /* batch only: the answer for the last element is dropped */
    GL_FAULT_BATCH_DUP_ID,      /* batch only (>= 2 elements): the last element's answer carries
                                   the first element's id */
    GL_FAULT_BATCH_REORDER,     /* batch only: the answers come in reverse order (legal) */
    GL_FAULT_BATCH_REFUSE,      /* batch of more than `cap` elements (default 1): variant 0 =
                                   HTTP 413 with a -32600 error object, 1 = HTTP 200 with one error
                                   object "batch too large" */
    /* One call. */
    GL_FAULT_HEADER_NOT_FOUND,  /* -32000 "header not found" for the first request of each
                                   (method, params) the rule applies to */
    GL_FAULT_CHAIN_ID,          /* eth_chainId answers chain_id */
    GL_FAULT_RPC_ERROR,         /* rpc_code + message (default -32000 "internal error"), HTTP
                                   http_status (default 200); "{path}" in message is replaced by the
                                   request path (to test that keys echoed back are scrubbed) */
    /* One answer, after forwarding. */
    GL_FAULT_LYING_FROM,        /* eth_getBlockByNumber/ByHash (full transactions), eth_getTransaction
                                   ByHash, eth_getTransactionReceipt, eth_getBlockReceipts: `from` of
                                   transaction `index` (default 0) becomes `address` (default
                                   0x00000000000000000000000000000000deadbeef) */
    GL_FAULT_WRONG_HASH,        /* eth_getBlockByNumber/ByHash: field `field` (default "hash") gets
                                   its last hex digit flipped (hash, stateRoot, timestamp, ...) */
    GL_FAULT_NO_TIMESTAMP,      /* eth_getLogs: every log's blockTimestamp removed, as providers
                                   that predate it answer (not a lie: nothing is recorded) */
    GL_FAULT_WRONG_TX_FIELD,    /* eth_getBlockByNumber/ByHash (full transactions): field `field`
                                   (default "value") of transaction `index` (default 0) gets its
                                   last hex digit flipped (value, input, nonce, to, ...: a signed
                                   field, so the block's transactionsRoot no longer matches) */
    /* eth_getLogs refused as too large whatever its logs (a busy block, or a
       provider refusing under load), in Infura's words without a suggested
       range: -32005 "query returned more than 10000 results".  variant 0:
       every filter over a single block; 1: every filter naming more than
       `cap` addresses (default 1); 2: every filter with more than one
       topic0. */
    GL_FAULT_LOGS_REFUSE,
    GL_FAULT_RECEIPT_STATUS,    /* eth_getTransactionReceipt, eth_getBlockReceipts: every receipt
                                   whose status is 0x1 says 0x0 (a successful payment called
                                   reverted; the receipts no longer hash to the receiptsRoot) */
    GL_FAULT__COUNT
} gl_fault;

/* A rule.  A rule "applies" to a request (or call) when its method matches
 * (NULL = every method the fault makes sense for: eth_getLogs for range
 * caps, eth_chainId for CHAIN_ID, the block and transaction methods listed
 * above, every method otherwise).  Each application is numbered k = 1, 2,
 * ... (per rule); the fault fires when all of these hold:
 *   k > skip;  first_n == 0 or k <= skip + first_n;
 *   every_nth == 0 or (k - skip) % every_nth == 0;
 *   probability <= 0 or >= 1, or a draw of the proxy's seeded RNG < it;
 *   max_hits == 0 or fewer than max_hits injections so far;
 *   and for the range caps, the request exceeds the cap.
 * Whole-request rules are tried in order and the first that fires wins
 * (SLOW delays and lets the next one be tried).  Per-call rules are tried
 * in order for each call of a batch; the first that fires wins. */
typedef struct gl_fault_rule {
    gl_fault kind;
    const char *method;       /* copied */
    unsigned skip, first_n, every_nth, max_hits;
    double probability;
    int variant;
    uint64_t cap;             /* range caps (default 10000), BATCH_REFUSE */
    uint64_t span;            /* RANGE_ALCHEMY: the span always accepted */
    int http_status;          /* HTTP_5XX, RPC_ERROR, RANGE_ALCHEMY (default 200) */
    unsigned retry_after_s;   /* HTTP_429 */
    unsigned delay_ms;        /* SLOW */
    long rpc_code;            /* RPC_ERROR */
    const char *message;      /* RPC_ERROR, copied */
    uint64_t chain_id;        /* CHAIN_ID */
    const char *address;      /* LYING_FROM, copied */
    unsigned index;           /* LYING_FROM, WRONG_TX_FIELD: which transaction of a block / receipt list */
    const char *field;        /* WRONG_HASH, WRONG_TX_FIELD, copied */
} gl_fault_rule;

/* A lie the proxy told (LYING_FROM, WRONG_HASH, WRONG_TX_FIELD, RECEIPT_STATUS), for tests to compare with
 * what the indexer found. */
typedef struct gl_fproxy_lie {
    gl_fault kind;
    char method[48];
    char subject[80];         /* the transaction hash (LYING_FROM, WRONG_TX_FIELD), or the block
                                 hash (WRONG_HASH; the true one unless field is "hash") */
    char block[24];           /* the block number, hex */
    char field[32];           /* "from", "hash", "timestamp", ... */
    char truth[80];
    char told[80];
} gl_fproxy_lie;

typedef struct gl_fproxy gl_fproxy;

/* Start a proxy in front of `upstream` ("http://127.0.0.1:PORT"); `seed`
 * drives the probability rules.  NULL (with a line on stderr) when the
 * socket, thread or libcurl cannot be set up. */
gl_fproxy *gl_fproxy_start(const char *upstream, uint64_t seed);

/* Stop accepting, end every connection (within ~100 ms after any slow
 * answer's current wait step), join every thread, free.  NULL is a no-op. */
void gl_fproxy_stop(gl_fproxy *p);

/* "http://127.0.0.1:PORT" (no trailing slash) and the port.  Owned by p. */
const char *gl_fproxy_url(const gl_fproxy *p);
uint16_t gl_fproxy_port(const gl_fproxy *p);

/* Replace the rules (copied, strings included) and reset their counters
 * and the "header not found" memory; n == 0 clears them.  False when out of
 * memory (the old rules stay). */
bool gl_fproxy_set_rules(gl_fproxy *p, const gl_fault_rule *rules, size_t n);

/* Zero every counter, the lie record and the last suggested range. */
void gl_fproxy_reset_counters(gl_fproxy *p);

/* HTTP requests read; JSON-RPC calls with `method` (NULL = all) seen;
 * injections of `kind` (GL_FAULT_NONE = all); injections by rule i. */
unsigned gl_fproxy_requests(const gl_fproxy *p);
unsigned gl_fproxy_calls(const gl_fproxy *p, const char *method);
unsigned gl_fproxy_injected(const gl_fproxy *p, gl_fault kind);
unsigned gl_fproxy_rule_hits(const gl_fproxy *p, size_t rule);
/* TCP connections accepted (keep-alive shows as few connections). */
unsigned gl_fproxy_connections(const gl_fproxy *p);
/* The most HTTP requests that were being handled at once (from the request
 * read to the answer composed: never an over-count of the client's
 * concurrency). */
unsigned gl_fproxy_max_inflight(const gl_fproxy *p);
/* The largest batch (elements) seen in one request since the last reset. */
unsigned gl_fproxy_max_batch(const gl_fproxy *p);

/* The range the last range-cap error suggested; false when none was. */
bool gl_fproxy_last_suggestion(const gl_fproxy *p, uint64_t *from, uint64_t *to);

/* Copy up to cap lies told since the last reset into out; returns how
 * many were told (may exceed cap). */
size_t gl_fproxy_lies(const gl_fproxy *p, gl_fproxy_lie *out, size_t cap);

/* "429", "range-infura", ...  Never NULL. */
const char *gl_fault_name(gl_fault kind);

#endif
