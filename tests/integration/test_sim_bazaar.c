/* test_sim_bazaar.c - the second market (ComputeBazaar) against a real
 * node and through the indexer.
 *
 * fixtures/scenarios/bazaar-small.json (the bazaar alone, its hosts,
 * renters and the five proxy typologies re-targeted onto it) is played on
 * anvil, then checked with no help from the simulator's code:
 *   - every Rented log of the bazaar is fetched (eth_getLogs) and decoded
 *     with the compiled artifact's ABI; every bazaar payment of the truth is
 *     one of them with the same rental id, renter, payer, host, model (the
 *     bytes32 text), units, minutes, cost and position, and no Rented log
 *     is missing from the truth; the day sums are the truth's volume;
 *   - every typology pays at least twice; the wallets a sponsor, a splitter
 *     or a pass-through client funds receive exactly the rental's cost in
 *     USDT, 2 to 20 minutes before the rental; reimbursed proxies get
 *     exactly the cost back within the hour (USDT Transfer logs);
 *   - every address holds on chain exactly its truth balances, USDT
 *     included;
 *   - honest hosts cash out part of their USDT to their exchange deposit
 *     address, whole USDT each time, and every token's decimals() is the
 *     truth's;
 *   - bazaar-sim.json, indexed like any definition, stores each rental with
 *     its payer, renter, host, amount, token, rental id, the model as text
 *     and the minutes as duration and milli-GPU-hours, as the truth says.
 */
#include "index_testlib.h"

#include "gpuledger/sim.h"
#include "gpuledger/u256.h"

static tl_node N;
static char TMP[256], ROOT[4096];
static json_t *TRUTH;

static int setup(void **state)
{
    (void)state;
    if (tl_node_start(&N, 0, NULL))
        return -1;
    char scen[4200], cdir[4200], sdir[4200];
    gl_err err;
    if (!gl_test_root(ROOT, sizeof ROOT))
        return -1;
    snprintf(scen, sizeof scen, "%s/fixtures/scenarios/bazaar-small.json", ROOT);
    gl_sim_scenario sc;
    if (gl_sim_scenario_load(&sc, scen, &err) ||
        gl_sim_find_dir(cdir, sizeof cdir, "fixtures/contracts/build", "ComputeBazaar.json", NULL, &err) ||
        gl_sim_find_dir(sdir, sizeof sdir, "fixtures/sim/build", "SimHub.json", NULL, &err)) {
        fprintf(stderr, "simulator setup: %s\n", err.msg);
        return -1;
    }
    gl_sim_opts so;
    memset(&so, 0, sizeof so);
    so.rpc_url = gl_anvil_url(N.node);
    so.contracts_dir = cdir;
    so.sim_contracts_dir = sdir;
    so.seed = 42;
    if (gl_hex_decode_exact(gl_sim_anvil_key0, so.funder_key, 32, &err)) {
        fprintf(stderr, "funder key: %s\n", err.msg);
        return -1;
    }
    if (gl_sim_run(&sc, &so, &TRUTH, NULL, &err)) {
        fprintf(stderr, "simulate: %s\n", err.msg);
        return -1;
    }
    tl_tmpdir(TMP, sizeof TMP, "simbz");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    json_decref(TRUTH);
    tl_node_stop(&N);
    if (TMP[0])
        tl_rm_rf(TMP);
    return 0;
}

/* ------------------------------------------------------------------ */
/* Reading the chain                                                    */

static json_t *rpc_ok(gl_rpc *rpc, const char *method, json_t *params)
{
    json_t *res = NULL;
    gl_err err;
    if (gl_rpc_call(rpc, method, params, &res, &err))
        fail_msg("%s: %s", method, err.msg);
    return res;
}

static const char *truth_contract(const char *name)
{
    const char *a = json_string_value(
        json_object_get(json_object_get(json_object_get(TRUTH, "contracts"), name), "address"));
    if (!a)
        fail_msg("truth has no contract %s", name);
    return a;
}

static uint64_t hexq(const json_t *v) { return strtoull(json_string_value(v), NULL, 16); }

