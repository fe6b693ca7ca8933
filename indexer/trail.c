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

/* ------------------------------------------------------------ constants */

/* keccak256("Transfer(address,address,uint256)"): EIP-20's and EIP-721's
 * Transfer event (the same topic0; 721 indexes the token id too). */
#define TRANSFER_TOPIC "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef"
#define STATE_FORMAT "gpuledger-trail/1"

/* Full blocks (with their transactions) asked for in one
 * gl_endpoints_call_many, by the scan and by a commit: a full mainnet block
 * is up to a few hundred KiB of JSON. */
#define SCAN_STEP 20u
/* The state file is rewritten after a commit at most this often (and always
 * at the end of a level and of the run). */
#define SAVE_EVERY_S 5
/* Halvings of a range after transport failures the endpoint pool could not
 * ride out (a wide trace_filter or eth_getLogs that times out). */
#define TRANSIENT_SPLITS 8

/* ---------------------------------------------------------------- types */

typedef struct iv {
    uint64_t lo, hi; /* inclusive */
} iv;

typedef struct node {
    uint8_t addr[20];
    int depth;        /* -1: not reached by this run */
    bool has_need;    /* this run's window */
    iv need;
    bool has_tok;     /* token window fetched (this run or earlier) */
    iv tok;
    bool has_nat;     /* native window fetched */
    iv nat;
    bool fetch_hub;   /* fetching stopped: more than hub_degree counterparties */
    uint64_t degree;  /* distinct counterparties (a lower bound with fetch_hub) */
    bool platform;    /* a contract or token of a stored event */
    int skip;         /* -1, or the gl_trail_skip that stopped it */
    bool expanded;    /* its counterparties were taken this run */
    char *note;       /* the hub label, owned */
    /* scratch of one batch */
    bool member;
    size_t slot;
    bool new_tok, new_nat;
    iv ntok, nnat;
} node;

/* Address -> node index (open addressing, linear probing). */
typedef struct addrmap {
    node *nodes;
    size_t n, ncap;
    size_t *slots; /* index + 1; 0 = empty */
    size_t cap;    /* power of two */
} addrmap;

/* A small address set with a block interval per address (counterparties
 * and the blocks of the transfers that link them). */
typedef struct aset_ent {
    uint8_t addr[20];
    uint64_t lo, hi;
} aset_ent;

typedef struct aset {
    aset_ent *v;
    size_t n, vcap;
    size_t *slots;
    size_t cap;
} aset;

typedef struct pend {
    gl_store_transfer t;
    uint32_t tx_index; /* the carrying tx's position in its block */
    bool has_bh;
    uint8_t block_hash[32];
    bool stored;  /* already in the store (met from its other side) */
    bool tx_done; /* t.flags are its tx's, checked (now or in the store) */
} pend;

typedef struct pendv {
    pend *v;
    size_t n, cap;
} pendv;

typedef struct blockv {
    gl_store_block *v;
    size_t n, cap;
} blockv;

typedef struct finding {
    uint64_t block;
    json_t *json; /* owned */
} finding;

typedef struct findv {
    finding *v;
    size_t n, cap;
} findv;

/* Blocks fetched with their transactions: the record and the answer,
 * checked (check_block). */
typedef struct fullblk {
    gl_store_block rec;   /* hash: what the header hashes to (the claim when it cannot be rebuilt) */
    json_t *json;         /* eth_getBlockByNumber(n, true), owned */
    uint8_t claimed[32];  /* the answer's own "hash" */
    bool hashed;          /* the header was rebuilt and hashed (rec.hash is the computed hash) */
    bool lied;            /* the answer contradicts itself (header, body) or its parent: a finding
                             says how */
} fullblk;

typedef struct fullv {
    fullblk *v;
    size_t n, cap;
    findv f; /* what checking the blocks found */
} fullv;

/* One carrying transaction checked by a commit: the flags its transfers
 * get, the record to store (none when the endpoint's answer could not be
 * bound to the named hash or had no recoverable sender). */
typedef struct vtx {
    uint32_t flags;
    bool has_rec;
    gl_store_tx rec;
} vtx;

/* What a commit checked: its transactions and its findings. */
typedef struct checked {
    vtx *tx;
    size_t ntx, txcap;
    findv f;
} checked;

