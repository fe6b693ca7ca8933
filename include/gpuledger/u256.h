/* u256.h - 256-bit unsigned integers for token amounts and EVM words.
 *
 * Token amounts are 256-bit on chain; they are never squeezed into a double.
 * The value is four 64-bit limbs, least significant first.  Every operation
 * reports overflow instead of wrapping silently.
 */
#ifndef GPULEDGER_U256_H
#define GPULEDGER_U256_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gpuledger/err.h"

typedef struct gl_u256 {
    uint64_t w[4]; /* w[0] least significant */
} gl_u256;

/* Enough for 2^256-1 in decimal (78 digits) plus NUL. */
#define GL_U256_DEC_MAX 80
/* "0x" + 64 digits + NUL. */
#define GL_U256_HEX_MAX 67

static inline gl_u256 gl_u256_from_u64(uint64_t v) { gl_u256 r = {{v, 0, 0, 0}}; return r; }
bool gl_u256_is_zero(const gl_u256 *a);
/* -1, 0, 1 as a <, ==, > b. */
int gl_u256_cmp(const gl_u256 *a, const gl_u256 *b);
/* Fits in 64 bits?  If so *out gets it. */
bool gl_u256_to_u64(const gl_u256 *a, uint64_t *out);

/* Big-endian bytes (up to 32; fewer are left-padded with zeros). */
gl_code gl_u256_from_be(gl_u256 *out, const uint8_t *be, size_t n, gl_err *err);
/* Exactly 32 big-endian bytes. */
void gl_u256_to_be(const gl_u256 *a, uint8_t out[32]);
/* Minimal big-endian bytes (no leading zeros; zero gives length 0), as RLP wants.
 * Returns the length written to out (<= 32). */
size_t gl_u256_to_be_min(const gl_u256 *a, uint8_t out[32]);

/* Parse "0x..." hex or plain decimal.  Empty strings, stray characters and
 * values >= 2^256 are errors.  "0x" alone is rejected; "0x0" is zero. */
gl_code gl_u256_parse(gl_u256 *out, const char *s, gl_err *err);
gl_code gl_u256_parse_hex(gl_u256 *out, const char *s, gl_err *err);
gl_code gl_u256_parse_dec(gl_u256 *out, const char *s, gl_err *err);

/* r = a + b; GL_ERANGE on overflow (r then unspecified). r may alias. */
gl_code gl_u256_add(gl_u256 *r, const gl_u256 *a, const gl_u256 *b, gl_err *err);
/* r = a - b; GL_ERANGE when b > a. */
gl_code gl_u256_sub(gl_u256 *r, const gl_u256 *a, const gl_u256 *b, gl_err *err);
/* r = a * m; GL_ERANGE on overflow. */
gl_code gl_u256_mul_u64(gl_u256 *r, const gl_u256 *a, uint64_t m, gl_err *err);
/* q = a / d, *rem = a % d (rem may be NULL); GL_EINVAL when d == 0. */
gl_code gl_u256_div_u64(gl_u256 *q, uint64_t *rem, const gl_u256 *a, uint64_t d, gl_err *err);
/* Shift right by n bits (n < 256). */
gl_u256 gl_u256_shr(const gl_u256 *a, unsigned n);

/* Decimal string into out (at least GL_U256_DEC_MAX bytes).  Returns out. */
char *gl_u256_to_dec(const gl_u256 *a, char *out);
/* "0x"-prefixed minimal hex ("0x0" for zero), as JSON-RPC quantities. */
char *gl_u256_to_hex(const gl_u256 *a, char *out);

#endif
