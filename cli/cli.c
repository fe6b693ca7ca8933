/* cli.c - helpers the subcommands share (see cli.h). */
#include "cli.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpuledger/rpc.h"

void cli_opt_reset(void)
{
    optind = 0;
    opterr = 0;
}

int cli_opt_error(const char *cmd, int c, char **argv)
{
    const char *arg = optind > 0 ? argv[optind - 1] : "";
    bool is_long = arg && !strncmp(arg, "--", 2);
    if (c == ':')
        fprintf(stderr, "gpuledger %s: '%s' needs a value\n", cmd, is_long ? arg : (char[]){'-', (char)optopt, 0});
    else if (is_long && optopt)
        fprintf(stderr, "gpuledger %s: '%s' takes no value\n", cmd, arg);
    else if (is_long || !optopt)
        fprintf(stderr, "gpuledger %s: unknown option '%s'\n", cmd, arg);
    else
        fprintf(stderr, "gpuledger %s: unknown option '-%c'\n", cmd, optopt);
    fprintf(stderr, "(see gpuledger %s --help)\n", cmd);
    return 2;
}

int cli_endpoints(const char *cmd, uint64_t chain_id, const char *const *opt, size_t n_opt, bool quiet,
                  gl_config_urls *out)
{
    gl_config_env env;
    gl_config_env_from_process(&env);
    gl_config cfg;
    gl_config_init(&cfg);
    gl_err err = {0};
    memset(out, 0, sizeof *out);
    /* The file is read only when neither --rpc nor ETH_RPC_URL gives a URL:
     * a broken file must not stop a command that does not need it. */
    gl_code rc = gl_config_endpoints(NULL, chain_id, opt, n_opt, env.eth_rpc_url, out, NULL);
    if (rc) {
        if ((rc = gl_config_load(&cfg, &env, &err)) == GL_OK)
            rc = gl_config_endpoints(&cfg, chain_id, NULL, 0, NULL, out, &err);
        if (rc) {
            fprintf(stderr, "gpuledger %s: %s\n", cmd, err.msg);
            gl_config_release(&cfg);
            return 2;
        }
    }
    if (!quiet) {
        fprintf(stderr, "gpuledger %s: chain %llu: %zu endpoint%s from %s%s%s%s:", cmd, (unsigned long long)chain_id,
                out->n, out->n == 1 ? "" : "s", gl_rpc_source_name(out->src),
                out->src == GL_RPC_SRC_CONFIG ? " (" : "", out->src == GL_RPC_SRC_CONFIG ? cfg.path : "",
                out->src == GL_RPC_SRC_CONFIG ? ")" : "");
        for (size_t i = 0; i < out->n; i++) {
            char *red = gl_rpc_redact_url(out->urls[i]);
            fprintf(stderr, " %s", red ? red : "***");
            free(red);
        }
        fputc('\n', stderr);
    }
    gl_config_release(&cfg);
    return 0;
}
