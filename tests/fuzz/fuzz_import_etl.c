/* fuzz_import_etl.c - libFuzzer target: ethereum-etl / BigQuery export
 * parsing (import_etl.h: gl_import_etl_parse_buf, then _resolve), on CSV
 * files of every kind (token_transfers, transactions, traces, blocks; the
 * kind comes from the header row).
 *
 * Input: up to 4 files separated by a line "--8<--"; each is parsed as its
 * own file, then the set is resolved (the files checked against each
 * other).  Oracle (idempotence, any mismatch traps): an import that
 * resolves resolves again when every file is given twice (an overlapping
 * export), with the same records: the same counts of transfers of each
 * kind, txs, blocks and skipped creations, and twice the rows read.  A
 * file that parses alone parses again in a fresh import with the same kind. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gpuledger/import_etl.h"

#include "fuzz.h"

#define MAX_FILES 4
static const char SEP[] = "\n--8<--\n";

typedef struct part {
    char *p; /* exactly len bytes, malloc'ed: a read past the end is caught */
    size_t len;
} part;

static size_t split(const uint8_t *data, size_t size, part *parts)
{
    size_t n = 0, at = 0, sl = sizeof SEP - 1;
    while (n < MAX_FILES) {
        size_t end = size;
        if (n < MAX_FILES - 1)
            for (size_t i = at; i + sl <= size; i++)
                if (!memcmp(data + i, SEP, sl)) {
                    end = i;
                    break;
                }
        parts[n].len = end - at;
        parts[n].p = malloc(parts[n].len ? parts[n].len : 1);
        CHECK(parts[n].p);
        memcpy(parts[n].p, data + at, parts[n].len);
        n++;
        if (end == size)
            break;
        at = end + sl;
    }
    return n;
}

/* Parse the parts `times` times over and resolve; GL_OK and *sum filled,
 * or the first failure. */
static gl_code run(const part *parts, size_t n, int times, gl_import_etl_summary *sum, gl_import_etl_kind *kinds)
{
    static const char *const names[MAX_FILES] = {"f0.csv", "f1.csv", "f2.csv", "f3.csv"};
    gl_err err;
    gl_import_etl *im = gl_import_etl_new(1, &err);
    CHECK(im);
    gl_code rc = GL_OK;
    for (int t = 0; t < times && !rc; t++)
        for (size_t i = 0; i < n && !rc; i++)
            rc = gl_import_etl_parse_buf(im, names[i], parts[i].p, parts[i].len, &kinds[i], &err);
    if (!rc) {
        memset(sum, 0, sizeof *sum);
        rc = gl_import_etl_resolve(im, sum, &err);
    }
    gl_import_etl_free(im);
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    part parts[MAX_FILES];
    size_t n = split(data, size, parts);
    gl_import_etl_summary once, twice;
    gl_import_etl_kind k1[MAX_FILES], k2[MAX_FILES];
    if (run(parts, n, 1, &once, k1) == GL_OK) {
        CHECK(run(parts, n, 2, &twice, k2) == GL_OK);
        CHECK(!memcmp(k1, k2, n * sizeof k1[0]));
        CHECK(twice.rows == 2 * once.rows && twice.files == 2 * once.files);
        CHECK(twice.token_transfers == once.token_transfers && twice.tx_transfers == once.tx_transfers &&
              twice.trace_transfers == once.trace_transfers && twice.txs == once.txs &&
              twice.blocks == once.blocks && twice.creations_skipped == once.creations_skipped);
        CHECK(twice.duplicate_rows >= once.duplicate_rows);
    }
    for (size_t i = 0; i < n; i++)
        free(parts[i].p);
    return 0;
}
