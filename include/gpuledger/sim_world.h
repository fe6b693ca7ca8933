/* sim_world.h - the simulator's internals, shared by the files of sim/.
 *
 * Not a public API: the CLI and tests use sim.h.  This header exists
 * because the simulator is split by job across several files:
 *   sim_scenario.c  the scenario file (public: sim.h)
 *   sim_rng.c     seeded random numbers (sim_rng.h)
 *   sim_run.c     gl_sim_run and finding the fixtures (public: sim.h)
 *   sim_world.c   addresses, entities, the ledger, the task queue, signing,
 *                 the block loop (send, mine, receipts, effects)
 *   sim_node.c    the node: JSON-RPC calls anvil understands
 *   sim_setup.c   artifacts, function signatures, actors from the scenario
 *   sim_flows.c   what actors do: day planners, and one prepare and one
 *                 effect step per task kind
 *   sim_truth.c   the truth object and the platform definitions
 *
 * The model.  The simulator keeps its own ledger of every balance it
 * touches (native coin and three tokens per address, plus the markets'
 * internal books) and predicts every effect of every transaction; the
 * receipts only add what cannot be predicted without an EVM (gas used).
 * Where the chain disagrees with a prediction the run stops (GL_EVERIFY).
 *
 * Blocks.  Tasks wait in a queue ordered by (time, sequence number).  A
 * block at time T takes the due tasks in order; each task either builds its
 * transactions (signed here, nonces tracked here) or is deferred.  Within a
 * block the order of transactions from different senders must not matter,
 * so that the model needs no EVM:
 *   - a decrease of any balance is checked against its value at the start
 *     of the block minus what is already reserved in this block;
 *   - increases count only once the block is mined;
 *   - operations that take "everything there is" (withdraw earnings, sweep
 *     a deposit address, pay what a Fluence deal owes) lock their key, and
 *     no increase of that key may share their block (gl_simw_lock).
 * Transactions of one sender are ordered by nonce, so a task may send
 * several in one block (approve, then lease).
 *
 * Amounts are unsigned __int128 (sim_amt): every amount the simulator
 * creates stays far below 2^128, and additions are checked.
 */
#ifndef GPULEDGER_SIM_WORLD_H
#define GPULEDGER_SIM_WORLD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "gpuledger/abi.h"
#include "gpuledger/bytes.h"
#include "gpuledger/err.h"
#include "gpuledger/rpc.h"
#include "gpuledger/secp.h"
#include "gpuledger/sim.h"
#include "gpuledger/sim_rng.h"

typedef unsigned __int128 sim_amt;

#define SIM_NONE UINT32_MAX

/* ------------------------------------------------------------------ */
/* Assets, kinds, roles, typologies                                     */

/* AS_USDT (ComputeBazaar's token) exists only in scenarios with the bazaar:
 * loops that draw random numbers or write the truth stop before it
 * otherwise (gl_simw_nassets), so that those chains stay as they were. */
typedef enum sim_asset { AS_ETH, AS_USDC, AS_GLM, AS_SWAN, AS_USDT, AS_N } sim_asset;

typedef enum sim_ekind {
    EK_OPERATOR,
    EK_TOKEN,
    EK_PLATFORM,
    EK_EXCHANGE,
    EK_BRIDGE,
    EK_HUB,
    EK_PROVIDER,
    EK_BUYER,
    EK_INTERMEDIARY,
    EK_AIRDROPPER,
    EK_INDIVIDUAL,
    EK_N
} sim_ekind;

typedef enum sim_role {
    RO_OPERATOR,
    RO_TOKEN_CONTRACT,
    RO_MARKET_CONTRACT,
    RO_FLUENCE_DEAL,
    RO_SWAN_CP_ACCOUNT,
    RO_HOT_WALLET,
    RO_DEPOSIT_ADDRESS,
    RO_BRIDGE_CONTRACT,
    RO_BRIDGE_RELAYER,
    RO_HUB_CONTRACT,
    RO_PROVIDER_WALLET,
    RO_BUYER_WALLET,
    RO_PROXY_WALLET,
    RO_AIRDROP_WALLET,
    RO_PERSONAL_WALLET,
    RO_COLLECTOR_WALLET, /* where a sweeping provider's payout wallets send what they earn */
    RO_N
} sim_role;

typedef enum sim_typology {
    TY_NONE,
    TY_SPONSOR_FANOUT,
    TY_PASS_THROUGH,
    TY_REIMBURSED,
    TY_LEASE_FOR,
    TY_LIVEPEER_THIRD_PARTY,
    TY_GOLEM_DEPOSIT,
    TY_SPLIT_ORDER,
    TY_N
} sim_typology;

