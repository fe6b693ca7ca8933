/* tx.c - Ethereum transactions: decode, encode, hash, sign, recover (see tx.h).
 *
 * One field layout per type drives both directions: decode_fields() walks the
 * RLP list in the order the type defines, put_fields() writes the same order
 * (signed, or unsigned for the signing payload).  Because decoding accepts
 * only canonical RLP, re-encoding a decoded transaction reproduces its input
 * bytes exactly, which is what makes gl_tx_hash() the hash clients compute.
 *
 * The JSON side (gl_tx_from_json, gl_tx_to_json) lives in tx_json.c.
 */
#include <stdlib.h>
#include <string.h>

#include "gpuledger/keccak.h"
#include "gpuledger/rlp.h"
#include "gpuledger/tx.h"

#define BLOB_SIZE 131072u         /* EIP-4844: 4096 field elements of 32 bytes */
#define KZG_SIZE 48u              /* compressed G1 point: commitment or proof */
#define CELLS_PER_EXT_BLOB 128u   /* EIP-7594 cell proofs per blob */
#define AUTH_MAGIC 0x05           /* EIP-7702 authorization signing prefix */

/* ---------------------------------------------------------------- lifecycle */

void gl_tx_init(gl_tx *tx)
{
    memset(tx, 0, sizeof *tx);
    tx->type = GL_TX_LEGACY;
}

void gl_tx_release(gl_tx *tx)
{
    free(tx->input);
    for (size_t i = 0; i < tx->access_list_len; i++)
        free(tx->access_list[i].keys);
    free(tx->access_list);
    free(tx->blob_hashes);
    free(tx->auth_list);
    gl_tx_init(tx);
}

const char *gl_tx_type_name(gl_tx_type type)
{
    switch (type) {
    case GL_TX_LEGACY: return "legacy";
    case GL_TX_ACCESS_LIST: return "eip2930";
    case GL_TX_DYNAMIC_FEE: return "eip1559";
    case GL_TX_BLOB: return "eip4844";
    case GL_TX_SET_CODE: return "eip7702";
    }
    return "unknown";
}

static bool type_known(gl_tx_type t) { return (unsigned)t <= (unsigned)GL_TX_SET_CODE; }

/* Number of RLP fields of the signed form. */
static size_t field_count(gl_tx_type t)
{
    switch (t) {
    case GL_TX_LEGACY: return 9;
    case GL_TX_ACCESS_LIST: return 11;
    case GL_TX_DYNAMIC_FEE: return 12;
    case GL_TX_BLOB: return 14;
    case GL_TX_SET_CODE: return 13;
    }
    return 0;
}

/* ---------------------------------------------------------------- signature rules */

static void u256_be(const gl_u256 *a, uint8_t out[32]) { gl_u256_to_be(a, out); }

/* Legacy v from (chain id, y parity); GL_ERANGE when chainId*2+36 overflows. */
static gl_code legacy_v(const gl_tx *tx, gl_u256 *v, gl_err *err)
{
    if (!tx->has_chain_id) {
        *v = gl_u256_from_u64(27u + tx->y_parity);
        return GL_OK;
    }
    gl_u256 add = gl_u256_from_u64(35u + tx->y_parity);
    if (gl_u256_mul_u64(v, &tx->chain_id, 2, NULL) || gl_u256_add(v, v, &add, NULL))
        return gl_err_set(err, GL_ERANGE, "chain id too large for an EIP-155 v");
    return GL_OK;
}

gl_code gl_tx_check_signature(const gl_tx *tx, unsigned flags, gl_err *err)
{
    if (!type_known(tx->type))
        return gl_err_set(err, GL_ENOTSUP, "unsupported transaction type %u", (unsigned)tx->type);
    if (tx->y_parity > 1)
        return gl_err_set(err, GL_EINVAL, "invalid signature: y parity %u is not 0 or 1",
                          (unsigned)tx->y_parity);
    if (tx->type == GL_TX_LEGACY && tx->has_chain_id && gl_u256_is_zero(&tx->chain_id))
        return gl_err_set(err, GL_EINVAL, "invalid v: EIP-155 chain id 0");
    /* High s is tolerated only where Frontier allowed it: legacy txs. */
    bool low_s = !((flags & GL_TX_ALLOW_HIGH_S) && tx->type == GL_TX_LEGACY);
    uint8_t r[32], s[32];
    u256_be(&tx->r, r);
    u256_be(&tx->s, s);
    return gl_secp_check_sig(r, s, low_s, err);
}

