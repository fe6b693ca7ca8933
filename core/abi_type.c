/* abi_type.c - ABI type trees and signatures: parsing type strings,
 * human-readable and canonical signatures and JSON ABI entries, canonical
 * forms and the keccak hash of a signature (see abi.h).
 *
 * The parser is a small recursive descent over the text with a column
 * counter for error messages; recursion is bounded by GL_ABI_MAX_DEPTH.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpuledger/abi.h"
#include "gpuledger/keccak.h"

/* ------------------------------------------------------------------ */
/* Type nodes                                                          */
/* ------------------------------------------------------------------ */

void gl_abi_type_free(gl_abi_type *t)
{
    if (!t)
        return;
    gl_abi_type_free(t->elem);
    for (size_t i = 0; i < t->ncomps; i++) {
        free(t->comps[i].name);
        gl_abi_type_free(t->comps[i].type);
    }
    free(t->comps);
    free(t);
}

static gl_abi_type *type_new(gl_abi_kind kind)
{
    gl_abi_type *t = calloc(1, sizeof *t);
    if (t) {
        t->kind = kind;
        t->head_size = 32;
    }
    return t;
}

/* Compute dynamic/head_size of an array or tuple node from its children.
 * Fails when the static size passes GL_ABI_MAX_STATIC. */
static gl_code type_finish(gl_abi_type *t, gl_err *err)
{
    size_t total = 0;
    switch (t->kind) {
    case GL_ABI_UINT: case GL_ABI_INT: case GL_ABI_ADDRESS: case GL_ABI_BOOL:
    case GL_ABI_FIXED_BYTES:
        t->dynamic = false;
        t->head_size = 32;
        return GL_OK;
    case GL_ABI_BYTES: case GL_ABI_STRING: case GL_ABI_ARRAY:
        t->dynamic = true;
        t->head_size = 32;
        return GL_OK;
    case GL_ABI_FIXED_ARRAY:
        t->dynamic = t->elem->dynamic;
        if (t->dynamic) {
            t->head_size = 32;
            return GL_OK;
        }
        if (t->size > GL_ABI_MAX_STATIC / t->elem->head_size)
            return gl_err_set(err, GL_EINVAL, "type is too large: static size over %zu bytes",
                              (size_t)GL_ABI_MAX_STATIC);
        t->head_size = t->size * t->elem->head_size;
        return GL_OK;
    case GL_ABI_TUPLE:
        t->dynamic = false;
        for (size_t i = 0; i < t->ncomps; i++)
            if (t->comps[i].type->dynamic)
                t->dynamic = true;
        if (t->dynamic) {
            t->head_size = 32;
            return GL_OK;
        }
        for (size_t i = 0; i < t->ncomps; i++) {
            total += t->comps[i].type->head_size;
            if (total > GL_ABI_MAX_STATIC)
                return gl_err_set(err, GL_EINVAL, "type is too large: static size over %zu bytes",
                                  (size_t)GL_ABI_MAX_STATIC);
        }
        t->head_size = total;
        return GL_OK;
    }
    return GL_OK;
}

/* Append a component (taking ownership of name and type) to a tuple. */
static gl_code tuple_add(gl_abi_type *tup, char *name, bool indexed, gl_abi_type *ct, gl_err *err)
{
    gl_abi_param *p = realloc(tup->comps, (tup->ncomps + 1) * sizeof *p);
    if (!p) {
        free(name);
        gl_abi_type_free(ct);
        return gl_err_set(err, GL_ENOMEM, "out of memory building a tuple");
    }
    tup->comps = p;
    p[tup->ncomps].name = name;
    p[tup->ncomps].indexed = indexed;
    p[tup->ncomps].type = ct;
    tup->ncomps++;
    return GL_OK;
}

/* ------------------------------------------------------------------ */
/* Canonical strings                                                   */
/* ------------------------------------------------------------------ */

static gl_code put_str(gl_buf *b, const char *s) { return gl_buf_append(b, s, strlen(s), NULL); }

