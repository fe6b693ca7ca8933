/* report.c - `gpuledger report`: the store's figures as one static HTML page.
 *
 * Sections, in page order: market (volume, prices, concentration: from the
 * market library when it is built in), top entities, flagged proxy buyers,
 * fund-flow pictures, integrity findings, methods.  Each section reads its
 * figures through the calls the CLI prints from:
 *   flags        gl_results_each('f'), flagged only, as `gpuledger flags`
 *   entities     gl_results_entity_of / gl_results_get_entity (`explain`),
 *                purchases from the graph the analyzer reads (gl_graph_load)
 *   pictures     gl_trace_subgraph, as `gpuledger trace --direction both`
 *   findings     gl_store_iter_findings per chain, grouped by "kind"
 *   methods      the analysis records "p" (parameters) and "s" (stamp)
 * Charts are drawn in report_svg.c; the inline script at the end sorts and
 * filters tables (a filter can be given as report.html#filter=TEXT, or
 * #filter=COLUMN:TEXT for one column).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gpuledger/analysis.h"
#include "gpuledger/gpu_models.h"
#include "gpuledger/graph.h"
#include "gpuledger/market.h"
#include "gpuledger/platform.h"
#include "gpuledger/results.h"
#include "gpuledger/trace.h"
#include "gpuledger/volume.h"
#include "report_int.h"

/* ================================================================ writer */

void gl_rw_raw(gl_rw *w, const char *s)
{
    if (!w->oom && s && gl_buf_append(w->b, s, strlen(s), NULL))
        w->oom = true;
}

