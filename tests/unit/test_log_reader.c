/* test_log_reader.c - gl_log_reader_parse, gl_logs_sort and gl_logs_truncate.
 *
 * Oracles: eth_getLogs answers written out as anvil gives them (an ERC-20
 * Transfer from anvil's first account to its second, emitted by the first
 * contract anvil deploys), with the expected bytes typed here by hand from
 * that text; the Ethereum JSON-RPC spec's quantity encoding ("0x" hex) and
 * the looser JSON integers some endpoints send; the bounds of uint64 and
 * uint32.  Every refusal is checked for its code, for a message naming the
 * log and the field, and for leaving the output list exactly as it was.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gpuledger/log_reader.h"

/* ------------------------------------------------------------ the answer */

#define ADDR "0x5fbdb2315678afecb367f032d93f642f64180aa3"
#define ADDR_EIP55 "0x5FbDB2315678afecb367f032d93F642f64180aa3"
#define TOPIC0 "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef"
#define TOPIC1 "0x000000000000000000000000f39fd6e51aad88f6f4ce6ab8827279cfffb92266"
#define TOPIC2 "0x00000000000000000000000070997970c51812dc3a010c7d01b50e0d17dc79c8"
#define DATA "0x00000000000000000000000000000000000000000000003635c9adc5dea00000"
#define BHASH "0x8e5d2ec2a1c8b8a4e5f0d3b6c7a9e1f20314253647586970a1b2c3d4e5f60718"
#define THASH "0x3b1a0c7e9d2f4a6b8c0e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e"

/* One log of an anvil eth_getLogs answer, as anvil writes it. */
static const char ANVIL_LOG[] =
    "{\"address\":\"" ADDR "\",\"topics\":[\"" TOPIC0 "\",\"" TOPIC1 "\",\"" TOPIC2 "\"],"
    "\"data\":\"" DATA "\",\"blockHash\":\"" BHASH "\",\"blockNumber\":\"0x5\","
    "\"blockTimestamp\":\"0x6634a8c0\",\"transactionHash\":\"" THASH "\","
    "\"transactionIndex\":\"0x2\",\"logIndex\":\"0x3\",\"removed\":false}";

/* The bytes, typed from the text above. */
static const uint8_t ADDR_B[20] = {0x5f, 0xbd, 0xb2, 0x31, 0x56, 0x78, 0xaf, 0xec, 0xb3, 0x67,
                                   0xf0, 0x32, 0xd9, 0x3f, 0x64, 0x2f, 0x64, 0x18, 0x0a, 0xa3};
static const uint8_t TOPIC0_B[32] = {0xdd, 0xf2, 0x52, 0xad, 0x1b, 0xe2, 0xc8, 0x9b, 0x69, 0xc2, 0xb0,
                                     0x68, 0xfc, 0x37, 0x8d, 0xaa, 0x95, 0x2b, 0xa7, 0xf1, 0x63, 0xc4,
                                     0xa1, 0x16, 0x28, 0xf5, 0x5a, 0x4d, 0xf5, 0x23, 0xb3, 0xef};
static const uint8_t TOPIC1_B[32] = {0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,
                                     0,    0xf3, 0x9f, 0xd6, 0xe5, 0x1a, 0xad, 0x88, 0xf6, 0xf4, 0xce,
                                     0x6a, 0xb8, 0x82, 0x72, 0x79, 0xcf, 0xff, 0xb9, 0x22, 0x66};
static const uint8_t TOPIC2_B[32] = {0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,
                                     0,    0x70, 0x99, 0x79, 0x70, 0xc5, 0x18, 0x12, 0xdc, 0x3a, 0x01,
                                     0x0c, 0x7d, 0x01, 0xb5, 0x0e, 0x0d, 0x17, 0xdc, 0x79, 0xc8};
/* 1000 tokens of 18 decimals: 10^21 = 0x3635c9adc5dea00000 */
static const uint8_t DATA_B[32] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                                   0, 0, 0, 0, 0, 0, 0, 0x36, 0x35, 0xc9, 0xad, 0xc5, 0xde, 0xa0, 0x00, 0x00};
static const uint8_t BHASH_B[32] = {0x8e, 0x5d, 0x2e, 0xc2, 0xa1, 0xc8, 0xb8, 0xa4, 0xe5, 0xf0, 0xd3,
                                    0xb6, 0xc7, 0xa9, 0xe1, 0xf2, 0x03, 0x14, 0x25, 0x36, 0x47, 0x58,
                                    0x69, 0x70, 0xa1, 0xb2, 0xc3, 0xd4, 0xe5, 0xf6, 0x07, 0x18};
