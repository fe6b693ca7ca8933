/* test_range_plan.c - the eth_getLogs range planner against a simulated
 * endpoint.
 *
 * The simulated endpoint holds a per-block log-count table and caps
 * requests the way real providers do, answering with their real error texts
 * (Infura's suggested hex range, Alchemy's "Log response size exceeded",
 * plain "more than N results", erigon's decimal "retry with the range",
 * span caps such as "eth_getLogs is limited to a 2,000 range").  The
 * planner sees only what a client would: the texts go through
 * gl_rpc_classify.  The driver checks, independently of the planner, that
 * every block is covered exactly once, in order, and counts requests itself.
 *
 * Benchmark (the target of the design): 200,000 logs spread evenly over
 * 4,000 blocks (50 per block) behind a 10,000-log cap.  The floor is 20
 * requests (each can hold 200 blocks); the target is at most 22 with at
 * most one refused, for every error style.  The measured counts are
 * printed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gpuledger/range_plan.h"
#include "gpuledger/rpc_errors.h"

/* ------------------------------------------------------------------ */
/* Simulated endpoint                                                   */

typedef enum count_style {
    CS_INFURA,       /* -32005 more than N results, suggested hex range */
    CS_ALCHEMY,      /* -32602 Log response size exceeded, suggested range,
                        spans up to 2,000 blocks uncapped */
    CS_MORE_THAN,    /* -32005 "query returned more than N results" */
    CS_LOGS_MATCHED, /* -32005 "logs matched by query exceeds limit of N" */
    CS_ERIGON,       /* "query exceeds max results N, retry with the range
                        A-B" (decimal) */
} count_style;

typedef enum span_style {
    SS_LIMITED_TO, /* HTTP 413, -32614 "eth_getLogs is limited to a N range" */
    SS_MAX_RANGE,  /* -32701 "exceed maximum block range: N" */
    SS_TOO_WIDE,   /* -32600 "block range is too wide" (no number) */
    SS_BARE_413,   /* HTTP 413, no JSON body */
} span_style;

typedef struct sim {
    uint64_t base;     /* block number of table[0] */
    uint64_t n;        /* blocks in the table */
    uint64_t *prefix;  /* prefix[i] = logs in table[0..i-1] */
    uint64_t log_cap;  /* 0 = no cap on logs */
    count_style cs;
    uint64_t span_cap; /* 0 = no cap on blocks */
    span_style ss;
    uint64_t suggest_shrink; /* if set, the suggestion is this much shorter
                                than the largest range that fits (providers
                                round down) */
} sim;

typedef struct answer {
    bool ok;
    uint64_t n_logs;
    int http;
    long code;
    char msg[512];
} answer;

static void sim_init(sim *s, uint64_t base, const uint32_t *table, uint64_t n)
{
    memset(s, 0, sizeof *s);
    s->base = base;
    s->n = n;
    s->prefix = calloc(n + 1, sizeof *s->prefix);
    assert_non_null(s->prefix);
    for (uint64_t i = 0; i < n; i++)
        s->prefix[i + 1] = s->prefix[i] + table[i];
}

static void sim_release(sim *s)
{
    free(s->prefix);
    s->prefix = NULL;
}

static uint64_t sim_logs(const sim *s, uint64_t lo, uint64_t hi)
{
    return s->prefix[hi - s->base + 1] - s->prefix[lo - s->base];
}

/* The largest b in [lo, hi] with logs(lo..b) <= cap (lo when none fits). */
static uint64_t sim_fit(const sim *s, uint64_t lo, uint64_t hi)
{
    uint64_t b = lo;
    while (b < hi && sim_logs(s, lo, b + 1) <= s->log_cap)
        b++;
    return b;
}

