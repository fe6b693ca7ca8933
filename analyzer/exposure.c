/* exposure.c - GPU-hours and spend on export-controlled models per buyer
 * entity (market.h), flagged entities and their beneficiaries first, with
 * the leases behind every figure.  "Controlled" is the GPU table's class
 * (fixtures/gpus.json); a name the table does not know is never counted as
 * controlled, and the number of such purchases is reported per entity.
 */
#include <stdlib.h>
#include <string.h>

#include "gpuledger/market.h"
#include "gpuledger/results.h"

typedef struct pair {
    uint64_t key;  /* entity, or (1 << 32) | wallet node without an analysis */
    size_t idx;
} pair;

static int pair_cmp(const void *a, const void *b)
{
    const pair *x = a, *y = b;
    if (x->key != y->key)
        return x->key < y->key ? -1 : 1;
    return x->idx < y->idx ? -1 : x->idx > y->idx;
}

typedef struct flags_ctx {
    json_t *flagged;  /* entity id (text) -> [addresses] */
    json_t *benef;    /* entity id (text) -> [flagged wallet addresses it is the beneficiary of] */
} flags_ctx;

static void push(json_t *o, long long e, const char *addr)
{
    char k[24];
    snprintf(k, sizeof k, "%lld", e);
    json_t *a = json_object_get(o, k);
    if (!a) {
        a = json_array();
        json_object_set_new(o, k, a);
    }
    json_array_append_new(a, json_string(addr ? addr : "?"));
}

static int collect_flag(void *ctx, json_t *rec)
{
    flags_ctx *c = ctx;
    if (!json_is_true(json_object_get(rec, "flagged")))
        return 0;
    const char *addr = json_string_value(json_object_get(rec, "address"));
    json_t *e = json_object_get(rec, "entity"), *be = json_object_get(rec, "beneficiary_entity");
    if (json_is_integer(e))
        push(c->flagged, (long long)json_integer_value(e), addr);
    if (json_is_integer(be))
        push(c->benef, (long long)json_integer_value(be), addr);
    return 0;
}

static int rec_cmp(const void *a, const void *b)
{
    json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
    int fx = json_is_true(json_object_get(x, "flagged")) || json_array_size(json_object_get(x, "beneficiary_of"));
    int fy = json_is_true(json_object_get(y, "flagged")) || json_array_size(json_object_get(y, "beneficiary_of"));
    if (fx != fy)
        return fy - fx;
    double hx = json_real_value(json_object_get(x, "controlled_gpu_hours_value"));
    double hy = json_real_value(json_object_get(y, "controlled_gpu_hours_value"));
    return hx < hy ? 1 : hx > hy ? -1 : 0;
}

