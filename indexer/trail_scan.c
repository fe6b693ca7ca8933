/* trail_scan.c - the expand scan: without trace_filter, the blocks of a
 * level's windows read for native transfers of its addresses (and the
 * contracts they created, from receipts), within the run's block budget.
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

/* ------------------------------------------------------------ block scan */

typedef struct scan_item {
    node *n;
    iv todo;
} scan_item;

static gl_code scan_receipts(trail *t, pendv *cand, json_t **creations, gl_err *err)
{
    size_t n = cand->n;
    if (!n)
        return GL_OK;
    const char **methods = malloc(n * sizeof *methods);
    json_t **params = malloc(n * sizeof *params), **results = malloc(n * sizeof *results);
    gl_code rc = (methods && params && results) ? GL_OK : gl_err_set(err, GL_ENOMEM, "out of memory for receipts");
    for (size_t i = 0; i < n && !rc; i++) {
        char h[67];
        methods[i] = "eth_getTransactionReceipt";
        params[i] = json_pack("[s]", gl_hex_encode(cand->v[i].t.tx_hash, 32, true, h));
    }
    if (!rc)
        rc = gl_endpoints_call_many(t->ep, n, methods, params, results, err);
    if (!rc) {
        size_t k = 0;
        for (size_t i = 0; i < n && !rc; i++) {
            const json_t *r = results[i];
            const char *status = json_string_value(json_object_get(r, "status"));
            if (!json_is_object(r)) {
                rc = gl_err_set(err, GL_ERPC, "no receipt for a transaction of block %" PRIu64,
                                cand->v[i].t.pos.block);
                break;
            }
            if (status && strcmp(status, "0x1") != 0)
                continue; /* reverted: no value moved */
            if (creations[i] && !tr_j_bytes(json_object_get(r, "contractAddress"), cand->v[i].t.to, 20))
                continue;
            cand->v[k++] = cand->v[i];
        }
        cand->n = k;
        for (size_t i = 0; i < n; i++)
            json_decref(results[i]);
    }
    for (size_t i = 0; params && i < n; i++)
        json_decref(params[i]);
    free(methods);
    free(params);
    free(results);
    return rc;
}

/* Whether tx (the object at x's position of block b, carrying value) was
 * signed by a scan member, by its sender recovered from the signature (the
 * endpoint's `from` is only a claim: a false one must not hide a member's
 * payment).  A tx that cannot be bound to its hash or recovered is not
 * taken here; commit checks the candidates again and records what lied. */
static gl_code signed_by_member(trail *t, const fullblk *b, const json_t *tx, const pend *x, bool *mine, gl_err *err)
{
    *mine = false;
    unsigned flags = json_object_get(b->json, "baseFeePerGas") ? 0 : GL_TX_ALLOW_HIGH_S;
    gl_tx_checked c;
    gl_code rc = gl_tx_check(t->secp, &c, NULL, tx, t->chain, b->rec.number, x->tx_index, x->t.tx_hash, flags, err);
    if (rc)
        return rc;
    bool recovered = c.verdict == GL_TX_CHECK_SENDER_OK || c.verdict == GL_TX_CHECK_SENDER_MISMATCH;
    *mine = recovered && c.has_from && tr_member_at(t, c.rec.from, x->t.pos.block) != NULL;
    return GL_OK;
}

/* Scan blocks [lo, hi] (at most SCAN_STEP) for value transfers of the scan
 * members and commit them.  A member's transfer is one the member receives
 * (by the `to` the tx's hash binds) or signed (by the sender recovered,
 * whatever the endpoint's `from` says).  The blocks are checked as they come
 * (fetch_blocks): a lying one still gives its candidates, which commit
 * then flags (check_tx). */