static answer sim_call(const sim *s, uint64_t lo, uint64_t hi)
{
    answer a;
    memset(&a, 0, sizeof a);
    a.http = 200;
    uint64_t span = hi - lo + 1;
    unsigned long long cap = s->log_cap, scap = s->span_cap;

    if (s->span_cap && span > s->span_cap) {
        switch (s->ss) {
        case SS_LIMITED_TO:
            a.http = 413;
            a.code = -32614;
            snprintf(a.msg, sizeof a.msg,
                     "eth_getLogs is limited to a %llu,%03llu range",
                     scap / 1000, scap % 1000);
            break;
        case SS_MAX_RANGE:
            a.code = -32701;
            snprintf(a.msg, sizeof a.msg, "exceed maximum block range: %llu", scap);
            break;
        case SS_TOO_WIDE:
            a.code = -32600;
            snprintf(a.msg, sizeof a.msg, "block range is too wide");
            break;
        case SS_BARE_413:
            a.http = 413;
            break;
        }
        return a;
    }
    uint64_t n = sim_logs(s, lo, hi);
    bool uncapped = s->cs == CS_ALCHEMY && span <= 2000;
    if (s->log_cap && n > s->log_cap && !uncapped) {
        uint64_t b = sim_fit(s, lo, hi);
        if (s->suggest_shrink && b - lo >= s->suggest_shrink)
            b -= s->suggest_shrink;
        unsigned long long l = lo, bb = b;
        switch (s->cs) {
        case CS_INFURA:
            a.code = -32005;
            snprintf(a.msg, sizeof a.msg,
                     "query returned more than %llu results. Try with this "
                     "block range [0x%llx, 0x%llx].", cap, l, bb);
            break;
        case CS_ALCHEMY:
            a.http = 400;
            a.code = -32602;
            snprintf(a.msg, sizeof a.msg,
                     "Log response size exceeded. You can make eth_getLogs "
                     "requests with up to a 2K block range and no limit on the "
                     "response size, or you can request any block range with a "
                     "cap of %lluK logs in the response. Based on your "
                     "parameters, this block range should work: [0x%llx, 0x%llx]",
                     cap / 1000, l, bb);
            break;
        case CS_MORE_THAN:
            a.code = -32005;
            snprintf(a.msg, sizeof a.msg,
                     "query returned more than %llu results", cap);
            break;
        case CS_LOGS_MATCHED:
            a.code = -32005;
            snprintf(a.msg, sizeof a.msg,
                     "logs matched by query exceeds limit of %llu", cap);
            break;
        case CS_ERIGON:
            a.code = -32602;
            snprintf(a.msg, sizeof a.msg,
                     "query exceeds max results %llu, retry with the range "
                     "%llu-%llu", cap, l, bb);
            break;
        }
        return a;
    }
    a.ok = true;
    a.n_logs = n;
    return a;
}

/* ------------------------------------------------------------------ */
/* Driver                                                               */

typedef struct outcome {
    gl_code status;
    gl_err err;
    uint64_t requests, refused; /* counted by the driver */
    unsigned max_refused_in_a_row;
    gl_range_plan_stats st;
} outcome;

/* Run a plan over [from, to] against `s`; check coverage independently. */
static outcome drive(const sim *s, uint64_t from, uint64_t to,
                     const gl_range_plan_config *cfg)
{
    outcome o;
    memset(&o, 0, sizeof o);
    gl_range_plan plan;
    gl_err err;
    assert_int_equal(gl_range_plan_init(&plan, from, to, cfg, &err), GL_OK);

    uint64_t expect_lo = from, logs = 0;
    unsigned row = 0;
    uint64_t lo, hi;
    while (gl_range_plan_next(&plan, &lo, &hi)) {
        /* in order, contiguous, inside the range: so each block is
         * covered exactly once when the loop ends with expect_lo == to+1 */
        assert_true(lo == expect_lo);
        assert_true(hi >= lo && hi <= to);
        assert_true(o.requests < 1000000); /* no infinite loop */
        o.requests++;
        answer a = sim_call(s, lo, hi);
        if (getenv("PLAN_TRACE")) /* each request and its answer, for tuning by hand */
            fprintf(stderr, "  %llu..%llu (%llu blocks, %llu logs) %s\n", (unsigned long long)(lo - from),
                    (unsigned long long)(hi - from), (unsigned long long)(hi - lo + 1),
                    (unsigned long long)sim_logs(s, lo, hi), a.ok ? "ok" : "REFUSED");
        gl_code rc;
        if (a.ok) {
            row = 0;
            logs += a.n_logs;
            expect_lo = hi + 1;
            rc = gl_range_plan_on_success(&plan, lo, hi, a.n_logs, &err);
        } else {
            gl_rpc_errinfo info;
            gl_rpc_errclass c = gl_rpc_classify(a.http, a.code, a.code != 0,
                                                a.msg, NULL, 0, &info);
            if (c != GL_RPC_ERR_RANGE_TOO_LARGE)
                fail_msg("not classified as a range error: %s", a.msg);
            o.refused++;
            if (++row > o.max_refused_in_a_row)
                o.max_refused_in_a_row = row;
            rc = gl_range_plan_on_too_large(&plan, lo, hi, &info, &err);
        }
        if (rc != GL_OK)
            break;
    }
    o.status = gl_range_plan_status(&plan, &o.err);
    gl_range_plan_stats_get(&plan, &o.st);
    assert_true(o.st.requests == o.requests);
    assert_true(o.st.refused == o.refused);
    if (o.status == GL_OK) {
        assert_true(gl_range_plan_done(&plan));
        assert_true(expect_lo == to + 1);
        assert_true(logs == sim_logs(s, from, to));
        assert_true(o.st.logs == logs);
        assert_true(o.st.blocks_done == to - from + 1);
    }
    return o;
}

static uint32_t *uniform_table(uint64_t n, uint32_t per_block)
{
    uint32_t *t = malloc(n * sizeof *t);
    assert_non_null(t);
    for (uint64_t i = 0; i < n; i++)
        t[i] = per_block;
    return t;
}

/* ------------------------------------------------------------------ */
/* The benchmark                                                        */

#define BENCH_BASE 19000000u /* start block: not 0, to catch offset bugs */
#define BENCH_BLOCKS 4000u
#define BENCH_PER_BLOCK 50u
#define BENCH_CAP 10000u

