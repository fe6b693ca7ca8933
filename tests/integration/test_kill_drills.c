/* test_kill_drills.c - the short versions of scripts/drill-kill.sh that CI
 * runs: kill -9 of `gpuledger expand` at 14 random moments and of
 * `gpuledger db recover` at 10.
 *
 * The drill itself lives in the script (anyone runs it with N=100); this
 * test runs it with the binary under test (GPULEDGER_BIN, set by
 * scripts/run-tests.sh) and checks its verdict.  The oracle is the
 * script's: a clean run's exports (events, transfers, record counts, the
 * trail's state file, db check's verdict), never the killed run's own
 * claim.  Each kill lands on a fresh copy of the store at a moment drawn
 * over the clean run's measured duration, so a slow binary (ASan) gets
 * proportionally later moments and every resumed run goes to its end
 * unkilled: no window can starve it.  The seed is printed; GL_KILL_SEED
 * repeats one.
 */
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "../support/runcmd.h"
#include "../support/testutil.h"

/* Run `drill-kill.sh MODE N SEED`; its whole output into *out. */
static int run_drill(const char *mode, unsigned n, char **out)
{
    char root[4096];
    assert_non_null(gl_test_root(root, sizeof root));
    unsigned long seed = getenv("GL_KILL_SEED") ? strtoul(getenv("GL_KILL_SEED"), NULL, 10) : (unsigned long)time(NULL);
    fprintf(stderr, "test_kill_drills: %s, seed %lu (GL_KILL_SEED)\n", mode, seed);
    char cmd[4400];
    snprintf(cmd, sizeof cmd, "bash '%s/scripts/drill-kill.sh' %s %u %lu 2>&1", root, mode, n, seed);
    int st;
    char *buf = gl_test_run_cmd(cmd, &st);
    fputs(buf, stderr);
    *out = buf;
    return st;
}

/* The summary's "K landed": kills that hit a running command. */
static unsigned landed(const char *out)
{
    const char *s = strstr(out, "summary: ");
    assert_non_null(s);
    s = strstr(s, " kills, ");
    assert_non_null(s);
    return (unsigned)strtoul(s + 8, NULL, 10);
}

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define UNDER_SANITIZER 1
#else
#define UNDER_SANITIZER 0
#endif

static void test_expand_kill_drill(void **state)
{
    (void)state;
    char *out;
    /* fewer kills under the sanitizers: each costs several slow runs */
    int st = run_drill("expand", UNDER_SANITIZER ? 6 : 14, &out);
    assert_int_equal(st, 0);
    assert_non_null(strstr(out, " 0 mismatches"));
    assert_null(strstr(out, "MISMATCH"));
    /* most moments fall inside the run; a run faster than the shortest
     * clean one (the machine less busy) may finish before its kill */
    assert_true(landed(out) >= (UNDER_SANITIZER ? 3u : 7u));
    free(out);
}

static void test_recover_kill_drill(void **state)
{
    (void)state;
    char *out;
    int st = run_drill("recover", UNDER_SANITIZER ? 5 : 10, &out);
    assert_int_equal(st, 0);
    assert_non_null(strstr(out, " 0 mismatches"));
    assert_null(strstr(out, "MISMATCH"));
    assert_true(landed(out) >= (UNDER_SANITIZER ? 2u : 5u));
    /* the drill saw the store refused as damaged before the exchange */
    assert_non_null(strstr(out, "untouched"));
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_expand_kill_drill),
        cmocka_unit_test(test_recover_kill_drill),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
