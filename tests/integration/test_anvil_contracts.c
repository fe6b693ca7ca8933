/* test_anvil_contracts.c - the test markets deployed on a real node.
 *
 * Each compiled contract in fixtures/contracts/build/ is deployed on anvil
 * from an unlocked dev account (eth_sendTransaction), one representative
 * call per contract is made, and the receipt's logs are checked: emitting
 * address, topic0, the indexed fields, and the data words that matter.
 *
 * Oracles: the topic0 values are the published ones (go-livepeer's and
 * Swan's bindings, EIP-20) or computed with js-sha3 (see
 * tests/unit/test_contract_events.c); indexed fields are built by hand here
 * from the accounts and values the test chose (an address left-padded to
 * 32 bytes, keccak256 of an indexed string, Golem's id = funder << 96 ^
 * nonce written out byte by byte); amounts are computed by hand from the
 * arguments; token balances come from the node (balanceOf via eth_call).
 * Calldata is built with the ABI module's encoder: a wrong encoding makes a
 * call revert or log other values, so it cannot pass unnoticed.
 */
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <jansson.h>

#include "gpuledger/abi.h"
#include "gpuledger/bytes.h"
#include "gpuledger/keccak.h"
#include "gpuledger/rpc.h"

#include "../support/anvil.h"
#include "../support/testutil.h"

#define T_TRANSFER "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef"
#define T_OFFER_REGISTERED "0x888e3d4801ab98f8c8eb6c1747d44a265ebb2190058c02e4a0447bc651484062"
#define T_LEASE_OPENED "0x40fcf96eeaa5d1717fcf2d1c97b55443838af6aaf384f0654618ae2a3ff00a87"
#define T_LEASE_EXTENDED "0x75752688c44afc6bd1825048e4a23adcb4377214b496f65d2951325ce6c4d3b9"
#define T_LEASE_ENDED "0x38396466dc5bdfbf9aa20bfbf82ec4f642fe89c1b4be1d52281afa7a3adcbbb6"
#define T_WITHDRAWAL "0x2717ead6b9200dd235aad468c9809ea400fe33ac69b5bfaa6d3e90fc922b6398"
#define T_DEPOSIT_FUNDED "0x5159e237d952190e68d5215430f305831be7c9c8776d1377c76679ae4773413f"
#define T_RESERVE_FUNDED "0xb52b99b9e83551fcbd069b559cc3e823e2a1a3bad8ece46561ea77524394c850"
#define T_TICKET_TRANSFER "0x8b87351a208c06e3ceee59d80725fd77a23b4129e1b51ca231fc89b40712649c"
#define T_TICKET_REDEEMED "0xc389eb51ed006dbf2528507f010efdf5225ea596e1e1741d74f550dab1925ee7"
#define T_DEPOSIT_CREATED "0x788f62f195987bb297862ea62b31d08e6c02dd48c82691e3690b2a32b8fb759b"
#define T_DEPOSIT_TRANSFER "0x4e024b1a4230fccb351fc854e250a45569711fc304c1af0abc494165d2936063"
#define T_ORDER_CREATED "0xbf0becce6edeae4f448544a778fc7f178eeac2b2cefaef1b707c05bffa5d43d2"
#define T_LEASE_CREATED "0x5ac8ea04e47ef9fd0cb3dc8fb52cafc453271d39b0e0b60c8674e64bf08737c4"
#define T_ORDER_MATCHED "0xf50b3cb342f0081a2c26e7b8816717154b65d850ef73d68a185a3613c719f7b4"
#define T_TASK_CREATED "0x1455e6e35b1b89916dd3024a995f41593b0b27f0e7cb61b253a69ba2c2d37951"
#define T_TASK_COMPLETED "0x2ea2764b7d80d0107c1d2c0210ead4a6fdee0f86235483a041d9faffbf875880"
#define T_REWARD_RELEASED "0x6504a330caacb9bebf5a13c7a7356d83a2ff093b07185671301738c1761475d2"
/* DealCreated with Fluence's 13 parameters: keccak of
 * DealCreated(address,address,uint256,address,uint256,uint256,uint256,uint256,(bytes4,bytes32)[],(bytes4,bytes32),uint8,address[],uint256)
 * by js-sha3 (also ../shared/sources/platform-definitions-check.md) */
#define T_DEAL_CREATED "0xb713fb1962af63e77449fd5d1fdf718c9ec7582040f62658c15d12f28310352f"
#define T_DEPOSITED "0x2a89b2e3d580398d6dc2db5e0f336b52602bbaa51afa9bb5cdf59239cf0d2bea"
#define T_PROVIDER_PAID "0xb72ef6a0e5a62f73e52dd5fa571d9f28d0d3c7895c4e1b60e5a8d01e879957ac"

#define ZERO_ADDR "0x0000000000000000000000000000000000000000"

/* ------------------------------------------------------------------ */
/* Node and accounts                                                    */

typedef struct env {
    gl_anvil *node;
    gl_rpc *rpc;
    char acct[GL_ANVIL_DEV_ACCOUNTS][43]; /* lowercase */
} env;

static void lower_copy(char *dst, const char *src, size_t cap)
{
    size_t n = strlen(src);
    assert_true(n < cap);
    for (size_t i = 0; i <= n; i++)
        dst[i] = (char)((src[i] >= 'A' && src[i] <= 'F') ? src[i] - 'A' + 'a' : src[i]);
}

