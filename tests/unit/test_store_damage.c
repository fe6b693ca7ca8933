/* test_store_damage.c - drills: the store's files damaged or its disk
 * failing under it, and what the user is told each time.
 *
 * Each drill builds a store through the store API, damages it the way the
 * world does (bytes flipped in the write-ahead log or the MANIFEST, a table
 * file cut short, a read-only directory, a full disk), then checks three
 * things: the error names the store and the problem; nothing committed
 * before the damage is lost (a raw dump, read with the plain RocksDB C API,
 * of what the store held before is compared with what it holds after,
 * whenever it can be read); and no part is reported as the whole.  "Unchanged"
 * means every file of the directory is byte-identical.
 */
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <rocksdb/c.h>

#include "gpuledger/store.h"
#include "gpuledger/store_recover_swap.h"

#include "../support/storefiles.h"

/* ------------------------------------------------------------- helpers */

/* The one file of `dir` whose name ends in `suffix` (or starts with
 * `prefix`): its name into out.  Fails the test unless there is exactly
 * one. */
static void only_file(const char *dir, const char *prefix, const char *suffix, char out[256])
{
    char names[2][256];
    size_t n = gl_test_list_files(dir, prefix, suffix, names, 2);
    if (n != 1)
        fail_msg("%zu files %s*%s in %s, want 1", n, prefix ? prefix : "", suffix ? suffix : "", dir);
    snprintf(out, 256, "%s", names[0]);
}

/* ---------------------------------------------------------- the store */

#define CHAIN 137
#define PLAT "golem-polygon"
#define NBLOCKS 10

/* Batch i (1..NBLOCKS): the event of block 100 + i and the cursor on it. */
static void put_range(gl_store *s, uint64_t from, uint64_t to)
{
    gl_err err = {0};
    for (uint64_t b = from; b <= to; b++) {
        gl_store_batch *bt = gl_store_batch_new(s, &err);
        assert_non_null(bt);
        gl_store_event ev;
        memset(&ev, 0, sizeof ev);
        ev.chain_id = CHAIN;
        ev.block = 100 + b;
        ev.log_index = (uint32_t)b;
        strcpy(ev.platform, PLAT);
        strcpy(ev.name, "LeaseCreated");
        memset(ev.contract, 0x8a, 20);
        memset(ev.tx_hash, (int)b, 32);
        ev.n_roles = 1;
        ev.roles[0].role = GL_STORE_ROLE_BUYER;
        memset(ev.roles[0].addr, 0x40 + (int)b, 20);
        ev.has_amount = true;
        ev.amount.w[0] = 1000 * b;
        uint8_t hash[32];
        memset(hash, 0xb0 + (int)b, 32);
        if (gl_store_batch_put_event(bt, &ev, &err) ||
            gl_store_batch_set_cursor(bt, CHAIN, PLAT, 100 + b, hash, &err) ||
            gl_store_batch_commit(bt, &err))
            fail_msg("batch %llu: %s", (unsigned long long)b, err.msg);
        gl_store_batch_free(bt);
    }
}

/* A store of NBLOCKS events, one batch each, all still in the write-ahead
 * log (nothing flushed: RocksDB flushes at a reopen, not at close). */
static void make_unflushed(const char *dir)
{
    gl_store_open_opts o = {.create = true, .created_by = "test_store_damage"};
    gl_err err = {0};
    gl_store *s = gl_store_open(dir, &o, &err);
    if (!s)
        fail_msg("create %s: %s", dir, err.msg);
    put_range(s, 1, NBLOCKS);
    gl_store_close(s);
}

static uint64_t count_events(gl_store *s)
{
    gl_err err = {0};
    gl_store_iter *it = gl_store_iter_events(s, CHAIN, 0, UINT64_MAX - 1, &err);
    assert_non_null(it);
    uint64_t n = 0;
    for (bool end = false;;) {
        gl_store_event ev;
        assert_int_equal(gl_store_next_event(it, &ev, &end, &err), GL_OK);
        if (end)
            break;
        n++;
    }
    gl_store_iter_free(it);
    return n;
}

