/* bench_analyze.c - `gpuledger analyze` at 1M and 10M transfers: wall time
 * and peak RSS, and connected components against networkx.
 *
 * For each size (BENCH_SIZES, default "1000000,10000000" transfers) a
 * deterministic, seeded generator (BENCH_SEED, default 1) writes a synthetic
 * store with the bulk writer, shaped like an EVM chain the indexer has read:
 *   - blocks 12 s apart with timestamps, ~100 txs each; every transfer has its
 *     tx record (sender as the indexer stores it, SENDER_OK), native
 *     transfers at tx positions, ERC-20 transfers (two tokens) at log
 *     positions;
 *   - W wallets (BENCH_WALLETS, default transfers / 10: 1M wallets at 10M)
 *     picked with power-law weights (rank = W * u^3: a few wallets in
 *     thousands of transfers, most in a handful);
 *   - exchange hot wallets paying withdrawals to customers, each customer
 *     depositing into its own deposit address, which sweeps its balance to
 *     the hot wallet 1-5 hours later (native less a fee);
 *   - a small marketplace (one definition, stored with
 *     gl_store_batch_set_platform_def, so analyze knows its event kinds):
 *     LeaseCreated purchases (kind lease: the tenant pays the market in
 *     USDC in the same tx), EscrowFunded deposits (kind deposit; one in five
 *     paid by someone else), hourly payouts from the market to providers;
 *   - sponsors funding fresh wallets shortly (1-24 h) before each fresh
 *     wallet's first lease.
 * The generator also writes every transfer as "src dst" (its own integer
 * ids) to an edge list.
 *
 * Then, each size:
 *   - `gpuledger analyze --db DIR --json --quiet` as a child process
 *     (GPULEDGER_BIN, else argv[1], else ../gpuledger next to this binary),
 *     BENCH_RUNS times (default 3 up to 2M transfers, else 1): wall time,
 *     peak RSS (VmHWM after its exec: tests/support/peakrss.h), CPU, and the summary's phase times
 *     (load_s, analyze_s, write_s); medians printed;
 *   - connected components in C: gl_graph_load on the store, then
 *     gl_graph_components (components.h); also union-find straight from the
 *     edge-list file;
 *   - networkx (python3, Debian's python3-networkx; BENCH_NX=0 skips) on the
 *     same edge list: read, Graph build, number_connected_components, each
 *     timed.  Both counts must agree: the bench exits 1 when they differ.
 * Heavy work runs in forked children so that the parent stays small: Linux
 * carries a parent's RSS high-water mark into a child it forks and execs,
 * which would inflate analyze's figure.
 *
 * After the sizes, issue 13's adversarial store (BENCH_HUB, default
 * 1000000; 0 skips it; BENCH_SIZES=0 runs it alone): one unlabelled hub
 * paying and paid by BENCH_HUB distinct wallets, self-transfers, zero and
 * 2^256-1 amounts, 10,000 three-wallet rings, a wallet in every role.
 * analyze, flags, entities and explain are timed on it (wall, CPU, peak
 * RSS) and checked against what the generator wrote: the address and
 * transfer counts, the hub's entity the hub alone (explain and entities),
 * every flag with two families, the wallet in every role not flagged.
 *
 * Figures to stdout; bench/RESULTS.md keeps the ones worth keeping.
 * BENCH_KEEP=1 keeps the stores (their paths printed) for profiling.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <libgen.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "gpuledger/components.h"
#include "gpuledger/graph.h"
#include "gpuledger/platform.h"
#include "gpuledger/store.h"
#include "gpuledger/uf.h"
#include "../tests/support/peakrss.h"

#define CHAIN_ID 1u
#define PLATFORM "bench-market"
#define BLOCK_S 12u
#define T0 1735689600u /* 2025-01-01 */
#define RING 8192u     /* future actions, by block: longer than the longest delay (24 h = 7200 blocks) */

/* ------------------------------------------------------------- helpers */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static unsigned long long env_ull(const char *name, unsigned long long dflt)
{
    const char *v = getenv(name);
    return v && *v ? strtoull(v, NULL, 10) : dflt;
}

static void die(const char *what, const gl_err *err)
{
    fprintf(stderr, "bench_analyze: %s%s%s\n", what, err ? ": " : "", err ? err->msg : "");
    exit(1);
}

static uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
    (void)st;
    (void)flag;
    (void)f;
    return remove(p);
}

static void rm_rf(const char *path) { nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS); }

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* ----------------------------------------------------------- generator */

enum { FUT_SWEEP = 1, FUT_FRESH_LEASE };

typedef struct fut {
    uint8_t kind;
    uint32_t a;      /* sweep: the customer; fresh lease: the fresh wallet */
    uint32_t b;      /* fresh lease: its sponsor */
    uint64_t amount; /* fresh lease: the price */
} fut;

typedef struct bucket {
    fut *v;
    size_t n, cap;
} bucket;

typedef struct gen {
    uint64_t seed, rng;
    uint64_t target;          /* transfers to write */
    uint32_t W, E, P, S;      /* wallets, exchanges, providers, sponsors */
    uint32_t base_hot, base_dep, base_prov, base_spon, base_fresh, next_fresh;
    uint32_t id_market, id_usdc, id_glm, id_operator;
    uint32_t *perm;           /* rank -> wallet */
    uint64_t *dep_native, *dep_usdc; /* deposit address balances, by customer */
    uint64_t *prov_due;       /* what the market owes each provider */
    bucket ring[RING];
    gl_store *s;
    gl_store_batch *b;
    gl_err err;
    FILE *edges;
    char *ebuf;
    size_t elen;
    /* position */
    uint64_t block;
    uint32_t tx_index, log_index;
    uint8_t block_hash[32];
    /* counts */
    uint64_t n_transfers, n_native, n_txs, n_leases, n_fresh_leases, n_escrow, n_sweeps, n_payouts,
        n_blocks, lease_id;
} gen;

static uint64_t rnd(gen *g)
{
    return mix64(g->rng += 0x9E3779B97F4A7C15ull);
}

static double unif(gen *g) { return (double)(rnd(g) >> 11) / 9007199254740992.0; }

static uint32_t below(gen *g, uint32_t n) { return (uint32_t)(((rnd(g) >> 32) * (uint64_t)n) >> 32); }

/* A power-law rank in [0, n): P(rank < r) = (r/n)^(1/3). */
static uint32_t pl_rank(gen *g, uint32_t n)
{
    double u = unif(g);
    uint32_t r = (uint32_t)((double)n * u * u * u);
    return r < n ? r : n - 1;
}

static void addr_of(const gen *g, uint32_t id, uint8_t out[20])
{
    uint64_t a = mix64(g->seed * 0x100000001B3ull + id), b = mix64(a ^ 0xA5A5A5A5u), c = mix64(b + id);
    memcpy(out, &a, 8);
    memcpy(out + 8, &b, 8);
    memcpy(out + 16, &c, 4);
}

static void hash_of(const gen *g, uint64_t tag, uint64_t x, uint8_t out[32])
{
    uint64_t h = mix64(g->seed ^ (tag << 56) ^ x);
    for (int i = 0; i < 4; i++) {
        h = mix64(h + (uint64_t)i);
        memcpy(out + 8 * i, &h, 8);
    }
}

static gl_u256 u256_of(uint64_t v)
{
    gl_u256 u;
    memset(&u, 0, sizeof u);
    u.w[0] = v;
    return u;
}

static void edge_out(gen *g, uint32_t src, uint32_t dst)
{
    if (!g->edges) /* the hub store writes none: no components run on it */
        return;
    if (g->elen > (1u << 20) - 32) {
        if (fwrite(g->ebuf, 1, g->elen, g->edges) != g->elen)
            die("cannot write the edge list", NULL);
        g->elen = 0;
    }
    g->elen += (size_t)sprintf(g->ebuf + g->elen, "%u %u\n", src, dst);
}

/* One tx from `from` to `to` carrying `value` wei; its hash into hash. */
static void put_tx(gen *g, uint32_t from, uint32_t to, uint64_t value, uint8_t hash[32])
{
    gl_store_tx t;
    memset(&t, 0, sizeof t);
    t.chain_id = CHAIN_ID;
    t.block = g->block;
    t.index = g->tx_index;
    hash_of(g, 1, g->block << 20 | g->tx_index, t.hash);
    addr_of(g, from, t.from);
    t.has_to = true;
    addr_of(g, to, t.to);
    t.value = u256_of(value);
    t.flags = GL_STORE_TX_SENDER_OK;
    if (gl_store_batch_put_tx(g->b, &t, &g->err))
        die("put tx", &g->err);
    memcpy(hash, t.hash, 32);
    g->n_txs++;
}

