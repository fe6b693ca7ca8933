/* sim_world.c - the simulator's world: addresses and keys, entities, the
 * ledger with per-block reservations and locks, the task queue, signing,
 * and the block loop (see sim_world.h for the model).
 *
 * Sections: vectors and helpers, addresses, entities, ledger, funding,
 * locks, queue, transactions, the loop.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpuledger/keccak.h"
#include "gpuledger/rlp.h"
#include "gpuledger/sim_world.h"
#include "gpuledger/tx.h"
#include "gpuledger/u256.h"

/* A task deferred more often than this is stuck: its wallet cannot be
 * funded or its lock never frees.  A bug in the flows, reported. */
#define MAX_DEFERS 400

/* ------------------------------------------------------------------ */
/* Vectors and helpers                                                  */

static bool grow(void **v, size_t *cap, size_t need, size_t elsz)
{
    if (need <= *cap)
        return true;
    size_t ncap = *cap ? *cap : 16;
    while (ncap < need)
        ncap *= 2;
    void *nv = realloc(*v, ncap * elsz);
    if (!nv)
        return false;
    memset((char *)nv + *cap * elsz, 0, (ncap - *cap) * elsz);
    *v = nv;
    *cap = ncap;
    return true;
}

#define VEC_PUSH(vec, item, ok)                                                     \
    do {                                                                            \
        (ok) = grow((void **)&(vec).v, &(vec).cap, (vec).n + 1, sizeof *(vec).v);   \
        if (ok)                                                                     \
            (vec).v[(vec).n++] = (item);                                            \
    } while (0)

char *gl_simw_amt_dec(sim_amt v, char out[48])
{
    char tmp[48];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + (int)(v % 10));
        v /= 10;
    } while (v);
    for (size_t i = 0; i < n; i++)
        out[i] = tmp[n - 1 - i];
    out[n] = '\0';
    return out;
}

json_t *gl_simw_amt_json(sim_amt v)
{
    char buf[48];
    return json_string(gl_simw_amt_dec(v, buf));
}

void gl_simw_amt_word(sim_amt v, uint8_t out[32])
{
    memset(out, 0, 32);
    for (int i = 31; i >= 16; i--) {
        out[i] = (uint8_t)(v & 0xff);
        v >>= 8;
    }
}

sim_amt gl_simw_word_amt(const uint8_t word[32])
{
    sim_amt v = 0;
    for (int i = 16; i < 32; i++)
        v = (v << 8) | word[i];
    return v;
}

json_t *gl_simw_addr_json(const sim_world *w, uint32_t addr)
{
    if (addr == SIM_NONE)
        return json_null();
    char hex[43];
    return json_string(gl_hex_encode(w->addrs.v[addr].a, 20, true, hex));
}

uint32_t gl_simw_token(const sim_world *w, sim_asset as)
{
    switch (as) {
    case AS_USDC: return w->contract[CT_USDC];
    case AS_GLM: return w->contract[CT_GLM];
    case AS_SWAN: return w->contract[CT_SWAN];
    case AS_USDT: return w->contract[CT_USDT];
    case AS_ETH:
    case AS_N: break;
    }
    return SIM_NONE;
}

int gl_simw_nassets(const sim_world *w) { return w->sc->platform[GL_SIM_BAZAAR] ? AS_N : AS_USDT; }

static gl_u256 to_u256(sim_amt v)
{
    gl_u256 r = {{(uint64_t)v, (uint64_t)(v >> 64), 0, 0}};
    return r;
}

/* ------------------------------------------------------------------ */
/* Addresses                                                            */

static size_t amap_slot(const uint8_t a[20], size_t cap)
{
    uint64_t h;
    memcpy(&h, a + 4, 8);
    return (size_t)(h * 0x9e3779b97f4a7c15ULL >> 7) & (cap - 1);
}

