/* test_store_crash.c - kill -9 at random moments while the store is being
 * written, then check that what is left is consistent and that finishing
 * the work gives exactly what an uninterrupted run gives.
 *
 * The writer is deterministic: block b's records depend only on b (and on
 * which fork it is on), batches of 4 blocks each carry their cursor, and at
 * the first time the cursor reaches REORG_DETECT it rolls back to REORG_FROM
 * and records a "reorg" finding at REORG_FROM - 1 in the same batch; from
 * then on blocks >= REORG_FROM are written from the other fork.  The writer
 * decides everything from what the store holds, so it resumes after a kill.
 *
 * The writer runs in a child that is this binary re-executed with
 * "--child DIR FD" (a fresh process: RocksDB's thread pool does not survive
 * a bare fork).  It writes one byte to FD once the store is open.  The
 * parent kills it with SIGKILL either while it opens (recovery, creation)
 * or after a random time of writing, KILLS times, checking after each kill:
 *   - the store opens;
 *   - every family holds exactly the records of blocks 1..cursor (counted
 *     per family against the counts the generator implies, appearances
 *     included: the store derives them from the txs, events and transfers,
 *     and a rollback finds them again from those), none past it;
 *   - every block up to the cursor has the expected hash, the cursor's hash
 *     is its block's, and gl_store_verify finds nothing wrong.
 * Finally the work is finished and a SHA-256 of every key and value of
 * every family (read with plain RocksDB) must equal that of a clean run.
 *
 * The seed comes from GL_TEST_SEED or the clock, and is printed. */
#include <errno.h>
#include <ftw.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <nettle/sha2.h>
#include <rocksdb/c.h>

#include "gpuledger/store.h"

#include "../support/storefiles.h"

#define CHAIN 31337
#define NAME "crashnet"
#define LAST_BLOCK 400
#define BATCH_BLOCKS 4
#define REORG_DETECT 300
#define REORG_FROM 280
#define KILLS 25

/* -------------------------------------------------------------- the data */

static void fill(uint8_t *p, size_t n, uint64_t seed)
{
    uint64_t x = seed;
    for (size_t i = 0; i < n; i += 8) {
        uint64_t z = (x += 0x9e3779b97f4a7c15ull);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        z ^= z >> 31;
        for (size_t j = 0; j < 8 && i + j < n; j++)
            p[i + j] = (uint8_t)(z >> (8 * j));
    }
}

static unsigned ntx(uint64_t b) { return 2 + (unsigned)(b % 3); }
static unsigned nev(uint64_t b) { return 1 + (unsigned)(b % 4); }

static unsigned variant_of(uint64_t b, bool reorged)
{
    return b >= REORG_FROM && reorged ? 1 : 0;
}

static void block_hash(uint64_t b, unsigned variant, uint8_t out[32])
{
    fill(out, 32, b * 2 + variant + 1000000);
}

/* A small population of addresses, so each has many appearances. */
static void addr_of(uint64_t k, uint8_t out[20])
{
    fill(out, 20, 5000000 + k % 37);
}