/* A transfer in the current tx: native at the tx's position, a token at the
 * next log index. */
static void put_transfer_u(gen *g, uint32_t token, uint32_t from, uint32_t to, gl_u256 amount,
                           const uint8_t txh[32])
{
    gl_store_transfer t;
    memset(&t, 0, sizeof t);
    t.pos.chain_id = CHAIN_ID;
    t.pos.block = g->block;
    if (token) {
        t.pos.kind = GL_STORE_POS_LOG;
        t.pos.index = g->log_index++;
        t.asset = GL_STORE_ASSET_ERC20;
        addr_of(g, token, t.token);
    } else {
        t.pos.kind = GL_STORE_POS_TX;
        t.pos.index = g->tx_index;
        t.asset = GL_STORE_ASSET_NATIVE;
        g->n_native++;
    }
    addr_of(g, from, t.from);
    addr_of(g, to, t.to);
    t.amount = amount;
    memcpy(t.tx_hash, txh, 32);
    t.flags = GL_STORE_TX_SENDER_OK;
    if (gl_store_batch_put_transfer(g->b, &t, &g->err))
        die("put transfer", &g->err);
    edge_out(g, from, to);
    g->n_transfers++;
}

static void put_transfer(gen *g, uint32_t token, uint32_t from, uint32_t to, uint64_t amount,
                         const uint8_t txh[32])
{
    put_transfer_u(g, token, from, to, u256_of(amount), txh);
}

/* A whole tx moving one asset: native (token 0) sent straight to `to`, a
 * token by a call to the token contract. */
static void simple_transfer(gen *g, uint32_t token, uint32_t from, uint32_t to, uint64_t amount)
{
    uint8_t h[32];
    put_tx(g, from, token ? token : to, token ? 0 : amount, h);
    put_transfer(g, token, from, to, amount, h);
    g->tx_index++;
}

static void schedule(gen *g, uint64_t delay_blocks, fut f)
{
    bucket *bk = &g->ring[(g->block + delay_blocks) % RING];
    if (bk->n == bk->cap) {
        bk->cap = bk->cap ? bk->cap * 2 : 16;
        if (!(bk->v = realloc(bk->v, bk->cap * sizeof *bk->v)))
            die("out of memory", NULL);
    }
    bk->v[bk->n++] = f;
}

static const char *const MODELS[] = {"NVIDIA H100 80GB", "NVIDIA A100 40GB", "RTX 4090", "RTX 3090", "L40S"};

/* LeaseCreated, paid in USDC by `tenant` in the same tx (from the tenant
 * to the market). */
static void lease_from(gen *g, uint32_t tenant, uint32_t prov, bool every_role, uint64_t price)
{
    uint8_t h[32];
    put_tx(g, tenant, g->id_market, 0, h);
    put_transfer(g, g->id_usdc, tenant, g->id_market, price, h);
    gl_store_event *e = calloc(1, sizeof *e);
    if (!e)
        die("out of memory", NULL);
    e->chain_id = CHAIN_ID;
    e->block = g->block;
    e->log_index = g->log_index++;
    snprintf(e->platform, sizeof e->platform, "%s", PLATFORM);
    snprintf(e->name, sizeof e->name, "LeaseCreated");
    addr_of(g, g->id_market, e->contract);
    memcpy(e->tx_hash, h, 32);
    e->tx_index = g->tx_index;
    e->has_tx_from = true;
    addr_of(g, tenant, e->tx_from);
    e->n_roles = 2;
    e->roles[0].role = GL_STORE_ROLE_BUYER;
    addr_of(g, tenant, e->roles[0].addr);
    e->roles[1].role = GL_STORE_ROLE_PROVIDER;
    addr_of(g, prov, e->roles[1].addr);
    if (every_role) {
        /* the tenant also named as payer and beneficiary: the definition
         * maps no field to those, but the analyzer reads the stored roles */
        e->n_roles = 4;
        e->roles[2].role = GL_STORE_ROLE_PAYER;
        addr_of(g, tenant, e->roles[2].addr);
        e->roles[3].role = GL_STORE_ROLE_BENEFICIARY;
        addr_of(g, tenant, e->roles[3].addr);
    }
    e->has_amount = true;
    e->amount = u256_of(price);
    e->has_token = true;
    addr_of(g, g->id_usdc, e->token);
    e->n_ids = 1;
    snprintf(e->ids[0].name, sizeof e->ids[0].name, "leaseId");
    uint64_t id = ++g->lease_id;
    for (int i = 0; i < 8; i++)
        e->ids[0].value[31 - i] = (uint8_t)(id >> (8 * i));
    snprintf(e->gpu_model, sizeof e->gpu_model, "%s", MODELS[pl_rank(g, 5)]);
    e->gpu_count = 1 + below(g, 8);
    e->duration_s = 3600u * (1 + below(g, 48));
    e->gpu_mhours = (uint64_t)e->gpu_count * e->duration_s * 1000 / 3600;
    e->verified = GL_STORE_EVENT_SENDER_OK;
    if (gl_store_batch_put_event(g->b, e, &g->err))
        die("put event", &g->err);
    free(e);
    g->tx_index++;
    g->n_leases++;
}

static void lease(gen *g, uint32_t tenant, uint64_t price)
{
    uint32_t prov = g->base_prov + pl_rank(g, g->P);
    lease_from(g, tenant, prov, false, price);
    g->prov_due[prov - g->base_prov] += price * 9 / 10;
}

/* EscrowFunded: `payer` pays the market for `account`'s escrow. */
static void escrow(gen *g, uint32_t account, uint32_t payer, uint64_t amount)
{
    uint8_t h[32];
    put_tx(g, payer, g->id_market, 0, h);
    put_transfer(g, g->id_usdc, payer, g->id_market, amount, h);
    gl_store_event *e = calloc(1, sizeof *e);
    if (!e)
        die("out of memory", NULL);
    e->chain_id = CHAIN_ID;
    e->block = g->block;
    e->log_index = g->log_index++;
    snprintf(e->platform, sizeof e->platform, "%s", PLATFORM);
    snprintf(e->name, sizeof e->name, "EscrowFunded");
    addr_of(g, g->id_market, e->contract);
    memcpy(e->tx_hash, h, 32);
    e->tx_index = g->tx_index;
    e->has_tx_from = true;
    addr_of(g, payer, e->tx_from);
    e->n_roles = 2;
    e->roles[0].role = GL_STORE_ROLE_BUYER;
    addr_of(g, account, e->roles[0].addr);
    e->roles[1].role = GL_STORE_ROLE_PAYER;
    addr_of(g, payer, e->roles[1].addr);
    e->has_amount = true;
    e->amount = u256_of(amount);
    e->has_token = true;
    addr_of(g, g->id_usdc, e->token);
    e->verified = GL_STORE_EVENT_SENDER_OK;
    if (gl_store_batch_put_event(g->b, e, &g->err))
        die("put event", &g->err);
    free(e);
    g->tx_index++;
    g->n_escrow++;
}

static uint64_t native_amount(gen *g) { return 1000000000000000ull * (1 + pl_rank(g, 5000)); }   /* 0.001-5 ETH */
static uint64_t usdc_amount(gen *g) { return 1000000ull * (1 + pl_rank(g, 20000)); }               /* 1-20,000 USDC */
static uint32_t wallet(gen *g) { return g->perm[pl_rank(g, g->W)]; }
static uint32_t buyer(gen *g) { return 20 * pl_rank(g, g->W / 20); }

#define SWEEP_FEE 500000000000000ull /* 0.0005 ETH kept back for the sweep's gas */

static void run_futures(gen *g)
{
    bucket *bk = &g->ring[g->block % RING];
    for (size_t i = 0; i < bk->n; i++) {
        fut f = bk->v[i];
        if (f.kind == FUT_SWEEP) {
            uint32_t c = f.a, dep = g->base_dep + c, hot = g->base_hot + c % g->E;
            if (g->dep_native[c] > SWEEP_FEE) {
                simple_transfer(g, 0, dep, hot, g->dep_native[c] - SWEEP_FEE);
                g->dep_native[c] = 0;
                g->n_sweeps++;
            }
            if (g->dep_usdc[c]) {
                simple_transfer(g, g->id_usdc, dep, hot, g->dep_usdc[c]);
                g->dep_usdc[c] = 0;
                g->n_sweeps++;
            }
        } else {
            lease(g, f.a, f.amount);
            g->n_fresh_leases++;
        }
    }
    bk->n = 0;
}

