/* block.h - block headers of every fork, and checking what a block claims.
 *
 * A JSON-RPC block object (the result of eth_getBlockByNumber(n, true) or
 * eth_getBlockByHash, or the whole JSON-RPC answer around it) names its own
 * hash, transactionsRoot, transactions' hashes and senders.  Nothing of that
 * is trusted here: the header is rebuilt from its fields, RLP-encoded and
 * hashed; the transactions are rebuilt from their fields (tx.h), put in the
 * ordered trie and hashed; each sender is recovered from its signature.
 *
 * Header fields, in RLP order: parentHash, sha3Uncles, miner, stateRoot,
 * transactionsRoot, receiptsRoot, logsBloom, difficulty, number, gasLimit,
 * gasUsed, timestamp, extraData, mixHash, nonce; then, one per fork, each
 * only with all the ones before it: baseFeePerGas (London), withdrawalsRoot
 * (Shanghai), blobGasUsed, excessBlobGas, parentBeaconBlockRoot (Cancun),
 * requestsHash (Prague).  A JSON null counts as absent.  When mixHash and
 * nonce are both absent, OpenEthereum/Parity's `sealFields` (RLP items) are
 * used as the seal instead, as that client hashed them (Aura chains).
 * Extra fields (author, size, totalDifficulty, raw, ...) are ignored.
 *
 * Ownership: gl_block_header and gl_block_report own heap memory; each has
 * _init (empty) and _release (free, leave empty).  A function filling one
 * releases what it held first.
 */
#ifndef GPULEDGER_BLOCK_H
#define GPULEDGER_BLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "gpuledger/bytes.h"
#include "gpuledger/err.h"
#include "gpuledger/secp.h"
#include "gpuledger/u256.h"

/* ------------------------------------------------------------- the header */

/* The optional fields a fork adds, in RLP order: bits of `ext` in a header.
 * Real chains only ever add a prefix of this list (1 London, 3 Shanghai,
 * 0x1f Cancun, 0x3f Prague).  anvil (alloy) writes blobGasUsed and
 * excessBlobGas into its blocks of every hardfork, without the fields
 * before them, and hashes the fields present: GL_BLOCK_FORK_GAPS accepts
 * that. */
#define GL_BLOCK_EXT_MAX 6
#define GL_BLOCK_HAS_BASE_FEE 0x01u          /* baseFeePerGas (London) */
#define GL_BLOCK_HAS_WITHDRAWALS_ROOT 0x02u  /* withdrawalsRoot (Shanghai) */
#define GL_BLOCK_HAS_BLOB_GAS_USED 0x04u     /* blobGasUsed (Cancun) */
#define GL_BLOCK_HAS_EXCESS_BLOB_GAS 0x08u   /* excessBlobGas (Cancun) */
#define GL_BLOCK_HAS_BEACON_ROOT 0x10u       /* parentBeaconBlockRoot (Cancun) */
#define GL_BLOCK_HAS_REQUESTS_HASH 0x20u     /* requestsHash (Prague) */

/* Flags for the _ex functions. */
#define GL_BLOCK_FORK_GAPS 0x1u /* accept a fork field without the ones before it */

typedef struct gl_block_header {
    uint8_t parent_hash[32];
    uint8_t uncles_hash[32];     /* sha3Uncles */
    uint8_t coinbase[20];        /* miner */
    uint8_t state_root[32];
    uint8_t tx_root[32];
    uint8_t receipts_root[32];
    uint8_t bloom[256];
    gl_u256 difficulty;
    uint64_t number;
    uint64_t gas_limit;
    uint64_t gas_used;
    uint64_t timestamp;
    gl_buf extra;                /* extraData, owned */
    bool has_mix_nonce;          /* false: the seal is Parity's sealFields */
    uint8_t mix_hash[32];
    uint8_t nonce[8];
    gl_buf seal;                 /* sealFields' RLP items, concatenated, owned */
    unsigned ext;                /* which fork fields follow: GL_BLOCK_HAS_* bits */
    gl_u256 base_fee;
    uint8_t withdrawals_root[32];
    uint64_t blob_gas_used;
    uint64_t excess_blob_gas;
    uint8_t parent_beacon_root[32];
    uint8_t requests_hash[32];
} gl_block_header;

