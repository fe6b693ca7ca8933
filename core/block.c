/* block.c - block headers from JSON-RPC, their hash, and block verification
 * (see block.h).
 *
 * Sections: JSON field readers; the header (parse, encode, hash, render);
 * the report; the checks (header, uncles, transactions, withdrawals); the
 * report as JSON.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpuledger/block.h"
#include "gpuledger/keccak.h"
#include "gpuledger/rlp.h"
#include "gpuledger/trie.h"
#include "gpuledger/tx.h"

/* keccak(rlp([])): the uncles hash of a block without uncles. */
static const uint8_t EMPTY_UNCLES[32] = {
    0x1d, 0xcc, 0x4d, 0xe8, 0xde, 0xc7, 0x5d, 0x7a, 0xab, 0x85, 0xb5, 0x67, 0xb6, 0xcc, 0xd4, 0x1a,
    0xd3, 0x12, 0x45, 0x1b, 0x94, 0x8a, 0x74, 0x13, 0xf0, 0xa1, 0x42, 0xfd, 0x40, 0xd4, 0x93, 0x47,
};

/* The fork fields, in the order they must appear. */
static const char *const EXT_FIELDS[GL_BLOCK_EXT_MAX] = {
    "baseFeePerGas", "withdrawalsRoot", "blobGasUsed", "excessBlobGas", "parentBeaconBlockRoot",
    "requestsHash",
};

/* ------------------------------------------------------- JSON field readers */

/* The field's value, or NULL when absent or null. */
static const json_t *field(const json_t *obj, const char *name)
{
    const json_t *v = json_object_get(obj, name);
    return json_is_null(v) ? NULL : v;
}

/* The field as a string without embedded NULs.  GL_EINVAL when missing or
 * not a string. */
static gl_code field_str(const json_t *obj, const char *name, const char **out, gl_err *err)
{
    const json_t *v = field(obj, name);
    *out = NULL;
    if (!v)
        return gl_err_set(err, GL_EINVAL, "missing field '%s'", name);
    if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v))
        return gl_err_set(err, GL_EINVAL, "field '%s' is not a string", name);
    *out = json_string_value(v);
    return GL_OK;
}

static gl_code field_fixed(const json_t *obj, const char *name, uint8_t *out, size_t n, gl_err *err)
{
    const char *s;
    gl_code rc = field_str(obj, name, &s, err);
    if (!rc && (rc = gl_hex_decode_exact(s, out, n, err)))
        gl_err_prefix(err, "field '%s': ", name);
    return rc;
}

static gl_code field_bytes(const json_t *obj, const char *name, gl_buf *out, gl_err *err)
{
    const char *s;
    gl_code rc = field_str(obj, name, &s, err);
    if (!rc && (rc = gl_hex_decode_buf(s, out, err)))
        gl_err_prefix(err, "field '%s': ", name);
    return rc;
}

/* A JSON-RPC quantity: "0x"-prefixed hex (a JSON integer is accepted too). */
static gl_code field_u256(const json_t *obj, const char *name, gl_u256 *out, gl_err *err)
{
    const json_t *v = field(obj, name);
    *out = gl_u256_from_u64(0);
    if (v && json_is_integer(v)) {
        if (json_integer_value(v) < 0)
            return gl_err_set(err, GL_EINVAL, "field '%s' is negative", name);
        *out = gl_u256_from_u64((uint64_t)json_integer_value(v));
        return GL_OK;
    }
    const char *s;
    gl_code rc = field_str(obj, name, &s, err);
    if (rc)
        return rc;
    if (s[0] != '0' || (s[1] != 'x' && s[1] != 'X'))
        return gl_err_set(err, GL_EINVAL, "field '%s': quantity \"%.80s\" lacks the 0x prefix", name, s);
    if ((rc = gl_u256_parse_hex(out, s, err)))
        gl_err_prefix(err, "field '%s': ", name);
    return rc;
}

static gl_code field_u64(const json_t *obj, const char *name, uint64_t *out, gl_err *err)
{
    gl_u256 v;
    *out = 0;
    gl_code rc = field_u256(obj, name, &v, err);
    if (rc)
        return rc;
    if (!gl_u256_to_u64(&v, out))
        return gl_err_set(err, GL_ERANGE, "field '%s' exceeds 64 bits", name);
    return GL_OK;
}

/* ------------------------------------------------------------- the header */

void gl_block_header_init(gl_block_header *h)
{
    memset(h, 0, sizeof *h);
    gl_buf_init(&h->extra);
    gl_buf_init(&h->seal);
}

void gl_block_header_release(gl_block_header *h)
{
    gl_buf_release(&h->extra);
    gl_buf_release(&h->seal);
    gl_block_header_init(h);
}

gl_code gl_block_unwrap(const json_t *doc, const json_t **block, gl_err *err)
{
    *block = NULL;
    if (!json_is_object(doc))
        return gl_err_set(err, GL_EINVAL, "not a JSON object");
    if (json_object_get(doc, "parentHash") || json_object_get(doc, "number")) {
        *block = doc;
        return GL_OK;
    }
    const json_t *e = json_object_get(doc, "error");
    if (e && !json_is_null(e)) {
        const char *msg = json_string_value(json_object_get(e, "message"));
        return gl_err_set(err, GL_ERPC, "the JSON-RPC answer is an error: %.300s", msg ? msg : "(no message)");
    }
    if (!json_object_get(doc, "result"))
        return gl_err_set(err, GL_EINVAL, "neither a block object nor a JSON-RPC answer (no 'result')");
    const json_t *r = json_object_get(doc, "result");
    if (json_is_null(r))
        return gl_err_set(err, GL_EINVAL, "the JSON-RPC result is null (no such block)");
    if (!json_is_object(r))
        return gl_err_set(err, GL_EINVAL, "the JSON-RPC result is not a block object");
    *block = r;
    return GL_OK;
}

