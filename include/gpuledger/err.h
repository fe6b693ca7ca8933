/* err.h - error reporting for every gpuledger module.
 *
 * Library functions never print and never exit: they return a gl_code and,
 * when the caller passes a non-NULL gl_err, fill it with a human-readable
 * message that names what went wrong.  The message lives in a fixed buffer so
 * that running out of memory can be reported without allocating.
 *
 * Convention: a function returning gl_code returns GL_OK (0) on success.  On
 * failure it returns the code and leaves its outputs in a defined "empty"
 * state (documented per function).  `err` may always be NULL.
 */
#ifndef GPULEDGER_ERR_H
#define GPULEDGER_ERR_H

#include <stdarg.h>

typedef enum gl_code {
    GL_OK = 0,
    GL_EINVAL,   /* malformed input: bad hex, bad RLP, bad signature, ... */
    GL_ENOMEM,   /* allocation failed */
    GL_ERANGE,   /* value does not fit (overflow, too long) */
    GL_EIO,      /* file or network I/O failed */
    GL_ERPC,     /* a JSON-RPC endpoint answered with an error or garbage */
    GL_EDB,      /* the store failed or is damaged/foreign */
    GL_EVERIFY,  /* data did not match what it claims (hash, sender, root) */
    GL_ENOTSUP,  /* well-formed but unsupported (unknown tx type, ...) */
    GL_ECANCELED,/* stopped on request (a stop hook said so) */
} gl_code;

#define GL_ERR_MSG_MAX 512

typedef struct gl_err {
    gl_code code;
    char msg[GL_ERR_MSG_MAX];
} gl_err;

/* Record an error in `err` (if non-NULL) and return `code`, so that library
 * code can write `return gl_err_set(err, GL_EINVAL, "bad x: %s", s);`. */
gl_code gl_err_set(gl_err *err, gl_code code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prefix the message already in `err` with more context ("field 'to': " +
 * old message) and return err->code (GL_OK if err is NULL). */
gl_code gl_err_prefix(gl_err *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Reset to GL_OK with an empty message. */
void gl_err_clear(gl_err *err);

/* A short name for the code: "invalid input", "out of memory", ... */
const char *gl_code_name(gl_code code);

#endif
