/* prices.h - daily USD prices of tokens, from files the user supplies.
 *
 * Two CSV layouts, told apart by their header line:
 *   CoinGecko's daily export   snapped_at,price,market_cap,total_volume
 *                              ("2024-03-04 00:00:00 UTC",...): one token per
 *                              file, named by the caller or by the file name's
 *                              first '-'-separated word ("glm-usd-max.csv": GLM)
 *   plain                      date,token,usd  (token: a symbol or a 0x address)
 * A price is for one UTC day.  A day without a price has none: nothing is
 * interpolated or carried forward (docs/VOLUME.md).
 *
 * Ownership: gl_prices_new makes an empty table, loads add to it,
 * gl_prices_free releases it.  No global state.
 */
#ifndef GPULEDGER_PRICES_H
#define GPULEDGER_PRICES_H

#include <stdbool.h>
#include <stddef.h>

#include "gpuledger/err.h"

typedef struct gl_prices gl_prices;

gl_code gl_prices_new(gl_prices **out, gl_err *err);
void gl_prices_free(gl_prices *p);

/* Add the prices of one file.  token: the token a CoinGecko file prices
 * (symbol or address; NULL: from the file name); ignored for plain files.
 * GL_EINVAL naming the file and line on anything unreadable, and on a day
 * priced twice with two values; GL_EIO when the file cannot be read.  A
 * file that fails adds nothing (the prices of its lines before the error
 * are taken out again). */
gl_code gl_prices_load_file(gl_prices *p, const char *path, const char *token, gl_err *err);
/* The same from text (origin names it in errors). */
gl_code gl_prices_load_text(gl_prices *p, const char *text, const char *origin, const char *token, gl_err *err);

/* USD per whole token on `day` (YYYY-MM-DD), looked up by symbol, then by
 * address (lowercase 0x hex; either may be NULL).  false: no price. */
bool gl_prices_get(const gl_prices *p, const char *day, const char *symbol, const char *address, double *usd /* OUT */);
size_t gl_prices_count(const gl_prices *p);

#endif
