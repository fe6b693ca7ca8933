/* rlp.c - strict Recursive Length Prefix decoding and encoding (see rlp.h).
 *
 * The canonical-form rules are the ones go-ethereum's rlp package enforces
 * (and the ethereum/tests RLPTests exercise): a lone byte < 0x80 must encode
 * as itself, short payloads must use the short form, lengths carry no
 * leading zero bytes, and no length may point past the input.
 */
#include <string.h>

#include "gpuledger/rlp.h"

/* ---------------------------------------------------------------- decoding */

gl_code gl_rlp_decode(const uint8_t *data, size_t len, gl_rlp_item *out, size_t *consumed, gl_err *err)
{
    memset(out, 0, sizeof *out);
    if (consumed)
        *consumed = 0;
    if (len == 0)
        return gl_err_set(err, GL_EINVAL, "rlp: empty input");
    uint8_t b = data[0];
    size_t hdr, plen;
    bool list = b >= 0xc0;
    if (b < 0x80) {
        hdr = 0;
        plen = 1;
    } else if (b <= 0xb7 || (b >= 0xc0 && b <= 0xf7)) {
        hdr = 1;
        plen = (size_t)(b - (list ? 0xc0 : 0x80));
        if (!list && plen == 1) {
            if (len < 2)
                return gl_err_set(err, GL_EINVAL, "rlp: string of 1 byte runs past the end of the input");
            if (data[1] < 0x80)
                return gl_err_set(err, GL_EINVAL,
                                  "rlp: non-canonical single byte 0x%02x wrapped in a string header", data[1]);
        }
    } else {
        size_t lenlen = (size_t)(b - (list ? 0xf7 : 0xb7));
        if (len < 1 + lenlen)
            return gl_err_set(err, GL_EINVAL, "rlp: %zu-byte length runs past the end of the input", lenlen);
        if (data[1] == 0)
            return gl_err_set(err, GL_EINVAL, "rlp: length with a leading zero byte");
        if (lenlen > sizeof(size_t))
            return gl_err_set(err, GL_ERANGE, "rlp: %zu-byte length is too large", lenlen);
        plen = 0;
        for (size_t i = 0; i < lenlen; i++)
            plen = plen << 8 | data[1 + i];
        if (plen < 56)
            return gl_err_set(err, GL_EINVAL,
                              "rlp: long-form length %zu for a payload under 56 bytes", plen);
        hdr = 1 + lenlen;
    }
    if (plen > len - hdr)
        return gl_err_set(err, GL_EINVAL, "rlp: %s of %zu bytes runs past the end of the input (%zu left)",
                          list ? "list" : "string", plen, len - hdr);
    out->is_list = list;
    out->payload = data + hdr;
    out->payload_len = plen;
    out->raw = data;
    out->raw_len = hdr + plen;
    if (consumed)
        *consumed = hdr + plen;
    return GL_OK;
}

gl_code gl_rlp_decode_exact(const uint8_t *data, size_t len, gl_rlp_item *out, gl_err *err)
{
    size_t used;
    gl_code rc = gl_rlp_decode(data, len, out, &used, err);
    if (rc)
        return rc;
    if (used != len)
        return gl_err_set(err, GL_EINVAL, "rlp: %zu trailing bytes after the item", len - used);
    return GL_OK;
}

void gl_rlp_iter_init(gl_rlp_iter *it, const gl_rlp_item *list)
{
    it->p = list->payload;
    it->left = list->payload_len;
}

gl_code gl_rlp_iter_next(gl_rlp_iter *it, gl_rlp_item *out, bool *has, gl_err *err)
{
    *has = false;
    if (it->left == 0)
        return GL_OK;
    size_t used;
    gl_code rc = gl_rlp_decode(it->p, it->left, out, &used, err);
    if (rc)
        return rc;
    it->p += used;
    it->left -= used;
    *has = true;
    return GL_OK;
}

gl_code gl_rlp_list_count(const gl_rlp_item *list, size_t *count, gl_err *err)
{
    *count = 0;
    if (!list->is_list)
        return gl_err_set(err, GL_EINVAL, "rlp: expected a list, found a string");
    gl_rlp_iter it;
    gl_rlp_item child;
    bool has;
    gl_rlp_iter_init(&it, list);
    for (;;) {
        gl_code rc = gl_rlp_iter_next(&it, &child, &has, err);
        if (rc)
            return rc;
        if (!has)
            return GL_OK;
        (*count)++;
    }
}

