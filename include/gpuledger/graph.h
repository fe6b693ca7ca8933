/* graph.h - the analyzer's one seam in: the store read once into flat arrays.
 *
 * Everything the analyzer asks (who funded whom, who bought what, when) is a
 * pass over these arrays: addresses are interned to dense 32-bit ids, token
 * transfers and native transfers are edges sorted by time with CSR offsets
 * for "out of node v" and "into node v", and marketplace events that buy
 * compute are purchase records.  Nothing after the loader touches JSON, hex
 * or RocksDB, so the same analysis can later run on another source.
 *
 * Amounts: transfers keep an unsigned 128-bit copy for comparisons (every
 * realistic token amount fits; a larger one saturates and is marked), and
 * purchases keep the exact 256-bit amount that volume figures are summed from.
 *
 * Ownership: gl_graph_load returns a graph the caller frees with
 * gl_graph_free.  The graph holds no reference to the store.  No global state.
 */
#ifndef GPULEDGER_GRAPH_H
#define GPULEDGER_GRAPH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gpuledger/err.h"
#include "gpuledger/platform.h"
#include "gpuledger/store.h"
#include "gpuledger/u256.h"

typedef unsigned __int128 gl_amt;
#define GL_AMT_MAX (~(gl_amt)0)
#define GL_NODE_NONE UINT32_MAX

/* What the loader knows of an address (gl_node.flags). */
#define GL_NODE_PLATFORM   0x0001u /* emitted marketplace events (a market contract) */
#define GL_NODE_TOKEN      0x0002u /* a token contract (moved tokens or priced a purchase) */
#define GL_NODE_LABELLED   0x0004u /* has at least one label (see label_category) */
#define GL_NODE_HUB        0x0008u /* set by the analyzer: not expanded, never merged through */
#define GL_NODE_BUYER      0x0010u /* acted in a purchase (payer, or buyer without a payer) */
#define GL_NODE_PROVIDER   0x0020u /* provider role in any event */
#define GL_NODE_ZERO       0x0080u /* the zero address (mints and burns) */
#define GL_NODE_SANCTIONED 0x0100u /* labelled with category "sanctioned" */

typedef struct gl_node {
    uint8_t addr[20];
    uint32_t flags;         /* GL_NODE_* */
    uint32_t degree;        /* distinct counterparties over transfers */
    uint64_t first_time;    /* first transfer or event touching it (0: none known) */
    uint64_t last_time;
    int32_t label;          /* index into gl_graph.labels of its best label, -1: none */
    uint16_t platform;      /* 1 + index into platforms of the events it emitted, 0: none */
} gl_node;

typedef struct gl_label_ref {
    char label[GL_STORE_TEXT_MAX];
    char category[GL_STORE_NAME_MAX];
    char source[GL_STORE_TEXT_MAX];
    uint16_t confidence;
} gl_label_ref;

/* A chain position packed for evidence: chain is an index into chain_ids. */
typedef struct gl_gpos {
    uint64_t block;
    uint32_t index;   /* tx index or block-wide log index */
    uint32_t sub;
    uint16_t chain;   /* index into gl_graph.chain_ids */
    uint8_t kind;     /* gl_store_pos_kind */
} gl_gpos;

typedef struct gl_edge {
    uint32_t src, dst;
    uint64_t time;    /* block timestamp, 0 when the block is not stored */
    gl_amt amount;    /* saturated at GL_AMT_MAX (flag GL_EDGE_SATURATED) */
    uint16_t token;   /* index into gl_graph.tokens; 0 = the native coin */
    uint16_t flags;   /* GL_EDGE_* */
    uint32_t tx_from; /* the carrying tx's sender when it is not src (GL_EDGE_TX_KNOWN
                         without GL_EDGE_TX_BY_SRC), else GL_NODE_NONE */
    gl_gpos pos;
} gl_edge;

#define GL_EDGE_SATURATED 0x01u /* amount did not fit 128 bits */
#define GL_EDGE_UNVERIFIED 0x02u /* carrying tx's sender not recovered (or mismatched) */
/* What the carrying tx says (read beside the transfers at load): */
#define GL_EDGE_TX_KNOWN    0x04u /* the carrying tx is stored */
#define GL_EDGE_TX_BY_SRC   0x08u /* ... and its sender is the transfer's source */
#define GL_EDGE_TX_TO_TOKEN 0x10u /* ... and it was sent to the edge's token contract
                                     (the zero address for the native coin: never) */

/* A marketplace event that buys compute (definition kind lease, extension or
 * payment, or a Golem-style token transfer paid out by a platform contract). */
