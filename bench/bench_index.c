/* bench_index.c - indexing throughput and peak memory: 100k+ events from a
 * local anvil, indexed by the gpuledger binary at each verification level.
 *
 * Two chains on one node.  Dense (issue 13's shape): GLM Transfer logs made
 * by Golem's batch payer (one in from the requestor, one per recipient per
 * transaction; tests/integration/index_testlib.h), BENCH_TXS transactions
 * (default 400) of BENCH_PER_TX recipients (499: 500 logs a transaction),
 * BENCH_TX_PER_BLOCK a block (10: 40 blocks, 200,001 logs with the mint);
 * `--verify none` and the default level alternate with the curl loop
 * (BENCH_ROUNDS rounds, default 3), each printed with events/s, % of the
 * loop, wall, CPU and peak RSS, then their medians.  Spread: BENCH_LEASES
 * market leases, BENCH_LEASE_PER_BLOCK per block, one log per transaction,
 * so that verification fetches a block for every few events.  Each run is a child process on a fresh store, so
 * its wall time and peak RSS (VmHWM after its exec: tests/support/peakrss.h) are its own.
 *
 * Figures go to stdout, one "name: value unit" line each; bench/run.sh
 * collects them.  The event count of every run is checked against the
 * number of transfers made (a fast wrong indexer is not a result), nothing
 * else is asserted.  Environment: GPULEDGER_BIN (default: ../gpuledger next
 * to this binary's directory), BENCH_TXS, BENCH_PER_TX, BENCH_LEASES,
 * BENCH_LEASE_PER_BLOCK, BENCH_ONLY (dense, spread, capped: the parts to
 * run), BENCH_DENSE_ALL=0 (skip the single senders/headers/full runs); BENCH_HOLD=1 keeps each chain up after it is
 * built (its URL and definition in $TMP/hold) until that file is removed,
 * for profiling the indexer against it by hand.  Capped: BENCH_CAP_TXS
 * (default 4000; 0 skips) payouts of 50 logs each behind the fault proxy's
 * range caps, for the number of eth_getLogs the indexer needs.
 */
#include "../tests/integration/index_testlib.h"
#include "../tests/support/faultproxy.h"

#include <libgen.h>

#include <curl/curl.h>

static tl_node N;
static tl_glm G;
static uint64_t EXPECT; /* events the chain holds for the definition being run */
static char TMP[256];
static char BIN[4200];

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static unsigned env_uint(const char *name, unsigned dflt)
{
    const char *v = getenv(name);
    return v && *v ? (unsigned)strtoul(v, NULL, 10) : dflt;
}

/* Count stored events and ERC-20 transfers without holding them. */
static void count_store(const char *dir, uint64_t *events, uint64_t *transfers)
{
    gl_store *s = tl_store_open(dir, false);
    gl_err err;
    gl_store_iter *it = gl_store_iter_events(s, GL_ANVIL_DEFAULT_CHAIN_ID, 0, UINT64_MAX - 1, &err);
    assert_non_null(it);
    *events = 0;
    for (;;) {
        gl_store_event ev;
        bool end;
        assert_int_equal(gl_store_next_event(it, &ev, &end, &err), GL_OK);
        if (end)
            break;
        (*events)++;
    }
    gl_store_iter_free(it);
    it = gl_store_iter_transfers(s, GL_ANVIL_DEFAULT_CHAIN_ID, 0, UINT64_MAX - 1, &err);
    assert_non_null(it);
    *transfers = 0;
    for (;;) {
        gl_store_transfer t;
        bool end;
        assert_int_equal(gl_store_next_transfer(it, &t, &end, &err), GL_OK);
        if (end)
            break;
        *transfers += t.asset == GL_STORE_ASSET_ERC20;
    }
    gl_store_iter_free(it);
    gl_store_close(s);
}

/* The endpoint runs use: the node, or a fault proxy in front of it. */
static const char *RUN_URL;

/* What one index run cost: wall seconds, CPU seconds (user + system, all
 * threads, from wait4: on a shared machine the wall time measures the
 * neighbours too, the CPU time mostly not) and peak RSS in MB. */
typedef struct run_cost {
    double wall, cpu, rss_mb;
    double wait4_rss_mb; /* ru_maxrss, for comparison: it counts this bench's own memory too */
    uint64_t events;
} run_cost;

