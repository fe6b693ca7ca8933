/* trail_data.c - the funding trail's containers: block intervals, the
 * address map of nodes, address sets, growable vectors, and the JSON
 * helpers its answers are read and its requests written with.
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

/* ------------------------------------------------------------ intervals */

iv iv_hull(iv a, iv b)
{
    iv r = {a.lo < b.lo ? a.lo : b.lo, a.hi > b.hi ? a.hi : b.hi};
    return r;
}

/* [block - w, block + w] clamped to [0, safe]; false when empty. */
bool iv_around(uint64_t block, uint64_t w, uint64_t safe, iv *out)
{
    uint64_t lo = block > w ? block - w : 0;
    uint64_t hi = block > UINT64_MAX - w ? UINT64_MAX : block + w;
    if (hi > safe)
        hi = safe;
    if (lo > hi)
        return false;
    out->lo = lo;
    out->hi = hi;
    return true;
}

bool iv_has(iv a, uint64_t x) { return x >= a.lo && x <= a.hi; }

/* What of `need` is not in `done`: up to two intervals, both adjacent to
 * `done` (the hull of need and done, minus done), so that fetching them
 * keeps `done` one interval. */
size_t iv_todo(bool has_done, iv done, iv need, iv out[2])
{
    if (!has_done) {
        out[0] = need;
        return 1;
    }
    size_t n = 0;
    if (need.lo < done.lo)
        out[n++] = (iv){need.lo, done.lo - 1};
    if (need.hi > done.hi)
        out[n++] = (iv){done.hi + 1, need.hi};
    return n;
}

static int iv_cmp(const void *a, const void *b)
{
    const iv *x = a, *y = b;
    return x->lo < y->lo ? -1 : x->lo > y->lo ? 1 : x->hi < y->hi ? -1 : x->hi > y->hi;
}

/* Sort and merge overlapping or adjacent intervals in place; returns the
 * new count. */
size_t iv_merge(iv *v, size_t n)
{
    if (!n)
        return 0;
    qsort(v, n, sizeof *v, iv_cmp);
    size_t k = 0;
    for (size_t i = 1; i < n; i++) {
        if (v[k].hi == UINT64_MAX || v[i].lo <= v[k].hi + 1) {
            if (v[i].hi > v[k].hi)
                v[k].hi = v[i].hi;
        } else {
            v[++k] = v[i];
        }
    }
    return k + 1;
}

/* ------------------------------------------------------------- addr map */

static size_t addr_hash(const uint8_t a[20])
{
    uint64_t h = 1469598103934665603ULL;
    for (int i = 0; i < 20; i++)
        h = (h ^ a[i]) * 1099511628211ULL;
    return (size_t)(h ^ (h >> 29));
}

void tr_map_release(addrmap *m)
{
    for (size_t i = 0; i < m->n; i++)
        free(m->nodes[i].note);
    free(m->nodes);
    free(m->slots);
    memset(m, 0, sizeof *m);
}

node *tr_map_find(const addrmap *m, const uint8_t a[20])
{
    if (!m->cap)
        return NULL;
    for (size_t i = addr_hash(a) & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
        size_t s = m->slots[i];
        if (!s)
            return NULL;
        if (!memcmp(m->nodes[s - 1].addr, a, 20))
            return &m->nodes[s - 1];
    }
}

static gl_code map_grow(addrmap *m, gl_err *err)
{
    size_t ncap = m->cap ? 2 * m->cap : 1024;
    size_t *ns = calloc(ncap, sizeof *ns);
    if (!ns)
        return gl_err_set(err, GL_ENOMEM, "out of memory for the trail's addresses");
    for (size_t k = 0; k < m->n; k++) {
        size_t i = addr_hash(m->nodes[k].addr) & (ncap - 1);
        while (ns[i])
            i = (i + 1) & (ncap - 1);
        ns[i] = k + 1;
    }
    free(m->slots);
    m->slots = ns;
    m->cap = ncap;
    return GL_OK;
}

/* Room for one more element in an array of n used out of *cap, doubling
 * from `first`: the array (moved or not), or NULL when out of memory, with
 * the array and *cap then unchanged. */
void *tr_grow_one(void *v, size_t n, size_t *cap, size_t elem, size_t first)
{
    if (n < *cap)
        return v;
    size_t nc = *cap ? 2 * *cap : first;
    if (nc > SIZE_MAX / elem)
        return NULL;
    void *nv = realloc(v, nc * elem);
    if (nv)
        *cap = nc;
    return nv;
}

/* The node of `a`, made (depth -1, nothing known) when missing. */
gl_code tr_map_get(addrmap *m, const uint8_t a[20], node **out, gl_err *err)
{
    node *f = tr_map_find(m, a);
    if (f) {
        *out = f;
        return GL_OK;
    }
    if ((m->n + 1) * 2 > m->cap && map_grow(m, err))
        return GL_ENOMEM;
    node *nn = tr_grow_one(m->nodes, m->n, &m->ncap, sizeof *nn, 1024);
    if (!nn)
        return gl_err_set(err, GL_ENOMEM, "out of memory for the trail's addresses");
    m->nodes = nn;
    node *nd = &m->nodes[m->n];
    memset(nd, 0, sizeof *nd);
    memcpy(nd->addr, a, 20);
    nd->depth = -1;
    nd->skip = -1;
    size_t i = addr_hash(a) & (m->cap - 1);
    while (m->slots[i])
        i = (i + 1) & (m->cap - 1);
    m->slots[i] = ++m->n;
    *out = nd;
    return GL_OK;
}

/* ----------------------------------------------------------------- aset */

