/* market.c - per-purchase facts for the market commands (market.h): marks
 * and entities from the stored analysis, token symbols from the
 * definitions, GPU counts of extensions from their leases, model names
 * through the GPU table.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gpuledger/analysis.h"
#include "gpuledger/market.h"
#include "gpuledger/results.h"

void gl_market_free(gl_market *m)
{
    if (!m)
        return;
    for (size_t i = 0; m->market && i < m->g->n_platforms; i++)
        free(m->market[i]);
    free(m->market);
    free(m->has_def);
    free(m->tokens);
    free(m->buys);
    free(m->node_entity);
    free(m);
}

char *gl_market_day(uint64_t t, char out[11])
{
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    if (!strftime(out, 11, "%Y-%m-%d", &tm))
        out[0] = 0;
    return out;
}

char *gl_market_amount_text(const gl_u256 *a, int decimals, char *out)
{
    char d[GL_U256_DEC_MAX];
    gl_u256_to_dec(a, d);
    if (decimals <= 0) {
        strcpy(out, d);
        return out;
    }
    size_t n = strlen(d), k = (size_t)decimals;
    char *w = out;
    if (n <= k) {
        *w++ = '0';
        *w++ = '.';
        for (size_t i = n; i < k; i++)
            *w++ = '0';
        memcpy(w, d, n + 1);
    } else {
        memcpy(w, d, n - k);
        w += n - k;
        *w++ = '.';
        memcpy(w, d + n - k, k + 1);
    }
    return out;
}

long double gl_market_amount_value(const gl_u256 *a, int decimals)
{
    char t[GL_U256_DEC_MAX + 2];
    return strtold(gl_market_amount_text(a, decimals, t), NULL);
}

json_t *gl_market_evidence(const gl_market *m, const gl_purchase *p)
{
    gl_store_pos pos = gl_graph_pos(m->g, &p->pos);
    char tx[67] = "0x";
    static const char hx[] = "0123456789abcdef";
    for (int i = 0; i < 32; i++) {
        tx[2 + 2 * i] = hx[p->tx_hash[i] >> 4];
        tx[3 + 2 * i] = hx[p->tx_hash[i] & 15];
    }
    tx[66] = 0;
    return json_pack("{s:I,s:I,s:I,s:s}", "chain_id", (json_int_t)pos.chain_id, "block", (json_int_t)pos.block,
                     "log_index", (json_int_t)pos.index, "tx", tx);
}

/* The definition's token entry for addr (zero: "native"), case-insensitive. */
static void token_info(gl_market_token *t, const gl_platform *def, const uint8_t addr[20], bool native)
{
    if (native)
        strcpy(t->address, "native");
    else
        gl_addr_hex(addr, t->address);
    snprintf(t->symbol, sizeof t->symbol, "%s", native ? "native" : t->address);
    t->decimals = -1;
    if (!def || !json_is_object(def->tokens))
        return;
    const char *k;
    json_t *v;
    json_object_foreach(def->tokens, k, v) {
        if (strcasecmp(k, t->address))
            continue;
        const char *sym = json_string_value(json_object_get(v, "symbol"));
        json_t *dec = json_object_get(v, "decimals");
        if (sym)
            snprintf(t->symbol, sizeof t->symbol, "%s", sym);
        if (json_is_integer(dec) && json_integer_value(dec) >= 0 && json_integer_value(dec) <= 77)
            t->decimals = (int)json_integer_value(dec);
        return;
    }
}

typedef struct lease_key {
    uint16_t platform;
    uint8_t id[32];
    uint32_t count;
    int32_t model;
    size_t idx;
} lease_key;

static int lease_cmp(const void *a, const void *b)
{
    const lease_key *x = a, *y = b;
    if (x->platform != y->platform)
        return x->platform < y->platform ? -1 : 1;
    return memcmp(x->id, y->id, 32);
}

static gl_code entity_of(gl_market *m, gl_store *s, uint32_t node, uint32_t *out, gl_err *err)
{
    *out = GL_ENTITY_NONE;
    if (node == GL_NODE_NONE || !m->analysed)
        return GL_OK;
    if (m->node_entity[node] != GL_ENTITY_NONE - 1) {
        *out = m->node_entity[node];
        return GL_OK;
    }
    bool found;
    uint32_t e;
    if (gl_results_entity_of(s, m->g->nodes[node].addr, &e, &found, err))
        return GL_EDB;
    m->node_entity[node] = found ? e : GL_ENTITY_NONE;
    *out = m->node_entity[node];
    return GL_OK;
}

