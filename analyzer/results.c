/* results.c - the analysis as JSON records, and their home in the store.
 *
 * One record per entity (its addresses, kind, label and links with their
 * evidence) and one per scored wallet (score, flag, typology, beneficiary
 * and every signal with its evidence).  Evidence positions are resolved to
 * transaction hashes through the store, so a record names chain id, block,
 * tx hash and log or tx index: what an investigator cites.
 *
 * In the store (family `analysis`, docs/STORE.md):
 *   "s"                  the stamp: what the analysis was computed from
 *   "p"                  the parameters used
 *   "e/" + u32 be        entity record (JSON)
 *   "m/" + addr(20)      u32 be entity id of the address
 *   "f/" + addr(20)      wallet score record (JSON), flagged or not
 * An analyze run replaces the whole family in one batch.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpuledger/results.h"

static json_t *addr_json(const gl_graph *g, uint32_t v)
{
    char hex[43];
    if (v == GL_NODE_NONE)
        return json_null();
    return json_string(gl_addr_hex(g->nodes[v].addr, hex));
}

static char *hash_hex(const uint8_t h[32], char out[67])
{
    static const char hx[] = "0123456789abcdef";
    out[0] = '0';
    out[1] = 'x';
    for (int i = 0; i < 32; i++) {
        out[2 + 2 * i] = hx[h[i] >> 4];
        out[3 + 2 * i] = hx[h[i] & 15];
    }
    out[66] = 0;
    return out;
}

/* The tx hash at a position, from the store; false when not found. */
static bool pos_tx_hash(gl_store *s, const gl_store_pos *p, uint8_t out[32])
{
    gl_err err = {0};
    if (p->kind == GL_STORE_POS_LOG) {
        gl_store_event ev;
        bool found = false;
        if (gl_store_get_event(s, p->chain_id, p->block, p->index, &ev, &found, &err) == GL_OK && found) {
            memcpy(out, ev.tx_hash, 32);
            return true;
        }
    } else {
        gl_store_tx tx;
        bool found = false;
        if (gl_store_get_tx(s, p->chain_id, p->block, p->index, &tx, &found, &err) == GL_OK && found) {
            memcpy(out, tx.hash, 32);
            return true;
        }
    }
    /* A transfer's own record carries its tx hash: one point read at its
     * position (its key), where a scan of the block's transfers took
     * ~35% of analyze at 100k transfers. */
    gl_store_transfer t;
    bool found = false;
    if (gl_store_get_transfer(s, p, &t, &found, &err) == GL_OK && found) {
        memcpy(out, t.tx_hash, 32);
        return true;
    }
    return false;
}

/* --------------------------------------------------------- tx hash map
 * Every evidence position of a run resolved once, in key order: random
 * point reads for them (twice for a link shown in both its entities) were
 * ~17% of analyze at 1M transfers; in key order consecutive reads share
 * their table blocks.  pos_tx_hash decides each hash, as before. */

typedef struct txent {
    gl_gpos pos;
    bool ok;
    uint8_t hash[32];
} txent;

struct gl_results_txmap {
    txent *v;
    size_t n, cap;
};

/* Store key order: chain ids are sorted, so chain index order is theirs. */
static int gpos_key_cmp(const gl_gpos *a, const gl_gpos *b)
{
    if (a->chain != b->chain)
        return a->chain < b->chain ? -1 : 1;
    if (a->block != b->block)
        return a->block < b->block ? -1 : 1;
    if (a->kind != b->kind)
        return a->kind < b->kind ? -1 : 1;
    if (a->index != b->index)
        return a->index < b->index ? -1 : 1;
    if (a->sub != b->sub)
        return a->sub < b->sub ? -1 : 1;
    return 0;
}

static int txent_cmp(const void *x, const void *y) { return gpos_key_cmp(&((const txent *)x)->pos, &((const txent *)y)->pos); }

static bool txmap_add(gl_results_txmap *m, const gl_evidence *ev, uint32_t n)
{
    for (uint32_t i = 0; i < n && i < GL_EVIDENCE_MAX; i++) {
        if (m->n == m->cap) {
            size_t cap = m->cap ? m->cap * 2 : 1024;
            txent *t = realloc(m->v, cap * sizeof *t);
            if (!t)
                return false;
            m->v = t;
            m->cap = cap;
        }
        txent *e = &m->v[m->n++];
        memset(e, 0, sizeof *e);
        e->pos = ev[i].pos;
    }
    return true;
}

