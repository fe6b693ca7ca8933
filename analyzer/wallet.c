/* wallet.c - the profile of one wallet from its appearances and the
 * stored analysis (wallet.h).
 *
 * One pass over the wallet's appearances (address | position | role, in
 * chain and block order): a transfer position is read once and becomes a
 * flow record (direction, counterparty, token, amount, time); an event
 * position is read once and becomes a purchase or a sale by its kind and
 * the wallet's roles in it.  Flows are then sorted by (direction,
 * counterparty group, token) and summed; groups are counterparty entities
 * when the analysis has them, else addresses.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "gpuledger/graph.h"
#include "gpuledger/graph_export.h"
#include "gpuledger/platform.h"
#include "gpuledger/results.h"
#include "gpuledger/wallet.h"

/* -------------------------------------------------------------- helpers */

static const uint8_t zero20[20];

static json_t *jaddr(const uint8_t a[20])
{
    char hex[43];
    return json_string(gl_addr_hex(a, hex));
}

static json_t *jdec(const gl_u256 *v)
{
    char dec[GL_U256_DEC_MAX];
    return json_string(gl_u256_to_dec(v, dec));
}

static json_t *jtoken(const uint8_t t[20])
{
    return memcmp(t, zero20, 20) ? jaddr(t) : json_string("native");
}

static json_t *jtime(uint64_t t)
{
    if (!t)
        return json_null();
    time_t tt = (time_t)t;
    struct tm tm;
    char buf[32];
    if (!gmtime_r(&tt, &tm) || !strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm))
        return json_null();
    return json_string(buf);
}

static json_t *jmhours(uint64_t mh)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%llu.%03llu", (unsigned long long)(mh / 1000), (unsigned long long)(mh % 1000));
    return json_string(buf);
}

/* Block time with a one-entry cache (appearances come in block order). */
typedef struct btime {
    uint64_t chain, block, time;
    bool valid;
} btime;

static gl_code block_time(gl_store *s, btime *c, uint64_t chain, uint64_t block, uint64_t *out, gl_err *err)
{
    if (!c->valid || c->chain != chain || c->block != block) {
        gl_store_block b;
        bool found = false;
        if (gl_store_get_block(s, chain, block, &b, &found, err))
            return GL_EDB;
        *c = (btime){chain, block, found ? b.timestamp : 0, true};
    }
    *out = c->time;
    return GL_OK;
}

/* The most confident label of an address (a sanctions label always wins). */
static gl_code best_label(gl_store *s, const uint8_t a[20], gl_store_label *out, bool *found, gl_err *err)
{
    *found = false;
    gl_store_iter *it = gl_store_iter_labels(s, a, err);
    if (!it)
        return GL_EDB;
    gl_code rc;
    for (;;) {
        gl_store_label l;
        bool end;
        if ((rc = gl_store_next_label(it, &l, &end, err)) || end)
            break;
        bool sanc = !strcmp(l.category, "sanctioned");
        if (!*found || (sanc && strcmp(out->category, "sanctioned")) ||
            (l.confidence > out->confidence && strcmp(out->category, "sanctioned"))) {
            *out = l;
            *found = true;
        }
    }
    gl_store_iter_free(it);
    return rc;
}

/* --------------------------------------------------------- definitions */

typedef struct defcache {
    char name[GL_STORE_NAME_MAX];
    gl_platform *def; /* NULL: none found */
} defcache;

typedef struct wctx {
    gl_store *s;
    gl_err *err;
    bool analysis;
    defcache *defs;
    size_t n_defs;
    btime bt;
} wctx;

static const gl_platform *def_for(wctx *w, const char *name)
{
    for (size_t i = 0; i < w->n_defs; i++)
        if (!strcmp(w->defs[i].name, name))
            return w->defs[i].def;
    defcache *t = realloc(w->defs, (w->n_defs + 1) * sizeof *t);
    if (!t)
        return NULL;
    w->defs = t;
    defcache *d = &w->defs[w->n_defs++];
    snprintf(d->name, sizeof d->name, "%s", name);
    d->def = NULL;
    gl_err e = {0};
    char *txt = NULL;
    if (gl_store_get_platform_def(w->s, name, &txt, &e) == GL_OK && txt) {
        json_error_t je;
        json_t *root = json_loads(txt, 0, &je);
        if (root && gl_platform_load_json(&d->def, root, name, &e) != GL_OK)
            d->def = NULL;
        json_decref(root);
        free(txt);
    }
    if (!d->def && gl_platform_resolve(&d->def, name, &e) != GL_OK)
        d->def = NULL;
    return d->def;
}

