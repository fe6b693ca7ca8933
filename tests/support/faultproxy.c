/* faultproxy.c - the fault-injecting JSON-RPC proxy (see faultproxy.h).
 *
 * Threads: one acceptor, and one worker per accepted connection, each with
 * its own libcurl handle for the upstream node.  Everything shared (rules,
 * counters, lies) sits behind p->mu; upstream calls and sleeps happen
 * outside it.
 *
 * A request goes through: parse (not JSON-RPC: forwarded as is) ->
 * whole-request rules (429, 5xx, reset, slow, ...) -> per-call rules
 * (synthesised errors, or a note to check a range cap or mutate the answer
 * later) -> one upstream request with the calls left -> range-count checks
 * and answer mutations -> whole-answer faults (truncate, drop an id, ...)
 * -> the reply.
 *
 * Sections: state, rules, HTTP plumbing, upstream, eth_getLogs ranges,
 * lies, the handler, threads, API.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#include "gpuledger/bytes.h"
#include "gpuledger/rpc.h"

#include "faultproxy.h"

#define FP_POLL_MS 50
#define FP_MAX_REQUEST (16u << 20)
#define FP_UPSTREAM_TIMEOUT_MS 30000L
#define FP_DEFAULT_CAP 10000u
#define FP_DEFAULT_SAFE_SPAN 2000u
#define FP_DEFAULT_LIE_ADDRESS "0x00000000000000000000000000000000deadbeef"
#define FP_OTHER_LIE_ADDRESS "0x000000000000000000000000000000000badf00d"

/* ------------------------------------------------------------------ */
/* State                                                                */

typedef struct rule_state {
    gl_fault_rule r;          /* strings point at the copies below */
    char *method, *message, *address, *field;
    unsigned seen, hits;
    size_t index;             /* a copy in a plan: the rule it came from */
    char **keys;              /* HEADER_NOT_FOUND: (method, params) seen */
    size_t nkeys;
} rule_state;

typedef struct method_count {
    char *method;
    unsigned n;
} method_count;

typedef struct worker {
    gl_fproxy *p;
    pthread_t thread;
    int fd;
    atomic_bool done;
    struct worker *next;
} worker;

struct gl_fproxy {
    int listen_fd;
    uint16_t port;
    char url[64];
    char *upstream;
    pthread_t acceptor;
    atomic_bool stop;
    worker *workers;          /* acceptor's, then stop's */

    pthread_mutex_t mu;       /* guards everything below */
    rule_state *rules;
    size_t nrules;
    uint64_t rng;
    unsigned requests, inflight, max_inflight, max_batch, connections;
    unsigned injected[GL_FAULT__COUNT];
    method_count *methods;
    size_t nmethods;
    bool has_sugg;
    uint64_t sugg_from, sugg_to;
    gl_fproxy_lie *lies;
    size_t nlies, caplies;
};

static const char *const FAULT_NAMES[GL_FAULT__COUNT] = {
    [GL_FAULT_NONE] = "none",
    [GL_FAULT_RANGE_INFURA] = "range-infura",
    [GL_FAULT_RANGE_ALCHEMY] = "range-alchemy",
    [GL_FAULT_RANGE_SPAN_413] = "range-span-413",
    [GL_FAULT_RANGE_SPAN] = "range-span",
    [GL_FAULT_RANGE_COUNT] = "range-count",
    [GL_FAULT_HTTP_429] = "429",
    [GL_FAULT_HTTP_5XX] = "5xx",
    [GL_FAULT_RESET] = "reset",
    [GL_FAULT_SLOW] = "slow",
    [GL_FAULT_TRUNCATED] = "truncated",
    [GL_FAULT_MALFORMED] = "malformed",
    [GL_FAULT_BATCH_MISSING_ID] = "batch-missing-id",
    [GL_FAULT_BATCH_DUP_ID] = "batch-dup-id",
    [GL_FAULT_BATCH_REORDER] = "batch-reorder",
    [GL_FAULT_BATCH_REFUSE] = "batch-refuse",
    [GL_FAULT_HEADER_NOT_FOUND] = "header-not-found",
    [GL_FAULT_CHAIN_ID] = "chain-id",
    [GL_FAULT_RPC_ERROR] = "rpc-error",
    [GL_FAULT_LYING_FROM] = "lying-from",
    [GL_FAULT_WRONG_HASH] = "wrong-hash",
    [GL_FAULT_NO_TIMESTAMP] = "no-timestamp",
    [GL_FAULT_WRONG_TX_FIELD] = "wrong-tx-field",
    [GL_FAULT_LOGS_REFUSE] = "logs-refuse",
    [GL_FAULT_RECEIPT_STATUS] = "receipt-status",
};

const char *gl_fault_name(gl_fault kind)
{
    return (unsigned)kind < GL_FAULT__COUNT && FAULT_NAMES[kind] ? FAULT_NAMES[kind] : "?";
}

/* ------------------------------------------------------------------ */
/* Rules                                                                */

static bool is_whole_kind(gl_fault k)
{
    switch (k) {
    case GL_FAULT_HTTP_429:
    case GL_FAULT_HTTP_5XX:
    case GL_FAULT_RESET:
    case GL_FAULT_SLOW:
    case GL_FAULT_TRUNCATED:
    case GL_FAULT_MALFORMED:
    case GL_FAULT_BATCH_MISSING_ID:
    case GL_FAULT_BATCH_DUP_ID:
    case GL_FAULT_BATCH_REORDER:
    case GL_FAULT_BATCH_REFUSE:
        return true;
    case GL_FAULT_NONE:
    case GL_FAULT_RANGE_INFURA:
    case GL_FAULT_RANGE_ALCHEMY:
    case GL_FAULT_RANGE_SPAN_413:
    case GL_FAULT_RANGE_SPAN:
    case GL_FAULT_RANGE_COUNT:
    case GL_FAULT_HEADER_NOT_FOUND:
    case GL_FAULT_CHAIN_ID:
    case GL_FAULT_RPC_ERROR:
    case GL_FAULT_LYING_FROM:
    case GL_FAULT_WRONG_HASH:
    case GL_FAULT_NO_TIMESTAMP:
    case GL_FAULT_WRONG_TX_FIELD:
    case GL_FAULT_LOGS_REFUSE:
    case GL_FAULT_RECEIPT_STATUS:
    case GL_FAULT__COUNT:
        return false;
    }
    return false;
}

static bool is_range_kind(gl_fault k)
{
    return k == GL_FAULT_RANGE_INFURA || k == GL_FAULT_RANGE_ALCHEMY || k == GL_FAULT_RANGE_SPAN_413 ||
           k == GL_FAULT_RANGE_SPAN || k == GL_FAULT_RANGE_COUNT;
}

static bool is_count_kind(gl_fault k)
{
    return k == GL_FAULT_RANGE_INFURA || k == GL_FAULT_RANGE_ALCHEMY || k == GL_FAULT_RANGE_COUNT;
}

static bool str_in(const char *s, const char *const *list)
{
    for (; *list; list++)
        if (!strcmp(s, *list))
            return true;
    return false;
}

static const char *const LIE_METHODS[] = {"eth_getBlockByNumber", "eth_getBlockByHash", "eth_getTransactionByHash",
                                          "eth_getTransactionReceipt", "eth_getBlockReceipts", NULL};
static const char *const BLOCK_METHODS[] = {"eth_getBlockByNumber", "eth_getBlockByHash", NULL};
static const char *const RECEIPT_METHODS[] = {"eth_getTransactionReceipt", "eth_getBlockReceipts", NULL};