static gl_code canon(gl_buf *b, const gl_abi_type *t)
{
    char tmp[32];
    gl_code rc = GL_OK;
    switch (t->kind) {
    case GL_ABI_UINT: snprintf(tmp, sizeof tmp, "uint%u", t->bits); return put_str(b, tmp);
    case GL_ABI_INT: snprintf(tmp, sizeof tmp, "int%u", t->bits); return put_str(b, tmp);
    case GL_ABI_ADDRESS: return put_str(b, "address");
    case GL_ABI_BOOL: return put_str(b, "bool");
    case GL_ABI_FIXED_BYTES: snprintf(tmp, sizeof tmp, "bytes%zu", t->size); return put_str(b, tmp);
    case GL_ABI_BYTES: return put_str(b, "bytes");
    case GL_ABI_STRING: return put_str(b, "string");
    case GL_ABI_ARRAY:
        if ((rc = canon(b, t->elem)))
            return rc;
        return put_str(b, "[]");
    case GL_ABI_FIXED_ARRAY:
        if ((rc = canon(b, t->elem)))
            return rc;
        snprintf(tmp, sizeof tmp, "[%zu]", t->size);
        return put_str(b, tmp);
    case GL_ABI_TUPLE:
        if ((rc = put_str(b, "(")))
            return rc;
        for (size_t i = 0; i < t->ncomps; i++) {
            if (i && (rc = put_str(b, ",")))
                return rc;
            if ((rc = canon(b, t->comps[i].type)))
                return rc;
        }
        return put_str(b, ")");
    }
    return rc;
}

char *gl_abi_type_canonical(const gl_abi_type *t)
{
    gl_buf b = GL_BUF_INIT;
    if (canon(&b, t) || gl_buf_push(&b, 0, NULL)) {
        gl_buf_release(&b);
        return NULL;
    }
    return (char *)b.data;
}

/* "name" + canonical(inputs) */
static char *sig_canonical(const char *name, const gl_abi_type *inputs)
{
    gl_buf b = GL_BUF_INIT;
    if (put_str(&b, name) || canon(&b, inputs) || gl_buf_push(&b, 0, NULL)) {
        gl_buf_release(&b);
        return NULL;
    }
    return (char *)b.data;
}

/* ------------------------------------------------------------------ */
/* Text parser                                                         */
/* ------------------------------------------------------------------ */

typedef struct parser {
    const char *s;
    size_t pos;
} parser;

static void skip_ws(parser *p)
{
    while (p->s[p->pos] && isspace((unsigned char)p->s[p->pos]))
        p->pos++;
}

static bool is_ident_start(int c) { return isalpha(c) || c == '_' || c == '$'; }
static bool is_ident_char(int c) { return isalnum(c) || c == '_' || c == '$'; }

/* Error at the current column, quoting up to 20 characters of what is there. */
static gl_code perr(parser *p, gl_err *err, const char *what)
{
    const char *at = p->s + p->pos;
    if (!*at)
        return gl_err_set(err, GL_EINVAL, "column %zu: %s, found the end of the text", p->pos + 1, what);
    return gl_err_set(err, GL_EINVAL, "column %zu: %s, found '%.20s%s'", p->pos + 1, what, at,
                      strlen(at) > 20 ? "..." : "");
}

/* Read an identifier at pos into a fresh string (NULL if none there). */
static size_t ident_len(const parser *p)
{
    size_t n = 0;
    if (!is_ident_start((unsigned char)p->s[p->pos]))
        return 0;
    while (is_ident_char((unsigned char)p->s[p->pos + n]))
        n++;
    return n;
}

static bool word_is(const parser *p, size_t n, const char *w)
{
    return strlen(w) == n && !strncmp(p->s + p->pos, w, n);
}

/* Parse an unsigned decimal without leading zeros, all digits of [s, s+n). */
static bool parse_dec(const char *s, size_t n, size_t max, size_t *out)
{
    size_t v = 0;
    if (n == 0 || (s[0] == '0' && n > 1))
        return false;
    for (size_t i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i]))
            return false;
        v = v * 10 + (size_t)(s[i] - '0');
        if (v > max)
            return false;
    }
    *out = v;
    return true;
}

static gl_code parse_tuple(parser *p, gl_abi_type **out, int depth, bool allow_indexed,
                           bool allow_empty, gl_err *err);

