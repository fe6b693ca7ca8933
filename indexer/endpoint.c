/* endpoint.c - a pool of JSON-RPC endpoints for one chain (endpoint.h).
 *
 * One curl multi handle drives up to max_concurrency easy handles, each
 * kept alive between requests (the multi handle's connection cache keeps
 * the sockets), so that a run of calls costs no handshakes.  Calls are
 * queued in a "run": an array of pending calls that the loop below sends
 * as JSON-RPC batches, reads back, and retries one by one until each one
 * has its result or its final error.  The policy (what to retry, where,
 * after how long) is in endpoint.h; the classification of failures is
 * gl_rpc_classify's.
 *
 * Secrets: an endpoint's URL is used for nothing but CURLOPT_URL.  Every
 * message names it by its redacted form, and every foreign text (curl's
 * error buffer, an endpoint's error message, a body excerpt) passes
 * through scrub(), which replaces each secret part of every URL.
 *
 * Sections: types, secrets, logging and time, endpoint health, requests,
 * answers, the loop, API.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "gpuledger/bytes.h"
#include "gpuledger/endpoint.h"
#include "gpuledger/json_scan.h"
#include "gpuledger/json_tree.h"
#include "gpuledger/rpc.h"

/* Defaults of gl_endpoint_opts (endpoint.h explains them). */
#define DEF_CONCURRENCY 4u
#define DEF_BATCH 50u
#define DEF_CONNECT_MS 5000L
#define DEF_TIMEOUT_MS 30000L
#define DEF_ATTEMPTS 8u
/* Successful calls after a rate limit that give back one connection. */
#define RESTORE_AFTER 8u
/* How much of an endpoint's own words is kept for classification (the
 * longest range-cap messages put the suggested range last). */
#define MSG_MAX 2048
/* How much of it goes into an error message or log line. */
#define EXCERPT_MAX 240
/* Secrets shorter than this are not scrubbed ("***" for every "ab" would
 * make messages unreadable and protect nothing); same rule as rpc.c. */
#define SECRET_MIN 4
/* Longest sleep between looks at the clock while nothing is in flight. */
#define IDLE_SLICE_MS 1000u

/* ------------------------------------------------------------------ */
/* Types                                                                */

typedef struct endpoint {
    char *url;            /* as given: only ever handed to CURLOPT_URL */
    char *red;            /* redacted: safe to print */
    unsigned batch_cap;   /* largest batch this endpoint is sent */
    unsigned fails;       /* requests failed in a row */
    unsigned benches;     /* times benched (the bench doubles) */
    unsigned rl_streak;   /* rate limits in a row */
    uint64_t ready_at;    /* monotonic ms: benched or cooling down until */
} endpoint;

enum { CALL_PENDING, CALL_INFLIGHT, CALL_DONE };

typedef struct call {
    const char *method;
    json_t *params;       /* borrowed */
    json_t *result;       /* new reference once done with GL_OK */
    const gl_result_reader *rd; /* or NULL: the result is read by rd, not returned */
    int state;
    gl_code code;
    gl_err err;
    gl_call_info info;
    long pin;             /* endpoint index, or -1: any */
    long avoid;           /* endpoint that just failed it, or -1 */
    size_t next_ep;       /* where to look first */
    uint64_t ready_at;    /* its own back-off (monotonic ms) */
} call;

typedef struct conn {
    CURL *h;
    bool busy;
    size_t ep;
    size_t *idx;          /* calls carried (capacity max_batch) */
    size_t n;
    uint64_t base_id;     /* ids base_id .. base_id + n - 1 */
    char *req;
    gl_buf body;
    size_t max_body;
    bool too_big, nomem;
    char errbuf[CURL_ERROR_SIZE];
    char retry_after[128];
} conn;

typedef struct run {
    call *c;
    size_t n, left;
    size_t lo;            /* no call below this index is pending */
} run;

struct gl_endpoints {
    endpoint *eps;
    size_t neps;
    char **secrets;
    size_t nsecrets;
    unsigned max_conc, conc, ok_since_rl;
    unsigned max_batch, max_attempts;
    long connect_ms, timeout_ms;
    size_t max_response;
    bool quorum;
    gl_backoff policy;
    gl_backoff_rng rng;
    gl_log_fn log;
    void *log_ctx;
    bool (*stop)(void *ctx);
    void *stop_ctx;
    CURLM *multi;
    conn *conns;
    struct curl_slist *headers;
    uint64_t next_id;
    gl_endpoint_stats st;
};

/* What became of one call in one answer. */
typedef struct outcome {
    bool ok;
    json_t *result;       /* ok: new reference */
    gl_code code;         /* failed: GL_ERPC, GL_EIO, GL_ERANGE, GL_ENOMEM */
    gl_rpc_errinfo info;
    char what[640];       /* scrubbed, without method and URL */
} outcome;

/* ------------------------------------------------------------------ */
/* Secrets                                                              */

static bool add_secret(gl_endpoints *e, const char *p, size_t n)
{
    if (n < SECRET_MIN)
        return true;
    for (size_t i = 0; i < e->nsecrets; i++)
        if (strlen(e->secrets[i]) == n && !memcmp(e->secrets[i], p, n))
            return true;
    char **v = realloc(e->secrets, (e->nsecrets + 1) * sizeof *v);
    if (!v)
        return false;
    e->secrets = v;
    if (!(v[e->nsecrets] = strndup(p, n)))
        return false;
    e->nsecrets++;
    return true;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* A token and, when it holds %XX escapes, its decoded form too (curl may
 * quote either). */
static bool add_token(gl_endpoints *e, const char *p, size_t n)
{
    if (!add_secret(e, p, n))
        return false;
    if (!memchr(p, '%', n))
        return true;
    char *d = malloc(n + 1);
    if (!d)
        return false;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '%' && i + 2 < n && hexval(p[i + 1]) >= 0 && hexval(p[i + 2]) >= 0) {
            d[o++] = (char)(hexval(p[i + 1]) * 16 + hexval(p[i + 2]));
            i += 2;
        } else {
            d[o++] = p[i];
        }
    }
    bool ok = add_secret(e, d, o);
    free(d);
    return ok;
}

/* The secrets of `url` are the pieces gl_rpc_redact_url hides: cut the URL
 * (after its scheme) at every delimiter of the parts the redactor works on
 * (/ ? & = # @ :) and keep each piece that the redacted form does not
 * show.  The userinfo pieces and every replaced path segment, query value
 * or fragment come out this way. */
static bool collect_secrets(gl_endpoints *e, const char *url, const char *red)
{
    const char *p = strstr(url, "://");
    p = p ? p + 3 : url;
    while (*p) {
        size_t n = strcspn(p, "/?&=#@:");
        if (n >= SECRET_MIN) {
            char *piece = strndup(p, n);
            if (!piece)
                return false;
            bool shown = strstr(red, piece) != NULL;
            free(piece);
            if (!shown && !add_token(e, p, n))
                return false;
        }
        p += n;
        if (*p)
            p++;
    }
    /* The userinfo as a whole ("user:pass"). */
    const char *auth = strstr(url, "://");
    auth = auth ? auth + 3 : url;
    size_t alen = strcspn(auth, "/?#");
    const char *at = memchr(auth, '@', alen);
    if (at && !add_token(e, auth, (size_t)(at - auth)))
        return false;
    return true;
}

/* Copy at most `max` bytes of foreign text into out (cap > 0), secrets as
 * "***", control characters as spaces, "..." at a cut.  Returns the
 * length. */
static size_t scrub_n(const gl_endpoints *e, const char *in, size_t n, size_t max, char *out, size_t cap)
{
    return gl_rpc_scrub_text((const char *const *)e->secrets, e->nsecrets, in, n, max, out, cap);
}

/* ------------------------------------------------------------------ */
/* Logging and time                                                     */

