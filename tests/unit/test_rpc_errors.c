/* test_rpc_errors.c - classification of real endpoint errors, Retry-After,
 * back-off and the jitter generator.
 *
 * Oracles: the error messages are the texts providers actually send (Infura,
 * Alchemy, QuickNode, publicnode, drpc, geth/erigon), each written out
 * literally; the expected numbers are read off the messages by hand (0x1e8480
 * = 2000000).  HTTP-date examples are RFC 9110's ("Sun, 06 Nov 1994 08:49:37
 * GMT" = 784111777 s, checked with Python's calendar.timegm) and MDN's
 * Retry-After example.  SplitMix64's first outputs for seed 1234567 are the
 * published Rosetta Code task values.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gpuledger/rpc_errors.h"

#define NOW 1700000000 /* 2023-11-14T22:13:20Z, arbitrary fixed "now" */

static gl_rpc_errinfo classify(int http, long code, bool has_code,
                               const char *msg, const char *retry_after)
{
    gl_rpc_errinfo e;
    gl_rpc_errclass c = gl_rpc_classify(http, code, has_code, msg,
                                        retry_after, NOW, &e);
    assert_int_equal(c, e.cls);
    assert_non_null(e.rule);
    return e;
}

/* ------------------------------------------------------------------ */
/* Range too large                                                      */

static void test_infura_more_than_results(void **state)
{
    (void)state;
    gl_rpc_errinfo e = classify(200, -32005, true,
        "query returned more than 10000 results. Try with this block range "
        "[0x1e8480, 0x1e8fa1].", NULL);
    assert_int_equal(e.cls, GL_RPC_ERR_RANGE_TOO_LARGE);
    assert_int_equal(e.limit, GL_RPC_LIMIT_COUNT);
    assert_true(e.has_range);
    assert_int_equal(e.range_from, 2000000); /* 0x1e8480 */
    assert_int_equal(e.range_to, 2002849);   /* 0x1e8fa1 */
    assert_int_equal(e.max_results, 10000);
    assert_false(e.has_wait);
}

static void test_alchemy_log_response_size(void **state)
{
    (void)state;
    gl_rpc_errinfo e = classify(400, -32602, true,
        "Log response size exceeded. You can make eth_getLogs requests with "
        "up to a 2K block range and no limit on the response size, or you can "
        "request any block range with a cap of 10K logs in the response. Based "
        "on your parameters, this block range should work: [0x10c8e00, "
        "0x10c92b8]", NULL);
    assert_int_equal(e.cls, GL_RPC_ERR_RANGE_TOO_LARGE);
    assert_int_equal(e.limit, GL_RPC_LIMIT_COUNT);
    assert_true(e.has_range);
    assert_int_equal(e.range_from, 0x10c8e00);
    assert_int_equal(e.range_to, 0x10c92b8);
    assert_int_equal(e.max_results, 10000);
    assert_int_equal(e.safe_span, 2000);
    assert_int_equal(e.max_span, 0); /* 2K is an alternative, not a cap */

    /* the shape with an elided range: still a range error, no range */
    e = classify(200, -32602, true,
        "Log response size exceeded. You can make eth_getLogs requests with "
        "up to a 2K block range and no limit on the response size, or you can "
        "use this block range [0x...] ...", NULL);
    assert_int_equal(e.cls, GL_RPC_ERR_RANGE_TOO_LARGE);
    assert_false(e.has_range);
    assert_true(e.range_invalid); /* a range was meant but is unreadable */
    assert_int_equal(e.safe_span, 2000);
}

static void test_alchemy_free_tier_span(void **state)
{
    (void)state;
    gl_rpc_errinfo e = classify(400, -32600, true,
        "Under the Free tier plan, you can make eth_getLogs requests with up "
        "to a 10 block range. Based on your parameters, this block range "
        "should work: [0x1, 0xa]. Upgrade to PAYG for expanded block range.",
        NULL);
    assert_int_equal(e.cls, GL_RPC_ERR_RANGE_TOO_LARGE);
    assert_int_equal(e.limit, GL_RPC_LIMIT_SPAN);
    assert_int_equal(e.max_span, 10);
    assert_true(e.has_range);
    assert_int_equal(e.range_from, 1);
    assert_int_equal(e.range_to, 10);
}