typedef struct trail {
    gl_store *s;
    gl_endpoints *ep;
    gl_trail_opts o;
    gl_trail_report *rep;
    uint64_t chain, head, safe;
    addrmap map;
    uint32_t seed_mask; /* bit r: role r seeds */
    char cats[16][GL_STORE_NAME_MAX];
    size_t ncats;
    uint8_t topic0[32];
    bool trace_ok;      /* trace_filter not (yet) refused */
    gl_range_plan_config logcfg, tracecfg; /* what the endpoint taught us */
    time_t last_save;
    bool state_ok;      /* the state file was read: it may be rewritten */
    gl_trail_level *lv; /* the level being walked */
    gl_secp *secp;      /* sender recovery */
} trail;

static void say(trail *t, int level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void say(trail *t, int level, const char *fmt, ...)
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

/* ------------------------------------------------------------ intervals */

static iv iv_hull(iv a, iv b)
{
    iv r = {a.lo < b.lo ? a.lo : b.lo, a.hi > b.hi ? a.hi : b.hi};
    return r;
}

/* [block - w, block + w] clamped to [0, safe]; false when empty. */
static bool iv_around(uint64_t block, uint64_t w, uint64_t safe, iv *out)
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

static bool iv_has(iv a, uint64_t x) { return x >= a.lo && x <= a.hi; }

/* What of `need` is not in `done`: up to two intervals, both adjacent to
 * `done` (the hull of need and done, minus done), so that fetching them
 * keeps `done` one interval. */
static size_t iv_todo(bool has_done, iv done, iv need, iv out[2])
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
static size_t iv_merge(iv *v, size_t n)
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

static void map_release(addrmap *m)
{
    for (size_t i = 0; i < m->n; i++)
        free(m->nodes[i].note);
    free(m->nodes);
    free(m->slots);
    memset(m, 0, sizeof *m);
}

static node *map_find(const addrmap *m, const uint8_t a[20])
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
static void *grow_one(void *v, size_t n, size_t *cap, size_t elem, size_t first)
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
static gl_code map_get(addrmap *m, const uint8_t a[20], node **out, gl_err *err)
{
    node *f = map_find(m, a);
    if (f) {
        *out = f;
        return GL_OK;
    }
    if ((m->n + 1) * 2 > m->cap && map_grow(m, err))
        return GL_ENOMEM;
    node *nn = grow_one(m->nodes, m->n, &m->ncap, sizeof *nn, 1024);
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

static void aset_release(aset *s)
{
    free(s->v);
    free(s->slots);
    memset(s, 0, sizeof *s);
}

static void aset_clear(aset *s)
{
    s->n = 0;
    if (s->slots)
        memset(s->slots, 0, s->cap * sizeof *s->slots);
}

/* Add `a` with block b (widening its interval when present); *added says
 * whether it is new. */
static gl_code aset_add(aset *s, const uint8_t a[20], uint64_t b, bool *added, gl_err *err)
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
    aset_ent *nv = grow_one(s->v, s->n, &s->vcap, sizeof *nv, 32);
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

static gl_code pend_push(pendv *p, const pend *x, gl_err *err)
{
    pend *nv = grow_one(p->v, p->n, &p->cap, sizeof *nv, 64);
    if (!nv)
        return gl_err_set(err, GL_ENOMEM, "out of memory for fetched transfers");
    p->v = nv;
    p->v[p->n++] = *x;
    return GL_OK;
}

static gl_code block_push(blockv *b, const gl_store_block *x, gl_err *err)
{
    gl_store_block *nv = grow_one(b->v, b->n, &b->cap, sizeof *nv, 32);
    if (!nv)
        return gl_err_set(err, GL_ENOMEM, "out of memory for block headers");
    b->v = nv;
    b->v[b->n++] = *x;
    return GL_OK;
}

/* Takes the reference to json (released on failure too). */
static gl_code fullv_push(fullv *b, const gl_store_block *rec, json_t *json, gl_err *err)
{
    fullblk *nv = grow_one(b->v, b->n, &b->cap, sizeof *nv, 32);
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
static bool q_u64(const json_t *v, uint64_t *out)
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

static bool q_u256(const json_t *v, gl_u256 *out)
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

static bool j_bytes(const json_t *v, uint8_t *out, size_t n)
{
    const char *s = json_string_value(v);
    return s && !gl_hex_decode_exact(s, out, n, NULL);
}

/* A 32-byte topic holding an address: 12 zero bytes, then the address. */
static bool topic_addr(const json_t *v, uint8_t out[20])
{
    uint8_t w[32];
    if (!j_bytes(v, w, 32))
        return false;
    for (int i = 0; i < 12; i++)
        if (w[i])
            return false;
    memcpy(out, w + 12, 20);
    return true;
}

static json_t *hexq(uint64_t v)
{
    char tmp[24];
    snprintf(tmp, sizeof tmp, "0x%" PRIx64, v);
    return json_string(tmp);
}

static json_t *hexaddr(const uint8_t a[20])
{
    char tmp[43];
    return json_string(gl_hex_encode(a, 20, true, tmp));
}

static json_t *hextopic(const uint8_t a[20])
{
    uint8_t w[32] = {0};
    memcpy(w + 12, a, 20);
    char tmp[67];
    return json_string(gl_hex_encode(w, 32, true, tmp));
}

static const uint8_t zero20[20];

/* ---------------------------------------------------------------- state */

static void state_path(const trail *t, char *out, size_t cap)
{
    snprintf(out, cap, "%s/trail-%" PRIu64 ".json", gl_store_dir(t->s), t->chain);
}

static json_t *iv_json(bool has, iv v)
{
    return has ? json_pack("[II]", (json_int_t)v.lo, (json_int_t)v.hi) : json_null();
}

static bool iv_from_json(const json_t *j, bool *has, iv *v)
{
    if (!j || json_is_null(j)) {
        *has = false;
        return true;
    }
    uint64_t lo, hi;
    if (!json_is_array(j) || json_array_size(j) != 2 || !json_is_integer(json_array_get(j, 0)) ||
        !json_is_integer(json_array_get(j, 1)) || !q_u64(json_array_get(j, 0), &lo) ||
        !q_u64(json_array_get(j, 1), &hi) || lo > hi)
        return false;
    *has = true;
    v->lo = lo;
    v->hi = hi;
    return true;
}

static const char *node_status(const node *n)
{
    if (n->skip >= 0)
        return gl_trail_skip_name((gl_trail_skip)n->skip);
    if (n->expanded)
        return "expanded";
    return n->depth >= 0 ? "pending" : "not reached";
}

/* Write the state file: a temporary file synced, then renamed over it. */
static gl_code save_state(trail *t, gl_err *err)
{
    json_t *addrs = json_object();
    json_t *root = json_pack("{s:s, s:I, s:I, s:{s:I, s:I, s:I}, s:o}", "format", STATE_FORMAT, "chain_id",
                             (json_int_t)t->chain, "safe_head", (json_int_t)t->safe, "params", "depth",
                             (json_int_t)t->o.depth, "window", (json_int_t)t->o.window, "hub_degree",
                             (json_int_t)t->o.hub_degree, "addresses", addrs);
    if (!root)
        return gl_err_set(err, GL_ENOMEM, "out of memory writing the trail state");
    for (size_t i = 0; i < t->map.n; i++) {
        const node *n = &t->map.nodes[i];
        if (n->depth < 0 && !n->has_tok && !n->has_nat && !n->fetch_hub)
            continue;
        char hex[43];
        gl_hex_encode(n->addr, 20, true, hex);
        json_t *o = json_pack("{s:o, s:s, s:o, s:o, s:o, s:o, s:I, s:b}", "depth",
                              n->depth >= 0 ? json_integer(n->depth) : json_null(), "status", node_status(n),
                              "reason", n->note ? json_string(n->note) : json_null(), "need",
                              iv_json(n->has_need, n->need), "token", iv_json(n->has_tok, n->tok), "native",
                              iv_json(n->has_nat, n->nat), "degree", (json_int_t)n->degree, "fetch_hub",
                              n->fetch_hub);
        if (!o || json_object_set_new(addrs, hex, o)) {
            json_decref(root);
            return gl_err_set(err, GL_ENOMEM, "out of memory writing the trail state");
        }
    }
    char *text = json_dumps(root, JSON_INDENT(1) | JSON_SORT_KEYS);
    json_decref(root);
    if (!text)
        return gl_err_set(err, GL_ENOMEM, "out of memory writing the trail state");
    char path[1024], tmp[1100];
    state_path(t, path, sizeof path);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    gl_code rc = GL_OK;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        rc = gl_err_set(err, GL_EIO, "cannot write trail state '%s': %s", tmp, strerror(errno));
    } else {
        size_t len = strlen(text), off = 0;
        while (off < len && !rc) {
            ssize_t w = write(fd, text + off, len - off);
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0)
                rc = gl_err_set(err, GL_EIO, "cannot write trail state '%s': %s", tmp, strerror(errno));
            else
                off += (size_t)w;
        }
        if (!rc && (write(fd, "\n", 1) != 1 || fsync(fd) != 0))
            rc = gl_err_set(err, GL_EIO, "cannot write trail state '%s': %s", tmp, strerror(errno));
        if (close(fd) != 0 && !rc)
            rc = gl_err_set(err, GL_EIO, "cannot write trail state '%s': %s", tmp, strerror(errno));
        if (!rc && rename(tmp, path) != 0)
            rc = gl_err_set(err, GL_EIO, "cannot rename '%s' to '%s': %s", tmp, path, strerror(errno));
        if (rc)
            unlink(tmp);
        else {
            int dfd = open(gl_store_dir(t->s), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
            if (dfd >= 0) {
                fsync(dfd);
                close(dfd);
            }
        }
    }
    free(text);
    t->last_save = time(NULL);
    return rc;
}

static gl_code save_maybe(trail *t, gl_err *err)
{
    if (time(NULL) - t->last_save < SAVE_EVERY_S)
        return GL_OK;
    return save_state(t, err);
}

/* Read what earlier runs fetched.  A missing file is a first run. */
static gl_code load_state(trail *t, gl_err *err)
{
    char path[1024];
    state_path(t, path, sizeof path);
    json_error_t je;
    json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
    if (!root) {
        struct stat st;
        if (stat(path, &st) != 0 && errno == ENOENT)
            return GL_OK;
        return gl_err_set(err, GL_EINVAL, "trail state '%s' is unreadable (%s, line %d): remove it to start over",
                          path, je.text, je.line);
    }
    gl_code rc = GL_OK;
    uint64_t chain = 0;
    const json_t *addrs = json_object_get(root, "addresses");
    const char *format = json_string_value(json_object_get(root, "format"));
    if (!json_is_object(root) || !format || strcmp(format, STATE_FORMAT) ||
        !q_u64(json_object_get(root, "chain_id"), &chain) || chain != t->chain || !json_is_object(addrs))
        rc = gl_err_set(err, GL_EINVAL,
                        "trail state '%s' is not a %s file for chain %" PRIu64 ": remove it to start over", path,
                        STATE_FORMAT, t->chain);
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)addrs, key, v)
    {
        if (rc)
            break;
        uint8_t a[20];
        node *n;
        bool has_tok, has_nat;
        iv tok, nat;
        uint64_t degree = 0;
        const json_t *deg = json_object_get(v, "degree");
        if (gl_hex_decode_exact(key, a, 20, NULL) || !json_is_object(v) ||
            !iv_from_json(json_object_get(v, "token"), &has_tok, &tok) ||
            !iv_from_json(json_object_get(v, "native"), &has_nat, &nat) || (deg && !q_u64(deg, &degree))) {
            rc = gl_err_set(err, GL_EINVAL, "trail state '%s': bad entry '%.60s': remove the file to start over",
                            path, key);
            break;
        }
        rc = map_get(&t->map, a, &n, err);
        if (rc)
            break;
        n->has_tok = has_tok;
        n->tok = tok;
        n->has_nat = has_nat;
        n->nat = nat;
        n->fetch_hub = json_is_true(json_object_get(v, "fetch_hub"));
        n->degree = degree;
    }
    json_decref(root);
    return rc;
}

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
    if (!json_is_object(b) || !q_u64(json_object_get(b, "number"), &out->number) || out->number != want ||
        !j_bytes(json_object_get(b, "hash"), out->hash, 32) ||
        !j_bytes(json_object_get(b, "parentHash"), out->parent_hash, 32) ||
        !q_u64(json_object_get(b, "timestamp"), &out->timestamp))
        return gl_err_set(err, GL_ERPC, "eth_getBlockByNumber(%" PRIu64 "): %s", want,
                          json_is_null(b) ? "the endpoint does not have the block"
                                          : "not a block object (number, hash, parentHash, timestamp)");
    return GL_OK;
}

