/* test_volume_sim.c - `gpuledger volume` held to the simulator's truth.
 *
 * Oracle: the truth file `gpuledger simulate` writes (docs/TRUTH.md: the
 * `volume` section per platform, day and token; every payment with its
 * model and GPU-hours), never volume's own output.  scripts/sim-eval.sh
 * plays fixtures/scenarios/eval.json with seeds 11 and 7 (the flags' tuning
 * seed: nothing here tunes a threshold) on a fresh anvil each, indexes,
 * expands and analyzes; then `gpuledger volume --by platform,day --format
 * json` must give every platform/day/token gross exactly (amounts compared
 * as integers of the smallest unit, the decimal point removed), net within
 * 2%, and `--by platform,model` GPU-hours within 2% per model.  GPU-hours
 * are compared only where the chain records model, count and duration
 * (gpumarket, bazaar); the other platforms' hours are the simulator's own
 * (docs/TRUTH.md) and volume reports them as unknown.
 *
 * Net is held to what the chain can show: a truth payment excluded as
 * self-dealing or circular whose paying wallet and provider wallet no
 * transfer path through their own entity's addresses joins (the truth's
 * entities, with each exchange deposit address counted as its `customer`'s;
 * the store's transfers that moved money: not reverted, no NFTs) is counted
 * back into the truth's net.  Seed 7 has one: provider-007 leases its second
 * provider wallet's offers from the buying wallet its first wallet funds,
 * and nothing on chain ties the second wallet to the others.  The number of
 * such payments is bounded below so that the exception cannot grow
 * silently.  `gpuledger eval` reports the same view (volume
 * `worst_chain_net_error`, `not_on_chain`, docs/VOLUME.md) from its own
 * code; it must agree with this file's: the same payments, by tx hash, and
 * the same worst error per cell overall and per platform.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "../support/testutil.h"
#include "gpuledger/gpu_models.h"

static char out_dir[512], root[4096];

static void run(const char *cmd)
{
    int st = system(cmd);
    if (st == -1 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
        fail_msg("failed: %s", cmd);
}

/* Run `gpuledger ARGS` (printf-style; $GPULEDGER_BIN, else this tree's
 * build/$GPULEDGER_FLAVOR, default release) with its stdout into
 * out_dir/FILE, whose path goes into path. */
