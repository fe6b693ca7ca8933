/* abi.h - the Solidity contract ABI: types, signatures, event topics,
 * decoding of logs, calldata and return data, and encoding.
 *
 * Types.  A gl_abi_type is a tree parsed from a type string ("uint8[2][]",
 * "(uint256,address[])", "tuple(...)" in JSON ABIs) or a JSON ABI parameter.
 * It is read-only once built; gl_abi_type_free() frees a whole tree.  A
 * parameter list (function inputs, event parameters, return values) is a
 * TUPLE whose components carry names and, for events, `indexed` flags.
 * Supported: uintN/intN (N = 8..256 step 8; "uint"/"int" mean 256),
 * address, bool, bytesN (1..32; "byte" means bytes1), bytes, string, T[],
 * T[k] (k >= 1), tuples (at least one component when nested).  fixed/ufixed
 * and the `function` type are GL_ENOTSUP.  Nesting is limited to
 * GL_ABI_MAX_DEPTH levels and a type's static size to GL_ABI_MAX_STATIC bytes.
 *
 * Signatures.  gl_abi_sig_parse() reads canonical signatures
 * ("Transfer(address,address,uint256)") and human-readable declarations
 * ("event Transfer(address indexed from, address indexed to, uint256 value)",
 * "function f(uint256[] calldata xs) external returns (bool)"), with an
 * optional trailing `anonymous`.  gl_abi_sig_from_json() reads one JSON ABI
 * entry.  Either way the signature gets its canonical form and its keccak-256
 * (the event's topic0; a function's selector is the first 4 bytes).
 *
 * Values as JSON (jansson), the same forms for decoding and encoding:
 *   uintN, intN     decimal strings ("-5"); the encoder also takes JSON
 *                   integers and "0x" hex strings ("-0x05" for int)
 *   address         "0x" + 40 lowercase hex digits (the encoder accepts any
 *                   case; mixed case must be a valid EIP-55 checksum)
 *   bool            true / false
 *   bytesN, bytes   "0x" hex (bytesN: exactly N bytes)
 *   string          a JSON string when the bytes are valid UTF-8; otherwise
 *                   {"hex":"0x..."} (never lossy; the encoder takes both)
 *   T[], T[k]       JSON arrays
 *   tuple           an object keyed by component names when every component
 *                   has a distinct name, otherwise an array (the encoder
 *                   takes both)
 *   indexed event parameters that are not value types (string, bytes,
 *   arrays, tuples) are keccak hashes in the topics: {"indexed_hash":"0x.."}
 *
 * Decoding is strict and never reads past the buffer: every offset and
 * length is checked against the data size with overflow-safe arithmetic;
 * integers must be properly zero/sign-extended, addresses have 12 zero high
 * bytes, bools are 0 or 1, bytesN and bytes/string padding must be zero, and
 * bytes after the last one the encoding uses are an error unless
 * GL_ABI_ALLOW_TRAILING is given.  Offsets that make the decoder read the
 * same data twice are accepted only while the total read stays within twice
 * the data size (a bound against decompression bombs).  Error messages name
 * the parameter by its path ("items[3].name: ...").
 */
#ifndef GPULEDGER_ABI_H
#define GPULEDGER_ABI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "gpuledger/bytes.h"
#include "gpuledger/err.h"

/* Nesting depth of arrays and tuples in one type: deeper is GL_EINVAL. */
#define GL_ABI_MAX_DEPTH 32
/* Largest static size of a type, in bytes (e.g. uint256[k] has 32k). */
#define GL_ABI_MAX_STATIC ((size_t)1 << 32)
/* Largest fixed array length k in T[k]. */
#define GL_ABI_MAX_FIXED_LEN ((size_t)1 << 27)

