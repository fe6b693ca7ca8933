/* cmd_trace.c - following the money: `wallet ADDR`, `trace ADDR` and
 * `path A B` (docs/TRACE.md).
 *
 * All three open the store read-only.  `wallet` reads the wallet's own
 * records through the address index; `trace` and `path` load the store's
 * transfers into a graph (graph.h) and walk it (trace.h), stopping at hubs:
 * the stored analysis says which nodes are hubs when there is one, else
 * labels, platform/token marks and degree do (said on stderr).
 *
 * Exit status (all three): 0 printed; 1 nothing to show (trace: the
 * address moved no money in this store; path: no path within the hops
 * asked, said on stdout); 2 bad usage or an unreadable store.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "gpuledger/bytes.h"
#include "gpuledger/graph.h"
#include "gpuledger/graph_export.h"
#include "gpuledger/results.h"
#include "gpuledger/store.h"
#include "gpuledger/trace.h"
#include "gpuledger/wallet.h"

/* ------------------------------------------------------------- helpers */

static bool parse_addr(const char *cmd, const char *hex, uint8_t out[20])
{
    size_t n = 0;
    if (strlen(hex) != 42 || gl_hex_decode(hex, 42, out, 20, &n, NULL) || n != 20) {
        fprintf(stderr, "gpuledger %s: '%s' is not an address (0x and 40 hex digits)\n", cmd, hex);
        return false;
    }
    return true;
}

static gl_store *open_ro(const char *cmd, const char *db)
{
    gl_err err = {0};
    gl_store_open_opts oo = {.read_only = true};
    gl_store *s = gl_store_open(db, &oo, &err);
    if (!s)
        fprintf(stderr, "gpuledger %s: %s\n", cmd, err.msg);
    return s;
}

static bool parse_u32(const char *cmd, const char *opt, const char *v, uint32_t lo, uint32_t hi, uint32_t *out)
{
    uint64_t x;
    if (!gl_dec_u64(v, strlen(v), &x) || x < lo || x > hi) {
        fprintf(stderr, "gpuledger %s: %s must be a number from %u to %u, not '%s'\n", cmd, opt, lo, hi, v);
        return false;
    }
    *out = (uint32_t)x;
    return true;
}

/* Options shared by trace and path (one table and one parser, so the two
 * commands cannot drift apart). */
#define WALK_OPTIONS                                                                                                   \
    {"db", required_argument, 0, 'd'}, {"since", required_argument, 0, 's'}, {"until", required_argument, 0, 'u'},     \
        {"min-amount", required_argument, 0, 'm'}, {"format", required_argument, 0, 'f'},                              \
        {"out", required_argument, 0, 'o'}, {"hub-degree", required_argument, 0, 'H'}, {"help", no_argument, 0, 'h'}

typedef struct walk_opts {
    const char *db, *out;
    gl_trace_filter filter;
    uint32_t hub_degree;
    gl_flow_format fmt;
    bool text_ok; /* IN: --format text is allowed (path) */
    bool text;    /* --format text (or text_ok and no --format) */
} walk_opts;

/* One shared option: 1 taken, 0 bad (said on stderr), -1 not a shared one. */
static int walk_opt(const char *cmd, int c, const char *arg, walk_opts *w)
{
    gl_err err = {0};
    switch (c) {
    case 'd': w->db = arg; return 1;
    case 'o': w->out = arg; return 1;
    case 'f':
        if (w->text_ok && !strcmp(arg, "text")) {
            w->text = true;
            return 1;
        }
        if (gl_flow_format_parse(arg, &w->fmt, &err)) {
            fprintf(stderr, "gpuledger %s: %s%s\n", cmd, err.msg, w->text_ok ? ", or text" : "");
            return 0;
        }
        w->text = false;
        return 1;
    case 's':
    case 'u': {
        uint64_t t;
        if (gl_trace_parse_time(arg, &t, &err)) {
            fprintf(stderr, "gpuledger %s: --%s: %s\n", cmd, c == 's' ? "since" : "until", err.msg);
            return 0;
        }
        if (c == 's')
            w->filter.since = t;
        else
            w->filter.until = t;
        return 1;
    }
    case 'm': {
        gl_u256 v;
        if (gl_u256_parse_dec(&v, arg, &err)) {
            fprintf(stderr, "gpuledger %s: --min-amount: %s (a whole number of the token's smallest unit)\n", cmd,
                    err.msg);
            return 0;
        }
        w->filter.min_amount = gl_amt_from_u256(&v, NULL);
        return 1;
    }
    case 'H': return parse_u32(cmd, "--hub-degree", arg, 1, UINT32_MAX - 1, &w->hub_degree);
    default: return -1;
    }
}

