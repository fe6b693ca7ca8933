/* test_sim.c - the scenario simulator against a real node.
 *
 * The small scenario (fixtures/scenarios/small.json) is played on anvil,
 * then the chain is checked against the truth with no help from the
 * simulator's own code:
 *   - every log of the deployed markets is fetched (eth_getLogs) and decoded
 *     with the ABI module from the compiled artifacts' JSON ABIs; payments
 *     are summed per platform, day (from the blocks' timestamps) and token,
 *     and must equal the truth's gross volume;
 *   - every GpuMarket lease in the truth is on chain with its fields (buyer,
 *     beneficiary, provider, model, count, hours, amount, token, position),
 *     and there is no lease on chain that the truth lacks;
 *   - every address of the truth holds on chain (eth_getBalance, balanceOf
 *     via eth_call) exactly the balances the truth gives;
 *   - the platform definitions load with the indexer's loader;
 *   - two runs with one seed on two fresh nodes give the same truth bytes
 *     and the same head block hash; another seed gives another chain.
 * Broken scenario files fail with the JSON path in the message.
 */
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "gpuledger/abi.h"
#include "gpuledger/bytes.h"
#include "gpuledger/platform.h"
#include "gpuledger/rpc.h"
#include "gpuledger/sim.h"
#include "gpuledger/u256.h"

#include "../support/anvil.h"
#include "../support/testutil.h"

/* ------------------------------------------------------------------ */
/* Helpers                                                              */

static char root[4096];

static void paths(char *contracts, char *simc, char *scen, size_t cap, const char *scenario)
{
    assert_non_null(gl_test_root(root, sizeof root));
    snprintf(contracts, cap, "%s/fixtures/contracts/build", root);
    snprintf(simc, cap, "%s/fixtures/sim/build", root);
    snprintf(scen, cap, "%s/fixtures/scenarios/%s", root, scenario);
}

static gl_anvil *start_node(uint64_t chain_id)
{
    gl_anvil_opts o = {0};
    o.chain_id = chain_id;
    gl_anvil *a = NULL;
    gl_err err;
    if (gl_anvil_start(&o, &a, &err))
        fail_msg("cannot start anvil: %s", err.msg);
    return a;
}

/* Play `scenario` with `seed` on node `a`; returns the truth. */
static json_t *simulate(gl_anvil *a, const char *scenario, uint64_t seed)
{
    char contracts[4200], simc[4200], scen[4200];
    paths(contracts, simc, scen, sizeof contracts, scenario);
    gl_sim_scenario sc;
    gl_err err;
    if (gl_sim_scenario_load(&sc, scen, &err))
        fail_msg("%s", err.msg);
    gl_sim_opts opts;
    memset(&opts, 0, sizeof opts);
    opts.rpc_url = gl_anvil_url(a);
    opts.contracts_dir = contracts;
    opts.sim_contracts_dir = simc;
    opts.seed = seed;
    assert_int_equal(gl_hex_decode_exact(gl_anvil_dev_key(0), opts.funder_key, 32, &err), GL_OK);
    json_t *truth = NULL;
    gl_sim_stats st;
    if (gl_sim_run(&sc, &opts, &truth, &st, &err))
        fail_msg("simulation failed: %s", err.msg);
    assert_non_null(truth);
    assert_true(st.txs > 100);
    assert_true(st.market_events > 50);
    return truth;
}

static json_t *rpc_ok(gl_rpc *rpc, const char *method, json_t *params)
{
    json_t *res = NULL;
    gl_err err;
    if (gl_rpc_call(rpc, method, params, &res, &err))
        fail_msg("%s: %s", method, err.msg);
    return res;
}

static uint64_t hex_u64(const json_t *v)
{
    assert_true(json_is_string(v));
    return strtoull(json_string_value(v), NULL, 16);
}

static const char *truth_addr(const json_t *truth, const char *contract)
{
    const char *a = json_string_value(json_object_get(json_object_get(json_object_get(truth, "contracts"), contract),
                                                      "address"));
    if (!a)
        fail_msg("truth has no contract %s", contract);
    return a;
}

/* Sums keyed "platform|day|token" -> decimal string, in a JSON object. */
static void sum_add(json_t *sums, const char *platform, const char *day, const char *token, const char *dec)
{
    char key[128];
    snprintf(key, sizeof key, "%s|%s|%s", platform, day, token);
    gl_u256 have = {{0}}, add;
    json_t *cur = json_object_get(sums, key);
    if (cur)
        assert_int_equal(gl_u256_parse_dec(&have, json_string_value(cur), NULL), GL_OK);
    assert_int_equal(gl_u256_parse_dec(&add, dec, NULL), GL_OK);
    assert_int_equal(gl_u256_add(&have, &have, &add, NULL), GL_OK);
    char out[GL_U256_DEC_MAX];
    json_object_set_new(sums, key, json_string(gl_u256_to_dec(&have, out)));
}

static void day_of(uint64_t t, char out[32])
{
    /* civil date by counting: independent of the simulator's conversion */
    int64_t days = (int64_t)(t / 86400);
    int y = 1970;
    for (;;) {
        int len = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 ? 366 : 365;
        if (days < len)
            break;
        days -= len;
        y++;
    }
    static const int md[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int m = 0;
    for (;; m++) {
        int len = md[m] + (m == 1 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0));
        if (days < len)
            break;
        days -= len;
    }
    snprintf(out, 32, "%04d-%02d-%02d", y, m + 1, (int)days + 1);
}