static void gpuledger_to(char path[700], const char *file, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void gpuledger_to(char path[700], const char *file, const char *fmt, ...)
{
    char args[2048], cmd[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    snprintf(path, 700, "%s/%s", out_dir, file);
    if (getenv("GPULEDGER_BIN"))
        snprintf(cmd, sizeof cmd, "'%s' %s > '%s'", getenv("GPULEDGER_BIN"), args, path);
    else
        snprintf(cmd, sizeof cmd, "'%s/build/%s/gpuledger' %s > '%s'", root,
                 getenv("GPULEDGER_FLAVOR") ? getenv("GPULEDGER_FLAVOR") : "release", args, path);
    run(cmd);
}

static json_t *load_json(const char *path)
{
    json_error_t je;
    json_t *j = json_load_file(path, 0, &je);
    assert_non_null(j);
    return j;
}

/* `gpuledger eval --json` on the played store, parsed. */
static json_t *eval_json(void)
{
    char path[700];
    gpuledger_to(path, "eval-check.json", "eval --db '%s/store' --truth '%s/truth.json' --json", out_dir, out_dir);
    return load_json(path);
}

static json_t *volume_json(const char *by)
{
    char path[700];
    gpuledger_to(path, strchr(by, 'm') ? "volume-model.json" : "volume-day.json",
                 "volume --db '%s/store' --by %s --format json 2>/dev/null", out_dir, by);
    return load_json(path);
}

/* "241.689600" -> "241689600" (leading zeros dropped; "0" for zero). */
static void raw_units(const char *s, char *out, size_t cap)
{
    size_t w = 0;
    for (; *s && w + 1 < cap; s++)
        if (*s != '.' && !(w == 0 && *s == '0'))
            out[w++] = *s;
    if (!w)
        out[w++] = '0';
    out[w] = 0;
}

static const char *uf_find(json_t *parent, const char *a)
{
    const char *p;
    while ((p = json_string_value(json_object_get(parent, a))) && strcmp(p, a))
        a = p;
    return a;
}

/* Whose an address is for joining wallets: a deposit address is its
 * customer's (all of the customer's wallets pay into it), anything else
 * its truth entity's. */
static const char *owner_of(json_t *addrs, const char *a)
{
    json_t *r = a ? json_object_get(addrs, a) : NULL;
    const char *c = json_string_value(json_object_get(r, "customer"));
    return c ? c : json_string_value(json_object_get(r, "entity"));
}

/* The truth's excluded payments that the chain cannot show, as
 * "platform/day/token" -> amount (double, smallest units) in *back, their
 * number returned and their tx hashes in *txs (tx -> true): self-dealing
 * whose payer and provider are different wallets of one entity (the
 * truth's) that no path of transfers between that entity's own addresses
 * (owner_of; the store's transfers that moved money, any token) joins. */
static size_t unknowable_exclusions(json_t *truth, json_t **back, json_t **txs)
{
    char path[700];
    gpuledger_to(path, "transfers.jsonl", "export transfers --db '%s/store' --format jsonl 2>/dev/null", out_dir);
    json_t *addrs = json_object_get(truth, "addresses"), *parent = json_object();
    FILE *fp = fopen(path, "r");
    assert_non_null(fp);
    char line[8192];
    size_t joined = 0;
    while (fgets(line, sizeof line, fp)) {
        json_t *t = json_loads(line, 0, NULL);
        assert_non_null(t);
        const char *a = json_string_value(json_object_get(t, "from")), *b = json_string_value(json_object_get(t, "to"));
        const char *ea = owner_of(addrs, a), *eb = owner_of(addrs, b);
        const char *asset = json_string_value(json_object_get(t, "asset"));
        bool moved = !json_is_true(json_object_get(t, "failed")) && asset && strcmp(asset, "erc721") &&
                     strcmp(asset, "erc1155");
        if (moved && ea && eb && !strcmp(ea, eb) && strcmp(a, b)) {
            const char *ra = uf_find(parent, a), *rb = uf_find(parent, b);
            if (strcmp(ra, rb)) {
                json_object_set_new(parent, ra, json_string(rb));
                joined++;
            }
        }
        json_decref(t);
    }
    fclose(fp);
    assert_true(joined > 0); /* the provider wallets' funding of their buying wallets, at least */
    *back = json_object();
    *txs = json_object();
    size_t n = 0, i;
    json_t *p;
    json_array_foreach(json_object_get(truth, "payments"), i, p) {
        if (!json_is_true(json_object_get(p, "self_dealing")) && !json_is_true(json_object_get(p, "circular")))
            continue;
        const char *pa = json_string_value(json_object_get(p, "payer"));
        const char *pv = json_string_value(json_object_get(p, "provider"));
        const char *ea = json_string_value(json_object_get(p, "payer_entity"));
        const char *ev = json_string_value(json_object_get(p, "provider_entity"));
        /* a ring's payments join two entities: what shows them is the cycle of purchases */
        if (!pa || !pv || !ea || !ev || strcmp(ea, ev))
            continue;
        if (!strcmp(pa, pv) || !strcmp(uf_find(parent, pa), uf_find(parent, pv)))
            continue;
        char k[256];
        snprintf(k, sizeof k, "%s/%s/%s", json_string_value(json_object_get(p, "platform")),
                 json_string_value(json_object_get(p, "day")), json_string_value(json_object_get(p, "token")));
        json_object_set_new(*back, k, json_real(json_real_value(json_object_get(*back, k)) +
                                                strtod(json_string_value(json_object_get(p, "amount")), NULL)));
        json_object_set_new(*txs, json_string_value(json_object_get(p, "tx")), json_true());
        fprintf(stderr, "  not on chain: %s %s self-dealing %s paid %s %s\n", k,
                json_string_value(json_object_get(p, "amount")), json_string_value(json_object_get(p, "payer_entity")),
                pa, pv);
        n++;
    }
    json_decref(parent);
    return n;
}

static void check_seed(unsigned seed, size_t max_unknowable)
{
    assert_non_null(gl_test_root(root, sizeof root));
    snprintf(out_dir, sizeof out_dir, "/tmp/gpuledger-test-volume-%d-%u", (int)getpid(), seed);
    char cmd[12288], path[600];
    snprintf(cmd, sizeof cmd, "bash '%s/scripts/sim-eval.sh' '%s/fixtures/scenarios/eval.json' %u '%s' > '%s.log' 2>&1",
             root, root, seed, out_dir, out_dir);
    run(cmd);
    snprintf(path, sizeof path, "%s/truth.json", out_dir);
    json_error_t je;
    json_t *truth = json_load_file(path, 0, &je);
    assert_non_null(truth);
    json_t *back = NULL, *txs = NULL, *worst_per = json_object();
    size_t unknowable = unknowable_exclusions(truth, &back, &txs);

    json_t *v = volume_json("platform,day");
    json_t *rows = json_object_get(v, "rows");
    assert_true(json_array_size(rows) > 0);
    size_t cells = 0, exact = 0;
    double worst_net = 0, worst_truth_net = 0;
    const char *plat, *day, *tok;
    json_t *days, *rec, *amt;
    json_object_foreach(json_object_get(truth, "volume"), plat, days) json_object_foreach(days, day, rec)
        json_object_foreach(json_object_get(rec, "gross"), tok, amt) {
        cells++;
        json_t *row = NULL;
        for (size_t i = 0; i < json_array_size(rows) && !row; i++) {
            json_t *r = json_array_get(rows, i);
            if (!strcmp(json_string_value(json_object_get(r, "market")), plat) &&
                !strcmp(json_string_value(json_object_get(r, "period")), day) &&
                !strcmp(json_string_value(json_object_get(r, "token")), tok))
                row = r;
        }
        if (!row) {
            fprintf(stderr, "missing row %s %s %s\n", plat, day, tok);
            continue;
        }
        char g[100], n[100];
        raw_units(json_string_value(json_object_get(row, "gross")), g, sizeof g);
        raw_units(json_string_value(json_object_get(row, "net")), n, sizeof n);
        if (!strcmp(g, json_string_value(amt)))
            exact++;
        else
            fprintf(stderr, "gross %s %s %s: truth %s, volume %s\n", plat, day, tok, json_string_value(amt), g);
        double tn = strtod(json_string_value(json_object_get(json_object_get(rec, "net"), tok)), NULL);
        double e = tn ? (strtod(n, NULL) - tn) / tn : strtod(n, NULL) != 0;
        e = e < 0 ? -e : e;
        worst_truth_net = e > worst_truth_net ? e : worst_truth_net;
        char k[256];
        snprintf(k, sizeof k, "%s/%s/%s", plat, day, tok);
        double kn = tn + json_real_value(json_object_get(back, k)); /* the net the chain can show */
        e = kn ? (strtod(n, NULL) - kn) / kn : strtod(n, NULL) != 0;
        e = e < 0 ? -e : e;
        if (e > 0.02)
            fprintf(stderr, "net %s: truth %.0f (on chain %.0f), volume %s\n", k, tn, kn, n);
        worst_net = e > worst_net ? e : worst_net;
        if (e >= json_real_value(json_object_get(worst_per, plat)))
            json_object_set_new(worst_per, plat, json_real(e));
    }
    /* every row of ours is a cell of the truth's too (no invented volume) */
    size_t nonzero_rows = 0;
    for (size_t i = 0; i < json_array_size(rows); i++)
        nonzero_rows += strcmp(json_string_value(json_object_get(json_array_get(rows, i), "gross")), "0") != 0;
    fprintf(stderr,
            "volume seed %u: gross exact in %zu of %zu cells (%zu rows), worst net error %.4f against what the "
            "chain shows (%.4f against the truth; %zu excluded payments not on chain)\n",
            seed, exact, cells, nonzero_rows, worst_net, worst_truth_net, unknowable);
    assert_true(cells > 0);
    assert_int_equal(exact, cells);
    assert_int_equal(json_array_size(rows), cells);
    assert_true(worst_net <= 0.02);
    assert_true(unknowable <= max_unknowable);
    json_decref(back);

    /* eval's "net as far as the chain shows", computed by the analyzer's own
     * code, agrees with this file's: the same payments and the same errors */
    json_t *ev = eval_json(), *evol = json_object_get(ev, "volume");
    json_t *list = json_object_get(evol, "not_on_chain");
    fprintf(stderr, "eval seed %u: worst net error %.4f against the truth, %.4f as far as the chain shows; %lld "
            "excluded payments not on chain\n", seed, json_real_value(json_object_get(evol, "worst_net_error")),
            json_real_value(json_object_get(evol, "worst_chain_net_error")),
            (long long)json_integer_value(json_object_get(evol, "exclusions_not_on_chain")));
    assert_int_equal(json_integer_value(json_object_get(evol, "exclusions_not_on_chain")), unknowable);
    assert_int_equal(json_array_size(list), unknowable);
    for (size_t q = 0; q < json_array_size(list); q++)
        assert_non_null(json_object_get(txs, json_string_value(json_object_get(json_array_get(list, q), "tx"))));
    assert_float_equal(json_real_value(json_object_get(evol, "worst_chain_net_error")), worst_net, 1e-9);
    assert_float_equal(json_real_value(json_object_get(evol, "worst_net_error")), worst_truth_net, 1e-9);
    const char *wp;
    json_t *wv;
    json_object_foreach(worst_per, wp, wv) {
        json_t *pp = json_object_get(json_object_get(evol, "per_platform"), wp);
        assert_non_null(pp);
        assert_float_equal(json_real_value(json_object_get(pp, "worst_chain_net_error")), json_real_value(wv), 1e-9);
    }
    json_decref(ev);
    json_decref(txs);
    json_decref(worst_per);

    /* GPU-hours by canonical model, on the platforms that record them */
    gl_gpu_models *models = NULL;
    assert_int_equal(gl_gpu_models_builtin(&models, NULL), GL_OK);
    json_t *want = json_object();
    size_t i;
    json_t *p;
    json_array_foreach(json_object_get(truth, "payments"), i, p) {
        const char *pl = json_string_value(json_object_get(p, "platform"));
        const char *mo = json_string_value(json_object_get(p, "gpu_model"));
        if (!pl || !mo || (strcmp(pl, "gpumarket") && strcmp(pl, "bazaar")))
            continue;
        const gl_gpu_model *gm = gl_gpu_models_lookup(models, mo);
        const char *key = gm ? gm->canonical : mo;
        json_object_set_new(want, key, json_real(json_real_value(json_object_get(want, key)) +
                                                 json_number_value(json_object_get(p, "gpu_hours"))));
    }
    json_t *vm = volume_json("platform,model");
    json_t *mrows = json_object_get(vm, "rows");
    const char *mk;
    json_t *th;
    size_t models_checked = 0;
    json_object_foreach(want, mk, th) {
        double got = 0;
        for (size_t r = 0; r < json_array_size(mrows); r++) {
            json_t *row = json_array_get(mrows, r);
            const char *mkt = json_string_value(json_object_get(row, "market"));
            if ((!strcmp(mkt, "gpumarket") || !strcmp(mkt, "bazaar")) &&
                !strcmp(json_string_value(json_object_get(row, "model")), mk))
                got += strtod(json_string_value(json_object_get(row, "gpu_hours")), NULL);
        }
        double t = json_real_value(th), e = t ? (got - t) / t : 0;
        fprintf(stderr, "  %-16s GPU-hours truth %.3f volume %.3f\n", mk, t, got);
        assert_true(e <= 0.02 && e >= -0.02);
        models_checked++;
    }
    assert_true(models_checked >= 5);
    gl_gpu_models_free(models);
    json_decref(want);
    json_decref(vm);
    json_decref(v);
    json_decref(truth);
    snprintf(cmd, sizeof cmd, "rm -rf '%s' '%s.log'", out_dir, out_dir);
    if (system(cmd) == -1)
        fprintf(stderr, "could not remove %s\n", out_dir);
}

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define UNDER_SANITIZER 1
#else
#define UNDER_SANITIZER 0
#endif

/* the reporting seed: every exclusion is on chain */
static void test_volume_seed_11(void **state)
{
    (void)state;
    check_seed(11, 0);
}

/* the tuning seed: a bridge's GLM releases once counted as Golem volume
 * (graph.c: a batch payout needs its inbound leg), and provider-007's
 * self-dealing through an unlinked wallet (2 payments) that no chain
 * evidence shows */
static void test_volume_seed_7(void **state)
{
    (void)state;
    /* Under the sanitizers one seed proves the code paths; the second
     * seed's figures are the release build's (CI time). */
    if (UNDER_SANITIZER)
        skip();
    check_seed(7, 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_volume_seed_11), cmocka_unit_test(test_volume_seed_7)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