gl_code gl_market_load(gl_market **out, gl_store *s, const gl_graph *g, gl_graph_def_fn defs, void *ctx,
                       const gl_gpu_models *models, gl_err *err)
{
    *out = NULL;
    gl_market *m = calloc(1, sizeof *m);
    if (!m)
        return gl_err_set(err, GL_ENOMEM, "out of memory");
    m->g = g;
    m->models = models;
    m->buys = calloc(g->n_purchases + 1, sizeof *m->buys);
    m->market = calloc(g->n_platforms + 1, sizeof *m->market);
    m->has_def = calloc(g->n_platforms + 1, sizeof *m->has_def);
    m->tokens = calloc(g->n_platforms * g->n_tokens + 1, sizeof *m->tokens);
    m->node_entity = malloc(((size_t)g->n_nodes + 1) * sizeof *m->node_entity);
    lease_key *leases = malloc((g->n_purchases + 1) * sizeof *leases);
    gl_code rc = GL_OK;
    if (!m->buys || !m->market || !m->has_def || !m->tokens || !m->node_entity || !leases) {
        rc = gl_err_set(err, GL_ENOMEM, "out of memory");
        goto done;
    }
    for (uint32_t v = 0; v <= g->n_nodes; v++)
        m->node_entity[v] = GL_ENTITY_NONE - 1; /* not looked up yet */
    for (size_t p = 0; p < g->n_platforms; p++) {
        const gl_platform *def = defs ? defs(ctx, g->platforms[p]) : NULL;
        m->has_def[p] = def != NULL;
        if (!(m->market[p] = strdup(def && def->platform ? def->platform : g->platforms[p]))) {
            rc = gl_err_set(err, GL_ENOMEM, "out of memory");
            goto done;
        }
        for (size_t t = 0; t < g->n_tokens; t++)
            token_info(&m->tokens[p * g->n_tokens + t], def, g->tokens[t], t == 0);
    }
    if ((rc = gl_results_status(s, &m->analysed, &m->stale, NULL, err)))
        goto done;
    /* leases by (platform, id), for extensions without a count */
    size_t nl = 0;
    for (size_t i = 0; i < g->n_purchases; i++) {
        const gl_purchase *p = &g->purchases[i];
        if (p->kind == GL_EVENT_LEASE && p->has_lease_id && p->gpu_count) {
            leases[nl] = (lease_key){.platform = p->platform, .count = p->gpu_count, .model = p->gpu_model, .idx = i};
            memcpy(leases[nl++].id, p->lease_id, 32);
        }
    }
    qsort(leases, nl, sizeof *leases, lease_cmp);
    for (size_t i = 0; i < g->n_purchases && !rc; i++) {
        const gl_purchase *p = &g->purchases[i];
        gl_market_buy *b = &m->buys[i];
        b->gpu_count = p->gpu_count;
        b->mhours = p->gpu_mhours;
        if (p->kind != GL_EVENT_EXTENSION && p->duration_s && p->time && !b->hold_until)
            b->hold_until = p->time + p->duration_s;
        int32_t model = p->gpu_model;
        if (p->kind == GL_EVENT_EXTENSION && p->has_lease_id && (!p->gpu_count || model < 0)) {
            lease_key k = {.platform = p->platform};
            memcpy(k.id, p->lease_id, 32);
            const lease_key *l = bsearch(&k, leases, nl, sizeof *leases, lease_cmp);
            if (l) {
                b->from_lease = true;
                if (!b->gpu_count)
                    b->gpu_count = l->count;
                if (model < 0)
                    model = l->model;
                gl_market_buy *lb = &m->buys[l->idx];
                if (lb->hold_until && p->duration_s)
                    lb->hold_until += p->duration_s;
                if (!b->mhours && p->duration_s) {
                    unsigned __int128 mh = (unsigned __int128)b->gpu_count * p->duration_s * 1000u / 3600u;
                    b->mhours = mh > UINT64_MAX ? 0 : (uint64_t)mh;
                }
            }
        }
        if (model >= 0 && (size_t)model < g->n_models) {
            b->model_name = g->models[model];
            b->model = gl_gpu_models_lookup(models, b->model_name);
        }
        if (m->analysed) {
            gl_store_pos pos = gl_graph_pos(g, &p->pos);
            bool found;
            rc = gl_results_purchase_marks(s, pos.chain_id, pos.block, pos.index, &b->marks, &found, err);
            b->marked = found;
            if (!found)
                m->n_unmarked++;
            rc = rc ? rc : entity_of(m, s, p->actor, &b->buyer_entity, err);
            rc = rc ? rc : entity_of(m, s, p->provider, &b->provider_entity, err);
        } else {
            b->buyer_entity = b->provider_entity = GL_ENTITY_NONE;
            if (p->provider != GL_NODE_NONE && (p->provider == p->actor || p->provider == p->buyer))
                b->marks = GL_MARK_SELF_DEALING;
        }
    }
    for (uint32_t v = 0; v <= g->n_nodes; v++)
        if (m->node_entity[v] == GL_ENTITY_NONE - 1)
            m->node_entity[v] = GL_ENTITY_NONE;
done:
    free(leases);
    if (rc) {
        gl_market_free(m);
        return rc;
    }
    *out = m;
    return GL_OK;
}