/* How a wallet is topped up when it lacks something (gl_simw_ensure). */
typedef enum sim_funding {
    FP_NONE,     /* never: a shortfall is a bug in the flows */
    FP_TREASURY, /* the operator mints tokens / sends the native coin */
    FP_EXCHANGE, /* a withdrawal from the entity's exchange */
    FP_BRIDGE,   /* a release from the bridge */
    FP_WALLET,   /* another wallet of the simulation (fund_src) sends it */
} sim_funding;

/* The contracts deployed by the operator, in deployment order. */
typedef enum sim_contract {
    CT_USDC,
    CT_GLM,
    CT_SWAN,
    CT_GPUMARKET,
    CT_LIVEPEER,
    CT_GOLEM_BATCH,
    CT_GOLEM_LOCK,
    CT_SPHERON_ORDER,
    CT_SPHERON_LEASE,
    CT_SWAN_TASKS,
    CT_FLUENCE_IMPL,
    CT_FLUENCE_FACTORY,
    CT_BRIDGE,
    CT_USDT,    /* deployed (after the hubs) only with the bazaar */
    CT_BAZAAR,
    CT_N
} sim_contract;

/* Allowance slots: (token, spender) pairs that wallets approve. */
typedef enum sim_spender {
    SP_USDC_GPUMARKET,
    SP_USDC_SPHERON,
    SP_GLM_BATCH,
    SP_GLM_LOCK,
    SP_SWAN_TASKS,
    SP_USDC_HUB,
    SP_SWAN_HUB,
    SP_USDT_BAZAAR,
    SP_N
} sim_spender;

/* Functions the simulator calls (signatures in sim_setup.c). */
typedef enum sim_fn {
    FN_APPROVE,
    FN_TRANSFER,
    FN_MINT,
    FN_REGISTER_OFFER,
    FN_UPDATE_OFFER,
    FN_LEASE,
    FN_LEASE_FOR,
    FN_EXTEND_LEASE,
    FN_END_LEASE,
    FN_WITHDRAW,
    FN_LP_FUND,
    FN_LP_FUND_FOR,
    FN_LP_REDEEM,
    FN_GOLEM_INDIRECT,
    FN_GOLEM_CREATE_DEPOSIT,
    FN_GOLEM_DEPOSIT_TRANSFER,
    FN_GOLEM_CLOSE_DEPOSIT,
    FN_SPH_SET_LEASE,
    FN_SPH_CREATE_ORDER,
    FN_SPH_MATCH_ORDER,
    FN_SPH_CLOSE_LEASE,
    FN_SWAN_ASSIGN,
    FN_SWAN_RELEASE,
    FN_FL_DEPLOY_DEAL,
    FN_FL_DEPOSIT,
    FN_FL_PAY_PROVIDER,
    FN_BRIDGE_RELEASE,
    FN_HUB_FORWARD,
    FN_HUB_PAY,
    FN_HUB_MULTI,
    FN_BZ_LIST,
    FN_BZ_RENT,
    FN_BZ_RENT_FOR,
    FN_N
} sim_fn;

/* Events the simulator reads back from receipts. */
typedef enum sim_ev {
    EV_TRANSFER,
    EV_OFFER_REGISTERED,
    EV_LEASE_OPENED,
    EV_LEASE_EXTENDED,
    EV_LEASE_ENDED,
    EV_GM_WITHDRAWAL,
    EV_WINNING_TICKET_TRANSFER,
    EV_DEPOSIT_TRANSFER,
    EV_ORDER_CREATED,
    EV_SPH_LEASE_CREATED,
    EV_TASK_CREATED,
    EV_DEAL_CREATED,
    EV_DEPOSITED,
    EV_PROVIDER_PAID,
    EV_CAPACITY_LISTED,
    EV_RENTED,
    EV_N
} sim_ev;

/* GPU models offered, with a price range in micro-USD per GPU-hour. */
typedef struct sim_model {
    const char *name;
    uint64_t usd_lo, usd_hi; /* micro-USD (USDC units) per GPU-hour */
    unsigned weight;         /* how common */
    bool controlled;         /* an export-controlled class (H100, H800, H20, A100, A800, B200) */
} sim_model;

extern const sim_model gl_sim_models[];
extern const unsigned gl_sim_nmodels;
/* The catalogue's models as the bazaar names them, index for index. */
extern const char *const gl_sim_bazaar_models[];

