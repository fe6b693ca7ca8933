/* test_contract_events.c - the compiled test markets emit exactly the events
 * the indexer expects.
 *
 * For every contract in fixtures/contracts/ this loads its compiled artifact
 * (fixtures/contracts/build/NAME.json, the `abi` member), turns each event
 * entry into its canonical signature with a helper written here (not the
 * ABI module, so that a bug there cannot hide a drift here), and checks it
 * against a declaration written literally below:
 *   - the real-platform look-alikes (Livepeer, Golem, Spheron, Swan,
 *     Fluence, ERC-20) use the declarations from DESIGN.md and the real
 *     contracts' sources, so editing a Solidity event breaks this test;
 *   - every event's name, parameter types, parameter names and `indexed`
 *     flags must match, and a contract must have no event that is not listed.
 * The topic0 of each declaration is then computed with gl_keccak256 and
 * compared with a value obtained independently of this code:
 *   [pub]   published with the real contract: the topic hashes printed in the
 *           abigen Go bindings of go-livepeer (TicketBroker) and of Swan's
 *           ECP TaskManager, and the well-known ERC-20 Transfer/Approval;
 *   [sha3]  computed with another Keccak implementation (js-sha3 0.8.0, the
 *           one solc's npm package ships) from the canonical signature.
 * No node or solc is needed to run it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "gpuledger/bytes.h"
#include "gpuledger/keccak.h"
#include "../support/testutil.h"

/* ------------------------------------------------------------------ */
/* What the contracts must declare                                      */

typedef struct ev_expect {
    const char *contract; /* artifact name: build/<contract>.json */
    const char *decl;     /* the Solidity declaration, literally */
    const char *topic0;   /* independent oracle, see the file comment */
} ev_expect;

