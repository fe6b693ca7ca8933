/* test_index.c - `gpuledger index` end to end on anvil with the reference
 * market (fixtures/contracts/GpuMarket.sol).
 *
 * The test plays offers, leases (for oneself and for others, in USDC and
 * in the native coin), extensions and an early end from anvil's dev
 * accounts, and records what it asked for.  Oracles: those recorded values
 * (amounts computed here from gpus * hours * price), the accounts that sent
 * each transaction (the node signed them), and the node's own block
 * hashes.  Then: one-shot index, idempotent re-run, a run interrupted
 * after every few events and resumed (byte-for-byte equal store), the
 * verification levels, refusal of a wrong chain id (nothing written), of a
 * gap after the cursor and of a store bound to another chain, and the CLI
 * with --rpc and with ETH_RPC_URL.
 */
#include "index_testlib.h"
#include "gpuledger/keccak.h"

typedef struct world {
    tl_node n;
    tl_market m;
    uint64_t head;
    char tmp[256];      /* scratch directory for this file's stores */
    char ref[300];      /* the one-shot store */
} world;

static world W;

static int setup(void **state)
{
    (void)state;
    if (tl_node_start(&W.n, 0, NULL))
        return -1;
    tl_market_deploy(&W.n, &W.m);
    tl_node *n = &W.n;
    tl_market *m = &W.m;
    /* Leases in USDC (offer 1) and native coin (offer 2), for oneself and
     * for a beneficiary, extended by the buyer and by a third party. */
    tl_market_lease(n, m, 3, -1, 1, 2, 3, true);
    tl_market_lease(n, m, 4, 6, 1, 1, 5, true);
    tl_market_lease(n, m, 5, -1, 2, 3, 2, true);
    tl_market_extend(n, m, 3, 1, 2, true);
    tl_market_extend(n, m, 7, 2, 1, true);
    tl_market_extend(n, m, 5, 3, 4, true);
    for (int i = 0; i < 12; i++)
        tl_market_lease(n, m, 3 + i % 5, i % 3 ? -1 : 9, 1 + i % 2, 1 + (uint32_t)i % 4, 1 + (uint32_t)i % 7, true);
    /* End lease 3 early (native): providerAmount = 3 gpus * 1 hour. */
    tl_expect *x = tl_expect_add(m);
    snprintf(x->name, sizeof x->name, "LeaseEnded");
    x->lease_id = 3;
    snprintf(x->buyer, sizeof x->buyer, "%s", n->acct[5]);
    snprintf(x->provider, sizeof x->provider, "%s", n->acct[2]);
    x->amount = 3 * 1000000000000000ULL;
    x->native = true;
    tl_market_call(n, m, 5, "endLease(uint256)", json_pack("[i]", 3), NULL, true, x);
    W.head = tl_head(n);
    tl_tmpdir(W.tmp, sizeof W.tmp, "index");
    snprintf(W.ref, sizeof W.ref, "%s/ref", W.tmp);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    tl_market_free(&W.m);
    tl_node_stop(&W.n);
    if (W.tmp[0])
        tl_rm_rf(W.tmp);
    return 0;
}

static const char *url(void) { return gl_anvil_url(W.n.node); }

static void path(char *buf, size_t cap, const char *name) { snprintf(buf, cap, "%s/%s", W.tmp, name); }

static gl_platform *market_platform(bool with_tx_from)
{
    return tl_market_platform(&W.m, "gpumarket-test", GL_ANVIL_DEFAULT_CHAIN_ID, with_tx_from);
}

static bool skip_meta(const char *family, const char *val, size_t vlen)
{
    (void)val;
    (void)vlen;
    return !strcmp(family, "meta");
}

/* Every stored event equals the oracle, in order. */
static void check_events(const char *dir, bool with_tx_from, bool senders)
{
    gl_store *s = tl_store_open(dir, false);
    gl_store_event *evs;
    size_t n = tl_events(s, GL_ANVIL_DEFAULT_CHAIN_ID, &evs);
    assert_int_equal(n, W.m.nex);
    for (size_t i = 0; i < n; i++) {
        tl_check_event(&evs[i], &W.m.ex[i], &W.m, with_tx_from);
        uint8_t from[20];
        tl_addr(W.m.ex[i].from, from);
        if (senders) {
            assert_true(evs[i].has_tx_from);
            assert_memory_equal(evs[i].tx_from, from, 20);
            assert_true(evs[i].verified & GL_STORE_EVENT_SENDER_OK);
        }
    }
    free(evs);
    gl_store_close(s);
}

