/* fuzz_block.c - libFuzzer target: block verification input (block.h), a
 * block object or a whole JSON-RPC answer as an endpoint sends it.
 *
 * The input is parsed by jansson; the header is read (strict and with
 * GL_BLOCK_FORK_GAPS), hashed, and the whole block verified (header hash,
 * uncles, transactions root, each transaction's hash and recovered sender,
 * withdrawals root).  Oracles (any mismatch traps):
 *   - JSON round trip: a header that reads writes itself out
 *     (gl_block_header_to_json), and that JSON reads back (with
 *     GL_BLOCK_FORK_GAPS) to the same RLP encoding;
 *   - the RLP encoding decodes (rlp.h, strict) as one list of 15 fields plus
 *     one per fork field (Parity's seal fields instead of mixHash/nonce);
 *   - gl_block_header_hash is keccak256 of the encoding, and
 *     gl_block_json_hash of the same number gives it;
 *   - a strict read is also a fork-gaps read with the same encoding;
 *   - a verification report counts its checks (matched + mismatched +
 *     not checked == checks), hashed the same header as the fork-gaps read,
 *     and its header-hash check matches exactly when the block's own
 *     "hash" equals the recomputed one; the report writes out as JSON. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "gpuledger/block.h"
#include "gpuledger/keccak.h"
#include "gpuledger/rlp.h"
#include "gpuledger/secp.h"

#include "fuzz.h"

static gl_secp *secp;

static void encode(const gl_block_header *h, gl_buf *out)
{
    gl_err err;
    CHECK(gl_block_header_encode(h, out, &err) == GL_OK);
    uint8_t a[32], b[32];
    CHECK(gl_block_header_hash(h, a, &err) == GL_OK);
    gl_keccak256(out->data, out->len, b);
    CHECK(!memcmp(a, b, 32));
    gl_rlp_item it;
    size_t n = 0;
    CHECK(gl_rlp_decode_exact(out->data, out->len, &it, &err) == GL_OK && it.is_list);
    CHECK(gl_rlp_list_count(&it, &n, &err) == GL_OK);
    size_t want = 13 + (size_t)__builtin_popcount(h->ext);
    if (h->has_mix_nonce) {
        CHECK(n == want + 2);
    } else {
        CHECK(n >= want);
    }
}

static bool same(const gl_buf *a, const gl_buf *b) { return a->len == b->len && !memcmp(a->data, b->data, a->len); }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    gl_err err;
    if (!secp) {
        secp = gl_secp_new(&err);
        CHECK(secp);
    }
    json_t *doc = json_loadb((const char *)data, size, JSON_DECODE_ANY, NULL);
    if (!doc)
        return 0;
    gl_block_header strict, gaps;
    gl_block_header_init(&strict);
    gl_block_header_init(&gaps);
    gl_buf es = GL_BUF_INIT, eg = GL_BUF_INIT;
    gl_code rs = gl_block_header_from_json(&strict, doc, &err);
    gl_code rg = gl_block_header_from_json_ex(&gaps, doc, GL_BLOCK_FORK_GAPS, &err);
    if (rs == GL_OK) {
        CHECK(rg == GL_OK);
        encode(&strict, &es);
    }
    if (rg == GL_OK) {
        encode(&gaps, &eg);
        CHECK(rs != GL_OK || same(&es, &eg));
        (void)gl_block_fork_name(&gaps);
        /* through JSON and back */
        json_t *j = gl_block_header_to_json(&gaps, &err);
        CHECK(j);
        gl_block_header back;
        gl_block_header_init(&back);
        CHECK(gl_block_header_from_json_ex(&back, j, GL_BLOCK_FORK_GAPS, &err) == GL_OK);
        gl_buf eb = GL_BUF_INIT;
        encode(&back, &eb);
        CHECK(same(&eb, &eg));
        gl_buf_release(&eb);
        gl_block_header_release(&back);
        json_decref(j);
        uint8_t h1[32], h2[32];
        CHECK(gl_block_json_hash(doc, gaps.number, h1, &err) == GL_OK);
        gl_keccak256(eg.data, eg.len, h2);
        CHECK(!memcmp(h1, h2, 32));
    }
    gl_block_report rep;
    gl_block_report_init(&rep);
    if (gl_block_verify_ex(secp, doc, GL_BLOCK_FORK_GAPS, &rep, &err) == GL_OK) {
        CHECK(rg == GL_OK);
        CHECK(rep.matched + rep.mismatched + rep.not_checked == rep.n);
        gl_buf er = GL_BUF_INIT;
        encode(&rep.header, &er);
        CHECK(same(&er, &eg));
        gl_buf_release(&er);
        uint8_t h[32];
        gl_keccak256(eg.data, eg.len, h);
        for (size_t i = 0; i < rep.n; i++)
            if (rep.checks[i].kind == GL_CHECK_HEADER_HASH && rep.has_hash)
                CHECK((rep.checks[i].status == GL_BLOCK_MATCH) == !memcmp(h, rep.hash, 32));
        json_t *j = gl_block_report_to_json(&rep, &err);
        CHECK(j);
        json_decref(j);
    }
    gl_block_report_release(&rep);
    gl_buf_release(&es);
    gl_buf_release(&eg);
    gl_block_header_release(&strict);
    gl_block_header_release(&gaps);
    json_decref(doc);
    return 0;
}
