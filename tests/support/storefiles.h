/* storefiles.h - the file-level helpers of the store's unit tests
 * (test_store.c, test_store_damage.c, ...): temporary directories, whole
 * files, a directory's bytes to prove it unchanged, a byte flipped, and a
 * raw dump of a store read with the plain RocksDB C API (never the store's
 * own code: it is the oracle two stores are compared with), and that API's
 * open of every column family for the tests that read or write a store
 * behind its back.
 *
 * Test-support code: failures are cmocka assertions in the calling test.
 */
#ifndef GPULEDGER_STOREFILES_H
#define GPULEDGER_STOREFILES_H

#include <stdbool.h>
#include <stddef.h>

#include <rocksdb/c.h>

#include "gpuledger/bytes.h"

/* A new directory $TMPDIR/<prefix>_XXXXXX (TMPDIR default /tmp); malloc'd. */
char *gl_test_tmpdir(const char *prefix);

/* Remove `path` and everything under it (symbolic links not followed). */
void gl_test_rm_rf(const char *path);

/* "a/b", malloc'd. */
char *gl_test_path_join(const char *a, const char *b);

/* Append the bytes of the file at `path` to out. */
void gl_test_read_file(const char *path, gl_buf *out);

/* Every entry of `dir` (not recursive; stores are flat), sorted by name:
 * name, and a regular file's bytes.  Two snapshots are equal iff the
 * directory is unchanged. */
void gl_test_dir_snapshot(const char *dir, gl_buf *out);

/* The snapshot of `dir` now must equal `before` byte for byte. */
void gl_test_assert_dir_unchanged(const char *dir, const gl_buf *before);

/* The names of the files of `dir` that start with `prefix` (when given) or
 * else end in `suffix`, at most cap of them, into out; how many. */
size_t gl_test_list_files(const char *dir, const char *prefix, const char *suffix, char out[][256], size_t cap);

/* XOR 0x5a into the byte at `off` of the file at `path`. */
void gl_test_flip_byte(const char *path, long off);

long gl_test_file_size(const char *path);

/* The RocksDB in a directory opened with the plain C API, every column
 * family of it: names[i] (in the order RocksDB lists them) is h[i]. */
typedef struct gl_test_raw {
    rocksdb_t *db;
    rocksdb_options_t *o;
    char **names;
    size_t n;
    rocksdb_column_family_handle_t **h;
} gl_test_raw;

/* Open every column family of the RocksDB in `dir`, read-only or
 * read-write; fails the test when it cannot. */
void gl_test_raw_open(gl_test_raw *r, const char *dir, bool read_only);

/* The handle of family `name`; fails the test when there is none. */
rocksdb_column_family_handle_t *gl_test_raw_cf(const gl_test_raw *r, const char *name);

void gl_test_raw_close(gl_test_raw *r);

/* Every key and value of every column family of the RocksDB in `dir`,
 * families in name order, read-only with the plain C API (point-in-time
 * recovery of the log: what it holds up to any damage): per family its
 * name and a NUL, then per record be64 key length, key, be64 value length,
 * value.  `skip`: a meta key left out (gl_store_recover's marker), or
 * NULL. */
void gl_test_raw_dump(const char *dir, const char *skip, gl_buf *out);

/* The raw dump of `dir` (skip as above) must equal `want` byte for byte. */
void gl_test_expect_dump(const char *dir, const char *skip, const gl_buf *want);

#endif