/* ------------------------------------------------------------------ */
/* Addresses and entities                                               */

typedef struct sim_addr {
    uint8_t a[20];
    uint32_t entity;
    uint8_t role;      /* sim_role */
    uint8_t txtype;    /* 0 legacy, 1 EIP-2930, 2 EIP-1559: what its wallet software sends */
    uint8_t typology;  /* proxy wallets: sim_typology */
    uint8_t funding;   /* sim_funding */
    bool has_key;
    uint8_t key[32];
    uint64_t nonce;
    uint32_t fund_src;      /* FP_WALLET: the paying wallet */
    uint32_t beneficiary;   /* proxy wallets: the entity served */
    uint32_t customer;      /* deposit addresses: the customer entity */
    uint32_t dealer;        /* Fluence deals and CP accounts: index into their table */
    sim_amt bal[AS_N];      /* confirmed */
    sim_amt resv[AS_N];     /* reserved in block resv_blk */
    uint64_t resv_blk;
    sim_amt incoming[AS_N]; /* funding requested, not yet confirmed */
    sim_amt allowance[SP_N];
    sim_amt earn[2];        /* GpuMarket earnings of a provider wallet: [0] native, [1] USDC */
    sim_amt lp_deposit, lp_reserve, lp_resv; /* Livepeer sender: deposit, reserve, reserved */
    uint64_t lp_resv_blk;
    sim_amt initial_eth;    /* balance before the run (the operator's) */
    uint32_t sweep_pending; /* bit per asset: a sweep is scheduled */
    uint32_t uses;          /* purchases made (fresh wallets) */
} sim_addr;

/* What an entity does each day (its TK_DAY planner). */
typedef enum sim_plan {
    PL_NONE,
    PL_PROVIDER,      /* ext: provider index */
    PL_BUYER,         /* platforms: the ones it buys on */
    PL_SPONSOR,       /* wallets after main: fresh wallets; ext: campaign day */
    PL_SPLITTER,      /* wallets after main: order wallets; ext: order day */
    PL_PT_CLIENT,     /* ext: the pass-through wallet it uses */
    PL_RB_CLIENT,     /* ext: the proxy wallet that buys and is reimbursed */
    PL_LF_CLIENT,     /* ext: the wallet that calls leaseFor for it */
    PL_LP_FUNDER,     /* ext: the Livepeer sender it funds */
    PL_GOLEM_FUNDER,  /* ext: its Golem deposit index */
    PL_NOISE,         /* an unrelated person */
    PL_BRIDGE,        /* unrelated bridge releases */
    PL_AIRDROP,       /* ext: the airdrop day */
    PL_N
} sim_plan;

typedef struct sim_entity {
    char id[48];
    uint8_t kind; /* sim_ekind */
    int8_t tz;    /* hours from UTC */
    uint8_t plan; /* sim_plan */
    uint8_t platforms; /* bit per gl_sim_platform (buyers) */
    uint32_t main;     /* main wallet (address index) or SIM_NONE */
    uint32_t exchange; /* exchange index, for customers */
    uint32_t deposit;  /* its deposit address at its exchange, lazily, or SIM_NONE */
    uint32_t ext;      /* see sim_plan */
    uint32_t *wallets;
    size_t nwallets, capwallets;
} sim_entity;

/* A provider's offerings. */
typedef struct sim_provider {
    uint32_t entity;
    uint32_t wallets[8];
    unsigned nwallets;
    uint8_t platforms; /* bit per gl_sim_platform */
    uint8_t models[3];
    uint16_t counts[3];
    uint64_t usd[3];       /* its price per GPU-hour of each model, micro-USD */
    unsigned nmodels;
    uint8_t region;
    uint32_t resells;      /* reseller: the upstream provider index, or SIM_NONE */
    uint32_t cp[2];        /* Swan CP accounts (address indices) */
    unsigned ncp;
    uint32_t self_wallet;  /* self-dealing buyer wallet, or SIM_NONE */
    uint32_t ring_buyer;   /* circular ring: this member's buying wallet, or SIM_NONE */
    uint32_t ring_next;    /* circular ring: the next member (provider index) */
    uint32_t bz_rate[3];   /* bazaar: its rate per unit-hour of each model, micro-USDT */
    uint8_t claim;         /* sim_claim: how its claims relate to what it sells */
    uint32_t burst;        /* PC_OVERSOLD: GPUs leased at once each day, beyond its listing */
    uint32_t collector;    /* PC_SWEEPING: the wallet its payout wallets sweep to, else SIM_NONE */
} sim_provider;

