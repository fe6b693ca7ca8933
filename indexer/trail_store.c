/* trail_store.c - storage of what the funding trail finds: the blocks
 * holding its transfers fetched and checked (against their own header and
 * hash, and their parent's), the carrying transactions checked (senders
 * recovered), and each batch committed with its blocks, transactions,
 * transfers and findings.
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

/* ------------------------------------------------------- store commits */

static int pend_cmp(const void *a, const void *b)
{
    uint8_t ka[GL_STORE_POS_LEN], kb[GL_STORE_POS_LEN];
    gl_store_key_pos(ka, &((const pend *)a)->t.pos);
    gl_store_key_pos(kb, &((const pend *)b)->t.pos);
    return memcmp(ka, kb, GL_STORE_POS_LEN);
}

/* A JSON-RPC block object as a store record, hash as claimed (check_block
 * recomputes it). */
static gl_code block_record(trail *t, const json_t *b, uint64_t want, gl_store_block *out, gl_err *err)
{
    memset(out, 0, sizeof *out);
    out->chain_id = t->chain;
    if (!json_is_object(b) || !tr_q_u64(json_object_get(b, "number"), &out->number) || out->number != want ||
        !tr_j_bytes(json_object_get(b, "hash"), out->hash, 32) ||
        !tr_j_bytes(json_object_get(b, "parentHash"), out->parent_hash, 32) ||
        !tr_q_u64(json_object_get(b, "timestamp"), &out->timestamp))
        return gl_err_set(err, GL_ERPC, "eth_getBlockByNumber(%" PRIu64 "): %s", want,
                          json_is_null(b) ? "the endpoint does not have the block"
                                          : "not a block object (number, hash, parentHash, timestamp)");
    return GL_OK;
}

/* Place finding f (taken; NULL: out of memory) in block b ("source":
 * "trail" where the indexer names its platform, and b's hash), say it in
 * the log and add it to fv. */
gl_code tr_finding_add(trail *t, findv *fv, const gl_store_block *b, json_t *f, gl_err *err)
{
    finding *nv = f ? tr_grow_one(fv->v, fv->n, &fv->cap, sizeof *nv, 8) : NULL;
    if (nv)
        fv->v = nv;
    char bh[67];
    if (!nv || json_object_set_new(f, "source", json_string("trail")) ||
        json_object_set_new(f, "block_hash", json_string(gl_hex_encode(b->hash, 32, true, bh)))) {
        json_decref(f);
        return gl_err_set(err, GL_ENOMEM, "out of memory for a finding");
    }
    char *txt = json_dumps(f, JSON_COMPACT | JSON_SORT_KEYS);
    tr_say(t, 1, "finding at block %" PRIu64 ": %s", b->number, txt ? txt : "(out of memory)");
    free(txt);
    fv->v[fv->n++] = (finding){b->number, f};
    return GL_OK;
}

static void findv_release(findv *fv)
{
    for (size_t i = 0; i < fv->n; i++)
        json_decref(fv->v[i].json);
    free(fv->v);
    memset(fv, 0, sizeof *fv);
}

/* A finding of block b: kind, the check's field and values ("reason" and
 * "differs" when given).  NULL when out of memory. */
static json_t *block_finding(const fullblk *b, const char *kind, const char *field, const char *claimed,
                             const char *computed, const char *reason, const char *differs)
{
    json_t *f = json_pack("{s:s, s:I, s:s, s:s, s:s}", "kind", kind, "block", (json_int_t)b->rec.number, "field",
                          field, "claimed", claimed, "computed", computed);
    if (f && ((reason && json_object_set_new(f, "reason", json_string(reason))) ||
              (differs && json_object_set_new(f, "differs", json_string(differs))))) {
        json_decref(f);
        return NULL;
    }
    return f;
}