/* ---------------------------------------------------------------- decoding */

/* Each field decoder prefixes the RLP module's reason with the field name. */
static gl_code field_fail(gl_code rc, gl_err *err, const char *name)
{
    gl_err_prefix(err, "field '%s': ", name);
    return rc;
}

static gl_code dec_u256(const gl_rlp_item *it, gl_u256 *out, const char *name, gl_err *err)
{
    gl_code rc = gl_rlp_to_u256(it, out, err);
    return rc ? field_fail(rc, err, name) : GL_OK;
}

static gl_code dec_u64(const gl_rlp_item *it, uint64_t *out, const char *name, gl_err *err)
{
    gl_code rc = gl_rlp_to_u64(it, out, err);
    return rc ? field_fail(rc, err, name) : GL_OK;
}

static gl_code dec_to(const gl_rlp_item *it, gl_tx *tx, gl_err *err)
{
    if (it->is_list)
        return gl_err_set(err, GL_EINVAL, "field 'to': expected an address, found a list");
    if (it->payload_len == 0) {
        if (tx->type == GL_TX_BLOB || tx->type == GL_TX_SET_CODE)
            return gl_err_set(err, GL_EINVAL, "field 'to': a %s transaction cannot create a contract",
                              gl_tx_type_name(tx->type));
        tx->has_to = false;
        return GL_OK;
    }
    if (it->payload_len != 20)
        return gl_err_set(err, GL_EINVAL, "field 'to': address of %zu bytes (%s than 20)",
                          it->payload_len, it->payload_len < 20 ? "shorter" : "longer");
    memcpy(tx->to, it->payload, 20);
    tx->has_to = true;
    return GL_OK;
}

static gl_code dec_input(const gl_rlp_item *it, gl_tx *tx, gl_err *err)
{
    if (it->is_list)
        return gl_err_set(err, GL_EINVAL, "field 'input': expected bytes, found a list");
    if (it->payload_len == 0)
        return GL_OK;
    tx->input = malloc(it->payload_len);
    if (!tx->input)
        return gl_err_set(err, GL_ENOMEM, "out of memory for %zu bytes of input", it->payload_len);
    memcpy(tx->input, it->payload, it->payload_len);
    tx->input_len = it->payload_len;
    return GL_OK;
}

/* Count a list's children, or fail naming the field. */
static gl_code list_len(const gl_rlp_item *it, size_t *n, const char *name, gl_err *err)
{
    if (!it->is_list)
        return gl_err_set(err, GL_EINVAL, "field '%s': expected a list, found a string", name);
    gl_code rc = gl_rlp_list_count(it, n, err);
    return rc ? field_fail(rc, err, name) : GL_OK;
}

static gl_code dec_access_list(const gl_rlp_item *it, gl_tx *tx, gl_err *err)
{
    size_t n;
    gl_code rc = list_len(it, &n, "accessList", err);
    if (rc || n == 0)
        return rc;
    tx->access_list = calloc(n, sizeof *tx->access_list);
    if (!tx->access_list)
        return gl_err_set(err, GL_ENOMEM, "out of memory for %zu access list entries", n);
    tx->access_list_len = n;
    gl_rlp_iter iter;
    gl_rlp_iter_init(&iter, it);
    for (size_t i = 0; i < n; i++) {
        gl_rlp_item entry, pair[2];
        bool has;
        (void)gl_rlp_iter_next(&iter, &entry, &has, NULL); /* counted above */
        gl_tx_access *a = &tx->access_list[i];
        if (!entry.is_list)
            return gl_err_set(err, GL_EINVAL, "accessList[%zu]: expected [address, storageKeys], found a string", i);
        if ((rc = gl_rlp_list_items(&entry, pair, 2, err)) != GL_OK) {
            gl_err_prefix(err, "accessList[%zu]: ", i);
            return rc;
        }
        if ((rc = gl_rlp_to_fixed(&pair[0], a->address, 20, err)) != GL_OK) {
            gl_err_prefix(err, "accessList[%zu] address: ", i);
            return rc;
        }
        size_t nk;
        if ((rc = list_len(&pair[1], &nk, "storageKeys", err)) != GL_OK) {
            gl_err_prefix(err, "accessList[%zu]: ", i);
            return rc;
        }
        if (nk == 0)
            continue;
        a->keys = calloc(nk, sizeof *a->keys);
        if (!a->keys)
            return gl_err_set(err, GL_ENOMEM, "out of memory for %zu storage keys", nk);
        a->nkeys = nk;
        gl_rlp_iter kit;
        gl_rlp_iter_init(&kit, &pair[1]);
        for (size_t k = 0; k < nk; k++) {
            gl_rlp_item key;
            (void)gl_rlp_iter_next(&kit, &key, &has, NULL);
            if ((rc = gl_rlp_to_fixed(&key, a->keys[k], 32, err)) != GL_OK) {
                gl_err_prefix(err, "accessList[%zu] storage key %zu: ", i, k);
                return rc;
            }
        }
    }
    return GL_OK;
}

