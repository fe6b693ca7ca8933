/* store_keys.c - the byte layouts of the store's keys and values.
 *
 * Pure functions, no RocksDB: every key and value of every column family is
 * built and parsed here, exactly as docs/STORE.md describes them, so the
 * layout has one home.  Fixed-size records (blocks, txs, transfers, cursors)
 * are fixed-offset byte strings; events and labels use a small tag-length-
 * value format (see "Events" in docs/STORE.md for why).  Decoders are strict:
 * a wrong length, an unknown critical tag, fields out of order or a value
 * out of range is GL_EINVAL, which the store reports as damage.
 */
#include <string.h>

#include "gpuledger/store.h"

static bool all_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return false;
    return true;
}

/* ---------------------------------------------------------- names, text */

bool gl_store_name_ok(const char *name)
{
    if (!name || !name[0])
        return false;
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)name; *p; p++, n++)
        if (*p < 0x21 || *p > 0x7e || n + 1 >= GL_STORE_NAME_MAX)
            return false;
    return true;
}

/* Free text: at most cap-1 bytes, no control characters (UTF-8 passes). */
static bool text_ok(const char *s, size_t cap)
{
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++, n++)
        if (*p < 0x20 || *p == 0x7f || n + 1 >= cap)
            return false;
    return true;
}

static gl_code check_name(const char *what, const char *name, gl_err *err)
{
    if (gl_store_name_ok(name))
        return GL_OK;
    return gl_err_set(err, GL_EINVAL,
                      "%s '%.80s' is not a valid name (1 to %d printable ASCII characters, "
                      "no spaces)",
                      what, name ? name : "(null)", GL_STORE_NAME_MAX - 1);
}

static gl_code check_chain(uint64_t chain_id, gl_err *err)
{
    if (chain_id == 0 || chain_id == UINT64_MAX)
        return gl_err_set(err, GL_EINVAL, "chain id %llu is not a chain",
                          (unsigned long long)chain_id);
    return GL_OK;
}

/* Copy `n` bytes of stored text into a NUL-terminated field of size cap. */
static gl_code text_in(char *dst, size_t cap, const uint8_t *src, size_t n, bool name,
                       const char *what, gl_err *err)
{
    if (n == 0 || n >= cap)
        return gl_err_set(err, GL_EINVAL, "%s of %zu bytes (1 to %zu allowed)", what, n, cap - 1);
    memcpy(dst, src, n);
    dst[n] = '\0';
    if (memchr(src, 0, n) || (name ? !gl_store_name_ok(dst) : !text_ok(dst, cap)))
        return gl_err_set(err, GL_EINVAL, "%s holds a forbidden byte", what);
    return GL_OK;
}

/* ----------------------------------------------------------------- roles */

const char *gl_store_role_name(gl_store_role role)
{
    switch (role) {
    case GL_STORE_ROLE_TX_FROM: return "tx_from";
    case GL_STORE_ROLE_TX_TO: return "tx_to";
    case GL_STORE_ROLE_SENDER: return "sender";
    case GL_STORE_ROLE_RECIPIENT: return "recipient";
    case GL_STORE_ROLE_BUYER: return "buyer";
    case GL_STORE_ROLE_PROVIDER: return "provider";
    case GL_STORE_ROLE_PAYER: return "payer";
    case GL_STORE_ROLE_FUNDER: return "funder";
    case GL_STORE_ROLE_SPENDER: return "spender";
    case GL_STORE_ROLE_BENEFICIARY: return "beneficiary";
    case GL_STORE_ROLE_CONTRACT: return "contract";
    case GL_STORE_ROLE_TOKEN: return "token";
    case GL_STORE_ROLE_OWNER: return "owner";
    }
    return NULL;
}

gl_code gl_store_role_parse(const char *name, gl_store_role *out, gl_err *err)
{
    for (int r = 1; r <= (int)GL_STORE_ROLE_LAST; r++) {
        const char *n = gl_store_role_name((gl_store_role)r);
        if (name && n && strcmp(n, name) == 0) {
            *out = (gl_store_role)r;
            return GL_OK;
        }
    }
    return gl_err_set(err, GL_EINVAL, "unknown role '%.80s'", name ? name : "(null)");
}

