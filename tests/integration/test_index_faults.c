/* test_index_faults.c - indexing through a misbehaving endpoint: the fault
 * proxy (tests/support/faultproxy.h) in front of anvil.
 *
 * 1. A flaky but honest endpoint (429s, 5xx pages, resets, truncated and
 *    malformed bodies, batch answers with missing, repeated or reordered
 *    ids, eth_getLogs range caps in providers' words, "header not found"):
 *    the store must equal, byte for byte, a clean index made directly
 *    against anvil.
 * 2. A lying endpoint (a wrong `from` in block answers, a wrong block
 *    hash): every lie about an indexed transaction or block becomes a
 *    finding whose claimed value is the lie and whose computed value is the
 *    truth (the proxy's record of what it told is the oracle), no finding
 *    exists without a lie, and apart from verification flags and findings
 *    the store equals the clean one: what is stored is what was proven.
 * 3. An outage under follow (every request failing, then eth_getLogs
 *    alone): follow waits it out, warning and counting, and ends, when
 *    told, caught up and with the store a clean index of the final chain
 *    makes.
 * 4. A provider's log or span cap: the number of eth_getLogs end to end.
 */
#include "index_testlib.h"

#include "../support/faultproxy.h"

static tl_node N;
static tl_market M;
static char TMP[256], REF[300];
static gl_platform *P;

static int setup(void **state)
{
    (void)state;
    if (tl_node_start(&N, 0, NULL))
        return -1;
    tl_market_deploy(&N, &M);
    for (int i = 0; i < 30; i++)
        tl_market_lease(&N, &M, 3 + i % 7, i % 4 ? -1 : 9, 1 + i % 2, 1 + (uint32_t)i % 3, 1 + (uint32_t)i % 4, true);
    for (int i = 1; i <= 6; i++)
        tl_market_extend(&N, &M, 3 + i, (uint64_t)i, 1, true);
    tl_tmpdir(TMP, sizeof TMP, "faults");
    snprintf(REF, sizeof REF, "%s/ref", TMP);
    P = tl_market_platform(&M, "gpumarket-test", GL_ANVIL_DEFAULT_CHAIN_ID, true);
    tl_index(gl_anvil_url(N.node), REF, P, NULL);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    gl_platform_free(P);
    tl_market_free(&M);
    tl_node_stop(&N);
    if (TMP[0])
        tl_rm_rf(TMP);
    return 0;
}

/* Index through the proxy, in process, with small batches and requests so
 * that many calls cross it. */
static gl_indexer_stats index_plat(const gl_platform *plat, const char *const *urls, size_t nurls, bool quorum,
                                   const char *dir, gl_indexer_verify verify)
{
    gl_endpoint_opts eo;
    memset(&eo, 0, sizeof eo);
    eo.urls = urls;
    eo.nurls = nurls;
    eo.quorum = quorum;
    eo.seed = 11;
    eo.backoff_base_ms = 2;
    eo.backoff_cap_ms = 20;
    eo.max_attempts = 30;
    eo.max_batch = 4;
    gl_err err;
    gl_endpoints *e = gl_endpoints_new(&eo, &err);
    assert_non_null(e);
    if (gl_indexer_check_chain(e, plat, &err))
        fail_msg("chain: %s", err.msg);
    gl_store *s = tl_store_open(dir, true);
    gl_indexer_opts o;
    gl_indexer_opts_init(&o);
    o.has_confirmations = true;
    o.verify = verify;
    o.batch_logs = 5;
    o.block_chunk = 3;
    o.initial_span = 8;
    o.quorum = quorum;
    o.log = tl_log_quiet;
    o.prefetch = true; /* as the CLI does: clones of e, through the same proxy */
    gl_indexer *ix = gl_indexer_new(s, e, plat, &o, &err);
    assert_non_null(ix);
    if (gl_indexer_run(ix, &err))
        fail_msg("index through the proxy: %s", err.msg);
    gl_indexer_stats st;
    gl_indexer_stats_get(ix, &st);
    gl_indexer_free(ix);
    gl_store_close(s);
    gl_endpoints_free(e);
    return st;
}

static gl_indexer_stats index_urls(const char *const *urls, size_t nurls, bool quorum, const char *dir,
                                   gl_indexer_verify verify)
{
    return index_plat(P, urls, nurls, quorum, dir, verify);
}

static gl_indexer_stats index_via(gl_fproxy *fp, const char *dir, gl_indexer_verify verify)
{
    const char *urls[] = {gl_fproxy_url(fp)};
    return index_urls(urls, 1, false, dir, verify);
}

