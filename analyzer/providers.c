/* providers.c - each provider entity's claims against the chain (market.h):
 *   capacity   GPUs listed (offer events with a GPU count; an offer's count
 *              is the largest it was listed with, offers keyed by platform
 *              and id) against the most GPUs its leases held at once;
 *              more leased than listed is capacity sold twice (reselling)
 *              or hardware that is not there;
 *   price      its median price per GPU-hour for a model against the
 *              other providers' of that model in that token (the median of
 *              their medians: one vote per provider, so that a busy seller
 *              of relabelled cards does not set the model's price); a ratio
 *              under GL_PROVIDER_PRICE_LOW names the model whose market
 *              median is closest (an H100 priced like an A100: a relabelled
 *              card).  The price must also stand apart from the model's
 *              other sellers (see gap_above): where honest sellers of one
 *              model spread wider than 0.6 allows, the cheapest of them is
 *              the bottom of a continuous spread, not a price of its own,
 *              and a low price alone says nothing.  With fewer than
 *              GL_PROVIDER_MIN_PEERS other providers of the model there is
 *              no verdict;
 *   sweeps     provider_sweep links of its stored entity (payouts swept to
 *              one collector).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gpuledger/market.h"
#include "gpuledger/platform.h"
#include "gpuledger/results.h"

#define GL_PROVIDER_PRICE_LOW 0.6 /* median under 60% of the other providers' */
#define GL_PROVIDER_MIN_PEERS 2   /* one other seller is no market to compare with */
/* A relabelled card's price is set apart from the claimed model's sellers
 * by what sets one model apart from another: between it and its peers'
 * median, two consecutive sellers' prices at least 1 / GL_PROVIDER_PRICE_LOW
 * apart (see gap_above). */
#define GL_PROVIDER_GAP_MIN (1.0 / GL_PROVIDER_PRICE_LOW)

typedef struct prov {
    uint64_t key;          /* entity, or 1<<32 | node */
    uint64_t listed;
    size_t offers;
    uint64_t max_held, max_at;
    size_t leases;
} prov;

typedef struct offer {
    uint16_t platform;
    uint8_t id[32];
    uint64_t key;
    uint32_t count;
    /* the event that listed `count` (the largest), the evidence */
    uint64_t chain_id, block;
    uint32_t log_index;
    uint8_t tx_hash[32];
} offer;

typedef struct ctx_t {
    gl_store *s;
    const gl_market *m;
    prov *pv;
    size_t n, cap;
    offer *of;
    size_t nof, capof;
    json_t *sweeps;        /* entity id text -> [links] */
    gl_err *err;
} ctx_t;

static prov *prov_get(ctx_t *c, uint64_t key)
{
    for (size_t i = 0; i < c->n; i++) /* providers are few (tens to thousands) */
        if (c->pv[i].key == key)
            return &c->pv[i];
    if (c->n == c->cap) {
        size_t nc = c->cap ? c->cap * 2 : 64;
        prov *t = realloc(c->pv, nc * sizeof *t);
        if (!t)
            return NULL;
        c->pv = t;
        c->cap = nc;
    }
    memset(&c->pv[c->n], 0, sizeof *c->pv);
    c->pv[c->n].key = key;
    return &c->pv[c->n++];
}

static gl_code key_of_addr(ctx_t *c, const uint8_t addr[20], uint64_t *key)
{
    uint32_t node = gl_graph_find(c->m->g, addr);
    if (c->m->analysed) {
        bool found;
        uint32_t e;
        if (gl_results_entity_of(c->s, addr, &e, &found, c->err))
            return GL_EDB;
        if (found) {
            *key = e;
            return GL_OK;
        }
    }
    *key = (1ull << 32) | node;
    return GL_OK;
}