static outcome bench_style(count_style cs, const char *name)
{
    uint32_t *t = uniform_table(BENCH_BLOCKS, BENCH_PER_BLOCK);
    sim s;
    sim_init(&s, BENCH_BASE, t, BENCH_BLOCKS);
    s.log_cap = BENCH_CAP;
    s.cs = cs;
    outcome o = drive(&s, BENCH_BASE, BENCH_BASE + BENCH_BLOCKS - 1, NULL);
    printf("bench %-34s requests %3llu refused %llu\n", name,
           (unsigned long long)o.requests, (unsigned long long)o.refused);
    assert_int_equal(o.status, GL_OK);
    assert_int_equal(o.st.max_logs, BENCH_CAP); /* learned from the text */
    sim_release(&s);
    free(t);
    return o;
}

static void test_bench_infura_suggested_range(void **state)
{
    (void)state;
    outcome o = bench_style(CS_INFURA, "(a) infura, suggested range");
    assert_true(o.requests <= 22);
    assert_true(o.refused <= 1);
    /* 1 refusal, then the suggested 200 blocks, then 19 x 200 */
    assert_int_equal(o.requests, 21);
}

static void test_bench_alchemy_suggested_range(void **state)
{
    (void)state;
    outcome o = bench_style(CS_ALCHEMY, "(b) alchemy, suggested range");
    assert_true(o.requests <= 22);
    assert_true(o.refused <= 1);
    assert_int_equal(o.requests, 21);
}

static void test_bench_count_only(void **state)
{
    (void)state;
    outcome o = bench_style(CS_MORE_THAN, "(c) more than 10000 results");
    assert_true(o.requests <= 22);
    assert_true(o.refused <= 1);
    o = bench_style(CS_LOGS_MATCHED, "(c) logs matched ... limit of 10000");
    assert_true(o.requests <= 22);
    assert_true(o.refused <= 1);
}

static void test_bench_erigon_decimal_range(void **state)
{
    (void)state;
    outcome o = bench_style(CS_ERIGON, "erigon, decimal retry range");
    assert_true(o.requests <= 22);
    assert_true(o.refused <= 1);
}

/* Suggestions that are not maximal (providers round down): still takes
 * them exactly, then sizes by density. */
static void test_bench_rounded_down_suggestion(void **state)
{
    (void)state;
    uint32_t *t = uniform_table(BENCH_BLOCKS, BENCH_PER_BLOCK);
    sim s;
    sim_init(&s, BENCH_BASE, t, BENCH_BLOCKS);
    s.log_cap = BENCH_CAP;
    s.cs = CS_INFURA;
    s.suggest_shrink = 37;
    outcome o = drive(&s, BENCH_BASE, BENCH_BASE + BENCH_BLOCKS - 1, NULL);
    printf("bench %-34s requests %3llu refused %llu\n",
           "infura, suggestion 37 blocks short", (unsigned long long)o.requests,
           (unsigned long long)o.refused);
    assert_int_equal(o.status, GL_OK);
    /* 1 refused + [0,162] + ceil(3837 / 200) = 20 */
    assert_true(o.requests <= 22);
    assert_true(o.refused <= 1);
    sim_release(&s);
    free(t);
}

/* (d) span caps */
/* The indexer's own configuration (a 10-block first request, requests
 * sized for 10,000 logs) on the benchmark's chain as anvil holds it: a
 * first block with one log (the token's mint), then 50 a block; and with a
 * quieter start besides (20 blocks of 35 logs), which the first requests
 * measure and a later one pays for with a refusal.  Minimum by hand:
 * 199,951 (or 199,651) logs / 10,000 = 20 requests.  The aim, for
 * every refusal style and without a cap: at most 22, at most one refused;
 * with the quiet start, at most 24 (23 where the refusal suggests a range,
 * which measures the miss). */
static void test_indexer_config_sparse_start(void **state)
{
    (void)state;
    const uint64_t n = 4000;
    uint32_t *t = uniform_table(n, BENCH_PER_BLOCK);
    t[0] = 1;
    for (int quiet = 0; quiet < 2; quiet++) {
    for (int i = 1; i <= 20; i++)
        t[i] = quiet ? 35 : BENCH_PER_BLOCK;
    static const count_style styles[] = {CS_INFURA, CS_ALCHEMY, CS_MORE_THAN, CS_LOGS_MATCHED, CS_ERIGON};
    gl_range_plan_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.initial_span = 10;
    cfg.max_logs = 10000;
    for (size_t k = 0; k <= sizeof styles / sizeof styles[0]; k++) {
        sim sm;
        sim_init(&sm, BENCH_BASE, t, n);
        sm.log_cap = k < sizeof styles / sizeof styles[0] ? BENCH_CAP : 0;
        sm.cs = k < sizeof styles / sizeof styles[0] ? styles[k] : CS_INFURA;
        outcome o = drive(&sm, BENCH_BASE, BENCH_BASE + n - 1, &cfg);
        assert_int_equal(o.status, GL_OK);
        if (o.requests > (quiet ? 24u : 22u) || o.refused > 1)
            fail_msg("%s start, style %zu: %llu requests, %llu refused", quiet ? "quiet" : "even", k,
                     (unsigned long long)o.requests, (unsigned long long)o.refused);
        sim_release(&sm);
    }
    }
    free(t);
}

