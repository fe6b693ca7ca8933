/* cmd_tx.c - `gpuledger tx decode`: decode a signed transaction and print it.
 *
 *   gpuledger tx decode [--allow-high-s] HEX|@FILE|-
 *
 * The input is the signed envelope as hex (with or without 0x; whitespace
 * around it is ignored), given inline, read from FILE, or from stdin with
 * "-".  The network form of a blob transaction (with its sidecar) is also
 * accepted; the sidecar is dropped.  One JSON object goes to stdout (see
 * gl_tx_to_json): type, chain_id, nonce, fees, to, value, input, access and
 * authorization lists (with recovered authorities), signature, hash and the
 * recovered sender.  An invalid transaction exits with status 2 and a line
 * on stderr naming why.  --allow-high-s accepts s > n/2 on legacy txs, as
 * Frontier blocks (before Homestead) did.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpuledger/bytes.h"
#include "gpuledger/secp.h"
#include "gpuledger/tx.h"

#include "cli.h"
#include "commands.h"

static void tx_usage(FILE *out)
{
    fprintf(out, "usage: gpuledger tx decode [--allow-high-s] HEX|@FILE|-\n"
                 "  decode a signed transaction (legacy, EIP-2930, EIP-1559, EIP-4844, EIP-7702)\n"
                 "  and print it as JSON with its hash and recovered sender\n\n"
                 "  --allow-high-s  accept s > n/2 on a legacy transaction (Frontier, before Homestead)\n\n"
                 "Examples:\n"
                 "  gpuledger tx decode 0x02f8...\n"
                 "  gpuledger tx decode @signed.hex\n"
                 "  cast mktx ... | gpuledger tx decode -\n\n"
                 "Exit status: 0 decoded, 2 not a valid signed transaction (the reason on stderr).\n");
}

/* Read all of `f` into a NUL-terminated heap string; NULL on error. */
static char *slurp(FILE *f)
{
    gl_buf b = GL_BUF_INIT;
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        if (gl_buf_append(&b, chunk, n, NULL) != GL_OK) {
            gl_buf_release(&b);
            return NULL;
        }
    if (ferror(f) || gl_buf_push(&b, 0, NULL) != GL_OK) {
        gl_buf_release(&b);
        return NULL;
    }
    return (char *)b.data;
}

/* The argument's text: inline, @FILE or "-" for stdin.  NULL after printing
 * why. */
static char *read_input(const char *arg)
{
    if (!strcmp(arg, "-")) {
        char *s = slurp(stdin);
        if (!s)
            fprintf(stderr, "gpuledger tx: cannot read stdin\n");
        return s;
    }
    if (arg[0] == '@') {
        FILE *f = fopen(arg + 1, "rb");
        if (!f) {
            fprintf(stderr, "gpuledger tx: cannot open '%s': %s\n", arg + 1, strerror(errno));
            return NULL;
        }
        char *s = slurp(f);
        fclose(f);
        if (!s)
            fprintf(stderr, "gpuledger tx: cannot read '%s'\n", arg + 1);
        return s;
    }
    char *s = strdup(arg);
    if (!s)
        fprintf(stderr, "gpuledger tx: out of memory\n");
    return s;
}

/* Trim surrounding whitespace in place; returns the start. */
static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n > 0 && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    return s;
}

static int tx_decode(const char *arg, unsigned flags)
{
    char *text = read_input(arg);
    if (!text)
        return 2;
    gl_buf raw = GL_BUF_INIT;
    gl_err err;
    gl_err_clear(&err);
    int status = 2;
    gl_tx tx;
    gl_tx_init(&tx);
    gl_secp *ctx = NULL;
    char *hex = trim(text);
    if (!*hex) {
        fprintf(stderr, "gpuledger tx: empty input\n");
        goto out;
    }
    if (gl_hex_decode_buf(hex, &raw, &err) != GL_OK) {
        fprintf(stderr, "gpuledger tx: input is not hex: %s\n", err.msg);
        goto out;
    }
    gl_code rc = gl_tx_decode_pooled_ex(&tx, raw.data, raw.len, flags, &err);
    if (rc != GL_OK) {
        fprintf(stderr, "gpuledger tx: invalid transaction: %s\n", err.msg);
        status = rc == GL_ENOMEM ? 1 : 2;
        goto out;
    }
    if (!(ctx = gl_secp_new(&err))) {
        fprintf(stderr, "gpuledger tx: %s\n", err.msg);
        status = 1;
        goto out;
    }
    json_t *j = gl_tx_to_json(ctx, &tx, &err);
    if (!j) {
        fprintf(stderr, "gpuledger tx: invalid transaction: %s\n", err.msg);
        status = err.code == GL_ENOMEM ? 1 : 2;
        goto out;
    }
    if (json_dumpf(j, stdout, JSON_INDENT(2)) == 0 && fputc('\n', stdout) != EOF && fflush(stdout) == 0)
        status = 0;
    else {
        fprintf(stderr, "gpuledger tx: cannot write output\n");
        status = 1;
    }
    json_decref(j);
out:
    gl_secp_free(ctx);
    gl_tx_release(&tx);
    gl_buf_release(&raw);
    free(text);
    return status;
}

int cmd_tx(int argc, char **argv)
{
    if (argc >= 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help"))) {
        tx_usage(stdout);
        return 0;
    }
    if (argc < 2 || strcmp(argv[1], "decode") != 0) {
        tx_usage(stderr);
        return 2;
    }
    unsigned flags = 0;
    static const struct option opts[] = {
        {"allow-high-s", no_argument, 0, 's'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    int c;
    cli_opt_reset();
    while ((c = getopt_long(argc - 1, argv + 1, ":h", opts, NULL)) != -1) {
        if (c == 's')
            flags |= GL_TX_ALLOW_HIGH_S;
        else if (c == 'h') {
            tx_usage(stdout);
            return 0;
        } else
            return cli_opt_error("tx decode", c, argv + 1);
    }
    if (1 + optind != argc - 1) {
        tx_usage(stderr);
        return 2;
    }
    return tx_decode(argv[1 + optind], flags);
}