/* ------------------------------------------------------------------ */
/* Decoding the chain                                                   */

typedef struct chain_view {
    gl_rpc *rpc;
    json_t *abis;   /* artifact name -> ABI array */
    json_t *times;  /* block number (decimal string) -> timestamp */
} chain_view;

static json_t *artifact_abi(chain_view *cv, const char *name)
{
    json_t *abi = json_object_get(cv->abis, name);
    if (abi)
        return abi;
    char path[4400];
    snprintf(path, sizeof path, "%s/fixtures/contracts/build/%s.json", root, name);
    json_error_t jerr;
    json_t *art = json_load_file(path, 0, &jerr);
    if (!art)
        fail_msg("cannot load %s: %s", path, jerr.text);
    json_object_set(cv->abis, name, json_object_get(art, "abi"));
    json_decref(art);
    return json_object_get(cv->abis, name);
}

static uint64_t block_time(chain_view *cv, uint64_t block)
{
    char key[32];
    snprintf(key, sizeof key, "%" PRIu64, block);
    json_t *t = json_object_get(cv->times, key);
    if (t)
        return (uint64_t)json_integer_value(t);
    char hex[32];
    snprintf(hex, sizeof hex, "0x%" PRIx64, block);
    json_t *b = rpc_ok(cv->rpc, "eth_getBlockByNumber", json_pack("[s,b]", hex, 0));
    uint64_t ts = hex_u64(json_object_get(b, "timestamp"));
    json_decref(b);
    json_object_set_new(cv->times, key, json_integer((json_int_t)ts));
    return ts;
}

/* All logs of `addresses` (a JSON array, stolen) from `first` to `last`. */
static json_t *get_logs(chain_view *cv, json_t *addresses, uint64_t first, uint64_t last)
{
    char f[32], l[32];
    snprintf(f, sizeof f, "0x%" PRIx64, first);
    snprintf(l, sizeof l, "0x%" PRIx64, last);
    return rpc_ok(cv->rpc, "eth_getLogs", json_pack("[{s:o, s:s, s:s}]", "address", addresses, "fromBlock", f,
                                                    "toBlock", l));
}

/* Decode `log` as event `name` of artifact `art`; NULL when topic0 is another event's. */
static json_t *decode(chain_view *cv, const char *art, const char *name, const json_t *log)
{
    gl_abi_sig sig;
    gl_err err;
    if (gl_abi_sig_find(&sig, artifact_abi(cv, art), "event", name, &err))
        fail_msg("%s.%s: %s", art, name, err.msg);
    json_t *topics = json_object_get(log, "topics");
    uint8_t tp[4][32];
    size_t nt = json_array_size(topics);
    assert_true(nt <= 4);
    for (size_t i = 0; i < nt; i++)
        assert_int_equal(gl_hex_decode_exact(json_string_value(json_array_get(topics, i)), tp[i], 32, &err), GL_OK);
    if (nt == 0 || memcmp(tp[0], sig.hash, 32)) {
        gl_abi_sig_release(&sig);
        return NULL;
    }
    gl_buf data = GL_BUF_INIT;
    assert_int_equal(gl_hex_decode_buf(json_string_value(json_object_get(log, "data")), &data, &err), GL_OK);
    json_t *out = NULL;
    if (gl_abi_decode_log(&out, &sig, (const uint8_t(*)[32])tp, nt, data.data, data.len, 0, &err))
        fail_msg("decoding %s: %s", name, err.msg);
    gl_buf_release(&data);
    gl_abi_sig_release(&sig);
    return out;
}

static const char *sget(const json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    if (!s)
        fail_msg("decoded event lacks %s", k);
    return s;
}

static const char *token_symbol(const json_t *truth, const char *addr)
{
    static const char zero[] = "0x0000000000000000000000000000000000000000";
    if (!strcmp(addr, zero))
        return "ETH";
    const char *sym;
    json_t *t;
    json_object_foreach(json_object_get(truth, "tokens"), sym, t) {
        const char *a = json_string_value(json_object_get(t, "address"));
        if (a && !strcmp(a, addr))
            return sym;
    }
    fail_msg("unknown token %s", addr);
    return NULL;
}

/* ------------------------------------------------------------------ */
/* The checks                                                           */

