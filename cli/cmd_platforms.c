/* cmd_platforms.c - `gpuledger platforms [--json]` lists the built-in
 * platform definitions (compiled from fixtures/platforms/);
 * `gpuledger platforms show NAME|FILE [--json]` validates one definition, a
 * built-in or any file, and prints it: contracts with their addresses and
 * start blocks, every event ABI with its block range and topic0, factories,
 * and the role mapping of each event.
 *
 * Validation is the loader's (platform.h): an error names the file, the
 * JSON path of the field and the problem.
 * Exit status: 0 printed, 2 bad usage or a definition that does not load.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <getopt.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"
#include "commands.h"
#include "gpuledger/bytes.h"
#include "gpuledger/platform.h"

static void usage(FILE *out)
{
    fprintf(out, "usage: gpuledger platforms [--json]\n"
                 "       gpuledger platforms show NAME|FILE [--json]\n\n"
                 "List the built-in platform definitions (name, marketplace, chain, contracts with\n"
                 "addresses and start blocks, events), or validate and print one definition: a\n"
                 "built-in NAME or a FILE (a path with '/' or ending in .json).  Errors name the\n"
                 "field (docs/PLATFORMS.md describes the format).\n\n"
                 "  --json  JSON instead of text (show: with the definition as given)\n\n"
                 "Examples:\n"
                 "  gpuledger platforms\n"
                 "  gpuledger platforms show livepeer-arbitrum --json\n"
                 "  gpuledger platforms show my-market.json\n\n"
                 "Exit status: 0 printed, 2 bad usage or an invalid definition.\n");
}

static json_t *json_hex(const uint8_t *data, size_t n)
{
    char tmp[2 * 32 + 3];
    gl_hex_encode(data, n, true, tmp);
    return json_string(tmp);
}

static json_t *abis_json(const gl_abi_range *r, size_t n)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *evs = json_array();
        for (size_t j = 0; j < r[i].nevents; j++) {
            const gl_abi_sig *sg = &r[i].events[j];
            json_array_append_new(evs, json_pack("{s:s, s:s, s:o, s:b}", "name", sg->name, "signature",
                                                 sg->canonical, "topic0",
                                                 sg->anonymous ? json_null() : json_hex(sg->hash, 32),
                                                 "anonymous", sg->anonymous));
        }
        json_array_append_new(arr, json_pack("{s:I, s:o, s:o}", "from_block", (json_int_t)r[i].from_block,
                                             "to_block",
                                             r[i].to_block == GL_BLOCK_OPEN ? json_null()
                                                                            : json_integer((json_int_t)r[i].to_block),
                                             "events", evs));
    }
    return arr;
}

/* The definition as JSON: parsed facts, with the role mappings copied from
 * the file (`doc`, may be NULL) since they are what a reader wrote. */
static json_t *platform_json(const gl_platform *p, const json_t *doc)
{
    json_t *o = json_object();
    json_object_set_new(o, "name", json_string(p->name));
    json_object_set_new(o, "platform", json_string(p->platform));
    json_object_set_new(o, "chain_id", json_integer((json_int_t)p->chain_id));
    json_object_set_new(o, "confirmations", json_integer((json_int_t)p->confirmations));
    json_object_set_new(o, "description", p->description ? json_string(p->description) : json_null());
    json_object_set_new(o, "origin", json_string(p->origin));
    json_object_set_new(o, "digest", json_hex(p->digest, 32));
    json_t *cs = json_array();
    for (size_t i = 0; i < p->ncontracts; i++) {
        const gl_contract_def *c = &p->contracts[i];
        json_array_append_new(cs, json_pack("{s:s, s:o, s:I, s:o}", "name", c->name, "address",
                                            json_hex(c->address, 20), "start_block", (json_int_t)c->start_block,
                                            "abis", abis_json(c->abis, c->nabis)));
    }
    json_object_set_new(o, "contracts", cs);
    json_t *fs = json_array();
    for (size_t i = 0; i < p->nfactories; i++) {
        const gl_factory_def *f = &p->factories[i];
        json_array_append_new(fs, json_pack("{s:s, s:s, s:s, s:s, s:o}", "name", f->name, "factory",
                                            p->contracts[f->factory].name, "event", f->event, "address_field",
                                            f->address_field, "abis", abis_json(f->abis, f->nabis)));
    }
    json_object_set_new(o, "factories", fs);
    json_t *evs = json_object();
    const json_t *given = json_object_get(doc, "events");
    for (size_t i = 0; i < p->nevents; i++) {
        const gl_event_map *m = &p->events[i];
        json_t *e = json_object();
        json_object_set_new(e, "kind", json_string(gl_event_kind_name(m->kind)));
        json_t *roles = json_object();
        const json_t *g = json_object_get(given, m->event);
        for (int r = 0; r < GL_ROLE_COUNT; r++) {
            const json_t *src = json_object_get(g, gl_role_name((gl_role)r));
            if (m->roles[r].kind != GL_SRC_NONE && src)
                json_object_set(roles, gl_role_name((gl_role)r), (json_t *)src);
        }
        json_object_set_new(e, "roles", roles);
        json_object_set_new(evs, m->event, e);
    }
    json_object_set_new(o, "events", evs);
    return o;
}

