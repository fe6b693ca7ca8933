/* index_build.c - the indexer's pure building blocks (indexer.h): turning a
 * platform's role values into the fields of a stored event, role values into
 * 32-byte words, and a JSON-RPC receipt into its consensus encoding for the
 * receiptsRoot check.  No I/O here, so each piece is unit-tested alone.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpuledger/indexer.h"
#include "gpuledger/rlp.h"
#include "gpuledger/trie.h"
#include "gpuledger/u256.h"

/* ---------------------------------------------------------------- options */

static const char *const verify_names[] = {
    [GL_INDEXER_VERIFY_NONE] = "none",
    [GL_INDEXER_VERIFY_SENDERS] = "senders",
    [GL_INDEXER_VERIFY_HEADERS] = "headers",
    [GL_INDEXER_VERIFY_FULL] = "full",
};
#define NVERIFY (sizeof verify_names / sizeof verify_names[0])

const char *gl_indexer_verify_name(gl_indexer_verify v)
{
    return (size_t)v < NVERIFY ? verify_names[v] : "?";
}

gl_code gl_indexer_verify_parse(const char *name, gl_indexer_verify *out, gl_err *err)
{
    for (size_t i = 0; name && i < NVERIFY; i++)
        if (!strcmp(name, verify_names[i])) {
            *out = (gl_indexer_verify)i;
            return GL_OK;
        }
    return gl_err_set(err, GL_EINVAL, "unknown verification level '%s' (none, senders, headers, full)",
                      name ? name : "");
}

void gl_indexer_opts_init(gl_indexer_opts *o)
{
    memset(o, 0, sizeof *o);
    o->verify = GL_INDEXER_VERIFY_HEADERS;
}

/* ---------------------------------------------------------------- values */

static bool parse_addr(const json_t *v, uint8_t out[20])
{
    const char *s = json_string_value(v);
    return s && strlen(s) == 42 && s[0] == '0' && s[1] == 'x' && gl_hex_decode_exact(s, out, 20, NULL) == GL_OK;
}

static bool parse_dec_u256(const json_t *v, gl_u256 *out)
{
    const char *s = json_string_value(v);
    if (!s || !*s || s[0] == '-')
        return false;
    return gl_u256_parse_dec(out, s, NULL) == GL_OK;
}

static bool parse_dec_u64(const json_t *v, uint64_t *out)
{
    gl_u256 x;
    return parse_dec_u256(v, &x) && gl_u256_to_u64(&x, out);
}

bool gl_indexer_value_word(const json_t *v, uint8_t out[32])
{
    memset(out, 0, 32);
    if (json_is_object(v)) {
        const char *h = json_string_value(json_object_get(v, "indexed_hash"));
        return h && gl_hex_decode_exact(h, out, 32, NULL) == GL_OK;
    }
    const char *s = json_string_value(v);
    if (!s || !*s)
        return false;
    if (s[0] == '0' && s[1] == 'x') {
        size_t n = strlen(s);
        if (n == 42)
            return gl_hex_decode_exact(s, out + 12, 20, NULL) == GL_OK;
        if (n == 66)
            return gl_hex_decode_exact(s, out, 32, NULL) == GL_OK;
        return false;
    }
    gl_u256 x;
    if (!parse_dec_u256(v, &x))
        return false;
    gl_u256_to_be(&x, out);
    return true;
}

/* ---------------------------------------------------------------- events */

static const struct {
    gl_role role;
    gl_store_role store;
} addr_roles[] = {
    {GL_ROLE_BUYER, GL_STORE_ROLE_BUYER},
    {GL_ROLE_BENEFICIARY, GL_STORE_ROLE_BENEFICIARY},
    {GL_ROLE_PROVIDER, GL_STORE_ROLE_PROVIDER},
    {GL_ROLE_PAYER, GL_STORE_ROLE_PAYER},
};

