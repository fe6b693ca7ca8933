/* index_testlib.h - shared helpers of the indexer's integration tests
 * (test_index*.c, test_reorg.c, test_crash.c): a node with the test markets
 * deployed, transactions from anvil's dev accounts, platform definitions
 * built for the deployed addresses, temporary stores, running the indexer
 * in-process or the gpuledger binary as a child, and a raw dump of a store
 * (every key and value of every column family, through RocksDB itself) to
 * compare two stores exactly.
 *
 * Header-only (static functions marked unused), because the Makefile gives
 * each tests/integration/test_*.c its own binary and links only
 * tests/support/ besides.  Oracles stay in the tests: this file only moves
 * data around.
 */
#ifndef GPULEDGER_INDEX_TESTLIB_H
#define GPULEDGER_INDEX_TESTLIB_H

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <rocksdb/c.h>

#include "gpuledger/abi.h"
#include "gpuledger/bytes.h"
#include "gpuledger/endpoint.h"
#include "gpuledger/indexer.h"
#include "gpuledger/platform.h"
#include "gpuledger/rpc.h"
#include "gpuledger/store.h"

#include "../support/anvil.h"
#include "../support/peakrss.h"
#include "../support/storefiles.h"
#include "../support/testutil.h"

#define TL_UNUSED __attribute__((unused))

/* ------------------------------------------------------------------ node */

typedef struct tl_node {
    gl_anvil *node;
    gl_rpc *rpc;
    char acct[GL_ANVIL_DEV_ACCOUNTS][43]; /* lowercase */
} tl_node;

static TL_UNUSED void tl_lower(char *dst, const char *src, size_t cap)
{
    size_t n = strlen(src);
    assert_true(n < cap);
    for (size_t i = 0; i <= n; i++)
        dst[i] = (char)((src[i] >= 'A' && src[i] <= 'F') ? src[i] - 'A' + 'a' : src[i]);
}

static TL_UNUSED int tl_node_start(tl_node *n, uint64_t chain_id, const char *const *extra)
{
    gl_err err;
    memset(n, 0, sizeof *n);
    gl_anvil_opts o = {.chain_id = chain_id, .extra_args = extra};
    if (gl_anvil_start(&o, &n->node, &err)) {
        fprintf(stderr, "cannot start anvil: %s\n", err.msg);
        return -1;
    }
    if (!(n->rpc = gl_rpc_new(gl_anvil_url(n->node), &err))) {
        fprintf(stderr, "cannot create RPC client: %s\n", err.msg);
        gl_anvil_stop(n->node);
        return -1;
    }
    for (int i = 0; i < GL_ANVIL_DEV_ACCOUNTS; i++)
        tl_lower(n->acct[i], gl_anvil_dev_address(i), sizeof n->acct[i]);
    return 0;
}

static TL_UNUSED void tl_node_stop(tl_node *n)
{
    gl_rpc_free(n->rpc);
    gl_anvil_stop(n->node);
    memset(n, 0, sizeof *n);
}

static TL_UNUSED json_t *tl_rpc(tl_node *n, const char *method, json_t *params)
{
    json_t *res = NULL;
    gl_err err;
    if (gl_rpc_call(n->rpc, method, params, &res, &err))
        fail_msg("%s: %s", method, err.msg);
    return res;
}

static TL_UNUSED void tl_rpc_void(tl_node *n, const char *method, json_t *params)
{
    json_decref(tl_rpc(n, method, params));
}

static TL_UNUSED uint64_t tl_qty(const json_t *v)
{
    const char *s = json_string_value(v);
    assert_non_null(s);
    return strtoull(s, NULL, 16);
}

static TL_UNUSED uint64_t tl_head(tl_node *n)
{
    json_t *r = tl_rpc(n, "eth_blockNumber", NULL);
    uint64_t h = tl_qty(r);
    json_decref(r);
    return h;
}

/* The node's own hash of block `num` (its word: an independent oracle for
 * what the indexer recomputed). */
static TL_UNUSED void tl_block_hash(tl_node *n, uint64_t num, uint8_t out[32])
{
    char q[24];
    snprintf(q, sizeof q, "0x%" PRIx64, num);
    json_t *b = tl_rpc(n, "eth_getBlockByNumber", json_pack("[s,b]", q, 0));
    assert_true(json_is_object(b));
    assert_int_equal(gl_hex_decode_exact(json_string_value(json_object_get(b, "hash")), out, 32, NULL), GL_OK);
    json_decref(b);
}

static TL_UNUSED void tl_encode_call(gl_buf *out, const char *sig, json_t *args /* stolen */)
{
    gl_abi_sig s;
    gl_err err;
    if (gl_abi_sig_parse(&s, sig, &err))
        fail_msg("signature %s: %s", sig, err.msg);
    if (gl_abi_encode_call(out, &s, args, &err))
        fail_msg("encode %s: %s", sig, err.msg);
    gl_abi_sig_release(&s);
    json_decref(args);
}

