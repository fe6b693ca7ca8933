/* test_endpoint_stream.c - gl_endpoints_call_stream with the eth_getLogs
 * reader, against a loopback stub that answers each request as scripted.
 *
 * Oracles: the JSON-RPC 2.0 envelope (id, result, error); Infura's words
 * for a range cap (code -32005, "query returned more than 10000 results.
 * Try with this block range [0x1, 0x2]."); logs written out as anvil gives
 * them, with the expected numbers and bytes typed here by hand.  The point
 * of each retry case is that the logs after the call are exactly the good
 * answer's: nothing a failed answer added may survive.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "gpuledger/endpoint.h"
#include "gpuledger/log_reader.h"

#include "../support/testutil.h"

/* ------------------------------------------------------------ answers */

#define ADDR "0x5fbdb2315678afecb367f032d93f642f64180aa3"
#define TOPIC0 "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef"
#define TOPIC1 "0x000000000000000000000000f39fd6e51aad88f6f4ce6ab8827279cfffb92266"
#define TOPIC2 "0x00000000000000000000000070997970c51812dc3a010c7d01b50e0d17dc79c8"
#define DATA "0x00000000000000000000000000000000000000000000003635c9adc5dea00000"
#define BHASH "0x8e5d2ec2a1c8b8a4e5f0d3b6c7a9e1f20314253647586970a1b2c3d4e5f60718"
#define THASH "0x3b1a0c7e9d2f4a6b8c0e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e"

/* An anvil log at block BN, log index LI (hex text). */
#define LOG(BN, LI)                                                                                              \
    "{\"address\":\"" ADDR "\",\"topics\":[\"" TOPIC0 "\",\"" TOPIC1 "\",\"" TOPIC2 "\"],"                    \
    "\"data\":\"" DATA "\",\"blockHash\":\"" BHASH "\",\"blockNumber\":\"" BN "\","                           \
    "\"blockTimestamp\":\"0x6634a8c0\",\"transactionHash\":\"" THASH "\","                                    \
    "\"transactionIndex\":\"0x2\",\"logIndex\":\"" LI "\",\"removed\":false}"

/* The same without its blockHash. */
#define LOG_NO_BLOCK_HASH                                                                                        \
    "{\"address\":\"" ADDR "\",\"topics\":[\"" TOPIC0 "\"],\"data\":\"0x\",\"blockNumber\":\"0x7\","          \
    "\"transactionHash\":\"" THASH "\",\"transactionIndex\":\"0x0\",\"logIndex\":\"0x0\"}"

static const uint8_t ADDR_B[20] = {0x5f, 0xbd, 0xb2, 0x31, 0x56, 0x78, 0xaf, 0xec, 0xb3, 0x67,
                                   0xf0, 0x32, 0xd9, 0x3f, 0x64, 0x2f, 0x64, 0x18, 0x0a, 0xa3};
static const uint8_t DATA_TAIL[9] = {0x36, 0x35, 0xc9, 0xad, 0xc5, 0xde, 0xa0, 0x00, 0x00};

/* The good answer's result: block 5 log 3, block 0x1f log 0x10. */
#define GOOD_RESULT "[" LOG("0x5", "0x3") "," LOG("0x1f", "0x10") "]"
/* A result from an answer that must not count: block 9 log 1. */
#define OTHER_RESULT "[" LOG("0x9", "0x1") "]"

typedef enum answer {
    A_GOOD,         /* GOOD_RESULT */
    A_BAD_LOG,      /* a good log, then one without blockHash */
    A_RANGE,        /* Infura's range cap */
    A_WRONG_ID,     /* OTHER_RESULT under the request's id + 1000 */
    A_CUT,          /* the good answer cut after its first log, Content-Length matching */
    A_SHORT,        /* Content-Length of the whole good answer, half sent, connection closed */
    A_NULL,         /* "result": null */
    A_RESULT_ERROR, /* OTHER_RESULT and an error member (-32000) in one answer */
    A_ERROR_FIRST,  /* the error member before a result (OTHER_RESULT) */
} answer;

typedef struct stub_ctx {
    const answer *script; /* request k gets script[min(k, n - 1)] */
    size_t n;
    char method[32];      /* of the last request */
    int params_ok;        /* the last request's params: [filter object] */
    int single;           /* the last request was a plain object */
} stub_ctx;