static gl_code load_offers(ctx_t *c, gl_graph_def_fn defs, void *dctx)
{
    const gl_graph *g = c->m->g;
    gl_store_event *e = malloc(sizeof *e);
    if (!e)
        return gl_err_set(c->err, GL_ENOMEM, "out of memory");
    gl_code rc = GL_OK;
    for (size_t ci = 0; ci < g->n_chains && !rc; ci++) {
        gl_store_iter *it = gl_store_iter_events(c->s, g->chain_ids[ci], 0, UINT64_MAX - 1, c->err);
        if (!it) {
            rc = GL_EDB;
            break;
        }
        for (;;) {
            bool end;
            if ((rc = gl_store_next_event(it, e, &end, c->err)) || end)
                break;
            if (!e->gpu_count)
                continue;
            const gl_platform *def = defs ? defs(dctx, e->platform) : NULL;
            const gl_event_map *map = def ? gl_platform_event_map(def, e->name) : NULL;
            if (!map || map->kind != GL_EVENT_OFFER)
                continue;
            const uint8_t *prov_addr = NULL;
            for (size_t i = 0; i < e->n_roles; i++)
                if (e->roles[i].role == GL_STORE_ROLE_PROVIDER)
                    prov_addr = e->roles[i].addr;
            if (!prov_addr)
                continue;
            uint16_t plat = UINT16_MAX;
            for (size_t i = 0; i < g->n_platforms; i++)
                if (!strcmp(g->platforms[i], e->platform))
                    plat = (uint16_t)i;
            offer o = {.platform = plat, .count = e->gpu_count, .chain_id = e->chain_id, .block = e->block,
                       .log_index = e->log_index};
            memcpy(o.tx_hash, e->tx_hash, 32);
            if (e->n_ids)
                memcpy(o.id, e->ids[0].value, 32);
            else { /* no id: the position identifies it */
                memcpy(o.id, &e->block, 8);
                memcpy(o.id + 8, &e->log_index, 4);
            }
            if ((rc = key_of_addr(c, prov_addr, &o.key)))
                break;
            size_t k = 0;
            for (; k < c->nof; k++)
                if (c->of[k].platform == o.platform && !memcmp(c->of[k].id, o.id, 32))
                    break;
            if (k < c->nof) {
                if (o.count > c->of[k].count)
                    c->of[k] = o;
                continue;
            }
            if (c->nof == c->capof) {
                size_t nc = c->capof ? c->capof * 2 : 64;
                offer *t = realloc(c->of, nc * sizeof *t);
                if (!t) {
                    rc = gl_err_set(c->err, GL_ENOMEM, "out of memory");
                    break;
                }
                c->of = t;
                c->capof = nc;
            }
            c->of[c->nof++] = o;
        }
        gl_store_iter_free(it);
    }
    free(e);
    return rc;
}

static int collect_sweeps(void *vc, json_t *rec)
{
    ctx_t *c = vc;
    json_t *links = json_object_get(rec, "links"), *out = NULL;
    for (size_t i = 0; i < json_array_size(links); i++) {
        json_t *l = json_array_get(links, i);
        const char *rule = json_string_value(json_object_get(l, "rule"));
        if (!rule || strcmp(rule, "provider_sweep"))
            continue;
        if (!out)
            out = json_array();
        json_array_append_new(out, json_pack("{s:O,s:O,s:O}", "a", json_object_get(l, "a"), "b",
                                             json_object_get(l, "b"), "evidence_count",
                                             json_object_get(l, "evidence_count")));
    }
    if (out) {
        char k[24];
        snprintf(k, sizeof k, "%lld", (long long)json_integer_value(json_object_get(rec, "id")));
        json_object_set_new(c->sweeps, k, out);
    }
    return 0;
}

typedef struct hold {
    uint64_t key, time;
    int64_t delta;
} hold;

static int hold_cmp(const void *a, const void *b)
{
    const hold *x = a, *y = b;
    if (x->key != y->key)
        return x->key < y->key ? -1 : 1;
    if (x->time != y->time)
        return x->time < y->time ? -1 : 1;
    return (x->delta > y->delta) - (x->delta < y->delta);
}