/* --------------------------------------------------------------- flows */

typedef struct flow {
    uint8_t dir;          /* 0 in, 1 out */
    bool by_entity;
    uint32_t entity;
    uint8_t cp[20];       /* counterparty address */
    uint8_t token[20];
    gl_u256 amount;
    uint64_t time;
} flow;

static int flow_cmp(const void *x, const void *y)
{
    const flow *a = x, *b = y;
    if (a->dir != b->dir)
        return a->dir < b->dir ? -1 : 1;
    if (a->by_entity != b->by_entity)
        return a->by_entity ? -1 : 1;
    if (a->by_entity && a->entity != b->entity)
        return a->entity < b->entity ? -1 : 1;
    int c;
    if (!a->by_entity && (c = memcmp(a->cp, b->cp, 20)))
        return c;
    if ((c = memcmp(a->token, b->token, 20)))
        return c;
    return memcmp(a->cp, b->cp, 20);
}

static bool same_group(const flow *a, const flow *b)
{
    return a->dir == b->dir && a->by_entity == b->by_entity &&
           (a->by_entity ? a->entity == b->entity : !memcmp(a->cp, b->cp, 20));
}

/* Per-token sums appended to `arr`: {token, amount, transfers}. */
typedef struct tsum {
    uint8_t token[20];
    gl_u256 amount;
    uint64_t n;
    bool overflow;
} tsum;

static void tsum_add(tsum *t, const gl_u256 *v)
{
    t->n++;
    if (!t->overflow && gl_u256_add(&t->amount, &t->amount, v, NULL)) {
        t->overflow = true;
        memset(&t->amount, 0xff, sizeof t->amount);
    }
}

static json_t *tsum_json(const tsum *t)
{
    json_t *o = json_pack("{s:o,s:o,s:I}", "token", jtoken(t->token), "amount", jdec(&t->amount), "transfers",
                          (json_int_t)t->n);
    if (o && t->overflow)
        json_object_set_new(o, "overflow", json_true());
    return o;
}

/* Sums keyed by token in a small array (few tokens per wallet). */
static tsum *tsum_find(tsum **arr, size_t *n, const uint8_t token[20])
{
    for (size_t i = 0; i < *n; i++)
        if (!memcmp((*arr)[i].token, token, 20))
            return &(*arr)[i];
    tsum *t = realloc(*arr, (*n + 1) * sizeof *t);
    if (!t)
        return NULL;
    *arr = t;
    memset(&t[*n], 0, sizeof *t);
    memcpy(t[*n].token, token, 20);
    return &t[(*n)++];
}

static json_t *tsums_json(const tsum *t, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < n; i++)
        json_array_append_new(a, tsum_json(&t[i]));
    return a;
}

typedef struct group_out {
    json_t *json;
    uint64_t transfers;
} group_out;

static int group_cmp(const void *x, const void *y)
{
    const group_out *a = x, *b = y;
    if (a->transfers != b->transfers)
        return a->transfers > b->transfers ? -1 : 1;
    return 0;
}

