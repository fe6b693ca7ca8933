/* market.h - what the market commands (volume, exposure, providers,
 * concentration) know of each purchase, beyond the graph.
 *
 * Built once from a loaded graph (graph.h: purchases with exact amounts,
 * token, platform, time, GPU fields, position), the store's analysis
 * (results.h: purchase marks, entity of each address) and the platform
 * definitions (token symbols and decimals, the market's name) and the GPU
 * table (gpu_models.h).  Rules, all in docs/VOLUME.md:
 *   - marks: the stored GL_MARK_* of each purchase.  Without a stored
 *     analysis, self-dealing is only the paying wallet (or the buyer) being
 *     the provider's address, and circular is unknown;
 *   - an extension that records hours but no GPU count (GpuMarket's
 *     LeaseExtended) takes the count and model of the lease with its id on
 *     its platform, since the chain says them there; GPU-hours are count x
 *     duration in thousandths, rounded down, as the indexer stores them;
 *   - tokens: the definition's `tokens` map (address or "native" ->
 *     symbol, decimals); without one the address and raw units.
 *
 * Ownership: gl_market borrows the graph (which must outlive it) and the
 * GPU table; gl_market_free releases the rest.  No global state.
 */
#ifndef GPULEDGER_MARKET_H
#define GPULEDGER_MARKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "gpuledger/err.h"
#include "gpuledger/gpu_models.h"
#include "gpuledger/graph.h"
#include "gpuledger/prices.h"
#include "gpuledger/store.h"

#define GL_ENTITY_NONE UINT32_MAX

typedef struct gl_market_token {
    char symbol[48];    /* "USDC", or "0x..." (the address) when the definition does not say */
    char address[43];   /* "0x..." or "native" */
    int decimals;       /* -1: unknown, amounts stay in raw units */
} gl_market_token;

typedef struct gl_market_buy {
    uint8_t marks;            /* GL_MARK_SELF_DEALING | GL_MARK_CIRCULAR */
    bool marked;              /* a stored mark was found for it */
    uint32_t buyer_entity;    /* the paying wallet's entity, GL_ENTITY_NONE when not analysed */
    uint32_t provider_entity;
    const char *model_name;   /* as written on chain (or its lease's), NULL when none */
    const gl_gpu_model *model;/* the table's model, NULL when unknown */
    uint32_t gpu_count;       /* the event's, or its lease's */
    uint64_t mhours;          /* GPU-hours in thousandths, 0: unknown */
    bool from_lease;          /* count (and model) taken from the lease it extends */
    uint64_t hold_until;      /* a lease: time + its duration + its extensions' (0: unknown);
                                 0 for an extension (it prolongs its lease instead) */
} gl_market_buy;

typedef struct gl_market {
    const gl_graph *g;
    gl_market_buy *buys;         /* one per g->purchases, same order */
    bool analysed;               /* the store holds an analysis */
    bool stale;                  /* ... computed before the store last changed */
    size_t n_unmarked;           /* purchases the stored analysis has no mark for */
    char **market;               /* per g->platforms: the definition's "platform" ("gpumarket"), or the name */
    bool *has_def;               /* per g->platforms */
    gl_market_token *tokens;     /* [platform * g->n_tokens + token] */
    uint32_t *node_entity;       /* per graph node: entity id, GL_ENTITY_NONE */
    const gl_gpu_models *models;
} gl_market;

/* Definitions as the store keeps them (meta def/<name>), else one given
 * with gl_market_defs_add (a --platform FILE), else the built-in of that
 * name; loaded once each.  gl_market_def is a gl_graph_def_fn whose ctx is
 * the gl_market_defs.  new: NULL on out of memory. */
