/* test_trail.c - the funding trail on a real node (anvil).
 *
 * The chain, built by the test (anvil mines one block per transaction):
 *
 *   F (dev 0) deploys a MockStablecoin and mints to itself (0x0 -> F);
 *   F -> A 5 ETH and 300 USDC;  A -> B 2 ETH and 100 USDC;
 *   B -> C 1 ETH and 50 USDC;   B -> C2 0.1 ETH;  B -> C3 0.1 ETH;
 *   C -> D 0.5 ETH and 10 USDC;
 *   F deploys GpuMarket; P registers a native-coin offer; A leases it
 *   (A -> market, the tx's value); A ends the lease; P withdraws (the market
 *   pays P in an internal call: only traces show it).
 *
 * The store gets, by hand, one LeaseOpened event with A as buyer and P as
 * provider, emitted by the market.  Expanding 2 hops must then store exactly
 * the transfers of A and P (hop 1) and of F and B (hop 2): never C -> D.
 * The market is a platform contract, 0x0 is not expanded, C, C2, C3 are at
 * the depth limit.  Oracles: every expected transfer (block, position,
 * sender, recipient, amount, token) comes from the test's own transactions
 * and their receipts; block headers from the node; the internal call's
 * number (1: the first call under the top-level one) from the trace
 * semantics (depth-first numbering).  anvil has trace_filter, so the block
 * scan is tested by forcing it; it cannot see the internal payment.
 */
#include <ftw.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "gpuledger/abi.h"
#include "gpuledger/block.h"
#include "gpuledger/bytes.h"
#include "gpuledger/endpoint.h"
#include "gpuledger/rpc.h"
#include "gpuledger/store.h"
#include "gpuledger/trail.h"

#include "../support/anvil.h"
#include "../support/faultproxy.h"
#include "../support/testutil.h"

#define ETH 1000000000000000000ULL
#define CHAIN GL_ANVIL_DEFAULT_CHAIN_ID
#define NT 32 /* expected transfers */

/* One transfer the test made, as the store must hold it. */
typedef struct want {
    const char *what;
    gl_store_pos pos;
    gl_store_asset asset;
    uint8_t token[20];
    uint8_t from[20], to[20];
    uint64_t amount;
    bool native_traced; /* an internal call: invisible to the block scan */
} want;

typedef struct env {
    gl_anvil *node;
    gl_rpc *rpc;
    char root[4096];
    char tmp[512];
    char acct[GL_ANVIL_DEV_ACCOUNTS][43];
    uint8_t addr[GL_ANVIL_DEV_ACCOUNTS][20];
    char token[43], market[43];
    uint8_t token_b[20], market_b[20];
    uint64_t lease_block, head;
    want w[NT];
    size_t nw;
    int store_seq;
} env;

/* dev accounts */
enum { F = 0, A = 1, B = 2, C = 3, D = 4, P = 5, C2 = 6, C3 = 7 };

/* ------------------------------------------------------------- chain */

static json_t *rpc_ok(env *e, const char *method, json_t *params)
{
    json_t *res = NULL;
    gl_err err;
    if (gl_rpc_call(e->rpc, method, params, &res, &err))
        fail_msg("%s: %s", method, err.msg);
    return res;
}

static void lower_copy(char *dst, const char *src)
{
    size_t n = strlen(src);
    for (size_t i = 0; i <= n; i++)
        dst[i] = (char)((src[i] >= 'A' && src[i] <= 'F') ? src[i] - 'A' + 'a' : src[i]);
}

static json_t *wait_receipt(env *e, json_t *hash)
{
    json_t *rcpt = NULL;
    for (int i = 0; i < 1000 && (!rcpt || json_is_null(rcpt)); i++) {
        if (rcpt) {
            json_decref(rcpt);
            nanosleep(&(struct timespec){.tv_nsec = 10 * 1000 * 1000}, NULL);
        }
        rcpt = rpc_ok(e, "eth_getTransactionReceipt", json_pack("[O]", hash));
    }
    if (!json_is_object(rcpt))
        fail_msg("no receipt for %s", json_string_value(hash));
    const char *status = json_string_value(json_object_get(rcpt, "status"));
    if (!status || strcmp(status, "0x1"))
        fail_msg("transaction %s failed", json_string_value(hash));
    return rcpt;
}

static uint64_t q(const json_t *v)
{
    const char *s = json_string_value(v);
    assert_non_null(s);
    return strtoull(s, NULL, 16);
}

/* Send from `from` (to NULL: deploy); data may be NULL; returns the receipt. */
static json_t *send(env *e, int from, const char *to, const gl_buf *data, uint64_t value)
{
    json_t *tx = json_pack("{s:s}", "from", e->acct[from]);
    if (to)
        json_object_set_new(tx, "to", json_string(to));
    if (data) {
        char *h = gl_hex_encode_alloc(data->data, data->len, true);
        json_object_set_new(tx, "data", json_string(h));
        free(h);
    }
    if (value) {
        char v[40];
        snprintf(v, sizeof v, "0x%" PRIx64, value);
        json_object_set_new(tx, "value", json_string(v));
    }
    json_t *hash = rpc_ok(e, "eth_sendTransaction", json_pack("[o]", tx));
    json_t *r = wait_receipt(e, hash);
    json_decref(hash);
    return r;
}

static json_t *call(env *e, int from, const char *to, const char *sig, json_t *args, uint64_t value)
{
    gl_abi_sig s;
    gl_err err;
    if (gl_abi_sig_parse(&s, sig, &err))
        fail_msg("%s: %s", sig, err.msg);
    gl_buf data = GL_BUF_INIT;
    if (gl_abi_encode_call(&data, &s, args, &err))
        fail_msg("encode %s: %s", sig, err.msg);
    gl_abi_sig_release(&s);
    json_decref(args);
    json_t *r = send(e, from, to, &data, value);
    gl_buf_release(&data);
    return r;
}

static void deploy(env *e, const char *name, char out[43], uint8_t out_b[20])
{
    char path[4300];
    snprintf(path, sizeof path, "%s/fixtures/contracts/build/%s.json", e->root, name);
    json_t *art = json_load_file(path, 0, NULL);
    assert_non_null(art);
    gl_buf code = GL_BUF_INIT;
    assert_int_equal(gl_hex_decode_buf(json_string_value(json_object_get(art, "bytecode")), &code, NULL), GL_OK);
    json_decref(art);
    json_t *r = send(e, F, NULL, &code, 0);
    gl_buf_release(&code);
    lower_copy(out, json_string_value(json_object_get(r, "contractAddress")));
    assert_int_equal(gl_hex_decode_exact(out, out_b, 20, NULL), GL_OK);
    json_decref(r);
}

static void expect_tx(env *e, const char *what, const json_t *r, int from, const uint8_t *to, uint64_t amount)
{
    want *w = &e->w[e->nw++];
    memset(w, 0, sizeof *w);
    w->what = what;
    w->pos = (gl_store_pos){CHAIN, q(json_object_get(r, "blockNumber")), GL_STORE_POS_TX,
                            (uint32_t)q(json_object_get(r, "transactionIndex")), 0};
    w->asset = GL_STORE_ASSET_NATIVE;
    memcpy(w->from, e->addr[from], 20);
    memcpy(w->to, to, 20);
    w->amount = amount;
}

/* The receipt's only Transfer log. */
static void expect_log(env *e, const char *what, const json_t *r, const uint8_t *from, const uint8_t *to,
                       uint64_t amount)
{
    const json_t *logs = json_object_get(r, "logs");
    assert_int_equal(json_array_size(logs), 1);
    const json_t *l = json_array_get(logs, 0);
    want *w = &e->w[e->nw++];
    memset(w, 0, sizeof *w);
    w->what = what;
    w->pos = (gl_store_pos){CHAIN, q(json_object_get(l, "blockNumber")), GL_STORE_POS_LOG,
                            (uint32_t)q(json_object_get(l, "logIndex")), 0};
    w->asset = GL_STORE_ASSET_ERC20;
    memcpy(w->token, e->token_b, 20);
    memcpy(w->from, from, 20);
    memcpy(w->to, to, 20);
    w->amount = amount;
}

static void native(env *e, const char *what, int from, int to, uint64_t amount)
{
    json_t *r = send(e, from, e->acct[to], NULL, amount);
    expect_tx(e, what, r, from, e->addr[to], amount);
    json_decref(r);
}

static void usdc(env *e, const char *what, int from, int to, uint64_t amount)
{
    json_t *r = call(e, from, e->token, "transfer(address,uint256)", json_pack("[s,I]", e->acct[to], (json_int_t)amount),
                     0);
    expect_log(e, what, r, e->addr[from], e->addr[to], amount);
    json_decref(r);
}

