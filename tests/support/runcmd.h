/* runcmd.h - run a shell command from a test and keep what it printed:
 * the drills (test_kill_drills.c, test_analyze_kill.c) start the binary
 * under test and the drill scripts this way and judge their output.
 *
 * Test-support code: failures are cmocka assertions in the calling test.
 */
#ifndef GPULEDGER_RUNCMD_H
#define GPULEDGER_RUNCMD_H

/* Run `cmd` with sh -c, wait for it, and return its whole stdout,
 * NUL-terminated (malloc'd; free it).  *status gets its exit status, or
 * -1 when it did not exit (killed by a signal). */
char *gl_test_run_cmd(const char *cmd, int *status /* OUT */);

#endif
