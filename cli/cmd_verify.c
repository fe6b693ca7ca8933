/* cmd_verify.c - `gpuledger verify block FILE|-`: recompute what a block
 * claims (header hash, transactionsRoot, each transaction's hash and sender,
 * withdrawalsRoot) and print the report as JSON.
 *
 * FILE holds a JSON-RPC block object (eth_getBlockByNumber(n, true)) or the
 * whole JSON-RPC answer around one; "-" reads stdin.  --allow-gaps accepts
 * a header with a fork field but not the ones before it (anvil's blocks of
 * pre-Cancun hardforks) and hashes the fields present.
 * Exit status: 0 every check that could run matched, 1 something differs,
 * 2 the input cannot be read or is not a block (the reason on stderr).
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"
#include "commands.h"
#include "gpuledger/block.h"
#include "gpuledger/secp.h"

static void usage(FILE *out)
{
    fprintf(out, "usage: gpuledger verify block [--allow-gaps] FILE|-\n\n"
                 "Recompute a block's hash, transactionsRoot, transaction hashes and senders and\n"
                 "withdrawalsRoot from its fields (a JSON-RPC eth_getBlockByNumber(n, true) answer)\n"
                 "and print a JSON report with one entry per check.\n\n"
                 "  --allow-gaps  accept fork fields without the ones before them (anvil writes\n"
                 "                blobGasUsed/excessBlobGas into pre-Cancun blocks) and hash them as given\n\n"
                 "Examples:\n"
                 "  gpuledger verify block block.json\n"
                 "  cast rpc eth_getBlockByNumber latest true | gpuledger verify block -\n\n"
                 "Exit status: 0 all match, 1 something differs, 2 unreadable input.\n");
}

static json_t *load(const char *path)
{
    json_error_t jerr;
    json_t *doc = !strcmp(path, "-") ? json_loadf(stdin, JSON_REJECT_DUPLICATES, &jerr)
                                     : json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
    const char *name = !strcmp(path, "-") ? "<stdin>" : path;
    if (!doc && jerr.line > 0)
        fprintf(stderr, "gpuledger verify: cannot read '%s': %s (line %d, column %d)\n", name, jerr.text,
                jerr.line, jerr.column);
    else if (!doc)
        fprintf(stderr, "gpuledger verify: cannot read '%s': %s\n", name, jerr.text);
    return doc;
}

static int verify_block(const char *path, unsigned flags)
{
    json_t *doc = load(path);
    if (!doc)
        return 2;
    gl_err err = {0};
    gl_secp *secp = gl_secp_new(&err);
    if (!secp) {
        fprintf(stderr, "gpuledger verify: %s\n", err.msg);
        json_decref(doc);
        return 2;
    }
    gl_block_report rep;
    gl_block_report_init(&rep);
    int status = 2;
    if (gl_block_verify_ex(secp, doc, flags, &rep, &err)) {
        fprintf(stderr, "gpuledger verify: '%s' is not a block: %s\n", path, err.msg);
        if (strstr(err.msg, "earlier fork field"))
            fprintf(stderr, "gpuledger verify: (anvil writes such headers; --allow-gaps hashes the fields "
                            "present)\n");
    } else {
        json_t *out = gl_block_report_to_json(&rep, &err);
        if (!out || json_dumpf(out, stdout, JSON_INDENT(2)) || fputc('\n', stdout) == EOF) {
            fprintf(stderr, "gpuledger verify: cannot write the report: %s\n", out ? "write error" : err.msg);
        } else {
            status = rep.mismatched ? 1 : 0;
            fprintf(stderr, "block %llu: %zu matched, %zu mismatched, %zu not checked\n",
                    (unsigned long long)rep.header.number, rep.matched, rep.mismatched, rep.not_checked);
        }
        json_decref(out);
    }
    if (fflush(stdout) == EOF && status != 2) {
        fprintf(stderr, "gpuledger verify: cannot write the report\n");
        status = 2;
    }
    gl_block_report_release(&rep);
    gl_secp_free(secp);
    json_decref(doc);
    return status;
}

int cmd_verify(int argc, char **argv)
{
    if (argc >= 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
        usage(stdout);
        return 0;
    }
    if (argc < 2 || strcmp(argv[1], "block")) {
        if (argc >= 2)
            fprintf(stderr, "gpuledger verify: '%s' is not something to verify (only 'block')\n", argv[1]);
        usage(stderr);
        return 2;
    }
    unsigned flags = 0;
    static const struct option opts[] = {
        {"allow-gaps", no_argument, 0, 'g'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    int c;
    cli_opt_reset();
    while ((c = getopt_long(argc - 1, argv + 1, ":h", opts, NULL)) != -1) {
        if (c == 'g')
            flags |= GL_BLOCK_FORK_GAPS;
        else if (c == 'h') {
            usage(stdout);
            return 0;
        } else
            return cli_opt_error("verify block", c, argv + 1);
    }
    int i = 1 + optind;
    if (i != argc - 1) {
        fprintf(stderr, "gpuledger verify: %s\n", i == argc ? "no FILE given" : "only one FILE at a time");
        usage(stderr);
        return 2;
    }
    return verify_block(argv[i], flags);
}