static bool role_ok(unsigned r)
{
    return r >= 1 && r <= (unsigned)GL_STORE_ROLE_LAST;
}

/* ------------------------------------------------------------------ keys */

void gl_store_key_block(uint8_t out[GL_STORE_BLOCK_KEY_LEN], uint64_t chain_id, uint64_t number)
{
    gl_store_be64_put(out, chain_id);
    gl_store_be64_put(out + 8, number);
}

void gl_store_key_tx(uint8_t out[GL_STORE_TX_KEY_LEN], uint64_t chain_id, uint64_t block,
                     uint32_t index)
{
    gl_store_key_block(out, chain_id, block);
    gl_store_be32_put(out + 16, index);
}

void gl_store_key_event(uint8_t out[GL_STORE_EVENT_KEY_LEN], uint64_t chain_id, uint64_t block,
                        uint32_t log_index)
{
    gl_store_key_tx(out, chain_id, block, log_index);
}

void gl_store_key_pos(uint8_t out[GL_STORE_POS_LEN], const gl_store_pos *pos)
{
    gl_store_key_block(out, pos->chain_id, pos->block);
    out[16] = (uint8_t)pos->kind;
    gl_store_be32_put(out + 17, pos->index);
    gl_store_be32_put(out + 21, pos->sub);
}

static gl_code pos_check(const gl_store_pos *pos, gl_err *err)
{
    if (check_chain(pos->chain_id, err))
        return GL_EINVAL;
    switch (pos->kind) {
    case GL_STORE_POS_TX:
        if (pos->sub != 0)
            return gl_err_set(err, GL_EINVAL, "a tx position has sub %u, not 0", pos->sub);
        return GL_OK;
    case GL_STORE_POS_LOG:
    case GL_STORE_POS_TRACE:
        return GL_OK;
    }
    return gl_err_set(err, GL_EINVAL, "unknown position kind %d", (int)pos->kind);
}

gl_code gl_store_pos_decode(gl_store_pos *out, const uint8_t in[GL_STORE_POS_LEN], gl_err *err)
{
    out->chain_id = gl_store_be64_get(in);
    out->block = gl_store_be64_get(in + 8);
    out->kind = (gl_store_pos_kind)in[16];
    out->index = gl_store_be32_get(in + 17);
    out->sub = gl_store_be32_get(in + 21);
    if (in[16] > GL_STORE_POS_TRACE)
        return gl_err_set(err, GL_EINVAL, "unknown position kind %u", in[16]);
    return pos_check(out, err);
}

static gl_code appearance_check(const gl_store_appearance *a, gl_err *err)
{
    if (pos_check(&a->pos, err))
        return GL_EINVAL;
    if (!role_ok((unsigned)a->role))
        return gl_err_set(err, GL_EINVAL, "unknown role %d", (int)a->role);
    return GL_OK;
}

gl_code gl_store_key_appearance(uint8_t out[GL_STORE_APPEARANCE_KEY_LEN],
                                const gl_store_appearance *a, bool by_address, gl_err *err)
{
    if (appearance_check(a, err))
        return GL_EINVAL;
    if (by_address) {
        memcpy(out, a->addr, GL_STORE_ADDR_LEN);
        gl_store_key_pos(out + 20, &a->pos);
        out[45] = (uint8_t)a->role;
    } else {
        gl_store_key_pos(out, &a->pos);
        out[25] = (uint8_t)a->role;
        memcpy(out + 26, a->addr, GL_STORE_ADDR_LEN);
    }
    return GL_OK;
}

gl_code gl_store_appearance_decode(gl_store_appearance *out,
                                   const uint8_t in[GL_STORE_APPEARANCE_KEY_LEN], bool by_address,
                                   gl_err *err)
{
    const uint8_t *pos = by_address ? in + 20 : in;
    const uint8_t *addr = by_address ? in : in + 26;
    uint8_t role = by_address ? in[45] : in[25];
    memcpy(out->addr, addr, GL_STORE_ADDR_LEN);
    out->role = (gl_store_role)role;
    if (gl_store_pos_decode(&out->pos, pos, err))
        return GL_EINVAL;
    if (!role_ok(role))
        return gl_err_set(err, GL_EINVAL, "unknown role %u", role);
    return GL_OK;
}

