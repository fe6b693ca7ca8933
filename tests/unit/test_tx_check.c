/* test_tx_check.c - gl_tx_check: a block's transaction object against the
 * hash it was named by and the sender it claims.
 *
 * Oracles, all from outside this code:
 * - an EIP-1559 transfer anvil signed with its dev key 0 and mined in block
 *   1 (chain 31337), recorded once from eth_getBlockByNumber(1, true) and
 *   eth_getRawTransactionByHash: anvil computed its hash; its sender is dev
 *   account 0, public knowledge (tests/support/anvil.h);
 * - EIP-155's worked example (its published signed bytes and sender), with
 *   (r, n - s, flipped parity), the same signer as a Frontier-era high-s tx;
 * - hashes of bytes edited by hand are keccak-256 of those bytes (the
 *   keccak primitive has its own vectors), never the tx encoder's;
 * - an r that is no curve point's x: r^3 + 7 is a non-residue mod p
 *   (Euler's criterion, computed in Python), so no sender recovers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "gpuledger/bytes.h"
#include "gpuledger/keccak.h"
#include "gpuledger/secp.h"
#include "gpuledger/tx.h"
#include "gpuledger/tx_check.h"

#define ANVIL_ADDR0 "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266"
#define ANVIL_ADDR1 "0x70997970c51812dc3a010c7d01b50e0d17dc79c8"
#define ANVIL_CHAIN 31337u
#define ANVIL_HASH "0x7d4c13ed95c0cee830d7457ec5a5976db1fc301cfa7a23fef0039a7ccf6aea87"
#define ANVIL_R "0x74128fd7d42631897474d93692787a2e56b813754468caaca4993c641c986a37"
/* ANVIL_R + 2: no point has it as x */
#define OFF_CURVE_R "0x74128fd7d42631897474d93692787a2e56b813754468caaca4993c641c986a39"
/* anvil's eth_getRawTransactionByHash(ANVIL_HASH), with r as a %s */
#define ANVIL_RAW_FMT                                                                              \
    "0x02f874827a6980843b9aca0084773594008252089470997970c51812dc3a010c7d01b50e0d17dc79c8880de0b6b3a" \
    "764000080c080a0%sa06d5a3b027177cc2841199b70400fece0a29ac5eabee2fa9cbf9b6aa213716c48"

/* As anvil gave it, transactions[0] of block 1. */
static const char anvil_tx[] =
    "{\"type\":\"0x2\",\"chainId\":\"0x7a69\",\"nonce\":\"0x0\",\"gas\":\"0x5208\",\"maxFeePerGas\":\"0x77359400\","
    "\"maxPriorityFeePerGas\":\"0x3b9aca00\",\"to\":\"0x70997970c51812dc3a010c7d01b50e0d17dc79c8\","
    "\"value\":\"0xde0b6b3a7640000\",\"accessList\":[],\"input\":\"0x\","
    "\"r\":\"0x74128fd7d42631897474d93692787a2e56b813754468caaca4993c641c986a37\","
    "\"s\":\"0x6d5a3b027177cc2841199b70400fece0a29ac5eabee2fa9cbf9b6aa213716c48\",\"yParity\":\"0x0\",\"v\":\"0x0\","
    "\"hash\":\"0x7d4c13ed95c0cee830d7457ec5a5976db1fc301cfa7a23fef0039a7ccf6aea87\","
    "\"blockHash\":\"0x3e8f7bf46a9649ce99b07f64aa6dcbbb4464d6ce6e93262f79ccc793f6953ac2\",\"blockNumber\":\"0x1\","
    "\"transactionIndex\":\"0x0\",\"from\":\"0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266\",\"gasPrice\":\"0x77359400\","
    "\"blockTimestamp\":\"0x6553f100\"}";

/* EIP-155's example re-signed as (r, n - s, v 0x26): its signed bytes, by
 * hand from the published ones (v 0x25 -> 0x26, s -> n - s). */
#define EIP155_SENDER "0x9d8a62f656a8d1615c1294fd71e9cfb3e4855a4f"
#define EIP155_HIGH_S_RAW                                                                          \
    "0xf86c098504a817c800825208943535353535353535353535353535353535353535880de0b6b3a76400008026a0" \
    "28ef61340bd939bc2195fe537567866003e1a15d3c71ff63e1590620aa636276a098341627668089e51348fccfb4" \
    "c7ff31c55912f2d2e47ef09652acf665fad3be"