static const ev_expect EVENTS[] = {
    /* ERC-20 (EIP-20) [pub] */
    {"MockStablecoin", "Transfer(address indexed from, address indexed to, uint256 value)",
     "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef"},
    {"MockStablecoin", "Approval(address indexed owner, address indexed spender, uint256 value)",
     "0x8c5be1e5ebec7d5bd14f71427d1e84f3dd0314c0f7b2291e5b200ac8c7c3b925"},
    {"GlmToken", "Transfer(address indexed from, address indexed to, uint256 value)",
     "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef"},
    {"GlmToken", "Approval(address indexed owner, address indexed spender, uint256 value)",
     "0x8c5be1e5ebec7d5bd14f71427d1e84f3dd0314c0f7b2291e5b200ac8c7c3b925"},
    {"SwanToken", "Transfer(address indexed from, address indexed to, uint256 value)",
     "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef"},
    {"SwanToken", "Approval(address indexed owner, address indexed spender, uint256 value)",
     "0x8c5be1e5ebec7d5bd14f71427d1e84f3dd0314c0f7b2291e5b200ac8c7c3b925"},

    {"MockTether", "Transfer(address indexed from, address indexed to, uint256 value)",
     "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef"},
    {"MockTether", "Approval(address indexed owner, address indexed spender, uint256 value)",
     "0x8c5be1e5ebec7d5bd14f71427d1e84f3dd0314c0f7b2291e5b200ac8c7c3b925"},

    /* The second market, unlike the reference one on purpose [sha3] */
    {"ComputeBazaar",
     "CapacityListed(bytes32 indexed listingId, address indexed host, bytes32 gpu, uint16 units, "
     "uint256 ratePerUnitHour)",
     "0x5d77506e0295dc4e21b4d6357dc23afb2faf9ed2e217be9b160372cc737cc02e"},
    {"ComputeBazaar", "CapacityWithdrawn(bytes32 indexed listingId, address indexed host)",
     "0xe18344c5c2149046f64856f5fd59b3e038350307ca295156fc9db9e7fa99f830"},
    {"ComputeBazaar",
     "Rented(bytes32 indexed rentalId, address indexed renter, address indexed host, address payer, "
     "bytes32 gpu, uint16 units, uint32 rentMinutes, uint256 cost)",
     "0x9f56f8b6e5e48a8804f5d2b406eec3f1d2bf70f3bd4ca13b093255f952f49b1a"},

    /* The reference market (fixtures/contracts/README.md) [sha3] */
    {"GpuMarket",
     "OfferRegistered(uint256 indexed offerId, address indexed provider, string gpuModel, "
     "uint32 gpuCount, uint256 pricePerGpuHour, string region, address token)",
     "0x888e3d4801ab98f8c8eb6c1747d44a265ebb2190058c02e4a0447bc651484062"},
    {"GpuMarket",
     "OfferUpdated(uint256 indexed offerId, address indexed provider, uint32 gpuCount, "
     "uint256 pricePerGpuHour)",
     "0x9ff722c09a5e729c4a315ba0f93486476711454f0268e99fce6773fd6c0bfcf1"},
    {"GpuMarket", "OfferClosed(uint256 indexed offerId, address indexed provider)",
     "0x72df511cd2404da87c2604cfe4852b087c7c8021a125147cacf85d713cdbafd7"},
    {"GpuMarket",
     "LeaseOpened(uint256 indexed leaseId, address indexed buyer, address indexed beneficiary, "
     "address provider, uint256 offerId, string gpuModel, uint32 gpuCount, uint32 durationHours, "
     "uint256 amount, address token)",
     "0x40fcf96eeaa5d1717fcf2d1c97b55443838af6aaf384f0654618ae2a3ff00a87"},
    {"GpuMarket",
     "LeaseExtended(uint256 indexed leaseId, address indexed payer, address indexed beneficiary, "
     "address provider, uint32 addedHours, uint32 totalHours, uint256 amount, address token)",
     "0x75752688c44afc6bd1825048e4a23adcb4377214b496f65d2951325ce6c4d3b9"},
    {"GpuMarket",
     "LeaseEnded(uint256 indexed leaseId, address indexed buyer, address indexed provider, "
     "uint32 usedHours, uint256 providerAmount, uint256 refund, address token)",
     "0x38396466dc5bdfbf9aa20bfbf82ec4f642fe89c1b4be1d52281afa7a3adcbbb6"},
    {"GpuMarket", "Withdrawal(address indexed provider, address indexed token, uint256 amount)",
     "0x2717ead6b9200dd235aad468c9809ea400fe33ac69b5bfaa6d3e90fc922b6398"},

    /* Livepeer TicketBroker (DESIGN.md; go-livepeer bindings) [pub] */
    {"LivepeerTicketBroker",
     "WinningTicketRedeemed(address indexed sender, address indexed recipient, uint256 faceValue, "
     "uint256 winProb, uint256 senderNonce, uint256 recipientRand, bytes auxData)",
     "0xc389eb51ed006dbf2528507f010efdf5225ea596e1e1741d74f550dab1925ee7"},
    {"LivepeerTicketBroker",
     "WinningTicketTransfer(address indexed sender, address indexed recipient, uint256 amount)",
     "0x8b87351a208c06e3ceee59d80725fd77a23b4129e1b51ca231fc89b40712649c"},
    {"LivepeerTicketBroker", "DepositFunded(address indexed sender, uint256 amount)",
     "0x5159e237d952190e68d5215430f305831be7c9c8776d1377c76679ae4773413f"},
    {"LivepeerTicketBroker", "ReserveFunded(address indexed reserveHolder, uint256 amount)",
     "0xb52b99b9e83551fcbd069b559cc3e823e2a1a3bad8ece46561ea77524394c850"},
    {"LivepeerTicketBroker",
     "ReserveClaimed(address indexed reserveHolder, address claimant, uint256 amount)",
     "0x5c2b394723f408a40a60335e24b71829642e35f350cebe2036a96a66e895ea98"},
    {"LivepeerTicketBroker", "Withdrawal(address indexed sender, uint256 deposit, uint256 reserve)",
     "0xdf273cb619d95419a9cd0ec88123a0538c85064229baa6363788f743fff90deb"},

    /* Golem LockPayment (DESIGN.md; golemfactory's contract) [sha3] */
    {"GolemLockPayment", "DepositCreated(uint256 indexed id, address spender)",
     "0x788f62f195987bb297862ea62b31d08e6c02dd48c82691e3690b2a32b8fb759b"},
    {"GolemLockPayment", "DepositExtended(uint256 indexed id, address spender)",
     "0x28b2e97799d08959c3ff7a213e5de97fe58327ecbfdb497e039d5b45b85c4627"},
    {"GolemLockPayment", "DepositClosed(uint256 indexed id, address spender)",
     "0x8ac07cc6e38c6222dd0309c80353c1962354bacf222b825d7401cc80e93ff3cc"},
    {"GolemLockPayment", "DepositTerminated(uint256 indexed id, address spender)",
     "0x843d1bd667ac549c763b55fefb74223882ce415856e0e243f24ed3b97f572f10"},
    {"GolemLockPayment", "DepositFeeTransfer(uint256 indexed id, address spender, uint128 amount)",
     "0xed2c74ec5ee17d93f94a64e9ca42f75d33868e90f338237709b611ac1810a40f"},
    {"GolemLockPayment",
     "DepositTransfer(uint256 indexed id, address spender, address recipient, uint128 amount)",
     "0x4e024b1a4230fccb351fc854e250a45569711fc304c1af0abc494165d2936063"},

    /* Spheron (DESIGN.md: every field non-indexed) [sha3] */
    {"SpheronOrderRequest",
     "OrderCreated(uint64 orderId, address creator, uint256 maxPrice, uint64 numOfBlocks, "
     "address token, string specs, uint16 version, uint8 mode)",
     "0xbf0becce6edeae4f448544a778fc7f178eeac2b2cefaef1b707c05bffa5d43d2"},
    {"SpheronOrderRequest",
     "OrderMatched(uint64 orderId, address providerAddress, uint256 acceptedPrice, uint256 leaseId)",
     "0xf50b3cb342f0081a2c26e7b8816717154b65d850ef73d68a185a3613c719f7b4"},
    {"SpheronOrderRequest", "OrderClosed(uint64 orderId)",
     "0x3a5b75e7dbdc051c7b1554f8abe12c04268e5fc8b3fb7cdb71fb826edd1aa476"},
    {"SpheronComputeLease",
     "LeaseCreated(uint256 leaseId, uint256 fizzId, uint64 requestId, uint256 acceptedPrice, "
     "address providerAddress, address tenantAddress, uint32 startBlock, uint32 startTime, "
     "uint32 endTime, uint8 state)",
     "0x5ac8ea04e47ef9fd0cb3dc8fb52cafc453271d39b0e0b60c8674e64bf08737c4"},
    {"SpheronComputeLease",
     "LeaseClosed(uint256 leaseId, address providerAddress, address tenantAddress, "
     "uint256 providerAmount, uint256 refund)",
     "0x8147b540925cabfc58f37df9e1498089e1f31d2f463dfdc91cf7ddba113a97f2"},

    /* Swan TaskManager (DESIGN.md; Swan's ECP Go bindings) [pub] */
    {"SwanTaskManager",
     "TaskCreated(string indexed taskUid, address[] cpList, address user, uint256 reward, "
     "uint256 duration)",
     "0x1455e6e35b1b89916dd3024a995f41593b0b27f0e7cb61b253a69ba2c2d37951"},
    {"SwanTaskManager",
     "RewardReleased(string indexed taskUid, address indexed cpAccount, address beneficiary, "
     "uint256 rewardAmount)",
     "0x6504a330caacb9bebf5a13c7a7356d83a2ff093b07185671301738c1761475d2"},
    {"SwanTaskManager", "TaskCompleted(string indexed taskUid)",
     "0x2ea2764b7d80d0107c1d2c0210ead4a6fdee0f86235483a041d9faffbf875880"},
    {"SwanTaskManager", "TaskTerminated(string indexed taskUid, uint256 terminateTimestamp)",
     "0x58136d68c79c10fb55282098b850a5a1c041b28af29cb65ea657a824f5bd6a36"},
    {"SwanCpAccount", "BeneficiaryChanged(address previousBeneficiary, address newBeneficiary)",
     "0x768099735d1c322a05a5b9d7b76d99682a1833d3f7055e5ede25e0f2eeaa8c6d"},

    /* Fluence: fluencelabs/deal IDealFactory.sol, all 13 parameters (IDeal and
     * IERC20 are addresses, CIDV1 is (bytes4 prefixes, bytes32 hash),
     * IConfig.AccessType a uint8); the topic0 js-sha3 gives for the canonical
     * signature Fluence's own subgraph.yaml declares, the same value
     * ../shared/sources/platform-definitions-check.md reports [sha3] */
    {"FluenceDealFactory",
     "DealCreated(address indexed owner, address deal, uint256 createdAtEpoch, address paymentToken, "
     "uint256 minWorkers, uint256 targetWorkers, uint256 maxWorkersPerProvider, uint256 pricePerWorkerEpoch, "
     "(bytes4,bytes32)[] effectors, (bytes4,bytes32) appCID, uint8 providersAccessType_, "
     "address[] providersAccessList_, uint256 protocolVersion_)",
     "0xb713fb1962af63e77449fd5d1fdf718c9ec7582040f62658c15d12f28310352f"},
    {"FluenceDeal", "Deposited(uint256 amount)",
     "0x2a89b2e3d580398d6dc2db5e0f336b52602bbaa51afa9bb5cdf59239cf0d2bea"},
    {"FluenceDeal", "Withdrawn(uint256 amount)",
     "0x430648de173157e069201c943adb2d4e340e7cf5b27b1b09c9cb852f03d63b56"},
    {"FluenceDeal", "ProviderPaid(address indexed provider, uint256 amount)",
     "0xb72ef6a0e5a62f73e52dd5fa571d9f28d0d3c7895c4e1b60e5a8d01e879957ac"},
};

