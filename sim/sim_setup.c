/* sim_setup.c - what exists before the first block: contract artifacts and
 * the functions the simulator calls, the GPU catalogue, and every actor of
 * the scenario with its wallets, time zone, funding and plan; the first
 * tasks (deployment, offers, day planners) are queued here.
 *
 * Actors are created in a fixed order from one seeded generator, so a seed
 * gives the same actors, keys and plans on every run.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpuledger/keccak.h"
#include "gpuledger/sim_world.h"

/* ------------------------------------------------------------------ */
/* Catalogue                                                            */

const sim_model gl_sim_models[] = {
    {"H100-SXM5-80GB", 2000000, 3200000, 6, true},
    {"H100-PCIe-80GB", 1800000, 2600000, 4, true},
    {"A100-80GB", 1200000, 1900000, 6, true},
    {"A100-40GB", 900000, 1400000, 5, true},
    {"L40S-48GB", 700000, 1100000, 5, false},
    {"RTX-4090", 300000, 600000, 8, false},
    {"RTX-3090", 180000, 300000, 5, false},
    {"H20-96GB", 1000000, 1500000, 2, true},
    {"A800-80GB", 1100000, 1600000, 1, true},
    {"B200-192GB", 4000000, 6000000, 1, true},
};
const unsigned gl_sim_nmodels = sizeof gl_sim_models / sizeof gl_sim_models[0];

/* The same GPUs as ComputeBazaar's hosts name them (bytes32 text, at most
 * 32 characters): another naming than GpuMarket's, as two real markets
 * would have. */
const char *const gl_sim_bazaar_models[] = {
    "H100-80GB-SXM", "H100-80GB-PCIE", "A100-80GB", "A100-40GB", "L40S", "RTX4090", "RTX3090", "H20-96GB",
    "A800-80GB", "B200",
};

static const char *const regions[] = {"us-east", "us-west", "eu-central", "eu-north", "ap-southeast", "ap-east",
                                      "sa-east"};

/* ------------------------------------------------------------------ */
/* Names                                                                */

const char *gl_sims_contract_name(sim_contract c)
{
    switch (c) {
    case CT_USDC: return "usdc";
    case CT_GLM: return "glm";
    case CT_SWAN: return "swan_token";
    case CT_GPUMARKET: return "gpumarket";
    case CT_LIVEPEER: return "livepeer_ticket_broker";
    case CT_GOLEM_BATCH: return "golem_batch_payer";
    case CT_GOLEM_LOCK: return "golem_lock_payment";
    case CT_SPHERON_ORDER: return "spheron_order_request";
    case CT_SPHERON_LEASE: return "spheron_compute_lease";
    case CT_SWAN_TASKS: return "swan_task_manager";
    case CT_FLUENCE_IMPL: return "fluence_deal_implementation";
    case CT_FLUENCE_FACTORY: return "fluence_deal_factory";
    case CT_BRIDGE: return "bridge";
    case CT_USDT: return "usdt";
    case CT_BAZAAR: return "bazaar";
    case CT_N: break;
    }
    return "unknown";
}

static const char *artifact_name(sim_contract c)
{
    switch (c) {
    case CT_USDC: return "MockStablecoin";
    case CT_GLM: return "GlmToken";
    case CT_SWAN: return "SwanToken";
    case CT_GPUMARKET: return "GpuMarket";
    case CT_LIVEPEER: return "LivepeerTicketBroker";
    case CT_GOLEM_BATCH: return "GolemBatchPayer";
    case CT_GOLEM_LOCK: return "GolemLockPayment";
    case CT_SPHERON_ORDER: return "SpheronOrderRequest";
    case CT_SPHERON_LEASE: return "SpheronComputeLease";
    case CT_SWAN_TASKS: return "SwanTaskManager";
    case CT_FLUENCE_IMPL: return "FluenceDeal";
    case CT_FLUENCE_FACTORY: return "FluenceDealFactory";
    case CT_BRIDGE: return "SimBridge";
    case CT_USDT: return "MockTether";
    case CT_BAZAAR: return "ComputeBazaar";
    case CT_N: break;
    }
    return "unknown";
}

const char *gl_sims_kind_name(sim_ekind k)
{
    switch (k) {
    case EK_OPERATOR: return "operator";
    case EK_TOKEN: return "token";
    case EK_PLATFORM: return "platform";
    case EK_EXCHANGE: return "exchange";
    case EK_BRIDGE: return "bridge";
    case EK_HUB: return "hub";
    case EK_PROVIDER: return "provider";
    case EK_BUYER: return "buyer";
    case EK_INTERMEDIARY: return "intermediary";
    case EK_AIRDROPPER: return "airdropper";
    case EK_INDIVIDUAL: return "individual";
    case EK_N: break;
    }
    return "unknown";
}

const char *gl_sims_role_name(sim_role r)
{
    switch (r) {
    case RO_OPERATOR: return "operator";
    case RO_TOKEN_CONTRACT: return "token_contract";
    case RO_MARKET_CONTRACT: return "market_contract";
    case RO_FLUENCE_DEAL: return "fluence_deal";
    case RO_SWAN_CP_ACCOUNT: return "swan_cp_account";
    case RO_HOT_WALLET: return "hot_wallet";
    case RO_DEPOSIT_ADDRESS: return "deposit_address";
    case RO_BRIDGE_CONTRACT: return "bridge_contract";
    case RO_BRIDGE_RELAYER: return "bridge_relayer";
    case RO_HUB_CONTRACT: return "hub_contract";
    case RO_PROVIDER_WALLET: return "provider_wallet";
    case RO_BUYER_WALLET: return "buyer_wallet";
    case RO_PROXY_WALLET: return "proxy_wallet";
    case RO_AIRDROP_WALLET: return "airdrop_wallet";
    case RO_PERSONAL_WALLET: return "personal_wallet";
    case RO_COLLECTOR_WALLET: return "collector_wallet";
    case RO_N: break;
    }
    return "unknown";
}

const char *gl_sims_typology_name(sim_typology t)
{
    switch (t) {
    case TY_NONE: return "none";
    case TY_SPONSOR_FANOUT: return "sponsor_fanout";
    case TY_PASS_THROUGH: return "pass_through";
    case TY_REIMBURSED: return "reimbursed";
    case TY_LEASE_FOR: return "lease_for";
    case TY_LIVEPEER_THIRD_PARTY: return "livepeer_third_party";
    case TY_GOLEM_DEPOSIT: return "golem_deposit";
    case TY_SPLIT_ORDER: return "split_order";
    case TY_N: break;
    }
    return "unknown";
}

const char *gl_sims_asset_name(sim_asset a)
{
    switch (a) {
    case AS_ETH: return "ETH";
    case AS_USDC: return "USDC";
    case AS_GLM: return "GLM";
    case AS_SWAN: return "SWAN";
    case AS_USDT: return "USDT";
    case AS_N: break;
    }
    return "unknown";
}

unsigned gl_sims_asset_decimals(sim_asset a)
{
    switch (a) {
    case AS_ETH:
    case AS_GLM:
    case AS_SWAN: return 18;
    case AS_USDC:
    case AS_USDT: return 6; /* fixtures/contracts/MockStablecoin.sol, both */
    case AS_N: break;
    }
    return 0;
}

sim_amt gl_sims_asset_one(sim_asset a)
{
    sim_amt one = 1;
    for (unsigned i = gl_sims_asset_decimals(a); i > 0; i--)
        one *= 10;
    return one;
}

