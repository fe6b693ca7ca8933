/* storefiles.c - see storefiles.h. */
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "gpuledger/store.h"
#include "storefiles.h"

char *gl_test_tmpdir(const char *prefix)
{
    const char *base = getenv("TMPDIR");
    char tmpl[512];
    snprintf(tmpl, sizeof tmpl, "%s/%s_XXXXXX", base && base[0] ? base : "/tmp", prefix);
    char *d = mkdtemp(tmpl);
    assert_non_null(d);
    char *out = strdup(d);
    assert_non_null(out);
    return out;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

void gl_test_rm_rf(const char *path)
{
    nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

char *gl_test_path_join(const char *a, const char *b)
{
    size_t n = strlen(a) + strlen(b) + 2;
    char *p = malloc(n);
    assert_non_null(p);
    snprintf(p, n, "%s/%s", a, b);
    return p;
}

void gl_test_read_file(const char *path, gl_buf *out)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        assert_int_equal(gl_buf_append(out, buf, n, NULL), GL_OK);
    fclose(f);
}

void gl_test_dir_snapshot(const char *dir, gl_buf *out)
{
    struct dirent **ents;
    int n = scandir(dir, &ents, NULL, alphasort);
    assert_true(n >= 0);
    for (int i = 0; i < n; i++) {
        const char *name = ents[i]->d_name;
        if (strcmp(name, ".") && strcmp(name, "..")) {
            char *p = gl_test_path_join(dir, name);
            gl_buf_append(out, name, strlen(name) + 1, NULL);
            struct stat st;
            assert_int_equal(stat(p, &st), 0);
            if (S_ISREG(st.st_mode))
                gl_test_read_file(p, out);
            gl_buf_append(out, "\n--\n", 4, NULL);
            free(p);
        }
        free(ents[i]);
    }
    free(ents);
}

void gl_test_assert_dir_unchanged(const char *dir, const gl_buf *before)
{
    gl_buf after = GL_BUF_INIT;
    gl_test_dir_snapshot(dir, &after);
    assert_int_equal(after.len, before->len);
    assert_memory_equal(after.data, before->data, before->len);
    gl_buf_release(&after);
}

size_t gl_test_list_files(const char *dir, const char *prefix, const char *suffix, char out[][256], size_t cap)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL && n < cap) {
        size_t l = strlen(e->d_name), sl = suffix ? strlen(suffix) : 0;
        bool ok = prefix ? strncmp(e->d_name, prefix, strlen(prefix)) == 0
                         : l > sl && strcmp(e->d_name + l - sl, suffix) == 0;
        if (ok)
            snprintf(out[n++], 256, "%s", e->d_name);
    }
    closedir(d);
    return n;
}

void gl_test_flip_byte(const char *path, long off)
{
    int fd = open(path, O_RDWR);
    assert_true(fd >= 0);
    uint8_t c;
    assert_int_equal(pread(fd, &c, 1, off), 1);
    c ^= 0x5a;
    assert_int_equal(pwrite(fd, &c, 1, off), 1);
    close(fd);
}

long gl_test_file_size(const char *path)
{
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    return (long)st.st_size;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

void gl_test_raw_open(gl_test_raw *r, const char *dir, bool read_only)
{
    char *e = NULL;
    r->o = rocksdb_options_create();
    r->n = 0;
    r->names = rocksdb_list_column_families(r->o, dir, &r->n, &e);
    if (e)
        fail_msg("raw list of %s: %s", dir, e);
    const rocksdb_options_t **co = calloc(r->n, sizeof *co);
    r->h = calloc(r->n, sizeof *r->h);
    assert_true(co && r->h);
    for (size_t i = 0; i < r->n; i++)
        co[i] = r->o;
    if (read_only)
        r->db = rocksdb_open_for_read_only_column_families(r->o, dir, (int)r->n, (const char *const *)r->names, co,
                                                           r->h, 0, &e);
    else
        r->db = rocksdb_open_column_families(r->o, dir, (int)r->n, (const char *const *)r->names, co, r->h, &e);
    free(co);
    if (e)
        fail_msg("raw open of %s: %s", dir, e);
}

rocksdb_column_family_handle_t *gl_test_raw_cf(const gl_test_raw *r, const char *name)
{
    for (size_t i = 0; i < r->n; i++)
        if (!strcmp(r->names[i], name))
            return r->h[i];
    fail_msg("no column family %s", name);
    return NULL;
}

void gl_test_raw_close(gl_test_raw *r)
{
    for (size_t i = 0; i < r->n; i++)
        rocksdb_column_family_handle_destroy(r->h[i]);
    rocksdb_close(r->db);
    rocksdb_list_column_families_destroy(r->names, r->n);
    rocksdb_options_destroy(r->o);
    free(r->h);
}

void gl_test_raw_dump(const char *dir, const char *skip, gl_buf *out)
{
    gl_test_raw r;
    gl_test_raw_open(&r, dir, true);
    char **sorted = malloc(r.n * sizeof *sorted);
    assert_non_null(sorted);
    memcpy(sorted, r.names, r.n * sizeof *sorted);
    qsort(sorted, r.n, sizeof *sorted, cmp_str);
    rocksdb_readoptions_t *ro = rocksdb_readoptions_create();
    for (size_t i = 0; i < r.n; i++) {
        gl_buf_append(out, sorted[i], strlen(sorted[i]) + 1, NULL);
        rocksdb_iterator_t *it = rocksdb_create_iterator_cf(r.db, ro, gl_test_raw_cf(&r, sorted[i]));
        for (rocksdb_iter_seek_to_first(it); rocksdb_iter_valid(it); rocksdb_iter_next(it)) {
            size_t kl, vl;
            const char *k = rocksdb_iter_key(it, &kl);
            const char *v = rocksdb_iter_value(it, &vl);
            if (skip && !strcmp(sorted[i], "meta") && kl == strlen(skip) && !memcmp(k, skip, kl))
                continue;
            uint8_t len[8];
            gl_store_be64_put(len, kl);
            gl_buf_append(out, len, 8, NULL);
            gl_buf_append(out, k, kl, NULL);
            gl_store_be64_put(len, vl);
            gl_buf_append(out, len, 8, NULL);
            gl_buf_append(out, v, vl, NULL);
        }
        rocksdb_iter_destroy(it);
    }
    rocksdb_readoptions_destroy(ro);
    gl_test_raw_close(&r);
    free(sorted);
}

void gl_test_expect_dump(const char *dir, const char *skip, const gl_buf *want)
{
    gl_buf d = GL_BUF_INIT;
    gl_test_raw_dump(dir, skip, &d);
    assert_int_equal(d.len, want->len);
    assert_memory_equal(d.data, want->data, d.len);
    gl_buf_release(&d);
}
