/* test_index_sim.c - every platform definition end to end against the
 * simulator's ground truth.
 *
 * The scenario simulator (sim.h) plays fixtures/scenarios/small.json on
 * anvil: every market (GpuMarket, Livepeer, Golem, Spheron, Swan, Fluence)
 * with honest buyers, proxies of every typology, self-dealing, rings and
 * noise, and writes the truth (docs/TRUTH.md) and one platform definition
 * per market.  Each definition is indexed into one store; then, for every
 * payment of the truth, the event at its (block, log index) must be stored
 * with its platform, amount, token, payer, provider (where the chain names
 * it), beneficiary, lease id and GPU fields; per market the stored events
 * of each payment kind must be exactly as many as the truth's payments (no
 * duplicates, none missing); every sender checks out, no finding is
 * recorded, and the cursor stands at the truth's head with its hash.
 */
#include "index_testlib.h"

#include "gpuledger/sim.h"

static tl_node N;
static char TMP[256];
static json_t *TRUTH, *DEFS;

static int setup(void **state)
{
    (void)state;
    if (tl_node_start(&N, 0, NULL))
        return -1;
    char root[4096], scen[4200], cdir[4200], sdir[4200];
    gl_err err;
    if (!gl_test_root(root, sizeof root))
        return -1;
    snprintf(scen, sizeof scen, "%s/fixtures/scenarios/small.json", root);
    gl_sim_scenario sc;
    if (gl_sim_scenario_load(&sc, scen, &err) ||
        gl_sim_find_dir(cdir, sizeof cdir, "fixtures/contracts/build", "GpuMarket.json", NULL, &err) ||
        gl_sim_find_dir(sdir, sizeof sdir, "fixtures/sim/build", "SimHub.json", NULL, &err)) {
        fprintf(stderr, "simulator setup: %s\n", err.msg);
        return -1;
    }
    gl_sim_opts so;
    memset(&so, 0, sizeof so);
    so.rpc_url = gl_anvil_url(N.node);
    so.contracts_dir = cdir;
    so.sim_contracts_dir = sdir;
    so.seed = 20240304;
    if (gl_hex_decode_exact(gl_sim_anvil_key0, so.funder_key, 32, &err)) {
        fprintf(stderr, "funder key: %s\n", err.msg);
        return -1;
    }
    if (gl_sim_run(&sc, &so, &TRUTH, NULL, &err) || gl_sim_platform_defs(TRUTH, &DEFS, &err)) {
        fprintf(stderr, "simulate: %s\n", err.msg);
        return -1;
    }
    tl_tmpdir(TMP, sizeof TMP, "sim");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    json_decref(TRUTH);
    json_decref(DEFS);
    tl_node_stop(&N);
    if (TMP[0])
        tl_rm_rf(TMP);
    return 0;
}

static bool has_addr(const gl_store_event *ev, const char *addr, bool buyer_side)
{
    uint8_t a[20];
    tl_addr(addr, a);
    for (size_t i = 0; i < ev->n_roles; i++) {
        gl_store_role r = ev->roles[i].role;
        bool side = buyer_side ? r == GL_STORE_ROLE_BUYER || r == GL_STORE_ROLE_PAYER : r == GL_STORE_ROLE_PROVIDER;
        if (side && !memcmp(ev->roles[i].addr, a, 20))
            return true;
    }
    return buyer_side && ev->has_tx_from && !memcmp(ev->tx_from, a, 20);
}

