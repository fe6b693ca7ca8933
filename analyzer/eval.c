/* eval.c - precision and recall of the stored analysis against the truth.
 *
 * The oracle is the simulator's truth file, never the analyzer's own output:
 * every address's true entity and kind, and every proxy wallet's typology
 * and beneficiary.  Universe: addresses the analysis knows that the truth
 * describes.  Pairwise entity figures count address pairs (n choose 2) in
 * the cells of the two partitions.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpuledger/bytes.h"
#include "gpuledger/eval.h"
#include "gpuledger/gpu_models.h"
#include "gpuledger/market.h"
#include "gpuledger/results.h"
#include "gpuledger/uf.h"
#include "gpuledger/volume.h"

typedef struct item {
    char addr[43];
    uint32_t ours;       /* our entity id */
    int truth;           /* index of the truth entity, -1 unknown */
} item;

typedef struct ev_ctx {
    json_t *truth_addrs;   /* address -> record */
    json_t *truth_ents;
    item *items;
    size_t n, cap;
    json_t *flags;         /* address -> wallet record (flagged or not) */
    gl_err *err;
} ev_ctx;

static int collect_wallet(void *ctx, json_t *rec)
{
    ev_ctx *c = ctx;
    const char *a = json_string_value(json_object_get(rec, "address"));
    if (a)
        json_object_set(c->flags, a, rec);
    return 0;
}

static int item_cmp_ours(const void *x, const void *y)
{
    const item *a = x, *b = y;
    if (a->ours != b->ours)
        return a->ours < b->ours ? -1 : 1;
    return a->truth - b->truth;
}

static int item_cmp_truth(const void *x, const void *y)
{
    const item *a = x, *b = y;
    return a->truth - b->truth;
}

static double pairs(double n) { return n * (n - 1) / 2; }

static double ratio(double a, double b) { return b > 0 ? a / b : 1.0; }
static double f1(double p, double r) { return p + r > 0 ? 2 * p * r / (p + r) : 0; }

/* Truth entity index by id (its position in the sorted key list). */
static int truth_index(json_t *ents, const char *id)
{
    size_t i = 0;
    const char *k;
    json_t *v;
    json_object_foreach(ents, k, v) {
        if (!strcmp(k, id))
            return (int)i;
        i++;
    }
    return -1;
}

static gl_code entity_figures(ev_ctx *c, gl_store *s, json_t *out)
{
    /* Walk every stored member (m/ records) through entity records. */
    gl_store_iter *it = gl_store_iter_analysis(s, "m/", 2, c->err);
    if (!it)
        return GL_EDB;
    gl_code rc = GL_OK;
    /* truth entity ids -> index, via a JSON object of index numbers */
    json_t *tidx = json_object();
    size_t ti = 0;
    const char *k;
    json_t *v;
    json_object_foreach(c->truth_ents, k, v) json_object_set_new(tidx, k, json_integer((json_int_t)ti++));
    for (;;) {
        const uint8_t *key, *val;
        size_t kl, vl;
        bool end;
        if ((rc = gl_store_next_analysis(it, &key, &kl, &val, &vl, &end, c->err)) || end)
            break;
        if (kl != 22 || vl != 4)
            continue;
        char a[43];
        static const char hx[] = "0123456789abcdef";
        a[0] = '0';
        a[1] = 'x';
        for (int i = 0; i < 20; i++) {
            a[2 + 2 * i] = hx[key[2 + i] >> 4];
            a[3 + 2 * i] = hx[key[2 + i] & 15];
        }
        a[42] = 0;
        json_t *tr = json_object_get(c->truth_addrs, a);
        if (!tr)
            continue;
        const char *te = json_string_value(json_object_get(tr, "entity"));
        json_t *tix = te ? json_object_get(tidx, te) : NULL;
        if (!tix)
            continue;
        if (c->n == c->cap) {
            size_t nc = c->cap ? c->cap * 2 : 256;
            item *t = realloc(c->items, nc * sizeof *t);
            if (!t) {
                rc = gl_err_set(c->err, GL_ENOMEM, "out of memory");
                break;
            }
            c->items = t;
            c->cap = nc;
        }
        item *m = &c->items[c->n++];
        memcpy(m->addr, a, 43);
        m->ours = (uint32_t)val[0] << 24 | (uint32_t)val[1] << 16 | (uint32_t)val[2] << 8 | val[3];
        m->truth = (int)json_integer_value(tix);
    }
    gl_store_iter_free(it);
    json_decref(tidx);
    if (rc)
        return rc;
    double tp = 0, pred = 0, act = 0;
    if (c->n)
        qsort(c->items, c->n, sizeof *c->items, item_cmp_ours);
    json_t *cross = json_array();
    const char **tkind = calloc(ti + 1, sizeof *tkind);
    const char **tname = calloc(ti + 1, sizeof *tname);
    if (!cross || !tkind || !tname) {
        free(tkind);
        free(tname);
        json_decref(cross);
        return gl_err_set(c->err, GL_ENOMEM, "out of memory");
    }
    ti = 0;
    json_object_foreach(c->truth_ents, k, v) {
        tname[ti] = k;
        tkind[ti++] = json_string_value(json_object_get(v, "kind"));
    }
    for (size_t i = 0; i < c->n;) {
        size_t j = i;
        while (j < c->n && c->items[j].ours == c->items[i].ours)
            j++;
        pred += pairs((double)(j - i));
        json_t *kinds = json_array();
        for (size_t x = i; x < j;) {
            size_t y = x;
            while (y < j && c->items[y].truth == c->items[x].truth)
                y++;
            tp += pairs((double)(y - x));
            const char *kd = tkind[c->items[x].truth] ? tkind[c->items[x].truth] : "?";
            bool seen = false;
            for (size_t q = 0; q < json_array_size(kinds); q++)
                seen |= !strcmp(json_string_value(json_array_get(kinds, q)), kd);
            if (!seen)
                json_array_append_new(kinds, json_string(kd));
            x = y;
        }
        if (json_array_size(kinds) > 1) {
            json_t *ents = json_array();
            for (size_t x = i; x < j; x++)
                if (x == i || c->items[x].truth != c->items[x - 1].truth)
                    json_array_append_new(ents, json_string(tname[c->items[x].truth]));
            json_array_append_new(cross, json_pack("{s:I,s:o,s:o}", "entity", (json_int_t)c->items[i].ours,
                                                   "truth_kinds", kinds, "truth_entities", ents));
        } else
            json_decref(kinds);
        i = j;
    }
    if (c->n)
        qsort(c->items, c->n, sizeof *c->items, item_cmp_truth);
    for (size_t i = 0; i < c->n;) {
        size_t j = i;
        while (j < c->n && c->items[j].truth == c->items[i].truth)
            j++;
        act += pairs((double)(j - i));
        i = j;
    }
    free(tkind);
    free(tname);
    double p = ratio(tp, pred), r = ratio(tp, act);
    json_object_set_new(out, "entities",
                        json_pack("{s:I,s:I,s:I,s:I,s:f,s:f,s:f,s:I,s:o}", "addresses", (json_int_t)c->n,
                                  "pairs_predicted", (json_int_t)pred, "pairs_true", (json_int_t)act,
                                  "pairs_correct", (json_int_t)tp, "precision", p, "recall", r, "f1", f1(p, r),
                                  "merges_across_kinds", (json_int_t)json_array_size(cross), "cross_kind_entities",
                                  cross));
    return GL_OK;
}