typedef enum gl_abi_kind {
    GL_ABI_UINT,        /* uint<bits> */
    GL_ABI_INT,         /* int<bits>, two's complement */
    GL_ABI_ADDRESS,     /* 20 bytes */
    GL_ABI_BOOL,
    GL_ABI_FIXED_BYTES, /* bytes<size>, size 1..32 */
    GL_ABI_BYTES,       /* dynamic byte string */
    GL_ABI_STRING,      /* dynamic UTF-8 (not enforced on chain) */
    GL_ABI_ARRAY,       /* elem[] */
    GL_ABI_FIXED_ARRAY, /* elem[size] */
    GL_ABI_TUPLE,       /* (comps[0], ..., comps[ncomps-1]) */
} gl_abi_kind;

typedef struct gl_abi_type gl_abi_type;

typedef struct gl_abi_param {
    char *name;        /* never NULL; "" when unnamed */
    bool indexed;      /* top-level event parameters only */
    gl_abi_type *type; /* owned */
} gl_abi_param;

struct gl_abi_type {
    gl_abi_kind kind;
    unsigned bits;        /* UINT, INT: 8..256 */
    size_t size;          /* FIXED_BYTES: 1..32; FIXED_ARRAY: element count */
    gl_abi_type *elem;    /* ARRAY, FIXED_ARRAY (owned) */
    size_t ncomps;        /* TUPLE */
    gl_abi_param *comps;  /* TUPLE (owned) */
    bool dynamic;         /* bytes, string, T[], or containing one */
    size_t head_size;     /* bytes taken in the enclosing head: 32 if dynamic */
};

typedef enum gl_abi_sig_kind {
    GL_ABI_SIG_BARE,     /* "Name(types)": usable as event or function */
    GL_ABI_SIG_EVENT,
    GL_ABI_SIG_FUNCTION,
} gl_abi_sig_kind;

typedef struct gl_abi_sig {
    gl_abi_sig_kind kind;
    char *name;
    gl_abi_type *inputs;  /* a TUPLE; event parameters or function inputs */
    gl_abi_type *outputs; /* a TUPLE, or NULL when not declared */
    bool anonymous;       /* events: no topic0 */
    char *canonical;      /* "Name(type,...)" */
    uint8_t hash[32];     /* keccak256(canonical): topic0; selector = hash[0..3] */
} gl_abi_sig;

/* Flags for the decoders. */
#define GL_ABI_ALLOW_TRAILING 1u /* accept bytes after the end of the encoding */

/* ---- types ---- */

/* Parse one type string: canonical ("uint8[2][]", "(uint256,address[])") or
 * with aliases, "tuple(...)", whitespace and component names
 * ("(uint256 a, string b)").  The whole string must be the type.
 * Fails with GL_EINVAL naming the column and text, GL_ENOTSUP for fixed,
 * ufixed and function, GL_ENOMEM; *out is NULL then. */
gl_code gl_abi_type_parse(gl_abi_type **out, const char *s, gl_err *err);

/* Build a type from a JSON ABI parameter {"type": "tuple[]", "components":
 * [...], "name": ...}.  The name and `indexed` of the parameter itself are
 * not part of the type (see gl_abi_sig_from_json).  Errors as above. */
gl_code gl_abi_type_from_json(gl_abi_type **out, const json_t *param, gl_err *err);

/* Free a type tree (NULL is fine). */
void gl_abi_type_free(gl_abi_type *t);

/* The canonical type string ("(uint256,address[])[2]"), heap-allocated;
 * NULL when out of memory. */
char *gl_abi_type_canonical(const gl_abi_type *t);

/* ---- signatures ---- */

/* Parse a canonical or human-readable signature (see the top).  Fails with
 * GL_EINVAL naming the column (a missing name, `indexed` in a function or
 * nested tuple, unbalanced parentheses, an unknown word, ...); *out is then
 * zeroed. */
gl_code gl_abi_sig_parse(gl_abi_sig *out, const char *s, gl_err *err);

/* Read one JSON ABI entry: {"type":"event"|"function", "name", "inputs",
 * "outputs", "anonymous"}.  Fails with GL_EINVAL naming the bad field;
 * *out is then zeroed. */
gl_code gl_abi_sig_from_json(gl_abi_sig *out, const json_t *entry, gl_err *err);

/* Find the entry of `kind` ("event" or "function") named `name` in a JSON
 * ABI array and read it.  GL_EINVAL when none matches or when the name is
 * overloaded (then pass the entry to gl_abi_sig_from_json yourself). */
