/* links.c - hubs, and the rules that say two addresses are one actor.
 *
 * Hubs first: an exchange hot wallet that funds a thousand customers must
 * never join them, so services (labelled exchanges, bridges, routers, mixers;
 * marketplace and token contracts; hot wallets found by their deposit
 * addresses' sweeps; anything with more counterparties than hub_degree,
 * counterparties met only through purchase payments aside: a host paid
 * straight by a thousand renters is a provider, not a service) are marked,
 * and no link through them merges anything but their own deposit addresses
 * and sibling contracts.
 *
 * Hard rules (merged): deposit sweep and deposit reuse, self-authorization,
 * one tx paying several buyers, provider payout sweeps, airdrop aggregation,
 * one platform's contracts.  Soft rules (scored, merged only when two
 * different rules agree on a pair with enough weight): first funder, sole
 * funder, funds a purchase, sweep back to the funder, pays for another's
 * compute, funds another's deposit.  docs/METHODS.md gives each rule's
 * reason, parameters and known false positives.
 */
#include <stdlib.h>
#include <string.h>

#include "gpuledger/analysis.h"
#include "gpuledger/scc.h"

static const char *const rule_names[GL_LINK_RULE_COUNT] = {
    "deposit_sweep", "deposit_reuse", "self_authorization", "multi_buyer_tx", "provider_sweep",
    "airdrop_aggregate", "platform_contracts", "first_funder", "sole_funder", "funds_purchase",
    "sweep_sink", "pays_for", "deposit_funder", "returns_to_funder", "synchronized",
};

const char *gl_link_rule_name(gl_link_rule r) { return r < GL_LINK_RULE_COUNT ? rule_names[r] : "?"; }
bool gl_link_rule_hard(gl_link_rule r) { return r <= GL_LINK_PLATFORM_CONTRACTS; }

gl_code gl_analysis_add_link(gl_analysis *a, uint32_t x, uint32_t y, gl_link_rule rule,
                             float confidence, const gl_evidence *ev, gl_err *err)
{
    if (x == y)
        return GL_OK;
    /* Links of one rule and pair are adjacent when a rule emits them in a
     * row; merge with the last one to keep evidence together. */
    if (a->n_links) {
        gl_link *l = &a->links[a->n_links - 1];
        if (l->rule == rule && ((l->a == x && l->b == y) || (l->a == y && l->b == x))) {
            if (!ev)
                return GL_OK;
            for (uint32_t i = 0; i < l->n_evidence && i < GL_EVIDENCE_MAX; i++)
                if (!memcmp(&l->ev[i].pos, &ev->pos, sizeof ev->pos))
                    return GL_OK;
            if (l->n_evidence < GL_EVIDENCE_MAX)
                l->ev[l->n_evidence] = *ev;
            l->n_evidence++;
            return GL_OK;
        }
    }
    if ((a->n_links & (a->n_links - 1)) == 0 || !a->links) {
        size_t cap = a->n_links ? a->n_links * 2 : 64;
        gl_link *t = realloc(a->links, cap * sizeof *t);
        if (!t)
            return gl_err_set(err, GL_ENOMEM, "out of memory for links");
        a->links = t;
    }
    gl_link *l = &a->links[a->n_links++];
    memset(l, 0, sizeof *l);
    l->a = x < y ? x : y;
    l->b = x < y ? y : x;
    l->rule = (uint8_t)rule;
    l->confidence = confidence;
    if (ev) {
        l->ev[0] = *ev;
        l->n_evidence = 1;
    }
    return GL_OK;
}

static gl_evidence ev_edge(const gl_edge *e) { return (gl_evidence){.pos = e->pos, .what = 0}; }

/* ------------------------------------------------------------------- hubs */

static bool hub_category(const char *c)
{
    static const char *const cats[] = {"exchange", "bridge", "router", "mixer", "dex", "contract", "platform"};
    for (size_t i = 0; i < sizeof cats / sizeof *cats; i++)
        if (!strcmp(c, cats[i]))
            return true;
    return false;
}

/* A node that moved money it held in a tx someone else sent, other than by
 * a direct call to the token (an approval's transferFrom): a contract.  Also
 * any source of an internal (trace) transfer. */
