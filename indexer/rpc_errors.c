/* rpc_errors.c - classify failed JSON-RPC calls, and compute retry delays.
 *
 * The rules and the choices behind them are listed in rpc_errors.h.  Here:
 * the text scanner (a lowercase copy of the message's first 8 KiB, searched
 * for fixed phrases), overflow-checked number readers, the Retry-After and
 * HTTP-date parser, the classifier proper, then back-off and SplitMix64.
 *
 * Sections: text helpers, numbers, Retry-After, rule tables, classify,
 * back-off.
 */
#include <ctype.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "gpuledger/rpc_errors.h"

/* ------------------------------------------------------------------ */
/* Text helpers                                                         */

/* Lowercase copy of at most GL_RPC_MSG_SCAN_MAX bytes of `s` (NULL = "").
 * NUL bytes cannot occur (s is a C string); other bytes pass through. */
static void lower_copy(char *dst, const char *s)
{
    size_t i = 0;
    if (s)
        for (; i < GL_RPC_MSG_SCAN_MAX && s[i]; i++)
            dst[i] = (char)tolower((unsigned char)s[i]);
    dst[i] = '\0';
}

static bool has(const char *lc, const char *needle)
{
    return strstr(lc, needle) != NULL;
}

static bool has_any(const char *lc, const char *const *needles)
{
    for (; *needles; needles++)
        if (has(lc, *needles))
            return true;
    return false;
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static const char *skip_spaces(const char *p)
{
    while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
        p++;
    return p;
}

/* ------------------------------------------------------------------ */
/* Numbers                                                              */

/* v = v * mul + add, false on overflow. */
static bool mul_add(uint64_t *v, uint64_t mul, uint64_t add)
{
    if (*v > (UINT64_MAX - add) / mul)
        return false;
    *v = *v * mul + add;
    return true;
}

/* A decimal count as endpoints write it: "10000", "10,000", "2K", "10k",
 * "1M".  Thousands separators are accepted only as ",ddd" groups.  Returns
 * the end, or NULL when there is no digit or the value overflows. */
static const char *read_count(const char *p, uint64_t *out)
{
    uint64_t v = 0;
    if (!is_digit(*p))
        return NULL;
    for (;;) {
        while (is_digit(*p)) {
            if (!mul_add(&v, 10, (uint64_t)(*p - '0')))
                return NULL;
            p++;
        }
        if (p[0] == ',' && is_digit(p[1]) && is_digit(p[2]) &&
            is_digit(p[3]) && !is_digit(p[4])) {
            p++;
            continue;
        }
        break;
    }
    if ((*p == 'k' || *p == 'm') && !is_alpha(p[1])) {
        if (!mul_add(&v, *p == 'k' ? 1000 : 1000000, 0))
            return NULL;
        p++;
    }
    *out = v;
    return p;
}

/* A block number: "0x" hex or decimal.  NULL on no digit or overflow. */
static const char *read_block(const char *p, uint64_t *out)
{
    uint64_t v = 0;
    if (p[0] == '0' && p[1] == 'x') {
        const char *q = p + 2;
        for (; isxdigit((unsigned char)*q); q++) {
            unsigned d = is_digit(*q) ? (unsigned)(*q - '0')
                                      : (unsigned)(*q - 'a' + 10);
            if (!mul_add(&v, 16, d))
                return NULL;
        }
        if (q == p + 2)
            return NULL;
        *out = v;
        return q;
    }
    if (!is_digit(*p))
        return NULL;
    for (; is_digit(*p); p++)
        if (!mul_add(&v, 10, (uint64_t)(*p - '0')))
            return NULL;
    *out = v;
    return p;
}

/* The count that follows `anchor` (after at most a few of [ :"'=]).  False
 * when the anchor is absent, nothing numeric follows, or it overflows. */
static bool count_after(const char *lc, const char *anchor, uint64_t *out)
{
    const char *p = strstr(lc, anchor);
    if (!p)
        return false;
    p += strlen(anchor);
    for (int i = 0; i < 4 && !is_digit(*p); i++) {
        if (*p != ' ' && *p != ':' && *p != '"' && *p != '\'' && *p != '=')
            return false;
        p++;
    }
    return read_count(p, out) != NULL;
}

/* "A <sep> B" with sep ',' or '-' (spaces around allowed), A <= B. */
static const char *read_pair(const char *p, uint64_t *a, uint64_t *b)
{
    p = read_block(p, a);
    if (!p)
        return NULL;
    p = skip_spaces(p);
    if (*p != ',' && *p != '-')
        return NULL;
    p = read_block(skip_spaces(p + 1), b);
    return p;
}

/* After a '[': does a number start here?  ("[0x...]" counts.) */
static bool looks_like_range(const char *p)
{
    return is_digit(*skip_spaces(p));
}

/* A suggested range: "[A, B]" anywhere, or "range A-B" / "range A, B".
 * Returns 1 and sets from/to when found; 0 when there is none; -1 when
 * there is one that cannot be used: inverted, a number overflows, or a
 * bracket opens on a number but does not hold a readable pair. */
static int find_suggested_range(const char *lc, uint64_t *from, uint64_t *to)
{
    uint64_t a, b;
    bool seen = false;
    for (const char *p = strchr(lc, '['); p; p = strchr(p + 1, '[')) {
        const char *q = read_pair(skip_spaces(p + 1), &a, &b);
        if (q && *skip_spaces(q) == ']') {
            if (a > b)
                return -1;
            *from = a;
            *to = b;
            return 1;
        }
        seen |= looks_like_range(p + 1);
    }
    for (const char *p = strstr(lc, "range "); p; p = strstr(p + 1, "range ")) {
        if (read_pair(skip_spaces(p + 6), &a, &b)) {
            if (a > b)
                return -1;
            *from = a;
            *to = b;
            return 1;
        }
    }
    return seen ? -1 : 0;
}

/* A wait hint in the message: "try again in 2s", "retry after 500ms",
 * "backoff_seconds": 30.  Fractions are read to the millisecond; the unit
 * defaults to seconds.  Clamped to GL_RPC_WAIT_MAX_MS. */
static bool find_wait_hint(const char *lc, uint64_t *ms)
{
    static const char *const anchors[] = {
        "backoff_seconds", "try again in", "retry in", "retry after",
        "try again after", "wait for", NULL,
    };
    for (const char *const *a = anchors; *a; a++) {
        const char *p = strstr(lc, *a);
        if (!p)
            continue;
        p += strlen(*a);
        for (int i = 0; i < 4 && !is_digit(*p); i++) {
            if (*p != ' ' && *p != ':' && *p != '"' && *p != '=')
                break;
            p++;
        }
        if (!is_digit(*p))
            continue;
        uint64_t whole = 0, frac = 0;
        bool big = false;
        for (; is_digit(*p); p++)
            if (!mul_add(&whole, 10, (uint64_t)(*p - '0')))
                big = true;
        if (*p == '.') {
            uint64_t scale = 100;
            for (p++; is_digit(*p); p++) {
                frac += (uint64_t)(*p - '0') * scale;
                scale /= 10;
            }
        }
        p = skip_spaces(p);
        uint64_t unit_ms = 1000;
        if (p[0] == 'm' && p[1] == 's') {
            unit_ms = 1;
            frac = 0;
        } else if (strncmp(p, "millisecond", 11) == 0) {
            unit_ms = 1;
            frac = 0;
        } else if (p[0] == 'm' && (!is_alpha(p[1]) || strncmp(p, "min", 3) == 0)) {
            unit_ms = 60000;
            frac *= 60;
        } else if (p[0] == 'h' && (!is_alpha(p[1]) || strncmp(p, "hour", 4) == 0)) {
            unit_ms = 3600000;
            frac *= 3600;
        }
        uint64_t v = whole;
        if (big || !mul_add(&v, unit_ms, frac) || v > GL_RPC_WAIT_MAX_MS)
            v = GL_RPC_WAIT_MAX_MS;
        *ms = v;
        return true;
    }
    return false;
}

/* ------------------------------------------------------------------ */
/* Retry-After                                                          */

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
 * days_from_civil). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static bool is_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Read exactly `n` digits (n <= 4). */