static void add_role(gl_store_event *ev, gl_store_role role, const uint8_t a[20])
{
    for (size_t i = 0; i < ev->n_roles; i++)
        if (ev->roles[i].role == role && !memcmp(ev->roles[i].addr, a, 20))
            return;
    if (ev->n_roles >= GL_STORE_EVENT_ROLES_MAX)
        return; /* the caller records the rest as appearances */
    ev->roles[ev->n_roles].role = role;
    memcpy(ev->roles[ev->n_roles].addr, a, 20);
    ev->n_roles++;
}

/* Append an id unless the name is taken or there is no room. */
static void add_id(gl_store_event *ev, const char *name, const uint8_t word[32])
{
    if (!gl_store_name_ok(name))
        return;
    for (size_t i = 0; i < ev->n_ids; i++)
        if (!strcmp(ev->ids[i].name, name))
            return;
    if (ev->n_ids >= GL_STORE_EVENT_IDS_MAX)
        return;
    snprintf(ev->ids[ev->n_ids].name, sizeof ev->ids[ev->n_ids].name, "%s", name);
    memcpy(ev->ids[ev->n_ids].value, word, 32);
    ev->n_ids++;
}

/* Copy text without control characters, cut at a UTF-8 boundary. */
static void copy_text(char *dst, size_t cap, const char *src)
{
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)src; *p && n + 1 < cap; p++)
        if (*p >= 0x20 && *p != 0x7f)
            dst[n++] = (char)*p;
    /* Drop a multi-byte sequence the cap cut in two. */
    if (n + 1 >= cap) {
        size_t k = n;
        while (k > 0 && ((unsigned char)dst[k - 1] & 0xc0) == 0x80)
            k--;
        if (k > 0 && ((unsigned char)dst[k - 1] & 0x80)) {
            unsigned char lead = (unsigned char)dst[k - 1];
            size_t want = (lead & 0xe0) == 0xc0 ? 2 : (lead & 0xf0) == 0xe0 ? 3 : (lead & 0xf8) == 0xf0 ? 4 : 1;
            if (n - (k - 1) < want)
                n = k - 1;
        }
    }
    dst[n] = '\0';
}

static gl_code skip(json_t *skipped, gl_role r)
{
    if (skipped && json_array_append_new(skipped, json_string(gl_role_name(r))))
        return GL_ENOMEM;
    return GL_OK;
}

