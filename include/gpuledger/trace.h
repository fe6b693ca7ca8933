/* trace.h - following the money on a gl_graph: the fund-flow subgraph
 * around a wallet, and the fund-flow paths from one wallet to another.
 *
 * Both walk transfers (graph edges) that pass a filter: a time window on
 * the block timestamp and a minimum amount per transfer.  Neither goes
 * through a hub: a node that is a service (exchange, bridge, router, mixer,
 * platform or token contract, or a wallet with more counterparties than
 * hub_degree) is shown but not expanded, because money that enters an
 * exchange and money that leaves it are not the same money.  Which nodes
 * are hubs comes from the stored analysis when the store has one (the kind
 * of the node's entity: exchange, bridge, router, mixer, platform, token,
 * service), else from labels (their category), the graph's platform/token
 * marks and the degree (gl_trace_ctx).
 *
 * Results are gl_flow graphs (graph_export.h): nodes annotated with entity,
 * kind, label and flag score, edges with their transfers and per-token
 * sums, transfers resolved to tx hashes and exact amounts through the store.
 *
 * Ownership: a gl_trace_ctx borrows the graph and the store (both must
 * outlive it); flows and path sets are the caller's to free.  Not
 * thread-safe (the context caches what it reads).  No global state.
 */
#ifndef GPULEDGER_TRACE_H
#define GPULEDGER_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gpuledger/err.h"
#include "gpuledger/graph.h"
#include "gpuledger/graph_export.h"
#include "gpuledger/store.h"

/* Limits: a trace or path search stops there and says so (truncated). */
#define GL_TRACE_MAX_NODES_DEFAULT 5000      /* nodes in one subgraph */
#define GL_TRACE_MAX_HOPS 16                 /* hard cap on K (paths grow as degree^K) */
#define GL_TRACE_MAX_PATHS_DEFAULT 10
#define GL_TRACE_MAX_STEPS_DEFAULT 2000000u  /* path search: nodes visited in all */
#define GL_TRACE_HUB_DEGREE_DEFAULT 25       /* as the analyzer's hub_degree */

/* ------------------------------------------------------------- context */

typedef struct gl_trace_ctx gl_trace_ctx;

/* A context over graph `g` and the store it was loaded from (`s` may be
 * NULL: no analysis, no tx hashes, amounts from the graph's 128-bit copy).
 * hub_degree: more distinct counterparties than this makes a hub when the
 * analysis does not say (0: GL_TRACE_HUB_DEGREE_DEFAULT).  Reads whether
 * the store holds an analysis.  NULL with GL_ENOMEM or GL_EDB. */
gl_trace_ctx *gl_trace_ctx_new(const gl_graph *g, gl_store *s, uint32_t hub_degree, gl_err *err);
void gl_trace_ctx_free(gl_trace_ctx *c);

/* Does the store hold an analysis (and is it stale)? */
bool gl_trace_ctx_has_analysis(const gl_trace_ctx *c, bool *stale /* OUT, may be NULL */);

/* Is graph node v a hub (not expanded)?  GL_EDB when the analysis cannot be
 * read. */
gl_code gl_trace_is_hub(gl_trace_ctx *c, uint32_t v, bool *hub /* OUT */, gl_err *err);

/* ------------------------------------------------------------ filters */

#define GL_TRACE_IN   1u
#define GL_TRACE_OUT  2u
#define GL_TRACE_BOTH 3u

typedef struct gl_trace_filter {
    uint64_t since;      /* block timestamps in [since, until]; 0 and */
    uint64_t until;      /* UINT64_MAX (or 0): open.  With either bound set, transfers
                            whose block is not stored (time unknown) are left out */
    gl_amt min_amount;   /* per transfer, in the token's smallest unit (0: all) */
} gl_trace_filter;

/* ------------------------------------------------------------ subgraph */

typedef struct gl_trace_opts {
    unsigned direction;  /* GL_TRACE_IN, _OUT or _BOTH */
    uint32_t hops;       /* 1..GL_TRACE_MAX_HOPS */
    gl_trace_filter filter;
    size_t max_nodes;    /* 0: GL_TRACE_MAX_NODES_DEFAULT */
} gl_trace_opts;

/* Breadth-first from `root` over the transfers that pass the filter, in
 * the direction asked (out: money root sent on; in: where root's money came
 * from; both), up to `hops` hops.  The root is expanded even when it is a
 * hub; another hub is added but not expanded.  Every transfer followed is
 * in the flow (an edge per ordered pair, by discovery).  Nodes are in
 * discovery order (root first, hop ascending).  More than max_nodes stops
 * adding nodes (flow->truncated).  GL_EINVAL for a bad root, direction or
 * hop count; GL_ENOMEM; GL_EDB. */
gl_code gl_trace_subgraph(gl_trace_ctx *c, uint32_t root, const gl_trace_opts *o, gl_flow **out /* OUT */,
                          gl_err *err);

/* --------------------------------------------------------------- paths */

typedef struct gl_path_opts {
    uint32_t max_hops;   /* 1..GL_TRACE_MAX_HOPS */
    size_t max_paths;    /* 0: GL_TRACE_MAX_PATHS_DEFAULT */
    bool any_order;      /* false (default): time-respecting, each hop's transfers
                            no earlier than the money's arrival at its source */
    gl_trace_filter filter;
    uint64_t max_steps;  /* 0: GL_TRACE_MAX_STEPS_DEFAULT */
} gl_path_opts;

typedef struct gl_path_hop {
    uint32_t src, dst;   /* graph node ids */
    uint32_t *edges;     /* graph edge indices of the hop's transfers, ascending (by time) */
    size_t n_edges;
    uint64_t arrival;    /* earliest time the money can be at dst by this path (0: unknown) */
} gl_path_hop;

typedef struct gl_path {
    gl_path_hop *hops;
    size_t n_hops;
} gl_path;

typedef struct gl_paths {
    gl_path *paths;      /* fewest hops first; among equals, in search order
                            (each node's successors by their earliest transfer) */
    size_t n_paths;
    bool truncated;      /* max_steps reached: longer paths may exist unlisted */
} gl_paths;

/* Simple fund-flow paths from `a` to `b` (a != b) of at most max_hops hops
 * over transfers that pass the filter, fewest hops first, up to max_paths.
 * Intermediate nodes are never hubs; the two ends may be.  Time-respecting
 * unless any_order: hop i uses only transfers at or after the earliest
 * arrival of the money at its source (transfers of unknown time always
 * qualify and do not move the clock).  No path is not an error: n_paths 0.
 * GL_EINVAL for bad ends or hop counts; GL_ENOMEM; GL_EDB. */
gl_code gl_trace_paths(gl_trace_ctx *c, uint32_t a, uint32_t b, const gl_path_opts *o, gl_paths *out /* OUT */,
                       gl_err *err);
void gl_paths_release(gl_paths *p);

/* One path as a flow: its nodes in order (hop = place in the path, the two
 * ends root), one edge per hop with the hop's transfers. */
gl_code gl_trace_path_flow(gl_trace_ctx *c, const gl_path *p, gl_flow **out /* OUT */, gl_err *err);
/* Every path of the set in one flow (the union of their nodes and hops). */
gl_code gl_trace_paths_flow(gl_trace_ctx *c, const gl_paths *ps, gl_flow **out /* OUT */, gl_err *err);

/* "2024-05-01", "2024-05-01T12:00:00Z" (UTC) or plain seconds since 1970:
 * GL_EINVAL for anything else. */
gl_code gl_trace_parse_time(const char *s, uint64_t *out /* OUT */, gl_err *err);

#endif
