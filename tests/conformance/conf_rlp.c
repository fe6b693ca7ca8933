/* conf_rlp.c - ethereum/tests RLPTests: encodings valid and invalid.
 *
 * rlptest.json: encode `in` (string, integer, "#bignum", or nested lists) and
 * compare with `out`; also decode `out` and compare the structure with `in`.
 * invalidRLPTest.json: every `out` must be rejected by the strict decoder.
 * RandomRLPTests: every `out` must decode, recursively, with nothing left over.
 */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "conf.h"
#include "gpuledger/bytes.h"
#include "gpuledger/rlp.h"

/* "#123..." integers may exceed 256 bits (the test "bigint" is 2^256), so
 * convert decimal to minimal big-endian bytes by schoolbook arithmetic. */
static gl_code put_bignum(gl_buf *out, const char *dec, gl_err *err)
{
    uint8_t be[128] = {0};
    for (const char *p = dec; *p; p++) {
        if (*p < '0' || *p > '9')
            return gl_err_set(err, GL_EINVAL, "bad bignum %s", dec);
        unsigned carry = (unsigned)(*p - '0');
        for (size_t i = sizeof be; i-- > 0;) {
            carry += be[i] * 10u;
            be[i] = (uint8_t)carry;
            carry >>= 8;
        }
        if (carry)
            return gl_err_set(err, GL_ERANGE, "bignum %s too large", dec);
    }
    size_t skip = 0;
    while (skip < sizeof be && be[skip] == 0)
        skip++;
    return gl_rlp_put_bytes(out, be + skip, sizeof be - skip, err);
}

static gl_code encode_json(const json_t *in, gl_buf *out, gl_err *err)
{
    if (json_is_array(in)) {
        size_t begin = gl_rlp_list_begin(out), i;
        json_t *v;
        json_array_foreach(in, i, v) {
            gl_code rc = encode_json(v, out, err);
            if (rc)
                return rc;
        }
        return gl_rlp_list_end(out, begin, err);
    }
    if (json_is_integer(in))
        return gl_rlp_put_u64(out, (uint64_t)json_integer_value(in), err);
    if (json_is_string(in)) {
        const char *s = json_string_value(in);
        if (s[0] == '#')
            return put_bignum(out, s + 1, err);
        return gl_rlp_put_bytes(out, (const uint8_t *)s, json_string_length(in), err);
    }
    return gl_err_set(err, GL_EINVAL, "unexpected JSON value in test input");
}

/* Decode `data` fully and recursively; compare with `expect` when non-NULL. */
static int decode_matches(const uint8_t *data, size_t len, const json_t *expect, int exact, gl_err *err)
{
    gl_rlp_item it;
    if (exact ? gl_rlp_decode_exact(data, len, &it, err) : gl_rlp_decode(data, len, &it, NULL, err))
        return 0;
    if (it.is_list) {
        if (expect && !json_is_array(expect))
            return gl_err_set(err, GL_EINVAL, "decoded a list where a string was expected"), 0;
        gl_rlp_iter iter;
        gl_rlp_item child;
        bool has;
        size_t n = 0;
        gl_rlp_iter_init(&iter, &it);
        for (;;) {
            if (gl_rlp_iter_next(&iter, &child, &has, err))
                return 0;
            if (!has)
                break;
            const json_t *sub = expect ? json_array_get(expect, n) : NULL;
            if (expect && !sub)
                return gl_err_set(err, GL_EINVAL, "decoded list is longer than expected"), 0;
            if (!decode_matches(child.raw, child.raw_len, sub, 1, err))
                return 0;
            n++;
        }
        if (expect && n != json_array_size(expect))
            return gl_err_set(err, GL_EINVAL, "decoded list is shorter than expected"), 0;
        return 1;
    }
    if (!expect)
        return 1;
    gl_buf enc = GL_BUF_INIT;
    int ok = encode_json(expect, &enc, err) == GL_OK && enc.len == it.raw_len &&
             memcmp(enc.data, it.raw, enc.len) == 0;
    gl_buf_release(&enc);
    if (!ok && err && !err->msg[0])
        gl_err_set(err, GL_EINVAL, "decoded string differs from the expected value");
    return ok;
}

static int run_file(const char *path, const char *name, conf_stats *st)
{
    json_error_t jerr;
    json_t *root = json_load_file(path, JSON_ALLOW_NUL, &jerr);
    if (!root) {
        conf_result(st, 0, name, "(file)", "cannot load: %s", jerr.text);
        return 1;
    }
    const char *test;
    json_t *t;
    json_object_foreach(root, test, t) {
        const json_t *in = json_object_get(t, "in");
        const char *outhex = json_string_value(json_object_get(t, "out"));
        gl_buf out = GL_BUF_INIT;
        gl_err err = {GL_OK, ""};
        if (!in || !outhex || gl_hex_decode_buf(outhex, &out, &err)) {
            conf_result(st, 0, name, test, "malformed vector %s", err.msg);
            gl_buf_release(&out);
            continue;
        }
        const char *mode = json_is_string(in) ? json_string_value(in) : "";
        if (!strcmp(mode, "INVALID")) {
            int accepted = decode_matches(out.data, out.len, NULL, 1, &err);
            conf_result(st, !accepted, name, test, "invalid RLP %s was accepted", outhex);
        } else if (!strcmp(mode, "VALID")) {
            int ok = decode_matches(out.data, out.len, NULL, 1, &err);
            conf_result(st, ok, name, test, "valid RLP rejected: %s", err.msg);
        } else {
            gl_buf enc = GL_BUF_INIT;
            int ok = encode_json(in, &enc, &err) == GL_OK && enc.len == out.len &&
                     memcmp(enc.data, out.data, out.len) == 0;
            int back = ok && decode_matches(out.data, out.len, in, 1, &err);
            conf_result(st, ok && back, name, test, "%s %s", ok ? "decode mismatch" : "encode mismatch",
                        err.msg);
            gl_buf_release(&enc);
        }
        gl_buf_release(&out);
    }
    json_decref(root);
    return 0;
}

int conf_rlp(const char *dir, conf_stats *st)
{
    static const char *files[] = {"rlptest.json", "invalidRLPTest.json", "RandomRLPTests/example.json"};
    int rc = 0;
    char path[4096];
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(path, sizeof path, "%s/ethereum-tests/RLPTests/%s", dir, files[i]);
        rc |= run_file(path, files[i], st);
    }
    return rc;
}
