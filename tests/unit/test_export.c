/* test_export.c - records as CSV rows and JSON Lines objects.
 *
 * Oracles: every expected CSV line is written out by hand here from the
 * record and the rules of RFC 4180 (fields with a comma, a quote, CR or LF
 * quoted, quotes doubled, CRLF ends) and docs/EXPORT.md (column order,
 * empty for unknown); 2^256-1 in decimal is the well-known 78-digit
 * constant; 1700000000 is 2023-11-14T22:13:20Z (date(1)); hours are
 * computed by hand (5400 s = 1.5 h, 1 s = 0.000277.. h -> 0.000278).  JSON
 * lines are read back with jansson, an independent parser, and must carry
 * the same values as the CSV fields, with every key present.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "gpuledger/export.h"

#define U256_MAX_DEC "115792089237316195423570985008687907853269984665640564039457584007913129639935"

/* The header of docs/EXPORT.md, typed in from the documentation. */
static const char *const doc_columns[] = {
    "record", "chain_id", "block", "block_hash", "timestamp", "time", "tx_hash", "tx_index", "log_index",
    "position", "sub", "platform", "event", "contract", "tx_from", "buyer", "beneficiary", "provider", "payer",
    "funder", "spender", "owner", "other_roles", "from", "to", "asset", "token", "amount", "token_id",
    "lease_id", "ids", "gpu_model", "gpu_count", "duration_s", "hours", "gpu_hours", "failed",
    "sender_verified", "sender_mismatch", "proven", "disputed", "block_checks", "verification", "imported",
};
#define NDOC (sizeof doc_columns / sizeof doc_columns[0])

static void fill(uint8_t *p, uint8_t byte, size_t n) { memset(p, byte, n); }

/* "0x" + n copies of the hex digit pair `hh`. */
static const char *rep_hex(const char *hh, size_t n)
{
    static char bufs[8][2 * 64 + 3];
    static int k;
    char *b = bufs[k++ % 8];
    strcpy(b, "0x");
    for (size_t i = 0; i < n; i++)
        strcat(b, hh);
    return b;
}

static char *as_string(const gl_buf *b)
{
    char *s = malloc(b->len + 1);
    assert_non_null(s);
    memcpy(s, b->data, b->len);
    s[b->len] = '\0';
    return s;
}

/* The expected CSV line of `n` fields (NULL = empty), quoted by hand. */
static char *csv_join(const char *const *f, size_t n)
{
    gl_buf b = GL_BUF_INIT;
    for (size_t i = 0; i < n; i++) {
        if (i)
            gl_buf_push(&b, ',', NULL);
        if (f[i])
            gl_buf_append(&b, f[i], strlen(f[i]), NULL);
    }
    gl_buf_append(&b, "\r\n", 2, NULL);
    char *s = as_string(&b);
    gl_buf_release(&b);
    return s;
}

static void lease_event(gl_store_event *ev)
{
    memset(ev, 0, sizeof *ev);
    ev->chain_id = 31337;
    ev->block = 7;
    ev->log_index = 3;
    strcpy(ev->platform, "gpumarket-local");
    strcpy(ev->name, "LeaseOpened");
    assert_int_equal(gl_hex_decode_exact("0x5fbdb2315678afecb367f032d93f642f64180aa3", ev->contract, 20, NULL),
                     GL_OK);
    fill(ev->tx_hash, 0xaa, 32);
    ev->tx_index = 2;
    ev->has_tx_from = true;
    fill(ev->tx_from, 0x11, 20);
    ev->n_roles = 5;
    ev->roles[0].role = GL_STORE_ROLE_BUYER;
    fill(ev->roles[0].addr, 0x22, 20);
    ev->roles[1].role = GL_STORE_ROLE_BENEFICIARY;
    fill(ev->roles[1].addr, 0x33, 20);
    ev->roles[2].role = GL_STORE_ROLE_PROVIDER;
    fill(ev->roles[2].addr, 0x44, 20);
    ev->roles[3].role = GL_STORE_ROLE_PROVIDER;
    fill(ev->roles[3].addr, 0x45, 20);
    ev->roles[4].role = GL_STORE_ROLE_TX_TO;
    fill(ev->roles[4].addr, 0x66, 20);
    ev->has_amount = true;
    ev->amount = (gl_u256){{UINT64_MAX, UINT64_MAX, UINT64_MAX, UINT64_MAX}};
    ev->has_token = true;
    fill(ev->token, 0x77, 20);
    ev->n_ids = 2;
    strcpy(ev->ids[0].name, "leaseId");
    ev->ids[0].value[31] = 5;
    strcpy(ev->ids[1].name, "taskUid");
    fill(ev->ids[1].value, 0xff, 32);
    strcpy(ev->gpu_model, "H100, \"SXM\"\nx");
    ev->gpu_count = 8;
    ev->duration_s = 5400;
    ev->gpu_mhours = 12000;
    ev->verified = GL_STORE_EVENT_SENDER_OK;
}

