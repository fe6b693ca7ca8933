/* indexer.c - the indexing pipeline and the follower (see indexer.h for
 * what is fetched, verified and stored, and why).
 *
 * Sections: types; small helpers; the address filter, join table and their
 * rebuild from the store; fetching logs; verifying blocks; building
 * records; processing a planned range; reorgs; run and follow.
 *
 * Control flow inside a pass: the processing functions return a gl_code
 * for real failures (the run stops) and leave a signal in ix->signal for
 * what the driver must do: IX_RETRY (an inconsistent answer: fetch the
 * range again), IX_REORG (the chain under the cursor changed: walk back and
 * roll back), IX_STOP (the caller asked to stop).
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

/* ------------------------------------------------------------------ types */

typedef enum ix_signal {
    IX_NONE,
    IX_RETRY,
    IX_REORG,
    IX_STOP,
} ix_signal;

/* A followed contract: from the definition (factory SIZE_MAX) or created by
 * factory `factory` at block from_block. */
typedef struct ix_addr {
    uint8_t a[20];
    size_t factory;
    uint64_t from_block;
} ix_addr;

/* A distinct (event, key, field) that some role joins on. */
typedef struct ix_join_spec {
    const char *event;
    const char *key;
    const char *field;
    gl_abi_kind field_kind; /* how the stored word turns back into a value */
} ix_join_spec;

typedef struct ix_join_entry {
    bool used;
    uint32_t spec;
    uint8_t key[32];
    uint8_t val[32];
} ix_join_entry;

/* A finding waiting for the commit that covers its block. */
typedef struct ix_finding {
    uint64_t block;
    json_t *json;
} ix_finding;

/* What was learned about one transaction behind the logs of a block. */
typedef struct ix_tx {
    uint32_t index;
    bool ok;          /* read and bound to the log's tx hash */
    bool has_from;
    gl_store_tx rec;
} ix_tx;

/* Records put into the current batch, added to the stats at commit. */
typedef struct ix_counts {
    uint64_t events, txs, blocks, transfers, logs, fetched;
} ix_counts;

struct gl_indexer {
    gl_store *s;
    gl_endpoints *e;
    gl_endpoints *pf_logs[2];  /* opts.prefetch: the next ranges' logs, a thread each */
    gl_endpoints *pf_blocks;   /* opts.prefetch: the next chunk's blocks, on a thread */
    const gl_platform *p;
    gl_indexer_opts o;
    gl_secp *secp;
    uint64_t chain;
    uint64_t conf;
    uint64_t start_block;      /* lowest start_block of the definition */
    bool has_cursor;
    gl_store_cursor cur;
    bool defhash_pending;      /* write the definition's hash with the next commit */
    bool uses_tx_roles;        /* some role reads tx.from / tx.to */

    ix_addr *addrs;            /* sorted by address */
    size_t naddrs, addrs_cap;
    uint8_t (*topics)[32];
    size_t ntopics;

    ix_join_spec *specs;
    size_t nspecs;
    ix_join_entry *jt;         /* open addressing; capacity a power of two */
    size_t jt_cap, jt_n;

    ix_finding *pend;
    size_t npend, pend_cap;

    gl_direct_plan *plans;     /* one per event signature met (see direct_plan) */
    size_t nplans, plans_cap;

    gl_store_batch *b;
    ix_counts bc;

    bool has_prev;             /* the last block whose hash is known (cursor or data block) */
    uint64_t prev_num;
    uint8_t prev_hash[32];

    bool no_block_receipts;    /* eth_getBlockReceipts failed once: per-tx receipts */
    bool parent_lenient;       /* a broken parent link is a finding, not a reorg */
    ix_signal signal;
    gl_indexer_stats st;
};

static const uint8_t zero32[32];

/* ---------------------------------------------------------------- helpers */

static void ixlog(gl_indexer *ix, int level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void ixlog(gl_indexer *ix, int level, const char *fmt, ...)
{
    if (!ix->o.log)
        return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    ix->o.log(ix->o.ctx, level, msg);
}

static bool want_stop(gl_indexer *ix) { return ix->o.stop && ix->o.stop(ix->o.ctx); }

static gl_code nomem(gl_err *err) { return gl_err_set(err, GL_ENOMEM, "out of memory while indexing"); }

static char *hex_of(const uint8_t *d, size_t n, char *buf) { return gl_hex_encode(d, n, true, buf); }

static json_t *qty_json(uint64_t v)
{
    char s[24];
    snprintf(s, sizeof s, "0x%" PRIx64, v);
    return json_string(s);
}

/* A JSON-RPC quantity: "0x.." hex string, or a JSON integer. */
static bool get_qty(const json_t *v, uint64_t *out)
{
    if (json_is_integer(v)) {
        if (json_integer_value(v) < 0)
            return false;
        *out = (uint64_t)json_integer_value(v);
        return true;
    }
    const char *s = json_string_value(v);
    gl_u256 x;
    if (!s || s[0] != '0' || (s[1] != 'x' && s[1] != 'X') || gl_u256_parse_hex(&x, s, NULL))
        return false;
    return gl_u256_to_u64(&x, out);
}

static bool get_fixed(const json_t *v, uint8_t *out, size_t n)
{
    const char *s = json_string_value(v);
    return s && gl_hex_decode_exact(s, out, n, NULL) == GL_OK;
}

/* Sleep ms milliseconds in slices, waking early when asked to stop. */
static void nap(gl_indexer *ix, uint64_t ms)
{
    while (ms > 0 && !want_stop(ix)) {
        uint64_t step = ms < 50 ? ms : 50;
        struct timespec ts = {(time_t)(step / 1000), (long)(step % 1000) * 1000000L};
        nanosleep(&ts, NULL);
        ms -= step;
    }
}

/* ------------------------------------------------------------- findings */

static json_t *finding_new(gl_indexer *ix, const char *kind, uint64_t block)
{
    json_t *f = json_object();
    if (!f)
        return NULL;
    if (json_object_set_new(f, "kind", json_string(kind)) ||
        json_object_set_new(f, "platform", json_string(ix->p->name)) ||
        json_object_set_new(f, "block", json_integer((json_int_t)block))) {
        json_decref(f);
        return NULL;
    }
    return f;
}

static void fset_hex(json_t *f, const char *key, const uint8_t *d, size_t n)
{
    char buf[2 * 32 + 3];
    if (f)
        json_object_set_new(f, key, json_string(hex_of(d, n, buf)));
}

static void fset_str(json_t *f, const char *key, const char *v)
{
    if (f && v)
        json_object_set_new(f, key, json_string(v));
}

static void fset_int(json_t *f, const char *key, uint64_t v)
{
    if (f)
        json_object_set_new(f, key, json_integer((json_int_t)v));
}

/* Queue a finding for the commit that covers its block (steals f). */
static gl_code finding_add(gl_indexer *ix, uint64_t block, json_t *f, gl_err *err)
{
    if (!f)
        return nomem(err);
    if (ix->npend == ix->pend_cap) {
        size_t cap = ix->pend_cap ? 2 * ix->pend_cap : 16;
        ix_finding *v = realloc(ix->pend, cap * sizeof *v);
        if (!v) {
            json_decref(f);
            return nomem(err);
        }
        ix->pend = v;
        ix->pend_cap = cap;
    }
    ix->pend[ix->npend].block = block;
    ix->pend[ix->npend].json = f;
    ix->npend++;
    return GL_OK;
}

/* Put the queued findings of blocks <= upto into the batch, dropping exact
 * repeats (a lie seen again by a retry is one finding). */
static gl_code findings_flush(gl_indexer *ix, uint64_t upto, gl_err *err)
{
    for (size_t i = 0; i < ix->npend; i++) {
        const ix_finding *f = &ix->pend[i];
        if (f->block > upto)
            continue;
        bool dup = false;
        for (size_t j = 0; j < i && !dup; j++)
            dup = ix->pend[j].block == f->block && json_equal(ix->pend[j].json, f->json);
        if (dup)
            continue;
        gl_code rc = gl_store_batch_put_finding(ix->b, ix->chain, f->block, f->json, NULL, err);
        if (rc)
            return rc;
        ix->st.findings++;
        char *txt = json_dumps(f->json, JSON_COMPACT | JSON_SORT_KEYS);
        ixlog(ix, 1, "finding at block %" PRIu64 ": %s", f->block, txt ? txt : "(out of memory)");
        free(txt);
    }
    size_t w = 0;
    for (size_t i = 0; i < ix->npend; i++) {
        if (ix->pend[i].block <= upto)
            json_decref(ix->pend[i].json);
        else
            ix->pend[w++] = ix->pend[i];
    }
    ix->npend = w;
    return GL_OK;
}

static void findings_clear(gl_indexer *ix)
{
    for (size_t i = 0; i < ix->npend; i++)
        json_decref(ix->pend[i].json);
    ix->npend = 0;
}

/* ------------------------------------------------------- address filter */

static int addr_cmp(const void *a, const void *b) { return memcmp(a, b, 20); }

static const ix_addr *addr_find(const gl_indexer *ix, const uint8_t a[20])
{
    return bsearch(a, ix->addrs, ix->naddrs, sizeof *ix->addrs, addr_cmp);
}

/* Add a followed address (kept sorted); an address already followed keeps
 * its first entry.  *added says whether it was new. */
static gl_code addr_add(gl_indexer *ix, const uint8_t a[20], size_t factory, uint64_t from_block, bool *added,
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
            return nomem(err);
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
        return nomem(err);
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
static gl_code topics_from(gl_indexer *ix, const gl_abi_range *r, size_t n, size_t contract, gl_err *err)
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
static size_t factory_of_event(const gl_platform *p, const uint8_t a[20], const char *name)
{
    for (size_t f = 0; f < p->nfactories; f++)
        if (!memcmp(p->contracts[p->factories[f].factory].address, a, 20) && is_factory_event(p, f, name))
            return f;
    return SIZE_MAX;
}

/* ------------------------------------------------------------ join table */

/* The declared type kind of `field` in event `event` anywhere in p. */
static bool field_kind(const gl_platform *p, const char *event, const char *field, gl_abi_kind *out)
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

static gl_code specs_build(gl_indexer *ix, gl_err *err)
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
                return nomem(err);
            ix->specs = v;
            ix_join_spec *sp = &ix->specs[ix->nspecs++];
            sp->event = s->join_event;
            sp->key = s->join_key;
            sp->field = s->field;
            if (!field_kind(p, s->join_event, s->field, &sp->field_kind))
                sp->field_kind = GL_ABI_UINT;
        }
    return GL_OK;
}

static size_t spec_find(const gl_indexer *ix, const char *event, const char *key, const char *field)
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
            return nomem(err);
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

static const ix_join_entry *jt_get(gl_indexer *ix, uint32_t spec, const uint8_t key[32])
{
    if (!ix->jt_cap)
        return NULL;
    const ix_join_entry *e = jt_slot(ix, spec, key);
    return e->used ? e : NULL;
}

static const gl_store_id *event_id(const gl_store_event *ev, const char *name)
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
static gl_code learn_event(gl_indexer *ix, const gl_store_event *ev, gl_err *err)
{
    gl_code rc;
    size_t f = factory_of_event(ix->p, ev->contract, ev->name);
    if (f != SIZE_MAX) {
        const gl_store_id *id = event_id(ev, ix->p->factories[f].address_field);
        if (id && (rc = addr_add(ix, id->value + 12, f, ev->block, NULL, err)))
            return rc;
    }
    for (size_t i = 0; i < ix->nspecs; i++) {
        if (strcmp(ix->specs[i].event, ev->name))
            continue;
        const gl_store_id *k = event_id(ev, ix->specs[i].key), *v = event_id(ev, ix->specs[i].field);
        if (k && v && (rc = jt_put(ix, (uint32_t)i, k->value, v->value, err)))
            return rc;
    }
    return GL_OK;
}

/* Forget what was learned past the store and learn it again from the store:
 * at start, after a rollback, after a discarded batch. */
static gl_code tables_rebuild(gl_indexer *ix, gl_err *err)
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
        if ((rc = learn_event(ix, &ev, err)))
            break;
    }
    gl_store_iter_free(it);
    return rc;
}

/* ---------------------------------------------------------- fetching logs */

/* Is address entry `a` followed at `block`? */
static bool addr_live(const ix_addr *a, uint64_t block) { return a->from_block <= block; }

/* What an eth_getLogs fetch reads and counts, apart from the indexer, so
 * that the prefetch thread can run one while the indexer works on the
 * range before (it then holds its own endpoint pool and copies). */
typedef struct ix_fetch {
    gl_endpoints *e;
    const ix_addr *addrs;      /* sorted by address */
    size_t naddrs;
    const uint8_t (*topics)[32];
    size_t ntopics;
    size_t per_request;        /* addresses in one filter */
    uint64_t requests;         /* eth_getLogs sent */
    uint64_t dropped;          /* logs that were not asked for */
} ix_fetch;

static size_t per_request(const gl_indexer *ix)
{
    return ix->o.addresses_per_request ? ix->o.addresses_per_request : GL_INDEXER_ADDRESSES_PER_REQUEST;
}

static ix_fetch fetch_of(gl_indexer *ix, const ix_addr *only, size_t nonly)
{
    ix_fetch f = {ix->e,       only ? only : ix->addrs, only ? nonly : ix->naddrs, (const uint8_t(*)[32])ix->topics,
                  ix->ntopics, per_request(ix), 0, 0};
    return f;
}

/* Count what f did into the indexer's figures and log. */
static void fetch_settle(gl_indexer *ix, ix_fetch *f, uint64_t lo, uint64_t hi)
{
    ix->st.log_requests += f->requests;
    if (f->dropped)
        ixlog(ix, 1, "eth_getLogs [%" PRIu64 ", %" PRIu64 "]: dropped %" PRIu64 " log(s) that were not asked for", lo,
              hi, f->dropped);
    f->requests = f->dropped = 0;
}

static bool fetch_topic(const ix_fetch *f, const uint8_t t[32])
{
    for (size_t i = 0; i < f->ntopics; i++)
        if (!memcmp(f->topics[i], t, 32))
            return true;
    return false;
}

/* One eth_getLogs over [lo, hi] for the addresses of f[first, first + n)
 * live by hi.  Logs that were not asked for (other address, topic or range:
 * an endpoint's mistake or lie) are dropped.  On failure out is as it was
 * and info (when not NULL) classifies the failure. */
