/* cmd_abi.c - `gpuledger abi`: signatures, topics, decoding and encoding.
 *
 *   gpuledger abi topic SIG          topic0 (keccak-256 of the canonical form)
 *   gpuledger abi selector SIG       4-byte function selector
 *   gpuledger abi signature SIG      the canonical form
 *   gpuledger abi decode SIG [--topics T0,T1,..] [--data HEX]
 *                                    decode an event log; SIG is a
 *                                    human-readable event with `indexed`
 *                                    markers (and `anonymous` if it is)
 *   gpuledger abi decode --params TYPES HEX
 *                                    decode a parameter list (return data)
 *   gpuledger abi decode --function SIG CALLDATA
 *                                    check the selector, decode the inputs
 *   gpuledger abi encode SIG ARG...  calldata: selector + encoded ARGs
 *   gpuledger abi encode --params TYPES ARG...
 *                                    the encoded ARGs alone
 *
 * SIG is "Transfer(address,address,uint256)" or a declaration such as
 * "event Transfer(address indexed from, address indexed to, uint256 value)".
 * TYPES is "(uint256,string)" or "uint256,string".  ARGs are written as for
 * foundry's cast: 123, -5, 0xabc.., true, text, [1,2], (1,0xab..), with
 * double quotes around elements that hold commas or brackets; --json takes
 * one JSON array of all the arguments instead (the forms of abi.h).  HEX
 * may be "-" to read it from stdin.
 *
 * Decoders print JSON (indented; --compact for one line).  Trailing bytes
 * after an encoding are an error unless --allow-trailing.  Any error exits
 * with status 2 and one line on stderr.
 */
#include <ctype.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpuledger/abi.h"
#include "gpuledger/bytes.h"

#include "cli.h"
#include "commands.h"

static void abi_usage(FILE *out)
{
    fprintf(out,
            "usage: gpuledger abi topic SIG\n"
            "       gpuledger abi selector SIG\n"
            "       gpuledger abi signature SIG\n"
            "       gpuledger abi decode SIG [--topics T0,T1,...] [--data HEX]\n"
            "       gpuledger abi decode --params TYPES HEX\n"
            "       gpuledger abi decode --function SIG CALLDATA\n"
            "       gpuledger abi encode SIG ARG... | --json SIG JSON-ARRAY\n"
            "       gpuledger abi encode --params TYPES ARG... | --json --params TYPES JSON-ARRAY\n"
            "options: --allow-trailing (decode: accept bytes after the encoding), --compact\n"
            "SIG: \"Transfer(address,address,uint256)\" or\n"
            "     \"event Transfer(address indexed from, address indexed to, uint256 value)\"\n"
            "HEX: 0x-prefixed hex, or '-' to read it from stdin\n\n"
            "Examples:\n"
            "  gpuledger abi topic 'Transfer(address,address,uint256)'\n"
            "  gpuledger abi encode 'transfer(address,uint256)' 0x5c69bee701ef814a2b6a3edd4b1652cb9cc5aa6f 1000\n"
            "  gpuledger abi decode --params '(uint256,string)' 0x...\n\n"
            "Exit status: 0 done, 2 bad input (one line on stderr says why).\n");
}

static int fail(const char *what, const gl_err *err)
{
    fprintf(stderr, "gpuledger abi: %s: %s\n", what, err->msg);
    return 2;
}

/* ---- input helpers ---- */

/* Hex from the argument, or from stdin for "-"; whitespace around it is
 * ignored.  Returns 0, or 2 after printing why. */
static int read_hex(const char *arg, const char *what, gl_buf *out)
{
    gl_err err;
    gl_buf text = GL_BUF_INIT;
    const char *s = arg;
    if (!strcmp(arg, "-")) {
        char chunk[65536];
        size_t n;
        while ((n = fread(chunk, 1, sizeof chunk, stdin)) > 0)
            if (gl_buf_append(&text, chunk, n, NULL)) {
                gl_buf_release(&text);
                fprintf(stderr, "gpuledger abi: out of memory reading stdin\n");
                return 2;
            }
        if (ferror(stdin) || gl_buf_push(&text, 0, NULL)) {
            gl_buf_release(&text);
            fprintf(stderr, "gpuledger abi: cannot read stdin\n");
            return 2;
        }
        s = (const char *)text.data;
    }
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1]))
        n--;
    int rc = 0;
    char *copy = strndup(s, n);
    if (!copy) {
        fprintf(stderr, "gpuledger abi: out of memory\n");
        rc = 2;
    } else if (gl_hex_decode_buf(copy, out, &err)) {
        fprintf(stderr, "gpuledger abi: %s: %s\n", what, err.msg);
        rc = 2;
    }
    free(copy);
    gl_buf_release(&text);
    return rc;
}

