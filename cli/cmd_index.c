/* cmd_index.c - `gpuledger index` and `gpuledger follow`: index a platform's
 * events from JSON-RPC endpoints into a store (indexer.h), once up to
 * head - confirmations, or following the head through reorgs.
 *
 * Order of work, so that a refusal changes nothing: the definition is
 * loaded, the endpoints' chain id is compared with the definition's, and
 * only then is the store opened (created when missing) with the platform's
 * chain binding checked.  SIGINT/SIGTERM end the run after the batch being
 * written: the store is consistent after every commit anyway (kill -9
 * included), and the next run resumes from its cursor.
 *
 * Exit status: 0 done (integrity findings, if any, were stored and printed
 * on stderr), 1 the run failed (endpoint, store), 2 bad usage or input (an
 * unknown platform, a chain id mismatch, a gap after the cursor).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"
#include "progress.h"
#include "commands.h"
#include "gpuledger/config.h"
#include "gpuledger/endpoint.h"
#include "gpuledger/indexer.h"
#include "gpuledger/platform.h"
#include "gpuledger/rpc.h"
#include "gpuledger/store.h"

/* Set by SIGINT/SIGTERM: the only state a signal handler may touch. */
static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

typedef struct index_args {
    const char *cmd;
    const char *platform;
    const char *rpc[16]; /* --rpc values, each a URL or a comma list */
    size_t n_rpc;
    const char *db;
    bool quiet, json, quorum, no_prefetch;
    uint64_t ingest_keys;
    unsigned concurrency;
    gl_indexer_opts o;
} index_args;

static void usage(FILE *out, const char *cmd)
{
    bool follow = !strcmp(cmd, "follow");
    fprintf(out,
            "usage: gpuledger %s --platform NAME|FILE [--rpc URL[,URL...]]... --db DIR [options]\n\n"
            "%s\n\n"
            "  --platform NAME|FILE  a built-in definition (gpuledger platforms) or a .json file\n"
            "  --rpc URL[,URL...]    JSON-RPC endpoints of the definition's chain (repeatable); default\n"
            "                        $ETH_RPC_URL, else the config file's rpc.\"CHAIN\" (gpuledger config show)\n"
            "  --db DIR              the store (created when missing)\n"
            "  --from N              first block (default: the definition's start, or the store's cursor)\n"
            "%s"
            "  --confirmations K     stay K blocks behind the head (default: the definition's)\n"
            "  --verify LEVEL        none | senders | headers (default) | full\n"
            "                        senders: the tx behind each event rebuilt, its sender recovered;\n"
            "                        headers: + block hash recomputed, transactionsRoot, parent link;\n"
            "                        full: + receiptsRoot rebuilt and every log proven in it;\n"
            "                        none: trust the endpoint (no block fetch when logs carry blockTimestamp,\n"
            "                        else block headers only)\n"
            "%s"
            "  --batch-logs N        events per committed batch (default %u)\n"
            "  --request-logs N      logs one eth_getLogs answer is sized for (default %u); an answer\n"
            "                        over N KB of JSON is stopped and its range split\n"
            "  --block-chunk N       blocks fetched per JSON-RPC batch (default %u)\n"
            "  --initial-span N      blocks in the first eth_getLogs request (default %u)\n"
            "  --concurrency N       requests in flight at once (default 4)\n"
            "  --addresses-per-request N  contracts in one eth_getLogs filter (default %u; lower it\n"
            "                        for a provider that caps the filter or the request size)\n"
            "  --ingest-keys N       address-index keys gathered per table file (default %zu, 46 bytes\n"
            "                        each, twice over while one file is written; lower it to save memory)\n"
            "  --no-prefetch         fetch the next range's logs and the next chunk's blocks only once\n"
            "                        the current ones are stored (default: meanwhile, on connections of\n"
            "                        their own, and the range after that too while the endpoint has\n"
            "                        refused no range)\n"
            "  --quorum              with several URLs: two must agree on the hash of every block\n"
            "                        holding data (a disagreement is a finding, the events disputed)\n"
            "  --accept-redefinition index with a definition that differs from the stored one\n"
            "  --json                print the summary as JSON\n"
            "  -q, --quiet           no progress (findings and errors are still printed)\n\n"
            "Progress: a live bar on a terminal, else a line every %.0f s (NO_COLOR: no colour).\n\n"
            "Examples:\n"
            "  gpuledger %s --platform livepeer-arbitrum --rpc \"$URL1,$URL2\" --db store/\n"
            "  gpuledger %s --platform fixtures/platforms/golem-polygon.json --db store/ --verify full\n"
            "                        (endpoints from ETH_RPC_URL or the config file)\n\n"
            "Exit status: 0 done, 1 the run failed, 2 bad usage or input.\n",
            cmd,
            follow ? "Index a platform's events, then follow the head, rolling back what reorgs replace,\n"
                     "until interrupted (SIGINT/SIGTERM)."
                   : "Index a platform's events from the store's cursor (or --from) to --to, or to the head\n"
                     "minus the confirmations, verifying what the endpoint claims.",
            follow ? "" : "  --to N                last block (default and cap: head - confirmations)\n",
            follow ? "  --poll-ms N           how often the head is polled (default 2000)\n" : "",
            GL_INDEXER_BATCH_LOGS_DEFAULT, GL_INDEXER_REQUEST_LOGS_DEFAULT, GL_INDEXER_BLOCK_CHUNK_DEFAULT,
            GL_INDEXER_INITIAL_SPAN_DEFAULT, GL_INDEXER_ADDRESSES_PER_REQUEST, GL_STORE_INGEST_KEYS_DEFAULT,
            GL_PROGRESS_INTERVAL_S, cmd, cmd);
}