static void mark_contracts(uint8_t *contractish, const gl_graph *g)
{
    for (size_t i = 0; i < g->n_edges; i++) {
        const gl_edge *e = &g->edges[i];
        if (e->pos.kind == GL_STORE_POS_TRACE) {
            contractish[e->src] = 1;
            continue;
        }
        if (e->pos.kind != GL_STORE_POS_LOG)
            continue;
        if (!(e->flags & GL_EDGE_TX_KNOWN) || (e->flags & GL_EDGE_TX_BY_SRC))
            continue;
        if (e->flags & GL_EDGE_TX_TO_TOKEN)
            continue; /* a transferFrom sent straight to the token: self-authorization */
        contractish[e->src] = 1;
    }
}

/* A plain transfer: sent by its source itself, straight to the token (or a
 * native value transfer of the source's own tx), not money a contract moved
 * inside a purchase or a swap.  Unknown (carrying tx not stored): false. */
static bool plain_transfer(const gl_edge *e)
{
    if (e->pos.kind == GL_STORE_POS_TX)
        return true;
    if (e->pos.kind != GL_STORE_POS_LOG)
        return false;
    const uint16_t all = GL_EDGE_TX_KNOWN | GL_EDGE_TX_BY_SRC | GL_EDGE_TX_TO_TOKEN;
    return (e->flags & all) == all;
}

/* Does deposit address d forward what it receives to one wallet?  Returns
 * that wallet, or GL_NODE_NONE.  Every out-transfer must go to the same
 * place, be a plain transfer (sent by d itself), and follow in-transfers of
 * the same asset from someone else within [sweep_min, sweep_max]; a token
 * sweep takes at least all that came in since the last one (not only the
 * recent deposits: a marketplace host paid straight by its renters that
 * cashes out 40-90 % of its balance to its exchange takes more than the
 * last few hours brought but less than all, and is no deposit address), a
 * native sweep all the address held (x's gas top-ups included) less at most
 * the fee allowance. */
static uint32_t sweep_target(const gl_graph *g, const gl_analysis_params *p, uint32_t d)
{
    size_t o0 = g->out_off[d], o1 = g->out_off[d + 1];
    size_t i0 = g->in_off[d], i1 = g->in_off[d + 1];
    if (o0 == o1 || i0 == i1)
        return GL_NODE_NONE;
    uint32_t x = g->edges[g->out_idx[o0]].dst;
    if (g->nodes[x].flags & (GL_NODE_PLATFORM | GL_NODE_TOKEN | GL_NODE_ZERO))
        return GL_NODE_NONE;
    gl_amt gas = (gl_amt)(p->sweep_gas_eth * 1e18);
    uint64_t prev[2] = {0, 0}; /* last sweep time: native, tokens (one token per address in practice) */
    for (size_t k = o0; k < o1; k++) {
        const gl_edge *o = &g->edges[g->out_idx[k]];
        if (o->dst != x || !o->time || !plain_transfer(o))
            return GL_NODE_NONE;
        /* what came in since the last sweep: from others within the sweep
         * window (the deposits), and from anyone (x's gas top-ups too: a
         * native sweep empties the address, leftover gas included) */
        gl_amt all = 0;
        bool recent = false;
        int slot = o->token != 0;
        for (size_t j = i0; j < i1; j++) {
            const gl_edge *in = &g->edges[g->in_idx[j]];
            if (in->token != o->token || in->time > o->time || in->time <= prev[slot])
                continue;
            all += in->amount;
            uint64_t dt = o->time - in->time;
            if (in->src == x || dt < p->sweep_min_s || dt > p->sweep_max_s)
                continue;
            recent = true;
        }
        if (!recent)
            return GL_NODE_NONE;
        /* the whole of it: tokens all that came in since the last sweep; the
         * native coin all it held, less at most the fee allowance */
        bool whole = o->token == 0 ? (o->amount <= all && all - o->amount <= gas) : o->amount >= all;
        if (!whole)
            return GL_NODE_NONE;
        prev[slot] = o->time;
    }
    return x;
}

/* A purchase's payment, as the edge that carries it would show it: the
 * purchase's actor paying its provider, in its token, in its block. */
typedef struct pay_key {
    uint64_t block;
    uint32_t src, dst;
    uint16_t chain, token;
} pay_key;