static const char *const typologies[] = {"sponsor_fanout", "pass_through", "reimbursed", "lease_for",
                                         "livepeer_third_party", "golem_deposit", "split_order"};
#define NTYP (sizeof typologies / sizeof *typologies)

static int typ_index(const char *t)
{
    for (size_t i = 0; t && i < NTYP; i++)
        if (!strcmp(t, typologies[i]))
            return (int)i;
    return -1;
}

static void flag_figures(ev_ctx *c, double min_score, json_t *out)
{
    size_t truth_n[NTYP] = {0}, caught[NTYP] = {0}, guessed[NTYP] = {0}, guessed_ok[NTYP] = {0};
    size_t tp = 0, fp = 0, fn = 0, benef_ok = 0, benef_named = 0;
    json_t *fps = json_array(), *fns = json_array();
    const char *a;
    json_t *rec;
    json_object_foreach(c->truth_addrs, a, rec) {
        json_t *px = json_object_get(rec, "proxy");
        if (!json_is_object(px))
            continue;
        int ti = typ_index(json_string_value(json_object_get(px, "typology")));
        if (ti >= 0)
            truth_n[ti]++;
        json_t *w = json_object_get(c->flags, a);
        bool flagged = w && json_is_true(json_object_get(w, "flagged")) &&
                       json_real_value(json_object_get(w, "score")) >= min_score;
        if (flagged) {
            tp++;
            if (ti >= 0)
                caught[ti]++;
            const char *b = json_string_value(json_object_get(w, "beneficiary"));
            if (b) {
                benef_named++;
                json_t *brec = json_object_get(c->truth_addrs, b);
                const char *be = brec ? json_string_value(json_object_get(brec, "entity")) : NULL;
                const char *want = json_string_value(json_object_get(px, "beneficiary"));
                if (be && want && !strcmp(be, want))
                    benef_ok++;
            }
        } else {
            fn++;
            json_array_append_new(fns, json_pack("{s:s,s:s?,s:f}", "address", a, "typology",
                                                 json_string_value(json_object_get(px, "typology")), "score",
                                                 w ? json_real_value(json_object_get(w, "score")) : 0.0));
        }
    }
    json_object_foreach(c->flags, a, rec) {
        bool flagged = json_is_true(json_object_get(rec, "flagged")) &&
                       json_real_value(json_object_get(rec, "score")) >= min_score;
        if (!flagged)
            continue;
        int gi = typ_index(json_string_value(json_object_get(rec, "typology")));
        json_t *tr = json_object_get(c->truth_addrs, a);
        json_t *px = tr ? json_object_get(tr, "proxy") : NULL;
        if (gi >= 0) {
            guessed[gi]++;
            if (json_is_object(px) && typ_index(json_string_value(json_object_get(px, "typology"))) == gi)
                guessed_ok[gi]++;
        }
        if (!json_is_object(px)) {
            fp++;
            json_array_append_new(fps, json_pack("{s:s,s:s?,s:s?,s:f}", "address", a, "truth_entity",
                                                 tr ? json_string_value(json_object_get(tr, "entity")) : NULL,
                                                 "typology", json_string_value(json_object_get(rec, "typology")),
                                                 "score", json_real_value(json_object_get(rec, "score"))));
        }
    }
    double p = ratio((double)tp, (double)(tp + fp)), r = ratio((double)tp, (double)(tp + fn));
    json_t *per = json_object();
    for (size_t i = 0; i < NTYP; i++) {
        double rr = ratio((double)caught[i], (double)truth_n[i]);
        json_object_set_new(per, typologies[i],
                            json_pack("{s:I,s:I,s:f,s:I,s:f}", "truth", (json_int_t)truth_n[i], "caught",
                                      (json_int_t)caught[i], "recall", rr, "guessed", (json_int_t)guessed[i],
                                      "guess_precision", ratio((double)guessed_ok[i], (double)guessed[i])));
    }
    json_object_set_new(out, "flags",
                        json_pack("{s:f,s:I,s:I,s:I,s:f,s:f,s:f,s:f,s:I,s:o,s:o,s:o}", "min_score", min_score,
                                  "true_positives", (json_int_t)tp, "false_positives", (json_int_t)fp,
                                  "false_negatives", (json_int_t)fn, "precision", p, "recall", r, "f1", f1(p, r),
                                  "beneficiary_accuracy", ratio((double)benef_ok, (double)benef_named),
                                  "beneficiaries_named", (json_int_t)benef_named, "per_typology", per,
                                  "false_positive_list", fps, "missed_list", fns));
}