/* Decode the n children of list `it` (n counted by list_len) with `one`,
 * each into slot i of an array of tx's; a failure is prefixed "name[i]: ". */
static gl_code dec_each(const gl_rlp_item *it, size_t n, const char *name, gl_tx *tx,
                        gl_code (*one)(const gl_rlp_item *, gl_tx *, size_t, gl_err *), gl_err *err)
{
    gl_rlp_iter iter;
    gl_rlp_iter_init(&iter, it);
    for (size_t i = 0; i < n; i++) {
        gl_rlp_item e;
        bool has;
        (void)gl_rlp_iter_next(&iter, &e, &has, NULL);
        gl_code rc = one(&e, tx, i, err);
        if (rc) {
            gl_err_prefix(err, "%s[%zu]: ", name, i);
            return rc;
        }
    }
    return GL_OK;
}

static gl_code dec_blob_hash(const gl_rlp_item *it, gl_tx *tx, size_t i, gl_err *err)
{
    return gl_rlp_to_fixed(it, tx->blob_hashes[i], 32, err);
}

static gl_code dec_blob_hashes(const gl_rlp_item *it, gl_tx *tx, gl_err *err)
{
    size_t n;
    gl_code rc = list_len(it, &n, "blobVersionedHashes", err);
    if (rc)
        return rc;
    if (n == 0)
        return gl_err_set(err, GL_EINVAL, "field 'blobVersionedHashes': a blob transaction needs at least one blob");
    tx->blob_hashes = calloc(n, sizeof *tx->blob_hashes);
    if (!tx->blob_hashes)
        return gl_err_set(err, GL_ENOMEM, "out of memory for %zu blob hashes", n);
    tx->blob_hashes_len = n;
    return dec_each(it, n, "blobVersionedHashes", tx, dec_blob_hash, err);
}

static gl_code dec_auth(const gl_rlp_item *it, gl_tx *tx, size_t i, gl_err *err)
{
    gl_tx_auth *a = &tx->auth_list[i];
    gl_rlp_item f[6];
    gl_u256 y;
    gl_code rc;
    if (!it->is_list)
        return gl_err_set(err, GL_EINVAL, "expected [chainId, address, nonce, yParity, r, s], found a string");
    if ((rc = gl_rlp_list_items(it, f, 6, err)) != GL_OK)
        return rc;
    if ((rc = dec_u256(&f[0], &a->chain_id, "chainId", err)) != GL_OK)
        return rc;
    if ((rc = gl_rlp_to_fixed(&f[1], a->address, 20, err)) != GL_OK)
        return field_fail(rc, err, "address");
    if ((rc = dec_u64(&f[2], &a->nonce, "nonce", err)) != GL_OK)
        return rc;
    if ((rc = dec_u256(&f[3], &y, "yParity", err)) != GL_OK)
        return rc;
    uint64_t y64;
    if (!gl_u256_to_u64(&y, &y64) || y64 > 255)
        return gl_err_set(err, GL_EINVAL, "field 'yParity': does not fit 8 bits");
    a->y_parity = (uint8_t)y64;
    if ((rc = dec_u256(&f[4], &a->r, "r", err)) != GL_OK)
        return rc;
    return dec_u256(&f[5], &a->s, "s", err);
}

static gl_code dec_auth_list(const gl_rlp_item *it, gl_tx *tx, gl_err *err)
{
    size_t n;
    gl_code rc = list_len(it, &n, "authorizationList", err);
    if (rc)
        return rc;
    if (n == 0)
        return gl_err_set(err, GL_EINVAL, "field 'authorizationList': an EIP-7702 transaction needs at least one authorization");
    tx->auth_list = calloc(n, sizeof *tx->auth_list);
    if (!tx->auth_list)
        return gl_err_set(err, GL_ENOMEM, "out of memory for %zu authorizations", n);
    tx->auth_list_len = n;
    return dec_each(it, n, "authorizationList", tx, dec_auth, err);
}