static int pay_key_cmp(const void *x, const void *y)
{
    const pay_key *a = x, *b = y;
    if (a->chain != b->chain)
        return a->chain < b->chain ? -1 : 1;
    if (a->block != b->block)
        return a->block < b->block ? -1 : 1;
    if (a->src != b->src)
        return a->src < b->src ? -1 : 1;
    if (a->dst != b->dst)
        return a->dst < b->dst ? -1 : 1;
    return a->token < b->token ? -1 : a->token > b->token;
}

/* Distinct counterparties of every node for the hub test: gl_node.degree
 * without the counterparties met only through market purchases.  An edge is
 * a purchase's payment when the marketplace moved it (not a plain transfer)
 * from a purchase's actor to that purchase's provider, in the purchase's
 * token and block (ComputeBazaar's renter-to-host transferFrom inside
 * `rent`).  A host paid straight by a thousand renters, or a renter paying
 * a thousand hosts, is not a service for that; an exchange paying out to a
 * thousand customers by plain transfers still is.  Sets market[v] when v
 * paid or was paid by such an edge.  Returns NULL when out of memory. */
static uint32_t *hub_degrees(const gl_graph *g, uint8_t *market)
{
    uint32_t *deg = malloc(((size_t)g->n_nodes + 1) * sizeof *deg);
    uint8_t *paid = calloc(g->n_edges + 1, 1);
    pay_key *keys = malloc((g->n_purchases + 1) * sizeof *keys);
    if (!deg || !paid || !keys) {
        free(deg);
        deg = NULL;
        goto out;
    }
    size_t nk = 0;
    for (size_t i = 0; i < g->n_purchases; i++) {
        const gl_purchase *q = &g->purchases[i];
        if (q->provider == GL_NODE_NONE || q->actor == q->provider)
            continue;
        keys[nk++] = (pay_key){.block = q->pos.block, .src = q->actor, .dst = q->provider,
                               .chain = q->pos.chain, .token = q->token};
    }
    if (nk)
        qsort(keys, nk, sizeof *keys, pay_key_cmp);
    for (size_t i = 0; i < g->n_edges && nk; i++) {
        const gl_edge *e = &g->edges[i];
        if (plain_transfer(e))
            continue;
        pay_key k = {.block = e->pos.block, .src = e->src, .dst = e->dst, .chain = e->pos.chain, .token = e->token};
        if (bsearch(&k, keys, nk, sizeof *keys, pay_key_cmp)) {
            paid[i] = 1;
            market[e->src] = market[e->dst] = 1;
        }
    }
    if (gl_graph_counterparties(g, paid, deg, NULL)) {
        free(deg);
        deg = NULL;
    }
out:
    free(paid);
    free(keys);
    return deg;
}

gl_code gl_analysis_hubs(gl_analysis *a, const gl_graph *g, gl_err *err)
{
    const gl_analysis_params *p = &a->params;
    uint32_t n = g->n_nodes;
    a->hub = calloc(n + 1, 1);
    uint8_t *contractish = calloc(n + 1, 1);
    uint32_t *sweeps_into = calloc(n + 1, sizeof *sweeps_into);
    uint32_t *target = malloc((n + 1) * sizeof *target);
    uint8_t *market = calloc(n + 1, 1);
    uint32_t *degree = market ? hub_degrees(g, market) : NULL;
    if (!a->hub || !contractish || !sweeps_into || !target || !degree) {
        free(market);
        free(contractish);
        free(sweeps_into);
        free(target);
        free(degree);
        return gl_err_set(err, GL_ENOMEM, "out of memory marking hubs");
    }
    mark_contracts(contractish, g);
    for (uint32_t v = 0; v < n; v++) {
        const gl_node *nd = &g->nodes[v];
        if (contractish[v])
            a->hub[v] |= 2; /* a contract: never a wallet's owner, not expanded */
        if (nd->flags & (GL_NODE_PLATFORM | GL_NODE_TOKEN | GL_NODE_ZERO))
            a->hub[v] |= 1;
        if (nd->label >= 0 && hub_category(g->labels[nd->label].category))
            a->hub[v] |= 1;
        if (degree[v] > p->hub_degree)
            a->hub[v] |= 1;
        target[v] = GL_NODE_NONE;
    }
    free(degree);
    for (uint32_t v = 0; v < n; v++) {
        /* A wallet paid straight by purchases (or paying them) is a
         * market wallet, no exchange deposit address, however wholly it
         * forwards its income: its renters would all be taken for one
         * customer (deposit_reuse). */
        if ((a->hub[v] & 1) || market[v])
            continue;
        target[v] = sweep_target(g, p, v);
        if (target[v] != GL_NODE_NONE)
            sweeps_into[target[v]]++;
    }
    gl_code rc = GL_OK;
    /* Hot wallets: swept into by enough deposit addresses.  They and their
     * deposit addresses are hubs (kind exchange), linked to each other. */
    for (uint32_t v = 0; v < n && !rc; v++) {
        uint32_t x = target[v];
        if (x == GL_NODE_NONE || sweeps_into[x] < p->sweep_min_deposits)
            continue;
        a->hub[x] |= 1 | 4;
        a->hub[v] |= 1 | 8;
        const gl_edge *o = &g->edges[g->out_idx[g->out_off[v]]];
        gl_evidence ev = ev_edge(o);
        rc = gl_analysis_add_link(a, v, x, GL_LINK_DEPOSIT_SWEEP, 0.95f, &ev, err);
        for (size_t k = g->out_off[v] + 1; k < g->out_off[v + 1] && !rc; k++) {
            ev = ev_edge(&g->edges[g->out_idx[k]]);
            rc = gl_analysis_add_link(a, v, x, GL_LINK_DEPOSIT_SWEEP, 0.95f, &ev, err);
        }
    }
    free(contractish);
    free(sweeps_into);
    free(target);
    free(market);
    return rc;
}

