/* bytes.c - growable byte buffers and hex conversion (see bytes.h). */
#include <stdlib.h>
#include <string.h>

#include "gpuledger/bytes.h"

void gl_buf_init(gl_buf *b)
{
    b->data = NULL;
    b->len = b->cap = 0;
}

void gl_buf_release(gl_buf *b)
{
    free(b->data);
    gl_buf_init(b);
}

void gl_buf_reset(gl_buf *b) { b->len = 0; }

gl_code gl_buf_reserve(gl_buf *b, size_t extra, gl_err *err)
{
    if (extra <= b->cap - b->len)
        return GL_OK;
    if (extra > SIZE_MAX / 2 - b->len)
        return gl_err_set(err, GL_ENOMEM, "buffer of %zu bytes cannot grow by %zu", b->len, extra);
    size_t want = b->len + extra, cap = b->cap ? b->cap : 64;
    while (cap < want)
        cap *= 2;
    uint8_t *p = realloc(b->data, cap);
    if (!p)
        return gl_err_set(err, GL_ENOMEM, "out of memory growing a buffer to %zu bytes", cap);
    b->data = p;
    b->cap = cap;
    return GL_OK;
}

gl_code gl_buf_append(gl_buf *b, const void *data, size_t len, gl_err *err)
{
    if (len == 0)
        return GL_OK;
    gl_code rc = gl_buf_reserve(b, len, err);
    if (rc)
        return rc;
    memcpy(b->data + b->len, data, len);
    b->len += len;
    return GL_OK;
}

gl_code gl_buf_push(gl_buf *b, uint8_t byte, gl_err *err) { return gl_buf_append(b, &byte, 1, err); }

/* Hex digit values, -1 elsewhere: logs and blocks are megabytes of hex, and
 * a table lookup per character is what decoding them costs. */
static const signed char HEX_VAL[256] = {
    ['0'] = 1,  ['1'] = 2,  ['2'] = 3,  ['3'] = 4,  ['4'] = 5,  ['5'] = 6,  ['6'] = 7,  ['7'] = 8,
    ['8'] = 9,  ['9'] = 10, ['a'] = 11, ['b'] = 12, ['c'] = 13, ['d'] = 14, ['e'] = 15, ['f'] = 16,
    ['A'] = 11, ['B'] = 12, ['C'] = 13, ['D'] = 14, ['E'] = 15, ['F'] = 16,
}; /* value + 1, so that the zero default means "not a digit" */

int gl_hex_digit(int c) { return c >= 0 && c < 256 ? HEX_VAL[c] - 1 : -1; }

static size_t skip_prefix(const char *hex, size_t hexlen)
{
    return (hexlen >= 2 && hex[0] == '0' && (hex[1] == 'x' || hex[1] == 'X')) ? 2 : 0;
}

gl_code gl_hex_decode(const char *hex, size_t hexlen, uint8_t *out, size_t outcap, size_t *outlen,
                      gl_err *err)
{
    *outlen = 0;
    size_t start = skip_prefix(hex, hexlen);
    size_t digits = hexlen - start;
    if (digits % 2)
        return gl_err_set(err, GL_EINVAL, "hex string has an odd number of digits (%zu)", digits);
    if (digits / 2 > outcap)
        return gl_err_set(err, GL_ERANGE, "hex string of %zu bytes does not fit in %zu", digits / 2, outcap);
    for (size_t i = 0; i < digits; i += 2) {
        int hi = gl_hex_digit((unsigned char)hex[start + i]);
        int lo = gl_hex_digit((unsigned char)hex[start + i + 1]);
        if (hi < 0 || lo < 0) {
            size_t at = start + i + (hi < 0 ? 0 : 1);
            unsigned char c = (unsigned char)hex[at];
            if (c >= 0x20 && c < 0x7f)
                return gl_err_set(err, GL_EINVAL, "bad hex character '%c' at offset %zu", c, at);
            return gl_err_set(err, GL_EINVAL, "bad hex byte 0x%02x at offset %zu", c, at);
        }
        out[i / 2] = (uint8_t)(hi << 4 | lo);
    }
    *outlen = digits / 2;
    return GL_OK;
}

gl_code gl_hex_decode_buf(const char *hex, gl_buf *out, gl_err *err)
{
    size_t n = strlen(hex), got;
    gl_code rc = gl_buf_reserve(out, n / 2 + 1, err);
    if (rc)
        return rc;
    rc = gl_hex_decode(hex, n, out->data + out->len, out->cap - out->len, &got, err);
    if (rc == GL_OK)
        out->len += got;
    return rc;
}

gl_code gl_hex_decode_exact(const char *hex, uint8_t *out, size_t n, gl_err *err)
{
    size_t len = strlen(hex), start = skip_prefix(hex, len), got;
    if (len - start != 2 * n)
        return gl_err_set(err, GL_EINVAL, "expected %zu bytes of hex, got %zu digits", n, len - start);
    return gl_hex_decode(hex, len, out, n, &got, err);
}

char *gl_hex_encode(const uint8_t *data, size_t n, bool prefix, char *out)
{
    static const char digits[] = "0123456789abcdef";
    char *p = out;
    if (prefix) {
        *p++ = '0';
        *p++ = 'x';
    }
    for (size_t i = 0; i < n; i++) {
        *p++ = digits[data[i] >> 4];
        *p++ = digits[data[i] & 15];
    }
    *p = '\0';
    return out;
}

char *gl_hex_encode_alloc(const uint8_t *data, size_t n, bool prefix)
{
    if (n > (SIZE_MAX - 3) / 2)
        return NULL;
    char *out = malloc(2 * n + 3);
    return out ? gl_hex_encode(data, n, prefix, out) : NULL;
}

bool gl_dec_u64(const char *p, size_t n, uint64_t *out)
{
    uint64_t x = 0;
    if (!n || n > 20)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9' || x > (UINT64_MAX - (uint64_t)(p[i] - '0')) / 10)
            return false;
        x = x * 10 + (uint64_t)(p[i] - '0');
    }
    *out = x;
    return true;
}

bool gl_qty_u64(const char *p, size_t n, uint64_t *out)
{
    if (n < 3 || p[0] != '0' || (p[1] != 'x' && p[1] != 'X'))
        return false;
    uint64_t x = 0;
    for (size_t i = 2; i < n; i++) {
        int d = gl_hex_digit((unsigned char)p[i]);
        if (d < 0 || x >> 60)
            return false;
        x = x << 4 | (uint64_t)d;
    }
    *out = x;
    return true;
}
