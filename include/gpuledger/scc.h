/* scc.h - strongly connected components of a directed edge list.
 *
 * Money that goes round (a ring of providers leasing each other's capacity)
 * is a cycle in a "funds -> buys from" graph; the analyzer finds cycles as
 * components of two or more vertices (or a vertex with a loop to itself,
 * reported with size 1 and loop set).  Tarjan's algorithm, iterative, so
 * millions of vertices need no deep recursion.
 */
#ifndef GPULEDGER_SCC_H
#define GPULEDGER_SCC_H

#include <stddef.h>
#include <stdint.h>

#include "gpuledger/err.h"

/* comp[v] (malloc'd, n entries) gets v's component; size[c] (malloc'd) the
 * vertices in component c.  Edges are (from, to) pairs, both < n.  GL_ENOMEM. */
gl_code gl_scc_edges(uint32_t n, const uint32_t (*edges)[2], size_t n_edges, uint32_t **comp /* OUT */,
                     uint32_t **size /* OUT */, gl_err *err);

#endif
