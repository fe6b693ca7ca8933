/* trail_scan.c - the expand scan: without trace_filter, the blocks of a
 * level's windows read for native transfers of its addresses (and the
 * contracts they created, from receipts), within the run's block budget;
 * a reverted tx told apart by its receipt proven against receiptsRoot.
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
#include "gpuledger/indexer.h"
#include "gpuledger/bytes.h"
#include "gpuledger/range_plan.h"
#include "gpuledger/receipts_fetch.h"
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

/* The receipts of blocks bl[0..nb) as the endpoint gives them, into
 * rs[0..nb) (receipts_fetch.h); learning that it lacks
 * eth_getBlockReceipts is remembered in t->no_block_receipts. */
static gl_code fetch_receipts(trail *t, fullblk *const *bl, size_t nb, json_t **rs, gl_err *err)
{
    uint64_t *nums = calloc(nb ? nb : 1, sizeof *nums);
    const json_t **txs = calloc(nb ? nb : 1, sizeof *txs);
    gl_code rc = nums && txs ? GL_OK : gl_err_set(err, GL_ENOMEM, "out of memory for receipts");
    for (size_t j = 0; j < nb && !rc; j++) {
        nums[j] = bl[j]->rec.number;
        txs[j] = json_object_get(bl[j]->json, "transactions");
    }
    bool was = t->no_block_receipts;
    gl_err why;
    if (!rc)
        rc = gl_receipts_fetch(t->ep, nb, nums, txs, &t->no_block_receipts, &why, rs, err);
    if (t->no_block_receipts && !was)
        tr_say(t, 1, "eth_getBlockReceipts failed (%s): asking for each transaction's receipt", why.msg);
    free(nums);
    free(txs);
    return rc;
}

/* Do receipts rs prove themselves against block b's receiptsRoot (a field
 * of the header the scan rehashed: check_block)?  One receipt per
 * transaction, each encodable, hashing to the root: then receipt i is
 * transaction i's, whatever labels the endpoint put on it.  Else *why says
 * how they fail (computed: the root they hash to, when they do).  A header
 * this build could not rehash leaves its root the block's word (said in
 * the log by check_block), as good as the rest of that block. */
static gl_code receipts_proven(const fullblk *b, const json_t *rs, bool *proven, uint8_t claimed[32],
                               uint8_t computed[32], bool *has_computed, char *why, size_t cap, gl_err *err)
{
    *proven = *has_computed = false;
    size_t ntx = json_array_size(json_object_get(b->json, "transactions"));
    if (!tr_j_bytes(json_object_get(b->json, "receiptsRoot"), claimed, 32)) {
        memset(claimed, 0, 32);
        snprintf(why, cap, "the block has no receiptsRoot");
        return GL_OK;
    }
    if (!rs) {
        snprintf(why, cap, "the endpoint gave no list of the block's receipts");
        return GL_OK;
    }
    if (json_array_size(rs) != ntx) {
        snprintf(why, cap, "%zu receipts for %zu transactions", json_array_size(rs), ntx);
        return GL_OK;
    }
    for (size_t i = 0; i < ntx; i++)
        if (!json_is_object(json_array_get(rs, i))) {
            snprintf(why, cap, "the receipt of transaction %zu is missing", i);
            return GL_OK;
        }
    gl_err e2;
    gl_code rc = gl_indexer_receipts_root(computed, rs, &e2);
    if (rc == GL_ENOMEM)
        return gl_err_set(err, GL_ENOMEM, "%s", e2.msg);
    if (rc) {
        snprintf(why, cap, "%.200s", e2.msg);
        return GL_OK;
    }
    *has_computed = true;
    if (memcmp(computed, claimed, 32)) {
        snprintf(why, cap, "the receipts do not hash to the header's receiptsRoot");
        return GL_OK;
    }
    *proven = true;
    return GL_OK;
}

/* The finding of block b whose receipts did not prove themselves: the
 * indexer's receipts_root_mismatch, naming the candidates whose status
 * then rests on nothing and what the endpoint said it was (a "0x0" there
 * is the lie that would have hidden the payment). */
