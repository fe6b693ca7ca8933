/* analysis.h - entities with evidence and proxy-buyer flags, from a graph.
 *
 * The analyzer's passes over a gl_graph (graph.h):
 *   hubs       which nodes are services (labels, platform and token
 *              contracts, exchange hot wallets found by their sweeps, degree)
 *   links      rules that say two addresses are one actor: hard links are
 *              merged with union-find, soft links are scored and merged only
 *              when two different soft rules agree (links.c)
 *   entities   components over the merged links, with an inferred kind
 *              (cluster.c)
 *   signals    per buying wallet, features in families (funding, identity,
 *              lifecycle, settlement, coordination, context), each with the
 *              positions behind it; a flag needs two families (proxy.c)
 * Every parameter is in gl_analysis_params with its default and why
 * (docs/METHODS.md); the parameters used are written next to the results.
 *
 * Ownership: gl_analysis_run returns a result that holds no reference to the
 * graph's arrays (evidence positions are copied); free with
 * gl_analysis_free.  No global state.
 */
#ifndef GPULEDGER_ANALYSIS_H
#define GPULEDGER_ANALYSIS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "gpuledger/err.h"
#include "gpuledger/graph.h"

typedef struct gl_analysis_params {
    uint32_t hub_degree;        /* more distinct counterparties than this (purchase
                                   payments aside, docs/METHODS.md): a service (hub) */
    uint64_t sweep_min_s;       /* deposit address: forwards what it receives after at least ... */
    uint64_t sweep_max_s;       /* ... and at most this many seconds */
    double sweep_gas_eth;       /* ETH a sweep may keep back for its fee (in ETH) */
    uint32_t sweep_min_deposits;/* a hot wallet: swept into by at least this many deposit addresses */
    uint64_t fund_window_s;     /* funding counts when it arrives this long before a purchase */
    double fund_cover;          /* and covers at least this share of it */
    uint64_t settle_window_s;   /* repayment counts when it arrives this long after a purchase */
    double settle_min, settle_max; /* and is this multiple of the purchase */
    uint64_t fresh_s;           /* fresh: first seen this long before the first purchase, or less */
    double passthrough_share;   /* conduit: third-party money is at least this share of spending ... */
    double passthrough_max;     /* ... and at most this multiple of it */
    uint64_t split_window_s;    /* split order: parts within this window */
    uint64_t sync_window_s;     /* synchronized: purchases this close in time ... */
    uint32_t sync_min_times;    /* ... on at least this many occasions */
    uint32_t sponsor_min_wallets; /* sponsor: funds at least this many buying wallets */
    double soft_merge;          /* soft links merge when their summed weight reaches this ... */
    uint32_t soft_rules_min;    /* ... from at least this many different soft rules */
    double flag_min_score;      /* a wallet is flagged at this score or above ... */
    uint32_t flag_min_families; /* ... with signals from at least this many families */
} gl_analysis_params;

/* The defaults (docs/METHODS.md says why each value). */
void gl_analysis_params_default(gl_analysis_params *p);
/* The parameters as a JSON object (written next to every result). */
json_t *gl_analysis_params_json(const gl_analysis_params *p);

/* ----------------------------------------------------------------- links */

