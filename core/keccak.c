/* keccak.c - the Keccak-256 sponge with Ethereum's (pre-FIPS) padding.
 *
 * nettle provides the Keccak-f[1600] permutation (sha3_permute); we keep only
 * absorbing, padding and squeezing here.  Lanes are little-endian 64-bit words,
 * so bytes are XORed in lane by lane without assuming host byte order.
 */
#include <string.h>

#include <nettle/sha3.h>

#include "gpuledger/keccak.h"

_Static_assert(sizeof(struct sha3_state) == sizeof(((gl_keccak *)0)->a),
               "nettle's sha3_state must be the bare 25-lane state");

void gl_keccak_init(gl_keccak *k) { memset(k, 0, sizeof *k); }

static void absorb_block(gl_keccak *k, const uint8_t *block)
{
    for (size_t i = 0; i < GL_KECCAK256_RATE / 8; i++) {
        uint64_t lane;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        memcpy(&lane, block + i * 8, 8);
#else
        lane = 0;
        for (int b = 7; b >= 0; b--)
            lane = lane << 8 | block[i * 8 + (size_t)b];
#endif
        k->a[i] ^= lane;
    }
    /* struct sha3_state is exactly { uint64_t a[25]; }: permute in place. */
    sha3_permute((struct sha3_state *)(void *)k->a);
}

void gl_keccak_update(gl_keccak *k, const void *data, size_t len)
{
    const uint8_t *p = data;
    if (k->fill) {
        size_t take = GL_KECCAK256_RATE - k->fill;
        if (take > len)
            take = len;
        memcpy(k->block + k->fill, p, take);
        k->fill += take;
        p += take;
        len -= take;
        if (k->fill < GL_KECCAK256_RATE)
            return;
        absorb_block(k, k->block);
        k->fill = 0;
    }
    for (; len >= GL_KECCAK256_RATE; p += GL_KECCAK256_RATE, len -= GL_KECCAK256_RATE)
        absorb_block(k, p);
    memcpy(k->block, p, len);
    k->fill = len;
}

void gl_keccak_final(gl_keccak *k, uint8_t out[GL_KECCAK256_LEN])
{
    memset(k->block + k->fill, 0, GL_KECCAK256_RATE - k->fill);
    k->block[k->fill] ^= 0x01;               /* Keccak padding, not SHA-3's 0x06 */
    k->block[GL_KECCAK256_RATE - 1] ^= 0x80;
    absorb_block(k, k->block);
    for (size_t i = 0; i < GL_KECCAK256_LEN; i++)
        out[i] = (uint8_t)(k->a[i / 8] >> (8 * (i % 8)));
}

void gl_keccak256(const void *data, size_t len, uint8_t out[GL_KECCAK256_LEN])
{
    gl_keccak k;
    gl_keccak_init(&k);
    gl_keccak_update(&k, data, len);
    gl_keccak_final(&k, out);
}