static int group_setup(void **state)
{
    static env e;
    gl_err err;
    if (gl_anvil_start(NULL, &e.node, &err)) {
        fprintf(stderr, "cannot start anvil: %s\n", err.msg);
        return -1;
    }
    e.rpc = gl_rpc_new(gl_anvil_url(e.node), &err);
    if (!e.rpc) {
        fprintf(stderr, "cannot create RPC client: %s\n", err.msg);
        gl_anvil_stop(e.node);
        return -1;
    }
    for (int i = 0; i < GL_ANVIL_DEV_ACCOUNTS; i++)
        lower_copy(e.acct[i], gl_anvil_dev_address(i), sizeof e.acct[i]);
    *state = &e;
    return 0;
}

static int group_teardown(void **state)
{
    env *e = *state;
    if (!e)
        return 0;
    gl_rpc_free(e->rpc);
    gl_anvil_stop(e->node);
    return 0;
}

static json_t *rpc_ok(env *e, const char *method, json_t *params)
{
    json_t *res = NULL;
    gl_err err;
    if (gl_rpc_call(e->rpc, method, params, &res, &err))
        fail_msg("%s: %s", method, err.msg);
    return res;
}

/* ------------------------------------------------------------------ */
/* ABI encoding (through the ABI module)                                */

static void encode_tuple(gl_buf *out, const char *types, json_t *args /* stolen */)
{
    gl_abi_type *t = NULL;
    gl_err err;
    if (gl_abi_type_parse(&t, types, &err))
        fail_msg("type %s: %s", types, err.msg);
    if (gl_abi_encode(out, t, args, &err))
        fail_msg("encode %s: %s", types, err.msg);
    gl_abi_type_free(t);
    json_decref(args);
}

static void encode_call(gl_buf *out, const char *sig, json_t *args /* stolen */)
{
    gl_abi_sig s;
    gl_err err;
    if (gl_abi_sig_parse(&s, sig, &err))
        fail_msg("signature %s: %s", sig, err.msg);
    if (gl_abi_encode_call(out, &s, args, &err))
        fail_msg("encode %s: %s", sig, err.msg);
    gl_abi_sig_release(&s);
    json_decref(args);
}

/* ------------------------------------------------------------------ */
/* Transactions                                                         */

/* anvil may answer eth_sendTransaction before the block is mined: poll
 * for the receipt (up to 10 s). */
static json_t *wait_receipt(env *e, json_t *hash)
{
    json_t *rcpt = NULL;
    for (int i = 0; i < 1000 && (!rcpt || json_is_null(rcpt)); i++) {
        if (rcpt) {
            json_decref(rcpt);
            nanosleep(&(struct timespec){.tv_nsec = 10 * 1000 * 1000}, NULL);
        }
        rcpt = rpc_ok(e, "eth_getTransactionReceipt", json_pack("[O]", hash));
    }
    if (!json_is_object(rcpt))
        fail_msg("no receipt for transaction %s", json_string_value(hash));
    return rcpt;
}

/* Send a transaction and return its receipt, which must have status 1.
 * `to` NULL deploys; `value` is a hex quantity or NULL. */
static json_t *send_tx(env *e, const char *from, const char *to, const gl_buf *data, const char *value)
{
    char *hex = gl_hex_encode_alloc(data->data, data->len, true);
    assert_non_null(hex);
    json_t *tx = json_pack("{s:s, s:s}", "from", from, "data", hex);
    free(hex);
    if (to)
        json_object_set_new(tx, "to", json_string(to));
    if (value)
        json_object_set_new(tx, "value", json_string(value));
    json_t *hash = rpc_ok(e, "eth_sendTransaction", json_pack("[o]", tx));
    json_t *rcpt = wait_receipt(e, hash);
    json_decref(hash);
    const char *status = json_string_value(json_object_get(rcpt, "status"));
    if (!status || strcmp(status, "0x1") != 0)
        fail_msg("transaction failed: status %s", status ? status : "(none)");
    return rcpt;
}

/* Deploy build/NAME.json with constructor arguments (types "(...)" and a
 * JSON array, or NULL and NULL for none); writes the address. */
static void deploy(env *e, const char *from, const char *name, const char *types, json_t *args,
                   char addr[43])
{
    char root[4096], path[4200];
    assert_non_null(gl_test_root(root, sizeof root));
    snprintf(path, sizeof path, "%s/fixtures/contracts/build/%s.json", root, name);
    json_error_t jerr;
    json_t *art = json_load_file(path, 0, &jerr);
    if (!art)
        fail_msg("cannot load %s: %s", path, jerr.text);
    gl_buf code = GL_BUF_INIT;
    gl_err err;
    const char *bc = json_string_value(json_object_get(art, "bytecode"));
    assert_non_null(bc);
    assert_int_equal(gl_hex_decode_buf(bc, &code, &err), GL_OK);
    json_decref(art);
    if (types)
        encode_tuple(&code, types, args);
    json_t *rcpt = send_tx(e, from, NULL, &code, NULL);
    gl_buf_release(&code);
    const char *ca = json_string_value(json_object_get(rcpt, "contractAddress"));
    assert_non_null(ca);
    lower_copy(addr, ca, 43);
    json_decref(rcpt);
}

/* Call a function in a transaction; returns the receipt (status 1). */
static json_t *transact(env *e, const char *from, const char *to, const char *sig, json_t *args,
                        const char *value)
{
    gl_buf data = GL_BUF_INIT;
    encode_call(&data, sig, args);
    json_t *rcpt = send_tx(e, from, to, &data, value);
    gl_buf_release(&data);
    return rcpt;
}

/* The call must revert: either the node refuses it (its gas estimate
 * reverts) or it is mined with status 0. */