static void test_span_cap_styles(void **state)
{
    (void)state;
    uint32_t *t = uniform_table(BENCH_BLOCKS, BENCH_PER_BLOCK);
    sim s;
    sim_init(&s, BENCH_BASE, t, BENCH_BLOCKS);
    const uint64_t from = BENCH_BASE, to = BENCH_BASE + BENCH_BLOCKS - 1;
    static const char *const names[] = {
        "(d) limited to a 2,000 range", "(d) exceed maximum block range: 2000",
        "(d) block range is too wide (2000)"};
    for (int ss = SS_LIMITED_TO; ss <= SS_TOO_WIDE; ss++) {
        s.span_cap = 2000;
        s.ss = (span_style)ss;
        s.log_cap = 0;
        outcome o = drive(&s, from, to, NULL);
        printf("bench %-34s requests %3llu refused %llu\n", names[ss],
               (unsigned long long)o.requests, (unsigned long long)o.refused);
        assert_int_equal(o.status, GL_OK);
        /* 4000 refused, then two of 2000 (halving lands on 2000 too) */
        assert_int_equal(o.requests, 3);
        assert_int_equal(o.refused, 1);
        assert_int_equal(o.st.max_span, 2000);
    }

    /* 10,000-block cap over 50,000 sparse blocks */
    uint32_t *sparse = uniform_table(50000, 0);
    for (int i = 0; i < 50000; i += 97)
        sparse[i] = 1;
    sim z;
    sim_init(&z, 0, sparse, 50000);
    z.span_cap = 10000;
    z.ss = SS_LIMITED_TO;
    outcome o = drive(&z, 0, 49999, NULL);
    printf("bench %-34s requests %3llu refused %llu\n",
           "(d) limited to a 10,000 range, 50k", (unsigned long long)o.requests,
           (unsigned long long)o.refused);
    assert_int_equal(o.status, GL_OK);
    assert_int_equal(o.requests, 6); /* 1 refused + 5 x 10000 */
    assert_int_equal(o.refused, 1);
    assert_int_equal(o.st.max_span, 10000);

    /* the span-capped endpoint with a count cap too (no suggestion):
     * span refusal, count refusal, probe, then 200-block requests */
    s.span_cap = 2000;
    s.ss = SS_LIMITED_TO;
    s.log_cap = BENCH_CAP;
    s.cs = CS_MORE_THAN;
    o = drive(&s, from, to, NULL);
    printf("bench %-34s requests %3llu refused %llu\n",
           "(d) 2,000 span + 10000-log caps", (unsigned long long)o.requests,
           (unsigned long long)o.refused);
    assert_int_equal(o.status, GL_OK);
    assert_int_equal(o.refused, 2);
    assert_true(o.requests <= 23);

    /* a known cap in the config: no refusal at all */
    gl_range_plan_config cfg = {0};
    cfg.max_span = 2000;
    s.log_cap = 0;
    o = drive(&s, from, to, &cfg);
    assert_int_equal(o.requests, 2);
    assert_int_equal(o.refused, 0);
    sim_release(&z);
    free(sparse);
    sim_release(&s);
    free(t);
}

/* (e) bursty: 20 blocks hold 9,000 logs each (180,000), the other 3,980
 * share 20,000 (5 or 6 each): 200,000 in all.  Two burst blocks never fit
 * one request (18,000 > 10,000), so 20 requests is a floor.
 *
 * Bounds: refusals in a row <= 13, because every refusal at least halves
 * the span (4000 blocks reach 1 in 12 halvings) except one retry of the
 * endpoint's own suggestion.  Total requests <= 100 = 5x the floor: the
 * density estimate is a blend of burst and sparse blocks, so requests
 * between bursts are undersized and a burst met unexpectedly costs a
 * refusal or two; over 500 seeded layouts x 2 error styles the planner
 * measured a mean of 54 and a maximum of 89 requests (max 7 refusals in a
 * row), so 100 catches a regression without being tuned to one layout. */
/* size_logs: an uncapped endpoint answering 10 x more than the caller's
 * bound (an anvil with 5,000-log blocks) must not make the requests grow
 * to its answers (issue 13: 50,000-log requests, ~200 MB in flight). */
static void test_size_bound_not_raised(void **state)
{
    (void)state;
    gl_range_plan plan;
    gl_range_plan_config cfg = {.initial_span = 10, .max_logs = 10000, .size_logs = 10000};
    assert_int_equal(gl_range_plan_init(&plan, 1, 1000, &cfg, NULL), GL_OK);
    uint64_t lo, hi;
    assert_true(gl_range_plan_next(&plan, &lo, &hi));
    assert_int_equal(hi - lo + 1, 10);
    assert_int_equal(gl_range_plan_on_success(&plan, lo, hi, 50000, NULL), GL_OK);
    for (int i = 0; i < 20 && gl_range_plan_next(&plan, &lo, &hi); i++) {
        assert_true(hi - lo + 1 <= 2); /* 5,000 logs a block: 10,000 at most */
        assert_int_equal(gl_range_plan_on_success(&plan, lo, hi, 5000 * (hi - lo + 1), NULL), GL_OK);
    }
}