static void test_columns_match_docs(void **state)
{
    (void)state;
    size_t n;
    const char *const *cols = gl_export_columns(&n);
    assert_int_equal(n, NDOC);
    for (size_t i = 0; i < n; i++)
        assert_string_equal(cols[i], doc_columns[i]);
    gl_buf b = GL_BUF_INIT;
    assert_int_equal(gl_export_header(&b, GL_EXPORT_CSV, NULL), GL_OK);
    char *got = as_string(&b);
    char *want = csv_join(doc_columns, NDOC);
    assert_string_equal(got, want);
    free(got);
    free(want);
    gl_buf_reset(&b);
    assert_int_equal(gl_export_header(&b, GL_EXPORT_JSONL, NULL), GL_OK);
    assert_int_equal(b.len, 0);
    gl_buf_release(&b);
}

static void test_event_csv(void **state)
{
    (void)state;
    gl_store_event ev;
    lease_event(&ev);
    gl_export_ctx ctx = {.has_block = true};
    ctx.block.chain_id = 31337;
    ctx.block.number = 7;
    fill(ctx.block.hash, 0xbb, 32);
    ctx.block.timestamp = 1700000000;
    ctx.block.verified = GL_STORE_BLOCK_HASH_OK | GL_STORE_BLOCK_PARENT_OK;
    gl_buf b = GL_BUF_INIT;
    assert_int_equal(gl_export_event(&b, GL_EXPORT_CSV, &ev, &ctx, NULL), GL_OK);
    char ids[200];
    snprintf(ids, sizeof ids, "leaseId=5;taskUid=%s", rep_hex("ff", 32));
    char provider[100];
    snprintf(provider, sizeof provider, "%s;%s", rep_hex("44", 20), rep_hex("45", 20));
    char other[100];
    snprintf(other, sizeof other, "tx_to:%s", rep_hex("66", 20));
    const char *f[NDOC] = {
        "event", "31337", "7", rep_hex("bb", 32), "1700000000", "2023-11-14T22:13:20Z", rep_hex("aa", 32), "2", "3",
        "log", "0", "gpumarket-local", "LeaseOpened", "0x5fbdb2315678afecb367f032d93f642f64180aa3",
        rep_hex("11", 20), rep_hex("22", 20), rep_hex("33", 20), provider, NULL, NULL, NULL, NULL, other,
        NULL, NULL, NULL, rep_hex("77", 20), U256_MAX_DEC, NULL, "5", ids, "\"H100, \"\"SXM\"\"\nx\"", "8", "5400",
        "1.5", "12", "false", "true", "false", "false", "false", "hash;parent", "sender_verified", "false",
    };
    char *want = csv_join(f, NDOC);
    char *got = as_string(&b);
    assert_string_equal(got, want);
    free(want);
    free(got);
    gl_buf_release(&b);
}

/* Parse one JSON line and check it holds exactly the expected values: the
 * CSV text of each field, typed. */
