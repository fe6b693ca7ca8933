/* proxy.c - why a buying wallet may be a proxy: signals, score, flag.
 *
 * For every wallet that paid for compute (a purchase's actor), signals in
 * families, each with its strength, the third party it points to and the
 * positions behind it:
 *   funding       third-party money shortly before a purchase covering it;
 *                 a sponsor funding several buying wallets; a deposit
 *                 funded by someone else
 *   identity      the purchase's beneficiary is another address; the event
 *                 books it to another buyer; the deposit's tx sender is not
 *                 its on-chain owner
 *   lifecycle     a fresh wallet funded by one non-service source; a conduit
 *                 whose third-party money matches what it spends; a wallet
 *                 that buys only for others
 *   settlement    repaid by a third party after the purchase
 *   coordination  one order split across wallets of one entity in a window
 *   context       export-controlled GPU classes, sanctioned exposure (shown,
 *                 never counted)
 * Purchases from a provider of the wallet's own entity are self-dealing
 * (volume's business), and money from the wallet's own provider entity is
 * its own: neither makes a proxy.  Score: 1 - prod(1 - s_f) over the
 * families' strongest signals; a flag needs flag_min_families families and
 * flag_min_score (docs/METHODS.md).
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "gpuledger/analysis.h"
#include "gpuledger/scc.h"

static const char *const sig_names[GL_SIG_COUNT] = {
    "third_party_funding", "sponsor", "deposit_funded_by_other", "beneficiary_other",
    "booked_to_other", "sender_not_buyer", "fresh_burner", "conduit", "only_for_others",
    "repaid_by_third_party", "split_order", "controlled_gpu", "sanctioned_exposure", "short_life",
    "shared_deposit",
};
static const gl_family sig_family[GL_SIG_COUNT] = {
    GL_FAM_FUNDING, GL_FAM_FUNDING, GL_FAM_FUNDING, GL_FAM_IDENTITY, GL_FAM_IDENTITY,
    GL_FAM_IDENTITY, GL_FAM_LIFECYCLE, GL_FAM_LIFECYCLE, GL_FAM_LIFECYCLE, GL_FAM_SETTLEMENT,
    GL_FAM_COORDINATION, GL_FAM_CONTEXT, GL_FAM_CONTEXT, GL_FAM_LIFECYCLE, GL_FAM_COORDINATION,
};
static const char *const fam_names[GL_FAM_COUNT] = {
    "funding", "identity", "lifecycle", "settlement", "coordination", "context",
};
static const char *const typ_names[GL_TYP_COUNT] = {
    "none", "sponsor_fanout", "pass_through", "reimbursed", "lease_for",
    "livepeer_third_party", "golem_deposit", "split_order",
};

const char *gl_signal_name(gl_signal_kind s) { return s < GL_SIG_COUNT ? sig_names[s] : "?"; }
gl_family gl_signal_family(gl_signal_kind s) { return s < GL_SIG_COUNT ? sig_family[s] : GL_FAM_CONTEXT; }
const char *gl_family_name(gl_family f) { return f < GL_FAM_COUNT ? fam_names[f] : "?"; }
const char *gl_typology_name(gl_typology t) { return t < GL_TYP_COUNT ? typ_names[t] : "?"; }

#define IS_SERVICE(a, v) ((a)->hub[v] & 15)

typedef struct ctx {
    gl_analysis *a;
    const gl_graph *g;
    gl_wallet_score *ws;
    uint32_t *scc;       /* entity -> its strongly connected component in the money graph */
    uint32_t *scc_size;  /* component -> entities in it */
    /* The wallet being scored collects its signals here (at most one per
     * kind), so a signal's address stays put while others are added; the
     * wallet gets an exact-size copy when done. */
    gl_signal scratch[GL_SIG_COUNT];
    /* Split orders, found once for all purchases (split_prepare): for a
     * purchase, how many leases of the same model by its entity fall in
     * the window around it, and one of them by another wallet. */
    uint32_t *split_parts;
    uint32_t *split_other;  /* purchase index, UINT32_MAX: none */
    gl_err *err;
} ctx;

static gl_signal *add_signal(ctx *c, gl_signal_kind k, float value, uint32_t other, double measure)
{
    gl_wallet_score *w = c->ws;
    for (uint32_t i = 0; i < w->n_signals; i++)
        if (w->signals[i].kind == k) {
            if (value > w->signals[i].value) {
                w->signals[i].value = value;
                w->signals[i].other = other;
                w->signals[i].measure = measure;
            }
            return &w->signals[i];
        }
    if (w->n_signals >= GL_SIG_COUNT) {
        gl_err_set(c->err, GL_ENOMEM, "more signals than kinds");
        return NULL;
    }
    gl_signal *s = &w->signals[w->n_signals++];
    memset(s, 0, sizeof *s);
    s->kind = (uint8_t)k;
    s->value = value;
    s->other = other;
    s->measure = measure;
    return s;
}

