/* rpc.c - synchronous JSON-RPC 2.0 over HTTP(S) with libcurl and jansson.
 *
 * One gl_rpc owns one curl easy handle, reused for every call so that the
 * connection stays alive.  Errors from libcurl, HTTP and JSON-RPC are turned
 * into gl_err here, once, with the endpoint named by its redacted URL and
 * every secret of the URL scrubbed from text that came from outside.
 *
 * Sections: URL redaction, secret scrubbing, the client, the call.
 */
#include <ctype.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>

#include "gpuledger/bytes.h"
#include "gpuledger/json_tree.h"
#include "gpuledger/rpc.h"

/* How much of a foreign text (endpoint error message, body excerpt) goes
 * into an error message or the last-error record. */
#define EXCERPT_MAX 200
/* How much of an endpoint's own error text is kept for gl_rpc_last_rpc_message:
 * enough for the longest range-cap messages, whose suggested range comes last. */
#define RPC_MESSAGE_MAX 2048
/* How much of it goes into a gl_err (whose buffer is GL_ERR_MSG_MAX). */
#define ERR_RPC_MESSAGE_MAX 360
/* Secrets shorter than this are not scrubbed from foreign text: "***" for
 * every "ab" in a message would make it unreadable and protect nothing. */
#define SECRET_MIN_SCRUB 4

/* ------------------------------------------------------------------ */
/* URL redaction                                                        */

typedef struct secret_list {
    char **v;
    size_t n, cap;
} secret_list;

static void secrets_release(secret_list *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->v[i]);
    free(s->v);
    s->v = NULL;
    s->n = s->cap = 0;
}

/* Remember a secret (NULL list: don't).  Returns false when out of memory. */
static bool secrets_add(secret_list *s, const char *p, size_t len)
{
    if (!s || len < SECRET_MIN_SCRUB)
        return true;
    if (s->n == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 4;
        char **v = realloc(s->v, cap * sizeof *v);
        if (!v)
            return false;
        s->v = v;
        s->cap = cap;
    }
    char *copy = strndup(p, len);
    if (!copy)
        return false;
    s->v[s->n++] = copy;
    return true;
}

static bool is_lower_word_char(char c) { return (c >= 'a' && c <= 'z') || c == '.' || c == '_' || c == '-'; }
static bool is_letter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
static bool is_digit(char c) { return c >= '0' && c <= '9'; }

/* Does this path segment or query value read as a word rather than a key?
 * The rule is the one documented at gl_rpc_redact_url. */
static bool reads_as_word(const char *s, size_t n)
{
    if (n <= 3)
        return true;
    size_t lower = 0, letters = 0, digits = 0;
    for (size_t i = 0; i < n; i++) {
        lower += is_lower_word_char(s[i]);
        letters += is_letter(s[i]);
        digits += is_digit(s[i]);
    }
    return (n <= 20 && lower == n) || (n < 12 && letters == n) || (n <= 12 && digits == n);
}

/* Does a query parameter name announce a secret? */
static bool name_is_secret(const char *s, size_t n)
{
    static const char *const marks[] = {"key", "token", "secret", "pass", "auth", "sig", "cred"};
    for (size_t m = 0; m < sizeof marks / sizeof marks[0]; m++) {
        size_t ml = strlen(marks[m]);
        for (size_t i = 0; i + ml <= n; i++)
            if (!strncasecmp(s + i, marks[m], ml))
                return true;
    }
    return false;
}

typedef struct redactor {
    gl_buf out;
    secret_list *secrets; /* may be NULL */
    bool failed;          /* out of memory */
} redactor;

static void r_put(redactor *r, const char *p, size_t len)
{
    if (!r->failed && gl_buf_append(&r->out, p, len, NULL) != GL_OK)
        r->failed = true;
}

static void r_secret(redactor *r, const char *p, size_t len)
{
    r_put(r, "***", 3);
    if (!r->failed && !secrets_add(r->secrets, p, len))
        r->failed = true;
}

static void r_word_or_secret(redactor *r, const char *p, size_t len)
{
    if (reads_as_word(p, len))
        r_put(r, p, len);
    else
        r_secret(r, p, len);
}