/* Payments per platform, day and token, from the chain alone. */
static json_t *chain_volume(chain_view *cv, const json_t *truth, json_t **leases_out)
{
    uint64_t first = (uint64_t)json_integer_value(json_object_get(json_object_get(truth, "chain"), "first_block"));
    uint64_t last = (uint64_t)json_integer_value(json_object_get(json_object_get(truth, "chain"), "last_block"));
    json_t *sums = json_object();
    json_t *leases = json_object(); /* lease id -> decoded LeaseOpened + position */
    char day[32];
    size_t i;
    json_t *log;

    /* GpuMarket: LeaseOpened and LeaseExtended amounts in their token */
    json_t *logs = get_logs(cv, json_pack("[s]", truth_addr(truth, "gpumarket")), first, last);
    json_array_foreach(logs, i, log) {
        json_t *ev = decode(cv, "GpuMarket", "LeaseOpened", log);
        bool opened = ev != NULL;
        if (!ev)
            ev = decode(cv, "GpuMarket", "LeaseExtended", log);
        if (!ev)
            continue;
        uint64_t blk = hex_u64(json_object_get(log, "blockNumber"));
        day_of(block_time(cv, blk), day);
        sum_add(sums, "gpumarket", day, token_symbol(truth, sget(ev, "token")), sget(ev, "amount"));
        if (opened) {
            json_object_set_new(ev, "block", json_integer((json_int_t)blk));
            json_object_set(ev, "tx", json_object_get(log, "transactionHash"));
            json_object_set_new(ev, "log_index", json_integer((json_int_t)hex_u64(json_object_get(log, "logIndex"))));
            assert_null(json_object_get(leases, sget(ev, "leaseId")));
            json_object_set(leases, sget(ev, "leaseId"), ev);
        }
        json_decref(ev);
    }
    json_decref(logs);

    /* Livepeer: what winning tickets paid */
    logs = get_logs(cv, json_pack("[s]", truth_addr(truth, "livepeer_ticket_broker")), first, last);
    json_array_foreach(logs, i, log) {
        json_t *ev = decode(cv, "LivepeerTicketBroker", "WinningTicketTransfer", log);
        if (!ev)
            continue;
        day_of(block_time(cv, hex_u64(json_object_get(log, "blockNumber"))), day);
        sum_add(sums, "livepeer", day, "ETH", sget(ev, "amount"));
        json_decref(ev);
    }
    json_decref(logs);

    /* Golem: GLM out of the batch payer, and deposit payouts */
    const char *batch = truth_addr(truth, "golem_batch_payer");
    logs = get_logs(cv, json_pack("[ss]", truth_addr(truth, "glm"), truth_addr(truth, "golem_lock_payment")), first,
                    last);
    json_array_foreach(logs, i, log) {
        const char *la = json_string_value(json_object_get(log, "address"));
        json_t *ev = !strcasecmp(la, truth_addr(truth, "glm")) ? decode(cv, "GlmToken", "Transfer", log)
                                                               : decode(cv, "GolemLockPayment", "DepositTransfer", log);
        if (!ev)
            continue;
        day_of(block_time(cv, hex_u64(json_object_get(log, "blockNumber"))), day);
        if (json_object_get(ev, "value")) {
            if (!strcmp(sget(ev, "from"), batch))
                sum_add(sums, "golem", day, "GLM", sget(ev, "value"));
        } else {
            sum_add(sums, "golem", day, "GLM", sget(ev, "amount"));
        }
        json_decref(ev);
    }
    json_decref(logs);

    /* Spheron: accepted prices are rates per block in 18-decimal units (as
     * Spheron's SDK reads them: totalCost = price / 10^18 x numOfBlocks), so
     * a lease pays acceptedPrice x the order's numOfBlocks x 10^6 / 10^18
     * USDC units (6 decimals), in the token of the order it matches */
    logs = get_logs(cv, json_pack("[ss]", truth_addr(truth, "spheron_order_request"),
                                  truth_addr(truth, "spheron_compute_lease")), first, last);
    json_t *order_token = json_object(), *order_blocks = json_object();
    json_array_foreach(logs, i, log) {
        json_t *ev = decode(cv, "SpheronOrderRequest", "OrderCreated", log);
        if (ev) {
            json_object_set_new(order_token, sget(ev, "orderId"), json_string(sget(ev, "token")));
            json_object_set_new(order_blocks, sget(ev, "orderId"), json_string(sget(ev, "numOfBlocks")));
            json_decref(ev);
            continue;
        }
        ev = decode(cv, "SpheronComputeLease", "LeaseCreated", log);
        if (!ev)
            continue;
        const char *tok = json_string_value(json_object_get(order_token, sget(ev, "requestId")));
        const char *nb = json_string_value(json_object_get(order_blocks, sget(ev, "requestId")));
        assert_non_null(tok);
        assert_non_null(nb);
        assert_string_equal(token_symbol(truth, tok), "USDC");
        gl_u256 total;
        uint64_t rem;
        char totdec[GL_U256_DEC_MAX];
        assert_int_equal(gl_u256_parse_dec(&total, sget(ev, "acceptedPrice"), NULL), GL_OK);
        assert_int_equal(gl_u256_mul_u64(&total, &total, strtoull(nb, NULL, 10), NULL), GL_OK);
        assert_int_equal(gl_u256_div_u64(&total, &rem, &total, 1000000000000ULL, NULL), GL_OK); /* x 10^6 / 10^18 */
        day_of(block_time(cv, hex_u64(json_object_get(log, "blockNumber"))), day);
        sum_add(sums, "spheron", day, "USDC", gl_u256_to_dec(&total, totdec));
        json_decref(ev);
    }
    json_decref(order_token);
    json_decref(order_blocks);
    json_decref(logs);

    /* Swan: task rewards */
    logs = get_logs(cv, json_pack("[s]", truth_addr(truth, "swan_task_manager")), first, last);
    json_array_foreach(logs, i, log) {
        json_t *ev = decode(cv, "SwanTaskManager", "TaskCreated", log);
        if (!ev)
            continue;
        day_of(block_time(cv, hex_u64(json_object_get(log, "blockNumber"))), day);
        sum_add(sums, "swan", day, "SWAN", sget(ev, "reward"));
        json_decref(ev);
    }
    json_decref(logs);

    /* Fluence: deposits into the deals the factory announced */
    logs = get_logs(cv, json_pack("[s]", truth_addr(truth, "fluence_deal_factory")), first, last);
    json_t *deals = json_array();
    json_array_foreach(logs, i, log) {
        json_t *ev = decode(cv, "FluenceDealFactory", "DealCreated", log);
        if (ev) {
            json_array_append_new(deals, json_string(sget(ev, "deal")));
            json_decref(ev);
        }
    }
    json_decref(logs);
    if (json_array_size(deals)) {
        logs = get_logs(cv, deals, first, last);
        json_array_foreach(logs, i, log) {
            json_t *ev = decode(cv, "FluenceDeal", "Deposited", log);
            if (!ev)
                continue;
            day_of(block_time(cv, hex_u64(json_object_get(log, "blockNumber"))), day);
            sum_add(sums, "fluence", day, "USDC", sget(ev, "amount"));
            json_decref(ev);
        }
        json_decref(logs);
    } else {
        json_decref(deals);
    }
    *leases_out = leases;
    return sums;
}