/* make_unflushed at <a new root>/store, then a byte flipped in the middle
 * of its write-ahead log (its one file, over 2000 bytes), whose name goes
 * into wal and, when log is given, its damaged bytes into *log.  The root
 * is returned and the store's path put in *dir (both malloc'd: drop). */
static char *make_wal_flipped(char **dir, char wal[256], gl_buf *log)
{
    char *root = gl_test_tmpdir("gl_damage");
    *dir = gl_test_path_join(root, "store");
    make_unflushed(*dir);
    only_file(*dir, NULL, ".log", wal);
    char *wp = gl_test_path_join(*dir, wal);
    long size = gl_test_file_size(wp);
    assert_true(size > 2000);
    gl_test_flip_byte(wp, size / 2);
    if (log)
        gl_test_read_file(wp, log);
    free(wp);
    return root;
}

/* The damaged log `wal` as a recovery kept it (in dir/kept_log): byte for
 * byte `log`. */
static void expect_kept_log(const char *dir, const char *kept_log, const char *wal, const gl_buf *log)
{
    char *kd = gl_test_path_join(dir, kept_log);
    char *kp = gl_test_path_join(kd, wal);
    gl_buf copy = GL_BUF_INIT;
    gl_test_read_file(kp, &copy);
    assert_int_equal(copy.len, log->len);
    assert_memory_equal(copy.data, log->data, copy.len);
    gl_buf_release(&copy);
    free(kp);
    free(kd);
}

/* The root and store of a drill removed and freed. */
static void drop(char *root, char *dir)
{
    gl_test_rm_rf(root);
    free(dir);
    free(root);
}

/* --------------------------------------------------------------- drills */

/* Bytes flipped in the middle of the write-ahead log: RocksDB's
 * point-in-time recovery would keep the records before the damage and drop
 * the rest without a word.  The store refuses to open, however it is
 * opened, says so, names what the readable part holds, and changes
 * nothing. */
static void test_wal_flipped_refused(void **state)
{
    (void)state;
    char *dir, wal[256];
    char *root = make_wal_flipped(&dir, wal, NULL);

    gl_buf before = GL_BUF_INIT;
    gl_test_dir_snapshot(dir, &before);
    gl_store_open_opts variants[] = {{.read_only = true}, {0}, {.create = true}, {.bulk_write = true}};
    for (size_t i = 0; i < sizeof variants / sizeof variants[0]; i++) {
        gl_err err = {0};
        gl_store *s = gl_store_open(dir, &variants[i], &err);
        if (s) {
            uint64_t n = count_events(s);
            gl_store_close(s);
            fail_msg("open %zu: a store of %d events whose log is damaged opened, holding %llu", i,
                     NBLOCKS, (unsigned long long)n);
        }
        assert_int_equal(err.code, GL_EDB);
        assert_non_null(strstr(err.msg, dir));
        assert_non_null(strstr(err.msg, "write-ahead log"));
        assert_non_null(strstr(err.msg, "damaged"));
        assert_non_null(strstr(err.msg, "gpuledger db recover"));
        gl_test_assert_dir_unchanged(dir, &before);
    }

    /* What db check reads: the batches before the damage, and how far the
     * readable records past it reach (RocksDB skips the rest of the 32 KiB
     * block that holds the damage: here the whole log); read-only, like the
     * opens. */
    gl_store_wal_report r;
    gl_err err = {0};
    assert_int_equal(gl_store_wal_check(dir, &r, &err), GL_OK);
    assert_true(r.damaged);
    assert_non_null(strstr(r.damage, "Corruption"));
    assert_true(r.later_known);
    assert_int_equal(r.n, 1);
    assert_string_equal(r.cursors[0].name, PLAT);
    assert_true(r.cursors[0].kept && r.cursors[0].reached);
    uint64_t kept = r.cursors[0].kept_block;
    assert_true(kept >= 101 && kept < 100 + NBLOCKS);
    assert_true(r.cursors[0].reached_block >= kept && r.cursors[0].reached_block <= 100 + NBLOCKS);
    assert_int_equal(r.kept_records[GL_STORE_CF_EVENTS], kept - 100);
    assert_true(r.later_records[GL_STORE_CF_EVENTS] >= kept - 100);
    assert_true(r.later_records[GL_STORE_CF_EVENTS] < NBLOCKS);
    gl_test_assert_dir_unchanged(dir, &before);
    gl_buf_release(&before);
    drop(root, dir);
}