static uint64_t block_time(gl_rpc *rpc, uint64_t block)
{
    char hex[32];
    snprintf(hex, sizeof hex, "0x%" PRIx64, block);
    json_t *b = rpc_ok(rpc, "eth_getBlockByNumber", json_pack("[s,b]", hex, 0));
    uint64_t t = hexq(json_object_get(b, "timestamp"));
    json_decref(b);
    return t;
}

/* Every log of `address` over the run, each decoded as `event` of artifact
 * `art` (logs of other events skipped): an array of {fields..., block, tx,
 * log_index, time}. */
static json_t *decoded_logs(gl_rpc *rpc, const char *address, const char *art, const char *event)
{
    char path[4400];
    snprintf(path, sizeof path, "%s/fixtures/contracts/build/%s.json", ROOT, art);
    json_t *a = json_load_file(path, 0, NULL);
    assert_non_null(a);
    gl_abi_sig sig;
    gl_err err;
    if (gl_abi_sig_find(&sig, json_object_get(a, "abi"), "event", event, &err))
        fail_msg("%s.%s: %s", art, event, err.msg);
    json_decref(a);
    const json_t *chain = json_object_get(TRUTH, "chain");
    char f[32], l[32];
    snprintf(f, sizeof f, "0x%" PRIx64, (uint64_t)json_integer_value(json_object_get(chain, "first_block")));
    snprintf(l, sizeof l, "0x%" PRIx64, (uint64_t)json_integer_value(json_object_get(chain, "last_block")));
    json_t *logs = rpc_ok(rpc, "eth_getLogs", json_pack("[{s:s, s:s, s:s}]", "address", address, "fromBlock", f,
                                                        "toBlock", l));
    json_t *out = json_array();
    size_t i;
    json_t *lg;
    json_array_foreach(logs, i, lg) {
        json_t *topics = json_object_get(lg, "topics");
        uint8_t tp[4][32];
        size_t nt = json_array_size(topics);
        assert_true(nt >= 1 && nt <= 4);
        for (size_t k = 0; k < nt; k++)
            assert_int_equal(gl_hex_decode_exact(json_string_value(json_array_get(topics, k)), tp[k], 32, &err),
                             GL_OK);
        if (memcmp(tp[0], sig.hash, 32))
            continue;
        gl_buf data = GL_BUF_INIT;
        assert_int_equal(gl_hex_decode_buf(json_string_value(json_object_get(lg, "data")), &data, &err), GL_OK);
        json_t *ev = NULL;
        if (gl_abi_decode_log(&ev, &sig, (const uint8_t(*)[32])tp, nt, data.data, data.len, 0, &err))
            fail_msg("decoding %s: %s", event, err.msg);
        gl_buf_release(&data);
        uint64_t blk = hexq(json_object_get(lg, "blockNumber"));
        json_object_set_new(ev, "block", json_integer((json_int_t)blk));
        json_object_set(ev, "tx", json_object_get(lg, "transactionHash"));
        json_object_set_new(ev, "log_index", json_integer((json_int_t)hexq(json_object_get(lg, "logIndex"))));
        json_object_set_new(ev, "time", json_integer((json_int_t)block_time(rpc, blk)));
        json_array_append_new(out, ev);
    }
    json_decref(logs);
    gl_abi_sig_release(&sig);
    return out;
}

static const char *sget(const json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    if (!s)
        fail_msg("value lacks %s", k);
    return s;
}

static json_int_t iget(const json_t *o, const char *k) { return json_integer_value(json_object_get(o, k)); }

/* The bytes32 a model name is on chain: the ASCII, right-padded with zeros. */
static void padded_hex(const char *text, char out[67])
{
    uint8_t b[32] = {0};
    size_t n = strlen(text);
    assert_true(n > 0 && n <= 32);
    memcpy(b, text, n);
    gl_hex_encode(b, 32, true, out);
}

/* ------------------------------------------------------------------ */
/* The chain against the truth                                          */

