/* test_reorg.c - reorgs on anvil while `follow` runs, and while nothing
 * runs.
 *
 * A reorg is made with evm_snapshot / evm_revert and new, different
 * transactions, so the blocks at the old heights get other contents and
 * other hashes.  Oracles: a clean index of the final chain into a fresh
 * store (the reorged store must hold exactly the same keys and values,
 * apart from the one "reorg" finding that records the rollback), and the
 * leases the test sent on the surviving fork (tl_expect).
 *
 * The soak test runs follow through the fault proxy (honest faults at
 * random, outages, single blocks refused) for GL_SOAK_SECONDS (20) while
 * another thread makes leases, extensions and reorgs on the node, then
 * compares what follow stored with a clean index of the final chain.
 */
#include <pthread.h>
#include <stdatomic.h>

#include "index_testlib.h"

#include "../support/faultproxy.h"

typedef struct world {
    tl_node n;
    tl_market m;
    char tmp[256];
} world;

static world W;

static int setup(void **state)
{
    (void)state;
    tl_tmpdir(W.tmp, sizeof W.tmp, "reorg");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    if (W.tmp[0])
        tl_rm_rf(W.tmp);
    return 0;
}

/* A fresh node and market for each test: reorgs change the chain. */
static void world_start(void)
{
    if (tl_node_start(&W.n, 0, NULL))
        fail_msg("anvil");
    tl_market_deploy(&W.n, &W.m);
    for (int i = 0; i < 5; i++)
        tl_market_lease(&W.n, &W.m, 3 + i % 3, -1, 1 + i % 2, 1 + (uint32_t)i, 2, true);
}

static void world_stop(void)
{
    tl_market_free(&W.m);
    tl_node_stop(&W.n);
}

static bool skip_meta(const char *family, const char *val, size_t vlen)
{
    (void)val;
    (void)vlen;
    return !strcmp(family, "meta");
}

static bool skip_reorg_finding(const char *family, const char *val, size_t vlen)
{
    return !strcmp(family, "findings") && memmem(val, vlen, "\"kind\":\"reorg\"", 14) != NULL;
}

/* Forget what the test asked for after a snapshot it reverts to. */
typedef struct mark {
    size_t nex, nleases;
    char id[32];
} mark;

static mark take_snapshot(void)
{
    mark k = {W.m.nex, W.m.nleases, ""};
    json_t *id = tl_rpc(&W.n, "evm_snapshot", NULL);
    snprintf(k.id, sizeof k.id, "%s", json_string_value(id));
    json_decref(id);
    return k;
}

static void revert_to(const mark *k)
{
    json_t *ok = tl_rpc(&W.n, "evm_revert", json_pack("[s]", k->id));
    assert_true(json_is_true(ok));
    json_decref(ok);
    W.m.nex = k->nex;
    W.m.nleases = k->nleases;
}

static void check_events(const char *dir)
{
    gl_store *s = tl_store_open(dir, false);
    gl_store_event *evs;
    size_t n = tl_events(s, GL_ANVIL_DEFAULT_CHAIN_ID, &evs);
    assert_int_equal(n, W.m.nex);
    for (size_t i = 0; i < n; i++)
        tl_check_event(&evs[i], &W.m.ex[i], &W.m, true);
    free(evs);
    gl_store_close(s);
}

/* The "reorg" finding of a store: exactly one, naming from_block. */
static void check_reorg_finding(const char *dir, uint64_t from_block)
{
    gl_store *s = tl_store_open(dir, false);
    json_t *f = tl_findings(s, GL_ANVIL_DEFAULT_CHAIN_ID);
    assert_int_equal(tl_count_kind(f, "reorg"), 1);
    assert_int_equal(json_array_size(f), 1);
    const json_t *r = json_array_get(f, 0);
    assert_int_equal(json_integer_value(json_object_get(r, "from_block")), (json_int_t)from_block);
    assert_int_equal(json_integer_value(json_object_get(r, "block")), (json_int_t)from_block - 1);
    json_decref(f);
    gl_store_close(s);
}

