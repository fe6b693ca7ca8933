/* json_tree.c - a JSON answer read into a jansson tree, fast (json_tree.h). */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "gpuledger/json_scan.h"
#include "gpuledger/json_tree.h"

enum { MAX_DEPTH = 64 }; /* the scanner gives up deeper */

typedef struct builder {
    json_t *stack[MAX_DEPTH]; /* the open objects and arrays, innermost last */
    int depth;
    json_t *root;
    const char *key; /* an object's pending key: not NUL-terminated */
    size_t key_len;
    size_t flags;
} builder;

/* Place v in the innermost open container (or as the root); 0 stops. */
static int place(builder *b, json_t *v)
{
    if (!v)
        return 0;
    if (!b->depth) {
        b->root = v;
        return 1;
    }
    json_t *c = b->stack[b->depth - 1];
    if (json_is_array(c))
        return json_array_append_new(c, v) == 0;
    /* JSON_REJECT_DUPLICATES: jansson's error has its own message and
     * position, so a duplicate is left to it */
    if ((b->flags & JSON_REJECT_DUPLICATES) && json_object_getn(c, b->key, b->key_len)) {
        json_decref(v);
        return 0;
    }
    return json_object_setn_new_nocheck(c, b->key, b->key_len, v) == 0;
}

static int on_null(void *ctx) { return place(ctx, json_null()); }
static int on_boolean(void *ctx, int v) { return place(ctx, json_boolean(v)); }

static int on_number(void *ctx, const char *s, size_t len)
{
    char text[24]; /* a 64-bit integer has at most 20 characters */
    if (len >= sizeof text)
        return 0;
    memcpy(text, s, len);
    text[len] = '\0';
    errno = 0;
    long long v = strtoll(text, NULL, 10);
    if (errno == ERANGE)
        return 0; /* jansson's "too big integer" */
    return place(ctx, json_integer(v));
}

/* The scanner's strings are ASCII without escapes or controls: valid
 * UTF-8 as they stand. */
static int on_string(void *ctx, const unsigned char *s, size_t len)
{
    return place(ctx, json_stringn_nocheck((const char *)s, len));
}

static int on_key(void *ctx, const unsigned char *s, size_t len)
{
    builder *b = ctx;
    b->key = (const char *)s;
    b->key_len = len;
    return 1;
}

static int open_container(builder *b, json_t *c)
{
    if (!c || b->depth == MAX_DEPTH || !place(b, json_incref(c))) {
        json_decref(c);
        return 0;
    }
    b->stack[b->depth++] = c;
    json_decref(c); /* the parent (or root) holds it */
    return 1;
}

static int on_start_map(void *ctx) { return open_container(ctx, json_object()); }
static int on_start_array(void *ctx) { return open_container(ctx, json_array()); }

static int on_end(void *ctx)
{
    ((builder *)ctx)->depth--;
    return 1;
}

static const yajl_callbacks TREE = {
    .yajl_null = on_null,
    .yajl_boolean = on_boolean,
    .yajl_number = on_number,
    .yajl_string = on_string,
    .yajl_start_map = on_start_map,
    .yajl_map_key = on_key,
    .yajl_end_map = on_end,
    .yajl_start_array = on_start_array,
    .yajl_end_array = on_end,
};

json_t *gl_json_tree_load(const char *p, size_t n, size_t flags, json_error_t *je)
{
    /* jansson wants an object or an array at the top unless told
     * otherwise; whitespace first is rare in answers, so a scalar or
     * anything unusual at the start goes to jansson straight away */
    if (!p)
        return json_loadb(p, n, flags, je);
    size_t i = 0;
    while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\n' || p[i] == '\r'))
        i++;
    bool container = i < n && (p[i] == '{' || p[i] == '[');
    if (container && !(flags & ~(size_t)JSON_REJECT_DUPLICATES)) {
        builder b = {.flags = flags};
        if (gl_json_scan((const unsigned char *)p, n, &TREE, &b) == GL_JSON_SCAN_OK && b.root)
            return b.root;
        json_decref(b.root);
    }
    return json_loadb(p, n, flags, je);
}
