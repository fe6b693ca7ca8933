/* test_config.c - the configuration file (config.h): where it is looked
 * for, what it may hold, the errors that name file and JSON path, the
 * precedence --rpc > ETH_RPC_URL > file, and that no message shows a key.
 *
 * Expected locations follow the XDG base directory rules as written in
 * config.h; the API keys are made up and every error message is checked
 * not to contain them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "gpuledger/config.h"

#define KEY "9aa3d95b3bc440fa88ea12eaa4456161"
#define INFURA "https://mainnet.infura.io/v3/" KEY

static void test_locate(void **state)
{
    (void)state;
    char path[GL_CONFIG_PATH_MAX];
    const char *why;
    gl_config_env env = {.gpuledger_config = "/etc/gl.json", .xdg_config_home = "/x", .home = "/home/u"};
    assert_int_equal(gl_config_locate(&env, path, &why, NULL), GL_OK);
    assert_string_equal(path, "/etc/gl.json");
    assert_string_equal(why, "GPULEDGER_CONFIG");
    env.gpuledger_config = "";
    assert_int_equal(gl_config_locate(&env, path, &why, NULL), GL_OK);
    assert_string_equal(path, "/x/gpuledger/config.json");
    assert_string_equal(why, "XDG_CONFIG_HOME");
    env.xdg_config_home = "relative/dir"; /* ignored, as the XDG spec says */
    assert_int_equal(gl_config_locate(&env, path, &why, NULL), GL_OK);
    assert_string_equal(path, "/home/u/.config/gpuledger/config.json");
    assert_string_equal(why, "HOME");
    env.xdg_config_home = NULL;
    assert_int_equal(gl_config_locate(&env, path, &why, NULL), GL_OK);
    assert_string_equal(path, "/home/u/.config/gpuledger/config.json");
    env.home = NULL;
    gl_err err;
    assert_int_equal(gl_config_locate(&env, path, &why, &err), GL_EINVAL);
    assert_string_equal(path, "");
}

static void test_parse_ok(void **state)
{
    (void)state;
    gl_config c;
    gl_config_init(&c);
    gl_err err = {0};
    assert_int_equal(gl_config_parse(&c,
                                     "{\"rpc\": {\"42161\": [\"https://arb1.arbitrum.io/rpc\"],"
                                     " \"1\": [\"" INFURA "\", \"HTTP://127.0.0.1:8545\"],"
                                     " \"137\": \"https://polygon-rpc.com\"}}",
                                     "c.json", &err),
                     GL_OK);
    assert_int_equal(c.n_chains, 3);
    /* sorted by chain id */
    assert_int_equal(c.chains[0].chain_id, 1);
    assert_int_equal(c.chains[1].chain_id, 137);
    assert_int_equal(c.chains[2].chain_id, 42161);
    const gl_config_chain *one = gl_config_chain_get(&c, 1);
    assert_non_null(one);
    assert_int_equal(one->n_urls, 2);
    assert_string_equal(one->urls[0], INFURA); /* kept whole: it is used, never printed */
    assert_string_equal(one->urls[1], "HTTP://127.0.0.1:8545");
    assert_int_equal(gl_config_chain_get(&c, 137)->n_urls, 1);
    assert_null(gl_config_chain_get(&c, 10));
    gl_config_release(&c);

    /* an empty object and an empty rpc are empty configs */
    gl_config_init(&c);
    assert_int_equal(gl_config_parse(&c, "{}", "c.json", &err), GL_OK);
    assert_int_equal(c.n_chains, 0);
    assert_int_equal(gl_config_parse(&c, "{\"rpc\": {}}", "c.json", &err), GL_OK);
    assert_int_equal(c.n_chains, 0);
    gl_config_release(&c);
}

/* Each malformed text fails with GL_EINVAL, a message holding `want`
 * (which names the file and the JSON path) and never the key. */
static void bad(const char *text, const char *want)
{
    gl_config c;
    gl_config_init(&c);
    gl_err err = {0};
    assert_int_equal(gl_config_parse(&c, text, "/home/u/.config/gpuledger/config.json", &err), GL_EINVAL);
    if (!strstr(err.msg, want))
        fail_msg("message '%s' lacks '%s'", err.msg, want);
    assert_null(strstr(err.msg, KEY));
    assert_int_equal(c.n_chains, 0);
    gl_config_release(&c);
}

