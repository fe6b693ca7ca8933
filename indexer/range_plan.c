/* range_plan.c - adaptive eth_getLogs range planning.
 *
 * The policy is described in range_plan.h.  The state is: the cursor (the
 * first block not yet fetched), the span of the next request and how it
 * was chosen, what is known about the endpoint (hard span ceiling, log cap)
 * and about the data (decayed log density of successes, and a "known
 * window": a count-refused range's end and how many logs it still holds
 * at least, ahead of the cursor).
 *
 * Sections: helpers, planning, API.
 */
#include <math.h>
#include <string.h>

#include "gpuledger/range_plan.h"

/* How plan->span was chosen (plan->planned_by). */
enum {
    PLAN_INITIAL,
    PLAN_DENSITY,    /* sized from the density and the cap */
    PLAN_SUGGESTED,  /* the endpoint's suggested range */
    PLAN_SAFE,       /* the endpoint's always-accepted span */
    PLAN_CEILING,    /* a span cap */
    PLAN_PROBE,      /* deep cut after a first count refusal */
    PLAN_HALVE,
    PLAN_GROW,       /* blind multiplicative growth */
};

/* Weight kept by older density observations at each new one. */
#ifndef DENSITY_DECAY
#define DENSITY_DECAY 0.5
#endif
/* fill: lowered by this factor on each refusal of a density-sized request,
 * raised by FILL_STEP on each success. */
#ifndef FILL_CUT
#define FILL_CUT 0.8
#endif
#ifndef REFUSAL_SHRINK
#define REFUSAL_SHRINK 0.5
#endif
#ifndef FILL_STEP
#define FILL_STEP 0.02
#endif

/* ------------------------------------------------------------------ */
/* Helpers                                                              */

static uint64_t min_u64(uint64_t a, uint64_t b)
{
    return a < b ? a : b;
}

static uint64_t sat_mul(uint64_t a, uint64_t b)
{
    return (b && a > UINT64_MAX / b) ? UINT64_MAX : a * b;
}

/* floor(x) as a span, x >= 0; a tiny relative slack so that a ratio that
 * is exactly an integer in real numbers is not floored one below it by
 * rounding. */
static uint64_t span_of(double x)
{
    x *= 1.0 + 1e-12;
    if (!(x >= 1.0))
        return 1;
    if (x >= 18446744073709549568.0)
        return UINT64_MAX;
    return (uint64_t)x;
}

static gl_code plan_fail(gl_range_plan *p, gl_err *err, gl_code code)
{
    p->failed = code;
    if (err)
        *err = p->err;
    return code;
}

/* Shared checks of a report: the plan is alive and [lo, hi] starts at the
 * cursor and stays inside the range. */
static gl_code check_report(const gl_range_plan *p, uint64_t lo, uint64_t hi,
                            gl_err *err)
{
    if (!p)
        return gl_err_set(err, GL_EINVAL, "range plan is NULL");
    if (p->failed != GL_OK)
        return gl_err_set(err, GL_EINVAL,
                          "range plan has already failed: %s", p->err.msg);
    if (p->done)
        return gl_err_set(err, GL_EINVAL, "range plan is already complete");
    if (lo != p->cursor || hi < lo || hi > p->to)
        return gl_err_set(err, GL_EINVAL,
                          "reported blocks %llu..%llu do not continue the "
                          "plan at block %llu (range ends at %llu)",
                          (unsigned long long)lo, (unsigned long long)hi,
                          (unsigned long long)p->cursor,
                          (unsigned long long)p->to);
    return GL_OK;
}

/* Count one attempt; fail the plan when the budget is spent. */
static gl_code count_attempt(gl_range_plan *p, gl_err *err)
{
    p->st.requests++;
    if (p->st.requests >= p->max_requests && !p->done) {
        gl_err_set(&p->err, GL_ERANGE,
                   "eth_getLogs gave up at block %llu after %llu requests "
                   "(%llu refused as too large): the endpoint does not "
                   "converge",
                   (unsigned long long)p->cursor,
                   (unsigned long long)p->st.requests,
                   (unsigned long long)p->st.refused);
        return plan_fail(p, err, GL_ERANGE);
    }
    return GL_OK;
}

/* ------------------------------------------------------------------ */
/* Planning                                                             */

/* The log cap to aim at: the known one, or after a count refusal with no
 * named cap, the largest response seen (a lower bound of the cap). */