/* Legacy v: 27/28, or chainId*2 + 35/36 with chainId >= 1. */
static gl_code dec_legacy_v(const gl_rlp_item *it, gl_tx *tx, gl_err *err)
{
    gl_code rc = dec_u256(it, &tx->v, "v", err);
    if (rc)
        return rc;
    uint64_t small = 0;
    bool fits = gl_u256_to_u64(&tx->v, &small);
    if (fits && (small == 27 || small == 28)) {
        tx->has_chain_id = false;
        tx->y_parity = (uint8_t)(small - 27);
        return GL_OK;
    }
    if (fits && small < 37) {
        if (small == 35 || small == 36)
            return gl_err_set(err, GL_EINVAL, "invalid v %llu: EIP-155 chain id 0", (unsigned long long)small);
        return gl_err_set(err, GL_EINVAL,
                          "invalid v %llu: legacy v must be 27, 28 or chainId*2+35/36",
                          (unsigned long long)small);
    }
    gl_u256 t, c35 = gl_u256_from_u64(35);
    (void)gl_u256_sub(&t, &tx->v, &c35, NULL); /* v >= 37 */
    tx->y_parity = (uint8_t)(t.w[0] & 1);
    tx->chain_id = gl_u256_shr(&t, 1);
    tx->has_chain_id = true;
    return GL_OK;
}

static gl_code dec_y_parity(const gl_rlp_item *it, gl_tx *tx, gl_err *err)
{
    gl_code rc = dec_u256(it, &tx->v, "yParity", err);
    if (rc)
        return rc;
    uint64_t y;
    if (!gl_u256_to_u64(&tx->v, &y) || y > 1) {
        char dec[GL_U256_DEC_MAX];
        return gl_err_set(err, GL_EINVAL, "invalid yParity %s: must be 0 or 1", gl_u256_to_dec(&tx->v, dec));
    }
    tx->y_parity = (uint8_t)y;
    return GL_OK;
}

/* Decode the fields of `list` into tx (tx->type already set). */
static gl_code decode_fields(gl_tx *tx, const gl_rlp_item *list, unsigned flags, gl_err *err)
{
    gl_rlp_item f[14];
    size_t want = field_count(tx->type), i = 0;
    gl_code rc;
    if (!list->is_list)
        return gl_err_set(err, GL_EINVAL, "%s transaction: expected an RLP list, found a string",
                          gl_tx_type_name(tx->type));
    size_t have;
    if ((rc = gl_rlp_list_count(list, &have, err)) != GL_OK)
        return rc;
    if (have != want)
        return gl_err_set(err, GL_EINVAL, "%s transaction: expected %zu fields, found %zu",
                          gl_tx_type_name(tx->type), want, have);
    (void)gl_rlp_list_items(list, f, want, NULL);

    if (tx->type != GL_TX_LEGACY) {
        if ((rc = dec_u256(&f[i++], &tx->chain_id, "chainId", err)) != GL_OK)
            return rc;
        tx->has_chain_id = true;
    }
    if ((rc = dec_u64(&f[i++], &tx->nonce, "nonce", err)) != GL_OK)
        return rc;
    if (tx->type == GL_TX_LEGACY || tx->type == GL_TX_ACCESS_LIST) {
        if ((rc = dec_u256(&f[i++], &tx->gas_price, "gasPrice", err)) != GL_OK)
            return rc;
    } else {
        if ((rc = dec_u256(&f[i++], &tx->max_priority_fee_per_gas, "maxPriorityFeePerGas", err)) != GL_OK)
            return rc;
        if ((rc = dec_u256(&f[i++], &tx->max_fee_per_gas, "maxFeePerGas", err)) != GL_OK)
            return rc;
    }
    if ((rc = dec_u64(&f[i++], &tx->gas, "gas", err)) != GL_OK)
        return rc;
    if ((rc = dec_to(&f[i++], tx, err)) != GL_OK)
        return rc;
    if ((rc = dec_u256(&f[i++], &tx->value, "value", err)) != GL_OK)
        return rc;
    if ((rc = dec_input(&f[i++], tx, err)) != GL_OK)
        return rc;
    if (tx->type != GL_TX_LEGACY && (rc = dec_access_list(&f[i++], tx, err)) != GL_OK)
        return rc;
    if (tx->type == GL_TX_BLOB) {
        if ((rc = dec_u256(&f[i++], &tx->max_fee_per_blob_gas, "maxFeePerBlobGas", err)) != GL_OK)
            return rc;
        if ((rc = dec_blob_hashes(&f[i++], tx, err)) != GL_OK)
            return rc;
    }
    if (tx->type == GL_TX_SET_CODE && (rc = dec_auth_list(&f[i++], tx, err)) != GL_OK)
        return rc;
    rc = tx->type == GL_TX_LEGACY ? dec_legacy_v(&f[i++], tx, err) : dec_y_parity(&f[i++], tx, err);
    if (rc)
        return rc;
    if ((rc = dec_u256(&f[i++], &tx->r, "r", err)) != GL_OK)
        return rc;
    if ((rc = dec_u256(&f[i++], &tx->s, "s", err)) != GL_OK)
        return rc;
    return gl_tx_check_signature(tx, flags, err);
}

