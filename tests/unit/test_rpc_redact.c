/* test_rpc_redact.c - endpoint URLs lose their secrets before anyone prints them.
 *
 * The URLs have the shapes providers publish in their docs (Infura /v3/KEY,
 * Alchemy /v2/KEY, QuickNode /TOKEN/, Ankr /chain/KEY, dRPC ?dkey=, user:pass
 * basic auth, Etherscan-style ?apikey=); the keys are made up.  Each
 * expected string is written by hand from the rule in rpc.h, and every test
 * also checks that the secret itself is gone.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gpuledger/rpc.h"

static void check(const char *url, const char *want, const char *secret)
{
    char *got = gl_rpc_redact_url(url);
    assert_non_null(got);
    assert_string_equal(got, want);
    if (secret)
        assert_null(strstr(got, secret));
    free(got);
}

static void test_infura(void **state)
{
    (void)state;
    check("https://mainnet.infura.io/v3/9aa3d95b3bc440fa88ea12eaa4456161", "https://mainnet.infura.io/v3/***",
          "9aa3d95b3bc440fa88ea12eaa4456161");
    check("https://arbitrum-mainnet.infura.io/v3/9aa3d95b3bc440fa88ea12eaa4456161",
          "https://arbitrum-mainnet.infura.io/v3/***", "9aa3d95b");
    check("wss://polygon-mainnet.infura.io/ws/v3/9aa3d95b3bc440fa88ea12eaa4456161",
          "wss://polygon-mainnet.infura.io/ws/v3/***", "9aa3d95b");
}

static void test_alchemy(void **state)
{
    (void)state;
    check("https://eth-mainnet.g.alchemy.com/v2/Qx9_kP3mZ-1vLw8aBcDeFgHiJkLmNoPq",
          "https://eth-mainnet.g.alchemy.com/v2/***", "Qx9_kP3mZ");
    check("https://base-mainnet.g.alchemy.com/v2/AbCdEfGhIjKlMnOpQrStUvWxYz012345",
          "https://base-mainnet.g.alchemy.com/v2/***", "AbCdEf");
    /* A letters-only key longer than 11 characters is not a word either. */
    check("https://arb-mainnet.g.alchemy.com/v2/AbCdEfGhIjKl", "https://arb-mainnet.g.alchemy.com/v2/***",
          "AbCdEfGhIjKl");
}

static void test_quicknode_chainstack_getblock_blast(void **state)
{
    (void)state;
    check("https://white-spring-dawn.quiknode.pro/0123456789abcdef0123456789abcdef01234567/",
          "https://white-spring-dawn.quiknode.pro/***/", "0123456789abcdef");
    check("https://white-spring-dawn.arbitrum-mainnet.quiknode.pro/4f1e2d3c4b5a69788796a5b4c3d2e1f0/",
          "https://white-spring-dawn.arbitrum-mainnet.quiknode.pro/***/", "4f1e2d3c");
    check("https://nd-123-456-789.p2pify.com/0a1b2c3d4e5f60718293a4b5c6d7e8f9",
          "https://nd-123-456-789.p2pify.com/***", "0a1b2c3d");
    check("https://go.getblock.io/abcdef0123456789abcdef0123456789", "https://go.getblock.io/***", "abcdef01");
    check("https://eth-mainnet.blastapi.io/2b6fcd5e-3c4e-4f1e-9f2b-8c1d2e3f4a5b",
          "https://eth-mainnet.blastapi.io/***", "2b6fcd5e");
}

static void test_ankr(void **state)
{
    (void)state;
    check("https://rpc.ankr.com/eth/3c6e2c2e08b9d1f1b1a6b2c5c1a5e0c8b7f6a5d4c3b2a1908f7e6d5c4b3a2910",
          "https://rpc.ankr.com/eth/***", "3c6e2c2e");
    check("https://rpc.ankr.com/polygon/3c6e2c2e08b9d1f1", "https://rpc.ankr.com/polygon/***", "3c6e2c2e");
    /* Ankr's public, keyless form stays as it is. */
    check("https://rpc.ankr.com/arbitrum", "https://rpc.ankr.com/arbitrum", NULL);
}

static void test_userinfo(void **state)
{
    (void)state;
    check("https://user:s3cr3t-Passw0rd@rpc.example.com:8545/", "https://***@rpc.example.com:8545/",
          "s3cr3t");
    check("https://9aa3d95b3bc440fa88ea12eaa4456161@rpc.example.com/", "https://***@rpc.example.com/",
          "9aa3d95b");
    check("http://alice:pw@127.0.0.1:8545", "http://***@127.0.0.1:8545", "alice");
    /* An '@' after the host is part of the path, not userinfo: the host
     * stays (the segment goes, '@' being outside the word alphabet). */
    check("https://rpc.example.com/rpc@x", "https://rpc.example.com/***", NULL);
}