static TL_UNUSED uint64_t tl_head(tl_node *n);
static TL_UNUSED json_t *tl_wait_receipt(tl_node *n, const char *hash)
{
    /* Up to 2 minutes: a busy machine mines a block of 500 transfers slowly. */
    json_t *r = NULL;
    for (int i = 0; i < 3000 && (!r || json_is_null(r)); i++) {
        if (r) {
            json_decref(r);
            nanosleep(&(struct timespec){.tv_nsec = (i < 200 ? 5 : 40) * 1000 * 1000}, NULL);
        }
        r = tl_rpc(n, "eth_getTransactionReceipt", json_pack("[s]", hash));
    }
    if (!json_is_object(r)) {
        json_t *tx = tl_rpc(n, "eth_getTransactionByHash", json_pack("[s]", hash));
        json_t *pool = tl_rpc(n, "txpool_status", NULL);
        char *a = json_dumps(tx, JSON_COMPACT), *b = json_dumps(pool, JSON_COMPACT);
        char tail[2048];
        gl_anvil_log_tail(n->node, tail, sizeof tail);
        fail_msg("no receipt for %s (head %" PRIu64 "): tx %.600s; pool %s; anvil: %s", hash, tl_head(n), a, b, tail);
    }
    return r;
}

/* Send a transaction (no wait); the hash goes to hash_out (67 bytes) when
 * not NULL.  `to` NULL deploys; value a hex quantity or NULL. */
static TL_UNUSED void tl_send(tl_node *n, const char *from, const char *to, const gl_buf *data, const char *value,
                              char *hash_out)
{
    char *hex = gl_hex_encode_alloc(data->data, data->len, true);
    assert_non_null(hex);
    /* A generous fee cap: when blocks run above the gas target the base
     * fee climbs, and a transaction priced for the last block would wait
     * in the pool forever. */
    json_t *tx = json_pack("{s:s, s:s, s:s}", "from", from, "data", hex, "maxFeePerGas", "0x174876e800");
    free(hex);
    if (to)
        json_object_set_new(tx, "to", json_string(to));
    if (value)
        json_object_set_new(tx, "value", json_string(value));
    json_t *h = tl_rpc(n, "eth_sendTransaction", json_pack("[o]", tx));
    if (hash_out)
        snprintf(hash_out, 67, "%s", json_string_value(h));
    json_decref(h);
}

/* Send and wait for a successful receipt (automine on).  Returns it. */
static TL_UNUSED json_t *tl_transact(tl_node *n, const char *from, const char *to, const char *sig, json_t *args,
                                     const char *value)
{
    gl_buf data = GL_BUF_INIT;
    tl_encode_call(&data, sig, args);
    char h[67];
    tl_send(n, from, to, &data, value, h);
    gl_buf_release(&data);
    json_t *r = tl_wait_receipt(n, h);
    const char *st = json_string_value(json_object_get(r, "status"));
    if (!st || strcmp(st, "0x1"))
        fail_msg("%s reverted", sig);
    return r;
}

static TL_UNUSED void tl_transact_void(tl_node *n, const char *from, const char *to, const char *sig, json_t *args,
                                       const char *value)
{
    json_decref(tl_transact(n, from, to, sig, args, value));
}

/* Deploy fixtures/contracts/build/NAME.json with constructor args (types
 * like "(address,uint32)" and a JSON array, or NULL). */
static TL_UNUSED void tl_deploy(tl_node *n, const char *from, const char *name, const char *types, json_t *args,
                                char addr[43])
{
    char root[4096], path[4200];
    assert_non_null(gl_test_root(root, sizeof root));
    snprintf(path, sizeof path, "%s/fixtures/contracts/build/%s.json", root, name);
    json_error_t jerr;
    json_t *art = json_load_file(path, 0, &jerr);
    if (!art)
        fail_msg("cannot load %s: %s", path, jerr.text);
    gl_buf code = GL_BUF_INIT;
    assert_int_equal(gl_hex_decode_buf(json_string_value(json_object_get(art, "bytecode")), &code, NULL), GL_OK);
    json_decref(art);
    if (types) {
        gl_abi_type *t = NULL;
        gl_err err;
        if (gl_abi_type_parse(&t, types, &err) || gl_abi_encode(&code, t, args, &err))
            fail_msg("constructor %s: %s", types, err.msg);
        gl_abi_type_free(t);
        json_decref(args);
    }
    char h[67];
    tl_send(n, from, NULL, &code, NULL, h);
    gl_buf_release(&code);
    json_t *r = tl_wait_receipt(n, h);
    tl_lower(addr, json_string_value(json_object_get(r, "contractAddress")), 43);
    json_decref(r);
}

/* ------------------------------------------------------------- platform */

/* Load a definition from JSON text with %s placeholders already filled. */
static TL_UNUSED gl_platform *tl_platform(const char *fmt, ...)
{
    char *text = NULL;
    va_list ap;
    va_start(ap, fmt);
    assert_true(vasprintf(&text, fmt, ap) >= 0);
    va_end(ap);
    json_error_t jerr;
    json_t *root = json_loads(text, 0, &jerr);
    if (!root)
        fail_msg("definition: line %d: %s\n%s", jerr.line, jerr.text, text);
    free(text);
    gl_platform *p = NULL;
    gl_err err;
    if (gl_platform_load_json(&p, root, "test", &err))
        fail_msg("definition: %s", err.msg);
    json_decref(root);
    return p;
}

/* Write a definition to a file (for the binary). */
static TL_UNUSED void tl_write_file(const char *path, const char *fmt, ...)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(f, fmt, ap);
    va_end(ap);
    assert_int_equal(fclose(f), 0);
}