static const uint8_t THASH_B[32] = {0x3b, 0x1a, 0x0c, 0x7e, 0x9d, 0x2f, 0x4a, 0x6b, 0x8c, 0x0e, 0x1f,
                                    0x2a, 0x3b, 0x4c, 0x5d, 0x6e, 0x7f, 0x80, 0x91, 0xa2, 0xb3, 0xc4,
                                    0xd5, 0xe6, 0xf7, 0x08, 0x19, 0x2a, 0x3b, 0x4c, 0x5d, 0x6e};

/* 0x6634a8c0 */
#define TS 1714727104u

/* The anvil log as checked field by field. */
static void check_anvil_log(const gl_log *g)
{
    assert_int_equal(g->block, 5);
    assert_int_equal(g->log_index, 3);
    assert_int_equal(g->tx_index, 2);
    assert_memory_equal(g->address, ADDR_B, 20);
    assert_int_equal(g->ntopics, 3);
    assert_memory_equal(g->topics[0], TOPIC0_B, 32);
    assert_memory_equal(g->topics[1], TOPIC1_B, 32);
    assert_memory_equal(g->topics[2], TOPIC2_B, 32);
    assert_int_equal(g->len, 32);
    assert_non_null(g->data);
    assert_memory_equal(g->data, DATA_B, 32);
    assert_memory_equal(g->block_hash, BHASH_B, 32);
    assert_memory_equal(g->tx_hash, THASH_B, 32);
    assert_true(g->has_ts);
    assert_int_equal(g->ts, TS);
    assert_false(g->removed);
}

/* ------------------------------------------------------------ the pre-filled list */

/* Every test's list starts with this one log, which must survive. */
static void prefill(gl_logs *out)
{
    memset(out, 0, sizeof *out);
    gl_log *g = gl_logs_push(out);
    assert_non_null(g);
    g->block = 77;
    g->log_index = 9;
    g->tx_index = 4;
    memset(g->address, 0xaa, 20);
    g->ntopics = 1;
    memset(g->topics[0], 0xbb, 32);
    g->data = malloc(3);
    assert_non_null(g->data);
    memcpy(g->data, "\x01\x02\x03", 3);
    g->len = 3;
    memset(g->block_hash, 0xcc, 32);
    memset(g->tx_hash, 0xdd, 32);
}

static void check_prefill(const gl_logs *out)
{
    assert_true(out->n >= 1);
    const gl_log *g = &out->v[0];
    uint8_t aa[20], bb[32], cc[32], dd[32];
    memset(aa, 0xaa, 20);
    memset(bb, 0xbb, 32);
    memset(cc, 0xcc, 32);
    memset(dd, 0xdd, 32);
    assert_int_equal(g->block, 77);
    assert_int_equal(g->log_index, 9);
    assert_int_equal(g->tx_index, 4);
    assert_memory_equal(g->address, aa, 20);
    assert_int_equal(g->ntopics, 1);
    assert_memory_equal(g->topics[0], bb, 32);
    assert_int_equal(g->len, 3);
    assert_memory_equal(g->data, "\x01\x02\x03", 3);
    assert_memory_equal(g->block_hash, cc, 32);
    assert_memory_equal(g->tx_hash, dd, 32);
}

/* Parse into a pre-filled list; the logs read are at out->v[1..]. */
static gl_code parse(const char *json, size_t len, gl_logs *out, gl_err *err)
{
    prefill(out);
    gl_err_clear(err);
    gl_code rc = gl_log_reader_parse(json, len, out, err);
    check_prefill(out);
    return rc;
}

static void has(const char *msg, const char *want)
{
    if (!strstr(msg, want))
        fail_msg("message \"%s\" does not say \"%s\"", msg, want);
}

/* The text must be refused with GL_ERPC, a message holding want1 (and
 * want2 when not NULL), and the list as it was. */
static void refused_n(const char *json, size_t len, const char *want1, const char *want2)
{
    gl_logs out;
    gl_err err;
    gl_code rc = parse(json, len, &out, &err);
    if (rc != GL_ERPC)
        fail_msg("%.*s: got code %d (%s), wanted GL_ERPC", (int)(len > 300 ? 300 : len), json, (int)rc,
                 err.msg);
    assert_int_equal(err.code, GL_ERPC);
    if (want1)
        has(err.msg, want1);
    if (want2)
        has(err.msg, want2);
    assert_int_equal(out.n, 1);
    check_prefill(&out);
    gl_logs_free(&out);
}

static void refused(const char *json, const char *want1, const char *want2)
{
    refused_n(json, strlen(json), want1, want2);
}

/* ------------------------------------------------------------ a log built member by member */

typedef struct member {
    const char *name;
    const char *value; /* JSON text */
} member;

