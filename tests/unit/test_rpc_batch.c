/* test_rpc_batch.c - gl_rpc_call_batch against a stub server.
 *
 * The stub reads the batch the client sent (a JSON array of requests) and
 * answers as each test wants: in reverse order (answers must be matched by
 * id, as JSON-RPC 2.0 allows any order), with one error object, with an
 * answer missing, or with a single error object instead of an array (how
 * some endpoints refuse batches).  Oracle: the JSON-RPC 2.0 specification's
 * batch rules, and the requests the stub saw.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "gpuledger/rpc.h"

#include "../support/testutil.h"

typedef enum mode { REVERSED, ONE_ERROR, ONE_MISSING, NOT_ARRAY } mode;

typedef struct stub_ctx {
    mode m;
    size_t seen;  /* requests in the last batch */
    char methods[8][32];
} stub_ctx;

static void handler(void *vctx, unsigned nreq, const char *head, const char *body, size_t body_len, gl_buf *resp)
{
    (void)nreq;
    (void)head;
    stub_ctx *c = vctx;
    json_t *req = json_loadb(body, body_len, 0, NULL);
    json_t *out = json_array();
    c->seen = json_array_size(req);
    for (size_t k = json_array_size(req); k-- > 0;) { /* reversed */
        json_t *r = json_array_get(req, k);
        json_t *id = json_object_get(r, "id");
        if (k < 8)
            snprintf(c->methods[k], sizeof c->methods[k], "%s", json_string_value(json_object_get(r, "method")));
        if (c->m == ONE_MISSING && k == 1)
            continue;
        if (c->m == ONE_ERROR && k == 2) {
            json_array_append_new(out, json_pack("{s:s, s:O, s:{s:i, s:s}}", "jsonrpc", "2.0", "id", id, "error",
                                                 "code", -32000, "message", "nonce too low"));
            continue;
        }
        /* the result echoes the first param, so the client's matching shows */
        json_t *p0 = json_array_get(json_object_get(r, "params"), 0);
        json_array_append_new(out, json_pack("{s:s, s:O, s:O}", "jsonrpc", "2.0", "id", id, "result", p0));
    }
    if (c->m == NOT_ARRAY) {
        json_decref(out);
        out = json_pack("{s:s, s:n, s:{s:i, s:s}}", "jsonrpc", "2.0", "id", "error", "code", -32600, "message",
                        "batch requests are not supported");
    }
    char *s = json_dumps(out, JSON_COMPACT);
    gl_stub_reply(resp, 200, NULL, s, strlen(s));
    free(s);
    json_decref(out);
    json_decref(req);
}

static gl_code call4(stub_ctx *c, json_t **results, gl_err *err)
{
    gl_stub *s = gl_stub_start(handler, c);
    assert_non_null(s);
    gl_rpc *rpc = gl_rpc_new(gl_stub_url(s), err);
    assert_non_null(rpc);
    const char *methods[4] = {"eth_a", "eth_b", "eth_c", "eth_d"};
    json_t *params[4];
    for (int i = 0; i < 4; i++)
        params[i] = json_pack("[i]", 100 + i);
    gl_code rc = gl_rpc_call_batch(rpc, 4, methods, params, results, err);
    for (int i = 0; i < 4; i++)
        assert_null(params[i]); /* stolen */
    gl_rpc_free(rpc);
    gl_stub_stop(s);
    return rc;
}

static void test_answers_matched_by_id(void **state)
{
    (void)state;
    stub_ctx c = {.m = REVERSED};
    json_t *res[4];
    gl_err err;
    assert_int_equal(call4(&c, res, &err), GL_OK);
    assert_int_equal(c.seen, 4);
    assert_string_equal(c.methods[0], "eth_a");
    assert_string_equal(c.methods[3], "eth_d");
    for (int i = 0; i < 4; i++) {
        assert_int_equal(json_integer_value(res[i]), 100 + i);
        json_decref(res[i]);
    }
}

static void test_item_error_names_it(void **state)
{
    (void)state;
    stub_ctx c = {.m = ONE_ERROR};
    json_t *res[4];
    gl_err err;
    assert_int_equal(call4(&c, res, &err), GL_ERPC);
    assert_non_null(strstr(err.msg, "item 2 (eth_c)"));
    assert_non_null(strstr(err.msg, "nonce too low"));
    for (int i = 0; i < 4; i++)
        assert_null(res[i]);
}

static void test_missing_answer(void **state)
{
    (void)state;
    stub_ctx c = {.m = ONE_MISSING};
    json_t *res[4];
    gl_err err;
    assert_int_equal(call4(&c, res, &err), GL_ERPC);
    assert_non_null(strstr(err.msg, "1 of 4 answers missing"));
    for (int i = 0; i < 4; i++)
        assert_null(res[i]);
}

static void test_refused_batch(void **state)
{
    (void)state;
    stub_ctx c = {.m = NOT_ARRAY};
    json_t *res[4];
    gl_err err;
    assert_int_equal(call4(&c, res, &err), GL_ERPC);
    assert_non_null(strstr(err.msg, "batch requests are not supported"));
}

static void test_empty_and_bad_args(void **state)
{
    (void)state;
    gl_err err;
    gl_rpc *rpc = gl_rpc_new("http://127.0.0.1:1/", &err);
    assert_non_null(rpc);
    assert_int_equal(gl_rpc_call_batch(rpc, 0, NULL, NULL, NULL, &err), GL_OK); /* nothing sent */
    const char *m[1] = {"eth_x"};
    json_t *p[1] = {json_string("not params")};
    json_t *r[1];
    assert_int_equal(gl_rpc_call_batch(rpc, 1, m, p, r, &err), GL_EINVAL);
    assert_null(p[0]);
    assert_null(r[0]);
    gl_rpc_free(rpc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_answers_matched_by_id),
        cmocka_unit_test(test_item_error_names_it),
        cmocka_unit_test(test_missing_answer),
        cmocka_unit_test(test_refused_batch),
        cmocka_unit_test(test_empty_and_bad_args),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