/* An elementary type name of n characters at pos. */
static gl_code parse_elementary(parser *p, size_t n, gl_abi_type **out, gl_err *err)
{
    const char *w = p->s + p->pos;
    gl_abi_kind kind;
    size_t num = 0;
    bool ok = true;
    if (word_is(p, n, "address")) {
        kind = GL_ABI_ADDRESS;
    } else if (word_is(p, n, "bool")) {
        kind = GL_ABI_BOOL;
    } else if (word_is(p, n, "string")) {
        kind = GL_ABI_STRING;
    } else if (word_is(p, n, "bytes")) {
        kind = GL_ABI_BYTES;
    } else if (word_is(p, n, "byte")) {
        kind = GL_ABI_FIXED_BYTES;
        num = 1;
    } else if (n > 5 && !strncmp(w, "bytes", 5)) {
        kind = GL_ABI_FIXED_BYTES;
        ok = parse_dec(w + 5, n - 5, 32, &num) && num >= 1;
    } else if (n >= 4 && !strncmp(w, "uint", 4)) {
        kind = GL_ABI_UINT;
        num = 256;
        if (n > 4)
            ok = parse_dec(w + 4, n - 4, 256, &num) && num >= 8 && num % 8 == 0;
    } else if (n >= 3 && !strncmp(w, "int", 3)) {
        kind = GL_ABI_INT;
        num = 256;
        if (n > 3)
            ok = parse_dec(w + 3, n - 3, 256, &num) && num >= 8 && num % 8 == 0;
    } else if ((n >= 5 && !strncmp(w, "fixed", 5)) || (n >= 6 && !strncmp(w, "ufixed", 6)) ||
               word_is(p, n, "function")) {
        return gl_err_set(err, GL_ENOTSUP, "column %zu: type '%.*s' is not supported", p->pos + 1,
                          (int)n, w);
    } else {
        return gl_err_set(err, GL_EINVAL, "column %zu: unknown type '%.*s'", p->pos + 1, (int)n, w);
    }
    if (!ok)
        return gl_err_set(err, GL_EINVAL,
                          "column %zu: bad size in type '%.*s' (uintN/intN need N = 8..256 step 8, "
                          "bytesN N = 1..32)", p->pos + 1, (int)n, w);
    gl_abi_type *t = type_new(kind);
    if (!t)
        return gl_err_set(err, GL_ENOMEM, "out of memory parsing a type");
    if (kind == GL_ABI_UINT || kind == GL_ABI_INT)
        t->bits = (unsigned)num;
    else
        t->size = num;
    type_finish(t, NULL);
    p->pos += n;
    *out = t;
    return GL_OK;
}

/* type := base ( '[' digits? ']' )*   base := '(' ... ')' | 'tuple(' ... ')' | name */
static gl_code parse_type(parser *p, gl_abi_type **out, int depth, gl_err *err)
{
    gl_abi_type *t = NULL;
    gl_code rc;
    *out = NULL;
    if (depth > GL_ABI_MAX_DEPTH)
        return perr(p, err, "type nested too deeply");
    skip_ws(p);
    size_t n = ident_len(p);
    if (p->s[p->pos] == '(' || (word_is(p, n, "tuple") && p->s[p->pos + n] == '(')) {
        if (p->s[p->pos] != '(')
            p->pos += n;
        rc = parse_tuple(p, &t, depth + 1, false, false, err);
    } else if (n) {
        rc = parse_elementary(p, n, &t, err);
    } else {
        return perr(p, err, "expected a type");
    }
    if (rc)
        return rc;
    for (;;) {
        size_t save = p->pos;
        skip_ws(p);
        if (p->s[p->pos] != '[') {
            p->pos = save;
            break;
        }
        if (++depth > GL_ABI_MAX_DEPTH) {
            gl_abi_type_free(t);
            return perr(p, err, "type nested too deeply");
        }
        p->pos++;
        skip_ws(p);
        size_t start = p->pos, k = 0;
        while (isdigit((unsigned char)p->s[p->pos]))
            p->pos++;
        size_t nd = p->pos - start;
        skip_ws(p);
        if (p->s[p->pos] != ']') {
            gl_abi_type_free(t);
            return perr(p, err, "expected ']' after an array size");
        }
        if (nd && (!parse_dec(p->s + start, nd, GL_ABI_MAX_FIXED_LEN, &k) || k == 0)) {
            p->pos = start;
            gl_abi_type_free(t);
            return perr(p, err, "fixed array length must be 1..134217728 without leading zeros");
        }
        p->pos++;
        gl_abi_type *a = type_new(nd ? GL_ABI_FIXED_ARRAY : GL_ABI_ARRAY);
        if (!a) {
            gl_abi_type_free(t);
            return gl_err_set(err, GL_ENOMEM, "out of memory parsing a type");
        }
        a->elem = t;
        a->size = k;
        t = a;
        if ((rc = type_finish(t, err))) {
            gl_abi_type_free(t);
            return rc;
        }
    }
    *out = t;
    return GL_OK;
}