/* Purchase marks against the truth's self_dealing / circular payments,
 * matched by (block, log index) on the truth's chain. */
static gl_code mark_figures(gl_store *s, json_t *truth, json_t *out, gl_err *err)
{
    json_t *pay = json_object_get(truth, "payments");
    json_t *want = json_object(); /* "block/log" -> marks */
    size_t i;
    json_t *p;
    json_array_foreach(pay, i, p) {
        int m = (json_is_true(json_object_get(p, "self_dealing")) ? 1 : 0) |
                (json_is_true(json_object_get(p, "circular")) ? 2 : 0);
        char k[48];
        snprintf(k, sizeof k, "%lld/%lld", (long long)json_integer_value(json_object_get(p, "block")),
                 (long long)json_integer_value(json_object_get(p, "log_index")));
        json_object_set_new(want, k, json_integer(m));
    }
    size_t tp[2] = {0}, fp[2] = {0}, truth_n[2] = {0}, seen = 0;
    const char *k;
    json_t *v;
    json_object_foreach(want, k, v) for (int b = 0; b < 2; b++) truth_n[b] += (json_integer_value(v) >> b) & 1;
    gl_store_iter *it = gl_store_iter_analysis(s, "x/", 2, err);
    if (!it) {
        json_decref(want);
        return GL_EDB;
    }
    gl_code rc;
    for (;;) {
        const uint8_t *key, *val;
        size_t kl, vl;
        bool end;
        if ((rc = gl_store_next_analysis(it, &key, &kl, &val, &vl, &end, err)) || end)
            break;
        if (kl != 22 || vl != 1)
            continue;
        uint64_t block = 0;
        for (int j = 0; j < 8; j++)
            block = block << 8 | key[10 + j];
        uint32_t log = (uint32_t)key[18] << 24 | (uint32_t)key[19] << 16 | (uint32_t)key[20] << 8 | key[21];
        char kk[48];
        snprintf(kk, sizeof kk, "%llu/%u", (unsigned long long)block, log);
        json_t *w = json_object_get(want, kk);
        if (!w)
            continue; /* not a payment of the truth (an inbound batch leg, a twin) */
        seen++;
        for (int b = 0; b < 2; b++) {
            bool ours = (val[0] >> b) & 1, theirs = (json_integer_value(w) >> b) & 1;
            tp[b] += ours && theirs;
            fp[b] += ours && !theirs;
        }
    }
    gl_store_iter_free(it);
    if (!rc) {
        json_t *o = json_object();
        const char *names[2] = {"self_dealing", "circular"};
        for (int b = 0; b < 2; b++) {
            double pr = ratio((double)tp[b], (double)(tp[b] + fp[b])), rr = ratio((double)tp[b], (double)truth_n[b]);
            json_object_set_new(o, names[b], json_pack("{s:I,s:I,s:I,s:f,s:f}", "truth", (json_int_t)truth_n[b],
                                                       "marked_right", (json_int_t)tp[b], "marked_wrong",
                                                       (json_int_t)fp[b], "precision", pr, "recall", rr));
        }
        json_object_set_new(o, "payments_matched", json_integer((json_int_t)seen));
        json_object_set_new(o, "payments_in_truth", json_integer((json_int_t)json_array_size(pay)));
        json_object_set_new(out, "purchase_marks", o);
    }
    json_decref(want);
    return rc;
}

