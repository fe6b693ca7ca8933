/* test_progress.c - the progress text of cli/progress.c.
 *
 * The expected strings are worked out by hand from the rules in progress.h
 * (rate: below 10 one decimal, below 1000 none, then k/M; ETA rounded to
 * the second, then m/s, h/m, d/h).  The reporting half is checked on a
 * plain file (no carriage return, no escape, a line per interval) and on a
 * pseudo-terminal (a bar redrawn with \r; colour unless NO_COLOR is set).
 */
#include <fcntl.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../cli/progress.h"

static void test_rate(void **state)
{
    (void)state;
    char b[64];
    assert_string_equal(cli_progress_rate_text(b, sizeof b, 0.5, "blocks"), "0.5 blocks/s");
    assert_string_equal(cli_progress_rate_text(b, sizeof b, 0, "blocks"), "0.0 blocks/s");
    assert_string_equal(cli_progress_rate_text(b, sizeof b, 9.94, "blocks"), "9.9 blocks/s");
    assert_string_equal(cli_progress_rate_text(b, sizeof b, 12.4, "blocks"), "12 blocks/s");
    assert_string_equal(cli_progress_rate_text(b, sizeof b, 350, "blocks"), "350 blocks/s");
    assert_string_equal(cli_progress_rate_text(b, sizeof b, 999.4, "blocks"), "999 blocks/s");
    /* 999.6 would print as "1000": it moves to thousands instead */
    assert_string_equal(cli_progress_rate_text(b, sizeof b, 999.6, "blocks"), "1.0k blocks/s");
    assert_string_equal(cli_progress_rate_text(b, sizeof b, 1234.5, "blocks"), "1.2k blocks/s");
    assert_string_equal(cli_progress_rate_text(b, sizeof b, 2.5e6, "logs"), "2.5M logs/s");
    assert_string_equal(cli_progress_rate_text(b, sizeof b, 5, NULL), "5.0/s");
    assert_string_equal(cli_progress_rate_text(b, sizeof b, 5, ""), "5.0/s");
    assert_string_equal(cli_progress_rate_text(b, sizeof b, -1, "blocks"), "-");
    assert_string_equal(cli_progress_rate_text(b, sizeof b, NAN, "blocks"), "-");
    assert_string_equal(cli_progress_rate_text(b, sizeof b, INFINITY, "blocks"), "-");
    /* truncated to the buffer, still terminated */
    char small[4];
    assert_string_equal(cli_progress_rate_text(small, sizeof small, 350, "blocks"), "350");
}

static void test_eta(void **state)
{
    (void)state;
    char b[32];
    assert_string_equal(cli_progress_eta_text(b, sizeof b, 0), "0s");
    assert_string_equal(cli_progress_eta_text(b, sizeof b, 42), "42s");
    assert_string_equal(cli_progress_eta_text(b, sizeof b, 59.4), "59s");
    assert_string_equal(cli_progress_eta_text(b, sizeof b, 59.6), "1m00s");
    assert_string_equal(cli_progress_eta_text(b, sizeof b, 185), "3m05s");        /* 3*60 + 5 */
    assert_string_equal(cli_progress_eta_text(b, sizeof b, 3599), "59m59s");
    assert_string_equal(cli_progress_eta_text(b, sizeof b, 3600), "1h00m");
    assert_string_equal(cli_progress_eta_text(b, sizeof b, 7620), "2h07m");       /* 2*3600 + 7*60 */
    assert_string_equal(cli_progress_eta_text(b, sizeof b, 86399), "23h59m");
    assert_string_equal(cli_progress_eta_text(b, sizeof b, 356400), "4d03h");     /* 4*86400 + 3*3600 */
    assert_string_equal(cli_progress_eta_text(b, sizeof b, -1), "?");
    assert_string_equal(cli_progress_eta_text(b, sizeof b, NAN), "?");
    assert_string_equal(cli_progress_eta_text(b, sizeof b, INFINITY), "?");
}

static void test_line(void **state)
{
    (void)state;
    char b[256];
    /* 1234 of 2560 in 2 s: 617/s; 1326 left / 617 = 2.15 s; 1234/2560 = 48.2%, 4 of 10 cells */
    assert_string_equal(cli_progress_line(b, sizeof b, "index", 1234, 2560, "blocks", 2, 10),
                        "index [####......] 48%  1234/2560 blocks  617 blocks/s  ETA 2s");
    assert_string_equal(cli_progress_line(b, sizeof b, "index", 1234, 2560, "blocks", 2, 0),
                        "index 48%  1234/2560 blocks  617 blocks/s  ETA 2s");
    /* 10 of 1000 in 4 s: 2.5/s; 990 / 2.5 = 396 s = 6m36s */
    assert_string_equal(cli_progress_line(b, sizeof b, "scan", 10, 1000, "blocks", 4, 0),
                        "scan 1%  10/1000 blocks  2.5 blocks/s  ETA 6m36s");
    /* nothing done yet: no rate, no ETA */
    assert_string_equal(cli_progress_line(b, sizeof b, "index", 0, 100, "blocks", 3, 10),
                        "index [..........] 0%  0/100 blocks  -  ETA ?");
    /* finished, and past the total: 100%, full bar, nothing left */
    assert_string_equal(cli_progress_line(b, sizeof b, "index", 100, 100, "blocks", 10, 4),
                        "index [####] 100%  100/100 blocks  10 blocks/s  ETA 0s");
    assert_string_equal(cli_progress_line(b, sizeof b, "index", 120, 100, "blocks", 10, 4),
                        "index [####] 100%  120/100 blocks  12 blocks/s  ETA 0s");
    /* unknown total: count, rate and elapsed time (150 s = 2m30s) */
    assert_string_equal(cli_progress_line(b, sizeof b, "load", 300, 0, "addresses", 150, 10),
                        "load 300 addresses  2.0 addresses/s  2m30s");
    /* nothing counted at all (a phase without a counter): the time it has run */
    assert_string_equal(cli_progress_line(b, sizeof b, "load 1/3", 0, 0, NULL, 150, 10), "load 1/3 2m30s");
    /* no unit */
    assert_string_equal(cli_progress_line(b, sizeof b, "write", 3, 4, NULL, 1, 0), "write 75%  3/4  3.0/s  ETA 0s");
    /* truncated, terminated */
    char small[8];
    assert_string_equal(cli_progress_line(small, sizeof small, "index", 1, 2, "blocks", 1, 10), "index [");
}