/* The userinfo is a secret as a whole, and so are its user and password
 * parts on their own (a message may quote either). */
static void r_userinfo(redactor *r, const char *p, size_t len)
{
    r_secret(r, p, len);
    const char *colon = memchr(p, ':', len);
    if (colon && !r->failed) {
        if (!secrets_add(r->secrets, p, (size_t)(colon - p)) ||
            !secrets_add(r->secrets, colon + 1, len - (size_t)(colon + 1 - p)))
            r->failed = true;
    }
}

static void r_query_param(redactor *r, const char *p, size_t len)
{
    const char *eq = memchr(p, '=', len);
    if (!eq) {
        r_word_or_secret(r, p, len);
        return;
    }
    size_t nlen = (size_t)(eq - p), vlen = len - nlen - 1;
    r_word_or_secret(r, p, nlen);
    r_put(r, "=", 1);
    if (vlen == 0)
        return;
    if (name_is_secret(p, nlen))
        r_secret(r, eq + 1, vlen);
    else
        r_word_or_secret(r, eq + 1, vlen);
}

/* Redact `url` into r->out (not NUL-terminated), collecting secrets. */
static void redact(redactor *r, const char *url)
{
    const char *p = url;

    /* scheme:// */
    const char *s = p;
    if (is_letter(*s)) {
        s++;
        while (is_letter(*s) || is_digit(*s) || *s == '+' || *s == '-' || *s == '.')
            s++;
        if (s[0] == ':' && s[1] == '/' && s[2] == '/') {
            r_put(r, p, (size_t)(s + 3 - p));
            p = s + 3;
        }
    }

    /* [userinfo@]host[:port] */
    size_t alen = strcspn(p, "/?#");
    const char *at = NULL;
    for (size_t i = 0; i < alen; i++)
        if (p[i] == '@')
            at = p + i;
    if (at) {
        r_userinfo(r, p, (size_t)(at - p));
        r_put(r, "@", 1);
        r_put(r, at + 1, (size_t)(p + alen - (at + 1)));
    } else {
        r_put(r, p, alen);
    }
    p += alen;

    /* /path/segments */
    if (*p == '/') {
        const char *end = p + strcspn(p, "?#");
        while (p < end) {
            r_put(r, "/", 1);
            p++;
            const char *slash = memchr(p, '/', (size_t)(end - p));
            size_t sl = slash ? (size_t)(slash - p) : (size_t)(end - p);
            r_word_or_secret(r, p, sl);
            p += sl;
        }
    }

    /* ?query */
    if (*p == '?') {
        r_put(r, "?", 1);
        p++;
        const char *end = p + strcspn(p, "#");
        for (;;) {
            const char *amp = memchr(p, '&', (size_t)(end - p));
            size_t len = amp ? (size_t)(amp - p) : (size_t)(end - p);
            r_query_param(r, p, len);
            if (!amp)
                break;
            r_put(r, "&", 1);
            p = amp + 1;
        }
        p = end;
    }

    /* #fragment */
    if (*p == '#') {
        r_put(r, "#", 1);
        if (p[1])
            r_secret(r, p + 1, strlen(p + 1));
    }
}

/* Redact into a heap string; collect secrets into `secrets` if non-NULL.
 * NULL when out of memory. */
static char *redact_alloc(const char *url, secret_list *secrets)
{
    redactor r = {GL_BUF_INIT, secrets, false};
    redact(&r, url);
    r_put(&r, "", 1);
    if (r.failed) {
        gl_buf_release(&r.out);
        return NULL;
    }
    return (char *)r.out.data;
}

char *gl_rpc_redact_url(const char *url)
{
    if (!url)
        return NULL;
    return redact_alloc(url, NULL);
}

/* ------------------------------------------------------------------ */
/* The client                                                           */

struct gl_rpc {
    CURL *curl;
    struct curl_slist *headers;
    char *url;          /* as given: never printed */
    char *url_redacted; /* safe to print */
    secret_list secrets;
    long connect_ms, total_ms;
    size_t max_response;
    uint64_t next_id;

    /* per call */
    gl_buf body;
    bool body_too_big, body_nomem;
    char errbuf[CURL_ERROR_SIZE];