/* Check what block b's answer claims, as the indexer does: its hash,
 * recomputed from the header (HASH_OK when equal; else rec.hash becomes
 * the computed one, as the indexer stores it), then its body with
 * gl_block_verify_ex (uncles hash, transactions root and hashes,
 * withdrawals root; senders are recovered per carrying tx by check_tx).
 * Each contradiction is a finding in fv, with the indexer's kind and
 * evidence, and makes b a liar (b->lied: see check_tx for what that means
 * for its transactions).  A header or body this build cannot rebuild (a
 * chain's own fields or transaction types) stays unchecked, said in the
 * log: not a lie.  Fails only when out of memory. */
static gl_code check_block(trail *t, fullblk *b, findv *fv, gl_err *err)
{
    memcpy(b->claimed, b->rec.hash, 32);
    gl_block_header h;
    gl_block_header_init(&h);
    gl_err e2;
    if (gl_block_header_from_json_ex(&h, b->json, GL_BLOCK_FORK_GAPS, &e2)) {
        tr_say(t, 1, "block %" PRIu64 ": hash not checked: %s", b->rec.number, e2.msg);
        return GL_OK;
    }
    gl_code rc = gl_block_header_hash(&h, b->rec.hash, err);
    b->hashed = !rc;
    if (!rc && !memcmp(b->rec.hash, b->claimed, 32)) {
        b->rec.verified |= GL_STORE_BLOCK_HASH_OK;
    } else if (!rc) {
        b->lied = true;
        char c[67], d[67];
        json_t *f = block_finding(b, gl_block_check_finding(GL_CHECK_HEADER_HASH), "hash",
                                  gl_hex_encode(b->claimed, 32, true, c), gl_hex_encode(b->rec.hash, 32, true, d),
                                  NULL, NULL);
        json_t *hj = f ? gl_block_header_to_json(&h, NULL) : NULL; /* the fields as hashed */
        if (!hj || json_object_set_new(f, "header", hj)) {
            json_decref(f);
            f = NULL;
        }
        rc = tr_finding_add(t, fv, &b->rec, f, err);
    }
    gl_block_header_release(&h);
    if (rc)
        return rc;
    gl_block_report rep;
    gl_block_report_init(&rep);
    if (gl_block_verify_ex(NULL, b->json, GL_BLOCK_FORK_GAPS, &rep, &e2)) {
        gl_block_report_release(&rep);
        if (e2.code == GL_ENOMEM)
            return gl_err_set(err, GL_ENOMEM, "%s", e2.msg);
        tr_say(t, 1, "block %" PRIu64 ": transactions root not checked: %s", b->rec.number, e2.msg);
        return GL_OK;
    }
    for (size_t i = 0; i < rep.n && !rc; i++) {
        const gl_block_check *k = &rep.checks[i];
        if (k->status != GL_BLOCK_MISMATCH || k->kind == GL_CHECK_HEADER_HASH)
            continue;
        b->lied = true;
        rc = tr_finding_add(t, fv, &b->rec,
                         block_finding(b, gl_block_check_finding(k->kind), k->field, k->claimed, k->computed,
                                       k->reason, k->differs),
                         err);
    }
    gl_block_report_release(&rep);
    return rc;
}

/* Read answer `json` (eth_getBlockByNumber(want, true); the reference is
 * taken, and released on failure too), check it and add it to out. */
static gl_code take_block(trail *t, fullv *out, json_t *json, uint64_t want, gl_err *err)
{
    gl_store_block rec;
    gl_code rc = block_record(t, json, want, &rec, err);
    if (rc) {
        json_decref(json);
        return rc;
    }
    rc = fullv_push(out, &rec, json, err);
    return rc ? rc : check_block(t, &out->v[out->n - 1], &out->f, err);
}

/* Where the hash of a fetched block's parent (block n - 1) comes from,
 * decided before the fetch, in this order: */
typedef enum parent_from {
    PARENT_NONE,   /* block 0 has none */
    PARENT_STORED, /* the store's block n - 1: authoritative */
    PARENT_FETCH,  /* block n - 1 of the same fetch, its hash as check_block computed it */
    PARENT_HEADER, /* eth_getBlockByNumber(n - 1, false), asked in the same batch: its header
                      rebuilt and hashed here (its own "hash" is not looked at) */
} parent_from;

