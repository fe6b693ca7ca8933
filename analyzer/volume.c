/* volume.c - purchase volume by platform, period, model and token
 * (volume.h; columns and rules in docs/VOLUME.md).
 *
 * One pass: each purchase gets a group key (platform, period, model,
 * token), the keys are sorted, and each run of equal keys is one row.
 * Amounts are summed as exact u256; USD and price per GPU-hour are the only
 * floating-point figures.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gpuledger/analysis.h"
#include "gpuledger/volume.h"

gl_code gl_volume_parse_by(const char *s, unsigned *by, gl_err *err)
{
    *by = 0;
    char buf[128];
    snprintf(buf, sizeof buf, "%s", s);
    char *save = NULL;
    for (char *w = strtok_r(buf, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
        unsigned bit = !strcmp(w, "platform") ? GL_VOL_BY_PLATFORM
                       : !strcmp(w, "day")    ? GL_VOL_BY_DAY
                       : !strcmp(w, "week")   ? GL_VOL_BY_WEEK
                       : !strcmp(w, "month")  ? GL_VOL_BY_MONTH
                       : !strcmp(w, "model")  ? GL_VOL_BY_MODEL
                                              : 0;
        if (!bit)
            return gl_err_set(err, GL_EINVAL, "--by: '%s' is not one of platform, day, week, month, model", w);
        *by |= bit;
    }
    unsigned periods = *by & (GL_VOL_BY_DAY | GL_VOL_BY_WEEK | GL_VOL_BY_MONTH);
    if (periods & (periods - 1))
        return gl_err_set(err, GL_EINVAL, "--by: at most one of day, week, month");
    return GL_OK;
}

static void period_of(uint64_t t, unsigned by, char *out, size_t cap)
{
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    if (by & GL_VOL_BY_DAY)
        strftime(out, cap, "%Y-%m-%d", &tm);
    else if (by & GL_VOL_BY_WEEK)
        strftime(out, cap, "%G-W%V", &tm);
    else if (by & GL_VOL_BY_MONTH)
        strftime(out, cap, "%Y-%m", &tm);
    else
        out[0] = 0;
}

static const char *model_key(const gl_market_buy *b)
{
    return b->model ? b->model->canonical : b->model_name ? b->model_name : "(none)";
}

typedef struct item {
    char key[256];
    size_t idx;
} item;

static int item_cmp(const void *a, const void *b)
{
    const item *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    return c ? c : (x->idx < y->idx ? -1 : x->idx > y->idx);
}

static int u32_cmp(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static int dbl_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static size_t distinct(uint32_t *v, size_t n)
{
    qsort(v, n, sizeof *v, u32_cmp);
    size_t d = 0;
    for (size_t i = 0; i < n; i++)
        if (v[i] != GL_ENTITY_NONE && (!i || v[i] != v[i - 1]))
            d++;
    return d;
}

/* Nearest rank: the smallest value with at least pct% of values at or below it. */
static double nearest_rank(const double *v, size_t n, unsigned pct)
{
    size_t r = (pct * n + 99) / 100;
    return v[(r ? r : 1) - 1];
}

void gl_volume_free(gl_volume *v)
{
    if (!v)
        return;
    for (size_t i = 0; i < v->n_rows; i++)
        free(v->rows[i].removed);
    free(v->rows);
    json_decref(v->notes);
    free(v);
}

static void note_missing(json_t *missing, const char *token, const char *day)
{
    json_t *a = json_object_get(missing, token);
    if (!a) {
        a = json_array();
        json_object_set_new(missing, token, a);
    }
    for (size_t i = 0; i < json_array_size(a); i++)
        if (!strcmp(json_string_value(json_array_get(a, i)), day))
            return;
    json_array_append_new(a, json_string(day));
}