typedef struct pp {
    char model[128];
    char token[48];
    uint64_t key;      /* provider */
    double v;          /* price per GPU-hour */
    size_t purchase;   /* index into g->purchases */
    /* in pm (one median per provider, token, model) only: */
    size_t first, n;   /* its prices, ps2[first .. first + n), cheapest first */
    size_t lo, hi;     /* its (token, model)'s run of pm, its peers and itself */
} pp;

static int pp_cmp_model(const void *a, const void *b)
{
    const pp *x = a, *y = b;
    int c = strcmp(x->token, y->token);
    c = c ? c : strcmp(x->model, y->model);
    return c ? c : (x->v < y->v ? -1 : x->v > y->v);
}

/* by token, model, provider, price: each provider's prices of a model together */
static int pp_cmp_prov(const void *a, const void *b)
{
    const pp *x = a, *y = b;
    int c = strcmp(x->token, y->token);
    c = c ? c : strcmp(x->model, y->model);
    if (c)
        return c;
    if (x->key != y->key)
        return x->key < y->key ? -1 : 1;
    return x->v < y->v ? -1 : x->v > y->v;
}

static int dcmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, size_t n)
{
    qsort(v, n, sizeof *v, dcmp);
    return v[(n + 1) / 2 - 1]; /* nearest rank, as volume */
}

/* The upper median of the other providers' medians of (token, model)
 * (run: that model's entries of pm, one per provider), or 0 with fewer
 * than GL_PROVIDER_MIN_PEERS of them; *peers counts them.  tmp holds nrun. */
static double peer_ref(const pp *run, size_t nrun, uint64_t key, double *tmp, size_t *peers)
{
    size_t n = 0;
    for (size_t q = 0; q < nrun; q++)
        if (run[q].key != key)
            tmp[n++] = run[q].v;
    *peers = n;
    if (n < GL_PROVIDER_MIN_PEERS)
        return 0;
    qsort(tmp, n, sizeof *tmp, dcmp); /* the upper median: relabelled cards only pull it down */
    return tmp[n / 2];
}

/* The largest ratio between two consecutive sellers' prices of (token,
 * model) (pm: one median per provider, this one's `price` included) from
 * `price` up to `ref`, its peers' median: how far the price stands apart
 * from the model's dearer sellers.  Why: a fixed 0.6 assumes honest
 * sellers of one model stay within about 1.6x of each other (GpuMarket's
 * catalogue ranges); where they spread wider (the bazaar's 85 % of a
 * range's low to 125 % of its high: up to 2.9x) an honest host at the
 * bottom sits under 0.6 of its peers, yet the sellers between it and the
 * median fill the spread in small steps.  A relabelled card (or a group of
 * them, priced like the cheaper card they are) leaves a gap to the real
 * cards' sellers.  A token-wide spread floor (median less 3 robust SD of
 * the ratios) was used before and measured worse on twelve seeds
 * (docs/VOLUME.md).  1 when no two sellers lie in that range.  tmp: scratch
 * of npm. */
static double gap_above(const pp *run, size_t nrun, double price, double ref, double *tmp)
{
    size_t n = 0;
    for (size_t q = 0; q < nrun; q++)
        if (run[q].v >= price && run[q].v <= ref)
            tmp[n++] = run[q].v;
    qsort(tmp, n, sizeof *tmp, dcmp);
    double gap = 1;
    for (size_t i = 1; i < n; i++)
        if (tmp[i - 1] > 0 && tmp[i] / tmp[i - 1] > gap)
            gap = tmp[i] / tmp[i - 1];
    return gap;
}

/* A purchase's provider key: its entity, else 1<<32 | its wallet's node. */
static uint64_t provider_key(const gl_market *m, size_t i)
{
    uint32_t e = m->buys[i].provider_entity;
    return e != GL_ENTITY_NONE ? e : (1ull << 32) | m->g->purchases[i].provider;
}

/* The evidence of an oversold record: the offers that list its GPUs (the
 * event that listed each offer's largest count) and the leases it held at
 * `max_at` (started by then, not yet over: a lease ending at max_at was
 * counted out before those starting then, as the sweep counts them). */