static gl_code put_block(gl_store_batch *bt, uint64_t b, unsigned v, gl_err *err)
{
    gl_store_block blk;
    memset(&blk, 0, sizeof blk);
    blk.chain_id = CHAIN;
    blk.number = b;
    block_hash(b, v, blk.hash);
    block_hash(b - 1, variant_of(b - 1, v == 1), blk.parent_hash);
    blk.timestamp = 1700000000 + 2 * b;
    blk.verified = GL_STORE_BLOCK_HASH_OK;
    gl_code rc = gl_store_batch_put_block(bt, &blk, err);
    for (unsigned i = 0; !rc && i < ntx(b); i++) {
        gl_store_tx tx;
        memset(&tx, 0, sizeof tx);
        tx.chain_id = CHAIN;
        tx.block = b;
        tx.index = i;
        fill(tx.hash, 32, (b * 16 + i) * 2 + v);
        addr_of(b * 3 + i, tx.from);
        tx.has_to = true;
        addr_of(b * 5 + i + 1, tx.to);
        tx.value = gl_u256_from_u64(b * 1000 + i + v);
        rc = gl_store_batch_put_tx(bt, &tx, err);
        gl_store_transfer t;
        memset(&t, 0, sizeof t);
        t.pos = (gl_store_pos){CHAIN, b, GL_STORE_POS_TX, i, 0};
        t.asset = GL_STORE_ASSET_NATIVE;
        memcpy(t.from, tx.from, 20);
        memcpy(t.to, tx.to, 20);
        t.amount = tx.value;
        memcpy(t.tx_hash, tx.hash, 32);
        rc = rc ? rc : gl_store_batch_put_transfer(bt, &t, err);
    }
    for (unsigned li = 0; !rc && li < nev(b); li++) {
        gl_store_event e;
        memset(&e, 0, sizeof e);
        e.chain_id = CHAIN;
        e.block = b;
        e.log_index = li;
        strcpy(e.platform, NAME);
        strcpy(e.name, "LeaseCreated");
        addr_of(999, e.contract);
        fill(e.tx_hash, 32, (b * 16 + li % ntx(b)) * 2 + v);
        e.tx_index = li % ntx(b);
        e.n_roles = 2;
        e.roles[0].role = GL_STORE_ROLE_BUYER;
        addr_of(b + li, e.roles[0].addr);
        e.roles[1].role = GL_STORE_ROLE_PROVIDER;
        addr_of(b * 7 + li + 3, e.roles[1].addr);
        e.has_amount = true;
        e.amount = gl_u256_from_u64(777 * b + li + v);
        e.amount.w[3] = b;
        e.gpu_count = 1 + li;
        strcpy(e.gpu_model, li % 2 ? "A100" : "H100");
        rc = gl_store_batch_put_event(bt, &e, err);
        gl_store_transfer t;
        memset(&t, 0, sizeof t);
        t.pos = (gl_store_pos){CHAIN, b, GL_STORE_POS_LOG, li, 0};
        t.asset = GL_STORE_ASSET_ERC20;
        addr_of(998, t.token);
        memcpy(t.from, e.roles[0].addr, 20);
        memcpy(t.to, e.roles[1].addr, 20);
        t.amount = e.amount;
        memcpy(t.tx_hash, e.tx_hash, 32);
        rc = rc ? rc : gl_store_batch_put_transfer(bt, &t, err);
    }
    if (!rc && b % 25 == 0) {
        json_t *f = json_pack("{s:s, s:I, s:i}", "kind", "sample", "block", (json_int_t)b,
                              "fork", (int)v);
        rc = gl_store_batch_put_finding(bt, CHAIN, b, f, NULL, err);
        json_decref(f);
    }
    if (!rc && b % 50 == 0) {
        gl_store_label l;
        memset(&l, 0, sizeof l);
        addr_of(b, l.addr);
        snprintf(l.source, sizeof l.source, "block-%llu", (unsigned long long)b);
        strcpy(l.label, "sample");
        l.confidence = 500;
        rc = gl_store_batch_put_label(bt, &l, err);
    }
    return rc;
}

/* Has the reorg been recorded (a "reorg" finding at REORG_FROM - 1)? */
static gl_code reorged(gl_store *s, bool *out, gl_err *err)
{
    *out = false;
    gl_store_iter *it = gl_store_iter_findings(s, CHAIN, REORG_FROM - 1, REORG_FROM - 1, err);
    if (!it)
        return GL_ENOMEM;
    gl_store_finding f;
    bool end = false;
    gl_code rc;
    while ((rc = gl_store_next_finding(it, &f, &end, err)) == GL_OK && !end) {
        const char *k = json_string_value(json_object_get(f.json, "kind"));
        if (k && strcmp(k, "reorg") == 0)
            *out = true;
        json_decref(f.json);
    }
    gl_store_iter_free(it);
    return rc;
}

/* The writer: resume from the cursor and run to LAST_BLOCK.  No cmocka
 * here: it also runs in the child.  `ready_fd` >= 0 gets a byte once the
 * store is open. */