/* The seal from Parity's sealFields: each entry is one RLP item. */
static gl_code parse_seal_fields(gl_block_header *h, const json_t *seal, gl_err *err)
{
    if (!json_is_array(seal) || json_array_size(seal) == 0)
        return gl_err_set(err, GL_EINVAL, "missing field 'mixHash' (and no 'sealFields' list)");
    size_t i;
    const json_t *v;
    gl_buf item = GL_BUF_INIT;
    gl_code rc = GL_OK;
    json_array_foreach(seal, i, v) {
        gl_rlp_item it;
        gl_buf_reset(&item);
        if (!json_is_string(v))
            rc = gl_err_set(err, GL_EINVAL, "field 'sealFields[%zu]' is not a string", i);
        else if (!(rc = gl_hex_decode_buf(json_string_value(v), &item, err)) &&
                 !(rc = gl_rlp_decode_exact(item.data, item.len, &it, err)))
            rc = gl_buf_append(&h->seal, item.data, item.len, err);
        if (rc) {
            if (rc != GL_ENOMEM && json_is_string(v))
                gl_err_prefix(err, "field 'sealFields[%zu]': ", i);
            break;
        }
    }
    gl_buf_release(&item);
    return rc;
}

static gl_code parse_seal(gl_block_header *h, const json_t *b, gl_err *err)
{
    bool mix = field(b, "mixHash") != NULL, nonce = field(b, "nonce") != NULL;
    if (!mix && !nonce)
        return parse_seal_fields(h, field(b, "sealFields"), err);
    gl_code rc = field_fixed(b, "mixHash", h->mix_hash, 32, err);
    if (!rc)
        rc = field_fixed(b, "nonce", h->nonce, 8, err);
    h->has_mix_nonce = rc == GL_OK;
    return rc;
}

static gl_code parse_ext(gl_block_header *h, const json_t *b, unsigned flags, gl_err *err)
{
    unsigned missing = GL_BLOCK_EXT_MAX;
    h->ext = 0;
    for (unsigned k = 0; k < GL_BLOCK_EXT_MAX; k++) {
        if (!field(b, EXT_FIELDS[k])) {
            if (missing == GL_BLOCK_EXT_MAX)
                missing = k;
            continue;
        }
        if (missing < k && !(flags & GL_BLOCK_FORK_GAPS))
            return gl_err_set(err, GL_EINVAL,
                              "field '%s' is present but the earlier fork field '%s' is missing",
                              EXT_FIELDS[k], EXT_FIELDS[missing]);
        h->ext |= 1u << k;
    }
    gl_code rc = GL_OK;
    if ((h->ext & GL_BLOCK_HAS_BASE_FEE) && !rc)
        rc = field_u256(b, "baseFeePerGas", &h->base_fee, err);
    if ((h->ext & GL_BLOCK_HAS_WITHDRAWALS_ROOT) && !rc)
        rc = field_fixed(b, "withdrawalsRoot", h->withdrawals_root, 32, err);
    if ((h->ext & GL_BLOCK_HAS_BLOB_GAS_USED) && !rc)
        rc = field_u64(b, "blobGasUsed", &h->blob_gas_used, err);
    if ((h->ext & GL_BLOCK_HAS_EXCESS_BLOB_GAS) && !rc)
        rc = field_u64(b, "excessBlobGas", &h->excess_blob_gas, err);
    if ((h->ext & GL_BLOCK_HAS_BEACON_ROOT) && !rc)
        rc = field_fixed(b, "parentBeaconBlockRoot", h->parent_beacon_root, 32, err);
    if ((h->ext & GL_BLOCK_HAS_REQUESTS_HASH) && !rc)
        rc = field_fixed(b, "requestsHash", h->requests_hash, 32, err);
    return rc;
}

gl_code gl_block_header_from_json(gl_block_header *out, const json_t *doc, gl_err *err)
{
    return gl_block_header_from_json_ex(out, doc, 0, err);
}

gl_code gl_block_header_from_json_ex(gl_block_header *out, const json_t *doc, unsigned flags, gl_err *err)
{
    gl_block_header_release(out);
    const json_t *b;
    gl_code rc = gl_block_unwrap(doc, &b, err);
    if (rc)
        return rc;
    const char *miner = field(b, "miner") || !field(b, "author") ? "miner" : "author";
    if (!rc) rc = field_fixed(b, "parentHash", out->parent_hash, 32, err);
    if (!rc) rc = field_fixed(b, "sha3Uncles", out->uncles_hash, 32, err);
    if (!rc) rc = field_fixed(b, miner, out->coinbase, 20, err);
    if (!rc) rc = field_fixed(b, "stateRoot", out->state_root, 32, err);
    if (!rc) rc = field_fixed(b, "transactionsRoot", out->tx_root, 32, err);
    if (!rc) rc = field_fixed(b, "receiptsRoot", out->receipts_root, 32, err);
    if (!rc) rc = field_fixed(b, "logsBloom", out->bloom, 256, err);
    if (!rc) rc = field_u256(b, "difficulty", &out->difficulty, err);
    if (!rc) rc = field_u64(b, "number", &out->number, err);
    if (!rc) rc = field_u64(b, "gasLimit", &out->gas_limit, err);
    if (!rc) rc = field_u64(b, "gasUsed", &out->gas_used, err);
    if (!rc) rc = field_u64(b, "timestamp", &out->timestamp, err);
    if (!rc) rc = field_bytes(b, "extraData", &out->extra, err);
    if (!rc) rc = parse_seal(out, b, err);
    if (!rc) rc = parse_ext(out, b, flags, err);
    if (rc)
        gl_block_header_release(out);
    return rc;
}

