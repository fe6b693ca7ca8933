/* trace.c - the fund-flow subgraph around a wallet and the fund-flow paths
 * between two wallets, on a gl_graph (trace.h).
 *
 * Sections: the context (which nodes are hubs, what the analysis says of a
 * node), filters, building a gl_flow from graph nodes and edges (transfers
 * resolved through the store), the breadth-first subgraph, and the path
 * search: a reverse breadth-first pass from the target gives every node's
 * hop distance to it (through no hub), then an iterative-deepening
 * depth-first search from the source lists simple paths of exactly L hops
 * for L = distance, distance + 1, ..., pruning any node that cannot reach
 * the target in the hops left.  Time-respecting search carries the earliest
 * arrival time of the money along the path: a hop may only use transfers at
 * or after it, and the earliest such transfer gives the next arrival
 * (earliest arrival is never worse for the hops after it).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gpuledger/results.h"
#include "gpuledger/trace.h"

/* ------------------------------------------------------------- context */

/* Kinds that make a hub (the entity kinds of services). */
static bool hub_kind(const char *k)
{
    static const char *const kinds[] = {"exchange", "bridge", "router", "mixer", "platform", "token", "service"};
    for (size_t i = 0; i < sizeof kinds / sizeof *kinds; i++)
        if (!strcmp(k, kinds[i]))
            return true;
    return false;
}

/* The kind a label category suggests ("" none), as the analyzer's. */
static const char *category_kind(const char *cat)
{
    if (!strcmp(cat, "exchange"))
        return "exchange";
    if (!strcmp(cat, "bridge"))
        return "bridge";
    if (!strcmp(cat, "router") || !strcmp(cat, "dex"))
        return "router";
    if (!strcmp(cat, "mixer"))
        return "mixer";
    if (!strcmp(cat, "platform"))
        return "platform";
    if (!strcmp(cat, "token"))
        return "token";
    if (!strcmp(cat, "contract") || !strcmp(cat, "service"))
        return "service";
    if (!strcmp(cat, "provider"))
        return "provider";
    return "";
}

typedef struct ent {
    uint32_t id;
    char kind[GL_FLOW_KIND_MAX];
    char label[GL_STORE_TEXT_MAX];
    char category[GL_STORE_NAME_MAX];
} ent;

struct gl_trace_ctx {
    const gl_graph *g;
    gl_store *s;
    uint32_t hub_degree;
    bool analysis, stale;
    uint8_t *hub;        /* per node: 0 not known yet, 1 hub, 2 not */
    int64_t *entity;     /* per node: -2 not looked up, -1 none, else entity id */
    ent *ents;           /* looked-up entities, sorted by id */
    size_t n_ents, cap_ents;
};

gl_trace_ctx *gl_trace_ctx_new(const gl_graph *g, gl_store *s, uint32_t hub_degree, gl_err *err)
{
    gl_trace_ctx *c = calloc(1, sizeof *c);
    if (!c) {
        gl_err_set(err, GL_ENOMEM, "out of memory");
        return NULL;
    }
    c->g = g;
    c->s = s;
    c->hub_degree = hub_degree ? hub_degree : GL_TRACE_HUB_DEGREE_DEFAULT;
    c->hub = calloc((size_t)g->n_nodes + 1, 1);
    c->entity = malloc(((size_t)g->n_nodes + 1) * sizeof *c->entity);
    if (!c->hub || !c->entity) {
        gl_trace_ctx_free(c);
        gl_err_set(err, GL_ENOMEM, "out of memory");
        return NULL;
    }
    for (uint32_t v = 0; v < g->n_nodes; v++)
        c->entity[v] = -2;
    if (s && gl_results_status(s, &c->analysis, &c->stale, NULL, err)) {
        gl_trace_ctx_free(c);
        return NULL;
    }
    return c;
}

void gl_trace_ctx_free(gl_trace_ctx *c)
{
    if (!c)
        return;
    free(c->hub);
    free(c->entity);
    free(c->ents);
    free(c);
}

bool gl_trace_ctx_has_analysis(const gl_trace_ctx *c, bool *stale)
{
    if (stale)
        *stale = c->stale;
    return c->analysis;
}