static void handler(void *vctx, unsigned nreq, const char *head, const char *body, size_t body_len, gl_buf *resp)
{
    (void)head;
    stub_ctx *c = vctx;
    json_t *req = json_loadb(body, body_len, 0, NULL);
    c->single = json_is_object(req);
    json_t *params = json_object_get(req, "params");
    c->params_ok = json_is_array(params) && json_array_size(params) == 1 && json_is_object(json_array_get(params, 0));
    const char *m = json_string_value(json_object_get(req, "method"));
    snprintf(c->method, sizeof c->method, "%s", m ? m : "");
    unsigned long long id = (unsigned long long)json_integer_value(json_object_get(req, "id"));
    json_decref(req);

    answer a = c->script[nreq < c->n ? nreq : c->n - 1];
    static char out[16384];
    int n = 0;
    switch (a) {
    case A_GOOD:
    case A_CUT:
    case A_SHORT:
        n = snprintf(out, sizeof out, "{\"jsonrpc\":\"2.0\",\"id\":%llu,\"result\":" GOOD_RESULT "}", id);
        break;
    case A_BAD_LOG:
        n = snprintf(out, sizeof out,
                     "{\"jsonrpc\":\"2.0\",\"id\":%llu,\"result\":[" LOG("0x9", "0x1") "," LOG_NO_BLOCK_HASH "]}",
                     id);
        break;
    case A_RANGE:
        n = snprintf(out, sizeof out,
                     "{\"jsonrpc\":\"2.0\",\"id\":%llu,\"error\":{\"code\":-32005,\"data\":{\"from\":\"0x1\","
                     "\"limit\":10000,\"to\":\"0x2\"},\"message\":\"query returned more than 10000 results. "
                     "Try with this block range [0x1, 0x2].\"}}",
                     id);
        break;
    case A_WRONG_ID:
        n = snprintf(out, sizeof out, "{\"jsonrpc\":\"2.0\",\"id\":%llu,\"result\":" OTHER_RESULT "}", id + 1000);
        break;
    case A_NULL:
        n = snprintf(out, sizeof out, "{\"jsonrpc\":\"2.0\",\"id\":%llu,\"result\":null}", id);
        break;
    case A_RESULT_ERROR:
        n = snprintf(out, sizeof out,
                     "{\"jsonrpc\":\"2.0\",\"id\":%llu,\"result\":" OTHER_RESULT
                     ",\"error\":{\"code\":-32000,\"message\":\"internal error\"}}",
                     id);
        break;
    case A_ERROR_FIRST:
        n = snprintf(out, sizeof out,
                     "{\"jsonrpc\":\"2.0\",\"id\":%llu,\"error\":{\"code\":-32000,\"message\":\"internal error\"},"
                     "\"result\":" OTHER_RESULT "}",
                     id);
        break;
    }
    size_t len = (size_t)n;
    if (a == A_CUT) {
        /* just after the first log's closing brace */
        const char *p = strstr(out, "false}");
        len = (size_t)(p - out) + 6;
        gl_stub_reply(resp, 200, NULL, out, len);
    } else if (a == A_SHORT) {
        char h[200];
        int hn = snprintf(h, sizeof h,
                          "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\nContent-Type: application/json\r\n"
                          "Connection: close\r\n\r\n",
                          len);
        gl_buf_append(resp, h, (size_t)hn, NULL);
        gl_buf_append(resp, out, len / 2, NULL);
    } else {
        gl_stub_reply(resp, 200, NULL, out, len);
    }
}

/* ------------------------------------------------------------ the call */

typedef struct run {
    gl_code rc;
    gl_call_info info;
    gl_err err;
    unsigned requests;
    uint64_t capped;   /* the pool's count of answers stopped at the reader's cap */
    stub_ctx c;
} run;

/* One eth_getLogs through a one-endpoint pool in front of the stub, into
 * `out` (which holds one log already, as the indexer's list would). */
static void call_capped(const answer *script, size_t n, unsigned attempts, size_t max_bytes, gl_logs *out, run *r)
{
    memset(r, 0, sizeof *r);
    r->c.script = script;
    r->c.n = n;
    gl_stub *s = gl_stub_start(handler, &r->c);
    assert_non_null(s);
    const char *urls[1] = {gl_stub_url(s)};
    gl_endpoint_opts o;
    memset(&o, 0, sizeof o);
    o.urls = urls;
    o.nurls = 1;
    o.max_attempts = attempts;
    o.backoff_base_ms = 1;
    o.backoff_cap_ms = 5;
    o.connect_timeout_ms = 2000;
    o.timeout_ms = 5000;
    o.seed = 7;
    gl_err err;
    gl_endpoints *e = gl_endpoints_new(&o, &err);
    if (!e)
        fail_msg("gl_endpoints_new: %s", err.msg);

    memset(out, 0, sizeof *out);
    gl_log *g = gl_logs_push(out);
    assert_non_null(g);
    g->block = 1;
    g->log_index = 77;
    g->data = malloc(2);
    assert_non_null(g->data);
    g->data[0] = 0xab;
    g->data[1] = 0xcd;
    g->len = 2;

    gl_log_reader rd;
    gl_log_reader_init(&rd, out);
    gl_result_reader hooks = gl_log_reader_hooks(&rd);
    hooks.max_bytes = max_bytes;
    json_t *params = json_pack("[{s:s, s:s, s:s}]", "fromBlock", "0x1", "toBlock", "0x40", "address", ADDR);
    gl_err_clear(&r->err);
    r->rc = gl_endpoints_call_stream(e, "eth_getLogs", params, &hooks, &r->info, &r->err);
    r->requests = gl_stub_requests(s);
    gl_endpoint_stats st;
    gl_endpoints_stats(e, &st);
    r->capped = st.capped;
    gl_endpoints_free(e);
    gl_stub_stop(s);

    /* the log that was there stays, whatever happened */
    assert_true(out->n >= 1);
    assert_int_equal(out->v[0].block, 1);
    assert_int_equal(out->v[0].log_index, 77);
    assert_int_equal(out->v[0].len, 2);
    assert_int_equal(out->v[0].data[0], 0xab);
    assert_int_equal(out->v[0].data[1], 0xcd);
}