gl_code gl_indexer_event_fill(gl_store_event *ev, const gl_event_map *map, const json_t *roles,
                              json_t **skipped_out, gl_err *err)
{
    json_t *skipped = skipped_out ? json_array() : NULL;
    if (skipped_out && !skipped)
        return gl_err_set(err, GL_ENOMEM, "out of memory");
    gl_code rc = GL_OK;
    uint8_t a[20];

    for (size_t i = 0; i < sizeof addr_roles / sizeof addr_roles[0]; i++) {
        const json_t *v = json_object_get(roles, gl_role_name(addr_roles[i].role));
        if (!v)
            continue;
        bool ok = true;
        if (json_is_array(v)) {
            size_t k;
            const json_t *el;
            json_array_foreach(v, k, el) {
                if (parse_addr(el, a))
                    add_role(ev, addr_roles[i].store, a);
                else
                    ok = false;
            }
        } else if (parse_addr(v, a)) {
            add_role(ev, addr_roles[i].store, a);
        } else {
            ok = false;
        }
        if (!ok && (rc = skip(skipped, addr_roles[i].role)))
            goto oom;
    }

    const json_t *v = json_object_get(roles, "amount");
    if (v) {
        if (parse_dec_u256(v, &ev->amount))
            ev->has_amount = true;
        else if ((rc = skip(skipped, GL_ROLE_AMOUNT)))
            goto oom;
    }
    if ((v = json_object_get(roles, "token"))) {
        const char *s = json_string_value(v);
        static const uint8_t zero[20];
        if (s && !strcmp(s, "native")) {
            ev->has_token = false;
        } else if (parse_addr(v, a)) {
            ev->has_token = memcmp(a, zero, 20) != 0;
            memcpy(ev->token, ev->has_token ? a : zero, 20);
        } else if ((rc = skip(skipped, GL_ROLE_TOKEN))) {
            goto oom;
        }
    }
    if ((v = json_object_get(roles, "lease_id"))) {
        uint8_t w[32];
        const gl_role_source *src = &map->roles[GL_ROLE_LEASE_ID];
        const char *name = (src->kind == GL_SRC_FIELD || src->kind == GL_SRC_FIELD_INDEX) && src->field
                               ? src->field
                               : "lease_id";
        if (gl_indexer_value_word(v, w))
            add_id(ev, name, w);
        else if ((rc = skip(skipped, GL_ROLE_LEASE_ID)))
            goto oom;
    }
    if ((v = json_object_get(roles, "gpu_model"))) {
        if (json_is_string(v))
            copy_text(ev->gpu_model, sizeof ev->gpu_model, json_string_value(v));
        else if ((rc = skip(skipped, GL_ROLE_GPU_MODEL)))
            goto oom;
    }
    if ((v = json_object_get(roles, "gpu_count"))) {
        uint64_t c;
        if (parse_dec_u64(v, &c) && c <= UINT32_MAX)
            ev->gpu_count = (uint32_t)c;
        else if ((rc = skip(skipped, GL_ROLE_GPU_COUNT)))
            goto oom;
    }
    if ((v = json_object_get(roles, "hours"))) {
        uint64_t h;
        if (parse_dec_u64(v, &h) && h <= UINT64_MAX / 3600)
            ev->duration_s = h * 3600;
        else if ((rc = skip(skipped, GL_ROLE_HOURS)))
            goto oom;
    }
    if ((v = json_object_get(roles, "duration_seconds"))) {
        uint64_t s;
        if (parse_dec_u64(v, &s))
            ev->duration_s = s;
        else if ((rc = skip(skipped, GL_ROLE_DURATION_SECONDS)))
            goto oom;
    }
    /* duration_blocks becomes time only with the definition's block time;
     * without it the duration stays unknown rather than guessed. */
    if ((v = json_object_get(roles, "duration_blocks"))) {
        uint64_t b;
        if (map->block_time_ms && parse_dec_u64(v, &b) && b <= UINT64_MAX / map->block_time_ms)
            ev->duration_s = b * map->block_time_ms / 1000;
        else if ((rc = skip(skipped, GL_ROLE_DURATION_BLOCKS)))
            goto oom;
    }
    /* "duration": {"field", "unit"}: the unit's length times the value;
     * minutes and hours are whole seconds, blocks use the block time */
    if ((v = json_object_get(roles, "duration"))) {
        uint64_t d, ms = gl_platform_unit_ms(map->roles[GL_ROLE_DURATION].unit, map->block_time_ms);
        if (ms && parse_dec_u64(v, &d) && d <= UINT64_MAX / ms)
            ev->duration_s = d * ms / 1000;
        else if ((rc = skip(skipped, GL_ROLE_DURATION)))
            goto oom;
    }
    if (ev->gpu_count && ev->duration_s) {
        unsigned __int128 m = (unsigned __int128)ev->gpu_count * ev->duration_s * 1000u / 3600u;
        ev->gpu_mhours = m > UINT64_MAX ? 0 : (uint64_t)m;
    }
    if (skipped_out) {
        if (json_array_size(skipped)) {
            *skipped_out = skipped;
        } else {
            json_decref(skipped);
            *skipped_out = NULL;
        }
    }
    return GL_OK;
oom:
    json_decref(skipped);
    if (skipped_out)
        *skipped_out = NULL;
    return gl_err_set(err, GL_ENOMEM, "out of memory filling event %s", map->event);
}

/* ------------------------------------------------- direct event filling */

