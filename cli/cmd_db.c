/* cmd_db.c - `gpuledger db stats|check|recover --db DIR`: what a store
 * holds, whether it is sound, and recovering it from a damaged log.
 *
 * db stats:
 * Prints the schema version and creator, the exact record count and table
 * bytes of every column family, the cursors (per chain and platform: the
 * last committed block and its hash), the platform -> chain bindings with
 * the hash of each platform's definition, and the number of integrity
 * findings, how many txs and transfers `gpuledger import` read from files
 * (unverified), and what `gpuledger expand` recorded (its trail-<chain>.json
 * state files: addresses by decision).  The store is opened read-only, so this works while an index
 * or follow run holds it; a missing, foreign, newer or damaged store gives
 * the store's own message.  A store recovered from a damaged write-ahead
 * log lists the blocks it lost, and whether an index run has fetched them
 * again since.  Exit status: 0 printed, 2 bad usage or a store that cannot
 * be read.
 *
 * db check: every check there is, read-only (docs/STORE.md, "db check"),
 * and a verdict with what to do next.  Exit status: 0 healthy, 1 damaged
 * or incomplete, 2 bad usage or not a store it can look at.
 *
 * db recover: gl_store_recover run on a copy beside the store, the two
 * directories then exchanged in one rename (gl_store_recover_swap: a kill
 * at any moment leaves the store as it was or wholly recovered), and what
 * it kept and lost.  Exit status: 0 recovered or nothing to recover, 2 bad
 * usage or not recovered.
 */
#include <dirent.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"
#include "commands.h"
#include "gpuledger/export.h"
#include "gpuledger/platform.h"
#include "gpuledger/results.h"
#include "gpuledger/store.h"
#include "gpuledger/store_recover_swap.h"

static void usage(FILE *out)
{
    fprintf(out, "usage: gpuledger db stats --db DIR [--json]\n"
                 "       gpuledger db check --db DIR\n"
                 "       gpuledger db recover --db DIR\n\n"
                 "stats: what a store holds: schema version, records and table bytes per column\n"
                 "family, cursors (last block and hash per chain and platform), platform bindings,\n"
                 "findings, blocks lost to damage.  Read-only.  Exit status: 0 printed, 2 bad usage\n"
                 "or unreadable store.\n\n"
                 "check: whether the store is sound: its write-ahead log read to the end, every\n"
                 "record of every family read with checksums verified and decoded, appearances\n"
                 "exact, markers of interrupted runs and of recoveries; a verdict and what to do.\n"
                 "Read-only.  Exit status: 0 healthy, 1 damaged or incomplete, 2 bad usage or not\n"
                 "a store.\n\n"
                 "recover: a store whose write-ahead log is damaged: keep a copy of the log, keep\n"
                 "what comes before the damage, record what may be lost (db stats, db check and\n"
                 "exports say so until 'gpuledger index' fetches it again).  The work is done on a\n"
                 "copy beside the store (DIR" GL_STORE_RECOVER_WORK_SUFFIX "), then swapped in with one\n"
                 "rename: killed at any moment, the store is as it was or recovered, and running\n"
                 "recover again finishes.  Exit status: 0 recovered or nothing to recover, 2 bad\n"
                 "usage or not recovered.\n\n"
                 "  --db DIR  the store\n"
                 "  --json    (stats) one JSON object instead of a table\n\n"
                 "Examples:\n"
                 "  gpuledger db stats --db store/\n"
                 "  gpuledger db check --db store/\n"
                 "  gpuledger db stats --db store/ --json | jq .cursors\n\n"
                 "Exit status: 0 printed or healthy, 1 (check) damaged or incomplete, 2 bad usage or\n"
                 "unreadable store.\n");
}

/* A u64 as JSON: an integer when jansson can hold it, else a decimal string. */
static json_t *json_u64(uint64_t v)
{
    if (v <= (uint64_t)INT64_MAX)
        return json_integer((json_int_t)v);
    char tmp[24];
    snprintf(tmp, sizeof tmp, "%" PRIu64, v);
    return json_string(tmp);
}

