/* indexer_int.h - what the indexer's own files share; not an API (that is
 * include/gpuledger/indexer.h, which says what is fetched, verified and
 * stored, and why): the indexer's state, the fetch and block types, and
 * the functions one of these files calls in another.
 *
 * The indexer, one job a file:
 *   indexer.c          lifecycle (new, free, stats, chain check), the
 *                      helpers every part uses, findings
 *   indexer_filter.c   the followed addresses and topics, the join table,
 *                      and their rebuild from the store
 *   indexer_logs.c     eth_getLogs over a planned range, and discovery of
 *                      the contracts factories create
 *   indexer_refused.c  a single block whose eth_getLogs is refused: logs
 *                      split by address and topic, or read from receipts
 *   indexer_check.c    verification of a block: header, parent, senders,
 *                      receipts, log hashes, quorum
 *   indexer_records.c  building the records of a verified block
 *   indexer_range.c    processing a planned range: block fetch (and its
 *                      prefetch), chunks, the batch and its commit
 *   indexer_reorg.c    reorgs: finding the fork, rolling back
 *   indexer_run.c      run and follow: passes, the logs prefetch, head
 *                      targets, outages
 *
 * Control flow inside a pass: the processing functions return a gl_code
 * for real failures (the run stops) and leave a signal in ix->signal for
 * what the driver must do: IX_RETRY (an inconsistent answer: fetch the
 * range again), IX_REORG (the chain under the cursor changed: walk back and
 * roll back), IX_STOP (the caller asked to stop).
 */
#ifndef GL_INDEXER_INDEXER_INT_H
#define GL_INDEXER_INDEXER_INT_H

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

/* ------------------------------------------------------------------ types */

typedef enum ix_signal {
    IX_NONE,
    IX_RETRY,
    IX_REORG,
    IX_STOP,
} ix_signal;

/* A followed contract: from the definition (factory SIZE_MAX) or created by
 * factory `factory` at block from_block. */
typedef struct ix_addr {
    uint8_t a[20];
    size_t factory;
    uint64_t from_block;
} ix_addr;

/* A distinct (event, key, field) that some role joins on. */
typedef struct ix_join_spec {
    const char *event;
    const char *key;
    const char *field;
    gl_abi_kind field_kind; /* how the stored word turns back into a value */
} ix_join_spec;

typedef struct ix_join_entry {
    bool used;
    uint32_t spec;
    uint8_t key[32];
    uint8_t val[32];
} ix_join_entry;

/* A finding waiting for the commit that covers its block. */
typedef struct ix_finding {
    uint64_t block;
    json_t *json;
} ix_finding;

/* What was learned about one transaction behind the logs of a block. */
typedef struct ix_tx {
    uint32_t index;
    bool ok;          /* read and bound to the log's tx hash */
    bool has_from;
    gl_store_tx rec;
} ix_tx;

/* Records put into the current batch, added to the stats at commit. */
typedef struct ix_counts {
    uint64_t events, txs, blocks, transfers, logs, fetched;
} ix_counts;

struct gl_indexer {
    gl_store *s;
    gl_endpoints *e;
    gl_endpoints *pf_logs[2];  /* opts.prefetch: the next ranges' logs, a thread each */
    gl_endpoints *pf_blocks;   /* opts.prefetch: the next chunk's blocks, on a thread */
    const gl_platform *p;
    gl_indexer_opts o;
    gl_secp *secp;
    uint64_t chain;
    uint64_t conf;
    uint64_t start_block;      /* lowest start_block of the definition */
    bool has_cursor;
    gl_store_cursor cur;
    bool defhash_pending;      /* write the definition's hash with the next commit */
    bool uses_tx_roles;        /* some role reads tx.from / tx.to */

    ix_addr *addrs;            /* sorted by address */
    size_t naddrs, addrs_cap;
    uint8_t (*topics)[32];
    size_t ntopics;

    ix_join_spec *specs;
    size_t nspecs;
    ix_join_entry *jt;         /* open addressing; capacity a power of two */
    size_t jt_cap, jt_n;

    ix_finding *pend;
    size_t npend, pend_cap;

    gl_direct_plan *plans;     /* one per event signature met (see direct_plan) */
    size_t nplans, plans_cap;

    gl_store_batch *b;
    ix_counts bc;

    bool has_prev;             /* the last block whose hash is known (cursor or data block) */
    uint64_t prev_num;
    uint8_t prev_hash[32];