static bool value_type(const gl_abi_type *t)
{
    return t->kind == GL_ABI_UINT || t->kind == GL_ABI_INT || t->kind == GL_ABI_ADDRESS || t->kind == GL_ABI_BOOL ||
           t->kind == GL_ABI_FIXED_BYTES;
}

void gl_indexer_direct_plan(gl_direct_plan *plan, const gl_abi_sig *sig, const gl_event_map *map)
{
    memset(plan, 0, sizeof *plan);
    plan->sig = sig;
    const gl_abi_type *in = sig->inputs;
    if (!map || !in)
        return;
    plan->ntopics = sig->anonymous ? 0 : 1;
    for (size_t i = 0; i < in->ncomps; i++) {
        const gl_abi_param *c = &in->comps[i];
        /* gl_abi_decode_log keys its values by name only when all are
         * named and distinct */
        if (!value_type(c->type) || !c->name[0])
            return;
        for (size_t j = 0; j < i; j++)
            if (!strcmp(c->name, in->comps[j].name))
                return;
        if (c->indexed) {
            if (plan->ntopics == 4)
                return;
            plan->topic_type[plan->ntopics++] = c->type;
        } else {
            if (plan->ndata == GL_DIRECT_MAX_DATA)
                return;
            plan->data_type[plan->ndata++] = c->type;
        }
    }
    for (size_t r = 0; r < GL_ROLE_COUNT; r++) {
        const gl_role_source *rs = &map->roles[r];
        gl_direct_src *d = &plan->src[r];
        d->kind = rs->kind;
        if (rs->kind == GL_SRC_NONE)
            continue;
        if (r >= GL_ROLE_GPU_MODEL || rs->per != GL_UNIT_NONE)
            return; /* patterns, durations, rates: the JSON path */
        switch (rs->kind) {
        case GL_SRC_FIELD: {
            size_t ti = sig->anonymous ? 0 : 1, di = 0, i;
            for (i = 0; i < in->ncomps && strcmp(in->comps[i].name, rs->field); i++)
                in->comps[i].indexed ? ti++ : di++;
            if (i == in->ncomps)
                return; /* no such parameter: the JSON path leaves the role unknown */
            d->topic = in->comps[i].indexed;
            d->at = d->topic ? ti : di;
            d->type = in->comps[i].type;
            d->field = rs->field;
            break;
        }
        case GL_SRC_CONST_ADDRESS:
            d->address = rs->address;
            break;
        case GL_SRC_TX_FROM: case GL_SRC_TX_TO: case GL_SRC_LOG_ADDRESS: case GL_SRC_NATIVE:
            break;
        case GL_SRC_NONE: case GL_SRC_FIELD_INDEX: case GL_SRC_FIELD_SHR: case GL_SRC_PATTERN: case GL_SRC_JOIN:
            return;
        }
    }
    plan->token_mapped = plan->src[GL_ROLE_TOKEN].kind != GL_SRC_NONE;
    plan->usable = true;
}

/* One role's value, in the forms the JSON path's value would take. */
typedef struct dvalue {
    bool present;     /* the JSON path has a value for the role */
    bool is_addr;     /* ... a "0x" + 40 hex string */
    uint8_t addr[20];
    bool is_word;     /* ... one gl_indexer_value_word takes */
    uint8_t word[32];
    bool is_uint;     /* ... a decimal string without '-' */
    bool is_native;   /* ... "native" */
} dvalue;

static void dv_address(dvalue *v, const uint8_t a[20])
{
    v->is_addr = v->is_word = true;
    memcpy(v->addr, a, 20);
    memset(v->word, 0, 12);
    memcpy(v->word + 12, a, 20);
}