typedef struct parent_src {
    parent_from from;
    uint8_t hash[32]; /* PARENT_STORED: the stored hash */
    size_t call;      /* PARENT_HEADER: the call of the batch that asks for it */
} parent_src;

/* The parent link of b, a block of a fetch (after check_block): the
 * parentHash its header was hashed with must be the parent's hash, taken
 * from ps: the stored one, the hash of block `pb` (PARENT_FETCH), or that
 * of `header` (PARENT_HEADER: the answer for block n - 1, which must be a
 * readable header of that number).  Equal: b gets PARENT_OK.  Otherwise a
 * parent_mismatch finding (the indexer's kind: field, claimed, computed,
 * and a reason saying whether the stored parent or the fetched one
 * disagrees), and b lies like any block that contradicts what is known
 * (check_tx).  A block whose header could not be rebuilt (b->hashed false:
 * check_block said so in the log) is not checked: its parentHash is bound
 * to nothing, and the parent's header, of the same chain, would not be
 * readable either.  Fails only when out of memory. */
static gl_code check_parent(trail *t, fullblk *b, const parent_src *ps, const fullblk *pb, const json_t *header,
                            findv *fv, gl_err *err)
{
    uint64_t n = b->rec.number;
    if (ps->from == PARENT_NONE || !b->hashed)
        return GL_OK;
    uint8_t known[32];
    bool have = false;
    char why[GL_ERR_MSG_MAX + 64] = "";
    const char *reason = "the parent's header hashes otherwise";
    if (ps->from == PARENT_STORED) {
        memcpy(known, ps->hash, 32);
        have = true;
        reason = "the stored parent's hash differs";
    } else if (ps->from == PARENT_FETCH) {
        if (pb && pb->rec.number == n - 1) {
            memcpy(known, pb->rec.hash, 32);
            have = true;
        }
    } else {
        gl_err e2;
        gl_code rc = gl_block_json_hash(header, n - 1, known, &e2);
        if (rc == GL_ENOMEM)
            return gl_err_set(err, GL_ENOMEM, "%s", e2.msg);
        if (rc)
            snprintf(why, sizeof why, "the parent's header %s", e2.msg);
        else
            have = true;
    }
    if (have && !memcmp(known, b->rec.parent_hash, 32)) {
        b->rec.verified |= GL_STORE_BLOCK_PARENT_OK;
        return GL_OK;
    }
    if (!have && !why[0])
        return GL_OK; /* never: a PARENT_FETCH block is always taken before its child */
    b->lied = true;
    char c[67], d[67] = "";
    return tr_finding_add(t, fv, &b->rec,
                       block_finding(b, "parent_mismatch", "parentHash", gl_hex_encode(b->rec.parent_hash, 32, true, c),
                                     have ? gl_hex_encode(known, 32, true, d) : d, have ? reason : why, NULL),
                       err);
}

/* Why whole blocks (eth_getBlockByNumber(n, true)) rather than
 * eth_getTransactionByHash for the transactions behind the transfers: the
 * blocks of the transfers are fetched anyway (their headers are stored with
 * the hash recomputed), so the transactions come in the same calls; one
 * block answers for every transfer in it (a log, a trace and a scanned tx
 * often share one); and the transaction is read at the position the log or
 * trace names inside the block whose hash was checked, where a lookup by
 * hash would cost a call per transaction and bind it to no block.
 *
 * Blocks nums (ascending, distinct) into out, each checked (check_block)
 * with its parent link (check_parent).  The parent's hash is the store's
 * when it holds block n - 1, else that of block n - 1 of this fetch, else
 * the header of block n - 1, asked for in the same JSON-RPC batch as the
 * blocks: no round trip more (as long as the endpoint takes batches of
 * 2 x SCAN_STEP calls), and what it costs is one header answer (the header
 * and its transactions' hashes) per block whose parent is neither stored
 * nor fetched with it: a scattered block of a commit, the first block of
 * a scan step. */