static void test_span_caps(void **state)
{
    (void)state;
    gl_rpc_errinfo e = classify(413, -32614, true,
                                "eth_getLogs is limited to a 10,000 range", NULL);
    assert_int_equal(e.cls, GL_RPC_ERR_RANGE_TOO_LARGE);
    assert_int_equal(e.limit, GL_RPC_LIMIT_SPAN);
    assert_int_equal(e.max_span, 10000);

    e = classify(200, -32600, true, "block range is too wide", NULL);
    assert_int_equal(e.cls, GL_RPC_ERR_RANGE_TOO_LARGE);
    assert_int_equal(e.limit, GL_RPC_LIMIT_SPAN);
    assert_int_equal(e.max_span, 0);

    e = classify(200, -32000, true, "Block range limit exceeded.", NULL);
    assert_int_equal(e.cls, GL_RPC_ERR_RANGE_TOO_LARGE);
    assert_int_equal(e.limit, GL_RPC_LIMIT_SPAN);

    e = classify(200, -32701, true, "exceed maximum block range: 50000", NULL);
    assert_int_equal(e.cls, GL_RPC_ERR_RANGE_TOO_LARGE);
    assert_int_equal(e.limit, GL_RPC_LIMIT_SPAN);
    assert_int_equal(e.max_span, 50000);

    e = classify(200, 35, true,
                 "ranges over 10000 blocks are not supported on freetier", NULL);
    assert_int_equal(e.cls, GL_RPC_ERR_RANGE_TOO_LARGE);
    assert_int_equal(e.limit, GL_RPC_LIMIT_SPAN);
    assert_int_equal(e.max_span, 10000);

    e = classify(200, -32000, true, "block range too large", NULL);
    assert_int_equal(e.cls, GL_RPC_ERR_RANGE_TOO_LARGE);
    assert_int_equal(e.limit, GL_RPC_LIMIT_SPAN);

    e = classify(200, -32602, true,
                 "requested too many blocks from 0 to 20000, maximum is set to 5000",
                 NULL);
    assert_int_equal(e.cls, GL_RPC_ERR_RANGE_TOO_LARGE);
    assert_int_equal(e.max_span, 5000);

    e = classify(200, -32000, true, "range is too large, max is 1k blocks", NULL);
    assert_int_equal(e.cls, GL_RPC_ERR_RANGE_TOO_LARGE);
    assert_int_equal(e.max_span, 1000);
}

static void test_count_caps(void **state)
{
    (void)state;
    gl_rpc_errinfo e = classify(200, -32602, true,
        "query exceeds max results 20000, retry with the range 19421035-19421278",
        NULL);
    assert_int_equal(e.cls, GL_RPC_ERR_RANGE_TOO_LARGE);
    assert_int_equal(e.limit, GL_RPC_LIMIT_COUNT);
    assert_int_equal(e.max_results, 20000);
    assert_true(e.has_range);
    assert_int_equal(e.range_from, 19421035);
    assert_int_equal(e.range_to, 19421278);

    e = classify(200, -32005, true, "logs matched by query exceeds limit of 10000",
                 NULL);
    assert_int_equal(e.cls, GL_RPC_ERR_RANGE_TOO_LARGE);
    assert_int_equal(e.limit, GL_RPC_LIMIT_COUNT);
    assert_int_equal(e.max_results, 10000);
    assert_false(e.has_range);
    assert_false(e.range_invalid);

    e = classify(200, -32005, true, "query returned more than 10000 results",
                 NULL);
    assert_int_equal(e.cls, GL_RPC_ERR_RANGE_TOO_LARGE);
    assert_int_equal(e.max_results, 10000);
    assert_false(e.has_range);
    assert_false(e.range_invalid);
    /* "range N" alone is a cap, not a broken suggestion */
    e = classify(200, -32000, true, "query exceeds max block range 100000", NULL);
    assert_int_equal(e.cls, GL_RPC_ERR_RANGE_TOO_LARGE);
    assert_int_equal(e.max_span, 100000);
    assert_false(e.has_range);
    assert_false(e.range_invalid);
}