static void check_volume(const json_t *truth, const json_t *sums)
{
    json_t *tv = json_object_get(truth, "volume");
    size_t n = 0;
    const char *plat, *day, *tok;
    json_t *pv, *dv, *amt;
    json_object_foreach(tv, plat, pv) {
        json_object_foreach(pv, day, dv) {
            json_object_foreach(json_object_get(dv, "gross"), tok, amt) {
                char key[128];
                snprintf(key, sizeof key, "%s|%s|%s", plat, day, tok);
                const char *chain = json_string_value(json_object_get(sums, key));
                if (!chain || strcmp(chain, json_string_value(amt)))
                    fail_msg("gross volume %s: truth %s, chain %s", key, json_string_value(amt), chain ? chain : "none");
                n++;
            }
        }
    }
    /* and nothing on chain that the truth lacks */
    assert_int_equal(n, json_object_size(sums));
    assert_true(n >= 6);
}

/* Net volume = gross minus the payments the truth flags, per platform/day/token. */
static void check_net_consistency(const json_t *truth)
{
    json_t *net = json_object();
    size_t i;
    json_t *p;
    json_array_foreach(json_object_get(truth, "payments"), i, p) {
        if (json_is_true(json_object_get(p, "self_dealing")) || json_is_true(json_object_get(p, "circular")))
            continue;
        sum_add(net, json_string_value(json_object_get(p, "platform")), json_string_value(json_object_get(p, "day")),
                json_string_value(json_object_get(p, "token")), json_string_value(json_object_get(p, "amount")));
    }
    const char *plat, *day, *tok;
    json_t *pv, *dv, *amt;
    json_object_foreach(json_object_get(truth, "volume"), plat, pv) {
        json_object_foreach(pv, day, dv) {
            json_object_foreach(json_object_get(dv, "net"), tok, amt) {
                char key[128];
                snprintf(key, sizeof key, "%s|%s|%s", plat, day, tok);
                const char *want = json_string_value(json_object_get(net, key));
                assert_string_equal(json_string_value(amt), want ? want : "0");
            }
        }
    }
    json_decref(net);
}

static void check_leases(const json_t *truth, const json_t *leases)
{
    size_t n = 0, i;
    json_t *p;
    json_array_foreach(json_object_get(truth, "payments"), i, p) {
        if (strcmp(json_string_value(json_object_get(p, "platform")), "gpumarket") ||
            strcmp(json_string_value(json_object_get(p, "kind")), "lease"))
            continue;
        const char *id = json_string_value(json_object_get(p, "lease_id"));
        json_t *ev = json_object_get(leases, id);
        if (!ev)
            fail_msg("truth lease %s is not on chain", id);
        assert_string_equal(sget(ev, "buyer"), json_string_value(json_object_get(p, "payer")));
        assert_string_equal(sget(ev, "beneficiary"), json_string_value(json_object_get(p, "beneficiary")));
        assert_string_equal(sget(ev, "provider"), json_string_value(json_object_get(p, "provider")));
        assert_string_equal(sget(ev, "gpuModel"), json_string_value(json_object_get(p, "gpu_model")));
        assert_int_equal(strtoull(sget(ev, "gpuCount"), NULL, 10), json_integer_value(json_object_get(p, "gpu_count")));
        assert_int_equal(strtoull(sget(ev, "durationHours"), NULL, 10), json_integer_value(json_object_get(p, "hours")));
        assert_string_equal(sget(ev, "amount"), json_string_value(json_object_get(p, "amount")));
        const char *ta = json_string_value(json_object_get(p, "token_address"));
        assert_string_equal(sget(ev, "token"), ta ? ta : "0x0000000000000000000000000000000000000000");
        assert_int_equal(json_integer_value(json_object_get(ev, "block")), json_integer_value(json_object_get(p, "block")));
        assert_string_equal(sget(ev, "tx"), json_string_value(json_object_get(p, "tx")));
        assert_int_equal(json_integer_value(json_object_get(ev, "log_index")),
                         json_integer_value(json_object_get(p, "log_index")));
        n++;
    }
    assert_true(n >= 10);
    assert_int_equal(n, json_object_size(leases)); /* no lease on chain that the truth lacks */
}

