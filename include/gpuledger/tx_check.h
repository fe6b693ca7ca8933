/* tx_check.h - is a block's transaction object the transaction it was said
 * to be, and did its `from` sign it?
 *
 * The indexer (behind each followed log) and the funding trail (behind each
 * transfer) both read a transaction from eth_getBlockByNumber(n, true) and
 * must not take the endpoint's word for it.  gl_tx_check rebuilds the
 * object (tx.h), binds it to the hash the caller was told (a log's
 * transactionHash, a trace's, a scan's), recovers the sender from the
 * signature (secp.h) and compares it with the endpoint's `from`.  It gives
 * the record to store (gl_store_tx, flagged GL_STORE_TX_SENDER_OK or
 * GL_STORE_TX_SENDER_MISMATCH) and, when something was contradicted, a
 * finding naming the evidence.
 *
 * Findings are JSON objects:
 *   {"kind", "block", "tx_index", "tx_hash", ...}
 *   - "sender_mismatch": "field" ("transactions[i].from"), "claimed" (the
 *     endpoint's from, "" when it gave none), "computed" (the recovered one);
 *   - "sender_unrecoverable": "reason";
 *   - "tx_hash_mismatch": either "reason" (no object, or one that cannot be
 *     rebuilt or hashed) or "field" ("transactions[i].hash"), "claimed" (the
 *     caller's hash), "computed" (the rebuilt tx's).
 * Hex is lowercase with 0x.  Where a finding is placed (its block hash, the
 * platform or source that found it) is the caller's to add.
 *
 * What a contradiction means for the transfers and events resting on the
 * transaction (kept, dropped, not followed) is the caller's policy too: the
 * verdict says which contradiction it was.
 */
#ifndef GPULEDGER_TX_CHECK_H
#define GPULEDGER_TX_CHECK_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "gpuledger/err.h"
#include "gpuledger/secp.h"
#include "gpuledger/store.h"

typedef enum gl_tx_verdict {
    GL_TX_CHECK_SENDER_OK,       /* bound to the hash; the recovered sender is `from` */
    GL_TX_CHECK_SENDER_MISMATCH, /* bound; the recovered sender is not `from` (or there is no from) */
    GL_TX_CHECK_UNRECOVERABLE,   /* bound; no sender recovers from the signature */
    GL_TX_CHECK_UNRECOVERED,     /* bound; no recovery asked for (secp NULL): `from` as the endpoint says */
    GL_TX_CHECK_UNSUPPORTED,     /* a type this build cannot rebuild (a chain's own system
                                  * transactions): from/to/value as the endpoint says, unchecked */
    GL_TX_CHECK_UNREADABLE,      /* no transaction object, or one that cannot be rebuilt or hashed */
    GL_TX_CHECK_HASH_MISMATCH,   /* rebuilt, and it hashes to another hash than the caller's */
} gl_tx_verdict;

typedef struct gl_tx_checked {
    gl_tx_verdict verdict;
    /* chain_id, block, index and the caller's hash always; to and value
     * from the rebuilt tx once it is bound (from the endpoint when
     * UNSUPPORTED); from when has_from; flags GL_STORE_TX_SENDER_OK or
     * GL_STORE_TX_SENDER_MISMATCH for those two verdicts, else 0. */
    gl_store_tx rec;
    /* rec.from holds a sender: the recovered one (SENDER_OK,
     * SENDER_MISMATCH) or the endpoint's where nothing was recovered
     * (UNRECOVERED, UNSUPPORTED) and it gave one. */
    bool has_from;
    uint8_t computed[32];        /* the rebuilt tx's hash (HASH_MISMATCH and the bound verdicts) */
    char reason[GL_ERR_MSG_MAX]; /* why (UNREADABLE, UNSUPPORTED, UNRECOVERABLE), else "" */
} gl_tx_checked;

/* Check transaction object `tx` (may be NULL or not an object: UNREADABLE),
 * found at position `index` of block `block` on chain `chain_id`, against
 * `hash` (32 bytes, the hash the caller was told it has).  `flags` are tx.h's
 * (GL_TX_ALLOW_HIGH_S for blocks before EIP-2 / the caller's stand-in for
 * them), used to rebuild it and to recover its sender.  `secp` NULL: no
 * recovery, a bound tx is UNRECOVERED.
 *
 * Fills *out.  When `finding` is not NULL, *finding is a new object (see
 * above; the caller owns it) for SENDER_MISMATCH, UNRECOVERABLE,
 * UNREADABLE and HASH_MISMATCH, and NULL for the others.
 *
 * Returns GL_OK whatever the verdict.  GL_ENOMEM when memory runs out
 * (rebuilding, hashing or building the finding), with *out zeroed and
 * *finding NULL: running out is not a lie of the endpoint's. */
gl_code gl_tx_check(const gl_secp *secp, gl_tx_checked *out /* OUT */, json_t **finding /* OUT */,
                    const json_t *tx, uint64_t chain_id, uint64_t block, uint32_t index, const uint8_t hash[32],
                    unsigned flags, gl_err *err);

#endif
