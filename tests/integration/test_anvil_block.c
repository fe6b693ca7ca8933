/* test_anvil_block.c - block verification against a real node (anvil).
 *
 * The node is the oracle: under each hardfork anvil 1.7.1 accepts (from
 * frontier to osaka), its dev accounts send transactions of every type the
 * fork allows (0; 1 from Berlin; 2 from London; a contract creation) through
 * eth_sendTransaction, they are mined into one block with evm_mine, and then
 * every block from 0 to the head, fetched with eth_getBlockByNumber(n, true),
 * must pass gl_block_verify with every check matching: the header hash,
 * sha3Uncles, transactionsRoot, each transaction's hash and sender, and
 * withdrawalsRoot from Shanghai on.  One fork mines 140 transactions into a
 * block, so the transactions trie has keys rlp(i) for i >= 128.
 *
 * anvil writes blobGasUsed and excessBlobGas into the genesis block of
 * every hardfork and hashes them even where the fields before them are
 * absent: such a header must be refused by the strict reading, naming the
 * field, and GL_BLOCK_FORK_GAPS must reproduce anvil's hash.  Every other
 * block is read strictly.
 *
 * Finally an altered copy of the last block (a header field, a
 * transaction's value, a signature's s) must fail, naming the check.
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

#include "gpuledger/block.h"
#include "gpuledger/rpc.h"
#include "gpuledger/secp.h"

#include "../support/anvil.h"

typedef struct fork_case {
    const char *hardfork;
    int max_type;     /* highest transaction type the fork takes */
    bool withdrawals; /* Shanghai or later */
    int extra_txs;    /* plain transfers added to the mined block */
} fork_case;

typedef struct fixture {
    gl_anvil *node;
    gl_rpc *rpc;
} fixture;

static gl_secp *secp_ctx;

static int group_setup(void **state)
{
    (void)state;
    secp_ctx = gl_secp_new(NULL);
    return secp_ctx ? 0 : -1;
}

static int group_teardown(void **state)
{
    (void)state;
    gl_secp_free(secp_ctx);
    return 0;
}

/* ---------------------------------------------------------------- plumbing */

static json_t *call(gl_rpc *rpc, const char *method, json_t *params)
{
    json_t *res = NULL;
    gl_err err = {0};
    if (gl_rpc_call(rpc, method, params, &res, &err) != GL_OK)
        fail_msg("%s: %s", method, err.msg);
    return res;
}

static void start_node(const fork_case *fc, fixture *f)
{
    const char *args[] = {"--hardfork", fc->hardfork, "--no-mining", NULL};
    gl_anvil_opts opts = {0, 0, args, 0};
    gl_err err = {0};
    memset(f, 0, sizeof *f);
    if (gl_anvil_start(&opts, &f->node, &err) != GL_OK)
        fail_msg("cannot start anvil --hardfork %s: %s", fc->hardfork, err.msg);
    f->rpc = gl_rpc_new(gl_anvil_url(f->node), &err);
    if (!f->rpc) {
        gl_anvil_stop(f->node);
        fail_msg("%s", err.msg);
    }
}

static void stop_node(fixture *f)
{
    gl_rpc_free(f->rpc);
    gl_anvil_stop(f->node);
}

/* eth_sendTransaction from dev account `from` (anvil signs). */
static void send_tx(fixture *f, int from, int type, bool create)
{
    json_t *tx = json_pack("{s:s, s:s}", "from", gl_anvil_dev_address(from), "value", "0x2386f26fc10000");
    if (create) /* init code returning an empty contract: PUSH1 0 PUSH1 0 RETURN */
        json_object_set_new(tx, "data", json_string("0x60006000f3"));
    else
        json_object_set_new(tx, "to", json_string(gl_anvil_dev_address((from + 1) % GL_ANVIL_DEV_ACCOUNTS)));
    if (type == 2) {
        json_object_set_new(tx, "maxFeePerGas", json_string("0x12a05f2000"));
        json_object_set_new(tx, "maxPriorityFeePerGas", json_string("0x3b9aca00"));
    } else {
        json_object_set_new(tx, "gasPrice", json_string("0x12a05f2000"));
    }
    if (type == 1)
        json_object_set_new(tx, "accessList",
                            json_pack("[{s:s, s:[s]}]", "address", gl_anvil_dev_address(9), "storageKeys",
                                      "0x0000000000000000000000000000000000000000000000000000000000000007"));
    json_t *hash = call(f->rpc, "eth_sendTransaction", json_pack("[o]", tx));
    assert_true(json_is_string(hash));
    json_decref(hash);
}