/* A provider's claims (provider_claims in the scenario). */
typedef enum sim_claim {
    PC_HONEST,
    PC_CHEAP,      /* honest, its H100s at the bottom of their range */
    PC_BUSY,       /* honest, one offer filled to its count once a day */
    PC_RELABELLED, /* lists "H100-SXM5-80GB" at A100-40GB prices */
    PC_OVERSOLD,   /* leases more GPUs at once than it listed */
    PC_SWEEPING,   /* honest in price and capacity; its payout wallets sweep to one collector */
} sim_claim;

/* GPUs an offer holds from `start` until `end` (what `gpuledger
 * providers` counts: a lease from its block time for its hours and its
 * extensions' hours; an early end does not free them). */
#define SIM_HOLD_LISTING 0x80000000u /* a hold on a bazaar listing, not an offer */
typedef struct sim_hold {
    uint32_t offer, gpus; /* offer: a GpuMarket offer, or a bazaar listing | SIM_HOLD_LISTING */
    uint64_t start, end;
} sim_hold;

/* A ComputeBazaar listing. */
typedef struct sim_listing {
    uint8_t id[32]; /* on chain, once listed */
    bool listed;
    uint32_t provider, wallet;
    uint8_t model;
    uint16_t units;
    sim_amt rate;   /* per unit-hour */
} sim_listing;

/* A GpuMarket offer. */
typedef struct sim_offer {
    uint64_t id; /* on chain, once registered; 0 before */
    uint32_t provider, wallet;
    uint8_t model, asset;
    uint32_t count;
    sim_amt price;
    uint32_t upstream; /* reseller offers: the upstream offer index, or SIM_NONE */
} sim_offer;

/* A GpuMarket lease. */
typedef struct sim_lease {
    uint64_t id;
    uint32_t offer, buyer, beneficiary, provider_wallet, purchase;
    uint8_t asset;
    bool ended, end_scheduled;
    uint32_t gpus, hours;
    uint64_t start;
    sim_amt price, paid;
} sim_lease;

/* Payment kinds in the truth. */
typedef enum sim_paykind {
    PK_LEASE,        /* GpuMarket LeaseOpened */
    PK_EXTENSION,    /* GpuMarket LeaseExtended */
    PK_TICKET,       /* Livepeer WinningTicketTransfer */
    PK_BATCH,        /* Golem: GLM Transfer from the batch payer */
    PK_DEPOSIT_PAY,  /* Golem: LockPayment DepositTransfer */
    PK_SPH_LEASE,    /* Spheron LeaseCreated */
    PK_TASK,         /* Swan TaskCreated */
    PK_DEAL_DEPOSIT, /* Fluence Deposited */
    PK_RENTAL,       /* ComputeBazaar Rented */
    PK_N
} sim_paykind;

#define PF_SELF 1u     /* payer and provider are one entity */
#define PF_CIRCULAR 2u /* part of a circular flow */

/* A purchase the simulator decided; a payment once it is on chain. */
typedef struct sim_purchase {
    uint8_t platform, kind, asset, model, typology, flags;
    bool paid;          /* on chain */
    uint32_t payer;     /* the paying wallet (address index) */
    uint32_t beneficiary_wallet; /* who uses it on chain (leaseFor), or SIM_NONE */
    uint32_t beneficiary;        /* entity */
    uint32_t provider_wallet;    /* the wallet paid (or the provider's main wallet) */
    uint32_t provider;           /* provider index */
    uint32_t gpus, hours;
    uint32_t minutes;   /* bazaar: the rental's minutes (hours is 0) */
    uint32_t listing;   /* bazaar listing index, or SIM_NONE */
    uint32_t funder;    /* bazaar proxies: the wallet that funds the payer first, or SIM_NONE */
    uint32_t offer;     /* GpuMarket offer index, or SIM_NONE */
    uint32_t lease;     /* GpuMarket lease index (extensions too), or SIM_NONE */
    uint32_t resale_of; /* purchase index, or SIM_NONE */
    uint32_t group;     /* split order group, or SIM_NONE */
    uint32_t aux;       /* per platform: Livepeer sender, Golem deposit index, Spheron order index, ... */
    sim_amt amount;
    sim_amt max_price;  /* Spheron: the total the order escrows (its maxPrice over its blocks);
                           Fluence: the price per epoch */
    sim_amt rate, max_rate; /* Spheron: acceptedPrice and maxPrice, rates per block in 18-decimal
                               fixed point (amount and max_price are their totals in USDC) */
    /* chain position, once paid */
    uint64_t block, time, log_index;
    uint64_t chain_id_of; /* on-chain id (lease id, order id, ...) */
    uint8_t rental_id[32]; /* bazaar: the bytes32 rental id */
    uint8_t tx[32];
} sim_purchase;