static void test_bazaar_chain_agrees_with_truth(void **state)
{
    (void)state;
    gl_err err;
    gl_rpc *rpc = gl_rpc_new(gl_anvil_url(N.node), &err);
    assert_non_null(rpc);
    json_t *rented = decoded_logs(rpc, truth_contract("bazaar"), "ComputeBazaar", "Rented");
    json_t *by_id = json_object();
    size_t i;
    json_t *ev;
    json_array_foreach(rented, i, ev) json_object_set(by_id, sget(ev, "rentalId"), ev);
    assert_int_equal(json_object_size(by_id), json_array_size(rented)); /* ids are unique */

    /* every bazaar payment is its Rented log, and only bazaar payments */
    size_t n = 0;
    json_t *day_sum = json_object();
    json_t *per_typology = json_object();
    const json_t *pm;
    json_array_foreach(json_object_get(TRUTH, "payments"), i, pm) {
        assert_string_equal(sget(pm, "platform"), "bazaar");
        assert_string_equal(sget(pm, "kind"), "rental");
        ev = json_object_get(by_id, sget(pm, "lease_id"));
        if (!ev)
            fail_msg("truth rental %s is not on chain", sget(pm, "lease_id"));
        assert_string_equal(sget(ev, "renter"), sget(pm, "beneficiary"));
        assert_string_equal(sget(ev, "payer"), sget(pm, "payer"));
        assert_string_equal(sget(ev, "host"), sget(pm, "provider"));
        char gpu[67];
        padded_hex(sget(pm, "gpu_model"), gpu);
        assert_string_equal(sget(ev, "gpu"), gpu);
        assert_int_equal(strtoull(sget(ev, "units"), NULL, 10), iget(pm, "gpu_count"));
        json_int_t minutes = iget(pm, "minutes");
        assert_int_equal(strtoull(sget(ev, "rentMinutes"), NULL, 10), minutes);
        assert_true(minutes >= 30 && minutes <= 600);
        /* hours and GPU-hours: minutes / 60, whole or not */
        double hours = json_number_value(json_object_get(pm, "hours"));
        assert_true(hours > minutes / 60.0 - 1e-9 && hours < minutes / 60.0 + 1e-9);
        assert_int_equal(iget(pm, "gpu_mhours"), iget(pm, "gpu_count") * minutes * 1000 / 60);
        assert_string_equal(sget(ev, "cost"), sget(pm, "amount"));
        assert_string_equal(sget(pm, "token"), "USDT");
        assert_string_equal(sget(pm, "token_address"), truth_contract("usdt"));
        assert_int_equal(iget(ev, "block"), iget(pm, "block"));
        assert_string_equal(sget(ev, "tx"), sget(pm, "tx"));
        assert_int_equal(iget(ev, "log_index"), iget(pm, "log_index"));
        assert_int_equal(iget(ev, "time"), iget(pm, "time"));
        /* the day's sum, from the chain */
        const char *day = sget(pm, "day");
        gl_u256 have = {{0}}, add;
        json_t *cur = json_object_get(day_sum, day);
        if (cur)
            assert_int_equal(gl_u256_parse_dec(&have, json_string_value(cur), NULL), GL_OK);
        assert_int_equal(gl_u256_parse_dec(&add, sget(ev, "cost"), NULL), GL_OK);
        assert_int_equal(gl_u256_add(&have, &have, &add, NULL), GL_OK);
        char dec[GL_U256_DEC_MAX];
        json_object_set_new(day_sum, day, json_string(gl_u256_to_dec(&have, dec)));
        const json_t *ty = json_object_get(pm, "typology");
        const char *tyn = json_is_string(ty) ? json_string_value(ty) : "none";
        json_object_set_new(per_typology, tyn, json_integer(iget(per_typology, tyn) + 1));
        n++;
    }
    assert_true(n >= 20);
    assert_int_equal(n, json_array_size(rented)); /* no rental on chain that the truth lacks */
    const char *day;
    json_t *v;
    json_object_foreach(day_sum, day, v) {
        const json_t *vol = json_object_get(json_object_get(json_object_get(TRUTH, "volume"), "bazaar"), day);
        assert_string_equal(sget(json_object_get(vol, "gross"), "USDT"), json_string_value(v));
    }
    assert_int_equal(json_object_size(day_sum), json_object_size(json_object_get(json_object_get(TRUTH, "volume"),
                                                                                  "bazaar")));
    static const char *const typ[] = {"none", "sponsor_fanout", "pass_through", "reimbursed", "lease_for",
                                      "split_order"};
    for (size_t k = 0; k < sizeof typ / sizeof typ[0]; k++)
        if (iget(per_typology, typ[k]) < 2)
            fail_msg("typology %s pays %d times on the bazaar, fewer than twice", typ[k], (int)iget(per_typology, typ[k]));

    /* proxies funded with exactly the cost, 2-20 minutes before; reimbursed
     * exactly within the hour */
    json_t *xfers = decoded_logs(rpc, truth_contract("usdt"), "MockTether", "Transfer");
    const json_t *addrs = json_object_get(TRUTH, "addresses");
    size_t funded = 0, repaid = 0;
    json_array_foreach(json_object_get(TRUTH, "payments"), i, pm) {
        const json_t *ty = json_object_get(pm, "typology");
        if (!json_is_string(ty))
            continue;
        const char *t = json_string_value(ty), *payer = sget(pm, "payer"), *amount = sget(pm, "amount");
        const json_t *px = json_object_get(json_object_get(addrs, payer), "proxy");
        assert_string_equal(sget(px, "typology"), t);
        assert_string_equal(sget(px, "beneficiary"), sget(pm, "beneficiary_entity"));
        json_int_t when = iget(pm, "time");
        const json_t *x;
        size_t k;
        if (!strcmp(t, "sponsor_fanout") || !strcmp(t, "split_order") || !strcmp(t, "pass_through")) {
            /* the last USDT into the proxy before its rental */
            const json_t *last = NULL;
            json_array_foreach(xfers, k, x) if (!strcmp(sget(x, "to"), payer) &&
                                                 (iget(x, "block") < iget(pm, "block")))
                last = x;
            assert_non_null(last);
            assert_string_equal(sget(last, "value"), amount);
            json_int_t lead = when - iget(last, "time");
            if (lead < 120 || lead > 1200 + 60)
                fail_msg("%s proxy %s funded %lld s before its rental", t, payer, (long long)lead);
            funded++;
        } else if (!strcmp(t, "reimbursed")) {
            const json_t *back = NULL;
            json_array_foreach(xfers, k, x) if (!back && !strcmp(sget(x, "to"), payer) &&
                                                 iget(x, "block") > iget(pm, "block") &&
                                                 !strcmp(sget(x, "value"), amount))
                back = x;
            if (!back)
                fail_msg("reimbursed proxy %s is never paid back exactly %s", payer, amount);
            assert_true(iget(back, "time") - when <= 3600 + 60);
            repaid++;
        }
    }
    assert_true(funded >= 6);
    assert_true(repaid >= 2);

    /* every address holds its truth balances, USDT included */
    size_t checked = 0;
    const char *addr;
    json_t *info;
    json_object_foreach((json_t *)addrs, addr, info) {
        const char *sym;
        json_t *want;
        json_object_foreach(json_object_get(info, "balances"), sym, want) {
            json_t *res;
            if (!strcmp(sym, "ETH")) {
                res = rpc_ok(rpc, "eth_getBalance", json_pack("[ss]", addr, "latest"));
            } else {
                const char *tok = sget(json_object_get(json_object_get(TRUTH, "tokens"), sym), "address");
                char data[80];
                snprintf(data, sizeof data, "0x70a08231000000000000000000000000%s", addr + 2);
                res = rpc_ok(rpc, "eth_call", json_pack("[{s:s, s:s}, s]", "to", tok, "data", data, "latest"));
            }
            gl_u256 got, exp;
            assert_int_equal(gl_u256_parse_hex(&got, json_string_value(res), NULL), GL_OK);
            assert_int_equal(gl_u256_parse_dec(&exp, json_string_value(want), NULL), GL_OK);
            if (gl_u256_cmp(&got, &exp)) {
                char g[GL_U256_DEC_MAX];
                fail_msg("%s %s: chain holds %s, truth says %s", addr, sym, gl_u256_to_dec(&got, g),
                         json_string_value(want));
            }
            json_decref(res);
            checked++;
        }
        assert_non_null(json_object_get(json_object_get(info, "balances"), "USDT"));
    }
    assert_true(checked >= 5 * 50);

    json_decref(xfers);
    json_decref(per_typology);
    json_decref(day_sum);
    json_decref(by_id);
    json_decref(rented);
    gl_rpc_free(rpc);
}