const char *gl_sims_paykind_name(sim_paykind k)
{
    switch (k) {
    case PK_LEASE: return "lease";
    case PK_EXTENSION: return "extension";
    case PK_TICKET: return "ticket";
    case PK_BATCH: return "batch_transfer";
    case PK_DEPOSIT_PAY: return "deposit_transfer";
    case PK_SPH_LEASE: return "lease";
    case PK_TASK: return "task";
    case PK_DEAL_DEPOSIT: return "deal_deposit";
    case PK_RENTAL: return "rental";
    case PK_N: break;
    }
    return "unknown";
}

/* ------------------------------------------------------------------ */
/* Artifacts and signatures                                             */

typedef struct fn_def {
    const char *decl;     /* human-readable declaration */
    sim_contract where;   /* artifact whose ABI must declare it (CT_N: SimHub) */
} fn_def;

static const fn_def fn_defs[FN_N] = {
    [FN_APPROVE] = {"function approve(address spender, uint256 value)", CT_USDC},
    [FN_TRANSFER] = {"function transfer(address to, uint256 value)", CT_USDC},
    [FN_MINT] = {"function mint(address to, uint256 value)", CT_USDC},
    [FN_REGISTER_OFFER] = {"function registerOffer(string gpuModel, uint32 gpuCount, uint256 pricePerGpuHour, "
                           "string region, address token)", CT_GPUMARKET},
    [FN_UPDATE_OFFER] = {"function updateOffer(uint256 offerId, uint32 gpuCount, uint256 pricePerGpuHour)",
                         CT_GPUMARKET},
    [FN_LEASE] = {"function lease(uint256 offerId, uint32 gpus, uint32 numHours)", CT_GPUMARKET},
    [FN_LEASE_FOR] = {"function leaseFor(address beneficiary, uint256 offerId, uint32 gpus, uint32 numHours)",
                      CT_GPUMARKET},
    [FN_EXTEND_LEASE] = {"function extendLease(uint256 leaseId, uint32 addedHours)", CT_GPUMARKET},
    [FN_END_LEASE] = {"function endLease(uint256 leaseId)", CT_GPUMARKET},
    [FN_WITHDRAW] = {"function withdraw(address token)", CT_GPUMARKET},
    [FN_LP_FUND] = {"function fundDepositAndReserve(uint256 depositAmount, uint256 reserveAmount)", CT_LIVEPEER},
    [FN_LP_FUND_FOR] = {"function fundDepositAndReserveFor(address sender, uint256 depositAmount, "
                        "uint256 reserveAmount)", CT_LIVEPEER},
    [FN_LP_REDEEM] = {"function redeemWinningTicket((address recipient, address sender, uint256 faceValue, "
                      "uint256 winProb, uint256 senderNonce, bytes32 recipientRandHash, bytes auxData) ticket, "
                      "bytes sig, uint256 recipientRand)", CT_LIVEPEER},
    [FN_GOLEM_INDIRECT] = {"function golemTransferIndirect(address[] recipients, uint256[] amounts)",
                           CT_GOLEM_BATCH},
    [FN_GOLEM_CREATE_DEPOSIT] = {"function createDeposit(uint64 nonce, address spender, uint128 amount, "
                                 "uint128 flatFeeAmount, uint64 validToTimestamp)", CT_GOLEM_LOCK},
    [FN_GOLEM_DEPOSIT_TRANSFER] = {"function depositTransfer(uint256 id, bytes32[] payments)", CT_GOLEM_LOCK},
    [FN_GOLEM_CLOSE_DEPOSIT] = {"function closeDeposit(uint256 id)", CT_GOLEM_LOCK},
    [FN_SPH_SET_LEASE] = {"function setComputeLease(address lease)", CT_SPHERON_ORDER},
    [FN_SPH_CREATE_ORDER] = {"function createOrder(uint256 maxPrice, uint64 numOfBlocks, address token, "
                             "string specs, uint8 mode)", CT_SPHERON_ORDER},
    [FN_SPH_MATCH_ORDER] = {"function matchOrder(uint64 orderId, uint256 acceptedPrice, uint256 fizzId)",
                            CT_SPHERON_ORDER},
    [FN_SPH_CLOSE_LEASE] = {"function closeLease(uint256 leaseId)", CT_SPHERON_LEASE},
    [FN_SWAN_ASSIGN] = {"function assignTask(string taskUid, address[] cpAccountList, address user, "
                        "uint256 reward, uint256 duration)", CT_SWAN_TASKS},
    [FN_SWAN_RELEASE] = {"function releaseReward(string taskUid)", CT_SWAN_TASKS},
    [FN_FL_DEPLOY_DEAL] = {"function deployDeal(address paymentToken, address provider, uint256 pricePerEpoch)",
                           CT_FLUENCE_FACTORY},
    [FN_FL_DEPOSIT] = {"function deposit(uint256 amount)", CT_FLUENCE_IMPL},
    [FN_FL_PAY_PROVIDER] = {"function payProvider()", CT_FLUENCE_IMPL},
    [FN_BRIDGE_RELEASE] = {"function release(bytes32 depositId, address token, address recipient, uint256 amount)",
                           CT_BRIDGE},
    [FN_HUB_FORWARD] = {"function forward(address to)", CT_N},
    [FN_HUB_PAY] = {"function pay(address token, address to, uint256 amount)", CT_N},
    [FN_HUB_MULTI] = {"function multiTransfer(address token, address[] recipients, uint256[] amounts)", CT_N},
    [FN_BZ_LIST] = {"function listCapacity(bytes32 gpu, uint16 units, uint256 ratePerUnitHour)", CT_BAZAAR},
    [FN_BZ_RENT] = {"function rent(bytes32 listingId, uint16 units, uint32 rentMinutes)", CT_BAZAAR},
    [FN_BZ_RENT_FOR] = {"function rentFor(address renter, bytes32 listingId, uint16 units, uint32 rentMinutes)",
                        CT_BAZAAR},
};

static const char *const ev_canon[EV_N] = {
    [EV_TRANSFER] = "Transfer(address,address,uint256)",
    [EV_OFFER_REGISTERED] = "OfferRegistered(uint256,address,string,uint32,uint256,string,address)",
    [EV_LEASE_OPENED] = "LeaseOpened(uint256,address,address,address,uint256,string,uint32,uint32,uint256,address)",
    [EV_LEASE_EXTENDED] = "LeaseExtended(uint256,address,address,address,uint32,uint32,uint256,address)",
    [EV_LEASE_ENDED] = "LeaseEnded(uint256,address,address,uint32,uint256,uint256,address)",
    [EV_GM_WITHDRAWAL] = "Withdrawal(address,address,uint256)",
    [EV_WINNING_TICKET_TRANSFER] = "WinningTicketTransfer(address,address,uint256)",
    [EV_DEPOSIT_TRANSFER] = "DepositTransfer(uint256,address,address,uint128)",
    [EV_ORDER_CREATED] = "OrderCreated(uint64,address,uint256,uint64,address,string,uint16,uint8)",
    [EV_SPH_LEASE_CREATED] = "LeaseCreated(uint256,uint256,uint64,uint256,address,address,uint32,uint32,uint32,uint8)",
    [EV_TASK_CREATED] = "TaskCreated(string,address[],address,uint256,uint256)",
    /* one signature split over two lines (parenthesised: clang would take it for a missing comma) */
    [EV_DEAL_CREATED] = ("DealCreated(address,address,uint256,address,uint256,uint256,uint256,uint256,"
                         "(bytes4,bytes32)[],(bytes4,bytes32),uint8,address[],uint256)"),
    [EV_DEPOSITED] = "Deposited(uint256)",
    [EV_PROVIDER_PAID] = "ProviderPaid(address,uint256)",
    [EV_CAPACITY_LISTED] = "CapacityListed(bytes32,address,bytes32,uint16,uint256)",
    [EV_RENTED] = "Rented(bytes32,address,address,address,bytes32,uint16,uint32,uint256)",
};

