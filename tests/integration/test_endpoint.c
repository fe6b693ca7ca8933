/* test_endpoint.c - the endpoint pool against a real node behind the
 * fault-injecting proxy (tests/support/faultproxy.h).
 *
 * Oracles: anvil itself, asked directly (gl_rpc, no proxy) for the same
 * data: every call that survives a transient fault must equal that answer.
 * The chain is built here: a contract whose code is written out by hand
 * below emits exactly 3 logs per call, so the number of logs in any block
 * range is known independently of the code under test; a suggested range
 * is checked against direct eth_getLogs counts (it must hold <= cap logs,
 * and one block more must hold more).  Waits are measured with the
 * monotonic clock against the Retry-After the proxy sent.  Secrets are
 * strings put into the endpoint URLs here; they must never appear in any
 * error message or log line.
 *
 * Seeded: every jitter RNG and the proxy's RNG take SEED (printed).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "gpuledger/bytes.h"
#include "gpuledger/endpoint.h"
#include "gpuledger/rpc.h"

#include "../support/anvil.h"
#include "../support/faultproxy.h"
#include "../support/testutil.h"

#define TEST_CHAIN_ID 4242421ULL
#define SEED 0x5eed1234abcdULL
#define SECRET1 "SECRETKEY123"
#define SECRET2 "OTHERSECRET4567"
#define N_TX 40
#define LOGS_PER_TX 3

/* Runtime: three times PUSH1 topic, PUSH1 0, PUSH1 0, LOG1 (topics 1, 2,
 * 3), then STOP: 22 bytes.  Init code: CODECOPY(0, 12, 22), RETURN(0, 22). */
#define EMITTER_INITCODE "0x6016600c60003960166000f3" \
                         "600160006000a1600260006000a1600360006000a100"

typedef struct fixture {
    gl_anvil *node;
    gl_rpc *direct;
    gl_fproxy *p1, *p2;
    char url1[160], url2[160];
    char emitter[43];
    uint64_t head;
    json_t *txs;              /* hashes of the emitter calls */
    gl_buf logs;              /* every log line of the current test */
    unsigned nlog;
} fixture;

/* ------------------------------------------------------------------ */
/* Helpers                                                              */

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static json_t *direct(fixture *f, const char *method, json_t *params)
{
    json_t *res = NULL;
    gl_err err;
    if (gl_rpc_call(f->direct, method, params, &res, &err))
        fail_msg("direct %s: %s", method, err.msg);
    return res;
}

static uint64_t hexq(json_t *v)
{
    const char *s = json_string_value(v);
    assert_non_null(s);
    assert_memory_equal(s, "0x", 2);
    return strtoull(s + 2, NULL, 16);
}

static void capture(void *ctx, int level, const char *msg)
{
    fixture *f = ctx;
    char line[1200];
    int n = snprintf(line, sizeof line, "[%d] %s\n", level, msg);
    if (n > 0)
        gl_buf_append(&f->logs, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1, NULL);
    f->nlog++;
}

static bool logs_contain(const fixture *f, const char *needle)
{
    return f->logs.len && memmem(f->logs.data, f->logs.len, needle, strlen(needle)) != NULL;
}

static void assert_no_secret(const char *text)
{
    if (strstr(text, SECRET1) || strstr(text, SECRET2))
        fail_msg("a URL secret leaked into: %s", text);
}

static gl_endpoint_opts base_opts(fixture *f)
{
    gl_endpoint_opts o;
    memset(&o, 0, sizeof o);
    o.max_concurrency = 2;
    o.max_batch = 10;
    o.connect_timeout_ms = 2000;
    o.timeout_ms = 5000;
    o.max_attempts = 8;
    o.backoff_base_ms = 5;
    o.backoff_cap_ms = 100;
    o.seed = SEED;
    o.log = capture;
    o.log_ctx = f;
    return o;
}

/* Open a pool over up to three URLs (NULL ends the list). */
static gl_endpoints *open_eps(gl_endpoint_opts *o, const char *a, const char *b, const char *c)
{
    const char *urls[3] = {a, b, c};
    o->urls = urls;
    o->nurls = c ? 3 : b ? 2 : 1;
    gl_err err;
    gl_endpoints *e = gl_endpoints_new(o, &err);
    if (!e)
        fail_msg("gl_endpoints_new: %s", err.msg);
    o->urls = NULL;
    return e;
}

static void set_rules(gl_fproxy *p, const gl_fault_rule *r, size_t n)
{
    assert_true(gl_fproxy_set_rules(p, r, n));
}

static json_t *block_params(uint64_t n, bool full)
{
    char hex[24];
    snprintf(hex, sizeof hex, "0x%llx", (unsigned long long)n);
    return json_pack("[sb]", hex, full);
}

static json_t *logs_params(fixture *f, uint64_t from, uint64_t to)
{
    char a[24], b[24];
    snprintf(a, sizeof a, "0x%llx", (unsigned long long)from);
    snprintf(b, sizeof b, "0x%llx", (unsigned long long)to);
    return json_pack("[{s:s,s:s,s:s}]", "fromBlock", a, "toBlock", b, "address", f->emitter);
}

static size_t direct_log_count(fixture *f, uint64_t from, uint64_t to)
{
    json_t *r = direct(f, "eth_getLogs", logs_params(f, from, to));
    size_t n = json_array_size(r);
    json_decref(r);
    return n;
}

/* gl_endpoints_call that must succeed; the result. */
static json_t *call_ok(gl_endpoints *e, const char *method, json_t *params, gl_call_info *info)
{
    json_t *res = NULL;
    gl_err err;
    gl_code rc = gl_endpoints_call(e, method, params, &res, info, &err);
    if (rc)
        fail_msg("%s: %s", method, err.msg);
    assert_no_secret(err.msg);
    return res;
}

/* The call answers the same as anvil asked directly. */
static void expect_same(gl_endpoints *e, fixture *f, const char *method, json_t *params, gl_call_info *info)
{
    json_t *want = direct(f, method, json_deep_copy(params));
    json_t *got = call_ok(e, method, params, info);
    if (!json_equal(want, got)) {
        char *a = json_dumps(want, JSON_COMPACT), *b = json_dumps(got, JSON_COMPACT);
        fail_msg("%s: answer differs from the node's\n want %.300s\n got  %.300s", method, a, b);
    }
    json_decref(want);
    json_decref(got);
}

/* ------------------------------------------------------------------ */
/* Setup                                                                */

/* The receipt of transaction `hash` once it is mined (polls up to 5 s);
 * NULL on failure. */
static json_t *wait_receipt(gl_rpc *rpc, json_t *hash)
{
    json_t *rcpt = NULL;
    gl_err err;
    for (int i = 0; i < 500; i++) {
        if (gl_rpc_call(rpc, "eth_getTransactionReceipt", json_pack("[O]", hash), &rcpt, &err)) {
            fprintf(stderr, "eth_getTransactionReceipt: %s\n", err.msg);
            return NULL;
        }
        if (!json_is_null(rcpt))
            return rcpt;
        json_decref(rcpt);
        rcpt = NULL;
        nanosleep(&(struct timespec){.tv_nsec = 10000000}, NULL);
    }
    fprintf(stderr, "transaction not mined after 5 s\n");
    return NULL;
}