/* The event a payment of `platform`/`kind` is, by name. */
static const char *payment_event(const char *platform, const char *kind)
{
    static const char *const map[][3] = {
        {"gpumarket", "lease", "LeaseOpened"},         {"gpumarket", "extension", "LeaseExtended"},
        {"livepeer", "ticket", "WinningTicketTransfer"}, {"golem", "batch_transfer", "Transfer"},
        {"golem", "deposit_transfer", "DepositTransfer"}, {"spheron", "lease", "LeaseCreated"},
        {"swan", "task", "TaskCreated"},                 {"fluence", "deal_deposit", "Deposited"},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (!strcmp(map[i][0], platform) && !strcmp(map[i][1], kind))
            return map[i][2];
    fail_msg("payment kind %s/%s unknown to the test", platform, kind);
    return NULL;
}

static void test_every_platform_matches_the_truth(void **state)
{
    (void)state;
    char dir[300];
    snprintf(dir, sizeof dir, "%s/store", TMP);
    const char *file;
    json_t *def;
    size_t ndefs = 0;
    const char *names[16];
    const char *platforms[16];
    gl_platform *loaded[16];
    json_object_foreach(DEFS, file, def) {
        assert_true(ndefs < 16);
        gl_platform *p = NULL;
        gl_err err;
        if (gl_platform_load_json(&p, def, file, &err))
            fail_msg("%s: %s", file, err.msg);
        gl_indexer_stats st = tl_index(gl_anvil_url(N.node), dir, p, NULL);
        assert_int_equal(st.findings, 0);
        loaded[ndefs] = p;
        names[ndefs] = p->name;
        platforms[ndefs] = p->platform;
        ndefs++;
    }
    assert_int_equal(ndefs, 6);

    gl_store *s = tl_store_open(dir, false);
    gl_err err;
    const json_t *payments = json_object_get(TRUTH, "payments");
    assert_true(json_array_size(payments) > 50);
    const char *batch_payer = json_string_value(
        json_object_get(json_object_get(json_object_get(TRUTH, "contracts"), "golem_batch_payer"), "address"));
    size_t i;
    const json_t *pm;
    json_array_foreach(payments, i, pm) {
        const char *platform = json_string_value(json_object_get(pm, "platform"));
        const char *kind = json_string_value(json_object_get(pm, "kind"));
        uint64_t block = (uint64_t)json_integer_value(json_object_get(pm, "block"));
        uint32_t li = (uint32_t)json_integer_value(json_object_get(pm, "log_index"));
        gl_store_event ev;
        bool found;
        assert_int_equal(gl_store_get_event(s, GL_ANVIL_DEFAULT_CHAIN_ID, block, li, &ev, &found, &err), GL_OK);
        if (!found)
            fail_msg("payment %zu (%s %s at %" PRIu64 "/%u) is not stored", i, platform, kind, block, li);
        const char *want_name = NULL;
        for (size_t k = 0; k < ndefs; k++)
            if (!strcmp(platforms[k], platform))
                want_name = names[k];
        assert_non_null(want_name);
        assert_string_equal(ev.platform, want_name);
        assert_string_equal(ev.name, payment_event(platform, kind));
        char h[67];
        assert_string_equal(gl_hex_encode(ev.tx_hash, 32, true, h), json_string_value(json_object_get(pm, "tx")));
        /* Amount and token. */
        gl_u256 want;
        assert_int_equal(gl_u256_parse_dec(&want, json_string_value(json_object_get(pm, "amount")), NULL), GL_OK);
        assert_true(ev.has_amount);
        assert_int_equal(gl_u256_cmp(&ev.amount, &want), 0);
        const json_t *ta = json_object_get(pm, "token_address");
        if (json_is_null(ta)) {
            assert_false(ev.has_token);
        } else {
            uint8_t t[20];
            tl_addr(json_string_value(ta), t);
            assert_true(ev.has_token);
            assert_memory_equal(ev.token, t, 20);
        }
        /* Who paid; who was paid where the log names it. */
        const char *payer = json_string_value(json_object_get(pm, "payer"));
        if (!has_addr(&ev, payer, true))
            fail_msg("payment %zu (%s %s): payer %s not among the event's buyer/payer/tx.from", i, platform, kind,
                     payer);
        const char *provider = json_string_value(json_object_get(pm, "provider"));
        if (strcmp(platform, "swan") && strcmp(platform, "fluence") && !has_addr(&ev, provider, false))
            fail_msg("payment %zu (%s %s): provider %s not in the event", i, platform, kind, provider);
        assert_true(ev.verified & GL_STORE_EVENT_SENDER_OK);
        if (!strcmp(platform, "gpumarket")) {
            assert_true(tl_has_role(&ev, GL_STORE_ROLE_BENEFICIARY,
                                    json_string_value(json_object_get(pm, "beneficiary"))));
            assert_int_equal(ev.duration_s, 3600 * json_integer_value(json_object_get(pm, "hours")));
            if (!strcmp(kind, "lease")) {
                assert_string_equal(ev.gpu_model, json_string_value(json_object_get(pm, "gpu_model")));
                assert_int_equal(ev.gpu_count, json_integer_value(json_object_get(pm, "gpu_count")));
                assert_int_equal(ev.gpu_mhours, 1000 * json_integer_value(json_object_get(pm, "gpu_hours")));
            }
        }
        const json_t *lid = json_object_get(pm, "lease_id");
        if (json_is_string(lid)) {
            const gl_store_id *id = tl_id(&ev, "leaseId");
            assert_non_null(id);
            gl_u256 got, w;
            assert_int_equal(gl_u256_from_be(&got, id->value, 32, NULL), GL_OK);
            assert_int_equal(gl_u256_parse_dec(&w, json_string_value(lid), NULL), GL_OK);
            assert_int_equal(gl_u256_cmp(&got, &w), 0);
        }
    }
    /* None missing, no duplicates: per payment kind, as many stored events
     * as truth payments (Golem batch transfers: GLM Transfers out of the
     * batch payer). */
    gl_store_event *evs;
    size_t n = tl_events(s, GL_ANVIL_DEFAULT_CHAIN_ID, &evs);
    json_array_foreach(payments, i, pm) {
        const char *platform = json_string_value(json_object_get(pm, "platform"));
        const char *kind = json_string_value(json_object_get(pm, "kind"));
        size_t want = 0, got = 0, k;
        const json_t *q;
        json_array_foreach(payments, k, q) want += !strcmp(json_string_value(json_object_get(q, "platform")), platform) &&
                                                   !strcmp(json_string_value(json_object_get(q, "kind")), kind);
        const char *ename = payment_event(platform, kind);
        for (k = 0; k < n; k++) {
            if (strcmp(evs[k].name, ename) || strncmp(evs[k].platform, platform, strlen(platform)))
                continue;
            if (!strcmp(kind, "batch_transfer") && !tl_has_role(&evs[k], GL_STORE_ROLE_PAYER, batch_payer))
                continue;
            got++;
        }
        if (got != want)
            fail_msg("%s %s: %zu stored events, %zu payments in the truth", platform, kind, got, want);
    }
    free(evs);
    json_t *f = tl_findings(s, GL_ANVIL_DEFAULT_CHAIN_ID);
    assert_int_equal(json_array_size(f), 0);
    json_decref(f);
    /* Every cursor at the truth's head, with its hash. */
    const json_t *chain = json_object_get(TRUTH, "chain");
    uint8_t head_hash[32];
    assert_int_equal(gl_hex_decode_exact(json_string_value(json_object_get(chain, "head_hash")), head_hash, 32, NULL),
                     GL_OK);
    for (size_t k = 0; k < ndefs; k++) {
        gl_store_cursor c;
        bool found;
        assert_int_equal(gl_store_get_cursor(s, GL_ANVIL_DEFAULT_CHAIN_ID, names[k], &c, &found, &err), GL_OK);
        assert_true(found);
        assert_int_equal(c.block, (uint64_t)json_integer_value(json_object_get(chain, "last_block")));
        assert_memory_equal(c.hash, head_hash, 32);
    }
    assert_int_equal(gl_store_verify(s, &err), GL_OK);
    gl_store_close(s);
    for (size_t k = 0; k < ndefs; k++)
        gl_platform_free(loaded[k]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_platform_matches_the_truth),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
