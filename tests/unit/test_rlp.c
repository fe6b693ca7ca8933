/* test_rlp.c - strict RLP: the yellow paper's examples and every way an
 * encoding can be non-canonical or truncated.  Expected bytes are the
 * examples published with the RLP specification (ethereum.org docs). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "gpuledger/rlp.h"

static void expect_hex(const gl_buf *b, const char *hex)
{
    char got[512];
    assert_true(b->len * 2 + 3 <= sizeof got);
    gl_hex_encode(b->data, b->len, true, got);
    assert_string_equal(got, hex);
}

static void test_encode_spec_examples(void **state)
{
    (void)state;
    gl_buf b = GL_BUF_INIT;
    assert_int_equal(gl_rlp_put_bytes(&b, (const uint8_t *)"dog", 3, NULL), GL_OK);
    expect_hex(&b, "0x83646f67");
    gl_buf_reset(&b);
    size_t l = gl_rlp_list_begin(&b);
    gl_rlp_put_bytes(&b, (const uint8_t *)"cat", 3, NULL);
    gl_rlp_put_bytes(&b, (const uint8_t *)"dog", 3, NULL);
    assert_int_equal(gl_rlp_list_end(&b, l, NULL), GL_OK);
    expect_hex(&b, "0xc88363617483646f67");
    gl_buf_reset(&b);
    gl_rlp_put_bytes(&b, NULL, 0, NULL);
    expect_hex(&b, "0x80");
    gl_buf_reset(&b);
    l = gl_rlp_list_begin(&b);
    gl_rlp_list_end(&b, l, NULL);
    expect_hex(&b, "0xc0");
    gl_buf_reset(&b);
    gl_rlp_put_u64(&b, 0, NULL);
    gl_rlp_put_u64(&b, 15, NULL);
    gl_rlp_put_u64(&b, 1024, NULL);
    expect_hex(&b, "0x800f820400");
    /* set-theoretic representation of three: [ [], [[]], [ [], [[]] ] ] */
    gl_buf_reset(&b);
    size_t outer = gl_rlp_list_begin(&b);
    size_t a = gl_rlp_list_begin(&b);
    gl_rlp_list_end(&b, a, NULL);
    a = gl_rlp_list_begin(&b);
    size_t a2 = gl_rlp_list_begin(&b);
    gl_rlp_list_end(&b, a2, NULL);
    gl_rlp_list_end(&b, a, NULL);
    a = gl_rlp_list_begin(&b);
    a2 = gl_rlp_list_begin(&b);
    gl_rlp_list_end(&b, a2, NULL);
    a2 = gl_rlp_list_begin(&b);
    size_t a3 = gl_rlp_list_begin(&b);
    gl_rlp_list_end(&b, a3, NULL);
    gl_rlp_list_end(&b, a2, NULL);
    gl_rlp_list_end(&b, a, NULL);
    gl_rlp_list_end(&b, outer, NULL);
    expect_hex(&b, "0xc7c0c1c0c3c0c1c0");
    /* 56 bytes needs the long form: b8 38 */
    gl_buf_reset(&b);
    const char *lorem = "Lorem ipsum dolor sit amet, consectetur adipisicing elit";
    gl_rlp_put_bytes(&b, (const uint8_t *)lorem, strlen(lorem), NULL);
    assert_int_equal(b.len, 58);
    assert_int_equal(b.data[0], 0xb8);
    assert_int_equal(b.data[1], 0x38);
    /* a list payload of 60 bytes: f8 3c */
    gl_buf_reset(&b);
    l = gl_rlp_list_begin(&b);
    for (int i = 0; i < 60; i++)
        gl_rlp_put_u64(&b, 1, NULL);
    gl_rlp_list_end(&b, l, NULL);
    assert_int_equal(b.len, 62);
    assert_int_equal(b.data[0], 0xf8);
    assert_int_equal(b.data[1], 60);
    gl_buf_release(&b);
}

