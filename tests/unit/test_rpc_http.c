/* test_rpc_http.c - the JSON-RPC client against canned HTTP answers.
 *
 * A loopback stub (tests/support/testutil.h) answers each request as the
 * test says: the JSON-RPC 2.0 spec's shapes (result, error object, id),
 * HTTP 429 with Retry-After as RFC 9110 defines it (seconds or HTTP-date),
 * a 5xx page, garbage, a truncated body, a gzip body built here by hand per
 * RFC 1952 (stored deflate block, CRC-32 checked against the standard's
 * check value), a slow answer.  The stub also counts connections, so
 * keep-alive is observed, not assumed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "gpuledger/rpc.h"

#include "../support/testutil.h"

enum mode {
    M_RESULT,       /* {"result":"0x2a"} with the request's id */
    M_RESULT_NULL,  /* {"result":null} */
    M_RPC_ERROR,    /* error -32005 with a range-cap message */
    M_ECHO_SECRET,  /* error whose message quotes the API key */
    M_BAD_ERROR,    /* "error":"boom" */
    M_429,          /* HTTP 429, Retry-After: 7, JSON-RPC error body */
    M_429_DATE,     /* HTTP 429, Retry-After: an HTTP-date in 2099 */
    M_503_HTML,     /* HTTP 503 with an HTML page */
    M_GARBAGE,      /* 200 with "{not json" */
    M_EMPTY,        /* 200 with an empty body */
    M_WRONG_ID,     /* the request's id + 1000 */
    M_STRING_ID,    /* the id as a decimal string */
    M_NO_RESULT,    /* neither result nor error */
    M_ARRAY,        /* a batch-shaped answer */
    M_TRUNCATED,    /* Content-Length 100, 10 bytes, close */
    M_GZIP,         /* gzip-encoded result */
    M_SLOW,         /* answers after 700 ms */
    M_LONG_MSG,     /* a range-cap message longer than an error excerpt */
};

typedef struct ctx {
    enum mode mode;
    /* what the stub saw in the last request */
    char method[64];
    char jsonrpc[8];
    int params_is_array;
    size_t params_size;
    long long id;
    int accept_gzip;
    int content_type_json;
} ctx;

/* CRC-32 (ISO-HDLC, as gzip uses), bit by bit. */
static uint32_t crc32_iso(const uint8_t *p, size_t n)
{
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1)));
    }
    return c ^ 0xffffffffu;
}

static void put_le32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* A gzip member holding `n` (< 65536) bytes in one stored deflate block. */
static size_t gzip_stored(const char *data, size_t n, uint8_t *out)
{
    static const uint8_t hdr[10] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255};
    memcpy(out, hdr, 10);
    out[10] = 0x01; /* BFINAL=1, BTYPE=00 (stored) */
    out[11] = (uint8_t)n;
    out[12] = (uint8_t)(n >> 8);
    out[13] = (uint8_t)~n;
    out[14] = (uint8_t)(~n >> 8);
    memcpy(out + 15, data, n);
    put_le32(out + 15 + n, crc32_iso((const uint8_t *)data, n));
    put_le32(out + 19 + n, (uint32_t)n);
    return 23 + n;
}

static void reply_json(gl_buf *resp, int status, const char *headers, const char *fmt, long long id)
{
    char body[512];
    int n = snprintf(body, sizeof body, fmt, id);
    gl_stub_reply(resp, status, headers, body, (size_t)n);
}

static const char *str_or_empty(json_t *j) { return json_is_string(j) ? json_string_value(j) : ""; }

