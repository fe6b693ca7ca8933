/* test_analyze_sim.c - the analyzer measured against the simulator's truth.
 *
 * Oracle: the truth file `gpuledger simulate` writes (who owns every
 * address, which wallets are proxies, their typology and beneficiary), never
 * the analyzer's own output.  Each case plays a scenario on a fresh anvil,
 * indexes every market, expands the funding trail, analyzes and evaluates
 * (scripts/sim-eval.sh), then holds the figures to the bars below.
 *
 * Seeds: the thresholds in gl_analysis_params_default were set on seed 7 of
 * fixtures/scenarios/eval.json and seed 5 of eval-bazaar.json (the second
 * market, unlike the reference: host paid directly, bytes32 models, minutes,
 * 6-decimal USDT, proxies funded with exactly the cost); this test reports
 * seeds 11 and 12 of both, which no threshold was set on, and the proxy-free
 * twin of the reference scenario.
 * Bars: flags precision >= 0.95 and recall >= 0.85; every typology caught at
 * least twice in three; the beneficiary right for >= 95% of caught proxies;
 * entity pairwise F1 >= 0.95 on both markets (the bar; the bazaar
 * measured 0.960 / 0.969 / 0.969 on seeds 5 / 11 / 12 since purchases no
 * longer count towards a hub's degree and hosts cash out their USDT,
 * 0.911 / 0.924 / 0.909 before either, when its bar was 0.90; the pairs
 * still missed are intermediaries' wallets with no on-chain tie:
 * docs/METHODS.md); no merge across kinds; self-dealing and
 * circular marks with precision 1 and recall >= 0.9; no flag at all without
 * proxies.
 */
#include <setjmp.h>
#include <stdarg.h>
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

/* Under the sanitizers every gpuledger command runs several times slower:
 * there the point is memory safety, which one held-out seed per market
 * exercises; the release build holds every figure. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define FIGURES_ONLY_IN_RELEASE() skip()
#else
#define FIGURES_ONLY_IN_RELEASE() ((void)0)
#endif

static json_t *sim_eval(const char *scenario, int seed)
{
    char root[4096], cmd[12288], out[512];
    assert_non_null(gl_test_root(root, sizeof root));
    const char *base = strrchr(scenario, '/') ? strrchr(scenario, '/') + 1 : scenario;
    snprintf(out, sizeof out, "/tmp/gpuledger-test-analyze-%d-%d-%.30s", (int)getpid(), seed, base);
    char spath[4400];
    if (scenario[0] == '/')
        snprintf(spath, sizeof spath, "%s", scenario);
    else
        snprintf(spath, sizeof spath, "%s/fixtures/scenarios/%s", root, scenario);
    snprintf(cmd, sizeof cmd, "bash '%s/scripts/sim-eval.sh' '%s' %d '%s' > '%s.log' 2>&1", root, spath, seed, out,
             out);
    int st = system(cmd);
    if (st == -1 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        char tail[600];
        snprintf(tail, sizeof tail, "tail -20 '%s.log' >&2", out);
        if (system(tail) == -1)
            fprintf(stderr, "sim-eval failed\n");
        fail_msg("sim-eval.sh %s %d failed", scenario, seed);
    }
    char path[600];
    snprintf(path, sizeof path, "%s/eval.json", out);
    json_error_t je;
    json_t *j = json_load_file(path, 0, &je);
    assert_non_null(j);
    snprintf(cmd, sizeof cmd, "rm -rf '%s' '%s.log'", out, out);
    if (system(cmd) == -1)
        fprintf(stderr, "could not remove %s\n", out);
    return j;
}

static double num(json_t *o, const char *a, const char *b)
{
    json_t *v = json_object_get(json_object_get(o, a), b);
    assert_true(json_is_number(v));
    return json_number_value(v);
}

static void held_out(const char *scenario, int seed, double min_entity_f1)
{
    json_t *e = sim_eval(scenario, seed);
    double p = num(e, "flags", "precision"), r = num(e, "flags", "recall"), f = num(e, "entities", "f1");
    fprintf(stderr, "%s seed %d: flags precision %.3f recall %.3f, entity F1 %.3f, merges across kinds %.0f\n",
            scenario, seed, p, r, f, num(e, "entities", "merges_across_kinds"));
    assert_true(p >= 0.95);
    assert_true(r >= 0.85);
    assert_true(f >= min_entity_f1);
    assert_true(num(e, "entities", "merges_across_kinds") == 0);
    const char *k;
    json_t *v;
    json_object_foreach(json_object_get(json_object_get(e, "flags"), "per_typology"), k, v) {
        json_int_t truth = json_integer_value(json_object_get(v, "truth"));
        json_int_t caught = json_integer_value(json_object_get(v, "caught"));
        fprintf(stderr, "  %-22s %lld of %lld\n", k, (long long)caught, (long long)truth);
        assert_true(caught * 3 >= truth * 2);
    }
    /* The beneficiary named is the true one for caught proxies. */
    assert_true(num(e, "flags", "beneficiary_accuracy") >= 0.95);
    json_t *m = json_object_get(e, "purchase_marks");
    assert_true(num(m, "self_dealing", "precision") >= 0.999 && num(m, "self_dealing", "recall") >= 0.9);
    assert_true(num(m, "circular", "precision") >= 0.999 && num(m, "circular", "recall") >= 0.9);
    json_decref(e);
}