static void test_parse_errors(void **state)
{
    (void)state;
    bad("{\"rpc\": {\"1\": [\"https://a\"],}}", "/home/u/.config/gpuledger/config.json: line 1, column");
    bad("", "config.json: line 1, column 0");
    bad("[1]", "config.json: the top level must be an object");
    bad("{\"rcp\": {}}", "config.json: rcp: unknown key (known: rpc)");
    bad("{\"rpc\": [\"https://a\"]}", "config.json: rpc: must be an object");
    bad("{\"rpc\": {\"mainnet\": [\"https://a\"]}}", "config.json: rpc.mainnet: not a chain id");
    bad("{\"rpc\": {\"0\": [\"https://a\"]}}", "config.json: rpc.0: not a chain id");
    bad("{\"rpc\": {\"01\": [\"https://a\"]}}", "config.json: rpc.01: not a chain id");
    bad("{\"rpc\": {\"18446744073709551616\": [\"https://a\"]}}", "rpc.18446744073709551616: not a chain id");
    bad("{\"rpc\": {\"1\": 5}}", "config.json: rpc.1: must be an array of URLs");
    bad("{\"rpc\": {\"1\": []}}", "config.json: rpc.1: no URL");
    bad("{\"rpc\": {\"1\": [\"https://a\", 7]}}", "config.json: rpc.1[1]: must be a URL string");
    /* a URL with a key in the wrong scheme: named redacted */
    bad("{\"rpc\": {\"42161\": [\"https://a\", \"wss://mainnet.infura.io/v3/" KEY "\"]}}",
        "config.json: rpc.42161[1]: 'wss://mainnet.infura.io/v3/***' is not an http:// or https:// URL");
    bad("{\"rpc\": {\"1\": \"mainnet.infura.io/v3/" KEY "\"}}", "config.json: rpc.1: 'mainnet.infura.io/v3/***'");
    bad("{\"rpc\": {\"1\": [\"https://\"]}}", "rpc.1[0]: 'https://' is not an http:// or https:// URL");
    /* duplicate keys would hide one list */
    bad("{\"rpc\": {\"1\": [\"https://a\"], \"1\": [\"https://b\"]}}", "config.json: line 1");
}

static void test_precedence(void **state)
{
    (void)state;
    gl_config c;
    gl_config_init(&c);
    gl_err err = {0};
    strcpy(c.path, "/cfg.json");
    assert_int_equal(gl_config_parse(&c, "{\"rpc\": {\"1\": [\"https://file-a\", \"https://file-b\"]}}", "x", &err),
                     GL_OK);
    gl_config_urls u;
    const char *opt[] = {"https://opt-a,https://opt-b", "https://opt-c"};

    /* --rpc wins over everything; comma lists and repeats both count */
    assert_int_equal(gl_config_endpoints(&c, 1, opt, 2, "https://env", &u, &err), GL_OK);
    assert_int_equal(u.src, GL_RPC_SRC_OPTION);
    assert_int_equal(u.n, 3);
    assert_string_equal(u.urls[0], "https://opt-a");
    assert_string_equal(u.urls[2], "https://opt-c");
    gl_config_urls_release(&u);

    /* then ETH_RPC_URL */
    assert_int_equal(gl_config_endpoints(&c, 1, NULL, 0, "https://env-a,,https://env-b", &u, &err), GL_OK);
    assert_int_equal(u.src, GL_RPC_SRC_ENV);
    assert_int_equal(u.n, 2);
    assert_string_equal(u.urls[1], "https://env-b");
    gl_config_urls_release(&u);

    /* an empty --rpc and an empty ETH_RPC_URL give way */
    const char *empty[] = {""};
    assert_int_equal(gl_config_endpoints(&c, 1, empty, 1, ",", &u, &err), GL_OK);
    assert_int_equal(u.src, GL_RPC_SRC_CONFIG);
    assert_int_equal(u.n, 2);
    assert_string_equal(u.urls[0], "https://file-a");
    assert_string_equal(u.urls[1], "https://file-b");
    gl_config_urls_release(&u);

    /* the file only for its own chain */
    assert_int_equal(gl_config_endpoints(&c, 42161, NULL, 0, NULL, &u, &err), GL_EINVAL);
    assert_int_equal(u.n, 0);
    assert_null(u.urls);
    assert_non_null(strstr(err.msg, "no JSON-RPC endpoint for chain 42161"));
    assert_non_null(strstr(err.msg, "rpc.\"42161\" in /cfg.json"));
    assert_non_null(strstr(err.msg, "ETH_RPC_URL"));
    assert_non_null(strstr(err.msg, "--rpc"));

    /* no config at all */
    assert_int_equal(gl_config_endpoints(NULL, 5, NULL, 0, NULL, &u, &err), GL_EINVAL);
    assert_non_null(strstr(err.msg, "chain 5"));
    gl_config_release(&c);

    assert_string_equal(gl_rpc_source_name(GL_RPC_SRC_OPTION), "--rpc");
    assert_string_equal(gl_rpc_source_name(GL_RPC_SRC_ENV), "ETH_RPC_URL");
    assert_string_equal(gl_rpc_source_name(GL_RPC_SRC_CONFIG), "config file");
}