gl_code gl_block_header_encode(const gl_block_header *h, gl_buf *out, gl_err *err)
{
    size_t start = out->len, begin = gl_rlp_list_begin(out);
    gl_code rc = GL_OK;
#define PUT(expr) do { if (!rc) rc = (expr); } while (0)
    PUT(gl_rlp_put_bytes(out, h->parent_hash, 32, err));
    PUT(gl_rlp_put_bytes(out, h->uncles_hash, 32, err));
    PUT(gl_rlp_put_bytes(out, h->coinbase, 20, err));
    PUT(gl_rlp_put_bytes(out, h->state_root, 32, err));
    PUT(gl_rlp_put_bytes(out, h->tx_root, 32, err));
    PUT(gl_rlp_put_bytes(out, h->receipts_root, 32, err));
    PUT(gl_rlp_put_bytes(out, h->bloom, 256, err));
    PUT(gl_rlp_put_u256(out, &h->difficulty, err));
    PUT(gl_rlp_put_u64(out, h->number, err));
    PUT(gl_rlp_put_u64(out, h->gas_limit, err));
    PUT(gl_rlp_put_u64(out, h->gas_used, err));
    PUT(gl_rlp_put_u64(out, h->timestamp, err));
    PUT(gl_rlp_put_bytes(out, h->extra.data, h->extra.len, err));
    if (h->has_mix_nonce) {
        PUT(gl_rlp_put_bytes(out, h->mix_hash, 32, err));
        PUT(gl_rlp_put_bytes(out, h->nonce, 8, err));
    } else {
        PUT(gl_rlp_put_raw(out, h->seal.data, h->seal.len, err));
    }
    if (h->ext & GL_BLOCK_HAS_BASE_FEE) PUT(gl_rlp_put_u256(out, &h->base_fee, err));
    if (h->ext & GL_BLOCK_HAS_WITHDRAWALS_ROOT) PUT(gl_rlp_put_bytes(out, h->withdrawals_root, 32, err));
    if (h->ext & GL_BLOCK_HAS_BLOB_GAS_USED) PUT(gl_rlp_put_u64(out, h->blob_gas_used, err));
    if (h->ext & GL_BLOCK_HAS_EXCESS_BLOB_GAS) PUT(gl_rlp_put_u64(out, h->excess_blob_gas, err));
    if (h->ext & GL_BLOCK_HAS_BEACON_ROOT) PUT(gl_rlp_put_bytes(out, h->parent_beacon_root, 32, err));
    if (h->ext & GL_BLOCK_HAS_REQUESTS_HASH) PUT(gl_rlp_put_bytes(out, h->requests_hash, 32, err));
    PUT(gl_rlp_list_end(out, begin, err));
#undef PUT
    if (rc)
        out->len = start;
    return rc;
}

gl_code gl_block_header_hash(const gl_block_header *h, uint8_t out[32], gl_err *err)
{
    gl_buf b = GL_BUF_INIT;
    gl_code rc = gl_block_header_encode(h, &b, err);
    if (!rc)
        gl_keccak256(b.data, b.len, out);
    else
        memset(out, 0, 32);
    gl_buf_release(&b);
    return rc;
}

gl_code gl_block_json_hash(const json_t *block, uint64_t number, uint8_t out[32], gl_err *err)
{
    gl_block_header h;
    gl_block_header_init(&h);
    gl_err e2;
    gl_code rc = gl_block_header_from_json_ex(&h, block, GL_BLOCK_FORK_GAPS, &e2);
    if (rc)
        gl_err_set(err, rc, "is unreadable: %s", e2.msg);
    else if (h.number != number)
        rc = gl_err_set(err, GL_EINVAL, "is block %" PRIu64 ", not %" PRIu64, h.number, number);
    else
        rc = gl_block_header_hash(&h, out, err);
    gl_block_header_release(&h);
    return rc;
}

const char *gl_block_fork_name(const gl_block_header *h)
{
    static const char *const names[GL_BLOCK_EXT_MAX + 1] = {
        "frontier", "london", "shanghai", "cancun", "cancun", "cancun", "prague",
    };
    unsigned n = 0;
    while (n < GL_BLOCK_EXT_MAX && (h->ext & (1u << n)))
        n++;
    return names[n];
}

/* Set key to a new JSON value; a NULL value (allocation failure) counts. */
static int jset(json_t *obj, const char *key, json_t *v)
{
    return v ? json_object_set_new(obj, key, v) : -1;
}

static json_t *jhex(const uint8_t *p, size_t n)
{
    char *s = gl_hex_encode_alloc(p, n, true);
    json_t *v = s ? json_string(s) : NULL;
    free(s);
    return v;
}

static json_t *jqty(const gl_u256 *v)
{
    char s[GL_U256_HEX_MAX];
    return json_string(gl_u256_to_hex(v, s));
}

static json_t *jqty64(uint64_t v)
{
    gl_u256 u = gl_u256_from_u64(v);
    return jqty(&u);
}

/* sealFields back as hex strings, one per RLP item. */
static json_t *jseal(const gl_buf *seal)
{
    json_t *a = json_array();
    size_t off = 0;
    while (a && off < seal->len) {
        size_t used = 0;
        gl_rlp_item it;
        if (gl_rlp_decode(seal->data + off, seal->len - off, &it, &used, NULL) ||
            json_array_append_new(a, jhex(seal->data + off, used))) {
            json_decref(a);
            return NULL;
        }
        off += used;
    }
    return a;
}

