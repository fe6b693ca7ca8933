/* export.c - stored events and transfers as CSV rows and JSON Lines objects
 * (see export.h; the columns are documented in docs/EXPORT.md).
 *
 * A record is first laid out as one text value per column (or "unknown"),
 * then written in the chosen format, so that both formats always carry the
 * same values: the CSV field is the JSON value's text.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "gpuledger/export.h"
#include "gpuledger/platform.h"

/* ------------------------------------------------------------- columns */

typedef enum col_type {
    T_STR,  /* JSON string */
    T_INT,  /* JSON integer, written as decimal digits */
    T_NUM,  /* JSON number, written as a plain decimal */
    T_BOOL, /* JSON true/false */
} col_type;

enum {
    C_RECORD, C_CHAIN_ID, C_BLOCK, C_BLOCK_HASH, C_TIMESTAMP, C_TIME, C_TX_HASH, C_TX_INDEX,
    C_LOG_INDEX, C_POSITION, C_SUB, C_PLATFORM, C_EVENT, C_CONTRACT, C_TX_FROM, C_BUYER,
    C_BENEFICIARY, C_PROVIDER, C_PAYER, C_FUNDER, C_SPENDER, C_OWNER, C_OTHER_ROLES, C_FROM,
    C_TO, C_ASSET, C_TOKEN, C_AMOUNT, C_TOKEN_ID, C_LEASE_ID, C_IDS, C_GPU_MODEL, C_GPU_COUNT,
    C_DURATION_S, C_HOURS, C_GPU_HOURS, C_FAILED, C_SENDER_VERIFIED, C_SENDER_MISMATCH,
    C_PROVEN, C_DISPUTED, C_BLOCK_CHECKS, C_VERIFICATION, C_IMPORTED, NCOLS
};

static const char *const col_names[NCOLS] = {
    "record", "chain_id", "block", "block_hash", "timestamp", "time", "tx_hash", "tx_index",
    "log_index", "position", "sub", "platform", "event", "contract", "tx_from", "buyer",
    "beneficiary", "provider", "payer", "funder", "spender", "owner", "other_roles", "from",
    "to", "asset", "token", "amount", "token_id", "lease_id", "ids", "gpu_model", "gpu_count",
    "duration_s", "hours", "gpu_hours", "failed", "sender_verified", "sender_mismatch",
    "proven", "disputed", "block_checks", "verification", "imported",
};

static const col_type col_types[NCOLS] = {
    T_STR, T_INT, T_INT, T_STR, T_INT, T_STR, T_STR, T_INT,
    T_INT, T_STR, T_INT, T_STR, T_STR, T_STR, T_STR, T_STR,
    T_STR, T_STR, T_STR, T_STR, T_STR, T_STR, T_STR, T_STR,
    T_STR, T_STR, T_STR, T_STR, T_STR, T_STR, T_STR, T_STR, T_INT,
    T_INT, T_NUM, T_NUM, T_BOOL, T_BOOL, T_BOOL,
    T_BOOL, T_BOOL, T_STR, T_STR, T_BOOL,
};

const char *const *gl_export_columns(size_t *n)
{
    if (n)
        *n = NCOLS;
    return col_names;
}

gl_code gl_export_format_parse(const char *s, gl_export_format *out, gl_err *err)
{
    if (s && !strcmp(s, "csv"))
        *out = GL_EXPORT_CSV;
    else if (s && (!strcmp(s, "jsonl") || !strcmp(s, "json")))
        *out = GL_EXPORT_JSONL;
    else
        return gl_err_set(err, GL_EINVAL, "unknown export format '%s' (csv or jsonl)", s ? s : "");
    return GL_OK;
}

gl_code gl_export_kind_parse(const char *s, gl_export_kind *out, gl_err *err)
{
    if (s && !strcmp(s, "events"))
        *out = GL_EXPORT_EVENTS;
    else if (s && !strcmp(s, "transfers"))
        *out = GL_EXPORT_TRANSFERS;
    else
        return gl_err_set(err, GL_EINVAL, "unknown record kind '%s' (events or transfers)",
                          s ? s : "");
    return GL_OK;
}

/* --------------------------------------------------------------- a row */

/* Text of every column of one record.  The arena is sized for the largest
 * record a store can hold: 32 roles of at most 9 + 2 + 40 + 1 bytes, 4 ids
 * of at most 63 + 1 + 78 + 1, a 127-byte model and fixed-size rest. */
