/* results_store.c - the analysis in the store's `analysis` family.
 *
 * Keys (docs/STORE.md): "s" stamp, "p" parameters, "e/"+u32be entity record,
 * "m/"+addr member -> u32be entity id, "f/"+addr wallet score record,
 * "x/"+position purchase marks.  A run writes every record but the stamp in
 * key order into table files that replace the family in one step
 * (gl_store_analysis_writer; evidence as positions only: tx hashes are
 * resolved when records are read back), then the stamp "s" goes last in a
 * batch of its own: it records what was read
 * (record counts, cursors, definition hashes) and the store's sequence
 * number as of its own write.  Anything written after it (indexing,
 * expanding, importing, labelling) moves the sequence on: the analysis is
 * stale.  A kill before the stamp leaves an analysis without one, which
 * readers treat as none.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpuledger/results.h"

json_t *gl_results_stamp(gl_store *s, const gl_graph *g, gl_err *err)
{
    json_t *cur = json_array();
    gl_store_iter *it = gl_store_iter_cursors(s, err);
    if (!it || !cur) {
        json_decref(cur);
        gl_store_iter_free(it);
        return NULL;
    }
    gl_code rc;
    for (;;) {
        gl_store_cursor c;
        bool end;
        if ((rc = gl_store_next_cursor(it, &c, &end, err)) || end)
            break;
        json_array_append_new(cur, json_pack("{s:I,s:s,s:I}", "chain_id", (json_int_t)c.chain_id, "name", c.name,
                                             "block", (json_int_t)c.block));
    }
    gl_store_iter_free(it);
    if (rc) {
        json_decref(cur);
        return NULL;
    }
    /* Each platform's definition hash: analysing with another definition
     * reads other kinds of events, so a changed definition is staleness too. */
    json_t *defs = json_object();
    uint64_t *ids = NULL;
    char(*names)[GL_STORE_NAME_MAX] = NULL;
    size_t nb = 0;
    if (!defs || gl_store_list_bindings(s, &ids, &names, &nb, err)) {
        json_decref(cur);
        json_decref(defs);
        return NULL;
    }
    for (size_t i = 0; i < nb; i++) {
        uint8_t h[GL_STORE_HASH_LEN];
        bool found = false;
        if (gl_store_get_platform_hash(s, names[i], h, &found, err)) {
            free(ids);
            free(names);
            json_decref(cur);
            json_decref(defs);
            return NULL;
        }
        char hex[2 * GL_STORE_HASH_LEN + 1];
        for (int j = 0; j < GL_STORE_HASH_LEN; j++)
            snprintf(hex + 2 * j, 3, "%02x", h[j]);
        json_object_set_new(defs, names[i], found ? json_string(hex) : json_null());
    }
    free(ids);
    free(names);
    /* The records the analysis read, counted as the graph read them. */
    return json_pack("{s:o,s:I,s:I,s:I,s:I,s:I,s:o}", "definitions", defs, "events", (json_int_t)g->n_store_events,
                     "transfers", (json_int_t)g->n_store_transfers, "txs", (json_int_t)g->n_store_txs, "blocks",
                     (json_int_t)g->n_store_blocks, "labels", (json_int_t)g->n_store_labels, "cursors", cur);
}

/* One record, compact JSON, into the writer's table files.  Records go
 * straight into table files in key order (gl_store_analysis_writer):
 * through batches, the write-ahead log, the memtable, its flush and the
 * compactions after it, writing a 10M-transfer analysis cost more than
 * reading the store. */
static gl_code put_json(gl_store_analysis_writer *w, const void *k, size_t kl, json_t *j, gl_err *err)
{
    if (!j)
        return gl_err_set(err, GL_ENOMEM, "out of memory building a result record");
    char *txt = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    if (!txt)
        return gl_err_set(err, GL_ENOMEM, "out of memory");
    gl_code rc = gl_store_analysis_writer_put(w, k, kl, txt, strlen(txt), err);
    free(txt);
    return rc;
}

static void be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* Node ids ordered by address (the "m/" and "f/" keys).  qsort_r keeps the
 * graph beside the comparison without a global. */
