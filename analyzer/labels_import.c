/* labels_import.c - parse address-label lists (our CSV, GraphSense TagPack
 * YAML, OFAC's sdn.csv and sdn.xml) and write them into the store in one
 * batch.
 *
 * Every parser works on bytes in memory and only appends validated
 * gl_store_label records to a vector, so that it can be fuzzed alone;
 * gl_labels_import is the only function that touches files and the store,
 * and it writes nothing until every file has parsed.  The formats, the
 * category and confidence mappings and where each layout was checked are in
 * docs/LABELS.md.
 *
 * Sections: helpers (errors, text checks, the vector), values (addresses,
 * categories, confidences), duplicates, CSV reader, the four parsers,
 * detection and import.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/xmlreader.h>
#include <yaml.h>

#include "gpuledger/bytes.h"
#include "gpuledger/keccak.h"
#include "gpuledger/labels_import.h"

/* ---------------------------------------------------------------- helpers */

/* "NAME:LINE:COL: message" (":COL" left out when col is 0, ":LINE" when
 * line is 0). */
static gl_code errat(gl_err *err, gl_code code, const char *name, size_t line, size_t col,
                     const char *fmt, ...) __attribute__((format(printf, 6, 7)));
static gl_code errat(gl_err *err, gl_code code, const char *name, size_t line, size_t col,
                     const char *fmt, ...)
{
    char msg[GL_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (!line)
        return gl_err_set(err, code, "%s: %s", name, msg);
    if (!col)
        return gl_err_set(err, code, "%s:%zu: %s", name, line, msg);
    return gl_err_set(err, code, "%s:%zu:%zu: %s", name, line, col, msg);
}

/* The message of `e` moved behind a location (for errors of the value
 * helpers, which do not know where they are). */
static gl_code errwrap(gl_err *err, const gl_err *e, const char *name, size_t line, size_t col,
                       const char *what)
{
    return errat(err, e->code ? e->code : GL_EINVAL, name, line, col, "%s: %s", what, e->msg);
}

static bool utf8_ok(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i];
        size_t k;
        unsigned min;
        if (c < 0x80) {
            i++;
            continue;
        } else if ((c & 0xe0) == 0xc0) {
            k = 1, min = 0x80, c &= 0x1f;
        } else if ((c & 0xf0) == 0xe0) {
            k = 2, min = 0x800, c &= 0x0f;
        } else if ((c & 0xf8) == 0xf0) {
            k = 3, min = 0x10000, c &= 0x07;
        } else {
            return false;
        }
        if (i + k >= n)
            return false;
        for (size_t j = 1; j <= k; j++) {
            if ((s[i + j] & 0xc0) != 0x80)
                return false;
            c = (c << 6) | (s[i + j] & 0x3f);
        }
        if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
            return false;
        i += k + 1;
    }
    return true;
}

/* Can n bytes go into a store text field of capacity cap: 1..cap-1 bytes,
 * no control characters (the store refuses them), valid UTF-8 (labels are
 * printed as JSON, which must be)?  Copies them NUL-terminated into out. */
static gl_code text_put(char *out, size_t cap, const char *s, size_t n, gl_err *err)
{
    if (n == 0)
        return gl_err_set(err, GL_EINVAL, "is empty");
    if (n >= cap)
        return gl_err_set(err, GL_ERANGE, "is %zu bytes, at most %zu fit", n, cap - 1);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f)
            return gl_err_set(err, GL_EINVAL, "has control character 0x%02x at byte %zu", c, i + 1);
    }
    if (!utf8_ok((const unsigned char *)s, n))
        return gl_err_set(err, GL_EINVAL, "is not valid UTF-8");
    memcpy(out, s, n);
    out[n] = 0;
    return GL_OK;
}

static void trim(const char **s, size_t *n)
{
    while (*n && ((*s)[0] == ' ' || (*s)[0] == '\t'))
        (*s)++, (*n)--;
    while (*n && ((*s)[*n - 1] == ' ' || (*s)[*n - 1] == '\t'))
        (*n)--;
}

static bool eq_nocase(const char *s, size_t n, const char *word)
{
    size_t m = strlen(word);
    return n == m && !strncasecmp(s, word, n);
}

void gl_labels_vec_release(gl_labels_vec *v)
{
    if (!v)
        return;
    free(v->labels);
    free(v->lines);
    memset(v, 0, sizeof *v);
}

static gl_code vec_push(gl_labels_vec *v, const gl_store_label *l, size_t line, gl_err *err)
{
    if (v->n == v->cap) {
        size_t cap = v->cap ? 2 * v->cap : 64;
        gl_store_label *nl = realloc(v->labels, cap * sizeof *nl);
        if (!nl)
            return gl_err_set(err, GL_ENOMEM, "out of memory for %zu labels", cap);
        v->labels = nl;
        uint32_t *ln = realloc(v->lines, cap * sizeof *ln);
        if (!ln)
            return gl_err_set(err, GL_ENOMEM, "out of memory for %zu labels", cap);
        v->lines = ln;
        v->cap = cap;
    }
    v->labels[v->n] = *l;
    v->lines[v->n] = line > UINT32_MAX ? UINT32_MAX : (uint32_t)line;
    v->n++;
    return GL_OK;
}

/* ----------------------------------------------------------------- values */

static const char *const category_names[GL_LABELS_NCAT] = {
    "exchange", "bridge",   "router",   "mixer", "dex",   "contract",
    "sanctioned", "provider", "platform", "scam", "other",
};

const char *gl_labels_category_name(gl_labels_category c)
{
    return (unsigned)c < GL_LABELS_NCAT ? category_names[c] : NULL;
}

gl_code gl_labels_category_parse(const char *s, size_t n, gl_labels_category *out, gl_err *err)
{
    for (int i = 0; i < GL_LABELS_NCAT; i++)
        if (eq_nocase(s, n, category_names[i])) {
            *out = (gl_labels_category)i;
            return GL_OK;
        }
    return gl_err_set(err, GL_EINVAL,
                      "unknown category '%.*s' (one of exchange, bridge, router, mixer, dex, "
                      "contract, sanctioned, provider, platform, scam, other)",
                      (int)(n > 64 ? 64 : n), s);
}

/* GraphSense concepts -> ours.  The ids are those of the concepts taxonomy
 * in graphsense/graphsense-tagpack-tool, src/tagpack/db/concepts.yaml; the
 * ones not listed with a category of ours map to "other", so that a valid
 * TagPack never fails on its category while a typo still does. */
static const struct {
    const char *concept;
    gl_labels_category cat;
} tagpack_concepts[] = {
    {"exchange", GL_LABELS_EXCHANGE},
    {"atm", GL_LABELS_EXCHANGE},
    {"defi_bridge", GL_LABELS_BRIDGE},
    {"mixing_service", GL_LABELS_MIXER},
    {"mixing", GL_LABELS_MIXER},
    {"coinjoin", GL_LABELS_MIXER},
    {"defi_dex", GL_LABELS_DEX},
    {"defi", GL_LABELS_CONTRACT},
    {"defi_lending", GL_LABELS_CONTRACT},
    {"defi_derivative", GL_LABELS_CONTRACT},
    {"defi_derivatives", GL_LABELS_CONTRACT},
    {"sanction", GL_LABELS_SANCTIONED},
    {"hosting", GL_LABELS_PROVIDER},
    {"mining_service", GL_LABELS_PROVIDER},
    {"scam", GL_LABELS_SCAM},
    {"phishing", GL_LABELS_SCAM},
    {"investment_fraud", GL_LABELS_SCAM},
    {"ponzi_scheme", GL_LABELS_SCAM},
    {"pyramid_scheme", GL_LABELS_SCAM},
};

static const char *const tagpack_other[] = {
    "concept",       "behaviour",        "source",          "mention",
    "forum_mention", "website_mention",  "abuse",           "gray_usage",
    "white_usage",   "sexual_abuse",     "child_sexual_abuse", "violence",
    "torture",       "financial_crime",  "money_laundering", "extortion",
    "sextortion",    "service_hack",     "payment_card_fraud", "ransomware",
    "extremism",     "terrorism",        "dark_web",        "entity",
    "organization",  "user",             "service",         "victim",
    "perpetrator",   "donation",         "wallet_service",  "escrow_wallet",
    "ico_wallet",    "cold_wallet",      "hot_wallet",      "warm_wallet",
    "filesharing",   "index",            "market",          "messaging_service",
    "miner",         "gambling",         "search_engine",   "shop",
    "faucet",        "payment_processor", "vpn",            "item",
    "collectible",
};