static void test_index_matches_oracle(void **state)
{
    (void)state;
    gl_platform *p = market_platform(true);
    gl_indexer_stats st = tl_index(url(), W.ref, p, NULL);
    assert_int_equal(st.events, W.m.nex);
    assert_int_equal(st.cursor, W.head);
    assert_int_equal(st.findings, 0);
    check_events(W.ref, true, true);

    gl_store *s = tl_store_open(W.ref, false);
    gl_err err;
    gl_store_event *evs;
    size_t n = tl_events(s, GL_ANVIL_DEFAULT_CHAIN_ID, &evs);
    for (size_t i = 0; i < n; i++) {
        /* The tx: stored from = the account that sent it. */
        gl_store_tx tx;
        bool found;
        assert_int_equal(gl_store_get_tx_by_hash(s, GL_ANVIL_DEFAULT_CHAIN_ID, evs[i].tx_hash, &tx, &found, &err),
                         GL_OK);
        assert_true(found);
        uint8_t from[20];
        tl_addr(W.m.ex[i].from, from);
        assert_memory_equal(tx.from, from, 20);
        assert_true(tx.flags & GL_STORE_TX_SENDER_OK);
        /* The block: the node's hash, every check passed. */
        gl_store_block b;
        assert_int_equal(gl_store_get_block(s, GL_ANVIL_DEFAULT_CHAIN_ID, evs[i].block, &b, &found, &err), GL_OK);
        assert_true(found);
        uint8_t h[32];
        tl_block_hash(&W.n, evs[i].block, h);
        assert_memory_equal(b.hash, h, 32);
        tl_block_hash(&W.n, evs[i].block - 1, h);
        assert_memory_equal(b.parent_hash, h, 32);
        assert_int_equal(b.verified, GL_STORE_BLOCK_HASH_OK | GL_STORE_BLOCK_PARENT_OK | GL_STORE_BLOCK_SENDERS_OK);
        assert_true(b.timestamp >= GL_ANVIL_GENESIS_TIMESTAMP);
    }
    /* The cursor: the head and its hash. */
    gl_store_cursor c;
    bool found;
    assert_int_equal(gl_store_get_cursor(s, GL_ANVIL_DEFAULT_CHAIN_ID, "gpumarket-test", &c, &found, &err), GL_OK);
    assert_true(found);
    assert_int_equal(c.block, W.head);
    uint8_t h[32];
    tl_block_hash(&W.n, W.head, h);
    assert_memory_equal(c.hash, h, 32);
    /* Native-coin leases carry a native transfer buyer -> market. */
    gl_store_iter *it = gl_store_iter_transfers(s, GL_ANVIL_DEFAULT_CHAIN_ID, 0, W.head, &err);
    assert_non_null(it);
    size_t native = 0, want_native = 0;
    for (size_t i = 0; i < W.m.nex; i++)
        want_native += W.m.ex[i].native && strcmp(W.m.ex[i].name, "LeaseEnded") && W.m.ex[i].amount;
    for (;;) {
        gl_store_transfer t;
        bool end;
        assert_int_equal(gl_store_next_transfer(it, &t, &end, &err), GL_OK);
        if (end)
            break;
        assert_int_equal(t.asset, GL_STORE_ASSET_NATIVE);
        assert_int_equal(t.pos.kind, GL_STORE_POS_TX);
        uint8_t mk[20];
        tl_addr(W.m.market, mk);
        assert_memory_equal(t.to, mk, 20);
        native++;
    }
    gl_store_iter_free(it);
    assert_int_equal(native, want_native);
    /* The beneficiary of lease 2 appears as such at its log. */
    uint8_t ben[20];
    tl_addr(W.n.acct[6], ben);
    it = gl_store_iter_appearances(s, ben, &err);
    assert_non_null(it);
    bool seen_beneficiary = false;
    for (;;) {
        gl_store_appearance a;
        bool end;
        assert_int_equal(gl_store_next_appearance(it, &a, &end, &err), GL_OK);
        if (end)
            break;
        if (a.role == GL_STORE_ROLE_BENEFICIARY && a.pos.kind == GL_STORE_POS_LOG && a.pos.block == evs[3].block)
            seen_beneficiary = true;
    }
    gl_store_iter_free(it);
    assert_true(seen_beneficiary);
    json_t *f = tl_findings(s, GL_ANVIL_DEFAULT_CHAIN_ID);
    assert_int_equal(json_array_size(f), 0);
    json_decref(f);
    assert_int_equal(gl_store_verify(s, &err), GL_OK);
    /* The definition is stored beside its hash: the text the digest was
     * computed from, which parses back to this platform. */
    char *def = NULL;
    assert_int_equal(gl_store_get_platform_def(s, "gpumarket-test", &def, &err), GL_OK);
    assert_non_null(def);
    assert_string_equal(def, p->canonical);
    uint8_t dh[32];
    gl_keccak256(def, strlen(def), dh);
    assert_memory_equal(dh, p->digest, 32);
    json_t *dj = json_loads(def, 0, NULL);
    assert_non_null(dj);
    assert_string_equal(json_string_value(json_object_get(dj, "name")), "gpumarket-test");
    json_decref(dj);
    free(def);
    free(evs);
    gl_store_close(s);
    gl_platform_free(p);
}

