/* abi_enc.c - ABI encoding from JSON values (parameter lists, calldata,
 * indexed-parameter topics) and the cast-style text-to-value conversion
 * used by the CLI (see abi.h for the value forms).
 *
 * Encoding writes heads straight into the output and collects the tails of
 * dynamic members in a side buffer, so offsets are known as each member is
 * written.  On failure the output is cut back to its old length.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpuledger/abi.h"
#include "gpuledger/keccak.h"
#include "gpuledger/u256.h"

typedef struct enc {
    char path[256];
    size_t pathlen;
} enc;

/* ------------------------------------------------------------------ */
/* Paths and errors                                                    */
/* ------------------------------------------------------------------ */

static size_t epush(enc *e, const char *name, size_t index, bool is_index)
{
    size_t old = e->pathlen;
    int n;
    if (is_index)
        n = snprintf(e->path + old, sizeof e->path - old, "[%zu]", index);
    else if (name && *name)
        n = snprintf(e->path + old, sizeof e->path - old, "%s%s", old ? "." : "", name);
    else
        n = snprintf(e->path + old, sizeof e->path - old, "%s#%zu", old ? "." : "", index);
    if (n > 0)
        e->pathlen = old + (size_t)n < sizeof e->path ? old + (size_t)n : sizeof e->path - 1;
    return old;
}

static void epop(enc *e, size_t old)
{
    e->pathlen = old;
    e->path[old] = '\0';
}

static gl_code efail(enc *e, gl_err *err, gl_code code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static gl_code efail(enc *e, gl_err *err, gl_code code, const char *fmt, ...)
{
    char msg[GL_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (e->pathlen)
        return gl_err_set(err, code, "%s: %s", e->path, msg);
    return gl_err_set(err, code, "%s", msg);
}

/* Put the path in front of a message some other module wrote. */
static gl_code eprefix(enc *e, gl_err *err, gl_code rc)
{
    if (e->pathlen)
        gl_err_prefix(err, "%s: ", e->path);
    return rc;
}

static const char *json_kind(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_INTEGER: return "an integer";
    case JSON_REAL: return "a real number";
    case JSON_TRUE: case JSON_FALSE: return "a boolean";
    case JSON_NULL: return "null";
    }
    return "?";
}

/* ------------------------------------------------------------------ */
/* Value types                                                         */
/* ------------------------------------------------------------------ */

static void size_word(uint8_t w[32], size_t v)
{
    memset(w, 0, 32);
    for (int i = 31; i >= 24; i--, v >>= 8)
        w[i] = (uint8_t)v;
}

static bool all_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return false;
    return true;
}

static gl_code enc_integer(enc *e, const gl_abi_type *t, const json_t *v, uint8_t w[32], gl_err *err)
{
    bool neg = false;
    gl_u256 mag;
    gl_code rc;
    size_t nb = t->bits / 8;
    const char *tn = t->kind == GL_ABI_INT ? "int" : "uint";
    if (json_is_integer(v)) {
        json_int_t x = json_integer_value(v);
        neg = x < 0;
        mag = gl_u256_from_u64(neg ? (uint64_t)(-(x + 1)) + 1 : (uint64_t)x);
    } else if (json_is_string(v)) {
        const char *s = json_string_value(v);
        if (*s == '-') {
            neg = true;
            s++;
        }
        if ((rc = gl_u256_parse(&mag, s, err)))
            return eprefix(e, err, rc);
    } else {
        return efail(e, err, GL_EINVAL, "%s%u wants an integer or a decimal/0x string, not %s",
                     tn, t->bits, json_kind(v));
    }
    gl_u256_to_be(&mag, w);
    if (neg && gl_u256_is_zero(&mag))
        neg = false;
    if (neg && t->kind == GL_ABI_UINT)
        return efail(e, err, GL_EINVAL, "negative value for uint%u", t->bits);
    if (!neg) {
        bool top = t->kind == GL_ABI_INT && (w[32 - nb] & 0x80);
        if (!all_zero(w, 32 - nb) || top)
            return efail(e, err, GL_EINVAL, "value does not fit in %s%u", tn, t->bits);
        return GL_OK;
    }
    /* w = ~mag + 1, which must be a proper sign extension */
    unsigned carry = 1;
    for (int i = 31; i >= 0; i--) {
        unsigned x = (uint8_t)~w[i] + carry;
        w[i] = (uint8_t)x;
        carry = x >> 8;
    }
    for (size_t i = 0; i < 32 - nb; i++)
        if (w[i] != 0xff)
            return efail(e, err, GL_EINVAL, "value does not fit in int%u", t->bits);
    if (!(w[32 - nb] & 0x80))
        return efail(e, err, GL_EINVAL, "value does not fit in int%u", t->bits);
    return GL_OK;
}