static gl_code build_row(gl_volume_row *r, const gl_market *m, const item *it, size_t n, const gl_prices *prices,
                         uint32_t *scratch, double *pph, json_t *missing, gl_err *err)
{
    const gl_graph *g = m->g;
    const gl_purchase *p0 = &g->purchases[it[0].idx];
    r->token = *gl_market_token_of(m, p0);
    r->circular_known = r->entities_known = m->analysed;
    r->leases = n;
    r->usd_known = prices != NULL;
    if (!(r->removed = calloc(n, sizeof *r->removed)))
        return gl_err_set(err, GL_ENOMEM, "out of memory");
    size_t np = 0;
    for (size_t i = 0; i < n; i++) {
        const gl_purchase *p = &g->purchases[it[i].idx];
        const gl_market_buy *b = &m->buys[it[i].idx];
        if (gl_u256_add(&r->gross, &r->gross, &p->amount, err))
            return GL_ERANGE;
        uint8_t why = (b->marks & GL_MARK_SELF_DEALING) ? GL_MARK_SELF_DEALING
                      : (b->marks & GL_MARK_CIRCULAR)   ? GL_MARK_CIRCULAR
                                                        : 0;
        if (why == GL_MARK_SELF_DEALING && gl_u256_add(&r->self_dealing, &r->self_dealing, &p->amount, err))
            return GL_ERANGE;
        if (why == GL_MARK_CIRCULAR && gl_u256_add(&r->circular, &r->circular, &p->amount, err))
            return GL_ERANGE;
        if (why)
            r->removed[r->n_removed++] = (gl_volume_removed){it[i].idx, why};
        if (b->mhours)
            r->gpu_mhours += b->mhours;
        else
            r->gpu_hours_unknown++;
        long double amt = gl_market_amount_value(&p->amount, r->token.decimals);
        if (b->mhours)
            pph[np++] = (double)(amt * 1000.0L / (long double)b->mhours);
        if (prices) {
            char day[11];
            gl_market_day(p->time, day);
            double usd;
            const char *addr = strcmp(r->token.address, "native") ? r->token.address : NULL;
            if (r->token.decimals >= 0 && p->time && gl_prices_get(prices, day, r->token.symbol, addr, &usd)) {
                r->usd_gross += amt * usd;
                if (!why)
                    r->usd_net += amt * usd;
            } else {
                r->usd_unpriced++;
                r->usd_known = false;
                note_missing(missing, r->token.symbol, p->time ? day : "(no block time)");
            }
        }
    }
    if (gl_u256_sub(&r->net, &r->gross, &r->self_dealing, err) || gl_u256_sub(&r->net, &r->net, &r->circular, err))
        return GL_ERANGE;
    for (size_t i = 0; i < n; i++)
        scratch[i] = g->purchases[it[i].idx].actor;
    r->buyer_wallets = distinct(scratch, n);
    if (m->analysed) {
        for (size_t i = 0; i < n; i++)
            scratch[i] = m->buys[it[i].idx].buyer_entity;
        r->buyer_entities = distinct(scratch, n);
        for (size_t i = 0; i < n; i++)
            scratch[i] = m->buys[it[i].idx].provider_entity;
        r->provider_entities = distinct(scratch, n);
    }
    r->n_priced_hours = np;
    if (np) {
        qsort(pph, np, sizeof *pph, dbl_cmp);
        r->pph_p10 = nearest_rank(pph, np, 10);
        r->pph_p50 = nearest_rank(pph, np, 50);
        r->pph_p90 = nearest_rank(pph, np, 90);
    }
    return GL_OK;
}