static bool parse_u64(const char *s, uint64_t *out)
{
    if (!s || !*s || *s == '-')
        return false;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) ? 16 : 10);
    if (errno || *end)
        return false;
    *out = v;
    return true;
}

static bool parse_uint(const char *s, unsigned *out)
{
    uint64_t v;
    if (!parse_u64(s, &v) || v > 1000000000u)
        return false;
    *out = (unsigned)v;
    return true;
}

/* 0 ok, 2 usage error (printed), 3 --help (printed). */
static int parse_args(int argc, char **argv, index_args *a)
{
    bool follow = !strcmp(a->cmd, "follow");
    enum { O_FROM = 256, O_TO, O_CONF, O_VERIFY, O_BATCH_LOGS, O_REQUEST_LOGS, O_BLOCK_CHUNK, O_INITIAL_SPAN,
           O_POLL_MS, O_CONCURRENCY, O_ADDR_PER_REQ, O_INGEST_KEYS, O_QUORUM, O_NO_PREFETCH, O_REDEFINE, O_JSON };
    const struct option opts[] = {
        {"help", no_argument, 0, 'h'},
        {"platform", required_argument, 0, 'p'},
        {"rpc", required_argument, 0, 'r'},
        {"db", required_argument, 0, 'd'},
        {"from", required_argument, 0, O_FROM},
        {follow ? "poll-ms" : "to", required_argument, 0, follow ? O_POLL_MS : O_TO},
        {"confirmations", required_argument, 0, O_CONF},
        {"verify", required_argument, 0, O_VERIFY},
        {"batch-logs", required_argument, 0, O_BATCH_LOGS},
        {"request-logs", required_argument, 0, O_REQUEST_LOGS},
        {"block-chunk", required_argument, 0, O_BLOCK_CHUNK},
        {"initial-span", required_argument, 0, O_INITIAL_SPAN},
        {"concurrency", required_argument, 0, O_CONCURRENCY},
        {"addresses-per-request", required_argument, 0, O_ADDR_PER_REQ},
        {"ingest-keys", required_argument, 0, O_INGEST_KEYS},
        {"quorum", no_argument, 0, O_QUORUM},
        {"no-prefetch", no_argument, 0, O_NO_PREFETCH},
        {"accept-redefinition", no_argument, 0, O_REDEFINE},
        {"json", no_argument, 0, O_JSON},
        {"quiet", no_argument, 0, 'q'},
        {0, 0, 0, 0},
    };
    int c, li = -1;
    cli_opt_reset();
    while ((c = getopt_long(argc, argv, ":hq", opts, &li)) != -1) {
        const char *v = optarg;
        bool ok = true;
        switch (c) {
        case 'h': usage(stdout, a->cmd); return 3;
        case 'p': a->platform = v; break;
        case 'r':
            if (a->n_rpc < sizeof a->rpc / sizeof a->rpc[0])
                a->rpc[a->n_rpc++] = v;
            else
                ok = false;
            break;
        case 'd': a->db = v; break;
        case 'q': a->quiet = true; break;
        case O_FROM: ok = (a->o.has_from = parse_u64(v, &a->o.from)); break;
        case O_TO: ok = (a->o.has_to = parse_u64(v, &a->o.to)); break;
        case O_CONF: ok = (a->o.has_confirmations = parse_u64(v, &a->o.confirmations)); break;
        case O_VERIFY: ok = gl_indexer_verify_parse(v, &a->o.verify, NULL) == GL_OK; break;
        case O_BATCH_LOGS:
            ok = parse_uint(v, &a->o.batch_logs) && a->o.batch_logs >= 1 && a->o.batch_logs <= GL_INDEXER_BATCH_LOGS_MAX;
            break;
        case O_REQUEST_LOGS: ok = parse_uint(v, &a->o.request_logs) && a->o.request_logs >= 1; break;
        case O_BLOCK_CHUNK:
            ok = parse_uint(v, &a->o.block_chunk) && a->o.block_chunk >= 1 &&
                 a->o.block_chunk <= GL_INDEXER_BLOCK_CHUNK_MAX;
            break;
        case O_INITIAL_SPAN: ok = parse_u64(v, &a->o.initial_span) && a->o.initial_span >= 1; break;
        case O_POLL_MS: ok = parse_u64(v, &a->o.poll_ms) && a->o.poll_ms >= 1; break;
        case O_CONCURRENCY: ok = parse_uint(v, &a->concurrency) && a->concurrency >= 1; break;
        case O_ADDR_PER_REQ:
            ok = parse_uint(v, &a->o.addresses_per_request) && a->o.addresses_per_request >= 1;
            break;
        case O_INGEST_KEYS:
            ok = parse_u64(v, &a->ingest_keys) && a->ingest_keys >= 1 && a->ingest_keys <= ((uint64_t)1 << 26);
            break;
        case O_QUORUM: a->quorum = a->o.quorum = true; break;
        case O_NO_PREFETCH: a->no_prefetch = true; break;
        case O_REDEFINE: a->o.allow_redefine = true; break;
        case O_JSON: a->json = true; break;
        default: return cli_opt_error(a->cmd, c, argv);
        }
        if (!ok) {
            if (c == 'r')
                fprintf(stderr, "gpuledger %s: too many --rpc\n", a->cmd);
            else
                fprintf(stderr, "gpuledger %s: bad value '%s' for --%s\n", a->cmd, v, li >= 0 ? opts[li].name : "?");
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "gpuledger %s: unexpected argument '%s'\n", a->cmd, argv[optind]);
        usage(stderr, a->cmd);
        return 2;
    }
    if (!a->platform || !a->db) {
        fprintf(stderr, "gpuledger %s: %s is required\n", a->cmd, !a->platform ? "--platform" : "--db");
        usage(stderr, a->cmd);
        return 2;
    }
    return 0;
}