static const char eip155_high_s_tx[] =
    "{\"type\":\"0x0\",\"nonce\":\"0x9\",\"gasPrice\":\"0x4a817c800\",\"gas\":\"0x5208\","
    "\"to\":\"0x3535353535353535353535353535353535353535\",\"value\":\"0xde0b6b3a7640000\",\"input\":\"0x\","
    "\"v\":\"0x26\",\"r\":\"0x28ef61340bd939bc2195fe537567866003e1a15d3c71ff63e1590620aa636276\","
    "\"s\":\"0x98341627668089e51348fccfb4c7ff31c55912f2d2e47ef09652acf665fad3be\","
    "\"from\":\"0x9d8a62f656a8d1615c1294fd71e9cfb3e4855a4f\"}";

/* ---------------------------------------------------------------- helpers */

static int setup(void **state)
{
    *state = gl_secp_new(NULL);
    return *state ? 0 : -1;
}

static int teardown(void **state)
{
    gl_secp_free(*state);
    return 0;
}

/* A transaction object from its JSON text, one field edited (key NULL: as
 * it is; v NULL: the field removed). */
static json_t *tx_with(const char *text, const char *key, json_t *v)
{
    json_t *j = json_loads(text, 0, NULL);
    assert_non_null(j);
    if (key && v)
        json_object_set_new(j, key, v);
    else if (key)
        json_object_del(j, key);
    return j;
}

static void hex_n(const char *hex, uint8_t *out, size_t n)
{
    assert_int_equal(gl_hex_decode_exact(hex, out, n, NULL), GL_OK);
}

/* keccak-256 of the bytes `hex` spells. */
static void keccak_hex(const char *hex, uint8_t out[32])
{
    gl_buf b = GL_BUF_INIT;
    assert_int_equal(gl_hex_decode_buf(hex, &b, NULL), GL_OK);
    gl_keccak256(b.data, b.len, out);
    gl_buf_release(&b);
}

static void expect_hex(const uint8_t *d, size_t n, const char *want)
{
    char got[67];
    assert_string_equal(gl_hex_encode(d, n, true, got), want);
}

static const char *str(const json_t *f, const char *key)
{
    const char *s = json_string_value(json_object_get(f, key));
    if (!s)
        fail_msg("finding has no string \"%s\"", key);
    return s;
}

/* The fields every finding has, and how many it has in all. */
static void expect_finding(const json_t *f, const char *kind, uint64_t block, uint32_t index, const char *tx_hash,
                           size_t nkeys)
{
    assert_non_null(f);
    assert_string_equal(str(f, "kind"), kind);
    assert_int_equal(json_integer_value(json_object_get(f, "block")), block);
    assert_int_equal(json_integer_value(json_object_get(f, "tx_index")), index);
    assert_string_equal(str(f, "tx_hash"), tx_hash);
    assert_int_equal(json_object_size(f), nkeys);
}

/* A comparison's evidence: the field, what was claimed and computed. */
static void expect_evidence(const json_t *f, const char *field, const char *claimed, const char *computed)
{
    assert_string_equal(str(f, "field"), field);
    assert_string_equal(str(f, "claimed"), claimed);
    assert_string_equal(str(f, "computed"), computed);
}

/* gl_tx_check of tx at (31337, block, index) named by hash_hex, which
 * must not fail; *f gets the finding. */
static gl_tx_checked check(const gl_secp *secp, const json_t *tx, uint64_t block, uint32_t index,
                           const char *hash_hex, unsigned flags, json_t **f)
{
    uint8_t h[32];
    gl_tx_checked c;
    gl_err err;
    hex_n(hash_hex, h, 32);
    if (gl_tx_check(secp, &c, f, tx, ANVIL_CHAIN, block, index, h, flags, &err) != GL_OK)
        fail_msg("gl_tx_check: %s", err.msg);
    expect_hex(c.rec.hash, 32, hash_hex);
    assert_int_equal(c.rec.chain_id, ANVIL_CHAIN);
    assert_int_equal(c.rec.block, block);
    assert_int_equal(c.rec.index, index);
    return c;
}

/* ------------------------------------------------------------------ tests */

/* The true sender: SENDER_OK, and the record carries what anvil signed. */
static void test_sender_ok(void **state)
{
    json_t *tx = tx_with(anvil_tx, NULL, NULL), *f = (json_t *)1;
    uint8_t want[20];
    gl_tx_checked c = check(*state, tx, 1, 0, ANVIL_HASH, 0, &f);
    assert_int_equal(c.verdict, GL_TX_CHECK_SENDER_OK);
    assert_null(f);
    assert_true(c.has_from);
    expect_hex(c.rec.from, 20, ANVIL_ADDR0);
    assert_int_equal(c.rec.flags, GL_STORE_TX_SENDER_OK);
    expect_hex(c.computed, 32, ANVIL_HASH);
    assert_true(c.rec.has_to);
    hex_n(ANVIL_ADDR1, want, 20);
    assert_memory_equal(c.rec.to, want, 20);
    assert_true(c.rec.value.w[0] == 1000000000000000000ULL && !c.rec.value.w[1] && !c.rec.value.w[2] &&
                !c.rec.value.w[3]);
    assert_string_equal(c.reason, "");
    /* no finding asked for: the same verdict */
    assert_int_equal(check(*state, tx, 1, 0, ANVIL_HASH, 0, NULL).verdict, GL_TX_CHECK_SENDER_OK);
    json_decref(tx);
}