/* Load the graph and a trace context; say where hubs come from. */
static int load_walk(const char *cmd, const walk_opts *w, gl_store **s, gl_graph **g, gl_trace_ctx **c)
{
    gl_err err = {0};
    *g = NULL;
    *c = NULL;
    if (!(*s = open_ro(cmd, w->db)))
        return 2;
    if (!(*g = gl_graph_load(*s, NULL, NULL, &err)) || !(*c = gl_trace_ctx_new(*g, *s, w->hub_degree, &err))) {
        fprintf(stderr, "gpuledger %s: %s\n", cmd, err.msg);
        return 2;
    }
    bool stale;
    if (!gl_trace_ctx_has_analysis(*c, &stale))
        fprintf(stderr,
                "gpuledger %s: no analysis in this store (run gpuledger analyze --db %s): hubs are judged by labels, "
                "platform and token contracts, and degree (more than %u counterparties)\n",
                cmd, w->db, w->hub_degree ? w->hub_degree : GL_TRACE_HUB_DEGREE_DEFAULT);
    else if (stale)
        fprintf(stderr, "gpuledger %s: warning: the store changed since it was analysed; run gpuledger analyze --db %s\n",
                cmd, w->db);
    return 0;
}

static int write_out(const char *cmd, const char *path, const gl_buf *b)
{
    FILE *f = path ? fopen(path, "wb") : stdout;
    if (!f) {
        fprintf(stderr, "gpuledger %s: cannot write '%s'\n", cmd, path);
        return 2;
    }
    bool ok = !b->len || fwrite(b->data, 1, b->len, f) == b->len;
    if (path)
        ok = fclose(f) == 0 && ok;
    else
        ok = fflush(f) == 0 && ok;
    if (!ok) {
        fprintf(stderr, "gpuledger %s: cannot write '%s'\n", cmd, path ? path : "standard output");
        return 2;
    }
    return 0;
}

static void free_walk(gl_store *s, gl_graph *g, gl_trace_ctx *c)
{
    gl_trace_ctx_free(c);
    gl_graph_free(g);
    gl_store_close(s);
}

/* The flow in `fmt`, to --out or stdout: 0, or 2 (said on stderr). */
static int flow_out(const char *cmd, const gl_flow *f, gl_flow_format fmt, const char *path)
{
    gl_err err = {0};
    gl_buf b = GL_BUF_INIT;
    int status = 0;
    if (gl_flow_write(f, fmt, &b, &err)) {
        fprintf(stderr, "gpuledger %s: %s\n", cmd, err.msg);
        status = 2;
    } else {
        status = write_out(cmd, path, &b);
    }
    gl_buf_release(&b);
    return status;
}

/* A JSON document (indented, a newline after it), to --out or stdout. */
static int json_out(const char *cmd, json_t *j, size_t flags, const char *path)
{
    char *txt = j ? json_dumps(j, JSON_INDENT(1) | flags) : NULL;
    if (!txt) {
        fprintf(stderr, "gpuledger %s: out of memory\n", cmd);
        return 2;
    }
    gl_buf b = GL_BUF_INIT;
    int status = gl_buf_append(&b, txt, strlen(txt), NULL) || gl_buf_append(&b, "\n", 1, NULL) ? 2 : write_out(cmd, path, &b);
    gl_buf_release(&b);
    free(txt);
    return status;
}

/* ---------------------------------------------------------------- wallet */

