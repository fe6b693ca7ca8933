/* indexer.h - the indexing pipeline: a platform definition and a pool of
 * endpoints in, verified records in the store out; and following the head
 * through reorgs.
 *
 * One pass over a block range (gl_indexer_run):
 *
 *   range planner (range_plan.h) -> [lo, hi]
 *     -> eth_getLogs(addresses: the definition's contracts + the contracts
 *        its factories created, at most addresses_per_request per filter;
 *        topic0: the mapped events + factory events), the answer read as it
 *        streams (log_reader.h); with opts.prefetch, the next range's
 *        eth_getLogs (and, against an endpoint that refuses nothing, the
 *        one after) is already running on a thread while this one is
 *        processed, and so is the next chunk's block fetch; a single
 *        block refused as too large (which no plan can cut) is asked
 *        again GL_INDEXER_RETRIES times, then with its filter cut in
 *        halves by address and by topic, and when even one address and
 *        one topic is refused, its logs are read from its receipts
 *        (eth_getBlockReceipts, proven against the rehashed header's
 *        receiptsRoot): a run never ends because one block is big
 *     -> factory events announce new contracts: their logs in [creation, hi]
 *        are fetched at once, and the address filter grows
 *     -> for the blocks holding logs, in chunks: eth_getBlockByNumber(n,
 *        true) (+ the parent's header when its hash is not known, + the
 *        receipts with --verify full), one JSON-RPC batch per chunk
 *     -> verification (below) -> decoding (abi.h) -> roles (platform.h) ->
 *        store records (store.h)
 *     -> one gl_store batch per chunk of at most batch_logs logs, committed
 *        with the cursor set to the last block it completes.
 *
 * Verification levels (what "trust nothing" buys, and what it costs):
 *   NONE     nothing is checked.  When every log carries `blockTimestamp`
 *            (anvil 1.x, reth, recent geth) and no role reads tx.from/tx.to,
 *            no block is fetched at all: block records take hash and time
 *            from the logs (parent hash zero) and no tx records are
 *            written.  Logs without it cost the header of each block that
 *            holds events (eth_getBlockByNumber(n, false): no transaction
 *            objects, still no tx records).  One header fetch per planned
 *            range gives the cursor its hash.
 *   SENDERS  the transaction behind every stored event is rebuilt from the
 *            block's fields, its hash compared with the log's
 *            transactionHash, and its sender recovered (libsecp256k1) and
 *            compared with the endpoint's `from`.
 *   HEADERS  (default) SENDERS, plus every block holding indexed data has
 *            its hash recomputed from its header, its transactionsRoot
 *            rebuilt and its parent link checked against the parent's
 *            known hash (stored block, cursor, or the parent's header,
 *            fetched and hashed).  Costs one full-block fetch per block
 *            with data, whatever the logs carry.
 *   FULL     HEADERS, plus receiptsRoot rebuilt from eth_getBlockReceipts
 *            (eth_getTransactionReceipt per tx where that is missing) and
 *            every stored log found, byte for byte, at its position in the
 *            proven receipts.
 * What is stored is what was proven: a transaction's `from` is the
 * recovered sender, a block's hash the recomputed one.  A claim that
 * differs is an integrity finding (findings family) with its evidence, and
 * the record's verification flags say what held.  Two kinds of trouble are
 * told apart.  A block object that contradicts itself (a hash that is not
 * its header's, a wrong transactions root) is a lie: it is recorded, and
 * the block alone is fetched again (GL_INDEXER_RETRIES times) for a
 * consistent copy.  Answers that disagree with each other (a log whose
 * block hash or tx hash is not the verified block's, receipts that do not
 * hash to the header's root) may be a reorg in flight: the range is fetched
 * again, and only a disagreement that survives the retries is recorded.
 * Every block object received is checked, also in an attempt that is
 * thrown away, so that no lie goes unrecorded.
 *
 * Findings (JSON objects, stored with sorted keys: "kind", "platform",
 * "block", and the evidence: "block_hash", "tx_hash", "tx_index",
 * "log_index", "field", "claimed", "computed", "reason"):
 *   header_hash_mismatch, tx_root_mismatch, tx_hash_mismatch,
 *   uncles_hash_mismatch, withdrawals_root_mismatch, tx_raw_mismatch,
 *   parent_mismatch, sender_mismatch, sender_unrecoverable,
 *   log_block_hash_mismatch, log_tx_mismatch, receipts_root_mismatch,
 *   log_not_proven, endpoints_disagree, undecodable_log, unstorable_event,
 *   unresolved_join
 *   (with the amount that was dropped with an unresolved token),
 *   unpriced_rate (an amount per block left unknown: its blocks or its
 *   token's decimals unknown; with the rate), reorg (the
 *   rollback itself, put at the block below the rolled-back range).
 *
 * Records written per stored event: the event (roles from
 * gl_platform_apply_roles, joins resolved), its block, its transaction
 * (txs/txhash), a native transfer for a transaction carrying value, a token
 * transfer for an event of kind "transfer", and the appearances the store
 * derives from those records (store.h): tx_from/tx_to at the tx's position,
 * the emitting contract and every role address at the log's position,
 * sender/recipient (and the token) at a transfer's position.  Only blocks
 * holding stored events get a block record, so the store does not depend
 * on how ranges were cut: an interrupted and resumed run ends byte for byte
 * where an uninterrupted one does.
 *
 * Joins ({"join": E, "on": {K: F'}, "field": F}) are resolved against the
 * events of the same platform already stored or earlier in the run: each
 * stored E event carries K and F among its ids, and an in-memory table
 * (rebuilt from the store at start and after any rollback) maps K's value
 * to F's.  A join with no match is a finding and the role stays unknown;
 * nothing is guessed.  Factory-created contracts are persisted the same
 * way: the factory event is stored with the new address as an id named
 * after its address field.
 *
 * Reorgs: before each pass and at every poll, the cursor's hash is compared
 * with the endpoint's (recomputed) hash of that block; a difference, or a
 * new block whose parent is not the stored one, walks back through the
 * stored blocks to the highest one the endpoint still agrees on, and rolls
 * everything above it back (gl_store_batch_rollback) in the same batch as a
 * "reorg" finding; then indexing resumes from there.
 *
 * Memory: logs are requested in ranges sized for request_logs logs (the
 * first one small, see GL_INDEXER_INITIAL_SPAN_DEFAULT), blocks fetched
 * block_chunk at a time (and at most GL_INDEXER_CHUNK_LOGS of the range's
 * logs) and released after use, and a batch holds at most batch_logs
 * events, so the indexer's own memory does not grow with the range.  What
 * grows with the data: the join table (one ~90-byte entry per joined event)
 * and the factory-created address list.  RocksDB's memtables (the store
 * caps them at 32 MiB in all), the store's gathered address-index keys
 * (ingest_keys, twice over while a file is written), a batch's events and
 * transfers on their way to a table file (store.h, bulk_write) and, with a
 * prefetch, up to two more ranges' logs come on top: 200k events peak at
 * ~118-159 MB RSS (bench/RESULTS.md).
 *
 * Ownership: a gl_indexer borrows the store, the endpoints and the
 * platform, which must outlive it.  One thread at a time.  Library code:
 * nothing is printed; chatter goes to opts.log.
 */