static void test_flaky_endpoint_gives_the_clean_store(void **state)
{
    (void)state;
    gl_fproxy *fp = gl_fproxy_start(gl_anvil_url(N.node), 42);
    assert_non_null(fp);
    const gl_fault_rule rules[] = {
        {.kind = GL_FAULT_RANGE_INFURA, .method = "eth_getLogs", .cap = 7},
        {.kind = GL_FAULT_RANGE_SPAN, .method = "eth_getLogs", .cap = 6},
        {.kind = GL_FAULT_HTTP_429, .probability = 0.08},
        {.kind = GL_FAULT_HTTP_5XX, .probability = 0.05},
        {.kind = GL_FAULT_RESET, .probability = 0.04},
        {.kind = GL_FAULT_TRUNCATED, .probability = 0.04},
        {.kind = GL_FAULT_MALFORMED, .probability = 0.03},
        {.kind = GL_FAULT_BATCH_MISSING_ID, .probability = 0.1},
        {.kind = GL_FAULT_BATCH_DUP_ID, .probability = 0.1},
        {.kind = GL_FAULT_BATCH_REORDER, .probability = 0.2},
        {.kind = GL_FAULT_HEADER_NOT_FOUND, .method = "eth_getBlockByNumber", .probability = 0.3},
    };
    assert_true(gl_fproxy_set_rules(fp, rules, sizeof rules / sizeof rules[0]));
    char dir[300];
    snprintf(dir, sizeof dir, "%s/flaky", TMP);
    gl_indexer_stats st = index_via(fp, dir, GL_INDEXER_VERIFY_HEADERS);
    fprintf(stderr, "test_index_faults: %u requests, %u faults injected, %" PRIu64 " eth_getLogs\n",
            gl_fproxy_requests(fp), gl_fproxy_injected(fp, GL_FAULT_NONE), st.log_requests);
    assert_true(gl_fproxy_injected(fp, GL_FAULT_RANGE_INFURA) + gl_fproxy_injected(fp, GL_FAULT_RANGE_SPAN) > 0);
    assert_true(gl_fproxy_injected(fp, GL_FAULT_NONE) > 10);
    assert_int_equal(st.findings, 0);
    tl_assert_same_store(dir, REF, NULL);
    gl_fproxy_stop(fp);
}

/* ------------------------------------------------- comparing without flags */

static void encode_masked(gl_store *s, int kind, json_t *out)
{
    gl_err err;
    gl_store_iter *it = kind == 0   ? gl_store_iter_events(s, GL_ANVIL_DEFAULT_CHAIN_ID, 0, UINT64_MAX - 1, &err)
                        : kind == 1 ? gl_store_iter_txs(s, GL_ANVIL_DEFAULT_CHAIN_ID, 0, UINT64_MAX - 1, &err)
                        : kind == 2 ? gl_store_iter_blocks(s, GL_ANVIL_DEFAULT_CHAIN_ID, 0, UINT64_MAX - 1, &err)
                                    : gl_store_iter_transfers(s, GL_ANVIL_DEFAULT_CHAIN_ID, 0, UINT64_MAX - 1, &err);
    assert_non_null(it);
    for (;;) {
        bool end;
        gl_buf b = GL_BUF_INIT;
        char key[64];
        if (kind == 0) {
            gl_store_event ev;
            assert_int_equal(gl_store_next_event(it, &ev, &end, &err), GL_OK);
            if (end)
                break;
            ev.verified = 0;
            assert_int_equal(gl_store_event_encode(&ev, &b, &err), GL_OK);
            snprintf(key, sizeof key, "event %" PRIu64 "/%u", ev.block, ev.log_index);
        } else if (kind == 1) {
            gl_store_tx tx;
            assert_int_equal(gl_store_next_tx(it, &tx, &end, &err), GL_OK);
            if (end)
                break;
            tx.flags = 0;
            assert_int_equal(gl_buf_reserve(&b, GL_STORE_TX_VAL_LEN, NULL), GL_OK);
            assert_int_equal(gl_store_tx_encode(&tx, b.data, &err), GL_OK);
            b.len = GL_STORE_TX_VAL_LEN;
            snprintf(key, sizeof key, "tx %" PRIu64 "/%u", tx.block, tx.index);
        } else if (kind == 2) {
            gl_store_block bl;
            assert_int_equal(gl_store_next_block(it, &bl, &end, &err), GL_OK);
            if (end)
                break;
            bl.verified = 0;
            assert_int_equal(gl_buf_reserve(&b, GL_STORE_BLOCK_VAL_LEN, NULL), GL_OK);
            assert_int_equal(gl_store_block_encode(&bl, b.data, &err), GL_OK);
            b.len = GL_STORE_BLOCK_VAL_LEN;
            snprintf(key, sizeof key, "block %" PRIu64, bl.number);
        } else {
            gl_store_transfer t;
            assert_int_equal(gl_store_next_transfer(it, &t, &end, &err), GL_OK);
            if (end)
                break;
            t.flags = 0;
            assert_int_equal(gl_buf_reserve(&b, GL_STORE_TRANSFER_VAL_LEN, NULL), GL_OK);
            assert_int_equal(gl_store_transfer_encode(&t, b.data, &err), GL_OK);
            b.len = GL_STORE_TRANSFER_VAL_LEN;
            snprintf(key, sizeof key, "transfer %" PRIu64 "/%d/%u", t.pos.block, (int)t.pos.kind, t.pos.index);
        }
        char *hex = gl_hex_encode_alloc(b.data, b.len, false);
        char *line = NULL;
        assert_true(asprintf(&line, "%s %s", key, hex) >= 0);
        json_array_append_new(out, json_string(line));
        free(line);
        free(hex);
        gl_buf_release(&b);
    }
    gl_store_iter_free(it);
}