/* Honest hosts cash out part of their USDT to their exchange deposit
 * address, a whole number of USDT each time.  Until the simulator took the
 * round unit from the token's decimals, USDT was rounded as an 18-decimal
 * token (to 10^15 units) and every host kept all it earned.  The token
 * contracts' own decimals() are the truth's `decimals`. */
static void test_bazaar_hosts_cash_out(void **state)
{
    (void)state;
    gl_err err;
    gl_rpc *rpc = gl_rpc_new(gl_anvil_url(N.node), &err);
    assert_non_null(rpc);
    const char *sym;
    json_t *tok;
    json_object_foreach(json_object_get(TRUTH, "tokens"), sym, tok) {
        if (json_is_null(json_object_get(tok, "address")))
            continue; /* ETH */
        json_t *res = rpc_ok(rpc, "eth_call", json_pack("[{s:s, s:s}, s]", "to", sget(tok, "address"), "data",
                                                        "0x313ce567", "latest")); /* decimals() */
        if (strtoull(json_string_value(res), NULL, 16) != (unsigned long long)iget(tok, "decimals"))
            fail_msg("%s: decimals() is %s on chain, %d in the truth", sym, json_string_value(res),
                     (int)iget(tok, "decimals"));
        json_decref(res);
    }
    assert_int_equal(iget(json_object_get(json_object_get(TRUTH, "tokens"), "USDT"), "decimals"), 6);

    const json_t *addrs = json_object_get(TRUTH, "addresses");
    json_t *xfers = decoded_logs(rpc, truth_contract("usdt"), "MockTether", "Transfer");
    size_t i, cashouts = 0;
    const json_t *x;
    json_array_foreach(xfers, i, x) {
        const json_t *from = json_object_get(addrs, sget(x, "from")), *to = json_object_get(addrs, sget(x, "to"));
        if (!from || !to || strcmp(sget(from, "role"), "provider_wallet") || strcmp(sget(to, "role"), "deposit_address"))
            continue;
        assert_string_equal(sget(to, "kind"), "exchange");
        unsigned long long v = strtoull(sget(x, "value"), NULL, 10);
        if (v == 0 || v % 1000000)
            fail_msg("host %s cashed out %s USDT units, not a whole number of USDT", sget(x, "from"), sget(x, "value"));
        cashouts++;
    }
    if (cashouts < 2)
        fail_msg("honest hosts cashed out USDT %zu times, fewer than twice", cashouts);
    json_decref(xfers);
    gl_rpc_free(rpc);
}

