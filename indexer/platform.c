/* platform.c - load, validate and apply platform definitions (see
 * platform.h and docs/PLATFORMS.md).
 *
 * Validation is strict and positional: every error carries the origin (file
 * or builtin name) and the JSON path of the offending field, because these
 * files are written by hand and a silent misreading would mis-attribute
 * money.  Unknown keys are errors for the same reason.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "gpuledger/bytes.h"
#include "gpuledger/keccak.h"
#include "gpuledger/platform.h"
#include "gpuledger/u256.h"

/* ---------------------------------------------------------------- names */

static const char *const role_names[GL_ROLE_COUNT] = {
    [GL_ROLE_BUYER] = "buyer",
    [GL_ROLE_BENEFICIARY] = "beneficiary",
    [GL_ROLE_PROVIDER] = "provider",
    [GL_ROLE_PAYER] = "payer",
    [GL_ROLE_AMOUNT] = "amount",
    [GL_ROLE_TOKEN] = "token",
    [GL_ROLE_LEASE_ID] = "lease_id",
    [GL_ROLE_GPU_MODEL] = "gpu_model",
    [GL_ROLE_GPU_COUNT] = "gpu_count",
    [GL_ROLE_HOURS] = "hours",
    [GL_ROLE_DURATION_SECONDS] = "duration_seconds",
    [GL_ROLE_DURATION_BLOCKS] = "duration_blocks",
    [GL_ROLE_DURATION] = "duration",
};

const char *gl_role_name(gl_role role) { return role < GL_ROLE_COUNT ? role_names[role] : "?"; }

static const char *const kind_names[] = {
    [GL_EVENT_OFFER] = "offer",           [GL_EVENT_LEASE] = "lease",
    [GL_EVENT_EXTENSION] = "extension",   [GL_EVENT_SETTLEMENT] = "settlement",
    [GL_EVENT_PAYMENT] = "payment",       [GL_EVENT_DEPOSIT] = "deposit",
    [GL_EVENT_WITHDRAWAL] = "withdrawal", [GL_EVENT_TRANSFER] = "transfer",
    [GL_EVENT_REGISTRATION] = "registration", [GL_EVENT_OTHER] = "other",
};
#define NKINDS (sizeof kind_names / sizeof kind_names[0])

const char *gl_event_kind_name(gl_event_kind kind)
{
    return (size_t)kind < NKINDS ? kind_names[kind] : "?";
}

/* ---------------------------------------------------------------- helpers */

/* Validation state: where we are, for messages. */
typedef struct loader {
    const char *origin;
    gl_err *err;
} loader;

static gl_code bad(loader *L, const char *path, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static gl_code bad(loader *L, const char *path, const char *fmt, ...)
{
    char what[GL_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return gl_err_set(L->err, GL_EINVAL, "%s: %s: %s", L->origin, path, what);
}

static char *dup_str(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    return d ? memcpy(d, s, n) : NULL;
}

static gl_code nomem(loader *L) { return gl_err_set(L->err, GL_ENOMEM, "%s: out of memory", L->origin); }

/* Allowed keys of an object; anything else is an error naming the key. */
static gl_code check_keys(loader *L, const json_t *obj, const char *path, const char *const *keys)
{
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)obj, k, v) {
        bool ok = false;
        for (size_t i = 0; keys[i] && !ok; i++)
            ok = !strcmp(k, keys[i]);
        if (!ok)
            return bad(L, path, "unknown key \"%s\"", k);
    }
    return GL_OK;
}

static gl_code get_string(loader *L, const json_t *obj, const char *path, const char *key, bool required,
                          char **out)
{
    *out = NULL;
    json_t *v = json_object_get(obj, key);
    if (!v || json_is_null(v)) {
        if (required)
            return bad(L, path, "missing \"%s\"", key);
        return GL_OK;
    }
    if (!json_is_string(v))
        return bad(L, path, "\"%s\" must be a string", key);
    if (!(*out = dup_str(json_string_value(v))))
        return nomem(L);
    return GL_OK;
}

static gl_code get_u64(loader *L, const json_t *obj, const char *path, const char *key, bool required,
                       uint64_t dflt, uint64_t *out)
{
    *out = dflt;
    json_t *v = json_object_get(obj, key);
    if (!v || json_is_null(v))
        return required ? bad(L, path, "missing \"%s\"", key) : GL_OK;
    if (!json_is_integer(v) || json_integer_value(v) < 0)
        return bad(L, path, "\"%s\" must be a non-negative integer", key);
    *out = (uint64_t)json_integer_value(v);
    return GL_OK;
}

/* EIP-55: in a mixed-case address, letter i is upper case iff nibble i of
 * keccak(lowercase hex) is >= 8. */
static gl_code parse_address(loader *L, const char *path, const char *s, uint8_t out[20])
{
    gl_err e;
    if (gl_hex_decode_exact(s, out, 20, &e))
        return bad(L, path, "bad address \"%s\": %s", s, e.msg);
    const char *hex = s + 2;
    bool upper = false, lower = false;
    for (size_t i = 0; i < 40; i++) {
        upper |= isupper((unsigned char)hex[i]) != 0;
        lower |= islower((unsigned char)hex[i]) != 0;
    }
    if (!(upper && lower))
        return GL_OK;
    char low[41];
    for (size_t i = 0; i < 40; i++)
        low[i] = (char)tolower((unsigned char)hex[i]);
    uint8_t h[32];
    gl_keccak256(low, 40, h);
    for (size_t i = 0; i < 40; i++) {
        if (!isalpha((unsigned char)hex[i]))
            continue;
        int nib = (h[i / 2] >> (i % 2 ? 0 : 4)) & 15;
        if ((nib >= 8) != (isupper((unsigned char)hex[i]) != 0))
            return bad(L, path, "address \"%s\" has a bad EIP-55 checksum", s);
    }
    return GL_OK;
}