static void test_rerun_is_idempotent(void **state)
{
    (void)state;
    char copy[300];
    path(copy, sizeof copy, "rerun");
    gl_platform *p = market_platform(true);
    tl_index(url(), copy, p, NULL);
    json_t *before = tl_dump(copy, NULL);
    gl_indexer_stats st = tl_index(url(), copy, p, NULL);
    assert_int_equal(st.events, 0);
    assert_int_equal(st.batches, 0);
    json_t *after = tl_dump(copy, NULL);
    assert_true(json_equal(before, after));
    json_decref(before);
    json_decref(after);
    tl_assert_same_store(copy, W.ref, NULL);
    gl_platform_free(p);
}

static void test_resume_equals_uninterrupted(void **state)
{
    (void)state;
    char dir[300];
    path(dir, sizeof dir, "resume");
    gl_platform *p = market_platform(true);
    /* Stop at three places, with batches of 2 events. */
    uint64_t stops[] = {W.m.start_block + 3, W.m.start_block + 20, W.head - 4};
    for (size_t i = 0; i < 3; i++) {
        tl_run_opts ro = {.verify = GL_INDEXER_VERIFY_HEADERS, .has_to = true, .to = stops[i], .batch_logs = 2};
        gl_indexer_stats st = tl_index(url(), dir, p, &ro);
        assert_int_equal(st.cursor, stops[i]);
    }
    tl_run_opts ro = {.verify = GL_INDEXER_VERIFY_HEADERS, .batch_logs = 2};
    tl_index(url(), dir, p, &ro);
    tl_assert_same_store(dir, W.ref, NULL);
    gl_platform_free(p);
}

/* The reference was indexed with the next range's logs and the next chunk's
 * blocks prefetched (the default); one range at a time, in many small
 * ranges, must store the same bytes. */
static void test_prefetch_changes_nothing(void **state)
{
    (void)state;
    char dir[300];
    path(dir, sizeof dir, "noprefetch");
    gl_platform *p = market_platform(true);
    tl_run_opts ro = {.verify = GL_INDEXER_VERIFY_HEADERS, .no_prefetch = true, .initial_span = 1};
    gl_indexer_stats st = tl_index(url(), dir, p, &ro);
    assert_true(st.log_requests >= 2);
    tl_assert_same_store(dir, W.ref, NULL);
    /* Prefetching block by block (every chunk's blocks fetched while the
     * chunk before is checked), in batches of 3 events, with --verify full
     * against a reference indexed the same way without prefetching. */
    char pf[300], ref[300];
    path(pf, sizeof pf, "prefetch-chunks");
    path(ref, sizeof ref, "prefetch-chunks-ref");
    tl_run_opts a = {.verify = GL_INDEXER_VERIFY_FULL, .block_chunk = 1, .batch_logs = 3};
    tl_run_opts b = {.verify = GL_INDEXER_VERIFY_FULL, .block_chunk = 1, .batch_logs = 3, .no_prefetch = true};
    gl_indexer_stats sa = tl_index(url(), pf, p, &a), sb = tl_index(url(), ref, p, &b);
    assert_int_equal(sa.blocks_fetched, sb.blocks_fetched);
    assert_true(sa.blocks_fetched > 3);
    tl_assert_same_store(pf, ref, NULL);
    gl_platform_free(p);
}

