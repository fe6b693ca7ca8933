/* test_block.c - block headers of every fork and block verification.
 *
 * Oracles: the block hashes, roots and senders that public sources state
 * (fixtures/blocks/README.md: mainnet genesis; London, Shanghai, Cancun and
 * Prague blocks answered by go-ethereum in ethereum/execution-apis), the
 * EIP-155 example transaction (its signed bytes, and the address of its
 * private key 0x4646...46), and transaction-trie nodes written out by hand.
 * Every alteration test changes one field of a correct block and checks
 * that the report names the check that catches it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "gpuledger/block.h"
#include "gpuledger/keccak.h"
#include "gpuledger/secp.h"
#include "gpuledger/trie.h"
#include "../support/testutil.h"

/* ------------------------------------------------------------- helpers */

static json_t *load_fixture(const char *name)
{
    char root[1024], path[1200];
    assert_non_null(gl_test_root(root, sizeof root));
    snprintf(path, sizeof path, "%s/fixtures/blocks/%s", root, name);
    json_error_t jerr;
    json_t *doc = json_load_file(path, 0, &jerr);
    if (!doc)
        fail_msg("cannot load %s: %s", path, jerr.text);
    return doc;
}

/* The block object inside a fixture (borrowed from doc). */
static json_t *blk(json_t *doc)
{
    json_t *r = json_object_get(doc, "result");
    return r ? r : doc;
}

static void set_str(json_t *obj, const char *key, const char *val)
{
    assert_int_equal(json_object_set_new(obj, key, json_string(val)), 0);
}

static json_t *tx_at(json_t *doc, size_t i)
{
    return json_array_get(json_object_get(blk(doc), "transactions"), i);
}

static const gl_block_check *find_check(const gl_block_report *r, const char *field)
{
    for (size_t i = 0; i < r->n; i++)
        if (!strcmp(r->checks[i].field, field))
            return &r->checks[i];
    return NULL;
}

static gl_block_status status_of(const gl_block_report *r, const char *field)
{
    const gl_block_check *c = find_check(r, field);
    if (!c)
        fail_msg("no check for '%s'", field);
    return c->status;
}

/* Every mismatching check's field, comma-separated, into buf. */
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

static void header_hash_hex(const json_t *doc, char out[67])
{
    gl_block_header h;
    uint8_t hash[32];
    gl_err err = {0};
    gl_block_header_init(&h);
    if (gl_block_header_from_json(&h, doc, &err))
        fail_msg("header: %s", err.msg);
    assert_int_equal(gl_block_header_hash(&h, hash, NULL), GL_OK);
    gl_hex_encode(hash, 32, true, out);
    gl_block_header_release(&h);
}

/* The header error message for doc, which must fail with `code`. */
static const char *header_error(const json_t *doc, gl_code code, gl_err *err)
{
    gl_block_header h;
    gl_block_header_init(&h);
    assert_int_equal(gl_block_header_from_json(&h, doc, err), code);
    gl_block_header_release(&h);
    return err->msg;
}

static gl_secp *secp_ctx;

static int setup(void **state)
{
    (void)state;
    secp_ctx = gl_secp_new(NULL);
    return secp_ctx ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    gl_secp_free(secp_ctx);
    return 0;
}

/* ---------------------------------------------------------- header hash */

static void test_genesis_hash(void **state)
{
    (void)state;
    json_t *doc = load_fixture("mainnet-genesis.json");
    char h[67];
    header_hash_hex(doc, h);
    assert_string_equal(h, "0xd4e56740f876aef8c010b86a40d5f56745a118d0906a34e69aec8c0db1cb8fa3");
    /* the same inside a JSON-RPC answer */
    json_t *ans = json_pack("{s:s, s:i, s:O}", "jsonrpc", "2.0", "id", 1, "result", doc);
    header_hash_hex(ans, h);
    assert_string_equal(h, "0xd4e56740f876aef8c010b86a40d5f56745a118d0906a34e69aec8c0db1cb8fa3");
    gl_block_header hd;
    gl_block_header_init(&hd);
    assert_int_equal(gl_block_header_from_json(&hd, ans, NULL), GL_OK);
    assert_string_equal(gl_block_fork_name(&hd), "frontier");
    assert_int_equal(hd.number, 0);
    assert_int_equal(hd.gas_limit, 5000);
    assert_int_equal(hd.extra.len, 32);
    gl_block_header_release(&hd);
    json_decref(ans);
    json_decref(doc);
}

