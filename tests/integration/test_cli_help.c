/* test_cli_help.c - every command documents itself, the same way.
 *
 * The command list is read from `gpuledger help` (the lines under
 * "commands:"), so a command added to the table in cli/main.c is covered
 * without touching this file.  For each one:
 *   - `gpuledger CMD --help` exits 0 with its help on stdout (nothing on
 *     stderr), an "Example" line and an "Exit status" line;
 *   - `gpuledger help CMD` prints the same text;
 *   - an unknown option exits 2 with a message on stderr and nothing on
 *     stdout.
 * The man page (docs/gpuledger.1) has an entry (".B CMD ...") for each, and
 * groff renders it without a warning (skipped when groff is not installed).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "gpuledger/bytes.h"

#include "../support/testutil.h"

#define MAX_CMDS 128

typedef struct env {
    char root[4096];
    char bin[4200];
    char tmp[256];
    char *cmds[MAX_CMDS];
    size_t n;
} env;

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return strdup("");
    gl_buf b = GL_BUF_INIT;
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        assert_int_equal(gl_buf_append(&b, buf, n, NULL), GL_OK);
    fclose(f);
    gl_buf_push(&b, 0, NULL);
    char *s = (char *)b.data;
    return s ? s : strdup("");
}

/* Run a shell command with stdout and stderr captured; the exit status. */
static int run(env *e, char **out, char **errs, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int run(env *e, char **out, char **errs, const char *fmt, ...)
{
    char cmd[8192], o[300], er[300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    snprintf(o, sizeof o, "%s/stdout", e->tmp);
    snprintf(er, sizeof er, "%s/stderr", e->tmp);
    char full[8192 + 700];
    snprintf(full, sizeof full, "%s </dev/null >'%s' 2>'%s'", cmd, o, er);
    int st = system(full);
    assert_true(st != -1 && WIFEXITED(st));
    if (out)
        *out = slurp(o);
    if (errs)
        *errs = slurp(er);
    return WEXITSTATUS(st);
}

/* The names under "commands:" in `gpuledger help`: lines "  NAME  summary"
 * up to the first blank line. */
static void read_commands(env *e)
{
    char *out = NULL;
    assert_int_equal(run(e, &out, NULL, "'%s' help", e->bin), 0);
    const char *p = strstr(out, "\ncommands:\n");
    assert_non_null(p);
    p += strlen("\ncommands:\n");
    while (*p == ' ' && p[1] == ' ' && p[2] != ' ') {
        p += 2;
        size_t len = strcspn(p, " \n");
        assert_true(len > 0 && e->n < MAX_CMDS);
        e->cmds[e->n++] = strndup(p, len);
        p = strchr(p, '\n');
        assert_non_null(p);
        p++;
    }
    free(out);
}

static int setup(void **state)
{
    env *e = calloc(1, sizeof *e);
    if (!e || !gl_test_root(e->root, sizeof e->root))
        return -1;
    const char *bin = getenv("GPULEDGER_BIN");
    if (bin && *bin)
        snprintf(e->bin, sizeof e->bin, "%s", bin);
    else
        snprintf(e->bin, sizeof e->bin, "%s/build/release/gpuledger", e->root);
    if (access(e->bin, X_OK) != 0) {
        fprintf(stderr, "no gpuledger binary at %s (set GPULEDGER_BIN)\n", e->bin);
        free(e);
        return -1;
    }
    snprintf(e->tmp, sizeof e->tmp, "%s/gl-help-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(e->tmp)) {
        free(e);
        return -1;
    }
    *state = e;
    return 0;
}

static int teardown(void **state)
{
    env *e = *state;
    char p[400];
    snprintf(p, sizeof p, "%s/stdout", e->tmp);
    unlink(p);
    snprintf(p, sizeof p, "%s/stderr", e->tmp);
    unlink(p);
    rmdir(e->tmp);
    for (size_t i = 0; i < e->n; i++)
        free(e->cmds[i]);
    free(e);
    return 0;
}

static void test_help_lists_commands(void **state)
{
    env *e = *state;
    read_commands(e);
    assert_true(e->n >= 10);
    bool index = false, config = false;
    for (size_t i = 0; i < e->n; i++) {
        index |= !strcmp(e->cmds[i], "index");
        config |= !strcmp(e->cmds[i], "config");
    }
    assert_true(index && config);
    /* --help and -h give the same list, on stdout, exit 0 */
    char *a = NULL, *b = NULL, *c = NULL, *err = NULL;
    assert_int_equal(run(e, &a, NULL, "'%s' help", e->bin), 0);
    assert_int_equal(run(e, &b, &err, "'%s' --help", e->bin), 0);
    assert_int_equal(run(e, &c, NULL, "'%s' -h", e->bin), 0);
    assert_string_equal(a, b);
    assert_string_equal(a, c);
    assert_string_equal(err, "");
    assert_non_null(strstr(a, "Exit status"));
    free(a);
    free(b);
    free(c);
    free(err);
    /* no command: the list on stderr, exit 2; an unknown one likewise */
    assert_int_equal(run(e, &a, &err, "'%s'", e->bin), 2);
    assert_string_equal(a, "");
    assert_non_null(strstr(err, "commands:"));
    free(a);
    free(err);
    assert_int_equal(run(e, &a, &err, "'%s' no-such-command", e->bin), 2);
    assert_non_null(strstr(err, "'no-such-command' is not a command"));
    free(a);
    free(err);
    assert_int_equal(run(e, &a, &err, "'%s' help no-such-command", e->bin), 2);
    assert_string_equal(a, "");
    free(a);
    free(err);
}

static void test_every_command_help(void **state)
{
    env *e = *state;
    if (!e->n)
        read_commands(e);
    for (size_t i = 0; i < e->n; i++) {
        const char *c = e->cmds[i];
        char *out = NULL, *err = NULL, *out2 = NULL;
        int st = run(e, &out, &err, "'%s' %s --help", e->bin, c);
        if (st != 0 || !strstr(out, "Example") || !strstr(out, "Exit status") || *err)
            fail_msg("gpuledger %s --help: exit %d, stdout:\n%s\nstderr:\n%s\n(want exit 0, an \"Example\" and an "
                     "\"Exit status\" line on stdout, nothing on stderr)",
                     c, st, out, err);
        if (!strstr(out, "usage: gpuledger"))
            fail_msg("gpuledger %s --help: no usage line", c);
        assert_int_equal(run(e, &out2, NULL, "'%s' help %s", e->bin, c), 0);
        if (strcmp(out, out2))
            fail_msg("gpuledger help %s differs from gpuledger %s --help", c, c);
        free(out);
        free(out2);
        free(err);
        /* an unknown option: exit 2, said on stderr, nothing on stdout */
        st = run(e, &out, &err, "'%s' %s --no-such-option-xyz", e->bin, c);
        if (st != 2 || !*err || *out)
            fail_msg("gpuledger %s --no-such-option-xyz: exit %d (want 2), stdout '%s', stderr '%s'", c, st, out, err);
        free(out);
        free(err);
    }
}

static char *man_source(env *e)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/docs/gpuledger.1", e->root);
    char *s = slurp(path);
    assert_true(strlen(s) > 1000);
    /* "\-" is a hyphen in roff */
    char *w = s;
    for (const char *r = s; *r; r++) {
        if (r[0] == '\\' && r[1] == '-')
            r++;
        *w++ = *r;
    }
    *w = 0;
    return s;
}

static void test_man_mentions_every_command(void **state)
{
    env *e = *state;
    if (!e->n)
        read_commands(e);
    char *s = man_source(e);
    for (size_t i = 0; i < e->n; i++) {
        /* an entry: a line ".B CMD" or ".B CMD ..." */
        char a[160], b[160];
        snprintf(a, sizeof a, "\n.B %s ", e->cmds[i]);
        snprintf(b, sizeof b, "\n.B %s\n", e->cmds[i]);
        if (!strstr(s, a) && !strstr(s, b))
            fail_msg("docs/gpuledger.1 has no entry for '%s' (a line \".B %s ...\" under COMMANDS)", e->cmds[i],
                     e->cmds[i]);
    }
    /* the environment and the files the brief promises */
    static const char *const must[] = {"ETH_RPC_URL", "NO_COLOR", "GPULEDGER_CONFIG", "XDG_CONFIG_HOME",
                                       "config.json", ".SH EXIT STATUS", ".SH ENVIRONMENT", ".SH FILES"};
    for (size_t i = 0; i < sizeof must / sizeof must[0]; i++)
        if (!strstr(s, must[i]))
            fail_msg("docs/gpuledger.1 does not mention %s", must[i]);
    free(s);
}

static void test_man_renders(void **state)
{
    env *e = *state;
    char *out = NULL, *err = NULL;
    if (run(e, NULL, NULL, "command -v groff") != 0)
        skip();
    int st = run(e, &out, &err, "groff -man -Tutf8 -ww -z '%s/docs/gpuledger.1'", e->root);
    if (st != 0 || *err)
        fail_msg("groff -man -ww: exit %d, warnings:\n%s", st, err);
    free(out);
    free(err);
    /* and what it renders names the commands too (nothing was swallowed) */
    st = run(e, &out, &err, "groff -man -Tutf8 -P-cbou '%s/docs/gpuledger.1'", e->root);
    assert_int_equal(st, 0);
    if (!e->n)
        read_commands(e);
    for (size_t i = 0; i < e->n; i++) {
        char want[160];
        snprintf(want, sizeof want, "\n       %s ", e->cmds[i]);
        char want2[160];
        snprintf(want2, sizeof want2, "\n       %s\n", e->cmds[i]);
        if (!strstr(out, want) && !strstr(out, want2))
            fail_msg("the rendered man page has no entry starting with '%s'", e->cmds[i]);
    }
    free(out);
    free(err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_help_lists_commands),
        cmocka_unit_test(test_every_command_help),
        cmocka_unit_test(test_man_mentions_every_command),
        cmocka_unit_test(test_man_renders),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