/* One parameter: type [indexed] [memory|calldata|storage|payable]* [name]. */
static gl_code parse_param(parser *p, gl_abi_type *tup, int depth, bool allow_indexed, gl_err *err)
{
    gl_abi_type *t;
    gl_code rc = parse_type(p, &t, depth, err);
    if (rc)
        return rc;
    bool indexed = false;
    char *name = NULL;
    for (;;) {
        skip_ws(p);
        size_t n = ident_len(p);
        if (!n)
            break;
        if (word_is(p, n, "indexed")) {
            if (!allow_indexed) {
                gl_abi_type_free(t);
                free(name);
                return perr(p, err, "'indexed' is only allowed on event parameters");
            }
            if (name) {
                gl_abi_type_free(t);
                free(name);
                return perr(p, err, "'indexed' must come before the parameter name");
            }
            indexed = true;
        } else if (word_is(p, n, "memory") || word_is(p, n, "calldata") ||
                   word_is(p, n, "storage") || word_is(p, n, "payable")) {
            /* data locations and `address payable` are not part of the ABI */
        } else if (!name) {
            name = strndup(p->s + p->pos, n);
            if (!name) {
                gl_abi_type_free(t);
                return gl_err_set(err, GL_ENOMEM, "out of memory parsing a parameter name");
            }
        } else {
            gl_abi_type_free(t);
            free(name);
            return perr(p, err, "unexpected word after the parameter name");
        }
        p->pos += n;
    }
    if (!name && !(name = strdup(""))) {
        gl_abi_type_free(t);
        return gl_err_set(err, GL_ENOMEM, "out of memory parsing a parameter");
    }
    return tuple_add(tup, name, indexed, t, err);
}

/* '(' [param (',' param)*] ')' at pos. */
static gl_code parse_tuple(parser *p, gl_abi_type **out, int depth, bool allow_indexed,
                           bool allow_empty, gl_err *err)
{
    gl_code rc;
    *out = NULL;
    if (depth > GL_ABI_MAX_DEPTH)
        return perr(p, err, "type nested too deeply");
    skip_ws(p);
    if (p->s[p->pos] != '(')
        return perr(p, err, "expected '('");
    size_t open = p->pos++;
    gl_abi_type *tup = type_new(GL_ABI_TUPLE);
    if (!tup)
        return gl_err_set(err, GL_ENOMEM, "out of memory parsing a tuple");
    skip_ws(p);
    if (p->s[p->pos] == ')') {
        if (!allow_empty) {
            gl_abi_type_free(tup);
            return perr(p, err, "empty tuple '()' is not allowed as a type");
        }
    } else {
        for (;;) {
            if ((rc = parse_param(p, tup, depth, allow_indexed, err))) {
                gl_abi_type_free(tup);
                return rc;
            }
            skip_ws(p);
            if (p->s[p->pos] == ',') {
                p->pos++;
                continue;
            }
            if (p->s[p->pos] == ')')
                break;
            gl_abi_type_free(tup);
            if (!p->s[p->pos])
                return gl_err_set(err, GL_EINVAL, "column %zu: '(' is never closed", open + 1);
            return perr(p, err, "expected ',' or ')'");
        }
    }
    p->pos++;
    if ((rc = type_finish(tup, err))) {
        gl_abi_type_free(tup);
        return rc;
    }
    *out = tup;
    return GL_OK;
}

gl_code gl_abi_type_parse(gl_abi_type **out, const char *s, gl_err *err)
{
    parser p = {s, 0};
    gl_abi_type *t;
    *out = NULL;
    gl_code rc = parse_type(&p, &t, 0, err);
    if (rc)
        return (gl_err_prefix(err, "type '%s': ", s), rc);
    skip_ws(&p);
    if (p.s[p.pos]) {
        rc = perr(&p, err, "unexpected text after the type");
        gl_abi_type_free(t);
        return (gl_err_prefix(err, "type '%s': ", s), rc);
    }
    *out = t;
    return GL_OK;
}

/* ------------------------------------------------------------------ */
/* Signatures                                                          */
/* ------------------------------------------------------------------ */

void gl_abi_sig_release(gl_abi_sig *s)
{
    free(s->name);
    gl_abi_type_free(s->inputs);
    gl_abi_type_free(s->outputs);
    free(s->canonical);
    memset(s, 0, sizeof *s);
}

