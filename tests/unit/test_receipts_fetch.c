/* test_receipts_fetch.c - gl_receipts_fetch (receipts_fetch.h) against a
 * stub endpoint whose every answer is written here by hand: the receipts
 * of each block as eth_getBlockReceipts gives them; after an "unknown
 * method" refusal, one eth_getTransactionReceipt per transaction hash (the
 * switch learned once and kept), a receipt the endpoint lacks left null;
 * an answer that is not a list left NULL for the proof; any other failure
 * returned, nothing switched. */
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
#include "gpuledger/receipts_fetch.h"

#include "../support/testutil.h"

typedef enum mode {
    M_BLOCK,      /* eth_getBlockReceipts answers */
    M_NO_METHOD,  /* eth_getBlockReceipts: -32601 method not found */
    M_NOT_A_LIST, /* eth_getBlockReceipts: block 0x8's result is a string */
    M_DOWN,       /* every request: HTTP 503 */
} mode;

typedef struct ctx {
    mode m;
    unsigned by_block, by_tx; /* calls seen of each method */
} ctx;

/* The answer to one call (object `call`) as the endpoint in mode m gives it. */
static json_t *answer(ctx *c, const json_t *call)
{
    const char *method = json_string_value(json_object_get(call, "method"));
    const json_t *arg = json_array_get(json_object_get(call, "params"), 0);
    json_t *a = json_pack("{s:s,s:O}", "jsonrpc", "2.0", "id", json_object_get(call, "id"));
    if (!strcmp(method, "eth_getBlockReceipts")) {
        c->by_block++;
        const char *n = json_string_value(arg);
        if (c->m == M_NO_METHOD)
            json_object_set_new(a, "error", json_pack("{s:i,s:s}", "code", -32601, "message",
                                                      "the method eth_getBlockReceipts does not exist"));
        else if (c->m == M_NOT_A_LIST && !strcmp(n, "0x8"))
            json_object_set_new(a, "result", json_string("receipts"));
        else /* two receipts a block, named after it */
            json_object_set_new(a, "result", json_pack("[{s:s,s:s},{s:s,s:s}]", "blockNumber", n, "transactionHash",
                                                       "0xa", "blockNumber", n, "transactionHash", "0xb"));
    } else {
        c->by_tx++;
        const char *h = json_string_value(arg);
        json_object_set_new(a, "result", h && strcmp(h, "0xdead") ? json_pack("{s:s}", "transactionHash", h)
                                                                  : json_null());
    }
    return a;
}

static void handler(void *vctx, unsigned nreq, const char *head, const char *body, size_t body_len, gl_buf *resp)
{
    (void)nreq;
    (void)head;
    ctx *c = vctx;
    if (c->m == M_DOWN) {
        gl_stub_reply(resp, 503, NULL, "busy", 4);
        return;
    }
    json_t *req = json_loadb(body, body_len, 0, NULL), *out;
    if (json_is_array(req)) {
        out = json_array();
        for (size_t i = 0; i < json_array_size(req); i++)
            json_array_append_new(out, answer(c, json_array_get(req, i)));
    } else {
        out = answer(c, req);
    }
    char *text = json_dumps(out, JSON_COMPACT);
    gl_stub_reply(resp, 200, NULL, text, strlen(text));
    free(text);
    json_decref(out);
    json_decref(req);
}

/* Two blocks: 7 with full transaction objects, 8 with hashes (one the
 * endpoint has no receipt for): fixture.txs. */
static const uint64_t NUMS[2] = {7, 8};

typedef struct fixture {
    ctx c;
    gl_stub *stub;
    gl_endpoints *e;
    json_t *txs[2]; /* of the blocks NUMS */
    bool per_tx;
} fixture;

static void start(fixture *f, mode m)
{
    memset(f, 0, sizeof *f);
    f->c.m = m;
    f->stub = gl_stub_start(handler, &f->c);
    assert_non_null(f->stub);
    const char *url = gl_stub_url(f->stub);
    /* one connection: the stub serves one at a time */
    gl_endpoint_opts o = {.urls = &url, .nurls = 1, .max_concurrency = 1, .max_attempts = 2, .backoff_base_ms = 1, .backoff_cap_ms = 2,
                          .seed = 1, .timeout_ms = 5000};
    gl_err err;
    f->e = gl_endpoints_new(&o, &err);
    assert_non_null(f->e);
    f->txs[0] = json_pack("[{s:s},{s:s}]", "hash", "0x71", "hash", "0x72");
    f->txs[1] = json_pack("[s,s,s]", "0x81", "0xdead", "0x83");
}