static void check_balances(gl_rpc *rpc, const json_t *truth)
{
    static const char *const syms[] = {"USDC", "GLM", "SWAN"};
    const char *tok[3];
    for (int k = 0; k < 3; k++)
        tok[k] = json_string_value(json_object_get(json_object_get(json_object_get(truth, "tokens"), syms[k]), "address"));
    enum { BATCH = 200 };
    const char *methods[BATCH];
    json_t *params[BATCH], *results[BATCH];
    const char *want[BATCH];
    const char *who[BATCH];
    size_t n = 0, checked = 0;
    const char *addr;
    json_t *info;
    void *iter = json_object_iter(json_object_get(truth, "addresses"));
    for (;;) {
        bool flush = !iter || n + 4 > BATCH;
        if (flush && n) {
            gl_err err;
            if (gl_rpc_call_batch(rpc, n, methods, params, results, &err))
                fail_msg("balances: %s", err.msg);
            for (size_t i = 0; i < n; i++) {
                gl_u256 got, exp;
                assert_int_equal(gl_u256_parse_hex(&got, json_string_value(results[i]), NULL), GL_OK);
                assert_int_equal(gl_u256_parse_dec(&exp, want[i], NULL), GL_OK);
                if (gl_u256_cmp(&got, &exp)) {
                    char g[GL_U256_DEC_MAX];
                    fail_msg("%s: chain holds %s, truth says %s", who[i], gl_u256_to_dec(&got, g), want[i]);
                }
                json_decref(results[i]);
                checked++;
            }
            n = 0;
        }
        if (!iter)
            break;
        addr = json_object_iter_key(iter);
        info = json_object_iter_value(iter);
        json_t *bal = json_object_get(info, "balances");
        methods[n] = "eth_getBalance";
        params[n] = json_pack("[ss]", addr, "latest");
        want[n] = json_string_value(json_object_get(bal, "ETH"));
        who[n++] = addr;
        for (int k = 0; k < 3; k++) {
            char data[80];
            snprintf(data, sizeof data, "0x70a08231000000000000000000000000%s", addr + 2);
            methods[n] = "eth_call";
            params[n] = json_pack("[{s:s, s:s}, s]", "to", tok[k], "data", data, "latest");
            want[n] = json_string_value(json_object_get(bal, syms[k]));
            who[n++] = addr;
        }
        iter = json_object_iter_next(json_object_get(truth, "addresses"), iter);
    }
    assert_true(checked >= 4 * 80);
}

static void test_small_chain_agrees_with_truth(void **state)
{
    (void)state;
    gl_anvil *a = start_node(0);
    json_t *truth = simulate(a, "small.json", 42);
    gl_err err;
    gl_rpc *rpc = gl_rpc_new(gl_anvil_url(a), &err);
    assert_non_null(rpc);
    chain_view cv = {rpc, json_object(), json_object()};

    /* the head the truth names is the node's head */
    json_t *head = rpc_ok(rpc, "eth_getBlockByNumber", json_pack("[s,b]", "latest", 0));
    assert_string_equal(json_string_value(json_object_get(head, "hash")),
                        json_string_value(json_object_get(json_object_get(truth, "chain"), "head_hash")));
    json_decref(head);

    json_t *leases = NULL;
    json_t *sums = chain_volume(&cv, truth, &leases);
    check_volume(truth, sums);
    check_net_consistency(truth);
    check_leases(truth, leases);
    check_balances(rpc, truth);

    /* every typology and flag of the scenario shows up in the truth */
    static const char *const typ[] = {"sponsor_fanout", "pass_through", "reimbursed", "lease_for",
                                      "livepeer_third_party", "golem_deposit", "split_order"};
    for (size_t k = 0; k < sizeof typ / sizeof typ[0]; k++) {
        bool found = false;
        const char *ad;
        json_t *info;
        json_object_foreach(json_object_get(truth, "addresses"), ad, info) {
            json_t *px = json_object_get(info, "proxy");
            if (px && !strcmp(json_string_value(json_object_get(px, "typology")), typ[k]))
                found = true;
        }
        if (!found)
            fail_msg("no proxy wallet of typology %s", typ[k]);
    }

    /* the platform definitions are what the indexer loads */
    json_t *defs = NULL;
    assert_int_equal(gl_sim_platform_defs(truth, &defs, &err), GL_OK);
    assert_int_equal(json_object_size(defs), 6);
    const char *name;
    json_t *d;
    json_object_foreach(defs, name, d) {
        gl_platform *p = NULL;
        if (gl_platform_load_json(&p, d, name, &err))
            fail_msg("%s", err.msg);
        assert_int_equal(p->chain_id, GL_ANVIL_DEFAULT_CHAIN_ID);
        gl_platform_free(p);
    }
    json_decref(defs);

    json_decref(sums);
    json_decref(leases);
    json_decref(cv.abis);
    json_decref(cv.times);
    json_decref(truth);
    gl_rpc_free(rpc);
    gl_anvil_stop(a);
}

static char *head_hash(gl_anvil *a)
{
    gl_err err;
    gl_rpc *rpc = gl_rpc_new(gl_anvil_url(a), &err);
    assert_non_null(rpc);
    json_t *b = rpc_ok(rpc, "eth_getBlockByNumber", json_pack("[s,b]", "latest", 0));
    char *h = strdup(json_string_value(json_object_get(b, "hash")));
    json_decref(b);
    gl_rpc_free(rpc);
    return h;
}

