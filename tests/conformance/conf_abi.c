/* conf_abi.c - ethereum/tests ABITests/basic_abi_tests.json.
 *
 * Each vector has `types`, `args` and the expected encoding `result`.  The
 * args are encoded as the parameter list (types...) and compared byte for
 * byte with `result`; then `result` is decoded and compared with the args.
 *
 * The vectors write values as their authors' library took them: integers as
 * JSON numbers, and bytes/bytesN as plain text ("1234567890" for a bytes10).
 * They are turned into gl_abi's forms here: text for a bytes type becomes
 * its 0x-hex, and for the comparison after decoding integers become decimal
 * strings and addresses lowercase (the encoder takes the JSON numbers as
 * they are).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "conf.h"
#include "gpuledger/abi.h"
#include "gpuledger/bytes.h"

/* The vector's value as gl_abi takes it for encoding (decoded = 0) or as
 * gl_abi_decode gives it back (decoded = 1).  NULL when the vector's value
 * does not fit the type. */
static json_t *adapt(const gl_abi_type *t, const json_t *v, int decoded)
{
    switch (t->kind) {
    case GL_ABI_UINT: case GL_ABI_INT:
        if (json_is_integer(v) && decoded) {
            char num[32];
            snprintf(num, sizeof num, "%lld", (long long)json_integer_value(v));
            return json_string(num);
        }
        return json_deep_copy(v);
    case GL_ABI_ADDRESS: {
        const char *s = json_string_value(v);
        if (!s)
            return NULL;
        char *low = strdup(s);
        if (!low)
            return NULL;
        for (char *p = low; *p; p++)
            *p = (char)tolower((unsigned char)*p);
        json_t *r = json_string(decoded ? low : s);
        free(low);
        return r;
    }
    case GL_ABI_FIXED_BYTES: case GL_ABI_BYTES: {
        const char *s = json_string_value(v);
        if (!s)
            return NULL;
        if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
            return json_deep_copy(v);
        char *hex = gl_hex_encode_alloc((const uint8_t *)s, json_string_length(v), true);
        json_t *r = hex ? json_string(hex) : NULL;
        free(hex);
        return r;
    }
    case GL_ABI_BOOL: case GL_ABI_STRING:
        return json_deep_copy(v);
    case GL_ABI_ARRAY: case GL_ABI_FIXED_ARRAY: case GL_ABI_TUPLE:
        break;
    }
    if (!json_is_array(v))
        return NULL;
    json_t *arr = json_array();
    size_t i;
    const json_t *x;
    json_array_foreach(v, i, x) {
        const gl_abi_type *et = t->kind == GL_ABI_TUPLE ? (i < t->ncomps ? t->comps[i].type : NULL)
                                                         : t->elem;
        json_t *a = et ? adapt(et, x, decoded) : NULL;
        if (!a || json_array_append_new(arr, a)) {
            json_decref(arr);
            return NULL;
        }
    }
    return arr;
}

static void run_vector(const char *file, const char *name, const json_t *vec, conf_stats *st)
{
    const json_t *types = json_object_get(vec, "types");
    const json_t *args = json_object_get(vec, "args");
    const char *result = json_string_value(json_object_get(vec, "result"));
    if (!json_is_array(types) || !json_is_array(args) || !result) {
        conf_result(st, 0, file, name, "malformed vector (types, args, result)");
        return;
    }
    /* "(" types joined by "," ")" */
    gl_buf sig = GL_BUF_INIT;
    size_t i;
    const json_t *ty;
    gl_buf_push(&sig, '(', NULL);
    json_array_foreach(types, i, ty) {
        const char *s = json_string_value(ty);
        if (i)
            gl_buf_push(&sig, ',', NULL);
        if (s)
            gl_buf_append(&sig, s, strlen(s), NULL);
    }
    gl_buf_append(&sig, ")", 2, NULL);

    gl_abi_type *t = NULL;
    gl_err err = {GL_OK, ""};
    json_t *in = NULL, *want = NULL, *got = NULL;
    gl_buf enc = GL_BUF_INIT, expect = GL_BUF_INIT;
    char *enchex = NULL;
    if (gl_abi_type_parse(&t, (const char *)sig.data, &err)) {
        conf_result(st, 0, file, name, "types: %s", err.msg);
        goto out;
    }
    in = adapt(t, args, 0);
    want = adapt(t, args, 1);
    if (!in || !want || gl_hex_decode_buf(result, &expect, &err)) {
        conf_result(st, 0, file, name, "args do not fit the types, or bad result hex %s", err.msg);
        goto out;
    }
    if (gl_abi_encode(&enc, t, in, &err)) {
        conf_result(st, 0, file, name, "encode failed: %s", err.msg);
        goto out;
    }
    enchex = gl_hex_encode_alloc(enc.data ? enc.data : (const uint8_t *)"", enc.len, false);
    if (enc.len != expect.len || memcmp(enc.data, expect.data, enc.len)) {
        conf_result(st, 0, file, name, "encoding differs:\n  got  %s\n  want %s", enchex ? enchex : "?",
                    result);
        goto out;
    }
    if (gl_abi_decode(&got, t, expect.data, expect.len, 0, &err)) {
        conf_result(st, 0, file, name, "decode failed: %s", err.msg);
        goto out;
    }
    if (!json_equal(got, want)) {
        char *g = json_dumps(got, JSON_COMPACT), *w = json_dumps(want, JSON_COMPACT);
        conf_result(st, 0, file, name, "decoded values differ:\n  got  %s\n  want %s", g ? g : "?",
                    w ? w : "?");
        free(g);
        free(w);
        goto out;
    }
    conf_result(st, 1, file, name, "ok");
out:
    free(enchex);
    json_decref(in);
    json_decref(want);
    json_decref(got);
    gl_buf_release(&enc);
    gl_buf_release(&expect);
    gl_buf_release(&sig);
    gl_abi_type_free(t);
}

int conf_abi(const char *dir, conf_stats *st)
{
    char path[4096];
    json_error_t jerr;
    const char *file = "basic_abi_tests.json";
    snprintf(path, sizeof path, "%s/ethereum-tests/ABITests/%s", dir, file);
    json_t *root = json_load_file(path, 0, &jerr);
    if (!root) {
        fprintf(stderr, "conformance abi: cannot load %s: %s\n", path, jerr.text);
        return 1;
    }
    const char *name;
    json_t *vec;
    json_object_foreach(root, name, vec)
        run_vector(file, name, vec, st);
    json_decref(root);
    return 0;
}