static json_t *raw_json(const gl_u256 *a)
{
    char d[GL_U256_DEC_MAX];
    return json_string(gl_u256_to_dec(a, d));
}

static double rel_err(const char *ours, const char *truth)
{
    long double o = ours ? strtold(ours, NULL) : 0, t = truth ? strtold(truth, NULL) : 0;
    if (t == 0)
        return o == 0 ? 0.0 : 1.0;
    long double e = (o - t) / t;
    return (double)(e < 0 ? -e : e);
}

/* Platforms whose chain records the model, the GPU count and the duration
 * (docs/TRUTH.md): the only GPU-hours the truth and the chain share. */
static bool hours_on_chain(const char *platform)
{
    return !strcmp(platform, "gpumarket") || !strcmp(platform, "bazaar");
}

/* The key of a providers record: its entity ("e12"), else its wallet. */
static void prov_key_of_rec(json_t *rec, char *k, size_t cap)
{
    json_t *e = json_object_get(rec, "entity");
    const char *w = json_string_value(json_object_get(rec, "wallet"));
    if (json_is_integer(e))
        snprintf(k, cap, "e%lld", (long long)json_integer_value(e));
    else
        snprintf(k, cap, "w%s", w ? w : "");
}

/* The key of the record an address falls in: its analysed entity, else
 * the address itself (as providers keys an unanalysed wallet). */
static gl_code prov_key_of_addr(gl_store *s, const char *addr, char *k, size_t cap, gl_err *err)
{
    uint8_t a[20];
    bool found = false;
    uint32_t e = 0;
    if (gl_hex_decode_exact(addr, a, 20, err) || gl_results_entity_of(s, a, &e, &found, err))
        return err->code ? err->code : GL_EDB;
    if (found)
        snprintf(k, cap, "e%u", e);
    else
        snprintf(k, cap, "w%s", addr);
    return GL_OK;
}

/* Providers' claims against the truth's `provider_frauds` (present only
 * when the scenario had provider_claims): a relabelled provider is caught
 * when a record holding one of its wallets has priced_below_model, an
 * oversold one when it has oversold; a record flagged for a finding without
 * a wallet of a provider of that typology is a false positive. */
static gl_code provider_figures(gl_store *s, const gl_market *m, gl_market_defs *d, json_t *truth, json_t *out,
                                gl_err *err)
{
    json_t *frauds = json_object_get(truth, "provider_frauds");
    if (!json_is_array(frauds))
        return GL_OK;
    json_t *recs = NULL;
    gl_code rc = gl_providers_run(&recs, s, m, gl_market_def, d, NULL, err);
    if (rc)
        return rc;
    static const char *const typ[2] = {"relabelled", "oversold"};
    static const char *const finding[2] = {"priced_below_model", "oversold"};
    json_t *by_key = json_object(), *owned = json_object(), *missed = json_array(), *fps = json_array();
    json_int_t truth_n[2] = {0, 0}, caught_n[2] = {0, 0}, flagged = 0, right = 0;
    size_t i;
    json_t *r;
    char k[64];
    json_array_foreach(recs, i, r) {
        prov_key_of_rec(r, k, sizeof k);
        json_object_set(by_key, k, r);
    }
    json_t *f;
    json_array_foreach(frauds, i, f) {
        const char *ty = json_string_value(json_object_get(f, "typology"));
        int t = ty && !strcmp(ty, typ[1]) ? 1 : ty && !strcmp(ty, typ[0]) ? 0 : -1;
        if (t < 0)
            continue;
        truth_n[t]++;
        bool got = false;
        size_t w;
        json_t *a;
        json_array_foreach(json_object_get(f, "wallets"), w, a) {
            if (!json_is_string(a))
                continue;
            if ((rc = prov_key_of_addr(s, json_string_value(a), k, sizeof k, err)))
                goto done;
            json_t *own = json_object_get(owned, k);
            if (!own) {
                own = json_object();
                json_object_set_new(owned, k, own);
            }
            json_object_set_new(own, typ[t], json_true());
            got |= json_is_true(json_object_get(json_object_get(by_key, k), finding[t]));
        }
        caught_n[t] += got;
        if (!got)
            json_array_append(missed, json_object_get(f, "entity"));
    }
    json_array_foreach(recs, i, r) {
        prov_key_of_rec(r, k, sizeof k);
        for (int t = 0; t < 2; t++) {
            if (!json_is_true(json_object_get(r, finding[t])))
                continue;
            flagged++;
            if (json_is_true(json_object_get(json_object_get(owned, k), typ[t])))
                right++;
            else
                json_array_append_new(fps, json_pack("{s:s,s:s}", "record", k, "finding", finding[t]));
        }
    }
    json_int_t tn = truth_n[0] + truth_n[1], cn = caught_n[0] + caught_n[1];
    json_object_set_new(
        out, "providers",
        json_pack("{s:I,s:I,s:f,s:I,s:I,s:f,s:{s:{s:I,s:I},s:{s:I,s:I}},s:O,s:O}", "frauds", tn, "caught", cn,
                  "recall", ratio((double)cn, (double)tn), "flagged", flagged, "flagged_right", right, "precision",
                  ratio((double)right, (double)flagged), "per_typology", typ[0], "truth", truth_n[0], "caught",
                  caught_n[0], typ[1], "truth", truth_n[1], "caught", caught_n[1], "missed", missed,
                  "false_positives", fps));
done:
    json_decref(by_key);
    json_decref(owned);
    json_decref(missed);
    json_decref(fps);
    json_decref(recs);
    return rc;
}