static dvalue dv_of(const gl_direct_src *d, const uint8_t (*topics)[32], const uint8_t *data,
                    const gl_log_context *ctx)
{
    dvalue v;
    memset(&v, 0, sizeof v);
    switch (d->kind) {
    case GL_SRC_FIELD: {
        const uint8_t *w = d->topic ? topics[d->at] : data + 32 * d->at;
        v.present = true;
        switch (d->type->kind) {
        case GL_ABI_UINT: /* a decimal string */
            v.is_uint = v.is_word = true;
            memcpy(v.word, w, 32);
            break;
        case GL_ABI_INT: /* a decimal string, "-" when negative */
            if (!(w[32 - d->type->bits / 8] & 0x80)) {
                v.is_uint = v.is_word = true;
                memcpy(v.word, w, 32);
            }
            break;
        case GL_ABI_ADDRESS:
            dv_address(&v, w + 12);
            break;
        case GL_ABI_FIXED_BYTES: /* "0x" + 2 * size hex */
            if (d->type->size == 20) {
                dv_address(&v, w);
            } else if (d->type->size == 32) {
                v.is_word = true;
                memcpy(v.word, w, 32);
            }
            break;
        case GL_ABI_BOOL: case GL_ABI_BYTES: case GL_ABI_STRING: case GL_ABI_ARRAY:
        case GL_ABI_FIXED_ARRAY: case GL_ABI_TUPLE:
            break;
        }
        break;
    }
    case GL_SRC_TX_FROM:
        if ((v.present = ctx && ctx->tx_from))
            dv_address(&v, ctx->tx_from);
        break;
    case GL_SRC_TX_TO:
        if ((v.present = ctx && ctx->tx_to))
            dv_address(&v, ctx->tx_to);
        break;
    case GL_SRC_LOG_ADDRESS:
        if ((v.present = ctx && ctx->log_address))
            dv_address(&v, ctx->log_address);
        break;
    case GL_SRC_CONST_ADDRESS:
        v.present = true;
        dv_address(&v, d->address);
        break;
    case GL_SRC_NATIVE:
        v.present = v.is_native = true;
        break;
    case GL_SRC_NONE: case GL_SRC_FIELD_INDEX: case GL_SRC_FIELD_SHR: case GL_SRC_PATTERN: case GL_SRC_JOIN:
        break;
    }
    return v;
}

bool gl_indexer_direct_fill(gl_store_event *ev, const gl_direct_plan *plan, const uint8_t (*topics)[32],
                            size_t ntopics, const uint8_t *data, size_t len, const gl_log_context *ctx,
                            gl_direct_ends *out)
{
    /* what gl_abi_decode_log (flags 0) would refuse */
    if (!plan->usable || ntopics != plan->ntopics || len != 32 * plan->ndata ||
        (!plan->sig->anonymous && memcmp(topics[0], plan->sig->hash, 32)))
        return false;
    for (size_t i = plan->sig->anonymous ? 0 : 1; i < ntopics; i++)
        if (!gl_abi_word_ok(plan->topic_type[i], topics[i]))
            return false;
    for (size_t i = 0; i < plan->ndata; i++)
        if (!gl_abi_word_ok(plan->data_type[i], data + 32 * i))
            return false;

    memset(out, 0, sizeof *out);
    /* addr_roles lists the payer after the buyer and the provider after
     * the beneficiary, so the later one, when it gives an address, wins */
    for (size_t i = 0; i < sizeof addr_roles / sizeof addr_roles[0]; i++) {
        gl_role r = addr_roles[i].role;
        dvalue v = dv_of(&plan->src[r], topics, data, ctx);
        if (!v.is_addr)
            continue;
        add_role(ev, addr_roles[i].store, v.addr);
        bool from = r == GL_ROLE_BUYER || r == GL_ROLE_PAYER;
        *(from ? &out->has_from : &out->has_to) = true;
        memcpy(from ? out->from : out->to, v.addr, 20);
    }
    dvalue token = dv_of(&plan->src[GL_ROLE_TOKEN], topics, data, ctx);
    /* the indexer's rule: a token mapped but not given leaves the amount
     * unknown too */
    if (!plan->token_mapped || token.present) {
        dvalue amount = dv_of(&plan->src[GL_ROLE_AMOUNT], topics, data, ctx);
        if (amount.is_uint) {
            gl_u256_from_be(&ev->amount, amount.word, 32, NULL);
            ev->has_amount = true;
        }
    }
    if (token.is_native) {
        ev->has_token = false;
    } else if (token.is_addr) {
        static const uint8_t zero[20];
        ev->has_token = memcmp(token.addr, zero, 20) != 0;
        memcpy(ev->token, ev->has_token ? token.addr : zero, 20);
    }
    const gl_direct_src *ls = &plan->src[GL_ROLE_LEASE_ID];
    dvalue lease = dv_of(ls, topics, data, ctx);
    if (lease.is_word)
        add_id(ev, ls->kind == GL_SRC_FIELD ? ls->field : "lease_id", lease.word);
    return true;
}

