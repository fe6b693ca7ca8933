/* range_plan.h - adaptive block-range planning for eth_getLogs.
 *
 * Endpoints cap eth_getLogs by block span, by result count, or both, and
 * say so in many dialects (rpc_errors.h turns those into gl_rpc_errinfo).
 * A gl_range_plan walks [from, to] in consecutive, non-overlapping
 * sub-ranges, sized to get as many logs per request as the endpoint allows
 * and no more:
 *
 *   gl_range_plan plan;
 *   gl_range_plan_init(&plan, from, to, NULL, &err);
 *   while (gl_range_plan_next(&plan, &lo, &hi)) {
 *       ... eth_getLogs(lo, hi) ...
 *       success:        gl_range_plan_on_success(&plan, lo, hi, n_logs, &err)
 *       range error:    gl_range_plan_on_too_large(&plan, lo, hi, &info, &err)
 *       other failure:  gl_range_plan_on_failure(&plan, lo, hi, &err), after
 *                       the back-off; next() then gives the same range again
 *   }
 *   gl_range_plan_status(&plan, &err);   GL_OK when everything was covered
 *
 * How the next span is chosen:
 *   - First request: the configured initial span, by default the whole
 *     range.  If the endpoint takes it, one request did the job; if not,
 *     its refusal is the cheapest way to learn the cap (most name it, many
 *     suggest a range), far cheaper than ramping up from a small span.
 *   - After a refusal: the suggested range, exactly, when it starts inside
 *     the refused one and is shorter (a suggestion that starts later is
 *     taken by its length, from the same start, so no block is skipped);
 *     an implausible suggestion (outside, inverted, not shorter) makes the
 *     plan halve instead.  Else a named block-span cap (remembered as a hard
 *     ceiling for the rest of the plan; a span refusal without a number,
 *     or one of unknown kind - bare HTTP 413, NULL info - makes half the
 *     refused span the ceiling); else a span the endpoint says is
 *     always accepted; else, when the log cap and the log density are
 *     known, the span expected to hold the cap, at most half the refused
 *     one; else, for a first result-count refusal with a known cap, a probe
 *     of 1/probe_divisor of the refused span (halving would be refused
 *     again for every factor of two the first guess was off, a deep cut
 *     costs one small request and measures the density); else halve.
 *   - After a success: aim at fill x cap logs using the measured density
 *     (blocks-weighted, older observations decaying by half per request),
 *     growing at most growth_max times per step (counted from the span
 *     offered, when the caller fetched less); with no logs seen yet,
 *     grow growth_max times; with logs but no known cap, double.
 *   - fill starts at 100% of the cap: "more than 10000 results" means
 *     10000 is accepted, and when logs are spread evenly the density is
 *     exact.  Each refusal of a density-sized request takes 20% off it
 *     (down to 50%), except when the density rested on a single sample (the
 *     first, small request, whose blocks may be unlike the rest: a deploy
 *     block, a quiet start): that refusal corrects the density, not the
 *     fill; each success gives back 2 points.  Noisy data settles
 *     where refusals are rare (tuned on simulated random-walk, noisy and
 *     bursty densities; see tests/unit/test_range_plan.c).
 *   - A refused count-capped range is remembered: its logs are known to lie
 *     ahead of the cursor, so later requests do not reach its end again
 *     until enough of them has been fetched.
 *
 * Termination: a success moves the cursor by at least one block; every
 * refusal at the same cursor shortens the span, and after the first
 * hint-based retry (suggestion, safe span) has been refused too, by at
 * least half; a single block refused as too large fails the plan (GL_ERPC:
 * it cannot be split).  Independently, max_requests bounds the attempts.
 *
 * A plan is sequential (one outstanding request); it owns no memory, so it
 * has no release function.  Not thread-safe.  What the plan learned about
 * the endpoint (caps) is in gl_range_plan_stats, to seed the next plan's
 * config.
 */
#ifndef GPULEDGER_RANGE_PLAN_H
#define GPULEDGER_RANGE_PLAN_H

#include <stdbool.h>
#include <stdint.h>

#include "gpuledger/err.h"
#include "gpuledger/rpc_errors.h"

/* Defaults (a config field left 0 takes these). */
#define GL_RANGE_PLAN_FILL_PERMILLE_DEFAULT 1000u
#define GL_RANGE_PLAN_FILL_PERMILLE_MIN 500u
#define GL_RANGE_PLAN_PROBE_DIVISOR_DEFAULT 32u
#define GL_RANGE_PLAN_GROWTH_MAX_DEFAULT 8u
/* Default bound on attempts: two per block plus 1000.  A success covers at
 * least one block, so an endpoint that needs more than that is not
 * converging (or is hostile). */
#define GL_RANGE_PLAN_REQUESTS_SLACK 1000u