gl_code gl_labels_category_from_tagpack(const char *s, size_t n, gl_labels_category *out,
                                        gl_err *err)
{
    for (size_t i = 0; i < sizeof tagpack_concepts / sizeof tagpack_concepts[0]; i++)
        if (eq_nocase(s, n, tagpack_concepts[i].concept)) {
            *out = tagpack_concepts[i].cat;
            return GL_OK;
        }
    for (size_t i = 0; i < sizeof tagpack_other / sizeof tagpack_other[0]; i++)
        if (eq_nocase(s, n, tagpack_other[i])) {
            *out = GL_LABELS_OTHER;
            return GL_OK;
        }
    if (!gl_labels_category_parse(s, n, out, NULL))
        return GL_OK;
    return gl_err_set(err, GL_EINVAL,
                      "unknown category '%.*s' (neither a GraphSense concept nor one of ours)",
                      (int)(n > 64 ? 64 : n), s);
}

gl_code gl_labels_address_parse(const char *s, size_t n, uint8_t out[GL_STORE_ADDR_LEN],
                                gl_err *err)
{
    int shown = (int)(n > 60 ? 60 : n);
    if (n != 42 || s[0] != '0' || s[1] != 'x')
        return gl_err_set(err, GL_EINVAL, "'%.*s' is not an address (0x and 40 hex digits)", shown,
                          s);
    bool upper = false, lower = false;
    char low[40];
    for (int i = 0; i < 40; i++) {
        char c = s[2 + i];
        int d = gl_hex_digit((unsigned char)c);
        if (d < 0)
            return gl_err_set(err, GL_EINVAL, "'%.*s' is not an address (0x and 40 hex digits)",
                              shown, s);
        upper |= c >= 'A' && c <= 'F';
        lower |= c >= 'a' && c <= 'f';
        low[i] = (char)tolower((unsigned char)c);
        if (i % 2)
            out[i / 2] = (uint8_t)(out[i / 2] | d);
        else
            out[i / 2] = (uint8_t)(d << 4);
    }
    if (upper && lower) {
        /* EIP-55: hex letter i is upper case iff nibble i of
         * keccak256(the 40 lower-case hex characters) is 8 or more. */
        uint8_t h[GL_KECCAK256_LEN];
        gl_keccak256(low, 40, h);
        for (int i = 0; i < 40; i++) {
            char c = s[2 + i];
            if (c >= '0' && c <= '9')
                continue;
            int nib = (i % 2) ? (h[i / 2] & 15) : (h[i / 2] >> 4);
            if ((nib >= 8) != (c >= 'A' && c <= 'F')) {
                memset(out, 0, GL_STORE_ADDR_LEN);
                return gl_err_set(err, GL_EINVAL,
                                  "'%.42s' has mixed case but a bad EIP-55 checksum (character %d)",
                                  s, i + 3);
            }
        }
    }
    return GL_OK;
}

gl_code gl_labels_confidence_parse(const char *s, size_t n, uint16_t *out, gl_err *err)
{
    int shown = (int)(n > 40 ? 40 : n);
    size_t i = 0;
    unsigned ip = 0;
    bool digits = false;
    while (i < n && isdigit((unsigned char)s[i])) {
        if (ip > 10)
            return gl_err_set(err, GL_ERANGE, "confidence '%.*s' is above 1", shown, s);
        ip = ip * 10 + (unsigned)(s[i++] - '0');
        digits = true;
    }
    unsigned frac = 0, scale = 1000; /* thousandths from the first three decimals */
    bool round_up = false, nonzero_frac = false;
    if (i < n && s[i] == '.') {
        i++;
        size_t k = 0;
        while (i < n && isdigit((unsigned char)s[i])) {
            unsigned d = (unsigned)(s[i] - '0');
            nonzero_frac |= d != 0;
            if (k < 3) {
                scale /= 10;
                frac += d * scale;
            } else if (k == 3) {
                round_up = d >= 5;
            }
            k++, i++;
            digits = true;
        }
    }
    if (!digits || i != n)
        return gl_err_set(err, GL_EINVAL, "confidence '%.*s' is not a number from 0 to 1", shown, s);
    if (ip > 1 || (ip == 1 && nonzero_frac))
        return gl_err_set(err, GL_ERANGE, "confidence '%.*s' is above 1", shown, s);
    unsigned v = ip * 1000 + frac + (round_up ? 1 : 0);
    *out = (uint16_t)(v > 1000 ? 1000 : v);
    return GL_OK;
}

/* graphsense/graphsense-tagpack-tool, src/tagpack/db/confidence.csv: the
 * confidence taxonomy's ids and their `level` (0..100); ours is ten times
 * that. */
static const struct {
    const char *id;
    uint16_t level;
} tagpack_levels[] = {
    {"override", 100},      {"ownership", 100},       {"manual_transaction", 90},
    {"service_api", 70},    {"authority_data", 60},   {"trusted_provider", 50},
    {"service_data", 50},   {"forensic", 50},         {"untrusted_transaction", 40},
    {"web_crawl", 20},      {"heuristic", 10},        {"unknown", 5},
};

gl_code gl_labels_confidence_tagpack(const char *s, size_t n, uint16_t *out, gl_err *err)
{
    for (size_t i = 0; i < sizeof tagpack_levels / sizeof tagpack_levels[0]; i++)
        if (eq_nocase(s, n, tagpack_levels[i].id)) {
            *out = (uint16_t)(tagpack_levels[i].level * 10);
            return GL_OK;
        }
    return gl_err_set(err, GL_EINVAL,
                      "unknown confidence '%.*s' (a GraphSense level such as ownership, "
                      "authority_data, forensic, web_crawl, heuristic, unknown, or a number 0..1)",
                      (int)(n > 40 ? 40 : n), s);
}

/* ------------------------------------------------------------- duplicates */

typedef struct dup_ctx {
    const gl_store_label *l;
} dup_ctx;

static int label_key_cmp(const void *a, const void *b, void *ctx)
{
    const dup_ctx *c = ctx;
    size_t i = *(const size_t *)a, j = *(const size_t *)b;
    int r = memcmp(c->l[i].addr, c->l[j].addr, GL_STORE_ADDR_LEN);
    if (!r)
        r = strcmp(c->l[i].source, c->l[j].source);
    if (!r)
        r = (i > j) - (i < j); /* first occurrence first */
    return r;
}

static bool label_same(const gl_store_label *a, const gl_store_label *b)
{
    return !strcmp(a->label, b->label) && !strcmp(a->category, b->category) &&
           a->confidence == b->confidence;
}

/* Mark in keep[] (n entries, from labels[0..n)) which labels survive: of
 * each (address, source) the first.  A later one with other values is an
 * error naming both places unless lenient[] is set for both (OFAC: an
 * address under two entries).  files/names say where each came from
 * (files NULL: all from names[0]).  dups[file] counts what was dropped. */
static gl_code dedup(const gl_store_label *labels, const uint32_t *lines, const size_t *files,
                     const bool *lenient, const char *const *names, size_t n, bool *keep,
                     uint64_t *dups, gl_err *err)
{
    for (size_t i = 0; i < n; i++)
        keep[i] = true;
    if (n < 2)
        return GL_OK;
    size_t *idx = malloc(n * sizeof *idx);
    if (!idx)
        return gl_err_set(err, GL_ENOMEM, "out of memory sorting %zu labels", n);
    for (size_t i = 0; i < n; i++)
        idx[i] = i;
    dup_ctx c = {labels};
    qsort_r(idx, n, sizeof *idx, label_key_cmp, &c);
    gl_code rc = GL_OK;
    size_t first = idx[0];
    for (size_t k = 1; k < n && !rc; k++) {
        size_t i = idx[k];
        const gl_store_label *a = &labels[first], *b = &labels[i];
        if (memcmp(a->addr, b->addr, GL_STORE_ADDR_LEN) || strcmp(a->source, b->source)) {
            first = i;
            continue;
        }
        size_t fa = files ? files[first] : 0, fb = files ? files[i] : 0;
        if (!label_same(a, b) && !(lenient[fa] && lenient[fb])) {
            char hex[2 * GL_STORE_ADDR_LEN + 3];
            gl_hex_encode(a->addr, GL_STORE_ADDR_LEN, true, hex);
            rc = errat(err, GL_EINVAL, names[fb], lines[i], 0,
                       "address %s with source '%s' again, with other values than at %s:%u "
                       "('%s', %s, %u against '%s', %s, %u)",
                       hex, a->source, names[fa], lines[first], b->label, b->category,
                       b->confidence, a->label, a->category, a->confidence);
            break;
        }
        keep[i] = false;
        dups[fb]++;
    }
    free(idx);
    return rc;
}