/* A parameter list: "(a,b)", "()", "a,b", or a single type "a[]". */
static gl_code parse_params(gl_abi_type **out, const char *s, gl_err *err)
{
    size_t n = strlen(s);
    char *full = malloc(n + 4);
    gl_abi_sig sig;
    gl_code rc;
    *out = NULL;
    if (!full)
        return gl_err_set(err, GL_ENOMEM, "out of memory");
    snprintf(full, n + 4, "f%s", s);
    rc = gl_abi_sig_parse(&sig, full, NULL);
    if (rc) {
        snprintf(full, n + 4, "f(%s)", s);
        rc = gl_abi_sig_parse(&sig, full, err);
    }
    free(full);
    if (rc)
        return rc;
    *out = sig.inputs;
    sig.inputs = NULL;
    gl_abi_sig_release(&sig);
    return GL_OK;
}

static int print_json(json_t *v, bool compact)
{
    char *s = json_dumps(v, (compact ? JSON_COMPACT : JSON_INDENT(2)) | JSON_ENCODE_ANY);
    if (!s) {
        fprintf(stderr, "gpuledger abi: out of memory printing JSON\n");
        return 2;
    }
    printf("%s\n", s);
    free(s);
    return 0;
}

/* ---- topic / selector / signature ---- */

static int abi_sigcmd(const char *cmd, int argc, char **argv)
{
    gl_abi_sig sig;
    gl_err err;
    char hex[67];
    if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
        abi_usage(stdout);
        return 0;
    }
    if (argc != 2) {
        abi_usage(stderr);
        return 2;
    }
    if (gl_abi_sig_parse(&sig, argv[1], &err))
        return fail("bad signature", &err);
    if (!strcmp(cmd, "topic"))
        printf("%s\n", gl_hex_encode(sig.hash, 32, true, hex));
    else if (!strcmp(cmd, "selector"))
        printf("%s\n", gl_hex_encode(sig.hash, 4, true, hex));
    else
        printf("%s\n", sig.canonical);
    gl_abi_sig_release(&sig);
    return 0;
}

/* ---- decode ---- */

typedef struct decode_args {
    const char *sig, *params, *function, *topics, *data, *hex;
    bool allow_trailing, compact;
} decode_args;

static int parse_topics(const char *list, uint8_t (**topics)[32], size_t *n)
{
    gl_err err;
    *topics = NULL;
    *n = 0;
    size_t cap = 1;
    for (const char *p = list; *p; p++)
        cap += *p == ',';
    *topics = calloc(cap, 32);
    if (!*topics) {
        fprintf(stderr, "gpuledger abi: out of memory\n");
        return 2;
    }
    const char *p = list;
    while (*p) {
        while (isspace((unsigned char)*p))
            p++;
        const char *e = p;
        while (*e && *e != ',')
            e++;
        size_t len = (size_t)(e - p);
        while (len && isspace((unsigned char)p[len - 1]))
            len--;
        char *one = strndup(p, len);
        if (!one || gl_hex_decode_exact(one, (*topics)[*n], 32, &err)) {
            fprintf(stderr, "gpuledger abi: topic %zu '%s': %s\n", *n, one ? one : "",
                    one ? err.msg : "out of memory");
            free(one);
            return 2;
        }
        free(one);
        (*n)++;
        p = *e ? e + 1 : e;
    }
    return 0;
}