static json_t *masked(const char *dir)
{
    gl_store *s = tl_store_open(dir, false);
    json_t *out = json_array();
    for (int k = 0; k < 4; k++)
        encode_masked(s, k, out);
    gl_store_close(s);
    return out;
}

/* Families without verification flags must match exactly. */
static bool skip_flagged(const char *family, const char *val, size_t vlen)
{
    (void)val;
    (void)vlen;
    return !strcmp(family, "findings") || !strcmp(family, "events") || !strcmp(family, "txs") ||
           !strcmp(family, "blocks") || !strcmp(family, "transfers");
}

static bool same_text(const char *a, const char *b) { return a && b && !strcasecmp(a, b); }

static void test_lies_become_findings(void **state)
{
    (void)state;
    gl_fproxy *fp = gl_fproxy_start(gl_anvil_url(N.node), 7);
    assert_non_null(fp);
    const gl_fault_rule rules[] = {
        {.kind = GL_FAULT_LYING_FROM, .method = "eth_getBlockByNumber", .probability = 0.3},
        {.kind = GL_FAULT_WRONG_HASH, .method = "eth_getBlockByNumber", .probability = 0.25},
        {.kind = GL_FAULT_HTTP_5XX, .probability = 0.03},
    };
    assert_true(gl_fproxy_set_rules(fp, rules, sizeof rules / sizeof rules[0]));
    char dir[300];
    snprintf(dir, sizeof dir, "%s/lies", TMP);
    gl_indexer_stats st = index_via(fp, dir, GL_INDEXER_VERIFY_HEADERS);

    gl_fproxy_lie lies[512];
    size_t nlies = gl_fproxy_lies(fp, lies, 512);
    assert_true(nlies <= 512);
    gl_store *s = tl_store_open(dir, false);
    json_t *f = tl_findings(s, GL_ANVIL_DEFAULT_CHAIN_ID);
    size_t senders = 0, hashes = 0;
    /* Every finding is a lie the proxy told: claimed = told, computed =
     * the truth. */
    size_t i;
    const json_t *x;
    json_array_foreach(f, i, x) {
        const char *kind = json_string_value(json_object_get(x, "kind"));
        const char *claimed = json_string_value(json_object_get(x, "claimed"));
        const char *computed = json_string_value(json_object_get(x, "computed"));
        bool matched = false;
        if (!strcmp(kind, "sender_mismatch")) {
            senders++;
            const char *tx = json_string_value(json_object_get(x, "tx_hash"));
            for (size_t k = 0; k < nlies && !matched; k++)
                matched = lies[k].kind == GL_FAULT_LYING_FROM && same_text(lies[k].subject, tx) &&
                          same_text(lies[k].told, claimed) && same_text(lies[k].truth, computed);
        } else if (!strcmp(kind, "header_hash_mismatch")) {
            hashes++;
            for (size_t k = 0; k < nlies && !matched; k++)
                matched = lies[k].kind == GL_FAULT_WRONG_HASH && same_text(lies[k].told, claimed) &&
                          same_text(lies[k].truth, computed);
        }
        if (!matched) {
            char *t = json_dumps(x, JSON_COMPACT);
            fail_msg("finding without a matching lie: %s", t);
        }
    }
    /* Every lie about an indexed transaction is a finding. */
    size_t lies_on_ours = 0;
    for (size_t k = 0; k < nlies; k++) {
        if (lies[k].kind != GL_FAULT_LYING_FROM)
            continue;
        uint8_t h[32];
        gl_store_tx tx;
        bool found = false;
        gl_err err;
        assert_int_equal(gl_hex_decode_exact(lies[k].subject, h, 32, NULL), GL_OK);
        assert_int_equal(gl_store_get_tx_by_hash(s, GL_ANVIL_DEFAULT_CHAIN_ID, h, &tx, &found, &err), GL_OK);
        if (!found)
            continue;
        lies_on_ours++;
        bool seen = false;
        json_array_foreach(f, i, x) seen |= same_text(json_string_value(json_object_get(x, "tx_hash")),
                                                      lies[k].subject) &&
                                            !strcmp(json_string_value(json_object_get(x, "kind")),
                                                    "sender_mismatch");
        if (!seen)
            fail_msg("lie about tx %s (from %s told as %s) has no finding", lies[k].subject, lies[k].truth,
                     lies[k].told);
        /* The stored sender is the truth. */
        uint8_t truth[20];
        tl_addr(lies[k].truth, truth);
        assert_memory_equal(tx.from, truth, 20);
    }
    fprintf(stderr,
            "test_index_faults: %zu lies told, %zu about indexed txs; findings: %zu sender, %zu header hash; "
            "%" PRIu64 " retries\n",
            nlies, lies_on_ours, senders, hashes, st.retries);
    assert_true(senders > 0);
    assert_true(hashes > 0);
    assert_int_equal(json_array_size(f), senders + hashes);
    json_decref(f);
    gl_store_close(s);

    /* Apart from flags and findings: the clean store. */
    tl_assert_same_store(dir, REF, skip_flagged);
    json_t *a = masked(dir), *b = masked(REF);
    assert_int_equal(json_array_size(a), json_array_size(b));
    for (i = 0; i < json_array_size(a); i++)
        assert_string_equal(json_string_value(json_array_get(a, i)), json_string_value(json_array_get(b, i)));
    json_decref(a);
    json_decref(b);
    gl_fproxy_stop(fp);
}