    /* what the last call saw */
    long http_status;
    bool has_rpc_code;
    int64_t rpc_code;
    char rpc_message[RPC_MESSAGE_MAX + 1];
    long retry_after;
    char retry_after_raw[128];
};

/* ------------------------------------------------------------------ */
/* Secret scrubbing                                                     */

size_t gl_rpc_scrub_text(const char *const *secrets, size_t nsecrets, const char *in, size_t n, size_t max,
                         char *out, size_t cap)
{
    size_t o = 0, limit = cap - 1 < max ? cap - 1 : max;
    size_t i = 0;
    while (i < n && o < limit) {
        size_t hit = 0;
        for (size_t k = 0; k < nsecrets; k++) {
            size_t sl = strlen(secrets[k]);
            if (sl > hit && sl <= n - i && !memcmp(in + i, secrets[k], sl))
                hit = sl;
        }
        if (hit) {
            if (o + 3 > limit)
                break;
            memcpy(out + o, "***", 3);
            o += 3;
            i += hit;
            continue;
        }
        unsigned char c = (unsigned char)in[i++];
        out[o++] = (c < 0x20 || c == 0x7f) ? ' ' : (char)c;
    }
    if (i < n && limit >= 3) {
        o = o > limit - 3 ? limit - 3 : o;
        memcpy(out + o, "...", 3);
        o += 3;
    }
    out[o] = '\0';
    return o;
}

static void scrub(const gl_rpc *rpc, const char *in, size_t n, size_t max, char *out, size_t cap)
{
    (void)gl_rpc_scrub_text((const char *const *)rpc->secrets.v, rpc->secrets.n, in, n, max, out, cap);
}

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_once_rc = CURLE_FAILED_INIT;

static void curl_init_once(void) { curl_once_rc = curl_global_init(CURL_GLOBAL_DEFAULT); }

size_t gl_rpc_take_body(gl_buf *body, size_t max, const char *data, size_t n, bool *too_big, bool *nomem)
{
    if (body->len > max || n > max - body->len) {
        *too_big = true;
        return 0;
    }
    if (gl_buf_append(body, data, n, NULL) != GL_OK) {
        *nomem = true;
        return 0;
    }
    return n;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *userdata)
{
    gl_rpc *rpc = userdata;
    return gl_rpc_take_body(&rpc->body, rpc->max_response, data, size * nmemb, &rpc->body_too_big,
                            &rpc->body_nomem);
}

/* Read Retry-After: delta-seconds or an HTTP-date (RFC 9110 10.2.3). */
static long parse_retry_after(const char *v)
{
    while (*v == ' ' || *v == '\t')
        v++;
    if (is_digit(*v)) {
        long secs = 0;
        for (; is_digit(*v); v++) {
            if (secs > (LONG_MAX - 9) / 10)
                return -1;
            secs = secs * 10 + (*v - '0');
        }
        while (*v == ' ' || *v == '\t' || *v == '\r' || *v == '\n')
            v++;
        return *v ? -1 : secs;
    }
    time_t t = curl_getdate(v, NULL);
    if (t == (time_t)-1)
        return -1;
    time_t now = time(NULL);
    return t <= now ? 0 : (long)(t - now);
}

bool gl_rpc_take_retry_after(const char *line, size_t n, char *out, size_t cap)
{
    static const char name[] = "retry-after:";
    if (n >= 5 && !memcmp(line, "HTTP/", 5)) {
        out[0] = '\0';
        return true;
    }
    if (n <= sizeof name - 1 || strncasecmp(line, name, sizeof name - 1))
        return false;
    const char *v = line + sizeof name - 1;
    size_t vl = n - (sizeof name - 1);
    while (vl && (*v == ' ' || *v == '\t'))
        v++, vl--;
    while (vl && (v[vl - 1] == '\r' || v[vl - 1] == '\n' || v[vl - 1] == ' ' || v[vl - 1] == '\t'))
        vl--;
    if (vl >= cap)
        vl = cap - 1;
    memcpy(out, v, vl);
    out[vl] = '\0';
    return true;
}