static void stop(fixture *f)
{
    gl_endpoints_free(f->e);
    gl_stub_stop(f->stub);
    for (int j = 0; j < 2; j++)
        json_decref(f->txs[j]);
}

/* gl_receipts_fetch of the first n blocks of NUMS, f->per_tx carried. */
static gl_code fetch(fixture *f, size_t n, gl_err *why, json_t **out, gl_err *err)
{
    return gl_receipts_fetch(f->e, n, NUMS, (const json_t *const *)f->txs, &f->per_tx, why, out, err);
}

static void test_by_block(void **state)
{
    (void)state;
    fixture f;
    start(&f, M_BLOCK);
    json_t *out[2];
    gl_err err, why = {0};
    assert_int_equal(fetch(&f, 2, &why, out, &err), GL_OK);
    assert_false(f.per_tx);
    assert_int_equal(f.c.by_block, 2);
    assert_int_equal(f.c.by_tx, 0);
    assert_int_equal(json_array_size(out[0]), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(out[0], 0), "blockNumber")), "0x7");
    assert_string_equal(json_string_value(json_object_get(json_array_get(out[1], 1), "blockNumber")), "0x8");
    for (int j = 0; j < 2; j++)
        json_decref(out[j]);
    stop(&f);
}

static void test_switch_to_per_tx(void **state)
{
    (void)state;
    fixture f;
    start(&f, M_NO_METHOD);
    json_t *out[2];
    gl_err err, why = {0};
    if (fetch(&f, 2, &why, out, &err))
        fail_msg("%s", err.msg);
    assert_true(f.per_tx);
    assert_non_null(strstr(why.msg, "does not exist"));
    assert_int_equal(f.c.by_tx, 5);
    assert_int_equal(json_array_size(out[0]), 2);
    assert_int_equal(json_array_size(out[1]), 3);
    assert_string_equal(json_string_value(json_object_get(json_array_get(out[0], 1), "transactionHash")), "0x72");
    assert_string_equal(json_string_value(json_object_get(json_array_get(out[1], 0), "transactionHash")), "0x81");
    assert_true(json_is_null(json_array_get(out[1], 1))); /* no receipt: null, for the proof to catch */
    assert_string_equal(json_string_value(json_object_get(json_array_get(out[1], 2), "transactionHash")), "0x83");
    for (int j = 0; j < 2; j++)
        json_decref(out[j]);
    /* learned: the next call asks per transaction straight away */
    unsigned before = f.c.by_block;
    if (fetch(&f, 1, &why, out, &err))
        fail_msg("%s", err.msg);
    assert_int_equal(f.c.by_block, before);
    assert_int_equal(json_array_size(out[0]), 2);
    json_decref(out[0]);
    stop(&f);
}

static void test_not_a_list(void **state)
{
    (void)state;
    fixture f;
    start(&f, M_NOT_A_LIST);
    json_t *out[2];
    gl_err err;
    assert_int_equal(fetch(&f, 2, NULL, out, &err), GL_OK);
    assert_false(f.per_tx);
    assert_int_equal(json_array_size(out[0]), 2);
    assert_null(out[1]);
    json_decref(out[0]);
    stop(&f);
}

static void test_failure_returned(void **state)
{
    (void)state;
    fixture f;
    start(&f, M_DOWN);
    json_t *out[2] = {json_true(), json_true()};
    gl_err err = {0};
    gl_code rc = fetch(&f, 2, NULL, out, &err);
    assert_int_not_equal(rc, GL_OK);
    assert_false(f.per_tx); /* a busy endpoint does not lack the method */
    assert_null(out[0]);
    assert_null(out[1]);
    assert_true(err.msg[0] != '\0');
    stop(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_by_block),
        cmocka_unit_test(test_switch_to_per_tx),
        cmocka_unit_test(test_not_a_list),
        cmocka_unit_test(test_failure_returned),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