static const char *js(json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

static void print_amounts(json_t *arr)
{
    if (!json_array_size(arr))
        printf("nothing");
    for (size_t i = 0; i < json_array_size(arr); i++) {
        json_t *a = json_array_get(arr, i);
        printf("%s%s %s", i ? ", " : "", js(a, "amount"), js(a, "token"));
    }
}

static void print_evidence(json_t *ev, const char *indent)
{
    for (size_t j = 0; j < json_array_size(ev); j++) {
        json_t *p = json_array_get(ev, j);
        json_t *li = json_object_get(p, "log_index");
        const char *h = json_string_value(json_object_get(p, "tx_hash"));
        printf("%s- %s at chain %lld, block %lld, tx %s, %s %lld\n", indent, js(p, "record"),
               (long long)json_integer_value(json_object_get(p, "chain_id")),
               (long long)json_integer_value(json_object_get(p, "block")), h ? h : "(not stored)",
               json_is_integer(li) ? "log index" : "tx index",
               (long long)json_integer_value(json_is_integer(li) ? li : json_object_get(p, "tx_index")));
    }
}

static void print_seen(const char *what, json_t *p)
{
    if (!json_is_object(p)) {
        printf("%s: never\n", what);
        return;
    }
    const char *t = json_string_value(json_object_get(p, "time_utc"));
    printf("%s: chain %lld, block %lld, %s\n", what, (long long)json_integer_value(json_object_get(p, "chain_id")),
           (long long)json_integer_value(json_object_get(p, "block")), t ? t : "time unknown (block not stored)");
}

static void print_wallet_text(json_t *w, const char *db)
{
    printf("wallet %s\n", js(w, "address"));
    json_t *labels = json_object_get(w, "labels");
    for (size_t i = 0; i < json_array_size(labels); i++) {
        json_t *l = json_array_get(labels, i);
        printf("  label: %s (%s, from %s)\n", js(l, "label"), js(l, "category"), js(l, "source"));
    }
    printf("appearances: %lld\n", (long long)json_integer_value(json_object_get(w, "appearances")));
    print_seen("first seen", json_object_get(w, "first_seen"));
    print_seen("last seen", json_object_get(w, "last_seen"));
    json_t *flows = json_object_get(w, "flows");
    for (int d = 0; d < 2; d++) {
        const char *dir = d ? "out" : "in";
        char key[32];
        snprintf(key, sizeof key, "%s_counterparties", dir);
        json_t *groups = json_object_get(flows, dir);
        printf("\nmoney %s (%lld counterparties; total ", d ? "out to" : "in from",
               (long long)json_integer_value(json_object_get(flows, key)));
        snprintf(key, sizeof key, "%s_totals", dir);
        print_amounts(json_object_get(flows, key));
        printf("):\n");
        for (size_t i = 0; i < json_array_size(groups); i++) {
            json_t *g = json_array_get(groups, i), *addrs = json_object_get(g, "addresses");
            json_t *ent = json_object_get(g, "entity");
            printf("  ");
            if (json_is_integer(ent))
                printf("entity %lld (%s)", (long long)json_integer_value(ent), js(g, "kind"));
            else
                printf("%s", json_string_value(json_array_get(addrs, 0)));
            if (json_string_value(json_object_get(g, "label")))
                printf(" \"%s\"", js(g, "label"));
            printf(": ");
            print_amounts(json_object_get(g, "amounts"));
            printf(" in %lld transfer(s)", (long long)json_integer_value(json_object_get(g, "transfers")));
            if (json_is_integer(ent))
                printf(" via %zu address(es)", json_array_size(addrs));
            printf("\n");
        }
    }
    json_t *plats = json_object_get(w, "platforms");
    printf("\nplatforms: %zu\n", json_array_size(plats));
    for (size_t i = 0; i < json_array_size(plats); i++) {
        json_t *p = json_array_get(plats, i), *pu = json_object_get(p, "purchases"), *sa = json_object_get(p, "sales");
        printf("  %s: %lld purchase(s) (", js(p, "platform"), (long long)json_integer_value(json_object_get(pu, "count")));
        print_amounts(json_object_get(pu, "amounts"));
        printf("), %lld sale(s) (", (long long)json_integer_value(json_object_get(sa, "count")));
        print_amounts(json_object_get(sa, "amounts"));
        printf(")\n");
    }
    json_t *leases = json_object_get(w, "leases");
    printf("leases: %lld (latest %zu shown)\n", (long long)json_integer_value(json_object_get(w, "leases_total")),
           json_array_size(leases));
    for (size_t i = 0; i < json_array_size(leases); i++) {
        json_t *l = json_array_get(leases, i), *mk = json_object_get(l, "marks");
        const char *cp = json_string_value(json_object_get(l, "counterparty"));
        printf("  %s %s/%s %s %s", js(l, "side"), js(l, "platform"), js(l, "event"), js(l, "amount"), js(l, "token"));
        if (json_string_value(json_object_get(l, "gpu_model")))
            printf(", %s", js(l, "gpu_model"));
        if (json_string_value(json_object_get(l, "gpu_hours")))
            printf(", %s GPU-hours", js(l, "gpu_hours"));
        printf("%s%s; chain %lld block %lld log %lld tx %s", cp ? ", with " : "", cp ? cp : "",
               (long long)json_integer_value(json_object_get(l, "chain_id")),
               (long long)json_integer_value(json_object_get(l, "block")),
               (long long)json_integer_value(json_object_get(l, "log_index")), js(l, "tx_hash"));
        for (size_t k = 0; k < json_array_size(mk); k++)
            printf(" [%s]", json_string_value(json_array_get(mk, k)));
        printf("\n");
    }
    json_t *gh = json_object_get(w, "gpu_hours");
    if (json_array_size(gh))
        printf("GPU-hours by model:\n");
    for (size_t i = 0; i < json_array_size(gh); i++) {
        json_t *m = json_array_get(gh, i);
        printf("  %s: bought %s, sold %s\n", js(m, "model"), js(m, "bought"), js(m, "sold"));
    }
    json_t *an = json_object_get(w, "analysis");
    printf("\n");
    if (!json_is_object(an)) {
        printf("no analysis in this store: run gpuledger analyze --db %s\n", db);
        return;
    }
    if (json_is_true(json_object_get(an, "stale")))
        printf("(the store changed since it was analysed: run gpuledger analyze --db %s)\n", db);
    json_t *e = json_object_get(an, "entity");
    if (!json_is_object(e))
        printf("entity: not in the analysis (the store never saw it, or it was indexed after the analysis)\n");
    else {
        printf("entity %lld: %s%s%s%s, %lld address(es)\n", (long long)json_integer_value(json_object_get(e, "id")),
               js(e, "kind"), json_string_value(json_object_get(e, "label")) ? ", \"" : "", js(e, "label"),
               json_string_value(json_object_get(e, "label")) ? "\"" : "",
               (long long)json_integer_value(json_object_get(e, "size")));
        json_t *links = json_object_get(an, "links");
        if (!json_array_size(links))
            printf("  no link joins it to another address\n");
        for (size_t i = 0; i < json_array_size(links); i++) {
            json_t *l = json_array_get(links, i);
            printf("  %s link '%s' %s - %s, confidence %.2f, %s:\n", js(l, "strength"), js(l, "rule"), js(l, "a"),
                   js(l, "b"), json_real_value(json_object_get(l, "confidence")),
                   json_is_true(json_object_get(l, "merged")) ? "merged" : "not merged");
            print_evidence(json_object_get(l, "evidence"), "      ");
        }
    }
    json_t *f = json_object_get(an, "flag");
    if (!json_is_object(f)) {
        printf("flag: not scored (it made no purchase)\n");
        return;
    }
    printf("flag: score %.2f, %s, typology %s\n", json_real_value(json_object_get(f, "score")),
           json_is_true(json_object_get(f, "flagged")) ? "FLAGGED" : "not flagged", js(f, "typology"));
    json_t *sigs = json_object_get(f, "signals");
    for (size_t i = 0; i < json_array_size(sigs); i++) {
        json_t *sg = json_array_get(sigs, i);
        printf("  signal %s (%s), strength %.2f:\n", js(sg, "signal"), js(sg, "family"),
               json_real_value(json_object_get(sg, "value")));
        print_evidence(json_object_get(sg, "evidence"), "      ");
    }
}

int cmd_wallet(int argc, char **argv)
{
    static const struct option opts[] = {
        {"db", required_argument, 0, 'd'},       {"json", no_argument, 0, 'j'},
        {"max-leases", required_argument, 0, 'l'}, {"max-counterparties", required_argument, 0, 'c'},
        {"help", no_argument, 0, 'h'},           {0, 0, 0, 0}};
    const char *db = NULL;
    bool as_json = false;
    gl_wallet_opts wo = {0};
    uint32_t v;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'd': db = optarg; break;
        case 'j': as_json = true; break;
        case 'l':
            if (!parse_u32("wallet", "--max-leases", optarg, 1, 1000000, &v))
                return 2;
            wo.max_leases = v;
            break;
        case 'c':
            if (!parse_u32("wallet", "--max-counterparties", optarg, 1, 1000000, &v))
                return 2;
            wo.max_counterparties = v;
            break;
        default:
            fprintf(c == 'h' ? stdout : stderr,
                    "usage: gpuledger wallet ADDR --db DIR [--json] [--max-leases N] [--max-counterparties N]\n\n"
                    "What the store knows of one wallet: first and last seen, money in and out by\n"
                    "counterparty (its entity when analysed; amounts per token in the token's smallest\n"
                    "unit, exact), platforms with purchases and sales, the leases themselves, GPU-hours by\n"
                    "model, and from the stored analysis its entity, the links that put it there and its\n"
                    "proxy-buyer flag with evidence.  Without an analysis the chain facts are printed.\n\n"
                    "  --json                  the profile as one JSON object (docs/TRACE.md)\n"
                    "  --max-leases N          leases listed, latest first (default 100)\n"
                    "  --max-counterparties N  per direction, most transfers first (default 50)\n\n"
                    "Example: gpuledger wallet 0x5c69bee701ef814a2b6a3edd4b1652cb9cc5aa6f --db store/ --json\n"
                    "Exit status: 0 printed, 2 bad usage, a bad address or an unreadable store.\n");
            return c == 'h' ? 0 : 2;
        }
    }
    if (!db || optind != argc - 1) {
        fprintf(stderr, "gpuledger wallet: give one address and --db DIR (see --help)\n");
        return 2;
    }
    uint8_t addr[20];
    if (!parse_addr("wallet", argv[optind], addr))
        return 2;
    gl_store *s = open_ro("wallet", db);
    if (!s)
        return 2;
    gl_err err = {0};
    json_t *w = NULL;
    gl_code rc = gl_wallet_profile(s, addr, &wo, &w, &err);
    gl_store_close(s);
    if (rc) {
        fprintf(stderr, "gpuledger wallet: %s\n", err.msg);
        return 2;
    }
    if (as_json) {
        char *txt = json_dumps(w, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
        printf("%s\n", txt ? txt : "null");
        free(txt);
        if (!json_is_object(json_object_get(w, "analysis")))
            fprintf(stderr, "gpuledger wallet: no analysis in this store: run gpuledger analyze --db %s\n", db);
    } else {
        print_wallet_text(w, db);
    }
    json_decref(w);
    return 0;
}