static gl_code run_writer(const char *dir, int ready_fd, gl_err *err)
{
    gl_store_open_opts o = {.create = true, .created_by = "test_store_crash"};
    gl_store *s = gl_store_open(dir, &o, err);
    if (!s)
        return err->code;
    if (ready_fd >= 0) {
        ssize_t w = write(ready_fd, "r", 1);
        (void)w;
    }
    gl_store_batch *bt = gl_store_batch_new(s, err);
    gl_code rc = bt ? GL_OK : GL_ENOMEM;
    while (!rc) {
        gl_store_cursor c;
        bool found, re;
        rc = gl_store_get_cursor(s, CHAIN, NAME, &c, &found, err);
        rc = rc ? rc : reorged(s, &re, err);
        if (rc)
            break;
        uint64_t next = found ? c.block + 1 : 1;
        if (!re && found && c.block >= REORG_DETECT) {
            json_t *f = json_pack("{s:s, s:i}", "kind", "reorg", "from", REORG_FROM);
            rc = gl_store_batch_rollback(bt, CHAIN, REORG_FROM, err);
            rc = rc ? rc : gl_store_batch_put_finding(bt, CHAIN, REORG_FROM - 1, f, NULL, err);
            json_decref(f);
            rc = rc ? rc : gl_store_batch_commit(bt, err);
            continue;
        }
        if (next > LAST_BLOCK)
            break;
        uint64_t last = next + BATCH_BLOCKS - 1;
        if (last > LAST_BLOCK)
            last = LAST_BLOCK;
        for (uint64_t b = next; !rc && b <= last; b++)
            rc = put_block(bt, b, variant_of(b, re), err);
        uint8_t h[32];
        block_hash(last, variant_of(last, re), h);
        rc = rc ? rc : gl_store_batch_set_cursor(bt, CHAIN, NAME, last, h, err);
        rc = rc ? rc : gl_store_batch_commit(bt, err);
    }
    gl_store_batch_free(bt);
    gl_store_close(s);
    return rc;
}

/* ------------------------------------------------------------ the checks */

static void expected_counts(uint64_t cursor, bool found, bool re, uint64_t out[GL_STORE_CF_COUNT])
{
    memset(out, 0, GL_STORE_CF_COUNT * sizeof out[0]);
    out[GL_STORE_CF_META] = 3 + (found ? 1 : 0); /* magic, schema, created_by, chain/NAME */
    out[GL_STORE_CF_CURSORS] = found ? 1 : 0;
    if (!found)
        return;
    for (uint64_t b = 1; b <= cursor; b++) {
        out[GL_STORE_CF_BLOCKS]++;
        out[GL_STORE_CF_TXS] += ntx(b);
        out[GL_STORE_CF_TXHASH] += ntx(b);
        out[GL_STORE_CF_EVENTS] += nev(b);
        out[GL_STORE_CF_TRANSFERS] += ntx(b) + nev(b);
        /* The store derives them.  A tx: its from and to (tx_from, tx_to)
         * and its native transfer's (sender, recipient), 4; an event: its
         * contract, buyer and provider, and its token transfer's sender,
         * recipient and token, 6.  The roles differ within a position, so
         * no two are the same key even where addresses repeat. */
        out[GL_STORE_CF_APPEARANCES] += 4 * ntx(b) + 6 * nev(b);
        out[GL_STORE_CF_FINDINGS] += b % 25 == 0;
    }
    out[GL_STORE_CF_FINDINGS] += re ? 1 : 0;
    /* Labels are not block data: a rollback keeps them. */
    uint64_t reached = re && cursor < REORG_DETECT ? REORG_DETECT : cursor;
    out[GL_STORE_CF_LABELS] = reached / 50;
}