/* An endpoint that alters every header (parentHash) can never be
 * verified: the run still ends, every event is stored (the logs are not
 * touched), every block carries findings and none claims a verified hash
 * or parent link. */
static void test_endpoint_lying_on_every_header_still_ends(void **state)
{
    (void)state;
    gl_fproxy *fp = gl_fproxy_start(gl_anvil_url(N.node), 9);
    assert_non_null(fp);
    const gl_fault_rule rules[] = {
        {.kind = GL_FAULT_WRONG_HASH, .method = "eth_getBlockByNumber", .field = "parentHash"},
    };
    assert_true(gl_fproxy_set_rules(fp, rules, 1));
    char dir[300];
    snprintf(dir, sizeof dir, "%s/hopeless", TMP);
    gl_indexer_stats st = index_via(fp, dir, GL_INDEXER_VERIFY_HEADERS);
    assert_int_equal(st.events, M.nex);
    gl_store *s = tl_store_open(dir, false);
    gl_err err;
    gl_store_iter *it = gl_store_iter_blocks(s, GL_ANVIL_DEFAULT_CHAIN_ID, 0, UINT64_MAX - 1, &err);
    assert_non_null(it);
    size_t nblocks = 0;
    for (;;) {
        gl_store_block b;
        bool end;
        assert_int_equal(gl_store_next_block(it, &b, &end, &err), GL_OK);
        if (end)
            break;
        nblocks++;
        assert_int_equal(b.verified & (GL_STORE_BLOCK_HASH_OK | GL_STORE_BLOCK_PARENT_OK), 0);
    }
    gl_store_iter_free(it);
    json_t *f = tl_findings(s, GL_ANVIL_DEFAULT_CHAIN_ID);
    assert_true(tl_count_kind(f, "header_hash_mismatch") >= nblocks);
    fprintf(stderr, "test_index_faults: hopeless endpoint: %zu blocks, %zu findings (%zu header hash, %zu parent)\n",
            nblocks, json_array_size(f), tl_count_kind(f, "header_hash_mismatch"), tl_count_kind(f, "parent_mismatch"));
    json_decref(f);
    gl_store_close(s);
    /* Events as in the clean store, flags aside. */
    json_t *a = masked(dir), *b = masked(REF);
    size_t na = 0, nb = 0;
    for (size_t i = 0; i < json_array_size(a); i++)
        na += !strncmp(json_string_value(json_array_get(a, i)), "event ", 6);
    for (size_t i = 0; i < json_array_size(b); i++)
        nb += !strncmp(json_string_value(json_array_get(b, i)), "event ", 6);
    assert_int_equal(na, nb);
    for (size_t i = 0; i < na; i++)
        assert_string_equal(json_string_value(json_array_get(a, i)), json_string_value(json_array_get(b, i)));
    json_decref(a);
    json_decref(b);
    gl_fproxy_stop(fp);
}

/* Two endpoints, one of which lies about block hashes, with --quorum:
 * each block holding data is either confirmed by both (QUORUM_OK) or
 * recorded as disputed, with a finding naming the disagreement. */
static void test_quorum_disagreement_is_a_finding(void **state)
{
    (void)state;
    gl_fproxy *fp = gl_fproxy_start(gl_anvil_url(N.node), 5);
    assert_non_null(fp);
    const gl_fault_rule rules[] = {
        {.kind = GL_FAULT_WRONG_HASH, .method = "eth_getBlockByNumber", .probability = 0.5},
    };
    assert_true(gl_fproxy_set_rules(fp, rules, 1));
    char dir[300];
    snprintf(dir, sizeof dir, "%s/quorum", TMP);
    const char *urls[] = {gl_anvil_url(N.node), gl_fproxy_url(fp)};
    index_urls(urls, 2, true, dir, GL_INDEXER_VERIFY_HEADERS);
    gl_store *s = tl_store_open(dir, false);
    gl_err err;
    json_t *f = tl_findings(s, GL_ANVIL_DEFAULT_CHAIN_ID);
    size_t disagree = tl_count_kind(f, "endpoints_disagree");
    gl_store_event *evs;
    size_t n = tl_events(s, GL_ANVIL_DEFAULT_CHAIN_ID, &evs);
    size_t disputed = 0, confirmed = 0;
    for (size_t i = 0; i < n; i++) {
        gl_store_block b;
        bool found;
        assert_int_equal(gl_store_get_block(s, GL_ANVIL_DEFAULT_CHAIN_ID, evs[i].block, &b, &found, &err), GL_OK);
        assert_true(found);
        bool d = (evs[i].verified & GL_STORE_EVENT_DISPUTED) != 0;
        /* Disputed exactly when the block is not confirmed. */
        assert_true(d != ((b.verified & GL_STORE_BLOCK_QUORUM_OK) != 0));
        disputed += d;
        confirmed += !d;
        if (d) {
            bool named = false;
            size_t k;
            const json_t *x;
            json_array_foreach(f, k, x) named |= !strcmp(json_string_value(json_object_get(x, "kind")),
                                                         "endpoints_disagree") &&
                                                 (uint64_t)json_integer_value(json_object_get(x, "block")) ==
                                                     evs[i].block;
            assert_true(named);
        }
    }
    fprintf(stderr, "test_index_faults: quorum: %zu events confirmed, %zu disputed, %zu disagreement findings\n",
            confirmed, disputed, disagree);
    assert_true(disputed > 0 && confirmed > 0);
    assert_int_equal(n, M.nex);
    free(evs);
    json_decref(f);
    gl_store_close(s);
    gl_fproxy_stop(fp);
}