static void add_ev(gl_signal *s, gl_gpos pos, uint8_t what)
{
    if (!s)
        return;
    for (uint32_t i = 0; i < s->n_evidence && i < GL_EVIDENCE_MAX; i++)
        if (!memcmp(&s->ev[i].pos, &pos, sizeof pos))
            return;
    if (s->n_evidence < GL_EVIDENCE_MAX)
        s->ev[s->n_evidence] = (gl_evidence){.pos = pos, .what = what};
    s->n_evidence++;
}

static bool same_entity(const gl_analysis *a, uint32_t x, uint32_t y)
{
    return x != GL_NODE_NONE && y != GL_NODE_NONE && a->entity[x] == a->entity[y];
}

/* Does money from f to w go round?  f's entity and the entity of a provider
 * w buys from sit on one cycle of "funds a wallet that buys from" (a ring of
 * providers leasing each other's capacity with money that goes round). */
static bool circular_funder(const ctx *c, uint32_t f, uint32_t w)
{
    const gl_graph *g = c->g;
    const gl_analysis *a = c->a;
    uint32_t cf = c->scc[a->entity[f]];
    if (c->scc_size[cf] < 2)
        return false;
    for (size_t b = g->buy_off[w]; b < g->buy_off[w + 1]; b++) {
        const gl_purchase *p = &g->purchases[g->buy_idx[b]];
        if (p->provider != GL_NODE_NONE && c->scc[a->entity[p->provider]] == cf)
            return true;
    }
    return false;
}

/* Is money from f someone else's money for wallet w?  Services (exchange
 * withdrawals, bridges) hand a customer its own money; a contract's payment
 * is a refund or a payout; a provider of w's own entity pays its own bills;
 * money that goes round a ring is the ring's (circular_funder). */
static bool third_party(const ctx *c, uint32_t f, uint32_t w)
{
    const gl_analysis *a = c->a;
    if (f == w || IS_SERVICE(a, f) || (c->g->nodes[f].flags & (GL_NODE_PLATFORM | GL_NODE_ZERO)))
        return false;
    if (same_entity(a, f, w) && a->entity_kind[a->entity[f]] == GL_KIND_PROVIDER)
        return false;
    if (c->scc && circular_funder(c, f, w))
        return false;
    return true;
}

/* The money graph over entities: E(funder) -> E(provider) for every
 * purchase a funder's transfer paid for (within the funding window), and
 * its strongly connected components (Tarjan, iterative). */
static gl_code money_sccs(ctx *c)
{
    const gl_graph *g = c->g;
    const gl_analysis *a = c->a;
    uint32_t ne = a->n_entities;
    size_t n_e = 0, cap = 0;
    uint32_t(*ed)[2] = NULL;
    ctx plain = *c;
    plain.scc = NULL;
    for (uint32_t w = 0; w < g->n_nodes; w++) {
        if (g->buy_off[w] == g->buy_off[w + 1] || (a->hub[w] & 15))
            continue;
        for (size_t b = g->buy_off[w]; b < g->buy_off[w + 1]; b++) {
            const gl_purchase *p = &g->purchases[g->buy_idx[b]];
            if (p->provider == GL_NODE_NONE)
                continue;
            for (size_t k = g->in_off[w]; k < g->in_off[w + 1]; k++) {
                const gl_edge *e = &g->edges[g->in_idx[k]];
                if (e->token != p->token || e->time > p->time || p->time - e->time > a->params.fund_window_s ||
                    !third_party(&plain, e->src, w))
                    continue;
                if (n_e == cap) {
                    cap = cap ? cap * 2 : 256;
                    void *t = realloc(ed, cap * sizeof *ed);
                    if (!t) {
                        free(ed);
                        return gl_err_set(c->err, GL_ENOMEM, "out of memory");
                    }
                    ed = t;
                }
                ed[n_e][0] = a->entity[e->src];
                ed[n_e][1] = a->entity[p->provider];
                n_e++;
            }
        }
    }
    gl_code rc = gl_scc_edges(ne, ed, n_e, &c->scc, &c->scc_size, c->err);
    free(ed);
    return rc;
}

/* Purchases that count: not bought from the wallet's own entity. */
static bool counts(const ctx *c, const gl_purchase *p)
{
    return !same_entity(c->a, p->actor, p->provider);
}

static bool controlled_model(const char *m)
{
    static const char *const classes[] = {"H100", "H800", "H20", "H200", "A100", "A800", "B200", "B100", "GB200"};
    for (size_t i = 0; i < sizeof classes / sizeof *classes; i++) {
        size_t n = strlen(classes[i]);
        const char *p = m;
        while ((p = strcasestr(p, classes[i]))) {
            char after = p[n];
            /* "H20" must not match "H200": the next character ends the class name */
            if (!(after >= '0' && after <= '9'))
                return true;
            p += n;
        }
    }
    return false;
}