static void transact_reverts(env *e, const char *from, const char *to, const char *sig, json_t *args,
                             const char *value)
{
    gl_buf data = GL_BUF_INIT;
    encode_call(&data, sig, args);
    char *hex = gl_hex_encode_alloc(data.data, data.len, true);
    gl_buf_release(&data);
    json_t *tx = json_pack("{s:s, s:s, s:s}", "from", from, "to", to, "data", hex);
    free(hex);
    if (value)
        json_object_set_new(tx, "value", json_string(value));
    json_t *res = NULL;
    gl_err err;
    gl_code rc = gl_rpc_call(e->rpc, "eth_sendTransaction", json_pack("[o]", tx), &res, &err);
    if (rc == GL_ERPC) {
        assert_null(res);
        return;
    }
    if (rc)
        fail_msg("eth_sendTransaction: %s", err.msg);
    json_t *rcpt = wait_receipt(e, res);
    json_decref(res);
    const char *status = json_string_value(json_object_get(rcpt, "status"));
    if (!status || strcmp(status, "0x0") != 0)
        fail_msg("%s did not revert: status %s", sig, status ? status : "(none)");
    json_decref(rcpt);
}

/* eth_call returning one 32-byte word. */
static void call_word(env *e, const char *to, const char *sig, json_t *args, uint8_t out[32])
{
    gl_buf data = GL_BUF_INIT;
    encode_call(&data, sig, args);
    char *hex = gl_hex_encode_alloc(data.data, data.len, true);
    gl_buf_release(&data);
    json_t *res = rpc_ok(e, "eth_call", json_pack("[{s:s, s:s}, s]", "to", to, "data", hex, "latest"));
    free(hex);
    gl_err err;
    assert_int_equal(gl_hex_decode_exact(json_string_value(res), out, 32, &err), GL_OK);
    json_decref(res);
}

static uint64_t word_u64(const uint8_t w[32])
{
    for (int i = 0; i < 24; i++)
        assert_int_equal(w[i], 0);
    uint64_t v = 0;
    for (int i = 24; i < 32; i++)
        v = v << 8 | w[i];
    return v;
}

static uint64_t balance_of(env *e, const char *token, const char *who)
{
    uint8_t w[32];
    call_word(e, token, "balanceOf(address)", json_pack("[s]", who), w);
    return word_u64(w);
}

static uint64_t eth_balance_gwei(env *e, const char *who)
{
    json_t *res = rpc_ok(e, "eth_getBalance", json_pack("[ss]", who, "latest"));
    uint8_t w[32];
    const char *s = json_string_value(res);
    assert_non_null(s);
    /* left-pad the quantity to 64 digits */
    char pad[67] = "0x";
    size_t n = strlen(s + 2);
    assert_true(n <= 64);
    memset(pad + 2, '0', 64 - n);
    memcpy(pad + 2 + 64 - n, s + 2, n + 1);
    gl_err err;
    assert_int_equal(gl_hex_decode_exact(pad, w, 32, &err), GL_OK);
    json_decref(res);
    /* 10000 ETH in wei needs 74 bits: divide by 1e9 in 128-bit arithmetic */
    unsigned __int128 v = 0;
    for (int i = 0; i < 32; i++) {
        assert_true(i >= 16 || w[i] == 0);
        v = v << 8 | w[i];
    }
    return (uint64_t)(v / 1000000000u);
}

/* ------------------------------------------------------------------ */
/* Logs                                                                 */

static const json_t *log_at(const json_t *rcpt, size_t i)
{
    const json_t *logs = json_object_get(rcpt, "logs");
    assert_true(json_is_array(logs));
    if (i >= json_array_size(logs))
        fail_msg("receipt has %zu logs, wanted log %zu", json_array_size(logs), i);
    return json_array_get(logs, i);
}

static size_t log_count(const json_t *rcpt)
{
    return json_array_size(json_object_get(rcpt, "logs"));
}

static const char *topic(const json_t *log, size_t i)
{
    const json_t *topics = json_object_get(log, "topics");
    assert_true(i < json_array_size(topics));
    return json_string_value(json_array_get(topics, i));
}

/* Emitted by `addr`, with `ntopics` topics, the first being `topic0`. */
static void expect_log(const json_t *log, const char *addr, size_t ntopics, const char *topic0)
{
    char got[43];
    lower_copy(got, json_string_value(json_object_get(log, "address")), sizeof got);
    assert_string_equal(got, addr);
    assert_int_equal(json_array_size(json_object_get(log, "topics")), ntopics);
    assert_string_equal(topic(log, 0), topic0);
}

/* An address as a topic: 12 zero bytes, then the address. */
static const char *addr_topic(const char *addr, char out[67])
{
    snprintf(out, 67, "0x000000000000000000000000%s", addr + 2);
    return out;
}

static const char *u64_topic(uint64_t v, char out[67])
{
    snprintf(out, 67, "0x%048x%016" PRIx64, 0, v);
    return out;
}

/* Word i of a log's data. */
static void data_word(const json_t *log, size_t i, uint8_t w[32])
{
    const char *d = json_string_value(json_object_get(log, "data"));
    assert_non_null(d);
    assert_true(strlen(d) >= 2 + 64 * (i + 1));
    gl_err err;
    size_t n;
    assert_int_equal(gl_hex_decode(d + 2 + 64 * i, 64, w, 32, &n, &err), GL_OK);
}

static uint64_t data_u64(const json_t *log, size_t i)
{
    uint8_t w[32];
    data_word(log, i, w);
    return word_u64(w);
}

static void data_addr(const json_t *log, size_t i, char out[43])
{
    uint8_t w[32];
    data_word(log, i, w);
    for (int k = 0; k < 12; k++)
        assert_int_equal(w[k], 0);
    gl_hex_encode(w + 12, 20, true, out);
}