static void one_action(gen *g)
{
    uint32_t x = below(g, 10000);
    if (x < 3700) { /* wallet to wallet, tokens (USDC 7 in 10, GLM) */
        uint32_t tok = below(g, 10) < 7 ? g->id_usdc : g->id_glm;
        simple_transfer(g, tok, (uint32_t)wallet(g), (uint32_t)wallet(g), usdc_amount(g));
    } else if (x < 6700) { /* wallet to wallet, ETH */
        simple_transfer(g, 0, (uint32_t)wallet(g), (uint32_t)wallet(g), native_amount(g));
    } else if (x < 8000) { /* exchange withdrawal */
        uint32_t c = (uint32_t)wallet(g);
        uint32_t hot = g->base_hot + c % g->E;
        if (below(g, 2))
            simple_transfer(g, 0, hot, c, native_amount(g));
        else
            simple_transfer(g, g->id_usdc, hot, c, usdc_amount(g));
    } else if (x < 9000) { /* deposit into the customer's own address, swept later */
        uint32_t c = (uint32_t)wallet(g);
        uint32_t dep = g->base_dep + c;
        if (below(g, 2)) {
            uint64_t a = native_amount(g);
            simple_transfer(g, 0, c, dep, a);
            g->dep_native[c] += a;
        } else {
            uint64_t a = usdc_amount(g);
            simple_transfer(g, g->id_usdc, c, dep, a);
            g->dep_usdc[c] += a;
        }
        schedule(g, 300 + below(g, 1200), (fut){.kind = FUT_SWEEP, .a = c}); /* 1-5 h */
    } else if (x < 9800) { /* wallet to wallet, tokens */
        simple_transfer(g, g->id_usdc, (uint32_t)wallet(g), (uint32_t)wallet(g), usdc_amount(g));
    } else if (x < 9940) { /* a lease by a regular buyer */
        lease(g, buyer(g), 1000000ull * (5 + pl_rank(g, 2000)));
    } else if (x < 9980) { /* a sponsor funds a fresh wallet that leases 1-24 h later */
        uint32_t sp = g->base_spon + pl_rank(g, g->S), fw = g->next_fresh++;
        uint64_t price = 1000000ull * (5 + pl_rank(g, 2000));
        simple_transfer(g, g->id_usdc, sp, fw, price + price / 10 * below(g, 3));
        schedule(g, 300 + below(g, 6900), (fut){.kind = FUT_FRESH_LEASE, .a = fw, .b = sp, .amount = price});
    } else { /* escrow: mostly the buyer's own money, one in five someone else's */
        uint32_t acct = buyer(g);
        uint32_t payer = below(g, 5) ? acct : g->base_spon + pl_rank(g, g->S);
        escrow(g, acct, payer, 1000000ull * (50 + pl_rank(g, 5000)));
    }
}

static void payouts(gen *g)
{
    for (uint32_t p = 0; p < g->P; p++) {
        if (!g->prov_due[p])
            continue;
        uint8_t h[32];
        put_tx(g, g->id_operator, g->id_market, 0, h);
        put_transfer(g, g->id_usdc, g->id_market, g->base_prov + p, g->prov_due[p], h);
        g->tx_index++;
        g->prov_due[p] = 0;
        g->n_payouts++;
    }
}

static const char *DEF_FMT =
    "{\"format\":\"gpuledger-platform/1\",\"name\":\"" PLATFORM "\",\"platform\":\"benchmarket\","
    "\"description\":\"bench_analyze's synthetic market\",\"chain_id\":%u,\"confirmations\":12,"
    "\"block_time_seconds\":12,"
    "\"tokens\":{\"native\":{\"symbol\":\"ETH\",\"decimals\":18},\"%s\":{\"symbol\":\"USDC\",\"decimals\":6}},"
    "\"contracts\":[{\"name\":\"Market\",\"address\":\"%s\",\"start_block\":0,\"abis\":[{\"from_block\":0,"
    "\"to_block\":null,\"events\":["
    "\"event LeaseCreated(uint256 indexed leaseId, address indexed tenant, address indexed provider, "
    "uint256 price, address token, string gpuModel, uint32 gpuCount, uint32 durationHours)\","
    "\"event EscrowFunded(address indexed account, address indexed payer, uint256 amount, address token)\"]}]}],"
    "\"events\":{\"LeaseCreated\":{\"kind\":\"lease\",\"buyer\":\"tenant\",\"provider\":\"provider\","
    "\"amount\":\"price\",\"token\":\"token\",\"lease_id\":\"leaseId\",\"gpu_model\":\"gpuModel\","
    "\"gpu_count\":\"gpuCount\",\"hours\":\"durationHours\"},"
    "\"EscrowFunded\":{\"kind\":\"deposit\",\"buyer\":\"account\",\"payer\":\"payer\",\"amount\":\"amount\","
    "\"token\":\"token\"}}}";

static void commit(gen *g)
{
    uint8_t h[32];
    hash_of(g, 2, g->block, h);
    if (gl_store_batch_set_cursor(g->b, CHAIN_ID, PLATFORM, g->block, h, &g->err) ||
        gl_store_batch_commit(g->b, &g->err))
        die("commit", &g->err);
}

/* Block g->block, chained to the one before; tx and log positions restart. */
static void put_block(gen *g)
{
    gl_store_block blk;
    memset(&blk, 0, sizeof blk);
    blk.chain_id = CHAIN_ID;
    blk.number = g->block;
    memcpy(blk.parent_hash, g->block_hash, 32);
    hash_of(g, 2, g->block, g->block_hash);
    memcpy(blk.hash, g->block_hash, 32);
    blk.timestamp = T0 + BLOCK_S * g->block;
    blk.verified = GL_STORE_BLOCK_HASH_OK | GL_STORE_BLOCK_PARENT_OK | GL_STORE_BLOCK_SENDERS_OK;
    if (gl_store_batch_put_block(g->b, &blk, &g->err))
        die("put block", &g->err);
    g->n_blocks++;
    g->tx_index = g->log_index = 0;
}

/* The market's definition, so analyze knows its event kinds. */
static void put_definition(gen *g)
{
    char usdc[43], market[43], def[4096];
    uint8_t a[20];
    addr_of(g, g->id_usdc, a);
    gl_addr_hex(a, usdc);
    addr_of(g, g->id_market, a);
    gl_addr_hex(a, market);
    snprintf(def, sizeof def, DEF_FMT, CHAIN_ID, usdc, market);
    json_error_t je;
    json_t *root = json_loads(def, 0, &je);
    gl_platform *p = NULL;
    if (!root)
        die(je.text, NULL);
    if (gl_platform_load_json(&p, root, "bench_analyze", &g->err))
        die("the bench's definition", &g->err);
    json_decref(root);
    if (gl_store_batch_set_platform_hash(g->b, PLATFORM, CHAIN_ID, p->digest, &g->err) ||
        gl_store_batch_set_platform_def(g->b, PLATFORM, CHAIN_ID, p->canonical, &g->err))
        die("definition", &g->err);
    gl_platform_free(p);
}

typedef struct gen_out {
    uint64_t transfers, native, txs, blocks, leases, fresh_leases, escrow, sweeps, payouts, addresses_max;
    double seconds;
} gen_out;

