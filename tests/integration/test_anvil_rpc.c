/* test_anvil_rpc.c - the JSON-RPC client and the anvil harness against a real node.
 *
 * Oracles: the chain id, genesis timestamp and gas limit we start anvil
 * with; anvil's documented genesis state (block 0, each dev account funded
 * with 10000 ETH = 0x21e19e0c9bab2400000 wei); JSON-RPC 2.0's "Method not
 * found" code -32601; the kernel's answer for a closed port.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "gpuledger/rpc.h"

#include "../support/anvil.h"

/* A chain id no real network uses, so a stray node could not pass for ours. */
#define TEST_CHAIN_ID 424242ULL

typedef struct fixture {
    gl_anvil *node;
    gl_rpc *rpc;
} fixture;

static int group_setup(void **state)
{
    static fixture f;
    gl_err err;
    gl_anvil_opts o = {.chain_id = TEST_CHAIN_ID};
    if (gl_anvil_start(&o, &f.node, &err)) {
        fprintf(stderr, "cannot start anvil: %s\n", err.msg);
        return -1;
    }
    f.rpc = gl_rpc_new(gl_anvil_url(f.node), &err);
    if (!f.rpc) {
        fprintf(stderr, "cannot create RPC client: %s\n", err.msg);
        gl_anvil_stop(f.node);
        return -1;
    }
    *state = &f;
    return 0;
}

static int group_teardown(void **state)
{
    fixture *f = *state;
    if (!f) /* cmocka runs teardown even when setup failed */
        return 0;
    gl_rpc_free(f->rpc);
    gl_anvil_stop(f->node);
    return 0;
}

/* Call and return the result as a hex quantity parsed to uint64. */
static uint64_t call_quantity(gl_rpc *rpc, const char *method, json_t *params)
{
    json_t *res = NULL;
    gl_err err;
    gl_code rc = gl_rpc_call(rpc, method, params, &res, &err);
    if (rc)
        fail_msg("%s: %s", method, err.msg);
    const char *s = json_string_value(res);
    assert_non_null(s);
    assert_memory_equal(s, "0x", 2);
    char *end = NULL;
    uint64_t v = strtoull(s + 2, &end, 16);
    assert_true(end && *end == '\0' && end != s + 2);
    json_decref(res);
    return v;
}

static void test_chain_id(void **state)
{
    fixture *f = *state;
    assert_int_equal(call_quantity(f->rpc, "eth_chainId", NULL), TEST_CHAIN_ID);
    assert_int_equal(gl_rpc_last_http_status(f->rpc), 200);
    assert_int_equal(gl_anvil_chain_id(f->node), TEST_CHAIN_ID);
    /* A loopback URL has no secret: redaction leaves it alone. */
    assert_string_equal(gl_rpc_url_redacted(f->rpc), gl_anvil_url(f->node));
}

static void test_block_number_and_genesis(void **state)
{
    fixture *f = *state;
    assert_int_equal(call_quantity(f->rpc, "eth_blockNumber", NULL), 0);

    json_t *blk = NULL;
    gl_err err;
    assert_int_equal(gl_rpc_call(f->rpc, "eth_getBlockByNumber", json_pack("[sb]", "0x0", 0), &blk, &err),
                     GL_OK);
    assert_true(json_is_object(blk));
    const char *ts = json_string_value(json_object_get(blk, "timestamp"));
    assert_non_null(ts);
    assert_int_equal(strtoull(ts, NULL, 16), GL_ANVIL_GENESIS_TIMESTAMP);
    json_decref(blk);

    /* Mining one block moves the head to 1. */
    json_t *res = NULL;
    assert_int_equal(gl_rpc_call(f->rpc, "evm_mine", NULL, &res, &err), GL_OK);
    json_decref(res);
    assert_int_equal(call_quantity(f->rpc, "eth_blockNumber", NULL), 1);
}

static void test_dev_account_balance(void **state)
{
    fixture *f = *state;
    for (int i = 0; i < 3; i++) {
        json_t *res = NULL;
        gl_err err;
        assert_int_equal(gl_rpc_call(f->rpc, "eth_getBalance",
                                     json_pack("[ss]", gl_anvil_dev_address(i), "latest"), &res, &err),
                         GL_OK);
        assert_string_equal(json_string_value(res), "0x21e19e0c9bab2400000");
        json_decref(res);
    }
    assert_null(gl_anvil_dev_key(GL_ANVIL_DEV_ACCOUNTS));
    assert_null(gl_anvil_dev_address(-1));
}

