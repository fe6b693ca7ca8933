/* test_abi.c - the ABI module against independent values.
 *
 * Oracles: the well-known ERC-20 topics and selectors; the worked examples of
 * the Solidity documentation's "Contract ABI Specification" (baz, bar, sam,
 * f(uint256,uint32[],bytes10,bytes), g(uint256[][],string[]), hex copied from
 * the page); the EIP-55 checksum examples; two's complement bounds computed
 * by hand (2^255 etc.).  Malformed encodings are built by hand, word by word,
 * from valid ones, each with the reason it must fail.  A seeded mutation run
 * (seed printed) decodes corrupted encodings to show that nothing reads out
 * of bounds (run it under `make FLAVOR=asan`).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include <cmocka.h>

#include "gpuledger/abi.h"
#include "gpuledger/keccak.h"

/* ------------------------------------------------------------------ */
/* helpers                                                             */
/* ------------------------------------------------------------------ */

static json_t *J(const char *text)
{
    json_error_t e;
    json_t *v = json_loads(text, JSON_DECODE_ANY | JSON_ALLOW_NUL, &e);
    if (!v)
        fail_msg("bad JSON in test: %s: %s", text, e.text);
    return v;
}

static char *hex_of(const gl_buf *b)
{
    return gl_hex_encode_alloc(b->data ? b->data : (const uint8_t *)"", b->len, true);
}

/* Concatenate hex words (no 0x) into bytes. */
static void from_hex(gl_buf *b, const char *hex)
{
    gl_buf_reset(b);
    assert_int_equal(gl_hex_decode_buf(hex, b, NULL), GL_OK);
}

static void assert_json_eq(json_t *got, const char *want_text)
{
    json_t *want = J(want_text);
    if (!json_equal(got, want)) {
        char *g = json_dumps(got, JSON_COMPACT | JSON_ENCODE_ANY);
        fail_msg("JSON differs:\n got  %s\n want %s", g ? g : "(null)", want_text);
    }
    json_decref(want);
}

static gl_abi_sig sig_of(const char *s)
{
    gl_abi_sig sig;
    gl_err err;
    if (gl_abi_sig_parse(&sig, s, &err))
        fail_msg("signature %s: %s", s, err.msg);
    return sig;
}

static void expect_calldata(const char *sigtext, const char *args_json, const char *want_hex)
{
    gl_abi_sig sig = sig_of(sigtext);
    json_t *args = J(args_json);
    gl_buf b = GL_BUF_INIT;
    gl_err err;
    if (gl_abi_encode_call(&b, &sig, args, &err))
        fail_msg("encode %s: %s", sigtext, err.msg);
    char *got = hex_of(&b);
    assert_string_equal(got, want_hex);
    /* and back: decoding the documented calldata gives the arguments */
    json_t *dec = NULL;
    gl_buf doc = GL_BUF_INIT;
    from_hex(&doc, want_hex);
    if (gl_abi_decode_call(&dec, &sig, doc.data, doc.len, 0, &err))
        fail_msg("decode %s: %s", sigtext, err.msg);
    assert_json_eq(dec, args_json);
    json_decref(dec);
    free(got);
    gl_buf_release(&doc);
    gl_buf_release(&b);
    json_decref(args);
    gl_abi_sig_release(&sig);
}

/* Decode hex as `types` and expect failure whose message contains `needle`. */
static void expect_decode_fail(const char *types, const char *hex, unsigned flags, const char *needle)
{
    gl_abi_type *t;
    gl_err err;
    gl_buf b = GL_BUF_INIT;
    json_t *out = (json_t *)1;
    if (gl_abi_type_parse(&t, types, &err))
        fail_msg("type %s: %s", types, err.msg);
    from_hex(&b, hex);
    gl_code rc = gl_abi_decode(&out, t, b.data ? b.data : (const uint8_t *)"", b.len, flags, &err);
    if (rc == GL_OK)
        fail_msg("decoding %s as %s succeeded; wanted an error with '%s'", hex, types, needle);
    assert_null(out);
    if (!strstr(err.msg, needle))
        fail_msg("error for %s: '%s' does not contain '%s'", types, err.msg, needle);
    /* the same with err == NULL must fail too */
    assert_int_not_equal(gl_abi_decode(&out, t, b.data ? b.data : (const uint8_t *)"", b.len, flags,
                                       NULL), GL_OK);
    gl_buf_release(&b);
    gl_abi_type_free(t);
}

static void expect_decode(const char *types, const char *hex, const char *want)
{
    gl_abi_type *t;
    gl_err err;
    gl_buf b = GL_BUF_INIT;
    json_t *out;
    if (gl_abi_type_parse(&t, types, &err))
        fail_msg("type %s: %s", types, err.msg);
    from_hex(&b, hex);
    if (gl_abi_decode(&out, t, b.data ? b.data : (const uint8_t *)"", b.len, 0, &err))
        fail_msg("decode %s: %s", types, err.msg);
    assert_json_eq(out, want);
    json_decref(out);
    gl_buf_release(&b);
    gl_abi_type_free(t);
}

#define W0 "0000000000000000000000000000000000000000000000000000000000000000"
#define W1 "0000000000000000000000000000000000000000000000000000000000000001"
#define W2 "0000000000000000000000000000000000000000000000000000000000000002"
#define W3 "0000000000000000000000000000000000000000000000000000000000000003"
#define W20 "0000000000000000000000000000000000000000000000000000000000000020"
#define W40 "0000000000000000000000000000000000000000000000000000000000000040"
#define WFF "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"

/* ------------------------------------------------------------------ */
/* signatures, topics, selectors                                       */
/* ------------------------------------------------------------------ */

static void expect_hash(const char *sigtext, const char *want, size_t n)
{
    gl_abi_sig sig = sig_of(sigtext);
    char hex[67];
    assert_string_equal(gl_hex_encode(sig.hash, n, true, hex), want);
    gl_abi_sig_release(&sig);
}

static void test_topics_and_selectors(void **state)
{
    (void)state;
    const char *transfer = "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef";
    const char *approval = "0x8c5be1e5ebec7d5bd14f71427d1e84f3dd0314c0f7b2291e5b200ac8c7c3b925";
    expect_hash("Transfer(address,address,uint256)", transfer, 32);
    expect_hash("event Transfer(address indexed from, address indexed to, uint256 value)", transfer, 32);
    expect_hash("Transfer(address indexed from,address indexed to,uint256 value)", transfer, 32);
    expect_hash("  event Transfer ( address indexed from , address indexed to , uint value ) ; ",
                transfer, 32);
    expect_hash("Approval(address,address,uint256)", approval, 32);
    expect_hash("event Approval(address indexed owner, address indexed spender, uint value)",
                approval, 32);
    /* ERC-20 selectors (EIP-20) and the spec's examples */
    expect_hash("transfer(address,uint256)", "0xa9059cbb", 4);
    expect_hash("function balanceOf(address owner) external view returns (uint256)", "0x70a08231", 4);
    expect_hash("baz(uint32,bool)", "0xcdcd77c0", 4);
    expect_hash("bar(bytes3[2])", "0xfce353f6", 4);
    expect_hash("sam(bytes,bool,uint[])", "0xa5643bf2", 4);
    expect_hash("f(uint,uint32[],bytes10,bytes)", "0x8be65246", 4);
    expect_hash("g(uint[][],string[])", "0x2289b18c", 4);
}