/* ----------------------------------------------------------------- trace */

int cmd_trace(int argc, char **argv)
{
    static const struct option opts[] = {WALK_OPTIONS,
                                         {"direction", required_argument, 0, 'D'},
                                         {"hops", required_argument, 0, 'k'},
                                         {"max-nodes", required_argument, 0, 'n'},
                                         {0, 0, 0, 0}};
    walk_opts w = {.fmt = GL_FLOW_JSON};
    gl_trace_opts to = {.direction = GL_TRACE_OUT, .hops = 2};
    gl_err err = {0};
    uint32_t v;
    int c, taken;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if ((taken = walk_opt("trace", c, optarg, &w)) >= 0) {
            if (!taken)
                return 2;
            continue;
        }
        switch (c) {
        case 'D':
            if (!strcmp(optarg, "in"))
                to.direction = GL_TRACE_IN;
            else if (!strcmp(optarg, "out"))
                to.direction = GL_TRACE_OUT;
            else if (!strcmp(optarg, "both"))
                to.direction = GL_TRACE_BOTH;
            else {
                fprintf(stderr, "gpuledger trace: --direction must be in, out or both, not '%s'\n", optarg);
                return 2;
            }
            break;
        case 'k':
            if (!parse_u32("trace", "--hops", optarg, 1, GL_TRACE_MAX_HOPS, &to.hops))
                return 2;
            break;
        case 'n':
            if (!parse_u32("trace", "--max-nodes", optarg, 1, 10000000, &v))
                return 2;
            to.max_nodes = v;
            break;
        default:
            fprintf(c == 'h' ? stdout : stderr,
                    "usage: gpuledger trace ADDR --db DIR [--direction in|out|both] [--hops K]\n"
                    "       [--since T] [--until T] [--min-amount N] [--format json|csv|dot|gexf|graphml]\n"
                    "       [--out FILE] [--max-nodes N] [--hub-degree N]\n\n"
                    "The fund-flow graph around a wallet: breadth-first over its transfers, K hops out\n"
                    "(where its money went), in (where it came from) or both.  Hubs and labelled\n"
                    "services (exchanges, bridges, routers, mixers, platform and token contracts, wallets\n"
                    "with more than --hub-degree counterparties) are shown but not expanded; the stored\n"
                    "analysis says which they are when there is one.  Each edge sums its transfers per\n"
                    "token (exact, in the token's smallest unit) and lists them with chain id, block,\n"
                    "tx hash and log or tx index.\n\n"
                    "  --direction D    in, out (default) or both\n"
                    "  --hops K         1 to 16 (default 2)\n"
                    "  --since/--until  block time window: YYYY-MM-DD, YYYY-MM-DDTHH:MM:SSZ or seconds;\n"
                    "                   transfers in blocks that are not stored are then left out\n"
                    "  --min-amount N   leave out transfers below N (smallest units, any token)\n"
                    "  --format F       json (default), csv (a row per transfer), dot (Graphviz),\n"
                    "                   gexf (GEXF 1.3, Gephi), graphml\n"
                    "  --out FILE       write there instead of standard output\n"
                    "  --max-nodes N    stop adding wallets past N (default 5000; the output says so)\n"
                    "  --hub-degree N   without an analysis: more than N counterparties is a hub (25)\n\n"
                    "Examples:\n"
                    "  gpuledger trace 0x5c69bee701ef814a2b6a3edd4b1652cb9cc5aa6f --db store/ --direction in --hops 3\n"
                    "  gpuledger trace 0x5c69...aa6f --db store/ --format dot | dot -Tsvg > trace.svg\n"
                    "  gpuledger trace 0x5c69...aa6f --db store/ --since 2024-05-01 --format gexf --out t.gexf\n"
                    "Exit status: 0 written, 1 the address moved no money in this store, 2 bad usage or\n"
                    "an unreadable store.\n");
            return c == 'h' ? 0 : 2;
        }
    }
    if (!w.db || optind != argc - 1) {
        fprintf(stderr, "gpuledger trace: give one address and --db DIR (see --help)\n");
        return 2;
    }
    uint8_t addr[20];
    if (!parse_addr("trace", argv[optind], addr))
        return 2;
    to.filter = w.filter;
    gl_store *s;
    gl_graph *g;
    gl_trace_ctx *ctx;
    int status = load_walk("trace", &w, &s, &g, &ctx);
    uint32_t root = status ? GL_NODE_NONE : gl_graph_find(g, addr);
    if (!status && (root == GL_NODE_NONE ||
                    (g->out_off[root] == g->out_off[root + 1] && g->in_off[root] == g->in_off[root + 1]))) {
        fprintf(stderr, "gpuledger trace: %s moved no money in this store (no transfer names it)\n", argv[optind]);
        status = 1;
    }
    gl_flow *flow = NULL;
    if (!status && gl_trace_subgraph(ctx, root, &to, &flow, &err)) {
        fprintf(stderr, "gpuledger trace: %s\n", err.msg);
        status = 2;
    }
    if (!status) {
        if (flow->truncated)
            fprintf(stderr, "gpuledger trace: stopped at %zu wallets (--max-nodes): the graph is cut short\n",
                    flow->n_nodes);
        status = flow_out("trace", flow, w.fmt, w.out);
        if (!status && w.out)
            fprintf(stderr, "gpuledger trace: %zu wallets, %zu edges written to %s\n", flow->n_nodes, flow->n_edges,
                    w.out);
    }
    gl_flow_free(flow);
    free_walk(s, g, ctx);
    return status;
}