/* ---------------------------------------------------------------- receipts */

static gl_code hex_field(const json_t *obj, const char *key, gl_buf *out, gl_err *err)
{
    const char *s = json_string_value(json_object_get(obj, key));
    if (!s)
        return gl_err_set(err, GL_EINVAL, "receipt: missing %s", key);
    gl_code rc = gl_hex_decode_buf(s, out, err);
    if (rc)
        gl_err_prefix(err, "receipt: %s: ", key);
    return rc;
}

static gl_code qty_field(const json_t *obj, const char *key, uint64_t *out, gl_err *err)
{
    const json_t *v = json_object_get(obj, key);
    if (json_is_integer(v) && json_integer_value(v) >= 0) {
        *out = (uint64_t)json_integer_value(v);
        return GL_OK;
    }
    gl_u256 x;
    const char *s = json_string_value(v);
    if (!s)
        return gl_err_set(err, GL_EINVAL, "receipt: missing %s", key);
    if (gl_u256_parse_hex(&x, s, err) || !gl_u256_to_u64(&x, out))
        return gl_err_set(err, GL_EINVAL, "receipt: bad %s '%.40s'", key, s);
    return GL_OK;
}

static gl_code put_log(gl_buf *out, const json_t *log, size_t i, gl_err *err)
{
    uint8_t addr[20], topic[32];
    const json_t *topics = json_object_get(log, "topics");
    const char *a = json_string_value(json_object_get(log, "address"));
    if (!a || gl_hex_decode_exact(a, addr, 20, NULL))
        return gl_err_set(err, GL_EINVAL, "receipt: logs[%zu].address missing or malformed", i);
    if (!json_is_array(topics) || json_array_size(topics) > 4)
        return gl_err_set(err, GL_EINVAL, "receipt: logs[%zu].topics missing or malformed", i);
    gl_buf data = GL_BUF_INIT;
    gl_code rc = hex_field(log, "data", &data, err);
    if (rc) {
        gl_buf_release(&data);
        gl_err_prefix(err, "logs[%zu]: ", i);
        return rc;
    }
    size_t lb = gl_rlp_list_begin(out);
    if ((rc = gl_rlp_put_bytes(out, addr, 20, err)))
        goto done;
    size_t tb = gl_rlp_list_begin(out);
    size_t k;
    const json_t *t;
    json_array_foreach(topics, k, t) {
        const char *ts = json_string_value(t);
        if (!ts || gl_hex_decode_exact(ts, topic, 32, NULL)) {
            rc = gl_err_set(err, GL_EINVAL, "receipt: logs[%zu].topics[%zu] malformed", i, k);
            goto done;
        }
        if ((rc = gl_rlp_put_bytes(out, topic, 32, err)))
            goto done;
    }
    if ((rc = gl_rlp_list_end(out, tb, err)) || (rc = gl_rlp_put_bytes(out, data.data, data.len, err)) ||
        (rc = gl_rlp_list_end(out, lb, err)))
        goto done;
done:
    gl_buf_release(&data);
    return rc;
}

