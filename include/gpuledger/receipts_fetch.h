/* receipts_fetch.h - the receipts of whole blocks, as an endpoint gives them.
 *
 * Three readers need every receipt of a block: the indexer's full
 * verification, its last resort for a block whose logs are refused as too
 * large, and expand's block scan.  Each then proves them against the
 * header's receiptsRoot (gl_indexer_receipts_root), so what comes back here
 * is only the endpoint's word.
 */
#ifndef GPULEDGER_RECEIPTS_FETCH_H
#define GPULEDGER_RECEIPTS_FETCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "gpuledger/endpoint.h"
#include "gpuledger/err.h"

/* The receipts of blocks nums[0..nb), whose transactions are txs[j] (the
 * block's `transactions`: full objects or hashes), into out[j]: an array,
 * or NULL where the answer was not one (the proof then fails).
 *
 * One eth_getBlockReceipts per block, or, once the endpoint is known to
 * lack it (*per_tx, which the caller keeps between calls), one
 * eth_getTransactionReceipt per transaction hash, a receipt the endpoint
 * does not have left null (a transaction without a hash is asked with a
 * null hash).  A block call refused as fatal (unknown method, not on this
 * plan) sets *per_tx, copies that failure into *switched (may be NULL) and
 * goes on per transaction; any other failure is returned (out all NULL).
 * Codes as gl_endpoints_call_many. */
gl_code gl_receipts_fetch(gl_endpoints *e, size_t nb, const uint64_t *nums, const json_t *const *txs, bool *per_tx,
                          gl_err *switched, json_t **out, gl_err *err);

#endif
