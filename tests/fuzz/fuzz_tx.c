/* fuzz_tx.c - libFuzzer target: signed transaction decoding and sender
 * recovery (tx.h), on the raw bytes an endpoint or a user hands over.
 *
 * Oracles (any mismatch traps):
 *   - round trip: a transaction that decodes (strict or with
 *     GL_TX_ALLOW_HIGH_S) re-encodes to exactly the input, and its hash is
 *     keccak256 of the input;
 *   - inclusion: what the strict decoder takes, the high-s decoder and the
 *     pooled decoder (gl_tx_decode_pooled, a superset) take too, to the same
 *     encoding; gl_tx_check_signature agrees with the decoder's verdict;
 *   - recovery: recovering the sender never fails on a strictly decoded
 *     transaction except for a signature with no point (GL_EINVAL), and is
 *     deterministic; re-signing with a fixed key and recovering gives that
 *     key's address, and the re-signed transaction round-trips too. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gpuledger/keccak.h"
#include "gpuledger/secp.h"
#include "gpuledger/tx.h"

#include "fuzz.h"

static gl_secp *secp;
static uint8_t key_addr[20];
static const uint8_t KEY[32] = {0x4c, 0x08, 0x83, 0xa6, 0x91, 0x02, 0x93, 0x7d, 0x62, 0x31, 0x47,
                                0x1b, 0x5d, 0xbb, 0x62, 0x04, 0xfe, 0x51, 0x29, 0x61, 0x70, 0x82,
                                0x79, 0x2a, 0xe4, 0x68, 0xd0, 0x1a, 0x3f, 0x36, 0x23, 0x18};

static void encode_equals(const gl_tx *tx, const uint8_t *data, size_t size)
{
    gl_err err;
    gl_buf b;
    gl_buf_init(&b);
    CHECK(gl_tx_encode(tx, &b, &err) == GL_OK);
    CHECK(b.len == size && !memcmp(b.data, data, size));
    gl_buf_release(&b);
    uint8_t h[32], k[32];
    CHECK(gl_tx_hash(tx, h, &err) == GL_OK);
    gl_keccak256(data, size, k);
    CHECK(!memcmp(h, k, 32));
}

/* Re-sign with KEY: the recovered sender is KEY's address and the new
 * encoding decodes back to itself. */
static void resign(const gl_tx *orig)
{
    gl_err err;
    gl_tx tx;
    gl_tx_init(&tx);
    gl_buf b;
    gl_buf_init(&b);
    CHECK(gl_tx_encode(orig, &b, &err) == GL_OK);
    CHECK(gl_tx_decode_ex(&tx, b.data, b.len, GL_TX_ALLOW_HIGH_S, &err) == GL_OK);
    gl_buf_release(&b);
    if (gl_tx_sign(secp, &tx, KEY, &err) == GL_OK) {
        uint8_t a[20];
        CHECK(gl_tx_recover_sender(secp, &tx, a, &err) == GL_OK);
        CHECK(!memcmp(a, key_addr, 20));
        gl_buf_init(&b);
        CHECK(gl_tx_encode(&tx, &b, &err) == GL_OK);
        gl_tx back;
        gl_tx_init(&back);
        CHECK(gl_tx_decode(&back, b.data, b.len, &err) == GL_OK);
        encode_equals(&back, b.data, b.len);
        gl_tx_release(&back);
        gl_buf_release(&b);
    }
    gl_tx_release(&tx);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    gl_err err;
    if (!secp) {
        secp = gl_secp_new(&err);
        CHECK(secp && gl_secp_address_of_privkey(secp, KEY, key_addr, &err) == GL_OK);
    }
    gl_tx strict, high, pooled;
    gl_tx_init(&strict);
    gl_tx_init(&high);
    gl_tx_init(&pooled);
    gl_code rs = gl_tx_decode(&strict, data, size, &err);
    gl_code rh = gl_tx_decode_ex(&high, data, size, GL_TX_ALLOW_HIGH_S, &err);
    gl_code rp = gl_tx_decode_pooled_ex(&pooled, data, size, GL_TX_ALLOW_HIGH_S, &err);
    if (rs == GL_OK) {
        CHECK(rh == GL_OK && rp == GL_OK);
        encode_equals(&strict, data, size);
        CHECK(gl_tx_check_signature(&strict, 0, &err) == GL_OK);
        uint8_t a1[20], a2[20];
        gl_code r1 = gl_tx_recover_sender(secp, &strict, a1, &err);
        gl_code r2 = gl_tx_recover_sender_ex(secp, &high, GL_TX_ALLOW_HIGH_S, a2, &err);
        CHECK(r1 == r2 && (r1 == GL_OK || r1 == GL_EINVAL));
        CHECK(r1 != GL_OK || !memcmp(a1, a2, 20));
        for (size_t i = 0; i < strict.auth_list_len; i++) {
            uint8_t aa[20];
            (void)gl_tx_auth_recover(secp, &strict.auth_list[i], aa, &err);
        }
        json_t *j = gl_tx_to_json(secp, &strict, &err);
        json_decref(j);
        resign(&strict);
    }
    if (rh == GL_OK) {
        CHECK(rp == GL_OK);
        encode_equals(&high, data, size);
        encode_equals(&pooled, data, size);
        CHECK(gl_tx_check_signature(&high, GL_TX_ALLOW_HIGH_S, &err) == GL_OK);
        CHECK((gl_tx_check_signature(&high, 0, &err) == GL_OK) == (rs == GL_OK));
        uint8_t a[20];
        (void)gl_tx_recover_sender_ex(secp, &high, GL_TX_ALLOW_HIGH_S, a, &err);
    } else if (rp == GL_OK) {
        /* the network form of a blob tx: the canonical part re-encodes and
         * decodes strictly-as-pooled to itself */
        gl_buf b;
        gl_buf_init(&b);
        CHECK(gl_tx_encode(&pooled, &b, &err) == GL_OK);
        gl_tx back;
        gl_tx_init(&back);
        CHECK(gl_tx_decode_ex(&back, b.data, b.len, GL_TX_ALLOW_HIGH_S, &err) == GL_OK);
        encode_equals(&back, b.data, b.len);
        gl_tx_release(&back);
        gl_buf_release(&b);
    }
    gl_tx_release(&strict);
    gl_tx_release(&high);
    gl_tx_release(&pooled);
    return 0;
}
