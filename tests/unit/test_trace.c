/* test_trace.c - following the money: the fund-flow subgraph (trace), the
 * path search (path), the wallet profile (wallet) and the graph writers
 * (JSON, CSV, DOT, GEXF, GraphML).
 *
 * Oracle: one store built by hand (blocks, transfers, events, labels) whose
 * every trace, path and sum below was worked out on paper from this
 * picture (block n has timestamp 1000 + 10 n; amounts in smallest units;
 * T is an ERC-20, everything else the native coin):
 *
 *          100 (b10)        60 (b12), 40 (b14), 5 (b9)       50 (b20)    30 (b21)
 *     A ------------> B ------------------------------> D ---------> F --------> G
 *     |                                                 ^
 *     | 250 T + 2^130 T (b11)           200 T (b13)     |  7 (b17)
 *     +------------> C -------------------------------->+<----------- H (exchange, labelled)
 *     |              |                                                ^   |
 *     |              +--> E  9 T (b5: before A's money reaches C)      |   +--> X 450 (b16)
 *     +------------------------------------------------------------ 500 (b15)
 *
 * The diamond A->B->D / A->C->D has different amounts and times; H is a
 * labelled exchange, a hub that must not be expanded (X is only behind
 * it); A->...->G is 4 hops (no path within 3); C->E happens before the
 * money reaches C (a path only when time order is ignored).
 * The XML files are parsed back with libxml2 and compared with the same
 * picture; DOT is handed to Graphviz's `dot -Tsvg` when it is installed.
 */
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlschemas.h>

#include "gpuledger/analysis.h"
#include "gpuledger/graph.h"
#include "gpuledger/graph_export.h"
#include "gpuledger/results.h"
#include "gpuledger/store.h"
#include "gpuledger/trace.h"
#include "gpuledger/wallet.h"

/* ------------------------------------------------------------- fixture */

enum { A = 0xa1, B = 0xb2, C = 0xc3, D = 0xd4, E = 0xe5, F = 0xf6, G = 0x07, H = 0x48, X = 0x59,
       T = 0x7a, P = 0x9b, Q = 0x9c, S = 0x5d };

#define H_LABEL "Exch \"A&B\" <hot> 'wallet'"
/* 2^130 + 250 */
#define AC_T_SUM "1361129467683753853853498429727072846074"

static char g_dir[512];

static void addr(uint8_t out[20], int b) { memset(out, b, 20); }

static uint64_t btime(uint64_t n) { return 1000 + 10 * n; }

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void ok(gl_code rc, const gl_err *err)
{
    if (rc != GL_OK)
        fail_msg("%s", err->msg);
}

static void put_transfer(gl_store_batch *b, uint64_t blk, bool token, uint32_t index, int from, int to,
                         uint64_t amount, uint64_t amount_w2)
{
    gl_store_transfer t;
    memset(&t, 0, sizeof t);
    t.pos = (gl_store_pos){1, blk, token ? GL_STORE_POS_LOG : GL_STORE_POS_TX, index, 0};
    t.asset = token ? GL_STORE_ASSET_ERC20 : GL_STORE_ASSET_NATIVE;
    if (token)
        addr(t.token, T);
    addr(t.from, from);
    addr(t.to, to);
    t.amount.w[0] = amount;
    t.amount.w[2] = amount_w2;
    memset(t.tx_hash, (int)(blk * 16 + index), 32);
    t.flags = GL_STORE_TX_SENDER_OK;
    gl_err err = {0};
    ok(gl_store_batch_put_transfer(b, &t, &err), &err);
}

static void put_lease(gl_store_batch *b, uint64_t blk, uint32_t li, const char *name, int buyer, int provider,
                      uint64_t amount, const char *model, uint64_t mhours)
{
    gl_store_event e;
    memset(&e, 0, sizeof e);
    e.chain_id = 1;
    e.block = blk;
    e.log_index = li;
    strcpy(e.platform, "spheron-base");
    strcpy(e.name, name);
    addr(e.contract, S);
    memset(e.tx_hash, 0x60 + (int)li, 32);
    e.n_roles = 2;
    e.roles[0].role = GL_STORE_ROLE_BUYER;
    addr(e.roles[0].addr, buyer);
    e.roles[1].role = GL_STORE_ROLE_PROVIDER;
    addr(e.roles[1].addr, provider);
    e.has_amount = true;
    e.amount.w[0] = amount;
    e.has_token = true;
    addr(e.token, T);
    snprintf(e.gpu_model, sizeof e.gpu_model, "%s", model);
    e.gpu_count = 8;
    e.gpu_mhours = mhours;
    gl_err err = {0};
    ok(gl_store_batch_put_event(b, &e, &err), &err);
}

static void put_label(gl_store_batch *b, int who, const char *label, const char *cat)
{
    gl_store_label l;
    memset(&l, 0, sizeof l);
    addr(l.addr, who);
    snprintf(l.source, sizeof l.source, "test");
    snprintf(l.label, sizeof l.label, "%s", label);
    snprintf(l.category, sizeof l.category, "%s", cat);
    l.confidence = 900;
    gl_err err = {0};
    ok(gl_store_batch_put_label(b, &l, &err), &err);
}