static bool amap_insert(sim_world *w, uint32_t idx)
{
    if ((w->addrs.n + 1) * 2 > w->amap_cap) {
        size_t ncap = w->amap_cap ? w->amap_cap * 2 : 1024;
        uint32_t *nm = calloc(ncap, sizeof *nm);
        if (!nm)
            return false;
        for (size_t i = 0; i < w->amap_cap; i++) {
            if (!w->amap[i])
                continue;
            size_t s = amap_slot(w->addrs.v[w->amap[i] - 1].a, ncap);
            while (nm[s])
                s = (s + 1) & (ncap - 1);
            nm[s] = w->amap[i];
        }
        free(w->amap);
        w->amap = nm;
        w->amap_cap = ncap;
    }
    size_t s = amap_slot(w->addrs.v[idx].a, w->amap_cap);
    while (w->amap[s])
        s = (s + 1) & (w->amap_cap - 1);
    w->amap[s] = idx + 1;
    return true;
}

uint32_t gl_simw_find(const sim_world *w, const uint8_t addr[20])
{
    if (!w->amap_cap)
        return SIM_NONE;
    size_t s = amap_slot(addr, w->amap_cap);
    while (w->amap[s]) {
        if (!memcmp(w->addrs.v[w->amap[s] - 1].a, addr, 20))
            return w->amap[s] - 1;
        s = (s + 1) & (w->amap_cap - 1);
    }
    return SIM_NONE;
}

static uint32_t add_addr(sim_world *w, uint32_t entity, sim_role role, const uint8_t a[20], const uint8_t *key,
                         gl_err *err)
{
    if (gl_simw_find(w, a) != SIM_NONE) {
        char hex[43];
        gl_err_set(err, GL_EINVAL, "address %s is already in the simulation", gl_hex_encode(a, 20, true, hex));
        return SIM_NONE;
    }
    sim_addr rec;
    memset(&rec, 0, sizeof rec);
    memcpy(rec.a, a, 20);
    rec.entity = entity;
    rec.role = (uint8_t)role;
    rec.fund_src = rec.beneficiary = rec.customer = rec.dealer = SIM_NONE;
    if (key) {
        rec.has_key = true;
        memcpy(rec.key, key, 32);
        /* wallet software: 30% legacy (EIP-155), 10% EIP-2930, 60% EIP-1559 */
        uint64_t r = gl_sim_rng_below(&w->rng, 10);
        rec.txtype = r < 3 ? 0 : r < 4 ? 1 : 2;
    }
    bool ok;
    VEC_PUSH(w->addrs, rec, ok);
    if (!ok || !amap_insert(w, (uint32_t)(w->addrs.n - 1))) {
        if (ok)
            w->addrs.n--;
        gl_err_set(err, GL_ENOMEM, "out of memory adding an address");
        return SIM_NONE;
    }
    uint32_t idx = (uint32_t)(w->addrs.n - 1);
    if (entity != SIM_NONE) {
        sim_entity *e = &w->ents.v[entity];
        if (!grow((void **)&e->wallets, &e->capwallets, e->nwallets + 1, sizeof *e->wallets)) {
            gl_err_set(err, GL_ENOMEM, "out of memory adding a wallet");
            return SIM_NONE;
        }
        e->wallets[e->nwallets++] = idx;
        if (e->main == SIM_NONE && key)
            e->main = idx;
    }
    return idx;
}

uint32_t gl_simw_wallet(sim_world *w, uint32_t entity, sim_role role, gl_err *err)
{
    /* key_i = keccak256("gpuledger-sim" || seed (8 bytes BE) || i (8 bytes BE)),
     * skipping the (astronomically rare) i whose hash is not a valid key. */
    for (;;) {
        uint8_t pre[13 + 16], key[32], addr[20];
        memcpy(pre, "gpuledger-sim", 13);
        for (int i = 0; i < 8; i++) {
            pre[13 + i] = (uint8_t)(w->opts->seed >> (56 - 8 * i));
            pre[21 + i] = (uint8_t)(w->key_counter >> (56 - 8 * i));
        }
        w->key_counter++;
        gl_keccak256(pre, sizeof pre, key);
        if (gl_secp_address_of_privkey(w->secp, key, addr, NULL) != GL_OK)
            continue;
        return add_addr(w, entity, role, addr, key, err);
    }
}

uint32_t gl_simw_contract_addr(sim_world *w, uint32_t entity, sim_role role, const uint8_t addr[20], gl_err *err)
{
    return add_addr(w, entity, role, addr, NULL, err);
}

