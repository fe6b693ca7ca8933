/* bench_sim.c - how fast the simulator builds chains.
 *
 * Runs fixtures/scenarios/small.json, then the first 3 days of
 * fixtures/scenarios/large.json (the same actors, fewer days), each on a
 * fresh anvil started as the large benchmark wants it
 * (--hardfork cancun --gas-limit 100000000; the harness adds
 * --max-persisted-states 0, see docs/SCENARIO.md), and prints blocks,
 * transactions, market events and wall time.  The full 30-day large chain
 * takes minutes; its figures are in bench/RESULTS.md ("simulator"), measured
 * with `gpuledger simulate` by hand.  Nothing is asserted.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpuledger/bytes.h"
#include "gpuledger/sim.h"

#include "../tests/support/anvil.h"
#include "../tests/support/testutil.h"

static int run(const char *root, const char *file, unsigned days)
{
    char scen[4200], contracts[4200], simc[4200];
    snprintf(scen, sizeof scen, "%s/fixtures/scenarios/%s", root, file);
    snprintf(contracts, sizeof contracts, "%s/fixtures/contracts/build", root);
    snprintf(simc, sizeof simc, "%s/fixtures/sim/build", root);
    gl_sim_scenario sc;
    gl_err err;
    if (gl_sim_scenario_load(&sc, scen, &err)) {
        fprintf(stderr, "bench_sim: %s\n", err.msg);
        return 1;
    }
    if (days)
        sc.days = days;
    static const char *const args[] = {"--hardfork", "cancun", "--gas-limit", "100000000", NULL};
    gl_anvil_opts ao = {0};
    ao.extra_args = args;
    gl_anvil *a = NULL;
    if (gl_anvil_start(&ao, &a, &err)) {
        fprintf(stderr, "bench_sim: cannot start anvil: %s\n", err.msg);
        return 1;
    }
    gl_sim_opts opts;
    memset(&opts, 0, sizeof opts);
    opts.rpc_url = gl_anvil_url(a);
    opts.contracts_dir = contracts;
    opts.sim_contracts_dir = simc;
    opts.seed = 1;
    gl_hex_decode_exact(gl_sim_anvil_key0, opts.funder_key, 32, NULL);
    json_t *truth = NULL;
    gl_sim_stats st;
    int rc = 0;
    if (gl_sim_run(&sc, &opts, &truth, &st, &err)) {
        fprintf(stderr, "bench_sim: %s: %s\n", file, err.msg);
        rc = 1;
    } else {
        printf("%-12s %3u days: %6llu blocks %7llu txs %7llu market events %6llu payments  %6.1f s  "
               "%6.0f txs/s  %6.0f events/s\n",
               file, sc.days, (unsigned long long)st.blocks, (unsigned long long)st.txs,
               (unsigned long long)st.market_events, (unsigned long long)st.payments, st.seconds,
               (double)st.txs / st.seconds, (double)st.market_events / st.seconds);
    }
    json_decref(truth);
    gl_anvil_stop(a);
    return rc;
}

int main(void)
{
    char root[4096];
    if (!gl_test_root(root, sizeof root)) {
        fprintf(stderr, "bench_sim: cannot find the repository root (set GPULEDGER_ROOT)\n");
        return 1;
    }
    int rc = run(root, "small.json", 0);
    rc |= run(root, "large.json", 3);
    return rc;
}
