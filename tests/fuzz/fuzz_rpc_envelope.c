/* fuzz_rpc_envelope.c - libFuzzer target: the JSON-RPC envelope of an
 * endpoint's answer (endpoint.c), single and batch, tree and streaming,
 * read through gl_endpoints_read_answer exactly as the pool reads an
 * answer off the wire.
 *
 * Input: byte 0 picks the number of calls (low 2 bits: 1..4, a batch when
 * more than 1) and, for a single call, whether its result streams to a
 * reader (bit 2); byte 1 the HTTP status (mostly 200); the rest is the
 * body.  Calls are numbered from 1.
 *
 * Oracles (JSON-RPC 2.0, with jansson as the reference parser; any
 * mismatch traps):
 *   - single call: it succeeds exactly when the status is 200 and the body
 *     is an object whose "error" is absent or null, whose id is 1 (a number,
 *     or a decimal string) and which has a "result"; its result is then
 *     that member (json_equal);
 *   - batch: call i succeeds exactly when the status is 200, the body is
 *     an array, exactly one element is an object with call i's id, and that
 *     element has no error and a result, which is then call i's result;
 *   - streaming: a result read as it streams (the fast scanner or yajl, the
 *     reader rebuilding the tree from the events) succeeds only with status
 *     200, and when jansson reads the body too, the tree rebuilt equals its
 *     "result" and its id is 1. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <yajl/yajl_parse.h>

#include "gpuledger/endpoint.h"

#include "fuzz.h"

/* ---- a reader that rebuilds the result tree from the events */

#define DEPTH_MAX 4096
typedef struct tree {
    json_t *root;
    json_t *stack[DEPTH_MAX];
    char *key[DEPTH_MAX]; /* the pending key of each open object */
    size_t depth;
    bool failed;
} tree;

static void tree_clear(tree *t)
{
    json_decref(t->root);
    for (size_t i = 0; i < t->depth; i++)
        free(t->key[i]);
    t->root = NULL;
    t->depth = 0;
    t->failed = false;
}

static int add(tree *t, json_t *v)
{
    if (!v) {
        t->failed = true;
        return 0;
    }
    if (t->depth == 0) {
        json_decref(t->root);
        t->root = v;
        return 1;
    }
    json_t *top = t->stack[t->depth - 1];
    if (json_is_array(top))
        return json_array_append_new(top, v) == 0;
    char *k = t->key[t->depth - 1];
    t->key[t->depth - 1] = NULL;
    int ok = k && json_object_set_new_nocheck(top, k, v) == 0;
    if (!k)
        json_decref(v);
    free(k);
    return ok;
}

static int open_(tree *t, json_t *v)
{
    if (t->depth == DEPTH_MAX) {
        json_decref(v);
        t->failed = true;
        return 0;
    }
    json_incref(v);
    if (!add(t, v)) {
        json_decref(v);
        return 0;
    }
    t->key[t->depth] = NULL;
    t->stack[t->depth++] = v;
    json_decref(v); /* the parent holds it */
    return 1;
}

static int t_null(void *c) { return add(c, json_null()); }
static int t_bool(void *c, int b) { return add(c, json_boolean(b)); }
static int t_number(void *c, const char *p, size_t n)
{
    json_t *v = json_loadb(p, n, JSON_DECODE_ANY, NULL); /* jansson's reading of the number */
    if (!v) {                                             /* out of jansson's range: keep the text */
        v = json_stringn_nocheck(p, n);
    }
    return add(c, v);
}
static int t_string(void *c, const unsigned char *p, size_t n) { return add(c, json_stringn_nocheck((const char *)p, n)); }
static int t_start_map(void *c) { return open_(c, json_object()); }
static int t_key(void *c, const unsigned char *p, size_t n)
{
    tree *t = c;
    if (memchr(p, 0, n)) { /* jansson refuses such keys: keep a marker */
        free(t->key[t->depth - 1]);
        t->key[t->depth - 1] = strdup("\x01nul");
        return t->key[t->depth - 1] != NULL;
    }
    char *k = strndup((const char *)p, n);
    free(t->key[t->depth - 1]);
    t->key[t->depth - 1] = k;
    return k != NULL;
}
static int t_end(void *c)
{
    tree *t = c;
    free(t->key[t->depth - 1]);
    t->depth--;
    return 1;
}
static int t_start_array(void *c) { return open_(c, json_array()); }

