/* peakrss.c - a child program's own peak resident memory (peakrss.h). */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "peakrss.h"

/* The child's VmHWM in KiB once it runs another program than ours, else -1. */
static long vmhwm_after_exec(pid_t pid, const char *self)
{
    char path[64], exe[PATH_MAX];
    snprintf(path, sizeof path, "/proc/%d/exe", (int)pid);
    ssize_t n = readlink(path, exe, sizeof exe - 1);
    if (n <= 0)
        return -1;
    exe[n] = '\0';
    if (!strcmp(exe, self))
        return -1; /* forked, not yet exec'd: our own memory */
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    char line[256];
    long kb = -1;
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, "VmHWM:", 6)) {
            kb = strtol(line + 6, NULL, 10);
            break;
        }
    fclose(f);
    return kb;
}

int gl_wait_peak_rss(pid_t pid, long *peak_kb, struct rusage *ru)
{
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    self[n > 0 ? n : 0] = '\0';
    struct rusage r;
    long peak = -1;
    for (;;) {
        int st;
        pid_t got = wait4(pid, &st, WNOHANG, &r);
        if (got == pid) {
            *peak_kb = peak >= 0 ? peak : r.ru_maxrss;
            if (ru)
                *ru = r;
            return st;
        }
        if (got < 0 && errno != EINTR)
            return -1;
        long kb = vmhwm_after_exec(pid, self);
        if (kb > peak)
            peak = kb;
        nanosleep(&(struct timespec){.tv_nsec = 5 * 1000 * 1000}, NULL);
    }
}