json_t *gl_block_header_to_json(const gl_block_header *h, gl_err *err)
{
    json_t *o = json_object();
    int bad = !o;
    if (!bad) {
        bad |= jset(o, "parentHash", jhex(h->parent_hash, 32));
        bad |= jset(o, "sha3Uncles", jhex(h->uncles_hash, 32));
        bad |= jset(o, "miner", jhex(h->coinbase, 20));
        bad |= jset(o, "stateRoot", jhex(h->state_root, 32));
        bad |= jset(o, "transactionsRoot", jhex(h->tx_root, 32));
        bad |= jset(o, "receiptsRoot", jhex(h->receipts_root, 32));
        bad |= jset(o, "logsBloom", jhex(h->bloom, 256));
        bad |= jset(o, "difficulty", jqty(&h->difficulty));
        bad |= jset(o, "number", jqty64(h->number));
        bad |= jset(o, "gasLimit", jqty64(h->gas_limit));
        bad |= jset(o, "gasUsed", jqty64(h->gas_used));
        bad |= jset(o, "timestamp", jqty64(h->timestamp));
        bad |= jset(o, "extraData", jhex(h->extra.data, h->extra.len));
        if (h->has_mix_nonce) {
            bad |= jset(o, "mixHash", jhex(h->mix_hash, 32));
            bad |= jset(o, "nonce", jhex(h->nonce, 8));
        } else {
            bad |= jset(o, "sealFields", jseal(&h->seal));
        }
        if (h->ext & GL_BLOCK_HAS_BASE_FEE)
            bad |= jset(o, "baseFeePerGas", jqty(&h->base_fee));
        if (h->ext & GL_BLOCK_HAS_WITHDRAWALS_ROOT)
            bad |= jset(o, "withdrawalsRoot", jhex(h->withdrawals_root, 32));
        if (h->ext & GL_BLOCK_HAS_BLOB_GAS_USED)
            bad |= jset(o, "blobGasUsed", jqty64(h->blob_gas_used));
        if (h->ext & GL_BLOCK_HAS_EXCESS_BLOB_GAS)
            bad |= jset(o, "excessBlobGas", jqty64(h->excess_blob_gas));
        if (h->ext & GL_BLOCK_HAS_BEACON_ROOT)
            bad |= jset(o, "parentBeaconBlockRoot", jhex(h->parent_beacon_root, 32));
        if (h->ext & GL_BLOCK_HAS_REQUESTS_HASH)
            bad |= jset(o, "requestsHash", jhex(h->requests_hash, 32));
    }
    if (bad) {
        json_decref(o);
        gl_err_set(err, GL_ENOMEM, "out of memory rendering a header");
        return NULL;
    }
    return o;
}

/* ------------------------------------------------------------- the report */

void gl_block_report_init(gl_block_report *r)
{
    memset(r, 0, sizeof *r);
    gl_block_header_init(&r->header);
}

void gl_block_report_release(gl_block_report *r)
{
    for (size_t i = 0; i < r->n; i++) {
        free(r->checks[i].reason);
        free(r->checks[i].differs);
    }
    free(r->checks);
    gl_block_header_release(&r->header);
    gl_block_report_init(r);
}

const char *gl_block_status_name(gl_block_status s)
{
    switch (s) {
    case GL_BLOCK_MATCH: return "match";
    case GL_BLOCK_MISMATCH: return "mismatch";
    case GL_BLOCK_NOT_CHECKED: return "not checked";
    }
    return "?";
}

const char *gl_block_check_name(gl_block_check_kind k)
{
    switch (k) {
    case GL_CHECK_HEADER_HASH: return "header hash";
    case GL_CHECK_UNCLES_HASH: return "uncles hash";
    case GL_CHECK_TX_ROOT: return "transactions root";
    case GL_CHECK_TX_HASH: return "transaction hash";
    case GL_CHECK_TX_SENDER: return "sender";
    case GL_CHECK_TX_RAW: return "raw transaction";
    case GL_CHECK_WITHDRAWALS_ROOT: return "withdrawals root";
    case GL_CHECK_RECEIPTS_ROOT: return "receipts root";
    }
    return "?";
}

const char *gl_block_check_finding(gl_block_check_kind k)
{
    switch (k) {
    case GL_CHECK_HEADER_HASH: return "header_hash_mismatch";
    case GL_CHECK_UNCLES_HASH: return "uncles_hash_mismatch";
    case GL_CHECK_TX_ROOT: return "tx_root_mismatch";
    case GL_CHECK_TX_HASH: return "tx_hash_mismatch";
    case GL_CHECK_TX_SENDER: return "sender_mismatch";
    case GL_CHECK_TX_RAW: return "tx_raw_mismatch";
    case GL_CHECK_WITHDRAWALS_ROOT: return "withdrawals_root_mismatch";
    case GL_CHECK_RECEIPTS_ROOT: return "receipts_root_mismatch";
    }
    return "mismatch";
}

/* Append a check; claimed/computed are n bytes each, or NULL.  A
 * MATCH/MISMATCH status is decided here by comparing them when both are
 * given (status is then ignored).  Fails only with GL_ENOMEM. */
