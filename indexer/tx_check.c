/* tx_check.c - one check of a block's transaction object against the hash
 * it was named by and the sender it claims, for the indexer and the trail
 * alike (see tx_check.h for the verdicts and the findings' shapes).
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "gpuledger/bytes.h"
#include "gpuledger/tx.h"
#include "gpuledger/tx_check.h"
#include "gpuledger/u256.h"

static bool get_addr(const json_t *v, uint8_t out[20])
{
    const char *s = json_string_value(v);
    return s && gl_hex_decode_exact(s, out, 20, NULL) == GL_OK;
}

/* The endpoint's value: a hex quantity or a JSON integer; zero when it
 * gives neither. */
static gl_u256 endpoint_value(const json_t *v)
{
    gl_u256 x;
    const char *s = json_string_value(v);
    if (json_is_integer(v) && json_integer_value(v) >= 0)
        return gl_u256_from_u64((uint64_t)json_integer_value(v));
    if (s && gl_u256_parse_hex(&x, s, NULL) == GL_OK)
        return x;
    return gl_u256_from_u64(0);
}

/* The finding for c's verdict into *out (NULL when nothing was
 * contradicted); claim is the endpoint's from (NULL when it gave none).
 * False when out of memory. */
static bool finding_of(const gl_tx_checked *c, const uint8_t *claim, json_t **out)
{
    *out = NULL;
    const char *kind = "tx_hash_mismatch";
    const char *what = "hash";
    const uint8_t *claimed = c->rec.hash, *computed = c->computed;
    size_t n = 32;
    switch (c->verdict) {
    case GL_TX_CHECK_SENDER_MISMATCH:
        kind = "sender_mismatch";
        what = "from";
        claimed = claim;
        computed = c->rec.from;
        n = 20;
        break;
    case GL_TX_CHECK_UNRECOVERABLE:
        kind = "sender_unrecoverable";
        break;
    case GL_TX_CHECK_UNREADABLE:
    case GL_TX_CHECK_HASH_MISMATCH:
        break;
    case GL_TX_CHECK_SENDER_OK:
    case GL_TX_CHECK_UNRECOVERED:
    case GL_TX_CHECK_UNSUPPORTED:
        return true;
    }
    char h[67], a[67], b[67], field[48];
    json_t *f = json_pack("{s:s, s:I, s:I, s:s}", "kind", kind, "block", (json_int_t)c->rec.block, "tx_index",
                          (json_int_t)c->rec.index, "tx_hash", gl_hex_encode(c->rec.hash, 32, true, h));
    if (!f)
        return false;
    int bad;
    if (c->verdict == GL_TX_CHECK_UNRECOVERABLE || c->verdict == GL_TX_CHECK_UNREADABLE) {
        bad = json_object_set_new(f, "reason", json_string(c->reason));
    } else {
        snprintf(field, sizeof field, "transactions[%u].%s", c->rec.index, what);
        bad = json_object_set_new(f, "field", json_string(field)) ||
              json_object_set_new(f, "claimed", json_string(claimed ? gl_hex_encode(claimed, n, true, a) : "")) ||
              json_object_set_new(f, "computed", json_string(gl_hex_encode(computed, n, true, b)));
    }
    if (bad) {
        json_decref(f);
        return false;
    }
    *out = f;
    return true;
}

/* Everything past rebuilding: bind to the hash, recover, compare.  GL_OK
 * or GL_ENOMEM. */
static gl_code judge(const gl_secp *secp, gl_tx_checked *out, const json_t *obj, const uint8_t hash[32],
                     unsigned flags, const uint8_t *claim)
{
    gl_tx tx;
    gl_err e2;
    gl_tx_init(&tx);
    gl_err_clear(&e2);
    gl_code rc = json_is_object(obj) ? gl_tx_from_json_ex(&tx, obj, flags, &e2) : GL_EINVAL;
    if (rc == GL_ENOTSUP) {
        /* nothing to check it with: the endpoint's words, unverified */
        out->verdict = GL_TX_CHECK_UNSUPPORTED;
        snprintf(out->reason, sizeof out->reason, "%s", e2.msg);
        const json_t *to = json_object_get(obj, "to");
        out->rec.has_to = to && !json_is_null(to) && get_addr(to, out->rec.to);
        out->rec.value = endpoint_value(json_object_get(obj, "value"));
        out->has_from = claim != NULL;
        if (claim)
            memcpy(out->rec.from, claim, 20);
        gl_tx_release(&tx);
        return GL_OK;
    }
    if (!rc)
        rc = gl_tx_hash(&tx, out->computed, &e2);
    if (rc == GL_ENOMEM)
        goto done;
    if (rc) {
        out->verdict = GL_TX_CHECK_UNREADABLE;
        snprintf(out->reason, sizeof out->reason, "%s",
                 json_is_object(obj) ? e2.msg : "no transaction object at this index");
        rc = GL_OK;
        goto done;
    }
    if (memcmp(out->computed, hash, 32)) {
        out->verdict = GL_TX_CHECK_HASH_MISMATCH;
        goto done;
    }
    /* bound: to and value are the signed ones */
    out->rec.has_to = tx.has_to;
    memcpy(out->rec.to, tx.to, 20);
    out->rec.value = tx.value;
    if (!secp) {
        out->verdict = GL_TX_CHECK_UNRECOVERED;
        out->has_from = claim != NULL;
        if (claim)
            memcpy(out->rec.from, claim, 20);
        goto done;
    }
    if ((rc = gl_tx_recover_sender_ex(secp, &tx, flags, out->rec.from, &e2))) {
        if (rc == GL_ENOMEM)
            goto done;
        out->verdict = GL_TX_CHECK_UNRECOVERABLE;
        snprintf(out->reason, sizeof out->reason, "%s", e2.msg);
        rc = GL_OK;
        goto done;
    }
    out->has_from = true;
    bool same = claim && !memcmp(claim, out->rec.from, 20);
    out->verdict = same ? GL_TX_CHECK_SENDER_OK : GL_TX_CHECK_SENDER_MISMATCH;
    out->rec.flags = same ? GL_STORE_TX_SENDER_OK : GL_STORE_TX_SENDER_MISMATCH;
done:
    gl_tx_release(&tx);
    return rc;
}

gl_code gl_tx_check(const gl_secp *secp, gl_tx_checked *out, json_t **finding, const json_t *tx, uint64_t chain_id,
                    uint64_t block, uint32_t index, const uint8_t hash[32], unsigned flags, gl_err *err)
{
    memset(out, 0, sizeof *out);
    if (finding)
        *finding = NULL;
    out->rec.chain_id = chain_id;
    out->rec.block = block;
    out->rec.index = index;
    memcpy(out->rec.hash, hash, 32);
    uint8_t claim[20];
    bool has_claim = get_addr(json_object_get(tx, "from"), claim);
    gl_code rc = judge(secp, out, tx, hash, flags, has_claim ? claim : NULL);
    json_t *f = NULL;
    if (!rc && finding && !finding_of(out, has_claim ? claim : NULL, &f))
        rc = GL_ENOMEM;
    if (rc) {
        memset(out, 0, sizeof *out);
        return gl_err_set(err, rc, "block %" PRIu64 " tx %u: out of memory checking the transaction", block,
                          index);
    }
    if (finding)
        *finding = f;
    return GL_OK;
}