static int addr_cmp(const void *x, const void *y, void *ctx)
{
    const gl_graph *g = ctx;
    return memcmp(g->nodes[*(const uint32_t *)x].addr, g->nodes[*(const uint32_t *)y].addr, 20);
}

/* Score indices ordered by their wallet's address. */
typedef struct score_order { const gl_graph *g; const gl_analysis *a; } score_order;

static int score_addr_cmp(const void *x, const void *y, void *ctx)
{
    const score_order *o = ctx;
    return memcmp(o->g->nodes[o->a->scores[*(const uint32_t *)x].node].addr,
                  o->g->nodes[o->a->scores[*(const uint32_t *)y].node].addr, 20);
}

static void sort_by_addr(const gl_graph *g, uint32_t *ids, size_t n)
{
    if (n > 1)
        qsort_r(ids, n, sizeof *ids, addr_cmp, (void *)g);
}

/* "x/" + chain id + block (both u64 be) + log index (u32 be): a purchase's
 * marks, written and read through this one layout. */
static void marks_key(uint64_t chain_id, uint64_t block, uint32_t log_index, uint8_t k[22])
{
    k[0] = 'x';
    k[1] = '/';
    for (int j = 0; j < 8; j++) {
        k[2 + j] = (uint8_t)(chain_id >> (56 - 8 * j));
        k[10 + j] = (uint8_t)(block >> (56 - 8 * j));
    }
    be32(k + 18, log_index);
}

static void purchase_key(const gl_graph *g, const gl_purchase *pu, uint8_t k[22])
{
    gl_store_pos pos = gl_graph_pos(g, &pu->pos);
    marks_key(pos.chain_id, pos.block, pos.index, k);
}

static int purchase_key_cmp(const void *x, const void *y, void *ctx)
{
    const gl_graph *g = ctx;
    uint8_t a[22], b[22];
    purchase_key(g, &g->purchases[*(const uint32_t *)x], a);
    purchase_key(g, &g->purchases[*(const uint32_t *)y], b);
    return memcmp(a, b, 22);
}

/* Purchases come sorted by time: sorting by key only when they are not in
 * key order already (one chain) costs a pass. */
static void sort_purchases_by_key(const gl_graph *g, uint32_t *ids, size_t n)
{
    for (size_t i = 1; i < n; i++)
        if (purchase_key_cmp(&ids[i - 1], &ids[i], (void *)g) > 0) {
            qsort_r(ids, n, sizeof *ids, purchase_key_cmp, (void *)g);
            return;
        }
}

