/* sim_run.c - gl_sim_run: check the node, create the world, play it, build
 * the truth; and finding the fixtures directories.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "gpuledger/sim_world.h"

/* anvil's dev account 0 (mnemonic "test test test test test test test test
 * test test test junk", path m/44'/60'/0'/0/0): the default funder.  The
 * same constant is in tests/support/anvil.c; the simulator does not link
 * the test support code, hence the copy. */
const char gl_sim_anvil_key0[] = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void progress(const sim_world *w, const char *fmt, const char *a)
{
    if (!w->opts->progress)
        return;
    char line[256];
    snprintf(line, sizeof line, fmt, a);
    w->opts->progress(w->opts->progress_ctx, line);
}

static gl_code run(sim_world *w, json_t **truth, gl_err *err)
{
    const gl_sim_scenario *sc = w->sc;
    gl_code rc = gl_sims_load(w, err);
    if (rc)
        return rc;
    uint64_t head, head_time, gas_limit;
    rc = gl_simn_open(w, &head, &head_time, &gas_limit, err);
    if (rc)
        return rc;
    if (head_time >= w->setup_time)
        return gl_err_set(err, GL_EINVAL, "the node's chain is already at time %llu, past the scenario's setup "
                          "(start - 6 h = %llu): use a fresh node with an earlier genesis (anvil --timestamp)",
                          (unsigned long long)head_time, (unsigned long long)w->setup_time);
    w->gas_limit = sc->block_gas_limit && sc->block_gas_limit < gas_limit ? sc->block_gas_limit : gas_limit;
    w->last_block = head;
    w->last_time = head_time;

    uint8_t op[20];
    rc = gl_secp_address_of_privkey(w->secp, w->opts->funder_key, op, err);
    if (rc)
        return gl_err_set(err, GL_EINVAL, "the funder key is not a valid secp256k1 key");
    char hex[43];
    gl_hex_encode(op, 20, true, hex);
    sim_amt nonce, bal;
    rc = gl_simn_quantity(w, "eth_getTransactionCount", json_pack("[ss]", hex, "latest"), &nonce, err);
    if (!rc)
        rc = gl_simn_quantity(w, "eth_getBalance", json_pack("[ss]", hex, "latest"), &bal, err);
    if (rc)
        return rc;
    rc = gl_sims_actors(w, (uint64_t)nonce, err);
    if (rc)
        return rc;
    sim_addr *opa = &w->addrs.v[w->operator_addr];
    opa->bal[AS_ETH] = bal;
    opa->initial_eth = bal;
    progress(w, "%s", "actors created; playing the scenario");
    rc = gl_simw_run(w, err);
    if (rc)
        return rc;
    return gl_simt_build(w, truth, err);
}

gl_code gl_sim_run(const gl_sim_scenario *sc, const gl_sim_opts *opts, json_t **truth, gl_sim_stats *stats,
                   gl_err *err)
{
    gl_err local;
    if (!err)
        err = &local;
    gl_err_clear(err);
    *truth = NULL;
    if (stats)
        memset(stats, 0, sizeof *stats);
    if (!sc || !opts || !opts->rpc_url || !opts->contracts_dir || !opts->sim_contracts_dir)
        return gl_err_set(err, GL_EINVAL, "gl_sim_run needs a scenario, a node URL and the contracts directories");
    double t0 = now_seconds();
    sim_world *w = calloc(1, sizeof *w);
    if (!w)
        return gl_err_set(err, GL_ENOMEM, "out of memory");
    gl_code rc = gl_simw_init(w, sc, opts, err);
    if (!rc)
        rc = run(w, truth, err);
    if (!rc && stats) {
        stats->blocks = w->last_block >= w->first_block && w->first_block ? w->last_block - w->first_block + 1 : 0;
        stats->txs = w->ntxs;
        stats->market_events = w->market_events;
        stats->payments = json_array_size(json_object_get(*truth, "payments"));
        stats->first_block = w->first_block;
        stats->last_block = w->last_block;
        stats->seconds = now_seconds() - t0;
    }
    gl_simw_release(w);
    free(w);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Fixtures                                                             */

static bool has_file(const char *dir, const char *probe)
{
    char path[8400];
    struct stat st;
    if (snprintf(path, sizeof path, "%s/%s", dir, probe) >= (int)sizeof path)
        return false;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

gl_code gl_sim_find_dir(char *buf, size_t cap, const char *rel, const char *probe, const char *exe, gl_err *err)
{
    char tried[3][4096];
    int n = 0;
    const char *root = getenv("GPULEDGER_ROOT");
    if (root && *root && snprintf(tried[n], sizeof tried[0], "%s/%s", root, rel) < (int)sizeof tried[0])
        n++;
    if (exe && *exe) {
        char self[4096];
        ssize_t len = -1;
        if (!strcmp(exe, "/proc/self/exe"))
            len = readlink(exe, self, sizeof self - 1);
        else if (strlen(exe) < sizeof self)
            len = (ssize_t)strlen(strcpy(self, exe));
        if (len > 0) {
            self[len] = '\0';
            char *slash = strrchr(self, '/');
            if (slash) {
                *slash = '\0';
                if (snprintf(tried[n], sizeof tried[0], "%s/../../%s", self, rel) < (int)sizeof tried[0])
                    n++;
            }
        }
    }
    snprintf(tried[n++], sizeof tried[0], "./%s", rel);
    for (int i = 0; i < n; i++) {
        if (!has_file(tried[i], probe))
            continue;
        if (strlen(tried[i]) >= cap)
            return gl_err_set(err, GL_ERANGE, "path too long: %s", tried[i]);
        memcpy(buf, tried[i], strlen(tried[i]) + 1);
        return GL_OK;
    }
    return gl_err_set(err, GL_EIO, "cannot find %s (looked for %s in: %s%s%s%s%s)", rel, probe, tried[0],
                      n > 1 ? ", " : "", n > 1 ? tried[1] : "", n > 2 ? ", " : "", n > 2 ? tried[2] : "");
}