/* Every contract, with how many events it must declare (GolemBatchPayer
 * none: Golem's batch payments show only as GLM Transfers). */
typedef struct contract_expect {
    const char *name;
    size_t nevents;
} contract_expect;

static const contract_expect CONTRACTS[] = {
    {"MockStablecoin", 2},      {"GlmToken", 2},          {"SwanToken", 2},
    {"GpuMarket", 7},           {"LivepeerTicketBroker", 6}, {"GolemBatchPayer", 0},
    {"GolemLockPayment", 6},    {"SpheronOrderRequest", 3}, {"SpheronComputeLease", 2},
    {"SwanTaskManager", 4},     {"SwanCpAccount", 1},     {"FluenceDealFactory", 1},
    {"FluenceDeal", 3},         {"MockTether", 2},        {"ComputeBazaar", 3},
};

/* Functions the simulator and the integration tests call: the canonical
 * signature and state mutability each contract must have. */
typedef struct fn_expect {
    const char *contract;
    const char *sig;
    const char *mutability;
    const char *selector; /* [pub] where the real contract's is published, else NULL */
} fn_expect;

static const fn_expect FUNCTIONS[] = {
    {"MockStablecoin", "decimals()", "view", NULL},
    {"MockStablecoin", "mint(address,uint256)", "nonpayable", NULL},
    {"MockStablecoin", "transfer(address,uint256)", "nonpayable", NULL},
    {"MockStablecoin", "transferFrom(address,address,uint256)", "nonpayable", NULL},
    {"MockStablecoin", "approve(address,uint256)", "nonpayable", NULL},
    {"MockStablecoin", "allowance(address,address)", "view", NULL},
    {"MockStablecoin", "balanceOf(address)", "view", NULL},
    {"GlmToken", "decimals()", "view", NULL},
    {"GlmToken", "mint(address,uint256)", "nonpayable", NULL},
    {"SwanToken", "mint(address,uint256)", "nonpayable", NULL},
    {"GpuMarket", "registerOffer(string,uint32,uint256,string,address)", "nonpayable", NULL},
    {"GpuMarket", "updateOffer(uint256,uint32,uint256)", "nonpayable", NULL},
    {"GpuMarket", "closeOffer(uint256)", "nonpayable", NULL},
    {"GpuMarket", "lease(uint256,uint32,uint32)", "payable", NULL},
    {"GpuMarket", "leaseFor(address,uint256,uint32,uint32)", "payable", NULL},
    {"GpuMarket", "extendLease(uint256,uint32)", "payable", NULL},
    {"GpuMarket", "endLease(uint256)", "nonpayable", NULL},
    {"GpuMarket", "withdraw(address)", "nonpayable", NULL},
    {"LivepeerTicketBroker", "fundDeposit()", "payable", NULL},
    {"LivepeerTicketBroker", "fundReserve()", "payable", NULL},
    {"LivepeerTicketBroker", "fundDepositAndReserve(uint256,uint256)", "payable", NULL},
    /* the real TicketBroker's selectors (go-livepeer bindings); Ticket is
     * (recipient, sender, faceValue, winProb, senderNonce, recipientRandHash,
     * auxData) */
    {"LivepeerTicketBroker", "fundDepositAndReserveFor(address,uint256,uint256)", "payable", "0x989f789c"},
    {"LivepeerTicketBroker",
     "redeemWinningTicket((address,address,uint256,uint256,uint256,bytes32,bytes),bytes,uint256)",
     "nonpayable", "0xec8b3cb6"},
    {"LivepeerTicketBroker", "withdraw()", "nonpayable", NULL},
    {"GolemBatchPayer", "golemTransferIndirect(address[],uint256[])", "nonpayable", NULL},
    {"GolemBatchPayer", "golemTransferIndirectPacked(bytes32[],uint256)", "nonpayable", NULL},
    {"GolemBatchPayer", "golemTransferDirect(address[],uint256[])", "nonpayable", NULL},
    {"GolemBatchPayer", "golemTransferDirectPacked(bytes32[])", "nonpayable", NULL},
    {"GolemLockPayment", "createDeposit(uint64,address,uint128,uint128,uint64)", "nonpayable", NULL},
    {"GolemLockPayment", "extendDeposit(uint64,uint128,uint128,uint64)", "nonpayable", NULL},
    {"GolemLockPayment", "depositSingleTransfer(uint256,address,uint128)", "nonpayable", NULL},
    {"GolemLockPayment", "depositTransfer(uint256,bytes32[])", "nonpayable", NULL},
    {"GolemLockPayment", "closeDeposit(uint256)", "nonpayable", NULL},
    {"GolemLockPayment", "terminateDeposit(uint64)", "nonpayable", NULL},
    {"GolemLockPayment", "idFromNonceAndFunder(uint64,address)", "pure", NULL},
    {"GolemLockPayment", "funderFromId(uint256)", "pure", NULL},
    {"SpheronOrderRequest", "setComputeLease(address)", "nonpayable", NULL},
    {"SpheronOrderRequest", "createOrder(uint256,uint64,address,string,uint8)", "nonpayable", NULL},
    {"SpheronOrderRequest", "matchOrder(uint64,uint256,uint256)", "nonpayable", NULL},
    {"SpheronOrderRequest", "cancelOrder(uint64)", "nonpayable", NULL},
    {"SpheronOrderRequest", "totalOf(uint256,uint64,address)", "view", NULL},
    {"SpheronComputeLease", "closeLease(uint256)", "nonpayable", NULL},
    {"SwanTaskManager", "assignTask(string,address[],address,uint256,uint256)", "nonpayable", NULL},
    {"SwanTaskManager", "releaseReward(string)", "nonpayable", NULL},
    {"SwanTaskManager", "terminateTask(string)", "nonpayable", NULL},
    {"SwanCpAccount", "getBeneficiary()", "view", NULL},
    {"SwanCpAccount", "changeBeneficiary(address)", "nonpayable", NULL},
    {"FluenceDealFactory", "deployDeal(address,address,uint256)", "nonpayable", NULL},
    {"FluenceDeal", "deposit(uint256)", "nonpayable", NULL},
    {"FluenceDeal", "payProvider()", "nonpayable", NULL},
    {"FluenceDeal", "withdraw(uint256)", "nonpayable", NULL},
    {"MockTether", "decimals()", "view", NULL},
    {"MockTether", "mint(address,uint256)", "nonpayable", NULL},
    {"MockTether", "transfer(address,uint256)", "nonpayable", NULL},
    {"MockTether", "approve(address,uint256)", "nonpayable", NULL},
    {"ComputeBazaar", "listCapacity(bytes32,uint16,uint256)", "nonpayable", NULL},
    {"ComputeBazaar", "withdrawCapacity(bytes32)", "nonpayable", NULL},
    {"ComputeBazaar", "rent(bytes32,uint16,uint32)", "nonpayable", NULL},
    {"ComputeBazaar", "rentFor(address,bytes32,uint16,uint32)", "nonpayable", NULL},
    {"ComputeBazaar", "quote(bytes32,uint16,uint32)", "view", NULL},
};