#define ARENA_MAX 8192

typedef struct row {
    const char *val[NCOLS]; /* NULL = unknown */
    char arena[ARENA_MAX];
    size_t used;
} row;

static void row_init(row *r)
{
    memset(r->val, 0, sizeof r->val);
    r->used = 0;
}

/* Reserve n bytes + NUL in the arena; the sizes above make it impossible to
 * run out, and a record that did would be cut, never overrun. */
static char *row_alloc(row *r, size_t n)
{
    if (r->used + n + 1 > ARENA_MAX)
        return NULL;
    char *p = r->arena + r->used;
    r->used += n + 1;
    p[0] = '\0';
    return p;
}

static void row_str(row *r, int col, const char *s)
{
    size_t n = strlen(s);
    char *p = row_alloc(r, n);
    if (!p)
        return;
    memcpy(p, s, n + 1);
    r->val[col] = p;
}

static void row_u64(row *r, int col, uint64_t v)
{
    char tmp[24];
    snprintf(tmp, sizeof tmp, "%" PRIu64, v);
    row_str(r, col, tmp);
}

static void row_bool(row *r, int col, bool v)
{
    r->val[col] = v ? "true" : "false";
}

static void row_hex(row *r, int col, const uint8_t *data, size_t n)
{
    char *p = row_alloc(r, 2 * n + 2);
    if (!p)
        return;
    gl_hex_encode(data, n, true, p);
    r->val[col] = p;
}

static void row_u256(row *r, int col, const gl_u256 *v)
{
    char tmp[GL_U256_DEC_MAX];
    gl_u256_to_dec(v, tmp);
    row_str(r, col, tmp);
}

/* Append "sep" + text to the column's value (building lists). */
static void row_append(row *r, int col, const char *text)
{
    const char *old = r->val[col];
    if (old && !old[0])
        old = NULL;
    size_t olen = old ? strlen(old) : 0, tlen = strlen(text);
    char *p = row_alloc(r, olen + (old ? 1 : 0) + tlen);
    if (!p)
        return;
    if (old) {
        memcpy(p, old, olen);
        p[olen] = ';';
        memcpy(p + olen + 1, text, tlen + 1);
    } else {
        memcpy(p, text, tlen + 1);
    }
    r->val[col] = p;
}

/* An id: decimal when below 2^128 (lease, order, job numbers), else the 32
 * bytes in hex (keccak hashes of indexed strings, Golem deposit ids that
 * carry the funder in their top 20 bytes). */
static void id_text(const uint8_t value[32], char *out /* >= 67 */)
{
    bool small = true;
    for (int i = 0; i < 16; i++)
        if (value[i])
            small = false;
    if (small) {
        gl_u256 v;
        gl_u256_from_be(&v, value, 32, NULL);
        gl_u256_to_dec(&v, out);
    } else {
        gl_hex_encode(value, 32, true, out);
    }
}

/* "1.5" for 1500 thousandths: exact, trailing zeros dropped. */
static void thousandths_text(uint64_t v, char *out, size_t cap)
{
    uint64_t whole = v / 1000, frac = v % 1000;
    if (!frac) {
        snprintf(out, cap, "%" PRIu64, whole);
        return;
    }
    char f[4];
    snprintf(f, sizeof f, "%03" PRIu64, frac);
    for (int i = 2; i > 0 && f[i] == '0'; i--)
        f[i] = '\0';
    snprintf(out, cap, "%" PRIu64 ".%s", whole, f);
}

/* Seconds as hours, rounded half up to 6 decimals, trailing zeros dropped. */
static void hours_text(uint64_t seconds, char *out, size_t cap)
{
    uint64_t whole = seconds / 3600, rem = seconds % 3600;
    uint64_t frac = (rem * 1000000u + 1800u) / 3600u;
    if (frac >= 1000000u) {
        whole++;
        frac -= 1000000u;
    }
    if (!frac) {
        snprintf(out, cap, "%" PRIu64, whole);
        return;
    }
    char f[8];
    snprintf(f, sizeof f, "%06" PRIu64, frac);
    for (int i = 5; i > 0 && f[i] == '0'; i--)
        f[i] = '\0';
    snprintf(out, cap, "%" PRIu64 ".%s", whole, f);
}