/* ---- Net as far as the chain shows --------------------------------------- */

/* The node of a truth address, GL_NODE_NONE when the store never saw it. */
static uint32_t node_of(const gl_graph *g, const char *addr)
{
    uint8_t a[20];
    gl_err e = {0};
    if (!addr || gl_hex_decode_exact(addr, a, 20, &e))
        return GL_NODE_NONE;
    return gl_graph_find(g, a);
}

/* The truth's excluded payments that the chain cannot show (docs/VOLUME.md,
 * eval): a payment the truth marks self-dealing or circular whose payer and
 * provider are two wallets of one truth entity that no path of transfers
 * between that entity's own addresses joins.  Transfers: the graph's (native
 * and fungible-token transfers of txs that did not revert, any token, either
 * direction); an entity's own addresses: the truth's, and the exchange
 * deposit addresses the truth names it the `customer` of (two wallets paying
 * into one deposit address are on chain).  A ring's payments (payer and provider
 * of two entities) are never counted back: the cycle of purchases shows
 * them.  Each such payment's amount is added, exactly, to *chain_net
 * ("platform/day/token" -> decimal string: the truth's net plus those
 * amounts, for every cell of the truth's volume) and listed in `list` with
 * its position and tx hash.  GL_ENOMEM; GL_EINVAL naming the payment for an
 * amount or net that is not a decimal integer. */
static gl_code chain_net_of(const gl_graph *g, json_t *truth, json_t *chain_net, json_t *list, gl_err *err)
{
    json_t *addrs = json_object_get(truth, "addresses");
    json_t *ent_idx = json_object();
    gl_uf joined; /* the wallets that transfers between one entity's own addresses join */
    gl_code urc = gl_uf_init(&joined, g->n_nodes, NULL);
    int32_t *ent = malloc(((size_t)g->n_nodes + 1) * sizeof *ent);
    gl_code rc = ent_idx && !urc && ent ? GL_OK : gl_err_set(err, GL_ENOMEM, "out of memory");
    /* each node's truth entity as a dense index, -1 when the truth does not know it */
    for (uint32_t v = 0; !rc && v < g->n_nodes; v++) {
        char a[43];
        ent[v] = -1;
        json_t *tr = json_object_get(addrs, gl_addr_hex(g->nodes[v].addr, a));
        const char *e = json_string_value(json_object_get(tr, "customer")); /* a deposit address: its customer's */
        e = e ? e : json_string_value(json_object_get(tr, "entity"));
        if (!e)
            continue;
        json_t *ix = json_object_get(ent_idx, e);
        if (!ix) {
            ix = json_integer((json_int_t)json_object_size(ent_idx));
            if (!ix || json_object_set_new(ent_idx, e, ix)) {
                rc = gl_err_set(err, GL_ENOMEM, "out of memory");
                break;
            }
        }
        ent[v] = (int32_t)json_integer_value(ix);
    }
    for (size_t i = 0; !rc && i < g->n_edges; i++) {
        const gl_edge *x = &g->edges[i];
        if (x->src != x->dst && ent[x->src] >= 0 && ent[x->src] == ent[x->dst])
            gl_uf_union(&joined, x->src, x->dst);
    }
    /* the truth's net per cell, to which the unshown exclusions are added */
    const char *plat, *day, *tok;
    json_t *days, *rec, *amt;
    json_object_foreach(json_object_get(truth, "volume"), plat, days) json_object_foreach(days, day, rec)
        json_object_foreach(json_object_get(rec, "net"), tok, amt) {
        char k[256];
        snprintf(k, sizeof k, "%s/%s/%s", plat, day, tok);
        if (!rc && json_object_set(chain_net, k, amt))
            rc = gl_err_set(err, GL_ENOMEM, "out of memory");
    }
    size_t i;
    json_t *p;
    json_array_foreach(json_object_get(truth, "payments"), i, p) {
        if (rc)
            break;
        bool sd = json_is_true(json_object_get(p, "self_dealing")), ci = json_is_true(json_object_get(p, "circular"));
        const char *pa = json_string_value(json_object_get(p, "payer"));
        const char *pv = json_string_value(json_object_get(p, "provider"));
        const char *ea = json_string_value(json_object_get(p, "payer_entity"));
        const char *ev = json_string_value(json_object_get(p, "provider_entity"));
        if ((!sd && !ci) || !pa || !pv || !ea || !ev || strcmp(ea, ev) || !strcmp(pa, pv))
            continue;
        uint32_t na = node_of(g, pa), nv = node_of(g, pv);
        if (na != GL_NODE_NONE && nv != GL_NODE_NONE && gl_uf_find(&joined, na) == gl_uf_find(&joined, nv))
            continue;
        const char *pl = json_string_value(json_object_get(p, "platform"));
        const char *dy = json_string_value(json_object_get(p, "day"));
        const char *tk = json_string_value(json_object_get(p, "token"));
        const char *am = json_string_value(json_object_get(p, "amount"));
        char k[256], dec[GL_U256_DEC_MAX];
        snprintf(k, sizeof k, "%s/%s/%s", pl ? pl : "?", dy ? dy : "?", tk ? tk : "?");
        const char *cur = json_string_value(json_object_get(chain_net, k));
        gl_u256 a, c, sum;
        if (!am || gl_u256_parse_dec(&a, am, err) || gl_u256_parse_dec(&c, cur ? cur : "0", err) ||
            gl_u256_add(&sum, &c, &a, err)) {
            rc = gl_err_set(err, GL_EINVAL, "truth payment %zu (%s): amount '%s' or net '%s' is not a decimal integer",
                            i, k, am ? am : "", cur ? cur : "");
            break;
        }
        json_t *row = json_pack("{s:s,s:s,s:s,s:s,s:O?,s:O?,s:O?,s:s,s:s,s:s,s:s}", "platform", pl ? pl : "?", "day",
                                dy ? dy : "?", "token", tk ? tk : "?", "amount", am, "tx",
                                json_object_get(p, "tx"), "block", json_object_get(p, "block"), "log_index",
                                json_object_get(p, "log_index"), "payer", pa, "provider", pv, "entity", ea, "why",
                                sd ? "self_dealing" : "circular");
        if (!row || json_object_set_new(chain_net, k, json_string(gl_u256_to_dec(&sum, dec))) ||
            json_array_append_new(list, row))
            rc = gl_err_set(err, GL_ENOMEM, "out of memory");
    }
    json_decref(ent_idx);
    gl_uf_release(&joined);
    free(ent);
    return rc;
}

