/* sim_flows.c - what the actors do.  For every task kind: a prepare step
 * that decides, checks funds and locks (sim_world.h explains the rules) and
 * signs the transactions, and an effect step that applies the mined
 * transaction to the model, checks the chain's logs against what was
 * predicted, records payments, and schedules what follows.
 *
 * Sections: helpers, purchases (planning), the planners (TK_DAY), the
 * prepare steps, the effect steps, dispatch.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpuledger/keccak.h"
#include "gpuledger/sim_world.h"

/* Gas limits per action: measured on anvil (cancun) with margin; a
 * transaction that needs more reverts, and the run stops naming it. */
#define G_ETH 21000
#define G_ETH_CONTRACT 45000
#define G_TOKEN 70000
#define G_MINT 100000
#define G_APPROVE 60000
#define G_REGISTER 330000
#define G_UPDATE 60000
#define G_LEASE 380000
#define G_EXTEND 120000
#define G_END 150000
#define G_WITHDRAW 100000
#define G_LP_FUND 120000
#define G_LP_REDEEM 220000
#define G_GOLEM_BASE 90000
#define G_GOLEM_PER 60000
#define G_GDEP_CREATE 220000
#define G_GDEP_PAY 140000
#define G_GDEP_CLOSE 160000
#define G_SPH_ORDER 600000 /* a compressed spec of ~260 bytes is stored */
#define G_SPH_MATCH 500000
#define G_SPH_CLOSE 160000
#define G_SWAN_ASSIGN 420000
#define G_SWAN_RELEASE 120000
#define G_SWAN_PER 70000
#define G_FL_DEAL 450000
#define G_FL_DEPOSIT 120000
#define G_FL_PAY 150000
#define G_BRIDGE 120000
#define G_HUB_FWD 100000
#define G_HUB_PAY 90000
#define G_HUB_MULTI 60000
#define G_HUB_PER 40000
#define G_SETUP_CALL 100000
#define G_BZ_LIST 160000
#define G_BZ_RENT 150000

#define SPHERON_SECONDS_PER_BLOCK 2
/* Spheron prices are rates per block in 18-decimal fixed point whatever the
 * token's decimals (USDC: 6), so a rate's total in USDC units is
 * rate * blocks * 10^6 / 10^18 = rate * blocks / 10^12, rounded down. */
#define SPHERON_RATE_SCALE ((sim_amt)1000000000000ULL)
#define FLUENCE_EPOCH 3600
#define AIRDROP_CHUNK 50

static const sim_amt ETH1 = (sim_amt)1000000000000000000ULL;
static const sim_amt SIM_INF = ~(sim_amt)0; /* "infinite" allowance: uint256 max on chain */
static const char UINT256_MAX_DEC[] =
    "115792089237316195423570985008687907853269984665640564039457584007913129639935";

/* ------------------------------------------------------------------ */
/* Helpers                                                              */

static uint64_t rnd(sim_world *w, uint64_t lo, uint64_t hi) { return gl_sim_rng_range(&w->rng, lo, hi); }

static sim_prep later(sim_world *w, sim_task *t, uint64_t lo, uint64_t hi)
{
    t->time = w->blk_time + rnd(w, lo, hi);
    return PR_LATER;
}

static gl_code push(sim_world *w, sim_tk kind, uint64_t time, uint32_t a, uint32_t b, uint32_t c, uint32_t d,
                    uint64_t x, sim_amt v, gl_err *err)
{
    sim_task t;
    memset(&t, 0, sizeof t);
    t.kind = (uint16_t)kind;
    t.time = time;
    t.a = a;
    t.b = b;
    t.c = c;
    t.d = d;
    t.x = x;
    t.v = v;
    return gl_simw_push(w, &t, err);
}

static sim_addr *A(sim_world *w, uint32_t i) { return &w->addrs.v[i]; }
static sim_entity *E(sim_world *w, uint32_t i) { return &w->ents.v[i]; }

static json_t *jaddr(sim_world *w, uint32_t i) { return gl_simw_addr_json(w, i); }

static json_t *jraw(const uint8_t a[20])
{
    char hex[43];
    return json_string(gl_hex_encode(a, 20, true, hex));
}

static json_t *jamt(sim_amt v) { return v == SIM_INF ? json_string(UINT256_MAX_DEC) : gl_simw_amt_json(v); }

static json_t *jhex(const uint8_t *b, size_t n)
{
    char *h = gl_hex_encode_alloc(b, n, true);
    json_t *j = h ? json_string(h) : NULL;
    free(h);
    return j;
}

static json_t *jtoken(sim_world *w, sim_asset as)
{
    static const uint8_t zero[20] = {0};
    return as == AS_ETH ? jraw(zero) : jaddr(w, gl_simw_token(w, as));
}

/* Both checks run (so both top-ups are asked for at once). */
static bool funds(sim_world *w, uint32_t wal, sim_asset as, sim_amt tok, sim_amt eth, gl_err *err)
{
    bool ok = true;
    if (as != AS_ETH && tok)
        ok = gl_simw_ensure(w, wal, as, tok, err);
    bool ok2 = gl_simw_ensure(w, wal, AS_ETH, eth + (as == AS_ETH ? tok : 0), err);
    return ok && ok2;
}

static uint64_t lock_key(uint32_t idx, unsigned slot) { return (uint64_t)idx << 8 | slot; }
enum { LK_OFFER = 1, LK_LEASE = 2, LK_EARN = 3 /* + asset (0, 1) */, LK_DEAL = 6, LK_BAL = 16 /* + asset */ };

/* Does the wallet approve "infinite" allowances (most wallet software) or
 * the exact amount each time? Fixed per wallet. */
static bool approves_infinite(const sim_addr *a) { return (a->a[19] % 4) != 0; }

static sim_amt allowance_after(sim_amt have, sim_amt spent) { return have == SIM_INF ? have : have - spent; }

/* The log of `ev` emitted by address index `from`, the k-th one (0-based). */
static const sim_log *find_log(sim_world *w, const sim_receipt *r, uint32_t from, sim_ev ev, unsigned k)
{
    for (size_t i = 0; i < r->nlogs; i++) {
        const sim_log *l = &r->logs[i];
        if (l->ntopics && !memcmp(l->topics[0], w->ev[ev], 32) && (from == SIM_NONE || !memcmp(l->address, A(w, from)->a, 20)))
            if (k-- == 0)
                return l;
    }
    return NULL;
}

static const uint8_t *word(const sim_log *l, unsigned i)
{
    return l->len >= 32 * (size_t)(i + 1) ? l->data + 32 * i : NULL;
}

static gl_code need_log(const sim_log *l, const char *what, gl_err *err)
{
    return l ? GL_OK : gl_err_set(err, GL_EVERIFY, "no %s log in the receipt", what);
}

static gl_code check_amt(const sim_log *l, unsigned wi, sim_amt want, const char *what, gl_err *err)
{
    const uint8_t *wd = word(l, wi);
    if (!wd)
        return gl_err_set(err, GL_EVERIFY, "%s: log data too short", what);
    for (int i = 0; i < 16; i++)
        if (wd[i])
            return gl_err_set(err, GL_EVERIFY, "%s: amount beyond the model's range", what);
    sim_amt got = gl_simw_word_amt(wd);
    if (got != want) {
        char a[48], b[48];
        return gl_err_set(err, GL_EVERIFY, "%s: chain says %s, the model predicted %s", what,
                          gl_simw_amt_dec(got, a), gl_simw_amt_dec(want, b));
    }
    return GL_OK;
}

static uint64_t topic_u64(const uint8_t t[32])
{
    uint64_t v = 0;
    for (int i = 24; i < 32; i++)
        v = v << 8 | t[i];
    return v;
}

/* usd (micro-USD) in an asset's smallest unit, at fixed rates: ETH 3000 USD,
 * GLM 0.30 USD, SWAN 0.10 USD. */
static sim_amt usd_to(sim_asset as, uint64_t usd)
{
    switch (as) {
    case AS_USDC: return usd;
    case AS_ETH: return (sim_amt)usd * 333333333u / 1000000000u * 1000000000u;
    case AS_GLM: return (sim_amt)usd * 3333333333333ULL / 1000000000000ULL * 1000000000000ULL;
    case AS_SWAN: return (sim_amt)usd * 10000000000000ULL;
    case AS_USDT: return usd;
    case AS_N: break;
    }
    return 0;
}

static uint32_t deposit_of(sim_world *w, uint32_t ent, gl_err *err)
{
    if (E(w, ent)->deposit != SIM_NONE)
        return E(w, ent)->deposit;
    uint32_t ex = E(w, ent)->exchange;
    if (ex == SIM_NONE)
        return SIM_NONE;
    uint32_t exent = w->exchanges.v[ex];
    uint32_t d = gl_simw_wallet(w, exent, RO_DEPOSIT_ADDRESS, err);
    if (d == SIM_NONE)
        return SIM_NONE;
    sim_addr *a = A(w, d);
    a->customer = ent;
    a->txtype = 0; /* exchange software: legacy transactions, fees known exactly */
    a->funding = (uint8_t)(FP_NONE | FP_WALLET << 4);
    a->fund_src = E(w, exent)->main;
    E(w, ent)->deposit = d;
    return d;
}

/* ------------------------------------------------------------------ */
/* Purchases                                                            */

uint32_t gl_simf_new_purchase(sim_world *w, gl_err *err)
{
    if (w->purch.n == w->purch.cap) {
        size_t ncap = w->purch.cap ? w->purch.cap * 2 : 1024;
        sim_purchase *nv = realloc(w->purch.v, ncap * sizeof *nv);
        if (!nv) {
            gl_err_set(err, GL_ENOMEM, "out of memory for purchases");
            return SIM_NONE;
        }
        w->purch.v = nv;
        w->purch.cap = ncap;
    }
    sim_purchase *p = &w->purch.v[w->purch.n];
    memset(p, 0, sizeof *p);
    p->beneficiary_wallet = p->provider_wallet = p->provider = p->offer = p->lease = p->resale_of = p->group =
        p->aux = p->payer = p->beneficiary = p->listing = p->funder = SIM_NONE;
    return (uint32_t)w->purch.n++;
}

static uint32_t pick_hours(sim_world *w)
{
    static const uint32_t h[] = {1, 2, 3, 4, 6, 8, 12, 24, 48, 72};
    static const unsigned wt[] = {10, 12, 8, 10, 8, 8, 6, 6, 3, 2};
    return h[gl_sim_rng_weighted(&w->rng, wt, 10)];
}

static uint32_t pick_gpus(sim_world *w, uint32_t max)
{
    static const uint32_t g[] = {1, 1, 1, 2, 2, 4, 8};
    uint32_t v = g[gl_sim_rng_below(&w->rng, 7)];
    return v > max ? max : v;
}

/* A random GpuMarket offer: from provider `only` (SIM_NONE: any), never
 * from the entity `not_ent` (SIM_NONE: no restriction). */
static uint32_t pick_offer(sim_world *w, uint32_t only, uint32_t not_ent, int model)
{
    if (!w->offers.n)
        return SIM_NONE;
    for (int tries = 0; tries < 64; tries++) {
        uint32_t o = (uint32_t)gl_sim_rng_below(&w->rng, w->offers.n);
        const sim_offer *of = &w->offers.v[o];
        if (only != SIM_NONE && of->provider != only)
            continue;
        if (not_ent != SIM_NONE && w->provs.v[of->provider].entity == not_ent)
            continue;
        if (model >= 0 && of->model != model)
            continue;
        if (w->provs.v[of->provider].ring_next != SIM_NONE && only == SIM_NONE)
            continue; /* ring members trade among themselves */
        return o;
    }
    /* few candidates: scan */
    for (size_t o = 0; o < w->offers.n; o++) {
        const sim_offer *of = &w->offers.v[o];
        if ((only == SIM_NONE || of->provider == only) &&
            (not_ent == SIM_NONE || w->provs.v[of->provider].entity != not_ent) && (model < 0 || of->model == model))
            return (uint32_t)o;
    }
    return SIM_NONE;
}

/* A random bazaar listing, as pick_offer. */
static uint32_t pick_listing(sim_world *w, uint32_t not_ent, int model)
{
    if (!w->listings.n)
        return SIM_NONE;
    for (int tries = 0; tries < 64; tries++) {
        uint32_t i = (uint32_t)gl_sim_rng_below(&w->rng, w->listings.n);
        const sim_listing *l = &w->listings.v[i];
        if ((not_ent == SIM_NONE || w->provs.v[l->provider].entity != not_ent) && (model < 0 || l->model == model))
            return i;
    }
    for (size_t i = 0; i < w->listings.n; i++) {
        const sim_listing *l = &w->listings.v[i];
        if ((not_ent == SIM_NONE || w->provs.v[l->provider].entity != not_ent) && (model < 0 || l->model == model))
            return (uint32_t)i;
    }
    return SIM_NONE;
}

/* What a bazaar rental costs: the contract's units * minutes * rate / 60,
 * rounded down. */
static sim_amt bz_cost(uint32_t units, uint32_t minutes, sim_amt rate) { return (sim_amt)units * minutes * rate / 60; }

static uint32_t bz_minutes(sim_world *w)
{
    return (uint32_t)rnd(w, w->sc->bazaar.min_minutes, w->sc->bazaar.max_minutes);
}

static uint32_t pick_provider(sim_world *w, gl_sim_platform pl)
{
    sim_u32_vec *v = &w->plat_provs[pl];
    return v->n ? v->v[gl_sim_rng_below(&w->rng, v->n)] : SIM_NONE;
}

/* Plan one purchase by `payer` on `pl` for entity `ben`.  Returns the
 * purchase index, or SIM_NONE when the platform has no provider (or on
 * GL_ENOMEM, then err is set). */
static uint32_t plan_purchase(sim_world *w, gl_sim_platform pl, uint32_t payer, uint32_t ben, sim_typology ty,
                              uint32_t offer_hint, gl_err *err)
{
    uint32_t prov = SIM_NONE, offer = SIM_NONE;
    if (pl == GL_SIM_GPUMARKET) {
        offer = offer_hint != SIM_NONE ? offer_hint : pick_offer(w, SIM_NONE, A(w, payer)->entity, -1);
        if (offer == SIM_NONE)
            return SIM_NONE;
        prov = w->offers.v[offer].provider;
    } else if (pl == GL_SIM_BAZAAR) {
        offer = offer_hint != SIM_NONE ? offer_hint : pick_listing(w, A(w, payer)->entity, -1);
        if (offer == SIM_NONE)
            return SIM_NONE;
        prov = w->listings.v[offer].provider;
    } else {
        prov = pick_provider(w, pl);
        if (prov == SIM_NONE)
            return SIM_NONE;
    }
    uint32_t pi = gl_simf_new_purchase(w, err);
    if (pi == SIM_NONE)
        return SIM_NONE;
    sim_purchase *p = &w->purch.v[pi];
    const sim_provider *pr = &w->provs.v[prov];
    p->platform = (uint8_t)pl;
    p->payer = payer;
    p->beneficiary = ben;
    p->typology = (uint8_t)ty;
    p->provider = prov;
    unsigned slot = (unsigned)gl_sim_rng_below(&w->rng, pr->nmodels);
    p->model = pr->models[slot];
    p->hours = pick_hours(w);
    uint64_t usd = pr->usd[slot];
    switch (pl) {
    case GL_SIM_GPUMARKET: {
        const sim_offer *o = &w->offers.v[offer];
        p->kind = PK_LEASE;
        p->offer = offer;
        p->model = o->model;
        p->asset = o->asset;
        p->gpus = pick_gpus(w, o->count);
        p->provider_wallet = o->wallet;
        p->amount = (sim_amt)p->gpus * p->hours * o->price; /* recomputed when paid */
        break;
    }
    case GL_SIM_LIVEPEER:
        p->kind = PK_TICKET;
        p->asset = AS_ETH;
        p->gpus = 1;
        p->hours = 1 + (uint32_t)gl_sim_rng_below(&w->rng, 6);
        p->provider_wallet = pr->wallets[gl_sim_rng_below(&w->rng, pr->nwallets)];
        p->amount = usd_to(AS_ETH, usd) * p->hours;
        p->aux = payer; /* the sender whose deposit pays */
        break;
    case GL_SIM_GOLEM:
        p->kind = PK_BATCH;
        p->asset = AS_GLM;
        p->gpus = pick_gpus(w, 2);
        p->hours = 1 + (uint32_t)gl_sim_rng_below(&w->rng, 12);
        p->provider_wallet = pr->wallets[gl_sim_rng_below(&w->rng, pr->nwallets)];
        p->amount = usd_to(AS_GLM, usd) * p->gpus * p->hours;
        break;
    case GL_SIM_SPHERON:
        p->kind = PK_SPH_LEASE;
        p->asset = AS_USDC;
        p->gpus = pick_gpus(w, 4);
        p->hours = 1 + (uint32_t)gl_sim_rng_below(&w->rng, 24);
        p->provider_wallet = pr->wallets[gl_sim_rng_below(&w->rng, pr->nwallets)];
    {
        uint64_t blocks = (uint64_t)p->hours * 3600 / SPHERON_SECONDS_PER_BLOCK;
        p->rate = (sim_amt)usd * p->gpus * SPHERON_RATE_SCALE / (3600 / SPHERON_SECONDS_PER_BLOCK);
        p->max_rate = p->rate * rnd(w, 100, 115) / 100;
        p->amount = p->rate * blocks / SPHERON_RATE_SCALE;
        p->max_price = p->max_rate * blocks / SPHERON_RATE_SCALE;
        break;
    }
    case GL_SIM_SWAN:
        p->kind = PK_TASK;
        p->asset = AS_SWAN;
        p->gpus = pr->ncp ? 1 + (uint32_t)gl_sim_rng_below(&w->rng, pr->ncp) : 1;
        p->hours = 1 + (uint32_t)gl_sim_rng_below(&w->rng, 24);
        p->provider_wallet = pr->wallets[0]; /* the CP accounts' beneficiary */
        p->amount = usd_to(AS_SWAN, usd) * p->gpus * p->hours;
        break;
    case GL_SIM_FLUENCE:
        p->kind = PK_DEAL_DEPOSIT;
        p->asset = AS_USDC;
        p->gpus = pick_gpus(w, 4);
        p->hours = 6 + (uint32_t)gl_sim_rng_below(&w->rng, 67);
        p->provider_wallet = pr->wallets[gl_sim_rng_below(&w->rng, pr->nwallets)];
        p->max_price = (sim_amt)usd * p->gpus; /* price per epoch */
        p->amount = p->max_price * p->hours;
        break;
    case GL_SIM_BAZAAR: {
        const sim_listing *l = &w->listings.v[offer];
        p->kind = PK_RENTAL;
        p->listing = offer;
        p->model = l->model;
        p->asset = AS_USDT;
        p->gpus = pick_gpus(w, l->units);
        p->hours = 0;
        p->minutes = bz_minutes(w);
        p->provider_wallet = l->wallet;
        p->amount = bz_cost(p->gpus, p->minutes, l->rate);
        break;
    }
    case GL_SIM_NPLATFORMS:
        break;
    }
    return pi;
}

