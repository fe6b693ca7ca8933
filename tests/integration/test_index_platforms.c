/* test_index_platforms.c - the role sources that need more than one log:
 * joins (Spheron: a lease's token and blocks from its order, its amount a
 * rate per block; Fluence: a deposit's buyer and token from its deal's
 * DealCreated), factories (Fluence: one contract per deal, found through
 * the 13-parameter DealCreated), indexed strings and
 * address arrays (Swan: taskUid hash, cpList), shifted ids and token
 * transfers (Golem: funder = id >> 96, GLM Transfer as a transfer record).
 *
 * The look-alike contracts of fixtures/contracts are deployed on anvil and
 * driven from dev accounts.  Oracles: the arguments the test passed (the
 * amounts, accounts, specs text, task uid), addresses the node reported
 * (deployed contracts, the deal address in the DealCreated receipt),
 * keccak-256 of the task uid computed here, the funder packed into the
 * deposit id by the contract's documented layout.  Joins and factory
 * contracts must survive a restart between the two events: the second
 * half of each scenario is indexed by a new run on the same store.
 */
#include "index_testlib.h"

#include "gpuledger/keccak.h"

#include "../support/faultproxy.h"

#define MAXU "115792089237316195423570985008687907853269984665640564039457584007913129639935"

static tl_node N;
static char TMP[256];

static int setup(void **state)
{
    (void)state;
    if (tl_node_start(&N, 0, NULL))
        return -1;
    tl_tmpdir(TMP, sizeof TMP, "platforms");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    tl_node_stop(&N);
    if (TMP[0])
        tl_rm_rf(TMP);
    return 0;
}

static const char *url(void) { return gl_anvil_url(N.node); }

/* The word of a decimal or address as ids store it. */
static void word_of_u64(uint64_t v, uint8_t w[32])
{
    memset(w, 0, 32);
    for (int i = 0; i < 8; i++)
        w[31 - i] = (uint8_t)(v >> (8 * i));
}

static const gl_store_event *find_event(const gl_store_event *evs, size_t n, const char *name, size_t nth)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(evs[i].name, name) && nth-- == 0)
            return &evs[i];
    fail_msg("no %s event", name);
    return NULL;
}

static size_t count_events(const gl_store_event *evs, size_t n, const char *name)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        k += !strcmp(evs[i].name, name);
    return k;
}

/* ------------------------------------------------------------------ Spheron */

