/* test_analyzer.c - the analyzer (graph, hubs, link rules, entities, proxy
 * signals, results in the store, evaluation) on small stores built by hand.
 *
 * Each test writes a store of its own (blocks, txs, transfers, events,
 * labels), loads it with gl_graph_load, runs gl_analysis_run and checks the
 * result.  Oracles: every expected link, entity, signal, score, typology and
 * evidence position below was worked out by hand from the rules as their
 * comments in the analyzer sources (analyzer/) state them (the reasoning is written next to
 * each scenario); none was copied from the code's output.
 *
 * Conventions of the scenarios:
 *   - one chain, CHAIN; block n has timestamp T0 + 60 n (so 60 blocks is an
 *     hour, 120 the split window, 360 the sweep window);
 *   - native transfers sit at their tx's position (tx index), ERC-20
 *     transfers at a log position, with a tx record whose from/to say who
 *     sent it where;
 *   - the tx hash at (block, index) starts with be32(block) be32(index), so
 *     every tx of a store has its own hash and its own first 8 bytes;
 *   - amounts in wei (ETH = 1e18), purchases in the native coin unless said.
 */
#include <ftw.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "gpuledger/analysis.h"
#include "gpuledger/eval.h"
#include "gpuledger/graph.h"
#include "gpuledger/platform.h"
#include "gpuledger/results.h"
#include "gpuledger/store.h"

#define CHAIN 31337ull
#define T0 1700000000ull
#define BT(n) (T0 + 60ull * (uint64_t)(n))
#define ETH 1000000000000000000ull
#define METH 1000000000000000ull /* 0.001 ETH */

/* ------------------------------------------------------------- helpers */

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* Address number `id`: 0x11, id (2 bytes), then bytes derived from id. */
static const uint8_t *ad(unsigned id)
{
    static uint8_t tab[1024][20];
    assert_true(id > 0 && id < 1024);
    uint8_t *a = tab[id];
    a[0] = 0x11;
    a[1] = (uint8_t)(id >> 8);
    a[2] = (uint8_t)id;
    for (int i = 3; i < 20; i++)
        a[i] = (uint8_t)(id * 31u + (unsigned)i * 7u);
    return a;
}

static void tx_hash(uint8_t out[32], uint64_t block, uint32_t idx)
{
    memset(out, 0x5a, 32);
    gl_store_be32_put(out, (uint32_t)block);
    gl_store_be32_put(out + 4, idx);
    out[8] = 0xcc;
}

static const char *def_json =
    "{\"format\":\"gpuledger-platform/1\",\"name\":\"t-net\",\"platform\":\"test\",\"chain_id\":31337,"
    "\"contracts\":[{\"name\":\"Market\",\"address\":\"0x00000000000000000000000000000000000000aa\","
    " \"start_block\":1,\"abis\":[{\"from_block\":1,\"to_block\":null,\"events\":["
    "  \"event LeaseOpened(uint256 indexed leaseId, address indexed buyer, address indexed beneficiary,"
    " address provider, string gpuModel, uint256 amount, address token)\","
    "  \"event DepositFunded(address indexed sender, uint256 amount)\","
    "  \"event DepositTransfer(uint256 indexed id, address spender, address recipient, uint128 amount)\","
    "  \"event TicketRedeemed(address indexed sender, address indexed recipient, uint256 faceValue)\"]}]}],"
    "\"events\":{"
    " \"LeaseOpened\":{\"kind\":\"lease\",\"buyer\":\"buyer\",\"beneficiary\":\"beneficiary\","
    "  \"provider\":\"provider\",\"amount\":\"amount\",\"token\":\"token\",\"lease_id\":\"leaseId\","
    "  \"gpu_model\":\"gpuModel\"},"
    " \"DepositFunded\":{\"kind\":\"deposit\",\"buyer\":\"sender\",\"payer\":\"tx.from\",\"amount\":\"amount\","
    "  \"token\":\"native\"},"
    " \"DepositTransfer\":{\"kind\":\"payment\",\"buyer\":\"id>>96\",\"payer\":\"spender\","
    "  \"provider\":\"recipient\",\"amount\":\"amount\"},"
    " \"TicketRedeemed\":{\"kind\":\"payment\",\"buyer\":\"sender\",\"provider\":\"recipient\","
    "  \"amount\":\"faceValue\",\"token\":\"native\"}}}";

typedef struct fx {
    char dir[256];
    gl_store *s;
    gl_store_batch *b;
    gl_platform *def;
    gl_graph *g;
    gl_analysis *a;
    uint64_t max_block;
} fx;

/* "t-net" has the definition above; any other platform is unknown. */
static const gl_platform *defs_cb(void *ctx, const char *platform)
{
    fx *f = ctx;
    return !strcmp(platform, "t-net") ? f->def : NULL;
}

static fx *fx_new(void)
{
    fx *f = calloc(1, sizeof *f);
    assert_non_null(f);
    const char *base = getenv("TMPDIR");
    snprintf(f->dir, sizeof f->dir, "%s/gl_analyzer_XXXXXX", base && base[0] ? base : "/tmp");
    assert_non_null(mkdtemp(f->dir));
    gl_err err = {0};
    gl_store_open_opts o = {.create = true};
    f->s = gl_store_open(f->dir, &o, &err);
    if (!f->s)
        fail_msg("open: %s", err.msg);
    f->b = gl_store_batch_new(f->s, &err);
    assert_non_null(f->b);
    json_error_t je;
    json_t *root = json_loads(def_json, 0, &je);
    if (!root)
        fail_msg("definition JSON: %s", je.text);
    if (gl_platform_load_json(&f->def, root, "t-net.json", &err))
        fail_msg("definition: %s", err.msg);
    json_decref(root);
    return f;
}

