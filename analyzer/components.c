/* components.c - weakly connected components of the transfer edges
 * (components.h): a union-find (uf.h) over the edge array. */
#include <stdlib.h>

#include "gpuledger/components.h"
#include "gpuledger/uf.h"

gl_code gl_graph_components(const gl_graph *g, uint32_t **comp, uint32_t *n_comp, gl_err *err)
{
    uint32_t n = g->n_nodes;
    if (comp)
        *comp = NULL;
    *n_comp = 0;
    gl_uf u;
    gl_code urc = gl_uf_init(&u, n, NULL);
    uint8_t *touched = calloc((size_t)n + 1, 1); /* 0: an address no edge touches */
    uint32_t *out = comp ? malloc(((size_t)n + 1) * sizeof *out) : NULL;
    if (urc || !touched || (comp && !out)) {
        gl_uf_release(&u);
        free(touched);
        free(out);
        return gl_err_set(err, GL_ENOMEM, "out of memory for the components of %u addresses", n);
    }
    for (size_t i = 0; i < g->n_edges; i++) {
        uint32_t x = g->edges[i].src, y = g->edges[i].dst;
        touched[x] = touched[y] = 1;
        gl_uf_union(&u, x, y);
    }
    /* Every node of a set is touched (an edge made it), so is its root. */
    uint32_t count = 0;
    if (!out) {
        for (uint32_t v = 0; v < n; v++)
            count += touched[v] && gl_uf_find(&u, v) == v;
    } else {
        /* Dense ids in order of each component's smallest node, untouched
         * addresses left out: out[] doubles as the id of each root, as in
         * gl_uf_labels (a root below v already holds its id, one above holds
         * GL_NODE_NONE until its component's smallest node is met). */
        for (uint32_t v = 0; v < n; v++)
            out[v] = GL_NODE_NONE;
        for (uint32_t v = 0; v < n; v++) {
            if (!touched[v])
                continue;
            uint32_t r = gl_uf_find(&u, v);
            if (out[r] == GL_NODE_NONE)
                out[r] = count++;
            out[v] = out[r];
        }
    }
    gl_uf_release(&u);
    free(touched);
    if (comp)
        *comp = out;
    *n_comp = count;
    return GL_OK;
}