static void test_range_case_and_context(void **state)
{
    (void)state;
    /* wrapped by a client library, upper case, extra text around it */
    gl_rpc_errinfo e = classify(500, 0, false,
        "Returned error: QUERY RETURNED MORE THAN 10000 RESULTS. TRY WITH THIS "
        "BLOCK RANGE [0X1E8480, 0X1E8FA1]. (request id 7)", NULL);
    assert_int_equal(e.cls, GL_RPC_ERR_RANGE_TOO_LARGE);
    assert_true(e.has_range);
    assert_int_equal(e.range_from, 2000000);
    assert_int_equal(e.range_to, 2002849);
}

static void test_range_bad_numbers(void **state)
{
    (void)state;
    /* inverted suggestion: class stands, range dropped */
    gl_rpc_errinfo e = classify(200, -32005, true,
        "query returned more than 10000 results. Try with this block range "
        "[0x1e8fa1, 0x1e8480].", NULL);
    assert_int_equal(e.cls, GL_RPC_ERR_RANGE_TOO_LARGE);
    assert_false(e.has_range);
    assert_true(e.range_invalid);
    assert_int_equal(e.max_results, 10000);

    /* 2^64 does not fit: dropped */
    e = classify(200, -32005, true,
        "query returned more than 10000 results. Try with this block range "
        "[0x10000000000000000, 0x10000000000000001].", NULL);
    assert_int_equal(e.cls, GL_RPC_ERR_RANGE_TOO_LARGE);
    assert_false(e.has_range);
    assert_true(e.range_invalid);

    /* the largest value that fits is read */
    e = classify(200, -32005, true,
        "query returned more than 10000 results. Try with this block range "
        "[0x0, 0xffffffffffffffff].", NULL);
    assert_true(e.has_range);
    assert_false(e.range_invalid);
    assert_true(e.range_to == UINT64_MAX);

    /* an overflowing cap is dropped, decimal too */
    e = classify(200, -32005, true,
                 "query returned more than 184467440737095516160 results", NULL);
    assert_int_equal(e.cls, GL_RPC_ERR_RANGE_TOO_LARGE);
    assert_int_equal(e.max_results, 0);
    e = classify(200, 0, false, "exceed maximum block range: 99999999999999999999k",
                 NULL);
    assert_int_equal(e.cls, GL_RPC_ERR_RANGE_TOO_LARGE);
    assert_int_equal(e.max_span, 0);
}

static void test_http_413_without_body(void **state)
{
    (void)state;
    gl_rpc_errinfo e = classify(413, 0, false, NULL, NULL);
    assert_int_equal(e.cls, GL_RPC_ERR_RANGE_TOO_LARGE);
    assert_int_equal(e.limit, GL_RPC_LIMIT_UNKNOWN);
    assert_false(e.has_range);
    e = classify(413, 0, false, "<html><body>413 Request Entity Too Large</body></html>",
                 NULL);
    assert_int_equal(e.cls, GL_RPC_ERR_RANGE_TOO_LARGE);
}

/* ------------------------------------------------------------------ */
/* Rate limits                                                          */

static void test_http_429(void **state)
{
    (void)state;
    gl_rpc_errinfo e = classify(429, 0, false, "Too Many Requests", "3");
    assert_int_equal(e.cls, GL_RPC_ERR_RATE_LIMITED);
    assert_true(e.has_wait);
    assert_int_equal(e.wait_ms, 3000);

    /* HTTP-date two minutes ahead of now */
    gl_rpc_errinfo d;
    gl_rpc_classify(429, 0, false, "", "Wed, 21 Oct 2015 07:28:00 GMT",
                    1445412480 - 120, &d);
    assert_int_equal(d.cls, GL_RPC_ERR_RATE_LIMITED);
    assert_true(d.has_wait);
    assert_int_equal(d.wait_ms, 120000);

    /* 429 wins over a body that reads like a range error */
    e = classify(429, -32005, true, "query returned more than 10000 results",
                 NULL);
    assert_int_equal(e.cls, GL_RPC_ERR_RATE_LIMITED);
    assert_false(e.has_wait);
}