#ifndef GPULEDGER_INDEXER_H
#define GPULEDGER_INDEXER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "gpuledger/bytes.h"
#include "gpuledger/endpoint.h"
#include "gpuledger/err.h"
#include "gpuledger/platform.h"
#include "gpuledger/store.h"

/* ---------------------------------------------------------------- limits */

/* Logs per committed batch (a range's logs commit at its end anyway): a
 * batch of 10,000 events is ~10 MB of records.  Each commit is an fsync
 * and a round of per-batch work; with the fetching hidden behind the
 * processing (opts.prefetch), 2,000-event batches cost ~15% more CPU on the
 * dense bench than 10,000-event ones. */
#define GL_INDEXER_BATCH_LOGS_DEFAULT 10000u
#define GL_INDEXER_BATCH_LOGS_MAX 100000u
/* Logs an eth_getLogs answer is sized for (the planner's log cap when the
 * endpoint names none): 10,000, the cap of the common providers (Infura,
 * Alchemy, QuickNode), so that behind such a cap the plan needs the
 * minimum number of requests (22 for 200k logs over 4,000 blocks, where
 * 2,000 took 83; bench_index "capped").  An answer is read as it streams
 * into flat records (~250 bytes a log), so 10,000 logs cost ~3 MB, not the
 * JSON's ~25 MB. */
