/* report.h - one static, self-contained HTML page of what a store says.
 *
 * `gpuledger report` writes it: the market figures (volume per platform over
 * time, gross against net; price per GPU-hour by model; concentration of
 * GPUs per entity), the top entities, the flagged proxy buyers with their
 * evidence (each position a link to a block explorer when one is set for its
 * chain), fund-flow pictures around the top flagged wallets, the integrity
 * findings (what endpoints lied about) and the methods with the parameters
 * the analysis used.  No network, no CDN: charts are inline SVG drawn here
 * (report_svg.c), and a small inline script sorts and filters the tables
 * (a filter can come from the URL: report.html#filter=sponsor).
 *
 * Every figure comes from the library calls the CLI prints from (results.h,
 * trace.h, store.h, and the market library when it is built in), never from a
 * second implementation.  Everything that comes from the chain, from labels
 * or from the user is HTML-escaped.
 *
 * Ownership: the page is appended to a caller's gl_buf; nothing is kept.
 * Not thread-safe per store handle (the store's own rule).  No global state.
 */
#ifndef GPULEDGER_REPORT_H
#define GPULEDGER_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gpuledger/bytes.h"
#include "gpuledger/err.h"
#include "gpuledger/graph_export.h"
#include "gpuledger/store.h"

/* Limits: a page stays readable and its size bounded. */
#define GL_REPORT_TRACE_TOP_DEFAULT 5     /* fund-flow pictures: the top N flagged wallets */
#define GL_REPORT_TRACE_HOPS_DEFAULT 2    /* hops around each (both directions) */
#define GL_REPORT_TRACE_NODES_DEFAULT 60  /* wallets per picture; more is cut and said */
#define GL_REPORT_TOP_ENTITIES_DEFAULT 25 /* rows of the top-entities table */
#define GL_REPORT_EXPLORERS_MAX 64

/* A block explorer for one chain: positions on chain_id link to
 * base_url + "/tx/" + tx hash. */
typedef struct gl_report_explorer {
    uint64_t chain_id;
    const char *base_url; /* "https://arbiscan.io" (a trailing '/' is dropped) */
} gl_report_explorer;

typedef struct gl_report_opts {
    const gl_report_explorer *explorers; /* may be NULL */
    size_t n_explorers;
    size_t trace_top;      /* 0: GL_REPORT_TRACE_TOP_DEFAULT */
    uint32_t trace_hops;   /* 0: GL_REPORT_TRACE_HOPS_DEFAULT */
    size_t trace_nodes;    /* 0: GL_REPORT_TRACE_NODES_DEFAULT */
    size_t top_entities;   /* 0: GL_REPORT_TOP_ENTITIES_DEFAULT */
    const char *db_name;   /* shown in the title (escaped); NULL: none */
    uint64_t generated;    /* seconds since 1970 shown as the page's date; 0: not shown */
} gl_report_opts;

/* What went into the page (for the command's summary line). */
typedef struct gl_report_stats {
    size_t flags;          /* flagged wallets listed */
    size_t providers;      /* providers' findings listed */
    size_t entities;       /* rows of the top-entities table */
    size_t pictures;       /* fund-flow pictures drawn */
    size_t findings;       /* integrity findings listed */
    bool volume;           /* the market sections have figures */
    bool stale;            /* the store changed since it was analysed (said in the page) */
} gl_report_stats;

/* "CHAIN_ID=BASE_URL" (an http:// or https:// URL): GL_EINVAL naming what is
 * wrong.  base_url points into `arg`. */
gl_code gl_report_parse_explorer(const char *arg, gl_report_explorer *out /* OUT */, gl_err *err);

/* Append the page for store `s` (opened read-only is enough) to `out`.
 * GL_EINVAL when the store holds no analysis (run `gpuledger analyze`);
 * GL_EDB when a record cannot be read; GL_ENOMEM.  On failure `out` may hold
 * part of the page.  stats may be NULL. */
gl_code gl_report_build(gl_store *s, const gl_report_opts *o, gl_buf *out, gl_report_stats *stats /* OUT */,
                        gl_err *err);

/* ------------------------------------------------ pieces, exposed for tests */

/* Append `s` with & < > " ' escaped (NULL appends nothing).  Bytes that are
 * not valid UTF-8 become '?'.  GL_ENOMEM. */
gl_code gl_report_escape(gl_buf *out, const char *s, gl_err *err);

/* Charts (report_svg.c): inline <svg> elements, every text escaped. */

/* One series of a line chart: n points (x ascending). */
typedef struct gl_svg_series {
    const char *name;      /* legend */
    const double *x, *y;
    size_t n;
    bool dashed;
    bool step;             /* a step line (a value holds until the next point) */
    unsigned color;        /* index into the palette */
} gl_svg_series;

typedef struct gl_svg_axes {
    const char *title;     /* <title> and aria-label of the chart */
    const char *y_label;
    bool x_is_time;        /* x in seconds since 1970, ticks as dates */
    const char *id;        /* id attribute, may be NULL */
} gl_svg_axes;

gl_code gl_svg_lines(gl_buf *out, const gl_svg_axes *ax, const gl_svg_series *series, size_t n_series, gl_err *err);

/* A range bar per category: low-mid-high (p10, p50, p90), labelled. */
typedef struct gl_svg_range {
    const char *label;
    double lo, mid, hi;
    size_t n;              /* how many values behind it (shown) */
} gl_svg_range;

gl_code gl_svg_ranges(gl_buf *out, const gl_svg_axes *ax, const gl_svg_range *r, size_t n, gl_err *err);

/* A fund-flow picture: a layered layout (columns by signed hop from the
 * root: money in to the left, out to the right), hubs boxed and grey, the
 * root ringed, flagged wallets red; each node's <title> says its address,
 * label, kind and score, each edge's its transfers.  Nodes carry
 * data-addr; the root data-root. */
gl_code gl_svg_flow(gl_buf *out, const gl_flow *f, const char *id, gl_err *err);

#endif