/* ------------------------------------------------------ follow through outages */

/* What the follow test's hooks see and do.  Phases: 0 catching up; 1 every
 * request fails; 2 caught up again; 3 eth_getLogs fails (the head is read,
 * the pass fails); 4 caught up again, stop.  An unexpected turn (caught up
 * during an outage) is recorded and ends follow, for the asserts to name. */
typedef struct outage_ctx {
    gl_fproxy *fp;
    int phase;
    unsigned warnings;          /* "the endpoints failed" warnings */
    uint64_t head[5];           /* phases 1, 3: the node's head after their new events */
    uint64_t caught_up[5];      /* phases 0, 2, 4: the cursor on_head reported */
    uint64_t cursor_at_b;       /* the block the phase-3 warning names */
    uint64_t last_cursor, last_head;
    bool at_b_parsed;
    char unexpected[160];
    struct timespec deadline;
} outage_ctx;

static void outage_log(void *ctx, int level, const char *msg)
{
    outage_ctx *c = ctx;
    tl_log_quiet(NULL, level, msg);
    if (level != 1 || !strstr(msg, "the endpoints failed"))
        return;
    c->warnings++;
    if (c->phase == 3) {
        const char *at = strstr(msg, ", at block ");
        c->at_b_parsed = at && sscanf(at, ", at block %" SCNu64, &c->cursor_at_b) == 1;
    }
    if (c->phase == 1 || c->phase == 3) {
        /* the outage ends: the proxy answers again */
        assert_true(gl_fproxy_set_rules(c->fp, NULL, 0));
        c->phase++;
    }
}

static bool outage_on_head(void *ctx, uint64_t cursor, uint64_t head)
{
    outage_ctx *c = ctx;
    c->last_cursor = cursor;
    c->last_head = head;
    if (c->phase == 1 || c->phase == 3) {
        snprintf(c->unexpected, sizeof c->unexpected, "caught up (cursor %" PRIu64 ") in phase %d, during the outage",
                 cursor, c->phase);
        return false;
    }
    /* caught up with the node's own head (confirmations 0) */
    uint64_t node_head = tl_head(&N);
    if (cursor != node_head || head != node_head) {
        snprintf(c->unexpected, sizeof c->unexpected,
                 "phase %d: on_head with cursor %" PRIu64 ", head %" PRIu64 "; the node is at %" PRIu64, c->phase,
                 cursor, head, node_head);
        return false;
    }
    c->caught_up[c->phase] = cursor;
    if (c->phase == 4)
        return false;
    /* New marketplace events, made on the node directly, then the outage. */
    if (c->phase == 0) {
        tl_market_lease(&N, &M, 4, -1, 1, 2, 3, true);
        tl_market_lease(&N, &M, 5, 8, 2, 1, 2, true);
        tl_market_extend(&N, &M, 5, M.nleases, 4, true);
        const gl_fault_rule down[] = {
            {.kind = GL_FAULT_RESET, .every_nth = 2},
            {.kind = GL_FAULT_HTTP_5XX, .http_status = 503},
        };
        assert_true(gl_fproxy_set_rules(c->fp, down, 2));
    } else {
        tl_market_lease(&N, &M, 6, -1, 2, 3, 1, true);
        tl_market_extend(&N, &M, 7, 1, 2, true);
        const gl_fault_rule logs_down[] = {
            {.kind = GL_FAULT_HTTP_5XX, .http_status = 503, .method = "eth_getLogs"},
        };
        assert_true(gl_fproxy_set_rules(c->fp, logs_down, 1));
    }
    c->phase++;
    c->head[c->phase] = tl_head(&N);
    return true;
}

static bool outage_stop(void *ctx)
{
    outage_ctx *c = ctx;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (now.tv_sec < c->deadline.tv_sec ||
        (now.tv_sec == c->deadline.tv_sec && now.tv_nsec < c->deadline.tv_nsec))
        return false;
    if (!c->unexpected[0])
        snprintf(c->unexpected, sizeof c->unexpected, "still in phase %d after 30 s", c->phase);
    return true;
}

/* Skip the blocks family (compared on its own). */
static bool skip_blocks(const char *family, const char *val, size_t vlen)
{
    (void)val;
    (void)vlen;
    return !strcmp(family, "blocks");
}

/* An endpoint whose logs carry no blockTimestamp (most providers before
 * 2024): with --verify none the time must come from the blocks, and only
 * their headers are fetched (no transaction object, so no tx record).  The
 * events and transfers equal those indexed straight from anvil (whose logs
 * carry the time); every block has the hash and time anvil gives. */