/* EIP-55: with mixed case, letter i is upper case iff nibble i of
 * keccak256(lowercase hex) is >= 8. */
static bool checksum_ok(const char *hex40)
{
    char lower[40];
    bool has_upper = false, has_lower = false;
    for (int i = 0; i < 40; i++) {
        char c = hex40[i];
        has_upper |= (c >= 'A' && c <= 'F');
        has_lower |= (c >= 'a' && c <= 'f');
        lower[i] = (char)tolower((unsigned char)c);
    }
    if (!has_upper || !has_lower)
        return true;
    uint8_t h[32];
    gl_keccak256(lower, 40, h);
    for (int i = 0; i < 40; i++) {
        char c = hex40[i];
        if (!isalpha((unsigned char)c))
            continue;
        int nib = (i % 2) ? (h[i / 2] & 15) : (h[i / 2] >> 4);
        if ((nib >= 8) != (c >= 'A' && c <= 'F'))
            return false;
    }
    return true;
}

static gl_code enc_address(enc *e, const json_t *v, uint8_t w[32], gl_err *err)
{
    const char *s = json_string_value(v);
    if (!s)
        return efail(e, err, GL_EINVAL, "address wants a 0x string, not %s", json_kind(v));
    memset(w, 0, 32);
    if (strlen(s) != 42 || s[0] != '0' || (s[1] != 'x' && s[1] != 'X'))
        return efail(e, err, GL_EINVAL, "address '%.60s' is not 0x and 40 hex digits", s);
    gl_code rc = gl_hex_decode_exact(s, w + 12, 20, err);
    if (rc)
        return eprefix(e, err, rc);
    if (!checksum_ok(s + 2))
        return efail(e, err, GL_EINVAL, "address '%s' has a bad EIP-55 checksum", s);
    return GL_OK;
}

/* Hex string into a fresh buffer. */
static gl_code hex_value(enc *e, const json_t *v, const char *what, gl_buf *b, gl_err *err)
{
    const char *s = json_string_value(v);
    if (!s)
        return efail(e, err, GL_EINVAL, "%s wants a 0x hex string, not %s", what, json_kind(v));
    if (s[0] != '0' || (s[1] != 'x' && s[1] != 'X'))
        return efail(e, err, GL_EINVAL, "%s value '%.40s%s' does not start with 0x", what, s,
                     strlen(s) > 40 ? "..." : "");
    gl_code rc = gl_hex_decode_buf(s, b, err);
    return rc ? eprefix(e, err, rc) : GL_OK;
}

static gl_code enc_word(enc *e, const gl_abi_type *t, const json_t *v, uint8_t w[32], gl_err *err)
{
    gl_buf b = GL_BUF_INIT;
    gl_code rc = GL_OK;
    memset(w, 0, 32);
    switch (t->kind) {
    case GL_ABI_UINT: case GL_ABI_INT:
        return enc_integer(e, t, v, w, err);
    case GL_ABI_ADDRESS:
        return enc_address(e, v, w, err);
    case GL_ABI_BOOL:
        if (!json_is_boolean(v))
            return efail(e, err, GL_EINVAL, "bool wants true or false, not %s", json_kind(v));
        w[31] = json_is_true(v);
        return GL_OK;
    case GL_ABI_FIXED_BYTES:
        if ((rc = hex_value(e, v, "bytesN", &b, err)))
            break;
        if (b.len != t->size)
            rc = efail(e, err, GL_EINVAL, "bytes%zu wants exactly %zu bytes, got %zu", t->size,
                       t->size, b.len);
        else
            memcpy(w, b.data, b.len);
        break;
    case GL_ABI_BYTES: case GL_ABI_STRING: case GL_ABI_ARRAY: case GL_ABI_FIXED_ARRAY:
    case GL_ABI_TUPLE:
        rc = efail(e, err, GL_EINVAL, "internal: not a value type");
        break;
    }
    gl_buf_release(&b);
    return rc;
}