uint32_t gl_simw_keyed(sim_world *w, uint32_t entity, sim_role role, const uint8_t key[32], gl_err *err)
{
    uint8_t addr[20];
    if (gl_secp_address_of_privkey(w->secp, key, addr, err) != GL_OK)
        return SIM_NONE;
    return add_addr(w, entity, role, addr, key, err);
}

void gl_simw_create_address(const uint8_t sender[20], uint64_t nonce, uint8_t out[20])
{
    gl_buf b = GL_BUF_INIT;
    uint8_t h[32];
    size_t begin = gl_rlp_list_begin(&b);
    if (gl_rlp_put_bytes(&b, sender, 20, NULL) || gl_rlp_put_u64(&b, nonce, NULL) ||
        gl_rlp_list_end(&b, begin, NULL)) {
        memset(out, 0, 20); /* out of memory: the deployment check will name it */
        gl_buf_release(&b);
        return;
    }
    gl_keccak256(b.data, b.len, h);
    memcpy(out, h + 12, 20);
    gl_buf_release(&b);
}

/* ------------------------------------------------------------------ */
/* Entities                                                             */

uint32_t gl_simw_entity(sim_world *w, sim_ekind kind, int tz, gl_err *err, const char *fmt, ...)
{
    sim_entity e;
    memset(&e, 0, sizeof e);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e.id, sizeof e.id, fmt, ap);
    va_end(ap);
    e.kind = (uint8_t)kind;
    e.tz = (int8_t)tz;
    e.main = e.exchange = e.ext = e.deposit = SIM_NONE;
    bool ok;
    VEC_PUSH(w->ents, e, ok);
    if (!ok) {
        gl_err_set(err, GL_ENOMEM, "out of memory adding an entity");
        return SIM_NONE;
    }
    return (uint32_t)(w->ents.n - 1);
}

uint64_t gl_simw_awake_time(sim_world *w, uint32_t entity, uint64_t day)
{
    /* Local working hours 08:00-23:00, busiest in the afternoon and
     * evening: weights per local hour. */
    static const unsigned hw[24] = {1, 0, 0, 0, 0, 0, 1, 2, 4, 6, 8, 9, 8, 9, 10, 10, 9, 8, 8, 8, 7, 6, 4, 2};
    unsigned h = gl_sim_rng_weighted(&w->rng, hw, 24);
    int tz = w->ents.v[entity].tz;
    int64_t utc_h = (int64_t)h - tz; /* local h == UTC h + tz */
    int64_t t = (int64_t)(w->sc->start + day * 86400) + utc_h * 3600 +
                (int64_t)gl_sim_rng_below(&w->rng, 3600);
    int64_t lo = (int64_t)(w->sc->start + day * 86400), hi = lo + 86400 - 1;
    /* keep it on this UTC day: wrap around within the day */
    while (t < lo)
        t += 86400;
    while (t > hi)
        t -= 86400;
    return (uint64_t)t;
}

/* ------------------------------------------------------------------ */
/* Ledger                                                               */

sim_amt gl_simw_avail(sim_world *w, uint32_t addr, sim_asset as)
{
    sim_addr *a = &w->addrs.v[addr];
    sim_amt r = a->resv_blk == w->blk_seq ? a->resv[as] : 0;
    return a->bal[as] > r ? a->bal[as] - r : 0;
}

void gl_simw_reserve(sim_world *w, uint32_t addr, sim_asset as, sim_amt v)
{
    sim_addr *a = &w->addrs.v[addr];
    if (a->resv_blk != w->blk_seq) {
        memset(a->resv, 0, sizeof a->resv);
        a->resv_blk = w->blk_seq;
    }
    a->resv[as] += v;
}

sim_amt gl_simw_fee_cap(const sim_world *w, uint32_t addr, uint64_t gas)
{
    sim_amt base = w->sc->base_fee_wei, tip = w->sc->priority_fee_wei;
    sim_amt price = w->addrs.v[addr].txtype == 2 ? 2 * base + tip : base + tip;
    return price * gas;
}