static const member GOOD[] = {
    {"address", "\"" ADDR "\""},
    {"topics", "[\"" TOPIC0 "\",\"" TOPIC1 "\",\"" TOPIC2 "\"]"},
    {"data", "\"" DATA "\""},
    {"blockHash", "\"" BHASH "\""},
    {"blockNumber", "\"0x5\""},
    {"blockTimestamp", "\"0x6634a8c0\""},
    {"transactionHash", "\"" THASH "\""},
    {"transactionIndex", "\"0x2\""},
    {"logIndex", "\"0x3\""},
    {"removed", "false"},
};
#define NGOOD (sizeof GOOD / sizeof GOOD[0])

/* "[ANVIL_LOG, L]" where L is the good log with member `name` given the
 * JSON text `value` (NULL: left out) and `extra` (raw member text, or NULL)
 * appended.  Static buffer: one answer at a time. */
static const char *answer_with(const char *name, const char *value, const char *extra)
{
    static char buf[8192];
    size_t n = (size_t)snprintf(buf, sizeof buf, "[%s,{", ANVIL_LOG);
    bool first = true;
    for (size_t i = 0; i < NGOOD; i++) {
        const char *v = GOOD[i].value;
        if (name && !strcmp(GOOD[i].name, name))
            v = value;
        if (!v)
            continue;
        n += (size_t)snprintf(buf + n, sizeof buf - n, "%s\"%s\":%s", first ? "" : ",", GOOD[i].name, v);
        first = false;
    }
    if (extra)
        n += (size_t)snprintf(buf + n, sizeof buf - n, ",%s", extra);
    n += (size_t)snprintf(buf + n, sizeof buf - n, "}]");
    assert_true(n < sizeof buf);
    return buf;
}

/* ------------------------------------------------------------ decoding */

static void test_anvil_log(void **state)
{
    (void)state;
    char json[2048];
    snprintf(json, sizeof json, "[%s]", ANVIL_LOG);
    gl_logs out;
    gl_err err;
    assert_int_equal(parse(json, strlen(json), &out, &err), GL_OK);
    assert_int_equal(out.n, 2); /* appended after the one already there */
    check_anvil_log(&out.v[1]);
    gl_logs_free(&out);
    assert_null(out.v);
    assert_int_equal(out.n, 0);
}

static void test_builder_matches_anvil_text(void **state)
{
    (void)state;
    /* the builder's good log is the anvil log: both decode the same */
    const char *json = answer_with(NULL, NULL, NULL);
    gl_logs out;
    gl_err err;
    assert_int_equal(parse(json, strlen(json), &out, &err), GL_OK);
    assert_int_equal(out.n, 3);
    check_anvil_log(&out.v[1]);
    check_anvil_log(&out.v[2]);
    gl_logs_free(&out);
}

static void test_integers_any_order_unknown_members(void **state)
{
    (void)state;
    /* members in reverse order, quantities as JSON integers, unknown members
     * of every shape - including one holding keys named like the fields,
     * which must neither be read nor count as repeats */
    static const char json[] =
        "[{\"removed\":true,"
        "\"transactionLogIndex\":\"0x0\","
        "\"logIndex\":26,"
        "\"meta\":{\"address\":\"zz\",\"logIndex\":{},\"topics\":[1,2,3,4,5,6],\"deep\":[[[{\"a\":[null]}]]]},"
        "\"transactionIndex\":255,"
        "\"s\":\"x\",\"n\":null,\"t\":true,\"f\":-1.5e3,\"e\":{},\"a\":[],"
        "\"transactionHash\":\"" THASH "\","
        "\"blockTimestamp\":1714727104,"
        "\"blockNumber\":1234567,"
        "\"list\":[{\"blockHash\":1},[\"data\"],{}],"
        "\"blockHash\":\"" BHASH "\","
        "\"data\":\"0x\","
        "\"topics\":[\"" TOPIC0 "\"],"
        "\"address\":\"" ADDR_EIP55 "\"}]";
    gl_logs out;
    gl_err err;
    gl_code rc = parse(json, strlen(json), &out, &err);
    if (rc)
        fail_msg("refused: %s", err.msg);
    assert_int_equal(out.n, 2);
    const gl_log *g = &out.v[1];
    assert_int_equal(g->block, 1234567);
    assert_int_equal(g->log_index, 26);
    assert_int_equal(g->tx_index, 255);
    assert_true(g->has_ts);
    assert_int_equal(g->ts, TS);
    assert_true(g->removed);
    assert_memory_equal(g->address, ADDR_B, 20); /* EIP-55 mixed case: same bytes */
    assert_int_equal(g->ntopics, 1);
    assert_memory_equal(g->topics[0], TOPIC0_B, 32);
    assert_int_equal(g->len, 0); /* "0x" */
    assert_null(g->data);
    assert_memory_equal(g->block_hash, BHASH_B, 32);
    assert_memory_equal(g->tx_hash, THASH_B, 32);
    gl_logs_free(&out);
}

