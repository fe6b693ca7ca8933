/* import_etl.c - ethereum-etl / BigQuery crypto_ethereum CSV exports into
 * the store, flagged imported and unverified (include/gpuledger/import_etl.h,
 * docs/IMPORT.md).
 *
 * The column lists are ethereum-etl's own, as its exporters write them
 * (github.com/blockchain-etl/ethereum-etl, ethereumetl/jobs/exporters/):
 *   token_transfers_item_exporter.py  token_address, from_address, to_address,
 *       value, transaction_hash, log_index, block_number
 *   blocks_and_transactions_item_exporter.py, TRANSACTION_FIELDS_TO_EXPORT
 *       hash, nonce, block_hash, block_number, transaction_index, from_address,
 *       to_address, value, gas, gas_price, input, block_timestamp,
 *       max_fee_per_gas, max_priority_fee_per_gas, transaction_type,
 *       max_fee_per_blob_gas, blob_versioned_hashes
 *   ... BLOCK_FIELDS_TO_EXPORT  number, hash, parent_hash, nonce, sha3_uncles,
 *       logs_bloom, transactions_root, state_root, receipts_root, miner,
 *       difficulty, total_difficulty, size, extra_data, gas_limit, gas_used,
 *       timestamp, transaction_count, base_fee_per_gas, withdrawals_root,
 *       withdrawals, blob_gas_used, excess_blob_gas
 *   traces_item_exporter.py  block_number, transaction_hash, transaction_index,
 *       from_address, to_address, value, input, output, trace_type, call_type,
 *       reward_type, gas, gas_used, subtraces, trace_address, error, status,
 *       trace_id
 * Columns are found by name, so the older and newer lists (and BigQuery's
 * tables, which add block_timestamp, block_hash, receipt_status, ...) all
 * read; only the columns used are required.  The files are Python's csv
 * writer output (RFC 4180, CRLF; a list such as trace_address is joined with
 * ',' and therefore quoted; None is an empty field, or the text None in
 * some versions, and both are read as null).
 *
 * Sections: the CSV reader, field readers, one row parser per kind,
 * resolve (the files against each other), write (against the store).
 */
#include <errno.h>
#include <stdarg.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpuledger/bytes.h"
#include "gpuledger/import_etl.h"
#include "gpuledger/keccak.h"
#include "gpuledger/u256.h"

/* ------------------------------------------------------------ vectors */

typedef struct vec {
    void *v;
    size_t n, cap, esz;
} vec;

static void *vec_push(vec *a, gl_err *err)
{
    if (a->n == a->cap) {
        size_t nc = a->cap ? 2 * a->cap : 64;
        void *nv = realloc(a->v, nc * a->esz);
        if (!nv) {
            gl_err_set(err, GL_ENOMEM, "out of memory reading the import");
            return NULL;
        }
        a->v = nv;
        a->cap = nc;
    }
    void *e = (char *)a->v + a->n++ * a->esz;
    memset(e, 0, a->esz);
    return e;
}

#define VEC_AT(a, T, i) (&((T *)(a).v)[i])

/* ------------------------------------------------------------ records */

typedef struct src {
    uint32_t file, line;
} src;

typedef struct imp_file {
    char *name;
    uint8_t digest[32];
    gl_import_etl_kind kind;
} imp_file;

/* What a row says about a block (blocks.csv, or the block_hash and
 * block_timestamp columns of the others). */
typedef struct imp_block {
    uint64_t number;
    bool has_hash, has_parent, has_ts;
    uint8_t hash[32], parent[32];
    uint64_t ts;
    src at;
} imp_block;

typedef struct imp_tx {
    gl_store_tx tx;           /* chain, block, index, hash, from, to, value */
    bool has_status, failed;  /* receipt_status, when a column says it */
    bool has_created;         /* receipt_contract_address */
    uint8_t created[20];
    bool keep;                /* write a txs record */
    src at;
} imp_tx;

/* trace_type values that matter; the rest are nodes of the tree only. */
enum { TT_OTHER, TT_CALL, TT_CREATE, TT_SUICIDE };

typedef struct imp_trace {
    uint64_t block;
    uint32_t tx_index, subtraces;
    uint8_t tx_hash[32], from[20], to[20];
    bool has_from, has_to, call_is_call, ok;
    int type;
    gl_u256 value;
    size_t aoff;   /* trace_address: im->addrs[aoff .. aoff + alen) */
    uint32_t alen;
    uint32_t children; /* counted by resolve */
    src at;
} imp_trace;

typedef struct imp_transfer {
    gl_store_transfer t;
    src at;
} imp_transfer;

struct gl_import_etl {
    uint64_t chain;
    bool resolved;
    vec files;     /* imp_file */
    vec blocks;    /* imp_block: claims, then (resolve) one per number */
    vec txs;       /* imp_tx */
    vec traces;    /* imp_trace */
    vec addrs;     /* uint32_t: trace addresses */
    vec transfers; /* imp_transfer: token rows, then (resolve) every transfer */
    gl_import_etl_summary sum;
};

const char *gl_import_etl_kind_name(gl_import_etl_kind kind)
{
    switch (kind) {
    case GL_IMPORT_ETL_TOKEN_TRANSFERS: return "token_transfers";
    case GL_IMPORT_ETL_TRANSACTIONS: return "transactions";
    case GL_IMPORT_ETL_TRACES: return "traces";
    case GL_IMPORT_ETL_BLOCKS: return "blocks";
    }
    return NULL;
}

gl_import_etl *gl_import_etl_new(uint64_t chain_id, gl_err *err)
{
    if (!chain_id || chain_id == UINT64_MAX) {
        gl_err_set(err, GL_EINVAL, "bad chain id %" PRIu64 " for an import", chain_id);
        return NULL;
    }
    gl_import_etl *im = calloc(1, sizeof *im);
    if (!im) {
        gl_err_set(err, GL_ENOMEM, "out of memory");
        return NULL;
    }
    im->chain = chain_id;
    im->files.esz = sizeof(imp_file);
    im->blocks.esz = sizeof(imp_block);
    im->txs.esz = sizeof(imp_tx);
    im->traces.esz = sizeof(imp_trace);
    im->addrs.esz = sizeof(uint32_t);
    im->transfers.esz = sizeof(imp_transfer);
    return im;
}

void gl_import_etl_free(gl_import_etl *im)
{
    if (!im)
        return;
    for (size_t i = 0; i < im->files.n; i++)
        free(VEC_AT(im->files, imp_file, i)->name);
    free(im->files.v);
    free(im->blocks.v);
    free(im->txs.v);
    free(im->traces.v);
    free(im->addrs.v);
    free(im->transfers.v);
    free(im);
}

static const char *file_name(const gl_import_etl *im, src at)
{
    return VEC_AT(im->files, imp_file, at.file)->name;
}

/* ------------------------------------------------------------ CSV reader */

/* One record at a time; its fields are NUL-terminated strings in `buf` at
 * `offs`.  Errors name the line where the record starts. */
typedef struct csv {
    const char *p, *end, *name;
    unsigned long line, rec_line;
    gl_buf buf;
    size_t *offs, nf, cap;
    const char *const *header; /* for column names in errors, once read */
    size_t nheader;
} csv;

static const char *col_label(const csv *c, size_t i)
{
    return !c->header ? "(header)" : i < c->nheader ? c->header[i] : "(past the header)";
}

static gl_code csv_field_start(csv *c, gl_err *err)
{
    if (c->nf == c->cap) {
        size_t nc = c->cap ? 2 * c->cap : 32;
        size_t *no = realloc(c->offs, nc * sizeof *no);
        if (!no)
            return gl_err_set(err, GL_ENOMEM, "out of memory reading '%s'", c->name);
        c->offs = no;
        c->cap = nc;
    }
    c->offs[c->nf++] = c->buf.len;
    return GL_OK;
}

static bool at_eol(const csv *c)
{
    return c->p < c->end && (*c->p == '\n' || (*c->p == '\r' && c->p + 1 < c->end && c->p[1] == '\n'));
}

/* Read the next record; *eof when there is none.  Blank lines are skipped
 * (Python's csv reader does the same). */
