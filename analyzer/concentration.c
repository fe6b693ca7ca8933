/* concentration.c - concurrent GPUs held per buyer entity over time, by
 * model family (market.h).  A lease holds gpu_count GPUs from its block
 * time for its duration; an extension prolongs by its own duration from its
 * own time (how the chain records it: added hours, paid when added).  Every
 * start and end is an event; a point is written where an entity's total for
 * a family changes.
 */
#include <stdlib.h>
#include <string.h>

#include "gpuledger/market.h"

typedef struct ch {
    uint64_t time;
    uint64_t key;       /* entity (or 1<<32 | wallet node) */
    const char *family;
    int64_t delta;
} ch;

static int ch_cmp(const void *a, const void *b)
{
    const ch *x = a, *y = b;
    int c = strcmp(x->family, y->family);
    if (c)
        return c;
    if (x->key != y->key)
        return x->key < y->key ? -1 : 1;
    if (x->time != y->time)
        return x->time < y->time ? -1 : 1;
    return (x->delta > y->delta) - (x->delta < y->delta); /* ends before starts at one instant */
}

gl_code gl_concentration_run(gl_conc_point **out, size_t *n_out, size_t *skipped, const gl_market *m,
                             const char *family_filter, gl_err *err)
{
    *out = NULL;
    *n_out = *skipped = 0;
    const gl_graph *g = m->g;
    ch *v = malloc((2 * g->n_purchases + 1) * sizeof *v);
    gl_conc_point *pts = malloc((2 * g->n_purchases + 1) * sizeof *pts);
    if (!v || !pts) {
        free(v);
        free(pts);
        return gl_err_set(err, GL_ENOMEM, "out of memory");
    }
    size_t n = 0;
    for (size_t i = 0; i < g->n_purchases; i++) {
        const gl_purchase *p = &g->purchases[i];
        const gl_market_buy *b = &m->buys[i];
        const char *fam = b->model ? b->model->family : b->model_name;
        if (p->kind == GL_EVENT_EXTENSION && b->from_lease)
            continue; /* prolongs its lease's hold */
        if (!fam || !b->gpu_count || !b->hold_until) {
            if (!family_filter || (fam && !strcasecmp(fam, family_filter)))
                (*skipped)++;
            continue;
        }
        if (family_filter && strcasecmp(fam, family_filter))
            continue;
        uint64_t key = b->buyer_entity != GL_ENTITY_NONE ? b->buyer_entity : (1ull << 32) | p->actor;
        v[n++] = (ch){p->time, key, fam, (int64_t)b->gpu_count};
        v[n++] = (ch){b->hold_until, key, fam, -(int64_t)b->gpu_count};
    }
    qsort(v, n, sizeof *v, ch_cmp);
    size_t np = 0;
    int64_t held = 0;
    for (size_t i = 0; i < n;) {
        if (i && (v[i].key != v[i - 1].key || strcmp(v[i].family, v[i - 1].family)))
            held = 0;
        size_t j = i;
        while (j < n && v[j].key == v[i].key && v[j].time == v[i].time && !strcmp(v[j].family, v[i].family))
            held += v[j++].delta;
        pts[np++] = (gl_conc_point){v[i].time, (uint32_t)v[i].key, (v[i].key >> 32) != 0, v[i].family,
                                    (uint64_t)(held < 0 ? 0 : held)};
        i = j;
    }
    free(v);
    *out = pts;
    *n_out = np;
    return GL_OK;
}