/* The entity record of id, read once (kind, label). */
static gl_code entity_info(gl_trace_ctx *c, uint32_t id, const ent **out, gl_err *err)
{
    size_t lo = 0, hi = c->n_ents;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (c->ents[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < c->n_ents && c->ents[lo].id == id) {
        *out = &c->ents[lo];
        return GL_OK;
    }
    json_t *rec = NULL;
    if (gl_results_get_entity(c->s, id, &rec, err))
        return GL_EDB;
    if (c->n_ents == c->cap_ents) {
        size_t nc = c->cap_ents ? c->cap_ents * 2 : 64;
        ent *t = realloc(c->ents, nc * sizeof *t);
        if (!t) {
            json_decref(rec);
            return gl_err_set(err, GL_ENOMEM, "out of memory");
        }
        c->ents = t;
        c->cap_ents = nc;
    }
    memmove(&c->ents[lo + 1], &c->ents[lo], (c->n_ents - lo) * sizeof *c->ents);
    c->n_ents++;
    ent *e = &c->ents[lo];
    memset(e, 0, sizeof *e);
    e->id = id;
    const char *k = json_string_value(json_object_get(rec, "kind"));
    const char *l = json_string_value(json_object_get(rec, "label"));
    const char *cat = json_string_value(json_object_get(rec, "label_category"));
    snprintf(e->kind, sizeof e->kind, "%s", k ? k : "unknown");
    gl_utf8_clean(l ? l : "", e->label, sizeof e->label);
    gl_utf8_clean(cat ? cat : "", e->category, sizeof e->category);
    json_decref(rec);
    *out = e;
    return GL_OK;
}

/* The analysis' entity of node v (-1 none), read once. */
static gl_code node_entity(gl_trace_ctx *c, uint32_t v, int64_t *out, gl_err *err)
{
    if (c->entity[v] == -2) {
        c->entity[v] = -1;
        if (c->analysis) {
            uint32_t id;
            bool found;
            if (gl_results_entity_of(c->s, c->g->nodes[v].addr, &id, &found, err))
                return GL_EDB;
            if (found)
                c->entity[v] = id;
        }
    }
    *out = c->entity[v];
    return GL_OK;
}

/* What labels and the graph say a node is, without an analysis. */
static const char *heuristic_kind(const gl_trace_ctx *c, uint32_t v)
{
    const gl_node *n = &c->g->nodes[v];
    if (n->label >= 0) {
        const char *k = category_kind(c->g->labels[n->label].category);
        if (k[0])
            return k;
    }
    if (n->flags & GL_NODE_PLATFORM)
        return "platform";
    if (n->flags & GL_NODE_TOKEN)
        return "token";
    if ((n->flags & GL_NODE_ZERO) || n->degree > c->hub_degree)
        return "service";
    return "";
}

/* Entity, kind and whether the kind is the analysis'. */
static gl_code node_kind(gl_trace_ctx *c, uint32_t v, int64_t *entity, const ent **e, const char **kind,
                         bool *from_analysis, gl_err *err)
{
    *e = NULL;
    if (node_entity(c, v, entity, err))
        return GL_EDB;
    if (*entity >= 0) {
        if (entity_info(c, (uint32_t)*entity, e, err))
            return err && err->code ? err->code : GL_EDB;
        *kind = (*e)->kind;
        *from_analysis = true;
        return GL_OK;
    }
    *kind = heuristic_kind(c, v);
    *from_analysis = false;
    return GL_OK;
}

gl_code gl_trace_is_hub(gl_trace_ctx *c, uint32_t v, bool *hub, gl_err *err)
{
    if (v >= c->g->n_nodes)
        return gl_err_set(err, GL_EINVAL, "node %u is not in the graph", v);
    if (!c->hub[v]) {
        int64_t entity;
        const ent *e;
        const char *kind;
        bool fa;
        if (node_kind(c, v, &entity, &e, &kind, &fa, err))
            return err && err->code ? err->code : GL_EDB;
        c->hub[v] = hub_kind(kind) ? 1 : 2;
    }
    *hub = c->hub[v] == 1;
    return GL_OK;
}

/* ------------------------------------------------------------- filters */

static bool passes(const gl_trace_filter *f, const gl_edge *e)
{
    bool windowed = f->since || (f->until && f->until != UINT64_MAX);
    if (windowed) {
        if (!e->time)
            return false;
        if (e->time < f->since)
            return false;
        if (f->until && e->time > f->until)
            return false;
    }
    return e->amount >= f->min_amount;
}

static json_t *filter_json(const gl_trace_filter *f, json_t *q)
{
    char dec[GL_U256_DEC_MAX];
    gl_u256 m = {{(uint64_t)f->min_amount, (uint64_t)(f->min_amount >> 64), 0, 0}};
    json_object_set_new(q, "since", f->since ? json_integer((json_int_t)f->since) : json_null());
    json_object_set_new(q, "until",
                        f->until && f->until != UINT64_MAX ? json_integer((json_int_t)f->until) : json_null());
    json_object_set_new(q, "min_amount", json_string(gl_u256_to_dec(&m, dec)));
    return q;
}

/* ------------------------------------------------------ building a flow */

typedef struct fnode {
    uint32_t v;          /* graph node */
    uint32_t hop;
    bool root, expanded;
} fnode;

typedef struct fbuild {
    gl_trace_ctx *c;
    gl_flow *f;
    uint32_t *slot;      /* graph node -> flow node index + 1 (0: absent) */
    uint16_t *tok;       /* graph token -> flow token index + 1 */
} fbuild;

static gl_code add_token(fbuild *B, uint16_t t, uint32_t *out, gl_err *err)
{
    if (B->tok[t]) {
        *out = B->tok[t] - 1u;
        return GL_OK;
    }
    gl_flow *f = B->f;
    gl_flow_token *nt = realloc(f->tokens, (f->n_tokens + 1) * sizeof *nt);
    if (!nt)
        return gl_err_set(err, GL_ENOMEM, "out of memory");
    f->tokens = nt;
    gl_flow_token *k = &f->tokens[f->n_tokens];
    memset(k, 0, sizeof *k);
    memcpy(k->addr, B->c->g->tokens[t], 20);
    if (t && B->c->s) {
        /* The token's most confident label. */
        gl_store_iter *it = gl_store_iter_labels(B->c->s, k->addr, err);
        if (!it)
            return GL_EDB;
        uint16_t best = 0;
        bool any = false;
        for (;;) {
            gl_store_label l;
            bool end;
            if (gl_store_next_label(it, &l, &end, err)) {
                gl_store_iter_free(it);
                return GL_EDB;
            }
            if (end)
                break;
            if (!any || l.confidence > best) {
                gl_utf8_clean(l.label, k->label, sizeof k->label);
                best = l.confidence;
                any = true;
            }
        }
        gl_store_iter_free(it);
    }
    B->tok[t] = (uint16_t)(++f->n_tokens);
    *out = (uint32_t)f->n_tokens - 1;
    return GL_OK;
}

static gl_code annotate(fbuild *B, gl_flow_node *n, uint32_t v, gl_err *err)
{
    gl_trace_ctx *c = B->c;
    const gl_node *gn = &c->g->nodes[v];
    memcpy(n->addr, gn->addr, 20);
    const ent *e;
    const char *kind;
    bool hub;
    if (node_kind(c, v, &n->entity, &e, &kind, &n->kind_from_analysis, err) || gl_trace_is_hub(c, v, &hub, err))
        return err && err->code ? err->code : GL_EDB;
    n->hub = hub;
    snprintf(n->kind, sizeof n->kind, "%s", kind);
    if (gn->label >= 0) {
        gl_utf8_clean(c->g->labels[gn->label].label, n->label, sizeof n->label);
        gl_utf8_clean(c->g->labels[gn->label].category, n->category, sizeof n->category);
    } else if (e && e->label[0]) {
        memcpy(n->label, e->label, sizeof n->label);
        memcpy(n->category, e->category, sizeof n->category);
    }
    if (c->analysis) {
        json_t *w = NULL;
        if (gl_results_get_wallet(c->s, gn->addr, &w, err))
            return GL_EDB;
        if (w) {
            n->scored = true;
            n->score = json_number_value(json_object_get(w, "score"));
            n->flagged = json_is_true(json_object_get(w, "flagged"));
            json_decref(w);
        }
    }
    return GL_OK;
}

typedef struct sort_ctx {
    const gl_graph *g;
    const uint32_t *slot;
} sort_ctx;

static int edge_pair_cmp(const void *x, const void *y, void *ctx)
{
    const sort_ctx *sc = ctx;
    const uint32_t *sort_slot = sc->slot;
    uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;
    const gl_edge *ea = &sc->g->edges[a], *eb = &sc->g->edges[b];
    uint32_t sa = sort_slot[ea->src], sb = sort_slot[eb->src];
    if (sa != sb)
        return sa < sb ? -1 : 1;
    sa = sort_slot[ea->dst];
    sb = sort_slot[eb->dst];
    if (sa != sb)
        return sa < sb ? -1 : 1;
    return a < b ? -1 : a > b;
}

static gl_code resolve_transfer(fbuild *B, const gl_edge *e, gl_flow_transfer *t, gl_err *err)
{
    gl_trace_ctx *c = B->c;
    memset(t, 0, sizeof *t);
    t->pos = gl_graph_pos(c->g, &e->pos);
    t->time = e->time;
    t->unverified = e->flags & GL_EDGE_UNVERIFIED;
    t->amount = (gl_u256){{(uint64_t)e->amount, (uint64_t)(e->amount >> 64), 0, 0}};
    if (add_token(B, e->token, &t->token, err))
        return err && err->code ? err->code : GL_ENOMEM;
    if (c->s) {
        gl_store_transfer st;
        bool found = false;
        if (gl_store_get_transfer(c->s, &t->pos, &st, &found, err))
            return GL_EDB;
        if (found) {
            t->has_tx_hash = true;
            memcpy(t->tx_hash, st.tx_hash, 32);
            t->amount = st.amount; /* exact, also past 2^128 */
        }
    }
    return GL_OK;
}

/* A flow from nodes (in order; no duplicates) and graph edges between them
 * (duplicates allowed): one flow edge per ordered pair, transfers by time. */
static gl_code build_flow(gl_trace_ctx *c, const fnode *nodes, size_t n_nodes, uint32_t *edges, size_t n_edges,
                          gl_flow **out, gl_err *err)
{
    const gl_graph *g = c->g;
    *out = NULL;
    fbuild B = {.c = c};
    B.f = calloc(1, sizeof *B.f);
    B.slot = calloc((size_t)g->n_nodes + 1, sizeof *B.slot);
    B.tok = calloc(g->n_tokens + 1, sizeof *B.tok);
    gl_code rc = GL_OK;
    if (!B.f || !B.slot || !B.tok || !(B.f->nodes = calloc(n_nodes + 1, sizeof *B.f->nodes))) {
        rc = gl_err_set(err, GL_ENOMEM, "out of memory building the flow");
        goto done;
    }
    B.f->analysis = c->analysis;
    uint32_t native;
    if ((rc = add_token(&B, 0, &native, err)))
        goto done;
    for (size_t i = 0; i < n_nodes && !rc; i++) {
        gl_flow_node *n = &B.f->nodes[i];
        n->hop = nodes[i].hop;
        n->root = nodes[i].root;
        n->expanded = nodes[i].expanded;
        B.slot[nodes[i].v] = (uint32_t)i + 1;
        rc = annotate(&B, n, nodes[i].v, err);
        B.f->n_nodes++;
    }
    if (rc)
        goto done;
    sort_ctx sc = {g, B.slot};
    if (n_edges)
        qsort_r(edges, n_edges, sizeof *edges, edge_pair_cmp, &sc);
    size_t u = 0;
    for (size_t i = 0; i < n_edges; i++)
        if (!u || edges[u - 1] != edges[i])
            edges[u++] = edges[i];
    n_edges = u;
    /* Count pairs, then fill. */
    size_t pairs = 0;
    for (size_t i = 0; i < n_edges; i++) {
        const gl_edge *e = &g->edges[edges[i]], *p = i ? &g->edges[edges[i - 1]] : NULL;
        if (!p || p->src != e->src || p->dst != e->dst)
            pairs++;
    }
    if (!(B.f->edges = calloc(pairs + 1, sizeof *B.f->edges))) {
        rc = gl_err_set(err, GL_ENOMEM, "out of memory building the flow");
        goto done;
    }
    for (size_t i = 0; i < n_edges && !rc;) {
        const gl_edge *e0 = &g->edges[edges[i]];
        size_t j = i;
        while (j < n_edges && g->edges[edges[j]].src == e0->src && g->edges[edges[j]].dst == e0->dst)
            j++;
        gl_flow_edge *fe = &B.f->edges[B.f->n_edges++];
        fe->src = B.slot[e0->src] - 1;
        fe->dst = B.slot[e0->dst] - 1;
        fe->transfers = calloc(j - i, sizeof *fe->transfers);
        fe->amounts = calloc(j - i, sizeof *fe->amounts);
        if (!fe->transfers || !fe->amounts) {
            rc = gl_err_set(err, GL_ENOMEM, "out of memory building the flow");
            break;
        }
        for (size_t k = i; k < j && !rc; k++) {
            const gl_edge *e = &g->edges[edges[k]];
            gl_flow_transfer *t = &fe->transfers[fe->n_transfers];
            if ((rc = resolve_transfer(&B, e, t, err)))
                break;
            fe->n_transfers++;
            if (e->time && (!fe->first_time || e->time < fe->first_time))
                fe->first_time = e->time;
            if (e->time > fe->last_time)
                fe->last_time = e->time;
            gl_flow_amount *a = NULL;
            for (size_t m = 0; m < fe->n_amounts; m++)
                if (fe->amounts[m].token == t->token)
                    a = &fe->amounts[m];
            if (!a) {
                /* Keep amounts in token order. */
                size_t m = fe->n_amounts;
                while (m > 0 && fe->amounts[m - 1].token > t->token) {
                    fe->amounts[m] = fe->amounts[m - 1];
                    m--;
                }
                a = &fe->amounts[m];
                memset(a, 0, sizeof *a);
                a->token = t->token;
                fe->n_amounts++;
            }
            a->n_transfers++;
            if (!a->overflow && gl_u256_add(&a->amount, &a->amount, &t->amount, NULL)) {
                a->overflow = true;
                memset(&a->amount, 0xff, sizeof a->amount);
            }
        }
        i = j;
    }
done:
    free(B.slot);
    free(B.tok);
    if (rc) {
        gl_flow_free(B.f);
        return rc;
    }
    *out = B.f;
    return GL_OK;
}

/* ------------------------------------------------------------ subgraph */

typedef struct u32vec {
    uint32_t *v;
    size_t n, cap;
} u32vec;

static gl_code vpush(u32vec *a, uint32_t x, gl_err *err)
{
    if (a->n == a->cap) {
        size_t nc = a->cap ? a->cap * 2 : 256;
        uint32_t *t = realloc(a->v, nc * sizeof *t);
        if (!t)
            return gl_err_set(err, GL_ENOMEM, "out of memory");
        a->v = t;
        a->cap = nc;
    }
    a->v[a->n++] = x;
    return GL_OK;
}

static const char *dir_name(unsigned d)
{
    return d == GL_TRACE_IN ? "in" : d == GL_TRACE_OUT ? "out" : "both";
}

gl_code gl_trace_subgraph(gl_trace_ctx *c, uint32_t root, const gl_trace_opts *o, gl_flow **out, gl_err *err)
{
    const gl_graph *g = c->g;
    *out = NULL;
    if (root >= g->n_nodes)
        return gl_err_set(err, GL_EINVAL, "the root is not in the graph");
    if (!o->direction || o->direction > GL_TRACE_BOTH)
        return gl_err_set(err, GL_EINVAL, "direction must be in, out or both");
    if (!o->hops || o->hops > GL_TRACE_MAX_HOPS)
        return gl_err_set(err, GL_EINVAL, "hops must be 1 to %d, not %u", GL_TRACE_MAX_HOPS, o->hops);
    size_t max_nodes = o->max_nodes ? o->max_nodes : GL_TRACE_MAX_NODES_DEFAULT;
    uint32_t *dist = malloc(((size_t)g->n_nodes + 1) * sizeof *dist);
    fnode *nodes = malloc((max_nodes + 1) * sizeof *nodes);
    u32vec edges = {0};
    gl_code rc = GL_OK;
    bool truncated = false;
    if (!dist || !nodes) {
        rc = gl_err_set(err, GL_ENOMEM, "out of memory tracing");
        goto done;
    }
    for (uint32_t v = 0; v < g->n_nodes; v++)
        dist[v] = UINT32_MAX;
    size_t n_nodes = 0;
    nodes[n_nodes++] = (fnode){.v = root, .hop = 0, .root = true};
    dist[root] = 0;
    for (size_t qi = 0; qi < n_nodes && !rc; qi++) {
        uint32_t u = nodes[qi].v;
        if (dist[u] >= o->hops)
            continue;
        bool hub = false;
        if (u != root && (rc = gl_trace_is_hub(c, u, &hub, err)))
            break;
        if (hub)
            continue;
        nodes[qi].expanded = true;
        for (int side = 0; side < 2 && !rc; side++) {
            unsigned want = side ? GL_TRACE_IN : GL_TRACE_OUT;
            if (!(o->direction & want))
                continue;
            const size_t *off = side ? g->in_off : g->out_off;
            const uint32_t *idx = side ? g->in_idx : g->out_idx;
            for (size_t k = off[u]; k < off[u + 1] && !rc; k++) {
                const gl_edge *e = &g->edges[idx[k]];
                if (!passes(&o->filter, e))
                    continue;
                uint32_t v = side ? e->src : e->dst;
                if (dist[v] == UINT32_MAX) {
                    if (n_nodes >= max_nodes) {
                        truncated = true;
                        continue;
                    }
                    dist[v] = dist[u] + 1;
                    nodes[n_nodes++] = (fnode){.v = v, .hop = dist[v]};
                }
                rc = vpush(&edges, idx[k], err);
            }
        }
    }
    if (!rc)
        rc = build_flow(c, nodes, n_nodes, edges.v, edges.n, out, err);
    if (!rc) {
        char hex[43];
        json_t *q = json_pack("{s:s,s:s,s:s,s:I,s:I,s:s,s:I}", "command", "trace", "root",
                              gl_addr_hex(g->nodes[root].addr, hex), "direction", dir_name(o->direction), "hops",
                              (json_int_t)o->hops, "max_nodes", (json_int_t)max_nodes, "hubs",
                              c->analysis ? "analysis entity kinds" : "labels, platform/token marks and degree",
                              "hub_degree", (json_int_t)c->hub_degree);
        (*out)->query = q ? filter_json(&o->filter, q) : NULL;
        (*out)->truncated = truncated;
    }
done:
    free(dist);
    free(nodes);
    free(edges.v);
    return rc;
}

/* --------------------------------------------------------------- paths */

typedef struct psearch {
    gl_trace_ctx *c;
    const gl_graph *g;
    const gl_path_opts *o;
    uint32_t a, b, L;
    uint32_t *rdist;
    uint8_t *on_path;
    uint32_t *stamp, gen;
    uint32_t stack[GL_TRACE_MAX_HOPS + 1];
    uint64_t when[GL_TRACE_MAX_HOPS + 1]; /* earliest arrival at stack[i] (0: no constraint) */
    uint64_t steps, max_steps;
    size_t max_paths;
    gl_paths *out;
    gl_err *err;
} psearch;

/* Does transfer e, leaving a node the money reached at `t`, qualify? */
static bool in_time(const psearch *P, const gl_edge *e, uint64_t t)
{
    return P->o->any_order || !e->time || !t || e->time >= t;
}

static uint64_t arrive(const psearch *P, const gl_edge *e, uint64_t t)
{
    if (P->o->any_order)
        return 0;
    return e->time && e->time > t ? e->time : t;
}

static gl_code record_path(psearch *P)
{
    const gl_graph *g = P->g;
    gl_paths *out = P->out;
    gl_path *np = realloc(out->paths, (out->n_paths + 1) * sizeof *np);
    if (!np)
        return gl_err_set(P->err, GL_ENOMEM, "out of memory");
    out->paths = np;
    gl_path *p = &out->paths[out->n_paths];
    p->n_hops = 0;
    if (!(p->hops = calloc(P->L, sizeof *p->hops)))
        return gl_err_set(P->err, GL_ENOMEM, "out of memory");
    out->n_paths++;
    for (uint32_t i = 0; i < P->L; i++) {
        gl_path_hop *h = &p->hops[p->n_hops++];
        h->src = P->stack[i];
        h->dst = P->stack[i + 1];
        h->arrival = P->when[i + 1];
        u32vec ev = {0};
        for (size_t k = g->out_off[h->src]; k < g->out_off[h->src + 1]; k++) {
            const gl_edge *e = &g->edges[g->out_idx[k]];
            if (e->dst == h->dst && passes(&P->o->filter, e) && in_time(P, e, P->when[i]) &&
                vpush(&ev, g->out_idx[k], P->err)) {
                free(ev.v);
                return GL_ENOMEM;
            }
        }
        h->edges = ev.v;
        h->n_edges = ev.n;
    }
    return GL_OK;
}

typedef struct succ {
    uint32_t v;
    uint64_t t;
} succ;

static gl_code dfs(psearch *P, uint32_t depth)
{
    const gl_graph *g = P->g;
    uint32_t u = P->stack[depth];
    if (P->out->n_paths >= P->max_paths || P->out->truncated)
        return GL_OK;
    if (++P->steps > P->max_steps) {
        P->out->truncated = true;
        return GL_OK;
    }
    if (depth == P->L)
        return u == P->b ? record_path(P) : GL_OK;
    if (u == P->b)
        return GL_OK;
    if (depth > 0) {
        bool hub;
        if (gl_trace_is_hub(P->c, u, &hub, P->err))
            return P->err && P->err->code ? P->err->code : GL_EDB;
        if (hub)
            return GL_OK;
    }
    uint32_t left = P->L - depth - 1;
    uint32_t gen = ++P->gen;
    size_t n = 0, cap = 0;
    succ *s = NULL;
    for (size_t k = g->out_off[u]; k < g->out_off[u + 1]; k++) {
        const gl_edge *e = &g->edges[g->out_idx[k]];
        uint32_t v = e->dst;
        if (v == u || P->on_path[v] || P->rdist[v] > left || P->stamp[v] == gen)
            continue;
        if (!passes(&P->o->filter, e) || !in_time(P, e, P->when[depth]))
            continue;
        P->stamp[v] = gen;
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            succ *t = realloc(s, cap * sizeof *t);
            if (!t) {
                free(s);
                return gl_err_set(P->err, GL_ENOMEM, "out of memory");
            }
            s = t;
        }
        s[n++] = (succ){v, arrive(P, e, P->when[depth])};
    }
    gl_code rc = GL_OK;
    for (size_t i = 0; i < n && !rc; i++) {
        P->on_path[s[i].v] = 1;
        P->stack[depth + 1] = s[i].v;
        P->when[depth + 1] = s[i].t;
        rc = dfs(P, depth + 1);
        P->on_path[s[i].v] = 0;
    }
    free(s);
    return rc;
}