static bool valid_name(const char *s)
{
    if (!*s || !(islower((unsigned char)*s) || isdigit((unsigned char)*s)))
        return false;
    for (; *s; s++)
        if (!(islower((unsigned char)*s) || isdigit((unsigned char)*s) || strchr("._-", *s)))
            return false;
    return true;
}

/* ---------------------------------------------------------------- ABIs */

static void abi_ranges_free(gl_abi_range *r, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < r[i].nevents; j++)
            gl_abi_sig_release(&r[i].events[j]);
        free(r[i].events);
    }
    free(r);
}

static gl_code load_abis(loader *L, const json_t *arr, const char *path, uint64_t start_block,
                         gl_abi_range **out, size_t *nout)
{
    static const char *const keys[] = {"from_block", "to_block", "events", NULL};
    char p[256];
    *out = NULL;
    *nout = 0;
    if (!json_is_array(arr) || json_array_size(arr) == 0)
        return bad(L, path, "must be a non-empty array of ABI ranges");
    size_t n = json_array_size(arr);
    gl_abi_range *r = calloc(n, sizeof *r);
    if (!r)
        return nomem(L);
    gl_code rc = GL_OK;
    for (size_t i = 0; i < n && !rc; i++) {
        const json_t *o = json_array_get(arr, i);
        snprintf(p, sizeof p, "%s[%zu]", path, i);
        if (!json_is_object(o)) {
            rc = bad(L, p, "must be an object");
            break;
        }
        if ((rc = check_keys(L, o, p, keys)))
            break;
        if ((rc = get_u64(L, o, p, "from_block", false, start_block, &r[i].from_block)))
            break;
        if ((rc = get_u64(L, o, p, "to_block", false, GL_BLOCK_OPEN, &r[i].to_block)))
            break;
        if (r[i].from_block < start_block) {
            rc = bad(L, p, "from_block %llu is before the contract's start_block %llu",
                     (unsigned long long)r[i].from_block, (unsigned long long)start_block);
            break;
        }
        if (r[i].to_block < r[i].from_block) {
            rc = bad(L, p, "to_block is before from_block");
            break;
        }
        for (size_t j = 0; j < i; j++)
            if (r[i].from_block <= r[j].to_block && r[j].from_block <= r[i].to_block) {
                rc = bad(L, p, "block range overlaps %s[%zu]", path, j);
                break;
            }
        if (rc)
            break;
        const json_t *evs = json_object_get(o, "events");
        if (!json_is_array(evs) || json_array_size(evs) == 0) {
            rc = bad(L, p, "\"events\" must be a non-empty array of event declarations");
            break;
        }
        r[i].events = calloc(json_array_size(evs), sizeof *r[i].events);
        if (!r[i].events) {
            rc = nomem(L);
            break;
        }
        for (size_t j = 0; j < json_array_size(evs); j++) {
            char ep[300];
            snprintf(ep, sizeof ep, "%s.events[%zu]", p, j);
            const char *decl = json_string_value(json_array_get(evs, j));
            if (!decl) {
                rc = bad(L, ep, "must be a string");
                break;
            }
            gl_err e;
            if (gl_abi_sig_parse(&r[i].events[j], decl, &e)) {
                rc = bad(L, ep, "%s", e.msg);
                break;
            }
            r[i].nevents++;
            if (r[i].events[j].kind == GL_ABI_SIG_FUNCTION) {
                rc = bad(L, ep, "\"%s\" is a function, not an event", decl);
                break;
            }
            for (size_t k = 0; k < j; k++)
                if (!strcmp(r[i].events[k].name, r[i].events[j].name)) {
                    rc = bad(L, ep, "event %s is declared twice", r[i].events[j].name);
                    break;
                }
        }
    }
    if (rc) {
        abi_ranges_free(r, n);
        return rc;
    }
    *out = r;
    *nout = n;
    return GL_OK;
}

static const gl_abi_sig *abi_event_named(const gl_abi_range *r, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < r[i].nevents; j++)
            if (!strcmp(r[i].events[j].name, name))
                return &r[i].events[j];
    return NULL;
}

/* Is `field` a parameter of `ev`? */
static const gl_abi_param *event_param(const gl_abi_sig *ev, const char *field)
{
    for (size_t i = 0; i < ev->inputs->ncomps; i++)
        if (!strcmp(ev->inputs->comps[i].name, field))
            return &ev->inputs->comps[i];
    return NULL;
}

/* ---------------------------------------------------------------- roles */

static void source_release(gl_role_source *s)
{
    free(s->field);
    free(s->join_event);
    free(s->join_key);
    free(s->join_on);
    if (s->kind == GL_SRC_PATTERN)
        regfree(&s->re);
    memset(s, 0, sizeof *s);
}

/* {"field", "per": "block", "scale_decimals": N} (the amount role): a rate
 * per block in N-decimal fixed point, turned into a total by
 * gl_platform_resolve_rate once the event's blocks and token are known. */
static gl_code load_rate(loader *L, const json_t *v, const char *path, gl_role role, const gl_abi_param *prm,
                         const gl_abi_sig *ev, gl_role_source *s)
{
    char *per = NULL;
    gl_code rc = get_string(L, v, path, "per", true, &per);
    if (rc)
        return rc;
    const json_t *sd = json_object_get(v, "scale_decimals");
    if (role != GL_ROLE_AMOUNT)
        rc = bad(L, path, "\"per\" belongs to the amount role only");
    else if (strcmp(per, "block"))
        rc = bad(L, path, "unknown \"per\": \"%s\" (only \"block\")", per);
    else if (!json_is_integer(sd) || json_integer_value(sd) < 0 || json_integer_value(sd) > 77)
        rc = bad(L, path, "a rate needs \"scale_decimals\", an integer in 0..77");
    else if (prm->type->kind != GL_ABI_UINT)
        rc = bad(L, path, "field \"%s\" of %s is not an unsigned integer", s->field, ev->name);
    free(per);
    if (!rc) {
        s->per = GL_UNIT_BLOCKS;
        s->scale_decimals = (unsigned)json_integer_value(sd);
    }
    return rc;
}