static json_t *oversold_evidence(const ctx_t *c, const prov *pv)
{
    const gl_market *m = c->m;
    json_t *offers = json_array(), *held = json_array();
    char id[67], tx[67];
    for (size_t i = 0; i < c->nof; i++) {
        const offer *o = &c->of[i];
        if (o->key != pv->key)
            continue;
        json_array_append_new(offers, json_pack("{s:s,s:s,s:I,s:I,s:I,s:I,s:s}", "platform",
                                                o->platform < m->g->n_platforms ? m->market[o->platform] : "",
                                                "offer_id", gl_hex_encode(o->id, 32, true, id), "gpus",
                                                (json_int_t)o->count, "chain_id", (json_int_t)o->chain_id, "block",
                                                (json_int_t)o->block, "log_index", (json_int_t)o->log_index, "tx",
                                                gl_hex_encode(o->tx_hash, 32, true, tx)));
    }
    for (size_t i = 0; i < m->g->n_purchases; i++) {
        const gl_purchase *p = &m->g->purchases[i];
        const gl_market_buy *b = &m->buys[i];
        if (p->provider == GL_NODE_NONE || !b->hold_until || !b->gpu_count || provider_key(m, i) != pv->key ||
            p->time > pv->max_at || b->hold_until <= pv->max_at)
            continue;
        json_t *e = gl_market_evidence(m, p);
        json_object_set_new(e, "gpus", json_integer((json_int_t)b->gpu_count));
        json_object_set_new(e, "start", json_integer((json_int_t)p->time));
        json_object_set_new(e, "until", json_integer((json_int_t)b->hold_until));
        json_array_append_new(held, e);
    }
    return json_pack("{s:o,s:o}", "offers", offers, "held_at_max", held);
}