/* Funding before each purchase; sponsor (filled from a per-funder count). */
static gl_code sig_funding(ctx *c, uint32_t w, const uint32_t *funded_wallets, const uint32_t *funded2,
                           const uint32_t *upstream)
{
    const gl_graph *g = c->g;
    const gl_analysis_params *P = &c->a->params;
    size_t n = 0, covered = 0;
    uint32_t main_funder = GL_NODE_NONE;
    gl_signal *s = NULL;
    for (size_t b = g->buy_off[w]; b < g->buy_off[w + 1]; b++) {
        const gl_purchase *p = &g->purchases[g->buy_idx[b]];
        if (!counts(c, p))
            continue;
        n++;
        gl_amt got = 0;
        uint32_t who = GL_NODE_NONE;
        const gl_edge *last = NULL;
        for (size_t k = g->in_off[w]; k < g->in_off[w + 1]; k++) {
            const gl_edge *e = &g->edges[g->in_idx[k]];
            if (e->token != p->token || e->time > p->time || p->time - e->time > P->fund_window_s ||
                !third_party(c, e->src, w))
                continue;
            got += e->amount;
            who = e->src;
            last = e;
        }
        if (last && (double)got >= P->fund_cover * (double)p->amt) {
            covered++;
            main_funder = who;
            if (!s && !(s = add_signal(c, GL_SIG_THIRD_PARTY_FUNDING, 0.0f, who, 0)))
                return GL_ENOMEM;
            add_ev(s, last->pos, 0);
            add_ev(s, p->pos, 1);
        }
    }
    if (s) {
        double share = n ? (double)covered / (double)n : 0;
        s->measure = share;
        s->other = main_funder;
        s->value = share >= 0.5 ? (float)(0.5 + 0.4 * share) : 0.0f;
        /* A sponsor one level up (main_funder funds buyers itself) or two
         * (main_funder is an intermediate wallet funded by the sponsor). */
        uint32_t sponsor = GL_NODE_NONE, reach = 0;
        if (main_funder != GL_NODE_NONE && funded_wallets[main_funder] >= P->sponsor_min_wallets) {
            sponsor = main_funder;
            reach = funded_wallets[main_funder];
        } else if (main_funder != GL_NODE_NONE && upstream[main_funder] != GL_NODE_NONE &&
                   funded_wallets[upstream[main_funder]] + funded2[upstream[main_funder]] >= P->sponsor_min_wallets) {
            sponsor = upstream[main_funder];
            reach = funded_wallets[sponsor] + funded2[sponsor];
        }
        if (s->value > 0 && sponsor != GL_NODE_NONE) {
            /* add_signal may move the signals: copy the evidence first */
            gl_signal copy = *s;
            gl_signal *sp = add_signal(c, GL_SIG_SPONSOR, 0.8f, sponsor, reach);
            if (!sp)
                return GL_ENOMEM;
            sp->n_evidence = copy.n_evidence;
            memcpy(sp->ev, copy.ev, sizeof sp->ev);
        }
    }
    return GL_OK;
}

/* Identity: roles on the purchases; Golem-style booked-to-other. */
static gl_code sig_identity(ctx *c, uint32_t w)
{
    const gl_graph *g = c->g;
    size_t n = 0, benef = 0, booked = 0;
    gl_signal *sb = NULL, *sk = NULL;
    for (size_t b = g->buy_off[w]; b < g->buy_off[w + 1]; b++) {
        const gl_purchase *p = &g->purchases[g->buy_idx[b]];
        if (!counts(c, p))
            continue;
        n++;
        if (p->beneficiary != GL_NODE_NONE && p->beneficiary != w) {
            benef++;
            if (!sb && !(sb = add_signal(c, GL_SIG_BENEFICIARY_OTHER, 0.8f, p->beneficiary, 0)))
                return GL_ENOMEM;
            add_ev(sb, p->pos, 1);
        } else if (p->buyer != GL_NODE_NONE && p->buyer != w && p->kind != GL_EVENT_TRANSFER) {
            booked++;
            if (!sk && !(sk = add_signal(c, GL_SIG_BOOKED_TO_OTHER, 0.8f, p->buyer, 0)))
                return GL_ENOMEM;
            add_ev(sk, p->pos, 1);
        }
    }
    if (sb)
        sb->measure = n ? (double)benef / (double)n : 0;
    if (sk)
        sk->measure = n ? (double)booked / (double)n : 0;
    /* add_signal may move the signals array: work from copies below */
    gl_signal cb = sb ? *sb : (gl_signal){0}, ck = sk ? *sk : (gl_signal){0};
    bool has_b = sb != NULL, has_k = sk != NULL;
    if (has_b && n && benef == n) {
        gl_signal *so = add_signal(c, GL_SIG_ONLY_FOR_OTHERS, 0.6f, cb.other, (double)n);
        if (!so)
            return GL_ENOMEM;
        so->n_evidence = cb.n_evidence;
        memcpy(so->ev, cb.ev, sizeof so->ev);
    }
    /* Money booked to another (the buyer role) is that other's money: a
     * deposit it funded.  That is the funding side of the same purchases. */
    if (has_k) {
        gl_signal *sd = add_signal(c, GL_SIG_DEPOSIT_BY_OTHER, 0.7f, ck.other, ck.measure);
        if (!sd)
            return GL_ENOMEM;
        for (size_t k = g->dep_off[ck.other]; k < g->dep_off[ck.other + 1]; k++) {
            const gl_deposit *d = &g->deposits[g->dep_idx[k]];
            if (d->payer == w || d->tx_from == ck.other)
                add_ev(sd, d->pos, 1);
        }
        if (!sd->n_evidence) {
            sd->n_evidence = ck.n_evidence;
            memcpy(sd->ev, ck.ev, sizeof sd->ev);
        }
    }
    return GL_OK;
}