/* Check, fill canonical and hash. */
static gl_code sig_finish(gl_abi_sig *s, gl_err *err)
{
    size_t nindexed = 0;
    for (size_t i = 0; i < s->inputs->ncomps; i++)
        nindexed += s->inputs->comps[i].indexed;
    if (s->kind == GL_ABI_SIG_FUNCTION && nindexed)
        return gl_err_set(err, GL_EINVAL, "function '%s' has indexed parameters", s->name);
    if (s->kind == GL_ABI_SIG_FUNCTION && s->anonymous)
        return gl_err_set(err, GL_EINVAL, "function '%s' cannot be anonymous", s->name);
    if (nindexed > (s->anonymous ? 4u : 3u))
        return gl_err_set(err, GL_EINVAL, "event '%s' has %zu indexed parameters (at most %u)",
                          s->name, nindexed, s->anonymous ? 4u : 3u);
    s->canonical = sig_canonical(s->name, s->inputs);
    if (!s->canonical)
        return gl_err_set(err, GL_ENOMEM, "out of memory building a signature");
    gl_keccak256(s->canonical, strlen(s->canonical), s->hash);
    return GL_OK;
}

static gl_code sig_parse(gl_abi_sig *out, parser *p, gl_err *err)
{
    gl_code rc;
    skip_ws(p);
    size_t n = ident_len(p);
    out->kind = GL_ABI_SIG_BARE;
    if ((word_is(p, n, "event") || word_is(p, n, "function")) &&
        (isspace((unsigned char)p->s[p->pos + n]))) {
        out->kind = word_is(p, n, "event") ? GL_ABI_SIG_EVENT : GL_ABI_SIG_FUNCTION;
        p->pos += n;
        skip_ws(p);
        n = ident_len(p);
    }
    if (!n)
        return perr(p, err, "expected a name");
    if (!(out->name = strndup(p->s + p->pos, n)))
        return gl_err_set(err, GL_ENOMEM, "out of memory parsing a signature");
    p->pos += n;
    skip_ws(p);
    if ((rc = parse_tuple(p, &out->inputs, 1, out->kind != GL_ABI_SIG_FUNCTION, true, err)))
        return rc;
    for (;;) {
        skip_ws(p);
        n = ident_len(p);
        if (!n)
            break;
        if (word_is(p, n, "anonymous") && out->kind != GL_ABI_SIG_FUNCTION) {
            out->anonymous = true;
            p->pos += n;
        } else if (out->kind != GL_ABI_SIG_EVENT && !out->anonymous &&
                   (word_is(p, n, "external") || word_is(p, n, "public") ||
                    word_is(p, n, "view") || word_is(p, n, "pure") || word_is(p, n, "payable") ||
                    word_is(p, n, "nonpayable") || word_is(p, n, "virtual") ||
                    word_is(p, n, "override"))) {
            p->pos += n;
        } else if (out->kind != GL_ABI_SIG_EVENT && !out->anonymous && !out->outputs &&
                   word_is(p, n, "returns")) {
            p->pos += n;
            skip_ws(p);
            if ((rc = parse_tuple(p, &out->outputs, 1, false, true, err)))
                return rc;
        } else {
            return perr(p, err, "unexpected word after the parameter list");
        }
    }
    if (p->s[p->pos] == ';')
        p->pos++;
    skip_ws(p);
    if (p->s[p->pos])
        return perr(p, err, "unexpected text after the signature");
    return GL_OK;
}

gl_code gl_abi_sig_parse(gl_abi_sig *out, const char *s, gl_err *err)
{
    parser p = {s, 0};
    memset(out, 0, sizeof *out);
    gl_code rc = sig_parse(out, &p, err);
    if (!rc)
        rc = sig_finish(out, err);
    if (rc) {
        gl_abi_sig_release(out);
        return (gl_err_prefix(err, "signature '%s': ", s), rc);
    }
    return GL_OK;
}

/* ------------------------------------------------------------------ */
/* JSON ABI                                                            */
/* ------------------------------------------------------------------ */

static gl_code json_params(gl_abi_type **out, const json_t *arr, bool allow_indexed,
                           bool allow_empty, int depth, const char *what, gl_err *err);

