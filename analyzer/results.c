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
#include <inttypes.h>
#include <stdarg.h>
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

/* ------------------------------------------------- entity records as text
 *
 * An entity record is written as text directly: through jansson objects
 * (a dozen allocations a link, each evidence an object of its own, then a
 * dump) the six exchange entities of a 10M-transfer store, 74,000 links
 * each, and the half million entities with links took 25 s of the write.
 * The shape is the one documented in docs/STORE.md; test_analyzer reads
 * the records back through jansson. */

static bool tb_reserve(gl_textbuf *t, size_t more)
{
    if (t->len + more + 1 <= t->cap)
        return true;
    size_t nc = t->cap ? t->cap : 256;
    while (nc < t->len + more + 1)
        nc *= 2;
    char *p = realloc(t->p, nc);
    if (!p)
        return false;
    t->p = p;
    t->cap = nc;
    return true;
}

static bool tb_put(gl_textbuf *t, const char *s, size_t n)
{
    if (!tb_reserve(t, n))
        return false;
    memcpy(t->p + t->len, s, n);
    t->len += n;
    t->p[t->len] = 0;
    return true;
}

static bool tb_str(gl_textbuf *t, const char *s) { return tb_put(t, s, strlen(s)); }

static bool tb_fmt(gl_textbuf *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static bool tb_fmt(gl_textbuf *t, const char *fmt, ...)
{
    char tmp[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    return n >= 0 && (size_t)n < sizeof tmp && tb_put(t, tmp, (size_t)n);
}

/* A JSON string, escaped by jansson (labels are outside text). */
static bool tb_json_string(gl_textbuf *t, const char *s)
{
    json_t *j = json_string(s);
    char *txt = j ? json_dumps(j, JSON_ENCODE_ANY) : NULL;
    json_decref(j);
    bool ok = txt && tb_str(t, txt);
    free(txt);
    return ok;
}

static bool tb_addr(gl_textbuf *t, const gl_graph *g, uint32_t v)
{
    char hex[43];
    if (v == GL_NODE_NONE)
        return tb_put(t, "null", 4);
    return tb_put(t, "\"", 1) && tb_put(t, gl_addr_hex(g->nodes[v].addr, hex), 42) && tb_put(t, "\"", 1);
}

/* A double as jansson writes a real (%.17g, with ".0" when integral). */
static bool tb_real(gl_textbuf *t, double v)
{
    char tmp[40];
    int n = snprintf(tmp, sizeof tmp, "%.17g", v);
    if (n < 0 || (size_t)n >= sizeof tmp)
        return false;
    if (!strpbrk(tmp, ".eE") && strcmp(tmp, "inf") && strcmp(tmp, "nan") && strcmp(tmp, "-inf"))
        return tb_put(t, tmp, (size_t)n) && tb_put(t, ".0", 2);
    return tb_put(t, tmp, (size_t)n);
}

static bool tb_evidence(gl_textbuf *t, const gl_graph *g, const gl_evidence *ev)
{
    gl_store_pos p = gl_graph_pos(g, &ev->pos);
    bool ok = tb_fmt(t, "{\"chain_id\":%" PRIu64 ",\"block\":%" PRIu64 ",\"record\":\"%s\",", p.chain_id, p.block,
                     ev->what ? "event" : "transfer");
    if (p.kind == GL_STORE_POS_LOG)
        return ok && tb_fmt(t, "\"log_index\":%" PRIu32 ",\"tx_index\":null}", p.index);
    ok = ok && tb_fmt(t, "\"log_index\":null,\"tx_index\":%" PRIu32, p.index);
    if (p.kind == GL_STORE_POS_TRACE)
        ok = ok && tb_fmt(t, ",\"trace\":%" PRIu32, p.sub);
    return ok && tb_put(t, "}", 1);
}

/* The evidence object is written by tb_evidence alone: score records
 * parse its text, so entity and score records cannot disagree on it. */
json_t *gl_results_evidence_json(gl_store *s, const gl_graph *g, const gl_evidence *ev)
{
    gl_textbuf t = {0};
    json_t *o = tb_evidence(&t, g, ev) ? json_loadb(t.p, t.len, 0, NULL) : NULL;
    gl_textbuf_release(&t);
    if (o && s)
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

bool gl_results_params_texts(const gl_analysis_params *P, char *out[GL_LINK_RULE_COUNT])
{
    bool ok = true;
    for (int r = 0; r < GL_LINK_RULE_COUNT; r++) {
        json_t *j = rule_params(P, (gl_link_rule)r);
        out[r] = j ? json_dumps(j, JSON_COMPACT) : NULL;
        json_decref(j);
        ok &= out[r] != NULL;
    }
    return ok;
}

static bool tb_link(gl_textbuf *t, const gl_graph *g, const gl_link *l, char *const params[GL_LINK_RULE_COUNT])
{
    gl_link_rule r = (gl_link_rule)l->rule;
    bool ok = tb_fmt(t, "{\"rule\":\"%s\",\"strength\":\"%s\",\"a\":", gl_link_rule_name(r),
                     gl_link_rule_hard(r) ? "hard" : "soft") &&
              tb_addr(t, g, l->a) && tb_put(t, ",\"b\":", 5) && tb_addr(t, g, l->b) &&
              tb_put(t, ",\"confidence\":", 14) && tb_real(t, (double)l->confidence) &&
              tb_fmt(t, ",\"merged\":%s,\"parameters\":", l->merged ? "true" : "false") &&
              tb_str(t, r < GL_LINK_RULE_COUNT && params[r] ? params[r] : "{}") &&
              tb_fmt(t, ",\"evidence_count\":%" PRIu32 ",\"evidence\":[", l->n_evidence);
    for (uint32_t i = 0; ok && i < l->n_evidence && i < GL_EVIDENCE_MAX; i++)
        ok = (i == 0 || tb_put(t, ",", 1)) && tb_evidence(t, g, &l->ev[i]);
    return ok && tb_put(t, "]}", 2);
}

bool gl_results_entity_text(gl_textbuf *t, const gl_graph *g, const gl_analysis *a, uint32_t e,
                            const uint32_t *members, size_t n_members, const size_t *links, size_t n_links,
                            char *const params[GL_LINK_RULE_COUNT])
{
    t->len = 0;
    const char *label = NULL, *category = NULL;
    for (size_t i = 0; i < n_members && !label; i++) {
        const gl_node *nd = &g->nodes[members[i]];
        if (nd->label >= 0) {
            label = g->labels[nd->label].label;
            category = g->labels[nd->label].category;
        }
    }
    bool ok = tb_fmt(t, "{\"id\":%" PRIu32 ",\"kind\":\"%s\",", e, gl_entity_kind_name((gl_entity_kind)a->entity_kind[e]));
    if (label)
        ok = ok && tb_put(t, "\"label\":", 8) && tb_json_string(t, label) && tb_put(t, ",\"label_category\":", 18) &&
             tb_json_string(t, category) && tb_put(t, ",", 1);
    ok = ok && tb_fmt(t, "\"size\":%zu,\"addresses\":[", n_members);
    for (size_t i = 0; ok && i < n_members; i++)
        ok = (i == 0 || tb_put(t, ",", 1)) && tb_addr(t, g, members[i]);
    ok = ok && tb_put(t, "],\"links\":[", 11);
    for (size_t i = 0; ok && i < n_links; i++)
        ok = (i == 0 || tb_put(t, ",", 1)) && tb_link(t, g, &a->links[links[i]], params);
    return ok && tb_put(t, "]}", 2);
}

void gl_textbuf_release(gl_textbuf *t)
{
    free(t->p);
    memset(t, 0, sizeof *t);
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
