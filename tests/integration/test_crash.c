/* test_crash.c - kill -9 at random moments of `gpuledger index`: the store
 * must open and resume to exactly the state of an uninterrupted run.
 *
 * A chain with a few thousand market events is built on anvil; a clean
 * run of the binary (GPULEDGER_BIN, default build/release/gpuledger) into
 * one store is the oracle.  Then the binary is started on a second store
 * again and again, each time killed with SIGKILL after a seeded random
 * delay (the seed is printed; GL_CRASH_SEED replays one), with small
 * batches so that kills land before, during and between commits, while
 * the store is being opened, and while blocks are being fetched.  After
 * at least GL_CRASH_KILLS kills, a last run completes, and the two stores
 * must hold the same keys and values, family by family.
 */
#include "index_testlib.h"

#define GL_CRASH_KILLS 24
#define GL_CRASH_LEASES 2400
#define GL_CRASH_PER_BLOCK 12

static tl_node N;
static tl_market M;
static char TMP[256];

static uint64_t rng_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int setup(void **state)
{
    (void)state;
    if (tl_node_start(&N, 0, NULL))
        return -1;
    tl_market_deploy(&N, &M);
    /* Many leases, GL_CRASH_PER_BLOCK per block, without waiting. */
    tl_rpc_void(&N, "evm_setAutomine", json_pack("[b]", 0));
    for (int i = 0; i < GL_CRASH_LEASES; i++) {
        tl_market_lease(&N, &M, 3 + i % 7, i % 5 ? -1 : 9 - i % 3, 1 + i % 2, 1 + (uint32_t)i % 3,
                        1 + (uint32_t)i % 5, false);
        if (i % GL_CRASH_PER_BLOCK == GL_CRASH_PER_BLOCK - 1)
            tl_rpc_void(&N, "evm_mine", NULL);
    }
    tl_rpc_void(&N, "evm_mine", NULL);
    tl_rpc_void(&N, "evm_setAutomine", json_pack("[b]", 1));
    tl_tmpdir(TMP, sizeof TMP, "crash");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    tl_market_free(&M);
    tl_node_stop(&N);
    if (TMP[0])
        tl_rm_rf(TMP);
    return 0;
}