static void test_same_seed_same_chain(void **state)
{
    (void)state;
    char *dumps[3], *heads[3];
    uint64_t seeds[3] = {7, 7, 8};
    for (int i = 0; i < 3; i++) {
        gl_anvil *a = start_node(4242); /* EIP-155 signatures for another chain id */
        json_t *t = simulate(a, "small.json", seeds[i]);
        assert_int_equal(json_integer_value(json_object_get(json_object_get(t, "chain"), "chain_id")), 4242);
        dumps[i] = json_dumps(t, JSON_SORT_KEYS | JSON_INDENT(1));
        heads[i] = head_hash(a);
        json_decref(t);
        gl_anvil_stop(a);
    }
    assert_string_equal(heads[0], heads[1]);
    assert_string_equal(dumps[0], dumps[1]);
    assert_string_not_equal(heads[0], heads[2]);
    assert_string_not_equal(dumps[0], dumps[2]);
    for (int i = 0; i < 3; i++) {
        free(dumps[i]);
        free(heads[i]);
    }
}

static void test_node_past_start_is_refused(void **state)
{
    (void)state;
    gl_anvil *a = start_node(0);
    json_t *t = simulate(a, "small.json", 1);
    json_decref(t);
    /* the chain is now past the scenario's start: a second run must refuse */
    char contracts[4200], simc[4200], scen[4200];
    paths(contracts, simc, scen, sizeof contracts, "small.json");
    gl_sim_scenario sc;
    gl_err err;
    assert_int_equal(gl_sim_scenario_load(&sc, scen, &err), GL_OK);
    gl_sim_opts opts;
    memset(&opts, 0, sizeof opts);
    opts.rpc_url = gl_anvil_url(a);
    opts.contracts_dir = contracts;
    opts.sim_contracts_dir = simc;
    assert_int_equal(gl_hex_decode_exact(gl_sim_anvil_key0, opts.funder_key, 32, &err), GL_OK);
    json_t *truth = NULL;
    assert_int_equal(gl_sim_run(&sc, &opts, &truth, NULL, &err), GL_EINVAL);
    assert_null(truth);
    assert_non_null(strstr(err.msg, "past the scenario"));
    /* missing artifacts name the path */
    opts.contracts_dir = "/nonexistent/contracts";
    assert_int_equal(gl_sim_run(&sc, &opts, &truth, NULL, &err), GL_EIO);
    assert_non_null(strstr(err.msg, "/nonexistent/contracts/MockStablecoin.json"));
    gl_anvil_stop(a);
}

/* ------------------------------------------------------------------ */
/* Scenario files                                                       */

static void expect_bad(const char *text, const char *needle)
{
    gl_sim_scenario sc;
    gl_err err;
    gl_code rc = gl_sim_scenario_parse(&sc, text, strlen(text), "t.json", &err);
    if (rc != GL_EINVAL)
        fail_msg("accepted: %s", text);
    if (!strstr(err.msg, needle))
        fail_msg("message '%s' lacks '%s'", err.msg, needle);
    assert_non_null(strstr(err.msg, "t.json: "));
}

#define HEAD "{\"format\":\"gpuledger-scenario/1\",\"name\":\"t\",\"start\":\"2024-03-04\",\"days\":2"