/* ------------------------------------------------------------------ path */

static void print_path_text(const gl_flow *f, size_t i)
{
    printf("path %zu: %zu hop(s)\n", i + 1, f->n_edges);
    for (size_t k = 0; k < f->n_edges; k++) {
        const gl_flow_edge *e = &f->edges[k];
        const gl_flow_node *a = &f->nodes[e->src], *b = &f->nodes[e->dst];
        char ha[43], hb[43];
        printf("  %s%s%s%s -> %s%s%s%s:", gl_addr_hex(a->addr, ha), a->label[0] ? " \"" : "", a->label,
               a->label[0] ? "\"" : "", gl_addr_hex(b->addr, hb), b->label[0] ? " \"" : "", b->label,
               b->label[0] ? "\"" : "");
        for (size_t m = 0; m < e->n_amounts; m++) {
            char dec[GL_U256_DEC_MAX], th[43];
            const gl_flow_amount *x = &e->amounts[m];
            printf("%s %s %s", m ? "," : "", gl_u256_to_dec(&x->amount, dec),
                   x->token ? gl_addr_hex(f->tokens[x->token].addr, th) : "native");
        }
        printf(" in %zu transfer(s)\n", e->n_transfers);
        for (size_t m = 0; m < e->n_transfers; m++) {
            const gl_flow_transfer *t = &e->transfers[m];
            char th[67], dec[GL_U256_DEC_MAX];
            printf("      chain %llu block %llu %s %u", (unsigned long long)t->pos.chain_id,
                   (unsigned long long)t->pos.block,
                   t->pos.kind == GL_STORE_POS_LOG ? "log index" : t->pos.kind == GL_STORE_POS_TX ? "tx index" : "trace of tx",
                   t->pos.index);
            if (t->pos.kind == GL_STORE_POS_TRACE)
                printf(" call %u", t->pos.sub);
            printf(" tx %s: %s", t->has_tx_hash ? gl_hex_encode(t->tx_hash, 32, true, th) : "(not stored)",
                   gl_u256_to_dec(&t->amount, dec));
            if (t->time)
                printf(" at %llu", (unsigned long long)t->time);
            printf("\n");
        }
    }
}