static void spit(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void test_load(void **state)
{
    (void)state;
    char dir[] = "/tmp/gl-config-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char sub[128], file[160], other[160];
    snprintf(sub, sizeof sub, "%s/gpuledger", dir);
    assert_int_equal(mkdir(sub, 0700), 0);
    snprintf(file, sizeof file, "%s/config.json", sub);
    snprintf(other, sizeof other, "%s/other.json", dir);
    gl_err err = {0};
    gl_config c;

    /* XDG_CONFIG_HOME without a file: an empty config, not an error */
    gl_config_env env = {.xdg_config_home = dir, .home = "/nonexistent"};
    gl_config_init(&c);
    assert_int_equal(gl_config_load(&c, &env, &err), GL_OK);
    assert_false(c.found);
    assert_string_equal(c.path, file);
    assert_string_equal(c.why, "XDG_CONFIG_HOME");
    gl_config_release(&c);

    /* with the file */
    spit(file, "{\"rpc\": {\"31337\": [\"http://127.0.0.1:8545\"]}}\n");
    gl_config_init(&c);
    assert_int_equal(gl_config_load(&c, &env, &err), GL_OK);
    assert_true(c.found);
    assert_int_equal(c.n_chains, 1);
    assert_int_equal(c.chains[0].chain_id, 31337);
    gl_config_release(&c);

    /* GPULEDGER_CONFIG wins, and must exist */
    env.gpuledger_config = other;
    gl_config_init(&c);
    assert_int_equal(gl_config_load(&c, &env, &err), GL_EIO);
    assert_non_null(strstr(err.msg, other));
    assert_non_null(strstr(err.msg, "GPULEDGER_CONFIG"));
    gl_config_release(&c);

    /* a malformed file: the error names the file and the path */
    spit(other, "{\"rpc\": {\"1\": [\"https://ok\", \"ftp://x/" KEY "\"]}}");
    gl_config_init(&c);
    assert_int_equal(gl_config_load(&c, &env, &err), GL_EINVAL);
    char want[256];
    snprintf(want, sizeof want, "%s: rpc.1[1]: ", other);
    if (!strstr(err.msg, want))
        fail_msg("'%s' lacks '%s'", err.msg, want);
    assert_null(strstr(err.msg, KEY));
    assert_int_equal(c.n_chains, 0);
    gl_config_release(&c);

    /* a directory where the file should be */
    env.gpuledger_config = sub;
    gl_config_init(&c);
    assert_int_not_equal(gl_config_load(&c, &env, &err), GL_OK);
    assert_non_null(strstr(err.msg, sub));
    gl_config_release(&c);

    /* nowhere to look at all: empty */
    gl_config_env none = {0};
    gl_config_init(&c);
    assert_int_equal(gl_config_load(&c, &none, &err), GL_OK);
    assert_false(c.found);
    assert_string_equal(c.path, "");
    gl_config_release(&c);

    unlink(file);
    unlink(other);
    rmdir(sub);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_locate),     cmocka_unit_test(test_parse_ok), cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_precedence), cmocka_unit_test(test_load),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