static void fx_free(fx *f)
{
    gl_analysis_free(f->a);
    gl_graph_free(f->g);
    gl_store_batch_free(f->b);
    gl_store_close(f->s);
    gl_platform_free(f->def);
    nftw(f->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    free(f);
}

static void ok(gl_code rc, const gl_err *err)
{
    if (rc != GL_OK)
        fail_msg("code %d: %s", (int)rc, err->msg);
}

static void blk(fx *f, uint64_t n)
{
    gl_store_block b = {.chain_id = CHAIN, .number = n, .timestamp = BT(n), .verified = GL_STORE_BLOCK_HASH_OK};
    memset(b.hash, 0xb0, 32);
    gl_store_be64_put(b.hash, n);
    memset(b.parent_hash, 0xb0, 32);
    gl_store_be64_put(b.parent_hash, n - 1);
    gl_err err = {0};
    ok(gl_store_batch_put_block(f->b, &b, &err), &err);
    if (n > f->max_block)
        f->max_block = n;
}

static void put_tx(fx *f, uint64_t n, uint32_t idx, unsigned from, unsigned to, uint64_t value)
{
    blk(f, n);
    gl_store_tx t = {.chain_id = CHAIN, .block = n, .index = idx, .has_to = true,
                     .value = gl_u256_from_u64(value), .flags = GL_STORE_TX_SENDER_OK};
    tx_hash(t.hash, n, idx);
    memcpy(t.from, ad(from), 20);
    memcpy(t.to, ad(to), 20);
    gl_err err = {0};
    ok(gl_store_batch_put_tx(f->b, &t, &err), &err);
}

/* A native transfer: tx (n, idx) from -> to carrying `amount`. */
static void native(fx *f, uint64_t n, uint32_t idx, unsigned from, unsigned to, uint64_t amount)
{
    put_tx(f, n, idx, from, to, amount);
    gl_store_transfer t = {.pos = {.chain_id = CHAIN, .block = n, .kind = GL_STORE_POS_TX, .index = idx},
                           .asset = GL_STORE_ASSET_NATIVE, .amount = gl_u256_from_u64(amount),
                           .flags = GL_STORE_TX_SENDER_OK};
    memcpy(t.from, ad(from), 20);
    memcpy(t.to, ad(to), 20);
    tx_hash(t.tx_hash, n, idx);
    gl_err err = {0};
    ok(gl_store_batch_put_transfer(f->b, &t, &err), &err);
}

/* An ERC-20 transfer at log `log` of block n, in tx (n, txidx) sent by
 * txfrom to txto. */
static void erc20(fx *f, uint64_t n, uint32_t log, uint32_t txidx, unsigned token, unsigned from, unsigned to,
                  uint64_t amount, unsigned txfrom, unsigned txto)
{
    put_tx(f, n, txidx, txfrom, txto, 0);
    gl_store_transfer t = {.pos = {.chain_id = CHAIN, .block = n, .kind = GL_STORE_POS_LOG, .index = log},
                           .asset = GL_STORE_ASSET_ERC20, .amount = gl_u256_from_u64(amount),
                           .flags = GL_STORE_TX_SENDER_OK};
    memcpy(t.token, ad(token), 20);
    memcpy(t.from, ad(from), 20);
    memcpy(t.to, ad(to), 20);
    tx_hash(t.tx_hash, n, txidx);
    gl_err err = {0};
    ok(gl_store_batch_put_transfer(f->b, &t, &err), &err);
}

/* An internal (trace) native transfer: call `sub` of tx (n, idx). */
static void native_trace(fx *f, uint64_t n, uint32_t idx, uint32_t sub, unsigned from, unsigned to, uint64_t amount)
{
    gl_store_transfer t = {.pos = {.chain_id = CHAIN, .block = n, .kind = GL_STORE_POS_TRACE, .index = idx, .sub = sub},
                           .asset = GL_STORE_ASSET_NATIVE, .amount = gl_u256_from_u64(amount),
                           .flags = GL_STORE_TX_SENDER_OK};
    memcpy(t.from, ad(from), 20);
    memcpy(t.to, ad(to), 20);
    tx_hash(t.tx_hash, n, idx);
    gl_err err = {0};
    ok(gl_store_batch_put_transfer(f->b, &t, &err), &err);
}

static gl_store_event *ev_begin(uint64_t n, uint32_t log, uint32_t txidx, const char *platform, const char *name,
                                unsigned contract, unsigned txfrom)
{
    gl_store_event *e = calloc(1, sizeof *e);
    assert_non_null(e);
    e->chain_id = CHAIN;
    e->block = n;
    e->log_index = log;
    snprintf(e->platform, sizeof e->platform, "%s", platform);
    snprintf(e->name, sizeof e->name, "%s", name);
    memcpy(e->contract, ad(contract), 20);
    tx_hash(e->tx_hash, n, txidx);
    e->tx_index = txidx;
    e->has_tx_from = true;
    memcpy(e->tx_from, ad(txfrom), 20);
    e->verified = GL_STORE_EVENT_SENDER_OK;
    return e;
}

static void ev_role(gl_store_event *e, gl_store_role r, unsigned who)
{
    assert_true(e->n_roles < GL_STORE_EVENT_ROLES_MAX);
    e->roles[e->n_roles].role = r;
    memcpy(e->roles[e->n_roles].addr, ad(who), 20);
    e->n_roles++;
}

static void ev_amount(gl_store_event *e, uint64_t amount, unsigned token /* 0: native */)
{
    e->has_amount = true;
    e->amount = gl_u256_from_u64(amount);
    if (token) {
        e->has_token = true;
        memcpy(e->token, ad(token), 20);
    }
}

static void ev_put(fx *f, gl_store_event *e)
{
    blk(f, e->block);
    gl_err err = {0};
    ok(gl_store_batch_put_event(f->b, e, &err), &err);
    free(e);
}

/* LeaseOpened: buyer (also the tx sender unless txfrom says otherwise),
 * beneficiary (0: none), provider, price, token (0: native), model. */
static void lease_x(fx *f, uint64_t n, uint32_t log, uint32_t txidx, unsigned market, unsigned txfrom, unsigned buyer,
                    unsigned benef, unsigned provider, uint64_t amount, unsigned token, const char *model,
                    uint64_t mhours, const char *platform)
{
    gl_store_event *e = ev_begin(n, log, txidx, platform, "LeaseOpened", market, txfrom);
    ev_role(e, GL_STORE_ROLE_BUYER, buyer);
    if (benef)
        ev_role(e, GL_STORE_ROLE_BENEFICIARY, benef);
    ev_role(e, GL_STORE_ROLE_PROVIDER, provider);
    ev_amount(e, amount, token);
    if (model)
        snprintf(e->gpu_model, sizeof e->gpu_model, "%s", model);
    e->gpu_count = 1;
    e->gpu_mhours = mhours;
    ev_put(f, e);
}

static void lease(fx *f, uint64_t n, uint32_t log, uint32_t txidx, unsigned market, unsigned buyer, unsigned benef,
                  unsigned provider, uint64_t amount)
{
    lease_x(f, n, log, txidx, market, buyer, buyer, benef, provider, amount, 0, NULL, 0, "t-net");
}

/* Livepeer-style DepositFunded: holder (sender, buyer role), payer = tx.from. */
static void deposit_funded(fx *f, uint64_t n, uint32_t log, uint32_t txidx, unsigned market, unsigned holder,
                           unsigned txfrom, uint64_t amount)
{
    gl_store_event *e = ev_begin(n, log, txidx, "t-net", "DepositFunded", market, txfrom);
    ev_role(e, GL_STORE_ROLE_BUYER, holder);
    ev_role(e, GL_STORE_ROLE_PAYER, txfrom);
    ev_amount(e, amount, 0);
    ev_put(f, e);
}

/* Golem-like DepositTransfer as this test's definition maps it: the funder
 * (id >> 96) is the buyer, the spender (who sends the tx) the payer. */
static void deposit_transfer(fx *f, uint64_t n, uint32_t log, uint32_t txidx, unsigned market, unsigned funder,
                             unsigned spender, unsigned recipient, uint64_t amount, unsigned token)
{
    gl_store_event *e = ev_begin(n, log, txidx, "t-net", "DepositTransfer", market, spender);
    ev_role(e, GL_STORE_ROLE_BUYER, funder);
    ev_role(e, GL_STORE_ROLE_PAYER, spender);
    ev_role(e, GL_STORE_ROLE_PROVIDER, recipient);
    ev_amount(e, amount, token);
    ev_put(f, e);
}

/* Livepeer-style ticket redemption (payment), sent by txfrom. */
static void ticket(fx *f, uint64_t n, uint32_t log, uint32_t txidx, unsigned market, unsigned sender,
                   unsigned recipient, uint64_t amount, unsigned txfrom)
{
    gl_store_event *e = ev_begin(n, log, txidx, "t-net", "TicketRedeemed", market, txfrom);
    ev_role(e, GL_STORE_ROLE_BUYER, sender);
    ev_role(e, GL_STORE_ROLE_PROVIDER, recipient);
    ev_amount(e, amount, 0);
    ev_put(f, e);
}

/* An unrelated lease (addresses 900..902, block 1), for scenarios that
 * hold no purchase: see test_graph_empty_arrays for why. */
static void background_lease(fx *f)
{
    lease(f, 1, 0, 0, 902, 900, 0, 901, 1 * ETH);
}

static void label(fx *f, unsigned who, const char *category)
{
    gl_store_label l = {.confidence = 900};
    memcpy(l.addr, ad(who), 20);
    snprintf(l.source, sizeof l.source, "test");
    snprintf(l.label, sizeof l.label, "%s %u", category, who);
    snprintf(l.category, sizeof l.category, "%s", category);
    gl_err err = {0};
    ok(gl_store_batch_put_label(f->b, &l, &err), &err);
}

/* Commit (with a cursor, so that a store of transfers only still names its
 * chain), load, analyse. */
static void run_p(fx *f, const gl_analysis_params *p)
{
    gl_err err = {0};
    uint8_t h[32] = {0};
    ok(gl_store_batch_set_cursor(f->b, CHAIN, "t-net", f->max_block, h, &err), &err);
    ok(gl_store_batch_commit(f->b, &err), &err);
    f->g = gl_graph_load(f->s, defs_cb, f, &err);
    if (!f->g)
        fail_msg("load: %s", err.msg);
    f->a = gl_analysis_run(f->g, p, &err);
    if (!f->a)
        fail_msg("analysis: %s", err.msg);
}

static void run(fx *f)
{
    gl_analysis_params p;
    gl_analysis_params_default(&p);
    run_p(f, &p);
}

static uint32_t N(const fx *f, unsigned id)
{
    uint32_t v = gl_graph_find(f->g, ad(id));
    if (v == GL_NODE_NONE)
        fail_msg("address %u not in the graph", id);
    return v;
}

static uint32_t ent(const fx *f, unsigned id) { return f->a->entity[N(f, id)]; }

static const gl_link *find_link(const fx *f, gl_link_rule rule, unsigned x, unsigned y)
{
    uint32_t a = N(f, x), b = N(f, y);
    for (size_t i = 0; i < f->a->n_links; i++) {
        const gl_link *l = &f->a->links[i];
        if (l->rule == rule && ((l->a == a && l->b == b) || (l->a == b && l->b == a)))
            return l;
    }
    return NULL;
}

/* Any link of any rule between x and y. */
static bool any_link(const fx *f, unsigned x, unsigned y)
{
    for (int r = 0; r < GL_LINK_RULE_COUNT; r++)
        if (find_link(f, (gl_link_rule)r, x, y))
            return true;
    return false;
}

/* Links of `rule` in the whole analysis. */
static size_t count_rule(const fx *f, gl_link_rule rule)
{
    size_t n = 0;
    for (size_t i = 0; i < f->a->n_links; i++)
        n += f->a->links[i].rule == rule;
    return n;
}

static bool touches(const fx *f, unsigned x)
{
    uint32_t v = N(f, x);
    for (size_t i = 0; i < f->a->n_links; i++)
        if (f->a->links[i].a == v || f->a->links[i].b == v)
            return true;
    return false;
}

static const gl_wallet_score *score_of(const fx *f, unsigned id)
{
    uint32_t v = N(f, id);
    for (size_t i = 0; i < f->a->n_scores; i++)
        if (f->a->scores[i].node == v)
            return &f->a->scores[i];
    fail_msg("address %u was not scored", id);
    return NULL;
}

static const gl_signal *sig(const gl_wallet_score *w, gl_signal_kind k)
{
    for (uint32_t i = 0; i < w->n_signals; i++)
        if (w->signals[i].kind == k)
            return &w->signals[i];
    return NULL;
}

static size_t n_flagged(const fx *f)
{
    size_t n = 0;
    for (size_t i = 0; i < f->a->n_scores; i++)
        n += f->a->scores[i].flagged;
    return n;
}

/* Evidence i is at (CHAIN, block, kind, index). */
static void assert_ev(const fx *f, const gl_evidence *ev, uint64_t block, gl_store_pos_kind kind, uint32_t index)
{
    gl_store_pos p = gl_graph_pos(f->g, &ev->pos);
    assert_int_equal(p.chain_id, CHAIN);
    assert_int_equal(p.block, block);
    assert_int_equal(p.kind, kind);
    assert_int_equal(p.index, index);
}

#define FAM(x) (1u << (x))

/* A signal pointer once outlived add_signal()'s realloc (a use-after-free
 * ASan reported whenever a wallet got a sponsor, only_for_others,
 * deposit_funded_by_other or sender_not_buyer signal); proxy.c now collects
 * a wallet's signals in a fixed array, and these tests run under ASan. */

/* The common end of a flagged wallet: flag, typology, beneficiary, families. */
static void assert_flag(const fx *f, unsigned w, gl_typology t, unsigned benef, uint32_t families)
{
    const gl_wallet_score *s = score_of(f, w);
    if (!s->flagged)
        fail_msg("wallet %u not flagged (score %.3f, families 0x%x)", w, (double)s->score, s->families);
    assert_int_equal(s->typology, t);
    assert_int_equal(s->beneficiary, N(f, benef));
    assert_int_equal(s->families, families);
}

/* ------------------------------------------------- deposit sweep + reuse */

enum { C1 = 1, C2, C3, C4, C5, X1, X2, D1 = 11, D2, D3, D4, D5, H = 20 };

/* Three customers pay into their own deposit addresses; each forwards to H
 * 20..40 minutes later, keeping 0.001 ETH (fee allowance 0.01).  X has two
 * wallets paying into one deposit address, each payment swept on its own.
 *   sweep_target(D1) = sweep_target(D2) = sweep_target(D3) = H (every
 *   out-transfer goes to H within [60 s, 6 h] of an in-transfer it does not
 *   exceed by more than the fee); H sends only to C1 (one destination, but
 *   0.3 ETH after 0.999 in: more than the fee kept back): not a deposit.
 *   sweeps_into[H] = 3 >= 2: H is a hot wallet, D1..D3 its deposits, one
 *   deposit_sweep link each (D3's with both sweeps as evidence);
 *   deposit_reuse: D3's payers X1 then X2, evidence X2's payment.
 *   C1's only funder is H (a hub): no soft link, so no customer joins H. */
static void test_deposit_sweep_and_reuse(void **state)
{
    (void)state;
    fx *f = fx_new();
    native(f, 10, 0, C1, D1, 1 * ETH);
    native(f, 10, 1, C2, D2, 2 * ETH);
    native(f, 10, 2, X1, D3, 1 * ETH);
    native(f, 30, 0, D1, H, 999 * METH);   /* 20 min */
    native(f, 40, 0, D2, H, 1998 * METH);  /* 30 min */
    native(f, 30, 1, D3, H, 999 * METH);   /* 20 min */
    native(f, 50, 0, X2, D3, 500 * METH);
    native(f, 70, 0, D3, H, 4995 * METH / 10); /* 20 min, 0.0005 kept */
    native(f, 100, 0, H, C1, 300 * METH);  /* a withdrawal to a customer */
    background_lease(f);
    run(f);

    const gl_link *l = find_link(f, GL_LINK_DEPOSIT_SWEEP, D1, H);
    assert_non_null(l);
    assert_true(l->merged);
    assert_int_equal(l->n_evidence, 1);
    assert_ev(f, &l->ev[0], 30, GL_STORE_POS_TX, 0);
    l = find_link(f, GL_LINK_DEPOSIT_SWEEP, D2, H);
    assert_non_null(l);
    assert_ev(f, &l->ev[0], 40, GL_STORE_POS_TX, 0);
    l = find_link(f, GL_LINK_DEPOSIT_SWEEP, D3, H);
    assert_non_null(l);
    assert_int_equal(l->n_evidence, 2);
    assert_ev(f, &l->ev[0], 30, GL_STORE_POS_TX, 1);
    assert_ev(f, &l->ev[1], 70, GL_STORE_POS_TX, 0);
    assert_int_equal(count_rule(f, GL_LINK_DEPOSIT_SWEEP), 3);

    l = find_link(f, GL_LINK_DEPOSIT_REUSE, X1, X2);
    assert_non_null(l);
    assert_true(l->merged);
    assert_int_equal(l->n_evidence, 1);
    assert_ev(f, &l->ev[0], 50, GL_STORE_POS_TX, 0);
    assert_int_equal(count_rule(f, GL_LINK_DEPOSIT_REUSE), 1);

    /* hot wallet and deposit addresses: hubs, one exchange entity */
    assert_true(f->a->hub[N(f, H)] & 4);
    assert_true(f->a->hub[N(f, D1)] & 8);
    assert_int_equal(ent(f, D1), ent(f, H));
    assert_int_equal(ent(f, D2), ent(f, H));
    assert_int_equal(ent(f, D3), ent(f, H));
    assert_int_equal(f->a->entity_kind[ent(f, H)], GL_KIND_EXCHANGE);
    /* X's two wallets: one entity; customers never in H's, nor each other's */
    assert_int_equal(ent(f, X1), ent(f, X2));
    assert_int_not_equal(ent(f, X1), ent(f, H));
    assert_int_not_equal(ent(f, C1), ent(f, H));
    assert_int_not_equal(ent(f, C2), ent(f, H));
    assert_int_not_equal(ent(f, C1), ent(f, C2));
    assert_int_not_equal(ent(f, C1), ent(f, X1));
    assert_false(any_link(f, C1, H));
    fx_free(f);
}

/* Near misses: D1 forwards 361 minutes after the payment (sweep_max_s is
 * 360 minutes), D2 forwards half of what it got (not the whole, less a
 * fee), D5 forwards exactly 360 minutes later (inclusive bound: a sweep).
 * D3, D4 (and D5) sweep properly, so H is still a hot wallet. */
static void test_deposit_sweep_near_miss(void **state)
{
    (void)state;
    fx *f = fx_new();
    native(f, 10, 0, C1, D1, 1 * ETH);
    native(f, 371, 0, D1, H, 999 * METH);   /* 361 min: too late */
    native(f, 10, 1, C2, D2, 2 * ETH);
    native(f, 40, 0, D2, H, 1 * ETH);       /* not swept whole */
    native(f, 10, 2, C3, D3, 1 * ETH);
    native(f, 30, 0, D3, H, 999 * METH);
    native(f, 10, 3, C4, D4, 1 * ETH);
    native(f, 35, 0, D4, H, 999 * METH);
    native(f, 10, 4, C5, D5, 1 * ETH);
    native(f, 370, 0, D5, H, 999 * METH);   /* exactly 6 h: still a sweep */
    background_lease(f);
    run(f);

    assert_null(find_link(f, GL_LINK_DEPOSIT_SWEEP, D1, H));
    assert_null(find_link(f, GL_LINK_DEPOSIT_SWEEP, D2, H));
    assert_false(any_link(f, D1, H));
    assert_false(any_link(f, D2, H));
    assert_false(f->a->hub[N(f, D1)] & 8);
    assert_false(f->a->hub[N(f, D2)] & 8);
    assert_int_not_equal(ent(f, D1), ent(f, H));
    assert_int_not_equal(ent(f, D2), ent(f, H));
    const gl_link *l = find_link(f, GL_LINK_DEPOSIT_SWEEP, D3, H);
    assert_non_null(l);
    assert_ev(f, &l->ev[0], 30, GL_STORE_POS_TX, 0);
    l = find_link(f, GL_LINK_DEPOSIT_SWEEP, D5, H);
    assert_non_null(l);
    assert_ev(f, &l->ev[0], 370, GL_STORE_POS_TX, 0);
    assert_int_equal(count_rule(f, GL_LINK_DEPOSIT_SWEEP), 3);
    assert_int_equal(ent(f, D3), ent(f, H));
    assert_int_equal(ent(f, D4), ent(f, H));
    fx_free(f);
}

/* A token "sweep" must take all that came in since the last one, not only
 * the recent deposits.  Two wallets W1, W2 of one host are paid in TKN by
 * renters R1..R4 (the first payment ~10 h before the cash-out, the second
 * 100 min before) and each cashes out part of its balance to the host's
 * exchange deposit address DX (W1: 120 of 150, more than the 50 of the last
 * 6 h; W2: 90 of 120, more than 40).  Names are P-prefixed in the code.
 * DX sweeps all it got (210) to the hot wallet H, and so does D2 (C1's).
 * Found on eval-bazaar.json seed 11 once bazaar hosts cashed out: with the
 * recent deposits as the bar, W1 and W2 were DX's "deposit addresses", DX
 * their "hot wallet" and, being also H's deposit address, it put the host
 * into the exchange's entity, and deposit_reuse merged every renter that
 * paid W1 or W2.  Now: W1, W2 are not deposit addresses, DX is (H's), one
 * deposit_reuse link W1-W2, the renters apart. */
static void test_deposit_sweep_token_partial(void **state)
{
    (void)state;
    enum { PR1 = 1, PR2, PR3, PR4, PC = 5, PTK = 6, PW1 = 11, PW2, PDX = 13, PD2 = 14, PHX = 20 };
    fx *f = fx_new();
    erc20(f, 10, 0, 0, PTK, PR1, PW1, 100, PR1, PTK);
    erc20(f, 10, 1, 1, PTK, PR3, PW2, 80, PR3, PTK);
    erc20(f, 10, 2, 2, PTK, PC, PD2, 30, PC, PTK);
    erc20(f, 30, 0, 0, PTK, PD2, PHX, 30, PD2, PTK);  /* PD2's sweep: 20 min, all */
    erc20(f, 500, 0, 0, PTK, PR2, PW1, 50, PR2, PTK);
    erc20(f, 550, 0, 0, PTK, PR4, PW2, 40, PR4, PTK);
    erc20(f, 600, 0, 0, PTK, PW1, PDX, 120, PW1, PTK); /* 100 min after PR2's 50; 120 < 150 */
    erc20(f, 650, 0, 0, PTK, PW2, PDX, 90, PW2, PTK);  /* 100 min after PR4's 40; 90 < 120 */
    erc20(f, 660, 0, 0, PTK, PDX, PHX, 210, PDX, PTK); /* PDX's sweep: all 210 */
    background_lease(f);
    run(f);

    assert_false(f->a->hub[N(f, PW1)] & 8);
    assert_false(f->a->hub[N(f, PW2)] & 8);
    assert_false(f->a->hub[N(f, PDX)] & 4);
    assert_null(find_link(f, GL_LINK_DEPOSIT_SWEEP, PW1, PDX));
    assert_null(find_link(f, GL_LINK_DEPOSIT_SWEEP, PW2, PDX));
    assert_true(f->a->hub[N(f, PHX)] & 4);
    assert_true(f->a->hub[N(f, PDX)] & 8);
    assert_non_null(find_link(f, GL_LINK_DEPOSIT_SWEEP, PDX, PHX));
    assert_non_null(find_link(f, GL_LINK_DEPOSIT_SWEEP, PD2, PHX));
    assert_int_equal(count_rule(f, GL_LINK_DEPOSIT_SWEEP), 2);
    assert_non_null(find_link(f, GL_LINK_DEPOSIT_REUSE, PW1, PW2));
    assert_int_equal(count_rule(f, GL_LINK_DEPOSIT_REUSE), 1);
    assert_int_equal(ent(f, PW1), ent(f, PW2));
    assert_int_not_equal(ent(f, PW1), ent(f, PHX));
    assert_int_not_equal(ent(f, PR1), ent(f, PR2));
    assert_int_not_equal(ent(f, PR3), ent(f, PR4));
    assert_int_not_equal(ent(f, PR1), ent(f, PW1));
    fx_free(f);
}

/* ---------------------------------------------------------- hub by degree */

/* S funds n wallets with 1 ETH each; each leases for 0.5 ETH ten minutes
 * later.  Without hubs each pair (S, W) has first_funder 0.4 + sole_funder
 * 0.3 + funds_purchase 0.3 = 1.0 >= 0.8 from 3 rules: merged.  With n = 26
 * S has 26 counterparties > hub_degree 25: a hub, no link through it, no
 * wallet with it.  With n = 25 (not more than 25) it is not a hub. */
static fx *fanout(unsigned n)
{
    fx *f = fx_new();
    enum { S = 1, P = 2, M = 3 };
    for (unsigned i = 0; i < n; i++) {
        native(f, 10, i, S, 100 + i, 1 * ETH);
        lease(f, 20, i, i, M, 100 + i, 0, P, 500 * METH);
    }
    run(f);
    return f;
}

static void test_hub_by_degree(void **state)
{
    (void)state;
    fx *f = fanout(26);
    uint32_t s = N(f, 1);
    assert_int_equal(f->g->nodes[s].degree, 26);
    assert_true(f->a->hub[s] & 1);
    assert_false(touches(f, 1));
    for (unsigned i = 0; i < 26; i++)
        assert_int_not_equal(ent(f, 100 + i), ent(f, 1));
    assert_int_equal(f->a->entity_kind[ent(f, 1)], GL_KIND_SERVICE);
    assert_int_equal(n_flagged(f), 0);
    fx_free(f);

    f = fanout(25);
    s = N(f, 1);
    assert_int_equal(f->g->nodes[s].degree, 25);
    assert_false(f->a->hub[s] & 1);
    for (unsigned i = 0; i < 25; i++) {
        const gl_link *l = find_link(f, GL_LINK_FIRST_FUNDER, 1, 100 + i);
        assert_non_null(l);
        assert_true(l->merged);
        assert_ev(f, &l->ev[0], 10, GL_STORE_POS_TX, i);
        assert_non_null(find_link(f, GL_LINK_SOLE_FUNDER, 1, 100 + i));
        assert_non_null(find_link(f, GL_LINK_FUNDS_PURCHASE, 1, 100 + i));
        assert_int_equal(ent(f, 100 + i), ent(f, 1));
    }
    fx_free(f);
}

/* ------------------------------------------- market traffic is no service */

enum { HT_M = 40, HT_TK, HT_W1, HT_W2, HT_DX, HT_HX, HT_C, HT_D2, HT_E, HT_P };

/* A ComputeBazaar-style rental at block n: renter r pays host w `amount`
 * TKN inside its tx to the market (the market's transferFrom, log 0), and
 * the market emits the lease naming r and w (log 1). */
static void rent(fx *f, uint64_t n, unsigned r, unsigned w, uint64_t amount)
{
    erc20(f, n, 0, 0, HT_TK, r, w, amount, r, HT_M);
    lease_x(f, n, 1, 0, HT_M, r, r, 0, w, amount, HT_TK, NULL, 0, "t-net");
}

/* A host's wallet W1 rented by 30 renters (31 counterparties with its
 * exchange deposit address DX: over hub_degree 25) and its second wallet W2
 * (2 renters) cash out part of their income to one deposit address DX,
 * which sweeps all of it to the hot wallet HX (as D2 does C's).  The
 * renters met W1 only through purchases, so W1 is no hub: deposit_reuse
 * links W1 and W2, one entity of kind provider, apart from the exchange
 * and from every renter. */
static void test_hub_market_host(void **state)
{
    (void)state;
    fx *f = fx_new();
    for (unsigned i = 0; i < 30; i++)
        rent(f, 10 + i, 300 + i, HT_W1, 10);
    rent(f, 50, 400, HT_W2, 10);
    rent(f, 51, 401, HT_W2, 10);
    erc20(f, 5, 0, 0, HT_TK, HT_C, HT_D2, 30, HT_C, HT_TK);
    erc20(f, 8, 0, 0, HT_TK, HT_D2, HT_HX, 30, HT_D2, HT_TK);    /* D2's sweep: all, 3 min */
    erc20(f, 100, 0, 0, HT_TK, HT_W1, HT_DX, 200, HT_W1, HT_TK); /* 200 of 300: a cash-out */
    erc20(f, 110, 0, 0, HT_TK, HT_W2, HT_DX, 15, HT_W2, HT_TK);  /* 15 of 20 */
    erc20(f, 120, 0, 0, HT_TK, HT_DX, HT_HX, 215, HT_DX, HT_TK); /* DX's sweep: all */
    run(f);

    uint32_t w1 = N(f, HT_W1);
    assert_int_equal(f->g->nodes[w1].degree, 31);
    assert_false(f->a->hub[w1] & 1);
    assert_true(f->a->hub[N(f, HT_DX)] & 8);
    assert_true(f->a->hub[N(f, HT_HX)] & 4);
    const gl_link *l = find_link(f, GL_LINK_DEPOSIT_REUSE, HT_W1, HT_W2);
    assert_non_null(l);
    assert_true(l->merged);
    assert_int_equal(count_rule(f, GL_LINK_DEPOSIT_REUSE), 1);
    assert_int_equal(ent(f, HT_W1), ent(f, HT_W2));
    assert_int_equal(f->a->entity_kind[ent(f, HT_W1)], GL_KIND_PROVIDER);
    assert_int_not_equal(ent(f, HT_W1), ent(f, HT_HX));
    assert_int_not_equal(ent(f, HT_W1), ent(f, HT_C));
    for (unsigned i = 0; i < 30; i++) {
        assert_int_not_equal(ent(f, 300 + i), ent(f, HT_W1));
        if (i)
            assert_int_not_equal(ent(f, 300 + i), ent(f, 300));
    }
    assert_int_not_equal(ent(f, 400), ent(f, 401));
    fx_free(f);
}

/* The renter's side: W1 rents from 30 hosts directly (31 counterparties
 * with its exchange deposit address DX) and its second wallet W2 from one;
 * both return leftovers to DX, which sweeps all of it to the hot wallet HX
 * (as D2 does C's).  The hosts met W1 only through purchases, so W1 is no
 * hub: deposit_reuse links W1 and W2, one buyer entity, apart from the
 * exchange and from every host. */
static void test_hub_market_renter(void **state)
{
    (void)state;
    fx *f = fx_new();
    for (unsigned i = 0; i < 30; i++)
        rent(f, 10 + i, HT_W1, 300 + i, 10);
    rent(f, 50, HT_W2, 400, 10);
    erc20(f, 5, 0, 0, HT_TK, HT_C, HT_D2, 30, HT_C, HT_TK);
    erc20(f, 8, 0, 0, HT_TK, HT_D2, HT_HX, 30, HT_D2, HT_TK);    /* D2's sweep: all, 3 min */
    erc20(f, 100, 0, 0, HT_TK, HT_W1, HT_DX, 200, HT_W1, HT_TK); /* leftovers back */
    erc20(f, 110, 0, 0, HT_TK, HT_W2, HT_DX, 15, HT_W2, HT_TK);
    erc20(f, 120, 0, 0, HT_TK, HT_DX, HT_HX, 215, HT_DX, HT_TK); /* DX's sweep: all */
    run(f);

    uint32_t w1 = N(f, HT_W1);
    assert_int_equal(f->g->nodes[w1].degree, 31);
    assert_false(f->a->hub[w1] & 1);
    assert_true(f->a->hub[N(f, HT_DX)] & 8);
    const gl_link *l = find_link(f, GL_LINK_DEPOSIT_REUSE, HT_W1, HT_W2);
    assert_non_null(l);
    assert_true(l->merged);
    assert_int_equal(ent(f, HT_W1), ent(f, HT_W2));
    assert_int_equal(f->a->entity_kind[ent(f, HT_W1)], GL_KIND_BUYER);
    assert_int_not_equal(ent(f, HT_W1), ent(f, HT_HX));
    for (unsigned i = 0; i < 30; i++) {
        assert_int_not_equal(ent(f, 300 + i), ent(f, HT_W1));
        if (i)
            assert_int_not_equal(ent(f, 300 + i), ent(f, 300));
    }
    assert_int_equal(n_flagged(f), 0); /* leftovers to one's own deposit address: honest */
    fx_free(f);
}

/* An exchange-like wallet E pays 30 customers by plain transfers (each then
 * rents from host P with that money, in the same token and block): its
 * counterparties are not market ones, so it stays a hub (kind service) and
 * no customer joins it, whatever the funding rules say. */
static void test_hub_plain_fanout_stays(void **state)
{
    (void)state;
    fx *f = fx_new();
    for (unsigned i = 0; i < 30; i++) {
        erc20(f, 10 + i, 2, 1, HT_TK, HT_E, 300 + i, 20, HT_E, HT_TK);
        rent(f, 10 + i, 300 + i, HT_P, 15);
    }
    run(f);

    uint32_t e = N(f, HT_E);
    assert_int_equal(f->g->nodes[e].degree, 30);
    assert_true(f->a->hub[e] & 1);
    assert_false(touches(f, HT_E));
    assert_int_equal(f->a->entity_kind[ent(f, HT_E)], GL_KIND_SERVICE);
    for (unsigned i = 0; i < 30; i++)
        assert_int_not_equal(ent(f, 300 + i), ent(f, HT_E));
    /* P's 30 renters are market counterparties: P is no hub */
    assert_false(f->a->hub[N(f, HT_P)] & 1);
    fx_free(f);
}

/* A host wallet P forwards every rental's income, whole, 10 minutes later,
 * to HX, into which C's deposit address D2 also sweeps.  P is a market
 * wallet, not an exchange deposit address (else HX would be a hot wallet
 * and deposit_reuse would merge all P's renters as "one customer"); with 3
 * renters (under hub_degree) and with 30 (no longer a hub by degree). */
static void test_hub_market_forwarder_not_deposit(void **state)
{
    (void)state;
    static const unsigned counts[] = {3, 30};
    for (size_t c = 0; c < 2; c++) {
        unsigned n = counts[c];
        fx *f = fx_new();
        erc20(f, 5, 0, 0, HT_TK, HT_C, HT_D2, 30, HT_C, HT_TK);
        erc20(f, 8, 0, 0, HT_TK, HT_D2, HT_HX, 30, HT_D2, HT_TK); /* D2's sweep */
        for (unsigned i = 0; i < n; i++) {
            rent(f, 10 + 20 * i, 300 + i, HT_P, 10);
            erc20(f, 20 + 20 * i, 0, 0, HT_TK, HT_P, HT_HX, 10, HT_P, HT_TK);
        }
        run(f);

        uint32_t p = N(f, HT_P);
        assert_false(f->a->hub[p] & 1);
        assert_false(f->a->hub[p] & 8);
        assert_false(f->a->hub[N(f, HT_HX)] & 4);
        assert_null(find_link(f, GL_LINK_DEPOSIT_SWEEP, HT_P, HT_HX));
        assert_int_equal(count_rule(f, GL_LINK_DEPOSIT_REUSE), 0);
        assert_int_not_equal(ent(f, HT_P), ent(f, HT_HX));
        for (unsigned i = 1; i < n; i++)
            assert_int_not_equal(ent(f, 300 + i), ent(f, 300));
        fx_free(f);
    }
}

/* ----------------------------------------------------- self authorization */

enum { SA_A = 1, SA_B, SA_T, SA_Z, SA_M };

/* A's tokens moved to Z by a tx B sent straight to the token contract (a
 * transferFrom on A's approval): A and B one actor, evidence the transfer's
 * log. */
static void test_self_authorization(void **state)
{
    (void)state;
    fx *f = fx_new();
    erc20(f, 20, 3, 0, SA_T, SA_A, SA_Z, 100, SA_B, SA_T);
    background_lease(f);
    run(f);
    const gl_link *l = find_link(f, GL_LINK_SELF_AUTH, SA_A, SA_B);
    assert_non_null(l);
    assert_true(l->merged);
    assert_int_equal(l->n_evidence, 1);
    assert_ev(f, &l->ev[0], 20, GL_STORE_POS_LOG, 3);
    assert_int_equal(ent(f, SA_A), ent(f, SA_B));
    assert_false(f->a->hub[N(f, SA_A)] & 3); /* not a contract: the tx went to the token */
    assert_true(f->a->hub[N(f, SA_T)] & 1);  /* the token is a hub */
    fx_free(f);
}

/* Near miss: B's tx went to a market contract M, which pulled A's tokens.
 * No self-authorization.  A then moved tokens it held in a tx someone else
 * sent, not by a direct call to the token: mark_contracts' comment calls
 * that "a contract" (hub bit 2: never a wallet's owner). */
static void test_self_authorization_near_miss(void **state)
{
    (void)state;
    fx *f = fx_new();
    erc20(f, 20, 3, 0, SA_T, SA_A, SA_Z, 100, SA_B, SA_M);
    background_lease(f);
    run(f);
    assert_null(find_link(f, GL_LINK_SELF_AUTH, SA_A, SA_B));
    assert_int_equal(count_rule(f, GL_LINK_SELF_AUTH), 0);
    assert_int_not_equal(ent(f, SA_A), ent(f, SA_B));
    assert_true(f->a->hub[N(f, SA_A)] & 2);
    assert_false(f->a->hub[N(f, SA_B)] & 3);
    fx_free(f);
}

/* --------------------------------------------------------- multi buyer tx */

/* One tx sent by O holds two leases, by U1 and U2, from provider P: one
 * actor pays for both.  Evidence: the second purchase's log. */
static void test_multi_buyer_tx(void **state)
{
    (void)state;
    enum { U1 = 1, U2, O, P, M };
    fx *f = fx_new();
    native(f, 20, 0, O, M, 2 * ETH); /* the tx of both leases pays the market */
    lease_x(f, 20, 4, 0, M, O, U1, 0, P, 1 * ETH, 0, NULL, 0, "t-net");
    lease_x(f, 20, 5, 0, M, O, U2, 0, P, 1 * ETH, 0, NULL, 0, "t-net");
    run(f);
    const gl_link *l = find_link(f, GL_LINK_MULTI_BUYER_TX, U1, U2);
    assert_non_null(l);
    assert_true(l->merged);
    assert_int_equal(l->n_evidence, 1);
    assert_ev(f, &l->ev[0], 20, GL_STORE_POS_LOG, 5);
    assert_int_equal(l->ev[0].what, 1);
    assert_int_equal(ent(f, U1), ent(f, U2));
    fx_free(f);
}

/* Near miss: the provider P sends one tx redeeming two senders' tickets
 * (tx.from is the provider): not one buyer. */
static void test_multi_buyer_tx_near_miss(void **state)
{
    (void)state;
    enum { S1 = 1, S2, P, M };
    fx *f = fx_new();
    put_tx(f, 20, 0, P, M, 0);                /* P's redeeming tx ... */
    native_trace(f, 20, 0, 1, M, P, 2 * ETH); /* ... and the market's payout in it */
    ticket(f, 20, 4, 0, M, S1, P, 1 * ETH, P);
    ticket(f, 20, 5, 0, M, S2, P, 1 * ETH, P);
    run(f);
    assert_int_equal(f->g->n_purchases, 2);
    assert_int_equal(count_rule(f, GL_LINK_MULTI_BUYER_TX), 0);
    assert_int_not_equal(ent(f, S1), ent(f, S2));
    fx_free(f);
}

/* --------------------------------------------------------- provider sweep */

enum { PS_P1 = 1, PS_P2, PS_K, PS_U1, PS_U2, PS_M };

/* P1 and P2 (providers in leases) both send to K, which is no service and
 * no market wallet: P1, P2 and K one operator.  Links (P1, P2) and (K, P2),
 * evidence P2's transfer. */
static void test_provider_sweep(void **state)
{
    (void)state;
    fx *f = fx_new();
    lease(f, 10, 0, 0, PS_M, PS_U1, 0, PS_P1, 1 * ETH);
    lease(f, 10, 1, 1, PS_M, PS_U2, 0, PS_P2, 1 * ETH);
    native(f, 20, 0, PS_P1, PS_K, 1 * ETH);
    native(f, 21, 0, PS_P2, PS_K, 1 * ETH);
    run(f);
    const gl_link *l = find_link(f, GL_LINK_PROVIDER_SWEEP, PS_P1, PS_P2);
    assert_non_null(l);
    assert_true(l->merged);
    assert_ev(f, &l->ev[0], 21, GL_STORE_POS_TX, 0);
    l = find_link(f, GL_LINK_PROVIDER_SWEEP, PS_K, PS_P2);
    assert_non_null(l);
    assert_ev(f, &l->ev[0], 21, GL_STORE_POS_TX, 0);
    assert_int_equal(ent(f, PS_P1), ent(f, PS_P2));
    assert_int_equal(ent(f, PS_K), ent(f, PS_P1));
    assert_int_equal(f->a->entity_kind[ent(f, PS_K)], GL_KIND_PROVIDER);
    assert_int_not_equal(ent(f, PS_U1), ent(f, PS_P1));
    fx_free(f);
}

/* Near miss: one provider only, sending twice.  K's soft links (first
 * funder 0.4 + sole funder 0.3 = 0.7 < 0.8) do not merge it either. */
static void test_provider_sweep_near_miss(void **state)
{
    (void)state;
    fx *f = fx_new();
    lease(f, 10, 0, 0, PS_M, PS_U1, 0, PS_P1, 1 * ETH);
    native(f, 20, 0, PS_P1, PS_K, 1 * ETH);
    native(f, 25, 0, PS_P1, PS_K, 1 * ETH);
    run(f);
    assert_int_equal(count_rule(f, GL_LINK_PROVIDER_SWEEP), 0);
    assert_int_not_equal(ent(f, PS_K), ent(f, PS_P1));
    fx_free(f);
}

/* ------------------------------------------------------ airdrop aggregate */

/* A (not a hub: 10 counterparties) sends 100 TKN to R0..R9; R0 and R1
 * forward theirs to G a day later: R0, R1 and G one actor, evidence R1's
 * forward.  (Forwarded within sweep_max_s, whole, the same transfers are
 * deposit sweeps: R0 and R1 would be G's deposit addresses and hubs, which
 * the airdrop rule skips.) */
static fx *airdrop(bool both)
{
    enum { A = 1, TKN = 2, G = 3 };
    fx *f = fx_new();
    for (unsigned i = 0; i < 10; i++)
        erc20(f, 10, i, i, TKN, A, 100 + i, 100, A, TKN);
    erc20(f, 1450, 0, 0, TKN, 100, G, 100, 100, TKN);
    if (both)
        erc20(f, 1451, 0, 0, TKN, 101, G, 100, 101, TKN);
    background_lease(f);
    run(f);
    return f;
}

static void test_airdrop_aggregate(void **state)
{
    (void)state;
    fx *f = airdrop(true);
    const gl_link *l = find_link(f, GL_LINK_AIRDROP_AGGREGATE, 100, 101);
    assert_non_null(l);
    assert_true(l->merged);
    assert_ev(f, &l->ev[0], 1451, GL_STORE_POS_LOG, 0);
    assert_non_null(find_link(f, GL_LINK_AIRDROP_AGGREGATE, 3, 101));
    assert_int_equal(count_rule(f, GL_LINK_DEPOSIT_SWEEP), 0);
    assert_int_equal(ent(f, 100), ent(f, 101));
    assert_int_equal(ent(f, 3), ent(f, 100));
    assert_int_not_equal(ent(f, 1), ent(f, 100));
    assert_int_not_equal(ent(f, 102), ent(f, 100));
    fx_free(f);

    f = airdrop(false); /* near miss: one recipient forwards */
    assert_int_equal(count_rule(f, GL_LINK_AIRDROP_AGGREGATE), 0);
    assert_int_not_equal(ent(f, 3), ent(f, 100));
    fx_free(f);
}

/* ----------------------------------------------------- platform contracts */

/* M1 and M2 emit t-net events: one platform entity (no evidence position:
 * the rule is about the definition).  M3 emits another platform's events
 * (no definition): not linked to them. */
static void test_platform_contracts(void **state)
{
    (void)state;
    enum { M1 = 1, M2, M3, U, P };
    fx *f = fx_new();
    native(f, 10, 0, U, M1, 1 * ETH); /* the leases' payments */
    native(f, 11, 0, U, M2, 1 * ETH);
    lease(f, 10, 0, 0, M1, U, 0, P, 1 * ETH);
    lease(f, 11, 0, 0, M2, U, 0, P, 1 * ETH);
    lease_x(f, 12, 0, 0, M3, U, U, 0, P, 1 * ETH, 0, NULL, 0, "u-net");
    run(f);
    const gl_link *l = find_link(f, GL_LINK_PLATFORM_CONTRACTS, M1, M2);
    assert_non_null(l);
    assert_true(l->merged);
    assert_int_equal(l->n_evidence, 0);
    assert_int_equal(ent(f, M1), ent(f, M2));
    assert_int_equal(f->a->entity_kind[ent(f, M1)], GL_KIND_PLATFORM);
    assert_int_equal(count_rule(f, GL_LINK_PLATFORM_CONTRACTS), 1);
    assert_int_not_equal(ent(f, M3), ent(f, M1));
    assert_int_not_equal(ent(f, U), ent(f, M1));
    assert_int_equal(f->g->n_unknown_kind, 1);
    fx_free(f);
}

/* -------------------------------------------------------------- soft links */

/* Sponsor: F is W's first and only funder and its money paid W's lease:
 * first_funder 0.4 + sole_funder 0.3 + funds_purchase 0.3 = 1.0 from three
 * rules: merged.  Client: C funds W2 first and its money covers W2's lease,
 * but W2 also got gas from an exchange: no sole funder, 0.4 + 0.3 = 0.7 <
 * 0.8: not merged; the exchange gets no link at all. */
static void test_soft_links(void **state)
{
    (void)state;
    enum { F = 1, W, P, M, C, W2, E };
    fx *f = fx_new();
    label(f, E, "exchange");
    native(f, 10, 0, F, W, 1 * ETH);
    lease(f, 20, 0, 0, M, W, 0, P, 900 * METH);
    native(f, 10, 1, C, W2, 1 * ETH);
    native(f, 12, 0, E, W2, 10 * METH);
    lease(f, 20, 1, 1, M, W2, 0, P, 1 * ETH);
    run(f);

    const gl_link *l = find_link(f, GL_LINK_FIRST_FUNDER, F, W);
    assert_non_null(l);
    assert_true(l->merged);
    assert_ev(f, &l->ev[0], 10, GL_STORE_POS_TX, 0);
    l = find_link(f, GL_LINK_SOLE_FUNDER, F, W);
    assert_non_null(l);
    assert_true(l->merged);
    l = find_link(f, GL_LINK_FUNDS_PURCHASE, F, W);
    assert_non_null(l);
    assert_true(l->merged);
    assert_ev(f, &l->ev[0], 10, GL_STORE_POS_TX, 0);
    assert_int_equal(ent(f, F), ent(f, W));

    l = find_link(f, GL_LINK_FIRST_FUNDER, C, W2);
    assert_non_null(l);
    assert_false(l->merged);
    assert_ev(f, &l->ev[0], 10, GL_STORE_POS_TX, 1);
    l = find_link(f, GL_LINK_FUNDS_PURCHASE, C, W2);
    assert_non_null(l);
    assert_false(l->merged);
    assert_null(find_link(f, GL_LINK_SOLE_FUNDER, C, W2));
    assert_false(any_link(f, E, W2));
    assert_int_not_equal(ent(f, C), ent(f, W2));
    assert_int_not_equal(ent(f, E), ent(f, W2));
    fx_free(f);
}

/* ------------------------------------------------------------ proxy flags */

/* Sponsor fan-out: S funds three fresh wallets 1 ETH each, ten minutes
 * before each leases for 1 ETH (leases 5 h apart: no split order).
 *   funding: S's 1 ETH covers the lease (>= 0.5): third_party_funding on 1
 *     of 1 purchases, 0.5 + 0.4 = 0.9; S funded 3 buying wallets >= 2:
 *     sponsor 0.8;
 *   lifecycle: everything in before the first lease is S's, 600 s <= 48 h:
 *     fresh_burner 0.7; S's money / spending = 1.0: conduit 0.6;
 *   score 1 - 0.1 * 0.3 = 0.97, two families: flagged; sponsor ->
 *   sponsor_fanout, beneficiary S. */
static void test_proxy_sponsor_fanout(void **state)
{
    (void)state;
    enum { S = 1, P, M };
    fx *f = fx_new();
    for (unsigned k = 0; k < 3; k++) {
        native(f, 100 + 300 * k, 0, S, 11 + k, 1 * ETH);
        lease_x(f, 110 + 300 * k, 0, 0, M, 11 + k, 11 + k, 0, P, 1 * ETH, 0, "RTX-4090", 1000, "t-net");
    }
    run(f);
    for (unsigned k = 0; k < 3; k++) {
        unsigned w = 11 + k;
        assert_flag(f, w, GL_TYP_SPONSOR_FANOUT, S, FAM(GL_FAM_FUNDING) | FAM(GL_FAM_LIFECYCLE));
        const gl_wallet_score *s = score_of(f, w);
        assert_float_equal(s->score, 0.97, 1e-4);
        const gl_signal *g = sig(s, GL_SIG_THIRD_PARTY_FUNDING);
        assert_non_null(g);
        assert_float_equal(g->value, 0.9, 1e-6);
        assert_int_equal(g->other, N(f, S));
        assert_int_equal(g->n_evidence, 2);
        assert_ev(f, &g->ev[0], 100 + 300 * k, GL_STORE_POS_TX, 0);
        assert_ev(f, &g->ev[1], 110 + 300 * k, GL_STORE_POS_LOG, 0);
        g = sig(s, GL_SIG_SPONSOR);
        assert_non_null(g);
        assert_int_equal(g->other, N(f, S));
        assert_float_equal(g->measure, 3, 1e-9);
        assert_ev(f, &g->ev[0], 100 + 300 * k, GL_STORE_POS_TX, 0);
        g = sig(s, GL_SIG_FRESH_BURNER);
        assert_non_null(g);
        assert_int_equal(g->other, N(f, S));
        assert_float_equal(g->measure, 600, 1e-9);
        assert_ev(f, &g->ev[0], 100 + 300 * k, GL_STORE_POS_TX, 0);
        assert_null(sig(s, GL_SIG_SPLIT_ORDER));
        assert_null(sig(s, GL_SIG_CONTROLLED_GPU));
    }
    fx_free(f);
}

/* Pass-through: an exchange sends W gas (0.01 ETH), client C sends exactly
 * the price (2 ETH); W leases two hours later.
 *   funding: C's 2 ETH covers it (the exchange's is not third-party money):
 *     third_party_funding 0.9, C funds one wallet: no sponsor;
 *   lifecycle: money in from a service: not a fresh burner; C's 2 ETH / 2
 *     ETH spent = 1.0: conduit 0.6;
 *   0.96, two families: flagged, pass_through, beneficiary C. */
static void test_proxy_pass_through(void **state)
{
    (void)state;
    enum { C = 1, W, E, P, M };
    fx *f = fx_new();
    label(f, E, "exchange");
    native(f, 190, 0, E, W, 10 * METH);
    native(f, 200, 0, C, W, 2 * ETH);
    lease(f, 320, 0, 0, M, W, 0, P, 2 * ETH);
    run(f);
    assert_flag(f, W, GL_TYP_PASS_THROUGH, C, FAM(GL_FAM_FUNDING) | FAM(GL_FAM_LIFECYCLE));
    const gl_wallet_score *s = score_of(f, W);
    assert_float_equal(s->score, 0.96, 1e-4);
    const gl_signal *g = sig(s, GL_SIG_THIRD_PARTY_FUNDING);
    assert_non_null(g);
    assert_int_equal(g->other, N(f, C));
    assert_ev(f, &g->ev[0], 200, GL_STORE_POS_TX, 0);
    assert_ev(f, &g->ev[1], 320, GL_STORE_POS_LOG, 0);
    g = sig(s, GL_SIG_CONDUIT);
    assert_non_null(g);
    assert_int_equal(g->other, N(f, C));
    assert_float_equal(g->measure, 1.0, 1e-9);
    assert_ev(f, &g->ev[0], 200, GL_STORE_POS_TX, 0);
    assert_ev(f, &g->ev[1], 320, GL_STORE_POS_LOG, 0);
    assert_null(sig(s, GL_SIG_FRESH_BURNER));
    assert_null(sig(s, GL_SIG_SPONSOR));
    fx_free(f);
}

/* Reimbursed: W leases for 1 ETH with exchange money; ten hours later
 * client C pays W 1.05 ETH.
 *   settlement: 1.05 in [0.98, 1.25] within 72 h: repaid 0.8;
 *   lifecycle: C's 1.05 / 1 spent in [0.8, 1.25]: conduit 0.6;
 *   funding: nothing third-party before the lease;
 *   1 - 0.2 * 0.4 = 0.92: flagged, reimbursed, beneficiary C. */
static void test_proxy_reimbursed(void **state)
{
    (void)state;
    enum { C = 1, W, E, P, M };
    fx *f = fx_new();
    label(f, E, "exchange");
    native(f, 300, 0, E, W, 1 * ETH);
    lease(f, 310, 0, 0, M, W, 0, P, 1 * ETH);
    native(f, 910, 0, C, W, 1050 * METH);
    run(f);
    assert_flag(f, W, GL_TYP_REIMBURSED, C, FAM(GL_FAM_LIFECYCLE) | FAM(GL_FAM_SETTLEMENT));
    const gl_wallet_score *s = score_of(f, W);
    assert_float_equal(s->score, 0.92, 1e-4);
    const gl_signal *g = sig(s, GL_SIG_REPAID);
    assert_non_null(g);
    assert_int_equal(g->other, N(f, C));
    assert_float_equal(g->measure, 1.05, 1e-9);
    assert_ev(f, &g->ev[0], 310, GL_STORE_POS_LOG, 0);
    assert_ev(f, &g->ev[1], 910, GL_STORE_POS_TX, 0);
    assert_null(sig(s, GL_SIG_THIRD_PARTY_FUNDING));
    fx_free(f);
}

/* Lease for: W's two leases both name beneficiary B.
 *   identity: beneficiary_other 0.8 (measure 2/2 = 1);
 *   lifecycle: only for others 0.6;
 *   0.92: flagged, lease_for, beneficiary B. */
static void test_proxy_lease_for(void **state)
{
    (void)state;
    enum { W = 1, B, E, P, M };
    fx *f = fx_new();
    label(f, E, "exchange");
    native(f, 10, 0, E, W, 3 * ETH);
    lease(f, 20, 0, 0, M, W, B, P, 1 * ETH);
    lease(f, 40, 0, 0, M, W, B, P, 1 * ETH);
    run(f);
    assert_flag(f, W, GL_TYP_LEASE_FOR, B, FAM(GL_FAM_IDENTITY) | FAM(GL_FAM_LIFECYCLE));
    const gl_wallet_score *s = score_of(f, W);
    assert_float_equal(s->score, 0.92, 1e-4);
    const gl_signal *g = sig(s, GL_SIG_BENEFICIARY_OTHER);
    assert_non_null(g);
    assert_int_equal(g->other, N(f, B));
    assert_float_equal(g->measure, 1.0, 1e-9);
    assert_int_equal(g->n_evidence, 2);
    assert_ev(f, &g->ev[0], 20, GL_STORE_POS_LOG, 0);
    assert_ev(f, &g->ev[1], 40, GL_STORE_POS_LOG, 0);
    g = sig(s, GL_SIG_ONLY_FOR_OTHERS);
    assert_non_null(g);
    assert_float_equal(g->measure, 2, 1e-9);
    /* pays_for: soft, alone: not merged */
    const gl_link *l = find_link(f, GL_LINK_PAYS_FOR, W, B);
    assert_non_null(l);
    assert_false(l->merged);
    assert_int_not_equal(ent(f, W), ent(f, B));
    fx_free(f);
}

/* Livepeer third party: F sends the tx that funds Hd's deposit
 * (DepositFunded sender Hd, payer tx.from F); Hd's tickets are then
 * redeemed by its orchestrator P.
 *   funding: deposit_funded_by_other 0.7, identity: sender_not_buyer 0.7,
 *   both pointing at F with the deposit's log as evidence;
 *   1 - 0.09 = 0.91: flagged, livepeer_third_party, beneficiary F. */
static void test_proxy_livepeer_third_party(void **state)
{
    (void)state;
    enum { F = 1, Hd, P, M };
    fx *f = fx_new();
    native(f, 10, 0, F, M, 1 * ETH); /* the deposit's money, in F's tx */
    deposit_funded(f, 10, 2, 0, M, Hd, F, 1 * ETH);
    ticket(f, 20, 0, 0, M, Hd, P, 100 * METH, P);
    ticket(f, 30, 0, 0, M, Hd, P, 100 * METH, P);
    run(f);
    assert_int_equal(f->g->n_deposits, 1);
    assert_flag(f, Hd, GL_TYP_LIVEPEER_THIRD_PARTY, F, FAM(GL_FAM_FUNDING) | FAM(GL_FAM_IDENTITY));
    const gl_wallet_score *s = score_of(f, Hd);
    assert_float_equal(s->score, 0.91, 1e-4);
    const gl_signal *g = sig(s, GL_SIG_DEPOSIT_BY_OTHER);
    assert_non_null(g);
    assert_int_equal(g->other, N(f, F));
    assert_int_equal(g->n_evidence, 1);
    assert_ev(f, &g->ev[0], 10, GL_STORE_POS_LOG, 2);
    g = sig(s, GL_SIG_SENDER_NOT_BUYER);
    assert_non_null(g);
    assert_int_equal(g->other, N(f, F));
    assert_ev(f, &g->ev[0], 10, GL_STORE_POS_LOG, 2);
    assert_non_null(find_link(f, GL_LINK_DEPOSIT_FUNDER, Hd, F));
    fx_free(f);
}

/* Golem deposit: payments booked to the funder G (buyer role) and paid by
 * the spender Sp (payer role, the wallet whose funds left).
 *   identity: booked_to_other 0.8; funding: deposit_funded_by_other 0.7
 *   (no deposit event stored: the payments are its evidence);
 *   1 - 0.2 * 0.3 = 0.94: flagged, golem_deposit, beneficiary G. */
static void test_proxy_golem_deposit(void **state)
{
    (void)state;
    enum { G = 1, Sp, P, M, GLM };
    fx *f = fx_new();
    deposit_transfer(f, 20, 0, 0, M, G, Sp, P, 500, GLM);
    erc20(f, 20, 1, 0, GLM, M, P, 500, Sp, M); /* its token leg, paid by the contract */
    deposit_transfer(f, 30, 1, 0, M, G, Sp, P, 700, GLM);
    erc20(f, 30, 2, 0, GLM, M, P, 700, Sp, M);
    run(f);
    assert_flag(f, Sp, GL_TYP_GOLEM_DEPOSIT, G, FAM(GL_FAM_FUNDING) | FAM(GL_FAM_IDENTITY));
    const gl_wallet_score *s = score_of(f, Sp);
    assert_float_equal(s->score, 0.94, 1e-4);
    const gl_signal *g = sig(s, GL_SIG_BOOKED_TO_OTHER);
    assert_non_null(g);
    assert_int_equal(g->other, N(f, G));
    assert_int_equal(g->n_evidence, 2);
    assert_ev(f, &g->ev[0], 20, GL_STORE_POS_LOG, 0);
    assert_ev(f, &g->ev[1], 30, GL_STORE_POS_LOG, 1);
    g = sig(s, GL_SIG_DEPOSIT_BY_OTHER);
    assert_non_null(g);
    assert_int_equal(g->other, N(f, G));
    assert_ev(f, &g->ev[0], 20, GL_STORE_POS_LOG, 0);
    /* the funder is not a paying wallet: not scored */
    for (size_t i = 0; i < f->a->n_scores; i++)
        assert_int_not_equal(f->a->scores[i].node, N(f, G));
    fx_free(f);
}

/* ------------------------------------------------------ honest, not flagged */

/* Customers withdrawing from one exchange hot wallet H (found by the
 * sweeps of two deposit addresses, no label): H's money is a service's,
 * not a third party's, so no signal at all. */
static void test_honest_exchange_withdrawals(void **state)
{
    (void)state;
    enum { Hh = 1, Dd1, Dd2, Cc1, Cc2, P, M };
    fx *f = fx_new();
    native(f, 10, 0, Cc1, Dd1, 1 * ETH);
    native(f, 30, 0, Dd1, Hh, 999 * METH);
    native(f, 10, 1, Cc2, Dd2, 1 * ETH);
    native(f, 40, 0, Dd2, Hh, 999 * METH);
    for (unsigned k = 0; k < 3; k++) {
        native(f, 100, k, Hh, 11 + k, 1 * ETH);
        lease(f, 160, k, k, M, 11 + k, 0, P, 900 * METH);
    }
    run(f);
    assert_true(f->a->hub[N(f, Hh)] & 4);
    assert_int_equal(n_flagged(f), 0);
    for (unsigned k = 0; k < 3; k++) {
        const gl_wallet_score *s = score_of(f, 11 + k);
        assert_int_equal(s->n_signals, 0);
        assert_float_equal(s->score, 0, 1e-9);
        assert_int_not_equal(ent(f, 11 + k), ent(f, Hh));
    }
    fx_free(f);
}

/* Airdrop recipients: A sends 100 TKN to 30 addresses (degree 30 > 25: a
 * hub); three of them lease with their 100 TKN.  Not third-party money. */
static void test_honest_airdrop_recipients(void **state)
{
    (void)state;
    enum { A = 1, TKN, P, M };
    fx *f = fx_new();
    for (unsigned i = 0; i < 30; i++)
        erc20(f, 10, i, i, TKN, A, 100 + i, 100, A, TKN);
    for (unsigned k = 0; k < 3; k++)
        lease_x(f, 20, k, k, M, 100 + k, 100 + k, 0, P, 100, TKN, NULL, 0, "t-net");
    run(f);
    assert_true(f->a->hub[N(f, A)] & 1);
    assert_int_equal(n_flagged(f), 0);
    for (unsigned k = 0; k < 3; k++) {
        const gl_wallet_score *s = score_of(f, 100 + k);
        assert_int_equal(s->n_signals, 0);
        assert_int_not_equal(ent(f, 100 + k), ent(f, A));
    }
    assert_int_equal(count_rule(f, GL_LINK_AIRDROP_AGGREGATE), 0);
    fx_free(f);
}

/* One buyer Y tops another, W, up once (0.3 ETH); W leases four times
 * (0.5 ETH) with its own exchange money.  The top-up covers the two leases
 * after it (0.3 >= 0.25): third_party_funding on 2 of 4, value 0.5 + 0.4 *
 * 0.5 = 0.7 - one family only (conduit 0.3 / 2.0 < 0.8, repayment 0.6 <
 * 0.98): not flagged.  Y (exchange money) has no signal. */
static void test_honest_topup(void **state)
{
    (void)state;
    enum { E = 1, W, Y, P, M };
    fx *f = fx_new();
    label(f, E, "exchange");
    native(f, 10, 0, E, W, 5 * ETH);
    native(f, 10, 1, E, Y, 2 * ETH);
    lease(f, 30, 0, 0, M, Y, 0, P, 1 * ETH);
    lease(f, 20, 0, 0, M, W, 0, P, 500 * METH);
    lease(f, 200, 0, 0, M, W, 0, P, 500 * METH);
    native(f, 300, 0, Y, W, 300 * METH);
    lease(f, 400, 0, 0, M, W, 0, P, 500 * METH);
    lease(f, 600, 0, 0, M, W, 0, P, 500 * METH);
    run(f);
    assert_int_equal(n_flagged(f), 0);
    const gl_wallet_score *s = score_of(f, W);
    assert_int_equal(s->families, FAM(GL_FAM_FUNDING));
    const gl_signal *g = sig(s, GL_SIG_THIRD_PARTY_FUNDING);
    assert_non_null(g);
    assert_float_equal(g->measure, 0.5, 1e-9);
    assert_float_equal(g->value, 0.7, 1e-6);
    assert_null(sig(s, GL_SIG_SPONSOR));
    assert_null(sig(s, GL_SIG_CONDUIT));
    assert_null(sig(s, GL_SIG_REPAID));
    assert_int_equal(score_of(f, Y)->n_signals, 0);
    fx_free(f);
}

/* A provider paying for its own wallets: P (a provider) funds PW1 with the
 * whole price (first + sole + funds_purchase: merged, an entity of kind
 * provider, whose money is its own), and sends PW2 gas only (0.01 ETH; PW2
 * leases with exchange money): neither flagged. */
static void test_honest_provider_own_gas(void **state)
{
    (void)state;
    enum { P = 1, PW1, PW2, Q, U, M, E };
    fx *f = fx_new();
    label(f, E, "exchange");
    lease(f, 5, 0, 0, M, U, 0, P, 1 * ETH);
    native(f, 10, 0, P, PW1, 1 * ETH);
    lease(f, 70, 0, 0, M, PW1, 0, Q, 1 * ETH);
    native(f, 10, 1, P, PW2, 10 * METH);
    native(f, 10, 2, E, PW2, 1 * ETH);
    lease(f, 70, 1, 1, M, PW2, 0, Q, 1 * ETH);
    run(f);
    assert_int_equal(n_flagged(f), 0);
    assert_int_equal(ent(f, P), ent(f, PW1));
    assert_int_equal(f->a->entity_kind[ent(f, P)], GL_KIND_PROVIDER);
    assert_int_equal(score_of(f, PW1)->n_signals, 0);
    assert_int_equal(score_of(f, PW2)->families, 0);
    fx_free(f);
}

/* A buyer returning leftovers to its own exchange deposit address: H
 * (a hot wallet: DW and D2 sweep into it) sends W 1 ETH, W leases for 0.8
 * and sends the 0.2 left to its deposit address DW, which sweeps it.  W is
 * not flagged, not in H's entity; DW is. */
static void test_honest_leftovers_to_deposit(void **state)
{
    (void)state;
    enum { Hh = 1, W, DW, Dd2, Cc2, P, M };
    fx *f = fx_new();
    native(f, 10, 0, Hh, W, 1 * ETH);
    lease(f, 20, 0, 0, M, W, 0, P, 800 * METH);
    native(f, 30, 0, W, DW, 200 * METH);
    native(f, 50, 0, DW, Hh, 199 * METH);
    native(f, 10, 1, Cc2, Dd2, 1 * ETH);
    native(f, 40, 0, Dd2, Hh, 999 * METH);
    run(f);
    assert_true(f->a->hub[N(f, Hh)] & 4);
    assert_int_equal(ent(f, DW), ent(f, Hh));
    assert_int_not_equal(ent(f, W), ent(f, Hh));
    assert_int_equal(n_flagged(f), 0);
    assert_int_equal(score_of(f, W)->n_signals, 0);
    fx_free(f);
}

/* A ring of three providers: Pk funds its own buying wallet Wk with the
 * price, and Wk leases from P(k+1).  Each (Pk, Wk) merges (first + sole +
 * funds_purchase) into a provider entity whose money is its own: none
 * flagged. */
static void test_honest_provider_ring(void **state)
{
    (void)state;
    enum { M = 20 };
    fx *f = fx_new();
    for (unsigned k = 0; k < 3; k++) {
        native(f, 10, k, 1 + k, 11 + k, 1 * ETH);
        lease(f, 70 + k, 0, 0, M, 11 + k, 0, 1 + (k + 1) % 3, 1 * ETH);
    }
    run(f);
    assert_int_equal(n_flagged(f), 0);
    for (unsigned k = 0; k < 3; k++) {
        assert_int_equal(ent(f, 1 + k), ent(f, 11 + k));
        assert_int_not_equal(ent(f, 1 + k), ent(f, 1 + (k + 1) % 3));
    }
    fx_free(f);
}

/* The same ring, but each buying wallet first gets gas from an exchange,
 * so (Pk, Wk) do not merge (first funder is the exchange; funds_purchase
 * alone is 0.3).  Structurally each Wk is then a pass-through wallet of Pk;
 * what tells it apart is that the money goes round (P1 -> W1 -> P2 -> W2
 * -> P3 -> W3 -> P1): the brief's "circular" case, which must not be
 * flagged.
 * Without circular handling each Wk got third_party_funding 0.9 + conduit
 * 0.6 and was flagged pass_through; circular_funder() in proxy.c stops it. */
static void test_honest_provider_ring_with_exchange_gas(void **state)
{
    (void)state;
    enum { E = 30, M = 20 };
    fx *f = fx_new();
    label(f, E, "exchange");
    for (unsigned k = 0; k < 3; k++) {
        native(f, 5, k, E, 11 + k, 10 * METH);
        native(f, 10, k, 1 + k, 11 + k, 1 * ETH);
        lease(f, 70 + k, 0, 0, M, 11 + k, 0, 1 + (k + 1) % 3, 1 * ETH);
    }
    run(f);
    assert_int_equal(n_flagged(f), 0);
    fx_free(f);
}

/* ----------------------------------------------------- adversarial store */

/* A store built to hurt (issue 13): a hub paying 1,000 wallets 20 times
 * each (20,000 edges from one node), self-transfers, zero and 2^256-1
 * amounts, a three-wallet cycle going round 50 times, and one wallet in
 * every role of one purchase (buyer, beneficiary, provider and payer of its
 * own lease, holder and payer of its own deposit).  Oracle: the rules as
 * documented, worked by hand: the hub is a service and joins nobody; the
 * 2^256-1 transfer is kept, saturated; the wallet in every role buys from
 * itself, which is self-dealing and never a proxy signal; nothing is
 * flagged; results write and read back. */
static void test_adversarial_store(void **state)
{
    (void)state;
    fx *f = fx_new();
    enum { HUB = 1, FIRST = 2, N = 1000, SELF = 1005, A = 1010, B = 1011, C = 1012, ALL = 1020, M = 1021, T = 1022 };
    uint32_t idx = 0;
    for (unsigned r = 0; r < 20; r++)
        for (unsigned w = 0; w < N; w++)
            native(f, 10 + r, idx++, HUB, FIRST + w, 1000 + w);
    for (unsigned i = 0; i < 30; i++)
        native(f, 40 + i, i, SELF, SELF, i); /* to itself, zero included */
    erc20(f, 80, 0, 0, T, A, B, 0, A, T);
    /* 2^256 - 1 */
    put_tx(f, 81, 0, B, T, 0);
    gl_store_transfer big = {.pos = {.chain_id = CHAIN, .block = 81, .kind = GL_STORE_POS_LOG, .index = 0},
                             .asset = GL_STORE_ASSET_ERC20, .flags = GL_STORE_TX_SENDER_OK};
    memset(&big.amount, 0xff, sizeof big.amount);
    memcpy(big.token, ad(T), 20);
    memcpy(big.from, ad(B), 20);
    memcpy(big.to, ad(C), 20);
    tx_hash(big.tx_hash, 81, 0);
    gl_err err = {0};
    ok(gl_store_batch_put_transfer(f->b, &big, &err), &err);
    for (unsigned r = 0; r < 50; r++) {
        native(f, 100 + r, 0, A, B, 5);
        native(f, 100 + r, 1, B, C, 5);
        native(f, 100 + r, 2, C, A, 5);
    }
    /* one wallet in every role */
    gl_store_event *e = ev_begin(200, 0, 0, "t-net", "LeaseOpened", M, ALL);
    ev_role(e, GL_STORE_ROLE_BUYER, ALL);
    ev_role(e, GL_STORE_ROLE_BENEFICIARY, ALL);
    ev_role(e, GL_STORE_ROLE_PROVIDER, ALL);
    ev_role(e, GL_STORE_ROLE_PAYER, ALL);
    ev_amount(e, 7, 0);
    snprintf(e->gpu_model, sizeof e->gpu_model, "H100-SXM5-80GB");
    ev_put(f, e);
    deposit_funded(f, 201, 0, 0, M, ALL, ALL, 9);
    native(f, 199, 5, ALL, ALL, 1);
    run(f);
    uint32_t hub = gl_graph_find(f->g, ad(HUB));
    assert_true(hub != GL_NODE_NONE);
    assert_true(f->a->hub[hub] & 1);
    /* the hub's entity is the hub alone */
    size_t with_hub = 0;
    for (uint32_t v = 0; v < f->g->n_nodes; v++)
        with_hub += f->a->entity[v] == f->a->entity[hub];
    assert_int_equal(with_hub, 1);
    /* the 2^256-1 transfer is there, saturated */
    bool saw_big = false;
    for (size_t i = 0; i < f->g->n_edges; i++)
        saw_big |= (f->g->edges[i].flags & GL_EDGE_SATURATED) != 0;
    assert_true(saw_big);
    assert_int_equal(n_flagged(f), 0);
    const gl_wallet_score *w = score_of(f, ALL);
    assert_non_null(w);
    assert_false(w->flagged);
    for (uint32_t i = 0; i < w->n_signals; i++)
        assert_int_equal(gl_signal_family((gl_signal_kind)w->signals[i].kind), GL_FAM_CONTEXT);
    ok(gl_results_write(f->s, f->g, f->a, &err), &err);
    json_t *rec = NULL;
    ok(gl_results_get_wallet(f->s, ad(ALL), &rec, &err), &err);
    assert_non_null(rec);
    assert_true(json_is_false(json_object_get(rec, "flagged")));
    json_decref(rec);
    fx_free(f);
}

/* ----------------------------------------------------------- empty arrays */

/* A store of transfers only (no purchase) and one of events only (no
 * transfer) load and analyse: nothing to buy, nothing scored; no edge, no
 * link of any funding rule.
 * gl_graph_index once called qsort with a NULL base for an empty array
 * (undefined behaviour UBSan reports); this test holds it to the fix. */
static void test_graph_empty_arrays(void **state)
{
    (void)state;
    fx *f = fx_new();
    native(f, 10, 0, 1, 2, 1 * ETH);
    native(f, 20, 0, 2, 3, 1 * ETH);
    run(f);
    assert_int_equal(f->g->n_purchases, 0);
    assert_int_equal(f->g->n_edges, 2);
    assert_int_equal(f->a->n_scores, 0);
    fx_free(f);

    f = fx_new();
    lease(f, 10, 0, 0, 3, 1, 0, 2, 1 * ETH);
    run(f);
    assert_int_equal(f->g->n_purchases, 1);
    assert_int_equal(f->g->n_edges, 0);
    assert_int_equal(f->a->n_scores, 1);
    assert_int_equal(f->a->scores[0].n_signals, 0);
    assert_int_equal(count_rule(f, GL_LINK_FIRST_FUNDER), 0);
    fx_free(f);
}

/* ------------------------------------------------------- controlled GPUs */

/* "H100-SXM5-80GB" (8 GPU-hours) and "H20" (2) are controlled classes,
 * "RTX-4090" is not: controlled_gpu measure 10 h, evidence the two leases.
 * Context is never counted: value 0, no family, score 0, not flagged. */
static void test_controlled_gpu_context(void **state)
{
    (void)state;
    enum { E = 1, W, P, M };
    fx *f = fx_new();
    label(f, E, "exchange");
    native(f, 10, 0, E, W, 10 * ETH);
    lease_x(f, 20, 0, 0, M, W, W, 0, P, 1 * ETH, 0, "H100-SXM5-80GB", 8000, "t-net");
    lease_x(f, 30, 0, 0, M, W, W, 0, P, 1 * ETH, 0, "H20", 2000, "t-net");
    lease_x(f, 40, 0, 0, M, W, W, 0, P, 1 * ETH, 0, "RTX-4090", 5000, "t-net");
    run(f);
    const gl_wallet_score *s = score_of(f, W);
    const gl_signal *g = sig(s, GL_SIG_CONTROLLED_GPU);
    assert_non_null(g);
    assert_float_equal(g->measure, 10.0, 1e-9);
    assert_float_equal(g->value, 0, 1e-9);
    assert_int_equal(g->n_evidence, 2);
    assert_ev(f, &g->ev[0], 20, GL_STORE_POS_LOG, 0);
    assert_ev(f, &g->ev[1], 30, GL_STORE_POS_LOG, 0);
    assert_int_equal(s->families, 0);
    assert_float_equal(s->score, 0, 1e-9);
    assert_false(s->flagged);
    assert_int_equal(s->typology, GL_TYP_NONE);
    fx_free(f);
}

/* ---------------------------------------------------- results round trip */

static int count_cb(void *ctx, json_t *rec)
{
    size_t *n = ctx;
    n[0]++;
    if (json_is_true(json_object_get(rec, "flagged")))
        n[1]++;
    return 0;
}

static const char *hexs(const uint8_t *b, size_t n, char *out)
{
    static const char hx[] = "0123456789abcdef";
    out[0] = '0';
    out[1] = 'x';
    for (size_t i = 0; i < n; i++) {
        out[2 + 2 * i] = hx[b[i] >> 4];
        out[3 + 2 * i] = hx[b[i] & 15];
    }
    out[2 + 2 * n] = 0;
    return out;
}

static json_t *signal_json(json_t *wallet, const char *name)
{
    json_t *v;
    size_t i;
    json_array_foreach(json_object_get(wallet, "signals"), i, v) {
        if (!strcmp(json_string_value(json_object_get(v, "signal")), name))
            return v;
    }
    return NULL;
}

/* The sponsor scenario written to the store and read back. */
static void test_results_round_trip(void **state)
{
    (void)state;
    enum { S = 1, P, M };
    fx *f = fx_new();
    for (unsigned k = 0; k < 3; k++) {
        native(f, 100 + 300 * k, 0, S, 11 + k, 1 * ETH);
        lease(f, 110 + 300 * k, 0, 0, M, 11 + k, 0, P, 1 * ETH);
    }
    label(f, P, "host \"quoted\" \\ ok"); /* a label JSON must escape */
    run(f);
    gl_err err = {0};
    ok(gl_results_write(f->s, f->g, f->a, &err), &err);

    bool found = false, stale = true;
    ok(gl_results_status(f->s, &found, &stale, NULL, &err), &err);
    assert_true(found);
    assert_false(stale);

    /* every address's entity id as computed */
    for (uint32_t v = 0; v < f->g->n_nodes; v++) {
        uint32_t e = UINT32_MAX;
        found = false;
        ok(gl_results_entity_of(f->s, f->g->nodes[v].addr, &e, &found, &err), &err);
        assert_true(found);
        assert_int_equal(e, f->a->entity[v]);
    }
    uint8_t stranger[20];
    memset(stranger, 0xee, 20);
    ok(gl_results_entity_of(f->s, stranger, &(uint32_t){0}, &found, &err), &err);
    assert_false(found);

    char hex[67], want[67];
    for (unsigned k = 0; k < 3; k++) {
        json_t *w = NULL;
        ok(gl_results_get_wallet(f->s, ad(11 + k), &w, &err), &err);
        assert_non_null(w);
        assert_string_equal(json_string_value(json_object_get(w, "address")), hexs(ad(11 + k), 20, hex));
        assert_true(json_is_true(json_object_get(w, "flagged")));
        assert_int_equal(json_integer_value(json_object_get(w, "entity")), ent(f, 11 + k));
        assert_string_equal(json_string_value(json_object_get(w, "typology")), "sponsor_fanout");
        assert_string_equal(json_string_value(json_object_get(w, "beneficiary")), hexs(ad(S), 20, hex));
        json_t *sg = signal_json(w, "third_party_funding");
        assert_non_null(sg);
        assert_string_equal(json_string_value(json_object_get(sg, "family")), "funding");
        json_t *e0 = json_array_get(json_object_get(sg, "evidence"), 0);
        json_t *e1 = json_array_get(json_object_get(sg, "evidence"), 1);
        uint8_t h[32];
        tx_hash(h, 100 + 300 * k, 0);
        assert_string_equal(json_string_value(json_object_get(e0, "tx_hash")), hexs(h, 32, want));
        assert_int_equal(json_integer_value(json_object_get(e0, "chain_id")), CHAIN);
        assert_int_equal(json_integer_value(json_object_get(e0, "block")), 100 + 300 * k);
        assert_int_equal(json_integer_value(json_object_get(e0, "tx_index")), 0);
        assert_string_equal(json_string_value(json_object_get(e0, "record")), "transfer");
        tx_hash(h, 110 + 300 * k, 0);
        assert_string_equal(json_string_value(json_object_get(e1, "tx_hash")), hexs(h, 32, want));
        assert_int_equal(json_integer_value(json_object_get(e1, "log_index")), 0);
        assert_string_equal(json_string_value(json_object_get(e1, "record")), "event");
        json_decref(w);
    }
    json_t *none = NULL;
    ok(gl_results_get_wallet(f->s, ad(S), &none, &err), &err); /* S bought nothing */
    assert_null(none);

    size_t ne[2] = {0, 0}, nf[2] = {0, 0};
    ok(gl_results_each(f->s, 'e', count_cb, ne, &err), &err);
    assert_int_equal(ne[0], f->a->n_entities);
    ok(gl_results_each(f->s, 'f', count_cb, nf, &err), &err);
    assert_int_equal(nf[0], f->a->n_scores);
    assert_int_equal(nf[0], 3);
    assert_int_equal(nf[1], 3);
    /* the entity record of S's entity lists S and the three wallets */
    json_t *er = NULL;
    ok(gl_results_get_entity(f->s, ent(f, S), &er, &err), &err);
    assert_non_null(er);
    assert_int_equal(json_integer_value(json_object_get(er, "size")), 4);
    assert_int_equal(json_integer_value(json_object_get(er, "id")), ent(f, S));
    assert_string_equal(json_string_value(json_object_get(er, "kind")),
                        gl_entity_kind_name((gl_entity_kind)f->a->entity_kind[ent(f, S)]));
    json_t *addrs = json_object_get(er, "addresses");
    assert_int_equal(json_array_size(addrs), 4);
    bool has_s = false;
    for (size_t i = 0; i < 4; i++)
        has_s |= !strcmp(json_string_value(json_array_get(addrs, i)), hexs(ad(S), 20, hex));
    assert_true(has_s);
    /* every link of the entity, each as the analysis holds it */
    json_t *lks = json_object_get(er, "links");
    size_t want_links = 0;
    for (size_t i = 0; i < f->a->n_links; i++)
        want_links += f->a->entity[f->a->links[i].a] == ent(f, S) || f->a->entity[f->a->links[i].b] == ent(f, S);
    assert_true(want_links > 0);
    assert_int_equal(json_array_size(lks), want_links);
    for (size_t i = 0; i < json_array_size(lks); i++) {
        json_t *l = json_array_get(lks, i);
        const char *st = json_string_value(json_object_get(l, "strength"));
        assert_true(!strcmp(st, "hard") || !strcmp(st, "soft"));
        assert_non_null(json_string_value(json_object_get(l, "rule")));
        assert_int_equal(strlen(json_string_value(json_object_get(l, "a"))), 42);
        assert_int_equal(strlen(json_string_value(json_object_get(l, "b"))), 42);
        double c = json_real_value(json_object_get(l, "confidence"));
        assert_true(c > 0 && c <= 1);
        assert_true(json_is_boolean(json_object_get(l, "merged")));
        assert_true(json_is_object(json_object_get(l, "parameters")));
        json_t *evs = json_object_get(l, "evidence");
        assert_true(json_array_size(evs) >= 1);
        assert_true((size_t)json_integer_value(json_object_get(l, "evidence_count")) >= json_array_size(evs));
        for (size_t j = 0; j < json_array_size(evs); j++) {
            json_t *ev = json_array_get(evs, j);
            assert_int_equal(json_integer_value(json_object_get(ev, "chain_id")), CHAIN);
            /* resolved on reading: the tx hash of the position */
            assert_int_equal(strlen(json_string_value(json_object_get(ev, "tx_hash"))), 66);
        }
    }
    json_decref(er);
    /* a labelled entity: its label exactly, quotes and backslash included */
    ok(gl_results_get_entity(f->s, ent(f, P), &er, &err), &err);
    assert_non_null(er);
    char want_label[64];
    snprintf(want_label, sizeof want_label, "host \"quoted\" \\ ok %u", (unsigned)P);
    assert_string_equal(json_string_value(json_object_get(er, "label")), want_label);
    assert_string_equal(json_string_value(json_object_get(er, "label_category")), "host \"quoted\" \\ ok");
    json_decref(er);

    /* one more transfer: the analysis is stale */
    native(f, 2000, 0, S, 11, 1 * ETH);
    ok(gl_store_batch_commit(f->b, &err), &err);
    ok(gl_results_status(f->s, &found, &stale, NULL, &err), &err);
    assert_true(found);
    assert_true(stale);
    fx_free(f);
}

/* ------------------------------------------------------------------- eval */

/* a, b: self-authorization (our entity {a, b}); c: lease_for proxy for X
 * (flagged); d: funded by an exchange, no signal (not flagged); e: one
 * lease for X2 (flagged).  Truth: {a, b, c} one entity, d and e and X
 * alone; c (lease_for, beneficiary tX) and d (pass_through) are proxies, e
 * is not.
 *   entities over {a, b, c, d, e, X}: predicted pairs 1 (ab), true pairs 3
 *   (ab, ac, bc), correct 1: P 1.0, R 1/3, F1 0.5;
 *   flags: TP c, FN d, FP e: P 0.5, R 0.5; c's beneficiary X is in tX: 1/1;
 *   lease_for: truth 1, caught 1, guessed 2 (c, e), guess precision 0.5;
 *   pass_through: truth 1, caught 0. */
static void test_eval(void **state)
{
    (void)state;
    enum { a = 1, b, c, d, e, X, Xb, E, T, Z, P, M };
    fx *f = fx_new();
    label(f, E, "exchange");
    erc20(f, 5, 0, 0, T, a, Z, 100, b, T);
    native(f, 10, 0, E, c, 2 * ETH);
    lease(f, 20, 0, 0, M, c, X, P, 1 * ETH);
    lease(f, 30, 0, 0, M, c, X, P, 1 * ETH);
    native(f, 10, 1, E, d, 2 * ETH);
    lease(f, 20, 1, 1, M, d, 0, P, 1 * ETH);
    native(f, 10, 2, E, e, 2 * ETH);
    lease(f, 20, 2, 2, M, e, Xb, P, 1 * ETH);
    run(f);
    /* the analysis the figures rest on, checked first */
    assert_int_equal(ent(f, a), ent(f, b));
    assert_true(score_of(f, c)->flagged);
    assert_false(score_of(f, d)->flagged);
    assert_true(score_of(f, e)->flagged);
    assert_int_equal(n_flagged(f), 2);
    gl_err err = {0};
    ok(gl_results_write(f->s, f->g, f->a, &err), &err);

    char ha[43], hb[43], hc[43], hd[43], he[43], hx[43];
    char *truth = NULL;
    assert_true(asprintf(&truth,
                         "{\"format\":\"gpuledger-truth/1\",\"scenario\":\"hand\",\"seed\":7,"
                         "\"addresses\":{"
                         "\"%s\":{\"entity\":\"t1\",\"kind\":\"buyer\"},"
                         "\"%s\":{\"entity\":\"t1\",\"kind\":\"buyer\"},"
                         "\"%s\":{\"entity\":\"t1\",\"kind\":\"intermediary\","
                         "  \"proxy\":{\"typology\":\"lease_for\",\"beneficiary\":\"tX\"}},"
                         "\"%s\":{\"entity\":\"t2\",\"kind\":\"intermediary\","
                         "  \"proxy\":{\"typology\":\"pass_through\",\"beneficiary\":\"tY\"}},"
                         "\"%s\":{\"entity\":\"t3\",\"kind\":\"buyer\"},"
                         "\"%s\":{\"entity\":\"tX\",\"kind\":\"buyer\"}},"
                         "\"entities\":{\"t1\":{\"kind\":\"buyer\"},\"t2\":{\"kind\":\"intermediary\"},"
                         "\"t3\":{\"kind\":\"buyer\"},\"tX\":{\"kind\":\"buyer\"}}}",
                         hexs(ad(a), 20, ha), hexs(ad(b), 20, hb), hexs(ad(c), 20, hc), hexs(ad(d), 20, hd),
                         hexs(ad(e), 20, he), hexs(ad(X), 20, hx)) > 0);
    char path[300];
    snprintf(path, sizeof path, "%s/truth.json", f->dir);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(truth, fp);
    fclose(fp);
    free(truth);

    json_t *out = NULL;
    ok(gl_eval_run(f->s, path, 0, &out, &err), &err);
    assert_non_null(out);
    json_t *en = json_object_get(out, "entities");
    assert_int_equal(json_integer_value(json_object_get(en, "addresses")), 6);
    assert_int_equal(json_integer_value(json_object_get(en, "pairs_predicted")), 1);
    assert_int_equal(json_integer_value(json_object_get(en, "pairs_true")), 3);
    assert_int_equal(json_integer_value(json_object_get(en, "pairs_correct")), 1);
    assert_float_equal(json_real_value(json_object_get(en, "precision")), 1.0, 1e-9);
    assert_float_equal(json_real_value(json_object_get(en, "recall")), 1.0 / 3, 1e-9);
    assert_float_equal(json_real_value(json_object_get(en, "f1")), 0.5, 1e-9);
    assert_int_equal(json_integer_value(json_object_get(en, "merges_across_kinds")), 0);
    json_t *fl = json_object_get(out, "flags");
    assert_int_equal(json_integer_value(json_object_get(fl, "true_positives")), 1);
    assert_int_equal(json_integer_value(json_object_get(fl, "false_positives")), 1);
    assert_int_equal(json_integer_value(json_object_get(fl, "false_negatives")), 1);
    assert_float_equal(json_real_value(json_object_get(fl, "precision")), 0.5, 1e-9);
    assert_float_equal(json_real_value(json_object_get(fl, "recall")), 0.5, 1e-9);
    assert_float_equal(json_real_value(json_object_get(fl, "beneficiary_accuracy")), 1.0, 1e-9);
    assert_int_equal(json_integer_value(json_object_get(fl, "beneficiaries_named")), 1);
    json_t *lf = json_object_get(json_object_get(fl, "per_typology"), "lease_for");
    assert_int_equal(json_integer_value(json_object_get(lf, "truth")), 1);
    assert_int_equal(json_integer_value(json_object_get(lf, "caught")), 1);
    assert_int_equal(json_integer_value(json_object_get(lf, "guessed")), 2);
    assert_float_equal(json_real_value(json_object_get(lf, "guess_precision")), 0.5, 1e-9);
    json_t *pt = json_object_get(json_object_get(fl, "per_typology"), "pass_through");
    assert_int_equal(json_integer_value(json_object_get(pt, "truth")), 1);
    assert_int_equal(json_integer_value(json_object_get(pt, "caught")), 0);
    assert_float_equal(json_real_value(json_object_get(pt, "recall")), 0.0, 1e-9);
    const char *fp0 = json_string_value(json_object_get(json_array_get(json_object_get(fl, "false_positive_list"), 0), "address"));
    assert_non_null(fp0);
    assert_string_equal(fp0, he);
    const char *fn0 = json_string_value(json_object_get(json_array_get(json_object_get(fl, "missed_list"), 0), "address"));
    assert_non_null(fn0);
    assert_string_equal(fn0, hd);
    assert_false(json_is_true(json_object_get(out, "stale")));
    json_decref(out);
    fx_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_deposit_sweep_and_reuse),
        cmocka_unit_test(test_deposit_sweep_near_miss),
        cmocka_unit_test(test_deposit_sweep_token_partial),
        cmocka_unit_test(test_hub_by_degree),
        cmocka_unit_test(test_hub_market_host),
        cmocka_unit_test(test_hub_market_renter),
        cmocka_unit_test(test_hub_plain_fanout_stays),
        cmocka_unit_test(test_hub_market_forwarder_not_deposit),
        cmocka_unit_test(test_self_authorization),
        cmocka_unit_test(test_self_authorization_near_miss),
        cmocka_unit_test(test_multi_buyer_tx),
        cmocka_unit_test(test_multi_buyer_tx_near_miss),
        cmocka_unit_test(test_provider_sweep),
        cmocka_unit_test(test_provider_sweep_near_miss),
        cmocka_unit_test(test_airdrop_aggregate),
        cmocka_unit_test(test_platform_contracts),
        cmocka_unit_test(test_soft_links),
        cmocka_unit_test(test_proxy_sponsor_fanout),
        cmocka_unit_test(test_proxy_pass_through),
        cmocka_unit_test(test_proxy_reimbursed),
        cmocka_unit_test(test_proxy_lease_for),
        cmocka_unit_test(test_proxy_livepeer_third_party),
        cmocka_unit_test(test_proxy_golem_deposit),
        cmocka_unit_test(test_honest_exchange_withdrawals),
        cmocka_unit_test(test_honest_airdrop_recipients),
        cmocka_unit_test(test_honest_topup),
        cmocka_unit_test(test_honest_provider_own_gas),
        cmocka_unit_test(test_honest_leftovers_to_deposit),
        cmocka_unit_test(test_honest_provider_ring),
        cmocka_unit_test(test_honest_provider_ring_with_exchange_gas),
        cmocka_unit_test(test_graph_empty_arrays),
        cmocka_unit_test(test_adversarial_store),
        cmocka_unit_test(test_controlled_gpu_context),
        cmocka_unit_test(test_results_round_trip),
        cmocka_unit_test(test_eval),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
