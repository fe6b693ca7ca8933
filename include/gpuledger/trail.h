/* trail.h - the funding trail: where the money of the marketplace wallets
 * came from and went to, a few hops out.
 *
 * Seeds are the wallets with a role (buyer, beneficiary, provider, payer by
 * default) in the stored events of the endpoint's chain.  For each wallet of
 * a level, the trail fetches, within a window of blocks around its activity:
 *   - ERC-20 (and ERC-721) Transfer logs with the wallet in topic 1 or 2:
 *     two eth_getLogs filters per batch of wallets, [Transfer, [w...]] and
 *     [Transfer, null, [w...]], the block range walked with the adaptive
 *     range planner (range_plan.h);
 *   - native-coin transfers: trace_filter (fromAddress, then toAddress) when
 *     the endpoint has it, which also sees internal calls; otherwise a scan
 *     of the window's blocks (eth_getBlockByNumber(n, true)) for
 *     transactions with value to or from a wallet (from: the sender
 *     recovered from the signature, whatever the endpoint's `from` says),
 *     bounded by a block budget, with what was not scanned reported.
 * Transfers, their appearances (sender, recipient, token) and the headers
 * of their blocks are stored with gl_store batches.  Every block fetched is
 * checked as the indexer checks it: the hash recomputed from the header
 * (then HASH_OK), the body (transactionsRoot and each tx's hash, uncles
 * hash, withdrawals root) against the header, the parentHash against the
 * parent's hash (the stored one, else the parent's as fetched in the same
 * batch; then PARENT_OK); each contradiction is a finding (the indexer's
 * kinds: header_hash_mismatch, tx_root_mismatch, parent_mismatch, ...),
 * and such a block does not vouch for its transactions: the
 * transfers they carry are flagged mismatch, with no tx record, and lead
 * nowhere.  A block of a format this build cannot rebuild (a chain's own
 * transaction types) stays unchecked, said in the log.  No endpoint is trusted: the transaction
 * carrying each transfer is read from its block (eth_getBlockByNumber(n,
 * true), in batches, unless the store holds it checked already), rebuilt
 * and hashed (it must be the one the log or trace names), and its sender
 * recovered from the signature and compared with the endpoint's `from`; it
 * is stored in `txs`/`txhash` with its tx_from/tx_to appearances, flagged
 * GL_STORE_TX_SENDER_OK or GL_STORE_TX_SENDER_MISMATCH, and its transfers
 * carry the same flags.  A lie (a false `from`, a tx that hashes otherwise,
 * a signature with no sender) is an integrity finding with its evidence
 * (the indexer's shape, "source": "trail"), and the transfers of that tx
 * are kept, flagged mismatch, but lead nowhere: no counterparty is taken
 * from them.  The counterparties of a level's wallets (from their other
 * transfers) become the next level, up to `depth` hops; their window is the
 * one around the transfers that linked them.
 *
 * Not expanded (each recorded with its reason): the zero address, the
 * marketplace contracts and tokens named by the stored events, addresses
 * labelled with a hub category (exchange, bridge, router, contract, mixer,
 * dex by default: the store's labels family), and hubs by degree, whose
 * distinct counterparties within the window exceed hub_degree.  A hub's
 * transfers are kept only where the other side is already in the trail.
 *
 * Idempotent and resumable: records are keyed by chain position, so a
 * re-run writes the same keys again; what each address has had fetched (its
 * token and native windows) and every decision are kept in a state file in
 * the store directory (trail-<chain id>.json, docs/EXPORT.md; replaced
 * atomically after commits, at most every few seconds, and at the end of
 * every level and of the run, failed runs included), so a new run fetches
 * only what is missing: a window that grew, a block range the scan budget
 * left out, new seeds, the levels a failed run did not reach.  The state
 * never claims more than the store holds: it is written after the commits
 * it describes.
 *
 * Threads: one call at a time per store and endpoint pool.
 */
#ifndef GPULEDGER_TRAIL_H
#define GPULEDGER_TRAIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gpuledger/endpoint.h"
#include "gpuledger/err.h"
#include "gpuledger/store.h"

/* Limits and defaults.  Depth: every hop multiplies the addresses by the
 * typical fan-out (tens), so 8 hops already covers any address of a chain;
 * deeper is refused.  Window: 50,000 blocks is about a week on Ethereum,
 * a day on Polygon and Base, three and a half hours on Arbitrum: wide
 * enough for the funding just before a first purchase on the slowest chain;
 * raise it on fast chains.  Hub degree: an exchange hot wallet or a router
 * meets thousands of counterparties a day, a person a few dozen. */
#define GL_TRAIL_DEPTH_MAX 8u
#define GL_TRAIL_DEPTH_DEFAULT 2u
#define GL_TRAIL_WINDOW_DEFAULT 50000u
#define GL_TRAIL_HUB_DEGREE_DEFAULT 200u
#define GL_TRAIL_MAX_SCAN_BLOCKS_DEFAULT 10000u
/* Addresses per eth_getLogs / trace_filter OR-list: providers accept a few
 * hundred topics; 32 keeps requests small and answers dense. */
#define GL_TRAIL_ADDR_BATCH_DEFAULT 32u
#define GL_TRAIL_ADDR_BATCH_MAX 1000u
#define GL_TRAIL_CONFIRMATIONS_DEFAULT 12u

