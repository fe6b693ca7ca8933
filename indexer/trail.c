/* trail.c - the funding trail: token and native transfers of the
 * marketplace wallets and of their counterparties, hop by hop (see trail.h
 * for what is fetched, stored and skipped, and why).
 *
 * One level at a time:
 *   1. classify the level's addresses (zero, platform contract, hub label,
 *      hub by degree, or to expand);
 *   2. fetch, per batch of addresses, their Transfer logs (and with
 *      trace_filter their native transfers) over the part of their window
 *      not fetched before; commit each batch with its block headers and
 *      its carrying transactions, senders recovered (check_tx), every
 *      block fetched checked against its own header and hash (check_block)
 *      and against its parent's hash (check_parent);
 *   3. without trace_filter, scan the blocks of the level's windows for
 *      native transfers, within the run's block budget;
 *   4. read each expanded address's transfers back from the store (so an
 *      earlier run's work counts the same as this one's) to find its
 *      counterparties (never through a transfer of a lying tx): the next
 *      level, unless there are too many of them (a hub).
 * After every commit the state file records what has been fetched, so a
 * run that stops anywhere resumes without fetching it again.
 *
 * This file: the walk itself (gl_trail_expand, its options, the seeds and
 * the levels: classify, expand, take the children).  The other parts, one
 * job a file, are listed in trail_int.h.
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

void tr_say(trail *t, int level, const char *fmt, ...)
{
    if (!t->o.log)
        return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    t->o.log(t->o.log_ctx, level, msg);
}

const char *gl_trail_skip_name(gl_trail_skip why)
{
    switch (why) {
    case GL_TRAIL_SKIP_ZERO: return "zero address";
    case GL_TRAIL_SKIP_PLATFORM: return "platform contract";
    case GL_TRAIL_SKIP_LABEL: return "hub label";
    case GL_TRAIL_SKIP_DEGREE: return "hub degree";
    case GL_TRAIL_SKIP_DEPTH: return "depth limit";
    case GL_TRAIL_SKIP_COUNT: break;
    }
    return "?";
}

/* -------------------------------------------------------------- levels */

/* Why a hub by degree was not expanded, for the state file. */
static gl_code degree_note(trail *t, node *n)
{
    free(n->note);
    n->note = malloc(96);
    if (n->note)
        snprintf(n->note, 96, "more than %" PRIu64 " counterparties (%" PRIu64 " seen)", t->o.hub_degree, n->degree);
    return GL_OK;
}

static bool category_is_hub(const trail *t, const char *cat)
{
    for (size_t i = 0; i < t->ncats; i++)
        if (!strcmp(t->cats[i], cat))
            return true;
    return false;
}

/* Set n->skip (and the note) for an address that is not to be expanded. */
static gl_code classify(trail *t, node *n, bool last, gl_err *err)
{
    n->skip = -1;
    free(n->note);
    n->note = NULL;
    if (!memcmp(n->addr, tr_zero20, 20)) {
        n->skip = GL_TRAIL_SKIP_ZERO;
        return GL_OK;
    }
    if (n->platform) {
        n->skip = GL_TRAIL_SKIP_PLATFORM;
        return GL_OK;
    }
    gl_store_iter *it = gl_store_iter_labels(t->s, n->addr, err);
    if (!it)
        return err ? err->code : GL_EDB;
    gl_code rc = GL_OK;
    for (bool end = false; !rc && n->skip < 0;) {
        gl_store_label l;
        rc = gl_store_next_label(it, &l, &end, err);
        if (rc || end)
            break;
        if (category_is_hub(t, l.category)) {
            n->skip = GL_TRAIL_SKIP_LABEL;
            size_t cap = strlen(l.label) + strlen(l.category) + strlen(l.source) + 32;
            n->note = malloc(cap);
            if (n->note)
                snprintf(n->note, cap, "'%s' (%s) from '%s'", l.label, l.category, l.source);
        }
    }
    gl_store_iter_free(it);
    if (rc || n->skip >= 0)
        return rc;
    if (n->fetch_hub && n->degree > t->o.hub_degree) {
        n->skip = GL_TRAIL_SKIP_DEGREE;
        return degree_note(t, n);
    }
    if (n->fetch_hub) {
        /* a hub under a lower threshold: its dropped transfers are wanted now */
        n->fetch_hub = false;
        n->has_tok = n->has_nat = false;
    }
    if (last)
        n->skip = GL_TRAIL_SKIP_DEPTH;
    return GL_OK;
}

