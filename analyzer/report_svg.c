/* report_svg.c - the report's charts as inline SVG: line (and step) charts,
 * range bars (p10-p50-p90) and fund-flow pictures with a layered layout.
 *
 * Drawing only: figures come in computed.  Every text from the chain, labels
 * or the caller is escaped; coordinates are printed with one decimal.  No
 * fonts or images are referenced, so the page needs nothing from outside.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gpuledger/graph.h"
#include "report_int.h"

/* ------------------------------------------------------------ helpers */

static const char *const palette[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                                      "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};
#define PALETTE_N (sizeof palette / sizeof palette[0])

static gl_code done(gl_rw *w, gl_err *err)
{
    return w->oom ? gl_err_set(err, GL_ENOMEM, "out of memory drawing a chart") : GL_OK;
}

/* A "nice" step for about n ticks over span. */
static double nice_step(double span, int n)
{
    if (!(span > 0))
        return 1;
    double raw = span / n, mag = pow(10, floor(log10(raw))), f = raw / mag;
    return (f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10) * mag;
}

static void fmt_num(char *out, size_t cap, double v)
{
    double a = fabs(v);
    if (a >= 1e9)
        snprintf(out, cap, "%.3gG", v / 1e9);
    else if (a >= 1e6)
        snprintf(out, cap, "%.3gM", v / 1e6);
    else if (a >= 1e4)
        snprintf(out, cap, "%.3gk", v / 1e3);
    else
        snprintf(out, cap, "%.4g", v);
}

static void fmt_day(char *out, size_t cap, double t, bool hours)
{
    time_t tt = (time_t)t;
    struct tm tm;
    if (!gmtime_r(&tt, &tm))
        snprintf(out, cap, "?");
    else
        strftime(out, cap, hours ? "%m-%d %H:%M" : "%Y-%m-%d", &tm);
}

static void svg_open(gl_rw *w, const gl_svg_axes *ax, int width, int height)
{
    gl_rw_printf(w, "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" width=\"%d\" height=\"%d\" "
                    "viewBox=\"0 0 %d %d\" role=\"img\"", width, height, width, height);
    if (ax && ax->id) {
        gl_rw_raw(w, " id=\"");
        gl_rw_esc(w, ax->id);
        gl_rw_raw(w, "\"");
    }
    if (ax && ax->title) {
        gl_rw_raw(w, " aria-label=\"");
        gl_rw_esc(w, ax->title);
        gl_rw_raw(w, "\"><title>");
        gl_rw_esc(w, ax->title);
        gl_rw_raw(w, "</title>");
    } else {
        gl_rw_raw(w, ">");
    }
}

/* --------------------------------------------------------- line charts */

#define LC_W 920
#define LC_H 250
#define LC_L 70
#define LC_R 230
#define LC_T 16
#define LC_B 40

gl_code gl_svg_lines(gl_buf *out, const gl_svg_axes *ax, const gl_svg_series *series, size_t n_series, gl_err *err)
{
    gl_rw w = {out, false};
    double x0 = INFINITY, x1 = -INFINITY, y1 = 0;
    for (size_t s = 0; s < n_series; s++)
        for (size_t i = 0; i < series[s].n; i++) {
            x0 = fmin(x0, series[s].x[i]);
            x1 = fmax(x1, series[s].x[i]);
            y1 = fmax(y1, series[s].y[i]);
        }
    svg_open(&w, ax, LC_W, LC_H);
    if (!(x0 <= x1)) {
        gl_rw_printf(&w, "<text x=\"%d\" y=\"%d\" class=\"muted\">no data</text></svg>", LC_L, LC_H / 2);
        return done(&w, err);
    }
    if (x1 == x0) {
        x0 -= 43200;
        x1 += 43200;
    }
    double ystep = nice_step(y1 > 0 ? y1 : 1, 5);
    double ymax = ceil((y1 > 0 ? y1 : 1) / ystep) * ystep;
    double pw = LC_W - LC_L - LC_R, ph = LC_H - LC_T - LC_B;
#define X(v) (LC_L + ((v) - x0) / (x1 - x0) * pw)
#define Y(v) (LC_T + ph - (v) / ymax * ph)
    /* axes and grid */
    gl_rw_printf(&w, "<g class=\"axis\">");
    for (double v = 0; v <= ymax * 1.0001; v += ystep) {
        char t[32];
        fmt_num(t, sizeof t, v);
        gl_rw_printf(&w, "<line x1=\"%d\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" class=\"grid\"/>"
                         "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%s</text>",
                     LC_L, LC_L + pw, Y(v), Y(v), LC_L - 6, Y(v) + 4, t);
    }
    for (int i = 0; i <= 4; i++) {
        double v = x0 + (x1 - x0) * i / 4;
        char t[32];
        if (ax && ax->x_is_time)
            fmt_day(t, sizeof t, v, x1 - x0 < 4 * 86400.0);
        else
            fmt_num(t, sizeof t, v);
        gl_rw_printf(&w, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%s</text>", X(v), LC_H - LC_B + 18, t);
    }
    gl_rw_printf(&w, "<line x1=\"%d\" x2=\"%d\" y1=\"%d\" y2=\"%.1f\"/><line x1=\"%d\" x2=\"%.1f\" y1=\"%.1f\" "
                     "y2=\"%.1f\"/>",
                 LC_L, LC_L, LC_T, LC_T + ph, LC_L, LC_L + pw, LC_T + ph, LC_T + ph);
    if (ax && ax->y_label) {
        gl_rw_printf(&w, "<text x=\"12\" y=\"%.1f\" transform=\"rotate(-90 12 %.1f)\" text-anchor=\"middle\">",
                     LC_T + ph / 2, LC_T + ph / 2);
        gl_rw_esc(&w, ax->y_label);
        gl_rw_raw(&w, "</text>");
    }
    gl_rw_raw(&w, "</g>");
    /* series and legend */
    for (size_t s = 0; s < n_series; s++) {
        const gl_svg_series *se = &series[s];
        const char *col = palette[se->color % PALETTE_N];
        gl_rw_printf(&w, "<g class=\"series\"><title>");
        gl_rw_esc(&w, se->name);
        gl_rw_printf(&w, "</title><polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\"%s points=\"", col,
                     se->dashed ? " stroke-dasharray=\"6 4\"" : "");
        for (size_t i = 0; i < se->n; i++) {
            if (se->step && i)
                gl_rw_printf(&w, "%.1f,%.1f ", X(se->x[i]), Y(se->y[i - 1]));
            gl_rw_printf(&w, "%.1f,%.1f ", X(se->x[i]), Y(se->y[i]));
        }
        gl_rw_raw(&w, "\"/>");
        if (se->n == 1 || !se->step)
            for (size_t i = 0; i < se->n && se->n <= 60; i++)
                gl_rw_printf(&w, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2.5\" fill=\"%s\"/>", X(se->x[i]), Y(se->y[i]),
                             col);
        double ly = LC_T + 8 + 18.0 * (double)s;
        gl_rw_printf(&w, "<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" stroke-width=\"2\"%s/>"
                         "<text x=\"%d\" y=\"%.1f\" class=\"legend\">",
                     LC_W - LC_R + 12, LC_W - LC_R + 36, ly, ly, col, se->dashed ? " stroke-dasharray=\"6 4\"" : "",
                     LC_W - LC_R + 42, ly + 4);
        gl_rw_esc_cut(&w, se->name, 30);
        gl_rw_raw(&w, "</text></g>");
    }
#undef X
#undef Y
    gl_rw_raw(&w, "</svg>");
    return done(&w, err);
}

/* ---------------------------------------------------------- range bars */

gl_code gl_svg_ranges(gl_buf *out, const gl_svg_axes *ax, const gl_svg_range *r, size_t n, gl_err *err)
{
    gl_rw w = {out, false};
    const int row = 26, left = 230, right = 120, top = 10, width = 920;
    int height = top + (int)n * row + 36;
    double hi = 0;
    for (size_t i = 0; i < n; i++)
        hi = fmax(hi, r[i].hi);
    double step = nice_step(hi > 0 ? hi : 1, 5), xmax = ceil((hi > 0 ? hi : 1) / step) * step;
    double pw = width - left - right;
    svg_open(&w, ax, width, height);
#define X(v) (left + (v) / xmax * pw)
    gl_rw_raw(&w, "<g class=\"axis\">");
    for (double v = 0; v <= xmax * 1.0001; v += step) {
        char t[32];
        fmt_num(t, sizeof t, v);
        gl_rw_printf(&w, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%d\" y2=\"%d\" class=\"grid\"/>"
                         "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%s</text>",
                     X(v), X(v), top, top + (int)n * row, X(v), top + (int)n * row + 16, t);
    }
    if (ax && ax->y_label) {
        gl_rw_printf(&w, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">", left + pw / 2, height - 4);
        gl_rw_esc(&w, ax->y_label);
        gl_rw_raw(&w, "</text>");
    }
    gl_rw_raw(&w, "</g>");
    for (size_t i = 0; i < n; i++) {
        double y = top + (double)i * row + row / 2.0;
        char a[32], b[32], c[32];
        fmt_num(a, sizeof a, r[i].lo);
        fmt_num(b, sizeof b, r[i].mid);
        fmt_num(c, sizeof c, r[i].hi);
        gl_rw_raw(&w, "<g class=\"range\"><title>");
        gl_rw_esc(&w, r[i].label);
        gl_rw_printf(&w, ": p10 %s, median %s, p90 %s (%zu purchases)</title>", a, b, c, r[i].n);
        gl_rw_printf(&w, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">", left - 8, y + 4);
        gl_rw_esc_cut(&w, r[i].label, 32);
        gl_rw_printf(&w, "</text><line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
                         "stroke-width=\"8\" stroke-linecap=\"round\" opacity=\"0.45\"/>"
                         "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"5\" fill=\"%s\"/>"
                         "<text x=\"%.1f\" y=\"%.1f\" class=\"legend\">%s (n=%zu)</text></g>",
                     X(r[i].lo), X(r[i].hi) + (r[i].hi == r[i].lo ? 0.5 : 0), y, y, palette[0], X(r[i].mid), y,
                     palette[1], X(r[i].hi) + 10, y + 4, b, r[i].n);
    }
#undef X
    gl_rw_raw(&w, "</svg>");
    return done(&w, err);
}

/* ------------------------------------------------------ fund-flow picture */

typedef struct lay {
    int layer;
    bool placed;
    double order; /* position within its column */
} lay;

static int cmp_dbl_idx(const void *a, const void *b, void *ctx)
{
    const lay *L = ctx;
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    if (L[x].order != L[y].order)
        return L[x].order < L[y].order ? -1 : 1;
    return x < y ? -1 : x > y;
}

/* Layers: the root at 0, a wallet the money came from one to the left of
 * where it went, a wallet it went to one to the right (first reached wins:
 * nodes come in discovery order, so a breadth-first sweep over the edges in
 * rounds settles every node reachable from the root). */
static void layer_nodes(const gl_flow *f, lay *L)
{
    for (size_t i = 0; i < f->n_nodes; i++)
        L[i] = (lay){0, f->nodes[i].root && i == 0, (double)i};
    if (f->n_nodes && !L[0].placed)
        L[0].placed = true;
    for (bool more = true; more;) {
        more = false;
        for (size_t e = 0; e < f->n_edges; e++) {
            uint32_t a = f->edges[e].src, b = f->edges[e].dst;
            if (L[a].placed && !L[b].placed) {
                L[b] = (lay){L[a].layer + 1, true, L[b].order};
                more = true;
            } else if (L[b].placed && !L[a].placed) {
                L[a] = (lay){L[b].layer - 1, true, L[a].order};
                more = true;
            }
        }
    }
    for (size_t i = 0; i < f->n_nodes; i++)
        if (!L[i].placed)
            L[i].layer = (int)f->nodes[i].hop;
}

static void short_addr(const uint8_t a[20], char out[16])
{
    char h[43];
    gl_addr_hex(a, h);
    snprintf(out, 16, "%.6s…%.4s", h, h + 38);
}

gl_code gl_svg_flow(gl_buf *out, const gl_flow *f, const char *id, gl_err *err)
{
    gl_rw w = {out, false};
    size_t n = f->n_nodes;
    lay *L = calloc(n ? n : 1, sizeof *L);
    size_t *idx = calloc(n ? n : 1, sizeof *idx);
    double *y = calloc(n ? n : 1, sizeof *y);
    if (!L || !idx || !y) {
        free(L);
        free(idx);
        free(y);
        return gl_err_set(err, GL_ENOMEM, "out of memory laying out a fund-flow picture");
    }
    layer_nodes(f, L);
    int lo = 0, hi = 0;
    for (size_t i = 0; i < n; i++) {
        lo = L[i].layer < lo ? L[i].layer : lo;
        hi = L[i].layer > hi ? L[i].layer : hi;
    }
    /* two barycentre sweeps: order each column by the mean order of its
     * neighbours, so edges cross less */
    size_t maxcol = 1;
    for (int sweep = 0; sweep < 3; sweep++) {
        if (sweep) {
            double *sum = calloc(n, sizeof *sum);
            size_t *cnt = calloc(n, sizeof *cnt);
            if (!sum || !cnt) {
                free(sum);
                free(cnt);
                break;
            }
            for (size_t e = 0; e < f->n_edges; e++) {
                uint32_t a = f->edges[e].src, b = f->edges[e].dst;
                sum[a] += y[b], cnt[a]++;
                sum[b] += y[a], cnt[b]++;
            }
            for (size_t i = 0; i < n; i++)
                L[i].order = cnt[i] ? sum[i] / (double)cnt[i] : y[i];
            free(sum);
            free(cnt);
        }
        for (int c = lo; c <= hi; c++) {
            size_t k = 0;
            for (size_t i = 0; i < n; i++)
                if (L[i].layer == c)
                    idx[k++] = i;
            qsort_r(idx, k, sizeof *idx, cmp_dbl_idx, L);
            for (size_t j = 0; j < k; j++)
                y[idx[j]] = (double)j;
            maxcol = k > maxcol ? k : maxcol;
        }
    }
    /* centre each column vertically */
    const double colw = 230, rowh = 40, mx = 40, my = 30;
    int width = (int)(mx * 2 + (hi - lo) * colw + 190);
    int height = (int)(my * 2 + (double)(maxcol - 1) * rowh + 20);
    for (int c = lo; c <= hi; c++) {
        size_t k = 0;
        for (size_t i = 0; i < n; i++)
            k += L[i].layer == c;
        double off = ((double)maxcol - (double)k) * rowh / 2;
        for (size_t i = 0; i < n; i++)
            if (L[i].layer == c)
                y[i] = my + off + y[i] * rowh;
    }
#define NX(i) (mx + (L[i].layer - lo) * colw)
    gl_rw_printf(&w, "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"flow\" width=\"%d\" height=\"%d\" "
                     "viewBox=\"0 0 %d %d\" role=\"img\"",
                 width, height, width, height);
    if (id) {
        gl_rw_raw(&w, " id=\"");
        gl_rw_esc(&w, id);
        gl_rw_raw(&w, "\"");
    }
    gl_rw_printf(&w, " data-nodes=\"%zu\" data-edges=\"%zu\"><defs><marker id=\"arr-", n, f->n_edges);
    gl_rw_esc(&w, id ? id : "x");
    gl_rw_raw(&w, "\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerUnits=\"userSpaceOnUse\" markerWidth=\"9\" markerHeight=\"9\" "
                  "orient=\"auto-start-reverse\"><path d=\"M0,0L10,5L0,10z\" fill=\"#888\"/></marker></defs>");
    /* edges first, under the nodes */
    for (size_t e = 0; e < f->n_edges; e++) {
        const gl_flow_edge *ed = &f->edges[e];
        uint32_t a = ed->src, b = ed->dst;
        double x1 = NX(a), y1 = y[a], x2 = NX(b), y2 = y[b];
        double sw = 1 + log2(1 + (double)ed->n_transfers);
        char ha[43], hb[43];
        gl_rw_raw(&w, "<g class=\"edge\"><title>");
        gl_rw_printf(&w, "%s → %s: %zu transfer(s)", gl_addr_hex(f->nodes[a].addr, ha),
                     gl_addr_hex(f->nodes[b].addr, hb), ed->n_transfers);
        for (size_t m = 0; m < ed->n_amounts; m++) {
            char dec[GL_U256_DEC_MAX], th[43];
            const gl_flow_amount *x = &ed->amounts[m];
            gl_rw_printf(&w, "; %s ", gl_u256_to_dec(&x->amount, dec));
            if (!x->token)
                gl_rw_raw(&w, "native");
            else if (f->tokens[x->token].label[0])
                gl_rw_esc(&w, f->tokens[x->token].label);
            else
                gl_rw_raw(&w, gl_addr_hex(f->tokens[x->token].addr, th));
        }
        gl_rw_raw(&w, "</title>");
        if (L[a].layer == L[b].layer) { /* same column: an arc to the left */
            double bend = 30 + fabs(y2 - y1) / 4;
            gl_rw_printf(&w, "<path d=\"M%.1f,%.1f C%.1f,%.1f %.1f,%.1f %.1f,%.1f\"", x1 - 9, y1, x1 - bend, y1,
                         x2 - bend, y2, x2 - 9, y2);
        } else {
            double dir = x2 > x1 ? 1 : -1, sx = x1 + 10 * dir, ex = x2 - 11 * dir, mxp = (sx + ex) / 2;
            gl_rw_printf(&w, "<path d=\"M%.1f,%.1f C%.1f,%.1f %.1f,%.1f %.1f,%.1f\"", sx, y1, mxp, y1, mxp, y2, ex, y2);
        }
        gl_rw_printf(&w, " fill=\"none\" stroke=\"#888\" stroke-opacity=\"0.7\" stroke-width=\"%.1f\" "
                         "marker-end=\"url(#arr-",
                     sw);
        gl_rw_esc(&w, id ? id : "x");
        gl_rw_raw(&w, ")\"/></g>");
    }
    for (size_t i = 0; i < n; i++) {
        const gl_flow_node *nd = &f->nodes[i];
        char h[43], sh[16];
        gl_addr_hex(nd->addr, h);
        short_addr(nd->addr, sh);
        const char *fill = nd->flagged ? "#d62728" : nd->hub ? "#9e9e9e" : nd->scored ? "#ff9f40" : "#1f77b4";
        gl_rw_printf(&w, "<g class=\"node%s%s%s\" data-addr=\"%s\"%s><title>%s", nd->hub ? " hub" : "",
                     nd->flagged ? " flagged" : "", nd->root ? " root" : "", h, nd->root ? " data-root=\"1\"" : "", h);
        if (nd->label[0]) {
            gl_rw_raw(&w, " “");
            gl_rw_esc(&w, nd->label);
            gl_rw_raw(&w, "”");
        }
        if (nd->entity >= 0)
            gl_rw_printf(&w, "; entity %lld", (long long)nd->entity);
        if (nd->kind[0]) {
            gl_rw_raw(&w, "; ");
            gl_rw_esc(&w, nd->kind);
        }
        if (nd->hub)
            gl_rw_raw(&w, "; hub (not expanded)");
        if (nd->scored)
            gl_rw_printf(&w, "; score %.4f%s", nd->score, nd->flagged ? ", flagged" : "");
        gl_rw_raw(&w, "</title>");
        double cx = NX(i), cy = y[i];
        if (nd->hub)
            gl_rw_printf(&w, "<rect x=\"%.1f\" y=\"%.1f\" width=\"18\" height=\"18\" rx=\"3\" fill=\"%s\"/>", cx - 9,
                         cy - 9, fill);
        else
            gl_rw_printf(&w, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"9\" fill=\"%s\"/>", cx, cy, fill);
        if (nd->root)
            gl_rw_printf(&w, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"13\" fill=\"none\" stroke=\"#222\" "
                             "stroke-width=\"2\"/>",
                         cx, cy);
        gl_rw_printf(&w, "<text x=\"%.1f\" y=\"%.1f\">%s", cx + 15, cy - 1, sh);
        gl_rw_raw(&w, "</text>");
        if (nd->label[0] || nd->kind[0]) {
            gl_rw_printf(&w, "<text x=\"%.1f\" y=\"%.1f\" class=\"sub\">", cx + 15, cy + 11);
            gl_rw_esc_cut(&w, nd->label[0] ? nd->label : nd->kind, 26);
            gl_rw_raw(&w, "</text>");
        }
        gl_rw_raw(&w, "</g>");
    }
#undef NX
    gl_rw_raw(&w, "</svg>");
    free(L);
    free(idx);
    free(y);
    return done(&w, err);
}