static void test_bursty(void **state)
{
    (void)state;
    for (int sty = 0; sty < 3; sty++) {
        static const count_style styles[] = {CS_MORE_THAN, CS_INFURA,
                                             CS_LOGS_MATCHED};
        static const char *const names[] = {"(e) bursty, more than N",
                                            "(e) bursty, infura suggestion",
                                            "(e) bursty, logs matched"};
        uint32_t *t = uniform_table(BENCH_BLOCKS, 5); /* 20,000 */
        gl_backoff_rng r;
        uint64_t seed = 77 + (uint64_t)sty;
        gl_backoff_rng_seed(&r, seed);
        int placed = 0;
        while (placed < 20) {
            uint64_t b = gl_backoff_rng_next(&r) % BENCH_BLOCKS;
            if (t[b] == 9000)
                continue;
            t[b] = 9000;
            placed++;
        }
        /* give the 20 x 5 displaced sparse logs back, one per block */
        for (unsigned i = 0, given = 0; given < 100; i++)
            if (t[i] != 9000) {
                t[i]++;
                given++;
            }
        uint64_t total = 0;
        for (unsigned i = 0; i < BENCH_BLOCKS; i++)
            total += t[i];
        sim s;
        sim_init(&s, BENCH_BASE, t, BENCH_BLOCKS);
        s.log_cap = BENCH_CAP;
        s.cs = styles[sty];
        outcome o = drive(&s, BENCH_BASE, BENCH_BASE + BENCH_BLOCKS - 1, NULL);
        assert_true(total == 200000);
        printf("bench %-34s requests %3llu refused %llu (seed %llu)\n",
               names[sty], (unsigned long long)o.requests,
               (unsigned long long)o.refused, (unsigned long long)seed);
        assert_int_equal(o.status, GL_OK);
        assert_true(o.requests >= 20);
        assert_true(o.requests <= 100);
        assert_true(o.max_refused_in_a_row <= 13);
        sim_release(&s);
        free(t);
    }
}

/* ------------------------------------------------------------------ */
/* Failure modes                                                        */

static void test_single_block_too_large_is_fatal(void **state)
{
    (void)state;
    uint32_t *t = uniform_table(100, 10);
    t[42] = 20000; /* one block alone exceeds the cap */
    sim s;
    sim_init(&s, 1000, t, 100);
    s.log_cap = 10000;
    for (int cs = CS_INFURA; cs <= CS_ERIGON; cs++) {
        if (cs == CS_ALCHEMY)
            continue; /* 100 blocks: under its uncapped 2K span */
        s.cs = (count_style)cs;
        outcome o = drive(&s, 1000, 1099, NULL);
        assert_int_equal(o.status, GL_ERPC);
        assert_non_null(strstr(o.err.msg, "single block 1042"));
        assert_non_null(strstr(o.err.msg, "cannot be split"));
        assert_true(o.requests < 40);
    }
    sim_release(&s);
    free(t);
}

/* A plan sized by density (a known log cap) grows at most growth_max times
 * per step, counted from the span it offered even when the caller fetched
 * less (a range fetched ahead): 10 blocks of 10 logs against a cap of
 * 1,000 -> 80 offered (growth 8x, not the density's 1,000); 10 of them
 * fetched, 10 logs -> 640 (8 x 80), not 80 (8 x 10). */
static void test_growth_counts_from_the_offer(void **state)
{
    (void)state;
    gl_range_plan p;
    gl_err err;
    uint64_t lo, hi;
    gl_range_plan_config cfg = {.initial_span = 10, .max_logs = 1000};
    assert_int_equal(gl_range_plan_init(&p, 1, 100000, &cfg, &err), GL_OK);
    assert_true(gl_range_plan_next(&p, &lo, &hi));
    assert_true(lo == 1 && hi == 10);
    assert_int_equal(gl_range_plan_on_success(&p, 1, 10, 10, &err), GL_OK);
    assert_true(gl_range_plan_next(&p, &lo, &hi));
    assert_true(lo == 11 && hi == 90);
    assert_int_equal(gl_range_plan_on_success(&p, 11, 20, 10, &err), GL_OK);
    assert_true(gl_range_plan_next(&p, &lo, &hi));
    assert_int_equal(lo, 21);
    assert_int_equal(hi, 21 + 640 - 1);
}