static gl_code unproven_finding(trail *t, findv *fv, const fullblk *b, const uint8_t claimed[32],
                                const uint8_t *computed, const char *why, json_t *said, gl_err *err)
{
    char c[67], d[67];
    json_t *f = json_pack("{s:s, s:I, s:s, s:s, s:s, s:O}", "kind", "receipts_root_mismatch", "block",
                          (json_int_t)b->rec.number, "field", "receiptsRoot", "claimed",
                          gl_hex_encode(claimed, 32, true, c), "reason", why, "transactions", said);
    if (f && computed && json_object_set_new(f, "computed", json_string(gl_hex_encode(computed, 32, true, d)))) {
        json_decref(f);
        f = NULL;
    }
    return tr_finding_add(t, fv, &b->rec, f, err);
}
/* Keep the candidates that moved value: a tx whose receipt says it
 * reverted moved none.  That status is read from receipts proven against
 * the block's receiptsRoot, never from the endpoint's word alone: a lying
 * endpoint could otherwise hide a member's payment by calling it reverted.
 * When a block's receipts do not prove themselves (another root, a receipt
 * missing), its candidates are all kept (no status known: no failed flag)
 * and a receipts_root_mismatch finding in known names them with the status
 * the endpoint claimed.  A creation's recipient is its receipt's
 * contractAddress (the candidate is dropped without one). */
static gl_code scan_receipts(trail *t, pendv *cand, json_t **creations, fullv *known, gl_err *err)
{
    size_t n = cand->n;
    if (!n)
        return GL_OK;
    fullblk **bl = malloc(n * sizeof *bl);
    size_t *bi = malloc(n * sizeof *bi); /* candidate i is of block bl[bi[i]] */
    json_t **rs = calloc(n, sizeof *rs);
    bool *proven = calloc(n, sizeof *proven);
    gl_code rc = (bl && bi && rs && proven) ? GL_OK : gl_err_set(err, GL_ENOMEM, "out of memory for receipts");
    size_t nb = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        size_t j = 0;
        while (j < nb && bl[j]->rec.number != cand->v[i].t.pos.block)
            j++;
        if (j == nb) {
            fullblk *b = NULL;
            for (size_t k = 0; k < known->n && !b; k++)
                if (known->v[k].rec.number == cand->v[i].t.pos.block)
                    b = &known->v[k];
            if (!b) {
                rc = gl_err_set(err, GL_EINVAL, "block %" PRIu64 " of a candidate was not scanned",
                                cand->v[i].t.pos.block);
                break;
            }
            bl[nb++] = b;
        }
        bi[i] = j;
    }
    if (!rc)
        rc = fetch_receipts(t, bl, nb, rs, err);
    for (size_t j = 0; j < nb && !rc; j++) {
        uint8_t claimed[32], computed[32];
        bool has_computed;
        char why[256] = "";
        rc = receipts_proven(bl[j], rs[j], &proven[j], claimed, computed, &has_computed, why, sizeof why, err);
        if (rc || proven[j])
            continue;
        json_t *said = json_array();
        for (size_t i = 0; i < n && said; i++) {
            if (bi[i] != j)
                continue;
            char h[67];
            const json_t *st = json_object_get(json_array_get(rs[j], cand->v[i].tx_index), "status");
            if (json_array_append_new(said, json_pack("{s:s, s:O}", "tx_hash",
                                                      gl_hex_encode(cand->v[i].t.tx_hash, 32, true, h), "status",
                                                      st ? (json_t *)st : json_null()))) {
                json_decref(said);
                said = NULL;
            }
        }
        rc = said ? unproven_finding(t, &known->f, bl[j], claimed, has_computed ? computed : NULL, why, said, err)
                  : gl_err_set(err, GL_ENOMEM, "out of memory for a finding");
        json_decref(said);
    }
    if (!rc) {
        size_t k = 0;
        for (size_t i = 0; i < n; i++) {
            const json_t *r = json_array_get(rs[bi[i]], cand->v[i].tx_index);
            const char *status = json_string_value(json_object_get(r, "status"));
            if (proven[bi[i]] && status && strcmp(status, "0x1") != 0)
                continue; /* proven reverted: no value moved */
            if (creations[i] && !tr_j_bytes(json_object_get(r, "contractAddress"), cand->v[i].t.to, 20))
                continue;
            cand->v[k++] = cand->v[i];
        }
        cand->n = k;
    }
    for (size_t j = 0; rs && j < nb; j++)
        json_decref(rs[j]);
    free(bl);
    free(bi);
    free(rs);
    free(proven);
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
        rc = scan_receipts(t, &cand, creations, &known, err);
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