static void time_text(uint64_t ts, char *out, size_t cap)
{
    time_t t = (time_t)ts;
    struct tm tm;
    if ((uint64_t)t != ts || !gmtime_r(&t, &tm) || !strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tm))
        snprintf(out, cap, "%s", "");
}

static void block_context(row *r, const gl_export_ctx *ctx)
{
    if (!ctx || !ctx->has_block)
        return;
    row_hex(r, C_BLOCK_HASH, ctx->block.hash, GL_STORE_HASH_LEN);
    row_u64(r, C_TIMESTAMP, ctx->block.timestamp);
    char t[40];
    time_text(ctx->block.timestamp, t, sizeof t);
    if (t[0])
        row_str(r, C_TIME, t);
    static const struct { uint32_t bit; const char *name; } checks[] = {
        {GL_STORE_BLOCK_HASH_OK, "hash"},       {GL_STORE_BLOCK_PARENT_OK, "parent"},
        {GL_STORE_BLOCK_SENDERS_OK, "senders"}, {GL_STORE_BLOCK_RECEIPTS_OK, "receipts"},
        {GL_STORE_BLOCK_QUORUM_OK, "quorum"},
    };
    r->val[C_BLOCK_CHECKS] = "";
    for (size_t i = 0; i < sizeof checks / sizeof checks[0]; i++)
        if (ctx->block.verified & checks[i].bit)
            row_append(r, C_BLOCK_CHECKS, checks[i].name);
}

static int role_column(gl_store_role role)
{
    switch (role) {
    case GL_STORE_ROLE_BUYER: return C_BUYER;
    case GL_STORE_ROLE_BENEFICIARY: return C_BENEFICIARY;
    case GL_STORE_ROLE_PROVIDER: return C_PROVIDER;
    case GL_STORE_ROLE_PAYER: return C_PAYER;
    case GL_STORE_ROLE_FUNDER: return C_FUNDER;
    case GL_STORE_ROLE_SPENDER: return C_SPENDER;
    case GL_STORE_ROLE_OWNER: return C_OWNER;
    case GL_STORE_ROLE_TX_FROM:
    case GL_STORE_ROLE_TX_TO:
    case GL_STORE_ROLE_SENDER:
    case GL_STORE_ROLE_RECIPIENT:
    case GL_STORE_ROLE_CONTRACT:
    case GL_STORE_ROLE_TOKEN:
        return C_OTHER_ROLES;
    }
    return C_OTHER_ROLES;
}

