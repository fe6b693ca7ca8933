/* uf.h - union-find (disjoint sets) over the elements 0..n-1.
 *
 * Union by size and path halving: every operation is close to constant time,
 * nothing recurses (a chain of millions of unions needs no stack), and the
 * memory is two uint32_t per element.  Which element of a set is its root is
 * an implementation detail: compare roots for equality, or ask for
 * gl_uf_labels, whose ids depend only on the sets.
 *
 * A gl_uf is caller-owned: gl_uf_init allocates, gl_uf_release frees and
 * leaves it empty.  gl_uf_find writes (it shortens paths), so even a lookup
 * needs a mutable gl_uf; one gl_uf must not be used by two threads at once.
 * No global state.
 */
#ifndef GPULEDGER_UF_H
#define GPULEDGER_UF_H

#include <stdbool.h>
#include <stdint.h>

#include "gpuledger/err.h"

typedef struct gl_uf {
    uint32_t *parent; /* parent[x] == x for a root */
    uint32_t *size;   /* size[r]: the number of elements of root r's set */
    uint32_t n;       /* the elements are 0..n-1 */
} gl_uf;

/* n singletons {0}, {1}, ..., {n-1} (n may be 0).  GL_ENOMEM on failure,
 * with u left empty (NULL arrays, n 0) and safe to release. */
gl_code gl_uf_init(gl_uf *u, uint32_t n, gl_err *err);

/* Free the arrays and leave u empty.  u may be empty already. */
void gl_uf_release(gl_uf *u);

/* The root of x's set (x < u->n), halving the path on the way.  Cannot fail. */
uint32_t gl_uf_find(gl_uf *u, uint32_t x);

/* Join the sets of a and b (both < u->n): the smaller set goes under the
 * larger one's root, a's root on a tie.  Returns true when two sets were
 * joined, false when a and b were in one set already.  Cannot fail. */
bool gl_uf_union(gl_uf *u, uint32_t a, uint32_t b);

/* Dense set ids: label (OUT, u->n entries) gets for each element its set's
 * id, 0, 1, ... in order of each set's smallest element (so the result does
 * not depend on which element is a root).  Returns the number of sets.
 * u stays usable.  Cannot fail. */
uint32_t gl_uf_labels(gl_uf *u, uint32_t *label /* OUT */);

#endif