static void test_optional_members(void **state)
{
    (void)state;
    gl_logs out;
    gl_err err;
    /* blockTimestamp absent; removed absent */
    const char *json = answer_with("blockTimestamp", NULL, NULL);
    assert_int_equal(parse(json, strlen(json), &out, &err), GL_OK);
    assert_int_equal(out.n, 3);
    assert_true(out.v[1].has_ts);
    assert_false(out.v[2].has_ts);
    gl_logs_free(&out);

    json = answer_with("blockTimestamp", "null", NULL);
    assert_int_equal(parse(json, strlen(json), &out, &err), GL_OK);
    assert_int_equal(out.n, 3);
    assert_false(out.v[2].has_ts);
    assert_int_equal(out.v[2].ts, 0);
    gl_logs_free(&out);

    json = answer_with("removed", NULL, NULL);
    assert_int_equal(parse(json, strlen(json), &out, &err), GL_OK);
    assert_false(out.v[2].removed);
    gl_logs_free(&out);

    json = answer_with("removed", "null", NULL);
    assert_int_equal(parse(json, strlen(json), &out, &err), GL_OK);
    assert_false(out.v[2].removed);
    gl_logs_free(&out);

    json = answer_with("removed", "true", NULL);
    assert_int_equal(parse(json, strlen(json), &out, &err), GL_OK);
    assert_false(out.v[1].removed);
    assert_true(out.v[2].removed);
    gl_logs_free(&out);

    /* an anonymous event: no topics */
    json = answer_with("topics", "[]", NULL);
    assert_int_equal(parse(json, strlen(json), &out, &err), GL_OK);
    assert_int_equal(out.v[2].ntopics, 0);
    gl_logs_free(&out);

    /* four topics: the most a log can have */
    json = answer_with("topics", "[\"" TOPIC2 "\",\"" TOPIC1 "\",\"" TOPIC0 "\",\"" TOPIC2 "\"]", NULL);
    assert_int_equal(parse(json, strlen(json), &out, &err), GL_OK);
    assert_int_equal(out.v[2].ntopics, 4);
    assert_memory_equal(out.v[2].topics[0], TOPIC2_B, 32);
    assert_memory_equal(out.v[2].topics[1], TOPIC1_B, 32);
    assert_memory_equal(out.v[2].topics[2], TOPIC0_B, 32);
    assert_memory_equal(out.v[2].topics[3], TOPIC2_B, 32);
    gl_logs_free(&out);

    /* data "0x" */
    json = answer_with("data", "\"0x\"", NULL);
    assert_int_equal(parse(json, strlen(json), &out, &err), GL_OK);
    assert_int_equal(out.v[2].len, 0);
    assert_null(out.v[2].data);
    gl_logs_free(&out);

    /* one byte of data */
    json = answer_with("data", "\"0x7F\"", NULL);
    assert_int_equal(parse(json, strlen(json), &out, &err), GL_OK);
    assert_int_equal(out.v[2].len, 1);
    assert_int_equal(out.v[2].data[0], 0x7f);
    gl_logs_free(&out);
}

static void test_quantity_bounds(void **state)
{
    (void)state;
    gl_logs out;
    gl_err err;
    /* 2^64 - 1 both ways; leading zeros in hex */
    const char *json = answer_with("blockNumber", "\"0xffffffffffffffff\"", NULL);
    assert_int_equal(parse(json, strlen(json), &out, &err), GL_OK);
    assert_true(out.v[2].block == UINT64_MAX);
    gl_logs_free(&out);

    json = answer_with("blockNumber", "18446744073709551615", NULL);
    assert_int_equal(parse(json, strlen(json), &out, &err), GL_OK);
    assert_true(out.v[2].block == UINT64_MAX);
    gl_logs_free(&out);

    json = answer_with("blockNumber", "\"0x000000000000000000001\"", NULL);
    assert_int_equal(parse(json, strlen(json), &out, &err), GL_OK);
    assert_int_equal(out.v[2].block, 1);
    gl_logs_free(&out);

    json = answer_with("blockNumber", "0", NULL);
    assert_int_equal(parse(json, strlen(json), &out, &err), GL_OK);
    assert_int_equal(out.v[2].block, 0);
    gl_logs_free(&out);

    /* 2^32 - 1 both ways */
    json = answer_with("logIndex", "\"0xffffffff\"", NULL);
    assert_int_equal(parse(json, strlen(json), &out, &err), GL_OK);
    assert_int_equal(out.v[2].log_index, 4294967295u);
    gl_logs_free(&out);

    json = answer_with("transactionIndex", "4294967295", NULL);
    assert_int_equal(parse(json, strlen(json), &out, &err), GL_OK);
    assert_int_equal(out.v[2].tx_index, 4294967295u);
    gl_logs_free(&out);

    json = answer_with("blockTimestamp", "\"0xFFFFFFFFFFFFFFFF\"", NULL);
    assert_int_equal(parse(json, strlen(json), &out, &err), GL_OK);
    assert_true(out.v[2].ts == UINT64_MAX);
    gl_logs_free(&out);
}