static const yajl_callbacks TREE_CB = {t_null, t_bool,    NULL,  NULL,          t_number,     t_string,
                                       t_start_map, t_key, t_end, t_start_array, t_end};

static void rd_begin(void *c) { tree_clear(c); }
static bool rd_end(void *c, char *why, size_t cap)
{
    (void)why;
    (void)cap;
    tree *t = c;
    return !t->failed && t->depth == 0 && t->root;
}

/* ---- the reference reading */

static bool id_is(const json_t *id, uint64_t want)
{
    if (json_is_integer(id))
        return json_integer_value(id) >= 0 && (uint64_t)json_integer_value(id) == want;
    if (json_is_string(id)) {
        const char *s = json_string_value(id);
        if (!*s || *s == '-')
            return false;
        char *end;
        errno = 0;
        unsigned long long v = strtoull(s, &end, 10);
        return !errno && !*end && v == want;
    }
    return false;
}

static bool no_error(const json_t *obj)
{
    const json_t *e = json_object_get(obj, "error");
    return !e || json_is_null(e);
}

static gl_endpoints *pool;
static tree rtree;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    gl_err err;
    if (!pool) {
        const char *url = "http://127.0.0.1:9/";
        gl_endpoint_opts o = {.urls = &url, .nurls = 1, .seed = 1, .max_batch = 8};
        pool = gl_endpoints_new(&o, &err);
        CHECK(pool);
    }
    if (size < 2)
        return 0;
    static const long statuses[16] = {200, 200, 200, 200, 200, 200, 200, 200,
                                      429, 500, 503, 400, 413, 408, 404, 0};
    size_t n = (data[0] & 3) + 1;
    bool stream = n == 1 && (data[0] & 4);
    long status = statuses[data[1] & 15];
    const uint8_t *body = data + 2;
    size_t len = size - 2;

    gl_result_reader rd = {&TREE_CB, &rtree, rd_begin, rd_end, 0};
    json_t *results[4] = {0};
    gl_call_outcome outs[4];
    memset(outs, 0, sizeof outs);
    tree_clear(&rtree);
    CHECK(gl_endpoints_read_answer(pool, status, body, len, n, 1, stream ? &rd : NULL, results, outs, &err) ==
          GL_OK);

    json_t *doc = json_loadb((const char *)body, len, 0, NULL);
    if (stream) {
        CHECK(!results[0]);
        if (outs[0].code == GL_OK) {
            CHECK(status == 200 && rtree.root);
            if (doc) {
                CHECK(json_is_object(doc) && no_error(doc) && id_is(json_object_get(doc, "id"), 1));
                CHECK(json_equal(rtree.root, json_object_get(doc, "result")));
            }
        }
    } else if (n == 1) {
        bool want = status == 200 && json_is_object(doc) && no_error(doc) && id_is(json_object_get(doc, "id"), 1) &&
                    json_object_get(doc, "result");
        CHECK((outs[0].code == GL_OK) == want);
        CHECK(!want || json_equal(results[0], json_object_get(doc, "result")));
    } else {
        for (size_t i = 0; i < n; i++) {
            const json_t *only = NULL;
            size_t hits = 0, k;
            json_t *a;
            if (json_is_array(doc)) {
                json_array_foreach(doc, k, a) {
                    if (json_is_object(a) && id_is(json_object_get(a, "id"), 1 + i)) {
                        hits++;
                        only = a;
                    }
                }
            }
            bool want = status == 200 && hits == 1 && no_error(only) && json_object_get(only, "result");
            CHECK((outs[i].code == GL_OK) == want);
            CHECK(!want || json_equal(results[i], json_object_get(only, "result")));
        }
    }
    for (size_t i = 0; i < n; i++)
        json_decref(results[i]);
    json_decref(doc);
    tree_clear(&rtree);
    return 0;
}