/* A `from` the signature does not give: SENDER_MISMATCH, the record holds
 * the recovered sender, the finding both. */
static void test_sender_mismatch(void **state)
{
    json_t *tx = tx_with(anvil_tx, "from", json_string(ANVIL_ADDR1)), *f;
    gl_tx_checked c = check(*state, tx, 7, 3, ANVIL_HASH, 0, &f);
    assert_int_equal(c.verdict, GL_TX_CHECK_SENDER_MISMATCH);
    assert_int_equal(c.rec.flags, GL_STORE_TX_SENDER_MISMATCH);
    assert_true(c.has_from);
    expect_hex(c.rec.from, 20, ANVIL_ADDR0);
    expect_finding(f, "sender_mismatch", 7, 3, ANVIL_HASH, 7);
    expect_evidence(f, "transactions[3].from", ANVIL_ADDR1, ANVIL_ADDR0);
    json_decref(f);
    json_decref(tx);

    /* no from at all: claimed "" */
    tx = tx_with(anvil_tx, "from", NULL);
    c = check(*state, tx, 7, 3, ANVIL_HASH, 0, &f);
    assert_int_equal(c.verdict, GL_TX_CHECK_SENDER_MISMATCH);
    expect_finding(f, "sender_mismatch", 7, 3, ANVIL_HASH, 7);
    expect_evidence(f, "transactions[3].from", "", ANVIL_ADDR0);
    json_decref(f);
    json_decref(tx);
}

/* Named by another hash: HASH_MISMATCH naming the caller's and anvil's,
 * no sender. */
static void test_hash_mismatch(void **state)
{
    const char *told = "0x3e8f7bf46a9649ce99b07f64aa6dcbbb4464d6ce6e93262f79ccc793f6953ac2"; /* the block's */
    json_t *tx = tx_with(anvil_tx, NULL, NULL), *f;
    gl_tx_checked c = check(*state, tx, 1, 0, told, 0, &f);
    assert_int_equal(c.verdict, GL_TX_CHECK_HASH_MISMATCH);
    assert_int_equal(c.rec.flags, 0);
    assert_false(c.has_from);
    expect_hex(c.computed, 32, ANVIL_HASH);
    expect_finding(f, "tx_hash_mismatch", 1, 0, told, 7);
    expect_evidence(f, "transactions[0].hash", told, ANVIL_HASH);
    json_decref(f);
    json_decref(tx);

    /* a field changed under the same hash (the value): the tx hashes otherwise */
    tx = tx_with(anvil_tx, "value", json_string("0x1"));
    c = check(*state, tx, 1, 0, ANVIL_HASH, 0, &f);
    assert_int_equal(c.verdict, GL_TX_CHECK_HASH_MISMATCH);
    expect_finding(f, "tx_hash_mismatch", 1, 0, ANVIL_HASH, 7);
    assert_string_equal(str(f, "claimed"), ANVIL_HASH);
    assert_string_not_equal(str(f, "computed"), ANVIL_HASH);
    json_decref(f);
    json_decref(tx);
}

/* No object, or one that cannot be rebuilt: UNREADABLE with the reason. */
static void test_unreadable(void **state)
{
    json_t *f;
    gl_tx_checked c = check(*state, NULL, 1, 4, ANVIL_HASH, 0, &f);
    assert_int_equal(c.verdict, GL_TX_CHECK_UNREADABLE);
    assert_false(c.has_from);
    expect_finding(f, "tx_hash_mismatch", 1, 4, ANVIL_HASH, 5);
    assert_string_equal(str(f, "reason"), "no transaction object at this index");
    json_decref(f);

    /* s above n/2 on a typed tx breaks EIP-2: not rebuilt */
    json_t *tx = tx_with(anvil_tx, "s", json_string("0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a1"));
    c = check(*state, tx, 1, 0, ANVIL_HASH, 0, &f);
    assert_int_equal(c.verdict, GL_TX_CHECK_UNREADABLE);
    expect_finding(f, "tx_hash_mismatch", 1, 0, ANVIL_HASH, 5);
    assert_non_null(strstr(str(f, "reason"), "EIP-2"));
    assert_string_equal(c.reason, str(f, "reason"));
    json_decref(f);
    json_decref(tx);
}

