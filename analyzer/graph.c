/* graph.c - read the store once into the analyzer's flat arrays (graph.h).
 *
 * One pass per family and chain: blocks (timestamps), txs (who sent what),
 * labels, events (purchases and deposits, by the kind their platform
 * definition gives them), transfers (edges).  Addresses are interned in an
 * open-addressing table keyed by a mix of their bytes (see addr_hash).
 * Then edges and purchases are sorted by time and CSR offsets built with
 * counting passes.
 */
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpuledger/graph.h"

/* ------------------------------------------------------------ interning */

typedef struct intern {
    uint32_t *slots; /* node id + 1, 0 = empty */
    size_t cap;      /* power of two */
} intern;

/* Addresses of real chains are hash outputs, but not every store's are
 * (benchmarks and tests count them up in their last bytes): mix both ends
 * through splitmix64's finaliser so the table's low bits are uniform. */
static uint64_t addr_hash(const uint8_t a[20])
{
    uint64_t x, y;
    memcpy(&x, a, 8);
    memcpy(&y, a + 12, 8);
    x ^= y * 0x9E3779B97F4A7C15ull;
    x ^= x >> 30;
    x *= 0xBF58476D1CE4E5B9ull;
    x ^= x >> 27;
    x *= 0x94D049BB133111EBull;
    x ^= x >> 31;
    return x;
}

typedef struct loader {
    gl_graph *g;
    intern tab;
    size_t cap_nodes, cap_edges, cap_purch, cap_dep;
    /* blocks: (chain index, number) -> timestamp, sorted */
    struct blk { uint64_t number; uint64_t time; uint16_t chain; } *blocks;
    size_t n_blocks, cap_blocks;
    /* inbound legs of batch payouts: a transfer-kind event whose `from` is
     * the tx's sender, in store order (chain index, block); see
     * drop_transfer_twins */
    struct leg { uint64_t block; uint32_t to; uint16_t chain, token; uint8_t tx[32]; } *legs;
    size_t n_legs, cap_legs;
    gl_err *err;
} loader;

static gl_code grow(void **p, size_t *cap, size_t need, size_t elem, gl_err *err)
{
    if (need <= *cap)
        return GL_OK;
    size_t nc = *cap ? *cap : 64;
    while (nc < need)
        nc *= 2;
    void *q = realloc(*p, nc * elem);
    if (!q)
        return gl_err_set(err, GL_ENOMEM, "out of memory loading the graph (%zu records)", need);
    *p = q;
    *cap = nc;
    return GL_OK;
}

static gl_code intern_rehash(loader *L)
{
    size_t nc = L->tab.cap ? L->tab.cap * 2 : 1024;
    uint32_t *s = calloc(nc, sizeof *s);
    if (!s)
        return gl_err_set(L->err, GL_ENOMEM, "out of memory interning addresses");
    for (uint32_t i = 0; i < L->g->n_nodes; i++) {
        size_t j = addr_hash(L->g->nodes[i].addr) & (nc - 1);
        while (s[j])
            j = (j + 1) & (nc - 1);
        s[j] = i + 1;
    }
    free(L->tab.slots);
    L->tab.slots = s;
    L->tab.cap = nc;
    return GL_OK;
}

static const uint8_t zero20[20];

/* The id of addr, added when new. */
static gl_code node_of(loader *L, const uint8_t addr[20], uint32_t *out)
{
    gl_graph *g = L->g;
    if ((size_t)(g->n_nodes + 1) * 2 > L->tab.cap && intern_rehash(L))
        return GL_ENOMEM;
    size_t j = addr_hash(addr) & (L->tab.cap - 1);
    while (L->tab.slots[j]) {
        uint32_t id = L->tab.slots[j] - 1;
        if (!memcmp(g->nodes[id].addr, addr, 20)) {
            *out = id;
            return GL_OK;
        }
        j = (j + 1) & (L->tab.cap - 1);
    }
    if (g->n_nodes == UINT32_MAX - 1)
        return gl_err_set(L->err, GL_ERANGE, "more than 2^32 addresses");
    if (grow((void **)&g->nodes, &L->cap_nodes, (size_t)g->n_nodes + 1, sizeof *g->nodes, L->err))
        return GL_ENOMEM;
    gl_node *n = &g->nodes[g->n_nodes];
    memset(n, 0, sizeof *n);
    memcpy(n->addr, addr, 20);
    n->label = -1;
    if (!memcmp(addr, zero20, 20))
        n->flags |= GL_NODE_ZERO;
    L->tab.slots[j] = g->n_nodes + 1;
    *out = g->n_nodes++;
    return GL_OK;
}

uint32_t gl_graph_find(const gl_graph *g, const uint8_t addr[20])
{
    /* Linear fallback keeps the graph free of the loader's table: callers
     * look up a handful of addresses (CLI arguments), never in a loop. */
    for (uint32_t i = 0; i < g->n_nodes; i++)
        if (!memcmp(g->nodes[i].addr, addr, 20))
            return i;
    return GL_NODE_NONE;
}

/* Index of a string in a small table (platforms, event names, models). */
static gl_code str_index(char ***tab, size_t *n, const char *s, uint16_t *out, gl_err *err)
{
    for (size_t i = 0; i < *n; i++)
        if (!strcmp((*tab)[i], s)) {
            *out = (uint16_t)i;
            return GL_OK;
        }
    if (*n >= UINT16_MAX)
        return gl_err_set(err, GL_ERANGE, "more than 65535 distinct names ('%.40s')", s);
    char **t = realloc(*tab, (*n + 1) * sizeof *t);
    if (!t)
        return gl_err_set(err, GL_ENOMEM, "out of memory");
    *tab = t;
    if (!(t[*n] = strdup(s)))
        return gl_err_set(err, GL_ENOMEM, "out of memory");
    *out = (uint16_t)(*n)++;
    return GL_OK;
}

