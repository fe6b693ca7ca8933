/* test_core.c - hex, buffers, 256-bit integers and keccak-256.
 *
 * Expected values come from outside this code: published keccak-256 digests,
 * decimal expansions of powers of two, hand-computed hex.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gpuledger/bytes.h"
#include "gpuledger/keccak.h"
#include "gpuledger/u256.h"

static void hash_hex(const char *text, size_t len, char out[67])
{
    uint8_t h[32];
    gl_keccak256(text, len, h);
    gl_hex_encode(h, 32, true, out);
}

static void test_keccak_known_digests(void **state)
{
    (void)state;
    char hex[67];
    /* keccak256("") — the famous empty hash (code hash of an empty account) */
    hash_hex("", 0, hex);
    assert_string_equal(hex, "0xc5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470");
    hash_hex("abc", 3, hex);
    assert_string_equal(hex, "0x4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45");
    const char *fox = "The quick brown fox jumps over the lazy dog";
    hash_hex(fox, strlen(fox), hex);
    assert_string_equal(hex, "0x4d741b6f1eb29cb2a9b9911c82f56fa8d73b04959d3d9d222895df6c0b28aa15");
    /* ERC-20 Transfer event topic, as published in every block explorer */
    const char *sig = "Transfer(address,address,uint256)";
    hash_hex(sig, strlen(sig), hex);
    assert_string_equal(hex, "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef");
    /* keccak256(rlp("")) = empty trie root */
    hash_hex("\x80", 1, hex);
    assert_string_equal(hex, "0x56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421");
    /* keccak256(rlp([])) = empty uncles hash */
    hash_hex("\xc0", 1, hex);
    assert_string_equal(hex, "0x1dcc4de8dec75d7aab85b567b6ccd41ad312451b948a7413f0a142fd40d49347");
}

static void test_keccak_streaming_across_blocks(void **state)
{
    (void)state;
    /* Feeding the same bytes in uneven pieces must not change the digest;
     * lengths straddle the 136-byte rate. */
    uint8_t msg[600];
    for (size_t i = 0; i < sizeof msg; i++)
        msg[i] = (uint8_t)(i * 7 + 3);
    const size_t lens[] = {135, 136, 137, 272, 273, 600};
    for (size_t l = 0; l < sizeof lens / sizeof lens[0]; l++) {
        uint8_t one[32], pieces[32];
        gl_keccak256(msg, lens[l], one);
        gl_keccak k;
        gl_keccak_init(&k);
        for (size_t off = 0, step = 1; off < lens[l]; off += step, step = step * 3 % 97 + 1) {
            size_t n = off + step > lens[l] ? lens[l] - off : step;
            gl_keccak_update(&k, msg + off, n);
        }
        gl_keccak_final(&k, pieces);
        assert_memory_equal(one, pieces, 32);
    }
}

/* Numbers as JSON-RPC gives them: boundaries computed by hand
 * (2^64 - 1 = 18446744073709551615 = 0xffffffffffffffff). */
static void test_number_text(void **state)
{
    (void)state;
    uint64_t v = 7;
#define DEC(s) gl_dec_u64(s, strlen(s), &v)
#define QTY(s) gl_qty_u64(s, strlen(s), &v)
    assert_true(DEC("0") && v == 0);
    assert_true(DEC("12345") && v == 12345);
    assert_true(DEC("18446744073709551615") && v == UINT64_MAX);
    v = 7;
    assert_false(DEC("18446744073709551616"));
    assert_false(DEC("99999999999999999999"));
    assert_false(DEC("000000000000000000001")); /* 21 digits */
    assert_false(DEC(""));
    assert_false(DEC("-1"));
    assert_false(DEC("1.5"));
    assert_false(DEC("1e3"));
    assert_false(DEC(" 1"));
    assert_int_equal(v, 7); /* untouched by every refusal */
    assert_true(QTY("0x0") && v == 0);
    assert_true(QTY("0x1b4") && v == 436);
    assert_true(QTY("0X00ff") && v == 255);
    assert_true(QTY("0xffffffffffffffff") && v == UINT64_MAX);
    assert_true(QTY("0x0000ffffffffffffffff") && v == UINT64_MAX);
    v = 7;
    assert_false(QTY("0x10000000000000000"));
    assert_false(QTY("0x"));
    assert_false(QTY("ff"));
    assert_false(QTY("0xg1"));
    assert_false(QTY("12"));
    assert_int_equal(v, 7);
#undef DEC
#undef QTY
}

static void test_hex_roundtrip_and_errors(void **state)
{
    (void)state;
    uint8_t out[8];
    size_t n;
    gl_err err;
    assert_int_equal(gl_hex_decode("0xDEadBEef", 10, out, sizeof out, &n, &err), GL_OK);
    assert_int_equal(n, 4);
    assert_int_equal(out[0], 0xde);
    assert_int_equal(out[3], 0xef);
    char s[16];
    assert_string_equal(gl_hex_encode(out, 4, true, s), "0xdeadbeef");
    assert_int_equal(gl_hex_decode("0xabc", 5, out, sizeof out, &n, &err), GL_EINVAL);
    assert_non_null(strstr(err.msg, "odd"));
    assert_int_equal(gl_hex_decode("0x12zz", 6, out, sizeof out, &n, &err), GL_EINVAL);
    assert_non_null(strstr(err.msg, "'z'"));
    assert_int_equal(gl_hex_decode("0x112233445566778899", 20, out, sizeof out, &n, &err), GL_ERANGE);
    uint8_t addr[20];
    assert_int_equal(gl_hex_decode_exact("0x1234", addr, 20, &err), GL_EINVAL);
    assert_int_equal(gl_hex_decode_exact("0x00000000000000000000000000000000000000ff", addr, 20, &err), GL_OK);
    assert_int_equal(addr[19], 0xff);
    gl_buf b = GL_BUF_INIT;
    assert_int_equal(gl_hex_decode_buf("", &b, &err), GL_OK);
    assert_int_equal(b.len, 0);
    assert_int_equal(gl_hex_decode_buf("0x", &b, &err), GL_OK);
    assert_int_equal(gl_hex_decode_buf("0x0102", &b, &err), GL_OK);
    assert_int_equal(b.len, 2);
    gl_buf_release(&b);
}