static void test_spheron_join_across_restart(void **state)
{
    (void)state;
    char usdc[43], orders[43], leases[43];
    tl_deploy(&N, N.acct[0], "MockStablecoin", NULL, NULL, usdc);
    tl_deploy(&N, N.acct[0], "SpheronOrderRequest", NULL, NULL, orders);
    tl_deploy(&N, N.acct[0], "SpheronComputeLease", "(address,uint32)", json_pack("[s,i]", orders, 2), leases);
    tl_transact_void(&N, N.acct[0], orders, "setComputeLease(address)", json_pack("[s]", leases), NULL);
    uint64_t start = tl_head(&N);
    for (int t = 3; t <= 4; t++) {
        tl_transact_void(&N, N.acct[0], usdc, "mint(address,uint256)", json_pack("[s,s]", N.acct[t], "1000000000"),
                         NULL);
        tl_transact_void(&N, N.acct[t], usdc, "approve(address,uint256)", json_pack("[s,s]", orders, MAXU), NULL);
    }
    /* Orders 1 and 2, then (after a restart) their leases. */
    /* Prices are rates per block in 18-decimal units, as on Spheron; the
     * totals in USDC (6 decimals) are rate x blocks x 10^6 / 10^18:
     * order 1: 5e16 x 100 -> 5000000 escrowed, accepted 4e16 x 100 -> 4000000;
     * order 2: 1.4e17 x 50 -> 7000000 escrowed, accepted 1.3e17 x 50 -> 6500000.
     * Specs in the compressed form Spheron's SDK writes. */
    tl_transact_void(&N, N.acct[3], orders, "createOrder(uint256,uint64,address,string,uint8)",
                     json_pack("[s,i,s,s,i]", "50000000000000000", 100, usdc,
                               "{n:a,s:[{n:w,r:{i:1,c:{u:1000,a:[]},g:{a:[{k:vendor/nvidia/model/A100-40GB,v:true}],"
                               "u:2},e:[]},c:1}]}",
                               1),
                     NULL);
    uint64_t order1_block = tl_head(&N);
    tl_transact_void(&N, N.acct[4], orders, "createOrder(uint256,uint64,address,string,uint8)",
                     json_pack("[s,i,s,s,i]", "140000000000000000", 50, usdc,
                               "{n:b,s:[{n:w,r:{i:1,c:{u:1000,a:[]},g:{a:[{k:vendor/nvidia/model/H100-SXM5-80GB,"
                               "v:true},{k:req_vram,v:80Gi}],u:8},e:[]},c:1}]}",
                               1),
                     NULL);
    uint64_t mid = tl_head(&N);
    tl_transact_void(&N, N.acct[1], orders, "matchOrder(uint64,uint256,uint256)",
                     json_pack("[i,s,i]", 1, "40000000000000000", 0), NULL);
    tl_transact_void(&N, N.acct[2], orders, "matchOrder(uint64,uint256,uint256)",
                     json_pack("[i,s,i]", 2, "130000000000000000", 0), NULL);
    /* the escrow moved the totals: 5000000 + 7000000 in, refunds 1000000 and 500000 out */
    gl_buf call = GL_BUF_INIT;
    tl_encode_call(&call, "balanceOf(address)", json_pack("[s]", leases));
    char *hex = malloc(2 * call.len + 3);
    assert_non_null(hex);
    gl_hex_encode(call.data, call.len, true, hex);
    json_t *bal = tl_rpc(&N, "eth_call", json_pack("[{s:s, s:s}, s]", "to", usdc, "data", hex, "latest"));
    free(hex);
    gl_buf_release(&call);
    /* 10500000 = 0xa037a0 */
    assert_string_equal(json_string_value(bal),
                        "0x0000000000000000000000000000000000000000000000000000000000a037a0");
    json_decref(bal);

    gl_platform *p = tl_platform(
        "{\"format\":\"gpuledger-platform/1\",\"name\":\"spheron-test\",\"platform\":\"spheron\",\"chain_id\":31337,"
        "\"block_time_seconds\":2,\"tokens\":{\"%s\":{\"symbol\":\"USDC\",\"decimals\":6}},"
        "\"contracts\":["
        "{\"name\":\"OrderRequest\",\"address\":\"%s\",\"start_block\":%" PRIu64 ",\"abis\":[{\"from_block\":%" PRIu64
        ",\"to_block\":null,\"events\":[\"event OrderCreated(uint64 orderId, address creator, uint256 maxPrice, uint64 "
        "numOfBlocks, address token, string specs, uint16 version, uint8 mode)\"]}]},"
        "{\"name\":\"ComputeLease\",\"address\":\"%s\",\"start_block\":%" PRIu64 ",\"abis\":[{\"from_block\":%" PRIu64
        ",\"to_block\":null,\"events\":[\"event LeaseCreated(uint256 leaseId, uint256 fizzId, uint64 requestId, "
        "uint256 acceptedPrice, address providerAddress, address tenantAddress, uint32 startBlock, uint32 startTime, "
        "uint32 endTime, uint8 state)\"]}]}],"
        "\"events\":{"
        "\"OrderCreated\":{\"kind\":\"offer\",\"buyer\":\"creator\","
        "\"amount\":{\"field\":\"maxPrice\",\"per\":\"block\",\"scale_decimals\":18},\"token\":\"token\","
        "\"duration_blocks\":\"numOfBlocks\",\"lease_id\":\"orderId\","
        "\"gpu_model\":{\"field\":\"specs\",\"pattern\":\"vendor/[A-Za-z0-9_-]+/model/([A-Za-z0-9_.+-]+)\"},"
        "\"gpu_count\":{\"field\":\"specs\",\"pattern\":\"[{,]g:\\\\{a:\\\\[[^]]*\\\\],u:([0-9]+)\"}},"
        "\"LeaseCreated\":{\"kind\":\"lease\",\"buyer\":\"tenantAddress\",\"provider\":\"providerAddress\","
        "\"amount\":{\"field\":\"acceptedPrice\",\"per\":\"block\",\"scale_decimals\":18},\"lease_id\":\"leaseId\","
        "\"token\":{\"join\":\"OrderCreated\",\"on\":{\"orderId\":\"requestId\"},\"field\":\"token\"},"
        "\"duration_blocks\":{\"join\":\"OrderCreated\",\"on\":{\"orderId\":\"requestId\"},"
        "\"field\":\"numOfBlocks\"}}}}",
        usdc, orders, start, start, leases, start, start);

    char dir[300];
    snprintf(dir, sizeof dir, "%s/spheron", TMP);
    tl_run_opts ro = {.verify = GL_INDEXER_VERIFY_HEADERS, .has_to = true, .to = mid};
    gl_indexer_stats st = tl_index(url(), dir, p, &ro);
    assert_int_equal(st.events, 2);
    st = tl_index(url(), dir, p, NULL); /* a new run: the orders are only in the store */
    assert_int_equal(st.events, 2);
    assert_int_equal(st.findings, 0);

    gl_store *s = tl_store_open(dir, false);
    gl_store_event *evs;
    size_t n = tl_events(s, GL_ANVIL_DEFAULT_CHAIN_ID, &evs);
    assert_int_equal(n, 4);
    uint8_t u[20];
    tl_addr(usdc, u);
    const gl_store_event *o1 = find_event(evs, n, "OrderCreated", 0);
    assert_string_equal(o1->gpu_model, "A100-40GB");
    assert_int_equal(o1->gpu_count, 2);
    assert_true(tl_has_role(o1, GL_STORE_ROLE_BUYER, N.acct[3]));
    assert_int_equal(tl_u64(&o1->amount), 5000000);
    const gl_store_event *o2 = find_event(evs, n, "OrderCreated", 1);
    assert_string_equal(o2->gpu_model, "H100-SXM5-80GB");
    assert_int_equal(o2->gpu_count, 8);
    for (int k = 0; k < 2; k++) {
        const gl_store_event *l = find_event(evs, n, "LeaseCreated", (size_t)k);
        assert_true(tl_has_role(l, GL_STORE_ROLE_BUYER, N.acct[3 + k]));
        assert_true(tl_has_role(l, GL_STORE_ROLE_PROVIDER, N.acct[1 + k]));
        assert_int_equal(tl_u64(&l->amount), k ? 6500000 : 4000000); /* rate x the order's blocks */
        assert_int_equal(l->duration_s, k ? 100 : 200);                /* the order's blocks x 2 s */
        assert_true(l->has_token); /* joined from the stored order */
        assert_memory_equal(l->token, u, 20);
        uint8_t w[32];
        word_of_u64((uint64_t)k + 1, w);
        assert_memory_equal(tl_id(l, "leaseId")->value, w, 32);
    }
    free(evs);
    gl_store_close(s);

    /* Without order 1 in the store the joins (token, blocks) are findings,
     * and the lease keeps no token and no amount (never guessed as the
     * native coin, nor a rate taken for a total). */
    char dir2[300];
    snprintf(dir2, sizeof dir2, "%s/spheron-late", TMP);
    tl_run_opts late = {.verify = GL_INDEXER_VERIFY_HEADERS, .has_from = true, .from = order1_block + 1};
    st = tl_index(url(), dir2, p, &late);
    assert_int_equal(st.findings, 2);
    s = tl_store_open(dir2, false);
    n = tl_events(s, GL_ANVIL_DEFAULT_CHAIN_ID, &evs);
    assert_int_equal(n, 3);
    const gl_store_event *l1 = find_event(evs, n, "LeaseCreated", 0);
    assert_false(l1->has_token);
    assert_false(l1->has_amount);
    const gl_store_event *l2 = find_event(evs, n, "LeaseCreated", 1);
    assert_true(l2->has_token);
    json_t *f = tl_findings(s, GL_ANVIL_DEFAULT_CHAIN_ID);
    assert_int_equal(json_array_size(f), 2);
    const json_t *x = NULL;
    for (size_t i = 0; i < 2; i++) {
        const json_t *y = json_array_get(f, i);
        assert_string_equal(json_string_value(json_object_get(y, "kind")), "unresolved_join");
        assert_string_equal(json_string_value(json_object_get(y, "value")), "1");
        if (!strcmp(json_string_value(json_object_get(y, "role")), "token"))
            x = y;
    }
    assert_non_null(x);
    /* the dropped amount is kept as what it was: a rate, not a total */
    assert_string_equal(json_string_value(json_object_get(json_object_get(x, "amount"), "rate")), "40000000000000000");
    json_decref(f);
    free(evs);
    gl_store_close(s);
    gl_platform_free(p);
}