static int group_setup(void **state)
{
    static fixture f;
    gl_err err;
    printf("seed %#llx\n", (unsigned long long)SEED);
    gl_anvil_opts o = {.chain_id = TEST_CHAIN_ID};
    if (gl_anvil_start(&o, &f.node, &err)) {
        fprintf(stderr, "cannot start anvil: %s\n", err.msg);
        return -1;
    }
    f.direct = gl_rpc_new(gl_anvil_url(f.node), &err);
    if (!f.direct) {
        fprintf(stderr, "gl_rpc_new: %s\n", err.msg);
        return -1;
    }
    /* The emitter, then N_TX calls of it with empty blocks between. */
    const char *from = gl_anvil_dev_address(0);
    json_t *r = NULL;
    if (gl_rpc_call(f.direct, "eth_sendTransaction",
                    json_pack("[{s:s,s:s,s:s}]", "from", from, "data", EMITTER_INITCODE, "gas", "0x30000"), &r,
                    &err)) {
        fprintf(stderr, "deploy: %s\n", err.msg);
        return -1;
    }
    json_t *rcpt = wait_receipt(f.direct, r);
    json_decref(r);
    const char *addr = json_string_value(json_object_get(rcpt, "contractAddress"));
    if (!addr || strlen(addr) != 42) {
        fprintf(stderr, "deploy: no contract address\n");
        return -1;
    }
    memcpy(f.emitter, addr, 43);
    json_decref(rcpt);
    f.txs = json_array();
    for (int i = 0; i < N_TX; i++) {
        json_t *h = NULL;
        if (gl_rpc_call(f.direct, "eth_sendTransaction",
                        json_pack("[{s:s,s:s,s:s}]", "from", gl_anvil_dev_address(i % 3), "to", f.emitter, "gas",
                                  "0x20000"),
                        &h, &err)) {
            fprintf(stderr, "call: %s\n", err.msg);
            return -1;
        }
        json_array_append_new(f.txs, h);
        /* mined before the next block is forced (anvil may answer first) */
        json_decref(wait_receipt(f.direct, h));
        if (i % 5 == 4)
            for (int k = 0; k < 2; k++) {
                json_t *m = NULL;
                if (gl_rpc_call(f.direct, "evm_mine", NULL, &m, &err))
                    return -1;
                json_decref(m);
            }
    }
    json_t *bn = NULL;
    if (gl_rpc_call(f.direct, "eth_blockNumber", NULL, &bn, &err))
        return -1;
    f.head = strtoull(json_string_value(bn) + 2, NULL, 16);
    json_decref(bn);

    f.p1 = gl_fproxy_start(gl_anvil_url(f.node), SEED);
    f.p2 = gl_fproxy_start(gl_anvil_url(f.node), SEED + 1);
    if (!f.p1 || !f.p2)
        return -1;
    snprintf(f.url1, sizeof f.url1, "%s/v3/%s", gl_fproxy_url(f.p1), SECRET1);
    snprintf(f.url2, sizeof f.url2, "%s/rpc?apikey=%s", gl_fproxy_url(f.p2), SECRET2);
    gl_buf_init(&f.logs);
    *state = &f;
    return 0;
}

static int group_teardown(void **state)
{
    fixture *f = *state;
    if (!f)
        return 0;
    gl_fproxy_stop(f->p1);
    gl_fproxy_stop(f->p2);
    gl_rpc_free(f->direct);
    gl_anvil_stop(f->node);
    json_decref(f->txs);
    gl_buf_release(&f->logs);
    return 0;
}

/* Before each test: no rules, counters zero, no log lines. */
static int test_setup(void **state)
{
    fixture *f = *state;
    gl_fproxy_set_rules(f->p1, NULL, 0);
    gl_fproxy_set_rules(f->p2, NULL, 0);
    gl_fproxy_reset_counters(f->p1);
    gl_fproxy_reset_counters(f->p2);
    gl_buf_reset(&f->logs);
    f->nlog = 0;
    return 0;
}

/* After each: no log line carried a secret.  GPULEDGER_TEST_VERBOSE=1
 * shows them. */