gl_code tr_fetch_blocks(trail *t, const uint64_t *nums, size_t n, fullv *out, gl_err *err)
{
    for (size_t off = 0; off < n; off += SCAN_STEP) {
        size_t k = n - off < SCAN_STEP ? n - off : SCAN_STEP, m = k;
        const char *methods[2 * SCAN_STEP];
        json_t *params[2 * SCAN_STEP], *results[2 * SCAN_STEP];
        parent_src ps[SCAN_STEP];
        gl_code rc = GL_OK;
        for (size_t i = 0; i < k; i++) {
            methods[i] = "eth_getBlockByNumber";
            params[i] = json_pack("[o,b]", tr_hexq(nums[off + i]), true);
        }
        for (size_t i = 0; i < k && !rc; i++) {
            uint64_t num = nums[off + i];
            ps[i] = (parent_src){.from = PARENT_NONE};
            if (!num)
                continue;
            gl_store_block sb;
            bool found;
            rc = gl_store_get_block(t->s, t->chain, num - 1, &sb, &found, err);
            if (rc)
                break;
            if (found) {
                ps[i].from = PARENT_STORED;
                memcpy(ps[i].hash, sb.hash, 32);
            } else if (off + i > 0 && nums[off + i - 1] == num - 1) {
                ps[i].from = PARENT_FETCH;
            } else {
                ps[i].from = PARENT_HEADER;
                ps[i].call = m;
                methods[m] = "eth_getBlockByNumber";
                params[m++] = json_pack("[o,b]", tr_hexq(num - 1), false);
            }
        }
        for (size_t i = 0; i < m && !rc; i++)
            if (!params[i])
                rc = gl_err_set(err, GL_ENOMEM, "out of memory asking for blocks");
        if (!rc)
            rc = gl_endpoints_call_many(t->ep, m, methods, params, results, err);
        for (size_t i = 0; i < m; i++)
            json_decref(params[i]);
        if (rc)
            return rc;
        size_t first = out->n; /* block off + i lands at out->v[first + i] */
        for (size_t i = 0; i < k; i++) {
            if (!rc)
                rc = take_block(t, out, results[i], nums[off + i], err);
            else
                json_decref(results[i]);
        }
        for (size_t i = 0; i < k && !rc; i++)
            rc = check_parent(t, &out->v[first + i], &ps[i],
                              ps[i].from == PARENT_FETCH && first + i > 0 ? &out->v[first + i - 1] : NULL,
                              ps[i].from == PARENT_HEADER ? results[ps[i].call] : NULL, &out->f, err);
        for (size_t i = k; i < m; i++)
            json_decref(results[i]);
        if (rc)
            return rc;
    }
    return GL_OK;
}

static const fullblk *fullv_find(const fullv *b, uint64_t n)
{
    for (size_t i = 0; b && i < b->n; i++)
        if (b->v[i].rec.number == n)
            return &b->v[i];
    return NULL;
}

/* Is b the block of hash h?  A block caught with a false header has two
 * hashes, the one it claims and the one its header hashes to: either may
 * be the one another answer (a log, a trace, the store) names, and that
 * disagreement is the lie's finding, not a reorg. */
static bool block_is(const fullblk *b, const uint8_t h[32])
{
    return !memcmp(b->rec.hash, h, 32) || !memcmp(b->claimed, h, 32);
}

void fullv_release(fullv *b)
{
    for (size_t i = 0; i < b->n; i++)
        json_decref(b->v[i].json);
    free(b->v);
    findv_release(&b->f);
    memset(b, 0, sizeof *b);
}

/* Mark the pending transfers of block p->v[i].t.pos.block (a run of the
 * sorted vector starting at i) that the store holds already. */
static gl_code mark_stored(trail *t, pendv *p, size_t i, gl_err *err)
{
    uint64_t num = p->v[i].t.pos.block;
    gl_store_iter *it = gl_store_iter_transfers(t->s, t->chain, num, num, err);
    if (!it)
        return err ? err->code : GL_EDB;
    gl_code rc = GL_OK;
    for (bool end = false; !rc;) {
        gl_store_transfer tr;
        rc = gl_store_next_transfer(it, &tr, &end, err);
        if (rc || end)
            break;
        for (size_t j = i; j < p->n && p->v[j].t.pos.block == num; j++)
            if (p->v[j].t.pos.kind == tr.pos.kind && p->v[j].t.pos.index == tr.pos.index &&
                p->v[j].t.pos.sub == tr.pos.sub)
                p->v[j].stored = true;
    }
    gl_store_iter_free(it);
    return rc;
}