static gl_code token_index(loader *L, const uint8_t addr[20], uint16_t *out)
{
    gl_graph *g = L->g;
    for (size_t i = 0; i < g->n_tokens; i++)
        if (!memcmp(g->tokens[i], addr, 20)) {
            *out = (uint16_t)i;
            return GL_OK;
        }
    if (g->n_tokens >= UINT16_MAX)
        return gl_err_set(L->err, GL_ERANGE, "more than 65535 tokens");
    uint8_t(*t)[20] = realloc(g->tokens, (g->n_tokens + 1) * sizeof *t);
    if (!t)
        return gl_err_set(L->err, GL_ENOMEM, "out of memory");
    g->tokens = t;
    memcpy(t[g->n_tokens], addr, 20);
    *out = (uint16_t)g->n_tokens++;
    return GL_OK;
}

gl_amt gl_amt_from_u256(const gl_u256 *a, bool *saturated)
{
    bool sat = a->w[2] || a->w[3];
    if (saturated)
        *saturated = sat;
    if (sat)
        return GL_AMT_MAX;
    return ((gl_amt)a->w[1] << 64) | a->w[0];
}

char *gl_addr_hex(const uint8_t addr[20], char out[43])
{
    static const char hx[] = "0123456789abcdef";
    out[0] = '0';
    out[1] = 'x';
    for (int i = 0; i < 20; i++) {
        out[2 + 2 * i] = hx[addr[i] >> 4];
        out[3 + 2 * i] = hx[addr[i] & 15];
    }
    out[42] = 0;
    return out;
}

gl_store_pos gl_graph_pos(const gl_graph *g, const gl_gpos *p)
{
    gl_store_pos s = {.chain_id = p->chain < g->n_chains ? g->chain_ids[p->chain] : 0,
                      .block = p->block,
                      .kind = (gl_store_pos_kind)p->kind,
                      .index = p->index,
                      .sub = p->sub};
    return s;
}

static uint64_t block_time(const loader *L, uint16_t chain, uint64_t number)
{
    size_t lo = 0, hi = L->n_blocks;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        const struct blk *b = &L->blocks[mid];
        if (b->chain < chain || (b->chain == chain && b->number < number))
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < L->n_blocks && L->blocks[lo].chain == chain && L->blocks[lo].number == number)
        return L->blocks[lo].time;
    return 0;
}

static void touch(gl_graph *g, uint32_t v, uint64_t t)
{
    if (v == GL_NODE_NONE || !t)
        return;
    gl_node *n = &g->nodes[v];
    if (!n->first_time || t < n->first_time)
        n->first_time = t;
    if (t > n->last_time)
        n->last_time = t;
}

/* --------------------------------------------------------------- chains */

static gl_code collect_chains(gl_store *s, gl_graph *g, gl_err *err)
{
    uint64_t *ids = NULL;
    size_t n = 0;
    if (gl_store_list_bindings(s, &ids, NULL, &n, err))
        return GL_EDB;
    gl_store_iter *it = gl_store_iter_cursors(s, err);
    if (!it) {
        free(ids);
        return GL_EDB;
    }
    gl_code rc = GL_OK;
    for (;;) {
        gl_store_cursor c;
        bool end;
        if ((rc = gl_store_next_cursor(it, &c, &end, err)) || end)
            break;
        uint64_t *t = realloc(ids, (n + 1) * sizeof *t);
        if (!t) {
            rc = gl_err_set(err, GL_ENOMEM, "out of memory");
            break;
        }
        ids = t;
        ids[n++] = c.chain_id;
    }
    gl_store_iter_free(it);
    if (rc) {
        free(ids);
        return rc;
    }
    /* Unique, ascending. */
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && ids[j - 1] > ids[j]; j--) {
            uint64_t x = ids[j];
            ids[j] = ids[j - 1];
            ids[j - 1] = x;
        }
    size_t u = 0;
    for (size_t i = 0; i < n; i++)
        if (!u || ids[u - 1] != ids[i])
            ids[u++] = ids[i];
    g->chain_ids = ids;
    g->n_chains = u;
    return GL_OK;
}

/* ------------------------------------------------------------- families */

static gl_code load_blocks(gl_store *s, loader *L, uint16_t ci)
{
    gl_store_iter *it = gl_store_iter_blocks(s, L->g->chain_ids[ci], 0, UINT64_MAX - 1, L->err);
    if (!it)
        return GL_EDB;
    gl_code rc;
    for (;;) {
        gl_store_block b;
        bool end;
        if ((rc = gl_store_next_block(it, &b, &end, L->err)) || end)
            break;
        if ((rc = grow((void **)&L->blocks, &L->cap_blocks, L->n_blocks + 1, sizeof *L->blocks, L->err)))
            break;
        L->blocks[L->n_blocks++] = (struct blk){b.number, b.timestamp, ci};
        L->g->n_store_blocks++;
    }
    gl_store_iter_free(it);
    return rc;
}