/* ------------------------------------------------------------------ Fluence */

static void test_fluence_factory_across_restart(void **state)
{
    (void)state;
    char usdc[43], impl[43], factory[43], deal[2][43];
    tl_deploy(&N, N.acct[0], "MockStablecoin", NULL, NULL, usdc);
    tl_deploy(&N, N.acct[0], "FluenceDeal", NULL, NULL, impl);
    tl_deploy(&N, N.acct[0], "FluenceDealFactory", "(address,uint256)", json_pack("[s,i]", impl, 3600), factory);
    uint64_t start = tl_head(&N);
    tl_transact_void(&N, N.acct[0], usdc, "mint(address,uint256)", json_pack("[s,s]", N.acct[5], "1000000000"), NULL);
    uint64_t mid = 0;
    for (int d = 0; d < 2; d++) {
        json_t *r = tl_transact(&N, N.acct[5], factory, "deployDeal(address,address,uint256)",
                                json_pack("[s,s,i]", usdc, N.acct[1 + d], 1000), NULL);
        /* The deal address: the DealCreated log's first data word. */
        const json_t *logs = json_object_get(r, "logs");
        const char *data = NULL;
        for (size_t i = 0; i < json_array_size(logs); i++)
            if (!strcasecmp(json_string_value(json_object_get(json_array_get(logs, i), "address")), factory))
                data = json_string_value(json_object_get(json_array_get(logs, i), "data"));
        assert_non_null(data);
        snprintf(deal[d], sizeof deal[d], "0x%.40s", data + 2 + 24);
        json_decref(r);
        tl_transact_void(&N, N.acct[5], usdc, "approve(address,uint256)", json_pack("[s,s]", deal[d], MAXU), NULL);
        if (d == 1)
            mid = tl_head(&N); /* deal 2 exists, its deposits come after */
        tl_transact_void(&N, N.acct[5], deal[d], "deposit(uint256)", json_pack("[i]", 100000 * (d + 1)), NULL);
        tl_transact_void(&N, N.acct[5], deal[d], "deposit(uint256)", json_pack("[i]", 7), NULL);
    }
    gl_platform *p = tl_platform(
        "{\"format\":\"gpuledger-platform/1\",\"name\":\"fluence-test\",\"platform\":\"fluence\",\"chain_id\":31337,"
        "\"contracts\":[{\"name\":\"DealFactory\",\"address\":\"%s\",\"start_block\":%" PRIu64 ",\"abis\":[{"
        "\"from_block\":%" PRIu64 ",\"to_block\":null,\"events\":[\"event DealCreated(address indexed owner, address "
        "deal, uint256 createdAtEpoch, address paymentToken, uint256 minWorkers, uint256 targetWorkers, uint256 "
        "maxWorkersPerProvider, uint256 pricePerWorkerEpoch, (bytes4 prefixes, bytes32 hash)[] effectors, (bytes4 "
        "prefixes, bytes32 hash) appCID, uint8 providersAccessType_, address[] providersAccessList_, uint256 "
        "protocolVersion_)\"]}]}],"
        "\"factories\":[{\"name\":\"Deal\",\"factory\":\"DealFactory\",\"event\":\"DealCreated\",\"address_field\":"
        "\"deal\",\"abis\":[{\"from_block\":0,\"to_block\":null,\"events\":[\"event Deposited(uint256 amount)\","
        "\"event ProviderPaid(address indexed provider, uint256 amount)\"]}]}],"
        "\"events\":{\"DealCreated\":{\"kind\":\"registration\",\"buyer\":\"owner\"},"
        "\"Deposited\":{\"kind\":\"payment\",\"amount\":\"amount\",\"lease_id\":\"log.address\","
        "\"buyer\":{\"join\":\"DealCreated\",\"on\":{\"deal\":\"log.address\"},\"field\":\"owner\"},"
        "\"token\":{\"join\":\"DealCreated\",\"on\":{\"deal\":\"log.address\"},\"field\":\"paymentToken\"}}}}",
        factory, start, start);
    char dir[300], one[300];
    snprintf(dir, sizeof dir, "%s/fluence", TMP);
    snprintf(one, sizeof one, "%s/fluence-one", TMP);
    tl_run_opts ro = {.verify = GL_INDEXER_VERIFY_HEADERS, .has_to = true, .to = mid};
    tl_index(url(), dir, p, &ro);
    tl_index(url(), dir, p, NULL); /* deal 2 is known only from the store */
    gl_indexer_stats st1 = tl_index(url(), one, p, NULL);
    tl_assert_same_store(dir, one, NULL);
    /* One address per eth_getLogs filter (the factory, then each deal on its
     * own): more requests, the same store. */
    char chunked[300];
    snprintf(chunked, sizeof chunked, "%s/fluence-chunked", TMP);
    tl_run_opts rc1 = {.verify = GL_INDEXER_VERIFY_HEADERS, .addresses_per_request = 1};
    gl_indexer_stats stc = tl_index(url(), chunked, p, &rc1);
    assert_true(stc.log_requests > st1.log_requests);
    tl_assert_same_store(chunked, one, NULL);

    gl_store *s = tl_store_open(dir, false);
    gl_store_event *evs;
    size_t n = tl_events(s, GL_ANVIL_DEFAULT_CHAIN_ID, &evs);
    assert_int_equal(count_events(evs, n, "DealCreated"), 2);
    assert_int_equal(count_events(evs, n, "Deposited"), 4);
    uint8_t u[20];
    tl_addr(usdc, u);
    for (int k = 0; k < 4; k++) {
        const gl_store_event *e = find_event(evs, n, "Deposited", (size_t)k);
        uint8_t d[20];
        tl_addr(deal[k / 2], d);
        assert_memory_equal(e->contract, d, 20);
        assert_true(tl_has_role(e, GL_STORE_ROLE_BUYER, N.acct[5]));
        assert_int_equal(tl_u64(&e->amount), k % 2 ? 7 : 100000 * (uint64_t)(k / 2 + 1));
        assert_memory_equal(e->token, u, 20);
        assert_memory_equal(tl_id(e, "lease_id")->value + 12, d, 20);
    }
    const gl_store_event *c = find_event(evs, n, "DealCreated", 1);
    uint8_t d1[20];
    tl_addr(deal[1], d1);
    assert_memory_equal(tl_id(c, "deal")->value + 12, d1, 20);
    free(evs);
    gl_store_close(s);
    gl_platform_free(p);
}