static gl_code model_broke(sim_world *w, uint32_t addr, sim_asset as, gl_err *err)
{
    char hex[43];
    return gl_err_set(err, GL_EVERIFY, "simulator model broken: %s balance of %s (%s) would go negative",
                      gl_sims_asset_name(as), gl_hex_encode(w->addrs.v[addr].a, 20, true, hex),
                      w->ents.v[w->addrs.v[addr].entity].id);
}

gl_code gl_simw_debit(sim_world *w, uint32_t from, sim_asset as, sim_amt v, gl_err *err)
{
    sim_addr *a = &w->addrs.v[from];
    if (a->bal[as] < v)
        return model_broke(w, from, as, err);
    a->bal[as] -= v;
    return GL_OK;
}

gl_code gl_simw_credit(sim_world *w, uint32_t to, sim_asset as, sim_amt v, gl_err *err)
{
    sim_addr *a = &w->addrs.v[to];
    if (a->bal[as] + v < a->bal[as])
        return gl_err_set(err, GL_ERANGE, "simulator amount overflow");
    a->bal[as] += v;
    return GL_OK;
}

gl_code gl_simw_move(sim_world *w, uint32_t from, uint32_t to, sim_asset as, sim_amt v, gl_err *err)
{
    gl_code rc = gl_simw_debit(w, from, as, v, err);
    return rc ? rc : gl_simw_credit(w, to, as, v, err);
}

/* ------------------------------------------------------------------ */
/* Funding                                                              */

/* Round up to a multiple of `unit`. */
static sim_amt round_up(sim_amt v, sim_amt unit) { return (v + unit - 1) / unit * unit; }

static const sim_amt ETH = (sim_amt)1000000000000000000ULL;

/* The unit amounts are rounded to when a person asks for money, from the
 * token's own decimals: 10 USDC / USDT, 1 GLM / SWAN, 0.01 ETH. */
static sim_amt human_unit(sim_asset as)
{
    switch (as) {
    case AS_ETH: return gl_sims_asset_one(as) / 100;
    case AS_USDC:
    case AS_USDT: return gl_sims_asset_one(as) * 10;
    case AS_GLM:
    case AS_SWAN: return gl_sims_asset_one(as);
    case AS_N: break;
    }
    return 1;
}

/* What a treasury top-up sends: generous, so that top-ups are rare (at
 * least 100 ETH, or a million tokens). */
static sim_amt treasury_amount(sim_asset as, sim_amt shortfall)
{
    sim_amt floor_amt = gl_sims_asset_one(as) * (as == AS_ETH ? 100 : 1000000);
    sim_amt v = shortfall * 4;
    return round_up(v > floor_amt ? v : floor_amt, human_unit(as));
}

static gl_code request_funding(sim_world *w, uint32_t addr, sim_asset as, sim_amt shortfall, gl_err *err)
{
    sim_addr *a = &w->addrs.v[addr];
    sim_funding fp = (sim_funding)(as == AS_ETH ? (a->funding >> 4) : (a->funding & 15));
    sim_task t;
    memset(&t, 0, sizeof t);
    t.c = as;
    t.b = addr;
    t.d = PU_FUNDING;
    sim_amt amount = 0;
    if (fp > FP_WALLET)
        return gl_err_set(err, GL_EINVAL, "simulator: bad funding policy %d", (int)fp);
    char hex[43];
    switch (fp) {
    case FP_NONE:
        return gl_err_set(err, GL_EINVAL, "simulator flow broken: %s (%s, %s) lacks %s and has no funding source",
                          gl_hex_encode(a->a, 20, true, hex), w->ents.v[a->entity].id,
                          gl_sims_role_name((sim_role)a->role), gl_sims_asset_name(as));
    case FP_TREASURY:
        amount = treasury_amount(as, shortfall);
        t.kind = as == AS_ETH ? TK_XFER : TK_MINT;
        t.a = as == AS_ETH ? w->operator_addr : addr;
        t.time = w->blk_time + 60 + gl_sim_rng_below(&w->rng, 600);
        break;
    case FP_EXCHANGE:
    case FP_BRIDGE: {
        sim_amt floor_amt = as == AS_ETH ? ETH / 20 : 0;
        amount = shortfall + shortfall * gl_sim_rng_range(&w->rng, 20, 150) / 100;
        amount = round_up(amount > floor_amt ? amount : floor_amt, human_unit(as));
        if (fp == FP_EXCHANGE) {
            uint32_t ex = w->ents.v[a->entity].exchange;
            if (ex == SIM_NONE)
                return gl_err_set(err, GL_EINVAL, "simulator flow broken: %s has no exchange",
                                  w->ents.v[a->entity].id);
            t.kind = TK_XFER;
            t.a = w->ents.v[w->exchanges.v[ex]].main;
        } else {
            t.kind = TK_BRIDGE_RELEASE;
        }
        t.time = w->blk_time + 120 + gl_sim_rng_below(&w->rng, 2400);
        break;
    }
    case FP_WALLET:
        /* a sponsor or a client sends what is missing, a bit more of the coin */
        amount = as == AS_ETH ? round_up(shortfall > ETH / 100 ? shortfall : ETH / 100, human_unit(as)) : shortfall;
        t.kind = TK_XFER;
        t.a = a->fund_src;
        t.time = w->blk_time + 30 + gl_sim_rng_below(&w->rng, 900);
        break;
    }
    t.v = amount;
    a->incoming[as] += amount;
    return gl_simw_push(w, &t, err);
}

