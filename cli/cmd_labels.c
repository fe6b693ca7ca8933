/* cmd_labels.c - `gpuledger labels import|list`: address labels in the store.
 *
 *   labels import FILE... --db DIR [--format auto|csv|tagpack|ofac-csv|ofac-xml]
 *                 [--source TEXT] [--json]
 *   labels list --db DIR [--category C] [--format csv|json]
 *
 * import parses every file fully first and writes nothing unless all of
 * them are valid; then all their labels go into the store in one batch
 * (analyzer/labels_import.c, docs/LABELS.md).  It prints, per file, the
 * labels kept by category and what was skipped.  list prints the stored
 * labels as CSV in import's own format (so a list can be imported again)
 * or as one JSON array.
 * Exit status: 0 done, 2 bad usage, bad input or a store that cannot be
 * opened or written.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"
#include "commands.h"
#include "gpuledger/labels_import.h"
#include "gpuledger/store.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: gpuledger labels import FILE... --db DIR [--format F] [--source TEXT] [--json]\n"
            "       gpuledger labels list --db DIR [--category C] [--format csv|json]\n\n"
            "import: read address labels and store them (docs/LABELS.md).  Every file is\n"
            "checked fully first; on any error nothing is written.  Importing a file again\n"
            "replaces its labels (one label per address and source).\n"
            "  --db DIR       the store (created when missing)\n"
            "  --format F     auto (default: per file), csv, tagpack, ofac-csv, ofac-xml\n"
            "  --source TEXT  the source of every label, whatever the files say\n"
            "  --json         the summary as one JSON object\n\n"
            "list: the stored labels, as CSV (address,label,category,source,confidence,\n"
            "importable again) or a JSON array.\n"
            "  --db DIR       the store (opened read-only)\n"
            "  --category C   only this category (exchange, bridge, router, mixer, dex,\n"
            "                 contract, sanctioned, provider, platform, scam, other)\n"
            "  --format F     csv (default) or json\n\n"
            "Examples:\n"
            "  gpuledger labels import exchanges.csv sdn.xml --db store/\n"
            "  gpuledger labels list --db store/ --category sanctioned\n\n"
            "Exit status: 0 done, 2 bad usage, bad input or unusable store.\n");
}

/* "1", "0.9", "0.925", "0" from thousandths. */
static void conf_text(uint16_t c, char out[8])
{
    if (c >= 1000) {
        snprintf(out, 8, "1");
        return;
    }
    snprintf(out, 8, "0.%03u", (unsigned)c);
    size_t n = strlen(out);
    while (n > 1 && out[n - 1] == '0')
        out[--n] = 0;
    if (out[n - 1] == '.')
        out[--n] = 0;
}

