/* cmd_findings.c - reading the stored analysis: `entities`, `flags`,
 * `explain ADDR` and `eval --truth FILE`.
 *
 * All open the store read-only and print what `gpuledger analyze` wrote
 * (results.h), warning on stderr when the store changed since (stale).
 * Formats: json (one array), jsonl (a record per line), csv (flattened:
 * lists joined with ';').
 * Exit status: 0 printed, 2 bad usage, no analysis, or an unreadable store.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "gpuledger/bytes.h"
#include "gpuledger/eval.h"
#include "gpuledger/results.h"
#include "gpuledger/store.h"

typedef enum fmt { F_JSON, F_JSONL, F_CSV } fmt;

static bool parse_fmt(const char *s, fmt *f)
{
    if (!strcmp(s, "json"))
        *f = F_JSON;
    else if (!strcmp(s, "jsonl"))
        *f = F_JSONL;
    else if (!strcmp(s, "csv"))
        *f = F_CSV;
    else
        return false;
    return true;
}

/* Open read-only and check there is a current analysis. */
static gl_store *open_analysed(const char *cmd, const char *db)
{
    gl_err err = {0};
    gl_store_open_opts oo = {.read_only = true};
    gl_store *s = gl_store_open(db, &oo, &err);
    if (!s) {
        fprintf(stderr, "gpuledger %s: %s\n", cmd, err.msg);
        return NULL;
    }
    bool found, stale;
    if (gl_results_status(s, &found, &stale, NULL, &err)) {
        fprintf(stderr, "gpuledger %s: %s\n", cmd, err.msg);
        gl_store_close(s);
        return NULL;
    }
    if (!found) {
        fprintf(stderr, "gpuledger %s: no analysis in this store: run gpuledger analyze --db %s\n", cmd, db);
        gl_store_close(s);
        return NULL;
    }
    if (stale)
        fprintf(stderr, "gpuledger %s: warning: the store changed since it was analysed; run gpuledger analyze --db %s "
                        "to bring the analysis up to date\n", cmd, db);
    return s;
}