/* Deposits held by w but sent by someone else (Livepeer's
 * fundDepositAndReserveFor). */
static gl_code sig_deposits(ctx *c, uint32_t w)
{
    const gl_graph *g = c->g;
    for (size_t k = g->dep_off[w]; k < g->dep_off[w + 1]; k++) {
        const gl_deposit *d = &g->deposits[g->dep_idx[k]];
        if (d->tx_from == GL_NODE_NONE || d->tx_from == w)
            continue;
        if (d->payer != GL_NODE_NONE && d->payer != d->tx_from && d->payer != w)
            continue; /* Golem: the spender is named; booked_to_other covers it */
        if (g->buy_off[w] == g->buy_off[w + 1])
            continue;
        gl_signal *s1 = add_signal(c, GL_SIG_DEPOSIT_BY_OTHER, 0.7f, d->tx_from, 1);
        gl_signal *s2 = s1 ? add_signal(c, GL_SIG_SENDER_NOT_BUYER, 0.7f, d->tx_from, 1) : NULL;
        if (!s2)
            return GL_ENOMEM;
        add_ev(s1, d->pos, 1);
        add_ev(s2, d->pos, 1);
    }
    return GL_OK;
}

/* Lifecycle: fresh burner; conduit. */
static gl_code sig_lifecycle(ctx *c, uint32_t w)
{
    const gl_graph *g = c->g;
    const gl_analysis_params *P = &c->a->params;
    uint64_t first_buy = 0;
    for (size_t b = g->buy_off[w]; b < g->buy_off[w + 1]; b++) {
        const gl_purchase *p = &g->purchases[g->buy_idx[b]];
        if (counts(c, p) && p->time) {
            first_buy = p->time;
            break;
        }
    }
    if (!first_buy)
        return GL_OK;
    /* fresh burner: every transfer in before the first purchase comes from
     * one third party, none from a service, and the first is recent */
    uint32_t src = GL_NODE_NONE;
    bool one = true, any = false;
    const gl_edge *fe = NULL;
    for (size_t k = g->in_off[w]; k < g->in_off[w + 1]; k++) {
        const gl_edge *e = &g->edges[g->in_idx[k]];
        if (e->time > first_buy)
            break;
        if (g->nodes[e->src].flags & (GL_NODE_PLATFORM | GL_NODE_ZERO))
            continue;
        if (!fe)
            fe = e;
        any = true;
        if (!third_party(c, e->src, w))
            one = false;
        else if (src == GL_NODE_NONE)
            src = e->src;
        else if (src != e->src)
            one = false;
    }
    if (any && one && src != GL_NODE_NONE && fe && first_buy - fe->time <= P->fresh_s) {
        gl_signal *s = add_signal(c, GL_SIG_FRESH_BURNER, 0.7f, src, (double)(first_buy - fe->time));
        if (!s)
            return GL_ENOMEM;
        add_ev(s, fe->pos, 0);
    }
    /* conduit: per token w bought with, third-party money in (any time)
     * against spending */
    for (size_t tb = g->buy_off[w]; tb < g->buy_off[w + 1]; tb++) {
        uint16_t tk = g->purchases[g->buy_idx[tb]].token;
        bool done = false;
        for (size_t q = g->buy_off[w]; q < tb && !done; q++)
            done = g->purchases[g->buy_idx[q]].token == tk;
        if (done)
            continue;
        gl_amt spent = 0, got = 0;
        const gl_purchase *lastp = NULL;
        for (size_t b = g->buy_off[w]; b < g->buy_off[w + 1]; b++) {
            const gl_purchase *p = &g->purchases[g->buy_idx[b]];
            if (p->token == tk && counts(c, p)) {
                spent += p->amt;
                lastp = p;
            }
        }
        if (!spent)
            continue;
        uint32_t who = GL_NODE_NONE;
        const gl_edge *le = NULL;
        for (size_t k = g->in_off[w]; k < g->in_off[w + 1]; k++) {
            const gl_edge *e = &g->edges[g->in_idx[k]];
            if (e->token == tk && third_party(c, e->src, w)) {
                got += e->amount;
                who = e->src;
                le = e;
            }
        }
        double r = (double)got / (double)spent;
        if (le && r >= P->passthrough_share && r <= P->passthrough_max) {
            gl_signal *s = add_signal(c, GL_SIG_CONDUIT, 0.6f, who, r);
            if (!s)
                return GL_ENOMEM;
            add_ev(s, le->pos, 0);
            add_ev(s, lastp->pos, 1);
        }
    }
    return GL_OK;
}

