/* cmd_export.c - `gpuledger export events|transfers --db DIR`: the store's
 * decoded events or transfers as CSV or JSON Lines, one record per line,
 * with the columns of docs/EXPORT.md.
 *
 * The store is opened read-only (an index or follow run may be writing it)
 * and read through its iterators, one record at a time.  With --out the
 * output goes to a temporary file beside FILE that is renamed over it only
 * when everything was written and synced, so FILE is either the old file or
 * the complete new one.
 * A store recovered from a damaged write-ahead log (gpuledger db recover)
 * whose lost blocks no index run has fetched again is exported all the
 * same, with a warning naming the missing blocks and exit status 1: the
 * export is not the whole of what was indexed.
 * Exit status: 0 written, 1 written from a store known to lack blocks, 2 bad
 * usage, an unreadable store or a failed write.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <getopt.h>

#include "cli.h"
#include "commands.h"
#include "gpuledger/export.h"
#include "gpuledger/store.h"

#define MAX_CHAINS 64

static void usage(FILE *out)
{
    fprintf(out,
            "usage: gpuledger export events|transfers --db DIR [--format jsonl|csv] [--out FILE]\n"
            "                        [--platform NAME] [--chain ID]... [--from N] [--to N] [--no-context]\n\n"
            "Write the store's decoded marketplace events, or its native and token transfers, one\n"
            "record per line: CSV (RFC 4180, with a header) or JSON Lines.  Both kinds share one\n"
            "set of columns (docs/EXPORT.md); amounts are exact decimal strings.\n\n"
            "  --db DIR         the store (opened read-only)\n"
            "  --format F       jsonl (default) or csv\n"
            "  --out FILE       write FILE atomically (temporary file, then rename); default stdout\n"
            "  --platform NAME  events of this platform only; for transfers, its chain only\n"
            "  --chain ID       this chain only (repeatable); default every chain of the store\n"
            "  --from N, --to N block range, inclusive\n"
            "  --no-context     do not look up blocks and transactions (no block_hash, timestamp,\n"
            "                   block_checks); faster\n\n"
            "Examples:\n"
            "  gpuledger export events --db store/ --format csv --out events.csv\n"
            "  gpuledger export transfers --db store/ --chain 42161 --from 200000000 > transfers.jsonl\n\n"
            "Exit status: 0 written, 1 written but the store lacks blocks lost to damage (a warning\n"
            "names them), 2 bad usage, unreadable store or failed write.\n");
}

static bool parse_u64(const char *s, uint64_t *out)
{
    if (!s || !*s || *s == '-' || *s == '+' || *s == ' ')
        return false;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(s, &end, (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) ? 16 : 10);
    if (errno || *end)
        return false;
    *out = v;
    return true;
}

typedef struct file_sink {
    FILE *f;
    const char *name;
} file_sink;

static gl_code write_sink(void *ctx, const void *data, size_t len, gl_err *err)
{
    file_sink *fs = ctx;
    if (fwrite(data, 1, len, fs->f) != len)
        return gl_err_set(err, GL_EIO, "cannot write '%s': %s", fs->name, strerror(errno));
    return GL_OK;
}

/* Make sure a rename into `path`'s directory survives a crash. */
static void sync_dir_of(const char *path)
{
    char *copy = strdup(path);
    if (!copy)
        return;
    int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
    free(copy);
}

static int run(gl_store *s, const gl_export_opts *o, const char *out_path)
{
    gl_err err = {0};
    gl_export_stats st;
    if (!out_path) {
        file_sink fs = {stdout, "<stdout>"};
        gl_code rc = gl_export_run(s, o, write_sink, &fs, &st, &err);
        if (!rc && fflush(stdout) == EOF)
            rc = gl_err_set(&err, GL_EIO, "cannot write <stdout>: %s", strerror(errno));
        if (rc) {
            fprintf(stderr, "gpuledger export: %s\n", err.msg);
            return 2;
        }
    } else {
        size_t n = strlen(out_path);
        char *tmp = malloc(n + 16);
        if (!tmp) {
            fprintf(stderr, "gpuledger export: out of memory\n");
            return 2;
        }
        snprintf(tmp, n + 16, "%s.tmp-XXXXXX", out_path);
        int fd = mkstemp(tmp);
        if (fd < 0) {
            fprintf(stderr, "gpuledger export: cannot create a temporary file beside '%s': %s\n", out_path,
                    strerror(errno));
            free(tmp);
            return 2;
        }
        /* mkstemp makes 0600; give the file the mode a plain create would */
        mode_t um = umask(0);
        umask(um);
        fchmod(fd, 0666 & ~um);
        FILE *f = fdopen(fd, "wb");
        gl_code rc = f ? GL_OK : gl_err_set(&err, GL_EIO, "cannot open '%s': %s", tmp, strerror(errno));
        if (!f)
            close(fd);
        file_sink fs = {f, out_path};
        if (!rc)
            rc = gl_export_run(s, o, write_sink, &fs, &st, &err);
        if (!rc && (fflush(f) == EOF || fsync(fileno(f)) != 0))
            rc = gl_err_set(&err, GL_EIO, "cannot write '%s': %s", out_path, strerror(errno));
        if (f && fclose(f) == EOF && !rc)
            rc = gl_err_set(&err, GL_EIO, "cannot write '%s': %s", out_path, strerror(errno));
        if (!rc && rename(tmp, out_path) != 0)
            rc = gl_err_set(&err, GL_EIO, "cannot rename '%s' to '%s': %s", tmp, out_path, strerror(errno));
        if (rc) {
            unlink(tmp);
            free(tmp);
            fprintf(stderr, "gpuledger export: %s (nothing written to '%s')\n", err.msg, out_path);
            return 2;
        }
        sync_dir_of(out_path);
        free(tmp);
    }
    fprintf(stderr, "exported %" PRIu64 " %s", st.records, o->kind == GL_EXPORT_EVENTS ? "events" : "transfers");
    if (o->with_context && st.no_block)
        fprintf(stderr, " (%" PRIu64 " without a stored block: no block_hash/timestamp)", st.no_block);
    fprintf(stderr, "\n");
    return 0;
}