/* Drop, in v from index `from`, the duplicates of one file; fill sum. */
static gl_code finish_file(gl_labels_vec *v, size_t from, bool lenient, const char *name,
                           gl_labels_format fmt, gl_labels_summary *sum, gl_err *err)
{
    size_t n = v->n - from;
    bool *keep = malloc(n ? n : 1);
    if (!keep)
        return gl_err_set(err, GL_ENOMEM, "out of memory");
    uint64_t dups = 0;
    gl_code rc = dedup(v->labels + from, v->lines + from, NULL, &lenient, &name, n, keep, &dups, err);
    if (!rc) {
        size_t w = from;
        for (size_t i = 0; i < n; i++)
            if (keep[i]) {
                v->labels[w] = v->labels[from + i];
                v->lines[w] = v->lines[from + i];
                w++;
            }
        v->n = w;
        gl_labels_summary s0 = {0};
        gl_labels_summary *s = sum ? sum : &s0;
        uint64_t skipped_currency = s->skipped_currency, skipped_no_address = s->skipped_no_address;
        memset(s, 0, sizeof *s);
        s->format = fmt;
        s->skipped_currency = skipped_currency;
        s->skipped_no_address = skipped_no_address;
        s->duplicates = dups;
        for (size_t i = from; i < v->n; i++) {
            gl_labels_category c = GL_LABELS_OTHER;
            gl_labels_category_parse(v->labels[i].category, strlen(v->labels[i].category), &c,
                                     NULL);
            s->by_category[c]++;
            s->labels++;
        }
    }
    free(keep);
    return rc;
}

/* The source every label of a file gets: --source, or the file's own. */
static gl_code pick_source(gl_store_label *l, const gl_labels_opts *o, const char *s, size_t n,
                           gl_err *err)
{
    if (o && o->source)
        return text_put(l->source, sizeof l->source, o->source, strlen(o->source), err);
    if (n == 0)
        return gl_err_set(err, GL_EINVAL, "is empty (give one in the file or with --source)");
    return text_put(l->source, sizeof l->source, s, n, err);
}

static gl_code check_opts(const gl_labels_opts *o, gl_err *err)
{
    if (!o || !o->source)
        return GL_OK;
    char tmp[GL_STORE_TEXT_MAX];
    gl_err e = {0};
    if (text_put(tmp, sizeof tmp, o->source, strlen(o->source), &e))
        return gl_err_set(err, e.code, "--source '%.80s' %s", o->source, e.msg);
    return GL_OK;
}

/* ------------------------------------------------------------- CSV reader */

/* RFC 4180 records, read one at a time from memory: fields separated by
 * commas, records by LF or CRLF, a field quoted with '"' may hold commas,
 * line breaks and '""' for a quote.  A quote inside an unquoted field,
 * text after a closing quote, and a quote never closed are errors. */

#define CSV_FIELDS_MAX 64

typedef struct csv_rd {
    const char *p, *end, *line_start;
    size_t line;
    const char *name;
} csv_rd;

typedef struct csv_rec {
    gl_buf text;                  /* fields, each NUL-terminated */
    size_t off[CSV_FIELDS_MAX], len[CSV_FIELDS_MAX];
    size_t fline[CSV_FIELDS_MAX], fcol[CSV_FIELDS_MAX];
    size_t nf;
    size_t line;                  /* where the record starts */
    bool blank;                   /* an empty line */
} csv_rec;

static void csv_init(csv_rd *r, const char *name, const char *data, size_t len)
{
    r->p = data;
    r->end = data + len;
    if (len >= 3 && !memcmp(data, "\xef\xbb\xbf", 3))
        r->p += 3; /* a UTF-8 byte order mark, as spreadsheet exports write */
    r->line_start = r->p;
    r->line = 1;
    r->name = name;
}

static void csv_newline(csv_rd *r, const char *after)
{
    r->line++;
    r->line_start = after;
}

/* 1 a record, 0 the end, -1 an error (err set). */
static int csv_next(csv_rd *r, csv_rec *rec, gl_err *err)
{
    if (r->p >= r->end)
        return 0;
    gl_buf_reset(&rec->text);
    rec->nf = 0;
    rec->line = r->line;
    rec->blank = false;
    for (;;) {
        if (rec->nf == CSV_FIELDS_MAX) {
            errat(err, GL_EINVAL, r->name, r->line, (size_t)(r->p - r->line_start) + 1,
                  "more than %d fields", CSV_FIELDS_MAX);
            return -1;
        }
        size_t f = rec->nf++;
        rec->off[f] = rec->text.len;
        rec->fline[f] = r->line;
        rec->fcol[f] = (size_t)(r->p - r->line_start) + 1;
        bool quoted = r->p < r->end && *r->p == '"';
        bool end_rec = false;
        if (quoted) {
            size_t qline = r->line, qcol = rec->fcol[f];
            r->p++;
            for (;;) {
                if (r->p >= r->end) {
                    errat(err, GL_EINVAL, r->name, qline, qcol,
                          "unterminated quote (the field opened here never closes)");
                    return -1;
                }
                char c = *r->p;
                if (c == '"') {
                    if (r->p + 1 < r->end && r->p[1] == '"') {
                        if (gl_buf_push(&rec->text, '"', err))
                            return -1;
                        r->p += 2;
                        continue;
                    }
                    r->p++;
                    break;
                }
                if (gl_buf_push(&rec->text, (uint8_t)c, err))
                    return -1;
                r->p++;
                if (c == '\n')
                    csv_newline(r, r->p);
            }
            if (r->p < r->end && *r->p != ',' && *r->p != '\n' &&
                !(*r->p == '\r' && r->p + 1 < r->end && r->p[1] == '\n')) {
                errat(err, GL_EINVAL, r->name, r->line, (size_t)(r->p - r->line_start) + 1,
                      "text after the closing quote of field %zu", f + 1);
                return -1;
            }
        } else {
            while (r->p < r->end && *r->p != ',' && *r->p != '\n' &&
                   !(*r->p == '\r' && r->p + 1 < r->end && r->p[1] == '\n')) {
                if (*r->p == '"') {
                    errat(err, GL_EINVAL, r->name, r->line, (size_t)(r->p - r->line_start) + 1,
                          "quote inside unquoted field %zu (quote the whole field and double "
                          "the quote)",
                          f + 1);
                    return -1;
                }
                if (gl_buf_push(&rec->text, (uint8_t)*r->p, err))
                    return -1;
                r->p++;
            }
        }
        rec->len[f] = rec->text.len - rec->off[f];
        if (gl_buf_push(&rec->text, 0, err))
            return -1;
        if (r->p >= r->end) {
            end_rec = true;
        } else if (*r->p == ',') {
            r->p++;
        } else {
            r->p += (*r->p == '\r') ? 2 : 1;
            csv_newline(r, r->p);
            end_rec = true;
        }
        if (end_rec) {
            rec->blank = rec->nf == 1 && !quoted && rec->len[0] == 0;
            return 1;
        }
    }
}

static const char *csv_field(const csv_rec *rec, size_t f)
{
    return (const char *)rec->text.data + rec->off[f];
}

/* ------------------------------------------------------------ our own CSV */

enum { COL_ADDRESS, COL_LABEL, COL_CATEGORY, COL_SOURCE, COL_CONFIDENCE, NCOLS };
static const char *const csv_cols[NCOLS] = {"address", "label", "category", "source",
                                            "confidence"};

static gl_code csv_header(csv_rd *r, csv_rec *rec, int col_of[NCOLS], gl_err *err)
{
    int got = csv_next(r, rec, err);
    if (got < 0)
        return err ? err->code : GL_EINVAL;
    while (got == 1 && rec->blank)
        if ((got = csv_next(r, rec, err)) < 0)
            return err ? err->code : GL_EINVAL;
    if (got == 0)
        return errat(err, GL_EINVAL, r->name, 0, 0, "the file is empty (a header is required)");
    for (int c = 0; c < NCOLS; c++)
        col_of[c] = -1;
    for (size_t f = 0; f < rec->nf; f++) {
        const char *s = csv_field(rec, f);
        size_t n = rec->len[f];
        trim(&s, &n);
        int c = 0;
        while (c < NCOLS && !eq_nocase(s, n, csv_cols[c]))
            c++;
        if (c == NCOLS)
            return errat(err, GL_EINVAL, r->name, rec->fline[f], rec->fcol[f],
                         "header field %zu '%.*s' is not one of address, label, category, "
                         "source, confidence",
                         f + 1, (int)(n > 40 ? 40 : n), s);
        if (col_of[c] >= 0)
            return errat(err, GL_EINVAL, r->name, rec->fline[f], rec->fcol[f],
                         "header names '%s' twice", csv_cols[c]);
        col_of[c] = (int)f;
    }
    for (int c = 0; c < NCOLS; c++)
        if (col_of[c] < 0)
            return errat(err, GL_EINVAL, r->name, rec->line, 0, "header has no '%s' column",
                         csv_cols[c]);
    return GL_OK;
}