/* follow's on_head: the first time, replace the last 3 blocks by 4 others;
 * the second time, stop. */
typedef struct follow_ctx {
    int calls;
    mark snap;
    uint64_t cursor_at_reorg;
    uint64_t head_after;
} follow_ctx;

static bool on_head(void *ctx, uint64_t cursor, uint64_t head)
{
    follow_ctx *fc = ctx;
    fc->calls++;
    if (fc->calls == 1) {
        fc->cursor_at_reorg = cursor;
        assert_int_equal(cursor, head);
        revert_to(&fc->snap);
        /* Other buyers, other sizes, one more block than before. */
        tl_market_lease(&W.n, &W.m, 8, -1, 1, 3, 1, true);
        tl_market_lease(&W.n, &W.m, 9, 4, 2, 2, 4, true);
        tl_market_extend(&W.n, &W.m, 7, 1, 3, true);
        tl_market_lease(&W.n, &W.m, 7, -1, 1, 1, 1, true);
        fc->head_after = tl_head(&W.n);
        return true;
    }
    assert_int_equal(cursor, fc->head_after);
    return false;
}

static void test_follow_rolls_back_a_reorg(void **state)
{
    (void)state;
    world_start();
    follow_ctx fc = {0};
    fc.snap = take_snapshot();
    uint64_t fork = tl_head(&W.n);
    tl_market_lease(&W.n, &W.m, 3, -1, 1, 4, 4, true);
    tl_market_lease(&W.n, &W.m, 4, 5, 2, 1, 1, true);
    tl_market_extend(&W.n, &W.m, 5, 2, 2, true);

    char dir[300], clean[300];
    snprintf(dir, sizeof dir, "%s/follow", W.tmp);
    snprintf(clean, sizeof clean, "%s/follow-clean", W.tmp);
    gl_platform *p = tl_market_platform(&W.m, "gpumarket-test", GL_ANVIL_DEFAULT_CHAIN_ID, true);
    gl_endpoints *e = tl_endpoints(gl_anvil_url(W.n.node));
    gl_store *s = tl_store_open(dir, true);
    gl_indexer_opts o;
    gl_indexer_opts_init(&o);
    o.has_confirmations = true;
    o.confirmations = 0;
    o.poll_ms = 20;
    o.batch_logs = 3;
    o.on_head = on_head;
    o.ctx = &fc;
    o.log = tl_log_quiet;
    gl_err err;
    gl_indexer *ix = gl_indexer_new(s, e, p, &o, &err);
    assert_non_null(ix);
    if (gl_indexer_follow(ix, &err))
        fail_msg("follow: %s", err.msg);
    gl_indexer_stats st;
    gl_indexer_stats_get(ix, &st);
    assert_int_equal(fc.calls, 2);
    assert_int_equal(st.rollbacks, 1);
    assert_int_equal(st.cursor, fc.head_after);
    gl_indexer_free(ix);
    gl_store_close(s);
    gl_endpoints_free(e);

    check_reorg_finding(dir, fork + 1);
    check_events(dir);
    tl_index(gl_anvil_url(W.n.node), clean, p, NULL);
    check_events(clean);
    tl_assert_same_store(dir, clean, skip_reorg_finding);
    gl_platform_free(p);
    world_stop();
}