/* --------------------------------------------------------------- stores */

static TL_UNUSED void tl_tmpdir(char *buf, size_t cap, const char *tag)
{
    const char *t = getenv("TMPDIR");
    snprintf(buf, cap, "%s/gl-%s-XXXXXX", t && *t ? t : "/tmp", tag);
    assert_non_null(mkdtemp(buf));
}

static TL_UNUSED int tl_rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static TL_UNUSED void tl_rm_rf(const char *path) { nftw(path, tl_rm_one, 16, FTW_DEPTH | FTW_PHYS); }

static TL_UNUSED bool tl_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

static TL_UNUSED gl_store *tl_store_open(const char *dir, bool create)
{
    gl_err err;
    gl_store_open_opts o = {.create = create};
    gl_store *s = gl_store_open(dir, &o, &err);
    if (!s)
        fail_msg("open %s: %s", dir, err.msg);
    return s;
}

static TL_UNUSED gl_endpoints *tl_endpoints(const char *url)
{
    const char *urls[] = {url};
    gl_endpoint_opts o;
    memset(&o, 0, sizeof o);
    o.urls = urls;
    o.nurls = 1;
    o.seed = 7;
    o.backoff_base_ms = 5;
    o.backoff_cap_ms = 50;
    gl_err err;
    gl_endpoints *e = gl_endpoints_new(&o, &err);
    if (!e)
        fail_msg("endpoints: %s", err.msg);
    return e;
}

typedef struct tl_run_opts {
    gl_indexer_verify verify;
    bool has_to;
    uint64_t to;
    bool has_from;
    uint64_t from;
    uint64_t confirmations;
    unsigned batch_logs;
    uint64_t initial_span;
    unsigned addresses_per_request;
    unsigned block_chunk;
    unsigned request_logs; /* 0: the indexer's default */
    bool expect_fail;
    bool no_prefetch; /* the CLI's default is to prefetch: so are the tests' */
} tl_run_opts;

static TL_UNUSED void tl_log_quiet(void *ctx, int level, const char *msg)
{
    (void)ctx;
    if (level >= 1 && getenv("GL_TEST_VERBOSE"))
        fprintf(stderr, "  [indexer] %s\n", msg);
    else if (level == 0 && getenv("GL_TEST_VERBOSE"))
        fprintf(stderr, "  [indexer] %s\n", msg);
}

/* Index `p` from url into the store at dir (created when missing), in
 * process; returns the stats. */
static TL_UNUSED gl_indexer_stats tl_index(const char *url, const char *dir, const gl_platform *p,
                                           const tl_run_opts *ro)
{
    gl_err err;
    gl_endpoints *e = tl_endpoints(url);
    if (gl_indexer_check_chain(e, p, &err))
        fail_msg("chain: %s", err.msg);
    gl_store *s = tl_store_open(dir, true);
    gl_indexer_opts o;
    gl_indexer_opts_init(&o);
    o.has_confirmations = true;
    o.confirmations = ro ? ro->confirmations : 0;
    if (ro) {
        o.verify = ro->verify;
        o.has_to = ro->has_to;
        o.to = ro->to;
        o.has_from = ro->has_from;
        o.from = ro->from;
        o.batch_logs = ro->batch_logs;
        o.initial_span = ro->initial_span;
        o.addresses_per_request = ro->addresses_per_request;
        o.block_chunk = ro->block_chunk;
        o.request_logs = ro->request_logs;
    }
    o.log = tl_log_quiet;
    o.prefetch = !(ro && ro->no_prefetch);
    gl_indexer *ix = gl_indexer_new(s, e, p, &o, &err);
    if (!ix)
        fail_msg("indexer: %s", err.msg);
    gl_code rc = gl_indexer_run(ix, &err);
    if (rc)
        fail_msg("index: %s", err.msg);
    gl_indexer_stats st;
    gl_indexer_stats_get(ix, &st);
    gl_indexer_free(ix);
    gl_store_close(s);
    gl_endpoints_free(e);
    return st;
}

/* ---------------------------------------------------------- raw dumps */

/* Every key/value of every family, as "family key=value" lines in hex,
 * sorted as RocksDB orders them.  `skip` (may be NULL) drops entries: it
 * gets the family name and the value. */
typedef bool (*tl_skip_fn)(const char *family, const char *val, size_t vlen);

static TL_UNUSED json_t *tl_dump(const char *dir, tl_skip_fn skipf)
{
    gl_test_raw r;
    gl_test_raw_open(&r, dir, true);
    rocksdb_readoptions_t *ro = rocksdb_readoptions_create();
    json_t *out = json_array();
    for (size_t f = 0; f < r.n; f++) {
        rocksdb_iterator_t *it = rocksdb_create_iterator_cf(r.db, ro, r.h[f]);
        for (rocksdb_iter_seek_to_first(it); rocksdb_iter_valid(it); rocksdb_iter_next(it)) {
            size_t kl, vl;
            const char *k = rocksdb_iter_key(it, &kl);
            const char *v = rocksdb_iter_value(it, &vl);
            if (skipf && skipf(r.names[f], v, vl))
                continue;
            char *kh = gl_hex_encode_alloc((const uint8_t *)k, kl, false);
            char *vh = gl_hex_encode_alloc((const uint8_t *)v, vl, false);
            char *line = NULL;
            assert_true(asprintf(&line, "%s %s=%s", r.names[f], kh, vh) >= 0);
            json_array_append_new(out, json_string(line));
            free(line);
            free(kh);
            free(vh);
        }
        rocksdb_iter_destroy(it);
    }
    rocksdb_readoptions_destroy(ro);
    gl_test_raw_close(&r);
    return out;
}