static int setup(void **state)
{
    (void)state;
    const char *base = getenv("TMPDIR");
    snprintf(g_dir, sizeof g_dir, "%s/gl_trace_XXXXXX", base && base[0] ? base : "/tmp");
    if (!mkdtemp(g_dir))
        return -1;
    strcat(g_dir, "/store");
    gl_err err = {0};
    gl_store_open_opts o = {.create = true, .created_by = "test_trace"};
    gl_store *s = gl_store_open(g_dir, &o, &err);
    if (!s) {
        fprintf(stderr, "open: %s\n", err.msg);
        return -1;
    }
    gl_store_batch *b = gl_store_batch_new(s, &err);
    for (uint64_t n = 1; n <= 25; n++) {
        gl_store_block blk;
        memset(&blk, 0, sizeof blk);
        blk.chain_id = 1;
        blk.number = n;
        memset(blk.hash, (int)n, 32);
        memset(blk.parent_hash, (int)n - 1, 32);
        blk.timestamp = btime(n);
        ok(gl_store_batch_put_block(b, &blk, &err), &err);
    }
    put_transfer(b, 9, false, 0, B, D, 5, 0);
    put_transfer(b, 10, false, 0, A, B, 100, 0);
    put_transfer(b, 11, true, 0, A, C, 250, 0);
    put_transfer(b, 11, true, 1, A, C, 0, 4); /* 2^130: past the graph's 128 bits */
    put_transfer(b, 12, false, 0, B, D, 60, 0);
    put_transfer(b, 13, true, 0, C, D, 200, 0);
    put_transfer(b, 14, false, 1, B, D, 40, 0);
    put_transfer(b, 15, false, 0, A, H, 500, 0);
    put_transfer(b, 16, false, 0, H, X, 450, 0);
    put_transfer(b, 17, false, 0, H, D, 7, 0);
    put_transfer(b, 5, true, 0, C, E, 9, 0);
    put_transfer(b, 20, false, 0, D, F, 50, 0);
    put_transfer(b, 21, false, 0, F, G, 30, 0);
    put_lease(b, 11, 5, "LeaseCreated", A, P, 1000, "NVIDIA H100", 16500);
    put_lease(b, 15, 6, "LeaseCreated", Q, A, 300, "RTX 4090", 2000);
    put_lease(b, 16, 7, "OrderCreated", A, P, 77, "", 0);
    put_label(b, H, H_LABEL, "exchange");
    put_label(b, T, "TestUSD", "token");
    uint8_t h[32];
    memset(h, 25, 32);
    ok(gl_store_batch_set_cursor(b, 1, "spheron-base", 25, h, &err), &err);
    ok(gl_store_batch_commit(b, &err), &err);
    gl_store_batch_free(b);
    gl_store_close(s);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char *slash = strrchr(g_dir, '/');
    *slash = 0;
    nftw(g_dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    return 0;
}

/* The store, its graph and a trace context. */
typedef struct world {
    gl_store *s;
    gl_graph *g;
    gl_trace_ctx *c;
} world;

static void world_open(world *w)
{
    gl_err err = {0};
    gl_store_open_opts o = {.read_only = true};
    w->s = gl_store_open(g_dir, &o, &err);
    if (!w->s)
        fail_msg("open: %s", err.msg);
    w->g = gl_graph_load(w->s, NULL, NULL, &err);
    if (!w->g)
        fail_msg("load: %s", err.msg);
    w->c = gl_trace_ctx_new(w->g, w->s, 0, &err);
    if (!w->c)
        fail_msg("ctx: %s", err.msg);
}

static void world_close(world *w)
{
    gl_trace_ctx_free(w->c);
    gl_graph_free(w->g);
    gl_store_close(w->s);
}

static uint32_t node(const world *w, int b)
{
    uint8_t a[20];
    addr(a, b);
    uint32_t v = gl_graph_find(w->g, a);
    assert_int_not_equal(v, GL_NODE_NONE);
    return v;
}

static long fnode(const gl_flow *f, int b)
{
    uint8_t a[20];
    addr(a, b);
    for (size_t i = 0; i < f->n_nodes; i++)
        if (!memcmp(f->nodes[i].addr, a, 20))
            return (long)i;
    return -1;
}

static const gl_flow_edge *fedge(const gl_flow *f, int from, int to)
{
    long a = fnode(f, from), b = fnode(f, to);
    for (size_t i = 0; a >= 0 && b >= 0 && i < f->n_edges; i++)
        if (f->edges[i].src == (uint32_t)a && f->edges[i].dst == (uint32_t)b)
            return &f->edges[i];
    return NULL;
}

/* The edge's sum for the native coin (token 0) or T, as decimal. */
static const char *esum(const gl_flow *f, const gl_flow_edge *e, bool token, char out[GL_U256_DEC_MAX])
{
    for (size_t i = 0; i < e->n_amounts; i++) {
        uint32_t t = e->amounts[i].token;
        bool is_t = t && f->tokens[t].addr[0] == T;
        if (is_t == token)
            return gl_u256_to_dec(&e->amounts[i].amount, out);
    }
    return "(none)";
}

static void expect_nodes(const gl_flow *f, const int *bytes, const uint32_t *hops, size_t n)
{
    assert_int_equal(f->n_nodes, n);
    for (size_t i = 0; i < n; i++) {
        uint8_t a[20];
        addr(a, bytes[i]);
        if (memcmp(f->nodes[i].addr, a, 20))
            fail_msg("node %zu is not 0x%02x...", i, bytes[i]);
        assert_int_equal(f->nodes[i].hop, hops[i]);
    }
}

/* --------------------------------------------------------------- trace */

static void test_trace_out(void **state)
{
    (void)state;
    world w;
    world_open(&w);
    assert_false(gl_trace_ctx_has_analysis(w.c, NULL));
    gl_err err = {0};
    gl_flow *f = NULL;
    gl_trace_opts o = {.direction = GL_TRACE_OUT, .hops = 2};
    ok(gl_trace_subgraph(w.c, node(&w, A), &o, &f, &err), &err);
    /* BFS order: A; its out-edges by time B (b10), C (b11), H (b15); then
     * B's D, C's E (b5) - H is a hub and not expanded, so X is absent. */
    const int want[] = {A, B, C, H, D, E};
    const uint32_t hops[] = {0, 1, 1, 1, 2, 2};
    expect_nodes(f, want, hops, 6);
    assert_true(f->nodes[0].root && f->nodes[0].expanded);
    assert_true(f->nodes[3].hub);
    assert_false(f->nodes[3].expanded);
    assert_string_equal(f->nodes[3].kind, "exchange");
    assert_false(f->nodes[3].kind_from_analysis);
    assert_string_equal(f->nodes[3].label, H_LABEL);
    assert_false(f->nodes[4].expanded); /* hop 2 = K: the frontier */
    assert_int_equal(f->nodes[1].entity, -1);
    assert_int_equal(fnode(f, X), -1);
    assert_false(f->truncated);
    assert_int_equal(f->n_edges, 6);
    char d[GL_U256_DEC_MAX];
    const gl_flow_edge *e = fedge(f, A, B);
    assert_non_null(e);
    assert_string_equal(esum(f, e, false, d), "100");
    assert_int_equal(e->n_transfers, 1);
    assert_int_equal(e->transfers[0].pos.block, 10);
    assert_int_equal(e->transfers[0].time, btime(10));
    assert_true(e->transfers[0].has_tx_hash);
    assert_int_equal(e->transfers[0].tx_hash[0], 10 * 16);
    e = fedge(f, A, C);
    assert_non_null(e);
    assert_string_equal(esum(f, e, true, d), AC_T_SUM); /* exact past 2^128 */
    assert_int_equal(e->n_transfers, 2);
    assert_string_equal(f->tokens[e->amounts[0].token].label, "TestUSD");
    e = fedge(f, B, D);
    assert_non_null(e);
    assert_string_equal(esum(f, e, false, d), "105");
    assert_int_equal(e->n_transfers, 3);
    assert_int_equal(e->transfers[0].pos.block, 9); /* by time */
    assert_int_equal(e->transfers[2].pos.block, 14);
    assert_int_equal(e->transfers[2].pos.index, 1);
    assert_int_equal(e->first_time, btime(9));
    assert_int_equal(e->last_time, btime(14));
    assert_string_equal(esum(f, fedge(f, C, D), true, d), "200");
    assert_string_equal(esum(f, fedge(f, C, E), true, d), "9");
    assert_string_equal(esum(f, fedge(f, A, H), false, d), "500");
    assert_null(fedge(f, H, X));
    gl_flow_free(f);
    world_close(&w);
}

static void test_trace_filters(void **state)
{
    (void)state;
    world w;
    world_open(&w);
    gl_err err = {0};
    gl_flow *f = NULL;
    char d[GL_U256_DEC_MAX];
    /* Transfers of at least 100: B's 60, 40 and 5 and C's 9 drop out. */
    gl_trace_opts o = {.direction = GL_TRACE_OUT, .hops = 2, .filter = {.min_amount = 100}};
    ok(gl_trace_subgraph(w.c, node(&w, A), &o, &f, &err), &err);
    const int want1[] = {A, B, C, H, D};
    const uint32_t hops1[] = {0, 1, 1, 1, 2};
    expect_nodes(f, want1, hops1, 5);
    assert_int_equal(f->n_edges, 4);
    assert_null(fedge(f, B, D));
    assert_string_equal(esum(f, fedge(f, C, D), true, d), "200");
    gl_flow_free(f);
    /* Blocks 11..13 only: A->C, C->D. */
    gl_trace_opts o2 = {.direction = GL_TRACE_OUT, .hops = 2, .filter = {.since = btime(11), .until = btime(13)}};
    ok(gl_trace_subgraph(w.c, node(&w, A), &o2, &f, &err), &err);
    const int want2[] = {A, C, D};
    const uint32_t hops2[] = {0, 1, 2};
    expect_nodes(f, want2, hops2, 3);
    assert_int_equal(f->n_edges, 2);
    gl_flow_free(f);
    /* Where D's money came from, one hop: B (b9), C (b13), H (b17). */
    gl_trace_opts o3 = {.direction = GL_TRACE_IN, .hops = 1};
    ok(gl_trace_subgraph(w.c, node(&w, D), &o3, &f, &err), &err);
    const int want3[] = {D, B, C, H};
    const uint32_t hops3[] = {0, 1, 1, 1};
    expect_nodes(f, want3, hops3, 4);
    assert_string_equal(esum(f, fedge(f, B, D), false, d), "105");
    assert_string_equal(esum(f, fedge(f, H, D), false, d), "7");
    gl_flow_free(f);
    /* A hub asked about is expanded (it is the root). */
    gl_trace_opts o4 = {.direction = GL_TRACE_OUT, .hops = 1};
    ok(gl_trace_subgraph(w.c, node(&w, H), &o4, &f, &err), &err);
    const int want4[] = {H, X, D};
    const uint32_t hops4[] = {0, 1, 1};
    expect_nodes(f, want4, hops4, 3);
    assert_true(f->nodes[0].hub && f->nodes[0].expanded);
    gl_flow_free(f);
    /* Both ways from B, one hop, capped at 2 nodes: truncated. */
    gl_trace_opts o5 = {.direction = GL_TRACE_BOTH, .hops = 1, .max_nodes = 2};
    ok(gl_trace_subgraph(w.c, node(&w, B), &o5, &f, &err), &err);
    assert_int_equal(f->n_nodes, 2);
    assert_true(f->truncated);
    gl_flow_free(f);
    /* At least 10^6: only the 2^130 T transfer A->C (its 128-bit copy
     * saturates, and a saturated amount is above any threshold). */
    gl_trace_opts o6 = {.direction = GL_TRACE_BOTH, .hops = 3, .filter = {.min_amount = 1000000}};
    ok(gl_trace_subgraph(w.c, node(&w, A), &o6, &f, &err), &err);
    const int want6[] = {A, C};
    const uint32_t hops6[] = {0, 1};
    expect_nodes(f, want6, hops6, 2);
    assert_int_equal(f->n_edges, 1);
    assert_int_equal(f->edges[0].n_transfers, 1);
    assert_string_equal(esum(f, &f->edges[0], true, d), "1361129467683753853853498429727072845824");
    gl_flow_free(f);
    /* Nothing passes (a window after the last block): the root alone. */
    gl_trace_opts o7 = {.direction = GL_TRACE_BOTH, .hops = 3, .filter = {.since = btime(100)}};
    ok(gl_trace_subgraph(w.c, node(&w, A), &o7, &f, &err), &err);
    assert_int_equal(f->n_nodes, 1);
    assert_int_equal(f->n_edges, 0);
    gl_flow_free(f);
    /* Bad arguments. */
    gl_trace_opts bad = {.direction = GL_TRACE_OUT, .hops = 0};
    assert_int_equal(gl_trace_subgraph(w.c, node(&w, A), &bad, &f, &err), GL_EINVAL);
    world_close(&w);
}

/* --------------------------------------------------------------- paths */

static void expect_path(const world *w, const gl_path *p, const int *bytes, size_t n)
{
    assert_int_equal(p->n_hops, n - 1);
    for (size_t i = 0; i + 1 < n; i++) {
        assert_int_equal(p->hops[i].src, node(w, bytes[i]));
        assert_int_equal(p->hops[i].dst, node(w, bytes[i + 1]));
    }
}

static void test_paths_diamond(void **state)
{
    (void)state;
    world w;
    world_open(&w);
    gl_err err = {0};
    gl_paths ps;
    gl_path_opts o = {.max_hops = 4};
    ok(gl_trace_paths(w.c, node(&w, A), node(&w, D), &o, &ps, &err), &err);
    assert_int_equal(ps.n_paths, 2);
    assert_false(ps.truncated);
    const int p1[] = {A, B, D}, p2[] = {A, C, D};
    expect_path(&w, &ps.paths[0], p1, 3); /* B's money arrives first (b10) */
    expect_path(&w, &ps.paths[1], p2, 3);
    /* Time-respecting: B->D counts only what left B after A's 100 arrived
     * (b12: 60, b14: 40), not the 5 of b9. */
    assert_int_equal(ps.paths[0].hops[0].arrival, btime(10));
    assert_int_equal(ps.paths[0].hops[1].n_edges, 2);
    assert_int_equal(ps.paths[0].hops[1].arrival, btime(12));
    assert_int_equal(ps.paths[1].hops[0].n_edges, 2);
    assert_int_equal(ps.paths[1].hops[1].arrival, btime(13));
    gl_flow *f = NULL;
    char d[GL_U256_DEC_MAX];
    ok(gl_trace_path_flow(w.c, &ps.paths[0], &f, &err), &err);
    assert_int_equal(f->n_edges, 2);
    assert_string_equal(esum(f, &f->edges[0], false, d), "100");
    assert_string_equal(esum(f, &f->edges[1], false, d), "100");
    assert_true(f->nodes[0].root && f->nodes[2].root && !f->nodes[1].root);
    gl_flow_free(f);
    ok(gl_trace_path_flow(w.c, &ps.paths[1], &f, &err), &err);
    assert_string_equal(esum(f, &f->edges[0], true, d), AC_T_SUM);
    assert_string_equal(esum(f, &f->edges[1], true, d), "200");
    assert_int_equal(f->edges[1].transfers[0].pos.block, 13);
    assert_int_equal(f->edges[1].transfers[0].pos.kind, GL_STORE_POS_LOG);
    gl_flow_free(f);
    /* The union of both: A, B, C, D and four hops. */
    ok(gl_trace_paths_flow(w.c, &ps, &f, &err), &err);
    assert_int_equal(f->n_nodes, 4);
    assert_int_equal(f->n_edges, 4);
    gl_flow_free(f);
    gl_paths_release(&ps);
    /* In any order, B->D has all three transfers (105). */
    o.any_order = true;
    o.max_paths = 1;
    ok(gl_trace_paths(w.c, node(&w, A), node(&w, D), &o, &ps, &err), &err);
    assert_int_equal(ps.n_paths, 1);
    assert_int_equal(ps.paths[0].hops[1].n_edges, 3);
    ok(gl_trace_path_flow(w.c, &ps.paths[0], &f, &err), &err);
    assert_string_equal(esum(f, &f->edges[1], false, d), "105");
    gl_flow_free(f);
    gl_paths_release(&ps);
    world_close(&w);
}

static void test_paths_none(void **state)
{
    (void)state;
    world w;
    world_open(&w);
    gl_err err = {0};
    gl_paths ps;
    /* A to G is four hops: nothing within three, two within four. */
    gl_path_opts o = {.max_hops = 3};
    ok(gl_trace_paths(w.c, node(&w, A), node(&w, G), &o, &ps, &err), &err);
    assert_int_equal(ps.n_paths, 0);
    gl_paths_release(&ps);
    o.max_hops = 4;
    ok(gl_trace_paths(w.c, node(&w, A), node(&w, G), &o, &ps, &err), &err);
    assert_int_equal(ps.n_paths, 2);
    const int p1[] = {A, B, D, F, G}, p2[] = {A, C, D, F, G};
    expect_path(&w, &ps.paths[0], p1, 5);
    expect_path(&w, &ps.paths[1], p2, 5);
    gl_paths_release(&ps);
    /* X is only behind the exchange: no path through a hub. */
    ok(gl_trace_paths(w.c, node(&w, A), node(&w, X), &o, &ps, &err), &err);
    assert_int_equal(ps.n_paths, 0);
    gl_paths_release(&ps);
    /* ... but the exchange itself may start one. */
    ok(gl_trace_paths(w.c, node(&w, H), node(&w, X), &o, &ps, &err), &err);
    assert_int_equal(ps.n_paths, 1);
    gl_paths_release(&ps);
    /* C paid E before A's money reached C. */
    ok(gl_trace_paths(w.c, node(&w, A), node(&w, E), &o, &ps, &err), &err);
    assert_int_equal(ps.n_paths, 0);
    gl_paths_release(&ps);
    o.any_order = true;
    ok(gl_trace_paths(w.c, node(&w, A), node(&w, E), &o, &ps, &err), &err);
    assert_int_equal(ps.n_paths, 1);
    const int p3[] = {A, C, E};
    expect_path(&w, &ps.paths[0], p3, 3);
    gl_paths_release(&ps);
    /* Money does not flow backwards. */
    ok(gl_trace_paths(w.c, node(&w, D), node(&w, A), &o, &ps, &err), &err);
    assert_int_equal(ps.n_paths, 0);
    gl_paths_release(&ps);
    assert_int_equal(gl_trace_paths(w.c, node(&w, A), node(&w, A), &o, &ps, &err), GL_EINVAL);
    world_close(&w);
}

/* ------------------------------------------------------------- writers */

static xmlNode *child(xmlNode *n, const char *name)
{
    for (xmlNode *c = n ? n->children : NULL; c; c = c->next)
        if (c->type == XML_ELEMENT_NODE && !strcmp((const char *)c->name, name))
            return c;
    return NULL;
}

static size_t count_children(xmlNode *n, const char *name)
{
    size_t k = 0;
    for (xmlNode *c = n ? n->children : NULL; c; c = c->next)
        k += c->type == XML_ELEMENT_NODE && !strcmp((const char *)c->name, name);
    return k;
}

static char *prop(xmlNode *n, const char *name)
{
    return (char *)xmlGetProp(n, BAD_CAST name);
}

static bool prop_is(xmlNode *n, const char *name, const char *want)
{
    char *v = prop(n, name);
    bool eq = v && !strcmp(v, want);
    xmlFree(v);
    return eq;
}

/* The value a GEXF node/edge holds for attribute `id` (NULL: none). */
static char *gexf_att(xmlNode *n, const char *id)
{
    for (xmlNode *c = child(child(n, "attvalues"), "attvalue"); c; c = c->next)
        if (c->type == XML_ELEMENT_NODE && prop_is(c, "for", id))
            return prop(c, "value");
    return NULL;
}

static void expect_gexf_att(xmlNode *n, const char *id, const char *want)
{
    char *v = gexf_att(n, id);
    if (!want) {
        if (v)
            fail_msg("attribute %s is '%s', expected none", id, v);
        return;
    }
    if (!v || strcmp(v, want))
        fail_msg("attribute %s is '%s', expected '%s'", id, v ? v : "(none)", want);
    xmlFree(v);
}

static xmlNode *by_id(xmlNode *list, const char *elem, int b)
{
    char hex[43];
    uint8_t a[20];
    addr(a, b);
    gl_addr_hex(a, hex);
    for (xmlNode *c = list ? list->children : NULL; c; c = c->next)
        if (c->type == XML_ELEMENT_NODE && !strcmp((const char *)c->name, elem) && prop_is(c, "id", hex))
            return c;
    return NULL;
}

static xmlNode *edge_between(xmlNode *list, int from, int to)
{
    char ha[43], hb[43];
    uint8_t a[20], b[20];
    addr(a, from);
    addr(b, to);
    gl_addr_hex(a, ha);
    gl_addr_hex(b, hb);
    for (xmlNode *c = list ? list->children : NULL; c; c = c->next)
        if (c->type == XML_ELEMENT_NODE && !strcmp((const char *)c->name, "edge") && prop_is(c, "source", ha) &&
            prop_is(c, "target", hb))
            return c;
    return NULL;
}

static gl_flow *trace_a(world *w)
{
    gl_err err = {0};
    gl_flow *f = NULL;
    gl_trace_opts o = {.direction = GL_TRACE_OUT, .hops = 2};
    ok(gl_trace_subgraph(w->c, node(w, A), &o, &f, &err), &err);
    return f;
}

static void test_gexf(void **state)
{
    (void)state;
    world w;
    world_open(&w);
    gl_flow *f = trace_a(&w);
    gl_buf b = GL_BUF_INIT;
    gl_err err = {0};
    ok(gl_flow_write(f, GL_FLOW_GEXF, &b, &err), &err);
    xmlDoc *doc = xmlReadMemory((const char *)b.data, (int)b.len, "trace.gexf", NULL, XML_PARSE_NONET);
    assert_non_null(doc);
    xmlNode *root = xmlDocGetRootElement(doc);
    assert_string_equal((const char *)root->name, "gexf");
    assert_non_null(root->ns);
    assert_string_equal((const char *)root->ns->href, "http://gexf.net/1.3");
    assert_true(prop_is(root, "version", "1.3"));
    xmlNode *graph = child(root, "graph");
    assert_true(prop_is(graph, "defaultedgetype", "directed"));
    /* Every attvalue refers to a declared attribute of its class. */
    char declared[2][16][32];
    size_t nd[2] = {0, 0};
    for (xmlNode *at = graph->children; at; at = at->next) {
        if (at->type != XML_ELEMENT_NODE || strcmp((const char *)at->name, "attributes"))
            continue;
        int cls = prop_is(at, "class", "edge");
        for (xmlNode *a = child(at, "attribute"); a; a = a->next)
            if (a->type == XML_ELEMENT_NODE) {
                char *id = prop(a, "id");
                snprintf(declared[cls][nd[cls]++], 32, "%s", id);
                xmlFree(id);
            }
    }
    assert_int_equal(nd[0], 10);
    assert_int_equal(nd[1], 4);
    xmlNode *nodes = child(graph, "nodes"), *edges = child(graph, "edges");
    assert_int_equal(count_children(nodes, "node"), 6);
    assert_int_equal(count_children(edges, "edge"), 6);
    for (int cls = 0; cls < 2; cls++)
        for (xmlNode *n = (cls ? edges : nodes)->children; n; n = n->next) {
            if (n->type != XML_ELEMENT_NODE)
                continue;
            for (xmlNode *v = child(child(n, "attvalues"), "attvalue"); v; v = v->next) {
                if (v->type != XML_ELEMENT_NODE)
                    continue;
                char *id = prop(v, "for");
                bool found = false;
                for (size_t k = 0; k < nd[cls]; k++)
                    found |= !strcmp(declared[cls][k], id);
                if (!found)
                    fail_msg("attvalue for undeclared '%s'", id);
                xmlFree(id);
            }
        }
    /* The exchange: its label survives escaping, it is a hub, not scored. */
    xmlNode *h = by_id(nodes, "node", H);
    assert_non_null(h);
    assert_true(prop_is(h, "label", H_LABEL));
    expect_gexf_att(h, "label", H_LABEL);
    expect_gexf_att(h, "kind", "exchange");
    expect_gexf_att(h, "category", "exchange");
    expect_gexf_att(h, "hub", "true");
    expect_gexf_att(h, "hop", "1");
    expect_gexf_att(h, "entity", NULL); /* no analysis */
    expect_gexf_att(h, "flag_score", NULL);
    xmlNode *a = by_id(nodes, "node", A);
    expect_gexf_att(a, "root", "true");
    expect_gexf_att(a, "hub", "false");
    expect_gexf_att(a, "kind", NULL);
    /* Edges: weight = transfers; amounts per token, exact. */
    xmlNode *bd = edge_between(edges, B, D);
    assert_non_null(bd);
    assert_true(prop_is(bd, "weight", "3"));
    expect_gexf_att(bd, "amounts", "105 native");
    expect_gexf_att(bd, "transfers", "3");
    expect_gexf_att(bd, "first_time", "1090");
    expect_gexf_att(bd, "last_time", "1140");
    xmlNode *ac = edge_between(edges, A, C);
    char want[128];
    snprintf(want, sizeof want, "%s 0x%s", AC_T_SUM, "7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a");
    expect_gexf_att(ac, "amounts", want);
    assert_null(edge_between(edges, H, X));
    xmlFreeDoc(doc);
    gl_buf_release(&b);
    gl_flow_free(f);
    world_close(&w);
}

static char *graphml_data(xmlNode *n, const char *key)
{
    for (xmlNode *c = n->children; c; c = c->next)
        if (c->type == XML_ELEMENT_NODE && !strcmp((const char *)c->name, "data") && prop_is(c, "key", key))
            return (char *)xmlNodeGetContent(c);
    return NULL;
}

static void expect_data(xmlNode *n, const char *key, const char *want)
{
    char *v = graphml_data(n, key);
    if (!want) {
        if (v)
            fail_msg("data %s is '%s', expected none", key, v);
        return;
    }
    if (!v || strcmp(v, want))
        fail_msg("data %s is '%s', expected '%s'", key, v ? v : "(none)", want);
    xmlFree(v);
}

static void test_graphml(void **state)
{
    (void)state;
    world w;
    world_open(&w);
    gl_flow *f = trace_a(&w);
    gl_buf b = GL_BUF_INIT;
    gl_err err = {0};
    ok(gl_flow_write(f, GL_FLOW_GRAPHML, &b, &err), &err);
    xmlDoc *doc = xmlReadMemory((const char *)b.data, (int)b.len, "trace.graphml", NULL, XML_PARSE_NONET);
    assert_non_null(doc);
    xmlNode *root = xmlDocGetRootElement(doc);
    assert_string_equal((const char *)root->name, "graphml");
    assert_string_equal((const char *)root->ns->href, "http://graphml.graphdrawing.org/xmlns");
    /* Keys: the node attributes, the edge attributes and the weight; every
     * data element names one of them. */
    size_t nkeys = count_children(root, "key");
    assert_int_equal(nkeys, 10 + 4 + 1);
    xmlNode *graph = child(root, "graph");
    assert_true(prop_is(graph, "edgedefault", "directed"));
    assert_int_equal(count_children(graph, "node"), 6);
    assert_int_equal(count_children(graph, "edge"), 6);
    for (xmlNode *n = graph->children; n; n = n->next) {
        if (n->type != XML_ELEMENT_NODE)
            continue;
        const char *want_for = strcmp((const char *)n->name, "node") ? "edge" : "node";
        for (xmlNode *d = n->children; d; d = d->next) {
            if (d->type != XML_ELEMENT_NODE)
                continue;
            char *k = prop(d, "key");
            bool found = false;
            for (xmlNode *key = child(root, "key"); key; key = key->next)
                if (key->type == XML_ELEMENT_NODE && prop_is(key, "id", k) && prop_is(key, "for", want_for))
                    found = true;
            if (!found)
                fail_msg("data key '%s' is not a declared %s key", k, want_for);
            xmlFree(k);
        }
    }
    xmlNode *h = by_id(graph, "node", H);
    assert_non_null(h);
    expect_data(h, "n_label", H_LABEL);
    expect_data(h, "n_kind", "exchange");
    expect_data(h, "n_hub", "true");
    expect_data(h, "n_entity", NULL);
    xmlNode *bd = edge_between(graph, B, D);
    assert_non_null(bd);
    expect_data(bd, "e_weight", "3");
    expect_data(bd, "e_amounts", "105 native");
    xmlFreeDoc(doc);
    gl_buf_release(&b);
    gl_flow_free(f);
    world_close(&w);
}

/* ------------------------------------------ independent readers (issue 12) */

/* A public schema file below $GPULEDGER_SCHEMAS, else below
 * ../shared/vectors/schemas beside the repository (public material is kept
 * there, never copied into the tree: README.md).  False when absent. */
static bool schema_file(const char *rel, char *out, size_t cap)
{
    const char *dir = getenv("GPULEDGER_SCHEMAS"), *root = getenv("GPULEDGER_ROOT");
    if (dir && dir[0])
        snprintf(out, cap, "%s/%s", dir, rel);
    else
        snprintf(out, cap, "%s/../shared/vectors/schemas/%s", root && root[0] ? root : ".", rel);
    return access(out, R_OK) == 0;
}

/* How many ways `doc` breaks the XSD at `xsd` (0: valid); libxml2 prints
 * each on stderr. */
static int xsd_errors(const char *xsd, const char *doc, size_t len)
{
    xmlSchemaParserCtxtPtr pc = xmlSchemaNewParserCtxt(xsd);
    xmlSchemaPtr schema = pc ? xmlSchemaParse(pc) : NULL;
    xmlSchemaFreeParserCtxt(pc);
    if (!schema)
        fail_msg("cannot read the schema %s", xsd);
    xmlDoc *d = xmlReadMemory(doc, (int)len, "flow.xml", NULL, XML_PARSE_NONET);
    assert_non_null(d);
    xmlSchemaValidCtxtPtr vc = xmlSchemaNewValidCtxt(schema);
    assert_non_null(vc);
    int rc = xmlSchemaValidateDoc(vc, d);
    xmlSchemaFreeValidCtxt(vc);
    xmlFreeDoc(d);
    xmlSchemaFree(schema);
    assert_true(rc >= 0); /* < 0: libxml2's own failure, not a verdict */
    return rc;
}

/* The GEXF of `f` against the official GEXF 1.3 schema (the version the
 * file declares).  A copy with a broken edge weight must fail, so a
 * validator that accepts anything cannot pass this.  False: no schema. */
static bool gexf_valid(const gl_flow *f)
{
    char xsd[1024];
    if (!schema_file("gexf/1.3/gexf.xsd", xsd, sizeof xsd))
        return false;
    gl_buf b = GL_BUF_INIT;
    gl_err err = {0};
    ok(gl_flow_write(f, GL_FLOW_GEXF, &b, &err), &err);
    ok(gl_buf_push(&b, 0, &err), &err);
    if (xsd_errors(xsd, (const char *)b.data, b.len - 1))
        fail_msg("the GEXF breaks %s (libxml2's reasons above)", xsd);
    char *w = strstr((char *)b.data, "weight=\"");
    assert_non_null(w);
    w[8] = 'x'; /* weight="x..": not a float */
    fprintf(stderr, "gexf_valid: a broken copy, which must fail (libxml2 says why):\n");
    assert_true(xsd_errors(xsd, (const char *)b.data, b.len - 1) > 0);
    gl_buf_release(&b);
    return true;
}

static void write_file(const char *path, const gl_flow *f, gl_flow_format fmt)
{
    gl_buf b = GL_BUF_INIT;
    gl_err err = {0};
    ok(gl_flow_write(f, fmt, &b, &err), &err);
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(b.data, 1, b.len, fp), b.len);
    assert_int_equal(fclose(fp), 0);
    gl_buf_release(&b);
}

