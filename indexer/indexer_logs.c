/* indexer_logs.c - fetching logs: eth_getLogs over the followed addresses
 * and topics, chunked per request, along a range plan (gl_range_plan), and
 * discovery of the contracts the platform's factories create in a range.
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

/* ---------------------------------------------------------- fetching logs */

/* Is address entry `a` followed at `block`? */
bool ix_addr_live(const ix_addr *a, uint64_t block) { return a->from_block <= block; }

size_t ix_per_request(const gl_indexer *ix)
{
    return ix->o.addresses_per_request ? ix->o.addresses_per_request : GL_INDEXER_ADDRESSES_PER_REQUEST;
}

size_t ix_answer_bytes(const gl_indexer *ix)
{
    size_t logs = ix->o.request_logs ? ix->o.request_logs : GL_INDEXER_REQUEST_LOGS_DEFAULT;
    return logs > SIZE_MAX / GL_INDEXER_ANSWER_BYTES_PER_LOG ? SIZE_MAX : logs * GL_INDEXER_ANSWER_BYTES_PER_LOG;
}

ix_fetch ix_fetch_of(gl_indexer *ix, const ix_addr *only, size_t nonly)
{
    ix_fetch f = {ix->e,       only ? only : ix->addrs, only ? nonly : ix->naddrs, (const uint8_t(*)[32])ix->topics,
                  ix->ntopics, ix_per_request(ix), ix_answer_bytes(ix), 0, 0};
    return f;
}

/* Count what f did into the indexer's figures and log. */
void ix_fetch_settle(gl_indexer *ix, ix_fetch *f, uint64_t lo, uint64_t hi)
{
    ix->st.log_requests += f->requests;
    if (f->dropped)
        ixlog(ix, 1, "eth_getLogs [%" PRIu64 ", %" PRIu64 "]: dropped %" PRIu64 " log(s) that were not asked for", lo,
              hi, f->dropped);
    f->requests = f->dropped = 0;
}

bool ix_fetch_topic(const ix_fetch *f, const uint8_t t[32])
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
gl_code ix_get_logs_chunk(ix_fetch *f, size_t first, size_t n, uint64_t lo, uint64_t hi, gl_logs *out,
                       gl_call_info *info, gl_err *err)
{
    json_t *flt = json_object(), *addrs = json_array(), *t0 = json_array(), *params = json_array();
    if (!flt || !addrs || !t0 || !params)
        goto oom;
    for (size_t i = first; i < first + n; i++) {
        char h[43];
        if (ix_addr_live(&f->addrs[i], hi) && json_array_append_new(addrs, json_string(ix_hex_of(f->addrs[i].a, 20, h))))
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
        if (json_array_append_new(t0, json_string(ix_hex_of(f->topics[i], 32, h))))
            goto oom;
    }
    if (json_object_set_new(flt, "fromBlock", ix_qty_json(lo)) || json_object_set_new(flt, "toBlock", ix_qty_json(hi)) ||
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
    /* An answer over the cap fails as too large and the plan splits its
     * range; one block cannot be split, so it is read whatever its size
     * (its logs are bounded by the block's gas). */
    hooks.max_bytes = lo < hi ? f->max_bytes : 0;
    gl_code rc = gl_endpoints_call_stream(f->e, "eth_getLogs", params, &hooks, info, err);
    if (rc) {
        gl_logs_truncate(out, before);
        return rc;
    }
    size_t w = before;
    for (size_t i = before; i < out->n; i++) {
        gl_log *g = &out->v[i];
        const ix_addr *a = bsearch(g->address, f->addrs, f->naddrs, sizeof *f->addrs, ix_addr_cmp);
        bool keep = !g->removed && g->block >= lo && g->block <= hi && a && a >= f->addrs + first &&
                    a < f->addrs + first + n && ix_addr_live(a, g->block) && g->ntopics && ix_fetch_topic(f, g->topics[0]);
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
gl_code ix_get_logs(ix_fetch *f, uint64_t lo, uint64_t hi, gl_logs *out, gl_call_info *info, gl_err *err)
{
    size_t before = out->n;
    for (size_t first = 0; first < f->naddrs; first += f->per_request) {
        size_t n = f->naddrs - first < f->per_request ? f->naddrs - first : f->per_request;
        gl_code rc = ix_get_logs_chunk(f, first, n, lo, hi, out, info, err);
        if (rc) {
            gl_logs_truncate(out, before);
            return rc;
        }
    }
    return GL_OK;
}

void ix_plan_config(const gl_indexer *ix, gl_range_plan_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->initial_span = ix->o.initial_span ? ix->o.initial_span : GL_INDEXER_INITIAL_SPAN_DEFAULT;
    cfg->max_logs = ix->o.request_logs ? ix->o.request_logs : GL_INDEXER_REQUEST_LOGS_DEFAULT;
    /* --request-logs is also what the answers in memory are sized for
     * (two or three ranges are in flight at once): an endpoint accepting
     * more must not make the requests grow with it */
    cfg->size_logs = cfg->max_logs;
}

/* eth_getLogs over all of [lo, hi], split as the endpoint requires. */
gl_code ix_get_logs_planned(gl_indexer *ix, uint64_t lo, uint64_t hi, const ix_addr *only, size_t nonly,
                         gl_logs *out, gl_err *err)
{
    gl_range_plan plan;
    gl_range_plan_config cfg;
    ix_plan_config(ix, &cfg);
    gl_code rc = gl_range_plan_init(&plan, lo, hi, &cfg, err);
    ix_fetch f = ix_fetch_of(ix, only, nonly);
    uint64_t a, b;
    while (!rc && gl_range_plan_next(&plan, &a, &b)) {
        size_t before = out->n;
        gl_call_info info;
        memset(&info, 0, sizeof info);
        rc = ix_get_logs(&f, a, b, out, &info, err);
        if (rc == GL_ERPC && info.cls == GL_RPC_ERR_RANGE_TOO_LARGE && a == b)
            rc = logs_refused_block(ix, &f, a, out, err);
        ix_fetch_settle(ix, &f, a, b);
        if (rc == GL_ERPC && info.cls == GL_RPC_ERR_RANGE_TOO_LARGE && a != b) {
            ix->st.log_splits++;
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
gl_code ix_discover(gl_indexer *ix, uint64_t hi, gl_logs *logs, gl_err *err)
{
    ix_addr *fresh = NULL;
    size_t nfresh = 0;
    uint64_t first = UINT64_MAX;
    gl_code rc = GL_OK;
    for (size_t i = 0; i < logs->n && ix->p->nfactories; i++) {
        const gl_log *g = &logs->v[i];
        const ix_addr *a = ix_addr_find(ix, g->address);
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
        if ((rc = ix_addr_add(ix, word + 12, f, g->block, &added, err)))
            goto done;
        if (!added)
            continue;
        ix_addr *v = realloc(fresh, (nfresh + 1) * sizeof *v);
        if (!v) {
            rc = ix_nomem(err);
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
        qsort(fresh, nfresh, sizeof *fresh, ix_addr_cmp);
        rc = ix_get_logs_planned(ix, first, hi, fresh, nfresh, logs, err);
    }
done:
    free(fresh);
    if (!rc)
        gl_logs_sort(logs);
    return rc;
}
