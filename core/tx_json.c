/* tx_json.c - transactions from JSON-RPC objects and to descriptive JSON.
 *
 * gl_tx_from_json reads what nodes return for eth_getTransactionByHash and
 * eth_getBlockByNumber(n, true): hex quantities, with extra fields from
 * various clients (Parity's raw/publicKey/standardV/creates/condition, L2
 * fields, blockHash, from, hash, ...) ignored.  gl_tx_to_json writes the
 * object `gpuledger tx decode` prints.  See tx.h for both contracts.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "gpuledger/tx.h"

/* ---------------------------------------------------------------- reading */

/* The field `name` of obj, or NULL when absent or JSON null. */
static const json_t *field(const json_t *obj, const char *name)
{
    const json_t *v = json_object_get(obj, name);
    return v && !json_is_null(v) ? v : NULL;
}

/* A quantity: hex string "0x..", decimal string, or non-negative JSON
 * integer.  `*present` (may be NULL) says whether it was there; when absent
 * and `required`, that is an error. */
static gl_code j_u256(const json_t *obj, const char *name, bool required, gl_u256 *out, bool *present,
                      gl_err *err)
{
    const json_t *v = field(obj, name);
    *out = gl_u256_from_u64(0);
    if (present)
        *present = v != NULL;
    if (!v)
        return required ? gl_err_set(err, GL_EINVAL, "field '%s': missing", name) : GL_OK;
    if (json_is_integer(v)) {
        json_int_t i = json_integer_value(v);
        if (i < 0)
            return gl_err_set(err, GL_EINVAL, "field '%s': negative number", name);
        *out = gl_u256_from_u64((uint64_t)i);
        return GL_OK;
    }
    if (!json_is_string(v))
        return gl_err_set(err, GL_EINVAL, "field '%s': expected a hex quantity string", name);
    gl_code rc = gl_u256_parse(out, json_string_value(v), err);
    if (rc)
        gl_err_prefix(err, "field '%s': ", name);
    return rc;
}

static gl_code j_u64(const json_t *obj, const char *name, bool required, uint64_t *out, gl_err *err)
{
    gl_u256 u;
    *out = 0;
    gl_code rc = j_u256(obj, name, required, &u, NULL, err);
    if (rc)
        return rc;
    if (!gl_u256_to_u64(&u, out))
        return gl_err_set(err, GL_ERANGE, "field '%s': exceeds 64 bits", name);
    return GL_OK;
}

/* A fixed-length hex byte string (address: 20, hash: 32). */
static gl_code j_fixed(const json_t *v, const char *name, uint8_t *out, size_t n, gl_err *err)
{
    if (!v || !json_is_string(v))
        return gl_err_set(err, GL_EINVAL, "field '%s': expected a hex string", name);
    gl_code rc = gl_hex_decode_exact(json_string_value(v), out, n, err);
    if (rc)
        gl_err_prefix(err, "field '%s': ", name);
    return rc;
}

static gl_code j_input(const json_t *obj, gl_tx *tx, gl_err *err)
{
    const char *name = "input";
    const json_t *v = field(obj, name);
    if (!v) {
        name = "data"; /* some older nodes */
        v = field(obj, name);
    }
    if (!v)
        return gl_err_set(err, GL_EINVAL, "field 'input': missing");
    if (!json_is_string(v))
        return gl_err_set(err, GL_EINVAL, "field '%s': expected a hex string", name);
    gl_buf b = GL_BUF_INIT;
    gl_code rc = gl_hex_decode_buf(json_string_value(v), &b, err);
    if (rc) {
        gl_buf_release(&b);
        gl_err_prefix(err, "field '%s': ", name);
        return rc;
    }
    tx->input = b.len ? b.data : NULL;
    tx->input_len = b.len;
    if (!b.len)
        gl_buf_release(&b);
    return GL_OK;
}