gl_code gl_store_key_cursor(gl_buf *out, uint64_t chain_id, const char *name, gl_err *err)
{
    if (check_chain(chain_id, err) || check_name("cursor", name, err))
        return GL_EINVAL;
    uint8_t c[8];
    gl_store_be64_put(c, chain_id);
    if (gl_buf_append(out, c, 8, err) || gl_buf_append(out, name, strlen(name), err))
        return GL_ENOMEM;
    return GL_OK;
}

static gl_code key_len(const char *what, size_t klen, size_t want, gl_err *err)
{
    if (klen != want)
        return gl_err_set(err, GL_EINVAL, "%s key of %zu bytes, not %zu", what, klen, want);
    return GL_OK;
}

static gl_code val_len(const char *what, size_t vlen, size_t want, gl_err *err)
{
    if (vlen != want)
        return gl_err_set(err, GL_EINVAL, "%s value of %zu bytes, not %zu", what, vlen, want);
    return GL_OK;
}

/* ---------------------------------------------------- fixed-size values */

gl_code gl_store_block_encode(const gl_store_block *blk, uint8_t out[GL_STORE_BLOCK_VAL_LEN],
                              gl_err *err)
{
    if (check_chain(blk->chain_id, err))
        return GL_EINVAL;
    memcpy(out, blk->hash, 32);
    memcpy(out + 32, blk->parent_hash, 32);
    gl_store_be64_put(out + 64, blk->timestamp);
    gl_store_be32_put(out + 72, blk->verified);
    return GL_OK;
}

gl_code gl_store_block_decode(gl_store_block *out, const uint8_t *key, size_t klen,
                              const uint8_t *val, size_t vlen, gl_err *err)
{
    if (key_len("block", klen, GL_STORE_BLOCK_KEY_LEN, err) ||
        val_len("block", vlen, GL_STORE_BLOCK_VAL_LEN, err))
        return GL_EINVAL;
    out->chain_id = gl_store_be64_get(key);
    out->number = gl_store_be64_get(key + 8);
    memcpy(out->hash, val, 32);
    memcpy(out->parent_hash, val + 32, 32);
    out->timestamp = gl_store_be64_get(val + 64);
    out->verified = gl_store_be32_get(val + 72);
    return check_chain(out->chain_id, err);
}

gl_code gl_store_tx_encode(const gl_store_tx *tx, uint8_t out[GL_STORE_TX_VAL_LEN], gl_err *err)
{
    if (check_chain(tx->chain_id, err))
        return GL_EINVAL;
    memcpy(out, tx->hash, 32);
    memcpy(out + 32, tx->from, 20);
    out[52] = tx->has_to ? 1 : 0;
    if (tx->has_to)
        memcpy(out + 53, tx->to, 20);
    else
        memset(out + 53, 0, 20);
    gl_u256_to_be(&tx->value, out + 73);
    gl_store_be32_put(out + 105, tx->flags);
    return GL_OK;
}

gl_code gl_store_tx_decode(gl_store_tx *out, const uint8_t *key, size_t klen, const uint8_t *val,
                           size_t vlen, gl_err *err)
{
    if (key_len("tx", klen, GL_STORE_TX_KEY_LEN, err) ||
        val_len("tx", vlen, GL_STORE_TX_VAL_LEN, err))
        return GL_EINVAL;
    memset(out, 0, sizeof *out);
    out->chain_id = gl_store_be64_get(key);
    out->block = gl_store_be64_get(key + 8);
    out->index = gl_store_be32_get(key + 16);
    memcpy(out->hash, val, 32);
    memcpy(out->from, val + 32, 20);
    if (val[52] > 1 || (val[52] == 0 && !all_zero(val + 53, 20)))
        return gl_err_set(err, GL_EINVAL, "tx has a bad 'to' flag %u", val[52]);
    out->has_to = val[52] == 1;
    memcpy(out->to, val + 53, 20);
    if (gl_u256_from_be(&out->value, val + 73, 32, err))
        return GL_EINVAL;
    out->flags = gl_store_be32_get(val + 105);
    return check_chain(out->chain_id, err);
}