/* The raw bytes of a bytes or string value, into b. */
static gl_code dyn_bytes(enc *e, const gl_abi_type *t, const json_t *v, gl_buf *b, gl_err *err)
{
    if (t->kind == GL_ABI_BYTES)
        return hex_value(e, v, "bytes", b, err);
    if (json_is_string(v))
        return gl_buf_append(b, json_string_value(v), json_string_length(v), err);
    const json_t *hex = json_is_object(v) ? json_object_get(v, "hex") : NULL;
    if (hex && json_object_size(v) == 1)
        return hex_value(e, hex, "string {\"hex\"}", b, err);
    return efail(e, err, GL_EINVAL, "string wants a JSON string or {\"hex\":\"0x..\"}, not %s",
                 json_kind(v));
}

/* ------------------------------------------------------------------ */
/* Sequences                                                           */
/* ------------------------------------------------------------------ */

/* The member values of an array or tuple value as a C array (borrowed
 * references), checking the count. */
static gl_code members(enc *e, const gl_abi_type *t, const json_t *v, const json_t ***vals,
                       size_t *n, gl_err *err)
{
    *vals = NULL;
    *n = 0;
    if (t->kind == GL_ABI_TUPLE && json_is_object(v)) {
        for (size_t i = 0; i < t->ncomps; i++)
            if (!t->comps[i].name[0])
                return efail(e, err, GL_EINVAL, "tuple has unnamed components: give an array");
        const char *key;
        const json_t *x;
        json_object_foreach((json_t *)v, key, x) {
            size_t i;
            for (i = 0; i < t->ncomps && strcmp(key, t->comps[i].name); i++)
                ;
            if (i == t->ncomps)
                return efail(e, err, GL_EINVAL, "tuple has no component '%s'", key);
        }
        *vals = calloc(t->ncomps ? t->ncomps : 1, sizeof **vals);
        if (!*vals)
            return efail(e, err, GL_ENOMEM, "out of memory");
        for (size_t i = 0; i < t->ncomps; i++) {
            (*vals)[i] = json_object_get(v, t->comps[i].name);
            if (!(*vals)[i]) {
                free(*vals);
                *vals = NULL;
                return efail(e, err, GL_EINVAL, "component '%s' is missing", t->comps[i].name);
            }
        }
        *n = t->ncomps;
        return GL_OK;
    }
    if (!json_is_array(v))
        return efail(e, err, GL_EINVAL, "%s wants an array%s, not %s",
                     t->kind == GL_ABI_TUPLE ? "tuple" : "array",
                     t->kind == GL_ABI_TUPLE ? " or object" : "", json_kind(v));
    size_t cnt = json_array_size(v);
    size_t want = t->kind == GL_ABI_TUPLE ? t->ncomps : t->kind == GL_ABI_FIXED_ARRAY ? t->size : cnt;
    if (cnt != want)
        return efail(e, err, GL_EINVAL, "%s wants %zu values, got %zu",
                     t->kind == GL_ABI_TUPLE ? "tuple" : "fixed array", want, cnt);
    *vals = calloc(cnt ? cnt : 1, sizeof **vals);
    if (!*vals)
        return efail(e, err, GL_ENOMEM, "out of memory");
    for (size_t i = 0; i < cnt; i++)
        (*vals)[i] = json_array_get(v, i);
    *n = cnt;
    return GL_OK;
}