static gl_code j_access_list(const json_t *obj, gl_tx *tx, gl_err *err)
{
    const json_t *al = field(obj, "accessList");
    if (!al)
        return GL_OK; /* tolerated: an empty list left out */
    if (!json_is_array(al))
        return gl_err_set(err, GL_EINVAL, "field 'accessList': expected an array");
    size_t n = json_array_size(al);
    if (n == 0)
        return GL_OK;
    tx->access_list = calloc(n, sizeof *tx->access_list);
    if (!tx->access_list)
        return gl_err_set(err, GL_ENOMEM, "out of memory for %zu access list entries", n);
    tx->access_list_len = n;
    for (size_t i = 0; i < n; i++) {
        const json_t *e = json_array_get(al, i);
        gl_tx_access *a = &tx->access_list[i];
        gl_code rc;
        if (!json_is_object(e))
            return gl_err_set(err, GL_EINVAL, "accessList[%zu]: expected an object", i);
        if ((rc = j_fixed(field(e, "address"), "address", a->address, 20, err)) != GL_OK) {
            gl_err_prefix(err, "accessList[%zu]: ", i);
            return rc;
        }
        const json_t *keys = field(e, "storageKeys");
        if (!keys)
            continue;
        if (!json_is_array(keys))
            return gl_err_set(err, GL_EINVAL, "accessList[%zu]: field 'storageKeys': expected an array", i);
        size_t nk = json_array_size(keys);
        if (nk == 0)
            continue;
        a->keys = calloc(nk, sizeof *a->keys);
        if (!a->keys)
            return gl_err_set(err, GL_ENOMEM, "out of memory for %zu storage keys", nk);
        a->nkeys = nk;
        for (size_t k = 0; k < nk; k++)
            if ((rc = j_fixed(json_array_get(keys, k), "storageKeys", a->keys[k], 32, err)) != GL_OK) {
                gl_err_prefix(err, "accessList[%zu][%zu]: ", i, k);
                return rc;
            }
    }
    return GL_OK;
}

static gl_code j_blob_hashes(const json_t *obj, gl_tx *tx, gl_err *err)
{
    const json_t *bh = field(obj, "blobVersionedHashes");
    if (!bh || !json_is_array(bh))
        return gl_err_set(err, GL_EINVAL, "field 'blobVersionedHashes': missing or not an array");
    size_t n = json_array_size(bh);
    if (n == 0)
        return gl_err_set(err, GL_EINVAL, "field 'blobVersionedHashes': a blob transaction needs at least one blob");
    tx->blob_hashes = calloc(n, sizeof *tx->blob_hashes);
    if (!tx->blob_hashes)
        return gl_err_set(err, GL_ENOMEM, "out of memory for %zu blob hashes", n);
    tx->blob_hashes_len = n;
    for (size_t i = 0; i < n; i++) {
        gl_code rc = j_fixed(json_array_get(bh, i), "blobVersionedHashes", tx->blob_hashes[i], 32, err);
        if (rc)
            return rc;
    }
    return GL_OK;
}

/* yParity, or v when yParity is absent; both must be 0/1 and agree. */
static gl_code j_y_parity(const json_t *obj, uint8_t *y, gl_u256 *as_v, gl_err *err)
{
    gl_u256 yp, v;
    bool has_yp, has_v;
    gl_code rc;
    if ((rc = j_u256(obj, "yParity", false, &yp, &has_yp, err)) != GL_OK ||
        (rc = j_u256(obj, "v", false, &v, &has_v, err)) != GL_OK)
        return rc;
    if (!has_yp && !has_v)
        return gl_err_set(err, GL_EINVAL, "field 'yParity': missing (and no 'v')");
    const gl_u256 *use = has_yp ? &yp : &v;
    uint64_t y64;
    if (!gl_u256_to_u64(use, &y64) || y64 > 1)
        return gl_err_set(err, GL_EINVAL, "invalid %s: must be 0 or 1", has_yp ? "yParity" : "v");
    uint64_t v64;
    if (has_yp && has_v && gl_u256_to_u64(&v, &v64) && v64 <= 1 && v64 != y64)
        return gl_err_set(err, GL_EINVAL, "fields 'v' and 'yParity' disagree");
    *y = (uint8_t)y64;
    *as_v = gl_u256_from_u64(y64);
    return GL_OK;
}