static gl_code jabi_type(gl_abi_type **out, const json_t *param, int depth, gl_err *err)
{
    *out = NULL;
    if (!json_is_object(param))
        return gl_err_set(err, GL_EINVAL, "a parameter is not a JSON object");
    const char *ts = json_string_value(json_object_get(param, "type"));
    if (!ts)
        return gl_err_set(err, GL_EINVAL, "parameter has no \"type\" string");
    if (strncmp(ts, "tuple", 5) != 0 || ts[5] == '(')
        return gl_abi_type_parse(out, ts, err);
    /* "tuple" + suffixes: the base comes from "components" */
    gl_abi_type *t;
    const json_t *comps = json_object_get(param, "components");
    if (!json_is_array(comps))
        return gl_err_set(err, GL_EINVAL, "type '%s' needs a \"components\" array", ts);
    gl_code rc = json_params(&t, comps, false, false, depth + 1, "components", err);
    if (rc)
        return (gl_err_prefix(err, "type '%s': ", ts), rc);
    /* parse the suffixes by parsing "uint8<suffix>" and grafting */
    size_t slen = strlen(ts + 5);
    char *tmp = malloc(slen + 6);
    if (!tmp) {
        gl_abi_type_free(t);
        return gl_err_set(err, GL_ENOMEM, "out of memory parsing a JSON ABI type");
    }
    memcpy(tmp, "uint8", 5);
    memcpy(tmp + 5, ts + 5, slen + 1);
    gl_abi_type *shape;
    rc = gl_abi_type_parse(&shape, tmp, err);
    free(tmp);
    if (rc) {
        gl_abi_type_free(t);
        return gl_err_set(err, GL_EINVAL, "bad array suffix in type '%s'", ts);
    }
    /* replace the uint8 leaf of `shape` with t, then recompute sizes bottom-up */
    gl_abi_type *chain[GL_ABI_MAX_DEPTH + 2];
    size_t nchain = 0;
    for (gl_abi_type *c = shape; c->elem; c = c->elem)
        chain[nchain++] = c;
    if (nchain + depth > GL_ABI_MAX_DEPTH) {
        gl_abi_type_free(shape);
        gl_abi_type_free(t);
        return gl_err_set(err, GL_EINVAL, "type '%s' is nested too deeply", ts);
    }
    if (nchain == 0) {
        gl_abi_type_free(shape);
        *out = t;
        return GL_OK;
    }
    gl_abi_type_free(chain[nchain - 1]->elem);
    chain[nchain - 1]->elem = t;
    for (size_t i = nchain; i-- > 0;) {
        if ((rc = type_finish(chain[i], err))) {
            gl_abi_type_free(shape);
            return rc;
        }
    }
    *out = shape;
    return GL_OK;
}

static gl_code json_params(gl_abi_type **out, const json_t *arr, bool allow_indexed,
                           bool allow_empty, int depth, const char *what, gl_err *err)
{
    gl_code rc;
    *out = NULL;
    if (depth > GL_ABI_MAX_DEPTH)
        return gl_err_set(err, GL_EINVAL, "%s nested too deeply", what);
    if (!json_is_array(arr))
        return gl_err_set(err, GL_EINVAL, "\"%s\" is not an array", what);
    if (!allow_empty && json_array_size(arr) == 0)
        return gl_err_set(err, GL_EINVAL, "\"%s\" is empty", what);
    gl_abi_type *tup = type_new(GL_ABI_TUPLE);
    if (!tup)
        return gl_err_set(err, GL_ENOMEM, "out of memory reading a JSON ABI");
    size_t i;
    const json_t *param;
    json_array_foreach(arr, i, param) {
        gl_abi_type *ct;
        if ((rc = jabi_type(&ct, param, depth, err))) {
            gl_abi_type_free(tup);
            return (gl_err_prefix(err, "%s[%zu]: ", what, i), rc);
        }
        const json_t *jn = json_object_get(param, "name");
        const json_t *ji = json_object_get(param, "indexed");
        if (jn && !json_is_string(jn) && !json_is_null(jn)) {
            gl_abi_type_free(ct);
            gl_abi_type_free(tup);
            return gl_err_set(err, GL_EINVAL, "%s[%zu]: \"name\" is not a string", what, i);
        }
        if (ji && !json_is_boolean(ji)) {
            gl_abi_type_free(ct);
            gl_abi_type_free(tup);
            return gl_err_set(err, GL_EINVAL, "%s[%zu]: \"indexed\" is not a boolean", what, i);
        }
        if (json_is_true(ji) && !allow_indexed) {
            gl_abi_type_free(ct);
            gl_abi_type_free(tup);
            return gl_err_set(err, GL_EINVAL, "%s[%zu]: \"indexed\" is only allowed on event inputs",
                              what, i);
        }
        const char *nm = json_string_value(jn);
        char *name = strdup(nm ? nm : "");
        if (!name) {
            gl_abi_type_free(ct);
            gl_abi_type_free(tup);
            return gl_err_set(err, GL_ENOMEM, "out of memory reading a JSON ABI");
        }
        if ((rc = tuple_add(tup, name, json_is_true(ji), ct, err))) {
            gl_abi_type_free(tup);
            return rc;
        }
    }
    if ((rc = type_finish(tup, err))) {
        gl_abi_type_free(tup);
        return rc;
    }
    *out = tup;
    return GL_OK;
}