    bool no_block_receipts;    /* eth_getBlockReceipts failed once: per-tx receipts */
    bool parent_lenient;       /* a broken parent link is a finding, not a reorg */
    ix_signal signal;
    gl_indexer_stats st;
};

/* What an eth_getLogs fetch reads and counts, apart from the indexer, so
 * that the prefetch thread can run one while the indexer works on the
 * range before (it then holds its own endpoint pool and copies). */
typedef struct ix_fetch {
    gl_endpoints *e;
    const ix_addr *addrs;      /* sorted by address */
    size_t naddrs;
    const uint8_t (*topics)[32];
    size_t ntopics;
    size_t per_request;        /* addresses in one filter */
    size_t max_bytes;          /* an answer's body cap over 2+ blocks (0: the pool's) */
    uint64_t requests;         /* eth_getLogs sent */
    uint64_t dropped;          /* logs that were not asked for */
} ix_fetch;

/* One block holding followed logs, and what was fetched for it. */
typedef struct ix_blk {
    uint64_t num;
    gl_log *logs;
    size_t nlogs;
    json_t *block;    /* eth_getBlockByNumber(num, full), or NULL */
    bool full;        /* block holds transaction objects (else only their hashes) */
    json_t *parent;   /* eth_getBlockByNumber(num - 1, false), or NULL */
    json_t *receipts; /* array, or NULL */
} ix_blk;

/* What fetching one chunk's blocks reads and learns, apart from the
 * indexer, so that it can run on a thread (indexer_range.c). */
typedef struct ix_bfetch {
    gl_endpoints *e;
    gl_store *s;
    uint64_t chain;
    gl_indexer_verify verify;
    bool full;              /* transactions are needed (verification, or roles reading tx) */
    bool has_prev;          /* the block before the chunk whose hash will be known */
    uint64_t prev_num;
    bool no_block_receipts; /* ask for each tx's receipt (learned: eth_getBlockReceipts failed) */
    bool switched;          /* out: it failed here (why says how) */
    gl_err why;
    uint64_t fetched;       /* out: blocks fetched */
} ix_bfetch;

/* The blocks of a range's first chunk, fetched on the logs prefetch thread
 * as soon as the range's logs arrive (ix_ahead_fetch), while the range
 * before is still processed: otherwise every range starts with a block
 * fetch on the main thread that nothing overlaps.  Taken by
 * ix_do_range only when the chunk it would fetch is the same blocks. */
typedef struct ix_ahead {
    bool armed;               /* prepared: fetch once the logs arrive */
    bool want_blocks;         /* need_blocks() at prepare time */
    size_t chunk, per_batch, min_blocks;
    ix_bfetch f;
    bool done;                /* fetched (rc says how) */
    size_t end;               /* the chunk: the sorted logs[0..end) */
    ix_blk *blks;
    size_t nb;
    gl_code rc;
    gl_err err;
} ix_ahead;

/* State of one block while it is checked. */
typedef struct ix_check {
    gl_indexer *ix;
    const ix_blk *blk;
    bool strict;      /* an inconsistency makes the range be fetched again */
    bool bad;         /* answers disagreed with each other (maybe a reorg in flight) */
    bool lied;        /* the block object contradicts itself: fetch the block again */
    gl_store_block rec;
    uint8_t claimed[32];
    bool has_claimed;
    gl_block_header hdr;
    bool has_hdr;
    ix_tx *txs;
    size_t ntxs;
    bool *proven;     /* per log of the block (FULL) */
} ix_check;

