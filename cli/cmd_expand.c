/* cmd_expand.c - `gpuledger expand --db DIR --rpc URL --depth K`: the
 * funding trail of the wallets in the store's events (trail.h): their token
 * and native transfers within a window of blocks, and their counterparties'
 * up to K hops, hubs left unexpanded.
 *
 * The endpoint comes from --rpc (repeatable: a failover pool), else from
 * $ETH_RPC_URL, else from the config file's endpoints for the store's chain
 * (--chain when it holds several; config.h).  URLs are printed redacted only.
 * Progress goes to stderr; the summary (a table, or JSON with --json) to
 * stdout.  Per-address decisions (expanded, or why not) are in the state
 * file the summary names, inside the store directory.
 * Exit status: 0 done (blocks the scan budget left out are reported), 2 bad
 * usage, a store or endpoint failure (what was committed stays; run again
 * to continue).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"
#include "commands.h"
#include "gpuledger/config.h"
#include "gpuledger/endpoint.h"
#include "gpuledger/store.h"
#include "gpuledger/trail.h"

#define MAX_URLS 16

static void usage(FILE *out)
{
    fprintf(out,
            "usage: gpuledger expand --db DIR [--rpc URL]... [--chain ID] [--depth K] [--window BLOCKS]\n"
            "                        [--hub-degree N] [--max-scan-blocks N] [--native auto|trace|scan|none]\n"
            "                        [--batch N] [--confirmations N] [--seed-roles LIST]\n"
            "                        [--hub-categories LIST] [--json] [--quiet]\n\n"
            "Follow the money of the wallets in the store's events (buyer, beneficiary, provider,\n"
            "payer): their ERC-20/721 Transfer logs and native transfers within a window around\n"
            "their activity, then their counterparties', up to K hops.  Hubs (labelled exchanges,\n"
            "bridges, routers, contracts, mixers, dexes, or addresses with more than N\n"
            "counterparties) are not expanded.  Re-running adds no duplicates and fetches only\n"
            "what is missing.\n\n"
            "  --db DIR              the store (read-write)\n"
            "  --rpc URL             JSON-RPC endpoint of the events' chain (repeat for failover);\n"
            "                        default $ETH_RPC_URL, else the config file's rpc.\"CHAIN\"\n"
            "  --chain ID            the chain whose config-file endpoints to use (default: the one\n"
            "                        chain the store's platforms are bound to)\n"
            "  --depth K             hops from the event wallets (default %u, at most %u)\n"
            "  --window BLOCKS       blocks before the first and after the last activity (default %u)\n"
            "  --hub-degree N        more distinct counterparties than N makes a hub (default %u)\n"
            "  --max-scan-blocks N   block budget of the native-transfer scan (default %u)\n"
            "  --native MODE         auto: trace_filter, else a block scan (default); trace; scan; none\n"
            "  --batch N             addresses per eth_getLogs/trace_filter filter (default %u)\n"
            "  --confirmations N     leave the last N blocks alone (default %u)\n"
            "  --seed-roles LIST     event roles that seed the trail (default %s)\n"
            "  --hub-categories LIST label categories that make hubs (default %s)\n"
            "  --json                the summary as JSON\n"
            "  -q, --quiet           no progress on stderr\n\n"
            "Examples:\n"
            "  gpuledger expand --db store/ --rpc \"$URL\" --depth 2\n"
            "  gpuledger expand --db store/ --native none --json > trail.json\n\n"
            "Exit status: 0 done, 2 bad usage or a store/endpoint failure (run again to continue).\n",
            GL_TRAIL_DEPTH_DEFAULT, GL_TRAIL_DEPTH_MAX, GL_TRAIL_WINDOW_DEFAULT, GL_TRAIL_HUB_DEGREE_DEFAULT,
            GL_TRAIL_MAX_SCAN_BLOCKS_DEFAULT, GL_TRAIL_ADDR_BATCH_DEFAULT, GL_TRAIL_CONFIRMATIONS_DEFAULT,
            GL_TRAIL_SEED_ROLES_DEFAULT, GL_TRAIL_HUB_CATEGORIES_DEFAULT);
}

static bool parse_u64(const char *s, uint64_t *out)
{
    if (!s || !*s || *s == '-' || *s == '+' || *s == ' ')
        return false;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end)
        return false;
    *out = v;
    return true;
}

static void log_stderr(void *ctx, int level, const char *msg)
{
    if (ctx && level == 0)
        return; /* --quiet: warnings and errors only */
    fprintf(stderr, "gpuledger expand: %s%s\n", level >= 2 ? "error: " : level == 1 ? "warning: " : "", msg);
}

