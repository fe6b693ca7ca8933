/* rpc.h - a synchronous JSON-RPC 2.0 client over HTTP(S) (libcurl + jansson).
 *
 * This is the bottom of the indexer's endpoint layer: one gl_rpc talks to one
 * endpoint URL, one request at a time, over a kept-alive connection.  Retry,
 * failover, batching and range splitting are built on top of it; to let them
 * decide, a gl_rpc remembers what the last call saw (HTTP status, JSON-RPC
 * error code and message, Retry-After).
 *
 * Secrets: endpoint URLs carry API keys (in the path, the query or the
 * userinfo).  Every message this module produces names the endpoint by its
 * redacted URL (see gl_rpc_redact_url), and text that comes from outside
 * (curl's error buffer, an endpoint's error message, a body excerpt) has the
 * URL's secret parts replaced with "***" before it reaches a gl_err.
 *
 * Threads: a gl_rpc is not thread-safe; use one per thread.  Different
 * gl_rpc objects may be used from different threads at once.
 *
 * libcurl global state: gl_rpc_new() calls curl_global_init() itself, exactly
 * once per process, through pthread_once, so callers (main included) need not
 * call it.  That once-flag is the module's only process-wide state.  Nothing
 * calls curl_global_cleanup(); a program that wants valgrind-clean exits may
 * call it after freeing every gl_rpc.
 */
#ifndef GPULEDGER_RPC_H
#define GPULEDGER_RPC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "gpuledger/bytes.h"
#include "gpuledger/err.h"

typedef struct gl_rpc gl_rpc;

/* Defaults, each overridable per gl_rpc.  Connect: a healthy endpoint
 * answers a TCP+TLS handshake in well under a second; 10 s rides out a slow
 * DNS.  Total: one eth_getLogs over a wide range can take tens of seconds on
 * public endpoints.  Response cap: eth_getBlockReceipts of a full block is a
 * few tens of MiB; anything above the cap is treated as hostile. */
#define GL_RPC_CONNECT_TIMEOUT_MS_DEFAULT 10000L
#define GL_RPC_TOTAL_TIMEOUT_MS_DEFAULT 60000L
#define GL_RPC_MAX_RESPONSE_DEFAULT ((size_t)256 << 20)

/* Create a client for `url` (http:// or https://, any case).  No connection
 * is made yet.  Fails with GL_EINVAL when the URL is NULL, empty, has no
 * scheme or a scheme other than http/https (the message shows the redacted
 * URL), with GL_EIO when libcurl cannot be initialised, and GL_ENOMEM; returns
 * NULL then. */
gl_rpc *gl_rpc_new(const char *url, gl_err *err);

/* Close the connection and free everything.  NULL is a no-op. */
void gl_rpc_free(gl_rpc *rpc);

/* Set the connect and total timeouts for later calls, in milliseconds;
 * a value <= 0 restores that default.  Cannot fail. */
void gl_rpc_set_timeouts(gl_rpc *rpc, long connect_ms, long total_ms);

/* Set the largest response body accepted, in bytes (0 restores the
 * default).  A larger answer fails the call with GL_ERANGE.  Cannot fail. */
void gl_rpc_set_max_response(gl_rpc *rpc, size_t max_bytes);

/* Call `method` with `params` and wait for the answer.
 *
 * params:  a JSON array or object; the reference is STOLEN (released by the
 *          call whatever happens); NULL sends [].
 * result:  OUT, set to the response's "result" (a new reference the caller
 *          must json_decref; JSON null when the endpoint answered null).
 *          Set to NULL on failure.
 *
 * Failures (the message names the method and the redacted URL):
 *   GL_EINVAL  rpc/method/result NULL, or params neither array nor object;
 *   GL_EIO     transport: connect refused, DNS, TLS, timeout, reset,
 *              truncated body (curl's own message follows);
 *   GL_ERPC    HTTP status other than 200 (the status is named, with the
 *              endpoint's JSON-RPC error or an excerpt of the body), a
 *              JSON-RPC error object ("JSON-RPC error CODE: MESSAGE"),
 *              a body that is not JSON or not an object, a response without
 *              result and error, or whose id differs from the request's;
 *   GL_ERANGE  the body exceeded the response cap;
 *   GL_ENOMEM  out of memory.
 * After any call, the gl_rpc_last_* accessors describe what was seen. */
gl_code gl_rpc_call(gl_rpc *rpc, const char *method, json_t *params,
                    json_t **result /* OUT */, gl_err *err);