gl_code gl_results_write(gl_store *s, const gl_graph *g, const gl_analysis *a, gl_err *err)
{
    json_t *stamp = gl_results_stamp(s, g, err);
    if (!stamp)
        return err && err->code ? err->code : GL_ENOMEM;
    gl_results_groups gr;
    if (gl_results_group(a, &gr, err)) {
        json_decref(stamp);
        return GL_ENOMEM;
    }
    gl_store_analysis_writer *w = gl_store_analysis_writer_new(s, err);
    gl_code rc = w ? GL_OK : GL_EDB;
    json_t *st = json_pack("{s:o,s:I,s:I,s:I,s:I}", "computed_from", stamp, "addresses", (json_int_t)a->n_nodes,
                           "entities", (json_int_t)a->n_entities, "links", (json_int_t)a->n_links, "scored",
                           (json_int_t)a->n_scores);
    /* Records in key order ("e/" < "f/" < "m/" < "p" < "x/"), each family
     * sorted, so that they can go to table files as they come. */
    char *params[GL_LINK_RULE_COUNT] = {0};
    gl_textbuf etxt = {0};
    if (!rc && !gl_results_params_texts(&a->params, params))
        rc = gl_err_set(err, GL_ENOMEM, "out of memory");
    for (uint32_t e = 0; !rc && e < a->n_entities; e++) {
        uint8_t k[6] = {'e', '/'};
        be32(k + 2, e);
        if (!gl_results_entity_text(&etxt, g, a, e, gr.members + gr.mem_off[e], gr.mem_off[e + 1] - gr.mem_off[e],
                                    gr.links + gr.link_off[e], gr.link_off[e + 1] - gr.link_off[e], params))
            rc = gl_err_set(err, GL_ENOMEM, "out of memory writing entity %u", e);
        else
            rc = gl_store_analysis_writer_put(w, k, 6, etxt.p, etxt.len, err);
    }
    gl_textbuf_release(&etxt);
    for (int r = 0; r < GL_LINK_RULE_COUNT; r++)
        free(params[r]);
    uint32_t *order = NULL;
    size_t n_order = a->n_nodes > a->n_scores ? a->n_nodes : a->n_scores;
    if (n_order < g->n_purchases)
        n_order = g->n_purchases;
    if (!rc && !(order = malloc((n_order + 1) * sizeof *order)))
        rc = gl_err_set(err, GL_ENOMEM, "out of memory ordering the analysis records");
    if (!rc) {
        for (size_t i = 0; i < a->n_scores; i++)
            order[i] = (uint32_t)i;
        score_order so = {g, a};
        if (a->n_scores > 1)
            qsort_r(order, a->n_scores, sizeof *order, score_addr_cmp, &so);
    }
    for (size_t i = 0; !rc && i < a->n_scores; i++) {
        const gl_wallet_score *sc = &a->scores[order[i]];
        uint8_t k[22] = {'f', '/'};
        memcpy(k + 2, g->nodes[sc->node].addr, 20);
        rc = put_json(w, k, 22, gl_results_score_json(NULL, g, a, sc), err);
    }
    if (!rc) {
        for (uint32_t v = 0; v < a->n_nodes; v++)
            order[v] = v;
        sort_by_addr(g, order, a->n_nodes);
    }
    for (uint32_t i = 0; !rc && i < a->n_nodes; i++) {
        uint8_t k[22] = {'m', '/'}, val[4];
        memcpy(k + 2, g->nodes[order[i]].addr, 20);
        be32(val, a->entity[order[i]]);
        rc = gl_store_analysis_writer_put(w, k, 22, val, 4, err);
    }
    rc = rc ? rc : put_json(w, "p", 1, gl_analysis_params_json(&a->params), err);
    if (!rc) {
        for (size_t i = 0; i < g->n_purchases; i++)
            order[i] = (uint32_t)i;
        sort_purchases_by_key(g, order, g->n_purchases);
    }
    for (size_t i = 0; !rc && i < g->n_purchases; i++) {
        uint8_t k[22];
        purchase_key(g, &g->purchases[order[i]], k);
        rc = gl_store_analysis_writer_put(w, k, 22, &a->purchase_marks[order[i]], 1, err);
    }
    free(order);
    rc = rc ? rc : gl_store_analysis_writer_commit(w, err);
    gl_store_analysis_writer_free(w);
    /* The stamp, alone: a batch of one put moves the sequence on by one. */
    if (!rc && st)
        json_object_set_new(st, "sequence", json_integer((json_int_t)(gl_store_latest_sequence(s) + 1)));
    if (rc || !st) {
        json_decref(st);
        rc = rc ? rc : gl_err_set(err, GL_ENOMEM, "out of memory building the stamp");
    } else {
        char *txt = json_dumps(st, JSON_COMPACT);
        json_decref(st);
        gl_store_batch *b = txt ? gl_store_batch_new(s, err) : NULL;
        if (!txt)
            rc = gl_err_set(err, GL_ENOMEM, "out of memory");
        else if (!b)
            rc = GL_EDB;
        rc = rc ? rc : gl_store_batch_put_analysis(b, "s", 1, txt, strlen(txt), err);
        rc = rc ? rc : gl_store_batch_commit(b, err);
        gl_store_batch_free(b);
        free(txt);
    }
    gl_results_groups_release(&gr);
    return rc;
}

static gl_code get_json(gl_store *s, const void *k, size_t kl, json_t **out, gl_err *err)
{
    *out = NULL;
    char *v = NULL;
    size_t vl = 0;
    if (gl_store_get_analysis(s, k, kl, &v, &vl, err))
        return GL_EDB;
    if (!v)
        return GL_OK;
    json_error_t je;
    *out = json_loadb(v, vl, 0, &je);
    free(v);
    if (!*out)
        return gl_err_set(err, GL_EDB, "store '%s' is damaged: an analysis record is not JSON: %s",
                          gl_store_dir(s), je.text);
    gl_results_hydrate(s, *out);
    return GL_OK;
}