/* Two stores hold exactly the same keys and values (minus skipped ones). */
static TL_UNUSED void tl_assert_same_store(const char *a, const char *b, tl_skip_fn skipf)
{
    json_t *da = tl_dump(a, skipf), *db = tl_dump(b, skipf);
    size_t na = json_array_size(da), nb = json_array_size(db);
    for (size_t i = 0; i < na || i < nb; i++) {
        const char *x = i < na ? json_string_value(json_array_get(da, i)) : "(end)";
        const char *y = i < nb ? json_string_value(json_array_get(db, i)) : "(end)";
        if (strcmp(x, y)) {
            fprintf(stderr, "stores differ at entry %zu of %zu/%zu:\n  %s: %.300s\n  %s: %.300s\n", i, na, nb, a, x,
                    b, y);
            json_decref(da);
            json_decref(db);
            fail_msg("stores differ");
        }
    }
    assert_true(na > 0);
    json_decref(da);
    json_decref(db);
}

/* Every stored event of a chain, in key order. */
static TL_UNUSED size_t tl_events(gl_store *s, uint64_t chain, gl_store_event **out)
{
    gl_err err;
    gl_store_iter *it = gl_store_iter_events(s, chain, 0, UINT64_MAX - 1, &err);
    if (!it)
        fail_msg("iter: %s", err.msg);
    size_t n = 0, cap = 0;
    *out = NULL;
    for (;;) {
        gl_store_event ev;
        bool end;
        if (gl_store_next_event(it, &ev, &end, &err))
            fail_msg("next: %s", err.msg);
        if (end)
            break;
        if (n == cap) {
            cap = cap ? 2 * cap : 64;
            *out = realloc(*out, cap * sizeof **out);
            assert_non_null(*out);
        }
        (*out)[n++] = ev;
    }
    gl_store_iter_free(it);
    return n;
}

/* The stored findings (JSON objects, new references in an array). */
static TL_UNUSED json_t *tl_findings(gl_store *s, uint64_t chain)
{
    gl_err err;
    gl_store_iter *it = gl_store_iter_findings(s, chain, 0, UINT64_MAX - 1, &err);
    if (!it)
        fail_msg("iter: %s", err.msg);
    json_t *out = json_array();
    for (;;) {
        gl_store_finding f;
        bool end;
        if (gl_store_next_finding(it, &f, &end, &err))
            fail_msg("next: %s", err.msg);
        if (end)
            break;
        json_array_append_new(out, f.json);
    }
    gl_store_iter_free(it);
    return out;
}

static TL_UNUSED size_t tl_count_kind(const json_t *findings, const char *kind)
{
    size_t n = 0, i;
    const json_t *f;
    json_array_foreach(findings, i, f) n += !strcmp(json_string_value(json_object_get(f, "kind")), kind);
    return n;
}

static TL_UNUSED void tl_addr(const char *hex, uint8_t out[20])
{
    assert_int_equal(gl_hex_decode_exact(hex, out, 20, NULL), GL_OK);
}

static TL_UNUSED bool tl_has_role(const gl_store_event *ev, gl_store_role role, const char *addr)
{
    uint8_t a[20];
    tl_addr(addr, a);
    for (size_t i = 0; i < ev->n_roles; i++)
        if (ev->roles[i].role == role && !memcmp(ev->roles[i].addr, a, 20))
            return true;
    return false;
}

static TL_UNUSED const gl_store_id *tl_id(const gl_store_event *ev, const char *name)
{
    for (size_t i = 0; i < ev->n_ids; i++)
        if (!strcmp(ev->ids[i].name, name))
            return &ev->ids[i];
    return NULL;
}

static TL_UNUSED uint64_t tl_u64(const gl_u256 *x)
{
    uint64_t v;
    assert_true(gl_u256_to_u64(x, &v));
    return v;
}

/* ------------------------------------------------------ the reference market */

/* What the test asked the market to do: the oracle for stored events. */
typedef struct tl_expect {
    char name[32];        /* OfferRegistered, LeaseOpened, LeaseExtended, LeaseEnded */
    char tx[67];          /* "" when sent without waiting */
    char from[43];        /* the account that sent the transaction */
    uint64_t lease_id;    /* LeaseOpened/Extended/Ended; the offer id for OfferRegistered */
    char buyer[43], beneficiary[43], provider[43], payer[43]; /* "" when the event has none */
    uint64_t amount;      /* in the token's unit */
    bool native;
    char model[32];
    uint32_t gpus, hours;
} tl_expect;

typedef struct tl_offer {
    int provider;
    const char *model;
    uint32_t gpus;
    uint64_t price;
    bool native;
} tl_offer;

typedef struct tl_lease {
    int offer;           /* 1-based */
    int buyer, beneficiary;
    uint32_t gpus;
} tl_lease;