/* A signature no key made, on the tx it names: UNRECOVERABLE. */
static void test_unrecoverable(void **state)
{
    char raw[400], hash_hex[67];
    uint8_t h[32];
    /* the unedited bytes hash to anvil's hash: the edit is the only change */
    snprintf(raw, sizeof raw, ANVIL_RAW_FMT, ANVIL_R + 2);
    keccak_hex(raw, h);
    expect_hex(h, 32, ANVIL_HASH);
    snprintf(raw, sizeof raw, ANVIL_RAW_FMT, OFF_CURVE_R + 2);
    keccak_hex(raw, h);
    gl_hex_encode(h, 32, true, hash_hex);

    json_t *tx = tx_with(anvil_tx, "r", json_string(OFF_CURVE_R)), *f;
    gl_tx_checked c = check(*state, tx, 1, 0, hash_hex, 0, &f);
    assert_int_equal(c.verdict, GL_TX_CHECK_UNRECOVERABLE);
    assert_false(c.has_from);
    assert_int_equal(c.rec.flags, 0);
    assert_true(c.rec.has_to); /* bound to its hash: to and value are the signed ones */
    assert_int_equal(c.rec.value.w[0], 1000000000000000000ULL);
    expect_finding(f, "sender_unrecoverable", 1, 0, hash_hex, 5);
    assert_true(str(f, "reason")[0] != '\0');
    json_decref(f);
    json_decref(tx);
}

/* No secp: bound, and the endpoint's from taken as it is. */
static void test_unrecovered(void **state)
{
    (void)state;
    json_t *tx = tx_with(anvil_tx, "from", json_string(ANVIL_ADDR1)), *f;
    gl_tx_checked c = check(NULL, tx, 1, 0, ANVIL_HASH, 0, &f);
    assert_int_equal(c.verdict, GL_TX_CHECK_UNRECOVERED);
    assert_null(f);
    assert_true(c.has_from);
    expect_hex(c.rec.from, 20, ANVIL_ADDR1);
    assert_int_equal(c.rec.flags, 0);
    assert_true(c.rec.has_to);
    json_decref(tx);
}

/* A type this build cannot rebuild (an OP-stack deposit, 0x7e): the
 * endpoint's from, to and value, unchecked, no finding. */
static void test_unsupported(void **state)
{
    json_t *tx = tx_with(anvil_tx, "type", json_string("0x7e")), *f;
    json_object_set_new(tx, "value", json_string("0x2a"));
    uint8_t want[20];
    gl_tx_checked c = check(*state, tx, 1, 0, ANVIL_HASH, 0, &f);
    assert_int_equal(c.verdict, GL_TX_CHECK_UNSUPPORTED);
    assert_null(f);
    assert_true(c.reason[0] != '\0');
    assert_true(c.has_from);
    expect_hex(c.rec.from, 20, ANVIL_ADDR0);
    assert_true(c.rec.has_to);
    hex_n(ANVIL_ADDR1, want, 20);
    assert_memory_equal(c.rec.to, want, 20);
    assert_int_equal(c.rec.value.w[0], 42);
    assert_int_equal(c.rec.flags, 0);
    /* no from, a creation (to null): nothing claimed */
    json_object_del(tx, "from");
    json_object_set_new(tx, "to", json_null());
    c = check(*state, tx, 1, 0, ANVIL_HASH, 0, &f);
    assert_int_equal(c.verdict, GL_TX_CHECK_UNSUPPORTED);
    assert_false(c.has_from);
    assert_false(c.rec.has_to);
    json_decref(tx);
}

/* A Frontier-era legacy tx with s > n/2: only with GL_TX_ALLOW_HIGH_S. */
static void test_high_s(void **state)
{
    char hash_hex[67];
    uint8_t h[32];
    keccak_hex(EIP155_HIGH_S_RAW, h);
    gl_hex_encode(h, 32, true, hash_hex);
    json_t *tx = tx_with(eip155_high_s_tx, NULL, NULL), *f;
    gl_tx_checked c = check(*state, tx, 100, 0, hash_hex, GL_TX_ALLOW_HIGH_S, &f);
    assert_int_equal(c.verdict, GL_TX_CHECK_SENDER_OK);
    assert_null(f);
    expect_hex(c.rec.from, 20, EIP155_SENDER);
    c = check(*state, tx, 100, 0, hash_hex, 0, &f);
    assert_int_equal(c.verdict, GL_TX_CHECK_UNREADABLE);
    assert_non_null(strstr(c.reason, "EIP-2"));
    json_decref(f);
    json_decref(tx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sender_ok),     cmocka_unit_test(test_sender_mismatch),
        cmocka_unit_test(test_hash_mismatch), cmocka_unit_test(test_unreadable),
        cmocka_unit_test(test_unrecoverable), cmocka_unit_test(test_unrecovered),
        cmocka_unit_test(test_unsupported),   cmocka_unit_test(test_high_s),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