/* Decode the canonical envelope; `pooled` also accepts a blob wrapper. */
static gl_code decode_any(gl_tx *out, const uint8_t *raw, size_t len, unsigned flags, bool pooled,
                          gl_err *err);

gl_code gl_tx_decode_ex(gl_tx *out, const uint8_t *raw, size_t len, unsigned flags, gl_err *err)
{
    return decode_any(out, raw, len, flags, false, err);
}

gl_code gl_tx_decode(gl_tx *out, const uint8_t *raw, size_t len, gl_err *err)
{
    return decode_any(out, raw, len, 0, false, err);
}

gl_code gl_tx_decode_pooled(gl_tx *out, const uint8_t *raw, size_t len, gl_err *err)
{
    return decode_any(out, raw, len, 0, true, err);
}

gl_code gl_tx_decode_pooled_ex(gl_tx *out, const uint8_t *raw, size_t len, unsigned flags, gl_err *err)
{
    return decode_any(out, raw, len, flags, true, err);
}

/* Check the sidecar of a pooled blob transaction: items[first..] are
 * blobs, commitments, proofs. */
static gl_code check_sidecar(const gl_tx *tx, const gl_rlp_item *items, size_t nitems, gl_err *err)
{
    size_t first = nitems == 5 ? 2 : 1; /* EIP-7594 puts a version before the blobs */
    uint64_t version = 0;
    gl_code rc;
    if (nitems == 5) {
        if ((rc = gl_rlp_to_u64(&items[1], &version, err)) != GL_OK)
            return field_fail(rc, err, "wrapper_version");
        if (version != 1)
            return gl_err_set(err, GL_ENOTSUP, "blob wrapper version %llu is not supported",
                              (unsigned long long)version);
    }
    static const char *const names[3] = {"blobs", "commitments", "proofs"};
    static const size_t sizes[3] = {BLOB_SIZE, KZG_SIZE, KZG_SIZE};
    for (size_t k = 0; k < 3; k++) {
        const gl_rlp_item *l = &items[first + k];
        size_t n;
        if ((rc = list_len(l, &n, names[k], err)) != GL_OK)
            return rc;
        size_t want = tx->blob_hashes_len * (k == 2 && version == 1 ? CELLS_PER_EXT_BLOB : 1);
        if (n != want)
            return gl_err_set(err, GL_EINVAL, "blob sidecar: %zu %s for %zu blob hashes (want %zu)", n,
                              names[k], tx->blob_hashes_len, want);
        gl_rlp_iter it;
        gl_rlp_iter_init(&it, l);
        for (size_t i = 0; i < n; i++) {
            gl_rlp_item e;
            bool has;
            (void)gl_rlp_iter_next(&it, &e, &has, NULL);
            if (e.is_list || e.payload_len != sizes[k])
                return gl_err_set(err, GL_EINVAL, "blob sidecar: %s[%zu] is not %zu bytes", names[k], i,
                                  sizes[k]);
        }
    }
    return GL_OK;
}

