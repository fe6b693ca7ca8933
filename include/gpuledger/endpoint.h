/* endpoint.h - a pool of JSON-RPC endpoints for one chain: retries with
 * jittered back-off, failover between endpoints, JSON-RPC batches and
 * bounded concurrency (curl multi), and an optional quorum on block hashes.
 *
 * This is where the indexer meets the hostile world.  Every error and every
 * log line names endpoints by their redacted URL only (gl_rpc_redact_url).
 * Range-cap refusals of eth_getLogs are NOT retried here: they are returned
 * classified (GL_RPC_ERR_RANGE_TOO_LARGE with the parsed limits) so that the
 * caller's range planner (range_plan.h) decides how to split.
 *
 * How a call is retried (per call, across endpoints, at most max_attempts
 * HTTP answers that failed it):
 *   RANGE_TOO_LARGE, FATAL   returned at once (no retry);
 *   RATE_LIMITED             the endpoint cools down for max(Retry-After or
 *                            message hint, jittered back-off); concurrency
 *                            is halved (and given back one by one after
 *                            successes); the call moves to another endpoint
 *                            if one is ready, else waits for this one;
 *   TRANSIENT                (5xx, reset, timeout, truncated or malformed
 *                            answer, a batch answer missing or repeating the
 *                            call's id) the call moves at once to another
 *                            endpoint that has not been failing, else waits
 *                            its jittered back-off; an endpoint that fails
 *                            GL_ENDPOINT_BENCH_AFTER requests in a row is
 *                            benched (not used while another is available)
 *                            for a time that doubles with every benching;
 *   LAGGING                  as TRANSIENT, but the endpoint is not blamed.
 * Batches: calls are sent as JSON-RPC batches of at most max_batch (a single
 * call as a plain object); answers are matched by id, in any order.  An
 * endpoint that refuses a batch as a whole (HTTP 400/413, or one error
 * object for the whole batch) gets half that batch size from then on, down
 * to single calls; such a refusal costs no attempt.  A response larger
 * than max_response splits a batch the same way, and fails a single call
 * with GL_ERANGE.
 *
 * Thread safety: a gl_endpoints is used by one thread at a time.
 */
#ifndef GPULEDGER_ENDPOINT_H
#define GPULEDGER_ENDPOINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <yajl/yajl_parse.h>

#include "gpuledger/err.h"
#include "gpuledger/rpc_errors.h"

/* Log sink: level 0 = info, 1 = warning, 2 = error.  Messages never carry
 * a secret.  NULL = silent. */
typedef void (*gl_log_fn)(void *ctx, int level, const char *msg);

typedef struct gl_endpoint_opts {
    const char *const *urls;     /* one or more endpoint URLs (kept private) */
    size_t nurls;
    unsigned max_concurrency;    /* requests in flight at once (default 4) */
    unsigned max_batch;          /* calls per JSON-RPC batch (default 50; 1 = no batches) */
    long connect_timeout_ms;     /* default 5000 */
    long timeout_ms;             /* whole request, default 30000 */
    unsigned max_attempts;       /* per call, across endpoints (default 8) */
    uint64_t backoff_base_ms;    /* default 250 */
    uint64_t backoff_cap_ms;     /* default 30000 */
    uint64_t seed;               /* jitter RNG seed (0 = from time) */
    bool quorum;                 /* with >= 2 urls: block hashes must agree */
    gl_log_fn log;
    void *log_ctx;
    size_t max_response;         /* largest answer body accepted, bytes
                                    (default GL_ENDPOINT_MAX_RESPONSE_DEFAULT) */
    /* Asked at least once a second while calls wait (in flight, backing
     * off, rate limited): true fails every unfinished call at once with
     * GL_ECANCELED ("stopped on request"), so that a user's interrupt
     * does not wait out retries.  NULL: never. */
    bool (*stop)(void *ctx);
    void *stop_ctx;
} gl_endpoint_opts;

/* Limits.  Concurrency: each slot is one kept-alive connection; public
 * endpoints rate-limit long before 64.  Batch: providers cap batches at
 * 100-1000 calls; the endpoint refusing a batch teaches us its real cap. */
#define GL_ENDPOINT_MAX_CONCURRENCY 64u
#define GL_ENDPOINT_MAX_BATCH 1000u
#define GL_ENDPOINT_MAX_URLS 64u
#define GL_ENDPOINT_MAX_RESPONSE_DEFAULT ((size_t)256 << 20)
/* Consecutive failed requests that bench an endpoint. */
#define GL_ENDPOINT_BENCH_AFTER 3u

typedef struct gl_endpoints gl_endpoints;