#define GL_INDEXER_REQUEST_LOGS_DEFAULT 10000u
/* JSON bytes allowed per log of request_logs in one eth_getLogs answer
 * body: the endpoint pool holds a body whole while it arrives, and the
 * plan sizes a range from the density it has seen, so a quiet stretch
 * followed by dense blocks can ask for tens of thousands of logs (tens of
 * MB of JSON each answer, two or three in flight).  An answer over
 * request_logs x this is stopped as it streams and the range is treated as
 * refused for its size (split, and the plan remembers it).  An ERC-20
 * Transfer is ~650 bytes of JSON, so 10,000 of them fit in the 10 MB this
 * gives; a range of a single block is never capped (it cannot be split). */
#define GL_INDEXER_ANSWER_BYTES_PER_LOG 1024u
/* Blocks fetched per JSON-RPC batch.  A full mainnet block is up to a few
 * MB of JSON, so 16 bound the memory of one chunk. */
#define GL_INDEXER_BLOCK_CHUNK_DEFAULT 16u
#define GL_INDEXER_BLOCK_CHUNK_MAX 256u
/* ... and at most this many of the range's logs in one chunk past its
 * first block: with 10,000-log ranges, 16 dense blocks (501 logs each,
 * receipts and all, twice over with the prefetched chunk) took --verify
 * full to ~190 MB on the dense bench; 2,000 brings it to ~170-175 MB. */
#define GL_INDEXER_CHUNK_LOGS 2000u
/* Blocks in the first eth_getLogs request (and in the one fetched beside
 * it).  Small on purpose: a node without a log cap (a local node, some
 * archive providers) answers whatever is asked, and 2000 blocks of a busy
 * token can be 100k logs in one answer (350 MB of JSON in memory,
 * measured).  2, not 10: on issue 13's chain (5,000 logs a block) the two
 * 10-block answers were 40,000-50,000 logs, the run's peak RSS (170-178
 * MB; 104-111 MB with 2) and most of its wall time.  The planner then sizes
 * requests for request_logs logs from the density it sees, growing the
 * span up to 8 times per request over empty stretches, so a sparse chain
 * is covered in a handful of requests anyway. */
#define GL_INDEXER_INITIAL_SPAN_DEFAULT 2u
/* follow: how often the head is polled. */
#define GL_INDEXER_POLL_MS_DEFAULT 2000u
/* follow: the longest wait between attempts while the endpoints fail (the
 * wait doubles from the poll interval up to this). */
#define GL_INDEXER_OUTAGE_WAIT_MAX_MS 60000u
/* Addresses in one eth_getLogs filter.  A factory (Fluence) creates a
 * contract per deal, thousands in all; providers cap the request size
 * (Infura, Alchemy: a few hundred KB to 1 MB bodies) and some the address
 * list itself.  500 addresses are ~22 KB of JSON. */
#define GL_INDEXER_ADDRESSES_PER_REQUEST 500u
/* How often an inconsistent answer is fetched again before it is accepted
 * as a finding. */
#define GL_INDEXER_RETRIES 2u

/* ---------------------------------------------------------------- options */

typedef enum gl_indexer_verify {
    GL_INDEXER_VERIFY_NONE,
    GL_INDEXER_VERIFY_SENDERS,
    GL_INDEXER_VERIFY_HEADERS,
    GL_INDEXER_VERIFY_FULL,
} gl_indexer_verify;