/* The string whose offset is in data word i. */
static void data_string(const json_t *log, size_t i, char *out, size_t cap)
{
    uint64_t off = data_u64(log, i);
    assert_true(off % 32 == 0);
    uint64_t len = data_u64(log, off / 32);
    assert_true(len < cap);
    const char *d = json_string_value(json_object_get(log, "data"));
    assert_true(strlen(d) >= 2 + 2 * (off + 32 + len));
    size_t n;
    gl_err err;
    assert_int_equal(gl_hex_decode(d + 2 + 2 * (off + 32), 2 * len, (uint8_t *)out, cap, &n, &err), GL_OK);
    out[n] = '\0';
}

static void keccak_hex(const void *data, size_t len, char out[67])
{
    uint8_t h[32];
    gl_keccak256(data, len, h);
    gl_hex_encode(h, 32, true, out);
}

/* Deploy MockStablecoin (deployer acct[0]) and mint `amount` to `to`. */
static void usdc_with_balance(env *e, char usdc[43], const char *to, uint64_t amount)
{
    deploy(e, e->acct[0], "MockStablecoin", NULL, NULL, usdc);
    json_decref(transact(e, e->acct[0], usdc, "mint(address,uint256)", json_pack("[sI]", to, (json_int_t)amount),
                         NULL));
}

/* ------------------------------------------------------------------ */
/* Tests                                                                */

static void test_token_mint_and_decimals(void **state)
{
    env *e = *state;
    const char *names[] = {"MockStablecoin", "GlmToken", "SwanToken"};
    const uint64_t decimals[] = {6, 18, 18};
    for (int i = 0; i < 3; i++) {
        char tok[43], t[67];
        deploy(e, e->acct[0], names[i], NULL, NULL, tok);
        uint8_t w[32];
        call_word(e, tok, "decimals()", json_array(), w);
        assert_int_equal(word_u64(w), decimals[i]);
        json_t *r = transact(e, e->acct[0], tok, "mint(address,uint256)", json_pack("[si]", e->acct[1], 5000),
                             NULL);
        assert_int_equal(log_count(r), 1);
        const json_t *lg = log_at(r, 0);
        expect_log(lg, tok, 3, T_TRANSFER);
        assert_string_equal(topic(lg, 1), addr_topic(ZERO_ADDR, t));
        assert_string_equal(topic(lg, 2), addr_topic(e->acct[1], t));
        assert_int_equal(data_u64(lg, 0), 5000);
        json_decref(r);
        /* only the deployer mints */
        transact_reverts(e, e->acct[1], tok, "mint(address,uint256)", json_pack("[si]", e->acct[1], 1), NULL);
    }
}

static void test_gpu_market_token_lease_for(void **state)
{
    env *e = *state;
    const char *provider = e->acct[1], *payer = e->acct[2], *user = e->acct[3];
    const uint64_t price = 2500000; /* 2.5 USDC per GPU-hour */
    char usdc[43], market[43], t[67];
    usdc_with_balance(e, usdc, payer, 1000000000);
    deploy(e, e->acct[0], "GpuMarket", NULL, NULL, market);

    json_t *r = transact(e, provider, market, "registerOffer(string,uint32,uint256,string,address)",
                         json_pack("[sIIss]", "H100-SXM5-80GB", (json_int_t)8, (json_int_t)price, "us-east", usdc),
                         NULL);
    assert_int_equal(log_count(r), 1);
    const json_t *lg = log_at(r, 0);
    expect_log(lg, market, 3, T_OFFER_REGISTERED);
    assert_string_equal(topic(lg, 1), u64_topic(1, t));
    assert_string_equal(topic(lg, 2), addr_topic(provider, t));
    json_decref(r);

    json_decref(transact(e, payer, usdc, "approve(address,uint256)", json_pack("[ss]", market, "1000000000"), NULL));
    /* 4 GPUs for 10 hours, for someone else */
    r = transact(e, payer, market, "leaseFor(address,uint256,uint32,uint32)", json_pack("[siii]", user, 1, 4, 10),
                 NULL);
    const uint64_t amount = 4 * 10 * price;
    assert_int_equal(log_count(r), 2); /* USDC Transfer, then LeaseOpened */
    lg = log_at(r, 0);
    expect_log(lg, usdc, 3, T_TRANSFER);
    assert_string_equal(topic(lg, 1), addr_topic(payer, t));
    assert_string_equal(topic(lg, 2), addr_topic(market, t));
    assert_int_equal(data_u64(lg, 0), amount);
    lg = log_at(r, 1);
    expect_log(lg, market, 4, T_LEASE_OPENED);
    assert_string_equal(topic(lg, 1), u64_topic(1, t));
    assert_string_equal(topic(lg, 2), addr_topic(payer, t));
    assert_string_equal(topic(lg, 3), addr_topic(user, t));
    char a[43], model[64];
    data_addr(lg, 0, a);
    assert_string_equal(a, provider);
    assert_int_equal(data_u64(lg, 1), 1);      /* offerId */
    data_string(lg, 2, model, sizeof model);    /* gpuModel */
    assert_string_equal(model, "H100-SXM5-80GB");
    assert_int_equal(data_u64(lg, 3), 4);       /* gpuCount */
    assert_int_equal(data_u64(lg, 4), 10);      /* durationHours */
    assert_int_equal(data_u64(lg, 5), amount);  /* amount */
    data_addr(lg, 6, a);
    assert_string_equal(a, usdc);               /* token */
    json_decref(r);

    /* a third party extends by 2 hours */
    json_decref(transact(e, e->acct[0], usdc, "mint(address,uint256)", json_pack("[si]", e->acct[4], 100000000),
                         NULL));
    json_decref(transact(e, e->acct[4], usdc, "approve(address,uint256)", json_pack("[ss]", market, "100000000"),
                         NULL));
    r = transact(e, e->acct[4], market, "extendLease(uint256,uint32)", json_pack("[ii]", 1, 2), NULL);
    lg = log_at(r, 1);
    expect_log(lg, market, 4, T_LEASE_EXTENDED);
    assert_string_equal(topic(lg, 2), addr_topic(e->acct[4], t));
    assert_string_equal(topic(lg, 3), addr_topic(user, t));
    assert_int_equal(data_u64(lg, 1), 2);               /* addedHours */
    assert_int_equal(data_u64(lg, 2), 12);              /* totalHours */
    assert_int_equal(data_u64(lg, 3), 4 * 2 * price);   /* amount */
    json_decref(r);

    /* the beneficiary ends it at once: one hour billed, eleven refunded to the payer */
    uint64_t before = balance_of(e, usdc, payer);
    r = transact(e, user, market, "endLease(uint256)", json_pack("[i]", 1), NULL);
    lg = log_at(r, log_count(r) - 1);
    expect_log(lg, market, 4, T_LEASE_ENDED);
    assert_string_equal(topic(lg, 2), addr_topic(payer, t));
    assert_string_equal(topic(lg, 3), addr_topic(provider, t));
    assert_int_equal(data_u64(lg, 0), 1);                  /* usedHours */
    assert_int_equal(data_u64(lg, 1), 4 * 1 * price);      /* providerAmount */
    assert_int_equal(data_u64(lg, 2), 4 * 11 * price);     /* refund */
    json_decref(r);
    assert_int_equal(balance_of(e, usdc, payer) - before, 4 * 11 * price);

    r = transact(e, provider, market, "withdraw(address)", json_pack("[s]", usdc), NULL);
    lg = log_at(r, 1);
    expect_log(lg, market, 3, T_WITHDRAWAL);
    assert_string_equal(topic(lg, 1), addr_topic(provider, t));
    assert_string_equal(topic(lg, 2), addr_topic(usdc, t));
    assert_int_equal(data_u64(lg, 0), 4 * price);
    json_decref(r);
    assert_int_equal(balance_of(e, usdc, provider), 4 * price);
    assert_int_equal(balance_of(e, usdc, market), 0);
}