static gl_code j_auth_list(const json_t *obj, gl_tx *tx, gl_err *err)
{
    const json_t *al = field(obj, "authorizationList");
    if (!al || !json_is_array(al))
        return gl_err_set(err, GL_EINVAL, "field 'authorizationList': missing or not an array");
    size_t n = json_array_size(al);
    if (n == 0)
        return gl_err_set(err, GL_EINVAL, "field 'authorizationList': an EIP-7702 transaction needs at least one authorization");
    tx->auth_list = calloc(n, sizeof *tx->auth_list);
    if (!tx->auth_list)
        return gl_err_set(err, GL_ENOMEM, "out of memory for %zu authorizations", n);
    tx->auth_list_len = n;
    for (size_t i = 0; i < n; i++) {
        const json_t *e = json_array_get(al, i);
        gl_tx_auth *a = &tx->auth_list[i];
        gl_u256 y;
        bool has_y;
        gl_code rc;
        if (!json_is_object(e))
            return gl_err_set(err, GL_EINVAL, "authorizationList[%zu]: expected an object", i);
        if ((rc = j_u256(e, "chainId", true, &a->chain_id, NULL, err)) != GL_OK ||
            (rc = j_fixed(field(e, "address"), "address", a->address, 20, err)) != GL_OK ||
            (rc = j_u64(e, "nonce", true, &a->nonce, err)) != GL_OK ||
            (rc = j_u256(e, "yParity", false, &y, &has_y, err)) != GL_OK ||
            (!has_y && (rc = j_u256(e, "v", true, &y, NULL, err)) != GL_OK) ||
            (rc = j_u256(e, "r", true, &a->r, NULL, err)) != GL_OK ||
            (rc = j_u256(e, "s", true, &a->s, NULL, err)) != GL_OK) {
            gl_err_prefix(err, "authorizationList[%zu]: ", i);
            return rc;
        }
        uint64_t y64;
        if (!gl_u256_to_u64(&y, &y64) || y64 > 255)
            return gl_err_set(err, GL_EINVAL, "authorizationList[%zu]: field 'yParity': does not fit 8 bits", i);
        a->y_parity = (uint8_t)y64;
    }
    return GL_OK;
}

/* Legacy: v gives y parity and the chain id; a chainId field must agree. */
static gl_code j_legacy_sig(const json_t *obj, gl_tx *tx, gl_err *err)
{
    gl_code rc = j_u256(obj, "v", true, &tx->v, NULL, err);
    if (rc)
        return rc;
    uint64_t small = 0;
    bool fits = gl_u256_to_u64(&tx->v, &small);
    if (fits && (small == 27 || small == 28)) {
        tx->has_chain_id = false;
        tx->y_parity = (uint8_t)(small - 27);
        return GL_OK; /* a chainId field is ignored: some nodes report the chain's */
    }
    if (fits && small < 37)
        return gl_err_set(err, GL_EINVAL, "invalid v %" PRIu64 ": legacy v must be 27, 28 or chainId*2+35/36",
                          small);
    gl_u256 t, c35 = gl_u256_from_u64(35), cid;
    bool has_cid;
    (void)gl_u256_sub(&t, &tx->v, &c35, NULL);
    tx->y_parity = (uint8_t)(t.w[0] & 1);
    tx->chain_id = gl_u256_shr(&t, 1);
    tx->has_chain_id = true;
    if ((rc = j_u256(obj, "chainId", false, &cid, &has_cid, err)) != GL_OK)
        return rc;
    if (has_cid && gl_u256_cmp(&cid, &tx->chain_id) != 0)
        return gl_err_set(err, GL_EINVAL, "field 'chainId' disagrees with the chain id in v");
    return GL_OK;
}