/* Make an empty header / free what it owns and leave it empty.  Cannot fail. */
void gl_block_header_init(gl_block_header *h);
void gl_block_header_release(gl_block_header *h);

/* The block object inside a JSON-RPC answer: `doc` itself when it is a
 * block object, else doc.result.  Fails with GL_ERPC when the answer is a
 * JSON-RPC error (its message quoted), GL_EINVAL when there is no object
 * (result null: no such block; not an object).  *block points into doc. */
gl_code gl_block_unwrap(const json_t *doc, const json_t **block /* OUT */, gl_err *err);

/* Parse the header fields of a block object (or answer, see unwrap).
 * GL_EINVAL naming the field when one is missing, not a string, bad hex, of
 * the wrong length, or a fork field is present while an earlier one is
 * absent (unless `flags` has GL_BLOCK_FORK_GAPS); GL_ERANGE naming the field
 * when a 64-bit quantity overflows.  `out` is left empty on failure. */
gl_code gl_block_header_from_json(gl_block_header *out, const json_t *block, gl_err *err);
gl_code gl_block_header_from_json_ex(gl_block_header *out, const json_t *block, unsigned flags,
                                     gl_err *err);

/* Append the header's RLP to `out`.  Only GL_ENOMEM (out->len restored). */
gl_code gl_block_header_encode(const gl_block_header *h, gl_buf *out, gl_err *err);

/* keccak256 of the header's RLP: the block hash.  Only GL_ENOMEM. */
gl_code gl_block_header_hash(const gl_block_header *h, uint8_t out[32], gl_err *err);

/* The hash of block `number` recomputed from the header fields of its block
 * object (its own "hash" is not read; fork gaps allowed, as endpoints
 * answer).  GL_EINVAL when the header cannot be read ("is unreadable:
 * <why>") or is another block's ("is block X, not N"): the message reads
 * after "the header " or the like; GL_ERANGE as gl_block_header_from_json;
 * GL_ENOMEM. */
gl_code gl_block_json_hash(const json_t *block, uint64_t number, uint8_t out[32], gl_err *err);

/* The fork of the header's fork fields: "frontier" (pre-London, which
 * covers every fork up to Paris), "london", "shanghai", "cancun", "prague",
 * decided by the contiguous run of fork fields present (so an anvil header
 * with gaps is named by the fields before its first gap).  Cannot fail. */
const char *gl_block_fork_name(const gl_block_header *h);

/* The header's fields as JSON, named and formatted as JSON-RPC does (with
 * "sealFields" instead of mixHash/nonce when that is what was hashed).
 * NULL with GL_ENOMEM in err. */
json_t *gl_block_header_to_json(const gl_block_header *h, gl_err *err);

/* --------------------------------------------------------- verification */

typedef enum gl_block_status {
    GL_BLOCK_MATCH,       /* recomputed and equal to the claim */
    GL_BLOCK_MISMATCH,    /* recomputed and different, or could not be recomputed from
                             values that should allow it (e.g. an unrecoverable signature) */
    GL_BLOCK_NOT_CHECKED, /* the block does not carry what the check needs; see reason */
} gl_block_status;

/* What each check compares; names as in the JSON report. */
typedef enum gl_block_check_kind {
    GL_CHECK_HEADER_HASH,  /* field "hash": keccak(rlp(header)) */
    GL_CHECK_UNCLES_HASH,  /* "sha3Uncles": keccak(rlp(uncles)), only for an empty uncle list */
    GL_CHECK_TX_ROOT,      /* "transactionsRoot": ordered trie of the signed transactions */
    GL_CHECK_TX_HASH,      /* "transactions[i].hash": keccak of the rebuilt signed transaction */
    GL_CHECK_TX_SENDER,    /* "transactions[i].from": recovered from the signature */
    GL_CHECK_TX_RAW,       /* "transactions[i].raw" (Parity): the fields re-encode to it */
    GL_CHECK_WITHDRAWALS_ROOT, /* "withdrawalsRoot": ordered trie of the withdrawals */
    GL_CHECK_RECEIPTS_ROOT, /* "receiptsRoot": never in a block object: always not checked */
} gl_block_check_kind;