gl_code gl_indexer_receipt_encode(gl_buf *out, const json_t *receipt, gl_err *err)
{
    size_t start = out->len;
    uint64_t type = 0, cumulative;
    gl_buf bloom = GL_BUF_INIT, root = GL_BUF_INIT;
    gl_code rc;
    if (!json_is_object(receipt))
        return gl_err_set(err, GL_EINVAL, "receipt: not an object");
    if (json_object_get(receipt, "type") && (rc = qty_field(receipt, "type", &type, err)))
        return rc;
    if (type > 4)
        return gl_err_set(err, GL_ENOTSUP, "receipt: type %llu is not supported", (unsigned long long)type);
    if ((rc = qty_field(receipt, "cumulativeGasUsed", &cumulative, err)) ||
        (rc = hex_field(receipt, "logsBloom", &bloom, err)))
        goto fail;
    if (bloom.len != 256) {
        rc = gl_err_set(err, GL_EINVAL, "receipt: logsBloom has %zu bytes, not 256", bloom.len);
        goto fail;
    }
    const json_t *logs = json_object_get(receipt, "logs");
    if (!json_is_array(logs)) {
        rc = gl_err_set(err, GL_EINVAL, "receipt: missing logs");
        goto fail;
    }
    if (type && (rc = gl_buf_push(out, (uint8_t)type, err)))
        goto fail;
    size_t lb = gl_rlp_list_begin(out);
    const json_t *status = json_object_get(receipt, "status");
    if (status && !json_is_null(status)) {
        uint64_t st;
        if ((rc = qty_field(receipt, "status", &st, err)))
            goto fail;
        if (st > 1) {
            rc = gl_err_set(err, GL_EINVAL, "receipt: status %llu is neither 0 nor 1", (unsigned long long)st);
            goto fail;
        }
        if ((rc = gl_rlp_put_u64(out, st, err)))
            goto fail;
    } else { /* pre-Byzantium: the intermediate state root */
        if ((rc = hex_field(receipt, "root", &root, err)))
            goto fail;
        if (root.len != 32) {
            rc = gl_err_set(err, GL_EINVAL, "receipt: root has %zu bytes, not 32", root.len);
            goto fail;
        }
        if ((rc = gl_rlp_put_bytes(out, root.data, 32, err)))
            goto fail;
    }
    if ((rc = gl_rlp_put_u64(out, cumulative, err)) || (rc = gl_rlp_put_bytes(out, bloom.data, 256, err)))
        goto fail;
    size_t gb = gl_rlp_list_begin(out);
    size_t i;
    const json_t *log;
    json_array_foreach(logs, i, log) {
        if ((rc = put_log(out, log, i, err)))
            goto fail;
    }
    if ((rc = gl_rlp_list_end(out, gb, err)) || (rc = gl_rlp_list_end(out, lb, err)))
        goto fail;
    gl_buf_release(&bloom);
    gl_buf_release(&root);
    return GL_OK;
fail:
    out->len = start;
    gl_buf_release(&bloom);
    gl_buf_release(&root);
    return rc;
}

gl_code gl_indexer_receipts_root(uint8_t root[32], const json_t *receipts, gl_err *err)
{
    if (!json_is_array(receipts))
        return gl_err_set(err, GL_EINVAL, "the receipts are not a list");
    size_t n = json_array_size(receipts);
    gl_buf *vals = n ? calloc(n, sizeof *vals) : NULL;
    if (n && !vals)
        return gl_err_set(err, GL_ENOMEM, "out of memory encoding receipts");
    gl_code rc = GL_OK;
    for (size_t i = 0; i < n && !rc; i++) {
        gl_err e2;
        rc = gl_indexer_receipt_encode(&vals[i], json_array_get(receipts, i), &e2);
        if (rc)
            gl_err_set(err, rc, "receipt %zu: %s", i, e2.msg);
    }
    if (!rc)
        rc = gl_trie_ordered_root(root, vals, n, err);
    for (size_t i = 0; i < n; i++)
        gl_buf_release(&vals[i]);
    free(vals);
    return rc;
}