static gl_code buy_at(sim_world *w, uint32_t pi, uint64_t time, uint32_t n, gl_err *err)
{
    return push(w, TK_BUY, time, pi, n, 0, 0, 0, 0, err);
}

/* ------------------------------------------------------------------ */
/* Planners                                                             */

static uint64_t day_start(sim_world *w, uint64_t day) { return w->sc->start + day * 86400; }

static gl_code plan_buyer(sim_world *w, uint32_t ent, uint64_t day, gl_err *err)
{
    sim_entity *e = E(w, ent);
    uint64_t n = gl_sim_rng_count(&w->rng, w->sc->buyers.purchases_per_day);
    for (uint64_t i = 0; i < n; i++) {
        unsigned plats[GL_SIM_NPLATFORMS], np = 0;
        for (int k = 0; k < GL_SIM_NPLATFORMS; k++)
            if (e->platforms & (1u << k))
                plats[np++] = (unsigned)k;
        if (!np)
            return GL_OK;
        gl_sim_platform pl = (gl_sim_platform)plats[gl_sim_rng_below(&w->rng, np)];
        uint32_t payer = e->wallets[gl_sim_rng_below(&w->rng, e->nwallets)];
        uint64_t t = gl_simw_awake_time(w, ent, day);
        unsigned k = pl == GL_SIM_GOLEM ? 1 + (unsigned)gl_sim_rng_below(&w->rng, 3) : 1;
        uint32_t first = SIM_NONE;
        for (unsigned j = 0; j < k; j++) {
            uint32_t pi = plan_purchase(w, pl, payer, ent, TY_NONE, SIM_NONE, err);
            if (pi == SIM_NONE)
                return err->code;
            if (first == SIM_NONE)
                first = pi;
        }
        gl_code rc = buy_at(w, first, t, k, err);
        if (rc)
            return rc;
        e = E(w, ent);
    }
    return GL_OK;
}

/* A wallet of a random honest buyer that buys on `pl`, or SIM_NONE. */
static uint32_t pick_buyer(sim_world *w, gl_sim_platform pl, uint32_t *ent)
{
    size_t n = 0;
    for (size_t e = 0; e < w->ents.n; e++)
        n += E(w, (uint32_t)e)->plan == PL_BUYER && (E(w, (uint32_t)e)->platforms & (1u << pl));
    if (!n)
        return SIM_NONE;
    size_t k = gl_sim_rng_below(&w->rng, n);
    for (size_t e = 0; e < w->ents.n; e++) {
        const sim_entity *en = E(w, (uint32_t)e);
        if (en->plan != PL_BUYER || !(en->platforms & (1u << pl)) || k--)
            continue;
        *ent = (uint32_t)e;
        return en->wallets[gl_sim_rng_below(&w->rng, en->nwallets)];
    }
    return SIM_NONE;
}

static uint32_t pick_gm_buyer(sim_world *w, uint32_t *ent) { return pick_buyer(w, GL_SIM_GPUMARKET, ent); }

/* An oversold bazaar host: `burst` units rented by honest buyers within
 * half an hour, each rental in the longer half of the scenario's durations
 * (so that they are all held at once), each at most the listing's units
 * (the contract's limit for one rental). */
static gl_code plan_bz_oversold(sim_world *w, uint32_t pidx, uint32_t ent, uint64_t day, gl_err *err)
{
    uint32_t li = SIM_NONE;
    for (size_t i = 0; i < w->listings.n && li == SIM_NONE; i++)
        if (w->listings.v[i].provider == pidx)
            li = (uint32_t)i;
    if (li == SIM_NONE)
        return GL_OK;
    uint32_t units = w->listings.v[li].units, left = w->provs.v[pidx].burst;
    unsigned lo = w->sc->bazaar.min_minutes, hi = w->sc->bazaar.max_minutes;
    uint64_t t0 = gl_simw_awake_time(w, ent, day);
    if (t0 > day_start(w, day) + 86400 - 3600)
        t0 = day_start(w, day) + 86400 - 3600;
    while (left) {
        uint32_t bent, payer = pick_buyer(w, GL_SIM_BAZAAR, &bent);
        if (payer == SIM_NONE)
            return GL_OK;
        uint32_t pi = plan_purchase(w, GL_SIM_BAZAAR, payer, bent, TY_NONE, li, err);
        if (pi == SIM_NONE)
            return err->code;
        sim_purchase *p = &w->purch.v[pi];
        p->gpus = pick_gpus(w, units < left ? units : left);
        p->minutes = (uint32_t)rnd(w, lo + (hi - lo) / 2, hi);
        p->amount = bz_cost(p->gpus, p->minutes, w->listings.v[li].rate);
        left -= p->gpus;
        gl_code rc = buy_at(w, pi, t0 + rnd(w, 0, 1800), 1, err);
        if (rc)
            return rc;
    }
    return GL_OK;
}

/* One rental of bazaar listing `li` by an honest bazaar buyer, when that
 * buyer is awake on `day`. */
static gl_code bz_rent_by_buyer(sim_world *w, uint32_t li, uint64_t day, gl_err *err)
{
    uint32_t bent, payer = pick_buyer(w, GL_SIM_BAZAAR, &bent);
    if (payer == SIM_NONE)
        return GL_OK;
    uint32_t pi = plan_purchase(w, GL_SIM_BAZAAR, payer, bent, TY_NONE, li, err);
    if (pi == SIM_NONE)
        return err->code;
    return buy_at(w, pi, gl_simw_awake_time(w, bent, day), 1, err);
}

/* The bazaar's relabelled and sweeping hosts: `leases_per_day` rentals of
 * a relabelled host's listing (its cheap "H100" finds buyers), one rental
 * a day of each of a sweeping host's listings (every payout wallet earns
 * and sweeps). */
static gl_code plan_bz_claim_demand(sim_world *w, uint32_t pidx, sim_claim claim, uint64_t day, gl_err *err)
{
    uint64_t n =
        claim == PC_RELABELLED ? gl_sim_rng_count(&w->rng, w->sc->provider_claims.relabelled_leases_per_day) : 1;
    gl_code rc = GL_OK;
    for (size_t li = 0; !rc && li < w->listings.n; li++) {
        if (w->listings.v[li].provider != pidx)
            continue;
        for (uint64_t i = 0; !rc && i < n; i++)
            rc = bz_rent_by_buyer(w, (uint32_t)li, day, err);
        if (claim == PC_RELABELLED)
            break; /* one listing */
    }
    return rc;
}

/* A sweeping provider: one lease a day on each of its offers, so that
 * every payout wallet earns and sweeps. */
static gl_code plan_sweeper_demand(sim_world *w, uint32_t pidx, uint64_t day, gl_err *err)
{
    for (size_t o = 0; o < w->offers.n; o++) {
        if (w->offers.v[o].provider != pidx)
            continue;
        uint32_t bent, payer = pick_gm_buyer(w, &bent);
        if (payer == SIM_NONE)
            return GL_OK;
        uint32_t pi = plan_purchase(w, GL_SIM_GPUMARKET, payer, bent, TY_NONE, (uint32_t)o, err);
        if (pi == SIM_NONE)
            return err->code;
        gl_code rc = buy_at(w, pi, gl_simw_awake_time(w, bent, day), 1, err);
        if (rc)
            return rc;
    }
    return GL_OK;
}

/* Demand steered to a provider by its claim (provider_claims): leases by
 * honest buyers on its offer.  A relabelled card sells (a cheap "H100"
 * finds buyers); a busy honest offer is filled to its count within half an
 * hour, an oversold one to `burst` GPUs, beyond its count (its leases run
 * 8-24 hours, so they are all held at once). */
static gl_code plan_claim_demand(sim_world *w, uint32_t pidx, uint32_t ent, uint64_t day, gl_err *err)
{
    const sim_provider *pr = &w->provs.v[pidx];
    sim_claim claim = (sim_claim)pr->claim;
    bool bazaar = !(pr->platforms & (1u << GL_SIM_GPUMARKET));
    if (bazaar && (claim == PC_RELABELLED || claim == PC_SWEEPING))
        return plan_bz_claim_demand(w, pidx, claim, day, err);
    if (claim == PC_SWEEPING)
        return plan_sweeper_demand(w, pidx, day, err);
    if (claim != PC_RELABELLED && claim != PC_BUSY && claim != PC_OVERSOLD)
        return GL_OK;
    if (claim == PC_OVERSOLD && bazaar)
        return plan_bz_oversold(w, pidx, ent, day, err);
    uint32_t off = pick_offer(w, pidx, SIM_NONE, -1);
    if (off == SIM_NONE)
        return GL_OK;
    if (claim == PC_RELABELLED) {
        uint64_t n = gl_sim_rng_count(&w->rng, w->sc->provider_claims.relabelled_leases_per_day);
        for (uint64_t i = 0; i < n; i++) {
            uint32_t bent, payer = pick_gm_buyer(w, &bent);
            if (payer == SIM_NONE)
                return GL_OK;
            uint32_t pi = plan_purchase(w, GL_SIM_GPUMARKET, payer, bent, TY_NONE, off, err);
            if (pi == SIM_NONE)
                return err->code;
            gl_code rc = buy_at(w, pi, gl_simw_awake_time(w, bent, day), 1, err);
            if (rc)
                return rc;
        }
        return GL_OK;
    }
    uint32_t count = w->offers.v[off].count;
    uint32_t left = claim == PC_BUSY ? count : w->provs.v[pidx].burst;
    uint64_t t0 = gl_simw_awake_time(w, ent, day);
    if (t0 > day_start(w, day) + 86400 - 3600)
        t0 = day_start(w, day) + 86400 - 3600;
    while (left) {
        uint32_t bent, payer = pick_gm_buyer(w, &bent);
        if (payer == SIM_NONE)
            return GL_OK;
        uint32_t pi = plan_purchase(w, GL_SIM_GPUMARKET, payer, bent, TY_NONE, off, err);
        if (pi == SIM_NONE)
            return err->code;
        sim_purchase *p = &w->purch.v[pi];
        p->gpus = pick_gpus(w, count < left ? count : left);
        p->hours = claim == PC_BUSY ? (uint32_t)rnd(w, 2, 6) : (uint32_t)rnd(w, 8, 24);
        left -= p->gpus;
        gl_code rc = buy_at(w, pi, t0 + rnd(w, 0, 1800), 1, err);
        if (rc)
            return rc;
    }
    return GL_OK;
}

static gl_code plan_provider(sim_world *w, uint32_t ent, uint64_t day, gl_err *err)
{
    uint32_t pidx = E(w, ent)->ext;
    sim_provider pr = w->provs.v[pidx]; /* a copy: the vectors may move */
    gl_code rc = GL_OK;
    for (unsigned i = 0; !rc && i < pr.nwallets; i++) {
        uint32_t wal = pr.wallets[i];
        if (pr.platforms & (1u << GL_SIM_GPUMARKET)) {
            rc = push(w, TK_GM_WITHDRAW, gl_simw_awake_time(w, ent, day), wal, 0, AS_USDC, 0, 0, 0, err);
            if (!rc)
                rc = push(w, TK_GM_WITHDRAW, gl_simw_awake_time(w, ent, day), wal, 0, AS_ETH, 0, 0, 0, err);
        }
        /* cash out part of what it earned to its exchange */
        for (int as = AS_USDC; !rc && as < gl_simw_nassets(w); as++)
            if (gl_sim_rng_chance(&w->rng, w->sc->providers.cashout_share / 2))
                rc = push(w, TK_XFER, gl_simw_awake_time(w, ent, day), wal, SIM_NONE, (uint32_t)as, PU_DEPOSIT,
                          rnd(w, 40, 90), 0, err);
        if (!rc && (pr.platforms & (1u << GL_SIM_LIVEPEER)) && gl_sim_rng_chance(&w->rng, w->sc->providers.cashout_share / 3))
            rc = push(w, TK_XFER, gl_simw_awake_time(w, ent, day), wal, SIM_NONE, AS_ETH, PU_DEPOSIT,
                      rnd(w, 30, 70), 0, err);
    }
    if (rc)
        return rc;
    /* occasional price changes */
    for (size_t o = 0; o < w->offers.n; o++) {
        if (w->offers.v[o].provider != pidx || !gl_sim_rng_chance(&w->rng, 0.05))
            continue;
        sim_amt np = w->offers.v[o].price * rnd(w, 90, 110) / 100;
        if (np == 0)
            np = 1;
        rc = push(w, TK_OFFER_UPDATE, gl_simw_awake_time(w, ent, day), (uint32_t)o, 0, 0, 0, 0, np, err);
        if (rc)
            return rc;
    }
    /* self-dealing: its own buying wallet leases its own offers */
    if (pr.self_wallet != SIM_NONE) {
        uint64_t n = gl_sim_rng_count(&w->rng, w->sc->self_dealing.leases_per_day);
        for (uint64_t i = 0; i < n; i++) {
            uint32_t off = pick_offer(w, pidx, SIM_NONE, -1);
            if (off == SIM_NONE)
                break;
            uint32_t pi = plan_purchase(w, GL_SIM_GPUMARKET, pr.self_wallet, ent, TY_NONE, off, err);
            if (pi == SIM_NONE)
                return err->code;
            w->purch.v[pi].flags |= PF_SELF;
            rc = buy_at(w, pi, gl_simw_awake_time(w, ent, day), 1, err);
            if (rc)
                return rc;
        }
    }
    /* circular rings: lease the next member's capacity */
    if (pr.ring_buyer != SIM_NONE) {
        uint64_t n = gl_sim_rng_count(&w->rng, w->sc->circular.rounds_per_day);
        for (uint64_t i = 0; i < n; i++) {
            uint32_t off = pick_offer(w, pr.ring_next, SIM_NONE, -1);
            if (off == SIM_NONE)
                break;
            uint32_t pi = plan_purchase(w, GL_SIM_GPUMARKET, pr.ring_buyer, ent, TY_NONE, off, err);
            if (pi == SIM_NONE)
                return err->code;
            w->purch.v[pi].flags |= PF_CIRCULAR;
            w->purch.v[pi].hours = 1 + (uint32_t)gl_sim_rng_below(&w->rng, 3);
            rc = buy_at(w, pi, gl_simw_awake_time(w, ent, day), 1, err);
            if (rc)
                return rc;
        }
    }
    return plan_claim_demand(w, pidx, ent, day, err);
}

/* -- the proxy typologies on the bazaar (bazaar.proxies) --
 *
 * Unlike their GpuMarket forms: timings in minutes, and a proxy that is
 * funded for a rental gets exactly its cost (TK_BZ_FUND), 2-20 minutes
 * (bazaar.lead_*) before it rents; no round amounts and no markup. */

static uint64_t lead(sim_world *w) { return rnd(w, w->sc->bazaar.lead_min_minutes * 60, w->sc->bazaar.lead_max_minutes * 60); }

static gl_code plan_bz_campaign(sim_world *w, uint32_t ent, uint64_t day, bool split, gl_err *err)
{
    uint64_t t0 = gl_simw_awake_time(w, ent, day);
    if (t0 > day_start(w, day) + 86400 - 5 * 3600)
        t0 = day_start(w, day) + 86400 - 5 * 3600;
    int model = -1;
    uint32_t minutes = 0;
    if (split) {
        /* one order of an export-controlled class, cut into parts */
        uint32_t l = SIM_NONE;
        for (int tries = 0; tries < 64 && l == SIM_NONE; tries++) {
            uint32_t c = pick_listing(w, ent, -1);
            if (c != SIM_NONE && gl_sim_models[w->listings.v[c].model].controlled)
                l = c;
        }
        if (l == SIM_NONE)
            l = pick_listing(w, ent, -1);
        if (l == SIM_NONE)
            return GL_OK;
        model = w->listings.v[l].model;
        unsigned lo = w->sc->bazaar.min_minutes, hi = w->sc->bazaar.max_minutes;
        minutes = (uint32_t)rnd(w, lo + (hi - lo) / 2, hi);
    }
    uint32_t group = split ? w->ngroups++ : SIM_NONE;
    uint32_t main = E(w, ent)->main;
    size_t nw = E(w, ent)->nwallets;
    for (size_t k = 1; k < nw; k++) { /* wallets[0] is the main wallet */
        uint32_t wal = E(w, ent)->wallets[k];
        unsigned n = split ? 1 : 1 + (unsigned)gl_sim_rng_below(&w->rng, 2);
        uint64_t t = split ? t0 + rnd(w, 0, 1800) : t0 + rnd(w, 0, 3 * 3600);
        for (unsigned j = 0; j < n; j++) {
            uint32_t li = pick_listing(w, ent, model);
            if (li == SIM_NONE)
                return GL_OK;
            uint32_t pi = plan_purchase(w, GL_SIM_BAZAAR, wal, ent, split ? TY_SPLIT_ORDER : TY_SPONSOR_FANOUT, li,
                                        err);
            if (pi == SIM_NONE)
                return err->code;
            sim_purchase *p = &w->purch.v[pi];
            p->group = group;
            p->funder = main;
            if (split) {
                uint32_t units = w->listings.v[li].units;
                p->gpus = units < 8 ? units : (uint32_t)rnd(w, 4, 8);
                p->minutes = minutes;
                p->amount = bz_cost(p->gpus, p->minutes, w->listings.v[li].rate);
            }
            gl_code rc = push(w, TK_BZ_FUND, t, pi, 0, 0, 0, 0, 0, err);
            if (rc)
                return rc;
            t += rnd(w, 3600, 3 * 3600); /* a second rental, funded anew */
        }
    }
    return GL_OK;
}