static void test_verify_full(void **state)
{
    (void)state;
    char dir[300];
    path(dir, sizeof dir, "full");
    gl_platform *p = market_platform(true);
    tl_run_opts ro = {.verify = GL_INDEXER_VERIFY_FULL};
    gl_indexer_stats st = tl_index(url(), dir, p, &ro);
    assert_int_equal(st.findings, 0);
    check_events(dir, true, true);
    gl_store *s = tl_store_open(dir, false);
    gl_store_event *evs;
    size_t n = tl_events(s, GL_ANVIL_DEFAULT_CHAIN_ID, &evs);
    gl_err err;
    for (size_t i = 0; i < n; i++) {
        assert_true(evs[i].verified & GL_STORE_EVENT_PROVEN);
        gl_store_block b;
        bool found;
        assert_int_equal(gl_store_get_block(s, GL_ANVIL_DEFAULT_CHAIN_ID, evs[i].block, &b, &found, &err), GL_OK);
        assert_true(found);
        assert_true(b.verified & GL_STORE_BLOCK_RECEIPTS_OK);
    }
    free(evs);
    gl_store_close(s);
    gl_platform_free(p);
}

static void test_verify_none_fetches_no_block(void **state)
{
    (void)state;
    char dir[300];
    path(dir, sizeof dir, "none");
    gl_platform *p = market_platform(false);
    tl_run_opts ro = {.verify = GL_INDEXER_VERIFY_NONE};
    gl_indexer_stats st = tl_index(url(), dir, p, &ro);
    /* anvil 1.x logs carry blockTimestamp: nothing but the cursor's header
     * is fetched. */
    assert_int_equal(st.blocks_fetched, 0);
    assert_int_equal(st.txs, 0);
    assert_int_equal(st.events, W.m.nex);
    check_events(dir, false, false);
    gl_store *s = tl_store_open(dir, false);
    gl_store_event *evs;
    size_t n = tl_events(s, GL_ANVIL_DEFAULT_CHAIN_ID, &evs);
    gl_err err;
    for (size_t i = 0; i < n; i++) {
        assert_false(evs[i].has_tx_from);
        gl_store_block b;
        bool found;
        assert_int_equal(gl_store_get_block(s, GL_ANVIL_DEFAULT_CHAIN_ID, evs[i].block, &b, &found, &err), GL_OK);
        uint8_t h[32];
        tl_block_hash(&W.n, evs[i].block, h);
        assert_memory_equal(b.hash, h, 32);
        assert_int_equal(b.verified, 0);
    }
    free(evs);
    gl_store_close(s);
    gl_platform_free(p);
}

static void test_chain_mismatch_refused(void **state)
{
    (void)state;
    gl_platform *p = tl_market_platform(&W.m, "gpumarket-test", 1, true);
    gl_endpoints *e = tl_endpoints(url());
    gl_err err;
    assert_int_equal(gl_indexer_check_chain(e, p, &err), GL_EVERIFY);
    assert_non_null(strstr(err.msg, "chain 1,"));
    assert_non_null(strstr(err.msg, "31337"));
    gl_endpoints_free(e);
    gl_platform_free(p);

    /* The binary: exit 2, the message, and no store created. */
    char def[300], dir[300], log[300];
    path(def, sizeof def, "chain1.json");
    path(dir, sizeof dir, "chain1-store");
    path(log, sizeof log, "chain1.log");
    char *t = tl_market_def(&W.m, "gpumarket-test", 1, true);
    tl_write_file(def, "%s", t);
    free(t);
    const char *argv[] = {"gpuledger", "index", "--platform", def, "--rpc", url(), "--db", dir, NULL};
    assert_int_equal(tl_run_bin(argv, log), 2);
    char *out = tl_slurp(log);
    assert_non_null(strstr(out, "is for chain 1, the endpoint serves chain 31337"));
    free(out);
    assert_false(tl_exists(dir));
}