void aset_release(aset *s)
{
    free(s->v);
    free(s->slots);
    memset(s, 0, sizeof *s);
}

void aset_clear(aset *s)
{
    s->n = 0;
    if (s->slots)
        memset(s->slots, 0, s->cap * sizeof *s->slots);
}

/* Add `a` with block b (widening its interval when present); *added says
 * whether it is new. */
gl_code aset_add(aset *s, const uint8_t a[20], uint64_t b, bool *added, gl_err *err)
{
    if (added)
        *added = false;
    if ((s->n + 1) * 2 > s->cap) {
        size_t ncap = s->cap ? 2 * s->cap : 64;
        size_t *ns = calloc(ncap, sizeof *ns);
        if (!ns)
            return gl_err_set(err, GL_ENOMEM, "out of memory for counterparties");
        for (size_t k = 0; k < s->n; k++) {
            size_t i = addr_hash(s->v[k].addr) & (ncap - 1);
            while (ns[i])
                i = (i + 1) & (ncap - 1);
            ns[i] = k + 1;
        }
        free(s->slots);
        s->slots = ns;
        s->cap = ncap;
    }
    size_t i = addr_hash(a) & (s->cap - 1);
    for (; s->slots[i]; i = (i + 1) & (s->cap - 1)) {
        aset_ent *e = &s->v[s->slots[i] - 1];
        if (!memcmp(e->addr, a, 20)) {
            if (b < e->lo)
                e->lo = b;
            if (b > e->hi)
                e->hi = b;
            return GL_OK;
        }
    }
    aset_ent *nv = tr_grow_one(s->v, s->n, &s->vcap, sizeof *nv, 32);
    if (!nv)
        return gl_err_set(err, GL_ENOMEM, "out of memory for counterparties");
    s->v = nv;
    aset_ent *e = &s->v[s->n];
    memcpy(e->addr, a, 20);
    e->lo = e->hi = b;
    s->slots[i] = ++s->n;
    if (added)
        *added = true;
    return GL_OK;
}

/* ------------------------------------------------------------- vectors */

gl_code tr_pend_push(pendv *p, const pend *x, gl_err *err)
{
    pend *nv = tr_grow_one(p->v, p->n, &p->cap, sizeof *nv, 64);
    if (!nv)
        return gl_err_set(err, GL_ENOMEM, "out of memory for fetched transfers");
    p->v = nv;
    p->v[p->n++] = *x;
    return GL_OK;
}

gl_code tr_block_push(blockv *b, const gl_store_block *x, gl_err *err)
{
    gl_store_block *nv = tr_grow_one(b->v, b->n, &b->cap, sizeof *nv, 32);
    if (!nv)
        return gl_err_set(err, GL_ENOMEM, "out of memory for block headers");
    b->v = nv;
    b->v[b->n++] = *x;
    return GL_OK;
}

/* Takes the reference to json (released on failure too). */
gl_code fullv_push(fullv *b, const gl_store_block *rec, json_t *json, gl_err *err)
{
    fullblk *nv = tr_grow_one(b->v, b->n, &b->cap, sizeof *nv, 32);
    if (!nv) {
        json_decref(json);
        return gl_err_set(err, GL_ENOMEM, "out of memory for blocks");
    }
    b->v = nv;
    b->v[b->n++] = (fullblk){.rec = *rec, .json = json};
    return GL_OK;
}

/* ------------------------------------------------------------ JSON bits */

/* A quantity: "0x.." hex, or a JSON integer (anvil's trace blockNumber). */
bool tr_q_u64(const json_t *v, uint64_t *out)
{
    if (json_is_integer(v)) {
        json_int_t i = json_integer_value(v);
        if (i < 0)
            return false;
        *out = (uint64_t)i;
        return true;
    }
    const char *s = json_string_value(v);
    gl_u256 u;
    if (!s || s[0] != '0' || (s[1] != 'x' && s[1] != 'X') || gl_u256_parse_hex(&u, s, NULL))
        return false;
    return gl_u256_to_u64(&u, out);
}

bool tr_q_u256(const json_t *v, gl_u256 *out)
{
    if (json_is_integer(v)) {
        json_int_t i = json_integer_value(v);
        if (i < 0)
            return false;
        *out = gl_u256_from_u64((uint64_t)i);
        return true;
    }
    const char *s = json_string_value(v);
    return s && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') && !gl_u256_parse_hex(out, s, NULL);
}

bool tr_j_bytes(const json_t *v, uint8_t *out, size_t n)
{
    const char *s = json_string_value(v);
    return s && !gl_hex_decode_exact(s, out, n, NULL);
}

/* A 32-byte topic holding an address: 12 zero bytes, then the address. */
bool tr_topic_addr(const json_t *v, uint8_t out[20])
{
    uint8_t w[32];
    if (!tr_j_bytes(v, w, 32))
        return false;
    for (int i = 0; i < 12; i++)
        if (w[i])
            return false;
    memcpy(out, w + 12, 20);
    return true;
}

json_t *tr_hexq(uint64_t v)
{
    char tmp[24];
    snprintf(tmp, sizeof tmp, "0x%" PRIx64, v);
    return json_string(tmp);
}

json_t *tr_hexaddr(const uint8_t a[20])
{
    char tmp[43];
    return json_string(gl_hex_encode(a, 20, true, tmp));
}

json_t *tr_hextopic(const uint8_t a[20])
{
    uint8_t w[32] = {0};
    memcpy(w + 12, a, 20);
    char tmp[67];
    return json_string(gl_hex_encode(w, 32, true, tmp));
}

const uint8_t tr_zero20[20];