static gl_code from_json(gl_tx *tx, const json_t *obj, unsigned flags, gl_err *err)
{
    gl_code rc;
    if (!json_is_object(obj))
        return gl_err_set(err, GL_EINVAL, "transaction: expected a JSON object");
    gl_u256 type;
    bool has_type;
    if ((rc = j_u256(obj, "type", false, &type, &has_type, err)) != GL_OK)
        return rc;
    uint64_t t64 = 0;
    if (!gl_u256_to_u64(&type, &t64) || t64 > GL_TX_SET_CODE) {
        char hex[GL_U256_HEX_MAX];
        return gl_err_set(err, GL_ENOTSUP, "unsupported transaction type %s", gl_u256_to_hex(&type, hex));
    }
    tx->type = (gl_tx_type)t64;
    bool legacy = tx->type == GL_TX_LEGACY;
    bool fee1559 = tx->type >= GL_TX_DYNAMIC_FEE;
    if (!legacy) {
        if ((rc = j_u256(obj, "chainId", true, &tx->chain_id, NULL, err)) != GL_OK)
            return rc;
        tx->has_chain_id = true;
    }
    if ((rc = j_u64(obj, "nonce", true, &tx->nonce, err)) != GL_OK)
        return rc;
    if (!fee1559 && (rc = j_u256(obj, "gasPrice", true, &tx->gas_price, NULL, err)) != GL_OK)
        return rc;
    if (fee1559 &&
        ((rc = j_u256(obj, "maxPriorityFeePerGas", true, &tx->max_priority_fee_per_gas, NULL, err)) != GL_OK ||
         (rc = j_u256(obj, "maxFeePerGas", true, &tx->max_fee_per_gas, NULL, err)) != GL_OK))
        return rc;
    if ((rc = j_u64(obj, "gas", true, &tx->gas, err)) != GL_OK)
        return rc;
    const json_t *to = field(obj, "to");
    if (to) {
        if ((rc = j_fixed(to, "to", tx->to, 20, err)) != GL_OK)
            return rc;
        tx->has_to = true;
    } else if (tx->type == GL_TX_BLOB || tx->type == GL_TX_SET_CODE) {
        return gl_err_set(err, GL_EINVAL, "field 'to': a %s transaction cannot create a contract",
                          gl_tx_type_name(tx->type));
    }
    if ((rc = j_u256(obj, "value", true, &tx->value, NULL, err)) != GL_OK)
        return rc;
    if ((rc = j_input(obj, tx, err)) != GL_OK)
        return rc;
    if (!legacy && (rc = j_access_list(obj, tx, err)) != GL_OK)
        return rc;
    if (tx->type == GL_TX_BLOB &&
        ((rc = j_u256(obj, "maxFeePerBlobGas", true, &tx->max_fee_per_blob_gas, NULL, err)) != GL_OK ||
         (rc = j_blob_hashes(obj, tx, err)) != GL_OK))
        return rc;
    if (tx->type == GL_TX_SET_CODE && (rc = j_auth_list(obj, tx, err)) != GL_OK)
        return rc;
    rc = legacy ? j_legacy_sig(obj, tx, err) : j_y_parity(obj, &tx->y_parity, &tx->v, err);
    if (rc)
        return rc;
    if ((rc = j_u256(obj, "r", true, &tx->r, NULL, err)) != GL_OK ||
        (rc = j_u256(obj, "s", true, &tx->s, NULL, err)) != GL_OK)
        return rc;
    return gl_tx_check_signature(tx, flags, err);
}

gl_code gl_tx_from_json_ex(gl_tx *out, const json_t *obj, unsigned flags, gl_err *err)
{
    gl_tx_release(out);
    gl_code rc = from_json(out, obj, flags, err);
    if (rc)
        gl_tx_release(out);
    return rc;
}

gl_code gl_tx_from_json(gl_tx *out, const json_t *obj, gl_err *err)
{
    return gl_tx_from_json_ex(out, obj, 0, err);
}

/* ---------------------------------------------------------------- writing */

#define JSON_SAFE_INT ((uint64_t)1 << 53) /* largest integer every JSON reader keeps exactly */

static json_t *j_num(const gl_u256 *v)
{
    uint64_t u;
    if (gl_u256_to_u64(v, &u) && u <= JSON_SAFE_INT)
        return json_integer((json_int_t)u);
    char dec[GL_U256_DEC_MAX];
    return json_string(gl_u256_to_dec(v, dec));
}

static json_t *j_num64(uint64_t u)
{
    gl_u256 v = gl_u256_from_u64(u);
    return j_num(&v);
}

static json_t *j_dec(const gl_u256 *v)
{
    char dec[GL_U256_DEC_MAX];
    return json_string(gl_u256_to_dec(v, dec));
}

static json_t *j_hex(const uint8_t *data, size_t n)
{
    char *s = gl_hex_encode_alloc(data, n, true);
    if (!s)
        return NULL;
    json_t *j = json_string(s);
    free(s);
    return j;
}

static json_t *j_word(const gl_u256 *v)
{
    uint8_t be[32];
    gl_u256_to_be(v, be);
    return j_hex(be, 32);
}

/* json_object_set_new that reports failure (NULL value or no memory); the
 * value is consumed either way, as jansson's *_new functions do. */
static bool put(json_t *o, const char *k, json_t *v)
{
    return v && json_object_set_new(o, k, v) == 0;
}

static json_t *access_entry_json(const gl_tx_access *a)
{
    json_t *keys = json_array();
    for (size_t k = 0; keys && k < a->nkeys; k++)
        if (json_array_append_new(keys, j_hex(a->keys[k], 32)) != 0) {
            json_decref(keys);
            keys = NULL;
        }
    json_t *e = json_object();
    if (!e || !put(e, "address", j_hex(a->address, 20))) {
        json_decref(keys);
        json_decref(e);
        return NULL;
    }
    if (!put(e, "storage_keys", keys)) { /* put consumes keys */
        json_decref(e);
        return NULL;
    }
    return e;
}