static const char *read_digits(const char *p, int n, unsigned *out)
{
    unsigned v = 0;
    for (int i = 0; i < n; i++) {
        if (!is_digit(p[i]))
            return NULL;
        v = v * 10 + (unsigned)(p[i] - '0');
    }
    *out = v;
    return p + n;
}

static const char *read_month(const char *p, unsigned *m)
{
    static const char months[] = "janfebmaraprmayjunjulaugsepoctnovdec";
    char lc[3];
    for (int i = 0; i < 3; i++) {
        if (!is_alpha(p[i]))
            return NULL;
        lc[i] = (char)tolower((unsigned char)p[i]);
    }
    for (unsigned i = 0; i < 12; i++)
        if (memcmp(months + 3 * i, lc, 3) == 0) {
            *m = i + 1;
            return p + 3;
        }
    return NULL;
}

/* "HH:MM:SS" */
static const char *read_clock(const char *p, unsigned *h, unsigned *mi,
                              unsigned *s)
{
    if (!(p = read_digits(p, 2, h)) || *p++ != ':' ||
        !(p = read_digits(p, 2, mi)) || *p++ != ':' ||
        !(p = read_digits(p, 2, s)))
        return NULL;
    return p;
}

/* One of the three HTTP-date forms; seconds since the epoch. */
static bool parse_http_date(const char *p, int64_t *t)
{
    unsigned d = 0, m = 0, y = 0, h = 0, mi = 0, s = 0;
    const char *w = p;
    while (is_alpha(*p))
        p++;
    if (p - w < 3)
        return false;
    if (*p == ',') {
        /* IMF-fixdate "06 Nov 1994" or RFC 850 "06-Nov-94" */
        p = skip_spaces(p + 1);
        if (!(p = read_digits(p, 2, &d)))
            return false;
        char sep = *p;
        if (sep != ' ' && sep != '-')
            return false;
        if (!(p = read_month(p + 1, &m)) || *p++ != sep)
            return false;
        if (sep == ' ') {
            if (!(p = read_digits(p, 4, &y)))
                return false;
        } else {
            if (!(p = read_digits(p, 2, &y)))
                return false;
            /* RFC 9110 wants "more than 50 years in the future" read as
             * the past; with no reliable "now" here, 70..99 -> 19xx. */
            y += y >= 70 ? 1900 : 2000;
        }
        if (*p++ != ' ' || !(p = read_clock(p, &h, &mi, &s)))
            return false;
        p = skip_spaces(p);
        if (strncmp(p, "GMT", 3) != 0)
            return false;
        p += 3;
    } else {
        /* asctime "Sun Nov  6 08:49:37 1994" */
        if (*p++ != ' ' || !(p = read_month(p, &m)) || *p++ != ' ')
            return false;
        if (*p == ' ')
            p++;
        if (!(p = read_digits(p, 1, &d)))
            return false;
        if (is_digit(*p))
            d = d * 10 + (unsigned)(*p++ - '0');
        if (*p++ != ' ' || !(p = read_clock(p, &h, &mi, &s)) ||
            *p++ != ' ' || !(p = read_digits(p, 4, &y)))
            return false;
    }
    if (*skip_spaces(p) != '\0')
        return false;
    static const unsigned mdays[] = {31, 28, 31, 30, 31, 30,
                                     31, 31, 30, 31, 30, 31};
    unsigned dim = mdays[m - 1] + (m == 2 && is_leap(y));
    if (d < 1 || d > dim || h > 23 || mi > 59 || s > 60)
        return false;
    *t = days_from_civil(y, m, d) * 86400 + h * 3600 + mi * 60 + s;
    return true;
}

