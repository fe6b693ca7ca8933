/* test_report.c - `gpuledger report` opened in a real browser.
 *
 * The store: scripts/sim-eval.sh on fixtures/scenarios/small.json, seed 1
 * (a fresh anvil, every market indexed, the trail expanded, analysed).  The
 * page is rendered by headless Chromium (Debian's `chromium`, installed by
 * scripts/setup.sh; $GPULEDGER_CHROMIUM overrides) with --dump-dom, so what
 * is checked is the DOM after the page's own script ran, parsed with
 * libxml2's HTML parser.
 *
 * Oracles: what the CLI prints for the same store, never the report's own
 * code: `gpuledger flags --format json` (every flagged wallet's row: score,
 * typology, beneficiary, each evidence position and its explorer link),
 * `volume --by platform,day` and `--by model --format json` (every volume
 * row's gross, self-dealing, circular and net; prices per GPU-hour),
 * `concentration` (the most GPUs each entity held at once), `entities
 * --format json` (kind and size), `trace --direction both --hops 2` (the
 * wallets in each fund-flow picture), `db stats --json` (findings), and
 * the parameters' defaults (gl_analysis_params_json).  The filter is checked
 * through the URL: report.html#filter=typology:split_order shows exactly the
 * flags of that typology, #filter=sponsor exactly the rows that say sponsor.
 * A screenshot is taken once (--screenshot, 1400x2000) and must be a PNG.
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
#include <libxml/HTMLparser.h>
#include <libxml/xpath.h>

#include "../support/testutil.h"
#include "gpuledger/analysis.h"
#include "gpuledger/report.h"

#define EXPLORER "https://explorer.example"
#define CHAIN 31337

static char root[4096], out[512], bin[4600], chromium[1024];

static void run(const char *cmd)
{
    int st = system(cmd);
    if (st == -1 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
        fail_msg("command failed: %s", cmd);
}

/* The CLI's stdout as JSON. */
static json_t *cli_json(const char *args)
{
    char cmd[8192], path[700];
    snprintf(path, sizeof path, "%s/cli.json", out);
    snprintf(cmd, sizeof cmd, "'%s' %s > '%s' 2>/dev/null", bin, args, path);
    run(cmd);
    json_error_t je;
    json_t *j = json_load_file(path, 0, &je);
    if (!j)
        fail_msg("gpuledger %s: not JSON: %s", args, je.text);
    return j;
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    assert_non_null(b);
    assert_int_equal(fread(b, 1, (size_t)n, f), (size_t)n);
    b[n] = 0;
    fclose(f);
    return b;
}

/* Render report.html + fragment in Chromium; the DOM after its script. */
static htmlDocPtr render(const char *fragment)
{
    char cmd[8192], dom[700];
    snprintf(dom, sizeof dom, "%s/dom.html", out);
    snprintf(cmd, sizeof cmd,
             "timeout 120 '%s' --headless --no-sandbox --disable-gpu --no-first-run --disable-background-networking "
             "--user-data-dir='%s/chrome' --dump-dom 'file://%s/rep/report.html%s' > '%s' 2>'%s/chrome.log'",
             chromium, out, out, fragment, dom, out);
    run(cmd);
    char *txt = slurp(dom);
    htmlDocPtr d = htmlReadMemory(txt, (int)strlen(txt), "report.html", "utf-8",
                                  HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING | HTML_PARSE_NONET);
    free(txt);
    assert_non_null(d);
    return d;
}

static xmlNodeSetPtr q(htmlDocPtr d, xmlXPathObjectPtr *keep, const char *xp)
{
    xmlXPathContextPtr c = xmlXPathNewContext(d);
    *keep = xmlXPathEvalExpression((const xmlChar *)xp, c);
    xmlXPathFreeContext(c);
    assert_non_null(*keep);
    return (*keep)->nodesetval;
}

static size_t count(htmlDocPtr d, const char *xp)
{
    xmlXPathObjectPtr o;
    xmlNodeSetPtr s = q(d, &o, xp);
    size_t n = s ? (size_t)s->nodeNr : 0;
    xmlXPathFreeObject(o);
    return n;
}

/* The text of the first node matching xp ("" when none); caller frees. */
static char *text(htmlDocPtr d, const char *xp)
{
    xmlXPathObjectPtr o;
    xmlNodeSetPtr s = q(d, &o, xp);
    char *r = NULL;
    if (s && s->nodeNr) {
        xmlChar *t = xmlNodeGetContent(s->nodeTab[0]);
        r = strdup((const char *)t);
        xmlFree(t);
    }
    xmlXPathFreeObject(o);
    return r ? r : strdup("");
}

