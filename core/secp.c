/* secp.c - libsecp256k1 wrapper: context, recovery, signing, addresses.
 *
 * libsecp256k1 0.2.0 builds its precomputed tables when a context is
 * created, so gl_secp_new() is slow-ish and meant to be called once.  After
 * secp256k1_context_randomize the context is only read, which is what makes
 * a shared `const gl_secp *` safe across threads (see secp.h).
 */
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <secp256k1.h>
#include <secp256k1_recovery.h>

#include "gpuledger/keccak.h"
#include "gpuledger/secp.h"

struct gl_secp {
    secp256k1_context *ctx;
};

const uint8_t gl_secp_order[32] = {
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe,
    0xba, 0xae, 0xdc, 0xe6, 0xaf, 0x48, 0xa0, 0x3b, 0xbf, 0xd2, 0x5e, 0x8c, 0xd0, 0x36, 0x41, 0x41,
};

const uint8_t gl_secp_half_order[32] = {
    0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0x5d, 0x57, 0x6e, 0x73, 0x57, 0xa4, 0x50, 0x1d, 0xdf, 0xe9, 0x2f, 0x46, 0x68, 0x1b, 0x20, 0xa0,
};

/* ---------------------------------------------------------------- context */

gl_secp *gl_secp_new(gl_err *err)
{
    gl_secp *s = calloc(1, sizeof *s);
    if (!s) {
        gl_err_set(err, GL_ENOMEM, "out of memory creating secp256k1 context");
        return NULL;
    }
    s->ctx = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
    if (!s->ctx) {
        free(s);
        gl_err_set(err, GL_ENOMEM, "secp256k1_context_create failed");
        return NULL;
    }
    /* Blinding only protects signing against side channels; without OS
     * randomness the context still computes correct results. */
    unsigned char seed[32];
    if (getrandom(seed, sizeof seed, 0) == (ssize_t)sizeof seed) {
        if (!secp256k1_context_randomize(s->ctx, seed)) {
            secp256k1_context_destroy(s->ctx);
            free(s);
            gl_err_set(err, GL_EINVAL, "secp256k1_context_randomize failed");
            return NULL;
        }
    }
    memset(seed, 0, sizeof seed);
    return s;
}

void gl_secp_free(gl_secp *ctx)
{
    if (!ctx)
        return;
    secp256k1_context_destroy(ctx->ctx);
    free(ctx);
}

/* ---------------------------------------------------------------- helpers */

static bool is_zero32(const uint8_t a[32])
{
    uint8_t acc = 0;
    for (int i = 0; i < 32; i++)
        acc |= a[i];
    return acc == 0;
}

void gl_secp_address_of_pubkey64(const uint8_t pub[64], uint8_t addr[20])
{
    uint8_t h[32];
    gl_keccak256(pub, 64, h);
    memcpy(addr, h + 12, 20);
}

/* Serialize a parsed public key and take its address. */
static void address_of_pubkey(const secp256k1_context *ctx, const secp256k1_pubkey *pk,
                              uint8_t addr[20])
{
    uint8_t ser[65];
    size_t n = sizeof ser;
    /* Cannot fail for a valid pubkey object and a 65-byte buffer. */
    if (!secp256k1_ec_pubkey_serialize(ctx, ser, &n, pk, SECP256K1_EC_UNCOMPRESSED) || n != 65) {
        memset(addr, 0, 20);
        return;
    }
    gl_secp_address_of_pubkey64(ser + 1, addr);
}

/* ---------------------------------------------------------------- API */

gl_code gl_secp_check_sig(const uint8_t r[32], const uint8_t s[32], bool low_s, gl_err *err)
{
    if (is_zero32(r))
        return gl_err_set(err, GL_EINVAL, "invalid signature: r is zero");
    if (is_zero32(s))
        return gl_err_set(err, GL_EINVAL, "invalid signature: s is zero");
    if (memcmp(r, gl_secp_order, 32) >= 0)
        return gl_err_set(err, GL_EINVAL, "invalid signature: r >= secp256k1 order n");
    if (memcmp(s, gl_secp_order, 32) >= 0)
        return gl_err_set(err, GL_EINVAL, "invalid signature: s >= secp256k1 order n");
    if (low_s && memcmp(s, gl_secp_half_order, 32) > 0)
        return gl_err_set(err, GL_EINVAL, "invalid signature: s > n/2 (EIP-2 requires low s)");
    return GL_OK;
}

gl_code gl_secp_recover(const gl_secp *ctx, const uint8_t hash[32], const uint8_t r[32],
                        const uint8_t s[32], int recid, uint8_t addr[20], gl_err *err)
{
    memset(addr, 0, 20);
    if (recid < 0 || recid > 1)
        return gl_err_set(err, GL_EINVAL, "invalid signature: recovery id %d is not 0 or 1", recid);
    gl_code rc = gl_secp_check_sig(r, s, false, err);
    if (rc != GL_OK)
        return rc;
    uint8_t compact[64];
    memcpy(compact, r, 32);
    memcpy(compact + 32, s, 32);
    secp256k1_ecdsa_recoverable_signature sig;
    if (!secp256k1_ecdsa_recoverable_signature_parse_compact(ctx->ctx, &sig, compact, recid))
        return gl_err_set(err, GL_EINVAL, "invalid signature: cannot parse r, s");
    secp256k1_pubkey pk;
    if (!secp256k1_ecdsa_recover(ctx->ctx, &pk, &sig, hash))
        return gl_err_set(err, GL_EINVAL, "invalid signature: no public key recovers from r, s, v");
    address_of_pubkey(ctx->ctx, &pk, addr);
    return GL_OK;
}

gl_code gl_secp_sign(const gl_secp *ctx, const uint8_t hash[32], const uint8_t privkey[32],
                     uint8_t r[32], uint8_t s[32], int *recid, gl_err *err)
{
    memset(r, 0, 32);
    memset(s, 0, 32);
    *recid = 0;
    if (!secp256k1_ec_seckey_verify(ctx->ctx, privkey))
        return gl_err_set(err, GL_EINVAL, "invalid private key (zero or >= secp256k1 order n)");
    secp256k1_ecdsa_recoverable_signature sig;
    if (!secp256k1_ecdsa_sign_recoverable(ctx->ctx, &sig, hash, privkey, NULL, NULL))
        return gl_err_set(err, GL_EINVAL, "secp256k1 signing failed");
    uint8_t compact[64];
    int id = 0;
    if (!secp256k1_ecdsa_recoverable_signature_serialize_compact(ctx->ctx, compact, &id, &sig))
        return gl_err_set(err, GL_EINVAL, "secp256k1 signature serialization failed");
    /* libsecp256k1 always produces a normalized (low-s) signature, and for
     * r < n the recovery id is 0 or 1 except with negligible probability
     * (x coordinate >= n); refuse that case rather than emit an id Ethereum
     * cannot carry. */
    if (id > 1)
        return gl_err_set(err, GL_EINVAL, "signature has recovery id %d, not representable", id);
    memcpy(r, compact, 32);
    memcpy(s, compact + 32, 32);
    *recid = id;
    return GL_OK;
}

gl_code gl_secp_address_of_privkey(const gl_secp *ctx, const uint8_t privkey[32], uint8_t addr[20],
                                   gl_err *err)
{
    memset(addr, 0, 20);
    secp256k1_pubkey pk;
    if (!secp256k1_ec_pubkey_create(ctx->ctx, &pk, privkey))
        return gl_err_set(err, GL_EINVAL, "invalid private key (zero or >= secp256k1 order n)");
    address_of_pubkey(ctx->ctx, &pk, addr);
    return GL_OK;
}
