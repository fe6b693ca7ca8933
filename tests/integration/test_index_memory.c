/* test_index_memory.c - memory stays bounded: indexing a range holding
 * 100k events keeps the gpuledger process under 256 MB of resident memory.
 *
 * The chain: 200 GLM batch payouts of 500 recipients (100,201 Transfer
 * logs with the mint) on anvil, dense enough that a careless first
 * eth_getLogs over a few hundred blocks would hold every log at once.  The
 * binary (GPULEDGER_BIN) indexes it with the default verification; its
 * peak RSS comes from wait4.  Oracles: the number of transfers the test
 * made (every one stored as an event and as an ERC-20 transfer record),
 * and the 256 MB bound of the issue.
 */
#include "index_testlib.h"

#define MEM_TXS 200
#define MEM_PER_TX 500
#define MEM_LIMIT_MB 256

static tl_node N;
static tl_glm G;
static char TMP[256];

static int setup(void **state)
{
    (void)state;
    if (tl_node_start(&N, 0, NULL))
        return -1;
    tl_glm_deploy(&N, &G);
    tl_glm_payouts(&N, &G, MEM_TXS, MEM_PER_TX);
    tl_tmpdir(TMP, sizeof TMP, "memory");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    tl_node_stop(&N);
    if (TMP[0])
        tl_rm_rf(TMP);
    return 0;
}

static void test_100k_events_under_256mb(void **state)
{
    (void)state;
    char def[300], dir[300], log[300];
    snprintf(def, sizeof def, "%s/glm.json", TMP);
    snprintf(dir, sizeof dir, "%s/store", TMP);
    snprintf(log, sizeof log, "%s/run.log", TMP);
    char *t = tl_glm_def(&G, "glm-memory");
    tl_write_file(def, "%s", t);
    free(t);
    const char *argv[] = {"gpuledger", "index", "--platform", def, "--rpc", gl_anvil_url(N.node), "--db", dir,
                          "-q",        NULL};
    long rss_kb;
    int st = tl_wait_rss(tl_spawn(argv, log), &rss_kb);
    if (st) {
        char *out = tl_slurp(log);
        fail_msg("index: exit %d\n%s", st, out);
    }
    fprintf(stderr, "test_index_memory: %" PRIu64 " events, peak RSS %.1f MB\n", G.transfers, rss_kb / 1024.0);
    assert_true(G.transfers >= 100000);
    /* Count without holding: the stored events and ERC-20 transfers. */
    gl_store *s = tl_store_open(dir, false);
    gl_err err;
    gl_store_iter *it = gl_store_iter_events(s, GL_ANVIL_DEFAULT_CHAIN_ID, 0, UINT64_MAX - 1, &err);
    assert_non_null(it);
    uint64_t events = 0, transfers = 0;
    for (;;) {
        gl_store_event ev;
        bool end;
        assert_int_equal(gl_store_next_event(it, &ev, &end, &err), GL_OK);
        if (end)
            break;
        events++;
    }
    gl_store_iter_free(it);
    it = gl_store_iter_transfers(s, GL_ANVIL_DEFAULT_CHAIN_ID, 0, UINT64_MAX - 1, &err);
    assert_non_null(it);
    for (;;) {
        gl_store_transfer tr;
        bool end;
        assert_int_equal(gl_store_next_transfer(it, &tr, &end, &err), GL_OK);
        if (end)
            break;
        transfers += tr.asset == GL_STORE_ASSET_ERC20;
    }
    gl_store_iter_free(it);
    gl_store_close(s);
    assert_int_equal(events, G.transfers);
    assert_int_equal(transfers, G.transfers);
#ifdef __SANITIZE_ADDRESS__
    /* AddressSanitizer's shadow memory and quarantine multiply the RSS of
     * the (sanitized) binary: the bound is the release build's. */
    fprintf(stderr, "test_index_memory: RSS bound not checked under AddressSanitizer\n");
#else
    if (rss_kb >= MEM_LIMIT_MB * 1024L)
        fail_msg("peak RSS %.1f MB, the bound is %d MB", rss_kb / 1024.0, MEM_LIMIT_MB);
#endif
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_100k_events_under_256mb),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