typedef struct tl_market {
    char usdc[43], market[43];
    uint64_t start_block; /* the market's deployment block */
    tl_offer offers[8];
    int noffers;
    tl_lease *leases;     /* leases[id - 1] */
    size_t nleases, lcap;
    tl_expect *ex;
    size_t nex, cap;
} tl_market;

static TL_UNUSED tl_expect *tl_expect_add(tl_market *m)
{
    if (m->nex == m->cap) {
        m->cap = m->cap ? 2 * m->cap : 64;
        m->ex = realloc(m->ex, m->cap * sizeof *m->ex);
        assert_non_null(m->ex);
    }
    tl_expect *x = &m->ex[m->nex++];
    memset(x, 0, sizeof *x);
    return x;
}

static TL_UNUSED void tl_market_free(tl_market *m)
{
    free(m->ex);
    free(m->leases);
    memset(m, 0, sizeof *m);
}

/* Send a market call from account `from`; with wait, record the tx hash. */
static TL_UNUSED void tl_market_call(tl_node *n, tl_market *m, int from, const char *sig, json_t *args,
                                     const char *value, bool wait, tl_expect *x)
{
    gl_buf data = GL_BUF_INIT;
    tl_encode_call(&data, sig, args);
    char h[67];
    tl_send(n, n->acct[from], m->market, &data, value, h);
    gl_buf_release(&data);
    if (x) {
        snprintf(x->from, sizeof x->from, "%s", n->acct[from]);
        snprintf(x->tx, sizeof x->tx, "%s", h);
    }
    if (wait) {
        json_t *r = tl_wait_receipt(n, h);
        const char *st = json_string_value(json_object_get(r, "status"));
        if (!st || strcmp(st, "0x1"))
            fail_msg("%s reverted", sig);
        json_decref(r);
    }
}

/* Deploy USDC and the market (from account 0), give accounts 3..9 USDC and
 * approve the market, and register two offers: 1 by account 1 in USDC,
 * 2 by account 2 in the native coin. */
static TL_UNUSED void tl_market_deploy(tl_node *n, tl_market *m)
{
    memset(m, 0, sizeof *m);
    tl_deploy(n, n->acct[0], "MockStablecoin", NULL, NULL, m->usdc);
    tl_deploy(n, n->acct[0], "GpuMarket", NULL, NULL, m->market);
    m->start_block = tl_head(n);
    for (int i = 3; i < GL_ANVIL_DEV_ACCOUNTS; i++) {
        tl_transact_void(n, n->acct[0], m->usdc, "mint(address,uint256)",
                         json_pack("[s,s]", n->acct[i], "1000000000000000"), NULL);
        tl_transact_void(n, n->acct[i], m->usdc, "approve(address,uint256)",
                         json_pack("[s,s]", m->market,
                                   "115792089237316195423570985008687907853269984665640564039457584007913129639935"),
                         NULL);
    }
    static const tl_offer offers[] = {
        {1, "H100-SXM5-80GB", 8, 2000000, false},
        {2, "A100-40GB", 4, 1000000000000000ULL, true},
    };
    for (int i = 0; i < 2; i++) {
        const tl_offer *o = &offers[i];
        tl_expect *x = tl_expect_add(m);
        snprintf(x->name, sizeof x->name, "OfferRegistered");
        x->lease_id = (uint64_t)i + 1;
        snprintf(x->provider, sizeof x->provider, "%s", n->acct[o->provider]);
        snprintf(x->model, sizeof x->model, "%s", o->model);
        x->gpus = o->gpus;
        x->native = o->native;
        char price[32];
        snprintf(price, sizeof price, "%" PRIu64, o->price);
        tl_market_call(n, m, o->provider, "registerOffer(string,uint32,uint256,string,address)",
                       json_pack("[s,i,s,s,s]", o->model, (int)o->gpus, price, "eu-west",
                                 o->native ? "0x0000000000000000000000000000000000000000" : m->usdc),
                       NULL, true, x);
        m->offers[m->noffers++] = *o;
    }
}

/* buyer opens a lease on `offer` for beneficiary (-1: itself). */
static TL_UNUSED void tl_market_lease(tl_node *n, tl_market *m, int buyer, int beneficiary, int offer,
                                      uint32_t gpus, uint32_t hours, bool wait)
{
    const tl_offer *o = &m->offers[offer - 1];
    uint64_t amount = (uint64_t)gpus * hours * o->price;
    char value[32];
    snprintf(value, sizeof value, "0x%" PRIx64, amount);
    if (m->nleases == m->lcap) {
        m->lcap = m->lcap ? 2 * m->lcap : 64;
        m->leases = realloc(m->leases, m->lcap * sizeof *m->leases);
        assert_non_null(m->leases);
    }
    m->leases[m->nleases++] = (tl_lease){offer, buyer, beneficiary < 0 ? buyer : beneficiary, gpus};
    tl_expect *x = tl_expect_add(m);
    snprintf(x->name, sizeof x->name, "LeaseOpened");
    x->lease_id = m->nleases;
    snprintf(x->buyer, sizeof x->buyer, "%s", n->acct[buyer]);
    snprintf(x->payer, sizeof x->payer, "%s", n->acct[buyer]);
    snprintf(x->beneficiary, sizeof x->beneficiary, "%s", n->acct[beneficiary < 0 ? buyer : beneficiary]);
    snprintf(x->provider, sizeof x->provider, "%s", n->acct[o->provider]);
    x->amount = amount;
    x->native = o->native;
    snprintf(x->model, sizeof x->model, "%s", o->model);
    x->gpus = gpus;
    x->hours = hours;
    if (beneficiary < 0)
        tl_market_call(n, m, buyer, "lease(uint256,uint32,uint32)", json_pack("[i,i,i]", offer, (int)gpus, (int)hours),
                       o->native ? value : NULL, wait, x);
    else
        tl_market_call(n, m, buyer, "leaseFor(address,uint256,uint32,uint32)",
                       json_pack("[s,i,i,i]", n->acct[beneficiary], offer, (int)gpus, (int)hours),
                       o->native ? value : NULL, wait, x);
}