static gl_code add_check(gl_block_report *r, gl_block_check_kind kind, const char *field_name,
                         gl_block_status status, const uint8_t *claimed, const uint8_t *computed,
                         size_t n, const char *reason, gl_err *err)
{
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 16;
        gl_block_check *c = realloc(r->checks, cap * sizeof *c);
        if (!c)
            return gl_err_set(err, GL_ENOMEM, "out of memory for %zu checks", cap);
        r->checks = c;
        r->cap = cap;
    }
    gl_block_check *c = &r->checks[r->n];
    memset(c, 0, sizeof *c);
    c->kind = kind;
    snprintf(c->field, sizeof c->field, "%s", field_name);
    if (claimed)
        gl_hex_encode(claimed, n, true, c->claimed);
    if (computed)
        gl_hex_encode(computed, n, true, c->computed);
    if (claimed && computed)
        status = memcmp(claimed, computed, n) ? GL_BLOCK_MISMATCH : GL_BLOCK_MATCH;
    c->status = status;
    if (reason && !(c->reason = strdup(reason)))
        return gl_err_set(err, GL_ENOMEM, "out of memory");
    r->n++;
    switch (status) {
    case GL_BLOCK_MATCH: r->matched++; break;
    case GL_BLOCK_MISMATCH: r->mismatched++; break;
    case GL_BLOCK_NOT_CHECKED: r->not_checked++; break;
    }
    return GL_OK;
}

/* ------------------------------------------------------------- the checks */

static gl_code check_header(gl_block_report *r, const json_t *b, gl_err *err)
{
    uint8_t h[32];
    gl_code rc = gl_block_header_hash(&r->header, h, err);
    if (rc)
        return rc;
    if (!field(b, "hash"))
        return add_check(r, GL_CHECK_HEADER_HASH, "hash", GL_BLOCK_NOT_CHECKED, NULL, h, 32,
                         "the block has no 'hash' (a pending block?)", err);
    if ((rc = field_fixed(b, "hash", r->hash, 32, err)))
        return rc;
    r->has_hash = true;
    return add_check(r, GL_CHECK_HEADER_HASH, "hash", GL_BLOCK_MATCH, r->hash, h, 32, NULL, err);
}

static gl_code check_uncles(gl_block_report *r, const json_t *b, gl_err *err)
{
    const json_t *u = field(b, "uncles");
    if (!u)
        return add_check(r, GL_CHECK_UNCLES_HASH, "sha3Uncles", GL_BLOCK_NOT_CHECKED,
                         r->header.uncles_hash, NULL, 32, "the block has no 'uncles' list", err);
    if (!json_is_array(u))
        return gl_err_set(err, GL_EINVAL, "field 'uncles' is not a list");
    if (json_array_size(u) == 0)
        return add_check(r, GL_CHECK_UNCLES_HASH, "sha3Uncles", GL_BLOCK_MATCH, r->header.uncles_hash,
                         EMPTY_UNCLES, 32, NULL, err);
    return add_check(r, GL_CHECK_UNCLES_HASH, "sha3Uncles", GL_BLOCK_NOT_CHECKED, r->header.uncles_hash,
                     NULL, 32, "uncle headers are not in a block object (only their hashes)", err);
}

/* RLP field names of each transaction type, for naming what `raw` and the
 * JSON fields disagree on. */
static const char *const TX_FIELDS[5][14] = {
    {"nonce", "gasPrice", "gas", "to", "value", "input", "v", "r", "s"},
    {"chainId", "nonce", "gasPrice", "gas", "to", "value", "input", "accessList", "yParity", "r", "s"},
    {"chainId", "nonce", "maxPriorityFeePerGas", "maxFeePerGas", "gas", "to", "value", "input",
     "accessList", "yParity", "r", "s"},
    {"chainId", "nonce", "maxPriorityFeePerGas", "maxFeePerGas", "gas", "to", "value", "input",
     "accessList", "maxFeePerBlobGas", "blobVersionedHashes", "yParity", "r", "s"},
    {"chainId", "nonce", "maxPriorityFeePerGas", "maxFeePerGas", "gas", "to", "value", "input",
     "accessList", "authorizationList", "yParity", "r", "s"},
};

/* Split a signed envelope into its type (0 for legacy) and RLP list. */
static int envelope(const uint8_t *p, size_t n, unsigned *type, gl_rlp_item *list)
{
    *type = 0;
    if (n && p[0] < 0x80) {
        *type = p[0];
        p++;
        n--;
    }
    return gl_rlp_decode_exact(p, n, list, NULL) || !list->is_list;
}

/* Append ", " (unless first) and "transactions[i].name" to out. */
static gl_code name_field(gl_buf *out, size_t i, const char *name, gl_err *err)
{
    char s[96];
    snprintf(s, sizeof s, "%stransactions[%zu].%s", out->len ? ", " : "", i, name);
    return gl_buf_append(out, s, strlen(s), err);
}

/* Names of the fields where envelopes a (from `raw`) and b (rebuilt from
 * the JSON fields) differ, as "transactions[i].name, ..." into out (not
 * NUL-terminated). */
static gl_code diff_fields(size_t i, const gl_buf *a, const gl_buf *b, gl_buf *out, gl_err *err)
{
    unsigned ta, tb;
    gl_rlp_item la, lb;
    if (envelope(a->data, a->len, &ta, &la) || envelope(b->data, b->len, &tb, &lb))
        return name_field(out, i, "raw", err);
    if (ta != tb || ta > 4)
        return name_field(out, i, "type", err);
    gl_rlp_iter ia, ib;
    gl_rlp_iter_init(&ia, &la);
    gl_rlp_iter_init(&ib, &lb);
    gl_code rc = GL_OK;
    for (size_t k = 0; !rc; k++) {
        gl_rlp_item xa, xb;
        bool ha = false, hb = false;
        const char *fname = k < 14 && TX_FIELDS[ta][k] ? TX_FIELDS[ta][k] : "fields";
        if (gl_rlp_iter_next(&ia, &xa, &ha, NULL) || gl_rlp_iter_next(&ib, &xb, &hb, NULL))
            return name_field(out, i, fname, err);
        if (!ha && !hb)
            break;
        if (ha && hb && xa.raw_len == xb.raw_len && !memcmp(xa.raw, xb.raw, xa.raw_len))
            continue;
        rc = name_field(out, i, fname, err);
        if (!ha || !hb)
            break;
    }
    return rc;
}

