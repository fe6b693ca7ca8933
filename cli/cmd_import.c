/* cmd_import.c - `gpuledger import --db DIR --format ethereum-etl
 * [--chain-id N] FILE...`: ethereum-etl / BigQuery crypto_ethereum CSV
 * exports (token_transfers, transactions, traces, blocks) into a store, as
 * transfers, txs and blocks flagged imported and unverified
 * (docs/IMPORT.md).
 *
 * Every file is parsed and checked completely, then against the store,
 * before anything is written: a bad row, or a record the store holds
 * otherwise, stops the import with nothing written.
 * Exit status: 0 imported (or nothing new), 2 bad usage, a bad file, a
 * conflict with the store, or a store that cannot be opened or written.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "cli.h"
#include "gpuledger/import_etl.h"
#include "gpuledger/store.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: gpuledger import --db DIR --format ethereum-etl [--chain-id N] FILE...\n\n"
            "Read ethereum-etl (or BigQuery crypto_ethereum) CSV exports into the store: token\n"
            "transfers, native transfers of transactions and of internal calls (traces), the\n"
            "transactions carrying them, and block hashes and timestamps.  Each file's kind\n"
            "(token_transfers, transactions, traces, blocks) comes from its header row.  What is\n"
            "imported is flagged imported and unverified: nothing in it was checked against a chain,\n"
            "and every export says so (imported=true, verification=imported_unverified).\n\n"
            "  --db DIR           the store (created when missing)\n"
            "  --format F         ethereum-etl (the only one)\n"
            "  --chain-id N       the chain the files are from; default 1, Ethereum mainnet, as\n"
            "                     BigQuery's crypto_ethereum is\n\n"
            "Every file is read and checked completely first: a malformed row stops the import with\n"
            "its file, line and column, and nothing is written.  Importing a file again is a no-op.\n\n"
            "Example:\n"
            "  ethereumetl export_token_transfers --start-block 19000000 --end-block 19000999 \\\n"
            "      --provider-uri $URL --output token_transfers.csv\n"
            "  gpuledger import --db store/ --format ethereum-etl token_transfers.csv transactions.csv\n"
            "  gpuledger export transfers --db store/ --format csv --out transfers.csv\n\n"
            "Exit status: 0 imported, 2 bad usage, a bad file, a conflict with the store, or a\n"
            "store that cannot be used.\n");
}

static bool parse_u64(const char *s, uint64_t *out)
{
    if (!s || !*s || *s == '-' || *s == '+' || *s == ' ')
        return false;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end)
        return false;
    *out = v;
    return true;
}

int cmd_import(int argc, char **argv)
{
    const char *db = NULL, *format = NULL;
    uint64_t chain = GL_IMPORT_ETL_DEFAULT_CHAIN;
    char **files = calloc((size_t)argc + 1, sizeof *files);
    size_t nfiles = 0;
    if (!files) {
        fprintf(stderr, "gpuledger import: out of memory\n");
        return 2;
    }
    static const struct option opts[] = {
        {"db", required_argument, 0, 'd'}, {"format", required_argument, 0, 'f'},
        {"chain-id", required_argument, 0, 'c'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    int c;
    cli_opt_reset();
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        if (c == 'h') {
            usage(stdout);
            free(files);
            return 0;
        } else if (c == 'd') {
            db = optarg;
        } else if (c == 'f') {
            format = optarg;
        } else if (c == 'c') {
            if (!parse_u64(optarg, &chain) || !chain || chain == UINT64_MAX) {
                fprintf(stderr, "gpuledger import: bad --chain-id '%s'\n", optarg);
                free(files);
                return 2;
            }
        } else {
            free(files);
            return cli_opt_error("import", c, argv);
        }
    }
    for (int i = optind; i < argc; i++)
        files[nfiles++] = argv[i];
    if (!db || !format || !nfiles) {
        fprintf(stderr, "gpuledger import: %s\n", !db ? "--db DIR is required"
                                                 : !format ? "--format ethereum-etl is required"
                                                           : "no FILE to import");
        usage(stderr);
        free(files);
        return 2;
    }
    if (strcmp(format, "ethereum-etl")) {
        fprintf(stderr, "gpuledger import: unknown --format '%s' (ethereum-etl)\n", format);
        free(files);
        return 2;
    }
    gl_err err = {0};
    gl_import_etl_summary sum;
    gl_import_etl *im = gl_import_etl_new(chain, &err);
    gl_code rc = im ? GL_OK : err.code;
    for (size_t i = 0; !rc && i < nfiles; i++) {
        gl_import_etl_kind kind;
        rc = gl_import_etl_parse_file(im, files[i], &kind, &err);
        if (!rc)
            fprintf(stderr, "read %s (%s)\n", files[i], gl_import_etl_kind_name(kind));
    }
    if (!rc)
        rc = gl_import_etl_resolve(im, &sum, &err);
    gl_store *s = NULL;
    if (!rc) {
        gl_store_open_opts so = {.create = true, .created_by = "gpuledger import"};
        s = gl_store_open(db, &so, &err);
        rc = s ? GL_OK : err.code ? err.code : GL_EDB;
    }
    if (!rc)
        rc = gl_import_etl_write(s, im, &sum, &err);
    gl_store_close(s);
    gl_import_etl_free(im);
    free(files);
    if (rc) {
        fprintf(stderr, "gpuledger import: %s\n", err.msg);
        return 2;
    }
    printf("imported into chain %" PRIu64 ": %" PRIu64 " rows from %" PRIu64 " files (%" PRIu64 " duplicate rows)\n",
           chain, sum.rows, sum.files, sum.duplicate_rows);
    printf("  transfers: %" PRIu64 " token, %" PRIu64 " native in txs, %" PRIu64 " native in internal calls\n",
           sum.token_transfers, sum.tx_transfers, sum.trace_transfers);
    printf("  txs %" PRIu64 ", blocks %" PRIu64 "\n", sum.txs, sum.blocks);
    printf("  written %" PRIu64 " records in %" PRIu64 " batches; already stored %" PRIu64 "; kept the store's "
           "checked copy of %" PRIu64 "\n",
           sum.written, sum.batches, sum.already_stored, sum.kept_checked);
    if (sum.no_timestamp)
        printf("  no timestamp: %" PRIu64 " transfers are in blocks whose timestamp no file gives "
               "(add transactions.csv or blocks.csv)\n",
               sum.no_timestamp);
    if (sum.creations_skipped)
        printf("  skipped %" PRIu64 " contract creations with value: the files do not give the new contract's "
               "address\n",
               sum.creations_skipped);
    if (sum.files_seen_before)
        printf("  %" PRIu64 " of the files were imported before\n", sum.files_seen_before);
    printf("  everything imported is unverified (imported=true in exports)\n");
    return 0;
}
