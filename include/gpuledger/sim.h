/* sim.h - the scenario simulator: a GPU rental market played on a real node,
 * with ground truth.
 *
 * gl_sim_run() deploys the test markets (fixtures/contracts) on an EVM node
 * (anvil), then plays a scenario (docs/SCENARIO.md) with transactions signed
 * by our own keys: providers, honest buyers, exchanges, a bridge, proxy
 * buyers of every typology, self-dealing, circular flows and noise.  Block
 * timestamps are chosen by the simulator (evm_mine with a timestamp), so a
 * scenario spans realistic days and hours.  Everything is a function of the
 * scenario and the seed: the same seed on a fresh node with the same genesis
 * gives the same chain, block for block, and the same truth.
 *
 * The truth (docs/TRUTH.md) is a JSON object: every address with its entity,
 * kind and final balances, every proxy wallet with its beneficiary and
 * typology, every payment with payer, beneficiary, provider, GPU model,
 * GPU-hours, amount and token, and per platform and day the gross volume
 * and the volume net of self-dealing and circular flows.
 *
 * Library code: nothing here prints or exits; progress goes to an optional
 * callback.  Keys, nonces and amounts live in the run only.
 */
#ifndef GPULEDGER_SIM_H
#define GPULEDGER_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "gpuledger/err.h"

#define GL_SIM_SCENARIO_FORMAT "gpuledger-scenario/1"
#define GL_SIM_TRUTH_FORMAT "gpuledger-truth/1"

/* The markets a scenario can enable (platform names as in docs/PLATFORMS.md). */
typedef enum gl_sim_platform {
    GL_SIM_GPUMARKET,
    GL_SIM_LIVEPEER,
    GL_SIM_GOLEM,
    GL_SIM_SPHERON,
    GL_SIM_SWAN,
    GL_SIM_FLUENCE,
    GL_SIM_BAZAAR, /* ComputeBazaar: the second market, unlike GpuMarket (off by default) */
    GL_SIM_NPLATFORMS
} gl_sim_platform;

/* "gpumarket", "livepeer", ...; "unknown" outside the enum.  Cannot fail. */
const char *gl_sim_platform_name(gl_sim_platform p);

/* Limits: each one keeps a typo in a scenario from asking for a chain that
 * would take days to build; none is reached by a sane benchmark. */
#define GL_SIM_MAX_DAYS 366u
#define GL_SIM_MAX_ACTORS 200000u  /* any one count of entities or wallets */
#define GL_SIM_MAX_RATE 1000.0     /* any per-day rate */
#define GL_SIM_MAX_TZ 24u          /* entries of "timezones" */

typedef struct gl_sim_tz {
    int offset;      /* hours from UTC, -12 .. 14 */
    unsigned weight; /* relative share of entities */
} gl_sim_tz;

/* A parsed scenario.  Plain data; docs/SCENARIO.md documents every field
 * and its default.  `hash` is keccak-256 of the file's canonical JSON
 * (compact, keys sorted), so two files that differ only in layout match. */
typedef struct gl_sim_scenario {
    char name[64];
    uint64_t start; /* unix seconds, UTC */
    unsigned days;
    /* chain */
    unsigned block_time;           /* seconds between blocks, at least */
    uint64_t base_fee_wei;         /* pinned base fee of every block */
    uint64_t priority_fee_wei;     /* tip of every transaction */
    unsigned max_txs_per_block;
    uint64_t block_gas_limit;      /* 0: the node's */
    bool platform[GL_SIM_NPLATFORMS];
    gl_sim_tz tz[GL_SIM_MAX_TZ];
    size_t ntz;
    unsigned exchanges;
    struct {
        bool enabled;
        double buyer_share;        /* share of honest buyers funded through the bridge */
        double releases_per_day;   /* unrelated releases (noise) */
    } bridge;
    struct {
        unsigned count;
        double multi_wallet_share;
        unsigned max_wallets;
        unsigned resellers;
        unsigned offers_per_wallet;
        double native_offer_share;
        double cashout_share;
        unsigned platform_weight[GL_SIM_NPLATFORMS];
    } providers;
    struct {
        unsigned count;
        double purchases_per_day;
        double second_wallet_share;
        double extend_share;
        double early_end_share;
        unsigned platform_weight[GL_SIM_NPLATFORMS];
    } buyers;
    struct { unsigned count, wallets; } sponsor_fanout, split_order;
    struct { unsigned count, clients; } pass_through, reimbursed, lease_for;
    struct { unsigned count; } livepeer_third_party, golem_deposit;
    struct { unsigned count; double leases_per_day; } self_dealing;
    /* ComputeBazaar (platform GL_SIM_BAZAAR).  With `proxies` the GpuMarket
     * proxy typologies (sponsor_fanout, pass_through, reimbursed, lease_for,
     * split_order) act on the bazaar instead, with its own timings (in
     * minutes) and with proxies funded with exactly what they spend. */
    struct {
        bool proxies;
        unsigned min_minutes, max_minutes;         /* a rental's duration */
        unsigned lead_min_minutes, lead_max_minutes; /* a proxy is funded this long before it rents */
        unsigned reimburse_max_minutes;            /* a reimbursed proxy is paid back within this */
    } bazaar;
    struct { unsigned rings, size; double rounds_per_day; } circular;
    /* Providers' claims against what they sell on GpuMarket, or on the
     * bazaar when GpuMarket is off (what `gpuledger providers` checks;
     * relabelled cards are GpuMarket's only).  All off by default, and then no draw
     * of the seed's stream is spent on them, so older scenarios keep their
     * chain and truth byte for byte. */
    struct {
        bool respect_capacity;    /* honest offers and listings never hold more GPUs at once than listed */
        double cheap_share;       /* honest providers pricing H100s in the bottom 10% of the range */
        double busy_share;        /* honest providers whose offer is filled to its count once a day */
        unsigned relabelled;      /* "H100-SXM5-80GB" offers priced like an A100 */
        double relabelled_leases_per_day; /* leases steered to each of them, besides chance */
        double relabelled_usd_min, relabelled_usd_max; /* their price per GPU-hour, USD */
        unsigned oversold;        /* offers leased beyond their count once a day */
        double oversold_min_factor, oversold_max_factor; /* GPUs leased at once / GPUs listed */
        unsigned sweeping;        /* providers whose payout wallets sweep to one collector wallet */
        unsigned sweeping_wallets; /* payout wallets of each (at least 2: one wallet sweeping is no pattern) */
        bool any;                 /* the section is present: the truth says who is who */
    } provider_claims;
    struct {
        unsigned wallets;
        double transfers_per_day;
        unsigned airdrop_recipients;
        unsigned hubs;
        double hub_calls_per_day;
        unsigned timezone_entities;
    } noise;
    uint8_t hash[32];
} gl_sim_scenario;

