/* trail_fetch.c - one batch of the funding trail's addresses: their token
 * Transfer logs (eth_getLogs along a range plan) and, with trace_filter,
 * their native transfers, over the part of their windows not fetched
 * before; counterparties counted, hubs filtered, the batch committed.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "gpuledger/block.h"
#include "gpuledger/bytes.h"
#include "gpuledger/range_plan.h"
#include "gpuledger/secp.h"
#include "gpuledger/trail.h"
#include "gpuledger/tx.h"
#include "gpuledger/tx_check.h"
#include "gpuledger/u256.h"
#include "trail_int.h"

/* ------------------------------------------------------- batch members */

typedef struct batch {
    node **m;       /* members */
    size_t n;
    aset *cps;      /* counterparties per member, in its window */
} batch;

/* The member of `b` that is `a` and whose window holds `block`, or NULL. */
node *tr_member_at(trail *t, const uint8_t a[20], uint64_t block)
{
    node *n = tr_map_find(&t->map, a);
    if (!n || !n->member || !n->has_need || !iv_has(n->need, block))
        return NULL;
    return n;
}

/* Count `other` as a counterparty of member n; past hub_degree the member
 * becomes a hub and is fetched no further. */
static gl_code count_cp(trail *t, batch *bt, node *n, const uint8_t other[20], uint64_t block, gl_err *err)
{
    if (n->fetch_hub || !memcmp(other, n->addr, 20))
        return GL_OK;
    aset *cs = &bt->cps[n->slot];
    gl_code rc = aset_add(cs, other, block, NULL, err);
    if (!rc && cs->n > t->o.hub_degree) {
        n->fetch_hub = true;
        n->degree = cs->n;
        char hex[43];
        tr_say(t, 0, "%s: more than %" PRIu64 " counterparties: a hub, not fetched further",
            gl_hex_encode(n->addr, 20, true, hex), t->o.hub_degree);
    }
    return rc;
}

/* Take one fetched transfer: keep it when a member is on either side
 * within its window, and count the counterparties. */
static gl_code take(trail *t, batch *bt, pendv *pv, const pend *x, gl_err *err)
{
    node *f = tr_member_at(t, x->t.from, x->t.pos.block);
    node *to = tr_member_at(t, x->t.to, x->t.pos.block);
    if (!f && !to)
        return GL_OK;
    gl_code rc = tr_pend_push(pv, x, err);
    if (!rc && f)
        rc = count_cp(t, bt, f, x->t.to, x->t.pos.block, err);
    if (!rc && to)
        rc = count_cp(t, bt, to, x->t.from, x->t.pos.block, err);
    return rc;
}

/* Drop what was fetched only because of a hub member, unless the other
 * side is in the trail already. */
static void filter_hubs(trail *t, pendv *pv)
{
    size_t k = 0;
    for (size_t i = 0; i < pv->n; i++) {
        const gl_store_transfer *tr = &pv->v[i].t;
        node *f = tr_member_at(t, tr->from, tr->pos.block);
        node *to = tr_member_at(t, tr->to, tr->pos.block);
        bool keep = (f && !f->fetch_hub) || (to && !to->fetch_hub);
        if (!keep) {
            const uint8_t *other = f ? tr->to : tr->from;
            node *o = tr_map_find(&t->map, other);
            keep = o && o->depth >= 0;
        }
        if (keep)
            pv->v[k++] = pv->v[i];
    }
    pv->n = k;
}

/* ------------------------------------------------------------ token logs */