static void test_gap_after_cursor_refused(void **state)
{
    (void)state;
    char dir[300];
    path(dir, sizeof dir, "gap");
    gl_platform *p = market_platform(true);
    tl_run_opts ro = {.verify = GL_INDEXER_VERIFY_HEADERS, .has_to = true, .to = W.m.start_block + 5};
    tl_index(url(), dir, p, &ro);
    json_t *before = tl_dump(dir, NULL);
    gl_store *s = tl_store_open(dir, false);
    gl_endpoints *e = tl_endpoints(url());
    gl_indexer_opts o;
    gl_indexer_opts_init(&o);
    o.has_from = true;
    o.from = W.m.start_block + 9;
    gl_err err;
    assert_null(gl_indexer_new(s, e, p, &o, &err));
    assert_int_equal(err.code, GL_EINVAL);
    assert_non_null(strstr(err.msg, "gap"));
    /* Restarting from before the cursor resumes at the cursor. */
    o.from = W.m.start_block;
    gl_indexer *ix = gl_indexer_new(s, e, p, &o, &err);
    assert_non_null(ix);
    gl_indexer_free(ix);
    gl_endpoints_free(e);
    gl_store_close(s);
    json_t *after = tl_dump(dir, NULL);
    assert_true(json_equal(before, after));
    json_decref(before);
    json_decref(after);
    gl_platform_free(p);
}

static void test_cli_index_and_eth_rpc_url(void **state)
{
    (void)state;
    char def[300], dir[300], log[300];
    path(def, sizeof def, "market.json");
    path(dir, sizeof dir, "cli");
    path(log, sizeof log, "cli.log");
    char *t = tl_market_def(&W.m, "gpumarket-test", GL_ANVIL_DEFAULT_CHAIN_ID, true);
    tl_write_file(def, "%s", t);
    free(t);
    const char *argv[] = {"gpuledger", "index", "--platform", def,  "--rpc", url(), "--db",
                          dir,         "--to",  "12",       "--json", NULL};
    assert_int_equal(tl_run_bin(argv, log), 0);
    /* The rest with the endpoint from the environment. */
    setenv("ETH_RPC_URL", url(), 1);
    const char *argv2[] = {"gpuledger", "index", "--platform", def, "--db", dir, "-q", NULL};
    assert_int_equal(tl_run_bin(argv2, log), 0);
    unsetenv("ETH_RPC_URL");
    char *out = tl_slurp(log);
    if (!strstr(out, "\"cursor\":12"))
        fail_msg("no JSON summary with cursor 12 in:\n%s", out);
    free(out);
    tl_assert_same_store(dir, W.ref, skip_meta);
    /* No endpoint at all: usage error. */
    const char *argv3[] = {"gpuledger", "index", "--platform", def, "--db", dir, NULL};
    assert_int_equal(tl_run_bin(argv3, log), 2);
}

static void test_store_of_other_chain_refused(void **state)
{
    (void)state;
    /* The same platform name on a node with another chain id. */
    tl_node other;
    if (tl_node_start(&other, 1337, NULL))
        fail_msg("second anvil");
    char def[300], dir[300], log[300];
    path(def, sizeof def, "other.json");
    path(dir, sizeof dir, "cli"); /* bound to 31337 by the CLI test */
    path(log, sizeof log, "other.log");
    char *t = tl_market_def(&W.m, "gpumarket-test", 1337, true);
    tl_write_file(def, "%s", t);
    free(t);
    json_t *before = tl_dump(dir, NULL);
    const char *argv[] = {"gpuledger", "index", "--platform", def, "--rpc", gl_anvil_url(other.node), "--db",
                          dir,         NULL};
    assert_int_equal(tl_run_bin(argv, log), 1);
    char *out = tl_slurp(log);
    if (!strstr(out, "holds chain 31337 for platform 'gpumarket-test', not 1337"))
        fail_msg("unexpected message:\n%s", out);
    free(out);
    json_t *after = tl_dump(dir, NULL);
    assert_true(json_equal(before, after));
    json_decref(before);
    json_decref(after);
    tl_node_stop(&other);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_index_matches_oracle),
        cmocka_unit_test(test_rerun_is_idempotent),
        cmocka_unit_test(test_resume_equals_uninterrupted),
        cmocka_unit_test(test_prefetch_changes_nothing),
        cmocka_unit_test(test_verify_full),
        cmocka_unit_test(test_verify_none_fetches_no_block),
        cmocka_unit_test(test_chain_mismatch_refused),
        cmocka_unit_test(test_gap_after_cursor_refused),
        cmocka_unit_test(test_cli_index_and_eth_rpc_url),
        cmocka_unit_test(test_store_of_other_chain_refused),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