static json_t *json_hex(const uint8_t *data, size_t n)
{
    char tmp[2 * 32 + 3];
    gl_hex_encode(data, n, true, tmp);
    return json_string(tmp);
}

static bool is_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return false;
    return true;
}

/* Every bound platform name (the store lists its bindings). */
static gl_code binding_names(gl_store *s, json_t *names /* array */, gl_err *err)
{
    char(*nm)[GL_STORE_NAME_MAX] = NULL;
    size_t n = 0;
    gl_code rc = gl_store_list_bindings(s, NULL, &nm, &n, err);
    for (size_t i = 0; i < n && !rc; i++)
        if (json_array_append_new(names, json_string(nm[i])))
            rc = gl_err_set(err, GL_ENOMEM, "out of memory listing bindings");
    free(nm);
    return rc;
}

/* The funding-trail state files in the store directory: per chain, the
 * number of addresses by status ("expanded", "hub degree", ...). */
static json_t *trail_summary(const char *dir)
{
    json_t *arr = json_array();
    DIR *d = opendir(dir);
    if (!d)
        return arr;
    struct dirent *de;
    while ((de = readdir(d))) {
        size_t n = strlen(de->d_name);
        if (strncmp(de->d_name, "trail-", 6) || n < 12 || strcmp(de->d_name + n - 5, ".json"))
            continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        json_t *st = json_load_file(path, 0, NULL);
        json_t *addrs = json_object_get(st, "addresses");
        json_t *by = json_object();
        const char *k;
        json_t *v;
        json_object_foreach(addrs, k, v)
        {
            const char *status = json_string_value(json_object_get(v, "status"));
            if (!status)
                continue;
            json_t *c = json_object_get(by, status);
            json_object_set_new(by, status, json_integer(c ? json_integer_value(c) + 1 : 1));
        }
        json_array_append_new(arr, json_pack("{s:s, s:O?, s:I, s:o}", "file", de->d_name, "chain_id",
                                             json_object_get(st, "chain_id"), "addresses",
                                             (json_int_t)json_object_size(addrs), "by_status", by));
        json_decref(st);
    }
    closedir(d);
    return arr;
}

