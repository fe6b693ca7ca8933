/* indexer_records.c - building the store's records from a verified block:
 * events decoded and mapped (roles, joins, direct plans), their
 * transactions, and block_process, which checks a block and puts them.
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
        return json_string(ix_hex_of(w + 12, 20, buf));
    if (kind == GL_ABI_UINT) {
        gl_u256 x;
        char dec[GL_U256_DEC_MAX];
        if (gl_u256_from_be(&x, w, 32, NULL))
            return NULL;
        return json_string(gl_u256_to_dec(&x, dec));
    }
    return json_string(ix_hex_of(w, 32, buf));
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
        size_t spec = je && jk && jf ? ix_spec_find(ix, je, jk, jf) : SIZE_MAX;
        uint8_t w[32];
        const ix_join_entry *hit = NULL;
        if (spec != SIZE_MAX && gl_indexer_value_word(val, w))
            hit = ix_jt_get(ix, (uint32_t)spec, w);
        json_t *res = hit ? word_value(hit->val, ix->specs[spec].field_kind) : NULL;
        if (res) {
            if (json_object_set_new(roles, key, res))
                return ix_nomem(err);
            continue;
        }
        json_t *f = ix_finding_new(ix, "unresolved_join", g->block);
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
        gl_code rc = ix_finding_add(ix, g->block, f, err);
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
    const ix_addr *a = ix_addr_find(ix, g->address);
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
            return ix_nomem(err);
        if (rc) {
            json_t *f = ix_finding_new(ix, "undecodable_log", g->block);
            fset_int(f, "log_index", g->log_index);
            fset_hex(f, "tx_hash", g->tx_hash, 32);
            fset_hex(f, "contract", g->address, 20);
            fset_str(f, "event", sig->name);
            fset_str(f, "reason", e2.msg);
            return ix_finding_add(ix, g->block, f, err);
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
                json_t *f = ix_finding_new(ix, "unpriced_rate", g->block);
                fset_int(f, "log_index", g->log_index);
                fset_hex(f, "tx_hash", g->tx_hash, 32);
                fset_str(f, "event", sig->name);
                if (f)
                    json_object_set(f, "rate", json_object_get(rate, "rate"));
                fset_str(f, "reason", why);
                rc = ix_finding_add(ix, g->block, f, err);
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
        size_t need = (ix_event_id(&ev, ix->specs[i].key) == NULL) + (ix_event_id(&ev, ix->specs[i].field) == NULL);
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
        json_t *f = ix_finding_new(ix, "unstorable_event", g->block);
        fset_int(f, "log_index", g->log_index);
        fset_hex(f, "tx_hash", g->tx_hash, 32);
        fset_str(f, "event", sig->name);
        fset_str(f, "reason", e2.msg);
        rc = ix_finding_add(ix, g->block, f, err);
        goto done;
    }
    ix->bc.events++;
    if ((rc = ix_learn_event(ix, &ev, err)))
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

/* Check one block and, when it holds and `build`, put its records into
 * the batch.  With !build (an earlier block of the chunk failed) the
 * checks still run, so that every answer received is looked at and its
 * lies recorded. */
gl_code ix_block_process(gl_indexer *ix, ix_blk *blk, bool strict, bool build, gl_err *err)
{
    ix_check c;
    gl_code rc = ix_block_check(ix, blk, strict, &c, err);
    if (rc || ix->signal == IX_REORG)
        goto done;
    if (c.bad && strict) {
        ix->signal = IX_RETRY;
        goto done;
    }
    if (!build)
        goto done;
    bool disputed = false;
    if (ix->o.quorum && blk->block && (rc = ix_check_quorum(ix, &c, &disputed, err)))
        goto done;
    if ((rc = gl_store_batch_put_block(ix->b, &c.rec, err)))
        goto done;
    ix->bc.blocks++;
    for (size_t i = 0; i < c.ntxs; i++)
        if ((rc = build_tx(ix, &c.txs[i], err)))
            goto done;
    for (size_t i = 0; i < blk->nlogs; i++) {
        const ix_tx *t = blk->block ? ix_tx_of(&c, blk->logs[i].tx_index) : NULL;
        if ((rc = build_event(ix, &blk->logs[i], t, c.proven[i], disputed, err)))
            goto done;
    }
    ix->bc.logs += blk->nlogs;
    ix->has_prev = true;
    ix->prev_num = blk->num;
    memcpy(ix->prev_hash, c.rec.hash, 32);
done:
    ix_check_release(&c);
    return rc;
}
