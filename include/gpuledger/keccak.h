/* keccak.h - Keccak-256 as Ethereum uses it.
 *
 * This is the original Keccak submission padding (0x01 ... 0x80), not the
 * FIPS-202 SHA3-256 padding (0x06): keccak256("") is c5d2...a470, not
 * a7ff...434a.  The permutation comes from nettle (sha3_permute); only the
 * sponge and padding live here.
 */
#ifndef GPULEDGER_KECCAK_H
#define GPULEDGER_KECCAK_H

#include <stddef.h>
#include <stdint.h>

#define GL_KECCAK256_LEN 32
#define GL_KECCAK256_RATE 136

typedef struct gl_keccak {
    uint64_t a[25];
    uint8_t block[GL_KECCAK256_RATE];
    size_t fill;
} gl_keccak;

void gl_keccak_init(gl_keccak *k);
void gl_keccak_update(gl_keccak *k, const void *data, size_t len);
/* Writes 32 bytes; the context must be re-initialised before reuse. */
void gl_keccak_final(gl_keccak *k, uint8_t out[GL_KECCAK256_LEN]);

/* One-shot keccak-256 of len bytes.  Cannot fail. */
void gl_keccak256(const void *data, size_t len, uint8_t out[GL_KECCAK256_LEN]);

#endif