bool gl_simw_ensure(sim_world *w, uint32_t addr, sim_asset as, sim_amt v, gl_err *err)
{
    sim_amt av = gl_simw_avail(w, addr, as);
    if (av >= v)
        return true;
    sim_amt shortfall = v - av;
    sim_addr *a = &w->addrs.v[addr];
    if (a->incoming[as] >= shortfall)
        return false;
    request_funding(w, addr, as, shortfall - a->incoming[as], err); /* a failure is in err */
    return false;
}

/* ------------------------------------------------------------------ */
/* Locks                                                                */

static bool lock_add(sim_world *w, uint64_t key, bool takeall)
{
    for (size_t i = 0; i < w->locks.n; i++) {
        if ((w->locks.v[i] >> 1) != key)
            continue;
        bool other_takeall = w->locks.v[i] & 1;
        if (takeall || other_takeall)
            return false;
        return true; /* increases share */
    }
    bool ok;
    uint64_t item = key << 1 | (takeall ? 1 : 0);
    VEC_PUSH(w->locks, item, ok);
    return ok;
}

bool gl_simw_lock_incr(sim_world *w, uint64_t key) { return lock_add(w, key, false); }
bool gl_simw_lock_takeall(sim_world *w, uint64_t key) { return lock_add(w, key, true); }

/* ------------------------------------------------------------------ */
/* Queue                                                                */

static bool task_less(const sim_task *a, const sim_task *b)
{
    return a->time < b->time || (a->time == b->time && a->seq < b->seq);
}

gl_code gl_simw_push(sim_world *w, const sim_task *t, gl_err *err)
{
    bool ok;
    VEC_PUSH(w->heap, *t, ok);
    if (!ok)
        return gl_err_set(err, GL_ENOMEM, "out of memory queueing a task");
    sim_task *h = w->heap.v;
    size_t i = w->heap.n - 1;
    h[i].seq = w->seq++;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!task_less(&h[i], &h[p]))
            break;
        sim_task tmp = h[i];
        h[i] = h[p];
        h[p] = tmp;
        i = p;
    }
    return GL_OK;
}

static sim_task pop(sim_world *w)
{
    sim_task *h = w->heap.v;
    sim_task top = h[0];
    h[0] = h[--w->heap.n];
    size_t i = 0, n = w->heap.n;
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < n && task_less(&h[l], &h[m]))
            m = l;
        if (r < n && task_less(&h[r], &h[m]))
            m = r;
        if (m == i)
            break;
        sim_task tmp = h[i];
        h[i] = h[m];
        h[m] = tmp;
        i = m;
    }
    return top;
}

/* ------------------------------------------------------------------ */
/* Transactions                                                         */

bool gl_simw_room(const sim_world *w, size_t ntx, uint64_t gas)
{
    return w->txs.n + ntx <= w->sc->max_txs_per_block && w->blk_gas + gas <= w->gas_limit;
}