static const gl_abi_type *member_type(const gl_abi_type *t, size_t i)
{
    return t->kind == GL_ABI_TUPLE ? t->comps[i].type : t->elem;
}

static size_t member_push(enc *e, const gl_abi_type *t, size_t i)
{
    if (t->kind == GL_ABI_TUPLE)
        return epush(e, t->comps[i].name, i, false);
    return epush(e, NULL, i, true);
}

static gl_code enc_value(enc *e, gl_buf *out, const gl_abi_type *t, const json_t *v, gl_err *err);

/* Heads into out, tails after them. */
static gl_code enc_seq(enc *e, gl_buf *out, const gl_abi_type *t, const json_t **vals, size_t n,
                       gl_err *err)
{
    size_t head_total = 0;
    gl_buf tail = GL_BUF_INIT;
    gl_code rc = GL_OK;
    uint8_t w[32];
    for (size_t i = 0; i < n; i++)
        head_total += member_type(t, i)->head_size;
    for (size_t i = 0; i < n && !rc; i++) {
        const gl_abi_type *mt = member_type(t, i);
        size_t old = member_push(e, t, i);
        if (mt->dynamic) {
            size_word(w, head_total + tail.len);
            rc = gl_buf_append(out, w, 32, err);
            if (!rc)
                rc = enc_value(e, &tail, mt, vals[i], err);
        } else {
            rc = enc_value(e, out, mt, vals[i], err);
        }
        if (!rc)
            epop(e, old);
    }
    if (!rc)
        rc = gl_buf_append(out, tail.data, tail.len, err);
    gl_buf_release(&tail);
    return rc;
}

static gl_code enc_value(enc *e, gl_buf *out, const gl_abi_type *t, const json_t *v, gl_err *err)
{
    uint8_t w[32];
    gl_code rc;
    const json_t **vals;
    size_t n;
    static const uint8_t zeros[32];
    switch (t->kind) {
    case GL_ABI_UINT: case GL_ABI_INT: case GL_ABI_ADDRESS: case GL_ABI_BOOL:
    case GL_ABI_FIXED_BYTES:
        if ((rc = enc_word(e, t, v, w, err)))
            return rc;
        return gl_buf_append(out, w, 32, err);
    case GL_ABI_BYTES: case GL_ABI_STRING: {
        gl_buf b = GL_BUF_INIT;
        rc = dyn_bytes(e, t, v, &b, err);
        if (!rc) {
            size_word(w, b.len);
            rc = gl_buf_append(out, w, 32, err);
        }
        if (!rc)
            rc = gl_buf_append(out, b.data, b.len, err);
        if (!rc)
            rc = gl_buf_append(out, zeros, (32 - b.len % 32) % 32, err);
        gl_buf_release(&b);
        return rc;
    }
    case GL_ABI_ARRAY: case GL_ABI_FIXED_ARRAY: case GL_ABI_TUPLE:
        break;
    }
    if ((rc = members(e, t, v, &vals, &n, err)))
        return rc;
    if (t->kind == GL_ABI_ARRAY) {
        size_word(w, n);
        rc = gl_buf_append(out, w, 32, err);
    }
    if (!rc)
        rc = enc_seq(e, out, t, vals, n, err);
    free(vals);
    return rc;
}

gl_code gl_abi_encode(gl_buf *out, const gl_abi_type *t, const json_t *value, gl_err *err)
{
    enc e = {{0}, 0};
    size_t old = out->len;
    gl_code rc = enc_value(&e, out, t, value, err);
    if (rc)
        out->len = old;
    return rc;
}

gl_code gl_abi_encode_call(gl_buf *out, const gl_abi_sig *fn, const json_t *args, gl_err *err)
{
    size_t old = out->len;
    gl_code rc = gl_buf_append(out, fn->hash, 4, err);
    if (!rc)
        rc = gl_abi_encode(out, fn->inputs, args, err);
    if (rc) {
        out->len = old;
        return (gl_err_prefix(err, "%s: ", fn->canonical), rc);
    }
    return GL_OK;
}

/* ------------------------------------------------------------------ */
/* Indexed-parameter topics                                            */
/* ------------------------------------------------------------------ */