static gl_code parse_log(trail *t, const json_t *log, pend *out, bool *ok)
{
    *ok = false;
    memset(out, 0, sizeof *out);
    if (json_is_true(json_object_get(log, "removed")))
        return GL_OK;
    const json_t *topics = json_object_get(log, "topics");
    uint8_t t0[32];
    size_t nt = json_array_size(topics);
    if ((nt != 3 && nt != 4) || !tr_j_bytes(json_array_get(topics, 0), t0, 32) || memcmp(t0, t->topic0, 32))
        return GL_OK;
    gl_store_transfer *tr = &out->t;
    uint64_t idx, txi;
    if (!tr_topic_addr(json_array_get(topics, 1), tr->from) || !tr_topic_addr(json_array_get(topics, 2), tr->to) ||
        !tr_j_bytes(json_object_get(log, "address"), tr->token, 20) ||
        !tr_q_u64(json_object_get(log, "blockNumber"), &tr->pos.block) ||
        !tr_q_u64(json_object_get(log, "logIndex"), &idx) || idx > UINT32_MAX ||
        !tr_q_u64(json_object_get(log, "transactionIndex"), &txi) || txi > UINT32_MAX ||
        !tr_j_bytes(json_object_get(log, "transactionHash"), tr->tx_hash, 32))
        return GL_OK;
    const char *data = json_string_value(json_object_get(log, "data"));
    gl_buf d = GL_BUF_INIT;
    if (!data || gl_hex_decode_buf(data, &d, NULL)) {
        gl_buf_release(&d);
        return GL_OK;
    }
    if (nt == 3 && d.len == 32) {
        tr->asset = GL_STORE_ASSET_ERC20;
        gl_u256_from_be(&tr->amount, d.data, 32, NULL);
    } else if (nt == 4 && d.len == 0) {
        uint8_t id[32];
        if (!tr_j_bytes(json_array_get(topics, 3), id, 32)) {
            gl_buf_release(&d);
            return GL_OK;
        }
        tr->asset = GL_STORE_ASSET_ERC721;
        tr->amount = gl_u256_from_u64(1);
        gl_u256_from_be(&tr->token_id, id, 32, NULL);
    } else {
        gl_buf_release(&d);
        return GL_OK;
    }
    gl_buf_release(&d);
    tr->pos.chain_id = t->chain;
    tr->pos.kind = GL_STORE_POS_LOG;
    tr->pos.index = (uint32_t)idx;
    out->tx_index = (uint32_t)txi;
    out->has_bh = tr_j_bytes(json_object_get(log, "blockHash"), out->block_hash, 32);
    *ok = true;
    return GL_OK;
}

/* The members still fetched, not hubs and wanting tokens (as log topics)
 * or natives (as trace_filter addresses). */
static json_t *member_topics(batch *bt, bool native)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < bt->n; i++) {
        node *n = bt->m[i];
        if (n->fetch_hub || (native ? !n->new_nat : !n->new_tok))
            continue;
        json_array_append_new(arr, native ? tr_hexaddr(n->addr) : tr_hextopic(n->addr));
    }
    return arr;
}

/* One failed call of a planned range: split on a range refusal (or, a few
 * times, on a transport failure that outlasted the retries), else fail. */
static gl_code plan_failure(gl_range_plan *plan, uint64_t lo, uint64_t hi, const gl_call_outcome *oc,
                            unsigned *splits, const char *what, gl_err *err)
{
    if (oc->code == GL_ERPC && oc->info.cls == GL_RPC_ERR_RANGE_TOO_LARGE)
        return gl_range_plan_on_too_large(plan, lo, hi, &oc->info.err, err);
    if (oc->code == GL_ERANGE) /* an answer over the size cap */
        return gl_range_plan_on_too_large(plan, lo, hi, NULL, err);
    bool transient = (oc->code == GL_EIO || oc->code == GL_ERPC) &&
                     (oc->info.cls == GL_RPC_ERR_TRANSIENT || oc->code == GL_EIO);
    if (transient && lo < hi && *splits < TRANSIENT_SPLITS) {
        (*splits)++;
        return gl_range_plan_on_too_large(plan, lo, hi, NULL, err);
    }
    if (err)
        *err = oc->err;
    return gl_err_prefix(err, "%s %" PRIu64 "..%" PRIu64 ": ", what, lo, hi);
}