static gl_code get_logs_chunk(ix_fetch *f, size_t first, size_t n, uint64_t lo, uint64_t hi, gl_logs *out,
                              gl_call_info *info, gl_err *err)
{
    json_t *flt = json_object(), *addrs = json_array(), *t0 = json_array(), *params = json_array();
    if (!flt || !addrs || !t0 || !params)
        goto oom;
    for (size_t i = first; i < first + n; i++) {
        char h[43];
        if (addr_live(&f->addrs[i], hi) && json_array_append_new(addrs, json_string(hex_of(f->addrs[i].a, 20, h))))
            goto oom;
    }
    if (!json_array_size(addrs) || !f->ntopics) {
        json_decref(flt);
        json_decref(addrs);
        json_decref(t0);
        json_decref(params);
        return GL_OK;
    }
    for (size_t i = 0; i < f->ntopics; i++) {
        char h[67];
        if (json_array_append_new(t0, json_string(hex_of(f->topics[i], 32, h))))
            goto oom;
    }
    if (json_object_set_new(flt, "fromBlock", qty_json(lo)) || json_object_set_new(flt, "toBlock", qty_json(hi)) ||
        json_object_set_new(flt, "address", addrs) || json_object_set_new(flt, "topics", json_pack("[o]", t0)) ||
        json_array_append_new(params, flt)) {
        addrs = t0 = flt = NULL;
        goto oom;
    }
    f->requests++;
    size_t before = out->n;
    gl_log_reader rd;
    gl_log_reader_init(&rd, out);
    gl_result_reader hooks = gl_log_reader_hooks(&rd);
    gl_code rc = gl_endpoints_call_stream(f->e, "eth_getLogs", params, &hooks, info, err);
    if (rc) {
        gl_logs_truncate(out, before);
        return rc;
    }
    size_t w = before;
    for (size_t i = before; i < out->n; i++) {
        gl_log *g = &out->v[i];
        const ix_addr *a = bsearch(g->address, f->addrs, f->naddrs, sizeof *f->addrs, addr_cmp);
        bool keep = !g->removed && g->block >= lo && g->block <= hi && a && a >= f->addrs + first &&
                    a < f->addrs + first + n && addr_live(a, g->block) && g->ntopics && fetch_topic(f, g->topics[0]);
        if (!keep) {
            f->dropped += !g->removed;
            free(g->data);
            continue;
        }
        out->v[w++] = *g;
    }
    out->n = w;
    return GL_OK;
oom:
    json_decref(flt);
    json_decref(addrs);
    json_decref(t0);
    json_decref(params);
    return gl_err_set(err, GL_ENOMEM, "out of memory asking for logs");
}

/* eth_getLogs over [lo, hi] for every address of f live by hi, at most
 * GL_INDEXER_ADDRESSES_PER_REQUEST addresses per request (a factory can
 * create thousands of contracts; endpoints cap the size of a filter).  Any
 * refusal fails the whole range (a range-cap refusal then splits it for
 * every chunk), with out as it was. */
static gl_code get_logs(ix_fetch *f, uint64_t lo, uint64_t hi, gl_logs *out, gl_call_info *info, gl_err *err)
{
    size_t before = out->n;
    for (size_t first = 0; first < f->naddrs; first += f->per_request) {
        size_t n = f->naddrs - first < f->per_request ? f->naddrs - first : f->per_request;
        gl_code rc = get_logs_chunk(f, first, n, lo, hi, out, info, err);
        if (rc) {
            gl_logs_truncate(out, before);
            return rc;
        }
    }
    return GL_OK;
}

/* ------------------------------------------------- a refused single block */

/* eth_getLogs over block n for the addresses f[first, first + na) and the
 * topics [t0, t0 + nt), cut in halves (addresses first, then topics) while
 * the endpoint refuses it as too large.  Every (address, topic) pair is
 * asked in exactly one filter, so nothing comes twice.  *leaf is set (and
 * nothing more asked) when a filter of one address and one topic is
 * refused: cutting cannot help.  Other failures are returned as they are. */
static gl_code logs_split(ix_fetch *f, size_t first, size_t na, size_t t0, size_t nt, uint64_t n, gl_logs *out,
                          bool *leaf, gl_err *err)
{
    ix_fetch sub = *f;
    sub.topics = f->topics + t0;
    sub.ntopics = nt;
    gl_call_info info;
    memset(&info, 0, sizeof info);
    gl_code rc = get_logs_chunk(&sub, first, na, n, n, out, &info, err);
    f->requests = sub.requests;
    f->dropped = sub.dropped;
    if (rc != GL_ERPC || info.cls != GL_RPC_ERR_RANGE_TOO_LARGE)
        return rc;
    if (na > 1) {
        size_t h = na / 2;
        rc = logs_split(f, first, h, t0, nt, n, out, leaf, err);
        return rc || *leaf ? rc : logs_split(f, first + h, na - h, t0, nt, n, out, leaf, err);
    }
    if (nt > 1) {
        size_t h = nt / 2;
        rc = logs_split(f, first, na, t0, h, n, out, leaf, err);
        return rc || *leaf ? rc : logs_split(f, first, na, t0 + h, nt - h, n, out, leaf, err);
    }
    *leaf = true;
    return GL_OK;
}

/* The receipts of block n as the endpoint gives them: eth_getBlockReceipts,
 * or one eth_getTransactionReceipt per hash of `txs` where that method is
 * missing (a fatal answer: remembered in ix->no_block_receipts). */
static gl_code block_receipts(gl_indexer *ix, gl_endpoints *e, uint64_t n, const json_t *txs, json_t **out,
                              gl_err *err)
{
    *out = NULL;
    if (!ix->no_block_receipts) {
        gl_call_info info;
        memset(&info, 0, sizeof info);
        gl_err e2;
        gl_code rc = gl_endpoints_call(e, "eth_getBlockReceipts", json_pack("[o]", qty_json(n)), out, &info, &e2);
        if (!rc && json_is_array(*out))
            return GL_OK;
        if (!rc) {
            json_decref(*out);
            *out = NULL;
            return gl_err_set(err, GL_ERPC, "eth_getBlockReceipts for block %" PRIu64 ": the answer is not an array",
                              n);
        }
        if (rc != GL_ERPC || info.cls != GL_RPC_ERR_FATAL) {
            if (err)
                *err = e2;
            return rc;
        }
        ixlog(ix, 1, "eth_getBlockReceipts failed (%s): asking for each transaction's receipt", e2.msg);
        ix->no_block_receipts = true;
    }
    size_t ntx = json_array_size(txs);
    const char **m = calloc(ntx ? ntx : 1, sizeof *m);
    json_t **p = calloc(ntx ? ntx : 1, sizeof *p), **r = calloc(ntx ? ntx : 1, sizeof *r);
    json_t *arr = json_array();
    gl_code rc = m && p && r && arr ? GL_OK : nomem(err);
    for (size_t k = 0; !rc && k < ntx; k++) {
        m[k] = "eth_getTransactionReceipt";
        if (!(p[k] = json_pack("[O]", json_array_get(txs, k))))
            rc = nomem(err);
    }
    if (!rc)
        rc = gl_endpoints_call_many(e, ntx, m, p, r, err);
    for (size_t k = 0; !rc && k < ntx; k++) {
        if (json_array_append_new(arr, r[k]))
            rc = nomem(err);
        r[k] = NULL;
    }
    for (size_t k = 0; p && k < ntx; k++) {
        json_decref(p[k]);
        if (r)
            json_decref(r[k]);
    }
    free(m);
    free(p);
    free(r);
    if (rc)
        json_decref(arr);
    else
        *out = arr;
    return rc;
}

/* One log of a proven receipt (JSON) as the gl_log eth_getLogs would have
 * given; false when it is malformed. */
static bool log_from_receipt(gl_log *g, const json_t *o, uint64_t n, uint32_t log_index, uint32_t tx_index,
                             const uint8_t block_hash[32], const uint8_t tx_hash[32], uint64_t ts)
{
    const json_t *topics = json_object_get(o, "topics");
    if (!get_fixed(json_object_get(o, "address"), g->address, 20) || !json_is_array(topics) ||
        json_array_size(topics) > 4)
        return false;
    g->ntopics = json_array_size(topics);
    for (size_t t = 0; t < g->ntopics; t++)
        if (!get_fixed(json_array_get(topics, t), g->topics[t], 32))
            return false;
    const char *data = json_string_value(json_object_get(o, "data"));
    gl_buf b = GL_BUF_INIT;
    if (!data || gl_hex_decode_buf(data, &b, NULL)) {
        gl_buf_release(&b);
        return false;
    }
    g->data = b.len ? b.data : NULL;
    g->len = b.len;
    if (!b.len)
        gl_buf_release(&b);
    g->block = n;
    g->log_index = log_index;
    g->tx_index = tx_index;
    memcpy(g->block_hash, block_hash, 32);
    memcpy(g->tx_hash, tx_hash, 32);
    g->has_ts = true;
    g->ts = ts;
    g->removed = false;
    return true;
}

/* Block n's logs that f asks for, read from its receipts once: the header
 * (eth_getBlockByNumber(n, false)) is rehashed, and the receipts must hash
 * to its receiptsRoot, one per transaction hash it lists, each naming that
 * hash.  The logs then carry what was proven: their position (the log
 * index counts the block's logs in receipt order), the header's computed
 * hash and its time.  An answer that does not hold together sets *why
 * (nothing appended); failures of the calls are returned. */
static gl_code receipt_logs_once(gl_indexer *ix, ix_fetch *f, uint64_t n, gl_logs *out, char *why, size_t cap,
                                 gl_err *err)
{
    json_t *blk = NULL, *rs = NULL;
    gl_buf *vals = NULL;
    size_t nr = 0, before = out->n;
    gl_err e2;
    gl_code rc = gl_endpoints_call(f->e, "eth_getBlockByNumber", json_pack("[o,b]", qty_json(n), 0), &blk, NULL,
                                   err);
    if (rc)
        return rc;
    gl_block_header hdr;
    gl_block_header_init(&hdr);
    uint8_t hash[32];
    const json_t *txs = json_object_get(blk, "transactions");
    if (!json_is_object(blk) || gl_block_header_from_json_ex(&hdr, blk, GL_BLOCK_FORK_GAPS, &e2)) {
        snprintf(why, cap, "the header is unreadable: %.200s", json_is_object(blk) ? e2.msg : "no block");
        goto done;
    }
    if (hdr.number != n || !json_is_array(txs)) {
        snprintf(why, cap, "the endpoint answered block %" PRIu64 "%s", hdr.number,
                 json_is_array(txs) ? "" : " without its transaction hashes");
        goto done;
    }
    if ((rc = gl_block_header_hash(&hdr, hash, err)) || (rc = block_receipts(ix, f->e, n, txs, &rs, err)))
        goto done;
    nr = json_array_size(rs);
    if (nr != json_array_size(txs)) {
        snprintf(why, cap, "%zu receipts for %zu transactions", nr, json_array_size(txs));
        goto done;
    }
    if (nr && !(vals = calloc(nr, sizeof *vals))) {
        rc = nomem(err);
        goto done;
    }
    for (size_t i = 0; i < nr; i++) {
        gl_code r2 = gl_indexer_receipt_encode(&vals[i], json_array_get(rs, i), &e2);
        if (r2 == GL_ENOMEM) {
            rc = nomem(err);
            goto done;
        }
        if (r2) {
            snprintf(why, cap, "receipt %zu: %.200s", i, e2.msg);
            goto done;
        }
    }
    uint8_t root[32];
    if ((rc = gl_trie_ordered_root(root, vals, nr, err)))
        goto done;
    if (memcmp(root, hdr.receipts_root, 32)) {
        char c1[67], c2[67];
        snprintf(why, cap, "the receipts hash to %s, the header's receiptsRoot is %s", hex_of(root, 32, c1),
                 hex_of(hdr.receipts_root, 32, c2));
        goto done;
    }
    uint64_t flat = 0;
    for (size_t i = 0; i < nr && !why[0]; i++) {
        const json_t *r = json_array_get(rs, i), *logs = json_object_get(r, "logs");
        uint8_t th[32], listed[32];
        if (!get_fixed(json_object_get(r, "transactionHash"), th, 32) ||
            !get_fixed(json_array_get(txs, i), listed, 32) || memcmp(th, listed, 32)) {
            snprintf(why, cap, "receipt %zu is not the receipt of the header's transaction %zu", i, i);
            break;
        }
        for (size_t k = 0; k < json_array_size(logs); k++, flat++) {
            gl_log probe;
            memset(&probe, 0, sizeof probe);
            if (!log_from_receipt(&probe, json_array_get(logs, k), n, (uint32_t)flat, (uint32_t)i, hash, th,
                                  hdr.timestamp)) {
                snprintf(why, cap, "receipt %zu: log %zu is malformed", i, k);
                break;
            }
            const ix_addr *a = bsearch(probe.address, f->addrs, f->naddrs, sizeof *f->addrs, addr_cmp);
            if (!a || !addr_live(a, n) || !probe.ntopics || !fetch_topic(f, probe.topics[0])) {
                free(probe.data);
                continue;
            }
            gl_log *g = gl_logs_push(out);
            if (!g) {
                free(probe.data);
                rc = nomem(err);
                goto done;
            }
            *g = probe;
        }
    }
done:
    if (rc || why[0])
        gl_logs_truncate(out, before);
    for (size_t i = 0; vals && i < nr; i++)
        gl_buf_release(&vals[i]);
    free(vals);
    gl_block_header_release(&hdr);
    json_decref(rs);
    json_decref(blk);
    return rc;
}

/* Block n's logs from its proven receipts, asked again (GL_INDEXER_RETRIES
 * times) while the answers do not hold together; then GL_ERPC naming why. */
static gl_code receipt_logs(gl_indexer *ix, ix_fetch *f, uint64_t n, gl_logs *out, gl_err *err)
{
    for (unsigned attempt = 0;; attempt++) {
        char why[256] = "";
        gl_code rc = receipt_logs_once(ix, f, n, out, why, sizeof why, err);
        if (rc || !why[0])
            return rc;
        if (attempt >= GL_INDEXER_RETRIES)
            return gl_err_set(err, GL_ERPC,
                              "block %" PRIu64 ": eth_getLogs is refused as too large and its receipts do not "
                              "prove its logs: %s",
                              n, why);
        ix->st.retries++;
        nap(ix, gl_endpoints_backoff_ms(f->e, attempt));
    }
}

/* Block n's eth_getLogs was refused as too large.  A provider under load
 * refuses spuriously, and a busy block can really exceed a cap, so: ask
 * again (GL_INDEXER_RETRIES times, after the pool's back-off), then split
 * the filter by address and by topic, and at last read the block's
 * receipts.  Appends the logs eth_getLogs would have given; on failure out
 * is as it was.  Runs on the indexer's thread (f's pool is ix->e). */