static void expect_text(htmlDocPtr d, const char *xp, const char *want)
{
    char *t = text(d, xp);
    if (strcmp(t, want))
        fail_msg("%s: '%s', the CLI says '%s'", xp, t, want);
    free(t);
}

static int setup(void **state)
{
    (void)state;
    assert_non_null(gl_test_root(root, sizeof root));
    const char *b = getenv("GPULEDGER_BIN");
    snprintf(bin, sizeof bin, "%s", b ? b : "");
    if (!b)
        snprintf(bin, sizeof bin, "%s/build/release/gpuledger", root);
    const char *c = getenv("GPULEDGER_CHROMIUM");
    snprintf(chromium, sizeof chromium, "%s", c ? c : "chromium");
    snprintf(out, sizeof out, "/tmp/gpuledger-test-report-%d", (int)getpid());
    char cmd[12288];
    snprintf(cmd, sizeof cmd, "bash '%s/scripts/sim-eval.sh' '%s/fixtures/scenarios/small.json' 1 '%s' > '%s.log' 2>&1",
             root, root, out, out);
    run(cmd);
    snprintf(cmd, sizeof cmd, "'%s' report --db '%s/store' --out '%s/rep' --explorer %d=%s/ > '%s/report.path' 2>&1",
             bin, out, out, CHAIN, EXPLORER, out);
    run(cmd);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[1200];
    if (!getenv("GPULEDGER_KEEP")) {
        snprintf(cmd, sizeof cmd, "rm -rf '%s' '%s.log'", out, out);
        if (system(cmd) == -1)
            fprintf(stderr, "could not remove %s\n", out);
    }
    return 0;
}

/* ----------------------------------------------------------- the flags */

/* "chain:block:tx_hash:log|txN", as `flags --format csv` lists evidence. */
static json_t *evidence_keys(json_t *f)
{
    json_t *keys = json_object();
    json_t *sigs = json_object_get(f, "signals");
    for (size_t i = 0; i < json_array_size(sigs); i++) {
        json_t *ev = json_object_get(json_array_get(sigs, i), "evidence");
        for (size_t j = 0; j < json_array_size(ev); j++) {
            json_t *p = json_array_get(ev, j), *li = json_object_get(p, "log_index");
            const char *h = json_string_value(json_object_get(p, "tx_hash"));
            char k[200];
            snprintf(k, sizeof k, "%lld:%lld:%s:%s%lld", (long long)json_integer_value(json_object_get(p, "chain_id")),
                     (long long)json_integer_value(json_object_get(p, "block")), h ? h : "", json_is_integer(li) ? "log" : "tx",
                     (long long)json_integer_value(json_is_integer(li) ? li : json_object_get(p, "tx_index")));
            json_object_set_new(keys, k, json_string(h ? h : ""));
        }
    }
    return keys;
}

static void check_flags(htmlDocPtr d, json_t *flags)
{
    char xp[512], want[64];
    assert_true(json_array_size(flags) > 0);
    assert_int_equal(count(d, "//table[@id='flags-table']/tbody/tr"), json_array_size(flags));
    snprintf(want, sizeof want, "%zu of %zu shown", json_array_size(flags), json_array_size(flags));
    expect_text(d, "//span[@id='flags-count']", want);
    for (size_t i = 0; i < json_array_size(flags); i++) {
        json_t *f = json_array_get(flags, i);
        const char *a = json_string_value(json_object_get(f, "address"));
        snprintf(xp, sizeof xp, "//tr[@id='flag-%s']/td[contains(@class,'c-score')]", a);
        snprintf(want, sizeof want, "%.4f", json_real_value(json_object_get(f, "score")));
        expect_text(d, xp, want);
        snprintf(xp, sizeof xp, "//tr[@id='flag-%s']/td[contains(@class,'c-typ')]", a);
        expect_text(d, xp, json_string_value(json_object_get(f, "typology")));
        snprintf(xp, sizeof xp, "//tr[@id='flag-%s']/td[contains(@class,'c-entity')]", a);
        snprintf(want, sizeof want, "%lld", (long long)json_integer_value(json_object_get(f, "entity")));
        expect_text(d, xp, want);
        const char *ben = json_string_value(json_object_get(f, "beneficiary"));
        snprintf(xp, sizeof xp, "//tr[@id='flag-%s']/td[contains(@class,'c-ben')]", a);
        char *t = text(d, xp);
        assert_true(!strncmp(t, ben ? ben : "(not inferable)", strlen(ben ? ben : "(not inferable)")));
        free(t);
        /* evidence: the same positions, each a link to the explorer */
        json_t *keys = evidence_keys(f);
        snprintf(xp, sizeof xp, "//tr[@id='flag-%s']/td[contains(@class,'c-ev')]/*[@data-pos]", a);
        assert_int_equal(count(d, xp), json_object_size(keys));
        const char *k;
        json_t *h;
        json_object_foreach(keys, k, h) {
            char href[300];
            snprintf(href, sizeof href, "%s/tx/%s", EXPLORER, json_string_value(h));
            snprintf(xp, sizeof xp, "//tr[@id='flag-%s']//a[@data-pos='%s' and @href='%s']", a, k, href);
            if (count(d, xp) != 1)
                fail_msg("flag %s: no link %s for position %s", a, href, k);
        }
        json_decref(keys);
    }
}