/* Chatter and progress share stderr; the endpoint pool may log from its
 * prefetching threads, so both go through one lock. */
typedef struct log_ctx {
    const char *cmd;
    bool quiet;
    pthread_mutex_t mu;
    cli_progress prog;
    uint64_t first, target; /* the pass the bar shows; target 0: none yet */
} log_ctx;

static void log_line(void *ctx, int level, const char *msg)
{
    log_ctx *lc = ctx;
    if (level == 0 && lc->quiet)
        return;
    pthread_mutex_lock(&lc->mu);
    if (level == 0) {
        cli_progress_note(&lc->prog, "%s", msg);
    } else {
        cli_progress_clear(&lc->prog);
        fprintf(stderr, "gpuledger %s: %s%s\n", lc->cmd, level == 1 ? "warning: " : "error: ", msg);
    }
    pthread_mutex_unlock(&lc->mu);
}

/* The indexer's progress hook: a bar over [first, target] (a new one when
 * follow starts another pass). */
static void on_progress(void *ctx, uint64_t first, uint64_t cursor, uint64_t target, uint64_t events)
{
    log_ctx *lc = ctx;
    (void)events;
    if (lc->quiet)
        return;
    pthread_mutex_lock(&lc->mu);
    if (first != lc->first || target != lc->target || !lc->target) {
        char phase[64];
        snprintf(phase, sizeof phase, "blocks %" PRIu64 "..%" PRIu64, first, target);
        cli_progress_phase(&lc->prog, phase, target - first + 1, "blocks");
        lc->first = first;
        lc->target = target;
    }
    cli_progress_update(&lc->prog, cursor >= first ? cursor - first + 1 : 0, 0);
    pthread_mutex_unlock(&lc->mu);
}