static gl_code logs_refused_block(gl_indexer *ix, ix_fetch *f, uint64_t n, gl_logs *out, gl_err *err)
{
    size_t before = out->n;
    gl_code rc = GL_OK;
    ix->st.refused_blocks++;
    for (unsigned i = 0; i < GL_INDEXER_RETRIES; i++) {
        nap(ix, gl_endpoints_backoff_ms(f->e, i));
        gl_call_info info;
        memset(&info, 0, sizeof info);
        rc = get_logs(f, n, n, out, &info, err);
        if (rc != GL_ERPC || info.cls != GL_RPC_ERR_RANGE_TOO_LARGE)
            return rc;
    }
    rc = GL_OK;
    bool leaf = false;
    for (size_t first = 0; !rc && !leaf && first < f->naddrs; first += f->per_request) {
        size_t na = f->naddrs - first < f->per_request ? f->naddrs - first : f->per_request;
        rc = logs_split(f, first, na, 0, f->ntopics, n, out, &leaf, err);
    }
    if (rc || leaf)
        gl_logs_truncate(out, before);
    if (rc)
        return rc;
    if (!leaf) {
        ix->st.split_blocks++;
        ixlog(ix, 1, "block %" PRIu64 ": eth_getLogs refused as too large; read with the filter split", n);
        return GL_OK;
    }
    if ((rc = receipt_logs(ix, f, n, out, err)))
        return rc;
    ix->st.receipt_blocks++;
    ixlog(ix, 1, "block %" PRIu64 ": eth_getLogs refused as too large, even for one address and topic; read from "
          "its receipts, proven against its receiptsRoot", n);
    return GL_OK;
}

static void plan_config(const gl_indexer *ix, gl_range_plan_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->initial_span = ix->o.initial_span ? ix->o.initial_span : GL_INDEXER_INITIAL_SPAN_DEFAULT;
    cfg->max_logs = ix->o.request_logs ? ix->o.request_logs : GL_INDEXER_REQUEST_LOGS_DEFAULT;
}

/* eth_getLogs over all of [lo, hi], split as the endpoint requires. */
static gl_code get_logs_planned(gl_indexer *ix, uint64_t lo, uint64_t hi, const ix_addr *only, size_t nonly,
                                gl_logs *out, gl_err *err)
{
    gl_range_plan plan;
    gl_range_plan_config cfg;
    plan_config(ix, &cfg);
    gl_code rc = gl_range_plan_init(&plan, lo, hi, &cfg, err);
    ix_fetch f = fetch_of(ix, only, nonly);
    uint64_t a, b;
    while (!rc && gl_range_plan_next(&plan, &a, &b)) {
        size_t before = out->n;
        gl_call_info info;
        memset(&info, 0, sizeof info);
        rc = get_logs(&f, a, b, out, &info, err);
        if (rc == GL_ERPC && info.cls == GL_RPC_ERR_RANGE_TOO_LARGE && a == b)
            rc = logs_refused_block(ix, &f, a, out, err);
        fetch_settle(ix, &f, a, b);
        if (rc == GL_ERPC && info.cls == GL_RPC_ERR_RANGE_TOO_LARGE && a != b) {
            rc = gl_range_plan_on_too_large(&plan, a, b, &info.err, err);
            continue;
        }
        if (!rc)
            rc = gl_range_plan_on_success(&plan, a, b, out->n - before, err);
    }
    return rc ? rc : gl_range_plan_status(&plan, err);
}

/* Factory events among `logs` announce contracts: follow them, and fetch
 * their logs from their creation block to hi.  Then sort everything. */
static gl_code discover(gl_indexer *ix, uint64_t hi, gl_logs *logs, gl_err *err)
{
    ix_addr *fresh = NULL;
    size_t nfresh = 0;
    uint64_t first = UINT64_MAX;
    gl_code rc = GL_OK;
    for (size_t i = 0; i < logs->n && ix->p->nfactories; i++) {
        const gl_log *g = &logs->v[i];
        const ix_addr *a = addr_find(ix, g->address);
        if (!a || a->factory != SIZE_MAX || !g->ntopics)
            continue;
        const gl_abi_sig *sig = gl_platform_find_event(ix->p, g->address, SIZE_MAX, g->block, g->topics[0]);
        size_t f = sig ? factory_of_event(ix->p, g->address, sig->name) : SIZE_MAX;
        if (f == SIZE_MAX)
            continue;
        json_t *fields = NULL;
        if (gl_abi_decode_log(&fields, sig, (const uint8_t(*)[32])g->topics, g->ntopics, g->data, g->len, 0, NULL))
            continue; /* recorded as undecodable when the event is built */
        uint8_t word[32];
        bool ok = gl_indexer_value_word(json_object_get(fields, ix->p->factories[f].address_field), word);
        json_decref(fields);
        if (!ok)
            continue;
        bool added;
        if ((rc = addr_add(ix, word + 12, f, g->block, &added, err)))
            goto done;
        if (!added)
            continue;
        ix_addr *v = realloc(fresh, (nfresh + 1) * sizeof *v);
        if (!v) {
            rc = nomem(err);
            goto done;
        }
        fresh = v;
        memcpy(fresh[nfresh].a, word + 12, 20);
        fresh[nfresh].factory = f;
        fresh[nfresh].from_block = g->block;
        nfresh++;
        if (g->block < first)
            first = g->block;
    }
    if (nfresh) {
        ixlog(ix, 0, "%zu new contract(s) created by factories from block %" PRIu64, nfresh, first);
        qsort(fresh, nfresh, sizeof *fresh, addr_cmp);
        rc = get_logs_planned(ix, first, hi, fresh, nfresh, logs, err);
    }
done:
    free(fresh);
    if (!rc)
        gl_logs_sort(logs);
    return rc;
}

/* ------------------------------------------------------------ the batch */

static gl_code batch_ensure(gl_indexer *ix, gl_err *err)
{
    if (!ix->b && !(ix->b = gl_store_batch_new(ix->s, err)))
        return err ? err->code : GL_ENOMEM;
    return GL_OK;
}

static void prev_from_cursor(gl_indexer *ix)
{
    ix->has_prev = ix->has_cursor && memcmp(ix->cur.hash, zero32, 32) != 0;
    if (ix->has_prev) {
        ix->prev_num = ix->cur.block;
        memcpy(ix->prev_hash, ix->cur.hash, 32);
    }
}

/* Drop the batch being built and what was learned with it. */
static gl_code batch_discard(gl_indexer *ix, gl_err *err)
{
    gl_store_batch_free(ix->b);
    ix->b = NULL;
    memset(&ix->bc, 0, sizeof ix->bc);
    prev_from_cursor(ix);
    return tables_rebuild(ix, err);
}

/* Commit the batch with the cursor at (block, hash). */
static gl_code batch_commit(gl_indexer *ix, uint64_t block, const uint8_t hash[32], gl_err *err)
{
    gl_code rc;
    if ((rc = batch_ensure(ix, err)) || (rc = findings_flush(ix, block, err)))
        return rc;
    /* The definition with its hash, in one batch: the analyzer reads each
     * event's kind from it, and checks it against the hash. */
    if (ix->defhash_pending &&
        ((rc = gl_store_batch_set_platform_hash(ix->b, ix->p->name, ix->chain, ix->p->digest, err)) ||
         (rc = gl_store_batch_set_platform_def(ix->b, ix->p->name, ix->chain, ix->p->canonical, err))))
        return rc;
    uint64_t appearances = gl_store_batch_appearances(ix->b);
    if ((rc = gl_store_batch_set_cursor(ix->b, ix->chain, ix->p->name, block, hash, err)) ||
        (rc = gl_store_batch_commit(ix->b, err)))
        return rc;
    ix->defhash_pending = false;
    ix->has_cursor = true;
    ix->cur.chain_id = ix->chain;
    snprintf(ix->cur.name, sizeof ix->cur.name, "%s", ix->p->name);
    ix->cur.block = block;
    memcpy(ix->cur.hash, hash, 32);
    ix->st.events += ix->bc.events;
    ix->st.txs += ix->bc.txs;
    ix->st.blocks += ix->bc.blocks;
    ix->st.transfers += ix->bc.transfers;
    ix->st.appearances += appearances;
    ix->st.logs += ix->bc.logs;
    ix->st.blocks_fetched += ix->bc.fetched;
    memset(&ix->bc, 0, sizeof ix->bc);
    ix->st.batches++;
    ix->st.cursor = block;
    return GL_OK;
}

/* -------------------------------------------------------- block contents */

/* One block holding followed logs, and what was fetched for it. */
typedef struct ix_blk {
    uint64_t num;
    gl_log *logs;
    size_t nlogs;
    json_t *block;    /* eth_getBlockByNumber(num, full), or NULL */
    bool full;        /* block holds transaction objects (else only their hashes) */
    json_t *parent;   /* eth_getBlockByNumber(num - 1, false), or NULL */
    json_t *receipts; /* array, or NULL */
} ix_blk;

/* State of one block while it is checked. */
typedef struct ix_check {
    gl_indexer *ix;
    const ix_blk *blk;
    bool strict;      /* an inconsistency makes the range be fetched again */
    bool bad;         /* answers disagreed with each other (maybe a reorg in flight) */
    bool lied;        /* the block object contradicts itself: fetch the block again */
    gl_store_block rec;
    uint8_t claimed[32];
    bool has_claimed;
    gl_block_header hdr;
    bool has_hdr;
    ix_tx *txs;
    size_t ntxs;
    bool *proven;     /* per log of the block (FULL) */
} ix_check;

static json_t *check_finding(ix_check *c, const char *kind)
{
    json_t *f = finding_new(c->ix, kind, c->blk->num);
    fset_hex(f, "block_hash", c->rec.hash, 32);
    return f;
}

/* A finding gl_tx_check made, placed as check_finding places its own
 * (steals f; NULL when out of memory). */
static json_t *check_placed(ix_check *c, json_t *f)
{
    char bh[67];
    if (f && (json_object_set_new(f, "platform", json_string(c->ix->p->name)) ||
              json_object_set_new(f, "block_hash", json_string(hex_of(c->rec.hash, 32, bh))))) {
        json_decref(f);
        return NULL;
    }
    return f;
}

/* A claim contradicted inside one answer (a lie, never a reorg): always a
 * finding, and in strict mode the block is fetched again. */
static gl_code lie(ix_check *c, json_t *f, gl_err *err)
{
    c->lied = true;
    return finding_add(c->ix, c->blk->num, f, err);
}

/* Answers that disagree with each other (possibly a reorg in flight): in
 * strict mode only a retry, in the last attempt a finding. */
static gl_code mismatch(ix_check *c, json_t *f, gl_err *err)
{
    c->bad = true;
    if (c->strict) {
        json_decref(f);
        return f ? GL_OK : nomem(err);
    }
    return finding_add(c->ix, c->blk->num, f, err);
}

/* Header: hash recomputed (HEADERS and up) or taken as claimed. */
static gl_code check_header(ix_check *c, gl_err *err)
{
    gl_indexer *ix = c->ix;
    const json_t *blk = c->blk->block;
    gl_err e2;
    if (!blk) { /* no fetch (verify none): what the logs say */
        const gl_log *g = &c->blk->logs[0];
        memcpy(c->rec.hash, g->block_hash, 32);
        c->rec.timestamp = g->ts;
        return GL_OK;
    }
    c->has_claimed = get_fixed(json_object_get(blk, "hash"), c->claimed, 32);
    if (gl_block_header_from_json_ex(&c->hdr, blk, GL_BLOCK_FORK_GAPS, &e2))
        return gl_err_set(err, GL_ERPC, "block %" PRIu64 ": the endpoint's header is unreadable: %s", c->blk->num,
                          e2.msg);
    c->has_hdr = true;
    if (c->hdr.number != c->blk->num)
        return gl_err_set(err, GL_ERPC, "asked for block %" PRIu64 ", the endpoint answered block %" PRIu64,
                          c->blk->num, c->hdr.number);
    memcpy(c->rec.parent_hash, c->hdr.parent_hash, 32);
    c->rec.timestamp = c->hdr.timestamp;
    if (ix->o.verify < GL_INDEXER_VERIFY_HEADERS) {
        if (!c->has_claimed)
            return gl_err_set(err, GL_ERPC, "block %" PRIu64 ": no hash in the endpoint's answer", c->blk->num);
        memcpy(c->rec.hash, c->claimed, 32);
        return GL_OK;
    }
    /* The hash first, from the header alone: it is what the store keeps. */
    gl_code rc = gl_block_header_hash(&c->hdr, c->rec.hash, err);
    if (rc)
        return rc;
    if (c->has_claimed && !memcmp(c->claimed, c->rec.hash, 32)) {
        c->rec.verified |= GL_STORE_BLOCK_HASH_OK;
    } else {
        json_t *f = check_finding(c, "header_hash_mismatch");
        fset_str(f, "field", "hash");
        if (c->has_claimed)
            fset_hex(f, "claimed", c->claimed, 32);
        else
            fset_str(f, "claimed", "");
        fset_hex(f, "computed", c->rec.hash, 32);
        json_t *hj = gl_block_header_to_json(&c->hdr, NULL);
        if (f && hj)
            json_object_set_new(f, "header", hj);
        else
            json_decref(hj);
        if ((rc = lie(c, f, err)))
            return rc;
    }
    /* Then the body: uncles hash, transactions root and hashes, withdrawals
     * root.  A block whose transactions this build cannot rebuild (a chain's
     * own transaction types) keeps its verified hash; only the body goes
     * unchecked, said in the log. */
    gl_block_report rep;
    gl_block_report_init(&rep);
    if (gl_block_verify_ex(NULL, blk, GL_BLOCK_FORK_GAPS, &rep, &e2)) {
        gl_block_report_release(&rep);
        ixlog(ix, 1, "block %" PRIu64 ": transactions root not checked: %s", c->blk->num, e2.msg);
        return GL_OK;
    }
    for (size_t i = 0; !rc && i < rep.n; i++) {
        const gl_block_check *k = &rep.checks[i];
        if (k->status != GL_BLOCK_MISMATCH || k->kind == GL_CHECK_HEADER_HASH)
            continue;
        json_t *f = check_finding(c, gl_block_check_finding(k->kind));
        fset_str(f, "field", k->field);
        fset_str(f, "claimed", k->claimed);
        fset_str(f, "computed", k->computed);
        fset_str(f, "reason", k->reason);
        fset_str(f, "differs", k->differs);
        rc = lie(c, f, err);
    }
    gl_block_report_release(&rep);
    return rc;
}

/* Every log must name the block hash the block has. */
static gl_code check_log_hashes(ix_check *c, gl_err *err)
{
    gl_code rc = GL_OK;
    for (size_t i = 0; !rc && i < c->blk->nlogs; i++) {
        const gl_log *g = &c->blk->logs[i];
        if (!memcmp(g->block_hash, c->rec.hash, 32))
            continue;
        json_t *f = check_finding(c, "log_block_hash_mismatch");
        fset_int(f, "log_index", g->log_index);
        fset_hex(f, "tx_hash", g->tx_hash, 32);
        fset_str(f, "field", "blockHash");
        fset_hex(f, "claimed", g->block_hash, 32);
        fset_hex(f, "computed", c->rec.hash, 32);
        rc = mismatch(c, f, err);
    }
    return rc;
}