static gl_code load_labels(gl_store *s, loader *L)
{
    gl_graph *g = L->g;
    gl_store_iter *it = gl_store_iter_labels(s, NULL, L->err);
    if (!it)
        return GL_EDB;
    gl_code rc;
    size_t cap = 0;
    for (;;) {
        gl_store_label l;
        bool end;
        if ((rc = gl_store_next_label(it, &l, &end, L->err)) || end)
            break;
        g->n_store_labels++;
        uint32_t v;
        if ((rc = node_of(L, l.addr, &v)) ||
            (rc = grow((void **)&g->labels, &cap, g->n_labels + 1, sizeof *g->labels, L->err)))
            break;
        gl_label_ref *r = &g->labels[g->n_labels];
        memcpy(r->label, l.label, sizeof r->label);
        memcpy(r->category, l.category, sizeof r->category);
        memcpy(r->source, l.source, sizeof r->source);
        r->confidence = l.confidence;
        gl_node *n = &g->nodes[v];
        n->flags |= GL_NODE_LABELLED;
        if (!strcmp(l.category, "sanctioned"))
            n->flags |= GL_NODE_SANCTIONED;
        /* The most confident label names the node; sanctions always show. */
        if (n->label < 0 || l.confidence > g->labels[n->label].confidence ||
            !strcmp(l.category, "sanctioned"))
            n->label = (int32_t)g->n_labels;
        g->n_labels++;
    }
    gl_store_iter_free(it);
    return rc;
}

static gl_code role_node(loader *L, const gl_store_event *e, gl_store_role r, uint32_t *out)
{
    *out = GL_NODE_NONE;
    for (size_t i = 0; i < e->n_roles; i++)
        if (e->roles[i].role == r)
            return node_of(L, e->roles[i].addr, out);
    return GL_OK;
}

/* Purchases that a Golem-style definition records as plain token transfers
 * ("transfer" kind): paid out by a contract (the batch payer), so the
 * transfer's payer is not the tx's sender.  The inbound leg (requestor ->
 * batch payer) has payer == tx.from and is not a purchase, but is kept as
 * the proof of a batch; a payout without one, and a transfer in a tx that
 * also holds a payment event (a LockPayment payout's token leg), are
 * dropped later (see drop_transfer_twins). */
static bool transfer_is_purchase(uint32_t payer, uint32_t tx_from, uint32_t provider)
{
    return payer != GL_NODE_NONE && tx_from != GL_NODE_NONE && payer != tx_from &&
           provider != GL_NODE_NONE;
}

static gl_code load_events(gl_store *s, loader *L, uint16_t ci, gl_graph_def_fn defs, void *ctx)
{
    gl_graph *g = L->g;
    gl_store_iter *it = gl_store_iter_events(s, g->chain_ids[ci], 0, UINT64_MAX - 1, L->err);
    if (!it)
        return GL_EDB;
    gl_code rc;
    gl_store_event *e = malloc(sizeof *e);
    if (!e) {
        gl_store_iter_free(it);
        return gl_err_set(L->err, GL_ENOMEM, "out of memory");
    }
    const gl_platform *last_def = NULL;
    char last_name[GL_STORE_NAME_MAX] = "";
    for (;;) {
        bool end;
        if ((rc = gl_store_next_event(it, e, &end, L->err)) || end)
            break;
        g->n_store_events++;
        uint64_t t = block_time(L, ci, e->block);
        uint32_t contract;
        if ((rc = node_of(L, e->contract, &contract)))
            break;
        g->nodes[contract].flags |= GL_NODE_PLATFORM;
        touch(g, contract, t);
        if (!g->nodes[contract].platform) {
            uint16_t pi;
            if ((rc = str_index(&g->platforms, &g->n_platforms, e->platform, &pi, L->err)))
                break;
            g->nodes[contract].platform = (uint16_t)(pi + 1);
        }
        uint32_t ids[GL_STORE_EVENT_ROLES_MAX];
        for (size_t i = 0; i < e->n_roles && !rc; i++) {
            rc = node_of(L, e->roles[i].addr, &ids[i]);
            if (!rc) {
                touch(g, ids[i], t);
                if (e->roles[i].role == GL_STORE_ROLE_PROVIDER)
                    g->nodes[ids[i]].flags |= GL_NODE_PROVIDER;
            }
        }
        if (rc)
            break;
        if (strcmp(last_name, e->platform)) {
            last_def = defs ? defs(ctx, e->platform) : NULL;
            snprintf(last_name, sizeof last_name, "%s", e->platform);
        }
        const gl_event_map *map = last_def ? gl_platform_event_map(last_def, e->name) : NULL;
        if (!map) {
            g->n_unknown_kind++;
            continue;
        }
        uint32_t buyer, payer, benef, provider, tx_from = GL_NODE_NONE;
        if ((rc = role_node(L, e, GL_STORE_ROLE_BUYER, &buyer)) ||
            (rc = role_node(L, e, GL_STORE_ROLE_PAYER, &payer)) ||
            (rc = role_node(L, e, GL_STORE_ROLE_BENEFICIARY, &benef)) ||
            (rc = role_node(L, e, GL_STORE_ROLE_PROVIDER, &provider)) ||
            (e->has_tx_from && (rc = node_of(L, e->tx_from, &tx_from))))
            break;
        touch(g, tx_from, t);
        uint16_t token = 0, plat, evn;
        if ((e->has_token && (rc = token_index(L, e->token, &token))) ||
            (rc = str_index(&g->platforms, &g->n_platforms, e->platform, &plat, L->err)) ||
            (rc = str_index(&g->event_names, &g->n_event_names, e->name, &evn, L->err)))
            break;
        if (e->has_token) {
            uint32_t tn;
            if ((rc = node_of(L, e->token, &tn)))
                break;
            g->nodes[tn].flags |= GL_NODE_TOKEN;
        }
        gl_gpos pos = {.block = e->block, .index = e->log_index, .chain = ci, .kind = GL_STORE_POS_LOG};
        if (map->kind == GL_EVENT_TRANSFER && payer != GL_NODE_NONE && payer == tx_from && provider != GL_NODE_NONE) {
            if ((rc = grow((void **)&L->legs, &L->cap_legs, L->n_legs + 1, sizeof *L->legs, L->err)))
                break;
            struct leg *l = &L->legs[L->n_legs++];
            *l = (struct leg){.block = e->block, .to = provider, .chain = ci, .token = token};
            memcpy(l->tx, e->tx_hash, 32);
        }
        bool purchase = e->has_amount &&
                        (map->kind == GL_EVENT_LEASE || map->kind == GL_EVENT_EXTENSION ||
                         map->kind == GL_EVENT_PAYMENT ||
                         (map->kind == GL_EVENT_TRANSFER && transfer_is_purchase(payer, tx_from, provider)));
        if (purchase) {
            if ((rc = grow((void **)&g->purchases, &L->cap_purch, g->n_purchases + 1, sizeof *g->purchases, L->err)))
                break;
            gl_purchase *p = &g->purchases[g->n_purchases];
            memset(p, 0, sizeof *p);
            /* A transfer-kind purchase's payer is the paying contract; the
             * wallet whose money it is sent the tx (the definition's buyer). */
            p->actor = map->kind == GL_EVENT_TRANSFER ? (buyer != GL_NODE_NONE ? buyer : tx_from)
                                                      : (payer != GL_NODE_NONE ? payer : buyer);
            if (p->actor == GL_NODE_NONE)
                continue; /* nobody to hold it against; volume still counts it elsewhere */
            p->buyer = buyer;
            p->beneficiary = benef;
            p->provider = provider;
            p->payer = payer;
            p->tx_from = tx_from;
            p->contract = contract;
            p->time = t;
            p->amount = e->amount;
            p->amt = gl_amt_from_u256(&e->amount, NULL);
            p->token = token;
            p->platform = plat;
            p->kind = (uint16_t)map->kind;
            p->event = evn;
            p->gpu_model = -1;
            if (e->gpu_model[0]) {
                uint16_t mi;
                if ((rc = str_index(&g->models, &g->n_models, e->gpu_model, &mi, L->err)))
                    break;
                p->gpu_model = mi;
            }
            p->gpu_count = e->gpu_count;
            p->gpu_mhours = e->gpu_mhours;
            p->duration_s = e->duration_s;
            p->pos = pos;
            memcpy(p->tx_hash, e->tx_hash, 32);
            if (e->n_ids) {
                memcpy(p->lease_id, e->ids[0].value, 32);
                p->has_lease_id = true;
            }
            g->nodes[p->actor].flags |= GL_NODE_BUYER;
            g->n_purchases++;
        } else if (map->kind == GL_EVENT_DEPOSIT && buyer != GL_NODE_NONE &&
                   (e->has_amount || payer != GL_NODE_NONE)) {
            /* Golem's DepositCreated carries no amount: the funder and the
             * spender are what matters (amount zero). */
            if ((rc = grow((void **)&g->deposits, &L->cap_dep, g->n_deposits + 1, sizeof *g->deposits, L->err)))
                break;
            gl_deposit *d = &g->deposits[g->n_deposits++];
            memset(d, 0, sizeof *d);
            d->holder = buyer;
            d->payer = payer;
            d->tx_from = tx_from;
            d->time = t;
            if (e->has_amount)
                d->amount = e->amount;
            d->token = token;
            d->platform = plat;
            d->event = evn;
            d->pos = pos;
            memcpy(d->tx_hash, e->tx_hash, 32);
        }
    }
    free(e);
    gl_store_iter_free(it);
    return rc;
}

