/* fuzz_store_records.c - libFuzzer target: the store's record decoders
 * (store.h, docs/STORE.md), which read whatever bytes a damaged or foreign
 * RocksDB directory holds.
 *
 * Input: byte 0 picks the decoder (block, tx, transfer, event, label,
 * cursor, position, appearance by address or by position), byte 1 is the
 * key's length; the key follows, the rest is the value.  Oracles (any
 * mismatch traps), when the decoder accepts:
 *   - fixed layouts (block, tx, transfer): the encoder gives back exactly
 *     the value, and gl_store_key_* exactly the key;
 *   - positions and appearances: gl_store_key_pos / _key_appearance give
 *     back exactly the input;
 *   - cursors: gl_store_key_cursor gives back the key;
 *   - TLV records (event, label): the record encodes (the encoder accepts
 *     what the decoder accepted), and the encoding decodes to the same
 *     record (byte equality is not asked: optional fields of later versions
 *     are skipped and zero fields may be written out or left out). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gpuledger/store.h"

#include "fuzz.h"

static bool eq(const void *a, const void *b, size_t n) { return !memcmp(a, b, n); }

static void block(const uint8_t *k, size_t kl, const uint8_t *v, size_t vl)
{
    gl_err err;
    gl_store_block b;
    if (gl_store_block_decode(&b, k, kl, v, vl, &err))
        return;
    uint8_t out[GL_STORE_BLOCK_VAL_LEN], key[GL_STORE_BLOCK_KEY_LEN];
    CHECK(gl_store_block_encode(&b, out, &err) == GL_OK && vl == sizeof out && eq(out, v, vl));
    gl_store_key_block(key, b.chain_id, b.number);
    CHECK(kl == sizeof key && eq(key, k, kl));
}

static void tx(const uint8_t *k, size_t kl, const uint8_t *v, size_t vl)
{
    gl_err err;
    gl_store_tx t;
    if (gl_store_tx_decode(&t, k, kl, v, vl, &err))
        return;
    uint8_t out[GL_STORE_TX_VAL_LEN], key[GL_STORE_TX_KEY_LEN];
    CHECK(gl_store_tx_encode(&t, out, &err) == GL_OK && vl == sizeof out && eq(out, v, vl));
    gl_store_key_tx(key, t.chain_id, t.block, t.index);
    CHECK(kl == sizeof key && eq(key, k, kl));
}

static void transfer(const uint8_t *k, size_t kl, const uint8_t *v, size_t vl)
{
    gl_err err;
    gl_store_transfer t;
    if (gl_store_transfer_decode(&t, k, kl, v, vl, &err))
        return;
    uint8_t out[GL_STORE_TRANSFER_VAL_LEN], key[GL_STORE_POS_LEN];
    CHECK(gl_store_transfer_encode(&t, out, &err) == GL_OK && vl == sizeof out && eq(out, v, vl));
    gl_store_key_pos(key, &t.pos);
    CHECK(kl == sizeof key && eq(key, k, kl));
}

static void event(const uint8_t *k, size_t kl, const uint8_t *v, size_t vl)
{
    gl_err err;
    gl_store_event *a = malloc(sizeof *a), *b = malloc(sizeof *b);
    CHECK(a && b);
    if (gl_store_event_decode(a, k, kl, v, vl, &err) == GL_OK) {
        gl_buf out = GL_BUF_INIT;
        CHECK(gl_store_event_encode(a, &out, &err) == GL_OK);
        uint8_t key[GL_STORE_EVENT_KEY_LEN];
        gl_store_key_event(key, a->chain_id, a->block, a->log_index);
        CHECK(kl == sizeof key && eq(key, k, kl));
        CHECK(gl_store_event_decode(b, key, sizeof key, out.data, out.len, &err) == GL_OK);
        CHECK(eq(a, b, sizeof *a));
        gl_buf_release(&out);
    }
    free(a);
    free(b);
}

static void label(const uint8_t *k, size_t kl, const uint8_t *v, size_t vl)
{
    gl_err err;
    gl_store_label a, b;
    if (gl_store_label_decode(&a, k, kl, v, vl, &err))
        return;
    gl_buf out = GL_BUF_INIT;
    CHECK(gl_store_label_encode(&a, &out, &err) == GL_OK);
    CHECK(kl == 20 + strlen(a.source) && eq(k, a.addr, 20) && eq(k + 20, a.source, kl - 20));
    CHECK(gl_store_label_decode(&b, k, kl, out.data, out.len, &err) == GL_OK);
    CHECK(eq(&a, &b, sizeof a));
    gl_buf_release(&out);
}

static void cursor(const uint8_t *k, size_t kl, const uint8_t *v, size_t vl)
{
    gl_err err;
    gl_store_cursor c;
    if (gl_store_cursor_decode(&c, k, kl, v, vl, &err))
        return;
    CHECK(gl_store_name_ok(c.name));
    gl_buf key = GL_BUF_INIT;
    CHECK(gl_store_key_cursor(&key, c.chain_id, c.name, &err) == GL_OK);
    CHECK(key.len == kl && eq(key.data, k, kl));
    uint8_t val[GL_STORE_CURSOR_VAL_LEN];
    gl_store_be64_put(val, c.block);
    memcpy(val + 8, c.hash, 32);
    CHECK(vl == sizeof val && eq(val, v, vl));
    gl_buf_release(&key);
}

static void pos(const uint8_t *in, size_t n)
{
    gl_err err;
    gl_store_pos p;
    if (n < GL_STORE_POS_LEN || gl_store_pos_decode(&p, in, &err))
        return;
    uint8_t out[GL_STORE_POS_LEN];
    gl_store_key_pos(out, &p);
    CHECK(eq(out, in, sizeof out));
}

static void appearance(const uint8_t *in, size_t n, bool by_address)
{
    gl_err err;
    gl_store_appearance a;
    if (n < GL_STORE_APPEARANCE_KEY_LEN || gl_store_appearance_decode(&a, in, by_address, &err))
        return;
    uint8_t out[GL_STORE_APPEARANCE_KEY_LEN];
    CHECK(gl_store_key_appearance(out, &a, by_address, &err) == GL_OK);
    CHECK(eq(out, in, sizeof out));
    (void)gl_store_role_name(a.role);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    unsigned which = data[0] % 9;
    size_t kl = data[1];
    const uint8_t *rest = data + 2;
    size_t n = size - 2;
    if (which == 6) {
        pos(rest, n);
        return 0;
    }
    if (which == 7 || which == 8) {
        appearance(rest, n, which == 7);
        return 0;
    }
    if (kl > n)
        return 0;
    /* copies, so that a read past either end is caught */
    uint8_t *k = malloc(kl ? kl : 1), *v = malloc(n - kl ? n - kl : 1);
    CHECK(k && v);
    memcpy(k, rest, kl);
    memcpy(v, rest + kl, n - kl);
    switch (which) {
    case 0: block(k, kl, v, n - kl); break;
    case 1: tx(k, kl, v, n - kl); break;
    case 2: transfer(k, kl, v, n - kl); break;
    case 3: event(k, kl, v, n - kl); break;
    case 4: label(k, kl, v, n - kl); break;
    default: cursor(k, kl, v, n - kl); break;
    }
    free(k);
    free(v);
    return 0;
}