static void call(const answer *script, size_t n, unsigned attempts, gl_logs *out, run *r)
{
    call_capped(script, n, attempts, 0, out, r);
}

static void has(const char *msg, const char *want)
{
    if (!strstr(msg, want))
        fail_msg("message \"%s\" does not say \"%s\"", msg, want);
}

/* out holds the log put there first and exactly GOOD_RESULT's two logs. */
static void check_good(const gl_logs *out)
{
    assert_int_equal(out->n, 3);
    const gl_log *a = &out->v[1], *b = &out->v[2];
    assert_int_equal(a->block, 5);
    assert_int_equal(a->log_index, 3);
    assert_int_equal(b->block, 31);
    assert_int_equal(b->log_index, 16);
    for (int i = 1; i <= 2; i++) {
        const gl_log *g = &out->v[i];
        assert_memory_equal(g->address, ADDR_B, 20);
        assert_int_equal(g->ntopics, 3);
        assert_int_equal(g->tx_index, 2);
        assert_int_equal(g->len, 32);
        assert_memory_equal(g->data + 23, DATA_TAIL, 9);
        assert_true(g->has_ts);
        assert_int_equal(g->ts, 1714727104u);
    }
}

#define CALL(script, attempts, out, r) call(script, sizeof script / sizeof script[0], attempts, out, r)

/* ------------------------------------------------------------ tests */

/* An answer over the reader's max_bytes is stopped: the call fails as a
 * range too large (the caller splits it), is not retried, and leaves out
 * as it was; an answer within the cap reads as usual. */
static void test_answer_over_reader_cap(void **state)
{
    (void)state;
    static const answer script[] = {A_GOOD, A_GOOD, A_GOOD};
    gl_logs out;
    run r;
    call_capped(script, 3, 3, 200, &out, &r);
    assert_int_equal(r.rc, GL_ERPC);
    assert_int_equal(r.info.cls, GL_RPC_ERR_RANGE_TOO_LARGE);
    assert_int_equal(r.info.err.limit, GL_RPC_LIMIT_COUNT);
    has(r.err.msg, "the cap its reader set");
    assert_int_equal(r.requests, 1);
    assert_int_equal(r.capped, 1);
    assert_int_equal(out.n, 1);
    gl_logs_free(&out);

    call_capped(script, 3, 3, 1 << 20, &out, &r);
    if (r.rc)
        fail_msg("call failed: %s", r.err.msg);
    assert_int_equal(r.requests, 1);
    assert_int_equal(r.capped, 0);
    check_good(&out);
    gl_logs_free(&out);
}

static void test_good_answer(void **state)
{
    (void)state;
    static const answer script[] = {A_GOOD};
    gl_logs out;
    run r;
    CALL(script, 3, &out, &r);
    if (r.rc)
        fail_msg("call failed: %s", r.err.msg);
    assert_int_equal(r.requests, 1);
    assert_string_equal(r.c.method, "eth_getLogs");
    assert_true(r.c.single);
    assert_true(r.c.params_ok);
    check_good(&out);
    gl_logs_free(&out);
}

static void test_range_error(void **state)
{
    (void)state;
    static const answer script[] = {A_RANGE, A_GOOD};
    gl_logs out;
    run r;
    CALL(script, 3, &out, &r);
    assert_int_equal(r.rc, GL_ERPC);
    assert_int_equal(r.info.cls, GL_RPC_ERR_RANGE_TOO_LARGE);
    assert_true(r.info.err.has_range);
    assert_int_equal(r.info.err.range_from, 1);
    assert_int_equal(r.info.err.range_to, 2);
    assert_int_equal(r.requests, 1); /* not retried: the planner splits */
    has(r.err.msg, "eth_getLogs");
    has(r.err.msg, "more than 10000 results");
    assert_int_equal(out.n, 1); /* nothing added */
    gl_logs_free(&out);
}