static void test_empty_result(void **state)
{
    (void)state;
    gl_logs out;
    gl_err err;
    assert_int_equal(parse("[]", 2, &out, &err), GL_OK);
    assert_int_equal(out.n, 1);
    gl_logs_free(&out);
    assert_int_equal(parse(" [ ] ", 5, &out, &err), GL_OK);
    assert_int_equal(out.n, 1);
    gl_logs_free(&out);

    /* an empty list stays empty */
    gl_logs none = {0};
    assert_int_equal(gl_log_reader_parse("[]", 2, &none, &err), GL_OK);
    assert_int_equal(none.n, 0);
    gl_logs_free(&none);
}

/* ------------------------------------------------------------ refusals */

static void test_required_members_missing(void **state)
{
    (void)state;
    static const char *const required[] = {"address",         "topics",           "data",    "blockHash",
                                           "blockNumber",     "transactionHash", "transactionIndex",
                                           "logIndex"};
    for (size_t i = 0; i < sizeof required / sizeof required[0]; i++) {
        char want[80];
        snprintf(want, sizeof want, "log 1: bad or missing %s", required[i]);
        refused(answer_with(required[i], NULL, NULL), want, NULL);
        /* null is not a value for it either */
        refused(answer_with(required[i], "null", NULL), want, NULL);
        /* nor an object */
        refused(answer_with(required[i], "{}", NULL), want, NULL);
    }
    /* the first log is where the answer went wrong: log 0 */
    refused("[{}]", "log 0: bad or missing address", NULL);
}

static void test_bad_lengths(void **state)
{
    (void)state;
    /* 19 and 21 bytes */
    refused(answer_with("address", "\"0x5fbdb2315678afecb367f032d93f642f64180a\"", NULL),
            "log 1: bad or missing address", NULL);
    refused(answer_with("address", "\"" ADDR "00\"", NULL), "log 1: bad or missing address", NULL);
    refused(answer_with("address", "\"" ADDR "0\"", NULL), "log 1: bad or missing address", NULL);
    /* no prefix, right number of digits */
    refused(answer_with("address", "\"005fbdb2315678afecb367f032d93f642f64180aa3\"", NULL),
            "log 1: bad or missing address", NULL);
    refused(answer_with("address", "\"0x5fbdb2315678afecb367f032d93f642f64180ag3\"", NULL),
            "log 1: bad or missing address", NULL);
    /* 31 and 33 bytes */
    refused(answer_with("blockHash", "\"0x8e5d2ec2a1c8b8a4e5f0d3b6c7a9e1f20314253647586970a1b2c3d4e5f607\"", NULL),
            "log 1: bad or missing blockHash", NULL);
    refused(answer_with("blockHash", "\"" BHASH "ff\"", NULL), "log 1: bad or missing blockHash", NULL);
    refused(answer_with("transactionHash", "\"" THASH "ff\"", NULL), "log 1: bad or missing transactionHash",
            NULL);
    refused(answer_with("transactionHash", "\"0x\"", NULL), "log 1: bad or missing transactionHash", NULL);
    refused(answer_with("transactionHash", "5", NULL), "log 1: bad or missing transactionHash", NULL);
    /* a short topic, a long one */
    refused(answer_with("topics", "[\"" TOPIC0 "\",\"0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266\"]", NULL),
            "log 1:", "topics");
    refused(answer_with("topics", "[\"" TOPIC0 "00\"]", NULL), "log 1:", "topics");
}

static void test_bad_data(void **state)
{
    (void)state;
    refused(answer_with("data", "\"0x123\"", NULL), "log 1: bad or missing data", NULL);
    refused(answer_with("data", "\"0x12zz\"", NULL), "log 1: bad or missing data", NULL);
    refused(answer_with("data", "\"0xg0\"", NULL), "log 1: bad or missing data", NULL);
    refused(answer_with("data", "\"1234\"", NULL), "log 1: bad or missing data", NULL);
    refused(answer_with("data", "\"\"", NULL), "log 1: bad or missing data", NULL);
    refused(answer_with("data", "\"0\"", NULL), "log 1: bad or missing data", NULL);
    refused(answer_with("data", "[]", NULL), "log 1: bad or missing data", NULL);
    refused(answer_with("data", "12", NULL), "log 1: bad or missing data", NULL);
}

