/* uf.c - union-find: union by size, path halving (see uf.h). */
#include <stdlib.h>

#include "gpuledger/uf.h"

gl_code gl_uf_init(gl_uf *u, uint32_t n, gl_err *err)
{
    /* n + 1 so that n == 0 still allocates (malloc(0) may return NULL) */
    u->parent = malloc(((size_t)n + 1) * sizeof *u->parent);
    u->size = malloc(((size_t)n + 1) * sizeof *u->size);
    u->n = n;
    if (!u->parent || !u->size) {
        gl_uf_release(u);
        return gl_err_set(err, GL_ENOMEM, "out of memory for a union-find of %u elements", n);
    }
    for (uint32_t x = 0; x < n; x++) {
        u->parent[x] = x;
        u->size[x] = 1;
    }
    return GL_OK;
}

void gl_uf_release(gl_uf *u)
{
    free(u->parent);
    free(u->size);
    u->parent = u->size = NULL;
    u->n = 0;
}

uint32_t gl_uf_find(gl_uf *u, uint32_t x)
{
    while (u->parent[x] != x) {
        u->parent[x] = u->parent[u->parent[x]];
        x = u->parent[x];
    }
    return x;
}

bool gl_uf_union(gl_uf *u, uint32_t a, uint32_t b)
{
    a = gl_uf_find(u, a);
    b = gl_uf_find(u, b);
    if (a == b)
        return false;
    if (u->size[a] < u->size[b]) {
        uint32_t t = a;
        a = b;
        b = t;
    }
    u->parent[b] = a;
    u->size[a] += u->size[b];
    return true;
}

uint32_t gl_uf_labels(gl_uf *u, uint32_t *label)
{
    /* label[] doubles as the id of each root: visiting x in increasing order,
     * a root r < x already holds its set's id (given when r was visited), and
     * a root r > x holds UINT32_MAX until its set's smallest element is met. */
    uint32_t count = 0;
    for (uint32_t x = 0; x < u->n; x++)
        label[x] = UINT32_MAX;
    for (uint32_t x = 0; x < u->n; x++) {
        uint32_t r = gl_uf_find(u, x);
        if (label[r] == UINT32_MAX)
            label[r] = count++;
        label[x] = label[r];
    }
    return count;
}