typedef struct gl_market_defs gl_market_defs;
gl_market_defs *gl_market_defs_new(gl_store *s);
/* Take p (the defs own it from now on, also on failure): GL_ENOMEM. */
gl_code gl_market_defs_add(gl_market_defs *d, gl_platform *p, gl_err *err);
const gl_platform *gl_market_def(void *ctx, const char *name);
/* The platform names asked for that had no definition anywhere. */
const char *const *gl_market_defs_missing(const gl_market_defs *d, size_t *n /* OUT */);
void gl_market_defs_free(gl_market_defs *d);

/* Build.  defs/ctx: the definitions by name (as gl_graph_load takes them);
 * models may be NULL (every name unknown).  GL_EDB on a damaged analysis,
 * GL_ENOMEM. */
gl_code gl_market_load(gl_market **out, gl_store *s, const gl_graph *g, gl_graph_def_fn defs, void *ctx,
                       const gl_gpu_models *models, gl_err *err);
void gl_market_free(gl_market *m);

static inline const gl_market_token *gl_market_token_of(const gl_market *m, const gl_purchase *p)
{
    return &m->tokens[(size_t)p->platform * m->g->n_tokens + p->token];
}

/* A u256 amount in whole tokens: "12.500000" (exactly `decimals` digits
 * after the point), the raw integer when decimals < 0.  out: at least
 * GL_U256_DEC_MAX + 2 bytes.  Returns out. */
char *gl_market_amount_text(const gl_u256 *a, int decimals, char *out);
/* The same as a long double (for USD and prices per GPU-hour only). */
long double gl_market_amount_value(const gl_u256 *a, int decimals);
/* UTC day of a timestamp into out[11] ("YYYY-MM-DD"). */
char *gl_market_day(uint64_t t, char out[11]);
/* A purchase's position and tx as JSON evidence: {chain_id, block, log_index, tx}. */
json_t *gl_market_evidence(const gl_market *m, const gl_purchase *p);

/* ------------------------------------------------------------ exposure */

/* Per entity (buyers; without an analysis per wallet): GPU-hours and spend
 * on export-controlled models (gpu_models.h `controlled`), with the leases
 * behind each figure; entities holding a flagged wallet (stored `f/`
 * records) or named as a flagged wallet's beneficiary come first.
 * *out: a JSON array of entity records (docs/VOLUME.md). */
gl_code gl_exposure_run(json_t **out, gl_store *s, const gl_market *m, gl_err *err);

/* ----------------------------------------------------------- providers */

/* Per provider entity: GPUs offered (offer events with a GPU count) against
 * the most GPUs leased at once, price per GPU-hour against the other
 * providers' of the model (the upper median of their medians, one vote
 * each; no verdict with fewer than two; below 0.6 of it and set apart from
 * the dearer sellers by a step of 1/0.6), and provider_sweep links of the
 * stored entities, each finding with its evidence.  Prices are compared
 * within a token, or in USD where `prices` (may be NULL) has the lease's
 * day and token.  defs/ctx tell which stored events are offers.  *out: a
 * JSON array (docs/VOLUME.md). */
gl_code gl_providers_run(json_t **out, gl_store *s, const gl_market *m, gl_graph_def_fn defs, void *ctx,
                         const gl_prices *prices, gl_err *err);

/* -------------------------------------------------------- concentration */

typedef struct gl_conc_point {
    uint64_t time;         /* a change: a lease starts or ends */
    uint32_t entity;       /* buyer entity, or the wallet's node id when `wallet` */
    bool wallet;           /* no entity known (no analysis): entity is a graph node id */
    const char *family;    /* model family ("H100"), or the name as written */
    uint64_t gpus;         /* GPUs held from `time` on */
} gl_conc_point;

/* Concurrent GPUs held per buyer entity over time, by model family: one
 * point at every change.  A lease holds its GPUs from its time to
 * hold_until (extensions prolong it).  family_filter NULL: every family.  Leases need a
 * GPU count and a duration; the rest are counted in *skipped. */
gl_code gl_concentration_run(gl_conc_point **out, size_t *n_out, size_t *skipped, const gl_market *m,
                             const char *family_filter, gl_err *err);

#endif