static bool should_stop(void *ctx)
{
    (void)ctx;
    return stop_requested != 0;
}

static void print_summary(const index_args *a, const gl_platform *p, const gl_indexer_stats *st, bool ok)
{
    if (a->json) {
        json_t *j = json_pack("{s:s, s:s, s:I, s:b, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
                              "command", a->cmd, "platform", p->name, "chain_id", (json_int_t)p->chain_id, "ok", ok,
                              "verify", gl_indexer_verify_name(a->o.verify), "cursor", (json_int_t)st->cursor,
                              "events", (json_int_t)st->events, "txs", (json_int_t)st->txs, "blocks",
                              (json_int_t)st->blocks, "transfers", (json_int_t)st->transfers, "appearances",
                              (json_int_t)st->appearances, "findings", (json_int_t)st->findings, "rollbacks",
                              (json_int_t)st->rollbacks, "batches", (json_int_t)st->batches, "log_requests",
                              (json_int_t)st->log_requests, "log_splits", (json_int_t)st->log_splits, "blocks_fetched", (json_int_t)st->blocks_fetched);
        if (j && st->has_range)
            json_object_set_new(j, "first_block", json_integer((json_int_t)st->first_block));
        if (j && !strcmp(a->cmd, "follow"))
            json_object_set_new(j, "outages", json_integer((json_int_t)st->outages));
        char *s = j ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
        if (s)
            printf("%s\n", s);
        free(s);
        json_decref(j);
        return;
    }
    if (st->has_range)
        printf("%s: blocks %" PRIu64 "..%" PRIu64 " of chain %" PRIu64 ": ", p->name, st->first_block, st->cursor,
               p->chain_id);
    else
        printf("%s: nothing new (cursor at block %" PRIu64 ") of chain %" PRIu64 ": ", p->name, st->cursor,
               p->chain_id);
    printf("%" PRIu64 " events, %" PRIu64 " txs, %" PRIu64 " blocks, %" PRIu64 " transfers, %" PRIu64
           " findings, %" PRIu64 " rollbacks (verify %s)\n",
           st->events, st->txs, st->blocks, st->transfers, st->findings, st->rollbacks,
           gl_indexer_verify_name(a->o.verify));
}