/* ------------------------------------------------------------ transfers
 *
 * Transfers are read by a thread of their own: it walks the store (the
 * transfers, and beside them the txs that carry them) and decodes, while
 * the loading thread interns addresses and builds edges.  At 10M
 * transfers these two halves cost about the same, and on one thread they
 * were most of the load.  They meet in a ring of RING chunks of CHUNK
 * records; the reader stops when the ring is full, so memory stays a few
 * MB whatever the store's size. */

/* What the loading thread needs of one stored transfer. */
typedef struct raw_xfer {
    uint8_t from[20], to[20], token[20];
    uint8_t tx_from[20];  /* the carrying tx's sender when it is not `from` */
    gl_amt amount;
    uint64_t block;
    uint32_t index, sub;
    uint16_t flags;       /* GL_EDGE_* */
    uint8_t kind;         /* gl_store_pos_kind */
    bool native;
    bool has_tx_from;
} raw_xfer;

#define CHUNK 8192
#define RING 4
#define PREFETCH_AHEAD 8
#define SCAN_READAHEAD (2u << 20)

/* The txs of one block, read beside the transfers: both families are in
 * block order, so a second iterator walks the txs in step and no tx is
 * held longer than its block.  Holding every tx (10M of them at 10M
 * transfers) and interning both ends of each cost a third of the load and
 * 320 MB; what the rules need of a transfer's tx is answered here, once. */
typedef struct tx_cursor {
    gl_store_iter *it;
    gl_store_tx next;   /* the lookahead record */
    bool have_next;     /* false at the end */
    struct txb { uint64_t h8; uint8_t from[20], to[20]; bool has_to; } *v;
    size_t n, cap;
    uint64_t block;     /* the block held in v (valid when held) */
    bool held;
} tx_cursor;

typedef struct xfer_reader {
    gl_store *s;
    uint64_t chain_id;
    tx_cursor c;
    gl_store_iter *it;
    /* what the reader counted (added to the graph once it is done) */
    uint64_t n_store_transfers, n_failed, n_store_txs;
    gl_err err;          /* the reader's own: the loading thread copies it */
    gl_code rc;
    /* the ring */
    pthread_mutex_t mu;
    pthread_cond_t can_put, can_take;
    raw_xfer *chunk[RING];
    size_t count[RING];
    size_t head, n_full;  /* next chunk to take; chunks filled and not taken */
    bool done, stop;
} xfer_reader;