/* The flags of x's tx when the store holds it, checked, at x's position
 * (by this trail or the indexer): then it is not fetched again. */
static gl_code tx_stored(trail *t, pend *x, gl_err *err)
{
    gl_store_tx rec;
    bool found;
    gl_code rc = gl_store_get_tx_by_hash(t->s, t->chain, x->t.tx_hash, &rec, &found, err);
    if (!rc && found && rec.block == x->t.pos.block && rec.index == x->tx_index &&
        (rec.flags & (GL_STORE_TX_SENDER_OK | GL_STORE_TX_SENDER_MISMATCH))) {
        x->t.flags = rec.flags;
        x->tx_done = true;
    }
    return rc;
}

/* Check the tx behind x at its position in block b (gl_tx_check): rebuilt
 * from its fields it must hash to the hash the log, trace or scan named;
 * its sender, recovered from the signature, must be the endpoint's `from`.
 * Adds the verdict to ck (its findings too, placed in b with "source":
 * "trail" where the indexer names its platform) and points *out at it.  A
 * tx that is not the one named, or has no recoverable sender, flags its
 * transfers mismatch: they rest on the endpoint's word alone.  A tx type
 * this build cannot rebuild (a chain's own system transactions) keeps the
 * endpoint's words, unchecked (flags 0), said in the log.
 *
 * A block caught contradicting itself or what is known (b->lied: a header
 * that does not hash to its hash, a body that does not match its header,
 * a parentHash that is not its parent's hash) does not vouch for its
 * transactions: whichever field it lied about, the tx's place in
 * the chain then rests on that answer's word alone.  Its transfers are
 * flagged mismatch (so they lead nowhere), the block's findings being the
 * evidence, and no tx record is stored: a later fetch, from an honest
 * endpoint, checks the tx afresh, where a stored record would end the
 * question (tx_stored). */
static gl_code check_tx(trail *t, const fullblk *b, const pend *x, checked *ck, vtx **out, gl_err *err)
{
    vtx *nv = tr_grow_one(ck->tx, ck->ntx, &ck->txcap, sizeof *nv, 16);
    if (!nv)
        return gl_err_set(err, GL_ENOMEM, "out of memory checking transactions");
    ck->tx = nv;
    vtx *v = &ck->tx[ck->ntx];
    if (b->lied) {
        *v = (vtx){.flags = GL_STORE_TX_SENDER_MISMATCH};
        memcpy(v->rec.hash, x->t.tx_hash, 32); /* for checked_find */
        *out = &ck->tx[ck->ntx++];
        return GL_OK;
    }
    const json_t *obj = json_array_get(json_object_get(b->json, "transactions"), x->tx_index);
    /* high s only before EIP-2; no base fee (pre-London) is the indexer's
     * stand-in for that */
    unsigned flags = json_object_get(b->json, "baseFeePerGas") ? 0 : GL_TX_ALLOW_HIGH_S;
    gl_tx_checked c;
    json_t *f;
    gl_code rc = gl_tx_check(t->secp, &c, &f, obj, t->chain, b->rec.number, x->tx_index, x->t.tx_hash, flags, err);
    if (rc)
        return rc;
    v->rec = c.rec;
    v->has_rec = c.has_from;
    switch (c.verdict) {
    case GL_TX_CHECK_SENDER_OK:
    case GL_TX_CHECK_SENDER_MISMATCH:
    case GL_TX_CHECK_UNRECOVERED: /* never: t->secp is set */
        break;
    case GL_TX_CHECK_UNSUPPORTED:
        tr_say(t, 1, "block %" PRIu64 " tx %u: sender not checked: %s", b->rec.number, x->tx_index, c.reason);
        break;
    case GL_TX_CHECK_UNRECOVERABLE:
    case GL_TX_CHECK_UNREADABLE:
    case GL_TX_CHECK_HASH_MISMATCH:
        v->rec.flags = GL_STORE_TX_SENDER_MISMATCH;
        break;
    }
    v->flags = v->rec.flags;
    if (f && (rc = tr_finding_add(t, &ck->f, &b->rec, f, err)))
        return rc;
    *out = &ck->tx[ck->ntx++];
    return GL_OK;
}