static void test_broken_scenarios(void **state)
{
    (void)state;
    expect_bad("{\"format\": ", "not valid JSON");
    expect_bad("[]", "a scenario is a JSON object");
    expect_bad(HEAD ",\"providerz\":{}}", "providerz: unknown field");
    expect_bad(HEAD ",\"providers\":{\"count\":4,\"walets\":2}}", "providers.walets: unknown field");
    expect_bad(HEAD ",\"providers\":{\"count\":-3}}", "providers.count: must be a non-negative integer");
    expect_bad(HEAD ",\"buyers\":{\"count\":2.5}}", "buyers.count: must be a non-negative integer");
    expect_bad(HEAD ",\"buyers\":{\"count\":\"10\"}}", "buyers.count: must be a non-negative integer");
    expect_bad(HEAD ",\"buyers\":{\"extend_share\":1.5}}", "buyers.extend_share: must be between 0 and 1");
    expect_bad(HEAD ",\"proxies\":{\"sponsor\":{\"count\":1}}}", "proxies.sponsor: unknown proxy typology");
    expect_bad(HEAD ",\"providers\":{\"count\":2},\"platforms\":{\"livepeer\":false},"
                    "\"proxies\":{\"livepeer_third_party\":{\"count\":1}}}",
               "proxies.livepeer_third_party.count: needs platform livepeer");
    expect_bad(HEAD ",\"buyers\":{\"count\":3}}", "providers.count: buyers need at least one provider");
    expect_bad(HEAD ",\"timezones\":[{\"offset\":20}]}", "timezones[0].offset");
    expect_bad("{\"format\":\"gpuledger-scenario/1\",\"name\":\"t\",\"start\":\"2024-02-30\",\"days\":2}", "start:");
    expect_bad("{\"format\":\"gpuledger-scenario/1\",\"name\":\"t\",\"start\":\"2024-03-04\"}", "days: missing");
    expect_bad("{\"format\":\"gpuledger-scenario/9\",\"name\":\"t\",\"start\":\"2024-03-04\",\"days\":1}", "format:");
    expect_bad(HEAD ",\"days\":3}", "duplicate");
    /* the bazaar's knobs */
    expect_bad(HEAD ",\"providers\":{\"count\":2},\"bazaar\":{\"proxies\":true}}",
               "bazaar.proxies: needs platform bazaar");
    expect_bad(HEAD ",\"providers\":{\"count\":2},\"platforms\":{\"gpumarket\":false,\"bazaar\":true},"
                    "\"proxies\":{\"lease_for\":{\"count\":1}}}",
               "proxies.lease_for.count: needs platform gpumarket");
    expect_bad(HEAD ",\"platforms\":{\"bazaar\":true},\"bazaar\":{\"min_minutes\":700}}",
               "bazaar.min_minutes: must be at least 1 and at most bazaar.max_minutes");
    expect_bad(HEAD ",\"bazaar\":{\"max_minutes\":50000}}", "bazaar.max_minutes: must be at most 43200");
    expect_bad(HEAD ",\"bazaar\":{\"lead_min_minutes\":0}}", "bazaar.lead_min_minutes: must be at least 1");
    expect_bad(HEAD ",\"bazaar\":{\"reimburse_max_minutes\":1}}", "bazaar.reimburse_max_minutes: must be at least 2");
    expect_bad(HEAD ",\"bazaar\":{\"proxy\":true}}", "bazaar.proxy: unknown field");
    expect_bad(HEAD ",\"platforms\":{\"bazar\":true}}", "known: gpumarket, livepeer, golem, spheron, swan, fluence, bazaar");
    /* provider_claims */
    expect_bad(HEAD ",\"provider_claims\":{\"relabeled\":{}}}", "provider_claims.relabeled: unknown field");
    expect_bad(HEAD ",\"provider_claims\":{\"oversold\":{\"count\":1,\"factor\":2}}}",
               "provider_claims.oversold.factor: unknown field");
    expect_bad(HEAD ",\"provider_claims\":{\"cheap_share\":2}}", "provider_claims.cheap_share: must be between 0 and 1");
    expect_bad(HEAD ",\"provider_claims\":{\"oversold\":{\"count\":1,\"min_factor\":1}}}",
               "provider_claims.oversold.min_factor: must be above 1");
    expect_bad(HEAD ",\"provider_claims\":{\"oversold\":{\"min_factor\":4}}}",
               "provider_claims.oversold.min_factor: must be at most max_factor");
    expect_bad(HEAD ",\"provider_claims\":{\"relabelled\":{\"usd_min\":2,\"usd_max\":1}}}",
               "provider_claims.relabelled.usd_min: must be at least 0.01 and at most usd_max");
    expect_bad(HEAD ",\"providers\":{\"count\":2},\"provider_claims\":{\"relabelled\":{\"count\":1}}}",
               "provider_claims: relabelled and oversold providers sell to honest buyers");
    expect_bad(HEAD ",\"providers\":{\"count\":2},\"platforms\":{\"gpumarket\":false,\"bazaar\":false},"
                    "\"provider_claims\":{}}",
               "provider_claims: needs platform gpumarket or bazaar");
    expect_bad(HEAD ",\"providers\":{\"count\":2},\"buyers\":{\"count\":2},\"platforms\":{\"gpumarket\":false},"
                    "\"provider_claims\":{\"sweeping\":{\"count\":1}}}",
               "provider_claims: needs platform gpumarket or bazaar");
    /* every claim acts on the bazaar when GpuMarket is off */
    const char *bz = HEAD ",\"providers\":{\"count\":2},\"buyers\":{\"count\":2},"
                          "\"platforms\":{\"gpumarket\":false,\"bazaar\":true},\"provider_claims\":{"
                          "\"relabelled\":{\"count\":1},\"oversold\":{\"count\":1},\"sweeping\":{\"count\":1}}}";
    gl_sim_scenario sbz;
    assert_int_equal(gl_sim_scenario_parse(&sbz, bz, strlen(bz), "bz", NULL), GL_OK);
    expect_bad(HEAD ",\"provider_claims\":{\"sweeping\":{\"count\":1,\"wallets\":1}}}",
               "provider_claims.sweeping.wallets: must be at least 2");

    /* the shipped scenarios parse, and a layout change keeps the hash */
    static const char *const files[] = {"small.json", "medium.json", "large.json", "bazaar-small.json",
                                        "eval-bazaar.json", "eval-providers.json", "eval-bazaar-providers.json"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char c[4200], s[4200], path[4200];
        paths(c, s, path, sizeof path, files[i]);
        gl_sim_scenario sc;
        gl_err err;
        if (gl_sim_scenario_load(&sc, path, &err))
            fail_msg("%s", err.msg);
        assert_true(sc.days >= 1);
    }
    const char *a = HEAD ",\"providers\":{\"count\":3}}";
    const char *b = "{ \"days\" : 2, \"providers\": {\"count\": 3}, \"start\":\"2024-03-04\",\n"
                    " \"name\":\"t\", \"format\":\"gpuledger-scenario/1\" }";
    gl_sim_scenario sa, sb;
    assert_int_equal(gl_sim_scenario_parse(&sa, a, strlen(a), "a", NULL), GL_OK);
    assert_int_equal(gl_sim_scenario_parse(&sb, b, strlen(b), "b", NULL), GL_OK);
    assert_memory_equal(sa.hash, sb.hash, 32);
    assert_int_equal(sa.start, 1709510400ULL); /* 2024-03-04T00:00:00Z */
    assert_int_equal(sa.providers.count, 3);
    /* the copy of anvil's first key is anvil's first key */
    assert_string_equal(gl_sim_anvil_key0, gl_anvil_dev_key(0));
}