static void test_reorg_to_a_shorter_chain_while_stopped(void **state)
{
    (void)state;
    world_start();
    mark snap = take_snapshot();
    uint64_t fork = tl_head(&W.n);
    for (int i = 0; i < 4; i++)
        tl_market_lease(&W.n, &W.m, 3 + i, -1, 1, 2, 2, true);
    char dir[300], clean[300];
    snprintf(dir, sizeof dir, "%s/stopped", W.tmp);
    snprintf(clean, sizeof clean, "%s/stopped-clean", W.tmp);
    gl_platform *p = tl_market_platform(&W.m, "gpumarket-test", GL_ANVIL_DEFAULT_CHAIN_ID, true);
    tl_index(gl_anvil_url(W.n.node), dir, p, NULL);
    /* The new fork is two blocks shorter than the indexed one. */
    revert_to(&snap);
    tl_market_lease(&W.n, &W.m, 9, 8, 2, 1, 3, true);
    tl_market_lease(&W.n, &W.m, 8, -1, 1, 2, 1, true);
    assert_int_equal(tl_head(&W.n), fork + 2);
    gl_indexer_stats st = tl_index(gl_anvil_url(W.n.node), dir, p, NULL);
    assert_int_equal(st.rollbacks, 1);
    assert_int_equal(st.cursor, fork + 2);
    check_reorg_finding(dir, fork + 1);
    check_events(dir);
    tl_index(gl_anvil_url(W.n.node), clean, p, NULL);
    tl_assert_same_store(dir, clean, skip_reorg_finding);
    gl_platform_free(p);
    world_stop();
}

/* A reorg below blocks that hold no data: the cursor's hash catches it
 * even though no stored block changed, and nothing is lost. */
static void test_reorg_of_empty_blocks(void **state)
{
    (void)state;
    world_start();
    mark snap = take_snapshot();
    uint64_t fork = tl_head(&W.n);
    /* Three blocks without market events. */
    for (int i = 0; i < 3; i++)
        tl_rpc_void(&W.n, "evm_mine", NULL);
    char dir[300], clean[300];
    snprintf(dir, sizeof dir, "%s/empty", W.tmp);
    snprintf(clean, sizeof clean, "%s/empty-clean", W.tmp);
    gl_platform *p = tl_market_platform(&W.m, "gpumarket-test", GL_ANVIL_DEFAULT_CHAIN_ID, true);
    tl_index(gl_anvil_url(W.n.node), dir, p, NULL);
    revert_to(&snap);
    tl_market_lease(&W.n, &W.m, 6, -1, 2, 4, 1, true);
    tl_rpc_void(&W.n, "evm_mine", NULL);
    tl_rpc_void(&W.n, "evm_mine", NULL);
    tl_rpc_void(&W.n, "evm_mine", NULL);
    gl_indexer_stats st = tl_index(gl_anvil_url(W.n.node), dir, p, NULL);
    assert_int_equal(st.rollbacks, 1);
    assert_int_equal(st.cursor, fork + 4);
    check_events(dir);
    tl_index(gl_anvil_url(W.n.node), clean, p, NULL);
    tl_assert_same_store(dir, clean, skip_reorg_finding);
    gl_platform_free(p);
    world_stop();
}

/* The binary: `gpuledger follow` picks up new blocks as they come and ends
 * cleanly (exit 0, store consistent) on SIGTERM. */
static bool cursor_at(const char *dir, uint64_t want)
{
    if (!tl_exists(dir))
        return false;
    gl_err err;
    gl_store_open_opts o = {.read_only = true};
    gl_store *s = gl_store_open(dir, &o, &err);
    if (!s)
        return false;
    gl_store_cursor c;
    bool found = false;
    bool ok = gl_store_get_cursor(s, GL_ANVIL_DEFAULT_CHAIN_ID, "gpumarket-test", &c, &found, &err) == GL_OK &&
              found && c.block == want;
    gl_store_close(s);
    return ok;
}

static void wait_cursor(const char *dir, uint64_t want, pid_t pid)
{
    for (int i = 0; i < 600; i++) {
        if (cursor_at(dir, want))
            return;
        int st;
        if (waitpid(pid, &st, WNOHANG) == pid)
            fail_msg("follow exited (%d) before reaching block %" PRIu64, st, want);
        nanosleep(&(struct timespec){.tv_nsec = 50 * 1000 * 1000}, NULL);
    }
    fail_msg("follow did not reach block %" PRIu64 " in 30 s", want);
}