/* --------------------------------------------------------- the market */

static void check_volume(htmlDocPtr d, json_t *vol)
{
    json_t *rows = json_object_get(vol, "rows");
    assert_true(json_array_size(rows) > 0);
    assert_int_equal(count(d, "//table[@id='volume-table']/tbody/tr"), json_array_size(rows));
    static const char *const col[][2] = {{"platform", "c-platform"}, {"period", "c-period"}, {"token", "c-token"},
                                         {"gross", "c-gross"},       {"self_dealing", "c-self"}, {"circular", "c-circular"},
                                         {"net", "c-net"},           {"gpu_hours", "c-gpuh"}};
    for (size_t i = 0; i < json_array_size(rows); i++)
        for (size_t c = 0; c < sizeof col / sizeof col[0]; c++) {
            char xp[256];
            snprintf(xp, sizeof xp, "//table[@id='volume-table']/tbody/tr[%zu]/td[contains(@class,'%s')]", i + 1, col[c][1]);
            expect_text(d, xp, json_string_value(json_object_get(json_array_get(rows, i), col[c][0])));
        }
    /* one chart per token, a gross and a net line per platform */
    assert_true(count(d, "//*[local-name()='svg' and starts-with(@id,'volume-chart-')]") >= 1);
    assert_int_equal(count(d, "//p[@id='volume-na']"), 0);
}

static void check_prices(htmlDocPtr d, json_t *vol)
{
    json_t *rows = json_object_get(vol, "rows");
    size_t k = 0;
    for (size_t i = 0; i < json_array_size(rows); i++) {
        json_t *r = json_array_get(rows, i), *med = json_object_get(r, "price_per_gpu_hour_median");
        if (!json_is_string(med))
            continue;
        k++;
        char xp[256];
        snprintf(xp, sizeof xp, "//table[@id='prices-table']/tbody/tr[%zu]/td[contains(@class,'c-model')]", k);
        expect_text(d, xp, json_string_value(json_object_get(r, "model")));
        static const char *const pk[] = {"price_per_gpu_hour_p10", "price_per_gpu_hour_median", "price_per_gpu_hour_p90"};
        static const char *const pc[] = {"c-p10", "c-p50", "c-p90"};
        for (int p = 0; p < 3; p++) {
            snprintf(xp, sizeof xp, "//table[@id='prices-table']/tbody/tr[%zu]/td[contains(@class,'%s')]", k, pc[p]);
            expect_text(d, xp, json_string_value(json_object_get(r, pk[p])));
        }
    }
    assert_true(k > 0);
    assert_int_equal(count(d, "//table[@id='prices-table']/tbody/tr"), k);
}

static void check_concentration(htmlDocPtr d)
{
    char path[700];
    snprintf(path, sizeof path, "%s/conc.csv", out);
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "'%s' concentration --db '%s/store' > '%s' 2>/dev/null", bin, out, path);
    run(cmd);
    /* the most GPUs at once per (entity, class) */
    json_t *max = json_object();
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char line[512];
    assert_non_null(fgets(line, sizeof line, f)); /* header */
    while (fgets(line, sizeof line, f)) {
        char ent[64], cls[128];
        unsigned long long t, g;
        assert_int_equal(sscanf(line, "%llu,%63[^,],%127[^,],%llu", &t, ent, cls, &g), 4);
        char k[200];
        snprintf(k, sizeof k, "%s|%s", ent, cls);
        json_t *v = json_object_get(max, k);
        if (!v || (unsigned long long)json_integer_value(v) < g)
            json_object_set_new(max, k, json_integer((json_int_t)g));
    }
    fclose(f);
    assert_true(json_object_size(max) > 0);
    assert_int_equal(count(d, "//table[@id='conc-table']/tbody/tr"), json_object_size(max));
    const char *k;
    json_t *v;
    json_object_foreach(max, k, v) {
        char ent[64], cls[128], xp[512], want[32];
        sscanf(k, "%63[^|]|%127s", ent, cls);
        snprintf(xp, sizeof xp,
                 "//table[@id='conc-table']/tbody/tr[td[contains(@class,'c-entity')]='%s' and "
                 "td[contains(@class,'c-class')]='%s']/td[contains(@class,'c-max')]",
                 ent, cls);
        snprintf(want, sizeof want, "%lld", (long long)json_integer_value(v));
        expect_text(d, xp, want);
    }
    json_decref(max);
    assert_int_equal(count(d, "//*[local-name()='svg' and @id='concentration-chart']"), 1);
}