static gl_code transfer_check(const gl_store_transfer *t, gl_err *err)
{
    if (pos_check(&t->pos, err))
        return GL_EINVAL;
    switch (t->asset) {
    case GL_STORE_ASSET_NATIVE:
        if (t->pos.kind == GL_STORE_POS_LOG)
            return gl_err_set(err, GL_EINVAL, "a native transfer at a log position");
        if (!all_zero(t->token, 20) || !gl_u256_is_zero(&t->token_id))
            return gl_err_set(err, GL_EINVAL, "a native transfer with a token or token id");
        return GL_OK;
    case GL_STORE_ASSET_ERC20:
        if (!gl_u256_is_zero(&t->token_id))
            return gl_err_set(err, GL_EINVAL, "an ERC-20 transfer with a token id");
        /* fall through */
    case GL_STORE_ASSET_ERC721:
    case GL_STORE_ASSET_ERC1155:
        if (t->pos.kind != GL_STORE_POS_LOG)
            return gl_err_set(err, GL_EINVAL, "a token transfer outside a log position");
        return GL_OK;
    }
    return gl_err_set(err, GL_EINVAL, "unknown asset kind %d", (int)t->asset);
}

gl_code gl_store_transfer_encode(const gl_store_transfer *t,
                                 uint8_t out[GL_STORE_TRANSFER_VAL_LEN], gl_err *err)
{
    if (transfer_check(t, err))
        return GL_EINVAL;
    out[0] = (uint8_t)t->asset;
    memcpy(out + 1, t->token, 20);
    memcpy(out + 21, t->from, 20);
    memcpy(out + 41, t->to, 20);
    gl_u256_to_be(&t->amount, out + 61);
    gl_u256_to_be(&t->token_id, out + 93);
    memcpy(out + 125, t->tx_hash, 32);
    gl_store_be32_put(out + 157, t->flags);
    return GL_OK;
}

gl_code gl_store_transfer_decode(gl_store_transfer *out, const uint8_t *key, size_t klen,
                                 const uint8_t *val, size_t vlen, gl_err *err)
{
    if (key_len("transfer", klen, GL_STORE_POS_LEN, err) ||
        val_len("transfer", vlen, GL_STORE_TRANSFER_VAL_LEN, err))
        return GL_EINVAL;
    memset(out, 0, sizeof *out);
    if (gl_store_pos_decode(&out->pos, key, err))
        return GL_EINVAL;
    if (val[0] > GL_STORE_ASSET_ERC1155)
        return gl_err_set(err, GL_EINVAL, "unknown asset kind %u", val[0]);
    out->asset = (gl_store_asset)val[0];
    memcpy(out->token, val + 1, 20);
    memcpy(out->from, val + 21, 20);
    memcpy(out->to, val + 41, 20);
    if (gl_u256_from_be(&out->amount, val + 61, 32, err) ||
        gl_u256_from_be(&out->token_id, val + 93, 32, err))
        return GL_EINVAL;
    memcpy(out->tx_hash, val + 125, 32);
    out->flags = gl_store_be32_get(val + 157);
    return transfer_check(out, err);
}

gl_code gl_store_cursor_decode(gl_store_cursor *out, const uint8_t *key, size_t klen,
                               const uint8_t *val, size_t vlen, gl_err *err)
{
    memset(out, 0, sizeof *out);
    if (klen < 9 || klen > 8 + GL_STORE_NAME_MAX - 1)
        return gl_err_set(err, GL_EINVAL, "cursor key of %zu bytes", klen);
    if (val_len("cursor", vlen, GL_STORE_CURSOR_VAL_LEN, err))
        return GL_EINVAL;
    out->chain_id = gl_store_be64_get(key);
    if (text_in(out->name, sizeof out->name, key + 8, klen - 8, true, "cursor name", err))
        return GL_EINVAL;
    out->block = gl_store_be64_get(val);
    memcpy(out->hash, val + 8, 32);
    return check_chain(out->chain_id, err);
}

