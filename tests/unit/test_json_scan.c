/* test_json_scan.c - the fast first reading of JSON (json_scan.h) against
 * yajl, the oracle: for every input, either the scanner gives up, or it
 * and yajl (strings not UTF-8 checked, as the endpoint reads answers)
 * deliver the same events and both accept; where yajl refuses, the
 * scanner must have given up.  The tree built from it (json_tree.h)
 * against jansson's own json_loadb on every input, with and without
 * JSON_REJECT_DUPLICATES: both refuse with the same message, or both give
 * equal trees.  Hand-picked cases (every shape it takes and
 * every way it must give up), then 200,000 random documents and mutations
 * of a real eth_getLogs answer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "gpuledger/json_scan.h"
#include "gpuledger/json_tree.h"

/* The events a reading delivered, as text: "{", "k:name", "s:text",
 * "n:123", "t", "f", "0" (null), "[", "]", "}", one per line. */
typedef struct trace {
    char *buf;
    size_t len, cap;
    int stop_after; /* cancel at this event (0: never) */
    int events;
} trace;

static int add(trace *t, const char *tag, const void *p, size_t n)
{
    size_t need = t->len + strlen(tag) + n + 2;
    if (need > t->cap) {
        t->cap = need * 2;
        t->buf = realloc(t->buf, t->cap);
        assert_non_null(t->buf);
    }
    memcpy(t->buf + t->len, tag, strlen(tag));
    t->len += strlen(tag);
    if (n)
        memcpy(t->buf + t->len, p, n);
    t->len += n;
    t->buf[t->len++] = '\n';
    return ++t->events != t->stop_after;
}

static int on_null(void *c) { return add(c, "0", NULL, 0); }
static int on_bool(void *c, int b) { return add(c, b ? "t" : "f", NULL, 0); }
static int on_number(void *c, const char *p, size_t n) { return add(c, "n:", p, n); }
static int on_string(void *c, const unsigned char *p, size_t n) { return add(c, "s:", p, n); }
static int on_start_map(void *c) { return add(c, "{", NULL, 0); }
static int on_key(void *c, const unsigned char *p, size_t n) { return add(c, "k:", p, n); }
static int on_end_map(void *c) { return add(c, "}", NULL, 0); }
static int on_start_array(void *c) { return add(c, "[", NULL, 0); }
static int on_end_array(void *c) { return add(c, "]", NULL, 0); }

static const yajl_callbacks CB = {on_null, on_bool,  NULL,       NULL,           on_number,   on_string,
                                  on_start_map, on_key, on_end_map, on_start_array, on_end_array};

/* yajl's reading: 1 accepted, 0 canceled by a callback, -1 refused. */
static int by_yajl(const char *doc, size_t n, trace *t)
{
    yajl_handle h = yajl_alloc(&CB, NULL, t);
    assert_non_null(h);
    yajl_config(h, yajl_dont_validate_strings, 1);
    yajl_status st = yajl_parse(h, (const unsigned char *)doc, n);
    if (st == yajl_status_ok)
        st = yajl_complete_parse(h);
    yajl_free(h);
    return st == yajl_status_ok ? 1 : st == yajl_status_client_canceled ? 0 : -1;
}

/* json_tree.h's reading against jansson's, with decoding flags `flags`. */
static void check_tree(const char *doc, size_t n, size_t flags)
{
    json_error_t ja, jb;
    json_t *a = gl_json_tree_load(doc, n, flags, &ja);
    json_t *b = json_loadb(doc, n, flags, &jb);
    if (!a != !b)
        fail_msg("tree %s, jansson %s on [%.*s]", a ? "read" : "refused", b ? "read" : jb.text, (int)n, doc);
    if (a && !json_equal(a, b))
        fail_msg("different trees on [%.*s]", (int)n, doc);
    if (!a && (strcmp(ja.text, jb.text) || ja.position != jb.position))
        fail_msg("different errors on [%.*s]: %s / %s", (int)n, doc, ja.text, jb.text);
    json_decref(a);
    json_decref(b);
}