static void check_json_line(const char *line, const char *const *f, const char *const *types)
{
    json_error_t je;
    size_t len = strlen(line);
    assert_true(len > 0 && line[len - 1] == '\n');
    assert_null(memchr(line, '\n', len - 1)); /* one object, one line */
    json_t *o = json_loadb(line, len, 0, &je);
    if (!o)
        fail_msg("not JSON: %s: %s", je.text, line);
    assert_int_equal(json_object_size(o), NDOC);
    /* keys appear in column order */
    const char *at = line;
    for (size_t i = 0; i < NDOC; i++) {
        char key[64];
        snprintf(key, sizeof key, "\"%s\":", doc_columns[i]);
        const char *p = strstr(at, key);
        if (!p)
            fail_msg("key %s missing or out of order", doc_columns[i]);
        at = p + strlen(key);
        json_t *v = json_object_get(o, doc_columns[i]);
        assert_non_null(v);
        if (!f[i]) {
            if (!json_is_null(v))
                fail_msg("%s: want null", doc_columns[i]);
            continue;
        }
        char got[512];
        switch (types[i][0]) {
        case 's':
            if (!json_is_string(v))
                fail_msg("%s: want a string", doc_columns[i]);
            snprintf(got, sizeof got, "%s", json_string_value(v));
            break;
        case 'i':
            if (!json_is_integer(v))
                fail_msg("%s: want an integer", doc_columns[i]);
            snprintf(got, sizeof got, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
            break;
        case 'b':
            if (!json_is_boolean(v))
                fail_msg("%s: want a boolean", doc_columns[i]);
            snprintf(got, sizeof got, "%s", json_is_true(v) ? "true" : "false");
            break;
        default: /* 'n': a number; compare the text as written */
            if (!json_is_number(v))
                fail_msg("%s: want a number", doc_columns[i]);
            {
                char key2[64];
                snprintf(key2, sizeof key2, "\"%s\":%s", doc_columns[i], f[i]);
                assert_non_null(strstr(line, key2));
            }
            snprintf(got, sizeof got, "%s", f[i]);
        }
        if (strcmp(got, f[i]))
            fail_msg("%s: got '%s', want '%s'", doc_columns[i], got, f[i]);
    }
    json_decref(o);
}

static const char *const types[NDOC] = {
    "s", "i", "i", "s", "i", "s", "s", "i", "i", "s", "i", "s", "s", "s", "s", "s", "s", "s", "s", "s", "s", "s",
    "s", "s", "s", "s", "s", "s", "s", "s", "s", "s", "i", "i", "n", "n", "b", "b", "b", "b", "b", "s", "s", "b",
};

static void test_event_jsonl(void **state)
{
    (void)state;
    gl_store_event ev;
    lease_event(&ev);
    gl_buf b = GL_BUF_INIT;
    /* no context: block_hash, timestamp, time, block_checks unknown */
    assert_int_equal(gl_export_event(&b, GL_EXPORT_JSONL, &ev, NULL, NULL), GL_OK);
    char ids[200], provider[100], other[100];
    snprintf(ids, sizeof ids, "leaseId=5;taskUid=%s", rep_hex("ff", 32));
    snprintf(provider, sizeof provider, "%s;%s", rep_hex("44", 20), rep_hex("45", 20));
    snprintf(other, sizeof other, "tx_to:%s", rep_hex("66", 20));
    const char *f[NDOC] = {
        "event", "31337", "7", NULL, NULL, NULL, rep_hex("aa", 32), "2", "3", "log", "0", "gpumarket-local",
        "LeaseOpened", "0x5fbdb2315678afecb367f032d93f642f64180aa3", rep_hex("11", 20), rep_hex("22", 20),
        rep_hex("33", 20), provider, NULL, NULL, NULL, NULL, other, NULL, NULL, NULL, rep_hex("77", 20),
        U256_MAX_DEC, NULL, "5", ids, "H100, \"SXM\"\nx", "8", "5400", "1.5", "12", "false", "true",
        "false", /* sender verified: no mismatch */
        "false", "false", NULL, "sender_verified", "false",
    };
    char *line = as_string(&b);
    check_json_line(line, f, types);
    /* the escapes themselves, as JSON writes them */
    assert_non_null(strstr(line, "\"gpu_model\":\"H100, \\\"SXM\\\"\\nx\""));
    free(line);
    gl_buf_release(&b);
}

static void test_transfers(void **state)
{
    (void)state;
    /* an internal call moving native coin, with its tx known: a failed
     * sender check makes it "sender_mismatch" */
    gl_store_transfer t;
    memset(&t, 0, sizeof t);
    t.pos = (gl_store_pos){137, 50000000, GL_STORE_POS_TRACE, 12, 3};
    t.asset = GL_STORE_ASSET_NATIVE;
    fill(t.from, 0xa1, 20);
    fill(t.to, 0xb2, 20);
    t.amount = gl_u256_from_u64(1000000000000000000ULL);
    fill(t.tx_hash, 0xcc, 32);
    gl_export_ctx ctx = {.has_tx = true};
    ctx.tx.chain_id = 137;
    ctx.tx.block = 50000000;
    ctx.tx.index = 12;
    fill(ctx.tx.from, 0xd4, 20);
    ctx.tx.flags = GL_STORE_TX_SENDER_MISMATCH;
    gl_buf b = GL_BUF_INIT;
    assert_int_equal(gl_export_transfer(&b, GL_EXPORT_CSV, &t, &ctx, NULL), GL_OK);
    const char *f1[NDOC] = {
        "transfer", "137", "50000000", NULL, NULL, NULL, rep_hex("cc", 32), "12", NULL, "trace", "3", NULL, NULL,
        NULL, rep_hex("d4", 20), NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, rep_hex("a1", 20),
        rep_hex("b2", 20), "native", NULL, "1000000000000000000", NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
        "false", "false", "true", NULL, NULL, NULL, "sender_mismatch", "false",
    };
    char *want = csv_join(f1, NDOC);
    char *got = as_string(&b);
    assert_string_equal(got, want);
    free(want);
    free(got);

    /* an ERC-721 transfer in a log, no context: token id, amount 1 */
    memset(&t, 0, sizeof t);
    t.pos = (gl_store_pos){1, 18000000, GL_STORE_POS_LOG, 77, 0};
    t.asset = GL_STORE_ASSET_ERC721;
    fill(t.token, 0xe5, 20);
    fill(t.from, 0x01, 20);
    fill(t.to, 0x02, 20);
    t.amount = gl_u256_from_u64(1);
    t.token_id = (gl_u256){{0, 1, 0, 0}}; /* 2^64 */
    fill(t.tx_hash, 0x0d, 32);
    t.flags = GL_STORE_TX_SENDER_OK;
    gl_buf_reset(&b);
    assert_int_equal(gl_export_transfer(&b, GL_EXPORT_JSONL, &t, NULL, NULL), GL_OK);
    const char *f2[NDOC] = {
        "transfer", "1", "18000000", NULL, NULL, NULL, rep_hex("0d", 32), NULL, "77", "log", "0", NULL, NULL, NULL,
        NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, rep_hex("01", 20), rep_hex("02", 20), "erc721",
        rep_hex("e5", 20), "1", "18446744073709551616", NULL, NULL, NULL, NULL, NULL, NULL, NULL, "false", "true",
        "false", NULL, NULL, NULL, "sender_verified", "false",
    };
    char *line = as_string(&b);
    check_json_line(line, f2, types);
    free(line);

    /* an imported ERC-20 transfer whose tx the store holds with its sender
     * recovered: the transfer itself was checked against nothing, so it is
     * not sender_verified and says imported_unverified (docs/EXPORT.md) */
    memset(&t, 0, sizeof t);
    t.pos = (gl_store_pos){1, 19000000, GL_STORE_POS_LOG, 5, 0};
    t.asset = GL_STORE_ASSET_ERC20;
    fill(t.token, 0xe6, 20);
    fill(t.from, 0x03, 20);
    fill(t.to, 0x04, 20);
    t.amount = gl_u256_from_u64(42);
    fill(t.tx_hash, 0x0e, 32);
    t.flags = GL_STORE_TX_IMPORTED;
    memset(&ctx, 0, sizeof ctx);
    ctx.has_tx = true;
    ctx.tx.chain_id = 1;
    ctx.tx.block = 19000000;
    ctx.tx.index = 9;
    fill(ctx.tx.from, 0x03, 20);
    ctx.tx.flags = GL_STORE_TX_SENDER_OK;
    gl_buf_reset(&b);
    assert_int_equal(gl_export_transfer(&b, GL_EXPORT_CSV, &t, &ctx, NULL), GL_OK);
    const char *f3[NDOC] = {
        "transfer", "1", "19000000", NULL, NULL, NULL, rep_hex("0e", 32), "9", "5", "log", "0", NULL, NULL, NULL,
        rep_hex("03", 20), NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, rep_hex("03", 20), rep_hex("04", 20),
        "erc20", rep_hex("e6", 20), "42", NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, "false", "false",
        NULL, NULL, NULL, NULL, "imported_unverified", "true",
    };
    want = csv_join(f3, NDOC);
    got = as_string(&b);
    assert_string_equal(got, want);
    free(want);
    free(got);
    gl_buf_release(&b);
}

static void test_numbers_and_text(void **state)
{
    (void)state;
    gl_store_event ev;
    memset(&ev, 0, sizeof ev);
    ev.chain_id = 1;
    ev.block = 0;
    strcpy(ev.platform, "p,\"q\"");
    strcpy(ev.name, "E");
    ev.has_amount = true; /* native coin */
    ev.amount = gl_u256_from_u64(0);
    ev.duration_s = 1;         /* 1/3600 h = 0.000277.. -> 0.000278 */
    ev.gpu_mhours = 1;         /* 0.001 */
    strcpy(ev.gpu_model, "A\xff" "B\xe2\x82\xac"); /* a stray byte, then a valid euro sign */
    ev.verified = GL_STORE_EVENT_DISPUTED | GL_STORE_EVENT_PROVEN;
    ev.n_ids = 1;
    strcpy(ev.ids[0].name, "id");
    ev.ids[0].value[15] = 1; /* 2^128: too big for decimal ids, shown in hex */
    gl_buf b = GL_BUF_INIT;
    assert_int_equal(gl_export_event(&b, GL_EXPORT_CSV, &ev, NULL, NULL), GL_OK);
    char *line = as_string(&b);
    char idhex[70];
    snprintf(idhex, sizeof idhex, "0x%s01%s", rep_hex("00", 15) + 2, rep_hex("00", 16) + 2);
    char ids[100];
    snprintf(ids, sizeof ids, "id=%s", idhex);
    const char *f[NDOC] = {
        "event", "1", "0", NULL, NULL, NULL, rep_hex("00", 32), "0", "0", "log", "0", "\"p,\"\"q\"\"\"", "E",
        rep_hex("00", 20), NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, "native", NULL, "0",
        NULL, idhex, ids, "A\xef\xbf\xbd" "B\xe2\x82\xac", NULL, "1", "0.000278", "0.001", "false", "false", NULL,
        "true", "true", NULL, "disputed", "false",
    };
    char *want = csv_join(f, NDOC);
    assert_string_equal(line, want);
    free(want);
    free(line);

    /* hours: whole, rounding up into the next hour */
    ev.duration_s = 7200;
    ev.gpu_mhours = 2500;
    gl_buf_reset(&b);
    assert_int_equal(gl_export_event(&b, GL_EXPORT_JSONL, &ev, NULL, NULL), GL_OK);
    line = as_string(&b);
    assert_non_null(strstr(line, "\"hours\":2,"));
    assert_non_null(strstr(line, "\"gpu_hours\":2.5,"));
    assert_non_null(strstr(line, "\"gpu_model\":\"A\xef\xbf\xbd" "B\xe2\x82\xac\""));
    free(line);
    ev.duration_s = 3599 * 3600 + 3599; /* 3599.999722.. -> 3599.99972 */
    gl_buf_reset(&b);
    assert_int_equal(gl_export_event(&b, GL_EXPORT_JSONL, &ev, NULL, NULL), GL_OK);
    line = as_string(&b);
    assert_non_null(strstr(line, "\"hours\":3599.999722,"));
    free(line);
    ev.duration_s = 3600 * 5 - 1; /* 4.99972.. */
    gl_buf_reset(&b);
    assert_int_equal(gl_export_event(&b, GL_EXPORT_JSONL, &ev, NULL, NULL), GL_OK);
    line = as_string(&b);
    assert_non_null(strstr(line, "\"hours\":4.999722,"));
    free(line);
    gl_buf_release(&b);
}

static void test_control_characters_json(void **state)
{
    (void)state;
    gl_store_event ev;
    memset(&ev, 0, sizeof ev);
    ev.chain_id = 5;
    strcpy(ev.platform, "p");
    strcpy(ev.name, "E");
    strcpy(ev.gpu_model, "a\tb\x01" "c\\");
    gl_buf b = GL_BUF_INIT;
    assert_int_equal(gl_export_event(&b, GL_EXPORT_JSONL, &ev, NULL, NULL), GL_OK);
    char *line = as_string(&b);
    assert_non_null(strstr(line, "\"gpu_model\":\"a\\tb\\u0001c\\\\\""));
    json_t *o = json_loads(line, 0, NULL);
    assert_non_null(o);
    assert_string_equal(json_string_value(json_object_get(o, "gpu_model")), "a\tb\x01" "c\\");
    json_decref(o);
    free(line);
    /* CSV: a tab or \x01 needs no quoting; a backslash is plain text */
    gl_buf_reset(&b);
    assert_int_equal(gl_export_event(&b, GL_EXPORT_CSV, &ev, NULL, NULL), GL_OK);
    line = as_string(&b);
    assert_non_null(strstr(line, ",a\tb\x01" "c\\,"));
    free(line);
    gl_buf_release(&b);
}

/* Swan's cpList: an event with the most roles a store holds. */
static void test_many_roles(void **state)
{
    (void)state;
    gl_store_event ev;
    memset(&ev, 0, sizeof ev);
    ev.chain_id = 254;
    strcpy(ev.platform, "swan-mainnet");
    strcpy(ev.name, "TaskCreated");
    ev.n_roles = GL_STORE_EVENT_ROLES_MAX;
    for (size_t i = 0; i < ev.n_roles; i++) {
        ev.roles[i].role = i % 2 ? GL_STORE_ROLE_PROVIDER : GL_STORE_ROLE_SENDER;
        fill(ev.roles[i].addr, (uint8_t)(0x10 + i), 20);
    }
    gl_buf b = GL_BUF_INIT;
    assert_int_equal(gl_export_event(&b, GL_EXPORT_JSONL, &ev, NULL, NULL), GL_OK);
    char *line = as_string(&b);
    json_t *o = json_loads(line, 0, NULL);
    assert_non_null(o);
    char want_p[32 * 43 + 1] = "", want_o[32 * 52 + 1] = "";
    for (size_t i = 0; i < ev.n_roles; i++) {
        char hh[3];
        snprintf(hh, sizeof hh, "%02x", (unsigned)(0x10 + i));
        char *w = i % 2 ? want_p : want_o;
        if (w[0])
            strcat(w, ";");
        if (!(i % 2))
            strcat(w, "sender:");
        strcat(w, rep_hex(hh, 20));
    }
    assert_string_equal(json_string_value(json_object_get(o, "provider")), want_p);
    assert_string_equal(json_string_value(json_object_get(o, "other_roles")), want_o);
    json_decref(o);
    free(line);
    gl_buf_release(&b);
}

static void test_parse_names(void **state)
{
    (void)state;
    gl_export_format f;
    gl_export_kind k;
    gl_err err;
    assert_int_equal(gl_export_format_parse("csv", &f, &err), GL_OK);
    assert_int_equal(f, GL_EXPORT_CSV);
    assert_int_equal(gl_export_format_parse("jsonl", &f, &err), GL_OK);
    assert_int_equal(f, GL_EXPORT_JSONL);
    assert_int_equal(gl_export_format_parse("xml", &f, &err), GL_EINVAL);
    assert_non_null(strstr(err.msg, "'xml'"));
    assert_int_equal(gl_export_kind_parse("transfers", &k, &err), GL_OK);
    assert_int_equal(k, GL_EXPORT_TRANSFERS);
    assert_int_equal(gl_export_kind_parse("blocks", &k, &err), GL_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_columns_match_docs),
        cmocka_unit_test(test_event_csv),
        cmocka_unit_test(test_event_jsonl),
        cmocka_unit_test(test_transfers),
        cmocka_unit_test(test_numbers_and_text),
        cmocka_unit_test(test_control_characters_json),
        cmocka_unit_test(test_many_roles),
        cmocka_unit_test(test_parse_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