static void test_bad_log_then_good(void **state)
{
    (void)state;
    static const answer script[] = {A_BAD_LOG, A_GOOD};
    gl_logs out;
    run r;
    CALL(script, 3, &out, &r);
    if (r.rc)
        fail_msg("call failed: %s", r.err.msg);
    assert_int_equal(r.requests, 2);
    check_good(&out); /* the bad answer's first (good) log is gone */
    gl_logs_free(&out);
}

static void test_bad_log_every_time(void **state)
{
    (void)state;
    static const answer script[] = {A_BAD_LOG};
    gl_logs out;
    run r;
    CALL(script, 3, &out, &r);
    assert_int_equal(r.rc, GL_ERPC);
    assert_int_equal(r.requests, 3);
    has(r.err.msg, "eth_getLogs");
    has(r.err.msg, "log 1: bad or missing blockHash");
    assert_int_equal(out.n, 1);
    gl_logs_free(&out);
}

static void test_wrong_id_then_good(void **state)
{
    (void)state;
    static const answer script[] = {A_WRONG_ID, A_GOOD};
    gl_logs out;
    run r;
    CALL(script, 3, &out, &r);
    if (r.rc)
        fail_msg("call failed: %s", r.err.msg);
    assert_int_equal(r.requests, 2);
    check_good(&out); /* nothing of block 9 */
    gl_logs_free(&out);
}

static void test_wrong_id_every_time(void **state)
{
    (void)state;
    static const answer script[] = {A_WRONG_ID};
    gl_logs out;
    run r;
    CALL(script, 2, &out, &r);
    assert_int_equal(r.rc, GL_ERPC);
    assert_int_equal(r.requests, 2);
    has(r.err.msg, "id");
    assert_int_equal(out.n, 1); /* a failed call leaves nothing of any answer */
    gl_logs_free(&out);
}

static void test_cut_every_time(void **state)
{
    (void)state;
    static const answer script[] = {A_CUT};
    gl_logs out;
    run r;
    CALL(script, 2, &out, &r);
    assert_int_equal(r.rc, GL_ERPC);
    assert_int_equal(r.requests, 2);
    assert_int_equal(out.n, 1); /* not the cut answer's half-read log */
    gl_logs_free(&out);
}

static void test_cut_then_good(void **state)
{
    (void)state;
    static const answer script[] = {A_CUT, A_GOOD};
    gl_logs out;
    run r;
    CALL(script, 3, &out, &r);
    if (r.rc)
        fail_msg("call failed: %s", r.err.msg);
    assert_int_equal(r.requests, 2);
    check_good(&out); /* not the cut answer's first log again */
    gl_logs_free(&out);
}

static void test_short_then_good(void **state)
{
    (void)state;
    static const answer script[] = {A_SHORT, A_GOOD};
    gl_logs out;
    run r;
    CALL(script, 3, &out, &r);
    if (r.rc)
        fail_msg("call failed: %s", r.err.msg);
    assert_int_equal(r.requests, 2);
    check_good(&out);
    gl_logs_free(&out);
}

static void test_null_result(void **state)
{
    (void)state;
    static const answer script[] = {A_NULL};
    gl_logs out;
    run r;
    CALL(script, 3, &out, &r);
    assert_int_equal(r.rc, GL_ERPC);
    assert_int_equal(r.requests, 3);
    has(r.err.msg, "not an array");
    assert_int_equal(out.n, 1);
    gl_logs_free(&out);
}

/* An answer with a result and an error is an error, whichever comes first,
 * and its result is not kept. */
static void test_result_and_error(void **state)
{
    (void)state;
    static const answer script1[] = {A_RESULT_ERROR, A_GOOD};
    static const answer script2[] = {A_ERROR_FIRST, A_GOOD};
    gl_logs out;
    run r;
    CALL(script1, 3, &out, &r);
    if (r.rc)
        fail_msg("call failed: %s", r.err.msg);
    assert_int_equal(r.requests, 2);
    check_good(&out);
    gl_logs_free(&out);

    CALL(script2, 3, &out, &r);
    if (r.rc)
        fail_msg("call failed: %s", r.err.msg);
    assert_int_equal(r.requests, 2);
    check_good(&out);
    gl_logs_free(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_answer),
        cmocka_unit_test(test_answer_over_reader_cap),
        cmocka_unit_test(test_range_error),
        cmocka_unit_test(test_bad_log_then_good),
        cmocka_unit_test(test_bad_log_every_time),
        cmocka_unit_test(test_wrong_id_then_good),
        cmocka_unit_test(test_wrong_id_every_time),
        cmocka_unit_test(test_cut_then_good),
        cmocka_unit_test(test_cut_every_time),
        cmocka_unit_test(test_short_then_good),
        cmocka_unit_test(test_null_result),
        cmocka_unit_test(test_result_and_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
