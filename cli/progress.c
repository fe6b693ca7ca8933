/* progress.c - progress of long work on stderr (see progress.h). */
#include "progress.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define C_BOLD "\033[1m"
#define C_BAR "\033[32m"
#define C_OFF "\033[0m"

/* ------------------------------------------------------------ text helpers */

char *cli_progress_rate_text(char *buf, size_t cap, double per_s, const char *unit)
{
    const char *u = unit ? unit : "";
    const char *sp = *u ? " " : "";
    if (!isfinite(per_s) || per_s < 0)
        snprintf(buf, cap, "-");
    else if (per_s < 10)
        snprintf(buf, cap, "%.1f%s%s/s", per_s, sp, u);
    else if (per_s < 999.5)
        snprintf(buf, cap, "%.0f%s%s/s", per_s, sp, u);
    else if (per_s < 999.95e3)
        snprintf(buf, cap, "%.1fk%s%s/s", per_s / 1e3, sp, u);
    else
        snprintf(buf, cap, "%.1fM%s%s/s", per_s / 1e6, sp, u);
    return buf;
}

char *cli_progress_eta_text(char *buf, size_t cap, double seconds)
{
    if (!isfinite(seconds) || seconds < 0 || seconds > 1e12) {
        snprintf(buf, cap, "?");
        return buf;
    }
    unsigned long long s = (unsigned long long)llround(seconds);
    if (s < 60)
        snprintf(buf, cap, "%llus", s);
    else if (s < 3600)
        snprintf(buf, cap, "%llum%02llus", s / 60, s % 60);
    else if (s < 86400)
        snprintf(buf, cap, "%lluh%02llum", s / 3600, s % 3600 / 60);
    else
        snprintf(buf, cap, "%llud%02lluh", s / 86400, s % 86400 / 3600);
    return buf;
}

/* Append to buf at *len (bounded by cap). */
static void put(char *buf, size_t cap, size_t *len, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void put(char *buf, size_t cap, size_t *len, const char *fmt, ...)
{
    if (*len >= cap)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf + *len, cap - *len, fmt, ap);
    va_end(ap);
    if (n > 0)
        *len = *len + (size_t)n < cap ? *len + (size_t)n : cap - 1;
}

char *cli_progress_line(char *buf, size_t cap, const char *phase, uint64_t done, uint64_t total,
                        const char *unit, double elapsed, int bar_width)
{
    if (!cap)
        return buf;
    buf[0] = 0;
    size_t len = 0;
    const char *u = unit ? unit : "";
    const char *sp = *u ? " " : "";
    double rate = elapsed > 0 && done > 0 ? (double)done / elapsed : NAN;
    char r[48], eta[24];
    cli_progress_rate_text(r, sizeof r, rate, unit);
    put(buf, cap, &len, "%s", phase ? phase : "");
    if (!total && !done) { /* nothing counted: how long it has run */
        put(buf, cap, &len, " %s", cli_progress_eta_text(eta, sizeof eta, elapsed > 0 ? elapsed : 0));
        return buf;
    }
    if (!total) {
        put(buf, cap, &len, " %llu%s%s  %s  %s", (unsigned long long)done, sp, u, r,
            cli_progress_eta_text(eta, sizeof eta, elapsed > 0 ? elapsed : 0));
        return buf;
    }
    double frac = done >= total ? 1.0 : (double)done / (double)total;
    if (bar_width > 0) {
        int fill = (int)(frac * bar_width);
        put(buf, cap, &len, " [");
        for (int i = 0; i < bar_width; i++)
            put(buf, cap, &len, "%c", i < fill ? '#' : '.');
        put(buf, cap, &len, "]");
    }
    double left = done >= total ? 0 : isnan(rate) ? NAN : (double)(total - done) / rate;
    put(buf, cap, &len, " %d%%  %llu/%llu%s%s  %s  ETA %s", (int)(frac * 100), (unsigned long long)done,
        (unsigned long long)total, sp, u, r, cli_progress_eta_text(eta, sizeof eta, left));
    return buf;
}