static void learn(gl_range_plan_config *cfg, const gl_range_plan *plan)
{
    gl_range_plan_stats st;
    gl_range_plan_stats_get(plan, &st);
    if (st.max_span)
        cfg->max_span = st.max_span;
    if (st.max_logs)
        cfg->max_logs = st.max_logs;
}

/* Take the logs of both eth_getLogs answers for lo..hi. */
static gl_code take_logs(trail *t, batch *bt, pendv *pv, json_t *res[2], uint64_t lo, uint64_t hi, gl_err *err)
{
    gl_code rc = GL_OK;
    for (int k = 0; k < 2 && !rc; k++) {
        size_t i;
        json_t *log;
        json_array_foreach(res[k], i, log)
        {
            pend x;
            bool ok;
            rc = parse_log(t, log, &x, &ok);
            if (!rc && ok && (x.t.pos.block < lo || x.t.pos.block > hi))
                rc = gl_err_set(err, GL_ERPC, "eth_getLogs %" PRIu64 "..%" PRIu64 " answered a log of block %" PRIu64,
                                lo, hi, x.t.pos.block);
            if (!rc && ok)
                rc = take(t, bt, pv, &x, err);
            if (rc)
                break;
        }
    }
    return rc;
}

/* ------------------------------------------------------------ traces */

/* A native transfer in one trace_filter entry; *ok false for anything else
 * (no value, delegate/static calls, failed calls, rewards). */
static gl_code parse_trace(trail *t, const json_t *tr, pend *out, json_t **trace_addr, bool *ok)
{
    *ok = false;
    memset(out, 0, sizeof *out);
    const json_t *failed = json_object_get(tr, "error");
    if (failed && !json_is_null(failed))
        return GL_OK; /* the call reverted: no value moved */
    const char *type = json_string_value(json_object_get(tr, "type"));
    const json_t *action = json_object_get(tr, "action");
    const json_t *result = json_object_get(tr, "result");
    gl_store_transfer *x = &out->t;
    gl_u256 v;
    if (!type || !json_is_object(action))
        return GL_OK;
    if (!strcmp(type, "call")) {
        const char *ct = json_string_value(json_object_get(action, "callType"));
        if (!ct || strcmp(ct, "call") || !tr_q_u256(json_object_get(action, "value"), &v) ||
            !tr_j_bytes(json_object_get(action, "from"), x->from, 20) ||
            !tr_j_bytes(json_object_get(action, "to"), x->to, 20))
            return GL_OK;
    } else if (!strcmp(type, "create") || !strcmp(type, "create2")) {
        if (!tr_q_u256(json_object_get(action, "value"), &v) || !tr_j_bytes(json_object_get(action, "from"), x->from, 20) ||
            !tr_j_bytes(json_object_get(result, "address"), x->to, 20))
            return GL_OK;
    } else if (!strcmp(type, "suicide") || !strcmp(type, "selfdestruct")) {
        if (!tr_q_u256(json_object_get(action, "balance"), &v) ||
            !tr_j_bytes(json_object_get(action, "address"), x->from, 20) ||
            !tr_j_bytes(json_object_get(action, "refundAddress"), x->to, 20))
            return GL_OK;
    } else {
        return GL_OK;
    }
    uint64_t txpos;
    const json_t *ta = json_object_get(tr, "traceAddress");
    if (gl_u256_is_zero(&v) || !json_is_array(ta) || !tr_q_u64(json_object_get(tr, "blockNumber"), &x->pos.block) ||
        !tr_q_u64(json_object_get(tr, "transactionPosition"), &txpos) || txpos > UINT32_MAX ||
        !tr_j_bytes(json_object_get(tr, "transactionHash"), x->tx_hash, 32))
        return GL_OK;
    x->amount = v;
    x->asset = GL_STORE_ASSET_NATIVE;
    x->pos.chain_id = t->chain;
    x->pos.index = (uint32_t)txpos;
    out->tx_index = (uint32_t)txpos;
    x->pos.kind = json_array_size(ta) ? GL_STORE_POS_TRACE : GL_STORE_POS_TX;
    out->has_bh = tr_j_bytes(json_object_get(tr, "blockHash"), out->block_hash, 32);
    *trace_addr = (json_t *)ta;
    *ok = true;
    return GL_OK;
}

