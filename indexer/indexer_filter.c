/* indexer_filter.c - what the indexer follows: the address filter (the
 * platform's contracts and those its factories created), the topics, and
 * the join table that resolves one event's fields from another's; rebuilt
 * from the store when a run starts or rolls back.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gpuledger/abi.h"
#include "gpuledger/block.h"
#include "gpuledger/indexer.h"
#include "gpuledger/log_reader.h"
#include "gpuledger/range_plan.h"
#include "gpuledger/secp.h"
#include "gpuledger/trie.h"
#include "gpuledger/tx.h"
#include "gpuledger/tx_check.h"
#include "indexer_int.h"

/* ------------------------------------------------------- address filter */

int ix_addr_cmp(const void *a, const void *b) { return memcmp(a, b, 20); }

const ix_addr *ix_addr_find(const gl_indexer *ix, const uint8_t a[20])
{
    return bsearch(a, ix->addrs, ix->naddrs, sizeof *ix->addrs, ix_addr_cmp);
}

/* Add a followed address (kept sorted); an address already followed keeps
 * its first entry.  *added says whether it was new. */
gl_code ix_addr_add(gl_indexer *ix, const uint8_t a[20], size_t factory, uint64_t from_block, bool *added,
                 gl_err *err)
{
    if (added)
        *added = false;
    size_t lo = 0, hi = ix->naddrs;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = memcmp(ix->addrs[mid].a, a, 20);
        if (c == 0)
            return GL_OK;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (ix->naddrs == ix->addrs_cap) {
        size_t cap = ix->addrs_cap ? 2 * ix->addrs_cap : 16;
        ix_addr *v = realloc(ix->addrs, cap * sizeof *v);
        if (!v)
            return ix_nomem(err);
        ix->addrs = v;
        ix->addrs_cap = cap;
    }
    memmove(&ix->addrs[lo + 1], &ix->addrs[lo], (ix->naddrs - lo) * sizeof *ix->addrs);
    memcpy(ix->addrs[lo].a, a, 20);
    ix->addrs[lo].factory = factory;
    ix->addrs[lo].from_block = from_block;
    ix->naddrs++;
    if (added)
        *added = true;
    return GL_OK;
}

static gl_code topic_add(gl_indexer *ix, const uint8_t t[32], gl_err *err)
{
    for (size_t i = 0; i < ix->ntopics; i++)
        if (!memcmp(ix->topics[i], t, 32))
            return GL_OK;
    uint8_t(*v)[32] = realloc(ix->topics, (ix->ntopics + 1) * sizeof *v);
    if (!v)
        return ix_nomem(err);
    ix->topics = v;
    memcpy(ix->topics[ix->ntopics++], t, 32);
    return GL_OK;
}

/* Is `name` the event factory f watches? */
static bool is_factory_event(const gl_platform *p, size_t f, const char *name)
{
    return !strcmp(p->factories[f].event, name);
}

/* The topics of the events worth fetching in a list of ABI ranges: mapped
 * events, and (factory_of contracts) the factory event. */
gl_code ix_topics_from(gl_indexer *ix, const gl_abi_range *r, size_t n, size_t contract, gl_err *err)
{
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < r[i].nevents; j++) {
            const gl_abi_sig *ev = &r[i].events[j];
            bool want = gl_platform_event_map(ix->p, ev->name) != NULL;
            for (size_t f = 0; f < ix->p->nfactories && !want && contract != SIZE_MAX; f++)
                want = ix->p->factories[f].factory == contract && is_factory_event(ix->p, f, ev->name);
            if (!want || ev->anonymous)
                continue;
            gl_code rc = topic_add(ix, ev->hash, err);
            if (rc)
                return rc;
        }
    return GL_OK;
}

/* The factory whose contract is `a` and whose event is `name`, or SIZE_MAX. */
size_t factory_of_event(const gl_platform *p, const uint8_t a[20], const char *name)
{
    for (size_t f = 0; f < p->nfactories; f++)
        if (!memcmp(p->contracts[p->factories[f].factory].address, a, 20) && is_factory_event(p, f, name))
            return f;
    return SIZE_MAX;
}

/* ------------------------------------------------------------ join table */

/* The declared type kind of `field` in event `event` anywhere in p. */
bool ix_field_kind(const gl_platform *p, const char *event, const char *field, gl_abi_kind *out)
{
    for (size_t c = 0; c < p->ncontracts + p->nfactories; c++) {
        const gl_abi_range *r = c < p->ncontracts ? p->contracts[c].abis : p->factories[c - p->ncontracts].abis;
        size_t n = c < p->ncontracts ? p->contracts[c].nabis : p->factories[c - p->ncontracts].nabis;
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < r[i].nevents; j++) {
                const gl_abi_sig *ev = &r[i].events[j];
                if (strcmp(ev->name, event))
                    continue;
                for (size_t k = 0; k < ev->inputs->ncomps; k++)
                    if (!strcmp(ev->inputs->comps[k].name, field)) {
                        *out = ev->inputs->comps[k].type->kind;
                        return true;
                    }
            }
    }
    return false;
}

gl_code ix_specs_build(gl_indexer *ix, gl_err *err)
{
    const gl_platform *p = ix->p;
    for (size_t m = 0; m < p->nevents; m++)
        for (size_t r = 0; r < GL_ROLE_COUNT; r++) {
            const gl_role_source *s = &p->events[m].roles[r];
            if (s->kind != GL_SRC_JOIN)
                continue;
            bool seen = false;
            for (size_t i = 0; i < ix->nspecs && !seen; i++)
                seen = !strcmp(ix->specs[i].event, s->join_event) && !strcmp(ix->specs[i].key, s->join_key) &&
                       !strcmp(ix->specs[i].field, s->field);
            if (seen)
                continue;
            ix_join_spec *v = realloc(ix->specs, (ix->nspecs + 1) * sizeof *v);
            if (!v)
                return ix_nomem(err);
            ix->specs = v;
            ix_join_spec *sp = &ix->specs[ix->nspecs++];
            sp->event = s->join_event;
            sp->key = s->join_key;
            sp->field = s->field;
            if (!ix_field_kind(p, s->join_event, s->field, &sp->field_kind))
                sp->field_kind = GL_ABI_UINT;
        }
    return GL_OK;
}