/* hub bits: 1 hub, 2 contract, 4 hot wallet, 8 deposit address */
#define IS_HUB(a, v) ((a)->hub[v] & 3)
#define IS_DEPOSIT(a, v) ((a)->hub[v] & 8)

/* ------------------------------------------------------------- hard rules */

/* Every wallet paying into one deposit address is one customer. */
static gl_code rule_deposit_reuse(gl_analysis *a, const gl_graph *g, gl_err *err)
{
    gl_code rc = GL_OK;
    for (uint32_t d = 0; d < g->n_nodes && !rc; d++) {
        if (!IS_DEPOSIT(a, d))
            continue;
        uint32_t first = GL_NODE_NONE;
        for (size_t k = g->in_off[d]; k < g->in_off[d + 1] && !rc; k++) {
            const gl_edge *e = &g->edges[g->in_idx[k]];
            if (IS_HUB(a, e->src) || (a->hub[e->src] & 12))
                continue;
            gl_evidence ev = ev_edge(e);
            if (first == GL_NODE_NONE)
                first = e->src;
            else if (e->src != first)
                rc = gl_analysis_add_link(a, first, e->src, GL_LINK_DEPOSIT_REUSE, 0.9f, &ev, err);
        }
    }
    return rc;
}

/* An EOA's tokens moved by a transferFrom that another EOA sent straight to
 * the token: the owner approved the sender. */
static gl_code rule_self_auth(gl_analysis *a, const gl_graph *g, gl_err *err)
{
    gl_code rc = GL_OK;
    for (size_t i = 0; i < g->n_edges && !rc; i++) {
        const gl_edge *e = &g->edges[i];
        if (e->pos.kind != GL_STORE_POS_LOG || e->token == 0)
            continue;
        /* Someone else's tx, sent straight to the token: a transferFrom. */
        if (e->tx_from == GL_NODE_NONE || !(e->flags & GL_EDGE_TX_TO_TOKEN))
            continue;
        if (IS_HUB(a, e->tx_from) || IS_HUB(a, e->src))
            continue;
        gl_evidence ev = ev_edge(e);
        rc = gl_analysis_add_link(a, e->src, e->tx_from, GL_LINK_SELF_AUTH, 0.9f, &ev, err);
    }
    return rc;
}

/* One tx paying for several buyers' purchases (its sender not their
 * provider: an orchestrator redeeming many senders' tickets is not one). */
