/* test_anvil_abi.c - the ABI decoder against a real node (anvil).
 *
 * fixtures/contracts/AbiEvents.sol (compiled by scripts/compile-contracts.sh
 * into fixtures/contracts/build/AbiEvents.json) is deployed from an unlocked
 * dev account.  Each emitX function is called with values written in this
 * file (calldata built by gl_abi_encode_call from the JSON ABI); the node
 * executes solc's code, which emits event X with those values, and the
 * receipt's log is decoded with the event's ABI entry.  The oracle is solc's
 * encoder running in the EVM: the decoded values must equal the values the
 * test called with, and the logs of emitConstants() must equal the constants
 * written in the Solidity source (repeated below, with integer bounds from
 * Python and keccak hashes from js-sha3, not from our code).  Indexed
 * arrays and structs are hashed by the EVM; gl_abi_encode_topic must agree.
 * echo() returns its arguments, which checks decoding of return data.
 *
 * The first test checks that the committed artifacts equal a fresh compile
 * (scripts/compile-contracts.sh --check).
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

#include <cmocka.h>

#include "gpuledger/abi.h"
#include "gpuledger/bytes.h"
#include "gpuledger/rpc.h"

#include "../support/anvil.h"
#include "../support/testutil.h"

/* 2^N - 1, -2^(N-1), 2^(N-1) - 1 for N = 8, 16, ..., 256 (computed with Python). */
static const struct { unsigned bits; const char *umax, *imin, *imax; } BOUNDS[32] = {
    {8, "255",
     "-128",
     "127"},
    {16, "65535",
     "-32768",
     "32767"},
    {24, "16777215",
     "-8388608",
     "8388607"},
    {32, "4294967295",
     "-2147483648",
     "2147483647"},
    {40, "1099511627775",
     "-549755813888",
     "549755813887"},
    {48, "281474976710655",
     "-140737488355328",
     "140737488355327"},
    {56, "72057594037927935",
     "-36028797018963968",
     "36028797018963967"},
    {64, "18446744073709551615",
     "-9223372036854775808",
     "9223372036854775807"},
    {72, "4722366482869645213695",
     "-2361183241434822606848",
     "2361183241434822606847"},
    {80, "1208925819614629174706175",
     "-604462909807314587353088",
     "604462909807314587353087"},
    {88, "309485009821345068724781055",
     "-154742504910672534362390528",
     "154742504910672534362390527"},
    {96, "79228162514264337593543950335",
     "-39614081257132168796771975168",
     "39614081257132168796771975167"},
    {104, "20282409603651670423947251286015",
     "-10141204801825835211973625643008",
     "10141204801825835211973625643007"},
    {112, "5192296858534827628530496329220095",
     "-2596148429267413814265248164610048",
     "2596148429267413814265248164610047"},
    {120, "1329227995784915872903807060280344575",
     "-664613997892457936451903530140172288",
     "664613997892457936451903530140172287"},
    {128, "340282366920938463463374607431768211455",
     "-170141183460469231731687303715884105728",
     "170141183460469231731687303715884105727"},
    {136, "87112285931760246646623899502532662132735",
     "-43556142965880123323311949751266331066368",
     "43556142965880123323311949751266331066367"},
    {144, "22300745198530623141535718272648361505980415",
     "-11150372599265311570767859136324180752990208",
     "11150372599265311570767859136324180752990207"},
    {152, "5708990770823839524233143877797980545530986495",
     "-2854495385411919762116571938898990272765493248",
     "2854495385411919762116571938898990272765493247"},
    {160, "1461501637330902918203684832716283019655932542975",
     "-730750818665451459101842416358141509827966271488",
     "730750818665451459101842416358141509827966271487"},
    {168, "374144419156711147060143317175368453031918731001855",
     "-187072209578355573530071658587684226515959365500928",
     "187072209578355573530071658587684226515959365500927"},
    {176, "95780971304118053647396689196894323976171195136475135",
     "-47890485652059026823698344598447161988085597568237568",
     "47890485652059026823698344598447161988085597568237567"},
    {184, "24519928653854221733733552434404946937899825954937634815",
     "-12259964326927110866866776217202473468949912977468817408",
     "12259964326927110866866776217202473468949912977468817407"},
    {192, "6277101735386680763835789423207666416102355444464034512895",
     "-3138550867693340381917894711603833208051177722232017256448",
     "3138550867693340381917894711603833208051177722232017256447"},
    {200, "1606938044258990275541962092341162602522202993782792835301375",
     "-803469022129495137770981046170581301261101496891396417650688",
     "803469022129495137770981046170581301261101496891396417650687"},
    {208, "411376139330301510538742295639337626245683966408394965837152255",
     "-205688069665150755269371147819668813122841983204197482918576128",
     "205688069665150755269371147819668813122841983204197482918576127"},
    {216, "105312291668557186697918027683670432318895095400549111254310977535",
     "-52656145834278593348959013841835216159447547700274555627155488768",
     "52656145834278593348959013841835216159447547700274555627155488767"},
    {224, "26959946667150639794667015087019630673637144422540572481103610249215",
     "-13479973333575319897333507543509815336818572211270286240551805124608",
     "13479973333575319897333507543509815336818572211270286240551805124607"},
    {232, "6901746346790563787434755862277025452451108972170386555162524223799295",
     "-3450873173395281893717377931138512726225554486085193277581262111899648",
     "3450873173395281893717377931138512726225554486085193277581262111899647"},
    {240, "1766847064778384329583297500742918515827483896875618958121606201292619775",
     "-883423532389192164791648750371459257913741948437809479060803100646309888",
     "883423532389192164791648750371459257913741948437809479060803100646309887"},
    {248, "452312848583266388373324160190187140051835877600158453279131187530910662655",
     "-226156424291633194186662080095093570025917938800079226639565593765455331328",
     "226156424291633194186662080095093570025917938800079226639565593765455331327"},
    {256, "115792089237316195423570985008687907853269984665640564039457584007913129639935",
     "-57896044618658097711785492504343953926634992332820282019728792003956564819968",
     "57896044618658097711785492504343953926634992332820282019728792003956564819967"},
};