static int run(int argc, char **argv)
{
    index_args a;
    memset(&a, 0, sizeof a);
    a.cmd = argv[0];
    gl_indexer_opts_init(&a.o);
    int st = parse_args(argc, argv, &a);
    if (st)
        return st == 3 ? 0 : st;

    gl_err err = {0};
    gl_platform *p = NULL;
    gl_endpoints *e = NULL;
    gl_store *s = NULL;
    gl_indexer *ix = NULL;
    gl_config_urls urls = {0};
    int status = 1;
    log_ctx lc = {.cmd = a.cmd, .quiet = a.quiet};
    pthread_mutex_init(&lc.mu, NULL);
    cli_progress_init(&lc.prog, a.cmd, stderr, a.quiet);

    if (gl_platform_resolve(&p, a.platform, &err)) {
        fprintf(stderr, "gpuledger %s: %s\n", a.cmd, err.msg);
        status = 2;
        goto done;
    }
    /* --rpc > ETH_RPC_URL > the config file's endpoints for the definition's chain */
    if (cli_endpoints(a.cmd, p->chain_id, a.rpc, a.n_rpc, a.quiet, &urls)) {
        status = 2;
        goto done;
    }
    gl_endpoint_opts eo;
    memset(&eo, 0, sizeof eo);
    eo.urls = (const char *const *)urls.urls;
    eo.nurls = urls.n;
    eo.max_concurrency = a.concurrency;
    eo.quorum = a.quorum;
    eo.log = log_line;
    eo.log_ctx = &lc;
    eo.stop = should_stop;
    if (!(e = gl_endpoints_new(&eo, &err))) {
        fprintf(stderr, "gpuledger %s: %s\n", a.cmd, err.msg);
        status = 2;
        goto done;
    }
    if (gl_indexer_check_chain(e, p, &err)) {
        fprintf(stderr, "gpuledger %s: %s\n", a.cmd, err.msg);
        status = err.code == GL_EVERIFY ? 2 : 1;
        goto done;
    }
    gl_store_binding bind = {p->name, p->chain_id};
    gl_store_open_opts so = {.create = true,
                             .created_by = "gpuledger index",
                             .bindings = &bind,
                             .n_bindings = 1,
                             .bulk_write = true,
                             .ingest_keys = (size_t)a.ingest_keys};
    if (!(s = gl_store_open(a.db, &so, &err))) {
        fprintf(stderr, "gpuledger %s: %s\n", a.cmd, err.msg);
        goto done;
    }
    a.o.log = log_line;
    a.o.prefetch = !a.no_prefetch;
    a.o.stop = should_stop;
    a.o.progress = on_progress;
    a.o.ctx = &lc;
    if (!(ix = gl_indexer_new(s, e, p, &a.o, &err))) {
        fprintf(stderr, "gpuledger %s: %s\n", a.cmd, err.msg);
        status = err.code == GL_EINVAL || err.code == GL_EVERIFY ? 2 : 1;
        goto done;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    gl_code rc = !strcmp(a.cmd, "follow") ? gl_indexer_follow(ix, &err) : gl_indexer_run(ix, &err);
    gl_indexer_stats stats;
    gl_indexer_stats_get(ix, &stats);
    pthread_mutex_lock(&lc.mu);
    if (lc.target)
        cli_progress_end(&lc.prog);
    pthread_mutex_unlock(&lc.mu);
    if (rc)
        fprintf(stderr, "gpuledger %s: %s\n", a.cmd, err.msg);
    gl_err werr;
    if (gl_store_write_gathered(s, &werr)) {
        fprintf(stderr, "gpuledger %s: %s (the next run derives them)\n", a.cmd, werr.msg);
        rc = rc ? rc : werr.code;
    }
    print_summary(&a, p, &stats, rc == GL_OK);
    status = rc ? 1 : 0;
done:
    gl_indexer_free(ix);
    gl_store_close(s);
    gl_endpoints_free(e);
    gl_config_urls_release(&urls);
    gl_platform_free(p);
    pthread_mutex_destroy(&lc.mu);
    return status;
}

int cmd_index(int argc, char **argv) { return run(argc, argv); }

int cmd_follow(int argc, char **argv) { return run(argc, argv); }