/* ------------------------------------------------------------------- TLV
 * value = format byte (GL_STORE_TLV_FORMAT), then fields: tag (1 byte),
 * length (1 byte), data.  Tags ascend; only repeatable tags may repeat.
 * Tags below 0x80 are critical (a reader that does not know one must
 * refuse the record); tags from 0x80 may be skipped by older readers. */

enum {
    EV_PLATFORM = 0x01, EV_NAME = 0x02, EV_CONTRACT = 0x03, EV_TX_HASH = 0x04,
    EV_TX_INDEX = 0x05, EV_TX_FROM = 0x06, EV_ROLE = 0x07, EV_AMOUNT = 0x08,
    EV_TOKEN = 0x09, EV_ID = 0x0a, EV_GPU_MODEL = 0x0b, EV_GPU_COUNT = 0x0c,
    EV_DURATION = 0x0d, EV_GPU_MHOURS = 0x0e, EV_VERIFIED = 0x0f,
};

enum { LB_LABEL = 0x01, LB_CATEGORY = 0x02, LB_CONFIDENCE = 0x03 };

static gl_code tlv_put(gl_buf *out, uint8_t tag, const void *a, size_t alen, const void *b,
                       size_t blen, gl_err *err)
{
    uint8_t h[2] = {tag, (uint8_t)(alen + blen)};
    if (gl_buf_append(out, h, 2, err) || gl_buf_append(out, a, alen, err) ||
        (blen && gl_buf_append(out, b, blen, err)))
        return GL_ENOMEM;
    return GL_OK;
}

static gl_code tlv_be32(gl_buf *out, uint8_t tag, uint32_t v, gl_err *err)
{
    uint8_t b[4];
    gl_store_be32_put(b, v);
    return tlv_put(out, tag, b, 4, NULL, 0, err);
}

static gl_code tlv_be64(gl_buf *out, uint8_t tag, uint64_t v, gl_err *err)
{
    uint8_t b[8];
    gl_store_be64_put(b, v);
    return tlv_put(out, tag, b, 8, NULL, 0, err);
}

static gl_code event_check(const gl_store_event *ev, gl_err *err)
{
    if (check_chain(ev->chain_id, err) || check_name("platform", ev->platform, err) ||
        check_name("event", ev->name, err))
        return GL_EINVAL;
    if (ev->n_roles > GL_STORE_EVENT_ROLES_MAX)
        return gl_err_set(err, GL_EINVAL, "event has %zu roles (at most %d)", ev->n_roles,
                          GL_STORE_EVENT_ROLES_MAX);
    for (size_t i = 0; i < ev->n_roles; i++)
        if (!role_ok((unsigned)ev->roles[i].role))
            return gl_err_set(err, GL_EINVAL, "event role %zu is unknown (%d)", i,
                              (int)ev->roles[i].role);
    if (ev->n_ids > GL_STORE_EVENT_IDS_MAX)
        return gl_err_set(err, GL_EINVAL, "event has %zu ids (at most %d)", ev->n_ids,
                          GL_STORE_EVENT_IDS_MAX);
    for (size_t i = 0; i < ev->n_ids; i++)
        if (check_name("event id", ev->ids[i].name, err))
            return GL_EINVAL;
    if (!text_ok(ev->gpu_model, sizeof ev->gpu_model))
        return gl_err_set(err, GL_EINVAL, "GPU model holds a control character or is too long");
    return GL_OK;
}