static void test_bad_topics(void **state)
{
    (void)state;
    refused(answer_with("topics", "[\"" TOPIC0 "\",\"" TOPIC1 "\",\"" TOPIC2 "\",\"" TOPIC0 "\",\"" TOPIC1 "\"]",
                        NULL),
            "log 1:", "4 topics");
    refused(answer_with("topics", "[\"" TOPIC0 "\",5]", NULL), "log 1:", "topic");
    refused(answer_with("topics", "[null]", NULL), "log 1:", "topic");
    refused(answer_with("topics", "[{}]", NULL), "log 1:", "topic");
    refused(answer_with("topics", "[[\"" TOPIC0 "\"]]", NULL), "log 1:", "topic");
    refused(answer_with("topics", "[true]", NULL), "log 1:", "topic");
    refused(answer_with("topics", "\"" TOPIC0 "\"", NULL), "log 1: bad or missing topics", NULL);
    refused(answer_with("topics", "{\"0\":\"" TOPIC0 "\"}", NULL), "log 1: bad or missing topics", NULL);
}

static void test_bad_quantities(void **state)
{
    (void)state;
    /* 2^64 */
    refused(answer_with("blockNumber", "\"0x10000000000000000\"", NULL), "log 1: bad or missing blockNumber", NULL);
    refused(answer_with("blockNumber", "18446744073709551616", NULL), "log 1: bad or missing blockNumber", NULL);
    refused(answer_with("blockNumber", "99999999999999999999", NULL), "log 1: bad or missing blockNumber", NULL);
    refused(answer_with("blockNumber", "100000000000000000000", NULL), "log 1: bad or missing blockNumber",
            NULL);
    refused(answer_with("blockTimestamp", "\"0x10000000000000000\"", NULL), "log 1: bad or missing blockTimestamp",
            NULL);
    /* 2^32 */
    refused(answer_with("logIndex", "\"0x100000000\"", NULL), "log 1: bad or missing logIndex", NULL);
    refused(answer_with("logIndex", "4294967296", NULL), "log 1: bad or missing logIndex", NULL);
    refused(answer_with("transactionIndex", "\"0x100000000\"", NULL), "log 1: bad or missing transactionIndex",
            NULL);
    refused(answer_with("transactionIndex", "4294967296", NULL), "log 1: bad or missing transactionIndex", NULL);
    /* negative, fractional, exponent */
    refused(answer_with("blockNumber", "-1", NULL), "log 1: bad or missing blockNumber", NULL);
    refused(answer_with("blockNumber", "-0", NULL), "log 1: bad or missing blockNumber", NULL);
    refused(answer_with("logIndex", "1.5", NULL), "log 1: bad or missing logIndex", NULL);
    refused(answer_with("logIndex", "3.0", NULL), "log 1: bad or missing logIndex", NULL);
    refused(answer_with("transactionIndex", "2e0", NULL), "log 1: bad or missing transactionIndex", NULL);
    refused(answer_with("blockTimestamp", "1E9", NULL), "log 1: bad or missing blockTimestamp", NULL);
    /* not quantities */
    refused(answer_with("blockNumber", "\"0x\"", NULL), "log 1: bad or missing blockNumber", NULL);
    refused(answer_with("blockNumber", "\"5\"", NULL), "log 1: bad or missing blockNumber", NULL);
    refused(answer_with("blockNumber", "\"0x5g\"", NULL), "log 1: bad or missing blockNumber", NULL);
    refused(answer_with("blockNumber", "\"-0x5\"", NULL), "log 1: bad or missing blockNumber", NULL);
    refused(answer_with("blockNumber", "true", NULL), "log 1: bad or missing blockNumber", NULL);
    refused(answer_with("blockNumber", "[5]", NULL), "log 1: bad or missing blockNumber", NULL);
    refused(answer_with("removed", "\"true\"", NULL), "log 1: bad or missing removed", NULL);
    refused(answer_with("removed", "0", NULL), "log 1: bad or missing removed", NULL);
    refused(answer_with("blockTimestamp", "true", NULL), "log 1: bad or missing blockTimestamp", NULL);
}

static void test_member_twice(void **state)
{
    (void)state;
    for (size_t i = 0; i < NGOOD; i++) {
        char extra[300], want[80];
        snprintf(extra, sizeof extra, "\"%s\":%s", GOOD[i].name, GOOD[i].value);
        snprintf(want, sizeof want, "log 1: member %s given twice", GOOD[i].name);
        /* even when both say the same */
        refused(answer_with(NULL, NULL, extra), want, NULL);
    }
}