/* ------------------------------------------------------- the page */

static void test_report_in_chromium(void **state)
{
    (void)state;
    char args[2400];
    htmlDocPtr d = render("");
    expect_text(d, "//body/@data-ready", "1");

    snprintf(args, sizeof args, "flags --db '%s/store' --format json", out);
    json_t *flags = cli_json(args);
    check_flags(d, flags);

    snprintf(args, sizeof args, "volume --db '%s/store' --by platform,day --format json", out);
    json_t *vol = cli_json(args);
    check_volume(d, vol);
    snprintf(args, sizeof args, "volume --db '%s/store' --by model --format json", out);
    json_t *vm = cli_json(args);
    check_prices(d, vm);
    check_concentration(d);

    /* entities: kind and size as `entities` prints them; purchases sum to
     * the volume rows' (every buying entity is listed at this size) */
    snprintf(args, sizeof args, "entities --db '%s/store' --format json", out);
    json_t *ents = cli_json(args);
    size_t rows = count(d, "//table[@id='entities-table']/tbody/tr");
    assert_true(rows > 0 && rows < GL_REPORT_TOP_ENTITIES_DEFAULT);
    long long purchases = 0, leases = 0;
    for (size_t i = 0; i < json_array_size(json_object_get(vol, "rows")); i++)
        leases += json_integer_value(json_object_get(json_array_get(json_object_get(vol, "rows"), i), "leases"));
    for (size_t i = 0; i < json_array_size(ents); i++) {
        json_t *e = json_array_get(ents, i);
        char xp[256], want[32];
        long long id = json_integer_value(json_object_get(e, "id"));
        snprintf(xp, sizeof xp, "//tr[@id='entity-%lld']", id);
        if (!count(d, xp))
            continue;
        snprintf(xp, sizeof xp, "//tr[@id='entity-%lld']/td[contains(@class,'c-kind')]", id);
        expect_text(d, xp, json_string_value(json_object_get(e, "kind")));
        snprintf(xp, sizeof xp, "//tr[@id='entity-%lld']/td[contains(@class,'c-size')]", id);
        snprintf(want, sizeof want, "%lld", (long long)json_integer_value(json_object_get(e, "size")));
        expect_text(d, xp, want);
        snprintf(xp, sizeof xp, "//tr[@id='entity-%lld']/td[contains(@class,'c-purchases')]", id);
        char *t = text(d, xp);
        purchases += atoll(t);
        free(t);
    }
    assert_int_equal(purchases, leases);

    /* fund-flow pictures: the top 5 flagged by score, each the wallets
     * `trace --direction both --hops 2 --max-nodes 60` finds */
    size_t pics = json_array_size(flags) < GL_REPORT_TRACE_TOP_DEFAULT ? json_array_size(flags) : GL_REPORT_TRACE_TOP_DEFAULT;
    assert_int_equal(count(d, "//*[local-name()='svg' and contains(@class,'flow')]"), pics);
    for (size_t i = 0; i < pics; i++) {
        char xp[256];
        snprintf(xp, sizeof xp, "//*[local-name()='svg' and @id='flow-%zu']//*[@data-root]/@data-addr", i + 1);
        char *addr = text(d, xp);
        assert_int_equal(strlen(addr), 42);
        snprintf(args, sizeof args, "trace %s --db '%s/store' --direction both --hops 2 --max-nodes %d", addr, out,
                 GL_REPORT_TRACE_NODES_DEFAULT);
        json_t *tr = cli_json(args);
        snprintf(xp, sizeof xp, "//*[local-name()='svg' and @id='flow-%zu']//*[@data-addr]", i + 1);
        assert_int_equal(count(d, xp), json_array_size(json_object_get(tr, "nodes")));
        for (size_t k = 0; k < json_array_size(json_object_get(tr, "nodes")); k++) {
            json_t *n = json_array_get(json_object_get(tr, "nodes"), k);
            snprintf(xp, sizeof xp, "//*[local-name()='svg' and @id='flow-%zu']//*[@data-addr='%s']", i + 1,
                     json_string_value(json_object_get(n, "address")));
            assert_int_equal(count(d, xp), 1);
        }
        json_decref(tr);
        free(addr);
    }

    /* findings: as many as db stats counts */
    snprintf(args, sizeof args, "db stats --db '%s/store' --json", out);
    json_t *st = cli_json(args);
    char want[32];
    snprintf(want, sizeof want, "%lld", (long long)json_integer_value(json_object_get(st, "findings")));
    expect_text(d, "//span[@id='findings-total']", want);
    json_decref(st);

    /* methods: every parameter (the defaults: sim-eval analyses with them) */
    gl_analysis_params p;
    gl_analysis_params_default(&p);
    json_t *pj = gl_analysis_params_json(&p);
    const char *k;
    json_t *v;
    json_object_foreach(pj, k, v) {
        char xp[256];
        snprintf(xp, sizeof xp, "//table[@id='params-table']/tbody/tr[td[1]='%s']", k);
        if (count(d, xp) != 1)
            fail_msg("parameter %s is not in the methods table", k);
    }
    json_decref(pj);
    xmlFreeDoc(d);

    /* the filter from the URL: one typology, then free text */
    d = render("#filter=typology:split_order");
    size_t want_n = 0, want_sponsor = 0;
    for (size_t i = 0; i < json_array_size(flags); i++) {
        json_t *f = json_array_get(flags, i), *sigs = json_object_get(f, "signals");
        bool sp = strstr(json_string_value(json_object_get(f, "typology")), "sponsor") != NULL;
        want_n += !strcmp(json_string_value(json_object_get(f, "typology")), "split_order");
        for (size_t j = 0; j < json_array_size(sigs); j++)
            sp |= strstr(json_string_value(json_object_get(json_array_get(sigs, j), "signal")), "sponsor") != NULL;
        want_sponsor += sp;
    }
    assert_true(want_n > 0 && want_n < json_array_size(flags));
    assert_int_equal(count(d, "//table[@id='flags-table']/tbody/tr[not(contains(@style,'none'))]"), want_n);
    xmlFreeDoc(d);
    d = render("#filter=sponsor");
    assert_true(want_sponsor > 0);
    assert_int_equal(count(d, "//table[@id='flags-table']/tbody/tr[not(contains(@style,'none'))]"), want_sponsor);
    xmlFreeDoc(d);

    /* a screenshot */
    char cmd[8192];
    snprintf(cmd, sizeof cmd,
             "timeout 120 '%s' --headless --no-sandbox --disable-gpu --no-first-run --disable-background-networking "
             "--user-data-dir='%s/chrome' --screenshot='%s/report.png' --window-size=1400,2000 "
             "'file://%s/rep/report.html' > /dev/null 2>&1",
             chromium, out, out, out);
    run(cmd);
    snprintf(cmd, sizeof cmd, "%s/report.png", out);
    FILE *f = fopen(cmd, "rb");
    assert_non_null(f);
    unsigned char magic[8] = {0};
    assert_int_equal(fread(magic, 1, 8, f), 8);
    fseek(f, 0, SEEK_END);
    assert_true(ftell(f) > 20000);
    fclose(f);
    assert_memory_equal(magic, "\x89PNG\r\n\x1a\n", 8);

    json_decref(flags);
    json_decref(vol);
    json_decref(vm);
    json_decref(ents);
}