static gl_code decode_any(gl_tx *out, const uint8_t *raw, size_t len, unsigned flags, bool pooled,
                          gl_err *err)
{
    gl_tx_release(out);
    if (len == 0)
        return gl_err_set(err, GL_EINVAL, "empty transaction");
    gl_rlp_item body;
    gl_code rc;
    uint8_t t = raw[0];
    if (t >= 0xc0) {
        out->type = GL_TX_LEGACY;
        if ((rc = gl_rlp_decode_exact(raw, len, &body, err)) != GL_OK) {
            gl_err_prefix(err, "legacy transaction: ");
            return rc;
        }
    } else if (t >= 0x80) {
        return gl_err_set(err, GL_EINVAL, "not a transaction: leading byte 0x%02x is an RLP string header", t);
    } else if (t == 0 || t > GL_TX_SET_CODE) {
        return gl_err_set(err, GL_ENOTSUP, "unsupported transaction type 0x%02x", t);
    } else {
        out->type = (gl_tx_type)t;
        if ((rc = gl_rlp_decode_exact(raw + 1, len - 1, &body, err)) != GL_OK) {
            gl_err_prefix(err, "%s transaction: ", gl_tx_type_name(out->type));
            return rc;
        }
    }
    /* The network form of a blob tx: [tx_fields, (version,) blobs, commitments, proofs]. */
    gl_rlp_item w[5];
    size_t nw = 0;
    if (pooled && out->type == GL_TX_BLOB && body.is_list) {
        gl_rlp_item first;
        size_t used;
        if (body.payload_len > 0 && gl_rlp_decode(body.payload, body.payload_len, &first, &used, NULL) == GL_OK &&
            first.is_list) {
            if ((rc = gl_rlp_list_count(&body, &nw, err)) != GL_OK)
                goto fail;
            if (nw != 4 && nw != 5) {
                rc = gl_err_set(err, GL_EINVAL, "blob transaction wrapper: expected 4 or 5 items, found %zu", nw);
                goto fail;
            }
            (void)gl_rlp_list_items(&body, w, nw, NULL);
            body = w[0];
        }
    }
    if ((rc = decode_fields(out, &body, flags, err)) != GL_OK)
        goto fail;
    if (nw && (rc = check_sidecar(out, w, nw, err)) != GL_OK)
        goto fail;
    return GL_OK;
fail:
    gl_tx_release(out);
    return rc;
}

/* ---------------------------------------------------------------- encoding */

static gl_code put_access_list(gl_buf *b, const gl_tx *tx, gl_err *err)
{
    size_t outer = gl_rlp_list_begin(b);
    for (size_t i = 0; i < tx->access_list_len; i++) {
        const gl_tx_access *a = &tx->access_list[i];
        size_t entry = gl_rlp_list_begin(b);
        if (gl_rlp_put_bytes(b, a->address, 20, err))
            return GL_ENOMEM;
        size_t keys = gl_rlp_list_begin(b);
        for (size_t k = 0; k < a->nkeys; k++)
            if (gl_rlp_put_bytes(b, a->keys[k], 32, err))
                return GL_ENOMEM;
        if (gl_rlp_list_end(b, keys, err) || gl_rlp_list_end(b, entry, err))
            return GL_ENOMEM;
    }
    return gl_rlp_list_end(b, outer, err);
}

static gl_code put_auth_list(gl_buf *b, const gl_tx *tx, gl_err *err)
{
    size_t outer = gl_rlp_list_begin(b);
    for (size_t i = 0; i < tx->auth_list_len; i++) {
        const gl_tx_auth *a = &tx->auth_list[i];
        size_t entry = gl_rlp_list_begin(b);
        if (gl_rlp_put_u256(b, &a->chain_id, err) || gl_rlp_put_bytes(b, a->address, 20, err) ||
            gl_rlp_put_u64(b, a->nonce, err) || gl_rlp_put_u64(b, a->y_parity, err) ||
            gl_rlp_put_u256(b, &a->r, err) || gl_rlp_put_u256(b, &a->s, err) ||
            gl_rlp_list_end(b, entry, err))
            return GL_ENOMEM;
    }
    return gl_rlp_list_end(b, outer, err);
}

/* Append the RLP list of tx's fields; `sig` selects the signed form,
 * otherwise the form that is signed (with EIP-155's chainId, 0, 0 for
 * protected legacy txs). */