static void test_reports_must_continue_the_plan(void **state)
{
    (void)state;
    gl_range_plan p;
    gl_err err;
    uint64_t lo, hi;
    assert_int_equal(gl_range_plan_init(&p, 10, 20, NULL, &err), GL_OK);
    assert_true(gl_range_plan_next(&p, &lo, &hi));
    assert_true(lo == 10 && hi == 20); /* whole range first */
    /* asking again gives the same range */
    assert_true(gl_range_plan_next(&p, &lo, &hi));
    assert_true(lo == 10 && hi == 20);
    assert_int_equal(gl_range_plan_on_success(&p, 11, 20, 0, &err), GL_EINVAL);
    assert_non_null(strstr(err.msg, "11..20"));
    assert_int_equal(gl_range_plan_on_success(&p, 10, 21, 0, &err), GL_EINVAL);
    assert_int_equal(gl_range_plan_on_success(&p, 10, 9, 0, &err), GL_EINVAL);
    assert_int_equal(gl_range_plan_on_too_large(&p, 9, 20, NULL, &err), GL_EINVAL);
    assert_int_equal(gl_range_plan_on_failure(&p, 12, 20, &err), GL_EINVAL);
    assert_int_equal(gl_range_plan_status(&p, &err), GL_OK); /* unchanged */

    /* a caller may fetch less than offered; logs but no known cap: the
     * span doubles (3 -> 6) */
    assert_int_equal(gl_range_plan_on_success(&p, 10, 12, 3, NULL), GL_OK);
    assert_true(gl_range_plan_next(&p, &lo, &hi));
    assert_true(lo == 13 && hi == 18);
    /* a transient failure changes nothing but the count */
    assert_int_equal(gl_range_plan_on_failure(&p, 13, 18, NULL), GL_OK);
    assert_true(gl_range_plan_next(&p, &lo, &hi));
    assert_true(lo == 13 && hi == 18);
    assert_int_equal(gl_range_plan_on_success(&p, 13, 20, 0, NULL), GL_OK);
    assert_true(gl_range_plan_done(&p));
    assert_false(gl_range_plan_next(&p, &lo, &hi));
    assert_int_equal(gl_range_plan_on_success(&p, 21, 21, 0, &err), GL_EINVAL);
    gl_range_plan_stats st;
    gl_range_plan_stats_get(&p, &st);
    assert_int_equal(st.requests, 3);
    assert_int_equal(st.failed, 1);
    assert_int_equal(st.logs, 3);

    /* bad ranges */
    assert_int_equal(gl_range_plan_init(&p, 5, 4, NULL, &err), GL_EINVAL);
    assert_false(gl_range_plan_next(&p, &lo, &hi));
    assert_int_equal(gl_range_plan_status(&p, NULL), GL_EINVAL);
    assert_int_equal(gl_range_plan_init(&p, 0, UINT64_MAX, NULL, &err), GL_ERANGE);
    assert_int_equal(gl_range_plan_init(NULL, 0, 1, NULL, &err), GL_EINVAL);
    /* the top of the number space works */
    assert_int_equal(gl_range_plan_init(&p, UINT64_MAX - 5, UINT64_MAX, NULL, &err),
                     GL_OK);
    assert_true(gl_range_plan_next(&p, &lo, &hi));
    assert_true(lo == UINT64_MAX - 5 && hi == UINT64_MAX);
    assert_int_equal(gl_range_plan_on_success(&p, lo, hi, 1, NULL), GL_OK);
    assert_true(gl_range_plan_done(&p));
    /* a single block */
    assert_int_equal(gl_range_plan_init(&p, 7, 7, NULL, &err), GL_OK);
    assert_true(gl_range_plan_next(&p, &lo, &hi));
    assert_true(lo == 7 && hi == 7);
}

/* Suggestions that are inverted, outside the request or not shorter are
 * ignored: the plan halves. */
