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

/* The tx hash at a position, from the store; false when not found.  For a
 * transfer, *tflags gets its carrying tx's flags (GL_STORE_TX_*: sender
 * recovered, imported from a file), else it is left alone. */
static bool pos_tx_hash(gl_store *s, const gl_store_pos *p, bool transfer, uint8_t out[32], uint32_t *tflags)
{
    gl_err err = {0};
    if (transfer) {
        gl_store_transfer t;
        bool found = false;
        if (gl_store_get_transfer(s, p, &t, &found, &err) == GL_OK && found) {
            memcpy(out, t.tx_hash, 32);
            *tflags = t.flags;
            return true;
        }
    }
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
    return false;
}

/* Resolve one evidence object's position to its tx hash (and, for a
 * transfer, whether its sender was verified or it was imported). */
static void hydrate_one(gl_store *s, json_t *o)
{
    json_t *li = json_object_get(o, "log_index"), *ti = json_object_get(o, "tx_index");
    gl_store_pos p = {.chain_id = (uint64_t)json_integer_value(json_object_get(o, "chain_id")),
                      .block = (uint64_t)json_integer_value(json_object_get(o, "block"))};
    if (json_is_integer(li)) {
        p.kind = GL_STORE_POS_LOG;
        p.index = (uint32_t)json_integer_value(li);
    } else {
        json_t *tr = json_object_get(o, "trace");
        p.kind = json_is_integer(tr) ? GL_STORE_POS_TRACE : GL_STORE_POS_TX;
        p.index = (uint32_t)json_integer_value(ti);
        p.sub = json_is_integer(tr) ? (uint32_t)json_integer_value(tr) : 0;
    }
    bool transfer = !strcmp(json_string_value(json_object_get(o, "record")) ? json_string_value(json_object_get(o, "record")) : "", "transfer");
    uint8_t h[32];
    char hex[67];
    uint32_t tflags = 0;
    bool known = pos_tx_hash(s, &p, transfer, h, &tflags);
    json_object_set_new(o, "tx_hash", known ? json_string(hash_hex(h, hex)) : json_null());
    if (transfer) {
        /* Never present imported or unchecked data as verified. */
        json_object_set_new(o, "sender_verified", json_boolean(known && (tflags & GL_STORE_TX_SENDER_OK)));
        json_object_set_new(o, "imported_unverified", json_boolean(known && (tflags & GL_STORE_TX_IMPORTED)));
    }
}

void gl_results_hydrate(gl_store *s, json_t *j)
{
    if (json_is_array(j)) {
        size_t i;
        json_t *v;
        json_array_foreach(j, i, v) gl_results_hydrate(s, v);
        return;
    }
    if (!json_is_object(j))
        return;
    if (json_is_string(json_object_get(j, "record")) && json_object_get(j, "block") && !json_object_get(j, "tx_hash")) {
        hydrate_one(s, j);
        return;
    }
    const char *k;
    json_t *v;
    json_object_foreach(j, k, v) gl_results_hydrate(s, v);
}

json_t *gl_results_evidence_json(gl_store *s, const gl_graph *g, const gl_evidence *ev)
{
    gl_store_pos p = gl_graph_pos(g, &ev->pos);
    json_t *o = json_pack("{s:I,s:I,s:s}", "chain_id", (json_int_t)p.chain_id, "block", (json_int_t)p.block,
                          "record", ev->what ? "event" : "transfer");
    if (!o)
        return NULL;
    if (p.kind == GL_STORE_POS_LOG) {
        json_object_set_new(o, "log_index", json_integer(p.index));
        json_object_set_new(o, "tx_index", json_null());
    } else {
        json_object_set_new(o, "log_index", json_null());
        json_object_set_new(o, "tx_index", json_integer(p.index));
        if (p.kind == GL_STORE_POS_TRACE)
            json_object_set_new(o, "trace", json_integer(p.sub));
    }
    if (s)
        hydrate_one(s, o);
    return o;
}

static json_t *evidence_list(gl_store *s, const gl_graph *g, const gl_evidence *ev, uint32_t n)
{
    json_t *arr = json_array();
    for (uint32_t i = 0; arr && i < n && i < GL_EVIDENCE_MAX; i++)
        json_array_append_new(arr, gl_results_evidence_json(s, g, &ev[i]));
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
    case GL_LINK_RETURNS_TO_FUNDER:
        return json_pack("{s:I,s:f}", "fund_window_s", (json_int_t)P->fund_window_s, "fund_cover", P->fund_cover);
    case GL_LINK_FIRST_FUNDER:
    case GL_LINK_SOLE_FUNDER:
    case GL_LINK_SWEEP_SINK:
    case GL_LINK_PAYS_FOR:
    case GL_LINK_SYNCHRONIZED:
        return json_pack("{s:I,s:I,s:f,s:I}", "sync_window_s", (json_int_t)P->sync_window_s, "sync_min_times",
                         (json_int_t)P->sync_min_times, "soft_merge", P->soft_merge, "soft_rules_min",
                         (json_int_t)P->soft_rules_min);
    case GL_LINK_DEPOSIT_FUNDER:
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

json_t *gl_results_link_json(gl_store *s, const gl_graph *g, const gl_analysis *a, const gl_link *l)
{
    json_t *o = json_pack("{s:s,s:s,s:o,s:o,s:f,s:b,s:o,s:I,s:o}", "rule", gl_link_rule_name((gl_link_rule)l->rule),
                          "strength", gl_link_rule_hard((gl_link_rule)l->rule) ? "hard" : "soft", "a",
                          addr_json(g, l->a), "b", addr_json(g, l->b), "confidence", (double)l->confidence,
                          "merged", l->merged, "parameters", rule_params(&a->params, (gl_link_rule)l->rule),
                          "evidence_count", (json_int_t)l->n_evidence, "evidence",
                          evidence_list(s, g, l->ev, l->n_evidence));
    return o;
}

json_t *gl_results_entity_json(gl_store *s, const gl_graph *g, const gl_analysis *a, uint32_t e,
                               const uint32_t *members, size_t n_members, const size_t *links,
                               size_t n_links)
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
        json_array_append_new(lk, gl_results_link_json(s, g, a, &a->links[links[i]]));
    return json_pack("{s:I,s:s,s:s?,s:s?,s:I,s:o,s:o}", "id", (json_int_t)e, "kind",
                     gl_entity_kind_name((gl_entity_kind)a->entity_kind[e]), "label", label,
                     "label_category", category, "size", (json_int_t)n_members, "addresses", addrs, "links", lk);
}

json_t *gl_results_score_json(gl_store *s, const gl_graph *g, const gl_analysis *a, const gl_wallet_score *w)
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
                              evidence_list(s, g, sg->ev, sg->n_evidence));
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