static int abi_decode(int argc, char **argv)
{
    decode_args a = {0};
    static const struct option opts[] = {
        {"params", required_argument, 0, 'p'}, {"function", required_argument, 0, 'f'},
        {"topics", required_argument, 0, 't'}, {"data", required_argument, 0, 'd'},
        {"allow-trailing", no_argument, 0, 'a'}, {"compact", no_argument, 0, 'c'},
        {"help", no_argument, 0, 'h'},         {0, 0, 0, 0}};
    int c;
    cli_opt_reset();
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case 'p': a.params = optarg; break;
        case 'f': a.function = optarg; break;
        case 't': a.topics = optarg; break;
        case 'd': a.data = optarg; break;
        case 'a': a.allow_trailing = true; break;
        case 'c': a.compact = true; break;
        case 'h': abi_usage(stdout); return 0;
        default: return cli_opt_error("abi decode", c, argv);
        }
    }
    for (int i = optind; i < argc; i++) {
        if (!a.sig && !a.params && !a.function)
            a.sig = argv[i];
        else if (!a.hex)
            a.hex = argv[i];
        else {
            fprintf(stderr, "gpuledger abi decode: unexpected argument '%s'\n", argv[i]);
            return 2;
        }
    }
    /* with --params/--function the positional argument is the hex */
    if ((a.params || a.function) && a.sig && !a.hex) {
        a.hex = a.sig;
        a.sig = NULL;
    }
    unsigned flags = a.allow_trailing ? GL_ABI_ALLOW_TRAILING : 0;
    gl_err err;
    gl_buf data = GL_BUF_INIT;
    json_t *out = NULL;
    int rc = 0;
    if ((a.params != NULL) + (a.function != NULL) + (a.sig != NULL) != 1) {
        abi_usage(stderr);
        return 2;
    }
    if (a.params || a.function) {
        if (!a.hex || a.topics || a.data) {
            abi_usage(stderr);
            return 2;
        }
        if ((rc = read_hex(a.hex, "data", &data)))
            return rc;
        const uint8_t *p = data.data ? data.data : (const uint8_t *)"";
        if (a.params) {
            gl_abi_type *t;
            if (parse_params(&t, a.params, &err))
                rc = fail("bad parameter types", &err);
            else {
                if (gl_abi_decode(&out, t, p, data.len, flags, &err))
                    rc = fail("cannot decode", &err);
                gl_abi_type_free(t);
            }
        } else {
            gl_abi_sig sig;
            if (gl_abi_sig_parse(&sig, a.function, &err)) {
                rc = fail("bad signature", &err);
            } else {
                if (gl_abi_decode_call(&out, &sig, p, data.len, flags, &err))
                    rc = fail("cannot decode", &err);
                gl_abi_sig_release(&sig);
            }
        }
    } else {
        gl_abi_sig sig;
        uint8_t (*topics)[32] = NULL;
        size_t ntopics = 0;
        if (a.hex) {
            fprintf(stderr, "gpuledger abi decode: unexpected argument '%s' (use --data)\n", a.hex);
            return 2;
        }
        if (gl_abi_sig_parse(&sig, a.sig, &err))
            return fail("bad signature", &err);
        if (sig.kind == GL_ABI_SIG_FUNCTION) {
            gl_abi_sig_release(&sig);
            fprintf(stderr, "gpuledger abi decode: '%s' is a function; use --function\n", a.sig);
            return 2;
        }
        rc = a.topics ? parse_topics(a.topics, &topics, &ntopics) : 0;
        if (!rc && a.data)
            rc = read_hex(a.data, "data", &data);
        if (!rc && gl_abi_decode_log(&out, &sig, (const uint8_t (*)[32])topics, ntopics,
                                     data.data ? data.data : (const uint8_t *)"", data.len, flags,
                                     &err))
            rc = fail("cannot decode", &err);
        if (!rc) {
            json_t *wrap = json_pack("{s:s, s:s, s:o}", "event", sig.name, "signature",
                                     sig.canonical, "args", out);
            out = wrap;
            if (!wrap) {
                fprintf(stderr, "gpuledger abi: out of memory\n");
                rc = 2;
            }
        }
        free(topics);
        gl_abi_sig_release(&sig);
    }
    gl_buf_release(&data);
    if (!rc)
        rc = print_json(out, a.compact);
    json_decref(out);
    return rc;
}

/* ---- encode ---- */