static int group_setup(void **state)
{
    static env e;
    gl_err err;
    if (!gl_test_root(e.root, sizeof e.root))
        return -1;
    if (gl_anvil_start(NULL, &e.node, &err)) {
        fprintf(stderr, "cannot start anvil: %s\n", err.msg);
        return -1;
    }
    e.rpc = gl_rpc_new(gl_anvil_url(e.node), &err);
    if (!e.rpc)
        return -1;
    for (int i = 0; i < GL_ANVIL_DEV_ACCOUNTS; i++) {
        lower_copy(e.acct[i], gl_anvil_dev_address(i));
        gl_hex_decode_exact(e.acct[i], e.addr[i], 20, NULL);
    }
    const char *base = getenv("TMPDIR");
    snprintf(e.tmp, sizeof e.tmp, "%s/gl_trail_XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(e.tmp))
        return -1;
    *state = &e;
    return 0;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static int group_teardown(void **state)
{
    env *e = *state;
    if (!e)
        return 0;
    gl_rpc_free(e->rpc);
    gl_anvil_stop(e->node);
    nftw(e->tmp, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    return 0;
}

/* Build the chain once (the first test calls it). */
static void build_chain(env *e)
{
    if (e->nw)
        return;
    static const uint8_t zero[20];
    deploy(e, "MockStablecoin", e->token, e->token_b);
    json_t *r = call(e, F, e->token, "mint(address,uint256)", json_pack("[s,I]", e->acct[F], (json_int_t)1000000000000),
                     0);
    expect_log(e, "mint 0x0 -> F", r, zero, e->addr[F], 1000000000000);
    json_decref(r);
    native(e, "F -> A", F, A, 5 * ETH);
    usdc(e, "F -> A usdc", F, A, 300000000);
    native(e, "A -> B", A, B, 2 * ETH);
    usdc(e, "A -> B usdc", A, B, 100000000);
    native(e, "B -> C", B, C, ETH);
    usdc(e, "B -> C usdc", B, C, 50000000);
    native(e, "B -> C2", B, C2, ETH / 10);
    native(e, "B -> C3", B, C3, ETH / 10);
    native(e, "C -> D", C, D, ETH / 2);
    usdc(e, "C -> D usdc", C, D, 10000000);
    deploy(e, "GpuMarket", e->market, e->market_b);
    json_decref(call(e, P, e->market, "registerOffer(string,uint32,uint256,string,address)",
                     json_pack("[s,i,I,s,s]", "H100", 8, (json_int_t)(ETH / 1000), "eu", "0x0000000000000000000000000000000000000000"),
                     0));
    uint64_t price = 2 * (ETH / 1000); /* 2 GPUs x 1 hour */
    r = call(e, A, e->market, "lease(uint256,uint32,uint32)", json_pack("[i,i,i]", 1, 2, 1), price);
    expect_tx(e, "A -> market (lease)", r, A, e->market_b, price);
    e->lease_block = q(json_object_get(r, "blockNumber"));
    json_decref(r);
    json_decref(call(e, A, e->market, "endLease(uint256)", json_pack("[i]", 1), 0));
    r = call(e, P, e->market, "withdraw(address)", json_pack("[s]", "0x0000000000000000000000000000000000000000"), 0);
    want *w = &e->w[e->nw++];
    memset(w, 0, sizeof *w);
    w->what = "market -> P (internal)";
    /* the withdraw's top-level call is number 0; its value call to P is
     * the first call under it: number 1 */
    w->pos = (gl_store_pos){CHAIN, q(json_object_get(r, "blockNumber")), GL_STORE_POS_TRACE,
                            (uint32_t)q(json_object_get(r, "transactionIndex")), 1};
    w->asset = GL_STORE_ASSET_NATIVE;
    memcpy(w->from, e->market_b, 20);
    memcpy(w->to, e->addr[P], 20);
    w->amount = price;
    w->native_traced = true;
    json_decref(r);
    json_t *bn = rpc_ok(e, "eth_blockNumber", NULL);
    e->head = q(bn);
    json_decref(bn);
}

/* C -> D is three hops from A: never reached at two. */
static bool beyond(const want *w) { return strstr(w->what, "C -> D") != NULL; }

/* ------------------------------------------------------------ the store */

static gl_store *new_store(env *e, char *dir_out /* 700 */)
{
    snprintf(dir_out, 700, "%s/s%d", e->tmp, e->store_seq++);
    gl_err err;
    gl_store_open_opts oo = {.create = true};
    gl_store *s = gl_store_open(dir_out, &oo, &err);
    if (!s)
        fail_msg("store: %s", err.msg);
    gl_store_batch *b = gl_store_batch_new(s, &err);
    gl_store_event ev;
    memset(&ev, 0, sizeof ev);
    ev.chain_id = CHAIN;
    ev.block = e->lease_block;
    strcpy(ev.platform, "gpumarket-local");
    strcpy(ev.name, "LeaseOpened");
    memcpy(ev.contract, e->market_b, 20);
    ev.n_roles = 2;
    ev.roles[0].role = GL_STORE_ROLE_BUYER;
    memcpy(ev.roles[0].addr, e->addr[A], 20);
    ev.roles[1].role = GL_STORE_ROLE_PROVIDER;
    memcpy(ev.roles[1].addr, e->addr[P], 20);
    if (gl_store_batch_put_event(b, &ev, &err) || gl_store_batch_commit(b, &err))
        fail_msg("event: %s", err.msg);
    gl_store_batch_free(b);
    return s;
}

/* A pool on url with at most `conc` requests in flight (0: the default;
 * 1: every batch goes as one request, its calls in order, so that a proxy
 * rule's schedule picks one call). */
static gl_endpoints *endpoints_conc(const char *url, unsigned conc)
{
    const char *urls[1] = {url};
    gl_endpoint_opts o = {.urls = urls, .nurls = 1, .seed = 1, .max_concurrency = conc};
    gl_err err;
    gl_endpoints *ep = gl_endpoints_new(&o, &err);
    if (!ep)
        fail_msg("endpoints: %s", err.msg);
    return ep;
}

static gl_endpoints *endpoints_at(const char *url) { return endpoints_conc(url, 0); }

static gl_endpoints *endpoints(env *e) { return endpoints_at(gl_anvil_url(e->node)); }

static gl_trail_opts opts(unsigned depth, gl_trail_native native)
{
    gl_trail_opts o = {.depth = depth, .window = 1000, .confirmations = 0, .confirmations_set = true,
                       .native = native};
    return o;
}

static void expand(env *e, gl_store *s, const gl_trail_opts *o, gl_trail_report *rep)
{
    gl_endpoints *ep = endpoints(e);
    gl_err err;
    if (gl_trail_expand(s, ep, o, rep, &err))
        fail_msg("expand: %s", err.msg);
    gl_endpoints_free(ep);
}

static bool find_transfer(gl_store *s, const gl_store_pos *pos, gl_store_transfer *out)
{
    gl_err err;
    gl_store_iter *it = gl_store_iter_transfers(s, pos->chain_id, pos->block, pos->block, &err);
    assert_non_null(it);
    bool found = false;
    for (bool end = false; !found;) {
        if (gl_store_next_transfer(it, out, &end, &err))
            fail_msg("read: %s", err.msg);
        if (end)
            break;
        found = out->pos.kind == pos->kind && out->pos.index == pos->index && out->pos.sub == pos->sub;
    }
    gl_store_iter_free(it);
    return found;
}

static uint64_t count_transfers(gl_store *s)
{
    gl_err err;
    gl_store_iter *it = gl_store_iter_transfers(s, CHAIN, 0, UINT64_MAX, &err);
    uint64_t n = 0;
    for (bool end = false;;) {
        gl_store_transfer t;
        if (gl_store_next_transfer(it, &t, &end, &err))
            fail_msg("read: %s", err.msg);
        if (end)
            break;
        n++;
    }
    gl_store_iter_free(it);
    return n;
}

static bool has_appearance(gl_store *s, const uint8_t addr[20], const gl_store_pos *pos, gl_store_role role)
{
    gl_err err;
    gl_store_iter *it = gl_store_iter_appearances(s, addr, &err);
    bool found = false;
    for (bool end = false; !found;) {
        gl_store_appearance a;
        if (gl_store_next_appearance(it, &a, &end, &err))
            fail_msg("read: %s", err.msg);
        if (end)
            break;
        found = a.role == role && a.pos.block == pos->block && a.pos.kind == pos->kind &&
                a.pos.index == pos->index && a.pos.sub == pos->sub;
    }
    gl_store_iter_free(it);
    return found;
}

/* As sender or recipient of a transfer. */
static size_t count_appearances(gl_store *s, const uint8_t addr[20])
{
    gl_err err;
    gl_store_iter *it = gl_store_iter_appearances(s, addr, &err);
    size_t n = 0;
    for (bool end = false;;) {
        gl_store_appearance a;
        if (gl_store_next_appearance(it, &a, &end, &err))
            fail_msg("read: %s", err.msg);
        if (end)
            break;
        n += a.role == GL_STORE_ROLE_SENDER || a.role == GL_STORE_ROLE_RECIPIENT;
    }
    gl_store_iter_free(it);
    return n;
}

static bool same_addr(const json_t *hex, const uint8_t a[20])
{
    uint8_t b[20];
    return gl_hex_decode_exact(json_string_value(hex), b, 20, NULL) == GL_OK && !memcmp(a, b, 20);
}

/* Stored block b's parent link, against anvil (asked directly for block
 * b.number - 1): its parent hash is anvil's hash of the parent, and the
 * trail checked it (PARENT_OK). */
static void check_parent_ok(env *e, const gl_store_block *b)
{
    assert_true(b->number > 0);
    char num[24], h[67];
    snprintf(num, sizeof num, "0x%" PRIx64, b->number - 1);
    json_t *parent = rpc_ok(e, "eth_getBlockByNumber", json_pack("[s,b]", num, false));
    assert_true(json_is_object(parent));
    const char *ph = json_string_value(json_object_get(parent, "hash"));
    assert_non_null(ph);
    if (strcasecmp(gl_hex_encode(b->parent_hash, 32, true, h), ph))
        fail_msg("block %" PRIu64 ": parent hash %s, anvil's block %" PRIu64 " is %s", b->number, h, b->number - 1, ph);
    assert_true(b->verified & GL_STORE_BLOCK_PARENT_OK);
    json_decref(parent);
}

/* The transaction behind stored transfer t, as the store holds it, against
 * anvil's own answer (eth_getTransactionByHash, the oracle): same block and
 * position, sender, recipient and value, with its tx_from/tx_to
 * appearances; the tx's flags and the transfer's are both `flags`. */
static void check_tx(env *e, gl_store *s, const gl_store_transfer *t, uint32_t flags)
{
    char h[67];
    gl_hex_encode(t->tx_hash, 32, true, h);
    json_t *tx = rpc_ok(e, "eth_getTransactionByHash", json_pack("[s]", h));
    assert_true(json_is_object(tx));
    gl_store_tx rec;
    bool found;
    gl_err err;
    assert_int_equal(gl_store_get_tx_by_hash(s, CHAIN, t->tx_hash, &rec, &found, &err), GL_OK);
    if (!found)
        fail_msg("tx %s of the transfer at block %" PRIu64 " is not stored", h, t->pos.block);
    assert_int_equal(rec.block, q(json_object_get(tx, "blockNumber")));
    assert_int_equal(rec.block, t->pos.block);
    assert_int_equal(rec.index, q(json_object_get(tx, "transactionIndex")));
    assert_true(same_addr(json_object_get(tx, "from"), rec.from));
    const json_t *to = json_object_get(tx, "to");
    assert_int_equal(rec.has_to, !json_is_null(to));
    if (rec.has_to)
        assert_true(same_addr(to, rec.to));
    gl_u256 v;
    assert_int_equal(gl_u256_parse_hex(&v, json_string_value(json_object_get(tx, "value")), NULL), GL_OK);
    assert_int_equal(gl_u256_cmp(&v, &rec.value), 0);
    assert_int_equal(rec.flags, flags);
    assert_int_equal(t->flags, flags);
    gl_store_pos pos = {CHAIN, rec.block, GL_STORE_POS_TX, rec.index, 0};
    assert_true(has_appearance(s, rec.from, &pos, GL_STORE_ROLE_TX_FROM));
    if (rec.has_to)
        assert_true(has_appearance(s, rec.to, &pos, GL_STORE_ROLE_TX_TO));
    json_decref(tx);
}

/* Every wanted transfer for which `wanted` says yes is stored exactly as
 * made, with its appearances, its sender checked and its tx stored; the
 * others are absent; nothing else is stored.  Returns how many were
 * wanted. */
static size_t check_transfers(env *e, gl_store *s, bool (*wanted)(const want *, void *), void *ctx)
{
    size_t n = 0;
    for (size_t i = 0; i < e->nw; i++) {
        const want *w = &e->w[i];
        gl_store_transfer t;
        bool found = find_transfer(s, &w->pos, &t);
        if (!wanted(w, ctx)) {
            if (found)
                fail_msg("%s (block %" PRIu64 ") should not be stored", w->what, w->pos.block);
            continue;
        }
        n++;
        if (!found)
            fail_msg("%s (block %" PRIu64 ") is not stored", w->what, w->pos.block);
        assert_int_equal(t.asset, w->asset);
        assert_memory_equal(t.from, w->from, 20);
        assert_memory_equal(t.to, w->to, 20);
        uint64_t amt;
        assert_true(gl_u256_to_u64(&t.amount, &amt));
        assert_int_equal(amt, w->amount);
        if (w->asset == GL_STORE_ASSET_ERC20) {
            assert_memory_equal(t.token, e->token_b, 20);
            assert_true(has_appearance(s, e->token_b, &w->pos, GL_STORE_ROLE_TOKEN));
        }
        static const uint8_t zero[20];
        if (memcmp(w->from, zero, 20))
            assert_true(has_appearance(s, w->from, &w->pos, GL_STORE_ROLE_SENDER));
        assert_true(has_appearance(s, w->to, &w->pos, GL_STORE_ROLE_RECIPIENT));
        check_tx(e, s, &t, GL_STORE_TX_SENDER_OK);
        /* its block header, from the node */
        gl_store_block blk;
        bool bf;
        gl_err err;
        assert_int_equal(gl_store_get_block(s, CHAIN, w->pos.block, &blk, &bf, &err), GL_OK);
        assert_true(bf);
        char num[24];
        snprintf(num, sizeof num, "0x%" PRIx64, w->pos.block);
        json_t *hdr = rpc_ok(e, "eth_getBlockByNumber", json_pack("[s,b]", num, false));
        uint8_t h[32];
        assert_int_equal(gl_hex_decode_exact(json_string_value(json_object_get(hdr, "hash")), h, 32, NULL), GL_OK);
        assert_memory_equal(blk.hash, h, 32);
        assert_int_equal(blk.timestamp, q(json_object_get(hdr, "timestamp")));
        assert_true(blk.verified & GL_STORE_BLOCK_HASH_OK);
        check_parent_ok(e, &blk);
        json_decref(hdr);
    }
    assert_int_equal(count_transfers(s), n);
    return n;
}

static bool two_hops_traced(const want *w, void *ctx)
{
    (void)ctx;
    return !beyond(w);
}

static bool two_hops_scanned(const want *w, void *ctx)
{
    (void)ctx;
    return !beyond(w) && !w->native_traced;
}

/* One hop: the transfers of A and P only. */
static bool one_hop(const want *w, void *ctx)
{
    env *e = ctx;
    return !memcmp(w->from, e->addr[A], 20) || !memcmp(w->to, e->addr[A], 20) || !memcmp(w->to, e->addr[P], 20);
}

/* B not expanded: A's and P's, and F's. */
static bool b_not_expanded(const want *w, void *ctx)
{
    env *e = ctx;
    return one_hop(w, ctx) || !memcmp(w->from, e->addr[F], 20) || !memcmp(w->to, e->addr[F], 20);
}

/* anvil's own answer for block n (hashes only). */
static json_t *node_block(env *e, uint64_t n)
{
    char num[24];
    snprintf(num, sizeof num, "0x%" PRIx64, n);
    json_t *b = rpc_ok(e, "eth_getBlockByNumber", json_pack("[s,b]", num, false));
    assert_true(json_is_object(b));
    return b;
}

static bool same_hex(const json_t *v, const char *hex)
{
    const char *s = json_string_value(v);
    return s && hex && !strcasecmp(s, hex);
}

/* The findings of the store at block `block` (`from`..`to` when block is
 * UINT64_MAX: the whole chain), as a JSON array (the caller owns it). */
static json_t *findings_at(gl_store *s, uint64_t block)
{
    gl_err err;
    uint64_t lo = block == UINT64_MAX ? 0 : block;
    gl_store_iter *it = gl_store_iter_findings(s, CHAIN, lo, block, &err);
    assert_non_null(it);
    json_t *all = json_array();
    for (bool end = false;;) {
        gl_store_finding f;
        if (gl_store_next_finding(it, &f, &end, &err))
            fail_msg("read: %s", err.msg);
        if (end)
            break;
        json_array_append_new(all, f.json);
    }
    gl_store_iter_free(it);
    return all;
}

/* The one finding of `kind` at block in list fs (borrowed), failing when
 * there is none or more than one. */
static const json_t *one_finding(const json_t *fs, const char *kind, uint64_t block)
{
    const json_t *found = NULL;
    size_t i, n = 0;
    json_t *f;
    json_array_foreach(fs, i, f)
    {
        if (strcmp(json_string_value(json_object_get(f, "kind")), kind))
            continue;
        n++;
        found = f;
    }
    if (n != 1)
        fail_msg("block %" PRIu64 ": %zu %s findings, not 1", block, n, kind);
    assert_int_equal(json_integer_value(json_object_get(found, "block")), block);
    assert_string_equal(json_string_value(json_object_get(found, "source")), "trail");
    return found;
}

/* A clean run: no finding, and every stored block (not only those of the
 * wanted transfers) has anvil's own hash, recomputed (HASH_OK), and
 * anvil's hash of its parent as parent hash, checked (PARENT_OK). */
static void check_blocks_honest(env *e, gl_store *s)
{
    json_t *fs = findings_at(s, UINT64_MAX);
    if (json_array_size(fs)) {
        char *t = json_dumps(fs, JSON_COMPACT);
        fail_msg("findings in a clean run: %s", t);
    }
    json_decref(fs);
    gl_err err;
    gl_store_iter *it = gl_store_iter_blocks(s, CHAIN, 0, UINT64_MAX, &err);
    assert_non_null(it);
    size_t n = 0;
    for (bool end = false;;) {
        gl_store_block b;
        if (gl_store_next_block(it, &b, &end, &err))
            fail_msg("read: %s", err.msg);
        if (end)
            break;
        n++;
        json_t *nb = node_block(e, b.number);
        char h[67];
        assert_true(same_hex(json_object_get(nb, "hash"), gl_hex_encode(b.hash, 32, true, h)));
        assert_true(b.verified & GL_STORE_BLOCK_HASH_OK);
        check_parent_ok(e, &b);
        json_decref(nb);
    }
    gl_store_iter_free(it);
    assert_true(n > 0);
}

/* ---------------------------------------------------------------- tests */

static void test_two_hops_trace(void **state)
{
    env *e = *state;
    build_chain(e);
    char dir[700];
    gl_store *s = new_store(e, dir);
    gl_trail_opts o = opts(2, GL_TRAIL_NATIVE_AUTO);
    gl_trail_report rep;
    expand(e, s, &o, &rep);
    assert_string_equal(rep.native_method, "trace_filter");
    assert_int_equal(rep.seeds, 2);
    assert_int_equal(rep.levels, 3);
    assert_int_equal(rep.level[0].addresses, 2);    /* A, P */
    assert_int_equal(rep.level[0].expanded, 2);
    assert_int_equal(rep.level[0].next, 3);         /* F, B, market */
    assert_int_equal(rep.level[1].addresses, 3);
    assert_int_equal(rep.level[1].expanded, 2);     /* F, B */
    assert_int_equal(rep.level[1].skipped[GL_TRAIL_SKIP_PLATFORM], 1);
    assert_int_equal(rep.level[1].next, 4);         /* 0x0, C, C2, C3 */
    assert_int_equal(rep.level[2].skipped[GL_TRAIL_SKIP_ZERO], 1);
    assert_int_equal(rep.level[2].skipped[GL_TRAIL_SKIP_DEPTH], 3);
    size_t n = check_transfers(e, s, two_hops_traced, e);
    assert_int_equal(n, e->nw - 2);
    assert_int_equal(rep.transfers, n);
    assert_int_equal(count_appearances(s, e->addr[D]), 0);
    /* C: recipient of B's 1 ETH and 50 USDC; its own sends are not fetched */
    assert_int_equal(count_appearances(s, e->addr[C]), 2);
    assert_int_equal(rep.findings, 0);
    assert_int_equal(rep.txs, n); /* each transfer of this chain has a tx of its own */
    check_blocks_honest(e, s);
    gl_store_close(s);

    /* the state file says why each address was not expanded */
    char path[1024];
    snprintf(path, sizeof path, "%s/trail-%" PRIu64 ".json", dir, (uint64_t)CHAIN);
    json_t *st = json_load_file(path, 0, NULL);
    assert_non_null(st);
    json_t *addrs = json_object_get(st, "addresses");
    assert_string_equal(json_string_value(json_object_get(json_object_get(addrs, e->acct[C]), "status")),
                        "depth limit");
    assert_string_equal(json_string_value(json_object_get(json_object_get(addrs, e->market), "status")),
                        "platform contract");
    assert_string_equal(json_string_value(json_object_get(json_object_get(addrs, e->acct[B]), "status")), "expanded");
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(addrs, "0x0000000000000000000000000000000000000000"), "status")),
        "zero address");
    assert_null(json_object_get(addrs, e->acct[D]));
    json_decref(st);

    /* again: nothing fetched, nothing added */
    s = gl_store_open(dir, NULL, NULL);
    assert_non_null(s);
    expand(e, s, &o, &rep);
    assert_int_equal(rep.log_requests, 0);
    assert_int_equal(rep.trace_requests, 0);
    assert_int_equal(rep.level[0].fetched + rep.level[1].fetched, 0);
    assert_int_equal(rep.level[1].expanded, 2);
    check_transfers(e, s, two_hops_traced, e);
    gl_store_close(s);
}