/* Check one document; the scanner's verdict. */
static gl_json_scan_result check(const char *doc, size_t n, int stop_after)
{
    if (!stop_after) {
        check_tree(doc, n, 0);
        check_tree(doc, n, JSON_REJECT_DUPLICATES);
    }
    trace a = {.stop_after = stop_after}, b = {.stop_after = stop_after};
    gl_json_scan_result r = gl_json_scan((const unsigned char *)doc, n, &CB, &a);
    int y = by_yajl(doc, n, &b);
    if (r != GL_JSON_SCAN_GIVE_UP) {
        if (y != (r == GL_JSON_SCAN_OK ? 1 : 0))
            fail_msg("scanner %s, yajl %d on [%.*s]", r == GL_JSON_SCAN_OK ? "ok" : "canceled", y, (int)n, doc);
        if (a.len != b.len || memcmp(a.buf, b.buf, a.len))
            fail_msg("different events on [%.*s]:\n%.*s\nyajl:\n%.*s", (int)n, doc, (int)a.len, a.buf, (int)b.len,
                     b.buf);
    }
    free(a.buf);
    free(b.buf);
    return r;
}

static void expect(const char *doc, gl_json_scan_result want)
{
    gl_json_scan_result r = check(doc, strlen(doc), 0);
    if (r != want)
        fail_msg("[%s]: scanner gave %d, want %d", doc, r, want);
}