static void event_row(row *r, const gl_store_event *ev, const gl_export_ctx *ctx)
{
    r->val[C_RECORD] = "event";
    row_u64(r, C_CHAIN_ID, ev->chain_id);
    row_u64(r, C_BLOCK, ev->block);
    block_context(r, ctx);
    row_hex(r, C_TX_HASH, ev->tx_hash, GL_STORE_HASH_LEN);
    row_u64(r, C_TX_INDEX, ev->tx_index);
    row_u64(r, C_LOG_INDEX, ev->log_index);
    r->val[C_POSITION] = "log";
    r->val[C_SUB] = "0";
    row_str(r, C_PLATFORM, ev->platform);
    row_str(r, C_EVENT, ev->name);
    row_hex(r, C_CONTRACT, ev->contract, GL_STORE_ADDR_LEN);
    if (ev->has_tx_from)
        row_hex(r, C_TX_FROM, ev->tx_from, GL_STORE_ADDR_LEN);
    else if (ctx && ctx->has_tx)
        row_hex(r, C_TX_FROM, ctx->tx.from, GL_STORE_ADDR_LEN);
    /* each role column in one piece: appending one address at a time
     * would copy the list over and over in the arena */
    size_t nroles = ev->n_roles < GL_STORE_EVENT_ROLES_MAX ? ev->n_roles : GL_STORE_EVENT_ROLES_MAX;
    static const int role_cols[] = {C_BUYER, C_BENEFICIARY, C_PROVIDER, C_PAYER,
                                    C_FUNDER, C_SPENDER, C_OWNER, C_OTHER_ROLES};
    for (size_t c = 0; c < sizeof role_cols / sizeof role_cols[0]; c++) {
        char list[GL_STORE_EVENT_ROLES_MAX * 64];
        size_t used = 0;
        for (size_t i = 0; i < nroles; i++) {
            if (role_column(ev->roles[i].role) != role_cols[c])
                continue;
            char addr[2 * GL_STORE_ADDR_LEN + 3];
            gl_hex_encode(ev->roles[i].addr, GL_STORE_ADDR_LEN, true, addr);
            const char *sep = used ? ";" : "";
            int n;
            if (role_cols[c] != C_OTHER_ROLES)
                n = snprintf(list + used, sizeof list - used, "%s%s", sep, addr);
            else if (gl_store_role_name(ev->roles[i].role))
                n = snprintf(list + used, sizeof list - used, "%s%s:%s", sep,
                             gl_store_role_name(ev->roles[i].role), addr);
            else
                n = snprintf(list + used, sizeof list - used, "%srole%d:%s", sep, (int)ev->roles[i].role, addr);
            if (n > 0 && (size_t)n < sizeof list - used)
                used += (size_t)n;
        }
        if (used)
            row_str(r, role_cols[c], list);
    }
    if (ev->has_amount) {
        row_u256(r, C_AMOUNT, &ev->amount);
        if (!ev->has_token)
            r->val[C_ASSET] = "native";
    }
    if (ev->has_token)
        row_hex(r, C_TOKEN, ev->token, GL_STORE_ADDR_LEN);
    size_t nids = ev->n_ids < GL_STORE_EVENT_IDS_MAX ? ev->n_ids : GL_STORE_EVENT_IDS_MAX;
    for (size_t i = 0; i < nids; i++) {
        char v[GL_U256_HEX_MAX + GL_U256_DEC_MAX], item[GL_STORE_NAME_MAX + sizeof v + 2];
        id_text(ev->ids[i].value, v);
        if (i == 0)
            row_str(r, C_LEASE_ID, v);
        snprintf(item, sizeof item, "%s=%s", ev->ids[i].name, v);
        row_append(r, C_IDS, item);
    }
    if (ev->gpu_model[0])
        row_str(r, C_GPU_MODEL, ev->gpu_model);
    if (ev->gpu_count)
        row_u64(r, C_GPU_COUNT, ev->gpu_count);
    char num[48];
    if (ev->duration_s) {
        row_u64(r, C_DURATION_S, ev->duration_s);
        hours_text(ev->duration_s, num, sizeof num);
        row_str(r, C_HOURS, num);
    }
    if (ev->gpu_mhours) {
        thousandths_text(ev->gpu_mhours, num, sizeof num);
        row_str(r, C_GPU_HOURS, num);
    }
    row_bool(r, C_FAILED, false); /* a reverted tx leaves no logs */
    bool sender_ok = ev->verified & GL_STORE_EVENT_SENDER_OK;
    row_bool(r, C_SENDER_VERIFIED, sender_ok);
    bool mismatch_known = sender_ok || (ctx && ctx->has_tx);
    bool mismatch = !sender_ok && ctx && ctx->has_tx && (ctx->tx.flags & GL_STORE_TX_SENDER_MISMATCH);
    if (mismatch_known)
        row_bool(r, C_SENDER_MISMATCH, mismatch);
    bool proven = ev->verified & GL_STORE_EVENT_PROVEN;
    bool disputed = ev->verified & GL_STORE_EVENT_DISPUTED;
    row_bool(r, C_PROVEN, proven);
    row_bool(r, C_DISPUTED, disputed);
    r->val[C_VERIFICATION] = disputed   ? "disputed"
                             : mismatch ? "sender_mismatch"
                             : proven   ? "proven"
                             : sender_ok ? "sender_verified"
                                         : "unverified";
    row_bool(r, C_IMPORTED, false); /* events are only ever indexed from the chain */
}

static const char *asset_name(gl_store_asset a)
{
    switch (a) {
    case GL_STORE_ASSET_NATIVE: return "native";
    case GL_STORE_ASSET_ERC20: return "erc20";
    case GL_STORE_ASSET_ERC721: return "erc721";
    case GL_STORE_ASSET_ERC1155: return "erc1155";
    }
    return NULL;
}