static gl_code plan_bz_client(sim_world *w, uint32_t ent, uint64_t day, sim_plan plan, gl_err *err)
{
    if (!gl_sim_rng_chance(&w->rng, 0.6))
        return GL_OK;
    uint32_t proxy = E(w, ent)->ext, main = E(w, ent)->main;
    sim_typology ty = plan == PL_PT_CLIENT ? TY_PASS_THROUGH : plan == PL_RB_CLIENT ? TY_REIMBURSED : TY_LEASE_FOR;
    uint32_t pi = plan_purchase(w, GL_SIM_BAZAAR, proxy, ent, ty, SIM_NONE, err);
    if (pi == SIM_NONE)
        return err->code;
    uint64_t t = gl_simw_awake_time(w, ent, day);
    if (t > day_start(w, day) + 86400 - 4 * 3600)
        t = day_start(w, day) + 86400 - 4 * 3600;
    sim_purchase *p = &w->purch.v[pi];
    if (plan == PL_LF_CLIENT) {
        p->beneficiary_wallet = main;
    } else if (plan == PL_PT_CLIENT) {
        p->funder = main; /* the client hands the proxy exactly the cost */
        return push(w, TK_BZ_FUND, t, pi, 0, 0, 0, 0, 0, err);
    } else {
        /* the client will pay the proxy back within the hour: it gets the
         * money from its exchange now, so that nothing waits */
        gl_simw_ensure(w, main, AS_USDT, p->amount, err);
        gl_simw_ensure(w, main, AS_ETH, gl_simw_fee_cap(w, main, G_TOKEN), err);
        if (err->code)
            return err->code;
    }
    return buy_at(w, pi, t, 1, err);
}

/* A campaign of proxy wallets (sponsor fan-out, split order). */
static gl_code plan_campaign(sim_world *w, uint32_t ent, uint64_t day, bool split, gl_err *err)
{
    if (E(w, ent)->ext != day)
        return GL_OK;
    if (w->sc->bazaar.proxies)
        return plan_bz_campaign(w, ent, day, split, err);
    uint64_t t0 = gl_simw_awake_time(w, ent, day);
    if (t0 > day_start(w, day) + 86400 - 6 * 3600)
        t0 = day_start(w, day) + 86400 - 6 * 3600; /* leave time for funding and buying */
    int model = -1;
    uint32_t hours = 0;
    if (split) {
        /* one big order of an export-controlled class, split across wallets */
        uint32_t o = SIM_NONE;
        for (int tries = 0; tries < 64 && o == SIM_NONE; tries++) {
            uint32_t c = pick_offer(w, SIM_NONE, ent, -1);
            if (c != SIM_NONE && gl_sim_models[w->offers.v[c].model].controlled)
                o = c;
        }
        if (o == SIM_NONE)
            o = pick_offer(w, SIM_NONE, ent, -1);
        if (o == SIM_NONE)
            return GL_OK;
        model = w->offers.v[o].model;
        hours = 24 * (uint32_t)rnd(w, 1, 3);
    }
    uint32_t group = split ? w->ngroups++ : SIM_NONE;
    size_t nw = E(w, ent)->nwallets;
    for (size_t k = 1; k < nw; k++) { /* wallets[0] is the main wallet */
        uint32_t wal = E(w, ent)->wallets[k];
        unsigned n = split ? 1 : 1 + (unsigned)gl_sim_rng_below(&w->rng, 2);
        for (unsigned j = 0; j < n; j++) {
            uint32_t off = pick_offer(w, SIM_NONE, ent, model);
            if (off == SIM_NONE)
                return GL_OK;
            uint32_t pi = plan_purchase(w, GL_SIM_GPUMARKET, wal, ent, split ? TY_SPLIT_ORDER : TY_SPONSOR_FANOUT, off,
                                        err);
            if (pi == SIM_NONE)
                return err->code;
            sim_purchase *p = &w->purch.v[pi];
            p->group = group;
            if (split) {
                p->hours = hours;
                p->gpus = w->offers.v[off].count < 8 ? w->offers.v[off].count : (uint32_t)rnd(w, 4, 8);
            }
            uint64_t t = split ? t0 + rnd(w, 0, 2700) : t0 + rnd(w, 0, 3 * 3600);
            gl_code rc = buy_at(w, pi, t, 1, err);
            if (rc)
                return rc;
        }
    }
    return GL_OK;
}

static gl_code plan_client(sim_world *w, uint32_t ent, uint64_t day, sim_plan plan, gl_err *err)
{
    if (w->sc->bazaar.proxies)
        return plan_bz_client(w, ent, day, plan, err);
    if (!gl_sim_rng_chance(&w->rng, 0.6))
        return GL_OK;
    uint32_t proxy = E(w, ent)->ext;
    sim_typology ty = plan == PL_PT_CLIENT ? TY_PASS_THROUGH : plan == PL_RB_CLIENT ? TY_REIMBURSED : TY_LEASE_FOR;
    uint32_t pi = plan_purchase(w, GL_SIM_GPUMARKET, proxy, ent, ty, SIM_NONE, err);
    if (pi == SIM_NONE)
        return err->code;
    uint64_t t = gl_simw_awake_time(w, ent, day);
    if (t > day_start(w, day) + 86400 - 4 * 3600)
        t = day_start(w, day) + 86400 - 4 * 3600;
    sim_purchase *p = &w->purch.v[pi];
    if (plan == PL_LF_CLIENT)
        p->beneficiary_wallet = E(w, ent)->main;
    if (plan == PL_PT_CLIENT) {
        /* the client hands the proxy the money first */
        sim_amt amt = p->amount;
        uint8_t as = p->asset;
        gl_code rc = push(w, TK_XFER, t, E(w, ent)->main, proxy, as, PU_CLIENT_FUNDS, 0, amt, err);
        if (rc)
            return rc;
        t += rnd(w, 3600, 3 * 3600);
    }
    return buy_at(w, pi, t, 1, err);
}

static gl_code plan_lp_funder(sim_world *w, uint32_t ent, uint64_t day, gl_err *err)
{
    uint32_t sender = E(w, ent)->ext;
    uint64_t n = gl_sim_rng_count(&w->rng, 3);
    for (uint64_t i = 0; i < n; i++) {
        uint32_t pi = plan_purchase(w, GL_SIM_LIVEPEER, sender, ent, TY_LIVEPEER_THIRD_PARTY, SIM_NONE, err);
        if (pi == SIM_NONE)
            return err->code;
        gl_code rc = buy_at(w, pi, gl_simw_awake_time(w, ent, day), 1, err);
        if (rc)
            return rc;
    }
    return GL_OK;
}

static gl_code plan_golem_funder(sim_world *w, uint32_t ent, uint64_t day, gl_err *err)
{
    uint32_t di = E(w, ent)->ext;
    sim_gdeposit *d = &w->gdeps.v[di];
    uint32_t svc = A(w, d->spender)->entity;
    gl_code rc = GL_OK;
    if (day == 0) {
        /* enough for three payments a day of a few GPU-hours, twice over */
        sim_amt per = usd_to(AS_GLM, 1500000) * 4;
        d->amount = (per * 3 * w->sc->days * 2 + 100 * ETH1 - 1) / (100 * ETH1) * (100 * ETH1);
        d->fee = d->amount / 50;
        uint64_t t = gl_simw_awake_time(w, ent, 0);
        if (t > day_start(w, 0) + 12 * 3600)
            t = day_start(w, 0) + rnd(w, 3600, 12 * 3600);
        rc = push(w, TK_GOLEM_DEPOSIT, t, di, 0, 0, 0, 0, 0, err);
    }
    uint64_t n = gl_sim_rng_count(&w->rng, 3);
    for (uint64_t i = 0; !rc && i < n; i++) {
        uint32_t pi = plan_purchase(w, GL_SIM_GOLEM, w->gdeps.v[di].spender, ent, TY_GOLEM_DEPOSIT, SIM_NONE, err);
        if (pi == SIM_NONE)
            return err->code;
        w->purch.v[pi].kind = PK_DEPOSIT_PAY;
        w->purch.v[pi].aux = di;
        rc = buy_at(w, pi, gl_simw_awake_time(w, svc, day), 1, err);
    }
    if (!rc && day + 1 == w->sc->days)
        rc = push(w, TK_GOLEM_CLOSE, day_start(w, day) + 22 * 3600 + rnd(w, 0, 3000), di, 0, 0, 0, 0, 0, err);
    return rc;
}

static gl_code plan_noise(sim_world *w, uint32_t ent, uint64_t day, gl_err *err)
{
    size_t nn = w->noise.n ? w->noise.n : 1;
    uint32_t me = E(w, ent)->main;
    uint64_t n = gl_sim_rng_count(&w->rng, w->sc->noise.transfers_per_day / (double)nn);
    gl_code rc = GL_OK;
    for (uint64_t i = 0; !rc && i < n; i++) {
        uint64_t t = gl_simw_awake_time(w, ent, day);
        bool eth = gl_sim_rng_chance(&w->rng, 0.65);
        sim_amt amt = eth ? rnd(w, 1, 500) * (ETH1 / 1000) : (sim_amt)rnd(w, 5, 500) * 1000000;
        uint64_t r = gl_sim_rng_below(&w->rng, 100);
        if (r < 25) {
            uint32_t d = deposit_of(w, ent, err);
            if (d == SIM_NONE)
                return err->code ? err->code : GL_OK;
            rc = push(w, TK_XFER, t, me, d, eth ? AS_ETH : AS_USDC, PU_DEPOSIT, 0, amt, err);
        } else {
            uint32_t to = w->noise.v[gl_sim_rng_below(&w->rng, w->noise.n)];
            if (to == me)
                continue;
            rc = push(w, TK_XFER, t, me, to, eth ? AS_ETH : AS_USDC, PU_NOISE, 0, amt, err);
        }
    }
    if (w->hubs.n) {
        uint64_t h = gl_sim_rng_count(&w->rng, w->sc->noise.hub_calls_per_day / (double)nn);
        for (uint64_t i = 0; !rc && i < h; i++) {
            uint32_t to = w->noise.v[gl_sim_rng_below(&w->rng, w->noise.n)];
            if (to == me)
                continue;
            bool eth = gl_sim_rng_chance(&w->rng, 0.5);
            sim_amt amt = eth ? rnd(w, 1, 200) * (ETH1 / 1000) : (sim_amt)rnd(w, 5, 300) * 1000000;
            /* one router per wallet (its approval is for that one) */
            rc = push(w, TK_HUB_CALL, gl_simw_awake_time(w, ent, day), me, to, eth ? AS_ETH : AS_USDC,
                      (uint32_t)(me % w->hubs.n), 0, amt, err);
        }
    }
    return rc;
}