gl_code gl_store_event_encode(const gl_store_event *ev, gl_buf *out, gl_err *err)
{
    if (event_check(ev, err))
        return GL_EINVAL;
    size_t start = out->len;
    uint8_t fmt = GL_STORE_TLV_FORMAT, be[32];
    gl_code rc = gl_buf_append(out, &fmt, 1, err);
    rc = rc ? rc : tlv_put(out, EV_PLATFORM, ev->platform, strlen(ev->platform), NULL, 0, err);
    rc = rc ? rc : tlv_put(out, EV_NAME, ev->name, strlen(ev->name), NULL, 0, err);
    rc = rc ? rc : tlv_put(out, EV_CONTRACT, ev->contract, 20, NULL, 0, err);
    rc = rc ? rc : tlv_put(out, EV_TX_HASH, ev->tx_hash, 32, NULL, 0, err);
    rc = rc ? rc : tlv_be32(out, EV_TX_INDEX, ev->tx_index, err);
    if (!rc && ev->has_tx_from)
        rc = tlv_put(out, EV_TX_FROM, ev->tx_from, 20, NULL, 0, err);
    for (size_t i = 0; !rc && i < ev->n_roles; i++) {
        uint8_t r = (uint8_t)ev->roles[i].role;
        rc = tlv_put(out, EV_ROLE, &r, 1, ev->roles[i].addr, 20, err);
    }
    if (!rc && ev->has_amount) {
        gl_u256_to_be(&ev->amount, be);
        rc = tlv_put(out, EV_AMOUNT, be, 32, NULL, 0, err);
    }
    if (!rc && ev->has_token)
        rc = tlv_put(out, EV_TOKEN, ev->token, 20, NULL, 0, err);
    for (size_t i = 0; !rc && i < ev->n_ids; i++)
        rc = tlv_put(out, EV_ID, ev->ids[i].value, 32, ev->ids[i].name, strlen(ev->ids[i].name),
                     err);
    if (!rc && ev->gpu_model[0])
        rc = tlv_put(out, EV_GPU_MODEL, ev->gpu_model, strlen(ev->gpu_model), NULL, 0, err);
    if (!rc && ev->gpu_count)
        rc = tlv_be32(out, EV_GPU_COUNT, ev->gpu_count, err);
    if (!rc && ev->duration_s)
        rc = tlv_be64(out, EV_DURATION, ev->duration_s, err);
    if (!rc && ev->gpu_mhours)
        rc = tlv_be64(out, EV_GPU_MHOURS, ev->gpu_mhours, err);
    if (!rc && ev->verified)
        rc = tlv_be32(out, EV_VERIFIED, ev->verified, err);
    if (rc)
        out->len = start;
    return rc;
}

typedef struct tlv_reader {
    const uint8_t *p, *end;
    int last_tag;
} tlv_reader;

/* Next field: 1 with tag/data/len set, 0 at the end, -1 on a malformed
 * field (err set).  `repeatable` says which tags may repeat. */
static int tlv_next(tlv_reader *r, const char *what, bool (*repeatable)(int), int *tag,
                    const uint8_t **data, size_t *len, gl_err *err)
{
    if (r->p == r->end)
        return 0;
    if (r->end - r->p < 2 || (size_t)(r->end - r->p - 2) < r->p[1]) {
        gl_err_set(err, GL_EINVAL, "%s: truncated field", what);
        return -1;
    }
    *tag = r->p[0];
    *len = r->p[1];
    *data = r->p + 2;
    r->p += 2 + *len;
    if (*tag < r->last_tag || (*tag == r->last_tag && !repeatable(*tag))) {
        gl_err_set(err, GL_EINVAL, "%s: field 0x%02x out of order or repeated", what, *tag);
        return -1;
    }
    r->last_tag = *tag;
    return 1;
}

static gl_code field_len(const char *what, int tag, size_t len, size_t want, gl_err *err)
{
    if (len != want)
        return gl_err_set(err, GL_EINVAL, "%s: field 0x%02x of %zu bytes, not %zu", what, tag, len,
                          want);
    return GL_OK;
}

static bool event_repeatable(int tag)
{
    return tag == EV_ROLE || tag == EV_ID;
}