typedef struct gl_purchase {
    uint32_t actor;       /* the wallet whose funds left: payer, else buyer */
    uint32_t buyer;       /* buyer role, GL_NODE_NONE when absent */
    uint32_t beneficiary; /* beneficiary role, GL_NODE_NONE when absent */
    uint32_t provider;    /* provider role, GL_NODE_NONE when absent */
    uint32_t payer;       /* payer role (a transfer's from), GL_NODE_NONE when absent */
    uint32_t tx_from;     /* the tx's (recovered) sender, GL_NODE_NONE when unknown */
    uint32_t contract;    /* emitting contract */
    uint64_t time;
    gl_u256 amount;
    gl_amt amt;           /* saturated copy for comparisons */
    uint16_t token;       /* index into tokens; 0 native */
    uint16_t platform;    /* index into platforms */
    uint16_t kind;        /* gl_event_kind */
    uint16_t event;       /* index into event_names */
    int32_t gpu_model;    /* index into models, -1 unknown */
    uint32_t gpu_count;
    uint64_t gpu_mhours;
    uint64_t duration_s;
    gl_gpos pos;
    uint8_t tx_hash[32];
    uint8_t lease_id[32]; /* the event's first id (lease, deposit, task), big-endian */
    bool has_lease_id;    /* (an extension finds its lease's GPU count through it) */
} gl_purchase;

/* Money locked for later purchases (definition kind deposit): Livepeer's
 * DepositFunded/ReserveFunded, Golem's DepositCreated. */
typedef struct gl_deposit {
    uint32_t holder;      /* whose deposit it is: buyer role (sender, id>>96 funder) */
    uint32_t payer;       /* payer role (tx.from on Livepeer, spender on Golem), NONE if absent */
    uint32_t tx_from;
    uint64_t time;
    gl_u256 amount;
    uint16_t token;
    uint16_t platform;
    uint16_t event;
    gl_gpos pos;
    uint8_t tx_hash[32];
} gl_deposit;

typedef struct gl_graph {
    gl_node *nodes;
    uint32_t n_nodes;

    gl_edge *edges;          /* sorted by time, then position */
    size_t n_edges;
    /* CSR: edges out of v are out_idx[out_off[v] .. out_off[v+1]) (indices
     * into edges, ascending, hence by time); likewise into v. */
    size_t *out_off, *in_off;
    uint32_t *out_idx, *in_idx;

    gl_purchase *purchases;  /* sorted by time, then position */
    size_t n_purchases;
    size_t *buy_off;         /* purchases acted by v: buy_idx[buy_off[v] .. buy_off[v+1]) */
    uint32_t *buy_idx;

    gl_deposit *deposits;
    size_t n_deposits;
    size_t *dep_off;         /* deposits held by v: dep_idx[dep_off[v] .. dep_off[v+1]) */
    uint32_t *dep_idx;

    uint64_t *chain_ids;     size_t n_chains;
    uint8_t (*tokens)[20];   size_t n_tokens;  /* tokens[0] is the native coin (zero) */
    char **platforms;        size_t n_platforms;
    char **event_names;      size_t n_event_names;
    char **models;           size_t n_models;
    gl_label_ref *labels;    size_t n_labels;

    /* What was read, for the stamp and for honest reporting. */
    uint64_t n_store_events, n_store_transfers, n_store_txs, n_store_blocks, n_store_labels;
    uint64_t n_untimed_edges;     /* transfers whose block is not stored */
    uint64_t n_unknown_kind;      /* events of a platform without a definition */
    uint64_t n_failed_edges;      /* transfers of reverted txs, left out */
} gl_graph;

/* Definitions by platform name: the loader asks this for the kind of each
 * event.  NULL: that platform is unknown (its events are counted in
 * n_unknown_kind and not used). */
typedef const gl_platform *(*gl_graph_def_fn)(void *ctx, const char *platform);

/* Read the whole store (every chain) into a graph.  Failed transfers
 * (reverted carrying tx) are left out and counted.  On error, NULL is
 * returned with err naming the store and the record. */
gl_graph *gl_graph_load(gl_store *s, gl_graph_def_fn defs, void *ctx, gl_err *err);
void gl_graph_free(gl_graph *g);

/* The node id of an address, GL_NODE_NONE when the store never saw it. */
uint32_t gl_graph_find(const gl_graph *g, const uint8_t addr[20]);

/* Add an edge list built elsewhere (benchmarks, tests): builds the CSR.  The
 * graph takes the arrays (malloc'd).  Nodes must be set already. */
gl_code gl_graph_index(gl_graph *g, gl_err *err);

/* Distinct counterparties of every node into deg[0..n_nodes): the union of
 * its out and in neighbours (itself aside), leaving out edge i where
 * skip[i] is set (skip may be NULL: gl_node.degree).  GL_ENOMEM. */
gl_code gl_graph_counterparties(const gl_graph *g, const uint8_t *skip, uint32_t *deg, gl_err *err);

/* A position as the store's (chain id restored). */
gl_store_pos gl_graph_pos(const gl_graph *g, const gl_gpos *p);

/* "0x" + 40 lowercase hex into out[43]. */
char *gl_addr_hex(const uint8_t addr[20], char out[43]);

/* Saturating conversion. */
gl_amt gl_amt_from_u256(const gl_u256 *a, bool *saturated);

#endif