static void test_two_hops_scan(void **state)
{
    env *e = *state;
    build_chain(e);
    char dir[700];
    gl_store *s = new_store(e, dir);
    gl_trail_opts o = opts(2, GL_TRAIL_NATIVE_SCAN);
    gl_trail_report rep;
    expand(e, s, &o, &rep);
    assert_string_equal(rep.native_method, "block scan");
    assert_int_equal(rep.trace_requests, 0);
    assert_int_equal(rep.unscanned_blocks, 0);
    assert_true(rep.scanned_blocks > 0);
    /* the market's internal payment to P is invisible to a scan: P has no
     * counterparty, and everything else is found */
    check_transfers(e, s, two_hops_scanned, e);
    assert_int_equal(rep.findings, 0);
    check_blocks_honest(e, s);
    gl_store_close(s);
}

static void test_scan_budget_then_resume(void **state)
{
    env *e = *state;
    build_chain(e);
    char dir[700];
    gl_store *s = new_store(e, dir);
    gl_trail_opts o = opts(2, GL_TRAIL_NATIVE_SCAN);
    o.max_scan_blocks = 5;
    gl_trail_report rep;
    expand(e, s, &o, &rep);
    assert_int_equal(rep.scanned_blocks, 5);
    assert_true(rep.unscanned_blocks > 0);
    assert_int_equal(rep.unscanned_from, 5); /* blocks 0..4 were scanned */
    assert_true(count_transfers(s) < e->nw - 3);
    /* a second run with budget left fetches the rest: the same result as
     * one unbounded run */
    o.max_scan_blocks = 0;
    expand(e, s, &o, &rep);
    assert_int_equal(rep.unscanned_blocks, 0);
    check_transfers(e, s, two_hops_scanned, e);
    gl_store_close(s);
}