static gl_code rule_multi_buyer_tx(gl_analysis *a, const gl_graph *g, gl_err *err)
{
    gl_code rc = GL_OK;
    /* Purchases are sorted by (time, position), and a tx's logs have
     * consecutive indices: its purchases form one run.  Each purchase is
     * compared with the run's first, so a tx with many purchases costs
     * linear time (links to the first make the same component). */
    size_t run = 0;
    for (size_t i = 1; i < g->n_purchases && !rc; i++) {
        const gl_purchase *p = &g->purchases[run];
        const gl_purchase *q = &g->purchases[i];
        if (q->pos.block != p->pos.block || q->pos.chain != p->pos.chain || memcmp(p->tx_hash, q->tx_hash, 32)) {
            run = i;
            continue;
        }
        if (p->actor == q->actor || p->tx_from == GL_NODE_NONE || p->tx_from == p->provider ||
            p->tx_from == q->provider || IS_HUB(a, p->actor) || IS_HUB(a, q->actor))
            continue;
        gl_evidence ev = {.pos = q->pos, .what = 1};
        rc = gl_analysis_add_link(a, p->actor, q->actor, GL_LINK_MULTI_BUYER_TX, 0.9f, &ev, err);
    }
    return rc;
}

/* Providers sweeping payouts to one collector that is not a service, a
 * market wallet (provider or buyer) or a deposit address, by plain
 * transfers (a provider paying for compute is not sweeping). */
static gl_code rule_provider_sweep(gl_analysis *a, const gl_graph *g, gl_err *err)
{
    uint32_t *first = malloc((g->n_nodes + 1) * sizeof *first);
    if (!first)
        return gl_err_set(err, GL_ENOMEM, "out of memory");
    for (uint32_t v = 0; v < g->n_nodes; v++)
        first[v] = GL_NODE_NONE;
    gl_code rc = GL_OK;
    for (size_t i = 0; i < g->n_edges && !rc; i++) {
        const gl_edge *e = &g->edges[i];
        if (!(g->nodes[e->src].flags & GL_NODE_PROVIDER) || IS_HUB(a, e->src) || IS_HUB(a, e->dst) ||
            (a->hub[e->dst] & 12) || (g->nodes[e->dst].flags & (GL_NODE_PROVIDER | GL_NODE_BUYER)))
            continue;
        if (!plain_transfer(e))
            continue;
        if (first[e->dst] == GL_NODE_NONE) {
            first[e->dst] = e->src;
            continue;
        }
        if (first[e->dst] == e->src)
            continue;
        gl_evidence ev = ev_edge(e);
        rc = gl_analysis_add_link(a, first[e->dst], e->src, GL_LINK_PROVIDER_SWEEP, 0.85f, &ev, err);
        rc = rc ? rc : gl_analysis_add_link(a, e->dst, e->src, GL_LINK_PROVIDER_SWEEP, 0.85f, &ev, err);
    }
    free(first);
    return rc;
}

/* Airdrop recipients (a source, not an exchange, whose first transfer's
 * token and amount recur in at least 10 of its transfers) forwarding that
 * token by plain transfers to one aggregator that is not a market wallet. */
static gl_code rule_airdrop(gl_analysis *a, const gl_graph *g, gl_err *err)
{
    gl_code rc = GL_OK;
    uint32_t *agg = malloc((g->n_nodes + 1) * sizeof *agg);
    if (!agg)
        return gl_err_set(err, GL_ENOMEM, "out of memory");
    for (uint32_t v = 0; v < g->n_nodes; v++)
        agg[v] = GL_NODE_NONE;
    for (uint32_t s = 0; s < g->n_nodes && !rc; s++) {
        size_t o0 = g->out_off[s], o1 = g->out_off[s + 1];
        /* an exchange paying out equal withdrawals is not an airdrop */
        if (o1 - o0 < 10 || (a->hub[s] & 12) || (g->nodes[s].label >= 0 && hub_category(g->labels[g->nodes[s].label].category)))
            continue;
        /* the first transfer's (token, amount), and how often it recurs */
        const gl_edge *e0 = &g->edges[g->out_idx[o0]];
        size_t same = 0;
        for (size_t k = o0; k < o1; k++) {
            const gl_edge *e = &g->edges[g->out_idx[k]];
            same += e->token == e0->token && e->amount == e0->amount && e->token != 0;
        }
        if (same < 10)
            continue;
        for (size_t k = o0; k < o1 && !rc; k++) {
            const gl_edge *e = &g->edges[g->out_idx[k]];
            if (e->token != e0->token || e->amount != e0->amount || IS_HUB(a, e->dst))
                continue;
            uint32_t r = e->dst;
            for (size_t m = g->out_off[r]; m < g->out_off[r + 1] && !rc; m++) {
                const gl_edge *f = &g->edges[g->out_idx[m]];
                if (f->token != e->token || f->time < e->time || IS_HUB(a, f->dst) || (a->hub[f->dst] & 12) ||
                    (g->nodes[f->dst].flags & (GL_NODE_PROVIDER | GL_NODE_PLATFORM)) || !plain_transfer(f))
                    continue;
                gl_evidence ev = ev_edge(f);
                if (agg[f->dst] == GL_NODE_NONE)
                    agg[f->dst] = r;
                else if (agg[f->dst] != r) {
                    rc = gl_analysis_add_link(a, agg[f->dst], r, GL_LINK_AIRDROP_AGGREGATE, 0.8f, &ev, err);
                    rc = rc ? rc : gl_analysis_add_link(a, f->dst, r, GL_LINK_AIRDROP_AGGREGATE, 0.8f, &ev, err);
                }
            }
        }
    }
    free(agg);
    return rc;
}

