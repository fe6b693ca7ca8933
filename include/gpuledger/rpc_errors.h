/* rpc_errors.h - what to do about a failed JSON-RPC call: classification of
 * endpoint errors, and the retry back-off policy.
 *
 * Pure logic, no I/O: the caller (the retry/failover layer above gl_rpc)
 * hands over what the transport saw - HTTP status, JSON-RPC error code and
 * message, Retry-After header - and gets back one decision:
 *
 *   GL_RPC_ERR_RANGE_TOO_LARGE  eth_getLogs range or result set too large:
 *                               split (see range_plan.h), do not back off;
 *   GL_RPC_ERR_RATE_LIMITED     back off (honour wait_ms), lower concurrency,
 *                               do NOT split the range;
 *   GL_RPC_ERR_LAGGING          this endpoint does not have the block (yet,
 *                               or any more): try another endpoint;
 *   GL_RPC_ERR_TRANSIENT        5xx, timeout, reset: retry with back-off;
 *   GL_RPC_ERR_FATAL            bad request, unknown method, bad key: do not
 *                               retry the same request.
 *
 * Decisions that are choices, not facts (each has a test):
 *   - HTTP 429 is always RATE_LIMITED, whatever the body says.
 *   - A recognised message wins over the HTTP status and the code: providers
 *     put range errors behind 200, 400, 413 and 500 alike, and Infura uses
 *     -32005 both for "more than 10000 results" and for its rate limit.
 *   - HTTP 413 without a recognised message is RANGE_TOO_LARGE (kind
 *     UNKNOWN: the planner halves).  413 means "request too large"; an
 *     eth_getLogs request body is tiny, so what the endpoint refuses is the
 *     work the range asks for.
 *   - HTTP 503 without a recognised message is TRANSIENT: it is what an
 *     overloaded or restarting node says, and splitting would multiply the
 *     load on it.  A caller that keeps getting 503 for one wide range may
 *     still call gl_range_plan_on_too_large(.., NULL) to halve it.
 *   - "missing trie node" and other pruned-state messages are LAGGING: this
 *     endpoint cannot serve that block, an archive endpoint can; retrying it
 *     here would fail forever and the request itself is fine.
 *   - Unrecognised JSON-RPC errors: -32005 (EIP-1474 "limit exceeded") is
 *     RATE_LIMITED (backing off on a range error costs time, splitting on a
 *     rate limit multiplies requests); -32603 and the server range
 *     -32000..-32099 are TRANSIENT; -32700, -32600, -32601, -32602 and every
 *     other code (execution reverted is 3) are FATAL.
 *   - No HTTP response at all (status 0, no code: DNS, connect, TLS,
 *     timeout, reset) is TRANSIENT.
 *
 * Messages are matched case-insensitively anywhere in the text, within its
 * first GL_RPC_MSG_SCAN_MAX bytes (the rest is ignored: no endpoint puts the
 * useful part of an error after 8 KiB).  Numbers are parsed with overflow
 * checks; a number that does not fit is dropped (the class stands, the
 * hint is just not given), and a suggested range that is inverted or
 * unreadable is reported as range_invalid, so that the planner halves
 * rather than trust the rest of the text.  Whether a suggested range lies
 * inside the requested one is checked by the planner, which knows the
 * request.
 *
 * Thread-safety: every function here is reentrant; there is no global state.
 */
#ifndef GPULEDGER_RPC_ERRORS_H
#define GPULEDGER_RPC_ERRORS_H

#include <stdbool.h>
#include <stdint.h>

/* Only this much of a message is looked at. */
#define GL_RPC_MSG_SCAN_MAX 8192
/* A wait longer than this (from Retry-After or a message hint) is clamped to
 * it: a day is the longest any provider's quota window lasts, and a caller
 * should fail over rather than sleep longer. */
#define GL_RPC_WAIT_MAX_MS ((uint64_t)24 * 3600 * 1000)

typedef enum gl_rpc_errclass {
    GL_RPC_ERR_RANGE_TOO_LARGE,
    GL_RPC_ERR_RATE_LIMITED,
    GL_RPC_ERR_LAGGING,
    GL_RPC_ERR_TRANSIENT,
    GL_RPC_ERR_FATAL,
} gl_rpc_errclass;

/* For RANGE_TOO_LARGE: what the endpoint limits. */
typedef enum gl_rpc_limit_kind {
    GL_RPC_LIMIT_UNKNOWN, /* can't tell (bare 413, "response too large") */
    GL_RPC_LIMIT_SPAN,    /* the number of blocks per request */
    GL_RPC_LIMIT_COUNT,   /* the number (or size) of logs returned */
} gl_rpc_limit_kind;

/* What a classified error says beyond its class.  Every number is 0 (and
 * has_range false) when the message does not name it. */