static json_t *collect(gl_store *s, gl_err *err)
{
    gl_store_stats st;
    if (gl_store_stats_get(s, &st, err))
        return NULL;
    json_t *o = json_object();
    json_object_set_new(o, "store", json_string(gl_store_dir(s)));
    json_object_set_new(o, "schema_version", json_integer(gl_store_schema_version(s)));
    char by[GL_STORE_TEXT_MAX] = "";
    if (gl_store_get_created_by(s, by, sizeof by, err)) {
        json_decref(o);
        return NULL;
    }
    json_object_set_new(o, "created_by", json_string(by));
    json_t *fam = json_array();
    for (int f = 0; f < GL_STORE_CF_COUNT; f++)
        json_array_append_new(fam, json_pack("{s:s, s:o, s:o}", "family", gl_store_family_name((gl_store_family)f),
                                             "records", json_u64(st.records[f]), "sst_bytes",
                                             json_u64(st.sst_bytes[f])));
    json_object_set_new(o, "families", fam);
    json_object_set_new(o, "findings", json_u64(st.records[GL_STORE_CF_FINDINGS]));
    /* the analysis, and whether the store changed since (results.h) */
    {
        bool found = false, stale = false;
        json_t *stamp = NULL;
        if (gl_results_status(s, &found, &stale, &stamp, err)) {
            json_decref(o);
            return NULL;
        }
        json_t *an = json_pack("{s:b,s:b}", "present", found, "stale", stale);
        if (stamp) {
            json_object_set(an, "entities", json_object_get(stamp, "entities"));
            json_object_set(an, "scored", json_object_get(stamp, "scored"));
            json_decref(stamp);
        }
        json_object_set_new(o, "analysis", an);
    }
    /* what `gpuledger import` read from files, checked against nothing */
    json_object_set_new(o, "imported_unverified",
                        json_pack("{s:o, s:o}", "txs", json_u64(st.imported_txs), "transfers",
                                  json_u64(st.imported_transfers)));
    /* the marks an interrupted bulk write leaves (store.h) */
    static const struct {
        const char *name;
        gl_code (*get)(gl_store *, gl_store_span *, size_t, size_t *, gl_err *);
    } marks[] = {{"pending_appearances", gl_store_pending_appearances}, {"records_ahead", gl_store_records_ahead}};
    for (size_t m = 0; m < sizeof marks / sizeof marks[0]; m++) {
        gl_store_span sp[16];
        size_t nsp = 0;
        if (marks[m].get(s, sp, 16, &nsp, err)) {
            json_decref(o);
            return NULL;
        }
        json_t *a = json_array();
        for (size_t i = 0; i < nsp; i++)
            json_array_append_new(a, json_pack("{s:o, s:o, s:o}", "chain_id", json_u64(sp[i].chain_id), "first_block",
                                               json_u64(sp[i].first), "last_block", json_u64(sp[i].last)));
        json_object_set_new(o, marks[m].name, a);
    }

    /* blocks a damaged log took (gpuledger db recover) */
    gl_store_lost lost[64];
    size_t nlost = 0;
    if (gl_store_lost_spans(s, lost, 64, &nlost, NULL, err)) {
        json_decref(o);
        return NULL;
    }
    json_t *la = json_array();
    for (size_t i = 0; i < nlost; i++)
        json_array_append_new(la, json_pack("{s:o, s:s, s:o, s:o, s:o, s:b}", "chain_id", json_u64(lost[i].chain_id),
                                            "platform", lost[i].platform, "first_block", json_u64(lost[i].first),
                                            "last_block", lost[i].last_known ? json_u64(lost[i].last) : json_null(),
                                            "cursor", lost[i].has_cursor ? json_u64(lost[i].cursor) : json_null(),
                                            "indexed_again", lost[i].covered));
    json_object_set_new(o, "lost_to_damage", la);

    uint64_t *chains = NULL;
    size_t nchains = 0;
    if (gl_export_list_chains(s, &chains, &nchains, err)) {
        json_decref(o);
        return NULL;
    }
    json_t *ch = json_array();
    for (size_t i = 0; i < nchains; i++)
        json_array_append_new(ch, json_u64(chains[i]));
    free(chains);
    json_object_set_new(o, "chains", ch);

    json_t *curs = json_array();
    json_object_set_new(o, "cursors", curs);
    gl_store_iter *it = gl_store_iter_cursors(s, err);
    if (!it) {
        json_decref(o);
        return NULL;
    }
    gl_code rc = GL_OK;
    for (bool end = false; !rc;) {
        gl_store_cursor c;
        rc = gl_store_next_cursor(it, &c, &end, err);
        if (rc || end)
            break;
        json_array_append_new(curs, json_pack("{s:o, s:s, s:o, s:o}", "chain_id", json_u64(c.chain_id), "platform",
                                              c.name, "block", json_u64(c.block), "hash",
                                              is_zero(c.hash, 32) ? json_null() : json_hex(c.hash, 32)));
    }
    gl_store_iter_free(it);

    json_t *names = json_array();
    json_t *binds = json_array();
    json_object_set_new(o, "bindings", binds);
    if (!rc)
        rc = binding_names(s, names, err);
    json_t *seen = json_object();
    size_t i;
    json_t *nv;
    json_array_foreach(names, i, nv)
    {
        const char *name = json_string_value(nv);
        if (rc || json_object_get(seen, name))
            continue;
        json_object_set_new(seen, name, json_true());
        uint64_t chain;
        bool found, has_hash;
        uint8_t hash[32];
        rc = gl_store_get_binding(s, name, &chain, &found, err);
        if (!rc && found)
            rc = gl_store_get_platform_hash(s, name, hash, &has_hash, err);
        if (!rc && found)
            json_array_append_new(binds, json_pack("{s:s, s:o, s:o}", "platform", name, "chain_id", json_u64(chain),
                                                   "definition_hash", has_hash ? json_hex(hash, 32) : json_null()));
    }
    json_decref(seen);
    json_decref(names);
    json_object_set_new(o, "trail", trail_summary(gl_store_dir(s)));
    if (rc) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static void print_table(const json_t *o)
{
    printf("store           %s\n", json_string_value(json_object_get(o, "store")));
    printf("schema version  %" JSON_INTEGER_FORMAT "\n", json_integer_value(json_object_get(o, "schema_version")));
    printf("created by      %s\n", json_string_value(json_object_get(o, "created_by")));
    printf("findings        %" JSON_INTEGER_FORMAT "\n", json_integer_value(json_object_get(o, "findings")));
    json_t *an = json_object_get(o, "analysis");
    if (!json_is_true(json_object_get(an, "present")))
        printf("analysis        none (run gpuledger analyze --db %s)\n", json_string_value(json_object_get(o, "store")));
    else if (json_is_true(json_object_get(an, "stale")))
        printf("analysis        STALE: the store changed since (run gpuledger analyze --db %s)\n",
               json_string_value(json_object_get(o, "store")));
    else
        printf("analysis        current: %" JSON_INTEGER_FORMAT " entities, %" JSON_INTEGER_FORMAT " buying wallets scored\n",
               json_integer_value(json_object_get(an, "entities")), json_integer_value(json_object_get(an, "scored")));
    json_t *imp = json_object_get(o, "imported_unverified");
    printf("imported        %" JSON_INTEGER_FORMAT " txs, %" JSON_INTEGER_FORMAT
           " transfers (from files, unverified)\n",
           json_integer_value(json_object_get(imp, "txs")), json_integer_value(json_object_get(imp, "transfers")));
    size_t pi;
    json_t *pv;
    json_array_foreach(json_object_get(o, "pending_appearances"), pi, pv)
        printf("incomplete      the appearances of chain %" JSON_INTEGER_FORMAT " blocks %" JSON_INTEGER_FORMAT
               "..%" JSON_INTEGER_FORMAT " were not written (an index run was killed); the next index or\n"
               "                follow on this store derives them\n",
               json_integer_value(json_object_get(pv, "chain_id")), json_integer_value(json_object_get(pv, "first_block")),
               json_integer_value(json_object_get(pv, "last_block")));
    json_array_foreach(json_object_get(o, "records_ahead"), pi, pv)
        printf("incomplete      records of chain %" JSON_INTEGER_FORMAT " blocks %" JSON_INTEGER_FORMAT
               "..%" JSON_INTEGER_FORMAT " were written without their batch (an index run was killed);\n"
               "                the next index or follow on this store rolls the chain back to block %" JSON_INTEGER_FORMAT "\n",
               json_integer_value(json_object_get(pv, "chain_id")), json_integer_value(json_object_get(pv, "first_block")),
               json_integer_value(json_object_get(pv, "last_block")), json_integer_value(json_object_get(pv, "first_block")));
    json_array_foreach(json_object_get(o, "lost_to_damage"), pi, pv)
    {
        json_t *last = json_object_get(pv, "last_block");
        char lastb[32] = "";
        if (json_is_integer(last))
            snprintf(lastb, sizeof lastb, "%" JSON_INTEGER_FORMAT, json_integer_value(last));
        bool again = json_is_true(json_object_get(pv, "indexed_again"));
        printf("%s blocks %" JSON_INTEGER_FORMAT "..%s of %s (chain %" JSON_INTEGER_FORMAT
               ") were lost to a damaged write-ahead log (gpuledger db recover)%s\n",
               again ? "recovered      " : "INCOMPLETE     ", json_integer_value(json_object_get(pv, "first_block")),
               lastb, json_string_value(json_object_get(pv, "platform")),
               json_integer_value(json_object_get(pv, "chain_id")),
               again ? "; indexed again since"
                     : ";\n                not indexed again yet: this store lacks them (run gpuledger index)");
    }
    printf("\n");
    printf("%-12s %14s %14s\n", "family", "records", "table bytes");
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(o, "families"), i, v)
    {
        printf("%-12s %14" JSON_INTEGER_FORMAT " %14" JSON_INTEGER_FORMAT "\n",
               json_string_value(json_object_get(v, "family")), json_integer_value(json_object_get(v, "records")),
               json_integer_value(json_object_get(v, "sst_bytes")));
    }
    json_t *curs = json_object_get(o, "cursors");
    printf("\ncursors (%zu)\n", json_array_size(curs));
    if (json_array_size(curs))
        printf("  %-10s %-28s %12s  %s\n", "chain", "platform", "block", "hash");
    json_array_foreach(curs, i, v)
    {
        json_t *h = json_object_get(v, "hash");
        char chain[24];
        json_t *cid = json_object_get(v, "chain_id");
        if (json_is_integer(cid))
            snprintf(chain, sizeof chain, "%" JSON_INTEGER_FORMAT, json_integer_value(cid));
        else
            snprintf(chain, sizeof chain, "%s", json_string_value(cid));
        printf("  %-10s %-28s %12" JSON_INTEGER_FORMAT "  %s\n", chain,
               json_string_value(json_object_get(v, "platform")), json_integer_value(json_object_get(v, "block")),
               json_is_string(h) ? json_string_value(h) : "(unknown)");
    }
    json_t *binds = json_object_get(o, "bindings");
    printf("\nplatform bindings (%zu)\n", json_array_size(binds));
    if (json_array_size(binds))
        printf("  %-28s %-10s %s\n", "platform", "chain", "definition hash");
    json_array_foreach(binds, i, v)
    {
        json_t *h = json_object_get(v, "definition_hash");
        json_t *cid = json_object_get(v, "chain_id");
        char chain[24];
        if (json_is_integer(cid))
            snprintf(chain, sizeof chain, "%" JSON_INTEGER_FORMAT, json_integer_value(cid));
        else
            snprintf(chain, sizeof chain, "%s", json_string_value(cid));
        printf("  %-28s %-10s %s\n", json_string_value(json_object_get(v, "platform")), chain,
               json_is_string(h) ? json_string_value(h) : "(none)");
    }
    json_t *trail = json_object_get(o, "trail");
    if (json_array_size(trail))
        printf("\nfunding trail (gpuledger expand)\n");
    json_array_foreach(trail, i, v)
    {
        printf("  %s: %" JSON_INTEGER_FORMAT " addresses", json_string_value(json_object_get(v, "file")),
               json_integer_value(json_object_get(v, "addresses")));
        const char *k;
        json_t *c;
        json_object_foreach(json_object_get(v, "by_status"), k, c)
            printf(", %" JSON_INTEGER_FORMAT " %s", json_integer_value(c), k);
        printf("\n");
    }
}