/* A Golem deposit (LockPayment). */
typedef struct sim_gdeposit {
    uint64_t nonce;
    uint32_t funder, spender; /* addresses */
    sim_amt amount, fee, resv;
    uint64_t resv_blk, valid_to;
    bool created, closed;
} sim_gdeposit;

/* A Spheron order. */
typedef struct sim_order {
    uint64_t id, lease_id, start_block, blocks, fizz;
    uint32_t purchase;
    bool matched, closed;
} sim_order;

/* A Fluence deal. */
typedef struct sim_deal {
    uint32_t addr;      /* the deal contract's address index, once created */
    uint32_t owner, provider_wallet, purchase;
    sim_amt price_per_epoch, total_paid;
    uint64_t start;
    bool deposited;
} sim_deal;

/* ------------------------------------------------------------------ */
/* Tasks                                                                */

typedef enum sim_tk {
    TK_DEPLOY,          /* a: contract (sim_contract) */
    TK_SETUP_CALL,      /* a: which (0: setComputeLease) */
    TK_XFER,            /* a: from, b: to, c: asset, v: amount, d: purpose */
    TK_MINT,            /* a: to, c: asset, v: amount */
    TK_BRIDGE_RELEASE,  /* b: recipient, c: asset, v: amount, d: purpose */
    TK_SWEEP,           /* a: deposit address, c: asset (its gas comes from the hot wallet) */
    TK_CP_DEPLOY,       /* a: provider index, b: cp slot */
    TK_OFFER_REGISTER,  /* a: offer index */
    TK_OFFER_UPDATE,    /* a: offer index, v: new price */
    TK_DAY,             /* a: entity, x: day number */
    TK_BUY,             /* a: purchase index (any platform's first step) */
    TK_GM_EXTEND,       /* a: lease index, b: payer wallet, x: hours */
    TK_GM_END,          /* a: lease index, b: caller wallet */
    TK_GM_WITHDRAW,     /* a: provider wallet, c: asset */
    TK_LP_FUND,         /* a: funder wallet, b: sender wallet, v: deposit, x: reserve (whole units) */
    TK_GOLEM_DEPOSIT,   /* a: Golem deposit index */
    TK_GOLEM_CLOSE,     /* a: Golem deposit index */
    TK_SPH_MATCH,       /* a: order index */
    TK_SPH_CLOSE,       /* a: order index, b: caller wallet */
    TK_SWAN_RELEASE,    /* a: purchase index */
    TK_FL_DEPOSIT,      /* a: deal index */
    TK_FL_PAY,          /* a: deal index */
    TK_HUB_CALL,        /* a: from, b: to, c: asset, v: amount, d: hub index */
    TK_AIRDROP,         /* a: first recipient slot, b: count */
    TK_BZ_LIST,         /* a: listing index */
    TK_BZ_FUND,         /* a: purchase index: its funder sends the payer exactly the cost (and gas) */
    TK_N
} sim_tk;

/* Why a TK_XFER happens (what its effect does beyond moving money). */
typedef enum sim_purpose {
    PU_FUNDING,       /* a top-up requested by gl_simw_ensure */
    PU_DEPOSIT,       /* into a deposit address: schedule a sweep */
    PU_REIMBURSE,     /* a client pays its proxy back */
    PU_NOISE,         /* unrelated */
    PU_CLIENT_FUNDS,  /* a client hands its pass-through proxy the money */
    PU_COLLECT,       /* a sweeping provider's payout wallet to its collector */
    PU_N
} sim_purpose;

typedef struct sim_task {
    uint64_t time, seq;
    uint16_t kind; /* sim_tk */
    uint16_t defers;
    uint32_t a, b, c, d;
    uint64_t x;
    sim_amt v;
} sim_task;

/* What prepare decided. */
typedef enum sim_prep {
    PR_DONE,   /* transactions were added (or nothing was needed) */
    PR_FULL,   /* the block is full: try again in the next block */
    PR_LATER,  /* deferred: task->time was moved (funds, locks) */
    PR_DROP,   /* no longer applies (lease already ended, ...) */
} sim_prep;