gl_code gl_rlp_list_items(const gl_rlp_item *list, gl_rlp_item *items, size_t n, gl_err *err)
{
    size_t count;
    gl_code rc = gl_rlp_list_count(list, &count, err);
    if (rc)
        return rc;
    if (count != n)
        return gl_err_set(err, GL_EINVAL, "rlp: expected a list of %zu items, found %zu", n, count);
    gl_rlp_iter it;
    bool has;
    gl_rlp_iter_init(&it, list);
    for (size_t i = 0; i < n; i++)
        (void)gl_rlp_iter_next(&it, &items[i], &has, NULL); /* validated by the count above */
    return GL_OK;
}

gl_code gl_rlp_to_u256(const gl_rlp_item *it, gl_u256 *out, gl_err *err)
{
    memset(out, 0, sizeof *out);
    if (it->is_list)
        return gl_err_set(err, GL_EINVAL, "rlp: expected an integer, found a list");
    if (it->payload_len > 0 && it->payload[0] == 0)
        return gl_err_set(err, GL_EINVAL, "rlp: integer with a leading zero byte");
    return gl_u256_from_be(out, it->payload, it->payload_len, err);
}

gl_code gl_rlp_to_u64(const gl_rlp_item *it, uint64_t *out, gl_err *err)
{
    gl_u256 v;
    *out = 0;
    gl_code rc = gl_rlp_to_u256(it, &v, err);
    if (rc)
        return rc;
    if (!gl_u256_to_u64(&v, out))
        return gl_err_set(err, GL_ERANGE, "rlp: integer exceeds 64 bits");
    return GL_OK;
}

gl_code gl_rlp_to_fixed(const gl_rlp_item *it, uint8_t *out, size_t n, gl_err *err)
{
    if (it->is_list)
        return gl_err_set(err, GL_EINVAL, "rlp: expected a %zu-byte string, found a list", n);
    if (it->payload_len != n)
        return gl_err_set(err, GL_EINVAL, "rlp: expected a %zu-byte string, found %zu bytes", n,
                          it->payload_len);
    memcpy(out, it->payload, n);
    return GL_OK;
}

/* ---------------------------------------------------------------- encoding */

/* Header bytes for a payload of `len` with short-form base `base` (0x80 or 0xc0). */
static size_t header(uint8_t hdr[9], size_t len, uint8_t base)
{
    if (len < 56) {
        hdr[0] = (uint8_t)(base + len);
        return 1;
    }
    size_t lenlen = 0;
    for (size_t v = len; v; v >>= 8)
        lenlen++;
    hdr[0] = (uint8_t)(base + 55 + lenlen);
    for (size_t i = 0; i < lenlen; i++)
        hdr[lenlen - i] = (uint8_t)(len >> (8 * i));
    return 1 + lenlen;
}

gl_code gl_rlp_put_bytes(gl_buf *out, const uint8_t *data, size_t len, gl_err *err)
{
    if (len == 1 && data[0] < 0x80)
        return gl_buf_push(out, data[0], err);
    uint8_t hdr[9];
    size_t h = header(hdr, len, 0x80);
    gl_code rc = gl_buf_reserve(out, h + len, err);
    if (rc)
        return rc;
    (void)gl_buf_append(out, hdr, h, NULL);
    (void)gl_buf_append(out, data, len, NULL);
    return GL_OK;
}

gl_code gl_rlp_put_u64(gl_buf *out, uint64_t v, gl_err *err)
{
    gl_u256 u = gl_u256_from_u64(v);
    return gl_rlp_put_u256(out, &u, err);
}

gl_code gl_rlp_put_u256(gl_buf *out, const gl_u256 *v, gl_err *err)
{
    uint8_t be[32];
    size_t n = gl_u256_to_be_min(v, be);
    return gl_rlp_put_bytes(out, be, n, err);
}

gl_code gl_rlp_put_raw(gl_buf *out, const uint8_t *data, size_t len, gl_err *err)
{
    return gl_buf_append(out, data, len, err);
}

gl_code gl_rlp_put_list_header(gl_buf *out, size_t payload_len, gl_err *err)
{
    uint8_t hdr[9];
    size_t h = header(hdr, payload_len, 0xc0);
    return gl_buf_append(out, hdr, h, err);
}

size_t gl_rlp_list_begin(const gl_buf *out) { return out->len; }

gl_code gl_rlp_list_end(gl_buf *out, size_t begin, gl_err *err)
{
    uint8_t hdr[9];
    size_t payload = out->len - begin;
    size_t h = header(hdr, payload, 0xc0);
    gl_code rc = gl_buf_reserve(out, h, err);
    if (rc)
        return rc;
    memmove(out->data + begin + h, out->data + begin, payload);
    memcpy(out->data + begin, hdr, h);
    out->len += h;
    return GL_OK;
}