static uint64_t head_number(fixture *f)
{
    json_t *r = call(f->rpc, "eth_blockNumber", NULL);
    assert_true(json_is_string(r));
    uint64_t n = strtoull(json_string_value(r), NULL, 16);
    json_decref(r);
    return n;
}

static json_t *get_block(fixture *f, uint64_t n)
{
    char num[32];
    snprintf(num, sizeof num, "0x%llx", (unsigned long long)n);
    json_t *b = call(f->rpc, "eth_getBlockByNumber", json_pack("[sb]", num, 1));
    assert_true(json_is_object(b));
    return b;
}

/* The same hex value with its last digit changed. */
static void bump_field(json_t *obj, const char *key)
{
    const char *v = json_string_value(json_object_get(obj, key));
    assert_non_null(v);
    char *s = strdup(v);
    size_t n = strlen(s);
    s[n - 1] = s[n - 1] == '1' ? '2' : '1';
    json_object_set_new(obj, key, json_string(s));
    free(s);
}

static const char *mismatches(const gl_block_report *r, char *buf, size_t cap)
{
    buf[0] = '\0';
    for (size_t i = 0; i < r->n; i++)
        if (r->checks[i].status == GL_BLOCK_MISMATCH) {
            size_t len = strlen(buf);
            snprintf(buf + len, cap - len, "%s%s", len ? "," : "", r->checks[i].field);
        }
    return buf;
}

/* ------------------------------------------------------------- the checks */

/* Does the block have Cancun's blob fields without a field before them? */
static bool gapped(const json_t *b)
{
    return json_object_get(b, "blobGasUsed") &&
           (!json_object_get(b, "baseFeePerGas") || !json_object_get(b, "withdrawalsRoot"));
}

/* Every check of block b matches (receiptsRoot aside: not in a block). */
static void verify_block(const fork_case *fc, const json_t *b, uint64_t n)
{
    gl_block_report rep;
    gl_err err = {0};
    char mm[4096];
    unsigned flags = gapped(b) ? GL_BLOCK_FORK_GAPS : 0;
    gl_block_report_init(&rep);
    if (flags) {
        /* strictly, anvil's header is malformed: the gap is named */
        assert_int_equal(gl_block_verify(secp_ctx, b, &rep, &err), GL_EINVAL);
        assert_non_null(strstr(err.msg, "'blobGasUsed' is present"));
    }
    if (gl_block_verify_ex(secp_ctx, b, flags, &rep, &err) != GL_OK)
        fail_msg("%s block %llu: %s", fc->hardfork, (unsigned long long)n, err.msg);
    if (rep.mismatched)
        fail_msg("%s block %llu: mismatches: %s", fc->hardfork, (unsigned long long)n,
                 mismatches(&rep, mm, sizeof mm));
    size_t ntx = json_array_size(json_object_get(b, "transactions"));
    assert_int_equal(rep.ntx, ntx);
    /* hash, sha3Uncles, transactionsRoot, 2 per transaction, withdrawalsRoot */
    assert_int_equal(rep.matched, 3 + 2 * ntx + (fc->withdrawals ? 1 : 0));
    assert_int_equal(rep.not_checked, 1);
    assert_int_equal(rep.checks[rep.n - 1].kind, GL_CHECK_RECEIPTS_ROOT);
    assert_true(rep.has_hash);
    gl_block_report_release(&rep);
}