/* One transaction of the block being built. */
typedef struct sim_tx {
    uint32_t from;
    uint64_t gas;
    sim_amt value, reserved_eth;
    sim_task task; /* the task that made it, for its effect */
    uint8_t step;  /* which of the task's transactions */
    uint8_t fn;    /* sim_fn, or 0xff for a plain transfer / creation */
    uint8_t hash[32];
    uint32_t to; /* address index or SIM_NONE (creation or unknown) */
} sim_tx;

/* A log from a receipt, decoded enough for effects. */
typedef struct sim_log {
    uint8_t address[20];
    uint8_t topics[4][32];
    unsigned ntopics;
    const uint8_t *data;
    size_t len;
    uint64_t index;
} sim_log;

typedef struct sim_receipt {
    uint64_t gas_used;
    sim_amt gas_price;
    uint8_t created[20];
    bool has_created;
    sim_log *logs;
    size_t nlogs;
} sim_receipt;

/* ------------------------------------------------------------------ */
/* The world                                                            */

#define SIM_DEFINE_VEC(name, T) \
    typedef struct name {       \
        T *v;                   \
        size_t n, cap;          \
    } name

SIM_DEFINE_VEC(sim_addr_vec, sim_addr);
SIM_DEFINE_VEC(sim_entity_vec, sim_entity);
SIM_DEFINE_VEC(sim_provider_vec, sim_provider);
SIM_DEFINE_VEC(sim_offer_vec, sim_offer);
SIM_DEFINE_VEC(sim_hold_vec, sim_hold);
SIM_DEFINE_VEC(sim_lease_vec, sim_lease);
SIM_DEFINE_VEC(sim_purchase_vec, sim_purchase);
SIM_DEFINE_VEC(sim_gdeposit_vec, sim_gdeposit);
SIM_DEFINE_VEC(sim_order_vec, sim_order);
SIM_DEFINE_VEC(sim_deal_vec, sim_deal);
SIM_DEFINE_VEC(sim_listing_vec, sim_listing);
SIM_DEFINE_VEC(sim_task_vec, sim_task);
SIM_DEFINE_VEC(sim_tx_vec, sim_tx);
SIM_DEFINE_VEC(sim_u32_vec, uint32_t);
SIM_DEFINE_VEC(sim_lock_vec, uint64_t);

struct sim_world {
    const gl_sim_scenario *sc;
    const gl_sim_opts *opts;
    gl_secp *secp;
    gl_rpc *rpc;
    gl_sim_rng rng;
    uint64_t chain_id;
    uint64_t gas_limit;    /* per block, as used */
    uint64_t key_counter;  /* next key index */
    uint64_t end_time;     /* start + days */
    uint64_t setup_time;   /* when deployment begins */

    /* artifacts: init code per contract (hex decoded) */
    gl_buf code[CT_N];
    gl_buf cp_code;  /* SwanCpAccount */
    gl_buf hub_code; /* SimHub */
    gl_abi_sig fn[FN_N];
    uint8_t ev[EV_N][32]; /* topic0 */
    uint32_t contract[CT_N]; /* address indices, SIM_NONE until sent */
    uint32_t contract_entity[CT_N];
    uint64_t contract_block[CT_N];
    sim_u32_vec hubs;        /* address indices, SIM_NONE until sent */
    sim_u32_vec hub_ents;
    sim_u32_vec hub_blocks;

    sim_addr_vec addrs;
    char uid_prefix[16];     /* Swan task uids */
    uint32_t *amap; /* open addressing: address -> index + 1, 0 empty */
    size_t amap_cap;
    sim_entity_vec ents;
    uint32_t operator_addr;
    uint32_t bridge_relayer;
    uint32_t airdropper;
    sim_u32_vec exchanges;   /* entity indices */
    sim_provider_vec provs;
    sim_u32_vec plat_provs[GL_SIM_NPLATFORMS]; /* provider indices serving a platform */
    sim_offer_vec offers;
    sim_lease_vec leases;
    sim_hold_vec holds;      /* provider_claims.respect_capacity: GPUs held per offer */
    sim_purchase_vec purch;
    sim_gdeposit_vec gdeps;
    sim_order_vec orders;
    sim_deal_vec deals;
    sim_listing_vec listings; /* ComputeBazaar */
    sim_u32_vec noise;       /* noise wallets */
    sim_u32_vec airdrop_to;  /* airdrop recipients */
    uint32_t ngroups;        /* split-order groups */
    uint64_t lp_nonce, task_uid, deposit_id;