/* Write the store at dir and the edge list at edges_path. */
static void generate(const char *dir, const char *edges_path, uint64_t n, uint32_t wallets, uint64_t seed,
                     gen_out *out)
{
    double t0 = now_s();
    gen *g = calloc(1, sizeof *g);
    if (!g)
        die("out of memory", NULL);
    g->seed = seed;
    g->rng = seed * 0xD1B54A32D192ED03ull;
    g->target = n;
    g->W = wallets;
    g->E = 6;
    g->P = (uint32_t)(50 + n / 40000);
    g->S = (uint32_t)(10 + n / 200000);
    g->base_hot = g->W;
    g->base_dep = g->base_hot + g->E;
    g->base_prov = g->base_dep + g->W;
    g->base_spon = g->base_prov + g->P;
    g->base_fresh = g->next_fresh = g->base_spon + g->S;
    g->id_market = UINT32_MAX - 10;
    g->id_usdc = UINT32_MAX - 11;
    g->id_glm = UINT32_MAX - 12;
    g->id_operator = UINT32_MAX - 13;
    g->perm = malloc((size_t)g->W * sizeof *g->perm);
    g->dep_native = calloc(g->W, sizeof *g->dep_native);
    g->dep_usdc = calloc(g->W, sizeof *g->dep_usdc);
    g->prov_due = calloc(g->P, sizeof *g->prov_due);
    g->ebuf = malloc(1u << 20);
    if (!g->perm || !g->dep_native || !g->dep_usdc || !g->prov_due || !g->ebuf)
        die("out of memory", NULL);
    for (uint32_t i = 0; i < g->W; i++)
        g->perm[i] = i;
    for (uint32_t i = g->W - 1; i > 0; i--) {
        uint32_t j = below(g, i + 1), t = g->perm[i];
        g->perm[i] = g->perm[j];
        g->perm[j] = t;
    }
    if (!(g->edges = fopen(edges_path, "w")))
        die("cannot create the edge list", NULL);
    gl_store_open_opts oo = {.create = true, .bulk_write = true, .created_by = "bench_analyze"};
    if (!(g->s = gl_store_open(dir, &oo, &g->err)))
        die("open store", &g->err);
    if (!(g->b = gl_store_batch_new(g->s, &g->err)))
        die("batch", &g->err);
    put_definition(g);
    hash_of(g, 2, 0, g->block_hash);
    for (g->block = 1; g->n_transfers < n; g->block++) {
        put_block(g);
        run_futures(g);
        uint32_t txs = 50 + below(g, 101);
        for (uint32_t i = 0; i < txs && g->n_transfers < n; i++)
            one_action(g);
        if (g->block % 300 == 0)
            payouts(g);
        if (g->block % 500 == 0)
            commit(g);
    }
    g->block--;
    commit(g);
    if (gl_store_write_gathered(g->s, &g->err))
        die("write gathered", &g->err);
    gl_store_batch_free(g->b);
    gl_store_close(g->s);
    if ((g->elen && fwrite(g->ebuf, 1, g->elen, g->edges) != g->elen) || fclose(g->edges))
        die("cannot write the edge list", NULL);
    *out = (gen_out){g->n_transfers, g->n_native, g->n_txs, g->n_blocks, g->n_leases, g->n_fresh_leases,
                     g->n_escrow, g->n_sweeps, g->n_payouts, g->next_fresh, now_s() - t0};
    for (unsigned i = 0; i < RING; i++)
        free(g->ring[i].v);
    free(g->perm);
    free(g->dep_native);
    free(g->dep_usdc);
    free(g->prov_due);
    free(g->ebuf);
    free(g);
}

/* ------------------------------------------------- children and results */

/* Run fn(arg, out, outlen) in a forked child; its result struct back
 * through a pipe.  Exits on any failure of the child. */
static void in_child(void (*fn)(void *arg, void *out), void *arg, void *out, size_t outlen, long *rss_kb)
{
    int fds[2];
    if (pipe(fds))
        die("pipe", NULL);
    pid_t pid = fork();
    if (pid < 0)
        die("fork", NULL);
    if (pid == 0) {
        close(fds[0]);
        fn(arg, out);
        ssize_t w = write(fds[1], out, outlen);
        _exit(w == (ssize_t)outlen ? 0 : 1);
    }
    close(fds[1]);
    size_t got = 0;
    while (got < outlen) {
        ssize_t r = read(fds[0], (char *)out + got, outlen - got);
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    close(fds[0]);
    int st;
    struct rusage ru;
    while (wait4(pid, &st, 0, &ru) < 0 && errno == EINTR)
        ;
    if (!WIFEXITED(st) || WEXITSTATUS(st) || got != outlen)
        die("a child failed", NULL);
    if (rss_kb)
        *rss_kb = ru.ru_maxrss;
}

typedef struct gen_arg {
    const char *dir, *edges;
    uint64_t n, seed;
    uint32_t wallets;
} gen_arg;

static void gen_child(void *arg, void *out)
{
    gen_arg *a = arg;
    generate(a->dir, a->edges, a->n, a->wallets, a->seed, out);
}

/* Spawn argv with stdout to out_path, stderr to err_path; wall time, peak
 * RSS (KiB) and CPU seconds.  Returns the exit status. */
static int spawn_measure(const char *bin, char *const argv[], const char *out_path, const char *err_path,
                         double *wall, long *rss_kb, double *cpu)
{
    double t0 = now_s();
    pid_t pid = fork();
    if (pid < 0)
        die("fork", NULL);
    if (pid == 0) {
        int fo = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int fe = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fo < 0 || fe < 0)
            _exit(127);
        dup2(fo, 1);
        dup2(fe, 2);
        close(fo);
        close(fe);
        execvp(bin, argv);
        _exit(127);
    }
    struct rusage ru;
    int st = gl_wait_peak_rss(pid, rss_kb, &ru); /* not ru_maxrss: peakrss.h */
    if (st == -1)
        die("wait4", NULL);
    *wall = now_s() - t0;
    *cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
           (double)ru.ru_stime.tv_usec / 1e6;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static json_t *load_json_tail(const char *path)
{
    json_error_t je;
    return json_load_file(path, 0, &je);
}

/* ------------------------------------------------ components in C */

typedef struct cc_out {
    double load_s, cc_s, file_read_s, file_cc_s;
    uint64_t edges, file_edges;
    uint32_t nodes, comps, file_comps;
} cc_out;

typedef struct cc_arg {
    const char *dir, *edges;
} cc_arg;

static void cc_child(void *arg, void *outp)
{
    cc_arg *a = arg;
    cc_out *o = outp;
    memset(o, 0, sizeof *o);
    gl_err err = {0};
    gl_store_open_opts oo = {.read_only = true};
    gl_store *s = gl_store_open(a->dir, &oo, &err);
    if (!s)
        die("open store", &err);
    double t0 = now_s();
    gl_graph *g = gl_graph_load(s, NULL, NULL, &err);
    if (!g)
        die("gl_graph_load", &err);
    double t1 = now_s();
    uint32_t nc;
    if (gl_graph_components(g, NULL, &nc, &err))
        die("gl_graph_components", &err);
    double t2 = now_s();
    o->load_s = t1 - t0;
    o->cc_s = t2 - t1;
    o->comps = nc;
    o->edges = g->n_edges;
    o->nodes = g->n_nodes;
    gl_graph_free(g);
    gl_store_close(s);
    /* the same edge list networkx reads: parse it, then union-find over
     * the generator's ids (densified by a hash table) */
    t0 = now_s();
    FILE *f = fopen(a->edges, "r");
    if (!f)
        die("cannot read the edge list", NULL);
    size_t cap = 1 << 20, n = 0;
    uint32_t(*ed)[2] = malloc(cap * sizeof *ed);
    char *buf = malloc(1 << 20);
    if (!ed || !buf)
        die("out of memory", NULL);
    size_t len, carry = 0;
    uint32_t cur = 0, half[2] = {0, 0};
    int which = 0;
    bool in_num = false;
    while ((len = fread(buf + carry, 1, (1 << 20) - carry, f)) > 0) {
        for (size_t i = 0; i < len; i++) {
            char c = buf[i];
            if (c >= '0' && c <= '9') {
                cur = cur * 10 + (uint32_t)(c - '0');
                in_num = true;
                continue;
            }
            if (!in_num)
                continue;
            half[which++] = cur;
            cur = 0;
            in_num = false;
            if (which == 2) {
                if (n == cap) {
                    cap *= 2;
                    if (!(ed = realloc(ed, cap * sizeof *ed)))
                        die("out of memory", NULL);
                }
                ed[n][0] = half[0];
                ed[n][1] = half[1];
                n++;
                which = 0;
            }
        }
    }
    fclose(f);
    free(buf);
    double t_read = now_s();
    /* ids are sparse (contracts near 2^32): open addressing to dense ids */
    size_t tcap = 1;
    while (tcap < 4 * n + 16)
        tcap <<= 1;
    uint32_t *key = malloc(tcap * sizeof *key), *val = malloc(tcap * sizeof *val);
    gl_uf u;
    if (2 * n > UINT32_MAX || gl_uf_init(&u, (uint32_t)(2 * n), &err))
        die("union-find of the edge list's ids", &err);
    if (!key || !val)
        die("out of memory", NULL);
    memset(val, 0xff, tcap * sizeof *val);
    uint32_t nn = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t d[2];
        for (int k = 0; k < 2; k++) {
            uint32_t id = ed[i][k];
            size_t j = (size_t)(mix64(id) & (tcap - 1));
            while (val[j] != UINT32_MAX && key[j] != id)
                j = (j + 1) & (tcap - 1);
            if (val[j] == UINT32_MAX) {
                key[j] = id;
                val[j] = nn++;
            }
            d[k] = val[j];
        }
        gl_uf_union(&u, d[0], d[1]);
    }
    uint32_t comps = 0;
    for (uint32_t v = 0; v < nn; v++)
        comps += u.parent[v] == v;
    o->file_read_s = t_read - t0;
    o->file_cc_s = now_s() - t_read;
    o->file_edges = n;
    o->file_comps = comps;
    free(ed);
    free(key);
    free(val);
    gl_uf_release(&u);
}