/* {"field", "unit"} (the duration role), {"field", "as": "text"} or
 * {"field", "per", "scale_decimals"} (the amount role): a plain field, read
 * in a stated way. */
static gl_code load_typed_field(loader *L, const gl_platform *p, const json_t *v, const char *path, gl_role role,
                                const gl_abi_sig *ev, gl_role_source *s)
{
    static const char *const keys[] = {"field", "unit", "as", "per", "scale_decimals", NULL};
    gl_code rc = check_keys(L, v, path, keys);
    char *unit = NULL, *as = NULL;
    if (rc || (rc = get_string(L, v, path, "field", true, &s->field)) ||
        (rc = get_string(L, v, path, "unit", false, &unit)) || (rc = get_string(L, v, path, "as", false, &as)))
        goto out;
    const gl_abi_param *prm = event_param(ev, s->field);
    if (!prm) {
        rc = bad(L, path, "event %s has no field \"%s\"", ev->name, s->field);
        goto out;
    }
    s->kind = GL_SRC_FIELD;
    bool rate = json_object_get(v, "per") || json_object_get(v, "scale_decimals");
    if ((unit != NULL) + (as != NULL) + rate > 1) {
        rc = bad(L, path, "a source has one of \"unit\", \"as\" or \"per\"");
    } else if (rate) {
        rc = load_rate(L, v, path, role, prm, ev, s);
    } else if (unit) {
        static const char *const units[] = {[GL_UNIT_SECONDS] = "seconds", [GL_UNIT_MINUTES] = "minutes",
                                            [GL_UNIT_HOURS] = "hours", [GL_UNIT_BLOCKS] = "blocks"};
        for (int u = GL_UNIT_SECONDS; u <= GL_UNIT_BLOCKS && !s->unit; u++)
            if (!strcmp(unit, units[u]))
                s->unit = (gl_duration_unit)u;
        if (role != GL_ROLE_DURATION)
            rc = bad(L, path, "\"unit\" belongs to the duration role only");
        else if (!s->unit)
            rc = bad(L, path, "unknown unit \"%s\" (seconds, minutes, hours or blocks)", unit);
        else if (s->unit == GL_UNIT_BLOCKS && !p->block_time_ms)
            rc = bad(L, path, "a duration in blocks needs the definition's block_time_seconds");
        else if (prm->type->kind != GL_ABI_UINT)
            rc = bad(L, path, "field \"%s\" of %s is not an unsigned integer", s->field, ev->name);
    } else {
        if (strcmp(as, "text"))
            rc = bad(L, path, "unknown \"as\": \"%s\" (only \"text\")", as);
        else if (role == GL_ROLE_DURATION)
            rc = bad(L, path, "a duration is {\"field\", \"unit\"}");
        else if (prm->type->kind != GL_ABI_FIXED_BYTES && prm->type->kind != GL_ABI_BYTES)
            rc = bad(L, path, "field \"%s\" of %s is not bytesN or bytes, which \"as\": \"text\" reads", s->field,
                     ev->name);
        else if (prm->indexed && prm->type->kind == GL_ABI_BYTES)
            rc = bad(L, path, "field \"%s\" of %s is indexed: its topic is a hash, not the text", s->field, ev->name);
        s->as_text = true;
    }
out:
    free(unit);
    free(as);
    return rc;
}

/* Parse one source (string or object form) for role `role`; `ev` is the
 * event it belongs to, used to check that fields exist. */
