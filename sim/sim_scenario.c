/* sim_scenario.c - read and validate a simulator scenario (docs/SCENARIO.md).
 *
 * The format is strict on purpose: a scenario sets the size of a benchmark,
 * and a misspelt field silently left at its default would produce a chain
 * other than the one asked for.  So every object's keys are checked against
 * a table, every number against its type and range, and the error names
 * the JSON path.  Defaults are applied first, then the file's values.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpuledger/keccak.h"
#include "gpuledger/sim.h"

/* ------------------------------------------------------------------ */
/* Field tables                                                         */

typedef enum ftype {
    F_UINT,   /* non-negative integer that fits `unsigned`, <= max */
    F_U64,    /* non-negative integer, <= max (as a double bound) */
    F_DOUBLE, /* number in [0, max] */
    F_SHARE,  /* number in [0, 1] */
    F_BOOL,
} ftype;

typedef struct field {
    const char *name;
    ftype type;
    size_t off;
    double max;
} field;

#define OFF(m) offsetof(gl_sim_scenario, m)

typedef struct pctx {
    const char *origin;
    gl_err *err;
} pctx;

static gl_code perr(const pctx *c, const char *path, const char *fmt, const char *detail)
{
    char msg[256];
    snprintf(msg, sizeof msg, fmt, detail ? detail : "");
    return gl_err_set(c->err, GL_EINVAL, "%s: %s: %s", c->origin, path, msg);
}

static gl_code set_field(const pctx *c, gl_sim_scenario *sc, const char *path, const field *f,
                         const json_t *v)
{
    char *base = (char *)sc + f->off;
    switch (f->type) {
    case F_BOOL:
        if (!json_is_boolean(v))
            return perr(c, path, "must be true or false%s", NULL);
        *(bool *)base = json_is_true(v);
        return GL_OK;
    case F_UINT:
    case F_U64: {
        if (json_is_real(v) && floor(json_real_value(v)) == json_real_value(v) && json_real_value(v) >= 0 &&
            json_real_value(v) < 9.2e18) {
            /* 3.0 is an integer written as a real: accept it */
        } else if (!json_is_integer(v) || json_integer_value(v) < 0) {
            return perr(c, path, "must be a non-negative integer%s", NULL);
        }
        double d = json_is_integer(v) ? (double)json_integer_value(v) : json_real_value(v);
        if (d > f->max) {
            char lim[64];
            snprintf(lim, sizeof lim, "%.0f", f->max);
            return perr(c, path, "must be at most %s", lim);
        }
        uint64_t u = json_is_integer(v) ? (uint64_t)json_integer_value(v) : (uint64_t)d;
        if (f->type == F_UINT)
            *(unsigned *)base = (unsigned)u;
        else
            *(uint64_t *)base = u;
        return GL_OK;
    }
    case F_DOUBLE:
    case F_SHARE: {
        if (!json_is_number(v))
            return perr(c, path, "must be a number%s", NULL);
        double d = json_number_value(v);
        double max = f->type == F_SHARE ? 1.0 : f->max;
        if (!(d >= 0) || d > max) {
            char lim[64];
            snprintf(lim, sizeof lim, "%g", max);
            return perr(c, path, "must be between 0 and %s", lim);
        }
        *(double *)base = d;
        return GL_OK;
    }
    }
    return perr(c, path, "internal: unknown field type%s", NULL);
}

/* Apply object `obj` at `path` through `fields`; unknown keys are errors. */
static gl_code apply_object(const pctx *c, gl_sim_scenario *sc, const char *path, const json_t *obj,
                            const field *fields, size_t nfields)
{
    if (!json_is_object(obj))
        return perr(c, path, "must be an object%s", NULL);
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)obj, key, v) {
        char sub[256];
        snprintf(sub, sizeof sub, "%s%s%s", path, *path ? "." : "", key);
        size_t i = 0;
        while (i < nfields && strcmp(fields[i].name, key))
            i++;
        if (i == nfields)
            return perr(c, sub, "unknown field%s", NULL);
        gl_code rc = set_field(c, sc, sub, &fields[i], v);
        if (rc)
            return rc;
    }
    return GL_OK;
}

/* A map platform name -> weight (or bool), into an array indexed by
 * gl_sim_platform. */
