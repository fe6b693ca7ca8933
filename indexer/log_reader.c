/* log_reader.c - eth_getLogs answers read as they stream (log_reader.h):
 * yajl events decoded straight into gl_log records. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpuledger/bytes.h"
#include "gpuledger/json_scan.h"
#include "gpuledger/log_reader.h"

/* ------------------------------------------------------------ the list */

void gl_logs_truncate(gl_logs *l, size_t n)
{
    for (size_t i = n; i < l->n; i++)
        free(l->v[i].data);
    if (n < l->n)
        l->n = n;
}

void gl_logs_clear(gl_logs *l) { gl_logs_truncate(l, 0); }

void gl_logs_free(gl_logs *l)
{
    gl_logs_clear(l);
    free(l->v);
    l->v = NULL;
    l->cap = 0;
}

gl_log *gl_logs_push(gl_logs *l)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 64;
        gl_log *v = realloc(l->v, cap * sizeof *v);
        if (!v)
            return NULL;
        l->v = v;
        l->cap = cap;
    }
    gl_log *g = &l->v[l->n++];
    memset(g, 0, sizeof *g);
    return g;
}

static int log_cmp(const void *a, const void *b)
{
    const gl_log *x = a, *y = b;
    if (x->block != y->block)
        return x->block < y->block ? -1 : 1;
    return x->log_index < y->log_index ? -1 : x->log_index > y->log_index;
}

/* Stable sorts: "the first kept" needs the first of a position to stay
 * ahead of its repeats, which qsort does not promise (glibc's has not been
 * a merge sort since 2.37; musl's never was). */
static void merge_sort(gl_log *v, gl_log *tmp, size_t n)
{
    gl_log *src = v, *dst = tmp;
    for (size_t w = 1; w < n; w *= 2) {
        for (size_t lo = 0; lo < n; lo += 2 * w) {
            size_t mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n;
            size_t i = lo, j = mid, k = lo;
            while (i < mid && j < hi) /* the right run only when strictly less */
                dst[k++] = log_cmp(&src[j], &src[i]) < 0 ? src[j++] : src[i++];
            while (i < mid)
                dst[k++] = src[i++];
            while (j < hi)
                dst[k++] = src[j++];
        }
        gl_log *t = src;
        src = dst;
        dst = t;
    }
    if (src != v)
        memcpy(v, src, n * sizeof *v);
}

/* Without room for the merge: answers arrive mostly in order, so this is
 * near linear in practice. */
static void insertion_sort(gl_log *v, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        gl_log x = v[i];
        size_t j = i;
        for (; j > 0 && log_cmp(&x, &v[j - 1]) < 0; j--)
            v[j] = v[j - 1];
        v[j] = x;
    }
}

void gl_logs_sort(gl_logs *l)
{
    if (l->n < 2)
        return;
    size_t k = 1;
    while (k < l->n && log_cmp(&l->v[k - 1], &l->v[k]) <= 0)
        k++;
    if (k < l->n) { /* not already in order */
        gl_log *tmp = malloc(l->n * sizeof *tmp);
        if (tmp)
            merge_sort(l->v, tmp, l->n);
        else
            insertion_sort(l->v, l->n);
        free(tmp);
    }
    size_t w = 1;
    for (size_t i = 1; i < l->n; i++) {
        if (l->v[i].block == l->v[w - 1].block && l->v[i].log_index == l->v[w - 1].log_index) {
            free(l->v[i].data);
            continue;
        }
        l->v[w++] = l->v[i];
    }
    l->n = w;
}

/* ------------------------------------------------------------ the reader */

enum { ST_START, ST_ARRAY, ST_LOG, ST_TOPICS, ST_END };

/* The members read; the order is the bit order of `seen`. */
enum {
    F_ADDRESS,
    F_TOPICS,
    F_DATA,
    F_BLOCK_NUMBER,
    F_BLOCK_HASH,
    F_TX_HASH,
    F_TX_INDEX,
    F_LOG_INDEX,
    F_TIMESTAMP,
    F_REMOVED,
    F_COUNT,
    F_OTHER = F_COUNT
};

static const char *const FIELD_NAMES[F_COUNT] = {"address",         "topics",           "data",
                                                 "blockNumber",     "blockHash",        "transactionHash",
                                                 "transactionIndex", "logIndex",        "blockTimestamp",
                                                 "removed"};