/* --------------------------------------------------------------- Swan, Golem */

static void test_swan_and_golem_sources(void **state)
{
    (void)state;
    char swan[43], tm[43], cp[2][43], glm[43], lock[43];
    tl_deploy(&N, N.acct[0], "SwanToken", NULL, NULL, swan);
    tl_deploy(&N, N.acct[0], "SwanTaskManager", "(address)", json_pack("[s]", swan), tm);
    for (int i = 0; i < 2; i++)
        tl_deploy(&N, N.acct[1 + i], "SwanCpAccount", "(address,string)",
                  json_pack("[s,s]", N.acct[7 + i], i ? "node-b" : "node-a"), cp[i]);
    tl_deploy(&N, N.acct[0], "GlmToken", NULL, NULL, glm);
    tl_deploy(&N, N.acct[0], "GolemLockPayment", "(address)", json_pack("[s]", glm), lock);
    uint64_t start = tl_head(&N);
    tl_transact_void(&N, N.acct[0], swan, "mint(address,uint256)", json_pack("[s,s]", N.acct[3], "1000000"), NULL);
    tl_transact_void(&N, N.acct[3], swan, "approve(address,uint256)", json_pack("[s,s]", tm, MAXU), NULL);
    tl_transact_void(&N, N.acct[3], tm, "assignTask(string,address[],address,uint256,uint256)",
                     json_pack("[s,[s,s],s,i,i]", "task-0042", cp[0], cp[1], N.acct[4], 900, 7200), NULL);
    tl_transact_void(&N, N.acct[0], glm, "mint(address,uint256)", json_pack("[s,s]", N.acct[5], "5000000"), NULL);
    tl_transact_void(&N, N.acct[5], glm, "approve(address,uint256)", json_pack("[s,s]", lock, MAXU), NULL);
    tl_transact_void(&N, N.acct[5], lock, "createDeposit(uint64,address,uint128,uint128,uint64)",
                     json_pack("[i,s,i,i,i]", 77, N.acct[6], 40000, 100, 2000000000), NULL);
    tl_transact_void(&N, N.acct[5], glm, "transfer(address,uint256)", json_pack("[s,i]", N.acct[8], 1234), NULL);

    gl_platform *sw = tl_platform(
        "{\"format\":\"gpuledger-platform/1\",\"name\":\"swan-test\",\"platform\":\"swan\",\"chain_id\":31337,"
        "\"contracts\":[{\"name\":\"TaskManager\",\"address\":\"%s\",\"start_block\":%" PRIu64 ",\"abis\":[{"
        "\"from_block\":%" PRIu64 ",\"to_block\":null,\"events\":[\"event TaskCreated(string indexed taskUid, "
        "address[] cpList, address user, uint256 reward, uint256 duration)\"]}]}],"
        "\"events\":{\"TaskCreated\":{\"kind\":\"lease\",\"buyer\":\"user\",\"provider\":\"cpList\","
        "\"payer\":\"tx.from\",\"amount\":\"reward\",\"token\":\"%s\",\"lease_id\":\"taskUid\","
        "\"duration_seconds\":\"duration\"}}}",
        tm, start, start, swan);
    gl_platform *go = tl_platform(
        "{\"format\":\"gpuledger-platform/1\",\"name\":\"golem-test\",\"platform\":\"golem\",\"chain_id\":31337,"
        "\"contracts\":["
        "{\"name\":\"LockPayment\",\"address\":\"%s\",\"start_block\":%" PRIu64 ",\"abis\":[{\"from_block\":%" PRIu64
        ",\"to_block\":null,\"events\":[\"event DepositCreated(uint256 indexed id, address spender)\"]}]},"
        "{\"name\":\"GLM\",\"address\":\"%s\",\"start_block\":%" PRIu64 ",\"abis\":[{\"from_block\":%" PRIu64
        ",\"to_block\":null,\"events\":[\"event Transfer(address indexed from, address indexed to, uint256 value)\"]}]}],"
        "\"events\":{\"DepositCreated\":{\"kind\":\"deposit\",\"buyer\":\"id>>96\",\"payer\":\"tx.from\","
        "\"lease_id\":\"id\"},"
        "\"Transfer\":{\"kind\":\"transfer\",\"payer\":\"from\",\"provider\":\"to\",\"amount\":\"value\","
        "\"token\":\"log.address\"}}}",
        lock, start, start, glm, start, start);
    char d1[300], d2[300];
    snprintf(d1, sizeof d1, "%s/swan", TMP);
    snprintf(d2, sizeof d2, "%s/golem", TMP);
    tl_index(url(), d1, sw, NULL);
    tl_index(url(), d2, go, NULL);

    gl_store *s = tl_store_open(d1, false);
    gl_store_event *evs;
    size_t n = tl_events(s, GL_ANVIL_DEFAULT_CHAIN_ID, &evs);
    assert_int_equal(n, 1);
    assert_true(tl_has_role(&evs[0], GL_STORE_ROLE_BUYER, N.acct[4]));
    assert_true(tl_has_role(&evs[0], GL_STORE_ROLE_PROVIDER, cp[0]));
    assert_true(tl_has_role(&evs[0], GL_STORE_ROLE_PROVIDER, cp[1]));
    assert_true(tl_has_role(&evs[0], GL_STORE_ROLE_PAYER, N.acct[3]));
    assert_int_equal(tl_u64(&evs[0].amount), 900);
    assert_int_equal(evs[0].duration_s, 7200);
    uint8_t h[32];
    gl_keccak256("task-0042", 9, h);
    assert_memory_equal(tl_id(&evs[0], "taskUid")->value, h, 32);
    free(evs);
    gl_store_close(s);

    s = tl_store_open(d2, false);
    n = tl_events(s, GL_ANVIL_DEFAULT_CHAIN_ID, &evs);
    assert_int_equal(count_events(evs, n, "DepositCreated"), 1);
    const gl_store_event *dc = find_event(evs, n, "DepositCreated", 0);
    assert_true(tl_has_role(dc, GL_STORE_ROLE_BUYER, N.acct[5])); /* id >> 96 */
    const gl_store_id *id = tl_id(dc, "id");
    uint8_t f5[20];
    tl_addr(N.acct[5], f5);
    assert_memory_equal(id->value, f5, 20);                          /* funder in the top 20 bytes */
    assert_int_equal(id->value[31], 77);                             /* the nonce at the bottom */
    gl_err err;
    gl_store_iter *it = gl_store_iter_transfers(s, GL_ANVIL_DEFAULT_CHAIN_ID, 0, UINT64_MAX - 1, &err);
    assert_non_null(it);
    bool direct = false;
    size_t ntr = 0;
    for (;;) {
        gl_store_transfer t;
        bool end;
        assert_int_equal(gl_store_next_transfer(it, &t, &end, &err), GL_OK);
        if (end)
            break;
        if (t.asset != GL_STORE_ASSET_ERC20)
            continue;
        ntr++;
        uint8_t g[20], to[20];
        tl_addr(glm, g);
        tl_addr(N.acct[8], to);
        assert_memory_equal(t.token, g, 20);
        assert_int_equal(t.pos.kind, GL_STORE_POS_LOG);
        if (!memcmp(t.to, to, 20)) {
            assert_memory_equal(t.from, f5, 20);
            uint64_t v;
            assert_true(gl_u256_to_u64(&t.amount, &v));
            assert_int_equal(v, 1234);
            direct = true;
        }
    }
    gl_store_iter_free(it);
    assert_true(direct);
    assert_int_equal(ntr, count_events(evs, n, "Transfer"));
    assert_int_equal(ntr, 3); /* GLM: the mint, the deposit's pull (amount + fee at once), the transfer */
    free(evs);
    gl_store_close(s);
    gl_platform_free(sw);
    gl_platform_free(go);
}