static void test_gpu_market_native(void **state)
{
    env *e = *state;
    char market[43], t[67];
    deploy(e, e->acct[0], "GpuMarket", NULL, NULL, market);
    /* 0.001 ETH per GPU-hour, paid in the native coin */
    json_decref(transact(e, e->acct[5], market, "registerOffer(string,uint32,uint256,string,address)",
                         json_pack("[sisss]", "RTX-4090", 2, "1000000000000000", "eu-west", ZERO_ADDR), NULL));
    /* 2 GPUs x 3 hours = 0.006 ETH = 0x1550f7dca70000 wei; a wrong amount is refused */
    transact_reverts(e, e->acct[6], market, "lease(uint256,uint32,uint32)", json_pack("[iii]", 1, 2, 3),
                     "0x1550f7dca6ffff");
    transact_reverts(e, e->acct[6], market, "lease(uint256,uint32,uint32)", json_pack("[iii]", 1, 3, 3),
                     "0x1ff973cafa8000"); /* 3 GPUs > the offer's 2 */
    json_t *r = transact(e, e->acct[6], market, "lease(uint256,uint32,uint32)", json_pack("[iii]", 1, 2, 3),
                         "0x1550f7dca70000");
    assert_int_equal(log_count(r), 1);
    const json_t *lg = log_at(r, 0);
    expect_log(lg, market, 4, T_LEASE_OPENED);
    assert_string_equal(topic(lg, 2), addr_topic(e->acct[6], t));
    assert_string_equal(topic(lg, 3), addr_topic(e->acct[6], t)); /* lease(): beneficiary = buyer */
    assert_int_equal(data_u64(lg, 5), 6000000000000000ULL);
    char a[43];
    data_addr(lg, 6, a);
    assert_string_equal(a, ZERO_ADDR);
    json_decref(r);
}

static void test_livepeer_ticket_broker(void **state)
{
    env *e = *state;
    const char *funder = e->acct[7], *gateway = e->acct[8], *orch = e->acct[9];
    char tb[43], t[67];
    deploy(e, e->acct[0], "LivepeerTicketBroker", NULL, NULL, tb);

    /* a third party funds the gateway: 3 gwei deposit + 1 gwei reserve */
    json_t *r = transact(e, funder, tb, "fundDepositAndReserveFor(address,uint256,uint256)",
                         json_pack("[sII]", gateway, (json_int_t)3000000000LL, (json_int_t)1000000000), "0xee6b2800");
    assert_int_equal(log_count(r), 2); /* reserve first, as on Livepeer */
    const json_t *lg = log_at(r, 0);
    expect_log(lg, tb, 2, T_RESERVE_FUNDED);
    assert_string_equal(topic(lg, 1), addr_topic(gateway, t)); /* the sender, not tx.from */
    assert_int_equal(data_u64(lg, 0), 1000000000ULL);
    lg = log_at(r, 1);
    expect_log(lg, tb, 2, T_DEPOSIT_FUNDED);
    assert_string_equal(topic(lg, 1), addr_topic(gateway, t));
    assert_int_equal(data_u64(lg, 0), 3000000000ULL);
    char from[43];
    lower_copy(from, json_string_value(json_object_get(r, "from")), sizeof from);
    assert_string_equal(from, funder);
    json_decref(r);

    /* the orchestrator redeems a 2 gwei ticket; the recipient's random
     * number must hash to recipientRandHash */
    uint8_t rand[32] = {0};
    rand[31] = 42;
    char rand_hash[67];
    keccak_hex(rand, 32, rand_hash);
    uint64_t before = eth_balance_gwei(e, orch);
    json_t *ticket = json_pack("[ssiiiss]", orch, gateway, 2000000000, 1000, 7, rand_hash, "0xabcd");
    json_t *bad = json_pack("[Osi]", ticket, "0x", 43); /* wrong random number */
    transact_reverts(e, e->acct[0], tb,
                     "redeemWinningTicket((address,address,uint256,uint256,uint256,bytes32,bytes),bytes,uint256)",
                     bad, NULL);
    r = transact(e, e->acct[0], tb,
                 "redeemWinningTicket((address,address,uint256,uint256,uint256,bytes32,bytes),bytes,uint256)",
                 json_pack("[osi]", ticket, "0x", 42), NULL);
    assert_int_equal(log_count(r), 2);
    lg = log_at(r, 0);
    expect_log(lg, tb, 3, T_TICKET_TRANSFER);
    assert_string_equal(topic(lg, 1), addr_topic(gateway, t));
    assert_string_equal(topic(lg, 2), addr_topic(orch, t));
    assert_int_equal(data_u64(lg, 0), 2000000000ULL);
    lg = log_at(r, 1);
    expect_log(lg, tb, 3, T_TICKET_REDEEMED);
    assert_string_equal(topic(lg, 1), addr_topic(gateway, t));
    assert_string_equal(topic(lg, 2), addr_topic(orch, t));
    assert_int_equal(data_u64(lg, 0), 2000000000ULL); /* faceValue */
    assert_int_equal(data_u64(lg, 1), 1000);          /* winProb */
    assert_int_equal(data_u64(lg, 2), 7);             /* senderNonce */
    assert_int_equal(data_u64(lg, 3), 42);            /* recipientRand */
    json_decref(r);
    assert_int_equal(eth_balance_gwei(e, orch) - before, 2);
}