/* gl_block_json_hash: the recomputed hash of the block asked for (the
 * genesis hash is public), never the answer's own "hash"; another block's
 * header or an unreadable one is named. */
static void test_json_hash(void **state)
{
    (void)state;
    json_t *doc = load_fixture("mainnet-genesis.json");
    uint8_t h[32];
    char hex[67];
    gl_err err;
    json_object_set_new(doc, "hash", json_string("0x" "1111111111111111111111111111111111111111111111111111111111111111"));
    assert_int_equal(gl_block_json_hash(doc, 0, h, &err), GL_OK);
    assert_string_equal(gl_hex_encode(h, 32, true, hex),
                        "0xd4e56740f876aef8c010b86a40d5f56745a118d0906a34e69aec8c0db1cb8fa3");
    assert_int_equal(gl_block_json_hash(doc, 1, h, &err), GL_EINVAL);
    assert_string_equal(err.msg, "is block 0, not 1");
    json_object_del(doc, "stateRoot");
    assert_int_equal(gl_block_json_hash(doc, 0, h, &err), GL_EINVAL);
    assert_non_null(strstr(err.msg, "is unreadable: "));
    assert_non_null(strstr(err.msg, "stateRoot"));
    json_decref(doc);
}

static void test_fork_headers(void **state)
{
    (void)state;
    static const struct {
        const char *file, *fork;
        unsigned ext;
    } cases[] = {
        {"execution-apis-london-0x1b.json", "london", 0x01},
        {"execution-apis-shanghai-0x27.json", "shanghai", 0x03},
        {"execution-apis-cancun-0x2-full.json", "cancun", 0x1f},
        {"execution-apis-prague-0x2d.json", "prague", 0x3f},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        json_t *doc = load_fixture(cases[i].file);
        char h[67];
        header_hash_hex(doc, h);
        assert_string_equal(h, json_string_value(json_object_get(blk(doc), "hash")));
        gl_block_header hd;
        gl_block_header_init(&hd);
        assert_int_equal(gl_block_header_from_json(&hd, doc, NULL), GL_OK);
        assert_string_equal(gl_block_fork_name(&hd), cases[i].fork);
        assert_int_equal(hd.ext, cases[i].ext);
        /* rendering the header back gives the same fields */
        json_t *back = gl_block_header_to_json(&hd, NULL);
        assert_non_null(back);
        const char *key;
        json_t *v;
        json_object_foreach(back, key, v)
            assert_string_equal(json_string_value(v), json_string_value(json_object_get(blk(doc), key)));
        json_decref(back);
        gl_block_header_release(&hd);
        json_decref(doc);
    }
}

/* OpenEthereum/Parity's sealFields stand in for mixHash and nonce. */
static void test_seal_fields(void **state)
{
    (void)state;
    json_t *doc = load_fixture("mainnet-genesis.json");
    gl_err err = {0};
    char h[67];
    json_object_del(doc, "mixHash");
    json_object_del(doc, "nonce");
    json_t *seal = json_pack("[s,s]", "0xa00000000000000000000000000000000000000000000000000000000000000000",
                             "0x880000000000000042");
    json_object_set_new(doc, "sealFields", seal);
    header_hash_hex(doc, h);
    assert_string_equal(h, "0xd4e56740f876aef8c010b86a40d5f56745a118d0906a34e69aec8c0db1cb8fa3");
    /* a seal field that is not one RLP item */
    json_array_set_new(seal, 1, json_string("0x88000000000000004200"));
    assert_non_null(strstr(header_error(doc, GL_EINVAL, &err), "sealFields[1]"));
    /* no seal at all */
    json_object_del(doc, "sealFields");
    assert_non_null(strstr(header_error(doc, GL_EINVAL, &err), "'mixHash'"));
    /* half a seal */
    set_str(doc, "mixHash", "0x0000000000000000000000000000000000000000000000000000000000000000");
    assert_non_null(strstr(header_error(doc, GL_EINVAL, &err), "'nonce'"));
    json_decref(doc);
}

