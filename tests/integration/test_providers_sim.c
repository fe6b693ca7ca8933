/* test_providers_sim.c - `gpuledger providers` held to the simulator's truth.
 *
 * Oracle: the truth file `gpuledger simulate` writes for
 * fixtures/scenarios/eval-providers.json (docs/TRUTH.md: `provider_frauds`,
 * each relabelled or oversold provider with its wallets; every address with
 * its owner), never the command's own output.  scripts/sim-eval.sh plays the
 * scenario on a fresh anvil, indexes, expands and analyzes; then
 * `gpuledger providers` and `gpuledger entities` (which addresses each
 * analysed entity holds) are read, and
 *   - every relabelled provider is in a record with `priced_below_model`,
 *     every oversold one in a record with `oversold`;
 *   - no record is flagged for a finding unless it holds a wallet of a
 *     provider the truth gives that typology (no honest provider flagged,
 *     nor a fraud for the other finding).
 * Seed: 17, held out.  The reference price (one vote per provider) and the
 * scenario's relabelled price range were settled on seed 7 (and 13, looked
 * at before the range was); GL_PROVIDER_PRICE_LOW (0.6) was not tuned.
 * docs/VOLUME.md has the figures of each seed.
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

#define HELD_OUT_SEED 17

static char out_dir[512], root[4096];

static void run(const char *cmd)
{
    int st = system(cmd);
    if (st == -1 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
        fail_msg("failed: %s", cmd);
}

/* `gpuledger SUB --db store --format json` into OUT (a file in out_dir), parsed. */
static json_t *cmd_json(const char *sub, const char *out)
{
    char cmd[8192], path[700], bin[4400];
    if (getenv("GPULEDGER_BIN"))
        snprintf(bin, sizeof bin, "%s", getenv("GPULEDGER_BIN"));
    else
        snprintf(bin, sizeof bin, "%s/build/%s/gpuledger", root,
                 getenv("GPULEDGER_FLAVOR") ? getenv("GPULEDGER_FLAVOR") : "release");
    snprintf(path, sizeof path, "%s/%s", out_dir, out);
    snprintf(cmd, sizeof cmd, "'%s' %s --db '%s/store' --format json > '%s' 2>/dev/null", bin, sub, out_dir, path);
    run(cmd);
    json_error_t je;
    json_t *j = json_load_file(path, 0, &je);
    if (!j)
        fail_msg("%s: %s", path, je.text);
    return j;
}

/* The truth's typology of the provider owning `addr`, or NULL when it is
 * honest (or not a provider). */
static const char *fraud_of(json_t *truth, const char *addr, const char **ent)
{
    const char *owner = json_string_value(json_object_get(json_object_get(json_object_get(truth, "addresses"), addr),
                                                          "entity"));
    *ent = owner;
    size_t i;
    json_t *f;
    json_array_foreach(json_object_get(truth, "provider_frauds"), i, f)
        if (owner && !strcmp(owner, json_string_value(json_object_get(f, "entity"))))
            return json_string_value(json_object_get(f, "typology"));
    return NULL;
}

static void test_providers_against_truth(void **state)
{
    (void)state;
    assert_non_null(gl_test_root(root, sizeof root));
    snprintf(out_dir, sizeof out_dir, "/tmp/gpuledger-test-providers-%d", (int)getpid());
    char cmd[12288], path[600];
    snprintf(cmd, sizeof cmd,
             "bash '%s/scripts/sim-eval.sh' '%s/fixtures/scenarios/eval-providers.json' %d '%s' > '%s.log' 2>&1", root,
             root, HELD_OUT_SEED, out_dir, out_dir);
    run(cmd);
    snprintf(path, sizeof path, "%s/truth.json", out_dir);
    json_error_t je;
    json_t *truth = json_load_file(path, 0, &je);
    assert_non_null(truth);
    json_t *frauds = json_object_get(truth, "provider_frauds");
    size_t nfraud = json_array_size(frauds);
    assert_true(nfraud >= 4); /* the scenario asks for 2 relabelled and 3 oversold */

    json_t *prov = cmd_json("providers", "providers.json");
    json_t *ents = cmd_json("entities", "entities.json");
    json_t *addrs_of = json_object(); /* entity id -> addresses */
    size_t i;
    json_t *e;
    json_array_foreach(ents, i, e) {
        char k[24];
        snprintf(k, sizeof k, "%lld", (long long)json_integer_value(json_object_get(e, "id")));
        json_object_set(addrs_of, k, json_object_get(e, "addresses"));
    }

    json_t *caught = json_object(); /* truth entity -> true */
    size_t false_pos = 0, records = 0, honest_checked = 0;
    json_t *r;
    json_array_foreach(prov, i, r) {
        json_t *addrs;
        json_t *one = NULL;
        if (json_is_null(json_object_get(r, "entity"))) {
            one = json_pack("[O]", json_object_get(r, "wallet"));
            addrs = one;
        } else {
            char k[24];
            snprintf(k, sizeof k, "%lld", (long long)json_integer_value(json_object_get(r, "entity")));
            addrs = json_object_get(addrs_of, k);
        }
        assert_non_null(addrs);
        records++;
        static const char *const finding[2] = {"oversold", "priced_below_model"};
        static const char *const typology[2] = {"oversold", "relabelled"};
        bool any_fraud = false;
        for (int f = 0; f < 2; f++) {
            bool flagged = json_is_true(json_object_get(r, finding[f]));
            bool right = false;
            size_t k;
            json_t *a;
            json_array_foreach(addrs, k, a) {
                const char *ent, *ty = fraud_of(truth, json_string_value(a), &ent);
                any_fraud |= ty != NULL;
                if (ty && !strcmp(ty, typology[f])) {
                    right = true;
                    if (flagged)
                        json_object_set_new(caught, ent, json_true());
                }
            }
            if (flagged && !right) {
                false_pos++;
                fprintf(stderr, "false positive: entity %lld flagged %s, holds %s\n",
                        (long long)json_integer_value(json_object_get(r, "entity")), finding[f],
                        json_string_value(json_array_get(addrs, 0)));
            }
        }
        honest_checked += !any_fraud && json_integer_value(json_object_get(r, "offers")) > 0;
        json_decref(one);
    }
    size_t ncaught = 0;
    json_t *f;
    json_array_foreach(frauds, i, f) {
        const char *ent = json_string_value(json_object_get(f, "entity"));
        bool got = json_is_true(json_object_get(caught, ent));
        ncaught += got;
        fprintf(stderr, "  %-14s %-10s %s\n", ent, json_string_value(json_object_get(f, "typology")),
                got ? "caught" : "MISSED");
    }
    fprintf(stderr,
            "providers seed %d: %zu of %zu frauds caught, %zu false positives over %zu records (%zu honest with "
            "offers)\n",
            HELD_OUT_SEED, ncaught, nfraud, false_pos, records, honest_checked);
    assert_true(honest_checked >= 10); /* the honest side was really tried */
    assert_int_equal(ncaught, nfraud);
    assert_int_equal(false_pos, 0);

    json_decref(caught);
    json_decref(addrs_of);
    json_decref(ents);
    json_decref(prov);
    json_decref(truth);
    snprintf(cmd, sizeof cmd, "rm -rf '%s' '%s.log'", out_dir, out_dir);
    if (system(cmd) == -1)
        fprintf(stderr, "could not remove %s\n", out_dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_providers_against_truth)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