/* Opens handles to every URL (no request is made).  GL_EINVAL for an empty
 * list, more than GL_ENDPOINT_MAX_URLS, or a URL libcurl cannot use (named
 * redacted); GL_EIO when libcurl cannot be initialised; GL_ENOMEM.  Zero
 * fields of opts take the defaults above; max_concurrency and max_batch
 * are clamped to the GL_ENDPOINT_MAX_* limits. */
gl_endpoints *gl_endpoints_new(const gl_endpoint_opts *opts, gl_err *err);
void gl_endpoints_free(gl_endpoints *e);

/* One call, retried: rate limits back off (Retry-After honoured), transient
 * failures and lagging nodes move to the next endpoint; a fatal answer or
 * exhausted attempts fail with the last error.  A range-too-large answer
 * fails at once with GL_ERPC and, when `info` is non-NULL, info->cls set.
 * `params` is stolen (NULL = []).  *result is owned by the caller.
 *
 * Failures (*result NULL; the message names the method and the redacted
 * URL of the endpoint that answered last): GL_ERPC for an answer that
 * failed it (JSON-RPC error, HTTP status, garbage); GL_EIO when the last
 * attempt got no answer at all (connect, reset, timeout); GL_ERANGE for an
 * answer over max_response; GL_EINVAL for a NULL method/result or params
 * that are neither array nor object; GL_ENOMEM.  `info` (may be NULL) is
 * filled in every case; info->cls is meaningful for GL_ERPC and GL_EIO. */
typedef struct gl_call_info {
    gl_rpc_errclass cls;         /* meaningful when the call failed with GL_ERPC */
    gl_rpc_errinfo err;          /* classification details (ranges, waits) */
    unsigned attempts;
    size_t endpoint;             /* index of the endpoint that answered last */
} gl_call_info;

gl_code gl_endpoints_call(gl_endpoints *e, const char *method, json_t *params, json_t **result,
                          gl_call_info *info, gl_err *err);

/* A result read as it streams, for answers too big to hold as a tree
 * (eth_getLogs: log_reader.h).  The pool parses the answer's envelope
 * itself (id, error) and hands the events of the `result` value, and only
 * those, to `callbacks` with `ctx` (numbers arrive as yajl_number text).
 * begin() runs before each answer is read, so that a retried call starts
 * over, and after an answer that was not taken; end() runs after a result was read whole, or when a callback
 * stopped the parse by returning 0: it returns false with a reason in why
 * (capacity cap) when the result is not what was asked for.  That answer
 * then fails like a malformed one (retried elsewhere, GL_ERPC in the end).
 * An answer carrying an error, or that is not JSON, goes the ordinary way
 * (classified, described), whatever the reader saw of it.
 * max_bytes (0: the pool's max_response) caps the answer's body for this
 * reader: the pool holds a body whole while it arrives, so this is what
 * bounds the memory of one answer.  Over it the transfer stops at once
 * and the call fails GL_ERPC, class GL_RPC_ERR_RANGE_TOO_LARGE (count
 * kind, rule "answer over the reader's cap"), not retried: the caller
 * asked for too much, as when a provider refuses a range as too large. */
typedef struct gl_result_reader {
    const yajl_callbacks *callbacks;
    void *ctx;
    void (*begin)(void *ctx);
    bool (*end)(void *ctx, char *why, size_t cap);
    size_t max_bytes;
} gl_result_reader;

/* gl_endpoints_call for a result read by `rd` (required) instead of
 * returned: GL_OK once rd took a whole answer.  Fails as gl_endpoints_call;
 * an answer that is not taken (cut, erring, wrong id, refused by rd) is
 * followed by another begin(), so that after a failure rd holds nothing of
 * any answer. */
gl_code gl_endpoints_call_stream(gl_endpoints *e, const char *method, json_t *params, const gl_result_reader *rd,
                                 gl_call_info *info, gl_err *err);

/* n independent calls, sent as JSON-RPC batches over up to max_concurrency
 * connections; each call is retried on its own (a batch answer with missing
 * or duplicate ids retries the missing ones).  results[i] gets call i's
 * result; on failure the function fails as a whole (results released)
 * naming the first call that could not be completed.
 * params[i] is BORROWED (not stolen: the caller still owns and releases
 * it); params may be NULL, and so may params[i] (= []).  n == 0 succeeds.
 * Codes as gl_endpoints_call; the message starts "call I of N: ". */
gl_code gl_endpoints_call_many(gl_endpoints *e, size_t n, const char *const *methods, json_t *const *params,
                               json_t **results, gl_err *err);