static vtx *checked_find(checked *ck, const uint8_t hash[32])
{
    for (size_t i = 0; i < ck->ntx; i++)
        if (!memcmp(ck->tx[i].rec.hash, hash, 32))
            return &ck->tx[i];
    return NULL;
}

static void checked_release(checked *ck)
{
    findv_release(&ck->f);
    free(ck->tx);
    memset(ck, 0, sizeof *ck);
}

/* Write findings fv (may be NULL). */
static gl_code put_findings(trail *t, gl_store_batch *b, const findv *fv, gl_err *err)
{
    gl_code rc = GL_OK;
    for (size_t i = 0; fv && i < fv->n && !rc; i++)
        rc = gl_store_batch_put_finding(b, t->chain, fv->v[i].block, fv->v[i].json, NULL, err);
    return rc;
}

/* Write what ck checked: the tx records (the store adds their
 * appearances), and the findings. */
static gl_code put_checked(trail *t, gl_store_batch *b, const checked *ck, gl_err *err)
{
    gl_code rc = GL_OK;
    for (size_t i = 0; i < ck->ntx && !rc; i++)
        if (ck->tx[i].has_rec)
            rc = gl_store_batch_put_tx(b, &ck->tx[i].rec, err);
    return rc ? rc : put_findings(t, b, &ck->f, err);
}

/* Store the pending transfers (deduplicated), their appearances, the
 * headers of their blocks not yet stored, and their transactions, checked
 * (check_tx): blocks come from `known` (the scan's), else are fetched with
 * their transactions when a header or a transaction is missing from the
 * store.  A transfer gets its tx's flags.  A block hash that disagrees with
 * the store or with the logs is a reorg under the window: GL_EVERIFY,
 * nothing written.  The findings of the blocks checked (fetched here, or
 * `known`, with or without transfers) are written too. */
