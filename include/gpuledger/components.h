/* components.h - connected components of the transfer graph.
 *
 * Two addresses are in one component when a chain of transfers joins them,
 * in either direction (weakly connected components of the edges of a
 * gl_graph).  Only addresses that sent or received a transfer take part: an
 * address the store saw only as a tx sender, an event role or a token
 * contract has no component, so the count is the one any graph library
 * gives for the same edge list (networkx's number_connected_components on
 * the (src, dst) pairs).  A self-transfer makes a component of one.
 *
 * A union-find (uf.h: union by size, path halving) over the edge array:
 * linear in the edges for every practical purpose, no recursion, two
 * uint32_t and a byte per address of memory (and the ids asked for).  No
 * global state.
 */
#ifndef GPULEDGER_COMPONENTS_H
#define GPULEDGER_COMPONENTS_H

#include <stddef.h>
#include <stdint.h>

#include "gpuledger/err.h"
#include "gpuledger/graph.h"

/* The components of g's transfer edges.  *n_comp (OUT) is their number.
 * comp (OUT, may be NULL when only the count is wanted): a malloc'd array
 * of g->n_nodes ids, dense 0..*n_comp-1 in order of each component's
 * smallest node id, GL_NODE_NONE for an address without transfers; the
 * caller frees it.  Works on any gl_graph whose edges and nodes are set
 * (gl_graph_load, or gl_graph_index on arrays built elsewhere).
 * On error GL_ENOMEM, nothing allocated, *comp NULL and *n_comp 0. */
gl_code gl_graph_components(const gl_graph *g, uint32_t **comp /* OUT */, uint32_t *n_comp /* OUT */,
                            gl_err *err);

#endif