static int db_stats(int argc, char **argv)
{
    const char *db = NULL;
    bool as_json = false;
    static const struct option opts[] = {
        {"db", required_argument, 0, 'd'}, {"json", no_argument, 0, 'j'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    int c;
    cli_opt_reset();
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        if (c == 'd')
            db = optarg;
        else if (c == 'j')
            as_json = true;
        else if (c == 'h') {
            usage(stdout);
            return 0;
        } else
            return cli_opt_error("db stats", c, argv);
    }
    if (optind < argc) {
        fprintf(stderr, "gpuledger db stats: unexpected argument '%s'\n", argv[optind]);
        usage(stderr);
        return 2;
    }
    if (!db) {
        fprintf(stderr, "gpuledger db stats: --db DIR is required\n");
        return 2;
    }
    gl_err err = {0};
    gl_store_open_opts so = {.read_only = true};
    gl_store *s = gl_store_open(db, &so, &err);
    if (!s) {
        fprintf(stderr, "gpuledger db stats: %s\n", err.msg);
        return 2;
    }
    json_t *o = collect(s, &err);
    gl_store_close(s);
    if (!o) {
        fprintf(stderr, "gpuledger db stats: %s\n", err.msg[0] ? err.msg : "out of memory");
        return 2;
    }
    if (as_json) {
        json_dumpf(o, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        fputc('\n', stdout);
    } else {
        print_table(o);
    }
    json_decref(o);
    if (fflush(stdout) == EOF) {
        fprintf(stderr, "gpuledger db stats: cannot write the output\n");
        return 2;
    }
    return 0;
}

/* --db DIR, the only option of check and recover. */
static const char *db_arg(const char *cmd, int argc, char **argv, int *status)
{
    const char *db = NULL;
    *status = -1;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            usage(stdout);
            *status = 0;
            return NULL;
        }
        if (!strcmp(argv[i], "--db") && i + 1 < argc)
            db = argv[++i];
        else {
            fprintf(stderr, "gpuledger db %s: unknown option or missing value '%s'\n", cmd, argv[i]);
            usage(stderr);
            *status = 2;
            return NULL;
        }
    }
    if (!db) {
        fprintf(stderr, "gpuledger db %s: --db DIR is required\n", cmd);
        *status = 2;
    }
    return db;
}