/* The counterparties of n from its stored transfers in its window; past
 * hub_degree n is a hub and gives none. */
static gl_code take_children(trail *t, node *n, aset *kids, gl_err *err)
{
    aset_clear(kids);
    if (n->fetch_hub) { /* fetching stopped past hub_degree */
        n->skip = GL_TRAIL_SKIP_DEGREE;
        return degree_note(t, n);
    }
    gl_store_iter *it = gl_store_iter_appearances(t->s, n->addr, err);
    if (!it)
        return err ? err->code : GL_EDB;
    gl_code rc = GL_OK;
    uint64_t prev = UINT64_MAX;
    bool hub = false;
    for (bool end = false; !rc && !hub;) {
        gl_store_appearance a;
        rc = gl_store_next_appearance(it, &a, &end, err);
        if (rc || end)
            break;
        if (a.pos.chain_id != t->chain || (a.role != GL_STORE_ROLE_SENDER && a.role != GL_STORE_ROLE_RECIPIENT) ||
            !iv_has(n->need, a.pos.block) || a.pos.block == prev)
            continue;
        prev = a.pos.block;
        gl_store_iter *ti = gl_store_iter_transfers(t->s, t->chain, a.pos.block, a.pos.block, err);
        if (!ti) {
            rc = err ? err->code : GL_EDB;
            break;
        }
        for (bool tend = false; !rc && !hub;) {
            gl_store_transfer tr;
            rc = gl_store_next_transfer(ti, &tr, &tend, err);
            if (rc || tend)
                break;
            /* A transfer whose carrying tx the endpoint misreported (its
             * sender, or a tx that is not the one named) is kept, flagged,
             * with its finding, but leads nowhere: its counterparty rests
             * on the word of an endpoint caught lying about that very tx,
             * and following it would let one lie pull any address (and
             * its hops, and the fetching they cost) into the trail.  A
             * real counterparty is reached through its other, checked
             * transfers. */
            if (tr.flags & (GL_STORE_TX_FAILED | GL_STORE_TX_SENDER_MISMATCH))
                continue;
            const uint8_t *other = NULL;
            if (!memcmp(tr.from, n->addr, 20) && memcmp(tr.to, n->addr, 20))
                other = tr.to;
            else if (!memcmp(tr.to, n->addr, 20) && memcmp(tr.from, n->addr, 20))
                other = tr.from;
            if (!other)
                continue;
            rc = aset_add(kids, other, tr.pos.block, NULL, err);
            hub = kids->n > t->o.hub_degree;
        }
        gl_store_iter_free(ti);
    }
    gl_store_iter_free(it);
    if (rc)
        return rc;
    n->degree = kids->n;
    if (hub) {
        n->skip = GL_TRAIL_SKIP_DEGREE;
        aset_clear(kids);
        return degree_note(t, n);
    }
    return GL_OK;
}

static int node_cmp(const void *a, const void *b)
{
    const node *x = *(node *const *)a, *y = *(node *const *)b;
    return memcmp(x->addr, y->addr, 20);
}

static int need_cmp(const void *a, const void *b)
{
    const node *x = *(node *const *)a, *y = *(node *const *)b;
    if (x->need.lo != y->need.lo)
        return x->need.lo < y->need.lo ? -1 : 1;
    return memcmp(x->addr, y->addr, 20);
}

