/* trail_int.h - what the funding trail's own files share; not an API (that
 * is include/gpuledger/trail.h): constants, the walk's state and its
 * containers, and the functions one of these files calls in another.
 *
 * The funding trail, one job a file:
 *   trail.c        the walk: gl_trail_expand, options, seeds, levels
 *   trail_data.c   intervals, the address map, address sets, vectors and
 *                  the JSON helpers the other parts read answers with
 *   trail_state.c  the state file: what has been fetched, so a run resumes
 *   trail_store.c  storage of what is found: blocks fetched and checked
 *                  (header, hash, parent), transactions checked (senders),
 *                  committed with their transfers and findings
 *   trail_fetch.c  one batch of addresses: their token Transfer logs and
 *                  native transfers by trace_filter, over their windows
 *   trail_scan.c   the expand scan: blocks read for native transfers when
 *                  the endpoint has no trace_filter, reverted ones told by
 *                  receipts proven against receiptsRoot
 */
#ifndef GL_INDEXER_TRAIL_INT_H
#define GL_INDEXER_TRAIL_INT_H

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
    bool no_block_receipts; /* eth_getBlockReceipts failed once: the scan asks per tx */
} trail;

/* trail.c */
void tr_say(trail *t, int level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* trail_data.c */
iv iv_hull(iv a, iv b);
bool iv_around(uint64_t block, uint64_t w, uint64_t safe, iv *out);
bool iv_has(iv a, uint64_t x);
size_t iv_todo(bool has_done, iv done, iv need, iv out[2]);
size_t iv_merge(iv *v, size_t n);
void tr_map_release(addrmap *m);
node *tr_map_find(const addrmap *m, const uint8_t a[20]);
void *tr_grow_one(void *v, size_t n, size_t *cap, size_t elem, size_t first);
gl_code tr_map_get(addrmap *m, const uint8_t a[20], node **out, gl_err *err);
void aset_release(aset *s);
void aset_clear(aset *s);
gl_code aset_add(aset *s, const uint8_t a[20], uint64_t b, bool *added, gl_err *err);
gl_code tr_pend_push(pendv *p, const pend *x, gl_err *err);
gl_code tr_block_push(blockv *b, const gl_store_block *x, gl_err *err);
gl_code fullv_push(fullv *b, const gl_store_block *rec, json_t *json, gl_err *err);
bool tr_q_u64(const json_t *v, uint64_t *out);
bool tr_q_u256(const json_t *v, gl_u256 *out);
bool tr_j_bytes(const json_t *v, uint8_t *out, size_t n);
bool tr_topic_addr(const json_t *v, uint8_t out[20]);
json_t *tr_hexq(uint64_t v);
json_t *tr_hexaddr(const uint8_t a[20]);
json_t *tr_hextopic(const uint8_t a[20]);
extern const uint8_t tr_zero20[20];

/* trail_state.c */
void tr_state_path(const trail *t, char *out, size_t cap);
gl_code tr_save_state(trail *t, gl_err *err);
gl_code tr_save_maybe(trail *t, gl_err *err);
gl_code tr_load_state(trail *t, gl_err *err);

/* trail_store.c */
gl_code tr_fetch_blocks(trail *t, const uint64_t *nums, size_t n, fullv *out, gl_err *err);
void fullv_release(fullv *b);
gl_code tr_commit(trail *t, pendv *p, const fullv *known, gl_err *err);
gl_code tr_finding_add(trail *t, findv *fv, const gl_store_block *b, json_t *f, gl_err *err);

/* trail_fetch.c */
node *tr_member_at(trail *t, const uint8_t a[20], uint64_t block);
gl_code tr_run_batch(trail *t, node **members, size_t n, bool *trace_refused, gl_err *err);

/* trail_scan.c */
gl_code tr_run_scan(trail *t, node **e, size_t ne, gl_err *err);

#endif