/* Thousands of factory-created contracts: every deal's address goes into
 * the eth_getLogs filters, at most --addresses-per-request of them in one.
 * A node of its own, automine off: 2,000 deployDeal, then an approve and a
 * deposit for each deal, packed into blocks by evm_mine (gas given, nonces
 * counted, so nothing is estimated against the pending state).  The node's
 * own logs are the oracle: every Deposited event it holds is stored, with
 * its deal, amount and position; a proxy refusing any filter of more than
 * 64 addresses refuses nothing; and the store equals one indexed with the
 * default chunk of 500 addresses, byte for byte. */
#define DEALS 2000

static void send_nonce(tl_node *n, const char *from, const char *to, const char *sig, json_t *args, uint64_t nonce,
                       uint64_t gas)
{
    gl_buf data = GL_BUF_INIT;
    tl_encode_call(&data, sig, args);
    char *hex = gl_hex_encode_alloc(data.data, data.len, true);
    gl_buf_release(&data);
    char nq[24], gq[24];
    snprintf(nq, sizeof nq, "0x%" PRIx64, nonce);
    snprintf(gq, sizeof gq, "0x%" PRIx64, gas);
    json_t *tx = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "from", from, "to", to, "data", hex, "nonce", nq, "gas", gq,
                           "maxFeePerGas", "0x174876e800");
    free(hex);
    tl_rpc_void(n, "eth_sendTransaction", json_pack("[o]", tx));
}