gl_results_txmap *gl_results_txmap_new(gl_store *s, const gl_graph *g, const gl_analysis *a, gl_err *err)
{
    gl_results_txmap *m = calloc(1, sizeof *m);
    bool ok = m != NULL;
    for (size_t i = 0; ok && i < a->n_links; i++)
        ok = txmap_add(m, a->links[i].ev, a->links[i].n_evidence);
    for (size_t i = 0; ok && i < a->n_scores; i++)
        for (uint32_t k = 0; ok && k < a->scores[i].n_signals; k++)
            ok = txmap_add(m, a->scores[i].signals[k].ev, a->scores[i].signals[k].n_evidence);
    if (!ok) {
        gl_results_txmap_free(m);
        gl_err_set(err, GL_ENOMEM, "out of memory resolving evidence");
        return NULL;
    }
    qsort(m->v, m->n, sizeof *m->v, txent_cmp);
    size_t u = 0;
    for (size_t i = 0; i < m->n; i++)
        if (!u || gpos_key_cmp(&m->v[u - 1].pos, &m->v[i].pos))
            m->v[u++] = m->v[i];
    m->n = u;
    for (size_t i = 0; i < m->n; i++) {
        gl_store_pos p = gl_graph_pos(g, &m->v[i].pos);
        m->v[i].ok = pos_tx_hash(s, &p, m->v[i].hash);
    }
    return m;
}

void gl_results_txmap_free(gl_results_txmap *m)
{
    if (!m)
        return;
    free(m->v);
    free(m);
}