/* gl_store_recover on that store: the damaged log kept as it was, the
 * readable part kept byte for byte, the lost span recorded until an index
 * run covers it, and an ordinary open works again. */
static void test_wal_flipped_recover(void **state)
{
    (void)state;
    char *dir, wal[256];
    gl_buf damaged_log = GL_BUF_INIT, readable = GL_BUF_INIT;
    char *root = make_wal_flipped(&dir, wal, &damaged_log);
    gl_test_raw_dump(dir, NULL, &readable); /* plain RocksDB: point-in-time */

    gl_store_wal_report r;
    gl_err err = {0};
    if (gl_store_recover(dir, &r, &err))
        fail_msg("recover: %s", err.msg);
    assert_true(r.damaged);
    uint64_t kept = r.cursors[0].kept_block;
    /* the damaged log, copied before anything was opened read-write */
    assert_true(strncmp(r.kept_log, "damaged-wal-", 12) == 0);
    expect_kept_log(dir, r.kept_log, wal, &damaged_log);
    /* nothing readable was lost: the store is what the log held before
     * the damage, plus the marker */
    gl_test_expect_dump(dir, "recovered", &readable);

    /* an ordinary open works, and says what is missing */
    gl_store *s = gl_store_open(dir, NULL, &err);
    if (!s)
        fail_msg("open after recover: %s", err.msg);
    assert_int_equal(gl_store_verify(s, &err), GL_OK);
    assert_int_equal(count_events(s), kept - 100);
    gl_store_lost lost[4];
    size_t n = 0, open_spans = 0;
    assert_int_equal(gl_store_lost_spans(s, lost, 4, &n, &open_spans, &err), GL_OK);
    assert_int_equal(n, 1);
    assert_int_equal(open_spans, 1);
    assert_int_equal(lost[0].chain_id, CHAIN);
    assert_string_equal(lost[0].platform, PLAT);
    assert_int_equal(lost[0].first, kept + 1);
    assert_false(lost[0].last_known); /* nothing past the damage was readable */
    assert_false(lost[0].covered);
    /* an index run fetches the lost blocks again: covered, kept in the
     * history */
    put_range(s, kept - 100 + 1, NBLOCKS);
    assert_int_equal(gl_store_lost_spans(s, lost, 4, &n, &open_spans, &err), GL_OK);
    assert_int_equal(n, 1);
    assert_int_equal(open_spans, 0);
    assert_true(lost[0].covered);
    assert_int_equal(count_events(s), NBLOCKS);
    gl_store_close(s);

    /* a sound store: nothing to recover, nothing done */
    gl_buf before = GL_BUF_INIT;
    gl_test_dir_snapshot(dir, &before);
    assert_int_equal(gl_store_recover(dir, &r, &err), GL_OK);
    assert_false(r.damaged);
    gl_test_assert_dir_unchanged(dir, &before);
    gl_buf_release(&before);
    gl_buf_release(&damaged_log);
    gl_buf_release(&readable);
    drop(root, dir);
}

/* gl_store_recover_swap (what `db recover` runs) after a kill: whatever the
 * killed run left at the working path is removed and the recovery done
 * again, or, after the exchange, found done.  The moments themselves are
 * drilled by scripts/drill-kill.sh recover (test_kill_drills); this pins the
 * two states a kill leaves beside the store, which random moments rarely
 * hit at the exchange. */
