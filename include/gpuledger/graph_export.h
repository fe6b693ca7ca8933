/* graph_export.h - a fund-flow graph ready to print, and its writers.
 *
 * A gl_flow is what `gpuledger trace` and `gpuledger path` show: wallets
 * (nodes) with what the stored analysis says of them (entity, kind, label,
 * flag score), and for every ordered pair of wallets one edge holding the
 * transfers between them, listed with their chain positions and summed per
 * token as exact 256-bit integers.  It holds no reference to the graph or
 * the store it was built from (analyzer/trace.c builds it).
 *
 * Writers (docs/TRACE.md has every format's layout):
 *   json     one object: query, nodes, edges (amounts per token, transfers)
 *   csv      one row per transfer, with its edge's per-token total
 *   dot      Graphviz: hubs boxed, the root doubled, flagged wallets red
 *   gexf     GEXF 1.3 (Gephi): node attributes entity, kind, label,
 *            flag_score, ...; edge weight = number of transfers
 *   graphml  GraphML with <key>s for the same attributes
 * XML is written with libxml2's xmlTextWriter, so escaping is libxml2's.
 *
 * Amounts are in the token's smallest unit (no decimals are applied: the
 * store does not know them), as decimal strings.
 *
 * Ownership: gl_flow_free frees a flow and everything in it.  No global
 * state; the writers only read the flow.
 */
#ifndef GPULEDGER_GRAPH_EXPORT_H
#define GPULEDGER_GRAPH_EXPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "gpuledger/bytes.h"
#include "gpuledger/err.h"
#include "gpuledger/store.h"
#include "gpuledger/u256.h"

/* The entity kind's name ("exchange", ...), longest "unknown" + room. */
#define GL_FLOW_KIND_MAX 16

typedef struct gl_flow_node {
    uint8_t addr[20];
    uint32_t hop;              /* hops from the root (a path: place in the path) */
    bool root;                 /* the wallet asked about (a path: its two ends) */
    bool hub;                  /* a hub or labelled service: shown, not expanded */
    bool expanded;             /* its transfers were followed */
    int64_t entity;            /* entity id in the stored analysis, -1: none */
    char kind[GL_FLOW_KIND_MAX];/* entity kind; without an analysis, what labels and
                                  the graph suggest; "" unknown */
    bool kind_from_analysis;
    char label[GL_STORE_TEXT_MAX];     /* its best label (else its entity's), "" none */
    char category[GL_STORE_NAME_MAX];  /* that label's category */
    bool scored;               /* the analysis scored it as a buyer */
    double score;              /* flag score, when scored */
    bool flagged;
} gl_flow_node;

typedef struct gl_flow_transfer {
    gl_store_pos pos;          /* chain, block, tx/log/trace, index, sub */
    uint64_t time;             /* block timestamp, 0: the block is not stored */
    bool has_tx_hash;
    uint8_t tx_hash[32];
    uint32_t token;            /* index into gl_flow.tokens (0: the native coin) */
    gl_u256 amount;            /* exact */
    bool unverified;           /* carrying tx's sender not recovered (imported, ...) */
} gl_flow_transfer;

typedef struct gl_flow_amount {
    uint32_t token;            /* index into gl_flow.tokens */
    gl_u256 amount;            /* exact sum */
    bool overflow;             /* the sum passed 2^256 - 1 (then amount is the max) */
    uint32_t n_transfers;
} gl_flow_amount;

typedef struct gl_flow_edge {
    uint32_t src, dst;         /* indices into gl_flow.nodes */
    gl_flow_amount *amounts;   /* one per token, in token order */
    size_t n_amounts;
    gl_flow_transfer *transfers; /* by time, then position */
    size_t n_transfers;
    uint64_t first_time, last_time; /* 0: unknown */
} gl_flow_edge;

typedef struct gl_flow_token {
    uint8_t addr[20];          /* zero: the native coin */
    char label[GL_STORE_TEXT_MAX]; /* its label, "" none */
} gl_flow_token;

typedef struct gl_flow {
    gl_flow_node *nodes;
    size_t n_nodes;
    gl_flow_edge *edges;
    size_t n_edges;
    gl_flow_token *tokens;     /* tokens[0] is the native coin */
    size_t n_tokens;
    json_t *query;             /* what was asked (an object, owned; may be NULL) */
    bool analysis;             /* annotations come from a stored analysis */
    bool truncated;            /* a limit stopped the search (see query) */
} gl_flow;

/* Free the flow and everything it holds.  NULL is a no-op. */
void gl_flow_free(gl_flow *f);

typedef enum gl_flow_format {
    GL_FLOW_JSON = 0,
    GL_FLOW_CSV,
    GL_FLOW_DOT,
    GL_FLOW_GEXF,
    GL_FLOW_GRAPHML,
} gl_flow_format;

/* "json", "csv", "dot", "gexf", "graphml": GL_EINVAL naming the choices. */
gl_code gl_flow_format_parse(const char *name, gl_flow_format *out /* OUT */, gl_err *err);

/* The flow as a JSON object (a new reference; NULL when out of memory). */
json_t *gl_flow_json(const gl_flow *f);

/* Append the flow in `fmt` to `out`.  GL_ENOMEM; GL_EIO when libxml2's
 * writer fails.  On failure `out` may hold part of the text. */
gl_code gl_flow_write(const gl_flow *f, gl_flow_format fmt, gl_buf *out, gl_err *err);

/* The same, written to a stream.  GL_EIO when the write fails. */
gl_code gl_flow_write_file(const gl_flow *f, gl_flow_format fmt, FILE *out, gl_err *err);

/* Copy `in` into out (cap bytes, NUL-terminated, cut at a character
 * boundary), every byte that is not part of valid UTF-8 replaced by '?':
 * labels are stored as bytes, JSON and XML need UTF-8.  Returns out. */
char *gl_utf8_clean(const char *in, char *out, size_t cap);

#endif
