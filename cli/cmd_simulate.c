/* cmd_simulate.c - `gpuledger simulate`: play a scenario on a node and write
 * the ground truth (see include/gpuledger/sim.h, docs/SCENARIO.md,
 * docs/TRUTH.md).
 *
 *   gpuledger simulate --rpc URL --scenario FILE --seed N --truth OUT.json
 *                      [--platforms-out DIR] [--contracts DIR] [--sim-contracts DIR]
 *                      [--funder-key HEX] [--quiet]
 *
 * The node must be a fresh anvil whose genesis is before the scenario's
 * start (anvil --timestamp); the simulator mines every block itself.
 * Progress goes to stderr; a one-line JSON summary to stdout.  Exit status:
 * 0 done, 1 the run failed (node error, reverted transaction, model
 * mismatch), 2 bad usage or a bad scenario.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpuledger/bytes.h"
#include "gpuledger/sim.h"

#include "cli.h"
#include "commands.h"

static void sim_usage(FILE *out)
{
    fprintf(out,
            "usage: gpuledger simulate --rpc URL --scenario FILE --seed N --truth OUT.json\n"
            "                          [--platforms-out DIR] [--contracts DIR] [--sim-contracts DIR]\n"
            "                          [--funder-key HEX] [--quiet]\n"
            "  deploy the test markets on the node at URL (a fresh anvil) and play the scenario\n"
            "  (docs/SCENARIO.md) with the seed; write the ground truth (docs/TRUTH.md) to OUT.json\n"
            "  and, with --platforms-out, one platform definition per deployed market to DIR.\n"
            "  --contracts DIR      compiled markets (default: fixtures/contracts/build under\n"
            "                       $GPULEDGER_ROOT, ../../ from the binary, or .)\n"
            "  --sim-contracts DIR  the bridge and hub (default: fixtures/sim/build, found the same way)\n"
            "  --funder-key HEX     pays for everything (default: anvil's dev account 0)\n"
            "  -q, --quiet          no progress on stderr\n\n"
            "Example:\n"
            "  anvil --port 8545 --timestamp 1700000000 &\n"
            "  gpuledger simulate --rpc http://127.0.0.1:8545 --scenario fixtures/scenarios/small.json \\\n"
            "      --seed 1 --truth truth.json --platforms-out platforms/\n\n"
            "Exit status: 0 done, 1 the run failed (node error, reverted transaction, model mismatch),\n"
            "2 bad usage or a bad scenario.\n");
}

static void on_progress(void *ctx, const char *line)
{
    (void)ctx;
    fprintf(stderr, "gpuledger simulate: %s\n", line);
}

static int parse_seed(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    if (!s || !*s || *s == '-')
        return -1;
    unsigned long long v = strtoull(s, &end, 0);
    if (errno || *end)
        return -1;
    *out = v;
    return 0;
}

int cmd_simulate(int argc, char **argv)
{
    const char *rpc = NULL, *scen = NULL, *seed_s = NULL, *truth_path = NULL, *plat_dir = NULL;
    const char *contracts = NULL, *sim_contracts = NULL, *key_hex = gl_sim_anvil_key0;
    bool quiet = false;
    static const struct option lopts[] = {
        {"rpc", required_argument, 0, 'r'},           {"scenario", required_argument, 0, 's'},
        {"seed", required_argument, 0, 'S'},          {"truth", required_argument, 0, 't'},
        {"platforms-out", required_argument, 0, 'P'}, {"contracts", required_argument, 0, 'c'},
        {"sim-contracts", required_argument, 0, 'C'}, {"funder-key", required_argument, 0, 'k'},
        {"quiet", no_argument, 0, 'q'},               {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    int c;
    cli_opt_reset();
    while ((c = getopt_long(argc, argv, ":hq", lopts, NULL)) != -1) {
        switch (c) {
        case 'h': sim_usage(stdout); return 0;
        case 'q': quiet = true; break;
        case 'r': rpc = optarg; break;
        case 's': scen = optarg; break;
        case 'S': seed_s = optarg; break;
        case 't': truth_path = optarg; break;
        case 'P': plat_dir = optarg; break;
        case 'c': contracts = optarg; break;
        case 'C': sim_contracts = optarg; break;
        case 'k': key_hex = optarg; break;
        default: return cli_opt_error("simulate", c, argv);
        }
    }
    if (optind < argc) {
        fprintf(stderr, "gpuledger simulate: unexpected argument '%s'\n", argv[optind]);
        sim_usage(stderr);
        return 2;
    }
    if (!rpc || !scen || !seed_s || !truth_path) {
        fprintf(stderr, "gpuledger simulate: --rpc, --scenario, --seed and --truth are required\n");
        sim_usage(stderr);
        return 2;
    }
    gl_sim_opts opts;
    memset(&opts, 0, sizeof opts);
    if (parse_seed(seed_s, &opts.seed)) {
        fprintf(stderr, "gpuledger simulate: --seed '%s' is not a non-negative 64-bit integer\n", seed_s);
        return 2;
    }
    gl_err err;
    if (gl_hex_decode_exact(key_hex, opts.funder_key, 32, &err)) {
        fprintf(stderr, "gpuledger simulate: --funder-key: %s\n", err.msg);
        return 2;
    }
    gl_sim_scenario sc;
    if (gl_sim_scenario_load(&sc, scen, &err)) {
        fprintf(stderr, "gpuledger simulate: %s\n", err.msg);
        return 2;
    }
    char cdir[4096], sdir[4096];
    if (!contracts) {
        if (gl_sim_find_dir(cdir, sizeof cdir, "fixtures/contracts/build", "GpuMarket.json", "/proc/self/exe", &err)) {
            fprintf(stderr, "gpuledger simulate: %s; give --contracts DIR\n", err.msg);
            return 2;
        }
        contracts = cdir;
    }
    if (!sim_contracts) {
        if (gl_sim_find_dir(sdir, sizeof sdir, "fixtures/sim/build", "SimHub.json", "/proc/self/exe", &err)) {
            fprintf(stderr, "gpuledger simulate: %s; give --sim-contracts DIR\n", err.msg);
            return 2;
        }
        sim_contracts = sdir;
    }
    opts.rpc_url = rpc;
    opts.contracts_dir = contracts;
    opts.sim_contracts_dir = sim_contracts;
    opts.progress = quiet ? NULL : on_progress;
    json_t *truth = NULL;
    gl_sim_stats st;
    if (!quiet)
        fprintf(stderr, "gpuledger simulate: scenario '%s', %u days, seed %llu\n", sc.name, sc.days,
                (unsigned long long)opts.seed);
    if (gl_sim_run(&sc, &opts, &truth, &st, &err)) {
        fprintf(stderr, "gpuledger simulate: %s\n", err.msg);
        return 1;
    }
    int status = 0;
    if (gl_sim_truth_write(truth, truth_path, &err)) {
        fprintf(stderr, "gpuledger simulate: %s\n", err.msg);
        status = 1;
    }
    if (!status && plat_dir && gl_sim_platforms_write(truth, plat_dir, &err)) {
        fprintf(stderr, "gpuledger simulate: %s\n", err.msg);
        status = 1;
    }
    json_decref(truth);
    if (!status)
        printf("{\"blocks\":%llu,\"first_block\":%llu,\"last_block\":%llu,\"transactions\":%llu,"
               "\"market_events\":%llu,\"payments\":%llu,\"seconds\":%.1f}\n",
               (unsigned long long)st.blocks, (unsigned long long)st.first_block, (unsigned long long)st.last_block,
               (unsigned long long)st.txs, (unsigned long long)st.market_events, (unsigned long long)st.payments,
               st.seconds);
    return status;
}