static void test_kill9_resumes_to_the_clean_state(void **state)
{
    (void)state;
    char def[300], ref[300], log[300];
    snprintf(def, sizeof def, "%s/market.json", TMP);
    snprintf(ref, sizeof ref, "%s/ref", TMP);
    snprintf(log, sizeof log, "%s/runs.log", TMP);
    char *t = tl_market_def(&M, "gpumarket-test", GL_ANVIL_DEFAULT_CHAIN_ID, true);
    tl_write_file(def, "%s", t);
    free(t);
    const char *url = gl_anvil_url(N.node);
    const char *clean[] = {"gpuledger", "index", "--platform", def, "--rpc", url, "--db", ref, "-q", NULL};
    double t0 = now_s();
    int st = tl_run_bin(clean, log);
    double clean_s = now_s() - t0;
    if (st) {
        char *out = tl_slurp(log);
        fail_msg("clean run: exit %d\n%s", st, out);
    }
    /* What a run that resumes costs before it can commit anything (start,
     * open, ask the head): under the sanitizers that alone can outlast a
     * third of the clean run, and a window shorter than it would kill every
     * resumed run before its first commit, round after round. */
    t0 = now_s();
    st = tl_run_bin(clean, log);
    double resume_s = now_s() - t0;
    if (st) {
        char *out = tl_slurp(log);
        fail_msg("no-op run: exit %d\n%s", st, out);
    }
    /* Small batches and chunks: many commits to land between. */
    /* Odd rounds gather the address index and write it as table files of
     * 256 keys (--ingest-keys): kills then land between a commit and its
     * file, and while a file is being written on its thread. */
    const char *argv[] = {"gpuledger", "index",         "--platform", def,   "--rpc", url,  "--db", NULL,
                          "--batch-logs", "37", "--block-chunk", "3", "--request-logs", "150", "--initial-span", "12",
                          "-q", "--ingest-keys", "256", NULL};
    uint64_t seed = (uint64_t)time(NULL);
    const char *env = getenv("GL_CRASH_SEED");
    if (env)
        seed = strtoull(env, NULL, 0);
    fprintf(stderr, "test_crash: seed %" PRIu64 " (GL_CRASH_SEED), clean run %.2f s, a resumed run's start %.2f s\n",
            seed, clean_s, resume_s);
    uint64_t rng = seed;
    /* Delays up to a third of the clean run: each killed run gets a little
     * further, and some die while opening the store. */
    double window = clean_s / 3;
    if (window < 2 * resume_s)
        window = 2 * resume_s;
    if (window < 0.05)
        window = 0.05;
    /* Rounds: a fresh store is killed again and again until a run gets to
     * finish before its kill; then it must equal the clean store.  Rounds
     * go on until enough kills have landed. */
    unsigned kills = 0, attempts = 0, rounds = 0, incomplete = 0, ahead_n = 0;
    while (kills < GL_CRASH_KILLS && attempts < 8 * GL_CRASH_KILLS) {
        char dir[300];
        snprintf(dir, sizeof dir, "%s/killed-%u", TMP, rounds);
        argv[7] = dir;
        argv[17] = rounds++ % 2 ? "--ingest-keys" : NULL;
        for (;;) {
            attempts++;
            pid_t pid = tl_spawn(argv, log);
            double d = window * (double)(rng_next(&rng) % 10000) / 10000.0;
            struct timespec ts = {(time_t)d, (long)((d - (double)(time_t)d) * 1e9)};
            nanosleep(&ts, NULL);
            kill(pid, SIGKILL);
            int status = tl_wait(pid);
            if (status != 0 && status != 128 + SIGKILL) {
                char *out = tl_slurp(log);
                fail_msg("run %u exited %d\n%s", attempts, status, out);
            }
            kills += status != 0;
            /* Every state a kill leaves must open and verify. */
            gl_store_cursor c;
            bool found = false;
            if (tl_exists(dir)) {
                gl_err err;
                gl_store_open_opts o = {.read_only = true};
                gl_store *s = gl_store_open(dir, &o, &err);
                if (s) {
                    gl_code vrc = gl_store_verify(s, &err);
                    if (vrc && strstr(err.msg, "is incomplete") && strstr(err.msg, "opening it read-write")) {
                        /* killed before the appearances of committed
                         * records were written: a read-write open derives
                         * them, and then the store verifies; or killed
                         * between a batch's table files of records and the
                         * batch: the open rolls the chain back to them */
                        ahead_n += strstr(err.msg, "records of chain") != NULL;
                        gl_store_close(s);
                        if (!incomplete) { /* once: db stats says so, naming the chain */
                            const char *stats[] = {"gpuledger", "db", "stats", "--db", dir, NULL};
                            char want[64], ahead[64];
                            snprintf(want, sizeof want, "the appearances of chain %llu blocks ",
                                     (unsigned long long)GL_ANVIL_DEFAULT_CHAIN_ID);
                            snprintf(ahead, sizeof ahead, "records of chain %llu blocks ",
                                     (unsigned long long)GL_ANVIL_DEFAULT_CHAIN_ID);
                            int sst = tl_run_bin(stats, log);
                            char *out = tl_slurp(log);
                            if (sst || !(strstr(out, want) || strstr(out, ahead)) || !strstr(out, "incomplete"))
                                fail_msg("db stats on an incomplete store: exit %d\n%s", sst, out);
                            free(out);
                        }
                        s = gl_store_open(dir, NULL, &err);
                        if (!s)
                            fail_msg("after kill %u: read-write open: %s", kills, err.msg);
                        incomplete++;
                        vrc = gl_store_verify(s, &err);
                    }
                    if (vrc || gl_store_get_cursor(s, GL_ANVIL_DEFAULT_CHAIN_ID, "gpumarket-test", &c, &found, &err))
                        fail_msg("after kill %u: %s", kills, err.msg);
                    gl_store_close(s);
                } else if (!strstr(err.msg, "interrupted") && !strstr(err.msg, "is an empty directory")) {
                    /* only a creation cut short may be refused (and is
                     * finished by the next run); killed right after
                     * making the directory, it is still empty */
                    fail_msg("after kill %u: %s", kills, err.msg);
                }
            }
            fprintf(stderr, "test_crash: round %u run %u %s after %.0f ms, cursor %s%" PRIu64 "\n", rounds,
                    attempts, status == 0 ? "finished" : "killed", d * 1000, found ? "" : "none ",
                    found ? c.block : 0);
            if (status == 0)
                break;
        }
        /* One more run finds nothing to do and changes nothing. */
        const char *last[] = {"gpuledger", "index", "--platform", def, "--rpc", url, "--db", dir, "-q", NULL};
        st = tl_run_bin(last, log);
        if (st) {
            char *out = tl_slurp(log);
            fail_msg("last run: exit %d\n%s", st, out);
        }
        tl_assert_same_store(dir, ref, NULL);
    }
    fprintf(stderr,
            "test_crash: %u kills in %u rounds (%u left the store incomplete: %u with records ahead of their "
            "batch, rolled back), every round equal to the clean run\n",
            kills, rounds, incomplete, ahead_n);
    assert_true(kills >= 20);
    gl_store *s = tl_store_open(ref, false);
    gl_store_event *evs;
    size_t n = tl_events(s, GL_ANVIL_DEFAULT_CHAIN_ID, &evs);
    assert_int_equal(n, M.nex);
    free(evs);
    gl_store_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kill9_resumes_to_the_clean_state),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