/* "none", "senders", "headers", "full". */
const char *gl_indexer_verify_name(gl_indexer_verify v);
/* The level named `name`: GL_EINVAL naming it and the choices otherwise. */
gl_code gl_indexer_verify_parse(const char *name, gl_indexer_verify *out /* OUT */, gl_err *err);

typedef struct gl_indexer_opts {
    bool has_from;
    uint64_t from;            /* first block (default: the lowest start_block) */
    bool has_to;
    uint64_t to;              /* last block (default and cap: head - confirmations) */
    bool has_confirmations;
    uint64_t confirmations;   /* default: the definition's */
    gl_indexer_verify verify; /* default HEADERS */
    unsigned batch_logs;      /* 0: default */
    unsigned request_logs;    /* 0: default */
    unsigned block_chunk;     /* 0: default */
    uint64_t initial_span;    /* 0: default */
    unsigned addresses_per_request; /* addresses in one eth_getLogs filter; 0: default */
    uint64_t poll_ms;         /* follow; 0: default */
    bool allow_redefine;      /* accept a definition whose hash differs from the stored one */
    bool quorum;              /* ask two endpoints for the hash of every block holding data
                                 (gl_endpoints_block_hash; the pool needs quorum and >= 2
                                 URLs): agreement sets GL_STORE_BLOCK_QUORUM_OK, a
                                 disagreement is an "endpoints_disagree" finding and marks
                                 the block's events GL_STORE_EVENT_DISPUTED */
    /* Hooks (all may be NULL).  log: chatter, level 0 info, 1 warning (a
     * finding), 2 error.  stop: asked between batches and while waiting;
     * true ends run/follow cleanly (GL_OK).  on_head: follow only, called
     * each time the cursor has caught up with head - confirmations;
     * returning false ends follow (GL_OK). */
    gl_log_fn log;
    /* Fetch ahead, on threads with pools of their own (gl_endpoints_clone
     * of the indexer's): the next range's logs while the current range is
     * processed, and the next chunk's blocks while the current chunk is
     * verified and stored.  The node's answer time is then hidden behind
     * the indexer's work.  The first range (small: it measures the
     * density) is fetched with as many blocks after it at once, which the
     * plan then takes as its second range.  While the endpoint has refused
     * no range, the range after the next is fetched too, its span guessed from the last
     * range's density (a copy of the plan told that the next range holds
     * as many logs per block): the node then never waits while an answer
     * is read (on the 2-core benchmark, 63-68% -> 78-86% of the curl
     * loop).  A capped endpoint's plan sizes each request from the answer
     * before, so there a guess could cost a refusal, and it is not made.
     * What was fetched ahead and no longer fits (factories added
     * contracts, a reorg, a refusal) is fetched again the ordinary way.
     * The store is the same either way. */
    bool prefetch;
    bool (*stop)(void *ctx);
    bool (*on_head)(void *ctx, uint64_t cursor, uint64_t head);
    /* progress: after each range is stored, on the indexer's thread: the
     * pass covers blocks [first, target] and is done up to `cursor`, with
     * `events` stored so far.  When set, it replaces the level-0 log line
     * "indexed to block N (M events so far)". */
    void (*progress)(void *ctx, uint64_t first, uint64_t cursor, uint64_t target, uint64_t events);
    void *ctx;
} gl_indexer_opts;

/* Defaults: verify HEADERS, everything else 0/false/NULL.  Cannot fail. */
void gl_indexer_opts_init(gl_indexer_opts *o);