static gl_code csv_next(csv *c, bool *eof, gl_err *err)
{
    c->nf = 0;
    gl_buf_reset(&c->buf);
    while (at_eol(c)) {
        c->p += *c->p == '\r' ? 2 : 1;
        c->line++;
    }
    *eof = c->p >= c->end;
    if (*eof)
        return GL_OK;
    c->rec_line = c->line;
    for (;;) {
        if (csv_field_start(c, err))
            return GL_ENOMEM;
        size_t col = c->nf - 1;
        if (c->p < c->end && *c->p == '"') {
            unsigned long opened = c->line;
            c->p++;
            for (;;) {
                if (c->p >= c->end)
                    return gl_err_set(err, GL_EINVAL,
                                      "%s:%lu: column '%s': unterminated quoted field (the quote opens on line %lu)",
                                      c->name, c->rec_line, col_label(c, col), opened);
                char ch = *c->p++;
                if (ch == '"') {
                    if (c->p < c->end && *c->p == '"') {
                        c->p++;
                    } else {
                        break;
                    }
                } else if (ch == '\n') {
                    c->line++;
                } else if (ch == '\0') {
                    return gl_err_set(err, GL_EINVAL, "%s:%lu: column '%s': a NUL byte", c->name, c->rec_line,
                                      col_label(c, col));
                }
                if (gl_buf_push(&c->buf, (uint8_t)ch, err))
                    return GL_ENOMEM;
            }
            if (c->p < c->end && *c->p != ',' && !at_eol(c))
                return gl_err_set(err, GL_EINVAL, "%s:%lu: column '%s': text after the closing quote", c->name,
                                  c->rec_line, col_label(c, col));
        } else {
            while (c->p < c->end && *c->p != ',' && !at_eol(c)) {
                if (*c->p == '"' || *c->p == '\0')
                    return gl_err_set(err, GL_EINVAL, "%s:%lu: column '%s': %s inside an unquoted field", c->name,
                                      c->rec_line, col_label(c, col), *c->p ? "a quote" : "a NUL byte");
                if (gl_buf_push(&c->buf, (uint8_t)*c->p++, err))
                    return GL_ENOMEM;
            }
        }
        if (gl_buf_push(&c->buf, 0, err))
            return GL_ENOMEM;
        if (c->p >= c->end)
            return GL_OK;
        if (*c->p == ',') {
            c->p++;
            continue;
        }
        c->p += *c->p == '\r' ? 2 : 1;
        c->line++;
        return GL_OK;
    }
}

static const char *csv_field(const csv *c, size_t i)
{
    return (const char *)c->buf.data + c->offs[i];
}

/* ------------------------------------------------------------ columns */

/* The columns each kind reads; `req` ones must be in the header. */
typedef struct colspec {
    const char *name;
    bool req;
} colspec;

enum { TT_TOKEN, TT_FROM, TT_TO, TT_VALUE, TT_TXHASH, TT_LOGINDEX, TT_BLOCK, TT_BHASH, TT_BTS, TT_NCOL };
static const colspec token_cols[TT_NCOL] = {
    {"token_address", true}, {"from_address", true},     {"to_address", true},
    {"value", true},         {"transaction_hash", true}, {"log_index", true},
    {"block_number", true},  {"block_hash", false},      {"block_timestamp", false},
};

enum { TX_HASH, TX_BHASH, TX_BLOCK, TX_INDEX, TX_FROM, TX_TO, TX_VALUE, TX_BTS, TX_STATUS, TX_CREATED, TX_NCOL };
static const colspec tx_cols[TX_NCOL] = {
    {"hash", true},          {"block_hash", true},          {"block_number", true},
    {"transaction_index", true}, {"from_address", true},    {"to_address", true},
    {"value", true},         {"block_timestamp", true},     {"receipt_status", false},
    {"receipt_contract_address", false},
};

enum {
    TR_BLOCK, TR_TXHASH, TR_TXINDEX, TR_FROM, TR_TO, TR_VALUE, TR_TYPE, TR_CALLTYPE, TR_SUBTRACES, TR_ADDR,
    TR_ERROR, TR_STATUS, TR_BHASH, TR_BTS, TR_NCOL
};
static const colspec trace_cols[TR_NCOL] = {
    {"block_number", true}, {"transaction_hash", true}, {"transaction_index", true}, {"from_address", true},
    {"to_address", true},   {"value", true},            {"trace_type", true},        {"call_type", true},
    {"subtraces", true},    {"trace_address", true},    {"error", true},             {"status", true},
    {"block_hash", false},  {"block_timestamp", false},
};

enum { BL_NUMBER, BL_HASH, BL_PARENT, BL_TS, BL_NCOL };
static const colspec block_cols[BL_NCOL] = {
    {"number", true}, {"hash", true}, {"parent_hash", true}, {"timestamp", true}};

/* A row being read: the record, where it is, which header index holds
 * each of the kind's columns (-1: absent). */
typedef struct row {
    const csv *c;
    const colspec *spec;
    const int *idx;
} row;

static gl_code bad(const row *r, int col, gl_code code, const char *what, gl_err *err)
{
    return gl_err_set(err, code, "%s:%lu: column '%s': %s", r->c->name, r->c->rec_line, r->spec[col].name, what);
}

/* The text of column `col`; NULL when the header lacks it (optional). */
static const char *fld(const row *r, int col)
{
    return r->idx[col] < 0 ? NULL : csv_field(r->c, (size_t)r->idx[col]);
}

/* ethereum-etl writes None as an empty field (csv.writer) or, in some
 * versions, as the text None (str(None)). */
static bool is_null(const char *s)
{
    return !s || !*s || !strcmp(s, "None");
}

static gl_code f_u64(const row *r, int col, uint64_t *out, gl_err *err)
{
    const char *s = fld(r, col);
    char why[96];
    if (is_null(s))
        return bad(r, col, GL_EINVAL, "empty (a number is required)", err);
    if (!gl_dec_u64(s, strlen(s), out)) {
        bool digits = strspn(s, "0123456789") == strlen(s);
        snprintf(why, sizeof why, "'%.40s' is not %s", s, digits ? "below 2^64" : "a decimal number");
        return bad(r, col, digits ? GL_ERANGE : GL_EINVAL, why, err);
    }
    return GL_OK;
}

static gl_code f_u32(const row *r, int col, uint32_t *out, gl_err *err)
{
    uint64_t v;
    gl_code rc = f_u64(r, col, &v, err);
    if (rc)
        return rc;
    if (v > UINT32_MAX)
        return bad(r, col, GL_ERANGE, "above 2^32 - 1", err);
    *out = (uint32_t)v;
    return GL_OK;
}

/* "0x" + 2n hex digits into out; *present false for a null when allowed
 * (present != NULL), else an error. */
static gl_code f_hex(const row *r, int col, uint8_t *out, size_t n, bool *present, gl_err *err)
{
    const char *s = fld(r, col);
    if (is_null(s)) {
        if (present) {
            *present = false;
            return GL_OK;
        }
        return bad(r, col, GL_EINVAL, "empty", err);
    }
    char why[160];
    if (s[0] != '0' || (s[1] != 'x' && s[1] != 'X') || strlen(s) != 2 + 2 * n) {
        snprintf(why, sizeof why, "'%.80s' is not 0x and %zu hex digits (%s)", s, 2 * n,
                 n == 20 ? "an address" : "a hash");
        return bad(r, col, GL_EINVAL, why, err);
    }
    gl_err e2;
    if (gl_hex_decode_exact(s, out, n, &e2)) {
        snprintf(why, sizeof why, "'%.80s': %.70s", s, e2.msg);
        return bad(r, col, GL_EINVAL, why, err);
    }
    if (present)
        *present = true;
    return GL_OK;
}

static gl_code f_u256(const row *r, int col, gl_u256 *out, gl_err *err)
{
    const char *s = fld(r, col);
    if (is_null(s))
        return bad(r, col, GL_EINVAL, "empty (an amount is required)", err);
    gl_err e2;
    gl_code rc = gl_u256_parse_dec(out, s, &e2);
    if (rc)
        return bad(r, col, rc, e2.msg, err);
    return GL_OK;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
 * days_from_civil), so that no time zone or locale is involved. */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static bool digits_at(const char *s, size_t n, unsigned *out)
{
    unsigned v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    *out = v;
    return true;
}

/* A block timestamp: seconds since 1970 (ethereum-etl), or UTC date and
 * time as BigQuery writes TIMESTAMP columns ("2015-08-07 03:30:33 UTC"; also
 * "T", fractions of a second, "Z" or "+00:00").  *present false for null. */