/* indexer.c */
extern const uint8_t ix_zero32[32];
void ixlog(gl_indexer *ix, int level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
bool ix_want_stop(gl_indexer *ix);
gl_code ix_nomem(gl_err *err);
char *ix_hex_of(const uint8_t *d, size_t n, char *buf);
json_t *ix_qty_json(uint64_t v);
bool ix_get_qty(const json_t *v, uint64_t *out);
bool ix_get_fixed(const json_t *v, uint8_t *out, size_t n);
void ix_nap(gl_indexer *ix, uint64_t ms);
json_t *ix_finding_new(gl_indexer *ix, const char *kind, uint64_t block);
void fset_hex(json_t *f, const char *key, const uint8_t *d, size_t n);
void fset_str(json_t *f, const char *key, const char *v);
void fset_int(json_t *f, const char *key, uint64_t v);
gl_code ix_finding_add(gl_indexer *ix, uint64_t block, json_t *f, gl_err *err);
gl_code ix_findings_flush(gl_indexer *ix, uint64_t upto, gl_err *err);

/* indexer_filter.c */
int ix_addr_cmp(const void *a, const void *b);
const ix_addr *ix_addr_find(const gl_indexer *ix, const uint8_t a[20]);
gl_code ix_addr_add(gl_indexer *ix, const uint8_t a[20], size_t factory, uint64_t from_block, bool *added,
                 gl_err *err);
gl_code ix_topics_from(gl_indexer *ix, const gl_abi_range *r, size_t n, size_t contract, gl_err *err);
size_t factory_of_event(const gl_platform *p, const uint8_t a[20], const char *name);
bool ix_field_kind(const gl_platform *p, const char *event, const char *field, gl_abi_kind *out);
gl_code ix_specs_build(gl_indexer *ix, gl_err *err);
size_t ix_spec_find(const gl_indexer *ix, const char *event, const char *key, const char *field);
const ix_join_entry *ix_jt_get(gl_indexer *ix, uint32_t spec, const uint8_t key[32]);
const gl_store_id *ix_event_id(const gl_store_event *ev, const char *name);
gl_code ix_learn_event(gl_indexer *ix, const gl_store_event *ev, gl_err *err);
gl_code ix_tables_rebuild(gl_indexer *ix, gl_err *err);

/* indexer_logs.c */
bool ix_addr_live(const ix_addr *a, uint64_t block);
size_t ix_per_request(const gl_indexer *ix);
/* request_logs x GL_INDEXER_ANSWER_BYTES_PER_LOG: the body cap of an answer over 2+ blocks. */
size_t ix_answer_bytes(const gl_indexer *ix);
ix_fetch ix_fetch_of(gl_indexer *ix, const ix_addr *only, size_t nonly);
void ix_fetch_settle(gl_indexer *ix, ix_fetch *f, uint64_t lo, uint64_t hi);
bool ix_fetch_topic(const ix_fetch *f, const uint8_t t[32]);
gl_code ix_get_logs_chunk(ix_fetch *f, size_t first, size_t n, uint64_t lo, uint64_t hi, gl_logs *out,
                       gl_call_info *info, gl_err *err);
gl_code ix_get_logs(ix_fetch *f, uint64_t lo, uint64_t hi, gl_logs *out, gl_call_info *info, gl_err *err);
void ix_plan_config(const gl_indexer *ix, gl_range_plan_config *cfg);
gl_code ix_get_logs_planned(gl_indexer *ix, uint64_t lo, uint64_t hi, const ix_addr *only, size_t nonly,
                         gl_logs *out, gl_err *err);
gl_code ix_discover(gl_indexer *ix, uint64_t hi, gl_logs *logs, gl_err *err);

/* indexer_refused.c */
gl_code logs_refused_block(gl_indexer *ix, ix_fetch *f, uint64_t n, gl_logs *out, gl_err *err);

/* indexer_range.c */
gl_code ix_batch_ensure(gl_indexer *ix, gl_err *err);
void prev_from_cursor(gl_indexer *ix);
gl_code ix_endpoint_hash(gl_indexer *ix, uint64_t n, uint8_t out[32], bool *exists, gl_err *err);
gl_code ix_do_range(gl_indexer *ix, uint64_t lo, uint64_t hi, gl_logs *logs, ix_ahead *ahead, gl_err *err);
void ix_ahead_prepare(const gl_indexer *ix, ix_ahead *a, gl_endpoints *e, uint64_t lo);
void ix_ahead_fetch(ix_ahead *a, gl_logs *logs);
void ix_ahead_drop(ix_ahead *a);

/* indexer_check.c */
ix_tx *ix_tx_of(ix_check *c, uint32_t index);
void ix_check_release(ix_check *c);
gl_code ix_block_check(gl_indexer *ix, ix_blk *blk, bool strict, ix_check *c, gl_err *err);
gl_code ix_check_quorum(gl_indexer *ix, ix_check *c, bool *disputed, gl_err *err);

/* indexer_records.c */
gl_code ix_block_process(gl_indexer *ix, ix_blk *blk, bool strict, bool build, gl_err *err);

/* indexer_reorg.c */
gl_code ix_cursor_load(gl_indexer *ix, gl_err *err);
gl_code ix_reorg_check(gl_indexer *ix, bool *rolled, gl_err *err);

#endif
