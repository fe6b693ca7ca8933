/* cmd_market.c - the market measures: `volume`, `exposure`, `providers`,
 * `concentration` (docs/VOLUME.md).
 *
 * Each opens the store read-only, loads the graph (graph.h) with the
 * definitions the store keeps (else a built-in of that name), builds the
 * market context (market.h: stored marks and entities, token symbols, GPU
 * table) and prints.  Data to stdout, notes (what the figures cannot know)
 * to stderr.
 * Exit status: 0 printed, 2 bad usage, a bad price file or an unreadable store.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "gpuledger/gpu_models.h"
#include "gpuledger/graph.h"
#include "gpuledger/market.h"
#include "gpuledger/platform.h"
#include "gpuledger/prices.h"
#include "gpuledger/volume.h"

/* Everything a market command reads. */
typedef struct session {
    gl_store *s;
    gl_market_defs *d;
    gl_graph *g;
    gl_gpu_models *models;
    gl_market *m;
} session;

static void session_close(session *x)
{
    gl_market_free(x->m);
    gl_graph_free(x->g);
    gl_gpu_models_free(x->models);
    if (x->s)
        gl_store_close(x->s);
    gl_market_defs_free(x->d);
}

static int session_open(session *x, const char *cmd, const char *db, const char *gpus)
{
    memset(x, 0, sizeof *x);
    gl_err err = {0};
    gl_store_open_opts oo = {.read_only = true};
    if (!(x->s = gl_store_open(db, &oo, &err)))
        goto fail;
    if (!(x->d = gl_market_defs_new(x->s))) {
        gl_err_set(&err, GL_ENOMEM, "out of memory");
        goto fail;
    }
    if ((gpus ? gl_gpu_models_load_file(&x->models, gpus, &err) : gl_gpu_models_builtin(&x->models, &err)))
        goto fail;
    if (!(x->g = gl_graph_load(x->s, gl_market_def, x->d, &err)))
        goto fail;
    if (gl_market_load(&x->m, x->s, x->g, gl_market_def, x->d, x->models, &err))
        goto fail;
    size_t nmiss;
    const char *const *miss = gl_market_defs_missing(x->d, &nmiss);
    for (size_t i = 0; i < nmiss; i++)
        fprintf(stderr, "gpuledger %s: note: platform '%s' has no definition (stored or built-in): its events are "
                        "not counted\n", cmd, miss[i]);
    return 0;
fail:
    fprintf(stderr, "gpuledger %s: %s\n", cmd, err.msg);
    session_close(x);
    return 2;
}

typedef enum fmt { F_CSV, F_JSON, F_JSONL } fmt;

static int parse_fmt(const char *s, fmt *f)
{
    if (!strcmp(s, "csv"))
        *f = F_CSV;
    else if (!strcmp(s, "json"))
        *f = F_JSON;
    else if (!strcmp(s, "jsonl"))
        *f = F_JSONL;
    else
        return -1;
    return 0;
}

static void print_json(json_t *j, int flags)
{
    char *t = json_dumps(j, flags | JSON_SORT_KEYS);
    printf("%s\n", t ? t : "null");
    free(t);
}

/* One --prices argument ([TOKEN=]FILE) into *prices (made on first use).
 * Prints the error and returns 2 on failure. */
static int load_prices_arg(gl_prices **prices, const char *arg, const char *cmd)
{
    gl_err err = {0};
    if (!*prices && gl_prices_new(prices, &err)) {
        fprintf(stderr, "gpuledger %s: %s\n", cmd, err.msg);
        return 2;
    }
    char tok[64] = "";
    const char *path = arg, *eq = strchr(arg, '=');
    if (eq && (size_t)(eq - arg) < sizeof tok) {
        memcpy(tok, arg, (size_t)(eq - arg));
        tok[eq - arg] = 0;
        path = eq + 1;
    }
    if (gl_prices_load_file(*prices, path, tok[0] ? tok : NULL, &err)) {
        fprintf(stderr, "gpuledger %s: %s\n", cmd, err.msg);
        return 2;
    }
    return 0;
}

/* --------------------------------------------------------------- volume */