static json_t *report_json(const gl_trail_report *r)
{
    json_t *levels = json_array();
    for (unsigned i = 0; i < r->levels; i++) {
        const gl_trail_level *l = &r->level[i];
        json_t *sk = json_object();
        for (int k = 0; k < GL_TRAIL_SKIP_COUNT; k++)
            json_object_set_new(sk, gl_trail_skip_name((gl_trail_skip)k), json_integer((json_int_t)l->skipped[k]));
        json_array_append_new(levels, json_pack("{s:I, s:I, s:I, s:I, s:o, s:I, s:I, s:I}", "depth", (json_int_t)i,
                                                "addresses", (json_int_t)l->addresses, "expanded",
                                                (json_int_t)l->expanded, "fetched", (json_int_t)l->fetched,
                                                "not_expanded", sk, "token_transfers", (json_int_t)l->token_transfers,
                                                "native_transfers", (json_int_t)l->native_transfers, "next",
                                                (json_int_t)l->next));
    }
    json_t *o = json_pack("{s:I, s:I, s:I, s:I, s:o, s:I, s:I, s:I, s:I, s:I, s:s, s:s, s:I, s:s}", "chain_id",
                          (json_int_t)r->chain_id, "head", (json_int_t)r->head, "safe_head",
                          (json_int_t)r->safe_head, "seeds", (json_int_t)r->seeds, "levels", levels, "transfers",
                          (json_int_t)r->transfers, "appearances", (json_int_t)r->appearances, "blocks",
                          (json_int_t)r->blocks, "log_requests", (json_int_t)r->log_requests, "trace_requests",
                          (json_int_t)r->trace_requests, "native_method", r->native_method, "native_note",
                          r->native_note, "scanned_blocks", (json_int_t)r->scanned_blocks, "state",
                          r->state_path);
    json_object_set_new(o, "txs", json_integer((json_int_t)r->txs));
    json_object_set_new(o, "findings", json_integer((json_int_t)r->findings));
    json_object_set_new(o, "unscanned_blocks", json_integer((json_int_t)r->unscanned_blocks));
    json_object_set_new(o, "unscanned_first",
                        r->unscanned_blocks ? json_pack("[II]", (json_int_t)r->unscanned_from,
                                                        (json_int_t)r->unscanned_to)
                                            : json_null());
    return o;
}

static void report_text(const gl_trail_report *r)
{
    printf("chain %" PRIu64 ": head %" PRIu64 ", read up to %" PRIu64 "; %" PRIu64 " seed wallets; native "
           "transfers: %s%s%s%s\n",
           r->chain_id, r->head, r->safe_head, r->seeds, r->native_method, r->native_note[0] ? " (" : "",
           r->native_note, r->native_note[0] ? ")" : "");
    printf("%5s %9s %9s %8s %6s %8s %6s %7s %6s %8s %8s %6s\n", "depth", "addresses", "expanded", "fetched", "zero",
           "platform", "label", "degree", "depth", "token", "native", "next");
    for (unsigned i = 0; i < r->levels; i++) {
        const gl_trail_level *l = &r->level[i];
        printf("%5u %9" PRIu64 " %9" PRIu64 " %8" PRIu64 " %6" PRIu64 " %8" PRIu64 " %6" PRIu64 " %7" PRIu64
               " %6" PRIu64 " %8" PRIu64 " %8" PRIu64 " %6" PRIu64 "\n",
               i, l->addresses, l->expanded, l->fetched, l->skipped[GL_TRAIL_SKIP_ZERO],
               l->skipped[GL_TRAIL_SKIP_PLATFORM], l->skipped[GL_TRAIL_SKIP_LABEL], l->skipped[GL_TRAIL_SKIP_DEGREE],
               l->skipped[GL_TRAIL_SKIP_DEPTH], l->token_transfers, l->native_transfers, l->next);
    }
    printf("stored %" PRIu64 " transfers, %" PRIu64 " transactions (senders checked), %" PRIu64
           " appearances, %" PRIu64 " block headers; %" PRIu64 " eth_getLogs, %" PRIu64 " trace_filter calls, %" PRIu64
           " blocks scanned\n",
           r->transfers, r->txs, r->appearances, r->blocks, r->log_requests, r->trace_requests, r->scanned_blocks);
    if (r->findings)
        printf("FINDINGS: %" PRIu64 " lies of the endpoint caught, stored as findings; the transfers "
               "they carry are flagged and not followed\n",
               r->findings);
    if (r->unscanned_blocks)
        printf("NOT scanned for native transfers: %" PRIu64 " blocks (first %" PRIu64 "..%" PRIu64
               "): raise --max-scan-blocks and run again\n",
               r->unscanned_blocks, r->unscanned_from, r->unscanned_to);
    printf("per-address decisions: %s\n", r->state_path);
}