/* traceAddress arrays in depth-first order: a prefix comes first. */
static int trace_addr_cmp(const json_t *a, const json_t *b)
{
    size_t na = json_array_size(a), nb = json_array_size(b);
    for (size_t i = 0; i < na && i < nb; i++) {
        json_int_t x = json_integer_value(json_array_get(a, i)), y = json_integer_value(json_array_get(b, i));
        if (x != y)
            return x < y ? -1 : 1;
    }
    return na < nb ? -1 : na > nb;
}

/* The depth-first number (from 1) of each internal call among the pending
 * transfers that need one (sub == UINT32_MAX marks them, `tas` holds their
 * traceAddress), from trace_transaction of their transactions. */
static gl_code number_traces(trail *t, pendv *pv, size_t from, json_t **tas, gl_err *err)
{
    gl_code rc = GL_OK;
    for (size_t i = from; i < pv->n && !rc; i++) {
        if (pv->v[i].t.pos.kind != GL_STORE_POS_TRACE || pv->v[i].t.pos.sub != UINT32_MAX)
            continue;
        char hash[67];
        gl_hex_encode(pv->v[i].t.tx_hash, 32, true, hash);
        json_t *list = NULL;
        gl_call_info info;
        rc = gl_endpoints_call(t->ep, "trace_transaction", json_pack("[s]", hash), &list, &info, err);
        if (rc)
            break;
        if (!json_is_array(list)) {
            rc = gl_err_set(err, GL_ERPC, "trace_transaction(%s): not an array", hash);
            json_decref(list);
            break;
        }
        /* number every pending internal call of this tx */
        for (size_t j = i; j < pv->n && !rc; j++) {
            if (pv->v[j].t.pos.kind != GL_STORE_POS_TRACE || pv->v[j].t.pos.sub != UINT32_MAX ||
                memcmp(pv->v[j].t.tx_hash, pv->v[i].t.tx_hash, 32))
                continue;
            uint32_t before = 0;
            bool present = false;
            size_t k;
            json_t *e;
            json_array_foreach(list, k, e)
            {
                int c = trace_addr_cmp(json_object_get(e, "traceAddress"), tas[j - from]);
                if (c < 0)
                    before++;
                else if (c == 0)
                    present = true;
            }
            if (!present || before == 0)
                rc = gl_err_set(err, GL_ERPC, "trace_transaction(%s) lacks a call that trace_filter reported", hash);
            else
                pv->v[j].t.pos.sub = before; /* the top-level call is number 0 */
        }
        json_decref(list);
    }
    return rc;
}

static bool is_unsupported(const gl_call_outcome *oc)
{
    return oc->code == GL_ERPC && oc->info.cls == GL_RPC_ERR_FATAL;
}

/* Take the native transfers of both trace_filter answers for lo..hi, their
 * internal calls numbered. */
static gl_code take_traces(trail *t, batch *bt, pendv *pv, json_t *res[2], uint64_t lo, uint64_t hi, gl_err *err)
{
    size_t first = pv->n, ntr = json_array_size(res[0]) + json_array_size(res[1]);
    json_t **tas = calloc(ntr ? ntr : 1, sizeof *tas);
    gl_code rc = tas ? GL_OK : gl_err_set(err, GL_ENOMEM, "out of memory reading traces");
    for (int k = 0; k < 2 && !rc; k++) {
        size_t i;
        json_t *tr;
        json_array_foreach(res[k], i, tr)
        {
            pend x;
            bool ok;
            json_t *ta = NULL;
            rc = parse_trace(t, tr, &x, &ta, &ok);
            if (!rc && ok && (x.t.pos.block < lo || x.t.pos.block > hi))
                rc = gl_err_set(err, GL_ERPC, "trace_filter %" PRIu64 "..%" PRIu64 " answered block %" PRIu64, lo, hi,
                                x.t.pos.block);
            if (rc || !ok)
                continue;
            if (x.t.pos.kind == GL_STORE_POS_TRACE)
                x.t.pos.sub = UINT32_MAX; /* numbered below */
            size_t before = pv->n;
            rc = take(t, bt, pv, &x, err);
            if (!rc && pv->n > before)
                tas[pv->n - 1 - first] = ta;
            if (rc)
                break;
        }
    }
    if (!rc)
        rc = number_traces(t, pv, first, tas, err);
    free(tas);
    return rc;
}