/* ------------------------------------------------------------ networkx */

static const char *NX_SCRIPT =
    "import sys, time, json, resource\n"
    "from array import array\n"
    "t0 = time.perf_counter()\n"
    "import networkx as nx\n"
    "t1 = time.perf_counter()\n"
    "with open(sys.argv[1], 'rb') as f:\n"
    "    a = array('l', map(int, f.read().split()))\n"
    "src, dst = a[0::2], a[1::2]\n"
    "del a\n"
    "t2 = time.perf_counter()\n"
    "G = nx.Graph()\n"
    "G.add_edges_from(zip(src, dst))\n"
    "t3 = time.perf_counter()\n"
    "n = nx.number_connected_components(G)\n"
    "t4 = time.perf_counter()\n"
    "print(json.dumps({'version': nx.__version__, 'import_s': t1 - t0, 'read_s': t2 - t1, 'build_s': t3 - t2,\n"
    "                  'cc_s': t4 - t3, 'components': n, 'nodes': G.number_of_nodes(),\n"
    "                  'edges_read': len(src), 'edges_distinct': G.number_of_edges()}))\n";

/* ------------------------------------------------- the adversarial hub */

/* Issue 13's store built to hurt, at scale: one unlabelled address (the
 * hub, found only by its degree) pays H distinct wallets and is paid back
 * by each of them; self-transfers; zero and 2^256-1 amounts; many money
 * rings A->B->C->A; one wallet that is buyer, payer, provider and
 * beneficiary of its own leases and buyer and payer of its own deposits;
 * one in a thousand of the hub's counterparties buying a lease, so the
 * scorer meets a hub as a buyer's funder.  Nothing links the hub to anyone,
 * so its entity must stay the hub alone.
 * BENCH_HUB=N sets the counterparties (0 skips the case); analyze runs
 * BENCH_HUB_RUNS times (default 2), flags, entities and explain once. */

#define HUB_TX_PER_BLOCK 150u
#define HUB_SELF 1000u  /* wallets sending to themselves */
#define HUB_RINGS 10000u
#define HUB_PROV 10u

typedef struct hub_ids {
    uint32_t hub, self0, ring0, all, prov0;
} hub_ids;

typedef struct hub_out {
    uint64_t transfers, txs, blocks, leases, escrow, addresses, zero, max, self;
    double seconds;
} hub_out;

static gl_u256 u256_max(void)
{
    gl_u256 u;
    memset(&u, 0xff, sizeof u);
    return u;
}

/* A new block every HUB_TX_PER_BLOCK txs, a commit every 500 blocks. */
static void hub_tick(gen *g)
{
    if (g->tx_index < HUB_TX_PER_BLOCK)
        return;
    if (g->block % 500 == 0)
        commit(g);
    g->block++;
    put_block(g);
}

/* A tx moving `amount` of native (token 0) or a token; counts zero and
 * 2^256-1 amounts. */
static void hub_transfer(gen *g, hub_out *o, uint32_t token, uint32_t from, uint32_t to, gl_u256 amount)
{
    uint8_t h[32];
    uint64_t v = 0;
    hub_tick(g);
    put_tx(g, from, token ? token : to, token || !gl_u256_to_u64(&amount, &v) ? 0 : v, h);
    put_transfer_u(g, token, from, to, amount, h);
    g->tx_index++;
    o->zero += gl_u256_is_zero(&amount);
    o->max += amount.w[0] == UINT64_MAX && amount.w[1] == UINT64_MAX && amount.w[2] == UINT64_MAX &&
              amount.w[3] == UINT64_MAX;
    o->self += from == to;
}

static void hub_generate(const char *dir, uint32_t n, uint64_t seed, hub_ids *ids, hub_out *o)
{
    double t0 = now_s();
    gen *g = calloc(1, sizeof *g);
    if (!g)
        die("out of memory", NULL);
    memset(o, 0, sizeof *o);
    g->seed = seed;
    g->rng = seed * 0xD1B54A32D192ED03ull;
    g->id_market = UINT32_MAX - 10;
    g->id_usdc = UINT32_MAX - 11;
    /* wallets 0..n-1, then the hub and the rest */
    ids->hub = n;
    ids->self0 = n + 1;
    ids->ring0 = ids->self0 + HUB_SELF;
    ids->all = ids->ring0 + 3 * HUB_RINGS;
    ids->prov0 = ids->all + 1;
    gl_store_open_opts oo = {.create = true, .bulk_write = true, .created_by = "bench_analyze"};
    if (!(g->s = gl_store_open(dir, &oo, &g->err)))
        die("open store", &g->err);
    if (!(g->b = gl_store_batch_new(g->s, &g->err)))
        die("batch", &g->err);
    put_definition(g);
    hash_of(g, 2, 0, g->block_hash);
    g->block = 1;
    put_block(g);
    /* the hub pays every wallet (native; one in seven zero), then every
     * wallet pays it back (USDC; one in eleven 2^256-1, one in thirteen
     * zero) */
    for (uint32_t w = 0; w < n; w++)
        hub_transfer(g, o, 0, ids->hub, w, u256_of(w % 7 ? native_amount(g) : 0));
    uint32_t provs = 0; /* the providers sold to, a bit each */
    for (uint32_t w = 0; w < n; w++) {
        gl_u256 a = w % 11 == 0 ? u256_max() : u256_of(w % 13 ? usdc_amount(g) : 0);
        hub_transfer(g, o, g->id_usdc, w, ids->hub, a);
        if (w % 1000 == 999) { /* a counterparty buys a lease with the hub's money */
            uint32_t p = below(g, HUB_PROV);
            provs |= 1u << p;
            hub_tick(g);
            lease_from(g, w, ids->prov0 + p, false, 1000000ull * (5 + pl_rank(g, 2000)));
        }
    }
    /* self-transfers: the hub, and wallets of their own, in every amount */
    for (uint32_t i = 0; i < 10; i++)
        hub_transfer(g, o, 0, ids->hub, ids->hub, u256_of(i % 2 ? native_amount(g) : 0));
    for (uint32_t i = 0; i < HUB_SELF; i++) {
        uint32_t s = ids->self0 + i;
        hub_transfer(g, o, 0, s, s, u256_of(native_amount(g)));
        hub_transfer(g, o, 0, s, s, u256_of(0));
        hub_transfer(g, o, g->id_usdc, s, s, u256_max());
    }
    /* rings A->B->C->A, twice round; one ring in ten moves 2^256-1 */
    for (uint32_t round = 0; round < 2; round++)
        for (uint32_t r = 0; r < HUB_RINGS; r++) {
            uint32_t a = ids->ring0 + 3 * r;
            for (uint32_t k = 0; k < 3; k++) {
                if (r % 10 == 0)
                    hub_transfer(g, o, g->id_usdc, a + k, a + (k + 1) % 3, u256_max());
                else
                    hub_transfer(g, o, 0, a + k, a + (k + 1) % 3, u256_of(native_amount(g)));
            }
        }
    /* one wallet in every role: its own leases (buyer, provider, payer,
     * beneficiary) and its own deposits (buyer and payer) */
    hub_transfer(g, o, 0, ids->all, ids->all, u256_of(1));
    for (uint32_t i = 0; i < 20; i++) {
        hub_tick(g);
        lease_from(g, ids->all, ids->all, true, 1000000ull * (5 + i));
        hub_tick(g);
        if (i % 4 == 0)
            escrow(g, ids->all, ids->all, 1000000ull * (50 + i));
    }
    commit(g);
    if (gl_store_write_gathered(g->s, &g->err))
        die("write gathered", &g->err);
    gl_store_batch_free(g->b);
    gl_store_close(g->s);
    o->transfers = g->n_transfers;
    o->txs = g->n_txs;
    o->blocks = g->n_blocks;
    o->leases = g->n_leases;
    o->escrow = g->n_escrow;
    /* the wallets, the hub, the self-senders, the rings, the wallet in
     * every role, the providers sold to, the market and USDC */
    o->addresses = (uint64_t)n + 1 + HUB_SELF + 3 * HUB_RINGS + 1 + (uint64_t)__builtin_popcount(provs) + 2;
    o->seconds = now_s() - t0;
    free(g);
}