/* Hops from every node to b over transfers that pass the filter, through no
 * hub (b itself is expanded whatever it is); UINT32_MAX beyond max. */
static gl_code reverse_bfs(psearch *P, gl_err *err)
{
    const gl_graph *g = P->g;
    uint32_t *q = malloc(((size_t)g->n_nodes + 1) * sizeof *q);
    if (!q)
        return gl_err_set(err, GL_ENOMEM, "out of memory");
    for (uint32_t v = 0; v < g->n_nodes; v++)
        P->rdist[v] = UINT32_MAX;
    size_t head = 0, tail = 0;
    P->rdist[P->b] = 0;
    q[tail++] = P->b;
    gl_code rc = GL_OK;
    while (head < tail && !rc) {
        uint32_t x = q[head++];
        if (P->rdist[x] >= P->o->max_hops || x == P->a)
            continue;
        bool hub = false;
        if (x != P->b && (rc = gl_trace_is_hub(P->c, x, &hub, err)))
            break;
        if (hub)
            continue;
        for (size_t k = g->in_off[x]; k < g->in_off[x + 1]; k++) {
            const gl_edge *e = &g->edges[g->in_idx[k]];
            if (P->rdist[e->src] != UINT32_MAX || !passes(&P->o->filter, e))
                continue;
            P->rdist[e->src] = P->rdist[x] + 1;
            q[tail++] = e->src;
        }
    }
    free(q);
    return rc;
}