static gl_code csv_row(const csv_rd *r, const csv_rec *rec, const int col_of[NCOLS],
                       const gl_labels_opts *o, gl_store_label *l, gl_err *err)
{
    gl_err e = {0};
    memset(l, 0, sizeof *l);
    for (int c = 0; c < NCOLS; c++) {
        size_t f = (size_t)col_of[c];
        const char *s = csv_field(rec, f);
        size_t n = rec->len[f];
        gl_code rc = GL_OK;
        gl_labels_category cat;
        switch (c) {
        case COL_ADDRESS:
            trim(&s, &n);
            rc = gl_labels_address_parse(s, n, l->addr, &e);
            break;
        case COL_LABEL:
            rc = text_put(l->label, sizeof l->label, s, n, &e);
            break;
        case COL_CATEGORY:
            trim(&s, &n);
            rc = gl_labels_category_parse(s, n, &cat, &e);
            if (!rc)
                snprintf(l->category, sizeof l->category, "%s", category_names[cat]);
            break;
        case COL_SOURCE:
            rc = pick_source(l, o, s, n, &e);
            break;
        case COL_CONFIDENCE:
            trim(&s, &n);
            if (n == 0)
                l->confidence = GL_LABELS_CONFIDENCE_DEFAULT;
            else
                rc = gl_labels_confidence_parse(s, n, &l->confidence, &e);
            break;
        }
        if (rc) {
            char what[64];
            snprintf(what, sizeof what, "column '%s' (field %zu)", csv_cols[c], f + 1);
            return errwrap(err, &e, r->name, rec->fline[f], rec->fcol[f], what);
        }
    }
    return GL_OK;
}

gl_code gl_labels_parse_csv(gl_labels_vec *out, gl_labels_summary *sum, const char *name,
                            const char *data, size_t len, const gl_labels_opts *o, gl_err *err)
{
    if (check_opts(o, err))
        return err ? err->code : GL_EINVAL;
    size_t from = out->n;
    csv_rd r;
    csv_init(&r, name, data, len);
    csv_rec rec = {.text = GL_BUF_INIT};
    int col_of[NCOLS];
    gl_code rc = csv_header(&r, &rec, col_of, err);
    int got = 0;
    while (!rc && (got = csv_next(&r, &rec, err)) == 1) {
        if (rec.blank)
            continue;
        if (rec.nf != NCOLS) {
            rc = errat(err, GL_EINVAL, name, rec.line, 0, "%zu fields, the header has %d", rec.nf,
                       NCOLS);
            break;
        }
        gl_store_label l;
        rc = csv_row(&r, &rec, col_of, o, &l, err);
        if (!rc)
            rc = vec_push(out, &l, rec.line, err);
    }
    if (!rc && got < 0)
        rc = err ? err->code : GL_EINVAL;
    if (!rc) {
        if (sum)
            memset(sum, 0, sizeof *sum);
        rc = finish_file(out, from, false, name, GL_LABELS_FMT_CSV, sum, err);
    }
    gl_buf_release(&rec.text);
    if (rc)
        out->n = from;
    return rc;
}

/* ------------------------------------------------------------------- OFAC */

/* Currency codes after "Digital Currency Address - " whose addresses are
 * EVM addresses when they start with 0x: Ether, Ether Classic, the two
 * dollar tokens (listed once per address, whatever the chain: a 0x one is
 * an ERC-20 holder, a T... one is on Tron and skipped), and the Arbitrum
 * and BNB Smart Chain codes OFAC has used.  The same key controls the
 * address on every EVM chain, and the store keys labels by address alone. */
static const char *const ofac_evm[] = {"ETH", "ETC", "USDT", "USDC", "ARB", "BSC"};

static bool ofac_is_evm(const char *s, size_t n)
{
    for (size_t i = 0; i < sizeof ofac_evm / sizeof ofac_evm[0]; i++)
        if (n == strlen(ofac_evm[i]) && !memcmp(s, ofac_evm[i], n))
            return true;
    return false;
}

/* One OFAC id (currency code, address text): pushes a label, counts a skip,
 * or fails with a message without a location. */
static gl_code ofac_id(gl_labels_vec *out, gl_labels_summary *sum, const char *code, size_t cn,
                       const char *addr, size_t an, const gl_store_label *tmpl, size_t line,
                       gl_err *err)
{
    if (!ofac_is_evm(code, cn) || (!(cn == 3 && !memcmp(code, "ETH", 3)) &&
                                   !(an >= 2 && addr[0] == '0' && addr[1] == 'x'))) {
        sum->skipped_currency++;
        return GL_OK;
    }
    gl_store_label l = *tmpl;
    if (gl_labels_address_parse(addr, an, l.addr, err))
        return GL_EINVAL;
    return vec_push(out, &l, line, err);
}

/* label = name + " (" + programs + ")", or the name alone. */
static gl_code ofac_label(gl_store_label *l, const char *nm, size_t nn, const char *prog,
                          size_t pn, gl_err *err)
{
    size_t need = nn + (pn ? pn + 3 : 0);
    if (need >= sizeof l->label)
        return gl_err_set(err, GL_ERANGE, "is %zu bytes, at most %zu fit", need,
                          sizeof l->label - 1);
    char buf[GL_STORE_TEXT_MAX];
    memcpy(buf, nm, nn);
    if (pn) {
        memcpy(buf + nn, " (", 2);
        memcpy(buf + nn + 2, prog, pn);
        buf[need - 1] = ')';
    }
    return text_put(l->label, sizeof l->label, buf, need, err);
}

static bool ofac_none(const char *s, size_t n)
{
    return n == 3 && !memcmp(s, "-0-", 3); /* sdn.csv's "no value" */
}

static const char ofac_marker[] = "Digital Currency Address - ";

