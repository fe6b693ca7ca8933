/* cmd_config.c - `gpuledger config`: the configuration file (config.h) as
 * the commands will see it.
 *
 *   gpuledger config show [--chain ID] [--json]   the resolved endpoints
 *   gpuledger config path                         where the file is looked for
 *
 * Every URL is printed redacted (gl_rpc_redact_url): this output is meant
 * to be pasted into bug reports.  Exit status: 0 shown, 2 bad usage or a
 * config file that does not load (the error names file and JSON path).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"
#include "commands.h"
#include "gpuledger/config.h"
#include "gpuledger/rpc.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: gpuledger config show [--chain ID] [--json]\n"
            "       gpuledger config path\n\n"
            "show: the configuration as the commands see it, URLs redacted: where the file is\n"
            "(GPULEDGER_CONFIG, else $XDG_CONFIG_HOME/gpuledger/config.json, else\n"
            "~/.config/gpuledger/config.json), its endpoints per chain, and whether ETH_RPC_URL\n"
            "overrides them.  With --chain ID: the endpoints a command would use for that chain\n"
            "and where they come from (--rpc > ETH_RPC_URL > config file).\n"
            "path: only the file's location.\n\n"
            "The file:\n"
            "  {\"rpc\": {\"1\": [\"https://mainnet.example/v3/KEY\", \"https://eth.example\"],\n"
            "           \"42161\": [\"https://arb1.arbitrum.io/rpc\"]}}\n\n"
            "  --chain ID  resolve the endpoints of this chain\n"
            "  --json      one JSON object\n\n"
            "Examples:\n"
            "  gpuledger config show\n"
            "  gpuledger config show --chain 42161 --json\n"
            "  GPULEDGER_CONFIG=./ci.json gpuledger config path\n\n"
            "Exit status: 0 shown, 2 bad usage or a config file that does not load.\n");
}

static json_t *redacted_array(char *const *urls, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++) {
        char *r = gl_rpc_redact_url(urls[i]);
        json_array_append_new(a, json_string(r ? r : "***"));
        free(r);
    }
    return a;
}

static void print_urls(const char *indent, char *const *urls, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char *r = gl_rpc_redact_url(urls[i]);
        printf("%s%s\n", i ? indent : "", r ? r : "***");
        free(r);
    }
}

static int show(uint64_t chain, bool as_json)
{
    gl_config_env env;
    gl_config_env_from_process(&env);
    gl_config cfg;
    gl_config_init(&cfg);
    gl_err err = {0};
    if (gl_config_load(&cfg, &env, &err)) {
        fprintf(stderr, "gpuledger config: %s\n", err.msg);
        gl_config_release(&cfg);
        return 2;
    }
    gl_config_urls env_urls = {0}, res = {0};
    gl_config_urls_add_list(&env_urls, env.eth_rpc_url, NULL);
    bool resolved = chain && gl_config_endpoints(&cfg, chain, NULL, 0, env.eth_rpc_url, &res, &err) == GL_OK;
    if (as_json) {
        json_t *rpc = json_object();
        for (size_t i = 0; i < cfg.n_chains; i++) {
            char k[24];
            snprintf(k, sizeof k, "%llu", (unsigned long long)cfg.chains[i].chain_id);
            json_object_set_new(rpc, k, redacted_array(cfg.chains[i].urls, cfg.chains[i].n_urls));
        }
        json_t *o = json_pack("{s:s?, s:s?, s:b, s:o, s:o}", "path", cfg.path[0] ? cfg.path : NULL, "path_from",
                              cfg.why, "found", cfg.found, "eth_rpc_url",
                              env_urls.n ? redacted_array(env_urls.urls, env_urls.n) : json_null(), "rpc", rpc);
        if (o && chain) {
            json_t *r = json_pack("{s:I, s:s, s:o}", "chain_id", (json_int_t)chain, "source",
                                  gl_rpc_source_name(res.src), "urls",
                                  resolved ? redacted_array(res.urls, res.n) : json_array());
            if (r && !resolved)
                json_object_set_new(r, "error", json_string(err.msg));
            json_object_set_new(o, "resolved", r);
        }
        char *txt = o ? json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
        printf("%s\n", txt ? txt : "{}");
        free(txt);
        json_decref(o);
    } else {
        printf("config file: %s", cfg.path[0] ? cfg.path : "(none: HOME, XDG_CONFIG_HOME and GPULEDGER_CONFIG unset)");
        if (cfg.path[0])
            printf(" (from %s)%s", cfg.why, cfg.found ? "" : ", not present");
        printf("\nETH_RPC_URL: ");
        if (env_urls.n) {
            print_urls("             ", env_urls.urls, env_urls.n);
            printf("             (set: overrides the file for every chain; --rpc overrides both)\n");
        } else {
            printf("unset\n");
        }
        printf("rpc:%s\n", cfg.n_chains ? "" : " (no chain)");
        for (size_t i = 0; i < cfg.n_chains; i++) {
            printf("  %-10llu ", (unsigned long long)cfg.chains[i].chain_id);
            print_urls("             ", cfg.chains[i].urls, cfg.chains[i].n_urls);
        }
        if (chain) {
            if (resolved) {
                printf("chain %llu uses (%s): ", (unsigned long long)chain, gl_rpc_source_name(res.src));
                print_urls("    ", res.urls, res.n);
            } else {
                printf("chain %llu: %s\n", (unsigned long long)chain, err.msg);
            }
        }
    }
    gl_config_urls_release(&env_urls);
    gl_config_urls_release(&res);
    gl_config_release(&cfg);
    return fflush(stdout) ? 2 : 0;
}

int cmd_config(int argc, char **argv)
{
    static const struct option opts[] = {
        {"chain", required_argument, 0, 'c'}, {"json", no_argument, 0, 'j'}, {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0}};
    uint64_t chain = 0;
    bool as_json = false;
    int c;
    cli_opt_reset();
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case 'h': usage(stdout); return 0;
        case 'j': as_json = true; break;
        case 'c': {
            char *end;
            unsigned long long v = strtoull(optarg, &end, 10);
            if (!*optarg || *end || !v || optarg[0] == '-') {
                fprintf(stderr, "gpuledger config: bad --chain '%s'\n", optarg);
                return 2;
            }
            chain = v;
            break;
        }
        default: return cli_opt_error("config", c, argv);
        }
    }
    const char *sub = optind < argc ? argv[optind] : NULL;
    if (!sub || optind + 1 != argc) {
        if (sub)
            fprintf(stderr, "gpuledger config: unexpected argument '%s'\n", argv[optind + 1]);
        usage(stderr);
        return 2;
    }
    if (!strcmp(sub, "show"))
        return show(chain, as_json);
    if (!strcmp(sub, "path")) {
        gl_config_env env;
        gl_config_env_from_process(&env);
        char path[GL_CONFIG_PATH_MAX];
        gl_err err;
        if (gl_config_locate(&env, path, NULL, &err)) {
            fprintf(stderr, "gpuledger config: %s\n", err.msg);
            return 2;
        }
        printf("%s\n", path);
        return 0;
    }
    fprintf(stderr, "gpuledger config: '%s' is not show or path\n", sub);
    usage(stderr);
    return 2;
}
