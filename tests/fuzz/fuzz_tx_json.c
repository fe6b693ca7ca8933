/* fuzz_tx_json.c - libFuzzer target: a transaction read from a JSON-RPC
 * transaction object (gl_tx_from_json, tx_json.c), as eth_getBlockByNumber
 * and eth_getTransactionByHash answer.
 *
 * The input is parsed by jansson (what the endpoint layer does) and, when it
 * is JSON, handed to gl_tx_from_json_ex (with and without
 * GL_TX_ALLOW_HIGH_S).  Oracles (any mismatch traps): a transaction read
 * strictly is read with GL_TX_ALLOW_HIGH_S too, with the same encoding; the
 * transaction read encodes, and those bytes decode (gl_tx_decode_ex with the
 * same flags) to a transaction that encodes to the same bytes and has the
 * same hash and signing hash; its signature passes gl_tx_check_signature;
 * gl_tx_to_json works on it. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "gpuledger/tx.h"

#include "fuzz.h"

static void round_trip(const gl_tx *tx, unsigned flags, gl_buf *enc)
{
    gl_err err;
    CHECK(gl_tx_encode(tx, enc, &err) == GL_OK);
    CHECK(gl_tx_check_signature(tx, flags, &err) == GL_OK);
    gl_tx back;
    gl_tx_init(&back);
    CHECK(gl_tx_decode_ex(&back, enc->data, enc->len, flags, &err) == GL_OK);
    gl_buf b2;
    gl_buf_init(&b2);
    CHECK(gl_tx_encode(&back, &b2, &err) == GL_OK);
    CHECK(b2.len == enc->len && !memcmp(b2.data, enc->data, b2.len));
    uint8_t h1[32], h2[32];
    CHECK(gl_tx_hash(tx, h1, &err) == GL_OK && gl_tx_hash(&back, h2, &err) == GL_OK && !memcmp(h1, h2, 32));
    CHECK(gl_tx_signing_hash(tx, h1, &err) == GL_OK && gl_tx_signing_hash(&back, h2, &err) == GL_OK &&
          !memcmp(h1, h2, 32));
    json_t *j = gl_tx_to_json(NULL, tx, &err);
    CHECK(j);
    json_decref(j);
    gl_buf_release(&b2);
    gl_tx_release(&back);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *doc = json_loadb((const char *)data, size, JSON_DECODE_ANY, NULL);
    if (!doc)
        return 0;
    gl_err err;
    gl_tx strict, high;
    gl_tx_init(&strict);
    gl_tx_init(&high);
    gl_code rs = gl_tx_from_json(&strict, doc, &err);
    gl_code rh = gl_tx_from_json_ex(&high, doc, GL_TX_ALLOW_HIGH_S, &err);
    gl_buf e1, e2;
    gl_buf_init(&e1);
    gl_buf_init(&e2);
    if (rs == GL_OK) {
        CHECK(rh == GL_OK);
        round_trip(&strict, 0, &e1);
    }
    if (rh == GL_OK) {
        round_trip(&high, GL_TX_ALLOW_HIGH_S, &e2);
        CHECK(rs != GL_OK || (e1.len == e2.len && !memcmp(e1.data, e2.data, e1.len)));
    }
    gl_buf_release(&e1);
    gl_buf_release(&e2);
    gl_tx_release(&strict);
    gl_tx_release(&high);
    json_decref(doc);
    return 0;
}