static void test_implausible_suggestions_halve(void **state)
{
    (void)state;
    static const char *const msgs[] = {
        /* outside the requested 1000..1999 */
        "query returned more than 10000 results. Try with this block range "
        "[0x1, 0x10].",
        /* inverted */
        "query returned more than 10000 results. Try with this block range "
        "[0x5dc, 0x3e8].",
        /* the very range refused (1000..1999) */
        "query returned more than 10000 results. Try with this block range "
        "[0x3e8, 0x7cf].",
        /* ends past the request */
        "query returned more than 10000 results. Try with this block range "
        "[0x3e8, 0xfffff].",
    };
    for (size_t i = 0; i < sizeof msgs / sizeof *msgs; i++) {
        gl_range_plan p;
        uint64_t lo, hi;
        gl_rpc_errinfo info;
        assert_int_equal(gl_range_plan_init(&p, 1000, 1999, NULL, NULL), GL_OK);
        gl_rpc_classify(200, -32005, true, msgs[i], NULL, 0, &info);
        assert_int_equal(gl_range_plan_on_too_large(&p, 1000, 1999, &info, NULL),
                         GL_OK);
        assert_true(gl_range_plan_next(&p, &lo, &hi));
        assert_true(lo == 1000);
        assert_true(hi == 1499);
    }

    /* a plausible one is taken exactly */
    gl_range_plan p;
    uint64_t lo, hi;
    gl_rpc_errinfo info;
    assert_int_equal(gl_range_plan_init(&p, 1000, 1999, NULL, NULL), GL_OK);
    gl_rpc_classify(200, -32005, true,
                    "query returned more than 10000 results. Try with this "
                    "block range [0x3e8, 0x3f1].", NULL, 0, &info);
    assert_int_equal(gl_range_plan_on_too_large(&p, 1000, 1999, &info, NULL), GL_OK);
    assert_true(gl_range_plan_next(&p, &lo, &hi));
    assert_true(lo == 1000 && hi == 1009);
    /* ... and if the endpoint then refuses its own suggestion, hints are
     * no longer trusted at this point: halve */
    gl_rpc_classify(200, -32005, true,
                    "query returned more than 10000 results. Try with this "
                    "block range [0x3e8, 0x3f0].", NULL, 0, &info);
    assert_int_equal(gl_range_plan_on_too_large(&p, 1000, 1009, &info, NULL), GL_OK);
    assert_true(gl_range_plan_next(&p, &lo, &hi));
    assert_true(lo == 1000 && hi == 1004);

    /* a suggestion starting later is taken by its length from the start */
    assert_int_equal(gl_range_plan_init(&p, 1000, 1999, NULL, NULL), GL_OK);
    gl_rpc_classify(200, -32602, true,
                    "query exceeds max results 20000, retry with the range "
                    "1100-1149", NULL, 0, &info);
    assert_int_equal(gl_range_plan_on_too_large(&p, 1000, 1999, &info, NULL), GL_OK);
    assert_true(gl_range_plan_next(&p, &lo, &hi));
    assert_true(lo == 1000 && hi == 1049);
}

/* A refused range is remembered: when [0,999] holds more than 10000 logs
 * and [0,499] held none, [500,999] certainly holds more than 10000 too, so
 * the plan must not ask for it. */
static void test_refused_range_not_retried(void **state)
{
    (void)state;
    gl_range_plan p;
    gl_range_plan_config cfg = {0};
    uint64_t lo, hi;
    gl_rpc_errinfo info;
    cfg.probe_divisor = 2;
    assert_int_equal(gl_range_plan_init(&p, 0, 999, &cfg, NULL), GL_OK);
    gl_rpc_classify(200, -32005, true, "query returned more than 10000 results",
                    NULL, 0, &info);
    assert_int_equal(gl_range_plan_on_too_large(&p, 0, 999, &info, NULL), GL_OK);
    assert_true(gl_range_plan_next(&p, &lo, &hi));
    assert_true(lo == 0 && hi == 499);
    assert_int_equal(gl_range_plan_on_success(&p, 0, 499, 0, NULL), GL_OK);
    assert_true(gl_range_plan_next(&p, &lo, &hi));
    assert_true(lo == 500);
    assert_true(hi < 999);
    /* once some of those logs are fetched the end may be reached again:
     * [500,599] held 9000, so [600,999] may hold as few as 1001 */
    assert_int_equal(gl_range_plan_on_success(&p, 500, 599, 9000, NULL), GL_OK);
    assert_true(gl_range_plan_next(&p, &lo, &hi));
    assert_true(lo == 600);
}

/* A lying endpoint (always "too large", suggesting one block less each
 * time) cannot keep the plan busy: refusals halve, then the single block is
 * fatal. */
static void test_hostile_endpoint_terminates(void **state)
{
    (void)state;
    gl_range_plan p;
    gl_err err;
    uint64_t lo, hi;
    assert_int_equal(gl_range_plan_init(&p, 0, 1000000, NULL, NULL), GL_OK);
    unsigned n = 0;
    gl_code rc = GL_OK;
    while (gl_range_plan_next(&p, &lo, &hi)) {
        char msg[200];
        snprintf(msg, sizeof msg,
                 "query returned more than 10000 results. Try with this block "
                 "range [0x%llx, 0x%llx].", (unsigned long long)lo,
                 (unsigned long long)(hi - 1));
        gl_rpc_errinfo info;
        gl_rpc_classify(200, -32005, true, msg, NULL, 0, &info);
        rc = gl_range_plan_on_too_large(&p, lo, hi, &info, &err);
        n++;
        assert_true(n < 100);
    }
    assert_int_equal(rc, GL_ERPC);
    assert_true(n <= 2 + 21); /* suggestion, refused, then halvings */

    /* bounded attempts: an endpoint that fails forever otherwise */
    gl_range_plan_config cfg = {0};
    cfg.max_requests = 50;
    assert_int_equal(gl_range_plan_init(&p, 0, 9, &cfg, NULL), GL_OK);
    n = 0;
    while (gl_range_plan_next(&p, &lo, &hi)) {
        rc = gl_range_plan_on_failure(&p, lo, hi, &err);
        n++;
    }
    assert_int_equal(n, 50);
    assert_int_equal(rc, GL_ERANGE);
    assert_int_equal(gl_range_plan_status(&p, &err), GL_ERANGE);
    assert_non_null(strstr(err.msg, "50 requests"));
    assert_int_equal(gl_range_plan_on_failure(&p, 0, 9, &err), GL_EINVAL);

    /* NULL info: halve */
    assert_int_equal(gl_range_plan_init(&p, 0, 99, NULL, NULL), GL_OK);
    assert_int_equal(gl_range_plan_on_too_large(&p, 0, 99, NULL, NULL), GL_OK);
    assert_true(gl_range_plan_next(&p, &lo, &hi));
    assert_true(lo == 0 && hi == 49);
}