static void volume_usage(FILE *f)
{
    fprintf(f,
            "usage: gpuledger volume --db DIR [--by platform,day|week|month,model] [--prices [TOKEN=]FILE]...\n"
            "                        [--gpus FILE] [--format csv|json|jsonl] [--explain]\n\n"
            "Purchase volume per group and token: gross, self-dealing and circular amounts removed\n"
            "(from the stored analysis' marks), net, USD when prices are given, leases, buyers,\n"
            "providers, GPU-hours and price per GPU-hour percentiles (docs/VOLUME.md).\n\n"
            "  --by LIST      grouping words (default platform,day)\n"
            "  --prices F     CoinGecko daily export (TOKEN=FILE, or the token from the file name,\n"
            "                 glm-usd-max.csv: GLM) or date,token,usd CSV; repeatable\n"
            "  --gpus FILE    another GPU name table (default: the compiled-in fixtures/gpus.json)\n"
            "  --format F     csv (default), json (rows and notes), jsonl (a row per line)\n"
            "  --explain      list every purchase removed from gross: chain id, block, tx hash, log index\n\n"
            "Examples:\n"
            "  gpuledger volume --db store/ --by platform,day --format json\n"
            "  gpuledger volume --db store/ --by month,model --prices GLM=glm-usd-max.csv --prices prices.csv\n"
            "  gpuledger volume --db store/ --explain --format jsonl\n\n"
            "Exit status: 0 printed, 2 bad usage, a bad price file or an unreadable store.\n");
}

int cmd_volume(int argc, char **argv)
{
    static const struct option opts[] = {
        {"db", required_argument, 0, 'd'},     {"by", required_argument, 0, 'b'},
        {"prices", required_argument, 0, 'p'}, {"gpus", required_argument, 0, 'g'},
        {"format", required_argument, 0, 'f'}, {"explain", no_argument, 0, 'x'},
        {"help", no_argument, 0, 'h'},         {0, 0, 0, 0}};
    const char *db = NULL, *by_s = "platform,day", *gpus = NULL;
    fmt f = F_CSV;
    bool explain = false;
    gl_err err = {0};
    gl_prices *prices = NULL;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'd': db = optarg; break;
        case 'b': by_s = optarg; break;
        case 'g': gpus = optarg; break;
        case 'x': explain = true; break;
        case 'f':
            if (parse_fmt(optarg, &f)) {
                fprintf(stderr, "gpuledger volume: --format: csv, json or jsonl, not '%s'\n", optarg);
                gl_prices_free(prices);
                return 2;
            }
            break;
        case 'p':
            if (load_prices_arg(&prices, optarg, "volume")) {
                gl_prices_free(prices);
                return 2;
            }
            break;
        case 'h': volume_usage(stdout); gl_prices_free(prices); return 0;
        default: volume_usage(stderr); gl_prices_free(prices); return 2;
        }
    }
    unsigned by;
    if (!db || optind != argc) {
        volume_usage(stderr);
        gl_prices_free(prices);
        return 2;
    }
    if (gl_volume_parse_by(by_s, &by, &err)) {
        fprintf(stderr, "gpuledger volume: %s\n", err.msg);
        gl_prices_free(prices);
        return 2;
    }
    session x;
    if (session_open(&x, "volume", db, gpus)) {
        gl_prices_free(prices);
        return 2;
    }
    gl_volume *v = NULL;
    int status = 0;
    if (gl_volume_compute(&v, x.m, by, prices, &err)) {
        fprintf(stderr, "gpuledger volume: %s\n", err.msg);
        status = 2;
    } else {
        for (size_t i = 0; i < json_array_size(v->notes); i++)
            fprintf(stderr, "gpuledger volume: note: %s\n", json_string_value(json_array_get(v->notes, i)));
        if (f == F_CSV) {
            gl_volume_csv_header(stdout, explain);
            for (size_t i = 0; i < v->n_rows; i++)
                gl_volume_csv_row(stdout, x.m, &v->rows[i], explain);
        } else if (f == F_JSONL) {
            for (size_t i = 0; i < v->n_rows; i++) {
                json_t *o = gl_volume_row_json(x.m, &v->rows[i], explain);
                print_json(o, JSON_COMPACT);
                json_decref(o);
            }
        } else {
            json_t *rows = json_array();
            for (size_t i = 0; i < v->n_rows; i++)
                json_array_append_new(rows, gl_volume_row_json(x.m, &v->rows[i], explain));
            json_t *o = json_pack("{s:s,s:O,s:o}", "by", by_s, "notes", v->notes, "rows", rows);
            print_json(o, JSON_INDENT(1));
            json_decref(o);
        }
    }
    gl_volume_free(v);
    gl_prices_free(prices);
    session_close(&x);
    return status;
}

/* ------------------------------------------------------ the other three */

/* The options the market commands share; cls and prices are NULL where the
 * command takes no --class or --prices.  0: go on, 1: help printed, 2: bad
 * usage (printed).  *prices is the caller's to free either way. */