/* The parent link: the parent's hash as stored, as the cursor holds it, as
 * this pass verified it, or recomputed from the parent's fetched header. */
static gl_code check_parent(ix_check *c, gl_err *err)
{
    gl_indexer *ix = c->ix;
    uint64_t n = c->blk->num;
    if (ix->o.verify < GL_INDEXER_VERIFY_HEADERS || n == 0 || !c->has_hdr)
        return GL_OK;
    uint8_t known[32];
    bool have = false, authoritative = false;
    if (ix->has_prev && ix->prev_num == n - 1) {
        memcpy(known, ix->prev_hash, 32);
        have = authoritative = true;
    } else {
        gl_store_block sb;
        bool found;
        gl_code rc = gl_store_get_block(ix->s, ix->chain, n - 1, &sb, &found, err);
        if (rc)
            return rc;
        if (found) {
            memcpy(known, sb.hash, 32);
            have = authoritative = true;
        } else if (c->blk->parent) {
            have = gl_block_json_hash(c->blk->parent, n - 1, known, NULL) == GL_OK;
            if (!have) {
                json_t *f = check_finding(c, "parent_mismatch");
                fset_str(f, "reason", "the parent's header is unreadable");
                return mismatch(c, f, err);
            }
        }
    }
    if (!have)
        return GL_OK;
    if (!memcmp(known, c->hdr.parent_hash, 32)) {
        c->rec.verified |= GL_STORE_BLOCK_PARENT_OK;
        return GL_OK;
    }
    if (authoritative && c->strict && !ix->parent_lenient) {
        /* The chain under what is stored may have changed: let the driver
         * look for a reorg before anything else. */
        ix->signal = IX_REORG;
        return GL_OK;
    }
    json_t *f = check_finding(c, "parent_mismatch");
    fset_str(f, "field", "parentHash");
    fset_hex(f, "claimed", c->hdr.parent_hash, 32);
    fset_hex(f, "computed", known, 32);
    fset_str(f, "reason", authoritative ? "the stored parent's hash differs" : "the parent's header hashes otherwise");
    return mismatch(c, f, err);
}

static ix_tx *tx_of(ix_check *c, uint32_t index)
{
    for (size_t i = 0; i < c->ntxs; i++)
        if (c->txs[i].index == index)
            return &c->txs[i];
    return NULL;
}

/* The transactions behind the logs: rebuilt, bound to the log's tx hash,
 * sender recovered (SENDERS and up). */
static gl_code check_txs(ix_check *c, gl_err *err)
{
    gl_indexer *ix = c->ix;
    const json_t *list = c->blk->block && c->blk->full ? json_object_get(c->blk->block, "transactions") : NULL;
    bool all_ok = c->ntxs > 0;
    gl_code rc = GL_OK;
    for (size_t i = 0; !rc && i < c->ntxs; i++) {
        ix_tx *t = &c->txs[i];
        const gl_log *g = NULL;
        for (size_t k = 0; k < c->blk->nlogs && !g; k++)
            if (c->blk->logs[k].tx_index == t->index)
                g = &c->blk->logs[k];
        t->rec.chain_id = ix->chain;
        t->rec.block = c->blk->num;
        t->rec.index = t->index;
        memcpy(t->rec.hash, g->tx_hash, 32);
        if (!list) {
            all_ok = false;
            continue;
        }
        /* high s only before EIP-2: no base fee (pre-London) stands in for that */
        unsigned flags = c->has_hdr && !(c->hdr.ext & GL_BLOCK_HAS_BASE_FEE) ? GL_TX_ALLOW_HIGH_S : 0;
        const gl_secp *secp = ix->o.verify >= GL_INDEXER_VERIFY_SENDERS ? ix->secp : NULL;
        gl_tx_checked tc;
        json_t *f;
        if ((rc = gl_tx_check(secp, &tc, &f, json_array_get(list, t->index), ix->chain, c->blk->num, t->index,
                              g->tx_hash, flags, err)))
            break;
        t->rec = tc.rec;
        t->has_from = tc.has_from;
        t->ok = true;
        all_ok = all_ok && tc.verdict == GL_TX_CHECK_SENDER_OK;
        switch (tc.verdict) {
        case GL_TX_CHECK_SENDER_OK:
        case GL_TX_CHECK_UNRECOVERED:
            break;
        case GL_TX_CHECK_SENDER_MISMATCH:
        case GL_TX_CHECK_UNRECOVERABLE:
            rc = finding_add(ix, c->blk->num, check_placed(c, f), err);
            break;
        case GL_TX_CHECK_UNSUPPORTED:
            /* A transaction type this build cannot rebuild (a chain's own
             * system transactions): nothing to check it with.  The
             * endpoint's from/to/value are kept, unverified (no SENDER_OK
             * flag), and said in the log. */
            ixlog(ix, 1, "block %" PRIu64 " tx %u: sender not checked: %s", c->blk->num, t->index, tc.reason);
            t->ok = tc.has_from;
            break;
        case GL_TX_CHECK_UNREADABLE:
        case GL_TX_CHECK_HASH_MISMATCH:
            /* Not the tx the log names: said as the log's claim, and in
             * strict mode a retry (the block may have changed under the
             * logs). */
            json_decref(f);
            t->ok = false;
            f = check_finding(c, "log_tx_mismatch");
            fset_int(f, "tx_index", t->index);
            if (tc.verdict == GL_TX_CHECK_UNREADABLE) {
                fset_hex(f, "tx_hash", g->tx_hash, 32);
                fset_str(f, "reason", tc.reason);
            } else {
                fset_str(f, "field", "transactionHash");
                fset_hex(f, "claimed", g->tx_hash, 32);
                fset_hex(f, "computed", tc.computed, 32);
            }
            rc = mismatch(c, f, err);
            break;
        }
    }
    if (!rc && all_ok && ix->o.verify >= GL_INDEXER_VERIFY_SENDERS)
        c->rec.verified |= GL_STORE_BLOCK_SENDERS_OK;
    return rc;
}

/* FULL: rebuild receiptsRoot and find every log in the proven receipts. */
/* Does a receipt's log (JSON) say what our log says: address, topics, data? */
static bool receipt_log_same(const json_t *o, const gl_log *g)
{
    uint8_t a[32];
    const json_t *topics = json_object_get(o, "topics");
    if (!get_fixed(json_object_get(o, "address"), a, 20) || memcmp(a, g->address, 20) ||
        json_array_size(topics) != g->ntopics)
        return false;
    for (size_t t = 0; t < g->ntopics; t++)
        if (!get_fixed(json_array_get(topics, t), a, 32) || memcmp(a, g->topics[t], 32))
            return false;
    const char *data = json_string_value(json_object_get(o, "data"));
    size_t n = data ? strlen(data) : 0;
    if (n < 2 || data[0] != '0' || data[1] != 'x' || (n - 2) != 2 * g->len)
        return false;
    for (size_t i = 0; i < g->len; i++) {
        int hi = gl_hex_digit((unsigned char)data[2 + 2 * i]), lo = gl_hex_digit((unsigned char)data[3 + 2 * i]);
        if (hi < 0 || lo < 0 || (uint8_t)(hi << 4 | lo) != g->data[i])
            return false;
    }
    return true;
}

static gl_code check_receipts(ix_check *c, gl_err *err)
{
    gl_indexer *ix = c->ix;
    if (ix->o.verify < GL_INDEXER_VERIFY_FULL || !c->has_hdr)
        return GL_OK;
    const json_t *rs = c->blk->receipts;
    size_t n = json_array_size(rs);
    size_t ntx = json_array_size(json_object_get(c->blk->block, "transactions"));
    gl_buf *vals = n ? calloc(n, sizeof *vals) : NULL;
    gl_code rc = GL_OK;
    if (n && !vals)
        return nomem(err);
    gl_err e2;
    const char *why = NULL;
    if (!json_is_array(rs) || n != ntx)
        why = "the receipts do not match the transactions one to one";
    for (size_t i = 0; !why && i < n; i++) {
        gl_code r2 = gl_indexer_receipt_encode(&vals[i], json_array_get(rs, i), &e2);
        if (r2 == GL_ENOMEM) {
            rc = nomem(err);
            goto done;
        }
        if (r2)
            why = e2.msg;
    }
    uint8_t root[32];
    if (!why) {
        if ((rc = gl_trie_ordered_root(root, vals, n, err)))
            goto done;
        if (memcmp(root, c->hdr.receipts_root, 32))
            why = "receiptsRoot differs";
    }
    if (why) {
        json_t *f = check_finding(c, "receipts_root_mismatch");
        fset_str(f, "field", "receiptsRoot");
        fset_hex(f, "claimed", c->hdr.receipts_root, 32);
        if (!strcmp(why, "receiptsRoot differs"))
            fset_hex(f, "computed", root, 32);
        fset_str(f, "reason", why);
        rc = mismatch(c, f, err);
        goto done;
    }
    c->rec.verified |= GL_STORE_BLOCK_RECEIPTS_OK;
    /* Walk the receipts' logs in order: their position is the log index. */
    size_t li = 0; /* next of our logs (sorted by log index) */
    uint64_t flat = 0;
    for (size_t i = 0; i < n && li < c->blk->nlogs; i++) {
        const json_t *logs = json_object_get(json_array_get(rs, i), "logs");
        for (size_t k = 0; k < json_array_size(logs) && li < c->blk->nlogs; k++, flat++) {
            const gl_log *g = &c->blk->logs[li];
            if (g->log_index != flat)
                continue;
            bool same = i == g->tx_index && receipt_log_same(json_array_get(logs, k), g);
            if (same)
                c->proven[li] = true;
            li++;
        }
    }
    for (size_t k = 0; !rc && k < c->blk->nlogs; k++) {
        if (c->proven[k])
            continue;
        json_t *f = check_finding(c, "log_not_proven");
        fset_int(f, "log_index", c->blk->logs[k].log_index);
        fset_hex(f, "tx_hash", c->blk->logs[k].tx_hash, 32);
        fset_str(f, "reason", "the log is not at its position in the proven receipts");
        rc = mismatch(c, f, err);
    }
done:
    for (size_t i = 0; i < n; i++)
        gl_buf_release(&vals[i]);
    free(vals);
    return rc;
}

/* ------------------------------------------------------- building records */

static void event_add_id(gl_store_event *ev, const char *name, const uint8_t word[32])
{
    if (!gl_store_name_ok(name) || ev->n_ids >= GL_STORE_EVENT_IDS_MAX)
        return;
    for (size_t i = 0; i < ev->n_ids; i++)
        if (!strcmp(ev->ids[i].name, name))
            return;
    snprintf(ev->ids[ev->n_ids].name, sizeof ev->ids[ev->n_ids].name, "%s", name);
    memcpy(ev->ids[ev->n_ids].value, word, 32);
    ev->n_ids++;
}

/* A stored join word back into the value form apply_roles gives. */
static json_t *word_value(const uint8_t w[32], gl_abi_kind kind)
{
    char buf[67];
    if (kind == GL_ABI_ADDRESS)
        return json_string(hex_of(w + 12, 20, buf));
    if (kind == GL_ABI_UINT) {
        gl_u256 x;
        char dec[GL_U256_DEC_MAX];
        if (gl_u256_from_be(&x, w, 32, NULL))
            return NULL;
        return json_string(gl_u256_to_dec(&x, dec));
    }
    return json_string(hex_of(w, 32, buf));
}

/* Replace each {"join": ...} in roles by the joined value, or drop it with
 * an unresolved_join finding. */
static gl_code resolve_joins(gl_indexer *ix, const gl_log *g, const char *event, json_t *roles, gl_err *err)
{
    const char *key;
    json_t *v;
    void *tmp;
    json_object_foreach_safe(roles, tmp, key, v) {
        if (!json_is_object(v) || !json_object_get(v, "join"))
            continue;
        const char *je = json_string_value(json_object_get(v, "join"));
        const char *jk = json_string_value(json_object_get(v, "key"));
        const char *jf = json_string_value(json_object_get(v, "field"));
        const json_t *val = json_object_get(v, "value");
        size_t spec = je && jk && jf ? spec_find(ix, je, jk, jf) : SIZE_MAX;
        uint8_t w[32];
        const ix_join_entry *hit = NULL;
        if (spec != SIZE_MAX && gl_indexer_value_word(val, w))
            hit = jt_get(ix, (uint32_t)spec, w);
        json_t *res = hit ? word_value(hit->val, ix->specs[spec].field_kind) : NULL;
        if (res) {
            if (json_object_set_new(roles, key, res))
                return nomem(err);
            continue;
        }
        json_t *f = finding_new(ix, "unresolved_join", g->block);
        fset_int(f, "log_index", g->log_index);
        fset_hex(f, "tx_hash", g->tx_hash, 32);
        fset_str(f, "event", event);
        fset_str(f, "role", key);
        fset_str(f, "join", je);
        fset_str(f, "key", jk);
        if (f && val)
            json_object_set(f, "value", (json_t *)val);
        fset_str(f, "reason", hit ? "the joined value cannot be read" : "no earlier event matches");
        /* Without its token an amount would read as the native coin: it
         * is dropped with the token (see build_event), kept here. */
        if (f && !strcmp(key, "token") && json_object_get(roles, "amount"))
            json_object_set(f, "amount", json_object_get(roles, "amount"));
        gl_code rc = finding_add(ix, g->block, f, err);
        if (rc)
            return rc;
        json_object_del(roles, key);
    }
    return GL_OK;
}

static bool addr_of(const json_t *v, uint8_t a[20])
{
    const char *s = json_string_value(v);
    return s && strlen(s) == 42 && gl_hex_decode_exact(s, a, 20, NULL) == GL_OK;
}

/* The first address of role `name` in roles (a string or an array). */
static bool first_addr(const json_t *roles, const char *name, uint8_t a[20])
{
    const json_t *v = json_object_get(roles, name);
    if (json_is_array(v))
        v = json_array_get(v, 0);
    return addr_of(v, a);
}

/* The direct plan for sig (see gl_indexer_direct_plan), made on first use;
 * NULL when the event needs the JSON path: no usable plan, or a join spec
 * that reads its fields.  Out of memory: NULL too (the JSON path works). */
static const gl_direct_plan *direct_plan(gl_indexer *ix, const gl_abi_sig *sig, const gl_event_map *map)
{
    for (size_t i = 0; i < ix->nplans; i++)
        if (ix->plans[i].sig == sig)
            return ix->plans[i].usable ? &ix->plans[i] : NULL;
    if (ix->nplans == ix->plans_cap) {
        size_t cap = ix->plans_cap ? 2 * ix->plans_cap : 8;
        gl_direct_plan *v = realloc(ix->plans, cap * sizeof *v);
        if (!v)
            return NULL;
        ix->plans = v;
        ix->plans_cap = cap;
    }
    gl_direct_plan *pl = &ix->plans[ix->nplans++];
    gl_indexer_direct_plan(pl, sig, map);
    for (size_t i = 0; i < ix->nspecs; i++)
        if (!strcmp(ix->specs[i].event, sig->name))
            pl->usable = false;
    return pl->usable ? pl : NULL;
}

