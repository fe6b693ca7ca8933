/* indexer.c - the indexer's lifecycle (gl_indexer_new, _free, _stats_get,
 * gl_indexer_check_chain), the small helpers every part of it uses, and
 * findings: gathered per block, flushed with the batch that commits it.
 * The other parts are listed in indexer_int.h.
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

const uint8_t ix_zero32[32];

/* ---------------------------------------------------------------- helpers */

void ixlog(gl_indexer *ix, int level, const char *fmt, ...)
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

bool ix_want_stop(gl_indexer *ix) { return ix->o.stop && ix->o.stop(ix->o.ctx); }

gl_code ix_nomem(gl_err *err) { return gl_err_set(err, GL_ENOMEM, "out of memory while indexing"); }

char *ix_hex_of(const uint8_t *d, size_t n, char *buf) { return gl_hex_encode(d, n, true, buf); }

json_t *ix_qty_json(uint64_t v)
{
    char s[24];
    snprintf(s, sizeof s, "0x%" PRIx64, v);
    return json_string(s);
}

/* A JSON-RPC quantity: "0x.." hex string, or a JSON integer. */
bool ix_get_qty(const json_t *v, uint64_t *out)
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

bool ix_get_fixed(const json_t *v, uint8_t *out, size_t n)
{
    const char *s = json_string_value(v);
    return s && gl_hex_decode_exact(s, out, n, NULL) == GL_OK;
}

/* Sleep ms milliseconds in slices, waking early when asked to stop. */
void ix_nap(gl_indexer *ix, uint64_t ms)
{
    while (ms > 0 && !ix_want_stop(ix)) {
        uint64_t step = ms < 50 ? ms : 50;
        struct timespec ts = {(time_t)(step / 1000), (long)(step % 1000) * 1000000L};
        nanosleep(&ts, NULL);
        ms -= step;
    }
}

/* ------------------------------------------------------------- findings */

json_t *ix_finding_new(gl_indexer *ix, const char *kind, uint64_t block)
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

void fset_hex(json_t *f, const char *key, const uint8_t *d, size_t n)
{
    char buf[2 * 32 + 3];
    if (f)
        json_object_set_new(f, key, json_string(ix_hex_of(d, n, buf)));
}

void fset_str(json_t *f, const char *key, const char *v)
{
    if (f && v)
        json_object_set_new(f, key, json_string(v));
}

void fset_int(json_t *f, const char *key, uint64_t v)
{
    if (f)
        json_object_set_new(f, key, json_integer((json_int_t)v));
}

/* Queue a finding for the commit that covers its block (steals f). */
gl_code ix_finding_add(gl_indexer *ix, uint64_t block, json_t *f, gl_err *err)
{
    if (!f)
        return ix_nomem(err);
    if (ix->npend == ix->pend_cap) {
        size_t cap = ix->pend_cap ? 2 * ix->pend_cap : 16;
        ix_finding *v = realloc(ix->pend, cap * sizeof *v);
        if (!v) {
            json_decref(f);
            return ix_nomem(err);
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
gl_code ix_findings_flush(gl_indexer *ix, uint64_t upto, gl_err *err)
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
        ix_nomem(err);
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
        rc = ix_addr_add(ix, p->contracts[i].address, SIZE_MAX, p->contracts[i].start_block, NULL, err);
        if (!rc)
            rc = ix_topics_from(ix, p->contracts[i].abis, p->contracts[i].nabis, i, err);
    }
    for (size_t f = 0; f < p->nfactories && !rc; f++)
        rc = ix_topics_from(ix, p->factories[f].abis, p->factories[f].nabis, SIZE_MAX, err);
    if (rc || (rc = ix_specs_build(ix, err)) || (rc = ix_cursor_load(ix, err)))
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
                   p->name, ix_hex_of(stored, 32, a), ix_hex_of(p->digest, 32, b));
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
    if ((rc = ix_tables_rebuild(ix, err)))
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