static const txent *txmap_find(const gl_results_txmap *m, const gl_gpos *pos)
{
    size_t lo = 0, hi = m->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = gpos_key_cmp(&m->v[mid].pos, pos);
        if (!c)
            return &m->v[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

static json_t *evidence_json_m(gl_store *s, const gl_results_txmap *m, const gl_graph *g, const gl_evidence *ev)
{
    gl_store_pos p = gl_graph_pos(g, &ev->pos);
    json_t *o = json_pack("{s:I,s:I,s:s}", "chain_id", (json_int_t)p.chain_id, "block", (json_int_t)p.block,
                          "record", ev->what ? "event" : "transfer");
    if (!o)
        return NULL;
    uint8_t h[32];
    char hex[67];
    const txent *te = m ? txmap_find(m, &ev->pos) : NULL;
    bool found = te ? te->ok : s && pos_tx_hash(s, &p, h);
    if (te && te->ok)
        memcpy(h, te->hash, 32);
    if (found)
        json_object_set_new(o, "tx_hash", json_string(hash_hex(h, hex)));
    else
        json_object_set_new(o, "tx_hash", json_null());
    if (p.kind == GL_STORE_POS_LOG) {
        json_object_set_new(o, "log_index", json_integer(p.index));
        json_object_set_new(o, "tx_index", json_null());
    } else {
        json_object_set_new(o, "log_index", json_null());
        json_object_set_new(o, "tx_index", json_integer(p.index));
        if (p.kind == GL_STORE_POS_TRACE)
            json_object_set_new(o, "trace", json_integer(p.sub));
    }
    return o;
}

json_t *gl_results_evidence_json(gl_store *s, const gl_graph *g, const gl_evidence *ev)
{
    return evidence_json_m(s, NULL, g, ev);
}

static json_t *evidence_list(gl_store *s, const gl_results_txmap *m, const gl_graph *g, const gl_evidence *ev,
                             uint32_t n)
{
    json_t *arr = json_array();
    for (uint32_t i = 0; arr && i < n && i < GL_EVIDENCE_MAX; i++)
        json_array_append_new(arr, evidence_json_m(s, m, g, &ev[i]));
    return arr;
}

/* The parameters a rule used, by name, from the run's parameters. */
static json_t *rule_params(const gl_analysis_params *P, gl_link_rule r)
{
    switch (r) {
    case GL_LINK_DEPOSIT_SWEEP:
    case GL_LINK_DEPOSIT_REUSE:
        return json_pack("{s:I,s:I,s:f,s:I}", "sweep_min_s", (json_int_t)P->sweep_min_s, "sweep_max_s",
                         (json_int_t)P->sweep_max_s, "sweep_gas_eth", P->sweep_gas_eth,
                         "sweep_min_deposits", (json_int_t)P->sweep_min_deposits);
    case GL_LINK_FUNDS_PURCHASE:
        return json_pack("{s:I,s:f}", "fund_window_s", (json_int_t)P->fund_window_s, "fund_cover", P->fund_cover);
    case GL_LINK_FIRST_FUNDER:
    case GL_LINK_SOLE_FUNDER:
    case GL_LINK_SWEEP_SINK:
    case GL_LINK_PAYS_FOR:
    case GL_LINK_DEPOSIT_FUNDER:
    case GL_LINK_RETURNS_TO_FUNDER:
        return json_pack("{s:f,s:I}", "soft_merge", P->soft_merge, "soft_rules_min", (json_int_t)P->soft_rules_min);
    case GL_LINK_SELF_AUTH:
    case GL_LINK_MULTI_BUYER_TX:
    case GL_LINK_PROVIDER_SWEEP:
    case GL_LINK_AIRDROP_AGGREGATE:
    case GL_LINK_PLATFORM_CONTRACTS:
    case GL_LINK_RULE_COUNT:
        break;
    }
    return json_object();
}

static json_t *link_json_m(gl_store *s, const gl_results_txmap *m, const gl_graph *g, const gl_analysis *a,
                           const gl_link *l)
{
    json_t *o = json_pack("{s:s,s:s,s:o,s:o,s:f,s:b,s:o,s:I,s:o}", "rule", gl_link_rule_name((gl_link_rule)l->rule),
                          "strength", gl_link_rule_hard((gl_link_rule)l->rule) ? "hard" : "soft", "a",
                          addr_json(g, l->a), "b", addr_json(g, l->b), "confidence", (double)l->confidence,
                          "merged", l->merged, "parameters", rule_params(&a->params, (gl_link_rule)l->rule),
                          "evidence_count", (json_int_t)l->n_evidence, "evidence",
                          evidence_list(s, m, g, l->ev, l->n_evidence));
    return o;
}

json_t *gl_results_link_json(gl_store *s, const gl_graph *g, const gl_analysis *a, const gl_link *l)
{
    return link_json_m(s, NULL, g, a, l);
}

json_t *gl_results_entity_json_m(gl_store *s, const gl_results_txmap *m, const gl_graph *g,
                                 const gl_analysis *a, uint32_t e, const uint32_t *members, size_t n_members,
                                 const size_t *links, size_t n_links)
{
    json_t *addrs = json_array(), *lk = json_array();
    const char *label = NULL;
    const char *category = NULL;
    for (size_t i = 0; i < n_members; i++) {
        json_array_append_new(addrs, addr_json(g, members[i]));
        const gl_node *nd = &g->nodes[members[i]];
        if (nd->label >= 0 && !label) {
            label = g->labels[nd->label].label;
            category = g->labels[nd->label].category;
        }
    }
    for (size_t i = 0; i < n_links; i++)
        json_array_append_new(lk, link_json_m(s, m, g, a, &a->links[links[i]]));
    return json_pack("{s:I,s:s,s:s?,s:s?,s:I,s:o,s:o}", "id", (json_int_t)e, "kind",
                     gl_entity_kind_name((gl_entity_kind)a->entity_kind[e]), "label", label,
                     "label_category", category, "size", (json_int_t)n_members, "addresses", addrs, "links", lk);
}

json_t *gl_results_score_json_m(gl_store *s, const gl_results_txmap *m, const gl_graph *g, const gl_analysis *a,
                                const gl_wallet_score *w)
{
    json_t *sigs = json_array(), *fams = json_array();
    for (int f = 0; f < GL_FAM_COUNT; f++)
        if (w->families & (1u << f))
            json_array_append_new(fams, json_string(gl_family_name((gl_family)f)));
    for (uint32_t i = 0; i < w->n_signals; i++) {
        const gl_signal *sg = &w->signals[i];
        json_t *o = json_pack("{s:s,s:s,s:f,s:f,s:o,s:o,s:I,s:o}", "signal", gl_signal_name((gl_signal_kind)sg->kind),
                              "family", gl_family_name(gl_signal_family((gl_signal_kind)sg->kind)), "value",
                              (double)sg->value, "measure", sg->measure, "other", addr_json(g, sg->other),
                              "other_entity", sg->other == GL_NODE_NONE ? json_null() : json_integer(a->entity[sg->other]),
                              "evidence_count", (json_int_t)sg->n_evidence, "evidence",
                              evidence_list(s, m, g, sg->ev, sg->n_evidence));
        json_array_append_new(sigs, o);
    }
    return json_pack("{s:o,s:I,s:s,s:f,s:b,s:s,s:o,s:o,s:o,s:o}", "address", addr_json(g, w->node), "entity",
                     (json_int_t)a->entity[w->node], "entity_kind",
                     gl_entity_kind_name((gl_entity_kind)a->entity_kind[a->entity[w->node]]), "score",
                     (double)w->score, "flagged", w->flagged, "typology",
                     gl_typology_name((gl_typology)w->typology), "beneficiary", addr_json(g, w->beneficiary),
                     "beneficiary_entity",
                     w->beneficiary == GL_NODE_NONE ? json_null() : json_integer(a->entity[w->beneficiary]),
                     "families", fams, "signals", sigs);
}

json_t *gl_results_entity_json(gl_store *s, const gl_graph *g, const gl_analysis *a, uint32_t e,
                               const uint32_t *members, size_t n_members, const size_t *links,
                               size_t n_links)
{
    return gl_results_entity_json_m(s, NULL, g, a, e, members, n_members, links, n_links);
}

json_t *gl_results_score_json(gl_store *s, const gl_graph *g, const gl_analysis *a, const gl_wallet_score *w)
{
    return gl_results_score_json_m(s, NULL, g, a, w);
}

/* ----------------------------------------------------------------- grouping */

gl_code gl_results_group(const gl_analysis *a, gl_results_groups *out, gl_err *err)
{
    memset(out, 0, sizeof *out);
    uint32_t ne = a->n_entities;
    out->mem_off = calloc((size_t)ne + 1, sizeof *out->mem_off);
    out->members = malloc(((size_t)a->n_nodes + 1) * sizeof *out->members);
    out->link_off = calloc((size_t)ne + 1, sizeof *out->link_off);
    out->links = malloc((a->n_links * 2 + 1) * sizeof *out->links);
    size_t *fill = malloc(((size_t)ne + 1) * sizeof *fill);
    if (!out->mem_off || !out->members || !out->link_off || !out->links || !fill) {
        free(fill);
        gl_results_groups_release(out);
        return gl_err_set(err, GL_ENOMEM, "out of memory grouping entities");
    }
    for (uint32_t v = 0; v < a->n_nodes; v++)
        out->mem_off[a->entity[v] + 1]++;
    for (uint32_t e = 0; e < ne; e++)
        out->mem_off[e + 1] += out->mem_off[e];
    memcpy(fill, out->mem_off, ((size_t)ne + 1) * sizeof *fill);
    for (uint32_t v = 0; v < a->n_nodes; v++)
        out->members[fill[a->entity[v]]++] = v;
    /* A link shows in the entity of each end (once when both are one). */
    for (size_t i = 0; i < a->n_links; i++) {
        uint32_t ea = a->entity[a->links[i].a], eb = a->entity[a->links[i].b];
        out->link_off[ea + 1]++;
        if (eb != ea)
            out->link_off[eb + 1]++;
    }
    for (uint32_t e = 0; e < ne; e++)
        out->link_off[e + 1] += out->link_off[e];
    memcpy(fill, out->link_off, ((size_t)ne + 1) * sizeof *fill);
    for (size_t i = 0; i < a->n_links; i++) {
        uint32_t ea = a->entity[a->links[i].a], eb = a->entity[a->links[i].b];
        out->links[fill[ea]++] = i;
        if (eb != ea)
            out->links[fill[eb]++] = i;
    }
    free(fill);
    return GL_OK;
}

void gl_results_groups_release(gl_results_groups *g)
{
    free(g->mem_off);
    free(g->members);
    free(g->link_off);
    free(g->links);
    memset(g, 0, sizeof *g);
}