/* Contracts emitting one platform definition's events are one operator. */
static gl_code rule_platform(gl_analysis *a, const gl_graph *g, gl_err *err)
{
    uint32_t *first = malloc((g->n_platforms + 1) * sizeof *first);
    if (!first)
        return gl_err_set(err, GL_ENOMEM, "out of memory");
    for (size_t i = 0; i <= g->n_platforms; i++)
        first[i] = GL_NODE_NONE;
    gl_code rc = GL_OK;
    for (uint32_t v = 0; v < g->n_nodes && !rc; v++) {
        uint16_t pl = g->nodes[v].platform;
        /* A token whose Transfer events a definition follows (Golem's GLM)
         * emits them for everyone: it is not the platform's. */
        if (!pl || (g->nodes[v].flags & GL_NODE_TOKEN))
            continue;
        if (first[pl - 1] == GL_NODE_NONE)
            first[pl - 1] = v;
        else
            rc = gl_analysis_add_link(a, first[pl - 1], v, GL_LINK_PLATFORM_CONTRACTS, 1.0f, NULL, err);
    }
    free(first);
    return rc;
}

/* ------------------------------------------------------------- soft rules */

/* May `f` own wallet `w`?  Not a service, not a contract, not itself. */
static bool may_own(const gl_analysis *a, uint32_t f, uint32_t w)
{
    return f != w && !IS_HUB(a, f) && !(a->hub[f] & 12);
}

static gl_code soft_funding(gl_analysis *a, const gl_graph *g, uint32_t w, gl_err *err)
{
    size_t i0 = g->in_off[w], i1 = g->in_off[w + 1];
    if (i0 == i1 || IS_HUB(a, w) || (a->hub[w] & 12))
        return GL_OK;
    gl_code rc = GL_OK;
    /* first funder: the first transfer in (platform payouts and refunds, and
     * mints, skipped) */
    uint32_t first = GL_NODE_NONE, sole = GL_NODE_NONE;
    bool one_source = true;
    const gl_edge *fe = NULL;
    for (size_t k = i0; k < i1; k++) {
        const gl_edge *e = &g->edges[g->in_idx[k]];
        if (g->nodes[e->src].flags & (GL_NODE_PLATFORM | GL_NODE_ZERO))
            continue;
        if (!fe)
            fe = e;
        if (sole == GL_NODE_NONE)
            sole = e->src;
        else if (sole != e->src)
            one_source = false;
    }
    if (!fe)
        return GL_OK;
    first = fe->src;
    if (may_own(a, first, w)) {
        gl_evidence ev = ev_edge(fe);
        rc = gl_analysis_add_link(a, first, w, GL_LINK_FIRST_FUNDER, 0.4f, &ev, err);
    }
    if (!rc && one_source && may_own(a, sole, w)) {
        gl_evidence ev = ev_edge(fe);
        rc = gl_analysis_add_link(a, sole, w, GL_LINK_SOLE_FUNDER, 0.3f, &ev, err);
    }
    /* funds a purchase: money from f in the purchase's token within the
     * window before it, covering fund_cover of it */
    for (size_t b = g->buy_off[w]; b < g->buy_off[w + 1] && !rc; b++) {
        const gl_purchase *p = &g->purchases[g->buy_idx[b]];
        for (size_t k = i0; k < i1 && !rc; k++) {
            const gl_edge *e = &g->edges[g->in_idx[k]];
            if (e->token != p->token || e->time > p->time || p->time - e->time > a->params.fund_window_s ||
                !may_own(a, e->src, w))
                continue;
            if ((double)e->amount >= a->params.fund_cover * (double)p->amt) {
                gl_evidence ev = ev_edge(e);
                rc = gl_analysis_add_link(a, e->src, w, GL_LINK_FUNDS_PURCHASE, 0.3f, &ev, err);
            }
        }
    }
    /* sweep sink: the wallet's last transfer out goes back to a funder */
    size_t o1 = g->out_off[w + 1];
    if (!rc && o1 > g->out_off[w]) {
        const gl_edge *last = &g->edges[g->out_idx[o1 - 1]];
        for (size_t k = i0; k < i1; k++)
            if (g->edges[g->in_idx[k]].src == last->dst && may_own(a, last->dst, w)) {
                gl_evidence ev = ev_edge(last);
                rc = gl_analysis_add_link(a, last->dst, w, GL_LINK_SWEEP_SINK, 0.2f, &ev, err);
                break;
            }
    }
    return rc;
}

