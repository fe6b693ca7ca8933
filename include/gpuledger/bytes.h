/* bytes.h - growable byte buffers and hex conversion.
 *
 * gl_buf owns its memory: data is NULL or heap-allocated, len <= cap.
 * Init with gl_buf_init() (or = GL_BUF_INIT), free with gl_buf_release(),
 * which leaves it empty and reusable.
 *
 * Hex is Ethereum-style: an optional "0x"/"0X" prefix, digits of either case.
 * Encoding always produces lowercase.
 */
#ifndef GPULEDGER_BYTES_H
#define GPULEDGER_BYTES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gpuledger/err.h"

typedef struct gl_buf {
    uint8_t *data;
    size_t len;
    size_t cap;
} gl_buf;

#define GL_BUF_INIT {NULL, 0, 0}

void gl_buf_init(gl_buf *b);
void gl_buf_release(gl_buf *b);
/* Drop the contents, keep the allocation. */
void gl_buf_reset(gl_buf *b);
/* Make room for at least `extra` more bytes.  GL_ENOMEM on failure, b unchanged. */
gl_code gl_buf_reserve(gl_buf *b, size_t extra, gl_err *err);
gl_code gl_buf_append(gl_buf *b, const void *data, size_t len, gl_err *err);
gl_code gl_buf_push(gl_buf *b, uint8_t byte, gl_err *err);

/* Decode `hexlen` characters of hex (prefix allowed; odd digit counts are an
 * error) into `out`.  Fails with GL_EINVAL naming the bad character, or
 * GL_ERANGE when the result does not fit `outcap`.  `*outlen` gets the number
 * of bytes written. */
gl_code gl_hex_decode(const char *hex, size_t hexlen, uint8_t *out, size_t outcap,
                      size_t *outlen /* OUT */, gl_err *err);

/* Decode a NUL-terminated hex string, appending to `out`. */
gl_code gl_hex_decode_buf(const char *hex, gl_buf *out, gl_err *err);

/* Decode exactly `n` bytes (e.g. an address: n = 20, a hash: n = 32);
 * any other length is GL_EINVAL naming the expected and actual lengths. */
gl_code gl_hex_decode_exact(const char *hex, uint8_t *out, size_t n, gl_err *err);

/* Encode n bytes as lowercase hex into `out`, which must hold 2n+3 chars
 * (prefix and NUL).  `prefix` adds "0x".  Returns out. */
char *gl_hex_encode(const uint8_t *data, size_t n, bool prefix, char *out);

/* Same, into a fresh heap string (caller frees).  NULL when out of memory. */
char *gl_hex_encode_alloc(const uint8_t *data, size_t n, bool prefix);

/* Is `c` a hex digit?  Value of a hex digit, or -1. */
int gl_hex_digit(int c);

/* Parse n bytes of text (not NUL-terminated) as an unsigned 64-bit number:
 * gl_dec_u64 decimal digits only (1 to 20 of them); gl_qty_u64 a JSON-RPC
 * quantity, "0x" then hex digits (leading zeros allowed).  False, *out
 * untouched, for anything else or a value over 2^64 - 1. */
bool gl_dec_u64(const char *p, size_t n, uint64_t *out);
bool gl_qty_u64(const char *p, size_t n, uint64_t *out);

#endif