/* The counterparty groups of one direction, most transfers first. */
static gl_code flows_json(wctx *w, flow *fl, size_t n, uint8_t dir, size_t max, json_t *out_obj, gl_err *err)
{
    group_out *groups = NULL;
    size_t ng = 0;
    gl_code rc = GL_OK;
    tsum *tot = NULL;
    size_t ntot = 0;
    for (size_t i = 0; i < n && !rc;) {
        if (fl[i].dir != dir) {
            i++;
            continue;
        }
        size_t j = i;
        while (j < n && same_group(&fl[i], &fl[j]))
            j++;
        json_t *g = json_object(), *addrs = json_array(), *amts = json_array();
        group_out *ng2 = realloc(groups, (ng + 1) * sizeof *ng2);
        if (!g || !addrs || !amts || !ng2) {
            json_decref(g);
            json_decref(addrs);
            json_decref(amts);
            if (ng2)
                groups = ng2;
            rc = gl_err_set(err, GL_ENOMEM, "out of memory");
            break;
        }
        groups = ng2;
        uint64_t first = 0, last = 0;
        /* Sums per token: the run is sorted by token within the group. */
        for (size_t k = i; k < j;) {
            tsum t = {0};
            memcpy(t.token, fl[k].token, 20);
            size_t m = k;
            for (; m < j && !memcmp(fl[m].token, fl[k].token, 20); m++) {
                tsum_add(&t, &fl[m].amount);
                tsum *tt = tsum_find(&tot, &ntot, fl[m].token);
                if (!tt) {
                    rc = gl_err_set(err, GL_ENOMEM, "out of memory");
                    break;
                }
                tsum_add(tt, &fl[m].amount);
                if (fl[m].time && (!first || fl[m].time < first))
                    first = fl[m].time;
                if (fl[m].time > last)
                    last = fl[m].time;
                /* Distinct addresses of the group (sorted by token first, so check). */
                bool seen = false;
                for (size_t q = 0; q < json_array_size(addrs) && !seen; q++) {
                    char hex[43];
                    seen = !strcmp(json_string_value(json_array_get(addrs, q)), gl_addr_hex(fl[m].cp, hex));
                }
                if (!seen)
                    json_array_append_new(addrs, jaddr(fl[m].cp));
            }
            json_array_append_new(amts, tsum_json(&t));
            k = m;
        }
        const flow *f0 = &fl[i];
        json_object_set_new(g, "entity", f0->by_entity ? json_integer(f0->entity) : json_null());
        const char *kind = NULL, *label = NULL, *cat = NULL;
        json_t *erec = NULL;
        gl_store_label lab;
        bool has_lab = false;
        char lbuf[GL_STORE_TEXT_MAX], cbuf[GL_STORE_NAME_MAX];
        if (f0->by_entity && gl_results_get_entity(w->s, f0->entity, &erec, err) == GL_OK && erec) {
            kind = json_string_value(json_object_get(erec, "kind"));
            label = json_string_value(json_object_get(erec, "label"));
            cat = json_string_value(json_object_get(erec, "label_category"));
        }
        if (!label && best_label(w->s, f0->cp, &lab, &has_lab, err) == GL_OK && has_lab) {
            label = gl_utf8_clean(lab.label, lbuf, sizeof lbuf);
            cat = gl_utf8_clean(lab.category, cbuf, sizeof cbuf);
        }
        json_object_set_new(g, "kind", kind ? json_string(kind) : json_null());
        json_object_set_new(g, "label", label ? json_string(label) : json_null());
        json_object_set_new(g, "label_category", cat ? json_string(cat) : json_null());
        json_decref(erec);
        json_object_set_new(g, "addresses", addrs);
        json_object_set_new(g, "transfers", json_integer((json_int_t)(j - i)));
        json_object_set_new(g, "amounts", amts);
        json_object_set_new(g, "first_time", jtime(first));
        json_object_set_new(g, "last_time", jtime(last));
        groups[ng++] = (group_out){g, j - i};
        i = j;
    }
    if (!rc) {
        if (ng)
            qsort(groups, ng, sizeof *groups, group_cmp);
        json_t *arr = json_array();
        for (size_t i = 0; i < ng; i++) {
            if (i < max)
                json_array_append(arr, groups[i].json);
        }
        const char *name = dir ? "out" : "in";
        json_object_set_new(out_obj, name, arr);
        char key[32];
        snprintf(key, sizeof key, "%s_counterparties", name);
        json_object_set_new(out_obj, key, json_integer((json_int_t)ng));
        snprintf(key, sizeof key, "%s_totals", name);
        json_object_set_new(out_obj, key, tsums_json(tot, ntot));
    }
    for (size_t i = 0; i < ng; i++)
        json_decref(groups[i].json);
    free(groups);
    free(tot);
    return rc;
}

/* --------------------------------------------------------------- events */

typedef struct platagg {
    char name[GL_STORE_NAME_MAX];
    json_t *events;       /* name -> count */
    uint64_t n_buy, n_sell;
    tsum *buy, *sell;
    size_t n_buy_t, n_sell_t;
} platagg;

typedef struct modelagg {
    char model[GL_STORE_TEXT_MAX];
    uint64_t bought, sold; /* thousandths of GPU-hours */
} modelagg;