gl_code gl_labels_parse_ofac_csv(gl_labels_vec *out, gl_labels_summary *sum, const char *name,
                                 const char *data, size_t len, const gl_labels_opts *o,
                                 gl_err *err)
{
    if (check_opts(o, err))
        return err ? err->code : GL_EINVAL;
    if (len == 0)
        return errat(err, GL_EINVAL, name, 0, 0, "the file is empty");
    size_t from = out->n;
    gl_labels_summary s0;
    gl_labels_summary *s = sum ? sum : &s0;
    memset(s, 0, sizeof *s);
    csv_rd r;
    csv_init(&r, name, data, len);
    csv_rec rec = {.text = GL_BUF_INIT};
    gl_buf prog = GL_BUF_INIT;
    gl_code rc = GL_OK;
    int got;
    size_t records = 0;
    while (!rc && (got = csv_next(&r, &rec, err)) != 0) {
        if (got < 0) {
            rc = err ? err->code : GL_EINVAL;
            break;
        }
        /* sdn.csv ends with a line holding only a DOS end-of-file mark */
        if (rec.blank || (rec.nf == 1 && rec.len[0] == 1 && csv_field(&rec, 0)[0] == 0x1a))
            continue;
        records++;
        if (rec.nf != 12) {
            rc = errat(err, GL_EINVAL, name, rec.line, 0,
                       "%zu fields, an sdn.csv record has 12 (ent_num, SDN_Name, SDN_Type, "
                       "Program, Title, Call_Sign, Vess_type, Tonnage, GRT, Vess_flag, "
                       "Vess_owner, Remarks)",
                       rec.nf);
            break;
        }
        const char *ent = csv_field(&rec, 0);
        size_t entn = rec.len[0];
        trim(&ent, &entn);
        uint64_t ent_num;
        if (!gl_dec_u64(ent, entn, &ent_num)) {
            rc = errat(err, GL_EINVAL, name, rec.fline[0], rec.fcol[0],
                       "ent_num '%.*s' is not a number (is this sdn.csv?)",
                       (int)(entn > 30 ? 30 : entn), ent);
            break;
        }
        const char *rem = csv_field(&rec, 11);
        size_t remn = rec.len[11];
        if (!memmem(rem, remn, ofac_marker, sizeof ofac_marker - 1))
            continue;
        const char *nm = csv_field(&rec, 1), *pg = csv_field(&rec, 3);
        size_t nn = rec.len[1], pn = rec.len[3];
        trim(&nm, &nn);
        trim(&pg, &pn);
        if (nn == 0 || ofac_none(nm, nn)) {
            rc = errat(err, GL_EINVAL, name, rec.fline[1], rec.fcol[1], "SDN_Name is empty");
            break;
        }
        if (ofac_none(pg, pn))
            pn = 0;
        /* "DPRK3] [CYBER2": the human-readable list's brackets between
         * programs; written as sdn.xml's programs are, comma-separated. */
        gl_buf_reset(&prog);
        for (size_t i = 0; i < pn && !rc; i++) {
            if (i + 3 <= pn && !memcmp(pg + i, "] [", 3)) {
                rc = gl_buf_append(&prog, ", ", 2, err);
                i += 2;
            } else {
                rc = gl_buf_push(&prog, (uint8_t)pg[i], err);
            }
        }
        gl_store_label tmpl;
        memset(&tmpl, 0, sizeof tmpl);
        gl_err e = {0};
        if (!rc && (ofac_label(&tmpl, nm, nn, (const char *)prog.data, prog.len, &e) ||
                    pick_source(&tmpl, o, GL_LABELS_OFAC_SOURCE, strlen(GL_LABELS_OFAC_SOURCE), &e)))
            rc = errwrap(err, &e, name, rec.fline[1], rec.fcol[1], "label (SDN_Name + Program)");
        snprintf(tmpl.category, sizeof tmpl.category, "%s", category_names[GL_LABELS_SANCTIONED]);
        tmpl.confidence = GL_LABELS_CONFIDENCE_OFAC;
        /* "...; Digital Currency Address - ETH 0xabc...; alt. Digital
         * Currency Address - XBT 1...; ..." (the last one may end in '.') */
        const char *p = rem, *end = rem + remn;
        while (!rc && (p = memmem(p, (size_t)(end - p), ofac_marker, sizeof ofac_marker - 1))) {
            p += sizeof ofac_marker - 1;
            const char *code = p;
            while (p < end && isalnum((unsigned char)*p))
                p++;
            size_t cn = (size_t)(p - code);
            if (!cn || p >= end || *p != ' ') {
                rc = errat(err, GL_EINVAL, name, rec.fline[11], rec.fcol[11],
                           "Remarks: '%s' is not followed by a currency code and an address",
                           ofac_marker);
                break;
            }
            p++;
            const char *a = p;
            while (p < end && *p != ';' && *p != ' ' && *p != ',')
                p++;
            size_t an = (size_t)(p - a);
            while (an && a[an - 1] == '.')
                an--;
            if (ofac_id(out, s, code, cn, a, an, &tmpl, rec.line, &e))
                rc = errwrap(err, &e, name, rec.fline[11], rec.fcol[11], "Remarks");
        }
    }
    if (!rc && records == 0)
        rc = errat(err, GL_EINVAL, name, 0, 0, "the file holds no sdn.csv record");
    if (!rc)
        rc = finish_file(out, from, true, name, GL_LABELS_FMT_OFAC_CSV, s, err);
    gl_buf_release(&rec.text);
    gl_buf_release(&prog);
    if (rc)
        out->n = from;
    return rc;
}

/* sdn.xml: <sdnList xmlns="..."> <sdnEntry> <uid/> <firstName/>?
 * <lastName/> <sdnType/> <programList><program/>*</programList>
 * <idList><id><uid/><idType/><idNumber/>...</id>*</idList> ...
 * Elements are matched by local name, whatever the namespace (OFAC has
 * published it under http://tempuri.org/sdnList.xsd and under the
 * sanctionslistservice.ofac.treas.gov URL). */

typedef struct xml_err {
    gl_err *err;
    const char *name;
    bool failed;
} xml_err;

#if LIBXML_VERSION >= 21200
static void xml_on_error(void *ctx, const xmlError *e)
#else
static void xml_on_error(void *ctx, xmlErrorPtr e)
#endif
{
    xml_err *x = ctx;
    if (x->failed || !e || e->level < XML_ERR_ERROR)
        return;
    x->failed = true;
    char msg[256];
    snprintf(msg, sizeof msg, "%s", e->message ? e->message : "error");
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
        msg[--n] = 0;
    errat(x->err, GL_EINVAL, x->name, e->line > 0 ? (size_t)e->line : 0,
          e->int2 > 0 ? (size_t)e->int2 : 0, "XML is not well formed: %s", msg);
}

#define XML_DEPTH_MAX 16
#define XML_IDS_MAX 256

typedef struct xml_entry {
    gl_buf first, last, progs, cur_prog, id_type, id_num;
    size_t line;
    /* ids: offsets into `ids` (type NUL number NUL) and their lines */
    gl_buf ids;
    size_t id_off[XML_IDS_MAX], id_line[XML_IDS_MAX], nids;
    size_t id_start_line;
} xml_entry;

static bool lname_is(const xmlChar *n, const char *s)
{
    return n && !strcmp((const char *)n, s);
}

static void xml_trim_buf(const gl_buf *b, const char **s, size_t *n)
{
    *s = b->data ? (const char *)b->data : "";
    *n = b->len;
    while (*n && isspace((unsigned char)(*s)[0]))
        (*s)++, (*n)--;
    while (*n && isspace((unsigned char)(*s)[*n - 1]))
        (*n)--;
}

static gl_code xml_entry_done(gl_labels_vec *out, gl_labels_summary *s, xml_entry *en,
                              const char *name, const gl_labels_opts *o, gl_err *err)
{
    if (!en->nids)
        return GL_OK;
    const char *ln, *fn;
    size_t lnn, fnn;
    xml_trim_buf(&en->last, &ln, &lnn);
    xml_trim_buf(&en->first, &fn, &fnn);
    if (!lnn)
        return errat(err, GL_EINVAL, name, en->line, 0, "sdnEntry has no lastName");
    /* sdn.csv writes an individual as "LAST, First": the same here */
    gl_buf nm = GL_BUF_INIT;
    gl_code rc = gl_buf_append(&nm, ln, lnn, err);
    if (!rc && fnn) {
        rc = gl_buf_append(&nm, ", ", 2, err);
        rc = rc ? rc : gl_buf_append(&nm, fn, fnn, err);
    }
    gl_store_label tmpl;
    memset(&tmpl, 0, sizeof tmpl);
    gl_err e = {0};
    if (!rc && (ofac_label(&tmpl, nm.data ? (const char *)nm.data : "", nm.len,
                           en->progs.data ? (const char *)en->progs.data : "", en->progs.len, &e) ||
                pick_source(&tmpl, o, GL_LABELS_OFAC_SOURCE, strlen(GL_LABELS_OFAC_SOURCE), &e)))
        rc = errwrap(err, &e, name, en->line, 0, "label (lastName, firstName + programs)");
    gl_buf_release(&nm);
    snprintf(tmpl.category, sizeof tmpl.category, "%s", category_names[GL_LABELS_SANCTIONED]);
    tmpl.confidence = GL_LABELS_CONFIDENCE_OFAC;
    for (size_t i = 0; i < en->nids && !rc; i++) {
        const char *type = (const char *)en->ids.data + en->id_off[i];
        const char *num = type + strlen(type) + 1;
        size_t tn = strlen(type), nn = strlen(num);
        if (tn < sizeof ofac_marker - 1 || memcmp(type, ofac_marker, sizeof ofac_marker - 1))
            continue;
        if (ofac_id(out, s, type + sizeof ofac_marker - 1, tn - (sizeof ofac_marker - 1), num, nn,
                    &tmpl, en->id_line[i], &e))
            rc = errwrap(err, &e, name, en->id_line[i], 0, "idNumber");
    }
    return rc;
}

static void xml_entry_reset(xml_entry *en)
{
    gl_buf_reset(&en->first);
    gl_buf_reset(&en->last);
    gl_buf_reset(&en->progs);
    gl_buf_reset(&en->cur_prog);
    gl_buf_reset(&en->ids);
    en->nids = 0;
}

static void xml_entry_release(xml_entry *en)
{
    gl_buf_release(&en->first);
    gl_buf_release(&en->last);
    gl_buf_release(&en->progs);
    gl_buf_release(&en->cur_prog);
    gl_buf_release(&en->id_type);
    gl_buf_release(&en->id_num);
    gl_buf_release(&en->ids);
}