/* One token's amounts on one platform, summed over its days in float: only
 * for the platform's overall errors, never for the exact check. */
typedef struct tok_sums {
    const char *token;  /* a key of the truth's volume, alive as long as the truth */
    double ours_gross;  /* gross as the store shows it */
    double truth_gross; /* the truth's gross */
    double ours_net;    /* net as the store shows it */
    double truth_net;   /* the truth's net */
    double chain_net;   /* the net as far as the chain shows (chain_net_of) */
} tok_sums;

/* The sums of `token` among (*t)[0..*n), appended zeroed when not there yet,
 * so that they stay in the order tokens were first met.  NULL when out of
 * memory (*t and *n unchanged). */
static tok_sums *tok_sums_of(tok_sums **t, size_t *n, size_t *cap, const char *token)
{
    for (size_t i = 0; i < *n; i++)
        if (!strcmp((*t)[i].token, token))
            return &(*t)[i];
    if (*n == *cap) {
        size_t c = *cap ? 2 * *cap : 8;
        tok_sums *p = realloc(*t, c * sizeof *p);
        if (!p)
            return NULL;
        *t = p;
        *cap = c;
    }
    (*t)[*n] = (tok_sums){.token = token};
    return &(*t)[(*n)++];
}

/* Volume per platform, day and token against the truth's `volume` section
 * (gross exact, net relative error against the truth's net and against the
 * net as far as the chain shows, chain_net_of), and GPU-hours by canonical
 * model on the platforms that record hours on chain against the truth's
 * payments. */