static gl_code f_ts(const row *r, int col, uint64_t *out, bool *present, gl_err *err)
{
    const char *s = fld(r, col);
    *present = false;
    if (is_null(s))
        return GL_OK;
    if (strspn(s, "0123456789") == strlen(s))
        return (*present = true, f_u64(r, col, out, err));
    unsigned y, mo, d, h, mi, se;
    size_t n = strlen(s);
    bool ok = n >= 19 && digits_at(s, 4, &y) && s[4] == '-' && digits_at(s + 5, 2, &mo) && s[7] == '-' &&
              digits_at(s + 8, 2, &d) && (s[10] == ' ' || s[10] == 'T') && digits_at(s + 11, 2, &h) &&
              s[13] == ':' && digits_at(s + 14, 2, &mi) && s[16] == ':' && digits_at(s + 17, 2, &se) &&
              mo >= 1 && mo <= 12 && d >= 1 && d <= 31 && h < 24 && mi < 60 && se < 60 && y >= 1970;
    const char *t = s + 19;
    if (ok && *t == '.') {
        t++;
        if (!(*t >= '0' && *t <= '9'))
            ok = false;
        while (*t >= '0' && *t <= '9')
            t++;
    }
    if (ok && *t && strcmp(t, " UTC") && strcmp(t, "Z") && strcmp(t, "+00:00") && strcmp(t, " +00:00"))
        ok = false;
    if (!ok) {
        char why[128];
        snprintf(why, sizeof why, "'%.40s' is neither seconds since 1970 nor a UTC date and time", s);
        return bad(r, col, GL_EINVAL, why, err);
    }
    int64_t days = days_from_civil(y, mo, d);
    *out = (uint64_t)(days * 86400 + h * 3600 + mi * 60 + se);
    *present = true;
    return GL_OK;
}

/* The block_hash and block_timestamp a row may carry, as a claim. */
static gl_code block_claim(gl_import_etl *im, const row *r, int hcol, int tcol, uint64_t number, src at,
                           gl_err *err)
{
    imp_block b = {.number = number, .at = at};
    gl_code rc = GL_OK;
    if (hcol >= 0)
        rc = f_hex(r, hcol, b.hash, 32, &b.has_hash, err);
    if (!rc && tcol >= 0)
        rc = f_ts(r, tcol, &b.ts, &b.has_ts, err);
    if (rc || (!b.has_hash && !b.has_ts))
        return rc;
    imp_block *e = vec_push(&im->blocks, err);
    if (!e)
        return GL_ENOMEM;
    *e = b;
    return GL_OK;
}

/* ------------------------------------------------------------ rows */

static gl_code row_token(gl_import_etl *im, const row *r, src at, gl_err *err)
{
    imp_transfer x;
    memset(&x, 0, sizeof x);
    gl_store_transfer *t = &x.t;
    t->pos.chain_id = im->chain;
    t->pos.kind = GL_STORE_POS_LOG;
    t->asset = GL_STORE_ASSET_ERC20;
    t->flags = GL_STORE_TX_IMPORTED;
    x.at = at;
    gl_code rc = f_hex(r, TT_TOKEN, t->token, 20, NULL, err);
    if (!rc)
        rc = f_hex(r, TT_FROM, t->from, 20, NULL, err);
    if (!rc)
        rc = f_hex(r, TT_TO, t->to, 20, NULL, err);
    if (!rc)
        rc = f_u256(r, TT_VALUE, &t->amount, err);
    if (!rc)
        rc = f_hex(r, TT_TXHASH, t->tx_hash, 32, NULL, err);
    if (!rc)
        rc = f_u32(r, TT_LOGINDEX, &t->pos.index, err);
    if (!rc)
        rc = f_u64(r, TT_BLOCK, &t->pos.block, err);
    if (!rc)
        rc = block_claim(im, r, r->idx[TT_BHASH] >= 0 ? TT_BHASH : -1, r->idx[TT_BTS] >= 0 ? TT_BTS : -1,
                         t->pos.block, at, err);
    if (rc)
        return rc;
    imp_transfer *e = vec_push(&im->transfers, err);
    if (!e)
        return GL_ENOMEM;
    *e = x;
    return GL_OK;
}

static gl_code row_tx(gl_import_etl *im, const row *r, src at, gl_err *err)
{
    imp_tx x;
    memset(&x, 0, sizeof x);
    x.tx.chain_id = im->chain;
    x.tx.flags = GL_STORE_TX_IMPORTED;
    x.at = at;
    gl_code rc = f_hex(r, TX_HASH, x.tx.hash, 32, NULL, err);
    if (!rc)
        rc = f_u64(r, TX_BLOCK, &x.tx.block, err);
    if (!rc)
        rc = f_u32(r, TX_INDEX, &x.tx.index, err);
    if (!rc)
        rc = f_hex(r, TX_FROM, x.tx.from, 20, NULL, err);
    if (!rc)
        rc = f_hex(r, TX_TO, x.tx.to, 20, &x.tx.has_to, err);
    if (!rc)
        rc = f_u256(r, TX_VALUE, &x.tx.value, err);
    if (!rc && r->idx[TX_CREATED] >= 0)
        rc = f_hex(r, TX_CREATED, x.created, 20, &x.has_created, err);
    if (!rc && r->idx[TX_STATUS] >= 0 && !is_null(fld(r, TX_STATUS))) {
        const char *s = fld(r, TX_STATUS);
        if (strcmp(s, "0") && strcmp(s, "1"))
            return bad(r, TX_STATUS, GL_EINVAL, "neither 0 nor 1", err);
        x.has_status = true;
        x.failed = s[0] == '0';
    }
    if (!rc)
        rc = block_claim(im, r, TX_BHASH, TX_BTS, x.tx.block, at, err);
    if (rc)
        return rc;
    imp_tx *e = vec_push(&im->txs, err);
    if (!e)
        return GL_ENOMEM;
    *e = x;
    return GL_OK;
}

/* trace_address: "" (the top-level call) or "0,2,1". */
static gl_code f_trace_addr(gl_import_etl *im, const row *r, imp_trace *x, gl_err *err)
{
    const char *s = fld(r, TR_ADDR);
    x->aoff = im->addrs.n;
    x->alen = 0;
    if (is_null(s))
        return GL_OK;
    const char *p = s;
    for (;;) {
        size_t n = strspn(p, "0123456789");
        uint64_t v;
        if (!n || !gl_dec_u64(p, n, &v) || v > UINT32_MAX) {
            char why[128];
            snprintf(why, sizeof why, "'%.60s' is not a list of call numbers (\"0,2,1\")", s);
            return bad(r, TR_ADDR, GL_EINVAL, why, err);
        }
        uint32_t *e = vec_push(&im->addrs, err);
        if (!e)
            return GL_ENOMEM;
        *e = (uint32_t)v;
        x->alen++;
        p += n;
        if (!*p)
            return GL_OK;
        if (*p != ',' || !p[1]) {
            char why[128];
            snprintf(why, sizeof why, "'%.60s' is not a list of call numbers (\"0,2,1\")", s);
            return bad(r, TR_ADDR, GL_EINVAL, why, err);
        }
        p++;
    }
}