gl_code gl_abi_sig_find(gl_abi_sig *out, const json_t *abi, const char *kind, const char *name,
                        gl_err *err);

/* Free what a signature owns and zero it (a zeroed sig is fine). */
void gl_abi_sig_release(gl_abi_sig *s);

/* ---- decoding ---- */

/* Decode `len` bytes as one top-level encoding of type `t` (for a
 * parameter list, `t` is its TUPLE).  On success *out is a new JSON value
 * (see the top); on failure *out is NULL and the message names the
 * parameter path and the problem (GL_EINVAL, or GL_ENOMEM). */
gl_code gl_abi_decode(json_t **out, const gl_abi_type *t, const uint8_t *data, size_t len,
                      unsigned flags, gl_err *err);

/* Whether w is a clean encoding of value type t (uint/int/address/bool/
 * bytesN), by exactly the checks the decoders make: unused high bits zero
 * (sign-extended for int), bool 0 or 1, bytesN padding zero.  false for
 * other types.  Cannot fail. */
bool gl_abi_word_ok(const gl_abi_type *t, const uint8_t w[32]);

/* Decode an event log: topics[0..ntopics) (32 bytes each) and data.  The
 * topic count must be exactly 1 + the number of indexed parameters (0 + for
 * an anonymous event) and, unless anonymous, topics[0] must be ev->hash.
 * Indexed value types are decoded (and checked) from their topic; other
 * indexed types come out as {"indexed_hash": "0x.."}.  *out is an object
 * keyed by parameter names (an array when some are unnamed or repeated), in
 * declaration order.  Errors as gl_abi_decode; GL_EINVAL for topic problems. */
gl_code gl_abi_decode_log(json_t **out, const gl_abi_sig *ev, const uint8_t (*topics)[32],
                          size_t ntopics, const uint8_t *data, size_t len, unsigned flags,
                          gl_err *err);

/* Decode calldata: the 4-byte selector must equal fn->hash[0..3], the rest
 * is decoded as fn->inputs.  Errors as gl_abi_decode. */
gl_code gl_abi_decode_call(json_t **out, const gl_abi_sig *fn, const uint8_t *data, size_t len,
                           unsigned flags, gl_err *err);

/* ---- encoding ---- */

/* Append the encoding of `value` as type `t` (a parameter list: its TUPLE)
 * to `out`.  Fails with GL_EINVAL naming the parameter path and the problem
 * (wrong JSON kind, out of range, bad hex, wrong count), or GL_ENOMEM; `out`
 * is then restored to its old length. */
gl_code gl_abi_encode(gl_buf *out, const gl_abi_type *t, const json_t *value, gl_err *err);

/* Append calldata: fn's 4-byte selector, then `args` encoded as fn->inputs.
 * Errors as gl_abi_encode. */
gl_code gl_abi_encode_call(gl_buf *out, const gl_abi_sig *fn, const json_t *args, gl_err *err);

/* The topic an indexed parameter of type `t` with `value` gets: the value's
 * 32-byte word for value types; for string and bytes keccak256 of the raw
 * contents; for arrays and tuples keccak256 of Solidity's in-place encoding
 * (elements concatenated, each padded to 32 bytes, no lengths).  Errors as
 * gl_abi_encode. */
gl_code gl_abi_encode_topic(uint8_t out[32], const gl_abi_type *t, const json_t *value,
                            gl_err *err);

/* Turn command-line text into the JSON value form of `t`, in the spirit of
 * foundry's cast: elementary values as written ("123", "-1", "0xabc...",
 * "true"), strings as written or in double quotes, arrays "[a,b,...]",
 * tuples "(a,b,...)" (or "[a,b]"), nested as needed; elements may be
 * double-quoted to protect commas and brackets.  The result still has to
 * pass gl_abi_encode.  Fails with GL_EINVAL naming what is unbalanced or
 * missing; *out is NULL then. */
gl_code gl_abi_value_from_text(json_t **out, const gl_abi_type *t, const char *text, gl_err *err);

#endif