static gl_code apply_platform_map(const pctx *c, const char *path, const json_t *obj, unsigned *weights,
                                  bool *flags)
{
    if (!json_is_object(obj))
        return perr(c, path, "must be an object%s", NULL);
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)obj, key, v) {
        char sub[256];
        snprintf(sub, sizeof sub, "%s.%s", path, key);
        int p = -1;
        for (int i = 0; i < GL_SIM_NPLATFORMS; i++)
            if (!strcmp(key, gl_sim_platform_name((gl_sim_platform)i)))
                p = i;
        if (p < 0)
            return perr(c, sub, "unknown platform (known: gpumarket, livepeer, golem, spheron, swan, fluence, bazaar)%s",
                        NULL);
        if (flags) {
            if (!json_is_boolean(v))
                return perr(c, sub, "must be true or false%s", NULL);
            flags[p] = json_is_true(v);
        } else {
            if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 1000000)
                return perr(c, sub, "must be an integer weight between 0 and 1000000%s", NULL);
            weights[p] = (unsigned)json_integer_value(v);
        }
    }
    return GL_OK;
}

/* ------------------------------------------------------------------ */
/* Dates                                                                */

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
 * days_from_civil). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static gl_code parse_start(const pctx *c, const json_t *v, uint64_t *out)
{
    if (!json_is_string(v))
        return perr(c, "start", "must be a date string \"YYYY-MM-DD\" or \"YYYY-MM-DDTHH:MM:SSZ\"%s", NULL);
    const char *s = json_string_value(v);
    unsigned y, mo, d, h = 0, mi = 0, se = 0;
    int n = 0;
    size_t len = strlen(s);
    bool ok = false;
    if (len == 10 && sscanf(s, "%4u-%2u-%2u%n", &y, &mo, &d, &n) == 3 && n == 10)
        ok = true;
    else if (len == 20 && sscanf(s, "%4u-%2u-%2uT%2u:%2u:%2uZ%n", &y, &mo, &d, &h, &mi, &se, &n) == 6 && n == 20)
        ok = true;
    static const unsigned mdays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (!ok || y < 2015 || y > 2100 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 || mi > 59 ||
        se > 59)
        return perr(c, "start", "\"%s\" is not a date between 2015 and 2100 (\"YYYY-MM-DD\" or "
                    "\"YYYY-MM-DDTHH:MM:SSZ\")", s);
    if (mo == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return perr(c, "start", "\"%s\" is not a date (not a leap year)", s);
    *out = (uint64_t)(days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se);
    return GL_OK;
}

/* ------------------------------------------------------------------ */
/* The scenario                                                         */

static void defaults(gl_sim_scenario *sc)
{
    memset(sc, 0, sizeof *sc);
    sc->block_time = 12;
    sc->base_fee_wei = 1000000000;    /* 1 gwei */
    sc->priority_fee_wei = 100000000; /* 0.1 gwei */
    sc->max_txs_per_block = 500;
    for (int i = 0; i < GL_SIM_NPLATFORMS; i++)
        sc->platform[i] = i != GL_SIM_BAZAAR; /* the bazaar only when asked for */
    static const gl_sim_tz tz[] = {{0, 3}, {1, 2}, {-5, 2}, {8, 2}, {3, 1}, {-8, 1}};
    memcpy(sc->tz, tz, sizeof tz);
    sc->ntz = sizeof tz / sizeof tz[0];
    sc->exchanges = 2;
    sc->bridge.enabled = true;
    sc->bridge.buyer_share = 0.1;
    sc->providers.multi_wallet_share = 0.2;
    sc->providers.max_wallets = 3;
    sc->providers.offers_per_wallet = 2;
    sc->providers.native_offer_share = 0.1;
    sc->providers.cashout_share = 0.5;
    sc->buyers.purchases_per_day = 1.0;
    sc->buyers.second_wallet_share = 0.1;
    sc->buyers.extend_share = 0.1;
    sc->buyers.early_end_share = 0.15;
    static const unsigned pw[GL_SIM_NPLATFORMS] = {6, 1, 1, 1, 1, 1, 6};
    memcpy(sc->providers.platform_weight, pw, sizeof pw);
    memcpy(sc->buyers.platform_weight, pw, sizeof pw);
    sc->sponsor_fanout.wallets = 5;
    sc->split_order.wallets = 5;
    sc->pass_through.clients = 2;
    sc->reimbursed.clients = 2;
    sc->lease_for.clients = 2;
    sc->self_dealing.leases_per_day = 1;
    sc->circular.size = 3;
    sc->circular.rounds_per_day = 1;
    sc->bazaar.min_minutes = 30;
    sc->bazaar.max_minutes = 600;
    sc->bazaar.lead_min_minutes = 2;
    sc->bazaar.lead_max_minutes = 20;
    sc->bazaar.reimburse_max_minutes = 60;
    sc->provider_claims.relabelled_leases_per_day = 1;
    sc->provider_claims.relabelled_usd_min = 0.90; /* the catalogue's A100-40GB range */
    sc->provider_claims.relabelled_usd_max = 1.40;
    sc->provider_claims.oversold_min_factor = 1.5;
    sc->provider_claims.oversold_max_factor = 3;
    sc->provider_claims.sweeping_wallets = 3;
}

#define NF(a) (sizeof(a) / sizeof((a)[0]))
#define MAXA ((double)GL_SIM_MAX_ACTORS)
#define MAXR GL_SIM_MAX_RATE

static const field f_chain[] = {
    {"block_time", F_UINT, OFF(block_time), 3600},
    {"base_fee_wei", F_U64, OFF(base_fee_wei), 1e15},
    {"priority_fee_wei", F_U64, OFF(priority_fee_wei), 1e15},
    {"max_txs_per_block", F_UINT, OFF(max_txs_per_block), 100000},
    {"block_gas_limit", F_U64, OFF(block_gas_limit), 1e12},
};
static const field f_exchanges[] = {{"count", F_UINT, OFF(exchanges), 1000}};
static const field f_bridge[] = {
    {"enabled", F_BOOL, OFF(bridge.enabled), 0},
    {"buyer_share", F_SHARE, OFF(bridge.buyer_share), 1},
    {"releases_per_day", F_DOUBLE, OFF(bridge.releases_per_day), MAXR},
};
static const field f_providers[] = {
    {"count", F_UINT, OFF(providers.count), MAXA},
    {"multi_wallet_share", F_SHARE, OFF(providers.multi_wallet_share), 1},
    {"max_wallets", F_UINT, OFF(providers.max_wallets), 8},
    {"resellers", F_UINT, OFF(providers.resellers), MAXA},
    {"offers_per_wallet", F_UINT, OFF(providers.offers_per_wallet), 8},
    {"native_offer_share", F_SHARE, OFF(providers.native_offer_share), 1},
    {"cashout_share", F_SHARE, OFF(providers.cashout_share), 1},
};
static const field f_buyers[] = {
    {"count", F_UINT, OFF(buyers.count), MAXA},
    {"purchases_per_day", F_DOUBLE, OFF(buyers.purchases_per_day), MAXR},
    {"second_wallet_share", F_SHARE, OFF(buyers.second_wallet_share), 1},
    {"extend_share", F_SHARE, OFF(buyers.extend_share), 1},
    {"early_end_share", F_SHARE, OFF(buyers.early_end_share), 1},
};
static const field f_fanout[] = {
    {"count", F_UINT, OFF(sponsor_fanout.count), MAXA},
    {"wallets", F_UINT, OFF(sponsor_fanout.wallets), 1000},
};
static const field f_split[] = {
    {"count", F_UINT, OFF(split_order.count), MAXA},
    {"wallets", F_UINT, OFF(split_order.wallets), 1000},
};
static const field f_pass[] = {
    {"count", F_UINT, OFF(pass_through.count), MAXA},
    {"clients", F_UINT, OFF(pass_through.clients), 1000},
};
static const field f_reimb[] = {
    {"count", F_UINT, OFF(reimbursed.count), MAXA},
    {"clients", F_UINT, OFF(reimbursed.clients), 1000},
};
static const field f_leasefor[] = {
    {"count", F_UINT, OFF(lease_for.count), MAXA},
    {"clients", F_UINT, OFF(lease_for.clients), 1000},
};
static const field f_lp3[] = {{"count", F_UINT, OFF(livepeer_third_party.count), MAXA}};
static const field f_gdep[] = {{"count", F_UINT, OFF(golem_deposit.count), MAXA}};
static const field f_self[] = {
    {"count", F_UINT, OFF(self_dealing.count), MAXA},
    {"leases_per_day", F_DOUBLE, OFF(self_dealing.leases_per_day), MAXR},
};
static const field f_circ[] = {
    {"rings", F_UINT, OFF(circular.rings), MAXA},
    {"size", F_UINT, OFF(circular.size), 100},
    {"rounds_per_day", F_DOUBLE, OFF(circular.rounds_per_day), MAXR},
};
static const field f_claims[] = {
    {"respect_capacity", F_BOOL, OFF(provider_claims.respect_capacity), 0},
    {"cheap_share", F_SHARE, OFF(provider_claims.cheap_share), 1},
    {"busy_share", F_SHARE, OFF(provider_claims.busy_share), 1},
};
static const field f_relabelled[] = {
    {"count", F_UINT, OFF(provider_claims.relabelled), MAXA},
    {"leases_per_day", F_DOUBLE, OFF(provider_claims.relabelled_leases_per_day), MAXR},
    {"usd_min", F_DOUBLE, OFF(provider_claims.relabelled_usd_min), 1000},
    {"usd_max", F_DOUBLE, OFF(provider_claims.relabelled_usd_max), 1000},
};
static const field f_oversold[] = {
    {"count", F_UINT, OFF(provider_claims.oversold), MAXA},
    {"min_factor", F_DOUBLE, OFF(provider_claims.oversold_min_factor), 100},
    {"max_factor", F_DOUBLE, OFF(provider_claims.oversold_max_factor), 100},
};
static const field f_sweeping[] = {
    {"count", F_UINT, OFF(provider_claims.sweeping), MAXA},
    {"wallets", F_UINT, OFF(provider_claims.sweeping_wallets), 8},
};
static const field f_noise[] = {
    {"wallets", F_UINT, OFF(noise.wallets), MAXA},
    {"transfers_per_day", F_DOUBLE, OFF(noise.transfers_per_day), 100 * MAXR},
    {"airdrop_recipients", F_UINT, OFF(noise.airdrop_recipients), MAXA},
    {"hubs", F_UINT, OFF(noise.hubs), 100},
    {"hub_calls_per_day", F_DOUBLE, OFF(noise.hub_calls_per_day), 100 * MAXR},
    {"timezone_entities", F_UINT, OFF(noise.timezone_entities), MAXA},
};

static const field f_bazaar[] = {
    {"proxies", F_BOOL, OFF(bazaar.proxies), 0},
    {"min_minutes", F_UINT, OFF(bazaar.min_minutes), 43200},
    {"max_minutes", F_UINT, OFF(bazaar.max_minutes), 43200},
    {"lead_min_minutes", F_UINT, OFF(bazaar.lead_min_minutes), 1440},
    {"lead_max_minutes", F_UINT, OFF(bazaar.lead_max_minutes), 1440},
    {"reimburse_max_minutes", F_UINT, OFF(bazaar.reimburse_max_minutes), 1440},
};

typedef struct proxy_entry {
    const char *name;
    const field *fields;
    size_t n;
} proxy_entry;

static const proxy_entry proxies[] = {
    {"sponsor_fanout", f_fanout, NF(f_fanout)},
    {"pass_through", f_pass, NF(f_pass)},
    {"reimbursed", f_reimb, NF(f_reimb)},
    {"lease_for", f_leasefor, NF(f_leasefor)},
    {"livepeer_third_party", f_lp3, NF(f_lp3)},
    {"golem_deposit", f_gdep, NF(f_gdep)},
    {"split_order", f_split, NF(f_split)},
};

static gl_code parse_timezones(const pctx *c, gl_sim_scenario *sc, const json_t *v)
{
    if (!json_is_array(v) || json_array_size(v) == 0 || json_array_size(v) > GL_SIM_MAX_TZ)
        return perr(c, "timezones", "must be an array of 1 to 24 {\"offset\", \"weight\"} objects%s", NULL);
    sc->ntz = json_array_size(v);
    unsigned total = 0;
    for (size_t i = 0; i < sc->ntz; i++) {
        char path[64];
        snprintf(path, sizeof path, "timezones[%zu]", i);
        json_t *e = json_array_get(v, i);
        if (!json_is_object(e))
            return perr(c, path, "must be an object%s", NULL);
        const char *key;
        json_t *x;
        bool has_off = false;
        sc->tz[i].weight = 1;
        json_object_foreach(e, key, x) {
            char sub[96];
            snprintf(sub, sizeof sub, "%s.%s", path, key);
            if (!strcmp(key, "offset")) {
                if (!json_is_integer(x) || json_integer_value(x) < -12 || json_integer_value(x) > 14)
                    return perr(c, sub, "must be an integer number of hours from -12 to 14%s", NULL);
                sc->tz[i].offset = (int)json_integer_value(x);
                has_off = true;
            } else if (!strcmp(key, "weight")) {
                if (!json_is_integer(x) || json_integer_value(x) < 0 || json_integer_value(x) > 1000000)
                    return perr(c, sub, "must be an integer weight between 0 and 1000000%s", NULL);
                sc->tz[i].weight = (unsigned)json_integer_value(x);
            } else {
                return perr(c, sub, "unknown field%s", NULL);
            }
        }
        if (!has_off)
            return perr(c, path, "needs \"offset\"%s", NULL);
        total += sc->tz[i].weight;
    }
    if (!total)
        return perr(c, "timezones", "every weight is zero%s", NULL);
    return GL_OK;
}

/* Cross-field rules: what a typology needs to exist. */
static gl_code check_consistency(const pctx *c, const gl_sim_scenario *sc)
{
    const bool *p = sc->platform;
    /* the reference market's proxy typologies act where bazaar.proxies says */
    gl_sim_platform pm = sc->bazaar.proxies ? GL_SIM_BAZAAR : GL_SIM_GPUMARKET;
    struct need {
        unsigned count;
        gl_sim_platform plat;
        const char *path;
    } needs[] = {
        {sc->sponsor_fanout.count, pm, "proxies.sponsor_fanout.count"},
        {sc->pass_through.count, pm, "proxies.pass_through.count"},
        {sc->reimbursed.count, pm, "proxies.reimbursed.count"},
        {sc->lease_for.count, pm, "proxies.lease_for.count"},
        {sc->split_order.count, pm, "proxies.split_order.count"},
        {sc->self_dealing.count, GL_SIM_GPUMARKET, "self_dealing.count"},
        {sc->circular.rings, GL_SIM_GPUMARKET, "circular.rings"},
        {sc->providers.resellers, GL_SIM_GPUMARKET, "providers.resellers"},
        {sc->livepeer_third_party.count, GL_SIM_LIVEPEER, "proxies.livepeer_third_party.count"},
        {sc->golem_deposit.count, GL_SIM_GOLEM, "proxies.golem_deposit.count"},
        {sc->bazaar.proxies, GL_SIM_BAZAAR, "bazaar.proxies"},
    };
    for (size_t i = 0; i < NF(needs); i++)
        if (needs[i].count && !p[needs[i].plat])
            return perr(c, needs[i].path, "needs platform %s, which is disabled", gl_sim_platform_name(needs[i].plat));
    bool any_actor = sc->providers.count || sc->buyers.count || sc->noise.wallets || sc->sponsor_fanout.count ||
                     sc->split_order.count || sc->pass_through.count || sc->reimbursed.count ||
                     sc->lease_for.count || sc->livepeer_third_party.count || sc->golem_deposit.count ||
                     sc->self_dealing.count || sc->circular.rings || sc->noise.airdrop_recipients;
    if (any_actor && sc->exchanges == 0)
        return perr(c, "exchanges.count", "at least one exchange is needed to fund the actors%s", NULL);
    unsigned buying = sc->buyers.count + sc->sponsor_fanout.count + sc->split_order.count + sc->pass_through.count +
                      sc->reimbursed.count + sc->lease_for.count + sc->livepeer_third_party.count +
                      sc->golem_deposit.count;
    if (buying && sc->providers.count == 0)
        return perr(c, "providers.count", "buyers need at least one provider%s", NULL);
    unsigned nplat = 0, bw = 0, pw = 0;
    for (int i = 0; i < GL_SIM_NPLATFORMS; i++)
        if (p[i]) {
            nplat++;
            bw += sc->buyers.platform_weight[i];
            pw += sc->providers.platform_weight[i];
        }
    if (sc->providers.count && nplat == 0)
        return perr(c, "platforms", "every platform is disabled%s", NULL);
    if (sc->buyers.count && bw == 0)
        return perr(c, "buyers.platform_weights", "no enabled platform has a weight%s", NULL);
    if (sc->providers.count && pw == 0)
        return perr(c, "providers.platform_weights", "no enabled platform has a weight%s", NULL);
    if (sc->circular.rings && sc->circular.size < 2)
        return perr(c, "circular.size", "a ring needs at least 2 entities%s", NULL);
    if (sc->split_order.count && sc->split_order.wallets < 2)
        return perr(c, "proxies.split_order.wallets", "a split order needs at least 2 wallets%s", NULL);
    if (sc->sponsor_fanout.count && sc->sponsor_fanout.wallets < 1)
        return perr(c, "proxies.sponsor_fanout.wallets", "must be at least 1%s", NULL);
    if ((sc->pass_through.count && !sc->pass_through.clients) || (sc->reimbursed.count && !sc->reimbursed.clients) ||
        (sc->lease_for.count && !sc->lease_for.clients))
        return perr(c, "proxies", "a proxy typology with a count needs at least 1 client%s", NULL);
    if (sc->provider_claims.relabelled_usd_min < 0.01 ||
        sc->provider_claims.relabelled_usd_min > sc->provider_claims.relabelled_usd_max)
        return perr(c, "provider_claims.relabelled.usd_min", "must be at least 0.01 and at most usd_max%s", NULL);
    if (sc->provider_claims.oversold_min_factor > sc->provider_claims.oversold_max_factor)
        return perr(c, "provider_claims.oversold.min_factor", "must be at most max_factor%s", NULL);
    if (sc->provider_claims.oversold && sc->provider_claims.oversold_min_factor <= 1)
        return perr(c, "provider_claims.oversold.min_factor",
                    "must be above 1 (at most the listed GPUs at once is not overselling)%s", NULL);
    /* every claim acts on the bazaar when GpuMarket is off */
    if (sc->provider_claims.any && !p[GL_SIM_GPUMARKET] && !p[GL_SIM_BAZAAR])
        return perr(c, "provider_claims", "needs platform gpumarket or bazaar, both disabled%s", NULL);
    if (sc->provider_claims.sweeping && sc->provider_claims.sweeping_wallets < 2)
        return perr(c, "provider_claims.sweeping.wallets",
                    "must be at least 2 (one wallet sending to a collector is no sweep pattern)%s", NULL);
    if ((sc->provider_claims.relabelled || sc->provider_claims.oversold || sc->provider_claims.sweeping) &&
        !sc->buyers.count)
        return perr(c, "provider_claims", "relabelled and oversold providers sell to honest buyers: buyers.count is 0%s",
                    NULL);
    if (sc->providers.resellers > sc->providers.count / 2)
        return perr(c, "providers.resellers", "at most half of the providers can be resellers%s", NULL);
    if (sc->bazaar.min_minutes < 1 || sc->bazaar.min_minutes > sc->bazaar.max_minutes)
        return perr(c, "bazaar.min_minutes", "must be at least 1 and at most bazaar.max_minutes%s", NULL);
    if (sc->bazaar.lead_min_minutes < 1 || sc->bazaar.lead_min_minutes > sc->bazaar.lead_max_minutes)
        return perr(c, "bazaar.lead_min_minutes", "must be at least 1 and at most bazaar.lead_max_minutes%s", NULL);
    if (sc->bazaar.reimburse_max_minutes < 2)
        return perr(c, "bazaar.reimburse_max_minutes", "must be at least 2%s", NULL);
    if (sc->block_time == 0)
        return perr(c, "chain.block_time", "must be at least 1 second%s", NULL);
    if (sc->max_txs_per_block == 0)
        return perr(c, "chain.max_txs_per_block", "must be at least 1%s", NULL);
    if (sc->base_fee_wei == 0)
        return perr(c, "chain.base_fee_wei", "must be at least 1 wei%s", NULL);
    if (sc->block_gas_limit && sc->block_gas_limit < 10000000)
        return perr(c, "chain.block_gas_limit", "must be 0 (the node's) or at least 10000000%s", NULL);
    return GL_OK;
}

static gl_code parse_root(const pctx *c, gl_sim_scenario *sc, const json_t *root)
{
    if (!json_is_object(root))
        return perr(c, "(top)", "a scenario is a JSON object%s", NULL);
    bool has_format = false, has_name = false, has_start = false, has_days = false;
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)root, key, v) {
        gl_code rc = GL_OK;
        if (!strcmp(key, "format")) {
            if (!json_is_string(v) || strcmp(json_string_value(v), GL_SIM_SCENARIO_FORMAT))
                return perr(c, "format", "must be \"%s\"", GL_SIM_SCENARIO_FORMAT);
            has_format = true;
        } else if (!strcmp(key, "name")) {
            const char *s = json_string_value(v);
            size_t n = s ? strlen(s) : 0;
            if (!n || n >= sizeof sc->name || strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789._-") != n)
                return perr(c, "name", "must be 1 to 63 characters of [a-z0-9._-]%s", NULL);
            memcpy(sc->name, s, n + 1);
            has_name = true;
        } else if (!strcmp(key, "description")) {
            if (!json_is_string(v))
                return perr(c, "description", "must be a string%s", NULL);
        } else if (!strcmp(key, "start")) {
            rc = parse_start(c, v, &sc->start);
            has_start = true;
        } else if (!strcmp(key, "days")) {
            if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > GL_SIM_MAX_DAYS)
                return perr(c, "days", "must be an integer from 1 to 366%s", NULL);
            sc->days = (unsigned)json_integer_value(v);
            has_days = true;
        } else if (!strcmp(key, "chain")) {
            rc = apply_object(c, sc, "chain", v, f_chain, NF(f_chain));
        } else if (!strcmp(key, "platforms")) {
            rc = apply_platform_map(c, "platforms", v, NULL, sc->platform);
        } else if (!strcmp(key, "timezones")) {
            rc = parse_timezones(c, sc, v);
        } else if (!strcmp(key, "exchanges")) {
            rc = apply_object(c, sc, "exchanges", v, f_exchanges, NF(f_exchanges));
        } else if (!strcmp(key, "bridge")) {
            rc = apply_object(c, sc, "bridge", v, f_bridge, NF(f_bridge));
        } else if (!strcmp(key, "providers") || !strcmp(key, "buyers")) {
            bool prov = key[0] == 'p';
            json_t *w = json_is_object(v) ? json_object_get(v, "platform_weights") : NULL;
            json_t *copy = json_is_object(v) ? json_copy(v) : NULL;
            if (copy)
                json_object_del(copy, "platform_weights");
            rc = apply_object(c, sc, key, copy ? copy : v, prov ? f_providers : f_buyers,
                              prov ? NF(f_providers) : NF(f_buyers));
            json_decref(copy);
            if (!rc && w)
                rc = apply_platform_map(c, prov ? "providers.platform_weights" : "buyers.platform_weights", w,
                                        prov ? sc->providers.platform_weight : sc->buyers.platform_weight, NULL);
        } else if (!strcmp(key, "proxies")) {
            if (!json_is_object(v))
                return perr(c, "proxies", "must be an object%s", NULL);
            const char *pk;
            json_t *pv;
            json_object_foreach(v, pk, pv) {
                char path[128];
                snprintf(path, sizeof path, "proxies.%s", pk);
                size_t i = 0;
                while (i < NF(proxies) && strcmp(proxies[i].name, pk))
                    i++;
                if (i == NF(proxies))
                    return perr(c, path, "unknown proxy typology (known: sponsor_fanout, pass_through, "
                                "reimbursed, lease_for, livepeer_third_party, golem_deposit, split_order)%s", NULL);
                rc = apply_object(c, sc, path, pv, proxies[i].fields, proxies[i].n);
                if (rc)
                    return rc;
            }
        } else if (!strcmp(key, "bazaar")) {
            rc = apply_object(c, sc, "bazaar", v, f_bazaar, NF(f_bazaar));
        } else if (!strcmp(key, "self_dealing")) {
            rc = apply_object(c, sc, "self_dealing", v, f_self, NF(f_self));
        } else if (!strcmp(key, "circular")) {
            rc = apply_object(c, sc, "circular", v, f_circ, NF(f_circ));
        } else if (!strcmp(key, "provider_claims")) {
            /* two sub-objects (relabelled, oversold) beside plain fields */
            if (!json_is_object(v))
                return perr(c, "provider_claims", "must be an object%s", NULL);
            json_t *copy = json_copy(v);
            if (!copy)
                return gl_err_set(c->err, GL_ENOMEM, "out of memory");
            json_t *rl = json_object_get(v, "relabelled"), *ov = json_object_get(v, "oversold"),
                   *sw = json_object_get(v, "sweeping");
            json_object_del(copy, "relabelled");
            json_object_del(copy, "oversold");
            json_object_del(copy, "sweeping");
            rc = apply_object(c, sc, "provider_claims", copy, f_claims, NF(f_claims));
            json_decref(copy);
            if (!rc && rl)
                rc = apply_object(c, sc, "provider_claims.relabelled", rl, f_relabelled, NF(f_relabelled));
            if (!rc && ov)
                rc = apply_object(c, sc, "provider_claims.oversold", ov, f_oversold, NF(f_oversold));
            if (!rc && sw)
                rc = apply_object(c, sc, "provider_claims.sweeping", sw, f_sweeping, NF(f_sweeping));
            sc->provider_claims.any = true;
        } else if (!strcmp(key, "noise")) {
            rc = apply_object(c, sc, "noise", v, f_noise, NF(f_noise));
        } else {
            return perr(c, key, "unknown field%s", NULL);
        }
        if (rc)
            return rc;
    }
    if (!has_format)
        return perr(c, "format", "missing (must be \"%s\")", GL_SIM_SCENARIO_FORMAT);
    if (!has_name)
        return perr(c, "name", "missing%s", NULL);
    if (!has_start)
        return perr(c, "start", "missing%s", NULL);
    if (!has_days)
        return perr(c, "days", "missing%s", NULL);
    return check_consistency(c, sc);
}

