/* trie.c - Merkle-Patricia trie roots (see trie.h).
 *
 * Writes are appended to an array of entries; hashing sorts them by key
 * (ties by write order), keeps each key's last write and drops deletions,
 * then encodes the trie top-down from the sorted run: a run of one key is a
 * leaf, a run whose keys share a first nibble path is an extension over the
 * rest, anything else is a branch split on the next nibble (a key ending
 * exactly here is the branch's value).  Each node is encoded straight into
 * one scratch buffer after its parent's partial encoding; a node of 32 bytes
 * or more is then replaced by the RLP of its keccak hash, a shorter one stays
 * where it is, embedded.
 */
#include <stdlib.h>
#include <string.h>

#include "gpuledger/keccak.h"
#include "gpuledger/rlp.h"
#include "gpuledger/trie.h"

const uint8_t GL_TRIE_EMPTY_ROOT[32] = {
    0x56, 0xe8, 0x1f, 0x17, 0x1b, 0xcc, 0x55, 0xa6, 0xff, 0x83, 0x45, 0xe6, 0x92, 0xc0, 0xf8, 0x6e,
    0x5b, 0x48, 0xe0, 0x1b, 0x99, 0x6c, 0xad, 0xc0, 0x01, 0x62, 0x2f, 0xb5, 0xe3, 0x63, 0xb4, 0x21,
};

/* ------------------------------------------------------------------ types */

/* Keys this short live inside the entry: hashed keys and rlp(index). */
#define KEY_INLINE 32

typedef struct entry {
    uint8_t kin[KEY_INLINE]; /* the key when klen <= KEY_INLINE */
    uint8_t *mem;            /* owned: long key (if any) then the value; may be NULL */
    const uint8_t *val;      /* into mem, or borrowed (ordered roots) */
    size_t klen;
    size_t vlen;             /* 0: a deletion */
    size_t seq;              /* write order, to keep the last write of a key */
} entry;

struct gl_trie {
    entry *e;
    size_t n, cap;
    size_t live_hint; /* live entries after the last compaction */
    size_t seq;
    bool secure;
};

/* State of one hashing pass. */
typedef struct enc_ctx {
    const entry *e;
    gl_buf out;                    /* nodes being encoded, root first */
    uint8_t hp[GL_TRIE_KEY_MAX + 1]; /* hex-prefix scratch, used before recursing */
} enc_ctx;

/* ---------------------------------------------------------------- entries */

static const uint8_t *entry_key(const entry *e)
{
    return e->klen <= KEY_INLINE ? e->kin : e->mem;
}

