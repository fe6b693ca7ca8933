/* test_volume.c - volume, prices, providers' prices and the GPU table on hand-built stores.
 *
 * Oracle: every figure below is computed by hand from the events written
 * (amounts, minutes, counts) and the rules of docs/VOLUME.md, never from
 * volume's own earlier output.  The store is made with the store API
 * (events, blocks, a definition per platform), analysed with
 * gl_analysis_run + gl_results_write so that the marks come from the
 * analyzer, then measured.
 *
 * The market "mkt" (USDT, 6 decimals, bytes32 model read as text, minutes):
 *   day 1 (2024-03-04)
 *     b10 lease  B  -> P4  12.5 USDT  2 x H100-80GB-SXM  90 min  = 3.000 GPU-h
 *     b11 lease  S  -> S    4.0       1 x H100-80GB-SXM  60 min  = 1.000  self-dealing
 *     b12 lease  P1 -> P2   1.0       1 x RTX4090        60 min  = 1.000  ring
 *     b13 lease  P2 -> P3   2.0       1 x RTX4090        60 min  = 1.000  ring
 *     b14 lease  P3 -> P1   3.0       1 x RTX4090        60 min  = 1.000  ring
 *     b15 extend B  -> P4   2.5       lease of b10, 30 min, no count: 2 x 0.5 = 1.000
 *   day 2 (2024-03-05)
 *     b20 lease  B  -> P4   7.0       4 x H100-80GB-SXM  30 min  = 2.000
 * The market "raw" (no tokens map, no duration in its definition):
 *   day 2: b21 lease B2 -> P5 amount 5 of token 0x33..33, 1 GPU: GPU-hours unknown.
 * Prices: USDT 1.0 on 2024-03-04 only.
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
#include <unistd.h>

#include <cmocka.h>

#include "gpuledger/analysis.h"
#include "gpuledger/eval.h"
#include "gpuledger/gpu_models.h"
#include "gpuledger/market.h"
#include "gpuledger/platform.h"
#include "gpuledger/prices.h"
#include "gpuledger/results.h"
#include "gpuledger/store.h"
#include "gpuledger/volume.h"

#define DAY1 1709510400ull /* 2024-03-04T00:00:00Z */
#define DAY2 1709596800ull

static const char *DEF_MKT =
    "{\"format\":\"gpuledger-platform/1\",\"name\":\"mkt\",\"platform\":\"mkt\",\"chain_id\":1,"
    "\"tokens\":{\"0x2222222222222222222222222222222222222222\":{\"symbol\":\"USDT\",\"decimals\":6},"
    "\"0x7777777777777777777777777777777777777777\":{\"symbol\":\"WETH\",\"decimals\":18}},"
    "\"contracts\":[{\"name\":\"M\",\"address\":\"0x1111111111111111111111111111111111111111\",\"start_block\":1,"
    "\"abis\":[{\"from_block\":1,\"to_block\":null,\"events\":["
    "\"event Rented(bytes32 id, address payer, address host, uint256 cost, bytes32 gpu, uint32 units, uint32 mins)\","
    "\"event Extended(bytes32 id, address payer, address host, uint256 cost, uint32 mins)\","
    "\"event Listed(bytes32 id, address host, bytes32 gpu, uint32 units)\"]}]}],"
    "\"events\":{\"Rented\":{\"kind\":\"lease\",\"buyer\":\"payer\",\"provider\":\"host\",\"amount\":\"cost\","
    "\"token\":\"0x2222222222222222222222222222222222222222\",\"lease_id\":\"id\","
    "\"gpu_model\":{\"field\":\"gpu\",\"as\":\"text\"},\"gpu_count\":\"units\","
    "\"duration\":{\"field\":\"mins\",\"unit\":\"minutes\"}},"
    "\"Extended\":{\"kind\":\"extension\",\"payer\":\"payer\",\"provider\":\"host\",\"amount\":\"cost\","
    "\"token\":\"0x2222222222222222222222222222222222222222\",\"lease_id\":\"id\","
    "\"duration\":{\"field\":\"mins\",\"unit\":\"minutes\"}},"
    "\"Listed\":{\"kind\":\"offer\",\"provider\":\"host\",\"lease_id\":\"id\","
    "\"gpu_model\":{\"field\":\"gpu\",\"as\":\"text\"},\"gpu_count\":\"units\"}}}";

static const char *DEF_RAW =
    "{\"format\":\"gpuledger-platform/1\",\"name\":\"raw\",\"platform\":\"raw\",\"chain_id\":1,"
    "\"contracts\":[{\"name\":\"R\",\"address\":\"0x4444444444444444444444444444444444444444\",\"start_block\":1,"
    "\"abis\":[{\"from_block\":1,\"to_block\":null,\"events\":["
    "\"event Bought(address buyer, address seller, uint256 price, address token, uint32 gpus)\"]}]}],"
    "\"events\":{\"Bought\":{\"kind\":\"lease\",\"buyer\":\"buyer\",\"provider\":\"seller\",\"amount\":\"price\","
    "\"token\":\"token\",\"gpu_count\":\"gpus\"}}}";

/* Golem's GLM as the definition reads it (fixtures/platforms/golem-polygon.json):
 * every Transfer is kind transfer, payer `from`, buyer the tx's sender,
 * provider `to`.  Token 0x66..66, 18 decimals. */
static const char *DEF_GLM =
    "{\"format\":\"gpuledger-platform/1\",\"name\":\"glm\",\"platform\":\"golem\",\"chain_id\":1,"
    "\"tokens\":{\"0x6666666666666666666666666666666666666666\":{\"symbol\":\"GLM\",\"decimals\":18}},"
    "\"contracts\":[{\"name\":\"GLM\",\"address\":\"0x6666666666666666666666666666666666666666\",\"start_block\":1,"
    "\"abis\":[{\"from_block\":1,\"to_block\":null,\"events\":["
    "\"event Transfer(address indexed from, address indexed to, uint256 value)\"]}]}],"
    "\"events\":{\"Transfer\":{\"kind\":\"transfer\",\"payer\":\"from\",\"provider\":\"to\","
    "\"buyer\":\"tx.from\",\"amount\":\"value\",\"token\":\"0x6666666666666666666666666666666666666666\"}}}";

/* ------------------------------------------------------------- helpers */

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void addr(uint8_t a[20], uint8_t b) { memset(a, b, 20); }

typedef struct world {
    char dir[256];
    gl_store *s;
    gl_platform *mkt, *raw, *glm; /* glm only when a test adds it */
} world;

static const gl_platform *defs_fn(void *ctx, const char *name)
{
    world *w = ctx;
    return !strcmp(name, "mkt") ? w->mkt : !strcmp(name, "raw") ? w->raw : !strcmp(name, "glm") ? w->glm : NULL;
}

static void put_lease(gl_store_batch *b, const char *plat, const char *name, uint64_t block, uint8_t buyer,
                      uint8_t provider, uint64_t amount, uint8_t token, const char *model, uint32_t count,
                      uint64_t minutes, uint8_t lease_id, bool payer_role)
{
    gl_store_event e;
    memset(&e, 0, sizeof e);
    e.chain_id = 1;
    e.block = block;
    e.log_index = 0;
    strcpy(e.platform, plat);
    strcpy(e.name, name);
    addr(e.contract, !strcmp(plat, "mkt") ? 0x11 : 0x44);
    memset(e.tx_hash, (int)block, 32);
    e.has_tx_from = true;
    addr(e.tx_from, buyer);
    e.n_roles = 2;
    e.roles[0].role = payer_role ? GL_STORE_ROLE_PAYER : GL_STORE_ROLE_BUYER;
    addr(e.roles[0].addr, buyer);
    e.roles[1].role = GL_STORE_ROLE_PROVIDER;
    addr(e.roles[1].addr, provider);
    e.has_amount = true;
    e.amount = gl_u256_from_u64(amount);
    e.has_token = true;
    addr(e.token, token);
    if (lease_id) {
        e.n_ids = 1;
        strcpy(e.ids[0].name, "id");
        e.ids[0].value[31] = lease_id;
    }
    if (model)
        snprintf(e.gpu_model, sizeof e.gpu_model, "%s", model);
    e.gpu_count = count;
    e.duration_s = minutes * 60;
    /* the indexer's rule (docs/PLATFORMS.md): count x duration, thousandths, rounded down */
    if (count && minutes)
        e.gpu_mhours = (uint64_t)count * minutes * 60 * 1000 / 3600;
    assert_int_equal(gl_store_batch_put_event(b, &e, NULL), GL_OK);
    gl_store_block blk = {.chain_id = 1, .number = block,
                          .timestamp = (block < 20 ? DAY1 : DAY2) + 3600 + block * 12};
    memset(blk.hash, (int)block, 32);
    assert_int_equal(gl_store_batch_put_block(b, &blk, NULL), GL_OK);
}

