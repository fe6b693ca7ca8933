/* cmd_db.c - `gpuledger db stats --db DIR [--json]`: what a store holds.
 *
 * Prints the schema version and creator, the exact record count and table
 * bytes of every column family, the cursors (per chain and platform: the
 * last committed block and its hash), the platform -> chain bindings with
 * the hash of each platform's definition, and the number of integrity
 * findings, how many txs and transfers `gpuledger import` read from files
 * (unverified), and what `gpuledger expand` recorded (its trail-<chain>.json
 * state files: addresses by decision).  The store is opened read-only, so this works while an index
 * or follow run holds it; a missing, foreign, newer or damaged store gives
 * the store's own message.
 * Exit status: 0 printed, 2 bad usage or a store that cannot be read.
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

static void usage(FILE *out)
{
    fprintf(out, "usage: gpuledger db stats --db DIR [--json]\n\n"
                 "Show what a store holds: schema version, records and table bytes per column\n"
                 "family, cursors (last block and hash per chain and platform), platform bindings,\n"
                 "findings.  The store is opened read-only.\n\n"
                 "  --db DIR  the store\n"
                 "  --json    one JSON object instead of a table\n\n"
                 "Examples:\n"
                 "  gpuledger db stats --db store/\n"
                 "  gpuledger db stats --db store/ --json | jq .cursors\n\n"
                 "Exit status: 0 printed, 2 bad usage or unreadable store.\n");
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
    fprintf(stderr, "gpuledger db: unknown subcommand '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