static void test_recover_swap_leftovers(void **state)
{
    (void)state;
    char *dir, wal[256];
    gl_buf damaged_log = GL_BUF_INIT, readable = GL_BUF_INIT;
    char *root = make_wal_flipped(&dir, wal, &damaged_log);
    gl_test_raw_dump(dir, NULL, &readable);

    /* killed while copying: a partial copy beside the store */
    char work[600];
    snprintf(work, sizeof work, "%s%s", dir, GL_STORE_RECOVER_WORK_SUFFIX);
    assert_int_equal(mkdir(work, 0755), 0);
    char *junk = gl_test_path_join(work, "000009.sst");
    FILE *f = fopen(junk, "wb");
    assert_non_null(f);
    fputs("half a table", f);
    fclose(f);
    free(junk);
    char *sub = gl_test_path_join(work, "damaged-wal-x");
    assert_int_equal(mkdir(sub, 0755), 0);
    free(sub);

    gl_store_wal_report r;
    gl_err err = {0};
    /* a trailing slash names the same store */
    char slashed[600];
    snprintf(slashed, sizeof slashed, "%s/", dir);
    if (gl_store_recover_swap(slashed, &r, &err))
        fail_msg("recover: %s", err.msg);
    assert_true(r.damaged);
    struct stat st;
    assert_int_equal(stat(work, &st), -1); /* the leftover is gone */
    gl_test_expect_dump(dir, "recovered", &readable);
    expect_kept_log(dir, r.kept_log, wal, &damaged_log);
    gl_store *s = gl_store_open(dir, NULL, &err);
    if (!s)
        fail_msg("open after recover: %s", err.msg);
    size_t n = 0, open_spans = 0;
    gl_store_lost lost[4];
    assert_int_equal(gl_store_lost_spans(s, lost, 4, &n, &open_spans, &err), GL_OK);
    assert_int_equal(n, 1); /* one recovery recorded, not two */
    assert_int_equal(open_spans, 1);
    gl_store_close(s);

    /* killed after the exchange: the store is recovered, the damaged one
     * sits at the working path; run again, nothing to recover, the
     * leftover removed, the store byte for byte as it was */
    assert_int_equal(mkdir(work, 0755), 0);
    char *old = gl_test_path_join(work, wal);
    f = fopen(old, "wb");
    assert_non_null(f);
    fwrite(damaged_log.data, 1, damaged_log.len, f);
    fclose(f);
    free(old);
    gl_buf before = GL_BUF_INIT;
    gl_test_dir_snapshot(dir, &before);
    assert_int_equal(gl_store_recover_swap(dir, &r, &err), GL_OK);
    assert_false(r.damaged);
    assert_int_equal(stat(work, &st), -1);
    gl_test_assert_dir_unchanged(dir, &before);
    gl_buf_release(&before);

    /* not a store: its words, nothing made beside it */
    char *none = gl_test_path_join(root, "none");
    assert_int_not_equal(gl_store_recover_swap(none, &r, &err), GL_OK);
    assert_non_null(strstr(err.msg, "does not exist"));
    free(none);

    gl_buf_release(&damaged_log);
    gl_buf_release(&readable);
    drop(root, dir);
}

/* Run the CLI ($GPULEDGER_BIN) with stdout and stderr captured into *out
 * (both, stdout first); returns the exit status. */