static void transfer_row(row *r, const gl_store_transfer *t, const gl_export_ctx *ctx)
{
    r->val[C_RECORD] = "transfer";
    row_u64(r, C_CHAIN_ID, t->pos.chain_id);
    row_u64(r, C_BLOCK, t->pos.block);
    block_context(r, ctx);
    row_hex(r, C_TX_HASH, t->tx_hash, GL_STORE_HASH_LEN);
    switch (t->pos.kind) {
    case GL_STORE_POS_TX:
        r->val[C_POSITION] = "tx";
        row_u64(r, C_TX_INDEX, t->pos.index);
        break;
    case GL_STORE_POS_LOG:
        r->val[C_POSITION] = "log";
        row_u64(r, C_LOG_INDEX, t->pos.index);
        if (ctx && ctx->has_tx)
            row_u64(r, C_TX_INDEX, ctx->tx.index);
        break;
    case GL_STORE_POS_TRACE:
        r->val[C_POSITION] = "trace";
        row_u64(r, C_TX_INDEX, t->pos.index);
        break;
    }
    row_u64(r, C_SUB, t->pos.sub);
    if (ctx && ctx->has_tx)
        row_hex(r, C_TX_FROM, ctx->tx.from, GL_STORE_ADDR_LEN);
    row_hex(r, C_FROM, t->from, GL_STORE_ADDR_LEN);
    row_hex(r, C_TO, t->to, GL_STORE_ADDR_LEN);
    const char *an = asset_name(t->asset);
    if (an) {
        r->val[C_ASSET] = an;
    } else {
        row_u64(r, C_ASSET, (uint64_t)t->asset);
    }
    if (t->asset != GL_STORE_ASSET_NATIVE)
        row_hex(r, C_TOKEN, t->token, GL_STORE_ADDR_LEN);
    row_u256(r, C_AMOUNT, &t->amount);
    if (t->asset == GL_STORE_ASSET_ERC721 || t->asset == GL_STORE_ASSET_ERC1155)
        row_u256(r, C_TOKEN_ID, &t->token_id);
    /* An imported transfer's content was checked against nothing, even when
     * the store holds its tx with the sender recovered: it takes only the
     * tx's failure from there. */
    bool imported = t->flags & GL_STORE_TX_IMPORTED;
    uint32_t flags = t->flags;
    if (ctx && ctx->has_tx)
        flags |= imported ? ctx->tx.flags & GL_STORE_TX_FAILED : ctx->tx.flags;
    bool failed = flags & GL_STORE_TX_FAILED;
    bool sender_ok = flags & GL_STORE_TX_SENDER_OK;
    bool mismatch = flags & GL_STORE_TX_SENDER_MISMATCH;
    row_bool(r, C_FAILED, failed);
    row_bool(r, C_SENDER_VERIFIED, sender_ok && !mismatch);
    if (sender_ok || mismatch) /* else the sender was never checked */
        row_bool(r, C_SENDER_MISMATCH, mismatch);
    /* An imported record was checked against nothing, whatever a stored tx
     * at its place says: that comes first. */
    r->val[C_VERIFICATION] = imported    ? "imported_unverified"
                             : mismatch  ? "sender_mismatch"
                             : sender_ok ? "sender_verified"
                                         : "unverified";
    row_bool(r, C_IMPORTED, imported);
}

/* ------------------------------------------------------------- writing */

/* Length of the valid UTF-8 sequence at s (1..4), or 0 when the byte there
 * does not start one (overlong forms, surrogates and values past U+10FFFF
 * are invalid, per RFC 3629). */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    if (c < 0x80)
        return 1;
    size_t len;
    unsigned lo = 0x80, hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf)
        len = 2;
    else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        if (c == 0xe0)
            lo = 0xa0;
        if (c == 0xed)
            hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        if (c == 0xf0)
            lo = 0x90;
        if (c == 0xf4)
            hi = 0x8f;
    } else
        return 0;
    if (len > n)
        return 0;
    if (s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < len; i++)
        if (s[i] < 0x80 || s[i] > 0xbf)
            return 0;
    return len;
}

static const char replacement[] = "\xef\xbf\xbd"; /* U+FFFD */

static gl_code put_csv_field(gl_buf *out, const char *v, gl_err *err)
{
    if (!v)
        return GL_OK;
    bool quote = strpbrk(v, ",\"\r\n") != NULL;
    gl_code rc = GL_OK;
    if (quote)
        rc = gl_buf_push(out, '"', err);
    const unsigned char *s = (const unsigned char *)v;
    size_t n = strlen(v);
    for (size_t i = 0; i < n && !rc;) {
        size_t k = utf8_seq(s + i, n - i);
        if (!k) {
            rc = gl_buf_append(out, replacement, 3, err);
            i++;
            continue;
        }
        if (k == 1 && s[i] == '"')
            rc = gl_buf_append(out, "\"\"", 2, err);
        else
            rc = gl_buf_append(out, s + i, k, err);
        i += k;
    }
    if (quote && !rc)
        rc = gl_buf_push(out, '"', err);
    return rc;
}