/* The text of a role source as written in the file. */
static void source_text(const json_t *src, char *out, size_t cap)
{
    if (json_is_string(src)) {
        snprintf(out, cap, "%s", json_string_value(src));
        return;
    }
    char *d = json_dumps(src, JSON_COMPACT | JSON_PRESERVE_ORDER);
    snprintf(out, cap, "%s", d ? d : "?");
    free(d);
}

static void print_abis(const json_t *abis, const char *indent)
{
    size_t i, j;
    json_t *r, *e;
    json_array_foreach(abis, i, r)
    {
        json_t *to = json_object_get(r, "to_block");
        char range[64];
        if (json_is_integer(to))
            snprintf(range, sizeof range, "blocks %" JSON_INTEGER_FORMAT "..%" JSON_INTEGER_FORMAT,
                     json_integer_value(json_object_get(r, "from_block")), json_integer_value(to));
        else
            snprintf(range, sizeof range, "blocks %" JSON_INTEGER_FORMAT "..",
                     json_integer_value(json_object_get(r, "from_block")));
        printf("%s%s\n", indent, range);
        json_array_foreach(json_object_get(r, "events"), j, e)
        {
            json_t *t0 = json_object_get(e, "topic0");
            printf("%s  %-66s %s\n", indent, json_string_value(json_object_get(e, "signature")),
                   json_is_string(t0) ? json_string_value(t0) : "(anonymous)");
        }
    }
}

static void print_detail(const json_t *o)
{
    printf("%s: %s on chain %" JSON_INTEGER_FORMAT " (%" JSON_INTEGER_FORMAT " confirmations)\n",
           json_string_value(json_object_get(o, "name")), json_string_value(json_object_get(o, "platform")),
           json_integer_value(json_object_get(o, "chain_id")), json_integer_value(json_object_get(o, "confirmations")));
    printf("  origin  %s\n  digest  %s\n", json_string_value(json_object_get(o, "origin")),
           json_string_value(json_object_get(o, "digest")));
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(o, "contracts"), i, c)
    {
        printf("  contract %s %s from block %" JSON_INTEGER_FORMAT "\n", json_string_value(json_object_get(c, "name")),
               json_string_value(json_object_get(c, "address")),
               json_integer_value(json_object_get(c, "start_block")));
        print_abis(json_object_get(c, "abis"), "    ");
    }
    json_array_foreach(json_object_get(o, "factories"), i, c)
    {
        printf("  factory %s: %s.%s announces a contract in '%s'\n", json_string_value(json_object_get(c, "name")),
               json_string_value(json_object_get(c, "factory")), json_string_value(json_object_get(c, "event")),
               json_string_value(json_object_get(c, "address_field")));
        print_abis(json_object_get(c, "abis"), "    ");
    }
    const char *ev;
    json_t *e;
    json_object_foreach((json_t *)json_object_get(o, "events"), ev, e)
    {
        printf("  event %s (%s)\n", ev, json_string_value(json_object_get(e, "kind")));
        const char *role;
        json_t *src;
        json_object_foreach(json_object_get(e, "roles"), role, src)
        {
            char text[512];
            source_text(src, text, sizeof text);
            printf("    %-16s %s\n", role, text);
        }
    }
}

static void print_summary(const json_t *o)
{
    size_t i;
    json_t *c;
    printf("%-22s %-10s %10" JSON_INTEGER_FORMAT "\n", json_string_value(json_object_get(o, "name")),
           json_string_value(json_object_get(o, "platform")), json_integer_value(json_object_get(o, "chain_id")));
    json_array_foreach(json_object_get(o, "contracts"), i, c)
        printf("    contract %-22s %s  start block %" JSON_INTEGER_FORMAT "\n",
               json_string_value(json_object_get(c, "name")), json_string_value(json_object_get(c, "address")),
               json_integer_value(json_object_get(c, "start_block")));
    json_array_foreach(json_object_get(o, "factories"), i, c)
        printf("    factory  %-22s contracts announced by %s.%s\n", json_string_value(json_object_get(c, "name")),
               json_string_value(json_object_get(c, "factory")), json_string_value(json_object_get(c, "event")));
    const char *ev;
    json_t *e;
    printf("    events  ");
    int k = 0;
    json_object_foreach((json_t *)json_object_get(o, "events"), ev, e)
        printf("%s %s (%s)", k++ ? "," : "", ev, json_string_value(json_object_get(e, "kind")));
    printf("\n");
}