static gl_code row_trace(gl_import_etl *im, const row *r, src at, gl_err *err)
{
    imp_trace x;
    memset(&x, 0, sizeof x);
    x.at = at;
    gl_code rc = f_u64(r, TR_BLOCK, &x.block, err);
    if (rc)
        return rc;
    const char *type = fld(r, TR_TYPE);
    /* block rewards and the genesis allocation belong to no transaction */
    if (!strcmp(type, "reward") || !strcmp(type, "genesis"))
        return GL_OK;
    if (is_null(type))
        return bad(r, TR_TYPE, GL_EINVAL, "empty", err);
    x.type = !strcmp(type, "call") ? TT_CALL : !strcmp(type, "create") ? TT_CREATE
             : !strcmp(type, "suicide")                               ? TT_SUICIDE
                                                                      : TT_OTHER;
    const char *ct = fld(r, TR_CALLTYPE);
    x.call_is_call = ct && !strcmp(ct, "call");
    rc = f_hex(r, TR_TXHASH, x.tx_hash, 32, NULL, err);
    if (!rc)
        rc = f_u32(r, TR_TXINDEX, &x.tx_index, err);
    if (!rc)
        rc = f_hex(r, TR_FROM, x.from, 20, &x.has_from, err);
    if (!rc)
        rc = f_hex(r, TR_TO, x.to, 20, &x.has_to, err);
    if (!rc) {
        if (is_null(fld(r, TR_VALUE)))
            x.value = gl_u256_from_u64(0); /* only call and create carry a value */
        else
            rc = f_u256(r, TR_VALUE, &x.value, err);
    }
    if (!rc)
        rc = f_u32(r, TR_SUBTRACES, &x.subtraces, err);
    if (!rc)
        rc = f_trace_addr(im, r, &x, err);
    if (rc)
        return rc;
    const char *st = fld(r, TR_STATUS);
    if (strcmp(st, "0") && strcmp(st, "1"))
        return bad(r, TR_STATUS, GL_EINVAL, "neither 0 nor 1", err);
    /* status is ethereum-etl's: 0 when this call or one above it failed */
    x.ok = st[0] == '1' && is_null(fld(r, TR_ERROR));
    rc = block_claim(im, r, r->idx[TR_BHASH] >= 0 ? TR_BHASH : -1, r->idx[TR_BTS] >= 0 ? TR_BTS : -1, x.block,
                     at, err);
    if (rc)
        return rc;
    imp_trace *e = vec_push(&im->traces, err);
    if (!e)
        return GL_ENOMEM;
    *e = x;
    return GL_OK;
}

static gl_code row_block(gl_import_etl *im, const row *r, src at, gl_err *err)
{
    imp_block b = {.at = at, .has_hash = true, .has_parent = true};
    gl_code rc = f_u64(r, BL_NUMBER, &b.number, err);
    if (!rc)
        rc = f_hex(r, BL_HASH, b.hash, 32, NULL, err);
    if (!rc)
        rc = f_hex(r, BL_PARENT, b.parent, 32, NULL, err);
    if (!rc)
        rc = f_ts(r, BL_TS, &b.ts, &b.has_ts, err);
    if (!rc && !b.has_ts)
        rc = bad(r, BL_TS, GL_EINVAL, "empty", err);
    if (rc)
        return rc;
    imp_block *e = vec_push(&im->blocks, err);
    if (!e)
        return GL_ENOMEM;
    *e = b;
    return GL_OK;
}

/* ------------------------------------------------------------ a file */

static bool has_col(const char *const *h, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(h[i], name))
            return true;
    return false;
}

/* The kind a header names, by the columns only that kind has. */
static bool detect(const char *const *h, size_t n, gl_import_etl_kind *kind)
{
    if (has_col(h, n, "token_address") && has_col(h, n, "log_index"))
        *kind = GL_IMPORT_ETL_TOKEN_TRANSFERS;
    else if (has_col(h, n, "trace_address") && has_col(h, n, "trace_type"))
        *kind = GL_IMPORT_ETL_TRACES;
    else if (has_col(h, n, "number") && has_col(h, n, "parent_hash"))
        *kind = GL_IMPORT_ETL_BLOCKS;
    else if (has_col(h, n, "hash") && has_col(h, n, "transaction_index") && has_col(h, n, "from_address"))
        *kind = GL_IMPORT_ETL_TRANSACTIONS;
    else
        return false;
    return true;
}

static gl_code parse_rows(gl_import_etl *im, csv *c, uint32_t file, gl_err *err)
{
    /* the header row */
    bool eof;
    gl_code rc = csv_next(c, &eof, err);
    if (rc)
        return rc;
    if (eof)
        return gl_err_set(err, GL_EINVAL, "%s: empty file (no header row)", c->name);
    size_t nh = c->nf;
    const char **h = malloc(nh * sizeof *h);
    char *hbuf = malloc(c->buf.len ? c->buf.len : 1);
    if (!h || !hbuf) {
        free(h);
        free(hbuf);
        return gl_err_set(err, GL_ENOMEM, "out of memory reading '%s'", c->name);
    }
    memcpy(hbuf, c->buf.data, c->buf.len);
    for (size_t i = 0; i < nh; i++)
        h[i] = hbuf + c->offs[i];
    c->header = h;
    c->nheader = nh;
    for (size_t i = 0; i < nh && !rc; i++)
        for (size_t j = 0; j < i && !rc; j++)
            if (!strcmp(h[i], h[j]))
                rc = gl_err_set(err, GL_EINVAL, "%s:%lu: column '%s' appears twice in the header", c->name,
                                c->rec_line, h[i]);
    gl_import_etl_kind k = GL_IMPORT_ETL_TOKEN_TRANSFERS; /* set by detect; -O1 cannot see it */
    if (!rc && !detect(h, nh, &k))
        rc = gl_err_set(err, GL_EINVAL,
                        "%s:%lu: not an ethereum-etl export this reads: the header names no token_transfers, "
                        "transactions, traces or blocks columns (it starts '%.60s')",
                        c->name, c->rec_line, nh ? h[0] : "");
    const colspec *spec = NULL;
    size_t ncol = 0;
    gl_code (*fn)(gl_import_etl *, const row *, src, gl_err *) = NULL;
    if (!rc) {
        VEC_AT(im->files, imp_file, file)->kind = k;
        switch (k) {
        case GL_IMPORT_ETL_TOKEN_TRANSFERS: spec = token_cols, ncol = TT_NCOL, fn = row_token; break;
        case GL_IMPORT_ETL_TRANSACTIONS: spec = tx_cols, ncol = TX_NCOL, fn = row_tx; break;
        case GL_IMPORT_ETL_TRACES: spec = trace_cols, ncol = TR_NCOL, fn = row_trace; break;
        case GL_IMPORT_ETL_BLOCKS: spec = block_cols, ncol = BL_NCOL, fn = row_block; break;
        }
    }
    int idx[(int)TR_NCOL > (int)TX_NCOL ? (int)TR_NCOL : (int)TX_NCOL];
    for (size_t i = 0; !rc && i < ncol; i++) {
        idx[i] = -1;
        for (size_t j = 0; j < nh; j++)
            if (!strcmp(h[j], spec[i].name))
                idx[i] = (int)j;
        if (idx[i] < 0 && spec[i].req)
            rc = gl_err_set(err, GL_EINVAL, "%s:%lu: column '%s': missing from the header of a %s file", c->name,
                            c->rec_line, spec[i].name, gl_import_etl_kind_name(k));
    }
    row r = {c, spec, idx};
    while (!rc) {
        rc = csv_next(c, &eof, err);
        if (rc || eof)
            break;
        if (c->nf != nh) {
            rc = gl_err_set(err, GL_EINVAL, "%s:%lu: column '%s': %zu fields where the header has %zu", c->name,
                            c->rec_line, col_label(c, c->nf < nh ? c->nf : nh), c->nf, nh);
            break;
        }
        if (c->rec_line > UINT32_MAX) {
            rc = gl_err_set(err, GL_ERANGE, "%s: more than 2^32 lines", c->name);
            break;
        }
        im->sum.rows++;
        rc = fn(im, &r, (src){file, (uint32_t)c->rec_line}, err);
    }
    c->header = NULL;
    free(h);
    free(hbuf);
    return rc;
}

gl_code gl_import_etl_parse_buf(gl_import_etl *im, const char *name, const void *data, size_t len,
                                gl_import_etl_kind *kind, gl_err *err)
{
    if (im->resolved)
        return gl_err_set(err, GL_EINVAL, "'%s': the import is already resolved", name);
    imp_file *f = vec_push(&im->files, err);
    if (!f)
        return GL_ENOMEM;
    f->name = strdup(name);
    if (!f->name)
        return gl_err_set(err, GL_ENOMEM, "out of memory");
    gl_keccak256(data, len, f->digest);
    csv c;
    memset(&c, 0, sizeof c);
    c.p = data;
    c.end = c.p + len;
    c.name = f->name;
    c.line = 1;
    gl_buf_init(&c.buf);
    if (len >= 3 && !memcmp(data, "\xef\xbb\xbf", 3))
        c.p += 3; /* a UTF-8 byte order mark, as spreadsheets save */
    gl_code rc = parse_rows(im, &c, (uint32_t)(im->files.n - 1), err);
    gl_buf_release(&c.buf);
    free(c.offs);
    if (!rc && kind)
        *kind = VEC_AT(im->files, imp_file, im->files.n - 1)->kind;
    im->sum.files = im->files.n;
    return rc;
}