bool gl_rpc_retry_after_ms(const char *value, int64_t now_unix, uint64_t *ms)
{
    *ms = 0;
    if (!value)
        return false;
    const char *p = skip_spaces(value);
    if (is_digit(*p)) {
        uint64_t secs = 0;
        bool big = false;
        for (; is_digit(*p); p++)
            if (!mul_add(&secs, 10, (uint64_t)(*p - '0')))
                big = true;
        if (*skip_spaces(p) != '\0')
            return false;
        *ms = (big || secs > GL_RPC_WAIT_MAX_MS / 1000) ? GL_RPC_WAIT_MAX_MS
                                                        : secs * 1000;
        return true;
    }
    int64_t t;
    if (!parse_http_date(p, &t))
        return false;
    if (t > now_unix) {
        uint64_t secs = (uint64_t)t - (uint64_t)now_unix;
        *ms = secs > GL_RPC_WAIT_MAX_MS / 1000 ? GL_RPC_WAIT_MAX_MS
                                               : secs * 1000;
    }
    return true;
}

/* ------------------------------------------------------------------ */
/* Rule tables (lowercase phrases)                                      */

/* Result-count or response-size caps. */
static const char *const COUNT_PHRASES[] = {
    "more than", /* only together with "result", see match_range */
    "query exceeds max results",
    "exceeds limit of",
    "log response size exceeded",
    "response size exceeded",
    "response size should not",
    "response is too big",
    "response too big",
    "too many results",
    "too many logs",
    NULL,
};