gl_code gl_trace_paths(gl_trace_ctx *c, uint32_t a, uint32_t b, const gl_path_opts *o, gl_paths *out, gl_err *err)
{
    const gl_graph *g = c->g;
    memset(out, 0, sizeof *out);
    if (a >= g->n_nodes || b >= g->n_nodes)
        return gl_err_set(err, GL_EINVAL, "an end of the path is not in the graph");
    if (a == b)
        return gl_err_set(err, GL_EINVAL, "the two ends of a path must differ");
    if (!o->max_hops || o->max_hops > GL_TRACE_MAX_HOPS)
        return gl_err_set(err, GL_EINVAL, "max hops must be 1 to %d, not %u", GL_TRACE_MAX_HOPS, o->max_hops);
    psearch P = {.c = c, .g = g, .o = o, .a = a, .b = b, .out = out, .err = err};
    P.max_paths = o->max_paths ? o->max_paths : GL_TRACE_MAX_PATHS_DEFAULT;
    P.max_steps = o->max_steps ? o->max_steps : GL_TRACE_MAX_STEPS_DEFAULT;
    P.rdist = malloc(((size_t)g->n_nodes + 1) * sizeof *P.rdist);
    P.stamp = calloc((size_t)g->n_nodes + 1, sizeof *P.stamp);
    P.on_path = calloc((size_t)g->n_nodes + 1, 1);
    gl_code rc = GL_OK;
    if (!P.rdist || !P.stamp || !P.on_path)
        rc = gl_err_set(err, GL_ENOMEM, "out of memory searching paths");
    rc = rc ? rc : reverse_bfs(&P, err);
    if (!rc && P.rdist[a] != UINT32_MAX) {
        P.stack[0] = a;
        P.when[0] = 0;
        P.on_path[a] = 1;
        for (P.L = P.rdist[a]; P.L <= o->max_hops && !rc; P.L++) {
            if (out->n_paths >= P.max_paths || out->truncated)
                break;
            rc = dfs(&P, 0);
        }
    }
    free(P.rdist);
    free(P.stamp);
    free(P.on_path);
    if (rc)
        gl_paths_release(out);
    return rc;
}