/* An RFC 4180 field: quoted when it holds a comma, quote or line break. */
static void csv_put(FILE *f, const char *s)
{
    if (!strpbrk(s, ",\"\r\n")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

static json_t *summary_json(const char *file, const gl_labels_summary *s)
{
    json_t *by = json_object();
    for (int c = 0; c < GL_LABELS_NCAT; c++)
        if (s->by_category[c])
            json_object_set_new(by, gl_labels_category_name((gl_labels_category)c),
                                json_integer((json_int_t)s->by_category[c]));
    return json_pack("{s:s, s:s, s:I, s:o, s:I, s:I, s:I}", "file", file, "format",
                     gl_labels_format_name(s->format), "labels", (json_int_t)s->labels,
                     "by_category", by, "skipped_currency", (json_int_t)s->skipped_currency,
                     "skipped_no_address", (json_int_t)s->skipped_no_address, "duplicates",
                     (json_int_t)s->duplicates);
}

static void summary_text(const char *file, const gl_labels_summary *s)
{
    printf("%s (%s): %" PRIu64 " labels", file, gl_labels_format_name(s->format), s->labels);
    const char *sep = " (";
    for (int c = 0; c < GL_LABELS_NCAT; c++)
        if (s->by_category[c]) {
            printf("%s%s %" PRIu64, sep, gl_labels_category_name((gl_labels_category)c),
                   s->by_category[c]);
            sep = ", ";
        }
    if (s->labels)
        printf(")");
    printf("; skipped: %" PRIu64 " other currencies", s->skipped_currency);
    if (s->skipped_no_address)
        printf(", %" PRIu64 " without an address", s->skipped_no_address);
    if (s->duplicates)
        printf(", %" PRIu64 " duplicates", s->duplicates);
    printf("\n");
}

static int do_import(int argc, char **argv)
{
    const char *db = NULL;
    bool json = false;
    gl_labels_format fmt = GL_LABELS_FMT_AUTO;
    gl_labels_opts o = {0};
    gl_err err = {0};
    const char **files = calloc((size_t)argc + 1, sizeof *files);
    size_t nfiles = 0;
    if (!files) {
        fprintf(stderr, "gpuledger labels: out of memory\n");
        return 2;
    }
    int rcode = 2;
    static const struct option opts[] = {
        {"db", required_argument, 0, 'd'},   {"source", required_argument, 0, 's'},
        {"format", required_argument, 0, 'f'}, {"json", no_argument, 0, 'j'},
        {"help", no_argument, 0, 'h'},       {0, 0, 0, 0}};
    int c;
    cli_opt_reset();
    /* argv[1] is "import": options and files after it, in any order */
    while ((c = getopt_long(argc - 1, argv + 1, ":h", opts, NULL)) != -1) {
        if (c == 'h') {
            usage(stdout);
            rcode = 0;
            goto out;
        } else if (c == 'j') {
            json = true;
        } else if (c == 'd') {
            db = optarg;
        } else if (c == 's') {
            o.source = optarg;
        } else if (c == 'f') {
            if (gl_labels_format_parse(optarg, &fmt, &err)) {
                fprintf(stderr, "gpuledger labels: %s\n", err.msg);
                goto out;
            }
        } else {
            rcode = cli_opt_error("labels import", c, argv + 1);
            goto out;
        }
    }
    for (int i = 1 + optind; i < argc; i++)
        files[nfiles++] = argv[i];
    if (!db || !nfiles) {
        fprintf(stderr, "gpuledger labels import: %s\n", !db ? "--db DIR is required" : "no FILE given");
        usage(stderr);
        goto out;
    }
    gl_labels_summary *sums = calloc(nfiles, sizeof *sums);
    if (!sums) {
        fprintf(stderr, "gpuledger labels: out of memory\n");
        goto out;
    }
    gl_store_open_opts so = {.create = true, .created_by = "gpuledger labels"};
    gl_store *s = gl_store_open(db, &so, &err);
    if (!s) {
        fprintf(stderr, "gpuledger labels import: %s\n", err.msg);
        free(sums);
        goto out;
    }
    gl_code rc = gl_labels_import(s, files, nfiles, fmt, &o, sums, &err);
    gl_store_close(s);
    if (rc) {
        fprintf(stderr, "gpuledger labels import: %s (nothing written)\n", err.msg);
        free(sums);
        goto out;
    }
    if (json) {
        json_t *arr = json_array();
        uint64_t total = 0;
        for (size_t i = 0; i < nfiles; i++) {
            json_array_append_new(arr, summary_json(files[i], &sums[i]));
            total += sums[i].labels;
        }
        json_t *root = json_pack("{s:s, s:I, s:o}", "store", db, "labels", (json_int_t)total,
                                 "files", arr);
        char *txt = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        if (txt)
            printf("%s\n", txt);
        free(txt);
        json_decref(root);
    } else {
        for (size_t i = 0; i < nfiles; i++)
            summary_text(files[i], &sums[i]);
    }
    free(sums);
    rcode = fflush(stdout) == 0 ? 0 : 2;
out:
    free(files);
    return rcode;
}

static int do_list(int argc, char **argv)
{
    const char *db = NULL, *category = NULL;
    bool json = false;
    gl_err err = {0};
    static const struct option opts[] = {
        {"db", required_argument, 0, 'd'}, {"category", required_argument, 0, 'c'},
        {"format", required_argument, 0, 'f'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    int c;
    cli_opt_reset();
    while ((c = getopt_long(argc - 1, argv + 1, ":h", opts, NULL)) != -1) {
        const char *v = optarg;
        if (c == 'h') {
            usage(stdout);
            return 0;
        } else if (c == 'd') {
            db = v;
        } else if (c == 'c') {
            gl_labels_category cat;
            if (gl_labels_category_parse(v, strlen(v), &cat, &err)) {
                fprintf(stderr, "gpuledger labels list: %s\n", err.msg);
                return 2;
            }
            category = gl_labels_category_name(cat);
        } else if (c == 'f') {
            if (strcmp(v, "csv") && strcmp(v, "json")) {
                fprintf(stderr, "gpuledger labels list: unknown format '%s' (csv, json)\n", v);
                return 2;
            }
            json = !strcmp(v, "json");
        } else {
            return cli_opt_error("labels list", c, argv + 1);
        }
    }
    if (1 + optind < argc) {
        fprintf(stderr, "gpuledger labels list: unexpected argument '%s'\n", argv[1 + optind]);
        usage(stderr);
        return 2;
    }
    if (!db) {
        fprintf(stderr, "gpuledger labels list: --db DIR is required\n");
        usage(stderr);
        return 2;
    }
    gl_store_open_opts so = {.read_only = true};
    gl_store *s = gl_store_open(db, &so, &err);
    if (!s) {
        fprintf(stderr, "gpuledger labels list: %s\n", err.msg);
        return 2;
    }
    gl_store_iter *it = gl_store_iter_labels(s, NULL, &err);
    gl_code rc = it ? GL_OK : (err.code ? err.code : GL_ENOMEM);
    if (!json)
        printf("address,label,category,source,confidence\n");
    else
        printf("[");
    bool end = false, first = true;
    uint64_t n = 0;
    while (!rc) {
        gl_store_label l;
        rc = gl_store_next_label(it, &l, &end, &err);
        if (rc || end)
            break;
        if (category && strcmp(l.category, category))
            continue;
        char addr[2 * GL_STORE_ADDR_LEN + 3], conf[8];
        gl_hex_encode(l.addr, GL_STORE_ADDR_LEN, true, addr);
        conf_text(l.confidence, conf);
        if (json) {
            json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:f}", "address", addr, "label", l.label,
                                  "category", l.category, "source", l.source, "confidence",
                                  l.confidence / 1000.0);
            char *txt = o ? json_dumps(o, JSON_PRESERVE_ORDER | JSON_COMPACT | JSON_REAL_PRECISION(3))
                          : NULL;
            printf("%s\n  %s", first ? "" : ",", txt ? txt : "null");
            free(txt);
            json_decref(o);
        } else {
            printf("%s,", addr);
            csv_put(stdout, l.label);
            printf(",%s,", l.category);
            csv_put(stdout, l.source);
            printf(",%s\n", conf);
        }
        first = false;
        n++;
    }
    if (json)
        printf("%s]\n", first ? "" : "\n");
    gl_store_iter_free(it);
    gl_store_close(s);
    if (rc) {
        fprintf(stderr, "gpuledger labels list: %s\n", err.msg);
        return 2;
    }
    if (fflush(stdout) != 0)
        return 2;
    fprintf(stderr, "%" PRIu64 " labels\n", n);
    return 0;
}

int cmd_labels(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "import"))
        return do_import(argc, argv);
    if (!strcmp(argv[1], "list"))
        return do_list(argc, argv);
    fprintf(stderr, "gpuledger labels: '%s' is not import or list\n", argv[1]);
    usage(stderr);
    return 2;
}