/* Read build/NAME.json under dir: the init code into `code` and, if `abi`
 * is non-NULL, the ABI (a new reference). */
static gl_code load_artifact(const char *dir, const char *name, gl_buf *code, json_t **abi, gl_err *err)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/%s.json", dir, name);
    json_error_t jerr;
    json_t *art = json_load_file(path, 0, &jerr);
    if (!art)
        return gl_err_set(err, GL_EIO, "cannot read contract artifact %s: %s", path, jerr.text);
    const char *bc = json_string_value(json_object_get(art, "bytecode"));
    gl_code rc = GL_OK;
    if (!bc || gl_hex_decode_buf(bc, code, NULL) != GL_OK || code->len == 0)
        rc = gl_err_set(err, GL_EIO, "contract artifact %s has no usable \"bytecode\"", path);
    if (!rc && abi) {
        *abi = json_incref(json_object_get(art, "abi"));
        if (!json_is_array(*abi)) {
            json_decref(*abi);
            *abi = NULL;
            rc = gl_err_set(err, GL_EIO, "contract artifact %s has no \"abi\" array", path);
        }
    }
    json_decref(art);
    return rc;
}

gl_code gl_sims_load(sim_world *w, gl_err *err)
{
    json_t *abis[CT_N + 1] = {0};
    gl_code rc = GL_OK;
    for (int c = 0; !rc && c < CT_N; c++) {
        const char *dir = c == CT_BRIDGE ? w->opts->sim_contracts_dir : w->opts->contracts_dir;
        rc = load_artifact(dir, artifact_name((sim_contract)c), &w->code[c], &abis[c], err);
    }
    if (!rc)
        rc = load_artifact(w->opts->sim_contracts_dir, "SimHub", &w->hub_code, &abis[CT_N], err);
    if (!rc)
        rc = load_artifact(w->opts->contracts_dir, "SwanCpAccount", &w->cp_code, NULL, err);
    for (int f = 0; !rc && f < FN_N; f++) {
        rc = gl_abi_sig_parse(&w->fn[f], fn_defs[f].decl, err);
        if (rc) {
            gl_err_prefix(err, "simulator signature '%s': ", fn_defs[f].decl);
            break;
        }
        /* The artifact must declare the same function: catches a typo here
         * and a contract changed under us. */
        gl_abi_sig found;
        gl_err ferr;
        if (gl_abi_sig_find(&found, abis[fn_defs[f].where], "function", w->fn[f].name, &ferr) != GL_OK) {
            rc = gl_err_set(err, GL_EIO, "contract artifact %s: %s", fn_defs[f].where == CT_N ? "SimHub" :
                            artifact_name(fn_defs[f].where), ferr.msg);
        } else {
            if (strcmp(found.canonical, w->fn[f].canonical))
                rc = gl_err_set(err, GL_EIO, "contract artifact %s declares %s, the simulator calls %s",
                                fn_defs[f].where == CT_N ? "SimHub" : artifact_name(fn_defs[f].where),
                                found.canonical, w->fn[f].canonical);
            gl_abi_sig_release(&found);
        }
    }
    for (int e = 0; e < EV_N; e++)
        gl_keccak256(ev_canon[e], strlen(ev_canon[e]), w->ev[e]);
    for (int c = 0; c <= CT_N; c++)
        json_decref(abis[c]);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Actors                                                               */

#define FUND(tok, eth) ((uint8_t)((tok) | (eth) << 4))

static int pick_tz(sim_world *w)
{
    unsigned weights[GL_SIM_MAX_TZ];
    for (size_t i = 0; i < w->sc->ntz; i++)
        weights[i] = w->sc->tz[i].weight;
    unsigned k = gl_sim_rng_weighted(&w->rng, weights, (unsigned)w->sc->ntz);
    return k < w->sc->ntz ? w->sc->tz[k].offset : 0;
}

static uint32_t pick_exchange(sim_world *w)
{
    return w->exchanges.n ? (uint32_t)gl_sim_rng_below(&w->rng, w->exchanges.n) : SIM_NONE;
}

static bool push_u32(sim_u32_vec *v, uint32_t x)
{
    if (v->n == v->cap) {
        size_t ncap = v->cap ? v->cap * 2 : 16;
        uint32_t *nv = realloc(v->v, ncap * sizeof *nv);
        if (!nv)
            return false;
        v->v = nv;
        v->cap = ncap;
    }
    v->v[v->n++] = x;
    return true;
}

#define PUSH_ITEM(vec, item)                                                         \
    do {                                                                             \
        if ((vec).n == (vec).cap) {                                                  \
            size_t ncap_ = (vec).cap ? (vec).cap * 2 : 16;                            \
            void *nv_ = realloc((vec).v, ncap_ * sizeof *(vec).v);                   \
            if (!nv_)                                                                \
                return gl_err_set(err, GL_ENOMEM, "out of memory creating actors");  \
            (vec).v = nv_;                                                           \
            (vec).cap = ncap_;                                                       \
        }                                                                            \
        (vec).v[(vec).n++] = (item);                                                 \
    } while (0)

#define CHECK_IDX(x)                                           \
    do {                                                       \
        if ((x) == SIM_NONE)                                   \
            return err && err->code ? err->code : GL_ENOMEM;   \
    } while (0)

/* A wallet with its funding policy. */
static uint32_t wallet(sim_world *w, uint32_t ent, sim_role role, sim_funding tok, sim_funding eth, uint32_t src,
                       gl_err *err)
{
    uint32_t a = gl_simw_wallet(w, ent, role, err);
    if (a != SIM_NONE) {
        w->addrs.v[a].funding = FUND(tok, eth);
        w->addrs.v[a].fund_src = src;
    }
    return a;
}

static uint64_t usd_price(sim_world *w, unsigned model)
{
    const sim_model *m = &gl_sim_models[model];
    return gl_sim_rng_range(&w->rng, m->usd_lo / 10000, m->usd_hi / 10000) * 10000;
}

static unsigned pick_model(sim_world *w, bool controlled_only)
{
    unsigned weights[16];
    for (unsigned i = 0; i < gl_sim_nmodels; i++)
        weights[i] = controlled_only && !gl_sim_models[i].controlled ? 0 : gl_sim_models[i].weight;
    return gl_sim_rng_weighted(&w->rng, weights, gl_sim_nmodels);
}

static uint16_t pick_count(sim_world *w, unsigned model)
{
    static const uint16_t big[] = {8, 16, 32, 64}, small[] = {1, 2, 4, 8};
    const uint16_t *t = gl_sim_models[model].controlled ? big : small;
    return t[gl_sim_rng_below(&w->rng, 4)];
}

/* An offer's price per GPU-hour in its asset: USDC units, or wei at 3000
 * USD per ETH rounded to the gwei. */
static sim_amt offer_price(uint8_t asset, uint64_t usd)
{
    return asset == AS_ETH ? (sim_amt)usd * 333333333u / 1000000000u * 1000000000u : (sim_amt)usd;
}

/* One GpuMarket offer for a provider wallet; registered at `when`. */
static gl_code add_offer(sim_world *w, uint32_t prov, uint32_t wal, unsigned slot, uint32_t upstream, uint64_t when,
                         gl_err *err)
{
    sim_provider *p = &w->provs.v[prov];
    sim_offer o;
    memset(&o, 0, sizeof o);
    o.provider = prov;
    o.wallet = wal;
    o.upstream = upstream;
    if (upstream != SIM_NONE) {
        const sim_offer *u = &w->offers.v[upstream];
        o.model = u->model;
        o.asset = u->asset;
        o.count = u->count > 1 ? (uint32_t)gl_sim_rng_range(&w->rng, (u->count + 1) / 2, u->count) : 1;
        o.price = u->price * gl_sim_rng_range(&w->rng, 115, 135) / 100;
    } else {
        o.model = p->models[slot % p->nmodels];
        o.count = p->counts[slot % p->nmodels];
        uint64_t usd = p->usd[slot % p->nmodels];
        o.asset = gl_sim_rng_chance(&w->rng, w->sc->providers.native_offer_share) ? AS_ETH : AS_USDC;
        o.price = offer_price(o.asset, usd);
    }
    PUSH_ITEM(w->offers, o);
    sim_task t;
    memset(&t, 0, sizeof t);
    t.kind = TK_OFFER_REGISTER;
    t.a = (uint32_t)(w->offers.n - 1);
    t.time = when;
    return gl_simw_push(w, &t, err);
}

static gl_code make_provider(sim_world *w, uint32_t ent, uint8_t platforms, uint32_t resells, unsigned nwallets,
                             uint32_t *out, gl_err *err)
{
    sim_provider p;
    memset(&p, 0, sizeof p);
    p.entity = ent;
    p.platforms = platforms;
    p.resells = resells;
    p.self_wallet = p.ring_buyer = p.ring_next = p.collector = SIM_NONE;
    p.region = (uint8_t)gl_sim_rng_below(&w->rng, sizeof regions / sizeof regions[0]);
    if (resells != SIM_NONE) {
        const sim_provider *u = &w->provs.v[resells];
        p.nmodels = u->nmodels;
        memcpy(p.models, u->models, sizeof p.models);
        memcpy(p.counts, u->counts, sizeof p.counts);
        memcpy(p.usd, u->usd, sizeof p.usd);
    } else {
        p.nmodels = 1 + (unsigned)gl_sim_rng_below(&w->rng, 3);
        for (unsigned i = 0; i < p.nmodels; i++) {
            unsigned m;
            bool dup;
            do {
                m = pick_model(w, false);
                dup = false;
                for (unsigned k = 0; k < i; k++)
                    dup |= p.models[k] == m;
            } while (dup);
            p.models[i] = (uint8_t)m;
            p.counts[i] = pick_count(w, m);
            p.usd[i] = usd_price(w, m);
        }
    }
    /* the bazaar's rates: to the micro-dollar, 85-125 % of the catalogue's
     * range (GpuMarket's are whole cents of its range) */
    if (platforms & (1u << GL_SIM_BAZAAR))
        for (unsigned i = 0; i < p.nmodels; i++) {
            const sim_model *m = &gl_sim_models[p.models[i]];
            p.bz_rate[i] = (uint32_t)gl_sim_rng_range(&w->rng, m->usd_lo * 85 / 100, m->usd_hi * 125 / 100);
        }
    for (unsigned i = 0; i < nwallets && i < 8; i++) {
        p.wallets[i] = wallet(w, ent, RO_PROVIDER_WALLET, FP_EXCHANGE, FP_EXCHANGE, SIM_NONE, err);
        CHECK_IDX(p.wallets[i]);
        p.nwallets++;
    }
    PUSH_ITEM(w->provs, p);
    uint32_t idx = (uint32_t)(w->provs.n - 1);
    w->ents.v[ent].ext = idx;
    w->ents.v[ent].plan = PL_PROVIDER;
    for (int pl = 0; pl < GL_SIM_NPLATFORMS; pl++)
        if (platforms & (1u << pl))
            if (!push_u32(&w->plat_provs[pl], idx))
                return gl_err_set(err, GL_ENOMEM, "out of memory creating providers");
    *out = idx;
    return GL_OK;
}

/* GpuMarket offers and Swan CP accounts of a provider. */
static gl_code provider_onboarding(sim_world *w, uint32_t idx, gl_err *err)
{
    sim_provider *p = &w->provs.v[idx];
    gl_code rc = GL_OK;
    if (p->platforms & (1u << GL_SIM_GPUMARKET)) {
        unsigned per = w->sc->providers.offers_per_wallet ? w->sc->providers.offers_per_wallet : 1;
        if (p->resells != SIM_NONE) {
            /* resell the upstream's offers (those of its first wallet) */
            unsigned made = 0;
            for (size_t o = 0; !rc && o < w->offers.n && made < per; o++) {
                if (w->offers.v[o].provider != p->resells || w->offers.v[o].upstream != SIM_NONE)
                    continue;
                rc = add_offer(w, idx, w->provs.v[idx].wallets[made % w->provs.v[idx].nwallets], 0, (uint32_t)o,
                               w->setup_time + 4 * 3600 + gl_sim_rng_below(&w->rng, 3600), err);
                made++;
            }
        } else {
            for (unsigned wi = 0; !rc && wi < w->provs.v[idx].nwallets; wi++)
                for (unsigned k = 0; !rc && k < per; k++)
                    rc = add_offer(w, idx, w->provs.v[idx].wallets[wi], wi + k, SIM_NONE,
                                   w->setup_time + 3600 + gl_sim_rng_below(&w->rng, 2 * 3600), err);
        }
    }
    p = &w->provs.v[idx];
    if (!rc && (p->platforms & (1u << GL_SIM_BAZAAR))) {
        /* one listing per model, spread over its wallets; a sweeping host
         * lists on every wallet (models taken in turn), so that each one
         * earns and sweeps */
        unsigned nl = p->claim == PC_SWEEPING && p->nwallets > p->nmodels ? p->nwallets : p->nmodels;
        for (unsigned k = 0; !rc && k < nl; k++) {
            sim_listing l;
            memset(&l, 0, sizeof l);
            l.provider = idx;
            l.wallet = p->wallets[k % p->nwallets];
            l.model = p->models[k % p->nmodels];
            l.units = p->counts[k % p->nmodels];
            l.rate = p->bz_rate[k % p->nmodels];
            PUSH_ITEM(w->listings, l);
            sim_task t;
            memset(&t, 0, sizeof t);
            t.kind = TK_BZ_LIST;
            t.a = (uint32_t)(w->listings.n - 1);
            t.time = w->setup_time + 2 * 3600 + gl_sim_rng_below(&w->rng, 2 * 3600);
            rc = gl_simw_push(w, &t, err);
            p = &w->provs.v[idx];
        }
    }
    if (!rc && (p->platforms & (1u << GL_SIM_SWAN))) {
        p->ncp = 1 + (unsigned)gl_sim_rng_below(&w->rng, 2);
        for (unsigned k = 0; !rc && k < p->ncp; k++) {
            p->cp[k] = SIM_NONE;
            sim_task t;
            memset(&t, 0, sizeof t);
            t.kind = TK_CP_DEPLOY;
            t.a = idx;
            t.b = k;
            t.time = w->setup_time + 1800 + gl_sim_rng_below(&w->rng, 3600);
            rc = gl_simw_push(w, &t, err);
        }
    }
    return rc;
}

static uint8_t pick_platforms(sim_world *w, const unsigned *weights, unsigned extra_pct)
{
    unsigned wts[GL_SIM_NPLATFORMS];
    for (int i = 0; i < GL_SIM_NPLATFORMS; i++)
        wts[i] = w->sc->platform[i] ? weights[i] : 0;
    unsigned a = gl_sim_rng_weighted(&w->rng, wts, GL_SIM_NPLATFORMS);
    uint8_t m = a < GL_SIM_NPLATFORMS ? (uint8_t)(1u << a) : 0;
    if (gl_sim_rng_below(&w->rng, 100) < extra_pct) {
        unsigned b = gl_sim_rng_weighted(&w->rng, wts, GL_SIM_NPLATFORMS);
        if (b < GL_SIM_NPLATFORMS)
            m |= (uint8_t)(1u << b);
    }
    return m;
}

static gl_code make_providers(sim_world *w, gl_err *err)
{
    const gl_sim_scenario *sc = w->sc;
    unsigned nplain = sc->providers.count - sc->providers.resellers;
    /* the first providers cover every enabled platform with a weight */
    unsigned cover[GL_SIM_NPLATFORMS], ncover = 0;
    for (int i = 0; i < GL_SIM_NPLATFORMS; i++)
        if (sc->platform[i] && sc->providers.platform_weight[i])
            cover[ncover++] = (unsigned)i;
    for (unsigned i = 0; i < sc->providers.count; i++) {
        bool reseller = i >= nplain;
        uint32_t ent = gl_simw_entity(w, EK_PROVIDER, pick_tz(w), err, "provider-%03u", i + 1);
        CHECK_IDX(ent);
        w->ents.v[ent].exchange = pick_exchange(w);
        uint8_t plats;
        uint32_t upstream = SIM_NONE;
        if (reseller) {
            plats = 1u << GL_SIM_GPUMARKET;
            /* resell a plain provider that sells on GpuMarket */
            sim_u32_vec *gm = &w->plat_provs[GL_SIM_GPUMARKET];
            for (size_t tries = 0; tries < 64 && upstream == SIM_NONE && gm->n; tries++) {
                uint32_t c = gm->v[gl_sim_rng_below(&w->rng, gm->n)];
                if (w->provs.v[c].resells == SIM_NONE)
                    upstream = c;
            }
            if (upstream == SIM_NONE)
                return gl_err_set(err, GL_EINVAL, "providers.resellers: no GpuMarket provider to resell");
        } else {
            plats = i < ncover ? (uint8_t)(1u << cover[i]) : pick_platforms(w, sc->providers.platform_weight, 25);
        }
        unsigned nw = 1;
        if (!reseller && gl_sim_rng_chance(&w->rng, sc->providers.multi_wallet_share) && sc->providers.max_wallets > 1)
            nw = (unsigned)gl_sim_rng_range(&w->rng, 2, sc->providers.max_wallets);
        uint32_t idx;
        gl_code rc = make_provider(w, ent, plats, upstream, nw, &idx, err);
        if (!rc)
            rc = provider_onboarding(w, idx, err);
        if (rc)
            return rc;
    }
    return GL_OK;
}

/* Plain providers serving GpuMarket (not resellers), for self-dealing. */
static gl_code make_self_dealers(sim_world *w, gl_err *err)
{
    unsigned made = 0;
    for (size_t i = 0; i < w->provs.n && made < w->sc->self_dealing.count; i++) {
        sim_provider *p = &w->provs.v[i];
        if (!(p->platforms & (1u << GL_SIM_GPUMARKET)) || p->resells != SIM_NONE || p->ring_next != SIM_NONE)
            continue;
        uint32_t src = p->wallets[0];
        uint32_t sw = wallet(w, p->entity, RO_BUYER_WALLET, FP_WALLET, FP_WALLET, src, err);
        CHECK_IDX(sw);
        w->provs.v[i].self_wallet = sw;
        made++;
    }
    if (made < w->sc->self_dealing.count)
        return gl_err_set(err, GL_EINVAL, "self_dealing.count: only %u GpuMarket providers to choose from", made);
    return GL_OK;
}

static gl_code make_rings(sim_world *w, gl_err *err)
{
    for (unsigned r = 0; r < w->sc->circular.rings; r++) {
        uint32_t first = (uint32_t)w->provs.n;
        unsigned k = w->sc->circular.size;
        for (unsigned m = 0; m < k; m++) {
            uint32_t ent = gl_simw_entity(w, EK_PROVIDER, pick_tz(w), err, "ring-%u-%u", r + 1, m + 1);
            CHECK_IDX(ent);
            w->ents.v[ent].exchange = pick_exchange(w);
            uint32_t idx;
            gl_code rc = make_provider(w, ent, 1u << GL_SIM_GPUMARKET, SIM_NONE, 1, &idx, err);
            if (rc)
                return rc;
            sim_provider *p = &w->provs.v[idx];
            p->nmodels = 1; /* one modest model, so rounds stay small */
            p->models[0] = 5; /* RTX-4090 */
            p->counts[0] = 4;
            p->usd[0] = usd_price(w, 5);
            p->ring_next = first + (m + 1) % k;
            uint32_t bw = wallet(w, ent, RO_BUYER_WALLET, FP_WALLET, FP_EXCHANGE, p->wallets[0], err);
            CHECK_IDX(bw);
            w->provs.v[idx].ring_buyer = bw;
            /* one USDC offer */
            rc = add_offer(w, idx, w->provs.v[idx].wallets[0], 0, SIM_NONE,
                           w->setup_time + 3600 + gl_sim_rng_below(&w->rng, 3600), err);
            if (rc)
                return rc;
            sim_offer *o = &w->offers.v[w->offers.n - 1]; /* rings trade in USDC */
            o->asset = AS_USDC;
            o->price = w->provs.v[idx].usd[0];
        }
    }
    return GL_OK;
}

/* -- provider claims (provider_claims in the scenario) --
 *
 * Made after every other actor, so that a scenario without the section
 * spends no draw on it.  Honest providers vary (cheap H100s, offers filled
 * to their count) so that the frauds are not the only unusual ones. */

/* Honest GpuMarket providers: some price their H100s at the bottom tenth
 * of the range, some get one offer filled to its count every day. */
static void mark_honest_cases(sim_world *w)
{
    const double cheap = w->sc->provider_claims.cheap_share, busy = w->sc->provider_claims.busy_share;
    if (cheap <= 0 && busy <= 0)
        return;
    for (size_t i = 0; i < w->provs.n; i++) {
        sim_provider *p = &w->provs.v[i];
        if (!(p->platforms & (1u << GL_SIM_GPUMARKET)) || p->resells != SIM_NONE || p->ring_next != SIM_NONE)
            continue;
        bool h100 = false;
        for (unsigned k = 0; k < p->nmodels; k++)
            h100 |= p->models[k] <= 1; /* H100-SXM5-80GB, H100-PCIe-80GB */
        if (h100 && cheap > 0 && gl_sim_rng_chance(&w->rng, cheap)) {
            p->claim = PC_CHEAP;
            for (unsigned k = 0; k < p->nmodels; k++) {
                if (p->models[k] > 1)
                    continue;
                const sim_model *m = &gl_sim_models[p->models[k]];
                uint64_t lo = m->usd_lo / 10000, hi = lo + (m->usd_hi - m->usd_lo) / 10000 / 10;
                p->usd[k] = gl_sim_rng_range(&w->rng, lo, hi) * 10000;
                for (size_t o = 0; o < w->offers.n; o++)
                    if (w->offers.v[o].provider == i && w->offers.v[o].model == p->models[k] &&
                        w->offers.v[o].upstream == SIM_NONE)
                        w->offers.v[o].price = offer_price(w->offers.v[o].asset, p->usd[k]);
            }
        } else if (busy > 0 && gl_sim_rng_chance(&w->rng, busy)) {
            p->claim = PC_BUSY;
        }
    }
}

/* One single-wallet provider with one USDC offer of `model` on GpuMarket,
 * or (GpuMarket off) one bazaar listing of `count` units. */
static gl_code claim_provider(sim_world *w, unsigned n, unsigned model, uint16_t count, uint64_t usd,
                              sim_claim claim, uint32_t *out, gl_err *err)
{
    uint32_t ent = gl_simw_entity(w, EK_PROVIDER, pick_tz(w), err, "provider-%03u", n);
    CHECK_IDX(ent);
    w->ents.v[ent].exchange = pick_exchange(w);
    bool bazaar = !w->sc->platform[GL_SIM_GPUMARKET];
    uint32_t idx;
    gl_code rc = make_provider(w, ent, 1u << (bazaar ? GL_SIM_BAZAAR : GL_SIM_GPUMARKET), SIM_NONE, 1, &idx, err);
    if (rc)
        return rc;
    sim_provider *p = &w->provs.v[idx];
    p->nmodels = 1;
    p->models[0] = (uint8_t)model;
    p->counts[0] = count;
    p->usd[0] = usd;
    p->claim = (uint8_t)claim;
    if (bazaar) {
        /* relabelled: `usd` per unit-hour, the price of the cheaper card it
         * is; oversold: a rate like anyone's, only its capacity is false */
        const sim_model *m = &gl_sim_models[model];
        if (claim == PC_RELABELLED)
            p->bz_rate[0] = (uint32_t)usd;
        else
            p->bz_rate[0] = (uint32_t)gl_sim_rng_range(&w->rng, m->usd_lo * 85 / 100, m->usd_hi * 125 / 100);
        *out = idx;
        return provider_onboarding(w, idx, err);
    }
    rc = add_offer(w, idx, p->wallets[0], 0, SIM_NONE, w->setup_time + 3600 + gl_sim_rng_below(&w->rng, 2 * 3600),
                   err);
    if (rc)
        return rc;
    sim_offer *o = &w->offers.v[w->offers.n - 1];
    o->asset = AS_USDC; /* one token, so the market's median for the model is the honest ones' */
    o->price = usd;
    *out = idx;
    return GL_OK;
}

/* Providers honest in price and capacity whose payout wallets (one offer
 * each, priced like anyone's; with GpuMarket off, one bazaar listing each)
 * send what they earn to one collector wallet of theirs, which only
 * receives. */
static gl_code make_sweepers(sim_world *w, unsigned *n, gl_err *err)
{
    gl_sim_platform pl = w->sc->platform[GL_SIM_GPUMARKET] ? GL_SIM_GPUMARKET : GL_SIM_BAZAAR;
    for (unsigned i = 0; i < w->sc->provider_claims.sweeping; i++) {
        uint32_t ent = gl_simw_entity(w, EK_PROVIDER, pick_tz(w), err, "provider-%03u", ++*n);
        CHECK_IDX(ent);
        w->ents.v[ent].exchange = pick_exchange(w);
        uint32_t idx;
        gl_code rc = make_provider(w, ent, (uint8_t)(1u << pl), SIM_NONE, w->sc->provider_claims.sweeping_wallets, &idx,
                                   err);
        if (rc)
            return rc;
        w->provs.v[idx].claim = PC_SWEEPING; /* before onboarding: a host lists on every wallet */
        rc = provider_onboarding(w, idx, err);
        if (rc)
            return rc;
        uint32_t c = wallet(w, ent, RO_COLLECTOR_WALLET, FP_NONE, FP_NONE, SIM_NONE, err);
        CHECK_IDX(c);
        w->provs.v[idx].collector = c;
    }
    return GL_OK;
}

static gl_code make_provider_claims(sim_world *w, gl_err *err)
{
    const gl_sim_scenario *sc = w->sc;
    mark_honest_cases(w);
    unsigned n = sc->providers.count;
    for (unsigned i = 0; i < sc->provider_claims.relabelled; i++) {
        /* an "H100-SXM5-80GB" at an A100's price: the card is not what it says */
        uint64_t lo = (uint64_t)(sc->provider_claims.relabelled_usd_min * 100 + 0.5),
                 hi = (uint64_t)(sc->provider_claims.relabelled_usd_max * 100 + 0.5);
        /* whole cents on GpuMarket, the micro-dollar on the bazaar, as the others */
        uint64_t usd = sc->platform[GL_SIM_GPUMARKET] ? gl_sim_rng_range(&w->rng, lo, hi) * 10000
                                                      : gl_sim_rng_range(&w->rng, lo * 10000, hi * 10000);
        uint32_t idx;
        gl_code rc = claim_provider(w, ++n, 0, pick_count(w, 0), usd, PC_RELABELLED, &idx, err);
        if (rc)
            return rc;
    }
    for (unsigned i = 0; i < sc->provider_claims.oversold; i++) {
        /* a small listing, priced like anyone's, sold several times over */
        static const uint16_t counts[] = {2, 4, 8};
        unsigned model = pick_model(w, false);
        uint16_t count = counts[gl_sim_rng_below(&w->rng, 3)];
        uint32_t idx;
        gl_code rc = claim_provider(w, ++n, model, count, usd_price(w, model), PC_OVERSOLD, &idx, err);
        if (rc)
            return rc;
        uint64_t lo = (uint64_t)(sc->provider_claims.oversold_min_factor * 1000),
                 hi = (uint64_t)(sc->provider_claims.oversold_max_factor * 1000);
        uint64_t f = gl_sim_rng_range(&w->rng, lo, hi);
        uint32_t burst = (uint32_t)((count * f + 999) / 1000);
        w->provs.v[idx].burst = burst > count ? burst : count + 1u;
    }
    return make_sweepers(w, &n, err);
}

static sim_funding buyer_funding(sim_world *w)
{
    return w->sc->bridge.enabled && gl_sim_rng_chance(&w->rng, w->sc->bridge.buyer_share) ? FP_BRIDGE : FP_EXCHANGE;
}

static gl_code make_buyers(sim_world *w, gl_err *err)
{
    /* the first buyers cover every enabled platform with a weight */
    unsigned cover[GL_SIM_NPLATFORMS], ncover = 0;
    for (int i = 0; i < GL_SIM_NPLATFORMS; i++)
        if (w->sc->platform[i] && w->sc->buyers.platform_weight[i] && w->plat_provs[i].n)
            cover[ncover++] = (unsigned)i;
    for (unsigned i = 0; i < w->sc->buyers.count; i++) {
        uint32_t ent = gl_simw_entity(w, EK_BUYER, pick_tz(w), err, "buyer-%04u", i + 1);
        CHECK_IDX(ent);
        sim_entity *e = &w->ents.v[ent];
        e->exchange = pick_exchange(w);
        e->plan = PL_BUYER;
        e->platforms = pick_platforms(w, w->sc->buyers.platform_weight, 30);
        if (i < ncover)
            e->platforms = (uint8_t)(1u << cover[i]);
        sim_funding f = buyer_funding(w);
        unsigned nw = gl_sim_rng_chance(&w->rng, w->sc->buyers.second_wallet_share) ? 2 : 1;
        for (unsigned k = 0; k < nw; k++)
            CHECK_IDX(wallet(w, ent, RO_BUYER_WALLET, f, f, SIM_NONE, err));
    }
    return GL_OK;
}

/* An entity with one funded main wallet. */
static uint32_t simple_entity(sim_world *w, sim_ekind kind, sim_plan plan, sim_role role, gl_err *err,
                              const char *id)
{
    uint32_t ent = gl_simw_entity(w, kind, pick_tz(w), err, "%s", id);
    if (ent == SIM_NONE)
        return SIM_NONE;
    w->ents.v[ent].exchange = pick_exchange(w);
    w->ents.v[ent].plan = (uint8_t)plan;
    if (wallet(w, ent, role, FP_EXCHANGE, FP_EXCHANGE, SIM_NONE, err) == SIM_NONE)
        return SIM_NONE;
    return ent;
}

static uint32_t proxy_wallet(sim_world *w, uint32_t ent, sim_typology ty, uint32_t beneficiary, sim_funding tok,
                             sim_funding eth, uint32_t src, gl_err *err)
{
    uint32_t a = wallet(w, ent, RO_PROXY_WALLET, tok, eth, src, err);
    if (a != SIM_NONE) {
        w->addrs.v[a].typology = (uint8_t)ty;
        w->addrs.v[a].beneficiary = beneficiary;
    }
    return a;
}

static gl_code make_typologies(sim_world *w, gl_err *err)
{
    const gl_sim_scenario *sc = w->sc;
    char id[48];
    for (unsigned i = 0; i < sc->sponsor_fanout.count; i++) {
        snprintf(id, sizeof id, "sponsor-%u", i + 1);
        uint32_t ent = simple_entity(w, EK_BUYER, PL_SPONSOR, RO_BUYER_WALLET, err, id);
        CHECK_IDX(ent);
        w->ents.v[ent].ext = i % sc->days;
        uint32_t main = w->ents.v[ent].main;
        for (unsigned k = 0; k < sc->sponsor_fanout.wallets; k++)
            CHECK_IDX(proxy_wallet(w, ent, TY_SPONSOR_FANOUT, ent, FP_WALLET, FP_WALLET, main, err));
    }
    for (unsigned i = 0; i < sc->split_order.count; i++) {
        snprintf(id, sizeof id, "splitter-%u", i + 1);
        uint32_t ent = simple_entity(w, EK_BUYER, PL_SPLITTER, RO_BUYER_WALLET, err, id);
        CHECK_IDX(ent);
        w->ents.v[ent].ext = (i + sc->days / 2) % sc->days;
        uint32_t main = w->ents.v[ent].main;
        for (unsigned k = 0; k < sc->split_order.wallets; k++)
            CHECK_IDX(proxy_wallet(w, ent, TY_SPLIT_ORDER, ent, FP_WALLET, FP_WALLET, main, err));
    }
    struct {
        unsigned count, clients;
        const char *svc, *cli;
        sim_plan plan;
        sim_typology ty;
    } per_client[] = {
        {sc->pass_through.count, sc->pass_through.clients, "passthrough", "ptclient", PL_PT_CLIENT, TY_PASS_THROUGH},
        {sc->reimbursed.count, sc->reimbursed.clients, "reimburser", "rbclient", PL_RB_CLIENT, TY_REIMBURSED},
        {sc->lease_for.count, sc->lease_for.clients, "leasefor", "lfclient", PL_LF_CLIENT, TY_LEASE_FOR},
    };
    for (size_t t = 0; t < sizeof per_client / sizeof per_client[0]; t++) {
        for (unsigned i = 0; i < per_client[t].count; i++) {
            uint32_t svc = gl_simw_entity(w, EK_INTERMEDIARY, pick_tz(w), err, "%s-%u", per_client[t].svc, i + 1);
            CHECK_IDX(svc);
            w->ents.v[svc].exchange = pick_exchange(w);
            for (unsigned c = 0; c < per_client[t].clients; c++) {
                snprintf(id, sizeof id, "%s-%u-%u", per_client[t].cli, i + 1, c + 1);
                uint32_t cli = simple_entity(w, EK_BUYER, per_client[t].plan, RO_BUYER_WALLET, err, id);
                CHECK_IDX(cli);
                uint32_t pw = proxy_wallet(w, svc, per_client[t].ty, cli, FP_EXCHANGE, FP_EXCHANGE, SIM_NONE, err);
                CHECK_IDX(pw);
                w->ents.v[cli].ext = pw;
            }
        }
    }
    for (unsigned i = 0; i < sc->livepeer_third_party.count; i++) {
        snprintf(id, sizeof id, "lpfunder-%u", i + 1);
        uint32_t f = simple_entity(w, EK_BUYER, PL_LP_FUNDER, RO_BUYER_WALLET, err, id);
        CHECK_IDX(f);
        uint32_t g = gl_simw_entity(w, EK_INTERMEDIARY, pick_tz(w), err, "gateway-%u", i + 1);
        CHECK_IDX(g);
        w->ents.v[g].exchange = pick_exchange(w);
        uint32_t gw = proxy_wallet(w, g, TY_LIVEPEER_THIRD_PARTY, f, FP_EXCHANGE, FP_EXCHANGE, w->ents.v[f].main, err);
        CHECK_IDX(gw);
        w->ents.v[f].ext = gw;
    }
    for (unsigned i = 0; i < sc->golem_deposit.count; i++) {
        snprintf(id, sizeof id, "golemfunder-%u", i + 1);
        uint32_t f = simple_entity(w, EK_BUYER, PL_GOLEM_FUNDER, RO_BUYER_WALLET, err, id);
        CHECK_IDX(f);
        uint32_t s = gl_simw_entity(w, EK_INTERMEDIARY, pick_tz(w), err, "golemservice-%u", i + 1);
        CHECK_IDX(s);
        w->ents.v[s].exchange = pick_exchange(w);
        uint32_t sw = proxy_wallet(w, s, TY_GOLEM_DEPOSIT, f, FP_NONE, FP_EXCHANGE, SIM_NONE, err);
        CHECK_IDX(sw);
        sim_gdeposit d;
        memset(&d, 0, sizeof d);
        d.nonce = gl_sim_rng_next(&w->rng) >> 16;
        d.funder = w->ents.v[f].main;
        d.spender = sw;
        d.valid_to = w->end_time + 30 * 86400;
        PUSH_ITEM(w->gdeps, d);
        w->ents.v[f].ext = (uint32_t)(w->gdeps.n - 1);
    }
    return GL_OK;
}

static gl_code make_noise(sim_world *w, gl_err *err)
{
    const gl_sim_scenario *sc = w->sc;
    static const int far_tz[] = {9, -10, 5, 12, -3, 10};
    unsigned total = sc->noise.wallets + sc->noise.timezone_entities;
    for (unsigned i = 0; i < total; i++) {
        bool tzp = i >= sc->noise.wallets;
        uint32_t ent = tzp ? gl_simw_entity(w, EK_INDIVIDUAL, far_tz[(i - sc->noise.wallets) % 6], err,
                                            "tzperson-%u", i - sc->noise.wallets + 1)
                           : gl_simw_entity(w, EK_INDIVIDUAL, pick_tz(w), err, "person-%04u", i + 1);
        CHECK_IDX(ent);
        w->ents.v[ent].exchange = pick_exchange(w);
        w->ents.v[ent].plan = PL_NOISE;
        sim_funding f = buyer_funding(w);
        uint32_t a = wallet(w, ent, RO_PERSONAL_WALLET, f, f, SIM_NONE, err);
        CHECK_IDX(a);
        if (!push_u32(&w->noise, a))
            return gl_err_set(err, GL_ENOMEM, "out of memory creating noise");
    }
    for (unsigned i = 0; i < sc->noise.hubs; i++) {
        uint32_t ent = gl_simw_entity(w, EK_HUB, 0, err, "hub-%u", i + 1);
        CHECK_IDX(ent);
        if (!push_u32(&w->hub_ents, ent) || !push_u32(&w->hubs, SIM_NONE) || !push_u32(&w->hub_blocks, 0))
            return gl_err_set(err, GL_ENOMEM, "out of memory creating hubs");
    }
    if (sc->noise.airdrop_recipients) {
        uint32_t ent = gl_simw_entity(w, EK_AIRDROPPER, pick_tz(w), err, "airdropper");
        CHECK_IDX(ent);
        w->ents.v[ent].plan = PL_AIRDROP;
        w->ents.v[ent].ext = sc->days / 2;
        w->airdropper = wallet(w, ent, RO_AIRDROP_WALLET, FP_TREASURY, FP_TREASURY, SIM_NONE, err);
        CHECK_IDX(w->airdropper);
        /* most recipients are new holders; some are people already here */
        for (unsigned i = 0; i < sc->noise.airdrop_recipients; i++) {
            uint32_t a;
            if (w->noise.n && gl_sim_rng_chance(&w->rng, 0.2)) {
                a = w->noise.v[gl_sim_rng_below(&w->rng, w->noise.n)];
            } else {
                uint32_t h = gl_simw_entity(w, EK_INDIVIDUAL, pick_tz(w), err, "holder-%05u", i + 1);
                CHECK_IDX(h);
                w->ents.v[h].exchange = pick_exchange(w);
                a = wallet(w, h, RO_PERSONAL_WALLET, FP_EXCHANGE, FP_EXCHANGE, SIM_NONE, err);
                CHECK_IDX(a);
            }
            if (!push_u32(&w->airdrop_to, a))
                return gl_err_set(err, GL_ENOMEM, "out of memory creating airdrop recipients");
        }
    }
    return GL_OK;
}

gl_code gl_sims_actors(sim_world *w, uint64_t operator_nonce, gl_err *err)
{
    const gl_sim_scenario *sc = w->sc;
    /* a prefix for Swan task uids, so that two seeds never share one */
    snprintf(w->uid_prefix, sizeof w->uid_prefix, "%08llx",
             (unsigned long long)(gl_sim_rng_next(&w->rng) & 0xffffffffULL));

    uint32_t op = gl_simw_entity(w, EK_OPERATOR, 0, err, "operator");
    CHECK_IDX(op);
    w->operator_addr = gl_simw_keyed(w, op, RO_OPERATOR, w->opts->funder_key, err);
    CHECK_IDX(w->operator_addr);
    w->addrs.v[w->operator_addr].nonce = operator_nonce;

    /* owners of the contracts (their addresses appear when deployed) */
    static const struct { sim_contract c; sim_ekind k; const char *id; } owners[] = {
        {CT_USDC, EK_TOKEN, "token-usdc"},
        {CT_GLM, EK_TOKEN, "token-glm"},
        {CT_SWAN, EK_TOKEN, "token-swan"},
        {CT_GPUMARKET, EK_PLATFORM, "platform-gpumarket"},
        {CT_LIVEPEER, EK_PLATFORM, "platform-livepeer"},
        {CT_GOLEM_BATCH, EK_PLATFORM, "platform-golem"},
        {CT_SPHERON_ORDER, EK_PLATFORM, "platform-spheron"},
        {CT_SWAN_TASKS, EK_PLATFORM, "platform-swan"},
        {CT_FLUENCE_IMPL, EK_PLATFORM, "platform-fluence"},
    };
    for (size_t i = 0; i < sizeof owners / sizeof owners[0]; i++) {
        uint32_t e = gl_simw_entity(w, owners[i].k, 0, err, "%s", owners[i].id);
        CHECK_IDX(e);
        w->contract_entity[owners[i].c] = e;
    }
    if (sc->platform[GL_SIM_BAZAAR]) {
        uint32_t e = gl_simw_entity(w, EK_TOKEN, 0, err, "token-usdt");
        CHECK_IDX(e);
        w->contract_entity[CT_USDT] = e;
        e = gl_simw_entity(w, EK_PLATFORM, 0, err, "platform-bazaar");
        CHECK_IDX(e);
        w->contract_entity[CT_BAZAAR] = e;
    }
    w->contract_entity[CT_GOLEM_LOCK] = w->contract_entity[CT_GOLEM_BATCH];
    w->contract_entity[CT_SPHERON_LEASE] = w->contract_entity[CT_SPHERON_ORDER];
    w->contract_entity[CT_FLUENCE_FACTORY] = w->contract_entity[CT_FLUENCE_IMPL];

    for (unsigned i = 0; i < sc->exchanges; i++) {
        uint32_t e = gl_simw_entity(w, EK_EXCHANGE, 0, err, "exchange-%u", i + 1);
        CHECK_IDX(e);
        CHECK_IDX(wallet(w, e, RO_HOT_WALLET, FP_TREASURY, FP_TREASURY, SIM_NONE, err));
        if (!push_u32(&w->exchanges, e))
            return gl_err_set(err, GL_ENOMEM, "out of memory creating exchanges");
    }
    uint32_t br = gl_simw_entity(w, EK_BRIDGE, 0, err, "bridge");
    CHECK_IDX(br);
    w->contract_entity[CT_BRIDGE] = br;
    w->bridge_relayer = wallet(w, br, RO_BRIDGE_RELAYER, FP_TREASURY, FP_TREASURY, SIM_NONE, err);
    CHECK_IDX(w->bridge_relayer);
    if (sc->bridge.enabled && sc->bridge.releases_per_day > 0)
        w->ents.v[br].plan = PL_BRIDGE;

    gl_code rc = make_providers(w, err);
    if (!rc)
        rc = make_rings(w, err);
    if (!rc)
        rc = make_self_dealers(w, err);
    if (!rc)
        rc = make_buyers(w, err);
    if (!rc)
        rc = make_typologies(w, err);
    if (!rc)
        rc = make_noise(w, err);
    if (!rc)
        rc = make_provider_claims(w, err);
    if (rc)
        return rc;

    /* deployment, then the day planners */
    sim_task t;
    memset(&t, 0, sizeof t);
    t.time = w->setup_time;
    /* the markets of every scenario, the hubs (task a = CT_N + hub), then
     * the bazaar's token and market, only when the scenario has them (so
     * that the others keep their addresses) */
    for (unsigned c = 0; c < CT_N + w->hubs.n && !rc; c++) {
        if (c == CT_USDT || c == CT_BAZAAR)
            continue;
        t.kind = TK_DEPLOY;
        t.a = c;
        rc = gl_simw_push(w, &t, err);
        if (!rc && c == CT_SPHERON_LEASE) {
            t.kind = TK_SETUP_CALL;
            t.a = 0;
            rc = gl_simw_push(w, &t, err);
        }
    }
    for (unsigned c = CT_USDT; c <= CT_BAZAAR && sc->platform[GL_SIM_BAZAAR] && !rc; c++) {
        t.kind = TK_DEPLOY;
        t.a = c;
        rc = gl_simw_push(w, &t, err);
    }
    for (size_t e = 0; e < w->ents.n && !rc; e++) {
        if (w->ents.v[e].plan == PL_NONE)
            continue;
        memset(&t, 0, sizeof t);
        t.kind = TK_DAY;
        t.a = (uint32_t)e;
        t.x = 0;
        t.time = sc->start;
        rc = gl_simw_push(w, &t, err);
    }
    return rc;
}

const char *gl_sims_region(unsigned r) { return regions[r % (sizeof regions / sizeof regions[0])]; }
