/* test_store_analysis.c - the analysis family replaced by table files
 * (gl_store_analysis_writer, indexer/store_analysis.c): what is visible
 * before and after commit, key order enforced, the old records cleared,
 * a crashed writer's files removed, and the records read back through the
 * store's own iterator and point reads (an independent path: RocksDB's
 * table reader, not the writer's memory). */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "gpuledger/store.h"

static void ok(gl_code rc, const gl_err *err)
{
    if (rc)
        fail_msg("%s", err->msg);
}

typedef struct fx {
    char root[64];
    char dir[96];
    gl_store *s;
} fx;

static fx *fx_new(void)
{
    fx *f = calloc(1, sizeof *f);
    assert_non_null(f);
    snprintf(f->root, sizeof f->root, "/tmp/gl_stanal_XXXXXX");
    assert_non_null(mkdtemp(f->root));
    snprintf(f->dir, sizeof f->dir, "%s/db", f->root);
    gl_err err = {0};
    gl_store_open_opts o = {.create = true};
    f->s = gl_store_open(f->dir, &o, &err);
    if (!f->s)
        fail_msg("open: %s", err.msg);
    return f;
}

static void fx_free(fx *f)
{
    gl_store_close(f->s);
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->root);
    assert_int_equal(system(cmd), 0);
    free(f);
}

static void put_batch(gl_store *s, const char *k, const char *v)
{
    gl_err err = {0};
    gl_store_batch *b = gl_store_batch_new(s, &err);
    assert_non_null(b);
    ok(gl_store_batch_put_analysis(b, k, strlen(k), v, strlen(v), &err), &err);
    ok(gl_store_batch_commit(b, &err), &err);
    gl_store_batch_free(b);
}

/* Every analysis record as "key=value;" (keys printable in these tests). */
static void dump(gl_store *s, char *out, size_t cap)
{
    gl_err err = {0};
    gl_store_iter *it = gl_store_iter_analysis(s, NULL, 0, &err);
    assert_non_null(it);
    size_t n = 0;
    out[0] = 0;
    for (;;) {
        const uint8_t *k, *v;
        size_t kl, vl;
        bool end;
        ok(gl_store_next_analysis(it, &k, &kl, &v, &vl, &end, &err), &err);
        if (end)
            break;
        int w = snprintf(out + n, cap - n, "%.*s=%.*s;", (int)kl, (const char *)k, (int)vl, (const char *)v);
        assert_true(w > 0 && (size_t)w < cap - n);
        n += (size_t)w;
    }
    gl_store_iter_free(it);
}

static size_t leftover_files(const char *dir)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(d)))
        n += !strncmp(de->d_name, "gpuledger-analysis-", 19);
    closedir(d);
    return n;
}

static void test_replace_in_one_step(void **state)
{
    (void)state;
    fx *f = fx_new();
    put_batch(f->s, "e/old", "1");
    put_batch(f->s, "s", "old stamp");
    gl_err err = {0};
    gl_store_analysis_writer *w = gl_store_analysis_writer_new(f->s, &err);
    assert_non_null(w);
    const char *keys[] = {"e/a", "e/b", "f/x", "m/1", "m/2", "p", "x/9"};
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++) {
        const char *val = strlen(keys[i]) > 2 ? keys[i] + 2 : ""; /* what follows the prefix */
        ok(gl_store_analysis_writer_put(w, keys[i], strlen(keys[i]), val, strlen(val), &err), &err);
    }
    /* nothing new is visible before the commit, the old analysis is */
    char text[512];
    dump(f->s, text, sizeof text);
    assert_string_equal(text, "e/old=1;s=old stamp;");
    ok(gl_store_analysis_writer_commit(w, &err), &err);
    gl_store_analysis_writer_free(w);
    /* the old records (stamp included) are gone, the new ones all there */
    dump(f->s, text, sizeof text);
    assert_string_equal(text, "e/a=a;e/b=b;f/x=x;m/1=1;m/2=2;p=;x/9=9;");
    char *v = NULL;
    size_t vl = 0;
    ok(gl_store_get_analysis(f->s, "m/2", 3, &v, &vl, &err), &err);
    assert_non_null(v);
    assert_int_equal(vl, 1);
    assert_memory_equal(v, "2", 1);
    free(v);
    assert_int_equal(leftover_files(f->dir), 0);
    /* and they survive a reopen (taken in, not only cached) */
    gl_store_close(f->s);
    gl_store_open_opts o = {0};
    f->s = gl_store_open(f->dir, &o, &err);
    assert_non_null(f->s);
    dump(f->s, text, sizeof text);
    assert_string_equal(text, "e/a=a;e/b=b;f/x=x;m/1=1;m/2=2;p=;x/9=9;");
    fx_free(f);
}