static void csv_field(FILE *f, const char *s)
{
    if (!s)
        return;
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

typedef struct printer {
    fmt f;
    bool first;
    char which;
    double min_score;
    bool all;
    size_t n;
} printer;

static void print_entity_csv(json_t *e)
{
    char buf[64];
    snprintf(buf, sizeof buf, "%lld", (long long)json_integer_value(json_object_get(e, "id")));
    fputs(buf, stdout);
    putchar(',');
    csv_field(stdout, json_string_value(json_object_get(e, "kind")));
    putchar(',');
    csv_field(stdout, json_string_value(json_object_get(e, "label")));
    printf(",%lld,", (long long)json_integer_value(json_object_get(e, "size")));
    json_t *addrs = json_object_get(e, "addresses");
    for (size_t i = 0; i < json_array_size(addrs); i++)
        printf("%s%s", i ? ";" : "", json_string_value(json_array_get(addrs, i)));
    json_t *links = json_object_get(e, "links");
    size_t merged = 0;
    printf(",%zu,", json_array_size(links));
    for (size_t i = 0; i < json_array_size(links); i++) {
        json_t *l = json_array_get(links, i);
        merged += json_is_true(json_object_get(l, "merged"));
        printf("%s%s", i ? ";" : "", json_string_value(json_object_get(l, "rule")));
    }
    printf(",%zu\n", merged);
}

static void print_flag_csv(json_t *w)
{
    csv_field(stdout, json_string_value(json_object_get(w, "address")));
    printf(",%lld,%.4f,%s,", (long long)json_integer_value(json_object_get(w, "entity")),
           json_real_value(json_object_get(w, "score")), json_is_true(json_object_get(w, "flagged")) ? "true" : "false");
    csv_field(stdout, json_string_value(json_object_get(w, "typology")));
    putchar(',');
    csv_field(stdout, json_string_value(json_object_get(w, "beneficiary")));
    putchar(',');
    json_t *be = json_object_get(w, "beneficiary_entity");
    if (json_is_integer(be))
        printf("%lld", (long long)json_integer_value(be));
    putchar(',');
    json_t *fams = json_object_get(w, "families");
    for (size_t i = 0; i < json_array_size(fams); i++)
        printf("%s%s", i ? ";" : "", json_string_value(json_array_get(fams, i)));
    putchar(',');
    json_t *sigs = json_object_get(w, "signals");
    for (size_t i = 0; i < json_array_size(sigs); i++) {
        json_t *sg = json_array_get(sigs, i);
        printf("%s%s=%.2f", i ? ";" : "", json_string_value(json_object_get(sg, "signal")),
               json_real_value(json_object_get(sg, "value")));
    }
    putchar(',');
    /* every signal's evidence positions, once each: chain:block:tx_hash:log|tx index */
    json_t *seen = json_object();
    bool any = false;
    for (size_t i = 0; i < json_array_size(sigs); i++) {
        json_t *ev = json_object_get(json_array_get(sigs, i), "evidence");
        for (size_t j = 0; j < json_array_size(ev); j++) {
            json_t *p = json_array_get(ev, j);
            json_t *li = json_object_get(p, "log_index");
            char pos[200];
            snprintf(pos, sizeof pos, "%lld:%lld:%s:%s%lld", (long long)json_integer_value(json_object_get(p, "chain_id")),
                     (long long)json_integer_value(json_object_get(p, "block")),
                     json_string_value(json_object_get(p, "tx_hash")) ? json_string_value(json_object_get(p, "tx_hash")) : "",
                     json_is_integer(li) ? "log" : "tx",
                     (long long)json_integer_value(json_is_integer(li) ? li : json_object_get(p, "tx_index")));
            if (json_object_get(seen, pos))
                continue;
            json_object_set_new(seen, pos, json_true());
            printf("%s%s", any ? ";" : "", pos);
            any = true;
        }
    }
    json_decref(seen);
    putchar('\n');
}

static int print_one(void *ctx, json_t *rec)
{
    printer *p = ctx;
    if (p->which == 'f') {
        if (!p->all && !json_is_true(json_object_get(rec, "flagged")))
            return 0;
        if (json_real_value(json_object_get(rec, "score")) < p->min_score)
            return 0;
    }
    p->n++;
    if (p->f == F_CSV) {
        if (p->which == 'e')
            print_entity_csv(rec);
        else
            print_flag_csv(rec);
        return 0;
    }
    char *txt = json_dumps(rec, JSON_COMPACT | JSON_SORT_KEYS);
    if (p->f == F_JSON)
        printf("%s%s", p->first ? "[\n" : ",\n", txt ? txt : "null");
    else
        printf("%s\n", txt ? txt : "null");
    p->first = false;
    free(txt);
    return 0;
}

static int list_cmd(int argc, char **argv, char which)
{
    static const struct option opts[] = {
        {"db", required_argument, 0, 'd'}, {"format", required_argument, 0, 'f'},
        {"min-score", required_argument, 0, 'm'}, {"all", no_argument, 0, 'a'},
        {"help", no_argument, 0, 'h'}, {0, 0, 0, 0},
    };
    const char *name = which == 'e' ? "entities" : "flags";
    const char *db = NULL;
    printer p = {.f = F_JSON, .first = true, .which = which};
    int c;
    cli_opt_reset();
    while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
        switch (c) {
        case 'd': db = optarg; break;
        case 'f':
            if (!parse_fmt(optarg, &p.f)) {
                fprintf(stderr, "gpuledger %s: unknown format '%s' (json, jsonl, csv)\n", name, optarg);
                return 2;
            }
            break;
        case 'm': p.min_score = strtod(optarg, NULL); p.all = true; break;
        case 'a': p.all = true; break;
        case 'h':
        default:
            if (c != 'h')
                cli_opt_error(name, c, argv);
            fprintf(c == 'h' ? stdout : stderr,
                    which == 'e'
                        ? "usage: gpuledger entities --db DIR [--format json|jsonl|csv]\n\n"
                          "Every entity of the stored analysis: id, kind, label, addresses and the links that\n"
                          "made it (rule, strength, confidence, parameters, evidence positions).\n"
                          "CSV columns: id,kind,label,size,addresses,links,rules,links_merged\n\n"
                          "Example: gpuledger entities --db store/ --format csv > entities.csv\n"
                          "Exit status: 0 printed, 2 bad usage or no analysis.\n"
                        : "usage: gpuledger flags --db DIR [--min-score X] [--all] [--format json|jsonl|csv]\n\n"
                          "The flagged proxy buyers of the stored analysis (--all: every scored wallet;\n"
                          "--min-score X: every scored wallet with a score of at least X): score, typology\n"
                          "guess, beneficiary, each signal with its family, value and evidence positions.\n"
                          "CSV columns: address,entity,score,flagged,typology,beneficiary,beneficiary_entity,\n"
                          "families,signals,evidence (chain:block:tx_hash:log|tx index)\n\n"
                          "Example: gpuledger flags --db store/ --format csv > flags.csv\n"
                          "Exit status: 0 printed, 2 bad usage or no analysis.\n");
            return c == 'h' ? 0 : 2;
        }
    }
    if (!db || optind != argc) {
        fprintf(stderr, "gpuledger %s: --db DIR is required (see --help)\n", name);
        return 2;
    }
    gl_store *s = open_analysed(name, db);
    if (!s)
        return 2;
    if (p.f == F_CSV)
        printf(which == 'e' ? "id,kind,label,size,addresses,links,rules,links_merged\n"
                            : "address,entity,score,flagged,typology,beneficiary,beneficiary_entity,families,signals,evidence\n");
    gl_err err = {0};
    gl_code rc = gl_results_each(s, which, print_one, &p, &err);
    if (p.f == F_JSON)
        printf(p.first ? "[]\n" : "\n]\n");
    gl_store_close(s);
    if (rc) {
        fprintf(stderr, "gpuledger %s: %s\n", name, err.msg);
        return 2;
    }
    return 0;
}