/* Constructor inputs, canonically ("" for none). */
typedef struct ctor_expect {
    const char *contract;
    const char *inputs;
} ctor_expect;

static const ctor_expect CTORS[] = {
    {"MockStablecoin", ""},
    {"GlmToken", ""},
    {"SwanToken", ""},
    {"GpuMarket", ""},
    {"LivepeerTicketBroker", ""},
    {"GolemBatchPayer", "address"},
    {"GolemLockPayment", "address"},
    {"SpheronOrderRequest", ""},
    {"SpheronComputeLease", "address,uint32"},
    {"SwanTaskManager", "address"},
    {"SwanCpAccount", "address,string"},
    {"FluenceDealFactory", "address,uint256"},
    {"FluenceDeal", ""},
    {"MockTether", ""},
    {"ComputeBazaar", "address"},
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* ------------------------------------------------------------------ */
/* Helpers                                                              */

/* One parsed parameter of a declaration or ABI entry. */
typedef struct param {
    char type[128];
    char name[64];
    bool indexed;
} param;

typedef struct event_shape {
    char name[64];
    size_t n;
    param p[16];
} event_shape;

static json_t *load_abi(const char *contract)
{
    char root[4096], path[4200];
    assert_non_null(gl_test_root(root, sizeof root));
    snprintf(path, sizeof path, "%s/fixtures/contracts/build/%s.json", root, contract);
    json_error_t jerr;
    json_t *art = json_load_file(path, 0, &jerr);
    if (!art)
        fail_msg("cannot load %s: %s (line %d)", path, jerr.text, jerr.line);
    json_t *abi = json_object_get(art, "abi");
    if (!json_is_array(abi))
        fail_msg("%s has no \"abi\" array", path);
    json_incref(abi);
    json_decref(art);
    return abi;
}

static void copy_str(char *dst, size_t cap, const char *s, size_t n)
{
    assert_true(n < cap);
    memcpy(dst, s, n);
    dst[n] = '\0';
}

/* Parse "Name(type [indexed] name, ...)" as written in Solidity. */
static void parse_decl(const char *decl, event_shape *out)
{
    memset(out, 0, sizeof *out);
    const char *lp = strchr(decl, '(');
    const char *rp = strrchr(decl, ')');
    assert_non_null(lp);
    assert_non_null(rp);
    copy_str(out->name, sizeof out->name, decl, (size_t)(lp - decl));
    const char *s = lp + 1;
    while (s < rp) {
        /* the next comma outside parentheses: tuple types such as
         * "(bytes4,bytes32)[]" are written canonically, without spaces */
        const char *end = s;
        for (int depth = 0; end < rp && (depth || *end != ','); end++)
            depth += (*end == '(') - (*end == ')');
        assert_true(out->n < NELEM(out->p));
        param *p = &out->p[out->n++];
        char words[3][128];
        int nw = 0;
        const char *w = s;
        while (w < end) {
            while (w < end && *w == ' ')
                w++;
            const char *we = w;
            while (we < end && *we != ' ')
                we++;
            if (we > w) {
                assert_true(nw < 3);
                copy_str(words[nw++], sizeof words[0], w, (size_t)(we - w));
            }
            w = we;
        }
        assert_true(nw == 2 || (nw == 3 && strcmp(words[1], "indexed") == 0));
        snprintf(p->type, sizeof p->type, "%s", words[0]);
        p->indexed = nw == 3;
        snprintf(p->name, sizeof p->name, "%s", words[nw - 1]);
        s = end + 1;
    }
}

/* Canonical type of a JSON ABI parameter: tuples expand to "(a,b)" plus
 * whatever array suffix follows "tuple". */
static void abi_param_type(const json_t *jp, char *out, size_t cap)
{
    const char *t = json_string_value(json_object_get(jp, "type"));
    assert_non_null(t);
    if (strncmp(t, "tuple", 5) != 0) {
        assert_true(strlen(t) < cap);
        snprintf(out, cap, "%s", t);
        return;
    }
    const json_t *comps = json_object_get(jp, "components");
    assert_true(json_is_array(comps));
    size_t len = 0;
    out[len++] = '(';
    for (size_t i = 0; i < json_array_size(comps); i++) {
        char sub[256];
        abi_param_type(json_array_get(comps, i), sub, sizeof sub);
        assert_true(len + strlen(sub) + 2 < cap);
        if (i)
            out[len++] = ',';
        memcpy(out + len, sub, strlen(sub));
        len += strlen(sub);
    }
    assert_true(len + strlen(t + 5) + 2 < cap);
    out[len++] = ')';
    snprintf(out + len, cap - len, "%s", t + 5);
}

static void shape_from_json(const json_t *entry, event_shape *out)
{
    memset(out, 0, sizeof *out);
    const char *name = json_string_value(json_object_get(entry, "name"));
    assert_non_null(name);
    snprintf(out->name, sizeof out->name, "%s", name);
    const json_t *inputs = json_object_get(entry, "inputs");
    assert_true(json_is_array(inputs));
    assert_true(json_array_size(inputs) <= NELEM(out->p));
    out->n = json_array_size(inputs);
    for (size_t i = 0; i < out->n; i++) {
        const json_t *in = json_array_get(inputs, i);
        abi_param_type(in, out->p[i].type, sizeof out->p[i].type);
        const char *pn = json_string_value(json_object_get(in, "name"));
        snprintf(out->p[i].name, sizeof out->p[i].name, "%s", pn ? pn : "");
        out->p[i].indexed = json_is_true(json_object_get(in, "indexed"));
    }
}

static void canonical(const event_shape *e, char *out, size_t cap)
{
    size_t len = (size_t)snprintf(out, cap, "%s(", e->name);
    for (size_t i = 0; i < e->n; i++)
        len += (size_t)snprintf(out + len, cap - len, "%s%s", i ? "," : "", e->p[i].type);
    snprintf(out + len, cap - len, ")");
    assert_true(strlen(out) + 1 < cap);
}

static const json_t *find_entry(const json_t *abi, const char *kind, const char *name)
{
    const json_t *found = NULL;
    size_t i;
    json_t *entry;
    json_array_foreach(abi, i, entry) {
        const char *t = json_string_value(json_object_get(entry, "type"));
        const char *n = json_string_value(json_object_get(entry, "name"));
        if (t && strcmp(t, kind) == 0 && (!name || (n && strcmp(n, name) == 0))) {
            if (found)
                fail_msg("%s %s is declared twice", kind, name ? name : "");
            found = entry;
        }
    }
    return found;
}

static size_t count_kind(const json_t *abi, const char *kind)
{
    size_t n = 0, i;
    json_t *entry;
    json_array_foreach(abi, i, entry) {
        const char *t = json_string_value(json_object_get(entry, "type"));
        n += t && strcmp(t, kind) == 0;
    }
    return n;
}

static void topic0_hex(const char *canon, char hex[2 * 32 + 3])
{
    uint8_t h[GL_KECCAK256_LEN];
    gl_keccak256(canon, strlen(canon), h);
    gl_hex_encode(h, sizeof h, true, hex);
}

/* ------------------------------------------------------------------ */
/* Tests                                                                */

/* The helpers themselves, against the ERC-20 example from the ABI spec. */
static void test_helpers(void **state)
{
    (void)state;
    event_shape e;
    parse_decl("Transfer(address indexed from, address indexed to, uint256 value)", &e);
    assert_string_equal(e.name, "Transfer");
    assert_int_equal(e.n, 3);
    assert_true(e.p[0].indexed && e.p[1].indexed && !e.p[2].indexed);
    assert_string_equal(e.p[2].name, "value");
    char canon[512], hex[80];
    canonical(&e, canon, sizeof canon);
    assert_string_equal(canon, "Transfer(address,address,uint256)");
    topic0_hex(canon, hex);
    assert_string_equal(hex, "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef");

    json_error_t jerr;
    json_t *entry = json_loads(
        "{\"type\":\"function\",\"name\":\"f\",\"inputs\":[{\"name\":\"t\",\"type\":\"tuple[2]\","
        "\"components\":[{\"name\":\"a\",\"type\":\"uint8\"},{\"name\":\"b\",\"type\":\"tuple[]\","
        "\"components\":[{\"name\":\"c\",\"type\":\"bytes\"}]}]},{\"name\":\"u\",\"type\":\"string\"}]}",
        0, &jerr);
    assert_non_null(entry);
    shape_from_json(entry, &e);
    canonical(&e, canon, sizeof canon);
    assert_string_equal(canon, "f((uint8,(bytes)[])[2],string)");
    json_decref(entry);
}

/* Each listed event exists with exactly that shape, and its topic0 is the
 * independently known one. */
static void test_events_match_declarations(void **state)
{
    (void)state;
    for (size_t i = 0; i < NELEM(EVENTS); i++) {
        const ev_expect *x = &EVENTS[i];
        event_shape want, got;
        parse_decl(x->decl, &want);
        json_t *abi = load_abi(x->contract);
        const json_t *entry = find_entry(abi, "event", want.name);
        if (!entry)
            fail_msg("%s: no event %s", x->contract, want.name);
        assert_false(json_is_true(json_object_get(entry, "anonymous")));
        shape_from_json(entry, &got);
        if (got.n != want.n)
            fail_msg("%s.%s: %zu parameters, expected %zu", x->contract, want.name, got.n, want.n);
        for (size_t k = 0; k < want.n; k++) {
            if (strcmp(got.p[k].type, want.p[k].type) != 0 || strcmp(got.p[k].name, want.p[k].name) != 0 ||
                got.p[k].indexed != want.p[k].indexed)
                fail_msg("%s.%s parameter %zu: got %s%s %s, expected %s%s %s", x->contract, want.name, k,
                         got.p[k].type, got.p[k].indexed ? " indexed" : "", got.p[k].name, want.p[k].type,
                         want.p[k].indexed ? " indexed" : "", want.p[k].name);
        }
        char canon[1024], hex[80];
        canonical(&got, canon, sizeof canon);
        topic0_hex(canon, hex);
        if (strcmp(hex, x->topic0) != 0)
            fail_msg("%s: topic0 of %s is %s, expected %s", x->contract, canon, hex, x->topic0);
        json_decref(abi);
    }
}

/* No contract declares an event this file does not know about. */
static void test_no_unlisted_events(void **state)
{
    (void)state;
    for (size_t i = 0; i < NELEM(CONTRACTS); i++) {
        json_t *abi = load_abi(CONTRACTS[i].name);
        size_t listed = 0;
        for (size_t k = 0; k < NELEM(EVENTS); k++)
            listed += strcmp(EVENTS[k].contract, CONTRACTS[i].name) == 0;
        assert_int_equal(listed, CONTRACTS[i].nevents);
        size_t have = count_kind(abi, "event");
        if (have != CONTRACTS[i].nevents)
            fail_msg("%s declares %zu events, expected %zu", CONTRACTS[i].name, have,
                     CONTRACTS[i].nevents);
        json_decref(abi);
    }
}

/* The functions the simulator relies on, with their mutability; the
 * selectors of the real-platform functions follow from the signatures. */
static void test_functions(void **state)
{
    (void)state;
    for (size_t i = 0; i < NELEM(FUNCTIONS); i++) {
        const fn_expect *x = &FUNCTIONS[i];
        char name[64];
        const char *lp = strchr(x->sig, '(');
        copy_str(name, sizeof name, x->sig, (size_t)(lp - x->sig));
        json_t *abi = load_abi(x->contract);
        const json_t *entry = find_entry(abi, "function", name);
        if (!entry)
            fail_msg("%s: no function %s", x->contract, name);
        event_shape got;
        shape_from_json(entry, &got);
        char canon[1024];
        canonical(&got, canon, sizeof canon);
        if (strcmp(canon, x->sig) != 0)
            fail_msg("%s: function is %s, expected %s", x->contract, canon, x->sig);
        const char *mut = json_string_value(json_object_get(entry, "stateMutability"));
        if (!mut || strcmp(mut, x->mutability) != 0)
            fail_msg("%s.%s is %s, expected %s", x->contract, x->sig, mut ? mut : "(none)", x->mutability);
        if (x->selector) {
            uint8_t h[GL_KECCAK256_LEN];
            char sel[16];
            gl_keccak256(canon, strlen(canon), h);
            gl_hex_encode(h, 4, true, sel);
            assert_string_equal(sel, x->selector);
        }
        json_decref(abi);
    }
}

/* Every artifact has creation bytecode and the documented constructor. */
static void test_constructors_and_bytecode(void **state)
{
    (void)state;
    assert_int_equal(NELEM(CTORS), NELEM(CONTRACTS));
    for (size_t i = 0; i < NELEM(CTORS); i++) {
        char root[4096], path[4200];
        assert_non_null(gl_test_root(root, sizeof root));
        snprintf(path, sizeof path, "%s/fixtures/contracts/build/%s.json", root, CTORS[i].contract);
        json_error_t jerr;
        json_t *art = json_load_file(path, 0, &jerr);
        if (!art)
            fail_msg("cannot load %s: %s", path, jerr.text);
        const json_t *bc = json_object_get(art, "bytecode");
        if (json_is_object(bc))
            bc = json_object_get(bc, "object");
        const char *hex = json_string_value(bc);
        if (!hex)
            fail_msg("%s has no bytecode string", path);
        if (strncmp(hex, "0x", 2) == 0)
            hex += 2;
        /* more than a trivial contract, and well-formed hex */
        assert_true(strlen(hex) > 200 && strlen(hex) % 2 == 0);
        for (const char *c = hex; *c; c++)
            assert_true(gl_hex_digit(*c) >= 0);

        const json_t *abi = json_object_get(art, "abi");
        const json_t *ctor = find_entry(abi, "constructor", NULL);
        char canon[256] = "";
        if (ctor) {
            event_shape got;
            json_t *tmp = json_deep_copy(ctor);
            json_object_set_new(tmp, "name", json_string("c"));
            shape_from_json(tmp, &got);
            json_decref(tmp);
            canonical(&got, canon, sizeof canon);
            /* strip "c(" and ")" */
            memmove(canon, canon + 2, strlen(canon + 2) + 1);
            canon[strlen(canon) - 1] = '\0';
        }
        if (strcmp(canon, CTORS[i].inputs) != 0)
            fail_msg("%s constructor takes (%s), expected (%s)", CTORS[i].contract, canon, CTORS[i].inputs);
        json_decref(art);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_helpers),
        cmocka_unit_test(test_events_match_declarations),
        cmocka_unit_test(test_no_unlisted_events),
        cmocka_unit_test(test_functions),
        cmocka_unit_test(test_constructors_and_bytecode),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