/* Block-span caps. */
static const char *const SPAN_PHRASES[] = {
    "block range is too wide",
    "block range too wide",
    "block range limit exceeded",
    "block range is too large",
    "block range too large",
    "block range exceeded",
    "block range exceeds",
    "range is too large",
    "range too large",
    "maximum block range",
    "max block range",
    "max allowed range",
    "ranges over",
    "too many blocks",
    "blocks distance",
    "block distance",
    NULL,
};

static const char *const RATE_PHRASES[] = {
    "rate limit", "rate-limit", "ratelimit", "rate exceeded",
    "request rate", "too many requests", "compute units", "compute unit",
    "throughput", "request limit reached", "/second request limit",
    "calls per second", "requests per second", "request count exceeded",
    "daily request", "daily limit", "monthly limit", "quota", "max usage",
    NULL,
};

static const char *const LAGGING_PHRASES[] = {
    "header not found", "unknown block", "block not found",
    "missing trie node", "pruned", "historical state",
    "after last accepted block", "beyond current head",
    "beyond the current head", "future block", NULL,
};

static const char *const FATAL_PHRASES[] = {
    "invalid api key", "api key", "apikey", "unauthorized", "forbidden",
    "not authorized", "authenticat", "invalid project id", "method not found",
    "does not exist/is not available", "unsupported method",
    "method not supported", "not whitelisted", "not allowed",
    "invalid argument", "invalid params", "invalid filter",
    "execution reverted", "parse error", NULL,
};

static const char *const TRANSIENT_PHRASES[] = {
    "timeout", "timed out", "deadline exceeded", "connection reset",
    "reset by peer", "connection refused", "temporarily unavailable",
    "service unavailable", "bad gateway", "gateway time", "internal error",
    "internal server error", "try again later", "overloaded", "upstream",
    NULL,
};

/* ------------------------------------------------------------------ */
/* Classify                                                             */