gl_code gl_exposure_run(json_t **out, gl_store *s, const gl_market *m, gl_err *err)
{
    *out = NULL;
    const gl_graph *g = m->g;
    pair *v = malloc((g->n_purchases + 1) * sizeof *v);
    flags_ctx fc = {json_object(), json_object()};
    json_t *res = json_array();
    gl_code rc = GL_OK;
    if (!v || !fc.flagged || !fc.benef || !res) {
        rc = gl_err_set(err, GL_ENOMEM, "out of memory");
        goto done;
    }
    if (m->analysed && (rc = gl_results_each(s, 'f', collect_flag, &fc, err)))
        goto done;
    size_t n = 0;
    for (size_t i = 0; i < g->n_purchases; i++) {
        const gl_market_buy *b = &m->buys[i];
        if (!b->model || !b->model->controlled)
            continue;
        uint32_t e = b->buyer_entity;
        v[n++] = (pair){e != GL_ENTITY_NONE ? e : (1ull << 32) | g->purchases[i].actor, i};
    }
    qsort(v, n, sizeof *v, pair_cmp);
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && v[j].key == v[i].key)
            j++;
        json_t *rec = json_object(), *leases = json_array(), *spend = json_object(), *byclass = json_object();
        uint64_t mh = 0;
        size_t unknown_hours = 0;
        for (size_t k = i; k < j; k++) {
            const gl_purchase *p = &g->purchases[v[k].idx];
            const gl_market_buy *b = &m->buys[v[k].idx];
            const gl_market_token *t = gl_market_token_of(m, p);
            mh += b->mhours;
            unknown_hours += !b->mhours;
            /* spend per token: exact sums kept as raw decimal strings, then formatted */
            json_t *cur = json_object_get(spend, t->symbol);
            gl_u256 sum = {{0}};
            if ((cur && gl_u256_parse_dec(&sum, json_string_value(json_object_get(cur, "raw")), err)) ||
                gl_u256_add(&sum, &sum, &p->amount, err)) {
                rc = GL_ERANGE;
                break;
            }
            char raw[GL_U256_DEC_MAX], txt[GL_U256_DEC_MAX + 2];
            json_object_set_new(spend, t->symbol, json_pack("{s:s,s:s}", "raw", gl_u256_to_dec(&sum, raw), "amount",
                                                            gl_market_amount_text(&sum, t->decimals, txt)));
            json_t *c = json_object_get(byclass, b->model->eccn);
            uint64_t prev = c ? (uint64_t)json_integer_value(c) : 0;
            json_object_set_new(byclass, b->model->eccn, json_integer((json_int_t)(prev + b->mhours)));
            json_t *ev = gl_market_evidence(m, p);
            char hrs[32];
            snprintf(hrs, sizeof hrs, "%llu.%03llu", (unsigned long long)(b->mhours / 1000),
                     (unsigned long long)(b->mhours % 1000));
            json_object_set_new(ev, "platform", json_string(g->platforms[p->platform]));
            json_object_set_new(ev, "model", json_string(b->model->canonical));
            json_object_set_new(ev, "model_as_written", json_string(b->model_name));
            json_object_set_new(ev, "class", json_string(b->model->eccn));
            json_object_set_new(ev, "gpu_count", json_integer(b->gpu_count));
            json_object_set_new(ev, "gpu_hours", b->mhours ? json_string(hrs) : json_null());
            json_object_set_new(ev, "amount", json_string(gl_market_amount_text(&p->amount, t->decimals, txt)));
            json_object_set_new(ev, "token", json_string(t->symbol));
            char a[43];
            json_object_set_new(ev, "payer", json_string(gl_addr_hex(g->nodes[p->actor].addr, a)));
            json_array_append_new(leases, ev);
        }
        if (rc) {
            json_decref(rec);
            json_decref(leases);
            json_decref(spend);
            json_decref(byclass);
            break;
        }
        char key[24], hrs[32], a[43];
        bool wallet = v[i].key >> 32;
        snprintf(key, sizeof key, "%llu", (unsigned long long)(uint32_t)v[i].key);
        snprintf(hrs, sizeof hrs, "%llu.%03llu", (unsigned long long)(mh / 1000), (unsigned long long)(mh % 1000));
        json_t *fl = wallet ? NULL : json_object_get(fc.flagged, key), *bo = wallet ? NULL : json_object_get(fc.benef, key);
        json_object_set_new(rec, "entity", wallet ? json_null() : json_integer((json_int_t)(uint32_t)v[i].key));
        json_object_set_new(rec, "wallet",
                            wallet ? json_string(gl_addr_hex(g->nodes[(uint32_t)v[i].key].addr, a)) : json_null());
        json_object_set_new(rec, "flagged", json_boolean(fl != NULL));
        json_object_set_new(rec, "flagged_wallets", fl ? json_incref(fl) : json_array());
        json_object_set_new(rec, "beneficiary_of", bo ? json_incref(bo) : json_array());
        json_object_set_new(rec, "controlled_gpu_hours", json_string(hrs));
        json_object_set_new(rec, "controlled_gpu_hours_value", json_real((double)mh / 1000.0));
        json_object_set_new(rec, "leases_without_gpu_hours", json_integer((json_int_t)unknown_hours));
        json_object_set_new(rec, "mhours_by_class", byclass);
        json_object_set_new(rec, "spend", spend);
        json_object_set_new(rec, "leases", leases);
        json_array_append_new(res, rec);
        i = j;
    }
    if (!rc) {
        size_t nr = json_array_size(res);
        json_t **arr = malloc((nr + 1) * sizeof *arr);
        if (!arr) {
            rc = gl_err_set(err, GL_ENOMEM, "out of memory");
            goto done;
        }
        for (size_t i = 0; i < nr; i++)
            arr[i] = json_incref(json_array_get(res, i));
        qsort(arr, nr, sizeof *arr, rec_cmp);
        json_t *sorted = json_array();
        for (size_t i = 0; i < nr; i++) {
            json_object_del(arr[i], "controlled_gpu_hours_value");
            json_array_append_new(sorted, arr[i]);
        }
        free(arr);
        json_decref(res);
        res = sorted;
    }
done:
    free(v);
    json_decref(fc.flagged);
    json_decref(fc.benef);
    if (rc) {
        json_decref(res);
        return rc;
    }
    *out = res;
    return GL_OK;
}