static size_t on_header(char *data, size_t size, size_t nitems, void *userdata)
{
    gl_rpc *rpc = userdata;
    size_t n = size * nitems;
    /* An empty value is a status line's reset (or a blank Retry-After): none. */
    if (gl_rpc_take_retry_after(data, n, rpc->retry_after_raw, sizeof rpc->retry_after_raw))
        rpc->retry_after = rpc->retry_after_raw[0] ? parse_retry_after(rpc->retry_after_raw) : -1;
    return n;
}

static bool scheme_ok(const char *url)
{
    return !strncasecmp(url, "http://", 7) || !strncasecmp(url, "https://", 8);
}

gl_rpc *gl_rpc_new(const char *url, gl_err *err)
{
    if (!url || !*url) {
        gl_err_set(err, GL_EINVAL, "endpoint URL is empty");
        return NULL;
    }
    gl_rpc *rpc = calloc(1, sizeof *rpc);
    if (!rpc) {
        gl_err_set(err, GL_ENOMEM, "out of memory creating an RPC client");
        return NULL;
    }
    rpc->url_redacted = redact_alloc(url, &rpc->secrets);
    rpc->url = strdup(url);
    if (!rpc->url_redacted || !rpc->url) {
        gl_err_set(err, GL_ENOMEM, "out of memory creating an RPC client");
        goto fail;
    }
    if (!scheme_ok(url)) {
        gl_err_set(err, GL_EINVAL, "endpoint URL '%s' must start with http:// or https://", rpc->url_redacted);
        goto fail;
    }
    pthread_once(&curl_once, curl_init_once);
    if (curl_once_rc != CURLE_OK) {
        gl_err_set(err, GL_EIO, "libcurl initialisation failed: %s", curl_easy_strerror(curl_once_rc));
        goto fail;
    }
    rpc->curl = curl_easy_init();
    if (!rpc->curl) {
        gl_err_set(err, GL_EIO, "libcurl could not create a handle for '%s'", rpc->url_redacted);
        goto fail;
    }
    static const char *const hdrs[] = {"Content-Type: application/json", "Accept: application/json",
                                       "Expect:"};
    for (size_t i = 0; i < sizeof hdrs / sizeof hdrs[0]; i++) {
        struct curl_slist *h = curl_slist_append(rpc->headers, hdrs[i]);
        if (!h) {
            gl_err_set(err, GL_ENOMEM, "out of memory creating an RPC client");
            goto fail;
        }
        rpc->headers = h;
    }
    gl_buf_init(&rpc->body);
    rpc->connect_ms = GL_RPC_CONNECT_TIMEOUT_MS_DEFAULT;
    rpc->total_ms = GL_RPC_TOTAL_TIMEOUT_MS_DEFAULT;
    rpc->max_response = GL_RPC_MAX_RESPONSE_DEFAULT;
    rpc->next_id = 1;
    rpc->retry_after = -1;

    CURL *c = rpc->curl;
    CURLcode rc = CURLE_OK;
#define SETOPT(opt, val) \
    if (rc == CURLE_OK)  \
    rc = curl_easy_setopt(c, opt, val)
    SETOPT(CURLOPT_URL, rpc->url);
    SETOPT(CURLOPT_HTTPHEADER, rpc->headers);
    SETOPT(CURLOPT_POST, 1L);
    SETOPT(CURLOPT_ACCEPT_ENCODING, ""); /* every encoding built in: gzip, deflate, br, ... */
    SETOPT(CURLOPT_NOSIGNAL, 1L);
    SETOPT(CURLOPT_TCP_KEEPALIVE, 1L);
    SETOPT(CURLOPT_FOLLOWLOCATION, 0L);
    SETOPT(CURLOPT_ERRORBUFFER, rpc->errbuf);
    SETOPT(CURLOPT_WRITEFUNCTION, on_body);
    SETOPT(CURLOPT_WRITEDATA, rpc);
    SETOPT(CURLOPT_HEADERFUNCTION, on_header);
    SETOPT(CURLOPT_HEADERDATA, rpc);
    SETOPT(CURLOPT_USERAGENT, "gpuledger/0.1");
#if LIBCURL_VERSION_NUM >= 0x075500
    SETOPT(CURLOPT_PROTOCOLS_STR, "http,https");
#else
    SETOPT(CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
    if (rc == CURLE_OK) /* HTTP/2 where offered; not fatal if curl lacks it */
        (void)curl_easy_setopt(c, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
#undef SETOPT
    if (rc != CURLE_OK) {
        gl_err_set(err, GL_EIO, "libcurl refused an option for '%s': %s", rpc->url_redacted,
                   curl_easy_strerror(rc));
        goto fail;
    }
    return rpc;
fail:
    gl_rpc_free(rpc);
    return NULL;
}

void gl_rpc_free(gl_rpc *rpc)
{
    if (!rpc)
        return;
    if (rpc->curl)
        curl_easy_cleanup(rpc->curl);
    curl_slist_free_all(rpc->headers);
    gl_buf_release(&rpc->body);
    secrets_release(&rpc->secrets);
    free(rpc->url);
    free(rpc->url_redacted);
    free(rpc);
}

void gl_rpc_set_timeouts(gl_rpc *rpc, long connect_ms, long total_ms)
{
    rpc->connect_ms = connect_ms > 0 ? connect_ms : GL_RPC_CONNECT_TIMEOUT_MS_DEFAULT;
    rpc->total_ms = total_ms > 0 ? total_ms : GL_RPC_TOTAL_TIMEOUT_MS_DEFAULT;
}

void gl_rpc_set_max_response(gl_rpc *rpc, size_t max_bytes)
{
    rpc->max_response = max_bytes ? max_bytes : GL_RPC_MAX_RESPONSE_DEFAULT;
}

long gl_rpc_last_http_status(const gl_rpc *rpc) { return rpc->http_status; }

bool gl_rpc_last_rpc_error(const gl_rpc *rpc, int64_t *code)
{
    if (rpc->has_rpc_code && code)
        *code = rpc->rpc_code;
    return rpc->has_rpc_code;
}

const char *gl_rpc_last_rpc_message(const gl_rpc *rpc) { return rpc->rpc_message; }

long gl_rpc_last_retry_after(const gl_rpc *rpc) { return rpc->retry_after; }

const char *gl_rpc_last_retry_after_raw(const gl_rpc *rpc) { return rpc->retry_after_raw; }

const char *gl_rpc_url_redacted(const gl_rpc *rpc) { return rpc->url_redacted; }

/* ------------------------------------------------------------------ */
/* The call                                                             */

/* If `resp` holds a JSON-RPC error object, record it in rpc and describe it
 * in `out` ("JSON-RPC error CODE: MESSAGE"); return whether it did. */
static bool take_rpc_error(gl_rpc *rpc, json_t *resp, char *out, size_t cap)
{
    json_t *e = json_is_object(resp) ? json_object_get(resp, "error") : NULL;
    if (!e || json_is_null(e))
        return false;
    json_t *code = json_object_get(e, "code");
    json_t *msg = json_object_get(e, "message");
    char data[EXCERPT_MAX + 1] = "";
    json_t *d = json_object_get(e, "data");
    if (d && !json_is_null(d)) {
        char *ds = json_dumps(d, JSON_COMPACT | JSON_ENCODE_ANY);
        if (ds) {
            scrub(rpc, ds, strlen(ds), EXCERPT_MAX, data, sizeof data);
            free(ds);
        }
    }
    if (json_is_string(msg))
        scrub(rpc, json_string_value(msg), json_string_length(msg), RPC_MESSAGE_MAX, rpc->rpc_message,
              sizeof rpc->rpc_message);
    if (!json_is_object(e) || !json_is_integer(code)) {
        char *es = json_dumps(e, JSON_COMPACT | JSON_ENCODE_ANY);
        char ex[EXCERPT_MAX + 1] = "";
        if (es) {
            scrub(rpc, es, strlen(es), EXCERPT_MAX, ex, sizeof ex);
            free(es);
        }
        snprintf(out, cap, "malformed JSON-RPC error object: %s", ex);
        return true;
    }
    rpc->has_rpc_code = true;
    rpc->rpc_code = (int64_t)json_integer_value(code);
    char shortmsg[ERR_RPC_MESSAGE_MAX + 1] = "(no message)";
    if (json_is_string(msg))
        scrub(rpc, json_string_value(msg), json_string_length(msg), ERR_RPC_MESSAGE_MAX, shortmsg,
              sizeof shortmsg);
    snprintf(out, cap, "JSON-RPC error %lld: %s%s%s", (long long)rpc->rpc_code, shortmsg,
             *data ? " data: " : "", data);
    return true;
}

/* Does the response's id match the request's?  Numbers must be equal;
 * a decimal string holding the same number is tolerated (some proxies
 * stringify ids). */
static bool id_matches(json_t *id, uint64_t want)
{
    if (json_is_integer(id))
        return json_integer_value(id) >= 0 && (uint64_t)json_integer_value(id) == want;
    if (json_is_string(id)) {
        char buf[32];
        snprintf(buf, sizeof buf, "%llu", (unsigned long long)want);
        return !strcmp(json_string_value(id), buf);
    }
    return false;
}

static void reset_last(gl_rpc *rpc)
{
    rpc->http_status = 0;
    rpc->has_rpc_code = false;
    rpc->rpc_code = 0;
    rpc->rpc_message[0] = '\0';
    rpc->retry_after = -1;
    rpc->retry_after_raw[0] = '\0';
}

/* Send one request body and receive the response into rpc->body. */
static gl_code transfer(gl_rpc *rpc, const char *method, const char *req, gl_err *err)
{
    CURL *c = rpc->curl;
    gl_buf_reset(&rpc->body);
    rpc->body_too_big = rpc->body_nomem = false;
    rpc->errbuf[0] = '\0';
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, req);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(req));
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, rpc->connect_ms);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, rpc->total_ms);
    CURLcode rc = curl_easy_perform(c);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, NULL);
    long status = 0;
    if (curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status) == CURLE_OK)
        rpc->http_status = status;
    if (rc == CURLE_OK)
        return GL_OK;
    if (rpc->body_too_big)
        return gl_err_set(err, GL_ERANGE, "%s at %s: response larger than %zu bytes", method,
                          rpc->url_redacted, rpc->max_response);
    if (rpc->body_nomem)
        return gl_err_set(err, GL_ENOMEM, "%s at %s: out of memory reading the response", method,
                          rpc->url_redacted);
    const char *why = rpc->errbuf[0] ? rpc->errbuf : curl_easy_strerror(rc);
    char clean[CURL_ERROR_SIZE + 4];
    scrub(rpc, why, strlen(why), sizeof clean - 1, clean, sizeof clean);
    return gl_err_set(err, GL_EIO, "%s at %s: %s", method, rpc->url_redacted, clean);
}