/* Does rule rs apply to a call of `method` (NULL: not JSON-RPC)? */
static bool applies(const rule_state *rs, const char *method)
{
    if (rs->method)
        return method && !strcmp(rs->method, method);
    gl_fault k = rs->r.kind;
    if (is_range_kind(k))
        return method && !strcmp(method, "eth_getLogs");
    if (k == GL_FAULT_CHAIN_ID)
        return method && !strcmp(method, "eth_chainId");
    if (k == GL_FAULT_LYING_FROM)
        return method && str_in(method, LIE_METHODS);
    if (k == GL_FAULT_RECEIPT_STATUS)
        return method && str_in(method, RECEIPT_METHODS);
    if (k == GL_FAULT_WRONG_HASH || k == GL_FAULT_WRONG_TX_FIELD)
        return method && str_in(method, BLOCK_METHODS);
    if (k == GL_FAULT_NO_TIMESTAMP || k == GL_FAULT_LOGS_REFUSE)
        return method && !strcmp(method, "eth_getLogs");
    return true;
}

static uint64_t rng_next(gl_fproxy *p)
{
    uint64_t z = (p->rng += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

/* Count one application of rs and say whether its schedule lets it fire
 * (p->mu held).  The injection itself is counted by commit(). */
static bool eligible(gl_fproxy *p, rule_state *rs)
{
    const gl_fault_rule *r = &rs->r;
    unsigned k = ++rs->seen;
    if (k <= r->skip)
        return false;
    if (r->first_n && k > r->skip + r->first_n)
        return false;
    if (r->every_nth && (k - r->skip) % r->every_nth != 0)
        return false;
    if (r->max_hits && rs->hits >= r->max_hits)
        return false;
    if (r->probability > 0 && r->probability < 1) {
        double u = (double)(rng_next(p) >> 11) / 9007199254740992.0;
        if (u >= r->probability)
            return false;
    }
    return true;
}

static void commit(gl_fproxy *p, rule_state *rs)
{
    rs->hits++;
    p->injected[rs->r.kind]++;
}

static void rule_free(rule_state *rs)
{
    free(rs->method);
    free(rs->message);
    free(rs->address);
    free(rs->field);
    for (size_t i = 0; i < rs->nkeys; i++)
        free(rs->keys[i]);
    free(rs->keys);
}

/* HEADER_NOT_FOUND: has this key been seen by rs?  Remembers it. */
static bool key_is_new(rule_state *rs, const char *key)
{
    for (size_t i = 0; i < rs->nkeys; i++)
        if (!strcmp(rs->keys[i], key))
            return false;
    char **v = realloc(rs->keys, (rs->nkeys + 1) * sizeof *v);
    if (!v)
        return false;
    rs->keys = v;
    if (!(v[rs->nkeys] = strdup(key)))
        return false;
    rs->nkeys++;
    return true;
}

static void count_method(gl_fproxy *p, const char *m)
{
    if (!m)
        m = "(none)";
    for (size_t i = 0; i < p->nmethods; i++)
        if (!strcmp(p->methods[i].method, m)) {
            p->methods[i].n++;
            return;
        }
    method_count *v = realloc(p->methods, (p->nmethods + 1) * sizeof *v);
    if (!v)
        return;
    p->methods = v;
    if (!(v[p->nmethods].method = strdup(m)))
        return;
    v[p->nmethods++].n = 1;
}

/* ------------------------------------------------------------------ */
/* HTTP plumbing                                                        */

static const char *reason(int status)
{
    switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 413: return "Payload Too Large";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "Status";
    }
}

/* Append a response: `declared` is the Content-Length sent (normally
 * len; larger for a truncated answer). */
static void put_reply(gl_buf *out, int status, const char *ctype, const char *extra, const void *body, size_t len,
                      size_t declared)
{
    char head[512];
    int n = snprintf(head, sizeof head, "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%s\r\n",
                     status, reason(status), ctype, declared, extra ? extra : "");
    if (n < 0 || (size_t)n >= sizeof head)
        return;
    if (gl_buf_append(out, head, (size_t)n, NULL) == GL_OK)
        gl_buf_append(out, body, len, NULL);
}

static void put_json(gl_buf *out, int status, const char *extra, json_t *j)
{
    char *s = json_dumps(j, JSON_COMPACT);
    if (!s) {
        put_reply(out, 500, "text/plain", NULL, "proxy out of memory", 19, 19);
        return;
    }
    put_reply(out, status, "application/json", extra, s, strlen(s), strlen(s));
    free(s);
}

static bool send_all(int fd, const uint8_t *d, size_t n)
{
    while (n) {
        ssize_t w = send(fd, d, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return false;
        d += w;
        n -= (size_t)w;
    }
    return true;
}

static const char *find_header(const char *head, const char *name)
{
    size_t nl = strlen(name);
    for (const char *q = strstr(head, "\r\n"); q; q = strstr(q + 2, "\r\n"))
        if (!strncasecmp(q + 2, name, nl) && q[2 + nl] == ':') {
            const char *v = q + 2 + nl + 1;
            while (*v == ' ' || *v == '\t')
                v++;
            return v;
        }
    return NULL;
}

/* 1 readable, 0 stop, -1 error. */
static int wait_readable(gl_fproxy *p, int fd)
{
    while (!atomic_load(&p->stop)) {
        struct pollfd pf = {fd, POLLIN, 0};
        int n = poll(&pf, 1, FP_POLL_MS);
        if (n > 0)
            return 1;
        if (n < 0 && errno != EINTR)
            return -1;
    }
    return 0;
}

/* Read one request: head (NUL-terminated copy in *head), body (in *body,
 * NUL-terminated, length *blen).  False on close, stop or error. */
static bool read_request(gl_fproxy *p, int fd, gl_buf *in, char **head, char **body, size_t *blen)
{
    size_t head_len = 0, want = 0;
    bool continued = false;
    for (;;) {
        if (!head_len && in->len >= 4) {
            uint8_t *e = memmem(in->data, in->len, "\r\n\r\n", 4);
            if (e) {
                head_len = (size_t)(e - in->data) + 4;
                char *h = strndup((const char *)in->data, head_len - 2);
                if (!h)
                    return false;
                const char *cl = find_header(h, "Content-Length");
                *blen = cl ? strtoul(cl, NULL, 10) : 0;
                const char *ex = find_header(h, "Expect");
                if (ex && !strncasecmp(ex, "100-continue", 12) && !continued) {
                    continued = true;
                    static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
                    send_all(fd, (const uint8_t *)cont, sizeof cont - 1);
                }
                free(h);
                if (*blen > FP_MAX_REQUEST)
                    return false;
                want = head_len + *blen;
            }
        }
        if (head_len && in->len >= want) {
            *head = strndup((const char *)in->data, head_len - 2);
            *body = malloc(*blen + 1);
            if (!*head || !*body) {
                free(*head);
                free(*body);
                return false;
            }
            memcpy(*body, in->data + head_len, *blen);
            (*body)[*blen] = '\0';
            memmove(in->data, in->data + want, in->len - want);
            in->len -= want;
            return true;
        }
        if (in->len > FP_MAX_REQUEST || wait_readable(p, fd) != 1)
            return false;
        if (gl_buf_reserve(in, 65536, NULL) != GL_OK)
            return false;
        ssize_t r = recv(fd, in->data + in->len, in->cap - in->len, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return false;
        in->len += (size_t)r;
    }
}

/* Sleep ms in small steps; false when told to stop. */
static bool nap(gl_fproxy *p, unsigned ms)
{
    while (ms && !atomic_load(&p->stop)) {
        unsigned step = ms < 10 ? ms : 10;
        struct timespec ts = {0, (long)step * 1000000L};
        nanosleep(&ts, NULL);
        ms -= step;
    }
    return !atomic_load(&p->stop);
}

/* ------------------------------------------------------------------ */
/* Upstream                                                             */

typedef struct up {
    CURL *h;
    struct curl_slist *hdrs;
    gl_buf body;
} up;

static size_t up_write(char *d, size_t s, size_t n, void *u)
{
    gl_buf *b = u;
    return gl_buf_append(b, d, s * n, NULL) == GL_OK ? s * n : 0;
}

static bool up_init(up *u, const char *url)
{
    memset(u, 0, sizeof *u);
    gl_buf_init(&u->body);
    u->h = curl_easy_init();
    u->hdrs = curl_slist_append(NULL, "Content-Type: application/json");
    if (!u->h || !u->hdrs)
        return false;
    curl_easy_setopt(u->h, CURLOPT_URL, url);
    curl_easy_setopt(u->h, CURLOPT_HTTPHEADER, u->hdrs);
    curl_easy_setopt(u->h, CURLOPT_POST, 1L);
    curl_easy_setopt(u->h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(u->h, CURLOPT_TIMEOUT_MS, FP_UPSTREAM_TIMEOUT_MS);
    curl_easy_setopt(u->h, CURLOPT_WRITEFUNCTION, up_write);
    curl_easy_setopt(u->h, CURLOPT_WRITEDATA, &u->body);
    return true;
}

static void up_release(up *u)
{
    if (u->h)
        curl_easy_cleanup(u->h);
    curl_slist_free_all(u->hdrs);
    gl_buf_release(&u->body);
}

/* POST body upstream; the answer is in u->body.  False on transport error. */
static bool up_post(up *u, const char *body, size_t len, long *status)
{
    gl_buf_reset(&u->body);
    curl_easy_setopt(u->h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    curl_easy_setopt(u->h, CURLOPT_POSTFIELDS, body);
    CURLcode rc = curl_easy_perform(u->h);
    *status = 0;
    curl_easy_getinfo(u->h, CURLINFO_RESPONSE_CODE, status);
    return rc == CURLE_OK;
}

/* POST a JSON value, parse the answer.  NULL on any failure. */
static json_t *up_json(up *u, json_t *req)
{
    char *s = json_dumps(req, JSON_COMPACT);
    if (!s)
        return NULL;
    long status;
    bool ok = up_post(u, s, strlen(s), &status);
    free(s);
    if (!ok || status != 200)
        return NULL;
    return json_loadb(u->body.data ? (const char *)u->body.data : "", u->body.len, 0, NULL);
}

/* ------------------------------------------------------------------ */
/* eth_getLogs ranges                                                   */

static bool parse_hex_u64(const char *s, uint64_t *out)
{
    if (!s || s[0] != '0' || (s[1] != 'x' && s[1] != 'X') || !s[2])
        return false;
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(s + 2, &end, 16);
    if (errno || *end)
        return false;
    *out = v;
    return true;
}

static bool head_number(up *u, uint64_t *out)
{
    json_t *req = json_pack("{s:s,s:i,s:s,s:[]}", "jsonrpc", "2.0", "id", 1, "method", "eth_blockNumber", "params");
    json_t *a = req ? up_json(u, req) : NULL;
    json_decref(req);
    bool ok = a && parse_hex_u64(json_string_value(json_object_get(a, "result")), out);
    json_decref(a);
    return ok;
}

/* Resolve a block tag or number ("latest" when absent). */
static bool resolve_block(up *u, json_t *v, uint64_t *out)
{
    const char *s = json_string_value(v);
    if (!v || json_is_null(v) || (s && (!strcmp(s, "latest") || !strcmp(s, "pending") || !strcmp(s, "safe") ||
                                        !strcmp(s, "finalized"))))
        return head_number(u, out);
    if (s && !strcmp(s, "earliest")) {
        *out = 0;
        return true;
    }
    return parse_hex_u64(s, out);
}

/* [from, to] of an eth_getLogs call; false for a blockHash filter or
 * unreadable params. */
static bool logs_range(up *u, json_t *params, uint64_t *from, uint64_t *to)
{
    json_t *f = json_array_get(params, 0);
    if (!json_is_object(f) || json_object_get(f, "blockHash"))
        return false;
    return resolve_block(u, json_object_get(f, "fromBlock"), from) &&
           resolve_block(u, json_object_get(f, "toBlock"), to) && *from <= *to;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* The longest range from `from` holding at most cap of `logs`: with the
 * logs' blocks sorted, b = block of log number cap+1; [from, b-1] holds
 * only logs before it (<= cap), [from, b] at least cap+1.  A single block
 * with more than cap logs gives [from, from]. */
static bool suggest_range(json_t *logs, uint64_t from, uint64_t cap, uint64_t *lo, uint64_t *hi)
{
    size_t n = json_array_size(logs);
    if (n <= cap)
        return false;
    uint64_t *b = malloc(n * sizeof *b);
    if (!b)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!parse_hex_u64(json_string_value(json_object_get(json_array_get(logs, i), "blockNumber")), &b[i])) {
            free(b);
            return false;
        }
    qsort(b, n, sizeof *b, cmp_u64);
    uint64_t edge = b[cap];
    free(b);
    *lo = from;
    *hi = edge > from ? edge - 1 : from;
    return true;
}

/* "10,000" */
static void commas(uint64_t v, char *out, size_t cap)
{
    char d[32];
    snprintf(d, sizeof d, "%" PRIu64, v);
    size_t n = strlen(d), o = 0;
    for (size_t i = 0; i < n && o + 2 < cap; i++) {
        if (i && (n - i) % 3 == 0)
            out[o++] = ',';
        out[o++] = d[i];
    }
    out[o] = '\0';
}

/* "2K" for multiples of 1000, else decimal (Alchemy's style). */
static void kilo(uint64_t v, char *out, size_t cap)
{
    if (v >= 1000 && v % 1000 == 0)
        snprintf(out, cap, "%" PRIu64 "K", v / 1000);
    else
        snprintf(out, cap, "%" PRIu64, v);
}

/* ------------------------------------------------------------------ */
/* Lies                                                                 */

static void record_lie(gl_fproxy *p, gl_fault kind, const char *method, const char *subject, const char *block,
                       const char *field, const char *truth, const char *told)
{
    pthread_mutex_lock(&p->mu);
    if (p->nlies == p->caplies) {
        size_t cap = p->caplies ? 2 * p->caplies : 16;
        gl_fproxy_lie *v = realloc(p->lies, cap * sizeof *v);
        if (!v) {
            pthread_mutex_unlock(&p->mu);
            return;
        }
        p->lies = v;
        p->caplies = cap;
    }
    gl_fproxy_lie *l = &p->lies[p->nlies++];
    memset(l, 0, sizeof *l);
    l->kind = kind;
    snprintf(l->method, sizeof l->method, "%s", method ? method : "");
    snprintf(l->subject, sizeof l->subject, "%s", subject ? subject : "");
    snprintf(l->block, sizeof l->block, "%s", block ? block : "");
    snprintf(l->field, sizeof l->field, "%s", field ? field : "");
    snprintf(l->truth, sizeof l->truth, "%s", truth ? truth : "");
    snprintf(l->told, sizeof l->told, "%s", told ? told : "");
    pthread_mutex_unlock(&p->mu);
}

/* Rewrite `from` of the transaction object or receipt `tx`. */
static bool lie_from(gl_fproxy *p, const rule_state *rs, const char *method, json_t *tx)
{
    const char *truth = json_string_value(json_object_get(tx, "from"));
    if (!truth)
        return false;
    const char *told = rs->address ? rs->address : FP_DEFAULT_LIE_ADDRESS;
    if (!strcasecmp(told, truth))
        told = FP_OTHER_LIE_ADDRESS;
    const char *subject = json_string_value(json_object_get(tx, "hash"));
    if (!subject)
        subject = json_string_value(json_object_get(tx, "transactionHash"));
    char truth_copy[80];
    snprintf(truth_copy, sizeof truth_copy, "%s", truth);
    if (json_object_set_new(tx, "from", json_string(told)))
        return false;
    record_lie(p, GL_FAULT_LYING_FROM, method, subject, json_string_value(json_object_get(tx, "blockNumber")),
               "from", truth_copy, told);
    return true;
}

/* Flip the last hex digit of string `field` of object obj and record the
 * lie about `subject` (read before the change) of block `block`. */
static bool flip_field(gl_fproxy *p, gl_fault kind, const char *method, json_t *obj, const char *field,
                       const char *subject, const char *block)
{
    const char *v = json_string_value(json_object_get(obj, field));
    size_t n = v ? strlen(v) : 0;
    if (n < 3)
        return false;
    char *told = strdup(v);
    char *truth = strdup(v);
    char *subj = strdup(subject ? subject : "");
    char *blk = strdup(block ? block : "");
    bool ok = false;
    if (told && truth && subj && blk) {
        char c = told[n - 1];
        int d = c >= '0' && c <= '9' ? c - '0' : (c | 0x20) >= 'a' && (c | 0x20) <= 'f' ? (c | 0x20) - 'a' + 10 : -1;
        if (d >= 0) {
            told[n - 1] = "0123456789abcdef"[d ^ 1];
            ok = json_object_set_new(obj, field, json_string(told)) == 0;
            if (ok)
                record_lie(p, kind, method, subj, blk, field, truth, told);
        }
    }
    free(told);
    free(truth);
    free(subj);
    free(blk);
    return ok;
}

/* Make receipt r, successful, say it reverted (status 0x0), and record
 * the lie about its tx. */
static bool lie_status(gl_fproxy *p, const char *method, json_t *r)
{
    const char *st = json_string_value(json_object_get(r, "status"));
    if (!st || strcmp(st, "0x1"))
        return false;
    const char *h = json_string_value(json_object_get(r, "transactionHash"));
    const char *b = json_string_value(json_object_get(r, "blockNumber"));
    char subj[80], blk[24];
    snprintf(subj, sizeof subj, "%s", h ? h : "");
    snprintf(blk, sizeof blk, "%s", b ? b : "");
    if (json_object_set_new(r, "status", json_string("0x0")))
        return false;
    record_lie(p, GL_FAULT_RECEIPT_STATUS, method, subj, blk, "status", "0x1", "0x0");
    return true;
}

/* Apply a LYING_FROM, WRONG_HASH, WRONG_TX_FIELD, RECEIPT_STATUS or
 * NO_TIMESTAMP rule to an answer's result. */
static bool mutate(gl_fproxy *p, const rule_state *rs, const char *method, json_t *result)
{
    if (rs->r.kind == GL_FAULT_NO_TIMESTAMP) {
        bool any = false;
        size_t i;
        json_t *log;
        json_array_foreach(result, i, log) any = (json_object_del(log, "blockTimestamp") == 0) || any;
        return any;
    }
    if (rs->r.kind == GL_FAULT_RECEIPT_STATUS) {
        if (json_is_object(result))
            return lie_status(p, method, result);
        bool any = false;
        size_t i;
        json_t *r;
        json_array_foreach(result, i, r) any = lie_status(p, method, r) || any;
        return any;
    }
    if (rs->r.kind == GL_FAULT_LYING_FROM) {
        if (!strcmp(method, "eth_getTransactionByHash") || !strcmp(method, "eth_getTransactionReceipt"))
            return json_is_object(result) && lie_from(p, rs, method, result);
        json_t *list = !strcmp(method, "eth_getBlockReceipts") ? result : json_object_get(result, "transactions");
        json_t *tx = json_array_get(list, rs->r.index);
        return json_is_object(tx) && lie_from(p, rs, method, tx);
    }
    if (rs->r.kind == GL_FAULT_WRONG_TX_FIELD) {
        json_t *tx = json_array_get(json_object_get(result, "transactions"), rs->r.index);
        return json_is_object(tx) &&
               flip_field(p, GL_FAULT_WRONG_TX_FIELD, method, tx, rs->field ? rs->field : "value",
                          json_string_value(json_object_get(tx, "hash")),
                          json_string_value(json_object_get(tx, "blockNumber")));
    }
    /* WRONG_HASH */
    return flip_field(p, GL_FAULT_WRONG_HASH, method, result, rs->field ? rs->field : "hash",
                      json_string_value(json_object_get(result, "hash")),
                      json_string_value(json_object_get(result, "number")));
}

/* ------------------------------------------------------------------ */
/* The handler                                                          */

/* What the rules decided for one call. */
typedef struct plan {
    json_t *req;              /* the call (borrowed from the request) */
    const char *method;       /* borrowed */
    json_t *answer;           /* synthesised or upstream answer (owned) */
    int http_status;          /* for a single call: the status to answer with */
    rule_state *check;        /* a count cap or mutation to apply after forwarding (copy) */
    uint64_t from, to;        /* eth_getLogs range, when has_range */
    bool has_range;
} plan;

static json_t *error_answer(json_t *id, long code, const char *msg)
{
    return json_pack("{s:s,s:O,s:{s:I,s:s}}", "jsonrpc", "2.0", "id", id ? id : json_null(), "error", "code",
                     (json_int_t)code, "message", msg);
}

/* Replace "{path}" in a message template. */
static char *fill_path(const char *tmpl, const char *path)
{
    const char *at = strstr(tmpl, "{path}");
    if (!at)
        return strdup(tmpl);
    size_t n = strlen(tmpl) - 6 + strlen(path) + 1;
    char *s = malloc(n);
    if (s)
        snprintf(s, n, "%.*s%s%s", (int)(at - tmpl), tmpl, path, at + 6);
    return s;
}

/* Per-call rules for pl (p->mu held).  A rule that needs the upstream
 * answer (count caps, mutations) is copied into *check_copy, with its own
 * strings (the rules may be replaced while the request is upstream), and
 * pl->check points at it. */
/* Rule i, eligible by its schedule, for call pl: true when it decided
 * the call's fate (p->mu held). */
static bool try_call_rule(gl_fproxy *p, plan *pl, size_t i, const char *path, rule_state *check_copy)
{
    rule_state *rs = &p->rules[i];
    gl_fault k = rs->r.kind;
    json_t *id = json_object_get(pl->req, "id");
    if (k == GL_FAULT_HEADER_NOT_FOUND) {
        char *ps = json_dumps(json_object_get(pl->req, "params"), JSON_COMPACT | JSON_ENCODE_ANY);
        char key[2048];
        snprintf(key, sizeof key, "%s|%s", pl->method ? pl->method : "", ps ? ps : "");
        free(ps);
        if (!key_is_new(rs, key))
            return false;
        commit(p, rs);
        pl->answer = error_answer(id, -32000, "header not found");
        return true;
    }
    if (k == GL_FAULT_CHAIN_ID) {
        char hex[24];
        snprintf(hex, sizeof hex, "0x%" PRIx64, rs->r.chain_id);
        commit(p, rs);
        pl->answer = json_pack("{s:s,s:O,s:s}", "jsonrpc", "2.0", "id", id ? id : json_null(), "result", hex);
        return true;
    }
    if (k == GL_FAULT_RPC_ERROR) {
        char *msg = fill_path(rs->message ? rs->message : "internal error", path);
        commit(p, rs);
        pl->answer = error_answer(id, rs->r.rpc_code ? rs->r.rpc_code : -32000, msg ? msg : "internal error");
        pl->http_status = rs->r.http_status ? rs->r.http_status : 200;
        free(msg);
        return true;
    }
    if (k == GL_FAULT_RANGE_SPAN || k == GL_FAULT_RANGE_SPAN_413) {
        uint64_t cap = rs->r.cap ? rs->r.cap : FP_DEFAULT_CAP;
        if (!pl->has_range || pl->to - pl->from + 1 <= cap)
            return false;
        commit(p, rs);
        char msg[160], c[32];
        if (k == GL_FAULT_RANGE_SPAN) {
            snprintf(msg, sizeof msg, "exceed maximum block range: %" PRIu64, cap);
            pl->answer = error_answer(id, -32000, msg);
        } else {
            commas(cap, c, sizeof c);
            snprintf(msg, sizeof msg, "eth_getLogs is limited to a %s range", c);
            pl->answer = error_answer(id, -32614, msg);
            pl->http_status = 413;
        }
        return true;
    }
    if (k == GL_FAULT_LOGS_REFUSE) {
        const json_t *flt = json_array_get(json_object_get(pl->req, "params"), 0);
        const json_t *t0 = json_array_get(json_object_get(flt, "topics"), 0);
        bool shape = rs->r.variant == 0   ? pl->has_range && pl->from == pl->to
                     : rs->r.variant == 1 ? json_array_size(json_object_get(flt, "address")) > (rs->r.cap ? rs->r.cap : 1)
                                          : json_array_size(t0) > 1;
        if (!shape)
            return false;
        commit(p, rs);
        pl->answer = error_answer(id, -32005, "query returned more than 10000 results");
        return true;
    }
    /* count caps and mutations: decided on the upstream answer */
    if (is_count_kind(k) && !pl->has_range)
        return false;
    *check_copy = *rs;
    check_copy->method = check_copy->message = NULL;
    check_copy->r.method = check_copy->r.message = NULL;
    check_copy->address = rs->address ? strdup(rs->address) : NULL;
    check_copy->field = rs->field ? strdup(rs->field) : NULL;
    check_copy->r.address = check_copy->address;
    check_copy->r.field = check_copy->field;
    check_copy->keys = NULL;
    check_copy->nkeys = 0;
    check_copy->index = i;
    pl->check = check_copy;
    return true;
}

/* Per-call rules for pl (p->mu held).  Every rule that applies counts the
 * call (its k); the first one that fires decides.  A rule that needs the
 * upstream answer (count caps, mutations) is copied into *check_copy with
 * its own strings (the rules may be replaced while the request is
 * upstream), and pl->check points at it. */
static void decide_call(gl_fproxy *p, plan *pl, const char *path, rule_state *check_copy)
{
    bool decided = false;
    for (size_t i = 0; i < p->nrules; i++) {
        rule_state *rs = &p->rules[i];
        gl_fault k = rs->r.kind;
        if (is_whole_kind(k) || k == GL_FAULT_NONE || !applies(rs, pl->method))
            continue;
        if (eligible(p, rs) && !decided)
            decided = try_call_rule(p, pl, i, path, check_copy);
    }
}

/* Count hits of rule index i if the rules are still the same kind (they
 * may have been replaced meanwhile; then the hit is just not counted). */
static void commit_index(gl_fproxy *p, size_t i, gl_fault kind)
{
    pthread_mutex_lock(&p->mu);
    if (i < p->nrules && p->rules[i].r.kind == kind)
        commit(p, &p->rules[i]);
    pthread_mutex_unlock(&p->mu);
}

/* After forwarding: count caps and answer mutations. */
static void apply_check(gl_fproxy *p, plan *pl)
{
    rule_state *rs = pl->check;
    json_t *res = json_object_get(pl->answer, "result");
    if (!res)
        return;
    gl_fault k = rs->r.kind;
    if (is_count_kind(k)) {
        uint64_t cap = rs->r.cap ? rs->r.cap : FP_DEFAULT_CAP;
        uint64_t lo, hi;
        if (json_array_size(res) <= cap)
            return;
        if (k == GL_FAULT_RANGE_ALCHEMY) {
            uint64_t safe = rs->r.span ? rs->r.span : FP_DEFAULT_SAFE_SPAN;
            if (pl->to - pl->from + 1 <= safe)
                return;
        }
        if (!suggest_range(res, pl->from, cap, &lo, &hi))
            return;
        json_t *id = json_object_get(pl->answer, "id");
        char msg[512], c1[32], c2[32];
        json_t *ans = NULL;
        if (k == GL_FAULT_RANGE_INFURA) {
            snprintf(msg, sizeof msg,
                     "query returned more than %" PRIu64 " results. Try with this block range [0x%" PRIx64
                     ", 0x%" PRIx64 "].",
                     cap, lo, hi);
            ans = error_answer(id, -32005, msg);
        } else if (k == GL_FAULT_RANGE_ALCHEMY) {
            kilo(rs->r.span ? rs->r.span : FP_DEFAULT_SAFE_SPAN, c1, sizeof c1);
            kilo(cap, c2, sizeof c2);
            snprintf(msg, sizeof msg,
                     "Log response size exceeded. You can make eth_getLogs requests with up to a %s block range "
                     "and no limit on the response size, or you can request any block range with a cap of %s "
                     "logs in the response. Based on your parameters, this block range should work: [0x%" PRIx64
                     ", 0x%" PRIx64 "]",
                     c1, c2, lo, hi);
            ans = error_answer(id, -32602, msg);
            pl->http_status = rs->r.http_status ? rs->r.http_status : 200;
        } else {
            snprintf(msg, sizeof msg, "logs matched by query exceeds limit of %" PRIu64, cap);
            ans = error_answer(id, -32005, msg);
        }
        if (!ans)
            return;
        json_decref(pl->answer);
        pl->answer = ans;
        pthread_mutex_lock(&p->mu);
        if (k != GL_FAULT_RANGE_COUNT) {
            p->has_sugg = true;
            p->sugg_from = lo;
            p->sugg_to = hi;
        }
        pthread_mutex_unlock(&p->mu);
        commit_index(p, rs->index, k);
        return;
    }
    if (pl->method && mutate(p, rs, pl->method, res))
        commit_index(p, rs->index, k);
}

/* Whole-request rules (p->mu held): the first that fires, as a copy of its
 * scalar fields; SLOW adds to *delay and goes on.  Every rule that applies
 * counts the request, whichever wins. */
static gl_fault decide_whole(gl_fproxy *p, size_t n, bool batch, const char *const *methods, unsigned *delay,
                             gl_fault_rule *out)
{
    gl_fault won = GL_FAULT_NONE;
    for (size_t i = 0; i < p->nrules; i++) {
        rule_state *rs = &p->rules[i];
        gl_fault k = rs->r.kind;
        if (!is_whole_kind(k))
            continue;
        if ((k == GL_FAULT_BATCH_MISSING_ID || k == GL_FAULT_BATCH_REORDER) && !batch)
            continue;
        if (k == GL_FAULT_BATCH_DUP_ID && (!batch || n < 2))
            continue;
        if (k == GL_FAULT_BATCH_REFUSE && (!batch || n <= (rs->r.cap ? rs->r.cap : 1)))
            continue;
        bool any = n == 0 && applies(rs, NULL);
        for (size_t j = 0; j < n && !any; j++)
            any = applies(rs, methods[j]);
        if (!any || !eligible(p, rs))
            continue;
        if (k == GL_FAULT_SLOW) {
            commit(p, rs);
            *delay += rs->r.delay_ms;
            continue;
        }
        if (won != GL_FAULT_NONE)
            continue; /* counted (its k moved on), but another rule won */
        commit(p, rs);
        *out = rs->r;
        out->method = out->message = out->address = out->field = NULL;
        won = k;
    }
    return won;
}

static const char HTML_5XX[] = "<html>\r\n<head><title>%d %s</title></head>\r\n<body>\r\n<center><h1>%d %s</h1>"
                               "</center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n";

/* Answer a request that is not JSON-RPC: forward it as it is. */
static void forward_raw(up *u, const char *body, size_t len, gl_buf *out)
{
    long st;
    if (!up_post(u, body, len, &st)) {
        put_reply(out, 502, "text/plain", NULL, "upstream unreachable", 20, 20);
        return;
    }
    put_reply(out, (int)st, "application/json", NULL, u->body.data ? (const char *)u->body.data : "", u->body.len,
              u->body.len);
}

typedef enum { AFTER_KEEP, AFTER_CLOSE, AFTER_RESET } after_t;

/* Handle one HTTP request; the reply goes to out. */
static after_t handle(gl_fproxy *p, up *u, const char *head, const char *body, size_t blen, gl_buf *out)
{
    char path[512] = "/";
    const char *sp = strchr(head, ' ');
    if (sp) {
        size_t n = strcspn(sp + 1, " \r\n");
        snprintf(path, sizeof path, "%.*s", (int)n, sp + 1);
    }
    json_t *req = json_loadb(body, blen, 0, NULL);
    bool batch = json_is_array(req);
    size_t n = batch ? json_array_size(req) : json_is_object(req) ? 1 : 0;
    if (!req || (batch && n == 0) || (!batch && !json_is_object(req))) {
        pthread_mutex_lock(&p->mu);
        p->requests++;
        pthread_mutex_unlock(&p->mu);
        forward_raw(u, body, blen, out);
        json_decref(req);
        return AFTER_KEEP;
    }
    plan *pl = calloc(n, sizeof *pl);
    rule_state *checks = calloc(n, sizeof *checks);
    json_t **calls = calloc(n, sizeof *calls);
    const char **methods = calloc(n, sizeof *methods);
    after_t after = AFTER_KEEP;
    json_t *fwd = NULL, *ans = NULL, *reply = NULL;
    if (!pl || !checks || !calls || !methods) {
        put_reply(out, 500, "text/plain", NULL, "proxy out of memory", 19, 19);
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        calls[i] = batch ? json_array_get(req, i) : req;
        pl[i].req = calls[i];
        pl[i].method = json_string_value(json_object_get(calls[i], "method"));
        methods[i] = pl[i].method;
        pl[i].http_status = 200;
    }
    /* eth_getLogs ranges (outside the lock: may ask upstream) */
    for (size_t i = 0; i < n; i++)
        if (pl[i].method && !strcmp(pl[i].method, "eth_getLogs"))
            pl[i].has_range = logs_range(u, json_object_get(calls[i], "params"), &pl[i].from, &pl[i].to);

    unsigned delay = 0;
    gl_fault_rule whole = {.kind = GL_FAULT_NONE};
    pthread_mutex_lock(&p->mu);
    p->requests++;
    if (n > p->max_batch)
        p->max_batch = (unsigned)n;
    for (size_t i = 0; i < n; i++)
        count_method(p, methods[i]);
    gl_fault wk = decide_whole(p, n, batch, methods, &delay, &whole);
    if (wk == GL_FAULT_NONE || wk == GL_FAULT_TRUNCATED || wk == GL_FAULT_MALFORMED || wk == GL_FAULT_BATCH_DUP_ID ||
        wk == GL_FAULT_BATCH_MISSING_ID || wk == GL_FAULT_BATCH_REORDER)
        for (size_t i = 0; i < n; i++)
            decide_call(p, &pl[i], path, &checks[i]);
    pthread_mutex_unlock(&p->mu);

    if (delay && !nap(p, delay)) {
        after = AFTER_CLOSE;
        goto done;
    }
    switch (wk) {
    case GL_FAULT_HTTP_429: {
        char extra[64] = "";
        if (whole.retry_after_s)
            snprintf(extra, sizeof extra, "Retry-After: %u\r\n", whole.retry_after_s);
        json_t *e = error_answer(batch ? NULL : json_object_get(req, "id"), 429,
                                 "Too Many Requests: you have exceeded your request rate, please retry later");
        if (e)
            put_json(out, 429, extra, e);
        json_decref(e);
        goto done;
    }
    case GL_FAULT_HTTP_5XX: {
        int st = whole.http_status ? whole.http_status : 502;
        char page[512];
        int len = snprintf(page, sizeof page, HTML_5XX, st, reason(st), st, reason(st));
        put_reply(out, st, "text/html", NULL, page, (size_t)len, (size_t)len);
        goto done;
    }
    case GL_FAULT_RESET:
        after = whole.variant ? AFTER_CLOSE : AFTER_RESET;
        goto done;
    case GL_FAULT_BATCH_REFUSE: {
        json_t *e = error_answer(NULL, -32600, "batch too large: at most the configured number of calls per batch");
        if (e)
            put_json(out, whole.variant ? 200 : 413, NULL, e);
        json_decref(e);
        goto done;
    }
    case GL_FAULT_NONE:
    case GL_FAULT_TRUNCATED:
    case GL_FAULT_MALFORMED:
    case GL_FAULT_BATCH_MISSING_ID:
    case GL_FAULT_BATCH_DUP_ID:
    case GL_FAULT_BATCH_REORDER:
    case GL_FAULT_SLOW:
    case GL_FAULT_RANGE_INFURA:
    case GL_FAULT_RANGE_ALCHEMY:
    case GL_FAULT_RANGE_SPAN_413:
    case GL_FAULT_RANGE_SPAN:
    case GL_FAULT_RANGE_COUNT:
    case GL_FAULT_HEADER_NOT_FOUND:
    case GL_FAULT_CHAIN_ID:
    case GL_FAULT_RPC_ERROR:
    case GL_FAULT_LYING_FROM:
    case GL_FAULT_WRONG_HASH:
    case GL_FAULT_NO_TIMESTAMP:
    case GL_FAULT_WRONG_TX_FIELD:
    case GL_FAULT_LOGS_REFUSE:
    case GL_FAULT_RECEIPT_STATUS:
    case GL_FAULT__COUNT:
        break;
    }

    /* Forward what was not answered here. */
    fwd = json_array();
    if (!fwd)
        goto oom;
    for (size_t i = 0; i < n; i++)
        if (!pl[i].answer && json_array_append(fwd, calls[i]))
            goto oom;
    if (json_array_size(fwd) > 0) {
        json_t *send = batch ? fwd : json_array_get(fwd, 0);
        char *s = json_dumps(send, JSON_COMPACT);
        long st = 0;
        if (!s)
            goto oom;
        bool ok = up_post(u, s, strlen(s), &st);
        free(s);
        if (!ok) {
            put_reply(out, 502, "text/plain", NULL, "upstream unreachable", 20, 20);
            goto done;
        }
        ans = json_loadb(u->body.data ? (const char *)u->body.data : "", u->body.len, 0, NULL);
        if (!ans || (batch && !json_is_array(ans)) || (!batch && !json_is_object(ans))) {
            /* upstream answered something we cannot split: pass it on */
            put_reply(out, (int)st, "application/json", NULL, u->body.data ? (const char *)u->body.data : "",
                      u->body.len, u->body.len);
            goto done;
        }
        for (size_t i = 0; i < n; i++) {
            if (pl[i].answer)
                continue;
            json_t *id = json_object_get(calls[i], "id");
            if (!batch) {
                pl[i].answer = json_incref(ans);
                continue;
            }
            size_t j;
            json_t *a;
            json_array_foreach(ans, j, a) {
                if (id && json_equal(json_object_get(a, "id"), id)) {
                    pl[i].answer = json_incref(a);
                    break;
                }
            }
        }
    }
    for (size_t i = 0; i < n; i++)
        if (pl[i].answer && pl[i].check)
            apply_check(p, &pl[i]);

    /* Assemble. */
    int status = 200;
    if (batch) {
        reply = json_array();
        if (!reply)
            goto oom;
        for (size_t i = 0; i < n; i++)
            if (pl[i].answer && json_array_append(reply, pl[i].answer))
                goto oom;
        size_t m = json_array_size(reply);
        if (wk == GL_FAULT_BATCH_MISSING_ID && m > 0)
            json_array_remove(reply, m - 1);
        else if (wk == GL_FAULT_BATCH_DUP_ID && m >= 2) {
            json_t *last = json_deep_copy(json_array_get(reply, m - 1));
            if (!last || json_object_set(last, "id", json_object_get(json_array_get(reply, 0), "id")) ||
                json_array_set_new(reply, m - 1, last))
                goto oom;
        } else if (wk == GL_FAULT_BATCH_REORDER) {
            for (size_t i = 0; i < m / 2; i++) {
                json_t *a = json_incref(json_array_get(reply, i));
                json_array_set(reply, i, json_array_get(reply, m - 1 - i));
                json_array_set_new(reply, m - 1 - i, a);
            }
        }
    } else {
        reply = json_incref(pl[0].answer);
        status = pl[0].http_status;
        if (!reply)
            goto oom;
    }
    if (wk == GL_FAULT_MALFORMED && whole.variant == 1) {
        json_t *objs = batch ? reply : NULL;
        size_t m = batch ? json_array_size(reply) : 1;
        for (size_t i = 0; i < m; i++) {
            json_t *o = batch ? json_array_get(objs, i) : reply;
            json_t *r = json_object_get(o, "result");
            if (r) {
                json_object_set(o, "reslt", r);
                json_object_del(o, "result");
            }
        }
    }
    char *s = json_dumps(reply, JSON_COMPACT);
    if (!s)
        goto oom;
    size_t len = strlen(s);
    if (wk == GL_FAULT_TRUNCATED) {
        size_t half = len / 2;
        put_reply(out, status, "application/json", NULL, s, half, whole.variant ? len : half);
        if (whole.variant)
            after = AFTER_CLOSE;
    } else if (wk == GL_FAULT_MALFORMED && whole.variant == 0) {
        char *colon = strchr(s, ':');
        if (colon)
            *colon = '=';
        put_reply(out, status, "application/json", NULL, s, len, len);
    } else {
        put_reply(out, status, "application/json", NULL, s, len, len);
    }
    free(s);
    goto done;
oom:
    gl_buf_reset(out);
    put_reply(out, 500, "text/plain", NULL, "proxy out of memory", 19, 19);
done:
    for (size_t i = 0; pl && i < n; i++)
        json_decref(pl[i].answer);
    for (size_t i = 0; checks && i < n; i++) {
        free(checks[i].address);
        free(checks[i].field);
    }
    free(pl);
    free(checks);
    free(calls);
    free(methods);
    json_decref(fwd);
    json_decref(ans);
    json_decref(reply);
    json_decref(req);
    return after;
}

/* ------------------------------------------------------------------ */
/* Threads                                                              */

static void *worker_main(void *arg)
{
    worker *w = arg;
    gl_fproxy *p = w->p;
    up u;
    gl_buf in = GL_BUF_INIT, out = GL_BUF_INIT;
    bool ok = up_init(&u, p->upstream);
    while (ok) {
        char *head = NULL, *body = NULL;
        size_t blen = 0;
        if (!read_request(p, w->fd, &in, &head, &body, &blen))
            break;
        pthread_mutex_lock(&p->mu);
        if (++p->inflight > p->max_inflight)
            p->max_inflight = p->inflight;
        pthread_mutex_unlock(&p->mu);
        gl_buf_reset(&out);
        after_t after = handle(p, &u, head, body, blen, &out);
        const char *conn_hdr = find_header(head, "Connection");
        bool client_close = conn_hdr && !strncasecmp(conn_hdr, "close", 5);
        free(head);
        free(body);
        /* Done before the client can see the answer and send its next
         * request: max_inflight never counts one request twice. */
        pthread_mutex_lock(&p->mu);
        p->inflight--;
        pthread_mutex_unlock(&p->mu);
        bool sent = true;
        if (after == AFTER_RESET) {
            struct linger lg = {1, 0};
            setsockopt(w->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
        } else if (out.len) {
            sent = send_all(w->fd, out.data, out.len);
        }
        if (!sent || after != AFTER_KEEP || client_close)
            break;
    }
    up_release(&u);
    gl_buf_release(&in);
    gl_buf_release(&out);
    close(w->fd);
    atomic_store(&w->done, true);
    return NULL;
}

/* Join workers that have finished (acceptor thread, or after it). */
static void reap(gl_fproxy *p, bool all)
{
    worker **pp = &p->workers;
    while (*pp) {
        worker *w = *pp;
        if (all || atomic_load(&w->done)) {
            pthread_join(w->thread, NULL);
            *pp = w->next;
            free(w);
        } else {
            pp = &w->next;
        }
    }
}

static void *acceptor_main(void *arg)
{
    gl_fproxy *p = arg;
    while (wait_readable(p, p->listen_fd) == 1) {
        reap(p, false);
        int fd = accept4(p->listen_fd, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0)
            continue;
        worker *w = calloc(1, sizeof *w);
        if (!w) {
            close(fd);
            continue;
        }
        w->p = p;
        w->fd = fd;
        atomic_init(&w->done, false);
        if (pthread_create(&w->thread, NULL, worker_main, w)) {
            fprintf(stderr, "faultproxy: cannot start a connection thread\n");
            close(fd);
            free(w);
            continue;
        }
        w->next = p->workers;
        p->workers = w;
        pthread_mutex_lock(&p->mu);
        p->connections++;
        pthread_mutex_unlock(&p->mu);
    }
    return NULL;
}

/* ------------------------------------------------------------------ */
/* API                                                                  */

gl_fproxy *gl_fproxy_start(const char *upstream, uint64_t seed)
{
    /* gl_rpc_new runs curl_global_init once per process. */
    gl_err err;
    gl_rpc *probe = gl_rpc_new(upstream, &err);
    if (!probe) {
        fprintf(stderr, "gl_fproxy_start: %s\n", err.msg);
        return NULL;
    }
    gl_rpc_free(probe);
    gl_fproxy *p = calloc(1, sizeof *p);
    if (!p || !(p->upstream = strdup(upstream))) {
        fprintf(stderr, "gl_fproxy_start: out of memory\n");
        free(p);
        return NULL;
    }
    pthread_mutex_init(&p->mu, NULL);
    atomic_init(&p->stop, false);
    p->rng = seed;
    p->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t alen = sizeof a;
    if (p->listen_fd < 0 || bind(p->listen_fd, (struct sockaddr *)&a, sizeof a) || listen(p->listen_fd, 64) ||
        getsockname(p->listen_fd, (struct sockaddr *)&a, &alen)) {
        fprintf(stderr, "gl_fproxy_start: cannot listen on 127.0.0.1: %s\n", strerror(errno));
        goto fail;
    }
    p->port = ntohs(a.sin_port);
    snprintf(p->url, sizeof p->url, "http://127.0.0.1:%u", (unsigned)p->port);
    if (pthread_create(&p->acceptor, NULL, acceptor_main, p)) {
        fprintf(stderr, "gl_fproxy_start: cannot start a thread\n");
        goto fail;
    }
    return p;
fail:
    if (p->listen_fd >= 0)
        close(p->listen_fd);
    pthread_mutex_destroy(&p->mu);
    free(p->upstream);
    free(p);
    return NULL;
}

void gl_fproxy_stop(gl_fproxy *p)
{
    if (!p)
        return;
    atomic_store(&p->stop, true);
    pthread_join(p->acceptor, NULL);
    reap(p, true);
    close(p->listen_fd);
    for (size_t i = 0; i < p->nrules; i++)
        rule_free(&p->rules[i]);
    free(p->rules);
    for (size_t i = 0; i < p->nmethods; i++)
        free(p->methods[i].method);
    free(p->methods);
    free(p->lies);
    free(p->upstream);
    pthread_mutex_destroy(&p->mu);
    free(p);
}

const char *gl_fproxy_url(const gl_fproxy *p) { return p->url; }

uint16_t gl_fproxy_port(const gl_fproxy *p) { return p->port; }

static char *dup_or_null(const char *s, bool *ok)
{
    if (!s)
        return NULL;
    char *d = strdup(s);
    if (!d)
        *ok = false;
    return d;
}

bool gl_fproxy_set_rules(gl_fproxy *p, const gl_fault_rule *rules, size_t n)
{
    rule_state *v = n ? calloc(n, sizeof *v) : NULL;
    if (n && !v)
        return false;
    bool ok = true;
    for (size_t i = 0; i < n; i++) {
        v[i].r = rules[i];
        v[i].method = dup_or_null(rules[i].method, &ok);
        v[i].message = dup_or_null(rules[i].message, &ok);
        v[i].address = dup_or_null(rules[i].address, &ok);
        v[i].field = dup_or_null(rules[i].field, &ok);
        v[i].r.method = v[i].method;
        v[i].r.message = v[i].message;
        v[i].r.address = v[i].address;
        v[i].r.field = v[i].field;
    }
    if (!ok) {
        for (size_t i = 0; i < n; i++)
            rule_free(&v[i]);
        free(v);
        return false;
    }
    pthread_mutex_lock(&p->mu);
    rule_state *old = p->rules;
    size_t nold = p->nrules;
    p->rules = v;
    p->nrules = n;
    pthread_mutex_unlock(&p->mu);
    for (size_t i = 0; i < nold; i++)
        rule_free(&old[i]);
    free(old);
    return true;
}

void gl_fproxy_reset_counters(gl_fproxy *p)
{
    pthread_mutex_lock(&p->mu);
    p->requests = p->max_inflight = p->max_batch = p->connections = 0;
    memset(p->injected, 0, sizeof p->injected);
    for (size_t i = 0; i < p->nmethods; i++)
        p->methods[i].n = 0;
    for (size_t i = 0; i < p->nrules; i++)
        p->rules[i].hits = p->rules[i].seen = 0;
    p->has_sugg = false;
    p->nlies = 0;
    pthread_mutex_unlock(&p->mu);
}

/* The accessors lock a mutex inside a const object: the mutex is not part
 * of the observable state. */
static gl_fproxy *unconst(const gl_fproxy *p) { return (gl_fproxy *)(uintptr_t)p; }

unsigned gl_fproxy_requests(const gl_fproxy *cp)
{
    gl_fproxy *p = unconst(cp);
    pthread_mutex_lock(&p->mu);
    unsigned n = p->requests;
    pthread_mutex_unlock(&p->mu);
    return n;
}

unsigned gl_fproxy_calls(const gl_fproxy *cp, const char *method)
{
    gl_fproxy *p = unconst(cp);
    unsigned n = 0;
    pthread_mutex_lock(&p->mu);
    for (size_t i = 0; i < p->nmethods; i++)
        if (!method || !strcmp(p->methods[i].method, method))
            n += p->methods[i].n;
    pthread_mutex_unlock(&p->mu);
    return n;
}

unsigned gl_fproxy_injected(const gl_fproxy *cp, gl_fault kind)
{
    gl_fproxy *p = unconst(cp);
    unsigned n = 0;
    pthread_mutex_lock(&p->mu);
    for (unsigned k = 1; k < GL_FAULT__COUNT; k++)
        if (kind == GL_FAULT_NONE || (unsigned)kind == k)
            n += p->injected[k];
    pthread_mutex_unlock(&p->mu);
    return n;
}

unsigned gl_fproxy_rule_hits(const gl_fproxy *cp, size_t rule)
{
    gl_fproxy *p = unconst(cp);
    pthread_mutex_lock(&p->mu);
    unsigned n = rule < p->nrules ? p->rules[rule].hits : 0;
    pthread_mutex_unlock(&p->mu);
    return n;
}

unsigned gl_fproxy_connections(const gl_fproxy *cp)
{
    gl_fproxy *p = unconst(cp);
    pthread_mutex_lock(&p->mu);
    unsigned n = p->connections;
    pthread_mutex_unlock(&p->mu);
    return n;
}

unsigned gl_fproxy_max_inflight(const gl_fproxy *cp)
{
    gl_fproxy *p = unconst(cp);
    pthread_mutex_lock(&p->mu);
    unsigned n = p->max_inflight;
    pthread_mutex_unlock(&p->mu);
    return n;
}

unsigned gl_fproxy_max_batch(const gl_fproxy *cp)
{
    gl_fproxy *p = unconst(cp);
    pthread_mutex_lock(&p->mu);
    unsigned n = p->max_batch;
    pthread_mutex_unlock(&p->mu);
    return n;
}

bool gl_fproxy_last_suggestion(const gl_fproxy *cp, uint64_t *from, uint64_t *to)
{
    gl_fproxy *p = unconst(cp);
    pthread_mutex_lock(&p->mu);
    bool has = p->has_sugg;
    if (has) {
        *from = p->sugg_from;
        *to = p->sugg_to;
    }
    pthread_mutex_unlock(&p->mu);
    return has;
}

size_t gl_fproxy_lies(const gl_fproxy *cp, gl_fproxy_lie *out, size_t cap)
{
    gl_fproxy *p = unconst(cp);
    pthread_mutex_lock(&p->mu);
    size_t n = p->nlies;
    for (size_t i = 0; i < n && i < cap; i++)
        out[i] = p->lies[i];
    pthread_mutex_unlock(&p->mu);
    return n;
}