/* Send n calls as one JSON-RPC batch (a single HTTP request) and wait for
 * every answer; answers are matched to calls by id, in any order.
 *
 * methods: n method names.
 * params:  n JSON arrays/objects (NULL entries send []); every reference is
 *          STOLEN and the entries are set to NULL, whatever happens.
 * results: OUT, n slots; on success results[i] is call i's result (a new
 *          reference the caller must json_decref).  On failure all are NULL.
 *
 * n == 0 sends nothing and succeeds.  Failures are those of gl_rpc_call
 * (transport, HTTP status, garbage, a single error object instead of an
 * array), and GL_ERPC when an answer is missing, repeated or has an unknown
 * id, or when any call got a JSON-RPC error object: the message names the
 * first such call's index and method.  gl_rpc_last_* describe the batch. */
gl_code gl_rpc_call_batch(gl_rpc *rpc, size_t n, const char *const *methods, json_t **params,
                          json_t **results /* OUT */, gl_err *err);

/* Copy at most `max` bytes of foreign text `in` (length n) into `out`
 * (capacity cap > 0, always NUL-terminated), replacing every occurrence of
 * any of the `nsecrets` secrets (the longest match first) with "***" and
 * control characters with spaces; "..." marks a cut.  Returns the length
 * written.  Cannot fail.  Used wherever text from outside (curl's error
 * buffer, an endpoint's message, a body excerpt) may quote a URL's key. */
size_t gl_rpc_scrub_text(const char *const *secrets, size_t nsecrets, const char *in, size_t n, size_t max,
                         char *out, size_t cap);

/* The body of a libcurl write callback, shared by gl_rpc and gl_endpoints:
 * append data[0..n) to `body` unless that would take it past `max` bytes.
 * Returns n, or 0 (which makes curl stop the transfer) after setting
 * *too_big, or *nomem when the append fails. */
size_t gl_rpc_take_body(gl_buf *body, size_t max, const char *data, size_t n, bool *too_big, bool *nomem);

/* The body of a libcurl header callback, shared by gl_rpc and gl_endpoints:
 * keep in `out` (capacity cap > 0, NUL-terminated) the Retry-After value of
 * the latest response, trimmed of blanks and line ends and cut to fit.  A
 * status line ("HTTP/...") begins a new response (after 100 Continue, say)
 * and empties `out`.  Returns whether `out` was written.  Cannot fail. */
bool gl_rpc_take_retry_after(const char *line, size_t n, char *out, size_t cap);

/* The HTTP status of the last call's response, or 0 when none arrived. */
long gl_rpc_last_http_status(const gl_rpc *rpc);

/* Whether the last call's response held a JSON-RPC error object; if so and
 * `code` is non-NULL, its code is stored there. */
bool gl_rpc_last_rpc_error(const gl_rpc *rpc, int64_t *code /* OUT */);

/* The endpoint's own words about the last call's failure, for classifying
 * it (range caps, rate limits): the JSON-RPC error's message, or, for an
 * HTTP status other than 200 without one, the start of the body.  Secrets
 * scrubbed, control characters as spaces, cut at 2048 bytes (with "...").
 * "" when there were none.  Valid until the next call. */
const char *gl_rpc_last_rpc_message(const gl_rpc *rpc);

/* The last response's Retry-After, in seconds from when it arrived (an
 * HTTP-date is converted; a date in the past gives 0), or -1 when absent or
 * unreadable. */
long gl_rpc_last_retry_after(const gl_rpc *rpc);

/* The last response's Retry-After header value as sent (trimmed, at most
 * 127 bytes), or "" when absent. */
const char *gl_rpc_last_retry_after_raw(const gl_rpc *rpc);

/* The endpoint URL, redacted: safe to print.  Owned by rpc. */
const char *gl_rpc_url_redacted(const gl_rpc *rpc);

/* Return a copy of `url` with its secrets replaced by "***", for logs and
 * error messages.  Kept: the scheme, host and port, fragments of the path
 * and query that read as words.  Replaced:
 *   - the userinfo ("user:pass@" becomes "***@");
 *   - every path segment that does not read as a word: a segment is kept
 *     when it has at most 3 characters, or is at most 20 of [a-z . _ -],
 *     or fewer than 12 letters (any case), or at most 12 decimal digits
 *     (in /v3/KEY only KEY is replaced; /ext/bc/C/rpc is kept whole);
 *   - every query value whose name contains key, token, secret, pass, auth,
 *     sig or cred (any case), and every other value, or bare query word,
 *     that does not read as a word by the rule above;
 *   - the fragment, if not empty.
 * A string without "scheme://" is read as host[:port][/path][?query].
 * The result is a new heap string the caller frees; NULL when `url` is NULL
 * or memory runs out. */
char *gl_rpc_redact_url(const char *url);

#endif