/* The cursors of a damaged log: recovered up to block N, and how far the
 * records past the damage reach. */
static void print_wal_report(const gl_store_wal_report *r)
{
    for (size_t i = 0; i < r->n; i++) {
        const gl_store_wal_cursor *c = &r->cursors[i];
        if (c->kept)
            printf("  platform %s (chain %" PRIu64 "): recovered up to block %" PRIu64 "; blocks after %" PRIu64
                   " may be lost",
                   c->name, c->chain_id, c->kept_block, c->kept_block);
        else
            printf("  platform %s (chain %" PRIu64 "): nothing recovered; all its blocks may be lost", c->name,
                   c->chain_id);
        if (c->reached && (!c->kept || c->reached_block > c->kept_block))
            printf(" (the log had reached block %" PRIu64 " at least)", c->reached_block);
        printf("\n");
    }
    if (r->n_more)
        printf("  and %zu more platforms\n", r->n_more);
    if (!r->n)
        printf("  no platform has a cursor before the damage\n");
    if (r->later_known) {
        for (int f = 0; f < GL_STORE_CF_COUNT; f++)
            if (r->later_records[f] > r->kept_records[f])
                printf("  %s: %" PRIu64 " records before the damage; %" PRIu64
                       " more are readable past it and cannot be kept\n",
                       gl_store_family_name((gl_store_family)f), r->kept_records[f],
                       r->later_records[f] - r->kept_records[f]);
    }
}