typedef struct evstate {
    platagg *plats;
    size_t n_plats;
    modelagg *models;
    size_t n_models;
    json_t *leases;       /* newest last while collecting */
    uint64_t n_leases;
} evstate;

static platagg *plat_of(evstate *st, const char *name)
{
    for (size_t i = 0; i < st->n_plats; i++)
        if (!strcmp(st->plats[i].name, name))
            return &st->plats[i];
    platagg *t = realloc(st->plats, (st->n_plats + 1) * sizeof *t);
    if (!t)
        return NULL;
    st->plats = t;
    platagg *p = &t[st->n_plats++];
    memset(p, 0, sizeof *p);
    snprintf(p->name, sizeof p->name, "%s", name);
    p->events = json_object();
    return p;
}

static modelagg *model_of(evstate *st, const char *m)
{
    for (size_t i = 0; i < st->n_models; i++)
        if (!strcmp(st->models[i].model, m))
            return &st->models[i];
    modelagg *t = realloc(st->models, (st->n_models + 1) * sizeof *t);
    if (!t)
        return NULL;
    st->models = t;
    modelagg *x = &t[st->n_models++];
    memset(x, 0, sizeof *x);
    gl_utf8_clean(m, x->model, sizeof x->model);
    return x;
}

static bool has_role(const gl_store_event *e, const uint8_t a[20], gl_store_role r)
{
    for (size_t i = 0; i < e->n_roles; i++)
        if (e->roles[i].role == r && !memcmp(e->roles[i].addr, a, 20))
            return true;
    return false;
}

static const uint8_t *role_addr(const gl_store_event *e, gl_store_role r)
{
    for (size_t i = 0; i < e->n_roles; i++)
        if (e->roles[i].role == r)
            return e->roles[i].addr;
    return NULL;
}