gl_code gl_volume_compute(gl_volume **out, const gl_market *m, unsigned by, const gl_prices *prices, gl_err *err)
{
    *out = NULL;
    const gl_graph *g = m->g;
    gl_volume *v = calloc(1, sizeof *v);
    item *items = malloc((g->n_purchases + 1) * sizeof *items);
    uint32_t *scratch = malloc((g->n_purchases + 1) * sizeof *scratch);
    double *pph = malloc((g->n_purchases + 1) * sizeof *pph);
    json_t *missing = json_object();
    gl_code rc = GL_OK;
    if (!v || !items || !scratch || !pph || !missing || !(v->notes = json_array())) {
        rc = gl_err_set(err, GL_ENOMEM, "out of memory");
        goto done;
    }
    v->by = by;
    for (size_t i = 0; i < g->n_purchases; i++) {
        const gl_purchase *p = &g->purchases[i];
        char period[16];
        period_of(p->time, by, period, sizeof period);
        if ((by & (GL_VOL_BY_DAY | GL_VOL_BY_WEEK | GL_VOL_BY_MONTH)) && !p->time)
            strcpy(period, "(no block time)");
        snprintf(items[i].key, sizeof items[i].key, "%s\x1f%s\x1f%s\x1f%05u",
                 (by & GL_VOL_BY_PLATFORM) ? g->platforms[p->platform] : "", period,
                 (by & GL_VOL_BY_MODEL) ? model_key(&m->buys[i]) : "", (unsigned)p->token);
        items[i].idx = i;
    }
    qsort(items, g->n_purchases, sizeof *items, item_cmp);
    size_t nrows = 0;
    for (size_t i = 0; i < g->n_purchases; i++)
        nrows += !i || strcmp(items[i].key, items[i - 1].key);
    if (!(v->rows = calloc(nrows + 1, sizeof *v->rows))) {
        rc = gl_err_set(err, GL_ENOMEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < g->n_purchases && !rc;) {
        size_t j = i;
        while (j < g->n_purchases && !strcmp(items[j].key, items[i].key))
            j++;
        gl_volume_row *r = &v->rows[v->n_rows++];
        const gl_purchase *p = &g->purchases[items[i].idx];
        if (by & GL_VOL_BY_PLATFORM) {
            snprintf(r->platform, sizeof r->platform, "%s", g->platforms[p->platform]);
            snprintf(r->market, sizeof r->market, "%s", m->market[p->platform]);
        }
        const char *k1 = strchr(items[i].key, '\x1f') + 1, *k2 = strchr(k1, '\x1f');
        snprintf(r->period, sizeof r->period, "%.*s", (int)(k2 - k1), k1);
        if (by & GL_VOL_BY_MODEL)
            snprintf(r->model, sizeof r->model, "%s", model_key(&m->buys[items[i].idx]));
        rc = build_row(r, m, items + i, j - i, prices, scratch, pph, missing, err);
        i = j;
    }
    if (rc)
        goto done;
    /* what the figures could not know, said */
    char msg[512];
    if (!m->analysed)
        json_array_append_new(v->notes, json_string("no analysis in this store: self_dealing counts only purchases whose "
                                                    "paying wallet is the provider's address, circular is unknown "
                                                    "(empty) and entity counts are empty; run gpuledger analyze"));
    else if (m->stale)
        json_array_append_new(v->notes, json_string("the store changed since it was analysed: marks may be out of date "
                                                    "(run gpuledger analyze)"));
    if (m->n_unmarked) {
        snprintf(msg, sizeof msg, "%zu purchases have no stored mark (indexed after the analysis): counted as not "
                 "removed", m->n_unmarked);
        json_array_append_new(v->notes, json_string(msg));
    }
    for (size_t p = 0; p < g->n_platforms; p++)
        for (size_t t = 0; t < g->n_tokens; t++) {
            const gl_market_token *tk = &m->tokens[p * g->n_tokens + t];
            bool used = false;
            for (size_t i = 0; i < g->n_purchases && !used; i++)
                used = g->purchases[i].platform == p && g->purchases[i].token == t;
            if (used && tk->decimals < 0) {
                snprintf(msg, sizeof msg, "%s: token %s has no symbol and decimals in the definition: amounts are "
                         "raw units", g->platforms[p], tk->address);
                json_array_append_new(v->notes, json_string(msg));
            }
        }
    size_t unknown = 0;
    for (size_t i = 0; i < g->n_purchases; i++)
        unknown += !m->buys[i].mhours;
    if (unknown) {
        snprintf(msg, sizeof msg, "%zu of %zu purchases record no GPU count or duration on chain: gpu_hours leaves them "
                 "out (gpu_hours_unknown), nothing is estimated", unknown, g->n_purchases);
        json_array_append_new(v->notes, json_string(msg));
    }
    if (!prices)
        json_array_append_new(v->notes, json_string("no --prices: USD columns are empty"));
    const char *tok;
    json_t *days;
    json_object_foreach(missing, tok, days) {
        char list[300] = "";
        size_t w = 0;
        for (size_t i = 0; i < json_array_size(days) && w < sizeof list - 16; i++)
            w += (size_t)snprintf(list + w, sizeof list - w, "%s%s", i ? " " : "",
                                  json_string_value(json_array_get(days, i)));
        snprintf(msg, sizeof msg, "no USD price for %s on %zu day(s): %s; their rows' USD is empty (never "
                 "interpolated)", tok, json_array_size(days), list);
        json_array_append_new(v->notes, json_string(msg));
    }
done:
    free(items);
    free(scratch);
    free(pph);
    json_decref(missing);
    if (rc) {
        gl_volume_free(v);
        return rc;
    }
    *out = v;
    return GL_OK;
}

/* ------------------------------------------------------------- output */

static json_t *amount_json(const gl_u256 *a, int decimals)
{
    char t[GL_U256_DEC_MAX + 2];
    return json_string(gl_market_amount_text(a, decimals, t));
}

static void fmt_num(char *out, size_t cap, double v) { snprintf(out, cap, "%.10g", v); }

static void fmt_mhours(char *out, size_t cap, uint64_t mh)
{
    snprintf(out, cap, "%llu.%03llu", (unsigned long long)(mh / 1000), (unsigned long long)(mh % 1000));
}

json_t *gl_volume_row_json(const gl_market *m, const gl_volume_row *r, bool explain)
{
    char buf[64];
    json_t *o = json_object();
    if (!o)
        return NULL;
    json_object_set_new(o, "platform", json_string(r->platform));
    json_object_set_new(o, "market", json_string(r->market));
    json_object_set_new(o, "period", json_string(r->period));
    json_object_set_new(o, "model", json_string(r->model));
    json_object_set_new(o, "token", json_string(r->token.symbol));
    json_object_set_new(o, "token_address", json_string(r->token.address));
    json_object_set_new(o, "decimals", r->token.decimals >= 0 ? json_integer(r->token.decimals) : json_null());
    json_object_set_new(o, "gross", amount_json(&r->gross, r->token.decimals));
    json_object_set_new(o, "self_dealing", amount_json(&r->self_dealing, r->token.decimals));
    json_object_set_new(o, "circular", r->circular_known ? amount_json(&r->circular, r->token.decimals) : json_null());
    json_object_set_new(o, "net", amount_json(&r->net, r->token.decimals));
    if (r->usd_known) {
        snprintf(buf, sizeof buf, "%.2Lf", r->usd_gross);
        json_object_set_new(o, "usd_gross", json_string(buf));
        snprintf(buf, sizeof buf, "%.2Lf", r->usd_net);
        json_object_set_new(o, "usd_net", json_string(buf));
    } else {
        json_object_set_new(o, "usd_gross", json_null());
        json_object_set_new(o, "usd_net", json_null());
    }
    json_object_set_new(o, "usd_unpriced", json_integer((json_int_t)r->usd_unpriced));
    json_object_set_new(o, "leases", json_integer((json_int_t)r->leases));
    json_object_set_new(o, "buyer_wallets", json_integer((json_int_t)r->buyer_wallets));
    json_object_set_new(o, "buyer_entities", r->entities_known ? json_integer((json_int_t)r->buyer_entities) : json_null());
    json_object_set_new(o, "provider_entities",
                        r->entities_known ? json_integer((json_int_t)r->provider_entities) : json_null());
    fmt_mhours(buf, sizeof buf, r->gpu_mhours);
    json_object_set_new(o, "gpu_hours", json_string(buf));
    json_object_set_new(o, "gpu_hours_unknown", json_integer((json_int_t)r->gpu_hours_unknown));
    if (r->n_priced_hours) {
        fmt_num(buf, sizeof buf, r->pph_p10);
        json_object_set_new(o, "price_per_gpu_hour_p10", json_string(buf));
        fmt_num(buf, sizeof buf, r->pph_p50);
        json_object_set_new(o, "price_per_gpu_hour_median", json_string(buf));
        fmt_num(buf, sizeof buf, r->pph_p90);
        json_object_set_new(o, "price_per_gpu_hour_p90", json_string(buf));
    } else {
        json_object_set_new(o, "price_per_gpu_hour_p10", json_null());
        json_object_set_new(o, "price_per_gpu_hour_median", json_null());
        json_object_set_new(o, "price_per_gpu_hour_p90", json_null());
    }
    if (explain) {
        json_t *a = json_array();
        for (size_t i = 0; i < r->n_removed; i++) {
            const gl_purchase *p = &m->g->purchases[r->removed[i].purchase];
            json_t *e = gl_market_evidence(m, p);
            json_object_set_new(e, "why", json_string(r->removed[i].why == GL_MARK_SELF_DEALING ? "self_dealing"
                                                                                               : "circular"));
            json_object_set_new(e, "amount", amount_json(&p->amount, r->token.decimals));
            json_array_append_new(a, e);
        }
        json_object_set_new(o, "removed", a);
    }
    return o;
}

static const char *const columns[] = {
    "platform", "market", "period", "model", "token", "token_address", "decimals", "gross", "self_dealing",
    "circular", "net", "usd_gross", "usd_net", "usd_unpriced", "leases", "buyer_wallets", "buyer_entities",
    "provider_entities", "gpu_hours", "gpu_hours_unknown", "price_per_gpu_hour_p10", "price_per_gpu_hour_median",
    "price_per_gpu_hour_p90"};

void gl_volume_csv_header(FILE *f, bool explain)
{
    for (size_t i = 0; i < sizeof columns / sizeof *columns; i++)
        fprintf(f, "%s%s", i ? "," : "", columns[i]);
    fprintf(f, "%s\n", explain ? ",removed" : "");
}

static void csv_text(FILE *f, const char *s)
{
    if (!strpbrk(s, ",\"\r\n")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

void gl_volume_csv_row(FILE *f, const gl_market *m, const gl_volume_row *r, bool explain)
{
    json_t *o = gl_volume_row_json(m, r, explain);
    if (!o)
        return;
    for (size_t i = 0; i < sizeof columns / sizeof *columns; i++) {
        json_t *v = json_object_get(o, columns[i]);
        if (i)
            fputc(',', f);
        if (json_is_string(v))
            csv_text(f, json_string_value(v));
        else if (json_is_integer(v))
            fprintf(f, "%lld", (long long)json_integer_value(v));
    }
    if (explain) {
        /* why:chain_id:block:tx:log_index:amount, joined with ';' */
        fputc(',', f);
        json_t *a = json_object_get(o, "removed");
        for (size_t i = 0; i < json_array_size(a); i++) {
            json_t *e = json_array_get(a, i);
            fprintf(f, "%s%s:%lld:%lld:%s:%lld:%s", i ? ";" : "", json_string_value(json_object_get(e, "why")),
                    (long long)json_integer_value(json_object_get(e, "chain_id")),
                    (long long)json_integer_value(json_object_get(e, "block")),
                    json_string_value(json_object_get(e, "tx")),
                    (long long)json_integer_value(json_object_get(e, "log_index")),
                    json_string_value(json_object_get(e, "amount")));
        }
    }
    fputc('\n', f);
    json_decref(o);
}