static gl_code load_source(loader *L, const gl_platform *p, const json_t *v, const char *path, gl_role role,
                           const gl_abi_sig *ev, gl_role_source *s)
{
    memset(s, 0, sizeof *s);
    if (role == GL_ROLE_DURATION && !(json_is_object(v) && json_object_get(v, "unit")))
        return bad(L, path, "a duration is {\"field\", \"unit\"}");
    if (json_is_string(v)) {
        const char *t = json_string_value(v);
        if (!strcmp(t, "tx.from"))
            s->kind = GL_SRC_TX_FROM;
        else if (!strcmp(t, "tx.to"))
            s->kind = GL_SRC_TX_TO;
        else if (!strcmp(t, "log.address"))
            s->kind = GL_SRC_LOG_ADDRESS;
        else if (!strcmp(t, "native")) {
            if (role != GL_ROLE_TOKEN)
                return bad(L, path, "\"native\" is only a token source");
            s->kind = GL_SRC_NATIVE;
        } else if (t[0] == '0' && t[1] == 'x') {
            if (role != GL_ROLE_TOKEN)
                return bad(L, path, "a constant address is only a token source");
            s->kind = GL_SRC_CONST_ADDRESS;
            return parse_address(L, path, t, s->address);
        } else {
            size_t n = strcspn(t, "[>");
            if (n == 0)
                return bad(L, path, "empty field name in \"%s\"", t);
            if (!(s->field = strndup(t, n)))
                return nomem(L);
            s->kind = GL_SRC_FIELD;
            const char *rest = t + n;
            char *end = NULL;
            if (rest[0] == '[') {
                unsigned long k = strtoul(rest + 1, &end, 10);
                if (end == rest + 1 || strcmp(end, "]") || k > 1000000)
                    return bad(L, path, "bad index in \"%s\" (expected name[k])", t);
                s->kind = GL_SRC_FIELD_INDEX;
                s->arg = (unsigned)k;
            } else if (rest[0] == '>') {
                unsigned long k = rest[1] == '>' ? strtoul(rest + 2, &end, 10) : 0;
                if (rest[1] != '>' || end == rest + 2 || *end || k == 0 || k >= 256)
                    return bad(L, path, "bad shift in \"%s\" (expected name>>k, 0 < k < 256)", t);
                s->kind = GL_SRC_FIELD_SHR;
                s->arg = (unsigned)k;
            }
            if (!event_param(ev, s->field))
                return bad(L, path, "event %s has no field \"%s\"", ev->name, s->field);
        }
        return GL_OK;
    }
    if (!json_is_object(v))
        return bad(L, path, "a source is a string or an object");
    if (json_object_get(v, "join")) {
        static const char *const keys[] = {"join", "on", "field", NULL};
        gl_code rc = check_keys(L, v, path, keys);
        if (rc)
            return rc;
        s->kind = GL_SRC_JOIN;
        if ((rc = get_string(L, v, path, "join", true, &s->join_event)) ||
            (rc = get_string(L, v, path, "field", true, &s->field)))
            return rc;
        const json_t *on = json_object_get(v, "on");
        if (!json_is_object(on) || json_object_size(on) != 1)
            return bad(L, path, "\"on\" must be an object with one pair {earlierField: thisField}");
        const char *k = json_object_iter_key(json_object_iter((json_t *)on));
        const json_t *val = json_object_iter_value(json_object_iter((json_t *)on));
        if (!json_is_string(val))
            return bad(L, path, "\"on\".%s must name a field of %s", k, ev->name);
        if (!(s->join_key = dup_str(k)) || !(s->join_on = dup_str(json_string_value(val))))
            return nomem(L);
        if (strcmp(s->join_on, "log.address") && !event_param(ev, s->join_on))
            return bad(L, path, "event %s has no field \"%s\" (nor is it \"log.address\")", ev->name, s->join_on);
        const gl_abi_sig *other = NULL;
        for (size_t i = 0; i < p->ncontracts && !other; i++)
            other = abi_event_named(p->contracts[i].abis, p->contracts[i].nabis, s->join_event);
        if (!other)
            return bad(L, path, "joined event %s is not declared in any contract", s->join_event);
        if (!event_param(other, s->join_key) || !event_param(other, s->field))
            return bad(L, path, "joined event %s lacks field \"%s\" or \"%s\"", s->join_event, s->join_key,
                       s->field);
        return GL_OK;
    }
    if (json_object_get(v, "unit") || json_object_get(v, "as") || json_object_get(v, "per") ||
        json_object_get(v, "scale_decimals"))
        return load_typed_field(L, p, v, path, role, ev, s);
    if (role == GL_ROLE_DURATION)
        return bad(L, path, "a duration is {\"field\", \"unit\"}");
    static const char *const keys[] = {"field", "pattern", NULL};
    gl_code rc = check_keys(L, v, path, keys);
    char *pattern = NULL;
    if (rc || (rc = get_string(L, v, path, "field", true, &s->field)) ||
        (rc = get_string(L, v, path, "pattern", true, &pattern)))
        return rc;
    if (!event_param(ev, s->field)) {
        free(pattern);
        return bad(L, path, "event %s has no field \"%s\"", ev->name, s->field);
    }
    int re_rc = regcomp(&s->re, pattern, REG_EXTENDED);
    if (re_rc) {
        char msg[128];
        regerror(re_rc, &s->re, msg, sizeof msg);
        rc = bad(L, path, "bad pattern \"%s\": %s", pattern, msg);
        free(pattern);
        return rc;
    }
    s->kind = GL_SRC_PATTERN;
    if (s->re.re_nsub < 1) {
        rc = bad(L, path, "pattern \"%s\" needs one capture group", pattern);
        free(pattern);
        return rc;
    }
    free(pattern);
    return GL_OK;
}

/* ---------------------------------------------------------------- load */

void gl_platform_free(gl_platform *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->ncontracts; i++) {
        free(p->contracts[i].name);
        abi_ranges_free(p->contracts[i].abis, p->contracts[i].nabis);
    }
    free(p->contracts);
    for (size_t i = 0; i < p->nfactories; i++) {
        free(p->factories[i].name);
        free(p->factories[i].event);
        free(p->factories[i].address_field);
        abi_ranges_free(p->factories[i].abis, p->factories[i].nabis);
    }
    free(p->factories);
    for (size_t i = 0; i < p->nevents; i++) {
        free(p->events[i].event);
        for (size_t r = 0; r < GL_ROLE_COUNT; r++)
            source_release(&p->events[i].roles[r]);
    }
    free(p->events);
    free(p->origin);
    free(p->name);
    free(p->platform);
    free(p->description);
    free(p->canonical);
    json_decref(p->tokens);
    free(p);
}

static gl_code load_contracts(loader *L, gl_platform *p, const json_t *arr)
{
    static const char *const keys[] = {"name", "address", "start_block", "abis", NULL};
    if (!json_is_array(arr) || json_array_size(arr) == 0)
        return bad(L, "contracts", "must be a non-empty array");
    size_t n = json_array_size(arr);
    if (!(p->contracts = calloc(n, sizeof *p->contracts)))
        return nomem(L);
    for (size_t i = 0; i < n; i++) {
        char path[64];
        snprintf(path, sizeof path, "contracts[%zu]", i);
        const json_t *o = json_array_get(arr, i);
        gl_contract_def *c = &p->contracts[i];
        p->ncontracts++;
        char *addr = NULL;
        gl_code rc;
        if (!json_is_object(o))
            return bad(L, path, "must be an object");
        if ((rc = check_keys(L, o, path, keys)) || (rc = get_string(L, o, path, "name", true, &c->name)) ||
            (rc = get_string(L, o, path, "address", true, &addr)))
            return rc;
        rc = parse_address(L, path, addr, c->address);
        free(addr);
        if (rc || (rc = get_u64(L, o, path, "start_block", true, 0, &c->start_block)))
            return rc;
        char ap[80];
        snprintf(ap, sizeof ap, "%s.abis", path);
        if ((rc = load_abis(L, json_object_get(o, "abis"), ap, c->start_block, &c->abis, &c->nabis)))
            return rc;
        for (size_t j = 0; j < i; j++) {
            if (!memcmp(p->contracts[j].address, c->address, 20))
                return bad(L, path, "address repeats contracts[%zu]", j);
            if (!strcmp(p->contracts[j].name, c->name))
                return bad(L, path, "name \"%s\" repeats contracts[%zu]", c->name, j);
        }
    }
    return GL_OK;
}