/* The built-in whose file is NAME.json: its parsed JSON, or NULL. */
static json_t *builtin_doc(const char *name)
{
    size_t n = 0, len = strlen(name);
    const gl_platform_builtin *b = gl_platform_builtins(&n);
    for (size_t i = 0; i < n && b[i].file; i++)
        if (strlen(b[i].file) == len + 5 && !strncmp(b[i].file, name, len))
            return json_loads(b[i].json, 0, NULL);
    return NULL;
}

static int list(bool as_json)
{
    size_t n = 0;
    const gl_platform_builtin *b = gl_platform_builtins(&n);
    json_t *all = json_array();
    int status = 0;
    for (size_t i = 0; i < n && b[i].file; i++) {
        gl_err err = {0};
        json_error_t je;
        json_t *doc = json_loads(b[i].json, JSON_REJECT_DUPLICATES, &je);
        gl_platform *p = NULL;
        char origin[128];
        snprintf(origin, sizeof origin, "builtin:%.*s", (int)(strlen(b[i].file) - 5), b[i].file);
        if (!doc)
            gl_err_set(&err, GL_EINVAL, "%s: line %d: %s", origin, je.line, je.text);
        else
            gl_platform_load_json(&p, doc, origin, &err);
        if (!p) {
            fprintf(stderr, "gpuledger platforms: %s\n", err.msg);
            status = 2;
        } else {
            json_t *o = platform_json(p, doc);
            json_object_set_new(o, "file", json_string(b[i].file));
            json_array_append_new(all, o);
        }
        gl_platform_free(p);
        json_decref(doc);
    }
    if (as_json) {
        json_dumpf(all, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        fputc('\n', stdout);
    } else {
        printf("%-22s %-10s %10s\n", "NAME", "PLATFORM", "CHAIN");
        size_t i;
        json_t *o;
        json_array_foreach(all, i, o)
            print_summary(o);
        printf("\n%zu built-in definitions; `gpuledger platforms show NAME` for ABIs and role mappings\n",
               json_array_size(all));
    }
    json_decref(all);
    return status;
}

static int show(const char *what, bool as_json)
{
    gl_err err = {0};
    gl_platform *p = NULL;
    if (gl_platform_resolve(&p, what, &err)) {
        fprintf(stderr, "gpuledger platforms: %s\n", err.msg);
        return 2;
    }
    json_t *doc = NULL;
    size_t len = strlen(what);
    if (strchr(what, '/') || (len > 5 && !strcmp(what + len - 5, ".json")))
        doc = json_load_file(what, 0, NULL);
    else
        doc = builtin_doc(what);
    json_t *o = platform_json(p, doc);
    if (as_json) {
        json_object_set(o, "definition", doc ? doc : json_null());
        json_dumpf(o, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        fputc('\n', stdout);
    } else {
        print_detail(o);
        printf("valid\n");
    }
    json_decref(o);
    json_decref(doc);
    gl_platform_free(p);
    return 0;
}

int cmd_platforms(int argc, char **argv)
{
    bool as_json = false;
    const char *sub = NULL, *arg = NULL;
    static const struct option opts[] = {
        {"json", no_argument, 0, 'j'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    int c;
    cli_opt_reset();
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        if (c == 'j')
            as_json = true;
        else if (c == 'h') {
            usage(stdout);
            return 0;
        } else
            return cli_opt_error("platforms", c, argv);
    }
    for (int i = optind; i < argc; i++) {
        if (!sub)
            sub = argv[i];
        else if (!arg)
            arg = argv[i];
        else {
            fprintf(stderr, "gpuledger platforms: unexpected argument '%s'\n", argv[i]);
            usage(stderr);
            return 2;
        }
    }
    if (!sub || !strcmp(sub, "list")) {
        if (arg) {
            fprintf(stderr, "gpuledger platforms: unexpected argument '%s'\n", arg);
            return 2;
        }
        return list(as_json);
    }
    if (!strcmp(sub, "show")) {
        if (!arg) {
            fprintf(stderr, "gpuledger platforms show: a NAME or FILE is required\n");
            usage(stderr);
            return 2;
        }
        return show(arg, as_json);
    }
    fprintf(stderr, "gpuledger platforms: unknown subcommand '%s'\n", sub);
    usage(stderr);
    return 2;
}