static int wait_cost(pid_t pid, run_cost *c)
{
    struct rusage ru;
    long peak_kb;
    int st = gl_wait_peak_rss(pid, &peak_kb, &ru); /* not ru_maxrss: peakrss.h */
    if (st == -1)
        fail_msg("waiting for an index run: %s", strerror(errno));
    c->cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
             (double)ru.ru_stime.tv_usec / 1e6;
    c->rss_mb = (double)peak_kb / 1024.0;
    c->wait4_rss_mb = (double)ru.ru_maxrss / 1024.0;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* One index run at `level` on a fresh store ("default": no --verify, the
 * level a user gets).  curl_s: the yardstick's seconds for the same logs
 * taken around this run (0: none), for the "% of curl" figure. */
static run_cost run_level_vs(const char *def, const char *level, double curl_s)
{
    char dir[300], log[300];
    snprintf(dir, sizeof dir, "%s/store-%s", TMP, level);
    snprintf(log, sizeof log, "%s/run-%s.log", TMP, level);
    bool dflt = !strcmp(level, "default");
    const char *argv[] = {"gpuledger", "index", "--platform", def, "--rpc", RUN_URL ? RUN_URL : gl_anvil_url(N.node),
                          "--db",      dir,     "--json",     dflt ? NULL : "--verify", level, NULL};
    setenv("GPULEDGER_BIN", BIN, 1);
    unlink(log);
    run_cost c = {0};
    double t0 = now_s();
    pid_t pid = tl_spawn(argv, log);
    int st = wait_cost(pid, &c);
    c.wall = now_s() - t0;
    if (st) {
        char *out = tl_slurp(log);
        fail_msg("index --verify %s: exit %d\n%s", level, st, out);
    }
    /* Counted in a child: opening the store replays its write-ahead log
     * into memory, and a process forked from a big parent starts with the
     * parent's RSS as its high-water mark (Linux keeps it across exec). */
    uint64_t counts[2] = {0, 0};
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t cp = fork();
    assert_true(cp >= 0);
    if (cp == 0) {
        close(fds[0]);
        uint64_t k[2];
        count_store(dir, &k[0], &k[1]);
        ssize_t w = write(fds[1], k, sizeof k);
        _exit(w == (ssize_t)sizeof k ? 0 : 1);
    }
    close(fds[1]);
    ssize_t got = read(fds[0], counts, sizeof counts);
    close(fds[0]);
    assert_int_equal(tl_wait(cp), 0);
    assert_int_equal(got, (ssize_t)sizeof counts);
    uint64_t events = counts[0], transfers = counts[1];
    if (events != EXPECT || (G.transfers == EXPECT && transfers != EXPECT))
        fail_msg("--verify %s stored %" PRIu64 " events, %" PRIu64 " transfers; the chain has %" PRIu64, level,
                 events, transfers, EXPECT);
    c.events = events;
    char *out = tl_slurp(log);
    const char *j = strstr(out, "{\"appearances\"");
    json_t *sum = j ? json_loads(j, JSON_DISABLE_EOF_CHECK, NULL) : NULL;
    char vs[48] = "";
    if (curl_s > 0)
        snprintf(vs, sizeof vs, " (%.0f%% of curl)", 100 * curl_s / c.wall);
    printf("index --verify %-8s: %" PRIu64 " events in %.2f s = %.0f events/s%s, CPU %.2f s, peak RSS %.1f MB (wait4's: %.1f), "
           "%" PRId64 " blocks fetched, %" PRId64 " eth_getLogs\n",
           level, events, c.wall, (double)events / c.wall, vs, c.cpu, c.rss_mb, c.wait4_rss_mb,
           (int64_t)json_integer_value(json_object_get(sum, "blocks_fetched")),
           (int64_t)json_integer_value(json_object_get(sum, "log_requests")));
    fflush(stdout);
    json_decref(sum);
    free(out);
    tl_rm_rf(dir);
    return c;
}

static double run_level(const char *def, const char *level) { return run_level_vs(def, level, 0).wall; }

/* BENCH_HOLD set: keep the chain up, its URL and the definition in
 * $TMP/hold, until that file is removed (profiling by hand). */
static void hold(const char *def)
{
    if (!getenv("BENCH_HOLD"))
        return;
    char path[320];
    snprintf(path, sizeof path, "%s/hold", TMP);
    tl_write_file(path, "%s %s\n", gl_anvil_url(N.node), def);
    printf("holding: %s %s (rm %s to go on)\n", gl_anvil_url(N.node), def, path);
    fflush(stdout);
    while (access(path, F_OK) == 0)
        sleep(1);
}

/* Dense: GLM batch payouts, hundreds of logs per block. */
/* The yardstick: a plain libcurl loop fetching the same logs (same
 * address and topic, spans that stay under a 10,000-log answer), parsing
 * nothing but counting the logs in each answer.  It bounds what any indexer
 * can do against this node: the rest is decoding, verifying and storing. */
typedef struct curl_sink {
    char *buf;
    size_t len, cap;
} curl_sink;

static size_t sink_write(char *p, size_t sz, size_t n, void *ctx)
{
    curl_sink *s = ctx;
    size_t add = sz * n;
    if (s->len + add + 1 > s->cap) {
        size_t cap = (s->len + add + 1) * 2;
        char *b = realloc(s->buf, cap);
        if (!b)
            return 0;
        s->buf = b;
        s->cap = cap;
    }
    memcpy(s->buf + s->len, p, add);
    s->len += add;
    s->buf[s->len] = '\0';
    return add;
}

/* Seconds the loop took (0 when libcurl could not start). */
static double curl_baseline(uint64_t from, uint64_t to, const char *address, uint64_t span)
{
    CURL *c = curl_easy_init();
    if (!c)
        return 0;
    curl_sink sink = {NULL, 0, 0};
    struct curl_slist *hdr = curl_slist_append(NULL, "Content-Type: application/json");
    curl_easy_setopt(c, CURLOPT_URL, gl_anvil_url(N.node));
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
    uint64_t logs = 0, requests = 0;
    double t0 = now_s();
    for (uint64_t lo = from; lo <= to; lo += span) {
        uint64_t hi = lo + span - 1 < to ? lo + span - 1 : to;
        char body[512];
        snprintf(body, sizeof body,
                 "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_getLogs\",\"params\":[{\"fromBlock\":\"0x%" PRIx64
                 "\",\"toBlock\":\"0x%" PRIx64 "\",\"address\":\"%s\",\"topics\":[\"0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef\"]}]}",
                 lo, hi, address);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        sink.len = 0;
        if (curl_easy_perform(c) != CURLE_OK)
            break;
        requests++;
        for (const char *p = sink.buf; p && (p = strstr(p, "\"logIndex\"")); p++)
            logs++;
    }
    double dt = now_s() - t0;
    printf("curl loop baseline: %" PRIu64 " logs in %" PRIu64 " eth_getLogs, %.2f s: %.0f events/s\n", logs, requests,
           dt, (double)logs / dt);
    curl_slist_free_all(hdr);
    curl_easy_cleanup(c);
    free(sink.buf);
    return dt;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* BENCH_ONLY (e.g. "dense"): run only the parts it names. */
static bool only_skips(const char *name)
{
    const char *o = getenv("BENCH_ONLY");
    return o && *o && !strstr(o, name);
}

/* ntx payouts of per_tx recipients, per_block transactions to a block
 * (mined by hand: the chain has 10 a block, 5,000 logs each). */
static void glm_payouts_blocks(tl_node *n, tl_glm *g, unsigned ntx, unsigned per_tx, unsigned per_block)
{
    char *hex = tl_glm_payout_hex(per_tx), last[67] = "";
    tl_rpc_void(n, "evm_setAutomine", json_pack("[b]", 0));
    for (unsigned k = 0; k < ntx; k++) {
        tl_glm_payout_send(n, g, hex, last);
        if (k % per_block == per_block - 1 || k == ntx - 1)
            tl_rpc_void(n, "evm_mine", NULL);
    }
    tl_rpc_void(n, "evm_setAutomine", json_pack("[b]", 1));
    free(hex);
    if (ntx) {
        json_t *r = tl_wait_receipt(n, last);
        const char *st = json_string_value(json_object_get(r, "status"));
        if (!st || strcmp(st, "0x1"))
            fail_msg("golemTransferIndirect reverted (block gas limit?)");
        json_decref(r);
    }
    g->transfers += (uint64_t)ntx * (1 + per_tx);
}

static double median(double *v, unsigned n)
{
    qsort(v, n, sizeof v[0], cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Medians of one level's rounds. */
typedef struct level_runs {
    const char *level;
    double ratio[16], wall[16], cpu[16], rss[16], rate[16];
} level_runs;

static void level_report(level_runs *l, unsigned rounds)
{
    double lo = 1e9, hi = 0;
    for (unsigned r = 0; r < rounds; r++) {
        lo = l->ratio[r] < lo ? l->ratio[r] : lo;
        hi = l->ratio[r] > hi ? l->ratio[r] : hi;
    }
    printf("index --verify %-8s against the curl loop: %.0f%% (median of %u, %.0f%%..%.0f%%); medians: %.0f events/s, "
           "wall %.2f s, CPU %.2f s, peak RSS %.1f MB\n",
           l->level, 100 * median(l->ratio, rounds), rounds, 100 * lo, 100 * hi, median(l->rate, rounds),
           median(l->wall, rounds), median(l->cpu, rounds), median(l->rss, rounds));
}

static void bench_dense(void **state)
{
    (void)state;
    if (only_skips("dense"))
        skip();
    /* The shape: 400 payouts of 1 + 499 logs (500 events per
     * transaction), 10 transactions a block, 40 blocks: 200,000 events
     * (and the mint). */
    unsigned ntx = env_uint("BENCH_TXS", 400), per = env_uint("BENCH_PER_TX", 499),
             per_block = env_uint("BENCH_TX_PER_BLOCK", 10);
    if (per_block < 1)
        per_block = 1;
    double t0 = now_s();
    tl_glm_deploy(&N, &G);
    glm_payouts_blocks(&N, &G, ntx, per, per_block);
    EXPECT = G.transfers;
    uint64_t nblocks = (ntx + per_block - 1) / per_block, per_blk_logs = (uint64_t)per_block * (1 + per);
    printf("dense chain: %" PRIu64 " GLM transfers, %u per transaction, %u transactions a block, %" PRIu64
           " blocks, built in %.1f s\n",
           G.transfers, per + 1, per_block, nblocks, now_s() - t0);
    char def[300];
    snprintf(def, sizeof def, "%s/glm.json", TMP);
    char *t = tl_glm_def(&G, "glm-bench");
    tl_write_file(def, "%s", t);
    free(t);
    /* The yardstick's spans stay under a 10,000-log answer (a block at
     * least).  The node's speed drifts over a run (and this machine's
     * with it), so the loop is taken between every two index runs, the
     * levels alternate (curl, none, curl, default, curl, none, ...) and
     * each run's ratio is (mean of the two loops around it) / run. */
    uint64_t span = per_blk_logs ? 10000 / per_blk_logs : 19;
    span = span < 1 ? 1 : span;
    unsigned rounds = env_uint("BENCH_ROUNDS", 3);
    if (rounds < 1 || rounds > 16)
        rounds = 3;
    level_runs lv[2] = {{.level = "none"}, {.level = "default"}};
    double before = curl_baseline(G.start_block, tl_head(&N), G.glm, span);
    hold(def);
    for (unsigned r = 0; r < rounds; r++) {
        for (int k = 0; k < 2; k++) {
            run_cost c = run_level_vs(def, lv[k].level, before);
            double after = curl_baseline(G.start_block, tl_head(&N), G.glm, span);
            lv[k].ratio[r] = (before + after) / 2 / c.wall;
            lv[k].wall[r] = c.wall;
            lv[k].cpu[r] = c.cpu;
            lv[k].rss[r] = c.rss_mb;
            lv[k].rate[r] = (double)c.events / c.wall;
            before = after;
        }
    }
    for (int k = 0; k < 2; k++)
        level_report(&lv[k], rounds);
    fflush(stdout);
    if (env_uint("BENCH_DENSE_ALL", 1)) {
        run_level(def, "senders");
        run_level(def, "headers");
        run_level(def, "full");
    }
}

/* Spread: market leases, BENCH_LEASE_PER_BLOCK per block, one event and
 * one transaction each: a block fetch per few events. */
static void bench_spread(void **state)
{
    (void)state;
    if (only_skips("spread"))
        skip();
    unsigned nl = env_uint("BENCH_LEASES", 5000), per = env_uint("BENCH_LEASE_PER_BLOCK", 10);
    tl_market m;
    double t0 = now_s();
    tl_market_deploy(&N, &m);
    tl_rpc_void(&N, "evm_setAutomine", json_pack("[b]", 0));
    for (unsigned i = 0; i < nl; i++) {
        tl_market_lease(&N, &m, 3 + (int)(i % 7), -1, 1 + (int)(i % 2), 1 + i % 3, 1 + i % 5, false);
        if (i % per == per - 1)
            tl_rpc_void(&N, "evm_mine", NULL);
    }
    tl_rpc_void(&N, "evm_mine", NULL);
    tl_rpc_void(&N, "evm_setAutomine", json_pack("[b]", 1));
    EXPECT = m.nex;
    G.transfers = 0;
    printf("spread chain: %zu market events, %u per block, built in %.1f s\n", m.nex, per, now_s() - t0);
    char def[300];
    snprintf(def, sizeof def, "%s/market.json", TMP);
    char *t = tl_market_def(&m, "market-bench", GL_ANVIL_DEFAULT_CHAIN_ID, false);
    tl_write_file(def, "%s", t);
    free(t);
    hold(def);
    run_level(def, "none");
    run_level(def, "senders");
    run_level(def, "headers");
    run_level(def, "full");
    tl_market_free(&m);
}

/* Capped: the request-count yardstick end to end.  200k GLM
 * Transfer logs over 4,000 blocks (50 a block: BENCH_CAP_TXS payouts of
 * 49 recipients) behind the fault proxy refusing eth_getLogs answers of
 * more than 10,000 logs in each provider's words (with a suggested range,
 * without one), or spans of more than 2,000 blocks; the real indexer
 * plans its requests (minimum 20, or 2 for the span cap). */
static void bench_capped(void **state)
{
    (void)state;
    unsigned ntx = env_uint("BENCH_CAP_TXS", 4000);
    if (!ntx || only_skips("capped"))
        skip();
    /* A node of its own: anvil mines ten times slower with the other
     * chains' 200k logs in its state. */
    tl_node C;
    if (tl_node_start(&C, 0, NULL))
        fail_msg("cannot start a node for the capped chain");
    double t0 = now_s();
    tl_glm_deploy(&C, &G);
    tl_glm_payouts_mined(&C, &G, ntx, 49);
    EXPECT = G.transfers;
    printf("capped chain: %" PRIu64 " GLM transfers in %u blocks, built in %.1f s\n", G.transfers, ntx + 1,
           now_s() - t0);
    char def[300];
    snprintf(def, sizeof def, "%s/glm-capped.json", TMP);
    char *t = tl_glm_def(&G, "glm-capped");
    tl_write_file(def, "%s", t);
    free(t);
    static const struct {
        gl_fault kind;
        uint64_t cap;
        const char *name;
    } styles[] = {
        {GL_FAULT_RANGE_INFURA, 10000, "10,000-log cap, Infura's words (suggested range)"},
        {GL_FAULT_RANGE_ALCHEMY, 10000, "10,000-log cap, Alchemy's words (suggested range)"},
        {GL_FAULT_RANGE_COUNT, 10000, "10,000-log cap, no suggestion"},
        {GL_FAULT_RANGE_SPAN, 2000, "2,000-block span cap"},
    };
    for (size_t i = 0; i < sizeof styles / sizeof styles[0]; i++) {
        gl_fproxy *fp = gl_fproxy_start(gl_anvil_url(C.node), 1);
        assert_non_null(fp);
        gl_fault_rule rule = {.kind = styles[i].kind, .method = "eth_getLogs", .cap = styles[i].cap};
        assert_true(gl_fproxy_set_rules(fp, &rule, 1));
        RUN_URL = gl_fproxy_url(fp);
        printf("behind a %s:\n", styles[i].name);
        run_level(def, "none");
        printf("  refused: %u of %u eth_getLogs calls the proxy saw\n", gl_fproxy_injected(fp, styles[i].kind),
               gl_fproxy_calls(fp, "eth_getLogs"));
        fflush(stdout);
        RUN_URL = NULL;
        gl_fproxy_stop(fp);
    }
    tl_node_stop(&C);
}

int main(int argc, char **argv)
{
    (void)argc;
    const char *b = getenv("GPULEDGER_BIN");
    if (b && *b) {
        snprintf(BIN, sizeof BIN, "%s", b);
    } else {
        char self[4096];
        snprintf(self, sizeof self, "%s", argv[0]);
        snprintf(BIN, sizeof BIN, "%s/../gpuledger", dirname(self));
    }
    /* 10 payouts of 500 transfers a block need more than anvil's 30M gas */
    static const char *const node_args[] = {"--gas-limit", "2000000000", NULL};
    if (tl_node_start(&N, 0, node_args))
        return 1;
    tl_tmpdir(TMP, sizeof TMP, "bench-index");
    const struct CMUnitTest tests[] = {cmocka_unit_test(bench_dense), cmocka_unit_test(bench_spread),
                                       cmocka_unit_test(bench_capped)};
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    tl_rm_rf(TMP);
    tl_node_stop(&N);
    return rc;
}