/* ------------------------------------------------------------------ */
/* The command                                                          */

/* Run a shell command; its exit status, its stderr in `errout`. */
static int run_cmd(const char *cmd, char *errout, size_t cap)
{
    char full[20200];
    char tmpl[] = "/tmp/gl_sim_cli_XXXXXX";
    int fd = mkstemp(tmpl);
    assert_true(fd >= 0);
    close(fd);
    snprintf(full, sizeof full, "%s >/dev/null 2>%s", cmd, tmpl);
    int st = system(full);
    FILE *f = fopen(tmpl, "r");
    size_t n = f ? fread(errout, 1, cap - 1, f) : 0;
    errout[n] = '\0';
    if (f)
        fclose(f);
    unlink(tmpl);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void test_cli(void **state)
{
    (void)state;
    char bin[4200];
    const char *env = getenv("GPULEDGER_BIN");
    assert_non_null(gl_test_root(root, sizeof root));
    if (env && *env)
        snprintf(bin, sizeof bin, "%s", env);
    else
        snprintf(bin, sizeof bin, "%s/build/release/gpuledger", root);
    if (access(bin, X_OK) != 0)
        skip();
    char dir[] = "/tmp/gl_sim_cli_dir_XXXXXX";
    assert_non_null(mkdtemp(dir));
    char cmd[20000], errout[4096];
    gl_anvil *a = start_node(0);
    snprintf(cmd, sizeof cmd, "'%s' simulate --rpc %s --scenario '%s/fixtures/scenarios/small.json' --seed 5 "
             "--truth %s/truth.json --platforms-out %s/platforms --quiet", bin, gl_anvil_url(a), root, dir, dir);
    int st = run_cmd(cmd, errout, sizeof errout);
    if (st != 0)
        fail_msg("simulate exited %d: %s", st, errout);
    char path[4600];
    snprintf(path, sizeof path, "%s/truth.json", dir);
    json_error_t jerr;
    json_t *t = json_load_file(path, 0, &jerr);
    assert_non_null(t);
    assert_string_equal(json_string_value(json_object_get(t, "format")), GL_SIM_TRUTH_FORMAT);
    assert_string_equal(json_string_value(json_object_get(t, "seed")), "5");
    json_decref(t);
    static const char *const files[] = {"gpumarket-sim.json", "livepeer-sim.json", "golem-sim.json",
                                        "spheron-sim.json", "swan-sim.json", "fluence-sim.json"};
    for (size_t i = 0; i < 6; i++) {
        snprintf(path, sizeof path, "%s/platforms/%s", dir, files[i]);
        gl_platform *p = NULL;
        gl_err err;
        if (gl_platform_load_file(&p, path, &err))
            fail_msg("%s", err.msg);
        gl_platform_free(p);
        unlink(path);
    }
    snprintf(path, sizeof path, "%s/platforms", dir);
    rmdir(path);
    snprintf(path, sizeof path, "%s/truth.json", dir);
    unlink(path);
    /* the node is now past the start: exit 1 with the reason */
    st = run_cmd(cmd, errout, sizeof errout);
    assert_int_equal(st, 1);
    assert_non_null(strstr(errout, "past the scenario"));
    gl_anvil_stop(a);
    /* a broken scenario: exit 2 naming the file and the field */
    snprintf(path, sizeof path, "%s/bad.json", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(HEAD ",\"buyers\":{\"count\":-1}}", f);
    fclose(f);
    snprintf(cmd, sizeof cmd, "'%s' simulate --rpc http://127.0.0.1:1 --scenario %s --seed 1 --truth %s/t.json",
             bin, path, dir);
    assert_int_equal(run_cmd(cmd, errout, sizeof errout), 2);
    assert_non_null(strstr(errout, "bad.json: buyers.count: must be a non-negative integer"));
    unlink(path);
    /* a missing option and a bad seed */
    snprintf(cmd, sizeof cmd, "'%s' simulate --rpc http://127.0.0.1:1 --seed 1", bin);
    assert_int_equal(run_cmd(cmd, errout, sizeof errout), 2);
    snprintf(cmd, sizeof cmd, "'%s' simulate --rpc x --scenario y --seed -4 --truth z", bin);
    assert_int_equal(run_cmd(cmd, errout, sizeof errout), 2);
    assert_non_null(strstr(errout, "--seed"));
    rmdir(dir);
}

/* The bridge and hub artifacts the simulator deploys equal a fresh compile
 * of their sources with the pinned solc (the markets' are checked in
 * test_anvil_abi). */
static void test_sim_artifacts_fresh(void **state)
{
    (void)state;
    assert_non_null(gl_test_root(root, sizeof root));
    char cmd[4300];
    snprintf(cmd, sizeof cmd, "bash '%s/scripts/compile-sim-contracts.sh' --check", root);
    int rc = system(cmd);
    if (rc != 0)
        fail_msg("fixtures/sim/build differs from a fresh compile (exit status %d): "
                 "run scripts/compile-sim-contracts.sh", rc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sim_artifacts_fresh),
        cmocka_unit_test(test_broken_scenarios),
        cmocka_unit_test(test_small_chain_agrees_with_truth),
        cmocka_unit_test(test_same_seed_same_chain),
        cmocka_unit_test(test_node_past_start_is_refused),
        cmocka_unit_test(test_cli),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