static int run_cli(const char *root, char **out, const char *fmt, ...)
{
    const char *bin = getenv("GPULEDGER_BIN");
    char args[2048], cmd[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    snprintf(cmd, sizeof cmd, "'%s' %s >'%s/out' 2>'%s/err'", bin ? bin : "build/release/gpuledger", args, root,
             root);
    int st = system(cmd);
    assert_true(st != -1 && WIFEXITED(st));
    gl_buf b = GL_BUF_INIT;
    char *o = gl_test_path_join(root, "out"), *e = gl_test_path_join(root, "err");
    gl_test_read_file(o, &b);
    gl_test_read_file(e, &b);
    gl_buf_push(&b, 0, NULL);
    free(o);
    free(e);
    *out = (char *)b.data;
    fprintf(stderr, "$ gpuledger %s -> %d\n%s", args, WEXITSTATUS(st), *out);
    return WEXITSTATUS(st);
}

/* The same damage as the user meets it: db stats and export refuse, db
 * check says what is lost and what to run, db recover does it, and until
 * the lost blocks are indexed again check, stats and exports say so. */
static void test_wal_flipped_cli(void **state)
{
    (void)state;
    char *dir, wal[256];
    char *root = make_wal_flipped(&dir, wal, NULL);
    char *out;
    assert_int_equal(run_cli(root, &out, "db stats --db '%s'", dir), 2);
    assert_non_null(strstr(out, "write-ahead log is corrupt"));
    assert_non_null(strstr(out, "gpuledger db recover --db"));
    free(out);
    assert_int_equal(run_cli(root, &out, "export events --db '%s'", dir), 2);
    assert_non_null(strstr(out, "write-ahead log is corrupt"));
    free(out);
    assert_int_equal(run_cli(root, &out, "db check --db '%s'", dir), 1);
    assert_non_null(strstr(out, "DAMAGED"));
    assert_non_null(strstr(out, "recovered up to block"));
    assert_non_null(strstr(out, "gpuledger db recover --db"));
    free(out);
    assert_int_equal(run_cli(root, &out, "db recover --db '%s'", dir), 0);
    assert_non_null(strstr(out, "recovered from a damaged write-ahead log"));
    assert_non_null(strstr(out, "damaged-wal-"));
    free(out);
    assert_int_equal(run_cli(root, &out, "db check --db '%s'", dir), 1);
    assert_non_null(strstr(out, "INCOMPLETE"));
    assert_non_null(strstr(out, "not indexed again yet"));
    free(out);
    assert_int_equal(run_cli(root, &out, "db stats --db '%s'", dir), 0);
    assert_non_null(strstr(out, "INCOMPLETE"));
    free(out);
    assert_int_equal(run_cli(root, &out, "export events --db '%s' --out '%s/x.jsonl'", dir, root), 1);
    assert_non_null(strstr(out, "warning: store"));
    assert_non_null(strstr(out, "this export lacks them"));
    free(out);
    /* indexed again: healthy, the history kept */
    gl_err err = {0};
    gl_store *s = gl_store_open(dir, NULL, &err);
    assert_non_null(s);
    put_range(s, 1, NBLOCKS);
    gl_store_close(s);
    assert_int_equal(run_cli(root, &out, "db check --db '%s'", dir), 0);
    assert_non_null(strstr(out, "healthy"));
    assert_non_null(strstr(out, "indexed again since"));
    free(out);
    assert_int_equal(run_cli(root, &out, "export events --db '%s' --out '%s/x.jsonl'", dir, root), 0);
    assert_non_null(strstr(out, "exported 10 events"));
    free(out);
    drop(root, dir);
}

/* The store of make_unflushed at <a new root>/store with its records in
 * table files (a read-write open replays the log into level-0 tables), its
 * dump into `dump`.  Root and *dir as make_wal_flipped's. */
static char *make_tables(char **dir, gl_buf *dump)
{
    char *root = gl_test_tmpdir("gl_damage");
    *dir = gl_test_path_join(root, "store");
    make_unflushed(*dir);
    gl_err err = {0};
    gl_store *s = gl_store_open(*dir, NULL, &err);
    if (!s)
        fail_msg("reopen %s: %s", *dir, err.msg);
    gl_store_close(s);
    gl_test_raw_dump(*dir, NULL, dump);
    return root;
}

/* The largest table file of dir: its name. */
static void largest_sst(const char *dir, char out[256])
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *e;
    long best = -1;
    while ((e = readdir(d)) != NULL) {
        size_t l = strlen(e->d_name);
        if (l < 5 || strcmp(e->d_name + l - 4, ".sst"))
            continue;
        char *p = gl_test_path_join(dir, e->d_name);
        long sz = gl_test_file_size(p);
        free(p);
        if (sz > best) {
            best = sz;
            snprintf(out, 256, "%s", e->d_name);
        }
    }
    closedir(d);
    assert_true(best > 0);
}

/* A table file cut short (a copy interrupted, a disk losing its tail):
 * refused however it is opened, naming the file; nothing changed; db check
 * says damaged. */