typedef enum gl_link_rule {
    /* hard: merged */
    GL_LINK_DEPOSIT_SWEEP = 0,  /* a deposit address and the hot wallet it sweeps into */
    GL_LINK_DEPOSIT_REUSE,      /* two wallets paying into one deposit address */
    GL_LINK_SELF_AUTH,          /* an EOA's tokens moved by a tx another EOA sent to the token */
    GL_LINK_MULTI_BUYER_TX,     /* one tx paying for several buyers' purchases */
    GL_LINK_PROVIDER_SWEEP,     /* provider addresses sweeping payouts to one collector */
    GL_LINK_AIRDROP_AGGREGATE,  /* airdrop recipients forwarding to one aggregator */
    GL_LINK_PLATFORM_CONTRACTS, /* contracts emitting one platform's events */
    /* soft: scored */
    GL_LINK_FIRST_FUNDER,       /* made the first transfer the wallet received */
    GL_LINK_SOLE_FUNDER,        /* every transfer the wallet received came from it */
    GL_LINK_FUNDS_PURCHASE,     /* its money paid for the wallet's purchase */
    GL_LINK_SWEEP_SINK,         /* the wallet sent what it had left back to it */
    GL_LINK_PAYS_FOR,           /* pays for compute another address uses */
    GL_LINK_DEPOSIT_FUNDER,     /* funds a deposit another address spends (Golem, Livepeer) */
    GL_LINK_RETURNS_TO_FUNDER,  /* the wallet's purchases pay its funder, or a ring leading back to it */
    GL_LINK_SYNCHRONIZED,       /* two wallets buying within minutes of each other, again and again */
    GL_LINK_RULE_COUNT
} gl_link_rule;

const char *gl_link_rule_name(gl_link_rule r);
bool gl_link_rule_hard(gl_link_rule r);

#define GL_EVIDENCE_MAX 4

typedef struct gl_evidence {
    gl_gpos pos;
    uint8_t what;   /* 0 transfer, 1 event */
} gl_evidence;

typedef struct gl_link {
    uint32_t a, b;          /* node ids */
    uint8_t rule;           /* gl_link_rule */
    bool merged;            /* took part in the union (hard, or soft that passed) */
    float confidence;       /* 0..1 */
    uint32_t n_evidence;    /* how many positions support it (may exceed the kept ones) */
    gl_evidence ev[GL_EVIDENCE_MAX];
} gl_link;

/* -------------------------------------------------------------- entities */

typedef enum gl_entity_kind {
    GL_KIND_UNKNOWN = 0,
    GL_KIND_EXCHANGE,
    GL_KIND_BRIDGE,
    GL_KIND_ROUTER,
    GL_KIND_MIXER,
    GL_KIND_PLATFORM,
    GL_KIND_TOKEN,
    GL_KIND_SERVICE,   /* a hub by degree, no label */
    GL_KIND_CONTRACT,  /* moved money it held in txs others sent: has code */
    GL_KIND_PROVIDER,
    GL_KIND_BUYER,
    GL_KIND_WALLET,    /* moved money, bought and sold nothing */
    GL_KIND_COUNT
} gl_entity_kind;

const char *gl_entity_kind_name(gl_entity_kind k);

/* ------------------------------------------------------------- proxy flags */

typedef enum gl_family {
    GL_FAM_FUNDING = 0,
    GL_FAM_IDENTITY,
    GL_FAM_LIFECYCLE,
    GL_FAM_SETTLEMENT,
    GL_FAM_COORDINATION,
    GL_FAM_CONTEXT,     /* reported, never counted towards a flag */
    GL_FAM_COUNT
} gl_family;

typedef enum gl_signal_kind {
    GL_SIG_THIRD_PARTY_FUNDING = 0, /* funding */
    GL_SIG_SPONSOR,                 /* funding */
    GL_SIG_DEPOSIT_BY_OTHER,        /* funding */
    GL_SIG_BENEFICIARY_OTHER,       /* identity */
    GL_SIG_BOOKED_TO_OTHER,         /* identity: the event's buyer is not the paying wallet */
    GL_SIG_SENDER_NOT_BUYER,        /* identity: a deposit's tx sender is not its on-chain holder */
    GL_SIG_FRESH_BURNER,            /* lifecycle */
    GL_SIG_CONDUIT,                 /* lifecycle */
    GL_SIG_ONLY_FOR_OTHERS,         /* lifecycle */
    GL_SIG_REPAID,                  /* settlement */
    GL_SIG_SPLIT_ORDER,             /* coordination */
    GL_SIG_CONTROLLED_GPU,          /* context */
    GL_SIG_SANCTIONED_EXPOSURE,     /* context */
    GL_SIG_SHORT_LIFE,              /* lifecycle: bought, then went quiet within days */
    GL_SIG_SHARED_DEPOSIT,          /* coordination: pays into a deposit address other buying wallets use */
    GL_SIG_COUNT
} gl_signal_kind;