static gl_code volume_figures(gl_store *s, json_t *truth, json_t *out, gl_err *err)
{
    gl_market_defs *d = gl_market_defs_new(s);
    gl_gpu_models *models = NULL;
    gl_graph *g = NULL;
    gl_market *m = NULL;
    gl_volume *v = NULL, *vm = NULL;
    gl_code rc = d ? GL_OK : gl_err_set(err, GL_ENOMEM, "out of memory");
    rc = rc ? rc : gl_gpu_models_builtin(&models, err);
    if (!rc && !(g = gl_graph_load(s, gl_market_def, d, err)))
        rc = err->code ? err->code : GL_EDB;
    rc = rc ? rc : gl_market_load(&m, s, g, gl_market_def, d, models, err);
    rc = rc ? rc : gl_volume_compute(&v, m, GL_VOL_BY_PLATFORM | GL_VOL_BY_DAY, NULL, err);
    rc = rc ? rc : gl_volume_compute(&vm, m, GL_VOL_BY_PLATFORM | GL_VOL_BY_MODEL, NULL, err);
    rc = rc ? rc : provider_figures(s, m, d, truth, out, err); /* the same market context */
    json_t *chain_net = json_object(), *unshown = json_array();
    if (!rc && (!chain_net || !unshown))
        rc = gl_err_set(err, GL_ENOMEM, "out of memory");
    rc = rc ? rc : chain_net_of(g, truth, chain_net, unshown, err);
    if (!rc) {
        json_t *ours = json_object(), *per = json_object();
        for (size_t i = 0; i < v->n_rows; i++) {
            const gl_volume_row *r = &v->rows[i];
            char k[256];
            snprintf(k, sizeof k, "%s/%s/%s", r->market, r->period, r->token.symbol);
            json_object_set_new(ours, k, json_pack("{s:o,s:o}", "gross", raw_json(&r->gross), "net", raw_json(&r->net)));
        }
        const char *plat, *day, *tok;
        json_t *days, *rec, *amt;
        size_t cells = 0, exact = 0;
        double worst_net = 0, worst_chain = 0;
        /* a platform's overall errors are per token, since adding wei to
         * USDC's millionths lets the biggest unit hide the others (seed 7:
         * GpuMarket's USDC net 28% off one day read as 2e-10 overall) */
        tok_sums *sums = NULL;
        size_t n_sums = 0, cap_sums = 0;
        json_object_foreach(json_object_get(truth, "volume"), plat, days) {
            double pw = 0, pwc = 0;
            size_t pc = 0, pe = 0;
            n_sums = 0;
            json_object_foreach(days, day, rec) json_object_foreach(json_object_get(rec, "gross"), tok, amt) {
                char k[256];
                snprintf(k, sizeof k, "%s/%s/%s", plat, day, tok);
                json_t *o = json_object_get(ours, k);
                const char *og = json_string_value(json_object_get(o, "gross"));
                const char *on = json_string_value(json_object_get(o, "net"));
                const char *tn = json_string_value(json_object_get(json_object_get(rec, "net"), tok));
                pc++;
                pe += og && !strcmp(og, json_string_value(amt));
                const char *cn = json_string_value(json_object_get(chain_net, k));
                double en = rel_err(on, tn), ec = rel_err(on, cn);
                pw = en > pw ? en : pw;
                pwc = ec > pwc ? ec : pwc;
                tok_sums *sm = rc ? NULL : tok_sums_of(&sums, &n_sums, &cap_sums, tok);
                if (!sm) {
                    rc = rc ? rc : gl_err_set(err, GL_ENOMEM, "out of memory");
                    continue;
                }
                sm->ours_gross += og ? strtod(og, NULL) : 0;
                sm->truth_gross += strtod(json_string_value(amt), NULL);
                sm->ours_net += on ? strtod(on, NULL) : 0;
                sm->truth_net += tn ? strtod(tn, NULL) : 0;
                sm->chain_net += cn ? strtod(cn, NULL) : 0;
            }
            if (rc)
                break; /* the caller drops `out` */
            cells += pc;
            exact += pe;
            worst_net = pw > worst_net ? pw : worst_net;
            worst_chain = pwc > worst_chain ? pwc : worst_chain;
            /* the platform's gross and net errors: the token farthest off */
            double ge = 0, ne = 0, ce = 0;
            json_t *per_tok = json_object();
            for (size_t t = 0; t < n_sums; t++) {
                const tok_sums *sm = &sums[t];
                double g1 = sm->truth_gross ? (sm->ours_gross - sm->truth_gross) / sm->truth_gross : 0.0;
                double n1 = sm->truth_net ? (sm->ours_net - sm->truth_net) / sm->truth_net : 0.0;
                double c1 = sm->chain_net ? (sm->ours_net - sm->chain_net) / sm->chain_net : 0.0;
                ge = fabs(g1) > fabs(ge) ? g1 : ge;
                ne = fabs(n1) > fabs(ne) ? n1 : ne;
                ce = fabs(c1) > fabs(ce) ? c1 : ce;
                json_object_set_new(per_tok, sm->token, json_pack("{s:f,s:f,s:f}", "gross_error", g1, "net_error",
                                                                  n1, "chain_net_error", c1));
            }
            json_int_t unshown_here = 0;
            size_t q;
            json_t *u;
            json_array_foreach(unshown, q, u) unshown_here += !strcmp(json_string_value(json_object_get(u, "platform")), plat);
            json_object_set_new(per, plat,
                                json_pack("{s:I,s:I,s:f,s:f,s:f,s:f,s:f,s:I,s:o}", "cells", (json_int_t)pc, "gross_exact",
                                          (json_int_t)pe, "gross_error", ge, "net_error", ne, "worst_net_error", pw,
                                          "chain_net_error", ce, "worst_chain_net_error", pwc,
                                          "exclusions_not_on_chain", unshown_here, "per_token", per_tok));
        }
        free(sums);
        /* GPU-hours by model */
        json_t *truth_h = json_object(), *ours_h = json_object(), *hours = json_object();
        size_t i;
        json_t *p;
        json_array_foreach(json_object_get(truth, "payments"), i, p) {
            const char *pl = json_string_value(json_object_get(p, "platform"));
            const char *mo = json_string_value(json_object_get(p, "gpu_model"));
            if (!pl || !mo || !hours_on_chain(pl))
                continue;
            const gl_gpu_model *gm = gl_gpu_models_lookup(models, mo);
            const char *key = gm ? gm->canonical : mo;
            double h = json_number_value(json_object_get(p, "gpu_hours"));
            json_object_set_new(truth_h, key, json_real(json_real_value(json_object_get(truth_h, key)) + h));
        }
        for (size_t r = 0; r < vm->n_rows; r++) {
            const gl_volume_row *row = &vm->rows[r];
            if (!hours_on_chain(row->market))
                continue;
            json_t *cur = json_object_get(ours_h, row->model);
            json_object_set_new(ours_h, row->model,
                                json_real(json_real_value(cur) + (double)row->gpu_mhours / 1000.0));
        }
        double worst_h = 0;
        const char *mk;
        json_t *th;
        json_object_foreach(truth_h, mk, th) {
            double t = json_real_value(th), o = json_real_value(json_object_get(ours_h, mk));
            double e = t ? (o - t) / t : 0;
            worst_h = (e < 0 ? -e : e) > worst_h ? (e < 0 ? -e : e) : worst_h;
            json_object_set_new(hours, mk, json_pack("{s:f,s:f,s:f}", "truth", t, "measured", o, "error", e));
        }
        json_object_set_new(out, "volume",
                            json_pack("{s:I,s:I,s:f,s:o,s:o,s:f,s:s}", "cells", (json_int_t)cells, "gross_exact",
                                      (json_int_t)exact, "worst_net_error", worst_net, "per_platform", per,
                                      "gpu_hours_by_model", hours, "worst_gpu_hours_error", worst_h,
                                      "gpu_hours_platforms", "gpumarket, bazaar (the others do not record the GPU "
                                      "count and duration on chain)"));
        json_t *vo = json_object_get(out, "volume");
        json_object_set_new(vo, "worst_chain_net_error", json_real(worst_chain));
        json_object_set_new(vo, "exclusions_not_on_chain", json_integer((json_int_t)json_array_size(unshown)));
        json_object_set(vo, "not_on_chain", unshown);
        json_object_set_new(vo, "chain_net_rule",
                            json_string("the truth's net with every payment it excludes as self-dealing or circular "
                                        "counted back when its payer and provider are two wallets of one truth entity "
                                        "that no path of transfers between that entity's own addresses (its wallets "
                                        "and the deposit addresses it is the customer of) joins"));
        json_decref(ours);
        json_decref(truth_h);
        json_decref(ours_h);
    }
    json_decref(chain_net);
    json_decref(unshown);
    gl_volume_free(v);
    gl_volume_free(vm);
    gl_market_free(m);
    gl_graph_free(g);
    gl_gpu_models_free(models);
    gl_market_defs_free(d);
    return rc;
}