static void test_depth_one_then_two(void **state)
{
    env *e = *state;
    build_chain(e);
    char dir[700];
    gl_store *s = new_store(e, dir);
    gl_trail_opts o = opts(1, GL_TRAIL_NATIVE_TRACE);
    gl_trail_report rep;
    expand(e, s, &o, &rep);
    assert_int_equal(rep.levels, 2);
    assert_int_equal(rep.level[1].skipped[GL_TRAIL_SKIP_DEPTH], 2); /* F, B */
    check_transfers(e, s, one_hop, e);
    /* deeper: A and P are not fetched again, F and B are */
    o.depth = 2;
    expand(e, s, &o, &rep);
    assert_int_equal(rep.level[0].fetched, 0);
    assert_int_equal(rep.level[1].fetched, 2);
    check_transfers(e, s, two_hops_traced, e);
    gl_store_close(s);
}

static void test_hub_degree(void **state)
{
    env *e = *state;
    build_chain(e);
    char dir[700];
    gl_store *s = new_store(e, dir);
    gl_trail_opts o = opts(2, GL_TRAIL_NATIVE_AUTO);
    o.hub_degree = 3; /* B meets A, C, C2, C3: a hub */
    gl_trail_report rep;
    expand(e, s, &o, &rep);
    assert_int_equal(rep.level[1].skipped[GL_TRAIL_SKIP_DEGREE], 1);
    assert_int_equal(rep.level[1].expanded, 1); /* F */
    /* B's transfers with A stay (A is in the trail); B -> C.. do not */
    check_transfers(e, s, b_not_expanded, e);
    gl_store_close(s);
    char path[1024];
    snprintf(path, sizeof path, "%s/trail-%" PRIu64 ".json", dir, (uint64_t)CHAIN);
    json_t *st = json_load_file(path, 0, NULL);
    json_t *b = json_object_get(json_object_get(st, "addresses"), e->acct[B]);
    assert_string_equal(json_string_value(json_object_get(b, "status")), "hub degree");
    assert_true(json_integer_value(json_object_get(b, "degree")) > 3);
    json_decref(st);
}

static void test_hub_label(void **state)
{
    env *e = *state;
    build_chain(e);
    char dir[700];
    gl_store *s = new_store(e, dir);
    gl_store_label l = {.confidence = 1000};
    memcpy(l.addr, e->addr[B], 20);
    strcpy(l.source, "test");
    strcpy(l.label, "Exchange B");
    strcpy(l.category, "exchange");
    gl_err err;
    gl_store_batch *b = gl_store_batch_new(s, &err);
    assert_int_equal(gl_store_batch_put_label(b, &l, &err), GL_OK);
    assert_int_equal(gl_store_batch_commit(b, &err), GL_OK);
    gl_store_batch_free(b);
    gl_trail_opts o = opts(2, GL_TRAIL_NATIVE_AUTO);
    gl_trail_report rep;
    expand(e, s, &o, &rep);
    assert_int_equal(rep.level[1].skipped[GL_TRAIL_SKIP_LABEL], 1);
    check_transfers(e, s, b_not_expanded, e);
    gl_store_close(s);
}

/* An endpoint without trace_filter (geth's and Infura's words) and with a
 * 3-block cap on eth_getLogs: the trail falls back to the block scan and
 * splits its log ranges, and finds the same transfers. */
static void test_no_trace_filter_and_range_caps(void **state)
{
    env *e = *state;
    build_chain(e);
    gl_fproxy *px = gl_fproxy_start(gl_anvil_url(e->node), 7);
    assert_non_null(px);
    gl_fault_rule rules[2] = {
        {.kind = GL_FAULT_RPC_ERROR, .method = "trace_filter", .rpc_code = -32601,
         .message = "the method trace_filter does not exist/is not available"},
        {.kind = GL_FAULT_RANGE_SPAN, .cap = 3},
    };
    assert_true(gl_fproxy_set_rules(px, rules, 2));
    char dir[700];
    gl_store *s = new_store(e, dir);
    gl_trail_opts o = opts(2, GL_TRAIL_NATIVE_AUTO);
    gl_endpoints *ep = endpoints_at(gl_fproxy_url(px));
    gl_trail_report rep;
    gl_err err;
    if (gl_trail_expand(s, ep, &o, &rep, &err))
        fail_msg("expand: %s", err.msg);
    gl_endpoints_free(ep);
    assert_string_equal(rep.native_method, "block scan");
    assert_non_null(strstr(rep.native_note, "trace_filter"));
    assert_true(gl_fproxy_injected(px, GL_FAULT_RANGE_SPAN) > 0);
    assert_int_equal(gl_fproxy_calls(px, "trace_filter"), 2); /* asked once (both directions), never again */
    check_transfers(e, s, two_hops_scanned, e);
    gl_store_close(s);

    /* --native trace insists: an error that says why */
    s = new_store(e, dir);
    o.native = GL_TRAIL_NATIVE_TRACE;
    ep = endpoints_at(gl_fproxy_url(px));
    assert_int_equal(gl_trail_expand(s, ep, &o, &rep, &err), GL_ENOTSUP);
    assert_non_null(strstr(err.msg, "trace_filter"));
    gl_endpoints_free(ep);
    gl_store_close(s);
    gl_fproxy_stop(px);
}

/* An endpoint that fails for good in the middle of hop 2: the run fails,
 * what hop 1 committed stays, and the next run picks up from there. */
static void test_resume_after_failure(void **state)
{
    env *e = *state;
    build_chain(e);
    gl_fproxy *px = gl_fproxy_start(gl_anvil_url(e->node), 7);
    assert_non_null(px);
    /* hop 1 asks eth_getLogs twice (topic 1, topic 2); the third fails */
    gl_fault_rule rule = {.kind = GL_FAULT_RPC_ERROR, .method = "eth_getLogs", .skip = 2, .rpc_code = -32602,
                          .message = "invalid argument"};
    assert_true(gl_fproxy_set_rules(px, &rule, 1));
    char dir[700];
    gl_store *s = new_store(e, dir);
    gl_trail_opts o = opts(2, GL_TRAIL_NATIVE_AUTO);
    gl_endpoints *ep = endpoints_at(gl_fproxy_url(px));
    gl_trail_report rep;
    gl_err err;
    assert_int_equal(gl_trail_expand(s, ep, &o, &rep, &err), GL_ERPC);
    assert_non_null(strstr(err.msg, "eth_getLogs"));
    gl_endpoints_free(ep);
    gl_fproxy_stop(px);
    check_transfers(e, s, one_hop, e);
    expand(e, s, &o, &rep);
    assert_int_equal(rep.level[0].fetched, 0);
    assert_int_equal(rep.level[1].fetched, 2);
    check_transfers(e, s, two_hops_traced, e);
    gl_store_close(s);
}

static const want *want_named(env *e, const char *what)
{
    for (size_t i = 0; i < e->nw; i++)
        if (!strcmp(e->w[i].what, what))
            return &e->w[i];
    fail_msg("no transfer '%s'", what);
    return NULL;
}

/* Expand `o` into s through a proxy with `rule`, `conc` requests in flight
 * at most (endpoints_conc); the lies it told into lies (up to cap), their
 * number returned. */
static size_t expand_lied_conc(env *e, gl_store *s, const gl_trail_opts *o, const gl_fault_rule *rule,
                               unsigned conc, gl_trail_report *rep, gl_fproxy_lie *lies, size_t cap)
{
    gl_fproxy *px = gl_fproxy_start(gl_anvil_url(e->node), 7);
    assert_non_null(px);
    assert_true(gl_fproxy_set_rules(px, rule, 1));
    gl_endpoints *ep = endpoints_conc(gl_fproxy_url(px), conc);
    gl_err err;
    if (gl_trail_expand(s, ep, o, rep, &err))
        fail_msg("expand: %s", err.msg);
    gl_endpoints_free(ep);
    size_t nl = gl_fproxy_lies(px, lies, cap);
    gl_fproxy_stop(px);
    assert_true(nl > 0 && nl <= cap);
    return nl;
}

static size_t expand_lied(env *e, gl_store *s, const gl_trail_opts *o, const gl_fault_rule *rule,
                          gl_trail_report *rep, gl_fproxy_lie *lies, size_t cap)
{
    return expand_lied_conc(e, s, o, rule, 0, rep, lies, cap);
}

/* The sender_mismatch finding of the lie about tx `hash` at `block`. */
static void check_lie_finding(gl_store *s, uint64_t block, const char *hash, const char *told,
                              const json_t *anvil_from)
{
    json_t *fs = findings_at(s, block);
    const json_t *f = one_finding(fs, "sender_mismatch", block);
    assert_true(same_hex(json_object_get(f, "tx_hash"), hash));
    assert_string_equal(json_string_value(json_object_get(f, "field")), "transactions[0].from");
    assert_true(same_hex(json_object_get(f, "claimed"), told));
    assert_true(same_hex(json_object_get(f, "computed"), json_string_value(anvil_from)));
    json_decref(fs);
}

/* A transfer of a lying block: kept, flagged mismatch, its tx not stored
 * (the block's findings are the evidence; a later fetch checks it afresh). */
static void check_distrusted(gl_store *s, const gl_store_transfer *t)
{
    assert_int_equal(t->flags, GL_STORE_TX_SENDER_MISMATCH);
    gl_store_tx rec;
    bool found;
    gl_err err;
    assert_int_equal(gl_store_get_tx_by_hash(s, CHAIN, t->tx_hash, &rec, &found, &err), GL_OK);
    assert_false(found);
}

/* Every stored transfer: its tx checked and SENDER_OK, unless the proxy
 * lied about that tx (a lie's subject): then flagged mismatch, with its tx
 * stored with the true sender (a lie about the tx alone, tx_kept) or not
 * at all (a lie of its block: check_distrusted).  Returns how many were
 * flagged. */
static size_t check_lied_transfers(env *e, gl_store *s, const gl_fproxy_lie *lies, size_t nl, bool tx_kept)
{
    gl_err err;
    gl_store_iter *it = gl_store_iter_transfers(s, CHAIN, 0, UINT64_MAX, &err);
    size_t flagged = 0;
    for (bool end = false;;) {
        gl_store_transfer t;
        if (gl_store_next_transfer(it, &t, &end, &err))
            fail_msg("read: %s", err.msg);
        if (end)
            break;
        char h[67];
        gl_hex_encode(t.tx_hash, 32, true, h);
        bool lied = false;
        for (size_t i = 0; i < nl; i++)
            lied = lied || !strcasecmp(lies[i].subject, h);
        flagged += lied;
        if (lied && !tx_kept)
            check_distrusted(s, &t);
        else
            check_tx(e, s, &t, lied ? GL_STORE_TX_SENDER_MISMATCH : GL_STORE_TX_SENDER_OK);
    }
    gl_store_iter_free(it);
    return flagged;
}