static uint64_t target_cap(const gl_range_plan *p)
{
    uint64_t cap = p->cap ? p->cap : p->count_refused ? p->max_ok_logs : 0;
    /* the caller's own bound holds even where the endpoint would answer
     * more: an uncapped node otherwise grows the cap to its largest answer
     * (50,000 logs, ~200 MB in flight, on 5,000-log blocks) */
    if (p->size && (!cap || p->size < cap))
        cap = p->size;
    return cap;
}

/* Logs per block expected from the cursor on: the decayed measurement,
 * raised to what the known window implies. */
static double density_at_cursor(const gl_range_plan *p)
{
    double d = p->dens_blocks > 0 ? p->dens_logs / p->dens_blocks : 0;
    /* never below the last success's: an underestimate costs a refusal
     * (a request and a round trip), an overestimate only a slightly
     * shorter span */
    if (p->last_density > d)
        d = p->last_density;
    if (p->known_min && p->known_end >= p->cursor) {
        double w = (double)p->known_min /
                   ((double)(p->known_end - p->cursor) + 1.0);
        if (w > d)
            d = w;
    }
    return d;
}

/* The span holding fill x cap logs at the expected density; 0 when that
 * cannot be computed (no cap or no density). */
static uint64_t density_span(const gl_range_plan *p)
{
    uint64_t cap = target_cap(p);
    double d = density_at_cursor(p);
    if (!cap || !(d > 0))
        return 0;
    return span_of((double)cap * p->fill / d);
}

/* Apply the hard limits to `span`: at least 1, at most the ceiling and the
 * blocks left, and short of the known window's end when the window alone
 * holds more than the cap. */
static void settle_span(gl_range_plan *p, uint64_t span)
{
    uint64_t left = p->to - p->cursor + 1;
    uint64_t cap = target_cap(p);
    if (p->ceiling)
        span = min_u64(span, p->ceiling);
    if (p->known_min && cap && p->known_min > cap &&
        p->known_end > p->cursor)
        span = min_u64(span, p->known_end - p->cursor);
    span = min_u64(span, left);
    p->span = span ? span : 1;
}

/* s: the span just fetched; offered: the span the plan had offered for it
 * (a caller may fetch less: a range fetched ahead, or cut short). */
static void plan_after_success(gl_range_plan *p, uint64_t s, uint64_t offered)
{
    uint64_t span;
    uint64_t grow = sat_mul(s, p->growth_max);
    uint64_t by_density = density_span(p);
    if (by_density) {
        /* sized by the measured density: fetching less than offered does
         * not hold the growth back */
        span = min_u64(by_density, sat_mul(s > offered ? s : offered, p->growth_max));
        p->planned_by = PLAN_DENSITY;
    } else if (p->dens_logs == 0) {
        span = grow; /* no logs seen: nothing to fear from a count cap */
        p->planned_by = PLAN_GROW;
    } else {
        span = sat_mul(s, 2);
        p->planned_by = PLAN_GROW;
    }
    settle_span(p, span);
}

/* Is the suggested range usable for a refused [lo, hi]?  It must lie
 * inside it and be shorter. */
static bool suggestion_ok(const gl_rpc_errinfo *info, uint64_t lo, uint64_t hi)
{
    return info->has_range && info->range_from <= info->range_to &&
           info->range_from >= lo && info->range_to <= hi &&
           info->range_to - info->range_from < hi - lo;
}

static void plan_after_refusal(gl_range_plan *p, uint64_t lo, uint64_t hi,
                               const gl_rpc_errinfo *info)
{
    uint64_t s = hi - lo + 1;
    gl_rpc_limit_kind kind = info ? info->limit : GL_RPC_LIMIT_UNKNOWN;
    int was = p->planned_by;
    bool hints_ok = !p->hint_refused;
    uint64_t span;

    if (was == PLAN_SUGGESTED || was == PLAN_SAFE) {
        /* the endpoint's own hint was refused: stop believing hints here */
        p->hint_refused = true;
        hints_ok = false;
    }
    if (info && info->has_range && hints_ok && suggestion_ok(info, lo, hi)) {
        span = info->range_to - info->range_from + 1;
        p->planned_by = PLAN_SUGGESTED;
    } else if (info && (info->has_range || info->range_invalid)) {
        span = s / 2; /* an implausible suggestion: trust nothing */
        p->planned_by = PLAN_HALVE;
    } else if (kind == GL_RPC_LIMIT_SPAN) {
        span = p->ceiling; /* set by the caller just before */
        p->planned_by = PLAN_CEILING;
    } else if (info && hints_ok && info->safe_span && info->safe_span < s) {
        span = info->safe_span;
        p->planned_by = PLAN_SAFE;
    } else if (target_cap(p) && p->dens_blocks > 0) {
        span = min_u64(span_of((double)s * REFUSAL_SHRINK), density_span(p));
        p->planned_by = PLAN_DENSITY;
    } else if (p->cap && kind == GL_RPC_LIMIT_COUNT && p->st.succeeded == 0) {
        span = s / p->probe_divisor;
        p->planned_by = PLAN_PROBE;
    } else {
        span = s / 2;
        p->planned_by = PLAN_HALVE;
    }
    if (span >= s)
        span = s - 1;
    settle_span(p, span);
}