/* Settlement: a third party pays the wallet back after a purchase. */
static gl_code sig_settlement(ctx *c, uint32_t w)
{
    const gl_graph *g = c->g;
    const gl_analysis_params *P = &c->a->params;
    for (size_t b = g->buy_off[w]; b < g->buy_off[w + 1]; b++) {
        const gl_purchase *p = &g->purchases[g->buy_idx[b]];
        if (!counts(c, p) || !p->amt)
            continue;
        for (size_t k = g->in_off[w]; k < g->in_off[w + 1]; k++) {
            const gl_edge *e = &g->edges[g->in_idx[k]];
            if (e->token != p->token || e->time <= p->time || e->time - p->time > P->settle_window_s ||
                !third_party(c, e->src, w))
                continue;
            double r = (double)e->amount / (double)p->amt;
            if (r < P->settle_min || r > P->settle_max)
                continue;
            gl_signal *s = add_signal(c, GL_SIG_REPAID, 0.8f, e->src, r);
            if (!s)
                return GL_ENOMEM;
            add_ev(s, p->pos, 1);
            add_ev(s, e->pos, 0);
        }
    }
    return GL_OK;
}

/* Coordination, prepared for every purchase at once: leases with a known
 * model that count (not self-dealing), sorted by (buyer entity, model,
 * time); in each run of one entity and model, a two-pointer window of
 * split_window_s gives the parts around each lease, and the nearest lease
 * by another wallet on either side (found through prev/next "other actor"
 * links, so a wallet with many leases costs nothing extra). */
static int split_cmp(const void *x, const void *y, void *arg)
{
    const ctx *c = arg;
    const gl_purchase *p = &c->g->purchases[*(const uint32_t *)x];
    const gl_purchase *q = &c->g->purchases[*(const uint32_t *)y];
    uint32_t ep = c->a->entity[p->actor], eq = c->a->entity[q->actor];
    if (ep != eq)
        return ep < eq ? -1 : 1;
    if (p->gpu_model != q->gpu_model)
        return p->gpu_model < q->gpu_model ? -1 : 1;
    if (p->time != q->time)
        return p->time < q->time ? -1 : 1;
    return *(const uint32_t *)x < *(const uint32_t *)y ? -1 : 1;
}

static gl_code split_prepare(ctx *c)
{
    const gl_graph *g = c->g;
    const gl_analysis *a = c->a;
    size_t n = 0;
    uint32_t *ord = malloc((g->n_purchases + 1) * sizeof *ord);
    uint32_t *prevd = malloc((g->n_purchases + 1) * sizeof *prevd);
    uint32_t *nextd = malloc((g->n_purchases + 1) * sizeof *nextd);
    c->split_parts = calloc(g->n_purchases + 1, sizeof *c->split_parts);
    c->split_other = malloc((g->n_purchases + 1) * sizeof *c->split_other);
    if (!ord || !prevd || !nextd || !c->split_parts || !c->split_other) {
        free(ord);
        free(prevd);
        free(nextd);
        return gl_err_set(c->err, GL_ENOMEM, "out of memory finding split orders");
    }
    for (size_t i = 0; i < g->n_purchases; i++) {
        const gl_purchase *p = &g->purchases[i];
        c->split_other[i] = UINT32_MAX;
        if (p->gpu_model >= 0 && p->kind == GL_EVENT_LEASE && counts(c, p) && !(a->hub[p->actor] & 15))
            ord[n++] = (uint32_t)i;
    }
    if (n)
        qsort_r(ord, n, sizeof *ord, split_cmp, c);
#define SAME_RUN(x, y)                                                                                              \
    (a->entity[g->purchases[ord[x]].actor] == a->entity[g->purchases[ord[y]].actor] &&                             \
     g->purchases[ord[x]].gpu_model == g->purchases[ord[y]].gpu_model)
    for (size_t k = 0; k < n; k++) {
        prevd[k] = UINT32_MAX;
        if (k && SAME_RUN(k - 1, k))
            prevd[k] = g->purchases[ord[k - 1]].actor != g->purchases[ord[k]].actor ? (uint32_t)(k - 1) : prevd[k - 1];
    }
    for (size_t k = n; k-- > 0;) {
        nextd[k] = UINT32_MAX;
        if (k + 1 < n && SAME_RUN(k, k + 1))
            nextd[k] = g->purchases[ord[k + 1]].actor != g->purchases[ord[k]].actor ? (uint32_t)(k + 1) : nextd[k + 1];
    }
    uint64_t win = a->params.split_window_s;
    size_t lo = 0, hi = 0;
    for (size_t k = 0; k < n; k++) {
        uint64_t t = g->purchases[ord[k]].time;
        if (lo > k || !SAME_RUN(lo, k))
            lo = k;
        while (lo < k && t - g->purchases[ord[lo]].time > win)
            lo++;
        if (hi < k)
            hi = k;
        while (hi + 1 < n && SAME_RUN(k, hi + 1) && g->purchases[ord[hi + 1]].time - t <= win)
            hi++;
        uint32_t best = UINT32_MAX;
        if (prevd[k] != UINT32_MAX && t - g->purchases[ord[prevd[k]]].time <= win)
            best = prevd[k];
        if (nextd[k] != UINT32_MAX && g->purchases[ord[nextd[k]]].time - t <= win &&
            (best == UINT32_MAX || g->purchases[ord[nextd[k]]].time - t < t - g->purchases[ord[best]].time))
            best = nextd[k];
        if (best != UINT32_MAX) {
            c->split_other[ord[k]] = ord[best];
            c->split_parts[ord[k]] = (uint32_t)(hi - lo + 1);
        }
    }
#undef SAME_RUN
    free(ord);
    free(prevd);
    free(nextd);
    return GL_OK;
}