/* networkx (an independent parser) reads the GEXF and GraphML of `f` back
 * and compares them with its JSON (tests/support/check_graph_readers.py).
 * False: networkx is not installed. */
static bool networkx_agrees(const gl_flow *f)
{
    char js[600], gx[600], gm[600], cmd[2600];
    const char *root = getenv("GPULEDGER_ROOT");
    snprintf(js, sizeof js, "%s.flow.json", g_dir);
    snprintf(gx, sizeof gx, "%s.flow.gexf", g_dir);
    snprintf(gm, sizeof gm, "%s.flow.graphml", g_dir);
    write_file(js, f, GL_FLOW_JSON);
    write_file(gx, f, GL_FLOW_GEXF);
    write_file(gm, f, GL_FLOW_GRAPHML);
    /* The first python3 with networkx: the machine's own may have it from
     * pip; setup.sh installs Debian's, which only /usr/bin/python3 sees. */
    snprintf(cmd, sizeof cmd,
             "for p in python3 /usr/bin/python3; do if $p -c 'import networkx' 2>/dev/null; then "
             "exec $p '%s/tests/support/check_graph_readers.py' '%s' '%s' '%s'; fi; done; exit 77",
             root && root[0] ? root : ".", js, gx, gm);
    int rc = system(cmd);
    remove(js);
    remove(gx);
    remove(gm);
    if (WIFEXITED(rc) && WEXITSTATUS(rc) == 77)
        return false;
    if (!WIFEXITED(rc) || WEXITSTATUS(rc) != 0)
        fail_msg("networkx read the GEXF/GraphML differently from the JSON (above)");
    return true;
}