static void test_rate_limit_messages(void **state)
{
    (void)state;
    static const char *const msgs[] = {
        "project ID request rate exceeded",
        "daily request count exceeded, request rate limited",
        "Your app has exceeded its compute units per second capacity. If you "
        "have retries enabled, you can safely ignore this message. If not, "
        "check out https://docs.alchemy.com/reference/throughput",
        "20/second request limit reached - reduce calls per second or upgrade "
        "your account at quicknode.com",
    };
    for (size_t i = 0; i < sizeof msgs / sizeof *msgs; i++) {
        gl_rpc_errinfo e = classify(200, -32005, true, msgs[i], NULL);
        assert_int_equal(e.cls, GL_RPC_ERR_RATE_LIMITED);
        assert_int_equal(e.limit, GL_RPC_LIMIT_UNKNOWN);
        /* same text behind other statuses and codes */
        e = classify(403, 0, false, msgs[i], NULL);
        assert_int_equal(e.cls, GL_RPC_ERR_RATE_LIMITED);
        e = classify(200, 429, true, msgs[i], NULL);
        assert_int_equal(e.cls, GL_RPC_ERR_RATE_LIMITED);
    }
    /* -32005 "limit exceeded" with an unknown text: back off, don't split */
    gl_rpc_errinfo e = classify(200, -32005, true, "limit exceeded", NULL);
    assert_int_equal(e.cls, GL_RPC_ERR_RATE_LIMITED);
}

static void test_wait_hints_in_messages(void **state)
{
    (void)state;
    gl_rpc_errinfo e = classify(200, -32005, true,
                                "rate limit exceeded, try again in 2s", NULL);
    assert_int_equal(e.cls, GL_RPC_ERR_RATE_LIMITED);
    assert_true(e.has_wait);
    assert_int_equal(e.wait_ms, 2000);

    /* Infura puts {"rate": {"backoff_seconds": 30}} in the error data */
    e = classify(200, -32005, true,
                 "project ID request rate exceeded {\"rate\":{\"allowed_rps\":1,"
                 "\"backoff_seconds\":30,\"current_rps\":1.4}}", NULL);
    assert_int_equal(e.cls, GL_RPC_ERR_RATE_LIMITED);
    assert_int_equal(e.wait_ms, 30000);

    e = classify(429, 0, false, "Please retry after 500ms", NULL);
    assert_int_equal(e.wait_ms, 500);
    e = classify(429, 0, false, "too many requests, try again in 1.5 seconds",
                 NULL);
    assert_int_equal(e.wait_ms, 1500);
    e = classify(429, 0, false, "quota exhausted, try again in 2 minutes", NULL);
    assert_int_equal(e.wait_ms, 120000);

    /* header and message both: the longer wait */
    e = classify(429, 0, false, "try again in 2s", "5");
    assert_int_equal(e.wait_ms, 5000);
    e = classify(429, 0, false, "try again in 9s", "5");
    assert_int_equal(e.wait_ms, 9000);

    /* absurd hints are clamped */
    e = classify(429, 0, false, "try again in 99999999999999999999999s", NULL);
    assert_true(e.wait_ms == GL_RPC_WAIT_MAX_MS);
}

