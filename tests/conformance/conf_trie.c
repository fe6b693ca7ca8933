/* conf_trie.c - ethereum-tests TrieTests: Merkle-Patricia roots.
 *
 * Every *.json under VECTORS/ethereum-tests/TrieTests is a map of tests
 * {"in": ..., "root": "0x..."}.  `in` is either a list of [key, value]
 * writes applied in order (a null value deletes the key) or an object (the
 * final set, order irrelevant).  A string starting with "0x" is hex, any
 * other string is its raw bytes.  Files whose name contains "secure" hash
 * the keys (secure trie).  Tests without a "root" (trietestnextprev.json is
 * about iteration order) are skipped with the reason printed.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "conf.h"
#include "gpuledger/bytes.h"
#include "gpuledger/trie.h"

/* A key or value string as bytes: "0x..." is hex, anything else raw. */
static int vector_bytes(const json_t *s, gl_buf *out, gl_err *err)
{
    gl_buf_reset(out);
    if (json_is_null(s))
        return 0; /* a deletion */
    if (!json_is_string(s)) {
        gl_err_set(err, GL_EINVAL, "key or value is neither a string nor null");
        return -1;
    }
    const char *str = json_string_value(s);
    size_t len = json_string_length(s);
    if (len >= 2 && str[0] == '0' && (str[1] == 'x' || str[1] == 'X'))
        return gl_hex_decode_buf(str, out, err) ? -1 : 0;
    return gl_buf_append(out, str, len, err) ? -1 : 0;
}

static int put_pair(gl_trie *t, const json_t *k, const json_t *v, gl_buf *kb, gl_buf *vb, gl_err *err)
{
    if (vector_bytes(k, kb, err) || vector_bytes(v, vb, err))
        return -1;
    return gl_trie_put(t, kb->data, kb->len, vb->data, vb->len, err) ? -1 : 0;
}

/* Apply one test's `in` to t.  Returns 0, or -1 with err set. */
static int apply_input(gl_trie *t, const json_t *in, gl_err *err)
{
    gl_buf kb = GL_BUF_INIT, vb = GL_BUF_INIT;
    int rc = 0;
    if (json_is_array(in)) {
        size_t i;
        const json_t *pair;
        json_array_foreach(in, i, pair) {
            if (!json_is_array(pair) || json_array_size(pair) != 2) {
                rc = -1;
                gl_err_set(err, GL_EINVAL, "in[%zu] is not a [key, value] pair", i);
                break;
            }
            if ((rc = put_pair(t, json_array_get(pair, 0), json_array_get(pair, 1), &kb, &vb, err)))
                break;
        }
    } else if (json_is_object(in)) {
        const char *key;
        json_t *val;
        json_object_foreach((json_t *)in, key, val) {
            json_t *k = json_string(key);
            if (!k) {
                rc = -1;
                gl_err_set(err, GL_ENOMEM, "out of memory");
                break;
            }
            rc = put_pair(t, k, val, &kb, &vb, err);
            json_decref(k);
            if (rc)
                break;
        }
    } else {
        rc = -1;
        gl_err_set(err, GL_EINVAL, "'in' is neither a list nor an object");
    }
    gl_buf_release(&kb);
    gl_buf_release(&vb);
    return rc;
}

static void run_test(const char *file, const char *name, const json_t *test, bool secure, conf_stats *st)
{
    const json_t *root = json_object_get(test, "root");
    uint8_t want[32], got[32];
    gl_err err = {0};
    if (gl_hex_decode_exact(json_string_value(root) ? json_string_value(root) : "", want, 32, &err)) {
        conf_result(st, 0, file, name, "bad expected root: %s", err.msg);
        return;
    }
    gl_trie *t = gl_trie_new(secure, &err);
    if (!t || apply_input(t, json_object_get(test, "in"), &err) || gl_trie_root(t, got, &err)) {
        conf_result(st, 0, file, name, "%s", err.msg);
        gl_trie_free(t);
        return;
    }
    gl_trie_free(t);
    char hw[67], hg[67];
    conf_result(st, !memcmp(want, got, 32), file, name, "root %s, expected %s", gl_hex_encode(got, 32, true, hg),
                gl_hex_encode(want, 32, true, hw));
}

static int run_file(const char *path, const char *base, conf_stats *st)
{
    json_error_t jerr;
    json_t *doc = json_load_file(path, 0, &jerr);
    if (!json_is_object(doc)) {
        fprintf(stderr, "FAIL %s: cannot parse: %s (line %d)\n", base, jerr.text, jerr.line);
        json_decref(doc);
        return -1;
    }
    bool secure = strcasestr(base, "secure") != NULL;
    const char *name;
    json_t *test;
    int printed_skip = 0;
    json_object_foreach(doc, name, test) {
        if (!json_object_get(test, "root")) {
            st->skipped++;
            if (!printed_skip++)
                fprintf(stderr, "skip %s: tests without a 'root' (iteration order, not roots)\n", base);
            continue;
        }
        run_test(base, name, test, secure, st);
    }
    json_decref(doc);
    return 0;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int conf_trie(const char *dir, conf_stats *st)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/ethereum-tests/TrieTests", dir);
    DIR *d = opendir(path);
    if (!d) {
        fprintf(stderr, "conformance trie: cannot open %s\n", path);
        return -1;
    }
    char *names[256];
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(d)) && n < sizeof names / sizeof names[0]) {
        size_t len = strlen(de->d_name);
        if (len > 5 && !strcmp(de->d_name + len - 5, ".json"))
            names[n++] = strdup(de->d_name);
    }
    closedir(d);
    qsort(names, n, sizeof names[0], cmp_names);
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        char file[4400];
        if (!names[i]) {
            rc = -1;
            continue;
        }
        snprintf(file, sizeof file, "%s/%s", path, names[i]);
        if (run_file(file, names[i], st))
            rc = -1;
        free(names[i]);
    }
    return rc;
}