static void test_logs_without_timestamps(void **state)
{
    (void)state;
    gl_platform *p = tl_market_platform(&M, "gpumarket-nots", GL_ANVIL_DEFAULT_CHAIN_ID, false);
    gl_fproxy *fp = gl_fproxy_start(gl_anvil_url(N.node), 5);
    assert_non_null(fp);
    const gl_fault_rule rules[] = {{.kind = GL_FAULT_NO_TIMESTAMP}};
    assert_true(gl_fproxy_set_rules(fp, rules, 1));
    char dir[300], direct[300];
    snprintf(dir, sizeof dir, "%s/nots", TMP);
    snprintf(direct, sizeof direct, "%s/nots-direct", TMP);
    tl_run_opts ro = {.verify = GL_INDEXER_VERIFY_NONE};
    gl_indexer_stats st = tl_index(gl_fproxy_url(fp), dir, p, &ro);
    gl_indexer_stats sd = tl_index(gl_anvil_url(N.node), direct, p, &ro);
    assert_true(gl_fproxy_injected(fp, GL_FAULT_NO_TIMESTAMP) > 0);
    assert_int_equal(sd.blocks_fetched, 0);        /* anvil's logs carry the time */
    assert_int_equal(st.blocks_fetched, st.blocks); /* one fetch per block with events */
    assert_int_equal(st.txs, 0);                    /* headers only */
    assert_int_equal(st.events, sd.events);
    assert_int_equal(st.findings, 0);
    tl_assert_same_store(dir, direct, skip_blocks);
    /* Each block: anvil's hash and time. */
    gl_store *s = tl_store_open(dir, false);
    gl_store_iter *it = gl_store_iter_blocks(s, GL_ANVIL_DEFAULT_CHAIN_ID, 0, UINT64_MAX - 1, NULL);
    assert_non_null(it);
    size_t n = 0;
    for (;;) {
        gl_store_block b;
        bool end;
        assert_int_equal(gl_store_next_block(it, &b, &end, NULL), GL_OK);
        if (end)
            break;
        char q[24];
        snprintf(q, sizeof q, "0x%" PRIx64, b.number);
        json_t *blk = tl_rpc(&N, "eth_getBlockByNumber", json_pack("[s,b]", q, 0));
        uint8_t h[32];
        assert_int_equal(gl_hex_decode_exact(json_string_value(json_object_get(blk, "hash")), h, 32, NULL), GL_OK);
        assert_memory_equal(b.hash, h, 32);
        assert_int_equal(b.timestamp, tl_qty(json_object_get(blk, "timestamp")));
        json_decref(blk);
        n++;
    }
    gl_store_iter_free(it);
    gl_store_close(s);
    assert_int_equal(n, st.blocks);
    gl_fproxy_stop(fp);
    gl_platform_free(p);
}

/* follow outlives the endpoints' outages: every request failing (the head
 * cannot be read), then eth_getLogs failing (the pass fails after the head
 * was read).  Each outage is a warning and a count, not the end; follow
 * resumes where its last commit left it and ends, when told, with the
 * store a clean index of the final chain makes. */
static void test_follow_outlives_an_outage(void **state)
{
    (void)state;
    gl_fproxy *fp = gl_fproxy_start(gl_anvil_url(N.node), 3);
    assert_non_null(fp);
    const char *urls[] = {gl_fproxy_url(fp)};
    gl_endpoint_opts eo;
    memset(&eo, 0, sizeof eo);
    eo.urls = urls;
    eo.nurls = 1;
    eo.seed = 21;
    eo.backoff_base_ms = 2;
    eo.backoff_cap_ms = 20;
    eo.max_attempts = 3; /* an outage spends them quickly */
    eo.timeout_ms = 2000;
    gl_err err;
    gl_endpoints *e = gl_endpoints_new(&eo, &err);
    assert_non_null(e);
    if (gl_indexer_check_chain(e, P, &err))
        fail_msg("chain: %s", err.msg);
    char dir[300], ref[300];
    snprintf(dir, sizeof dir, "%s/follow", TMP);
    snprintf(ref, sizeof ref, "%s/follow-ref", TMP);
    gl_store *s = tl_store_open(dir, true);

    outage_ctx c;
    memset(&c, 0, sizeof c);
    c.fp = fp;
    clock_gettime(CLOCK_MONOTONIC, &c.deadline);
    c.deadline.tv_sec += 30;
    gl_indexer_opts o;
    gl_indexer_opts_init(&o);
    o.has_confirmations = true;
    o.confirmations = 0;
    o.batch_logs = 5;
    o.block_chunk = 3;
    o.initial_span = 8;
    o.poll_ms = 20;
    o.log = outage_log;
    o.on_head = outage_on_head;
    o.stop = outage_stop;
    o.ctx = &c;
    o.prefetch = true; /* as the CLI does: clones of e, through the same proxy */
    gl_indexer *ix = gl_indexer_new(s, e, P, &o, &err);
    assert_non_null(ix);
    gl_code rc = gl_indexer_follow(ix, &err);
    gl_indexer_stats st;
    gl_indexer_stats_get(ix, &st);
    gl_indexer_free(ix);
    gl_store_close(s);
    gl_endpoints_free(e);
    fprintf(stderr,
            "test_index_faults: follow: %u requests, %u faults injected, %" PRIu64 " outages, %u warnings, cursor %" PRIu64
            "\n",
            gl_fproxy_requests(fp), gl_fproxy_injected(fp, GL_FAULT_NONE), st.outages, c.warnings, st.cursor);
    unsigned resets = gl_fproxy_injected(fp, GL_FAULT_RESET), refusals = gl_fproxy_injected(fp, GL_FAULT_HTTP_5XX);
    gl_fproxy_stop(fp);
    if (rc)
        fail_msg("follow ended with an error: %s", err.msg);
    if (c.unexpected[0])
        fail_msg("%s", c.unexpected);
    assert_int_equal(c.phase, 4);
    assert_true(resets > 0 && refusals > 0);
    /* both outages were met, warned about and counted */
    assert_true(st.outages >= 2);
    assert_int_equal(st.outages, c.warnings);
    /* the second outage resumed at the cursor of the first recovery: what
     * was committed stayed */
    assert_true(c.at_b_parsed);
    assert_int_equal(c.cursor_at_b, c.caught_up[2]);
    /* each recovery indexed what was made before its outage */
    assert_true(c.head[1] > c.caught_up[0]);
    assert_int_equal(c.caught_up[2], c.head[1]);
    assert_true(c.head[3] > c.caught_up[2]);
    /* caught up with the final chain */
    uint64_t node_head = tl_head(&N);
    assert_int_equal(c.head[3], node_head);
    assert_int_equal(c.caught_up[4], node_head);
    assert_int_equal(st.cursor, node_head);
    assert_int_equal(c.last_cursor, node_head);
    assert_int_equal(st.events, M.nex);

    /* A clean index of the final chain, directly against the node. */
    gl_indexer_stats rst = tl_index(gl_anvil_url(N.node), ref, P, NULL);
    assert_int_equal(rst.events, M.nex);
    tl_assert_same_store(dir, ref, NULL);
}