/* Growth: a span-capped endpoint's ceiling is never exceeded again; an
 * empty range grows multiplicatively from a small start. */
static void test_growth_and_ceiling(void **state)
{
    (void)state;
    uint32_t *t = uniform_table(100000, 0);
    sim s;
    sim_init(&s, 0, t, 100000);
    gl_range_plan_config cfg = {0};
    cfg.initial_span = 10;
    outcome o = drive(&s, 0, 99999, &cfg);
    /* 10, 80, 640, 5120, 40960, rest: x8 per success */
    assert_int_equal(o.status, GL_OK);
    assert_int_equal(o.requests, 6);

    s.span_cap = 3000;
    s.ss = SS_TOO_WIDE; /* no number: halving learns a ceiling */
    o = drive(&s, 0, 99999, NULL);
    assert_int_equal(o.status, GL_OK);
    /* 100000 -> 50000 -> ... -> 1562 (6 refusals), then 1562 each */
    assert_int_equal(o.refused, 6);
    assert_int_equal(o.st.max_span, 1562);
    assert_int_equal(o.requests, 6 + 65); /* ceil(100000 / 1562) = 65 */

    /* the same with a bare HTTP 413: the same halving, no re-refusals */
    s.ss = SS_BARE_413;
    o = drive(&s, 0, 99999, NULL);
    assert_int_equal(o.status, GL_OK);
    assert_int_equal(o.refused, 6);
    assert_int_equal(o.requests, 6 + 65);
    sim_release(&s);
    free(t);
}

/* Many random distributions, caps and styles: always terminates, covers
 * each block once, never more than 2 + log2(span) refusals in a row. */
static void test_random_property(void **state)
{
    (void)state;
    uint64_t seed = 0xC0FFEE;
    gl_backoff_rng r;
    gl_backoff_rng_seed(&r, seed);
    for (int it = 0; it < 300; it++) {
        uint64_t n = 1 + gl_backoff_rng_next(&r) % 3000;
        uint32_t *t = uniform_table(n, 0);
        uint64_t cap = 100 + gl_backoff_rng_next(&r) % 5000;
        int shape = (int)(gl_backoff_rng_next(&r) % 4);
        for (uint64_t i = 0; i < n; i++) {
            uint64_t x = gl_backoff_rng_next(&r);
            switch (shape) {
            case 0: t[i] = (uint32_t)(x % 20); break;
            case 1: t[i] = (x % 50 == 0) ? (uint32_t)((x >> 8) % cap) : 0; break;
            case 2: t[i] = (uint32_t)((i * 7) % (cap < 300 ? cap : 300)); break;
            default: t[i] = (uint32_t)(x % (cap / 2 + 1)); break;
            }
        }
        sim s;
        sim_init(&s, gl_backoff_rng_next(&r) % 1000000, t, n);
        s.log_cap = cap;
        s.cs = (count_style)(gl_backoff_rng_next(&r) % 5);
        if (gl_backoff_rng_next(&r) % 3 == 0) {
            s.span_cap = 1 + gl_backoff_rng_next(&r) % 500;
            s.ss = (span_style)(gl_backoff_rng_next(&r) % 4);
        }
        outcome o = drive(&s, s.base, s.base + n - 1, NULL);
        if (o.status != GL_OK || o.max_refused_in_a_row > 14)
            fprintf(stderr, "seed %llu iteration %d: %s\n",
                    (unsigned long long)seed, it, o.err.msg);
        assert_int_equal(o.status, GL_OK);
        assert_true(o.max_refused_in_a_row <= 14); /* 2 + log2(3000) */
        sim_release(&s);
        free(t);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bench_infura_suggested_range),
        cmocka_unit_test(test_bench_alchemy_suggested_range),
        cmocka_unit_test(test_bench_count_only),
        cmocka_unit_test(test_bench_erigon_decimal_range),
        cmocka_unit_test(test_bench_rounded_down_suggestion),
        cmocka_unit_test(test_indexer_config_sparse_start),
        cmocka_unit_test(test_span_cap_styles),
        cmocka_unit_test(test_bursty), cmocka_unit_test(test_size_bound_not_raised),
        cmocka_unit_test(test_single_block_too_large_is_fatal),
        cmocka_unit_test(test_reports_must_continue_the_plan),
        cmocka_unit_test(test_growth_counts_from_the_offer),
        cmocka_unit_test(test_implausible_suggestions_halve),
        cmocka_unit_test(test_refused_range_not_retried),
        cmocka_unit_test(test_hostile_endpoint_terminates),
        cmocka_unit_test(test_growth_and_ceiling),
        cmocka_unit_test(test_random_property),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