/* Interpret rpc->body as the answer to request `id`. */
static gl_code interpret(gl_rpc *rpc, const char *method, uint64_t id, json_t **result, gl_err *err)
{
    const char *u = rpc->url_redacted;
    char excerpt[EXCERPT_MAX + 1];
    scrub(rpc, (const char *)rpc->body.data, rpc->body.len, 120, excerpt, sizeof excerpt);
    json_error_t jerr;
    json_t *resp = gl_json_tree_load((const char *)rpc->body.data, rpc->body.len, 0, &jerr);
    char what[1024];

    if (rpc->http_status != 200) {
        char ra[48] = "";
        if (rpc->retry_after >= 0)
            snprintf(ra, sizeof ra, " (Retry-After %ld s)", rpc->retry_after);
        if (!take_rpc_error(rpc, resp, what, sizeof what)) {
            snprintf(what, sizeof what, "%s%s", rpc->body.len ? "body: " : "empty body",
                     rpc->body.len ? excerpt : "");
            scrub(rpc, (const char *)rpc->body.data, rpc->body.len, RPC_MESSAGE_MAX, rpc->rpc_message,
                  sizeof rpc->rpc_message);
        }
        json_decref(resp);
        return gl_err_set(err, GL_ERPC, "%s at %s: HTTP status %ld%s: %s", method, u, rpc->http_status,
                          ra, what);
    }
    if (!resp) {
        char jtext[EXCERPT_MAX + 1];
        scrub(rpc, jerr.text, strlen(jerr.text), EXCERPT_MAX, jtext, sizeof jtext);
        return gl_err_set(err, GL_ERPC, "%s at %s: response is not JSON (%s at byte %d): %s", method, u,
                          jtext, jerr.position, rpc->body.len ? excerpt : "empty body");
    }
    gl_code code = GL_OK;
    if (!json_is_object(resp)) {
        code = gl_err_set(err, GL_ERPC, "%s at %s: response is a JSON %s, expected an object", method, u,
                          json_is_array(resp) ? "array" : "scalar");
    } else if (take_rpc_error(rpc, resp, what, sizeof what)) {
        code = gl_err_set(err, GL_ERPC, "%s at %s: %s", method, u, what);
    } else if (!id_matches(json_object_get(resp, "id"), id)) {
        char *got = json_object_get(resp, "id") ? json_dumps(json_object_get(resp, "id"),
                                                             JSON_COMPACT | JSON_ENCODE_ANY)
                                                : NULL;
        char gotc[64] = "none";
        if (got)
            scrub(rpc, got, strlen(got), 40, gotc, sizeof gotc);
        free(got);
        code = gl_err_set(err, GL_ERPC, "%s at %s: response id %s does not match request id %llu", method,
                          u, gotc, (unsigned long long)id);
    } else if (!json_object_get(resp, "result")) {
        code = gl_err_set(err, GL_ERPC, "%s at %s: response has neither result nor error: %s", method, u,
                          excerpt);
    } else {
        *result = json_incref(json_object_get(resp, "result"));
    }
    json_decref(resp);
    return code;
}