static gl_code put_fields(gl_buf *b, const gl_tx *tx, bool sig, gl_err *err)
{
    if (!type_known(tx->type))
        return gl_err_set(err, GL_ENOTSUP, "unsupported transaction type %u", (unsigned)tx->type);
    if (!tx->has_to && (tx->type == GL_TX_BLOB || tx->type == GL_TX_SET_CODE))
        return gl_err_set(err, GL_EINVAL, "a %s transaction needs a 'to' address", gl_tx_type_name(tx->type));
    if (tx->type != GL_TX_LEGACY && !tx->has_chain_id)
        return gl_err_set(err, GL_EINVAL, "a %s transaction needs a chain id", gl_tx_type_name(tx->type));
    if (tx->input_len && !tx->input)
        return gl_err_set(err, GL_EINVAL, "input_len %zu with no input bytes", tx->input_len);
    gl_u256 v = gl_u256_from_u64(tx->y_parity);
    gl_code rc;
    if (sig && tx->type == GL_TX_LEGACY && (rc = legacy_v(tx, &v, err)) != GL_OK)
        return rc;

    size_t start = gl_rlp_list_begin(b);
    bool fee1559 = tx->type != GL_TX_LEGACY && tx->type != GL_TX_ACCESS_LIST;
    static const uint8_t empty[1] = {0};
    if ((tx->type != GL_TX_LEGACY && gl_rlp_put_u256(b, &tx->chain_id, err)) ||
        gl_rlp_put_u64(b, tx->nonce, err) ||
        (!fee1559 && gl_rlp_put_u256(b, &tx->gas_price, err)) ||
        (fee1559 && (gl_rlp_put_u256(b, &tx->max_priority_fee_per_gas, err) ||
                     gl_rlp_put_u256(b, &tx->max_fee_per_gas, err))) ||
        gl_rlp_put_u64(b, tx->gas, err) ||
        gl_rlp_put_bytes(b, tx->has_to ? tx->to : empty, tx->has_to ? 20 : 0, err) ||
        gl_rlp_put_u256(b, &tx->value, err) ||
        gl_rlp_put_bytes(b, tx->input ? tx->input : empty, tx->input_len, err))
        return GL_ENOMEM;
    if (tx->type != GL_TX_LEGACY && put_access_list(b, tx, err))
        return GL_ENOMEM;
    if (tx->type == GL_TX_BLOB) {
        if (gl_rlp_put_u256(b, &tx->max_fee_per_blob_gas, err))
            return GL_ENOMEM;
        size_t l = gl_rlp_list_begin(b);
        for (size_t i = 0; i < tx->blob_hashes_len; i++)
            if (gl_rlp_put_bytes(b, tx->blob_hashes[i], 32, err))
                return GL_ENOMEM;
        if (gl_rlp_list_end(b, l, err))
            return GL_ENOMEM;
    }
    if (tx->type == GL_TX_SET_CODE && put_auth_list(b, tx, err))
        return GL_ENOMEM;
    if (sig) {
        if (gl_rlp_put_u256(b, &v, err) || gl_rlp_put_u256(b, &tx->r, err) || gl_rlp_put_u256(b, &tx->s, err))
            return GL_ENOMEM;
    } else if (tx->type == GL_TX_LEGACY && tx->has_chain_id) {
        if (gl_rlp_put_u256(b, &tx->chain_id, err) || gl_rlp_put_u64(b, 0, err) || gl_rlp_put_u64(b, 0, err))
            return GL_ENOMEM;
    }
    return gl_rlp_list_end(b, start, err);
}

/* Type byte (typed txs) then the field list; restores out->len on failure. */
static gl_code put_envelope(const gl_tx *tx, gl_buf *out, bool sig, gl_err *err)
{
    size_t mark = out->len;
    gl_code rc = GL_OK;
    if (type_known(tx->type) && tx->type != GL_TX_LEGACY)
        rc = gl_buf_push(out, (uint8_t)tx->type, err);
    if (rc == GL_OK)
        rc = put_fields(out, tx, sig, err);
    if (rc != GL_OK)
        out->len = mark;
    return rc;
}

gl_code gl_tx_encode(const gl_tx *tx, gl_buf *out, gl_err *err)
{
    return put_envelope(tx, out, true, err);
}

gl_code gl_tx_signing_payload(const gl_tx *tx, gl_buf *out, gl_err *err)
{
    return put_envelope(tx, out, false, err);
}

/* keccak256 of the signed or unsigned envelope. */
static gl_code hash_envelope(const gl_tx *tx, bool sig, uint8_t out[32], gl_err *err)
{
    gl_buf b = GL_BUF_INIT;
    gl_code rc = put_envelope(tx, &b, sig, err);
    if (rc == GL_OK)
        gl_keccak256(b.data, b.len, out);
    else
        memset(out, 0, 32);
    gl_buf_release(&b);
    return rc;
}

gl_code gl_tx_hash(const gl_tx *tx, uint8_t out[32], gl_err *err) { return hash_envelope(tx, true, out, err); }

gl_code gl_tx_signing_hash(const gl_tx *tx, uint8_t out[32], gl_err *err)
{
    return hash_envelope(tx, false, out, err);
}

/* ---------------------------------------------------------------- signatures */