const char *gl_signal_name(gl_signal_kind s);
gl_family gl_signal_family(gl_signal_kind s);
const char *gl_family_name(gl_family f);

typedef struct gl_signal {
    uint8_t kind;        /* gl_signal_kind */
    float value;         /* 0..1: strength */
    uint32_t other;      /* the third party it points to (funder, beneficiary, ...), NONE */
    double measure;      /* the raw figure (coverage share, wallets, seconds, ...) */
    uint32_t n_evidence;
    gl_evidence ev[GL_EVIDENCE_MAX];
} gl_signal;

typedef enum gl_typology {
    GL_TYP_NONE = 0,
    GL_TYP_SPONSOR_FANOUT,
    GL_TYP_PASS_THROUGH,
    GL_TYP_REIMBURSED,
    GL_TYP_LEASE_FOR,
    GL_TYP_LIVEPEER_THIRD_PARTY,
    GL_TYP_GOLEM_DEPOSIT,
    GL_TYP_SPLIT_ORDER,
    GL_TYP_COUNT
} gl_typology;

const char *gl_typology_name(gl_typology t);

typedef struct gl_wallet_score {
    uint32_t node;
    float score;
    uint32_t families;       /* bit per gl_family with a signal (context excluded) */
    bool flagged;
    uint8_t typology;        /* gl_typology guess */
    uint32_t beneficiary;    /* the node the money leads to upstream, NONE when not inferable */
    uint32_t n_signals;
    gl_signal *signals;
} gl_wallet_score;

/* ----------------------------------------------------------------- result */

typedef struct gl_analysis {
    gl_analysis_params params;
    uint32_t n_nodes;
    uint32_t *entity;        /* node -> entity id (dense, 0..n_entities) */
    uint8_t *entity_kind;    /* entity -> gl_entity_kind */
    uint32_t n_entities;
    uint8_t *hub;            /* node -> 1 when treated as a hub */
    gl_link *links;
    size_t n_links;
    gl_wallet_score *scores; /* one per buying wallet, by node id */
    size_t n_scores;
    uint32_t merges_across_kinds; /* entities of a service kind (exchange, bridge, platform, token,
                                     service) holding a provider's or a buyer's wallet */
    uint8_t *purchase_marks; /* per graph purchase (g->purchases order): GL_MARK_* */
} gl_analysis;

/* What a purchase is for volume (gl_analysis.purchase_marks). */
#define GL_MARK_SELF_DEALING 0x01u /* buyer (paying wallet) and provider in one entity */
#define GL_MARK_CIRCULAR     0x02u /* buyer's and provider's entities on one cycle of "buys from" */

/* Run every pass.  On error NULL with err set (only GL_ENOMEM can happen). */
gl_analysis *gl_analysis_run(const gl_graph *g, const gl_analysis_params *p, gl_err *err);
void gl_analysis_free(gl_analysis *a);

/* Passes, exposed for tests.  Each appends to a->links or fills its arrays. */
gl_code gl_analysis_hubs(gl_analysis *a, const gl_graph *g, gl_err *err);
gl_code gl_analysis_links(gl_analysis *a, const gl_graph *g, gl_err *err);
gl_code gl_analysis_cluster(gl_analysis *a, const gl_graph *g, gl_err *err);
gl_code gl_analysis_score(gl_analysis *a, const gl_graph *g, gl_err *err);
gl_code gl_analysis_marks(gl_analysis *a, const gl_graph *g, gl_err *err);

/* Internal helper shared by the passes: append a link. */
gl_code gl_analysis_add_link(gl_analysis *a, uint32_t x, uint32_t y, gl_link_rule rule,
                             float confidence, const gl_evidence *ev, gl_err *err);

#endif