static gl_code tx_advance(xfer_reader *r)
{
    bool end;
    gl_code rc = gl_store_next_tx(r->c.it, &r->c.next, &end, &r->err);
    r->c.have_next = !rc && !end;
    if (r->c.have_next)
        r->n_store_txs++;
    return rc;
}

/* Make the cursor hold the txs of block b (blocks only increase). */
static gl_code tx_block(xfer_reader *r, uint64_t b)
{
    tx_cursor *c = &r->c;
    if (c->held && c->block == b)
        return GL_OK;
    c->n = 0;
    c->block = b;
    c->held = true;
    gl_code rc = GL_OK;
    while (!rc && c->have_next && c->next.block < b)
        rc = tx_advance(r);
    while (!rc && c->have_next && c->next.block == b) {
        if ((rc = grow((void **)&c->v, &c->cap, c->n + 1, sizeof *c->v, &r->err)))
            break;
        struct txb *t = &c->v[c->n++];
        memcpy(&t->h8, c->next.hash, 8);
        memcpy(t->from, c->next.from, 20);
        memcpy(t->to, c->next.to, 20);
        t->has_to = c->next.has_to;
        rc = tx_advance(r);
    }
    return rc;
}

/* What a transfer's carrying tx says of it (GL_EDGE_TX_*), and the tx's
 * sender when it is not the transfer's source (an approved spender, a
 * relayer, whoever called the contract that moved the money: a node, so
 * it can be linked and looked up).  tx_hash selects the tx among its
 * block's. */
static gl_code edge_tx(xfer_reader *r, raw_xfer *x, const gl_store_transfer *t)
{
    gl_code rc = tx_block(r, t->pos.block);
    if (rc)
        return rc;
    uint64_t h8;
    memcpy(&h8, t->tx_hash, 8);
    for (size_t i = 0; i < r->c.n; i++) {
        const struct txb *tx = &r->c.v[i];
        if (tx->h8 != h8)
            continue;
        bool by_src = !memcmp(tx->from, t->from, 20);
        bool to_token = tx->has_to && !memcmp(tx->to, x->native ? zero20 : t->token, 20);
        x->flags |= GL_EDGE_TX_KNOWN | (by_src ? GL_EDGE_TX_BY_SRC : 0) | (to_token ? GL_EDGE_TX_TO_TOKEN : 0);
        if (!by_src) {
            memcpy(x->tx_from, tx->from, 20);
            x->has_tx_from = true;
        }
        break;
    }
    return GL_OK;
}

/* Hand a full chunk over (waits while the ring is full); false when the
 * loading thread asked the reader to stop. */
static bool ring_put(xfer_reader *r, size_t slot_count)
{
    pthread_mutex_lock(&r->mu);
    r->count[(r->head + r->n_full) % RING] = slot_count;
    r->n_full++;
    pthread_cond_signal(&r->can_take);
    while (r->n_full == RING && !r->stop)
        pthread_cond_wait(&r->can_put, &r->mu);
    bool go = !r->stop;
    pthread_mutex_unlock(&r->mu);
    return go;
}

static void *reader_main(void *arg)
{
    xfer_reader *r = arg;
    gl_code rc = tx_advance(r);
    size_t n = 0;
    raw_xfer *chunk = r->chunk[0]; /* the slot after the full ones: the reader's own */
    size_t slot = 0;
    while (!rc) {
        gl_store_transfer t;
        bool end;
        if ((rc = gl_store_next_transfer(r->it, &t, &end, &r->err)) || end)
            break;
        r->n_store_transfers++;
        if (t.flags & GL_STORE_TX_FAILED) {
            r->n_failed++;
            continue;
        }
        if (t.asset == GL_STORE_ASSET_ERC721 || t.asset == GL_STORE_ASSET_ERC1155)
            continue; /* NFTs carry no price: not money */
        raw_xfer *x = &chunk[n];
        memcpy(x->from, t.from, 20);
        memcpy(x->to, t.to, 20);
        memcpy(x->token, t.token, 20);
        x->native = t.asset == GL_STORE_ASSET_NATIVE;
        bool sat;
        x->amount = gl_amt_from_u256(&t.amount, &sat);
        x->flags = (uint16_t)((sat ? GL_EDGE_SATURATED : 0) |
                              ((t.flags & GL_STORE_TX_SENDER_OK) ? 0 : GL_EDGE_UNVERIFIED));
        x->has_tx_from = false;
        x->block = t.pos.block;
        x->index = t.pos.index;
        x->sub = t.pos.sub;
        x->kind = (uint8_t)t.pos.kind;
        if ((rc = edge_tx(r, x, &t)))
            break;
        if (++n == CHUNK) {
            if (!ring_put(r, n))
                break;
            n = 0;
            slot = (slot + 1) % RING;
            chunk = r->chunk[slot];
        }
    }
    /* The rest of the txs, counted for the stamp. */
    while (!rc && r->c.have_next && !r->stop)
        rc = tx_advance(r);
    pthread_mutex_lock(&r->mu);
    if (n && !rc && !r->stop) {
        r->count[(r->head + r->n_full) % RING] = n;
        r->n_full++;
    }
    r->rc = rc;
    r->done = true;
    pthread_cond_signal(&r->can_take);
    pthread_mutex_unlock(&r->mu);
    return NULL;
}