static void test_malformed_headers(void **state)
{
    (void)state;
    gl_err err = {0};
    json_t *doc = load_fixture("execution-apis-prague-0x2d.json");
    json_t *b = blk(doc);
    json_t *saved;

    /* a missing field is named */
    saved = json_incref(json_object_get(b, "stateRoot"));
    json_object_del(b, "stateRoot");
    assert_non_null(strstr(header_error(doc, GL_EINVAL, &err), "missing field 'stateRoot'"));
    json_object_set_new(b, "stateRoot", saved);

    /* bad hex and wrong lengths name the field */
    saved = json_incref(json_object_get(b, "parentHash"));
    set_str(b, "parentHash", "0x5728fa3c576e9a3752567c117c855c453c366645ed30f9490bb30b230a99b7zz");
    assert_non_null(strstr(header_error(doc, GL_EINVAL, &err), "'parentHash'"));
    set_str(b, "parentHash", "0x5728fa3c576e9a3752567c117c855c453c366645ed30f9490bb30b230a99b7");
    assert_non_null(strstr(header_error(doc, GL_EINVAL, &err), "'parentHash'"));
    json_object_set_new(b, "parentHash", saved);
    saved = json_incref(json_object_get(b, "miner"));
    json_object_set_new(b, "miner", json_integer(5));
    assert_non_null(strstr(header_error(doc, GL_EINVAL, &err), "'miner' is not a string"));
    json_object_set_new(b, "miner", saved);

    /* quantities: 0x prefix, bad digits, 64-bit overflow */
    saved = json_incref(json_object_get(b, "gasUsed"));
    set_str(b, "gasUsed", "54a92");
    assert_non_null(strstr(header_error(doc, GL_EINVAL, &err), "'gasUsed'"));
    set_str(b, "gasUsed", "0x54g92");
    assert_non_null(strstr(header_error(doc, GL_EINVAL, &err), "'gasUsed'"));
    set_str(b, "gasUsed", "0x10000000000000000");
    assert_non_null(strstr(header_error(doc, GL_ERANGE, &err), "'gasUsed'"));
    json_object_set_new(b, "gasUsed", saved);

    /* fork fields are ordered: a later one without an earlier one is an error naming both */
    saved = json_incref(json_object_get(b, "baseFeePerGas"));
    json_object_del(b, "baseFeePerGas");
    header_error(doc, GL_EINVAL, &err);
    assert_non_null(strstr(err.msg, "'withdrawalsRoot'"));
    assert_non_null(strstr(err.msg, "'baseFeePerGas' is missing"));
    json_object_set_new(b, "baseFeePerGas", saved);
    saved = json_incref(json_object_get(b, "parentBeaconBlockRoot"));
    json_object_set_new(b, "parentBeaconBlockRoot", json_null()); /* null counts as absent */
    header_error(doc, GL_EINVAL, &err);
    assert_non_null(strstr(err.msg, "'requestsHash'"));
    assert_non_null(strstr(err.msg, "'parentBeaconBlockRoot' is missing"));
    json_object_set_new(b, "parentBeaconBlockRoot", saved);

    /* ... unless gaps are asked for (anvil's headers): the fields present are hashed */
    saved = json_incref(json_object_get(b, "withdrawalsRoot"));
    json_object_del(b, "withdrawalsRoot");
    header_error(doc, GL_EINVAL, &err);
    assert_non_null(strstr(err.msg, "'withdrawalsRoot' is missing"));
    gl_block_header hd;
    gl_buf enc = GL_BUF_INIT;
    gl_block_header_init(&hd);
    assert_int_equal(gl_block_header_from_json_ex(&hd, doc, GL_BLOCK_FORK_GAPS, NULL), GL_OK);
    assert_int_equal(hd.ext, 0x3d);
    assert_string_equal(gl_block_fork_name(&hd), "london");
    assert_int_equal(gl_block_header_encode(&hd, &enc, NULL), GL_OK);
    size_t gapped = enc.len;
    json_object_set_new(b, "withdrawalsRoot", saved);
    assert_int_equal(gl_block_header_from_json(&hd, doc, NULL), GL_OK);
    gl_buf_reset(&enc);
    assert_int_equal(gl_block_header_encode(&hd, &enc, NULL), GL_OK);
    assert_int_equal(enc.len, gapped + 33); /* exactly the 32-byte root and its RLP prefix */
    gl_buf_release(&enc);
    gl_block_header_release(&hd);

    /* still a valid Prague header after all the repairs */
    char h[67];
    header_hash_hex(doc, h);
    assert_string_equal(h, "0xe02dd6dfcd01b2afca0e56cd1d09535398be984b97b3e8be7bfba38ea17fc633");

    /* answers that hold no block */
    json_t *e = json_loads("{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":{\"code\":-32000,\"message\":\"header not found\"}}",
                           0, NULL);
    assert_non_null(strstr(header_error(e, GL_ERPC, &err), "header not found"));
    json_decref(e);
    e = json_loads("{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":null}", 0, NULL);
    assert_non_null(strstr(header_error(e, GL_EINVAL, &err), "null"));
    json_decref(e);
    e = json_loads("[1,2]", 0, NULL);
    header_error(e, GL_EINVAL, &err);
    json_decref(e);
    json_decref(doc);
}

/* ------------------------------------------------------- verification */

static void verify_ok(const json_t *doc, gl_block_report *rep)
{
    gl_err err = {0};
    if (gl_block_verify(secp_ctx, doc, rep, &err))
        fail_msg("verify: %s", err.msg);
}

static void test_verify_full_block(void **state)
{
    (void)state;
    json_t *doc = load_fixture("execution-apis-cancun-0x2-full.json");
    gl_block_report rep;
    char mm[512];
    gl_block_report_init(&rep);
    verify_ok(doc, &rep);
    assert_string_equal(mismatches(&rep, mm, sizeof mm), "");
    /* hash, sha3Uncles, transactionsRoot, 4 x (hash, from), withdrawalsRoot */
    assert_int_equal(rep.matched, 12);
    assert_int_equal(rep.not_checked, 1); /* receiptsRoot */
    assert_int_equal(rep.ntx, 4);
    assert_int_equal(status_of(&rep, "transactionsRoot"), GL_BLOCK_MATCH);
    assert_int_equal(status_of(&rep, "transactions[3].from"), GL_BLOCK_MATCH);
    assert_int_equal(status_of(&rep, "withdrawalsRoot"), GL_BLOCK_MATCH);
    assert_int_equal(status_of(&rep, "receiptsRoot"), GL_BLOCK_NOT_CHECKED);
    assert_string_equal(find_check(&rep, "transactions[0].from")->computed,
                        "0x7435ed30a8b4aeb0877cef0c6e8cffe834eb865f");

    /* without a secp256k1 context senders are "not checked", not passed */
    assert_int_equal(gl_block_verify(NULL, doc, &rep, NULL), GL_OK);
    assert_int_equal(status_of(&rep, "transactions[2].from"), GL_BLOCK_NOT_CHECKED);
    assert_int_equal(rep.matched, 8);
    assert_int_equal(rep.not_checked, 5);
    gl_block_report_release(&rep);
    json_decref(doc);
}

static void test_verify_hash_only(void **state)
{
    (void)state;
    json_t *doc = load_fixture("execution-apis-london-0x1b.json");
    gl_block_report rep;
    gl_block_report_init(&rep);
    verify_ok(doc, &rep);
    assert_int_equal(rep.mismatched, 0);
    assert_int_equal(rep.matched, 1); /* the header hash */
    const gl_block_check *c = find_check(&rep, "transactionsRoot");
    assert_int_equal(c->status, GL_BLOCK_NOT_CHECKED);
    assert_non_null(strstr(c->reason, "hashes only"));
    /* one uncle: its header is not in the block, so sha3Uncles cannot be checked */
    assert_int_equal(status_of(&rep, "sha3Uncles"), GL_BLOCK_NOT_CHECKED);
    /* a bad hash in the list is an input error */
    json_array_set_new(json_object_get(blk(doc), "transactions"), 1, json_string("0x1234"));
    gl_err err = {0};
    assert_int_equal(gl_block_verify(secp_ctx, doc, &rep, &err), GL_EINVAL);
    assert_non_null(strstr(err.msg, "transactions[1]"));
    assert_int_equal(rep.n, 0);
    gl_block_report_release(&rep);
    json_decref(doc);
}

static void test_verify_withdrawals(void **state)
{
    (void)state;
    json_t *doc = load_fixture("execution-apis-shanghai-0x27.json");
    gl_block_report rep;
    char mm[512];
    gl_block_report_init(&rep);
    verify_ok(doc, &rep);
    assert_int_equal(status_of(&rep, "withdrawalsRoot"), GL_BLOCK_MATCH);
    assert_int_equal(rep.mismatched, 0);
    json_t *w = json_array_get(json_object_get(blk(doc), "withdrawals"), 0);
    set_str(w, "amount", "0x65");
    verify_ok(doc, &rep);
    assert_string_equal(mismatches(&rep, mm, sizeof mm), "withdrawalsRoot");
    set_str(w, "amount", "100"); /* not a quantity */
    gl_err err = {0};
    assert_int_equal(gl_block_verify(secp_ctx, doc, &rep, &err), GL_EINVAL);
    assert_non_null(strstr(err.msg, "withdrawals[0]"));
    assert_non_null(strstr(err.msg, "'amount'"));
    gl_block_report_release(&rep);
    json_decref(doc);
}

/* One header field changed: only the header hash differs, and the report
 * shows the altered value among the fields it hashed. */
static void test_altered_header(void **state)
{
    (void)state;
    static const char *const fields[][2] = {
        {"stateRoot", "0xd7f8974fb5ac78d9ac099b9ad5018bedc2ce0a72dad1827a1709da30580f0545"},
        {"timestamp", "0x1"},
        {"extraData", "0x11bbe8db4e347b4e8c937c1c8370e4b5ed33adb3db69cbdb7a38e1e50b1b82fb"},
        {"difficulty", "0x400000001"},
        {"nonce", "0x0000000000000043"},
    };
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        json_t *doc = load_fixture("mainnet-genesis.json");
        gl_block_report rep;
        char mm[512];
        gl_block_report_init(&rep);
        set_str(doc, fields[i][0], fields[i][1]);
        verify_ok(doc, &rep);
        assert_string_equal(mismatches(&rep, mm, sizeof mm), "hash");
        const gl_block_check *c = find_check(&rep, "hash");
        assert_string_equal(c->claimed, "0xd4e56740f876aef8c010b86a40d5f56745a118d0906a34e69aec8c0db1cb8fa3");
        json_t *js = gl_block_report_to_json(&rep, NULL);
        assert_non_null(js);
        assert_false(json_is_true(json_object_get(js, "ok")));
        json_t *hc = json_array_get(json_object_get(js, "checks"), 0);
        assert_string_equal(json_string_value(json_object_get(hc, "status")), "mismatch");
        assert_string_equal(json_string_value(json_object_get(json_object_get(hc, "header"), fields[i][0])),
                            fields[i][1]);
        json_decref(js);
        gl_block_report_release(&rep);
        json_decref(doc);
    }
}