    /* queue: a binary heap on (time, seq) */
    sim_task_vec heap;
    uint64_t seq;

    /* the block being built */
    uint64_t blk_seq;        /* number of blocks built so far (reservation epoch) */
    uint64_t blk_time, blk_number;
    uint64_t blk_gas;
    sim_tx_vec txs;
    char **raws;             /* hex of each signed tx */
    size_t raws_cap;
    sim_lock_vec locks;      /* (key << 1) | takeall */

    /* chain so far */
    uint64_t first_block, last_block, last_time;
    uint8_t head_hash[32];
    uint64_t market_events, ntxs;
};

typedef struct sim_world sim_world;

/* ---- sim_world.c ---- */

/* Create/destroy the world around a scenario and options.  GL_ENOMEM. */
gl_code gl_simw_init(sim_world *w, const gl_sim_scenario *sc, const gl_sim_opts *opts, gl_err *err);
void gl_simw_release(sim_world *w);

/* A new address: a keyed wallet (key derived from the seed and a counter)
 * or, with `key` NULL and `addr` given, a contract.  Adds it to `entity`'s
 * wallets.  Returns the index, or SIM_NONE with GL_ENOMEM. */
uint32_t gl_simw_wallet(sim_world *w, uint32_t entity, sim_role role, gl_err *err);
uint32_t gl_simw_contract_addr(sim_world *w, uint32_t entity, sim_role role, const uint8_t addr[20], gl_err *err);
/* A wallet with a given key (the operator's). */
uint32_t gl_simw_keyed(sim_world *w, uint32_t entity, sim_role role, const uint8_t key[32], gl_err *err);
/* Look up an address; SIM_NONE when unknown. */
uint32_t gl_simw_find(const sim_world *w, const uint8_t addr[20]);
/* A new entity; returns its index or SIM_NONE (GL_ENOMEM).  The id is
 * formatted like printf. */