/* C, C2, C3 meet the trail only in F's and B's transfers: when those lead
 * nowhere, the state file never names them; B was expanded. */
static void check_cs_unreached(env *e, const char *dir)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/trail-%" PRIu64 ".json", dir, (uint64_t)CHAIN);
    json_t *st = json_load_file(path, 0, NULL);
    assert_non_null(st);
    json_t *addrs = json_object_get(st, "addresses");
    assert_null(json_object_get(addrs, e->acct[C]));
    assert_null(json_object_get(addrs, e->acct[C2]));
    assert_null(json_object_get(addrs, e->acct[C3]));
    assert_string_equal(json_string_value(json_object_get(json_object_get(addrs, e->acct[B]), "status")), "expanded");
    json_decref(st);
}

/* Block num as stored: anvil's hash, HASH_OK as said. */
static gl_store_block check_stored_block(env *e, gl_store *s, uint64_t num, uint32_t verified)
{
    gl_store_block b;
    bool found;
    gl_err err;
    assert_int_equal(gl_store_get_block(s, CHAIN, num, &b, &found, &err), GL_OK);
    assert_true(found);
    json_t *nb = node_block(e, num);
    char h[67];
    assert_true(same_hex(json_object_get(nb, "hash"), gl_hex_encode(b.hash, 32, true, h)));
    assert_int_equal(b.verified & (GL_STORE_BLOCK_HASH_OK | GL_STORE_BLOCK_PARENT_OK), verified);
    json_decref(nb);
    return b;
}

/* The numbers of the blocks the store holds, as bits (the test chain has
 * fewer than 64). */
static uint64_t stored_mask(gl_store *s)
{
    gl_err err;
    gl_store_iter *it = gl_store_iter_blocks(s, CHAIN, 0, UINT64_MAX, &err);
    assert_non_null(it);
    uint64_t m = 0;
    for (bool end = false;;) {
        gl_store_block b;
        if (gl_store_next_block(it, &b, &end, &err))
            fail_msg("read: %s", err.msg);
        if (end)
            break;
        assert_true(b.number < 64);
        m |= UINT64_C(1) << b.number;
    }
    gl_store_iter_free(it);
    return m;
}

static bool has_bit(uint64_t m, uint64_t n) { return n < 64 && (m >> n & 1); }

/* The lie the proxy told about block n (NULL: none), failing when it told
 * two: each block is asked for once per run. */
static const gl_fproxy_lie *lie_at(const gl_fproxy_lie *lies, size_t nl, uint64_t n)
{
    const gl_fproxy_lie *found = NULL;
    for (size_t i = 0; i < nl; i++) {
        if (strtoull(lies[i].block, NULL, 16) != n)
            continue;
        if (found)
            fail_msg("two lies about block %" PRIu64, n);
        found = &lies[i];
    }
    return found;
}

/* anvil's hash of block n. */
static void node_hash(env *e, uint64_t n, char out[67])
{
    json_t *b = node_block(e, n);
    snprintf(out, 67, "%s", json_string_value(json_object_get(b, "hash")));
    json_decref(b);
}

/* What anvil's header of block n hashes to with `field` made `told` (the
 * header a lying endpoint served): the oracle for a false header's hash
 * (gl_block_header_hash itself is held to anvil's own hashes by every
 * clean run: HASH_OK). */
static void false_header_hash(env *e, uint64_t n, const char *field, const char *told, char out[67])
{
    json_t *b = node_block(e, n);
    assert_false(same_hex(json_object_get(b, field), told));
    assert_int_equal(json_object_set_new(b, field, json_string(told)), 0);
    gl_block_header h;
    gl_block_header_init(&h);
    gl_err err;
    if (gl_block_header_from_json_ex(&h, b, GL_BLOCK_FORK_GAPS, &err))
        fail_msg("anvil's block %" PRIu64 ": %s", n, err.msg);
    uint8_t d[32];
    assert_int_equal(gl_block_header_hash(&h, d, NULL), GL_OK);
    gl_hex_encode(d, 32, true, out);
    gl_block_header_release(&h);
    json_decref(b);
}

static const char *fstr(const json_t *f, const char *key) { return json_string_value(json_object_get(f, key)); }

/* A lying endpoint: every block it returns names a false sender for its
 * transaction (the proxy's LYING_FROM; anvil mines one tx per block).  Hop
 * 1 is expanded through anvil itself, hop 2 through the liar.  Each lie the
 * proxy told must become one sender_mismatch finding whose computed sender
 * is anvil's own (asked directly); the tx is stored with the true sender,
 * flagged mismatch, and so are the transfers it carries, which stay in the
 * store; no counterparty known only from a lie is followed: C, C2, C3 (and
 * 0x0) meet the trail only in F's and B's lied-about transactions, so depth
 * 2 stays empty, where the honest run puts them at the depth limit.  The
 * transactions hop 1 checked are not fetched again, so they stay honest. */
static void test_lying_from(void **state)
{
    env *e = *state;
    build_chain(e);
    char dir[700];
    gl_store *s = new_store(e, dir);
    gl_trail_opts o = opts(1, GL_TRAIL_NATIVE_TRACE);
    gl_trail_report rep;
    expand(e, s, &o, &rep);
    assert_int_equal(rep.findings, 0);
    gl_fault_rule rule = {.kind = GL_FAULT_LYING_FROM, .method = "eth_getBlockByNumber"};
    o.depth = 2;
    gl_fproxy_lie lies[64];
    size_t nl = expand_lied(e, s, &o, &rule, &rep, lies, 64);
    assert_int_equal(rep.level[1].expanded, 2); /* F, B */
    assert_int_equal(rep.level[1].next, 0);
    assert_int_equal(rep.levels, 2);

    /* each lie: its finding, its tx with the true sender */
    size_t distinct = 0;
    for (size_t i = 0; i < nl; i++) {
        bool again = false;
        for (size_t j = 0; j < i; j++)
            again = again || !strcasecmp(lies[i].subject, lies[j].subject);
        if (again)
            continue;
        distinct++;
        json_t *tx = rpc_ok(e, "eth_getTransactionByHash", json_pack("[s]", lies[i].subject));
        assert_true(!strcasecmp(json_string_value(json_object_get(tx, "from")), lies[i].truth));
        assert_true(strcasecmp(lies[i].told, lies[i].truth) != 0);
        check_lie_finding(s, q(json_object_get(tx, "blockNumber")), lies[i].subject, lies[i].told,
                          json_object_get(tx, "from"));
        json_decref(tx);
    }
    assert_int_equal(rep.findings, distinct);

    /* every stored transfer: its tx checked; flagged mismatch exactly when
     * the proxy lied about it */
    assert_true(check_lied_transfers(e, s, lies, nl, true) >= 5); /* the mint; B -> C, its USDC, B -> C2, B -> C3 */
    /* the lying tx's transfer is kept, flagged */
    gl_store_transfer t;
    assert_true(find_transfer(s, &want_named(e, "B -> C2")->pos, &t));
    assert_int_equal(t.flags, GL_STORE_TX_SENDER_MISMATCH);
    assert_true(find_transfer(s, &want_named(e, "A -> B")->pos, &t));
    assert_int_equal(t.flags, GL_STORE_TX_SENDER_OK);
    gl_store_close(s);

    /* not followed: C, C2, C3 were never reached */
    check_cs_unreached(e, dir);
}

/* A block scan selects its candidates by the sender recovered from each
 * value-carrying transaction's signature, not by the endpoint's `from`:
 * an endpoint that gives every block's transaction a false `from` cannot
 * hide a wallet's native payment.  Seeds A and P, one hop, the scan, the
 * proxy lying on every eth_getBlockByNumber: A -> B (where neither the
 * false sender nor B is in the trail) and A's lease payment to the market
 * are found all the same, each stored flagged mismatch with its tx (the
 * true sender, A) and a sender_mismatch finding (claimed: the lie,
 * computed: A), and lead nowhere (B is not reached). */
static void test_scan_recovers_senders(void **state)
{
    env *e = *state;
    build_chain(e);
    char dir[700];
    gl_store *s = new_store(e, dir);
    gl_trail_opts o = opts(1, GL_TRAIL_NATIVE_SCAN);
    gl_fault_rule rule = {.kind = GL_FAULT_LYING_FROM, .method = "eth_getBlockByNumber"};
    gl_trail_report rep;
    gl_fproxy_lie lies[256];
    size_t nl = expand_lied(e, s, &o, &rule, &rep, lies, 256);
    assert_true(nl < 256);
    assert_string_equal(rep.native_method, "block scan");
    static const char *const hidden[] = {"A -> B", "A -> market (lease)"};
    for (size_t k = 0; k < 2; k++) {
        const want *w = want_named(e, hidden[k]);
        gl_store_transfer t;
        if (!find_transfer(s, &w->pos, &t))
            fail_msg("%s: not found by the scan behind a false from", hidden[k]);
        assert_memory_equal(t.to, w->to, 20);
        assert_int_equal(t.flags, GL_STORE_TX_SENDER_MISMATCH);
        check_tx(e, s, &t, GL_STORE_TX_SENDER_MISMATCH); /* stored, the true sender */
        char h[67];
        gl_hex_encode(t.tx_hash, 32, true, h);
        const gl_fproxy_lie *lie = NULL;
        for (size_t i = 0; i < nl && !lie; i++)
            if (!strcasecmp(lies[i].subject, h))
                lie = &lies[i];
        assert_non_null(lie);
        json_t *from = json_string(e->acct[A]);
        check_lie_finding(s, w->pos.block, h, lie->told, from);
        json_decref(from);
    }
    /* B met only through a lying tx: never reached */
    char path[1024];
    snprintf(path, sizeof path, "%s/trail-%" PRIu64 ".json", dir, (uint64_t)CHAIN);
    json_t *st = json_load_file(path, 0, NULL);
    assert_non_null(st);
    assert_null(json_object_get(json_object_get(st, "addresses"), e->acct[B]));
    json_decref(st);
    gl_store_close(s);
}