/* payer adds hours to lease `id`. */
static TL_UNUSED void tl_market_extend(tl_node *n, tl_market *m, int payer, uint64_t id, uint32_t hours, bool wait)
{
    const tl_lease *l = &m->leases[id - 1];
    const tl_offer *o = &m->offers[l->offer - 1];
    uint64_t amount = (uint64_t)l->gpus * hours * o->price;
    char value[32];
    snprintf(value, sizeof value, "0x%" PRIx64, amount);
    tl_expect *x = tl_expect_add(m);
    snprintf(x->name, sizeof x->name, "LeaseExtended");
    x->lease_id = id;
    snprintf(x->payer, sizeof x->payer, "%s", n->acct[payer]);
    snprintf(x->beneficiary, sizeof x->beneficiary, "%s", n->acct[l->beneficiary]);
    snprintf(x->provider, sizeof x->provider, "%s", n->acct[o->provider]);
    x->amount = amount;
    x->native = o->native;
    x->hours = hours;
    tl_market_call(n, m, payer, "extendLease(uint256,uint32)", json_pack("[I,i]", (json_int_t)id, (int)hours),
                   o->native ? value : NULL, wait, x);
}

/* The platform definition of the market (JSON text).  with_tx_from maps
 * LeaseOpened's payer to tx.from. */
static TL_UNUSED char *tl_market_def(const tl_market *m, const char *name, uint64_t chain, bool with_tx_from)
{
    char *t = NULL;
    assert_true(asprintf(&t,
        "{\"format\":\"gpuledger-platform/1\",\"name\":\"%s\",\"platform\":\"gpumarket\",\"chain_id\":%" PRIu64 ","
        "\"confirmations\":0,"
        "\"tokens\":{\"%s\":{\"symbol\":\"USDC\",\"decimals\":6},\"native\":{\"symbol\":\"ETH\",\"decimals\":18}},"
        "\"contracts\":[{\"name\":\"GpuMarket\",\"address\":\"%s\",\"start_block\":%" PRIu64 ",\"abis\":[{"
        "\"from_block\":%" PRIu64 ",\"to_block\":null,\"events\":["
        "\"event OfferRegistered(uint256 indexed offerId, address indexed provider, string gpuModel, uint32 gpuCount, uint256 pricePerGpuHour, string region, address token)\","
        "\"event LeaseOpened(uint256 indexed leaseId, address indexed buyer, address indexed beneficiary, address provider, uint256 offerId, string gpuModel, uint32 gpuCount, uint32 durationHours, uint256 amount, address token)\","
        "\"event LeaseExtended(uint256 indexed leaseId, address indexed payer, address indexed beneficiary, address provider, uint32 addedHours, uint32 totalHours, uint256 amount, address token)\","
        "\"event LeaseEnded(uint256 indexed leaseId, address indexed buyer, address indexed provider, uint32 usedHours, uint256 providerAmount, uint256 refund, address token)\""
        "]}]}],"
        "\"events\":{"
        "\"OfferRegistered\":{\"kind\":\"offer\",\"provider\":\"provider\",\"gpu_model\":\"gpuModel\",\"gpu_count\":\"gpuCount\",\"token\":\"token\",\"lease_id\":\"offerId\"},"
        "\"LeaseOpened\":{\"kind\":\"lease\",\"buyer\":\"buyer\",\"beneficiary\":\"beneficiary\",\"provider\":\"provider\",%s\"amount\":\"amount\",\"token\":\"token\",\"lease_id\":\"leaseId\",\"gpu_model\":\"gpuModel\",\"gpu_count\":\"gpuCount\",\"hours\":\"durationHours\"},"
        "\"LeaseExtended\":{\"kind\":\"extension\",\"payer\":\"payer\",\"beneficiary\":\"beneficiary\",\"provider\":\"provider\",\"amount\":\"amount\",\"token\":\"token\",\"lease_id\":\"leaseId\",\"hours\":\"addedHours\"},"
        "\"LeaseEnded\":{\"kind\":\"settlement\",\"buyer\":\"buyer\",\"provider\":\"provider\",\"amount\":\"providerAmount\",\"token\":\"token\",\"lease_id\":\"leaseId\"}"
        "}}",
        name, chain, m->usdc, m->market, m->start_block, m->start_block,
        with_tx_from ? "\"payer\":\"tx.from\"," : "") >= 0);
    return t;
}