static int abi_encode(int argc, char **argv)
{
    const char *params = NULL, *sigtext = NULL;
    bool use_json = false;
    int first = argc;
    static const struct option opts[] = {
        {"params", required_argument, 0, 'p'}, {"json", no_argument, 0, 'j'}, {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0}};
    /* Options (--name) come before the first ARG: an ARG such as -5 is a
     * value, so getopt_long only sees the words that start with "--", in
     * order ('+': no permuting), and the first other word after SIG starts
     * the ARGs ("--" ends the options explicitly). */
    cli_opt_reset();
    for (;;) {
        int i = optind ? optind : 1;
        if (i >= argc)
            break;
        if (!strcmp(argv[i], "--")) {
            first = i + 1;
            break;
        }
        if (!strncmp(argv[i], "--", 2)) {
            int c = getopt_long(argc, argv, "+:", opts, NULL);
            if (c == 'p')
                params = optarg;
            else if (c == 'j')
                use_json = true;
            else if (c == 'h') {
                abi_usage(stdout);
                return 0;
            } else
                return cli_opt_error("abi encode", c, argv);
            continue;
        }
        if (params || sigtext) {
            first = i;
            break;
        }
        sigtext = argv[i];
        optind = i + 1;
    }
    if ((params != NULL) == (sigtext != NULL)) {
        abi_usage(stderr);
        return 2;
    }
    gl_err err;
    gl_abi_sig sig = {0};
    gl_abi_type *t = NULL;
    if (sigtext) {
        if (gl_abi_sig_parse(&sig, sigtext, &err))
            return fail("bad signature", &err);
        t = sig.inputs;
    } else if (parse_params(&t, params, &err)) {
        return fail("bad parameter types", &err);
    }
    int nargs = argc - first, rc = 0;
    json_t *args = NULL;
    if (use_json) {
        json_error_t jerr;
        if (nargs != 1) {
            fprintf(stderr, "gpuledger abi encode: --json takes exactly one JSON array\n");
            rc = 2;
        } else if (!(args = json_loads(argv[first], JSON_DECODE_ANY, &jerr))) {
            fprintf(stderr, "gpuledger abi encode: bad JSON: %s\n", jerr.text);
            rc = 2;
        }
    } else if ((size_t)nargs != t->ncomps) {
        fprintf(stderr, "gpuledger abi encode: %zu arguments expected, %d given\n", t->ncomps,
                nargs);
        rc = 2;
    } else if (!(args = json_array())) {
        rc = 2;
    } else {
        for (int i = 0; i < nargs && !rc; i++) {
            json_t *v;
            if (gl_abi_value_from_text(&v, t->comps[i].type, argv[first + i], &err)) {
                fprintf(stderr, "gpuledger abi encode: argument %d: %s\n", i + 1, err.msg);
                rc = 2;
            } else if (json_array_append_new(args, v)) {
                rc = 2;
            }
        }
    }
    gl_buf out = GL_BUF_INIT;
    if (!rc) {
        gl_code c = sigtext ? gl_abi_encode_call(&out, &sig, args, &err)
                            : gl_abi_encode(&out, t, args, &err);
        if (c)
            rc = fail("cannot encode", &err);
    }
    if (!rc) {
        char *hex = gl_hex_encode_alloc(out.data ? out.data : (const uint8_t *)"", out.len, true);
        if (!hex) {
            fprintf(stderr, "gpuledger abi: out of memory\n");
            rc = 2;
        } else {
            printf("%s\n", hex);
            free(hex);
        }
    }
    gl_buf_release(&out);
    json_decref(args);
    if (sigtext)
        gl_abi_sig_release(&sig);
    else
        gl_abi_type_free(t);
    return rc;
}

int cmd_abi(int argc, char **argv)
{
    if (argc < 2) {
        abi_usage(stderr);
        return 2;
    }
    const char *sub = argv[1];
    if (!strcmp(sub, "-h") || !strcmp(sub, "--help") || !strcmp(sub, "help")) {
        abi_usage(stdout);
        return 0;
    }
    if (!strcmp(sub, "topic") || !strcmp(sub, "selector") || !strcmp(sub, "signature"))
        return abi_sigcmd(sub, argc - 1, argv + 1);
    if (!strcmp(sub, "decode"))
        return abi_decode(argc - 1, argv + 1);
    if (!strcmp(sub, "encode"))
        return abi_encode(argc - 1, argv + 1);
    fprintf(stderr, "gpuledger abi: unknown subcommand '%s'\n", sub);
    abi_usage(stderr);
    return 2;
}