static json_t *access_list_json(const gl_tx *tx)
{
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < tx->access_list_len; i++)
        if (json_array_append_new(arr, access_entry_json(&tx->access_list[i])) != 0) {
            json_decref(arr);
            arr = NULL;
        }
    return arr;
}

static json_t *auth_json(const gl_secp *ctx, const gl_tx_auth *a)
{
    json_t *e = json_object();
    if (!e)
        return NULL;
    bool ok = put(e, "chain_id", j_num(&a->chain_id)) && put(e, "address", j_hex(a->address, 20)) &&
              put(e, "nonce", j_num64(a->nonce)) && put(e, "y_parity", json_integer(a->y_parity)) &&
              put(e, "r", j_word(&a->r)) && put(e, "s", j_word(&a->s));
    if (ok && ctx) {
        uint8_t who[20];
        gl_err aerr;
        gl_err_clear(&aerr);
        if (gl_tx_auth_recover(ctx, a, who, &aerr) == GL_OK)
            ok = put(e, "authority", j_hex(who, 20));
        else
            ok = put(e, "authority", json_null()) && put(e, "authority_error", json_string(aerr.msg));
    }
    if (!ok) {
        json_decref(e);
        return NULL;
    }
    return e;
}

json_t *gl_tx_to_json(const gl_secp *ctx, const gl_tx *tx, gl_err *err)
{
    uint8_t hash[32], sender[20];
    gl_code rc = gl_tx_hash(tx, hash, err);
    if (rc)
        return NULL;
    if (ctx && (rc = gl_tx_recover_sender_ex(ctx, tx, GL_TX_ALLOW_HIGH_S, sender, err)) != GL_OK)
        return NULL;
    json_t *o = json_object();
    bool ok = o && put(o, "type", json_integer(tx->type)) &&
              put(o, "type_name", json_string(gl_tx_type_name(tx->type))) &&
              put(o, "hash", j_hex(hash, 32));
    if (ok && ctx)
        ok = put(o, "sender", j_hex(sender, 20));
    ok = ok && put(o, "chain_id", tx->has_chain_id ? j_num(&tx->chain_id) : json_null()) &&
         put(o, "nonce", j_num64(tx->nonce));
    if (ok && (tx->type == GL_TX_LEGACY || tx->type == GL_TX_ACCESS_LIST))
        ok = put(o, "gas_price", j_dec(&tx->gas_price));
    if (ok && tx->type != GL_TX_LEGACY && tx->type != GL_TX_ACCESS_LIST)
        ok = put(o, "max_priority_fee_per_gas", j_dec(&tx->max_priority_fee_per_gas)) &&
             put(o, "max_fee_per_gas", j_dec(&tx->max_fee_per_gas));
    ok = ok && put(o, "gas", j_num64(tx->gas)) &&
         put(o, "to", tx->has_to ? j_hex(tx->to, 20) : json_null()) &&
         put(o, "value", j_dec(&tx->value)) && put(o, "input", j_hex(tx->input, tx->input_len));
    if (ok && tx->type != GL_TX_LEGACY)
        ok = put(o, "access_list", access_list_json(tx));
    if (ok && tx->type == GL_TX_BLOB) {
        json_t *bh = json_array();
        for (size_t i = 0; bh && i < tx->blob_hashes_len; i++)
            if (json_array_append_new(bh, j_hex(tx->blob_hashes[i], 32)) != 0) {
                json_decref(bh);
                bh = NULL;
            }
        ok = put(o, "max_fee_per_blob_gas", j_dec(&tx->max_fee_per_blob_gas)) &&
             put(o, "blob_versioned_hashes", bh);
    }
    if (ok && tx->type == GL_TX_SET_CODE) {
        json_t *al = json_array();
        for (size_t i = 0; al && i < tx->auth_list_len; i++)
            if (json_array_append_new(al, auth_json(ctx, &tx->auth_list[i])) != 0) {
                json_decref(al);
                al = NULL;
            }
        ok = put(o, "authorization_list", al);
    }
    gl_u256 v = tx->v;
    if (tx->type != GL_TX_LEGACY)
        v = gl_u256_from_u64(tx->y_parity);
    ok = ok && put(o, "v", j_num(&v)) && put(o, "y_parity", json_integer(tx->y_parity)) &&
         put(o, "r", j_word(&tx->r)) && put(o, "s", j_word(&tx->s));
    if (!ok) {
        json_decref(o);
        gl_err_set(err, GL_ENOMEM, "out of memory building transaction JSON");
        return NULL;
    }
    return o;
}