typedef struct gl_indexer_stats {
    bool has_range;
    uint64_t first_block;     /* first block indexed by this indexer */
    uint64_t cursor;          /* cursor when it returned */
    uint64_t logs;            /* logs received (after filtering) */
    uint64_t events;          /* events stored */
    uint64_t txs;
    uint64_t blocks;          /* block records written */
    uint64_t blocks_fetched;  /* eth_getBlockByNumber calls */
    uint64_t transfers;
    uint64_t appearances;
    uint64_t findings;        /* integrity findings recorded */
    uint64_t batches;         /* commits */
    uint64_t log_requests;    /* eth_getLogs calls */
    uint64_t log_splits;      /* eth_getLogs ranges refused as too large (by the endpoint, or their
                                 answer over request_logs x GL_INDEXER_ANSWER_BYTES_PER_LOG) and split */
    uint64_t refused_blocks;  /* single blocks whose eth_getLogs was refused as too large */
    uint64_t split_blocks;    /* ... whose logs then came from filters split by address and topic */
    uint64_t receipt_blocks;  /* ... whose logs then came from their receipts, proven */
    uint64_t rollbacks;       /* reorgs handled */
    uint64_t retries;         /* inconsistent answers fetched again */
    uint64_t outages;         /* follow: passes the endpoints failed (waited out, then resumed) */
} gl_indexer_stats;

/* ------------------------------------------------------------------ run */

typedef struct gl_indexer gl_indexer;

/* The endpoints' chain id must be the definition's: GL_EVERIFY naming both
 * ids ("platform 'x' is for chain 42161, the endpoint serves chain 31337")
 * otherwise; the endpoint pool's error when it cannot be asked.  Call it
 * before opening (or creating) the store, so that nothing is written. */
gl_code gl_indexer_check_chain(gl_endpoints *e, const gl_platform *p, gl_err *err);

/* An indexer over an open store.  Reads the cursor and the definition hash
 * and rebuilds the factory and join tables from the stored events.  Fails
 * (NULL) with GL_EINVAL for bad options (from > to, --from past the
 * cursor + 1, which would leave a gap), GL_EVERIFY when the store holds
 * another definition under this name and !allow_redefine, GL_EDB when the
 * store cannot be read, GL_ENOMEM. */
gl_indexer *gl_indexer_new(gl_store *s, gl_endpoints *e, const gl_platform *p, const gl_indexer_opts *o,
                           gl_err *err);
void gl_indexer_free(gl_indexer *ix);

/* Index from the cursor (or `from`) to `to` / head - confirmations,
 * checking first that the cursor is still on the endpoint's chain (a reorg
 * while nothing ran is rolled back).  GL_OK when everything is committed
 * or `stop` said so; otherwise the endpoint pool's error (GL_ERPC, GL_EIO),
 * GL_EDB, GL_ERANGE (the planner gave up), GL_ENOMEM.  A failure leaves the
 * store consistent at its last commit. */
gl_code gl_indexer_run(gl_indexer *ix, gl_err *err);

/* Index, then poll the head every poll_ms and keep indexing, rolling back
 * what reorgs replace, until `stop` or `on_head` says to end.  Errors as
 * gl_indexer_run. */
gl_code gl_indexer_follow(gl_indexer *ix, gl_err *err);

/* Counters so far.  Cannot fail. */
void gl_indexer_stats_get(const gl_indexer *ix, gl_indexer_stats *out /* OUT */);

/* ------------------------------------------------- building blocks (pure) */

/* Fill the role-derived fields of `ev` (roles, amount, token, ids, GPU model
 * and count, duration, GPU-hours) from `roles`, the object
 * gl_platform_apply_roles returned, with joins already replaced by their
 * values.  Rules: address roles take a "0x" address or an array of them
 * (beyond GL_STORE_EVENT_ROLES_MAX they are left to appearances); token
 * "native" or the zero address means the chain's coin (has_token false);
 * amount, gpu_count, hours and duration_seconds are decimal strings;
 * hours become duration_s = 3600 * hours; gpu_mhours = 1000 * gpu_count *
 * duration_s / 3600 when both are known; lease_id becomes an id named after
 * its source field ("leaseId"), or "lease_id" for other sources; GPU model
 * text is cut to GL_STORE_TEXT_MAX - 1 bytes (at a UTF-8 boundary) with
 * control characters dropped.  A value of the wrong form is left out and
 * its role named in *skipped (when not NULL: a new JSON array, or NULL
 * when nothing was skipped).  Fields of `ev` that roles do not touch are
 * kept.  GL_ENOMEM only. */
gl_code gl_indexer_event_fill(gl_store_event *ev, const gl_event_map *map, const json_t *roles,
                              json_t **skipped /* OUT */, gl_err *err);