static gl_code take_event(wctx *w, evstate *st, const uint8_t addr[20], const gl_store_event *e, gl_err *err)
{
    platagg *p = plat_of(st, e->platform);
    if (!p || !p->events)
        return gl_err_set(err, GL_ENOMEM, "out of memory");
    json_t *cnt = json_object_get(p->events, e->name);
    json_object_set_new(p->events, e->name, json_integer(json_integer_value(cnt) + 1));
    const gl_platform *def = def_for(w, e->platform);
    const gl_event_map *map = def ? gl_platform_event_map(def, e->name) : NULL;
    bool money = map && e->has_amount &&
                 (map->kind == GL_EVENT_LEASE || map->kind == GL_EVENT_EXTENSION || map->kind == GL_EVENT_PAYMENT ||
                  map->kind == GL_EVENT_TRANSFER);
    bool buy = money && (has_role(e, addr, GL_STORE_ROLE_BUYER) || has_role(e, addr, GL_STORE_ROLE_PAYER) ||
                         has_role(e, addr, GL_STORE_ROLE_BENEFICIARY));
    bool sell = money && has_role(e, addr, GL_STORE_ROLE_PROVIDER);
    if (!buy && !sell)
        return GL_OK;
    uint8_t token[20] = {0};
    if (e->has_token)
        memcpy(token, e->token, 20);
    tsum *t = NULL;
    if (buy) {
        p->n_buy++;
        if (!(t = tsum_find(&p->buy, &p->n_buy_t, token)))
            return gl_err_set(err, GL_ENOMEM, "out of memory");
        tsum_add(t, &e->amount);
    }
    if (sell) {
        p->n_sell++;
        if (!(t = tsum_find(&p->sell, &p->n_sell_t, token)))
            return gl_err_set(err, GL_ENOMEM, "out of memory");
        tsum_add(t, &e->amount);
    }
    if (e->gpu_model[0] || e->gpu_mhours) {
        modelagg *m = model_of(st, e->gpu_model[0] ? e->gpu_model : "unknown");
        if (!m)
            return gl_err_set(err, GL_ENOMEM, "out of memory");
        if (buy)
            m->bought += e->gpu_mhours;
        if (sell)
            m->sold += e->gpu_mhours;
    }
    /* The lease record. */
    json_t *roles = json_array();
    for (size_t i = 0; i < e->n_roles; i++)
        if (!memcmp(e->roles[i].addr, addr, 20))
            json_array_append_new(roles, json_string(gl_store_role_name(e->roles[i].role)));
    const uint8_t *cp = buy && !sell ? role_addr(e, GL_STORE_ROLE_PROVIDER) : NULL;
    if (sell && !buy) {
        cp = role_addr(e, GL_STORE_ROLE_PAYER);
        if (!cp)
            cp = role_addr(e, GL_STORE_ROLE_BUYER);
    }
    uint64_t tm = 0;
    if (block_time(w->s, &w->bt, e->chain_id, e->block, &tm, err))
        return GL_EDB;
    char th[67];
    json_t *o = json_object();
    json_object_set_new(o, "side", json_string(buy && sell ? "both" : buy ? "purchase" : "sale"));
    json_object_set_new(o, "platform", json_string(e->platform));
    json_object_set_new(o, "event", json_string(e->name));
    json_object_set_new(o, "kind", json_string(gl_event_kind_name(map->kind)));
    json_object_set_new(o, "roles", roles);
    json_object_set_new(o, "counterparty", cp ? jaddr(cp) : json_null());
    json_object_set_new(o, "amount", jdec(&e->amount));
    json_object_set_new(o, "token", jtoken(token));
    char model[GL_STORE_TEXT_MAX];
    json_object_set_new(o, "gpu_model", e->gpu_model[0] ? json_string(gl_utf8_clean(e->gpu_model, model, sizeof model))
                                                        : json_null());
    json_object_set_new(o, "gpu_count", e->gpu_count ? json_integer(e->gpu_count) : json_null());
    json_object_set_new(o, "duration_s", e->duration_s ? json_integer((json_int_t)e->duration_s) : json_null());
    json_object_set_new(o, "gpu_hours", e->gpu_mhours ? jmhours(e->gpu_mhours) : json_null());
    json_object_set_new(o, "chain_id", json_integer((json_int_t)e->chain_id));
    json_object_set_new(o, "block", json_integer((json_int_t)e->block));
    json_object_set_new(o, "log_index", json_integer(e->log_index));
    json_object_set_new(o, "tx_hash", json_string(gl_hex_encode(e->tx_hash, 32, true, th)));
    json_object_set_new(o, "time", tm ? json_integer((json_int_t)tm) : json_null());
    json_object_set_new(o, "time_utc", jtime(tm));
    if (w->analysis) {
        uint8_t marks;
        bool found;
        if (gl_results_purchase_marks(w->s, e->chain_id, e->block, e->log_index, &marks, &found, err))
            return GL_EDB;
        json_t *mk = json_array();
        if (marks & GL_MARK_SELF_DEALING)
            json_array_append_new(mk, json_string("self_dealing"));
        if (marks & GL_MARK_CIRCULAR)
            json_array_append_new(mk, json_string("circular"));
        json_object_set_new(o, "marks", found ? mk : (json_decref(mk), json_null()));
    }
    st->n_leases++;
    json_array_append_new(st->leases, o);
    return GL_OK;
}

/* ------------------------------------------------------------- analysis */

static json_t *analysis_json(wctx *w, const uint8_t addr[20], size_t max_addrs, bool stale, gl_err *err,
                             gl_code *rc)
{
    uint32_t id;
    bool found;
    json_t *out = json_object(), *erec = NULL, *wrec = NULL;
    json_object_set_new(out, "stale", json_boolean(stale));
    if ((*rc = gl_results_entity_of(w->s, addr, &id, &found, err)) ||
        (found && (*rc = gl_results_get_entity(w->s, id, &erec, err))) ||
        (*rc = gl_results_get_wallet(w->s, addr, &wrec, err))) {
        json_decref(out);
        json_decref(erec);
        return NULL;
    }
    if (!found || !erec) {
        json_object_set_new(out, "entity", json_null());
        json_object_set_new(out, "links", json_array());
    } else {
        char hex[43];
        gl_addr_hex(addr, hex);
        json_t *e = json_object(), *addrs = json_object_get(erec, "addresses"), *lk = json_array();
        json_t *mine = json_array();
        json_object_set(e, "id", json_object_get(erec, "id"));
        json_object_set(e, "kind", json_object_get(erec, "kind"));
        json_object_set(e, "label", json_object_get(erec, "label") ? json_object_get(erec, "label") : json_null());
        json_object_set(e, "label_category",
                        json_object_get(erec, "label_category") ? json_object_get(erec, "label_category") : json_null());
        json_object_set(e, "size", json_object_get(erec, "size"));
        for (size_t i = 0; i < json_array_size(addrs) && i < max_addrs; i++)
            json_array_append(mine, json_array_get(addrs, i));
        json_object_set_new(e, "addresses", mine);
        json_object_set_new(e, "addresses_total", json_integer((json_int_t)json_array_size(addrs)));
        json_t *links = json_object_get(erec, "links");
        for (size_t i = 0; i < json_array_size(links); i++) {
            json_t *l = json_array_get(links, i);
            const char *a = json_string_value(json_object_get(l, "a")), *b = json_string_value(json_object_get(l, "b"));
            if ((a && !strcasecmp(a, hex)) || (b && !strcasecmp(b, hex)))
                json_array_append(lk, l);
        }
        json_object_set_new(e, "links_total", json_integer((json_int_t)json_array_size(links)));
        json_object_set_new(out, "entity", e);
        json_object_set_new(out, "links", lk);
    }
    json_object_set_new(out, "flag", wrec ? wrec : json_null());
    json_decref(erec);
    return out;
}