static gl_code put_json_string(gl_buf *out, const char *v, gl_err *err)
{
    gl_code rc = gl_buf_push(out, '"', err);
    const unsigned char *s = (const unsigned char *)v;
    size_t n = strlen(v);
    for (size_t i = 0; i < n && !rc;) {
        size_t k = utf8_seq(s + i, n - i);
        char esc[8];
        if (!k) {
            rc = gl_buf_append(out, replacement, 3, err);
            i++;
            continue;
        }
        if (k == 1 && (s[i] == '"' || s[i] == '\\')) {
            esc[0] = '\\';
            esc[1] = (char)s[i];
            rc = gl_buf_append(out, esc, 2, err);
        } else if (k == 1 && s[i] < 0x20) {
            const char *named = s[i] == '\n' ? "\\n" : s[i] == '\r' ? "\\r" : s[i] == '\t' ? "\\t" : NULL;
            if (named)
                rc = gl_buf_append(out, named, 2, err);
            else {
                snprintf(esc, sizeof esc, "\\u%04x", s[i]);
                rc = gl_buf_append(out, esc, 6, err);
            }
        } else {
            rc = gl_buf_append(out, s + i, k, err);
        }
        i += k;
    }
    if (!rc)
        rc = gl_buf_push(out, '"', err);
    return rc;
}

static gl_code put_row(gl_buf *out, gl_export_format fmt, const row *r, gl_err *err)
{
    size_t mark = out->len;
    gl_code rc = GL_OK;
    if (fmt == GL_EXPORT_CSV) {
        for (int c = 0; c < NCOLS && !rc; c++) {
            if (c)
                rc = gl_buf_push(out, ',', err);
            if (!rc)
                rc = put_csv_field(out, r->val[c], err);
        }
        if (!rc)
            rc = gl_buf_append(out, "\r\n", 2, err);
    } else {
        rc = gl_buf_push(out, '{', err);
        for (int c = 0; c < NCOLS && !rc; c++) {
            if (c)
                rc = gl_buf_push(out, ',', err);
            if (!rc)
                rc = put_json_string(out, col_names[c], err);
            if (!rc)
                rc = gl_buf_push(out, ':', err);
            if (rc)
                break;
            const char *v = r->val[c];
            if (!v)
                rc = gl_buf_append(out, "null", 4, err);
            else if (col_types[c] == T_STR)
                rc = put_json_string(out, v, err);
            else
                rc = gl_buf_append(out, v, strlen(v), err);
        }
        if (!rc)
            rc = gl_buf_append(out, "}\n", 2, err);
    }
    if (rc)
        out->len = mark;
    return rc;
}

gl_code gl_export_header(gl_buf *out, gl_export_format fmt, gl_err *err)
{
    if (fmt != GL_EXPORT_CSV)
        return GL_OK;
    size_t mark = out->len;
    gl_code rc = GL_OK;
    for (int c = 0; c < NCOLS && !rc; c++) {
        if (c)
            rc = gl_buf_push(out, ',', err);
        if (!rc)
            rc = put_csv_field(out, col_names[c], err);
    }
    if (!rc)
        rc = gl_buf_append(out, "\r\n", 2, err);
    if (rc)
        out->len = mark;
    return rc;
}

gl_code gl_export_event(gl_buf *out, gl_export_format fmt, const gl_store_event *ev,
                        const gl_export_ctx *ctx, gl_err *err)
{
    row *r = malloc(sizeof *r);
    if (!r)
        return gl_err_set(err, GL_ENOMEM, "out of memory exporting an event");
    row_init(r);
    event_row(r, ev, ctx);
    gl_code rc = put_row(out, fmt, r, err);
    free(r);
    return rc;
}

gl_code gl_export_transfer(gl_buf *out, gl_export_format fmt, const gl_store_transfer *t,
                           const gl_export_ctx *ctx, gl_err *err)
{
    row *r = malloc(sizeof *r);
    if (!r)
        return gl_err_set(err, GL_ENOMEM, "out of memory exporting a transfer");
    row_init(r);
    transfer_row(r, t, ctx);
    gl_code rc = put_row(out, fmt, r, err);
    free(r);
    return rc;
}

/* ------------------------------------------------------------ streaming */