static void test_unknown_method(void **state)
{
    fixture *f = *state;
    json_t *res = (json_t *)1;
    gl_err err;
    assert_int_equal(gl_rpc_call(f->rpc, "eth_noSuchMethod", NULL, &res, &err), GL_ERPC);
    assert_null(res);
    assert_int_equal(err.code, GL_ERPC);
    assert_non_null(strstr(err.msg, "eth_noSuchMethod"));
    assert_non_null(strstr(err.msg, "-32601"));
    int64_t code = 0;
    assert_true(gl_rpc_last_rpc_error(f->rpc, &code));
    assert_int_equal(code, -32601);
    /* The connection is still good afterwards. */
    assert_int_equal(call_quantity(f->rpc, "eth_chainId", NULL), TEST_CHAIN_ID);
}

/* A loopback port with nobody listening: bind port 0, note it, close. */
static unsigned closed_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    close(fd);
    return ntohs(a.sin_port);
}

static void test_connection_refused_names_redacted_url(void **state)
{
    (void)state;
    unsigned port = closed_port();
    char url[256], want[256];
    snprintf(url, sizeof url, "http://alice:hunter2pw@127.0.0.1:%u/v3/9aa3d95b3bc440fa88ea12eaa4456161", port);
    snprintf(want, sizeof want, "http://***@127.0.0.1:%u/v3/***", port);
    gl_err err;
    gl_rpc *rpc = gl_rpc_new(url, &err);
    assert_non_null(rpc);
    json_t *res = (json_t *)1;
    assert_int_equal(gl_rpc_call(rpc, "eth_chainId", NULL, &res, &err), GL_EIO);
    assert_null(res);
    assert_non_null(strstr(err.msg, want));
    assert_non_null(strstr(err.msg, "eth_chainId"));
    assert_null(strstr(err.msg, "hunter2pw"));
    assert_null(strstr(err.msg, "9aa3d95b"));
    assert_int_equal(gl_rpc_last_http_status(rpc), 0);
    gl_rpc_free(rpc);
}

/* The harness passes extra arguments and the chain id through, and stop
 * leaves no process behind. */
static void test_harness_options_and_stop(void **state)
{
    (void)state;
    static const char *const extra[] = {"--gas-limit", "12345678", "--no-mining", NULL};
    gl_anvil_opts o = {.chain_id = 8453, .extra_args = extra};
    gl_anvil *node = NULL;
    gl_err err;
    if (gl_anvil_start(&o, &node, &err))
        fail_msg("%s", err.msg);
    gl_rpc *rpc = gl_rpc_new(gl_anvil_url(node), &err);
    assert_non_null(rpc);
    assert_int_equal(call_quantity(rpc, "eth_chainId", NULL), 8453);
    json_t *blk = NULL;
    assert_int_equal(gl_rpc_call(rpc, "eth_getBlockByNumber", json_pack("[sb]", "latest", 0), &blk, &err), GL_OK);
    assert_int_equal(strtoull(json_string_value(json_object_get(blk, "gasLimit")), NULL, 16), 12345678);
    json_decref(blk);
    gl_rpc_free(rpc);

    /* anvil's output is readable (it printed the chain id it runs) though
     * its file is already unlinked. */
    char tail[8192];
    gl_anvil_log_tail(node, tail, sizeof tail);
    assert_non_null(strstr(tail, "Listening on 127.0.0.1:"));
    const char *keep = getenv("GPULEDGER_KEEP_ANVIL_LOG");
    if (keep && *keep && strcmp(keep, "0"))
        assert_int_equal(access(gl_anvil_log_path(node), R_OK), 0);
    else
        assert_string_equal(gl_anvil_log_path(node), "");

    pid_t pid = gl_anvil_pid(node);
    assert_true(pid > 0);
    assert_int_equal(kill(pid, 0), 0);
    gl_anvil_stop(node);
    assert_int_equal(kill(pid, 0), -1);
    assert_int_equal(errno, ESRCH);
}

/* A node that cannot start is reported quickly, with anvil's own words. */
static void test_harness_reports_early_exit(void **state)
{
    (void)state;
    static const char *const extra[] = {"--no-such-flag", NULL};
    gl_anvil_opts o = {.extra_args = extra};
    gl_anvil *node = (gl_anvil *)1;
    gl_err err;
    time_t t0 = time(NULL);
    assert_int_equal(gl_anvil_start(&o, &node, &err), GL_EIO);
    assert_null(node);
    assert_true(time(NULL) - t0 < 10);
    assert_non_null(strstr(err.msg, "exited"));
    assert_non_null(strstr(err.msg, "--no-such-flag"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_chain_id),
        cmocka_unit_test(test_block_number_and_genesis),
        cmocka_unit_test(test_dev_account_balance),
        cmocka_unit_test(test_unknown_method),
        cmocka_unit_test(test_connection_refused_names_redacted_url),
        cmocka_unit_test(test_harness_options_and_stop),
        cmocka_unit_test(test_harness_reports_early_exit),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