static void test_shapes_taken(void **state)
{
    (void)state;
    static const char *const ok[] = {
        "{}", "[]", " [ ] ", "{\"a\":1}", "{\"a\":-0,\"b\":[1,-2,30]}", "[true,false,null]",
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":[{\"address\":\"0x5fbd\",\"topics\":[\"0xdd\",\"0x00\"],"
        "\"data\":\"0x\",\"removed\":false,\"logIndex\":\"0x0\"}]}",
        "\n\t{ \"a\" : [ { } , [ ] , \"\" ] }\r\n", "0", "-12", "\"x\"", "[[[[[[[[[[1]]]]]]]]]]",
        "[9223372036854775807,-9223372036854775808]", "[9223372036854775808]", "[-9223372036854775809]",
        "[123456789012345678901234567890]", "{\"a\":1,\"a\":2}", "{\"a\":{\"a\":[]},\"b\":{\"a\":null}}",
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        expect(ok[i], GL_JSON_SCAN_OK);
}

/* Everything it does not take: yajl decides (and refuses the malformed). */
static void test_gives_up(void **state)
{
    (void)state;
    static const char *const up[] = {
        "",          "   ",           "[",          "]",            "{",             "}",           "[1,]",
        "[,1]",      "{\"a\"}",       "{\"a\":}",   "{\"a\" 1}",    "{1:2}",         "{\"a\":1,}",  "[1 2]",
        "[1]]",      "[1] x",         "{} {}",      "01",           "1.5",           "1e3",         "-",
        "--1",       "[+1]",          "tru",        "truex",        "nul",           "nulls",       "[falsee]",
        "\"a\\\"b\"", "\"\\u0041\"",  "\"a\nb\"",   "\"\x01\"",     "\"caf\xc3\xa9\"", "\"open",     "[\"a\",",
        "{\"a\":1",  "[1,{\"a\":[}]", "NaN",        "[Infinity]",   "'a'",
    };
    for (size_t i = 0; i < sizeof up / sizeof up[0]; i++)
        expect(up[i], GL_JSON_SCAN_GIVE_UP);
    char deep[200];
    memset(deep, '[', 65);
    memset(deep + 65, ']', 65);
    expect((deep[130] = '\0', deep), GL_JSON_SCAN_GIVE_UP); /* 65 deep */
    memset(deep, '[', 64);
    memset(deep + 64, ']', 64);
    expect((deep[128] = '\0', deep), GL_JSON_SCAN_OK);
    /* a NUL inside the text; and the text is not read past n */
    assert_int_equal(check("[1]\0", 4, 0), GL_JSON_SCAN_GIVE_UP);
    check("[1]2", 3, 0);
    trace t = {0};
    assert_int_equal(gl_json_scan((const unsigned char *)"[1]2", 3, &CB, &t), GL_JSON_SCAN_OK);
    assert_int_equal(t.events, 3);
    free(t.buf);
}

/* A callback that returns 0 stops it at the same event as yajl. */
static void test_canceled(void **state)
{
    (void)state;
    const char *doc = "{\"a\":[1,\"x\",true,null,{\"b\":false}],\"c\":-3}";
    for (int stop = 1; stop <= 16; stop++) { /* 15 events */
        trace t = {.stop_after = stop};
        gl_json_scan_result r = gl_json_scan((const unsigned char *)doc, strlen(doc), &CB, &t);
        assert_int_equal(r, stop <= 15 ? GL_JSON_SCAN_CANCELED : GL_JSON_SCAN_OK);
        assert_int_equal(t.events, stop <= 15 ? stop : 15);
        free(t.buf);
        check(doc, strlen(doc), stop);
    }
}

static uint64_t rng_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* A random document from JSON's pieces and some that are not JSON. */
static void random_doc(uint64_t *s, char *out, size_t cap)
{
    static const char *const pieces[] = {"{", "}", "[", "]", ",", ":", "\"a\"", "\"0x5fbd\"", "\"\"", "1",  "-2",
                                         "0",  "true", "false", "null", " ", "\n", "\"k\":", "1.5", "\"\\n\"", "x",
                                         "01", "\"\xc3\xa9\"", "-"};
    size_t len = 0, n = rng_next(s) % 24;
    for (size_t i = 0; i < n; i++) {
        const char *p = pieces[rng_next(s) % (sizeof pieces / sizeof pieces[0])];
        size_t pl = strlen(p);
        if (len + pl + 1 >= cap)
            break;
        memcpy(out + len, p, pl);
        len += pl;
    }
    out[len] = '\0';
}

static void test_random_against_yajl(void **state)
{
    (void)state;
    uint64_t s = 20261122;
    char doc[512];
    unsigned taken = 0;
    for (int i = 0; i < 150000; i++) {
        random_doc(&s, doc, sizeof doc);
        taken += check(doc, strlen(doc), 0) == GL_JSON_SCAN_OK;
    }
    /* mutations of a real answer: a byte changed, dropped or cut */
    static const char answer[] =
        "{\"jsonrpc\":\"2.0\",\"id\":7,\"result\":[{\"address\":\"0x5fbdb2315678afecb367f032d93f642f64180aa3\","
        "\"topics\":[\"0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef\","
        "\"0x0000000000000000000000003c44cdddb6a900fa2b585dd299e03d12fa4293bc\"],\"data\":\"0x01\","
        "\"blockHash\":\"0x9f\",\"blockNumber\":\"0x3\",\"blockTimestamp\":\"0x6554\",\"transactionHash\":\"0xab\","
        "\"transactionIndex\":\"0x0\",\"logIndex\":\"0x0\",\"removed\":false}]}";
    static const char alphabet[] = "{}[],:\" 0123456789-abcxtrue\\\n\x01\xc3";
    for (int i = 0; i < 50000; i++) {
        char m[sizeof answer];
        size_t n = sizeof answer - 1;
        memcpy(m, answer, n);
        size_t at = rng_next(&s) % n;
        switch (rng_next(&s) % 3) {
        case 0: m[at] = alphabet[rng_next(&s) % (sizeof alphabet - 1)]; break;
        case 1: memmove(m + at, m + at + 1, n - at - 1); n--; break;
        default: n = at; break;
        }
        taken += check(m, n, 0) == GL_JSON_SCAN_OK;
    }
    assert_true(taken > 1000); /* it did take some of them */
    assert_int_equal(check(answer, sizeof answer - 1, 0), GL_JSON_SCAN_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shapes_taken),
        cmocka_unit_test(test_gives_up),
        cmocka_unit_test(test_canceled),
        cmocka_unit_test(test_random_against_yajl),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