/* Both checks on one flow; says on stderr which could not run. */
static void independent_readers(const char *who, const gl_flow *f)
{
    bool xsd = gexf_valid(f), nx = networkx_agrees(f);
    if (!xsd)
        fprintf(stderr, "%s: no GEXF schema (gexf/1.3/gexf.xsd under $GPULEDGER_SCHEMAS or "
                        "../shared/vectors/schemas): the GEXF was not validated\n", who);
    if (!nx)
        fprintf(stderr, "%s: networkx is not installed (apt-get install python3-networkx): "
                        "the files were not read back by it\n", who);
    if (!xsd && !nx)
        skip();
}

static void test_independent_readers(void **state)
{
    (void)state;
    world w;
    world_open(&w);
    gl_flow *f = trace_a(&w);
    /* No wallet of the fixture is scored (none is a flagged buyer), so B
     * gets a score here: one whose decimal needs 17 digits, to see it
     * travel as exactly as the JSON's. */
    f->nodes[1].scored = f->nodes[1].flagged = true;
    f->nodes[1].score = 2.0 / 3.0;
    independent_readers("test_independent_readers", f);
    gl_flow_free(f);
    world_close(&w);
}

static void test_dot_csv_json(void **state)
{
    (void)state;
    world w;
    world_open(&w);
    gl_flow *f = trace_a(&w);
    gl_err err = {0};
    /* JSON: parses, and says what the flow holds. */
    gl_buf b = GL_BUF_INIT;
    ok(gl_flow_write(f, GL_FLOW_JSON, &b, &err), &err);
    json_error_t je;
    json_t *j = json_loadb((const char *)b.data, b.len, 0, &je);
    assert_non_null(j);
    assert_int_equal(json_array_size(json_object_get(j, "nodes")), 6);
    assert_int_equal(json_array_size(json_object_get(j, "edges")), 6);
    assert_string_equal(json_string_value(json_object_get(json_object_get(j, "query"), "direction")), "out");
    json_decref(j);
    gl_buf_release(&b);
    /* CSV: a header and one row per transfer (1 + 2 + 1 + 3 + 1 + 1). */
    ok(gl_flow_write(f, GL_FLOW_CSV, &b, &err), &err);
    size_t lines = 0;
    for (size_t i = 0; i < b.len; i++)
        lines += b.data[i] == '\n';
    assert_int_equal(lines, 1 + 9);
    gl_buf_push(&b, 0, NULL);
    assert_non_null(strstr((const char *)b.data, "\"" "Exch \"\"A&B\"\" <hot> 'wallet'" "\""));
    gl_buf_release(&b);
    /* DOT: Graphviz renders it. */
    ok(gl_flow_write(f, GL_FLOW_DOT, &b, &err), &err);
    char path[600], svg[620], cmd[1400];
    snprintf(path, sizeof path, "%s.dot", g_dir);
    snprintf(svg, sizeof svg, "%s.svg", g_dir);
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(b.data, 1, b.len, fp), b.len);
    fclose(fp);
    gl_buf_release(&b);
    gl_flow_free(f);
    world_close(&w);
    if (system("command -v dot >/dev/null 2>&1") != 0) {
        remove(path);
        fprintf(stderr, "test_dot_csv_json: Graphviz 'dot' is not installed (apt-get install graphviz): "
                        "the DOT output was not rendered\n");
        skip();
    }
    snprintf(cmd, sizeof cmd, "dot -Tsvg '%s' -o '%s'", path, svg);
    assert_int_equal(system(cmd), 0);
    struct stat st;
    assert_int_equal(stat(svg, &st), 0);
    assert_true(st.st_size > 100);
    remove(path);
    remove(svg);
}