/* 4. Requests behind a provider's log cap, end to end.  A chain of its own
 * with 10,001 GLM Transfer logs spread evenly (a mint, then 50 a block
 * over 200 blocks), a proxy refusing answers of more than 1,000 logs in
 * each provider's words (with a suggested range, without one) or spans
 * of more than 100 blocks, and the indexer as the CLI runs it (prefetch
 * on, its default first span) sized for 1,000-log answers: every event
 * stored, at most 13 eth_getLogs where 11 suffice (10 full answers, the
 * first small one), at most one refused.  What ran ahead on a guessed
 * range (gl_indexer_opts.prefetch) must not cost more. */
static void test_capped_request_count(void **state)
{
    (void)state;
    tl_node C;
    if (tl_node_start(&C, 0, NULL))
        fail_msg("cannot start a node for the capped chain");
    tl_glm G;
    tl_glm_deploy(&C, &G);
    tl_glm_payouts_mined(&C, &G, 200, 49);
    char *def = tl_glm_def(&G, "glm-capped");
    gl_platform *gp = tl_platform("%s", def);
    free(def);
    static const struct {
        gl_fault kind;
        uint64_t cap;
    } styles[] = {
        {GL_FAULT_RANGE_INFURA, 1000},
        {GL_FAULT_RANGE_ALCHEMY, 1000},
        {GL_FAULT_RANGE_COUNT, 1000},
        {GL_FAULT_RANGE_SPAN, 100},
    };
    for (size_t i = 0; i < sizeof styles / sizeof styles[0]; i++) {
        gl_fproxy *fp = gl_fproxy_start(gl_anvil_url(C.node), 7);
        assert_non_null(fp);
        /* Alchemy's words: no cap below 10 blocks (its "safe span") */
        gl_fault_rule rule = {.kind = styles[i].kind, .method = "eth_getLogs", .cap = styles[i].cap, .span = 10};
        assert_true(gl_fproxy_set_rules(fp, &rule, 1));
        char dir[300];
        snprintf(dir, sizeof dir, "%s/capped-%zu", TMP, i);
        tl_run_opts ro = {.verify = GL_INDEXER_VERIFY_NONE, .request_logs = 1000};
        gl_indexer_stats st = tl_index(gl_fproxy_url(fp), dir, gp, &ro);
        unsigned refused = gl_fproxy_injected(fp, styles[i].kind), calls = gl_fproxy_calls(fp, "eth_getLogs");
        fprintf(stderr, "test_index_faults: cap style %zu: %" PRIu64 " events, %u eth_getLogs, %u refused\n", i,
                st.events, calls, refused);
        assert_int_equal(st.events, G.transfers);
        assert_true(calls <= 13);
        assert_true(refused <= 1);
        gl_fproxy_stop(fp);
    }
    gl_platform_free(gp);
    tl_node_stop(&C);
}

/* 5. A single block refused as too large (a busy block, or a provider
 * refusing under load) never ends a run: the indexer asks again, then splits
 * the filter by address and by topic, and at last reads the block's logs
 * from its receipts, proven against the header's receiptsRoot.  The market
 * is indexed with its stablecoin as a second contract (its Transfers mapped),
 * so that a filter names two addresses and five topics; each case must give
 * the store a clean index of the node gives, byte for byte, by the path
 * named:
 *   a. every range cut to one block (a span cap of 1) and every single-block
 *      filter refused: every block read from its receipts;
 *   b. every filter naming more than one address refused (the ranges too, so
 *      the plan cuts them down to one block): split by address;
 *   c. every filter with more than one topic0 refused: split by topic;
 *   d. one single-block filter in two refused (a provider under load): asked
 *      again, no split, no receipts. */