static int entry_cmp(const void *pa, const void *pb)
{
    const entry *a = pa, *b = pb;
    size_t m = a->klen < b->klen ? a->klen : b->klen;
    int c = m ? memcmp(entry_key(a), entry_key(b), m) : 0;
    if (c)
        return c;
    if (a->klen != b->klen)
        return a->klen < b->klen ? -1 : 1;
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

static void entry_free(entry *e)
{
    free(e->mem);
    e->mem = NULL;
}

/* Sort, keep the last write of each key, drop deletions.  Cannot fail. */
static void compact(gl_trie *t)
{
    if (t->n > 1)
        qsort(t->e, t->n, sizeof *t->e, entry_cmp);
    size_t w = 0;
    for (size_t i = 0; i < t->n; i++) {
        bool superseded = i + 1 < t->n && t->e[i].klen == t->e[i + 1].klen &&
                          (t->e[i].klen == 0 ||
                           !memcmp(entry_key(&t->e[i]), entry_key(&t->e[i + 1]), t->e[i].klen));
        if (superseded || t->e[i].vlen == 0) {
            entry_free(&t->e[i]);
            continue;
        }
        t->e[w++] = t->e[i];
    }
    t->n = w;
    t->live_hint = w;
}

static gl_code grow(gl_trie *t, gl_err *err)
{
    if (t->n < t->cap)
        return GL_OK;
    size_t cap = t->cap ? t->cap * 2 : 16;
    if (cap > SIZE_MAX / sizeof *t->e)
        return gl_err_set(err, GL_ENOMEM, "trie: too many entries");
    entry *e = realloc(t->e, cap * sizeof *e);
    if (!e)
        return gl_err_set(err, GL_ENOMEM, "trie: out of memory for %zu entries", cap);
    t->e = e;
    t->cap = cap;
    return GL_OK;
}

/* ---------------------------------------------------------------- hashing */

static size_t nib_len(const entry *e) { return e->klen * 2; }

static unsigned nib(const entry *e, size_t i)
{
    uint8_t b = entry_key(e)[i / 2];
    return (i & 1) ? (b & 0x0f) : (b >> 4);
}

/* Append the RLP string of the hex-prefix encoding of nibbles [from, to) of
 * e's key, flagged as a leaf or an extension. */
static gl_code put_hp(enc_ctx *c, const entry *e, size_t from, size_t to, bool leaf, gl_err *err)
{
    size_t n = to - from, len = 0;
    unsigned flag = (leaf ? 2u : 0u) + (n & 1);
    size_t i = from;
    if (n & 1)
        c->hp[len++] = (uint8_t)(flag << 4 | nib(e, i++));
    else
        c->hp[len++] = (uint8_t)(flag << 4);
    for (; i < to; i += 2)
        c->hp[len++] = (uint8_t)(nib(e, i) << 4 | nib(e, i + 1));
    return gl_rlp_put_bytes(&c->out, c->hp, len, err);
}

static gl_code encode_node(enc_ctx *c, size_t lo, size_t hi, size_t depth, gl_err *err);

/* Append the reference to the node for [lo, hi): the node itself when its
 * RLP is under 32 bytes, else the RLP string of its hash. */
static gl_code put_ref(enc_ctx *c, size_t lo, size_t hi, size_t depth, gl_err *err)
{
    size_t base = c->out.len;
    gl_code rc = encode_node(c, lo, hi, depth, err);
    if (rc)
        return rc;
    if (c->out.len - base < 32)
        return GL_OK;
    uint8_t h[32];
    gl_keccak256(c->out.data + base, c->out.len - base, h);
    c->out.len = base;
    return gl_rlp_put_bytes(&c->out, h, sizeof h, err);
}

static gl_code encode_leaf(enc_ctx *c, const entry *e, size_t depth, gl_err *err)
{
    size_t begin = gl_rlp_list_begin(&c->out);
    gl_code rc = put_hp(c, e, depth, nib_len(e), true, err);
    if (!rc)
        rc = gl_rlp_put_bytes(&c->out, e->val, e->vlen, err);
    if (!rc)
        rc = gl_rlp_list_end(&c->out, begin, err);
    return rc;
}

/* Length of the nibble path shared by every key of the sorted run [lo, hi)
 * from `depth` on: that of its first and last keys. */
static size_t shared_prefix(const entry *a, const entry *b, size_t depth)
{
    size_t la = nib_len(a), lb = nib_len(b), n = 0;
    while (depth + n < la && depth + n < lb && nib(a, depth + n) == nib(b, depth + n))
        n++;
    return n;
}

static gl_code encode_branch(enc_ctx *c, size_t lo, size_t hi, size_t depth, gl_err *err)
{
    size_t begin = gl_rlp_list_begin(&c->out);
    const entry *value = NULL;
    size_t i = lo;
    gl_code rc = GL_OK;
    if (nib_len(&c->e[i]) == depth)
        value = &c->e[i++]; /* sorted: a key ending here comes first */
    for (unsigned slot = 0; slot < 16 && !rc; slot++) {
        size_t j = i;
        while (j < hi && nib(&c->e[j], depth) == slot)
            j++;
        rc = j > i ? put_ref(c, i, j, depth + 1, err) : gl_rlp_put_bytes(&c->out, NULL, 0, err);
        i = j;
    }
    if (!rc)
        rc = value ? gl_rlp_put_bytes(&c->out, value->val, value->vlen, err)
                   : gl_rlp_put_bytes(&c->out, NULL, 0, err);
    if (!rc)
        rc = gl_rlp_list_end(&c->out, begin, err);
    return rc;
}

/* Append the full RLP of the node holding the sorted, distinct, live keys
 * [lo, hi), all of which share their first `depth` nibbles. */
static gl_code encode_node(enc_ctx *c, size_t lo, size_t hi, size_t depth, gl_err *err)
{
    if (hi == lo)
        return gl_rlp_put_bytes(&c->out, NULL, 0, err);
    if (hi - lo == 1)
        return encode_leaf(c, &c->e[lo], depth, err);
    size_t cp = shared_prefix(&c->e[lo], &c->e[hi - 1], depth);
    if (cp == 0)
        return encode_branch(c, lo, hi, depth, err);
    size_t begin = gl_rlp_list_begin(&c->out);
    gl_code rc = put_hp(c, &c->e[lo], depth, depth + cp, false, err);
    if (!rc)
        rc = put_ref(c, lo, hi, depth + cp, err);
    if (!rc)
        rc = gl_rlp_list_end(&c->out, begin, err);
    return rc;
}

/* Hash the (compacted) entries of t. */
static gl_code hash_entries(const gl_trie *t, uint8_t root[32], gl_err *err)
{
    if (t->n == 0) {
        memcpy(root, GL_TRIE_EMPTY_ROOT, 32);
        return GL_OK;
    }
    enc_ctx *c = malloc(sizeof *c);
    if (!c) {
        memset(root, 0, 32);
        return gl_err_set(err, GL_ENOMEM, "trie: out of memory");
    }
    c->e = t->e;
    gl_buf_init(&c->out);
    gl_code rc = encode_node(c, 0, t->n, 0, err);
    if (!rc)
        gl_keccak256(c->out.data, c->out.len, root);
    else
        memset(root, 0, 32);
    gl_buf_release(&c->out);
    free(c);
    return rc;
}

/* -------------------------------------------------------------------- API */

gl_trie *gl_trie_new(bool secure, gl_err *err)
{
    gl_trie *t = calloc(1, sizeof *t);
    if (!t) {
        gl_err_set(err, GL_ENOMEM, "trie: out of memory");
        return NULL;
    }
    t->secure = secure;
    return t;
}

void gl_trie_free(gl_trie *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->n; i++)
        entry_free(&t->e[i]);
    free(t->e);
    free(t);
}

