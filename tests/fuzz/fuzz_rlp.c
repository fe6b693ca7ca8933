/* fuzz_rlp.c - libFuzzer target: strict RLP decoding (rlp.h).
 *
 * Oracle (round trip): decoding is canonical-only, so whatever decodes must
 * re-encode to exactly the bytes it came from.  The first item of the input
 * is decoded and walked; every list is rebuilt child by child with
 * gl_rlp_list_begin/_end and every string with gl_rlp_put_bytes, and the
 * result must equal the item's raw bytes.  A string that reads as an integer
 * (gl_rlp_to_u256 / _to_u64) must encode back to the same item with
 * gl_rlp_put_u256 / _put_u64; gl_rlp_decode_exact must succeed exactly when
 * the item is the whole input; gl_rlp_list_count must agree with the walk.
 * Any mismatch traps. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gpuledger/rlp.h"

#include "fuzz.h"

static void check_integer(const gl_rlp_item *it)
{
    gl_err err;
    gl_u256 v;
    if (gl_rlp_to_u256(it, &v, &err) == GL_OK) {
        gl_buf b;
        gl_buf_init(&b);
        CHECK(gl_rlp_put_u256(&b, &v, &err) == GL_OK);
        CHECK(b.len == it->raw_len && !memcmp(b.data, it->raw, b.len));
        gl_buf_release(&b);
    }
    uint64_t u;
    if (gl_rlp_to_u64(it, &u, &err) == GL_OK) {
        gl_buf b;
        gl_buf_init(&b);
        CHECK(gl_rlp_put_u64(&b, u, &err) == GL_OK);
        CHECK(b.len == it->raw_len && !memcmp(b.data, it->raw, b.len));
        gl_buf_release(&b);
    }
}

/* Re-encode `it` into out from its parts; false when a child fails to decode. */
static bool reencode(const gl_rlp_item *it, gl_buf *out)
{
    gl_err err;
    CHECK(it->payload >= it->raw && it->payload + it->payload_len == it->raw + it->raw_len);
    if (!it->is_list) {
        check_integer(it);
        CHECK(gl_rlp_put_bytes(out, it->payload, it->payload_len, &err) == GL_OK);
        return true;
    }
    size_t begin = gl_rlp_list_begin(out), n = 0;
    gl_rlp_iter iter;
    gl_rlp_iter_init(&iter, it);
    for (;;) {
        gl_rlp_item child;
        bool has = false;
        if (gl_rlp_iter_next(&iter, &child, &has, &err) != GL_OK) {
            size_t count;
            CHECK(gl_rlp_list_count(it, &count, &err) != GL_OK);
            return false;
        }
        if (!has)
            break;
        if (!reencode(&child, out))
            return false;
        n++;
    }
    size_t count = 0;
    CHECK(gl_rlp_list_count(it, &count, &err) == GL_OK && count == n);
    CHECK(gl_rlp_list_end(out, begin, &err) == GL_OK);
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    gl_rlp_item it;
    size_t used = 0;
    gl_err err;
    if (gl_rlp_decode(data, size, &it, &used, &err) != GL_OK)
        return 0;
    CHECK(used == it.raw_len && it.raw == data && used <= size);
    gl_rlp_item whole;
    CHECK((gl_rlp_decode_exact(data, size, &whole, &err) == GL_OK) == (used == size));
    gl_buf b;
    gl_buf_init(&b);
    if (reencode(&it, &b))
        CHECK(b.len == used && !memcmp(b.data, data, used));
    gl_buf_release(&b);
    return 0;
}