/* The seed roles when none are given. */
#define GL_TRAIL_SEED_ROLES_DEFAULT "buyer,beneficiary,provider,payer"
/* Label categories that make an address a hub when none are given. */
#define GL_TRAIL_HUB_CATEGORIES_DEFAULT "exchange,bridge,router,contract,mixer,dex"

typedef enum gl_trail_native {
    GL_TRAIL_NATIVE_AUTO,  /* trace_filter, else a block scan */
    GL_TRAIL_NATIVE_TRACE, /* trace_filter only: fail when unavailable */
    GL_TRAIL_NATIVE_SCAN,  /* block scan only */
    GL_TRAIL_NATIVE_NONE,  /* token transfers only */
} gl_trail_native;

typedef struct gl_trail_opts {
    unsigned depth;            /* hops from the seeds; 0 = default; at most GL_TRAIL_DEPTH_MAX */
    uint64_t window;           /* blocks before and after an address's activity; 0 = default */
    uint64_t hub_degree;       /* 0 = default */
    uint64_t max_scan_blocks;  /* block-scan budget of this run; 0 = default */
    unsigned addr_batch;       /* 0 = default */
    uint64_t confirmations;    /* blocks behind the head left alone */
    bool confirmations_set;    /* false: GL_TRAIL_CONFIRMATIONS_DEFAULT */
    gl_trail_native native;
    const char *seed_roles;    /* comma-separated store role names; NULL = default */
    const char *hub_categories;/* comma-separated label categories; NULL = default */
    gl_log_fn log;             /* progress and warnings; NULL = silent */
    void *log_ctx;
} gl_trail_opts;

/* Why an address was not expanded (gl_trail_report.not_expanded). */
typedef enum gl_trail_skip {
    GL_TRAIL_SKIP_ZERO,        /* the zero address (mints and burns) */
    GL_TRAIL_SKIP_PLATFORM,    /* a marketplace contract or token of the stored events */
    GL_TRAIL_SKIP_LABEL,       /* labelled with a hub category */
    GL_TRAIL_SKIP_DEGREE,      /* more distinct counterparties than hub_degree */
    GL_TRAIL_SKIP_DEPTH,       /* reached at the last hop */
    GL_TRAIL_SKIP_COUNT
} gl_trail_skip;

/* "zero address", "platform contract", "hub label", "hub degree", "depth limit". */
const char *gl_trail_skip_name(gl_trail_skip why);

typedef struct gl_trail_level {
    uint64_t addresses;        /* at this depth */
    uint64_t expanded;         /* fetched now or by an earlier run */
    uint64_t fetched;          /* with something fetched by this run */
    uint64_t skipped[GL_TRAIL_SKIP_COUNT];
    uint64_t token_transfers;  /* new in the store, found at this level */
    uint64_t native_transfers;
    uint64_t next;             /* new addresses for the next level */
} gl_trail_level;

typedef struct gl_trail_report {
    uint64_t chain_id;
    uint64_t head;             /* the endpoint's head when the run started */
    uint64_t safe_head;        /* head - confirmations: nothing later is read */
    uint64_t seeds;
    unsigned levels;           /* levels with addresses (at most depth + 1:
                                  the last one is only classified) */
    gl_trail_level level[GL_TRAIL_DEPTH_MAX + 1];
    uint64_t transfers;        /* new in the store (token + native) */
    uint64_t appearances;      /* written (again, for transfers met twice) */
    uint64_t blocks;           /* block headers stored */
    uint64_t txs;              /* carrying transactions checked and stored */
    uint64_t findings;         /* integrity findings stored (lies caught) */
    uint64_t log_requests;     /* eth_getLogs calls */
    uint64_t trace_requests;   /* trace_filter calls */
    uint64_t scanned_blocks;   /* fetched by the block scan */
    uint64_t unscanned_blocks; /* left out by the scan budget (see unscanned_*) */
    uint64_t unscanned_from, unscanned_to; /* the first range left out, when any */
    const char *native_method; /* "trace_filter", "block scan" or "none" (static) */
    char native_note[256];     /* why the block scan was used, when it was */
    char state_path[1024];     /* the state file */
} gl_trail_report;

/* Expand the funding trail of the wallets in `s`'s events on the chain of
 * `ep` (eth_chainId).  opts may be NULL (defaults); report may be NULL.
 * The store must be open read-write.
 *
 * Fails with GL_EINVAL for bad options (depth above the maximum, an unknown
 * role, batch 0 after defaults), GL_ERPC / GL_EIO when the endpoints fail a
 * call after their retries (the message names the method and range),
 * GL_ENOTSUP when native=TRACE and the endpoint has no trace_filter,
 * GL_EVERIFY when an endpoint's answers contradict each other (a log's block
 * hash differs from the block's: a reorg under the window), GL_EDB when the
 * store fails, GL_EIO when the state file cannot be written, GL_ENOMEM.
 * What was committed before a failure stays (and is in the state file):
 * running again continues from there. */
gl_code gl_trail_expand(gl_store *s, gl_endpoints *ep, const gl_trail_opts *opts,
                        gl_trail_report *report /* OUT */, gl_err *err);

#endif