static gl_code plan_day(sim_world *w, const sim_task *t, gl_err *err)
{
    uint32_t ent = t->a;
    uint64_t day = t->x;
    gl_code rc = GL_OK;
    switch ((sim_plan)E(w, ent)->plan) {
    case PL_NONE: break;
    case PL_PROVIDER: rc = plan_provider(w, ent, day, err); break;
    case PL_BUYER: rc = plan_buyer(w, ent, day, err); break;
    case PL_SPONSOR: rc = plan_campaign(w, ent, day, false, err); break;
    case PL_SPLITTER: rc = plan_campaign(w, ent, day, true, err); break;
    case PL_PT_CLIENT:
    case PL_RB_CLIENT:
    case PL_LF_CLIENT: rc = plan_client(w, ent, day, (sim_plan)E(w, ent)->plan, err); break;
    case PL_LP_FUNDER: rc = plan_lp_funder(w, ent, day, err); break;
    case PL_GOLEM_FUNDER: rc = plan_golem_funder(w, ent, day, err); break;
    case PL_NOISE: rc = plan_noise(w, ent, day, err); break;
    case PL_BRIDGE: {
        uint64_t n = gl_sim_rng_count(&w->rng, w->sc->bridge.releases_per_day);
        for (uint64_t i = 0; !rc && i < n && w->noise.n; i++) {
            uint32_t to = w->noise.v[gl_sim_rng_below(&w->rng, w->noise.n)];
            bool eth = gl_sim_rng_chance(&w->rng, 0.4);
            sim_amt amt = eth ? rnd(w, 10, 2000) * (ETH1 / 1000) : (sim_amt)rnd(w, 50, 5000) * 1000000;
            rc = push(w, TK_BRIDGE_RELEASE, day_start(w, day) + rnd(w, 0, 86399), 0, to, eth ? AS_ETH : AS_USDC,
                      PU_NOISE, 0, amt, err);
        }
        break;
    }
    case PL_AIRDROP:
        if (E(w, ent)->ext == day) {
            uint64_t t0 = gl_simw_awake_time(w, ent, day);
            for (size_t i = 0; !rc && i < w->airdrop_to.n; i += AIRDROP_CHUNK) {
                size_t k = w->airdrop_to.n - i < AIRDROP_CHUNK ? w->airdrop_to.n - i : AIRDROP_CHUNK;
                rc = push(w, TK_AIRDROP, t0 + i / AIRDROP_CHUNK * 30, (uint32_t)i, (uint32_t)k, 0, 0,
                          gl_sim_rng_next(&w->rng), 0, err);
            }
        }
        break;
    case PL_N: break;
    }
    if (!rc && day + 1 < w->sc->days)
        rc = push(w, TK_DAY, day_start(w, day + 1), ent, 0, 0, 0, day + 1, 0, err);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Prepare                                                              */

static gl_code send_call(sim_world *w, const sim_task *t, uint8_t step, uint32_t from, uint32_t to, sim_amt value,
                         sim_fn fn, json_t *args, uint64_t gas, gl_err *err)
{
    gl_buf data = GL_BUF_INIT;
    gl_code rc = gl_simw_encode(w, fn, args, &data, err);
    if (!rc)
        rc = gl_simw_send(w, t, step, from, to, NULL, value, &data, gas, (uint8_t)fn, err);
    gl_buf_release(&data);
    return rc;
}

/* approve(spender, amount or infinite) on a token, as step `step`; updates
 * nothing (the effect does). */
static gl_code send_approve(sim_world *w, const sim_task *t, uint8_t step, uint32_t from, sim_asset as,
                            uint32_t spender, sim_amt amount, gl_err *err)
{
    sim_amt v = approves_infinite(A(w, from)) ? SIM_INF : amount;
    return send_call(w, t, step, from, gl_simw_token(w, as), 0, FN_APPROVE, json_pack("[oo]", jaddr(w, spender), jamt(v)),
                     G_APPROVE, err);
}

static bool needs_approve(sim_world *w, uint32_t wal, sim_spender sp, sim_amt amount)
{
    return A(w, wal)->allowance[sp] < amount;
}

static sim_prep prep_deploy(sim_world *w, sim_task *t, gl_err *err)
{
    uint32_t c = t->a;
    bool hub = c >= CT_N;
    const gl_buf *code = hub ? &w->hub_code : &w->code[c];
    gl_buf init = GL_BUF_INIT;
    const char *types = NULL;
    json_t *args = NULL;
    switch (hub ? CT_N : (sim_contract)c) {
    case CT_GOLEM_BATCH:
    case CT_GOLEM_LOCK:
        types = "(address)";
        args = json_pack("[o]", jaddr(w, w->contract[CT_GLM]));
        break;
    case CT_SPHERON_LEASE:
        types = "(address,uint32)";
        args = json_pack("[oi]", jaddr(w, w->contract[CT_SPHERON_ORDER]), SPHERON_SECONDS_PER_BLOCK);
        break;
    case CT_SWAN_TASKS:
        types = "(address)";
        args = json_pack("[o]", jaddr(w, w->contract[CT_SWAN]));
        break;
    case CT_FLUENCE_FACTORY:
        types = "(address,uint256)";
        args = json_pack("[oi]", jaddr(w, w->contract[CT_FLUENCE_IMPL]), FLUENCE_EPOCH);
        break;
    case CT_BRIDGE:
        types = "(address)";
        args = json_pack("[o]", jaddr(w, w->bridge_relayer));
        break;
    case CT_BAZAAR:
        types = "(address)";
        args = json_pack("[o]", jaddr(w, w->contract[CT_USDT]));
        break;
    case CT_USDT:
    case CT_USDC:
    case CT_GLM:
    case CT_SWAN:
    case CT_GPUMARKET:
    case CT_LIVEPEER:
    case CT_SPHERON_ORDER:
    case CT_FLUENCE_IMPL:
    case CT_N:
        break;
    }
    uint64_t gas = 150000 + 240 * (uint64_t)code->len + 60000;
    if (!gl_simw_room(w, 1, gas)) {
        json_decref(args);
        return PR_FULL;
    }
    uint32_t op = w->operator_addr;
    if (!funds(w, op, AS_ETH, 0, gl_simw_fee_cap(w, op, gas), err)) {
        json_decref(args);
        return later(w, t, 60, 120);
    }
    gl_code rc = gl_buf_append(&init, code->data, code->len, err);
    if (!rc && types) {
        gl_abi_type *ty = NULL;
        rc = gl_abi_type_parse(&ty, types, err);
        if (!rc)
            rc = gl_abi_encode(&init, ty, args, err);
        gl_abi_type_free(ty);
    }
    json_decref(args);
    uint8_t addr[20];
    gl_simw_create_address(A(w, op)->a, A(w, op)->nonce, addr);
    uint32_t idx = SIM_NONE;
    if (!rc) {
        sim_role role = hub ? RO_HUB_CONTRACT : c <= CT_SWAN || c == CT_USDT ? RO_TOKEN_CONTRACT
                      : c == CT_BRIDGE ? RO_BRIDGE_CONTRACT : RO_MARKET_CONTRACT;
        uint32_t ent = hub ? w->hub_ents.v[c - CT_N] : w->contract_entity[c];
        idx = gl_simw_contract_addr(w, ent, role, addr, err);
        if (idx == SIM_NONE)
            rc = err->code;
    }
    if (!rc) {
        if (hub)
            w->hubs.v[c - CT_N] = idx;
        else
            w->contract[c] = idx;
        if (c == CT_BRIDGE)
            A(w, idx)->funding = (uint8_t)(FP_TREASURY | FP_TREASURY << 4);
        rc = gl_simw_send(w, t, 0, op, SIM_NONE, NULL, 0, &init, gas, 0xff, err);
    }
    gl_buf_release(&init);
    return PR_DONE; /* a failure is in err */
}

static sim_prep prep_setup_call(sim_world *w, sim_task *t, gl_err *err)
{
    if (!gl_simw_room(w, 1, G_SETUP_CALL))
        return PR_FULL;
    uint32_t op = w->operator_addr;
    send_call(w, t, 0, op, w->contract[CT_SPHERON_ORDER], 0, FN_SPH_SET_LEASE,
              json_pack("[o]", jaddr(w, w->contract[CT_SPHERON_LEASE])), G_SETUP_CALL, err);
    return PR_DONE;
}

static sim_prep prep_cp_deploy(sim_world *w, sim_task *t, gl_err *err)
{
    sim_provider *p = &w->provs.v[t->a];
    uint32_t wal = p->wallets[0];
    uint64_t gas = 150000 + 240 * (uint64_t)w->cp_code.len + 200000;
    if (!gl_simw_room(w, 1, gas))
        return PR_FULL;
    if (!funds(w, wal, AS_ETH, 0, gl_simw_fee_cap(w, wal, gas), err))
        return later(w, t, 1200, 3600);
    gl_buf init = GL_BUF_INIT;
    gl_abi_type *ty = NULL;
    char node[64];
    snprintf(node, sizeof node, "swan-cp-%s-%u", E(w, p->entity)->id, t->b + 1);
    gl_code rc = gl_buf_append(&init, w->cp_code.data, w->cp_code.len, err);
    if (!rc)
        rc = gl_abi_type_parse(&ty, "(address,string)", err);
    json_t *args = json_pack("[os]", jaddr(w, wal), node);
    if (!rc)
        rc = gl_abi_encode(&init, ty, args, err);
    json_decref(args);
    gl_abi_type_free(ty);
    uint8_t addr[20];
    gl_simw_create_address(A(w, wal)->a, A(w, wal)->nonce, addr);
    if (!rc) {
        uint32_t idx = gl_simw_contract_addr(w, p->entity, RO_SWAN_CP_ACCOUNT, addr, err);
        if (idx == SIM_NONE)
            rc = err->code;
        else
            w->provs.v[t->a].cp[t->b] = idx;
    }
    if (!rc)
        gl_simw_send(w, t, 0, wal, SIM_NONE, NULL, 0, &init, gas, 0xff, err);
    gl_buf_release(&init);
    return PR_DONE;
}

static sim_prep prep_offer_register(sim_world *w, sim_task *t, gl_err *err)
{
    sim_offer *o = &w->offers.v[t->a];
    if (w->contract[CT_GPUMARKET] == SIM_NONE || w->contract[CT_USDC] == SIM_NONE)
        return later(w, t, 600, 1200);
    if (!gl_simw_room(w, 1, G_REGISTER))
        return PR_FULL;
    if (!funds(w, o->wallet, AS_ETH, 0, gl_simw_fee_cap(w, o->wallet, G_REGISTER), err))
        return later(w, t, 1200, 3600);
    const sim_provider *p = &w->provs.v[o->provider];
    json_t *args = json_pack("[sioso]", gl_sim_models[o->model].name, (int)o->count, jamt(o->price),
                             gl_sims_region(p->region), jtoken(w, (sim_asset)o->asset));
    send_call(w, t, 0, o->wallet, w->contract[CT_GPUMARKET], 0, FN_REGISTER_OFFER, args, G_REGISTER, err);
    return PR_DONE;
}

static sim_prep prep_offer_update(sim_world *w, sim_task *t, gl_err *err)
{
    sim_offer *o = &w->offers.v[t->a];
    if (!o->id)
        return later(w, t, 1800, 3600);
    if (!gl_simw_room(w, 1, G_UPDATE))
        return PR_FULL;
    if (!gl_simw_lock_takeall(w, lock_key(t->a, LK_OFFER)))
        return later(w, t, 60, 600);
    if (!funds(w, o->wallet, AS_ETH, 0, gl_simw_fee_cap(w, o->wallet, G_UPDATE), err))
        return later(w, t, 1200, 3600);
    send_call(w, t, 0, o->wallet, w->contract[CT_GPUMARKET], 0, FN_UPDATE_OFFER,
              json_pack("[Iio]", (json_int_t)o->id, (int)o->count, jamt(t->v)), G_UPDATE, err);
    return PR_DONE;
}

/* What a share-of-balance transfer (a cash-out, a GpuMarket sweep) is
 * rounded down to, from the token's own decimals: a whole token for the
 * dollar stablecoins (USDC, USDT: 10^6), a thousandth of one for the others
 * (ETH, GLM, SWAN: 10^15).  USDT once fell to the 18-decimal branch, so a
 * bazaar host's cash-out (10^15 units = 10^9 USDT) always rounded to 0 and
 * was dropped. */
static sim_amt cashout_unit(sim_asset as)
{
    sim_amt one = gl_sims_asset_one(as);
    return as == AS_USDC || as == AS_USDT ? one : one / 1000;
}

static sim_prep prep_xfer(sim_world *w, sim_task *t, gl_err *err)
{
    uint32_t from = t->a, to = t->b;
    sim_asset as = (sim_asset)t->c;
    if (to == SIM_NONE) { /* a cash-out: to its own deposit address, a share of what it has */
        to = deposit_of(w, A(w, from)->entity, err);
        if (to == SIM_NONE)
            return PR_DROP;
        t->b = to;
    }
    uint64_t gas = as != AS_ETH ? G_TOKEN : A(w, to)->has_key ? G_ETH : G_ETH_CONTRACT;
    if (!gl_simw_room(w, 1, gas))
        return PR_FULL;
    sim_amt fee = gl_simw_fee_cap(w, from, gas);
    if (t->v == 0) {
        sim_amt have = gl_simw_avail(w, from, as);
        if (as == AS_ETH)
            have = have > fee + ETH1 / 50 ? have - fee - ETH1 / 50 : 0; /* keep some for gas */
        t->v = have * t->x / 100 / cashout_unit(as) * cashout_unit(as);
        if (t->v == 0)
            return PR_DROP;
    }
    if (A(w, to)->role == RO_DEPOSIT_ADDRESS && !gl_simw_lock_incr(w, lock_key(to, LK_BAL + as)))
        return later(w, t, 30, 300);
    if (!funds(w, from, as, t->v, fee, err))
        return later(w, t, 1200, 3600);
    if (as == AS_ETH) {
        gl_simw_send(w, t, 0, from, to, NULL, t->v, NULL, gas, 0xff, err);
    } else {
        gl_simw_reserve(w, from, as, t->v);
        send_call(w, t, 0, from, gl_simw_token(w, as), 0, FN_TRANSFER, json_pack("[oo]", jaddr(w, to), jamt(t->v)),
                  gas, err);
    }
    return PR_DONE;
}

static sim_prep prep_mint(sim_world *w, sim_task *t, gl_err *err)
{
    uint32_t op = w->operator_addr;
    if (gl_simw_token(w, (sim_asset)t->c) == SIM_NONE)
        return later(w, t, 600, 1200);
    if (!gl_simw_room(w, 1, G_MINT))
        return PR_FULL;
    if (!funds(w, op, AS_ETH, 0, gl_simw_fee_cap(w, op, G_MINT), err))
        return later(w, t, 60, 120);
    send_call(w, t, 0, op, gl_simw_token(w, (sim_asset)t->c), 0, FN_MINT,
              json_pack("[oo]", jaddr(w, t->a), jamt(t->v)), G_MINT, err);
    return PR_DONE;
}

static sim_prep prep_bridge_release(sim_world *w, sim_task *t, gl_err *err)
{
    uint32_t br = w->contract[CT_BRIDGE], rel = w->bridge_relayer;
    sim_asset as = (sim_asset)t->c;
    if (br == SIM_NONE)
        return later(w, t, 600, 1200);
    if (!gl_simw_room(w, 1, G_BRIDGE))
        return PR_FULL;
    bool ok = gl_simw_ensure(w, br, as, t->v, err);
    ok = funds(w, rel, AS_ETH, 0, gl_simw_fee_cap(w, rel, G_BRIDGE), err) && ok;
    if (!ok)
        return later(w, t, 900, 2400);
    gl_simw_reserve(w, br, as, t->v);
    uint8_t id[32], pre[16];
    uint64_t n = ++w->deposit_id;
    memcpy(pre, "bridge-deposit", 14);
    pre[14] = (uint8_t)(n >> 8);
    pre[15] = (uint8_t)n;
    uint8_t seedb[8];
    for (int i = 0; i < 8; i++)
        seedb[i] = (uint8_t)(w->opts->seed >> (56 - 8 * i));
    gl_keccak k;
    gl_keccak_init(&k);
    gl_keccak_update(&k, pre, sizeof pre);
    gl_keccak_update(&k, seedb, 8);
    gl_keccak_update(&k, &n, sizeof n);
    gl_keccak_final(&k, id);
    send_call(w, t, 0, rel, br, 0, FN_BRIDGE_RELEASE,
              json_pack("[ooo o]", jhex(id, 32), jtoken(w, as), jaddr(w, t->b), jamt(t->v)), G_BRIDGE, err);
    return PR_DONE;
}

static sim_prep prep_sweep(sim_world *w, sim_task *t, gl_err *err)
{
    uint32_t d = t->a;
    sim_asset as = (sim_asset)t->c;
    sim_addr *da = A(w, d);
    uint32_t hot = E(w, da->entity)->main;
    uint64_t gas = as == AS_ETH ? G_ETH : G_TOKEN;
    if (!gl_simw_room(w, 1, gas))
        return PR_FULL;
    if (!gl_simw_lock_takeall(w, lock_key(d, LK_BAL + as)))
        return later(w, t, 60, 600);
    sim_amt fee = gl_simw_fee_cap(w, d, gas);
    if (as == AS_ETH) {
        sim_amt bal = gl_simw_avail(w, d, AS_ETH);
        if (bal <= fee) {
            A(w, d)->sweep_pending &= ~(1u << as);
            return PR_DROP;
        }
        t->v = bal - fee;
        gl_simw_send(w, t, 0, d, hot, NULL, t->v, NULL, gas, 0xff, err);
        return PR_DONE;
    }
    sim_amt bal = gl_simw_avail(w, d, as);
    if (bal == 0) {
        A(w, d)->sweep_pending &= ~(1u << as);
        return PR_DROP;
    }
    if (!funds(w, d, AS_ETH, 0, fee, err)) /* the exchange sends gas first */
        return later(w, t, 600, 1800);
    t->v = bal;
    gl_simw_reserve(w, d, as, bal);
    send_call(w, t, 0, d, gl_simw_token(w, as), 0, FN_TRANSFER, json_pack("[oo]", jaddr(w, hot), jamt(bal)), gas, err);
    return PR_DONE;
}

/* -- GpuMarket -- */

/* Whether an offer's leases are held to its count (provider_claims.
 * respect_capacity); an oversold provider's never are. */
static bool capacity_checked(sim_world *w, uint32_t offer)
{
    return w->sc->provider_claims.respect_capacity &&
           w->provs.v[w->offers.v[offer].provider].claim != PC_OVERSOLD;
}

/* The same for a bazaar listing's rentals. */
static bool listing_checked(sim_world *w, uint32_t listing)
{
    return w->sc->provider_claims.respect_capacity &&
           w->provs.v[w->listings.v[listing].provider].claim != PC_OVERSOLD;
}

/* GPUs of hold key `key` (an offer, or a listing | SIM_HOLD_LISTING) free
 * throughout [a, b): `count` minus the most its holds take at once in that
 * window.  A hold ending at t frees its GPUs for one starting at t, as
 * `gpuledger providers` counts them. */
static uint32_t held_free(sim_world *w, uint32_t key, uint32_t count, uint64_t a, uint64_t b)
{
    uint64_t most = 0;
    for (size_t i = 0; i < w->holds.n; i++) {
        const sim_hold *h = &w->holds.v[i];
        uint64_t at = h->start > a ? h->start : a; /* the window's start, or a hold's start within it */
        if (h->offer != key || h->start >= b || h->end <= at)
            continue;
        uint64_t held = 0;
        for (size_t k = 0; k < w->holds.n; k++) {
            const sim_hold *g = &w->holds.v[k];
            if (g->offer == key && g->start <= at && g->end > at)
                held += g->gpus;
        }
        most = held > most ? held : most;
    }
    return most >= count ? 0 : count - (uint32_t)most;
}

static uint32_t capacity_free(sim_world *w, uint32_t offer, uint64_t a, uint64_t b)
{
    return held_free(w, offer, w->offers.v[offer].count, a, b);
}

static gl_code add_hold(sim_world *w, uint32_t offer, uint64_t start, uint64_t end, uint32_t gpus, gl_err *err)
{
    if (w->holds.n == w->holds.cap) {
        size_t ncap = w->holds.cap ? w->holds.cap * 2 : 256;
        sim_hold *nv = realloc(w->holds.v, ncap * sizeof *nv);
        if (!nv)
            return gl_err_set(err, GL_ENOMEM, "out of memory for capacity holds");
        w->holds.v = nv;
        w->holds.cap = ncap;
    }
    w->holds.v[w->holds.n++] = (sim_hold){offer, gpus, start, end};
    return GL_OK;
}

static sim_prep prep_gm_buy(sim_world *w, sim_task *t, sim_purchase *p, gl_err *err)
{
    sim_offer *o = &w->offers.v[p->offer];
    if (!o->id)
        return later(w, t, 600, 1800);
    if (p->gpus > o->count)
        p->gpus = o->count;
    bool checked = capacity_checked(w, p->offer);
    if (checked) {
        /* an honest provider does not sell GPUs it has already leased: a
         * plain purchase takes what is free; one whose amount was already
         * agreed (a proxy paid ahead, a reseller's back-to-back lease)
         * waits until its GPUs are free */
        uint32_t free_now = capacity_free(w, p->offer, w->blk_time, w->blk_time + (uint64_t)p->hours * 3600);
        if (free_now < p->gpus) {
            if (!free_now || p->typology != TY_NONE || p->resale_of != SIM_NONE)
                return later(w, t, 900, 2700);
            p->gpus = free_now;
        }
    }
    uint32_t W = p->payer;
    sim_asset as = (sim_asset)o->asset;
    sim_amt amount = (sim_amt)p->gpus * p->hours * o->price; /* at today's price */
    bool appr = as == AS_USDC && needs_approve(w, W, SP_USDC_GPUMARKET, amount);
    uint64_t gas = G_LEASE + (appr ? G_APPROVE : 0);
    if (!gl_simw_room(w, appr ? 2 : 1, gas))
        return PR_FULL;
    if (!gl_simw_lock_incr(w, lock_key(p->offer, LK_OFFER)))
        return later(w, t, 60, 600);
    if (!funds(w, W, as, amount, gl_simw_fee_cap(w, W, gas), err))
        return later(w, t, 1200, 3600);
    p->amount = amount;
    p->asset = (uint8_t)as;
    p->provider_wallet = o->wallet;
    uint8_t step = 0;
    if (appr && send_approve(w, t, step++, W, AS_USDC, w->contract[CT_GPUMARKET], amount, err))
        return PR_DONE;
    if (as != AS_ETH)
        gl_simw_reserve(w, W, as, amount);
    if (checked && add_hold(w, p->offer, w->blk_time, w->blk_time + (uint64_t)p->hours * 3600, p->gpus, err))
        return PR_DONE;
    json_t *args = p->beneficiary_wallet != SIM_NONE
                       ? json_pack("[oIii]", jaddr(w, p->beneficiary_wallet), (json_int_t)o->id, (int)p->gpus, (int)p->hours)
                       : json_pack("[Iii]", (json_int_t)o->id, (int)p->gpus, (int)p->hours);
    send_call(w, t, step, W, w->contract[CT_GPUMARKET], as == AS_ETH ? amount : 0,
              p->beneficiary_wallet != SIM_NONE ? FN_LEASE_FOR : FN_LEASE, args, G_LEASE, err);
    return PR_DONE;
}

static sim_prep prep_gm_extend(sim_world *w, sim_task *t, gl_err *err)
{
    sim_lease *l = &w->leases.v[t->a];
    if (l->ended || w->blk_time >= l->start + (uint64_t)l->hours * 3600)
        return PR_DROP;
    uint32_t P = t->b;
    uint64_t l_end = l->start + (uint64_t)l->hours * 3600;
    /* an honest provider extends a lease only if its GPUs are not leased
     * to someone else after it */
    bool checked = capacity_checked(w, l->offer);
    if (checked && capacity_free(w, l->offer, l_end, l_end + t->x * 3600) < l->gpus)
        return PR_DROP;
    sim_asset as = (sim_asset)l->asset;
    sim_amt amount = (sim_amt)l->gpus * t->x * l->price;
    bool appr = as == AS_USDC && needs_approve(w, P, SP_USDC_GPUMARKET, amount);
    uint64_t gas = G_EXTEND + (appr ? G_APPROVE : 0);
    if (!gl_simw_room(w, appr ? 2 : 1, gas))
        return PR_FULL;
    if (!gl_simw_lock_incr(w, lock_key(t->a, LK_LEASE)))
        return later(w, t, 30, 120);
    if (!funds(w, P, as, amount, gl_simw_fee_cap(w, P, gas), err)) {
        /* an extension waits at most until the lease runs out */
        uint64_t end = l->start + (uint64_t)l->hours * 3600;
        if (w->blk_time + 1800 >= end)
            return PR_DROP;
        return later(w, t, 600, 1200);
    }
    t->v = amount;
    uint8_t step = 0;
    if (appr && send_approve(w, t, step++, P, AS_USDC, w->contract[CT_GPUMARKET], amount, err))
        return PR_DONE;
    if (as != AS_ETH)
        gl_simw_reserve(w, P, as, amount);
    if (checked && add_hold(w, l->offer, l_end, l_end + t->x * 3600, l->gpus, err))
        return PR_DONE;
    send_call(w, t, step, P, w->contract[CT_GPUMARKET], as == AS_ETH ? amount : 0, FN_EXTEND_LEASE,
              json_pack("[Ii]", (json_int_t)l->id, (int)t->x), G_EXTEND, err);
    return PR_DONE;
}

static sim_prep prep_gm_end(sim_world *w, sim_task *t, gl_err *err)
{
    sim_lease *l = &w->leases.v[t->a];
    if (l->ended)
        return PR_DROP;
    uint64_t end = l->start + (uint64_t)l->hours * 3600;
    uint32_t C = t->b;
    if (C == l->provider_wallet && w->blk_time < end) {
        t->time = end + rnd(w, 600, 6 * 3600);
        return PR_LATER;
    }
    if (!gl_simw_room(w, 1, G_END))
        return PR_FULL;
    if (!gl_simw_lock_takeall(w, lock_key(t->a, LK_LEASE)) ||
        !gl_simw_lock_incr(w, lock_key(l->provider_wallet, LK_EARN + (l->asset == AS_ETH ? 0 : 1))))
        return later(w, t, 30, 300);
    if (!funds(w, C, AS_ETH, 0, gl_simw_fee_cap(w, C, G_END), err))
        return later(w, t, 1200, 3600);
    uint64_t elapsed = w->blk_time - l->start;
    uint64_t used = (elapsed + 3599) / 3600;
    if (used == 0)
        used = 1;
    if (used > l->hours)
        used = l->hours;
    sim_amt pay = (sim_amt)l->gpus * used * l->price;
    if (pay > l->paid)
        pay = l->paid;
    t->v = pay;
    t->x = used;
    l->ended = true;
    send_call(w, t, 0, C, w->contract[CT_GPUMARKET], 0, FN_END_LEASE, json_pack("[I]", (json_int_t)l->id), G_END,
              err);
    return PR_DONE;
}

static sim_prep prep_gm_withdraw(sim_world *w, sim_task *t, gl_err *err)
{
    uint32_t W = t->a;
    unsigned ei = t->c == AS_ETH ? 0 : 1;
    sim_amt e = A(w, W)->earn[ei];
    if (e == 0)
        return PR_DROP;
    if (!gl_simw_room(w, 1, G_WITHDRAW))
        return PR_FULL;
    if (!gl_simw_lock_takeall(w, lock_key(W, LK_EARN + ei)))
        return later(w, t, 60, 900);
    if (!funds(w, W, AS_ETH, 0, gl_simw_fee_cap(w, W, G_WITHDRAW), err))
        return later(w, t, 1200, 3600);
    t->v = e;
    send_call(w, t, 0, W, w->contract[CT_GPUMARKET], 0, FN_WITHDRAW, json_pack("[o]", jtoken(w, (sim_asset)t->c)),
              G_WITHDRAW, err);
    return PR_DONE;
}

/* -- Livepeer -- */

#define LP_FUND_PENDING (1u << 31)

static sim_amt lp_avail(sim_world *w, uint32_t s)
{
    sim_addr *a = A(w, s);
    sim_amt r = a->lp_resv_blk == w->blk_seq ? a->lp_resv : 0;
    return a->lp_deposit > r ? a->lp_deposit - r : 0;
}

static sim_prep prep_lp_ticket(sim_world *w, sim_task *t, sim_purchase *p, gl_err *err)
{
    uint32_t S = p->aux, O = p->provider_wallet;
    if (w->contract[CT_LIVEPEER] == SIM_NONE)
        return later(w, t, 600, 1200);
    if (lp_avail(w, S) < p->amount) {
        sim_addr *sa = A(w, S);
        if (!(sa->sweep_pending & LP_FUND_PENDING)) {
            sa->sweep_pending |= LP_FUND_PENDING;
            uint32_t funder = sa->typology == TY_LIVEPEER_THIRD_PARTY ? sa->fund_src : S;
            sim_amt dep = p->amount * rnd(w, 6, 12);
            dep = (dep + ETH1 / 100 - 1) / (ETH1 / 100) * (ETH1 / 100);
            sim_amt res = dep / 10;
            gl_code rc = push(w, TK_LP_FUND, w->blk_time + rnd(w, 60, 1800), funder, S, 0, 0, (uint64_t)res, dep, err);
            if (rc)
                return PR_DONE;
        }
        return later(w, t, 1800, 5400);
    }
    if (!gl_simw_room(w, 1, G_LP_REDEEM))
        return PR_FULL;
    if (!funds(w, O, AS_ETH, 0, gl_simw_fee_cap(w, O, G_LP_REDEEM), err))
        return later(w, t, 1200, 3600);
    sim_addr *sa = A(w, S);
    if (sa->lp_resv_blk != w->blk_seq) {
        sa->lp_resv = 0;
        sa->lp_resv_blk = w->blk_seq;
    }
    sa->lp_resv += p->amount;
    uint8_t rand[32], hash[32], aux[64], sig[65];
    for (int i = 0; i < 4; i++) {
        uint64_t r = gl_sim_rng_next(&w->rng);
        memcpy(rand + 8 * i, &r, 8);
    }
    gl_keccak256(rand, 32, hash);
    memset(aux, 0, sizeof aux);
    uint64_t round = 3000 + (w->blk_time - w->sc->start) / 86400;
    for (int i = 0; i < 8; i++)
        aux[31 - i] = (uint8_t)(round >> (8 * i));
    for (int i = 0; i < 4; i++) {
        uint64_t r = gl_sim_rng_next(&w->rng);
        memcpy(aux + 32 + 8 * i, &r, 8);
    }
    for (int i = 0; i < 65; i++)
        sig[i] = (uint8_t)gl_sim_rng_next(&w->rng);
    sig[64] = 27 + (sig[64] & 1);
    json_t *ticket = json_pack("[oooso oo]", jaddr(w, O), jaddr(w, S), jamt(p->amount),
                               "0x028f5c28f5c28f5c28f5c28f5c28f5c28f5c28f5c28f5c28f5c28f5c28f5c28f",
                               jamt(++w->lp_nonce), jhex(hash, 32), jhex(aux, 64));
    send_call(w, t, 0, O, w->contract[CT_LIVEPEER], 0, FN_LP_REDEEM,
              json_pack("[o o o]", ticket, jhex(sig, 65), jhex(rand, 32)), G_LP_REDEEM, err);
    return PR_DONE;
}

static sim_prep prep_lp_fund(sim_world *w, sim_task *t, gl_err *err)
{
    uint32_t F = t->a, S = t->b;
    sim_amt dep = t->v, res = t->x;
    if (!gl_simw_room(w, 1, G_LP_FUND))
        return PR_FULL;
    if (!funds(w, F, AS_ETH, 0, dep + res + gl_simw_fee_cap(w, F, G_LP_FUND), err))
        return later(w, t, 1200, 3600);
    json_t *args = F == S ? json_pack("[oo]", jamt(dep), jamt(res)) : json_pack("[ooo]", jaddr(w, S), jamt(dep), jamt(res));
    send_call(w, t, 0, F, w->contract[CT_LIVEPEER], dep + res, F == S ? FN_LP_FUND : FN_LP_FUND_FOR, args, G_LP_FUND,
              err);
    return PR_DONE;
}

/* -- Golem -- */

static sim_prep prep_golem_batch(sim_world *w, sim_task *t, gl_err *err)
{
    uint32_t p0 = t->a, k = t->b ? t->b : 1;
    uint32_t R = w->purch.v[p0].payer;
    if (w->contract[CT_GOLEM_BATCH] == SIM_NONE)
        return later(w, t, 600, 1200);
    sim_amt total = 0;
    for (uint32_t i = 0; i < k; i++)
        total += w->purch.v[p0 + i].amount;
    bool appr = needs_approve(w, R, SP_GLM_BATCH, total);
    uint64_t gas = G_GOLEM_BASE + G_GOLEM_PER * k + (appr ? G_APPROVE : 0);
    if (!gl_simw_room(w, appr ? 2 : 1, gas))
        return PR_FULL;
    if (!funds(w, R, AS_GLM, total, gl_simw_fee_cap(w, R, gas), err))
        return later(w, t, 1200, 3600);
    uint8_t step = 0;
    if (appr && send_approve(w, t, step++, R, AS_GLM, w->contract[CT_GOLEM_BATCH], total, err))
        return PR_DONE;
    gl_simw_reserve(w, R, AS_GLM, total);
    json_t *rs = json_array(), *as = json_array();
    for (uint32_t i = 0; i < k; i++) {
        json_array_append_new(rs, jaddr(w, w->purch.v[p0 + i].provider_wallet));
        json_array_append_new(as, jamt(w->purch.v[p0 + i].amount));
    }
    send_call(w, t, step, R, w->contract[CT_GOLEM_BATCH], 0, FN_GOLEM_INDIRECT, json_pack("[oo]", rs, as),
              gas - (appr ? G_APPROVE : 0), err);
    return PR_DONE;
}

static void golem_id(sim_world *w, const sim_gdeposit *d, uint8_t id[32])
{
    memset(id, 0, 32);
    memcpy(id, A(w, d->funder)->a, 20);
    for (int i = 0; i < 8; i++)
        id[31 - i] = (uint8_t)(d->nonce >> (8 * i));
}

static sim_prep prep_golem_deposit(sim_world *w, sim_task *t, gl_err *err)
{
    sim_gdeposit *d = &w->gdeps.v[t->a];
    uint32_t F = d->funder;
    if (w->contract[CT_GOLEM_LOCK] == SIM_NONE)
        return later(w, t, 600, 1200);
    sim_amt total = d->amount + d->fee;
    bool appr = needs_approve(w, F, SP_GLM_LOCK, total);
    uint64_t gas = G_GDEP_CREATE + (appr ? G_APPROVE : 0);
    if (!gl_simw_room(w, appr ? 2 : 1, gas))
        return PR_FULL;
    if (!funds(w, F, AS_GLM, total, gl_simw_fee_cap(w, F, gas), err))
        return later(w, t, 1200, 3600);
    uint8_t step = 0;
    if (appr && send_approve(w, t, step++, F, AS_GLM, w->contract[CT_GOLEM_LOCK], total, err))
        return PR_DONE;
    gl_simw_reserve(w, F, AS_GLM, total);
    send_call(w, t, step, F, w->contract[CT_GOLEM_LOCK], 0, FN_GOLEM_CREATE_DEPOSIT,
              json_pack("[Iooo I]", (json_int_t)d->nonce, jaddr(w, d->spender), jamt(d->amount), jamt(d->fee),
                        (json_int_t)d->valid_to),
              G_GDEP_CREATE, err);
    return PR_DONE;
}

static sim_prep prep_golem_pay(sim_world *w, sim_task *t, sim_purchase *p, gl_err *err)
{
    sim_gdeposit *d = &w->gdeps.v[p->aux];
    if (d->closed)
        return PR_DROP;
    if (!d->created)
        return later(w, t, 1800, 3600);
    sim_amt r = d->resv_blk == w->blk_seq ? d->resv : 0;
    if (d->amount - r < p->amount)
        return PR_DROP; /* the deposit is spent: the purchase does not happen */
    uint32_t S = d->spender;
    if (!gl_simw_room(w, 1, G_GDEP_PAY))
        return PR_FULL;
    if (!funds(w, S, AS_ETH, 0, gl_simw_fee_cap(w, S, G_GDEP_PAY), err))
        return later(w, t, 1200, 3600);
    if (d->resv_blk != w->blk_seq) {
        d->resv = 0;
        d->resv_blk = w->blk_seq;
    }
    d->resv += p->amount;
    uint8_t id[32], packed[32];
    golem_id(w, d, id);
    memcpy(packed, A(w, p->provider_wallet)->a, 20);
    uint8_t amt[32];
    gl_simw_amt_word(p->amount, amt);
    memcpy(packed + 20, amt + 20, 12);
    json_t *pays = json_pack("[o]", jhex(packed, 32));
    send_call(w, t, 0, S, w->contract[CT_GOLEM_LOCK], 0, FN_GOLEM_DEPOSIT_TRANSFER, json_pack("[oo]", jhex(id, 32), pays),
              G_GDEP_PAY, err);
    return PR_DONE;
}

static sim_prep prep_golem_close(sim_world *w, sim_task *t, gl_err *err)
{
    sim_gdeposit *d = &w->gdeps.v[t->a];
    if (!d->created || d->closed)
        return PR_DROP;
    uint32_t S = d->spender;
    if (!gl_simw_room(w, 1, G_GDEP_CLOSE))
        return PR_FULL;
    if (!funds(w, S, AS_ETH, 0, gl_simw_fee_cap(w, S, G_GDEP_CLOSE), err))
        return later(w, t, 600, 1200);
    sim_amt r = d->resv_blk == w->blk_seq ? d->resv : 0;
    t->v = d->amount - r; /* what is left after this block's earlier payments */
    d->closed = true;
    uint8_t id[32];
    golem_id(w, d, id);
    send_call(w, t, 0, S, w->contract[CT_GOLEM_LOCK], 0, FN_GOLEM_CLOSE_DEPOSIT, json_pack("[o]", jhex(id, 32)),
              G_GDEP_CLOSE, err);
    return PR_DONE;
}

/* -- Spheron -- */

static sim_prep prep_sph_order(sim_world *w, sim_task *t, sim_purchase *p, gl_err *err)
{
    uint32_t T = p->payer;
    if (w->contract[CT_SPHERON_ORDER] == SIM_NONE)
        return later(w, t, 600, 1200);
    bool appr = needs_approve(w, T, SP_USDC_SPHERON, p->max_price);
    uint64_t gas = G_SPH_ORDER + (appr ? G_APPROVE : 0);
    if (!gl_simw_room(w, appr ? 2 : 1, gas))
        return PR_FULL;
    if (!funds(w, T, AS_USDC, p->max_price, gl_simw_fee_cap(w, T, gas), err))
        return later(w, t, 1200, 3600);
    sim_order o;
    memset(&o, 0, sizeof o);
    o.purchase = t->a;
    o.blocks = (uint64_t)p->hours * 3600 / SPHERON_SECONDS_PER_BLOCK;
    o.fizz = gl_sim_rng_chance(&w->rng, 0.2) ? rnd(w, 1, 5000) : 0;
    if (w->orders.n == w->orders.cap) {
        size_t ncap = w->orders.cap ? w->orders.cap * 2 : 256;
        sim_order *nv = realloc(w->orders.v, ncap * sizeof *nv);
        if (!nv) {
            gl_err_set(err, GL_ENOMEM, "out of memory for orders");
            return PR_DONE;
        }
        w->orders.v = nv;
        w->orders.cap = ncap;
    }
    w->orders.v[w->orders.n++] = o;
    p->aux = (uint32_t)(w->orders.n - 1);
    uint8_t step = 0;
    if (appr && send_approve(w, t, step++, T, AS_USDC, w->contract[CT_SPHERON_ORDER], p->max_price, err))
        return PR_DONE;
    gl_simw_reserve(w, T, AS_USDC, p->max_price);
    /* the compressed order spec Spheron's SDK writes (utils/spec.ts
     * compressOrderSpec): GPU -> g, Attributes -> a, Units -> u, unquoted */
    char specs[320];
    snprintf(specs, sizeof specs,
             "{n:sim,pr:{a:[{k:region,v:any}]},s:[{n:svc,r:{i:1,c:{u:%u,a:[]},m:{u:%u,a:[]},"
             "s:[{n:default,a:[],u:10737418240}],g:{a:[{k:vendor/nvidia/model/%s,v:true}],u:%u},e:[]},c:1}]}",
             1000u * p->gpus, 1073741824u, gl_sim_models[p->model].name, p->gpus);
    send_call(w, t, step, T, w->contract[CT_SPHERON_ORDER], 0, FN_SPH_CREATE_ORDER,
              json_pack("[oIosi]", jamt(p->max_rate), (json_int_t)o.blocks, jtoken(w, AS_USDC), specs,
                        o.fizz ? 0 : 1),
              G_SPH_ORDER, err);
    return PR_DONE;
}

static sim_prep prep_sph_match(sim_world *w, sim_task *t, gl_err *err)
{
    sim_order *o = &w->orders.v[t->a];
    sim_purchase *p = &w->purch.v[o->purchase];
    uint32_t P = p->provider_wallet;
    if (!gl_simw_room(w, 1, G_SPH_MATCH))
        return PR_FULL;
    if (!funds(w, P, AS_ETH, 0, gl_simw_fee_cap(w, P, G_SPH_MATCH), err))
        return later(w, t, 1200, 3600);
    send_call(w, t, 0, P, w->contract[CT_SPHERON_ORDER], 0, FN_SPH_MATCH_ORDER,
              json_pack("[IoI]", (json_int_t)o->id, jamt(p->rate), (json_int_t)o->fizz), G_SPH_MATCH, err);
    return PR_DONE;
}

static sim_prep prep_sph_close(sim_world *w, sim_task *t, gl_err *err)
{
    sim_order *o = &w->orders.v[t->a];
    if (o->closed || !o->matched)
        return PR_DROP;
    uint32_t C = t->b;
    if (!gl_simw_room(w, 1, G_SPH_CLOSE))
        return PR_FULL;
    if (!funds(w, C, AS_ETH, 0, gl_simw_fee_cap(w, C, G_SPH_CLOSE), err))
        return later(w, t, 1200, 3600);
    uint64_t used = w->blk_number - o->start_block;
    if (used > o->blocks)
        used = o->blocks;
    sim_amt acc = w->purch.v[o->purchase].amount;
    t->v = acc * used / o->blocks;
    o->closed = true;
    send_call(w, t, 0, C, w->contract[CT_SPHERON_LEASE], 0, FN_SPH_CLOSE_LEASE,
              json_pack("[I]", (json_int_t)o->lease_id), G_SPH_CLOSE, err);
    return PR_DONE;
}

/* -- Swan -- */

static void swan_uid(sim_world *w, uint32_t pi, char out[48])
{
    snprintf(out, 48, "task-%s-%06u", w->uid_prefix, pi);
}

static sim_prep prep_swan_assign(sim_world *w, sim_task *t, sim_purchase *p, gl_err *err)
{
    uint32_t U = p->payer;
    const sim_provider *pr = &w->provs.v[p->provider];
    if (w->contract[CT_SWAN_TASKS] == SIM_NONE)
        return later(w, t, 600, 1200);
    for (unsigned i = 0; i < p->gpus; i++)
        if (pr->cp[i] == SIM_NONE || !A(w, pr->cp[i])->uses)
            return later(w, t, 1800, 3600);
    bool appr = needs_approve(w, U, SP_SWAN_TASKS, p->amount);
    uint64_t gas = G_SWAN_ASSIGN + (appr ? G_APPROVE : 0);
    if (!gl_simw_room(w, appr ? 2 : 1, gas))
        return PR_FULL;
    if (!funds(w, U, AS_SWAN, p->amount, gl_simw_fee_cap(w, U, gas), err))
        return later(w, t, 1200, 3600);
    uint8_t step = 0;
    if (appr && send_approve(w, t, step++, U, AS_SWAN, w->contract[CT_SWAN_TASKS], p->amount, err))
        return PR_DONE;
    gl_simw_reserve(w, U, AS_SWAN, p->amount);
    char uid[48];
    swan_uid(w, t->a, uid);
    json_t *cps = json_array();
    for (unsigned i = 0; i < p->gpus; i++)
        json_array_append_new(cps, jaddr(w, pr->cp[i]));
    send_call(w, t, step, U, w->contract[CT_SWAN_TASKS], 0, FN_SWAN_ASSIGN,
              json_pack("[sooo I]", uid, cps, jaddr(w, U), jamt(p->amount), (json_int_t)p->hours * 3600),
              G_SWAN_ASSIGN, err);
    return PR_DONE;
}

static sim_prep prep_swan_release(sim_world *w, sim_task *t, gl_err *err)
{
    sim_purchase *p = &w->purch.v[t->a];
    uint32_t U = p->payer;
    uint64_t gas = G_SWAN_RELEASE + G_SWAN_PER * p->gpus;
    if (!gl_simw_room(w, 1, gas))
        return PR_FULL;
    if (!funds(w, U, AS_ETH, 0, gl_simw_fee_cap(w, U, gas), err))
        return later(w, t, 1200, 3600);
    char uid[48];
    swan_uid(w, t->a, uid);
    send_call(w, t, 0, U, w->contract[CT_SWAN_TASKS], 0, FN_SWAN_RELEASE, json_pack("[s]", uid), gas, err);
    return PR_DONE;
}

/* -- Fluence -- */

static sim_prep prep_fl_deal(sim_world *w, sim_task *t, sim_purchase *p, gl_err *err)
{
    uint32_t O = p->payer;
    if (w->contract[CT_FLUENCE_FACTORY] == SIM_NONE)
        return later(w, t, 600, 1200);
    if (!gl_simw_room(w, 1, G_FL_DEAL))
        return PR_FULL;
    if (!funds(w, O, AS_ETH, 0, gl_simw_fee_cap(w, O, G_FL_DEAL), err))
        return later(w, t, 1200, 3600);
    sim_deal d;
    memset(&d, 0, sizeof d);
    d.addr = SIM_NONE;
    d.owner = O;
    d.provider_wallet = p->provider_wallet;
    d.purchase = t->a;
    d.price_per_epoch = p->max_price;
    if (w->deals.n == w->deals.cap) {
        size_t ncap = w->deals.cap ? w->deals.cap * 2 : 256;
        sim_deal *nv = realloc(w->deals.v, ncap * sizeof *nv);
        if (!nv) {
            gl_err_set(err, GL_ENOMEM, "out of memory for deals");
            return PR_DONE;
        }
        w->deals.v = nv;
        w->deals.cap = ncap;
    }
    w->deals.v[w->deals.n++] = d;
    p->aux = (uint32_t)(w->deals.n - 1);
    send_call(w, t, 0, O, w->contract[CT_FLUENCE_FACTORY], 0, FN_FL_DEPLOY_DEAL,
              json_pack("[ooo]", jtoken(w, AS_USDC), jaddr(w, p->provider_wallet), jamt(d.price_per_epoch)),
              G_FL_DEAL, err);
    return PR_DONE;
}

static sim_prep prep_fl_deposit(sim_world *w, sim_task *t, gl_err *err)
{
    sim_deal *d = &w->deals.v[t->a];
    sim_purchase *p = &w->purch.v[d->purchase];
    uint32_t O = d->owner;
    uint64_t gas = G_APPROVE + G_FL_DEPOSIT;
    if (!gl_simw_room(w, 2, gas))
        return PR_FULL;
    if (!gl_simw_lock_incr(w, lock_key(d->addr, LK_DEAL)))
        return later(w, t, 60, 600);
    if (!funds(w, O, AS_USDC, p->amount, gl_simw_fee_cap(w, O, gas), err))
        return later(w, t, 1200, 3600);
    if (send_call(w, t, 0, O, w->contract[CT_USDC], 0, FN_APPROVE, json_pack("[oo]", jaddr(w, d->addr), jamt(p->amount)),
                  G_APPROVE, err))
        return PR_DONE;
    gl_simw_reserve(w, O, AS_USDC, p->amount);
    send_call(w, t, 1, O, d->addr, 0, FN_FL_DEPOSIT, json_pack("[o]", jamt(p->amount)), G_FL_DEPOSIT, err);
    return PR_DONE;
}

static sim_prep prep_fl_pay(sim_world *w, sim_task *t, gl_err *err)
{
    sim_deal *d = &w->deals.v[t->a];
    uint32_t P = d->provider_wallet;
    uint64_t epochs = (w->blk_time - d->start) / FLUENCE_EPOCH;
    sim_amt due = (sim_amt)epochs * d->price_per_epoch;
    due = due > d->total_paid ? due - d->total_paid : 0;
    sim_amt bal = A(w, d->addr)->bal[AS_USDC];
    sim_amt owed = due < bal ? due : bal;
    if (owed == 0)
        return bal ? later(w, t, 18 * 3600, 30 * 3600) : PR_DROP;
    if (!gl_simw_room(w, 1, G_FL_PAY))
        return PR_FULL;
    if (!gl_simw_lock_takeall(w, lock_key(d->addr, LK_DEAL)))
        return later(w, t, 60, 600);
    if (!funds(w, P, AS_ETH, 0, gl_simw_fee_cap(w, P, G_FL_PAY), err))
        return later(w, t, 1200, 3600);
    t->v = owed;
    send_call(w, t, 0, P, d->addr, 0, FN_FL_PAY_PROVIDER, json_pack("[]"), G_FL_PAY, err);
    return PR_DONE;
}

/* -- Noise -- */

static sim_prep prep_hub_call(sim_world *w, sim_task *t, gl_err *err)
{
    uint32_t from = t->a, to = t->b, hub = w->hubs.v[t->d];
    sim_asset as = (sim_asset)t->c;
    if (hub == SIM_NONE)
        return later(w, t, 600, 1200);
    sim_spender sp = as == AS_SWAN ? SP_SWAN_HUB : SP_USDC_HUB;
    bool appr = as != AS_ETH && needs_approve(w, from, sp, t->v);
    uint64_t gas = (as == AS_ETH ? G_HUB_FWD : G_HUB_PAY) + (appr ? G_APPROVE : 0);
    if (!gl_simw_room(w, appr ? 2 : 1, gas))
        return PR_FULL;
    if (!funds(w, from, as, t->v, gl_simw_fee_cap(w, from, gas), err))
        return later(w, t, 1200, 3600);
    if (as == AS_ETH) {
        send_call(w, t, 0, from, hub, t->v, FN_HUB_FORWARD, json_pack("[o]", jaddr(w, to)), G_HUB_FWD, err);
        return PR_DONE;
    }
    uint8_t step = 0;
    if (appr && send_approve(w, t, step++, from, as, hub, t->v, err))
        return PR_DONE;
    gl_simw_reserve(w, from, as, t->v);
    send_call(w, t, step, from, hub, 0, FN_HUB_PAY, json_pack("[ooo]", jtoken(w, as), jaddr(w, to), jamt(t->v)),
              G_HUB_PAY, err);
    return PR_DONE;
}

/* Airdrop amounts: drawn from the task's own seed, so the effect can
 * recompute them. */
static sim_amt airdrop_amount(uint64_t seed, uint32_t i)
{
    gl_sim_rng r;
    gl_sim_rng_seed(&r, seed, i);
    return (sim_amt)gl_sim_rng_range(&r, 10, 500) * ETH1;
}

static sim_prep prep_airdrop(sim_world *w, sim_task *t, gl_err *err)
{
    uint32_t ad = w->airdropper;
    uint32_t first = t->a, n = t->b;
    sim_amt total = 0;
    for (uint32_t i = 0; i < n; i++)
        total += airdrop_amount(t->x, first + i);
    bool via_hub = w->hubs.n > 0;
    uint32_t hub = via_hub ? w->hubs.v[0] : SIM_NONE;
    if (via_hub && hub == SIM_NONE)
        return later(w, t, 600, 1200);
    if (w->contract[CT_SWAN] == SIM_NONE)
        return later(w, t, 600, 1200);
    bool appr = via_hub && needs_approve(w, ad, SP_SWAN_HUB, total);
    uint64_t gas = via_hub ? G_HUB_MULTI + G_HUB_PER * (uint64_t)n + (appr ? G_APPROVE : 0) : G_TOKEN * (uint64_t)n;
    size_t ntx = via_hub ? (appr ? 2 : 1) : n;
    if (!gl_simw_room(w, ntx, gas))
        return PR_FULL;
    if (!funds(w, ad, AS_SWAN, total, gl_simw_fee_cap(w, ad, gas), err))
        return later(w, t, 900, 1800);
    gl_simw_reserve(w, ad, AS_SWAN, total);
    if (!via_hub) {
        for (uint32_t i = 0; i < n; i++)
            if (send_call(w, t, (uint8_t)i, ad, w->contract[CT_SWAN], 0, FN_TRANSFER,
                          json_pack("[oo]", jaddr(w, w->airdrop_to.v[first + i]), jamt(airdrop_amount(t->x, first + i))),
                          G_TOKEN, err))
                break;
        return PR_DONE;
    }
    uint8_t step = 0;
    if (appr && send_approve(w, t, step++, ad, AS_SWAN, hub, total, err))
        return PR_DONE;
    json_t *rs = json_array(), *as = json_array();
    for (uint32_t i = 0; i < n; i++) {
        json_array_append_new(rs, jaddr(w, w->airdrop_to.v[first + i]));
        json_array_append_new(as, jamt(airdrop_amount(t->x, first + i)));
    }
    send_call(w, t, step, ad, hub, 0, FN_HUB_MULTI, json_pack("[ooo]", jtoken(w, AS_SWAN), rs, as),
              G_HUB_MULTI + G_HUB_PER * (uint64_t)n, err);
    return PR_DONE;
}

/* -- ComputeBazaar -- */

static sim_prep prep_bz_list(sim_world *w, sim_task *t, gl_err *err)
{
    sim_listing *l = &w->listings.v[t->a];
    if (w->contract[CT_BAZAAR] == SIM_NONE)
        return later(w, t, 600, 1200);
    if (!gl_simw_room(w, 1, G_BZ_LIST))
        return PR_FULL;
    if (!funds(w, l->wallet, AS_ETH, 0, gl_simw_fee_cap(w, l->wallet, G_BZ_LIST), err))
        return later(w, t, 1200, 3600);
    uint8_t gpu[32] = {0};
    const char *name = gl_sim_bazaar_models[l->model];
    memcpy(gpu, name, strlen(name)); /* right-padded with zeros, as bytes32("...") */
    send_call(w, t, 0, l->wallet, w->contract[CT_BAZAAR], 0, FN_BZ_LIST,
              json_pack("[oio]", jhex(gpu, 32), (int)l->units, jamt(l->rate)), G_BZ_LIST, err);
    return PR_DONE;
}

/* Gas of a rental by wallet W of `amount`: with an approval first when
 * its allowance is short. */
static uint64_t bz_rent_gas(sim_world *w, uint32_t W, sim_amt amount)
{
    return G_BZ_RENT + (needs_approve(w, W, SP_USDT_BAZAAR, amount) ? G_APPROVE : 0);
}

/* The funder sends the proxy exactly the rental's cost in USDT and, for
 * the wallets it owns (sponsor, splitter), the gas the rental may cost
 * beyond what the wallet has; the rental follows 2-20 minutes after. */
static sim_prep prep_bz_fund(sim_world *w, sim_task *t, gl_err *err)
{
    sim_purchase *p = &w->purch.v[t->a];
    uint32_t F = p->funder, W = p->payer;
    if (w->contract[CT_USDT] == SIM_NONE)
        return later(w, t, 600, 1200);
    sim_amt gasfee = gl_simw_fee_cap(w, W, bz_rent_gas(w, W, p->amount));
    sim_amt eth = 0;
    if (p->typology == TY_PASS_THROUGH) {
        /* the pass-through wallet pays its own gas: have it before the
         * client's money arrives */
        if (!gl_simw_ensure(w, W, AS_ETH, gasfee, err))
            return later(w, t, 300, 900);
    } else {
        sim_amt have = gl_simw_avail(w, W, AS_ETH);
        eth = have >= gasfee ? 0 : gasfee - have;
    }
    uint64_t gas = G_TOKEN + (eth ? G_ETH : 0);
    if (!gl_simw_room(w, eth ? 2 : 1, gas))
        return PR_FULL;
    if (!funds(w, F, AS_USDT, p->amount, eth + gl_simw_fee_cap(w, F, gas), err))
        return later(w, t, 1200, 3600);
    t->v = p->amount;
    t->x = (uint64_t)eth;
    gl_simw_reserve(w, F, AS_USDT, p->amount);
    if (send_call(w, t, 0, F, w->contract[CT_USDT], 0, FN_TRANSFER, json_pack("[oo]", jaddr(w, W), jamt(p->amount)),
                  G_TOKEN, err))
        return PR_DONE;
    if (eth)
        gl_simw_send(w, t, 1, F, W, NULL, eth, NULL, G_ETH, 0xff, err);
    return PR_DONE;
}

static sim_prep prep_bz_rent(sim_world *w, sim_task *t, sim_purchase *p, gl_err *err)
{
    sim_listing *l = &w->listings.v[p->listing];
    if (!l->listed)
        return later(w, t, 600, 1800);
    uint32_t W = p->payer;
    bool checked = listing_checked(w, p->listing);
    uint32_t key = p->listing | SIM_HOLD_LISTING;
    if (checked) {
        /* as prep_gm_buy: a plain rental takes the units that are free; one
         * whose cost was already handed over (a proxy) waits for them */
        uint32_t free_now = held_free(w, key, l->units, w->blk_time, w->blk_time + (uint64_t)p->minutes * 60);
        if (free_now < p->gpus) {
            if (!free_now || p->typology != TY_NONE)
                return later(w, t, 900, 2700);
            p->gpus = free_now;
            p->amount = bz_cost(p->gpus, p->minutes, l->rate);
        }
    }
    bool appr = needs_approve(w, W, SP_USDT_BAZAAR, p->amount);
    uint64_t gas = G_BZ_RENT + (appr ? G_APPROVE : 0);
    if (!gl_simw_room(w, appr ? 2 : 1, gas))
        return PR_FULL;
    if (!funds(w, W, AS_USDT, p->amount, gl_simw_fee_cap(w, W, gas), err))
        return later(w, t, 1200, 3600);
    uint8_t step = 0;
    if (appr && send_approve(w, t, step++, W, AS_USDT, w->contract[CT_BAZAAR], p->amount, err))
        return PR_DONE;
    gl_simw_reserve(w, W, AS_USDT, p->amount);
    if (checked && add_hold(w, key, w->blk_time, w->blk_time + (uint64_t)p->minutes * 60, p->gpus, err))
        return PR_DONE;
    json_t *args = p->beneficiary_wallet != SIM_NONE
                       ? json_pack("[ooii]", jaddr(w, p->beneficiary_wallet), jhex(l->id, 32), (int)p->gpus,
                                   (int)p->minutes)
                       : json_pack("[oii]", jhex(l->id, 32), (int)p->gpus, (int)p->minutes);
    send_call(w, t, step, W, w->contract[CT_BAZAAR], 0, p->beneficiary_wallet != SIM_NONE ? FN_BZ_RENT_FOR : FN_BZ_RENT,
              args, G_BZ_RENT, err);
    return PR_DONE;
}

static sim_prep prep_buy(sim_world *w, sim_task *t, gl_err *err)
{
    sim_purchase *p = &w->purch.v[t->a];
    switch ((gl_sim_platform)p->platform) {
    case GL_SIM_GPUMARKET: return prep_gm_buy(w, t, p, err);
    case GL_SIM_LIVEPEER: return prep_lp_ticket(w, t, p, err);
    case GL_SIM_GOLEM: return p->kind == PK_DEPOSIT_PAY ? prep_golem_pay(w, t, p, err) : prep_golem_batch(w, t, err);
    case GL_SIM_SPHERON: return prep_sph_order(w, t, p, err);
    case GL_SIM_SWAN: return prep_swan_assign(w, t, p, err);
    case GL_SIM_FLUENCE: return prep_fl_deal(w, t, p, err);
    case GL_SIM_BAZAAR: return prep_bz_rent(w, t, p, err);
    case GL_SIM_NPLATFORMS: break;
    }
    return PR_DROP;
}

sim_prep gl_simf_prepare(sim_world *w, sim_task *t, gl_err *err)
{
    switch ((sim_tk)t->kind) {
    case TK_DEPLOY: return prep_deploy(w, t, err);
    case TK_SETUP_CALL: return prep_setup_call(w, t, err);
    case TK_XFER: return prep_xfer(w, t, err);
    case TK_MINT: return prep_mint(w, t, err);
    case TK_BRIDGE_RELEASE: return prep_bridge_release(w, t, err);
    case TK_SWEEP: return prep_sweep(w, t, err);
    case TK_CP_DEPLOY: return prep_cp_deploy(w, t, err);
    case TK_OFFER_REGISTER: return prep_offer_register(w, t, err);
    case TK_OFFER_UPDATE: return prep_offer_update(w, t, err);
    case TK_DAY: plan_day(w, t, err); return PR_DONE;
    case TK_BUY: return prep_buy(w, t, err);
    case TK_GM_EXTEND: return prep_gm_extend(w, t, err);
    case TK_GM_END: return prep_gm_end(w, t, err);
    case TK_GM_WITHDRAW: return prep_gm_withdraw(w, t, err);
    case TK_LP_FUND: return prep_lp_fund(w, t, err);
    case TK_GOLEM_DEPOSIT: return prep_golem_deposit(w, t, err);
    case TK_GOLEM_CLOSE: return prep_golem_close(w, t, err);
    case TK_SPH_MATCH: return prep_sph_match(w, t, err);
    case TK_SPH_CLOSE: return prep_sph_close(w, t, err);
    case TK_SWAN_RELEASE: return prep_swan_release(w, t, err);
    case TK_FL_DEPOSIT: return prep_fl_deposit(w, t, err);
    case TK_FL_PAY: return prep_fl_pay(w, t, err);
    case TK_HUB_CALL: return prep_hub_call(w, t, err);
    case TK_AIRDROP: return prep_airdrop(w, t, err);
    case TK_BZ_LIST: return prep_bz_list(w, t, err);
    case TK_BZ_FUND: return prep_bz_fund(w, t, err);
    case TK_N: break;
    }
    gl_err_set(err, GL_EINVAL, "unknown task kind %u", t->kind);
    return PR_DROP;
}

/* ------------------------------------------------------------------ */
/* Effects                                                              */

static void mark_paid(sim_world *w, sim_purchase *p, const sim_tx *tx, const sim_log *l)
{
    p->paid = true;
    p->block = w->blk_number;
    p->time = w->blk_time;
    p->log_index = l->index;
    memcpy(p->tx, tx->hash, 32);
}

static void funding_arrived(sim_world *w, uint32_t to, sim_asset as, sim_amt v)
{
    sim_addr *a = A(w, to);
    a->incoming[as] = a->incoming[as] > v ? a->incoming[as] - v : 0;
}

static gl_code schedule_sweep(sim_world *w, uint32_t d, sim_asset as, gl_err *err)
{
    if (A(w, d)->role != RO_DEPOSIT_ADDRESS || (A(w, d)->sweep_pending & (1u << as)))
        return GL_OK;
    A(w, d)->sweep_pending |= 1u << as;
    return push(w, TK_SWEEP, w->blk_time + rnd(w, 600, 5400), d, 0, as, 0, 0, 0, err);
}

/* The approval step of a task: the spender and amount are the task's. */
static void apply_approve(sim_world *w, uint32_t wal, sim_spender sp, sim_amt amount)
{
    A(w, wal)->allowance[sp] = approves_infinite(A(w, wal)) ? SIM_INF : amount;
}

static gl_code eff_gm_lease(sim_world *w, const sim_tx *tx, const sim_receipt *r, gl_err *err)
{
    uint32_t pi = tx->task.a;
    sim_purchase *p = &w->purch.v[pi];
    if (p->asset == AS_USDC && tx->fn == FN_APPROVE) {
        apply_approve(w, p->payer, SP_USDC_GPUMARKET, p->amount);
        return GL_OK;
    }
    uint32_t mk = w->contract[CT_GPUMARKET];
    const sim_log *l = find_log(w, r, mk, EV_LEASE_OPENED, 0);
    gl_code rc = need_log(l, "LeaseOpened", err);
    if (!rc)
        rc = check_amt(l, 5, p->amount, "LeaseOpened amount", err);
    if (!rc && l->ntopics != 4)
        rc = gl_err_set(err, GL_EVERIFY, "LeaseOpened without its indexed fields");
    if (rc)
        return rc;
    if (p->asset != AS_ETH) {
        rc = gl_simw_move(w, p->payer, mk, (sim_asset)p->asset, p->amount, err);
        if (rc)
            return rc;
        A(w, p->payer)->allowance[SP_USDC_GPUMARKET] = allowance_after(A(w, p->payer)->allowance[SP_USDC_GPUMARKET], p->amount);
    }
    mark_paid(w, p, tx, l);
    p->chain_id_of = topic_u64(l->topics[1]);
    sim_lease ls;
    memset(&ls, 0, sizeof ls);
    ls.id = p->chain_id_of;
    ls.offer = p->offer;
    ls.buyer = p->payer;
    ls.beneficiary = p->beneficiary_wallet != SIM_NONE ? p->beneficiary_wallet : p->payer;
    ls.provider_wallet = p->provider_wallet;
    ls.purchase = pi;
    ls.asset = p->asset;
    ls.gpus = p->gpus;
    ls.hours = p->hours;
    ls.start = w->blk_time;
    ls.price = w->offers.v[p->offer].price;
    ls.paid = p->amount;
    if (w->leases.n == w->leases.cap) {
        size_t ncap = w->leases.cap ? w->leases.cap * 2 : 1024;
        sim_lease *nv = realloc(w->leases.v, ncap * sizeof *nv);
        if (!nv)
            return gl_err_set(err, GL_ENOMEM, "out of memory for leases");
        w->leases.v = nv;
        w->leases.cap = ncap;
    }
    uint32_t li = (uint32_t)w->leases.n;
    w->leases.v[w->leases.n++] = ls;
    p->lease = li;
    uint64_t dur = (uint64_t)ls.hours * 3600;
    /* what follows: an extension, an early end by the buyer, or the end by
     * the provider once the hours have run out */
    if (gl_sim_rng_chance(&w->rng, w->sc->buyers.early_end_share)) {
        rc = push(w, TK_GM_END, ls.start + dur * rnd(w, 10, 90) / 100, li, ls.buyer, 0, 0, 0, 0, err);
    } else {
        if (gl_sim_rng_chance(&w->rng, w->sc->buyers.extend_share))
            rc = push(w, TK_GM_EXTEND, ls.start + dur * rnd(w, 30, 85) / 100, li, ls.buyer, 0, 0,
                      1 + gl_sim_rng_below(&w->rng, ls.hours), 0, err);
        if (!rc)
            rc = push(w, TK_GM_END, ls.start + dur + rnd(w, 600, 8 * 3600), li, ls.provider_wallet, 0, 0, 0, 0, err);
    }
    /* a reseller buys the capacity it just sold from its upstream */
    const sim_offer *of = &w->offers.v[p->offer];
    if (!rc && of->upstream != SIM_NONE) {
        uint32_t np = plan_purchase(w, GL_SIM_GPUMARKET, of->wallet, w->purch.v[pi].beneficiary, TY_NONE, of->upstream,
                                    err);
        if (np == SIM_NONE)
            return err->code ? err->code : GL_OK;
        sim_purchase *q = &w->purch.v[np];
        const sim_purchase *orig = &w->purch.v[pi];
        q->gpus = orig->gpus;
        q->hours = orig->hours;
        q->resale_of = pi;
        rc = buy_at(w, np, w->blk_time + rnd(w, 300, 1800), 1, err);
    }
    /* a reimbursed proxy is paid back by its client */
    p = &w->purch.v[pi];
    if (!rc && p->typology == TY_REIMBURSED) {
        uint32_t client = E(w, p->beneficiary)->main;
        sim_amt back = p->amount * rnd(w, 102, 110) / 100;
        rc = push(w, TK_XFER, w->blk_time + rnd(w, 2 * 3600, 30 * 3600), client, p->payer, p->asset, PU_REIMBURSE, 0,
                  back, err);
    }
    return rc;
}

static gl_code eff_gm_extend(sim_world *w, const sim_tx *tx, const sim_receipt *r, gl_err *err)
{
    sim_lease *l = &w->leases.v[tx->task.a];
    uint32_t P = tx->task.b;
    sim_amt amount = tx->task.v;
    if (tx->fn == FN_APPROVE) {
        apply_approve(w, P, SP_USDC_GPUMARKET, amount);
        return GL_OK;
    }
    uint32_t mk = w->contract[CT_GPUMARKET];
    const sim_log *lg = find_log(w, r, mk, EV_LEASE_EXTENDED, 0);
    gl_code rc = need_log(lg, "LeaseExtended", err);
    if (!rc)
        rc = check_amt(lg, 3, amount, "LeaseExtended amount", err);
    if (rc)
        return rc;
    if (l->asset != AS_ETH) {
        rc = gl_simw_move(w, P, mk, (sim_asset)l->asset, amount, err);
        if (rc)
            return rc;
        A(w, P)->allowance[SP_USDC_GPUMARKET] = allowance_after(A(w, P)->allowance[SP_USDC_GPUMARKET], amount);
    }
    l->hours += (uint32_t)tx->task.x;
    l->paid += amount;
    uint32_t orig = l->purchase;
    uint32_t pi = gl_simf_new_purchase(w, err);
    if (pi == SIM_NONE)
        return err->code;
    sim_purchase *p = &w->purch.v[pi];
    const sim_purchase *o = &w->purch.v[orig];
    *p = *o;
    p->kind = PK_EXTENSION;
    p->payer = P;
    p->hours = (uint32_t)tx->task.x;
    p->amount = amount;
    p->resale_of = SIM_NONE;
    mark_paid(w, p, tx, lg);
    p->chain_id_of = l->id;
    return GL_OK;
}

static gl_code eff_gm_end(sim_world *w, const sim_tx *tx, const sim_receipt *r, gl_err *err)
{
    sim_lease *l = &w->leases.v[tx->task.a];
    sim_amt pay = tx->task.v, refund = l->paid - pay;
    uint32_t mk = w->contract[CT_GPUMARKET];
    const sim_log *lg = find_log(w, r, mk, EV_LEASE_ENDED, 0);
    gl_code rc = need_log(lg, "LeaseEnded", err);
    if (!rc)
        rc = check_amt(lg, 1, pay, "LeaseEnded providerAmount", err);
    if (!rc)
        rc = check_amt(lg, 2, refund, "LeaseEnded refund", err);
    if (!rc && refund)
        rc = gl_simw_move(w, mk, l->buyer, (sim_asset)l->asset, refund, err);
    if (!rc)
        A(w, l->provider_wallet)->earn[l->asset == AS_ETH ? 0 : 1] += pay;
    return rc;
}

static gl_code eff_gm_withdraw(sim_world *w, const sim_tx *tx, const sim_receipt *r, gl_err *err)
{
    uint32_t W = tx->task.a;
    sim_asset as = (sim_asset)tx->task.c;
    sim_amt v = tx->task.v;
    const sim_log *lg = find_log(w, r, w->contract[CT_GPUMARKET], EV_GM_WITHDRAWAL, 0);
    gl_code rc = need_log(lg, "Withdrawal", err);
    if (!rc)
        rc = check_amt(lg, 0, v, "Withdrawal amount", err);
    if (!rc)
        rc = gl_simw_move(w, w->contract[CT_GPUMARKET], W, as, v, err);
    if (rc)
        return rc;
    A(w, W)->earn[as == AS_ETH ? 0 : 1] -= v;
    /* a sweeping provider sends its payout on to its collector, all of it
     * (no draw for the others: scenarios without sweepers keep their chain) */
    uint32_t coll = A(w, W)->role == RO_PROVIDER_WALLET ? w->provs.v[E(w, A(w, W)->entity)->ext].collector : SIM_NONE;
    if (coll != SIM_NONE)
        rc = push(w, TK_XFER, w->blk_time + rnd(w, 1800, 4 * 3600), W, coll, as, PU_COLLECT, 100, 0, err);
    else if (gl_sim_rng_chance(&w->rng, w->sc->providers.cashout_share))
        rc = push(w, TK_XFER, w->blk_time + rnd(w, 3600, 8 * 3600), W, SIM_NONE, as, PU_DEPOSIT, rnd(w, 50, 90), 0, err);
    return rc;
}

static gl_code eff_lp_ticket(sim_world *w, const sim_tx *tx, const sim_receipt *r, gl_err *err)
{
    sim_purchase *p = &w->purch.v[tx->task.a];
    uint32_t lp = w->contract[CT_LIVEPEER];
    const sim_log *l = find_log(w, r, lp, EV_WINNING_TICKET_TRANSFER, 0);
    gl_code rc = need_log(l, "WinningTicketTransfer", err);
    if (!rc)
        rc = check_amt(l, 0, p->amount, "WinningTicketTransfer amount", err);
    if (!rc)
        rc = gl_simw_move(w, lp, p->provider_wallet, AS_ETH, p->amount, err);
    if (rc)
        return rc;
    A(w, p->aux)->lp_deposit -= p->amount;
    mark_paid(w, p, tx, l);
    return GL_OK;
}

static gl_code eff_lp_fund(sim_world *w, const sim_tx *tx)
{
    sim_addr *s = A(w, tx->task.b);
    s->lp_deposit += tx->task.v;
    s->lp_reserve += tx->task.x;
    s->sweep_pending &= ~LP_FUND_PENDING;
    return GL_OK;
}

static gl_code eff_golem_batch(sim_world *w, const sim_tx *tx, const sim_receipt *r, gl_err *err)
{
    uint32_t p0 = tx->task.a, k = tx->task.b ? tx->task.b : 1;
    uint32_t R = w->purch.v[p0].payer;
    sim_amt total = 0;
    for (uint32_t i = 0; i < k; i++)
        total += w->purch.v[p0 + i].amount;
    if (tx->fn == FN_APPROVE) {
        apply_approve(w, R, SP_GLM_BATCH, total);
        return GL_OK;
    }
    uint32_t glm = w->contract[CT_GLM], bp = w->contract[CT_GOLEM_BATCH];
    unsigned seen = 0;
    for (uint32_t i = 0; i < k; i++) {
        sim_purchase *p = &w->purch.v[p0 + i];
        const sim_log *l = NULL;
        /* the i-th Transfer out of the batch payer */
        for (unsigned j = seen;; j++) {
            const sim_log *c = find_log(w, r, glm, EV_TRANSFER, j);
            if (!c)
                break;
            if (c->ntopics == 3 && !memcmp(c->topics[1] + 12, A(w, bp)->a, 20)) {
                l = c;
                seen = j + 1;
                break;
            }
        }
        gl_code rc = need_log(l, "GLM Transfer from the batch payer", err);
        if (!rc && memcmp(l->topics[2] + 12, A(w, p->provider_wallet)->a, 20))
            rc = gl_err_set(err, GL_EVERIFY, "batch payment %u went to another recipient", i);
        if (!rc)
            rc = check_amt(l, 0, p->amount, "GLM batch transfer", err);
        if (!rc)
            rc = gl_simw_move(w, R, p->provider_wallet, AS_GLM, p->amount, err);
        if (rc)
            return rc;
        mark_paid(w, p, tx, l);
    }
    A(w, R)->allowance[SP_GLM_BATCH] = allowance_after(A(w, R)->allowance[SP_GLM_BATCH], total);
    return GL_OK;
}

static gl_code eff_golem_deposit(sim_world *w, const sim_tx *tx, gl_err *err)
{
    sim_gdeposit *d = &w->gdeps.v[tx->task.a];
    sim_amt total = d->amount + d->fee;
    if (tx->fn == FN_APPROVE) {
        apply_approve(w, d->funder, SP_GLM_LOCK, total);
        return GL_OK;
    }
    gl_code rc = gl_simw_move(w, d->funder, w->contract[CT_GOLEM_LOCK], AS_GLM, total, err);
    if (rc)
        return rc;
    A(w, d->funder)->allowance[SP_GLM_LOCK] = allowance_after(A(w, d->funder)->allowance[SP_GLM_LOCK], total);
    d->created = true;
    return GL_OK;
}

static gl_code eff_golem_pay(sim_world *w, const sim_tx *tx, const sim_receipt *r, gl_err *err)
{
    sim_purchase *p = &w->purch.v[tx->task.a];
    sim_gdeposit *d = &w->gdeps.v[p->aux];
    const sim_log *l = find_log(w, r, w->contract[CT_GOLEM_LOCK], EV_DEPOSIT_TRANSFER, 0);
    gl_code rc = need_log(l, "DepositTransfer", err);
    if (!rc)
        rc = check_amt(l, 2, p->amount, "DepositTransfer amount", err);
    if (!rc)
        rc = gl_simw_move(w, w->contract[CT_GOLEM_LOCK], p->provider_wallet, AS_GLM, p->amount, err);
    if (rc)
        return rc;
    d->amount -= p->amount;
    mark_paid(w, p, tx, l);
    return GL_OK;
}

static gl_code eff_golem_close(sim_world *w, const sim_tx *tx, gl_err *err)
{
    sim_gdeposit *d = &w->gdeps.v[tx->task.a];
    uint32_t lk = w->contract[CT_GOLEM_LOCK];
    gl_code rc = GL_OK;
    if (d->fee)
        rc = gl_simw_move(w, lk, d->spender, AS_GLM, d->fee, err);
    if (!rc && d->amount)
        rc = gl_simw_move(w, lk, d->funder, AS_GLM, d->amount, err);
    d->amount = d->fee = 0;
    return rc;
}

static gl_code eff_sph_order(sim_world *w, const sim_tx *tx, const sim_receipt *r, gl_err *err)
{
    sim_purchase *p = &w->purch.v[tx->task.a];
    if (tx->fn == FN_APPROVE) {
        apply_approve(w, p->payer, SP_USDC_SPHERON, p->max_price);
        return GL_OK;
    }
    uint32_t orq = w->contract[CT_SPHERON_ORDER];
    const sim_log *l = find_log(w, r, orq, EV_ORDER_CREATED, 0);
    gl_code rc = need_log(l, "OrderCreated", err);
    if (!rc)
        rc = check_amt(l, 2, p->max_rate, "OrderCreated maxPrice", err);
    if (!rc)
        rc = gl_simw_move(w, p->payer, orq, AS_USDC, p->max_price, err);
    if (rc)
        return rc;
    A(w, p->payer)->allowance[SP_USDC_SPHERON] = allowance_after(A(w, p->payer)->allowance[SP_USDC_SPHERON], p->max_price);
    sim_order *o = &w->orders.v[p->aux];
    if (!word(l, 0))
        return gl_err_set(err, GL_EVERIFY, "OrderCreated without an order id");
    o->id = topic_u64(word(l, 0));
    return push(w, TK_SPH_MATCH, w->blk_time + rnd(w, 300, 5400), p->aux, 0, 0, 0, 0, 0, err);
}

static gl_code eff_sph_match(sim_world *w, const sim_tx *tx, const sim_receipt *r, gl_err *err)
{
    sim_order *o = &w->orders.v[tx->task.a];
    sim_purchase *p = &w->purch.v[o->purchase];
    uint32_t orq = w->contract[CT_SPHERON_ORDER], cl = w->contract[CT_SPHERON_LEASE];
    const sim_log *l = find_log(w, r, cl, EV_SPH_LEASE_CREATED, 0);
    gl_code rc = need_log(l, "LeaseCreated", err);
    if (!rc)
        rc = check_amt(l, 3, p->rate, "LeaseCreated acceptedPrice", err);
    if (!rc)
        rc = gl_simw_move(w, orq, cl, AS_USDC, p->amount, err);
    if (!rc && p->max_price > p->amount)
        rc = gl_simw_move(w, orq, p->payer, AS_USDC, p->max_price - p->amount, err);
    if (rc)
        return rc;
    o->matched = true;
    if (!word(l, 0))
        return gl_err_set(err, GL_EVERIFY, "LeaseCreated without a lease id");
    o->lease_id = topic_u64(word(l, 0));
    o->start_block = w->blk_number;
    mark_paid(w, p, tx, l);
    p->chain_id_of = o->lease_id;
    uint64_t dur = (uint64_t)p->hours * 3600;
    if (gl_sim_rng_chance(&w->rng, w->sc->buyers.early_end_share))
        return push(w, TK_SPH_CLOSE, w->blk_time + dur * rnd(w, 10, 90) / 100, tx->task.a, p->payer, 0, 0, 0, 0, err);
    if (gl_sim_rng_chance(&w->rng, 0.5))
        return push(w, TK_SPH_CLOSE, w->blk_time + dur + rnd(w, 600, 6 * 3600), tx->task.a, p->provider_wallet, 0, 0,
                    0, 0, err);
    return GL_OK;
}

static gl_code eff_sph_close(sim_world *w, const sim_tx *tx, gl_err *err)
{
    sim_order *o = &w->orders.v[tx->task.a];
    sim_purchase *p = &w->purch.v[o->purchase];
    uint32_t cl = w->contract[CT_SPHERON_LEASE];
    sim_amt pay = tx->task.v, refund = p->amount - pay;
    gl_code rc = GL_OK;
    if (pay)
        rc = gl_simw_move(w, cl, p->provider_wallet, AS_USDC, pay, err);
    if (!rc && refund)
        rc = gl_simw_move(w, cl, p->payer, AS_USDC, refund, err);
    return rc;
}

static gl_code eff_swan_assign(sim_world *w, const sim_tx *tx, const sim_receipt *r, gl_err *err)
{
    sim_purchase *p = &w->purch.v[tx->task.a];
    if (tx->fn == FN_APPROVE) {
        apply_approve(w, p->payer, SP_SWAN_TASKS, p->amount);
        return GL_OK;
    }
    uint32_t tm = w->contract[CT_SWAN_TASKS];
    const sim_log *l = find_log(w, r, tm, EV_TASK_CREATED, 0);
    gl_code rc = need_log(l, "TaskCreated", err);
    if (!rc)
        rc = check_amt(l, 2, p->amount, "TaskCreated reward", err);
    if (!rc)
        rc = gl_simw_move(w, p->payer, tm, AS_SWAN, p->amount, err);
    if (rc)
        return rc;
    A(w, p->payer)->allowance[SP_SWAN_TASKS] = allowance_after(A(w, p->payer)->allowance[SP_SWAN_TASKS], p->amount);
    mark_paid(w, p, tx, l);
    return push(w, TK_SWAN_RELEASE, w->blk_time + (uint64_t)p->hours * 3600 + rnd(w, 600, 3 * 3600), tx->task.a, 0, 0,
                0, 0, 0, err);
}

static gl_code eff_swan_release(sim_world *w, const sim_tx *tx, gl_err *err)
{
    sim_purchase *p = &w->purch.v[tx->task.a];
    uint32_t tm = w->contract[CT_SWAN_TASKS];
    sim_amt share = p->amount / p->gpus;
    gl_code rc = GL_OK;
    for (uint32_t i = 0; !rc && i < p->gpus; i++) {
        sim_amt v = i + 1 == p->gpus ? p->amount - share * (p->gpus - 1) : share;
        rc = gl_simw_move(w, tm, p->provider_wallet, AS_SWAN, v, err);
    }
    return rc;
}

static gl_code eff_fl_deal(sim_world *w, const sim_tx *tx, const sim_receipt *r, gl_err *err)
{
    sim_purchase *p = &w->purch.v[tx->task.a];
    sim_deal *d = &w->deals.v[p->aux];
    const sim_log *l = find_log(w, r, w->contract[CT_FLUENCE_FACTORY], EV_DEAL_CREATED, 0);
    gl_code rc = need_log(l, "DealCreated", err);
    if (rc)
        return rc;
    const uint8_t *wd = word(l, 0);
    if (!wd)
        return gl_err_set(err, GL_EVERIFY, "DealCreated without a deal address");
    uint32_t da = gl_simw_contract_addr(w, w->contract_entity[CT_FLUENCE_FACTORY], RO_FLUENCE_DEAL, wd + 12, err);
    if (da == SIM_NONE)
        return err->code;
    d = &w->deals.v[p->aux];
    d->addr = da;
    d->start = w->blk_time;
    A(w, da)->dealer = p->aux;
    return push(w, TK_FL_DEPOSIT, w->blk_time + rnd(w, 120, 1800), p->aux, 0, 0, 0, 0, 0, err);
}

static gl_code eff_fl_deposit(sim_world *w, const sim_tx *tx, const sim_receipt *r, gl_err *err)
{
    if (tx->fn == FN_APPROVE)
        return GL_OK; /* an exact approval, consumed by the deposit */
    sim_deal *d = &w->deals.v[tx->task.a];
    sim_purchase *p = &w->purch.v[d->purchase];
    const sim_log *l = find_log(w, r, d->addr, EV_DEPOSITED, 0);
    gl_code rc = need_log(l, "Deposited", err);
    if (!rc)
        rc = check_amt(l, 0, p->amount, "Deposited amount", err);
    if (!rc)
        rc = gl_simw_move(w, d->owner, d->addr, AS_USDC, p->amount, err);
    if (rc)
        return rc;
    d->deposited = true;
    mark_paid(w, p, tx, l);
    return push(w, TK_FL_PAY, w->blk_time + rnd(w, 6 * 3600, 30 * 3600), tx->task.a, 0, 0, 0, 0, 0, err);
}

static gl_code eff_fl_pay(sim_world *w, const sim_tx *tx, const sim_receipt *r, gl_err *err)
{
    sim_deal *d = &w->deals.v[tx->task.a];
    sim_amt v = tx->task.v;
    const sim_log *l = find_log(w, r, d->addr, EV_PROVIDER_PAID, 0);
    gl_code rc = need_log(l, "ProviderPaid", err);
    if (!rc)
        rc = check_amt(l, 0, v, "ProviderPaid amount", err);
    if (!rc)
        rc = gl_simw_move(w, d->addr, d->provider_wallet, AS_USDC, v, err);
    if (rc)
        return rc;
    d->total_paid += v;
    if (A(w, d->addr)->bal[AS_USDC])
        rc = push(w, TK_FL_PAY, w->blk_time + rnd(w, 18 * 3600, 30 * 3600), tx->task.a, 0, 0, 0, 0, 0, err);
    return rc;
}

static gl_code eff_xfer(sim_world *w, const sim_tx *tx, gl_err *err)
{
    const sim_task *t = &tx->task;
    sim_asset as = (sim_asset)t->c;
    gl_code rc = GL_OK;
    if (as != AS_ETH)
        rc = gl_simw_move(w, t->a, t->b, as, t->v, err);
    if (rc)
        return rc;
    switch ((sim_purpose)t->d) {
    case PU_FUNDING: funding_arrived(w, t->b, as, t->v); break;
    case PU_DEPOSIT: rc = schedule_sweep(w, t->b, as, err); break;
    case PU_REIMBURSE:
    case PU_NOISE:
    case PU_CLIENT_FUNDS:
    case PU_COLLECT:
    case PU_N: break;
    }
    return rc;
}

static gl_code eff_airdrop(sim_world *w, const sim_tx *tx, gl_err *err)
{
    const sim_task *t = &tx->task;
    if (tx->fn == FN_APPROVE) {
        sim_amt total = 0;
        for (uint32_t i = 0; i < t->b; i++)
            total += airdrop_amount(t->x, t->a + i);
        apply_approve(w, w->airdropper, SP_SWAN_HUB, total);
        return GL_OK;
    }
    gl_code rc = GL_OK;
    sim_amt total = 0;
    if (tx->fn == FN_TRANSFER) { /* without a hub: one transfer per step */
        uint32_t i = t->a + tx->step;
        return gl_simw_move(w, w->airdropper, w->airdrop_to.v[i], AS_SWAN, airdrop_amount(t->x, i), err);
    }
    for (uint32_t i = 0; !rc && i < t->b; i++) {
        sim_amt v = airdrop_amount(t->x, t->a + i);
        total += v;
        rc = gl_simw_move(w, w->airdropper, w->airdrop_to.v[t->a + i], AS_SWAN, v, err);
    }
    A(w, w->airdropper)->allowance[SP_SWAN_HUB] = allowance_after(A(w, w->airdropper)->allowance[SP_SWAN_HUB], total);
    return rc;
}

static gl_code eff_hub(sim_world *w, const sim_tx *tx, gl_err *err)
{
    const sim_task *t = &tx->task;
    sim_asset as = (sim_asset)t->c;
    uint32_t hub = w->hubs.v[t->d];
    sim_spender sp = as == AS_SWAN ? SP_SWAN_HUB : SP_USDC_HUB;
    if (tx->fn == FN_APPROVE) {
        apply_approve(w, t->a, sp, t->v);
        return GL_OK;
    }
    if (as == AS_ETH)
        return gl_simw_move(w, hub, t->b, AS_ETH, t->v, err); /* the value reached the hub first */
    A(w, t->a)->allowance[sp] = allowance_after(A(w, t->a)->allowance[sp], t->v);
    return gl_simw_move(w, t->a, t->b, as, t->v, err);
}

static gl_code eff_bz_list(sim_world *w, const sim_tx *tx, const sim_receipt *r, gl_err *err)
{
    sim_listing *l = &w->listings.v[tx->task.a];
    const sim_log *lg = find_log(w, r, w->contract[CT_BAZAAR], EV_CAPACITY_LISTED, 0);
    gl_code rc = need_log(lg, "CapacityListed", err);
    if (!rc && (lg->ntopics != 3 || memcmp(lg->topics[2] + 12, A(w, l->wallet)->a, 20)))
        rc = gl_err_set(err, GL_EVERIFY, "CapacityListed names another host");
    if (!rc)
        rc = check_amt(lg, 2, l->rate, "CapacityListed ratePerUnitHour", err);
    if (rc)
        return rc;
    memcpy(l->id, lg->topics[1], 32);
    l->listed = true;
    return GL_OK;
}

static gl_code eff_bz_fund(sim_world *w, const sim_tx *tx, gl_err *err)
{
    const sim_task *t = &tx->task;
    sim_purchase *p = &w->purch.v[t->a];
    if (tx->step == 0) {
        gl_code rc = gl_simw_move(w, p->funder, p->payer, AS_USDT, t->v, err);
        if (rc)
            return rc;
    } /* step 1, the gas, moved with the transaction's value */
    if (tx->step == (t->x ? 1 : 0))
        return buy_at(w, t->a, w->blk_time + lead(w), 1, err);
    return GL_OK;
}

static gl_code eff_bz_rent(sim_world *w, const sim_tx *tx, const sim_receipt *r, gl_err *err)
{
    uint32_t pi = tx->task.a;
    sim_purchase *p = &w->purch.v[pi];
    if (tx->fn == FN_APPROVE) {
        apply_approve(w, p->payer, SP_USDT_BAZAAR, p->amount);
        return GL_OK;
    }
    uint32_t renter = p->beneficiary_wallet != SIM_NONE ? p->beneficiary_wallet : p->payer;
    const sim_log *l = find_log(w, r, w->contract[CT_BAZAAR], EV_RENTED, 0);
    gl_code rc = need_log(l, "Rented", err);
    if (!rc && (l->ntopics != 4 || memcmp(l->topics[2] + 12, A(w, renter)->a, 20) ||
                memcmp(l->topics[3] + 12, A(w, p->provider_wallet)->a, 20)))
        rc = gl_err_set(err, GL_EVERIFY, "Rented names another renter or host");
    if (!rc)
        rc = check_amt(l, 4, p->amount, "Rented cost", err);
    if (!rc)
        rc = gl_simw_move(w, p->payer, p->provider_wallet, AS_USDT, p->amount, err);
    if (rc)
        return rc;
    A(w, p->payer)->allowance[SP_USDT_BAZAAR] = allowance_after(A(w, p->payer)->allowance[SP_USDT_BAZAAR], p->amount);
    mark_paid(w, p, tx, l);
    memcpy(p->rental_id, l->topics[1], 32);
    if (p->typology == TY_REIMBURSED) /* paid back exactly, within the hour */
        rc = push(w, TK_XFER, w->blk_time + rnd(w, 120, w->sc->bazaar.reimburse_max_minutes * 60),
                  E(w, p->beneficiary)->main, p->payer, AS_USDT, PU_REIMBURSE, 0, p->amount, err);
    /* a sweeping host sends the payout on to its collector 30 minutes to 4
     * hours later, to the cent (the micro-dollars of a rate stay behind;
     * no draw for other hosts: scenarios without sweepers keep their chain) */
    uint32_t coll = w->provs.v[p->provider].collector;
    sim_amt cents = p->amount / 10000 * 10000;
    if (!rc && coll != SIM_NONE && cents)
        rc = push(w, TK_XFER, w->blk_time + rnd(w, 1800, 4 * 3600), p->provider_wallet, coll, AS_USDT, PU_COLLECT, 0,
                  cents, err);
    return rc;
}

static gl_code eff_buy(sim_world *w, const sim_tx *tx, const sim_receipt *r, gl_err *err)
{
    sim_purchase *p = &w->purch.v[tx->task.a];
    switch ((gl_sim_platform)p->platform) {
    case GL_SIM_GPUMARKET: return eff_gm_lease(w, tx, r, err);
    case GL_SIM_LIVEPEER: return eff_lp_ticket(w, tx, r, err);
    case GL_SIM_GOLEM: return p->kind == PK_DEPOSIT_PAY ? eff_golem_pay(w, tx, r, err) : eff_golem_batch(w, tx, r, err);
    case GL_SIM_SPHERON: return eff_sph_order(w, tx, r, err);
    case GL_SIM_SWAN: return eff_swan_assign(w, tx, r, err);
    case GL_SIM_FLUENCE: return eff_fl_deal(w, tx, r, err);
    case GL_SIM_BAZAAR: return eff_bz_rent(w, tx, r, err);
    case GL_SIM_NPLATFORMS: break;
    }
    return GL_OK;
}

gl_code gl_simf_effect(sim_world *w, const sim_tx *tx, const sim_receipt *r, gl_err *err)
{
    const sim_task *t = &tx->task;
    switch ((sim_tk)t->kind) {
    case TK_DEPLOY: {
        bool hub = t->a >= CT_N;
        uint32_t idx = hub ? w->hubs.v[t->a - CT_N] : w->contract[t->a];
        if (!r->has_created || memcmp(r->created, A(w, idx)->a, 20))
            return gl_err_set(err, GL_EVERIFY, "contract %s was created at another address than predicted",
                              hub ? "SimHub" : gl_sims_contract_name((sim_contract)t->a));
        if (hub)
            w->hub_blocks.v[t->a - CT_N] = (uint32_t)w->blk_number;
        else
            w->contract_block[t->a] = w->blk_number;
        return GL_OK;
    }
    case TK_CP_DEPLOY: {
        uint32_t idx = w->provs.v[t->a].cp[t->b];
        if (!r->has_created || memcmp(r->created, A(w, idx)->a, 20))
            return gl_err_set(err, GL_EVERIFY, "CP account created at another address than predicted");
        A(w, idx)->uses = 1; /* deployed */
        return GL_OK;
    }
    case TK_SETUP_CALL: return GL_OK;
    case TK_OFFER_REGISTER: {
        const sim_log *l = find_log(w, r, w->contract[CT_GPUMARKET], EV_OFFER_REGISTERED, 0);
        gl_code rc = need_log(l, "OfferRegistered", err);
        if (!rc && l->ntopics < 2)
            rc = gl_err_set(err, GL_EVERIFY, "OfferRegistered without its id");
        if (!rc)
            w->offers.v[t->a].id = topic_u64(l->topics[1]);
        return rc;
    }
    case TK_OFFER_UPDATE: w->offers.v[t->a].price = t->v; return GL_OK;
    case TK_XFER: return eff_xfer(w, tx, err);
    case TK_MINT: {
        gl_code rc = gl_simw_credit(w, t->a, (sim_asset)t->c, t->v, err);
        funding_arrived(w, t->a, (sim_asset)t->c, t->v);
        return rc;
    }
    case TK_BRIDGE_RELEASE: {
        gl_code rc = gl_simw_move(w, w->contract[CT_BRIDGE], t->b, (sim_asset)t->c, t->v, err);
        if (!rc && t->d == PU_FUNDING)
            funding_arrived(w, t->b, (sim_asset)t->c, t->v);
        return rc;
    }
    case TK_SWEEP: {
        sim_asset as = (sim_asset)t->c;
        A(w, t->a)->sweep_pending &= ~(1u << as);
        if (as == AS_ETH)
            return GL_OK; /* the value moved with the transaction */
        return gl_simw_move(w, t->a, E(w, A(w, t->a)->entity)->main, as, t->v, err);
    }
    case TK_DAY: return GL_OK;
    case TK_BUY: return eff_buy(w, tx, r, err);
    case TK_GM_EXTEND: return eff_gm_extend(w, tx, r, err);
    case TK_GM_END: return eff_gm_end(w, tx, r, err);
    case TK_GM_WITHDRAW: return eff_gm_withdraw(w, tx, r, err);
    case TK_LP_FUND: return eff_lp_fund(w, tx);
    case TK_GOLEM_DEPOSIT: return eff_golem_deposit(w, tx, err);
    case TK_GOLEM_CLOSE: return eff_golem_close(w, tx, err);
    case TK_SPH_MATCH: return eff_sph_match(w, tx, r, err);
    case TK_SPH_CLOSE: return eff_sph_close(w, tx, err);
    case TK_SWAN_RELEASE: return eff_swan_release(w, tx, err);
    case TK_FL_DEPOSIT: return eff_fl_deposit(w, tx, r, err);
    case TK_FL_PAY: return eff_fl_pay(w, tx, r, err);
    case TK_HUB_CALL: return eff_hub(w, tx, err);
    case TK_AIRDROP: return eff_airdrop(w, tx, err);
    case TK_BZ_LIST: return eff_bz_list(w, tx, r, err);
    case TK_BZ_FUND: return eff_bz_fund(w, tx, err);
    case TK_N: break;
    }
    return gl_err_set(err, GL_EINVAL, "unknown task kind %u", t->kind);
}

const char *gl_simf_task_name(sim_tk k)
{
    switch (k) {
    case TK_DEPLOY: return "deploy";
    case TK_SETUP_CALL: return "setup call";
    case TK_XFER: return "transfer";
    case TK_MINT: return "mint";
    case TK_BRIDGE_RELEASE: return "bridge release";
    case TK_SWEEP: return "deposit sweep";
    case TK_CP_DEPLOY: return "Swan CP account deploy";
    case TK_OFFER_REGISTER: return "register offer";
    case TK_OFFER_UPDATE: return "update offer";
    case TK_DAY: return "day planner";
    case TK_BUY: return "purchase";
    case TK_GM_EXTEND: return "extend lease";
    case TK_GM_END: return "end lease";
    case TK_GM_WITHDRAW: return "withdraw earnings";
    case TK_LP_FUND: return "fund Livepeer deposit";
    case TK_GOLEM_DEPOSIT: return "create Golem deposit";
    case TK_GOLEM_CLOSE: return "close Golem deposit";
    case TK_SPH_MATCH: return "match Spheron order";
    case TK_SPH_CLOSE: return "close Spheron lease";
    case TK_SWAN_RELEASE: return "release Swan reward";
    case TK_FL_DEPOSIT: return "Fluence deposit";
    case TK_FL_PAY: return "Fluence provider payment";
    case TK_HUB_CALL: return "hub call";
    case TK_AIRDROP: return "airdrop";
    case TK_BZ_LIST: return "list bazaar capacity";
    case TK_BZ_FUND: return "fund a bazaar proxy";
    case TK_N: break;
    }
    return "unknown task";
}