static void test_retry_after_header(void **state)
{
    (void)state;
    uint64_t ms = 1;
    assert_true(gl_rpc_retry_after_ms("3", NOW, &ms));
    assert_int_equal(ms, 3000);
    assert_true(gl_rpc_retry_after_ms("  120 ", NOW, &ms));
    assert_int_equal(ms, 120000);
    assert_true(gl_rpc_retry_after_ms("0", NOW, &ms));
    assert_int_equal(ms, 0);

    /* RFC 9110's three forms of the same instant, 784111777 */
    const int64_t t = 784111777;
    assert_true(gl_rpc_retry_after_ms("Sun, 06 Nov 1994 08:49:37 GMT", t - 10, &ms));
    assert_int_equal(ms, 10000);
    assert_true(gl_rpc_retry_after_ms("Sunday, 06-Nov-94 08:49:37 GMT", t - 10, &ms));
    assert_int_equal(ms, 10000);
    assert_true(gl_rpc_retry_after_ms("Sun Nov  6 08:49:37 1994", t - 10, &ms));
    assert_int_equal(ms, 10000);
    /* a leap day: 2000-02-29T23:59:59Z = 951868799 */
    assert_true(gl_rpc_retry_after_ms("Tue, 29 Feb 2000 23:59:59 GMT",
                                      951868799 - 1, &ms));
    assert_int_equal(ms, 1000);

    /* past dates: wait 0, still a valid header */
    ms = 7;
    assert_true(gl_rpc_retry_after_ms("Sun, 06 Nov 1994 08:49:37 GMT", NOW, &ms));
    assert_int_equal(ms, 0);

    /* huge: clamped */
    assert_true(gl_rpc_retry_after_ms("99999999999999999999999999", NOW, &ms));
    assert_true(ms == GL_RPC_WAIT_MAX_MS);
    assert_true(gl_rpc_retry_after_ms("Fri, 31 Dec 9999 23:59:59 GMT", NOW, &ms));
    assert_true(ms == GL_RPC_WAIT_MAX_MS);

    /* garbage */
    static const char *const bad[] = {
        "", "   ", "-1", "3.5", "soon", "Sun, 31 Feb 1994 08:49:37 GMT",
        "Sun, 06 Nov 1994 25:49:37 GMT", "Sun, 06 Foo 1994 08:49:37 GMT",
        "Sun, 06 Nov 1994 08:49:37", "Sun, 06 Nov 1994 08:49:37 GMT junk",
        "Sun, 6 Nov 1994 08:49:37 GMT", "Sun Nov  6 08:49:37", "Mon, ",
        "Tue, 29 Feb 1900 00:00:00 GMT",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        ms = 9;
        assert_false(gl_rpc_retry_after_ms(bad[i], NOW, &ms));
        assert_int_equal(ms, 0);
    }
    assert_false(gl_rpc_retry_after_ms(NULL, NOW, &ms));
}

/* ------------------------------------------------------------------ */
/* Lagging, transient, fatal                                            */

static void test_lagging(void **state)
{
    (void)state;
    gl_rpc_errinfo e = classify(200, -32000, true, "header not found", NULL);
    assert_int_equal(e.cls, GL_RPC_ERR_LAGGING);
    e = classify(200, -32000, true, "unknown block", NULL);
    assert_int_equal(e.cls, GL_RPC_ERR_LAGGING);
    /* pruned state: this endpoint cannot serve it, an archive node can */
    e = classify(200, -32000, true,
                 "missing trie node 1d8e5b0e5a25b2d5b1a2b5c7d8e9f0a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7 "
                 "(path ) state 0x1d8e is not available", NULL);
    assert_int_equal(e.cls, GL_RPC_ERR_LAGGING);
    e = classify(400, -32000, true,
                 "One of the blocks specified in filter (fromBlock, toBlock or "
                 "blockHash) cannot be found.", NULL);
    assert_int_equal(e.cls, GL_RPC_ERR_LAGGING);
}

static void test_transient(void **state)
{
    (void)state;
    gl_rpc_errinfo e = classify(503, 0, false, NULL, NULL);
    assert_int_equal(e.cls, GL_RPC_ERR_TRANSIENT);
    e = classify(503, 0, false, "", "7");
    assert_int_equal(e.cls, GL_RPC_ERR_TRANSIENT);
    assert_int_equal(e.wait_ms, 7000);
    e = classify(502, 0, false, "<html>502 Bad Gateway</html>", NULL);
    assert_int_equal(e.cls, GL_RPC_ERR_TRANSIENT);
    e = classify(500, 0, false, "", NULL);
    assert_int_equal(e.cls, GL_RPC_ERR_TRANSIENT);
    e = classify(504, 0, false, "upstream request timeout", NULL);
    assert_int_equal(e.cls, GL_RPC_ERR_TRANSIENT);
    e = classify(0, 0, false, "Operation timed out after 30000 milliseconds with 0 bytes received",
                 NULL);
    assert_int_equal(e.cls, GL_RPC_ERR_TRANSIENT);
    e = classify(0, 0, false, "Recv failure: Connection reset by peer", NULL);
    assert_int_equal(e.cls, GL_RPC_ERR_TRANSIENT);
    e = classify(0, 0, false, NULL, NULL);
    assert_int_equal(e.cls, GL_RPC_ERR_TRANSIENT);
    e = classify(200, -32603, true, "something odd happened", NULL);
    assert_int_equal(e.cls, GL_RPC_ERR_TRANSIENT);
    e = classify(200, -32010, true, "something odd happened", NULL);
    assert_int_equal(e.cls, GL_RPC_ERR_TRANSIENT);
    e = classify(408, 0, false, NULL, NULL);
    assert_int_equal(e.cls, GL_RPC_ERR_TRANSIENT);
}