/* ------------------------------------------------------------------ */
/* Through the indexer                                                  */

static void test_bazaar_definition_indexes_the_truth(void **state)
{
    (void)state;
    gl_err err;
    /* written and read back the way the CLI does (--platforms-out, then
     * index --platform FILE) */
    char pdir[300], file[400];
    snprintf(pdir, sizeof pdir, "%s/platforms", TMP);
    assert_int_equal(gl_sim_platforms_write(TRUTH, pdir, &err), GL_OK);
    snprintf(file, sizeof file, "%s/bazaar-sim.json", pdir);
    gl_platform *p = NULL;
    if (gl_platform_load_file(&p, file, &err))
        fail_msg("%s", err.msg);
    assert_string_equal(p->platform, "bazaar");
    char dir[300];
    snprintf(dir, sizeof dir, "%s/store", TMP);
    gl_indexer_stats st = tl_index(gl_anvil_url(N.node), dir, p, NULL);
    assert_int_equal(st.findings, 0);

    gl_store *s = tl_store_open(dir, false);
    size_t i, n = 0;
    const json_t *pm;
    json_array_foreach(json_object_get(TRUTH, "payments"), i, pm) {
        gl_store_event ev;
        bool found;
        uint64_t block = (uint64_t)iget(pm, "block");
        uint32_t li = (uint32_t)iget(pm, "log_index");
        assert_int_equal(gl_store_get_event(s, GL_ANVIL_DEFAULT_CHAIN_ID, block, li, &ev, &found, &err), GL_OK);
        if (!found)
            fail_msg("rental %zu at %" PRIu64 "/%u is not stored", i, block, li);
        assert_string_equal(ev.platform, p->name);
        assert_string_equal(ev.name, "Rented");
        char h[67];
        assert_string_equal(gl_hex_encode(ev.tx_hash, 32, true, h), sget(pm, "tx"));
        gl_u256 want;
        assert_int_equal(gl_u256_parse_dec(&want, sget(pm, "amount"), NULL), GL_OK);
        assert_true(ev.has_amount);
        assert_int_equal(gl_u256_cmp(&ev.amount, &want), 0);
        uint8_t t[20];
        tl_addr(sget(pm, "token_address"), t);
        assert_true(ev.has_token);
        assert_memory_equal(ev.token, t, 20);
        assert_true(tl_has_role(&ev, GL_STORE_ROLE_PAYER, sget(pm, "payer")));
        assert_true(tl_has_role(&ev, GL_STORE_ROLE_BUYER, sget(pm, "payer")));
        assert_true(tl_has_role(&ev, GL_STORE_ROLE_BENEFICIARY, sget(pm, "beneficiary")));
        assert_true(tl_has_role(&ev, GL_STORE_ROLE_PROVIDER, sget(pm, "provider")));
        assert_true(ev.verified & GL_STORE_EVENT_SENDER_OK);
        /* the model as text, the minutes as time and GPU-hours */
        assert_string_equal(ev.gpu_model, sget(pm, "gpu_model"));
        assert_int_equal(ev.gpu_count, iget(pm, "gpu_count"));
        assert_int_equal(ev.duration_s, 60 * iget(pm, "minutes"));
        assert_int_equal(ev.gpu_mhours, iget(pm, "gpu_mhours"));
        const gl_store_id *id = tl_id(&ev, "rentalId");
        assert_non_null(id);
        uint8_t rid[32];
        assert_int_equal(gl_hex_decode_exact(sget(pm, "lease_id"), rid, 32, NULL), GL_OK);
        assert_memory_equal(id->value, rid, 32);
        n++;
    }
    assert_true(n >= 20);
    /* as many Rented events stored as rentals in the truth; the hosts'
     * listings are stored as offers with their model text */
    gl_store_event *evs;
    size_t nev = tl_events(s, GL_ANVIL_DEFAULT_CHAIN_ID, &evs), rented = 0, listed = 0;
    for (size_t k = 0; k < nev; k++) {
        if (!strcmp(evs[k].name, "Rented"))
            rented++;
        if (!strcmp(evs[k].name, "CapacityListed")) {
            listed++;
            assert_true(evs[k].gpu_model[0] != '\0');
        }
    }
    free(evs);
    assert_int_equal(rented, n);
    assert_true(listed >= 5);
    json_t *f = tl_findings(s, GL_ANVIL_DEFAULT_CHAIN_ID);
    assert_int_equal(json_array_size(f), 0);
    json_decref(f);
    assert_int_equal(gl_store_verify(s, &err), GL_OK);
    gl_store_close(s);
    gl_platform_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bazaar_chain_agrees_with_truth),
        cmocka_unit_test(test_bazaar_hosts_cash_out),
        cmocka_unit_test(test_bazaar_definition_indexes_the_truth),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