/* An endpoint whose blocks name a false hash, or a false header field
 * under their true hash (the proxy's WRONG_HASH on eth_getBlockByNumber,
 * every answer: the whole blocks of the transfers, and the headers of
 * their parents the trail asks for with them).  Each whole block must give
 * one header_hash_mismatch finding whose claim is what the proxy told and
 * whose computed hash is anvil's own (field "hash"), or whose claim is
 * anvil's hash and whose header, as hashed, holds the false field
 * (stateRoot); the block is stored under anvil's hash (the one the logs
 * name) without HASH_OK.  Its parent link: a false "hash" is never read
 * (a parent's hash is recomputed from its header), so the link holds
 * (PARENT_OK); a false stateRoot makes every parent, fetched by the liar
 * too (a header, or a block of the same fetch), hash otherwise: a
 * parent_mismatch finding whose computed hash is that of anvil's header
 * with the false stateRoot.  A parent's header is not stored and has no
 * finding of its own.  A block caught lying does not vouch for its
 * transactions: every transfer (all in such blocks) is flagged mismatch,
 * no tx is stored, and A and P lead nowhere. */
static void test_false_header(void **state)
{
    env *e = *state;
    build_chain(e);
    static const char *const fields[] = {"hash", "stateRoot"};
    for (size_t fi = 0; fi < 2; fi++) {
        const char *field = fields[fi];
        char dir[700];
        gl_store *s = new_store(e, dir);
        gl_trail_opts o = opts(1, GL_TRAIL_NATIVE_TRACE);
        gl_fault_rule rule = {.kind = GL_FAULT_WRONG_HASH, .method = "eth_getBlockByNumber", .field = field};
        gl_trail_report rep;
        gl_fproxy_lie lies[64];
        size_t nl = expand_lied(e, s, &o, &rule, &rep, lies, 64);
        assert_int_equal(rep.level[0].expanded, 2);
        assert_int_equal(rep.level[0].next, 0);
        uint64_t whole = stored_mask(s); /* the blocks of the transfers: fetched whole */
        size_t nwhole = 0, nheader = 0;
        for (size_t i = 0; i < nl; i++) {
            uint64_t num = strtoull(lies[i].block, NULL, 16);
            assert_ptr_equal(lie_at(lies, nl, num), &lies[i]);
            json_t *nb = node_block(e, num);
            const char *truth_hash = json_string_value(json_object_get(nb, "hash"));
            assert_string_equal(lies[i].field, field);
            assert_true(same_hex(json_object_get(nb, field), lies[i].truth));
            json_t *fs = findings_at(s, num);
            if (!has_bit(whole, num)) { /* a parent's header */
                nheader++;
                assert_int_equal(json_array_size(fs), 0);
                json_decref(fs);
                json_decref(nb);
                continue;
            }
            nwhole++;
            assert_int_equal(json_array_size(fs), fi == 0 ? 1 : 2);
            const json_t *f = one_finding(fs, "header_hash_mismatch", num);
            assert_string_equal(fstr(f, "field"), "hash");
            const json_t *claimed = json_object_get(f, "claimed"), *computed = json_object_get(f, "computed");
            if (fi == 0) {
                assert_true(same_hex(claimed, lies[i].told));
                assert_true(same_hex(computed, truth_hash));
                check_stored_block(e, s, num, GL_STORE_BLOCK_PARENT_OK);
            } else {
                assert_true(same_hex(claimed, truth_hash));
                assert_false(same_hex(computed, truth_hash));
                assert_true(same_hex(json_object_get(json_object_get(f, "header"), "stateRoot"), lies[i].told));
                const gl_fproxy_lie *pl = lie_at(lies, nl, num - 1);
                if (!pl)
                    fail_msg("block %" PRIu64 ": its parent was not fetched through the liar", num);
                char ph[67], fh[67];
                node_hash(e, num - 1, ph);
                false_header_hash(e, num - 1, "stateRoot", pl->told, fh);
                f = one_finding(fs, "parent_mismatch", num);
                assert_string_equal(fstr(f, "field"), "parentHash");
                assert_true(same_hex(json_object_get(f, "claimed"), ph));
                assert_true(same_hex(json_object_get(f, "computed"), fh));
                assert_string_equal(fstr(f, "reason"), "the parent's header hashes otherwise");
                check_stored_block(e, s, num, 0);
            }
            json_decref(fs);
            json_decref(nb);
        }
        assert_true(nwhole > 0);
        assert_true(nheader > 0);
        assert_int_equal(rep.findings, (fi == 0 ? 1 : 2) * nwhole);
        /* A's and P's transfers, all in lying blocks */
        size_t n = 0;
        for (size_t i = 0; i < e->nw; i++) {
            if (!one_hop(&e->w[i], e))
                continue;
            gl_store_transfer t;
            assert_true(find_transfer(s, &e->w[i].pos, &t));
            check_distrusted(s, &t);
            n++;
        }
        assert_int_equal(count_transfers(s), n);
        gl_store_close(s);
    }
}

/* An endpoint that changes the value of the transaction of every block it
 * returns (a new proxy rule, WRONG_TX_FIELD; anvil mines one tx per block),
 * leaving its hash: the block's transactionsRoot and that tx's hash no
 * longer match.  Hop 1 is expanded through anvil itself, hop 2 through the
 * liar.  Each block fetched must give a tx_root_mismatch finding (claimed:
 * anvil's transactionsRoot) and a tx_hash_mismatch one (claimed: the tx's
 * true hash), both computed otherwise; the block keeps anvil's hash,
 * HASH_OK (its header is true), and PARENT_OK (a body leaves the parent
 * link alone; the parents' headers, which carry no transaction objects,
 * are not changed).  The transfers of the changed txs are
 * kept, flagged mismatch, without a tx record, and lead nowhere: C, C2, C3
 * are never reached; hop 1's transfers, checked through anvil, stay
 * SENDER_OK. */
static void test_false_body(void **state)
{
    env *e = *state;
    build_chain(e);
    char dir[700];
    gl_store *s = new_store(e, dir);
    gl_trail_opts o = opts(1, GL_TRAIL_NATIVE_TRACE);
    gl_trail_report rep;
    expand(e, s, &o, &rep);
    assert_int_equal(rep.findings, 0);
    o.depth = 2;
    gl_fault_rule rule = {.kind = GL_FAULT_WRONG_TX_FIELD, .method = "eth_getBlockByNumber", .field = "value"};
    gl_fproxy_lie lies[64];
    size_t nl = expand_lied(e, s, &o, &rule, &rep, lies, 64);
    assert_int_equal(rep.findings, 2 * nl); /* one fetch per block: root and hash */
    assert_int_equal(rep.level[1].expanded, 2); /* F, B */
    assert_int_equal(rep.level[1].next, 0);
    for (size_t i = 0; i < nl; i++) {
        uint64_t num = strtoull(lies[i].block, NULL, 16);
        json_t *tx = rpc_ok(e, "eth_getTransactionByHash", json_pack("[s]", lies[i].subject));
        assert_int_equal(q(json_object_get(tx, "blockNumber")), num);
        assert_true(same_hex(json_object_get(tx, "value"), lies[i].truth));
        assert_false(same_hex(json_object_get(tx, "value"), lies[i].told));
        json_decref(tx);
        json_t *nb = node_block(e, num);
        json_t *fs = findings_at(s, num);
        assert_int_equal(json_array_size(fs), 2);
        const json_t *f = one_finding(fs, "tx_root_mismatch", num);
        assert_string_equal(json_string_value(json_object_get(f, "field")), "transactionsRoot");
        assert_true(same_hex(json_object_get(f, "claimed"), json_string_value(json_object_get(nb, "transactionsRoot"))));
        assert_false(same_hex(json_object_get(f, "computed"), json_string_value(json_object_get(nb, "transactionsRoot"))));
        f = one_finding(fs, "tx_hash_mismatch", num);
        assert_string_equal(json_string_value(json_object_get(f, "field")), "transactions[0].hash");
        assert_true(same_hex(json_object_get(f, "claimed"), lies[i].subject));
        assert_false(same_hex(json_object_get(f, "computed"), lies[i].subject));
        json_decref(fs);
        json_decref(nb);
        check_stored_block(e, s, num, GL_STORE_BLOCK_HASH_OK | GL_STORE_BLOCK_PARENT_OK);
    }
    /* every stored transfer: distrusted exactly when its tx was changed */
    assert_true(check_lied_transfers(e, s, lies, nl, false) >= 5); /* the mint; B -> C, its USDC, B -> C2, B -> C3 */
    gl_store_transfer t;
    assert_true(find_transfer(s, &want_named(e, "B -> C2")->pos, &t));
    check_distrusted(s, &t);
    gl_store_close(s);
    check_cs_unreached(e, dir);
}

/* An endpoint that falsifies the parentHash of every block it returns (the
 * proxy's WRONG_HASH with field "parentHash", on every eth_getBlockByNumber
 * answer: whole blocks and the parents' headers asked for with them).  Hop
 * 1 is expanded through anvil itself, hop 2 through the liar.  A false
 * parentHash is a false header field too: each whole block must give
 * exactly two findings, a header_hash_mismatch (claimed: anvil's hash;
 * computed: the hash of anvil's header with the false parentHash) and a
 * parent_mismatch (claimed: the false parentHash the proxy told; computed:
 * the parent's hash as the trail knows it, which is anvil's where hop 1
 * stored the parent, "the stored parent's hash differs", else the hash of
 * the parent as the liar served it, a block of the same fetch or a header,
 * its own parentHash falsified too, "the parent's header hashes
 * otherwise").  The block is stored under anvil's hash with neither
 * HASH_OK nor PARENT_OK, its parent hash the claim; the parents' headers
 * are not stored and have no finding.  Hop 2's transfers are flagged
 * mismatch, no tx stored, and lead nowhere: C, C2, C3 are never reached. */