int cmd_export(int argc, char **argv)
{
    if (argc >= 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
        usage(stdout);
        return 0;
    }
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    gl_err err = {0};
    gl_export_opts o = {.format = GL_EXPORT_JSONL, .to_block = UINT64_MAX, .with_context = true};
    if (gl_export_kind_parse(argv[1], &o.kind, &err)) {
        fprintf(stderr, "gpuledger export: %s\n", err.msg);
        usage(stderr);
        return 2;
    }
    const char *db = NULL, *out = NULL;
    uint64_t chains[MAX_CHAINS];
    size_t nchains = 0;
    static const struct option opts[] = {
        {"db", required_argument, 0, 'd'},       {"out", required_argument, 0, 'o'},
        {"platform", required_argument, 0, 'p'}, {"format", required_argument, 0, 'f'},
        {"chain", required_argument, 0, 'c'},    {"from", required_argument, 0, 'F'},
        {"to", required_argument, 0, 'T'},       {"no-context", no_argument, 0, 'n'},
        {"help", no_argument, 0, 'h'},           {0, 0, 0, 0},
    };
    int c;
    cli_opt_reset();
    /* argv[1] is the kind: options are parsed after it */
    while ((c = getopt_long(argc - 1, argv + 1, ":h", opts, NULL)) != -1) {
        const char *v = optarg;
        switch (c) {
        case 'h': usage(stdout); return 0;
        case 'n': o.with_context = false; break;
        case 'd': db = v; break;
        case 'o': out = v; break;
        case 'p': o.platform = v; break;
        case 'f':
            if (gl_export_format_parse(v, &o.format, &err)) {
                fprintf(stderr, "gpuledger export: %s\n", err.msg);
                return 2;
            }
            break;
        case 'c':
            if (nchains == MAX_CHAINS || !parse_u64(v, &chains[nchains]) || !chains[nchains]) {
                fprintf(stderr, "gpuledger export: bad --chain '%s'\n", v);
                return 2;
            }
            nchains++;
            break;
        case 'F': case 'T':
            if (!parse_u64(v, c == 'F' ? &o.from_block : &o.to_block)) {
                fprintf(stderr, "gpuledger export: bad %s '%s': a block number\n", c == 'F' ? "--from" : "--to", v);
                return 2;
            }
            break;
        default: return cli_opt_error("export", c, argv + 1);
        }
    }
    if (optind < argc - 1) {
        fprintf(stderr, "gpuledger export: unexpected argument '%s'\n", argv[1 + optind]);
        usage(stderr);
        return 2;
    }
    if (!db) {
        fprintf(stderr, "gpuledger export: --db DIR is required\n");
        return 2;
    }
    if (o.from_block > o.to_block) {
        fprintf(stderr, "gpuledger export: --from %" PRIu64 " is after --to %" PRIu64 "\n", o.from_block,
                o.to_block);
        return 2;
    }
    gl_store_open_opts so = {.read_only = true};
    gl_store *s = gl_store_open(db, &so, &err);
    if (!s) {
        fprintf(stderr, "gpuledger export: %s\n", err.msg);
        return 2;
    }
    uint64_t *found = NULL;
    size_t nfound = 0;
    if (!nchains && !o.platform && gl_export_list_chains(s, &found, &nfound, &err)) {
        fprintf(stderr, "gpuledger export: %s\n", err.msg);
        gl_store_close(s);
        return 2;
    }
    o.chains = nchains ? chains : found;
    o.n_chains = nchains ? nchains : nfound;
    /* A recovered store that still lacks what the damage took: say so. */
    gl_store_lost lost[8];
    size_t nlost = 0, open_spans = 0;
    if (gl_store_lost_spans(s, lost, 8, &nlost, &open_spans, &err)) {
        fprintf(stderr, "gpuledger export: %s\n", err.msg);
        free(found);
        gl_store_close(s);
        return 2;
    }
    for (size_t i = 0; i < nlost; i++) {
        if (lost[i].covered)
            continue;
        char last[32] = "";
        if (lost[i].last_known)
            snprintf(last, sizeof last, "%" PRIu64, lost[i].last);
        fprintf(stderr,
                "gpuledger export: warning: store '%s' was recovered from a damaged write-ahead log: blocks "
                "%" PRIu64 "..%s of platform %s (chain %" PRIu64 ") were lost and are not indexed again yet, "
                "so this export lacks them (run 'gpuledger index' for %s)\n",
                db, lost[i].first, last, lost[i].platform, lost[i].chain_id, lost[i].platform);
    }
    int status = run(s, &o, out);
    if (status == 0 && open_spans)
        status = 1;
    free(found);
    gl_store_close(s);
    return status;
}