static int test_teardown(void **state)
{
    fixture *f = *state;
    const char *v = getenv("GPULEDGER_TEST_VERBOSE");
    if (v && *v == '1' && f->logs.len)
        fprintf(stderr, "%.*s", (int)f->logs.len, (const char *)f->logs.data);
    if (f->logs.len) {
        char *text = strndup((const char *)f->logs.data, f->logs.len);
        if (text && (strstr(text, SECRET1) || strstr(text, SECRET2))) {
            fprintf(stderr, "secret in log lines:\n%s\n", text);
            free(text);
            return -1;
        }
        free(text);
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* The chain itself (the oracle's oracle)                               */

static void test_chain_as_built(void **state)
{
    fixture *f = *state;
    assert_int_equal(direct_log_count(f, 0, f->head), N_TX * LOGS_PER_TX);
    assert_int_equal(f->head, 1 + N_TX + 2 * (N_TX / 5));
}

/* ------------------------------------------------------------------ */
/* Clean runs                                                           */

static void test_clean_calls(void **state)
{
    fixture *f = *state;
    gl_endpoint_opts o = base_opts(f);
    gl_endpoints *e = open_eps(&o, f->url1, NULL, NULL);
    gl_call_info info;
    expect_same(e, f, "eth_blockNumber", NULL, &info);
    assert_int_equal(info.attempts, 1);
    assert_int_equal(info.endpoint, 0);
    expect_same(e, f, "eth_getBlockByNumber", block_params(5, true), NULL);
    expect_same(e, f, "eth_getLogs", logs_params(f, 0, f->head), NULL);
    expect_same(e, f, "eth_getTransactionReceipt", json_pack("[O]", json_array_get(f->txs, 7)), NULL);
    /* null is an answer, not a failure */
    json_t *none = call_ok(e, "eth_getBlockByNumber", block_params(f->head + 1000, false), NULL);
    assert_true(json_is_null(none));
    assert_int_equal(gl_fproxy_calls(f->p1, "eth_getLogs"), 1);
    assert_int_equal(gl_fproxy_connections(f->p1), 1); /* kept alive */
    gl_endpoint_stats st;
    gl_endpoints_stats(e, &st);
    assert_int_equal(st.requests, 5);
    assert_int_equal(st.calls, 5);
    assert_int_equal(st.retries, 0);
    gl_endpoints_free(e);
}

/* 3 * 2 + ... calls spread over connections and batches. */
static void many_calls(fixture *f, size_t n, const char **methods, json_t **params)
{
    size_t nb = f->head + 1;
    for (size_t i = 0; i < n; i++) {
        if (i < nb) {
            methods[i] = "eth_getBlockByNumber";
            params[i] = block_params(i, (i % 2) == 0);
        } else {
            methods[i] = "eth_getTransactionByHash";
            params[i] = json_pack("[O]", json_array_get(f->txs, (i - nb) % N_TX));
        }
    }
}

static void expect_many_same(fixture *f, size_t n, const char **methods, json_t **params, json_t **results)
{
    for (size_t i = 0; i < n; i++) {
        json_t *want = direct(f, methods[i], json_deep_copy(params[i]));
        if (!json_equal(want, results[i]))
            fail_msg("call %zu (%s) differs from the node's answer", i, methods[i]);
        json_decref(want);
    }
}

static void free_many(size_t n, json_t **params, json_t **results)
{
    for (size_t i = 0; i < n; i++) {
        json_decref(params[i]);
        if (results)
            json_decref(results[i]);
    }
}

static void test_batches_and_concurrency(void **state)
{
    fixture *f = *state;
    enum { N = 80 };
    const char *methods[N];
    json_t *params[N], *results[N];
    many_calls(f, N, methods, params);
    /* Every request is held 100 ms, so the three connections must overlap. */
    gl_fault_rule slow = {.kind = GL_FAULT_SLOW, .delay_ms = 100};
    set_rules(f->p1, &slow, 1);
    gl_endpoint_opts o = base_opts(f);
    o.max_concurrency = 3;
    o.max_batch = 8;
    gl_endpoints *e = open_eps(&o, f->url1, NULL, NULL);
    gl_err err;
    if (gl_endpoints_call_many(e, N, methods, params, results, &err))
        fail_msg("call_many: %s", err.msg);
    expect_many_same(f, N, methods, params, results);
    assert_int_equal(gl_fproxy_max_batch(f->p1), 8);
    /* at least N / 8; the last calls may be spread over free connections */
    assert_in_range(gl_fproxy_requests(f->p1), N / 8, N / 8 + 3);
    assert_int_equal(gl_fproxy_max_inflight(f->p1), 3);
    assert_int_equal(gl_fproxy_connections(f->p1), 3);
    assert_int_equal(gl_fproxy_calls(f->p1, NULL), N);
    free_many(N, params, results);
    gl_endpoints_free(e);
}

static void test_batch_answer_reordered(void **state)
{
    fixture *f = *state;
    enum { N = 12 };
    const char *methods[N];
    json_t *params[N], *results[N];
    many_calls(f, N, methods, params);
    gl_fault_rule r = {.kind = GL_FAULT_BATCH_REORDER};
    set_rules(f->p1, &r, 1);
    gl_endpoint_opts o = base_opts(f);
    o.max_concurrency = 1;
    o.max_batch = 12;
    gl_endpoints *e = open_eps(&o, f->url1, NULL, NULL);
    gl_err err;
    if (gl_endpoints_call_many(e, N, methods, params, results, &err))
        fail_msg("call_many: %s", err.msg);
    expect_many_same(f, N, methods, params, results);
    assert_int_equal(gl_fproxy_injected(f->p1, GL_FAULT_BATCH_REORDER), 1);
    gl_endpoint_stats st;
    gl_endpoints_stats(e, &st);
    assert_int_equal(st.retries, 0);
    free_many(N, params, results);
    gl_endpoints_free(e);
}

/* ------------------------------------------------------------------ */
/* Transient faults: the call ends with the node's answer               */

static void test_rate_limit_honours_retry_after(void **state)
{
    fixture *f = *state;
    gl_fault_rule r = {.kind = GL_FAULT_HTTP_429, .first_n = 1, .retry_after_s = 1};
    set_rules(f->p1, &r, 1);
    gl_endpoint_opts o = base_opts(f);
    gl_endpoints *e = open_eps(&o, f->url1, NULL, NULL);
    gl_call_info info;
    uint64_t t0 = mono_ms();
    expect_same(e, f, "eth_getBlockByNumber", block_params(3, false), &info);
    uint64_t waited = mono_ms() - t0;
    assert_true(waited >= 1000);
    assert_true(waited < 5000);
    assert_int_equal(info.attempts, 2);
    assert_int_equal(gl_fproxy_injected(f->p1, GL_FAULT_HTTP_429), 1);
    gl_endpoint_stats st;
    gl_endpoints_stats(e, &st);
    assert_int_equal(st.rate_limited, 1);
    assert_true(logs_contain(f, "rate limited"));
    assert_true(logs_contain(f, "concurrency 2 -> 1"));
    gl_endpoints_free(e);
}

static void test_5xx(void **state)
{
    fixture *f = *state;
    gl_fault_rule r[] = {
        {.kind = GL_FAULT_HTTP_5XX, .http_status = 500, .first_n = 1},
        {.kind = GL_FAULT_HTTP_5XX, .http_status = 502, .skip = 1, .first_n = 1},
        {.kind = GL_FAULT_HTTP_5XX, .http_status = 503, .skip = 2, .first_n = 1},
    };
    set_rules(f->p1, r, 3);
    gl_endpoint_opts o = base_opts(f);
    gl_endpoints *e = open_eps(&o, f->url1, NULL, NULL);
    gl_call_info info;
    expect_same(e, f, "eth_getTransactionByHash", json_pack("[O]", json_array_get(f->txs, 3)), &info);
    assert_int_equal(info.attempts, 4);
    assert_int_equal(gl_fproxy_injected(f->p1, GL_FAULT_HTTP_5XX), 3);
    assert_true(logs_contain(f, "HTTP status 502"));
    gl_endpoints_free(e);
}

static void test_connection_reset(void **state)
{
    fixture *f = *state;
    for (int variant = 0; variant < 2; variant++) {
        gl_fault_rule r = {.kind = GL_FAULT_RESET, .first_n = 2, .variant = variant};
        set_rules(f->p1, &r, 1);
        gl_endpoint_opts o = base_opts(f);
        gl_endpoints *e = open_eps(&o, f->url1, NULL, NULL);
        expect_same(e, f, "eth_getBlockByNumber", block_params(9, true), NULL);
        assert_int_equal(gl_fproxy_injected(f->p1, GL_FAULT_RESET), 2 * (variant + 1));
        gl_endpoints_free(e);
    }
}

static void test_slow_answer_times_out(void **state)
{
    fixture *f = *state;
    gl_fault_rule r = {.kind = GL_FAULT_SLOW, .first_n = 1, .delay_ms = 1500};
    set_rules(f->p1, &r, 1);
    gl_endpoint_opts o = base_opts(f);
    o.timeout_ms = 300;
    gl_endpoints *e = open_eps(&o, f->url1, NULL, NULL);
    gl_call_info info;
    uint64_t t0 = mono_ms();
    expect_same(e, f, "eth_getBlockByNumber", block_params(4, false), &info);
    uint64_t took = mono_ms() - t0;
    assert_true(took >= 300);
    assert_true(took < 1500); /* it did not wait for the slow answer */
    assert_int_equal(info.attempts, 2);
    assert_true(logs_contain(f, "imed out")); /* curl: "Operation timed out" */
    gl_endpoints_free(e);
}

static void test_truncated_and_malformed(void **state)
{
    fixture *f = *state;
    const gl_fault kinds[] = {GL_FAULT_TRUNCATED, GL_FAULT_MALFORMED};
    for (size_t k = 0; k < 2; k++)
        for (int variant = 0; variant < 2; variant++) {
            gl_fault_rule r = {.kind = kinds[k], .first_n = 1, .variant = variant};
            set_rules(f->p1, &r, 1);
            gl_fproxy_reset_counters(f->p1);
            gl_endpoint_opts o = base_opts(f);
            gl_endpoints *e = open_eps(&o, f->url1, NULL, NULL);
            gl_call_info info;
            expect_same(e, f, "eth_getBlockByNumber", block_params(6, true), &info);
            assert_int_equal(info.attempts, 2);
            assert_int_equal(gl_fproxy_injected(f->p1, kinds[k]), 1);
            gl_endpoints_free(e);
        }
    assert_true(logs_contain(f, "not JSON"));
    assert_true(logs_contain(f, "neither result nor error"));
}

static void test_batch_missing_and_repeated_ids(void **state)
{
    fixture *f = *state;
    enum { N = 10 };
    const gl_fault kinds[] = {GL_FAULT_BATCH_MISSING_ID, GL_FAULT_BATCH_DUP_ID};
    const char *needles[] = {"has none for id", "holds id"};
    for (size_t k = 0; k < 2; k++) {
        const char *methods[N];
        json_t *params[N], *results[N];
        many_calls(f, N, methods, params);
        gl_fault_rule r = {.kind = kinds[k], .first_n = 1};
        set_rules(f->p1, &r, 1);
        gl_endpoint_opts o = base_opts(f);
        o.max_concurrency = 1;
        o.max_batch = N;
        gl_endpoints *e = open_eps(&o, f->url1, NULL, NULL);
        gl_err err;
        if (gl_endpoints_call_many(e, N, methods, params, results, &err))
            fail_msg("call_many: %s", err.msg);
        expect_many_same(f, N, methods, params, results);
        gl_endpoint_stats st;
        gl_endpoints_stats(e, &st);
        /* missing: the last call again; repeated: the first and the last */
        assert_int_equal(st.retries, k == 0 ? 1 : 2);
        assert_true(logs_contain(f, needles[k]));
        free_many(N, params, results);
        gl_endpoints_free(e);
    }
}

static void test_batch_refused_then_smaller(void **state)
{
    fixture *f = *state;
    enum { N = 20 };
    for (int variant = 0; variant < 2; variant++) {
        const char *methods[N];
        json_t *params[N], *results[N];
        many_calls(f, N, methods, params);
        gl_fault_rule r = {.kind = GL_FAULT_BATCH_REFUSE, .cap = 4, .variant = variant};
        set_rules(f->p1, &r, 1);
        gl_fproxy_reset_counters(f->p1);
        gl_endpoint_opts o = base_opts(f);
        o.max_concurrency = 1;
        o.max_batch = 16;
        o.max_attempts = 1; /* a refused batch must cost no attempt */
        gl_endpoints *e = open_eps(&o, f->url1, NULL, NULL);
        gl_err err;
        if (gl_endpoints_call_many(e, N, methods, params, results, &err))
            fail_msg("call_many: %s", err.msg);
        expect_many_same(f, N, methods, params, results);
        gl_endpoint_stats st;
        gl_endpoints_stats(e, &st);
        assert_true(st.batch_refusals >= 1);
        assert_int_equal(st.retries, 0);
        /* It remembers: a second run is sent in batches of at most 4. */
        gl_fproxy_reset_counters(f->p1);
        json_t *again[N];
        if (gl_endpoints_call_many(e, N, methods, params, again, &err))
            fail_msg("call_many: %s", err.msg);
        assert_true(gl_fproxy_max_batch(f->p1) <= 4);
        assert_int_equal(gl_fproxy_injected(f->p1, GL_FAULT_BATCH_REFUSE), 0);
        free_many(N, params, results);
        free_many(N, again, NULL);
        gl_endpoints_free(e);
    }
    assert_true(logs_contain(f, "refused a batch"));
}

static void test_header_not_found_lagging(void **state)
{
    fixture *f = *state;
    gl_fault_rule r = {.kind = GL_FAULT_HEADER_NOT_FOUND, .method = "eth_getBlockByNumber"};
    set_rules(f->p1, &r, 1);
    /* One endpoint: the retry after the back-off finds the block. */
    gl_endpoint_opts o = base_opts(f);
    gl_endpoints *e = open_eps(&o, f->url1, NULL, NULL);
    gl_call_info info;
    expect_same(e, f, "eth_getBlockByNumber", block_params(11, false), &info);
    assert_int_equal(info.attempts, 2);
    assert_int_equal(info.endpoint, 0);
    gl_endpoints_free(e);
    /* Two: the next endpoint answers, the lagging one is not blamed. */
    o = base_opts(f);
    e = open_eps(&o, f->url1, f->url2, NULL);
    expect_same(e, f, "eth_getBlockByNumber", block_params(12, false), &info);
    assert_int_equal(info.attempts, 2);
    assert_int_equal(info.endpoint, 1);
    gl_endpoint_stats st;
    gl_endpoints_stats(e, &st);
    assert_int_equal(st.failovers, 1);
    assert_int_equal(st.benched, 0);
    assert_int_equal(gl_fproxy_injected(f->p1, GL_FAULT_HEADER_NOT_FOUND), 2);
    assert_true(logs_contain(f, "header not found"));
    gl_endpoints_free(e);
}

static void test_failover_and_bench(void **state)
{
    fixture *f = *state;
    gl_fault_rule r = {.kind = GL_FAULT_HTTP_5XX, .http_status = 503};
    set_rules(f->p1, &r, 1);
    gl_endpoint_opts o = base_opts(f);
    o.backoff_base_ms = 200; /* bench: 8 x 200 ms, longer than this test's calls */
    o.backoff_cap_ms = 5000;
    gl_endpoints *e = open_eps(&o, f->url1, f->url2, NULL);
    for (uint64_t b = 1; b <= 10; b++) {
        gl_call_info info;
        expect_same(e, f, "eth_getBlockByNumber", block_params(b, false), &info);
        assert_int_equal(info.endpoint, 1);
    }
    /* The first GL_ENDPOINT_BENCH_AFTER calls tried it, then it was benched. */
    assert_int_equal(gl_fproxy_requests(f->p1), GL_ENDPOINT_BENCH_AFTER);
    assert_int_equal(gl_fproxy_requests(f->p2), 10);
    gl_endpoint_stats st;
    gl_endpoints_stats(e, &st);
    assert_int_equal(st.benched, 1);
    assert_int_equal(st.failovers, GL_ENDPOINT_BENCH_AFTER);
    assert_true(logs_contain(f, "benched"));
    gl_endpoints_free(e);
}

/* ------------------------------------------------------------------ */
/* Failures that end the call                                           */

static void test_attempts_exhausted(void **state)
{
    fixture *f = *state;
    gl_fault_rule r = {.kind = GL_FAULT_HTTP_5XX, .http_status = 503};
    set_rules(f->p1, &r, 1);
    gl_endpoint_opts o = base_opts(f);
    o.max_attempts = 4;
    gl_endpoints *e = open_eps(&o, f->url1, NULL, NULL);
    json_t *res = (json_t *)1;
    gl_call_info info;
    gl_err err;
    assert_int_equal(gl_endpoints_call(e, "eth_blockNumber", NULL, &res, &info, &err), GL_ERPC);
    assert_null(res);
    assert_int_equal(info.attempts, 4);
    assert_int_equal(info.cls, GL_RPC_ERR_TRANSIENT);
    assert_int_equal(gl_fproxy_requests(f->p1), 4);
    assert_non_null(strstr(err.msg, "HTTP status 503"));
    assert_non_null(strstr(err.msg, "/v3/***"));
    assert_no_secret(err.msg);
    gl_endpoints_free(e);
}

/* A stop hook that turns true once its deadline (monotonic ms) passes. */
typedef struct stop_at {
    uint64_t at_ms;
    unsigned asked;
} stop_at;

static bool stop_after(void *ctx)
{
    stop_at *s = ctx;
    s->asked++;
    return mono_ms() >= s->at_ms;
}

/* An interrupt does not wait out the retries: with 30 attempts and back-off
 * up to 5 s against an endpoint that always fails, the call ends within a
 * second or so of the stop hook turning true, failed GL_ECANCELED, and a
 * call made after that fails at once without a request. */
static void test_stop_hook_cuts_retries_short(void **state)
{
    fixture *f = *state;
    gl_fault_rule r = {.kind = GL_FAULT_HTTP_5XX, .http_status = 503};
    set_rules(f->p1, &r, 1);
    gl_endpoint_opts o = base_opts(f);
    o.max_attempts = 30;
    o.backoff_base_ms = 1000;
    o.backoff_cap_ms = 5000;
    stop_at st = {mono_ms() + 600, 0};
    o.stop = stop_after;
    o.stop_ctx = &st;
    gl_endpoints *e = open_eps(&o, f->url1, NULL, NULL);
    json_t *res = (json_t *)1;
    gl_call_info info;
    gl_err err;
    uint64_t t0 = mono_ms();
    assert_int_equal(gl_endpoints_call(e, "eth_blockNumber", NULL, &res, &info, &err), GL_ECANCELED);
    uint64_t took = mono_ms() - t0;
    assert_null(res);
    assert_true(took >= 500 && took < 2500);
    assert_true(st.asked >= 1);
    assert_true(gl_fproxy_requests(f->p1) < 30);
    assert_non_null(strstr(err.msg, "eth_blockNumber: stopped on request"));
    unsigned before = gl_fproxy_requests(f->p1);
    assert_int_equal(gl_endpoints_call(e, "eth_chainId", NULL, &res, &info, &err), GL_ECANCELED);
    assert_int_equal(gl_fproxy_requests(f->p1), before);
    gl_endpoints_free(e);
}

static void test_fatal_stops_at_once(void **state)
{
    fixture *f = *state;
    gl_fault_rule r = {.kind = GL_FAULT_RPC_ERROR, .method = "eth_getBlockByNumber", .rpc_code = -32601,
                       .message = "the method eth_getBlockByNumber does not exist/is not available"};
    set_rules(f->p1, &r, 1);
    gl_endpoint_opts o = base_opts(f);
    gl_endpoints *e = open_eps(&o, f->url1, f->url2, NULL);
    json_t *res;
    gl_call_info info;
    gl_err err;
    assert_int_equal(gl_endpoints_call(e, "eth_getBlockByNumber", block_params(2, false), &res, &info, &err),
                     GL_ERPC);
    assert_int_equal(info.cls, GL_RPC_ERR_FATAL);
    assert_int_equal(info.attempts, 1);
    assert_int_equal(gl_fproxy_calls(f->p1, NULL), 1);
    assert_int_equal(gl_fproxy_calls(f->p2, NULL), 0);
    assert_non_null(strstr(err.msg, "-32601"));
    /* An endpoint that quotes the key back (HTTP 401): fatal, and scrubbed. */
    gl_fault_rule echo = {.kind = GL_FAULT_RPC_ERROR, .http_status = 401, .rpc_code = -32002,
                          .message = "invalid API key for {path}"};
    set_rules(f->p1, &echo, 1);
    assert_int_equal(gl_endpoints_call(e, "eth_blockNumber", NULL, &res, &info, &err), GL_ERPC);
    assert_int_equal(info.cls, GL_RPC_ERR_FATAL);
    assert_non_null(strstr(err.msg, "invalid API key for /v3/***"));
    assert_no_secret(err.msg);
    gl_endpoints_free(e);
}

/* Range caps: returned at once, classified, with the proxy's suggestion,
 * which is checked against the node's own log counts. */
static void range_case(fixture *f, gl_fault kind, uint64_t cap, gl_rpc_limit_kind limit, bool suggests)
{
    gl_fault_rule r = {.kind = kind, .cap = cap, .span = 5};
    set_rules(f->p1, &r, 1);
    gl_fproxy_reset_counters(f->p1);
    gl_endpoint_opts o = base_opts(f);
    gl_endpoints *e = open_eps(&o, f->url1, f->url2, NULL);
    json_t *res;
    gl_call_info info;
    gl_err err;
    assert_int_equal(gl_endpoints_call(e, "eth_getLogs", logs_params(f, 0, f->head), &res, &info, &err), GL_ERPC);
    assert_int_equal(info.cls, GL_RPC_ERR_RANGE_TOO_LARGE);
    assert_int_equal(info.err.limit, limit);
    assert_int_equal(info.attempts, 1);
    assert_int_equal(gl_fproxy_calls(f->p1, "eth_getLogs"), 1);
    assert_int_equal(gl_fproxy_calls(f->p2, NULL), 0);
    assert_int_equal(gl_fproxy_injected(f->p1, kind), 1);
    if (limit == GL_RPC_LIMIT_SPAN)
        assert_int_equal(info.err.max_span, cap);
    else
        assert_int_equal(info.err.max_results, cap);
    uint64_t lo, hi;
    assert_int_equal(info.err.has_range, suggests);
    assert_int_equal(gl_fproxy_last_suggestion(f->p1, &lo, &hi), suggests);
    if (suggests) {
        assert_int_equal(info.err.range_from, lo);
        assert_int_equal(info.err.range_to, hi);
        assert_int_equal(lo, 0);
        assert_true(direct_log_count(f, lo, hi) <= cap);
        assert_true(direct_log_count(f, lo, hi + 1) > cap);
    }
    if (kind == GL_FAULT_RANGE_ALCHEMY)
        assert_int_equal(info.err.safe_span, 5);
    assert_no_secret(err.msg);
    /* Within the cap the same rule lets the call through. */
    expect_same(e, f, "eth_getLogs", logs_params(f, 2, 4), NULL);
    /* Block tags are resolved by the proxy as the node would. */
    json_t *tags = json_pack("[{s:s,s:s,s:s}]", "fromBlock", "earliest", "toBlock", "latest", "address", f->emitter);
    assert_int_equal(gl_endpoints_call(e, "eth_getLogs", tags, &res, &info, &err), GL_ERPC);
    assert_int_equal(info.cls, GL_RPC_ERR_RANGE_TOO_LARGE);
    if (suggests) {
        uint64_t lo2, hi2;
        assert_true(gl_fproxy_last_suggestion(f->p1, &lo2, &hi2));
        assert_int_equal(lo2, lo);
        assert_int_equal(hi2, hi);
    }
    gl_endpoints_free(e);
}

static void test_range_caps(void **state)
{
    fixture *f = *state;
    range_case(f, GL_FAULT_RANGE_INFURA, 50, GL_RPC_LIMIT_COUNT, true);
    range_case(f, GL_FAULT_RANGE_ALCHEMY, 50, GL_RPC_LIMIT_COUNT, true);
    range_case(f, GL_FAULT_RANGE_COUNT, 50, GL_RPC_LIMIT_COUNT, false);
    range_case(f, GL_FAULT_RANGE_SPAN, 20, GL_RPC_LIMIT_SPAN, false);
    range_case(f, GL_FAULT_RANGE_SPAN_413, 20, GL_RPC_LIMIT_SPAN, false);
}

static void test_response_cap(void **state)
{
    fixture *f = *state;
    gl_endpoint_opts o = base_opts(f);
    o.max_response = 300;
    gl_endpoints *e = open_eps(&o, f->url1, NULL, NULL);
    json_t *res;
    gl_err err;
    assert_int_equal(gl_endpoints_call(e, "eth_getBlockByNumber", block_params(3, true), &res, NULL, &err),
                     GL_ERANGE);
    assert_non_null(strstr(err.msg, "larger than 300 bytes"));
    gl_endpoints_free(e);
}

static void test_call_each_mixed(void **state)
{
    fixture *f = *state;
    gl_fault_rule r = {.kind = GL_FAULT_RANGE_SPAN, .cap = 10};
    set_rules(f->p1, &r, 1);
    gl_endpoint_opts o = base_opts(f);
    o.max_batch = 3;
    o.max_concurrency = 1;
    gl_endpoints *e = open_eps(&o, f->url1, NULL, NULL);
    const char *methods[3] = {"eth_getLogs", "eth_getLogs", "eth_getLogs"};
    json_t *params[3] = {logs_params(f, 0, 9), logs_params(f, 0, f->head), logs_params(f, 10, 19)};
    json_t *results[3];
    gl_call_outcome out[3];
    gl_err err;
    assert_int_equal(gl_endpoints_call_each(e, 3, methods, params, results, out, &err), GL_OK);
    assert_int_equal(out[0].code, GL_OK);
    assert_int_equal(out[1].code, GL_ERPC);
    assert_int_equal(out[1].info.cls, GL_RPC_ERR_RANGE_TOO_LARGE);
    assert_int_equal(out[1].info.err.max_span, 10);
    assert_null(results[1]);
    assert_int_equal(out[2].code, GL_OK);
    assert_int_equal(json_array_size(results[0]) + json_array_size(results[2]), direct_log_count(f, 0, 19));
    assert_int_equal(gl_fproxy_requests(f->p1), 1); /* one batch */
    /* call_many fails as a whole, naming the call */
    json_t *many[3];
    assert_int_equal(gl_endpoints_call_many(e, 3, methods, params, many, &err), GL_ERPC);
    assert_non_null(strstr(err.msg, "call 2 of 3: "));
    for (int i = 0; i < 3; i++) {
        assert_null(many[i]);
        json_decref(results[i]);
        json_decref(params[i]);
    }
    gl_endpoints_free(e);
}

/* ------------------------------------------------------------------ */
/* Agreement between endpoints                                          */

static void test_chain_id(void **state)
{
    fixture *f = *state;
    gl_endpoint_opts o = base_opts(f);
    gl_endpoints *e = open_eps(&o, f->url1, f->url2, NULL);
    uint64_t id = 0;
    gl_err err;
    assert_int_equal(gl_endpoints_chain_id(e, &id, &err), GL_OK);
    assert_int_equal(id, TEST_CHAIN_ID);
    gl_fault_rule r = {.kind = GL_FAULT_CHAIN_ID, .chain_id = 1};
    set_rules(f->p2, &r, 1);
    assert_int_equal(gl_endpoints_chain_id(e, &id, &err), GL_EVERIFY);
    assert_int_equal(id, 0);
    assert_non_null(strstr(err.msg, gl_endpoints_url_redacted(e, 0)));
    assert_non_null(strstr(err.msg, gl_endpoints_url_redacted(e, 1)));
    assert_non_null(strstr(err.msg, "says 1"));
    assert_no_secret(err.msg);
    gl_endpoints_free(e);
}

static void test_quorum_block_hash(void **state)
{
    fixture *f = *state;
    json_t *blk = direct(f, "eth_getBlockByNumber", block_params(7, false));
    uint8_t want[32], got[32];
    assert_int_equal(gl_hex_decode_exact(json_string_value(json_object_get(blk, "hash")), want, 32, NULL), GL_OK);
    gl_err err;

    gl_endpoint_opts o = base_opts(f);
    o.quorum = true;
    gl_endpoints *e = open_eps(&o, f->url1, f->url2, NULL);
    assert_int_equal(gl_endpoints_block_hash(e, 7, got, &err), GL_OK);
    assert_memory_equal(got, want, 32);
    assert_int_equal(gl_fproxy_calls(f->p1, NULL), 1);
    assert_int_equal(gl_fproxy_calls(f->p2, NULL), 1);

    gl_fault_rule r = {.kind = GL_FAULT_WRONG_HASH};
    set_rules(f->p1, &r, 1);
    assert_int_equal(gl_endpoints_block_hash(e, 7, got, &err), GL_EVERIFY);
    assert_non_null(strstr(err.msg, gl_endpoints_url_redacted(e, 0)));
    assert_non_null(strstr(err.msg, gl_endpoints_url_redacted(e, 1)));
    assert_non_null(strstr(err.msg, json_string_value(json_object_get(blk, "hash"))));
    gl_fproxy_lie lie;
    assert_int_equal(gl_fproxy_lies(f->p1, &lie, 1), 1);
    assert_non_null(strstr(err.msg, lie.told));
    assert_no_secret(err.msg);
    gl_endpoints_free(e);

    /* Without quorum the lie goes through: it is the quorum that caught it. */
    o = base_opts(f);
    e = open_eps(&o, f->url1, f->url2, NULL);
    assert_int_equal(gl_endpoints_block_hash(e, 7, got, &err), GL_OK);
    uint8_t told[32];
    assert_int_equal(gl_hex_decode_exact(lie.told, told, 32, NULL), GL_OK);
    assert_memory_equal(got, told, 32);
    gl_endpoints_free(e);

    /* A dead first endpoint is replaced by the next one. */
    gl_fault_rule dead = {.kind = GL_FAULT_HTTP_5XX, .http_status = 503};
    set_rules(f->p1, &dead, 1);
    o = base_opts(f);
    o.quorum = true;
    o.max_attempts = 2;
    e = open_eps(&o, f->url1, f->url2, gl_anvil_url(f->node));
    assert_int_equal(gl_endpoints_block_hash(e, 7, got, &err), GL_OK);
    assert_memory_equal(got, want, 32);
    gl_endpoints_free(e);
    json_decref(blk);
}

/* ------------------------------------------------------------------ */
/* The proxy's lies, checked against the node                            */

static void test_proxy_lies(void **state)
{
    fixture *f = *state;
    gl_err err;
    gl_rpc *via = gl_rpc_new(f->url1, &err);
    assert_non_null(via);
    json_t *txh = json_array_get(f->txs, 5);
    gl_fault_rule r[] = {
        {.kind = GL_FAULT_LYING_FROM, .method = "eth_getTransactionByHash"},
        {.kind = GL_FAULT_LYING_FROM, .method = "eth_getBlockByNumber"},
        {.kind = GL_FAULT_WRONG_HASH, .method = "eth_getBlockByHash", .field = "stateRoot"},
    };
    set_rules(f->p1, r, 3);
    json_t *want = direct(f, "eth_getTransactionByHash", json_pack("[O]", txh));
    json_t *got = NULL;
    assert_int_equal(gl_rpc_call(via, "eth_getTransactionByHash", json_pack("[O]", txh), &got, &err), GL_OK);
    assert_string_equal(json_string_value(json_object_get(got, "from")), "0x00000000000000000000000000000000deadbeef");
    json_object_del(want, "from");
    json_object_del(got, "from");
    assert_true(json_equal(want, got)); /* nothing else changed */
    json_decref(want);
    json_decref(got);

    json_t *tx = direct(f, "eth_getTransactionByHash", json_pack("[O]", txh));
    uint64_t bn = hexq(json_object_get(tx, "blockNumber"));
    assert_int_equal(gl_rpc_call(via, "eth_getBlockByNumber", block_params(bn, true), &got, &err), GL_OK);
    json_t *t0 = json_array_get(json_object_get(got, "transactions"), 0);
    assert_string_equal(json_string_value(json_object_get(t0, "hash")), json_string_value(txh));
    assert_string_equal(json_string_value(json_object_get(t0, "from")), "0x00000000000000000000000000000000deadbeef");
    const char *bh = json_string_value(json_object_get(got, "hash"));
    json_t *want_blk = direct(f, "eth_getBlockByHash", json_pack("[sb]", bh, 0));
    json_t *got_blk = NULL;
    assert_int_equal(gl_rpc_call(via, "eth_getBlockByHash", json_pack("[sb]", bh, 0), &got_blk, &err), GL_OK);
    assert_string_not_equal(json_string_value(json_object_get(got_blk, "stateRoot")),
                            json_string_value(json_object_get(want_blk, "stateRoot")));

    gl_fproxy_lie lies[4];
    assert_int_equal(gl_fproxy_lies(f->p1, lies, 4), 3);
    assert_int_equal(lies[0].kind, GL_FAULT_LYING_FROM);
    assert_string_equal(lies[0].subject, json_string_value(txh));
    assert_string_equal(lies[0].truth, json_string_value(json_object_get(tx, "from")));
    assert_string_equal(lies[1].subject, json_string_value(txh));
    assert_int_equal(lies[2].kind, GL_FAULT_WRONG_HASH);
    assert_string_equal(lies[2].field, "stateRoot");
    assert_string_equal(lies[2].truth, json_string_value(json_object_get(want_blk, "stateRoot")));
    assert_string_equal(lies[2].told, json_string_value(json_object_get(got_blk, "stateRoot")));
    json_decref(got);
    json_decref(got_blk);
    json_decref(want_blk);
    json_decref(tx);
    gl_rpc_free(via);
}

/* The proxy's rule schedule: skip, first_n, every_nth, max_hits and the
 * seeded probability, counted over calls it applies to. */
static void test_proxy_rule_schedule(void **state)
{
    fixture *f = *state;
    gl_err err;
    gl_rpc *via = gl_rpc_new(f->url1, &err);
    assert_non_null(via);
    gl_fault_rule r[] = {
        {.kind = GL_FAULT_RPC_ERROR, .method = "eth_chainId", .every_nth = 3},
        {.kind = GL_FAULT_RPC_ERROR, .method = "net_version", .skip = 2, .first_n = 3},
        {.kind = GL_FAULT_RPC_ERROR, .method = "eth_gasPrice", .max_hits = 4},
        {.kind = GL_FAULT_RPC_ERROR, .method = "eth_blockNumber", .probability = 0.25},
    };
    set_rules(f->p1, r, 4);
    const char *methods[4] = {"eth_chainId", "net_version", "eth_gasPrice", "eth_blockNumber"};
    /* which of 9 calls fail: */
    const char *want[3] = {"001001001", "001110000", "111100000"};
    for (int m = 0; m < 3; m++)
        for (int i = 0; i < 9; i++) {
            json_t *res = NULL;
            gl_code rc = gl_rpc_call(via, methods[m], NULL, &res, &err);
            if ((rc != GL_OK) != (want[m][i] == '1'))
                fail_msg("%s call %d: %s", methods[m], i + 1, rc ? err.msg : "succeeded");
            json_decref(res);
        }
    unsigned fails = 0;
    for (int i = 0; i < 400; i++) {
        json_t *res = NULL;
        fails += gl_rpc_call(via, methods[3], NULL, &res, &err) != GL_OK;
        json_decref(res);
    }
    /* 100 expected, sd 8.7: +-6 sd */
    assert_in_range(fails, 48, 152);
    assert_int_equal(gl_fproxy_rule_hits(f->p1, 0), 3);
    assert_int_equal(gl_fproxy_rule_hits(f->p1, 1), 3);
    assert_int_equal(gl_fproxy_rule_hits(f->p1, 2), 4);
    assert_int_equal(gl_fproxy_rule_hits(f->p1, 3), fails);
    assert_int_equal(gl_fproxy_injected(f->p1, GL_FAULT_RPC_ERROR), 10 + fails);
    assert_int_equal(gl_fproxy_calls(f->p1, "eth_chainId"), 9);
    assert_int_equal(gl_fproxy_calls(f->p1, NULL), 27 + 400);
    gl_rpc_free(via);
}

/* ------------------------------------------------------------------ */
/* Secrets                                                              */

static void test_secrets_never_leak(void **state)
{
    fixture *f = *state;
    gl_err err;
    /* Every fault, always on, two attempts: most calls fail; no message
     * and no log line may carry a key. */
    const gl_fault_rule rules[] = {
        {.kind = GL_FAULT_HTTP_429, .retry_after_s = 0},
        {.kind = GL_FAULT_HTTP_5XX},
        {.kind = GL_FAULT_RESET},
        {.kind = GL_FAULT_RESET, .variant = 1},
        {.kind = GL_FAULT_SLOW, .delay_ms = 400},
        {.kind = GL_FAULT_TRUNCATED},
        {.kind = GL_FAULT_TRUNCATED, .variant = 1},
        {.kind = GL_FAULT_MALFORMED},
        {.kind = GL_FAULT_MALFORMED, .variant = 1},
        {.kind = GL_FAULT_BATCH_MISSING_ID},
        {.kind = GL_FAULT_BATCH_DUP_ID},
        {.kind = GL_FAULT_BATCH_REFUSE, .cap = 1},
        {.kind = GL_FAULT_HEADER_NOT_FOUND},
        {.kind = GL_FAULT_RANGE_INFURA, .cap = 5},
        {.kind = GL_FAULT_RANGE_ALCHEMY, .cap = 5, .span = 2},
        {.kind = GL_FAULT_RANGE_SPAN_413, .cap = 5},
        {.kind = GL_FAULT_RANGE_SPAN, .cap = 5},
        {.kind = GL_FAULT_RANGE_COUNT, .cap = 5},
        {.kind = GL_FAULT_RPC_ERROR, .message = "key {path} is over its limit"},
        {.kind = GL_FAULT_RPC_ERROR, .http_status = 403, .message = "forbidden: {path}"},
    };
    for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++) {
        set_rules(f->p1, &rules[i], 1);
        set_rules(f->p2, &rules[i], 1);
        gl_endpoint_opts o = base_opts(f);
        o.max_attempts = 2;
        o.timeout_ms = 200;
        o.max_batch = 4;
        gl_endpoints *e = open_eps(&o, f->url1, f->url2, NULL);
        json_t *res = NULL;
        gl_err_clear(&err);
        gl_endpoints_call(e, "eth_getLogs", logs_params(f, 0, f->head), &res, NULL, &err);
        assert_no_secret(err.msg);
        json_decref(res);
        const char *methods[4] = {"eth_blockNumber", "eth_chainId", "eth_getBlockByNumber", "eth_gasPrice"};
        json_t *params[4] = {NULL, NULL, block_params(1, false), NULL};
        json_t *results[4];
        gl_err_clear(&err);
        if (gl_endpoints_call_many(e, 4, methods, params, results, &err) == GL_OK)
            for (int k = 0; k < 4; k++)
                json_decref(results[k]);
        assert_no_secret(err.msg);
        json_decref(params[2]);
        uint64_t id;
        gl_err_clear(&err);
        gl_endpoints_chain_id(e, &id, &err);
        assert_no_secret(err.msg);
        gl_endpoints_free(e);
    }
    /* A closed port: curl's own error text. */
    char closed[160];
    snprintf(closed, sizeof closed, "http://127.0.0.1:1/v3/%s?apikey=%s", SECRET1, SECRET2);
    gl_endpoint_opts o = base_opts(f);
    o.max_attempts = 2;
    gl_endpoints *e = open_eps(&o, closed, NULL, NULL);
    json_t *res;
    assert_int_equal(gl_endpoints_call(e, "eth_blockNumber", NULL, &res, NULL, &err), GL_EIO);
    assert_no_secret(err.msg);
    /* Foreign text that quotes the URL whole, or a key alone. */
    char text[512], out[512];
    snprintf(text, sizeof text, "Failed to connect to %s: key %s", closed, SECRET1);
    gl_endpoints_scrub(e, text, out, sizeof out);
    assert_no_secret(out);
    assert_non_null(strstr(out, "http://127.0.0.1:1/v3/***?apikey=***"));
    gl_endpoints_free(e);
    /* A URL refused at creation is named redacted. */
    char bad[160];
    snprintf(bad, sizeof bad, "ftp://127.0.0.1/v3/%s", SECRET1);
    const char *urls[1] = {bad};
    o = base_opts(f);
    o.urls = urls;
    o.nurls = 1;
    assert_null(gl_endpoints_new(&o, &err));
    assert_int_equal(err.code, GL_EINVAL);
    assert_no_secret(err.msg);
    assert_non_null(strstr(err.msg, "/v3/***"));
    /* the log lines are checked by the teardown */
    assert_true(f->nlog > 0);
}

/* A single answer whose id is not the request's: not trusted, retried.
 * The stub answers request 0 with id + 1000, later ones correctly. */
static void wrong_id_handler(void *ctx, unsigned nreq, const char *head, const char *body, size_t body_len,
                             gl_buf *resp)
{
    (void)ctx;
    (void)head;
    json_t *req = json_loadb(body, body_len, 0, NULL);
    json_int_t id = json_integer_value(json_object_get(req, "id"));
    json_decref(req);
    char out[128];
    int n = snprintf(out, sizeof out, "{\"jsonrpc\":\"2.0\",\"id\":%lld,\"result\":\"0x2a\"}",
                     (long long)(nreq == 0 ? id + 1000 : id));
    gl_stub_reply(resp, 200, NULL, out, (size_t)n);
}

static void test_wrong_id_retried(void **state)
{
    fixture *f = *state;
    gl_stub *stub = gl_stub_start(wrong_id_handler, NULL);
    assert_non_null(stub);
    gl_endpoint_opts o = base_opts(f);
    gl_endpoints *e = open_eps(&o, gl_stub_url(stub), NULL, NULL);
    gl_call_info info;
    json_t *res = call_ok(e, "eth_chainId", NULL, &info);
    assert_string_equal(json_string_value(res), "0x2a");
    assert_int_equal(info.attempts, 2);
    assert_true(logs_contain(f, "does not match request id"));
    json_decref(res);
    gl_endpoints_free(e);
    gl_stub_stop(stub);
}

static void test_bad_arguments(void **state)
{
    fixture *f = *state;
    gl_err err;
    gl_endpoint_opts o = base_opts(f);
    assert_null(gl_endpoints_new(&o, &err));
    assert_int_equal(err.code, GL_EINVAL);
    assert_null(gl_endpoints_new(NULL, &err));
    gl_endpoints *e = open_eps(&o, f->url1, NULL, NULL);
    json_t *res;
    assert_int_equal(gl_endpoints_call(e, "eth_blockNumber", json_integer(3), &res, NULL, &err), GL_EINVAL);
    assert_int_equal(gl_endpoints_call(e, NULL, NULL, &res, NULL, &err), GL_EINVAL);
    assert_int_equal(gl_endpoints_call_many(e, 0, NULL, NULL, NULL, &err), GL_OK);
    assert_int_equal(gl_endpoints_count(e), 1);
    assert_null(gl_endpoints_url_redacted(e, 1));
    assert_int_equal(gl_fproxy_requests(f->p1), 0);
    gl_endpoints_free(e);
    gl_endpoints_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_chain_as_built, test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(test_clean_calls, test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(test_batches_and_concurrency, test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(test_batch_answer_reordered, test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(test_rate_limit_honours_retry_after, test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(test_5xx, test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(test_connection_reset, test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(test_slow_answer_times_out, test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(test_truncated_and_malformed, test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(test_batch_missing_and_repeated_ids, test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(test_batch_refused_then_smaller, test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(test_header_not_found_lagging, test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(test_failover_and_bench, test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(test_stop_hook_cuts_retries_short, test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(test_attempts_exhausted, test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(test_fatal_stops_at_once, test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(test_range_caps, test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(test_response_cap, test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(test_call_each_mixed, test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(test_chain_id, test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(test_quorum_block_hash, test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(test_proxy_lies, test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(test_proxy_rule_schedule, test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(test_secrets_never_leak, test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(test_wrong_id_retried, test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(test_bad_arguments, test_setup, test_teardown),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
