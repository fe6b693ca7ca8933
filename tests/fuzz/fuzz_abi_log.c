/* fuzz_abi_log.c - libFuzzer target: event log decoding (abi.h), on topics
 * and data as an endpoint's eth_getLogs answer carries them.
 *
 * A fixed set of event signatures (value types, dynamic arrays, strings and
 * bytes, tuples, fixed arrays of dynamic types, indexed dynamic types, an
 * anonymous event).  Input: byte 0 picks the event, byte 1 the topic count
 * (low 3 bits) and whether topic0 is forced to the event's hash (bit 3, so
 * that most inputs get past it), then 32 bytes per topic, then the data.
 *
 * Oracles (any mismatch traps), when gl_abi_decode_log succeeds:
 *   - value round trip: the data decoded alone as the tuple of the
 *     non-indexed parameters (gl_abi_decode) gives the same values as the
 *     log's; they encode (gl_abi_encode), and that encoding decodes to the
 *     same values again (byte equality is not required: strict decoding
 *     still allows any offsets);
 *   - topics: every indexed value-type parameter's topic is exactly
 *     gl_abi_encode_topic of its decoded value;
 *   - trailing bytes: with GL_ABI_ALLOW_TRAILING the same log decodes to the
 *     same values, and with 32 extra zero bytes of data too. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "gpuledger/abi.h"

#include "fuzz.h"

/* Each event, and the tuple of its non-indexed parameters written out by
 * hand (the canonical type drops nested component names, which decide
 * whether a tuple decodes to an object or an array). */
static const char *const SIGS[][2] = {
    {"event Transfer(address indexed from, address indexed to, uint256 value)", "(uint256 value)"},
    {"event TransferBatch(address indexed operator, address indexed from, address indexed to, uint256[] ids, "
     "uint256[] amounts)",
     "(uint256[] ids, uint256[] amounts)"},
    {"event LeaseCreated(bytes32 indexed leaseId, int64 indexed delta, string model, (uint64 a, int32 b, bytes c)[] "
     "parts, bool ok, bytes4 tag)",
     "(string model, (uint64 a, int32 b, bytes c)[] parts, bool ok, bytes4 tag)"},
    {"event Grid(string indexed key, uint8[2][] grid, int256 delta, address[3] trio) anonymous",
     "(uint8[2][] grid, int256 delta, address[3] trio)"},
    {"event Nested(uint16 indexed k, (address who, string[] names)[2] pair, bytes blob, bool indexed flag)",
     "((address who, string[] names)[2] pair, bytes blob)"},
    {"event Plain(uint128 x, int8 y, bytes20 z, string s)", "(uint128 x, int8 y, bytes20 z, string s)"},
};
#define NSIGS (sizeof SIGS / sizeof SIGS[0])

typedef struct ev {
    gl_abi_sig sig;
    gl_abi_type *data_type; /* the tuple of the non-indexed parameters */
} ev;

static ev evs[NSIGS];

static void setup(void)
{
    gl_err err;
    for (size_t i = 0; i < NSIGS; i++) {
        CHECK(gl_abi_sig_parse(&evs[i].sig, SIGS[i][0], &err) == GL_OK);
        CHECK(gl_abi_type_parse(&evs[i].data_type, SIGS[i][1], &err) == GL_OK);
    }
}

static bool is_value_type(const gl_abi_type *t)
{
    return t->kind == GL_ABI_UINT || t->kind == GL_ABI_INT || t->kind == GL_ABI_ADDRESS || t->kind == GL_ABI_BOOL ||
           t->kind == GL_ABI_FIXED_BYTES;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!evs[0].data_type)
        setup();
    if (size < 2)
        return 0;
    const ev *e = &evs[data[0] % NSIGS];
    size_t ntopics = data[1] & 7;
    bool force0 = !(data[1] & 8);
    data += 2;
    size -= 2;
    if (size < ntopics * 32)
        return 0;
    uint8_t(*topics)[32] = malloc(ntopics ? ntopics * 32 : 1);
    CHECK(topics);
    memcpy(topics, data, ntopics * 32);
    if (force0 && ntopics && !e->sig.anonymous)
        memcpy(topics[0], e->sig.hash, 32);
    const uint8_t *d = data + ntopics * 32;
    size_t dlen = size - ntopics * 32;

    gl_err err;
    json_t *out = NULL;
    if (gl_abi_decode_log(&out, &e->sig, (const uint8_t(*)[32])topics, ntopics, d, dlen, 0, &err) != GL_OK) {
        CHECK(!out);
        free(topics);
        return 0;
    }
    CHECK(json_is_object(out)); /* every parameter has a distinct name */

    /* the data alone, as the tuple of the non-indexed parameters */
    json_t *vals = NULL;
    CHECK(gl_abi_decode(&vals, e->data_type, d, dlen, 0, &err) == GL_OK);
    const gl_abi_type *in = e->sig.inputs;
    size_t ti = e->sig.anonymous ? 0 : 1;
    for (size_t k = 0; k < in->ncomps; k++) {
        const gl_abi_param *p = &in->comps[k];
        json_t *v = json_object_get(out, p->name);
        CHECK(v);
        if (!p->indexed) {
            CHECK(json_equal(v, json_object_get(vals, p->name)));
            continue;
        }
        if (is_value_type(p->type)) {
            uint8_t t[32];
            CHECK(gl_abi_encode_topic(t, p->type, v, &err) == GL_OK);
            CHECK(!memcmp(t, topics[ti], 32));
        } else {
            CHECK(json_is_string(json_object_get(v, "indexed_hash")));
        }
        ti++;
    }
    CHECK(ti == ntopics);

    /* encode, decode again */
    gl_buf enc = GL_BUF_INIT;
    CHECK(gl_abi_encode(&enc, e->data_type, vals, &err) == GL_OK);
    json_t *again = NULL;
    CHECK(gl_abi_decode(&again, e->data_type, enc.data, enc.len, 0, &err) == GL_OK);
    CHECK(json_equal(again, vals));
    json_decref(again);
    gl_buf_release(&enc);

    /* trailing bytes allowed: same values, with or without 32 more */
    json_t *tr = NULL;
    CHECK(gl_abi_decode_log(&tr, &e->sig, (const uint8_t(*)[32])topics, ntopics, d, dlen, GL_ABI_ALLOW_TRAILING,
                            &err) == GL_OK);
    CHECK(json_equal(tr, out));
    json_decref(tr);
    uint8_t *longer = malloc(dlen + 32);
    CHECK(longer);
    if (dlen)
        memcpy(longer, d, dlen);
    memset(longer + dlen, 0, 32);
    tr = NULL;
    CHECK(gl_abi_decode_log(&tr, &e->sig, (const uint8_t(*)[32])topics, ntopics, longer, dlen + 32,
                            GL_ABI_ALLOW_TRAILING, &err) == GL_OK);
    CHECK(json_equal(tr, out));
    json_decref(tr);
    free(longer);

    json_decref(vals);
    json_decref(out);
    free(topics);
    return 0;
}