static void verify_altered(const json_t *b)
{
    unsigned flags = gapped(b) ? GL_BLOCK_FORK_GAPS : 0;
    gl_block_report rep;
    char mm[4096], want[256];
    gl_block_report_init(&rep);

    json_t *alt = json_deep_copy(b);
    bump_field(alt, "stateRoot");
    assert_int_equal(gl_block_verify_ex(secp_ctx, alt, flags, &rep, NULL), GL_OK);
    assert_string_equal(mismatches(&rep, mm, sizeof mm), "hash");
    json_decref(alt);

    alt = json_deep_copy(b);
    json_t *tx0 = json_array_get(json_object_get(alt, "transactions"), 0);
    json_object_set_new(tx0, "value", json_string("0x2386f26fc10001"));
    assert_int_equal(gl_block_verify_ex(secp_ctx, alt, flags, &rep, NULL), GL_OK);
    assert_string_equal(mismatches(&rep, mm, sizeof mm),
                        "transactionsRoot,transactions[0].hash,transactions[0].from");
    json_decref(alt);

    alt = json_deep_copy(b);
    size_t last = json_array_size(json_object_get(alt, "transactions")) - 1;
    bump_field(json_array_get(json_object_get(alt, "transactions"), last), "s");
    assert_int_equal(gl_block_verify_ex(secp_ctx, alt, flags, &rep, NULL), GL_OK);
    snprintf(want, sizeof want, "transactionsRoot,transactions[%zu].hash,transactions[%zu].from", last, last);
    assert_string_equal(mismatches(&rep, mm, sizeof mm), want);
    json_decref(alt);
    gl_block_report_release(&rep);
}

static void run_fork(const fork_case *fc)
{
    fixture f;
    start_node(fc, &f);
    /* block 1: one transaction of each type the fork takes, plus a creation */
    for (int type = 0; type <= fc->max_type; type++)
        send_tx(&f, type, type, false);
    send_tx(&f, 3, 0, true);
    json_decref(call(f.rpc, "evm_mine", NULL));
    /* block 2: many transfers from rotating accounts */
    for (int i = 0; i < fc->extra_txs; i++)
        send_tx(&f, i % GL_ANVIL_DEV_ACCOUNTS, i % (fc->max_type + 1), false);
    if (fc->extra_txs)
        json_decref(call(f.rpc, "evm_mine", NULL));
    uint64_t head = head_number(&f);
    assert_int_equal(head, fc->extra_txs ? 2 : 1);
    json_t *last = NULL;
    for (uint64_t n = 0; n <= head; n++) {
        json_t *b = get_block(&f, n);
        verify_block(fc, b, n);
        json_decref(last);
        last = b;
    }
    assert_int_equal(json_array_size(json_object_get(last, "transactions")),
                     fc->extra_txs ? (size_t)fc->extra_txs : (size_t)fc->max_type + 2);
    verify_altered(last);
    json_decref(last);
    stop_node(&f);
}

/* ------------------------------------------------------------------ tests */

#define FORK_TEST(name, maxtype, wd, extra)                                                        \
    static void test_##name(void **state)                                                         \
    {                                                                                             \
        (void)state;                                                                              \
        static const fork_case fc = {#name, maxtype, wd, extra};                                  \
        run_fork(&fc);                                                                            \
    }

FORK_TEST(frontier, 0, false, 0)
FORK_TEST(homestead, 0, false, 3)
FORK_TEST(berlin, 1, false, 0)
FORK_TEST(london, 2, false, 5)
FORK_TEST(paris, 2, false, 0)
FORK_TEST(shanghai, 2, true, 0)
FORK_TEST(cancun, 2, true, 140)
FORK_TEST(prague, 2, true, 4)
FORK_TEST(osaka, 2, true, 0)

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_frontier), cmocka_unit_test(test_homestead), cmocka_unit_test(test_berlin),
        cmocka_unit_test(test_london),   cmocka_unit_test(test_paris),     cmocka_unit_test(test_shanghai),
        cmocka_unit_test(test_cancun),   cmocka_unit_test(test_prague),    cmocka_unit_test(test_osaka),
    };
    return cmocka_run_group_tests_name("anvil_block", tests, group_setup, group_teardown);
}