/* Coordination: another wallet of w's entity leases the same GPU model
 * within the split window (prepared by split_prepare). */
static gl_code sig_split(ctx *c, uint32_t w)
{
    const gl_graph *g = c->g;
    gl_signal *s = NULL;
    for (size_t b = g->buy_off[w]; b < g->buy_off[w + 1]; b++) {
        uint32_t i = g->buy_idx[b];
        if (c->split_other[i] == UINT32_MAX)
            continue;
        const gl_purchase *q = &g->purchases[c->split_other[i]];
        if (!s && !(s = add_signal(c, GL_SIG_SPLIT_ORDER, 0.7f, q->actor, 0)))
            return GL_ENOMEM;
        add_ev(s, q->pos, 1);
        add_ev(s, g->purchases[i].pos, 1);
        if (c->split_parts[i] > s->measure)
            s->measure = c->split_parts[i];
    }
    return GL_OK;
}

/* Lifecycle: the wallet's whole life (first to last transfer or event) fits
 * in fresh_s, and it ended long before the data does (it went quiet, not
 * merely started late). */
static gl_code sig_short_life(ctx *c, uint32_t w, uint64_t data_end)
{
    const gl_node *n = &c->g->nodes[w];
    uint64_t span = c->a->params.fresh_s;
    if (!n->first_time || n->last_time - n->first_time > span || n->last_time + span > data_end)
        return GL_OK;
    if (!add_signal(c, GL_SIG_SHORT_LIFE, 0.5f, GL_NODE_NONE, (double)(n->last_time - n->first_time)))
        return GL_ENOMEM;
    return GL_OK;
}

/* Coordination: w pays into an exchange deposit address that another
 * buying wallet also pays into (one customer account behind several
 * buying wallets). */
static gl_code sig_shared_deposit(ctx *c, uint32_t w)
{
    const gl_graph *g = c->g;
    const gl_analysis *a = c->a;
    for (size_t k = g->out_off[w]; k < g->out_off[w + 1]; k++) {
        const gl_edge *e = &g->edges[g->out_idx[k]];
        if (!(a->hub[e->dst] & 8))
            continue;
        for (size_t j = g->in_off[e->dst]; j < g->in_off[e->dst + 1]; j++) {
            const gl_edge *f = &g->edges[g->in_idx[j]];
            if (f->src == w || (a->hub[f->src] & 15) || g->buy_off[f->src] == g->buy_off[f->src + 1])
                continue;
            gl_signal *s = add_signal(c, GL_SIG_SHARED_DEPOSIT, 0.5f, f->src, 1);
            if (!s)
                return GL_ENOMEM;
            add_ev(s, e->pos, 0);
            add_ev(s, f->pos, 0);
            return GL_OK;
        }
    }
    return GL_OK;
}

static gl_code sig_context(ctx *c, uint32_t w, const uint8_t *near_sanctioned)
{
    const gl_graph *g = c->g;
    for (size_t b = g->buy_off[w]; b < g->buy_off[w + 1]; b++) {
        const gl_purchase *p = &g->purchases[g->buy_idx[b]];
        if (p->gpu_model >= 0 && controlled_model(g->models[p->gpu_model])) {
            gl_signal *s = add_signal(c, GL_SIG_CONTROLLED_GPU, 0.0f, GL_NODE_NONE, 0);
            if (!s)
                return GL_ENOMEM;
            s->measure += (double)p->gpu_mhours / 1000.0;
            add_ev(s, p->pos, 1);
        }
    }
    if (near_sanctioned[w]) {
        gl_signal *s = add_signal(c, GL_SIG_SANCTIONED_EXPOSURE, 0.0f, GL_NODE_NONE, near_sanctioned[w] - 1);
        if (!s)
            return GL_ENOMEM;
    }
    return GL_OK;
}