void gl_paths_release(gl_paths *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->n_paths; i++) {
        for (size_t k = 0; k < p->paths[i].n_hops; k++)
            free(p->paths[i].hops[k].edges);
        free(p->paths[i].hops);
    }
    free(p->paths);
    memset(p, 0, sizeof *p);
}

/* Nodes of the paths in order of first appearance, hop = least place. */
static gl_code paths_nodes(const gl_path *const *ps, size_t n, uint32_t n_graph, fnode **out, size_t *n_out,
                           u32vec *edges, gl_err *err)
{
    uint32_t *slot = calloc((size_t)n_graph + 1, sizeof *slot);
    size_t cap = 0, k = 0;
    fnode *nodes = NULL;
    gl_code rc = slot ? GL_OK : gl_err_set(err, GL_ENOMEM, "out of memory");
    for (size_t i = 0; i < n && !rc; i++) {
        const gl_path *p = ps[i];
        for (size_t h = 0; h <= p->n_hops && !rc; h++) {
            uint32_t v = h < p->n_hops ? p->hops[h].src : p->hops[h - 1].dst;
            bool end = h == 0 || h == p->n_hops;
            if (slot[v]) {
                fnode *f = &nodes[slot[v] - 1];
                if (h < f->hop)
                    f->hop = (uint32_t)h;
                f->root |= end;
                f->expanded |= h < p->n_hops;
                continue;
            }
            if (k == cap) {
                cap = cap ? cap * 2 : 16;
                fnode *t = realloc(nodes, cap * sizeof *t);
                if (!t) {
                    rc = gl_err_set(err, GL_ENOMEM, "out of memory");
                    break;
                }
                nodes = t;
            }
            nodes[k] = (fnode){.v = v, .hop = (uint32_t)h, .root = end, .expanded = h < p->n_hops};
            slot[v] = (uint32_t)++k;
        }
        for (size_t h = 0; h < p->n_hops && !rc; h++)
            for (size_t e = 0; e < p->hops[h].n_edges && !rc; e++)
                rc = vpush(edges, p->hops[h].edges[e], err);
    }
    free(slot);
    if (rc) {
        free(nodes);
        return rc;
    }
    *out = nodes;
    *n_out = k;
    return GL_OK;
}