static char *two_contract_def(const char *name)
{
    char *t = tl_market_def(&M, name, GL_ANVIL_DEFAULT_CHAIN_ID, true);
    json_error_t je;
    json_t *d = json_loads(t, 0, &je);
    free(t);
    assert_non_null(d);
    json_t *c = json_pack("{s:s,s:s,s:I,s:[{s:I,s:n,s:[s]}]}", "name", "USDC", "address", M.usdc, "start_block",
                          (json_int_t)M.start_block, "abis", "from_block", (json_int_t)M.start_block, "to_block",
                          "events", "event Transfer(address indexed from, address indexed to, uint256 value)");
    assert_non_null(c);
    assert_int_equal(json_array_append_new(json_object_get(d, "contracts"), c), 0);
    json_t *ev = json_pack("{s:s,s:s,s:s,s:s,s:s}", "kind", "transfer", "payer", "from", "provider", "to", "amount",
                           "value", "token", "log.address");
    assert_int_equal(json_object_set_new(json_object_get(d, "events"), "Transfer", ev), 0);
    t = json_dumps(d, JSON_COMPACT);
    json_decref(d);
    return t;
}

static void test_refused_single_blocks(void **state)
{
    (void)state;
    char *def = two_contract_def("gpumarket-two");
    gl_platform *p2 = tl_platform("%s", def);
    free(def);
    char ref[300];
    snprintf(ref, sizeof ref, "%s/two-ref", TMP);
    gl_indexer_stats rst = tl_index(gl_anvil_url(N.node), ref, p2, NULL);
    assert_true(rst.events > M.nex); /* the Transfers came too */
    static const struct {
        const char *name;
        gl_fault_rule rules[2];
        size_t nrules;
    } cases[] = {
        {"one block, always refused",
         {{.kind = GL_FAULT_RANGE_SPAN, .method = "eth_getLogs", .cap = 1},
          {.kind = GL_FAULT_LOGS_REFUSE, .variant = 0}},
         2},
        {"several addresses refused", {{.kind = GL_FAULT_LOGS_REFUSE, .variant = 1}}, 1},
        {"several topics refused", {{.kind = GL_FAULT_LOGS_REFUSE, .variant = 2}}, 1},
        {"one block, refused under load",
         {{.kind = GL_FAULT_RANGE_SPAN, .method = "eth_getLogs", .cap = 1},
          {.kind = GL_FAULT_LOGS_REFUSE, .variant = 0, .every_nth = 2}},
         2},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        gl_fproxy *fp = gl_fproxy_start(gl_anvil_url(N.node), 5 + i);
        assert_non_null(fp);
        assert_true(gl_fproxy_set_rules(fp, cases[i].rules, cases[i].nrules));
        const char *urls[] = {gl_fproxy_url(fp)};
        char dir[300];
        snprintf(dir, sizeof dir, "%s/refused-%zu", TMP, i);
        gl_indexer_stats st = index_plat(p2, urls, 1, false, dir, GL_INDEXER_VERIFY_HEADERS);
        unsigned refused = gl_fproxy_injected(fp, GL_FAULT_LOGS_REFUSE);
        unsigned receipts = gl_fproxy_calls(fp, "eth_getBlockReceipts");
        fprintf(stderr,
                "test_index_faults: %s: %u refused, %" PRIu64 " eth_getLogs, %" PRIu64 " block(s) refused, %" PRIu64
                " split, %" PRIu64 " from receipts (%u eth_getBlockReceipts), %" PRIu64 " events\n",
                cases[i].name, refused, st.log_requests, st.refused_blocks, st.split_blocks, st.receipt_blocks,
                receipts, st.events);
        assert_true(refused > 0);
        assert_int_equal(st.events, rst.events);
        assert_int_equal(st.findings, 0);
        tl_assert_same_store(dir, ref, NULL);
        assert_true(st.refused_blocks > 0);
        if (i == 0) {
            assert_true(st.receipt_blocks > 0);
            assert_true(receipts >= st.receipt_blocks);
        } else {
            assert_int_equal(st.receipt_blocks, 0);
            assert_int_equal(receipts, 0);
        }
        if (i == 1 || i == 2)
            assert_true(st.split_blocks > 0);
        if (i == 3)
            assert_int_equal(st.split_blocks, 0);
        gl_fproxy_stop(fp);
    }
    gl_platform_free(p2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_flaky_endpoint_gives_the_clean_store),
        cmocka_unit_test(test_lies_become_findings),
        cmocka_unit_test(test_endpoint_lying_on_every_header_still_ends),
        cmocka_unit_test(test_quorum_disagreement_is_a_finding),
        cmocka_unit_test(test_capped_request_count),
        cmocka_unit_test(test_refused_single_blocks),
        /* last: it adds events to the chain the REF store predates */
        cmocka_unit_test(test_logs_without_timestamps),
        cmocka_unit_test(test_follow_outlives_an_outage),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