/* Solidity's in-place encoding of an indexed array or struct member. */
static gl_code inplace(enc *e, gl_buf *out, const gl_abi_type *t, const json_t *v, gl_err *err)
{
    uint8_t w[32];
    gl_code rc;
    static const uint8_t zeros[32];
    const json_t **vals;
    size_t n;
    switch (t->kind) {
    case GL_ABI_UINT: case GL_ABI_INT: case GL_ABI_ADDRESS: case GL_ABI_BOOL:
    case GL_ABI_FIXED_BYTES:
        if ((rc = enc_word(e, t, v, w, err)))
            return rc;
        return gl_buf_append(out, w, 32, err);
    case GL_ABI_BYTES: case GL_ABI_STRING: {
        size_t old = out->len;
        if ((rc = dyn_bytes(e, t, v, out, err)))
            return rc;
        return gl_buf_append(out, zeros, (32 - (out->len - old) % 32) % 32, err);
    }
    case GL_ABI_ARRAY: case GL_ABI_FIXED_ARRAY: case GL_ABI_TUPLE:
        break;
    }
    if ((rc = members(e, t, v, &vals, &n, err)))
        return rc;
    for (size_t i = 0; i < n && !rc; i++) {
        size_t old = member_push(e, t, i);
        rc = inplace(e, out, member_type(t, i), vals[i], err);
        if (!rc)
            epop(e, old);
    }
    free(vals);
    return rc;
}

