/* u256.c - 256-bit unsigned arithmetic for token amounts (see u256.h).
 *
 * Only what amounts need: parse, print, add/sub with overflow checks, and
 * multiply/divide by a 64-bit integer.  unsigned __int128 carries the limbs.
 */
#include <string.h>

#include "gpuledger/bytes.h"
#include "gpuledger/u256.h"

typedef unsigned __int128 u128;

bool gl_u256_is_zero(const gl_u256 *a) { return !(a->w[0] | a->w[1] | a->w[2] | a->w[3]); }

int gl_u256_cmp(const gl_u256 *a, const gl_u256 *b)
{
    for (int i = 3; i >= 0; i--)
        if (a->w[i] != b->w[i])
            return a->w[i] < b->w[i] ? -1 : 1;
    return 0;
}

bool gl_u256_to_u64(const gl_u256 *a, uint64_t *out)
{
    if (a->w[1] | a->w[2] | a->w[3])
        return false;
    *out = a->w[0];
    return true;
}

gl_code gl_u256_from_be(gl_u256 *out, const uint8_t *be, size_t n, gl_err *err)
{
    memset(out, 0, sizeof *out);
    if (n > 32)
        return gl_err_set(err, GL_ERANGE, "integer of %zu bytes exceeds 256 bits", n);
    for (size_t i = 0; i < n; i++) {
        size_t bit = (n - 1 - i) * 8;
        out->w[bit / 64] |= (uint64_t)be[i] << (bit % 64);
    }
    return GL_OK;
}

void gl_u256_to_be(const gl_u256 *a, uint8_t out[32])
{
    for (size_t i = 0; i < 32; i++) {
        size_t bit = (31 - i) * 8;
        out[i] = (uint8_t)(a->w[bit / 64] >> (bit % 64));
    }
}

size_t gl_u256_to_be_min(const gl_u256 *a, uint8_t out[32])
{
    uint8_t full[32];
    gl_u256_to_be(a, full);
    size_t skip = 0;
    while (skip < 32 && full[skip] == 0)
        skip++;
    memcpy(out, full + skip, 32 - skip);
    return 32 - skip;
}

gl_code gl_u256_parse_hex(gl_u256 *out, const char *s, gl_err *err)
{
    memset(out, 0, sizeof *out);
    const char *p = s;
    if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X'))
        p += 2;
    if (!*p)
        return gl_err_set(err, GL_EINVAL, "empty hex quantity \"%s\"", s);
    while (*p == '0' && p[1])
        p++;
    size_t n = strlen(p);
    if (n > 64)
        return gl_err_set(err, GL_ERANGE, "hex quantity \"%.80s\" exceeds 256 bits", s);
    for (size_t i = 0; i < n; i++) {
        int d = gl_hex_digit((unsigned char)p[n - 1 - i]);
        if (d < 0)
            return gl_err_set(err, GL_EINVAL, "bad hex digit in \"%.80s\"", s);
        out->w[i / 16] |= (uint64_t)d << (4 * (i % 16));
    }
    return GL_OK;
}

gl_code gl_u256_parse_dec(gl_u256 *out, const char *s, gl_err *err)
{
    memset(out, 0, sizeof *out);
    if (!*s)
        return gl_err_set(err, GL_EINVAL, "empty decimal number");
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9')
            return gl_err_set(err, GL_EINVAL, "bad decimal digit in \"%.80s\"", s);
        gl_u256 digit = gl_u256_from_u64((uint64_t)(*p - '0'));
        if (gl_u256_mul_u64(out, out, 10, NULL) || gl_u256_add(out, out, &digit, NULL)) {
            memset(out, 0, sizeof *out);
            return gl_err_set(err, GL_ERANGE, "decimal number \"%.80s\" exceeds 256 bits", s);
        }
    }
    return GL_OK;
}

gl_code gl_u256_parse(gl_u256 *out, const char *s, gl_err *err)
{
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
        return gl_u256_parse_hex(out, s, err);
    return gl_u256_parse_dec(out, s, err);
}



