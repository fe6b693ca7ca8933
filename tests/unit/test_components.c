/* test_components.c - gl_graph_components (components.h).
 *
 * Oracles: a small graph whose components are written out by hand
 * (directions mixed, a self-transfer, addresses without transfers), and
 * seeded random graphs checked against naive label propagation (every
 * edge relabels its ends to the smaller label until nothing changes),
 * which shares no code with the union-find.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gpuledger/components.h"
#include "gpuledger/graph.h"

static gl_graph *graph_of(uint32_t n_nodes, const uint32_t (*ed)[2], size_t n_edges)
{
    gl_graph *g = calloc(1, sizeof *g);
    assert_non_null(g);
    g->nodes = calloc(n_nodes + 1, sizeof *g->nodes);
    g->edges = calloc(n_edges + 1, sizeof *g->edges);
    assert_non_null(g->nodes);
    assert_non_null(g->edges);
    g->n_nodes = n_nodes;
    for (size_t i = 0; i < n_edges; i++) {
        g->edges[i].src = ed[i][0];
        g->edges[i].dst = ed[i][1];
        g->edges[i].time = 1000 + i;
        g->edges[i].pos.block = i;
    }
    g->n_edges = n_edges;
    gl_err err = {0};
    assert_int_equal(gl_graph_index(g, &err), GL_OK);
    return g;
}

static void test_by_hand(void **state)
{
    (void)state;
    /* 0-1-2 (1->0, 1->2), 3 alone with a self-transfer, 4->5 and 6->5,
     * 7 and 8 without transfers, 9<->10 both ways */
    static const uint32_t ed[][2] = {{1, 0}, {1, 2}, {3, 3}, {4, 5}, {6, 5}, {9, 10}, {10, 9}};
    gl_graph *g = graph_of(11, ed, sizeof ed / sizeof ed[0]);
    gl_err err = {0};
    uint32_t *comp = NULL, n = 0;
    assert_int_equal(gl_graph_components(g, &comp, &n, &err), GL_OK);
    assert_int_equal(n, 4);
    static const uint32_t want[] = {0, 0, 0, 1, 2, 2, 2, GL_NODE_NONE, GL_NODE_NONE, 3, 3};
    for (uint32_t v = 0; v < 11; v++)
        assert_int_equal(comp[v], want[v]);
    free(comp);
    /* count only */
    n = 99;
    assert_int_equal(gl_graph_components(g, NULL, &n, &err), GL_OK);
    assert_int_equal(n, 4);
    gl_graph_free(g);
}

static void test_empty(void **state)
{
    (void)state;
    gl_graph *g = graph_of(3, NULL, 0);
    gl_err err = {0};
    uint32_t *comp = NULL, n = 99;
    assert_int_equal(gl_graph_components(g, &comp, &n, &err), GL_OK);
    assert_int_equal(n, 0);
    for (uint32_t v = 0; v < 3; v++)
        assert_int_equal(comp[v], GL_NODE_NONE);
    free(comp);
    gl_graph_free(g);
}

static uint64_t next_rand(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static void test_random_against_propagation(void **state)
{
    (void)state;
    uint64_t seed = 20261123;
    printf("seed %llu\n", (unsigned long long)seed);
    for (int round = 0; round < 50; round++) {
        uint32_t n = 1 + (uint32_t)(next_rand(&seed) % 300);
        size_t m = (size_t)(next_rand(&seed) % (2 * n));
        uint32_t(*ed)[2] = malloc((m + 1) * sizeof *ed);
        assert_non_null(ed);
        for (size_t i = 0; i < m; i++) {
            ed[i][0] = (uint32_t)(next_rand(&seed) % n);
            ed[i][1] = (uint32_t)(next_rand(&seed) % n);
        }
        gl_graph *g = graph_of(n, (const uint32_t(*)[2])ed, m);
        gl_err err = {0};
        uint32_t *comp = NULL, nc = 0;
        assert_int_equal(gl_graph_components(g, &comp, &nc, &err), GL_OK);
        /* oracle: labels propagate to a fixpoint over the original list */
        uint32_t *lab = malloc((n + 1) * sizeof *lab);
        uint8_t *touched = calloc(n + 1, 1);
        assert_non_null(lab);
        assert_non_null(touched);
        for (uint32_t v = 0; v < n; v++)
            lab[v] = v;
        for (size_t i = 0; i < m; i++)
            touched[ed[i][0]] = touched[ed[i][1]] = 1;
        for (int changed = 1; changed;) {
            changed = 0;
            for (size_t i = 0; i < m; i++) {
                uint32_t a = lab[ed[i][0]], b = lab[ed[i][1]], lo = a < b ? a : b;
                if (a != lo || b != lo) {
                    lab[ed[i][0]] = lab[ed[i][1]] = lo;
                    changed = 1;
                }
            }
        }
        uint32_t want = 0;
        for (uint32_t v = 0; v < n; v++)
            want += touched[v] && lab[v] == v;
        assert_int_equal(nc, want);
        for (uint32_t v = 0; v < n; v++) {
            if (!touched[v]) {
                assert_int_equal(comp[v], GL_NODE_NONE);
                continue;
            }
            for (uint32_t u = 0; u < v; u++)
                if (touched[u])
                    assert_int_equal(comp[u] == comp[v], lab[u] == lab[v]);
        }
        free(lab);
        free(touched);
        free(comp);
        free(ed);
        gl_graph_free(g);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_by_hand),
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_random_against_propagation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
