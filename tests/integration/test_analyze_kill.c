/* test_analyze_kill.c - kill -9 during `gpuledger analyze`, again and again.
 *
 * The analysis is written in several batches, the stamp last (results_store.c).
 * Oracle: a clean run's `flags` and `entities` output.  After every kill at a
 * random moment the store must open and either hold no analysis (flags says
 * "no analysis in this store" and exits 2) or hold exactly the clean one;
 * never a part of it presented as the whole.  A final uninterrupted run
 * gives the clean output again.  The store comes from scripts/sim-eval.sh
 * (small.json, seed 1).  The seed of the kill delays is printed
 * (GL_KILL_SEED to repeat).
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <fcntl.h>

#include <cmocka.h>

#include "../support/runcmd.h"
#include "../support/testutil.h"

static void test_kill_during_analyze(void **state)
{
    (void)state;
    char root[4096], out[256], cmd[9000];
    assert_non_null(gl_test_root(root, sizeof root));
    const char *bin = getenv("GPULEDGER_BIN");
    char binbuf[4200];
    if (!bin || !*bin) {
        snprintf(binbuf, sizeof binbuf, "%s/build/release/gpuledger", root);
        bin = binbuf;
    }
    snprintf(out, sizeof out, "/tmp/gpuledger-test-kill-%d", (int)getpid());
    snprintf(cmd, sizeof cmd, "bash '%s/scripts/sim-eval.sh' '%s/fixtures/scenarios/small.json' 1 '%s' > /dev/null 2>&1",
             root, root, out);
    assert_int_equal(system(cmd), 0);
    int st;
    snprintf(cmd, sizeof cmd, "'%s' flags --db '%s/store' --all --format json 2>/dev/null", bin, out);
    char *clean_flags = gl_test_run_cmd(cmd, &st);
    assert_int_equal(st, 0);
    snprintf(cmd, sizeof cmd, "'%s' entities --db '%s/store' --format csv 2>/dev/null", bin, out);
    char *clean_ents = gl_test_run_cmd(cmd, &st);
    assert_int_equal(st, 0);
    assert_true(strlen(clean_flags) > 100);

    /* How long one analyze takes here: the kills land within it. */
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    snprintf(cmd, sizeof cmd, "'%s' analyze --db '%s/store' --quiet > /dev/null 2>&1", bin, out);
    assert_int_equal(system(cmd), 0);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    long span_us = (t1.tv_sec - t0.tv_sec) * 1000000L + (t1.tv_nsec - t0.tv_nsec) / 1000;
    if (span_us < 1000)
        span_us = 1000;
    unsigned seed = getenv("GL_KILL_SEED") ? (unsigned)strtoul(getenv("GL_KILL_SEED"), NULL, 10) : (unsigned)time(NULL);
    fprintf(stderr, "test_analyze_kill: seed %u (GL_KILL_SEED)\n", seed);
    srand(seed);
    unsigned none = 0, whole = 0;
    for (int k = 0; k < 25; k++) {
        char store[300];
        snprintf(store, sizeof store, "%s/store", out);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            int dn = open("/dev/null", O_WRONLY);
            if (dn >= 0) {
                dup2(dn, 1);
                dup2(dn, 2);
            }
            execl(bin, bin, "analyze", "--db", store, "--quiet", (char *)NULL);
            _exit(127);
        }
        long us = rand() % span_us;
        struct timespec ts = {us / 1000000L, (us % 1000000L) * 1000L};
        nanosleep(&ts, NULL);
        kill(pid, SIGKILL);
        int ws;
        waitpid(pid, &ws, 0);
        snprintf(cmd, sizeof cmd, "'%s' flags --db '%s' --all --format json 2>/dev/null", bin, store);
        char *got = gl_test_run_cmd(cmd, &st);
        if (st == 2 && !*got)
            none++;
        else {
            assert_int_equal(st, 0);
            if (strcmp(got, clean_flags))
                fail_msg("kill %d: flags after the kill differ from the clean run's", k);
            whole++;
        }
        free(got);
    }
    fprintf(stderr, "test_analyze_kill: 25 kills within %ld us: %u left no analysis, %u the whole one\n", span_us,
            none, whole);
    snprintf(cmd, sizeof cmd, "'%s' analyze --db '%s/store' --quiet > /dev/null 2>&1", bin, out);
    assert_int_equal(system(cmd), 0);
    snprintf(cmd, sizeof cmd, "'%s' flags --db '%s/store' --all --format json 2>/dev/null", bin, out);
    char *final_flags = gl_test_run_cmd(cmd, &st);
    snprintf(cmd, sizeof cmd, "'%s' entities --db '%s/store' --format csv 2>/dev/null", bin, out);
    char *final_ents = gl_test_run_cmd(cmd, &st);
    assert_string_equal(final_flags, clean_flags);
    assert_string_equal(final_ents, clean_ents);
    free(final_flags);
    free(final_ents);
    free(clean_flags);
    free(clean_ents);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", out);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_kill_during_analyze)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