int cmd_entities(int argc, char **argv) { return list_cmd(argc, argv, 'e'); }
int cmd_flags(int argc, char **argv) { return list_cmd(argc, argv, 'f'); }

static void say_evidence(json_t *ev)
{
    for (size_t j = 0; j < json_array_size(ev); j++) {
        json_t *p = json_array_get(ev, j);
        json_t *li = json_object_get(p, "log_index");
        const char *h = json_string_value(json_object_get(p, "tx_hash"));
        printf("        - %s at chain %lld, block %lld, tx %s, %s %lld\n", json_string_value(json_object_get(p, "record")),
               (long long)json_integer_value(json_object_get(p, "chain_id")),
               (long long)json_integer_value(json_object_get(p, "block")), h ? h : "(not stored)",
               json_is_integer(li) ? "log index" : "tx index",
               (long long)json_integer_value(json_is_integer(li) ? li : json_object_get(p, "tx_index")));
    }
}

int cmd_explain(int argc, char **argv)
{
    static const struct option opts[] = {
        {"db", required_argument, 0, 'd'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    const char *db = NULL;
    int c;
    cli_opt_reset();
    while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
        if (c == 'd')
            db = optarg;
        else {
            if (c != 'h')
                cli_opt_error("explain", c, argv);
            fprintf(c == 'h' ? stdout : stderr,
                    "usage: gpuledger explain ADDR --db DIR\n\n"
                    "Why ADDR is in its entity (link by link) and why it is or is not flagged as a\n"
                    "proxy buyer (signal by signal), with the chain positions behind each.\n\n"
                    "Example: gpuledger explain 0x5c69bee701ef814a2b6a3edd4b1652cb9cc5aa6f --db store/\n"
                    "Exit status: 0 explained, 2 bad usage, a bad address or no analysis.\n");
            return c == 'h' ? 0 : 2;
        }
    }
    if (!db || optind != argc - 1) {
        fprintf(stderr, "gpuledger explain: give one address and --db DIR (see --help)\n");
        return 2;
    }
    const char *hex = argv[optind];
    uint8_t addr[20];
    gl_err err = {0};
    size_t n = 0;
    if (strlen(hex) != 42 || gl_hex_decode(hex, strlen(hex), addr, sizeof addr, &n, &err) || n != 20) {
        fprintf(stderr, "gpuledger explain: '%s' is not an address (0x and 40 hex digits)\n", hex);
        return 2;
    }
    gl_store *s = open_analysed("explain", db);
    if (!s)
        return 2;
    uint32_t ent;
    bool found;
    int status = 0;
    json_t *e = NULL, *w = NULL;
    if (gl_results_entity_of(s, addr, &ent, &found, &err) || (found && gl_results_get_entity(s, ent, &e, &err)) ||
        gl_results_get_wallet(s, addr, &w, &err)) {
        fprintf(stderr, "gpuledger explain: %s\n", err.msg);
        status = 2;
    } else if (!found) {
        printf("%s does not appear in this store's analysis (no event, transfer or label names it).\n", hex);
    } else {
        const char *label = json_string_value(json_object_get(e, "label"));
        printf("%s belongs to entity %u (%s%s%s), %lld address(es).\n", hex, ent,
               json_string_value(json_object_get(e, "kind")), label ? ", labelled " : "", label ? label : "",
               (long long)json_integer_value(json_object_get(e, "size")));
        json_t *links = json_object_get(e, "links");
        size_t shown = 0;
        for (size_t i = 0; i < json_array_size(links); i++) {
            json_t *l = json_array_get(links, i);
            const char *a = json_string_value(json_object_get(l, "a")), *b = json_string_value(json_object_get(l, "b"));
            bool mine = (a && !strcasecmp(a, hex)) || (b && !strcasecmp(b, hex));
            if (!mine && json_array_size(links) > 12)
                continue;
            shown++;
            printf("  %s link '%s' between %s and %s, confidence %.2f, %s; %lld position(s):\n",
                   json_string_value(json_object_get(l, "strength")), json_string_value(json_object_get(l, "rule")), a, b,
                   json_real_value(json_object_get(l, "confidence")),
                   json_is_true(json_object_get(l, "merged")) ? "merged" : "not merged (a soft link alone never merges)",
                   (long long)json_integer_value(json_object_get(l, "evidence_count")));
            say_evidence(json_object_get(l, "evidence"));
        }
        if (!shown)
            printf("  no link joins it to another address: it is an entity of its own.\n");
        if (!w)
            printf("It made no purchase, so it was not scored as a proxy buyer.\n");
        else {
            json_t *fams = json_object_get(w, "families");
            char pk[1] = {'p'};
            char *pv = NULL;
            size_t pl = 0;
            long long need = 2;
            double min_score = 0.7;
            if (gl_store_get_analysis(s, pk, 1, &pv, &pl, &err) == GL_OK && pv) {
                json_t *pj = json_loadb(pv, pl, 0, NULL);
                if (json_is_integer(json_object_get(pj, "flag_min_families")))
                    need = (long long)json_integer_value(json_object_get(pj, "flag_min_families"));
                if (json_is_number(json_object_get(pj, "flag_min_score")))
                    min_score = json_number_value(json_object_get(pj, "flag_min_score"));
                json_decref(pj);
            }
            free(pv);
            printf("As a buyer: score %.2f, %s (a flag needs signals from %lld families and a score of %.2f; "
                   "it has %zu).\n",
                   json_real_value(json_object_get(w, "score")),
                   json_is_true(json_object_get(w, "flagged")) ? "FLAGGED as a probable proxy buyer" : "not flagged",
                   need, min_score, json_array_size(fams));
            if (json_is_true(json_object_get(w, "flagged"))) {
                const char *b = json_string_value(json_object_get(w, "beneficiary"));
                printf("  typology guess: %s; it buys for: %s", json_string_value(json_object_get(w, "typology")),
                       b ? b : "(not inferable)");
                json_t *be = json_object_get(w, "beneficiary_entity");
                if (json_is_integer(be))
                    printf(" (entity %lld)", (long long)json_integer_value(be));
                printf("\n");
            }
            json_t *sigs = json_object_get(w, "signals");
            for (size_t i = 0; i < json_array_size(sigs); i++) {
                json_t *sg = json_array_get(sigs, i);
                const char *o = json_string_value(json_object_get(sg, "other"));
                printf("  signal %s (%s family), strength %.2f, measure %.4g%s%s:\n",
                       json_string_value(json_object_get(sg, "signal")), json_string_value(json_object_get(sg, "family")),
                       json_real_value(json_object_get(sg, "value")), json_real_value(json_object_get(sg, "measure")),
                       o ? ", pointing to " : "", o ? o : "");
                say_evidence(json_object_get(sg, "evidence"));
            }
            if (!json_array_size(sigs))
                printf("  no signal: nothing in its funding, roles, life or settlement looks like a proxy's.\n");
        }
    }
    json_decref(e);
    json_decref(w);
    gl_store_close(s);
    return status;
}

int cmd_eval(int argc, char **argv)
{
    static const struct option opts[] = {
        {"db", required_argument, 0, 'd'}, {"truth", required_argument, 0, 't'},
        {"min-score", required_argument, 0, 'm'}, {"json", no_argument, 0, 'j'},
        {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    const char *db = NULL, *truth = NULL;
    double min_score = 0;
    bool as_json = false;
    int c;
    cli_opt_reset();
    while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
        switch (c) {
        case 'd': db = optarg; break;
        case 't': truth = optarg; break;
        case 'm': min_score = strtod(optarg, NULL); break;
        case 'j': as_json = true; break;
        default:
            if (c != 'h')
                cli_opt_error("eval", c, argv);
            fprintf(c == 'h' ? stdout : stderr,
                    "usage: gpuledger eval --db DIR --truth FILE [--min-score X] [--json]\n\n"
                    "Score the stored analysis against a simulator truth file (docs/TRUTH.md): flags'\n"
                    "precision, recall and F1, overall and per typology; entities' pairwise precision,\n"
                    "recall and F1; merges across kinds, listed; purchase marks; volume per platform,\n"
                    "day and token: gross, net against the truth's net and net as far as the chain\n"
                    "shows (the truth's self-dealing and circular payments that no transfer between\n"
                    "the entity's own wallets can show counted back: docs/VOLUME.md), GPU-hours by model.\n\n"
                    "Example: gpuledger eval --db demo-out/store --truth demo-out/truth.json\n"
                    "Exit status: 0 evaluated, 2 bad usage, a bad truth file or no analysis.\n");
            return c == 'h' ? 0 : 2;
        }
    }
    if (!db || !truth || optind != argc) {
        fprintf(stderr, "gpuledger eval: --db DIR and --truth FILE are required (see --help)\n");
        return 2;
    }
    gl_err err = {0};
    gl_store_open_opts oo = {.read_only = true};
    gl_store *s = gl_store_open(db, &oo, &err);
    if (!s) {
        fprintf(stderr, "gpuledger eval: %s\n", err.msg);
        return 2;
    }
    json_t *out = NULL;
    gl_code rc = gl_eval_run(s, truth, min_score, &out, &err);
    gl_store_close(s);
    if (rc) {
        fprintf(stderr, "gpuledger eval: %s\n", err.msg);
        return 2;
    }
    if (as_json) {
        char *txt = json_dumps(out, JSON_INDENT(1) | JSON_SORT_KEYS);
        printf("%s\n", txt ? txt : "{}");
        free(txt);
    } else {
        json_t *f = json_object_get(out, "flags"), *e = json_object_get(out, "entities");
        printf("flags:    precision %.3f  recall %.3f  F1 %.3f  (%lld true, %lld false positives, %lld missed); "
               "beneficiary right %.3f\n",
               json_real_value(json_object_get(f, "precision")), json_real_value(json_object_get(f, "recall")),
               json_real_value(json_object_get(f, "f1")), (long long)json_integer_value(json_object_get(f, "true_positives")),
               (long long)json_integer_value(json_object_get(f, "false_positives")),
               (long long)json_integer_value(json_object_get(f, "false_negatives")),
               json_real_value(json_object_get(f, "beneficiary_accuracy")));
        const char *k;
        json_t *v;
        json_object_foreach(json_object_get(f, "per_typology"), k, v)
            printf("  %-22s truth %3lld  caught %3lld  recall %.3f   guessed %3lld  guess precision %.3f\n", k,
                   (long long)json_integer_value(json_object_get(v, "truth")),
                   (long long)json_integer_value(json_object_get(v, "caught")), json_real_value(json_object_get(v, "recall")),
                   (long long)json_integer_value(json_object_get(v, "guessed")),
                   json_real_value(json_object_get(v, "guess_precision")));
        printf("entities: precision %.3f  recall %.3f  F1 %.3f  over %lld addresses; merges across kinds: %lld\n",
               json_real_value(json_object_get(e, "precision")), json_real_value(json_object_get(e, "recall")),
               json_real_value(json_object_get(e, "f1")), (long long)json_integer_value(json_object_get(e, "addresses")),
               (long long)json_integer_value(json_object_get(e, "merges_across_kinds")));
        json_t *m = json_object_get(out, "purchase_marks");
        for (int b = 0; b < 2; b++) {
            const char *nm = b ? "circular" : "self_dealing";
            json_t *x = json_object_get(m, nm);
            printf("%-13s truth %lld payments: marked right %lld, wrong %lld (precision %.3f, recall %.3f)\n", nm,
                   (long long)json_integer_value(json_object_get(x, "truth")),
                   (long long)json_integer_value(json_object_get(x, "marked_right")),
                   (long long)json_integer_value(json_object_get(x, "marked_wrong")),
                   json_real_value(json_object_get(x, "precision")), json_real_value(json_object_get(x, "recall")));
        }
        json_t *vo = json_object_get(out, "volume");
        printf("volume:   gross exact in %lld of %lld platform/day/token cells; worst net error %.4f; "
               "worst GPU-hours error by model %.4f\n",
               (long long)json_integer_value(json_object_get(vo, "gross_exact")),
               (long long)json_integer_value(json_object_get(vo, "cells")),
               json_real_value(json_object_get(vo, "worst_net_error")),
               json_real_value(json_object_get(vo, "worst_gpu_hours_error")));
        printf("          net as far as the chain shows: worst error %.4f per cell; %lld payment(s) the truth "
               "excludes that the chain cannot show (--json lists them)\n",
               json_real_value(json_object_get(vo, "worst_chain_net_error")),
               (long long)json_integer_value(json_object_get(vo, "exclusions_not_on_chain")));
        const char *pk, *tk;
        json_t *pv, *tv;
        json_object_foreach(json_object_get(vo, "per_platform"), pk, pv) json_object_foreach(
            json_object_get(pv, "per_token"), tk, tv) printf("  %-10s %-6s gross error %+.4f  net error %+.4f against the "
                                                             "truth, %+.4f as far as the chain shows\n",
                                                             pk, tk, json_real_value(json_object_get(tv, "gross_error")),
                                                             json_real_value(json_object_get(tv, "net_error")),
                                                             json_real_value(json_object_get(tv, "chain_net_error")));
        json_t *pr = json_object_get(out, "providers"); /* only with the truth's provider_frauds */
        if (pr) {
            json_t *pt = json_object_get(pr, "per_typology");
            printf("providers: %lld of %lld frauds caught (relabelled %lld/%lld, oversold %lld/%lld), recall %.3f; "
                   "%lld findings, %lld right, precision %.3f\n",
                   (long long)json_integer_value(json_object_get(pr, "caught")),
                   (long long)json_integer_value(json_object_get(pr, "frauds")),
                   (long long)json_integer_value(json_object_get(json_object_get(pt, "relabelled"), "caught")),
                   (long long)json_integer_value(json_object_get(json_object_get(pt, "relabelled"), "truth")),
                   (long long)json_integer_value(json_object_get(json_object_get(pt, "oversold"), "caught")),
                   (long long)json_integer_value(json_object_get(json_object_get(pt, "oversold"), "truth")),
                   json_real_value(json_object_get(pr, "recall")),
                   (long long)json_integer_value(json_object_get(pr, "flagged")),
                   (long long)json_integer_value(json_object_get(pr, "flagged_right")),
                   json_real_value(json_object_get(pr, "precision")));
        }
    }
    json_decref(out);
    return 0;
}