/* Filling an event straight from a log's words, without the JSON values of
 * gl_abi_decode_log and gl_platform_apply_roles, for the common definition:
 * every parameter a named value type (uint, int, address, bool, bytesN),
 * roles taken from parameters, the tx's from/to, the log's address, a
 * constant or "native", and no GPU roles.  The result is exactly what
 * gl_abi_decode_log, gl_platform_apply_roles, the indexer's "no token, no
 * amount" rule and gl_indexer_event_fill give (test_index_build compares
 * the two on every case).  A log that does not decode cleanly is left to
 * that path, which names the problem. */
#define GL_DIRECT_MAX_DATA 16

typedef struct gl_direct_src {
    gl_source_kind kind;
    bool topic;               /* FIELD: an indexed parameter */
    size_t at;                /* FIELD: its topic (1..) or data word (0..) */
    const gl_abi_type *type;  /* FIELD: its type */
    const char *field;        /* FIELD: its name */
    const uint8_t *address;   /* CONST_ADDRESS */
} gl_direct_src;

typedef struct gl_direct_plan {
    bool usable;              /* false: the definition needs the JSON path */
    const gl_abi_sig *sig;
    size_t ntopics;           /* topics a log must have */
    size_t ndata;             /* data words a log must have */
    const gl_abi_type *topic_type[4];
    const gl_abi_type *data_type[GL_DIRECT_MAX_DATA];
    bool token_mapped;
    gl_direct_src src[GL_ROLE_COUNT];
} gl_direct_plan;

/* A transfer's ends as the indexer picks them from an event's roles: from
 * the payer's address, else the buyer's; to the provider's, else the
 * beneficiary's (has_* false when neither role gives an address). */
typedef struct gl_direct_ends {
    bool has_from, has_to;
    uint8_t from[20], to[20];
} gl_direct_ends;

/* Make the plan for event `sig` mapped by `map` (plan->usable false when it
 * does not qualify).  Cannot fail. */
void gl_indexer_direct_plan(gl_direct_plan *plan, const gl_abi_sig *sig, const gl_event_map *map);

/* Fill the role-derived fields of ev from one log through plan (usable),
 * and *out.  false, ev and *out untouched, when the log does not decode
 * cleanly (wrong topic count or topic0, data not exactly the words, a
 * dirty word): the caller takes the JSON path.  Cannot fail otherwise. */
bool gl_indexer_direct_fill(gl_store_event *ev, const gl_direct_plan *plan, const uint8_t (*topics)[32],
                            size_t ntopics, const uint8_t *data, size_t len, const gl_log_context *ctx,
                            gl_direct_ends *out);

/* A role value (a decimal string, "0x" address or 32-byte hex, or
 * {"indexed_hash": "0x.."}) as the 32-byte big-endian word ids store.
 * false when it is none of those. */
bool gl_indexer_value_word(const json_t *v, uint8_t out[32] /* OUT */);

/* Append the consensus encoding of one JSON-RPC receipt (what the
 * receiptsRoot trie holds): type byte (when type > 0) || rlp([status or
 * root, cumulativeGasUsed, logsBloom, [[address, topics, data], ...]]).
 * GL_EINVAL naming the field when one is missing or malformed, GL_ENOTSUP
 * for a receipt type above 4 (e.g. OP-stack deposits); out is restored on
 * failure. */
gl_code gl_indexer_receipt_encode(gl_buf *out, const json_t *receipt, gl_err *err);

/* The receiptsRoot that `receipts` (a JSON array: a block's receipts, one
 * per transaction, in order) hash to: each encoded as above, put in the
 * ordered trie.  The one place the indexer (refused blocks, the FULL
 * check) and the trail's block scan prove receipts, so they agree on what
 * a proven receipt is.  GL_EINVAL when receipts is not an array; a receipt
 * that cannot be encoded fails with its code, named ("receipt I: ..."). */
gl_code gl_indexer_receipts_root(uint8_t root[32] /* OUT */, const json_t *receipts, gl_err *err);

#endif