gl_code gl_eval_run(gl_store *s, const char *truth_path, double min_score, json_t **out, gl_err *err)
{
    *out = NULL;
    json_error_t je;
    json_t *truth = json_load_file(truth_path, 0, &je);
    if (!truth)
        return gl_err_set(err, GL_EINVAL, "%s:%d:%d: %s", truth_path, je.line, je.column, je.text);
    const char *fmt = json_string_value(json_object_get(truth, "format"));
    if (!fmt || strcmp(fmt, "gpuledger-truth/1") || !json_is_object(json_object_get(truth, "addresses")) ||
        !json_is_object(json_object_get(truth, "entities"))) {
        json_decref(truth);
        return gl_err_set(err, GL_EINVAL, "%s: not a gpuledger-truth/1 file (format, addresses, entities)",
                          truth_path);
    }
    bool found, stale;
    gl_code rc = gl_results_status(s, &found, &stale, NULL, err);
    if (!rc && !found)
        rc = gl_err_set(err, GL_EDB, "no analysis in store '%s': run gpuledger analyze --db %s first",
                        gl_store_dir(s), gl_store_dir(s));
    ev_ctx c = {.truth_addrs = json_object_get(truth, "addresses"), .truth_ents = json_object_get(truth, "entities"),
                .flags = json_object(), .err = err};
    json_t *o = json_object();
    if (!rc && (!c.flags || !o))
        rc = gl_err_set(err, GL_ENOMEM, "out of memory");
    rc = rc ? rc : gl_results_each(s, 'f', collect_wallet, &c, err);
    rc = rc ? rc : entity_figures(&c, s, o);
    rc = rc ? rc : mark_figures(s, truth, o, err);
    rc = rc ? rc : volume_figures(s, truth, o, err);
    if (!rc) {
        flag_figures(&c, min_score, o);
        json_object_set_new(o, "truth", json_string(truth_path));
        json_object_set_new(o, "stale", json_boolean(stale));
        json_object_set(o, "scenario", json_object_get(truth, "scenario"));
        json_object_set(o, "seed", json_object_get(truth, "seed"));
        *out = o;
    } else
        json_decref(o);
    (void)truth_index;
    free(c.items);
    json_decref(c.flags);
    json_decref(truth);
    return rc;
}