/* One transaction field changed: its hash and sender and the root differ. */
static void test_altered_transactions(void **state)
{
    (void)state;
    static const struct {
        size_t tx;
        const char *field, *value;
    } cases[] = {
        {2, "value", "0x3"},
        {3, "s", "0x385305da7dbc3135dbfa4cf02631b1eef49025bf9e76d4ad05a0ba19831ad526"},
        {0, "r", "0xf69b5bccffed490be6ab9b289262ac6147bb6a23f3b061e7356d5d9bc77ceefb"},
        {1, "input", "0x435b8080556001015a6161a810600158"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        json_t *doc = load_fixture("execution-apis-cancun-0x2-full.json");
        gl_block_report rep;
        char mm[512], want[256];
        gl_block_report_init(&rep);
        set_str(tx_at(doc, cases[i].tx), cases[i].field, cases[i].value);
        verify_ok(doc, &rep);
        snprintf(want, sizeof want, "transactionsRoot,transactions[%zu].hash,transactions[%zu].from",
                 cases[i].tx, cases[i].tx);
        assert_string_equal(mismatches(&rep, mm, sizeof mm), want);
        assert_int_equal(status_of(&rep, "hash"), GL_BLOCK_MATCH);
        gl_block_report_release(&rep);
        json_decref(doc);
    }
    /* a lying `from` alone */
    json_t *doc = load_fixture("execution-apis-cancun-0x2-full.json");
    gl_block_report rep;
    char mm[512];
    gl_block_report_init(&rep);
    set_str(tx_at(doc, 1), "from", "0x7435ed30a8b4aeb0877cef0c6e8cffe834eb8650");
    verify_ok(doc, &rep);
    assert_string_equal(mismatches(&rep, mm, sizeof mm), "transactions[1].from");
    /* a lying hash alone */
    set_str(tx_at(doc, 1), "from", "0x7435ed30a8b4aeb0877cef0c6e8cffe834eb865f");
    set_str(tx_at(doc, 0), "hash", "0x51a7c013ddcc27a750952d2e07e2a36cbf311f5f7ddc5f4c308ed7f9e73b1c8e");
    verify_ok(doc, &rep);
    assert_string_equal(mismatches(&rep, mm, sizeof mm), "transactions[0].hash");
    gl_block_report_release(&rep);
    json_decref(doc);
}

/* EIP-155's example transaction (private key 0x4646...46, whose address is
 * 0x9d8a62f656a8d1615c1294fd71e9cfb3e4855a4f), carried Parity-style with `raw`. */
#define EIP155_RAW                                                                                   \
    "0xf86c098504a817c800825208943535353535353535353535353535353535353535880de0b6b3a76400008025a028" \
    "ef61340bd939bc2195fe537567866003e1a15d3c71ff63e1590620aa636276a067cbe9d8997f761aecb703304b3800c" \
    "cf555c9f3dc64214b297fb1966a3b6d83"

static json_t *eip155_block(void)
{
    json_t *doc = load_fixture("mainnet-genesis.json");
    gl_buf raw = GL_BUF_INIT;
    uint8_t h[32];
    char hh[67];
    assert_int_equal(gl_hex_decode_buf(EIP155_RAW, &raw, NULL), GL_OK);
    gl_keccak256(raw.data, raw.len, h);
    gl_hex_encode(h, 32, true, hh);
    gl_buf_release(&raw);
    json_t *tx = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "hash", hh, "from",
                           "0x9d8a62f656a8d1615c1294fd71e9cfb3e4855a4f", "nonce", "0x9", "gasPrice",
                           "0x4a817c800", "gas", "0x5208", "to", "0x3535353535353535353535353535353535353535",
                           "value", "0xde0b6b3a7640000", "input", "0x", "type", "0x0", "v", "0x25", "r",
                           "0x28ef61340bd939bc2195fe537567866003e1a15d3c71ff63e1590620aa636276", "s",
                           "0x67cbe9d8997f761aecb703304b3800ccf555c9f3dc64214b297fb1966a3b6d83", "raw", EIP155_RAW);
    assert_non_null(tx);
    json_object_set_new(doc, "transactions", json_pack("[o]", tx));
    return doc;
}