gl_code gl_tx_recover_sender_ex(const gl_secp *ctx, const gl_tx *tx, unsigned flags, uint8_t addr[20],
                                gl_err *err)
{
    memset(addr, 0, 20);
    gl_code rc = gl_tx_check_signature(tx, flags, err);
    if (rc)
        return rc;
    uint8_t h[32], r[32], s[32];
    if ((rc = gl_tx_signing_hash(tx, h, err)) != GL_OK)
        return rc;
    u256_be(&tx->r, r);
    u256_be(&tx->s, s);
    return gl_secp_recover(ctx, h, r, s, tx->y_parity, addr, err);
}

gl_code gl_tx_recover_sender(const gl_secp *ctx, const gl_tx *tx, uint8_t addr[20], gl_err *err)
{
    return gl_tx_recover_sender_ex(ctx, tx, 0, addr, err);
}

gl_code gl_tx_sign(const gl_secp *ctx, gl_tx *tx, const uint8_t privkey[32], gl_err *err)
{
    uint8_t h[32], r[32], s[32];
    int recid;
    if (tx->type == GL_TX_LEGACY && tx->has_chain_id && gl_u256_is_zero(&tx->chain_id))
        return gl_err_set(err, GL_EINVAL, "cannot sign with EIP-155 chain id 0 (v 35/36 is invalid)");
    gl_code rc = gl_tx_signing_hash(tx, h, err);
    if (rc)
        return rc;
    if ((rc = gl_secp_sign(ctx, h, privkey, r, s, &recid, err)) != GL_OK)
        return rc;
    gl_tx tmp = *tx; /* shallow: only scalar signature fields change */
    tmp.y_parity = (uint8_t)recid;
    if (tx->type == GL_TX_LEGACY) {
        if ((rc = legacy_v(&tmp, &tmp.v, err)) != GL_OK)
            return rc;
    } else {
        tmp.v = gl_u256_from_u64((uint64_t)recid);
    }
    tx->y_parity = tmp.y_parity;
    tx->v = tmp.v;
    (void)gl_u256_from_be(&tx->r, r, 32, NULL);
    (void)gl_u256_from_be(&tx->s, s, 32, NULL);
    return GL_OK;
}

gl_code gl_tx_auth_signing_hash(const gl_tx_auth *auth, uint8_t out[32], gl_err *err)
{
    gl_buf b = GL_BUF_INIT;
    gl_code rc = gl_buf_push(&b, AUTH_MAGIC, err);
    size_t l = gl_rlp_list_begin(&b);
    if (rc == GL_OK)
        rc = gl_rlp_put_u256(&b, &auth->chain_id, err);
    if (rc == GL_OK)
        rc = gl_rlp_put_bytes(&b, auth->address, 20, err);
    if (rc == GL_OK)
        rc = gl_rlp_put_u64(&b, auth->nonce, err);
    if (rc == GL_OK)
        rc = gl_rlp_list_end(&b, l, err);
    if (rc == GL_OK)
        gl_keccak256(b.data, b.len, out);
    else
        memset(out, 0, 32);
    gl_buf_release(&b);
    return rc;
}

gl_code gl_tx_auth_recover(const gl_secp *ctx, const gl_tx_auth *auth, uint8_t addr[20], gl_err *err)
{
    memset(addr, 0, 20);
    if (auth->y_parity > 1)
        return gl_err_set(err, GL_EINVAL, "authorization y parity %u is not 0 or 1", (unsigned)auth->y_parity);
    uint8_t h[32], r[32], s[32];
    u256_be(&auth->r, r);
    u256_be(&auth->s, s);
    gl_code rc = gl_secp_check_sig(r, s, true, err);
    if (rc)
        return rc;
    if ((rc = gl_tx_auth_signing_hash(auth, h, err)) != GL_OK)
        return rc;
    return gl_secp_recover(ctx, h, r, s, auth->y_parity, addr, err);
}

gl_code gl_tx_auth_sign(const gl_secp *ctx, gl_tx_auth *auth, const uint8_t privkey[32], gl_err *err)
{
    uint8_t h[32], r[32], s[32];
    int recid;
    gl_code rc = gl_tx_auth_signing_hash(auth, h, err);
    if (rc)
        return rc;
    if ((rc = gl_secp_sign(ctx, h, privkey, r, s, &recid, err)) != GL_OK)
        return rc;
    auth->y_parity = (uint8_t)recid;
    (void)gl_u256_from_be(&auth->r, r, 32, NULL);
    (void)gl_u256_from_be(&auth->s, s, 32, NULL);
    return GL_OK;
}