gl_code gl_simw_encode(sim_world *w, sim_fn fn, json_t *args, gl_buf *out, gl_err *err)
{
    gl_buf_reset(out);
    if (!args)
        return gl_err_set(err, GL_ENOMEM, "out of memory building the arguments of %s", w->fn[fn].name);
    gl_code rc = gl_abi_encode_call(out, &w->fn[fn], args, err);
    json_decref(args);
    if (rc)
        gl_err_prefix(err, "encoding %s: ", w->fn[fn].canonical);
    return rc;
}

gl_code gl_simw_send(sim_world *w, const sim_task *t, uint8_t step, uint32_t from, uint32_t to,
                     const uint8_t *to_raw, sim_amt value, const gl_buf *data, uint64_t gas, uint8_t fn,
                     gl_err *err)
{
    sim_addr *s = &w->addrs.v[from];
    if (!s->has_key)
        return gl_err_set(err, GL_EINVAL, "simulator flow broken: %s has no key", w->ents.v[s->entity].id);
    gl_tx tx;
    gl_tx_init(&tx);
    tx.type = (gl_tx_type)s->txtype;
    tx.has_chain_id = true;
    tx.chain_id = gl_u256_from_u64(w->chain_id);
    tx.nonce = s->nonce;
    sim_amt base = w->sc->base_fee_wei, tip = w->sc->priority_fee_wei;
    if (s->txtype == 2) {
        tx.max_priority_fee_per_gas = to_u256(tip);
        tx.max_fee_per_gas = to_u256(2 * base + tip);
    } else {
        tx.gas_price = to_u256(base + tip);
    }
    tx.gas = gas;
    if (to != SIM_NONE || to_raw) {
        tx.has_to = true;
        memcpy(tx.to, to != SIM_NONE ? w->addrs.v[to].a : to_raw, 20);
    }
    tx.value = to_u256(value);
    tx.input = data && data->len ? data->data : NULL; /* borrowed: reset before release */
    tx.input_len = data ? data->len : 0;
    gl_buf raw = GL_BUF_INIT;
    gl_code rc = gl_tx_sign(w->secp, &tx, s->key, err);
    if (!rc)
        rc = gl_tx_encode(&tx, &raw, err);
    tx.input = NULL;
    tx.input_len = 0;
    gl_tx_release(&tx);
    if (rc) {
        gl_buf_release(&raw);
        return rc;
    }
    sim_tx rec;
    memset(&rec, 0, sizeof rec);
    rec.from = from;
    rec.to = to;
    rec.gas = gas;
    rec.value = value;
    rec.reserved_eth = value + gl_simw_fee_cap(w, from, gas);
    rec.task = *t;
    rec.step = step;
    rec.fn = fn;
    gl_keccak256(raw.data, raw.len, rec.hash);
    char *hex = gl_hex_encode_alloc(raw.data, raw.len, true);
    gl_buf_release(&raw);
    bool ok = hex && grow((void **)&w->raws, &w->raws_cap, w->txs.n + 1, sizeof *w->raws);
    if (ok)
        VEC_PUSH(w->txs, rec, ok);
    if (!ok) {
        free(hex);
        return gl_err_set(err, GL_ENOMEM, "out of memory adding a transaction");
    }
    w->raws[w->txs.n - 1] = hex;
    s->nonce++;
    w->blk_gas += gas;
    gl_simw_reserve(w, from, AS_ETH, rec.reserved_eth);
    w->ntxs++;
    return GL_OK;
}

/* ------------------------------------------------------------------ */
/* The loop                                                             */

static void clear_block(sim_world *w)
{
    for (size_t i = 0; i < w->txs.n; i++) {
        free(w->raws[i]);
        w->raws[i] = NULL;
    }
    w->txs.n = 0;
    w->locks.n = 0;
    w->blk_gas = 0;
}