gl_code gl_trie_put(gl_trie *t, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen,
                    gl_err *err)
{
    uint8_t hashed[32];
    if (!t->secure && klen > GL_TRIE_KEY_MAX)
        return gl_err_set(err, GL_ERANGE, "trie: key of %zu bytes is longer than the %d-byte limit",
                          klen, GL_TRIE_KEY_MAX);
    if (t->secure) {
        gl_keccak256(key, klen, hashed);
        key = hashed;
        klen = sizeof hashed;
    }
    if (t->n >= 2 * t->live_hint + 64)
        compact(t);
    gl_code rc = grow(t, err);
    if (rc)
        return rc;
    entry *e = &t->e[t->n];
    memset(e, 0, sizeof *e);
    size_t extkey = klen > KEY_INLINE ? klen : 0;
    if (extkey + vlen) {
        e->mem = malloc(extkey + vlen);
        if (!e->mem)
            return gl_err_set(err, GL_ENOMEM, "trie: out of memory for a %zu-byte value", vlen);
        if (extkey)
            memcpy(e->mem, key, klen);
        if (vlen)
            memcpy(e->mem + extkey, val, vlen);
        e->val = e->mem + extkey;
    }
    if (klen && !extkey)
        memcpy(e->kin, key, klen);
    e->klen = klen;
    e->vlen = vlen;
    e->seq = t->seq++;
    t->n++;
    return GL_OK;
}

size_t gl_trie_count(gl_trie *t)
{
    compact(t);
    return t->n;
}

gl_code gl_trie_root(gl_trie *t, uint8_t root[32], gl_err *err)
{
    compact(t);
    return hash_entries(t, root, err);
}

/* rlp(i) as a trie key into out (at most 9 bytes); returns its length. */
static size_t index_key(size_t i, uint8_t out[9])
{
    if (i == 0) {
        out[0] = 0x80;
        return 1;
    }
    if (i < 0x80) {
        out[0] = (uint8_t)i;
        return 1;
    }
    size_t n = 0;
    for (size_t v = i; v; v >>= 8)
        n++;
    out[0] = (uint8_t)(0x80 + n);
    for (size_t k = 0; k < n; k++)
        out[1 + k] = (uint8_t)(i >> (8 * (n - 1 - k)));
    return 1 + n;
}

gl_code gl_trie_ordered_root(uint8_t root[32], const gl_buf *values, size_t n, gl_err *err)
{
    memset(root, 0, 32);
    for (size_t i = 0; i < n; i++)
        if (values[i].len == 0)
            return gl_err_set(err, GL_EINVAL, "trie: value %zu is empty", i);
    gl_trie t = {0};
    if (n) {
        if (n > SIZE_MAX / sizeof *t.e)
            return gl_err_set(err, GL_ENOMEM, "trie: too many values (%zu)", n);
        t.e = calloc(n, sizeof *t.e);
        if (!t.e)
            return gl_err_set(err, GL_ENOMEM, "trie: out of memory for %zu values", n);
    }
    for (size_t i = 0; i < n; i++) {
        entry *e = &t.e[i];
        e->klen = index_key(i, e->kin);
        e->val = values[i].data;
        e->vlen = values[i].len;
        e->seq = i;
    }
    t.n = t.cap = n;
    compact(&t); /* sorts; keys are distinct and values non-empty, nothing dropped */
    gl_code rc = hash_entries(&t, root, err);
    free(t.e);
    return rc;
}