static TL_UNUSED gl_platform *tl_market_platform(const tl_market *m, const char *name, uint64_t chain,
                                                 bool with_tx_from)
{
    char *t = tl_market_def(m, name, chain, with_tx_from);
    gl_platform *p = tl_platform("%s", t);
    free(t);
    return p;
}

/* Compare one stored event with what the test asked for. */
static TL_UNUSED void tl_check_event(const gl_store_event *ev, const tl_expect *x, const tl_market *m,
                                     bool with_tx_from)
{
    char h[67];
    if (strcmp(ev->name, x->name))
        fail_msg("block %" PRIu64 " log %u: event %s, expected %s", ev->block, ev->log_index, ev->name, x->name);
    if (x->tx[0]) {
        gl_hex_encode(ev->tx_hash, 32, true, h);
        assert_string_equal(h, x->tx);
    }
    uint8_t a[20];
    tl_addr(m->market, a);
    assert_memory_equal(ev->contract, a, 20);
    const char *idname = !strcmp(x->name, "OfferRegistered") ? "offerId" : "leaseId";
    const gl_store_id *id = tl_id(ev, idname);
    assert_non_null(id);
    gl_u256 idv;
    assert_int_equal(gl_u256_from_be(&idv, id->value, 32, NULL), GL_OK);
    assert_int_equal(tl_u64(&idv), x->lease_id);
    size_t want_roles = 0;
    if (x->buyer[0]) {
        assert_true(tl_has_role(ev, GL_STORE_ROLE_BUYER, x->buyer));
        want_roles++;
    }
    if (x->beneficiary[0]) {
        assert_true(tl_has_role(ev, GL_STORE_ROLE_BENEFICIARY, x->beneficiary));
        want_roles++;
    }
    if (x->provider[0]) {
        assert_true(tl_has_role(ev, GL_STORE_ROLE_PROVIDER, x->provider));
        want_roles++;
    }
    if (x->payer[0] && (with_tx_from || strcmp(x->name, "LeaseOpened"))) {
        assert_true(tl_has_role(ev, GL_STORE_ROLE_PAYER, x->payer));
        want_roles++;
    }
    assert_int_equal(ev->n_roles, want_roles);
    if (strcmp(x->name, "OfferRegistered")) {
        assert_true(ev->has_amount);
        assert_int_equal(tl_u64(&ev->amount), x->amount);
    } else {
        assert_false(ev->has_amount);
    }
    assert_int_equal(ev->has_token, !x->native);
    if (!x->native) {
        tl_addr(m->usdc, a);
        assert_memory_equal(ev->token, a, 20);
    }
    assert_string_equal(ev->gpu_model, x->model);
    assert_int_equal(ev->gpu_count, x->gpus);
    assert_int_equal(ev->duration_s, (uint64_t)x->hours * 3600);
    assert_int_equal(ev->gpu_mhours, (uint64_t)x->gpus * x->hours * 1000);
}

/* ------------------------------------------------ bulk events: GLM payouts */

/* Golem's batch payer pays many providers in one transaction: one GLM
 * Transfer in from the requestor, then one per recipient.  The cheapest
 * way to put 100k logs on a chain. */
typedef struct tl_glm {
    char glm[43], payer[43];
    uint64_t start_block;
    uint64_t transfers; /* GLM Transfer logs emitted since start_block */
} tl_glm;

static TL_UNUSED void tl_glm_deploy(tl_node *n, tl_glm *g)
{
    memset(g, 0, sizeof *g);
    tl_deploy(n, n->acct[0], "GlmToken", NULL, NULL, g->glm);
    tl_deploy(n, n->acct[0], "GolemBatchPayer", "(address)", json_pack("[s]", g->glm), g->payer);
    g->start_block = tl_head(n) + 1;
    tl_transact_void(n, n->acct[0], g->glm, "mint(address,uint256)",
                     json_pack("[s,s]", n->acct[3], "1000000000000000000000000000"), NULL);
    tl_transact_void(n, n->acct[3], g->glm, "approve(address,uint256)",
                     json_pack("[s,s]", g->payer,
                               "115792089237316195423570985008687907853269984665640564039457584007913129639935"),
                     NULL);
    g->transfers = 1; /* the mint */
}

/* ntx transactions from account 3, each paying per_tx recipients (a fixed
 * set of addresses 0x..01000000 + i) amounts 1..per_tx: 1 + per_tx logs
 * each, in one block each. */
/* The calldata of one payout to per_tx recipients (amounts 1..per_tx), as
 * hex (malloc'd). */
static TL_UNUSED char *tl_glm_payout_hex(unsigned per_tx)
{
    json_t *to = json_array(), *amt = json_array();
    for (unsigned i = 0; i < per_tx; i++) {
        char a[43];
        snprintf(a, sizeof a, "0x%040x", 0x1000000u + i);
        json_array_append_new(to, json_string(a));
        json_array_append_new(amt, json_integer((json_int_t)i + 1));
    }
    gl_buf data = GL_BUF_INIT;
    tl_encode_call(&data, "golemTransferIndirect(address[],uint256[])", json_pack("[o,o]", to, amt));
    char *hex = gl_hex_encode_alloc(data.data, data.len, true);
    gl_buf_release(&data);
    return hex;
}