/* ------------------------------------------- escaping and options, no browser */

static void test_escape(void **state)
{
    (void)state;
    gl_buf b = GL_BUF_INIT;
    assert_int_equal(gl_report_escape(&b, "<script>alert('x')</script> & \"q\" \xff ok", NULL), GL_OK);
    assert_int_equal(gl_buf_append(&b, "", 1, NULL), GL_OK);
    assert_string_equal((char *)b.data,
                        "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot; ? ok");
    gl_buf_release(&b);
    gl_report_explorer e;
    assert_int_equal(gl_report_parse_explorer("42161=https://arbiscan.io", &e, NULL), GL_OK);
    assert_true(e.chain_id == 42161);
    assert_string_equal(e.base_url, "https://arbiscan.io");
    assert_int_equal(gl_report_parse_explorer("42161=javascript:alert(1)", &e, NULL), GL_EINVAL);
    assert_int_equal(gl_report_parse_explorer("x=https://a", &e, NULL), GL_EINVAL);
    assert_int_equal(gl_report_parse_explorer("1=https://a\"><b", &e, NULL), GL_EINVAL);
    assert_int_equal(gl_report_parse_explorer("https://a", &e, NULL), GL_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_escape),
        cmocka_unit_test_setup_teardown(test_report_in_chromium, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