static gl_code load_factories(loader *L, gl_platform *p, const json_t *arr)
{
    static const char *const keys[] = {"name", "factory", "event", "address_field", "abis", NULL};
    if (!arr)
        return GL_OK;
    if (!json_is_array(arr))
        return bad(L, "factories", "must be an array");
    size_t n = json_array_size(arr);
    if (n && !(p->factories = calloc(n, sizeof *p->factories)))
        return nomem(L);
    for (size_t i = 0; i < n; i++) {
        char path[64];
        snprintf(path, sizeof path, "factories[%zu]", i);
        const json_t *o = json_array_get(arr, i);
        gl_factory_def *f = &p->factories[i];
        p->nfactories++;
        char *factory = NULL;
        gl_code rc;
        if (!json_is_object(o))
            return bad(L, path, "must be an object");
        if ((rc = check_keys(L, o, path, keys)) || (rc = get_string(L, o, path, "name", true, &f->name)) ||
            (rc = get_string(L, o, path, "factory", true, &factory)) ||
            (rc = get_string(L, o, path, "event", true, &f->event)) ||
            (rc = get_string(L, o, path, "address_field", true, &f->address_field))) {
            free(factory);
            return rc;
        }
        f->factory = SIZE_MAX;
        for (size_t j = 0; j < p->ncontracts; j++)
            if (!strcmp(p->contracts[j].name, factory))
                f->factory = j;
        if (f->factory == SIZE_MAX) {
            rc = bad(L, path, "factory \"%s\" is not one of the contracts", factory);
            free(factory);
            return rc;
        }
        free(factory);
        const gl_contract_def *fc = &p->contracts[f->factory];
        const gl_abi_sig *ev = abi_event_named(fc->abis, fc->nabis, f->event);
        if (!ev)
            return bad(L, path, "contract %s declares no event %s", fc->name, f->event);
        const gl_abi_param *par = event_param(ev, f->address_field);
        if (!par || par->type->kind != GL_ABI_ADDRESS)
            return bad(L, path, "event %s has no address field \"%s\"", f->event, f->address_field);
        char ap[80];
        snprintf(ap, sizeof ap, "%s.abis", path);
        if ((rc = load_abis(L, json_object_get(o, "abis"), ap, 0, &f->abis, &f->nabis)))
            return rc;
    }
    return GL_OK;
}

/* The declaration of event `name` anywhere in the definition. */
static const gl_abi_sig *find_declared(const gl_platform *p, const char *name)
{
    const gl_abi_sig *ev = NULL;
    for (size_t i = 0; i < p->ncontracts && !ev; i++)
        ev = abi_event_named(p->contracts[i].abis, p->contracts[i].nabis, name);
    for (size_t i = 0; i < p->nfactories && !ev; i++)
        ev = abi_event_named(p->factories[i].abis, p->factories[i].nabis, name);
    return ev;
}

static gl_code load_events(loader *L, gl_platform *p, const json_t *obj)
{
    if (!json_is_object(obj) || json_object_size(obj) == 0)
        return bad(L, "events", "must be a non-empty object of role mappings");
    if (!(p->events = calloc(json_object_size(obj), sizeof *p->events)))
        return nomem(L);
    const char *name;
    json_t *m;
    json_object_foreach((json_t *)obj, name, m) {
        char path[160];
        snprintf(path, sizeof path, "events.%s", name);
        gl_event_map *em = &p->events[p->nevents++];
        if (!(em->event = dup_str(name)))
            return nomem(L);
        const gl_abi_sig *ev = find_declared(p, name);
        if (!ev)
            return bad(L, path, "event %s is not declared in any contract's ABI", name);
        if (!json_is_object(m))
            return bad(L, path, "must be an object");
        const char *kind = json_string_value(json_object_get(m, "kind"));
        if (!kind)
            return bad(L, path, "missing \"kind\"");
        size_t k = 0;
        while (k < NKINDS && strcmp(kind_names[k], kind))
            k++;
        if (k == NKINDS)
            return bad(L, path, "unknown kind \"%s\"", kind);
        em->kind = (gl_event_kind)k;
        em->block_time_ms = p->block_time_ms;
        const char *key;
        json_t *v;
        json_object_foreach(m, key, v) {
            if (!strcmp(key, "kind"))
                continue;
            size_t r = 0;
            while (r < GL_ROLE_COUNT && strcmp(role_names[r], key))
                r++;
            if (r == GL_ROLE_COUNT)
                return bad(L, path, "unknown role \"%s\"", key);
            char rp[200];
            snprintf(rp, sizeof rp, "%s.%s", path, key);
            gl_code rc = load_source(L, p, v, rp, (gl_role)r, ev, &em->roles[r]);
            if (rc)
                return rc;
        }
        /* A rate needs the event's blocks and its token (for the decimals). */
        if (em->roles[GL_ROLE_AMOUNT].per == GL_UNIT_BLOCKS) {
            bool blocks = em->roles[GL_ROLE_DURATION_BLOCKS].kind != GL_SRC_NONE ||
                          em->roles[GL_ROLE_DURATION].unit == GL_UNIT_BLOCKS;
            if (!blocks)
                return bad(L, path, "an amount per block needs a duration_blocks role (or a duration in blocks)");
            if (em->roles[GL_ROLE_TOKEN].kind == GL_SRC_NONE)
                return bad(L, path, "an amount per block needs a token role (its decimals scale the rate)");
        }
    }
    return GL_OK;
}