static void test_query(void **state)
{
    (void)state;
    check("https://api.etherscan.io/api?module=proxy&action=eth_gasprice&apikey=YOURKEY123",
          "https://api.etherscan.io/api?module=proxy&action=eth_gasprice&apikey=***", "YOURKEY123");
    /* Over-redaction is the accepted price: a mixed-case word of 12 or
     * more characters reads as a key. */
    check("https://api.etherscan.io/api?action=eth_blockNumber", "https://api.etherscan.io/api?action=***", NULL);
    check("https://lb.drpc.org/ogrpc?network=ethereum&dkey=Ak80gSCleR7gtq9vVZwdAbC1",
          "https://lb.drpc.org/ogrpc?network=ethereum&dkey=***", "Ak80gSCleR7g");
    /* A name that announces a secret hides even a short value. */
    check("https://rpc.example.com/?token=abc", "https://rpc.example.com/?token=***", NULL);
    check("https://rpc.example.com/?api_key=x1&access_token=y2", "https://rpc.example.com/?api_key=***&access_token=***",
          NULL);
    /* A value that looks like a key hides whatever its name. */
    check("https://rpc.example.com/rpc?x=9aa3d95b3bc440fa88ea12eaa4456161", "https://rpc.example.com/rpc?x=***",
          "9aa3d95b");
    /* A bare key as the whole query. */
    check("https://rpc.example.com/rpc?9aa3d95b3bc440fa88ea12eaa4456161", "https://rpc.example.com/rpc?***",
          "9aa3d95b");
    check("https://rpc.example.com/rpc?chain=1&empty=&flag", "https://rpc.example.com/rpc?chain=1&empty=&flag",
          NULL);
}

static void test_fragment(void **state)
{
    (void)state;
    check("https://rpc.example.com/rpc#9aa3d95b3bc440fa", "https://rpc.example.com/rpc#***", "9aa3d95b");
    check("https://rpc.example.com/rpc#", "https://rpc.example.com/rpc#", NULL);
}

static void test_public_urls_unchanged(void **state)
{
    (void)state;
    static const char *const keep[] = {
        "https://arb1.arbitrum.io/rpc",
        "https://polygon-rpc.com",
        "https://polygon-rpc.com/",
        "https://mainnet.base.org",
        "https://api.avax.network/ext/bc/C/rpc",
        "http://127.0.0.1:8545",
        "http://localhost:8545/",
        "http://[::1]:8545/",
        "https://rpc.example.com/v1/chain/42161",
        "HTTPS://RPC.EXAMPLE.COM/rpc",
        "",
    };
    for (size_t i = 0; i < sizeof keep / sizeof keep[0]; i++)
        check(keep[i], keep[i], NULL);
}

static void test_no_scheme(void **state)
{
    (void)state;
    check("localhost:8545/v3/9aa3d95b3bc440fa88ea12eaa4456161", "localhost:8545/v3/***", "9aa3d95b");
    check("u:p@localhost:8545", "***@localhost:8545", NULL);
    /* Not a scheme ("1x" does not start with a letter): the whole thing is
     * read as an authority. */
    check("1x://h/9aa3d95b3bc440fa88ea12eaa4456161", "1x://h/***", "9aa3d95b");
}

static void test_percent_encoded_and_odd_segments(void **state)
{
    (void)state;
    /* Anything outside the word alphabet is treated as a secret. */
    check("https://h.example/a%20b/rpc", "https://h.example/***/rpc", "a%20b");
    check("https://h.example//rpc/", "https://h.example//rpc/", NULL);
    check("https://h.example/1234567890123", "https://h.example/***", "1234567890123");
    check("https://h.example/123456789012", "https://h.example/123456789012", NULL);
    check("https://h.example/abcdefghijklmnopqrst/abcdefghijklmnopqrstu",
          "https://h.example/abcdefghijklmnopqrst/***", "abcdefghijklmnopqrstu");
}

static void test_null(void **state)
{
    (void)state;
    assert_null(gl_rpc_redact_url(NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_infura),
        cmocka_unit_test(test_alchemy),
        cmocka_unit_test(test_quicknode_chainstack_getblock_blast),
        cmocka_unit_test(test_ankr),
        cmocka_unit_test(test_userinfo),
        cmocka_unit_test(test_query),
        cmocka_unit_test(test_fragment),
        cmocka_unit_test(test_public_urls_unchanged),
        cmocka_unit_test(test_no_scheme),
        cmocka_unit_test(test_percent_encoded_and_odd_segments),
        cmocka_unit_test(test_null),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
