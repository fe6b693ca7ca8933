/* analysis.c - the analyzer's passes in order, and their parameters.
 *
 * hubs -> links -> entities -> scores, over one gl_graph.  The defaults are
 * set here and justified in docs/METHODS.md; they were set on simulator
 * seeds listed there and are reported on others.
 */
#include <stdlib.h>
#include <string.h>

#include "gpuledger/analysis.h"

void gl_analysis_params_default(gl_analysis_params *p)
{
    memset(p, 0, sizeof *p);
    p->hub_degree = 25;
    p->sweep_min_s = 60;
    p->sweep_max_s = 6 * 3600;
    p->sweep_gas_eth = 0.01;
    p->sweep_min_deposits = 2;
    p->fund_window_s = 48 * 3600;
    p->fund_cover = 0.5;
    p->settle_window_s = 72 * 3600;
    p->settle_min = 0.98;
    p->settle_max = 1.25;
    p->fresh_s = 48 * 3600;
    p->passthrough_share = 0.8;
    p->passthrough_max = 1.25;
    p->split_window_s = 2 * 3600;
    p->sync_window_s = 300;
    p->sync_min_times = 3;
    p->sponsor_min_wallets = 2;
    p->soft_merge = 0.8;
    p->soft_rules_min = 2;
    p->flag_min_score = 0.7;
    p->flag_min_families = 2;
}

json_t *gl_analysis_params_json(const gl_analysis_params *p)
{
    json_t *o = json_pack("{s:I,s:I,s:I,s:f,s:I,s:I,s:f,s:I,s:f,s:f,s:I,s:f,s:I,s:I,s:f,s:I,s:f,s:I}",
                     "hub_degree", (json_int_t)p->hub_degree, "sweep_min_s", (json_int_t)p->sweep_min_s,
                     "sweep_max_s", (json_int_t)p->sweep_max_s, "sweep_gas_eth", p->sweep_gas_eth,
                     "sweep_min_deposits", (json_int_t)p->sweep_min_deposits, "fund_window_s",
                     (json_int_t)p->fund_window_s, "fund_cover", p->fund_cover, "settle_window_s",
                     (json_int_t)p->settle_window_s, "settle_min", p->settle_min, "settle_max",
                     p->settle_max, "fresh_s", (json_int_t)p->fresh_s, "passthrough_share",
                     p->passthrough_share, "split_window_s", (json_int_t)p->split_window_s,
                     "sponsor_min_wallets", (json_int_t)p->sponsor_min_wallets, "soft_merge",
                     p->soft_merge, "soft_rules_min", (json_int_t)p->soft_rules_min, "flag_min_score",
                     p->flag_min_score, "flag_min_families", (json_int_t)p->flag_min_families);
    if (o)
        json_object_set_new(o, "passthrough_max", json_real(p->passthrough_max));
    if (o) {
        json_object_set_new(o, "sync_window_s", json_integer((json_int_t)p->sync_window_s));
        json_object_set_new(o, "sync_min_times", json_integer((json_int_t)p->sync_min_times));
    }
    return o;
}

gl_analysis *gl_analysis_run(const gl_graph *g, const gl_analysis_params *p, gl_err *err)
{
    gl_analysis *a = calloc(1, sizeof *a);
    if (!a) {
        gl_err_set(err, GL_ENOMEM, "out of memory");
        return NULL;
    }
    if (p)
        a->params = *p;
    else
        gl_analysis_params_default(&a->params);
    a->n_nodes = g->n_nodes;
    gl_code rc = gl_analysis_hubs(a, g, err);
    rc = rc ? rc : gl_analysis_links(a, g, err);
    rc = rc ? rc : gl_analysis_cluster(a, g, err);
    rc = rc ? rc : gl_analysis_score(a, g, err);
    rc = rc ? rc : gl_analysis_marks(a, g, err);
    if (rc) {
        gl_analysis_free(a);
        return NULL;
    }
    return a;
}

void gl_analysis_free(gl_analysis *a)
{
    if (!a)
        return;
    free(a->entity);
    free(a->entity_kind);
    free(a->hub);
    free(a->links);
    free(a->purchase_marks);
    for (size_t i = 0; i < a->n_scores; i++)
        free(a->scores[i].signals);
    free(a->scores);
    free(a);
}