gl_code gl_platform_load_json(gl_platform **out, const json_t *root, const char *origin, gl_err *err)
{
    static const char *const keys[] = {"format", "name", "platform", "description", "chain_id", "confirmations",
                                       "block_time_seconds", "tokens", "contracts", "factories", "events",
                                       "sources", NULL};
    loader L = {origin, err};
    *out = NULL;
    if (!json_is_object(root))
        return bad(&L, "(top)", "a platform definition is a JSON object");
    gl_code rc = check_keys(&L, root, "(top)", keys);
    if (rc)
        return rc;
    const char *format = json_string_value(json_object_get(root, "format"));
    if (!format)
        return bad(&L, "format", "missing; expected \"%s\"", GL_PLATFORM_FORMAT);
    if (strcmp(format, GL_PLATFORM_FORMAT))
        return bad(&L, "format", "\"%s\" is not supported (this build reads \"%s\")", format, GL_PLATFORM_FORMAT);
    gl_platform *p = calloc(1, sizeof *p);
    if (!p || !(p->origin = dup_str(origin))) {
        free(p);
        return nomem(&L);
    }
    if ((rc = get_string(&L, root, "name", "name", true, &p->name)))
        goto fail;
    if (!valid_name(p->name)) {
        rc = bad(&L, "name", "\"%s\" must match [a-z0-9][a-z0-9._-]*", p->name);
        goto fail;
    }
    if ((rc = get_string(&L, root, "platform", "platform", true, &p->platform)) ||
        (rc = get_string(&L, root, "description", "description", false, &p->description)) ||
        (rc = get_u64(&L, root, "chain_id", "chain_id", true, 0, &p->chain_id)) ||
        (rc = get_u64(&L, root, "confirmations", "confirmations", false, 12, &p->confirmations)))
        goto fail;
    if (p->chain_id == 0) {
        rc = bad(&L, "chain_id", "must be positive");
        goto fail;
    }
    const json_t *bt = json_object_get(root, "block_time_seconds");
    if (bt) {
        double secs = json_number_value(bt);
        if (!json_is_number(bt) || !(secs > 0) || secs > 86400) {
            rc = bad(&L, "block_time_seconds", "must be a number of seconds in (0, 86400]");
            goto fail;
        }
        p->block_time_ms = (uint64_t)(secs * 1000 + 0.5);
    }
    const json_t *tokens = json_object_get(root, "tokens");
    if (tokens) {
        if (!json_is_object(tokens)) {
            rc = bad(&L, "tokens", "must be an object of address -> {symbol, decimals}");
            goto fail;
        }
        const char *addr;
        json_t *t;
        json_object_foreach((json_t *)tokens, addr, t) {
            char tp[80];
            uint8_t a[20];
            snprintf(tp, sizeof tp, "tokens.%.60s", addr);
            if (strcmp(addr, "native") && (rc = parse_address(&L, tp, addr, a)))
                goto fail;
            if (!json_is_string(json_object_get(t, "symbol")) || !json_is_integer(json_object_get(t, "decimals"))) {
                rc = bad(&L, tp, "needs \"symbol\" (string) and \"decimals\" (integer)");
                goto fail;
            }
        }
        p->tokens = json_deep_copy(tokens);
    }
    if ((rc = load_contracts(&L, p, json_object_get(root, "contracts"))) ||
        (rc = load_factories(&L, p, json_object_get(root, "factories"))) ||
        (rc = load_events(&L, p, json_object_get(root, "events"))))
        goto fail;
    p->canonical = json_dumps(root, JSON_COMPACT | JSON_SORT_KEYS);
    if (!p->canonical) {
        rc = nomem(&L);
        goto fail;
    }
    gl_keccak256(p->canonical, strlen(p->canonical), p->digest);
    *out = p;
    return GL_OK;
fail:
    gl_platform_free(p);
    return rc;
}

gl_code gl_platform_load_file(gl_platform **out, const char *path, gl_err *err)
{
    json_error_t je;
    *out = NULL;
    json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
    if (!root)
        return gl_err_set(err, GL_EINVAL, "%s: line %d: %s", path, je.line, je.text);
    gl_code rc = gl_platform_load_json(out, root, path, err);
    json_decref(root);
    return rc;
}

gl_code gl_platform_resolve(gl_platform **out, const char *name_or_path, gl_err *err)
{
    size_t n = strlen(name_or_path);
    *out = NULL;
    if (strchr(name_or_path, '/') || (n > 5 && !strcmp(name_or_path + n - 5, ".json")))
        return gl_platform_load_file(out, name_or_path, err);
    size_t count;
    const gl_platform_builtin *b = gl_platform_builtins(&count);
    char known[400] = "";
    for (size_t i = 0; i < count; i++) {
        size_t len = strlen(b[i].file) - 5; /* without ".json" */
        if (len == n && !strncmp(b[i].file, name_or_path, n)) {
            json_error_t je;
            json_t *root = json_loads(b[i].json, JSON_REJECT_DUPLICATES, &je);
            if (!root)
                return gl_err_set(err, GL_EINVAL, "builtin %s: line %d: %s", b[i].file, je.line, je.text);
            char origin[128];
            snprintf(origin, sizeof origin, "builtin:%s", name_or_path);
            gl_code rc = gl_platform_load_json(out, root, origin, err);
            json_decref(root);
            return rc;
        }
        size_t used = strlen(known);
        snprintf(known + used, sizeof known - used, "%s%.*s", i ? ", " : "", (int)len, b[i].file);
    }
    return gl_err_set(err, GL_EINVAL, "unknown platform \"%s\" (built-in: %s; or give a .json file)", name_or_path,
                      known);
}