/* One raw transfer into an edge (the loading thread). */
static gl_code add_edge(loader *L, uint16_t ci, const raw_xfer *x, uint8_t last_token[20], uint16_t *last_ti,
                        uint32_t *last_tn)
{
    gl_graph *g = L->g;
    gl_code rc = grow((void **)&g->edges, &L->cap_edges, g->n_edges + 1, sizeof *g->edges, L->err);
    if (rc)
        return rc;
    gl_edge *e = &g->edges[g->n_edges];
    memset(e, 0, sizeof *e);
    e->tx_from = GL_NODE_NONE;
    if ((rc = node_of(L, x->from, &e->src)) || (rc = node_of(L, x->to, &e->dst)))
        return rc;
    if (!x->native) {
        /* The last token seen, with its index and node: a run of one
         * token's transfers then costs no lookup. */
        if (*last_tn == GL_NODE_NONE || memcmp(last_token, x->token, 20)) {
            if ((rc = token_index(L, x->token, last_ti)) || (rc = node_of(L, x->token, last_tn)))
                return rc;
            memcpy(last_token, x->token, 20);
            g->nodes[*last_tn].flags |= GL_NODE_TOKEN;
        }
        e->token = *last_ti;
    }
    if (x->has_tx_from && (rc = node_of(L, x->tx_from, &e->tx_from)))
        return rc;
    e->amount = x->amount;
    e->flags = x->flags;
    e->time = block_time(L, ci, x->block);
    if (!e->time)
        g->n_untimed_edges++;
    e->pos = (gl_gpos){.block = x->block, .index = x->index, .sub = x->sub, .chain = ci, .kind = x->kind};
    touch(g, e->src, e->time);
    touch(g, e->dst, e->time);
    g->n_edges++;
    return GL_OK;
}

static gl_code load_transfers(gl_store *s, loader *L, uint16_t ci)
{
    gl_graph *g = L->g;
    xfer_reader *r = calloc(1, sizeof *r);
    if (!r)
        return gl_err_set(L->err, GL_ENOMEM, "out of memory");
    gl_code rc = GL_OK;
    for (int i = 0; i < RING && !rc; i++)
        if (!(r->chunk[i] = malloc(CHUNK * sizeof **r->chunk)))
            rc = gl_err_set(L->err, GL_ENOMEM, "out of memory");
    r->s = s;
    r->chain_id = g->chain_ids[ci];
    if (!rc && !(r->c.it = gl_store_iter_txs(s, r->chain_id, 0, UINT64_MAX - 1, L->err)))
        rc = GL_EDB;
    if (!rc && !(r->it = gl_store_iter_transfers(s, r->chain_id, 0, UINT64_MAX - 1, L->err)))
        rc = GL_EDB;
    pthread_t th;
    bool started = false;
    if (!rc) {
        pthread_mutex_init(&r->mu, NULL);
        pthread_cond_init(&r->can_put, NULL);
        pthread_cond_init(&r->can_take, NULL);
        if (pthread_create(&th, NULL, reader_main, r))
            rc = gl_err_set(L->err, GL_ENOMEM, "cannot start the transfer reader thread");
        else
            started = true;
    }
    uint8_t last_token[20];
    uint16_t last_ti = 0;
    uint32_t last_tn = GL_NODE_NONE;
    while (started && !rc) {
        pthread_mutex_lock(&r->mu);
        while (!r->n_full && !r->done)
            pthread_cond_wait(&r->can_take, &r->mu);
        if (!r->n_full) { /* done, everything taken */
            pthread_mutex_unlock(&r->mu);
            break;
        }
        size_t slot = r->head, n = r->count[slot];
        pthread_mutex_unlock(&r->mu);
        for (size_t i = 0; i < n && !rc; i++) {
            /* The intern table is read at random: ask for the slots of a
             * transfer a few ahead while this one is added. */
            if (i + PREFETCH_AHEAD < n) {
                const raw_xfer *ahead = &r->chunk[slot][i + PREFETCH_AHEAD];
                __builtin_prefetch(&L->tab.slots[addr_hash(ahead->from) & (L->tab.cap - 1)]);
                __builtin_prefetch(&L->tab.slots[addr_hash(ahead->to) & (L->tab.cap - 1)]);
            }
            rc = add_edge(L, ci, &r->chunk[slot][i], last_token, &last_ti, &last_tn);
        }
        pthread_mutex_lock(&r->mu);
        r->head = (r->head + 1) % RING;
        r->n_full--;
        pthread_cond_signal(&r->can_put);
        pthread_mutex_unlock(&r->mu);
    }
    if (started) {
        pthread_mutex_lock(&r->mu);
        r->stop = true; /* after an error here: the reader gives up */
        pthread_cond_signal(&r->can_put);
        pthread_mutex_unlock(&r->mu);
        pthread_join(th, NULL);
        if (!rc && r->rc) {
            rc = r->rc;
            if (L->err)
                *L->err = r->err;
        }
        pthread_mutex_destroy(&r->mu);
        pthread_cond_destroy(&r->can_put);
        pthread_cond_destroy(&r->can_take);
    }
    g->n_store_transfers += r->n_store_transfers;
    g->n_failed_edges += r->n_failed;
    g->n_store_txs += r->n_store_txs;
    gl_store_iter_free(r->it);
    gl_store_iter_free(r->c.it);
    free(r->c.v);
    for (int i = 0; i < RING; i++)
        free(r->chunk[i]);
    free(r);
    return rc;
}

/* ---------------------------------------------------------------- sorting */

static int gpos_cmp(const gl_gpos *a, const gl_gpos *b)
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

static int edge_cmp(const void *x, const void *y)
{
    const gl_edge *a = x, *b = y;
    if (a->time != b->time)
        return a->time < b->time ? -1 : 1;
    return gpos_cmp(&a->pos, &b->pos);
}

static int purchase_cmp(const void *x, const void *y)
{
    const gl_purchase *a = x, *b = y;
    if (a->time != b->time)
        return a->time < b->time ? -1 : 1;
    return gpos_cmp(&a->pos, &b->pos);
}