static void test_raw_and_tx_root(void **state)
{
    (void)state;
    json_t *doc = eip155_block();
    gl_block_report rep;
    char mm[512];
    gl_block_report_init(&rep);
    verify_ok(doc, &rep);
    /* the genesis header claims the empty transactions root: only that differs */
    assert_string_equal(mismatches(&rep, mm, sizeof mm), "transactionsRoot");
    assert_int_equal(status_of(&rep, "transactions[0].raw"), GL_BLOCK_MATCH);
    assert_int_equal(status_of(&rep, "transactions[0].from"), GL_BLOCK_MATCH);
    /* the root of a one-transaction trie, by hand: leaf [hp(80) = 20 80, raw (110 bytes)] */
    gl_buf node = GL_BUF_INIT;
    uint8_t want[32];
    char wh[67];
    assert_int_equal(gl_hex_decode_buf("0xf873822080b86e", &node, NULL), GL_OK);
    assert_int_equal(gl_hex_decode_buf(EIP155_RAW, &node, NULL), GL_OK);
    gl_keccak256(node.data, node.len, want);
    gl_buf_release(&node);
    gl_hex_encode(want, 32, true, wh);
    assert_string_equal(find_check(&rep, "transactionsRoot")->computed, wh);
    /* claim that root in the header: the root matches, the genesis hash no longer does */
    set_str(doc, "transactionsRoot", wh);
    verify_ok(doc, &rep);
    assert_string_equal(mismatches(&rep, mm, sizeof mm), "hash");
    /* a field changed (header as published again): `raw` names it */
    set_str(doc, "transactionsRoot", GL_TRIE_EMPTY_ROOT_HEX);
    set_str(json_array_get(json_object_get(doc, "transactions"), 0), "value", "0xde0b6b3a7640001");
    verify_ok(doc, &rep);
    assert_string_equal(mismatches(&rep, mm, sizeof mm),
                        "transactionsRoot,transactions[0].hash,transactions[0].from,transactions[0].raw");
    const gl_block_check *c = find_check(&rep, "transactions[0].raw");
    assert_string_equal(c->differs, "transactions[0].value");
    json_t *js = gl_block_report_to_json(&rep, NULL);
    json_t *last = NULL, *v;
    size_t i;
    json_array_foreach(json_object_get(js, "checks"), i, v)
        if (!strcmp(json_string_value(json_object_get(v, "field")), "transactions[0].raw"))
            last = v;
    assert_non_null(last);
    assert_string_equal(json_string_value(json_array_get(json_object_get(last, "differs"), 0)),
                        "transactions[0].value");
    json_decref(js);
    gl_block_report_release(&rep);
    json_decref(doc);
}