static void test_not_logs(void **state)
{
    (void)state;
    char json[2048];
    static const char *const values[] = {"5", "\"0x5\"", "[]", "null", "true", "[{}]"};
    static const char *const names[] = {"a number", "a string", "an array", "null", "a boolean", "an array"};
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        snprintf(json, sizeof json, "[%s,%s]", ANVIL_LOG, values[i]);
        refused(json, "log 1 is", names[i]);
    }
    /* the result itself */
    refused("{}", "the result is an object, not an array", NULL);
    refused("null", "the result is null, not an array", NULL);
    refused("\"0x\"", "the result is a string, not an array", NULL);
    refused("5", "the result is a number, not an array", NULL);
    refused("false", "the result is a boolean, not an array", NULL);
    snprintf(json, sizeof json, "%s", ANVIL_LOG);
    refused(json, "not an array", NULL);
    /* nothing at all, whitespace */
    refused_n("", 0, NULL, NULL);
    refused("  ", NULL, NULL);
    /* two values */
    snprintf(json, sizeof json, "[%s][]", ANVIL_LOG);
    refused(json, NULL, NULL);
}

static void test_every_prefix_fails(void **state)
{
    (void)state;
    char json[4096];
    /* two logs at different positions */
    int n = snprintf(json, sizeof json, "%s", answer_with("logIndex", "\"0x4\"", NULL));
    assert_true(n > 0 && (size_t)n < sizeof json);
    size_t len = (size_t)n;
    {
        gl_logs out;
        gl_err err;
        assert_int_equal(parse(json, len, &out, &err), GL_OK);
        assert_int_equal(out.n, 3);
        assert_int_equal(out.v[2].log_index, 4);
        gl_logs_free(&out);
    }
    for (size_t cut = 0; cut < len; cut++)
        refused_n(json, cut, NULL, NULL);
    /* a cut copied into its own buffer, so ASan sees any read past it */
    for (size_t cut = 0; cut < len; cut += 7) {
        char *p = malloc(cut ? cut : 1);
        assert_non_null(p);
        memcpy(p, json, cut);
        refused_n(p, cut, NULL, NULL);
        free(p);
    }
}

static void test_invalid_utf8(void **state)
{
    (void)state;
    /* a sequence cut short, in an unknown member's string, in a key, in a
     * field's string; bytes that never occur in UTF-8 (FF, the 5-byte form
     * F8); a stray continuation byte.  (yajl lets overlong forms and
     * encoded surrogates through; the reader only uses hex strings, which
     * it checks itself.) */
    refused(answer_with(NULL, NULL, "\"note\":\"caf\xc3\""), "not JSON", "UTF8");
    refused(answer_with(NULL, NULL, "\"caf\xc3\":1"), "not JSON", "UTF8");
    refused(answer_with(NULL, NULL, "\"no\xfft\":1"), "not JSON", "UTF8");
    refused(answer_with("address", "\"0x5fbdb2315678afecb367f032d93f642f64180a\xff\"", NULL), "not JSON", "UTF8");
    refused(answer_with(NULL, NULL, "\"note\":\"\xf8\x88\x80\x80\x80\""), "not JSON", "UTF8");
    refused(answer_with(NULL, NULL, "\"note\":\"a\x80" "b\""), "not JSON", "UTF8");
    refused(answer_with(NULL, NULL, "\"note\":[\"\xe2\x82\""), "not JSON", NULL);
    /* while well-formed UTF-8 and escapes are fine */
    gl_logs out;
    gl_err err;
    const char *json = answer_with(NULL, NULL, "\"note\":\"caf\xc3\xa9 \\u00e9 \\ud83d\\ude00 \xf0\x9f\x98\x80\"");
    gl_code rc = parse(json, strlen(json), &out, &err);
    if (rc)
        fail_msg("refused: %s", err.msg);
    assert_int_equal(out.n, 3);
    gl_logs_free(&out);
}

/* Messages have no line breaks (they go into one-line logs). */
static void test_messages_one_line(void **state)
{
    (void)state;
    gl_logs out = {0};
    gl_err err;
    assert_int_equal(gl_log_reader_parse("[{\"a\" 1}]", 9, &out, &err), GL_ERPC);
    has(err.msg, "not JSON");
    assert_null(strchr(err.msg, '\n'));
    assert_null(strstr(err.msg, ". at")); /* yajl's sentence end, trimmed */
    assert_int_equal(gl_log_reader_parse("[", 1, &out, &err), GL_ERPC);
    assert_null(strchr(err.msg, '\n'));
    assert_int_equal(out.n, 0);
    gl_logs_free(&out);
    /* err may be NULL */
    assert_int_equal(gl_log_reader_parse("{}", 2, &out, NULL), GL_ERPC);
}

/* ------------------------------------------------------------ the list */

static gl_log *push(gl_logs *l, uint64_t block, uint32_t li, uint8_t tag)
{
    gl_log *g = gl_logs_push(l);
    assert_non_null(g);
    g->block = block;
    g->log_index = li;
    g->data = malloc(1);
    assert_non_null(g->data);
    g->data[0] = tag;
    g->len = 1;
    return g;
}