/* Walk r along a range plan for the members wanting tokens (eth_getLogs,
 * the members as sender topic and as receiver topic) or natives
 * (trace_filter, as fromAddress and as toAddress), taking what each pair of
 * answers holds.  For natives, *unsupported is set when the endpoint
 * refuses the method (nothing more is then taken). */
static gl_code fetch_range(trail *t, batch *bt, iv r, bool native, pendv *pv, bool *unsupported, gl_err *err)
{
    const char *method = native ? "trace_filter" : "eth_getLogs";
    gl_range_plan_config *cfg = native ? &t->tracecfg : &t->logcfg;
    gl_range_plan plan;
    gl_code rc = gl_range_plan_init(&plan, r.lo, r.hi, cfg, err);
    uint64_t lo, hi;
    unsigned splits = 0;
    while (!rc && gl_range_plan_next(&plan, &lo, &hi)) {
        json_t *addrs = member_topics(bt, native);
        if (!json_array_size(addrs)) {
            json_decref(addrs);
            break; /* every member became a hub */
        }
        const char *methods[2] = {method, method};
        json_t *params[2];
        if (native) {
            params[0] = json_pack("[{s:o, s:o, s:O}]", "fromBlock", tr_hexq(lo), "toBlock", tr_hexq(hi), "fromAddress",
                                  addrs);
            params[1] = json_pack("[{s:o, s:o, s:O}]", "fromBlock", tr_hexq(lo), "toBlock", tr_hexq(hi), "toAddress",
                                  addrs);
        } else {
            params[0] = json_pack("[{s:o, s:o, s:[s,O]}]", "fromBlock", tr_hexq(lo), "toBlock", tr_hexq(hi), "topics",
                                  TRANSFER_TOPIC, addrs);
            params[1] = json_pack("[{s:o, s:o, s:[s,n,O]}]", "fromBlock", tr_hexq(lo), "toBlock", tr_hexq(hi),
                                  "topics", TRANSFER_TOPIC, addrs);
        }
        json_decref(addrs);
        json_t *res[2] = {NULL, NULL};
        gl_call_outcome oc[2];
        rc = gl_endpoints_call_each(t->ep, 2, methods, params, res, oc, err);
        json_decref(params[0]);
        json_decref(params[1]);
        *(native ? &t->rep->trace_requests : &t->rep->log_requests) += 2;
        if (!rc) {
            int bad = oc[0].code ? 0 : oc[1].code ? 1 : -1;
            if (native && bad >= 0 && is_unsupported(&oc[bad])) {
                *unsupported = true;
                snprintf(t->rep->native_note, sizeof t->rep->native_note, "trace_filter refused: %s",
                         oc[bad].err.msg);
                json_decref(res[0]);
                json_decref(res[1]);
                return GL_OK;
            }
            if (bad >= 0) {
                rc = plan_failure(&plan, lo, hi, &oc[bad], &splits, method, err);
            } else if (!json_is_array(res[0]) || !json_is_array(res[1])) {
                rc = gl_err_set(err, GL_ERPC, "%s %" PRIu64 "..%" PRIu64 ": the answer is not an array", method, lo,
                                hi);
            } else {
                size_t n = json_array_size(res[0]) + json_array_size(res[1]);
                rc = native ? take_traces(t, bt, pv, res, lo, hi, err) : take_logs(t, bt, pv, res, lo, hi, err);
                if (!rc)
                    rc = gl_range_plan_on_success(&plan, lo, hi, n, err);
            }
        }
        json_decref(res[0]);
        json_decref(res[1]);
    }
    if (!rc)
        rc = gl_range_plan_status(&plan, err);
    learn(cfg, &plan);
    return rc;
}