struct gl_market_defs {
    gl_store *s;
    gl_platform **given;   /* gl_market_defs_add: used when the store has none of that name */
    size_t n_given;
    gl_platform **loaded;
    size_t n_loaded;
    char **missing;
    size_t n_missing;
};

gl_code gl_market_defs_add(gl_market_defs *d, gl_platform *p, gl_err *err)
{
    gl_platform **t = realloc(d->given, (d->n_given + 1) * sizeof *t);
    if (!t) {
        gl_platform_free(p);
        return gl_err_set(err, GL_ENOMEM, "out of memory");
    }
    d->given = t;
    d->given[d->n_given++] = p;
    return GL_OK;
}

const char *const *gl_market_defs_missing(const gl_market_defs *d, size_t *n)
{
    *n = d->n_missing;
    return (const char *const *)d->missing;
}

gl_market_defs *gl_market_defs_new(gl_store *s)
{
    gl_market_defs *d = calloc(1, sizeof *d);
    if (d)
        d->s = s;
    return d;
}

void gl_market_defs_free(gl_market_defs *d)
{
    if (!d)
        return;
    for (size_t i = 0; i < d->n_loaded; i++)
        gl_platform_free(d->loaded[i]);
    for (size_t i = 0; i < d->n_given; i++)
        gl_platform_free(d->given[i]);
    for (size_t i = 0; i < d->n_missing; i++)
        free(d->missing[i]);
    free(d->loaded);
    free(d->given);
    free(d->missing);
    free(d);
}

const gl_platform *gl_market_def(void *ctx, const char *name)
{
    gl_market_defs *d = ctx;
    for (size_t i = 0; i < d->n_loaded; i++)
        if (!strcmp(d->loaded[i]->name, name))
            return d->loaded[i];
    for (size_t i = 0; i < d->n_missing; i++)
        if (!strcmp(d->missing[i], name))
            return NULL;
    gl_platform *p = NULL;
    gl_err err = {0};
    char *txt = NULL;
    if (gl_store_get_platform_def(d->s, name, &txt, &err) == GL_OK && txt) {
        json_error_t je;
        json_t *root = json_loads(txt, 0, &je);
        char origin[96];
        snprintf(origin, sizeof origin, "store:%s", name);
        if (root && gl_platform_load_json(&p, root, origin, &err) != GL_OK)
            p = NULL;
        json_decref(root);
        free(txt);
    }
    for (size_t i = 0; !p && i < d->n_given; i++)
        if (!strcmp(d->given[i]->name, name))
            return d->given[i];
    if (!p && gl_platform_resolve(&p, name, &err) != GL_OK)
        p = NULL;
    if (p) {
        gl_platform **t = realloc(d->loaded, (d->n_loaded + 1) * sizeof *t);
        if (!t) {
            gl_platform_free(p);
            return NULL;
        }
        d->loaded = t;
        d->loaded[d->n_loaded++] = p;
        return p;
    }
    char **t = realloc(d->missing, (d->n_missing + 1) * sizeof *t);
    char *nm = strdup(name);
    if (t && nm) {
        d->missing = t;
        d->missing[d->n_missing++] = nm;
    } else {
        free(nm);
        if (t)
            d->missing = t;
    }
    return NULL;
}