/* Parity's `raw`: the JSON fields must re-encode to exactly those bytes. */
static gl_code check_raw(gl_block_report *r, size_t i, const json_t *obj, const gl_buf *env, gl_err *err)
{
    char fname[48];
    snprintf(fname, sizeof fname, "transactions[%zu].raw", i);
    gl_buf raw = GL_BUF_INIT, diff = GL_BUF_INIT;
    gl_code rc = field_bytes(obj, "raw", &raw, err);
    if (rc) {
        gl_err_prefix(err, "transactions[%zu]: ", i);
        gl_buf_release(&raw);
        return rc;
    }
    /* A typed transaction may come wrapped in an RLP string, as block bodies
     * carry it: compare the envelope inside. */
    gl_rlp_item it;
    if (raw.len && raw.data[0] >= 0x80 && raw.data[0] < 0xc0 &&
        !gl_rlp_decode_exact(raw.data, raw.len, &it, NULL)) {
        memmove(raw.data, it.payload, it.payload_len);
        raw.len = it.payload_len;
    }
    uint8_t hr[32], he[32];
    gl_keccak256(raw.data, raw.len, hr);
    gl_keccak256(env->data, env->len, he);
    rc = add_check(r, GL_CHECK_TX_RAW, fname, GL_BLOCK_MATCH, hr, he, 32, NULL, err);
    if (!rc && r->checks[r->n - 1].status == GL_BLOCK_MISMATCH) {
        rc = diff_fields(i, &raw, env, &diff, err);
        gl_block_check *c = &r->checks[r->n - 1];
        if (!rc && !(c->reason = strdup("the hashes are of 'raw' and of the fields re-encoded")))
            rc = gl_err_set(err, GL_ENOMEM, "out of memory");
        if (!rc && diff.len && !(c->differs = strndup((const char *)diff.data, diff.len)))
            rc = gl_err_set(err, GL_ENOMEM, "out of memory");
    }
    gl_buf_release(&raw);
    gl_buf_release(&diff);
    return rc;
}

/* Sender: recovered from the signature vs the claimed `from`. */
static gl_code check_sender(gl_block_report *r, const gl_secp *secp, size_t i, const json_t *obj,
                            const gl_tx *tx, gl_err *err)
{
    char fname[48];
    snprintf(fname, sizeof fname, "transactions[%zu].from", i);
    uint8_t from[20], got[20];
    gl_code rc = field_fixed(obj, "from", from, 20, err);
    if (rc)
        return gl_err_prefix(err, "transactions[%zu]: ", i);
    if (!secp)
        return add_check(r, GL_CHECK_TX_SENDER, fname, GL_BLOCK_NOT_CHECKED, from, NULL, 20,
                         "no secp256k1 context given", err);
    /* Frontier allowed s > n/2; every chain with London has EIP-2. */
    unsigned flags = (r->header.ext & GL_BLOCK_HAS_BASE_FEE) ? 0 : GL_TX_ALLOW_HIGH_S;
    gl_err why = {0};
    if (gl_tx_recover_sender_ex(secp, tx, flags, got, &why)) {
        if (why.code == GL_ENOMEM)
            return gl_err_set(err, GL_ENOMEM, "%s", why.msg);
        char reason[GL_ERR_MSG_MAX + 40];
        snprintf(reason, sizeof reason, "no sender can be recovered: %s", why.msg);
        return add_check(r, GL_CHECK_TX_SENDER, fname, GL_BLOCK_MISMATCH, from, NULL, 20, reason, err);
    }
    return add_check(r, GL_CHECK_TX_SENDER, fname, GL_BLOCK_MATCH, from, got, 20, NULL, err);
}

/* One full transaction object: rebuild, hash, recover; append its signed
 * envelope to envs[i] for the root.  *skip is set (and a reason checked as
 * not done) when its type cannot be rebuilt. */
static gl_code check_tx(gl_block_report *r, const gl_secp *secp, size_t i, const json_t *obj,
                        gl_buf *env, bool *skip, gl_err *err)
{
    char fname[48];
    snprintf(fname, sizeof fname, "transactions[%zu].hash", i);
    uint8_t claimed[32], h[32];
    gl_tx tx;
    gl_tx_init(&tx);
    *skip = false;
    gl_code rc = field_fixed(obj, "hash", claimed, 32, err);
    if (rc) {
        gl_err_prefix(err, "transactions[%zu]: ", i);
        goto out;
    }
    gl_err why = {0};
    rc = gl_tx_from_json_ex(&tx, obj, GL_TX_ALLOW_HIGH_S, &why);
    if (rc == GL_ENOTSUP) {
        char reason[GL_ERR_MSG_MAX + 40];
        snprintf(reason, sizeof reason, "cannot rebuild this transaction: %s", why.msg);
        *skip = true;
        rc = add_check(r, GL_CHECK_TX_HASH, fname, GL_BLOCK_NOT_CHECKED, claimed, NULL, 32, reason, err);
        goto out;
    }
    if (rc) {
        rc = gl_err_set(err, rc, "transactions[%zu]: %s", i, why.msg);
        goto out;
    }
    if ((rc = gl_tx_encode(&tx, env, err)))
        goto out;
    gl_keccak256(env->data, env->len, h);
    if ((rc = add_check(r, GL_CHECK_TX_HASH, fname, GL_BLOCK_MATCH, claimed, h, 32, NULL, err)))
        goto out;
    if ((rc = check_sender(r, secp, i, obj, &tx, err)))
        goto out;
    if (field(obj, "raw"))
        rc = check_raw(r, i, obj, env, err);
out:
    gl_tx_release(&tx);
    return rc;
}