static void test_false_parent_hash(void **state)
{
    env *e = *state;
    build_chain(e);
    char dir[700];
    gl_store *s = new_store(e, dir);
    gl_trail_opts o = opts(1, GL_TRAIL_NATIVE_TRACE);
    gl_trail_report rep;
    expand(e, s, &o, &rep);
    assert_int_equal(rep.findings, 0);
    uint64_t before = stored_mask(s);
    o.depth = 2;
    gl_fault_rule rule = {.kind = GL_FAULT_WRONG_HASH, .method = "eth_getBlockByNumber", .field = "parentHash"};
    gl_fproxy_lie lies[64];
    size_t nl = expand_lied(e, s, &o, &rule, &rep, lies, 64);
    assert_int_equal(rep.level[1].expanded, 2); /* F, B */
    assert_int_equal(rep.level[1].next, 0);
    uint64_t fresh = stored_mask(s) & ~before; /* hop 2's blocks, fetched whole */
    size_t nwhole = 0, nheader = 0, by_store = 0, by_fetch = 0;
    for (size_t i = 0; i < nl; i++) {
        uint64_t num = strtoull(lies[i].block, NULL, 16);
        assert_ptr_equal(lie_at(lies, nl, num), &lies[i]);
        assert_string_equal(lies[i].field, "parentHash");
        char h[67], ph[67];
        node_hash(e, num, h);
        node_hash(e, num - 1, ph);
        assert_true(!strcasecmp(lies[i].truth, ph));
        json_t *fs = findings_at(s, num);
        if (!has_bit(fresh, num)) { /* a parent's header */
            assert_false(has_bit(before, num));
            nheader++;
            assert_int_equal(json_array_size(fs), 0);
            json_decref(fs);
            continue;
        }
        nwhole++;
        assert_int_equal(json_array_size(fs), 2);
        char fh[67];
        false_header_hash(e, num, "parentHash", lies[i].told, fh);
        const json_t *f = one_finding(fs, "header_hash_mismatch", num);
        assert_true(same_hex(json_object_get(f, "claimed"), h));
        assert_true(same_hex(json_object_get(f, "computed"), fh));
        f = one_finding(fs, "parent_mismatch", num);
        assert_string_equal(fstr(f, "field"), "parentHash");
        assert_true(same_hex(json_object_get(f, "claimed"), lies[i].told));
        if (has_bit(before, num - 1)) {
            by_store++;
            assert_true(same_hex(json_object_get(f, "computed"), ph));
            assert_string_equal(fstr(f, "reason"), "the stored parent's hash differs");
        } else {
            by_fetch += has_bit(fresh, num - 1);
            const gl_fproxy_lie *pl = lie_at(lies, nl, num - 1);
            if (!pl)
                fail_msg("block %" PRIu64 ": its parent was not fetched through the liar", num);
            char pfh[67];
            false_header_hash(e, num - 1, "parentHash", pl->told, pfh);
            assert_true(same_hex(json_object_get(f, "computed"), pfh));
            assert_string_equal(fstr(f, "reason"), "the parent's header hashes otherwise");
        }
        json_decref(fs);
        gl_store_block b = check_stored_block(e, s, num, 0);
        assert_string_equal(gl_hex_encode(b.parent_hash, 32, true, h), lies[i].told);
    }
    /* the chain gives each kind of parent: stored (B -> C's, hop 1's A -> B
     * usdc), of the same fetch (B -> C2's), a header (the mint's) */
    assert_true(by_store > 0 && by_fetch > 0 && nheader > 0);
    assert_int_equal(rep.findings, 2 * nwhole);
    /* hop 2's transfers distrusted, hop 1's checked through anvil */
    gl_err err;
    gl_store_iter *it = gl_store_iter_transfers(s, CHAIN, 0, UINT64_MAX, &err);
    size_t distrusted = 0;
    for (bool end = false;;) {
        gl_store_transfer t;
        if (gl_store_next_transfer(it, &t, &end, &err))
            fail_msg("read: %s", err.msg);
        if (end)
            break;
        if (has_bit(fresh, t.pos.block)) {
            check_distrusted(s, &t);
            distrusted++;
        } else {
            check_tx(e, s, &t, GL_STORE_TX_SENDER_OK);
        }
    }
    gl_store_iter_free(it);
    assert_true(distrusted >= 5); /* the mint; B -> C, its USDC, B -> C2, B -> C3 */
    gl_store_close(s);
    check_cs_unreached(e, dir);
}

/* An endpoint that is honest but for one header of a parent: the header of
 * block n - 1 the trail asks for with block n (whose parent is neither
 * stored nor fetched with it), with a false stateRoot under its true hash.
 * Block n itself is true: its hash recomputes (HASH_OK), its body matches;
 * only its parent link fails.  The proxy lies once (WRONG_HASH, first_n 1,
 * the pool sending each batch as one request so that the calls come in
 * order), at each position in turn until the lie falls on a parent's
 * header rather than a whole block (which test_false_header covers).  Hop
 * 1 goes through anvil; in hop 2 the only such parent is that of the mint
 * (0x0 -> F).  There must be exactly one finding: parent_mismatch at the
 * mint's block (claimed: anvil's hash of its parent; computed: the hash of
 * anvil's parent header with the false stateRoot; "the parent's header
 * hashes otherwise").  The mint's block is stored with anvil's hash and
 * HASH_OK but not PARENT_OK; every other block of hop 2 has both.  The
 * mint's transfer is flagged mismatch, no tx stored, and not followed: the
 * honest run meets 0x0 at depth 2 (skipped as the zero address), this one
 * never does; every other transfer is SENDER_OK. */
static void test_false_parent_header(void **state)
{
    env *e = *state;
    build_chain(e);
    const want *mint = want_named(e, "mint 0x0 -> F");
    bool hit = false;
    for (unsigned skip = 0; skip < 32 && !hit; skip++) {
        char dir[700];
        gl_store *s = new_store(e, dir);
        gl_trail_opts o = opts(1, GL_TRAIL_NATIVE_TRACE);
        gl_trail_report rep;
        expand(e, s, &o, &rep);
        uint64_t before = stored_mask(s);
        o.depth = 2;
        gl_fault_rule rule = {.kind = GL_FAULT_WRONG_HASH, .method = "eth_getBlockByNumber", .field = "stateRoot",
                              .skip = skip, .first_n = 1};
        gl_fproxy_lie lie;
        assert_int_equal(expand_lied_conc(e, s, &o, &rule, 1, &rep, &lie, 1), 1);
        uint64_t p = strtoull(lie.block, NULL, 16), fresh = stored_mask(s) & ~before;
        if (has_bit(fresh, p)) { /* a whole block: not this test's case */
            gl_store_close(s);
            continue;
        }
        hit = true;
        assert_false(has_bit(before, p));
        assert_int_equal(p + 1, mint->pos.block);
        char ph[67], fh[67];
        node_hash(e, p, ph);
        false_header_hash(e, p, "stateRoot", lie.told, fh);
        json_t *fs = findings_at(s, UINT64_MAX);
        assert_int_equal(json_array_size(fs), 1);
        const json_t *f = one_finding(fs, "parent_mismatch", p + 1);
        assert_string_equal(fstr(f, "field"), "parentHash");
        assert_true(same_hex(json_object_get(f, "claimed"), ph));
        assert_true(same_hex(json_object_get(f, "computed"), fh));
        assert_false(same_hex(json_object_get(f, "computed"), ph));
        assert_string_equal(fstr(f, "reason"), "the parent's header hashes otherwise");
        json_decref(fs);
        assert_int_equal(rep.findings, 1);
        for (uint64_t n = 0; n < 64; n++)
            if (has_bit(fresh, n))
                check_stored_block(e, s, n,
                                   n == p + 1 ? GL_STORE_BLOCK_HASH_OK
                                              : GL_STORE_BLOCK_HASH_OK | GL_STORE_BLOCK_PARENT_OK);
        /* the mint's transfer distrusted, every other one checked */
        gl_err err;
        gl_store_iter *it = gl_store_iter_transfers(s, CHAIN, 0, UINT64_MAX, &err);
        for (bool end = false;;) {
            gl_store_transfer t;
            if (gl_store_next_transfer(it, &t, &end, &err))
                fail_msg("read: %s", err.msg);
            if (end)
                break;
            if (t.pos.block == p + 1)
                check_distrusted(s, &t);
            else
                check_tx(e, s, &t, GL_STORE_TX_SENDER_OK);
        }
        gl_store_iter_free(it);
        gl_store_transfer t;
        assert_true(find_transfer(s, &mint->pos, &t));
        /* not followed: 0x0 is met only in the mint (the honest run has
         * level 1 next 4: 0x0, C, C2, C3) */
        assert_int_equal(rep.levels, 3);
        assert_int_equal(rep.level[1].next, 3);
        assert_int_equal(rep.level[2].skipped[GL_TRAIL_SKIP_ZERO], 0);
        assert_int_equal(rep.level[2].skipped[GL_TRAIL_SKIP_DEPTH], 3);
        gl_store_close(s);
        char path[1024];
        snprintf(path, sizeof path, "%s/trail-%" PRIu64 ".json", dir, (uint64_t)CHAIN);
        json_t *st = json_load_file(path, 0, NULL);
        assert_non_null(st);
        json_t *addrs = json_object_get(st, "addresses");
        assert_null(json_object_get(addrs, "0x0000000000000000000000000000000000000000"));
        assert_non_null(json_object_get(addrs, e->acct[C2]));
        json_decref(st);
    }
    assert_true(hit);
}

/* A store whose block before the lease's holds another hash than anvil's
 * (a stale block, as after a reorg the store has not followed), written
 * by hand before the run.  The store's parent is authoritative: the
 * lease's block, honest otherwise (HASH_OK), must give exactly one
 * finding, parent_mismatch (claimed: anvil's hash of its parent; computed:
 * the stored one; "the stored parent's hash differs"), and be stored
 * without PARENT_OK; the lease's transfer (A -> market) is flagged
 * mismatch, no tx stored; A's and P's other transfers are SENDER_OK. */
static void test_stored_parent_differs(void **state)
{
    env *e = *state;
    build_chain(e);
    char dir[700];
    gl_store *s = new_store(e, dir);
    uint64_t pn = e->lease_block - 1;
    json_t *pb = node_block(e, pn);
    gl_store_block rec = {.chain_id = CHAIN, .number = pn, .timestamp = q(json_object_get(pb, "timestamp")),
                          .verified = GL_STORE_BLOCK_HASH_OK};
    assert_int_equal(gl_hex_decode_exact(json_string_value(json_object_get(pb, "hash")), rec.hash, 32, NULL), GL_OK);
    assert_int_equal(
        gl_hex_decode_exact(json_string_value(json_object_get(pb, "parentHash")), rec.parent_hash, 32, NULL), GL_OK);
    rec.hash[31] ^= 1;
    json_decref(pb);
    gl_err err;
    gl_store_batch *b = gl_store_batch_new(s, &err);
    assert_non_null(b);
    assert_int_equal(gl_store_batch_put_block(b, &rec, &err), GL_OK);
    assert_int_equal(gl_store_batch_commit(b, &err), GL_OK);
    gl_store_batch_free(b);
    gl_trail_opts o = opts(1, GL_TRAIL_NATIVE_TRACE);
    gl_trail_report rep;
    expand(e, s, &o, &rep);
    assert_int_equal(rep.findings, 1);
    json_t *fs = findings_at(s, UINT64_MAX);
    assert_int_equal(json_array_size(fs), 1);
    const json_t *f = one_finding(fs, "parent_mismatch", e->lease_block);
    char ph[67], sh[67];
    node_hash(e, pn, ph);
    assert_string_equal(fstr(f, "field"), "parentHash");
    assert_true(same_hex(json_object_get(f, "claimed"), ph));
    assert_true(same_hex(json_object_get(f, "computed"), gl_hex_encode(rec.hash, 32, true, sh)));
    assert_string_equal(fstr(f, "reason"), "the stored parent's hash differs");
    json_decref(fs);
    check_stored_block(e, s, e->lease_block, GL_STORE_BLOCK_HASH_OK);
    const want *lease = want_named(e, "A -> market (lease)");
    size_t n = 0;
    for (size_t i = 0; i < e->nw; i++) {
        if (!one_hop(&e->w[i], e))
            continue;
        gl_store_transfer t;
        assert_true(find_transfer(s, &e->w[i].pos, &t));
        if (&e->w[i] == lease)
            check_distrusted(s, &t);
        else
            check_tx(e, s, &t, GL_STORE_TX_SENDER_OK);
        n++;
    }
    assert_int_equal(count_transfers(s), n);
    gl_store_close(s);
}