/* The typology the signals point to, and who the money leads to. */
static void guess(gl_wallet_score *w)
{
    const gl_signal *by[GL_SIG_COUNT] = {0};
    for (uint32_t i = 0; i < w->n_signals; i++)
        if (w->signals[i].value > 0)
            by[w->signals[i].kind] = &w->signals[i];
    const gl_signal *pick = NULL;
    gl_typology t = GL_TYP_NONE;
    if (by[GL_SIG_BOOKED_TO_OTHER])
        t = GL_TYP_GOLEM_DEPOSIT, pick = by[GL_SIG_BOOKED_TO_OTHER];
    else if (by[GL_SIG_SENDER_NOT_BUYER])
        t = GL_TYP_LIVEPEER_THIRD_PARTY, pick = by[GL_SIG_SENDER_NOT_BUYER];
    else if (by[GL_SIG_BENEFICIARY_OTHER])
        t = GL_TYP_LEASE_FOR, pick = by[GL_SIG_BENEFICIARY_OTHER];
    else if (by[GL_SIG_REPAID])
        t = GL_TYP_REIMBURSED, pick = by[GL_SIG_REPAID];
    else if (by[GL_SIG_SPLIT_ORDER])
        t = GL_TYP_SPLIT_ORDER, pick = by[GL_SIG_THIRD_PARTY_FUNDING] ? by[GL_SIG_THIRD_PARTY_FUNDING] : by[GL_SIG_FRESH_BURNER];
    else if (by[GL_SIG_SPONSOR] || by[GL_SIG_FRESH_BURNER])
        t = GL_TYP_SPONSOR_FANOUT, pick = by[GL_SIG_SPONSOR] ? by[GL_SIG_SPONSOR] : by[GL_SIG_FRESH_BURNER];
    else if (by[GL_SIG_THIRD_PARTY_FUNDING] || by[GL_SIG_CONDUIT])
        t = GL_TYP_PASS_THROUGH, pick = by[GL_SIG_THIRD_PARTY_FUNDING] ? by[GL_SIG_THIRD_PARTY_FUNDING] : by[GL_SIG_CONDUIT];
    w->typology = (uint8_t)t;
    w->beneficiary = pick ? pick->other : GL_NODE_NONE;
}

/* Within two hops (either direction, not through services) of a node
 * labelled sanctioned: 1 + hops, 0 when not. */
static gl_code sanctioned_reach(const gl_analysis *a, const gl_graph *g, uint8_t *near, gl_err *err)
{
    uint32_t *q = malloc((g->n_nodes + 1) * sizeof *q);
    if (!q)
        return gl_err_set(err, GL_ENOMEM, "out of memory");
    size_t head = 0, tail = 0;
    for (uint32_t v = 0; v < g->n_nodes; v++)
        if (g->nodes[v].flags & GL_NODE_SANCTIONED) {
            near[v] = 1;
            q[tail++] = v;
        }
    while (head < tail) {
        uint32_t v = q[head++];
        if (near[v] >= 3 || (v != q[0] && (a->hub[v] & 15) && near[v] > 1))
            continue;
        for (int dir = 0; dir < 2; dir++) {
            const size_t *off = dir ? g->in_off : g->out_off;
            const uint32_t *idx = dir ? g->in_idx : g->out_idx;
            for (size_t k = off[v]; k < off[v + 1]; k++) {
                const gl_edge *e = &g->edges[idx[k]];
                uint32_t u = dir ? e->src : e->dst;
                if (!near[u]) {
                    near[u] = (uint8_t)(near[v] + 1);
                    q[tail++] = u;
                }
            }
        }
    }
    free(q);
    return GL_OK;
}