/* Output is handed to the sink in pieces of about this size. */
#define FLUSH_AT ((size_t)64 << 10)

typedef struct runner {
    gl_store *s;
    const gl_export_opts *o;
    gl_export_sink sink;
    void *sink_ctx;
    gl_buf buf;
    gl_export_stats st;
    /* the last block looked up */
    bool cached;
    uint64_t cached_chain, cached_number;
    bool cached_found;
    gl_store_block cached_block;
} runner;

static gl_code flush(runner *rn, bool force, gl_err *err)
{
    if (!rn->buf.len || (!force && rn->buf.len < FLUSH_AT))
        return GL_OK;
    gl_code rc = rn->sink(rn->sink_ctx, rn->buf.data, rn->buf.len, err);
    gl_buf_reset(&rn->buf);
    return rc;
}

static gl_code lookup_block(runner *rn, uint64_t chain, uint64_t number, gl_export_ctx *ctx,
                            gl_err *err)
{
    if (!rn->cached || rn->cached_chain != chain || rn->cached_number != number) {
        gl_code rc = gl_store_get_block(rn->s, chain, number, &rn->cached_block, &rn->cached_found, err);
        if (rc)
            return rc;
        rn->cached = true;
        rn->cached_chain = chain;
        rn->cached_number = number;
    }
    ctx->has_block = rn->cached_found;
    if (rn->cached_found)
        ctx->block = rn->cached_block;
    else
        rn->st.no_block++;
    return GL_OK;
}

static gl_code export_events(runner *rn, uint64_t chain, gl_err *err)
{
    gl_store_iter *it = gl_store_iter_events(rn->s, chain, rn->o->from_block, rn->o->to_block, err);
    if (!it)
        return err ? err->code : GL_EDB;
    gl_store_event *ev = malloc(sizeof *ev);
    gl_code rc = ev ? GL_OK : gl_err_set(err, GL_ENOMEM, "out of memory exporting events");
    for (bool end = false; !rc;) {
        rc = gl_store_next_event(it, ev, &end, err);
        if (rc || end)
            break;
        if (rn->o->platform && strcmp(rn->o->platform, ev->platform) != 0) {
            rn->st.skipped++;
            continue;
        }
        gl_export_ctx ctx = {0};
        if (rn->o->with_context) {
            rc = lookup_block(rn, chain, ev->block, &ctx, err);
            if (!rc)
                rc = gl_store_get_tx(rn->s, chain, ev->block, ev->tx_index, &ctx.tx, &ctx.has_tx, err);
            /* a tx record at that index with another hash is not this event's */
            if (!rc && ctx.has_tx && memcmp(ctx.tx.hash, ev->tx_hash, GL_STORE_HASH_LEN) != 0)
                ctx.has_tx = false;
        }
        if (!rc)
            rc = gl_export_event(&rn->buf, rn->o->format, ev, rn->o->with_context ? &ctx : NULL, err);
        if (!rc) {
            rn->st.records++;
            rc = flush(rn, false, err);
        }
    }
    free(ev);
    gl_store_iter_free(it);
    return rc;
}

static gl_code export_transfers(runner *rn, uint64_t chain, gl_err *err)
{
    gl_store_iter *it = gl_store_iter_transfers(rn->s, chain, rn->o->from_block, rn->o->to_block, err);
    if (!it)
        return err ? err->code : GL_EDB;
    gl_code rc = GL_OK;
    for (bool end = false; !rc;) {
        gl_store_transfer t;
        rc = gl_store_next_transfer(it, &t, &end, err);
        if (rc || end)
            break;
        gl_export_ctx ctx = {0};
        if (rn->o->with_context) {
            rc = lookup_block(rn, chain, t.pos.block, &ctx, err);
            if (!rc && t.pos.kind == GL_STORE_POS_LOG)
                rc = gl_store_get_tx_by_hash(rn->s, chain, t.tx_hash, &ctx.tx, &ctx.has_tx, err);
            else if (!rc)
                rc = gl_store_get_tx(rn->s, chain, t.pos.block, t.pos.index, &ctx.tx, &ctx.has_tx, err);
            if (!rc && ctx.has_tx && memcmp(ctx.tx.hash, t.tx_hash, GL_STORE_HASH_LEN) != 0)
                ctx.has_tx = false;
        }
        if (!rc)
            rc = gl_export_transfer(&rn->buf, rn->o->format, &t, rn->o->with_context ? &ctx : NULL, err);
        if (!rc) {
            rn->st.records++;
            rc = flush(rn, false, err);
        }
    }
    gl_store_iter_free(it);
    return rc;
}