/* Place finding f (taken; NULL: out of memory) in block b ("source":
 * "trail" where the indexer names its platform, and b's hash), say it in
 * the log and add it to fv. */
static gl_code finding_add(trail *t, findv *fv, const gl_store_block *b, json_t *f, gl_err *err)
{
    finding *nv = f ? grow_one(fv->v, fv->n, &fv->cap, sizeof *nv, 8) : NULL;
    if (nv)
        fv->v = nv;
    char bh[67];
    if (!nv || json_object_set_new(f, "source", json_string("trail")) ||
        json_object_set_new(f, "block_hash", json_string(gl_hex_encode(b->hash, 32, true, bh)))) {
        json_decref(f);
        return gl_err_set(err, GL_ENOMEM, "out of memory for a finding");
    }
    char *txt = json_dumps(f, JSON_COMPACT | JSON_SORT_KEYS);
    say(t, 1, "finding at block %" PRIu64 ": %s", b->number, txt ? txt : "(out of memory)");
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
        say(t, 1, "block %" PRIu64 ": hash not checked: %s", b->rec.number, e2.msg);
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
        rc = finding_add(t, fv, &b->rec, f, err);
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
        say(t, 1, "block %" PRIu64 ": transactions root not checked: %s", b->rec.number, e2.msg);
        return GL_OK;
    }
    for (size_t i = 0; i < rep.n && !rc; i++) {
        const gl_block_check *k = &rep.checks[i];
        if (k->status != GL_BLOCK_MISMATCH || k->kind == GL_CHECK_HEADER_HASH)
            continue;
        b->lied = true;
        rc = finding_add(t, fv, &b->rec,
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
    return finding_add(t, fv, &b->rec,
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
static gl_code fetch_blocks(trail *t, const uint64_t *nums, size_t n, fullv *out, gl_err *err)
{
    for (size_t off = 0; off < n; off += SCAN_STEP) {
        size_t k = n - off < SCAN_STEP ? n - off : SCAN_STEP, m = k;
        const char *methods[2 * SCAN_STEP];
        json_t *params[2 * SCAN_STEP], *results[2 * SCAN_STEP];
        parent_src ps[SCAN_STEP];
        gl_code rc = GL_OK;
        for (size_t i = 0; i < k; i++) {
            methods[i] = "eth_getBlockByNumber";
            params[i] = json_pack("[o,b]", hexq(nums[off + i]), true);
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
                params[m++] = json_pack("[o,b]", hexq(num - 1), false);
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

static void fullv_release(fullv *b)
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
    vtx *nv = grow_one(ck->tx, ck->ntx, &ck->txcap, sizeof *nv, 16);
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
        say(t, 1, "block %" PRIu64 " tx %u: sender not checked: %s", b->rec.number, x->tx_index, c.reason);
        break;
    case GL_TX_CHECK_UNRECOVERABLE:
    case GL_TX_CHECK_UNREADABLE:
    case GL_TX_CHECK_HASH_MISMATCH:
        v->rec.flags = GL_STORE_TX_SENDER_MISMATCH;
        break;
    }
    v->flags = v->rec.flags;
    if (f && (rc = finding_add(t, &ck->f, &b->rec, f, err)))
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
static gl_code commit(trail *t, pendv *p, const fullv *known, gl_err *err)
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
        rc = fetch_blocks(t, missing, nmissing, &fetched, err);
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
            rc = block_push(&fresh, &r, err);
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

/* ------------------------------------------------------- batch members */

typedef struct batch {
    node **m;       /* members */
    size_t n;
    aset *cps;      /* counterparties per member, in its window */
} batch;

/* The member of `b` that is `a` and whose window holds `block`, or NULL. */
static node *member_at(trail *t, const uint8_t a[20], uint64_t block)
{
    node *n = map_find(&t->map, a);
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
        say(t, 0, "%s: more than %" PRIu64 " counterparties: a hub, not fetched further",
            gl_hex_encode(n->addr, 20, true, hex), t->o.hub_degree);
    }
    return rc;
}

/* Take one fetched transfer: keep it when a member is on either side
 * within its window, and count the counterparties. */
static gl_code take(trail *t, batch *bt, pendv *pv, const pend *x, gl_err *err)
{
    node *f = member_at(t, x->t.from, x->t.pos.block);
    node *to = member_at(t, x->t.to, x->t.pos.block);
    if (!f && !to)
        return GL_OK;
    gl_code rc = pend_push(pv, x, err);
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
        node *f = member_at(t, tr->from, tr->pos.block);
        node *to = member_at(t, tr->to, tr->pos.block);
        bool keep = (f && !f->fetch_hub) || (to && !to->fetch_hub);
        if (!keep) {
            const uint8_t *other = f ? tr->to : tr->from;
            node *o = map_find(&t->map, other);
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
    if ((nt != 3 && nt != 4) || !j_bytes(json_array_get(topics, 0), t0, 32) || memcmp(t0, t->topic0, 32))
        return GL_OK;
    gl_store_transfer *tr = &out->t;
    uint64_t idx, txi;
    if (!topic_addr(json_array_get(topics, 1), tr->from) || !topic_addr(json_array_get(topics, 2), tr->to) ||
        !j_bytes(json_object_get(log, "address"), tr->token, 20) ||
        !q_u64(json_object_get(log, "blockNumber"), &tr->pos.block) ||
        !q_u64(json_object_get(log, "logIndex"), &idx) || idx > UINT32_MAX ||
        !q_u64(json_object_get(log, "transactionIndex"), &txi) || txi > UINT32_MAX ||
        !j_bytes(json_object_get(log, "transactionHash"), tr->tx_hash, 32))
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
        if (!j_bytes(json_array_get(topics, 3), id, 32)) {
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
    out->has_bh = j_bytes(json_object_get(log, "blockHash"), out->block_hash, 32);
    *ok = true;
    return GL_OK;
}

/* The addresses of the members still fetched for `which` (token: not a
 * hub; native: not a hub and wanting natives). */
static json_t *member_topics(batch *bt, bool as_topics, bool native)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < bt->n; i++) {
        node *n = bt->m[i];
        if (n->fetch_hub || (native ? !n->new_nat : !n->new_tok))
            continue;
        json_array_append_new(arr, as_topics ? hextopic(n->addr) : hexaddr(n->addr));
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

static gl_code fetch_logs_range(trail *t, batch *bt, iv r, pendv *pv, gl_err *err)
{
    gl_range_plan plan;
    gl_code rc = gl_range_plan_init(&plan, r.lo, r.hi, &t->logcfg, err);
    uint64_t lo, hi;
    unsigned splits = 0;
    while (!rc && gl_range_plan_next(&plan, &lo, &hi)) {
        json_t *addrs = member_topics(bt, true, false);
        if (!json_array_size(addrs)) {
            json_decref(addrs);
            break; /* every member became a hub */
        }
        const char *methods[2] = {"eth_getLogs", "eth_getLogs"};
        json_t *params[2];
        params[0] = json_pack("[{s:o, s:o, s:[s,O]}]", "fromBlock", hexq(lo), "toBlock", hexq(hi), "topics",
                              TRANSFER_TOPIC, addrs);
        params[1] = json_pack("[{s:o, s:o, s:[s,n,O]}]", "fromBlock", hexq(lo), "toBlock", hexq(hi), "topics",
                              TRANSFER_TOPIC, addrs);
        json_decref(addrs);
        json_t *res[2] = {NULL, NULL};
        gl_call_outcome oc[2];
        rc = gl_endpoints_call_each(t->ep, 2, methods, params, res, oc, err);
        json_decref(params[0]);
        json_decref(params[1]);
        t->rep->log_requests += 2;
        if (!rc) {
            int bad = oc[0].code ? 0 : oc[1].code ? 1 : -1;
            if (bad >= 0) {
                rc = plan_failure(&plan, lo, hi, &oc[bad], &splits, "eth_getLogs", err);
            } else if (!json_is_array(res[0]) || !json_is_array(res[1])) {
                rc = gl_err_set(err, GL_ERPC, "eth_getLogs %" PRIu64 "..%" PRIu64 ": the answer is not an array",
                                lo, hi);
            } else {
                size_t nlogs = json_array_size(res[0]) + json_array_size(res[1]);
                for (int k = 0; k < 2 && !rc; k++) {
                    size_t i;
                    json_t *log;
                    json_array_foreach(res[k], i, log)
                    {
                        pend x;
                        bool ok;
                        rc = parse_log(t, log, &x, &ok);
                        if (!rc && ok && (x.t.pos.block < lo || x.t.pos.block > hi))
                            rc = gl_err_set(err, GL_ERPC,
                                            "eth_getLogs %" PRIu64 "..%" PRIu64 " answered a log of block %" PRIu64,
                                            lo, hi, x.t.pos.block);
                        if (!rc && ok)
                            rc = take(t, bt, pv, &x, err);
                        if (rc)
                            break;
                    }
                }
                if (!rc)
                    rc = gl_range_plan_on_success(&plan, lo, hi, nlogs, err);
            }
        }
        json_decref(res[0]);
        json_decref(res[1]);
    }
    if (!rc)
        rc = gl_range_plan_status(&plan, err);
    learn(&t->logcfg, &plan);
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
        if (!ct || strcmp(ct, "call") || !q_u256(json_object_get(action, "value"), &v) ||
            !j_bytes(json_object_get(action, "from"), x->from, 20) ||
            !j_bytes(json_object_get(action, "to"), x->to, 20))
            return GL_OK;
    } else if (!strcmp(type, "create") || !strcmp(type, "create2")) {
        if (!q_u256(json_object_get(action, "value"), &v) || !j_bytes(json_object_get(action, "from"), x->from, 20) ||
            !j_bytes(json_object_get(result, "address"), x->to, 20))
            return GL_OK;
    } else if (!strcmp(type, "suicide") || !strcmp(type, "selfdestruct")) {
        if (!q_u256(json_object_get(action, "balance"), &v) ||
            !j_bytes(json_object_get(action, "address"), x->from, 20) ||
            !j_bytes(json_object_get(action, "refundAddress"), x->to, 20))
            return GL_OK;
    } else {
        return GL_OK;
    }
    uint64_t txpos;
    const json_t *ta = json_object_get(tr, "traceAddress");
    if (gl_u256_is_zero(&v) || !json_is_array(ta) || !q_u64(json_object_get(tr, "blockNumber"), &x->pos.block) ||
        !q_u64(json_object_get(tr, "transactionPosition"), &txpos) || txpos > UINT32_MAX ||
        !j_bytes(json_object_get(tr, "transactionHash"), x->tx_hash, 32))
        return GL_OK;
    x->amount = v;
    x->asset = GL_STORE_ASSET_NATIVE;
    x->pos.chain_id = t->chain;
    x->pos.index = (uint32_t)txpos;
    out->tx_index = (uint32_t)txpos;
    x->pos.kind = json_array_size(ta) ? GL_STORE_POS_TRACE : GL_STORE_POS_TX;
    out->has_bh = j_bytes(json_object_get(tr, "blockHash"), out->block_hash, 32);
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

/* trace_filter over r for the members wanting natives.  *unsupported set
 * when the endpoint refuses the method (nothing is then taken). */
static gl_code fetch_traces_range(trail *t, batch *bt, iv r, pendv *pv, bool *unsupported, gl_err *err)
{
    gl_range_plan plan;
    gl_code rc = gl_range_plan_init(&plan, r.lo, r.hi, &t->tracecfg, err);
    uint64_t lo, hi;
    unsigned splits = 0;
    while (!rc && gl_range_plan_next(&plan, &lo, &hi)) {
        json_t *addrs = member_topics(bt, false, true);
        if (!json_array_size(addrs)) {
            json_decref(addrs);
            break;
        }
        const char *methods[2] = {"trace_filter", "trace_filter"};
        json_t *params[2];
        params[0] = json_pack("[{s:o, s:o, s:O}]", "fromBlock", hexq(lo), "toBlock", hexq(hi), "fromAddress", addrs);
        params[1] = json_pack("[{s:o, s:o, s:O}]", "fromBlock", hexq(lo), "toBlock", hexq(hi), "toAddress", addrs);
        json_decref(addrs);
        json_t *res[2] = {NULL, NULL};
        gl_call_outcome oc[2];
        rc = gl_endpoints_call_each(t->ep, 2, methods, params, res, oc, err);
        json_decref(params[0]);
        json_decref(params[1]);
        t->rep->trace_requests += 2;
        if (!rc) {
            int bad = oc[0].code ? 0 : oc[1].code ? 1 : -1;
            if (bad >= 0 && is_unsupported(&oc[bad])) {
                *unsupported = true;
                snprintf(t->rep->native_note, sizeof t->rep->native_note, "trace_filter refused: %s",
                         oc[bad].err.msg);
                json_decref(res[0]);
                json_decref(res[1]);
                return GL_OK;
            }
            if (bad >= 0) {
                rc = plan_failure(&plan, lo, hi, &oc[bad], &splits, "trace_filter", err);
            } else if (!json_is_array(res[0]) || !json_is_array(res[1])) {
                rc = gl_err_set(err, GL_ERPC, "trace_filter %" PRIu64 "..%" PRIu64 ": the answer is not an array",
                                lo, hi);
            } else {
                size_t first = pv->n, ntr = json_array_size(res[0]) + json_array_size(res[1]);
                json_t **tas = calloc(ntr ? ntr : 1, sizeof *tas);
                if (!tas)
                    rc = gl_err_set(err, GL_ENOMEM, "out of memory reading traces");
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
                            rc = gl_err_set(err, GL_ERPC,
                                            "trace_filter %" PRIu64 "..%" PRIu64 " answered block %" PRIu64, lo, hi,
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
                if (!rc)
                    rc = gl_range_plan_on_success(&plan, lo, hi, ntr, err);
            }
        }
        json_decref(res[0]);
        json_decref(res[1]);
    }
    if (!rc)
        rc = gl_range_plan_status(&plan, err);
    learn(&t->tracecfg, &plan);
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

static gl_code run_batch(trail *t, node **members, size_t n, bool *trace_refused, gl_err *err)
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
        rc = fetch_logs_range(t, &bt, ranges[i], &pv, err);
    free(ranges);
    ranges = NULL;
    bool refused = false;
    if (!rc && traces) {
        rc = batch_ranges(&bt, true, &ranges, &nr, err);
        for (size_t i = 0; i < nr && !rc && !refused; i++)
            rc = fetch_traces_range(t, &bt, ranges[i], &pv, &refused, err);
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
        rc = commit(t, &pv, NULL, err);
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
        rc = save_maybe(t, err);
    return rc;
}

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
            if (creations[i] && !j_bytes(json_object_get(r, "contractAddress"), cand->v[i].t.to, 20))
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
    *mine = recovered && c.has_from && member_at(t, c.rec.from, x->t.pos.block) != NULL;
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
    gl_code rc = fetch_blocks(t, nums, k, &known, err);
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
            if (!q_u256(json_object_get(tx, "value"), &x.t.amount) || gl_u256_is_zero(&x.t.amount) ||
                !j_bytes(json_object_get(tx, "from"), x.t.from, 20) || (!creation && !j_bytes(to, x.t.to, 20)) ||
                !j_bytes(json_object_get(tx, "hash"), x.t.tx_hash, 32) ||
                !q_u64(json_object_get(tx, "transactionIndex"), &idx) || idx > UINT32_MAX)
                continue;
            x.t.pos = (gl_store_pos){t->chain, sb->number, GL_STORE_POS_TX, (uint32_t)idx, 0};
            x.tx_index = (uint32_t)idx;
            x.t.asset = GL_STORE_ASSET_NATIVE;
            x.has_bh = true;
            memcpy(x.block_hash, sb->hash, 32);
            node *f = member_at(t, x.t.from, x.t.pos.block);
            node *tn = creation ? NULL : member_at(t, x.t.to, x.t.pos.block);
            if (!f && !tn) {
                bool mine;
                if ((rc = signed_by_member(t, &known.v[i], tx, &x, &mine, err)) || !mine)
                    continue;
            }
            rc = pend_push(&cand, &x, err);
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
        rc = commit(t, &cand, &known, err);
    free(cand.v);
    fullv_release(&known);
    t->rep->scanned_blocks += k;
    return rc;
}

static gl_code run_scan(trail *t, node **e, size_t ne, gl_err *err)
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
    if (!memcmp(n->addr, zero20, 20)) {
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
    say(t, 0, "depth %u: %zu addresses, %zu to expand", lvl, cnt, nx);
    if (rc || last || !nx) {
        free(e);
        return rc;
    }
    /* fetch in batches of neighbouring windows */
    qsort(e, nx, sizeof *e, need_cmp);
    for (size_t off = 0; off < nx && !rc; off += t->o.addr_batch) {
        size_t k = nx - off < t->o.addr_batch ? nx - off : t->o.addr_batch;
        bool refused = false;
        rc = run_batch(t, e + off, k, &refused, err);
        if (!rc && refused) {
            if (t->o.native == GL_TRAIL_NATIVE_TRACE)
                rc = gl_err_set(err, GL_ENOTSUP, "the endpoint has no trace_filter (%s)", t->rep->native_note);
            else {
                t->trace_ok = false;
                say(t, 1, "%s: scanning blocks for native transfers instead", t->rep->native_note);
            }
        }
    }
    bool scan = t->o.native == GL_TRAIL_NATIVE_SCAN || (t->o.native == GL_TRAIL_NATIVE_AUTO && !t->trace_ok);
    if (!rc && scan)
        rc = run_scan(t, e, nx, err);
    if (!rc)
        rc = save_state(t, err);
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
        node *n = map_find(&t->map, addrs[i]);
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
            rc = map_get(&t->map, kids.v[j].addr, &c, err);
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
    say(t, 0, "depth %u: %" PRIu64 " expanded, %" PRIu64 " new counterparties", lvl, t->lv->expanded, t->lv->next);
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
        rc = map_get(&t->map, ev->contract, &n, err);
        if (!rc)
            n->platform = true;
        if (!rc && ev->has_token) {
            rc = map_get(&t->map, ev->token, &n, err);
            if (!rc)
                n->platform = true;
        }
        iv w;
        bool inside = iv_around(ev->block, t->o.window, t->safe, &w);
        for (size_t i = 0; i < ev->n_roles && !rc; i++) {
            if ((unsigned)ev->roles[i].role >= 32 || !(t->seed_mask & (1u << ev->roles[i].role)))
                continue;
            rc = map_get(&t->map, ev->roles[i].addr, &n, err);
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
    if (!rc && !q_u64(head, &t->head))
        rc = gl_err_set(err, GL_ERPC, "eth_blockNumber: not a quantity");
    json_decref(head);
    if (!rc) {
        rep->chain_id = t->chain;
        rep->head = t->head;
        t->safe = t->head > t->o.confirmations ? t->head - t->o.confirmations : 0;
        rep->safe_head = t->safe;
        state_path(t, rep->state_path, sizeof rep->state_path);
        rc = load_state(t, err);
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
        gl_code src = save_state(t, &serr);
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
    map_release(&t->map);
    gl_secp_free(t->secp);
    free(t);
    return rc;
}