static void check_consistent(const char *dir, uint64_t *cursor_out)
{
    gl_err err = {0};
    gl_store_open_opts o = {.create = true, .created_by = "test_store_crash"};
    gl_store *s = gl_store_open(dir, &o, &err);
    if (!s)
        fail_msg("the store does not open after kill -9: %s", err.msg);
    gl_store_cursor c;
    bool found, re;
    assert_int_equal(gl_store_get_cursor(s, CHAIN, NAME, &c, &found, &err), GL_OK);
    assert_int_equal(reorged(s, &re, &err), GL_OK);
    uint64_t cur = found ? c.block : 0;

    gl_store_stats st;
    uint64_t want[GL_STORE_CF_COUNT];
    assert_int_equal(gl_store_stats_get(s, &st, &err), GL_OK);
    expected_counts(cur, found, re, want);
    for (int i = 0; i < GL_STORE_CF_COUNT; i++)
        if (st.records[i] != want[i])
            fail_msg("cursor %llu%s: family '%s' holds %llu records, expected %llu",
                     (unsigned long long)cur, re ? " (after the reorg)" : "",
                     gl_store_family_name((gl_store_family)i),
                     (unsigned long long)st.records[i], (unsigned long long)want[i]);

    /* Every block up to the cursor, with the hash of its fork; none past it. */
    gl_store_iter *it = gl_store_iter_blocks(s, CHAIN, 0, UINT64_MAX, &err);
    gl_store_block blk;
    bool end;
    uint64_t expect_n = 1;
    while (gl_store_next_block(it, &blk, &end, &err) == GL_OK && !end) {
        assert_int_equal(blk.number, expect_n);
        uint8_t h[32];
        block_hash(blk.number, variant_of(blk.number, re), h);
        assert_memory_equal(blk.hash, h, 32);
        expect_n++;
    }
    assert_true(end);
    gl_store_iter_free(it);
    assert_int_equal(expect_n - 1, cur);
    if (found) {
        uint8_t h[32];
        block_hash(cur, variant_of(cur, re), h);
        assert_memory_equal(c.hash, h, 32);
        /* The cursor's own block holds all its records. */
        it = gl_store_iter_events(s, CHAIN, cur, cur, &err);
        gl_store_event e;
        unsigned n = 0;
        while (gl_store_next_event(it, &e, &end, &err) == GL_OK && !end)
            n++;
        gl_store_iter_free(it);
        assert_int_equal(n, nev(cur));
        it = gl_store_iter_txs(s, CHAIN, cur, cur, &err);
        gl_store_tx t;
        n = 0;
        while (gl_store_next_tx(it, &t, &end, &err) == GL_OK && !end)
            n++;
        gl_store_iter_free(it);
        assert_int_equal(n, ntx(cur));
    }
    if (gl_store_verify(s, &err) != GL_OK)
        fail_msg("verify after kill -9: %s", err.msg);
    gl_store_close(s);
    *cursor_out = cur;
}

/* SHA-256 over every family (in name order), every key and value. */
static void digest_store(const char *dir, uint8_t out[SHA256_DIGEST_SIZE])
{
    gl_test_raw r;
    gl_test_raw_open(&r, dir, true);
    struct sha256_ctx ctx;
    sha256_init(&ctx);
    rocksdb_readoptions_t *ro = rocksdb_readoptions_create();
    for (int f = 0; f < GL_STORE_CF_COUNT + 1; f++) {
        const char *want = f < GL_STORE_CF_COUNT ? gl_store_family_name((gl_store_family)f)
                                                 : "default";
        sha256_update(&ctx, strlen(want) + 1, (const uint8_t *)want);
        /* gl_test_raw_cf fails the test when the store lacks the family */
        rocksdb_iterator_t *it = rocksdb_create_iterator_cf(r.db, ro, gl_test_raw_cf(&r, want));
        for (rocksdb_iter_seek_to_first(it); rocksdb_iter_valid(it); rocksdb_iter_next(it)) {
            size_t kl, vl;
            const char *k = rocksdb_iter_key(it, &kl);
            const char *v = rocksdb_iter_value(it, &vl);
            uint8_t len[8];
            gl_store_be64_put(len, kl);
            sha256_update(&ctx, 8, len);
            sha256_update(&ctx, kl, (const uint8_t *)k);
            gl_store_be64_put(len, vl);
            sha256_update(&ctx, 8, len);
            sha256_update(&ctx, vl, (const uint8_t *)v);
        }
        rocksdb_iter_destroy(it);
    }
    sha256_digest(&ctx, SHA256_DIGEST_SIZE, out);
    rocksdb_readoptions_destroy(ro);
    gl_test_raw_close(&r);
}