/* ---------------------------------------------------------------- lookups */

static const gl_abi_sig *range_find(const gl_abi_range *r, size_t n, uint64_t block, const uint8_t topic0[32])
{
    for (size_t i = 0; i < n; i++) {
        if (block < r[i].from_block || block > r[i].to_block)
            continue;
        for (size_t j = 0; j < r[i].nevents; j++)
            if (!r[i].events[j].anonymous && !memcmp(r[i].events[j].hash, topic0, 32))
                return &r[i].events[j];
    }
    return NULL;
}

const gl_abi_sig *gl_platform_find_event(const gl_platform *p, const uint8_t address[20], size_t factory,
                                         uint64_t block, const uint8_t topic0[32])
{
    if (factory != SIZE_MAX)
        return factory < p->nfactories
                   ? range_find(p->factories[factory].abis, p->factories[factory].nabis, block, topic0)
                   : NULL;
    for (size_t i = 0; i < p->ncontracts; i++)
        if (!memcmp(p->contracts[i].address, address, 20))
            return block >= p->contracts[i].start_block
                       ? range_find(p->contracts[i].abis, p->contracts[i].nabis, block, topic0)
                       : NULL;
    return NULL;
}

const gl_event_map *gl_platform_event_map(const gl_platform *p, const char *event_name)
{
    for (size_t i = 0; i < p->nevents; i++)
        if (!strcmp(p->events[i].event, event_name))
            return &p->events[i];
    return NULL;
}

/* ---------------------------------------------------------------- roles */

static json_t *address_json(const uint8_t a[20])
{
    char hex[43];
    return json_string(gl_hex_encode(a, 20, true, hex));
}

/* A decoded integer (decimal string) shifted right, as an address. */
static json_t *shifted_address(const json_t *v, unsigned shift)
{
    gl_u256 x;
    if (!json_is_string(v) || gl_u256_parse_dec(&x, json_string_value(v), NULL))
        return NULL;
    x = gl_u256_shr(&x, shift);
    uint8_t be[32];
    gl_u256_to_be(&x, be);
    for (size_t i = 0; i < 12; i++)
        if (be[i])
            return NULL; /* wider than an address */
    return address_json(be + 12);
}

bool gl_platform_bytes_text(const char *hex, char *out, size_t cap)
{
    if (!hex || hex[0] != '0' || (hex[1] != 'x' && hex[1] != 'X') || !cap)
        return false;
    size_t n = 0;
    bool ended = false;
    for (const char *h = hex + 2; h[0]; h += 2) {
        int hi = gl_hex_digit(h[0]), lo = h[1] ? gl_hex_digit(h[1]) : -1;
        if (hi < 0 || lo < 0)
            return false;
        unsigned b = (unsigned)(hi << 4 | lo);
        if (b == 0) {
            ended = true;
            continue;
        }
        if (ended || b < 0x20 || b > 0x7e || n + 1 >= cap)
            return false; /* text after the padding, a control or non-ASCII byte, or too long */
        out[n++] = (char)b;
    }
    out[n] = '\0';
    return n > 0;
}

uint64_t gl_platform_unit_ms(gl_duration_unit unit, uint64_t block_time_ms)
{
    switch (unit) {
    case GL_UNIT_SECONDS: return 1000;
    case GL_UNIT_MINUTES: return 60000;
    case GL_UNIT_HOURS: return 3600000;
    case GL_UNIT_BLOCKS: return block_time_ms;
    case GL_UNIT_NONE: break;
    }
    return 0;
}

static json_t *text_value(const json_t *v)
{
    char buf[256];
    return gl_platform_bytes_text(json_string_value(v), buf, sizeof buf) ? json_string(buf) : NULL;
}

static json_t *pattern_value(const gl_role_source *s, const json_t *v)
{
    const char *text = json_string_value(v);
    regmatch_t m[10];
    size_t n = s->re.re_nsub + 1 < 10 ? s->re.re_nsub + 1 : 10;
    if (!text || regexec(&s->re, text, n, m, 0))
        return NULL;
    /* POSIX ERE has no non-capturing groups, so alternatives each carry a
     * group: the value is the first group that took part in the match. */
    for (size_t g = 1; g < n; g++)
        if (m[g].rm_so >= 0)
            return json_stringn(text + m[g].rm_so, (size_t)(m[g].rm_eo - m[g].rm_so));
    return NULL;
}

