/* abi_dec.c - strict ABI decoding into JSON values: parameter lists,
 * event logs (topics + data) and calldata (see abi.h for the value forms
 * and the checks).
 *
 * Every read goes through dec_word()/dec_span(), which check the position
 * against the data size before touching memory, charge a budget of words
 * (so that aliased offsets cannot blow up the output) and track the end of
 * the furthest read (so that trailing garbage can be rejected).  A path of
 * parameter names ("items[3].name") is kept for error messages.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpuledger/abi.h"
#include "gpuledger/u256.h"

/* a parameter, then one frame per level a type may nest */
#define PATH_FRAMES (GL_ABI_MAX_DEPTH + 2)

typedef struct path_frame {
    const char *name; /* NULL or "": shown as #index */
    size_t index;
    bool is_index; /* an array element: shown as [index] */
} path_frame;

typedef struct dec {
    const uint8_t *data;
    size_t len;
    size_t budget; /* words that may still be read */
    size_t end;    /* one past the furthest byte read */
    /* The path is kept as frames and only formatted for an error: a
     * snprintf per parameter was ~2% of indexing a dense log range. */
    path_frame path[PATH_FRAMES];
    size_t depth; /* may exceed PATH_FRAMES: deeper frames are not kept */
} dec;

/* ------------------------------------------------------------------ */
/* Paths and errors                                                    */
/* ------------------------------------------------------------------ */

static size_t path_push(dec *d, const char *name, size_t index, bool is_index)
{
    if (d->depth < PATH_FRAMES)
        d->path[d->depth] = (path_frame){name, index, is_index};
    return d->depth++;
}

static size_t path_push_name(dec *d, const char *name, size_t index)
{
    return path_push(d, name, index, false);
}

static size_t path_push_index(dec *d, size_t index) { return path_push(d, NULL, index, true); }

static void path_pop(dec *d, size_t old) { d->depth = old; }

/* "items[3].name" into buf (size n), "..." where frames were not kept. */
static void path_format(const dec *d, char *buf, size_t n)
{
    size_t len = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < d->depth && len + 1 < n; i++) {
        int w;
        if (i >= PATH_FRAMES) {
            w = snprintf(buf + len, n - len, "...");
            i = d->depth;
        } else if (d->path[i].is_index) {
            w = snprintf(buf + len, n - len, "[%zu]", d->path[i].index);
        } else if (d->path[i].name && *d->path[i].name) {
            w = snprintf(buf + len, n - len, "%s%s", len ? "." : "", d->path[i].name);
        } else {
            w = snprintf(buf + len, n - len, "%s#%zu", len ? "." : "", d->path[i].index);
        }
        if (w < 0)
            break;
        len = len + (size_t)w < n ? len + (size_t)w : n - 1;
    }
}