static gl_code soft_roles(gl_analysis *a, const gl_graph *g, gl_err *err)
{
    gl_code rc = GL_OK;
    for (size_t i = 0; i < g->n_purchases && !rc; i++) {
        const gl_purchase *p = &g->purchases[i];
        gl_evidence ev = {.pos = p->pos, .what = 1};
        if (p->beneficiary != GL_NODE_NONE && p->beneficiary != p->actor)
            rc = gl_analysis_add_link(a, p->actor, p->beneficiary, GL_LINK_PAYS_FOR, 0.3f, &ev, err);
        else if (p->buyer != GL_NODE_NONE && p->buyer != p->actor)
            rc = gl_analysis_add_link(a, p->actor, p->buyer, GL_LINK_PAYS_FOR, 0.3f, &ev, err);
    }
    for (size_t i = 0; i < g->n_deposits && !rc; i++) {
        const gl_deposit *d = &g->deposits[i];
        gl_evidence ev = {.pos = d->pos, .what = 1};
        uint32_t other = d->payer != GL_NODE_NONE ? d->payer : d->tx_from;
        if (other != GL_NODE_NONE && other != d->holder)
            rc = gl_analysis_add_link(a, d->holder, other, GL_LINK_DEPOSIT_FUNDER, 0.3f, &ev, err);
    }
    return rc;
}

/* Money that returns to its source: F funds wallet W just before W buys
 * from provider P, and P is F (self-dealing through a fresh wallet) or P
 * and F sit on one cycle of "funds a wallet that buys from" (a ring). */
static gl_code soft_returns(gl_analysis *a, const gl_graph *g, gl_err *err)
{
    size_t n = 0, cap = 0;
    uint32_t(*ed)[2] = NULL;
    uint32_t(*pairs)[3] = NULL; /* F, W, purchase */
    for (int pass = 0; pass < 2; pass++) {
        n = 0;
        for (uint32_t w = 0; w < g->n_nodes; w++) {
            if (g->buy_off[w] == g->buy_off[w + 1] || IS_HUB(a, w))
                continue;
            for (size_t b = g->buy_off[w]; b < g->buy_off[w + 1]; b++) {
                const gl_purchase *p = &g->purchases[g->buy_idx[b]];
                if (p->provider == GL_NODE_NONE)
                    continue;
                for (size_t k = g->in_off[w]; k < g->in_off[w + 1]; k++) {
                    const gl_edge *e = &g->edges[g->in_idx[k]];
                    if (e->token != p->token || e->time > p->time || p->time - e->time > a->params.fund_window_s ||
                        !may_own(a, e->src, w))
                        continue;
                    if (pass == 1) {
                        ed[n][0] = e->src;
                        ed[n][1] = p->provider;
                        pairs[n][0] = e->src;
                        pairs[n][1] = w;
                        pairs[n][2] = g->buy_idx[b];
                    }
                    n++;
                }
            }
        }
        if (pass == 0) {
            cap = n + 1;
            ed = malloc(cap * sizeof *ed);
            pairs = malloc(cap * sizeof *pairs);
            if (!ed || !pairs) {
                free(ed);
                free(pairs);
                return gl_err_set(err, GL_ENOMEM, "out of memory");
            }
        }
    }
    uint32_t *comp = NULL, *size = NULL;
    gl_code rc = gl_scc_edges(g->n_nodes, (const uint32_t(*)[2])ed, n, &comp, &size, err);
    for (size_t i = 0; !rc && i < n; i++) {
        uint32_t f = ed[i][0], prov = ed[i][1];
        if (prov != f && (comp[f] != comp[prov] || size[comp[f]] < 2))
            continue;
        const gl_purchase *p = &g->purchases[pairs[i][2]];
        gl_evidence ev = {.pos = p->pos, .what = 1};
        rc = gl_analysis_add_link(a, f, pairs[i][1], GL_LINK_RETURNS_TO_FUNDER, 0.5f, &ev, err);
    }
    free(comp);
    free(size);
    free(ed);
    free(pairs);
    return rc;
}