/* src into dst (size bytes), cut to fit: what snprintf("%s") does, without
 * its format parsing, once per event. */
static void copy_name(char *dst, size_t size, const char *src)
{
    size_t n = strnlen(src, size - 1);
    memcpy(dst, src, n);
    dst[n] = '\0';
}

/* Build and put the event of one log, with its appearances and, for a
 * transfer, its transfer record.  Logs the definition does not map are
 * skipped; logs that do not decode become findings. */
static gl_code build_event(gl_indexer *ix, const gl_log *g, const ix_tx *t, bool proven, bool disputed,
                           gl_err *err)
{
    const gl_platform *p = ix->p;
    const ix_addr *a = addr_find(ix, g->address);
    if (!a || !g->ntopics)
        return GL_OK;
    const gl_abi_sig *sig = gl_platform_find_event(p, g->address, a->factory, g->block, g->topics[0]);
    if (!sig)
        return GL_OK;
    const gl_event_map *map = gl_platform_event_map(p, sig->name);
    size_t fidx = a->factory == SIZE_MAX ? factory_of_event(p, g->address, sig->name) : SIZE_MAX;
    if (!map && fidx == SIZE_MAX)
        return GL_OK;
    gl_store_event ev;
    memset(&ev, 0, sizeof ev);
    ev.chain_id = ix->chain;
    ev.block = g->block;
    ev.log_index = g->log_index;
    copy_name(ev.platform, sizeof ev.platform, p->name);
    copy_name(ev.name, sizeof ev.name, sig->name);
    memcpy(ev.contract, g->address, 20);
    memcpy(ev.tx_hash, g->tx_hash, 32);
    ev.tx_index = g->tx_index;
    bool has_from = t && t->ok && t->has_from;
    if (has_from) {
        ev.has_tx_from = true;
        memcpy(ev.tx_from, t->rec.from, 20);
        if (t->rec.flags & GL_STORE_TX_SENDER_OK)
            ev.verified |= GL_STORE_EVENT_SENDER_OK;
    }
    if (proven)
        ev.verified |= GL_STORE_EVENT_PROVEN;
    if (disputed)
        ev.verified |= GL_STORE_EVENT_DISPUTED;
    gl_log_context ctx = {has_from ? t->rec.from : NULL, t && t->ok && t->rec.has_to ? t->rec.to : NULL,
                          g->address};

    json_t *fields = NULL, *roles = NULL;
    gl_err e2;
    gl_code rc = GL_OK;
    gl_direct_ends de;
    const gl_direct_plan *plan = fidx == SIZE_MAX ? direct_plan(ix, sig, map) : NULL;
    bool direct = plan && gl_indexer_direct_fill(&ev, plan, (const uint8_t(*)[32])g->topics, g->ntopics,
                                                 g->data, g->len, &ctx, &de);
    if (!direct) {
        rc = gl_abi_decode_log(&fields, sig, (const uint8_t(*)[32])g->topics, g->ntopics, g->data, g->len, 0,
                               &e2);
        if (rc == GL_ENOMEM)
            return nomem(err);
        if (rc) {
            json_t *f = finding_new(ix, "undecodable_log", g->block);
            fset_int(f, "log_index", g->log_index);
            fset_hex(f, "tx_hash", g->tx_hash, 32);
            fset_hex(f, "contract", g->address, 20);
            fset_str(f, "event", sig->name);
            fset_str(f, "reason", e2.msg);
            return finding_add(ix, g->block, f, err);
        }
    }
    if (map && !direct) {
        if ((rc = gl_platform_apply_roles(&roles, map, fields, &ctx, err)) ||
            (rc = resolve_joins(ix, g, sig->name, roles, err)))
            goto done;
        /* A token the definition maps but this log does not give (an
         * unresolved join, an unreadable source): an amount stored without
         * it would claim the native coin, so the amount stays unknown too. */
        if (map->roles[GL_ROLE_TOKEN].kind != GL_SRC_NONE && !json_object_get(roles, "token"))
            json_object_del(roles, "amount");
        /* A rate per block becomes its total (rate x blocks, scaled to the
         * token's decimals) or, short of a basis, no amount and a finding. */
        const char *why = NULL;
        if (map->roles[GL_ROLE_AMOUNT].per != GL_UNIT_NONE) {
            json_t *rate = json_incref(json_object_get(roles, "amount"));
            if ((rc = gl_platform_resolve_rate(roles, p, map, &why, err))) {
                json_decref(rate);
                goto done;
            }
            if (why && rate) {
                json_t *f = finding_new(ix, "unpriced_rate", g->block);
                fset_int(f, "log_index", g->log_index);
                fset_hex(f, "tx_hash", g->tx_hash, 32);
                fset_str(f, "event", sig->name);
                if (f)
                    json_object_set(f, "rate", json_object_get(rate, "rate"));
                fset_str(f, "reason", why);
                rc = finding_add(ix, g->block, f, err);
            }
            json_decref(rate);
            if (rc)
                goto done;
        }
        if ((rc = gl_indexer_event_fill(&ev, map, roles, NULL, err)))
            goto done;
    }
    uint8_t w[32];
    if (fidx != SIZE_MAX && gl_indexer_value_word(json_object_get(fields, p->factories[fidx].address_field), w))
        event_add_id(&ev, p->factories[fidx].address_field, w);
    for (size_t i = 0; i < ix->nspecs; i++) {
        if (strcmp(ix->specs[i].event, sig->name))
            continue;
        uint8_t kw[32], vw[32];
        size_t need = (event_id(&ev, ix->specs[i].key) == NULL) + (event_id(&ev, ix->specs[i].field) == NULL);
        /* Both or neither: a key without its value would join to nothing. */
        if (gl_indexer_value_word(json_object_get(fields, ix->specs[i].key), kw) &&
            gl_indexer_value_word(json_object_get(fields, ix->specs[i].field), vw) &&
            ev.n_ids + need <= GL_STORE_EVENT_IDS_MAX) {
            event_add_id(&ev, ix->specs[i].key, kw);
            event_add_id(&ev, ix->specs[i].field, vw);
        }
    }
    if ((rc = gl_store_batch_put_event(ix->b, &ev, &e2))) {
        if (rc != GL_EINVAL) {
            gl_err_set(err, rc, "%s", e2.msg);
            goto done;
        }
        json_t *f = finding_new(ix, "unstorable_event", g->block);
        fset_int(f, "log_index", g->log_index);
        fset_hex(f, "tx_hash", g->tx_hash, 32);
        fset_str(f, "event", sig->name);
        fset_str(f, "reason", e2.msg);
        rc = finding_add(ix, g->block, f, err);
        goto done;
    }
    ix->bc.events++;
    if ((rc = learn_event(ix, &ev, err)))
        goto done;

    gl_store_pos pos = {ix->chain, g->block, GL_STORE_POS_LOG, g->log_index, 0};
    /* A token transfer the definition calls one. */
    uint8_t from[20], to[20];
    bool ends = false;
    if (map && map->kind == GL_EVENT_TRANSFER && ev.has_amount && ev.has_token) {
        if (direct) {
            ends = de.has_from && de.has_to;
            memcpy(from, de.from, 20);
            memcpy(to, de.to, 20);
        } else {
            ends = (first_addr(roles, "payer", from) || first_addr(roles, "buyer", from)) &&
                   (first_addr(roles, "provider", to) || first_addr(roles, "beneficiary", to));
        }
    }
    if (ends) {
        gl_store_transfer tr;
        memset(&tr, 0, sizeof tr);
        tr.pos = pos;
        tr.asset = GL_STORE_ASSET_ERC20;
        memcpy(tr.token, ev.token, 20);
        memcpy(tr.from, from, 20);
        memcpy(tr.to, to, 20);
        tr.amount = ev.amount;
        memcpy(tr.tx_hash, g->tx_hash, 32);
        tr.flags = t && t->ok ? t->rec.flags : 0;
        if ((rc = gl_store_batch_put_transfer(ix->b, &tr, err)))
            goto done;
        ix->bc.transfers++;
    }
done:
    json_decref(fields);
    json_decref(roles);
    return rc;
}

/* The transaction record, its appearances and its native transfer. */
static gl_code build_tx(gl_indexer *ix, const ix_tx *t, gl_err *err)
{
    if (!t->ok || !t->has_from)
        return GL_OK;
    gl_code rc = gl_store_batch_put_tx(ix->b, &t->rec, err);
    if (rc)
        return rc;
    ix->bc.txs++;
    gl_store_pos pos = {ix->chain, t->rec.block, GL_STORE_POS_TX, t->index, 0};
    if (!t->rec.has_to || gl_u256_is_zero(&t->rec.value))
        return GL_OK;
    gl_store_transfer tr;
    memset(&tr, 0, sizeof tr);
    tr.pos = pos;
    tr.asset = GL_STORE_ASSET_NATIVE;
    memcpy(tr.from, t->rec.from, 20);
    memcpy(tr.to, t->rec.to, 20);
    tr.amount = t->rec.value;
    memcpy(tr.tx_hash, t->rec.hash, 32);
    tr.flags = t->rec.flags;
    if ((rc = gl_store_batch_put_transfer(ix->b, &tr, err)))
        return rc;
    ix->bc.transfers++;
    return GL_OK;
}

/* Fetch block n again (after it contradicted itself). */
static gl_code refetch_block(gl_indexer *ix, ix_blk *blk, gl_err *err)
{
    json_t *res = NULL;
    gl_code rc = gl_endpoints_call(ix->e, "eth_getBlockByNumber",
                                   json_pack("[o,b]", qty_json(blk->num), blk->full), &res, NULL, err);
    if (rc)
        return rc;
    if (!json_is_object(res)) {
        json_decref(res);
        return gl_err_set(err, GL_ERPC, "block %" PRIu64 " holds logs but the endpoint does not have it", blk->num);
    }
    json_decref(blk->block);
    blk->block = res;
    ix->bc.fetched++;
    return GL_OK;
}

static void check_release(ix_check *c)
{
    gl_block_header_release(&c->hdr);
    free(c->txs);
    free(c->proven);
    c->txs = NULL;
    c->proven = NULL;
}

/* Run every check of one block; a block that contradicts itself (a header
 * that does not hash to its claim, a wrong transactions root) is fetched
 * again, up to GL_INDEXER_RETRIES times, its lies kept as findings. */
static gl_code block_check(gl_indexer *ix, ix_blk *blk, bool strict, ix_check *c, gl_err *err)
{
    for (unsigned attempt = 0;; attempt++) {
        memset(c, 0, sizeof *c);
        c->ix = ix;
        c->blk = blk;
        c->strict = strict;
        c->rec.chain_id = ix->chain;
        c->rec.number = blk->num;
        gl_block_header_init(&c->hdr);
        c->txs = calloc(blk->nlogs, sizeof *c->txs);
        c->proven = calloc(blk->nlogs, sizeof *c->proven);
        if (!c->txs || !c->proven)
            return nomem(err);
        for (size_t i = 0; i < blk->nlogs; i++)
            if (!tx_of(c, blk->logs[i].tx_index))
                c->txs[c->ntxs++].index = blk->logs[i].tx_index;
        gl_code rc = check_header(c, err);
        if (rc == GL_ERPC && strict) { /* a garbled answer: fetch it again */
            ixlog(ix, 1, "%s", err ? err->msg : "garbled block");
            c->bad = true;
            return GL_OK;
        }
        if (rc || (rc = check_log_hashes(c, err)) || (rc = check_parent(c, err)))
            return rc;
        if (ix->signal == IX_REORG)
            return GL_OK;
        if ((rc = check_txs(c, err)) || (rc = check_receipts(c, err)))
            return rc;
        if (!c->lied || attempt >= GL_INDEXER_RETRIES || !blk->block)
            return GL_OK;
        ix->st.retries++;
        ixlog(ix, 1, "block %" PRIu64 " contradicts itself: fetching it again", blk->num);
        check_release(c);
        if ((rc = refetch_block(ix, blk, err)))
            return rc;
    }
}

/* The block's hash as two endpoints give it (gl_endpoints_block_hash). */
static gl_code check_quorum(gl_indexer *ix, ix_check *c, bool *disputed, gl_err *err)
{
    uint8_t h[32];
    gl_err e2;
    gl_code rc = gl_endpoints_block_hash(ix->e, c->blk->num, h, &e2);
    if (rc == GL_OK && !memcmp(h, c->rec.hash, 32)) {
        c->rec.verified |= GL_STORE_BLOCK_QUORUM_OK;
        return GL_OK;
    }
    if (rc != GL_OK && rc != GL_EVERIFY) {
        if (err)
            *err = e2;
        return rc;
    }
    *disputed = true;
    json_t *f = check_finding(c, "endpoints_disagree");
    fset_str(f, "field", "hash");
    if (rc == GL_OK) {
        fset_hex(f, "claimed", h, 32);
        fset_hex(f, "computed", c->rec.hash, 32);
        fset_str(f, "reason", "the endpoints agree on another hash than the verified block's");
    } else {
        fset_str(f, "reason", e2.msg);
    }
    return finding_add(ix, c->blk->num, f, err);
}

/* Check one block and, when it holds and `build`, put its records into
 * the batch.  With !build (an earlier block of the chunk failed) the
 * checks still run, so that every answer received is looked at and its
 * lies recorded. */
static gl_code block_process(gl_indexer *ix, ix_blk *blk, bool strict, bool build, gl_err *err)
{
    ix_check c;
    gl_code rc = block_check(ix, blk, strict, &c, err);
    if (rc || ix->signal == IX_REORG)
        goto done;
    if (c.bad && strict) {
        ix->signal = IX_RETRY;
        goto done;
    }
    if (!build)
        goto done;
    bool disputed = false;
    if (ix->o.quorum && blk->block && (rc = check_quorum(ix, &c, &disputed, err)))
        goto done;
    if ((rc = gl_store_batch_put_block(ix->b, &c.rec, err)))
        goto done;
    ix->bc.blocks++;
    for (size_t i = 0; i < c.ntxs; i++)
        if ((rc = build_tx(ix, &c.txs[i], err)))
            goto done;
    for (size_t i = 0; i < blk->nlogs; i++) {
        const ix_tx *t = blk->block ? tx_of(&c, blk->logs[i].tx_index) : NULL;
        if ((rc = build_event(ix, &blk->logs[i], t, c.proven[i], disputed, err)))
            goto done;
    }
    ix->bc.logs += blk->nlogs;
    ix->has_prev = true;
    ix->prev_num = blk->num;
    memcpy(ix->prev_hash, c.rec.hash, 32);
done:
    check_release(&c);
    return rc;
}