static gl_code event_field(gl_store_event *ev, int tag, const uint8_t *d, size_t n, gl_err *err)
{
    const char *w = "event";
    switch (tag) {
    case EV_PLATFORM: return text_in(ev->platform, sizeof ev->platform, d, n, true, "platform", err);
    case EV_NAME: return text_in(ev->name, sizeof ev->name, d, n, true, "event name", err);
    case EV_CONTRACT:
        if (field_len(w, tag, n, 20, err))
            return GL_EINVAL;
        memcpy(ev->contract, d, 20);
        return GL_OK;
    case EV_TX_HASH:
        if (field_len(w, tag, n, 32, err))
            return GL_EINVAL;
        memcpy(ev->tx_hash, d, 32);
        return GL_OK;
    case EV_TX_INDEX:
        if (field_len(w, tag, n, 4, err))
            return GL_EINVAL;
        ev->tx_index = gl_store_be32_get(d);
        return GL_OK;
    case EV_TX_FROM:
        if (field_len(w, tag, n, 20, err))
            return GL_EINVAL;
        ev->has_tx_from = true;
        memcpy(ev->tx_from, d, 20);
        return GL_OK;
    case EV_ROLE:
        if (field_len(w, tag, n, 21, err))
            return GL_EINVAL;
        if (ev->n_roles == GL_STORE_EVENT_ROLES_MAX || !role_ok(d[0]))
            return gl_err_set(err, GL_EINVAL, "event: role %u unknown or too many roles", d[0]);
        ev->roles[ev->n_roles].role = (gl_store_role)d[0];
        memcpy(ev->roles[ev->n_roles++].addr, d + 1, 20);
        return GL_OK;
    case EV_AMOUNT:
        if (field_len(w, tag, n, 32, err))
            return GL_EINVAL;
        ev->has_amount = true;
        return gl_u256_from_be(&ev->amount, d, 32, err);
    case EV_TOKEN:
        if (field_len(w, tag, n, 20, err))
            return GL_EINVAL;
        ev->has_token = true;
        memcpy(ev->token, d, 20);
        return GL_OK;
    case EV_ID:
        if (n < 33 || ev->n_ids == GL_STORE_EVENT_IDS_MAX)
            return gl_err_set(err, GL_EINVAL, "event: id field of %zu bytes or too many ids", n);
        memcpy(ev->ids[ev->n_ids].value, d, 32);
        return text_in(ev->ids[ev->n_ids++].name, GL_STORE_NAME_MAX, d + 32, n - 32, true,
                       "event id name", err);
    case EV_GPU_MODEL:
        return text_in(ev->gpu_model, sizeof ev->gpu_model, d, n, false, "GPU model", err);
    case EV_GPU_COUNT:
        if (field_len(w, tag, n, 4, err))
            return GL_EINVAL;
        ev->gpu_count = gl_store_be32_get(d);
        return GL_OK;
    case EV_DURATION:
        if (field_len(w, tag, n, 8, err))
            return GL_EINVAL;
        ev->duration_s = gl_store_be64_get(d);
        return GL_OK;
    case EV_GPU_MHOURS:
        if (field_len(w, tag, n, 8, err))
            return GL_EINVAL;
        ev->gpu_mhours = gl_store_be64_get(d);
        return GL_OK;
    case EV_VERIFIED:
        if (field_len(w, tag, n, 4, err))
            return GL_EINVAL;
        ev->verified = gl_store_be32_get(d);
        return GL_OK;
    }
    if (tag >= 0x80)
        return GL_OK; /* optional field of a later version */
    return gl_err_set(err, GL_EINVAL, "event: unknown critical field 0x%02x", tag);
}

gl_code gl_store_event_decode(gl_store_event *out, const uint8_t *key, size_t klen,
                              const uint8_t *val, size_t vlen, gl_err *err)
{
    memset(out, 0, sizeof *out);
    if (key_len("event", klen, GL_STORE_EVENT_KEY_LEN, err))
        return GL_EINVAL;
    out->chain_id = gl_store_be64_get(key);
    out->block = gl_store_be64_get(key + 8);
    out->log_index = gl_store_be32_get(key + 16);
    if (vlen < 1 || val[0] != GL_STORE_TLV_FORMAT)
        return gl_err_set(err, GL_EINVAL, "event: unknown value format %d", vlen ? val[0] : -1);
    tlv_reader r = {val + 1, val + vlen, 0};
    int tag, got, seen = 0;
    const uint8_t *d;
    size_t n;
    while ((got = tlv_next(&r, "event", event_repeatable, &tag, &d, &n, err)) == 1) {
        if (event_field(out, tag, d, n, err))
            return GL_EINVAL;
        if (tag <= EV_TX_INDEX)
            seen |= 1 << tag;
    }
    if (got < 0)
        return GL_EINVAL;
    if (seen != 0x3e)
        return gl_err_set(err, GL_EINVAL, "event: a required field is missing");
    return check_chain(out->chain_id, err);
}