static void test_golem_batch_payer_emits_only_transfers(void **state)
{
    env *e = *state;
    const char *requestor = e->acct[1], *p1 = e->acct[2], *p2 = e->acct[3];
    char glm[43], payer[43], t[67];
    deploy(e, e->acct[0], "GlmToken", NULL, NULL, glm);
    char glm_arg[43];
    memcpy(glm_arg, glm, sizeof glm_arg);
    deploy(e, e->acct[0], "GolemBatchPayer", "(address)", json_pack("[s]", glm_arg), payer);
    json_decref(transact(e, e->acct[0], glm, "mint(address,uint256)", json_pack("[si]", requestor, 1000), NULL));
    json_decref(transact(e, requestor, glm, "approve(address,uint256)", json_pack("[si]", payer, 1000), NULL));

    json_t *r = transact(e, requestor, payer, "golemTransferIndirect(address[],uint256[])",
                         json_pack("[[ss][ii]]", p1, p2, 300, 200), NULL);
    assert_int_equal(log_count(r), 3); /* requestor -> payer, payer -> p1, payer -> p2 */
    const char *from[] = {requestor, payer, payer}, *to[] = {payer, p1, p2};
    const uint64_t amt[] = {500, 300, 200};
    for (size_t i = 0; i < 3; i++) {
        const json_t *lg = log_at(r, i);
        expect_log(lg, glm, 3, T_TRANSFER); /* every log is GLM's: none from the payer */
        assert_string_equal(topic(lg, 1), addr_topic(from[i], t));
        assert_string_equal(topic(lg, 2), addr_topic(to[i], t));
        assert_int_equal(data_u64(lg, 0), amt[i]);
    }
    json_decref(r);

    /* packed direct mode: address in the high 20 bytes, amount in the low 12 */
    char packed[67];
    snprintf(packed, sizeof packed, "0x%s%024x", p1 + 2, 50);
    r = transact(e, requestor, payer, "golemTransferDirectPacked(bytes32[])", json_pack("[[s]]", packed), NULL);
    assert_int_equal(log_count(r), 1);
    const json_t *lg = log_at(r, 0);
    expect_log(lg, glm, 3, T_TRANSFER);
    assert_string_equal(topic(lg, 1), addr_topic(requestor, t));
    assert_string_equal(topic(lg, 2), addr_topic(p1, t));
    json_decref(r);
    assert_int_equal(balance_of(e, glm, p1), 350);
}

static void test_golem_lock_payment_id_encodes_funder(void **state)
{
    env *e = *state;
    const char *funder = e->acct[4], *spender = e->acct[5], *provider = e->acct[6];
    char glm[43], lock[43], t[67];
    deploy(e, e->acct[0], "GlmToken", NULL, NULL, glm);
    char glm_arg[43];
    memcpy(glm_arg, glm, sizeof glm_arg);
    deploy(e, e->acct[0], "GolemLockPayment", "(address)", json_pack("[s]", glm_arg), lock);
    json_decref(transact(e, e->acct[0], glm, "mint(address,uint256)", json_pack("[si]", funder, 1000), NULL));
    json_decref(transact(e, funder, glm, "approve(address,uint256)", json_pack("[si]", lock, 1000), NULL));

    /* nonce 0x1234, 700 locked + 50 fee, valid to 2100-01-01 */
    json_t *r = transact(e, funder, lock, "createDeposit(uint64,address,uint128,uint128,uint64)",
                         json_pack("[isiiI]", 0x1234, spender, 700, 50, (json_int_t)4102444800LL), NULL);
    /* id = funder << 96 ^ nonce: the funder's 20 bytes, 4 zero bytes, the 8-byte nonce */
    char id[67];
    snprintf(id, sizeof id, "0x%s00000000%016x", funder + 2, 0x1234);
    const json_t *lg = log_at(r, log_count(r) - 1);
    expect_log(lg, lock, 2, T_DEPOSIT_CREATED);
    assert_string_equal(topic(lg, 1), id);
    char a[43];
    data_addr(lg, 0, a);
    assert_string_equal(a, spender);
    json_decref(r);

    r = transact(e, spender, lock, "depositSingleTransfer(uint256,address,uint128)",
                 json_pack("[ssi]", id, provider, 300), NULL);
    lg = log_at(r, log_count(r) - 1);
    expect_log(lg, lock, 2, T_DEPOSIT_TRANSFER);
    assert_string_equal(topic(lg, 1), id);
    data_addr(lg, 0, a);
    assert_string_equal(a, spender);
    data_addr(lg, 1, a);
    assert_string_equal(a, provider);
    assert_int_equal(data_u64(lg, 2), 300);
    json_decref(r);
    assert_int_equal(balance_of(e, glm, provider), 300);
    /* only the spender spends */
    transact_reverts(e, funder, lock, "depositSingleTransfer(uint256,address,uint128)",
                     json_pack("[ssi]", id, provider, 1), NULL);
    (void)t;
}

