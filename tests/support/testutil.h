/* testutil.h - small helpers shared by the cmocka tests.
 *
 * - gl_test_root: where the repository is, so tests find fixtures and tools
 *   whatever directory they are started from.
 * - gl_stub: a one-thread HTTP/1.1 server on a free loopback port that
 *   answers each request with whatever a test's handler composes, byte for
 *   byte.  It lets the RPC client be tested against answers no real node
 *   gives on demand: HTTP 429 with Retry-After, 5xx pages, garbage, wrong
 *   ids, truncated bodies, gzip.  It serves one connection at a time and
 *   keeps it alive until the handler's answer says "Connection: close", so
 *   connection reuse can be counted.
 *
 * Test-support code: it may print diagnostics on stderr; it never exits.
 */
#ifndef GPULEDGER_TESTUTIL_H
#define GPULEDGER_TESTUTIL_H

#include <stddef.h>

#include "gpuledger/bytes.h"

/* The repository root: $GPULEDGER_ROOT if set, else the first of the current
 * directory and its ancestors that holds include/gpuledger/err.h.  Written
 * into buf (capacity cap); returns buf, or NULL when not found or too long. */
const char *gl_test_root(char *buf, size_t cap);

typedef struct gl_stub gl_stub;

/* A stub handler: called on the stub's thread for request number `nreq`
 * (0-based over the stub's life) with its head (request line and headers,
 * NUL-terminated) and body (NUL-terminated too; body_len excludes the NUL).
 * It appends the raw answer to `resp` (use gl_stub_reply for the usual
 * shape).  An empty `resp` closes the connection without answering.  The
 * handler must not call cmocka assertions: record what it saw in ctx and
 * check it on the test's thread after the call. */
typedef void (*gl_stub_fn)(void *ctx, unsigned nreq, const char *head, const char *body,
                           size_t body_len, gl_buf *resp);

/* Start a stub on 127.0.0.1 with a kernel-chosen port.  NULL (with a line
 * on stderr saying why) if the socket or thread cannot be made. */
gl_stub *gl_stub_start(gl_stub_fn fn, void *ctx);

/* "http://127.0.0.1:PORT/".  Owned by the stub. */
const char *gl_stub_url(const gl_stub *s);

/* How many connections were accepted and requests answered so far. */
unsigned gl_stub_connections(const gl_stub *s);
unsigned gl_stub_requests(const gl_stub *s);

/* Stop the thread (within ~50 ms), close every socket, free.  NULL is a
 * no-op. */
void gl_stub_stop(gl_stub *s);

/* Append "HTTP/1.1 STATUS Reason" + Content-Length + Content-Type:
 * application/json + `extra_headers` (each ending in "\r\n", may be NULL)
 * + a blank line + the body to `resp`.  Out of memory leaves resp short,
 * which the stub treats as a response to send anyway. */
void gl_stub_reply(gl_buf *resp, int status, const char *extra_headers, const void *body,
                   size_t body_len);

#endif
