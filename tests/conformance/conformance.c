/* conformance.c - runs every family of public vectors and prints the counts.
 *
 * usage: conformance VECTORS_DIR [family...]
 * Exit status 0 only when every vector run passed and each family found
 * vectors (an empty directory must not pass silently).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "conf.h"

void conf_result(conf_stats *st, int ok, const char *file, const char *test, const char *fmt, ...)
{
    st->run++;
    if (ok) {
        st->passed++;
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "FAIL %s: %s: ", file, test);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

struct family {
    const char *name;
    int (*run)(const char *dir, conf_stats *st);
};

static const struct family families[] = {
    {"rlp", conf_rlp}, {"trie", conf_trie}, {"tx", conf_tx},
    {"keyaddr", conf_keyaddr}, {"abi", conf_abi},
};

static int wanted(const char *name, int argc, char **argv)
{
    if (argc <= 2)
        return 1;
    for (int i = 2; i < argc; i++)
        if (!strcmp(argv[i], name))
            return 1;
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: conformance VECTORS_DIR [family...]\n");
        return 2;
    }
    size_t run = 0, passed = 0;
    int bad = 0;
    for (size_t i = 0; i < sizeof families / sizeof families[0]; i++) {
        if (!wanted(families[i].name, argc, argv))
            continue;
        conf_stats st = {0, 0, 0};
        int rc = families[i].run(argv[1], &st);
        printf("conformance %-8s %5zu run, %5zu passed, %5zu failed, %4zu skipped\n",
               families[i].name, st.run, st.passed, st.run - st.passed, st.skipped);
        if (rc != 0 || st.run == 0 || st.passed != st.run) {
            if (st.run == 0)
                fprintf(stderr, "conformance %s: no vectors found under %s\n", families[i].name, argv[1]);
            bad = 1;
        }
        run += st.run;
        passed += st.passed;
    }
    printf("vectors: %zu passed, %zu failed\n", passed, run - passed);
    return bad;
}