/* An offer (Listed) of `count` H100s by `provider`, offer id `id`, at
 * `block` (log 1, tx hash bytes = block + 0x80). */
static void put_offer(gl_store_batch *b, uint64_t block, uint8_t provider, uint8_t id, uint32_t count)
{
    gl_store_event e;
    memset(&e, 0, sizeof e);
    e.chain_id = 1;
    e.block = block;
    e.log_index = 1;
    strcpy(e.platform, "mkt");
    strcpy(e.name, "Listed");
    addr(e.contract, 0x11);
    memset(e.tx_hash, (int)(block + 0x80), 32);
    e.n_roles = 1;
    e.roles[0].role = GL_STORE_ROLE_PROVIDER;
    addr(e.roles[0].addr, provider);
    e.n_ids = 1;
    strcpy(e.ids[0].name, "id");
    e.ids[0].value[31] = id;
    strcpy(e.gpu_model, "H100-80GB-SXM");
    e.gpu_count = count;
    assert_int_equal(gl_store_batch_put_event(b, &e, NULL), GL_OK);
}

/* The definition `text` of platform `name` into *p ("test:<name>"), its
 * hash and definition written into the batch. */
static void add_def(gl_store_batch *b, gl_platform **p, const char *name, const char *text)
{
    gl_err err = {0};
    json_error_t je;
    json_t *j = json_loads(text, 0, &je);
    assert_non_null(j);
    char src[32];
    snprintf(src, sizeof src, "test:%s", name);
    assert_int_equal(gl_platform_load_json(p, j, src, &err), GL_OK);
    json_decref(j);
    assert_int_equal(gl_store_batch_set_platform_hash(b, name, 1, (*p)->digest, &err), GL_OK);
    assert_int_equal(gl_store_batch_set_platform_def(b, name, 1, (*p)->canonical, &err), GL_OK);
}

/* An empty store with the two definitions and their hashes; the caller
 * writes its events into the open batch returned and commits it (commit). */