typedef struct hub_arg {
    const char *dir;
    uint32_t n;
    uint64_t seed;
} hub_arg;

typedef struct hub_res {
    hub_ids ids;
    hub_out out;
} hub_res;

static void hub_child(void *arg, void *out)
{
    hub_arg *a = arg;
    hub_res *r = out;
    hub_generate(a->dir, a->n, a->seed, &r->ids, &r->out);
}

static bool hub_fail(const char *what)
{
    fprintf(stderr, "bench_analyze: hub store: %s\n", what);
    return false;
}

/* Time one command on the hub store; exits when it fails. */
static void hub_cmd(const char *bin, char *const argv[], const char *out, const char *err)
{
    double w, cpu;
    long kb;
    int st = spawn_measure(bin, argv, out, err, &w, &kb, &cpu);
    struct stat sb;
    long long bytes = stat(out, &sb) ? -1 : (long long)sb.st_size;
    bool ex = !strcmp(argv[1], "explain");
    printf("hub: %s%s%s %.2f s wall, %.2f s CPU, peak RSS %.0f MB, %lld bytes out, exit %d\n", argv[1], ex ? " " : "",
           ex ? argv[2] : "", w, cpu,
           (double)kb / 1024.0, bytes, st);
    fflush(stdout);
    if (st) {
        fprintf(stderr, "bench_analyze: hub store: %s exited %d; stderr in %s\n", argv[1], st, err);
        exit(1);
    }
}

static void run_hub(const char *bin, const char *tmp, uint32_t n, uint64_t seed)
{
    char dir[600], o[6][600], e[6][600];
    snprintf(dir, sizeof dir, "%s/store-hub-%u", tmp, n);
    static const char *const names[] = {"analyze", "flags", "entities", "explain"};
    for (int i = 0; i < 4; i++) {
        snprintf(o[i], sizeof o[i], "%s/hub-%s.out", tmp, names[i]);
        snprintf(e[i], sizeof e[i], "%s/hub-%s.err", tmp, names[i]);
    }
    printf("== adversarial hub: one address paying and paid by %u wallets (seed %" PRIu64 ")\n", n, seed);
    fflush(stdout);
    hub_arg ha = {dir, n, seed};
    hub_res hr;
    in_child(hub_child, &ha, &hr, sizeof hr, NULL);
    hub_out *go = &hr.out;
    printf("hub store written in %.1f s: %" PRIu64 " transfers (%" PRIu64 " zero, %" PRIu64 " of 2^256-1, %" PRIu64
           " self), %" PRIu64 " txs, %" PRIu64 " blocks, %" PRIu64 " leases, %" PRIu64 " deposits, %" PRIu64
           " addresses\n",
           go->seconds, go->transfers, go->zero, go->max, go->self, go->txs, go->blocks, go->leases, go->escrow,
           go->addresses);
    fflush(stdout);
    /* addresses as the generator makes them (the seed's) */
    gen ag = {.seed = seed};
    uint8_t a[20];
    char hub[43], all[43];
    addr_of(&ag, hr.ids.hub, a);
    gl_addr_hex(a, hub);
    addr_of(&ag, hr.ids.all, a);
    gl_addr_hex(a, all);
    char *av[] = {"gpuledger", "analyze", "--db", dir, "--json", "--quiet", NULL};
    char *fv[] = {"gpuledger", "flags", "--db", dir, "--format", "jsonl", NULL};
    char *ev[] = {"gpuledger", "entities", "--db", dir, "--format", "jsonl", NULL};
    char *xv[] = {"gpuledger", "explain", hub, "--db", dir, NULL};
    char *yv[] = {"gpuledger", "explain", all, "--db", dir, NULL};
    /* Run 1 opens a store fresh from the bulk writer, so RocksDB compacts
     * it meanwhile; later runs show analyze alone. */
    int runs = (int)env_ull("BENCH_HUB_RUNS", 2);
    for (int r = 0; r < (runs < 1 ? 1 : runs); r++)
        hub_cmd(bin, av, o[0], e[0]);
    hub_cmd(bin, fv, o[1], e[1]);
    hub_cmd(bin, ev, o[2], e[2]);
    hub_cmd(bin, xv, o[3], e[3]);
    snprintf(o[4], sizeof o[4], "%s/hub-explain-all.out", tmp);
    snprintf(e[4], sizeof e[4], "%s/hub-explain-all.err", tmp);
    hub_cmd(bin, yv, o[4], e[4]);

    /* the checks, against what the generator wrote */
    bool ok = true;
    json_t *j = load_json_tail(o[0]);
    if (!j)
        die("analyze printed no JSON summary on the hub store", NULL);
    uint64_t got_addr = (uint64_t)json_integer_value(json_object_get(j, "addresses")),
             got_tr = (uint64_t)json_integer_value(json_object_get(j, "transfers"));
    printf("hub: analyze load %.2f s, analyze %.2f s, write %.2f s (main-thread CPU %.2f / %.2f / %.2f s); "
           "%" PRIu64 " addresses, %" PRIu64 " transfers, %" JSON_INTEGER_FORMAT " entities, %" JSON_INTEGER_FORMAT
           " links, %" JSON_INTEGER_FORMAT " flagged\n",
           json_real_value(json_object_get(j, "load_s")), json_real_value(json_object_get(j, "analyze_s")),
           json_real_value(json_object_get(j, "write_s")), json_real_value(json_object_get(j, "load_cpu_s")),
           json_real_value(json_object_get(j, "analyze_cpu_s")), json_real_value(json_object_get(j, "write_cpu_s")),
           got_addr, got_tr, json_integer_value(json_object_get(j, "entities")),
           json_integer_value(json_object_get(j, "links")), json_integer_value(json_object_get(j, "flagged")));
    json_int_t summary_flagged = json_integer_value(json_object_get(j, "flagged"));
    json_decref(j);
    if (got_addr != go->addresses)
        ok = hub_fail("analyze's address count is not the generator's");
    if (got_tr != go->transfers)
        ok = hub_fail("analyze's transfer count is not the generator's");

    /* explain HUB: "... belongs to entity E (kind...), S address(es)." */
    long long hub_ent = -1, hub_size = -1;
    bool hub_service = false;
    {
        FILE *f = fopen(o[3], "r");
        char line[1024];
        if (f && fgets(line, sizeof line, f)) {
            const char *p = strstr(line, "belongs to entity ");
            if (p)
                hub_ent = strtoll(p + 18, NULL, 10);
            const char *q = strstr(line, "), ");
            if (q)
                hub_size = strtoll(q + 3, NULL, 10);
            /* unlabelled: only its degree can make it a service */
            hub_service = strstr(line, "(service") != NULL;
        }
        if (f)
            fclose(f);
    }
    printf("hub: explain says the hub is in entity %lld of %lld address(es), %s\n", hub_ent, hub_size,
           hub_service ? "a service (found by its degree)" : "NOT a service");
    if (hub_ent < 0 || hub_size != 1)
        ok = hub_fail("the hub's entity is not the hub alone (explain)");
    if (!hub_service)
        ok = hub_fail("the hub was not found by its degree (its entity is not a service)");

    /* entities jsonl, a record a line: the hub's entity's size, the largest
     * entity, every address in one entity at most */
    {
        FILE *f = fopen(o[2], "r");
        if (!f)
            die("no entities output", NULL);
        size_t cap = 1 << 16, len;
        char *line = malloc(cap);
        uint64_t n_ent = 0, in_ents = 0, largest = 0, hub_rec_size = 0;
        bool hub_seen = false;
        while (line && fgets(line, (int)cap, f)) {
            len = strlen(line);
            while (len == cap - 1 && line[len - 1] != '\n') { /* a long record: grow and read on */
                cap *= 2;
                if (!(line = realloc(line, cap)))
                    die("out of memory", NULL);
                if (!fgets(line + len, (int)(cap - len), f))
                    break;
                len += strlen(line + len);
            }
            json_error_t je;
            json_t *r = json_loadb(line, len, 0, &je);
            if (!r) {
                ok = hub_fail("an entities line is not JSON");
                break;
            }
            uint64_t sz = (uint64_t)json_integer_value(json_object_get(r, "size"));
            n_ent++;
            in_ents += sz;
            if (sz > largest)
                largest = sz;
            json_t *addrs = json_object_get(r, "addresses");
            for (size_t i = 0; i < json_array_size(addrs); i++)
                if (!strcasecmp(json_string_value(json_array_get(addrs, i)), hub)) {
                    hub_seen = true;
                    hub_rec_size = sz;
                    if (json_integer_value(json_object_get(r, "id")) != hub_ent)
                        ok = hub_fail("entities puts the hub in another entity than explain does");
                }
            json_decref(r);
        }
        fclose(f);
        free(line);
        printf("hub: entities: %" PRIu64 " records holding %" PRIu64 " addresses, largest %" PRIu64
               "; the hub's entity there: %s, size %" PRIu64 "\n",
               n_ent, in_ents, largest, hub_seen ? "listed" : "not listed", hub_rec_size);
        if (in_ents > go->addresses)
            ok = hub_fail("entities hold more addresses than were written");
        if (hub_seen && hub_rec_size != 1)
            ok = hub_fail("the hub's entity is not the hub alone (entities)");
    }

    /* flags jsonl: every flag has signals from two families at least; the
     * wallet in every role is not a proxy (self-dealing is no signal) */
    {
        FILE *f = fopen(o[1], "r");
        if (!f)
            die("no flags output", NULL);
        char *line = NULL;
        size_t cap = 0;
        ssize_t len;
        uint64_t n_flags = 0, thin = 0;
        bool all_flagged = false;
        while ((len = getline(&line, &cap, f)) > 0) {
            json_error_t je;
            json_t *r = json_loadb(line, (size_t)len, 0, &je);
            if (!r) {
                ok = hub_fail("a flags line is not JSON");
                break;
            }
            n_flags++;
            thin += json_array_size(json_object_get(r, "families")) < 2;
            const char *ad = json_string_value(json_object_get(r, "address"));
            all_flagged |= ad && !strcasecmp(ad, all);
            json_decref(r);
        }
        free(line);
        fclose(f);
        printf("hub: flags: %" PRIu64 " flagged (summary %" JSON_INTEGER_FORMAT "), %" PRIu64
               " with fewer than two families; the wallet in every role %s\n",
               n_flags, summary_flagged, thin, all_flagged ? "FLAGGED" : "not flagged");
        if (thin)
            ok = hub_fail("a flag lacks two families");
        if (all_flagged)
            ok = hub_fail("the wallet in every role is flagged");
        if ((json_int_t)n_flags != summary_flagged)
            ok = hub_fail("flags lists another number than analyze's summary");
    }
    if (!ok)
        exit(1);
    printf("hub: all checks hold\n");
    fflush(stdout);
    if (env_ull("BENCH_KEEP", 0))
        printf("kept: %s\n", dir);
    else
        rm_rf(dir);
}