static void test_u256_parse_print(void **state)
{
    (void)state;
    gl_u256 v;
    char dec[GL_U256_DEC_MAX], hex[GL_U256_HEX_MAX];
    gl_err err;
    const char *max_dec = "115792089237316195423570985008687907853269984665640564039457584007913129639935";
    assert_int_equal(gl_u256_parse(&v, max_dec, &err), GL_OK);
    assert_string_equal(gl_u256_to_dec(&v, dec), max_dec);
    assert_string_equal(gl_u256_to_hex(&v, hex), "0xffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff");
    /* 2^256 does not fit */
    assert_int_equal(gl_u256_parse(&v, "115792089237316195423570985008687907853269984665640564039457584007913129639936", &err),
                     GL_ERANGE);
    assert_int_equal(gl_u256_parse(&v, "0x1" "0000000000000000000000000000000000000000000000000000000000000000", &err), GL_ERANGE);
    /* one ether */
    assert_int_equal(gl_u256_parse(&v, "0xde0b6b3a7640000", &err), GL_OK);
    assert_string_equal(gl_u256_to_dec(&v, dec), "1000000000000000000");
    assert_int_equal(gl_u256_parse(&v, "0", &err), GL_OK);
    assert_string_equal(gl_u256_to_dec(&v, dec), "0");
    assert_string_equal(gl_u256_to_hex(&v, hex), "0x0");
    /* 10^19 and 10^38 cross the 19-digit chunking boundary */
    assert_int_equal(gl_u256_parse(&v, "10000000000000000000", &err), GL_OK);
    assert_string_equal(gl_u256_to_hex(&v, hex), "0x8ac7230489e80000");
    assert_int_equal(gl_u256_parse(&v, "0x4b3b4ca85a86c47a098a224000000000", &err), GL_OK);
    assert_string_equal(gl_u256_to_dec(&v, dec), "100000000000000000000000000000000000000");
    assert_int_equal(gl_u256_parse(&v, "", &err), GL_EINVAL);
    assert_int_equal(gl_u256_parse(&v, "0x", &err), GL_EINVAL);
    assert_int_equal(gl_u256_parse(&v, "12a", &err), GL_EINVAL);
    assert_int_equal(gl_u256_parse(&v, "0xg", &err), GL_EINVAL);
}

static void test_u256_arithmetic(void **state)
{
    (void)state;
    gl_u256 a, b, r;
    gl_err err;
    char dec[GL_U256_DEC_MAX];
    /* carry across every limb: (2^192 - 1) + 1 = 2^192 */
    assert_int_equal(gl_u256_parse(&a, "0xffffffffffffffffffffffffffffffffffffffffffffffff", &err), GL_OK);
    b = gl_u256_from_u64(1);
    assert_int_equal(gl_u256_add(&r, &a, &b, &err), GL_OK);
    assert_string_equal(gl_u256_to_dec(&r, dec), "6277101735386680763835789423207666416102355444464034512896");
    assert_int_equal(gl_u256_sub(&r, &r, &b, &err), GL_OK);
    assert_int_equal(gl_u256_cmp(&r, &a), 0);
    assert_int_equal(gl_u256_sub(&r, &b, &a, &err), GL_ERANGE);
    gl_u256 max;
    assert_int_equal(gl_u256_parse(&max, "0xffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff", &err), GL_OK);
    assert_int_equal(gl_u256_add(&r, &max, &b, &err), GL_ERANGE);
    assert_int_equal(gl_u256_mul_u64(&r, &max, 2, &err), GL_ERANGE);
    /* 1e18 * 1e6 = 1e24; / 7 = 142857142857142857142857 rem 1 */
    a = gl_u256_from_u64(1000000000000000000ULL);
    assert_int_equal(gl_u256_mul_u64(&r, &a, 1000000, &err), GL_OK);
    assert_string_equal(gl_u256_to_dec(&r, dec), "1000000000000000000000000");
    uint64_t rem;
    assert_int_equal(gl_u256_div_u64(&r, &rem, &r, 7, &err), GL_OK);
    assert_string_equal(gl_u256_to_dec(&r, dec), "142857142857142857142857");
    assert_int_equal(rem, 1);
    assert_int_equal(gl_u256_div_u64(&r, &rem, &a, 0, &err), GL_EINVAL);
    r = gl_u256_shr(&max, 96);
    assert_string_equal(gl_u256_to_dec(&r, dec), "1461501637330902918203684832716283019655932542975"); /* 2^160-1 */
    uint8_t be[32];
    assert_int_equal(gl_u256_to_be_min(&b, be), 1);
    assert_int_equal(be[0], 1);
    gl_u256 zero = gl_u256_from_u64(0);
    assert_int_equal(gl_u256_to_be_min(&zero, be), 0);
    assert_true(gl_u256_is_zero(&zero));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keccak_known_digests),
        cmocka_unit_test(test_keccak_streaming_across_blocks),
        cmocka_unit_test(test_hex_roundtrip_and_errors),
        cmocka_unit_test(test_number_text),
        cmocka_unit_test(test_u256_parse_print),
        cmocka_unit_test(test_u256_arithmetic),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