/* Mine until the pool is empty; returns the blocks mined. */
static unsigned mine_all(tl_node *n)
{
    unsigned blocks = 0;
    for (;;) {
        json_t *st = tl_rpc(n, "txpool_status", NULL);
        uint64_t pending = tl_qty(json_object_get(st, "pending"));
        json_decref(st);
        if (!pending)
            return blocks;
        assert_true(blocks < 1000);
        tl_rpc_void(n, "evm_mine", NULL);
        blocks++;
    }
}

static json_t *node_logs(tl_node *n, const char *address, const char *topic0, uint64_t from)
{
    char q[24];
    snprintf(q, sizeof q, "0x%" PRIx64, from);
    json_t *flt = json_pack("{s:s,s:s}", "fromBlock", q, "toBlock", "latest");
    if (address)
        json_object_set_new(flt, "address", json_string(address));
    if (topic0)
        json_object_set_new(flt, "topics", json_pack("[s]", topic0));
    return tl_rpc(n, "eth_getLogs", json_pack("[o]", flt));
}

static void test_fluence_thousands_of_deals(void **state)
{
    (void)state;
    tl_node C;
    if (tl_node_start(&C, 0, NULL))
        fail_msg("cannot start a node for the deals");
    const char *owner = C.acct[5];
    char usdc[43], impl[43], factory[43];
    tl_deploy(&C, C.acct[0], "MockStablecoin", NULL, NULL, usdc);
    tl_deploy(&C, C.acct[0], "FluenceDeal", NULL, NULL, impl);
    tl_deploy(&C, C.acct[0], "FluenceDealFactory", "(address,uint256)", json_pack("[s,i]", impl, 3600), factory);
    uint64_t start = tl_head(&C);
    tl_transact_void(&C, C.acct[0], usdc, "mint(address,uint256)", json_pack("[s,s]", owner, "1000000000000000"), NULL);

    tl_rpc_void(&C, "evm_setAutomine", json_pack("[b]", 0));
    json_t *nj = tl_rpc(&C, "eth_getTransactionCount", json_pack("[s,s]", owner, "latest"));
    uint64_t nonce = tl_qty(nj);
    json_decref(nj);
    /* In waves of 400 transactions: anvil's pool drops what waits too long. */
    unsigned b1 = 0, b2 = 0;
    for (int i = 0; i < DEALS; i++) {
        send_nonce(&C, owner, factory, "deployDeal(address,address,uint256)",
                   json_pack("[s,s,i]", usdc, C.acct[1 + i % 4], 1000), nonce++, 400000);
        if (i % 400 == 399)
            b1 += mine_all(&C);
    }
    b1 += mine_all(&C);
    json_t *created = node_logs(&C, factory, NULL, start);
    assert_int_equal(json_array_size(created), DEALS);
    for (size_t i = 0; i < DEALS; i++) {
        const char *data = json_string_value(json_object_get(json_array_get(created, i), "data"));
        char deal[43];
        snprintf(deal, sizeof deal, "0x%.40s", data + 2 + 24);
        send_nonce(&C, owner, usdc, "approve(address,uint256)", json_pack("[s,s]", deal, MAXU), nonce++, 80000);
        char amount[24];
        snprintf(amount, sizeof amount, "%zu", 1000 + i);
        send_nonce(&C, owner, deal, "deposit(uint256)", json_pack("[s]", amount), nonce++, 150000);
        if (i % 200 == 199)
            b2 += mine_all(&C);
    }
    json_decref(created);
    b2 += mine_all(&C);
    tl_rpc_void(&C, "evm_setAutomine", json_pack("[b]", 1));
    char topic[67];
    uint8_t t0[32];
    gl_keccak256((const uint8_t *)"Deposited(uint256)", 18, t0);
    gl_hex_encode(t0, 32, true, topic);
    json_t *deposits = node_logs(&C, NULL, topic, start);
    fprintf(stderr, "test_index_platforms: %d deals in %u blocks, their deposits in %u blocks: %zu Deposited\n", DEALS,
            b1, b2, json_array_size(deposits));
    assert_int_equal(json_array_size(deposits), DEALS); /* every deposit went through */

    gl_platform *p = tl_platform(
        "{\"format\":\"gpuledger-platform/1\",\"name\":\"fluence-many\",\"platform\":\"fluence\",\"chain_id\":31337,"
        "\"contracts\":[{\"name\":\"DealFactory\",\"address\":\"%s\",\"start_block\":%" PRIu64 ",\"abis\":[{"
        "\"from_block\":%" PRIu64 ",\"to_block\":null,\"events\":[\"event DealCreated(address indexed owner, address "
        "deal, uint256 createdAtEpoch, address paymentToken, uint256 minWorkers, uint256 targetWorkers, uint256 "
        "maxWorkersPerProvider, uint256 pricePerWorkerEpoch, (bytes4 prefixes, bytes32 hash)[] effectors, (bytes4 "
        "prefixes, bytes32 hash) appCID, uint8 providersAccessType_, address[] providersAccessList_, uint256 "
        "protocolVersion_)\"]}]}],"
        "\"factories\":[{\"name\":\"Deal\",\"factory\":\"DealFactory\",\"event\":\"DealCreated\",\"address_field\":"
        "\"deal\",\"abis\":[{\"from_block\":0,\"to_block\":null,\"events\":[\"event Deposited(uint256 amount)\"]}]}],"
        "\"events\":{\"DealCreated\":{\"kind\":\"registration\",\"buyer\":\"owner\"},"
        "\"Deposited\":{\"kind\":\"payment\",\"buyer\":\"tx.from\",\"amount\":\"amount\",\"token\":\"%s\","
        "\"lease_id\":\"log.address\"}}}",
        factory, start, start, usdc);
    gl_fproxy *fp = gl_fproxy_start(gl_anvil_url(C.node), 3);
    assert_non_null(fp);
    gl_fault_rule wide = {.kind = GL_FAULT_LOGS_REFUSE, .variant = 1, .cap = 64};
    assert_true(gl_fproxy_set_rules(fp, &wide, 1));
    char dir[300], dflt[300];
    snprintf(dir, sizeof dir, "%s/deals-64", TMP);
    snprintf(dflt, sizeof dflt, "%s/deals-500", TMP);
    tl_run_opts ro = {.verify = GL_INDEXER_VERIFY_HEADERS, .addresses_per_request = 64};
    gl_indexer_stats st = tl_index(gl_fproxy_url(fp), dir, p, &ro);
    unsigned calls = gl_fproxy_calls(fp, "eth_getLogs"), refused = gl_fproxy_injected(fp, GL_FAULT_LOGS_REFUSE);
    gl_fproxy_stop(fp);
    gl_indexer_stats sd = tl_index(gl_anvil_url(C.node), dflt, p, NULL);
    fprintf(stderr,
            "test_index_platforms: %" PRIu64 " events; 64 addresses a filter: %u eth_getLogs (%u refused), 500: %" PRIu64
            "\n",
            st.events, calls, refused, sd.log_requests);
    assert_int_equal(refused, 0);
    assert_true(calls >= DEALS / 64);
    assert_true(sd.log_requests < calls);
    assert_int_equal(st.events, 2 * DEALS);
    tl_assert_same_store(dir, dflt, NULL);

    /* Every Deposited the node holds, stored at its position, with its deal
     * and amount. */
    gl_store *s = tl_store_open(dir, false);
    gl_store_event *evs;
    size_t n = tl_events(s, GL_ANVIL_DEFAULT_CHAIN_ID, &evs);
    assert_int_equal(count_events(evs, n, "Deposited"), DEALS);
    for (size_t i = 0; i < DEALS; i++) {
        const json_t *lg = json_array_get(deposits, i);
        const gl_store_event *e = find_event(evs, n, "Deposited", i);
        assert_int_equal(e->block, tl_qty(json_object_get(lg, "blockNumber")));
        assert_int_equal(e->log_index, tl_qty(json_object_get(lg, "logIndex")));
        uint8_t d[20];
        tl_addr(json_string_value(json_object_get(lg, "address")), d);
        assert_memory_equal(e->contract, d, 20);
        assert_memory_equal(tl_id(e, "lease_id")->value + 12, d, 20);
        assert_int_equal(tl_u64(&e->amount), tl_qty(json_object_get(lg, "data")));
        assert_true(tl_has_role(e, GL_STORE_ROLE_BUYER, owner));
    }
    free(evs);
    gl_store_close(s);
    json_decref(deposits);
    gl_platform_free(p);
    tl_node_stop(&C);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spheron_join_across_restart),
        cmocka_unit_test(test_fluence_factory_across_restart),
        cmocka_unit_test(test_fluence_thousands_of_deals),
        cmocka_unit_test(test_swan_and_golem_sources),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
