/* cmd_keccak.c - `gpuledger keccak`: keccak-256 of bytes or text.
 *
 *   gpuledger keccak DATA     DATA starting with 0x is hex bytes ("0x" alone
 *                             is the empty string), anything else is hashed
 *                             as its text bytes
 *   gpuledger keccak -        the raw bytes of stdin
 *
 * Prints "0x" + 64 hex digits.  Bad hex (odd length, stray characters) or an
 * unreadable stdin exits with status 2 and a message on stderr.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "gpuledger/bytes.h"
#include "gpuledger/keccak.h"

#include "cli.h"
#include "commands.h"

static void keccak_usage(FILE *out)
{
    fprintf(out, "usage: gpuledger keccak [--] DATA|-\n"
                 "  keccak-256 of DATA: 0x-prefixed hex bytes, otherwise the text itself;\n"
                 "  '-' hashes the raw bytes of stdin; put -- before text that starts with '-'\n\n"
                 "Examples:\n"
                 "  gpuledger keccak 'Transfer(address,address,uint256)'\n"
                 "  gpuledger keccak 0x\n"
                 "  gpuledger keccak - < file.bin\n\n"
                 "Exit status: 0 printed, 2 bad hex, unreadable stdin or bad usage.\n");
}

int cmd_keccak(int argc, char **argv)
{
    uint8_t h[32];
    char hex[67];
    static const struct option opts[] = {{"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    int c;
    cli_opt_reset();
    /* '+': DATA ends the options, whatever follows */
    while ((c = getopt_long(argc, argv, "+:h", opts, NULL)) != -1) {
        if (c == 'h') {
            keccak_usage(stdout);
            return 0;
        }
        return cli_opt_error("keccak", c, argv);
    }
    if (optind != argc - 1) {
        keccak_usage(stderr);
        return 2;
    }
    const char *arg = argv[optind];
    if (!strcmp(arg, "-")) {
        gl_keccak k;
        uint8_t chunk[65536];
        size_t n;
        gl_keccak_init(&k);
        while ((n = fread(chunk, 1, sizeof chunk, stdin)) > 0)
            gl_keccak_update(&k, chunk, n);
        if (ferror(stdin)) {
            fprintf(stderr, "gpuledger keccak: cannot read stdin\n");
            return 2;
        }
        gl_keccak_final(&k, h);
    } else if (arg[0] == '0' && (arg[1] == 'x' || arg[1] == 'X')) {
        gl_buf b = GL_BUF_INIT;
        gl_err err;
        if (gl_hex_decode_buf(arg, &b, &err)) {
            fprintf(stderr, "gpuledger keccak: '%s': %s\n", arg, err.msg);
            gl_buf_release(&b);
            return 2;
        }
        gl_keccak256(b.data ? b.data : (const uint8_t *)"", b.len, h);
        gl_buf_release(&b);
    } else {
        gl_keccak256(arg, strlen(arg), h);
    }
    printf("%s\n", gl_hex_encode(h, 32, true, hex));
    return 0;
}