static void test_fatal(void **state)
{
    (void)state;
    gl_rpc_errinfo e = classify(401, 0, false, "invalid api key", NULL);
    assert_int_equal(e.cls, GL_RPC_ERR_FATAL);
    e = classify(403, 0, false, NULL, NULL);
    assert_int_equal(e.cls, GL_RPC_ERR_FATAL);
    e = classify(401, -32000, true, "Must be authenticated!", NULL);
    assert_int_equal(e.cls, GL_RPC_ERR_FATAL);
    e = classify(200, -32601, true,
                 "the method eth_getLogz does not exist/is not available", NULL);
    assert_int_equal(e.cls, GL_RPC_ERR_FATAL);
    e = classify(200, -32601, true, "Method not found", NULL);
    assert_int_equal(e.cls, GL_RPC_ERR_FATAL);
    e = classify(200, -32602, true,
                 "invalid argument 0: hex string has length 3, want 40 for "
                 "common.Address", NULL);
    assert_int_equal(e.cls, GL_RPC_ERR_FATAL);
    e = classify(400, 0, false, "Bad Request", NULL);
    assert_int_equal(e.cls, GL_RPC_ERR_FATAL);
    e = classify(200, -32700, true, "", NULL);
    assert_int_equal(e.cls, GL_RPC_ERR_FATAL);
    e = classify(200, 3, true, "execution reverted", NULL);
    assert_int_equal(e.cls, GL_RPC_ERR_FATAL);
}

static void test_names(void **state)
{
    (void)state;
    assert_string_equal(gl_rpc_errclass_name(GL_RPC_ERR_RANGE_TOO_LARGE),
                        "range too large");
    assert_string_equal(gl_rpc_errclass_name(GL_RPC_ERR_RATE_LIMITED), "rate limited");
    assert_string_equal(gl_rpc_errclass_name(GL_RPC_ERR_LAGGING), "lagging");
    assert_string_equal(gl_rpc_errclass_name(GL_RPC_ERR_TRANSIENT), "transient");
    assert_string_equal(gl_rpc_errclass_name(GL_RPC_ERR_FATAL), "fatal");
    assert_string_equal(gl_rpc_errclass_name((gl_rpc_errclass)99), "?");
}

/* ------------------------------------------------------------------ */
/* Hostile input                                                        */

static void test_null_out_and_huge_message(void **state)
{
    (void)state;
    assert_int_equal(gl_rpc_classify(429, 0, false, NULL, NULL, NOW, NULL),
                     GL_RPC_ERR_RATE_LIMITED);

    size_t n = 1 << 20;
    char *big = malloc(n + 1);
    assert_non_null(big);
    memset(big, 'A', n);
    big[n] = '\0';
    memcpy(big, "header not found ", 17);
    gl_rpc_errinfo e = classify(200, -32000, true, big, NULL);
    assert_int_equal(e.cls, GL_RPC_ERR_LAGGING);

    /* the phrase beyond the scan window is not seen: the code decides */
    memset(big, 'A', n);
    memcpy(big + n - 20, "header not found", 16);
    e = classify(200, -32000, true, big, NULL);
    assert_int_equal(e.cls, GL_RPC_ERR_TRANSIENT);

    /* a digit run as long as the window */
    memset(big, '9', n);
    memcpy(big, "more than ", 10);
    memcpy(big + GL_RPC_MSG_SCAN_MAX - 8, " results", 8);
    e = classify(200, 0, false, big, big);
    assert_int_equal(e.cls, GL_RPC_ERR_RANGE_TOO_LARGE);
    assert_int_equal(e.max_results, 0);
    assert_false(e.has_wait);
    free(big);
}