gl_code tr_commit(trail *t, pendv *p, const fullv *known, gl_err *err)
{
    if (!p->n) {
        if (!known || !known->f.n)
            return GL_OK;
        gl_store_batch *b = gl_store_batch_new(t->s, err);
        gl_code rc = b ? put_findings(t, b, &known->f, err) : err ? err->code : GL_EDB;
        if (!rc)
            rc = gl_store_batch_commit(b, err);
        gl_store_batch_free(b);
        if (!rc)
            t->rep->findings += known->f.n;
        return rc;
    }
    qsort(p->v, p->n, sizeof *p->v, pend_cmp);
    size_t k = 0;
    for (size_t i = 1; i < p->n; i++)
        if (pend_cmp(&p->v[k], &p->v[i]))
            p->v[++k] = p->v[i];
    p->n = k + 1;

    /* blocks: distinct numbers, ascending (the transfers are sorted) */
    uint64_t *missing = malloc(p->n * sizeof *missing);
    gl_store_block *stored = malloc(p->n * sizeof *stored); /* per transfer: its block as stored */
    bool *found = calloc(p->n, sizeof *found);
    if (!missing || !stored || !found) {
        free(missing);
        free(stored);
        free(found);
        return gl_err_set(err, GL_ENOMEM, "out of memory committing transfers");
    }
    size_t nmissing = 0;
    blockv fresh = {0};
    fullv fetched = {0};
    checked ck = {0};
    gl_code rc = GL_OK;
    for (size_t i = 0; i < p->n && !rc; i++) {
        uint64_t num = p->v[i].t.pos.block;
        if (i && p->v[i - 1].t.pos.block == num) {
            found[i] = found[i - 1];
            stored[i] = stored[i - 1];
            continue;
        }
        rc = gl_store_get_block(t->s, t->chain, num, &stored[i], &found[i], err);
        if (!rc)
            rc = mark_stored(t, p, i, err);
        bool need = !found[i];
        for (size_t j = i; j < p->n && p->v[j].t.pos.block == num && !rc; j++) {
            rc = tx_stored(t, &p->v[j], err);
            need = need || !p->v[j].tx_done;
            if (!rc && found[i] && p->v[j].has_bh && memcmp(p->v[j].block_hash, stored[i].hash, 32))
                rc = gl_err_set(err, GL_EVERIFY,
                                "block %" PRIu64 ": the store holds another hash than the endpoint's logs "
                                "(a reorg?): run gpuledger follow, then expand again",
                                num);
        }
        if (!rc && need && !fullv_find(known, num))
            missing[nmissing++] = num;
    }
    if (!rc)
        rc = tr_fetch_blocks(t, missing, nmissing, &fetched, err);
    free(missing);
    /* every transfer's block as fetched must be the one stored and the one
     * its log or trace named; then its tx is checked */
    for (size_t i = 0; i < p->n && !rc; i++) {
        pend *x = &p->v[i];
        const fullblk *fb = fullv_find(known, x->t.pos.block);
        if (!fb)
            fb = fullv_find(&fetched, x->t.pos.block);
        if (!fb)
            continue; /* header and tx in the store */
        bool first = !i || p->v[i - 1].t.pos.block != x->t.pos.block;
        if ((found[i] && !block_is(fb, stored[i].hash)) || (x->has_bh && !block_is(fb, x->block_hash)))
            rc = gl_err_set(err, GL_EVERIFY,
                            "block %" PRIu64 " changed while the trail read it (a reorg?): expand again later",
                            fb->rec.number);
        if (!rc && first && !found[i]) {
            /* a false header (no HASH_OK) is stored under the hash the
             * log or trace names, when it does: later runs then meet the
             * hash their logs name, not a reorg */
            gl_store_block r = fb->rec;
            if (x->has_bh)
                memcpy(r.hash, x->block_hash, 32);
            rc = tr_block_push(&fresh, &r, err);
        }
        if (rc || x->tx_done)
            continue;
        vtx *v = checked_find(&ck, x->t.tx_hash);
        if (!v)
            rc = check_tx(t, fb, x, &ck, &v, err);
        if (!rc)
            x->t.flags = v->flags;
    }
    free(stored);
    free(found);
    gl_store_batch *b = rc ? NULL : gl_store_batch_new(t->s, err);
    if (!rc && !b)
        rc = err ? err->code : GL_EDB;
    uint64_t napp = 0, ntok = 0, nnat = 0, nnew = 0, ntx = 0;
    for (size_t i = 0; i < fresh.n && !rc; i++)
        rc = gl_store_batch_put_block(b, &fresh.v[i], err);
    if (!rc)
        rc = put_findings(t, b, &fetched.f, err);
    if (!rc && known)
        rc = put_findings(t, b, &known->f, err);
    if (!rc)
        rc = put_checked(t, b, &ck, err);
    for (size_t i = 0; i < ck.ntx; i++)
        ntx += ck.tx[i].has_rec;
    for (size_t i = 0; i < p->n && !rc; i++) {
        const gl_store_transfer *tr = &p->v[i].t;
        rc = gl_store_batch_put_transfer(b, tr, err);
        if (p->v[i].stored)
            continue;
        nnew++;
        if (tr->asset == GL_STORE_ASSET_NATIVE)
            nnat++;
        else
            ntok++;
    }
    if (!rc) {
        napp = gl_store_batch_appearances(b);
        rc = gl_store_batch_commit(b, err);
    }
    gl_store_batch_free(b);
    if (!rc) {
        t->rep->transfers += nnew;
        t->rep->appearances += napp;
        t->rep->blocks += fresh.n;
        t->rep->txs += ntx;
        t->rep->findings += ck.f.n + fetched.f.n + (known ? known->f.n : 0);
        t->lv->token_transfers += ntok;
        t->lv->native_transfers += nnat;
    }
    checked_release(&ck);
    fullv_release(&fetched);
    free(fresh.v);
    p->n = 0;
    return rc;
}
