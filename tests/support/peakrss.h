/* peakrss.h - a child program's own peak resident memory.
 *
 * wait4's ru_maxrss is not it: Linux keeps the largest resident set a
 * process had across fork and exec, so a program forked from a test that
 * holds 130 MB reports at least 130 MB whatever it uses (test_index_memory
 * measured its test's own memory that way, 130.4 MB every run, for an
 * indexer peaking at 104 MB).  The exec'd program's VmHWM
 * (/proc/PID/status) starts afresh with its own address space; it is read
 * every few milliseconds until the child ends.
 */
#ifndef GPULEDGER_PEAKRSS_H
#define GPULEDGER_PEAKRSS_H

#include <sys/resource.h>
#include <sys/types.h>

/* Wait for `pid` (a child that was forked and execs another program) to
 * end: its wait status (as waitpid's), its rusage in *ru (may be NULL),
 * and in *peak_kb the highest VmHWM read once it had exec'd, in KiB.  A
 * child gone before a reading leaves ru_maxrss there instead, an upper
 * bound.  -1 (errno set) when waiting fails. */
int gl_wait_peak_rss(pid_t pid, long *peak_kb, struct rusage *ru);

#endif