static void test_sst_truncated(void **state)
{
    (void)state;
    char *dir;
    gl_buf dump = GL_BUF_INIT;
    char *root = make_tables(&dir, &dump);
    char sst[256];
    largest_sst(dir, sst);
    char *sp = gl_test_path_join(dir, sst);
    assert_int_equal(truncate(sp, gl_test_file_size(sp) / 2), 0);
    free(sp);
    gl_buf before = GL_BUF_INIT;
    gl_test_dir_snapshot(dir, &before);
    gl_store_open_opts variants[] = {{.read_only = true}, {0}, {.bulk_write = true}};
    for (size_t i = 0; i < sizeof variants / sizeof variants[0]; i++) {
        gl_err err = {0};
        gl_store *s = gl_store_open(dir, &variants[i], &err);
        if (s)
            fail_msg("a store with %s cut in half opened", sst);
        assert_int_equal(err.code, GL_EDB);
        assert_non_null(strstr(err.msg, dir));
        assert_non_null(strstr(err.msg, "damaged"));
        assert_non_null(strstr(err.msg, sst));
        assert_null(strstr(err.msg, "write-ahead log")); /* not the log's damage */
        gl_test_assert_dir_unchanged(dir, &before);
    }
    char *out;
    assert_int_equal(run_cli(root, &out, "db check --db '%s'", dir), 1);
    assert_non_null(strstr(out, "DAMAGED"));
    assert_non_null(strstr(out, "restore it from a backup"));
    free(out);
    gl_test_assert_dir_unchanged(dir, &before);
    gl_buf_release(&before);
    gl_buf_release(&dump);
    drop(root, dir);
}

/* Bytes flipped in the MANIFEST: refused as damage (not as a damaged log,
 * which db recover could help), nothing changed.  (test_store's
 * test_corrupt_manifest flips bytes at six places.) */
static void test_manifest_flipped(void **state)
{
    (void)state;
    char *dir;
    gl_buf dump = GL_BUF_INIT;
    char *root = make_tables(&dir, &dump);
    char man[256];
    only_file(dir, "MANIFEST-", NULL, man);
    char *mp = gl_test_path_join(dir, man);
    gl_test_flip_byte(mp, gl_test_file_size(mp) / 2);
    free(mp);
    gl_buf before = GL_BUF_INIT;
    gl_test_dir_snapshot(dir, &before);
    gl_err err = {0};
    gl_store_open_opts ro = {.read_only = true};
    assert_null(gl_store_open(dir, &ro, &err));
    assert_int_equal(err.code, GL_EDB);
    assert_non_null(strstr(err.msg, dir));
    assert_non_null(strstr(err.msg, "damaged"));
    assert_null(strstr(err.msg, "write-ahead log"));
    assert_null(gl_store_open(dir, NULL, &err));
    gl_store_wal_report r;
    assert_int_equal(gl_store_wal_check(dir, &r, &err), GL_EDB);
    assert_int_equal(gl_store_recover(dir, &r, &err), GL_EDB); /* nothing it can do */
    assert_non_null(strstr(err.msg, "damaged"));
    gl_test_assert_dir_unchanged(dir, &before);
    char *out;
    assert_int_equal(run_cli(root, &out, "db check --db '%s'", dir), 1);
    assert_non_null(strstr(out, "DAMAGED"));
    free(out);
    assert_int_equal(run_cli(root, &out, "db recover --db '%s'", dir), 2);
    free(out);
    gl_test_assert_dir_unchanged(dir, &before);
    gl_buf_release(&before);
    gl_buf_release(&dump);
    drop(root, dir);
}

/* A directory the process cannot write (root drops to nobody in a child):
 * a read-only open reads everything; a read-write open says the directory
 * cannot be written, not that the store is in use. */
static void test_read_only_dir(void **state)
{
    (void)state;
    char *dir;
    gl_buf dump = GL_BUF_INIT;
    char *root = make_tables(&dir, &dump);
    assert_int_equal(chmod(root, 0755), 0);
    assert_int_equal(chmod(dir, 0555), 0);
    int fds[2];
    assert_int_equal(pipe(fds), 0); /* the child's message (nobody cannot write root's files) */
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (geteuid() == 0 && (setgid(65534) || setuid(65534)))
            _exit(10);
        gl_err err = {0};
        gl_store_open_opts ro = {.read_only = true};
        gl_store *s = gl_store_open(dir, &ro, &err);
        if (!s)
            _exit(11);
        uint64_t n = count_events(s);
        gl_store_close(s);
        if (n != NBLOCKS)
            _exit(12);
        s = gl_store_open(dir, NULL, &err);
        if (s)
            _exit(13);
        if (write(fds[1], err.msg, strlen(err.msg)) < 0)
            _exit(14);
        _exit(0);
    }
    close(fds[1]);
    char mbuf[GL_ERR_MSG_MAX + 1];
    ssize_t ml = read(fds[0], mbuf, GL_ERR_MSG_MAX);
    close(fds[0]);
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
    assert_int_equal(chmod(dir, 0755), 0);
    assert_true(ml > 0);
    mbuf[ml] = '\0';
    fprintf(stderr, "read-only directory: %s\n", mbuf);
    assert_non_null(strstr(mbuf, dir));
    assert_non_null(strstr(mbuf, "cannot be written"));
    assert_null(strstr(mbuf, "in use"));
    gl_test_expect_dump(dir, NULL, &dump);
    gl_buf_release(&dump);
    drop(root, dir);
}