/* Fill the RANGE_TOO_LARGE fields; false when no range phrase matches. */
static bool match_range(const char *lc, gl_rpc_errinfo *o)
{
    uint64_t n;
    bool count = false, span = false;

    if (has(lc, "more than") && has(lc, "result")) {
        count = true;
        o->rule = "result count cap";
        if (count_after(lc, "more than", &n))
            o->max_results = n;
    }
    if (count_after(lc, "query exceeds max results", &n)) {
        count = true;
        o->rule = "result count cap";
        o->max_results = n;
    }
    if (has(lc, "exceeds limit of") && has(lc, "log")) {
        count = true;
        o->rule = "log count cap";
        if (count_after(lc, "exceeds limit of", &n))
            o->max_results = n;
    }
    if (has(lc, "log response size exceeded")) {
        /* Alchemy: "up to a 2K block range and no limit on the response
         * size, or ... any block range with a cap of 10K logs" - the span
         * is an alternative that always works, not a cap. */
        count = true;
        o->rule = "log response size cap";
        if (count_after(lc, "cap of", &n))
            o->max_results = n;
        if (count_after(lc, "up to a", &n))
            o->safe_span = n;
    } else if (has(lc, "up to a") && has(lc, "block range")) {
        /* Alchemy free tier: "requests with up to a 10 block range" */
        span = true;
        o->rule = "block span cap";
        if (count_after(lc, "up to a", &n))
            o->max_span = o->safe_span = n;
    }
    if (!count) {
        for (const char *const *p = COUNT_PHRASES + 1; *p; p++)
            if (has(lc, *p)) {
                count = true;
                o->rule = "response size cap";
            }
    }
    if (has(lc, "limited to a") && has(lc, "range")) {
        span = true;
        o->rule = "block span cap";
        if (count_after(lc, "limited to a", &n))
            o->max_span = n;
    }
    if (has_any(lc, SPAN_PHRASES)) {
        span = true;
        o->rule = "block span cap";
        if (count_after(lc, "maximum block range", &n) ||
            count_after(lc, "max block range", &n) ||
            count_after(lc, "max allowed range", &n) ||
            count_after(lc, "ranges over", &n) ||
            count_after(lc, "maximum is set to", &n) ||
            count_after(lc, "max is", &n) ||
            count_after(lc, "exceeds the limit of", &n) ||
            count_after(lc, "exceeds the limit", &n))
            o->max_span = n;
    }
    if (!count && !span)
        return false;
    /* Both (a span cap that also names a result cap): the span is the
     * harder fact, it does not depend on the data. */
    o->limit = span ? GL_RPC_LIMIT_SPAN : GL_RPC_LIMIT_COUNT;
    if (span && count)
        o->rule = "block span and result caps";
    int r = find_suggested_range(lc, &o->range_from, &o->range_to);
    o->has_range = r > 0;
    o->range_invalid = r < 0;
    return true;
}

static gl_rpc_errclass decide(gl_rpc_errinfo *o, gl_rpc_errclass c,
                              const char *rule)
{
    o->cls = c;
    o->rule = rule;
    return c;
}

static gl_rpc_errclass classify_code(gl_rpc_errinfo *o, long code)
{
    switch (code) {
    case -32005:
        return decide(o, GL_RPC_ERR_RATE_LIMITED, "JSON-RPC limit exceeded");
    case -32603:
        return decide(o, GL_RPC_ERR_TRANSIENT, "JSON-RPC internal error");
    case -32700:
    case -32600:
    case -32601:
    case -32602:
        return decide(o, GL_RPC_ERR_FATAL, "JSON-RPC request error");
    }
    if (code <= -32000 && code >= -32099)
        return decide(o, GL_RPC_ERR_TRANSIENT, "JSON-RPC server error");
    return decide(o, GL_RPC_ERR_FATAL, "JSON-RPC error");
}

