/* test_providers_sim.c - `gpuledger providers` held to the simulator's truth.
 *
 * Oracle: the truth file `gpuledger simulate` writes (docs/TRUTH.md:
 * `provider_frauds`, each relabelled or oversold provider with its wallets;
 * `provider_sweeps`, each provider sweeping payouts with its wallets and
 * collector; every address with its owner), never the command's own output.
 * scripts/sim-eval.sh plays the scenario on a fresh anvil, indexes, expands
 * and analyzes; then `gpuledger providers` and `gpuledger entities` (which
 * addresses each analysed entity holds) are read, and
 *   - every relabelled provider is in a record with `priced_below_model`,
 *     every oversold one in a record with `oversold`;
 *   - no record is flagged for a finding unless it holds a wallet of a
 *     provider the truth gives that typology (no honest provider flagged,
 *     nor a fraud for the other finding);
 *   - every sweeping provider's payout wallets and collector are in one
 *     record whose `sweep_links` name the collector, and no record without a
 *     sweeping provider's wallet has a sweep link.
 * Scenarios and seeds, both held out (seed 37 of each, chosen before it
 * was played):
 *   eval-providers.json: the reference price (one vote per provider) and
 *     the relabelled price range were settled on seed 7 (and 13);
 *     GL_PROVIDER_PRICE_LOW (0.6) was not tuned; the sweeping providers and
 *     the provider_sweep rule were not tuned on any seed;
 *   eval-bazaar-providers.json: nothing in the link rules tuned on the
 *     bazaar.  Its honest rates span 85 % of the catalogue range's low to
 *     125 % of its high (one model's hosts up to 2.9x apart), so honest
 *     hosts sit under 0.6 of their peers; the relabelled range (0.77-1.02
 *     USDT for an "H100-SXM": the bazaar's A100-40GB low, up to 0.6 of its
 *     cheapest honest H100) was set from the simulator's ranges before any
 *     seed was played, the sweeping hosts likewise.
 *   The price rule (a price under 0.6 of its peers and set apart from the
 *   model's dearer sellers by a step of 1/0.6, analyzer/providers.c
 *   gap_above) was settled on twelve seeds (bazaar 5, 18, 19, 23, 29, 31;
 *   reference 7, 13, 17, 21, 29, 31), where the spread floor it replaced
 *   missed 7 of 24 relabelled cards (this test then played seeds 17 and 18
 *   and allowed one miss on 18); seed 37 was not among them.
 * Every price verdict must have been tried on at least 10 honest
 * (provider, model) prices with peers, so that "no false positive" is not
 * "no verdict".
 * docs/VOLUME.md has the figures of each seed.
 */
#include <math.h>
#include <time.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
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
#include <libxml/HTMLparser.h>
#include <libxml/xpath.h>

#include "../support/runcmd.h"
#include "../support/testutil.h"

static char out_dir[512], root[4096];