static bool is_market_log(sim_world *w, const uint8_t a[20])
{
    static const sim_contract markets[] = {CT_GPUMARKET, CT_LIVEPEER, CT_GOLEM_BATCH, CT_GOLEM_LOCK,
                                           CT_SPHERON_ORDER, CT_SPHERON_LEASE, CT_SWAN_TASKS, CT_FLUENCE_FACTORY,
                                           CT_BAZAAR};
    uint32_t idx = gl_simw_find(w, a);
    if (idx == SIM_NONE)
        return false;
    for (size_t i = 0; i < sizeof markets / sizeof markets[0]; i++)
        if (w->contract[markets[i]] == idx)
            return true;
    return w->addrs.v[idx].role == RO_FLUENCE_DEAL;
}

/* Mine the block built so far and apply every transaction's effects. */
static gl_code mine_block(sim_world *w, gl_err *err)
{
    sim_receipt *rc_v = calloc(w->txs.n, sizeof *rc_v);
    if (!rc_v)
        return gl_err_set(err, GL_ENOMEM, "out of memory for receipts");
    json_t *raw = NULL;
    gl_code rc = gl_simn_mine(w, rc_v, &raw, err);
    for (size_t i = 0; !rc && i < w->txs.n; i++) {
        const sim_tx *tx = &w->txs.v[i];
        sim_amt fee = (sim_amt)rc_v[i].gas_used * rc_v[i].gas_price;
        rc = gl_simw_debit(w, tx->from, AS_ETH, fee, err);
        if (!rc && tx->value) {
            if (tx->to == SIM_NONE)
                rc = gl_err_set(err, GL_EINVAL, "simulator flow broken: value sent to an unknown address");
            else
                rc = gl_simw_move(w, tx->from, tx->to, AS_ETH, tx->value, err);
        }
        if (!rc)
            rc = gl_simf_effect(w, tx, &rc_v[i], err);
        if (rc) {
            char hex[67];
            gl_err_prefix(err, "block %llu, tx %s (%s by %s): ", (unsigned long long)w->blk_number,
                          gl_hex_encode(tx->hash, 32, true, hex), gl_simf_task_name((sim_tk)tx->task.kind),
                          w->ents.v[w->addrs.v[tx->from].entity].id);
            break;
        }
        for (size_t k = 0; k < rc_v[i].nlogs; k++)
            if (is_market_log(w, rc_v[i].logs[k].address))
                w->market_events++;
    }
    gl_simn_receipts_free(rc_v, w->txs.n, raw);
    if (!rc) {
        if (!w->first_block)
            w->first_block = w->blk_number;
        w->last_block = w->blk_number;
        w->last_time = w->blk_time;
    }
    return rc;
}

static gl_code run_block(sim_world *w, uint64_t T, gl_err *err)
{
    w->blk_seq++;
    w->blk_time = T;
    w->blk_number = w->last_block + 1;
    clear_block(w);
    sim_task_vec full = {0};
    gl_code rc = GL_OK;
    while (w->heap.n && w->heap.v[0].time <= T) {
        if (!gl_simw_room(w, 1, 21000))
            break;
        sim_task t = pop(w);
        gl_err_clear(err);
        sim_prep p = gl_simf_prepare(w, &t, err);
        if (err->code) {
            rc = err->code;
            gl_err_prefix(err, "%s at %llu: ", gl_simf_task_name((sim_tk)t.kind), (unsigned long long)T);
            break;
        }
        if (p == PR_FULL) {
            bool ok;
            VEC_PUSH(full, t, ok);
            if (!ok) {
                rc = gl_err_set(err, GL_ENOMEM, "out of memory");
                break;
            }
            if (w->txs.n == 0) {
                rc = gl_err_set(err, GL_EINVAL, "%s needs more gas than a block holds (%llu)",
                                gl_simf_task_name((sim_tk)t.kind), (unsigned long long)w->gas_limit);
                break;
            }
            /* keep filling with smaller tasks: but stop after a few misses */
            if (full.n >= 8)
                break;
        } else if (p == PR_LATER) {
            if (++t.defers > MAX_DEFERS) {
                rc = gl_err_set(err, GL_EINVAL, "%s (a=%u b=%u) was deferred %d times: its actor cannot be "
                                "funded or its lock never frees", gl_simf_task_name((sim_tk)t.kind), t.a, t.b,
                                MAX_DEFERS);
                break;
            }
            if (t.time <= T)
                t.time = T + w->sc->block_time;
            rc = gl_simw_push(w, &t, err);
            if (rc)
                break;
        }
    }
    for (size_t i = 0; !rc && i < full.n; i++)
        rc = gl_simw_push(w, &full.v[i], err);
    free(full.v);
    if (!rc && w->txs.n)
        rc = mine_block(w, err);
    clear_block(w);
    return rc;
}