/* One check.  claimed/computed are "0x"-hex hashes or addresses ("" when
 * absent); reason says why a check was not done or could not compute;
 * differs lists the fields found different (GL_CHECK_TX_RAW), comma-
 * separated.  reason and differs are owned (NULL when unused). */
typedef struct gl_block_check {
    gl_block_check_kind kind;
    char field[48];          /* path of the claimed value, e.g. "transactions[3].from" */
    gl_block_status status;
    char claimed[67];
    char computed[67];
    char *reason;
    char *differs;
} gl_block_check;

typedef struct gl_block_report {
    gl_block_header header;  /* as parsed and hashed */
    bool has_hash;
    uint8_t hash[32];        /* the block's claimed hash */
    size_t ntx;              /* transactions listed */
    gl_block_check *checks;  /* in order: header, uncles, transactions, withdrawals, receipts */
    size_t n, cap;
    size_t matched, mismatched, not_checked;
} gl_block_report;

/* Make an empty report / free what it owns and leave it empty.  Cannot fail. */
void gl_block_report_init(gl_block_report *r);
void gl_block_report_release(gl_block_report *r);

/* Check everything a block object (or JSON-RPC answer) claims that it
 * carries the data for: header hash, sha3Uncles (when the uncle list is
 * empty), transactionsRoot and each transaction's hash and sender (when
 * the transactions are full objects; a list of hashes leaves them "not
 * checked" with the reason), Parity's `raw` per transaction, and
 * withdrawalsRoot (when withdrawals are listed).  `secp` may be NULL:
 * senders are then not checked.  Senders of pre-London blocks may carry
 * s > n/2 (Frontier); from London on, EIP-2's low-s rule is enforced.
 *
 * Returns GL_OK when a report was made, whatever it says: mismatches are
 * in `out` (out->mismatched > 0), not in the return code.  Returns
 * GL_EINVAL (or GL_ERPC, see unwrap) naming the field when the input is not
 * a block: a malformed header field, a transactions or withdrawals list of
 * the wrong shape, a transaction object that cannot be read (tx.h rules),
 * a missing or malformed hash/from in one; GL_ENOMEM.  On failure `out` is
 * left empty. */
gl_code gl_block_verify(const gl_secp *secp, const json_t *block, gl_block_report *out, gl_err *err);
/* The same, with GL_BLOCK_* flags for reading the header. */
gl_code gl_block_verify_ex(const gl_secp *secp, const json_t *block, unsigned flags, gl_block_report *out,
                           gl_err *err);

/* "match", "mismatch", "not checked".  Cannot fail (static strings). */
const char *gl_block_status_name(gl_block_status s);
/* "header hash", "uncles hash", "transactions root", "transaction hash",
 * "sender", "raw transaction", "withdrawals root", "receipts root". */
const char *gl_block_check_name(gl_block_check_kind k);
/* The integrity finding a mismatch of kind k is stored as (the indexer's
 * and the trail's): "header_hash_mismatch", "uncles_hash_mismatch",
 * "tx_root_mismatch", "tx_hash_mismatch", "sender_mismatch",
 * "tx_raw_mismatch", "withdrawals_root_mismatch", "receipts_root_mismatch".
 * Cannot fail (static strings). */
const char *gl_block_check_finding(gl_block_check_kind k);

/* The report as JSON:
 *   {"number", "hash", "fork", "transactions", "ok", "matched",
 *    "mismatched", "not_checked", "checks": [{"check", "field", "status",
 *    "claimed", "computed", "reason"?, "differs"?, "header"?}]}
 * A failed header-hash check carries "header": the fields as hashed
 * (gl_block_header_to_json), so that an altered one can be seen.  NULL with
 * GL_ENOMEM in err. */
json_t *gl_block_report_to_json(const gl_block_report *r, gl_err *err);

#endif