gl_code gl_providers_run(json_t **out, gl_store *s, const gl_market *m, gl_graph_def_fn defs, void *dctx,
                         const gl_prices *prices, gl_err *err)
{
    *out = NULL;
    const gl_graph *g = m->g;
    ctx_t c = {.s = s, .m = m, .sweeps = json_object(), .err = err};
    hold *h = malloc((2 * g->n_purchases + 1) * sizeof *h);
    pp *ps = malloc((g->n_purchases + 1) * sizeof *ps);
    double *tmp = malloc((g->n_purchases + 1) * sizeof *tmp);
    pp *ps2 = malloc((g->n_purchases + 1) * sizeof *ps2), *pm = malloc((g->n_purchases + 1) * sizeof *pm);
    json_t *res = json_array();
    gl_code rc = GL_OK;
    if (!h || !ps || !tmp || !ps2 || !pm || !c.sweeps || !res) {
        rc = gl_err_set(err, GL_ENOMEM, "out of memory");
        goto done;
    }
    if ((rc = load_offers(&c, defs, dctx)))
        goto done;
    size_t nh = 0, np = 0;
    for (size_t i = 0; i < g->n_purchases; i++) {
        const gl_purchase *p = &g->purchases[i];
        const gl_market_buy *b = &m->buys[i];
        if (p->provider == GL_NODE_NONE)
            continue;
        uint64_t key = provider_key(m, i);
        prov *pv = prov_get(&c, key);
        if (!pv) {
            rc = gl_err_set(err, GL_ENOMEM, "out of memory");
            goto done;
        }
        pv->leases++;
        if (b->hold_until && b->gpu_count) {
            h[nh++] = (hold){key, p->time, (int64_t)b->gpu_count};
            h[nh++] = (hold){key, b->hold_until, -(int64_t)b->gpu_count};
        }
        const gl_market_token *t = gl_market_token_of(m, p);
        if (b->mhours && (b->model || b->model_name)) {
            pp *q = &ps[np++];
            snprintf(q->model, sizeof q->model, "%s", b->model ? b->model->canonical : b->model_name);
            snprintf(q->token, sizeof q->token, "%s", t->symbol);
            q->key = key;
            q->purchase = i;
            q->v = (double)(gl_market_amount_value(&p->amount, t->decimals) * 1000.0L / (long double)b->mhours);
            /* priced that day: compared in USD with every token's sellers */
            char day[11];
            double usd;
            if (prices && t->decimals >= 0 &&
                gl_prices_get(prices, gl_market_day(p->time, day), t->symbol,
                              strcmp(t->address, "native") ? t->address : NULL, &usd)) {
                snprintf(q->token, sizeof q->token, "USD");
                q->v *= usd;
            }
        }
    }
    for (size_t i = 0; i < c.nof; i++) {
        prov *pv = prov_get(&c, c.of[i].key);
        if (!pv) {
            rc = gl_err_set(err, GL_ENOMEM, "out of memory");
            goto done;
        }
        pv->listed += c.of[i].count;
        pv->offers++;
    }
    /* the sweep links of the provider entities only: reading every entity
     * record of a large store (a million at 10M transfers) cost more than
     * everything else here */
    for (size_t x = 0; m->analysed && x < c.n; x++) {
        if (c.pv[x].key >> 32)
            continue;
        json_t *rec = NULL;
        if ((rc = gl_results_get_entity(s, (uint32_t)c.pv[x].key, &rec, err)))
            goto done;
        if (rec)
            collect_sweeps(&c, rec);
        json_decref(rec);
    }
    qsort(h, nh, sizeof *h, hold_cmp);
    for (size_t i = 0; i < nh;) {
        int64_t held = 0;
        size_t j = i;
        prov *pv = prov_get(&c, h[i].key);
        while (j < nh && h[j].key == h[i].key) {
            size_t k = j;
            while (k < nh && h[k].key == h[j].key && h[k].time == h[j].time)
                held += h[k++].delta;
            if (pv && held > 0 && (uint64_t)held > pv->max_held) {
                pv->max_held = (uint64_t)held;
                pv->max_at = h[j].time;
            }
            j = k;
        }
        i = j;
    }
    /* market medians per (token, model) */
    qsort(ps, np, sizeof *ps, pp_cmp_model);
    json_t *market = json_object(); /* "token\x1fmodel" -> median */
    for (size_t i = 0; i < np;) {
        size_t j = i;
        while (j < np && !strcmp(ps[j].token, ps[i].token) && !strcmp(ps[j].model, ps[i].model))
            j++;
        for (size_t k = i; k < j; k++)
            tmp[k - i] = ps[k].v;
        char key[200];
        snprintf(key, sizeof key, "%s\x1f%s", ps[i].token, ps[i].model);
        json_object_set_new(market, key, json_real(median(tmp, j - i)));
        i = j;
    }
    /* each provider's median per (token, model): pm[k] for the run of
     * ps2 sorted by token, model, provider */
    size_t npm = 0;
    memcpy(ps2, ps, np * sizeof *ps);
    qsort(ps2, np, sizeof *ps2, pp_cmp_prov);
    for (size_t i = 0; i < np;) {
        size_t j = i;
        while (j < np && ps2[j].key == ps2[i].key && !strcmp(ps2[j].token, ps2[i].token) &&
               !strcmp(ps2[j].model, ps2[i].model))
            j++;
        pm[npm] = ps2[i + (j - i + 1) / 2 - 1]; /* nearest-rank median: the run is sorted by price */
        pm[npm].first = i;
        pm[npm].n = j - i;
        npm++;
        i = j;
    }
    /* each entry's (token, model) run: pm is sorted by token, model, provider */
    for (size_t i = 0; i < npm;) {
        size_t j = i;
        while (j < npm && !strcmp(pm[j].token, pm[i].token) && !strcmp(pm[j].model, pm[i].model))
            j++;
        for (size_t q = i; q < j; q++) {
            pm[q].lo = i;
            pm[q].hi = j;
        }
        i = j;
    }
    for (size_t x = 0; x < c.n; x++) {
        prov *pv = &c.pv[x];
        bool wallet = pv->key >> 32;
        char a[43], k[24];
        json_t *models = json_array();
        bool relabel = false;
        /* this provider's prices per (token, model), in (token, model) order */
        for (size_t e = 0; e < npm; e++) {
            const pp *own = &pm[e];
            if (own->key != pv->key)
                continue;
            double med = own->v;
            char key[200];
            snprintf(key, sizeof key, "%s\x1f%s", own->token, own->model);
            double mk = json_real_value(json_object_get(market, key));
            /* the other providers of this model in this token, one vote each */
            size_t peers;
            double ref = peer_ref(pm + own->lo, own->hi - own->lo, pv->key, tmp, &peers);
            double ratio = ref > 0 ? med / ref : 0;
            double gap = ref > 0 ? gap_above(pm + own->lo, own->hi - own->lo, med, ref, tmp) : 0;
            const char *like = NULL;
            json_t *evidence = NULL;
            if (ref > 0 && ratio < GL_PROVIDER_PRICE_LOW && gap >= GL_PROVIDER_GAP_MIN) {
                /* the leases behind the verdict, cheapest first */
                evidence = json_array();
                for (size_t q = own->first; q < own->first + own->n; q++) {
                    json_t *ev = gl_market_evidence(m, &g->purchases[ps2[q].purchase]);
                    json_object_set_new(ev, "price_per_gpu_hour", json_real(ps2[q].v));
                    json_array_append_new(evidence, ev);
                }
                double best = INFINITY;
                const char *mkey;
                json_t *mv;
                size_t tl = strlen(own->token);
                json_object_foreach(market, mkey, mv) {
                    if (strncmp(mkey, own->token, tl) || mkey[tl] != '\x1f' || !strcmp(mkey + tl + 1, own->model))
                        continue;
                    double d = fabs(json_real_value(mv) - med);
                    if (d < best) {
                        best = d;
                        like = mkey + tl + 1;
                    }
                }
                relabel = true;
            }
            json_array_append_new(models, json_pack("{s:s,s:s,s:I,s:f,s:f,s:o,s:I,s:o,s:f,s:o,s:f,s:s?,s:o*}",
                                                    "model", own->model, "token", own->token, "leases",
                                                    (json_int_t)own->n, "median_price_per_gpu_hour", med,
                                                    "market_median", mk, "peer_median",
                                                    ref > 0 ? json_real(ref) : json_null(), "peers",
                                                    (json_int_t)peers, "ratio",
                                                    ref > 0 ? json_real(ratio) : json_null(), "ratio_low",
                                                    GL_PROVIDER_PRICE_LOW, "gap_above",
                                                    ref > 0 ? json_real(gap) : json_null(), "gap_min",
                                                    GL_PROVIDER_GAP_MIN, "priced_like", like, "evidence", evidence));
        }
        snprintf(k, sizeof k, "%llu", (unsigned long long)(uint32_t)pv->key);
        json_t *sw = wallet ? NULL : json_object_get(c.sweeps, k);
        bool oversold = pv->max_held > pv->listed && pv->offers;
        json_t *rec = json_pack("{s:o,s:o,s:I,s:I,s:I,s:I,s:I,s:b,s:b,s:o,s:o}", "entity",
                                wallet ? json_null() : json_integer((json_int_t)(uint32_t)pv->key), "wallet",
                                wallet ? json_string(gl_addr_hex(g->nodes[(uint32_t)pv->key].addr, a)) : json_null(),
                                "leases", (json_int_t)pv->leases, "offers", (json_int_t)pv->offers, "gpus_listed",
                                (json_int_t)pv->listed, "max_gpus_leased_at_once", (json_int_t)pv->max_held,
                                "max_at", (json_int_t)pv->max_at, "oversold", oversold,
                                "priced_below_model", relabel, "prices", models, "sweep_links",
                                sw ? json_incref(sw) : json_array());
        if (oversold)
            json_object_set_new(rec, "oversold_evidence", oversold_evidence(&c, pv));
        json_array_append_new(res, rec);
    }
    json_decref(market);
done:
    free(h);
    free(ps);
    free(tmp);
    free(ps2);
    free(pm);
    free(c.pv);
    free(c.of);
    json_decref(c.sweeps);
    if (rc) {
        json_decref(res);
        return rc;
    }
    *out = res;
    return GL_OK;
}