static void test_spheron_order_and_lease(void **state)
{
    env *e = *state;
    const char *tenant = e->acct[7], *provider = e->acct[8];
    char usdc[43], orders[43], leases[43], t[67];
    usdc_with_balance(e, usdc, tenant, 50000000);
    deploy(e, e->acct[0], "SpheronOrderRequest", NULL, NULL, orders);
    char orders_arg[43];
    memcpy(orders_arg, orders, sizeof orders_arg);
    deploy(e, e->acct[0], "SpheronComputeLease", "(address,uint32)", json_pack("[si]", orders_arg, 2), leases);
    json_decref(transact(e, e->acct[0], orders, "setComputeLease(address)", json_pack("[s]", leases), NULL));
    json_decref(transact(e, tenant, usdc, "approve(address,uint256)", json_pack("[si]", orders, 50000000), NULL));

    /* Prices are rates per block in 18-decimal units (Spheron's SDK:
     * totalCost = maxPrice / 10^18 x numOfBlocks): a max of 1.5e16 per block
     * over 1800 blocks escrows 1.5e16 x 1800 x 10^6 / 10^18 = 27000000 USDC
     * units; 1e16 accepted costs 18000000.  Specs compressed, as the SDK. */
    const char *specs = "{n:a,s:[{n:w,r:{g:{a:[{k:vendor/nvidia/model/a100,v:true}],u:2}},c:1}]}";
    json_t *r = transact(e, tenant, orders, "createOrder(uint256,uint64,address,string,uint8)",
                         json_pack("[IIssi]", (json_int_t)15000000000000000LL, (json_int_t)1800, usdc, specs, 1), NULL);
    assert_int_equal(balance_of(e, usdc, tenant), 50000000 - 27000000);
    const json_t *lg = log_at(r, log_count(r) - 1);
    expect_log(lg, orders, 1, T_ORDER_CREATED); /* nothing indexed */
    char a[43], s[128];
    assert_int_equal(data_u64(lg, 0), 1);        /* orderId */
    data_addr(lg, 1, a);
    assert_string_equal(a, tenant);              /* creator */
    assert_int_equal(data_u64(lg, 2), 15000000000000000ULL); /* maxPrice, per block */
    assert_int_equal(data_u64(lg, 3), 1800);     /* numOfBlocks */
    data_addr(lg, 4, a);
    assert_string_equal(a, usdc);                /* token */
    data_string(lg, 5, s, sizeof s);
    assert_string_equal(s, specs);
    assert_int_equal(data_u64(lg, 6), 1);        /* version */
    assert_int_equal(data_u64(lg, 7), 1);        /* mode: PROVIDER */
    json_decref(r);

    r = transact(e, provider, orders, "matchOrder(uint64,uint256,uint256)",
                 json_pack("[iIi]", 1, (json_int_t)10000000000000000LL, 0), NULL);
    /* Transfer to the lease contract, refund to the tenant, LeaseCreated, OrderMatched */
    assert_int_equal(log_count(r), 4);
    lg = log_at(r, 2);
    expect_log(lg, leases, 1, T_LEASE_CREATED);
    assert_int_equal(data_u64(lg, 0), 1);        /* leaseId */
    assert_int_equal(data_u64(lg, 1), 0);        /* fizzId */
    assert_int_equal(data_u64(lg, 2), 1);        /* requestId */
    assert_int_equal(data_u64(lg, 3), 10000000000000000ULL); /* acceptedPrice, per block */
    data_addr(lg, 4, a);
    assert_string_equal(a, provider);
    data_addr(lg, 5, a);
    assert_string_equal(a, tenant);
    uint64_t start_time = data_u64(lg, 7);
    assert_int_equal(data_u64(lg, 8), start_time + 1800 * 2); /* endTime */
    assert_int_equal(data_u64(lg, 9), 0);                     /* state ACTIVE */
    expect_log(log_at(r, 3), orders, 1, T_ORDER_MATCHED);
    json_decref(r);
    assert_int_equal(balance_of(e, usdc, tenant), 50000000 - 18000000);
    assert_int_equal(balance_of(e, usdc, leases), 18000000);
    (void)t;
}

