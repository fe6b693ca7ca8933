/* report_int.h - what report.c and report_svg.c share: a page writer with a
 * sticky out-of-memory flag, so that building the page reads as a sequence
 * of appends and the failure is checked once at the end.  Internal. */
#ifndef GPULEDGER_REPORT_INT_H
#define GPULEDGER_REPORT_INT_H

#include <stdbool.h>

#include "gpuledger/market.h"
#include "gpuledger/report.h"

typedef struct gl_rw {
    gl_buf *b;
    bool oom; /* an append failed: the page is incomplete */
} gl_rw;

/* Append formatted text (never escaped: for our own markup and numbers). */
void gl_rw_printf(gl_rw *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Append raw text. */
void gl_rw_raw(gl_rw *w, const char *s);
/* Append text HTML-escaped (NULL: nothing). */
void gl_rw_esc(gl_rw *w, const char *s);
/* Append at most `max` characters of s escaped, with "…" when cut. */
void gl_rw_esc_cut(gl_rw *w, const char *s, size_t max);

/* `<a href="BASE/tx/HASH" rel=... target=...` (escaped), the tag left open
 * for the caller's attributes. */
void gl_rw_tx_link_open(gl_rw *w, const char *base, const char *hash);

/* The explorer base URL set for `chain` (--explorer), NULL when none. */
const char *gl_report_explorer_for(const gl_report_opts *o, uint64_t chain);

/* The "Providers' claims" section (report_providers.c): every finding of
 * gl_providers_run with its figures and leases; *rows gets the number of
 * findings listed.  Errors are gl_providers_run's. */
gl_code gl_report_providers_section(gl_rw *w, gl_store *s, const gl_market *m, gl_market_defs *defs,
                                    const gl_report_opts *o, size_t *rows, gl_err *err);

#endif
