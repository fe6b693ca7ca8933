/* tx.h - Ethereum transactions of every type: decode, encode, hash, sign,
 * recover the sender.
 *
 * Types handled (the "canonical" form that goes into blocks and into the
 * transactionsRoot trie):
 *   0  legacy            rlp([nonce, gasPrice, gas, to, value, data, v, r, s]),
 *                        v = 27/28 (pre-EIP-155) or chainId*2 + 35/36
 *   1  EIP-2930          0x01 || rlp([chainId, nonce, gasPrice, gas, to, value,
 *                        data, accessList, yParity, r, s])
 *   2  EIP-1559          0x02 || rlp([chainId, nonce, maxPriorityFeePerGas,
 *                        maxFeePerGas, gas, to, value, data, accessList,
 *                        yParity, r, s])
 *   3  EIP-4844          0x03 || rlp([... as 2 ..., maxFeePerBlobGas,
 *                        blobVersionedHashes, yParity, r, s]); `to` required
 *   4  EIP-7702          0x04 || rlp([... as 2 ..., authorizationList,
 *                        yParity, r, s]); `to` required, authorization
 *                        tuples [chainId, address, nonce, yParity, r, s]
 * The network ("pooled") form of a blob transaction, with blobs, KZG
 * commitments and proofs, is accepted only by gl_tx_decode_pooled(), which
 * drops the sidecar without checking it.
 *
 * Decoding is as strict as Ethereum clients: non-canonical RLP, a wrong field
 * count, trailing bytes, an unknown type byte, integers wider than their field
 * (nonce and gas are 64-bit, amounts 256-bit), addresses or hashes of the wrong
 * length, a bad v / yParity, r or s zero or >= n, and s > n/2 (EIP-2) are all
 * rejected with a reason.  Pre-Homestead (Frontier) legacy transactions may
 * carry s > n/2: pass GL_TX_ALLOW_HIGH_S to the _ex functions for those.
 *
 * Ownership: gl_tx is a public struct that owns its arrays (input,
 * access_list and each entry's keys, blob_hashes, auth_list), all heap
 * allocated.  gl_tx_init() makes an empty legacy transaction; gl_tx_release()
 * frees everything and leaves it as after gl_tx_init().  A function filling a
 * gl_tx (`out`) releases what it held first, and on failure leaves it empty
 * (as after gl_tx_init()).  Callers building a transaction by hand must put
 * malloc'ed memory into the array fields (or leave them NULL).
 */
#ifndef GPULEDGER_TX_H
#define GPULEDGER_TX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "gpuledger/bytes.h"
#include "gpuledger/err.h"
#include "gpuledger/secp.h"
#include "gpuledger/u256.h"

typedef enum gl_tx_type {
    GL_TX_LEGACY = 0,
    GL_TX_ACCESS_LIST = 1, /* EIP-2930 */
    GL_TX_DYNAMIC_FEE = 2, /* EIP-1559 */
    GL_TX_BLOB = 3,        /* EIP-4844 */
    GL_TX_SET_CODE = 4,    /* EIP-7702 */
} gl_tx_type;

/* Flags for the _ex functions. */
#define GL_TX_ALLOW_HIGH_S 0x1u /* accept s > n/2 on legacy txs (Frontier era, before
                                 * Homestead's EIP-2); typed txs never allow it */

typedef struct gl_tx_access {
    uint8_t address[20];
    uint8_t (*keys)[32]; /* nkeys storage keys, owned */
    size_t nkeys;
} gl_tx_access;

typedef struct gl_tx_auth {
    gl_u256 chain_id;
    uint8_t address[20];
    uint64_t nonce;
    uint8_t y_parity; /* any u8 decodes; only 0/1 can recover an authority */
    gl_u256 r, s;
} gl_tx_auth;

typedef struct gl_tx {
    gl_tx_type type;
    bool has_chain_id;   /* false only for pre-EIP-155 legacy */
    gl_u256 chain_id;
    uint64_t nonce;
    gl_u256 gas_price;   /* types 0 and 1 */
    gl_u256 max_priority_fee_per_gas; /* types 2, 3, 4 */
    gl_u256 max_fee_per_gas;          /* types 2, 3, 4 */
    uint64_t gas;
    bool has_to;         /* false: contract creation (types 0-2 only) */
    uint8_t to[20];
    gl_u256 value;
    uint8_t *input;      /* owned; NULL when input_len == 0 */
    size_t input_len;
    gl_tx_access *access_list; /* types 1-4, owned */
    size_t access_list_len;
    gl_u256 max_fee_per_blob_gas;   /* type 3 */
    uint8_t (*blob_hashes)[32];     /* type 3, owned */
    size_t blob_hashes_len;
    gl_tx_auth *auth_list;          /* type 4, owned */
    size_t auth_list_len;
    /* Signature.  y_parity is the recovery id (0/1) for every type; v is the
     * value as carried: legacy 27/28 or chainId*2+35+y_parity, typed
     * y_parity.  v is informative: decode, from_json and sign fill it, but
     * encoding and hashing derive v from (has_chain_id, chain_id, y_parity). */
    gl_u256 v;
    uint8_t y_parity;
    gl_u256 r, s;
} gl_tx;

/* Make an empty legacy transaction; release frees its arrays and leaves it
 * empty again.  Neither can fail.  Every gl_tx must be initialised before
 * it is passed as `out` to a decoding function. */
void gl_tx_init(gl_tx *tx);
void gl_tx_release(gl_tx *tx);

/* Decode signed envelope bytes (legacy RLP list, or type || RLP).  GL_EINVAL
 * for malformed input, GL_ENOTSUP for an unknown type byte, GL_ENOMEM. */