static void test_swan_task_reward_to_beneficiary(void **state)
{
    env *e = *state;
    const char *payer = e->acct[1], *user = e->acct[2], *cp_owner = e->acct[3], *benef = e->acct[4];
    char swan[43], cp[43], tm[43], t[67];
    deploy(e, e->acct[0], "SwanToken", NULL, NULL, swan);
    deploy(e, cp_owner, "SwanCpAccount", "(address,string)", json_pack("[ss]", benef, "node-1"), cp);
    char swan_arg[43];
    memcpy(swan_arg, swan, sizeof swan_arg);
    deploy(e, e->acct[0], "SwanTaskManager", "(address)", json_pack("[s]", swan_arg), tm);
    json_decref(transact(e, e->acct[0], swan, "mint(address,uint256)", json_pack("[si]", payer, 900), NULL));
    json_decref(transact(e, payer, swan, "approve(address,uint256)", json_pack("[si]", tm, 900), NULL));

    const char *uid = "task-7f3a";
    char uid_topic[67];
    keccak_hex(uid, strlen(uid), uid_topic);
    /* an EOA is not a CP account */
    transact_reverts(e, payer, tm, "assignTask(string,address[],address,uint256,uint256)",
                     json_pack("[s[s]sii]", uid, benef, user, 900, 3600), NULL);
    json_t *r = transact(e, payer, tm, "assignTask(string,address[],address,uint256,uint256)",
                         json_pack("[s[s]sii]", uid, cp, user, 900, 3600), NULL);
    const json_t *lg = log_at(r, log_count(r) - 1);
    expect_log(lg, tm, 2, T_TASK_CREATED);
    assert_string_equal(topic(lg, 1), uid_topic);
    char a[43];
    assert_int_equal(data_u64(lg, 0), 4 * 32); /* offset of cpList */
    data_addr(lg, 1, a);
    assert_string_equal(a, user);
    assert_int_equal(data_u64(lg, 2), 900);
    assert_int_equal(data_u64(lg, 3), 3600);
    assert_int_equal(data_u64(lg, 4), 1); /* cpList length */
    data_addr(lg, 5, a);
    assert_string_equal(a, cp);
    json_decref(r);

    r = transact(e, user, tm, "releaseReward(string)", json_pack("[s]", uid), NULL);
    expect_log(log_at(r, 0), tm, 2, T_TASK_COMPLETED);
    lg = log_at(r, log_count(r) - 1);
    expect_log(lg, tm, 3, T_REWARD_RELEASED);
    assert_string_equal(topic(lg, 1), uid_topic);
    assert_string_equal(topic(lg, 2), addr_topic(cp, t));
    data_addr(lg, 0, a);
    assert_string_equal(a, benef);
    assert_int_equal(data_u64(lg, 1), 900);
    json_decref(r);
    assert_int_equal(balance_of(e, swan, benef), 900);
    assert_int_equal(balance_of(e, swan, cp), 0);
}

static void test_fluence_deal_per_contract(void **state)
{
    env *e = *state;
    const char *owner = e->acct[5], *provider = e->acct[6];
    char usdc[43], impl[43], factory[43], t[67];
    usdc_with_balance(e, usdc, owner, 10000000);
    deploy(e, e->acct[0], "FluenceDeal", NULL, NULL, impl);
    char impl_arg[43];
    memcpy(impl_arg, impl, sizeof impl_arg);
    deploy(e, e->acct[0], "FluenceDealFactory", "(address,uint256)", json_pack("[si]", impl_arg, 3600), factory);

    char deals[2][43], a[43];
    for (int i = 0; i < 2; i++) {
        json_t *r = transact(e, owner, factory, "deployDeal(address,address,uint256)",
                             json_pack("[ssi]", usdc, provider, 1000000), NULL);
        assert_int_equal(log_count(r), 1);
        const json_t *lg = log_at(r, 0);
        expect_log(lg, factory, 2, T_DEAL_CREATED);
        assert_string_equal(topic(lg, 1), addr_topic(owner, t));
        data_addr(lg, 0, deals[i]);
        assert_int_equal(data_u64(lg, 1), 1); /* createdAtEpoch */
        data_addr(lg, 2, a);
        assert_string_equal(a, usdc);               /* paymentToken */
        assert_int_equal(data_u64(lg, 3), 1);       /* minWorkers */
        assert_int_equal(data_u64(lg, 6), 1000000); /* pricePerWorkerEpoch */
        assert_int_equal(data_u64(lg, 12), 1);      /* protocolVersion_ (after the heads of the dynamic parts) */
        json_decref(r);
    }
    assert_string_not_equal(deals[0], deals[1]); /* one contract per deal */

    json_decref(transact(e, owner, usdc, "approve(address,uint256)", json_pack("[si]", deals[1], 5000000), NULL));
    json_t *r = transact(e, owner, deals[1], "deposit(uint256)", json_pack("[i]", 5000000), NULL);
    assert_int_equal(log_count(r), 2);
    const json_t *lg = log_at(r, 1);
    expect_log(lg, deals[1], 1, T_DEPOSITED); /* from the deal's own address */
    assert_int_equal(data_u64(lg, 0), 5000000);
    json_decref(r);
    /* only the owner deposits */
    transact_reverts(e, provider, deals[1], "deposit(uint256)", json_pack("[i]", 1), NULL);

    /* two epochs later the provider takes 2 x 1 USDC */
    json_decref(rpc_ok(e, "evm_increaseTime", json_pack("[i]", 2 * 3600)));
    json_decref(rpc_ok(e, "evm_mine", NULL));
    r = transact(e, provider, deals[1], "payProvider()", json_array(), NULL);
    lg = log_at(r, 1);
    expect_log(lg, deals[1], 2, T_PROVIDER_PAID);
    assert_string_equal(topic(lg, 1), addr_topic(provider, t));
    assert_int_equal(data_u64(lg, 0), 2000000);
    json_decref(r);
    assert_int_equal(balance_of(e, usdc, provider), 2000000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_token_mint_and_decimals),
        cmocka_unit_test(test_gpu_market_token_lease_for),
        cmocka_unit_test(test_gpu_market_native),
        cmocka_unit_test(test_livepeer_ticket_broker),
        cmocka_unit_test(test_golem_batch_payer_emits_only_transfers),
        cmocka_unit_test(test_golem_lock_payment_id_encodes_funder),
        cmocka_unit_test(test_spheron_order_and_lease),
        cmocka_unit_test(test_swan_task_reward_to_beneficiary),
        cmocka_unit_test(test_fluence_deal_per_contract),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