/* CSR of `n` items keyed by key(i) in [0, nodes): off has nodes+1 entries. */
static gl_code csr(size_t **off_out, uint32_t **idx_out, uint32_t nodes, size_t n,
                   const void *items, size_t stride, size_t key_offset, gl_err *err)
{
    size_t *off = calloc((size_t)nodes + 1, sizeof *off);
    uint32_t *idx = malloc((n ? n : 1) * sizeof *idx);
    if (!off || !idx) {
        free(off);
        free(idx);
        return gl_err_set(err, GL_ENOMEM, "out of memory indexing %zu records", n);
    }
    const char *base = items;
    for (size_t i = 0; i < n; i++) {
        uint32_t k;
        memcpy(&k, base + i * stride + key_offset, sizeof k);
        off[k + 1]++;
    }
    for (uint32_t v = 0; v < nodes; v++)
        off[v + 1] += off[v];
    size_t *fill = malloc(((size_t)nodes + 1) * sizeof *fill);
    if (!fill) {
        free(off);
        free(idx);
        return gl_err_set(err, GL_ENOMEM, "out of memory indexing %zu records", n);
    }
    memcpy(fill, off, ((size_t)nodes + 1) * sizeof *fill);
    for (size_t i = 0; i < n; i++) {
        uint32_t k;
        memcpy(&k, base + i * stride + key_offset, sizeof k);
        idx[fill[k]++] = (uint32_t)i;
    }
    free(fill);
    *off_out = off;
    *idx_out = idx;
    return GL_OK;
}

gl_code gl_graph_counterparties(const gl_graph *g, const uint8_t *skip, uint32_t *deg, gl_err *err)
{
    uint32_t *stamp = malloc(((size_t)g->n_nodes + 1) * sizeof *stamp);
    if (!stamp)
        return gl_err_set(err, GL_ENOMEM, "out of memory counting degrees");
    for (uint32_t v = 0; v < g->n_nodes; v++)
        stamp[v] = UINT32_MAX;
    for (uint32_t v = 0; v < g->n_nodes; v++) {
        uint32_t d = 0;
        for (size_t i = g->out_off[v]; i < g->out_off[v + 1]; i++) {
            uint32_t w = g->edges[g->out_idx[i]].dst;
            if ((!skip || !skip[g->out_idx[i]]) && w != v && stamp[w] != v) {
                stamp[w] = v;
                d++;
            }
        }
        for (size_t i = g->in_off[v]; i < g->in_off[v + 1]; i++) {
            uint32_t w = g->edges[g->in_idx[i]].src;
            if ((!skip || !skip[g->in_idx[i]]) && w != v && stamp[w] != v) {
                stamp[w] = v;
                d++;
            }
        }
        deg[v] = d;
    }
    free(stamp);
    return GL_OK;
}

/* Every node's degree (gl_node.degree): all its counterparties. */
static gl_code degrees(gl_graph *g, gl_err *err)
{
    uint32_t *deg = malloc(((size_t)g->n_nodes + 1) * sizeof *deg);
    gl_code rc = deg ? gl_graph_counterparties(g, NULL, deg, err)
                     : gl_err_set(err, GL_ENOMEM, "out of memory counting degrees");
    for (uint32_t v = 0; !rc && v < g->n_nodes; v++)
        g->nodes[v].degree = deg[v];
    free(deg);
    return rc;
}

static bool sorted(const void *base, size_t n, size_t size, int (*cmp)(const void *, const void *))
{
    const char *p = base;
    for (size_t i = 1; i < n; i++)
        if (cmp(p + (i - 1) * size, p + i * size) > 0)
            return false;
    return true;
}

gl_code gl_graph_index(gl_graph *g, gl_err *err)
{
    if (g->n_edges > UINT32_MAX || g->n_purchases > UINT32_MAX)
        return gl_err_set(err, GL_ERANGE, "more than 2^32 transfers or purchases");
    /* The store yields records in block order, so they usually arrive
     * sorted: glibc's qsort is a merge sort that copies the whole array
     * (800 MB of edges at 10M transfers), so sort only what is not.  (A
     * non-NULL base is needed even for no items.) */
    if (g->n_edges && !sorted(g->edges, g->n_edges, sizeof *g->edges, edge_cmp))
        qsort(g->edges, g->n_edges, sizeof *g->edges, edge_cmp);
    if (g->n_purchases && !sorted(g->purchases, g->n_purchases, sizeof *g->purchases, purchase_cmp))
        qsort(g->purchases, g->n_purchases, sizeof *g->purchases, purchase_cmp);
    free(g->out_off); free(g->out_idx); free(g->in_off); free(g->in_idx);
    free(g->buy_off); free(g->buy_idx);
    free(g->dep_off); free(g->dep_idx);
    g->out_off = g->in_off = g->buy_off = g->dep_off = NULL;
    g->out_idx = g->in_idx = g->buy_idx = g->dep_idx = NULL;
    gl_code rc = csr(&g->out_off, &g->out_idx, g->n_nodes, g->n_edges, g->edges, sizeof *g->edges,
                     offsetof(gl_edge, src), err);
    rc = rc ? rc : csr(&g->in_off, &g->in_idx, g->n_nodes, g->n_edges, g->edges, sizeof *g->edges,
                       offsetof(gl_edge, dst), err);
    rc = rc ? rc : csr(&g->buy_off, &g->buy_idx, g->n_nodes, g->n_purchases, g->purchases,
                       sizeof *g->purchases, offsetof(gl_purchase, actor), err);
    rc = rc ? rc : csr(&g->dep_off, &g->dep_idx, g->n_nodes, g->n_deposits, g->deposits, sizeof *g->deposits,
                       offsetof(gl_deposit, holder), err);
    return rc ? rc : degrees(g, err);
}

