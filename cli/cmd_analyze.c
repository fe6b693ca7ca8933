/* cmd_analyze.c - `gpuledger analyze`: entities and proxy flags into the store.
 *
 * Reads the whole store into a graph (graph.h), runs the analyzer's passes
 * (analysis.h) and replaces the store's analysis with the result in one
 * batch (results.h).  Event kinds come from the platform definitions: the
 * one the store keeps beside each platform's hash, else a --platform FILE of
 * that name, else the built-in of that name; a platform with none is
 * reported and its events are not used.
 * Exit status: 0 analysed, 2 bad usage or an unreadable store.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "commands.h"
#include "progress.h"
#include "gpuledger/analysis.h"
#include "gpuledger/graph.h"
#include "gpuledger/market.h"
#include "gpuledger/platform.h"
#include "gpuledger/results.h"
#include "gpuledger/store.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: gpuledger analyze --db DIR [--platform FILE]... [--hub-degree N] [--min-score X]\n"
            "                         [--json] [--quiet]\n\n"
            "Cluster the store's wallets into entities (hard links merged, soft links scored),\n"
            "score every buying wallet for proxy behaviour, and write both into the store,\n"
            "replacing any earlier analysis (docs/METHODS.md says how).\n\n"
            "  --db DIR          the store (read-write)\n"
            "  --platform FILE   a definition for a platform whose definition the store lacks\n"
            "  --hub-degree N    more distinct counterparties than N makes a service (default 25)\n"
            "  --min-score X     flag threshold (default 0.7)\n"
            "  --json            the summary as JSON\n"
            "  -q, --quiet       no progress on stderr\n\n"
            "Progress: phases load, analyze, write; a live line on a terminal (NO_COLOR: no colour),\n"
            "plain lines otherwise.\n\n"
            "Examples:\n"
            "  gpuledger analyze --db store/\n"
            "  gpuledger flags --db store/ --format csv\n\n"
            "Exit status: 0 analysed, 2 bad usage or a store failure.\n");
}

/* CPU seconds of this thread: on a shared machine the wall time of a phase
 * says as much about the neighbours as about the phase. */