static void free_bufs(gl_buf *v, size_t n)
{
    for (size_t i = 0; i < n && v; i++)
        gl_buf_release(&v[i]);
    free(v);
}

/* Check that every entry of `list` is a JSON string holding a 32-byte hash. */
static gl_code check_hash_list(const json_t *list, gl_err *err)
{
    size_t i;
    const json_t *v;
    uint8_t h[32];
    json_array_foreach(list, i, v) {
        if (!json_is_string(v))
            return gl_err_set(err, GL_EINVAL, "transactions[%zu] is neither an object nor a hash "
                              "(transactions[0] is a hash)", i);
        if (gl_hex_decode_exact(json_string_value(v), h, 32, err))
            return gl_err_prefix(err, "transactions[%zu]: ", i);
    }
    return GL_OK;
}

static gl_code check_txs(gl_block_report *r, const gl_secp *secp, const json_t *b, gl_err *err)
{
    const json_t *txs = field(b, "transactions");
    const uint8_t *root = r->header.tx_root;
    if (!txs)
        return add_check(r, GL_CHECK_TX_ROOT, "transactionsRoot", GL_BLOCK_NOT_CHECKED, root, NULL, 32,
                         "the block has no 'transactions' list (a header only)", err);
    if (!json_is_array(txs))
        return gl_err_set(err, GL_EINVAL, "field 'transactions' is not a list");
    size_t n = json_array_size(txs);
    r->ntx = n;
    if (n && json_is_string(json_array_get(txs, 0))) {
        gl_code rc = check_hash_list(txs, err);
        return rc ? rc : add_check(r, GL_CHECK_TX_ROOT, "transactionsRoot", GL_BLOCK_NOT_CHECKED, root, NULL,
                                   32, "the transactions are hashes only: fetch the block with full "
                                   "transactions (eth_getBlockByNumber(n, true))", err);
    }
    gl_buf *envs = n ? calloc(n, sizeof *envs) : NULL;
    if (n && !envs)
        return gl_err_set(err, GL_ENOMEM, "out of memory for %zu transactions", n);
    /* The root's check goes before the transactions' own. */
    size_t root_at = r->n;
    gl_code rc = add_check(r, GL_CHECK_TX_ROOT, "transactionsRoot", GL_BLOCK_NOT_CHECKED, root, NULL, 32,
                           NULL, err);
    size_t skipped = 0, first_skipped = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        const json_t *obj = json_array_get(txs, i);
        bool skip = false;
        if (!json_is_object(obj))
            rc = gl_err_set(err, GL_EINVAL, "transactions[%zu] is not an object (transactions[0] is)", i);
        else
            rc = check_tx(r, secp, i, obj, &envs[i], &skip, err);
        if (skip && !skipped++)
            first_skipped = i;
    }
    if (!rc) {
        gl_block_check *c = &r->checks[root_at];
        uint8_t got[32];
        r->not_checked--;
        if (skipped) {
            char reason[160];
            snprintf(reason, sizeof reason, "%zu transaction(s) could not be rebuilt (the first: "
                     "transactions[%zu])", skipped, first_skipped);
            r->not_checked++;
            if (!(c->reason = strdup(reason)))
                rc = gl_err_set(err, GL_ENOMEM, "out of memory");
        } else if (!(rc = gl_trie_ordered_root(got, envs, n, err))) {
            gl_hex_encode(got, 32, true, c->computed);
            c->status = memcmp(got, root, 32) ? GL_BLOCK_MISMATCH : GL_BLOCK_MATCH;
            if (c->status == GL_BLOCK_MATCH)
                r->matched++;
            else
                r->mismatched++;
        }
    }
    free_bufs(envs, n);
    return rc;
}

/* One withdrawal as the trie stores it: rlp([index, validatorIndex,
 * address, amount]). */
static gl_code encode_withdrawal(size_t i, const json_t *w, gl_buf *out, gl_err *err)
{
    uint64_t index, validator, amount;
    uint8_t addr[20];
    if (!json_is_object(w))
        return gl_err_set(err, GL_EINVAL, "withdrawals[%zu] is not an object", i);
    gl_code rc = field_u64(w, "index", &index, err);
    if (!rc) rc = field_u64(w, "validatorIndex", &validator, err);
    if (!rc) rc = field_fixed(w, "address", addr, 20, err);
    if (!rc) rc = field_u64(w, "amount", &amount, err);
    if (rc)
        return gl_err_prefix(err, "withdrawals[%zu]: ", i);
    size_t begin = gl_rlp_list_begin(out);
    if (!rc) rc = gl_rlp_put_u64(out, index, err);
    if (!rc) rc = gl_rlp_put_u64(out, validator, err);
    if (!rc) rc = gl_rlp_put_bytes(out, addr, 20, err);
    if (!rc) rc = gl_rlp_put_u64(out, amount, err);
    if (!rc) rc = gl_rlp_list_end(out, begin, err);
    return rc;
}