gl_rpc_errclass gl_rpc_classify(int http_status, long rpc_code,
                                bool has_rpc_code, const char *message,
                                const char *retry_after, int64_t now_unix,
                                gl_rpc_errinfo *out)
{
    gl_rpc_errinfo scratch;
    gl_rpc_errinfo *o = out ? out : &scratch;
    char lc[GL_RPC_MSG_SCAN_MAX + 1];

    memset(o, 0, sizeof *o);
    o->limit = GL_RPC_LIMIT_UNKNOWN;
    lower_copy(lc, message);

    uint64_t ms;
    if (gl_rpc_retry_after_ms(retry_after, now_unix, &ms)) {
        o->has_wait = true;
        o->wait_ms = ms;
    }
    if (find_wait_hint(lc, &ms)) {
        o->has_wait = true;
        if (ms > o->wait_ms)
            o->wait_ms = ms;
    }

    if (http_status == 429)
        return decide(o, GL_RPC_ERR_RATE_LIMITED, "HTTP 429");
    if (match_range(lc, o)) {
        o->cls = GL_RPC_ERR_RANGE_TOO_LARGE;
        return o->cls;
    }
    if (has_any(lc, RATE_PHRASES))
        return decide(o, GL_RPC_ERR_RATE_LIMITED, "rate limit message");
    if (has_any(lc, LAGGING_PHRASES) ||
        (has(lc, "cannot be found") && has(lc, "block")))
        return decide(o, GL_RPC_ERR_LAGGING, "block not available");
    if (has_any(lc, FATAL_PHRASES))
        return decide(o, GL_RPC_ERR_FATAL, "request refused");
    if (has_any(lc, TRANSIENT_PHRASES))
        return decide(o, GL_RPC_ERR_TRANSIENT, "transient failure message");

    if (http_status == 413) {
        decide(o, GL_RPC_ERR_RANGE_TOO_LARGE, "HTTP 413");
        o->limit = GL_RPC_LIMIT_UNKNOWN;
        return o->cls;
    }
    if (http_status == 401 || http_status == 403)
        return decide(o, GL_RPC_ERR_FATAL, "HTTP authorization refused");
    if (has_rpc_code)
        return classify_code(o, rpc_code);
    if (http_status == 408)
        return decide(o, GL_RPC_ERR_TRANSIENT, "HTTP 408");
    if (http_status >= 500 && http_status <= 599)
        return decide(o, GL_RPC_ERR_TRANSIENT, "HTTP 5xx");
    if (http_status >= 400 && http_status <= 499)
        return decide(o, GL_RPC_ERR_FATAL, "HTTP 4xx");
    if (http_status == 0)
        return decide(o, GL_RPC_ERR_TRANSIENT, "no response");
    return decide(o, GL_RPC_ERR_TRANSIENT, "unexplained failure");
}

const char *gl_rpc_errclass_name(gl_rpc_errclass cls)
{
    switch (cls) {
    case GL_RPC_ERR_RANGE_TOO_LARGE:
        return "range too large";
    case GL_RPC_ERR_RATE_LIMITED:
        return "rate limited";
    case GL_RPC_ERR_LAGGING:
        return "lagging";
    case GL_RPC_ERR_TRANSIENT:
        return "transient";
    case GL_RPC_ERR_FATAL:
        return "fatal";
    }
    return "?";
}

/* ------------------------------------------------------------------ */
/* Back-off                                                             */

/* floor(a * b / 2^64), portably. */
static uint64_t mulhi64(uint64_t a, uint64_t b)
{
    uint64_t a_lo = (uint32_t)a, a_hi = a >> 32;
    uint64_t b_lo = (uint32_t)b, b_hi = b >> 32;
    uint64_t lo_lo = a_lo * b_lo;
    uint64_t hi_lo = a_hi * b_lo;
    uint64_t lo_hi = a_lo * b_hi;
    uint64_t hi_hi = a_hi * b_hi;
    uint64_t cross = (lo_lo >> 32) + (uint32_t)hi_lo + lo_hi;
    return hi_hi + (hi_lo >> 32) + (cross >> 32);
}

uint64_t gl_backoff_delay_ms(const gl_backoff *policy, unsigned attempt,
                             uint64_t hint_ms, uint64_t (*rand64)(void *),
                             void *rng)
{
    static const gl_backoff dflt = GL_BACKOFF_INIT;
    const gl_backoff *p = policy ? policy : &dflt;
    uint64_t cap = p->cap_ms < p->base_ms ? p->base_ms : p->cap_ms;
    uint64_t window;

    if (attempt >= 64 || p->base_ms > (cap >> attempt))
        window = cap;
    else
        window = p->base_ms << attempt;

    uint64_t delay = window;
    if (rand64) {
        uint64_t r = rand64(rng);
        /* uniform on [0, window]: scale r by window + 1 */
        delay = window == UINT64_MAX ? r : mulhi64(r, window + 1);
    }
    return hint_ms > delay ? hint_ms : delay;
}

void gl_backoff_rng_seed(gl_backoff_rng *rng, uint64_t seed)
{
    rng->state = seed;
}

uint64_t gl_backoff_rng_next(void *rng)
{
    gl_backoff_rng *r = rng;
    uint64_t z = (r->state += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}