static void test_utf8_clean(void **state)
{
    (void)state;
    char out[32];
    assert_string_equal(gl_utf8_clean("ok \xc3\xa9", out, sizeof out), "ok \xc3\xa9");
    assert_string_equal(gl_utf8_clean("a\xff" "b\xc3", out, sizeof out), "a?b?");
    assert_string_equal(gl_utf8_clean("\xe0\x80\x80", out, sizeof out), "???"); /* overlong */
    assert_string_equal(gl_utf8_clean("abcdef", out, 4), "abc");
    uint64_t t;
    assert_int_equal(gl_trace_parse_time("2024-05-01", &t, NULL), GL_OK);
    assert_int_equal(t, 1714521600);
    assert_int_equal(gl_trace_parse_time("2024-05-01T00:00:10Z", &t, NULL), GL_OK);
    assert_int_equal(t, 1714521610);
    assert_int_equal(gl_trace_parse_time("1234", &t, NULL), GL_OK);
    assert_int_equal(t, 1234);
    assert_int_equal(gl_trace_parse_time("yesterday", &t, NULL), GL_EINVAL);
}

/* -------------------------------------------------------------- wallet */

static json_t *group_with(json_t *groups, int b)
{
    char hex[43];
    uint8_t a[20];
    addr(a, b);
    gl_addr_hex(a, hex);
    for (size_t i = 0; i < json_array_size(groups); i++) {
        json_t *g = json_array_get(groups, i), *ad = json_object_get(g, "addresses");
        for (size_t k = 0; k < json_array_size(ad); k++)
            if (!strcmp(json_string_value(json_array_get(ad, k)), hex))
                return g;
    }
    return NULL;
}