static gl_store_batch *world_open(world *w)
{
    snprintf(w->dir, sizeof w->dir, "%s/gl_volume_XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    assert_non_null(mkdtemp(w->dir));
    w->glm = NULL;
    gl_err err = {0};
    gl_store_open_opts oo = {.create = true};
    w->s = gl_store_open(w->dir, &oo, &err);
    assert_non_null(w->s);
    gl_store_batch *b = gl_store_batch_new(w->s, &err);
    assert_non_null(b);
    add_def(b, &w->mkt, "mkt", DEF_MKT);
    add_def(b, &w->raw, "raw", DEF_RAW);
    return b;
}

static void commit(gl_store_batch *b)
{
    gl_err err = {0};
    assert_int_equal(gl_store_batch_commit(b, &err), GL_OK);
    gl_store_batch_free(b);
}

static void world_make(world *w)
{
    gl_store_batch *b = world_open(w);
    /* the bytes32 model as the chain holds it, read as text by the platform rule */
    char model[64];
    assert_true(gl_platform_bytes_text("0x48313030" "2d383047422d53584d" "0000000000000000000000000000000000000000000000",
                                       model, sizeof model));
    assert_string_equal(model, "H100-80GB-SXM");

    /* B 0xb0, S 0x5e, P1..P4 0xa1..0xa4, B2 0xb2, P5 0xa5; USDT 0x22, raw token 0x33 */
    put_lease(b, "mkt", "Rented", 10, 0xb0, 0xa4, 12500000, 0x22, model, 2, 90, 1, false);
    put_lease(b, "mkt", "Rented", 11, 0x5e, 0x5e, 4000000, 0x22, model, 1, 60, 2, false);
    put_lease(b, "mkt", "Rented", 12, 0xa1, 0xa2, 1000000, 0x22, "RTX4090", 1, 60, 3, false);
    put_lease(b, "mkt", "Rented", 13, 0xa2, 0xa3, 2000000, 0x22, "RTX4090", 1, 60, 4, false);
    put_lease(b, "mkt", "Rented", 14, 0xa3, 0xa1, 3000000, 0x22, "RTX4090", 1, 60, 5, false);
    put_lease(b, "mkt", "Extended", 15, 0xb0, 0xa4, 2500000, 0x22, NULL, 0, 30, 1, true);
    put_lease(b, "mkt", "Rented", 20, 0xb0, 0xa4, 7000000, 0x22, model, 4, 30, 6, false);
    put_lease(b, "raw", "Bought", 21, 0xb2, 0xa5, 5, 0x33, NULL, 1, 0, 0, false);
    commit(b);
}

static void world_analyse(world *w)
{
    gl_err err = {0};
    gl_graph *g = gl_graph_load(w->s, defs_fn, w, &err);
    assert_non_null(g);
    gl_analysis_params P;
    gl_analysis_params_default(&P);
    gl_analysis *a = gl_analysis_run(g, &P, &err);
    assert_non_null(a);
    assert_int_equal(gl_results_write(w->s, g, a, &err), GL_OK);
    gl_analysis_free(a);
    gl_graph_free(g);
}

static void world_free(world *w)
{
    gl_store_close(w->s);
    gl_platform_free(w->mkt);
    gl_platform_free(w->raw);
    gl_platform_free(w->glm);
    nftw(w->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

typedef struct measured {
    gl_graph *g;
    gl_gpu_models *models;
    gl_market *m;
    gl_volume *v;
} measured;

static void measure(measured *x, world *w, unsigned by, const gl_prices *prices)
{
    gl_err err = {0};
    assert_int_equal(gl_gpu_models_builtin(&x->models, &err), GL_OK);
    x->g = gl_graph_load(w->s, defs_fn, w, &err);
    assert_non_null(x->g);
    assert_int_equal(gl_market_load(&x->m, w->s, x->g, defs_fn, w, x->models, &err), GL_OK);
    assert_int_equal(gl_volume_compute(&x->v, x->m, by, prices, &err), GL_OK);
}

static void measured_free(measured *x)
{
    gl_volume_free(x->v);
    gl_market_free(x->m);
    gl_graph_free(x->g);
    gl_gpu_models_free(x->models);
}

static const char *col(json_t *o, const char *k) { return json_string_value(json_object_get(o, k)); }

static json_t *row_of(measured *x, const char *platform, const char *period)
{
    for (size_t i = 0; i < x->v->n_rows; i++)
        if (!strcmp(x->v->rows[i].platform, platform) && !strcmp(x->v->rows[i].period, period))
            return gl_volume_row_json(x->m, &x->v->rows[i], true);
    fail_msg("no row %s %s", platform, period);
    return NULL;
}

static bool notes_say(measured *x, const char *a, const char *b)
{
    for (size_t i = 0; i < json_array_size(x->v->notes); i++) {
        const char *n = json_string_value(json_array_get(x->v->notes, i));
        if (strstr(n, a) && (!b || strstr(n, b)))
            return true;
    }
    return false;
}

/* One GLM Transfer (log `log` of tx `tx`, sent by `sender`) of `glm` whole GLM. */
static void put_glm(gl_store_batch *b, uint64_t block, uint32_t log, uint8_t tx, uint8_t sender, uint8_t from,
                    uint8_t to, uint64_t glm)
{
    gl_store_event e;
    memset(&e, 0, sizeof e);
    e.chain_id = 1;
    e.block = block;
    e.log_index = log;
    strcpy(e.platform, "glm");
    strcpy(e.name, "Transfer");
    addr(e.contract, 0x66);
    memset(e.tx_hash, tx, 32);
    e.has_tx_from = true;
    addr(e.tx_from, sender);
    e.n_roles = 3;
    e.roles[0].role = GL_STORE_ROLE_PAYER;
    addr(e.roles[0].addr, from);
    e.roles[1].role = GL_STORE_ROLE_PROVIDER;
    addr(e.roles[1].addr, to);
    e.roles[2].role = GL_STORE_ROLE_BUYER;
    addr(e.roles[2].addr, sender);
    e.has_amount = true;
    gl_u256 whole = gl_u256_from_u64(glm);
    assert_int_equal(gl_u256_mul_u64(&e.amount, &whole, 1000000000000000000ull, NULL), GL_OK);
    e.has_token = true;
    addr(e.token, 0x66);
    assert_int_equal(gl_store_batch_put_event(b, &e, NULL), GL_OK);
    gl_store_block blk = {.chain_id = 1, .number = block, .timestamp = DAY2 + block * 12};
    memset(blk.hash, (int)block, 32);
    assert_int_equal(gl_store_batch_put_block(b, &blk, NULL), GL_OK);
}

/* gl_providers_run on the store, measured by platform without prices
 * (prices: providers' own table, may be NULL). */
static json_t *providers_of(world *w, const gl_prices *prices)
{
    measured x = {0};
    measure(&x, w, GL_VOL_BY_PLATFORM, NULL);
    json_t *out = NULL;
    gl_err err = {0};
    assert_int_equal(gl_providers_run(&out, w->s, x.m, defs_fn, w, prices, &err), GL_OK);
    measured_free(&x);
    return out;
}

/* The i-th of a run of one-GPU, one-hour leases (so an amount is a price
 * per GPU-hour) bought by B 0xb0 in USDT: block 30 + i, lease id i + 1. */
static void put_hour(gl_store_batch *b, size_t i, uint8_t provider, uint64_t usd, const char *model)
{
    put_lease(b, "mkt", "Rented", 30 + i, 0xb0, provider, usd, 0x22, model, 1, 60, (uint8_t)(i + 1), false);
}

/* --------------------------------------------------------------- tests */

static void test_volume_marks_minutes_prices(void **state)
{
    (void)state;
    world w;
    world_make(&w);
    world_analyse(&w);
    gl_prices *pr;
    assert_int_equal(gl_prices_new(&pr, NULL), GL_OK);
    assert_int_equal(gl_prices_load_text(pr, "date,token,usd\n2024-03-04,USDT,1.0\n", "p.csv", NULL, NULL), GL_OK);
    measured x = {0};
    measure(&x, &w, GL_VOL_BY_PLATFORM | GL_VOL_BY_DAY, pr);
    assert_int_equal(x.v->n_rows, 3);

    json_t *r = row_of(&x, "mkt", "2024-03-04");
    assert_string_equal(col(r, "token"), "USDT");
    assert_string_equal(col(r, "gross"), "25.000000");        /* 12.5+4+1+2+3+2.5 */
    assert_string_equal(col(r, "self_dealing"), "4.000000");  /* S -> S */
    assert_string_equal(col(r, "circular"), "6.000000");      /* P1 -> P2 -> P3 -> P1 */
    assert_string_equal(col(r, "net"), "15.000000");
    assert_int_equal(json_integer_value(json_object_get(r, "leases")), 6);
    assert_int_equal(json_integer_value(json_object_get(r, "buyer_wallets")), 5);     /* B S P1 P2 P3 */
    assert_int_equal(json_integer_value(json_object_get(r, "buyer_entities")), 5);
    assert_int_equal(json_integer_value(json_object_get(r, "provider_entities")), 5); /* P4 S P2 P3 P1 */
    /* 3 + 1 + 1 + 1 + 1 + the extension's 2 GPUs (from its lease) x 30 min = 8 */
    assert_string_equal(col(r, "gpu_hours"), "8.000");
    assert_int_equal(json_integer_value(json_object_get(r, "gpu_hours_unknown")), 0);
    /* per GPU-hour: 12.5/3, 4, 1, 2, 3, 2.5/1: sorted 1 2 2.5 3 4 4.1667;
     * nearest rank: p10 rank 1, median rank 3, p90 rank 6 */
    assert_string_equal(col(r, "price_per_gpu_hour_p10"), "1");
    assert_string_equal(col(r, "price_per_gpu_hour_median"), "2.5");
    assert_string_equal(col(r, "price_per_gpu_hour_p90"), "4.166666667");
    assert_string_equal(col(r, "usd_gross"), "25.00");
    assert_string_equal(col(r, "usd_net"), "15.00");
    /* every amount removed is listed with its position */
    json_t *rm = json_object_get(r, "removed");
    assert_int_equal(json_array_size(rm), 4);
    json_t *first = json_array_get(rm, 0);
    assert_string_equal(col(first, "why"), "self_dealing");
    assert_int_equal(json_integer_value(json_object_get(first, "block")), 11);
    assert_int_equal(json_integer_value(json_object_get(first, "chain_id")), 1);
    assert_int_equal(json_integer_value(json_object_get(first, "log_index")), 0);
    assert_string_equal(col(first, "tx"), "0x0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b");
    assert_string_equal(col(first, "amount"), "4.000000");
    for (int i = 1; i < 4; i++)
        assert_string_equal(col(json_array_get(rm, (size_t)i), "why"), "circular");
    json_decref(r);

    r = row_of(&x, "mkt", "2024-03-05");
    assert_string_equal(col(r, "gross"), "7.000000");
    assert_string_equal(col(r, "net"), "7.000000");
    assert_string_equal(col(r, "gpu_hours"), "2.000");   /* 4 x 30 min */
    assert_string_equal(col(r, "price_per_gpu_hour_median"), "3.5");
    /* no price on that day: USD empty, counted and said */
    assert_true(json_is_null(json_object_get(r, "usd_gross")));
    assert_true(json_is_null(json_object_get(r, "usd_net")));
    assert_int_equal(json_integer_value(json_object_get(r, "usd_unpriced")), 1);
    assert_true(notes_say(&x, "no USD price for USDT", "2024-03-05"));
    json_decref(r);

    /* no tokens map, no duration: raw units, address as token, GPU-hours unknown */
    r = row_of(&x, "raw", "2024-03-05");
    assert_string_equal(col(r, "token"), "0x3333333333333333333333333333333333333333");
    assert_true(json_is_null(json_object_get(r, "decimals")));
    assert_string_equal(col(r, "gross"), "5");
    assert_string_equal(col(r, "gpu_hours"), "0.000");
    assert_int_equal(json_integer_value(json_object_get(r, "gpu_hours_unknown")), 1);
    assert_true(json_is_null(json_object_get(r, "price_per_gpu_hour_median")));
    assert_true(notes_say(&x, "raw units", "0x3333"));
    assert_true(notes_say(&x, "1 of 8 purchases record no GPU count or duration", NULL));
    json_decref(r);
    measured_free(&x);

    /* by model: the bytes32 text resolves to the canonical H100 SXM */
    measure(&x, &w, GL_VOL_BY_MODEL, NULL);
    bool seen = false;
    for (size_t i = 0; i < x.v->n_rows; i++)
        if (!strcmp(x.v->rows[i].model, "H100-SXM-80GB")) {
            seen = true;
            assert_int_equal(x.v->rows[i].gpu_mhours, 3000 + 1000 + 1000 + 2000); /* b10 b11 b15 b20 */
        }
    assert_true(seen);
    measured_free(&x);
    gl_prices_free(pr);
    world_free(&w);
}

static void test_volume_without_analysis(void **state)
{
    (void)state;
    world w;
    world_make(&w);
    measured x = {0};
    measure(&x, &w, GL_VOL_BY_PLATFORM, NULL);
    json_t *r = row_of(&x, "mkt", "");
    assert_string_equal(col(r, "gross"), "32.000000");
    assert_string_equal(col(r, "self_dealing"), "4.000000"); /* buyer address == provider address only */
    assert_true(json_is_null(json_object_get(r, "circular")));
    assert_true(json_is_null(json_object_get(r, "buyer_entities")));
    assert_string_equal(col(r, "net"), "28.000000");
    assert_true(notes_say(&x, "no analysis in this store", NULL));
    assert_true(notes_say(&x, "no --prices", NULL));
    json_decref(r);
    measured_free(&x);
    world_free(&w);
}

/* What a Golem purchase is (docs/VOLUME.md): a GLM payout of the batch
 * payer, whose tx first moved the requestor's GLM into it.  On 2024-03-05:
 *   b40 tx 0x40 sent by requestor R (0xc1): R -> batch BP (0xbb) 15 GLM (the
 *       inbound leg, no purchase), BP -> P6 (0xa6) 10, BP -> P7 (0xa7) 5;
 *   b41 tx 0x41 sent by a relayer (0xe1): bridge BR (0xbe) -> buyer B3 (0xb3)
 *       7 GLM, a bridge release: `from` is not the tx's sender either, but
 *       nothing came in from the sender, so no one bought compute;
 *   b42 tx 0x42 sent by R: BP -> P6 4 GLM, and the GLM coming in is
 *       someone else's (X 0xd1 -> BP, not the sender's): no purchase of R's.
 * Volume: gross 15 GLM in 2 purchases (the seed-7 eval counted a bridge's
 * releases to a Golem buyer as Golem volume: 85 and 197 GLM too many). */
static void test_volume_golem_batch_only(void **state)
{
    (void)state;
    world w;
    gl_store_batch *b = world_open(&w);
    add_def(b, &w.glm, "glm", DEF_GLM);
    put_glm(b, 40, 0, 0x40, 0xc1, 0xc1, 0xbb, 15);
    put_glm(b, 40, 1, 0x40, 0xc1, 0xbb, 0xa6, 10);
    put_glm(b, 40, 2, 0x40, 0xc1, 0xbb, 0xa7, 5);
    put_glm(b, 41, 0, 0x41, 0xe1, 0xbe, 0xb3, 7);
    put_glm(b, 42, 0, 0x42, 0xc1, 0xd1, 0xbb, 4);
    put_glm(b, 42, 1, 0x42, 0xc1, 0xbb, 0xa6, 4);
    commit(b);

    measured x = {0};
    measure(&x, &w, GL_VOL_BY_PLATFORM | GL_VOL_BY_DAY, NULL);
    assert_int_equal(x.v->n_rows, 1);
    json_t *r = row_of(&x, "glm", "2024-03-05");
    assert_string_equal(col(r, "market"), "golem");
    assert_string_equal(col(r, "token"), "GLM");
    assert_string_equal(col(r, "gross"), "15.000000000000000000");
    assert_int_equal(json_integer_value(json_object_get(r, "leases")), 2);
    assert_int_equal(json_integer_value(json_object_get(r, "buyer_wallets")), 1); /* R, the tx's sender */
    json_decref(r);
    measured_free(&x);
    world_free(&w);
}

/* `gpuledger eval` of the store against the truth file `truth` (written
 * into the store's directory). */
static json_t *eval_against(world *w, const char *truth)
{
    char path[300];
    snprintf(path, sizeof path, "%s/truth.json", w->dir);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(truth, fp);
    fclose(fp);
    json_t *out = NULL;
    gl_err err = {0};
    assert_int_equal(gl_eval_run(w->s, path, 0, &out, &err), GL_OK);
    return out;
}

/* A USDT transfer from -> to in its own tx (hash all 0xf0 + block), sent by `from`. */
static void put_usdt(gl_store_batch *b, uint64_t block, uint8_t from, uint8_t to, uint64_t amount)
{
    gl_store_tx t = {.chain_id = 1, .block = block, .index = 0, .has_to = true, .flags = GL_STORE_TX_SENDER_OK};
    memset(t.hash, 0xf0, 32);
    t.hash[31] = (uint8_t)block;
    addr(t.from, from);
    addr(t.to, 0x22);
    assert_int_equal(gl_store_batch_put_tx(b, &t, NULL), GL_OK);
    gl_store_transfer x = {.pos = {.chain_id = 1, .block = block, .kind = GL_STORE_POS_LOG, .index = 0},
                           .asset = GL_STORE_ASSET_ERC20, .amount = gl_u256_from_u64(amount),
                           .flags = GL_STORE_TX_SENDER_OK};
    addr(x.token, 0x22);
    addr(x.from, from);
    addr(x.to, to);
    memcpy(x.tx_hash, t.hash, 32);
    assert_int_equal(gl_store_batch_put_transfer(b, &x, NULL), GL_OK);
    gl_store_block blk = {.chain_id = 1, .number = block, .timestamp = DAY1 + block * 12};
    memset(blk.hash, (int)block, 32);
    assert_int_equal(gl_store_batch_put_block(b, &blk, NULL), GL_OK);
}

/* Self-dealing is removed only as far as the chain shows it (seed 7's
 * provider-007): one provider owns wallets Pa (0xc7) and Pb (0xc8); Pa
 * funds its buying wallet S (0x57) with 10 USDT (b5), S leases Pa's GPUs
 * for 2 USDT (b10) and Pb's for 3 USDT (b11).  S and Pa are joined (first
 * and sole funder, funds the purchase, the money returns to its funder);
 * nothing on chain joins Pb to either, so S -> Pb looks like one provider
 * buying from another and stays in net: gross 5, self-dealing 2, net 3.
 * Marking it would mean guessing that two providers are one. */
static void test_volume_self_dealing_as_far_as_the_chain_shows(void **state)
{
    (void)state;
    world w;
    gl_store_batch *b = world_open(&w);
    put_usdt(b, 5, 0xc7, 0x57, 10000000);
    put_lease(b, "mkt", "Rented", 10, 0x57, 0xc7, 2000000, 0x22, "RTX4090", 1, 60, 1, false);
    put_lease(b, "mkt", "Rented", 11, 0x57, 0xc8, 3000000, 0x22, "RTX4090", 1, 60, 2, false);
    commit(b);
    world_analyse(&w);
    measured x = {0};
    measure(&x, &w, GL_VOL_BY_PLATFORM | GL_VOL_BY_DAY, NULL);
    json_t *r = row_of(&x, "mkt", "2024-03-04");
    assert_string_equal(col(r, "gross"), "5.000000");
    assert_string_equal(col(r, "self_dealing"), "2.000000");
    assert_string_equal(col(r, "circular"), "0.000000");
    assert_string_equal(col(r, "net"), "3.000000");
    assert_int_equal(json_integer_value(json_object_get(r, "provider_entities")), 2); /* {S, Pa} and Pb */
    json_decref(r);
    measured_free(&x);
    world_free(&w);
}

/* `gpuledger eval`'s volume errors per platform are per token: a platform
 * paid in two tokens has its USDT net 25% off the truth's, its other
 * token's exact.  On 2024-03-04 (b10, b11):
 *   B -> P4 12.5 USDT, B -> P4 10^18 units of token 0x33..33 (no symbol);
 *   the truth says 2.5 USDT of it was self-dealing (net 10 USDT).
 * Per token: USDT net error (12.5 - 10) / 10 = 0.25, the other 0; the
 * platform's net_error is the token farthest off, 0.25.  Summing raw units
 * across tokens, as eval did, gave 2.5e-12 (seed 7: GpuMarket's USDC net
 * 28% off on a day read as 2e-10 beside its ETH wei). */
static void test_eval_volume_per_token(void **state)
{
    (void)state;
    world w;
    gl_store_batch *b = world_open(&w);
    put_lease(b, "mkt", "Rented", 10, 0xb0, 0xa4, 12500000, 0x22, "RTX4090", 1, 60, 1, false);
    put_lease(b, "mkt", "Rented", 11, 0xb0, 0xa4, 1000000000000000000ull, 0x33, "RTX4090", 1, 60, 2, false);
    commit(b);
    world_analyse(&w);
    json_t *out = eval_against(&w,
          "{\"format\":\"gpuledger-truth/1\",\"scenario\":\"hand\",\"seed\":1,\"addresses\":{},\"entities\":{},"
          "\"volume\":{\"mkt\":{\"2024-03-04\":{"
          "\"gross\":{\"USDT\":\"12500000\",\"0x3333333333333333333333333333333333333333\":\"1000000000000000000\"},"
          "\"net\":{\"USDT\":\"10000000\",\"0x3333333333333333333333333333333333333333\":\"1000000000000000000\"},"
          "\"payments\":2,\"excluded_payments\":1}}}}");
    json_t *vol = json_object_get(out, "volume");
    assert_int_equal(json_integer_value(json_object_get(vol, "cells")), 2);
    assert_int_equal(json_integer_value(json_object_get(vol, "gross_exact")), 2);
    json_t *pm = json_object_get(json_object_get(vol, "per_platform"), "mkt");
    assert_float_equal(json_real_value(json_object_get(pm, "gross_error")), 0.0, 1e-12);
    assert_float_equal(json_real_value(json_object_get(pm, "net_error")), 0.25, 1e-9);
    assert_float_equal(json_real_value(json_object_get(pm, "worst_net_error")), 0.25, 1e-9);
    json_t *pt = json_object_get(pm, "per_token");
    assert_float_equal(json_real_value(json_object_get(json_object_get(pt, "USDT"), "net_error")), 0.25, 1e-9);
    assert_float_equal(
        json_real_value(json_object_get(json_object_get(pt, "0x3333333333333333333333333333333333333333"), "net_error")),
        0.0, 1e-12);
    json_decref(out);
    world_free(&w);
}

/* `gpuledger eval`'s net as far as the chain shows (docs/VOLUME.md, eval).
 * Provider P owns Pa 0xc7, Pb 0xc8 and its buying wallet S 0x57; provider
 * Q owns Qa 0xc9, Qb 0xca and its buying wallet T 0x67, and exchange X's
 * deposit address D 0xde is Q's (the truth's `customer`).  Transfers: Pa ->
 * S 10 USDT (b5), Qa -> D and Qb -> D 1 USDT each (b6, b7), Qa -> T 10
 * (b8).  Leases on 2024-03-04: S -> Pa 2 USDT (b10), S -> Pb 3 (b11), T ->
 * Qb 4 (b12), all self-dealing in the truth, and B 0xb0 -> P4 0xa4 5
 * (b13).  The truth's net is 5 USDT.  S and Pa are joined by b5; Qb and T
 * by Qb -> D <- Qa -> T (D counts as Q's); nothing joins Pb to S, so b11
 * alone is counted back: the chain shows a net of 8 USDT, and eval lists
 * b11 (tx 0x0b0b...).  The chain-shows error is ours against 8 USDT, the
 * truth's against 5, whatever the analysis marked. */
static void test_eval_volume_chain_shows(void **state)
{
    (void)state;
    world w;
    gl_store_batch *b = world_open(&w);
    put_usdt(b, 5, 0xc7, 0x57, 10000000);
    put_usdt(b, 6, 0xc9, 0xde, 1000000);
    put_usdt(b, 7, 0xca, 0xde, 1000000);
    put_usdt(b, 8, 0xc9, 0x67, 10000000);
    put_lease(b, "mkt", "Rented", 10, 0x57, 0xc7, 2000000, 0x22, "RTX4090", 1, 60, 1, false);
    put_lease(b, "mkt", "Rented", 11, 0x57, 0xc8, 3000000, 0x22, "RTX4090", 1, 60, 2, false);
    put_lease(b, "mkt", "Rented", 12, 0x67, 0xca, 4000000, 0x22, "RTX4090", 1, 60, 3, false);
    put_lease(b, "mkt", "Rented", 13, 0xb0, 0xa4, 5000000, 0x22, "RTX4090", 1, 60, 4, false);
    commit(b);
    world_analyse(&w);
    measured x = {0};
    measure(&x, &w, GL_VOL_BY_PLATFORM | GL_VOL_BY_DAY, NULL);
    json_t *r = row_of(&x, "mkt", "2024-03-04");
    assert_string_equal(col(r, "gross"), "14.000000");
    double ours = strtod(col(r, "net"), NULL) * 1e6;
    json_decref(r);
    measured_free(&x);

#define A(c) "\"0x" c c c c c c c c c c c c c c c c c c c c "\""
#define PAY(blk, payer, pe, prov, amt, sd)                                                                           \
    "{\"platform\":\"mkt\",\"day\":\"2024-03-04\",\"block\":" blk ",\"log_index\":0,\"tx\":\"0x" blk "\","        \
    "\"payer\":" payer ",\"payer_entity\":\"" pe "\",\"provider\":" prov ",\"provider_entity\":\"" pe "\","          \
    "\"amount\":\"" amt "\",\"token\":\"USDT\",\"self_dealing\":" sd ",\"circular\":false}"
    json_t *out = eval_against(&w,
          "{\"format\":\"gpuledger-truth/1\",\"scenario\":\"hand\",\"seed\":1,"
          "\"entities\":{\"p\":{\"kind\":\"provider\"},\"q\":{\"kind\":\"provider\"},\"x\":{\"kind\":\"exchange\"},"
          "\"b\":{\"kind\":\"buyer\"},\"p4\":{\"kind\":\"provider\"}},"
          "\"addresses\":{" A("c7") ":{\"entity\":\"p\"}," A("c8") ":{\"entity\":\"p\"}," A("57") ":{\"entity\":\"p\"},"
          A("c9") ":{\"entity\":\"q\"}," A("ca") ":{\"entity\":\"q\"}," A("67") ":{\"entity\":\"q\"},"
          A("de") ":{\"entity\":\"x\",\"customer\":\"q\",\"role\":\"deposit_address\"},"
          A("b0") ":{\"entity\":\"b\"}," A("a4") ":{\"entity\":\"p4\"}},"
          "\"payments\":[" PAY("10", A("57"), "p", A("c7"), "2000000", "true") ","
          PAY("11", A("57"), "p", A("c8"), "3000000", "true") ","
          PAY("12", A("67"), "q", A("ca"), "4000000", "true") ","
          "{\"platform\":\"mkt\",\"day\":\"2024-03-04\",\"block\":13,\"log_index\":0,\"tx\":\"0x13\","
          "\"payer\":" A("b0") ",\"payer_entity\":\"b\",\"provider\":" A("a4") ",\"provider_entity\":\"p4\","
          "\"amount\":\"5000000\",\"token\":\"USDT\",\"self_dealing\":false,\"circular\":false}],"
          "\"volume\":{\"mkt\":{\"2024-03-04\":{\"gross\":{\"USDT\":\"14000000\"},\"net\":{\"USDT\":\"5000000\"},"
          "\"payments\":4,\"excluded_payments\":3}}}}");
#undef PAY
#undef A
    json_t *vol = json_object_get(out, "volume");
    assert_int_equal(json_integer_value(json_object_get(vol, "gross_exact")), 1);
    assert_int_equal(json_integer_value(json_object_get(vol, "exclusions_not_on_chain")), 1);
    json_t *list = json_object_get(vol, "not_on_chain");
    assert_int_equal(json_array_size(list), 1);
    json_t *u = json_array_get(list, 0);
    assert_string_equal(col(u, "tx"), "0x11");
    assert_string_equal(col(u, "amount"), "3000000");
    assert_string_equal(col(u, "why"), "self_dealing");
    assert_string_equal(col(u, "entity"), "p");
    assert_string_equal(col(u, "provider"), "0xc8c8c8c8c8c8c8c8c8c8c8c8c8c8c8c8c8c8c8c8");
    assert_int_equal(json_integer_value(json_object_get(u, "block")), 11);
    double want_truth = (ours - 5e6) / 5e6, want_chain = (ours - 8e6) / 8e6;
    json_t *pm = json_object_get(json_object_get(vol, "per_platform"), "mkt");
    assert_int_equal(json_integer_value(json_object_get(pm, "exclusions_not_on_chain")), 1);
    assert_float_equal(json_real_value(json_object_get(pm, "net_error")), want_truth, 1e-9);
    assert_float_equal(json_real_value(json_object_get(pm, "chain_net_error")), want_chain, 1e-9);
    json_t *pt = json_object_get(json_object_get(pm, "per_token"), "USDT");
    assert_float_equal(json_real_value(json_object_get(pt, "net_error")), want_truth, 1e-9);
    assert_float_equal(json_real_value(json_object_get(pt, "chain_net_error")), want_chain, 1e-9);
    assert_float_equal(json_real_value(json_object_get(vol, "worst_net_error")), fabs(want_truth), 1e-9);
    assert_float_equal(json_real_value(json_object_get(vol, "worst_chain_net_error")), fabs(want_chain), 1e-9);
    fprintf(stderr, "  eval chain shows: ours net %.0f, truth 5000000, chain shows 8000000\n", ours);
    json_decref(out);
    world_free(&w);
}

/* providers' prices (docs/VOLUME.md, providers): one-GPU, one-hour H100
 * leases, so an amount is a price per GPU-hour.  C1 3.0 USDT, C2 2.6, C3
 * three leases at 1.2 (a busy relabelled card: the market's median per lease
 * is 1.2, its own price); RTX4090 sold by D1 at 0.5 and D2 at 0.2.
 *   C3: peers C1, C2 -> upper median 3.0 -> ratio 0.4 < 0.6, priced like the
 *       only other model (RTX4090, whose market median is 0.2, nearest rank);
 *   C1: peers 2.6, 1.2 -> 2.6 -> 1.1538; C2: peers 3.0, 1.2 -> 3.0 -> 0.8667;
 *   D1, D2: one peer each -> no verdict (ratio null), though 0.2 is 0.4 of 0.5. */
static void test_providers_peer_prices(void **state)
{
    (void)state;
    world w;
    gl_store_batch *b = world_open(&w);
    static const struct { uint8_t prov; uint64_t amount; const char *model; } L[] = {
        {0xc1, 3000000, "H100-80GB-SXM"}, {0xc2, 2600000, "H100-80GB-SXM"}, {0xc3, 1200000, "H100-80GB-SXM"},
        {0xc3, 1200000, "H100-80GB-SXM"}, {0xc3, 1200000, "H100-80GB-SXM"}, {0xd1, 500000, "RTX4090"},
        {0xd2, 200000, "RTX4090"},
    };
    for (size_t i = 0; i < sizeof L / sizeof L[0]; i++)
        put_hour(b, i, L[i].prov, L[i].amount, L[i].model);
    commit(b);
    json_t *out = providers_of(&w, NULL);
    size_t seen = 0, i;
    json_t *r;
    json_array_foreach(out, i, r) {
        const char *wal = col(r, "wallet");
        assert_non_null(wal); /* no analysis: one record per wallet */
        json_t *p = json_array_get(json_object_get(r, "prices"), 0);
        assert_int_equal(json_array_size(json_object_get(r, "prices")), 1);
        double ratio = json_real_value(json_object_get(p, "ratio"));
        bool below = json_is_true(json_object_get(r, "priced_below_model"));
        if (!strncmp(wal, "0xc3c3", 6)) {
            assert_true(below);
            assert_int_equal(json_integer_value(json_object_get(p, "peers")), 2);
            assert_true(ratio > 0.3999 && ratio < 0.4001);
            assert_true(json_real_value(json_object_get(p, "market_median")) > 1.1999 &&
                        json_real_value(json_object_get(p, "market_median")) < 1.2001);
            assert_non_null(strstr(col(p, "priced_like"), "4090"));
        } else if (!strncmp(wal, "0xc1c1", 6)) {
            assert_false(below);
            assert_true(ratio > 1.1537 && ratio < 1.1539);
        } else if (!strncmp(wal, "0xc2c2", 6)) {
            assert_false(below);
            assert_true(ratio > 0.8666 && ratio < 0.8668);
        } else if (!strncmp(wal, "0xd1d1", 6) || !strncmp(wal, "0xd2d2", 6)) {
            assert_false(below);
            assert_int_equal(json_integer_value(json_object_get(p, "peers")), 1);
            assert_true(json_is_null(json_object_get(p, "ratio")));
            assert_true(json_is_null(json_object_get(p, "peer_median")));
        } else {
            continue;
        }
        seen++;
    }
    assert_int_equal(seen, 5);
    json_decref(out);
    world_free(&w);
}

/* The verdict of the provider at `low` (its wallet's first byte) among
 * one-GPU, one-hour H100 leases at `usd` (micro-USDT) by providers
 * 0xc1, 0xc2, ...; *ratio and *gap its figures (ratio, gap_above). */
static bool gap_verdict(const uint64_t *usd, size_t n, uint8_t low, double *ratio, double *gap)
{
    world w;
    gl_store_batch *b = world_open(&w);
    for (size_t i = 0; i < n; i++)
        put_hour(b, i, (uint8_t)(0xc1 + i), usd[i], "H100-80GB-SXM");
    commit(b);
    json_t *out = providers_of(&w, NULL);
    char want[8];
    snprintf(want, sizeof want, "0x%02x%02x", low, low);
    bool below = false, seen = false;
    size_t i;
    json_t *r;
    json_array_foreach(out, i, r) {
        if (strncmp(col(r, "wallet"), want, 6))
            continue;
        json_t *p = json_array_get(json_object_get(r, "prices"), 0);
        *ratio = json_real_value(json_object_get(p, "ratio"));
        *gap = json_real_value(json_object_get(p, "gap_above"));
        assert_float_equal(json_real_value(json_object_get(p, "ratio_low")), 0.6, 1e-12);
        assert_float_equal(json_real_value(json_object_get(p, "gap_min")), 1 / 0.6, 1e-12);
        below = json_is_true(json_object_get(r, "priced_below_model"));
        seen = true;
    }
    assert_true(seen);
    json_decref(out);
    world_free(&w);
    return below;
}

/* A price under 0.6 of its peers must also stand apart from the model's
 * sellers (docs/VOLUME.md, providers): between it and its peers' median,
 * two consecutive sellers at least 1/0.6 apart.
 *   Wide: six honest H100s at 2.0, 2.7, 3.4, 3.5, 3.9, 4.0 (as the bazaar's
 *     85 %-of-low to 125 %-of-high rates spread); the cheapest's peers'
 *     upper median is 3.5, ratio 0.5714 < 0.6, but 2.7 / 2.0 = 1.35 is the
 *     largest step up to 3.5: not flagged.
 *   Narrow: 1.5 among 3.0-3.4: peers' upper median 3.2, ratio 0.46875,
 *     step 3.0 / 1.5 = 2.0: flagged.
 *   Continuous: 1.7, 2.1, 2.6 under five at 3.2: ratio 1.7 / 3.2 = 0.53125,
 *     steps 1.2353, 1.2381, 1.2308: not flagged (the token-wide spread
 *     floor before flagged it: five equal prices made the spread 0).
 *   Apart: two at 1.0 and 1.1 under nine honest ones 2.0, 2.3, ..., 4.4
 *     spread evenly: 1.0's peers' upper median 3.2, ratio 0.3125, step
 *     2.0 / 1.1 = 1.8182: flagged, and 1.1 (0.34375) too; 2.0 is at
 *     0.625.  (The spread floor before let both pass: the even spread's
 *     robust SD put it at 0.28.) */
static void test_providers_gap(void **state)
{
    (void)state;
    double ratio = 0, gap = 0;
    static const uint64_t wide[] = {2000000, 2700000, 3400000, 3500000, 3900000, 4000000};
    assert_false(gap_verdict(wide, 6, 0xc1, &ratio, &gap));
    assert_float_equal(ratio, 2.0 / 3.5, 1e-6);
    assert_float_equal(gap, 1.35, 1e-6);
    static const uint64_t narrow[] = {1500000, 3000000, 3100000, 3200000, 3300000, 3400000};
    assert_true(gap_verdict(narrow, 6, 0xc1, &ratio, &gap));
    assert_float_equal(ratio, 0.46875, 1e-6);
    assert_float_equal(gap, 2.0, 1e-6);
    static const uint64_t continuous[] = {1700000, 2100000, 2600000, 3200000, 3200000,
                                          3200000, 3200000, 3200000};
    assert_false(gap_verdict(continuous, 8, 0xc1, &ratio, &gap));
    assert_float_equal(ratio, 0.53125, 1e-6);
    assert_float_equal(gap, 2.6 / 2.1, 1e-6);
    static const uint64_t apart[] = {1000000, 1100000, 2000000, 2300000, 2600000, 2900000,
                                     3200000, 3500000, 3800000, 4100000, 4400000};
    assert_true(gap_verdict(apart, 11, 0xc1, &ratio, &gap));
    assert_float_equal(ratio, 0.3125, 1e-6);
    assert_float_equal(gap, 2.0 / 1.1, 1e-6);
    assert_true(gap_verdict(apart, 11, 0xc2, &ratio, &gap));
    assert_float_equal(ratio, 0.34375, 1e-6);
    assert_false(gap_verdict(apart, 11, 0xc3, &ratio, &gap));
    assert_float_equal(ratio, 0.625, 1e-6);
}

/* Every finding carries the events behind it (docs/VOLUME.md, providers).
 * Provider 0xc1 lists offer 7 twice (2 GPUs at block 3, raised to 4 at
 * block 5) and rents out, one GPU each (DEF_MKT: count `units`, 60
 * minutes; block b's time is DAY1 + 3600 + 12 b, tx hash bytes = b):
 *   blocks 10, 11: 3 GPUs each, 60 minutes: held 10..11's starts + 3600;
 *   block 12: 1 GPU, 1 minute (over at t12 + 60, when block 17 starts:
 *             counted out first);
 *   block 17: 2 GPUs, 60 minutes.
 * Held at once: 3 (b10), 6 (b11), 7 (b12), and at t17 = t12 + 60 the
 * minute ends and 2 start: 8 (all within t10 + 3600): max 8 at t17 > 4
 * listed -> oversold; the
 * leases held then are blocks 10, 11, 17 (block 12's is over), and the
 * offer's evidence is its block-5 event (the largest count, 4).
 * Prices: C1 at 3.0 per GPU-hour on all its leases would be no finding;
 * instead C2 and C3 sell at 3.0 and 3.2 and C1's amounts are priced
 * 1.0 per GPU-hour: peers' upper median 3.2, ratio 0.3125, step 3.0 / 1.0:
 * flagged, with its four leases as evidence (each 1.0 per GPU-hour). */
static void test_providers_evidence(void **state)
{
    (void)state;
    world w;
    gl_store_batch *b = world_open(&w);
    put_offer(b, 3, 0xc1, 7, 2);
    put_offer(b, 5, 0xc1, 7, 4);
    /* amount = 1.0 USDT x GPUs x hours */
    put_lease(b, "mkt", "Rented", 10, 0xb0, 0xc1, 3000000, 0x22, "H100-80GB-SXM", 3, 60, 1, false);
    put_lease(b, "mkt", "Rented", 11, 0xb1, 0xc1, 3000000, 0x22, "H100-80GB-SXM", 3, 60, 2, false);
    /* one minute is 16 thousandths of a GPU-hour as the indexer rounds (16.67 down) */
    put_lease(b, "mkt", "Rented", 12, 0xb2, 0xc1, 16000, 0x22, "H100-80GB-SXM", 1, 1, 3, false);
    put_lease(b, "mkt", "Rented", 17, 0xb3, 0xc1, 2000000, 0x22, "H100-80GB-SXM", 2, 60, 4, false);
    put_lease(b, "mkt", "Rented", 14, 0xb4, 0xc2, 3000000, 0x22, "H100-80GB-SXM", 1, 60, 5, false);
    put_lease(b, "mkt", "Rented", 15, 0xb5, 0xc3, 3200000, 0x22, "H100-80GB-SXM", 1, 60, 6, false);
    commit(b);
    json_t *out = providers_of(&w, NULL);
    json_t *c1 = NULL, *r;
    size_t i;
    json_array_foreach(out, i, r) {
        if (!strncmp(col(r, "wallet"), "0xc1c1", 6))
            c1 = r;
        else { /* no finding, no evidence */
            assert_null(json_object_get(r, "oversold_evidence"));
            assert_null(json_object_get(json_array_get(json_object_get(r, "prices"), 0), "evidence"));
        }
    }
    assert_non_null(c1);
    assert_true(json_is_true(json_object_get(c1, "oversold")));
    assert_int_equal(json_integer_value(json_object_get(c1, "gpus_listed")), 4);
    assert_int_equal(json_integer_value(json_object_get(c1, "max_gpus_leased_at_once")), 8);
    assert_int_equal(json_integer_value(json_object_get(c1, "max_at")), (json_int_t)(DAY1 + 3600 + 17 * 12));
    json_t *ev = json_object_get(c1, "oversold_evidence");
    json_t *offers = json_object_get(ev, "offers"), *held = json_object_get(ev, "held_at_max");
    assert_int_equal(json_array_size(offers), 1);
    json_t *o = json_array_get(offers, 0);
    assert_int_equal(json_integer_value(json_object_get(o, "block")), 5);
    assert_int_equal(json_integer_value(json_object_get(o, "log_index")), 1);
    assert_int_equal(json_integer_value(json_object_get(o, "gpus")), 4);
    assert_string_equal(col(o, "tx"), "0x8585858585858585858585858585858585858585858585858585858585858585");
    assert_string_equal(col(o, "offer_id"), "0x0000000000000000000000000000000000000000000000000000000000000007");
    assert_string_equal(col(o, "platform"), "mkt");
    assert_int_equal(json_array_size(held), 3);
    uint64_t want[] = {10, 11, 17}, gpus[] = {3, 3, 2};
    json_int_t sum = 0;
    for (size_t k = 0; k < 3; k++) {
        json_t *h = json_array_get(held, k);
        assert_int_equal(json_integer_value(json_object_get(h, "block")), (json_int_t)want[k]);
        assert_int_equal(json_integer_value(json_object_get(h, "gpus")), (json_int_t)gpus[k]);
        assert_int_equal(json_integer_value(json_object_get(h, "chain_id")), 1);
        assert_int_equal(json_integer_value(json_object_get(h, "start")), (json_int_t)(DAY1 + 3600 + want[k] * 12));
        assert_int_equal(json_integer_value(json_object_get(h, "until")),
                         (json_int_t)(DAY1 + 3600 + want[k] * 12 + 3600));
        char tx[67] = "0x";
        for (int d = 0; d < 32; d++)
            snprintf(tx + 2 + 2 * d, 3, "%02x", (unsigned)want[k]);
        assert_string_equal(col(h, "tx"), tx);
        sum += json_integer_value(json_object_get(h, "gpus"));
    }
    assert_int_equal(sum, 8); /* the evidence adds up to the figure */
    assert_true(json_is_true(json_object_get(c1, "priced_below_model")));
    json_t *p = json_array_get(json_object_get(c1, "prices"), 0);
    assert_float_equal(json_real_value(json_object_get(p, "ratio")), 1.0 / 3.2, 1e-3);
    json_t *pe = json_object_get(p, "evidence");
    assert_int_equal(json_array_size(pe), 4);
    bool seen[18] = {false};
    json_array_foreach(pe, i, r) {
        json_int_t blk = json_integer_value(json_object_get(r, "block"));
        assert_true(blk == 10 || blk == 11 || blk == 12 || blk == 17);
        seen[blk] = true;
        assert_float_equal(json_real_value(json_object_get(r, "price_per_gpu_hour")), 1.0, 1e-3);
    }
    assert_true(seen[10] && seen[11] && seen[12] && seen[17]);
    json_decref(out);
    world_free(&w);
}

/* With a price table, prices of every token priced that day are compared
 * in USD (docs/VOLUME.md, providers).  One-GPU, one-hour H100 leases on
 * day 1: C1 1.0 USDT, C2 3.0 USDT, C3 0.0015 WETH, C4 0.0016 WETH; C4 also
 * 0.0016 WETH on day 2.  Prices: day 1 USDT 1.0, WETH 2000; day 2 none.
 *   No table: C1's only USDT peer is C2 -> no verdict (ratio null).
 *   Table: day 1 in USD 1.0, 3.0, 3.0, 3.2; C1's peers 3.0, 3.0, 3.2 ->
 *   upper median 3.0, ratio 0.3333, step 3.0 / 1.0 -> flagged, its
 *   evidence in USD (1.0); C4's day-2 lease has no price and stays in
 *   WETH (0.0016, no other WETH seller: no verdict). */
static void test_providers_usd(void **state)
{
    (void)state;
    world w;
    gl_store_batch *b = world_open(&w);
    put_lease(b, "mkt", "Rented", 10, 0xb0, 0xc1, 1000000, 0x22, "H100-80GB-SXM", 1, 60, 1, false);
    put_lease(b, "mkt", "Rented", 11, 0xb1, 0xc2, 3000000, 0x22, "H100-80GB-SXM", 1, 60, 2, false);
    put_lease(b, "mkt", "Rented", 12, 0xb2, 0xc3, 1500000000000000ull, 0x77, "H100-80GB-SXM", 1, 60, 3, false);
    put_lease(b, "mkt", "Rented", 13, 0xb3, 0xc4, 1600000000000000ull, 0x77, "H100-80GB-SXM", 1, 60, 4, false);
    put_lease(b, "mkt", "Rented", 21, 0xb3, 0xc4, 1600000000000000ull, 0x77, "H100-80GB-SXM", 1, 60, 5, false);
    commit(b);
    gl_prices *pr;
    assert_int_equal(gl_prices_new(&pr, NULL), GL_OK);
    assert_int_equal(gl_prices_load_text(pr, "date,token,usd\n2024-03-04,USDT,1.0\n2024-03-04,WETH,2000\n", "p.csv",
                                         NULL, NULL),
                     GL_OK);
    for (int with = 0; with < 2; with++) {
        json_t *out = providers_of(&w, with ? pr : NULL), *r;
        size_t i, seen = 0;
        json_array_foreach(out, i, r) {
            const char *wal = col(r, "wallet");
            json_t *prs = json_object_get(r, "prices"), *p0 = json_array_get(prs, 0);
            bool below = json_is_true(json_object_get(r, "priced_below_model"));
            if (!strncmp(wal, "0xc1c1", 6)) {
                seen++;
                assert_string_equal(col(p0, "token"), with ? "USD" : "USDT");
                if (!with) {
                    assert_false(below);
                    assert_true(json_is_null(json_object_get(p0, "ratio")));
                    continue;
                }
                assert_true(below);
                assert_int_equal(json_integer_value(json_object_get(p0, "peers")), 3);
                assert_float_equal(json_real_value(json_object_get(p0, "peer_median")), 3.0, 1e-9);
                assert_float_equal(json_real_value(json_object_get(p0, "ratio")), 1.0 / 3.0, 1e-9);
                assert_float_equal(json_real_value(json_object_get(p0, "gap_above")), 3.0, 1e-9);
                json_t *ev = json_array_get(json_object_get(p0, "evidence"), 0);
                assert_int_equal(json_integer_value(json_object_get(ev, "block")), 10);
                assert_float_equal(json_real_value(json_object_get(ev, "price_per_gpu_hour")), 1.0, 1e-9);
            } else if (!strncmp(wal, "0xc4c4", 6) && with) {
                seen++;
                assert_false(below);
                assert_int_equal(json_array_size(prs), 2); /* USD (day 1), WETH (day 2: no price) */
                size_t k;
                json_t *pe;
                bool usd = false, weth = false;
                json_array_foreach(prs, k, pe) {
                    if (!strcmp(col(pe, "token"), "USD")) {
                        usd = true;
                        assert_float_equal(json_real_value(json_object_get(pe, "median_price_per_gpu_hour")), 3.2,
                                           1e-9);
                    } else {
                        weth = true;
                        assert_string_equal(col(pe, "token"), "WETH");
                        assert_float_equal(json_real_value(json_object_get(pe, "median_price_per_gpu_hour")), 0.0016,
                                           1e-12);
                        assert_true(json_is_null(json_object_get(pe, "ratio")));
                    }
                }
                assert_true(usd && weth);
            }
        }
        assert_int_equal(seen, with ? 2 : 1);
        json_decref(out);
    }
    gl_prices_free(pr);
    world_free(&w);
}

static void test_prices_formats(void **state)
{
    (void)state;
    gl_prices *p;
    gl_err err = {0};
    double usd;
    assert_int_equal(gl_prices_new(&p, &err), GL_OK);
    assert_int_equal(gl_prices_load_text(p,
                                         "snapped_at,price,market_cap,total_volume\n"
                                         "2024-03-04 00:00:00 UTC,0.4512,451200000,1000\n"
                                         "2024-03-05 00:00:00 UTC,,1,1\n",
                                         "/x/glm-usd-max.csv", NULL, &err),
                     GL_OK);
    assert_true(gl_prices_get(p, "2024-03-04", "GLM", NULL, &usd));
    assert_true(usd == 0.4512);
    assert_false(gl_prices_get(p, "2024-03-05", "GLM", NULL, &usd)); /* empty price: none */
    assert_false(gl_prices_get(p, "2024-03-06", "GLM", NULL, &usd)); /* never carried forward */
    assert_int_equal(gl_prices_load_text(p, "date,token,usd\n2024-03-04,0xAbC0000000000000000000000000000000000001,2\n",
                                         "b.csv", NULL, &err),
                     GL_OK);
    assert_true(gl_prices_get(p, "2024-03-04", "XYZ", "0xabc0000000000000000000000000000000000001", &usd));
    assert_true(usd == 2.0);
    assert_int_equal(gl_prices_load_text(p, "date,token,usd\n2024-03-04,GLM,0.5\n", "c.csv", NULL, &err), GL_EINVAL);
    assert_non_null(strstr(err.msg, "priced twice"));
    assert_int_equal(gl_prices_load_text(p, "day,price\n1,2\n", "d.csv", NULL, &err), GL_EINVAL);
    assert_int_equal(gl_prices_load_text(p, "date,token,usd\n2024-3-4,GLM,1\n", "e.csv", NULL, &err), GL_EINVAL);
    /* a CoinGecko file read again adds nothing; one day given twice with
     * two prices (its rows carry a time of day) is refused (fuzz_prices) */
    size_t n = gl_prices_count(p);
    assert_int_equal(gl_prices_load_text(p,
                                         "snapped_at,price,market_cap,total_volume\n"
                                         "2024-03-04 00:00:00 UTC,0.4512,451200000,1000\n",
                                         "/x/glm-usd-max.csv", NULL, &err),
                     GL_OK);
    assert_int_equal(gl_prices_count(p), n);
    assert_int_equal(gl_prices_load_text(p,
                                         "snapped_at,price,market_cap,total_volume\n"
                                         "2024-03-09 00:00:00 UTC,0.40,1,1\n2024-03-09 12:00:00 UTC,0.41,1,1\n",
                                         "/x/glm-usd-max.csv", NULL, &err),
                     GL_EINVAL);
    assert_non_null(strstr(err.msg, "priced twice"));
    /* a file that fails on its third line adds none of its prices */
    assert_int_equal(gl_prices_load_text(p, "date,token,usd\n2024-03-07,GLM,0.3\n2024-03-08,GLM,x\n", "f.csv", NULL,
                                         &err),
                     GL_EINVAL);
    assert_non_null(strstr(err.msg, "f.csv:3:"));
    assert_int_equal(gl_prices_count(p), n);
    assert_false(gl_prices_get(p, "2024-03-07", "GLM", NULL, &usd));
    assert_true(gl_prices_get(p, "2024-03-04", "GLM", NULL, &usd) && usd == 0.4512);
    gl_prices_free(p);
}

static void test_gpu_names(void **state)
{
    (void)state;
    gl_gpu_models *m;
    assert_int_equal(gl_gpu_models_builtin(&m, NULL), GL_OK);
    static const char *const h100sxm[] = {"H100-SXM5-80GB", "NVIDIA H100 80GB HBM3", "H100-80GB-SXM", "h100 sxm5"};
    for (size_t i = 0; i < 4; i++) {
        const gl_gpu_model *g = gl_gpu_models_lookup(m, h100sxm[i]);
        assert_non_null(g);
        assert_string_equal(g->canonical, "H100-SXM-80GB");
        assert_string_equal(g->family, "H100");
        assert_int_equal(g->memory_gb, 80);
        assert_string_equal(g->eccn, "3A090.a");
        assert_true(g->controlled);
    }
    assert_string_equal(gl_gpu_models_lookup(m, "h100")->canonical, "H100-80GB"); /* form factor not guessed */
    assert_string_equal(gl_gpu_models_lookup(m, "H20-96GB")->eccn, "licence-2025");
    assert_false(gl_gpu_models_lookup(m, "RTX3090")->controlled);
    assert_null(gl_gpu_models_lookup(m, "Quantum Potato 9000"));
    assert_null(gl_gpu_models_lookup(m, ""));
    gl_gpu_models_free(m);
    gl_err err = {0};
    assert_int_equal(gl_gpu_models_load_text(&m,
                                             "{\"format\":\"gpuledger-gpus/1\",\"classes\":{\"x\":{\"controlled\":true}},"
                                             "\"models\":[{\"canonical\":\"A\",\"family\":\"A\",\"class\":\"x\",\"aliases\":[\"z\"]},"
                                             "{\"canonical\":\"B\",\"family\":\"B\",\"class\":\"x\",\"aliases\":[\"Z\"]}]}",
                                             "t", &err),
                     GL_EINVAL);
    assert_non_null(strstr(err.msg, "names both"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_volume_marks_minutes_prices),
        cmocka_unit_test(test_volume_without_analysis),
        cmocka_unit_test(test_volume_golem_batch_only),
        cmocka_unit_test(test_eval_volume_per_token),
        cmocka_unit_test(test_eval_volume_chain_shows),
        cmocka_unit_test(test_volume_self_dealing_as_far_as_the_chain_shows),
        cmocka_unit_test(test_providers_peer_prices),
        cmocka_unit_test(test_providers_gap),
        cmocka_unit_test(test_providers_evidence),
        cmocka_unit_test(test_providers_usd),
        cmocka_unit_test(test_prices_formats),
        cmocka_unit_test(test_gpu_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