static char *read_file(FILE *f)
{
    fflush(f);
    long n = ftell(f);
    rewind(f);
    char *s = calloc((size_t)n + 1, 1);
    assert_non_null(s);
    assert_int_equal(fread(s, 1, (size_t)n, f), (size_t)n);
    return s;
}

static void test_plain(void **state)
{
    (void)state;
    FILE *f = tmpfile();
    assert_non_null(f);
    cli_progress p;
    cli_progress_init(&p, "index", f, false);
    assert_false(p.tty);
    assert_false(p.color);
    cli_progress_phase(&p, "blocks 1..100", 100, "blocks");
    cli_progress_update(&p, 10, 0); /* inside the interval: nothing */
    p.interval = 0;                 /* every update now prints */
    cli_progress_update(&p, 50, 0);
    cli_progress_note(&p, "a note %d", 7);
    cli_progress_update(&p, 100, 0);
    cli_progress_end(&p);
    char *s = read_file(f);
    assert_null(strchr(s, '\r'));
    assert_null(strchr(s, '\033'));
    assert_null(strstr(s, "10/100"));
    assert_non_null(strstr(s, "gpuledger index: blocks 1..100 50%  50/100 blocks"));
    assert_non_null(strstr(s, "\ngpuledger index: a note 7\n"));
    assert_non_null(strstr(s, "gpuledger index: blocks 1..100 done in "));
    free(s);
    fclose(f);

    /* quiet: nothing at all */
    f = tmpfile();
    cli_progress_init(&p, "index", f, true);
    p.interval = 0;
    cli_progress_phase(&p, "x", 10, "blocks");
    cli_progress_update(&p, 5, 0);
    cli_progress_note(&p, "hidden");
    cli_progress_end(&p);
    s = read_file(f);
    assert_string_equal(s, "");
    free(s);
    fclose(f);
}

/* Draw on a pseudo-terminal and return what the terminal received. */
static char *on_pty(const char *no_color)
{
    int m = posix_openpt(O_RDWR | O_NOCTTY);
    if (m < 0 || grantpt(m) || unlockpt(m))
        return NULL;
    int s = open(ptsname(m), O_RDWR | O_NOCTTY);
    if (s < 0)
        return NULL;
    FILE *f = fdopen(s, "w");
    assert_non_null(f);
    if (no_color)
        setenv("NO_COLOR", no_color, 1);
    else
        unsetenv("NO_COLOR");
    cli_progress p;
    cli_progress_init(&p, "index", f, false);
    assert_true(p.tty);
    cli_progress_phase(&p, "blocks", 100, "blocks");
    cli_progress_update(&p, 40, 0);
    cli_progress_end(&p);
    fclose(f);
    unsetenv("NO_COLOR");
    fcntl(m, F_SETFL, O_NONBLOCK);
    char *buf = calloc(8192, 1);
    size_t len = 0;
    ssize_t n;
    while (len < 8191 && (n = read(m, buf + len, 8191 - len)) > 0)
        len += (size_t)n;
    close(m);
    return buf;
}

static void test_tty(void **state)
{
    (void)state;
    char *s = on_pty(NULL);
    if (!s)
        skip();
    assert_non_null(strchr(s, '\r'));
    assert_non_null(strstr(s, "\033[32m")); /* the bar in colour */
    assert_non_null(strstr(s, "gpuledger index: "));
    free(s);
    s = on_pty("1");
    assert_non_null(s);
    assert_non_null(strchr(s, '\r'));
    assert_null(strstr(s, "\033[32m"));
    assert_null(strstr(s, "\033[1m"));
    assert_non_null(strstr(s, "[....")); /* still a bar */
    free(s);
    /* NO_COLOR="" is as good as unset (no-color.org) */
    s = on_pty("");
    assert_non_null(s);
    assert_non_null(strstr(s, "\033[32m"));
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rate), cmocka_unit_test(test_eta),   cmocka_unit_test(test_line),
        cmocka_unit_test(test_plain), cmocka_unit_test(test_tty),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
