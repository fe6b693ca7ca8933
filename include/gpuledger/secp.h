/* secp.h - secp256k1 for Ethereum: sender recovery, signing, addresses.
 *
 * A thin wrapper over libsecp256k1 (with its recovery module).  One gl_secp
 * context per process is enough: create it once with gl_secp_new() (that is
 * the costly part with libsecp256k1 0.2.0), share it, free it at exit.
 *
 * Thread safety: the context is never written to after gl_secp_new()
 * returns, so every function taking a `const gl_secp *` may be called from
 * any number of threads at once.  Only gl_secp_new and gl_secp_free must not
 * race with other uses of the same context.
 *
 * Conventions: 32-byte scalars (r, s, private keys, hashes) are big-endian;
 * addresses are the 20 low bytes of keccak256(uncompressed public key without
 * its 0x04 prefix).  Functions return GL_OK or an error with a reason and
 * zero their outputs on failure.
 */
#ifndef GPULEDGER_SECP_H
#define GPULEDGER_SECP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gpuledger/err.h"

typedef struct gl_secp gl_secp; /* opaque; owns a secp256k1_context */

/* The group order n and n/2 (the EIP-2 bound for s), big-endian. */
extern const uint8_t gl_secp_order[32];
extern const uint8_t gl_secp_half_order[32];

/* Create a context (randomized for side-channel protection when the OS gives
 * random bytes).  NULL with GL_ENOMEM in `err` when allocation fails. */
gl_secp *gl_secp_new(gl_err *err);
/* Free a context; NULL is a no-op. */
void gl_secp_free(gl_secp *ctx);

/* Recover the signer's address from a 32-byte message hash and the signature
 * (r, s, recid in {0, 1}).  The signature values are only checked as far as
 * recovery needs (0 < r, s < n): the EIP-2 low-s rule is the caller's
 * (gl_secp_check_sig).  GL_EINVAL when recid is out of range, r or s are out
 * of range, or no public key matches. */
gl_code gl_secp_recover(const gl_secp *ctx, const uint8_t hash[32], const uint8_t r[32],
                        const uint8_t s[32], int recid, uint8_t addr[20] /* OUT */, gl_err *err);

/* Check signature values as Ethereum clients do: 0 < r < n, 0 < s < n, and,
 * when `low_s`, s <= n/2 (EIP-2, Homestead onwards).  GL_EINVAL naming the
 * rule broken. */
gl_code gl_secp_check_sig(const uint8_t r[32], const uint8_t s[32], bool low_s, gl_err *err);

/* Sign a 32-byte hash deterministically (RFC 6979): r, s (s always <= n/2)
 * and the recovery id (0 or 1).  GL_EINVAL when the key is not a valid
 * secret key (zero or >= n). */
gl_code gl_secp_sign(const gl_secp *ctx, const uint8_t hash[32], const uint8_t privkey[32],
                     uint8_t r[32] /* OUT */, uint8_t s[32] /* OUT */, int *recid /* OUT */,
                     gl_err *err);

/* The address of a private key.  GL_EINVAL when the key is invalid. */
gl_code gl_secp_address_of_privkey(const gl_secp *ctx, const uint8_t privkey[32],
                                   uint8_t addr[20] /* OUT */, gl_err *err);

/* The address of a 64-byte uncompressed public key (x || y, no 0x04 prefix).
 * Cannot fail (the key is not checked to be on the curve). */
void gl_secp_address_of_pubkey64(const uint8_t pub[64], uint8_t addr[20] /* OUT */);

#endif