static const char *amount_of(json_t *amounts, const char *token)
{
    for (size_t i = 0; i < json_array_size(amounts); i++) {
        json_t *a = json_array_get(amounts, i);
        if (!strcmp(json_string_value(json_object_get(a, "token")), token))
            return json_string_value(json_object_get(a, "amount"));
    }
    return "(none)";
}

#define T_HEX "0x7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a"

static void test_wallet_profile(void **state)
{
    (void)state;
    gl_err err = {0};
    gl_store_open_opts oo = {.read_only = true};
    gl_store *s = gl_store_open(g_dir, &oo, &err);
    assert_non_null(s);
    uint8_t a[20];
    addr(a, A);
    json_t *w = NULL;
    ok(gl_wallet_profile(s, a, NULL, &w, &err), &err);
    /* Appearances: 4 transfers as sender, 3 events as buyer or provider. */
    assert_int_equal(json_integer_value(json_object_get(w, "appearances")), 7);
    json_t *first = json_object_get(w, "first_seen"), *last = json_object_get(w, "last_seen");
    assert_int_equal(json_integer_value(json_object_get(first, "block")), 10);
    assert_int_equal(json_integer_value(json_object_get(first, "time")), btime(10));
    assert_int_equal(json_integer_value(json_object_get(last, "block")), 16);
    json_t *flows = json_object_get(w, "flows");
    assert_int_equal(json_array_size(json_object_get(flows, "in")), 0);
    json_t *out = json_object_get(flows, "out");
    assert_int_equal(json_array_size(out), 3);
    assert_string_equal(amount_of(json_object_get(group_with(out, B), "amounts"), "native"), "100");
    assert_string_equal(amount_of(json_object_get(group_with(out, C), "amounts"), T_HEX), AC_T_SUM);
    json_t *hg = group_with(out, H);
    assert_string_equal(amount_of(json_object_get(hg, "amounts"), "native"), "500");
    assert_string_equal(json_string_value(json_object_get(hg, "label")), H_LABEL);
    assert_true(json_is_null(json_object_get(hg, "entity")));
    json_t *tot = json_object_get(flows, "out_totals");
    assert_string_equal(amount_of(tot, "native"), "600");
    assert_string_equal(amount_of(tot, T_HEX), AC_T_SUM);
    /* Platforms: one purchase (1000 T), one sale (300 T); OrderCreated is
     * an event of kind "other", neither. */
    json_t *plats = json_object_get(w, "platforms");
    assert_int_equal(json_array_size(plats), 1);
    json_t *p = json_array_get(plats, 0);
    assert_string_equal(json_string_value(json_object_get(p, "platform")), "spheron-base");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(p, "events"), "LeaseCreated")), 2);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(p, "events"), "OrderCreated")), 1);
    json_t *pu = json_object_get(p, "purchases"), *sa = json_object_get(p, "sales");
    assert_int_equal(json_integer_value(json_object_get(pu, "count")), 1);
    assert_string_equal(amount_of(json_object_get(pu, "amounts"), T_HEX), "1000");
    assert_int_equal(json_integer_value(json_object_get(sa, "count")), 1);
    assert_string_equal(amount_of(json_object_get(sa, "amounts"), T_HEX), "300");
    json_t *leases = json_object_get(w, "leases");
    assert_int_equal(json_array_size(leases), 2);
    json_t *l0 = json_array_get(leases, 0); /* latest first: the sale at block 15 */
    assert_string_equal(json_string_value(json_object_get(l0, "side")), "sale");
    assert_int_equal(json_integer_value(json_object_get(l0, "block")), 15);
    assert_string_equal(json_string_value(json_object_get(json_array_get(leases, 1), "side")), "purchase");
    json_t *gh = json_object_get(w, "gpu_hours");
    assert_int_equal(json_array_size(gh), 2);
    for (size_t i = 0; i < 2; i++) {
        json_t *m = json_array_get(gh, i);
        const char *model = json_string_value(json_object_get(m, "model"));
        if (!strcmp(model, "NVIDIA H100")) {
            assert_string_equal(json_string_value(json_object_get(m, "bought")), "16.500");
            assert_string_equal(json_string_value(json_object_get(m, "sold")), "0.000");
        } else {
            assert_string_equal(model, "RTX 4090");
            assert_string_equal(json_string_value(json_object_get(m, "sold")), "2.000");
        }
    }
    assert_true(json_is_null(json_object_get(w, "analysis")));
    json_decref(w);
    /* A wallet the store never saw: a profile of nothing. */
    addr(a, 0x33);
    ok(gl_wallet_profile(s, a, NULL, &w, &err), &err);
    assert_int_equal(json_integer_value(json_object_get(w, "appearances")), 0);
    assert_true(json_is_null(json_object_get(w, "first_seen")));
    json_decref(w);
    gl_store_close(s);
}