typedef struct gl_rpc_errinfo {
    gl_rpc_errclass cls;
    gl_rpc_limit_kind limit;  /* RANGE_TOO_LARGE only */
    bool has_range;           /* the endpoint suggested [range_from, range_to] */
    uint64_t range_from;      /*   (range_from <= range_to always holds) */
    uint64_t range_to;
    bool range_invalid;       /* the message named a range that could not be
                                 read (inverted, or a number overflows):
                                 a sign the text is not to be trusted */
    uint64_t max_span;        /* a hard cap on blocks per request */
    uint64_t safe_span;       /* a span the endpoint accepts whatever the
                                 result size (Alchemy's "up to a 2K block
                                 range and no limit on the response size") */
    uint64_t max_results;     /* the cap on logs per response */
    uint64_t wait_ms;         /* how long to wait before retrying, from
                                 Retry-After or a hint in the message;
                                 0 = no hint (use the back-off policy) */
    bool has_wait;            /* a hint was given (wait_ms may be 0: "retry
                                 now", or an HTTP-date already past) */
    const char *rule;         /* static text naming the rule that decided,
                                 for logs and error messages ("count cap",
                                 "HTTP 429", ...); never NULL */
} gl_rpc_errinfo;

/* Classify a failed call.
 *
 * http_status:  the HTTP status, or 0 when no response arrived;
 * rpc_code:     the JSON-RPC error code, read only when has_rpc_code;
 * message:      the JSON-RPC error message, or for a non-JSON answer the
 *               transport's text or a body excerpt; NULL is read as "";
 * retry_after:  the raw Retry-After header value (delta-seconds or an
 *               HTTP-date), or NULL;
 * now_unix:     the current time in seconds since the epoch, used only to
 *               turn an HTTP-date into a wait;
 * out:          OUT, may be NULL; always fully written when non-NULL.
 *
 * Cannot fail: every input, including NULL and garbage, yields a class.
 * Also for a "success" (status 200, no code, no message) it answers
 * TRANSIENT: the caller asked because something went wrong. */
gl_rpc_errclass gl_rpc_classify(int http_status, long rpc_code,
                                bool has_rpc_code, const char *message,
                                const char *retry_after, int64_t now_unix,
                                gl_rpc_errinfo *out /* OUT */);

/* A short lowercase name for the class ("range too large", ...).  Never
 * NULL; "?" for a value outside the enum. */
const char *gl_rpc_errclass_name(gl_rpc_errclass cls);

/* Parse a Retry-After header value: delta-seconds ("3") or an HTTP-date in
 * any of the three forms RFC 9110 section 5.6.7 requires recipients to read
 * (IMF-fixdate "Sun, 06 Nov 1994 08:49:37 GMT", RFC 850 "Sunday,
 * 06-Nov-94 08:49:37 GMT", asctime "Sun Nov  6 08:49:37 1994").  A date in
 * the past gives 0; the result is clamped to GL_RPC_WAIT_MAX_MS.
 * Returns false (and *ms = 0) for NULL, empty, negative, or unreadable
 * values; ms may not be NULL. */
bool gl_rpc_retry_after_ms(const char *value, int64_t now_unix,
                           uint64_t *ms /* OUT */);

/* ------------------------------------------------------------------ */
/* Back-off                                                             */

/* Exponential back-off with full jitter (the delay for attempt n is drawn
 * uniformly from [0, min(cap_ms, base_ms * 2^n)]).  Full jitter spreads
 * clients that failed together over the whole window, which is what stops
 * them from hammering a rate-limited endpoint in lockstep. */
typedef struct gl_backoff {
    uint64_t base_ms; /* window of the first retry (attempt 0) */
    uint64_t cap_ms;  /* the window never grows past this */
} gl_backoff;

/* 250 ms doubles to 30 s in 7 steps: quick enough for a flaky connection,
 * long enough to outlast the one-second windows most rate limits use. */
#define GL_BACKOFF_BASE_MS_DEFAULT 250u
#define GL_BACKOFF_CAP_MS_DEFAULT 30000u
#define GL_BACKOFF_INIT {GL_BACKOFF_BASE_MS_DEFAULT, GL_BACKOFF_CAP_MS_DEFAULT}

/* The delay before retry number `attempt` (0 for the first retry).
 *
 * policy:  NULL means GL_BACKOFF_INIT; cap_ms below base_ms acts as base_ms;
 * hint_ms: the server's word (gl_rpc_errinfo.wait_ms, 0 = none): when it is
 *          larger than the drawn delay it is returned exactly - a floor,
 *          never jittered, never capped;
 * rand64:  a source of uniform 64-bit numbers called once with `rng`
 *          (gl_backoff_rng_next fits); NULL gives the top of the window,
 *          deterministic.
 * Cannot fail; large attempts saturate at the cap without overflow. */
uint64_t gl_backoff_delay_ms(const gl_backoff *policy, unsigned attempt,
                             uint64_t hint_ms, uint64_t (*rand64)(void *),
                             void *rng);

/* A tiny seeded generator (SplitMix64, Steele/Lea/Flood 2014) for the
 * jitter: callers and tests pass one explicitly, there is no global RNG.
 * Not for anything secret. */
typedef struct gl_backoff_rng {
    uint64_t state;
} gl_backoff_rng;

/* Seed `rng` (any value, 0 included).  Cannot fail. */
void gl_backoff_rng_seed(gl_backoff_rng *rng, uint64_t seed);

/* The next number of the sequence; `rng` is a gl_backoff_rng *.  The
 * signature matches gl_backoff_delay_ms's rand64.  Cannot fail. */
uint64_t gl_backoff_rng_next(void *rng);

#endif