gl_code gl_rpc_call(gl_rpc *rpc, const char *method, json_t *params, json_t **result, gl_err *err)
{
    if (result)
        *result = NULL;
    if (!rpc || !method || !result) {
        json_decref(params);
        return gl_err_set(err, GL_EINVAL, "gl_rpc_call needs a client, a method and a result pointer");
    }
    reset_last(rpc);
    if (!params)
        params = json_array();
    if (!json_is_array(params) && !json_is_object(params)) {
        json_decref(params);
        return gl_err_set(err, GL_EINVAL, "%s at %s: params must be a JSON array or object", method,
                          rpc->url_redacted);
    }
    uint64_t id = rpc->next_id++;
    json_t *req = json_object();
    if (!req || json_object_set_new(req, "jsonrpc", json_string("2.0")) ||
        json_object_set_new(req, "id", json_integer((json_int_t)id)) ||
        json_object_set_new(req, "method", json_string(method))) {
        json_decref(params);
        json_decref(req);
        return gl_err_set(err, GL_ENOMEM, "%s at %s: cannot build the request (out of memory, or "
                          "the method name is not UTF-8)", method, rpc->url_redacted);
    }
    if (json_object_set_new(req, "params", params)) { /* params consumed either way */
        json_decref(req);
        return gl_err_set(err, GL_ENOMEM, "%s at %s: out of memory building the request", method,
                          rpc->url_redacted);
    }
    char *body = json_dumps(req, JSON_COMPACT);
    json_decref(req);
    if (!body)
        return gl_err_set(err, GL_ENOMEM, "%s at %s: out of memory encoding the request", method,
                          rpc->url_redacted);
    gl_code code = transfer(rpc, method, body, err);
    free(body);
    if (code == GL_OK)
        code = interpret(rpc, method, id, result, err);
    return code;
}