static gl_code flow_of_paths(gl_trace_ctx *c, const gl_path *const *ps, size_t n, gl_flow **out, gl_err *err)
{
    fnode *nodes = NULL;
    size_t nn = 0;
    u32vec edges = {0};
    gl_code rc = paths_nodes(ps, n, c->g->n_nodes, &nodes, &nn, &edges, err);
    rc = rc ? rc : build_flow(c, nodes, nn, edges.v, edges.n, out, err);
    free(nodes);
    free(edges.v);
    return rc;
}

gl_code gl_trace_path_flow(gl_trace_ctx *c, const gl_path *p, gl_flow **out, gl_err *err)
{
    const gl_path *one = p;
    *out = NULL;
    if (!p->n_hops)
        return gl_err_set(err, GL_EINVAL, "an empty path");
    return flow_of_paths(c, &one, 1, out, err);
}

gl_code gl_trace_paths_flow(gl_trace_ctx *c, const gl_paths *ps, gl_flow **out, gl_err *err)
{
    *out = NULL;
    const gl_path **list = malloc((ps->n_paths + 1) * sizeof *list);
    if (!list)
        return gl_err_set(err, GL_ENOMEM, "out of memory");
    for (size_t i = 0; i < ps->n_paths; i++)
        list[i] = &ps->paths[i];
    gl_code rc = flow_of_paths(c, list, ps->n_paths, out, err);
    free(list);
    if (!rc)
        (*out)->truncated = ps->truncated;
    return rc;
}

/* ----------------------------------------------------------------- time */

gl_code gl_trace_parse_time(const char *s, uint64_t *out, gl_err *err)
{
    size_t n = s ? strlen(s) : 0;
    if (n && gl_dec_u64(s, n, out))
        return GL_OK;
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    int y, mo, d, h = 0, mi = 0, se = 0, used = 0;
    bool ok = false;
    if (n == 10 && sscanf(s, "%4d-%2d-%2d%n", &y, &mo, &d, &used) == 3 && used == 10)
        ok = true;
    else if (n == 20 && sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2dZ%n", &y, &mo, &d, &h, &mi, &se, &used) == 6 && used == 20)
        ok = true;
    if (!ok || y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60)
        return gl_err_set(err, GL_EINVAL, "'%s' is not a time (YYYY-MM-DD, YYYY-MM-DDTHH:MM:SSZ or seconds)",
                          s ? s : "");
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = se;
    time_t t = timegm(&tm);
    if (t < 0)
        return gl_err_set(err, GL_EINVAL, "'%s' is not a time", s);
    *out = (uint64_t)t;
    return GL_OK;
}