static gl_code dfail(dec *d, gl_err *err, gl_code code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static gl_code dfail(dec *d, gl_err *err, gl_code code, const char *fmt, ...)
{
    char msg[GL_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (d->depth) {
        char path[256];
        path_format(d, path, sizeof path);
        return gl_err_set(err, code, "%s: %s", path, msg);
    }
    return gl_err_set(err, code, "%s", msg);
}

static gl_code nomem(dec *d, gl_err *err) { return dfail(d, err, GL_ENOMEM, "out of memory"); }

/* ------------------------------------------------------------------ */
/* Checked reads                                                       */
/* ------------------------------------------------------------------ */

/* Make sure [pos, pos+n) lies in the data; charge ceil(n/32) words. */
static gl_code dec_span(dec *d, size_t pos, size_t n, const char *what, gl_err *err)
{
    if (pos > d->len || d->len - pos < n)
        return dfail(d, err, GL_EINVAL, "%s needs %zu bytes at offset %zu but the data has only %zu",
                     what, n, pos, d->len);
    size_t words = n / 32 + (n % 32 != 0);
    if (words > d->budget)
        return dfail(d, err, GL_EINVAL,
                     "offsets make the decoder read more than twice the data (aliased offsets)");
    d->budget -= words;
    if (pos + n > d->end)
        d->end = pos + n;
    return GL_OK;
}

static gl_code dec_word(dec *d, size_t pos, const char *what, const uint8_t **w, gl_err *err)
{
    gl_code rc = dec_span(d, pos, 32, what, err);
    if (rc == GL_OK)
        *w = d->data + pos;
    return rc;
}

static bool all_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return false;
    return true;
}

/* A word used as an offset or length: must fit in size_t and be <= limit. */
static gl_code word_size(dec *d, const uint8_t *w, size_t limit, const char *what, size_t *out,
                         gl_err *err)
{
    char hex[67];
    if (!all_zero(w, 24)) {
        gl_hex_encode(w, 32, true, hex);
        return dfail(d, err, GL_EINVAL, "%s %s is far beyond the data (%zu bytes)", what, hex, d->len);
    }
    uint64_t v = 0;
    for (int i = 24; i < 32; i++)
        v = v << 8 | w[i];
    if (v > (uint64_t)limit)
        return dfail(d, err, GL_EINVAL, "%s %llu runs past the end of the data (%zu bytes)", what,
                     (unsigned long long)v, d->len);
    *out = (size_t)v;
    return GL_OK;
}

/* ------------------------------------------------------------------ */
/* Values                                                              */
/* ------------------------------------------------------------------ */

/* Strict UTF-8: no overlong forms, no surrogates, nothing past U+10FFFF. */
static bool utf8_valid(const uint8_t *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint8_t c = s[i];
        size_t k;
        uint32_t cp, min;
        if (c < 0x80) {
            i++;
            continue;
        } else if ((c & 0xe0) == 0xc0) {
            k = 1, cp = c & 0x1f, min = 0x80;
        } else if ((c & 0xf0) == 0xe0) {
            k = 2, cp = c & 0x0f, min = 0x800;
        } else if ((c & 0xf8) == 0xf0) {
            k = 3, cp = c & 0x07, min = 0x10000;
        } else {
            return false;
        }
        if (n - i <= k)
            return false;
        for (size_t j = 1; j <= k; j++) {
            if ((s[i + j] & 0xc0) != 0x80)
                return false;
            cp = cp << 6 | (s[i + j] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        i += k + 1;
    }
    return true;
}

static json_t *hex_json(const uint8_t *p, size_t n)
{
    /* Words and addresses (the per-event common case) stay on the stack;
     * hex is ASCII, so jansson's UTF-8 check is skipped. */
    char buf[2 * 64 + 3];
    if (n <= 64) {
        gl_hex_encode(p, n, true, buf);
        return json_stringn_nocheck(buf, 2 * n + 2);
    }
    char *s = gl_hex_encode_alloc(p, n, true);
    if (!s)
        return NULL;
    json_t *j = json_stringn_nocheck(s, 2 * n + 2);
    free(s);
    return j;
}

/* Decimal of a 32-byte big-endian word, signed (two's complement) or not. */
static json_t *int_json(const uint8_t w[32], bool negative)
{
    uint8_t mag[32];
    memcpy(mag, w, 32);
    if (negative) { /* magnitude = ~w + 1 */
        unsigned carry = 1;
        for (int i = 31; i >= 0; i--) {
            unsigned v = (uint8_t)~mag[i] + carry;
            mag[i] = (uint8_t)v;
            carry = v >> 8;
        }
    }
    gl_u256 u;
    char num[GL_U256_DEC_MAX + 1];
    if (gl_u256_from_be(&u, mag, 32, NULL))
        return NULL;
    num[0] = '-';
    gl_u256_to_dec(&u, num + 1);
    return json_string_nocheck(negative ? num : num + 1); /* digits: ASCII */
}

/* abi.h: the word checks, shared by the decoders and the indexer's direct
 * path. */
bool gl_abi_word_ok(const gl_abi_type *t, const uint8_t w[32])
{
    size_t nb;
    switch (t->kind) {
    case GL_ABI_UINT:
        return all_zero(w, 32 - t->bits / 8);
    case GL_ABI_INT: {
        nb = t->bits / 8;
        bool neg = (w[32 - nb] & 0x80) != 0;
        for (size_t i = 0; i < 32 - nb; i++)
            if (w[i] != (neg ? 0xff : 0x00))
                return false;
        return true;
    }
    case GL_ABI_ADDRESS:
        return all_zero(w, 12);
    case GL_ABI_BOOL:
        return all_zero(w, 31) && w[31] <= 1;
    case GL_ABI_FIXED_BYTES:
        return all_zero(w + t->size, 32 - t->size);
    case GL_ABI_BYTES: case GL_ABI_STRING: case GL_ABI_ARRAY: case GL_ABI_FIXED_ARRAY:
    case GL_ABI_TUPLE:
        return false;
    }
    return false;
}

/* Decode a value type from one 32-byte word (from data or a topic); the
 * checks are gl_abi_word_ok's, each failure named here. */
static gl_code dec_elementary(dec *d, const gl_abi_type *t, const uint8_t w[32], json_t **out,
                              gl_err *err)
{
    char hex[67];
    *out = NULL;
    bool ok = gl_abi_word_ok(t, w);
    switch (t->kind) {
    case GL_ABI_UINT:
        if (!ok)
            return dfail(d, err, GL_EINVAL, "uint%u value %s has dirty high bits", t->bits,
                         gl_hex_encode(w, 32, true, hex));
        *out = int_json(w, false);
        break;
    case GL_ABI_INT:
        if (!ok)
            return dfail(d, err, GL_EINVAL, "int%u value %s is not sign-extended", t->bits,
                         gl_hex_encode(w, 32, true, hex));
        *out = int_json(w, (w[32 - t->bits / 8] & 0x80) != 0);
        break;
    case GL_ABI_ADDRESS:
        if (!ok)
            return dfail(d, err, GL_EINVAL, "address %s has non-zero high 12 bytes",
                         gl_hex_encode(w, 32, true, hex));
        *out = hex_json(w + 12, 20);
        break;
    case GL_ABI_BOOL:
        if (!ok)
            return dfail(d, err, GL_EINVAL, "bool value %s is neither 0 nor 1",
                         gl_hex_encode(w, 32, true, hex));
        *out = json_boolean(w[31]);
        break;
    case GL_ABI_FIXED_BYTES:
        if (!ok)
            return dfail(d, err, GL_EINVAL, "bytes%zu value %s has non-zero padding", t->size,
                         gl_hex_encode(w, 32, true, hex));
        *out = hex_json(w, t->size);
        break;
    case GL_ABI_BYTES: case GL_ABI_STRING: case GL_ABI_ARRAY: case GL_ABI_FIXED_ARRAY:
    case GL_ABI_TUPLE:
        return dfail(d, err, GL_EINVAL, "internal: not a value type");
    }
    return *out ? GL_OK : nomem(d, err);
}

static gl_code dec_at(dec *d, const gl_abi_type *t, size_t pos, json_t **out, gl_err *err);

/* bytes or string whose length word is at pos. */
static gl_code dec_bytes(dec *d, const gl_abi_type *t, size_t pos, json_t **out, gl_err *err)
{
    const uint8_t *w;
    size_t n;
    gl_code rc = dec_word(d, pos, "length", &w, err);
    if (rc)
        return rc;
    pos += 32;
    if ((rc = word_size(d, w, d->len - pos, "length", &n, err)))
        return rc;
    size_t padded = n + (32 - n % 32) % 32;
    if (padded > d->len - pos)
        return dfail(d, err, GL_EINVAL, "%zu bytes padded to %zu need more data than the %zu left",
                     n, padded, d->len - pos);
    if ((rc = dec_span(d, pos, padded, "content", err)))
        return rc;
    const uint8_t *p = d->data + pos;
    if (!all_zero(p + n, padded - n))
        return dfail(d, err, GL_EINVAL, "non-zero padding after %zu bytes of %s", n,
                     t->kind == GL_ABI_STRING ? "string" : "bytes");
    if (t->kind == GL_ABI_BYTES) {
        *out = hex_json(p, n);
    } else if (utf8_valid(p, n)) {
        *out = json_stringn_nocheck((const char *)p, n);
    } else {
        *out = json_object();
        if (*out && json_object_set_new(*out, "hex", hex_json(p, n))) {
            json_decref(*out);
            *out = NULL;
        }
    }
    return *out ? GL_OK : nomem(d, err);
}

/* Does a tuple decode to an object (every component named, names distinct)? */
static bool tuple_named(const gl_abi_param *comps, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (!comps[i].name[0])
            return false;
        for (size_t j = 0; j < i; j++)
            if (!strcmp(comps[i].name, comps[j].name))
                return false;
    }
    return true;
}

/* n elements laid out as a tuple from `base`: heads in order, dynamic ones
 * by offset relative to base.  Types come from comps (tuple) or elem
 * (arrays).  Appends the values to the JSON array `arr`. */
static gl_code dec_seq(dec *d, const gl_abi_param *comps, const gl_abi_type *elem, size_t n,
                       size_t base, bool index_path, json_t *arr, gl_err *err)
{
    size_t head = base;
    for (size_t i = 0; i < n; i++) {
        const gl_abi_type *t = comps ? comps[i].type : elem;
        size_t old = index_path ? path_push_index(d, i) : path_push_name(d, comps[i].name, i);
        json_t *v = NULL;
        gl_code rc;
        if (t->dynamic) {
            const uint8_t *w;
            size_t off;
            rc = dec_word(d, head, "offset", &w, err);
            if (!rc)
                rc = word_size(d, w, d->len - base, "offset", &off, err);
            if (!rc)
                rc = dec_at(d, t, base + off, &v, err);
        } else {
            rc = dec_at(d, t, head, &v, err);
        }
        if (rc)
            return rc;
        path_pop(d, old);
        if (json_array_append_new(arr, v))
            return nomem(d, err);
        head += t->head_size;
    }
    return GL_OK;
}

/* Turn an array of tuple values into an object when the names allow it.
 * Steals `arr`. */
static json_t *tuple_shape(json_t *arr, const gl_abi_param *comps, size_t n)
{
    if (!arr || !tuple_named(comps, n))
        return arr;
    json_t *obj = json_object();
    for (size_t i = 0; obj && i < n; i++) {
        if (json_object_set(obj, comps[i].name, json_array_get(arr, i))) {
            json_decref(obj);
            obj = NULL;
        }
    }
    json_decref(arr);
    return obj;
}

/* Check that a sequence's heads fit before following them (cheap early
 * rejection of absurd lengths). */
static gl_code heads_fit(dec *d, size_t base, size_t n, size_t head_size, gl_err *err)
{
    if (base > d->len || (n && head_size > (d->len - base) / n))
        return dfail(d, err, GL_EINVAL, "%zu elements of %zu bytes each do not fit in the %zu "
                     "bytes after offset %zu", n, head_size, base > d->len ? 0 : d->len - base,
                     base);
    return GL_OK;
}

/* Decode the value of type t whose own encoding starts at pos. */
static gl_code dec_at(dec *d, const gl_abi_type *t, size_t pos, json_t **out, gl_err *err)
{
    const uint8_t *w;
    gl_code rc;
    json_t *arr;
    size_t n;
    *out = NULL;
    switch (t->kind) {
    case GL_ABI_UINT: case GL_ABI_INT: case GL_ABI_ADDRESS: case GL_ABI_BOOL:
    case GL_ABI_FIXED_BYTES:
        if ((rc = dec_word(d, pos, "value", &w, err)))
            return rc;
        return dec_elementary(d, t, w, out, err);
    case GL_ABI_BYTES: case GL_ABI_STRING:
        return dec_bytes(d, t, pos, out, err);
    case GL_ABI_ARRAY:
        if ((rc = dec_word(d, pos, "array length", &w, err)))
            return rc;
        pos += 32;
        if ((rc = word_size(d, w, d->len - pos, "array length", &n, err)))
            return rc;
        if ((rc = heads_fit(d, pos, n, t->elem->head_size, err)))
            return rc;
        break;
    case GL_ABI_FIXED_ARRAY:
        n = t->size;
        if ((rc = heads_fit(d, pos, n, t->elem->head_size, err)))
            return rc;
        break;
    case GL_ABI_TUPLE:
        n = 0;
        for (size_t i = 0; i < t->ncomps; i++)
            n += t->comps[i].type->head_size;
        if ((rc = heads_fit(d, pos, 1, n, err)))
            return rc;
        if (!(arr = json_array()))
            return nomem(d, err);
        if ((rc = dec_seq(d, t->comps, NULL, t->ncomps, pos, false, arr, err))) {
            json_decref(arr);
            return rc;
        }
        *out = tuple_shape(arr, t->comps, t->ncomps);
        return *out ? GL_OK : nomem(d, err);
    }
    /* arrays */
    if (!(arr = json_array()))
        return nomem(d, err);
    if ((rc = dec_seq(d, NULL, t->elem, n, pos, true, arr, err))) {
        json_decref(arr);
        return rc;
    }
    *out = arr;
    return GL_OK;
}

static void dec_init(dec *d, const uint8_t *data, size_t len)
{
    d->data = data;
    d->len = len;
    d->budget = 2 * (len / 32) + 2;
    d->end = 0;
    d->depth = 0;
}

static gl_code check_trailing(dec *d, unsigned flags, gl_err *err)
{
    if (!(flags & GL_ABI_ALLOW_TRAILING) && d->end < d->len)
        return gl_err_set(err, GL_EINVAL, "%zu unused bytes after the encoding (%zu of %zu used)",
                          d->len - d->end, d->end, d->len);
    return GL_OK;
}

gl_code gl_abi_decode(json_t **out, const gl_abi_type *t, const uint8_t *data, size_t len,
                      unsigned flags, gl_err *err)
{
    dec d;
    dec_init(&d, data, len);
    gl_code rc = dec_at(&d, t, 0, out, err);
    if (!rc && (rc = check_trailing(&d, flags, err))) {
        json_decref(*out);
        *out = NULL;
    }
    return rc;
}

gl_code gl_abi_decode_call(json_t **out, const gl_abi_sig *fn, const uint8_t *data, size_t len,
                           unsigned flags, gl_err *err)
{
    char want[11], got[11];
    *out = NULL;
    if (len < 4)
        return gl_err_set(err, GL_EINVAL, "calldata of %zu bytes has no 4-byte selector", len);
    if (memcmp(data, fn->hash, 4))
        return gl_err_set(err, GL_EINVAL, "selector %s is not %s's %s",
                          gl_hex_encode(data, 4, true, got), fn->canonical,
                          gl_hex_encode(fn->hash, 4, true, want));
    return gl_abi_decode(out, fn->inputs, data + 4, len - 4, flags, err);
}

/* ------------------------------------------------------------------ */
/* Logs                                                                */
/* ------------------------------------------------------------------ */

static bool is_value_type(const gl_abi_type *t)
{
    return t->kind == GL_ABI_UINT || t->kind == GL_ABI_INT || t->kind == GL_ABI_ADDRESS ||
           t->kind == GL_ABI_BOOL || t->kind == GL_ABI_FIXED_BYTES;
}

static gl_code log_values(dec *d, const gl_abi_sig *ev, const uint8_t (*topics)[32],
                          json_t *all, unsigned flags, gl_err *err)
{
    const gl_abi_type *in = ev->inputs;
    size_t nidx = 0, ndata = 0, ti = ev->anonymous ? 0 : 1;
    gl_code rc = GL_OK;
    for (size_t i = 0; i < in->ncomps; i++)
        nidx += in->comps[i].indexed;
    ndata = in->ncomps - nidx;

    /* the non-indexed parameters, as a tuple sharing the event's types */
    gl_abi_param *dp = calloc(ndata ? ndata : 1, sizeof *dp);
    json_t *dvals = json_array();
    if (!dp || !dvals) {
        free(dp);
        json_decref(dvals);
        return nomem(d, err);
    }
    size_t k = 0, head = 0;
    for (size_t i = 0; i < in->ncomps; i++)
        if (!in->comps[i].indexed) {
            dp[k++] = in->comps[i];
            head += in->comps[i].type->head_size;
        }
    rc = heads_fit(d, 0, 1, head, err);
    if (!rc)
        rc = dec_seq(d, dp, NULL, ndata, 0, false, dvals, err);
    if (!rc)
        rc = check_trailing(d, flags, err);

    /* merge in declaration order */
    for (size_t i = 0, di = 0; !rc && i < in->ncomps; i++) {
        const gl_abi_param *p = &in->comps[i];
        json_t *v = NULL;
        if (!p->indexed) {
            v = json_incref(json_array_get(dvals, di++));
        } else if (is_value_type(p->type)) {
            size_t old = path_push_name(d, p->name, i);
            rc = dec_elementary(d, p->type, topics[ti], &v, err);
            if (rc)
                gl_err_prefix(err, "topic %zu: ", ti);
            path_pop(d, old);
            ti++;
        } else {
            v = json_object();
            if (v && json_object_set_new(v, "indexed_hash", hex_json(topics[ti], 32))) {
                json_decref(v);
                v = NULL;
            }
            ti++;
            if (!v)
                rc = nomem(d, err);
        }
        if (!rc && json_array_append_new(all, v))
            rc = nomem(d, err);
    }
    free(dp);
    json_decref(dvals);
    return rc;
}

gl_code gl_abi_decode_log(json_t **out, const gl_abi_sig *ev, const uint8_t (*topics)[32],
                          size_t ntopics, const uint8_t *data, size_t len, unsigned flags,
                          gl_err *err)
{
    char hex[67];
    *out = NULL;
    size_t nidx = 0;
    for (size_t i = 0; i < ev->inputs->ncomps; i++)
        nidx += ev->inputs->comps[i].indexed;
    size_t want = nidx + (ev->anonymous ? 0 : 1);
    if (ntopics != want)
        return gl_err_set(err, GL_EINVAL, "event %s%s has %zu indexed parameters so its logs have "
                          "%zu topics, this log has %zu%s", ev->canonical,
                          ev->anonymous ? " (anonymous)" : "", nidx, want, ntopics,
                          ntopics > want && nidx == 0 ? " (are its parameters marked 'indexed'?)" : "");
    if (!ev->anonymous && memcmp(topics[0], ev->hash, 32))
        return gl_err_set(err, GL_EINVAL, "topic0 %s is not the hash of %s",
                          gl_hex_encode(topics[0], 32, true, hex), ev->canonical);
    dec d;
    dec_init(&d, data, len);
    json_t *all = json_array();
    if (!all)
        return gl_err_set(err, GL_ENOMEM, "out of memory decoding a log");
    gl_code rc = log_values(&d, ev, topics, all, flags, err);
    if (rc) {
        json_decref(all);
        return (gl_err_prefix(err, "event %s: ", ev->name), rc);
    }
    *out = tuple_shape(all, ev->inputs->comps, ev->inputs->ncomps);
    return *out ? GL_OK : gl_err_set(err, GL_ENOMEM, "out of memory decoding a log");
}