/* ---------------------------------------------------------------- main */

typedef struct size_fig {
    uint64_t n;
    double wall, rss_mb, cpu, load, analyze, write;
    bool have;
} size_fig;

static void run_size(const char *bin, const char *tmp, uint64_t n, uint64_t seed, size_fig *fig)
{
    uint32_t wallets = (uint32_t)env_ull("BENCH_WALLETS", n / 10 ? n / 10 : 1);
    if (wallets < 40)
        wallets = 40;
    char dir[600], edges[600], outp[600], errp[600];
    snprintf(dir, sizeof dir, "%s/store-%" PRIu64, tmp, n);
    snprintf(edges, sizeof edges, "%s/edges-%" PRIu64 ".txt", tmp, n);
    snprintf(outp, sizeof outp, "%s/analyze-%" PRIu64 ".json", tmp, n);
    snprintf(errp, sizeof errp, "%s/analyze-%" PRIu64 ".err", tmp, n);
    printf("== %" PRIu64 " transfers among %u wallets (seed %" PRIu64 ")\n", n, wallets, seed);
    fflush(stdout);
    gen_arg ga = {dir, edges, n, seed, wallets};
    gen_out go;
    in_child(gen_child, &ga, &go, sizeof go, NULL);
    printf("store written in %.1f s: %" PRIu64 " transfers (%" PRIu64 " native), %" PRIu64 " txs, %" PRIu64
           " blocks; %" PRIu64 " leases (%" PRIu64 " by sponsored fresh wallets), %" PRIu64
           " escrow deposits, %" PRIu64 " sweeps, %" PRIu64 " payouts\n",
           go.seconds, go.transfers, go.native, go.txs, go.blocks, go.leases, go.fresh_leases, go.escrow,
           go.sweeps, go.payouts);
    fflush(stdout);

    int runs = (int)env_ull("BENCH_RUNS", n <= 2000000 ? 3 : 1);
    if (runs < 1)
        runs = 1;
    if (runs > 15)
        runs = 15;
    double wall[15], rss[15], cpu[15], ld[15], an[15], wr[15];
    for (int r = 0; r < runs; r++) {
        char *argv[] = {"gpuledger", "analyze", "--db", dir, "--json", "--quiet", NULL};
        long kb;
        int st = spawn_measure(bin, argv, outp, errp, &wall[r], &kb, &cpu[r]);
        if (st) {
            fprintf(stderr, "bench_analyze: analyze exited %d; stderr in %s\n", st, errp);
            exit(1);
        }
        rss[r] = (double)kb / 1024.0;
        json_t *j = load_json_tail(outp);
        if (!j)
            die("analyze printed no JSON summary", NULL);
        ld[r] = json_real_value(json_object_get(j, "load_s"));
        an[r] = json_real_value(json_object_get(j, "analyze_s"));
        wr[r] = json_real_value(json_object_get(j, "write_s"));
        printf("analyze run %d: %.2f s wall (load %.2f, analyze %.2f, write %.2f), %.2f s CPU, peak RSS %.0f MB; "
               "%" JSON_INTEGER_FORMAT " addresses, %" JSON_INTEGER_FORMAT " transfers, %" JSON_INTEGER_FORMAT
               " purchases, %" JSON_INTEGER_FORMAT " entities, %" JSON_INTEGER_FORMAT " links, %" JSON_INTEGER_FORMAT
               " flagged\n",
               r + 1, wall[r], ld[r], an[r], wr[r], cpu[r], rss[r],
               json_integer_value(json_object_get(j, "addresses")), json_integer_value(json_object_get(j, "transfers")),
               json_integer_value(json_object_get(j, "purchases")), json_integer_value(json_object_get(j, "entities")),
               json_integer_value(json_object_get(j, "links")), json_integer_value(json_object_get(j, "flagged")));
        fflush(stdout);
        if ((uint64_t)json_integer_value(json_object_get(j, "transfers")) != go.transfers) {
            fprintf(stderr, "bench_analyze: analyze read %" JSON_INTEGER_FORMAT " transfers, the store holds %" PRIu64
                    "\n", json_integer_value(json_object_get(j, "transfers")), go.transfers);
            exit(1);
        }
        json_decref(j);
    }
    fig->n = n;
    fig->wall = median(wall, runs);
    fig->rss_mb = median(rss, runs);
    fig->cpu = median(cpu, runs);
    fig->load = median(ld, runs);
    fig->analyze = median(an, runs);
    fig->write = median(wr, runs);
    fig->have = true;
    printf("analyze at %" PRIu64 " transfers, median of %d: %.2f s wall (load %.2f, analyze %.2f, write %.2f), "
           "%.2f s CPU, peak RSS %.0f MB\n",
           n, runs, fig->wall, fig->load, fig->analyze, fig->write, fig->cpu, fig->rss_mb);
    fflush(stdout);

    /* The market measures over the analysed store (issue 11): volume by
     * platform and day, concentration of controlled GPUs and the providers'
     * claims, timed like analyze.  The volume's leases must add up to the
     * generator's. */
    {
        const char *cmds[][8] = {
            {"gpuledger", "volume", "--db", dir, "--by", "platform,day", "--format", "json"},
            {"gpuledger", "concentration", "--db", dir, "--format", "csv", NULL, NULL},
            {"gpuledger", "providers", "--db", dir, "--format", "json", NULL, NULL},
        };
        for (size_t c = 0; c < sizeof cmds / sizeof cmds[0]; c++) {
            char *argv[9];
            for (size_t i = 0; i < 8; i++)
                argv[i] = (char *)cmds[c][i];
            argv[8] = NULL;
            char mo[600], me[600];
            snprintf(mo, sizeof mo, "%s/%s-%" PRIu64 ".out", tmp, cmds[c][1], n);
            snprintf(me, sizeof me, "%s/%s-%" PRIu64 ".err", tmp, cmds[c][1], n);
            double w, cpu_s;
            long kb;
            int st = spawn_measure(bin, argv, mo, me, &w, &kb, &cpu_s);
            if (st) {
                fprintf(stderr, "bench_analyze: %s exited %d; stderr in %s\n", cmds[c][1], st, me);
                exit(1);
            }
            struct stat sb;
            long long bytes = stat(mo, &sb) ? -1 : (long long)sb.st_size;
            printf("%s at %" PRIu64 " transfers: %.2f s wall, %.2f s CPU, peak RSS %.0f MB, %lld bytes out",
                   cmds[c][1], n, w, cpu_s, (double)kb / 1024.0, bytes);
            if (c == 0) {
                json_t *j = load_json_tail(mo);
                json_t *rows = j ? json_object_get(j, "rows") : NULL;
                uint64_t leases = 0;
                size_t i;
                json_t *r;
                json_array_foreach(rows, i, r) leases += (uint64_t)json_integer_value(json_object_get(r, "leases"));
                printf(", %zu rows, %" PRIu64 " leases", json_array_size(rows), leases);
                json_decref(j);
                if (leases != go.leases) {
                    fprintf(stderr, "\nbench_analyze: volume counts %" PRIu64 " leases, the generator wrote %" PRIu64
                            "\n", leases, go.leases);
                    exit(1);
                }
            }
            printf("\n");
            fflush(stdout);
        }
    }

    /* components: C */
    cc_arg ca = {dir, edges};
    cc_out co;
    long cc_kb;
    in_child(cc_child, &ca, &co, sizeof co, &cc_kb);
    printf("components in C: %u components; gl_graph_components %.3f s over %" PRIu64
           " edges (gl_graph_load of the store before it %.2f s, %u addresses); "
           "from the edge-list file: read %.2f s + union-find %.3f s (%u components, %" PRIu64 " edges); "
           "child peak RSS %.0f MB\n",
           co.comps, co.cc_s, co.edges, co.load_s, co.nodes, co.file_read_s, co.file_cc_s, co.file_comps,
           co.file_edges, (double)cc_kb / 1024.0);
    fflush(stdout);
    if (co.edges != go.transfers || co.file_edges != go.transfers || co.comps != co.file_comps) {
        fprintf(stderr, "bench_analyze: C components disagree (graph %u over %" PRIu64 " edges, file %u over %" PRIu64
                " edges, %" PRIu64 " written)\n", co.comps, co.edges, co.file_comps, co.file_edges, go.transfers);
        exit(1);
    }

    /* components: networkx */
    if (env_ull("BENCH_NX", 1)) {
        char nxo[600], nxe[600];
        snprintf(nxo, sizeof nxo, "%s/nx-%" PRIu64 ".json", tmp, n);
        snprintf(nxe, sizeof nxe, "%s/nx-%" PRIu64 ".err", tmp, n);
        char *argv[] = {"python3", "-c", (char *)NX_SCRIPT, edges, NULL};
        double w, c;
        long kb;
        int st = spawn_measure("python3", argv, nxo, nxe, &w, &kb, &c);
        if (st) {
            fprintf(stderr, "bench_analyze: python3/networkx exited %d (stderr in %s); BENCH_NX=0 skips it\n", st,
                    nxe);
            exit(1);
        }
        json_t *j = load_json_tail(nxo);
        if (!j)
            die("networkx printed no JSON", NULL);
        double rd = json_real_value(json_object_get(j, "read_s")), bd = json_real_value(json_object_get(j, "build_s")),
               cc = json_real_value(json_object_get(j, "cc_s"));
        uint64_t ncomp = (uint64_t)json_integer_value(json_object_get(j, "components"));
        printf("networkx %s: %" PRIu64 " components over %" JSON_INTEGER_FORMAT " nodes; read %.2f s, Graph build %.2f s, "
               "number_connected_components %.2f s; %.1f s wall, peak RSS %.0f MB\n",
               json_string_value(json_object_get(j, "version")), ncomp,
               json_integer_value(json_object_get(j, "nodes")), rd, bd, cc, w, (double)kb / 1024.0);
        printf("components, algorithm only (graph in memory): C %.3f s, networkx %.2f s: %.0fx\n", co.cc_s, cc,
               cc / co.cc_s);
        printf("components, graph built in memory + algorithm: C %.3f s (the CSR is part of gl_graph_load), "
               "networkx %.2f s: %.0fx\n", co.cc_s, bd + cc, (bd + cc) / co.cc_s);
        printf("components from the edge-list file, reading included: C %.2f s, networkx %.2f s: %.0fx\n",
               co.file_read_s + co.file_cc_s, rd + bd + cc, (rd + bd + cc) / (co.file_read_s + co.file_cc_s));
        printf("components from the store (gl_graph_load + gl_graph_components) against networkx from its file: "
               "%.2f s vs %.2f s: %.1fx\n", co.load_s + co.cc_s, rd + bd + cc, (rd + bd + cc) / (co.load_s + co.cc_s));
        fflush(stdout);
        json_decref(j);
        if (ncomp != co.comps) {
            fprintf(stderr, "bench_analyze: networkx finds %" PRIu64 " components, gl_graph_components %u\n", ncomp,
                    co.comps);
            exit(1);
        }
    }
    if (env_ull("BENCH_KEEP", 0)) {
        printf("kept: %s %s\n", dir, edges);
    } else {
        rm_rf(dir);
        unlink(edges);
    }
}

