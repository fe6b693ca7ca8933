/* scc.c - Tarjan's strongly connected components, iterative (scc.h). */
#include <stdlib.h>
#include <string.h>

#include "gpuledger/scc.h"

gl_code gl_scc_edges(uint32_t n, const uint32_t (*ed)[2], size_t n_e, uint32_t **comp_out, uint32_t **size_out,
                     gl_err *err)
{
    size_t *off = calloc((size_t)n + 2, sizeof *off);
    uint32_t *adj = malloc((n_e + 1) * sizeof *adj);
    uint32_t *idx = malloc(((size_t)n + 1) * sizeof *idx), *low = malloc(((size_t)n + 1) * sizeof *low);
    uint32_t *stk = malloc(((size_t)n + 1) * sizeof *stk), *cs = malloc(((size_t)n + 1) * sizeof *cs);
    size_t *it = malloc(((size_t)n + 1) * sizeof *it);
    uint8_t *on = calloc((size_t)n + 1, 1);
    uint32_t *comp = malloc(((size_t)n + 1) * sizeof *comp), *size = calloc((size_t)n + 1, sizeof *size);
    gl_code rc = GL_OK;
    if (!off || !adj || !idx || !low || !stk || !cs || !it || !on || !comp || !size) {
        rc = gl_err_set(err, GL_ENOMEM, "out of memory finding cycles among %u vertices", n);
        free(comp);
        free(size);
        goto out;
    }
    for (size_t i = 0; i < n_e; i++)
        off[ed[i][0] + 1]++;
    for (uint32_t v = 0; v < n; v++)
        off[v + 1] += off[v];
    memcpy(it, off, (size_t)n * sizeof *it);
    for (size_t i = 0; i < n_e; i++)
        adj[it[ed[i][0]]++] = ed[i][1];
    for (uint32_t v = 0; v < n; v++)
        idx[v] = UINT32_MAX;
    uint32_t counter = 0, ncomp = 0;
    size_t sp = 0, csp = 0;
    for (uint32_t root = 0; root < n; root++) {
        if (idx[root] != UINT32_MAX)
            continue;
        cs[csp++] = root;
        idx[root] = low[root] = counter++;
        it[root] = off[root];
        stk[sp++] = root;
        on[root] = 1;
        while (csp) {
            uint32_t v = cs[csp - 1];
            if (it[v] < off[v + 1]) {
                uint32_t u = adj[it[v]++];
                if (idx[u] == UINT32_MAX) {
                    idx[u] = low[u] = counter++;
                    it[u] = off[u];
                    stk[sp++] = u;
                    on[u] = 1;
                    cs[csp++] = u;
                } else if (on[u] && idx[u] < low[v])
                    low[v] = idx[u];
                continue;
            }
            csp--;
            if (csp && low[v] < low[cs[csp - 1]])
                low[cs[csp - 1]] = low[v];
            if (low[v] == idx[v]) {
                uint32_t u;
                do {
                    u = stk[--sp];
                    on[u] = 0;
                    comp[u] = ncomp;
                    size[ncomp]++;
                } while (u != v);
                ncomp++;
            }
        }
    }
    *comp_out = comp;
    *size_out = size;
out:
    free(off);
    free(adj);
    free(idx);
    free(low);
    free(stk);
    free(cs);
    free(it);
    free(on);
    return rc;
}