/* Their lengths (a key is matched ~10 times per log). */
static const size_t FIELD_LENS[F_COUNT] = {7, 6, 4, 11, 9, 15, 16, 8, 14, 7};

/* Members a log must have. */
#define REQUIRED                                                                                                   \
    (1u << F_ADDRESS | 1u << F_TOPICS | 1u << F_DATA | 1u << F_BLOCK_NUMBER | 1u << F_BLOCK_HASH |               \
     1u << F_TX_HASH | 1u << F_TX_INDEX | 1u << F_LOG_INDEX)

static int fail(gl_log_reader *r, gl_code code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(gl_log_reader *r, gl_code code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->why, sizeof r->why, fmt, ap);
    va_end(ap);
    r->failed = true;
    r->code = code;
    return 0; /* stops the parse */
}

/* A value where a log belongs, or where the result belongs. */
static int not_log(gl_log_reader *r, const char *what)
{
    if (r->state == ST_START)
        return fail(r, GL_ERPC, "the result is %s, not an array", what);
    if (r->state == ST_TOPICS)
        return fail(r, GL_ERPC, "log %zu: a topic is %s", r->index, what);
    return fail(r, GL_ERPC, "log %zu is %s, not an object", r->index, what);
}

/* "log N: bad or missing F" for the current field. */
static int bad(gl_log_reader *r)
{
    return fail(r, GL_ERPC, "log %zu: bad or missing %s", r->index,
                r->field < F_COUNT ? FIELD_NAMES[r->field] : "member");
}

static gl_log *cur(gl_log_reader *r) { return &r->out->v[r->out->n - 1]; }

static bool fixed(const unsigned char *p, size_t n, uint8_t *out, size_t want)
{
    size_t got;
    return n == 2 + 2 * want && p[0] == '0' && (p[1] == 'x' || p[1] == 'X') &&
           gl_hex_decode((const char *)p, n, out, want, &got, NULL) == GL_OK && got == want;
}

/* fixed(), through memo m: the same text as last time gives the same
 * bytes without decoding it again. */
static bool fixed_memo(gl_log_hex_memo *m, const unsigned char *p, size_t n, uint8_t *out, size_t want)
{
    if (n == m->n && !memcmp(m->text, p, n)) {
        memcpy(out, m->bytes, want);
        return true;
    }
    if (!fixed(p, n, out, want))
        return false;
    if (n <= sizeof m->text) {
        memcpy(m->text, p, n);
        memcpy(m->bytes, out, want);
        m->n = n;
    }
    return true;
}

/* Store quantity v in the current field. */
static int put_qty(gl_log_reader *r, uint64_t v)
{
    gl_log *g = cur(r);
    switch (r->field) {
    case F_BLOCK_NUMBER: g->block = v; return 1;
    case F_TIMESTAMP: g->ts = v; g->has_ts = true; return 1;
    case F_TX_INDEX:
        if (v > UINT32_MAX)
            return bad(r);
        g->tx_index = (uint32_t)v;
        return 1;
    case F_LOG_INDEX:
        if (v > UINT32_MAX)
            return bad(r);
        g->log_index = (uint32_t)v;
        return 1;
    }
    return bad(r);
}

/* Skipping an unknown member's value: count nesting. */
static bool skipping(gl_log_reader *r) { return r->skip > 0; }

static int rd_null(void *ctx)
{
    gl_log_reader *r = ctx;
    if (skipping(r) || (r->state == ST_LOG && r->field == F_OTHER))
        return 1;
    if (r->state == ST_LOG && r->field == F_TIMESTAMP)
        return 1; /* null: not known, as if absent */
    if (r->state == ST_LOG && r->field == F_REMOVED)
        return 1;
    return r->state == ST_LOG ? bad(r) : not_log(r, "null");
}

static int rd_bool(void *ctx, int b)
{
    gl_log_reader *r = ctx;
    if (skipping(r) || (r->state == ST_LOG && r->field == F_OTHER))
        return 1;
    if (r->state == ST_LOG && r->field == F_REMOVED) {
        cur(r)->removed = b != 0;
        return 1;
    }
    return r->state == ST_LOG ? bad(r) : not_log(r, "a boolean");
}