/* The command line, with the endpoint from ETH_RPC_URL. */
static void test_cli(void **state)
{
    env *e = *state;
    build_chain(e);
    char dir[700];
    gl_store *s = new_store(e, dir);
    gl_store_close(s);
    const char *bin = getenv("GPULEDGER_BIN");
    char binbuf[4300];
    if (!bin || !*bin) {
        snprintf(binbuf, sizeof binbuf, "%s/build/release/gpuledger", e->root);
        bin = binbuf;
    }
    char cmd[6000], out[800];
    snprintf(out, sizeof out, "%s/cli.json", e->tmp);
    snprintf(cmd, sizeof cmd,
             "ETH_RPC_URL='%s' '%s' expand --db '%s' --depth 2 --window 1000 --confirmations 0 --json --quiet > '%s'",
             gl_anvil_url(e->node), bin, dir, out);
    int st = system(cmd);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
    json_t *j = json_load_file(out, 0, NULL);
    assert_non_null(j);
    assert_int_equal(json_integer_value(json_object_get(j, "chain_id")), CHAIN);
    assert_int_equal(json_integer_value(json_object_get(j, "transfers")), e->nw - 2);
    json_decref(j);
    /* no endpoint at all */
    snprintf(cmd, sizeof cmd, "env -u ETH_RPC_URL '%s' expand --db '%s' 2>'%s'", bin, dir, out);
    st = system(cmd);
    assert_int_equal(WEXITSTATUS(st), 2);
    FILE *f = fopen(out, "r");
    char line[512] = "";
    assert_non_null(fgets(line, sizeof line, f));
    fclose(f);
    assert_non_null(strstr(line, "ETH_RPC_URL"));
    /* db stats reads the decisions back from the state file */
    snprintf(cmd, sizeof cmd, "'%s' db stats --db '%s' --json > '%s'", bin, dir, out);
    st = system(cmd);
    assert_int_equal(WEXITSTATUS(st), 0);
    j = json_load_file(out, 0, NULL);
    json_t *tr = json_array_get(json_object_get(j, "trail"), 0);
    assert_int_equal(json_integer_value(json_object_get(tr, "chain_id")), CHAIN);
    json_t *by = json_object_get(tr, "by_status");
    assert_int_equal(json_integer_value(json_object_get(by, "expanded")), 4); /* A, P, F, B */
    assert_int_equal(json_integer_value(json_object_get(by, "platform contract")), 1);
    assert_int_equal(json_integer_value(json_object_get(by, "zero address")), 1);
    assert_int_equal(json_integer_value(json_object_get(by, "depth limit")), 3); /* C, C2, C3 */
    json_decref(j);
    /* what it stored: the CLI's transfers are those of the API */
    s = gl_store_open(dir, NULL, NULL);
    assert_non_null(s);
    check_transfers(e, s, two_hops_traced, e);
    gl_store_close(s);
}

/* A reverted payment made for the receipt tests, once: A sends value to
 * the stablecoin, which has no payable entry, with its gas given (no
 * estimate to refuse it): mined, status 0x0, nothing moved.  Its position
 * into *pos; the chain grows by one block, so this runs after every test
 * that counts the chain's blocks or transfers. */
static void reverted_payment(env *e, gl_store_pos *pos)
{
    static gl_store_pos made;
    static bool done;
    if (!done) {
        json_t *tx = json_pack("{s:s, s:s, s:s, s:s}", "from", e->acct[A], "to", e->token, "value",
                               "0x2386f26fc10000", "gas", "0x30000");
        json_t *hash = rpc_ok(e, "eth_sendTransaction", json_pack("[o]", tx));
        json_t *r = NULL;
        for (int i = 0; i < 1000 && (!r || json_is_null(r)); i++) {
            json_decref(r);
            nanosleep(&(struct timespec){.tv_nsec = 10 * 1000 * 1000}, NULL);
            r = rpc_ok(e, "eth_getTransactionReceipt", json_pack("[O]", hash));
        }
        assert_true(json_is_object(r));
        assert_string_equal(json_string_value(json_object_get(r, "status")), "0x0");
        made = (gl_store_pos){CHAIN, q(json_object_get(r, "blockNumber")), GL_STORE_POS_TX,
                              (uint32_t)q(json_object_get(r, "transactionIndex")), 0};
        json_decref(r);
        json_decref(hash);
        done = true;
    }
    *pos = made;
}

/* What the RECEIPT_STATUS liar (lies[0..nl)) left in s: A -> B (ab)
 * stored, its tx SENDER_OK, one receipts_root_mismatch finding at its
 * block naming it with the claimed status 0x0; the reverted payment rv
 * neither stored nor found at. */
static void check_status_lie(env *e, gl_store *s, const want *ab, const gl_store_pos *rv,
                             const gl_fproxy_lie *lies, size_t nl, const gl_trail_report *rep)
{
    gl_store_transfer t;
    if (!find_transfer(s, &ab->pos, &t))
        fail_msg("A -> B: hidden by a receipt that lies that it reverted");
    assert_memory_equal(t.to, ab->to, 20);
    check_tx(e, s, &t, GL_STORE_TX_SENDER_OK);
    char h[67];
    gl_hex_encode(t.tx_hash, 32, true, h);
    bool told = false;
    for (size_t i = 0; i < nl; i++)
        told = told || (!strcasecmp(lies[i].subject, h) && !strcmp(lies[i].told, "0x0"));
    assert_true(told);
    json_t *fs = findings_at(s, ab->pos.block);
    const json_t *f = one_finding(fs, "receipts_root_mismatch", ab->pos.block);
    json_t *nb = node_block(e, ab->pos.block);
    assert_true(same_hex(json_object_get(f, "claimed"), json_string_value(json_object_get(nb, "receiptsRoot"))));
    json_decref(nb);
    assert_non_null(fstr(f, "computed"));
    assert_false(same_hex(json_object_get(f, "computed"), fstr(f, "claimed")));
    const json_t *said = json_object_get(f, "transactions");
    assert_int_equal(json_array_size(said), 1);
    assert_true(same_hex(json_object_get(json_array_get(said, 0), "tx_hash"), h));
    assert_string_equal(fstr(json_array_get(said, 0), "status"), "0x0");
    json_decref(fs);
    assert_true(rep->findings > 0);
    assert_false(find_transfer(s, rv, &t));
    fs = findings_at(s, rv->block);
    assert_int_equal(json_array_size(fs), 0);
    json_decref(fs);
}

/* The block scan drops a candidate whose receipt says it reverted, and
 * that status must be proven (the block's receipts hashed to the header's
 * receiptsRoot), not the endpoint's word: a lying endpoint calling every
 * successful receipt reverted (the proxy's RECEIPT_STATUS, on
 * eth_getBlockReceipts and eth_getTransactionReceipt) must not hide A's
 * payment to B.  Seeds A and P, one hop, the scan.  Honest endpoint: A's
 * reverted payment (status 0x0, proven) is not stored as a transfer, A ->
 * B is, no finding.  The liar: A -> B is still stored (its tx checked,
 * SENDER_OK: its status is unknown, not failed), and a
 * receipts_root_mismatch finding at its block names the tx with the
 * status the liar claimed (0x0), the header's receiptsRoot (anvil's own)
 * and another computed root; the reverted payment's block, where the liar
 * had nothing to change, proves itself: no transfer, no finding there. */
static void test_scan_receipt_status(void **state)
{
    env *e = *state;
    build_chain(e);
    gl_store_pos rv;
    reverted_payment(e, &rv);
    const want *ab = want_named(e, "A -> B");
    gl_trail_opts o = opts(1, GL_TRAIL_NATIVE_SCAN);
    gl_trail_report rep;
    gl_store_transfer t;

    char dir[700];
    gl_store *s = new_store(e, dir);
    expand(e, s, &o, &rep);
    assert_string_equal(rep.native_method, "block scan");
    assert_false(find_transfer(s, &rv, &t));
    assert_true(find_transfer(s, &ab->pos, &t));
    check_tx(e, s, &t, GL_STORE_TX_SENDER_OK);
    assert_int_equal(rep.findings, 0);
    check_blocks_honest(e, s);
    gl_store_close(s);

    /* the liar, with eth_getBlockReceipts, then without it (method not
     * found: the scan asks each transaction's receipt) */
    for (int per_tx = 0; per_tx < 2; per_tx++) {
        s = new_store(e, dir);
        /* the first rule that fires decides a call: the refusal goes first */
        gl_fault_rule rules[2] = {{.kind = GL_FAULT_RPC_ERROR, .method = "eth_getBlockReceipts", .rpc_code = -32601,
                                   .message = "the method eth_getBlockReceipts does not exist/is not available"},
                                  {.kind = GL_FAULT_RECEIPT_STATUS}};
        gl_fproxy *px = gl_fproxy_start(gl_anvil_url(e->node), 7);
        assert_non_null(px);
        assert_true(gl_fproxy_set_rules(px, per_tx ? rules : rules + 1, per_tx ? 2 : 1));
        gl_endpoints *ep = endpoints_at(gl_fproxy_url(px));
        gl_err err;
        if (gl_trail_expand(s, ep, &o, &rep, &err))
            fail_msg("expand: %s", err.msg);
        gl_endpoints_free(ep);
        gl_fproxy_lie lies[256];
        size_t nl = gl_fproxy_lies(px, lies, 256);
        assert_true(nl > 0 && nl < 256);
        assert_int_equal(gl_fproxy_calls(px, "eth_getTransactionReceipt") > 0, per_tx);
        gl_fproxy_stop(px);
        check_status_lie(e, s, ab, &rv, lies, nl, &rep);
        gl_store_close(s);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_two_hops_trace),
        cmocka_unit_test(test_two_hops_scan),
        cmocka_unit_test(test_scan_budget_then_resume),
        cmocka_unit_test(test_depth_one_then_two),
        cmocka_unit_test(test_hub_degree),
        cmocka_unit_test(test_hub_label),
        cmocka_unit_test(test_no_trace_filter_and_range_caps),
        cmocka_unit_test(test_resume_after_failure),
        cmocka_unit_test(test_lying_from),
        cmocka_unit_test(test_scan_recovers_senders),
        cmocka_unit_test(test_false_header),
        cmocka_unit_test(test_false_body),
        cmocka_unit_test(test_false_parent_hash),
        cmocka_unit_test(test_false_parent_header),
        cmocka_unit_test(test_stored_parent_differs),
        cmocka_unit_test(test_cli),
        cmocka_unit_test(test_scan_receipt_status), /* last: it adds a block */
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