gl_code gl_sim_scenario_parse(gl_sim_scenario *out, const char *text, size_t len, const char *origin,
                              gl_err *err)
{
    pctx c = {origin ? origin : "scenario", err};
    json_error_t jerr;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        memset(out, 0, sizeof *out);
        return gl_err_set(err, GL_EINVAL, "%s: not valid JSON: %s (line %d, column %d)", c.origin, jerr.text,
                          jerr.line, jerr.column);
    }
    defaults(out);
    gl_code rc = parse_root(&c, out, root);
    if (rc == GL_OK) {
        char *canon = json_dumps(root, JSON_COMPACT | JSON_SORT_KEYS);
        if (!canon)
            rc = gl_err_set(err, GL_ENOMEM, "%s: out of memory", c.origin);
        else
            gl_keccak256(canon, strlen(canon), out->hash);
        free(canon);
    }
    json_decref(root);
    if (rc)
        memset(out, 0, sizeof *out);
    return rc;
}

gl_code gl_sim_scenario_load(gl_sim_scenario *out, const char *path, gl_err *err)
{
    memset(out, 0, sizeof *out);
    FILE *f = fopen(path, "rb");
    if (!f)
        return gl_err_set(err, GL_EIO, "cannot open scenario '%s'", path);
    char *buf = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len == cap) {
            size_t ncap = cap ? cap * 2 : 65536;
            if (ncap > (64u << 20)) {
                free(buf);
                fclose(f);
                return gl_err_set(err, GL_ERANGE, "scenario '%s' is larger than 64 MiB", path);
            }
            char *nb = realloc(buf, ncap);
            if (!nb) {
                free(buf);
                fclose(f);
                return gl_err_set(err, GL_ENOMEM, "out of memory reading '%s'", path);
            }
            buf = nb;
            cap = ncap;
        }
        size_t n = fread(buf + len, 1, cap - len, f);
        len += n;
        if (n == 0)
            break;
    }
    bool bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        return gl_err_set(err, GL_EIO, "cannot read scenario '%s'", path);
    }
    gl_code rc = gl_sim_scenario_parse(out, buf ? buf : "", len, path, err);
    free(buf);
    return rc;
}

const char *gl_sim_platform_name(gl_sim_platform p)
{
    switch (p) {
    case GL_SIM_GPUMARKET: return "gpumarket";
    case GL_SIM_LIVEPEER: return "livepeer";
    case GL_SIM_GOLEM: return "golem";
    case GL_SIM_SPHERON: return "spheron";
    case GL_SIM_SWAN: return "swan";
    case GL_SIM_FLUENCE: return "fluence";
    case GL_SIM_BAZAAR: return "bazaar";
    case GL_SIM_NPLATFORMS: break;
    }
    return "unknown";
}