int main(int argc, char **argv)
{
    char bin[4200];
    const char *b = getenv("GPULEDGER_BIN");
    if (b && *b)
        snprintf(bin, sizeof bin, "%s", b);
    else if (argc > 1)
        snprintf(bin, sizeof bin, "%s", argv[1]);
    else {
        char self[4096];
        snprintf(self, sizeof self, "%s", argv[0]);
        snprintf(bin, sizeof bin, "%s/../gpuledger", dirname(self));
    }
    const char *sizes = getenv("BENCH_SIZES");
    if (!sizes || !*sizes)
        sizes = "1000000,10000000";
    uint64_t seed = env_ull("BENCH_SEED", 1);
    const char *t = getenv("TMPDIR");
    char tmp[512];
    snprintf(tmp, sizeof tmp, "%s/gl-bench-analyze-XXXXXX", t && *t ? t : "/tmp");
    if (!mkdtemp(tmp))
        die("mkdtemp", NULL);
    printf("analyze benchmark: %s, sizes %s, %ld cores\n", bin, sizes, sysconf(_SC_NPROCESSORS_ONLN));
    size_fig figs[8];
    int nf = 0;
    for (const char *p = sizes; *p && nf < 8;) {
        uint64_t n = strtoull(p, NULL, 10);
        if (n)
            run_size(bin, tmp, n, seed, &figs[nf++]);
        p = strchr(p, ',');
        if (!p)
            break;
        p++;
    }
    for (int i = 1; i < nf; i++) {
        double k = (double)figs[i].n / (double)figs[i - 1].n;
        printf("growth %" PRIu64 " -> %" PRIu64 " transfers (x%.0f): wall x%.1f (%.2f -> %.2f s), load x%.1f, "
               "analyze x%.1f, write x%.1f, peak RSS x%.1f (%.0f -> %.0f MB)\n",
               figs[i - 1].n, figs[i].n, k, figs[i].wall / figs[i - 1].wall, figs[i - 1].wall, figs[i].wall,
               figs[i].load / figs[i - 1].load, figs[i].analyze / figs[i - 1].analyze,
               figs[i].write / figs[i - 1].write, figs[i].rss_mb / figs[i - 1].rss_mb, figs[i - 1].rss_mb,
               figs[i].rss_mb);
    }
    /* the adversarial hub (issue 13) after the sizes; BENCH_HUB=0 skips it */
    uint64_t hub_n = env_ull("BENCH_HUB", 1000000);
    if (hub_n)
        run_hub(bin, tmp, (uint32_t)(hub_n < UINT32_MAX / 2 ? hub_n : UINT32_MAX / 2), seed);
    if (!env_ull("BENCH_KEEP", 0))
        rm_rf(tmp);
    return 0;
}