static void test_sig_parse_forms(void **state)
{
    (void)state;
    gl_abi_sig s = sig_of("event Transfer(address indexed from, address indexed to, uint256 value)");
    assert_int_equal(s.kind, GL_ABI_SIG_EVENT);
    assert_string_equal(s.name, "Transfer");
    assert_string_equal(s.canonical, "Transfer(address,address,uint256)");
    assert_int_equal(s.inputs->ncomps, 3);
    assert_true(s.inputs->comps[0].indexed && s.inputs->comps[1].indexed);
    assert_false(s.inputs->comps[2].indexed);
    assert_string_equal(s.inputs->comps[2].name, "value");
    assert_false(s.anonymous);
    gl_abi_sig_release(&s);

    s = sig_of("event Anon(uint256 indexed a, string indexed b, bytes32 indexed c, address indexed d) anonymous");
    assert_true(s.anonymous);
    assert_string_equal(s.canonical, "Anon(uint256,string,bytes32,address)");
    gl_abi_sig_release(&s);

    s = sig_of("function f((uint256 a, string b)[] memory xs, tuple(bool,bytes) calldata y) "
               "external view returns (bool ok, uint8[2][] memory)");
    assert_int_equal(s.kind, GL_ABI_SIG_FUNCTION);
    assert_string_equal(s.canonical, "f((uint256,string)[],(bool,bytes))");
    assert_non_null(s.outputs);
    assert_int_equal(s.outputs->ncomps, 2);
    char *c = gl_abi_type_canonical(s.outputs);
    assert_string_equal(c, "(bool,uint8[2][])");
    free(c);
    assert_string_equal(s.inputs->comps[0].type->elem->comps[1].name, "b");
    gl_abi_sig_release(&s);

    s = sig_of("Ping()");
    assert_string_equal(s.canonical, "Ping()");
    assert_int_equal(s.inputs->ncomps, 0);
    gl_abi_sig_release(&s);

    static const struct { const char *sig, *needle; } bad[] = {
        {"(uint256)", "expected a name"},
        {"Transfer(address,address,uint256", "never closed"},
        {"Transfer(address,,uint256)", "expected a type"},
        {"Transfer(address,address,uint256) extra", "unexpected word"},
        {"function f(uint256 indexed a)", "only allowed on event"},
        {"E(uint256 indexed a, uint256 indexed b, uint256 indexed c, uint256 indexed d)", "at most 3"},
        {"E(uint256 a b)", "unexpected word after the parameter name"},
        {"E(uint256 a indexed)", "must come before"},
        {"E((uint256 indexed a) s)", "only allowed on event"},
        {"E(uint7)", "'uint7'"},
        {"event E(uint256) returns (bool)", "unexpected word"},
        {"E(fixed128x18)", "not supported"},
        {"", "expected a name"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        gl_err err;
        assert_int_not_equal(gl_abi_sig_parse(&s, bad[i].sig, &err), GL_OK);
        if (!strstr(err.msg, bad[i].needle))
            fail_msg("'%s': message '%s' lacks '%s'", bad[i].sig, err.msg, bad[i].needle);
        assert_null(s.name);
        assert_null(s.inputs);
        assert_int_not_equal(gl_abi_sig_parse(&s, bad[i].sig, NULL), GL_OK);
    }
}

static void test_type_parse(void **state)
{
    (void)state;
    static const struct { const char *in, *canon; } good[] = {
        {"uint", "uint256"}, {"int", "int256"}, {"uint8", "uint8"}, {"int256", "int256"},
        {"byte", "bytes1"}, {"bytes32", "bytes32"}, {"bytes", "bytes"}, {"string", "string"},
        {"address", "address"}, {"bool", "bool"},
        {"uint8[2][]", "uint8[2][]"}, {"(uint256,address[])", "(uint256,address[])"},
        {"tuple(uint,(bytes,string)[2])[]", "(uint256,(bytes,string)[2])[]"},
        {" ( uint a , address [ ] b ) ", "(uint256,address[])"},
        {"((((uint8))))[3]", "((((uint8))))[3]"},
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        gl_abi_type *t;
        gl_err err;
        if (gl_abi_type_parse(&t, good[i].in, &err))
            fail_msg("'%s': %s", good[i].in, err.msg);
        char *c = gl_abi_type_canonical(t);
        assert_string_equal(c, good[i].canon);
        free(c);
        gl_abi_type_free(t);
    }
    /* static sizes and dynamism */
    gl_abi_type *t;
    assert_int_equal(gl_abi_type_parse(&t, "uint256[2][3]", NULL), GL_OK);
    assert_false(t->dynamic);
    assert_int_equal(t->head_size, 6 * 32);
    gl_abi_type_free(t);
    assert_int_equal(gl_abi_type_parse(&t, "(uint256,bool,bytes7[2])", NULL), GL_OK);
    assert_false(t->dynamic);
    assert_int_equal(t->head_size, 4 * 32);
    gl_abi_type_free(t);
    assert_int_equal(gl_abi_type_parse(&t, "(uint256,string)[2]", NULL), GL_OK);
    assert_true(t->dynamic);
    assert_int_equal(t->head_size, 32);
    gl_abi_type_free(t);
    /* every uintN/intN/bytesN size */
    for (unsigned n = 8; n <= 256; n += 8) {
        char s[16];
        snprintf(s, sizeof s, "int%u", n);
        assert_int_equal(gl_abi_type_parse(&t, s, NULL), GL_OK);
        assert_int_equal(t->kind, GL_ABI_INT);
        assert_int_equal(t->bits, n);
        gl_abi_type_free(t);
    }
    for (unsigned n = 1; n <= 32; n++) {
        char s[16];
        snprintf(s, sizeof s, "bytes%u", n);
        assert_int_equal(gl_abi_type_parse(&t, s, NULL), GL_OK);
        assert_int_equal(t->size, n);
        gl_abi_type_free(t);
    }

    static const struct { const char *in; gl_code code; const char *needle; } bad[] = {
        {"uint7", GL_EINVAL, "'uint7'"}, {"uint264", GL_EINVAL, "'uint264'"},
        {"uint0", GL_EINVAL, "'uint0'"}, {"uint08", GL_EINVAL, "'uint08'"},
        {"int9", GL_EINVAL, "'int9'"}, {"bytes0", GL_EINVAL, "'bytes0'"},
        {"bytes33", GL_EINVAL, "'bytes33'"}, {"uint256[0]", GL_EINVAL, "fixed array length"},
        {"uint256[01]", GL_EINVAL, "fixed array length"}, {"uint256[-1]", GL_EINVAL, "expected ']'"},
        {"uint256[", GL_EINVAL, "expected ']'"}, {"foo", GL_EINVAL, "unknown type 'foo'"},
        {"(uint256", GL_EINVAL, "never closed"}, {"uint256)", GL_EINVAL, "column 8"},
        {"()", GL_EINVAL, "empty tuple"}, {"(uint256,())", GL_EINVAL, "empty tuple"},
        {"uint256[134217728][134217728]", GL_EINVAL, "too large"},
        {"fixed128x18", GL_ENOTSUP, "not supported"}, {"ufixed", GL_ENOTSUP, "not supported"},
        {"function", GL_ENOTSUP, "not supported"}, {"", GL_EINVAL, "expected a type"},
        {"uint256 x", GL_EINVAL, "unexpected text"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        gl_err err;
        t = (gl_abi_type *)1;
        gl_code rc = gl_abi_type_parse(&t, bad[i].in, &err);
        if (rc != bad[i].code)
            fail_msg("'%s': code %d, want %d (%s)", bad[i].in, rc, bad[i].code, err.msg);
        assert_null(t);
        if (!strstr(err.msg, bad[i].needle))
            fail_msg("'%s': message '%s' lacks '%s'", bad[i].in, err.msg, bad[i].needle);
    }
    /* nesting beyond the limit, in both directions */
    char deep[256] = "uint8";
    for (int i = 0; i < 40; i++)
        strcat(deep, "[]");
    assert_int_equal(gl_abi_type_parse(&t, deep, NULL), GL_EINVAL);
    char parens[256];
    memset(parens, '(', 40);
    strcpy(parens + 40, "uint8");
    memset(parens + 45, ')', 40);
    parens[85] = '\0';
    assert_int_equal(gl_abi_type_parse(&t, parens, NULL), GL_EINVAL);
}

static void test_sig_from_json(void **state)
{
    (void)state;
    /* the spec's JSON example: f(S memory, T memory, uint) */
    json_t *abi = J("[{\"name\":\"f\",\"type\":\"function\",\"inputs\":["
                    "{\"name\":\"s\",\"type\":\"tuple\",\"components\":["
                    "  {\"name\":\"a\",\"type\":\"uint256\"},{\"name\":\"b\",\"type\":\"uint256[]\"},"
                    "  {\"name\":\"c\",\"type\":\"tuple[]\",\"components\":["
                    "    {\"name\":\"x\",\"type\":\"uint256\"},{\"name\":\"y\",\"type\":\"uint256\"}]}]},"
                    "{\"name\":\"t\",\"type\":\"tuple\",\"components\":["
                    "  {\"name\":\"x\",\"type\":\"uint256\"},{\"name\":\"y\",\"type\":\"uint256\"}]},"
                    "{\"name\":\"a\",\"type\":\"uint256\"}],\"outputs\":[]},"
                    "{\"type\":\"event\",\"name\":\"Transfer\",\"anonymous\":false,\"inputs\":["
                    "{\"indexed\":true,\"name\":\"from\",\"type\":\"address\"},"
                    "{\"indexed\":true,\"name\":\"to\",\"type\":\"address\"},"
                    "{\"indexed\":false,\"name\":\"value\",\"type\":\"uint256\"}]},"
                    "{\"type\":\"event\",\"name\":\"Deep\",\"inputs\":["
                    "{\"indexed\":false,\"name\":\"g\",\"type\":\"tuple[2][]\",\"components\":["
                    "  {\"name\":\"k\",\"type\":\"int8\"},{\"name\":\"v\",\"type\":\"string[3]\"}]}]}]");
    gl_abi_sig s;
    gl_err err;
    if (gl_abi_sig_find(&s, abi, "function", "f", &err))
        fail_msg("%s", err.msg);
    assert_string_equal(s.canonical, "f((uint256,uint256[],(uint256,uint256)[]),(uint256,uint256),uint256)");
    assert_string_equal(s.inputs->comps[0].type->comps[2].type->elem->comps[1].name, "y");
    assert_non_null(s.outputs);
    assert_int_equal(s.outputs->ncomps, 0);
    gl_abi_sig_release(&s);

    assert_int_equal(gl_abi_sig_find(&s, abi, "event", "Transfer", &err), GL_OK);
    char hex[67];
    assert_string_equal(gl_hex_encode(s.hash, 32, true, hex),
                        "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef");
    assert_true(s.inputs->comps[1].indexed);
    gl_abi_sig_release(&s);

    assert_int_equal(gl_abi_sig_find(&s, abi, "event", "Deep", &err), GL_OK);
    assert_string_equal(s.canonical, "Deep((int8,string[3])[2][])");
    gl_abi_sig_release(&s);

    assert_int_equal(gl_abi_sig_find(&s, abi, "event", "Nope", &err), GL_EINVAL);
    assert_non_null(strstr(err.msg, "no event named 'Nope'"));
    json_decref(abi);

    static const char *bad[] = {
        "{\"type\":\"event\",\"name\":\"E\",\"inputs\":[{\"name\":\"a\"}]}",
        "{\"type\":\"event\",\"name\":\"E\",\"inputs\":[{\"name\":\"a\",\"type\":\"tuple\"}]}",
        "{\"type\":\"event\",\"name\":\"E\",\"inputs\":[{\"name\":\"a\",\"type\":\"tuple[x]\",\"components\":[{\"type\":\"bool\"}]}]}",
        "{\"type\":\"function\",\"name\":\"f\",\"inputs\":[{\"name\":\"a\",\"type\":\"uint256\",\"indexed\":true}]}",
        "{\"type\":\"event\",\"inputs\":[]}",
        "{\"type\":\"constructor\",\"inputs\":[]}",
        "{\"type\":\"event\",\"name\":\"E\",\"inputs\":[{\"name\":\"a\",\"type\":\"uint9\"}]}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        json_t *e = J(bad[i]);
        if (gl_abi_sig_from_json(&s, e, &err) == GL_OK)
            fail_msg("accepted %s", bad[i]);
        assert_null(s.inputs);
        json_decref(e);
    }
}

/* ------------------------------------------------------------------ */
/* the specification's worked examples                                 */
/* ------------------------------------------------------------------ */

static void test_spec_examples(void **state)
{
    (void)state;
    expect_calldata("baz(uint32,bool)", "[\"69\",true]",
                    "0xcdcd77c000000000000000000000000000000000000000000000000000000000000000450000"
                    "000000000000000000000000000000000000000000000000000000000001");
    expect_calldata("bar(bytes3[2])", "[[\"0x616263\",\"0x646566\"]]",
                    "0xfce353f6616263000000000000000000000000000000000000000000000000000000000064656600"
                    "00000000000000000000000000000000000000000000000000000000");
    expect_calldata(
        "sam(bytes,bool,uint256[])", "[\"0x64617665\",true,[\"1\",\"2\",\"3\"]]",
        "0xa5643bf2"
        "0000000000000000000000000000000000000000000000000000000000000060"
        "0000000000000000000000000000000000000000000000000000000000000001"
        "00000000000000000000000000000000000000000000000000000000000000a0"
        "0000000000000000000000000000000000000000000000000000000000000004"
        "6461766500000000000000000000000000000000000000000000000000000000"
        "0000000000000000000000000000000000000000000000000000000000000003"
        "0000000000000000000000000000000000000000000000000000000000000001"
        "0000000000000000000000000000000000000000000000000000000000000002"
        "0000000000000000000000000000000000000000000000000000000000000003");
    /* "Use of Dynamic Types": f(uint,uint32[],bytes10,bytes) */
    expect_calldata("f(uint,uint32[],bytes10,bytes)",
                    "[\"291\",[\"1110\",\"1929\"],\"0x31323334353637383930\","
                    "\"0x48656c6c6f2c20776f726c6421\"]",
                    "0x8be65246"
                    "0000000000000000000000000000000000000000000000000000000000000123"
                    "0000000000000000000000000000000000000000000000000000000000000080"
                    "3132333435363738393000000000000000000000000000000000000000000000"
                    "00000000000000000000000000000000000000000000000000000000000000e0"
                    "0000000000000000000000000000000000000000000000000000000000000002"
                    "0000000000000000000000000000000000000000000000000000000000000456"
                    "0000000000000000000000000000000000000000000000000000000000000789"
                    "000000000000000000000000000000000000000000000000000000000000000d"
                    "48656c6c6f2c20776f726c642100000000000000000000000000000000000000");
    /* g(uint[][],string[]) with ([[1, 2], [3]], ["one", "two", "three"]) */
    expect_calldata("g(uint[][],string[])",
                    "[[[\"1\",\"2\"],[\"3\"]],[\"one\",\"two\",\"three\"]]",
                    "0x2289b18c"
                    "0000000000000000000000000000000000000000000000000000000000000040"
                    "0000000000000000000000000000000000000000000000000000000000000140"
                    "0000000000000000000000000000000000000000000000000000000000000002"
                    "0000000000000000000000000000000000000000000000000000000000000040"
                    "00000000000000000000000000000000000000000000000000000000000000a0"
                    "0000000000000000000000000000000000000000000000000000000000000002"
                    "0000000000000000000000000000000000000000000000000000000000000001"
                    "0000000000000000000000000000000000000000000000000000000000000002"
                    "0000000000000000000000000000000000000000000000000000000000000001"
                    "0000000000000000000000000000000000000000000000000000000000000003"
                    "0000000000000000000000000000000000000000000000000000000000000003"
                    "0000000000000000000000000000000000000000000000000000000000000060"
                    "00000000000000000000000000000000000000000000000000000000000000a0"
                    "00000000000000000000000000000000000000000000000000000000000000e0"
                    "0000000000000000000000000000000000000000000000000000000000000003"
                    "6f6e650000000000000000000000000000000000000000000000000000000000"
                    "0000000000000000000000000000000000000000000000000000000000000003"
                    "74776f0000000000000000000000000000000000000000000000000000000000"
                    "0000000000000000000000000000000000000000000000000000000000000005"
                    "7468726565000000000000000000000000000000000000000000000000000000");
    /* the encoder takes JSON numbers and hex strings as well as decimal strings */
    gl_abi_sig s = sig_of("baz(uint32,bool)");
    json_t *args = J("[\"0x45\",true]");
    gl_buf b = GL_BUF_INIT;
    assert_int_equal(gl_abi_encode_call(&b, &s, args, NULL), GL_OK);
    json_decref(args);
    args = J("[69,true]");
    gl_buf b2 = GL_BUF_INIT;
    assert_int_equal(gl_abi_encode_call(&b2, &s, args, NULL), GL_OK);
    assert_int_equal(b.len, 68);
    assert_memory_equal(b.data, b2.data, 68);
    json_decref(args);
    gl_buf_release(&b);
    gl_buf_release(&b2);
    gl_abi_sig_release(&s);
}

/* ------------------------------------------------------------------ */
/* value checks                                                        */
/* ------------------------------------------------------------------ */

static void test_decode_integers(void **state)
{
    (void)state;
    /* uint256 max = 2^256 - 1 */
    expect_decode("(uint256)", WFF,
                  "[\"115792089237316195423570985008687907853269984665640564039457584007913129639935\"]");
    /* int256: -1, min = -2^255, max = 2^255 - 1 */
    expect_decode("(int256)", WFF, "[\"-1\"]");
    expect_decode("(int256)", "8000000000000000000000000000000000000000000000000000000000000000",
                  "[\"-57896044618658097711785492504343953926634992332820282019728792003956564819968\"]");
    expect_decode("(int256)", "7fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
                  "[\"57896044618658097711785492504343953926634992332820282019728792003956564819967\"]");
    /* int8: -128, 127, -1 */
    expect_decode("(int8,int8,int8)",
                  "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff80"
                  "000000000000000000000000000000000000000000000000000000000000007f" WFF,
                  "[\"-128\",\"127\",\"-1\"]");
    /* int24 -8388608 = -2^23 */
    expect_decode("(int24)", "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffff800000",
                  "[\"-8388608\"]");
    expect_decode("(uint8,uint16)",
                  "00000000000000000000000000000000000000000000000000000000000000ff"
                  "000000000000000000000000000000000000000000000000000000000000ffff",
                  "[\"255\",\"65535\"]");
    /* dirty padding */
    expect_decode_fail("(uint8)", "0000000000000000000000000000000000000000000000000000000000000100",
                       0, "#0: uint8 value 0x00000000000000000000000000000000000000000000000000000000000"
                       "00100 has dirty high bits");
    expect_decode_fail("(uint64 amount)", "0000000000000000000000000000000000000000000000010000000000000000",
                       0, "amount: uint64");
    /* 0x80 as int8 is -128 only when sign-extended; zero padding is invalid */
    expect_decode_fail("(int8 x)", "0000000000000000000000000000000000000000000000000000000000000080",
                       0, "x: int8 value");
    expect_decode_fail("(int8)", "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
                       0, "not sign-extended");
    expect_decode_fail("(int16)", "00ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
                       0, "not sign-extended");
}

static void test_decode_value_types(void **state)
{
    (void)state;
    expect_decode("(address a,bool t,bool f,bytes3 b,bytes32 h)",
                  "000000000000000000000000cd2a3d9f938e13cd947ec05abc7fe734df8dd826" W1 W0
                  "6162630000000000000000000000000000000000000000000000000000000000"
                  "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470",
                  "{\"a\":\"0xcd2a3d9f938e13cd947ec05abc7fe734df8dd826\",\"t\":true,\"f\":false,"
                  "\"b\":\"0x616263\","
                  "\"h\":\"0xc5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470\"}");
    expect_decode_fail("(address who)", "010000000000000000000000cd2a3d9f938e13cd947ec05abc7fe734df8dd826",
                       0, "who: address 0x01");
    expect_decode_fail("(bool ok)", W2, 0, "ok: bool value");
    expect_decode_fail("(bool ok)", "0100000000000000000000000000000000000000000000000000000000000001",
                       0, "neither 0 nor 1");
    expect_decode_fail("(bytes3 tag)", "6162630000000000000000000000000000000000000000000000000000000001",
                       0, "tag: bytes3 value");
    /* duplicate or missing names give an array */
    expect_decode("(uint8 a,uint8 a)", W1 W2, "[\"1\",\"2\"]");
    expect_decode("(uint8 a,uint8)", W1 W2, "[\"1\",\"2\"]");
    expect_decode("uint8", W3, "\"3\"");
}

static void test_decode_strings(void **state)
{
    (void)state;
    /* valid UTF-8, including a 4-byte sequence and an embedded NUL */
    expect_decode("(string)", W20 "0000000000000000000000000000000000000000000000000000000000000008"
                  "48e29c93f09f9a80000000000000000000000000000000000000000000000000",
                  "[\"H\xe2\x9c\x93\xf0\x9f\x9a\x80\"]");
    expect_decode("(string)", W20 W3 "6100620000000000000000000000000000000000000000000000000000000000",
                  "[\"a\\u0000b\"]");
    /* invalid UTF-8 (0xff, an overlong '/', a lone surrogate, a truncated
     * sequence) comes out as hex, never lossy */
    expect_decode("(string)", W20 W2 "fffe000000000000000000000000000000000000000000000000000000000000",
                  "[{\"hex\":\"0xfffe\"}]");
    expect_decode("(string)", W20 W2 "c0af000000000000000000000000000000000000000000000000000000000000",
                  "[{\"hex\":\"0xc0af\"}]");
    expect_decode("(string)", W20 W3 "eda0800000000000000000000000000000000000000000000000000000000000",
                  "[{\"hex\":\"0xeda080\"}]");
    expect_decode("(string)", W20 W2 "e29c000000000000000000000000000000000000000000000000000000000000",
                  "[{\"hex\":\"0xe29c\"}]");
    expect_decode("(string,bytes)", W40 "0000000000000000000000000000000000000000000000000000000000000060"
                  W0 W0, "[\"\",\"0x\"]");
    /* and {"hex"} encodes back to the same bytes */
    gl_abi_type *t;
    assert_int_equal(gl_abi_type_parse(&t, "(string)", NULL), GL_OK);
    json_t *v = J("[{\"hex\":\"0xfffe\"}]");
    gl_buf b = GL_BUF_INIT;
    assert_int_equal(gl_abi_encode(&b, t, v, NULL), GL_OK);
    char *h = hex_of(&b);
    assert_string_equal(h, "0x" W20 W2 "fffe000000000000000000000000000000000000000000000000000000000000");
    free(h);
    json_decref(v);
    gl_buf_release(&b);
    gl_abi_type_free(t);
}

/* ------------------------------------------------------------------ */
/* malformed encodings                                                 */
/* ------------------------------------------------------------------ */

static void test_decode_malformed(void **state)
{
    (void)state;
    /* truncated: a head cut short, a value missing */
    expect_decode_fail("(uint256,uint256)", W1, 0, "do not fit");
    expect_decode_fail("(uint256 a)", "0000000000000000000000000000000000000000000000000000000000", 0,
                       "do not fit");
    expect_decode_fail("(uint256)", "", 0, "do not fit");
    /* offset past the end, huge offset, offset not leaving room for the length */
    expect_decode_fail("(bytes data)", "0000000000000000000000000000000000000000000000000000000000000400",
                       0, "data: offset 1024 runs past the end of the data (32 bytes)");
    expect_decode_fail("(bytes data)", WFF, 0, "data: offset 0xffff");
    expect_decode_fail("(bytes data)", "0000000000000000000000000000000000000000000000010000000000000000",
                       0, "far beyond the data");
    expect_decode_fail("(bytes data)", W20, 0, "data: length needs 32 bytes at offset 32");
    /* huge length, length past the end, missing padding */
    expect_decode_fail("(string s)", W20 WFF, 0, "s: length 0xffff");
    expect_decode_fail("(string s)", W20 "00000000000000000000000000000000000000000000000000000000ffffffff",
                       0, "s: length 4294967295 runs past the end");
    expect_decode_fail("(bytes b)", W20 "0000000000000000000000000000000000000000000000000000000000000021"
                       "6162630000000000000000000000000000000000000000000000000000000000"
                       "00", 0, "b: 33 bytes padded to 64");
    expect_decode_fail("(bytes b)", W20 W3 "616263", 0, "padded to 32");
    /* dirty padding after bytes */
    expect_decode_fail("(bytes b)", W20 W3 "6162630000000000000000000000000000000000000000000000000000000001",
                       0, "b: non-zero padding after 3 bytes of bytes");
    /* array lengths that cannot fit */
    expect_decode_fail("(uint256[] xs)", W20 "0000000000000000000000000000000000000000000000000000000000001000",
                       0, "xs: array length 4096 runs past the end of the data (64 bytes)");
    expect_decode_fail("(uint256[] xs)", W20 W3 W1 W2, 0,
                       "xs: 3 elements of 32 bytes each do not fit in the 64 bytes after offset 64");
    expect_decode_fail("(uint256[2][] xs)", W20 W2 W1 W2 W3, 0,
                       "xs: 2 elements of 64 bytes each do not fit");
    expect_decode_fail("(uint256[] xs)", W20 WFF, 0, "xs: array length 0xffff");
    expect_decode_fail("(uint256[3] xs)", W1 W2, 0, "do not fit");
    /* a bad value deep inside names its path */
    expect_decode_fail("((uint8 id,string name)[] items)",
                       W20 W2 W40 "00000000000000000000000000000000000000000000000000000000000000c0"
                       /* items[0] */ W1 W40 W1 "6100000000000000000000000000000000000000000000000000000000000000"
                       /* items[1] */ "0000000000000000000000000000000000000000000000000000000000000100" W40 W1
                       "6200000000000000000000000000000000000000000000000000000000000000",
                       0, "items[1].id: uint8 value");
    expect_decode_fail("((uint8 id,string name)[] items)",
                       W20 W2 W40 "00000000000000000000000000000000000000000000000000000000000000c0"
                       W1 W40 W1 "6100000000000000000000000000000000000000000000000000000000000000"
                       W2 "0000000000000000000000000000000000000000000000000000000000000300",
                       0, "items[1].name: offset 768");
    /* as deep as a type may nest: the whole path is named */
    {
        char types[200] = "(uint8";
        for (int i = 0; i < 31; i++)
            strcat(types, "[1]");
        strcat(types, " x)");
        char want[200] = "x";
        for (int i = 0; i < 31; i++)
            strcat(want, "[0]");
        strcat(want, ": uint8 value");
        expect_decode_fail(types, "0000000000000000000000000000000000000000000000000000000000000100", 0, want);
    }
    /* trailing bytes: an error unless allowed */
    expect_decode_fail("(uint256)", W1 W2, 0, "32 unused bytes after the encoding");
    expect_decode_fail("(uint256)", W1 "00", 0, "1 unused bytes");
    gl_abi_type *t;
    gl_buf b = GL_BUF_INIT;
    json_t *out;
    assert_int_equal(gl_abi_type_parse(&t, "(uint256)", NULL), GL_OK);
    from_hex(&b, W1 W2);
    assert_int_equal(gl_abi_decode(&out, t, b.data, b.len, GL_ABI_ALLOW_TRAILING, NULL), GL_OK);
    assert_json_eq(out, "[\"1\"]");
    json_decref(out);
    gl_abi_type_free(t);

    /* aliased offsets: 64 outer elements all pointing at one 64-element
     * inner array would decode 4096 values from ~4 KiB; refused */
    gl_buf_reset(&b);
    char w[65];
    assert_int_equal(gl_abi_type_parse(&t, "(uint256[][])", NULL), GL_OK);
    gl_hex_decode_buf(W20, &b, NULL);
    snprintf(w, sizeof w, "%064x", 64);
    gl_hex_decode_buf(w, &b, NULL);
    snprintf(w, sizeof w, "%064x", 64 * 32); /* every element: offset to the inner array */
    for (int i = 0; i < 64; i++)
        gl_hex_decode_buf(w, &b, NULL);
    snprintf(w, sizeof w, "%064x", 64);
    gl_hex_decode_buf(w, &b, NULL);
    for (int i = 0; i < 64; i++)
        gl_hex_decode_buf(W1, &b, NULL);
    gl_err err;
    assert_int_equal(gl_abi_decode(&out, t, b.data, b.len, 0, &err), GL_EINVAL);
    assert_non_null(strstr(err.msg, "aliased offsets"));
    gl_abi_type_free(t);
    gl_buf_release(&b);
}

/* ------------------------------------------------------------------ */
/* logs                                                                */
/* ------------------------------------------------------------------ */

static void topics_from(uint8_t (*topics)[32], size_t n, const char *const *hex)
{
    for (size_t i = 0; i < n; i++)
        assert_int_equal(gl_hex_decode_exact(hex[i], topics[i], 32, NULL), GL_OK);
}

static void test_decode_logs(void **state)
{
    (void)state;
    gl_abi_sig ev = sig_of("event Transfer(address indexed from, address indexed to, uint256 value)");
    uint8_t topics[4][32];
    static const char *const t3[] = {
        "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef",
        "0x000000000000000000000000cd2a3d9f938e13cd947ec05abc7fe734df8dd826",
        "0x000000000000000000000000000000000000000000000000000000000000dead",
    };
    topics_from(topics, 3, t3);
    gl_buf data = GL_BUF_INIT;
    from_hex(&data, "00000000000000000000000000000000000000000000000000000000000003e8");
    json_t *out;
    gl_err err;
    assert_int_equal(gl_abi_decode_log(&out, &ev, (const uint8_t (*)[32])topics, 3, data.data,
                                       data.len, 0, &err), GL_OK);
    assert_json_eq(out, "{\"from\":\"0xcd2a3d9f938e13cd947ec05abc7fe734df8dd826\","
                        "\"to\":\"0x000000000000000000000000000000000000dead\",\"value\":\"1000\"}");
    json_decref(out);
    /* an ERC-721 Transfer (tokenId indexed, no data) has 4 topics */
    assert_int_equal(gl_abi_decode_log(&out, &ev, (const uint8_t (*)[32])topics, 4, data.data,
                                       data.len, 0, &err), GL_EINVAL);
    assert_non_null(strstr(err.msg, "logs have 3 topics, this log has 4"));
    assert_null(out);
    /* wrong topic0 */
    topics[0][0] ^= 1;
    assert_int_equal(gl_abi_decode_log(&out, &ev, (const uint8_t (*)[32])topics, 3, data.data,
                                       data.len, 0, &err), GL_EINVAL);
    assert_non_null(strstr(err.msg, "is not the hash of Transfer(address,address,uint256)"));
    topics[0][0] ^= 1;
    /* dirty address in a topic */
    topics[2][0] = 1;
    assert_int_equal(gl_abi_decode_log(&out, &ev, (const uint8_t (*)[32])topics, 3, data.data,
                                       data.len, 0, &err), GL_EINVAL);
    assert_non_null(strstr(err.msg, "topic 2: to: address"));
    topics[2][0] = 0;
    /* data too short, too long */
    assert_int_equal(gl_abi_decode_log(&out, &ev, (const uint8_t (*)[32])topics, 3, data.data, 31, 0,
                                       &err), GL_EINVAL);
    gl_abi_sig_release(&ev);

    /* indexed dynamic values are hashes; anonymous events have no topic0 */
    ev = sig_of("event Task(string indexed uid, uint256[] indexed ids, int8 indexed level, string note) anonymous");
    static const char *const ta[] = {
        "0x1c8aff950685c2ed4bc3174f3472287b56d9517b9c948127319a09a7a36deac8", /* keccak("hello") */
        "0x0000000000000000000000000000000000000000000000000000000000000abc",
        "0xfffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffe",
    };
    topics_from(topics, 3, ta);
    from_hex(&data, W20 W2 "6869000000000000000000000000000000000000000000000000000000000000");
    assert_int_equal(gl_abi_decode_log(&out, &ev, (const uint8_t (*)[32])topics, 3, data.data,
                                       data.len, 0, &err), GL_OK);
    assert_json_eq(out, "{\"uid\":{\"indexed_hash\":\"0x1c8aff950685c2ed4bc3174f3472287b56d9517b9c948127319a09a7a36deac8\"},"
                        "\"ids\":{\"indexed_hash\":\"0x0000000000000000000000000000000000000000000000000000000000000abc\"},"
                        "\"level\":\"-2\",\"note\":\"hi\"}");
    json_decref(out);
    /* the topic of an indexed string is keccak of its bytes */
    uint8_t topic[32];
    gl_abi_type *st;
    assert_int_equal(gl_abi_type_parse(&st, "string", NULL), GL_OK);
    json_t *hello = json_string("hello");
    assert_int_equal(gl_abi_encode_topic(topic, st, hello, NULL), GL_OK);
    assert_memory_equal(topic, topics[0], 32);
    json_decref(hello);
    gl_abi_type_free(st);
    gl_abi_sig_release(&ev);

    /* unnamed parameters: an array in declaration order */
    ev = sig_of("E(uint256,address indexed,bool)");
    static const char *const tu[] = {
        NULL, "0x000000000000000000000000000000000000000000000000000000000000beef",
    };
    memcpy(topics[0], ev.hash, 32);
    topics_from(topics + 1, 1, tu + 1);
    from_hex(&data, W3 W1);
    assert_int_equal(gl_abi_decode_log(&out, &ev, (const uint8_t (*)[32])topics, 2, data.data,
                                       data.len, 0, &err), GL_OK);
    assert_json_eq(out, "[\"3\",\"0x000000000000000000000000000000000000beef\",true]");
    json_decref(out);
    /* trailing data is refused in logs too */
    from_hex(&data, W3 W1 W1);
    assert_int_equal(gl_abi_decode_log(&out, &ev, (const uint8_t (*)[32])topics, 2, data.data,
                                       data.len, 0, &err), GL_EINVAL);
    assert_non_null(strstr(err.msg, "unused bytes"));
    gl_abi_sig_release(&ev);
    gl_buf_release(&data);
}

/* ------------------------------------------------------------------ */
/* encoding                                                            */
/* ------------------------------------------------------------------ */

static void expect_encode_fail(const char *types, const char *value, const char *needle)
{
    gl_abi_type *t;
    gl_err err;
    if (gl_abi_type_parse(&t, types, &err))
        fail_msg("type %s: %s", types, err.msg);
    json_t *v = J(value);
    gl_buf b = GL_BUF_INIT;
    gl_buf_push(&b, 0xaa, NULL);
    if (gl_abi_encode(&b, t, v, &err) == GL_OK)
        fail_msg("encoding %s as %s succeeded", value, types);
    assert_int_equal(b.len, 1); /* restored */
    if (!strstr(err.msg, needle))
        fail_msg("'%s' as %s: '%s' lacks '%s'", value, types, err.msg, needle);
    gl_buf_release(&b);
    json_decref(v);
    gl_abi_type_free(t);
}

static void expect_encode(const char *types, const char *value, const char *want_hex)
{
    gl_abi_type *t;
    gl_err err;
    if (gl_abi_type_parse(&t, types, &err))
        fail_msg("type %s: %s", types, err.msg);
    json_t *v = J(value);
    gl_buf b = GL_BUF_INIT;
    if (gl_abi_encode(&b, t, v, &err))
        fail_msg("encode %s: %s", value, err.msg);
    char *h = hex_of(&b);
    assert_string_equal(h, want_hex);
    free(h);
    gl_buf_release(&b);
    json_decref(v);
    gl_abi_type_free(t);
}

static void test_encode_values(void **state)
{
    (void)state;
    /* bounds: int8 [-128, 127], uint8 [0, 255], int256 [-2^255, 2^255-1] */
    expect_encode("(int8,int8)", "[-128,\"127\"]",
                  "0xffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff80"
                  "000000000000000000000000000000000000000000000000000000000000007f");
    expect_encode_fail("(int8 x)", "[-129]", "x: value does not fit in int8");
    expect_encode_fail("(int8 x)", "[128]", "x: value does not fit in int8");
    expect_encode_fail("(uint8 x)", "[256]", "x: value does not fit in uint8");
    expect_encode_fail("(uint8 x)", "[-1]", "x: negative value for uint8");
    expect_encode("(int256)",
                  "[\"-57896044618658097711785492504343953926634992332820282019728792003956564819968\"]",
                  "0x8000000000000000000000000000000000000000000000000000000000000000");
    expect_encode_fail("(int256)",
                       "[\"-57896044618658097711785492504343953926634992332820282019728792003956564819969\"]",
                       "does not fit in int256");
    expect_encode_fail("(int256)",
                       "[\"57896044618658097711785492504343953926634992332820282019728792003956564819968\"]",
                       "does not fit in int256");
    expect_encode("(int64,uint256)", "[\"-0x10\",\"-0\"]",
                  "0xfffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff0" W0);
    expect_encode("(int64)", "[-9223372036854775808]",
                  "0xffffffffffffffffffffffffffffffffffffffffffffffff8000000000000000");
    expect_encode_fail("(uint256 x)", "[1.5]", "x: uint256 wants an integer");
    expect_encode_fail("(uint256 x)", "[\"12a\"]", "x: ");
    /* EIP-55's examples are accepted; a flipped case is refused */
    expect_encode("(address,address,address,address)",
                  "[\"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed\",\"0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359\","
                  "\"0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB\",\"0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb\"]",
                  "0x0000000000000000000000005aaeb6053f3e94c9b9a09f33669435e7ef1beaed"
                  "000000000000000000000000fb6916095ca1df60bb79ce92ce3ea74c37c5d359"
                  "000000000000000000000000dbf03b407c01e7cd3cbea99509d93f8dddc8c6fb"
                  "000000000000000000000000d1220a0cf47c7b9be7a2e6ba89f429762e7b9adb");
    expect_encode_fail("(address a)", "[\"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD\"]",
                       "a: address '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD' has a bad EIP-55 checksum");
    expect_encode_fail("(address a)", "[\"0x5aaeb6053f3e94c9b9a09f33669435e7ef1bea\"]",
                       "not 0x and 40 hex digits");
    expect_encode_fail("(bytes4 s)", "[\"0x0102\"]", "s: bytes4 wants exactly 4 bytes, got 2");
    expect_encode_fail("(bytes b)", "[\"hello\"]", "does not start with 0x");
    expect_encode_fail("(bytes b)", "[\"0x123\"]", "odd number of digits");
    expect_encode_fail("(bool b)", "[1]", "b: bool wants true or false, not an integer");
    expect_encode_fail("(uint8[2] xs)", "[[1,2,3]]", "xs: fixed array wants 2 values, got 3");
    expect_encode_fail("(uint8,uint8)", "[1]", "tuple wants 2 values, got 1");
    expect_encode_fail("((uint8 a,string b)[] s)", "[[{\"a\":1,\"b\":\"x\"},{\"a\":1}]]",
                       "s[1]: component 'b' is missing");
    expect_encode_fail("((uint8 a,string b)[] s)", "[[{\"a\":1,\"b\":\"x\",\"c\":2}]]",
                       "s[0]: tuple has no component 'c'");
    expect_encode_fail("((uint8 a,string b)[] s)", "[[{\"a\":1,\"b\":[300]}]]",
                       "s[0].b: string wants a JSON string");
    expect_encode_fail("(string)", "[{\"indexed_hash\":\"0x00\"}]", "string wants");
    /* tuples by name and by position encode alike */
    expect_encode("((uint8 a,string b))", "[{\"b\":\"x\",\"a\":1}]",
                  "0x" W20 W1 W40 W1 "7800000000000000000000000000000000000000000000000000000000000000");
    expect_encode("((uint8 a,string b))", "[[1,\"x\"]]",
                  "0x" W20 W1 W40 W1 "7800000000000000000000000000000000000000000000000000000000000000");
    /* empty parameter list */
    expect_encode("uint8[]", "[]", "0x" W0);
}

static void test_value_from_text(void **state)
{
    (void)state;
    static const struct { const char *type, *text, *want; } good[] = {
        {"uint256", " 123 ", "\"123\""},
        {"int8", "-5", "\"-5\""},
        {"bool", "true", "true"},
        {"bool", "\"false\"", "false"},
        {"string", "hello, world", "\"hello, world\""},
        {"string", "\"quoted \\\" here\"", "\"quoted \\\" here\""},
        {"uint8[]", "[1, 2,3]", "[\"1\",\"2\",\"3\"]"},
        {"uint8[]", "[ ]", "[]"},
        {"string[]", "[a,\"b,c\",\"[d]\"]", "[\"a\",\"b,c\",\"[d]\"]"},
        {"(uint8,string[],(bool,bytes))", "(1,[x,y],(true,0x00))",
         "[\"1\",[\"x\",\"y\"],[true,\"0x00\"]]"},
        {"uint8[2][]", "[[1,2],[3,4]]", "[[\"1\",\"2\"],[\"3\",\"4\"]]"},
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        gl_abi_type *t;
        json_t *v;
        gl_err err;
        assert_int_equal(gl_abi_type_parse(&t, good[i].type, NULL), GL_OK);
        if (gl_abi_value_from_text(&v, t, good[i].text, &err))
            fail_msg("%s from '%s': %s", good[i].type, good[i].text, err.msg);
        assert_json_eq(v, good[i].want);
        json_decref(v);
        gl_abi_type_free(t);
    }
    static const struct { const char *type, *text, *needle; } bad[] = {
        {"uint8[]", "1,2", "does not start with '['"},
        {"uint8[]", "[1,2", "does not end with ']'"},
        {"uint8[][]", "[[1,2],[3]", "unbalanced brackets"},
        {"string[]", "[\"a]", "unbalanced quote"},
        {"(uint8,uint8)", "(1,2,3)", "got more values"},
        {"bool", "yes", "not true or false"},
        {"uint8[]", "[[1],2]]", "unbalanced"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        gl_abi_type *t;
        json_t *v = (json_t *)1;
        gl_err err;
        assert_int_equal(gl_abi_type_parse(&t, bad[i].type, NULL), GL_OK);
        if (gl_abi_value_from_text(&v, t, bad[i].text, &err) == GL_OK)
            fail_msg("%s from '%s' succeeded", bad[i].type, bad[i].text);
        assert_null(v);
        if (!strstr(err.msg, bad[i].needle))
            fail_msg("%s from '%s': '%s' lacks '%s'", bad[i].type, bad[i].text, err.msg, bad[i].needle);
        gl_abi_type_free(t);
    }
}

/* Solidity's in-place encoding for indexed arrays and structs: elements
 * padded to 32 bytes, no lengths, strings padded too.  Hand-built. */
static void test_topic_inplace(void **state)
{
    (void)state;
    gl_abi_type *t;
    uint8_t got[32], want[32];
    gl_buf b = GL_BUF_INIT;
    assert_int_equal(gl_abi_type_parse(&t, "(uint8,string,int8[])", NULL), GL_OK);
    json_t *v = J("[1,\"ab\",[-1,2]]");
    assert_int_equal(gl_abi_encode_topic(got, t, v, NULL), GL_OK);
    from_hex(&b, W1 "6162000000000000000000000000000000000000000000000000000000000000" WFF W2);
    gl_keccak256(b.data, b.len, want);
    assert_memory_equal(got, want, 32);
    json_decref(v);
    gl_abi_type_free(t);
    /* value types: the word itself */
    assert_int_equal(gl_abi_type_parse(&t, "int16", NULL), GL_OK);
    v = J("-2");
    assert_int_equal(gl_abi_encode_topic(got, t, v, NULL), GL_OK);
    from_hex(&b, "fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffe");
    assert_memory_equal(got, b.data, 32);
    json_decref(v);
    gl_abi_type_free(t);
    /* bytes: keccak of the raw bytes, no padding ("" -> keccak of nothing) */
    assert_int_equal(gl_abi_type_parse(&t, "bytes", NULL), GL_OK);
    v = J("\"0x\"");
    assert_int_equal(gl_abi_encode_topic(got, t, v, NULL), GL_OK);
    from_hex(&b, "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470");
    assert_memory_equal(got, b.data, 32);
    json_decref(v);
    gl_abi_type_free(t);
    gl_buf_release(&b);
}

/* ------------------------------------------------------------------ */
/* robustness: decode corrupted encodings                              */
/* ------------------------------------------------------------------ */

static void test_mutations(void **state)
{
    (void)state;
    unsigned seed = (unsigned)time(NULL);
    const char *env = getenv("GL_TEST_SEED");
    if (env)
        seed = (unsigned)strtoul(env, NULL, 10);
    printf("test_mutations: seed %u (set GL_TEST_SEED to repeat)\n", seed);
    srand(seed);
    gl_abi_type *t;
    assert_int_equal(gl_abi_type_parse(&t, "(uint8,(string,int16[2])[],bytes[],address,bytes7,"
                                           "(bool,string[])[2])", NULL), GL_OK);
    json_t *v = J("[7,[[\"a\",[-1,2]],[\"\",[3,-4]]],[\"0x\",\"0x0102\"],"
                  "\"0x000000000000000000000000000000000000beef\",\"0x01020304050607\","
                  "[[true,[\"x\",\"yz\"]],[false,[]]]]");
    gl_buf enc = GL_BUF_INIT;
    assert_int_equal(gl_abi_encode(&enc, t, v, NULL), GL_OK);
    /* the clean encoding round-trips */
    json_t *out;
    gl_err err;
    if (gl_abi_decode(&out, t, enc.data, enc.len, 0, &err))
        fail_msg("round trip: %s", err.msg);
    assert_json_eq(out, "[\"7\",[[\"a\",[\"-1\",\"2\"]],[\"\",[\"3\",\"-4\"]]],[\"0x\",\"0x0102\"],"
                        "\"0x000000000000000000000000000000000000beef\",\"0x01020304050607\","
                        "[[true,[\"x\",\"yz\"]],[false,[]]]]");
    json_decref(out);
    size_t ok = 0;
    for (int iter = 0; iter < 3000; iter++) {
        /* an exact-size copy so that ASan sees any read past the end */
        size_t len = enc.len;
        int mode = rand() % 3;
        if (mode == 1)
            len = (size_t)rand() % (enc.len + 1);
        uint8_t *m = malloc(len ? len : 1);
        memcpy(m, enc.data, len);
        int flips = 1 + rand() % 4;
        for (int k = 0; k < flips && len; k++) {
            size_t at = (size_t)rand() % len;
            m[at] = (mode == 2) ? (uint8_t)(rand() & 0xff) : (uint8_t)(m[at] ^ (1u << (rand() % 8)));
        }
        if (gl_abi_decode(&out, t, m, len, 0, NULL) == GL_OK) {
            ok++;
            json_decref(out);
        } else {
            assert_null(out);
        }
        free(m);
    }
    printf("test_mutations: %zu of 3000 corrupted encodings still decoded\n", ok);
    json_decref(v);
    gl_buf_release(&enc);
    gl_abi_type_free(t);
}


/* ------------------------------------------------------------------ */
/* the CLI (run when $GPULEDGER_BIN names the built binary)            */
/* ------------------------------------------------------------------ */

/* Run `$GPULEDGER_BIN args` through the shell; return its exit status and
 * its stdout (trailing newline removed) in out. */
static int run_cli(const char *bin, const char *args, char *out, size_t cap)
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "'%s' %s 2>/dev/null", bin, args);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t n = fread(out, 1, cap - 1, p);
    out[n] = '\0';
    while (n && out[n - 1] == '\n')
        out[--n] = '\0';
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void test_cli(void **state)
{
    (void)state;
    const char *bin = getenv("GPULEDGER_BIN");
    if (!bin || !*bin) {
        printf("test_cli: GPULEDGER_BIN not set (scripts/run-tests.sh sets it); skipped\n");
        skip();
    }
    static const struct { const char *args; int status; const char *out; } cases[] = {
        {"keccak ''", 0, "0xc5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"},
        {"keccak 0x", 0, "0xc5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"},
        {"keccak hello", 0, "0x1c8aff950685c2ed4bc3174f3472287b56d9517b9c948127319a09a7a36deac8"},
        {"keccak 0x68656c6c6f", 0, "0x1c8aff950685c2ed4bc3174f3472287b56d9517b9c948127319a09a7a36deac8"},
        {"keccak - < /dev/null", 0, "0xc5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"},
        {"keccak 0xzz", 2, ""},
        {"keccak 0x123", 2, ""},
        {"abi topic 'Transfer(address,address,uint256)'", 0,
         "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef"},
        {"abi topic 'event Approval(address indexed owner, address indexed spender, uint value)'", 0,
         "0x8c5be1e5ebec7d5bd14f71427d1e84f3dd0314c0f7b2291e5b200ac8c7c3b925"},
        {"abi selector 'transfer(address,uint256)'", 0, "0xa9059cbb"},
        {"abi signature 'function f(uint a, (bool,string)[] memory b)'", 0, "f(uint256,(bool,string)[])"},
        {"abi topic 'Transfer(address'", 2, ""},
        {"abi encode 'baz(uint32,bool)' 69 true", 0,
         "0xcdcd77c000000000000000000000000000000000000000000000000000000000000000450000"
         "000000000000000000000000000000000000000000000000000000000001"},
        {"abi encode 'bar(bytes3[2])' '[0x616263, 0x646566]'", 0,
         "0xfce353f661626300000000000000000000000000000000000000000000000000000000006465660000"
         "000000000000000000000000000000000000000000000000000000"},
        {"abi encode --json 'baz(uint32,bool)' '[69,true]'", 0,
         "0xcdcd77c000000000000000000000000000000000000000000000000000000000000000450000"
         "000000000000000000000000000000000000000000000000000000000001"},
        {"abi encode --params 'uint8,int8' 255 -- -1", 2, ""},
        {"abi encode --params 'uint8,int8' -- 255 -1", 0,
         "0x00000000000000000000000000000000000000000000000000000000000000ff"
         "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"},
        {"abi encode 'baz(uint32,bool)' 69", 2, ""},
        {"abi encode 'baz(uint32,bool)' 4294967296 true", 2, ""},
        {"abi decode --compact --params '(uint32 x,bool y)' "
         "0x00000000000000000000000000000000000000000000000000000000000000450000"
         "000000000000000000000000000000000000000000000000000000000001", 0, "{\"x\":\"69\",\"y\":true}"},
        {"abi decode --compact --params 'uint8' "
         "0x0000000000000000000000000000000000000000000000000000000000000100", 2, ""},
        {"abi decode --compact --function 'baz(uint32,bool)' "
         "0xcdcd77c000000000000000000000000000000000000000000000000000000000000000450000"
         "000000000000000000000000000000000000000000000000000000000001", 0, "[\"69\",true]"},
        {"abi decode --compact 'event Transfer(address indexed from, address indexed to, uint256 value)' "
         "--topics 0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef,"
         "0x000000000000000000000000cd2a3d9f938e13cd947ec05abc7fe734df8dd826,"
         "0x000000000000000000000000000000000000000000000000000000000000dead "
         "--data 0x00000000000000000000000000000000000000000000000000000000000003e8", 0,
         "{\"event\":\"Transfer\",\"signature\":\"Transfer(address,address,uint256)\",\"args\":"
         "{\"from\":\"0xcd2a3d9f938e13cd947ec05abc7fe734df8dd826\","
         "\"to\":\"0x000000000000000000000000000000000000dead\",\"value\":\"1000\"}}"},
        /* two topics for an event that needs three */
        {"abi decode 'event Transfer(address indexed from, address indexed to, uint256 value)' "
         "--topics 0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef,"
         "0x000000000000000000000000cd2a3d9f938e13cd947ec05abc7fe734df8dd826 "
         "--data 0x00000000000000000000000000000000000000000000000000000000000003e8", 2, ""},
        {"abi decode --compact --params '(uint256)' - < /dev/null", 2, ""},
        {"abi frobnicate", 2, ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char out[4096];
        int st = run_cli(bin, cases[i].args, out, sizeof out);
        if (st != cases[i].status)
            fail_msg("gpuledger %s: exit status %d, want %d", cases[i].args, st, cases[i].status);
        if (cases[i].status == 0 && strcmp(out, cases[i].out))
            fail_msg("gpuledger %s:\n got  %s\n want %s", cases[i].args, out, cases[i].out);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_topics_and_selectors),
        cmocka_unit_test(test_sig_parse_forms),
        cmocka_unit_test(test_type_parse),
        cmocka_unit_test(test_sig_from_json),
        cmocka_unit_test(test_spec_examples),
        cmocka_unit_test(test_decode_integers),
        cmocka_unit_test(test_decode_value_types),
        cmocka_unit_test(test_decode_strings),
        cmocka_unit_test(test_decode_malformed),
        cmocka_unit_test(test_decode_logs),
        cmocka_unit_test(test_encode_values),
        cmocka_unit_test(test_value_from_text),
        cmocka_unit_test(test_topic_inplace),
        cmocka_unit_test(test_mutations),
        cmocka_unit_test(test_cli),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