static void run(const char *cmd)
{
    int st = system(cmd);
    if (st == -1 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
        fail_msg("failed: %s", cmd);
}

/* The binary under test into bin[4400]. */
static void bin_path(char *bin)
{
    if (getenv("GPULEDGER_BIN"))
        snprintf(bin, 4400, "%s", getenv("GPULEDGER_BIN"));
    else
        snprintf(bin, 4400, "%s/build/%s/gpuledger", root,
                 getenv("GPULEDGER_FLAVOR") ? getenv("GPULEDGER_FLAVOR") : "release");
}

/* `gpuledger SUB --db store --format json` into OUT (a file in out_dir), parsed. */
static json_t *cmd_json(const char *sub, const char *out)
{
    char cmd[8192], path[700], bin[4400];
    bin_path(bin);
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

/* Whether `addrs` (a JSON array of addresses) holds `a`. */
static bool holds(json_t *addrs, const char *a)
{
    size_t k;
    json_t *x;
    json_array_foreach(addrs, k, x)
        if (!strcasecmp(json_string_value(x), a))
            return true;
    return false;
}

/* The sweeping provider (truth `provider_sweeps` entry) one of whose
 * wallets or collector `addrs` holds, or NULL. */
static json_t *sweeper_in(json_t *truth, json_t *addrs)
{
    size_t i, k;
    json_t *s, *w;
    json_array_foreach(json_object_get(truth, "provider_sweeps"), i, s) {
        if (holds(addrs, json_string_value(json_object_get(s, "collector"))))
            return s;
        json_array_foreach(json_object_get(s, "wallets"), k, w)
            if (holds(addrs, json_string_value(w)))
                return s;
    }
    return NULL;
}

/* The truth's payment at (tx, log_index), NULL when it has none. */
static json_t *truth_payment(json_t *by_pos, json_t *ev)
{
    char k[100];
    snprintf(k, sizeof k, "%s:%lld", json_string_value(json_object_get(ev, "tx")),
             (long long)json_integer_value(json_object_get(ev, "log_index")));
    return json_object_get(by_pos, k);
}

/* A finding's evidence held to the truth: every lease named is a payment
 * of the truth to one of the record's addresses; an oversold record's
 * leases held at once carry the truth's GPU counts and add up to its
 * figure; a price's leases carry the truth's price per GPU-hour (amount /
 * GPU-hours in the token's decimals).  Returns the leases checked. */
static size_t check_evidence(json_t *r, json_t *addrs, json_t *by_pos, json_t *tokens, json_t *usd)
{
    size_t n = 0, k;
    json_t *ev;
    json_t *ov = json_object_get(r, "oversold_evidence");
    assert_true(json_is_true(json_object_get(r, "oversold")) == (ov != NULL));
    if (ov) {
        json_int_t sum = 0;
        json_array_foreach(json_object_get(ov, "held_at_max"), k, ev) {
            json_t *p = truth_payment(by_pos, ev);
            assert_non_null(p);
            assert_true(holds(addrs, json_string_value(json_object_get(p, "provider"))));
            assert_int_equal(json_integer_value(json_object_get(ev, "gpus")),
                             json_integer_value(json_object_get(p, "gpu_count")));
            sum += json_integer_value(json_object_get(ev, "gpus"));
            n++;
        }
        assert_int_equal(sum, json_integer_value(json_object_get(r, "max_gpus_leased_at_once")));
        assert_true(json_array_size(json_object_get(ov, "offers")) > 0);
    }
    size_t m;
    json_t *pr;
    json_array_foreach(json_object_get(r, "prices"), m, pr) {
        json_t *pe = json_object_get(pr, "evidence");
        if (!pe)
            continue;
        assert_int_equal(json_array_size(pe), json_integer_value(json_object_get(pr, "leases")));
        json_array_foreach(pe, k, ev) {
            json_t *p = truth_payment(by_pos, ev);
            assert_non_null(p);
            assert_true(holds(addrs, json_string_value(json_object_get(p, "provider"))));
            int dec = (int)json_integer_value(
                json_object_get(json_object_get(tokens, json_string_value(json_object_get(p, "token"))), "decimals"));
            double want = strtod(json_string_value(json_object_get(p, "amount")), NULL) / pow(10, dec) * 1000.0 /
                          (double)json_integer_value(json_object_get(p, "gpu_mhours"));
            if (!strcmp(json_string_value(json_object_get(pr, "token")), "USD")) /* in USD at the table's price */
                want *= json_real_value(json_object_get(usd, json_string_value(json_object_get(p, "token"))));
            assert_float_equal(json_real_value(json_object_get(ev, "price_per_gpu_hour")), want, want * 1e-9);
            n++;
        }
    }
    return n;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(const char *const *)a, *(const char *const *)b); }

/* The strings of `list` sorted and joined by spaces into out (consumes list). */
static void join_sorted(json_t *list, char *out, size_t cap)
{
    size_t n = json_array_size(list);
    const char **v = calloc(n + 1, sizeof *v);
    assert_non_null(v);
    for (size_t i = 0; i < n; i++)
        v[i] = json_string_value(json_array_get(list, i));
    qsort(v, n, sizeof *v, cmp_str);
    out[0] = 0;
    for (size_t i = 0; i < n; i++) {
        assert_true(strlen(out) + strlen(v[i]) + 2 < cap);
        strcat(out, v[i]);
        strcat(out, " ");
    }
    free(v);
    json_decref(list);
}

/* The tx hashes (data-tx) under `node`, sorted and joined, into out. */
static void row_txs(xmlXPathContextPtr xc, xmlNodePtr node, char *out, size_t cap)
{
    xmlXPathObjectPtr o = xmlXPathNodeEval(node, BAD_CAST ".//*[@data-tx]", xc);
    assert_non_null(o);
    json_t *list = json_array();
    for (int i = 0; o->nodesetval && i < o->nodesetval->nodeNr; i++) {
        xmlChar *tx = xmlGetProp(o->nodesetval->nodeTab[i], BAD_CAST "data-tx");
        json_array_append_new(list, json_string((const char *)tx));
        xmlFree(tx);
    }
    xmlXPathFreeObject(o);
    join_sorted(list, out, cap);
}

/* The same for two lists of evidence objects (their "tx"; either may be NULL). */
static void json_txs(json_t *lists[2], char *out, size_t cap)
{
    json_t *all = json_array();
    for (int l = 0; l < 2; l++) {
        size_t i;
        json_t *e;
        json_array_foreach(lists[l], i, e) json_array_append(all, json_object_get(e, "tx"));
    }
    join_sorted(all, out, cap);
}

/* `gpuledger report`'s "Providers' claims" table against the providers
 * command's own output (prov, held to the truth above): one row per
 * finding, named by its provider and finding, listing exactly the
 * finding's evidence transactions, linked to the explorer. */
static void check_report(json_t *prov)
{
    char bin[4400], cmd[9000], page[700];
    bin_path(bin);
    snprintf(cmd, sizeof cmd, "'%s' report --db '%s/store' --out '%s/report' --explorer 31337=https://x.example > /dev/null 2>&1",
             bin, out_dir, out_dir);
    run(cmd);
    snprintf(page, sizeof page, "%s/report/report.html", out_dir);
    htmlDocPtr d = htmlReadFile(page, "UTF-8", HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING | HTML_PARSE_NONET);
    assert_non_null(d);
    xmlXPathContextPtr xc = xmlXPathNewContext(d);
    xmlXPathObjectPtr rows = xmlXPathEvalExpression(BAD_CAST "//table[@id='providers-table']/tbody/tr", xc);
    assert_non_null(rows);
    size_t nrows = rows->nodesetval ? (size_t)rows->nodesetval->nodeNr : 0, want = 0, i;
    json_t *r;
    json_array_foreach(prov, i, r) {
        char who[64];
        json_t *ent = json_object_get(r, "entity");
        if (json_is_integer(ent))
            snprintf(who, sizeof who, "entity %lld", (long long)json_integer_value(ent));
        else
            snprintf(who, sizeof who, "%s", json_string_value(json_object_get(r, "wallet")));
        json_t *ov = json_object_get(r, "oversold_evidence");
        json_t *finds[8][2];
        const char *names[8];
        size_t nf = 0, m;
        if (ov) {
            finds[nf][0] = json_object_get(ov, "offers");
            finds[nf][1] = json_object_get(ov, "held_at_max");
            names[nf++] = "oversold";
        }
        json_t *pr;
        json_array_foreach(json_object_get(r, "prices"), m, pr) if (json_object_get(pr, "evidence") && nf < 8) {
            finds[nf][0] = json_object_get(pr, "evidence");
            finds[nf][1] = NULL;
            names[nf++] = "priced below model";
        }
        for (size_t f = 0; f < nf; f++) {
            want++;
            char expect[20000], got[20000];
            json_txs(finds[f], expect, sizeof expect);
            bool found = false;
            for (size_t k = 0; k < nrows && !found; k++) {
                xmlNodePtr row = rows->nodesetval->nodeTab[k];
                xmlXPathObjectPtr c = xmlXPathNodeEval(row, BAD_CAST "td", xc);
                assert_true(c->nodesetval && c->nodesetval->nodeNr == 4);
                xmlChar *prov_t = xmlNodeGetContent(c->nodesetval->nodeTab[0]);
                xmlChar *fin_t = xmlNodeGetContent(c->nodesetval->nodeTab[1]);
                if (!strcmp((const char *)prov_t, who) && !strcmp((const char *)fin_t, names[f])) {
                    row_txs(xc, c->nodesetval->nodeTab[3], got, sizeof got);
                    found = !strcmp(got, expect);
                }
                xmlFree(prov_t);
                xmlFree(fin_t);
                xmlXPathFreeObject(c);
            }
            if (!found)
                fail_msg("report: no row for %s %s with transactions %s", who, names[f], expect);
        }
    }
    /* every link goes to the explorer's tx page */
    xmlXPathObjectPtr links = xmlXPathEvalExpression(
        BAD_CAST "//table[@id='providers-table']//a[@data-tx][not(starts-with(@href,'https://x.example/tx/0x'))]", xc);
    assert_int_equal(links->nodesetval ? links->nodesetval->nodeNr : 0, 0);
    xmlXPathFreeObject(links);
    fprintf(stderr, "  report: %zu providers' finding rows, each with the command's evidence\n", nrows);
    assert_int_equal(nrows, want);
    assert_true(want > 0);
    xmlXPathFreeObject(rows);
    xmlXPathFreeContext(xc);
    xmlFreeDoc(d);
}

/* Holds one `providers` output (prov) to the truth: findings, sweeps and
 * the findings' evidence.  usd: the price table the output was made with
 * (token symbol -> USD), NULL without one.  label names the run. */
static void judge(json_t *prov, json_t *truth, json_t *addrs_of, json_t *by_pos, json_t *usd, bool prices,
                  const char *label)
{
    json_t *frauds = json_object_get(truth, "provider_frauds"), *sweeps = json_object_get(truth, "provider_sweeps");
    size_t nfraud = json_array_size(frauds), nsweep = json_array_size(sweeps), i;
    size_t evidence_checked = 0;
    json_t *caught = json_object(); /* truth entity -> true */
    json_t *judged = json_object(); /* truth entity of a relabelled provider -> lowest ratio to its peers */
    json_t *swept = json_object();  /* truth entity of a sweeper -> true: reported with its collector */
    size_t false_pos = 0, price_fp = 0, sweep_fp = 0, records = 0, honest_checked = 0, honest_priced = 0;
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
                if (f == 1 && ty && !strcmp(ty, "relabelled")) {
                    size_t m;
                    json_t *pr;
                    json_array_foreach(json_object_get(r, "prices"), m, pr) {
                        json_t *ra = json_object_get(pr, "ratio"), *was = json_object_get(judged, ent);
                        if (json_is_number(ra) && (!was || json_number_value(ra) < json_real_value(was)))
                            json_object_set_new(judged, ent, json_real(json_number_value(ra)));
                    }
                }
            }
            if (flagged && !right) {
                if (f == 1 && !prices) {
                    price_fp++;
                    continue;
                }
                false_pos++;
                fprintf(stderr, "false positive: entity %lld flagged %s, holds %s\n",
                        (long long)json_integer_value(json_object_get(r, "entity")), finding[f],
                        json_string_value(json_array_get(addrs, 0)));
            }
        }
        evidence_checked += check_evidence(r, addrs, by_pos, json_object_get(truth, "tokens"), usd);
        /* sweeps: the sweeper's wallets and collector in this one record,
         * and a sweep link naming the collector */
        json_t *sl = json_object_get(r, "sweep_links"), *sw = sweeper_in(truth, addrs);
        if (sw) {
            const char *coll = json_string_value(json_object_get(sw, "collector"));
            bool all = holds(addrs, coll), named = false;
            size_t k;
            json_t *x;
            json_array_foreach(json_object_get(sw, "wallets"), k, x) {
                if (!holds(addrs, json_string_value(x))) {
                    fprintf(stderr, "  sweeper %s: payout wallet %s not in its record\n",
                            json_string_value(json_object_get(sw, "entity")), json_string_value(x));
                    all = false;
                }
            }
            json_array_foreach(sl, k, x)
                named |= !strcasecmp(json_string_value(json_object_get(x, "a")), coll) ||
                         !strcasecmp(json_string_value(json_object_get(x, "b")), coll);
            if (all && named)
                json_object_set_new(swept, json_string_value(json_object_get(sw, "entity")), json_true());
        } else if (json_array_size(sl)) {
            sweep_fp++;
            fprintf(stderr, "false positive: entity %lld has %zu sweep links, holds %s\n",
                    (long long)json_integer_value(json_object_get(r, "entity")), json_array_size(sl),
                    json_string_value(json_array_get(addrs, 0)));
        }
        honest_checked += !any_fraud && json_integer_value(json_object_get(r, "offers")) > 0;
        size_t k;
        json_t *pr;
        json_array_foreach(json_object_get(r, "prices"), k, pr) {
            if (any_fraud || json_is_null(json_object_get(pr, "ratio")))
                continue;
            honest_priced++;
            if (json_real_value(json_object_get(pr, "ratio")) < 0.7) /* the closest honest calls, for the record */
                fprintf(stderr, "  honest entity %lld %s ratio %.3f, step above %.3f (flagged under 0.6 with a step of %.3f)\n",
                        (long long)json_integer_value(json_object_get(r, "entity")),
                        json_string_value(json_object_get(pr, "model")),
                        json_real_value(json_object_get(pr, "ratio")),
                        json_real_value(json_object_get(pr, "gap_above")),
                        json_real_value(json_object_get(pr, "gap_min")));
        }
        json_decref(one);
    }
    size_t ncaught = 0, nswept = 0;
    json_t *f;
    json_array_foreach(frauds, i, f) {
        const char *ent = json_string_value(json_object_get(f, "entity"));
        bool got = json_is_true(json_object_get(caught, ent));
        json_t *low = json_object_get(judged, ent);
        ncaught += got;
        fprintf(stderr, "  %-14s %-10s %s", ent, json_string_value(json_object_get(f, "typology")),
                got ? "caught" : "MISSED");
        if (low)
            fprintf(stderr, " (ratio %.3f)", json_real_value(low));
        fputc('\n', stderr);
    }
    json_array_foreach(sweeps, i, f) {
        const char *ent = json_string_value(json_object_get(f, "entity"));
        bool got = json_is_true(json_object_get(swept, ent));
        nswept += got;
        fprintf(stderr, "  %-14s sweeping   %s\n", ent, got ? "reported with its collector" : "MISSED");
    }
    fprintf(stderr,
            "providers %s: %zu of %zu frauds caught, %zu false positives over %zu records (%zu honest with "
            "offers, %zu honest prices with peers); %zu of %zu sweepers reported, %zu records with sweep links and no "
            "sweeper; %zu price verdicts on honest records (not asserted)\n",
            label, ncaught, nfraud, false_pos, records, honest_checked, honest_priced, nswept, nsweep,
            sweep_fp, price_fp);
    fprintf(stderr, "  %zu leases of the findings' evidence matched the truth's payments\n", evidence_checked);
    assert_true(evidence_checked >= nfraud); /* every finding named its leases */
    assert_true(honest_checked >= 10); /* the honest side was really tried */
    assert_true(!prices || honest_priced >= 10);
    assert_int_equal(ncaught, nfraud);
    assert_int_equal(false_pos, 0);
    assert_int_equal(nswept, nsweep);
    assert_int_equal(sweep_fp, 0);

    json_decref(swept);
    json_decref(judged);
    json_decref(caught);
}

