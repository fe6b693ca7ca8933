/* wallet.h - what the store knows of one wallet: `gpuledger wallet ADDR`.
 *
 * Chain facts, read through the address index (the appearances family, so
 * the cost follows the wallet's own records, not the store's size):
 *   first and last seen (position and block time), per chain;
 *   transfers in and out, grouped by counterparty (its entity when the
 *   stored analysis has one, else its address), summed per token as exact
 *   256-bit integers, with the counterparty's label and kind;
 *   marketplace events by platform: purchases (as buyer, payer or
 *   beneficiary) and sales (as provider) of lease, extension, payment and
 *   transfer kinds, with amounts per token, GPU model, count and GPU-hours,
 *   and their self-dealing/circular marks when analysed.
 * And from the stored analysis (results.h), when there is one: the
 * wallet's entity, the links that put it there with their evidence, and its
 * proxy-buyer score and signals with evidence.
 *
 * Event kinds come from the platform definition the store keeps (meta
 * def/<name>), else the built-in of that name; an event of a platform
 * with neither is listed with kind null and counted as neither a purchase
 * nor a sale.
 *
 * Ownership: the JSON returned is the caller's.  No global state.
 */
#ifndef GPULEDGER_WALLET_H
#define GPULEDGER_WALLET_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "gpuledger/err.h"
#include "gpuledger/store.h"

typedef struct gl_wallet_opts {
    size_t max_counterparties; /* per direction, most transfers first (0: 50) */
    size_t max_leases;         /* purchase/sale records listed, latest first (0: 100) */
    size_t max_entity_addresses; /* addresses of its entity listed (0: 50) */
} gl_wallet_opts;

/* The profile of `addr` as a JSON object (docs/TRACE.md lists every
 * field); `opts` may be NULL.  A wallet the store never saw gives a profile
 * with zero appearances, not an error.  GL_EDB when the store cannot be
 * read or a record is damaged; GL_ENOMEM. */
gl_code gl_wallet_profile(gl_store *s, const uint8_t addr[20], const gl_wallet_opts *opts,
                          json_t **out /* OUT */, gl_err *err);

#endif
