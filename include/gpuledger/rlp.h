/* rlp.h - Recursive Length Prefix encoding, strict.
 *
 * Decoding is canonical-only, as Ethereum clients require: a single byte
 * < 0x80 wrapped in a string header, a long-form length for a payload under
 * 56 bytes, a length with leading zero bytes, or a length running past the
 * input are all errors with a reason (GL_EINVAL).  Nothing is copied: an
 * item points into the input.
 *
 * Encoding appends to a gl_buf.  Lists are built by encoding the children
 * into a buffer and then wrapping it (gl_rlp_wrap_list), or with
 * gl_rlp_list_begin/gl_rlp_list_end, which patch the header in place.
 */
#ifndef GPULEDGER_RLP_H
#define GPULEDGER_RLP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gpuledger/bytes.h"
#include "gpuledger/err.h"
#include "gpuledger/u256.h"

typedef struct gl_rlp_item {
    bool is_list;
    const uint8_t *payload; /* string bytes, or the concatenated list items */
    size_t payload_len;
    const uint8_t *raw;     /* the whole encoding, header included */
    size_t raw_len;
} gl_rlp_item;

/* Decode the single item at the start of [data, data+len).  `*consumed`
 * (may be NULL) gets its encoded length.  Trailing bytes are allowed here;
 * use gl_rlp_decode_exact when the input must be exactly one item. */
gl_code gl_rlp_decode(const uint8_t *data, size_t len, gl_rlp_item *out /* OUT */,
                      size_t *consumed /* OUT */, gl_err *err);
/* As gl_rlp_decode, but trailing bytes are an error. */
gl_code gl_rlp_decode_exact(const uint8_t *data, size_t len, gl_rlp_item *out, gl_err *err);

/* Iterate a list's children: set *pos = 0, then call until it returns false.
 * A malformed child sets *err-style failure: returns false and *rc != GL_OK. */
typedef struct gl_rlp_iter {
    const uint8_t *p;
    size_t left;
} gl_rlp_iter;
void gl_rlp_iter_init(gl_rlp_iter *it, const gl_rlp_item *list);
/* Returns GL_OK and sets *has=true with the next child in *out, or
 * GL_OK with *has=false at the end, or an error. */
gl_code gl_rlp_iter_next(gl_rlp_iter *it, gl_rlp_item *out, bool *has, gl_err *err);
/* Count the children of a list (validating each).  */
gl_code gl_rlp_list_count(const gl_rlp_item *list, size_t *count, gl_err *err);
/* Decode a list into exactly n children (fewer or more is GL_EINVAL). */
gl_code gl_rlp_list_items(const gl_rlp_item *list, gl_rlp_item *items, size_t n, gl_err *err);

/* Interpret a string item as a canonical unsigned integer: no leading zero
 * bytes (so 0 is the empty string), at most 32 bytes.  Lists are errors. */
gl_code gl_rlp_to_u256(const gl_rlp_item *it, gl_u256 *out, gl_err *err);
gl_code gl_rlp_to_u64(const gl_rlp_item *it, uint64_t *out, gl_err *err);
/* A string item of exactly n bytes (addresses, hashes). */
gl_code gl_rlp_to_fixed(const gl_rlp_item *it, uint8_t *out, size_t n, gl_err *err);

/* --- encoding (append to out; only GL_ENOMEM can fail) --- */
gl_code gl_rlp_put_bytes(gl_buf *out, const uint8_t *data, size_t len, gl_err *err);
gl_code gl_rlp_put_u64(gl_buf *out, uint64_t v, gl_err *err);
gl_code gl_rlp_put_u256(gl_buf *out, const gl_u256 *v, gl_err *err);
/* Append pre-encoded RLP verbatim (e.g. an item taken from a decode). */
gl_code gl_rlp_put_raw(gl_buf *out, const uint8_t *data, size_t len, gl_err *err);
/* Append a list header for a payload of `payload_len` bytes. */
gl_code gl_rlp_put_list_header(gl_buf *out, size_t payload_len, gl_err *err);
/* Open a list: remember where it starts; children are appended after;
 * gl_rlp_list_end inserts the right header in front of them. */
size_t gl_rlp_list_begin(const gl_buf *out);
gl_code gl_rlp_list_end(gl_buf *out, size_t begin, gl_err *err);

#endif