/* ------------------------------------------------------------------ */
/* API                                                                  */

gl_code gl_range_plan_init(gl_range_plan *plan, uint64_t from, uint64_t to,
                           const gl_range_plan_config *cfg, gl_err *err)
{
    static const gl_range_plan_config dflt;
    if (!plan)
        return gl_err_set(err, GL_EINVAL, "range plan is NULL");
    memset(plan, 0, sizeof *plan);
    if (!cfg)
        cfg = &dflt;
    plan->from = plan->cursor = from;
    plan->to = to;
    if (from > to) {
        gl_err_set(&plan->err, GL_EINVAL,
                   "block range %llu..%llu is inverted",
                   (unsigned long long)from, (unsigned long long)to);
        return plan_fail(plan, err, GL_EINVAL);
    }
    if (to - from == UINT64_MAX) {
        gl_err_set(&plan->err, GL_ERANGE,
                   "block range %llu..%llu holds 2^64 blocks",
                   (unsigned long long)from, (unsigned long long)to);
        return plan_fail(plan, err, GL_ERANGE);
    }
    uint64_t blocks = to - from + 1;
    unsigned fill = cfg->fill_permille ? cfg->fill_permille
                                       : GL_RANGE_PLAN_FILL_PERMILLE_DEFAULT;
    if (fill < GL_RANGE_PLAN_FILL_PERMILLE_MIN)
        fill = GL_RANGE_PLAN_FILL_PERMILLE_MIN;
    if (fill > 1000)
        fill = 1000;
    plan->fill = fill / 1000.0;
    plan->probe_divisor = cfg->probe_divisor
                              ? cfg->probe_divisor
                              : GL_RANGE_PLAN_PROBE_DIVISOR_DEFAULT;
    if (plan->probe_divisor < 2)
        plan->probe_divisor = 2;
    plan->growth_max = cfg->growth_max ? cfg->growth_max
                                       : GL_RANGE_PLAN_GROWTH_MAX_DEFAULT;
    if (plan->growth_max < 2)
        plan->growth_max = 2;
    plan->max_requests = cfg->max_requests;
    if (!plan->max_requests) {
        plan->max_requests = sat_mul(blocks, 2);
        if (plan->max_requests > UINT64_MAX - GL_RANGE_PLAN_REQUESTS_SLACK)
            plan->max_requests = UINT64_MAX;
        else
            plan->max_requests += GL_RANGE_PLAN_REQUESTS_SLACK;
    }
    plan->ceiling = cfg->max_span;
    plan->cap = cfg->max_logs;
    plan->size = cfg->size_logs;
    plan->planned_by = PLAN_INITIAL;
    settle_span(plan, cfg->initial_span ? cfg->initial_span : blocks);
    gl_err_clear(&plan->err);
    return GL_OK;
}

bool gl_range_plan_next(gl_range_plan *plan, uint64_t *lo, uint64_t *hi)
{
    if (!plan || plan->done || plan->failed != GL_OK)
        return false;
    *lo = plan->cursor;
    *hi = plan->cursor + (plan->span - 1);
    return true;
}