/* Like gl_endpoints_call_many, but every call succeeds or fails on its own:
 * outcomes[i] (required) says how call i ended (code GL_OK and results[i]
 * set, or the code, classification and message of its failure with
 * results[i] NULL).  This is the form for parallel eth_getLogs, where one
 * range may be refused as too large while the others succeed.  Returns
 * GL_OK when every call was run to its end (look at outcomes), GL_EINVAL
 * for bad arguments, GL_ENOMEM when the batch could not be set up. */
typedef struct gl_call_outcome {
    gl_code code;
    gl_call_info info;
    gl_err err;                  /* message when code != GL_OK */
} gl_call_outcome;

gl_code gl_endpoints_call_each(gl_endpoints *e, size_t n, const char *const *methods, json_t *const *params,
                               json_t **results, gl_call_outcome *outcomes, gl_err *err);

/* A new pool on the same URLs with the same settings (what it has learned,
 * such as benched endpoints and batch caps, starts afresh), for another
 * thread: a pool is used by one thread at a time.  NULL on failure
 * (GL_ENOMEM, or as gl_endpoints_new).  e's jitter RNG advances once. */
gl_endpoints *gl_endpoints_clone(gl_endpoints *e, gl_err *err);

/* eth_chainId from every endpoint (each asked on its own, with retries,
 * no failover): they must agree.  GL_EVERIFY naming the redacted URLs and
 * both ids when two differ; the failing call's code when one endpoint
 * cannot answer; GL_ERPC for an answer that is not a hex quantity. */
gl_code gl_endpoints_chain_id(gl_endpoints *e, uint64_t *chain_id, gl_err *err);

/* With quorum: the hash of block `number` from at least two endpoints, which
 * must agree (GL_EVERIFY naming both redacted URLs and hashes otherwise).
 * Without quorum: one endpoint's answer.  Endpoints are asked in order, each
 * pinned (retried on its own); one that cannot answer, or answers null (it
 * does not have the block), is replaced by the next.  GL_ERPC when fewer
 * than the endpoints needed have the block, or the hash is not 32 bytes of
 * hex; other codes as gl_endpoints_call.  hash is zeroed on failure. */
gl_code gl_endpoints_block_hash(gl_endpoints *e, uint64_t number, uint8_t hash[32], gl_err *err);

typedef struct gl_endpoint_stats {
    uint64_t requests;           /* HTTP requests sent */
    uint64_t calls;              /* JSON-RPC calls answered */
    uint64_t retries;
    uint64_t rate_limited;
    uint64_t failovers;          /* retries sent to another endpoint */
    uint64_t benched;            /* times an endpoint was benched */
    uint64_t batch_refusals;     /* batches refused as a whole (split) */
    uint64_t capped;             /* answers stopped at their reader's max_bytes */
} gl_endpoint_stats;
void gl_endpoints_stats(const gl_endpoints *e, gl_endpoint_stats *out);

/* How many endpoints, and endpoint i's redacted URL (safe to print; owned
 * by e; NULL when i is out of range). */
size_t gl_endpoints_count(const gl_endpoints *e);
/* The pool's jittered back-off before the attempt-th retry (0 = the first)
 * of something the caller retries itself, e.g. a refusal the pool does not
 * retry.  Advances e's jitter RNG.  0 for a NULL e; cannot fail. */
uint64_t gl_endpoints_backoff_ms(gl_endpoints *e, unsigned attempt);
const char *gl_endpoints_url_redacted(const gl_endpoints *e, size_t i);

/* Copy foreign text (an endpoint's message, a body excerpt) into out
 * (capacity cap > 0, always NUL-terminated) with every secret of every
 * endpoint URL replaced by "***" and control characters by spaces; "..."
 * marks a cut.  Returns the length written.  Cannot fail. */
size_t gl_endpoints_scrub(const gl_endpoints *e, const char *text, char *out, size_t cap);

/* For tests and fuzzing: read `body` (len bytes) as endpoint 0's answer,
 * with HTTP `status`, to n calls (1..max_batch; sent as a batch when n > 1)
 * numbered first_id .. first_id + n - 1, exactly as a call's answer is read
 * (the same envelope checks, classification and endpoint bookkeeping), but
 * without a transfer.  rd (n == 1 only, may be NULL) reads the result as it
 * streams, as gl_endpoints_call_stream's does.  results[i] gets call i's
 * result (the caller's reference) or NULL; outcomes[i] how it ended: the
 * call's code (GL_OK, or the failure it would be retried or failed with;
 * GL_ERPC "refused as a whole" for calls of a batch the endpoint refused).
 * GL_EINVAL for bad arguments, GL_ENOMEM; GL_OK otherwise. */
gl_code gl_endpoints_read_answer(gl_endpoints *e, long status, const void *body, size_t len, size_t n,
                                 uint64_t first_id, const gl_result_reader *rd, json_t **results,
                                 gl_call_outcome *outcomes, gl_err *err);

#endif