gl_code gl_abi_type_from_json(gl_abi_type **out, const json_t *param, gl_err *err)
{
    return jabi_type(out, param, 0, err);
}

static gl_code sig_from_json(gl_abi_sig *out, const json_t *entry, gl_err *err)
{
    gl_code rc;
    if (!json_is_object(entry))
        return gl_err_set(err, GL_EINVAL, "ABI entry is not a JSON object");
    const char *type = json_string_value(json_object_get(entry, "type"));
    const char *name = json_string_value(json_object_get(entry, "name"));
    if (!type)
        type = "function"; /* the spec's default */
    if (!strcmp(type, "event"))
        out->kind = GL_ABI_SIG_EVENT;
    else if (!strcmp(type, "function"))
        out->kind = GL_ABI_SIG_FUNCTION;
    else if (!strcmp(type, "error"))
        out->kind = GL_ABI_SIG_BARE;
    else
        return gl_err_set(err, GL_EINVAL, "ABI entry of type '%s' has no signature", type);
    if (!name || !*name)
        return gl_err_set(err, GL_EINVAL, "ABI %s entry has no \"name\"", type);
    if (!(out->name = strdup(name)))
        return gl_err_set(err, GL_ENOMEM, "out of memory reading a JSON ABI");
    const json_t *anon = json_object_get(entry, "anonymous");
    if (anon && !json_is_boolean(anon))
        return gl_err_set(err, GL_EINVAL, "\"anonymous\" is not a boolean");
    out->anonymous = json_is_true(anon);
    const json_t *inputs = json_object_get(entry, "inputs");
    json_t *empty = NULL;
    if (!inputs)
        inputs = empty = json_array();
    rc = json_params(&out->inputs, inputs, out->kind == GL_ABI_SIG_EVENT, true, 1, "inputs", err);
    json_decref(empty);
    if (rc)
        return rc;
    const json_t *outputs = json_object_get(entry, "outputs");
    if (outputs && out->kind == GL_ABI_SIG_FUNCTION &&
        (rc = json_params(&out->outputs, outputs, false, true, 1, "outputs", err)))
        return rc;
    return sig_finish(out, err);
}

gl_code gl_abi_sig_from_json(gl_abi_sig *out, const json_t *entry, gl_err *err)
{
    memset(out, 0, sizeof *out);
    gl_code rc = sig_from_json(out, entry, err);
    if (rc) {
        const char *name = json_string_value(json_object_get(entry, "name"));
        gl_abi_sig_release(out);
        return (gl_err_prefix(err, "ABI entry '%s': ", name ? name : "?"), rc);
    }
    return GL_OK;
}

gl_code gl_abi_sig_find(gl_abi_sig *out, const json_t *abi, const char *kind, const char *name,
                        gl_err *err)
{
    const json_t *found = NULL, *e;
    size_t i, count = 0;
    memset(out, 0, sizeof *out);
    if (!json_is_array(abi))
        return gl_err_set(err, GL_EINVAL, "the ABI is not a JSON array");
    json_array_foreach(abi, i, e) {
        const char *t = json_string_value(json_object_get(e, "type"));
        const char *n = json_string_value(json_object_get(e, "name"));
        if (t && n && !strcmp(t, kind) && !strcmp(n, name)) {
            found = e;
            count++;
        }
    }
    if (count == 0)
        return gl_err_set(err, GL_EINVAL, "the ABI has no %s named '%s'", kind, name);
    if (count > 1)
        return gl_err_set(err, GL_EINVAL, "the ABI has %zu %ss named '%s' (overloaded)", count,
                          kind, name);
    return gl_abi_sig_from_json(out, found, err);
}