gl_code gl_analysis_score(gl_analysis *a, const gl_graph *g, gl_err *err)
{
    const gl_analysis_params *P = &a->params;
    uint32_t *funded = calloc(g->n_nodes + 1, sizeof *funded);
    uint8_t *near = calloc(g->n_nodes + 1, 1);
    size_t nbuyers = 0;
    for (uint32_t v = 0; v < g->n_nodes; v++)
        nbuyers += g->buy_off[v] != g->buy_off[v + 1] && !(a->hub[v] & 15);
    a->scores = calloc(nbuyers + 1, sizeof *a->scores);
    if (!funded || !near || !a->scores) {
        free(funded);
        free(near);
        return gl_err_set(err, GL_ENOMEM, "out of memory scoring wallets");
    }
    gl_code rc = sanctioned_reach(a, g, near, err);
    ctx c = {.a = a, .g = g, .err = err};
    rc = rc ? rc : money_sccs(&c);
    rc = rc ? rc : split_prepare(&c);
    /* Sponsors: how many distinct buying wallets each address funded within
     * the window before one of their purchases. */
    uint32_t *last_counted = malloc((g->n_nodes + 1) * sizeof *last_counted);
    if (!last_counted)
        rc = gl_err_set(err, GL_ENOMEM, "out of memory");
    for (uint32_t v = 0; !rc && v < g->n_nodes; v++)
        last_counted[v] = UINT32_MAX;
    for (uint32_t w = 0; !rc && w < g->n_nodes; w++) {
        if (g->buy_off[w] == g->buy_off[w + 1] || (a->hub[w] & 15))
            continue;
        for (size_t b = g->buy_off[w]; b < g->buy_off[w + 1]; b++) {
            const gl_purchase *p = &g->purchases[g->buy_idx[b]];
            if (!counts(&c, p))
                continue;
            for (size_t k = g->in_off[w]; k < g->in_off[w + 1]; k++) {
                const gl_edge *e = &g->edges[g->in_idx[k]];
                if (e->time > p->time || p->time - e->time > P->fund_window_s || e->token != p->token ||
                    !third_party(&c, e->src, w) || last_counted[e->src] == w)
                    continue;
                last_counted[e->src] = w;
                funded[e->src]++;
            }
        }
    }
    free(last_counted);
    /* Two levels: each funder's own first funder (a sponsor passing money
     * through an intermediate wallet), credited with the wallets that
     * funder reached.  A wallet reached through two intermediates of one
     * sponsor counts twice (documented in METHODS.md). */
    uint32_t *upstream = malloc((g->n_nodes + 1) * sizeof *upstream);
    uint32_t *funded2 = calloc(g->n_nodes + 1, sizeof *funded2);
    if (!rc && (!upstream || !funded2))
        rc = gl_err_set(err, GL_ENOMEM, "out of memory");
    for (uint32_t f = 0; !rc && f < g->n_nodes; f++) {
        upstream[f] = GL_NODE_NONE;
        if (!funded[f])
            continue;
        for (size_t k = g->in_off[f]; k < g->in_off[f + 1]; k++) {
            uint32_t s = g->edges[g->in_idx[k]].src;
            if (s != f && !(a->hub[s] & 15) && !(g->nodes[s].flags & (GL_NODE_PLATFORM | GL_NODE_ZERO))) {
                upstream[f] = s;
                break;
            }
            if (a->hub[s] & 15)
                break; /* funded by a service first: its own money */
        }
        if (upstream[f] != GL_NODE_NONE)
            funded2[upstream[f]] += funded[f];
    }
    /* The data's last moment: a wallet quiet long before it went quiet. */
    uint64_t data_end = 0;
    for (size_t i = 0; i < g->n_edges; i++)
        if (g->edges[i].time > data_end)
            data_end = g->edges[i].time;
    for (size_t i = 0; i < g->n_purchases; i++)
        if (g->purchases[i].time > data_end)
            data_end = g->purchases[i].time;
    for (uint32_t w = 0; !rc && w < g->n_nodes; w++) {
        if (g->buy_off[w] == g->buy_off[w + 1] || (a->hub[w] & 15))
            continue;
        gl_wallet_score *ws = &a->scores[a->n_scores++];
        ws->node = w;
        ws->beneficiary = GL_NODE_NONE;
        c.ws = ws;
        ws->signals = c.scratch;
        rc = sig_funding(&c, w, funded, funded2, upstream);
        rc = rc ? rc : sig_identity(&c, w);
        rc = rc ? rc : sig_deposits(&c, w);
        rc = rc ? rc : sig_lifecycle(&c, w);
        rc = rc ? rc : sig_settlement(&c, w);
        rc = rc ? rc : sig_split(&c, w);
        rc = rc ? rc : sig_short_life(&c, w, data_end);
        rc = rc ? rc : sig_shared_deposit(&c, w);
        rc = rc ? rc : sig_context(&c, w, near);
        if (rc) {
            ws->signals = NULL;
            ws->n_signals = 0;
            break;
        }
        ws->signals = NULL;
        if (ws->n_signals && !(ws->signals = malloc(ws->n_signals * sizeof *ws->signals))) {
            ws->n_signals = 0;
            rc = gl_err_set(err, GL_ENOMEM, "out of memory for signals");
            break;
        }
        if (ws->n_signals)
            memcpy(ws->signals, c.scratch, ws->n_signals * sizeof *ws->signals);
        float best[GL_FAM_COUNT] = {0};
        for (uint32_t i = 0; i < ws->n_signals; i++) {
            gl_family f = gl_signal_family((gl_signal_kind)ws->signals[i].kind);
            if (ws->signals[i].value > best[f])
                best[f] = ws->signals[i].value;
        }
        double keep = 1.0;
        uint32_t nf = 0;
        for (int f = 0; f < GL_FAM_CONTEXT; f++)
            if (best[f] > 0) {
                keep *= 1.0 - best[f];
                ws->families |= 1u << f;
                nf++;
            }
        ws->score = (float)(1.0 - keep);
        ws->flagged = nf >= P->flag_min_families && ws->score >= P->flag_min_score;
        guess(ws);
        if (ws->beneficiary != GL_NODE_NONE && ws->beneficiary == w)
            ws->beneficiary = GL_NODE_NONE;
    }
    free(funded);
    free(funded2);
    free(upstream);
    free(near);
    free(c.scc);
    free(c.scc_size);
    free(c.split_parts);
    free(c.split_other);
    return rc;
}