/* ------------------------------------------------------------------ */
/* Batches                                                              */

/* Release every params[i] from `from` on (they are stolen whatever happens). */
static void batch_drop_params(json_t **params, size_t from, size_t n)
{
    for (size_t i = from; i < n; i++) {
        json_decref(params[i]);
        params[i] = NULL;
    }
}

static void batch_drop_results(json_t **results, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        json_decref(results[i]);
        results[i] = NULL;
    }
}

/* Build the batch request body: an array of n request objects with ids
 * first_id .. first_id+n-1.  NULL when out of memory or a params entry is
 * neither an array nor an object (*bad gets its index then). */
static char *batch_body(size_t n, const char *const *methods, json_t **params, uint64_t first_id,
                        size_t *bad)
{
    json_t *arr = json_array();
    *bad = SIZE_MAX;
    for (size_t i = 0; arr && i < n; i++) {
        json_t *p = params[i] ? params[i] : json_array();
        params[i] = NULL;
        if (!p || (!json_is_array(p) && !json_is_object(p))) {
            json_decref(p);
            *bad = i;
            json_decref(arr);
            return NULL;
        }
        json_t *req = json_pack("{s:s, s:I, s:s, s:o}", "jsonrpc", "2.0", "id",
                                (json_int_t)(first_id + i), "method", methods[i], "params", p);
        if (!req || json_array_append_new(arr, req)) {
            json_decref(arr);
            return NULL;
        }
    }
    char *body = arr ? json_dumps(arr, JSON_COMPACT) : NULL;
    json_decref(arr);
    return body;
}