static void test_malformed_transactions(void **state)
{
    (void)state;
    gl_err err = {0};
    gl_block_report rep;
    gl_block_report_init(&rep);
    json_t *doc = load_fixture("execution-apis-cancun-0x2-full.json");
    json_t *b = blk(doc), *txs = json_incref(json_object_get(b, "transactions"));

    json_object_set_new(b, "transactions", json_string("none"));
    assert_int_equal(gl_block_verify(secp_ctx, doc, &rep, &err), GL_EINVAL);
    assert_non_null(strstr(err.msg, "'transactions' is not a list"));

    json_t *mixed = json_deep_copy(txs);
    json_array_set_new(mixed, 2, json_string("0x847f7a3261988dc4a34be85f4c28d5d534d47775792e9d25e1d9250cb2fb77eb"));
    json_object_set_new(b, "transactions", mixed);
    assert_int_equal(gl_block_verify(secp_ctx, doc, &rep, &err), GL_EINVAL);
    assert_non_null(strstr(err.msg, "transactions[2]"));

    json_t *nohash = json_deep_copy(txs);
    json_object_del(json_array_get(nohash, 1), "hash");
    json_object_set_new(b, "transactions", nohash);
    assert_int_equal(gl_block_verify(secp_ctx, doc, &rep, &err), GL_EINVAL);
    assert_non_null(strstr(err.msg, "transactions[1]"));
    assert_non_null(strstr(err.msg, "'hash'"));

    json_t *nofrom = json_deep_copy(txs);
    json_object_del(json_array_get(nofrom, 3), "from");
    json_object_set_new(b, "transactions", nofrom);
    assert_int_equal(gl_block_verify(secp_ctx, doc, &rep, &err), GL_EINVAL);
    assert_non_null(strstr(err.msg, "transactions[3]"));
    assert_non_null(strstr(err.msg, "'from'"));

    json_t *badval = json_deep_copy(txs);
    set_str(json_array_get(badval, 2), "value", "0xzz");
    json_object_set_new(b, "transactions", badval);
    assert_int_equal(gl_block_verify(secp_ctx, doc, &rep, &err), GL_EINVAL);
    assert_non_null(strstr(err.msg, "transactions[2]"));
    assert_int_equal(rep.n, 0);

    /* no list at all (a header): the root is not checked, nothing fails */
    json_object_del(b, "transactions");
    verify_ok(doc, &rep);
    assert_int_equal(status_of(&rep, "transactionsRoot"), GL_BLOCK_NOT_CHECKED);
    assert_int_equal(rep.mismatched, 0);
    json_decref(txs);
    gl_block_report_release(&rep);
    json_decref(doc);
}