static void test_cli_follow_until_sigterm(void **state)
{
    (void)state;
    world_start();
    char def[300], dir[300], clean[300], log[300];
    snprintf(def, sizeof def, "%s/cli-market.json", W.tmp);
    snprintf(dir, sizeof dir, "%s/cli-follow", W.tmp);
    snprintf(clean, sizeof clean, "%s/cli-follow-clean", W.tmp);
    snprintf(log, sizeof log, "%s/cli-follow.log", W.tmp);
    char *t = tl_market_def(&W.m, "gpumarket-test", GL_ANVIL_DEFAULT_CHAIN_ID, true);
    tl_write_file(def, "%s", t);
    free(t);
    const char *argv[] = {"gpuledger", "follow", "--platform", def, "--rpc", gl_anvil_url(W.n.node), "--db", dir,
                          "--poll-ms", "50", "-q", NULL};
    pid_t pid = tl_spawn(argv, log);
    wait_cursor(dir, tl_head(&W.n), pid);
    tl_market_lease(&W.n, &W.m, 6, 7, 1, 2, 3, true);
    tl_market_extend(&W.n, &W.m, 8, 1, 1, true);
    wait_cursor(dir, tl_head(&W.n), pid);
    kill(pid, SIGTERM);
    int st = tl_wait(pid);
    if (st) {
        char *out = tl_slurp(log);
        fail_msg("follow ended with %d after SIGTERM:\n%s", st, out);
    }
    check_events(dir);
    gl_platform *p = tl_market_platform(&W.m, "gpumarket-test", GL_ANVIL_DEFAULT_CHAIN_ID, true);
    tl_index(gl_anvil_url(W.n.node), clean, p, NULL);
    tl_assert_same_store(dir, clean, skip_meta);
    gl_platform_free(p);
    world_stop();
}

/* ------------------------------------------------------------- the soak */

/* What the chain-making thread and follow share. */
typedef struct soak_ctx {
    gl_fproxy *fp;
    const gl_fault_rule *rules;      /* the usual faults */
    size_t nrules;
    unsigned seconds;
    uint64_t seed;
    /* written by the chain thread */
    unsigned txs, reorgs, outages;
    atomic_bool done;                /* the chain is final */
    atomic_uint_fast64_t final_head;
    /* written by follow's hooks */
    unsigned caught;                 /* on_head calls after done with the final head */
    struct timespec deadline;
    char unexpected[200];
} soak_ctx;