size_t ix_spec_find(const gl_indexer *ix, const char *event, const char *key, const char *field)
{
    for (size_t i = 0; i < ix->nspecs; i++)
        if (!strcmp(ix->specs[i].event, event) && !strcmp(ix->specs[i].key, key) &&
            !strcmp(ix->specs[i].field, field))
            return i;
    return SIZE_MAX;
}

static uint64_t jt_hash(uint32_t spec, const uint8_t key[32])
{
    uint64_t h = 1469598103934665603ULL ^ spec;
    for (size_t i = 0; i < 32; i++)
        h = (h ^ key[i]) * 1099511628211ULL;
    return h;
}

static ix_join_entry *jt_slot(gl_indexer *ix, uint32_t spec, const uint8_t key[32])
{
    size_t mask = ix->jt_cap - 1;
    for (size_t i = (size_t)jt_hash(spec, key) & mask;; i = (i + 1) & mask) {
        ix_join_entry *e = &ix->jt[i];
        if (!e->used || (e->spec == spec && !memcmp(e->key, key, 32)))
            return e;
    }
}

/* Set key -> val for spec; a later event replaces an earlier one. */
static gl_code jt_put(gl_indexer *ix, uint32_t spec, const uint8_t key[32], const uint8_t val[32], gl_err *err)
{
    if (2 * (ix->jt_n + 1) > ix->jt_cap) {
        size_t cap = ix->jt_cap ? 2 * ix->jt_cap : 64;
        ix_join_entry *old = ix->jt;
        size_t oldcap = ix->jt_cap;
        ix->jt = calloc(cap, sizeof *ix->jt);
        if (!ix->jt) {
            ix->jt = old;
            return ix_nomem(err);
        }
        ix->jt_cap = cap;
        for (size_t i = 0; i < oldcap; i++)
            if (old[i].used)
                *jt_slot(ix, old[i].spec, old[i].key) = old[i];
        free(old);
    }
    ix_join_entry *e = jt_slot(ix, spec, key);
    if (!e->used)
        ix->jt_n++;
    e->used = true;
    e->spec = spec;
    memcpy(e->key, key, 32);
    memcpy(e->val, val, 32);
    return GL_OK;
}

const ix_join_entry *ix_jt_get(gl_indexer *ix, uint32_t spec, const uint8_t key[32])
{
    if (!ix->jt_cap)
        return NULL;
    const ix_join_entry *e = jt_slot(ix, spec, key);
    return e->used ? e : NULL;
}

const gl_store_id *ix_event_id(const gl_store_event *ev, const char *name)
{
    for (size_t i = 0; i < ev->n_ids; i++)
        if (!strcmp(ev->ids[i].name, name))
            return &ev->ids[i];
    return NULL;
}

/* Learn what a stored event of this platform tells the tables: a contract
 * its factory created, join keys.  The same code runs for events as they
 * are stored and for events read back at start, so a resumed run knows
 * exactly what an uninterrupted one knew. */
gl_code ix_learn_event(gl_indexer *ix, const gl_store_event *ev, gl_err *err)
{
    gl_code rc;
    size_t f = factory_of_event(ix->p, ev->contract, ev->name);
    if (f != SIZE_MAX) {
        const gl_store_id *id = ix_event_id(ev, ix->p->factories[f].address_field);
        if (id && (rc = ix_addr_add(ix, id->value + 12, f, ev->block, NULL, err)))
            return rc;
    }
    for (size_t i = 0; i < ix->nspecs; i++) {
        if (strcmp(ix->specs[i].event, ev->name))
            continue;
        const gl_store_id *k = ix_event_id(ev, ix->specs[i].key), *v = ix_event_id(ev, ix->specs[i].field);
        if (k && v && (rc = jt_put(ix, (uint32_t)i, k->value, v->value, err)))
            return rc;
    }
    return GL_OK;
}

/* Forget what was learned past the store and learn it again from the store:
 * at start, after a rollback, after a discarded batch. */
gl_code ix_tables_rebuild(gl_indexer *ix, gl_err *err)
{
    size_t w = 0;
    for (size_t i = 0; i < ix->naddrs; i++)
        if (ix->addrs[i].factory == SIZE_MAX)
            ix->addrs[w++] = ix->addrs[i];
    ix->naddrs = w;
    if (ix->jt)
        memset(ix->jt, 0, ix->jt_cap * sizeof *ix->jt);
    ix->jt_n = 0;
    if (!ix->p->nfactories && !ix->nspecs)
        return GL_OK;
    if (!ix->has_cursor)
        return GL_OK;
    gl_store_iter *it = gl_store_iter_events(ix->s, ix->chain, 0, ix->cur.block, err);
    if (!it)
        return err ? err->code : GL_ENOMEM;
    gl_code rc = GL_OK;
    for (;;) {
        gl_store_event ev;
        bool end;
        if ((rc = gl_store_next_event(it, &ev, &end, err)) || end)
            break;
        if (strcmp(ev.platform, ix->p->name))
            continue;
        if ((rc = ix_learn_event(ix, &ev, err)))
            break;
    }
    gl_store_iter_free(it);
    return rc;
}