static gl_code scan_step(trail *t, uint64_t lo, uint64_t hi, gl_err *err)
{
    size_t k = (size_t)(hi - lo + 1);
    uint64_t nums[SCAN_STEP];
    for (size_t i = 0; i < k; i++)
        nums[i] = lo + i;
    fullv known = {0};
    gl_code rc = tr_fetch_blocks(t, nums, k, &known, err);
    if (rc) {
        fullv_release(&known);
        return gl_err_prefix(err, "block scan %" PRIu64 "..%" PRIu64 ": ", lo, hi);
    }
    pendv cand = {0};
    json_t **creations = NULL;
    size_t ncre = 0;
    for (size_t i = 0; i < known.n && !rc; i++) {
        const gl_store_block *sb = &known.v[i].rec;
        size_t j;
        json_t *tx;
        json_array_foreach(json_object_get(known.v[i].json, "transactions"), j, tx)
        {
            if (rc)
                break;
            pend x;
            memset(&x, 0, sizeof x);
            uint64_t idx;
            const json_t *to = json_object_get(tx, "to");
            bool creation = !to || json_is_null(to);
            if (!tr_q_u256(json_object_get(tx, "value"), &x.t.amount) || gl_u256_is_zero(&x.t.amount) ||
                !tr_j_bytes(json_object_get(tx, "from"), x.t.from, 20) || (!creation && !tr_j_bytes(to, x.t.to, 20)) ||
                !tr_j_bytes(json_object_get(tx, "hash"), x.t.tx_hash, 32) ||
                !tr_q_u64(json_object_get(tx, "transactionIndex"), &idx) || idx > UINT32_MAX)
                continue;
            x.t.pos = (gl_store_pos){t->chain, sb->number, GL_STORE_POS_TX, (uint32_t)idx, 0};
            x.tx_index = (uint32_t)idx;
            x.t.asset = GL_STORE_ASSET_NATIVE;
            x.has_bh = true;
            memcpy(x.block_hash, sb->hash, 32);
            node *f = tr_member_at(t, x.t.from, x.t.pos.block);
            node *tn = creation ? NULL : tr_member_at(t, x.t.to, x.t.pos.block);
            if (!f && !tn) {
                bool mine;
                if ((rc = signed_by_member(t, &known.v[i], tx, &x, &mine, err)) || !mine)
                    continue;
            }
            rc = tr_pend_push(&cand, &x, err);
            if (!rc && cand.n > ncre) {
                json_t **nc = realloc(creations, cand.cap * sizeof *nc);
                if (!nc)
                    rc = gl_err_set(err, GL_ENOMEM, "out of memory scanning blocks");
                else {
                    creations = nc;
                    creations[cand.n - 1] = creation ? json_true() : NULL;
                    ncre = cand.n;
                }
            }
        }
    }
    if (!rc)
        rc = scan_receipts(t, &cand, creations, err);
    for (size_t i = 0; i < ncre; i++)
        json_decref(creations[i]);
    free(creations);
    if (!rc)
        rc = tr_commit(t, &cand, &known, err);
    free(cand.v);
    fullv_release(&known);
    t->rep->scanned_blocks += k;
    return rc;
}

gl_code tr_run_scan(trail *t, node **e, size_t ne, gl_err *err)
{
    scan_item *items = malloc((2 * ne + 1) * sizeof *items);
    iv *u = malloc((2 * ne + 1) * sizeof *u);
    gl_code rc = (items && u) ? GL_OK : gl_err_set(err, GL_ENOMEM, "out of memory planning the block scan");
    size_t ni = 0;
    for (size_t i = 0; i < ne && !rc; i++) {
        node *n = e[i];
        if (n->fetch_hub || !n->has_need)
            continue;
        iv tmp[2];
        size_t k = iv_todo(n->has_nat, n->nat, n->need, tmp);
        for (size_t j = 0; j < k; j++) {
            items[ni] = (scan_item){n, tmp[j]};
            u[ni++] = tmp[j];
        }
        if (k)
            n->member = true;
    }
    size_t nu = rc ? 0 : iv_merge(u, ni);
    uint64_t budget = t->o.max_scan_blocks > t->rep->scanned_blocks ? t->o.max_scan_blocks - t->rep->scanned_blocks : 0;
    uint64_t last = 0; /* every union block <= last (when any) was scanned */
    bool any = false, cut = false;
    for (size_t r = 0; r < nu && !rc && !cut; r++) {
        for (uint64_t b = u[r].lo; !rc;) {
            if (!budget) {
                cut = true;
                break;
            }
            uint64_t step = u[r].hi - b + 1;
            if (step > SCAN_STEP)
                step = SCAN_STEP;
            if (step > budget)
                step = budget;
            rc = scan_step(t, b, b + step - 1, err);
            if (rc)
                break;
            budget -= step;
            last = b + step - 1;
            any = true;
            if (last == u[r].hi)
                break;
            b = last + 1;
        }
    }
    /* what the budget left out */
    for (size_t r = 0; r < nu && !rc; r++) {
        iv left = u[r];
        if (any && left.hi <= last)
            continue;
        if (any && left.lo <= last)
            left.lo = last + 1;
        if (!t->rep->unscanned_blocks) {
            t->rep->unscanned_from = left.lo;
            t->rep->unscanned_to = left.hi;
        }
        t->rep->unscanned_blocks += left.hi - left.lo + 1;
    }
    /* the native windows now covered: scanning went up the union */
    for (size_t i = 0; i < ni && !rc; i++) {
        node *n = items[i].n;
        iv d = items[i].todo;
        if (!any || d.lo > last)
            continue;
        uint64_t hi = d.hi <= last ? d.hi : last;
        if (!n->has_nat) {
            n->nat = (iv){d.lo, hi};
            n->has_nat = true;
        } else if (d.hi + 1 == n->nat.lo && hi == d.hi) {
            n->nat.lo = d.lo;
        } else if (d.lo == n->nat.hi + 1) {
            n->nat.hi = hi;
        }
    }
    for (size_t i = 0; i < ni; i++)
        items[i].n->member = false;
    free(items);
    free(u);
    return rc;
}