/* Timing similarity: two buying wallets whose purchases fall within
 * sync_window_s of each other on at least sync_min_times occasions.  Each
 * purchase looks at up to 8 neighbours in time (a busy market does not make
 * it quadratic); pairs are counted in a sorted array. */
static int u64_cmp(const void *x, const void *y)
{
    uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
    return a < b ? -1 : a > b;
}

static gl_code soft_synchronized(gl_analysis *a, const gl_graph *g, gl_err *err)
{
    size_t cap = g->n_purchases * 8 + 1, n = 0;
    uint64_t *pairs = malloc(cap * sizeof *pairs);
    uint32_t *at = malloc(cap * sizeof *at); /* the later purchase of each pair, for evidence */
    if (!pairs || !at) {
        free(pairs);
        free(at);
        return gl_err_set(err, GL_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < g->n_purchases; i++) {
        const gl_purchase *p = &g->purchases[i];
        if (IS_HUB(a, p->actor) || !p->time)
            continue;
        for (size_t j = i + 1, seen = 0; j < g->n_purchases && seen < 8; j++, seen++) {
            const gl_purchase *q = &g->purchases[j];
            if (q->time - p->time > a->params.sync_window_s)
                break;
            if (q->actor == p->actor || IS_HUB(a, q->actor))
                continue;
            uint32_t x = p->actor < q->actor ? p->actor : q->actor, y = p->actor < q->actor ? q->actor : p->actor;
            pairs[n] = (uint64_t)x << 32 | y;
            at[n] = (uint32_t)j;
            n++;
        }
    }
    /* sort pairs, carrying the evidence index along */
    uint64_t *keyed = malloc((n + 1) * 2 * sizeof *keyed);
    if (!keyed) {
        free(pairs);
        free(at);
        return gl_err_set(err, GL_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        keyed[2 * i] = pairs[i];
        keyed[2 * i + 1] = at[i];
    }
    if (n)
        qsort(keyed, n, 2 * sizeof *keyed, u64_cmp);
    gl_code rc = GL_OK;
    for (size_t i = 0; i < n && !rc;) {
        size_t j = i;
        while (j < n && keyed[2 * j] == keyed[2 * i])
            j++;
        if (j - i >= a->params.sync_min_times) {
            uint32_t x = (uint32_t)(keyed[2 * i] >> 32), y = (uint32_t)keyed[2 * i];
            for (size_t k = i; k < j && !rc; k++) {
                gl_evidence ev = {.pos = g->purchases[keyed[2 * k + 1]].pos, .what = 1};
                rc = gl_analysis_add_link(a, x, y, GL_LINK_SYNCHRONIZED, 0.3f, &ev, err);
            }
        }
        i = j;
    }
    free(keyed);
    free(pairs);
    free(at);
    return rc;
}

gl_code gl_analysis_links(gl_analysis *a, const gl_graph *g, gl_err *err)
{
    gl_code rc = rule_deposit_reuse(a, g, err);
    rc = rc ? rc : rule_self_auth(a, g, err);
    rc = rc ? rc : rule_multi_buyer_tx(a, g, err);
    rc = rc ? rc : rule_provider_sweep(a, g, err);
    rc = rc ? rc : rule_airdrop(a, g, err);
    rc = rc ? rc : rule_platform(a, g, err);
    for (uint32_t w = 0; w < g->n_nodes && !rc; w++)
        rc = soft_funding(a, g, w, err);
    rc = rc ? rc : soft_returns(a, g, err);
    rc = rc ? rc : soft_synchronized(a, g, err);
    return rc ? rc : soft_roles(a, g, err);
}