gl_code gl_simw_run(sim_world *w, gl_err *err)
{
    gl_code rc = GL_OK;
    uint64_t nblocks = 0;
    while (w->heap.n) {
        uint64_t t0 = w->heap.v[0].time;
        if (t0 >= w->end_time)
            break;
        uint64_t T = t0 > w->last_time + w->sc->block_time ? t0 : w->last_time + w->sc->block_time;
        if (T >= w->end_time)
            break;
        uint64_t before = w->last_block;
        rc = run_block(w, T, err);
        if (rc)
            return rc;
        if (w->last_block == before) {
            /* nothing was sent (every due task deferred or done without a
             * transaction): time moves on without a block */
            if (w->heap.n && w->heap.v[0].time <= T) {
                /* a due task stayed due without a block: only FULL does that
                 * and FULL with an empty block is an error above */
            }
            continue;
        }
        if (w->opts->progress && ++nblocks % 500 == 0) {
            char line[160];
            snprintf(line, sizeof line, "block %llu: %llu transactions, %llu market events, day %llu of %u",
                     (unsigned long long)w->last_block, (unsigned long long)w->ntxs,
                     (unsigned long long)w->market_events,
                     (unsigned long long)((T > w->sc->start ? T - w->sc->start : 0) / 86400 + 1), w->sc->days);
            w->opts->progress(w->opts->progress_ctx, line);
        }
    }
    return rc;
}

/* ------------------------------------------------------------------ */
/* Life cycle                                                           */

gl_code gl_simw_init(sim_world *w, const gl_sim_scenario *sc, const gl_sim_opts *opts, gl_err *err)
{
    memset(w, 0, sizeof *w);
    w->sc = sc;
    w->opts = opts;
    gl_sim_rng_seed(&w->rng, opts->seed, 1);
    w->end_time = sc->start + (uint64_t)sc->days * 86400;
    w->setup_time = sc->start - 6 * 3600;
    w->operator_addr = w->bridge_relayer = w->airdropper = SIM_NONE;
    for (int i = 0; i < CT_N; i++)
        w->contract[i] = w->contract_entity[i] = SIM_NONE;
    w->secp = gl_secp_new(err);
    if (!w->secp)
        return err ? err->code : GL_ENOMEM;
    w->rpc = gl_rpc_new(opts->rpc_url, err);
    if (!w->rpc)
        return err ? err->code : GL_EINVAL;
    gl_rpc_set_timeouts(w->rpc, 0, 300000);
    return GL_OK;
}

void gl_simw_release(sim_world *w)
{
    clear_block(w);
    free(w->raws);
    free(w->txs.v);
    free(w->locks.v);
    free(w->heap.v);
    for (size_t i = 0; i < w->ents.n; i++)
        free(w->ents.v[i].wallets);
    free(w->ents.v);
    free(w->addrs.v);
    free(w->amap);
    free(w->exchanges.v);
    free(w->provs.v);
    for (int i = 0; i < GL_SIM_NPLATFORMS; i++)
        free(w->plat_provs[i].v);
    free(w->offers.v);
    free(w->leases.v);
    free(w->holds.v);
    free(w->purch.v);
    free(w->gdeps.v);
    free(w->orders.v);
    free(w->deals.v);
    free(w->listings.v);
    free(w->noise.v);
    free(w->airdrop_to.v);
    free(w->hubs.v);
    free(w->hub_ents.v);
    free(w->hub_blocks.v);
    for (int i = 0; i < CT_N; i++)
        gl_buf_release(&w->code[i]);
    gl_buf_release(&w->cp_code);
    gl_buf_release(&w->hub_code);
    for (int i = 0; i < FN_N; i++)
        gl_abi_sig_release(&w->fn[i]);
    gl_rpc_free(w->rpc);
    gl_secp_free(w->secp);
    memset(w, 0, sizeof *w);
}