gl_code gl_platform_apply_roles(json_t **roles, const gl_event_map *map, const json_t *fields,
                                const gl_log_context *ctx, gl_err *err)
{
    json_t *out = json_object(), *unknown = json_array();
    if (!out || !unknown)
        goto oom;
    for (size_t r = 0; r < GL_ROLE_COUNT; r++) {
        const gl_role_source *s = &map->roles[r];
        const json_t *f = s->field ? json_object_get(fields, s->field) : NULL;
        json_t *val = NULL;
        switch (s->kind) {
        case GL_SRC_NONE:
            continue;
        /* Decoded values are never changed after decoding: shared, not
         * copied (a copy per role per event showed in the profile). */
        case GL_SRC_FIELD:
            if (s->per != GL_UNIT_NONE)
                val = json_is_string(f) ? json_pack("{s:O, s:s, s:i}", "rate", f, "per", "block", "scale_decimals",
                                                    (int)s->scale_decimals)
                                        : NULL;
            else
                val = s->as_text ? text_value(f) : json_incref((json_t *)f);
            break;
        case GL_SRC_FIELD_INDEX:
            val = json_is_array(f) ? json_incref(json_array_get(f, s->arg)) : NULL;
            break;
        case GL_SRC_FIELD_SHR:
            val = shifted_address(f, s->arg);
            break;
        case GL_SRC_TX_FROM:
            val = ctx && ctx->tx_from ? address_json(ctx->tx_from) : NULL;
            break;
        case GL_SRC_TX_TO:
            val = ctx && ctx->tx_to ? address_json(ctx->tx_to) : NULL;
            break;
        case GL_SRC_LOG_ADDRESS:
            val = ctx && ctx->log_address ? address_json(ctx->log_address) : NULL;
            break;
        case GL_SRC_NATIVE:
            val = json_string("native");
            break;
        case GL_SRC_CONST_ADDRESS:
            val = address_json(s->address);
            break;
        case GL_SRC_PATTERN:
            val = pattern_value(s, f);
            break;
        case GL_SRC_JOIN: {
            json_t *addr = NULL;
            const json_t *on = json_object_get(fields, s->join_on);
            if (!strcmp(s->join_on, "log.address"))
                on = addr = ctx && ctx->log_address ? address_json(ctx->log_address) : NULL;
            val = on ? json_pack("{s:s, s:s, s:O, s:s}", "join", s->join_event, "key", s->join_key, "value", on,
                                 "field", s->field)
                     : NULL;
            json_decref(addr);
            break;
        }
        }
        if (val) {
            if (json_object_set_new(out, role_names[r], val))
                goto oom;
        } else if (json_array_append_new(unknown, json_string(role_names[r]))) {
            goto oom;
        }
    }
    if (json_array_size(unknown)) {
        if (json_object_set_new(out, "unknown", unknown))
            goto oom;
    } else {
        json_decref(unknown);
    }
    *roles = out;
    return GL_OK;
oom:
    json_decref(out);
    json_decref(unknown);
    *roles = NULL;
    return gl_err_set(err, GL_ENOMEM, "out of memory applying the roles of %s", map->event);
}

/* ---------------------------------------------------------------- rates */

/* x *= 10^n, or x /= 10^n rounding down; false on overflow. */
static bool scale10(gl_u256 *x, unsigned n, bool up)
{
    while (n) {
        unsigned k = n > 19 ? 19 : n;
        uint64_t f = 1;
        for (unsigned i = 0; i < k; i++)
            f *= 10;
        if (up ? gl_u256_mul_u64(x, x, f, NULL) : gl_u256_div_u64(x, NULL, x, f, NULL))
            return false;
        n -= k;
    }
    return true;
}

bool gl_platform_rate_total(gl_u256 *out, const gl_u256 *rate, uint64_t blocks, unsigned scale_decimals,
                            unsigned token_decimals)
{
    gl_u256 x;
    *out = gl_u256_from_u64(0);
    if (scale_decimals > 77 || token_decimals > 77 || gl_u256_mul_u64(&x, rate, blocks, NULL))
        return false;
    /* multiply first, so that nothing is lost before the one rounding */
    if (!scale10(&x, token_decimals, true) || !scale10(&x, scale_decimals, false))
        return false;
    *out = x;
    return true;
}

bool gl_platform_token_decimals(const gl_platform *p, const char *token, unsigned *decimals)
{
    const char *key;
    json_t *t;
    if (!p->tokens || !token)
        return false;
    json_object_foreach(p->tokens, key, t) {
        if (strcasecmp(key, token))
            continue;
        json_int_t d = json_integer_value(json_object_get(t, "decimals"));
        if (!json_is_integer(json_object_get(t, "decimals")) || d < 0 || d > 77)
            return false;
        *decimals = (unsigned)d;
        return true;
    }
    return false;
}

gl_code gl_platform_resolve_rate(json_t *roles, const gl_platform *p, const gl_event_map *map, const char **why,
                                 gl_err *err)
{
    const char *reason = NULL;
    json_t *a = json_object_get(roles, "amount");
    if (why)
        *why = NULL;
    if (map->roles[GL_ROLE_AMOUNT].per == GL_UNIT_NONE || !json_is_object(a))
        return GL_OK;
    gl_u256 rate, total;
    uint64_t blocks = 0;
    unsigned dec = 0;
    const json_t *b = json_object_get(roles, "duration_blocks");
    if (!b && map->roles[GL_ROLE_DURATION].unit == GL_UNIT_BLOCKS)
        b = json_object_get(roles, "duration");
    gl_u256 bw;
    if (!json_is_string(json_object_get(a, "rate")) ||
        gl_u256_parse_dec(&rate, json_string_value(json_object_get(a, "rate")), NULL))
        reason = "the rate cannot be read";
    else if (!json_is_string(b) || gl_u256_parse_dec(&bw, json_string_value(b), NULL) || !gl_u256_to_u64(&bw, &blocks))
        reason = "the number of blocks is unknown";
    else if (!gl_platform_token_decimals(p, json_string_value(json_object_get(roles, "token")), &dec))
        reason = "the token's decimals are unknown";
    else if (!gl_platform_rate_total(&total, &rate, blocks, map->roles[GL_ROLE_AMOUNT].scale_decimals, dec))
        reason = "the total does not fit in 256 bits";
    if (reason) {
        if (why)
            *why = reason;
        json_object_del(roles, "amount");
        return GL_OK;
    }
    char d[GL_U256_DEC_MAX];
    if (json_object_set_new(roles, "amount", json_string(gl_u256_to_dec(&total, d))))
        return gl_err_set(err, GL_ENOMEM, "out of memory resolving the rate of %s", map->event);
    return GL_OK;
}