/* Send one payout (calldata hex); its tx hash into last (67 bytes). */
static TL_UNUSED void tl_glm_payout_send(tl_node *n, const tl_glm *g, const char *hex, char last[67])
{
    json_t *tx = json_pack("{s:s, s:s, s:s, s:s, s:s}", "from", n->acct[3], "to", g->payer, "data", hex, "gas",
                           "0x1c9c380", "maxFeePerGas", "0x174876e800");
    json_t *h = tl_rpc(n, "eth_sendTransaction", json_pack("[o]", tx));
    snprintf(last, 67, "%s", json_string_value(h));
    json_decref(h);
}

/* tl_glm_payouts with each transaction mined by hand, one a block:
 * anvil's automine falls behind a few thousand in a row. */
static TL_UNUSED void tl_glm_payouts_mined(tl_node *n, tl_glm *g, unsigned ntx, unsigned per_tx)
{
    char *hex = tl_glm_payout_hex(per_tx), last[67];
    tl_rpc_void(n, "evm_setAutomine", json_pack("[b]", 0));
    for (unsigned k = 0; k < ntx; k++) {
        tl_glm_payout_send(n, g, hex, last);
        tl_rpc_void(n, "evm_mine", NULL);
    }
    tl_rpc_void(n, "evm_setAutomine", json_pack("[b]", 1));
    free(hex);
    g->transfers += (uint64_t)ntx * (1 + per_tx);
}

static TL_UNUSED void tl_glm_payouts(tl_node *n, tl_glm *g, unsigned ntx, unsigned per_tx)
{
    char *hex = tl_glm_payout_hex(per_tx), last[67] = "";
    for (unsigned k = 0; k < ntx; k++)
        tl_glm_payout_send(n, g, hex, last);
    free(hex);
    /* anvil's automine can leave the last of a quick series pending until
     * another transaction arrives: mine whatever still waits. */
    for (int i = 0; i < 400; i++) {
        json_t *st = tl_rpc(n, "txpool_status", NULL);
        uint64_t pending = tl_qty(json_object_get(st, "pending"));
        json_decref(st);
        if (!pending)
            break;
        if (i >= 4)
            tl_rpc_void(n, "evm_mine", NULL);
        nanosleep(&(struct timespec){.tv_nsec = 50 * 1000 * 1000}, NULL);
    }
    if (ntx) {
        json_t *r = tl_wait_receipt(n, last);
        const char *st = json_string_value(json_object_get(r, "status"));
        if (!st || strcmp(st, "0x1"))
            fail_msg("golemTransferIndirect reverted");
        json_decref(r);
    }
    g->transfers += (uint64_t)ntx * (1 + per_tx);
}

/* GLM Transfer as the platform's only event (kind transfer). */
static TL_UNUSED char *tl_glm_def(const tl_glm *g, const char *name)
{
    char *t = NULL;
    assert_true(asprintf(&t,
        "{\"format\":\"gpuledger-platform/1\",\"name\":\"%s\",\"platform\":\"golem\",\"chain_id\":31337,"
        "\"confirmations\":0,"
        "\"contracts\":[{\"name\":\"GLM\",\"address\":\"%s\",\"start_block\":%" PRIu64 ",\"abis\":[{"
        "\"from_block\":%" PRIu64 ",\"to_block\":null,\"events\":["
        "\"event Transfer(address indexed from, address indexed to, uint256 value)\"]}]}],"
        "\"events\":{\"Transfer\":{\"kind\":\"transfer\",\"payer\":\"from\",\"provider\":\"to\","
        "\"amount\":\"value\",\"token\":\"log.address\"}}}",
        name, g->glm, g->start_block, g->start_block) >= 0);
    return t;
}

/* ------------------------------------------------------------- the binary */

static TL_UNUSED const char *tl_bin(void)
{
    const char *b = getenv("GPULEDGER_BIN");
    if (b && *b)
        return b;
    static char path[4200];
    char root[4096];
    assert_non_null(gl_test_root(root, sizeof root));
    snprintf(path, sizeof path, "%s/build/release/gpuledger", root);
    return path;
}

/* Start the binary with argv (NULL-terminated, argv[0] ignored); its
 * stdout/stderr go to `log` (appended) when not NULL, else /dev/null. */
static TL_UNUSED pid_t tl_spawn(const char *const *argv, const char *log)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int fd = open(log ? log : "/dev/null", O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
            close(fd);
        }
        execv(tl_bin(), (char *const *)argv);
        _exit(127);
    }
    return pid;
}

static TL_UNUSED int tl_wait(pid_t pid)
{
    int st;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* Wait for a child and report its own peak RSS in KiB (peakrss.h: not
 * wait4's, which counts this test's memory too). */
static TL_UNUSED int tl_wait_rss(pid_t pid, long *maxrss_kb)
{
    int st = gl_wait_peak_rss(pid, maxrss_kb, NULL);
    assert_true(st != -1);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* Run the binary to its end; the exit status.  Output appended to log. */
static TL_UNUSED int tl_run_bin(const char *const *argv, const char *log) { return tl_wait(tl_spawn(argv, log)); }

static TL_UNUSED char *tl_slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return strdup("");
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = calloc(1, (size_t)n + 1);
    if (fread(b, 1, (size_t)n, f) != (size_t)n)
        b[0] = '\0';
    fclose(f);
    return b;
}

#endif