/* ----------------------------------------------------------- the driver */

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static uint64_t rng_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_us(uint64_t us)
{
    struct timespec ts = {(time_t)(us / 1000000), (long)(us % 1000000) * 1000};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static void test_kill9_resume(void **state)
{
    (void)state;
    uint64_t seed;
    const char *env = getenv("GL_TEST_SEED");
    if (env && env[0])
        seed = strtoull(env, NULL, 0);
    else
        seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 20);
    fprintf(stderr, "test_store_crash: seed %llu (GL_TEST_SEED=%llu replays it)\n",
            (unsigned long long)seed, (unsigned long long)seed);
    uint64_t rng = seed;

    const char *base = getenv("TMPDIR");
    char root[512];
    snprintf(root, sizeof root, "%s/gl_crash_XXXXXX", base && base[0] ? base : "/tmp");
    assert_non_null(mkdtemp(root));
    char ref[600], dir[600];
    snprintf(ref, sizeof ref, "%s/ref", root);
    snprintf(dir, sizeof dir, "%s/crash", root);

    /* The clean run, timed to pick kill delays over the whole run. */
    gl_err err = {0};
    double t0 = now_s();
    if (run_writer(ref, -1, &err) != GL_OK)
        fail_msg("clean run: %s", err.msg);
    double t_ref = now_s() - t0;
    uint64_t cur;
    check_consistent(ref, &cur);
    assert_int_equal(cur, LAST_BLOCK);
    uint64_t span_us = (uint64_t)(t_ref * 1e6 / 12) + 1000;

    uint8_t d_ref[SHA256_DIGEST_SIZE], d[SHA256_DIGEST_SIZE];
    digest_store(ref, d_ref);

    /* Kill until KILLS writers died by SIGKILL.  Whenever the work is
     * complete, the store must equal the clean run; it is then wiped and
     * the work starts again, so kills keep landing on live writes. */
    unsigned during_open = 0, mid_write = 0, finished = 0, rounds = 0;
    char trail[KILLS * 8 + 64] = "";
    while (during_open + mid_write < KILLS) {
        int p[2];
        assert_int_equal(pipe(p), 0);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            close(p[0]);
            char fd[16];
            snprintf(fd, sizeof fd, "%d", p[1]);
            execl("/proc/self/exe", "test_store_crash", "--child", dir, fd, (char *)NULL);
            _exit(127);
        }
        close(p[1]);
        bool at_open = rng_next(&rng) % 5 == 0;
        if (at_open) {
            sleep_us(rng_next(&rng) % 40000);
        } else {
            struct pollfd pf = {p[0], POLLIN, 0};
            assert_true(poll(&pf, 1, 30000) > 0);
            sleep_us(rng_next(&rng) % span_us);
        }
        kill(pid, SIGKILL);
        int status;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        close(p[0]);
        if (WIFEXITED(status)) {
            if (WEXITSTATUS(status) != 0)
                fail_msg("the writer child failed (exit %d)", WEXITSTATUS(status));
            finished++;
        } else {
            assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
            at_open ? during_open++ : mid_write++;
        }
        check_consistent(dir, &cur);
        size_t tl = strlen(trail);
        snprintf(trail + tl, sizeof trail - tl, " %llu", (unsigned long long)cur);
        if (cur == LAST_BLOCK) {
            digest_store(dir, d);
            assert_memory_equal(d_ref, d, sizeof d);
            nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
            rounds++;
            tl = strlen(trail);
            snprintf(trail + tl, sizeof trail - tl, " |");
        }
    }
    fprintf(stderr,
            "test_store_crash: %u kills while opening, %u while writing, %u writers finished "
            "first, %u rounds completed; cursor after each kill:%s\n",
            during_open, mid_write, finished, rounds, trail);

    /* Finish the work; the result must equal the clean run's. */
    if (run_writer(dir, -1, &err) != GL_OK)
        fail_msg("resumed run: %s", err.msg);
    check_consistent(dir, &cur);
    assert_int_equal(cur, LAST_BLOCK);
    digest_store(dir, d);
    assert_memory_equal(d_ref, d, sizeof d);
    nftw(root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

int main(int argc, char **argv)
{
    if (argc == 4 && strcmp(argv[1], "--child") == 0) {
        gl_err err = {0};
        if (run_writer(argv[2], atoi(argv[3]), &err) != GL_OK) {
            fprintf(stderr, "writer: %s\n", err.msg);
            return 1;
        }
        return 0;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kill9_resume),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