gl_code gl_tx_decode(gl_tx *out, const uint8_t *raw, size_t len, gl_err *err);
gl_code gl_tx_decode_ex(gl_tx *out, const uint8_t *raw, size_t len, unsigned flags, gl_err *err);

/* As gl_tx_decode, but also accepts the EIP-4844 network form sent with
 * eth_sendRawTransaction: 0x03 || rlp([tx_fields, blobs, commitments, proofs])
 * or (EIP-7594) 0x03 || rlp([tx_fields, wrapper_version, blobs,
 * commitments, cell_proofs]).  The sidecar is checked for shape only (one
 * commitment per blob hash) and dropped: KZG proofs are not verified. */
gl_code gl_tx_decode_pooled(gl_tx *out, const uint8_t *raw, size_t len, gl_err *err);
gl_code gl_tx_decode_pooled_ex(gl_tx *out, const uint8_t *raw, size_t len, unsigned flags,
                               gl_err *err);

/* Fill `out` from a JSON-RPC transaction object (eth_getTransactionByHash,
 * eth_getBlockByNumber(n, true)).  Unknown fields are ignored; quantities are
 * hex strings (JSON integers are also accepted); r and s may have leading
 * zeros stripped.  A legacy tx's chain id comes from v (a "chainId" field
 * is then checked against it when v is EIP-155).  The same value rules as
 * gl_tx_decode apply.  GL_EINVAL naming the field on failure. */
gl_code gl_tx_from_json(gl_tx *out, const json_t *obj, gl_err *err);
gl_code gl_tx_from_json_ex(gl_tx *out, const json_t *obj, unsigned flags, gl_err *err);

/* Append the signed envelope (legacy RLP, or type || RLP) to `out`: what
 * eth_sendRawTransaction takes and the transactionsRoot trie stores.
 * GL_EINVAL when the struct is inconsistent (e.g. type 3 without `to`),
 * GL_ENOMEM.  On failure out->len is restored. */
gl_code gl_tx_encode(const gl_tx *tx, gl_buf *out, gl_err *err);

/* keccak256 of the signed envelope: the transaction hash. */
gl_code gl_tx_hash(const gl_tx *tx, uint8_t out[32], gl_err *err);

/* The payload the sender signed and its keccak256 (EIP-155 / EIP-2718
 * rules).  gl_tx_signing_payload appends to `out`. */
gl_code gl_tx_signing_payload(const gl_tx *tx, gl_buf *out, gl_err *err);
gl_code gl_tx_signing_hash(const gl_tx *tx, uint8_t out[32], gl_err *err);

/* Recover the sender's address.  Checks the signature values first (same
 * rules as decoding: EIP-2 low s unless GL_TX_ALLOW_HIGH_S).  GL_EINVAL with
 * the reason; addr is zeroed on failure. */
gl_code gl_tx_recover_sender(const gl_secp *ctx, const gl_tx *tx, uint8_t addr[20], gl_err *err);
gl_code gl_tx_recover_sender_ex(const gl_secp *ctx, const gl_tx *tx, unsigned flags,
                                uint8_t addr[20], gl_err *err);

/* Sign `tx` in place: computes the signing hash and fills y_parity, v
 * (legacy: 27/28 when !has_chain_id, else chainId*2+35+y; typed: y), r, s
 * (low s).  GL_EINVAL for an invalid key, an inconsistent struct or an
 * EIP-155 chain id of 0, GL_ERANGE when chainId*2+36 overflows 256 bits;
 * the signature fields are left untouched on failure. */
gl_code gl_tx_sign(const gl_secp *ctx, gl_tx *tx, const uint8_t privkey[32], gl_err *err);

/* EIP-7702: the hash an authority signs, keccak256(0x05 || rlp([chain_id,
 * address, nonce])).  Cannot fail except GL_ENOMEM. */
gl_code gl_tx_auth_signing_hash(const gl_tx_auth *auth, uint8_t out[32], gl_err *err);
/* Recover an authorization's authority.  GL_EINVAL when the tuple cannot
 * be valid (y_parity not 0/1, r or s out of range, s > n/2 as EIP-7702
 * requires); clients skip such tuples without failing the transaction. */
gl_code gl_tx_auth_recover(const gl_secp *ctx, const gl_tx_auth *auth, uint8_t addr[20],
                           gl_err *err);
/* Sign an authorization tuple in place (fills y_parity, r, s). */
gl_code gl_tx_auth_sign(const gl_secp *ctx, gl_tx_auth *auth, const uint8_t privkey[32],
                        gl_err *err);

/* Check v / y_parity, r and s as decoding does (used after building a tx by
 * hand or from JSON).  GL_EINVAL naming the rule. */
gl_code gl_tx_check_signature(const gl_tx *tx, unsigned flags, gl_err *err);

/* "legacy", "eip2930", "eip1559", "eip4844", "eip7702" ("unknown" for a
 * value outside the enum).  Cannot fail. */
const char *gl_tx_type_name(gl_tx_type type);

/* A JSON object describing the transaction for people and tools: type,
 * chain_id (number, or decimal string when above 2^53; null for pre-EIP-155),
 * nonce, gas, fee fields and value (decimal strings), to (null for
 * creation), input, access_list, blob fields, authorization_list (each with
 * its recovered "authority" or null and "authority_error"), v, r, s,
 * y_parity, hash and sender (recovered even when s > n/2, since the caller
 * chose to decode such a tx).  `ctx` may be NULL: sender and authorities are
 * then omitted.  NULL with the reason in `err` (GL_ENOMEM, or GL_EINVAL when
 * the sender cannot be recovered). */
json_t *gl_tx_to_json(const gl_secp *ctx, const gl_tx *tx, gl_err *err);

#endif