/* The end of element `lname` at `depth` (path[] holds its ancestors). */
static gl_code xml_end(xml_entry *en, char path[][32], int depth, const char *name, gl_err *err)
{
    gl_code rc = GL_OK;
    if (depth == 3 && !strcmp(path[1], "sdnEntry") && !strcmp(path[2], "programList") &&
        !strcmp(path[3], "program")) {
        const char *p;
        size_t n;
        xml_trim_buf(&en->cur_prog, &p, &n);
        if (n) {
            if (en->progs.len)
                rc = gl_buf_append(&en->progs, ", ", 2, err);
            rc = rc ? rc : gl_buf_append(&en->progs, p, n, err);
        }
        gl_buf_reset(&en->cur_prog);
    } else if (depth == 3 && !strcmp(path[1], "sdnEntry") && !strcmp(path[2], "idList") &&
               !strcmp(path[3], "id")) {
        const char *t, *num;
        size_t tn, nn;
        xml_trim_buf(&en->id_type, &t, &tn);
        xml_trim_buf(&en->id_num, &num, &nn);
        if (tn >= sizeof ofac_marker - 1 && !memcmp(t, ofac_marker, sizeof ofac_marker - 1)) {
            if (en->nids == XML_IDS_MAX)
                return errat(err, GL_ERANGE, name, en->id_start_line, 0,
                             "more than %d digital currency ids in one sdnEntry", XML_IDS_MAX);
            if (memchr(t, 0, tn) || memchr(num, 0, nn))
                return errat(err, GL_EINVAL, name, en->id_start_line, 0, "NUL byte in an id");
            en->id_off[en->nids] = en->ids.len;
            en->id_line[en->nids] = en->id_start_line;
            en->nids++;
            uint8_t z = 0;
            rc = gl_buf_append(&en->ids, t, tn, err);
            rc = rc ? rc : gl_buf_append(&en->ids, &z, 1, err);
            rc = rc ? rc : gl_buf_append(&en->ids, num, nn, err);
            rc = rc ? rc : gl_buf_append(&en->ids, &z, 1, err);
        }
        gl_buf_reset(&en->id_type);
        gl_buf_reset(&en->id_num);
    }
    return rc;
}

/* Text at `depth` (its element is path[depth - 1]). */
static gl_code xml_text(xml_entry *en, char path[][32], int depth, const xmlChar *v, gl_err *err)
{
    if (!v || depth < 3 || strcmp(path[1], "sdnEntry"))
        return GL_OK;
    size_t n = strlen((const char *)v);
    gl_buf *b = NULL;
    if (depth == 3 && !strcmp(path[2], "lastName"))
        b = &en->last;
    else if (depth == 3 && !strcmp(path[2], "firstName"))
        b = &en->first;
    else if (depth == 4 && !strcmp(path[2], "programList") && !strcmp(path[3], "program"))
        b = &en->cur_prog;
    else if (depth == 5 && !strcmp(path[2], "idList") && !strcmp(path[3], "id") &&
             !strcmp(path[4], "idType"))
        b = &en->id_type;
    else if (depth == 5 && !strcmp(path[2], "idList") && !strcmp(path[3], "id") &&
             !strcmp(path[4], "idNumber"))
        b = &en->id_num;
    return b ? gl_buf_append(b, v, n, err) : GL_OK;
}

gl_code gl_labels_parse_ofac_xml(gl_labels_vec *out, gl_labels_summary *sum, const char *name,
                                 const char *data, size_t len, const gl_labels_opts *o,
                                 gl_err *err)
{
    if (check_opts(o, err))
        return err ? err->code : GL_EINVAL;
    if (len == 0)
        return errat(err, GL_EINVAL, name, 0, 0, "the file is empty");
    if (len > INT32_MAX)
        return errat(err, GL_ERANGE, name, 0, 0, "the file is too large for libxml2");
    size_t from = out->n;
    gl_labels_summary s0;
    gl_labels_summary *s = sum ? sum : &s0;
    memset(s, 0, sizeof *s);
    xmlInitParser();
    /* NONET: never fetch a DTD; no NOENT: entities are not expanded. */
    xmlTextReaderPtr rd = xmlReaderForMemory(data, (int)len, NULL, NULL, XML_PARSE_NONET);
    if (!rd)
        return errat(err, GL_ENOMEM, name, 0, 0, "cannot start the XML reader");
    xml_err xe = {err, name, false};
    xmlTextReaderSetStructuredErrorHandler(rd, xml_on_error, &xe);
    xml_entry en;
    memset(&en, 0, sizeof en);
    char path[XML_DEPTH_MAX][32];
    gl_code rc = GL_OK;
    bool root_seen = false;
    int got;
    while (!rc && (got = xmlTextReaderRead(rd)) == 1) {
        int type = xmlTextReaderNodeType(rd);
        int depth = xmlTextReaderDepth(rd);
        /* the line of the node itself (the parser may have read ahead) */
        xmlNodePtr node = xmlTextReaderCurrentNode(rd);
        long nl = node ? xmlGetLineNo(node) : -1;
        size_t line = nl > 0 ? (size_t)nl : (size_t)xmlTextReaderGetParserLineNumber(rd);
        if (type == XML_READER_TYPE_ELEMENT) {
            const xmlChar *ln = xmlTextReaderConstLocalName(rd);
            if (depth == 0) {
                if (!lname_is(ln, "sdnList")) {
                    rc = errat(err, GL_EINVAL, name, line, 0,
                               "root element is <%s>, not <sdnList> (is this sdn.xml?)",
                               ln ? (const char *)ln : "?");
                    break;
                }
                root_seen = true;
            }
            if (depth < XML_DEPTH_MAX)
                snprintf(path[depth], sizeof path[depth], "%s", ln ? (const char *)ln : "");
            if (depth == 1 && lname_is(ln, "sdnEntry")) {
                xml_entry_reset(&en);
                en.line = line;
            }
            if (depth == 3 && !strcmp(path[1], "sdnEntry") && !strcmp(path[2], "idList") &&
                lname_is(ln, "id")) {
                gl_buf_reset(&en.id_type);
                gl_buf_reset(&en.id_num);
                en.id_start_line = line;
            }
            if (xmlTextReaderIsEmptyElement(rd) && depth < XML_DEPTH_MAX) {
                rc = xml_end(&en, path, depth, name, err);
                if (!rc && depth == 1 && lname_is(ln, "sdnEntry"))
                    rc = xml_entry_done(out, s, &en, name, o, err);
            }
        } else if (type == XML_READER_TYPE_END_ELEMENT) {
            if (depth < XML_DEPTH_MAX) {
                rc = xml_end(&en, path, depth, name, err);
                if (!rc && depth == 1 && !strcmp(path[1], "sdnEntry"))
                    rc = xml_entry_done(out, s, &en, name, o, err);
            }
        } else if (type == XML_READER_TYPE_TEXT || type == XML_READER_TYPE_CDATA ||
                   type == XML_READER_TYPE_SIGNIFICANT_WHITESPACE) {
            if (depth <= XML_DEPTH_MAX)
                rc = xml_text(&en, path, depth, xmlTextReaderConstValue(rd), err);
        }
    }
    if (!rc && (got < 0 || xe.failed)) {
        if (!xe.failed)
            errat(err, GL_EINVAL, name, 0, 0, "XML is not well formed");
        rc = GL_EINVAL;
    }
    if (!rc && !root_seen)
        rc = errat(err, GL_EINVAL, name, 0, 0, "no <sdnList> element");
    xmlFreeTextReader(rd);
    xml_entry_release(&en);
    if (!rc)
        rc = finish_file(out, from, true, name, GL_LABELS_FMT_OFAC_XML, s, err);
    if (rc)
        out->n = from;
    return rc;
}

/* --------------------------------------------------------------- TagPack */

/* The fields a tag reads, each from the tag or else from the header. */
enum { TP_ADDRESS, TP_LABEL, TP_CATEGORY, TP_SOURCE, TP_CURRENCY, TP_CONFIDENCE, TP_NFIELDS };
static const char *const tp_fields[TP_NFIELDS] = {"address", "label",    "category",
                                                  "source",  "currency", "confidence"};

typedef struct tp_ctx {
    yaml_document_t *doc;
    const char *name;
} tp_ctx;

static size_t node_line(const yaml_node_t *n)
{
    return n->start_mark.line + 1;
}

static size_t node_col(const yaml_node_t *n)
{
    return n->start_mark.column + 1;
}

/* The scalar value of mapping `m`'s key `key` (NULL when absent); fails on
 * a key given twice or a value that is not a scalar. */