/* ------------------------------------------------------ processing ranges */

static bool need_blocks(const gl_indexer *ix, const gl_log *logs, size_t n)
{
    if (ix->o.verify >= GL_INDEXER_VERIFY_SENDERS || ix->uses_tx_roles)
        return true;
    for (size_t i = 0; i < n; i++)
        if (!logs[i].has_ts)
            return true;
    return false;
}

/* What fetching one chunk's blocks reads and learns, apart from the
 * indexer, so that the next chunk's can be fetched on a thread while this
 * one is processed. */
typedef struct ix_bfetch {
    gl_endpoints *e;
    gl_store *s;
    uint64_t chain;
    gl_indexer_verify verify;
    bool full;              /* transactions are needed (verification, or roles reading tx) */
    bool has_prev;          /* the block before the chunk whose hash will be known */
    uint64_t prev_num;
    bool no_block_receipts; /* ask for each tx's receipt (learned: eth_getBlockReceipts failed) */
    bool switched;          /* out: it failed here (why says how) */
    gl_err why;
    uint64_t fetched;       /* out: blocks fetched */
} ix_bfetch;

static ix_bfetch bfetch_of(const gl_indexer *ix, gl_endpoints *e)
{
    ix_bfetch f;
    memset(&f, 0, sizeof f);
    f.e = e;
    f.s = ix->s;
    f.chain = ix->chain;
    f.verify = ix->o.verify;
    /* Without either, a block is fetched only for its time and hash (logs
     * without blockTimestamp): its header is all that is needed, and a
     * busy mainnet block's transactions are ~100 times its header. */
    f.full = ix->o.verify >= GL_INDEXER_VERIFY_SENDERS || ix->uses_tx_roles;
    f.has_prev = ix->has_prev;
    f.prev_num = ix->prev_num;
    f.no_block_receipts = ix->no_block_receipts;
    return f;
}

/* Count and log what a fetch learned, once its blocks are taken. */
static void bfetch_settle(gl_indexer *ix, const ix_bfetch *f)
{
    ix->bc.fetched += f->fetched;
    if (f->switched && !ix->no_block_receipts) {
        ixlog(ix, 1, "eth_getBlockReceipts failed (%s): asking for each transaction's receipt", f->why.msg);
        ix->no_block_receipts = true;
    }
}

/* Fetch what the blocks of a chunk need, in JSON-RPC batches. */
static gl_code fetch_blocks(ix_bfetch *f, ix_blk *blks, size_t nb, gl_err *err)
{
    size_t cap = 2 * nb, n = 0;
    const char **methods = calloc(cap, sizeof *methods);
    json_t **params = calloc(cap, sizeof *params), **results = calloc(cap, sizeof *results);
    json_t ***dest = calloc(cap, sizeof *dest);
    gl_code rc = GL_OK;
    if (!methods || !params || !results || !dest) {
        rc = gl_err_set(err, GL_ENOMEM, "out of memory fetching blocks");
        goto done;
    }
    for (size_t i = 0; i < nb; i++) {
        uint64_t b = blks[i].num;
        methods[n] = "eth_getBlockByNumber";
        params[n] = json_pack("[o,b]", qty_json(b), f->full);
        blks[i].full = f->full;
        dest[n++] = &blks[i].block;
        if (f->verify < GL_INDEXER_VERIFY_HEADERS || b == 0 || (i > 0 && blks[i - 1].num == b - 1) ||
            (f->has_prev && f->prev_num == b - 1))
            continue;
        gl_store_block sb;
        bool found;
        if ((rc = gl_store_get_block(f->s, f->chain, b - 1, &sb, &found, err)))
            goto done;
        if (found)
            continue;
        methods[n] = "eth_getBlockByNumber";
        params[n] = json_pack("[o,b]", qty_json(b - 1), 0);
        dest[n++] = &blks[i].parent;
    }
    for (size_t i = 0; i < n; i++)
        if (!params[i]) {
            rc = gl_err_set(err, GL_ENOMEM, "out of memory fetching blocks");
            goto done;
        }
    if ((rc = gl_endpoints_call_many(f->e, n, methods, params, results, err)))
        goto done;
    for (size_t i = 0; i < n; i++) {
        *dest[i] = results[i];
        results[i] = NULL;
    }
    f->fetched += nb;
    for (size_t i = 0; i < nb; i++)
        if (!json_is_object(blks[i].block)) {
            rc = gl_err_set(err, GL_ERPC, "block %" PRIu64 " holds logs but the endpoint does not have it",
                            blks[i].num);
            goto done;
        }
    if (f->verify < GL_INDEXER_VERIFY_FULL)
        goto done;
    /* Receipts: one call per block, or per transaction where the endpoint
     * lacks eth_getBlockReceipts. */
    if (!f->no_block_receipts) {
        for (size_t i = 0; i < nb; i++) {
            json_decref(params[i]);
            methods[i] = "eth_getBlockReceipts";
            params[i] = json_pack("[o]", qty_json(blks[i].num));
            if (!params[i]) {
                rc = gl_err_set(err, GL_ENOMEM, "out of memory fetching blocks");
                goto done;
            }
        }
        for (size_t i = nb; i < n; i++) {
            json_decref(params[i]);
            params[i] = NULL;
        }
        n = nb;
        gl_err e2;
        if (gl_endpoints_call_many(f->e, nb, methods, params, results, &e2) == GL_OK) {
            for (size_t i = 0; i < nb; i++) {
                blks[i].receipts = results[i];
                results[i] = NULL;
            }
            goto done;
        }
        f->switched = f->no_block_receipts = true;
        f->why = e2;
    }
    for (size_t i = 0; i < nb; i++) {
        const json_t *txs = json_object_get(blks[i].block, "transactions");
        size_t ntx = json_array_size(txs);
        const char **m2 = calloc(ntx ? ntx : 1, sizeof *m2);
        json_t **p2 = calloc(ntx ? ntx : 1, sizeof *p2);
        json_t *arr = json_array();
        if (!m2 || !p2 || !arr) {
            free(m2);
            free(p2);
            json_decref(arr);
            rc = gl_err_set(err, GL_ENOMEM, "out of memory fetching blocks");
            goto done;
        }
        for (size_t k = 0; k < ntx; k++) {
            m2[k] = "eth_getTransactionReceipt";
            p2[k] = json_pack("[O]", json_object_get(json_array_get(txs, k), "hash"));
        }
        json_t **r2 = calloc(ntx ? ntx : 1, sizeof *r2);
        rc = r2 ? gl_endpoints_call_many(f->e, ntx, m2, p2, r2, err) : nomem(err);
        for (size_t k = 0; !rc && k < ntx; k++)
            json_array_append_new(arr, r2[k]);
        for (size_t k = 0; k < ntx; k++)
            json_decref(p2[k]);
        free(m2);
        free(p2);
        free(r2);
        if (rc) {
            json_decref(arr);
            goto done;
        }
        blks[i].receipts = arr;
    }
done:
    for (size_t i = 0; params && i < cap; i++)
        json_decref(params[i]);
    for (size_t i = 0; results && i < cap; i++)
        json_decref(results[i]);
    free(methods);
    free(params);
    free(results);
    free(dest);
    return rc;
}

static void blks_free(ix_blk *blks, size_t nb)
{
    for (size_t i = 0; i < nb; i++) {
        json_decref(blks[i].block);
        json_decref(blks[i].parent);
        json_decref(blks[i].receipts);
    }
    free(blks);
}

/* The blocks of logs[0..n) (sorted), each pointing at its logs; NULL when
 * out of memory. */
static ix_blk *chunk_layout(gl_log *logs, size_t n, size_t *nb_out)
{
    size_t nb = 0;
    for (size_t i = 0; i < n; i++)
        if (i == 0 || logs[i].block != logs[i - 1].block)
            nb++;
    ix_blk *blks = calloc(nb ? nb : 1, sizeof *blks);
    if (!blks)
        return NULL;
    for (size_t i = 0, k = 0; i < n; k++) {
        size_t j = i;
        while (j < n && logs[j].block == logs[i].block)
            j++;
        blks[k].num = logs[i].block;
        blks[k].logs = &logs[i];
        blks[k].nlogs = j - i;
        i = j;
    }
    *nb_out = nb;
    return blks;
}

/* The blocks of the next chunk, fetched on a thread with the block pool. */
typedef struct ix_bprefetch {
    pthread_t thread;
    bool running;
    size_t first, end;      /* the chunk: logs[first..end) of the range */
    ix_blk *blks;
    size_t nb;
    ix_bfetch f;
    gl_code rc;
    gl_err err;
} ix_bprefetch;

static void *bprefetch_main(void *arg)
{
    ix_bprefetch *p = arg;
    p->rc = fetch_blocks(&p->f, p->blks, p->nb, &p->err);
    return NULL;
}

/* Start fetching the blocks of logs[first..end), as the chunk before it
 * (whose last block is `prev`) will leave things once processed. */
static void bprefetch_start(gl_indexer *ix, ix_bprefetch *p, gl_log *logs, size_t first, size_t end, uint64_t prev)
{
    if (!ix->pf_blocks || p->running || !need_blocks(ix, &logs[first], end - first))
        return;
    if (!(p->blks = chunk_layout(&logs[first], end - first, &p->nb)))
        return;
    p->first = first;
    p->end = end;
    p->f = bfetch_of(ix, ix->pf_blocks);
    p->f.has_prev = true;
    p->f.prev_num = prev;
    p->rc = GL_OK;
    gl_err_clear(&p->err);
    if (pthread_create(&p->thread, NULL, bprefetch_main, p)) {
        blks_free(p->blks, p->nb);
        p->blks = NULL;
        return;
    }
    p->running = true;
}

/* Wait for the prefetch; its blocks (and outcome) when it fetched
 * logs[first..end), else NULL (its work dropped). */
static ix_blk *bprefetch_take(gl_indexer *ix, ix_bprefetch *p, size_t first, size_t end, size_t *nb, gl_code *rc,
                              gl_err *err)
{
    if (!p->running)
        return NULL;
    pthread_join(p->thread, NULL);
    p->running = false;
    ix_blk *blks = p->blks;
    p->blks = NULL;
    if (p->first != first || p->end != end) {
        blks_free(blks, p->nb);
        return NULL;
    }
    bfetch_settle(ix, &p->f);
    *nb = p->nb;
    *rc = p->rc;
    if (p->rc && err)
        *err = p->err;
    return blks;
}

/* Check and store one chunk's blocks; `fetched` says whether their fetch
 * already ran (on the prefetch thread), with outcome frc. */
static gl_code process_chunk(gl_indexer *ix, gl_log *logs, size_t n, ix_blk *blks, size_t nb, bool fetched,
                             gl_code frc, bool strict, gl_err *err)
{
    gl_code rc = batch_ensure(ix, err);
    if (!rc && need_blocks(ix, logs, n)) {
        if (!fetched) {
            ix_bfetch f = bfetch_of(ix, ix->e);
            frc = fetch_blocks(&f, blks, nb, err);
            bfetch_settle(ix, &f);
        }
        rc = frc;
        if (rc == GL_ERPC && strict) { /* e.g. a block the endpoint lost in a reorg */
            ixlog(ix, 1, "%s: fetching the range again", err ? err->msg : "bad answer");
            ix->signal = IX_RETRY;
            rc = GL_OK;
        }
    }
    for (size_t k = 0; !rc && ix->signal != IX_REORG && k < nb; k++)
        rc = block_process(ix, &blks[k], strict, ix->signal == IX_NONE, err);
    return rc;
}

/* The hash of block n as the endpoint has it (recomputed from the header
 * from HEADERS up).  *exists false when the endpoint has no such block. */
static gl_code endpoint_hash(gl_indexer *ix, uint64_t n, uint8_t out[32], bool *exists, gl_err *err)
{
    json_t *res = NULL;
    *exists = false;
    gl_code rc = gl_endpoints_call(ix->e, "eth_getBlockByNumber", json_pack("[o,b]", qty_json(n), 0), &res, NULL, err);
    if (rc)
        return rc;
    if (json_is_null(res)) {
        json_decref(res);
        return GL_OK;
    }
    rc = GL_OK;
    if (ix->o.verify >= GL_INDEXER_VERIFY_HEADERS) {
        gl_err e2;
        rc = gl_block_json_hash(res, n, out, &e2);
        if (rc == GL_ENOMEM)
            gl_err_set(err, rc, "%s", e2.msg);
        else if (rc)
            rc = gl_err_set(err, GL_ERPC, "block %" PRIu64 ": the endpoint's header %s", n, e2.msg);
    } else if (!get_fixed(json_object_get(res, "hash"), out, 32)) {
        rc = gl_err_set(err, GL_ERPC, "block %" PRIu64 ": no hash in the endpoint's answer", n);
    }
    json_decref(res);
    *exists = rc == GL_OK;
    return rc;
}

/* Store the records of [lo, hi] (logs sorted), committing every batch_logs
 * logs and at hi. */
/* Where the chunk starting at logs[i] ends: at most `chunk` blocks and,
 * past its first block, GL_INDEXER_CHUNK_LOGS logs (and batch_logs): a
 * chunk's blocks (and with --verify full their receipts) are in memory
 * twice over, the next chunk's being prefetched, and a dense block's
 * receipts are as large as its logs. */
static size_t chunk_end(const gl_logs *logs, size_t i, size_t chunk, size_t per_batch)
{
    size_t j = i, nb = 0;
    if (per_batch > GL_INDEXER_CHUNK_LOGS)
        per_batch = GL_INDEXER_CHUNK_LOGS;
    while (j < logs->n && nb < chunk && (nb == 0 || j - i < per_batch)) {
        uint64_t b = logs->v[j].block;
        nb++;
        while (j < logs->n && logs->v[j].block == b)
            j++;
    }
    return j;
}