gl_code gl_export_run(gl_store *s, const gl_export_opts *o, gl_export_sink sink, void *sink_ctx,
                      gl_export_stats *stats, gl_err *err)
{
    if (stats)
        memset(stats, 0, sizeof *stats);
    if (!s || !o || !sink || (o->n_chains && !o->chains))
        return gl_err_set(err, GL_EINVAL, "export: missing store, options or sink");
    if (o->from_block > o->to_block)
        return gl_err_set(err, GL_EINVAL, "export: --from %" PRIu64 " is after --to %" PRIu64,
                          o->from_block, o->to_block);
    if (o->platform && !gl_store_name_ok(o->platform))
        return gl_err_set(err, GL_EINVAL, "export: '%s' is not a platform name", o->platform);
    /* A platform is bound to one chain: that chain alone is read (transfers
     * carry no platform, so for them the platform only selects the chain). */
    bool only_chain = false;
    uint64_t platform_chain = 0;
    if (o->platform) {
        gl_code rc = gl_store_get_binding(s, o->platform, &platform_chain, &only_chain, err);
        if (rc)
            return rc;
        if (!only_chain)
            return gl_err_set(err, GL_EINVAL,
                              "export: platform '%s' is not in store '%s' (no chain is bound to it)",
                              o->platform, gl_store_dir(s));
    }
    runner rn = {.s = s, .o = o, .sink = sink, .sink_ctx = sink_ctx};
    gl_buf_init(&rn.buf);
    gl_code rc = gl_export_header(&rn.buf, o->format, err);
    if (!rc && only_chain && !o->n_chains)
        rc = o->kind == GL_EXPORT_EVENTS ? export_events(&rn, platform_chain, err)
                                         : export_transfers(&rn, platform_chain, err);
    for (size_t i = 0; i < o->n_chains && !rc; i++) {
        if (only_chain && o->chains[i] != platform_chain)
            continue;
        rc = o->kind == GL_EXPORT_EVENTS ? export_events(&rn, o->chains[i], err)
                                         : export_transfers(&rn, o->chains[i], err);
    }
    if (!rc)
        rc = flush(&rn, true, err);
    gl_buf_release(&rn.buf);
    if (stats)
        *stats = rn.st;
    return rc;
}

/* ---------------------------------------------------------- chain list */

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static gl_code chains_add(uint64_t **v, size_t *n, size_t *cap, uint64_t c, gl_err *err)
{
    for (size_t i = 0; i < *n; i++)
        if ((*v)[i] == c)
            return GL_OK;
    if (*n == *cap) {
        size_t nc = *cap ? 2 * *cap : 8;
        uint64_t *nv = realloc(*v, nc * sizeof *nv);
        if (!nv)
            return gl_err_set(err, GL_ENOMEM, "out of memory listing chains");
        *v = nv;
        *cap = nc;
    }
    (*v)[(*n)++] = c;
    return GL_OK;
}

gl_code gl_export_list_chains(gl_store *s, uint64_t **chains, size_t *n, gl_err *err)
{
    *chains = NULL;
    *n = 0;
    uint64_t *v = NULL;
    size_t cnt = 0, cap = 0;
    gl_store_iter *it = gl_store_iter_cursors(s, err);
    if (!it)
        return err ? err->code : GL_EDB;
    gl_code rc = GL_OK;
    for (bool end = false; !rc;) {
        gl_store_cursor c;
        rc = gl_store_next_cursor(it, &c, &end, err);
        if (rc || end)
            break;
        rc = chains_add(&v, &cnt, &cap, c.chain_id, err);
    }
    gl_store_iter_free(it);
    uint64_t *bound = NULL;
    size_t nb = 0;
    if (!rc)
        rc = gl_store_list_bindings(s, &bound, NULL, &nb, err);
    for (size_t i = 0; i < nb && !rc; i++)
        rc = chains_add(&v, &cnt, &cap, bound[i], err);
    free(bound);
    if (rc) {
        free(v);
        return rc;
    }
    if (cnt)
        qsort(v, cnt, sizeof *v, cmp_u64);
    *chains = v;
    *n = cnt;
    return GL_OK;
}