static int rd_number(void *ctx, const char *p, size_t n)
{
    gl_log_reader *r = ctx;
    if (skipping(r) || (r->state == ST_LOG && r->field == F_OTHER))
        return 1;
    uint64_t v;
    if (r->state == ST_LOG && gl_dec_u64(p, n, &v))
        return put_qty(r, v);
    return r->state == ST_LOG ? bad(r) : not_log(r, "a number");
}

static int rd_string(void *ctx, const unsigned char *p, size_t n)
{
    gl_log_reader *r = ctx;
    if (skipping(r) || (r->state == ST_LOG && r->field == F_OTHER))
        return 1;
    if (r->state == ST_TOPICS) {
        gl_log *g = cur(r);
        if (g->ntopics == 4)
            return fail(r, GL_ERPC, "log %zu: more than 4 topics", r->index);
        if (!fixed_memo(&r->memo[3 + g->ntopics], p, n, g->topics[g->ntopics], 32))
            return fail(r, GL_ERPC, "log %zu: bad topics[%zu]", r->index, g->ntopics);
        g->ntopics++;
        return 1;
    }
    if (r->state != ST_LOG)
        return not_log(r, "a string");
    gl_log *g = cur(r);
    uint64_t v;
    switch (r->field) {
    case F_ADDRESS: return fixed_memo(&r->memo[0], p, n, g->address, 20) ? 1 : bad(r);
    case F_BLOCK_HASH: return fixed_memo(&r->memo[1], p, n, g->block_hash, 32) ? 1 : bad(r);
    case F_TX_HASH: return fixed_memo(&r->memo[2], p, n, g->tx_hash, 32) ? 1 : bad(r);
    case F_DATA: {
        size_t got;
        if (n < 2 || p[0] != '0' || (p[1] != 'x' && p[1] != 'X') || n % 2)
            return bad(r);
        if (n > 2 && !(g->data = malloc((n - 2) / 2)))
            return fail(r, GL_ENOMEM, "log %zu: out of memory for its data", r->index);
        if (n > 2 && gl_hex_decode((const char *)p, n, g->data, (n - 2) / 2, &got, NULL))
            return bad(r);
        g->len = (n - 2) / 2;
        return 1;
    }
    case F_BLOCK_NUMBER:
    case F_TX_INDEX:
    case F_LOG_INDEX:
    case F_TIMESTAMP: return gl_qty_u64((const char *)p, n, &v) ? put_qty(r, v) : bad(r);
    }
    return bad(r);
}

static int rd_key(void *ctx, const unsigned char *p, size_t n)
{
    gl_log_reader *r = ctx;
    if (skipping(r))
        return 1;
    r->field = F_OTHER;
    for (int f = 0; f < F_COUNT; f++)
        if (FIELD_LENS[f] == n && !memcmp(FIELD_NAMES[f], p, n)) {
            if (r->seen & 1u << f)
                return fail(r, GL_ERPC, "log %zu: member %s given twice", r->index, FIELD_NAMES[f]);
            r->seen |= 1u << f;
            r->field = f;
            break;
        }
    return 1;
}

static int rd_start_map(void *ctx)
{
    gl_log_reader *r = ctx;
    if (skipping(r) || (r->state == ST_LOG && r->field == F_OTHER)) {
        r->skip++;
        return 1;
    }
    if (r->state == ST_ARRAY) {
        if (!gl_logs_push(r->out))
            return fail(r, GL_ENOMEM, "log %zu: out of memory", r->index);
        r->state = ST_LOG;
        r->seen = 0;
        r->field = F_OTHER;
        return 1;
    }
    return r->state == ST_LOG ? bad(r) : not_log(r, "an object");
}

static int rd_end_map(void *ctx)
{
    gl_log_reader *r = ctx;
    if (skipping(r)) {
        r->skip--;
        return 1;
    }
    /* the end of a log: everything the indexer relies on was there */
    if ((r->seen & REQUIRED) != REQUIRED) {
        for (int f = 0; f < F_COUNT; f++)
            if (REQUIRED & 1u << f && !(r->seen & 1u << f)) {
                r->field = f;
                return bad(r);
            }
    }
    r->state = ST_ARRAY;
    r->index++;
    return 1;
}