/* -------------------------------------------------------------- profile */

static bool pos_eq(const gl_store_pos *a, const gl_store_pos *b)
{
    return a->chain_id == b->chain_id && a->block == b->block && a->kind == b->kind && a->index == b->index &&
           a->sub == b->sub;
}

typedef struct seen {
    uint64_t chain, first_block, last_block, n;
} seen;

gl_code gl_wallet_profile(gl_store *s, const uint8_t addr[20], const gl_wallet_opts *opts, json_t **out, gl_err *err)
{
    *out = NULL;
    gl_wallet_opts o = opts ? *opts : (gl_wallet_opts){0};
    if (!o.max_counterparties)
        o.max_counterparties = 50;
    if (!o.max_leases)
        o.max_leases = 100;
    if (!o.max_entity_addresses)
        o.max_entity_addresses = 50;
    wctx w = {.s = s, .err = err};
    bool stale = false;
    if (gl_results_status(s, &w.analysis, &stale, NULL, err))
        return GL_EDB;
    evstate st = {.leases = json_array()};
    flow *fl = NULL;
    size_t nfl = 0, capfl = 0;
    seen *chains = NULL;
    size_t nch = 0;
    json_t *roles = json_object(), *root = json_object(), *labels = json_array();
    uint64_t n_app = 0, failed = 0, nft = 0, self = 0;
    gl_store_pos last_tpos, last_epos;
    bool have_t = false, have_e = false;
    memset(&last_tpos, 0, sizeof last_tpos);
    memset(&last_epos, 0, sizeof last_epos);
    gl_code rc = GL_OK;
    gl_store_event *ev = malloc(sizeof *ev);
    gl_store_iter *it = NULL;
    if (!st.leases || !roles || !root || !labels || !ev) {
        rc = gl_err_set(err, GL_ENOMEM, "out of memory");
        goto done;
    }
    /* Labels. */
    if (!(it = gl_store_iter_labels(s, addr, err))) {
        rc = GL_EDB;
        goto done;
    }
    for (;;) {
        gl_store_label l;
        bool end;
        if ((rc = gl_store_next_label(it, &l, &end, err)) || end)
            break;
        char lb[GL_STORE_TEXT_MAX], src[GL_STORE_TEXT_MAX], cat[GL_STORE_NAME_MAX];
        json_array_append_new(labels, json_pack("{s:s,s:s,s:s,s:f}", "label", gl_utf8_clean(l.label, lb, sizeof lb),
                                                "category", gl_utf8_clean(l.category, cat, sizeof cat), "source",
                                                gl_utf8_clean(l.source, src, sizeof src), "confidence",
                                                l.confidence / 1000.0));
    }
    gl_store_iter_free(it);
    if (rc)
        goto done;
    /* Appearances. */
    if (!(it = gl_store_iter_appearances(s, addr, err))) {
        rc = GL_EDB;
        goto done;
    }
    for (;;) {
        gl_store_appearance ap;
        bool end;
        if ((rc = gl_store_next_appearance(it, &ap, &end, err)) || end)
            break;
        n_app++;
        const char *rn = gl_store_role_name(ap.role);
        json_object_set_new(roles, rn, json_integer(json_integer_value(json_object_get(roles, rn)) + 1));
        if (!nch || chains[nch - 1].chain != ap.pos.chain_id) {
            seen *t = realloc(chains, (nch + 1) * sizeof *t);
            if (!t) {
                rc = gl_err_set(err, GL_ENOMEM, "out of memory");
                break;
            }
            chains = t;
            chains[nch++] = (seen){ap.pos.chain_id, ap.pos.block, ap.pos.block, 0};
        }
        chains[nch - 1].last_block = ap.pos.block;
        chains[nch - 1].n++;
        /* One transfer and one event per position (its roles are consecutive). */
        bool is_transfer = ap.role == GL_STORE_ROLE_SENDER || ap.role == GL_STORE_ROLE_RECIPIENT;
        bool is_event = !is_transfer && ap.pos.kind == GL_STORE_POS_LOG && ap.role != GL_STORE_ROLE_TOKEN &&
                        ap.role != GL_STORE_ROLE_CONTRACT;
        gl_store_pos *lastp = is_transfer ? &last_tpos : &last_epos;
        bool *havep = is_transfer ? &have_t : &have_e;
        if ((is_transfer || is_event) && *havep && pos_eq(lastp, &ap.pos))
            continue;
        if (is_transfer || is_event) {
            *lastp = ap.pos;
            *havep = true;
        }
        if (is_transfer) {
            gl_store_transfer t;
            bool found = false;
            if ((rc = gl_store_get_transfer(s, &ap.pos, &t, &found, err)))
                break;
            if (!found)
                continue;
            if (t.flags & GL_STORE_TX_FAILED) {
                failed++;
                continue;
            }
            if (t.asset == GL_STORE_ASSET_ERC721 || t.asset == GL_STORE_ASSET_ERC1155) {
                nft++;
                continue;
            }
            if (!memcmp(t.from, t.to, 20)) {
                self++;
                continue;
            }
            if (nfl == capfl) {
                capfl = capfl ? capfl * 2 : 256;
                flow *nf = realloc(fl, capfl * sizeof *nf);
                if (!nf) {
                    rc = gl_err_set(err, GL_ENOMEM, "out of memory");
                    break;
                }
                fl = nf;
            }
            flow *f = &fl[nfl];
            memset(f, 0, sizeof *f);
            f->dir = memcmp(t.from, addr, 20) ? 0 : 1;
            memcpy(f->cp, f->dir ? t.to : t.from, 20);
            memcpy(f->token, t.token, 20);
            f->amount = t.amount;
            if ((rc = block_time(s, &w.bt, ap.pos.chain_id, ap.pos.block, &f->time, err)))
                break;
            if (w.analysis) {
                bool found_e;
                if ((rc = gl_results_entity_of(s, f->cp, &f->entity, &found_e, err)))
                    break;
                f->by_entity = found_e;
            }
            nfl++;
        } else if (is_event) {
            bool found = false;
            if ((rc = gl_store_get_event(s, ap.pos.chain_id, ap.pos.block, ap.pos.index, ev, &found, err)))
                break;
            if (found && (rc = take_event(&w, &st, addr, ev, err)))
                break;
        }
    }
    gl_store_iter_free(it);
    if (rc)
        goto done;
    /* First and last seen. */
    json_t *jch = json_array();
    uint64_t first_t = 0, last_t = 0;
    json_t *first = json_null(), *last = json_null();
    for (size_t i = 0; i < nch && !rc; i++) {
        uint64_t t0 = 0, t1 = 0;
        if ((rc = block_time(s, &w.bt, chains[i].chain, chains[i].first_block, &t0, err)) ||
            (rc = block_time(s, &w.bt, chains[i].chain, chains[i].last_block, &t1, err)))
            break;
        json_array_append_new(jch, json_pack("{s:I,s:I,s:I,s:I,s:o,s:o}", "chain_id", (json_int_t)chains[i].chain,
                                             "appearances", (json_int_t)chains[i].n, "first_block",
                                             (json_int_t)chains[i].first_block, "last_block",
                                             (json_int_t)chains[i].last_block, "first_time", jtime(t0), "last_time",
                                             jtime(t1)));
        if (json_is_null(first) || (t0 && (!first_t || t0 < first_t))) {
            json_decref(first);
            first = json_pack("{s:I,s:I,s:o,s:o}", "chain_id", (json_int_t)chains[i].chain, "block",
                              (json_int_t)chains[i].first_block, "time", t0 ? json_integer((json_int_t)t0) : json_null(),
                              "time_utc", jtime(t0));
            first_t = t0;
        }
        if (json_is_null(last) || (t1 && t1 > last_t)) {
            json_decref(last);
            last = json_pack("{s:I,s:I,s:o,s:o}", "chain_id", (json_int_t)chains[i].chain, "block",
                             (json_int_t)chains[i].last_block, "time", t1 ? json_integer((json_int_t)t1) : json_null(),
                             "time_utc", jtime(t1));
            last_t = t1;
        }
    }
    json_object_set_new(root, "address", jaddr(addr));
    json_object_set_new(root, "labels", labels);
    labels = NULL;
    json_object_set_new(root, "appearances", json_integer((json_int_t)n_app));
    json_object_set_new(root, "first_seen", first);
    json_object_set_new(root, "last_seen", last);
    json_object_set_new(root, "chains", jch);
    json_object_set_new(root, "roles", roles);
    roles = NULL;
    if (rc)
        goto done;
    /* Flows. */
    if (nfl)
        qsort(fl, nfl, sizeof *fl, flow_cmp);
    json_t *flows = json_object();
    json_object_set_new(root, "flows", flows);
    if ((rc = flows_json(&w, fl, nfl, 0, o.max_counterparties, flows, err)) ||
        (rc = flows_json(&w, fl, nfl, 1, o.max_counterparties, flows, err)))
        goto done;
    json_object_set_new(flows, "failed_transfers", json_integer((json_int_t)failed));
    json_object_set_new(flows, "nft_transfers", json_integer((json_int_t)nft));
    json_object_set_new(flows, "self_transfers", json_integer((json_int_t)self));
    /* Platforms, leases, GPU-hours. */
    json_t *plats = json_array();
    for (size_t i = 0; i < st.n_plats; i++) {
        platagg *p = &st.plats[i];
        json_array_append_new(plats, json_pack("{s:s,s:O,s:{s:I,s:o},s:{s:I,s:o}}", "platform", p->name, "events",
                                               p->events, "purchases", "count", (json_int_t)p->n_buy, "amounts",
                                               tsums_json(p->buy, p->n_buy_t), "sales", "count",
                                               (json_int_t)p->n_sell, "amounts", tsums_json(p->sell, p->n_sell_t)));
    }
    json_object_set_new(root, "platforms", plats);
    json_t *leases = json_array();
    size_t nl = json_array_size(st.leases);
    for (size_t i = 0; i < nl && i < o.max_leases; i++)
        json_array_append(leases, json_array_get(st.leases, nl - 1 - i)); /* latest first */
    json_object_set_new(root, "leases", leases);
    json_object_set_new(root, "leases_total", json_integer((json_int_t)st.n_leases));
    json_t *gh = json_array();
    for (size_t i = 0; i < st.n_models; i++)
        json_array_append_new(gh, json_pack("{s:s,s:o,s:o}", "model", st.models[i].model, "bought",
                                            jmhours(st.models[i].bought), "sold", jmhours(st.models[i].sold)));
    json_object_set_new(root, "gpu_hours", gh);
    /* The analysis. */
    if (w.analysis) {
        json_t *an = analysis_json(&w, addr, o.max_entity_addresses, stale, err, &rc);
        if (rc)
            goto done;
        json_object_set_new(root, "analysis", an);
    } else {
        json_object_set_new(root, "analysis", json_null());
    }
done:
    free(ev);
    free(fl);
    free(chains);
    for (size_t i = 0; i < st.n_plats; i++) {
        json_decref(st.plats[i].events);
        free(st.plats[i].buy);
        free(st.plats[i].sell);
    }
    free(st.plats);
    free(st.models);
    json_decref(st.leases);
    for (size_t i = 0; i < w.n_defs; i++)
        gl_platform_free(w.defs[i].def);
    free(w.defs);
    json_decref(roles);
    json_decref(labels);
    if (rc) {
        json_decref(root);
        return rc;
    }
    *out = root;
    return GL_OK;
}