uint32_t gl_simw_entity(sim_world *w, sim_ekind kind, int tz, gl_err *err, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* Queue a task (copied; its seq is assigned here).  GL_ENOMEM. */
gl_code gl_simw_push(sim_world *w, const sim_task *t, gl_err *err);

/* The contract address a sender's next creation gets (CREATE: keccak of
 * rlp([sender, nonce]), low 20 bytes). */
void gl_simw_create_address(const uint8_t sender[20], uint64_t nonce, uint8_t out[20]);

/* Balances available for spending in the current block. */
sim_amt gl_simw_avail(sim_world *w, uint32_t addr, sim_asset as);
/* Reserve `v` of `as` in the current block (after a successful check). */
void gl_simw_reserve(sim_world *w, uint32_t addr, sim_asset as, sim_amt v);
/* Is `v` available?  If not, ask for funding per the wallet's policy (at
 * most once per shortfall) and return false. */
bool gl_simw_ensure(sim_world *w, uint32_t addr, sim_asset as, sim_amt v, gl_err *err);
/* The most a transaction of `gas` from this wallet can cost in fees. */
sim_amt gl_simw_fee_cap(const sim_world *w, uint32_t addr, uint64_t gas);
/* Ledger moves on confirmed balances (effects).  GL_EVERIFY on underflow:
 * the model went wrong. */
gl_code gl_simw_move(sim_world *w, uint32_t from, uint32_t to, sim_asset as, sim_amt v, gl_err *err);
gl_code gl_simw_credit(sim_world *w, uint32_t to, sim_asset as, sim_amt v, gl_err *err);
gl_code gl_simw_debit(sim_world *w, uint32_t from, sim_asset as, sim_amt v, gl_err *err);

/* Locks for "take everything" operations (see the top).  Keys are any
 * 63-bit value, conventionally (address index << 8 | slot).  Return false
 * when the lock conflicts with this block's others. */
bool gl_simw_lock_incr(sim_world *w, uint64_t key);
bool gl_simw_lock_takeall(sim_world *w, uint64_t key);

/* Room for `ntx` transactions of `gas` in total in the current block? */
bool gl_simw_room(const sim_world *w, size_t ntx, uint64_t gas);

/* Add a signed transaction to the block: from `from` to `to` (an address
 * index, or SIM_NONE with `to_raw` NULL for a creation; `to_raw` may name
 * an address outside the table), calldata, native value and gas.  Reserves
 * value + the fee cap.  The caller has checked room and funds.  GL_ENOMEM,
 * GL_EINVAL (signing). */
gl_code gl_simw_send(sim_world *w, const sim_task *t, uint8_t step, uint32_t from, uint32_t to,
                     const uint8_t *to_raw, sim_amt value, const gl_buf *data, uint64_t gas, uint8_t fn,
                     gl_err *err);

/* Encode a call of `fn` with `args` (a JSON array, stolen) into `out`
 * (reset first).  GL_EINVAL naming the function when the encoder refuses. */
gl_code gl_simw_encode(sim_world *w, sim_fn fn, json_t *args, gl_buf *out, gl_err *err);

/* Run the queue to the scenario's end.  Errors as gl_sim_run. */
gl_code gl_simw_run(sim_world *w, gl_err *err);

/* Helpers for amounts and addresses in JSON. */
json_t *gl_simw_amt_json(sim_amt v);
json_t *gl_simw_addr_json(const sim_world *w, uint32_t addr);
/* How many assets the run has: AS_N with the bazaar, else AS_USDT. */
int gl_simw_nassets(const sim_world *w);
/* The address index of an ERC-20 asset's token contract; SIM_NONE for ETH. */
uint32_t gl_simw_token(const sim_world *w, sim_asset as);
char *gl_simw_amt_dec(sim_amt v, char out[48]);
void gl_simw_amt_word(sim_amt v, uint8_t out[32]);
sim_amt gl_simw_word_amt(const uint8_t word[32]);

/* Timeline helpers: a time on `day` at an hour the entity is awake
 * (its time zone's working hours). */
uint64_t gl_simw_awake_time(sim_world *w, uint32_t entity, uint64_t day);

/* ---- sim_node.c ---- */

/* The node's chain id, head number, timestamp and gas limit; switches
 * automine off.  GL_ERPC. */
gl_code gl_simn_open(sim_world *w, uint64_t *head_number, uint64_t *head_time, uint64_t *gas_limit,
                     gl_err *err);
/* A plain call whose result is a hex quantity. */
gl_code gl_simn_quantity(sim_world *w, const char *method, json_t *params, sim_amt *out, gl_err *err);
/* Send the block's raw transactions, mine it at w->blk_time and parse its
 * receipts (one per transaction, in order) into `rcpts` (n entries, freed
 * with gl_simn_receipts_free).  GL_ERPC, GL_EVERIFY (missing or reverted
 * transactions, named). */
gl_code gl_simn_mine(sim_world *w, sim_receipt *rcpts, json_t **raw_receipts, gl_err *err);
void gl_simn_receipts_free(sim_receipt *rcpts, size_t n, json_t *raw);

/* ---- sim_setup.c ---- */

/* Load artifacts and function signatures.  GL_EIO naming the path. */
gl_code gl_sims_load(sim_world *w, gl_err *err);
/* Create the actors and queue the deployment and the first days. */
gl_code gl_sims_actors(sim_world *w, uint64_t operator_nonce, gl_err *err);
/* Name of a contract, an entity kind, a role, a typology, an asset. */
const char *gl_sims_contract_name(sim_contract c);
const char *gl_sims_kind_name(sim_ekind k);
const char *gl_sims_role_name(sim_role r);
const char *gl_sims_typology_name(sim_typology t);
const char *gl_sims_asset_name(sim_asset a);
/* An asset's decimals as its token contract declares them: ETH, GLM and
 * SWAN 18, USDC and USDT 6 (0 for AS_N).  Every amount of an asset that is
 * a round number of tokens is built from this, never from an assumed 18. */
unsigned gl_sims_asset_decimals(sim_asset a);
/* One whole token of an asset in its smallest unit: 10^decimals. */
sim_amt gl_sims_asset_one(sim_asset a);
const char *gl_sims_paykind_name(sim_paykind k);
const char *gl_sims_region(unsigned r);

/* ---- sim_flows.c ---- */

/* Build the task's transactions into the current block. */
sim_prep gl_simf_prepare(sim_world *w, sim_task *t, gl_err *err);
/* Apply a mined transaction's effects to the model. */
gl_code gl_simf_effect(sim_world *w, const sim_tx *tx, const sim_receipt *r, gl_err *err);
/* A short name of a task kind, for messages. */
const char *gl_simf_task_name(sim_tk k);
/* Start a new purchase record; returns its index or SIM_NONE (GL_ENOMEM). */
uint32_t gl_simf_new_purchase(sim_world *w, gl_err *err);

/* ---- sim_truth.c ---- */

/* Build the truth object from the finished world.  GL_ENOMEM. */
gl_code gl_simt_build(sim_world *w, json_t **out, gl_err *err);

#endif
