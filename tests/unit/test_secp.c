/* test_secp.c - the libsecp256k1 wrapper: addresses of known keys, the
 * signature-value rules (EIP-2), signing and recovery.
 *
 * Oracles: well-known key/address pairs (private key 1; anvil's first dev
 * account, derived from the public "test ... junk" mnemonic; go-ethereum's
 * test key; the EIP-155 example key), the secp256k1 group order from SEC 2,
 * and the EIP-155 example signature (r, s published in the EIP).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "gpuledger/bytes.h"
#include "gpuledger/secp.h"

static void hex32(const char *hex, uint8_t out[32])
{
    assert_int_equal(gl_hex_decode_exact(hex, out, 32, NULL), GL_OK);
}

static void expect_addr(const uint8_t addr[20], const char *want_lower)
{
    char got[43];
    gl_hex_encode(addr, 20, true, got);
    assert_string_equal(got, want_lower);
}

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

static void test_known_addresses(void **state)
{
    const gl_secp *ctx = *state;
    static const struct {
        const char *key, *addr;
    } known[] = {
        /* private key 1: the generator point's address */
        {"0x0000000000000000000000000000000000000000000000000000000000000001",
         "0x7e5f4552091a69125d5dfcb7b8c2659029395bdf"},
        /* anvil / hardhat dev account 0 */
        {"0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
         "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266"},
        /* go-ethereum's testKey / testAddr */
        {"0xb71c71a67e1177ad4e901695e1b4b9ee17ae16c6668d313eac2f96dbcda3f291",
         "0x71562b71999873db5b286df957af199ec94617f7"},
        /* EIP-155 example key; its address is the example tx's sender */
        {"0x4646464646464646464646464646464646464646464646464646464646464646",
         "0x9d8a62f656a8d1615c1294fd71e9cfb3e4855a4f"},
    };
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
        uint8_t key[32], addr[20];
        hex32(known[i].key, key);
        assert_int_equal(gl_secp_address_of_privkey(ctx, key, addr, NULL), GL_OK);
        expect_addr(addr, known[i].addr);
    }
}

static void test_invalid_private_keys(void **state)
{
    const gl_secp *ctx = *state;
    uint8_t zero[32] = {0}, addr[20], h[32] = {1}, r[32], s[32];
    int recid;
    gl_err err;
    assert_int_equal(gl_secp_address_of_privkey(ctx, zero, addr, &err), GL_EINVAL);
    assert_non_null(strstr(err.msg, "private key"));
    assert_int_equal(gl_secp_address_of_privkey(ctx, gl_secp_order, addr, NULL), GL_EINVAL);
    assert_int_equal(gl_secp_sign(ctx, h, zero, r, s, &recid, NULL), GL_EINVAL);
    assert_int_equal(gl_secp_sign(ctx, h, gl_secp_order, r, s, &recid, NULL), GL_EINVAL);
}

static void test_order_constants(void **state)
{
    (void)state;
    /* SEC 2, section 2.4.1: n = FFFFFFFF FFFFFFFF FFFFFFFF FFFFFFFE BAAEDCE6
     * AF48A03B BFD25E8C D0364141; n/2 rounds down. */
    uint8_t n[32], half[32];
    hex32("0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141", n);
    hex32("0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0", half);
    assert_memory_equal(gl_secp_order, n, 32);
    assert_memory_equal(gl_secp_half_order, half, 32);
}

static void test_check_sig_rules(void **state)
{
    (void)state;
    uint8_t one[32] = {0}, zero[32] = {0}, n[32], nm1[32], half[32], half1[32];
    gl_err err;
    one[31] = 1;
    memcpy(n, gl_secp_order, 32);
    memcpy(nm1, gl_secp_order, 32);
    nm1[31]--;
    memcpy(half, gl_secp_half_order, 32);
    memcpy(half1, gl_secp_half_order, 32);
    half1[31]++;
    assert_int_equal(gl_secp_check_sig(one, one, true, NULL), GL_OK);
    assert_int_equal(gl_secp_check_sig(zero, one, true, &err), GL_EINVAL);
    assert_non_null(strstr(err.msg, "r is zero"));
    assert_int_equal(gl_secp_check_sig(one, zero, true, &err), GL_EINVAL);
    assert_non_null(strstr(err.msg, "s is zero"));
    assert_int_equal(gl_secp_check_sig(n, one, true, &err), GL_EINVAL);
    assert_non_null(strstr(err.msg, "r >= "));
    assert_int_equal(gl_secp_check_sig(nm1, one, true, NULL), GL_OK);
    assert_int_equal(gl_secp_check_sig(one, n, false, &err), GL_EINVAL);
    assert_non_null(strstr(err.msg, "s >= "));
    /* EIP-2: s == n/2 is fine, n/2 + 1 is not (unless high s is allowed) */
    assert_int_equal(gl_secp_check_sig(one, half, true, NULL), GL_OK);
    assert_int_equal(gl_secp_check_sig(one, half1, true, &err), GL_EINVAL);
    assert_non_null(strstr(err.msg, "EIP-2"));
    assert_int_equal(gl_secp_check_sig(one, half1, false, NULL), GL_OK);
    assert_int_equal(gl_secp_check_sig(one, nm1, false, NULL), GL_OK);
}