static gl_code label_check(const gl_store_label *l, gl_err *err)
{
    if (!l->source[0] || !text_ok(l->source, sizeof l->source))
        return gl_err_set(err, GL_EINVAL, "label source is empty, too long or has control bytes");
    if (!l->label[0] || !text_ok(l->label, sizeof l->label))
        return gl_err_set(err, GL_EINVAL, "label is empty, too long or has control bytes");
    if (!text_ok(l->category, sizeof l->category))
        return gl_err_set(err, GL_EINVAL, "label category is too long or has control bytes");
    if (l->confidence > 1000)
        return gl_err_set(err, GL_EINVAL, "label confidence %u is above 1000",
                          (unsigned)l->confidence);
    return GL_OK;
}

gl_code gl_store_label_encode(const gl_store_label *l, gl_buf *out, gl_err *err)
{
    if (label_check(l, err))
        return GL_EINVAL;
    size_t start = out->len;
    uint8_t fmt = GL_STORE_TLV_FORMAT;
    uint8_t conf[2] = {(uint8_t)(l->confidence >> 8), (uint8_t)l->confidence};
    gl_code rc = gl_buf_append(out, &fmt, 1, err);
    rc = rc ? rc : tlv_put(out, LB_LABEL, l->label, strlen(l->label), NULL, 0, err);
    if (!rc && l->category[0])
        rc = tlv_put(out, LB_CATEGORY, l->category, strlen(l->category), NULL, 0, err);
    rc = rc ? rc : tlv_put(out, LB_CONFIDENCE, conf, 2, NULL, 0, err);
    if (rc)
        out->len = start;
    return rc;
}

static bool label_repeatable(int tag)
{
    (void)tag;
    return false;
}

gl_code gl_store_label_decode(gl_store_label *out, const uint8_t *key, size_t klen,
                              const uint8_t *val, size_t vlen, gl_err *err)
{
    memset(out, 0, sizeof *out);
    if (klen < 21 || klen > 20 + GL_STORE_TEXT_MAX - 1)
        return gl_err_set(err, GL_EINVAL, "label key of %zu bytes", klen);
    memcpy(out->addr, key, 20);
    if (text_in(out->source, sizeof out->source, key + 20, klen - 20, false, "label source", err))
        return GL_EINVAL;
    if (vlen < 1 || val[0] != GL_STORE_TLV_FORMAT)
        return gl_err_set(err, GL_EINVAL, "label: unknown value format %d", vlen ? val[0] : -1);
    tlv_reader r = {val + 1, val + vlen, 0};
    int tag, got, seen = 0;
    const uint8_t *d;
    size_t n;
    while ((got = tlv_next(&r, "label", label_repeatable, &tag, &d, &n, err)) == 1) {
        gl_code rc = GL_OK;
        if (tag == LB_LABEL)
            rc = text_in(out->label, sizeof out->label, d, n, false, "label", err);
        else if (tag == LB_CATEGORY)
            rc = text_in(out->category, sizeof out->category, d, n, false, "label category", err);
        else if (tag == LB_CONFIDENCE)
            rc = field_len("label", tag, n, 2, err);
        else if (tag < 0x80)
            rc = gl_err_set(err, GL_EINVAL, "label: unknown critical field 0x%02x", tag);
        if (rc)
            return GL_EINVAL;
        if (tag == LB_CONFIDENCE)
            out->confidence = (uint16_t)((d[0] << 8) | d[1]);
        if (tag < 0x80)
            seen |= 1 << tag;
    }
    if (got < 0)
        return GL_EINVAL;
    if ((seen & 0x0a) != 0x0a)
        return gl_err_set(err, GL_EINVAL, "label: a required field is missing");
    return label_check(out, err);
}