static int db_check(int argc, char **argv)
{
    int status;
    const char *db = db_arg("check", argc, argv, &status);
    if (!db)
        return status;
    gl_err err = {0};
    gl_store_wal_report *r = calloc(1, sizeof *r);
    if (!r) {
        fprintf(stderr, "gpuledger db check: out of memory\n");
        return 2;
    }
    gl_code rc = gl_store_wal_check(db, r, &err);
    if (!rc && r->damaged) {
        printf("store '%s' is DAMAGED: its write-ahead log is corrupt (%s).\n"
               "Opened as it is, the store would hold only what comes before the damage:\n",
               db, r->damage);
        print_wal_report(r);
        printf("next: 'gpuledger db recover --db %s' keeps a copy of the log and what is readable, and\n"
               "      records what may be lost; then 'gpuledger index' for each platform above fetches\n"
               "      the lost blocks again.  Nothing was changed.\n",
               db);
        free(r);
        return 1;
    }
    free(r);
    gl_store *s = NULL;
    if (!rc) {
        gl_store_open_opts so = {.read_only = true};
        s = gl_store_open(db, &so, &err);
        rc = s ? GL_OK : err.code;
    }
    if (rc) {
        bool damaged = strstr(err.msg, "damaged") != NULL;
        fprintf(stderr, "gpuledger db check: %s\n", err.msg);
        if (damaged)
            printf("store '%s' is DAMAGED: RocksDB cannot open it (its MANIFEST or a table file).\n"
                   "next: keep the directory as it is (evidence); restore it from a backup, or index\n"
                   "      again into a new store ('gpuledger index --db NEWDIR ...').\n",
                   db);
        return damaged ? 1 : 2;
    }
    int verdict = 0;
    rc = gl_store_verify(s, &err);
    if (rc && strstr(err.msg, "is incomplete")) {
        printf("store '%s' is INCOMPLETE: %s\n"
               "next: run 'gpuledger index' (or any read-write open) on it: it completes this.\n",
               db, err.msg);
        verdict = 1;
    } else if (rc) {
        printf("store '%s' is DAMAGED: %s\n"
               "next: keep the directory as it is (evidence); restore it from a backup, or index again\n"
               "      into a new store ('gpuledger index --db NEWDIR ...').\n",
               db, err.msg);
        verdict = 1;
    }
    gl_store_lost lost[64];
    size_t nlost = 0, open_spans = 0;
    if (!rc && (rc = gl_store_lost_spans(s, lost, 64, &nlost, &open_spans, &err))) {
        printf("store '%s' is DAMAGED: %s\n", db, err.msg);
        verdict = 1;
    }
    if (!rc && open_spans)
        printf("store '%s' is INCOMPLETE: it was recovered from a damaged write-ahead log and lacks\n"
               "blocks no index run has fetched again:\n",
               db);
    for (size_t i = 0; !rc && i < nlost; i++) {
        char last[32] = "";
        if (lost[i].last_known)
            snprintf(last, sizeof last, "%" PRIu64, lost[i].last);
        printf("%s: blocks %" PRIu64 "..%s of platform %s (chain %" PRIu64
               ") were lost to a damaged write-ahead log; %s\n",
               lost[i].covered ? "note" : "INCOMPLETE", lost[i].first, last, lost[i].platform, lost[i].chain_id,
               lost[i].covered ? "indexed again since" : "not indexed again yet: run 'gpuledger index' for it");
    }
    if (!rc && open_spans)
        verdict = 1;
    if (!rc && !open_spans)
        printf("store '%s' is healthy: its write-ahead log is sound to the end, every record of every\n"
               "family was read with its checksums verified and decoded, and the appearances are\n"
               "exactly those the records imply.\n",
               db);
    gl_store_close(s);
    if (fflush(stdout) == EOF)
        return 2;
    return verdict;
}