/* A full disk, as a file-size limit (RLIMIT_FSIZE, SIGXFSZ ignored) in a
 * child that commits a batch larger than the limit: the commit fails
 * naming the cause, and the store holds exactly what it held before:
 * nothing lost, nothing of the batch; the next open works. */
static void test_disk_full(void **state)
{
    (void)state;
    char *dir;
    gl_buf dump = GL_BUF_INIT;
    char *root = make_tables(&dir, &dump);
    char *msg = gl_test_path_join(root, "msg");
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        signal(SIGXFSZ, SIG_IGN);
        gl_err err = {0};
        gl_store *s = gl_store_open(dir, NULL, &err);
        if (!s)
            _exit(11);
        struct rlimit rl = {256 << 10, 256 << 10};
        if (setrlimit(RLIMIT_FSIZE, &rl))
            _exit(12);
        gl_store_batch *bt = gl_store_batch_new(s, &err);
        for (uint32_t i = 0; bt && i < 4000; i++) {
            gl_store_event ev;
            memset(&ev, 0, sizeof ev);
            ev.chain_id = CHAIN;
            ev.block = 200 + i / 10;
            ev.log_index = i;
            strcpy(ev.platform, PLAT);
            strcpy(ev.name, "LeaseCreated");
            memset(ev.contract, 0x8a, 20);
            memset(ev.tx_hash, (int)i, 32);
            ev.n_roles = 1;
            ev.roles[0].role = GL_STORE_ROLE_BUYER;
            memset(ev.roles[0].addr, 0x40 + (int)(i % 100), 20);
            if (gl_store_batch_put_event(bt, &ev, &err))
                _exit(13);
        }
        uint8_t hash[32] = {0};
        if (!bt || gl_store_batch_set_cursor(bt, CHAIN, PLAT, 599, hash, &err))
            _exit(14);
        gl_code rc = gl_store_batch_commit(bt, &err);
        gl_store_batch_free(bt);
        gl_store_close(s);
        FILE *f = fopen(msg, "w");
        if (f) {
            fputs(err.msg, f);
            fclose(f);
        }
        _exit(rc == GL_EDB ? 0 : 15);
    }
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
    gl_buf m = GL_BUF_INIT;
    gl_test_read_file(msg, &m);
    gl_buf_push(&m, 0, NULL);
    fprintf(stderr, "full disk: %s\n", (char *)m.data);
    assert_non_null(strstr((char *)m.data, dir));
    assert_non_null(strstr((char *)m.data, "File too large"));
    assert_non_null(strstr((char *)m.data, "what was committed before is kept"));
    /* what was committed is there, the failed batch is not, and an
     * ordinary open works (a torn last write is not damage) */
    gl_test_expect_dump(dir, NULL, &dump);
    gl_err err = {0};
    gl_store *s = gl_store_open(dir, NULL, &err);
    if (!s)
        fail_msg("open after a full disk: %s", err.msg);
    assert_int_equal(gl_store_verify(s, &err), GL_OK);
    assert_int_equal(count_events(s), NBLOCKS);
    gl_store_close(s);
    gl_test_expect_dump(dir, NULL, &dump);
    gl_buf_release(&m);
    gl_buf_release(&dump);
    free(msg);
    drop(root, dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wal_flipped_refused),
        cmocka_unit_test(test_wal_flipped_recover),
        cmocka_unit_test(test_wal_flipped_cli),
        cmocka_unit_test(test_recover_swap_leftovers),
        cmocka_unit_test(test_sst_truncated),
        cmocka_unit_test(test_manifest_flipped),
        cmocka_unit_test(test_read_only_dir),
        cmocka_unit_test(test_disk_full),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