/* ------------------------------------------------------------- a batch */

/* Collect the members' todo intervals (token or native) merged. */
static gl_code batch_ranges(batch *bt, bool native, iv **out, size_t *n, gl_err *err)
{
    iv *v = malloc((2 * bt->n + 1) * sizeof *v);
    if (!v)
        return gl_err_set(err, GL_ENOMEM, "out of memory planning ranges");
    size_t k = 0;
    for (size_t i = 0; i < bt->n; i++) {
        node *m = bt->m[i];
        if (m->fetch_hub || (native ? !m->new_nat : !m->new_tok))
            continue;
        k += iv_todo(native ? m->has_nat : m->has_tok, native ? m->nat : m->tok, m->need, v + k);
    }
    *out = v;
    *n = iv_merge(v, k);
    return GL_OK;
}

gl_code tr_run_batch(trail *t, node **members, size_t n, bool *trace_refused, gl_err *err)
{
    batch bt = {members, n, calloc(n, sizeof(aset))};
    if (!bt.cps)
        return gl_err_set(err, GL_ENOMEM, "out of memory for a batch");
    bool traces = t->trace_ok && (t->o.native == GL_TRAIL_NATIVE_AUTO || t->o.native == GL_TRAIL_NATIVE_TRACE);
    for (size_t i = 0; i < n; i++) {
        node *m = members[i];
        m->member = true;
        m->slot = i;
        iv tmp[2];
        m->new_tok = iv_todo(m->has_tok, m->tok, m->need, tmp) > 0;
        m->new_nat = traces && iv_todo(m->has_nat, m->nat, m->need, tmp) > 0;
    }
    pendv pv = {0};
    iv *ranges = NULL;
    size_t nr = 0;
    gl_code rc = batch_ranges(&bt, false, &ranges, &nr, err);
    for (size_t i = 0; i < nr && !rc; i++)
        rc = fetch_range(t, &bt, ranges[i], false, &pv, NULL, err);
    free(ranges);
    ranges = NULL;
    bool refused = false;
    if (!rc && traces) {
        rc = batch_ranges(&bt, true, &ranges, &nr, err);
        for (size_t i = 0; i < nr && !rc && !refused; i++)
            rc = fetch_range(t, &bt, ranges[i], true, &pv, &refused, err);
        free(ranges);
        if (refused) {
            /* drop what traces gave before the refusal: the scan redoes it */
            size_t k = 0;
            for (size_t i = 0; i < pv.n; i++)
                if (pv.v[i].t.asset != GL_STORE_ASSET_NATIVE)
                    pv.v[k++] = pv.v[i];
            pv.n = k;
            *trace_refused = true;
        }
    }
    if (!rc) {
        filter_hubs(t, &pv);
        rc = tr_commit(t, &pv, NULL, err);
    }
    for (size_t i = 0; i < n; i++) {
        node *m = members[i];
        if (!rc) {
            if (m->new_tok || m->fetch_hub) {
                m->tok = m->has_tok ? iv_hull(m->tok, m->need) : m->need;
                m->has_tok = true;
            }
            if (m->new_nat && !refused && !m->fetch_hub) {
                m->nat = m->has_nat ? iv_hull(m->nat, m->need) : m->need;
                m->has_nat = true;
            }
            if (m->new_tok || (m->new_nat && !refused))
                t->lv->fetched++;
        }
        m->member = false;
        aset_release(&bt.cps[i]);
    }
    free(bt.cps);
    free(pv.v);
    if (!rc)
        rc = tr_save_maybe(t, err);
    return rc;
}