static double thread_cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int cmd_analyze(int argc, char **argv)
{
    static const struct option opts[] = {
        {"db", required_argument, 0, 'd'},       {"platform", required_argument, 0, 'p'},
        {"hub-degree", required_argument, 0, 'H'}, {"min-score", required_argument, 0, 'm'},
        {"json", no_argument, 0, 'j'},           {"quiet", no_argument, 0, 'q'},
        {"help", no_argument, 0, 'h'},           {0, 0, 0, 0},
    };
    const char *db = NULL;
    bool as_json = false, quiet = false;
    const char *files[64];
    size_t n_files = 0;
    gl_analysis_params P;
    gl_analysis_params_default(&P);
    gl_err err = {0};
    int c, status = 2;
    cli_opt_reset();
    while ((c = getopt_long(argc, argv, ":hq", opts, NULL)) != -1) {
        switch (c) {
        case 'd': db = optarg; break;
        case 'p':
            if (n_files == sizeof files / sizeof *files) {
                fprintf(stderr, "gpuledger analyze: more than %zu --platform files\n", sizeof files / sizeof *files);
                return 2;
            }
            files[n_files++] = optarg;
            break;
        case 'H': P.hub_degree = (uint32_t)strtoul(optarg, NULL, 10); break;
        case 'm': P.flag_min_score = strtod(optarg, NULL); break;
        case 'j': as_json = true; break;
        case 'q': quiet = true; break;
        case 'h': usage(stdout); return 0;
        default: return cli_opt_error("analyze", c, argv);
        }
    }
    if (!db || optind != argc) {
        usage(stderr);
        return 2;
    }
    gl_store_open_opts oo = {0};
    gl_store *s = gl_store_open(db, &oo, &err);
    if (!s) {
        fprintf(stderr, "gpuledger analyze: %s\n", err.msg);
        return 2;
    }
    /* Definitions: the store's, else these files, else the built-ins. */
    gl_market_defs *d = gl_market_defs_new(s);
    if (!d)
        gl_err_set(&err, GL_ENOMEM, "out of memory");
    for (size_t i = 0; d && i < n_files; i++) {
        gl_platform *p;
        if (gl_platform_load_file(&p, files[i], &err) || gl_market_defs_add(d, p, &err)) {
            gl_market_defs_free(d);
            d = NULL;
        }
    }
    if (!d) {
        fprintf(stderr, "gpuledger analyze: %s\n", err.msg);
        gl_store_close(s);
        return 2;
    }
    cli_progress prog;
    cli_progress_init(&prog, "analyze", stderr, quiet);
    double t0 = now_s(), c0 = thread_cpu_s();
    cli_progress_note(&prog, "reading %s", db);
    cli_progress_phase(&prog, "load 1/3", 0, NULL);
    gl_graph *g = gl_graph_load(s, gl_market_def, d, &err);
    size_t n_missing;
    const char *const *missing_names = gl_market_defs_missing(d, &n_missing);
    gl_analysis *a = NULL;
    double t1 = now_s(), t2 = t1, c1 = thread_cpu_s(), c2 = c1;
    if (g) {
        cli_progress_end(&prog);
        cli_progress_note(&prog, "%u addresses, %zu transfers, %zu purchases read in %.2f s", g->n_nodes, g->n_edges,
                          g->n_purchases, t1 - t0);
        cli_progress_phase(&prog, "analyze 2/3", 0, NULL);
        a = gl_analysis_run(g, &P, &err);
        t2 = now_s();
        c2 = thread_cpu_s();
        if (a) {
            cli_progress_end(&prog);
            cli_progress_phase(&prog, "write 3/3", 0, NULL);
        }
    }
    if (a && gl_results_write(s, g, a, &err) == GL_OK) {
        double t3 = now_s(), c3 = thread_cpu_s();
        cli_progress_end(&prog);
        size_t flagged = 0;
        for (size_t i = 0; i < a->n_scores; i++)
            flagged += a->scores[i].flagged;
        size_t merged = 0;
        for (size_t i = 0; i < a->n_links; i++)
            merged += a->links[i].merged;
        json_t *missing = json_array();
        for (size_t i = 0; i < n_missing; i++)
            json_array_append_new(missing, json_string(missing_names[i]));
        json_t *sum = json_pack("{s:s,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:o,s:f,s:f,s:f,s:f,s:f,s:f}", "store", db,
                                "addresses", (json_int_t)g->n_nodes, "transfers", (json_int_t)g->n_edges,
                                "purchases", (json_int_t)g->n_purchases, "deposits", (json_int_t)g->n_deposits,
                                "untimed_transfers", (json_int_t)g->n_untimed_edges, "events_without_definition",
                                (json_int_t)g->n_unknown_kind, "links", (json_int_t)a->n_links, "links_merged",
                                (json_int_t)merged, "entities", (json_int_t)a->n_entities, "service_entities_with_market_wallets",
                                (json_int_t)a->merges_across_kinds, "flagged",
                                (json_int_t)flagged, "platforms_without_definition", missing, "load_s", t1 - t0,
                                "analyze_s", t2 - t1, "write_s", t3 - t2, "load_cpu_s", c1 - c0,
                                "analyze_cpu_s", c2 - c1, "write_cpu_s", c3 - c2);
        if (as_json) {
            char *txt = json_dumps(sum, JSON_INDENT(1) | JSON_SORT_KEYS);
            printf("%s\n", txt ? txt : "{}");
            free(txt);
        } else {
            printf("analysed %u addresses, %zu transfers, %zu purchases: %u entities, %zu links (%zu merged), "
                   "%zu of %zu buying wallets flagged\n",
                   g->n_nodes, g->n_edges, g->n_purchases, a->n_entities, a->n_links, merged, flagged,
                   a->n_scores);
            if (g->n_unknown_kind)
                printf("note: %llu events of platforms without a definition were not used:",
                       (unsigned long long)g->n_unknown_kind);
            for (size_t i = 0; i < n_missing; i++)
                printf(" %s", missing_names[i]);
            if (g->n_unknown_kind)
                printf(" (give --platform FILE)\n");
            if (a->merges_across_kinds)
                printf("note: %u entities hold a service's wallet (exchange, bridge, platform, token) beside a "
                       "buyer's or a provider's: check them with gpuledger entities (a merge through a service is "
                       "usually wrong; labels of the service's addresses prevent it)\n",
                       a->merges_across_kinds);
            if (g->n_untimed_edges)
                printf("note: %llu transfers have no stored block time; timing rules skip them\n",
                       (unsigned long long)g->n_untimed_edges);
            printf("next: gpuledger flags --db %s   |   gpuledger entities --db %s   |   gpuledger explain ADDR --db %s\n",
                   db, db, db);
        }
        json_decref(sum);
        status = 0;
    } else {
        cli_progress_clear(&prog);
        fprintf(stderr, "gpuledger analyze: %s\n", err.msg);
    }
    gl_analysis_free(a);
    gl_graph_free(g);
    gl_store_close(s);
    gl_market_defs_free(d);
    return status;
}