gl_code gl_abi_encode_topic(uint8_t out[32], const gl_abi_type *t, const json_t *value,
                            gl_err *err)
{
    enc e = {{0}, 0};
    gl_buf b = GL_BUF_INIT;
    gl_code rc = GL_OK;
    memset(out, 0, 32);
    switch (t->kind) {
    case GL_ABI_UINT: case GL_ABI_INT: case GL_ABI_ADDRESS: case GL_ABI_BOOL:
    case GL_ABI_FIXED_BYTES:
        return enc_word(&e, t, value, out, err);
    case GL_ABI_BYTES: case GL_ABI_STRING:
        rc = dyn_bytes(&e, t, value, &b, err);
        break;
    case GL_ABI_ARRAY: case GL_ABI_FIXED_ARRAY: case GL_ABI_TUPLE:
        rc = inplace(&e, &b, t, value, err);
        break;
    }
    if (!rc)
        gl_keccak256(b.data ? b.data : (const uint8_t *)"", b.len, out);
    gl_buf_release(&b);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Text to values (cast style)                                         */
/* ------------------------------------------------------------------ */

static void trim(const char **s, size_t *n)
{
    while (*n && isspace((unsigned char)**s))
        (*s)++, (*n)--;
    while (*n && isspace((unsigned char)(*s)[*n - 1]))
        (*n)--;
}

/* "..." with \" and \\ escapes into a fresh JSON string. */
static json_t *unquote(const char *s, size_t n)
{
    char *tmp = malloc(n + 1);
    if (!tmp)
        return NULL;
    size_t k = 0;
    for (size_t i = 1; i + 1 < n; i++) {
        if (s[i] == '\\' && i + 2 < n)
            i++;
        tmp[k++] = s[i];
    }
    json_t *j = json_stringn(tmp, k);
    free(tmp);
    return j;
}

static bool quoted(const char *s, size_t n) { return n >= 2 && s[0] == '"' && s[n - 1] == '"'; }

static gl_code text_value(const gl_abi_type *t, const char *s, size_t n, json_t **out, gl_err *err);

/* Split the inside of "[...]" / "(...)" at top-level commas. */
static gl_code text_list(const gl_abi_type *t, const char *s, size_t n, json_t **out, gl_err *err)
{
    char open = s[0], close = open == '(' ? ')' : ']';
    if (n < 2 || s[n - 1] != close)
        return gl_err_set(err, GL_EINVAL, "'%.*s' does not end with '%c'", (int)(n > 60 ? 60 : n), s,
                          close);
    json_t *arr = json_array();
    if (!arr)
        return gl_err_set(err, GL_ENOMEM, "out of memory");
    const char *body = s + 1;
    size_t blen = n - 2, start = 0, idx = 0;
    int depth = 0;
    bool inq = false;
    const char *b2 = body;
    size_t l2 = blen;
    trim(&b2, &l2);
    if (l2 == 0) {
        *out = arr;
        return GL_OK;
    }
    for (size_t i = 0; i <= blen; i++) {
        char c = i < blen ? body[i] : ',';
        if (inq) {
            if (c == '\\' && i + 1 < blen)
                i++;
            else if (c == '"')
                inq = false;
            continue;
        }
        if (c == '"') {
            inq = true;
        } else if (c == '[' || c == '(') {
            depth++;
        } else if (c == ']' || c == ')') {
            if (--depth < 0)
                break;
        } else if (c == ',' && depth == 0) {
            const gl_abi_type *et;
            if (t->kind == GL_ABI_TUPLE) {
                if (idx >= t->ncomps) {
                    json_decref(arr);
                    return gl_err_set(err, GL_EINVAL, "tuple has %zu components, got more values",
                                      t->ncomps);
                }
                et = t->comps[idx].type;
            } else {
                et = t->elem;
            }
            json_t *v;
            gl_code rc = text_value(et, body + start, i - start, &v, err);
            if (rc) {
                json_decref(arr);
                return (gl_err_prefix(err, "[%zu]: ", idx), rc);
            }
            if (json_array_append_new(arr, v)) {
                json_decref(arr);
                return gl_err_set(err, GL_ENOMEM, "out of memory");
            }
            start = i + 1;
            idx++;
        }
    }
    if (inq || depth != 0) {
        json_decref(arr);
        return gl_err_set(err, GL_EINVAL, "unbalanced %s in '%.*s'", inq ? "quote" : "brackets",
                          (int)(n > 60 ? 60 : n), s);
    }
    *out = arr;
    return GL_OK;
}

static gl_code text_value(const gl_abi_type *t, const char *s, size_t n, json_t **out, gl_err *err)
{
    *out = NULL;
    trim(&s, &n);
    switch (t->kind) {
    case GL_ABI_ARRAY: case GL_ABI_FIXED_ARRAY:
        if (!n || s[0] != '[')
            return gl_err_set(err, GL_EINVAL, "array value '%.*s' does not start with '['",
                              (int)(n > 60 ? 60 : n), s);
        return text_list(t, s, n, out, err);
    case GL_ABI_TUPLE:
        if (!n || (s[0] != '(' && s[0] != '['))
            return gl_err_set(err, GL_EINVAL, "tuple value '%.*s' does not start with '(' or '['",
                              (int)(n > 60 ? 60 : n), s);
        return text_list(t, s, n, out, err);
    case GL_ABI_BOOL:
        if (quoted(s, n))
            s++, n -= 2;
        if (n == 4 && !strncmp(s, "true", 4))
            *out = json_true();
        else if (n == 5 && !strncmp(s, "false", 5))
            *out = json_false();
        else
            return gl_err_set(err, GL_EINVAL, "bool value '%.*s' is not true or false",
                              (int)(n > 60 ? 60 : n), s);
        return GL_OK;
    case GL_ABI_STRING:
        *out = quoted(s, n) ? unquote(s, n) : json_stringn(s, n);
        break;
    case GL_ABI_UINT: case GL_ABI_INT: case GL_ABI_ADDRESS: case GL_ABI_FIXED_BYTES:
    case GL_ABI_BYTES:
        if (quoted(s, n))
            s++, n -= 2;
        *out = json_stringn(s, n);
        break;
    }
    if (!*out)
        return gl_err_set(err, GL_EINVAL, "value '%.*s' is not valid UTF-8 (or out of memory)",
                          (int)(n > 60 ? 60 : n), s);
    return GL_OK;
}

gl_code gl_abi_value_from_text(json_t **out, const gl_abi_type *t, const char *text, gl_err *err)
{
    return text_value(t, text, strlen(text), out, err);
}