static gl_code decode_hex(const char *hex, gl_rlp_item *it, gl_err *err, uint8_t *store, size_t cap)
{
    size_t n;
    gl_code rc = gl_hex_decode(hex, strlen(hex), store, cap, &n, err);
    return rc ? rc : gl_rlp_decode_exact(store, n, it, err);
}

static void expect_reject(const char *hex, const char *reason)
{
    uint8_t store[128];
    gl_rlp_item it;
    gl_err err = {GL_OK, ""};
    assert_int_equal(decode_hex(hex, &it, &err, store, sizeof store), GL_EINVAL);
    if (!strstr(err.msg, reason))
        fail_msg("%s: message \"%s\" does not mention \"%s\"", hex, err.msg, reason);
}

static void test_decode_rejects_noncanonical(void **state)
{
    (void)state;
    expect_reject("0x8100", "single byte");            /* 0x00 must encode as itself */
    expect_reject("0x817f", "single byte");
    expect_reject("0xb80100", "long-form");            /* 1-byte payload in long form */
    expect_reject("0xf80180", "long-form");
    expect_reject("0xb90037" "00", "leading zero");    /* length with a leading zero */
    expect_reject("0x83646f", "past the end");         /* truncated string */
    expect_reject("0xc88363617483646f", "past the end");
    expect_reject("0xb9", "past the end");
    expect_reject("0x83646f6700", "trailing");
    expect_reject("", "empty");
}

static void test_decode_items_and_integers(void **state)
{
    (void)state;
    uint8_t store[64];
    gl_rlp_item it, kids[2];
    gl_err err;
    assert_int_equal(decode_hex("0xc88363617483646f67", &it, &err, store, sizeof store), GL_OK);
    assert_true(it.is_list);
    assert_int_equal(gl_rlp_list_items(&it, kids, 2, &err), GL_OK);
    assert_int_equal(kids[1].payload_len, 3);
    assert_memory_equal(kids[1].payload, "dog", 3);
    assert_int_equal(gl_rlp_list_items(&it, kids, 1, &err), GL_EINVAL);
    assert_non_null(strstr(err.msg, "expected a list of 1 items, found 2"));

    uint64_t v;
    assert_int_equal(decode_hex("0x820400", &it, &err, store, sizeof store), GL_OK);
    assert_int_equal(gl_rlp_to_u64(&it, &v, &err), GL_OK);
    assert_int_equal(v, 1024);
    assert_int_equal(decode_hex("0x80", &it, &err, store, sizeof store), GL_OK);
    assert_int_equal(gl_rlp_to_u64(&it, &v, &err), GL_OK);
    assert_int_equal(v, 0);
    /* integers must not have leading zeros: 0x00 is not zero, 0x820004 is not 4 */
    assert_int_equal(decode_hex("0x00", &it, &err, store, sizeof store), GL_OK);
    assert_int_equal(gl_rlp_to_u64(&it, &v, &err), GL_EINVAL);
    assert_int_equal(decode_hex("0x820004", &it, &err, store, sizeof store), GL_OK);
    assert_int_equal(gl_rlp_to_u64(&it, &v, &err), GL_EINVAL);
    /* 9 bytes do not fit 64 bits */
    assert_int_equal(decode_hex("0x89010000000000000000", &it, &err, store, sizeof store), GL_OK);
    assert_int_equal(gl_rlp_to_u64(&it, &v, &err), GL_ERANGE);
    uint8_t addr[20];
    assert_int_equal(gl_rlp_to_fixed(&it, addr, 20, &err), GL_EINVAL);
    assert_int_equal(decode_hex("0xc0", &it, &err, store, sizeof store), GL_OK);
    assert_int_equal(gl_rlp_to_u64(&it, &v, &err), GL_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_encode_spec_examples),
        cmocka_unit_test(test_decode_rejects_noncanonical),
        cmocka_unit_test(test_decode_items_and_integers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