/* Parse and validate a scenario from JSON text (`origin` names it in
 * messages, e.g. the file path).  Unknown fields, wrong types, negative or
 * fractional counts, values beyond the limits above, a bad start date and
 * typologies whose platform is disabled are GL_EINVAL, the message naming
 * the origin and the JSON path ("small.json: providers.count: must be a
 * non-negative integer").  *out is zeroed on failure. */
gl_code gl_sim_scenario_parse(gl_sim_scenario *out, const char *text, size_t len, const char *origin,
                              gl_err *err);

/* Read and parse a file; GL_EIO when it cannot be read. */
gl_code gl_sim_scenario_load(gl_sim_scenario *out, const char *path, gl_err *err);

/* Progress callback: a line of chatter (no newline). */
typedef void (*gl_sim_progress_fn)(void *ctx, const char *line);

typedef struct gl_sim_opts {
    const char *rpc_url;        /* the node; must answer anvil's evm_* and anvil_* methods */
    const char *contracts_dir;  /* fixtures/contracts/build (see gl_sim_find_dir) */
    const char *sim_contracts_dir; /* fixtures/sim/build: the bridge and hub */
    uint64_t seed;
    uint8_t funder_key[32];     /* pays for everything: deploys, mints, funds exchanges */
    gl_sim_progress_fn progress; /* may be NULL */
    void *progress_ctx;
} gl_sim_opts;

/* The private key of anvil's first dev account, from the public mnemonic
 * "test test ... junk": the default funder.  Public knowledge; never use it
 * for anything real. */
extern const char gl_sim_anvil_key0[];

typedef struct gl_sim_stats {
    uint64_t blocks;         /* blocks mined */
    uint64_t txs;            /* transactions sent (all succeeded) */
    uint64_t market_events;  /* logs emitted by the marketplace contracts */
    uint64_t payments;       /* payments in the truth */
    uint64_t first_block, last_block;
    double seconds;          /* wall time of the run */
} gl_sim_stats;

/* Play `sc` on the node at opts->rpc_url.  On success *truth is the truth
 * object (the caller json_decrefs it) and *stats (may be NULL) is filled.
 * Failures: GL_EIO when the contract artifacts cannot be read (the message
 * names the path), GL_ERPC when the node fails or refuses a call, GL_EVERIFY
 * when a transaction reverts or the chain disagrees with the simulator's
 * model (the message names the block, the transaction, the action and the
 * actor), GL_EINVAL when the node's chain is already past the scenario's
 * start or the funder's key is invalid, GL_ENOMEM.  The node is left with
 * automine off and whatever was mined so far. */
gl_code gl_sim_run(const gl_sim_scenario *sc, const gl_sim_opts *opts, json_t **truth /* OUT */,
                   gl_sim_stats *stats /* OUT */, gl_err *err);

/* Write the truth to `path` deterministically (keys sorted, one-space
 * indent, trailing newline).  GL_EIO naming the path. */
gl_code gl_sim_truth_write(const json_t *truth, const char *path, gl_err *err);

/* Build the platform definitions (docs/PLATFORMS.md) of the markets in a
 * truth: one object per deployed market, with this chain's id, the
 * contracts' addresses and start blocks.  *out is a JSON object: file name
 * ("gpumarket-sim.json", ...) -> definition.  GL_EINVAL when the truth lacks
 * a contract, GL_ENOMEM. */
gl_code gl_sim_platform_defs(const json_t *truth, json_t **out /* OUT */, gl_err *err);

/* Write gl_sim_platform_defs() into directory `dir` (created if missing),
 * one file per market.  GL_EIO naming the file that failed. */
gl_code gl_sim_platforms_write(const json_t *truth, const char *dir, gl_err *err);

/* Find a fixtures directory `rel` (e.g. "fixtures/contracts/build"):
 * $GPULEDGER_ROOT/rel, else ../../rel relative to the directory of the
 * running binary (`exe`, e.g. "/proc/self/exe" or argv[0]; may be NULL),
 * else ./rel.  The first that holds `probe` (a file name) is written into
 * buf.  GL_EIO naming every path tried when none does, GL_ERANGE when buf
 * is too small. */
gl_code gl_sim_find_dir(char *buf, size_t cap, const char *rel, const char *probe, const char *exe,
                        gl_err *err);

#endif