int cmd_path(int argc, char **argv)
{
    static const struct option opts[] = {WALK_OPTIONS,
                                         {"max-hops", required_argument, 0, 'k'},
                                         {"max-paths", required_argument, 0, 'p'},
                                         {"any-order", no_argument, 0, 'a'},
                                         {0, 0, 0, 0}};
    walk_opts w = {.fmt = GL_FLOW_JSON, .text_ok = true, .text = true};
    gl_path_opts po = {.max_hops = 4};
    gl_err err = {0};
    uint32_t v;
    int c, taken;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if ((taken = walk_opt("path", c, optarg, &w)) >= 0) {
            if (!taken)
                return 2;
            continue;
        }
        switch (c) {
        case 'a': po.any_order = true; break;
        case 'k':
            if (!parse_u32("path", "--max-hops", optarg, 1, GL_TRACE_MAX_HOPS, &po.max_hops))
                return 2;
            break;
        case 'p':
            if (!parse_u32("path", "--max-paths", optarg, 1, 100000, &v))
                return 2;
            po.max_paths = v;
            break;
        default:
            fprintf(c == 'h' ? stdout : stderr,
                    "usage: gpuledger path A B --db DIR [--max-hops K] [--max-paths N] [--any-order]\n"
                    "       [--since T] [--until T] [--min-amount N] [--format text|json|csv|dot|gexf|graphml]\n"
                    "       [--out FILE] [--hub-degree N]\n\n"
                    "The fund-flow paths from wallet A to wallet B: simple paths over transfers, fewest\n"
                    "hops first, each hop with its amounts per token and every transfer's chain id,\n"
                    "block, tx hash and log or tx index.  Paths are time-respecting: a hop only counts\n"
                    "transfers at or after the money reached its source (--any-order drops that rule).\n"
                    "Paths never pass through a hub (exchange, bridge, router, mixer, platform or\n"
                    "token contract, busy service); A and B may be one.\n\n"
                    "  --max-hops K     1 to 16 (default 4)\n"
                    "  --max-paths N    at most N paths (default 10)\n"
                    "  --any-order      ignore the order of the hops in time\n"
                    "  --since/--until  block time window (YYYY-MM-DD, YYYY-MM-DDTHH:MM:SSZ or seconds)\n"
                    "  --min-amount N   leave out transfers below N (smallest units, any token)\n"
                    "  --format F       text (default), json (every path), or the union of the paths as\n"
                    "                   csv, dot, gexf or graphml\n"
                    "  --out FILE       write there instead of standard output\n"
                    "  --hub-degree N   without an analysis: more than N counterparties is a hub (25)\n\n"
                    "Examples:\n"
                    "  gpuledger path 0xaaaa...aaaa 0xbbbb...bbbb --db store/ --max-hops 5\n"
                    "  gpuledger path 0xaaaa...aaaa 0xbbbb...bbbb --db store/ --format dot | dot -Tsvg > p.svg\n"
                    "Exit status: 0 paths found, 1 no path within K hops (\"no path from A to B within K\n"
                    "hops\" on standard output; with --format json, an empty list too), 2 bad usage or an\n"
                    "unreadable store.\n");
            return c == 'h' ? 0 : 2;
        }
    }
    if (!w.db || optind != argc - 2) {
        fprintf(stderr, "gpuledger path: give two addresses and --db DIR (see --help)\n");
        return 2;
    }
    uint8_t aa[20], bb[20];
    if (!parse_addr("path", argv[optind], aa) || !parse_addr("path", argv[optind + 1], bb))
        return 2;
    if (!memcmp(aa, bb, 20)) {
        fprintf(stderr, "gpuledger path: the two addresses are the same\n");
        return 2;
    }
    po.filter = w.filter;
    gl_store *s;
    gl_graph *g;
    gl_trace_ctx *ctx;
    int status = load_walk("path", &w, &s, &g, &ctx);
    gl_paths ps = {0};
    uint32_t a = GL_NODE_NONE, b = GL_NODE_NONE;
    if (!status) {
        a = gl_graph_find(g, aa);
        b = gl_graph_find(g, bb);
        if (a != GL_NODE_NONE && b != GL_NODE_NONE && gl_trace_paths(ctx, a, b, &po, &ps, &err)) {
            fprintf(stderr, "gpuledger path: %s\n", err.msg);
            status = 2;
        }
    }
    if (!status && ps.truncated)
        fprintf(stderr, "gpuledger path: the search stopped after %u steps: longer paths may exist\n",
                GL_TRACE_MAX_STEPS_DEFAULT);
    if (!status && !ps.n_paths) {
        char msg[256];
        snprintf(msg, sizeof msg, "no path from %s to %s within %u hops", argv[optind], argv[optind + 1], po.max_hops);
        if (!w.text && w.fmt == GL_FLOW_JSON) {
            json_t *j = json_pack("{s:[],s:s,s:b}", "paths", "message", msg, "truncated", ps.truncated);
            json_out("path", j, 0, w.out);
            json_decref(j);
        } else {
            printf("%s\n", msg);
        }
        status = 1;
    } else if (!status && w.text) {
        for (size_t i = 0; i < ps.n_paths && !status; i++) {
            gl_flow *f = NULL;
            if (gl_trace_path_flow(ctx, &ps.paths[i], &f, &err)) {
                fprintf(stderr, "gpuledger path: %s\n", err.msg);
                status = 2;
            } else {
                print_path_text(f, i);
            }
            gl_flow_free(f);
        }
    } else if (!status && w.fmt == GL_FLOW_JSON) {
        json_t *arr = json_array();
        for (size_t i = 0; i < ps.n_paths && !status; i++) {
            gl_flow *f = NULL;
            if (gl_trace_path_flow(ctx, &ps.paths[i], &f, &err)) {
                fprintf(stderr, "gpuledger path: %s\n", err.msg);
                status = 2;
            } else {
                json_t *pj = gl_flow_json(f);
                json_object_del(pj, "query");
                json_object_set_new(pj, "hops", json_integer((json_int_t)ps.paths[i].n_hops));
                json_array_append_new(arr, pj);
            }
            gl_flow_free(f);
        }
        char ha[43], hb[43];
        json_t *j = json_pack("{s:{s:s,s:s,s:s,s:I,s:I,s:b},s:b,s:o}", "query", "command", "path", "from",
                              gl_addr_hex(aa, ha), "to", gl_addr_hex(bb, hb), "max_hops", (json_int_t)po.max_hops,
                              "max_paths", (json_int_t)(po.max_paths ? po.max_paths : GL_TRACE_MAX_PATHS_DEFAULT),
                              "time_respecting", !po.any_order, "truncated", ps.truncated, "paths", arr);
        if (!status)
            status = json_out("path", j, JSON_PRESERVE_ORDER, w.out);
        json_decref(j);
    } else if (!status) {
        gl_flow *f = NULL;
        if (gl_trace_paths_flow(ctx, &ps, &f, &err)) {
            fprintf(stderr, "gpuledger path: %s\n", err.msg);
            status = 2;
        } else {
            status = flow_out("path", f, w.fmt, w.out);
        }
        gl_flow_free(f);
    }
    gl_paths_release(&ps);
    free_walk(s, g, ctx);
    return status;
}