gl_code gl_range_plan_on_success(gl_range_plan *plan, uint64_t lo, uint64_t hi,
                                 uint64_t n_logs, gl_err *err)
{
    gl_code rc = check_report(plan, lo, hi, err);
    if (rc != GL_OK)
        return rc;
    gl_range_plan *p = plan;
    uint64_t s = hi - lo + 1;

    p->st.succeeded++;
    p->st.blocks_done += s;
    p->st.logs = n_logs > UINT64_MAX - p->st.logs ? UINT64_MAX
                                                  : p->st.logs + n_logs;
    if (p->cap && n_logs > p->cap)
        p->cap = n_logs; /* the endpoint accepts more than it said */
    if (n_logs > p->max_ok_logs)
        p->max_ok_logs = n_logs;
    if (p->planned_by == PLAN_DENSITY && p->fill < 1.0)
        p->fill = fmin(1.0, p->fill + FILL_STEP);
    p->dens_logs = p->dens_logs * DENSITY_DECAY + (double)n_logs;
    p->dens_blocks = p->dens_blocks * DENSITY_DECAY + (double)s;
    if (n_logs)
        p->dens_samples++;
    p->last_density = (double)n_logs / (double)s;
    if (p->known_min) {
        if (hi >= p->known_end || n_logs >= p->known_min)
            p->known_min = 0;
        else
            p->known_min -= n_logs;
    }
    p->hint_refused = false;

    if (hi == p->to) {
        p->done = true;
        p->cursor = hi;
        rc = count_attempt(p, err);
        return rc;
    }
    p->cursor = hi + 1;
    plan_after_success(p, s, p->span);
    return count_attempt(p, err);
}

gl_code gl_range_plan_on_too_large(gl_range_plan *plan, uint64_t lo,
                                   uint64_t hi, const gl_rpc_errinfo *info,
                                   gl_err *err)
{
    gl_code rc = check_report(plan, lo, hi, err);
    if (rc != GL_OK)
        return rc;
    gl_range_plan *p = plan;
    uint64_t s = hi - lo + 1;
    gl_rpc_limit_kind kind = info ? info->limit : GL_RPC_LIMIT_UNKNOWN;

    p->st.refused++;
    if (s == 1) {
        p->st.requests++;
        gl_err_set(&p->err, GL_ERPC,
                   "eth_getLogs for the single block %llu is refused as too "
                   "large (%s); a single block cannot be split",
                   (unsigned long long)lo, info ? info->rule : "no reason given");
        return plan_fail(p, err, GL_ERPC);
    }

    if (info && info->max_results)
        p->cap = info->max_results;
    if (kind != GL_RPC_LIMIT_COUNT) {
        /* a span cap, or possibly one (bare 413, caller's NULL): the span
         * refused is not asked again, nor anything above its half */
        uint64_t c = (info && info->max_span && info->max_span < s)
                         ? info->max_span : s / 2;
        p->ceiling = p->ceiling ? min_u64(p->ceiling, c) : c;
    }
    if (kind != GL_RPC_LIMIT_SPAN) {
        p->count_refused = true;
        uint64_t cap = target_cap(p);
        /* the refused range holds more than the cap: remember where */
        p->known_end = hi;
        p->known_min = cap ? cap + 1 : 0;
    }
    /* One sample can be off by its blocks alone (the known window above
     * corrects the density); a refusal after several is noise, which a
     * lower fill absorbs. */
    if (p->planned_by == PLAN_DENSITY && p->dens_samples > 1) {
        /* a suggested range measures the miss: cut by that, not more */
        double cut = FILL_CUT;
        if (info && suggestion_ok(info, lo, hi))
            cut = fmax(FILL_CUT, (double)(info->range_to - info->range_from + 1) / (double)s);
        p->fill = fmax(GL_RANGE_PLAN_FILL_PERMILLE_MIN / 1000.0, p->fill * cut);
    }
    plan_after_refusal(p, lo, hi, info);
    return count_attempt(p, err);
}

gl_code gl_range_plan_on_failure(gl_range_plan *plan, uint64_t lo, uint64_t hi,
                                 gl_err *err)
{
    gl_code rc = check_report(plan, lo, hi, err);
    if (rc != GL_OK)
        return rc;
    plan->st.failed++;
    return count_attempt(plan, err);
}

bool gl_range_plan_done(const gl_range_plan *plan)
{
    return plan && plan->done;
}

gl_code gl_range_plan_status(const gl_range_plan *plan, gl_err *err)
{
    if (!plan)
        return gl_err_set(err, GL_EINVAL, "range plan is NULL");
    if (plan->failed == GL_OK)
        return GL_OK;
    if (err)
        *err = plan->err;
    return plan->failed;
}

void gl_range_plan_stats_get(const gl_range_plan *plan,
                             gl_range_plan_stats *out)
{
    memset(out, 0, sizeof *out);
    if (!plan)
        return;
    *out = plan->st;
    out->max_span = plan->ceiling;
    out->max_logs = plan->cap;
}