static gl_code tp_get(const tp_ctx *c, yaml_node_t *m, const char *key, yaml_node_t **out,
                      gl_err *err)
{
    *out = NULL;
    for (yaml_node_pair_t *p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
        yaml_node_t *k = yaml_document_get_node(c->doc, p->key);
        yaml_node_t *v = yaml_document_get_node(c->doc, p->value);
        if (!k || !v)
            continue;
        if (k->type != YAML_SCALAR_NODE)
            return errat(err, GL_EINVAL, c->name, node_line(k), node_col(k),
                         "a mapping key that is not a plain word");
        if (strlen(key) != k->data.scalar.length ||
            memcmp(k->data.scalar.value, key, k->data.scalar.length))
            continue;
        if (*out)
            return errat(err, GL_EINVAL, c->name, node_line(k), node_col(k), "'%s' given twice",
                         key);
        if (v->type != YAML_SCALAR_NODE)
            return errat(err, GL_EINVAL, c->name, node_line(v), node_col(v),
                         "'%s' is not a single value", key);
        *out = v;
    }
    return GL_OK;
}

static const char *sval(const yaml_node_t *n)
{
    return (const char *)n->data.scalar.value;
}

static size_t slen(const yaml_node_t *n)
{
    return n->data.scalar.length;
}

/* A scalar that YAML would read as null ("", "~", "null"). */
static bool tp_null(const yaml_node_t *n)
{
    if (n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return false;
    return slen(n) == 0 || eq_nocase(sval(n), slen(n), "~") || eq_nocase(sval(n), slen(n), "null");
}

static gl_code tp_tag(const tp_ctx *c, yaml_node_t *tag, yaml_node_t *const hdr[TP_NFIELDS],
                      const gl_labels_opts *o, gl_labels_vec *out, gl_labels_summary *s,
                      gl_err *err)
{
    if (tag->type != YAML_MAPPING_NODE)
        return errat(err, GL_EINVAL, c->name, node_line(tag), node_col(tag),
                     "a tag is not a mapping of fields");
    yaml_node_t *f[TP_NFIELDS];
    for (int i = 0; i < TP_NFIELDS; i++) {
        yaml_node_t *v;
        if (tp_get(c, tag, tp_fields[i], &v, err))
            return GL_EINVAL;
        f[i] = v && !tp_null(v) ? v : hdr[i];
    }
    yaml_node_t *cur = f[TP_CURRENCY];
    if (!cur)
        return errat(err, GL_EINVAL, c->name, node_line(tag), node_col(tag),
                     "tag has no currency (and the header gives none)");
    if (!eq_nocase(sval(cur), slen(cur), "ETH")) {
        s->skipped_currency++;
        return GL_OK;
    }
    if (!f[TP_ADDRESS]) {
        s->skipped_no_address++; /* a tx_hash tag, or one on an actor only */
        return GL_OK;
    }
    gl_store_label l;
    memset(&l, 0, sizeof l);
    gl_err e = {0};
    gl_labels_category cat = GL_LABELS_OTHER;
    for (int i = 0; i < TP_NFIELDS; i++) {
        yaml_node_t *v = f[i];
        gl_code rc = GL_OK;
        switch (i) {
        case TP_ADDRESS:
            rc = gl_labels_address_parse(sval(v), slen(v), l.addr, &e);
            break;
        case TP_LABEL:
            rc = v ? text_put(l.label, sizeof l.label, sval(v), slen(v), &e)
                   : gl_err_set(&e, GL_EINVAL, "is missing (in the tag and the header)");
            break;
        case TP_CATEGORY:
            if (v)
                rc = gl_labels_category_from_tagpack(sval(v), slen(v), &cat, &e);
            break;
        case TP_SOURCE:
            rc = pick_source(&l, o, v ? sval(v) : "", v ? slen(v) : 0, &e);
            break;
        case TP_CURRENCY:
            break;
        case TP_CONFIDENCE:
            if (!v)
                rc = gl_err_set(&e, GL_EINVAL, "is missing (in the tag and the header)");
            else if (isdigit((unsigned char)sval(v)[0]) || sval(v)[0] == '.')
                rc = gl_labels_confidence_parse(sval(v), slen(v), &l.confidence, &e);
            else
                rc = gl_labels_confidence_tagpack(sval(v), slen(v), &l.confidence, &e);
            break;
        }
        if (rc) {
            yaml_node_t *at = v ? v : tag;
            char what[64];
            snprintf(what, sizeof what, "tag field '%s'", tp_fields[i]);
            return errwrap(err, &e, c->name, node_line(at), node_col(at), what);
        }
    }
    snprintf(l.category, sizeof l.category, "%s", category_names[cat]);
    return vec_push(out, &l, node_line(tag), err);
}

gl_code gl_labels_parse_tagpack(gl_labels_vec *out, gl_labels_summary *sum, const char *name,
                                const char *data, size_t len, const gl_labels_opts *o,
                                gl_err *err)
{
    if (check_opts(o, err))
        return err ? err->code : GL_EINVAL;
    size_t from = out->n;
    gl_labels_summary s0;
    gl_labels_summary *s = sum ? sum : &s0;
    memset(s, 0, sizeof *s);
    yaml_parser_t parser;
    if (!yaml_parser_initialize(&parser))
        return errat(err, GL_ENOMEM, name, 0, 0, "cannot start the YAML parser");
    yaml_parser_set_input_string(&parser, (const unsigned char *)data, len);
    yaml_document_t doc;
    if (!yaml_parser_load(&parser, &doc)) {
        gl_code rc = errat(err, parser.error == YAML_MEMORY_ERROR ? GL_ENOMEM : GL_EINVAL, name,
                           parser.problem_mark.line + 1, parser.problem_mark.column + 1,
                           "invalid YAML: %s%s%s (from line %zu)",
                           parser.problem ? parser.problem : "error", parser.context ? " " : "",
                           parser.context ? parser.context : "",
                           (parser.context ? parser.context_mark.line : parser.problem_mark.line) + 1);
        yaml_parser_delete(&parser);
        return rc;
    }
    gl_code rc = GL_OK;
    tp_ctx c = {&doc, name};
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    if (!root) {
        rc = errat(err, GL_EINVAL, name, 0, 0, "the file is empty (no YAML document)");
    } else if (root->type != YAML_MAPPING_NODE) {
        rc = errat(err, GL_EINVAL, name, node_line(root), node_col(root),
                   "a TagPack is a mapping (title, creator, tags, ...)");
    } else {
        /* A second document would be ignored silently by a reader that
         * stops at the first: refuse it. */
        yaml_document_t doc2;
        if (!yaml_parser_load(&parser, &doc2)) {
            rc = errat(err, GL_EINVAL, name, parser.problem_mark.line + 1,
                       parser.problem_mark.column + 1, "invalid YAML: %s",
                       parser.problem ? parser.problem : "error");
        } else {
            yaml_node_t *r2 = yaml_document_get_root_node(&doc2);
            if (r2)
                rc = errat(err, GL_EINVAL, name, node_line(r2), 0,
                           "a second YAML document (a TagPack is one)");
            yaml_document_delete(&doc2);
        }
    }
    yaml_node_t *hdr[TP_NFIELDS] = {0};
    yaml_node_t *tags = NULL;
    for (int i = 0; !rc && i < TP_NFIELDS; i++) {
        rc = tp_get(&c, root, tp_fields[i], &hdr[i], err);
        if (!rc && hdr[i] && tp_null(hdr[i]))
            hdr[i] = NULL;
    }
    static const char *const required[] = {"title", "creator"};
    for (size_t i = 0; !rc && i < 2; i++) {
        yaml_node_t *v;
        rc = tp_get(&c, root, required[i], &v, err);
        if (!rc && (!v || tp_null(v)))
            rc = errat(err, GL_EINVAL, name, node_line(root), node_col(root),
                       "TagPack header has no '%s'", required[i]);
    }
    if (!rc) {
        for (yaml_node_pair_t *p = root->data.mapping.pairs.start;
             p < root->data.mapping.pairs.top; p++) {
            yaml_node_t *k = yaml_document_get_node(&doc, p->key);
            if (k && k->type == YAML_SCALAR_NODE && slen(k) == 4 && !memcmp(sval(k), "tags", 4)) {
                if (tags) {
                    rc = errat(err, GL_EINVAL, name, node_line(k), node_col(k),
                               "'tags' given twice");
                    break;
                }
                tags = yaml_document_get_node(&doc, p->value);
            }
        }
        if (!rc && (!tags || tags->type != YAML_SEQUENCE_NODE))
            rc = errat(err, GL_EINVAL, name, tags ? node_line(tags) : node_line(root), 0,
                       "TagPack has no 'tags:' list");
    }
    for (yaml_node_item_t *it = tags && !rc ? tags->data.sequence.items.start : NULL;
         it && it < tags->data.sequence.items.top && !rc; it++) {
        yaml_node_t *t = yaml_document_get_node(&doc, *it);
        if (t)
            rc = tp_tag(&c, t, hdr, o, out, s, err);
    }
    yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
    if (!rc)
        rc = finish_file(out, from, false, name, GL_LABELS_FMT_TAGPACK, s, err);
    if (rc)
        out->n = from;
    return rc;
}

/* ---------------------------------------------------------------- formats */

static const char *const format_names[] = {"auto", "csv", "tagpack", "ofac-csv", "ofac-xml"};

const char *gl_labels_format_name(gl_labels_format f)
{
    return (unsigned)f < 5 ? format_names[f] : "?";
}

gl_code gl_labels_format_parse(const char *s, gl_labels_format *out, gl_err *err)
{
    for (int i = 0; i < 5; i++)
        if (s && !strcmp(s, format_names[i])) {
            *out = (gl_labels_format)i;
            return GL_OK;
        }
    return gl_err_set(err, GL_EINVAL,
                      "unknown format '%.40s' (auto, csv, tagpack, ofac-csv, ofac-xml)",
                      s ? s : "(null)");
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && !strcasecmp(s + n - m, suffix);
}

gl_labels_format gl_labels_detect(const char *name, const char *data, size_t len)
{
    const char *p = data, *end = data + len;
    if (len >= 3 && !memcmp(p, "\xef\xbb\xbf", 3))
        p += 3;
    while (p < end && isspace((unsigned char)*p))
        p++;
    if (p < end && *p == '<')
        return GL_LABELS_FMT_OFAC_XML;
    /* the first line */
    const char *eol = memchr(p, '\n', (size_t)(end - p));
    size_t n = eol ? (size_t)(eol - p) : (size_t)(end - p);
    const char *q = p;
    if (q < p + n && *q == '"')
        q++;
    if (q < p + n && isdigit((unsigned char)*q)) {
        while (q < p + n && isdigit((unsigned char)*q))
            q++;
        if (q < p + n && (*q == ',' || *q == '"'))
            return GL_LABELS_FMT_OFAC_CSV; /* ent_num first */
    }
    if (memmem(p, n, "address", 7) && memmem(p, n, "label", 5) && memchr(p, ',', n))
        return GL_LABELS_FMT_CSV;
    if (name && (ends_with(name, ".yaml") || ends_with(name, ".yml")))
        return GL_LABELS_FMT_TAGPACK;
    if (n >= 3 && !memcmp(p, "---", 3))
        return GL_LABELS_FMT_TAGPACK;
    if (memmem(data, len, "\ntags:", 6))
        return GL_LABELS_FMT_TAGPACK;
    if (name && ends_with(name, ".xml"))
        return GL_LABELS_FMT_OFAC_XML;
    return GL_LABELS_FMT_AUTO;
}

gl_code gl_labels_parse(gl_labels_vec *out, gl_labels_summary *sum, gl_labels_format fmt,
                        const char *name, const char *data, size_t len, const gl_labels_opts *o,
                        gl_err *err)
{
    if (fmt == GL_LABELS_FMT_AUTO) {
        if (len == 0)
            return errat(err, GL_EINVAL, name, 0, 0, "the file is empty");
        fmt = gl_labels_detect(name, data, len);
    }
    switch (fmt) {
    case GL_LABELS_FMT_CSV:
        return gl_labels_parse_csv(out, sum, name, data, len, o, err);
    case GL_LABELS_FMT_TAGPACK:
        return gl_labels_parse_tagpack(out, sum, name, data, len, o, err);
    case GL_LABELS_FMT_OFAC_CSV:
        return gl_labels_parse_ofac_csv(out, sum, name, data, len, o, err);
    case GL_LABELS_FMT_OFAC_XML:
        return gl_labels_parse_ofac_xml(out, sum, name, data, len, o, err);
    case GL_LABELS_FMT_AUTO:
        break;
    }
    return errat(err, GL_EINVAL, name, 0, 0,
                 "cannot tell the format (give --format csv|tagpack|ofac-csv|ofac-xml)");
}

/* ----------------------------------------------------------------- import */

static gl_code read_whole(const char *path, gl_buf *out, gl_err *err)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return gl_err_set(err, GL_EIO, "%s: cannot open: %s", path, strerror(errno));
    gl_code rc = GL_OK;
    char buf[65536];
    size_t n;
    while (!rc && (n = fread(buf, 1, sizeof buf, f)) > 0) {
        if (out->len + n > GL_LABELS_FILE_MAX)
            rc = gl_err_set(err, GL_ERANGE, "%s: larger than %zu bytes", path, GL_LABELS_FILE_MAX);
        else
            rc = gl_buf_append(out, buf, n, err);
    }
    if (!rc && ferror(f))
        rc = gl_err_set(err, GL_EIO, "%s: cannot read: %s", path, strerror(errno));
    fclose(f);
    return rc;
}