static gl_code walk_level(trail *t, unsigned lvl, bool *more, gl_err *err)
{
    *more = false;
    /* the level's nodes, by address (nodes may move when the map grows:
     * collect indices, then pointers once nothing is added) */
    size_t cnt = 0;
    for (size_t i = 0; i < t->map.n; i++)
        if (t->map.nodes[i].depth == (int)lvl)
            cnt++;
    t->lv = &t->rep->level[lvl];
    t->lv->addresses = cnt;
    if (!cnt)
        return GL_OK;
    t->rep->levels = lvl + 1;
    node **e = malloc(cnt * sizeof *e);
    if (!e)
        return gl_err_set(err, GL_ENOMEM, "out of memory for a level");
    size_t ne = 0;
    for (size_t i = 0; i < t->map.n; i++)
        if (t->map.nodes[i].depth == (int)lvl)
            e[ne++] = &t->map.nodes[i];
    qsort(e, ne, sizeof *e, node_cmp);
    bool last = lvl == t->o.depth;
    gl_code rc = GL_OK;
    size_t nx = 0;
    for (size_t i = 0; i < ne && !rc; i++) {
        rc = classify(t, e[i], last, err);
        if (rc)
            break;
        if (e[i]->skip >= 0)
            t->lv->skipped[e[i]->skip]++;
        else if (e[i]->has_need)
            e[nx++] = e[i];
    }
    tr_say(t, 0, "depth %u: %zu addresses, %zu to expand", lvl, cnt, nx);
    if (rc || last || !nx) {
        free(e);
        return rc;
    }
    /* fetch in batches of neighbouring windows */
    qsort(e, nx, sizeof *e, need_cmp);
    for (size_t off = 0; off < nx && !rc; off += t->o.addr_batch) {
        size_t k = nx - off < t->o.addr_batch ? nx - off : t->o.addr_batch;
        bool refused = false;
        rc = tr_run_batch(t, e + off, k, &refused, err);
        if (!rc && refused) {
            if (t->o.native == GL_TRAIL_NATIVE_TRACE)
                rc = gl_err_set(err, GL_ENOTSUP, "the endpoint has no trace_filter (%s)", t->rep->native_note);
            else {
                t->trace_ok = false;
                tr_say(t, 1, "%s: scanning blocks for native transfers instead", t->rep->native_note);
            }
        }
    }
    bool scan = t->o.native == GL_TRAIL_NATIVE_SCAN || (t->o.native == GL_TRAIL_NATIVE_AUTO && !t->trace_ok);
    if (!rc && scan)
        rc = tr_run_scan(t, e, nx, err);
    if (!rc)
        rc = tr_save_state(t, err);
    /* counterparties: the next level */
    aset kids = {0};
    qsort(e, nx, sizeof *e, node_cmp);
    /* e holds pointers into the map, which grows below: keep addresses */
    uint8_t (*addrs)[20] = rc ? NULL : malloc(nx * sizeof *addrs);
    if (!rc && !addrs)
        rc = gl_err_set(err, GL_ENOMEM, "out of memory for a level");
    for (size_t i = 0; i < nx && !rc; i++)
        memcpy(addrs[i], e[i]->addr, 20);
    free(e);
    for (size_t i = 0; i < nx && !rc; i++) {
        node *n = tr_map_find(&t->map, addrs[i]);
        rc = take_children(t, n, &kids, err);
        if (rc)
            break;
        if (n->skip >= 0) {
            t->lv->skipped[n->skip]++;
            continue;
        }
        n->expanded = true;
        t->lv->expanded++;
        for (size_t j = 0; j < kids.n && !rc; j++) {
            node *c;
            rc = tr_map_get(&t->map, kids.v[j].addr, &c, err);
            if (rc)
                break;
            iv lo_w, hi_w;
            if (!iv_around(kids.v[j].lo, t->o.window, t->safe, &lo_w) ||
                !iv_around(kids.v[j].hi, t->o.window, t->safe, &hi_w))
                continue;
            iv w = iv_hull(lo_w, hi_w);
            if (c->depth < 0) {
                c->depth = (int)lvl + 1;
                c->has_need = true;
                c->need = w;
                t->lv->next++;
                *more = true;
            } else if (c->depth == (int)lvl + 1) {
                c->need = c->has_need ? iv_hull(c->need, w) : w;
                c->has_need = true;
            }
        }
    }
    aset_release(&kids);
    free(addrs);
    tr_say(t, 0, "depth %u: %" PRIu64 " expanded, %" PRIu64 " new counterparties", lvl, t->lv->expanded, t->lv->next);
    return rc;
}

