/* components.c - weakly connected components of the transfer edges
 * (components.h): union-find over the edge array. */
#include <stdlib.h>

#include "gpuledger/components.h"

static uint32_t find(uint32_t *parent, uint32_t x)
{
    while (parent[x] != x) {
        parent[x] = parent[parent[x]];
        x = parent[x];
    }
    return x;
}

gl_code gl_graph_components(const gl_graph *g, uint32_t **comp, uint32_t *n_comp, gl_err *err)
{
    uint32_t n = g->n_nodes;
    if (comp)
        *comp = NULL;
    *n_comp = 0;
    uint32_t *parent = malloc(((size_t)n + 1) * sizeof *parent);
    uint32_t *size = malloc(((size_t)n + 1) * sizeof *size);
    if (!parent || !size) {
        free(parent);
        free(size);
        return gl_err_set(err, GL_ENOMEM, "out of memory for the components of %u addresses", n);
    }
    /* size 0 marks an address no edge touches */
    for (uint32_t v = 0; v < n; v++) {
        parent[v] = v;
        size[v] = 0;
    }
    for (size_t i = 0; i < g->n_edges; i++) {
        uint32_t x = g->edges[i].src, y = g->edges[i].dst;
        if (!size[x])
            size[x] = 1;
        if (!size[y])
            size[y] = 1;
        x = find(parent, x);
        y = find(parent, y);
        if (x == y)
            continue;
        if (size[x] < size[y]) {
            uint32_t t = x;
            x = y;
            y = t;
        }
        parent[y] = x;
        size[x] += size[y];
    }
    /* Dense ids in order of each component's smallest node: the root's slot
     * in `size` is reused for its id once the sizes are no longer needed. */
    uint32_t count = 0;
    uint32_t *out = comp ? malloc(((size_t)n + 1) * sizeof *out) : NULL;
    if (comp && !out) {
        free(parent);
        free(size);
        return gl_err_set(err, GL_ENOMEM, "out of memory for the components of %u addresses", n);
    }
    uint8_t *touched = NULL;
    /* size[v] > 0 for every touched v; remember that before reusing size */
    touched = malloc((size_t)n + 1);
    if (!touched) {
        free(parent);
        free(size);
        free(out);
        return gl_err_set(err, GL_ENOMEM, "out of memory for the components of %u addresses", n);
    }
    for (uint32_t v = 0; v < n; v++)
        touched[v] = size[v] != 0;
    for (uint32_t v = 0; v < n; v++)
        size[v] = GL_NODE_NONE;
    for (uint32_t v = 0; v < n; v++) {
        if (!touched[v]) {
            if (out)
                out[v] = GL_NODE_NONE;
            continue;
        }
        uint32_t r = find(parent, v);
        if (size[r] == GL_NODE_NONE)
            size[r] = count++;
        if (out)
            out[v] = size[r];
    }
    free(touched);
    free(parent);
    free(size);
    if (comp)
        *comp = out;
    *n_comp = count;
    return GL_OK;
}
