/* bench_index.c - indexing throughput and peak memory: 100k+ events from a
 * local anvil, indexed by the gpuledger binary at each verification level.
 *
 * Two chains on one node.  Dense: GLM Transfer logs made by Golem's batch
 * payer (one in from the requestor, one per recipient per transaction;
 * tests/integration/index_testlib.h), BENCH_TXS transactions (default 400: 200,401 logs) of
 * BENCH_PER_TX recipients, one transaction per block.  Spread: BENCH_LEASES
 * market leases, BENCH_LEASE_PER_BLOCK per block, one log per transaction,
 * so that verification fetches a block for every few events.  Each run is a child process on a fresh store, so
 * its wall time and peak RSS (wait4's ru_maxrss) are its own.
 *
 * Figures go to stdout, one "name: value unit" line each; bench/run.sh
 * collects them.  The event count of every run is checked against the
 * number of transfers made (a fast wrong indexer is not a result), nothing
 * else is asserted.  Environment: GPULEDGER_BIN (default: ../gpuledger next
 * to this binary's directory), BENCH_TXS, BENCH_PER_TX, BENCH_LEASES,
 * BENCH_LEASE_PER_BLOCK; BENCH_HOLD=1 keeps each chain up after it is
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

/* One index run at `level` on a fresh store: its wall time in seconds. */
static double run_level(const char *def, const char *level, const char *extra)
{
    char dir[300], log[300];
    snprintf(dir, sizeof dir, "%s/store-%s%s", TMP, level, extra ? "-x" : "");
    snprintf(log, sizeof log, "%s/run-%s.log", TMP, level);
    (void)extra;
    const char *argv[] = {"gpuledger", "index", "--platform", def,   "--rpc", RUN_URL ? RUN_URL : gl_anvil_url(N.node), "--db", dir,
                          "--verify",  level,   "--json",     extra, NULL};
    setenv("GPULEDGER_BIN", BIN, 1);
    unlink(log);
    double t0 = now_s();
    pid_t pid = tl_spawn(argv, log);
    long rss;
    int st = tl_wait_rss(pid, &rss);
    double dt = now_s() - t0;
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
        uint64_t c[2];
        count_store(dir, &c[0], &c[1]);
        ssize_t w = write(fds[1], c, sizeof c);
        _exit(w == (ssize_t)sizeof c ? 0 : 1);
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
    char *out = tl_slurp(log);
    const char *j = strstr(out, "{\"appearances\"");
    json_t *sum = j ? json_loads(j, JSON_DISABLE_EOF_CHECK, NULL) : NULL;
    printf("index --verify %-7s%s: %" PRIu64 " events in %.2f s = %.0f events/s, peak RSS %.1f MB, "
           "%" PRId64 " blocks fetched, %" PRId64 " eth_getLogs\n",
           level, extra ? " " : "", events, dt, (double)events / dt, (double)rss / 1024.0,
           (int64_t)json_integer_value(json_object_get(sum, "blocks_fetched")),
           (int64_t)json_integer_value(json_object_get(sum, "log_requests")));
    fflush(stdout);
    json_decref(sum);
    free(out);
    tl_rm_rf(dir);
    return dt;
}

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

static void bench_dense(void **state)
{
    (void)state;
    /* 400 x 501: the yardstick is a curl loop fetching 200k events */
    unsigned ntx = env_uint("BENCH_TXS", 400), per = env_uint("BENCH_PER_TX", 500);
    double t0 = now_s();
    tl_glm_deploy(&N, &G);
    tl_glm_payouts(&N, &G, ntx, per);
    EXPECT = G.transfers;
    printf("dense chain: %" PRIu64 " GLM transfers in %u blocks (%u per block), built in %.1f s\n", G.transfers,
           ntx + 1, per + 1, now_s() - t0);
    char def[300];
    snprintf(def, sizeof def, "%s/glm.json", TMP);
    char *t = tl_glm_def(&G, "glm-bench");
    tl_write_file(def, "%s", t);
    free(t);
    /* 501 logs per block: 19 blocks stay under a 10,000-log answer.  The
     * node's speed drifts over a run (and this machine's with it), so the
     * yardstick is taken around each `none` run, BENCH_ROUNDS times, and
     * the ratio is the median of (mean of the two loops) / run. */
    unsigned rounds = env_uint("BENCH_ROUNDS", 5);
    double ratios[16];
    if (rounds < 1 || rounds > 16)
        rounds = 3;
    double before = curl_baseline(G.start_block, tl_head(&N), G.glm, 19);
    hold(def);
    for (unsigned r = 0; r < rounds; r++) {
        double run = run_level(def, "none", NULL);
        double after = curl_baseline(G.start_block, tl_head(&N), G.glm, 19);
        ratios[r] = (before + after) / 2 / run;
        before = after;
    }
    qsort(ratios, rounds, sizeof ratios[0], cmp_double);
    printf("index --verify none against the curl loop: %.0f%% (median of %u rounds, %.0f%%..%.0f%%)\n",
           100 * ratios[rounds / 2], rounds, 100 * ratios[0], 100 * ratios[rounds - 1]);
    fflush(stdout);
    run_level(def, "senders", NULL);
    run_level(def, "headers", NULL);
    run_level(def, "full", NULL);
}

/* Spread: market leases, BENCH_LEASE_PER_BLOCK per block, one event and
 * one transaction each: a block fetch per few events. */
static void bench_spread(void **state)
{
    (void)state;
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
    run_level(def, "none", NULL);
    run_level(def, "senders", NULL);
    run_level(def, "headers", NULL);
    run_level(def, "full", NULL);
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
    if (!ntx)
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
        run_level(def, "none", NULL);
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
    if (tl_node_start(&N, 0, NULL))
        return 1;
    tl_tmpdir(TMP, sizeof TMP, "bench-index");
    const struct CMUnitTest tests[] = {cmocka_unit_test(bench_dense), cmocka_unit_test(bench_spread),
                                       cmocka_unit_test(bench_capped)};
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    tl_rm_rf(TMP);
    tl_node_stop(&N);
    return rc;
}