/* EIP-155's example: the published signature of the published signing hash
 * (RFC 6979 nonces, so our signer must produce exactly these bytes). */
static void test_eip155_signature(void **state)
{
    const gl_secp *ctx = *state;
    uint8_t key[32], h[32], r[32], s[32], want_r[32], want_s[32], addr[20];
    int recid = -1;
    hex32("0x4646464646464646464646464646464646464646464646464646464646464646", key);
    hex32("0xdaf5a779ae972f972197303d7b574746c7ef83eadac0f2791ad23db92e4c8e53", h);
    hex32("0x28ef61340bd939bc2195fe537567866003e1a15d3c71ff63e1590620aa636276", want_r);
    hex32("0x67cbe9d8997f761aecb703304b3800ccf555c9f3dc64214b297fb1966a3b6d83", want_s);
    assert_int_equal(gl_secp_sign(ctx, h, key, r, s, &recid, NULL), GL_OK);
    assert_memory_equal(r, want_r, 32);
    assert_memory_equal(s, want_s, 32);
    assert_int_equal(recid, 0); /* v = 37 = 1*2 + 35 + 0 */
    assert_int_equal(gl_secp_recover(ctx, h, want_r, want_s, 0, addr, NULL), GL_OK);
    expect_addr(addr, "0x9d8a62f656a8d1615c1294fd71e9cfb3e4855a4f");
    /* the other recovery id gives a different key, never an error here */
    assert_int_equal(gl_secp_recover(ctx, h, want_r, want_s, 1, addr, NULL), GL_OK);
    char other[43];
    gl_hex_encode(addr, 20, true, other);
    assert_string_not_equal(other, "0x9d8a62f656a8d1615c1294fd71e9cfb3e4855a4f");
}

static void test_recover_rejects(void **state)
{
    const gl_secp *ctx = *state;
    uint8_t h[32] = {7}, one[32] = {0}, zero[32] = {0}, addr[20];
    gl_err err;
    one[31] = 1;
    assert_int_equal(gl_secp_recover(ctx, h, one, one, 2, addr, &err), GL_EINVAL);
    assert_non_null(strstr(err.msg, "recovery id"));
    assert_int_equal(gl_secp_recover(ctx, h, one, one, -1, addr, NULL), GL_EINVAL);
    assert_int_equal(gl_secp_recover(ctx, h, zero, one, 0, addr, NULL), GL_EINVAL);
    assert_int_equal(gl_secp_recover(ctx, h, one, gl_secp_order, 0, addr, NULL), GL_EINVAL);
    /* r = 5: x = 5 has no point on secp256k1 (5^3 + 7 = 132 is a non-residue
     * mod p, by Euler's criterion), so nothing recovers; the address is zeroed */
    uint8_t five[32] = {0};
    five[31] = 5;
    memset(addr, 0xaa, sizeof addr);
    assert_int_equal(gl_secp_recover(ctx, h, five, one, 0, addr, &err), GL_EINVAL);
    assert_non_null(strstr(err.msg, "no public key"));
    uint8_t z20[20] = {0};
    assert_memory_equal(addr, z20, 20);
}

/* Random keys sign random hashes: recovery must return the key's address
 * and s must always be low.  Seeded; the seed is printed. */
static void test_sign_recover_random(void **state)
{
    const gl_secp *ctx = *state;
    const char *env = getenv("GL_TEST_SEED");
    unsigned seed = env ? (unsigned)strtoul(env, NULL, 10) : (unsigned)time(NULL);
    printf("test_sign_recover_random: seed %u (set GL_TEST_SEED to replay)\n", seed);
    srand(seed);
    for (int iter = 0; iter < 200; iter++) {
        uint8_t key[32], h[32], r[32], s[32], a1[20], a2[20];
        for (int i = 0; i < 32; i++) {
            key[i] = (uint8_t)rand();
            h[i] = (uint8_t)rand();
        }
        int recid;
        if (gl_secp_address_of_privkey(ctx, key, a1, NULL) != GL_OK)
            continue; /* >= n: astronomically unlikely */
        assert_int_equal(gl_secp_sign(ctx, h, key, r, s, &recid, NULL), GL_OK);
        assert_true(recid == 0 || recid == 1);
        assert_int_equal(gl_secp_check_sig(r, s, true, NULL), GL_OK);
        assert_int_equal(gl_secp_recover(ctx, h, r, s, recid, a2, NULL), GL_OK);
        assert_memory_equal(a1, a2, 20);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_addresses),
        cmocka_unit_test(test_invalid_private_keys),
        cmocka_unit_test(test_order_constants),
        cmocka_unit_test(test_check_sig_rules),
        cmocka_unit_test(test_eip155_signature),
        cmocka_unit_test(test_recover_rejects),
        cmocka_unit_test(test_sign_recover_random),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