gl_code gl_u256_add(gl_u256 *r, const gl_u256 *a, const gl_u256 *b, gl_err *err)
{
    u128 carry = 0;
    gl_u256 t;
    for (int i = 0; i < 4; i++) {
        carry += (u128)a->w[i] + b->w[i];
        t.w[i] = (uint64_t)carry;
        carry >>= 64;
    }
    *r = t;
    return carry ? gl_err_set(err, GL_ERANGE, "256-bit addition overflows") : GL_OK;
}

gl_code gl_u256_sub(gl_u256 *r, const gl_u256 *a, const gl_u256 *b, gl_err *err)
{
    if (gl_u256_cmp(a, b) < 0)
        return gl_err_set(err, GL_ERANGE, "256-bit subtraction underflows");
    uint64_t borrow = 0;
    gl_u256 t;
    for (int i = 0; i < 4; i++) {
        u128 d = (u128)a->w[i] - b->w[i] - borrow;
        t.w[i] = (uint64_t)d;
        borrow = (uint64_t)(d >> 64) & 1;
    }
    *r = t;
    return GL_OK;
}

gl_code gl_u256_mul_u64(gl_u256 *r, const gl_u256 *a, uint64_t m, gl_err *err)
{
    u128 carry = 0;
    gl_u256 t;
    for (int i = 0; i < 4; i++) {
        carry += (u128)a->w[i] * m;
        t.w[i] = (uint64_t)carry;
        carry >>= 64;
    }
    *r = t;
    return carry ? gl_err_set(err, GL_ERANGE, "256-bit multiplication overflows") : GL_OK;
}

gl_code gl_u256_div_u64(gl_u256 *q, uint64_t *rem, const gl_u256 *a, uint64_t d, gl_err *err)
{
    if (d == 0)
        return gl_err_set(err, GL_EINVAL, "division by zero");
    u128 r = 0;
    gl_u256 t;
    for (int i = 3; i >= 0; i--) {
        r = r << 64 | a->w[i];
        t.w[i] = (uint64_t)(r / d);
        r %= d;
    }
    *q = t;
    if (rem)
        *rem = (uint64_t)r;
    return GL_OK;
}

gl_u256 gl_u256_shr(const gl_u256 *a, unsigned n)
{
    gl_u256 r = {{0, 0, 0, 0}};
    if (n >= 256)
        return r;
    unsigned limbs = n / 64, bits = n % 64;
    for (unsigned i = 0; i + limbs < 4; i++) {
        r.w[i] = a->w[i + limbs] >> bits;
        if (bits && i + limbs + 1 < 4)
            r.w[i] |= a->w[i + limbs + 1] << (64 - bits);
    }
    return r;
}

char *gl_u256_to_dec(const gl_u256 *a, char *out)
{
    char tmp[GL_U256_DEC_MAX];
    size_t n = 0;
    gl_u256 v = *a;
    do {
        uint64_t rem;
        /* 10^19 fits in 64 bits: peel 19 digits per division */
        (void)gl_u256_div_u64(&v, &rem, &v, 10000000000000000000ULL, NULL);
        for (int i = 0; i < 19; i++) {
            tmp[n++] = (char)('0' + rem % 10);
            rem /= 10;
            if (gl_u256_is_zero(&v) && rem == 0)
                break;
        }
    } while (!gl_u256_is_zero(&v));
    for (size_t i = 0; i < n; i++)
        out[i] = tmp[n - 1 - i];
    out[n] = '\0';
    return out;
}

char *gl_u256_to_hex(const gl_u256 *a, char *out)
{
    uint8_t be[32];
    gl_u256_to_be(a, be);
    char full[65];
    gl_hex_encode(be, 32, false, full);
    const char *p = full;
    while (*p == '0' && p[1])
        p++;
    out[0] = '0';
    out[1] = 'x';
    strcpy(out + 2, p);
    return out;
}