gl_code gl_import_etl_parse_file(gl_import_etl *im, const char *path, gl_import_etl_kind *kind, gl_err *err)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return gl_err_set(err, GL_EIO, "cannot open '%s': %s", path, strerror(errno));
    gl_buf b = GL_BUF_INIT;
    char tmp[65536];
    size_t n;
    gl_code rc = GL_OK;
    while (!rc && (n = fread(tmp, 1, sizeof tmp, f)) > 0)
        rc = gl_buf_append(&b, tmp, n, err);
    if (!rc && ferror(f))
        rc = gl_err_set(err, GL_EIO, "cannot read '%s': %s", path, strerror(errno));
    fclose(f);
    if (!rc)
        rc = gl_import_etl_parse_buf(im, path, b.data ? (const void *)b.data : "", b.len, kind, err);
    gl_buf_release(&b);
    return rc;
}

/* ------------------------------------------------------------ resolve */

static gl_code at_err(const gl_import_etl *im, gl_code code, src a, const char *col, gl_err *err, const char *fmt,
                      ...) __attribute__((format(printf, 6, 7)));

/* "FILE:LINE: column 'C': ..." for a record found wrong by resolve. */
static gl_code at_err(const gl_import_etl *im, gl_code code, src a, const char *col, gl_err *err, const char *fmt,
                      ...)
{
    char msg[GL_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return gl_err_set(err, code, "%s:%" PRIu32 ": column '%s': %s", file_name(im, a), a.line, col, msg);
}

static int cmp_src(src a, src b)
{
    return a.file != b.file ? (a.file < b.file ? -1 : 1) : a.line != b.line ? (a.line < b.line ? -1 : 1) : 0;
}

#define CMP(x, y) ((x) < (y) ? -1 : (x) > (y) ? 1 : 0)

static int cmp_block(const void *pa, const void *pb)
{
    const imp_block *a = pa, *b = pb;
    int c = CMP(a->number, b->number);
    return c ? c : cmp_src(a->at, b->at);
}

static int cmp_tx(const void *pa, const void *pb)
{
    const imp_tx *a = pa, *b = pb;
    int c = CMP(a->tx.block, b->tx.block);
    if (!c)
        c = CMP(a->tx.index, b->tx.index);
    return c ? c : cmp_src(a->at, b->at);
}

static int cmp_addr(const uint32_t *a, uint32_t na, const uint32_t *b, uint32_t nb)
{
    for (uint32_t i = 0; i < na && i < nb; i++)
        if (a[i] != b[i])
            return CMP(a[i], b[i]);
    return CMP(na, nb); /* a prefix (the caller) comes first: depth-first order */
}

static int cmp_trace(const void *pa, const void *pb, void *ctx)
{
    const imp_trace *a = pa, *b = pb;
    const uint32_t *arena = ctx;
    int c = CMP(a->block, b->block);
    if (!c)
        c = CMP(a->tx_index, b->tx_index);
    if (!c)
        c = cmp_addr(arena + a->aoff, a->alen, arena + b->aoff, b->alen);
    return c ? c : cmp_src(a->at, b->at);
}

static int cmp_transfer(const void *pa, const void *pb)
{
    const imp_transfer *a = pa, *b = pb;
    uint8_t ka[GL_STORE_POS_LEN], kb[GL_STORE_POS_LEN];
    gl_store_key_pos(ka, &a->t.pos);
    gl_store_key_pos(kb, &b->t.pos);
    int c = memcmp(ka, kb, sizeof ka);
    return c ? c : cmp_src(a->at, b->at);
}

static bool same_transfer(const gl_store_transfer *a, const gl_store_transfer *b)
{
    return a->asset == b->asset && !memcmp(a->token, b->token, 20) && !memcmp(a->from, b->from, 20) &&
           !memcmp(a->to, b->to, 20) && !gl_u256_cmp(&a->amount, &b->amount) &&
           !gl_u256_cmp(&a->token_id, &b->token_id) && !memcmp(a->tx_hash, b->tx_hash, 32);
}

static bool same_tx(const gl_store_tx *a, const gl_store_tx *b)
{
    return !memcmp(a->hash, b->hash, 32) && !memcmp(a->from, b->from, 20) && a->has_to == b->has_to &&
           (!a->has_to || !memcmp(a->to, b->to, 20)) && !gl_u256_cmp(&a->value, &b->value);
}

static const char *hex32(const uint8_t *h, char out[67])
{
    return gl_hex_encode(h, 32, true, out);
}

/* One record per block number: every claim about it must agree. */
static gl_code resolve_blocks(gl_import_etl *im, gl_err *err)
{
    vec *v = &im->blocks;
    if (v->n)
        qsort(v->v, v->n, v->esz, cmp_block);
    size_t out = 0;
    for (size_t i = 0; i < v->n; i++) {
        imp_block *c = VEC_AT(*v, imp_block, i);
        imp_block *m = out ? VEC_AT(*v, imp_block, out - 1) : NULL;
        if (!m || m->number != c->number) {
            *VEC_AT(*v, imp_block, out++) = *c;
            continue;
        }
        char x[67], y[67];
        if (m->has_hash && c->has_hash && memcmp(m->hash, c->hash, 32))
            return at_err(im, GL_EINVAL, c->at, "block_hash", err, "block %" PRIu64 " has hash %s here, %s at %s:%" PRIu32,
                          c->number, hex32(c->hash, x), hex32(m->hash, y), file_name(im, m->at), m->at.line);
        if (m->has_ts && c->has_ts && m->ts != c->ts)
            return at_err(im, GL_EINVAL, c->at, "block_timestamp", err,
                          "block %" PRIu64 " has timestamp %" PRIu64 " here, %" PRIu64 " at %s:%" PRIu32, c->number,
                          c->ts, m->ts, file_name(im, m->at), m->at.line);
        if (m->has_parent && c->has_parent && memcmp(m->parent, c->parent, 32))
            return at_err(im, GL_EINVAL, c->at, "parent_hash", err, "block %" PRIu64 " has parent %s here, %s at %s:%" PRIu32,
                          c->number, hex32(c->parent, x), hex32(m->parent, y), file_name(im, m->at), m->at.line);
        if (c->has_hash && !m->has_hash)
            memcpy(m->hash, c->hash, 32), m->has_hash = true;
        if (c->has_ts && !m->has_ts)
            m->ts = c->ts, m->has_ts = true;
        if (c->has_parent && !m->has_parent)
            memcpy(m->parent, c->parent, 32), m->has_parent = true;
    }
    v->n = out;
    return GL_OK;
}

static bool same_imp_tx(const imp_tx *a, const imp_tx *b)
{
    return same_tx(&a->tx, &b->tx) && a->has_status == b->has_status && a->failed == b->failed &&
           a->has_created == b->has_created && (!a->has_created || !memcmp(a->created, b->created, 20));
}

/* The tx at (block, index), or NULL (txs sorted and unique). */
static imp_tx *tx_at(gl_import_etl *im, uint64_t block, uint32_t index)
{
    size_t lo = 0, hi = im->txs.n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        imp_tx *t = VEC_AT(im->txs, imp_tx, mid);
        int c = CMP(t->tx.block, block);
        if (!c)
            c = CMP(t->tx.index, index);
        if (!c)
            return t;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/* txs by hash: `byhash` holds indices into im->txs sorted by hash. */
static imp_tx *tx_by_hash(gl_import_etl *im, const size_t *byhash, const uint8_t hash[32])
{
    size_t lo = 0, hi = im->txs.n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        imp_tx *t = VEC_AT(im->txs, imp_tx, byhash[mid]);
        int c = memcmp(t->tx.hash, hash, 32);
        if (!c)
            return t;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

static int cmp_hash_idx(const void *pa, const void *pb, void *ctx)
{
    const imp_tx *txs = ctx;
    return memcmp(txs[*(const size_t *)pa].tx.hash, txs[*(const size_t *)pb].tx.hash, 32);
}

static gl_code resolve_txs(gl_import_etl *im, size_t **byhash, gl_err *err)
{
    vec *v = &im->txs;
    if (v->n)
        qsort(v->v, v->n, v->esz, cmp_tx);
    size_t out = 0;
    for (size_t i = 0; i < v->n; i++) {
        imp_tx *c = VEC_AT(*v, imp_tx, i);
        imp_tx *m = out ? VEC_AT(*v, imp_tx, out - 1) : NULL;
        if (m && m->tx.block == c->tx.block && m->tx.index == c->tx.index) {
            if (!same_imp_tx(m, c))
                return at_err(im, GL_EINVAL, c->at, "transaction_index", err,
                              "block %" PRIu64 " tx index %" PRIu32 " is also at %s:%" PRIu32 " with other content",
                              c->tx.block, c->tx.index, file_name(im, m->at), m->at.line);
            im->sum.duplicate_rows++;
            continue;
        }
        *VEC_AT(*v, imp_tx, out++) = *c;
    }
    v->n = out;
    *byhash = malloc((out ? out : 1) * sizeof **byhash);
    if (!*byhash)
        return gl_err_set(err, GL_ENOMEM, "out of memory");
    for (size_t i = 0; i < out; i++)
        (*byhash)[i] = i;
    if (out)
        qsort_r(*byhash, out, sizeof **byhash, cmp_hash_idx, v->v);
    for (size_t i = 1; i < out; i++) {
        imp_tx *a = VEC_AT(*v, imp_tx, (*byhash)[i - 1]), *b = VEC_AT(*v, imp_tx, (*byhash)[i]);
        if (!memcmp(a->tx.hash, b->tx.hash, 32)) {
            imp_tx *late = cmp_src(a->at, b->at) < 0 ? b : a, *early = late == a ? b : a;
            char h[67];
            return at_err(im, GL_EINVAL, late->at, "hash", err,
                          "tx %s is at block %" PRIu64 " index %" PRIu32 " here and at block %" PRIu64
                          " index %" PRIu32 " on %s:%" PRIu32,
                          hex32(late->tx.hash, h), late->tx.block, late->tx.index, early->tx.block, early->tx.index,
                          file_name(im, early->at), early->at.line);
        }
    }
    return GL_OK;
}

static bool same_trace(const imp_trace *a, const imp_trace *b)
{
    return !memcmp(a->tx_hash, b->tx_hash, 32) && a->has_from == b->has_from && !memcmp(a->from, b->from, 20) &&
           a->has_to == b->has_to && !memcmp(a->to, b->to, 20) && a->type == b->type &&
           a->call_is_call == b->call_is_call && a->ok == b->ok && a->subtraces == b->subtraces &&
           !gl_u256_cmp(&a->value, &b->value);
}

static gl_code add_transfer(gl_import_etl *im, const gl_store_transfer *t, src at, gl_err *err)
{
    imp_transfer *e = vec_push(&im->transfers, err);
    if (!e)
        return GL_ENOMEM;
    e->t = *t;
    e->at = at;
    return GL_OK;
}

/* Trace trees, tx by tx: depth-first numbers, completeness, the native
 * transfers of internal calls. */
static gl_code resolve_traces(gl_import_etl *im, gl_err *err)
{
    vec *v = &im->traces;
    /* Traces that all have an empty trace_address (top-level calls only)
     * never grow the arena: im->addrs.v stays NULL, and NULL + 0 is
     * undefined behaviour (fuzz_import_etl, tests/fuzz/corpus/import_etl/
     * traces_empty_addresses).  Such traces read no element of it. */
    static const uint32_t no_addrs[1];
    const uint32_t *arena = im->addrs.v ? (const uint32_t *)im->addrs.v : no_addrs;
    if (v->n)
        qsort_r(v->v, v->n, v->esz, cmp_trace, (void *)arena);
    size_t out = 0;
    for (size_t i = 0; i < v->n; i++) {
        imp_trace *c = VEC_AT(*v, imp_trace, i);
        imp_trace *m = out ? VEC_AT(*v, imp_trace, out - 1) : NULL;
        if (m && m->block == c->block && m->tx_index == c->tx_index &&
            !cmp_addr(arena + m->aoff, m->alen, arena + c->aoff, c->alen)) {
            if (!same_trace(m, c))
                return at_err(im, GL_EINVAL, c->at, "trace_address", err,
                              "block %" PRIu64 " tx index %" PRIu32 " has this call also at %s:%" PRIu32
                              " with other content",
                              c->block, c->tx_index, file_name(im, m->at), m->at.line);
            im->sum.duplicate_rows++;
            continue;
        }
        *VEC_AT(*v, imp_trace, out++) = *c;
    }
    v->n = out;
    gl_code rc = GL_OK;
    for (size_t g0 = 0, g1; g0 < v->n && !rc; g0 = g1) {
        imp_trace *root = VEC_AT(*v, imp_trace, g0);
        for (g1 = g0 + 1; g1 < v->n; g1++) {
            imp_trace *t = VEC_AT(*v, imp_trace, g1);
            if (t->block != root->block || t->tx_index != root->tx_index)
                break;
        }
        if (root->alen)
            return at_err(im, GL_EINVAL, root->at, "trace_address", err,
                          "block %" PRIu64 " tx index %" PRIu32 " has no top-level trace (trace_address empty): "
                          "the files must hold every trace of a transaction to number its calls",
                          root->block, root->tx_index);
        imp_tx *tx = tx_at(im, root->block, root->tx_index);
        char h1[67], h2[67];
        if (tx && memcmp(tx->tx.hash, root->tx_hash, 32))
            return at_err(im, GL_EINVAL, root->at, "transaction_hash", err,
                          "%s, but %s:%" PRIu32 " has tx %s at block %" PRIu64 " index %" PRIu32,
                          hex32(root->tx_hash, h1), file_name(im, tx->at), tx->at.line, hex32(tx->tx.hash, h2),
                          root->block, root->tx_index);
        if (!root->ok && tx) {
            if (tx->has_status && !tx->failed)
                return at_err(im, GL_EINVAL, root->at, "status", err,
                              "the top-level call failed, but %s:%" PRIu32 " says receipt_status 1",
                              file_name(im, tx->at), tx->at.line);
            tx->failed = true; /* the tx reverted: its own value did not move */
        }
        for (size_t i = g0; i < g1; i++) {
            imp_trace *t = VEC_AT(*v, imp_trace, i);
            t->children = 0;
            if (memcmp(t->tx_hash, root->tx_hash, 32))
                return at_err(im, GL_EINVAL, t->at, "transaction_hash", err,
                              "%s, but the top-level trace of block %" PRIu64 " tx index %" PRIu32
                              " (%s:%" PRIu32 ") names %s",
                              hex32(t->tx_hash, h1), t->block, t->tx_index, file_name(im, root->at), root->at.line,
                              hex32(root->tx_hash, h2));
            if (i == g0)
                continue;
            /* the parent precedes it (depth-first order): binary search */
            const uint32_t *a = arena + t->aoff;
            size_t lo = g0, hi = i;
            imp_trace *parent = NULL;
            while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                imp_trace *p = VEC_AT(*v, imp_trace, mid);
                int c = cmp_addr(arena + p->aoff, p->alen, a, t->alen - 1);
                if (!c) {
                    parent = p;
                    break;
                }
                if (c < 0)
                    lo = mid + 1;
                else
                    hi = mid;
            }
            if (!parent)
                return at_err(im, GL_EINVAL, t->at, "trace_address", err,
                              "the call that made this one is missing from the files (block %" PRIu64
                              " tx index %" PRIu32 "): they must hold every trace of a transaction to number its calls",
                              t->block, t->tx_index);
            if (a[t->alen - 1] >= parent->subtraces)
                return at_err(im, GL_EINVAL, t->at, "trace_address", err,
                              "call number %" PRIu32 " under a call with subtraces %" PRIu32 " (%s:%" PRIu32 ")",
                              a[t->alen - 1], parent->subtraces, file_name(im, parent->at), parent->at.line);
            parent->children++;
        }
        for (size_t i = g0; i < g1; i++) {
            imp_trace *t = VEC_AT(*v, imp_trace, i);
            if (t->children != t->subtraces)
                return at_err(im, GL_EINVAL, t->at, "subtraces", err,
                              "%" PRIu32 " calls, but the files hold %" PRIu32 " of them: they must hold every trace of "
                              "a transaction to number its calls",
                              t->subtraces, t->children);
        }
        /* the internal calls that moved the native coin, numbered depth-first
         * from the top-level call's 0, as the indexer numbers them */
        for (size_t i = g0 + 1; i < g1 && !rc; i++) {
            imp_trace *t = VEC_AT(*v, imp_trace, i);
            bool moves = (t->type == TT_CALL && t->call_is_call) || t->type == TT_CREATE || t->type == TT_SUICIDE;
            if (!moves || !t->ok || gl_u256_is_zero(&t->value))
                continue;
            if (!t->has_from || !t->has_to)
                return at_err(im, GL_EINVAL, t->at, t->has_from ? "to_address" : "from_address", err,
                              "empty on a call that moved value");
            if (i - g0 > UINT32_MAX)
                return at_err(im, GL_ERANGE, t->at, "trace_address", err, "more than 2^32 calls in one tx");
            gl_store_transfer x;
            memset(&x, 0, sizeof x);
            x.pos = (gl_store_pos){im->chain, t->block, GL_STORE_POS_TRACE, t->tx_index, (uint32_t)(i - g0)};
            x.asset = GL_STORE_ASSET_NATIVE;
            memcpy(x.from, t->from, 20);
            memcpy(x.to, t->to, 20);
            x.amount = t->value;
            memcpy(x.tx_hash, t->tx_hash, 32);
            x.flags = GL_STORE_TX_IMPORTED;
            if (tx)
                tx->keep = true;
            im->sum.trace_transfers++;
            rc = add_transfer(im, &x, t->at, err);
        }
    }
    return rc;
}

gl_code gl_import_etl_resolve(gl_import_etl *im, gl_import_etl_summary *sum, gl_err *err)
{
    if (im->resolved)
        return gl_err_set(err, GL_EINVAL, "the import is already resolved");
    im->resolved = true;
    size_t *byhash = NULL;
    gl_code rc = resolve_blocks(im, err);
    if (!rc)
        rc = resolve_txs(im, &byhash, err);
    /* token transfers: one per log position, in the block their tx is in */
    size_t ntoken = im->transfers.n;
    if (!rc && ntoken)
        qsort(im->transfers.v, ntoken, im->transfers.esz, cmp_transfer);
    size_t out = 0;
    for (size_t i = 0; !rc && i < ntoken; i++) {
        imp_transfer *c = VEC_AT(im->transfers, imp_transfer, i);
        imp_transfer *m = out ? VEC_AT(im->transfers, imp_transfer, out - 1) : NULL;
        if (m && m->t.pos.block == c->t.pos.block && m->t.pos.index == c->t.pos.index) {
            if (!same_transfer(&m->t, &c->t))
                rc = at_err(im, GL_EINVAL, c->at, "log_index", err,
                            "block %" PRIu64 " log index %" PRIu32 " is also at %s:%" PRIu32 " with other content",
                            c->t.pos.block, c->t.pos.index, file_name(im, m->at), m->at.line);
            im->sum.duplicate_rows++;
            continue;
        }
        imp_tx *tx = tx_by_hash(im, byhash, c->t.tx_hash);
        if (tx && tx->tx.block != c->t.pos.block) {
            char h[67];
            rc = at_err(im, GL_EINVAL, c->at, "transaction_hash", err,
                        "tx %s is in block %" PRIu64 " (%s:%" PRIu32 "), not %" PRIu64, hex32(c->t.tx_hash, h),
                        tx->tx.block, file_name(im, tx->at), tx->at.line, c->t.pos.block);
            break;
        }
        if (tx)
            tx->keep = true;
        *VEC_AT(im->transfers, imp_transfer, out++) = *c;
    }
    im->transfers.n = out;
    im->sum.token_transfers = out;
    if (!rc)
        rc = resolve_traces(im, err);
    /* the txs' own values */
    for (size_t i = 0; !rc && i < im->txs.n; i++) {
        imp_tx *t = VEC_AT(im->txs, imp_tx, i);
        if (t->failed)
            t->tx.flags |= GL_STORE_TX_FAILED;
        if (gl_u256_is_zero(&t->tx.value))
            continue;
        t->keep = true;
        if (!t->tx.has_to && !t->has_created) {
            im->sum.creations_skipped++; /* the new contract's address is not in the file */
            continue;
        }
        gl_store_transfer x;
        memset(&x, 0, sizeof x);
        x.pos = (gl_store_pos){im->chain, t->tx.block, GL_STORE_POS_TX, t->tx.index, 0};
        x.asset = GL_STORE_ASSET_NATIVE;
        memcpy(x.from, t->tx.from, 20);
        memcpy(x.to, t->tx.has_to ? t->tx.to : t->created, 20);
        x.amount = t->tx.value;
        memcpy(x.tx_hash, t->tx.hash, 32);
        x.flags = t->tx.flags;
        im->sum.tx_transfers++;
        rc = add_transfer(im, &x, t->at, err);
    }
    free(byhash);
    if (rc)
        return rc;
    if (im->transfers.n)
        qsort(im->transfers.v, im->transfers.n, im->transfers.esz, cmp_transfer);
    for (size_t i = 0; i < im->txs.n; i++)
        im->sum.txs += VEC_AT(im->txs, imp_tx, i)->keep;
    for (size_t i = 0; i < im->blocks.n; i++) {
        imp_block *b = VEC_AT(im->blocks, imp_block, i);
        im->sum.blocks += b->has_hash && b->has_ts;
    }
    if (sum)
        *sum = im->sum;
    return GL_OK;
}

/* ------------------------------------------------------------ write */

/* What the store says about a record: write it, skip it (equal, or the
 * indexer's checked copy), or refuse the import. */
enum { W_NEW, W_SAME, W_KEPT };

static void file_binding(const imp_file *f, char name[GL_STORE_NAME_MAX])
{
    char hex[2 * 16 + 1];
    gl_hex_encode(f->digest, 16, false, hex);
    snprintf(name, GL_STORE_NAME_MAX, "etl/%s", hex);
}

static gl_code check_block(gl_store *s, const gl_import_etl *im, const imp_block *b, int *what, gl_err *err)
{
    gl_store_block st;
    bool found;
    gl_code rc = gl_store_get_block(s, im->chain, b->number, &st, &found, err);
    if (rc || !found) {
        *what = W_NEW;
        return rc;
    }
    char x[67], y[67];
    if (memcmp(st.hash, b->hash, 32) || st.timestamp != b->ts)
        return at_err(im, GL_EVERIFY, b->at, memcmp(st.hash, b->hash, 32) ? "block_hash" : "block_timestamp", err,
                      "the store holds block %" PRIu64 " of chain %" PRIu64 " as %s at %" PRIu64 ", not %s at %" PRIu64
                      "; nothing was imported",
                      b->number, im->chain, hex32(st.hash, x), st.timestamp, hex32(b->hash, y), b->ts);
    /* the same block: a parent hash the store lacks is worth writing, unless
     * the stored block was checked (writing would drop its checks) */
    static const uint8_t zero[32];
    if (!st.verified && b->has_parent && !memcmp(st.parent_hash, zero, 32) && memcmp(b->parent, zero, 32)) {
        *what = W_NEW;
        return GL_OK;
    }
    if (!st.verified && b->has_parent && memcmp(st.parent_hash, b->parent, 32) && memcmp(st.parent_hash, zero, 32))
        return at_err(im, GL_EVERIFY, b->at, "parent_hash", err,
                      "the store holds block %" PRIu64 " of chain %" PRIu64 " with parent %s, not %s; nothing was imported",
                      b->number, im->chain, hex32(st.parent_hash, x), hex32(b->parent, y));
    *what = st.verified ? W_KEPT : W_SAME;
    return GL_OK;
}

static gl_code check_tx(gl_store *s, const gl_import_etl *im, const imp_tx *t, int *what, gl_err *err)
{
    gl_store_tx st;
    bool found;
    gl_code rc = gl_store_get_tx(s, im->chain, t->tx.block, t->tx.index, &st, &found, err);
    if (rc || !found) {
        *what = W_NEW;
        return rc;
    }
    if (same_tx(&st, &t->tx) && st.flags == t->tx.flags) {
        *what = W_SAME;
        return GL_OK;
    }
    if (same_tx(&st, &t->tx) && !(st.flags & GL_STORE_TX_IMPORTED)) {
        *what = W_KEPT;
        return GL_OK;
    }
    char x[67];
    return at_err(im, GL_EVERIFY, t->at, "hash", err,
                  "the store holds another tx at chain %" PRIu64 " block %" PRIu64 " index %" PRIu32
                  " (hash %s%s); nothing was imported",
                  im->chain, t->tx.block, t->tx.index, hex32(st.hash, x),
                  (st.flags & GL_STORE_TX_IMPORTED) ? ", imported before" : "");
}

static const char *kind_text(gl_store_pos_kind k)
{
    return k == GL_STORE_POS_TX ? "tx" : k == GL_STORE_POS_LOG ? "log" : "trace";
}

static gl_code check_transfer(gl_store *s, const gl_import_etl *im, const imp_transfer *t, int *what, gl_err *err)
{
    gl_store_transfer st;
    bool found;
    gl_code rc = gl_store_get_transfer(s, &t->t.pos, &st, &found, err);
    if (rc || !found) {
        *what = W_NEW;
        return rc;
    }
    if (same_transfer(&st, &t->t) && st.flags == t->t.flags) {
        *what = W_SAME;
        return GL_OK;
    }
    if (same_transfer(&st, &t->t) && !(st.flags & GL_STORE_TX_IMPORTED)) {
        *what = W_KEPT;
        return GL_OK;
    }
    const char *col = t->t.pos.kind == GL_STORE_POS_LOG     ? "log_index"
                      : t->t.pos.kind == GL_STORE_POS_TRACE ? "trace_address"
                                                            : "transaction_index";
    char x[67];
    return at_err(im, GL_EVERIFY, t->at, col, err,
                  "the store holds another transfer at chain %" PRIu64 " block %" PRIu64 " %s %" PRIu32 " sub %" PRIu32
                  " (tx %s%s); nothing was imported",
                  im->chain, t->t.pos.block, kind_text(t->t.pos.kind), t->t.pos.index, t->t.pos.sub,
                  hex32(st.tx_hash, x), (st.flags & GL_STORE_TX_IMPORTED) ? ", imported before" : "");
}

/* Does the import or the store know block n's timestamp?  `cache` keeps
 * the last answer (transfers come in block order). */
typedef struct ts_cache {
    bool valid, known;
    uint64_t block;
} ts_cache;

static gl_code ts_known(gl_store *s, const gl_import_etl *im, uint64_t block, ts_cache *cache, bool *known,
                        gl_err *err)
{
    if (cache->valid && cache->block == block) {
        *known = cache->known;
        return GL_OK;
    }
    *known = false;
    size_t lo = 0, hi = im->blocks.n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const imp_block *b = VEC_AT(im->blocks, imp_block, mid);
        if (b->number == block) {
            *known = b->has_hash && b->has_ts;
            break;
        }
        if (b->number < block)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (!*known) {
        gl_store_block st;
        gl_code rc = gl_store_get_block(s, im->chain, block, &st, known, err);
        if (rc)
            return rc;
    }
    *cache = (ts_cache){true, *known, block};
    return GL_OK;
}

/* Commit when the batch is full (`force`: whatever it holds). */
static gl_code flush(gl_store_batch *b, bool force, gl_import_etl_summary *sum, gl_err *err)
{
    if (!gl_store_batch_count(b) || (!force && gl_store_batch_count(b) < GL_IMPORT_ETL_BATCH_RECORDS))
        return GL_OK;
    gl_code rc = gl_store_batch_commit(b, err);
    if (!rc)
        sum->batches++;
    return rc;
}

gl_code gl_import_etl_write(gl_store *s, gl_import_etl *im, gl_import_etl_summary *sum, gl_err *err)
{
    gl_code rc = im->resolved ? GL_OK : gl_import_etl_resolve(im, NULL, err);
    if (rc)
        return rc;
    gl_import_etl_summary *w = &im->sum;
    w->written = w->already_stored = w->kept_checked = w->no_timestamp = w->batches = w->files_seen_before = 0;
    /* the files' names in the store */
    for (size_t i = 0; i < im->files.n; i++) {
        const imp_file *f = VEC_AT(im->files, imp_file, i);
        char name[GL_STORE_NAME_MAX];
        file_binding(f, name);
        uint64_t bound;
        bool found;
        if ((rc = gl_store_get_binding(s, name, &bound, &found, err)))
            return rc;
        if (found && bound != im->chain)
            return gl_err_set(err, GL_EINVAL,
                              "'%s' was imported into this store as chain %" PRIu64 ", not %" PRIu64
                              "; nothing was imported",
                              f->name, bound, im->chain);
        w->files_seen_before += found;
    }
    /* every record against the store, before anything is written */
    size_t nrec = im->blocks.n + im->txs.n + im->transfers.n;
    uint8_t *what = malloc(nrec ? nrec : 1);
    if (!what)
        return gl_err_set(err, GL_ENOMEM, "out of memory");
    size_t k = 0;
    for (size_t i = 0; !rc && i < im->blocks.n; i++, k++) {
        const imp_block *b = VEC_AT(im->blocks, imp_block, i);
        int wv = W_SAME;
        if (b->has_hash && b->has_ts)
            rc = check_block(s, im, b, &wv, err);
        else
            wv = W_KEPT; /* nothing to write: a timestamp without a hash */
        what[k] = (uint8_t)wv;
    }
    for (size_t i = 0; !rc && i < im->txs.n; i++, k++) {
        const imp_tx *t = VEC_AT(im->txs, imp_tx, i);
        int wv = W_KEPT;
        if (t->keep)
            rc = check_tx(s, im, t, &wv, err);
        what[k] = (uint8_t)wv;
    }
    ts_cache cache = {0};
    for (size_t i = 0; !rc && i < im->transfers.n; i++, k++) {
        const imp_transfer *t = VEC_AT(im->transfers, imp_transfer, i);
        int wv = W_NEW;
        bool known = false;
        rc = check_transfer(s, im, t, &wv, err);
        if (!rc)
            rc = ts_known(s, im, t->t.pos.block, &cache, &known, err);
        if (!rc && !known)
            w->no_timestamp++;
        what[k] = (uint8_t)wv;
    }
    if (rc) {
        free(what);
        return rc;
    }
    /* then the writes, in key order, batch by batch */
    gl_store_batch *b = gl_store_batch_new(s, err);
    if (!b) {
        free(what);
        return err ? err->code : GL_ENOMEM;
    }
    k = 0;
    for (size_t i = 0; !rc && i < im->blocks.n; i++, k++) {
        const imp_block *ib = VEC_AT(im->blocks, imp_block, i);
        if (what[k] != W_NEW) {
            bool real = ib->has_hash && ib->has_ts;
            w->already_stored += real && what[k] == W_SAME;
            w->kept_checked += real && what[k] == W_KEPT;
            continue;
        }
        gl_store_block blk = {.chain_id = im->chain, .number = ib->number, .timestamp = ib->ts, .verified = 0};
        memcpy(blk.hash, ib->hash, 32);
        if (ib->has_parent)
            memcpy(blk.parent_hash, ib->parent, 32); /* else zero: unknown */
        rc = gl_store_batch_put_block(b, &blk, err);
        if (!rc)
            w->written++, rc = flush(b, false, w, err);
    }
    for (size_t i = 0; !rc && i < im->txs.n; i++, k++) {
        const imp_tx *t = VEC_AT(im->txs, imp_tx, i);
        if (what[k] != W_NEW) {
            w->already_stored += t->keep && what[k] == W_SAME;
            w->kept_checked += t->keep && what[k] == W_KEPT;
            continue;
        }
        rc = gl_store_batch_put_tx(b, &t->tx, err);
        if (!rc)
            w->written++, rc = flush(b, false, w, err);
    }
    for (size_t i = 0; !rc && i < im->transfers.n; i++, k++) {
        const imp_transfer *t = VEC_AT(im->transfers, imp_transfer, i);
        if (what[k] != W_NEW) {
            w->already_stored += what[k] == W_SAME;
            w->kept_checked += what[k] == W_KEPT;
            continue;
        }
        rc = gl_store_batch_put_transfer(b, &t->t, err);
        if (!rc)
            w->written++, rc = flush(b, false, w, err);
    }
    /* last, the files' names: present only when everything before is */
    for (size_t i = 0; !rc && i < im->files.n; i++) {
        char name[GL_STORE_NAME_MAX];
        const imp_file *f = VEC_AT(im->files, imp_file, i);
        file_binding(f, name);
        rc = gl_store_batch_set_platform_hash(b, name, im->chain, f->digest, err);
    }
    if (!rc)
        rc = flush(b, true, w, err);
    gl_store_batch_free(b);
    free(what);
    if (!rc && sum)
        *sum = *w;
    return rc;
}
