/* marks.c - which purchases are self-dealing or circular (for volume).
 *
 * Self-dealing: the wallet that paid and the provider paid are one entity.
 * Circular: the buyer's entity and the provider's entity sit on one cycle
 * of the entity graph "bought from" (a ring of providers leasing each
 * other's capacity, the money going round).  Cycles are strongly connected
 * components of two or more entities (scc.h).  Known false positive: two
 * unrelated providers who each once rented the other's GPUs form a cycle.
 */
#include <stdlib.h>

#include "gpuledger/analysis.h"
#include "gpuledger/scc.h"

gl_code gl_analysis_marks(gl_analysis *a, const gl_graph *g, gl_err *err)
{
    a->purchase_marks = calloc(g->n_purchases + 1, 1);
    uint32_t(*ed)[2] = malloc((g->n_purchases + 1) * sizeof *ed);
    if (!a->purchase_marks || !ed) {
        free(ed);
        return gl_err_set(err, GL_ENOMEM, "out of memory marking purchases");
    }
    size_t n = 0;
    for (size_t i = 0; i < g->n_purchases; i++) {
        const gl_purchase *p = &g->purchases[i];
        if (p->provider == GL_NODE_NONE)
            continue;
        uint32_t eb = a->entity[p->actor], ep = a->entity[p->provider];
        if (eb == ep) {
            a->purchase_marks[i] |= GL_MARK_SELF_DEALING;
            continue;
        }
        ed[n][0] = eb;
        ed[n][1] = ep;
        n++;
    }
    uint32_t *comp = NULL, *size = NULL;
    gl_code rc = gl_scc_edges(a->n_entities, (const uint32_t(*)[2])ed, n, &comp, &size, err);
    for (size_t i = 0; !rc && i < g->n_purchases; i++) {
        const gl_purchase *p = &g->purchases[i];
        if (p->provider == GL_NODE_NONE || (a->purchase_marks[i] & GL_MARK_SELF_DEALING))
            continue;
        uint32_t cb = comp[a->entity[p->actor]];
        if (cb == comp[a->entity[p->provider]] && size[cb] >= 2)
            a->purchase_marks[i] |= GL_MARK_CIRCULAR;
    }
    free(comp);
    free(size);
    free(ed);
    return rc;
}