/* ------------------------------------------------------- with analysis */

static void test_with_analysis(void **state)
{
    (void)state;
    gl_err err = {0};
    /* Analyse the store (as `gpuledger analyze` does), then trace again. */
    gl_store *s = gl_store_open(g_dir, NULL, &err);
    assert_non_null(s);
    gl_graph *g = gl_graph_load(s, NULL, NULL, &err);
    assert_non_null(g);
    gl_analysis *an = gl_analysis_run(g, NULL, &err);
    assert_non_null(an);
    ok(gl_results_write(s, g, an, &err), &err);
    gl_analysis_free(an);
    gl_graph_free(g);
    gl_store_close(s);
    world w;
    world_open(&w);
    bool stale = true;
    assert_true(gl_trace_ctx_has_analysis(w.c, &stale));
    assert_false(stale);
    gl_flow *f = trace_a(&w);
    /* Same picture: the exchange is still a hub by its entity's kind. */
    long h = fnode(f, H);
    assert_true(h >= 0);
    assert_true(f->nodes[h].hub);
    assert_true(f->nodes[h].kind_from_analysis);
    assert_string_equal(f->nodes[h].kind, "exchange");
    assert_true(f->nodes[h].entity >= 0);
    assert_int_equal(fnode(f, X), -1);
    for (size_t i = 0; i < f->n_nodes; i++)
        assert_true(f->nodes[i].entity >= 0);
    /* The files again, now with every node's entity in them. */
    independent_readers("test_with_analysis", f);
    gl_flow_free(f);
    uint8_t a[20];
    addr(a, A);
    json_t *wj = NULL;
    ok(gl_wallet_profile(w.s, a, NULL, &wj, &err), &err);
    json_t *ana = json_object_get(wj, "analysis");
    assert_true(json_is_object(ana));
    assert_true(json_is_object(json_object_get(ana, "entity")));
    assert_true(json_is_integer(json_object_get(group_with(json_object_get(json_object_get(wj, "flows"), "out"), H),
                                                "entity")));
    json_decref(wj);
    world_close(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_trace_out),     cmocka_unit_test(test_trace_filters),
        cmocka_unit_test(test_paths_diamond), cmocka_unit_test(test_paths_none),
        cmocka_unit_test(test_gexf),          cmocka_unit_test(test_graphml),
        cmocka_unit_test(test_independent_readers),
        cmocka_unit_test(test_dot_csv_json),  cmocka_unit_test(test_utf8_clean),
        cmocka_unit_test(test_wallet_profile), cmocka_unit_test(test_with_analysis),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