static void test_random_garbage(void **state)
{
    (void)state;
    /* random bytes drawn from an alphabet rich in the scanner's triggers;
     * no crash, no sanitizer report, always a class and a rule */
    static const char alpha[] = "0123456789xX[],- :\"=.kKmMsS"
                                "abcdefghijklmnopqrstuvwxyz";
    static const char *const seeds[] = {
        "more than ", "range ", "[0x", "try again in ", "backoff_seconds",
        "limited to a ", "up to a ", "Sun, 06 Nov 1994 ", "exceeds limit of ",
    };
    gl_backoff_rng rng;
    uint64_t seed = 20240501;
    gl_backoff_rng_seed(&rng, seed);
    char msg[300], hdr[64];
    for (int it = 0; it < 20000; it++) {
        size_t len = gl_backoff_rng_next(&rng) % (sizeof msg - 1);
        size_t i = 0;
        while (i < len) {
            uint64_t r = gl_backoff_rng_next(&rng);
            if (r % 7 == 0) {
                const char *s = seeds[(r >> 8) % (sizeof seeds / sizeof *seeds)];
                size_t l = strlen(s);
                if (i + l > len)
                    break;
                memcpy(msg + i, s, l);
                i += l;
            } else {
                msg[i++] = alpha[(r >> 8) % (sizeof alpha - 1)];
            }
        }
        msg[i] = '\0';
        size_t hl = gl_backoff_rng_next(&rng) % (sizeof hdr - 1);
        for (size_t j = 0; j < hl; j++)
            hdr[j] = alpha[gl_backoff_rng_next(&rng) % (sizeof alpha - 1)];
        hdr[hl] = '\0';
        int http = (int)(gl_backoff_rng_next(&rng) % 700);
        gl_rpc_errinfo e;
        gl_rpc_errclass c = gl_rpc_classify(http, -32000, it & 1, msg, hdr,
                                            NOW, &e);
        assert_int_equal(c, e.cls);
        assert_non_null(e.rule);
        assert_true(!e.has_range || e.range_from <= e.range_to);
        assert_true(e.wait_ms <= GL_RPC_WAIT_MAX_MS);
    }
}

/* ------------------------------------------------------------------ */
/* Back-off                                                             */

static uint64_t rand_max(void *u)
{
    (void)u;
    return UINT64_MAX;
}

static uint64_t rand_zero(void *u)
{
    (void)u;
    return 0;
}

static void test_splitmix64_vector(void **state)
{
    (void)state;
    gl_backoff_rng r;
    gl_backoff_rng_seed(&r, 1234567);
    assert_true(gl_backoff_rng_next(&r) == UINT64_C(6457827717110365317));
    assert_true(gl_backoff_rng_next(&r) == UINT64_C(3203168211198807973));
    assert_true(gl_backoff_rng_next(&r) == UINT64_C(9817491932198370423));
    assert_true(gl_backoff_rng_next(&r) == UINT64_C(4593380528125082431));
    assert_true(gl_backoff_rng_next(&r) == UINT64_C(16408922859458223821));
}

static void test_backoff_window(void **state)
{
    (void)state;
    gl_backoff p = {100, 5000};
    /* top of the window: base * 2^attempt, capped */
    assert_int_equal(gl_backoff_delay_ms(&p, 0, 0, rand_max, NULL), 100);
    assert_int_equal(gl_backoff_delay_ms(&p, 1, 0, rand_max, NULL), 200);
    assert_int_equal(gl_backoff_delay_ms(&p, 5, 0, rand_max, NULL), 3200);
    assert_int_equal(gl_backoff_delay_ms(&p, 6, 0, rand_max, NULL), 5000);
    assert_int_equal(gl_backoff_delay_ms(&p, 63, 0, rand_max, NULL), 5000);
    assert_int_equal(gl_backoff_delay_ms(&p, 64, 0, rand_max, NULL), 5000);
    assert_int_equal(gl_backoff_delay_ms(&p, 4000000000u, 0, rand_max, NULL), 5000);
    assert_int_equal(gl_backoff_delay_ms(&p, 3, 0, NULL, NULL), 800);
    /* bottom */
    assert_int_equal(gl_backoff_delay_ms(&p, 5, 0, rand_zero, NULL), 0);
    /* defaults: 250 ms doubling to 30 s */
    assert_int_equal(gl_backoff_delay_ms(NULL, 0, 0, NULL, NULL), 250);
    assert_int_equal(gl_backoff_delay_ms(NULL, 2, 0, NULL, NULL), 1000);
    assert_int_equal(gl_backoff_delay_ms(NULL, 20, 0, NULL, NULL), 30000);
    /* cap below base acts as base */
    gl_backoff q = {700, 10};
    assert_int_equal(gl_backoff_delay_ms(&q, 9, 0, NULL, NULL), 700);
    /* huge base: no overflow */
    gl_backoff h = {UINT64_MAX / 2, UINT64_MAX};
    assert_true(gl_backoff_delay_ms(&h, 1, 0, NULL, NULL) == UINT64_MAX - 1);
    assert_true(gl_backoff_delay_ms(&h, 2, 0, NULL, NULL) == UINT64_MAX);
    assert_true(gl_backoff_delay_ms(&h, 2, 0, rand_max, NULL) == UINT64_MAX);
}