static int simple_opts(int argc, char **argv, const char *cmd, const char *usage, const char **db, const char **gpus,
                       fmt *f, const char **cls, gl_prices **prices)
{
    static const struct option opts[] = {
        {"db", required_argument, 0, 'd'},     {"gpus", required_argument, 0, 'g'},
        {"format", required_argument, 0, 'f'}, {"class", required_argument, 0, 'c'},
        {"prices", required_argument, 0, 'p'}, {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0}};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'd': *db = optarg; break;
        case 'g': *gpus = optarg; break;
        case 'c':
            if (!cls) {
                fprintf(stderr, "%s", usage);
                return 2;
            }
            *cls = optarg;
            break;
        case 'p':
            if (!prices) {
                fprintf(stderr, "%s", usage);
                return 2;
            }
            if (load_prices_arg(prices, optarg, cmd))
                return 2;
            break;
        case 'f':
            if (parse_fmt(optarg, f)) {
                fprintf(stderr, "gpuledger %s: --format: csv, json or jsonl, not '%s'\n", cmd, optarg);
                return 2;
            }
            break;
        case 'h': printf("%s", usage); return 1;
        default: fprintf(stderr, "%s", usage); return 2;
        }
    }
    if (!*db || optind != argc) {
        fprintf(stderr, "%s", usage);
        return 2;
    }
    return 0;
}

static void print_records(json_t *arr, fmt f, const char *const *cols)
{
    if (f == F_JSON) {
        print_json(arr, JSON_INDENT(1));
        return;
    }
    if (f == F_JSONL) {
        for (size_t i = 0; i < json_array_size(arr); i++)
            print_json(json_array_get(arr, i), JSON_COMPACT);
        return;
    }
    for (size_t k = 0; cols[k]; k++)
        printf("%s%s", k ? "," : "", cols[k]);
    putchar('\n');
    for (size_t i = 0; i < json_array_size(arr); i++) {
        json_t *r = json_array_get(arr, i);
        for (size_t k = 0; cols[k]; k++) {
            json_t *v = json_object_get(r, cols[k]);
            if (k)
                putchar(',');
            if (json_is_string(v))
                fputs(json_string_value(v), stdout);
            else if (json_is_integer(v))
                printf("%lld", (long long)json_integer_value(v));
            else if (json_is_boolean(v))
                fputs(json_is_true(v) ? "true" : "false", stdout);
            else if (json_is_array(v))
                printf("%zu", json_array_size(v));
            else if (json_is_object(v)) {
                const char *key;
                json_t *x;
                bool first = true;
                json_object_foreach(v, key, x) {
                    printf("%s%s=%s", first ? "" : ";", key,
                           json_is_object(x) ? json_string_value(json_object_get(x, "amount")) : "");
                    first = false;
                }
            }
        }
        putchar('\n');
    }
}

int cmd_exposure(int argc, char **argv)
{
    static const char usage[] =
        "usage: gpuledger exposure --db DIR [--gpus FILE] [--format json|jsonl|csv]\n\n"
        "GPU-hours and spend on export-controlled GPU classes (fixtures/gpus.json) per buyer entity,\n"
        "entities with a flagged wallet or named as a flagged wallet's beneficiary first, with the\n"
        "leases behind each figure (chain id, block, tx, log index).  docs/VOLUME.md.\n\n"
        "Example: gpuledger exposure --db store/ --format json\n"
        "Exit status: 0 printed, 2 bad usage or an unreadable store.\n";
    const char *db = NULL, *gpus = NULL;
    fmt f = F_JSON;
    int r = simple_opts(argc, argv, "exposure", usage, &db, &gpus, &f, NULL, NULL);
    if (r)
        return r == 1 ? 0 : 2;
    session x;
    if (session_open(&x, "exposure", db, gpus))
        return 2;
    if (!x.m->analysed)
        fprintf(stderr, "gpuledger exposure: note: no analysis in this store: per wallet, nothing flagged\n");
    json_t *out = NULL;
    gl_err err = {0};
    int status = 0;
    if (gl_exposure_run(&out, x.s, x.m, &err)) {
        fprintf(stderr, "gpuledger exposure: %s\n", err.msg);
        status = 2;
    } else {
        static const char *const cols[] = {"entity", "wallet", "flagged", "flagged_wallets", "beneficiary_of",
                                           "controlled_gpu_hours", "leases_without_gpu_hours", "spend", "leases", NULL};
        print_records(out, f, cols);
    }
    json_decref(out);
    session_close(&x);
    return status;
}