static void handler(void *vctx, unsigned nreq, const char *head, const char *body, size_t body_len,
                    gl_buf *resp)
{
    (void)nreq;
    ctx *c = vctx;
    json_t *req = json_loadb(body, body_len, 0, NULL);
    json_t *params = json_object_get(req, "params");
    snprintf(c->method, sizeof c->method, "%s", str_or_empty(json_object_get(req, "method")));
    snprintf(c->jsonrpc, sizeof c->jsonrpc, "%s", str_or_empty(json_object_get(req, "jsonrpc")));
    c->params_is_array = json_is_array(params);
    c->params_size = json_is_array(params) ? json_array_size(params) : json_object_size(params);
    c->id = json_integer_value(json_object_get(req, "id"));
    json_decref(req);
    const char *ae = strcasestr(head, "\r\nAccept-Encoding:");
    c->accept_gzip = ae && strstr(ae, "gzip") && strstr(ae, "gzip") < strstr(ae + 2, "\r\n");
    c->content_type_json = strcasestr(head, "\r\nContent-Type: application/json") != NULL;

    long long id = c->id;
    switch (c->mode) {
    case M_RESULT:
        reply_json(resp, 200, NULL, "{\"jsonrpc\":\"2.0\",\"id\":%lld,\"result\":\"0x2a\"}", id);
        break;
    case M_RESULT_NULL:
        reply_json(resp, 200, NULL, "{\"jsonrpc\":\"2.0\",\"id\":%lld,\"result\":null}", id);
        break;
    case M_RPC_ERROR:
        reply_json(resp, 200, NULL,
                   "{\"jsonrpc\":\"2.0\",\"id\":%lld,\"error\":{\"code\":-32005,"
                   "\"message\":\"query returned more than 10000 results\",\"data\":{\"from\":\"0x1\"}}}",
                   id);
        break;
    case M_ECHO_SECRET:
        reply_json(resp, 200, NULL,
                   "{\"jsonrpc\":\"2.0\",\"id\":%lld,\"error\":{\"code\":-32000,"
                   "\"message\":\"invalid project id 9aa3d95b3bc440fa88ea12eaa4456161 for user hunter2pw\"}}",
                   id);
        break;
    case M_BAD_ERROR:
        reply_json(resp, 200, NULL, "{\"jsonrpc\":\"2.0\",\"id\":%lld,\"error\":\"boom\"}", id);
        break;
    case M_429:
        reply_json(resp, 429, "Retry-After: 7\r\n",
                   "{\"jsonrpc\":\"2.0\",\"id\":%lld,\"error\":{\"code\":-32005,\"message\":\"rate limited\"}}",
                   id);
        break;
    case M_429_DATE:
        gl_stub_reply(resp, 429, "Retry-After: Wed, 21 Oct 2099 07:28:00 GMT\r\n", "slow down", 9);
        break;
    case M_503_HTML: {
        static const char page[] = "<html><body><h1>503 Service Unavailable</h1></body></html>";
        gl_stub_reply(resp, 503, "Content-Type-Note: html\r\n", page, sizeof page - 1);
        break;
    }
    case M_GARBAGE:
        gl_stub_reply(resp, 200, NULL, "{not json", 9);
        break;
    case M_EMPTY:
        gl_stub_reply(resp, 200, NULL, "", 0);
        break;
    case M_WRONG_ID:
        reply_json(resp, 200, NULL, "{\"jsonrpc\":\"2.0\",\"id\":%lld,\"result\":\"0x2a\"}", id + 1000);
        break;
    case M_STRING_ID:
        reply_json(resp, 200, NULL, "{\"jsonrpc\":\"2.0\",\"id\":\"%lld\",\"result\":\"0x2a\"}", id);
        break;
    case M_NO_RESULT:
        reply_json(resp, 200, NULL, "{\"jsonrpc\":\"2.0\",\"id\":%lld}", id);
        break;
    case M_ARRAY:
        reply_json(resp, 200, NULL, "[{\"jsonrpc\":\"2.0\",\"id\":%lld,\"result\":\"0x2a\"}]", id);
        break;
    case M_TRUNCATED: {
        static const char raw[] = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\nConnection: close\r\n\r\n{\"jsonrpc\"";
        gl_buf_append(resp, raw, sizeof raw - 1, NULL);
        break;
    }
    case M_GZIP: {
        char plain[128];
        uint8_t gz[256];
        int n = snprintf(plain, sizeof plain, "{\"jsonrpc\":\"2.0\",\"id\":%lld,\"result\":\"0xgzip\"}", id);
        size_t gn = gzip_stored(plain, (size_t)n, gz);
        gl_stub_reply(resp, 200, "Content-Encoding: gzip\r\n", gz, gn);
        break;
    }
    case M_LONG_MSG:
        reply_json(resp, 200, NULL,
                   "{\"jsonrpc\":\"2.0\",\"id\":%lld,\"error\":{\"code\":-32602,\"message\":\"Log response "
                   "size exceeded. You can make eth_getLogs requests with up to a 2K block range and no limit "
                   "on the response size, or you can request any block range with a cap of 10K logs in the "
                   "response. Based on your parameters, this block range should work: [0x10, 0x2f]\"}}",
                   id);
        break;
    case M_SLOW:
        usleep(700 * 1000);
        reply_json(resp, 200, NULL, "{\"jsonrpc\":\"2.0\",\"id\":%lld,\"result\":\"0x2a\"}", id);
        break;
    }
}

typedef struct fixture {
    ctx c;
    gl_stub *stub;
    gl_rpc *rpc;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    f->stub = gl_stub_start(handler, &f->c);
    gl_err err;
    f->rpc = f->stub ? gl_rpc_new(gl_stub_url(f->stub), &err) : NULL;
    if (!f->rpc) {
        gl_stub_stop(f->stub);
        free(f);
        return -1;
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    gl_rpc_free(f->rpc);
    gl_stub_stop(f->stub);
    free(f);
    return 0;
}

/* Call with the fixture's mode; returns the code, result in *res. */
static gl_code call(fixture *f, enum mode m, json_t **res, gl_err *err)
{
    f->c.mode = m;
    return gl_rpc_call(f->rpc, "eth_getLogs", json_pack("[{s:s}]", "fromBlock", "0x1"), res, err);
}

static void test_crc32_check_value(void **state)
{
    (void)state;
    /* The catalogue check value of CRC-32/ISO-HDLC over "123456789". */
    assert_int_equal(crc32_iso((const uint8_t *)"123456789", 9), 0xcbf43926u);
}

static void test_result_and_request_shape(void **state)
{
    fixture *f = *state;
    json_t *res = NULL;
    gl_err err;
    f->c.mode = M_RESULT;
    assert_int_equal(gl_rpc_call(f->rpc, "eth_blockNumber", NULL, &res, &err), GL_OK);
    assert_string_equal(json_string_value(res), "0x2a");
    json_decref(res);
    assert_string_equal(f->c.method, "eth_blockNumber");
    assert_string_equal(f->c.jsonrpc, "2.0");
    assert_true(f->c.params_is_array);
    assert_int_equal(f->c.params_size, 0);
    assert_true(f->c.accept_gzip);
    assert_true(f->c.content_type_json);
    assert_int_equal(gl_rpc_last_http_status(f->rpc), 200);
    assert_false(gl_rpc_last_rpc_error(f->rpc, NULL));
    assert_int_equal(gl_rpc_last_retry_after(f->rpc), -1);

    /* Object params pass through. */
    assert_int_equal(gl_rpc_call(f->rpc, "x_obj", json_pack("{s:i}", "a", 1), &res, &err), GL_OK);
    json_decref(res);
    assert_false(f->c.params_is_array);
    assert_int_equal(f->c.params_size, 1);
}

static void test_keep_alive_and_distinct_ids(void **state)
{
    fixture *f = *state;
    json_t *res = NULL;
    gl_err err;
    long long ids[3];
    for (int i = 0; i < 3; i++) {
        assert_int_equal(call(f, M_RESULT, &res, &err), GL_OK);
        json_decref(res);
        ids[i] = f->c.id;
    }
    assert_true(ids[0] != ids[1] && ids[1] != ids[2] && ids[0] != ids[2]);
    assert_int_equal(gl_stub_requests(f->stub), 3);
    assert_int_equal(gl_stub_connections(f->stub), 1);
}

static void test_result_null(void **state)
{
    fixture *f = *state;
    json_t *res = NULL;
    assert_int_equal(call(f, M_RESULT_NULL, &res, NULL), GL_OK);
    assert_true(json_is_null(res));
    json_decref(res);
}

static void test_rpc_error_object(void **state)
{
    fixture *f = *state;
    json_t *res = (json_t *)1;
    gl_err err;
    assert_int_equal(call(f, M_RPC_ERROR, &res, &err), GL_ERPC);
    assert_null(res);
    assert_non_null(strstr(err.msg, "eth_getLogs"));
    assert_non_null(strstr(err.msg, "-32005"));
    assert_non_null(strstr(err.msg, "query returned more than 10000 results"));
    assert_non_null(strstr(err.msg, "\"from\":\"0x1\""));
    int64_t code = 0;
    assert_true(gl_rpc_last_rpc_error(f->rpc, &code));
    assert_int_equal(code, -32005);
    assert_string_equal(gl_rpc_last_rpc_message(f->rpc), "query returned more than 10000 results");
    /* A later success clears what the last call saw. */
    assert_int_equal(call(f, M_RESULT, &res, &err), GL_OK);
    json_decref(res);
    assert_false(gl_rpc_last_rpc_error(f->rpc, &code));
    assert_string_equal(gl_rpc_last_rpc_message(f->rpc), "");
}

/* The whole message is kept for classification even when the error text
 * is cut: the suggested range comes last. */
static void test_long_message_kept_whole(void **state)
{
    fixture *f = *state;
    json_t *res = NULL;
    gl_err err;
    assert_int_equal(call(f, M_LONG_MSG, &res, &err), GL_ERPC);
    const char *m = gl_rpc_last_rpc_message(f->rpc);
    assert_true(strlen(m) > 250);
    assert_non_null(strstr(m, "this block range should work: [0x10, 0x2f]"));
    assert_memory_equal(m, "Log response size exceeded.", 27);
}

static void test_malformed_error_object(void **state)
{
    fixture *f = *state;
    json_t *res = NULL;
    gl_err err;
    assert_int_equal(call(f, M_BAD_ERROR, &res, &err), GL_ERPC);
    assert_non_null(strstr(err.msg, "malformed JSON-RPC error object"));
    assert_false(gl_rpc_last_rpc_error(f->rpc, NULL));
}

static void test_http_429_retry_after_seconds(void **state)
{
    fixture *f = *state;
    json_t *res = NULL;
    gl_err err;
    assert_int_equal(call(f, M_429, &res, &err), GL_ERPC);
    assert_null(res);
    assert_non_null(strstr(err.msg, "HTTP status 429"));
    assert_non_null(strstr(err.msg, "rate limited"));
    assert_int_equal(gl_rpc_last_http_status(f->rpc), 429);
    assert_int_equal(gl_rpc_last_retry_after(f->rpc), 7);
    assert_string_equal(gl_rpc_last_retry_after_raw(f->rpc), "7");
    int64_t code = 0;
    assert_true(gl_rpc_last_rpc_error(f->rpc, &code));
    assert_int_equal(code, -32005);
}

static void test_http_429_retry_after_date(void **state)
{
    fixture *f = *state;
    json_t *res = NULL;
    gl_err err;
    assert_int_equal(call(f, M_429_DATE, &res, &err), GL_ERPC);
    /* 2099-10-21T07:28:00Z is 4096250880 s after the epoch. */
    long want = (long)(4096250880LL - (long long)time(NULL));
    long got = gl_rpc_last_retry_after(f->rpc);
    assert_true(got >= want - 5 && got <= want + 5);
    assert_non_null(strstr(err.msg, "slow down"));
    assert_string_equal(gl_rpc_last_retry_after_raw(f->rpc), "Wed, 21 Oct 2099 07:28:00 GMT");
}

static void test_http_503_html(void **state)
{
    fixture *f = *state;
    json_t *res = NULL;
    gl_err err;
    assert_int_equal(call(f, M_503_HTML, &res, &err), GL_ERPC);
    assert_non_null(strstr(err.msg, "HTTP status 503"));
    assert_non_null(strstr(err.msg, "503 Service Unavailable"));
    assert_int_equal(gl_rpc_last_http_status(f->rpc), 503);
    assert_int_equal(gl_rpc_last_retry_after(f->rpc), -1);
    assert_string_equal(gl_rpc_last_retry_after_raw(f->rpc), "");
    /* No JSON-RPC error: the body stands in as the endpoint's words. */
    assert_false(gl_rpc_last_rpc_error(f->rpc, NULL));
    assert_non_null(strstr(gl_rpc_last_rpc_message(f->rpc), "<h1>503 Service Unavailable</h1>"));
}

static void test_not_json(void **state)
{
    fixture *f = *state;
    json_t *res = NULL;
    gl_err err;
    assert_int_equal(call(f, M_GARBAGE, &res, &err), GL_ERPC);
    assert_non_null(strstr(err.msg, "not JSON"));
    assert_non_null(strstr(err.msg, "{not json"));
    assert_int_equal(call(f, M_EMPTY, &res, &err), GL_ERPC);
    assert_non_null(strstr(err.msg, "not JSON"));
    assert_non_null(strstr(err.msg, "empty body"));
}

static void test_wrong_id(void **state)
{
    fixture *f = *state;
    json_t *res = NULL;
    gl_err err;
    assert_int_equal(call(f, M_WRONG_ID, &res, &err), GL_ERPC);
    assert_null(res);
    char want[96];
    snprintf(want, sizeof want, "response id %lld does not match request id %lld", f->c.id + 1000, f->c.id);
    assert_non_null(strstr(err.msg, want));
}

static void test_string_id_tolerated(void **state)
{
    fixture *f = *state;
    json_t *res = NULL;
    assert_int_equal(call(f, M_STRING_ID, &res, NULL), GL_OK);
    assert_string_equal(json_string_value(res), "0x2a");
    json_decref(res);
}

static void test_no_result(void **state)
{
    fixture *f = *state;
    json_t *res = NULL;
    gl_err err;
    assert_int_equal(call(f, M_NO_RESULT, &res, &err), GL_ERPC);
    assert_non_null(strstr(err.msg, "neither result nor error"));
    assert_int_equal(call(f, M_ARRAY, &res, &err), GL_ERPC);
    assert_non_null(strstr(err.msg, "JSON array"));
}

static void test_truncated_body(void **state)
{
    fixture *f = *state;
    json_t *res = NULL;
    gl_err err;
    assert_int_equal(call(f, M_TRUNCATED, &res, &err), GL_EIO);
    assert_null(res);
    assert_non_null(strstr(err.msg, gl_stub_url(f->stub)));
    /* The client recovers on a fresh connection. */
    assert_int_equal(call(f, M_RESULT, &res, &err), GL_OK);
    json_decref(res);
    assert_int_equal(gl_stub_connections(f->stub), 2);
}

static void test_gzip_body(void **state)
{
    fixture *f = *state;
    json_t *res = NULL;
    gl_err err;
    assert_int_equal(call(f, M_GZIP, &res, &err), GL_OK);
    assert_string_equal(json_string_value(res), "0xgzip");
    json_decref(res);
}

static void test_response_cap(void **state)
{
    fixture *f = *state;
    json_t *res = NULL;
    gl_err err;
    gl_rpc_set_max_response(f->rpc, 16);
    assert_int_equal(call(f, M_RESULT, &res, &err), GL_ERANGE);
    assert_null(res);
    assert_non_null(strstr(err.msg, "larger than 16 bytes"));
    gl_rpc_set_max_response(f->rpc, 0);
    assert_int_equal(call(f, M_RESULT, &res, &err), GL_OK);
    json_decref(res);
}

static void test_total_timeout(void **state)
{
    fixture *f = *state;
    json_t *res = NULL;
    gl_err err;
    gl_rpc_set_timeouts(f->rpc, 1000, 200);
    assert_int_equal(call(f, M_SLOW, &res, &err), GL_EIO);
    assert_non_null(strstr(err.msg, "imed out")); /* curl: "Operation timed out after ..." */
    gl_rpc_set_timeouts(f->rpc, 0, 0);
}

static void test_bad_params(void **state)
{
    fixture *f = *state;
    json_t *res = (json_t *)1;
    gl_err err;
    /* The string is stolen even on failure: ASan's leak check watches. */
    assert_int_equal(gl_rpc_call(f->rpc, "eth_call", json_string("nope"), &res, &err), GL_EINVAL);
    assert_null(res);
    assert_non_null(strstr(err.msg, "params must be a JSON array or object"));
    assert_int_equal(gl_rpc_call(f->rpc, NULL, json_array(), &res, &err), GL_EINVAL);
    assert_int_equal(gl_rpc_call(f->rpc, "eth_call", json_array(), NULL, &err), GL_EINVAL);
    assert_int_equal(gl_stub_requests(f->stub), 0);
}

/* A key in the URL never reaches a message: not via the URL, nor via the
 * endpoint quoting it back. */
static void test_secret_scrubbed_from_endpoint_text(void **state)
{
    fixture *f = *state;
    char url[256];
    const char *base = gl_stub_url(f->stub); /* http://127.0.0.1:PORT/ */
    snprintf(url, sizeof url, "http://alice:hunter2pw@%sv3/9aa3d95b3bc440fa88ea12eaa4456161", base + 7);
    gl_err err;
    gl_rpc *rpc = gl_rpc_new(url, &err);
    assert_non_null(rpc);
    f->c.mode = M_ECHO_SECRET;
    json_t *res = NULL;
    assert_int_equal(gl_rpc_call(rpc, "eth_chainId", NULL, &res, &err), GL_ERPC);
    assert_null(strstr(err.msg, "9aa3d95b"));
    assert_null(strstr(err.msg, "hunter2pw"));
    assert_non_null(strstr(err.msg, "invalid project id *** for user ***"));
    assert_non_null(strstr(err.msg, "http://***@127.0.0.1:"));
    assert_null(strstr(gl_rpc_last_rpc_message(rpc), "9aa3d95b"));
    assert_null(strstr(gl_rpc_url_redacted(rpc), "9aa3d95b"));
    gl_rpc_free(rpc);
}

static void test_new_rejects_bad_urls(void **state)
{
    (void)state;
    gl_err err;
    assert_null(gl_rpc_new(NULL, &err));
    assert_int_equal(err.code, GL_EINVAL);
    assert_null(gl_rpc_new("", &err));
    assert_int_equal(err.code, GL_EINVAL);
    assert_null(gl_rpc_new("ftp://rpc.example.com/v3/9aa3d95b3bc440fa88ea12eaa4456161", &err));
    assert_int_equal(err.code, GL_EINVAL);
    assert_non_null(strstr(err.msg, "ftp://rpc.example.com/v3/***"));
    assert_null(strstr(err.msg, "9aa3d95b"));
    assert_null(gl_rpc_new("rpc.example.com:8545", &err));
    assert_int_equal(err.code, GL_EINVAL);
    /* Scheme case does not matter. */
    gl_rpc *rpc = gl_rpc_new("HTTPS://rpc.example.com/", &err);
    assert_non_null(rpc);
    gl_rpc_free(rpc);
    gl_rpc_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crc32_check_value),
        cmocka_unit_test_setup_teardown(test_result_and_request_shape, setup, teardown),
        cmocka_unit_test_setup_teardown(test_keep_alive_and_distinct_ids, setup, teardown),
        cmocka_unit_test_setup_teardown(test_result_null, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rpc_error_object, setup, teardown),
        cmocka_unit_test_setup_teardown(test_long_message_kept_whole, setup, teardown),
        cmocka_unit_test_setup_teardown(test_malformed_error_object, setup, teardown),
        cmocka_unit_test_setup_teardown(test_http_429_retry_after_seconds, setup, teardown),
        cmocka_unit_test_setup_teardown(test_http_429_retry_after_date, setup, teardown),
        cmocka_unit_test_setup_teardown(test_http_503_html, setup, teardown),
        cmocka_unit_test_setup_teardown(test_not_json, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wrong_id, setup, teardown),
        cmocka_unit_test_setup_teardown(test_string_id_tolerated, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_result, setup, teardown),
        cmocka_unit_test_setup_teardown(test_truncated_body, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gzip_body, setup, teardown),
        cmocka_unit_test_setup_teardown(test_response_cap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_total_timeout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_params, setup, teardown),
        cmocka_unit_test_setup_teardown(test_secret_scrubbed_from_endpoint_text, setup, teardown),
        cmocka_unit_test(test_new_rejects_bad_urls),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