gl_code gl_results_status(gl_store *s, bool *found, bool *stale, json_t **stamp, gl_err *err)
{
    *found = *stale = false;
    if (stamp)
        *stamp = NULL;
    if (!gl_store_has_analysis_family(s))
        return GL_OK;
    json_t *st;
    if (get_json(s, "s", 1, &st, err))
        return GL_EDB;
    if (!st)
        return GL_OK;
    *found = true;
    json_t *seq = json_object_get(st, "sequence");
    *stale = !json_is_integer(seq) || (uint64_t)json_integer_value(seq) != gl_store_latest_sequence(s);
    if (stamp)
        *stamp = st;
    else
        json_decref(st);
    return GL_OK;
}

gl_code gl_results_entity_of(gl_store *s, const uint8_t addr[20], uint32_t *entity, bool *found, gl_err *err)
{
    *found = false;
    uint8_t k[22] = {'m', '/'};
    memcpy(k + 2, addr, 20);
    char *v = NULL;
    size_t vl = 0;
    if (gl_store_get_analysis(s, k, 22, &v, &vl, err))
        return GL_EDB;
    if (!v)
        return GL_OK;
    gl_code rc = GL_OK;
    if (vl != 4)
        rc = gl_err_set(err, GL_EDB, "store '%s' is damaged: an entity id of %zu bytes", gl_store_dir(s), vl);
    else {
        const uint8_t *p = (const uint8_t *)v;
        *entity = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
        *found = true;
    }
    free(v);
    return rc;
}

gl_code gl_results_purchase_marks(gl_store *s, uint64_t chain_id, uint64_t block, uint32_t log_index,
                                  uint8_t *marks, bool *found, gl_err *err)
{
    *found = false;
    *marks = 0;
    uint8_t k[22];
    marks_key(chain_id, block, log_index, k);
    char *v = NULL;
    size_t vl = 0;
    if (gl_store_get_analysis(s, k, 22, &v, &vl, err))
        return GL_EDB;
    if (!v)
        return GL_OK;
    gl_code rc = GL_OK;
    if (vl != 1)
        rc = gl_err_set(err, GL_EDB, "store '%s' is damaged: purchase marks of %zu bytes", gl_store_dir(s), vl);
    else {
        *marks = (uint8_t)v[0];
        *found = true;
    }
    free(v);
    return rc;
}

gl_code gl_results_get_entity(gl_store *s, uint32_t entity, json_t **out, gl_err *err)
{
    uint8_t k[6] = {'e', '/'};
    be32(k + 2, entity);
    return get_json(s, k, 6, out, err);
}

gl_code gl_results_get_wallet(gl_store *s, const uint8_t addr[20], json_t **out, gl_err *err)
{
    uint8_t k[22] = {'f', '/'};
    memcpy(k + 2, addr, 20);
    return get_json(s, k, 22, out, err);
}

gl_code gl_results_each(gl_store *s, char which, gl_results_each_fn fn, void *ctx, gl_err *err)
{
    char prefix[2] = {which, '/'};
    gl_store_iter *it = gl_store_iter_analysis(s, prefix, 2, err);
    if (!it)
        return GL_EDB;
    gl_code rc = GL_OK;
    for (;;) {
        const uint8_t *k, *v;
        size_t kl, vl;
        bool end;
        if ((rc = gl_store_next_analysis(it, &k, &kl, &v, &vl, &end, err)) || end)
            break;
        json_error_t je;
        json_t *j = json_loadb((const char *)v, vl, 0, &je);
        if (!j) {
            rc = gl_err_set(err, GL_EDB, "store '%s' is damaged: an analysis record is not JSON: %s",
                            gl_store_dir(s), je.text);
            break;
        }
        gl_results_hydrate(s, j);
        int stop = fn(ctx, j);
        json_decref(j);
        if (stop) {
            rc = GL_ECANCELED;
            break;
        }
    }
    gl_store_iter_free(it);
    return rc;
}