static void test_sort_drops_repeats(void **state)
{
    (void)state;
    gl_logs l = {0};
    push(&l, 5, 3, 1);
    push(&l, 1, 0, 2);
    push(&l, 5, 3, 3); /* repeat of the first */
    push(&l, 5, 1, 4);
    push(&l, 1, 0, 5); /* repeat of the second */
    push(&l, 2, 7, 6);
    push(&l, 1, 1, 7);
    push(&l, (uint64_t)1 << 40, 0, 8); /* block beyond 32 bits: no truncated compare */
    push(&l, 0, 4000000000u, 9);       /* log index beyond INT32_MAX */
    push(&l, 0, 1, 10);
    gl_logs_sort(&l);
    static const struct {
        uint64_t block;
        uint32_t li;
        uint8_t tag;
    } want[] = {{0, 1, 10}, {0, 4000000000u, 9}, {1, 0, 2}, {1, 1, 7}, {2, 7, 6},
                {5, 1, 4},  {5, 3, 1},           {(uint64_t)1 << 40, 0, 8}};
    assert_int_equal(l.n, sizeof want / sizeof want[0]);
    for (size_t i = 0; i < l.n; i++) {
        assert_true(l.v[i].block == want[i].block);
        assert_int_equal(l.v[i].log_index, want[i].li);
        assert_int_equal(l.v[i].data[0], want[i].tag);
    }
    gl_logs_free(&l);

    /* 0 and 1 logs */
    gl_logs_sort(&l);
    push(&l, 3, 3, 1);
    gl_logs_sort(&l);
    assert_int_equal(l.n, 1);
    gl_logs_free(&l);
}

/* Many repeats of few positions: the first of each is kept, whatever the
 * sort does with equal keys. */
static void test_sort_keeps_first(void **state)
{
    (void)state;
    gl_logs l = {0};
    enum { N = 3000, POS = 37 };
    uint32_t x = 12345;
    for (unsigned i = 0; i < N; i++) {
        x = x * 1103515245u + 12345u;
        unsigned p = (x >> 8) % POS;
        gl_log *g = push(&l, p / 5, p % 5, 0);
        g->tx_index = i; /* the order of arrival */
    }
    gl_logs_sort(&l);
    assert_int_equal(l.n, POS);
    /* the first arrival of each position, found by a plain scan */
    x = 12345;
    uint32_t first[POS];
    for (unsigned p = 0; p < POS; p++)
        first[p] = UINT32_MAX;
    for (unsigned i = 0; i < N; i++) {
        x = x * 1103515245u + 12345u;
        unsigned p = (x >> 8) % POS;
        if (first[p] == UINT32_MAX)
            first[p] = i;
    }
    for (unsigned p = 0; p < POS; p++) {
        assert_true(l.v[p].block == p / 5);
        assert_int_equal(l.v[p].log_index, p % 5);
        assert_int_equal(l.v[p].tx_index, first[p]);
    }
    gl_logs_free(&l);
}

static void test_truncate_frees(void **state)
{
    (void)state;
    gl_logs l = {0};
    for (unsigned i = 0; i < 100; i++)
        push(&l, i, 0, (uint8_t)i);
    gl_logs_truncate(&l, 150); /* past the end: nothing */
    assert_int_equal(l.n, 100);
    gl_logs_truncate(&l, 3); /* ASan reports the 97 buffers if they leak */
    assert_int_equal(l.n, 3);
    assert_int_equal(l.v[2].data[0], 2);
    size_t cap = l.cap;
    gl_logs_clear(&l);
    assert_int_equal(l.n, 0);
    assert_int_equal(l.cap, cap); /* the room is kept */
    assert_non_null(l.v);
    push(&l, 1, 1, 1);
    gl_logs_free(&l);
    assert_null(l.v);
    assert_int_equal(l.n, 0);
    assert_int_equal(l.cap, 0);
    gl_logs_free(&l); /* twice is harmless */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_anvil_log),
        cmocka_unit_test(test_builder_matches_anvil_text),
        cmocka_unit_test(test_integers_any_order_unknown_members),
        cmocka_unit_test(test_optional_members),
        cmocka_unit_test(test_quantity_bounds),
        cmocka_unit_test(test_empty_result),
        cmocka_unit_test(test_required_members_missing),
        cmocka_unit_test(test_bad_lengths),
        cmocka_unit_test(test_bad_data),
        cmocka_unit_test(test_bad_topics),
        cmocka_unit_test(test_bad_quantities),
        cmocka_unit_test(test_member_twice),
        cmocka_unit_test(test_not_logs),
        cmocka_unit_test(test_every_prefix_fails),
        cmocka_unit_test(test_invalid_utf8),
        cmocka_unit_test(test_messages_one_line),
        cmocka_unit_test(test_sort_drops_repeats),
        cmocka_unit_test(test_sort_keeps_first),
        cmocka_unit_test(test_truncate_frees),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