/* The chain whose endpoints the config file gives: --chain, else the one
 * chain the store's platforms are bound to.  Not needed (0) when --rpc or
 * ETH_RPC_URL gives the endpoints: their chain is the one expanded.
 * 0 ok, 2 printed. */
static int store_chain(gl_store *s, size_t nurls, uint64_t *chain)
{
    const char *env = getenv("ETH_RPC_URL");
    if (*chain || nurls || (env && *env))
        return 0;
    uint64_t *ids = NULL;
    size_t n = 0;
    gl_err err = {0};
    if (gl_store_list_bindings(s, &ids, NULL, &n, &err)) {
        fprintf(stderr, "gpuledger expand: %s\n", err.msg);
        return 2;
    }
    int status = 0;
    for (size_t i = 0; i < n && !status; i++)
        if (*chain && ids[i] != *chain)
            status = 2;
        else
            *chain = ids[i];
    free(ids);
    if (!*chain || status) {
        fprintf(stderr, "gpuledger expand: no endpoint: give --rpc URL or set ETH_RPC_URL%s\n",
                status ? ", or --chain ID to take the config file's (the store holds several chains)"
                       : " (the store binds no chain to look up in the config file)");
        return 2;
    }
    return 0;
}

int cmd_expand(int argc, char **argv)
{
    gl_trail_opts o = {0};
    const char *db = NULL;
    const char *urls[MAX_URLS];
    size_t nurls = 0;
    uint64_t chain = 0;
    bool as_json = false, quiet = false;
    enum { O_DEPTH = 256, O_WINDOW, O_HUB_DEGREE, O_MAX_SCAN, O_BATCH, O_CONF, O_NATIVE, O_SEED_ROLES, O_HUB_CATS,
           O_JSON, O_CHAIN };
    static const struct option opts[] = {
        {"help", no_argument, 0, 'h'},
        {"db", required_argument, 0, 'd'},
        {"rpc", required_argument, 0, 'r'},
        {"chain", required_argument, 0, O_CHAIN},
        {"depth", required_argument, 0, O_DEPTH},
        {"window", required_argument, 0, O_WINDOW},
        {"hub-degree", required_argument, 0, O_HUB_DEGREE},
        {"max-scan-blocks", required_argument, 0, O_MAX_SCAN},
        {"batch", required_argument, 0, O_BATCH},
        {"confirmations", required_argument, 0, O_CONF},
        {"native", required_argument, 0, O_NATIVE},
        {"seed-roles", required_argument, 0, O_SEED_ROLES},
        {"hub-categories", required_argument, 0, O_HUB_CATS},
        {"json", no_argument, 0, O_JSON},
        {"quiet", no_argument, 0, 'q'},
        {0, 0, 0, 0},
    };
    int c, li = -1;
    cli_opt_reset();
    while ((c = getopt_long(argc, argv, ":hq", opts, &li)) != -1) {
        const char *v = optarg;
        uint64_t n = 0;
        bool num_ok = v && parse_u64(v, &n);
        switch (c) {
        case 'h': usage(stdout); return 0;
        case 'q': quiet = true; break;
        case O_JSON: as_json = true; break;
        case 'd': db = v; break;
        case 'r':
            if (nurls == MAX_URLS) {
                fprintf(stderr, "gpuledger expand: at most %d --rpc\n", MAX_URLS);
                return 2;
            }
            urls[nurls++] = v;
            break;
        case O_CHAIN:
            if (!num_ok || !n) {
                fprintf(stderr, "gpuledger expand: bad --chain '%s'\n", v);
                return 2;
            }
            chain = n;
            break;
        case O_NATIVE:
            if (!strcmp(v, "auto"))
                o.native = GL_TRAIL_NATIVE_AUTO;
            else if (!strcmp(v, "trace"))
                o.native = GL_TRAIL_NATIVE_TRACE;
            else if (!strcmp(v, "scan"))
                o.native = GL_TRAIL_NATIVE_SCAN;
            else if (!strcmp(v, "none"))
                o.native = GL_TRAIL_NATIVE_NONE;
            else {
                fprintf(stderr, "gpuledger expand: bad --native '%s' (auto, trace, scan or none)\n", v);
                return 2;
            }
            break;
        case O_SEED_ROLES: o.seed_roles = v; break;
        case O_HUB_CATS: o.hub_categories = v; break;
        case O_DEPTH: case O_WINDOW: case O_HUB_DEGREE: case O_MAX_SCAN: case O_BATCH: case O_CONF:
            if (!num_ok || (!n && c != O_CONF) || (c == O_DEPTH && n > GL_TRAIL_DEPTH_MAX) ||
                (c == O_BATCH && n > GL_TRAIL_ADDR_BATCH_MAX)) {
                fprintf(stderr, "gpuledger expand: bad --%s '%s'\n", opts[li].name, v);
                return 2;
            }
            if (c == O_DEPTH)
                o.depth = (unsigned)n;
            else if (c == O_WINDOW)
                o.window = n;
            else if (c == O_HUB_DEGREE)
                o.hub_degree = n;
            else if (c == O_MAX_SCAN)
                o.max_scan_blocks = n;
            else if (c == O_BATCH)
                o.addr_batch = (unsigned)n;
            else {
                o.confirmations = n;
                o.confirmations_set = true;
            }
            break;
        default: return cli_opt_error("expand", c, argv);
        }
    }
    if (optind < argc) {
        fprintf(stderr, "gpuledger expand: unexpected argument '%s'\n", argv[optind]);
        usage(stderr);
        return 2;
    }
    if (!db) {
        fprintf(stderr, "gpuledger expand: --db DIR is required\n");
        return 2;
    }
    gl_err err = {0};
    gl_store *s = gl_store_open(db, NULL, &err);
    if (!s) {
        fprintf(stderr, "gpuledger expand: %s\n", err.msg);
        return 2;
    }
    /* --rpc > ETH_RPC_URL > the config file's endpoints for the store's chain */
    gl_config_urls eps = {0};
    if (store_chain(s, nurls, &chain) || cli_endpoints("expand", chain, urls, nurls, quiet, &eps)) {
        gl_store_close(s);
        return 2;
    }
    gl_endpoint_opts eo = {.urls = (const char *const *)eps.urls, .nurls = eps.n, .log = log_stderr,
                           .log_ctx = quiet ? &quiet : NULL};
    gl_endpoints *ep = gl_endpoints_new(&eo, &err);
    gl_config_urls_release(&eps);
    if (!ep) {
        fprintf(stderr, "gpuledger expand: %s\n", err.msg);
        gl_store_close(s);
        return 2;
    }
    o.log = log_stderr;
    o.log_ctx = quiet ? &quiet : NULL;
    gl_trail_report rep;
    gl_code rc = gl_trail_expand(s, ep, &o, &rep, &err);
    gl_endpoints_free(ep);
    gl_store_close(s);
    if (rc) {
        fprintf(stderr, "gpuledger expand: %s\n", err.msg);
        if (rep.transfers)
            fprintf(stderr, "gpuledger expand: %" PRIu64 " transfers were stored before the failure; run again "
                            "to continue\n", rep.transfers);
        return 2;
    }
    if (!rep.seeds)
        fprintf(stderr, "gpuledger expand: warning: the store has no events with a seed role on chain %" PRIu64
                        " (is the endpoint on the chain that was indexed?)\n", rep.chain_id);
    if (as_json) {
        json_t *j = report_json(&rep);
        json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        fputc('\n', stdout);
        json_decref(j);
    } else {
        report_text(&rep);
    }
    if (fflush(stdout) == EOF) {
        fprintf(stderr, "gpuledger expand: cannot write the summary\n");
        return 2;
    }
    return 0;
}