gl_code gl_labels_import(gl_store *s, const char *const *files, size_t nfiles,
                         gl_labels_format fmt, const gl_labels_opts *o, gl_labels_summary *sums,
                         gl_err *err)
{
    if (!s || (!files && nfiles))
        return gl_err_set(err, GL_EINVAL, "labels import: no store or no files");
    gl_labels_vec all = GL_LABELS_VEC_INIT;
    size_t *starts = calloc(nfiles + 1, sizeof *starts);
    bool *lenient = calloc(nfiles + 1, 1);
    gl_labels_summary *sm = calloc(nfiles + 1, sizeof *sm);
    gl_buf data = GL_BUF_INIT;
    size_t *file_of = NULL;
    bool *keep = NULL;
    uint64_t *dups = NULL;
    gl_store_batch *b = NULL;
    gl_code rc = (starts && lenient && sm) ? GL_OK : gl_err_set(err, GL_ENOMEM, "out of memory");
    /* 1. parse every file; nothing is written while any can fail */
    for (size_t i = 0; !rc && i < nfiles; i++) {
        gl_buf_reset(&data);
        starts[i] = all.n;
        rc = read_whole(files[i], &data, err);
        if (!rc)
            rc = gl_labels_parse(&all, &sm[i], fmt, files[i],
                                 data.data ? (const char *)data.data : "", data.len, o, err);
        lenient[i] = sm[i].format == GL_LABELS_FMT_OFAC_CSV || sm[i].format == GL_LABELS_FMT_OFAC_XML;
    }
    starts[nfiles] = all.n;
    /* 2. the same (address, source) across files */
    if (!rc && all.n) {
        file_of = malloc(all.n * sizeof *file_of);
        keep = malloc(all.n);
        dups = calloc(nfiles, sizeof *dups);
        if (!file_of || !keep || !dups)
            rc = gl_err_set(err, GL_ENOMEM, "out of memory");
        for (size_t i = 0; !rc && i < nfiles; i++)
            for (size_t k = starts[i]; k < starts[i + 1]; k++)
                file_of[k] = i;
        if (!rc)
            rc = dedup(all.labels, all.lines, file_of, lenient, (const char *const *)files, all.n,
                       keep, dups, err);
        for (size_t k = 0; !rc && k < all.n; k++)
            if (!keep[k]) {
                gl_labels_summary *fs = &sm[file_of[k]];
                gl_labels_category c = GL_LABELS_OTHER;
                gl_labels_category_parse(all.labels[k].category, strlen(all.labels[k].category),
                                         &c, NULL);
                fs->by_category[c]--;
                fs->labels--;
                fs->duplicates++;
            }
    }
    /* 3. one batch */
    if (!rc && all.n) {
        b = gl_store_batch_new(s, err);
        if (!b)
            rc = err && err->code ? err->code : GL_EDB;
        for (size_t k = 0; !rc && k < all.n; k++)
            if (keep[k] && gl_store_batch_put_label(b, &all.labels[k], err))
                rc = errat(err, err ? err->code : GL_EINVAL, files[file_of[k]], all.lines[k], 0,
                           "the store refuses the label: %s", err ? err->msg : "?");
        if (!rc)
            rc = gl_store_batch_commit(b, err);
    }
    if (!rc && sums)
        memcpy(sums, sm, nfiles * sizeof *sums);
    gl_store_batch_free(b);
    gl_buf_release(&data);
    gl_labels_vec_release(&all);
    free(starts);
    free(lenient);
    free(sm);
    free(file_of);
    free(keep);
    free(dups);
    return rc;
}