/* Plays SCENARIO with SEED and holds `providers` to its truth; `prices`
 * says whether the price finding is asserted too; at least `min_frauds`
 * frauds and `min_sweeps` sweeping providers are expected. */
static void check_scenario(const char *scenario, int seed, bool prices, size_t min_frauds, size_t min_sweeps,
                           bool usd_too)
{
    assert_non_null(gl_test_root(root, sizeof root));
    snprintf(out_dir, sizeof out_dir, "/tmp/gpuledger-test-providers-%d-%d", (int)getpid(), seed);
    char cmd[12288], path[600];
    snprintf(cmd, sizeof cmd, "bash '%s/scripts/sim-eval.sh' '%s/fixtures/scenarios/%s' %d '%s' > '%s.log' 2>&1", root,
             root, scenario, seed, out_dir, out_dir);
    run(cmd);
    snprintf(path, sizeof path, "%s/truth.json", out_dir);
    json_error_t je;
    json_t *truth = json_load_file(path, 0, &je);
    assert_non_null(truth);
    assert_true(json_array_size(json_object_get(truth, "provider_frauds")) >= min_frauds);
    assert_true(json_array_size(json_object_get(truth, "provider_sweeps")) >= min_sweeps);
    char label[300];
    snprintf(label, sizeof label, "%s seed %d", scenario, seed);

    json_t *by_pos = json_object(); /* "tx:log_index" -> the truth's payment */
    {
        size_t k;
        json_t *p;
        json_array_foreach(json_object_get(truth, "payments"), k, p) {
            char key[100];
            snprintf(key, sizeof key, "%s:%lld", json_string_value(json_object_get(p, "tx")),
                     (long long)json_integer_value(json_object_get(p, "log_index")));
            json_object_set(by_pos, key, p);
        }
    }
    json_t *prov = cmd_json("providers", "providers.json");
    json_t *ents = cmd_json("entities", "entities.json");
    json_t *addrs_of = json_object(); /* entity id -> addresses */
    size_t i;
    json_t *e;
    json_array_foreach(ents, i, e) {
        char k[24];
        snprintf(k, sizeof k, "%lld", (long long)json_integer_value(json_object_get(e, "id")));
        json_t *ea = json_object_get(e, "addresses");
        json_object_set(addrs_of, k, ea);
    }

    judge(prov, truth, addrs_of, by_pos, NULL, prices, label);
    check_report(prov);
    if (usd_too) {
        /* the same store, prices compared in USD across tokens: the
         * simulator's prices (its ETH is 3000 USD, its USDC 1) every day */
        json_t *usd = json_pack("{s:f,s:f}", "ETH", 3000.0, "USDC", 1.0);
        char pf[700], line[100];
        snprintf(pf, sizeof pf, "%s/prices.csv", out_dir);
        FILE *fp = fopen(pf, "w");
        assert_non_null(fp);
        fputs("date,token,usd\n", fp);
        json_t *sc = json_object_get(truth, "scenario");
        struct tm tm = {0};
        assert_non_null(strptime(json_string_value(json_object_get(sc, "start")), "%Y-%m-%dT%H:%M:%SZ", &tm));
        time_t t0 = timegm(&tm);
        for (json_int_t d = 0; d <= json_integer_value(json_object_get(sc, "days")); d++) {
            time_t t = t0 + (time_t)d * 86400;
            struct tm u;
            gmtime_r(&t, &u);
            strftime(line, sizeof line, "%Y-%m-%d", &u);
            fprintf(fp, "%s,ETH,3000\n%s,USDC,1\n", line, line);
        }
        fclose(fp);
        char sub[800];
        snprintf(sub, sizeof sub, "providers --prices '%s'", pf);
        json_t *pu = cmd_json(sub, "providers-usd.json");
        size_t k, in_usd = 0;
        json_t *r, *pr;
        json_array_foreach(pu, k, r) {
            size_t m;
            json_array_foreach(json_object_get(r, "prices"), m, pr)
                in_usd += !strcmp(json_string_value(json_object_get(pr, "token")), "USD");
        }
        fprintf(stderr, "  with --prices: %zu (provider, model) prices compared in USD\n", in_usd);
        assert_true(in_usd >= 10);
        char l2[320];
        snprintf(l2, sizeof l2, "%s in USD", label);
        judge(pu, truth, addrs_of, by_pos, usd, prices, l2);
        json_decref(pu);
        /* a broken price file: exit 2 naming the file and line, no output */
        snprintf(pf, sizeof pf, "%s/bad-prices.csv", out_dir);
        fp = fopen(pf, "w");
        assert_non_null(fp);
        fputs("date,token,usd\n2024-03-04,ETH,3000\n2024-03-05,ETH,three thousand\n", fp);
        fclose(fp);
        char bin[4400], bad[9000];
        bin_path(bin);
        snprintf(bad, sizeof bad, "'%s' providers --db '%s/store' --prices '%s' 2>&1", bin, out_dir, pf);
        int st;
        char *said = gl_test_run_cmd(bad, &st);
        assert_non_null(said);
        fprintf(stderr, "  a broken price file: exit %d, %s", st, said);
        assert_int_equal(st, 2);
        assert_non_null(strstr(said, "bad-prices.csv:3:")); /* file and line */
        assert_null(strstr(said, "\"entity\""));
        free(said);
        json_decref(usd);
    }
    json_decref(by_pos);
    json_decref(addrs_of);
    json_decref(ents);
    json_decref(prov);
    json_decref(truth);
    snprintf(cmd, sizeof cmd, "rm -rf '%s' '%s.log'", out_dir, out_dir);
    if (system(cmd) == -1)
        fprintf(stderr, "could not remove %s\n", out_dir);
}

/* GpuMarket: 2 relabelled, 3 oversold, 3 sweeping providers. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define UNDER_SANITIZER 1
#else
#define UNDER_SANITIZER 0
#endif

static void test_providers_reference_market(void **state)
{
    (void)state;
    check_scenario("eval-providers.json", 37, true, 4, 3, !UNDER_SANITIZER);
}

/* The bazaar: honest hosts held to their units, 2 relabelled, 2 oversold
 * and 3 sweeping hosts; no honest host flagged, every sweeper with its
 * collector with all its payout wallets, every relabelled host caught. */
static void test_providers_bazaar(void **state)
{
    (void)state;
    /* Under the sanitizers the reference market proves the code paths;
     * the bazaar's figures are the release build's (CI time). */
    if (UNDER_SANITIZER)
        skip();
    check_scenario("eval-bazaar-providers.json", 37, true, 4, 3, false);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_providers_reference_market),
                                       cmocka_unit_test(test_providers_bazaar)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
