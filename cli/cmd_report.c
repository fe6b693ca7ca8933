/* cmd_report.c - `gpuledger report --db DIR --out DIR`: one static HTML page
 * (OUT/report.html) of the store's figures, flags, fund flows, findings and
 * methods (report.h).  Opens the store read-only.
 *
 * Exit status: 0 written; 2 bad usage, no analysis, an unreadable store or
 * a page that cannot be written.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "commands.h"
#include "gpuledger/bytes.h"
#include "gpuledger/report.h"
#include "gpuledger/store.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: gpuledger report --db DIR --out DIR [--explorer CHAIN_ID=BASE_URL ...]\n"
            "       [--flows N] [--hops K] [--top N]\n\n"
            "One static, self-contained HTML page, OUT/report.html (no network: charts are inline\n"
            "SVG, tables sort and filter with a small inline script): volume per platform over\n"
            "time (gross against net), price per GPU-hour by model, concentration of GPUs per\n"
            "entity, top entities, the flagged proxy buyers with their evidence positions, the\n"
            "providers' claims (oversold capacity, relabelled cards) with their leases, fund-\n"
            "flow pictures around the top flagged wallets, the integrity findings (what endpoints\n"
            "lied about) and the methods with the parameters the analysis used.  The store must\n"
            "have been analysed (gpuledger analyze).\n\n"
            "  --explorer ID=URL  link positions on chain ID to URL/tx/HASH (repeatable); positions\n"
            "                     on chains without one are shown as text\n"
            "  --flows N          fund-flow pictures for the N highest-scored flagged wallets (5)\n"
            "  --hops K           hops around each, both directions (2; 1 to 4)\n"
            "  --top N            rows of the top-entities table (25)\n\n"
            "Open report.html#filter=TEXT to open it with the flags filtered (TEXT may be\n"
            "COLUMN:TEXT, e.g. typology:sponsor).\n\n"
            "Example: gpuledger report --db store/ --out out/ --explorer 42161=https://arbiscan.io\n"
            "Exit status: 0 written, 2 bad usage, no analysis, an unreadable store or a write error.\n");
}

static bool parse_count(const char *opt, const char *v, uint64_t lo, uint64_t hi, uint64_t *out)
{
    uint64_t x;
    if (!gl_dec_u64(v, strlen(v), &x) || x < lo || x > hi) {
        fprintf(stderr, "gpuledger report: %s must be a number from %llu to %llu, not '%s'\n", opt,
                (unsigned long long)lo, (unsigned long long)hi, v);
        return false;
    }
    *out = x;
    return true;
}

int cmd_report(int argc, char **argv)
{
    static const struct option opts[] = {
        {"db", required_argument, 0, 'd'},    {"out", required_argument, 0, 'o'},
        {"explorer", required_argument, 0, 'e'}, {"flows", required_argument, 0, 'f'},
        {"hops", required_argument, 0, 'k'},  {"top", required_argument, 0, 't'},
        {"help", no_argument, 0, 'h'},        {0, 0, 0, 0}};
    const char *db = NULL, *outdir = NULL;
    gl_report_explorer ex[GL_REPORT_EXPLORERS_MAX];
    gl_report_opts ro = {.explorers = ex};
    gl_err err = {0};
    uint64_t v;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'd': db = optarg; break;
        case 'o': outdir = optarg; break;
        case 'e':
            if (ro.n_explorers == GL_REPORT_EXPLORERS_MAX) {
                fprintf(stderr, "gpuledger report: at most %d --explorer options\n", GL_REPORT_EXPLORERS_MAX);
                return 2;
            }
            if (gl_report_parse_explorer(optarg, &ex[ro.n_explorers], &err)) {
                fprintf(stderr, "gpuledger report: --explorer: %s\n", err.msg);
                return 2;
            }
            ro.n_explorers++;
            break;
        case 'f':
            if (!parse_count("--flows", optarg, 1, 100, &v))
                return 2;
            ro.trace_top = (size_t)v;
            break;
        case 'k':
            if (!parse_count("--hops", optarg, 1, 4, &v))
                return 2;
            ro.trace_hops = (uint32_t)v;
            break;
        case 't':
            if (!parse_count("--top", optarg, 1, 100000, &v))
                return 2;
            ro.top_entities = (size_t)v;
            break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (!db || !outdir || optind != argc) {
        fprintf(stderr, "gpuledger report: --db DIR and --out DIR are required (see --help)\n");
        return 2;
    }
    if (mkdir(outdir, 0777) && errno != EEXIST) {
        fprintf(stderr, "gpuledger report: cannot create '%s': %s\n", outdir, strerror(errno));
        return 2;
    }
    gl_store_open_opts oo = {.read_only = true};
    gl_store *s = gl_store_open(db, &oo, &err);
    if (!s) {
        fprintf(stderr, "gpuledger report: %s\n", err.msg);
        return 2;
    }
    const char *base = strrchr(db, '/');
    ro.db_name = base && base[1] ? base + 1 : db;
    ro.generated = (uint64_t)time(NULL);
    gl_buf page = GL_BUF_INIT;
    gl_report_stats st;
    gl_code rc = gl_report_build(s, &ro, &page, &st, &err);
    gl_store_close(s);
    if (rc) {
        fprintf(stderr, "gpuledger report: %s\n", err.msg);
        gl_buf_release(&page);
        return 2;
    }
    size_t pl = strlen(outdir) + sizeof "/report.html";
    char *path = malloc(pl);
    int status = 0;
    FILE *f = path ? (snprintf(path, pl, "%s/report.html", outdir), fopen(path, "wb")) : NULL;
    if (!f || fwrite(page.data, 1, page.len, f) != page.len || fclose(f)) {
        fprintf(stderr, "gpuledger report: cannot write '%s/report.html'\n", outdir);
        status = 2;
    } else {
        if (st.stale)
            fprintf(stderr, "gpuledger report: warning: the store changed since it was analysed (said in the page)\n");
        fprintf(stderr,
                "gpuledger report: %zu flag(s), %zu entit%s, %zu provider finding(s), %zu fund-flow picture(s), %zu "
                "finding(s)%s\n",
                st.flags, st.entities, st.entities == 1 ? "y" : "ies", st.providers, st.pictures, st.findings,
                st.volume ? "" : "; volume: not available in this build");
        printf("%s\n", path);
    }
    free(path);
    gl_buf_release(&page);
    return status;
}