static gl_code process_range(gl_indexer *ix, uint64_t hi, gl_logs *logs, bool strict, gl_err *err)
{
    size_t chunk = ix->o.block_chunk ? ix->o.block_chunk : GL_INDEXER_BLOCK_CHUNK_DEFAULT;
    size_t per_batch = ix->o.batch_logs ? ix->o.batch_logs : GL_INDEXER_BATCH_LOGS_DEFAULT;
    gl_code rc = GL_OK;
    ix_bprefetch bp;
    memset(&bp, 0, sizeof bp);
    for (size_t i = 0; i < logs->n;) {
        size_t j = chunk_end(logs, i, chunk, per_batch), nb = 0;
        gl_code frc = GL_OK;
        ix_blk *blks = bprefetch_take(ix, &bp, i, j, &nb, &frc, err);
        bool fetched = blks != NULL;
        if (!blks && !(blks = chunk_layout(&logs->v[i], j - i, &nb))) {
            rc = nomem(err);
            break;
        }
        if (j < logs->n)
            bprefetch_start(ix, &bp, logs->v, j, chunk_end(logs, j, chunk, per_batch), logs->v[j - 1].block);
        rc = process_chunk(ix, &logs->v[i], j - i, blks, nb, fetched, frc, strict, err);
        blks_free(blks, nb);
        if (rc || ix->signal != IX_NONE)
            break;
        i = j;
        if (ix->bc.logs >= per_batch && i < logs->n) {
            if ((rc = batch_commit(ix, ix->prev_num, ix->prev_hash, err)))
                break;
            if (want_stop(ix)) {
                ix->signal = IX_STOP;
                break;
            }
        }
    }
    size_t unused;
    gl_code urc;
    blks_free(bprefetch_take(ix, &bp, SIZE_MAX, SIZE_MAX, &unused, &urc, NULL), 0);
    if (rc || ix->signal != IX_NONE)
        return rc;
    uint8_t h[32];
    if (ix->has_prev && ix->prev_num == hi) {
        memcpy(h, ix->prev_hash, 32);
    } else {
        bool exists;
        if ((rc = endpoint_hash(ix, hi, h, &exists, err)))
            return rc;
        if (!exists) {
            if (strict) {
                ix->signal = IX_RETRY;
                return GL_OK;
            }
            return gl_err_set(err, GL_ERPC, "the endpoint has no block %" PRIu64 " any more", hi);
        }
    }
    if ((rc = batch_ensure(ix, err)) || (rc = batch_commit(ix, hi, h, err)))
        return rc;
    ix->has_prev = true;
    ix->prev_num = hi;
    memcpy(ix->prev_hash, h, 32);
    return GL_OK;
}

/* One planned range [lo, hi] whose logs are in hand: discover, process,
 * and on an inconsistent answer fetch what is not committed again. */
static gl_code do_range(gl_indexer *ix, uint64_t lo, uint64_t hi, gl_logs *logs, gl_err *err)
{
    for (unsigned attempt = 0;; attempt++) {
        bool strict = attempt < GL_INDEXER_RETRIES;
        gl_code rc;
        if (attempt > 0) {
            if (ix->has_cursor && ix->cur.block >= lo)
                lo = ix->cur.block + 1;
            if (lo > hi)
                return GL_OK;
            gl_logs_clear(logs);
            if ((rc = get_logs_planned(ix, lo, hi, NULL, 0, logs, err)))
                return rc;
        }
        if ((rc = discover(ix, hi, logs, err)) || (rc = process_range(ix, hi, logs, strict, err))) {
            gl_err keep;
            if (err)
                keep = *err;
            batch_discard(ix, NULL);
            if (err)
                *err = keep;
            return rc;
        }
        if (ix->signal == IX_RETRY) {
            ix->st.retries++;
            ixlog(ix, 1, "inconsistent answers for blocks %" PRIu64 "..%" PRIu64 ": fetching them again", lo, hi);
            ix->signal = IX_NONE;
            if ((rc = batch_discard(ix, err)))
                return rc;
            continue;
        }
        if (ix->signal == IX_REORG)
            return batch_discard(ix, err);
        return GL_OK;
    }
}

/* ------------------------------------------------------------------ reorgs */

static gl_code cursor_load(gl_indexer *ix, gl_err *err)
{
    bool found;
    gl_code rc = gl_store_get_cursor(ix->s, ix->chain, ix->p->name, &ix->cur, &found, err);
    if (rc)
        return rc;
    ix->has_cursor = found;
    prev_from_cursor(ix);
    return GL_OK;
}

/* Roll everything of the chain at blocks >= from back, with a "reorg"
 * finding in the same batch, and relearn from what is left. */
static gl_code rollback_to(gl_indexer *ix, uint64_t from, const uint8_t old_hash[32], const uint8_t new_hash[32],
                           gl_err *err)
{
    gl_code rc;
    uint64_t old = ix->cur.block;
    gl_store_batch_free(ix->b);
    ix->b = NULL;
    memset(&ix->bc, 0, sizeof ix->bc);
    if ((rc = batch_ensure(ix, err)) || (rc = gl_store_batch_rollback(ix->b, ix->chain, from, err)))
        return rc;
    uint64_t at = from ? from - 1 : 0;
    json_t *f = finding_new(ix, "reorg", at);
    fset_int(f, "from_block", from);
    fset_int(f, "old_cursor", old);
    fset_hex(f, "old_cursor_hash", old_hash, 32);
    if (new_hash)
        fset_hex(f, "new_cursor_hash", new_hash, 32);
    else
        fset_str(f, "new_cursor_hash", "");
    fset_str(f, "reason", "the endpoint's chain no longer holds the stored blocks from this one on");
    if (!f)
        return nomem(err);
    rc = gl_store_batch_put_finding(ix->b, ix->chain, at, f, NULL, err);
    json_decref(f);
    if (rc || (rc = gl_store_batch_commit(ix->b, err)))
        return rc;
    ix->st.rollbacks++;
    ix->st.findings++;
    ixlog(ix, 1, "reorg: rolled back blocks %" PRIu64 "..%" PRIu64 " of chain %" PRIu64, from, old, ix->chain);
    /* Queued findings about replaced blocks are moot. */
    size_t w = 0;
    for (size_t i = 0; i < ix->npend; i++) {
        if (ix->pend[i].block >= from)
            json_decref(ix->pend[i].json);
        else
            ix->pend[w++] = ix->pend[i];
    }
    ix->npend = w;
    if ((rc = cursor_load(ix, err)))
        return rc;
    return tables_rebuild(ix, err);
}

/* Up to `max` stored blocks of the chain at or below hi, highest first. */
static gl_code stored_below(gl_indexer *ix, uint64_t hi, gl_store_block *out, size_t max, size_t *n,
                            uint64_t *scanned_lo, gl_err *err)
{
    *n = 0;
    uint64_t span = 1024;
    for (;;) {
        uint64_t lo = hi >= span ? hi - span + 1 : 0;
        gl_store_iter *it = gl_store_iter_blocks(ix->s, ix->chain, lo, hi, err);
        if (!it)
            return err ? err->code : GL_ENOMEM;
        size_t total = 0;
    gl_code rc = GL_OK;
        for (;;) {
            gl_store_block b;
            bool end;
            if ((rc = gl_store_next_block(it, &b, &end, err)) || end)
                break;
            out[total % max] = b; /* ring of the last `max` */
            total++;
        }
        gl_store_iter_free(it);
        if (rc)
            return rc;
        if (total) {
            /* Highest first. */
            size_t k = total < max ? total : max;
            gl_store_block tmp[64];
            for (size_t i = 0; i < k; i++)
                tmp[i] = out[(total - 1 - i) % max];
            memcpy(out, tmp, k * sizeof *out);
            *n = k;
            *scanned_lo = lo;
            return GL_OK;
        }
        if (lo == 0) {
            *scanned_lo = 0;
            return GL_OK;
        }
        hi = lo - 1;
        if (span < (UINT64_C(1) << 40))
            span *= 2;
    }
}

/* Is the cursor still on the endpoint's chain?  If not, find the highest
 * stored block the endpoint agrees with and roll back everything above. */
static gl_code reorg_check(gl_indexer *ix, bool *rolled, gl_err *err)
{
    *rolled = false;
    if (!ix->has_cursor || !memcmp(ix->cur.hash, zero32, 32))
        return GL_OK;
    uint8_t h[32];
    bool exists;
    gl_code rc = endpoint_hash(ix, ix->cur.block, h, &exists, err);
    if (rc)
        return rc;
    if (exists && !memcmp(h, ix->cur.hash, 32))
        return GL_OK;
    uint8_t old_hash[32];
    memcpy(old_hash, ix->cur.hash, 32);
    ixlog(ix, 1, "the cursor's block %" PRIu64 " is no longer on the endpoint's chain: looking for the fork",
          ix->cur.block);
    /* Walk down the stored blocks, 64 at a time. */
    enum { W = 64 };
    gl_store_block sb[W];
    uint64_t hi = ix->cur.block ? ix->cur.block - 1 : 0;
    uint64_t from = ix->cur.block; /* everything from here on goes */
    bool found = false;
    while (!found && ix->cur.block > 0) {
        size_t n;
        uint64_t lo;
        if ((rc = stored_below(ix, hi, sb, W, &n, &lo, err)))
            return rc;
        if (!n)
            break;
        const char *methods[W];
        json_t *params[W], *results[W];
        for (size_t i = 0; i < n; i++) {
            methods[i] = "eth_getBlockByNumber";
            params[i] = json_pack("[o,b]", qty_json(sb[i].number), 0);
            results[i] = NULL;
        }
        rc = gl_endpoints_call_many(ix->e, n, methods, params, results, err);
        for (size_t i = 0; i < n; i++)
            json_decref(params[i]);
        if (rc)
            return rc;
        for (size_t i = 0; i < n && !found; i++) {
            uint8_t eh[32];
            bool ok = false;
            if (json_is_object(results[i])) {
                if (ix->o.verify >= GL_INDEXER_VERIFY_HEADERS) {
                    ok = gl_block_json_hash(results[i], sb[i].number, eh, NULL) == GL_OK;
                } else {
                    ok = get_fixed(json_object_get(results[i], "hash"), eh, 32);
                }
            }
            if (ok && !memcmp(eh, sb[i].hash, 32)) {
                found = true; /* the fork is above this block */
                from = sb[i].number + 1;
            } else {
                from = sb[i].number;
            }
        }
        for (size_t i = 0; i < n; i++)
            json_decref(results[i]);
        if (found || sb[n - 1].number == 0)
            break;
        hi = sb[n - 1].number - 1;
    }
    /* No stored block agrees: the fork is somewhere below all of them, so
     * everything from the definition's start is indexed again. */
    if (!found && ix->start_block < from)
        from = ix->start_block;
    if ((rc = rollback_to(ix, from, old_hash, exists ? h : NULL, err)))
        return rc;
    *rolled = true;
    return GL_OK;
}

/* ---------------------------------------------------------- run and follow */

static uint64_t next_block(const gl_indexer *ix)
{
    if (ix->has_cursor)
        return ix->cur.block + 1;
    return ix->o.has_from ? ix->o.from : ix->start_block;
}

/* ------------------------------------------------------------ prefetch */

/* The next range's eth_getLogs, run on a thread with its own endpoint pool
 * and its own copy of the addresses and topics, so that nothing it reads
 * changes under it. */
typedef struct ix_prefetch {
    pthread_t thread;
    bool running;
    uint64_t lo, hi;
    size_t naddrs_at_start;    /* the indexer's address count when it started */
    ix_addr *addrs;            /* copies */
    uint8_t (*topics)[32];
    ix_fetch f;
    gl_logs logs;
    gl_call_info info;
    gl_code rc;
    gl_err err;
} ix_prefetch;

static void *prefetch_main(void *arg)
{
    ix_prefetch *p = arg;
    memset(&p->info, 0, sizeof p->info);
    p->rc = get_logs(&p->f, p->lo, p->hi, &p->logs, &p->info, &p->err);
    return NULL;
}

/* Start fetching [lo, hi]; false when it could not start (then the range
 * is fetched the ordinary way). */
static bool prefetch_start(gl_indexer *ix, ix_prefetch *p, gl_endpoints *e, uint64_t lo, uint64_t hi)
{
    if (!e || p->running)
        return false;
    ix_addr *a = realloc(p->addrs, (ix->naddrs ? ix->naddrs : 1) * sizeof *a);
    if (a)
        p->addrs = a;
    uint8_t(*t)[32] = realloc(p->topics, (ix->ntopics ? ix->ntopics : 1) * sizeof *t);
    if (t)
        p->topics = t;
    if (!a || !t)
        return false;
    memcpy(p->addrs, ix->addrs, ix->naddrs * sizeof *a);
    memcpy(p->topics, ix->topics, ix->ntopics * sizeof *t);
    p->f = (ix_fetch){e,              p->addrs,        ix->naddrs, (const uint8_t(*)[32])p->topics,
                      ix->ntopics,    per_request(ix), 0,          0};
    p->lo = lo;
    p->hi = hi;
    p->naddrs_at_start = ix->naddrs;
    gl_logs_clear(&p->logs);
    gl_err_clear(&p->err);
    if (pthread_create(&p->thread, NULL, prefetch_main, p))
        return false;
    p->running = true;
    return true;
}

/* Wait for the prefetch.  It answers for the range from lo (true, its
 * outcome in p, *hi set to where its range ends) only when that is where
 * its range starts and no address was added since it started; otherwise
 * its work is dropped. */
static bool prefetch_take(gl_indexer *ix, ix_prefetch *p, uint64_t lo, uint64_t *hi)
{
    if (!p->running)
        return false;
    pthread_join(p->thread, NULL);
    p->running = false;
    fetch_settle(ix, &p->f, p->lo, p->hi);
    if (p->lo == lo && p->naddrs_at_start == ix->naddrs) {
        *hi = p->hi;
        return true;
    }
    gl_logs_clear(&p->logs);
    return false;
}

static void prefetch_release(gl_indexer *ix, ix_prefetch *p)
{
    uint64_t hi;
    prefetch_take(ix, p, UINT64_MAX, &hi);
    gl_logs_free(&p->logs);
    free(p->addrs);
    free(p->topics);
}

/* The range after [lo, hi] as the plan would give it if [lo, hi] held as
 * many logs per block as the last range (n logs over `blocks`): a copy of
 * the plan is told so.  Only while the endpoint has refused nothing (a
 * capped endpoint's plan sizes each request from the one before, and a
 * guess there could cost a refusal), and not after the first range alone:
 * it is small on purpose and its blocks may be unlike the rest (a deploy
 * block, a quiet start), so a guess from it alone overshoots. */
static bool plan_guess(const gl_range_plan *plan, uint64_t lo, uint64_t hi, uint64_t n, uint64_t blocks,
                       uint64_t *glo, uint64_t *ghi)
{
    gl_range_plan_stats st;
    gl_range_plan_stats_get(plan, &st);
    if (st.refused || st.succeeded < 2 || !blocks)
        return false;
    gl_range_plan guess = *plan; /* a plan owns no memory */
    uint64_t est = (uint64_t)((double)n / (double)blocks * (double)(hi - lo + 1));
    return gl_range_plan_on_success(&guess, lo, hi, est, NULL) == GL_OK && gl_range_plan_next(&guess, glo, ghi);
}

/* Plan [from, to] and process it range by range.  With opts.prefetch the
 * next range's logs are fetched while the current one is processed, and,
 * while the endpoint refuses nothing, the one after that as well (its
 * range guessed, see plan_guess): the node then always has a request to
 * answer, instead of waiting while the fetching thread reads an answer. */
