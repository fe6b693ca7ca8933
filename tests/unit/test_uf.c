/* test_uf.c - union-find (uf.h).
 *
 * Oracles: small cases worked out by hand (which root wins each union, the
 * parent array after one path-halving find, the dense labels), and long
 * chains whose answer is known without running anything: 100,000 unions of
 * neighbours make one set of 100,001, and a find down a hand-built parent
 * chain of 1,000,000 links must return its end without recursing.  The
 * random comparison against naive label propagation is in test_components,
 * which runs this union-find through gl_graph_components.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "gpuledger/uf.h"

static void test_joins_by_hand(void **state)
{
    (void)state;
    gl_uf u;
    gl_err err = {0};
    assert_int_equal(gl_uf_init(&u, 6, &err), GL_OK);
    assert_int_equal(u.n, 6);
    for (uint32_t x = 0; x < 6; x++)
        assert_int_equal(gl_uf_find(&u, x), x);
    /* {0,1}: a tie, a's root 0 stays the root */
    assert_true(gl_uf_union(&u, 0, 1));
    assert_int_equal(u.parent[1], 0);
    assert_int_equal(u.size[0], 2);
    /* {2,3} under 2 */
    assert_true(gl_uf_union(&u, 2, 3));
    assert_int_equal(u.parent[3], 2);
    /* roots 0 and 2, sizes 2 and 2: a tie again, 0 wins */
    assert_true(gl_uf_union(&u, 1, 3));
    assert_int_equal(u.parent[2], 0);
    assert_int_equal(u.size[0], 4);
    /* 4 (size 1) against 0 (size 4): the larger set's root 0 wins though 4 came first */
    assert_true(gl_uf_union(&u, 4, 0));
    assert_int_equal(u.parent[4], 0);
    assert_int_equal(u.size[0], 5);
    /* one set already: nothing joined, nothing changed */
    assert_false(gl_uf_union(&u, 3, 4));
    assert_false(gl_uf_union(&u, 2, 2));
    assert_int_equal(u.size[0], 5);
    for (uint32_t x = 0; x < 5; x++)
        assert_int_equal(gl_uf_find(&u, x), 0);
    assert_int_equal(gl_uf_find(&u, 5), 5);
    uint32_t label[6];
    assert_int_equal(gl_uf_labels(&u, label), 2);
    static const uint32_t want[6] = {0, 0, 0, 0, 0, 1};
    for (uint32_t x = 0; x < 6; x++)
        assert_int_equal(label[x], want[x]);
    gl_uf_release(&u);
    assert_null(u.parent);
    assert_null(u.size);
    assert_int_equal(u.n, 0);
    gl_uf_release(&u); /* empty again: harmless */
}

/* find halves the path: each node it passes points to its grandparent */
static void test_find_halves_path(void **state)
{
    (void)state;
    gl_uf u;
    assert_int_equal(gl_uf_init(&u, 5, NULL), GL_OK);
    /* 4 -> 3 -> 2 -> 1 -> 0 by hand (unions by size never build this) */
    for (uint32_t x = 1; x < 5; x++)
        u.parent[x] = x - 1;
    /* x=4: parent[4] = parent[3] = 2, x = 2; x=2: parent[2] = parent[1] = 0, x = 0 */
    assert_int_equal(gl_uf_find(&u, 4), 0);
    static const uint32_t want[5] = {0, 0, 0, 2, 2};
    for (uint32_t x = 0; x < 5; x++)
        assert_int_equal(u.parent[x], want[x]);
    /* again: x=4: parent[4] = parent[2] = 0, x = 0 */
    assert_int_equal(gl_uf_find(&u, 4), 0);
    assert_int_equal(u.parent[4], 0);
    assert_int_equal(u.parent[3], 2);
    gl_uf_release(&u);
}

/* Labels are numbered by each set's smallest element, whichever is the root. */
static void test_labels_ignore_roots(void **state)
{
    (void)state;
    gl_uf u;
    assert_int_equal(gl_uf_init(&u, 5, NULL), GL_OK);
    assert_true(gl_uf_union(&u, 4, 1)); /* root 4 */
    assert_true(gl_uf_union(&u, 3, 0)); /* root 3 */
    assert_int_equal(gl_uf_find(&u, 1), 4);
    assert_int_equal(gl_uf_find(&u, 0), 3);
    uint32_t label[5];
    assert_int_equal(gl_uf_labels(&u, label), 3);
    static const uint32_t want[5] = {0, 1, 2, 0, 1};
    for (uint32_t x = 0; x < 5; x++)
        assert_int_equal(label[x], want[x]);
    /* still usable afterwards */
    assert_true(gl_uf_union(&u, 2, 0));
    assert_int_equal(gl_uf_labels(&u, label), 2);
    static const uint32_t want2[5] = {0, 1, 0, 0, 1};
    for (uint32_t x = 0; x < 5; x++)
        assert_int_equal(label[x], want2[x]);
    gl_uf_release(&u);
}

static void test_empty(void **state)
{
    (void)state;
    gl_uf u;
    assert_int_equal(gl_uf_init(&u, 0, NULL), GL_OK);
    assert_non_null(u.parent);
    assert_int_equal(gl_uf_labels(&u, NULL), 0);
    gl_uf_release(&u);
}

/* 100,000 unions in a line, both ways round, then one find down a chain of
 * 1,000,000 parents: all iterative, so no stack to overflow. */
static void test_long_chains(void **state)
{
    (void)state;
    enum { N = 100001, DEEP = 1000000 };
    gl_uf u;
    assert_int_equal(gl_uf_init(&u, N, NULL), GL_OK);
    for (uint32_t x = 0; x + 1 < N; x++)
        assert_true(gl_uf_union(&u, x, x + 1));
    uint32_t r = gl_uf_find(&u, N - 1);
    assert_int_equal(u.size[r], N);
    for (uint32_t x = 0; x < N; x++)
        assert_int_equal(gl_uf_find(&u, x), r);
    assert_false(gl_uf_union(&u, 0, N - 1));
    gl_uf_release(&u);

    assert_int_equal(gl_uf_init(&u, N, NULL), GL_OK);
    for (uint32_t x = N - 1; x > 0; x--)
        assert_true(gl_uf_union(&u, x, x - 1));
    uint32_t *label = malloc(N * sizeof *label);
    assert_non_null(label);
    assert_int_equal(gl_uf_labels(&u, label), 1);
    for (uint32_t x = 0; x < N; x++)
        assert_int_equal(label[x], 0);
    free(label);
    gl_uf_release(&u);

    assert_int_equal(gl_uf_init(&u, DEEP, NULL), GL_OK);
    for (uint32_t x = 1; x < DEEP; x++)
        u.parent[x] = x - 1;
    assert_int_equal(gl_uf_find(&u, DEEP - 1), 0);
    /* halved: the last node now points two links down, the next one is untouched */
    assert_int_equal(u.parent[DEEP - 1], DEEP - 3);
    assert_int_equal(u.parent[DEEP - 2], DEEP - 3);
    gl_uf_release(&u);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_joins_by_hand),      cmocka_unit_test(test_find_halves_path),
        cmocka_unit_test(test_labels_ignore_roots), cmocka_unit_test(test_empty),
        cmocka_unit_test(test_long_chains),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