typedef struct fixture {
    gl_anvil *node;
    gl_rpc *rpc;
    json_t *artifact; /* AbiEvents.json */
    const json_t *abi;
    char contract[43];
    char root[4096];
} fixture;

static json_t *J(const char *text)
{
    json_error_t e;
    json_t *v = json_loads(text, JSON_DECODE_ANY, &e);
    if (!v)
        fail_msg("bad JSON in test: %s: %s", text, e.text);
    return v;
}

static void assert_json_eq(const json_t *got, const json_t *want, const char *what)
{
    if (!json_equal(got, want)) {
        char *g = json_dumps(got, JSON_COMPACT | JSON_ENCODE_ANY);
        char *w = json_dumps(want, JSON_COMPACT | JSON_ENCODE_ANY);
        fail_msg("%s: decoded values differ\n got  %s\n want %s", what, g ? g : "?", w ? w : "?");
    }
}

/* eth_getTransactionReceipt, which anvil has as soon as the tx is mined
 * (automine); retried briefly in case it is not there yet. */
static json_t *receipt_of(gl_rpc *rpc, const char *hash)
{
    for (int i = 0; i < 50; i++) {
        json_t *res = NULL;
        gl_err err;
        if (gl_rpc_call(rpc, "eth_getTransactionReceipt", json_pack("[s]", hash), &res, &err))
            fail_msg("eth_getTransactionReceipt: %s", err.msg);
        if (!json_is_null(res))
            return res;
        json_decref(res);
        struct timespec ts = {0, 20 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    fail_msg("no receipt for %s", hash);
    return NULL;
}

/* Send a transaction from dev account 0 and return its receipt (status 1). */
static json_t *transact(fixture *f, const char *to, const gl_buf *data)
{
    char *hex = gl_hex_encode_alloc(data->data, data->len, true);
    assert_non_null(hex);
    json_t *tx = json_pack("{s:s, s:s}", "from", gl_anvil_dev_address(0), "data", hex);
    free(hex);
    if (to)
        json_object_set_new(tx, "to", json_string(to));
    json_t *res = NULL;
    gl_err err;
    if (gl_rpc_call(f->rpc, "eth_sendTransaction", json_pack("[o]", tx), &res, &err))
        fail_msg("eth_sendTransaction: %s", err.msg);
    assert_true(json_is_string(res));
    json_t *rcpt = receipt_of(f->rpc, json_string_value(res));
    json_decref(res);
    const char *status = json_string_value(json_object_get(rcpt, "status"));
    if (!status || strcmp(status, "0x1"))
        fail_msg("transaction failed (status %s)", status ? status : "?");
    return rcpt;
}

static int group_setup(void **state)
{
    static fixture f;
    gl_err err;
    json_error_t jerr;
    char path[4200];
    if (!gl_test_root(f.root, sizeof f.root)) {
        fprintf(stderr, "cannot find the repository root\n");
        return -1;
    }
    snprintf(path, sizeof path, "%s/fixtures/contracts/build/AbiEvents.json", f.root);
    f.artifact = json_load_file(path, 0, &jerr);
    f.abi = json_object_get(f.artifact, "abi");
    if (!f.artifact || !json_is_array(f.abi)) {
        fprintf(stderr, "cannot load %s: %s\n", path, jerr.text);
        return -1;
    }
    if (gl_anvil_start(NULL, &f.node, &err)) {
        fprintf(stderr, "cannot start anvil: %s\n", err.msg);
        json_decref(f.artifact);
        return -1;
    }
    f.rpc = gl_rpc_new(gl_anvil_url(f.node), &err);
    if (!f.rpc) {
        fprintf(stderr, "cannot create RPC client: %s\n", err.msg);
        gl_anvil_stop(f.node);
        json_decref(f.artifact);
        return -1;
    }
    *state = &f;
    return 0;
}

static int group_teardown(void **state)
{
    fixture *f = *state;
    if (!f)
        return 0;
    gl_rpc_free(f->rpc);
    gl_anvil_stop(f->node);
    json_decref(f->artifact);
    return 0;
}

/* Deploy once, before the tests that call the contract. */
static void test_deploy(void **state)
{
    fixture *f = *state;
    gl_buf code = GL_BUF_INIT;
    const char *bc = json_string_value(json_object_get(f->artifact, "bytecode"));
    assert_non_null(bc);
    assert_int_equal(gl_hex_decode_buf(bc, &code, NULL), GL_OK);
    assert_true(code.len > 100);
    json_t *rcpt = transact(f, NULL, &code);
    const char *addr = json_string_value(json_object_get(rcpt, "contractAddress"));
    assert_non_null(addr);
    assert_int_equal(strlen(addr), 42);
    strcpy(f->contract, addr);
    json_decref(rcpt);
    gl_buf_release(&code);
}

static void test_artifacts_fresh(void **state)
{
    fixture *f = *state;
    char cmd[4300];
    snprintf(cmd, sizeof cmd, "bash '%s/scripts/compile-contracts.sh' --check", f->root);
    int rc = system(cmd);
    if (rc != 0)
        fail_msg("committed artifacts differ from a fresh compile (exit status %d): "
                 "run scripts/compile-contracts.sh", rc);
}

/* Call `fn` with `args` (stolen) and return the receipt's logs. */
static json_t *call_fn(fixture *f, const char *fn, json_t *args)
{
    gl_abi_sig sig;
    gl_err err;
    gl_buf data = GL_BUF_INIT;
    if (gl_abi_sig_find(&sig, f->abi, "function", fn, &err))
        fail_msg("%s", err.msg);
    if (gl_abi_encode_call(&data, &sig, args, &err))
        fail_msg("encode %s: %s", fn, err.msg);
    json_t *rcpt = transact(f, f->contract, &data);
    json_t *logs = json_incref(json_object_get(rcpt, "logs"));
    assert_true(json_is_array(logs));
    json_decref(rcpt);
    json_decref(args);
    gl_buf_release(&data);
    gl_abi_sig_release(&sig);
    return logs;
}

/* Decode one receipt log with the ABI's event `name`. */
static json_t *decode_log(fixture *f, const json_t *log, const char *name, unsigned flags, gl_err *err)
{
    gl_abi_sig ev;
    if (gl_abi_sig_find(&ev, f->abi, "event", name, err))
        fail_msg("%s", err->msg);
    const json_t *jt = json_object_get(log, "topics");
    const char *dhex = json_string_value(json_object_get(log, "data"));
    const char *addr = json_string_value(json_object_get(log, "address"));
    assert_non_null(addr);
    assert_true(strcasecmp(addr, f->contract) == 0);
    assert_true(json_is_array(jt) && dhex);
    size_t n = json_array_size(jt);
    uint8_t (*topics)[32] = calloc(n ? n : 1, 32);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(gl_hex_decode_exact(json_string_value(json_array_get(jt, i)), topics[i], 32, NULL),
                         GL_OK);
    gl_buf data = GL_BUF_INIT;
    assert_int_equal(gl_hex_decode_buf(dhex, &data, NULL), GL_OK);
    json_t *out = NULL;
    gl_code rc = gl_abi_decode_log(&out, &ev, (const uint8_t (*)[32])topics, n,
                                   data.data ? data.data : (const uint8_t *)"", data.len, flags, err);
    if (rc)
        out = NULL;
    free(topics);
    gl_buf_release(&data);
    gl_abi_sig_release(&ev);
    return out;
}

/* What decoding event `name` must give after emitting it with `args`:
 * the args keyed by parameter name, indexed non-value types replaced by the
 * hash gl_abi_encode_topic computes (which the EVM's must equal). */
static json_t *expected_for(fixture *f, const char *name, const json_t *args)
{
    gl_abi_sig ev;
    gl_err err;
    if (gl_abi_sig_find(&ev, f->abi, "event", name, &err))
        fail_msg("%s", err.msg);
    json_t *obj = json_object();
    assert_int_equal(json_array_size(args), ev.inputs->ncomps);
    for (size_t i = 0; i < ev.inputs->ncomps; i++) {
        const gl_abi_param *p = &ev.inputs->comps[i];
        const json_t *v = json_array_get(args, i);
        gl_abi_kind k = p->type->kind;
        bool value_type = k == GL_ABI_UINT || k == GL_ABI_INT || k == GL_ABI_ADDRESS ||
                          k == GL_ABI_BOOL || k == GL_ABI_FIXED_BYTES;
        if (p->indexed && !value_type) {
            uint8_t h[32];
            char hex[67];
            if (gl_abi_encode_topic(h, p->type, v, &err))
                fail_msg("topic of %s: %s", p->name, err.msg);
            json_object_set_new(obj, p->name, json_pack("{s:s}", "indexed_hash",
                                                        gl_hex_encode(h, 32, true, hex)));
        } else {
            json_object_set(obj, p->name, (json_t *)v);
        }
    }
    gl_abi_sig_release(&ev);
    return obj;
}

/* Call emit<event> with args (JSON text) and check the one log it makes. */
static void roundtrip_j(fixture *f, const char *event, json_t *args)
{
    char fn[64];
    snprintf(fn, sizeof fn, "emit%s", event);
    json_t *want = expected_for(f, event, args);
    json_t *logs = call_fn(f, fn, json_incref(args));
    assert_int_equal(json_array_size(logs), 1);
    gl_err err;
    json_t *got = decode_log(f, json_array_get(logs, 0), event, 0, &err);
    if (!got)
        fail_msg("decode %s: %s", event, err.msg);
    assert_json_eq(got, want, event);
    json_decref(got);
    json_decref(want);
    json_decref(logs);
    json_decref(args);
}

static void roundtrip(fixture *f, const char *event, const char *args)
{
    roundtrip_j(f, event, J(args));
}

/* ------------------------------------------------------------------ */

static void test_integers(void **state)
{
    fixture *f = *state;
    static const char *groups = "ABCD";
    for (int g = 0; g < 4; g++) {
        char ev[16];
        /* uint: all maxima, then 0..7, then small values 1, 2, ... */
        json_t *max = json_array(), *zero = json_array(), *imin = json_array(), *imax = json_array(),
               *small = json_array();
        for (int k = 0; k < 8; k++) {
            int i = g * 8 + k;
            char num[16];
            json_array_append_new(max, json_string(BOUNDS[i].umax));
            json_array_append_new(zero, json_string("0"));
            json_array_append_new(imin, json_string(BOUNDS[i].imin));
            json_array_append_new(imax, json_string(BOUNDS[i].imax));
            snprintf(num, sizeof num, "%d", k % 2 ? -(k + 1) : k + 1);
            json_array_append_new(small, json_string(num));
        }
        snprintf(ev, sizeof ev, "Uints%c", groups[g]);
        roundtrip_j(f, ev, json_deep_copy(max));
        roundtrip_j(f, ev, json_deep_copy(zero));
        snprintf(ev, sizeof ev, "Ints%c", groups[g]);
        roundtrip_j(f, ev, imin);
        roundtrip_j(f, ev, imax);
        roundtrip_j(f, ev, small);
        roundtrip_j(f, ev, zero);
        json_decref(max);
    }
}

static void test_fixed_bytes(void **state)
{
    fixture *f = *state;
    static const char *groups = "ABCD";
    for (int g = 0; g < 4; g++) {
        char ev[16];
        json_t *args = json_array(), *ones = json_array();
        for (int k = 0; k < 8; k++) {
            unsigned n = (unsigned)(g * 8 + k + 1);
            char hex[67] = "0x";
            /* byte j of bytesN is N*7+j; and all-0xff */
            for (unsigned j = 0; j < n; j++)
                snprintf(hex + 2 + 2 * j, 3, "%02x", (n * 7 + j) & 0xff);
            json_array_append_new(args, json_string(hex));
            for (unsigned j = 0; j < n; j++)
                memcpy(hex + 2 + 2 * j, "ff", 2);
            json_array_append_new(ones, json_string(hex));
        }
        snprintf(ev, sizeof ev, "Bytes%c", groups[g]);
        roundtrip_j(f, ev, args);
        roundtrip_j(f, ev, ones);
    }
}

static void test_indexed_static(void **state)
{
    fixture *f = *state;
    roundtrip(f, "Basics", "[\"0x70997970c51812dc3a010c7d01b50e0d17dc79c8\", true, "
                           "\"0x00000000000000000000000000000000000000000000000000000000000000ff\", "
                           "\"0xffffffffffffffffffffffffffffffffffffffff\", true]");
    roundtrip(f, "Basics", "[\"0x0000000000000000000000000000000000000000\", false, "
                           "\"0xff00000000000000000000000000000000000000000000000000000000000000\", "
                           "\"0x0000000000000000000000000000000000000001\", false]");
    /* negative values in topics are sign-extended */
    roundtrip(f, "IndexedInts",
              "[\"-128\", \"-57896044618658097711785492504343953926634992332820282019728792003956564819968\", "
              "\"255\", \"-1\"]");
    roundtrip(f, "IndexedInts", "[\"127\", \"-1\", \"0\", \"-128\"]");
}

static void test_dynamic(void **state)
{
    fixture *f = *state;
    roundtrip(f, "Dynamic", "[\"0xdeadbeef\", \"hello\", [\"1\", \"2\", \"3\"], [\"a\", \"bc\"]]");
    roundtrip(f, "Dynamic", "[\"0x\", \"\", [], []]");
    /* 33 bytes, a multi-byte UTF-8 text of more than one word, a huge number */
    roundtrip(f, "Dynamic",
              "[\"0x000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20\", "
              "\"GPU \u00e9t\u00e9 \u2713 \u4e2d\u6587 \\ud83d\\ude80 and a text longer than one 32-byte word\", "
              "[\"115792089237316195423570985008687907853269984665640564039457584007913129639935\", \"0\"], "
              "[\"\", \"x\", \"\", \"a string that is exactly 32 bytes\"]]");
}

static void test_arrays(void **state)
{
    fixture *f = *state;
    roundtrip(f, "Arrays",
              "[[[\"1\",\"2\"],[\"255\",\"0\"],[\"7\",\"8\"]], "
              "[\"0x70997970c51812dc3a010c7d01b50e0d17dc79c8\", \"0x0000000000000000000000000000000000000000\", "
              "\"0xffffffffffffffffffffffffffffffffffffffff\"], "
              "[\"0x\", \"0x01\", \"0x000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\"], "
              "[[\"-32768\", \"32767\", \"-1\"], []], "
              "[true, false, true]]");
    roundtrip(f, "Arrays",
              "[[], [\"0x0000000000000000000000000000000000000001\", \"0x0000000000000000000000000000000000000002\", "
              "\"0x0000000000000000000000000000000000000003\"], [], [[], [\"0\"]], []]");
}

#define OUTER_ARGS \
    "[{\"who\": \"0x3c44cdddb6a900fa2b585dd299e03d12fa4293bc\"," \
    "  \"items\": [{\"id\": \"1\", \"label\": \"first\"}, {\"id\": \"4294967295\", \"label\": \"\"}," \
    "              {\"id\": \"0\", \"label\": \"a label that is longer than thirty-two bytes\"}]," \
    "  \"tag\": \"0x1111111111111111111111111111111111111111111111111111111111111111\"," \
    "  \"single\": {\"id\": \"42\", \"label\": \"single\"}," \
    "  \"deltas\": [\"-9223372036854775808\", \"9223372036854775807\", \"0\"]}," \
    " [{\"id\": \"1\", \"label\": \"one\"}, {\"id\": \"2\", \"label\": \"\"}]," \
    " [[{\"id\": \"3\", \"label\": \"three\"}], [], [{\"id\": \"4\", \"label\": \"four\"}, {\"id\": \"5\", \"label\": \"five\"}]]]"

static void test_nested(void **state)
{
    fixture *f = *state;
    roundtrip(f, "Nested", OUTER_ARGS);
    roundtrip(f, "Nested",
              "[{\"who\": \"0x0000000000000000000000000000000000000000\", \"items\": [], "
              "  \"tag\": \"0x0000000000000000000000000000000000000000000000000000000000000000\", "
              "  \"single\": {\"id\": \"0\", \"label\": \"\"}, \"deltas\": []}, "
              " [{\"id\": \"0\", \"label\": \"\"}, {\"id\": \"0\", \"label\": \"\"}], []]");
}

/* echo() returns its arguments: decode the return data with the outputs. */
static void test_return_data(void **state)
{
    fixture *f = *state;
    gl_abi_sig sig;
    gl_err err;
    gl_buf data = GL_BUF_INIT;
    json_t *args = J(OUTER_ARGS);
    assert_int_equal(gl_abi_sig_find(&sig, f->abi, "function", "echo", &err), GL_OK);
    assert_non_null(sig.outputs);
    assert_int_equal(gl_abi_encode_call(&data, &sig, args, &err), GL_OK);
    char *hex = gl_hex_encode_alloc(data.data, data.len, true);
    json_t *res = NULL;
    if (gl_rpc_call(f->rpc, "eth_call",
                    json_pack("[{s:s, s:s}, s]", "to", f->contract, "data", hex, "latest"), &res, &err))
        fail_msg("eth_call: %s", err.msg);
    free(hex);
    gl_buf ret = GL_BUF_INIT;
    assert_int_equal(gl_hex_decode_buf(json_string_value(res), &ret, NULL), GL_OK);
    json_t *out = NULL;
    if (gl_abi_decode(&out, sig.outputs, ret.data, ret.len, 0, &err))
        fail_msg("decode return data: %s", err.msg);
    assert_json_eq(out, args, "echo"); /* unnamed outputs: an array */
    /* the calldata we sent decodes back to the same arguments */
    json_t *back = NULL;
    assert_int_equal(gl_abi_decode_call(&back, &sig, data.data, data.len, 0, &err), GL_OK);
    json_t *named = json_pack("{s:O, s:O, s:O}", "o", json_array_get(args, 0), "two",
                              json_array_get(args, 1), "deep", json_array_get(args, 2));
    assert_json_eq(back, named, "echo calldata");
    /* cut return data is an error, not a crash */
    json_decref(out);
    assert_int_not_equal(gl_abi_decode(&out, sig.outputs, ret.data, ret.len - 32, 0, &err), GL_OK);
    assert_null(out);
    json_decref(named);
    json_decref(back);
    json_decref(out);
    json_decref(res);
    json_decref(args);
    gl_buf_release(&ret);
    gl_buf_release(&data);
    gl_abi_sig_release(&sig);
}

static void test_indexed_dynamic(void **state)
{
    fixture *f = *state;
    roundtrip(f, "IndexedDynamic", "[\"taskUid-1234\", \"0xc0ffee\", [\"1\", \"2\"], \"plain text\"]");
    roundtrip(f, "IndexedDynamic", "[\"\", \"0x\", [], \"\"]");
    /* structs and arrays of strings: Solidity's in-place encoding, hashed */
    roundtrip(f, "IndexedStruct",
              "[{\"id\": \"9\", \"label\": \"nine\"}, [\"\", \"gpu\", \"a string that is longer than thirty-two bytes\"], "
              "{\"who\": \"0x3c44cdddb6a900fa2b585dd299e03d12fa4293bc\", "
              " \"items\": [{\"id\": \"1\", \"label\": \"x\"}, {\"id\": \"2\", \"label\": \"\"}], "
              " \"tag\": \"0x1111111111111111111111111111111111111111111111111111111111111111\", "
              " \"single\": {\"id\": \"42\", \"label\": \"single\"}, \"deltas\": [\"-1\"]}, \"7\"]");
}

static void test_anonymous_and_odd(void **state)
{
    fixture *f = *state;
    roundtrip(f, "Anon", "[\"5\", \"0x70997970c51812dc3a010c7d01b50e0d17dc79c8\", \"anon\", \"-2147483648\"]");
    roundtrip(f, "Anon4", "[\"1\", \"-1\", \"0x00000000000000000000000000000000000000000000000000000000000000aa\", \"four\"]");
    roundtrip(f, "Ping", "[]");

    /* unnamed parameters come out as an array */
    json_t *logs = call_fn(f, "emitUnnamed",
                           J("[\"77\", \"no names\", \"0x70997970c51812dc3a010c7d01b50e0d17dc79c8\"]"));
    gl_err err;
    json_t *got = decode_log(f, json_array_get(logs, 0), "Unnamed", 0, &err);
    if (!got)
        fail_msg("%s", err.msg);
    json_t *want = J("[\"77\", \"no names\", \"0x70997970c51812dc3a010c7d01b50e0d17dc79c8\"]");
    assert_json_eq(got, want, "Unnamed");
    json_decref(want);
    json_decref(got);
    /* the wrong event for a log is refused: topic0 differs */
    got = decode_log(f, json_array_get(logs, 0), "Dynamic", 0, &err);
    assert_null(got);
    assert_non_null(strstr(err.msg, "topic"));
    json_decref(logs);
}

/* emitConstants(): the values are the Solidity source's, not ours. */
static void test_constants(void **state)
{
    fixture *f = *state;
    static const struct { const char *event, *want; } logs[] = {
        {"UintsA", "{\"u8\":\"255\",\"u16\":\"0\",\"u24\":\"1\",\"u32\":\"11259375\",\"u40\":\"1099511627775\","
                   "\"u48\":\"140737488355328\",\"u56\":\"1\",\"u64\":\"18446744073709551615\"}"},
        {"UintsD", "{\"u200\":\"1606938044258990275541962092341162602522202993782792835301375\",\"u208\":\"0\","
                   "\"u216\":\"7\",\"u224\":\"13479973333575319897333507543509815336818572211270286240551805124608\","
                   "\"u232\":\"1\",\"u240\":\"4277009102\","
                   "\"u248\":\"226156424291633194186662080095093570025917938800079226639565593765455331329\","
                   "\"u256\":\"115792089237316195423570985008687907853269984665640564039457584007913129639935\"}"},
        {"IntsA", "{\"i8\":\"-128\",\"i16\":\"32767\",\"i24\":\"-1\",\"i32\":\"0\",\"i40\":\"-549755813888\","
                  "\"i48\":\"-70368744177664\",\"i56\":\"42\",\"i64\":\"-9223372036854775808\"}"},
        {"IntsD", "{\"i200\":\"-803469022129495137770981046170581301261101496891396417650688\","
                  "\"i208\":\"205688069665150755269371147819668813122841983204197482918576127\","
                  "\"i216\":\"-1\",\"i224\":\"1\","
                  "\"i232\":\"-1725436586697640946858688965569256363112777243042596638790631055949824\","
                  "\"i240\":\"0\","
                  "\"i248\":\"226156424291633194186662080095093570025917938800079226639565593765455331327\","
                  "\"i256\":\"-57896044618658097711785492504343953926634992332820282019728792003956564819968\"}"},
        {"BytesA", "{\"b1\":\"0xff\",\"b2\":\"0x0102\",\"b3\":\"0x0a0b0c\",\"b4\":\"0xdeadbeef\",\"b5\":\"0x0000000001\","
                   "\"b6\":\"0x010000000000\",\"b7\":\"0x00000000000080\",\"b8\":\"0x0123456789abcdef\"}"},
        {"BytesD", "{\"b25\":\"0x00000000000000000000000000000000000000000000000000\","
                   "\"b26\":\"0x0100000000000000000000000000000000000000000000000000\","
                   "\"b27\":\"0xff0000000000000000000000000000000000000000000000000000\","
                   "\"b28\":\"0x01020000000000000000000000000000000000000000000000000000\","
                   "\"b29\":\"0x00ff000000000000000000000000000000000000000000000000000000\","
                   "\"b30\":\"0xaa0000000000000000000000000000000000000000000000000000000000\","
                   "\"b31\":\"0xbb000000000000000000000000000000000000000000000000000000000000\","
                   /* keccak256("gpuledger"), by js-sha3 */
                   "\"b32\":\"0x3648ae9878f1a7cfcc89a48f2f47de7f9f3c0a71fd11f769d0b8a4d7f2329277\"}"},
        {"Basics", "{\"who\":\"0x000000000000000000000000000000000000dead\",\"flag\":true,"
                   "\"tag\":\"0xc0ffee0000000000000000000000000000000000000000000000000000000000\","
                   "\"other\":\"0x0000000000000000000000000000000000000000\",\"no\":false}"},
        {"IndexedInts", "{\"small\":\"-128\",\"big\":\"-2\",\"tiny\":\"255\",\"plain\":\"-1\"}"},
        {"Dynamic", "{\"data\":\"0x00ff10\",\"text\":\"H100 \u2713 \\ud83d\\ude80\","
                    "\"nums\":[\"1\",\"340282366920938463463374607431768211456\","
                    "\"115792089237316195423570985008687907853269984665640564039457584007913129639935\"],"
                    "\"words\":[\"\",\"gpu\",\"a string that is longer than thirty-two bytes, to span words\"]}"},
        {"Nested", "{\"o\":{\"who\":\"0x00000000000000000000000000000000000000a1\","
                   "\"items\":[{\"id\":\"7\",\"label\":\"seven\"},{\"id\":\"4294967295\",\"label\":\"\"}],"
                   "\"tag\":\"0x0000000000000000000000000000000000000000000000000000000000000001\","
                   "\"single\":{\"id\":\"0\",\"label\":\"single\"},\"deltas\":[\"-5\",\"9223372036854775807\"]},"
                   "\"two\":[{\"id\":\"1\",\"label\":\"one\"},{\"id\":\"2\",\"label\":\"two\"}],"
                   "\"deep\":[[],[{\"id\":\"3\",\"label\":\"three\"}]]}"},
        /* hashes by js-sha3 over the spec's in-place encoding */
        {"IndexedDynamic",
         "{\"text\":{\"indexed_hash\":\"0x92b8905fdddf08c6b4ba4c748d8d93ae6777515f98d11e89038d6672f19e75c0\"},"
         "\"data\":{\"indexed_hash\":\"0x7924f890e12acdf516d6278e342cd34550e3bafe0a3dec1b9c2c3e991733711a\"},"
         "\"nums\":{\"indexed_hash\":\"0x99863b806f6e7f163ebb347eae46a2aacc55948139fe10fe0d4f65c0d0b23725\"},"
         "\"plain\":\"plain\"}"},
        {"IndexedStruct",
         "{\"inner\":{\"indexed_hash\":\"0x64b16db378c99c5c8fb5c5eda89c08147cd4982dc1b5ff9d3caa7ad85cbca9f3\"},"
         "\"words\":{\"indexed_hash\":\"0xb2946a51947d29dcf1de7a9506223e7c52fbb668dfec3cb201cf44b8f70afcd4\"},"
         "\"outer\":{\"indexed_hash\":\"0x21ef83a79011a807c464ddd0a9fa1d4253327c3d855811d9632df8574a48ffc4\"},"
         "\"n\":\"99\"}"},
        {"Anon", "{\"a\":\"5\",\"b\":\"0x00000000000000000000000000000000000000a1\",\"c\":\"anon\",\"d\":\"-7\"}"},
        {"Anon4", "{\"a\":\"1\",\"b\":\"-1\",\"c\":\"0x0000000000000000000000000000000000000000000000000000000000000002\","
                  "\"d\":{\"indexed_hash\":\"0x923481f620daa64206c8ec933566224c317f9deb5e271ddf71b4f1e7de758f67\"}}"},
        {"Ping", "{}"},
        {"Unnamed", "[\"77\",\"no names\",\"0x00000000000000000000000000000000000000a1\"]"},
        {"RawText", "{\"text\":{\"hex\":\"0x6e6f74207574662d383a20fffe\"}}"},
    };
    size_t n = sizeof logs / sizeof logs[0];
    json_t *got_logs = call_fn(f, "emitConstants", json_array());
    assert_int_equal(json_array_size(got_logs), n);
    for (size_t i = 0; i < n; i++) {
        gl_err err;
        json_t *got = decode_log(f, json_array_get(got_logs, i), logs[i].event, 0, &err);
        if (!got)
            fail_msg("log %zu (%s): %s", i, logs[i].event, err.msg);
        json_t *want = J(logs[i].want);
        assert_json_eq(got, want, logs[i].event);
        json_decref(want);
        json_decref(got);
    }
    json_decref(got_logs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_artifacts_fresh),
        cmocka_unit_test(test_deploy),
        cmocka_unit_test(test_integers),
        cmocka_unit_test(test_fixed_bytes),
        cmocka_unit_test(test_indexed_static),
        cmocka_unit_test(test_dynamic),
        cmocka_unit_test(test_arrays),
        cmocka_unit_test(test_nested),
        cmocka_unit_test(test_return_data),
        cmocka_unit_test(test_indexed_dynamic),
        cmocka_unit_test(test_anonymous_and_odd),
        cmocka_unit_test(test_constants),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