static gl_code check_withdrawals(gl_block_report *r, const json_t *b, gl_err *err)
{
    const json_t *ws = field(b, "withdrawals");
    if (!(r->header.ext & GL_BLOCK_HAS_WITHDRAWALS_ROOT)) {
        if (ws && (!json_is_array(ws) || json_array_size(ws)))
            return gl_err_set(err, GL_EINVAL, "field 'withdrawals' is present but 'withdrawalsRoot' is missing");
        return GL_OK;
    }
    const uint8_t *root = r->header.withdrawals_root;
    if (!ws)
        return add_check(r, GL_CHECK_WITHDRAWALS_ROOT, "withdrawalsRoot", GL_BLOCK_NOT_CHECKED, root, NULL, 32,
                         "the block has no 'withdrawals' list", err);
    if (!json_is_array(ws))
        return gl_err_set(err, GL_EINVAL, "field 'withdrawals' is not a list");
    size_t n = json_array_size(ws);
    gl_buf *vals = n ? calloc(n, sizeof *vals) : NULL;
    if (n && !vals)
        return gl_err_set(err, GL_ENOMEM, "out of memory for %zu withdrawals", n);
    gl_code rc = GL_OK;
    for (size_t i = 0; i < n && !rc; i++)
        rc = encode_withdrawal(i, json_array_get(ws, i), &vals[i], err);
    uint8_t got[32];
    if (!rc)
        rc = gl_trie_ordered_root(got, vals, n, err);
    if (!rc)
        rc = add_check(r, GL_CHECK_WITHDRAWALS_ROOT, "withdrawalsRoot", GL_BLOCK_MATCH, root, got, 32, NULL, err);
    free_bufs(vals, n);
    return rc;
}

gl_code gl_block_verify(const gl_secp *secp, const json_t *doc, gl_block_report *out, gl_err *err)
{
    return gl_block_verify_ex(secp, doc, 0, out, err);
}

gl_code gl_block_verify_ex(const gl_secp *secp, const json_t *doc, unsigned flags, gl_block_report *out,
                           gl_err *err)
{
    gl_block_report_release(out);
    const json_t *b;
    gl_code rc = gl_block_unwrap(doc, &b, err);
    if (!rc) rc = gl_block_header_from_json_ex(&out->header, b, flags, err);
    if (!rc) rc = check_header(out, b, err);
    if (!rc) rc = check_uncles(out, b, err);
    if (!rc) rc = check_txs(out, secp, b, err);
    if (!rc) rc = check_withdrawals(out, b, err);
    if (!rc)
        rc = add_check(out, GL_CHECK_RECEIPTS_ROOT, "receiptsRoot", GL_BLOCK_NOT_CHECKED,
                       out->header.receipts_root, NULL, 32,
                       "receipts are not in a block object (eth_getBlockReceipts has them)", err);
    if (rc)
        gl_block_report_release(out);
    return rc;
}

/* ------------------------------------------------------- report as JSON */

static json_t *jdiffers(const char *list)
{
    json_t *a = json_array();
    const char *p = list;
    while (a && *p) {
        const char *end = strstr(p, ", ");
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (json_array_append_new(a, json_stringn(p, len))) {
            json_decref(a);
            return NULL;
        }
        p += len + (end ? 2 : 0);
    }
    return a;
}

static json_t *check_to_json(const gl_block_report *r, const gl_block_check *c, gl_err *err)
{
    json_t *o = json_object();
    int bad = !o;
    if (!bad) {
        bad |= jset(o, "check", json_string(gl_block_check_name(c->kind)));
        bad |= jset(o, "field", json_string(c->field));
        bad |= jset(o, "status", json_string(gl_block_status_name(c->status)));
        bad |= jset(o, "claimed", c->claimed[0] ? json_string(c->claimed) : json_null());
        bad |= jset(o, "computed", c->computed[0] ? json_string(c->computed) : json_null());
        if (c->reason)
            bad |= jset(o, "reason", json_string(c->reason));
        if (c->differs)
            bad |= jset(o, "differs", jdiffers(c->differs));
        if (c->kind == GL_CHECK_HEADER_HASH && c->status == GL_BLOCK_MISMATCH)
            bad |= jset(o, "header", gl_block_header_to_json(&r->header, NULL));
    }
    if (bad) {
        json_decref(o);
        gl_err_set(err, GL_ENOMEM, "out of memory rendering a report");
        return NULL;
    }
    return o;
}

json_t *gl_block_report_to_json(const gl_block_report *r, gl_err *err)
{
    json_t *o = json_object(), *checks = json_array();
    int bad = !o || !checks;
    for (size_t i = 0; i < r->n && !bad; i++)
        bad |= json_array_append_new(checks, check_to_json(r, &r->checks[i], NULL));
    if (!bad) {
        bad |= json_object_set_new(o, "number", json_integer((json_int_t)r->header.number));
        bad |= jset(o, "hash", r->has_hash ? jhex(r->hash, 32) : json_null());
        bad |= jset(o, "fork", json_string(gl_block_fork_name(&r->header)));
        bad |= jset(o, "transactions", json_integer((json_int_t)r->ntx));
        bad |= jset(o, "ok", json_boolean(r->mismatched == 0));
        bad |= jset(o, "matched", json_integer((json_int_t)r->matched));
        bad |= jset(o, "mismatched", json_integer((json_int_t)r->mismatched));
        bad |= jset(o, "not_checked", json_integer((json_int_t)r->not_checked));
        bad |= json_object_set(o, "checks", checks);
    }
    json_decref(checks);
    if (bad) {
        json_decref(o);
        gl_err_set(err, GL_ENOMEM, "out of memory rendering a report");
        return NULL;
    }
    return o;
}