static int db_recover(int argc, char **argv)
{
    int status;
    const char *db = db_arg("recover", argc, argv, &status);
    if (!db)
        return status;
    gl_err err = {0};
    gl_store_wal_report *r = calloc(1, sizeof *r);
    if (!r) {
        fprintf(stderr, "gpuledger db recover: out of memory\n");
        return 2;
    }
    gl_code rc = gl_store_recover_swap(db, r, &err);
    if (rc) {
        fprintf(stderr, "gpuledger db recover: %s\n", err.msg);
        if (r->damaged && r->kept_log[0])
            fprintf(stderr, "gpuledger db recover: the damaged log was kept in '%s/%s'\n", db, r->kept_log);
        free(r);
        return 2;
    }
    if (!r->damaged) {
        printf("store '%s': its write-ahead log is sound to the end; nothing to recover\n", db);
        free(r);
        return 0;
    }
    printf("store '%s' recovered from a damaged write-ahead log (%s)\n"
           "  the damaged log is kept in %s/%s\n",
           db, r->damage, db, r->kept_log);
    print_wal_report(r);
    printf("next: run 'gpuledger index' for each platform above: it fetches the lost blocks again.\n"
           "      Until then db stats, db check and exports say this store lacks them.\n");
    free(r);
    return fflush(stdout) == EOF ? 2 : 0;
}

int cmd_db(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "stats"))
        return db_stats(argc - 1, argv + 1);
    if (!strcmp(argv[1], "check"))
        return db_check(argc - 1, argv + 1);
    if (!strcmp(argv[1], "recover"))
        return db_recover(argc - 1, argv + 1);
    fprintf(stderr, "gpuledger db: unknown subcommand '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