void gl_rw_printf(gl_rw *w, const char *fmt, ...)
{
    if (w->oom)
        return;
    char small[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) {
        w->oom = true;
        return;
    }
    if ((size_t)n < sizeof small) {
        w->oom = gl_buf_append(w->b, small, (size_t)n, NULL) != GL_OK;
        return;
    }
    char *big = malloc((size_t)n + 1);
    if (!big) {
        w->oom = true;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    w->oom = gl_buf_append(w->b, big, (size_t)n, NULL) != GL_OK;
    free(big);
}

/* Length of the valid UTF-8 sequence at p (1..4), 0 when invalid. */
static size_t utf8_len(const unsigned char *p)
{
    unsigned c = p[0];
    size_t n = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 && c >= 0xc2 ? 2 : (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 && c <= 0xf4 ? 4 : 0;
    for (size_t i = 1; i < n; i++)
        if ((p[i] & 0xc0) != 0x80)
            return 0;
    if (n == 3 && ((c == 0xe0 && p[1] < 0xa0) || (c == 0xed && p[1] >= 0xa0)))
        return 0;
    if (n == 4 && ((c == 0xf0 && p[1] < 0x90) || (c == 0xf4 && p[1] >= 0x90)))
        return 0;
    return n;
}

static void esc_n(gl_rw *w, const char *s, size_t max)
{
    if (!s)
        return;
    const unsigned char *p = (const unsigned char *)s;
    size_t chars = 0;
    while (*p && !w->oom) {
        if (chars == max) {
            gl_rw_raw(w, "…");
            return;
        }
        size_t n = utf8_len(p);
        const char *rep = NULL;
        switch (*p) {
        case '&': rep = "&amp;"; break;
        case '<': rep = "&lt;"; break;
        case '>': rep = "&gt;"; break;
        case '"': rep = "&quot;"; break;
        case '\'': rep = "&#39;"; break;
        default: break;
        }
        if (rep)
            gl_rw_raw(w, rep);
        else if (!n || (*p < 0x20 && *p != '\n' && *p != '\t'))
            gl_rw_raw(w, "?");
        else if (gl_buf_append(w->b, p, n, NULL))
            w->oom = true;
        p += n ? n : 1;
        chars++;
    }
}

void gl_rw_esc(gl_rw *w, const char *s) { esc_n(w, s, SIZE_MAX); }
void gl_rw_esc_cut(gl_rw *w, const char *s, size_t max) { esc_n(w, s, max); }

gl_code gl_report_escape(gl_buf *out, const char *s, gl_err *err)
{
    gl_rw w = {out, false};
    gl_rw_esc(&w, s);
    return w.oom ? gl_err_set(err, GL_ENOMEM, "out of memory escaping text") : GL_OK;
}

gl_code gl_report_parse_explorer(const char *arg, gl_report_explorer *out, gl_err *err)
{
    const char *eq = arg ? strchr(arg, '=') : NULL;
    uint64_t id;
    if (!eq || !gl_dec_u64(arg, (size_t)(eq - arg), &id) || !id)
        return gl_err_set(err, GL_EINVAL, "explorer '%s' is not CHAIN_ID=BASE_URL (a chain id above 0)", arg ? arg : "");
    const char *url = eq + 1;
    if (strncmp(url, "https://", 8) && strncmp(url, "http://", 7))
        return gl_err_set(err, GL_EINVAL, "explorer '%s': the base URL must start with https:// or http://", arg);
    if (strlen(url) > 400)
        return gl_err_set(err, GL_EINVAL, "explorer '%s': the base URL is longer than 400 characters", arg);
    for (const char *p = url; *p; p++)
        if ((unsigned char)*p <= ' ' || *p == '"' || *p == '<' || *p == '>' || *p == '\\')
            return gl_err_set(err, GL_EINVAL, "explorer '%s': the base URL holds a space or a character URLs may not", arg);
    out->chain_id = id;
    out->base_url = url;
    return GL_OK;
}

/* ============================================================ the page */

typedef struct report {
    gl_store *s;
    const gl_report_opts *o;
    gl_rw w;
    gl_err *err;
    gl_report_stats st;
    gl_graph *g;
    json_t *flags;   /* flagged wallet records, by score descending */
    json_t *params;  /* record "p" */
    json_t *stamp;   /* record "s" */
    /* the market context, as the market commands build it */
    gl_market_defs *defs;
    gl_gpu_models *models;
    gl_market *m;
} report;

static const char *js(json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

void gl_rw_tx_link_open(gl_rw *w, const char *base, const char *hash)
{
    size_t bl = strlen(base);
    gl_rw_raw(w, "<a href=\"");
    gl_rw_esc(w, base);
    gl_rw_raw(w, bl && base[bl - 1] == '/' ? "tx/" : "/tx/");
    gl_rw_esc(w, hash);
    gl_rw_raw(w, "\" rel=\"noreferrer\" target=\"_blank\"");
}

const char *gl_report_explorer_for(const gl_report_opts *o, uint64_t chain)
{
    for (size_t i = 0; i < o->n_explorers; i++)
        if (o->explorers[i].chain_id == chain)
            return o->explorers[i].base_url;
    return NULL;
}

/* ------------------------------------------------------------- header */

static const char *const css =
    "body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:#1d1d1f;background:#fafafa}"
    "header{background:#13315c;color:#fff;padding:18px 28px}header h1{margin:0;font-size:22px}"
    "header p{margin:4px 0 0;opacity:.85}nav{padding:8px 28px;background:#e8edf4;position:sticky;top:0;z-index:2}"
    "nav a{margin-right:16px;color:#13315c;text-decoration:none;font-weight:600}"
    "main{padding:8px 28px 40px;max-width:1500px}section{margin:26px 0}h2{border-bottom:2px solid #13315c;"
    "padding-bottom:4px}h3{margin:18px 0 6px}.muted{color:#777}.warn{background:#fff3cd;border:1px solid #e0c36c;"
    "padding:8px 12px;border-radius:4px}.na{background:#eee;border:1px dashed #aaa;padding:10px 14px;border-radius:4px}"
    "table{border-collapse:collapse;background:#fff;font-size:13px;margin:6px 0}th,td{border:1px solid #ddd;"
    "padding:4px 7px;text-align:left;vertical-align:top}th{background:#f0f3f7;position:sticky;top:38px}"
    "table.sortable th{cursor:pointer;user-select:none}table.sortable th:after{content:' \\2195';color:#aaa}"
    "th.asc:after{content:' \\2191'!important;color:#13315c!important}th.desc:after{content:' \\2193'!important;"
    "color:#13315c!important}td.num{text-align:right;font-variant-numeric:tabular-nums}code,.mono{font-family:"
    "ui-monospace,Menlo,Consolas,monospace;font-size:12px}.ev a,.ev span{display:inline-block;margin:0 6px 2px 0;white-space:nowrap}"
    ".filter{margin:4px 0;padding:4px 8px;width:320px}.count{margin-left:10px;color:#555}svg.chart,svg.flow{background:"
    "#fff;border:1px solid #ddd;margin:6px 0;max-width:100%;height:auto}svg text{font:11px system-ui,sans-serif;"
    "fill:#333}svg .grid{stroke:#eee}svg .axis line{stroke:#999}svg text.sub{fill:#777;font-size:10px}"
    ".flowbox{overflow-x:auto}details{margin:6px 0}.tag{display:inline-block;background:#eef;border-radius:3px;"
    "padding:0 4px;margin:0 2px 2px 0;font-size:12px}";

static void page_head(report *r)
{
    gl_rw *w = &r->w;
    gl_rw_raw(w, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                 "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
                 "style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">"
                 "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"><title>gpuledger report");
    if (r->o->db_name) {
        gl_rw_raw(w, ": ");
        gl_rw_esc(w, r->o->db_name);
    }
    gl_rw_printf(w, "</title><style>%s</style></head><body><header><h1>gpuledger report", css);
    if (r->o->db_name) {
        gl_rw_raw(w, ": <span class=\"mono\">");
        gl_rw_esc(w, r->o->db_name);
        gl_rw_raw(w, "</span>");
    }
    gl_rw_raw(w, "</h1><p>GPU-rental markets on EVM chains: volume, prices, concentration, proxy buyers and "
                 "the evidence behind them");
    if (r->o->generated) {
        char day[40];
        time_t t = (time_t)r->o->generated;
        struct tm tm;
        if (gmtime_r(&t, &tm) && strftime(day, sizeof day, "%Y-%m-%d %H:%M UTC", &tm))
            gl_rw_printf(w, ". Generated %s", day);
    }
    gl_rw_raw(w, ".</p></header><nav><a href=\"#market\">Market</a><a href=\"#entities\">Top entities</a>"
                 "<a href=\"#flags\">Proxy buyers</a><a href=\"#providers\">Providers</a>"
                 "<a href=\"#flows\">Fund flows</a><a href=\"#findings\">Integrity findings</a>"
                 "<a href=\"#methods\">Methods</a></nav><main>");
    if (r->st.stale)
        gl_rw_raw(w, "<p class=\"warn\" id=\"stale\">The store changed since it was analysed: the figures below "
                     "are from the last analysis. Run <code>gpuledger analyze</code> to bring them up to date.</p>");
}

/* ------------------------------------------------------------- market */

/* "YYYY-MM-DD" as seconds since 1970 (UTC midnight); 0 when not a day. */
static double day_time(const char *d)
{
    struct tm tm = {0};
    if (!d || sscanf(d, "%4d-%2d-%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday) != 3)
        return 0;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return (double)timegm(&tm);
}

/* A string set kept in first-seen order. */
static size_t str_index(json_t *list, const char *v)
{
    for (size_t i = 0; i < json_array_size(list); i++)
        if (!strcmp(json_string_value(json_array_get(list, i)), v))
            return i;
    json_array_append_new(list, json_string(v));
    return json_array_size(list) - 1;
}

static void td_text(gl_rw *w, const char *cls, const char *v)
{
    gl_rw_printf(w, "<td class=\"%s\">", cls);
    gl_rw_esc(w, v);
    gl_rw_raw(w, "</td>");
}

/* A decimal text cell that sorts by its value. */
static void td_amount(gl_rw *w, const char *cls, const char *v)
{
    gl_rw_printf(w, "<td class=\"num %s\" data-v=\"", cls);
    gl_rw_esc(w, v);
    gl_rw_raw(w, "\">");
    gl_rw_esc(w, v);
    gl_rw_raw(w, "</td>");
}

static void notes(gl_rw *w, json_t *n)
{
    for (size_t i = 0; i < json_array_size(n); i++) {
        gl_rw_raw(w, "<p class=\"muted note\">Note: ");
        gl_rw_esc(w, json_string_value(json_array_get(n, i)));
        gl_rw_raw(w, "</p>");
    }
}

static gl_code volume_part(report *r)
{
    gl_rw *w = &r->w;
    gl_volume *v = NULL;
    gl_code rc = gl_volume_compute(&v, r->m, GL_VOL_BY_PLATFORM | GL_VOL_BY_DAY, NULL, r->err);
    if (rc)
        return rc;
    json_t *rows = json_array(), *tokens = json_array(), *plats = json_array();
    for (size_t i = 0; i < v->n_rows && rows; i++) {
        json_t *j = gl_volume_row_json(r->m, &v->rows[i], false);
        if (!j)
            break;
        json_array_append_new(rows, j);
        str_index(tokens, js(j, "token"));
        str_index(plats, js(j, "platform"));
    }
    if (!rows || !tokens || !plats || json_array_size(rows) != v->n_rows) {
        json_decref(rows), json_decref(tokens), json_decref(plats), gl_volume_free(v);
        return gl_err_set(r->err, GL_ENOMEM, "out of memory");
    }
    gl_rw_raw(w, "<p>Purchase volume per platform and UTC day, in whole tokens (one chart per token): gross "
                 "(solid) against net (dashed), net being gross less self-dealing (buyer and provider in one "
                 "entity) and circular purchases (entities on a cycle of purchases), as "
                 "<code>gpuledger volume --by platform,day</code> prints them.</p>");
    notes(w, v->notes);
    size_t nr = json_array_size(rows), np = json_array_size(plats);
    double *xs = calloc(nr ? nr : 1, sizeof *xs), *gs = calloc(nr ? nr : 1, sizeof *gs), *ns = calloc(nr ? nr : 1, sizeof *ns);
    gl_svg_series *se = calloc(2 * (np ? np : 1), sizeof *se);
    for (size_t t = 0; t < json_array_size(tokens) && xs && gs && ns && se && !rc; t++) {
        const char *tok = json_string_value(json_array_get(tokens, t));
        size_t k = 0, ns_ = 0;
        for (size_t p = 0; p < np; p++) {
            size_t start = k;
            for (size_t i = 0; i < nr; i++) {
                json_t *j = json_array_get(rows, i);
                if (strcmp(js(j, "token"), tok) || strcmp(js(j, "platform"), json_string_value(json_array_get(plats, p))))
                    continue;
                xs[k] = day_time(js(j, "period"));
                gs[k] = strtod(js(j, "gross"), NULL);
                ns[k] = strtod(js(j, "net"), NULL);
                k++;
            }
            if (k == start)
                continue;
            /* rows come by platform, then period: ascending days */
            const char *pn = json_string_value(json_array_get(plats, p));
            se[ns_++] = (gl_svg_series){pn, xs + start, gs + start, k - start, false, false, (unsigned)p};
            se[ns_++] = (gl_svg_series){"net", xs + start, ns + start, k - start, true, false, (unsigned)p};
        }
        /* legend names: "platform gross" / "platform net" */
        char **names = calloc(ns_ ? ns_ : 1, sizeof *names);
        for (size_t i = 0; names && i < ns_; i += 2) {
            const char *pn = se[i].name;
            size_t l = strlen(pn) + 8;
            names[i] = malloc(l), names[i + 1] = malloc(l);
            if (names[i])
                snprintf(names[i], l, "%s gross", pn), se[i].name = names[i];
            if (names[i + 1])
                snprintf(names[i + 1], l, "%s net", pn), se[i + 1].name = names[i + 1];
        }
        char title[128], id[48];
        snprintf(title, sizeof title, "Volume per day in %s, gross and net", tok);
        snprintf(id, sizeof id, "volume-chart-%zu", t + 1);
        gl_svg_axes ax = {title, tok, true, id};
        gl_rw_raw(w, "<h4>");
        gl_rw_esc(w, tok);
        gl_rw_raw(w, "</h4>");
        rc = gl_svg_lines(w->b, &ax, se, ns_, r->err);
        for (size_t i = 0; names && i < ns_; i++)
            free(names[i]);
        free(names);
    }
    free(xs), free(gs), free(ns), free(se);
    gl_rw_printf(w, "<details open><summary>The figures (%zu rows)</summary>"
                    "<input class=\"filter\" data-for=\"volume-table\" placeholder=\"filter volume rows\">"
                    "<span class=\"count\" data-for=\"volume-table\"></span>"
                    "<table class=\"sortable\" id=\"volume-table\"><thead><tr><th data-key=\"platform\">platform</th>"
                    "<th data-key=\"day\">day</th><th data-key=\"token\">token</th><th data-key=\"leases\" "
                    "data-type=\"num\">purchases</th><th data-key=\"gross\" data-type=\"num\">gross</th>"
                    "<th data-key=\"self_dealing\" data-type=\"num\">self-dealing</th><th data-key=\"circular\" "
                    "data-type=\"num\">circular</th><th data-key=\"net\" data-type=\"num\">net</th>"
                    "<th data-key=\"gpu_hours\" data-type=\"num\">GPU-hours</th></tr></thead><tbody>",
                 nr);
    for (size_t i = 0; i < nr; i++) {
        json_t *j = json_array_get(rows, i);
        gl_rw_raw(w, "<tr>");
        td_text(w, "c-platform", js(j, "platform"));
        td_text(w, "c-period", js(j, "period"));
        td_text(w, "c-token", js(j, "token"));
        gl_rw_printf(w, "<td class=\"num c-leases\">%lld</td>", (long long)json_integer_value(json_object_get(j, "leases")));
        td_amount(w, "c-gross", js(j, "gross"));
        td_amount(w, "c-self", js(j, "self_dealing"));
        td_amount(w, "c-circular", js(j, "circular"));
        td_amount(w, "c-net", js(j, "net"));
        td_amount(w, "c-gpuh", js(j, "gpu_hours"));
        gl_rw_raw(w, "</tr>");
    }
    gl_rw_raw(w, "</tbody></table></details>");
    json_decref(rows), json_decref(tokens), json_decref(plats);
    gl_volume_free(v);
    return rc;
}

static gl_code prices_part(report *r)
{
    gl_rw *w = &r->w;
    gl_volume *v = NULL;
    gl_code rc = gl_volume_compute(&v, r->m, GL_VOL_BY_MODEL, NULL, r->err);
    if (rc)
        return rc;
    gl_svg_range *rg = calloc(v->n_rows ? v->n_rows : 1, sizeof *rg);
    char (*labels)[200] = calloc(v->n_rows ? v->n_rows : 1, sizeof *labels);
    json_t *rows = json_array();
    if (!rg || !labels || !rows) {
        free(rg), free(labels), json_decref(rows), gl_volume_free(v);
        return gl_err_set(r->err, GL_ENOMEM, "out of memory");
    }
    size_t n = 0;
    for (size_t i = 0; i < v->n_rows; i++) {
        const gl_volume_row *x = &v->rows[i];
        if (!x->n_priced_hours)
            continue;
        json_t *j = gl_volume_row_json(r->m, x, false);
        if (!j)
            continue;
        json_array_append_new(rows, j);
        snprintf(labels[n], sizeof labels[n], "%s (%s)", x->model, x->token.symbol);
        rg[n] = (gl_svg_range){labels[n], x->pph_p10, x->pph_p50, x->pph_p90, x->n_priced_hours};
        n++;
    }
    gl_rw_raw(w, "<p>Price per GPU-hour paid, by GPU model and token (whole tokens per GPU-hour): the bar runs "
                 "from the 10th to the 90th percentile, the dot is the median, over the purchases that record "
                 "their GPU-hours on chain (<code>gpuledger volume --by model</code>).</p>");
    if (!n) {
        gl_rw_raw(w, "<p class=\"na\" id=\"prices-na\">No purchase records its GPU-hours on chain: no price per "
                     "GPU-hour can be given.</p>");
    } else {
        gl_svg_axes ax = {"Price per GPU-hour by model", "whole tokens per GPU-hour", false, "prices-chart"};
        rc = gl_svg_ranges(w->b, &ax, rg, n, r->err);
        gl_rw_raw(w, "<table class=\"sortable\" id=\"prices-table\"><thead><tr><th data-key=\"model\">model</th>"
                     "<th data-key=\"token\">token</th><th data-key=\"leases\" data-type=\"num\">purchases</th>"
                     "<th data-key=\"gpu_hours\" data-type=\"num\">GPU-hours</th><th data-key=\"p10\" data-type=\"num\">"
                     "p10</th><th data-key=\"median\" data-type=\"num\">median</th><th data-key=\"p90\" "
                     "data-type=\"num\">p90</th></tr></thead><tbody>");
        for (size_t i = 0; i < json_array_size(rows); i++) {
            json_t *j = json_array_get(rows, i);
            gl_rw_raw(w, "<tr>");
            td_text(w, "c-model", js(j, "model"));
            td_text(w, "c-token", js(j, "token"));
            gl_rw_printf(w, "<td class=\"num c-leases\">%lld</td>", (long long)json_integer_value(json_object_get(j, "leases")));
            td_amount(w, "c-gpuh", js(j, "gpu_hours"));
            static const char *const pk[] = {"price_per_gpu_hour_p10", "price_per_gpu_hour_median", "price_per_gpu_hour_p90"};
            static const char *const pc[] = {"c-p10", "c-p50", "c-p90"};
            for (int q = 0; q < 3; q++)
                td_amount(w, pc[q], js(j, pk[q]));
            gl_rw_raw(w, "</tr>");
        }
        gl_rw_raw(w, "</tbody></table>");
    }
    notes(w, v->notes);
    free(rg), free(labels), json_decref(rows);
    gl_volume_free(v);
    return rc;
}

typedef struct conc_series {
    uint32_t entity;
    bool wallet;
    const char *family;
    uint64_t max, max_at;
    size_t first, n; /* its points: pts[first .. first+n) once sorted */
} conc_series;

typedef struct conc_pt {
    gl_conc_point p;
    size_t i;
} conc_pt;

static int cmp_conc_pt(const void *a, const void *b)
{
    const gl_conc_point *x = &((const conc_pt *)a)->p, *y = &((const conc_pt *)b)->p;
    size_t ia = ((const conc_pt *)a)->i, ib = ((const conc_pt *)b)->i;
    if (x->wallet != y->wallet)
        return x->wallet ? 1 : -1;
    if (x->entity != y->entity)
        return x->entity < y->entity ? -1 : 1;
    int c = strcmp(x->family, y->family);
    if (c)
        return c;
    if (x->time != y->time)
        return x->time < y->time ? -1 : 1;
    return ia < ib ? -1 : ia > ib;
}

static int cmp_conc_series(const void *a, const void *b)
{
    const conc_series *x = a, *y = b;
    if (x->max != y->max)
        return x->max > y->max ? -1 : 1;
    return x->first < y->first ? -1 : x->first > y->first;
}

#define CONC_CHART_SERIES 8

static gl_code concentration_part(report *r)
{
    gl_rw *w = &r->w;
    gl_conc_point *pts = NULL;
    size_t n = 0, skipped = 0;
    gl_code rc = gl_concentration_run(&pts, &n, &skipped, r->m, NULL, r->err);
    if (rc)
        return rc;
    /* by (entity, family, time); at one time the run's order is kept (the
     * last change holds): ties are broken by the position in the run */
    conc_pt *cp = malloc((n ? n : 1) * sizeof *cp);
    if (!cp) {
        free(pts);
        return gl_err_set(r->err, GL_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < n; i++)
        cp[i] = (conc_pt){pts[i], i};
    qsort(cp, n, sizeof *cp, cmp_conc_pt);
    for (size_t i = 0; i < n; i++)
        pts[i] = cp[i].p;
    free(cp);
    conc_series *cs = calloc(n ? n : 1, sizeof *cs);
    if (!cs) {
        free(pts);
        return gl_err_set(r->err, GL_ENOMEM, "out of memory");
    }
    size_t ns = 0;
    uint64_t tmax = 0;
    for (size_t i = 0; i < n; i++) {
        tmax = pts[i].time > tmax ? pts[i].time : tmax;
        if (!ns || cs[ns - 1].entity != pts[i].entity || cs[ns - 1].wallet != pts[i].wallet ||
            strcmp(cs[ns - 1].family, pts[i].family))
            cs[ns++] = (conc_series){pts[i].entity, pts[i].wallet, pts[i].family, 0, 0, i, 0};
        conc_series *c = &cs[ns - 1];
        c->n++;
        if (pts[i].gpus > c->max)
            c->max = pts[i].gpus, c->max_at = pts[i].time;
    }
    qsort(cs, ns, sizeof *cs, cmp_conc_series);
    gl_rw_printf(w, "<p>GPUs held at once per buyer entity over time, by model family (a lease holds its GPUs "
                    "from its start to its end, extensions included), as <code>gpuledger concentration</code> "
                    "gives them; the chart shows the %d entities that held the most at their peak.",
                 CONC_CHART_SERIES);
    if (skipped)
        gl_rw_printf(w, " %zu lease(s) record no GPU count or duration on chain and are left out.", skipped);
    gl_rw_raw(w, "</p>");
    size_t shown = ns < CONC_CHART_SERIES ? ns : CONC_CHART_SERIES;
    double *x = calloc(2 * n + 2 * shown + 1, sizeof *x), *y = calloc(2 * n + 2 * shown + 1, sizeof *y);
    gl_svg_series *se = calloc(shown ? shown : 1, sizeof *se);
    char (*names)[96] = calloc(shown ? shown : 1, sizeof *names);
    if (!x || !y || !se || !names)
        rc = gl_err_set(r->err, GL_ENOMEM, "out of memory");
    size_t k = 0;
    for (size_t s = 0; s < shown && !rc; s++) {
        const conc_series *c = &cs[s];
        size_t start = k;
        for (size_t i = c->first; i < c->first + c->n; i++) {
            /* several changes at one time: the last one holds */
            if (k > start && x[k - 1] == (double)pts[i].time)
                k--;
            x[k] = (double)pts[i].time, y[k] = (double)pts[i].gpus, k++;
        }
        if (x[k - 1] < (double)tmax)
            x[k] = (double)tmax, y[k] = y[k - 1], k++;
        if (c->wallet) {
            char h[43];
            snprintf(names[s], sizeof names[s], "%s %s", gl_addr_hex(r->g->nodes[c->entity].addr, h), c->family);
        } else {
            snprintf(names[s], sizeof names[s], "entity %u %s", c->entity, c->family);
        }
        se[s] = (gl_svg_series){names[s], x + start, y + start, k - start, false, true, (unsigned)s};
    }
    if (!rc && shown) {
        gl_svg_axes ax = {"GPUs held at once per entity", "GPUs", true, "concentration-chart"};
        rc = gl_svg_lines(w->b, &ax, se, shown, r->err);
    } else if (!rc) {
        gl_rw_raw(w, "<p class=\"na\" id=\"concentration-na\">No lease records a GPU count and a duration: no "
                     "concentration can be given.</p>");
    }
    if (!rc && ns) {
        gl_rw_raw(w, "<input class=\"filter\" data-for=\"conc-table\" placeholder=\"filter entities\">"
                     "<span class=\"count\" data-for=\"conc-table\"></span><table class=\"sortable\" id=\"conc-table\">"
                     "<thead><tr><th data-key=\"entity\">entity</th><th data-key=\"class\">family</th>"
                     "<th data-key=\"max\" data-type=\"num\">most GPUs at once</th><th data-key=\"at\">first at (UTC)"
                     "</th><th data-key=\"changes\" data-type=\"num\">changes</th></tr></thead><tbody>");
        for (size_t s = 0; s < ns; s++) {
            const conc_series *c = &cs[s];
            char ent[48], h[43], at[32] = "";
            if (c->wallet)
                snprintf(ent, sizeof ent, "%s", gl_addr_hex(r->g->nodes[c->entity].addr, h));
            else
                snprintf(ent, sizeof ent, "%u", c->entity);
            time_t t = (time_t)c->max_at;
            struct tm tm;
            if (gmtime_r(&t, &tm))
                strftime(at, sizeof at, "%Y-%m-%d %H:%M:%S", &tm);
            gl_rw_printf(w, "<tr><td class=\"c-entity\">%s</td>", ent);
            td_text(w, "c-class", c->family);
            gl_rw_printf(w, "<td class=\"num c-max\">%llu</td><td class=\"c-at\" data-v=\"%llu\">%s</td>"
                            "<td class=\"num\">%zu</td></tr>",
                         (unsigned long long)c->max, (unsigned long long)c->max_at, at, c->n);
        }
        gl_rw_raw(w, "</tbody></table>");
    }
    free(x), free(y), free(se), free(names), free(cs), free(pts);
    return rc;
}

static gl_code section_market(report *r)
{
    gl_rw *w = &r->w;
    gl_rw_raw(w, "<section id=\"market\"><h2>Market</h2><h3 id=\"volume\">Volume over time per platform (gross "
                 "against net)</h3>");
    gl_code rc = volume_part(r);
    if (!rc) {
        gl_rw_raw(w, "<h3 id=\"prices\">Price per GPU-hour by model</h3>");
        rc = prices_part(r);
    }
    if (!rc) {
        gl_rw_raw(w, "<h3 id=\"concentration\">Concentration: GPUs held per entity over time</h3>");
        rc = concentration_part(r);
    }
    gl_rw_raw(w, "</section>");
    r->st.volume = !rc;
    return rc;
}

/* ---------------------------------------------------------- entities */

typedef struct ent_count {
    uint32_t entity;
    size_t purchases;
    gl_u256 *spend;      /* per token of the page's token list */
    long double main;    /* spend in the main token (the ranking) */
} ent_count;

static int cmp_ent(const void *a, const void *b)
{
    const ent_count *x = a, *y = b;
    if (x->main != y->main)
        return x->main > y->main ? -1 : 1;
    if (x->purchases != y->purchases)
        return x->purchases > y->purchases ? -1 : 1;
    return x->entity < y->entity ? -1 : x->entity > y->entity;
}

static gl_code section_entities(report *r)
{
    gl_rw *w = &r->w;
    const gl_graph *g = r->g;
    const gl_market *m = r->m;
    /* the tokens paid in (by address), and how many purchases each */
    size_t nt = 0;
    const gl_market_token **tok = calloc(g->n_purchases + 1, sizeof *tok);
    size_t *tok_n = calloc(g->n_purchases + 1, sizeof *tok_n), *tok_of = calloc(g->n_purchases + 1, sizeof *tok_of);
    uint32_t max_e = 0;
    bool any = false;
    for (size_t i = 0; tok && tok_n && tok_of && i < g->n_purchases; i++) {
        const gl_market_token *t = gl_market_token_of(m, &g->purchases[i]);
        size_t k = 0;
        while (k < nt && strcmp(tok[k]->address, t->address))
            k++;
        if (k == nt)
            tok[nt++] = t;
        tok_n[k]++;
        tok_of[i] = k;
        if (m->buys[i].buyer_entity != GL_ENTITY_NONE) {
            max_e = m->buys[i].buyer_entity > max_e ? m->buys[i].buyer_entity : max_e;
            any = true;
        }
    }
    size_t ne = any ? (size_t)max_e + 1 : 0;
    ent_count *ec = calloc(ne ? ne : 1, sizeof *ec);
    gl_u256 *sp = calloc((ne ? ne : 1) * (nt ? nt : 1), sizeof *sp);
    if (!tok || !tok_n || !tok_of || !ec || !sp) {
        free(tok), free(tok_n), free(tok_of), free(ec), free(sp);
        return gl_err_set(r->err, GL_ENOMEM, "out of memory counting spend per entity");
    }
    size_t main_tok = 0;
    for (size_t k = 1; k < nt; k++)
        main_tok = tok_n[k] > tok_n[main_tok] ? k : main_tok;
    for (size_t e = 0; e < ne; e++)
        ec[e] = (ent_count){(uint32_t)e, 0, sp + e * (nt ? nt : 1), 0};
    gl_code rc = GL_OK;
    for (size_t i = 0; i < g->n_purchases && !rc; i++) {
        uint32_t e = m->buys[i].buyer_entity;
        if (e == GL_ENTITY_NONE)
            continue;
        ec[e].purchases++;
        rc = gl_u256_add(&ec[e].spend[tok_of[i]], &ec[e].spend[tok_of[i]], &g->purchases[i].amount, r->err);
    }
    size_t m_ = 0;
    for (size_t e = 0; e < ne; e++)
        if (ec[e].purchases) {
            ec[e].main = nt ? gl_market_amount_value(&ec[e].spend[main_tok], tok[main_tok]->decimals) : 0;
            ec[m_++] = ec[e];
        }
    qsort(ec, m_, sizeof *ec, cmp_ent);
    size_t top = r->o->top_entities ? r->o->top_entities : GL_REPORT_TOP_ENTITIES_DEFAULT;
    if (top > m_)
        top = m_;
    gl_rw_printf(w, "<section id=\"entities\"><h2>Top entities by spend</h2><p>The %zu buying entities (of %zu "
                    "that bought) that spent the most in %s, the token most purchases were paid in; gross spend "
                    "per token in whole tokens, self-dealing and circular purchases included. An entity is the "
                    "addresses the analysis believes are one actor. Click a token's header to rank by it.</p>",
                 top, m_, nt ? tok[main_tok]->symbol : "any token");
    gl_rw_raw(w, "<input class=\"filter\" data-for=\"entities-table\" placeholder=\"filter entities\">"
                 "<span class=\"count\" data-for=\"entities-table\"></span>"
                 "<table class=\"sortable\" id=\"entities-table\"><thead><tr><th data-key=\"rank\" data-type=\"num\">#</th>"
                 "<th data-key=\"entity\" data-type=\"num\">entity</th><th data-key=\"kind\">kind</th>"
                 "<th data-key=\"label\">label</th><th data-key=\"size\" data-type=\"num\">addresses</th>"
                 "<th data-key=\"purchases\" data-type=\"num\">purchases</th>");
    for (size_t k = 0; k < nt; k++) {
        gl_rw_raw(w, "<th data-type=\"num\" data-key=\"");
        gl_rw_esc(w, tok[k]->symbol);
        gl_rw_raw(w, "\">");
        gl_rw_esc(w, tok[k]->symbol);
        gl_rw_raw(w, "</th>");
    }
    gl_rw_raw(w, "<th data-key=\"flagged\" data-type=\"num\">flagged wallets</th></tr></thead><tbody>");
    for (size_t i = 0; i < top && !rc; i++) {
        json_t *e = NULL;
        if ((rc = gl_results_get_entity(r->s, ec[i].entity, &e, r->err)))
            break;
        size_t nflag = 0;
        for (size_t j = 0; j < json_array_size(r->flags); j++)
            nflag += json_integer_value(json_object_get(json_array_get(r->flags, j), "entity")) == (json_int_t)ec[i].entity;
        gl_rw_printf(w, "<tr id=\"entity-%u\"><td class=\"num\">%zu</td><td class=\"num c-entity\">%u</td><td class=\"c-kind\">",
                     ec[i].entity, i + 1, ec[i].entity);
        gl_rw_esc(w, js(e, "kind"));
        gl_rw_raw(w, "</td><td class=\"c-label\">");
        gl_rw_esc(w, js(e, "label"));
        gl_rw_printf(w, "</td><td class=\"num c-size\">%lld</td><td class=\"num c-purchases\">%zu</td>",
                     (long long)json_integer_value(json_object_get(e, "size")), ec[i].purchases);
        for (size_t k = 0; k < nt; k++) {
            char txt[GL_U256_DEC_MAX + 4];
            if (gl_u256_is_zero(&ec[i].spend[k]))
                snprintf(txt, sizeof txt, "0");
            else
                gl_market_amount_text(&ec[i].spend[k], tok[k]->decimals, txt);
            td_amount(w, "c-spend", txt);
        }
        gl_rw_printf(w, "<td class=\"num c-flagged\">%zu</td></tr>", nflag);
        json_decref(e);
        r->st.entities++;
    }
    gl_rw_raw(w, "</tbody></table></section>");
    free(tok), free(tok_n), free(tok_of), free(ec), free(sp);
    return rc;
}

/* ------------------------------------------------------------- flags */

static int collect_flag(void *ctx, json_t *rec)
{
    report *r = ctx;
    if (json_is_true(json_object_get(rec, "flagged")))
        return json_array_append(r->flags, rec) ? 1 : 0;
    return 0;
}

static int cmp_flag(const void *a, const void *b)
{
    json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
    double sx = json_real_value(json_object_get(x, "score")), sy = json_real_value(json_object_get(y, "score"));
    if (sx != sy)
        return sx > sy ? -1 : 1;
    return strcmp(js(x, "address"), js(y, "address"));
}

static gl_code load_flags(report *r)
{
    r->flags = json_array();
    if (!r->flags)
        return gl_err_set(r->err, GL_ENOMEM, "out of memory");
    gl_code rc = gl_results_each(r->s, 'f', collect_flag, r, r->err);
    if (rc == GL_ECANCELED)
        return gl_err_set(r->err, GL_ENOMEM, "out of memory collecting flags");
    if (rc)
        return rc;
    size_t n = json_array_size(r->flags);
    json_t **v = malloc((n ? n : 1) * sizeof *v);
    json_t *sorted = json_array();
    if (!v || !sorted) {
        free(v);
        json_decref(sorted);
        return gl_err_set(r->err, GL_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < n; i++)
        v[i] = json_array_get(r->flags, i);
    qsort(v, n, sizeof *v, cmp_flag);
    for (size_t i = 0; i < n; i++)
        json_array_append(sorted, v[i]);
    free(v);
    json_decref(r->flags);
    r->flags = sorted;
    return GL_OK;
}

/* An evidence position: a link to the explorer set for its chain, else
 * text.  key: "chain:block:tx_hash:log|tx index", as `flags --format csv`. */
static void evidence_item(report *r, json_t *p, const char *signal, const char *key)
{
    gl_rw *w = &r->w;
    json_t *li = json_object_get(p, "log_index");
    uint64_t chain = (uint64_t)json_integer_value(json_object_get(p, "chain_id"));
    const char *hash = json_string_value(json_object_get(p, "tx_hash"));
    const char *base = hash ? gl_report_explorer_for(r->o, chain) : NULL;
    char shown[96];
    snprintf(shown, sizeof shown, "%llu:%lld:%s %lld", (unsigned long long)chain,
             (long long)json_integer_value(json_object_get(p, "block")), json_is_integer(li) ? "log" : "tx",
             (long long)json_integer_value(json_is_integer(li) ? li : json_object_get(p, "tx_index")));
    if (base)
        gl_rw_tx_link_open(w, base, hash);
    else
        gl_rw_raw(w, "<span");
    gl_rw_raw(w, " data-pos=\"");
    gl_rw_esc(w, key);
    gl_rw_raw(w, "\" title=\"");
    gl_rw_esc(w, signal);
    gl_rw_raw(w, ": ");
    gl_rw_esc(w, json_string_value(json_object_get(p, "record")));
    gl_rw_raw(w, " in tx ");
    gl_rw_esc(w, hash ? hash : "(not stored)");
    gl_rw_raw(w, "\">");
    gl_rw_esc(w, shown);
    gl_rw_raw(w, base ? "</a>" : "</span>");
}

static void flag_row(report *r, size_t i, json_t *f)
{
    gl_rw *w = &r->w;
    const char *addr = js(f, "address");
    gl_rw_raw(w, "<tr id=\"flag-");
    gl_rw_esc(w, addr);
    gl_rw_printf(w, "\"><td class=\"num\">%zu</td><td class=\"mono c-addr\">", i + 1);
    gl_rw_esc(w, addr);
    gl_rw_printf(w, "</td><td class=\"num c-entity\">%lld</td><td class=\"num c-score\">%.4f</td><td class=\"c-typ\">",
                 (long long)json_integer_value(json_object_get(f, "entity")), json_real_value(json_object_get(f, "score")));
    gl_rw_esc(w, js(f, "typology"));
    gl_rw_raw(w, "</td><td class=\"mono c-ben\">");
    gl_rw_esc(w, json_string_value(json_object_get(f, "beneficiary")) ? js(f, "beneficiary") : "(not inferable)");
    json_t *be = json_object_get(f, "beneficiary_entity");
    if (json_is_integer(be))
        gl_rw_printf(w, " <span class=\"muted\">(entity %lld)</span>", (long long)json_integer_value(be));
    gl_rw_raw(w, "</td><td class=\"c-fam\">");
    json_t *fams = json_object_get(f, "families");
    for (size_t j = 0; j < json_array_size(fams); j++) {
        gl_rw_raw(w, j ? " " : "");
        gl_rw_esc(w, json_string_value(json_array_get(fams, j)));
    }
    gl_rw_raw(w, "</td><td class=\"c-sig\">");
    json_t *sigs = json_object_get(f, "signals");
    for (size_t j = 0; j < json_array_size(sigs); j++) {
        json_t *sg = json_array_get(sigs, j);
        gl_rw_raw(w, "<span class=\"tag\">");
        gl_rw_esc(w, js(sg, "signal"));
        gl_rw_printf(w, " %.2f</span>", json_real_value(json_object_get(sg, "value")));
    }
    /* every signal's evidence positions, once each (as the CSV lists them) */
    gl_rw_raw(w, "</td><td class=\"ev c-ev\">");
    json_t *seen = json_object();
    size_t n_ev = 0;
    for (size_t j = 0; j < json_array_size(sigs) && seen; j++) {
        json_t *sg = json_array_get(sigs, j), *ev = json_object_get(sg, "evidence");
        for (size_t k = 0; k < json_array_size(ev); k++) {
            json_t *p = json_array_get(ev, k), *li = json_object_get(p, "log_index");
            char key[200];
            snprintf(key, sizeof key, "%lld:%lld:%s:%s%lld", (long long)json_integer_value(json_object_get(p, "chain_id")),
                     (long long)json_integer_value(json_object_get(p, "block")), js(p, "tx_hash"),
                     json_is_integer(li) ? "log" : "tx",
                     (long long)json_integer_value(json_is_integer(li) ? li : json_object_get(p, "tx_index")));
            if (json_object_get(seen, key))
                continue;
            json_object_set_new(seen, key, json_true());
            evidence_item(r, p, js(sg, "signal"), key);
            n_ev++;
        }
    }
    json_decref(seen);
    if (!n_ev)
        gl_rw_raw(w, "<span class=\"muted\">none kept</span>");
    gl_rw_raw(w, "</td></tr>");
}

static void section_flags(report *r)
{
    gl_rw *w = &r->w;
    size_t n = json_array_size(r->flags);
    gl_rw_printf(w, "<section id=\"flags\"><h2>Flagged proxy buyers</h2><p>%zu wallet(s) flagged as probable proxy "
                    "buyers (as <code>gpuledger flags</code> lists them): a flag needs a score of at least the "
                    "threshold and signals from two families (see Methods). Click a header to sort; type to filter "
                    "(<code>typology:sponsor</code> filters one column; the page also takes "
                    "<code>#filter=TEXT</code> in its address). Positions link to a block explorer where one was "
                    "set for the chain (<code>--explorer CHAIN_ID=URL</code>).</p>",
                 n);
    gl_rw_raw(w, "<input class=\"filter\" id=\"flags-filter\" data-for=\"flags-table\" placeholder=\"filter flags "
                 "(text, or column:text)\"><span class=\"count\" id=\"flags-count\" data-for=\"flags-table\"></span>"
                 "<table class=\"sortable\" id=\"flags-table\"><thead><tr><th data-key=\"rank\" data-type=\"num\">#</th>"
                 "<th data-key=\"address\">wallet</th><th data-key=\"entity\" data-type=\"num\">entity</th>"
                 "<th data-key=\"score\" data-type=\"num\">score</th><th data-key=\"typology\">typology</th>"
                 "<th data-key=\"beneficiary\">beneficiary</th><th data-key=\"families\">families</th>"
                 "<th data-key=\"signals\">signals</th><th data-key=\"evidence\">evidence positions</th></tr></thead><tbody>");
    for (size_t i = 0; i < n; i++)
        flag_row(r, i, json_array_get(r->flags, i));
    gl_rw_raw(w, "</tbody></table></section>");
    r->st.flags = n;
}

/* ---------------------------------------------------------- pictures */

static gl_code section_flows(report *r)
{
    gl_rw *w = &r->w;
    size_t top = r->o->trace_top ? r->o->trace_top : GL_REPORT_TRACE_TOP_DEFAULT;
    uint32_t hops = r->o->trace_hops ? r->o->trace_hops : GL_REPORT_TRACE_HOPS_DEFAULT;
    size_t maxn = r->o->trace_nodes ? r->o->trace_nodes : GL_REPORT_TRACE_NODES_DEFAULT;
    if (top > json_array_size(r->flags))
        top = json_array_size(r->flags);
    gl_rw_printf(w, "<section id=\"flows\"><h2>Fund flows around the top flagged wallets</h2><p>The transfers "
                    "within %u hop(s) of each of the %zu highest-scored flagged wallets, both directions (as "
                    "<code>gpuledger trace ADDR --direction both --hops %u --max-nodes %zu</code>): money in on "
                    "the left, out on the right. Hubs (exchanges, bridges, platform and token contracts, busy "
                    "services) are grey boxes, shown but not expanded; flagged wallets are red, other scored buyers "
                    "orange; the wallet asked about is ringed. Hover for addresses, amounts and scores.</p>",
                 hops, top, hops, maxn);
    gl_trace_ctx *c = top ? gl_trace_ctx_new(r->g, r->s, 0, r->err) : NULL;
    if (top && !c)
        return r->err && r->err->code ? r->err->code : GL_ENOMEM;
    gl_code rc = GL_OK;
    for (size_t i = 0; i < top && !rc; i++) {
        json_t *f = json_array_get(r->flags, i);
        uint8_t a[20];
        if (gl_hex_decode_exact(js(f, "address"), a, 20, NULL))
            continue;
        uint32_t root = gl_graph_find(r->g, a);
        gl_rw_raw(w, "<div class=\"flowbox\"><h3>");
        gl_rw_esc(w, js(f, "address"));
        gl_rw_printf(w, " <span class=\"muted\">score %.4f, ", json_real_value(json_object_get(f, "score")));
        gl_rw_esc(w, js(f, "typology"));
        if (json_string_value(json_object_get(f, "beneficiary"))) {
            gl_rw_raw(w, ", buys for ");
            gl_rw_esc(w, js(f, "beneficiary"));
        }
        gl_rw_raw(w, "</span></h3>");
        if (root == GL_NODE_NONE ||
            (r->g->out_off[root] == r->g->out_off[root + 1] && r->g->in_off[root] == r->g->in_off[root + 1])) {
            gl_rw_raw(w, "<p class=\"muted\">it moved no money in this store (no transfer names it).</p></div>");
            continue;
        }
        gl_trace_opts to = {.direction = GL_TRACE_BOTH, .hops = hops, .max_nodes = maxn};
        gl_flow *fl = NULL;
        if ((rc = gl_trace_subgraph(c, root, &to, &fl, r->err)))
            break;
        char id[64];
        snprintf(id, sizeof id, "flow-%zu", i + 1);
        rc = gl_svg_flow(r->w.b, fl, id, r->err);
        gl_rw_printf(w, "<p class=\"muted\">%zu wallet(s), %zu edge(s)%s.</p></div>", fl->n_nodes, fl->n_edges,
                     fl->truncated ? "; cut short at the wallet limit" : "");
        r->st.pictures++;
        gl_flow_free(fl);
    }
    gl_trace_ctx_free(c);
    gl_rw_raw(w, "</section>");
    return rc;
}

/* ---------------------------------------------------------- findings */

static gl_code section_findings(report *r)
{
    gl_rw *w = &r->w;
    uint64_t *ids = NULL;
    char(*names)[GL_STORE_NAME_MAX] = NULL;
    size_t nb = 0;
    gl_code rc = gl_store_list_bindings(r->s, &ids, &names, &nb, r->err);
    if (rc)
        return rc;
    json_t *by_kind = json_object(); /* kind -> [finding...] */
    size_t total = 0;
    for (size_t i = 0; i < nb && !rc && by_kind; i++) {
        bool dup = false;
        for (size_t j = 0; j < i; j++)
            dup |= ids[j] == ids[i];
        if (dup)
            continue;
        gl_store_iter *it = gl_store_iter_findings(r->s, ids[i], 0, UINT64_MAX, r->err);
        if (!it) {
            rc = r->err && r->err->code ? r->err->code : GL_ENOMEM;
            break;
        }
        for (;;) {
            gl_store_finding fd;
            bool end;
            if ((rc = gl_store_next_finding(it, &fd, &end, r->err)) || end)
                break;
            const char *kind = json_string_value(json_object_get(fd.json, "kind"));
            json_t *list = json_object_get(by_kind, kind ? kind : "(no kind)");
            if (!list) {
                list = json_array();
                json_object_set_new(by_kind, kind ? kind : "(no kind)", list);
            }
            json_array_append_new(list, json_pack("{s:I,s:I,s:I,s:o}", "chain_id", (json_int_t)fd.chain_id, "block",
                                                  (json_int_t)fd.block, "seq", (json_int_t)fd.seq, "finding", fd.json));
            total++;
        }
        gl_store_iter_free(it);
    }
    free(ids);
    free(names);
    if (!by_kind)
        return gl_err_set(r->err, GL_ENOMEM, "out of memory");
    if (rc) {
        json_decref(by_kind);
        return rc;
    }
    gl_rw_printf(w, "<section id=\"findings\"><h2>Integrity findings</h2><p>What endpoints said that did not check "
                    "out (a sender that does not match the signature, a block hash that does not match its header, "
                    "endpoints that disagree, reorgs), as the indexer stored them: <span id=\"findings-total\">%zu"
                    "</span> finding(s)",
                 total);
    if (!total) {
        gl_rw_raw(w, ". None: every answer stored checked out.</p></section>");
        json_decref(by_kind);
        return GL_OK;
    }
    gl_rw_raw(w, ", grouped by kind.</p>");
    const char *kind;
    json_t *list;
    size_t t = 0;
    json_object_foreach(by_kind, kind, list) {
        t++;
        gl_rw_printf(w, "<h3>");
        gl_rw_esc(w, kind);
        gl_rw_printf(w, " <span class=\"muted\">(<span class=\"findings-n\">%zu</span>)</span></h3>"
                        "<table class=\"sortable findings\" id=\"findings-%zu\" data-kind=\"",
                     json_array_size(list), t);
        gl_rw_esc(w, kind);
        gl_rw_raw(w, "\"><thead><tr><th data-key=\"chain\" data-type=\"num\">chain</th><th data-key=\"block\" "
                     "data-type=\"num\">block</th><th data-key=\"platform\">platform</th><th data-key=\"detail\">"
                     "what was found</th></tr></thead><tbody>");
        for (size_t i = 0; i < json_array_size(list); i++) {
            json_t *x = json_array_get(list, i), *fd = json_object_get(x, "finding");
            gl_rw_printf(w, "<tr><td class=\"num\">%lld</td><td class=\"num\">%lld</td><td>",
                         (long long)json_integer_value(json_object_get(x, "chain_id")),
                         (long long)json_integer_value(json_object_get(x, "block")));
            gl_rw_esc(w, js(fd, "platform"));
            json_t *rest = json_deep_copy(fd);
            json_object_del(rest, "kind");
            json_object_del(rest, "platform");
            char *txt = rest ? json_dumps(rest, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
            gl_rw_raw(w, "</td><td class=\"mono\">");
            gl_rw_esc_cut(w, txt ? txt : "", 600);
            gl_rw_raw(w, "</td></tr>");
            free(txt);
            json_decref(rest);
        }
        gl_rw_raw(w, "</tbody></table>");
    }
    gl_rw_raw(w, "</section>");
    r->st.findings = total;
    json_decref(by_kind);
    return GL_OK;
}

/* ----------------------------------------------------------- methods */

static void section_methods(report *r)
{
    gl_rw *w = &r->w;
    gl_rw_raw(w, "<section id=\"methods\"><h2>Methods</h2>"
                 "<p>The indexer reads marketplace events and the token flows around them from JSON-RPC endpoints "
                 "and checks what they say: transaction senders are recovered from signatures and block hashes "
                 "recomputed from headers; what does not match is an integrity finding, above. The analyzer then "
                 "reads the store once into a graph and runs, in order: <b>hubs</b> (services nothing is merged "
                 "through: labelled exchanges, bridges, platform and token contracts, exchange hot wallets found by "
                 "their sweeps, busy addresses), <b>links</b> (hard rules that say two addresses are one actor are "
                 "merged; soft rules merge only when two different ones agree), <b>entities</b> (components of the "
                 "merged links, with a kind), and <b>proxy signals</b> per buying wallet in families (funding, "
                 "identity, lifecycle, settlement, coordination; context is reported but never counted). A wallet "
                 "is flagged when its score reaches the threshold with signals from at least the required number "
                 "of families; the typology is a guess from which signals fired, the beneficiary where the money "
                 "leads upstream. Purchases between one entity's wallets (self-dealing) or around a cycle of "
                 "entities (circular) are marked, and net volume leaves them out.</p>"
                 "<p>Every rule, default and its reason, and how well the analysis does on simulated markets, is "
                 "in <code>docs/METHODS.md</code> of the gpuledger source. The parameters this analysis used "
                 "(its record <code>p</code>):</p>");
    gl_rw_raw(w, "<table id=\"params-table\"><thead><tr><th>parameter</th><th>value</th></tr></thead><tbody>");
    const char *k;
    json_t *v;
    json_object_foreach(r->params, k, v) {
        char *txt = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
        gl_rw_raw(w, "<tr><td class=\"mono\">");
        gl_rw_esc(w, k);
        gl_rw_raw(w, "</td><td class=\"num mono\">");
        gl_rw_esc(w, txt ? txt : "");
        gl_rw_raw(w, "</td></tr>");
        free(txt);
    }
    gl_rw_raw(w, "</tbody></table>");
    json_t *cf = json_object_get(r->stamp, "computed_from");
    if (json_is_object(r->stamp)) {
        gl_rw_printf(w, "<p>The analysis read %lld event(s), %lld transfer(s), %lld transaction(s), %lld block(s) and "
                        "%lld label(s), and found %lld entities over %lld addresses (%lld links, %lld buying wallets "
                        "scored).</p>",
                     (long long)json_integer_value(json_object_get(cf, "events")),
                     (long long)json_integer_value(json_object_get(cf, "transfers")),
                     (long long)json_integer_value(json_object_get(cf, "txs")),
                     (long long)json_integer_value(json_object_get(cf, "blocks")),
                     (long long)json_integer_value(json_object_get(cf, "labels")),
                     (long long)json_integer_value(json_object_get(r->stamp, "entities")),
                     (long long)json_integer_value(json_object_get(r->stamp, "addresses")),
                     (long long)json_integer_value(json_object_get(r->stamp, "links")),
                     (long long)json_integer_value(json_object_get(r->stamp, "scored")));
        json_t *cur = json_object_get(cf, "cursors");
        if (json_array_size(cur)) {
            gl_rw_raw(w, "<p>Indexed up to: ");
            for (size_t i = 0; i < json_array_size(cur); i++) {
                json_t *c = json_array_get(cur, i);
                gl_rw_raw(w, i ? "; " : "");
                gl_rw_esc(w, js(c, "name"));
                gl_rw_printf(w, " on chain %lld, block %lld", (long long)json_integer_value(json_object_get(c, "chain_id")),
                             (long long)json_integer_value(json_object_get(c, "block")));
            }
            gl_rw_raw(w, ".</p>");
        }
    }
    gl_rw_raw(w, "</section>");
}

/* ------------------------------------------------------------ script */

/* Sorting (click a header: numbers by value, text by text; again to
 * reverse), filtering (a box per table: every word must appear in the row,
 * "column:text" in that column) and #filter=... applied on load. */
static const char *const script =
    "(function(){'use strict';\n"
    "function cellText(td){return (td.getAttribute('data-v')||td.textContent||'').toLowerCase();}\n"
    "function keys(t){return Array.prototype.map.call(t.tHead.rows[0].cells,function(th){return th.getAttribute('data-key')||'';});}\n"
    "function apply(t,q){var ks=keys(t),words=q.toLowerCase().split(/\\s+/).filter(Boolean),shown=0,rows=t.tBodies[0].rows;\n"
    " for(var i=0;i<rows.length;i++){var r=rows[i],ok=true;\n"
    "  for(var j=0;j<words.length&&ok;j++){var w=words[j],c=w.indexOf(':'),col=c>0?ks.indexOf(w.slice(0,c)):-1;\n"
    "   if(col>=0){ok=cellText(r.cells[col]).indexOf(w.slice(c+1))>=0;}else{ok=r.textContent.toLowerCase().indexOf(w)>=0;}}\n"
    "  r.style.display=ok?'':'none';if(ok)shown++;}\n"
    " var cnt=document.querySelector('.count[data-for=\"'+t.id+'\"]');if(cnt)cnt.textContent=shown+' of '+rows.length+' shown';\n"
    " t.setAttribute('data-shown',shown);return shown;}\n"
    "function sortBy(t,th){var i=th.cellIndex,num=th.getAttribute('data-type')==='num',asc=!th.classList.contains('asc');\n"
    " Array.prototype.forEach.call(t.tHead.rows[0].cells,function(h){h.classList.remove('asc','desc');});\n"
    " th.classList.add(asc?'asc':'desc');var b=t.tBodies[0],rows=Array.prototype.slice.call(b.rows);\n"
    " rows.sort(function(x,y){var a=x.cells[i].getAttribute('data-v')||x.cells[i].textContent,c=y.cells[i].getAttribute('data-v')||y.cells[i].textContent,d;\n"
    "  if(num){d=(parseFloat(a)||0)-(parseFloat(c)||0);}else{d=a.localeCompare(c);}return asc?d:-d;});\n"
    " rows.forEach(function(r){b.appendChild(r);});}\n"
    "document.querySelectorAll('table.sortable').forEach(function(t){\n"
    " Array.prototype.forEach.call(t.tHead.rows[0].cells,function(th){th.addEventListener('click',function(){sortBy(t,th);});});\n"
    " apply(t,'');});\n"
    "document.querySelectorAll('input.filter').forEach(function(inp){var t=document.getElementById(inp.getAttribute('data-for'));\n"
    " if(t)inp.addEventListener('input',function(){apply(t,inp.value);});});\n"
    "function fromHash(){var m=/(?:^#|&)filter=([^&]*)/.exec(location.hash);if(!m)return;\n"
    " var q=decodeURIComponent(m[1].replace(/\\+/g,' ')),inp=document.getElementById('flags-filter'),t=document.getElementById('flags-table');\n"
    " if(inp&&t){inp.value=q;apply(t,q);}}\n"
    "window.addEventListener('hashchange',fromHash);fromHash();\n"
    "document.body.setAttribute('data-ready','1');\n"
    "})();\n";

/* ============================================================== build */

static gl_code read_record(report *r, char key, json_t **out)
{
    char *v = NULL;
    size_t vl = 0;
    *out = NULL;
    gl_code rc = gl_store_get_analysis(r->s, &key, 1, &v, &vl, r->err);
    if (rc)
        return rc;
    if (v)
        *out = json_loadb(v, vl, 0, NULL);
    free(v);
    if (!*out)
        *out = json_object();
    return *out ? GL_OK : gl_err_set(r->err, GL_ENOMEM, "out of memory");
}

gl_code gl_report_build(gl_store *s, const gl_report_opts *o, gl_buf *out, gl_report_stats *stats, gl_err *err)
{
    static const gl_report_opts none = {0};
    report r = {.s = s, .o = o ? o : &none, .w = {out, false}, .err = err};
    if (stats)
        *stats = (gl_report_stats){0};
    bool found, stale;
    gl_code rc = gl_results_status(s, &found, &stale, NULL, err);
    if (rc)
        return rc;
    if (!found)
        return gl_err_set(err, GL_EINVAL, "no analysis in this store: run gpuledger analyze first");
    r.st.stale = stale;
    if ((rc = read_record(&r, 'p', &r.params)) || (rc = read_record(&r, 's', &r.stamp)) || (rc = load_flags(&r)))
        goto out;
    if (!(r.defs = gl_market_defs_new(s))) {
        rc = gl_err_set(err, GL_ENOMEM, "out of memory");
        goto out;
    }
    if ((rc = gl_gpu_models_builtin(&r.models, err)))
        goto out;
    if (!(r.g = gl_graph_load(s, gl_market_def, r.defs, err))) {
        rc = err && err->code ? err->code : GL_ENOMEM;
        goto out;
    }
    if ((rc = gl_market_load(&r.m, s, r.g, gl_market_def, r.defs, r.models, err)))
        goto out;
    page_head(&r);
    if ((rc = section_market(&r)) || (rc = section_entities(&r)))
        goto out;
    section_flags(&r);
    if ((rc = gl_report_providers_section(&r.w, s, r.m, r.defs, r.o, &r.st.providers, err)) ||
        (rc = section_flows(&r)) || (rc = section_findings(&r)))
        goto out;
    section_methods(&r);
    gl_rw_raw(&r.w, "</main><script>");
    gl_rw_raw(&r.w, script);
    gl_rw_raw(&r.w, "</script></body></html>\n");
    if (r.w.oom)
        rc = gl_err_set(err, GL_ENOMEM, "out of memory writing the report");
out:
    if (stats)
        *stats = r.st;
    json_decref(r.flags);
    json_decref(r.params);
    json_decref(r.stamp);
    gl_market_free(r.m);
    gl_graph_free(r.g);
    gl_gpu_models_free(r.models);
    gl_market_defs_free(r.defs);
    return rc;
}