static void test_seed_11(void **state)
{
    (void)state;
    held_out("eval.json", 11, 0.95);
}

static void test_seed_12(void **state)
{
    (void)state;
    FIGURES_ONLY_IN_RELEASE();
    held_out("eval.json", 12, 0.95);
}

static void test_bazaar_seed_11(void **state)
{
    (void)state;
    held_out("eval-bazaar.json", 11, 0.95);
}

static void test_bazaar_seed_12(void **state)
{
    (void)state;
    FIGURES_ONLY_IN_RELEASE();
    held_out("eval-bazaar.json", 12, 0.95);
}

/* Each typology alone: eval.json with every other typology's count set to
 * 0 (the scenario file written here, from the shipped one).  The typology
 * is caught (two in three at least) and nothing else is flagged. */
static void test_each_typology_alone(void **state)
{
    (void)state;
    FIGURES_ONLY_IN_RELEASE();
    static const char *const typs[] = {"sponsor_fanout", "pass_through", "reimbursed", "lease_for",
                                       "livepeer_third_party", "golem_deposit", "split_order"};
    char root[4096], src[4200];
    assert_non_null(gl_test_root(root, sizeof root));
    snprintf(src, sizeof src, "%s/fixtures/scenarios/eval.json", root);
    for (size_t t = 0; t < sizeof typs / sizeof *typs; t++) {
        json_error_t je;
        json_t *sc = json_load_file(src, 0, &je);
        assert_non_null(sc);
        const char *k;
        json_t *v;
        json_object_foreach(json_object_get(sc, "proxies"), k, v)
            if (strcmp(k, typs[t]))
                json_object_set_new(v, "count", json_integer(0));
        char name[64], path[256];
        snprintf(name, sizeof name, "only-%s", typs[t]);
        for (char *p = name; *p; p++)
            if (*p == '_')
                *p = '-';
        json_object_set_new(sc, "name", json_string(name));
        snprintf(path, sizeof path, "/tmp/gpuledger-test-%d-%s.json", (int)getpid(), name);
        assert_int_equal(json_dump_file(sc, path, JSON_INDENT(1)), 0);
        json_decref(sc);
        json_t *e = sim_eval(path, 11);
        unlink(path);
        json_t *per = json_object_get(json_object_get(json_object_get(e, "flags"), "per_typology"), typs[t]);
        json_int_t truth = json_integer_value(json_object_get(per, "truth"));
        json_int_t caught = json_integer_value(json_object_get(per, "caught"));
        json_int_t fp = json_integer_value(json_object_get(json_object_get(e, "flags"), "false_positives"));
        fprintf(stderr, "only %-22s caught %lld of %lld, %lld false positives\n", typs[t], (long long)caught,
                (long long)truth, (long long)fp);
        assert_true(truth > 0);
        assert_true(caught * 3 >= truth * 2);
        assert_int_equal(fp, 0);
        json_decref(e);
    }
}

static void test_no_proxies_no_flags(void **state)
{
    (void)state;
    json_t *e = sim_eval("eval-honest.json", 11);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(e, "flags"), "false_positives")), 0);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(e, "flags"), "true_positives")), 0);
    json_decref(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_seed_11),
        cmocka_unit_test(test_seed_12),
        cmocka_unit_test(test_bazaar_seed_11),
        cmocka_unit_test(test_bazaar_seed_12),
        cmocka_unit_test(test_no_proxies_no_flags),
        cmocka_unit_test(test_each_typology_alone),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
