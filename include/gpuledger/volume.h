/* volume.h - purchase volume per platform, period, model and token: gross,
 * what is removed from it (self-dealing, circular) and net, with USD when
 * prices are given, GPU-hours and prices per GPU-hour.
 *
 * Every row is computed from the purchases of a gl_market (market.h): exact
 * 256-bit amounts summed per token, never converted to floating point except
 * for USD and price-per-GPU-hour columns.  Every amount removed from gross is
 * kept as the list of its purchases (chain id, block, tx hash, log index) for
 * `--explain`.  Columns and rules: docs/VOLUME.md.
 *
 * Ownership: gl_volume_compute returns a result the caller frees with
 * gl_volume_free; it borrows nothing.  No global state.
 */
#ifndef GPULEDGER_VOLUME_H
#define GPULEDGER_VOLUME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "gpuledger/err.h"
#include "gpuledger/market.h"
#include "gpuledger/prices.h"
#include "gpuledger/u256.h"

/* Grouping (gl_volume_compute's `by`): at most one period. */
#define GL_VOL_BY_PLATFORM 0x01u
#define GL_VOL_BY_DAY      0x02u
#define GL_VOL_BY_WEEK     0x04u /* ISO 8601 week: "2024-W10" */
#define GL_VOL_BY_MONTH    0x08u
#define GL_VOL_BY_MODEL    0x10u

/* Parse "platform,day,model" into GL_VOL_BY_* bits; GL_EINVAL naming a bad
 * word or two periods. */
gl_code gl_volume_parse_by(const char *s, unsigned *by /* OUT */, gl_err *err);

typedef struct gl_volume_removed {
    size_t purchase;      /* index into the graph's purchases */
    uint8_t why;          /* GL_MARK_SELF_DEALING or GL_MARK_CIRCULAR */
} gl_volume_removed;

typedef struct gl_volume_row {
    char platform[64];    /* the store's platform name; "" when not grouped by platform */
    char market[64];      /* its definition's "platform" (gpumarket, golem, ...) */
    char period[16];      /* "2024-03-04", "2024-W10", "2024-03"; "" when not grouped by period */
    char model[128];      /* canonical model, else the name as written, "(none)" without one; "" when not grouped */
    gl_market_token token;
    gl_u256 gross, self_dealing, circular, net; /* smallest units */
    bool circular_known;  /* false without a stored analysis */
    bool entities_known;  /* false without a stored analysis */
    size_t leases, buyer_wallets, buyer_entities, provider_entities;
    uint64_t gpu_mhours;  /* thousandths, summed over leases whose GPU-hours are known */
    size_t gpu_hours_unknown;
    bool usd_known;       /* every purchase of the row had a price */
    size_t usd_unpriced;  /* purchases without a price for their day */
    long double usd_gross, usd_net;
    size_t n_priced_hours;/* purchases behind the percentiles */
    double pph_p10, pph_p50, pph_p90; /* price per GPU-hour in token units (raw units when decimals < 0) */
    gl_volume_removed *removed;
    size_t n_removed;
} gl_volume_row;

typedef struct gl_volume {
    unsigned by;
    gl_volume_row *rows;
    size_t n_rows;
    json_t *notes;        /* array of strings: what the figures could not know, said */
} gl_volume;

/* prices may be NULL (USD columns empty).  GL_ENOMEM, GL_ERANGE (a sum past
 * 2^256). */
gl_code gl_volume_compute(gl_volume **out, const gl_market *m, unsigned by, const gl_prices *prices, gl_err *err);
void gl_volume_free(gl_volume *v);

/* One row as a JSON object (columns of docs/VOLUME.md; with explain, the
 * "removed" list).  NULL on out of memory. */
json_t *gl_volume_row_json(const gl_market *m, const gl_volume_row *r, bool explain);
/* The CSV header and one row (no trailing newline handling: the line ends
 * in "\n").  Fields as in the JSON. */
void gl_volume_csv_header(FILE *f, bool explain);
void gl_volume_csv_row(FILE *f, const gl_market *m, const gl_volume_row *r, bool explain);

#endif