/* ---------------------------------------------------------------- seeds */

static gl_code seed(trail *t, gl_err *err)
{
    gl_store_iter *it = gl_store_iter_events(t->s, t->chain, 0, UINT64_MAX, err);
    if (!it)
        return err ? err->code : GL_EDB;
    gl_store_event *ev = malloc(sizeof *ev);
    gl_code rc = ev ? GL_OK : gl_err_set(err, GL_ENOMEM, "out of memory reading events");
    for (bool end = false; !rc;) {
        rc = gl_store_next_event(it, ev, &end, err);
        if (rc || end)
            break;
        node *n;
        rc = tr_map_get(&t->map, ev->contract, &n, err);
        if (!rc)
            n->platform = true;
        if (!rc && ev->has_token) {
            rc = tr_map_get(&t->map, ev->token, &n, err);
            if (!rc)
                n->platform = true;
        }
        iv w;
        bool inside = iv_around(ev->block, t->o.window, t->safe, &w);
        for (size_t i = 0; i < ev->n_roles && !rc; i++) {
            if ((unsigned)ev->roles[i].role >= 32 || !(t->seed_mask & (1u << ev->roles[i].role)))
                continue;
            rc = tr_map_get(&t->map, ev->roles[i].addr, &n, err);
            if (rc)
                break;
            if (n->depth != 0) {
                n->depth = 0;
                n->has_need = false;
                t->rep->seeds++;
            }
            if (inside) {
                n->need = n->has_need ? iv_hull(n->need, w) : w;
                n->has_need = true;
            }
        }
    }
    free(ev);
    gl_store_iter_free(it);
    return rc;
}

/* ------------------------------------------------------------- options */

static gl_code resolve_opts(trail *t, const gl_trail_opts *in, gl_err *err)
{
    gl_trail_opts o = in ? *in : (gl_trail_opts){0};
    if (!o.depth)
        o.depth = GL_TRAIL_DEPTH_DEFAULT;
    if (o.depth > GL_TRAIL_DEPTH_MAX)
        return gl_err_set(err, GL_EINVAL, "depth %u is more than %u hops", o.depth, GL_TRAIL_DEPTH_MAX);
    if (!o.window)
        o.window = GL_TRAIL_WINDOW_DEFAULT;
    if (!o.hub_degree)
        o.hub_degree = GL_TRAIL_HUB_DEGREE_DEFAULT;
    if (!o.max_scan_blocks)
        o.max_scan_blocks = GL_TRAIL_MAX_SCAN_BLOCKS_DEFAULT;
    if (!o.addr_batch)
        o.addr_batch = GL_TRAIL_ADDR_BATCH_DEFAULT;
    if (o.addr_batch > GL_TRAIL_ADDR_BATCH_MAX)
        return gl_err_set(err, GL_EINVAL, "address batch %u is more than %u", o.addr_batch, GL_TRAIL_ADDR_BATCH_MAX);
    if (!o.confirmations_set)
        o.confirmations = GL_TRAIL_CONFIRMATIONS_DEFAULT;
    const char *roles = o.seed_roles ? o.seed_roles : GL_TRAIL_SEED_ROLES_DEFAULT;
    const char *cats = o.hub_categories ? o.hub_categories : GL_TRAIL_HUB_CATEGORIES_DEFAULT;
    char item[GL_STORE_NAME_MAX];
    for (const char *p = roles; *p;) {
        size_t len = strcspn(p, ",");
        if (!len || len >= sizeof item)
            return gl_err_set(err, GL_EINVAL, "bad seed role list '%s'", roles);
        memcpy(item, p, len);
        item[len] = '\0';
        gl_store_role r;
        if (gl_store_role_parse(item, &r, err))
            return GL_EINVAL;
        t->seed_mask |= 1u << r;
        p += len + (p[len] == ',');
    }
    for (const char *p = cats; *p;) {
        size_t len = strcspn(p, ",");
        if (!len || len >= sizeof item || t->ncats == sizeof t->cats / sizeof t->cats[0])
            return gl_err_set(err, GL_EINVAL, "bad hub category list '%s'", cats);
        memcpy(t->cats[t->ncats], p, len);
        t->cats[t->ncats++][len] = '\0';
        p += len + (p[len] == ',');
    }
    t->o = o;
    return GL_OK;
}