typedef struct gl_range_plan_config {
    uint64_t initial_span;  /* blocks in the first request; 0 = all */
    uint64_t max_span;      /* known hard cap on blocks/request; 0 = none */
    uint64_t max_logs;      /* known cap on logs/response; 0 = unknown */
    uint64_t size_logs;     /* logs a request is sized for at most (the
                               caller's memory bound): unlike max_logs, an
                               endpoint answering more never raises it;
                               0 = no such bound */
    unsigned fill_permille; /* initial target, per mille of the log cap;
                               0 = default, clamped to [500, 1000] */
    unsigned probe_divisor; /* first count refusal: cut by this; 0 = 32,
                               at least 2 */
    unsigned growth_max;    /* span growth per success; 0 = 8, at least 2 */
    uint64_t max_requests;  /* attempts before GL_ERANGE; 0 = 2*blocks+1000 */
} gl_range_plan_config;

typedef struct gl_range_plan_stats {
    uint64_t requests;    /* every attempt reported (all kinds) */
    uint64_t succeeded;
    uint64_t refused;     /* on_too_large */
    uint64_t failed;      /* on_failure */
    uint64_t logs;        /* sum of n_logs of successes */
    uint64_t blocks_done; /* blocks covered by successes */
    uint64_t max_span;    /* hard span cap in force (config or learned), 0 none */
    uint64_t max_logs;    /* log cap in force (config or learned), 0 unknown */
} gl_range_plan_stats;

/* Private: read it only through the functions below. */
typedef struct gl_range_plan {
    uint64_t from, to, cursor;
    uint64_t span;           /* length of the next request */
    bool done;
    gl_code failed;          /* GL_OK while the plan is alive */
    gl_err err;              /* why it failed */
    int planned_by;          /* how `span` was chosen (range_plan.c) */
    bool hint_refused;       /* a hint-based request at cursor was refused */
    uint64_t ceiling;        /* hard span cap, 0 = none */
    uint64_t cap;            /* log cap, 0 = unknown */
    uint64_t size;           /* the caller's bound on a request's logs, 0 = none */
    bool count_refused;      /* a count/unknown refusal has been seen */
    uint64_t max_ok_logs;    /* largest successful response */
    double dens_logs, dens_blocks; /* decayed sums of successes */
    unsigned dens_samples;         /* successes with logs behind the density */
    double last_density;           /* logs per block of the last success */
    uint64_t known_end;      /* [cursor, known_end] holds >= known_min */
    uint64_t known_min;      /*   logs; 0 = no such knowledge */
    double fill;
    unsigned probe_divisor, growth_max;
    uint64_t max_requests;
    gl_range_plan_stats st;
} gl_range_plan;

/* Start a plan over [from, to] (inclusive).  cfg NULL = all defaults.
 * Fails with GL_EINVAL when plan is NULL or from > to, GL_ERANGE when the
 * range holds 2^64 blocks; the plan is then failed (next() gives nothing). */
gl_code gl_range_plan_init(gl_range_plan *plan, uint64_t from, uint64_t to,
                           const gl_range_plan_config *cfg, gl_err *err);

/* The range to request next, [*lo, *hi].  Asking again before reporting
 * gives the same range.  Returns false (outputs untouched) when the plan is
 * finished or has failed; tell which with gl_range_plan_status(). */
bool gl_range_plan_next(gl_range_plan *plan, uint64_t *lo /* OUT */,
                        uint64_t *hi /* OUT */);

/* [lo, hi] was fetched, n_logs logs.  lo must be the plan's cursor (the lo
 * next() gave) and hi within [lo, to]: a caller may fetch less than
 * offered.  Fails with GL_EINVAL (plan unchanged) on a range that does not
 * continue the plan or a finished/failed plan. */
gl_code gl_range_plan_on_success(gl_range_plan *plan, uint64_t lo, uint64_t hi,
                                 uint64_t n_logs, gl_err *err);

/* [lo, hi] was refused as too large; info is the classification (NULL when
 * there is none, e.g. a caller giving up on repeated 503/timeouts for a
 * wide range: the plan halves).  Fails with GL_EINVAL (plan unchanged) as
 * on_success does; otherwise the plan learns and replans, and fails with
 * GL_ERPC when a single block is refused (the message names the block and
 * says it cannot be split) or GL_ERANGE when max_requests is reached.  A
 * failed plan stays failed. */
gl_code gl_range_plan_on_too_large(gl_range_plan *plan, uint64_t lo,
                                   uint64_t hi, const gl_rpc_errinfo *info,
                                   gl_err *err);

/* Another failure of [lo, hi] (transient, rate limit, lagging endpoint):
 * counted as an attempt, nothing else changes.  GL_EINVAL as above;
 * GL_ERANGE (and the plan fails) when max_requests is reached. */
gl_code gl_range_plan_on_failure(gl_range_plan *plan, uint64_t lo, uint64_t hi,
                                 gl_err *err);

/* Whether every block of [from, to] has been covered. */
bool gl_range_plan_done(const gl_range_plan *plan);

/* GL_OK while the plan is alive or done; otherwise the code it failed with,
 * its message copied to err. */
gl_code gl_range_plan_status(const gl_range_plan *plan, gl_err *err);

/* Counters and what was learned.  Cannot fail. */
void gl_range_plan_stats_get(const gl_range_plan *plan,
                             gl_range_plan_stats *out /* OUT */);

#endif