static void ep_log(const gl_endpoints *e, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Every argument is a redacted URL or scrubbed text already; the line is
 * scrubbed once more anyway, so that a slip cannot leak a key. */
static void ep_log(const gl_endpoints *e, int level, const char *fmt, ...)
{
    if (!e->log)
        return;
    char raw[1024], clean[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(raw, sizeof raw, fmt, ap);
    va_end(ap);
    scrub_n(e, raw, strlen(raw), sizeof clean - 1, clean, sizeof clean);
    e->log(e->log_ctx, level, clean);
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void sleep_ms(uint64_t ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static uint64_t backoff(gl_endpoints *e, unsigned attempt, uint64_t hint)
{
    return gl_backoff_delay_ms(&e->policy, attempt, hint, gl_backoff_rng_next, &e->rng);
}

/* ------------------------------------------------------------------ */
/* Endpoint health                                                      */

/* After an answer from endpoint i: some calls succeeded (ok), one was
 * rate limited (rl, with the server's wait hint), or the request failed
 * as a whole or in part for reasons that blame the endpoint (bad). */
static void ep_update(gl_endpoints *e, size_t i, bool ok, bool rl, uint64_t rl_hint, bool bad, uint64_t now)
{
    endpoint *p = &e->eps[i];
    if (rl) {
        uint64_t wait = backoff(e, p->rl_streak, rl_hint);
        p->rl_streak++;
        if (now + wait > p->ready_at)
            p->ready_at = now + wait;
        unsigned was = e->conc;
        e->conc = e->conc > 1 ? e->conc / 2 : 1;
        e->ok_since_rl = 0;
        e->st.rate_limited++;
        ep_log(e, 1, "%s: rate limited; pausing it %llu ms, concurrency %u -> %u", p->red,
               (unsigned long long)wait, was, e->conc);
    } else if (ok) {
        p->rl_streak = 0;
    }
    if (ok && !bad) {
        p->fails = 0;
        return;
    }
    if (!bad)
        return;
    if (++p->fails >= GL_ENDPOINT_BENCH_AFTER) {
        /* 8 x base, doubling with every benching: the window of the
         * (benches + 3)th retry, its top (no jitter). */
        uint64_t dur = gl_backoff_delay_ms(&e->policy, p->benches + 3, 0, NULL, NULL);
        p->benches++;
        p->fails = 0;
        if (now + dur > p->ready_at)
            p->ready_at = now + dur;
        e->st.benched++;
        ep_log(e, 1, "%s: benched for %llu ms after %u failed requests in a row", p->red,
               (unsigned long long)dur, GL_ENDPOINT_BENCH_AFTER);
    }
}

static void note_success(gl_endpoints *e)
{
    e->st.calls++;
    if (e->conc < e->max_conc && ++e->ok_since_rl >= RESTORE_AFTER) {
        e->conc++;
        e->ok_since_rl = 0;
    }
}

/* Which endpoint call c may use now, or -1.  A healthy endpoint other than
 * the one that just failed it is used at once (failover); otherwise the
 * call's own back-off must have passed. */
static long choose_ep(const gl_endpoints *e, const call *c, uint64_t now)
{
    if (c->pin >= 0)
        return (e->eps[c->pin].ready_at <= now && c->ready_at <= now) ? c->pin : -1;
    for (size_t k = 0; k < e->neps; k++) {
        size_t j = (c->next_ep + k) % e->neps;
        const endpoint *p = &e->eps[j];
        if ((long)j == c->avoid || p->ready_at > now)
            continue;
        if (c->avoid < 0 || p->fails == 0 || c->ready_at <= now)
            return (long)j;
    }
    if (c->avoid >= 0 && e->eps[c->avoid].ready_at <= now && c->ready_at <= now)
        return c->avoid;
    return -1;
}

/* ------------------------------------------------------------------ */
/* Requests                                                             */

static size_t on_body(char *data, size_t size, size_t nmemb, void *userdata)
{
    conn *k = userdata;
    return gl_rpc_take_body(&k->body, k->max_body, data, size * nmemb, &k->too_big, &k->nomem);
}

static size_t on_header(char *data, size_t size, size_t nitems, void *userdata)
{
    conn *k = userdata;
    (void)gl_rpc_take_retry_after(data, size * nitems, k->retry_after, sizeof k->retry_after);
    return size * nitems;
}

static bool conn_init(gl_endpoints *e, conn *k)
{
    k->h = curl_easy_init();
    k->idx = calloc(e->max_batch, sizeof *k->idx);
    if (!k->h || !k->idx)
        return false;
    gl_buf_init(&k->body);
    k->max_body = e->max_response;
    CURL *h = k->h;
    CURLcode rc = CURLE_OK;
#define SETOPT(opt, val) \
    if (rc == CURLE_OK)  \
    rc = curl_easy_setopt(h, opt, val)
    SETOPT(CURLOPT_HTTPHEADER, e->headers);
    SETOPT(CURLOPT_POST, 1L);
    SETOPT(CURLOPT_ACCEPT_ENCODING, ""); /* every encoding curl has: gzip, br, zstd */
    SETOPT(CURLOPT_NOSIGNAL, 1L);
    SETOPT(CURLOPT_TCP_KEEPALIVE, 1L);
    SETOPT(CURLOPT_FOLLOWLOCATION, 0L);
    SETOPT(CURLOPT_ERRORBUFFER, k->errbuf);
    SETOPT(CURLOPT_WRITEFUNCTION, on_body);
    SETOPT(CURLOPT_WRITEDATA, k);
    SETOPT(CURLOPT_HEADERFUNCTION, on_header);
    SETOPT(CURLOPT_HEADERDATA, k);
    SETOPT(CURLOPT_PRIVATE, k);
    SETOPT(CURLOPT_USERAGENT, "gpuledger/0.1");
    SETOPT(CURLOPT_CONNECTTIMEOUT_MS, e->connect_ms);
    SETOPT(CURLOPT_TIMEOUT_MS, e->timeout_ms);
    SETOPT(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)e->max_response);
#if LIBCURL_VERSION_NUM >= 0x075500
    SETOPT(CURLOPT_PROTOCOLS_STR, "http,https");
#else
    SETOPT(CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
#undef SETOPT
    if (rc == CURLE_OK) /* HTTP/2 where offered (ALPN); not fatal if curl lacks it */
        (void)curl_easy_setopt(h, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
    return rc == CURLE_OK;
}

static json_t *build_one(const call *c, uint64_t id)
{
    json_t *o = json_object();
    if (!o || json_object_set_new(o, "jsonrpc", json_string("2.0")) ||
        json_object_set_new(o, "id", json_integer((json_int_t)id)) ||
        json_object_set_new(o, "method", json_string(c->method)) ||
        json_object_set(o, "params", c->params)) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* Send calls idx[0..n) to endpoint epi on connection k.  False when out of
 * memory (or the method is not UTF-8) or curl refuses: nothing sent. */
static bool start(gl_endpoints *e, run *r, conn *k, size_t epi, const size_t *idx, size_t n)
{
    uint64_t base = e->next_id;
    json_t *req = NULL;
    if (n == 1) {
        req = build_one(&r->c[idx[0]], base);
    } else {
        req = json_array();
        for (size_t i = 0; req && i < n; i++) {
            json_t *one = build_one(&r->c[idx[i]], base + i);
            if (!one || json_array_append_new(req, one)) {
                json_decref(req);
                req = NULL;
            }
        }
    }
    char *body = req ? json_dumps(req, JSON_COMPACT) : NULL;
    json_decref(req);
    if (!body)
        return false;
    gl_buf_reset(&k->body);
    /* a streamed call's reader may cap its answer below the pool's cap:
     * the body is held whole while it arrives (see gl_result_reader) */
    const gl_result_reader *rd = n == 1 ? r->c[idx[0]].rd : NULL;
    k->max_body = rd && rd->max_bytes && rd->max_bytes < e->max_response ? rd->max_bytes : e->max_response;
    k->too_big = k->nomem = false;
    k->errbuf[0] = '\0';
    k->retry_after[0] = '\0';
    if (curl_easy_setopt(k->h, CURLOPT_URL, e->eps[epi].url) != CURLE_OK ||
        curl_easy_setopt(k->h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body)) != CURLE_OK ||
        curl_easy_setopt(k->h, CURLOPT_POSTFIELDS, body) != CURLE_OK ||
        curl_easy_setopt(k->h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)k->max_body) != CURLE_OK ||
        curl_multi_add_handle(e->multi, k->h) != CURLM_OK) {
        free(body);
        return false;
    }
    e->next_id += n;
    k->req = body;
    k->busy = true;
    k->ep = epi;
    k->n = n;
    k->base_id = base;
    memcpy(k->idx, idx, n * sizeof *idx);
    for (size_t i = 0; i < n; i++)
        r->c[idx[i]].state = CALL_INFLIGHT;
    e->st.requests++;
    return true;
}

/* ------------------------------------------------------------------ */
/* Answers                                                              */

static void set_transient(outcome *o, gl_code code, const char *rule, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* A failure that is ours to name (no HTTP/JSON-RPC error to classify):
 * a malformed answer, a missing id, no answer at all. */
static void set_transient(outcome *o, gl_code code, const char *rule, const char *fmt, ...)
{
    memset(&o->info, 0, sizeof o->info);
    o->ok = false;
    o->code = code;
    o->info.cls = GL_RPC_ERR_TRANSIENT;
    o->info.limit = GL_RPC_LIMIT_UNKNOWN;
    o->info.rule = rule;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(o->what, sizeof o->what, fmt, ap);
    va_end(ap);
}

/* Describe the server's wait hint, if any, for messages. */
static void wait_note(const conn *k, char *out, size_t cap, const gl_endpoints *e)
{
    out[0] = '\0';
    if (k->retry_after[0]) {
        char ra[64];
        scrub_n(e, k->retry_after, strlen(k->retry_after), 40, ra, sizeof ra);
        snprintf(out, cap, " (Retry-After %s)", ra);
    }
}

/* A JSON-RPC error object `eo`, answered with HTTP `status`: classify. */
static void from_rpc_error(const gl_endpoints *e, const conn *k, long status, json_t *eo, outcome *o)
{
    char msg[MSG_MAX + 1] = "", shortmsg[EXCERPT_MAX + 4] = "(no message)", data[160] = "";
    json_t *code = json_is_object(eo) ? json_object_get(eo, "code") : NULL;
    json_t *m = json_is_object(eo) ? json_object_get(eo, "message") : NULL;
    json_t *d = json_is_object(eo) ? json_object_get(eo, "data") : NULL;
    if (json_is_string(m)) {
        scrub_n(e, json_string_value(m), json_string_length(m), MSG_MAX, msg, sizeof msg);
        scrub_n(e, json_string_value(m), json_string_length(m), EXCERPT_MAX, shortmsg, sizeof shortmsg);
    } else if (!json_is_object(eo) || !json_is_integer(code)) {
        char *es = json_dumps(eo, JSON_COMPACT | JSON_ENCODE_ANY);
        if (es) {
            scrub_n(e, es, strlen(es), MSG_MAX, msg, sizeof msg);
            scrub_n(e, es, strlen(es), EXCERPT_MAX, shortmsg, sizeof shortmsg);
            free(es);
        }
    }
    if (d && !json_is_null(d)) {
        char *ds = json_dumps(d, JSON_COMPACT | JSON_ENCODE_ANY);
        if (ds) {
            scrub_n(e, ds, strlen(ds), 120, data, sizeof data);
            free(ds);
        }
    }
    bool has_code = json_is_integer(code);
    long c = has_code ? (long)json_integer_value(code) : 0;
    gl_rpc_classify((int)status, c, has_code, msg, k->retry_after[0] ? k->retry_after : NULL,
                    (int64_t)time(NULL), &o->info);
    o->ok = false;
    o->code = GL_ERPC;
    char st[32] = "", wn[96];
    if (status != 200)
        snprintf(st, sizeof st, "HTTP status %ld: ", status);
    wait_note(k, wn, sizeof wn, e);
    if (has_code)
        snprintf(o->what, sizeof o->what, "%sJSON-RPC error %ld: %s%s%s%s [%s: %s]", st, c, shortmsg,
                 *data ? " data: " : "", data, wn, gl_rpc_errclass_name(o->info.cls), o->info.rule);
    else
        snprintf(o->what, sizeof o->what, "%smalformed JSON-RPC error object: %s%s [%s: %s]", st, shortmsg,
                 wn, gl_rpc_errclass_name(o->info.cls), o->info.rule);
}

/* An HTTP status other than 200 whose body holds no error object. */
static void from_http(const gl_endpoints *e, const conn *k, long status, outcome *o)
{
    char msg[MSG_MAX + 1], ex[EXCERPT_MAX + 4], wn[96];
    const char *b = k->body.len ? (const char *)k->body.data : "";
    scrub_n(e, b, k->body.len, MSG_MAX, msg, sizeof msg);
    scrub_n(e, b, k->body.len, 160, ex, sizeof ex);
    gl_rpc_classify((int)status, 0, false, msg, k->retry_after[0] ? k->retry_after : NULL,
                    (int64_t)time(NULL), &o->info);
    o->ok = false;
    o->code = GL_ERPC;
    wait_note(k, wn, sizeof wn, e);
    snprintf(o->what, sizeof o->what, "HTTP status %ld%s: %s%s [%s: %s]", status, wn,
             k->body.len ? "body: " : "empty body", ex, gl_rpc_errclass_name(o->info.cls), o->info.rule);
}

/* Does a JSON id name number `want`?  Integers, or a decimal string (some
 * proxies stringify ids). */
static bool id_value(json_t *id, uint64_t *out)
{
    if (json_is_integer(id) && json_integer_value(id) >= 0) {
        *out = (uint64_t)json_integer_value(id);
        return true;
    }
    if (json_is_string(id)) {
        const char *s = json_string_value(id);
        char *end = NULL;
        if (!*s || *s == '-')
            return false;
        errno = 0;
        unsigned long long v = strtoull(s, &end, 10);
        if (errno || *end)
            return false;
        *out = v;
        return true;
    }
    return false;
}

/* One answer object `a` for one call, with HTTP `status`. */
static void read_answer(const gl_endpoints *e, const conn *k, long status, json_t *a, outcome *o)
{
    json_t *eo = json_object_get(a, "error");
    if (eo && !json_is_null(eo)) {
        from_rpc_error(e, k, status, eo, o);
        return;
    }
    if (status != 200) {
        from_http(e, k, status, o);
        return;
    }
    json_t *res = json_object_get(a, "result");
    if (!res) {
        char ex[EXCERPT_MAX + 4];
        char *s = json_dumps(a, JSON_COMPACT);
        scrub_n(e, s ? s : "", s ? strlen(s) : 0, 120, ex, sizeof ex);
        free(s);
        set_transient(o, GL_ERPC, "malformed answer", "answer has neither result nor error: %s", ex);
        return;
    }
    o->ok = true;
    o->result = json_incref(res);
}

/* The body is not JSON, or not the JSON expected: describe it. */
static void malformed(const gl_endpoints *e, const conn *k, const json_error_t *je, const char *shape,
                      outcome *o)
{
    char ex[EXCERPT_MAX + 4], jt[200];
    scrub_n(e, k->body.len ? (const char *)k->body.data : "", k->body.len, 120, ex, sizeof ex);
    if (je) {
        scrub_n(e, je->text, strlen(je->text), 150, jt, sizeof jt);
        set_transient(o, GL_ERPC, "malformed answer", "answer is not JSON (%s at byte %d): %s", jt,
                      je->position, k->body.len ? ex : "empty body");
    } else {
        set_transient(o, GL_ERPC, "malformed answer", "answer is %s: %s", shape, ex);
    }
}

/* ------------------------------------------------------------------ */
/* The loop                                                             */

static void call_done(run *r, call *c, gl_code code)
{
    c->state = CALL_DONE;
    c->code = code;
    r->left--;
}

/* Settle call ci after an answer from endpoint epi. */
static void settle(gl_endpoints *e, run *r, size_t ci, size_t epi, outcome *o, uint64_t now)
{
    call *c = &r->c[ci];
    const endpoint *p = &e->eps[epi];
    c->info.endpoint = epi;
    if (o->ok) {
        c->info.attempts++;
        c->result = o->result;
        o->result = NULL;
        gl_err_clear(&c->err);
        note_success(e);
        call_done(r, c, GL_OK);
        return;
    }
    c->info.attempts++;
    c->info.cls = o->info.cls;
    c->info.err = o->info;
    gl_err_set(&c->err, o->code, "%s at %s: %s (attempt %u of %u)", c->method, p->red, o->what,
               c->info.attempts, e->max_attempts);
    gl_rpc_errclass cls = o->info.cls;
    if (o->code == GL_ENOMEM || o->code == GL_ERANGE || cls == GL_RPC_ERR_RANGE_TOO_LARGE ||
        cls == GL_RPC_ERR_FATAL) {
        call_done(r, c, o->code);
        return;
    }
    if (c->info.attempts >= e->max_attempts) {
        ep_log(e, 2, "%s", c->err.msg);
        call_done(r, c, o->code);
        return;
    }
    e->st.retries++;
    c->state = CALL_PENDING;
    if (ci < r->lo)
        r->lo = ci;
    if (c->pin < 0) {
        c->avoid = (long)epi;
        c->next_ep = (epi + 1) % e->neps;
        if (e->neps > 1)
            e->st.failovers++;
    }
    /* Rate limits wait on the endpoint (ep_update); other failures on the
     * call itself, unless a healthy endpoint takes it at once. */
    uint64_t wait = cls == GL_RPC_ERR_RATE_LIMITED ? 0 : backoff(e, c->info.attempts - 1, o->info.wait_ms);
    c->ready_at = now + wait;
    ep_log(e, 1, "%s; retrying (back-off %llu ms)", c->err.msg, (unsigned long long)wait);
}

/* Put the calls of k back in the queue as they were (no attempt spent). */
static void requeue(run *r, const conn *k)
{
    for (size_t i = 0; i < k->n; i++) {
        r->c[k->idx[i]].state = CALL_PENDING;
        if (k->idx[i] < r->lo)
            r->lo = k->idx[i];
    }
}

/* Endpoint refused k's batch as a whole: send it smaller from now on. */
static void batch_refused(gl_endpoints *e, run *r, const conn *k, const char *why)
{
    endpoint *p = &e->eps[k->ep];
    unsigned was = p->batch_cap;
    unsigned now_cap = (unsigned)(k->n / 2);
    if (now_cap < 1)
        now_cap = 1;
    if (now_cap < p->batch_cap)
        p->batch_cap = now_cap;
    e->st.batch_refusals++;
    ep_log(e, 1, "%s refused a batch of %zu calls (%s); batches of at most %u from now on (was %u)", p->red,
           k->n, why, p->batch_cap, was);
    requeue(r, k);
}

/* Read a batch answer (an array) into outs[0..k->n). */
static void read_batch(const gl_endpoints *e, const conn *k, long status, json_t *arr, outcome *outs)
{
    unsigned *seen = calloc(k->n, sizeof *seen);
    json_t **elem = calloc(k->n, sizeof *elem);
    if (!seen || !elem) {
        for (size_t i = 0; i < k->n; i++)
            set_transient(&outs[i], GL_ENOMEM, "out of memory", "out of memory reading a batch answer");
        free(seen);
        free(elem);
        return;
    }
    size_t strays = 0, idx;
    json_t *a;
    json_array_foreach(arr, idx, a) {
        uint64_t id;
        if (!json_is_object(a) || !id_value(json_object_get(a, "id"), &id) || id < k->base_id ||
            id - k->base_id >= k->n) {
            strays++;
            continue;
        }
        size_t i = (size_t)(id - k->base_id);
        seen[i]++;
        elem[i] = a;
    }
    for (size_t i = 0; i < k->n; i++) {
        if (seen[i] == 1)
            read_answer(e, k, status, elem[i], &outs[i]);
        else if (seen[i] == 0)
            set_transient(&outs[i], GL_ERPC, "missing id in batch answer",
                          "the batch answer (%zu elements for %zu calls, %zu with unknown ids) has none "
                          "for id %llu",
                          json_array_size(arr), k->n, strays, (unsigned long long)(k->base_id + i));
        else
            set_transient(&outs[i], GL_ERPC, "repeated id in batch answer",
                          "the batch answer holds id %llu %u times: neither answer is trusted",
                          (unsigned long long)(k->base_id + i), seen[i]);
    }
    free(seen);
    free(elem);
}

/* The answer to a batch is not an array.  Either the endpoint refuses the
 * batch as such (returns true: requeued smaller), or the whole request
 * failed (outs[0] describes it, to be applied to every call). */
static bool batch_not_array(gl_endpoints *e, run *r, const conn *k, long status, json_t *body,
                            const json_error_t *je, outcome *out)
{
    json_t *eo = json_is_object(body) ? json_object_get(body, "error") : NULL;
    if (status == 429 || (status >= 500 && status <= 599) || status == 408) {
        if (eo && !json_is_null(eo))
            from_rpc_error(e, k, status, eo, out);
        else
            from_http(e, k, status, out);
        return false;
    }
    if (eo && !json_is_null(eo)) {
        from_rpc_error(e, k, status, eo, out);
        if (out->info.cls == GL_RPC_ERR_RATE_LIMITED)
            return false;
        /* the class a single call would get does not apply to a batch */
        char *bracket = strrchr(out->what, '[');
        if (bracket && bracket > out->what)
            bracket[-1] = '\0';
        batch_refused(e, r, k, out->what);
        return true;
    }
    if (status == 400 || status == 413) {
        char why[64];
        snprintf(why, sizeof why, "HTTP status %ld", status);
        batch_refused(e, r, k, why);
        return true;
    }
    if (status != 200)
        from_http(e, k, status, out);
    else if (!body)
        malformed(e, k, je, NULL, out);
    else
        malformed(e, k, NULL, json_is_object(body) ? "an object without error for a batch" : "a JSON scalar",
                  out);
    return false;
}

/* Transfer on k has ended with rc: settle its calls. */
/* The envelope of a single answer whose result streams to a reader: the
 * pool's own part of the parse (is it an object, its id, an error member)
 * and the result's events forwarded to the reader. */
enum { MEMBER_NONE, MEMBER_RESULT, MEMBER_ERROR, MEMBER_ID, MEMBER_OTHER };

typedef struct envelope {
    const gl_result_reader *rd;
    unsigned depth;       /* 0 outside the top-level object, 1 inside */
    int member;           /* whose value is being read */
    unsigned vdepth;      /* nesting inside that value */
    bool not_object;      /* the top level is not an object (a batch answer, a scalar) */
    bool seen_result, seen_error, reader_failed, id_ok;
    uint64_t id;
} envelope;

#define FWD(env, cb, ...)                                                                                        \
    ((env)->member != MEMBER_RESULT || !(env)->rd->callbacks->cb ||                                             \
     (env)->rd->callbacks->cb((env)->rd->ctx, __VA_ARGS__) || ((env)->reader_failed = true, false))
#define FWD0(env, cb)                                                                                            \
    ((env)->member != MEMBER_RESULT || !(env)->rd->callbacks->cb || (env)->rd->callbacks->cb((env)->rd->ctx) || \
     ((env)->reader_failed = true, false))

/* A scalar ends the member's value when it is the value itself. */
static int env_scalar_end(envelope *v)
{
    if (v->member != MEMBER_NONE && v->vdepth == 0)
        v->member = MEMBER_NONE;
    return 1;
}

static bool env_outside(envelope *v)
{
    if (v->member == MEMBER_NONE) {
        v->not_object = true; /* a value where a key or the top object belongs */
        return true;
    }
    return false;
}

static int env_null(void *ctx)
{
    envelope *v = ctx;
    if (env_outside(v))
        return 0;
    if (v->member == MEMBER_ERROR && v->vdepth == 0)
        v->seen_error = false; /* "error": null is no error */
    return FWD0(v, yajl_null) ? env_scalar_end(v) : 0;
}

static int env_bool(void *ctx, int b)
{
    envelope *v = ctx;
    if (env_outside(v))
        return 0;
    return FWD(v, yajl_boolean, b) ? env_scalar_end(v) : 0;
}

static int env_number(void *ctx, const char *p, size_t n)
{
    envelope *v = ctx;
    if (env_outside(v))
        return 0;
    if (v->member == MEMBER_ID && v->vdepth == 0)
        v->id_ok = gl_dec_u64(p, n, &v->id);
    return FWD(v, yajl_number, p, n) ? env_scalar_end(v) : 0;
}

static int env_string(void *ctx, const unsigned char *p, size_t n)
{
    envelope *v = ctx;
    if (env_outside(v))
        return 0;
    if (v->member == MEMBER_ID && v->vdepth == 0)
        v->id_ok = gl_dec_u64((const char *)p, n, &v->id);
    return FWD(v, yajl_string, p, n) ? env_scalar_end(v) : 0;
}

static int env_start(envelope *v, bool map)
{
    if (v->member == MEMBER_NONE) {
        if (v->depth == 0 && map) {
            v->depth = 1;
            return 1;
        }
        v->not_object = true;
        return 0;
    }
    v->vdepth++;
    return map ? FWD0(v, yajl_start_map) : FWD0(v, yajl_start_array);
}

static int env_end(envelope *v, bool map)
{
    if (v->member == MEMBER_NONE) {
        v->depth = 0; /* the top object closes */
        return 1;
    }
    v->vdepth--;
    if (!(map ? FWD0(v, yajl_end_map) : FWD0(v, yajl_end_array)))
        return 0;
    return env_scalar_end(v);
}

static int env_start_map(void *ctx) { return env_start(ctx, true); }
static int env_end_map(void *ctx) { return env_end(ctx, true); }
static int env_start_array(void *ctx) { return env_start(ctx, false); }
static int env_end_array(void *ctx) { return env_end(ctx, false); }

static int env_key(void *ctx, const unsigned char *p, size_t n)
{
    envelope *v = ctx;
    if (v->member != MEMBER_NONE)
        return FWD(v, yajl_map_key, p, n);
    if (n == 6 && !memcmp(p, "result", 6)) {
        if (v->seen_result)
            return 0; /* twice: the ordinary path describes it */
        v->seen_result = true;
        v->member = MEMBER_RESULT;
        v->rd->begin(v->rd->ctx);
    } else if (n == 5 && !memcmp(p, "error", 5)) {
        v->seen_error = true;
        v->member = MEMBER_ERROR;
    } else if (n == 2 && !memcmp(p, "id", 2)) {
        v->member = MEMBER_ID;
    } else {
        v->member = MEMBER_OTHER;
    }
    v->vdepth = 0;
    return 1;
}

static const yajl_callbacks ENVELOPE = {env_null,   env_bool,      NULL,          NULL,        env_number, env_string,
                                        env_start_map, env_key, env_end_map, env_start_array, env_end_array};

/* Read a single answer whose result streams to rd.  True when the outcome
 * is settled here (ok, or the reader refused the result, or a wrong id);
 * false when the ordinary path should describe the answer (an error
 * member, an HTTP failure, not JSON, not an object, no result). */
static bool stream_answer(const gl_endpoints *e, const conn *k, long status, const gl_result_reader *rd, outcome *o)
{
    if (status != 200 || !k->body.len)
        return false;
    envelope v;
    memset(&v, 0, sizeof v);
    v.rd = rd;
    yajl_status st;
    gl_json_scan_result fast = gl_json_scan(k->body.data, k->body.len, &ENVELOPE, &v);
    if (fast != GL_JSON_SCAN_GIVE_UP) {
        st = fast == GL_JSON_SCAN_OK ? yajl_status_ok : yajl_status_client_canceled;
    } else { /* not the plain shape: yajl reads it from the start */
        if (v.seen_result)
            rd->begin(rd->ctx);
        memset(&v, 0, sizeof v);
        v.rd = rd;
        yajl_handle h = yajl_alloc(&ENVELOPE, NULL, &v);
        if (!h)
            return false;
        /* The reader checks every string it keeps (hex of a fixed length)
         * and skips the rest; yajl's UTF-8 check of each one was ~1/4 of
         * its time. */
        yajl_config(h, yajl_dont_validate_strings, 1);
        st = yajl_parse(h, k->body.data, k->body.len);
        if (st == yajl_status_ok)
            st = yajl_complete_parse(h);
        yajl_free(h);
    }
    char why[200] = "";
    if (v.reader_failed || (st == yajl_status_ok && v.seen_result && !v.seen_error)) {
        bool fine = rd->end(rd->ctx, why, sizeof why) && !v.reader_failed;
        if (fine && !(v.id_ok && v.id == k->base_id)) {
            rd->begin(rd->ctx); /* drops what the reader took from it */
            set_transient(o, GL_ERPC, "wrong id", "answer id does not match request id %llu",
                          (unsigned long long)k->base_id);
            return true;
        }
        if (!fine) {
            char clean[sizeof why + 4];
            scrub_n(e, why, strlen(why), sizeof why, clean, sizeof clean);
            set_transient(o, GL_ERPC, "malformed answer", "%s", clean);
            return true;
        }
        o->ok = true;
        return true;
    }
    if (v.seen_result)
        rd->begin(rd->ctx); /* a cut or erring answer leaves nothing behind */
    return false;
}

/* The answer k->body with HTTP `status` (transfer result rc) has arrived
 * for k's calls: read it and settle each call.  Split from finish() so
 * that gl_endpoints_read_answer (tests, fuzzing) reads an answer exactly
 * as the loop does, without a transfer. */
static void read_reply(gl_endpoints *e, run *r, conn *k, CURLcode rc, long status, uint64_t now)
{
    outcome *outs = calloc(k->n, sizeof *outs);
    if (!outs) {
        for (size_t i = 0; i < k->n; i++) {
            call *c = &r->c[k->idx[i]];
            gl_err_set(&c->err, GL_ENOMEM, "%s: out of memory reading an answer", c->method);
            call_done(r, c, GL_ENOMEM);
        }
        return;
    }
    bool whole = true; /* outs[0] applies to every call */
    if (rc != CURLE_OK && (k->too_big || rc == CURLE_FILESIZE_EXCEEDED) && k->max_body < e->max_response) {
        /* over the reader's own cap (only a single streamed call has one):
         * the request asked for too much, as a provider's count refusal
         * says, and the caller splits it; the endpoint did nothing wrong */
        set_transient(&outs[0], GL_ERPC, "answer over the reader's cap",
                      "answer larger than %zu bytes, the cap its reader set", k->max_body);
        outs[0].info.cls = GL_RPC_ERR_RANGE_TOO_LARGE;
        outs[0].info.limit = GL_RPC_LIMIT_COUNT;
        e->st.capped++;
    } else if (rc != CURLE_OK && (k->too_big || rc == CURLE_FILESIZE_EXCEEDED)) {
        if (k->n > 1) {
            batch_refused(e, r, k, "answer over the response size cap");
            free(outs);
            return;
        }
        set_transient(&outs[0], GL_ERANGE, "response too large", "answer larger than %zu bytes",
                      e->max_response);
        outs[0].info.cls = GL_RPC_ERR_FATAL;
    } else if (rc != CURLE_OK && k->nomem) {
        set_transient(&outs[0], GL_ENOMEM, "out of memory", "out of memory reading the answer");
    } else if (rc != CURLE_OK) {
        const char *why = k->errbuf[0] ? k->errbuf : curl_easy_strerror(rc);
        char clean[CURL_ERROR_SIZE + 4];
        scrub_n(e, why, strlen(why), CURL_ERROR_SIZE, clean, sizeof clean);
        set_transient(&outs[0], GL_EIO, "no answer", "no answer: %s", clean);
        outs[0].info.rule = "no response";
    } else if (k->n == 1 && r->c[k->idx[0]].rd && stream_answer(e, k, status, r->c[k->idx[0]].rd, &outs[0])) {
        /* settled as it streamed */
    } else {
        json_error_t je;
        json_t *body = gl_json_tree_load(k->body.data ? (const char *)k->body.data : "", k->body.len, 0, &je);
        if (k->n > 1 && json_is_array(body)) {
            read_batch(e, k, status, body, outs);
            whole = false;
        } else if (k->n > 1) {
            if (batch_not_array(e, r, k, status, body, &je, &outs[0])) {
                json_decref(body);
                free(outs);
                return;
            }
        } else if (json_is_object(body)) {
            uint64_t id;
            json_t *eo = json_object_get(body, "error");
            if ((!eo || json_is_null(eo)) && status == 200 &&
                (!id_value(json_object_get(body, "id"), &id) || id != k->base_id)) {
                char got[64] = "none";
                char *s = json_object_get(body, "id")
                              ? json_dumps(json_object_get(body, "id"), JSON_COMPACT | JSON_ENCODE_ANY)
                              : NULL;
                if (s)
                    scrub_n(e, s, strlen(s), 40, got, sizeof got);
                free(s);
                set_transient(&outs[0], GL_ERPC, "wrong id", "answer id %s does not match request id %llu",
                              got, (unsigned long long)k->base_id);
            } else {
                read_answer(e, k, status, body, &outs[0]);
            }
        } else if (status != 200) {
            from_http(e, k, status, &outs[0]);
        } else {
            malformed(e, k, body ? NULL : &je, json_is_array(body) ? "a JSON array" : "a JSON scalar",
                      &outs[0]);
        }
        json_decref(body);
        if (k->n == 1 && r->c[k->idx[0]].rd && outs[0].ok) {
            /* jansson took what the streaming parse refused (yajl is the
             * stricter of the two): not an answer the reader can use */
            json_decref(outs[0].result);
            memset(&outs[0], 0, sizeof outs[0]);
            set_transient(&outs[0], GL_ERPC, "malformed answer", "the answer's result could not be read");
        }
    }
    if (whole)
        for (size_t i = 1; i < k->n; i++)
            outs[i] = outs[0];

    /* Endpoint health, once per request. */
    bool ok = false, rl = false, bad = false;
    uint64_t hint = 0;
    for (size_t i = 0; i < k->n; i++) {
        if (outs[i].ok) {
            ok = true;
            continue;
        }
        switch (outs[i].info.cls) {
        case GL_RPC_ERR_RATE_LIMITED:
            rl = true;
            if (outs[i].info.wait_ms > hint)
                hint = outs[i].info.wait_ms;
            break;
        case GL_RPC_ERR_TRANSIENT:
            bad = bad || outs[i].code != GL_ENOMEM;
            break;
        case GL_RPC_ERR_RANGE_TOO_LARGE:
        case GL_RPC_ERR_LAGGING:
        case GL_RPC_ERR_FATAL:
            break;
        }
    }
    ep_update(e, k->ep, ok, rl, hint, bad, now);
    if (whole && k->n > 1 && !outs[0].ok)
        ep_log(e, 1, "%s: batch of %zu calls failed as a whole: %s", e->eps[k->ep].red, k->n, outs[0].what);
    for (size_t i = 0; i < k->n; i++) {
        settle(e, r, k->idx[i], k->ep, &outs[i], now);
        if (whole && i > 0)
            outs[i].result = NULL; /* shared with outs[0]: never set when whole */
    }
    for (size_t i = 0; i < (whole ? 1 : k->n); i++)
        json_decref(outs[i].result);
    free(outs);
}

static void finish(gl_endpoints *e, run *r, conn *k, CURLcode rc)
{
    curl_multi_remove_handle(e->multi, k->h);
    k->busy = false;
    free(k->req);
    k->req = NULL;
    uint64_t now = now_ms();
    long status = 0;
    if (curl_easy_getinfo(k->h, CURLINFO_RESPONSE_CODE, &status) != CURLE_OK)
        status = 0;
    read_reply(e, r, k, rc, status, now);
}

static unsigned busy_count(const gl_endpoints *e)
{
    unsigned n = 0;
    for (unsigned i = 0; i < e->max_conc; i++)
        n += e->conns[i].busy;
    return n;
}

static conn *free_conn(gl_endpoints *e)
{
    for (unsigned i = 0; i < e->max_conc; i++)
        if (!e->conns[i].busy)
            return &e->conns[i];
    return NULL;
}

/* Start requests on free connections for calls that are ready.  Spreads
 * the ready calls over the free connections (up to the endpoint's batch
 * size each), so that concurrency is used. */
static void dispatch(gl_endpoints *e, run *r, uint64_t now, size_t *scratch)
{
    for (;;) {
        unsigned busy = busy_count(e);
        conn *k = free_conn(e);
        if (busy >= e->conc || !k)
            return;
        while (r->lo < r->n && r->c[r->lo].state != CALL_PENDING)
            r->lo++;
        unsigned freec = e->conc - busy;
        size_t first = SIZE_MAX, nready = 0, cap = e->max_batch;
        long epi = -1;
        /* Count ready calls for the first usable endpoint, up to what the
         * free connections can take (the scan stays short when many are). */
        for (size_t i = r->lo; i < r->n && (first == SIZE_MAX || nready < cap * freec); i++) {
            call *c = &r->c[i];
            if (c->state != CALL_PENDING)
                continue;
            long j = choose_ep(e, c, now);
            if (j < 0)
                continue;
            if (first == SIZE_MAX) {
                first = i;
                epi = j;
                if (e->eps[epi].batch_cap < cap)
                    cap = e->eps[epi].batch_cap;
            }
            nready += j == epi;
        }
        if (first == SIZE_MAX)
            return;
        size_t per = (nready + freec - 1) / freec;
        if (per > cap)
            per = cap;
        if (per < 1)
            per = 1;
        size_t n = 0;
        for (size_t i = first; i < r->n && n < per; i++)
            if (r->c[i].state == CALL_PENDING && choose_ep(e, &r->c[i], now) == epi)
                scratch[n++] = i;
        if (!start(e, r, k, (size_t)epi, scratch, n)) {
            for (size_t i = 0; i < n; i++) {
                call *c = &r->c[scratch[i]];
                gl_err_set(&c->err, GL_ENOMEM, "%s at %s: cannot build or send the request (out of memory, "
                           "or the method name is not UTF-8)", c->method, e->eps[epi].red);
                call_done(r, c, GL_ENOMEM);
            }
        }
    }
}

/* When something pending could next become ready (UINT64_MAX: nothing). */
static uint64_t next_wake(const gl_endpoints *e, const run *r, uint64_t now)
{
    uint64_t wake = UINT64_MAX;
    for (size_t i = 0; i < r->n; i++)
        if (r->c[i].state == CALL_PENDING && r->c[i].ready_at > now && r->c[i].ready_at < wake)
            wake = r->c[i].ready_at;
    for (size_t j = 0; j < e->neps; j++)
        if (e->eps[j].ready_at > now && e->eps[j].ready_at < wake)
            wake = e->eps[j].ready_at;
    return wake;
}

/* Stopped on request: drop what is in flight, fail what is left. */
static void cancel_all(gl_endpoints *e, run *r)
{
    for (unsigned i = 0; i < e->max_conc; i++) {
        conn *k = &e->conns[i];
        if (!k->busy)
            continue;
        curl_multi_remove_handle(e->multi, k->h);
        k->busy = false;
        free(k->req);
        k->req = NULL;
    }
    for (size_t i = 0; i < r->n; i++) {
        call *c = &r->c[i];
        if (c->state == CALL_DONE)
            continue;
        gl_err_set(&c->err, GL_ECANCELED, "%s: stopped on request", c->method);
        c->info.cls = GL_RPC_ERR_FATAL;
        call_done(r, c, GL_ECANCELED);
    }
}

/* Run every call of r to its end. */
static gl_code run_all(gl_endpoints *e, run *r, gl_err *err)
{
    size_t *scratch = malloc((e->max_batch ? e->max_batch : 1) * sizeof *scratch);
    if (!scratch)
        return gl_err_set(err, GL_ENOMEM, "out of memory starting %zu calls", r->n);
    while (r->left > 0) {
        if (e->stop && e->stop(e->stop_ctx)) {
            cancel_all(e, r);
            break;
        }
        uint64_t now = now_ms();
        dispatch(e, r, now, scratch);
        if (busy_count(e) == 0) {
            if (r->left == 0)
                break;
            uint64_t wake = next_wake(e, r, now);
            uint64_t d = wake == UINT64_MAX ? 1 : wake - now;
            sleep_ms(d > IDLE_SLICE_MS ? IDLE_SLICE_MS : (d ? d : 1));
            continue;
        }
        int running = 0;
        curl_multi_perform(e->multi, &running);
        CURLMsg *m;
        int queued;
        while ((m = curl_multi_info_read(e->multi, &queued)) != NULL) {
            if (m->msg != CURLMSG_DONE)
                continue;
            char *priv = NULL;
            curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, &priv);
            conn *k = (conn *)(void *)priv;
            CURLcode rc = m->data.result;
            if (k)
                finish(e, r, k, rc);
        }
        if (busy_count(e) > 0) {
            now = now_ms();
            uint64_t wake = next_wake(e, r, now);
            uint64_t d = wake == UINT64_MAX ? IDLE_SLICE_MS : wake - now;
            curl_multi_poll(e->multi, NULL, 0, (int)(d > IDLE_SLICE_MS ? IDLE_SLICE_MS : d), NULL);
        }
    }
    free(scratch);
    return GL_OK;
}

/* Set up call c. */
static void call_init(call *c, const char *method, json_t *params, long pin)
{
    memset(c, 0, sizeof *c);
    c->method = method;
    c->params = params;
    c->state = CALL_PENDING;
    c->pin = pin;
    c->avoid = -1;
    c->info.cls = GL_RPC_ERR_TRANSIENT;
    c->info.err.cls = GL_RPC_ERR_TRANSIENT;
    c->info.err.rule = "";
    c->next_ep = pin >= 0 ? (size_t)pin : 0;
}

static bool params_ok(const json_t *p) { return json_is_array(p) || json_is_object(p); }

/* ------------------------------------------------------------------ */
/* API                                                                  */

gl_endpoints *gl_endpoints_new(const gl_endpoint_opts *opts, gl_err *err)
{
    if (!opts || !opts->urls || opts->nurls == 0) {
        gl_err_set(err, GL_EINVAL, "no endpoint URL given");
        return NULL;
    }
    if (opts->nurls > GL_ENDPOINT_MAX_URLS) {
        gl_err_set(err, GL_EINVAL, "%zu endpoint URLs given, at most %u are allowed", opts->nurls,
                   GL_ENDPOINT_MAX_URLS);
        return NULL;
    }
    gl_endpoints *e = calloc(1, sizeof *e);
    if (!e) {
        gl_err_set(err, GL_ENOMEM, "out of memory creating the endpoint pool");
        return NULL;
    }
    e->max_conc = opts->max_concurrency ? opts->max_concurrency : DEF_CONCURRENCY;
    if (e->max_conc > GL_ENDPOINT_MAX_CONCURRENCY)
        e->max_conc = GL_ENDPOINT_MAX_CONCURRENCY;
    e->conc = e->max_conc;
    e->max_batch = opts->max_batch ? opts->max_batch : DEF_BATCH;
    if (e->max_batch > GL_ENDPOINT_MAX_BATCH)
        e->max_batch = GL_ENDPOINT_MAX_BATCH;
    e->connect_ms = opts->connect_timeout_ms > 0 ? opts->connect_timeout_ms : DEF_CONNECT_MS;
    e->timeout_ms = opts->timeout_ms > 0 ? opts->timeout_ms : DEF_TIMEOUT_MS;
    e->max_attempts = opts->max_attempts ? opts->max_attempts : DEF_ATTEMPTS;
    e->max_response = opts->max_response ? opts->max_response : GL_ENDPOINT_MAX_RESPONSE_DEFAULT;
    e->policy.base_ms = opts->backoff_base_ms ? opts->backoff_base_ms : GL_BACKOFF_BASE_MS_DEFAULT;
    e->policy.cap_ms = opts->backoff_cap_ms ? opts->backoff_cap_ms : GL_BACKOFF_CAP_MS_DEFAULT;
    uint64_t seed = opts->seed;
    if (!seed) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        seed = ((uint64_t)ts.tv_sec << 32) ^ (uint64_t)ts.tv_nsec ^ (uint64_t)getpid();
    }
    gl_backoff_rng_seed(&e->rng, seed);
    e->quorum = opts->quorum;
    e->log = opts->log;
    e->log_ctx = opts->log_ctx;
    e->stop = opts->stop;
    e->stop_ctx = opts->stop_ctx;
    e->next_id = 1;

    e->eps = calloc(opts->nurls, sizeof *e->eps);
    if (!e->eps)
        goto nomem;
    for (size_t i = 0; i < opts->nurls; i++) {
        const char *url = opts->urls[i];
        /* gl_rpc_new checks the scheme, names the URL redacted, and makes
         * sure curl_global_init has run (once per process). */
        gl_rpc *probe = gl_rpc_new(url, err);
        if (!probe)
            goto fail;
        gl_rpc_free(probe);
        endpoint *p = &e->eps[e->neps];
        p->url = strdup(url);
        p->red = gl_rpc_redact_url(url);
        if (!p->url || !p->red) {
            free(p->url);
            free(p->red);
            goto nomem;
        }
        e->neps++;
        p->batch_cap = e->max_batch;
        if (!collect_secrets(e, p->url, p->red))
            goto nomem;
        CURLU *u = curl_url();
        if (!u)
            goto nomem;
        CURLUcode uc = curl_url_set(u, CURLUPART_URL, url, 0);
        curl_url_cleanup(u);
        if (uc != CURLUE_OK) {
            gl_err_set(err, GL_EINVAL, "endpoint URL '%s' cannot be used: %s", p->red,
                       curl_url_strerror(uc));
            goto fail;
        }
    }
    static const char *const hdrs[] = {"Content-Type: application/json", "Accept: application/json", "Expect:"};
    for (size_t i = 0; i < sizeof hdrs / sizeof hdrs[0]; i++) {
        struct curl_slist *h = curl_slist_append(e->headers, hdrs[i]);
        if (!h)
            goto nomem;
        e->headers = h;
    }
    e->multi = curl_multi_init();
    e->conns = calloc(e->max_conc, sizeof *e->conns);
    if (!e->multi || !e->conns)
        goto nomem;
    /* HTTP/2 multiplexing where offered; the connection cache holds one
     * connection per slot and endpoint so that none is ever re-opened. */
    curl_multi_setopt(e->multi, CURLMOPT_PIPELINING, (long)CURLPIPE_MULTIPLEX);
    curl_multi_setopt(e->multi, CURLMOPT_MAXCONNECTS, (long)(e->max_conc * e->neps + 4));
    for (unsigned i = 0; i < e->max_conc; i++)
        if (!conn_init(e, &e->conns[i])) {
            gl_err_set(err, GL_EIO, "libcurl could not set up a connection handle");
            goto fail;
        }
    return e;
nomem:
    gl_err_set(err, GL_ENOMEM, "out of memory creating the endpoint pool");
fail:
    gl_endpoints_free(e);
    return NULL;
}

void gl_endpoints_free(gl_endpoints *e)
{
    if (!e)
        return;
    if (e->conns) {
        for (unsigned i = 0; i < e->max_conc; i++) {
            conn *k = &e->conns[i];
            if (k->busy && e->multi)
                curl_multi_remove_handle(e->multi, k->h);
            if (k->h)
                curl_easy_cleanup(k->h);
            free(k->idx);
            free(k->req);
            gl_buf_release(&k->body);
        }
        free(e->conns);
    }
    if (e->multi)
        curl_multi_cleanup(e->multi);
    curl_slist_free_all(e->headers);
    for (size_t i = 0; i < e->neps; i++) {
        free(e->eps[i].url);
        free(e->eps[i].red);
    }
    free(e->eps);
    for (size_t i = 0; i < e->nsecrets; i++)
        free(e->secrets[i]);
    free(e->secrets);
    free(e);
}

/* Run n calls (params borrowed, NULL entries = the shared empty array);
 * pins[i] (or NULL = none) fixes call i to an endpoint.  *out gets the
 * calls (caller frees, releasing results) or NULL. */
static gl_code run_calls(gl_endpoints *e, size_t n, const char *const *methods, json_t *const *params,
                         const long *pins, json_t *empty, const gl_result_reader *rd, call **out, gl_err *err)
{
    *out = NULL;
    call *c = calloc(n ? n : 1, sizeof *c);
    if (!c)
        return gl_err_set(err, GL_ENOMEM, "out of memory queueing %zu calls", n);
    for (size_t i = 0; i < n; i++) {
        json_t *p = params && params[i] ? params[i] : empty;
        call_init(&c[i], methods[i], p, pins ? pins[i] : -1);
        c[i].rd = rd;
    }
    run r = {c, n, n, 0};
    gl_code code = run_all(e, &r, err);
    if (code) {
        for (size_t i = 0; i < n; i++)
            json_decref(c[i].result);
        free(c);
        return code;
    }
    *out = c;
    return GL_OK;
}

static gl_code check_calls(size_t n, const char *const *methods, json_t *const *params, gl_err *err)
{
    for (size_t i = 0; i < n; i++) {
        if (!methods[i])
            return gl_err_set(err, GL_EINVAL, "call %zu of %zu has no method", i + 1, n);
        if (params && params[i] && !params_ok(params[i]))
            return gl_err_set(err, GL_EINVAL, "%s (call %zu of %zu): params must be a JSON array or object",
                              methods[i], i + 1, n);
    }
    return GL_OK;
}

/* What call_each and call_many share: results NULL, the calls checked, then
 * run with [] for NULL params.  *out as run_calls. */
static gl_code run_list(gl_endpoints *e, size_t n, const char *const *methods, json_t *const *params,
                        json_t **results, call **out, gl_err *err)
{
    *out = NULL;
    for (size_t i = 0; i < n; i++)
        results[i] = NULL;
    gl_code code = check_calls(n, methods, params, err);
    if (code)
        return code;
    json_t *empty = json_array();
    if (!empty)
        return gl_err_set(err, GL_ENOMEM, "out of memory");
    code = run_calls(e, n, methods, params, NULL, empty, NULL, out, err);
    json_decref(empty);
    return code;
}

/* One call, its result returned (rd NULL) or read by rd. */
static gl_code call_one(gl_endpoints *e, const char *method, json_t *params, const gl_result_reader *rd,
                        json_t **result, gl_call_info *info, gl_err *err)
{
    if (info) {
        memset(info, 0, sizeof *info);
        info->cls = GL_RPC_ERR_TRANSIENT;
        info->err.rule = "";
    }
    if (result)
        *result = NULL;
    if (!e || !method || (!result && !rd)) {
        json_decref(params);
        return gl_err_set(err, GL_EINVAL, "gl_endpoints_call needs endpoints, a method and a result pointer");
    }
    if (!params)
        params = json_array();
    if (!params)
        return gl_err_set(err, GL_ENOMEM, "%s: out of memory", method);
    if (!params_ok(params)) {
        json_decref(params);
        return gl_err_set(err, GL_EINVAL, "%s: params must be a JSON array or object", method);
    }
    call *c;
    gl_code code = run_calls(e, 1, &method, &params, NULL, params, rd, &c, err);
    json_decref(params);
    if (code)
        return code;
    if (info)
        *info = c[0].info;
    code = c[0].code;
    if (code == GL_OK && result)
        *result = c[0].result;
    else if (code && err)
        *err = c[0].err;
    free(c);
    return code;
}

gl_code gl_endpoints_call(gl_endpoints *e, const char *method, json_t *params, json_t **result,
                          gl_call_info *info, gl_err *err)
{
    return call_one(e, method, params, NULL, result, info, err);
}

gl_code gl_endpoints_call_stream(gl_endpoints *e, const char *method, json_t *params, const gl_result_reader *rd,
                                 gl_call_info *info, gl_err *err)
{
    if (!rd || !rd->callbacks || !rd->begin || !rd->end) {
        json_decref(params);
        return gl_err_set(err, GL_EINVAL, "gl_endpoints_call_stream needs a reader with callbacks, begin and end");
    }
    return call_one(e, method, params, rd, NULL, info, err);
}

gl_code gl_endpoints_call_each(gl_endpoints *e, size_t n, const char *const *methods, json_t *const *params,
                               json_t **results, gl_call_outcome *outcomes, gl_err *err)
{
    if (!e || (n && (!methods || !results || !outcomes)))
        return gl_err_set(err, GL_EINVAL, "gl_endpoints_call_each needs endpoints, methods, results and "
                          "outcomes");
    call *c;
    gl_code code = run_list(e, n, methods, params, results, &c, err);
    if (code)
        return code;
    for (size_t i = 0; i < n; i++) {
        outcomes[i].code = c[i].code;
        outcomes[i].info = c[i].info;
        outcomes[i].err = c[i].err;
        results[i] = c[i].code == GL_OK ? c[i].result : NULL;
    }
    free(c);
    return GL_OK;
}

gl_code gl_endpoints_call_many(gl_endpoints *e, size_t n, const char *const *methods, json_t *const *params,
                               json_t **results, gl_err *err)
{
    if (!e || (n && (!methods || !results)))
        return gl_err_set(err, GL_EINVAL, "gl_endpoints_call_many needs endpoints, methods and results");
    call *c;
    gl_code code = run_list(e, n, methods, params, results, &c, err);
    if (code)
        return code;
    size_t bad = SIZE_MAX;
    for (size_t i = 0; i < n && bad == SIZE_MAX; i++)
        if (c[i].code)
            bad = i;
    if (bad == SIZE_MAX) {
        for (size_t i = 0; i < n; i++)
            results[i] = c[i].result;
    } else {
        for (size_t i = 0; i < n; i++)
            json_decref(c[i].result);
        code = c[bad].code;
        if (err) {
            *err = c[bad].err;
            gl_err_prefix(err, "call %zu of %zu: ", bad + 1, n);
        }
    }
    free(c);
    return code;
}

/* "0x" + 1..16 hex digits. */
static bool parse_quantity(json_t *v, uint64_t *out)
{
    const char *s = json_string_value(v);
    if (!s || s[0] != '0' || (s[1] != 'x' && s[1] != 'X') || !s[2] || strlen(s + 2) > 16)
        return false;
    uint64_t x = 0;
    for (const char *p = s + 2; *p; p++) {
        int d = hexval(*p);
        if (d < 0)
            return false;
        x = x << 4 | (uint64_t)d;
    }
    *out = x;
    return true;
}

gl_endpoints *gl_endpoints_clone(gl_endpoints *e, gl_err *err)
{
    if (!e) {
        gl_err_set(err, GL_EINVAL, "no endpoint pool to clone");
        return NULL;
    }
    const char **urls = calloc(e->neps, sizeof *urls);
    if (!urls) {
        gl_err_set(err, GL_ENOMEM, "out of memory cloning an endpoint pool");
        return NULL;
    }
    for (size_t i = 0; i < e->neps; i++)
        urls[i] = e->eps[i].url;
    gl_endpoint_opts o;
    memset(&o, 0, sizeof o);
    o.urls = urls;
    o.nurls = e->neps;
    o.max_concurrency = e->max_conc;
    o.max_batch = e->max_batch;
    o.connect_timeout_ms = e->connect_ms;
    o.timeout_ms = e->timeout_ms;
    o.max_attempts = e->max_attempts;
    o.backoff_base_ms = e->policy.base_ms;
    o.backoff_cap_ms = e->policy.cap_ms;
    o.seed = gl_backoff_rng_next(&e->rng) | 1; /* its own jitter, reproducible from e's seed */
    o.quorum = e->quorum;
    o.log = e->log;
    o.log_ctx = e->log_ctx;
    o.stop = e->stop;
    o.stop_ctx = e->stop_ctx;
    o.max_response = e->max_response;
    gl_endpoints *c = gl_endpoints_new(&o, err);
    free(urls);
    return c;
}

gl_code gl_endpoints_chain_id(gl_endpoints *e, uint64_t *chain_id, gl_err *err)
{
    if (chain_id)
        *chain_id = 0;
    if (!e || !chain_id)
        return gl_err_set(err, GL_EINVAL, "gl_endpoints_chain_id needs endpoints and an output");
    const char **methods = calloc(e->neps, sizeof *methods);
    long *pins = calloc(e->neps, sizeof *pins);
    json_t *empty = json_array();
    call *c = NULL;
    gl_code code = GL_OK;
    if (!methods || !pins || !empty) {
        code = gl_err_set(err, GL_ENOMEM, "out of memory asking for the chain id");
        goto out;
    }
    for (size_t i = 0; i < e->neps; i++) {
        methods[i] = "eth_chainId";
        pins[i] = (long)i;
    }
    code = run_calls(e, e->neps, methods, NULL, pins, empty, NULL, &c, err);
    if (code)
        goto out;
    uint64_t first = 0;
    for (size_t i = 0; i < e->neps && !code; i++) {
        uint64_t id;
        if (c[i].code) {
            code = c[i].code;
            if (err)
                *err = c[i].err;
        } else if (!parse_quantity(c[i].result, &id)) {
            code = gl_err_set(err, GL_ERPC, "eth_chainId at %s: the answer is not a hex quantity", e->eps[i].red);
        } else if (i == 0) {
            first = id;
        } else if (id != first) {
            code = gl_err_set(err, GL_EVERIFY, "endpoints disagree on the chain id: %s says %llu, %s says %llu",
                              e->eps[0].red, (unsigned long long)first, e->eps[i].red, (unsigned long long)id);
        }
    }
    if (!code)
        *chain_id = first;
out:
    if (c)
        for (size_t i = 0; i < e->neps; i++)
            json_decref(c[i].result);
    free(c);
    free(methods);
    free(pins);
    json_decref(empty);
    return code;
}

/* The "hash" of a block object as 32 bytes. */
static bool block_hash_of(json_t *blk, uint8_t out[32])
{
    const char *s = json_string_value(json_object_get(blk, "hash"));
    return s && strlen(s) == 66 && gl_hex_decode_exact(s, out, 32, NULL) == GL_OK;
}

gl_code gl_endpoints_block_hash(gl_endpoints *e, uint64_t number, uint8_t hash[32], gl_err *err)
{
    if (hash)
        memset(hash, 0, 32);
    if (!e || !hash)
        return gl_err_set(err, GL_EINVAL, "gl_endpoints_block_hash needs endpoints and an output");
    char num[24];
    snprintf(num, sizeof num, "0x%llx", (unsigned long long)number);
    json_t *params = json_pack("[sb]", num, 0);
    if (!params)
        return gl_err_set(err, GL_ENOMEM, "out of memory asking for block %llu", (unsigned long long)number);
    const bool quorum = e->quorum && e->neps >= 2;
    const size_t want = quorum ? 2 : 1;
    uint8_t got[2][32];
    size_t got_ep[2], ngot = 0, next = 0;
    gl_code code = GL_OK;
    gl_err last;
    gl_err_set(&last, GL_ERPC, "no endpoint was asked");
    while (ngot < want && next < e->neps) {
        size_t launch = want - ngot;
        if (launch > e->neps - next)
            launch = e->neps - next;
        const char *methods[2] = {"eth_getBlockByNumber", "eth_getBlockByNumber"};
        json_t *ps[2] = {params, params};
        /* Without quorum the one call may fail over; with it, each is pinned. */
        long pins[2] = {quorum ? (long)next : -1, quorum ? (long)next + 1 : -1};
        call *c;
        code = run_calls(e, launch, methods, ps, pins, params, NULL, &c, err);
        if (code)
            break;
        for (size_t i = 0; i < launch; i++) {
            size_t epi = c[i].info.endpoint;
            if (c[i].code) {
                last = c[i].err;
            } else if (json_is_null(c[i].result)) {
                gl_err_set(&last, GL_ERPC, "eth_getBlockByNumber at %s: block %llu is not there (null)",
                           e->eps[epi].red, (unsigned long long)number);
            } else if (!block_hash_of(c[i].result, got[ngot])) {
                gl_err_set(&last, GL_ERPC, "eth_getBlockByNumber at %s: block %llu has no valid hash",
                           e->eps[epi].red, (unsigned long long)number);
            } else {
                got_ep[ngot++] = epi;
            }
            json_decref(c[i].result);
        }
        free(c);
        next += launch;
        if (!quorum)
            break;
    }
    json_decref(params);
    if (code)
        return code;
    if (ngot < want) {
        if (!quorum) {
            if (err)
                *err = last;
            return last.code ? last.code : GL_ERPC;
        }
        return gl_err_set(err, last.code == GL_OK ? GL_ERPC : last.code,
                          "block %llu: the quorum needs 2 endpoints with the block, %zu of %zu had it; last: %s",
                          (unsigned long long)number, ngot, e->neps, last.msg);
    }
    if (quorum && memcmp(got[0], got[1], 32) != 0) {
        char h0[67], h1[67];
        gl_hex_encode(got[0], 32, true, h0);
        gl_hex_encode(got[1], 32, true, h1);
        return gl_err_set(err, GL_EVERIFY, "block %llu: endpoints disagree on the hash: %s says %s, %s says %s",
                          (unsigned long long)number, e->eps[got_ep[0]].red, h0, e->eps[got_ep[1]].red, h1);
    }
    memcpy(hash, got[0], 32);
    return GL_OK;
}

void gl_endpoints_stats(const gl_endpoints *e, gl_endpoint_stats *out)
{
    if (!out)
        return;
    if (!e) {
        memset(out, 0, sizeof *out);
        return;
    }
    *out = e->st;
}

size_t gl_endpoints_count(const gl_endpoints *e) { return e ? e->neps : 0; }

uint64_t gl_endpoints_backoff_ms(gl_endpoints *e, unsigned attempt) { return e ? backoff(e, attempt, 0) : 0; }

const char *gl_endpoints_url_redacted(const gl_endpoints *e, size_t i)
{
    return e && i < e->neps ? e->eps[i].red : NULL;
}

size_t gl_endpoints_scrub(const gl_endpoints *e, const char *text, char *out, size_t cap)
{
    if (!out || cap == 0)
        return 0;
    if (!text)
        text = "";
    if (!e) {
        static const gl_endpoints none;
        return scrub_n(&none, text, strlen(text), cap - 1, out, cap);
    }
    return scrub_n(e, text, strlen(text), cap - 1, out, cap);
}

gl_code gl_endpoints_read_answer(gl_endpoints *e, long status, const void *body, size_t len, size_t n,
                                 uint64_t first_id, const gl_result_reader *rd, json_t **results,
                                 gl_call_outcome *outcomes, gl_err *err)
{
    if (!e || n == 0 || n > e->max_batch || !results || !outcomes || (rd && n != 1) || (len && !body))
        return gl_err_set(err, GL_EINVAL, "gl_endpoints_read_answer needs a pool, 1..max_batch calls "
                          "(one with a reader), results and outcomes");
    call *c = calloc(n, sizeof *c);
    size_t *idx = calloc(n, sizeof *idx);
    conn k;
    memset(&k, 0, sizeof k);
    gl_buf_init(&k.body);
    if (!c || !idx || gl_buf_append(&k.body, body, len, err)) {
        free(c);
        free(idx);
        gl_buf_release(&k.body);
        return gl_err_set(err, GL_ENOMEM, "out of memory reading an answer");
    }
    k.idx = idx;
    k.n = n;
    k.base_id = first_id;
    k.max_body = e->max_response;
    for (size_t i = 0; i < n; i++) {
        call_init(&c[i], "answer", NULL, -1);
        c[i].rd = rd;
        c[i].state = CALL_INFLIGHT;
        idx[i] = i;
    }
    run r = {c, n, n, n};
    read_reply(e, &r, &k, CURLE_OK, status, now_ms());
    for (size_t i = 0; i < n; i++) {
        results[i] = c[i].result;
        outcomes[i].info = c[i].info;
        outcomes[i].err = c[i].err;
        if (c[i].state == CALL_DONE)
            outcomes[i].code = c[i].code;
        else if (c[i].err.code)
            outcomes[i].code = c[i].err.code; /* would be retried */
        else /* requeued: the batch was refused as a whole */
            outcomes[i].code = gl_err_set(&outcomes[i].err, GL_ERPC, "the batch was refused as a whole");
    }
    free(c);
    free(idx);
    gl_buf_release(&k.body);
    return GL_OK;
}