static int rd_start_array(void *ctx)
{
    gl_log_reader *r = ctx;
    if (skipping(r) || (r->state == ST_LOG && r->field == F_OTHER)) {
        r->skip++;
        return 1;
    }
    if (r->state == ST_START) {
        r->state = ST_ARRAY;
        return 1;
    }
    if (r->state == ST_LOG && r->field == F_TOPICS) {
        r->state = ST_TOPICS;
        return 1;
    }
    return r->state == ST_LOG ? bad(r) : not_log(r, "an array");
}

static int rd_end_array(void *ctx)
{
    gl_log_reader *r = ctx;
    if (skipping(r)) {
        r->skip--;
        return 1;
    }
    if (r->state == ST_TOPICS) {
        r->state = ST_LOG;
        return 1;
    }
    r->state = ST_END;
    r->done = true;
    return 1;
}

static const yajl_callbacks READER = {rd_null,      rd_bool, NULL,       NULL,           rd_number,   rd_string,
                                      rd_start_map, rd_key,  rd_end_map, rd_start_array, rd_end_array};

static void reader_begin(void *ctx)
{
    gl_log_reader *r = ctx;
    gl_logs_truncate(r->out, r->mark);
    r->state = ST_START;
    r->field = F_OTHER;
    r->skip = 0;
    r->seen = 0;
    r->index = 0;
    r->done = r->failed = false;
    r->code = GL_OK;
    r->why[0] = '\0';
}

static bool reader_end(void *ctx, char *why, size_t cap)
{
    gl_log_reader *r = ctx;
    if (r->failed || !r->done) {
        snprintf(why, cap, "%s", r->failed ? r->why : "the result is not an array");
        gl_logs_truncate(r->out, r->mark);
        return false;
    }
    return true;
}

void gl_log_reader_init(gl_log_reader *r, gl_logs *out)
{
    memset(r, 0, sizeof *r);
    r->out = out;
    r->mark = out->n;
    reader_begin(r);
}

gl_result_reader gl_log_reader_hooks(gl_log_reader *r)
{
    r->mark = r->out->n;
    return (gl_result_reader){&READER, r, reader_begin, reader_end, 0};
}

gl_code gl_log_reader_parse(const char *json, size_t len, gl_logs *out, gl_err *err)
{
    gl_log_reader r;
    gl_log_reader_init(&r, out);
    /* the plain shape by the scanner; anything else by yajl, from the start
     * (a callback refusing stops either, r.failed then says why) */
    yajl_handle h = NULL;
    yajl_status st = yajl_status_ok;
    if (gl_json_scan((const unsigned char *)json, len, &READER, &r) == GL_JSON_SCAN_GIVE_UP) {
        gl_logs_truncate(out, r.mark);
        gl_log_reader_init(&r, out);
        if (!(h = yajl_alloc(&READER, NULL, &r)))
            return gl_err_set(err, GL_ENOMEM, "out of memory reading logs");
        st = yajl_parse(h, (const unsigned char *)json, len);
        if (st == yajl_status_ok)
            st = yajl_complete_parse(h);
    }
    gl_code rc = GL_OK;
    if (r.failed) {
        rc = gl_err_set(err, r.code, "%s", r.why);
    } else if (st != yajl_status_ok) {
        unsigned char *m = yajl_get_error(h, 0, (const unsigned char *)json, len);
        /* yajl ends its message with ".\n": ours go into one-line logs */
        const char *ms = m ? (const char *)m : "parse error";
        size_t ml = strlen(ms);
        while (ml && (ms[ml - 1] == '\n' || ms[ml - 1] == '\r' || ms[ml - 1] == ' ' || ms[ml - 1] == '.'))
            ml--;
        rc = gl_err_set(err, GL_ERPC, "logs are not JSON: %.*s at byte %zu", (int)ml, ms,
                        yajl_get_bytes_consumed(h));
        if (m)
            yajl_free_error(h, m);
    } else if (!r.done) {
        rc = gl_err_set(err, GL_ERPC, "the result is not an array");
    }
    if (h)
        yajl_free(h);
    if (rc)
        gl_logs_truncate(out, r.mark);
    return rc;
}
