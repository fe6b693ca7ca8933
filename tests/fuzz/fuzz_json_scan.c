/* fuzz_json_scan.c - libFuzzer target: the fast scanner (json_scan.h)
 * against yajl on whatever bytes come.  Either the scanner gives up, or it
 * and yajl (strings not UTF-8 checked, as answers are read) deliver the
 * same events and the same verdict; and the tree built from it (json_tree.h)
 * equals jansson's json_loadb reading, or both refuse with one message;
 * anything else traps.  `make fuzz` runs
 * it after fuzz_log_reader. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "gpuledger/json_scan.h"
#include "gpuledger/json_tree.h"

#include "fuzz.h"

typedef struct trace {
    char *buf;
    size_t len, cap;
} trace;

static int add(trace *t, char tag, const void *p, size_t n)
{
    if (t->len + n + 2 > t->cap) {
        t->cap = (t->len + n + 2) * 2;
        char *b = realloc(t->buf, t->cap);
        if (!b)
            __builtin_trap();
        t->buf = b;
    }
    t->buf[t->len++] = tag;
    if (n)
        memcpy(t->buf + t->len, p, n);
    t->len += n;
    t->buf[t->len++] = '\n';
    return 1;
}

static int on_null(void *c) { return add(c, '0', NULL, 0); }
static int on_bool(void *c, int b) { return add(c, b ? 't' : 'f', NULL, 0); }
static int on_number(void *c, const char *p, size_t n) { return add(c, 'n', p, n); }
static int on_string(void *c, const unsigned char *p, size_t n) { return add(c, 's', p, n); }
static int on_start_map(void *c) { return add(c, '{', NULL, 0); }
static int on_key(void *c, const unsigned char *p, size_t n) { return add(c, 'k', p, n); }
static int on_end_map(void *c) { return add(c, '}', NULL, 0); }
static int on_start_array(void *c) { return add(c, '[', NULL, 0); }
static int on_end_array(void *c) { return add(c, ']', NULL, 0); }

static const yajl_callbacks CB = {on_null, on_bool,  NULL,       NULL,           on_number,   on_string,
                                  on_start_map, on_key, on_end_map, on_start_array, on_end_array};

static void check_tree(const uint8_t *data, size_t size, size_t flags)
{
    json_error_t ja, jb;
    json_t *a = gl_json_tree_load((const char *)data, size, flags, &ja);
    json_t *b = json_loadb((const char *)data, size, flags, &jb);
    if (!a != !b || (a && !json_equal(a, b)) || (!a && (strcmp(ja.text, jb.text) || ja.position != jb.position)))
        __builtin_trap();
    json_decref(a);
    json_decref(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_tree(data, size, 0);
    check_tree(data, size, JSON_REJECT_DUPLICATES);
    trace a = {0}, b = {0};
    gl_json_scan_result r = gl_json_scan(data, size, &CB, &a);
    if (r != GL_JSON_SCAN_GIVE_UP) {
        yajl_handle h = yajl_alloc(&CB, NULL, &b);
        if (!h)
            __builtin_trap();
        yajl_config(h, yajl_dont_validate_strings, 1);
        yajl_status st = yajl_parse(h, data, size);
        if (st == yajl_status_ok)
            st = yajl_complete_parse(h);
        yajl_free(h);
        if (r != GL_JSON_SCAN_OK || st != yajl_status_ok || a.len != b.len || (a.len && memcmp(a.buf, b.buf, a.len)))
            __builtin_trap();
    }
    free(a.buf);
    free(b.buf);
    return 0;
}