static uint64_t soak_rand(uint64_t *s)
{
    uint64_t z = (*s += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

static void soak_sleep_ms(uint64_t ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* The chain thread: for `seconds`, a lease or an extension every 50-250
 * ms, now and then a snapshot and, a few blocks later, a revert to it
 * followed by other transactions (a reorg 1 to 4 blocks deep, sometimes to
 * a shorter chain), and now and then an outage of the proxy (every request
 * reset or answered 503) for 0.2 to 1.2 s.  Only this thread uses W.n. */
static void *soak_chain(void *arg)
{
    soak_ctx *c = arg;
    uint64_t rng = c->seed;
    struct timespec end;
    clock_gettime(CLOCK_MONOTONIC, &end);
    end.tv_sec += c->seconds;
    mark snap;
    bool has_snap = false;
    unsigned since_snap = 0;
    for (;;) {
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (now.tv_sec > end.tv_sec || (now.tv_sec == end.tv_sec && now.tv_nsec >= end.tv_nsec))
            break;
        unsigned r = (unsigned)(soak_rand(&rng) % 20);
        if (!has_snap && r < 3) {
            snap = take_snapshot();
            has_snap = true;
            since_snap = 0;
        } else if (has_snap && since_snap >= 1 && (r < 4 || since_snap >= 4)) {
            revert_to(&snap);
            has_snap = false;
            c->reorgs++;
            unsigned k = 1 + (unsigned)(soak_rand(&rng) % 3);
            for (unsigned i = 0; i < k; i++, c->txs++)
                tl_market_lease(&W.n, &W.m, 3 + (int)(soak_rand(&rng) % 7), -1, 1 + (int)(soak_rand(&rng) % 2),
                                1 + (uint32_t)(soak_rand(&rng) % 4), 1 + (uint32_t)(soak_rand(&rng) % 5), true);
        } else if (r == 19) {
            const gl_fault_rule down[] = {
                {.kind = GL_FAULT_RESET, .every_nth = 2},
                {.kind = GL_FAULT_HTTP_5XX, .http_status = 503},
            };
            assert_true(gl_fproxy_set_rules(c->fp, down, 2));
            soak_sleep_ms(200 + soak_rand(&rng) % 1000);
            assert_true(gl_fproxy_set_rules(c->fp, c->rules, c->nrules));
            c->outages++;
        } else {
            if (W.m.nleases && r % 3 == 0)
                tl_market_extend(&W.n, &W.m, 3 + (int)(soak_rand(&rng) % 7), 1 + soak_rand(&rng) % W.m.nleases,
                                 1 + (uint32_t)(soak_rand(&rng) % 3), true);
            else
                tl_market_lease(&W.n, &W.m, 3 + (int)(soak_rand(&rng) % 7), (int)(soak_rand(&rng) % 11) - 1,
                                1 + (int)(soak_rand(&rng) % 2), 1 + (uint32_t)(soak_rand(&rng) % 4),
                                1 + (uint32_t)(soak_rand(&rng) % 5), true);
            c->txs++;
            since_snap += has_snap;
        }
        soak_sleep_ms(50 + soak_rand(&rng) % 200);
    }
    atomic_store(&c->final_head, tl_head(&W.n));
    atomic_store(&c->done, true);
    return NULL;
}

/* Follow ends once it has caught up twice with the final head after the
 * chain was final: the second pass began after the chain stopped moving. */
static bool soak_on_head(void *ctx, uint64_t cursor, uint64_t head)
{
    soak_ctx *c = ctx;
    if (!atomic_load(&c->done))
        return true;
    uint64_t fh = atomic_load(&c->final_head);
    c->caught = cursor == fh && head == fh ? c->caught + 1 : 0;
    return c->caught < 2;
}

static bool soak_stop(void *ctx)
{
    soak_ctx *c = ctx;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (now.tv_sec < c->deadline.tv_sec)
        return false;
    if (!c->unexpected[0])
        snprintf(c->unexpected, sizeof c->unexpected, "follow did not catch up with the final chain in time");
    return true;
}

static void test_follow_soak(void **state)
{
    (void)state;
    const char *env = getenv("GL_SOAK_SECONDS"), *senv = getenv("GL_SOAK_SEED");
    soak_ctx c;
    memset(&c, 0, sizeof c);
    c.seconds = env && atoi(env) > 0 ? (unsigned)atoi(env) : 20;
    c.seed = senv ? strtoull(senv, NULL, 10) : 1;
    fprintf(stderr, "test_reorg: soak: %u s, seed %" PRIu64 " (GL_SOAK_SECONDS, GL_SOAK_SEED)\n", c.seconds, c.seed);
    world_start();
    const gl_fault_rule rules[] = {
        /* first: a count cap decides on the answer, so rules after it do not fire */
        {.kind = GL_FAULT_LOGS_REFUSE, .variant = 0, .probability = 0.2},
        {.kind = GL_FAULT_RANGE_SPAN, .method = "eth_getLogs", .cap = 6},
        {.kind = GL_FAULT_RANGE_INFURA, .method = "eth_getLogs", .cap = 5},
        {.kind = GL_FAULT_HTTP_429, .probability = 0.05},
        {.kind = GL_FAULT_HTTP_5XX, .probability = 0.05},
        {.kind = GL_FAULT_RESET, .probability = 0.03},
        {.kind = GL_FAULT_TRUNCATED, .probability = 0.03},
        {.kind = GL_FAULT_MALFORMED, .probability = 0.03},
        {.kind = GL_FAULT_BATCH_MISSING_ID, .probability = 0.05},
        {.kind = GL_FAULT_BATCH_DUP_ID, .probability = 0.05},
        {.kind = GL_FAULT_BATCH_REORDER, .probability = 0.1},
        {.kind = GL_FAULT_HEADER_NOT_FOUND, .method = "eth_getBlockByNumber", .probability = 0.2},
    };
    c.fp = gl_fproxy_start(gl_anvil_url(W.n.node), c.seed);
    assert_non_null(c.fp);
    c.rules = rules;
    c.nrules = sizeof rules / sizeof rules[0];
    assert_true(gl_fproxy_set_rules(c.fp, rules, c.nrules));

    const char *urls[] = {gl_fproxy_url(c.fp)};
    gl_endpoint_opts eo;
    memset(&eo, 0, sizeof eo);
    eo.urls = urls;
    eo.nurls = 1;
    eo.seed = c.seed;
    eo.backoff_base_ms = 2;
    eo.backoff_cap_ms = 20;
    eo.max_attempts = 4; /* an outage spends them: follow must wait it out */
    eo.timeout_ms = 2000;
    gl_err err;
    gl_endpoints *e = gl_endpoints_new(&eo, &err);
    assert_non_null(e);
    char dir[300], clean[300];
    snprintf(dir, sizeof dir, "%s/soak", W.tmp);
    snprintf(clean, sizeof clean, "%s/soak-clean", W.tmp);
    gl_platform *p = tl_market_platform(&W.m, "gpumarket-test", GL_ANVIL_DEFAULT_CHAIN_ID, true);
    gl_store *s = tl_store_open(dir, true);
    gl_indexer_opts o;
    gl_indexer_opts_init(&o);
    o.has_confirmations = true;
    o.confirmations = 0;
    o.poll_ms = 20;
    o.batch_logs = 5;
    o.block_chunk = 3;
    o.initial_span = 8;
    o.prefetch = true;
    o.on_head = soak_on_head;
    o.stop = soak_stop;
    o.ctx = &c;
    o.log = tl_log_quiet;
    clock_gettime(CLOCK_MONOTONIC, &c.deadline);
    c.deadline.tv_sec += c.seconds + 90;
    gl_indexer *ix = gl_indexer_new(s, e, p, &o, &err);
    assert_non_null(ix);
    pthread_t chain;
    assert_int_equal(pthread_create(&chain, NULL, soak_chain, &c), 0);
    gl_code rc = gl_indexer_follow(ix, &err);
    pthread_join(chain, NULL);
    gl_indexer_stats st;
    gl_indexer_stats_get(ix, &st);
    gl_indexer_free(ix);
    gl_store_close(s);
    gl_endpoints_free(e);
    fprintf(stderr,
            "test_reorg: soak: %u txs, %u reorgs, %u outages made; %u requests, %u faults injected; follow: %" PRIu64
            " rollbacks, %" PRIu64 " outages waited out, %" PRIu64 " retries, %" PRIu64
            " single blocks refused, %" PRIu64 " events, cursor %" PRIu64 "\n",
            c.txs, c.reorgs, c.outages, gl_fproxy_requests(c.fp), gl_fproxy_injected(c.fp, GL_FAULT_NONE),
            st.rollbacks, st.outages, st.retries, st.refused_blocks, st.events, st.cursor);
    unsigned injected = gl_fproxy_injected(c.fp, GL_FAULT_NONE);
    gl_fproxy_stop(c.fp);
    if (rc)
        fail_msg("follow ended with an error: %s", err.msg);
    if (c.unexpected[0])
        fail_msg("%s", c.unexpected);
    assert_int_equal(st.cursor, atomic_load(&c.final_head));
    assert_true(c.txs > 0);
    if (c.outages)
        assert_true(st.outages > 0);
    assert_true(injected > 0);

    check_events(dir);
    tl_index(gl_anvil_url(W.n.node), clean, p, NULL);
    tl_assert_same_store(dir, clean, skip_reorg_finding);
    gl_platform_free(p);
    world_stop();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_follow_rolls_back_a_reorg),
        cmocka_unit_test(test_reorg_to_a_shorter_chain_while_stopped),
        cmocka_unit_test(test_reorg_of_empty_blocks),
        cmocka_unit_test(test_cli_follow_until_sigterm),
        cmocka_unit_test(test_follow_soak),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