static void test_key_order_enforced(void **state)
{
    (void)state;
    fx *f = fx_new();
    put_batch(f->s, "s", "kept");
    gl_err err = {0};
    gl_store_analysis_writer *w = gl_store_analysis_writer_new(f->s, &err);
    assert_non_null(w);
    ok(gl_store_analysis_writer_put(w, "b", 1, "1", 1, &err), &err);
    /* a key that goes back, or repeats, or a prefix of the last: refused */
    assert_int_equal(gl_store_analysis_writer_put(w, "a", 1, "1", 1, &err), GL_EINVAL);
    assert_non_null(strstr(err.msg, "ascending"));
    /* the writer is failed now: no commit */
    assert_int_not_equal(gl_store_analysis_writer_commit(w, &err), GL_OK);
    gl_store_analysis_writer_free(w);
    char text[256];
    dump(f->s, text, sizeof text);
    assert_string_equal(text, "s=kept;"); /* the old analysis untouched */

    w = gl_store_analysis_writer_new(f->s, &err);
    ok(gl_store_analysis_writer_put(w, "ab", 2, "1", 1, &err), &err);
    assert_int_equal(gl_store_analysis_writer_put(w, "ab", 2, "1", 1, &err), GL_EINVAL);
    gl_store_analysis_writer_free(w);
    w = gl_store_analysis_writer_new(f->s, &err);
    ok(gl_store_analysis_writer_put(w, "ab", 2, "1", 1, &err), &err);
    assert_int_equal(gl_store_analysis_writer_put(w, "a", 1, "1", 1, &err), GL_EINVAL);
    gl_store_analysis_writer_free(w);
    /* bad keys */
    w = gl_store_analysis_writer_new(f->s, &err);
    assert_int_equal(gl_store_analysis_writer_put(w, "", 0, "1", 1, &err), GL_EINVAL);
    gl_store_analysis_writer_free(w);
    assert_int_equal(leftover_files(f->dir), 0);
    dump(f->s, text, sizeof text);
    assert_string_equal(text, "s=kept;");
    fx_free(f);
}

/* A writer killed while writing leaves its files; the next one removes
 * them (simulated: a file of the writer's name left in the directory). */
static void test_leftovers_removed(void **state)
{
    (void)state;
    fx *f = fx_new();
    char path[200];
    snprintf(path, sizeof path, "%s/gpuledger-analysis-999999-0.sst", f->dir);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs("half a table file", fp);
    fclose(fp);
    assert_int_equal(leftover_files(f->dir), 1);
    gl_err err = {0};
    gl_store_analysis_writer *w = gl_store_analysis_writer_new(f->s, &err);
    assert_non_null(w);
    assert_int_equal(leftover_files(f->dir), 0);
    /* an empty analysis: the family cleared, nothing taken in */
    put_batch(f->s, "e/x", "1");
    ok(gl_store_analysis_writer_commit(w, &err), &err);
    gl_store_analysis_writer_free(w);
    char text[64];
    dump(f->s, text, sizeof text);
    assert_string_equal(text, "");
    fx_free(f);
}

/* More keys than one table file holds (2^20 a file): every one back, in
 * order, through the store's iterator. */
static void test_many_files(void **state)
{
    (void)state;
    fx *f = fx_new();
    gl_err err = {0};
    gl_store_analysis_writer *w = gl_store_analysis_writer_new(f->s, &err);
    assert_non_null(w);
    const uint32_t n = (1u << 20) + 1000;
    for (uint32_t i = 0; i < n; i++) {
        uint8_t k[6] = {'m', '/', (uint8_t)(i >> 24), (uint8_t)(i >> 16), (uint8_t)(i >> 8), (uint8_t)i};
        uint8_t v[4] = {(uint8_t)(i * 7), (uint8_t)(i * 13), (uint8_t)(i * 17), (uint8_t)(i * 19)};
        ok(gl_store_analysis_writer_put(w, k, 6, v, 4, &err), &err);
    }
    ok(gl_store_analysis_writer_commit(w, &err), &err);
    gl_store_analysis_writer_free(w);
    gl_store_iter *it = gl_store_iter_analysis(f->s, "m/", 2, &err);
    assert_non_null(it);
    uint32_t i = 0;
    for (;; i++) {
        const uint8_t *k, *v;
        size_t kl, vl;
        bool end;
        ok(gl_store_next_analysis(it, &k, &kl, &v, &vl, &end, &err), &err);
        if (end)
            break;
        assert_int_equal(kl, 6);
        assert_int_equal((uint32_t)k[2] << 24 | (uint32_t)k[3] << 16 | (uint32_t)k[4] << 8 | k[5], i);
        assert_int_equal(vl, 4);
        assert_int_equal(v[0], (uint8_t)(i * 7));
        assert_int_equal(v[3], (uint8_t)(i * 19));
    }
    gl_store_iter_free(it);
    assert_int_equal(i, n);
    fx_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_replace_in_one_step),
        cmocka_unit_test(test_key_order_enforced),
        cmocka_unit_test(test_leftovers_removed),
        cmocka_unit_test(test_many_files),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