static gl_code run_range(gl_indexer *ix, uint64_t from, uint64_t to, gl_err *err)
{
    gl_range_plan plan;
    gl_range_plan_config cfg;
    plan_config(ix, &cfg);
    gl_code rc = gl_range_plan_init(&plan, from, to, &cfg, err);
    gl_logs logs = {NULL, 0, 0};
    ix_prefetch pf[2];
    memset(pf, 0, sizeof pf);
    ix_fetch f = fetch_of(ix, NULL, 0);
    uint64_t lo, hi;
    while (!rc && gl_range_plan_next(&plan, &lo, &hi)) {
        gl_call_info info;
        memset(&info, 0, sizeof info);
        gl_logs_clear(&logs);
        ix_prefetch *got = NULL;
        for (int i = 0; i < 2 && !got; i++)
            if (pf[i].running && pf[i].lo == lo && prefetch_take(ix, &pf[i], lo, &hi))
                got = &pf[i];
        if (got) {
            gl_logs tmp = logs;
            logs = got->logs;
            got->logs = tmp;
            info = got->info;
            if ((rc = got->rc) && err)
                *err = got->err;
        } else {
            /* The first range is small (it measures the density), and the
             * plan sizes the next from its answer: meanwhile the node may
             * as well answer for as many blocks after it, which the plan
             * then takes as its second range (fetching less than it
             * offers); a guess may follow from then on (plan_guess). */
            gl_range_plan_stats pst;
            gl_range_plan_stats_get(&plan, &pst);
            if (!pst.requests && hi < to)
                prefetch_start(ix, &pf[0], ix->pf_logs[0], hi + 1, hi + 1 + (hi - lo) < to ? hi + 1 + (hi - lo) : to);
            f = fetch_of(ix, NULL, 0); /* the address list may have moved */
            rc = get_logs(&f, lo, hi, &logs, &info, err);
            fetch_settle(ix, &f, lo, hi);
        }
        if (rc == GL_ERPC && info.cls == GL_RPC_ERR_RANGE_TOO_LARGE && lo == hi) {
            /* one block: no plan can cut it (logs_refused_block) */
            f = fetch_of(ix, NULL, 0);
            gl_logs_clear(&logs);
            rc = logs_refused_block(ix, &f, lo, &logs, err);
            fetch_settle(ix, &f, lo, hi);
        }
        if (rc == GL_ERPC && info.cls == GL_RPC_ERR_RANGE_TOO_LARGE && lo != hi) {
            for (int i = 0; i < 2; i++) { /* what ran ahead starts at the wrong block now */
                uint64_t unused;
                prefetch_take(ix, &pf[i], UINT64_MAX, &unused);
            }
            rc = gl_range_plan_on_too_large(&plan, lo, hi, &info.err, err);
            continue;
        }
        if (rc || (rc = gl_range_plan_on_success(&plan, lo, hi, logs.n, err)))
            break;
        uint64_t nlo, nhi;
        bool more = gl_range_plan_next(&plan, &nlo, &nhi);
        /* the last range: the address-index keys so far go to a file meanwhile */
        if (!more && (rc = gl_store_write_gathered_begin(ix->s, err)))
            break;
        if (more) {
            ix_prefetch *next = pf[0].running && pf[0].lo == nlo ? &pf[0] : pf[1].running && pf[1].lo == nlo ? &pf[1] : NULL;
            for (int i = 0; i < 2 && !next; i++)
                if (!pf[i].running && prefetch_start(ix, &pf[i], ix->pf_logs[i], nlo, nhi))
                    next = &pf[i];
            uint64_t glo, ghi;
            ix_prefetch *free_slot = next == &pf[0] ? &pf[1] : &pf[0];
            if (next && !free_slot->running && plan_guess(&plan, next->lo, next->hi, logs.n, hi - lo + 1, &glo, &ghi))
                prefetch_start(ix, free_slot, ix->pf_logs[free_slot - pf], glo, ghi);
        }
        if ((rc = do_range(ix, lo, hi, &logs, err)) || ix->signal != IX_NONE)
            break;
        if (ix->o.progress)
            ix->o.progress(ix->o.ctx, from, ix->cur.block, to, ix->st.events);
        else
            ixlog(ix, 0, "indexed to block %" PRIu64 " (%" PRIu64 " events so far)", ix->cur.block, ix->st.events);
        if (want_stop(ix)) {
            ix->signal = IX_STOP;
            break;
        }
    }
    prefetch_release(ix, &pf[0]);
    prefetch_release(ix, &pf[1]);
    gl_logs_free(&logs);
    if (!rc && ix->signal == IX_NONE)
        rc = gl_range_plan_status(&plan, err);
    return rc;
}

/* Index up to `target`, handling reorgs on the way. */
static gl_code pass(gl_indexer *ix, uint64_t target, gl_err *err)
{
    unsigned strikes = 0;
    for (;;) {
        ix->signal = IX_NONE;
        bool rolled;
        gl_code rc = reorg_check(ix, &rolled, err);
        if (rc)
            return rc;
        if (rolled)
            strikes = 0;
        uint64_t start = next_block(ix);
        if (start > target)
            return GL_OK;
        if (!ix->st.has_range) {
            ix->st.has_range = true;
            ix->st.first_block = start;
        }
        ix->parent_lenient = strikes >= GL_INDEXER_RETRIES;
        rc = run_range(ix, start, target, err);
        ix->parent_lenient = false;
        if (rc || ix->signal != IX_REORG)
            return rc;
        /* A parent link broke against a stored hash.  The reorg check above
         * looks for a fork first; if the cursor still stands, the range is
         * fetched again, and after RETRIES times the broken link is indexed
         * as a finding (an endpoint that keeps contradicting itself). */
        strikes++;
        ix->st.retries++;
    }
}

static gl_code head_target(gl_indexer *ix, uint64_t *head, bool *has_target, uint64_t *target, gl_err *err)
{
    json_t *res = NULL;
    gl_code rc = gl_endpoints_call(ix->e, "eth_blockNumber", NULL, &res, NULL, err);
    if (rc)
        return rc;
    bool ok = get_qty(res, head);
    json_decref(res);
    if (!ok)
        return gl_err_set(err, GL_ERPC, "eth_blockNumber: the answer is not a quantity");
    *has_target = *head >= ix->conf;
    *target = *has_target ? *head - ix->conf : 0;
    return GL_OK;
}

gl_code gl_indexer_run(gl_indexer *ix, gl_err *err)
{
    uint64_t head, target;
    bool has;
    gl_code rc = head_target(ix, &head, &has, &target, err);
    if (rc)
        return rc == GL_ECANCELED && want_stop(ix) ? GL_OK : rc;
    if (ix->o.has_to) {
        if (has && ix->o.to > target)
            ixlog(ix, 0, "block %" PRIu64 " is not %" PRIu64 " blocks deep yet: indexing to %" PRIu64, ix->o.to,
                  ix->conf, target);
        else {
            target = ix->o.to;
        }
    }
    if (!has)
        return GL_OK;
    rc = pass(ix, target, err);
    ix->st.cursor = ix->has_cursor ? ix->cur.block : 0;
    if (rc == GL_ECANCELED && want_stop(ix))
        rc = GL_OK; /* interrupted while waiting for an endpoint: what is committed stays */
    return rc;
}

/* Follow outlives its endpoints' outages: a pass that failed because the
 * endpoints could not answer (no answer, rate limits or garbage past every
 * retry, a lagging node) is waited out and tried again, for as long as it
 * takes; what is committed stays committed.  Anything else (the store, a
 * bad definition, memory) ends it. */
static bool outage(gl_code rc) { return rc == GL_EIO || rc == GL_ERPC || rc == GL_ERANGE; }

gl_code gl_indexer_follow(gl_indexer *ix, gl_err *err)
{
    if (ix->o.has_to)
        return gl_err_set(err, GL_EINVAL, "follow does not stop at a block: drop --to");
    uint64_t poll = ix->o.poll_ms ? ix->o.poll_ms : GL_INDEXER_POLL_MS_DEFAULT;
    uint64_t wait = poll;
    for (;;) {
        if (want_stop(ix))
            return GL_OK;
        uint64_t head, target;
        bool has;
        gl_err e2;
        gl_code rc = head_target(ix, &head, &has, &target, &e2);
        if (!rc && has)
            rc = pass(ix, target, &e2);
        ix->st.cursor = ix->has_cursor ? ix->cur.block : 0;
        if (rc == GL_ECANCELED && want_stop(ix))
            return GL_OK;
        if (rc && !outage(rc)) {
            if (err)
                *err = e2;
            return rc;
        }
        if (rc) {
            ix->st.outages++;
            ixlog(ix, 1, "the endpoints failed (%s); trying again in %" PRIu64 " ms, at block %" PRIu64, e2.msg, wait,
                  ix->st.cursor);
            nap(ix, wait);
            wait = wait * 2 < GL_INDEXER_OUTAGE_WAIT_MAX_MS ? wait * 2 : GL_INDEXER_OUTAGE_WAIT_MAX_MS;
            continue;
        }
        wait = poll;
        if (ix->signal == IX_STOP || want_stop(ix))
            return GL_OK;
        if (ix->o.on_head && !ix->o.on_head(ix->o.ctx, ix->has_cursor ? ix->cur.block : 0, head))
            return GL_OK;
        nap(ix, poll);
    }
}

/* ------------------------------------------------------------ lifecycle */

gl_code gl_indexer_check_chain(gl_endpoints *e, const gl_platform *p, gl_err *err)
{
    uint64_t id;
    gl_code rc = gl_endpoints_chain_id(e, &id, err);
    if (rc)
        return rc;
    if (id != p->chain_id)
        return gl_err_set(err, GL_EVERIFY,
                          "platform '%s' is for chain %" PRIu64 ", the endpoint serves chain %" PRIu64
                          ": nothing was indexed",
                          p->name, p->chain_id, id);
    return GL_OK;
}

static bool role_reads_tx(const gl_platform *p)
{
    for (size_t m = 0; m < p->nevents; m++)
        for (size_t r = 0; r < GL_ROLE_COUNT; r++)
            if (p->events[m].roles[r].kind == GL_SRC_TX_FROM || p->events[m].roles[r].kind == GL_SRC_TX_TO)
                return true;
    return false;
}

gl_indexer *gl_indexer_new(gl_store *s, gl_endpoints *e, const gl_platform *p, const gl_indexer_opts *o,
                           gl_err *err)
{
    if (!s || !e || !p || !o) {
        gl_err_set(err, GL_EINVAL, "gl_indexer_new: missing store, endpoints, platform or options");
        return NULL;
    }
    if (o->has_from && o->has_to && o->from > o->to) {
        gl_err_set(err, GL_EINVAL, "--from %" PRIu64 " is after --to %" PRIu64, o->from, o->to);
        return NULL;
    }
    if (o->batch_logs > GL_INDEXER_BATCH_LOGS_MAX || o->block_chunk > GL_INDEXER_BLOCK_CHUNK_MAX) {
        gl_err_set(err, GL_EINVAL, "batch size or block chunk above its limit (%u logs, %u blocks)",
                   GL_INDEXER_BATCH_LOGS_MAX, GL_INDEXER_BLOCK_CHUNK_MAX);
        return NULL;
    }
    gl_indexer *ix = calloc(1, sizeof *ix);
    if (!ix) {
        nomem(err);
        return NULL;
    }
    ix->s = s;
    ix->e = e;
    ix->p = p;
    ix->o = *o;
    ix->chain = p->chain_id;
    ix->conf = o->has_confirmations ? o->confirmations : p->confirmations;
    ix->uses_tx_roles = role_reads_tx(p);
    ix->start_block = UINT64_MAX;
    gl_code rc = GL_OK;
    if (!(ix->secp = gl_secp_new(err)))
        goto fail;
    if (o->prefetch && (!(ix->pf_logs[0] = gl_endpoints_clone(e, err)) || !(ix->pf_logs[1] = gl_endpoints_clone(e, err)) ||
                        !(ix->pf_blocks = gl_endpoints_clone(e, err))))
        goto fail;
    for (size_t i = 0; i < p->ncontracts && !rc; i++) {
        if (p->contracts[i].start_block < ix->start_block)
            ix->start_block = p->contracts[i].start_block;
        rc = addr_add(ix, p->contracts[i].address, SIZE_MAX, p->contracts[i].start_block, NULL, err);
        if (!rc)
            rc = topics_from(ix, p->contracts[i].abis, p->contracts[i].nabis, i, err);
    }
    for (size_t f = 0; f < p->nfactories && !rc; f++)
        rc = topics_from(ix, p->factories[f].abis, p->factories[f].nabis, SIZE_MAX, err);
    if (rc || (rc = specs_build(ix, err)) || (rc = cursor_load(ix, err)))
        goto fail;
    if (ix->start_block == UINT64_MAX)
        ix->start_block = 0;
    if (o->has_from && ix->has_cursor && o->from > ix->cur.block + 1) {
        gl_err_set(err, GL_EINVAL,
                   "the store's cursor for '%s' is at block %" PRIu64 ": starting at %" PRIu64
                   " would leave a gap (use --from %" PRIu64 " or another store)",
                   p->name, ix->cur.block, o->from, ix->cur.block + 1);
        goto fail;
    }
    uint8_t stored[32];
    bool found;
    if ((rc = gl_store_get_platform_hash(s, p->name, stored, &found, err)))
        goto fail;
    if (found && memcmp(stored, p->digest, 32) && !o->allow_redefine) {
        char a[67], b[67];
        gl_err_set(err, GL_EVERIFY,
                   "the store indexed '%s' with another definition (keccak %s, this one %s): use a new store, "
                   "or accept the change explicitly",
                   p->name, hex_of(stored, 32, a), hex_of(p->digest, 32, b));
        goto fail;
    }
    ix->defhash_pending = !found || memcmp(stored, p->digest, 32);
    if (!ix->defhash_pending) {
        /* A store indexed before definitions were kept has the hash only:
         * write the definition (and the same hash) with the next commit. */
        char *def = NULL;
        if ((rc = gl_store_get_platform_def(s, p->name, &def, err)))
            goto fail;
        ix->defhash_pending = def == NULL;
        free(def);
    }
    if ((rc = tables_rebuild(ix, err)))
        goto fail;
    return ix;
fail:
    gl_indexer_free(ix);
    return NULL;
}

void gl_indexer_free(gl_indexer *ix)
{
    if (!ix)
        return;
    gl_store_batch_free(ix->b);
    gl_secp_free(ix->secp);
    gl_endpoints_free(ix->pf_logs[0]);
    gl_endpoints_free(ix->pf_logs[1]);
    gl_endpoints_free(ix->pf_blocks);
    findings_clear(ix);
    free(ix->pend);
    free(ix->addrs);
    free(ix->topics);
    free(ix->specs);
    free(ix->jt);
    free(ix->plans);
    free(ix);
}

void gl_indexer_stats_get(const gl_indexer *ix, gl_indexer_stats *out)
{
    *out = ix->st;
    out->cursor = ix->has_cursor ? ix->cur.block : 0;
}
