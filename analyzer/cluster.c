/* cluster.c - links to entities: union-find over the merged links, kinds.
 *
 * Hard links merge, except that a hub merges only with its own deposit
 * addresses and sibling contracts (deposit_sweep, platform_contracts): no
 * customer ever joins an exchange.  Soft links are summed per pair; a pair
 * merges when its weight reaches soft_merge from at least soft_rules_min
 * different rules (never on one rule alone).  The sets are a gl_uf (uf.h);
 * entity ids are dense, in order of each entity's smallest node.
 */
#include <stdlib.h>
#include <string.h>

#include "gpuledger/analysis.h"
#include "gpuledger/uf.h"

static const char *const kind_names[GL_KIND_COUNT] = {
    "unknown", "exchange", "bridge", "router", "mixer", "platform", "token", "service",
    "contract", "provider", "buyer", "wallet",
};

const char *gl_entity_kind_name(gl_entity_kind k) { return k < GL_KIND_COUNT ? kind_names[k] : "?"; }

static int link_pair_cmp(const void *x, const void *y)
{
    const gl_link *a = *(const gl_link *const *)x, *b = *(const gl_link *const *)y;
    if (a->a != b->a)
        return a->a < b->a ? -1 : 1;
    if (a->b != b->b)
        return a->b < b->b ? -1 : 1;
    return (int)a->rule - (int)b->rule;
}

static bool hub_ok(const gl_analysis *a, const gl_link *l)
{
    bool ha = a->hub[l->a] & 3, hb = a->hub[l->b] & 3;
    if (!ha && !hb && !(a->hub[l->a] & 12) && !(a->hub[l->b] & 12))
        return true;
    return l->rule == GL_LINK_DEPOSIT_SWEEP || l->rule == GL_LINK_PLATFORM_CONTRACTS;
}

static gl_entity_kind label_kind(const char *cat)
{
    if (!strcmp(cat, "exchange"))
        return GL_KIND_EXCHANGE;
    if (!strcmp(cat, "bridge"))
        return GL_KIND_BRIDGE;
    if (!strcmp(cat, "router") || !strcmp(cat, "dex"))
        return GL_KIND_ROUTER;
    if (!strcmp(cat, "mixer"))
        return GL_KIND_MIXER;
    if (!strcmp(cat, "platform"))
        return GL_KIND_PLATFORM;
    if (!strcmp(cat, "provider"))
        return GL_KIND_PROVIDER;
    return GL_KIND_UNKNOWN;
}

/* The kind a single node suggests, strongest first (a lower rank wins). */
static gl_entity_kind node_kind(const gl_analysis *a, const gl_graph *g, uint32_t v, int *rank)
{
    const gl_node *n = &g->nodes[v];
    gl_entity_kind lk = n->label >= 0 ? label_kind(g->labels[n->label].category) : GL_KIND_UNKNOWN;
    if (lk != GL_KIND_UNKNOWN) {
        *rank = 0;
        return lk;
    }
    if (a->hub[v] & 12) {
        *rank = 1;
        return GL_KIND_EXCHANGE;
    }
    if (n->flags & GL_NODE_PLATFORM) {
        *rank = 2;
        return GL_KIND_PLATFORM;
    }
    if (n->flags & GL_NODE_TOKEN) {
        *rank = 3;
        return GL_KIND_TOKEN;
    }
    if (a->hub[v] & 1) {
        *rank = 4;
        return GL_KIND_SERVICE;
    }
    if (a->hub[v] & 2) {
        *rank = 4;
        return GL_KIND_CONTRACT;
    }
    if (n->flags & GL_NODE_PROVIDER) {
        *rank = 5;
        return GL_KIND_PROVIDER;
    }
    if (n->flags & GL_NODE_BUYER) {
        *rank = 6;
        return GL_KIND_BUYER;
    }
    *rank = 7;
    return GL_KIND_WALLET;
}

gl_code gl_analysis_cluster(gl_analysis *a, const gl_graph *g, gl_err *err)
{
    uint32_t n = g->n_nodes;
    gl_uf u;
    gl_code urc = gl_uf_init(&u, n, NULL);
    const gl_link **sorted = malloc((a->n_links + 1) * sizeof *sorted);
    a->entity = malloc((n + 1) * sizeof *a->entity);
    if (urc || !sorted || !a->entity) {
        gl_uf_release(&u);
        free(sorted);
        return gl_err_set(err, GL_ENOMEM, "out of memory clustering %u addresses", n);
    }
    for (size_t i = 0; i < a->n_links; i++) {
        gl_link *l = &a->links[i];
        sorted[i] = l;
        if (gl_link_rule_hard((gl_link_rule)l->rule) && hub_ok(a, l)) {
            l->merged = true;
            gl_uf_union(&u, l->a, l->b);
        }
    }
    /* Soft: group by pair, sum weights over distinct rules. */
    qsort(sorted, a->n_links, sizeof *sorted, link_pair_cmp);
    for (size_t i = 0; i < a->n_links;) {
        size_t j = i;
        double w = 0;
        uint32_t rules = 0;
        int last_rule = -1;
        for (; j < a->n_links && sorted[j]->a == sorted[i]->a && sorted[j]->b == sorted[i]->b; j++) {
            const gl_link *l = sorted[j];
            if (gl_link_rule_hard((gl_link_rule)l->rule) || !hub_ok(a, l))
                continue;
            if (l->rule != last_rule) {
                w += l->confidence;
                rules++;
                last_rule = l->rule;
            }
        }
        if (rules >= a->params.soft_rules_min && w + 1e-9 >= a->params.soft_merge) {
            for (size_t k = i; k < j; k++)
                if (!gl_link_rule_hard((gl_link_rule)sorted[k]->rule))
                    ((gl_link *)sorted[k])->merged = true;
            gl_uf_union(&u, sorted[i]->a, sorted[i]->b);
        }
        i = j;
    }
    free(sorted);
    /* Dense ids in order of each entity's smallest node. */
    a->n_entities = gl_uf_labels(&u, a->entity);
    gl_uf_release(&u);
    a->entity_kind = calloc(a->n_entities + 1, 1);
    int *best = malloc((a->n_entities + 1) * sizeof *best);
    if (!a->entity_kind || !best) {
        free(best);
        return gl_err_set(err, GL_ENOMEM, "out of memory");
    }
    for (uint32_t e = 0; e < a->n_entities; e++)
        best[e] = 99;
    bool *has_prov = calloc(a->n_entities + 1, 1), *has_buy = calloc(a->n_entities + 1, 1);
    if (!has_prov || !has_buy) {
        free(best);
        free(has_prov);
        free(has_buy);
        return gl_err_set(err, GL_ENOMEM, "out of memory");
    }
    for (uint32_t v = 0; v < n; v++) {
        int r;
        gl_entity_kind k = node_kind(a, g, v, &r);
        uint32_t e = a->entity[v];
        if (r < best[e]) {
            best[e] = r;
            a->entity_kind[e] = (uint8_t)k;
        }
        has_prov[e] |= k == GL_KIND_PROVIDER;
        has_buy[e] |= k == GL_KIND_BUYER;
    }
    /* A service kind next to wallets that trade on a market is a merge we
     * did not want: count it (eval lists them against the truth). */
    a->merges_across_kinds = 0;
    for (uint32_t e = 0; e < a->n_entities; e++)
        if (best[e] <= 4 && (has_prov[e] || has_buy[e]))
            a->merges_across_kinds++;
    free(best);
    free(has_prov);
    free(has_buy);
    return GL_OK;
}