/* Whether the tx of transfer purchase p also moved its token from the tx's
 * sender into p's paying contract: the batch payer's inbound leg. */
static bool has_inbound_leg(const loader *L, const gl_purchase *p)
{
    size_t lo = 0, hi = L->n_legs;
    while (lo < hi) { /* first leg at or after (chain, block) */
        size_t mid = lo + (hi - lo) / 2;
        const struct leg *m = &L->legs[mid];
        if (m->chain < p->pos.chain || (m->chain == p->pos.chain && m->block < p->pos.block))
            lo = mid + 1;
        else
            hi = mid;
    }
    for (size_t i = lo; i < L->n_legs && L->legs[i].chain == p->pos.chain && L->legs[i].block == p->pos.block; i++) {
        const struct leg *l = &L->legs[i];
        if (l->to == p->payer && l->token == p->token && !memcmp(l->tx, p->tx_hash, 32))
            return true;
    }
    return false;
}

/* A payout's token leg (a LockPayment's GLM Transfer) is the same money as
 * the payment event of its tx: keep the event, which names the funder.
 * And a transfer is no purchase when its `from` is the zero address (a
 * mint) or a contract that emits the platform's own events (LockPayment
 * returning a deposit or paying its fee: that contract says what it pays
 * for in its events, and its purchases are those), or when its tx did not
 * first move the token from the tx's sender into that contract: a batch
 * payer pays out what the requestor just paid in, while a bridge or an
 * exchange contract releasing tokens at a relayer's call is no one buying
 * compute (GLM is a general-purpose token: a bridge release to a Golem
 * buyer counted as his purchase from nobody on the seed-7 eval).  Called
 * before sorting, when purchases are in store order, so the events of one
 * tx sit in one block's run. */
static gl_code drop_transfer_twins(gl_graph *g, const loader *L, gl_err *err)
{
    bool *twin = calloc(g->n_purchases + 1, sizeof *twin);
    if (!twin)
        return gl_err_set(err, GL_ENOMEM, "out of memory");
    size_t run = 0;
    for (size_t i = 0; i < g->n_purchases; i++) {
        const gl_purchase *p = &g->purchases[i];
        if (p->pos.chain != g->purchases[run].pos.chain || p->pos.block != g->purchases[run].pos.block)
            run = i;
        if (p->kind != GL_EVENT_TRANSFER)
            continue;
        if (p->payer != GL_NODE_NONE &&
            (g->nodes[p->payer].flags & GL_NODE_ZERO ||
             (g->nodes[p->payer].flags & GL_NODE_PLATFORM))) {
            twin[i] = true;
            continue;
        }
        if (!has_inbound_leg(L, p)) {
            twin[i] = true;
            continue;
        }
        for (size_t j = run; j < g->n_purchases && !twin[i]; j++) {
            const gl_purchase *q = &g->purchases[j];
            if (q->pos.chain != p->pos.chain || q->pos.block != p->pos.block)
                break;
            twin[i] = q->kind != GL_EVENT_TRANSFER && !memcmp(q->tx_hash, p->tx_hash, 32);
        }
    }
    size_t w = 0;
    for (size_t i = 0; i < g->n_purchases; i++)
        if (!twin[i])
            g->purchases[w++] = g->purchases[i];
    g->n_purchases = w;
    free(twin);
    return GL_OK;
}

gl_graph *gl_graph_load(gl_store *s, gl_graph_def_fn defs, void *ctx, gl_err *err)
{
    gl_graph *g = calloc(1, sizeof *g);
    loader L = {.g = g, .err = err};
    if (!g) {
        gl_err_set(err, GL_ENOMEM, "out of memory");
        return NULL;
    }
    uint16_t native;
    gl_code rc = intern_rehash(&L);
    rc = rc ? rc : token_index(&L, zero20, &native);
    rc = rc ? rc : collect_chains(s, g, err);
    if (!rc && g->n_chains > UINT16_MAX)
        rc = gl_err_set(err, GL_ERANGE, "more than 65535 chains");
    /* Every family is walked once from end to end: read ahead in large
     * pieces and keep the block cache for what the commands read after. */
    gl_store_set_scan_readahead(s, SCAN_READAHEAD);
    for (uint16_t c = 0; !rc && c < g->n_chains; c++)
        rc = load_blocks(s, &L, c);
    rc = rc ? rc : load_labels(s, &L);
    for (uint16_t c = 0; !rc && c < g->n_chains; c++) {
        rc = load_events(s, &L, c, defs, ctx);
        rc = rc ? rc : load_transfers(s, &L, c);
    }
    gl_store_set_scan_readahead(s, 0);
    if (!rc) {
        rc = drop_transfer_twins(g, &L, err);
        rc = rc ? rc : gl_graph_index(g, err);
    }
    free(L.tab.slots);
    free(L.blocks);
    free(L.legs);
    if (rc) {
        gl_graph_free(g);
        return NULL;
    }
    return g;
}

static void free_strs(char **t, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(t[i]);
    free(t);
}

void gl_graph_free(gl_graph *g)
{
    if (!g)
        return;
    free(g->nodes);
    free(g->edges);
    free(g->out_off);
    free(g->in_off);
    free(g->out_idx);
    free(g->in_idx);
    free(g->purchases);
    free(g->buy_off);
    free(g->buy_idx);
    free(g->deposits);
    free(g->dep_off);
    free(g->dep_idx);
    free(g->chain_ids);
    free(g->tokens);
    free_strs(g->platforms, g->n_platforms);
    free_strs(g->event_names, g->n_event_names);
    free_strs(g->models, g->n_models);
    free(g->labels);
    free(g);
}