int cmd_providers(int argc, char **argv)
{
    static const char usage[] =
        "usage: gpuledger providers --db DIR [--gpus FILE] [--prices [TOKEN=]FILE]... [--format json|jsonl|csv]\n\n"
        "Each provider entity's claims against the chain: GPUs listed in offers against the most\n"
        "GPUs leased at once (oversold: capacity sold twice or not there), price per GPU-hour\n"
        "against the other providers' of the model (under 0.6 of their median and set apart\n"
        "from the model's dearer sellers by a step of 1/0.6: priced like another model, a\n"
        "relabelled card), and payout sweeps to one collector (provider_sweep links); each\n"
        "finding with the events behind it (JSON).  Prices are compared within a token, or in\n"
        "USD across tokens where --prices has the lease's day (files as for `volume`).\n"
        "docs/VOLUME.md.\n\n"
        "Example: gpuledger providers --db store/ --format csv\n"
        "         gpuledger providers --db store/ --prices ETH=eth-usd-max.csv --prices prices.csv\n"
        "Exit status: 0 printed, 2 bad usage, an unreadable price file or an unreadable store.\n";
    const char *db = NULL, *gpus = NULL;
    fmt f = F_JSON;
    gl_prices *prices = NULL;
    int r = simple_opts(argc, argv, "providers", usage, &db, &gpus, &f, NULL, &prices);
    session x;
    if (r || session_open(&x, "providers", db, gpus)) {
        gl_prices_free(prices);
        return r == 1 ? 0 : 2;
    }
    json_t *out = NULL;
    gl_err err = {0};
    int status = 0;
    if (gl_providers_run(&out, x.s, x.m, gl_market_def, x.d, prices, &err)) {
        fprintf(stderr, "gpuledger providers: %s\n", err.msg);
        status = 2;
    } else {
        static const char *const cols[] = {"entity", "wallet", "leases", "offers", "gpus_listed",
                                           "max_gpus_leased_at_once", "max_at", "oversold", "priced_below_model",
                                           "sweep_links", NULL};
        print_records(out, f, cols);
    }
    json_decref(out);
    gl_prices_free(prices);
    session_close(&x);
    return status;
}

int cmd_concentration(int argc, char **argv)
{
    static const char usage[] =
        "usage: gpuledger concentration --db DIR [--class FAMILY] [--gpus FILE] [--format csv|jsonl]\n\n"
        "Concurrent GPUs held per buyer entity over time, by model family (H100, A100, ...): one\n"
        "point at every change, CSV time,entity,class,gpus (time: unix seconds) for any plotting tool.\n\n"
        "Example: gpuledger concentration --db store/ --class H100 > h100.csv\n"
        "Exit status: 0 printed, 2 bad usage or an unreadable store.\n";
    const char *db = NULL, *gpus = NULL, *cls = NULL;
    fmt f = F_CSV;
    int r = simple_opts(argc, argv, "concentration", usage, &db, &gpus, &f, &cls, NULL);
    if (r)
        return r == 1 ? 0 : 2;
    session x;
    if (session_open(&x, "concentration", db, gpus))
        return 2;
    gl_conc_point *pts = NULL;
    size_t n = 0, skipped = 0;
    gl_err err = {0};
    int status = 0;
    if (gl_concentration_run(&pts, &n, &skipped, x.m, cls, &err)) {
        fprintf(stderr, "gpuledger concentration: %s\n", err.msg);
        status = 2;
    } else {
        if (skipped)
            fprintf(stderr, "gpuledger concentration: note: %zu leases without a GPU count or duration on chain are "
                            "left out\n", skipped);
        if (f == F_CSV)
            printf("time,entity,class,gpus\n");
        for (size_t i = 0; i < n; i++) {
            char ent[48], a[43];
            if (pts[i].wallet)
                snprintf(ent, sizeof ent, "%s", gl_addr_hex(x.g->nodes[pts[i].entity].addr, a));
            else
                snprintf(ent, sizeof ent, "%u", pts[i].entity);
            if (f == F_CSV)
                printf("%llu,%s,%s,%llu\n", (unsigned long long)pts[i].time, ent, pts[i].family,
                       (unsigned long long)pts[i].gpus);
            else
                printf("{\"time\":%llu,\"entity\":\"%s\",\"class\":\"%s\",\"gpus\":%llu}\n",
                       (unsigned long long)pts[i].time, ent, pts[i].family, (unsigned long long)pts[i].gpus);
        }
    }
    free(pts);
    session_close(&x);
    return status;
}