/* --------------------------------------------------------------- reporting */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void cli_progress_init(cli_progress *p, const char *cmd, FILE *out, bool quiet)
{
    memset(p, 0, sizeof *p);
    snprintf(p->cmd, sizeof p->cmd, "%s", cmd ? cmd : "");
    p->out = out ? out : stderr;
    p->quiet = quiet;
    p->tty = isatty(fileno(p->out)) == 1;
    const char *nc = getenv("NO_COLOR");
    p->color = p->tty && !(nc && *nc);
    p->interval = GL_PROGRESS_INTERVAL_S;
    p->unit = "";
    p->t_phase = p->t_last = now_s();
}

static void draw(cli_progress *p, double now)
{
    char line[256];
    cli_progress_line(line, sizeof line, "", p->done, p->total, p->unit, now - p->t_phase,
                      p->tty ? GL_PROGRESS_BAR_WIDTH : 0);
    const char *rest = line[0] == ' ' ? line + 1 : line;
    if (p->tty) {
        if (p->color) {
            /* the bar in colour, the phase in bold */
            const char *lb = strchr(rest, '['), *rb = lb ? strchr(lb, ']') : NULL;
            if (lb && rb)
                fprintf(p->out, "\rgpuledger %s: " C_BOLD "%s" C_OFF " [" C_BAR "%.*s" C_OFF "]%s\033[K", p->cmd,
                        p->phase, (int)(rb - lb - 1), lb + 1, rb + 1);
            else
                fprintf(p->out, "\rgpuledger %s: " C_BOLD "%s" C_OFF " %s\033[K", p->cmd, p->phase, rest);
        } else {
            fprintf(p->out, "\rgpuledger %s: %s %s\033[K", p->cmd, p->phase, rest);
        }
        p->drawn = true;
    } else {
        fprintf(p->out, "gpuledger %s: %s %s\n", p->cmd, p->phase, rest);
    }
    fflush(p->out);
    p->t_last = now;
}

void cli_progress_clear(cli_progress *p)
{
    if (p->tty && p->drawn) {
        fputs("\r\033[K", p->out);
        fflush(p->out);
    }
    p->drawn = false;
}

void cli_progress_phase(cli_progress *p, const char *phase, uint64_t total, const char *unit)
{
    cli_progress_clear(p);
    snprintf(p->phase, sizeof p->phase, "%s", phase ? phase : "");
    p->unit = unit ? unit : "";
    p->total = total;
    p->done = 0;
    p->t_phase = p->t_last = now_s();
    if (!p->quiet && p->tty)
        draw(p, p->t_phase);
}

void cli_progress_update(cli_progress *p, uint64_t done, uint64_t total)
{
    p->done = done;
    if (total)
        p->total = total;
    if (p->quiet)
        return;
    double now = now_s();
    if (now - p->t_last >= (p->tty ? GL_PROGRESS_REDRAW_S : p->interval))
        draw(p, now);
}

void cli_progress_note(cli_progress *p, const char *fmt, ...)
{
    if (p->quiet)
        return;
    bool redraw = p->drawn;
    cli_progress_clear(p);
    fprintf(p->out, "gpuledger %s: ", p->cmd);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(p->out, fmt, ap);
    va_end(ap);
    fputc('\n', p->out);
    if (redraw)
        draw(p, now_s());
    else
        fflush(p->out);
}

void cli_progress_end(cli_progress *p)
{
    cli_progress_clear(p);
    if (!p->quiet && p->phase[0]) {
        double now = now_s();
        char line[256] = "";
        if (p->done || p->total)
            cli_progress_line(line, sizeof line, ":", p->done, p->total, p->unit, now - p->t_phase, 0);
        fprintf(p->out, "gpuledger %s: %s done in %.2f s%s\n", p->cmd, p->phase, now - p->t_phase, line);
        fflush(p->out);
    }
    p->phase[0] = 0;
}