gl_code gl_rpc_call_batch(gl_rpc *rpc, size_t n, const char *const *methods, json_t **params,
                          json_t **results, gl_err *err)
{
    for (size_t i = 0; results && i < n; i++)
        results[i] = NULL;
    if (!rpc || (n && (!methods || !params || !results))) {
        if (params)
            batch_drop_params(params, 0, n);
        return gl_err_set(err, GL_EINVAL, "gl_rpc_call_batch needs a client, methods, params and results");
    }
    if (n == 0)
        return GL_OK;
    reset_last(rpc);
    const char *u = rpc->url_redacted;
    uint64_t first = rpc->next_id;
    rpc->next_id += n;
    size_t bad;
    char *body = batch_body(n, methods, params, first, &bad);
    batch_drop_params(params, 0, n); /* whatever batch_body did not consume */
    if (!body) {
        if (bad != SIZE_MAX)
            return gl_err_set(err, GL_EINVAL, "batch item %zu (%s) at %s: params must be a JSON array or object",
                              bad, methods[bad], u);
        return gl_err_set(err, GL_ENOMEM, "batch of %zu calls at %s: out of memory building the request", n, u);
    }
    char what[64];
    snprintf(what, sizeof what, "batch of %zu calls (%s, ...)", n, methods[0]);
    gl_code code = transfer(rpc, what, body, err);
    free(body);
    if (code != GL_OK)
        return code;

    char desc[1024];
    json_error_t jerr;
    json_t *resp = gl_json_tree_load((const char *)rpc->body.data, rpc->body.len, 0, &jerr);
    if (rpc->http_status != 200 || !json_is_array(resp)) {
        /* Not a batch answer: an HTTP error, garbage, or a single error
         * object (some endpoints refuse batches that way). */
        json_decref(resp);
        json_t *dummy = NULL;
        code = interpret(rpc, what, first, &dummy, err);
        json_decref(dummy);
        if (code == GL_OK)
            code = gl_err_set(err, GL_ERPC, "%s at %s: the answer is not a JSON array", what, u);
        return code;
    }
    size_t got = 0;
    size_t idx;
    json_t *item;
    json_array_foreach(resp, idx, item) {
        json_t *id = json_is_object(item) ? json_object_get(item, "id") : NULL;
        size_t k = SIZE_MAX;
        if (json_is_integer(id) && json_integer_value(id) >= 0) {
            uint64_t v = (uint64_t)json_integer_value(id);
            if (v >= first && v - first < n)
                k = (size_t)(v - first);
        }
        if (k == SIZE_MAX || results[k]) {
            code = gl_err_set(err, GL_ERPC, "%s at %s: answer %zu has an unknown or repeated id", what, u, idx);
            break;
        }
        if (take_rpc_error(rpc, item, desc, sizeof desc)) {
            code = gl_err_set(err, GL_ERPC, "%s at %s: item %zu (%s): %s", what, u, k, methods[k], desc);
            break;
        }
        json_t *res = json_object_get(item, "result");
        if (!res) {
            code = gl_err_set(err, GL_ERPC, "%s at %s: item %zu (%s) has neither result nor error", what, u,
                              k, methods[k]);
            break;
        }
        results[k] = json_incref(res);
        got++;
    }
    json_decref(resp);
    if (code == GL_OK && got != n)
        code = gl_err_set(err, GL_ERPC, "%s at %s: %zu of %zu answers missing", what, u, n - got, n);
    if (code != GL_OK)
        batch_drop_results(results, n);
    return code;
}