/* ------------------------------------------------------------------ API */

gl_code gl_trail_expand(gl_store *s, gl_endpoints *ep, const gl_trail_opts *opts, gl_trail_report *report,
                        gl_err *err)
{
    gl_trail_report local;
    gl_trail_report *rep = report ? report : &local;
    memset(rep, 0, sizeof *rep);
    rep->native_method = "none";
    if (!s || !ep)
        return gl_err_set(err, GL_EINVAL, "expand needs a store and endpoints");
    trail *t = calloc(1, sizeof *t);
    if (!t)
        return gl_err_set(err, GL_ENOMEM, "out of memory");
    t->s = s;
    t->ep = ep;
    t->rep = rep;
    t->trace_ok = true;
    t->lv = &rep->level[0];
    gl_code rc = resolve_opts(t, opts, err);
    if (!rc)
        rc = gl_hex_decode_exact(TRANSFER_TOPIC, t->topic0, 32, err);
    if (!rc && !(t->secp = gl_secp_new(err)))
        rc = err ? err->code : GL_ENOMEM;
    if (!rc)
        rc = gl_endpoints_chain_id(ep, &t->chain, err);
    json_t *head = NULL;
    if (!rc)
        rc = gl_endpoints_call(ep, "eth_blockNumber", NULL, &head, NULL, err);
    if (!rc && !tr_q_u64(head, &t->head))
        rc = gl_err_set(err, GL_ERPC, "eth_blockNumber: not a quantity");
    json_decref(head);
    if (!rc) {
        rep->chain_id = t->chain;
        rep->head = t->head;
        t->safe = t->head > t->o.confirmations ? t->head - t->o.confirmations : 0;
        rep->safe_head = t->safe;
        tr_state_path(t, rep->state_path, sizeof rep->state_path);
        rc = tr_load_state(t, err);
        t->state_ok = !rc;
    }
    if (!rc && t->o.native == GL_TRAIL_NATIVE_SCAN)
        snprintf(rep->native_note, sizeof rep->native_note, "block scan asked for");
    if (!rc)
        rc = seed(t, err);
    bool more = !rc;
    for (unsigned lvl = 0; lvl <= t->o.depth && more && !rc; lvl++)
        rc = walk_level(t, lvl, &more, err);
    if (t->state_ok) {
        gl_err serr;
        gl_code src = tr_save_state(t, &serr);
        if (!rc && src) {
            rc = src;
            if (err)
                *err = serr;
        }
    }
    switch (t->o.native) {
    case GL_TRAIL_NATIVE_NONE: rep->native_method = "none"; break;
    case GL_TRAIL_NATIVE_SCAN: rep->native_method = "block scan"; break;
    case GL_TRAIL_NATIVE_TRACE: rep->native_method = "trace_filter"; break;
    case GL_TRAIL_NATIVE_AUTO: rep->native_method = t->trace_ok ? "trace_filter" : "block scan"; break;
    }
    tr_map_release(&t->map);
    gl_secp_free(t->secp);
    free(t);
    return rc;
}
