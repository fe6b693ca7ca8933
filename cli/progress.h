/* progress.h - progress of long work on stderr, for the subcommands.
 *
 * Two shapes, chosen once from stderr:
 *   - a terminal: one live line redrawn in place (at most 10 times a
 *     second), "gpuledger index: [#######.......] 48%  1234/2560 blocks
 *     310 blocks/s  ETA 4s"; coloured unless NO_COLOR is set (to anything
 *     but the empty string, https://no-color.org);
 *   - anything else (a file, a pipe, CI): a plain line every `interval`
 *     seconds (GL_PROGRESS_INTERVAL_S by default), never colour, never a
 *     carriage return.
 * --quiet (quiet=true) silences progress and notes; warnings and errors are
 * the caller's and still go out (call cli_progress_clear first so that they
 * do not land in the middle of a bar).
 *
 * The text helpers (cli_progress_rate_text, cli_progress_eta_text,
 * cli_progress_line) are pure and unit-tested; the rest writes to the FILE
 * given at init.  Not thread-safe: one cli_progress per thread that reports.
 */
#ifndef GPULEDGER_CLI_PROGRESS_H
#define GPULEDGER_CLI_PROGRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define GL_PROGRESS_INTERVAL_S 10.0 /* plain lines: at most one per this many seconds */
#define GL_PROGRESS_REDRAW_S 0.1    /* terminal: at most one redraw per this many seconds */
#define GL_PROGRESS_BAR_WIDTH 24

typedef struct cli_progress {
    char cmd[48];      /* "index": lines read "gpuledger index: ..." */
    FILE *out;         /* stderr */
    bool tty, color, quiet;
    double interval;   /* plain mode: seconds between lines */
    double t_phase;    /* when the phase began (monotonic seconds) */
    double t_last;     /* last line or redraw */
    char phase[48];    /* "" when none */
    const char *unit;  /* "blocks", "addresses", ... ("" for none) */
    uint64_t total;    /* 0: unknown */
    uint64_t done;
    bool drawn;        /* terminal: a bar is on the line now */
} cli_progress;

/* ---- pure text helpers (no I/O; each returns buf) ---- */

/* Items per second as "0.5", "12", "350", "1.2k", "3.4M" followed by " UNIT/s"
 * (unit NULL or "" gives "/s"): below 10 one decimal, below 1000 none, then
 * k and M with one decimal.  A rate that is not finite or is negative
 * gives "-".  Truncated to cap. */
char *cli_progress_rate_text(char *buf, size_t cap, double per_s, const char *unit);

/* Seconds left as "42s", "3m05s", "2h07m", "4d03h" (rounded to the nearest
 * second first); "?" when not finite or negative. */
char *cli_progress_eta_text(char *buf, size_t cap, double seconds);

/* One progress line without the "gpuledger CMD: " prefix:
 *   "PHASE [####....] 48%  1234/2560 UNIT  310 UNIT/s  ETA 4s"   (bar_width > 0)
 *   "PHASE 48%  1234/2560 UNIT  310 UNIT/s  ETA 4s"              (bar_width 0)
 * With total 0 (unknown): "PHASE 1234 UNIT  310 UNIT/s  12s" (elapsed, no
 * bar, no percentage, no ETA); with nothing counted either, "PHASE 12s".  Rate and ETA are done/elapsed and
 * (total-done)/rate; with elapsed <= 0 or done 0 they read "-" and "?".
 * done > total is shown as given, the percentage capped at 100. */
char *cli_progress_line(char *buf, size_t cap, const char *phase, uint64_t done, uint64_t total,
                        const char *unit, double elapsed, int bar_width);

/* ---- reporting ---- */

/* Set up for `cmd` on `out` (stderr in the program; a test may pass a
 * file): tty from isatty(fileno(out)), colour when tty and NO_COLOR is
 * unset or empty.  Cannot fail. */
void cli_progress_init(cli_progress *p, const char *cmd, FILE *out, bool quiet);

/* Start a phase (the old one's bar is cleared): `total` items of `unit`
 * (0 when unknown).  Draws at once on a terminal. */
void cli_progress_phase(cli_progress *p, const char *phase, uint64_t total, const char *unit);

/* `done` items of the phase so far, `total` possibly revised (0 keeps it).
 * Redraws (terminal) or prints a plain line when the interval has passed. */
void cli_progress_update(cli_progress *p, uint64_t done, uint64_t total);

/* Erase the live bar (terminal) so that the next line starts clean; a no-op
 * otherwise.  Call before printing anything else to `out`. */
void cli_progress_clear(cli_progress *p);

/* A line of chatter, "gpuledger CMD: MESSAGE" (silenced by quiet); the bar,
 * if any, is cleared first and redrawn after. */
void cli_progress_note(cli_progress *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* End the phase: clear the bar and, unless quiet, print the phase's final
 * line with the elapsed time. */
void cli_progress_end(cli_progress *p);

#endif
