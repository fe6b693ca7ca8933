/* conf.h - the conformance runner: public vectors from ../shared/vectors.
 *
 * Each family lives in its own file (conf_rlp.c, conf_tx.c, ...) and exposes
 * one function that runs every vector it finds under `dir` (the VECTORS
 * directory) and counts into `st`.  A failing vector prints one line naming
 * the file, the test and what differed, on stderr.
 */
#ifndef GPULEDGER_CONF_H
#define GPULEDGER_CONF_H

#include <stddef.h>

typedef struct conf_stats {
    size_t run;
    size_t passed;
    size_t skipped; /* not applicable, with the reason printed once per kind */
} conf_stats;

/* Record one vector's outcome; prints the failure line when !ok. */
void conf_result(conf_stats *st, int ok, const char *file, const char *test, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

int conf_rlp(const char *dir, conf_stats *st);
int conf_trie(const char *dir, conf_stats *st);
int conf_tx(const char *dir, conf_stats *st);
int conf_keyaddr(const char *dir, conf_stats *st);
int conf_abi(const char *dir, conf_stats *st);

#endif