static void test_backoff_hint_is_a_floor(void **state)
{
    (void)state;
    gl_backoff p = {100, 5000};
    /* larger hint: exactly the hint, even above the cap */
    assert_int_equal(gl_backoff_delay_ms(&p, 0, 3000, rand_max, NULL), 3000);
    assert_int_equal(gl_backoff_delay_ms(&p, 9, 60000, rand_max, NULL), 60000);
    assert_int_equal(gl_backoff_delay_ms(&p, 9, 1, rand_zero, NULL), 1);
    /* smaller hint: the drawn delay */
    assert_int_equal(gl_backoff_delay_ms(&p, 9, 10, rand_max, NULL), 5000);
    gl_backoff_rng r;
    gl_backoff_rng_seed(&r, 42);
    for (int i = 0; i < 1000; i++) {
        uint64_t d = gl_backoff_delay_ms(&p, 3, 500, gl_backoff_rng_next, &r);
        assert_true(d >= 500 && d <= 800);
    }
}

static void test_backoff_full_jitter_distribution(void **state)
{
    (void)state;
    gl_backoff p = {1000, 1000000};
    gl_backoff_rng r;
    uint64_t seed = 0x5eed;
    gl_backoff_rng_seed(&r, seed);
    const int n = 100000;
    double sum = 0;
    uint64_t lo_q = 0, hi_q = 0; /* below 1/4 and above 3/4 of the window */
    for (int i = 0; i < n; i++) {
        uint64_t d = gl_backoff_delay_ms(&p, 4, 0, gl_backoff_rng_next, &r);
        assert_true(d <= 16000);
        sum += (double)d;
        lo_q += d < 4000;
        hi_q += d > 12000;
    }
    /* uniform on [0, 16000]: mean 8000 (sd of the mean ~15), quartiles 1/4 */
    double mean = sum / n;
    if (mean < 7900 || mean > 8100)
        fprintf(stderr, "seed %llu: mean %f\n", (unsigned long long)seed, mean);
    assert_true(mean > 7900 && mean < 8100);
    assert_true(lo_q > 24000 && lo_q < 26000);
    assert_true(hi_q > 24000 && hi_q < 26000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_infura_more_than_results),
        cmocka_unit_test(test_alchemy_log_response_size),
        cmocka_unit_test(test_alchemy_free_tier_span),
        cmocka_unit_test(test_span_caps),
        cmocka_unit_test(test_count_caps),
        cmocka_unit_test(test_range_case_and_context),
        cmocka_unit_test(test_range_bad_numbers),
        cmocka_unit_test(test_http_413_without_body),
        cmocka_unit_test(test_http_429),
        cmocka_unit_test(test_rate_limit_messages),
        cmocka_unit_test(test_wait_hints_in_messages),
        cmocka_unit_test(test_retry_after_header),
        cmocka_unit_test(test_lagging),
        cmocka_unit_test(test_transient),
        cmocka_unit_test(test_fatal),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_null_out_and_huge_message),
        cmocka_unit_test(test_random_garbage),
        cmocka_unit_test(test_splitmix64_vector),
        cmocka_unit_test(test_backoff_window),
        cmocka_unit_test(test_backoff_hint_is_a_floor),
        cmocka_unit_test(test_backoff_full_jitter_distribution),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