static void test_report_json(void **state)
{
    (void)state;
    json_t *doc = load_fixture("execution-apis-cancun-0x2-full.json");
    gl_block_report rep;
    gl_block_report_init(&rep);
    verify_ok(doc, &rep);
    json_t *js = gl_block_report_to_json(&rep, NULL);
    assert_non_null(js);
    assert_int_equal(json_integer_value(json_object_get(js, "number")), 2);
    assert_string_equal(json_string_value(json_object_get(js, "fork")), "cancun");
    assert_true(json_is_true(json_object_get(js, "ok")));
    assert_int_equal(json_integer_value(json_object_get(js, "matched")), 12);
    json_t *checks = json_object_get(js, "checks");
    assert_int_equal(json_array_size(checks), 13);
    json_t *c0 = json_array_get(checks, 0);
    assert_string_equal(json_string_value(json_object_get(c0, "check")), "header hash");
    assert_string_equal(json_string_value(json_object_get(c0, "field")), "hash");
    assert_string_equal(json_string_value(json_object_get(c0, "computed")),
                        "0xa111ce2477e1dd45173ba93cac819e62947e62a63a7d561b6f4825fb31c22645");
    json_t *last = json_array_get(checks, 12);
    assert_string_equal(json_string_value(json_object_get(last, "status")), "not checked");
    assert_true(json_is_null(json_object_get(last, "computed")));
    assert_non_null(json_string_value(json_object_get(last, "reason")));
    json_decref(js);
    gl_block_report_release(&rep);
    json_decref(doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_genesis_hash),
        cmocka_unit_test(test_json_hash),
        cmocka_unit_test(test_fork_headers),
        cmocka_unit_test(test_seal_fields),
        cmocka_unit_test(test_malformed_headers),
        cmocka_unit_test(test_verify_full_block),
        cmocka_unit_test(test_verify_hash_only),
        cmocka_unit_test(test_verify_withdrawals),
        cmocka_unit_test(test_altered_header),
        cmocka_unit_test(test_altered_transactions),
        cmocka_unit_test(test_raw_and_tx_root),
        cmocka_unit_test(test_malformed_transactions),
        cmocka_unit_test(test_report_json),
    };
    return cmocka_run_group_tests_name("block", tests, setup, teardown);
}
