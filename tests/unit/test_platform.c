/* test_platform.c - platform definitions: validation errors name the file,
 * the field and the problem; role sources read what docs/PLATFORMS.md says.
 * Expected values are hand-computed (Golem deposit ids, regex captures) or
 * published (EIP-55 checksummed addresses from the EIP's examples). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gpuledger/indexer.h"
#include "gpuledger/keccak.h"
#include "gpuledger/platform.h"
#include "gpuledger/store.h"

/* A definition exercising every source kind; %s slots let tests break it. */
static const char *base_json =
    "{\"format\":\"gpuledger-platform/1\",\"name\":\"t-net\",\"platform\":\"test\",\"chain_id\":31337,"
    "\"contracts\":[{\"name\":\"Market\",\"address\":\"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed\",\"start_block\":10,"
    "  \"abis\":[{\"from_block\":10,\"to_block\":99,\"events\":["
    "    \"event OrderCreated(uint64 orderId, address creator, address token, string specs)\","
    "    \"event LeaseCreated(uint256 leaseId, uint64 requestId, uint256 acceptedPrice, address providerAddress, address tenantAddress)\","
    "    \"event DepositTransfer(uint256 indexed id, address spender, address recipient, uint128 amount)\","
    "    \"event TaskCreated(string indexed taskUid, address[] cpList, address user, uint256 reward)\"]},"
    "   {\"from_block\":100,\"events\":[\"event Paid(address indexed payer, uint256 amount)\"]}]},"
    " {\"name\":\"Factory\",\"address\":\"0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359\",\"start_block\":10,"
    "  \"abis\":[{\"events\":[\"event DealCreated(address indexed owner, address deal, uint256 createdAtEpoch)\"]}]}],"
    "\"factories\":[{\"name\":\"Deal\",\"factory\":\"Factory\",\"event\":\"DealCreated\",\"address_field\":\"deal\","
    "  \"abis\":[{\"events\":[\"event Deposited(uint256 amount)\"]}]}],"
    "\"events\":{"
    " \"OrderCreated\":{\"kind\":\"other\",\"buyer\":\"creator\",\"token\":\"token\","
    "   \"gpu_model\":{\"field\":\"specs\",\"pattern\":\"gpu=([^;]+)\"},\"gpu_count\":{\"field\":\"specs\",\"pattern\":\"count=([0-9]+)\"}},"
    " \"LeaseCreated\":{\"kind\":\"lease\",\"buyer\":\"tenantAddress\",\"provider\":\"providerAddress\",\"amount\":\"acceptedPrice\","
    "   \"token\":{\"join\":\"OrderCreated\",\"on\":{\"orderId\":\"requestId\"},\"field\":\"token\"}},"
    " \"DepositTransfer\":{\"kind\":\"payment\",\"payer\":\"id>>96\",\"buyer\":\"spender\",\"provider\":\"recipient\",\"amount\":\"amount\",%s},"
    " \"TaskCreated\":{\"kind\":\"lease\",\"buyer\":\"user\",\"provider\":\"cpList[0]\",\"lease_id\":\"taskUid\",\"amount\":\"reward\",\"token\":\"native\"},"
    " \"Deposited\":{\"kind\":\"payment\",\"payer\":\"tx.from\",\"provider\":\"log.address\",\"amount\":\"amount\","
    "   \"buyer\":{\"join\":\"DealCreated\",\"on\":{\"deal\":\"log.address\"},\"field\":\"owner\"},"
    "   \"gpu_model\":{\"field\":\"amount\",\"pattern\":\"^1([0-9])$|^4(2)$\"}}}%s}";

static gl_code load(gl_platform **p, const char *extra_role, const char *extra_top, gl_err *err)
{
    char *text = NULL;
    if (asprintf(&text, base_json, extra_role, extra_top) < 0)
        return GL_ENOMEM;
    json_error_t je;
    json_t *root = json_loads(text, 0, &je);
    free(text);
    if (!root)
        fail_msg("test JSON does not parse: %s at %d", je.text, je.column);
    gl_code rc = gl_platform_load_json(p, root, "t.json", err);
    json_decref(root);
    return rc;
}

static void expect_error(const char *extra_role, const char *extra_top, const char *needle)
{
    gl_platform *p = NULL;
    gl_err err = {GL_OK, ""};
    assert_int_equal(load(&p, extra_role, extra_top, &err), GL_EINVAL);
    assert_null(p);
    if (!strstr(err.msg, needle) || strncmp(err.msg, "t.json: ", 8))
        fail_msg("error \"%s\" should start with the origin and mention \"%s\"", err.msg, needle);
}

static void test_valid_definition_loads(void **state)
{
    (void)state;
    gl_platform *p = NULL;
    gl_err err = {GL_OK, ""};
    if (load(&p, "\"token\":\"0x52908400098527886E0F7030069857D2E4169EE7\"", "", &err))
        fail_msg("%s", err.msg);
    assert_int_equal(p->chain_id, 31337);
    assert_int_equal(p->confirmations, 12);
    assert_int_equal(p->block_time_ms, 0);
    gl_platform_free(p);
    p = NULL;
    if (load(&p, "\"token\":\"native\"", ",\"block_time_seconds\":0.25", &err))
        fail_msg("%s", err.msg);
    assert_int_equal(p->block_time_ms, 250);
    assert_int_equal(gl_platform_event_map(p, "DepositTransfer")->block_time_ms, 250);
    gl_platform_free(p);
    p = NULL;
    if (load(&p, "\"token\":\"0x52908400098527886E0F7030069857D2E4169EE7\"", "", &err))
        fail_msg("%s", err.msg);
    assert_int_equal(p->ncontracts, 2);
    assert_int_equal(p->contracts[0].nabis, 2);
    assert_int_equal(p->contracts[0].abis[0].to_block, 99);
    assert_int_equal(p->contracts[0].abis[1].to_block, GL_BLOCK_OPEN);
    assert_int_equal(p->nfactories, 1);
    assert_int_equal(p->factories[0].factory, 1);

    /* topic0 lookup honours the ABI's block range and the start block */
    uint8_t topic[32];
    const char *paid = "Paid(address,uint256)";
    gl_keccak256(paid, strlen(paid), topic);
    const uint8_t *addr = p->contracts[0].address;
    assert_null(gl_platform_find_event(p, addr, SIZE_MAX, 99, topic));
    assert_non_null(gl_platform_find_event(p, addr, SIZE_MAX, 100, topic));
    const char *dep = "Deposited(uint256)";
    gl_keccak256(dep, strlen(dep), topic);
    assert_non_null(gl_platform_find_event(p, addr, 0, 50, topic));
    assert_null(gl_platform_find_event(p, addr, SIZE_MAX, 50, topic));
    gl_platform_free(p);
}

static void test_validation_errors_name_the_field(void **state)
{
    (void)state;
    expect_error("\"token\":\"native\"", ",\"colour\":1", "(top): unknown key \"colour\"");
    /* EIP-55: one letter's case flipped */
    expect_error("\"token\":\"0x52908400098527886e0F7030069857D2E4169EE7\"", "", "events.DepositTransfer.token: address");
    expect_error("\"token\":\"native\",\"gpu_count\":\"nosuch\"", "", "events.DepositTransfer.gpu_count: event DepositTransfer has no field \"nosuch\"");
    expect_error("\"token\":\"native\",\"colour\":\"amount\"", "", "unknown role \"colour\"");
    expect_error("\"token\":\"native\",\"hours\":\"id>>300\"", "", "bad shift");
    expect_error("\"token\":\"native\",\"gpu_model\":{\"field\":\"spender\",\"pattern\":\"(\"}", "", "bad pattern");
    expect_error("\"token\":\"native\",\"gpu_model\":{\"field\":\"spender\",\"pattern\":\"abc\"}", "", "capture group");
    expect_error("\"amount\":\"native\"", "", "only a token source");
    expect_error("\"token\":\"native\"", ",\"confirmations\":-1", "confirmations");
    expect_error("\"token\":\"native\"", ",\"block_time_seconds\":0", "block_time_seconds: must be a number");
    expect_error("\"token\":\"native\"", ",\"block_time_seconds\":\"2\"", "block_time_seconds: must be a number");
    /* duplicate definitions of the same key are replaced by the parser; test the semantic ones */
    gl_platform *p = NULL;
    gl_err err;
    json_t *root = json_pack("{s:s}", "format", "gpuledger-platform/2");
    assert_int_equal(gl_platform_load_json(&p, root, "v2.json", &err), GL_EINVAL);
    assert_non_null(strstr(err.msg, "v2.json: format: \"gpuledger-platform/2\" is not supported"));
    json_decref(root);
    assert_int_equal(gl_platform_load_file(&p, "/nonexistent/x.json", &err), GL_EINVAL);
    assert_non_null(strstr(err.msg, "/nonexistent/x.json"));
}

static void test_overlapping_abi_ranges_rejected(void **state)
{
    (void)state;
    const char *text =
        "{\"format\":\"gpuledger-platform/1\",\"name\":\"x\",\"platform\":\"x\",\"chain_id\":1,"
        "\"contracts\":[{\"name\":\"C\",\"address\":\"0x0000000000000000000000000000000000000001\",\"start_block\":5,"
        "\"abis\":[{\"from_block\":5,\"to_block\":20,\"events\":[\"event A(uint256 x)\"]},"
        "{\"from_block\":20,\"events\":[\"event A(uint256 x)\"]}]}],\"events\":{\"A\":{\"kind\":\"other\"}}}";
    json_t *root = json_loads(text, 0, NULL);
    gl_platform *p;
    gl_err err;
    assert_int_equal(gl_platform_load_json(&p, root, "o.json", &err), GL_EINVAL);
    assert_non_null(strstr(err.msg, "o.json: contracts[0].abis[1]: block range overlaps"));
    json_decref(root);
}

static void test_roles_from_every_source(void **state)
{
    (void)state;
    gl_platform *p = NULL;
    gl_err err;
    assert_int_equal(load(&p, "\"token\":\"0x52908400098527886E0F7030069857D2E4169EE7\"", "", &err), GL_OK);

    /* Golem: id = funder << 96 ^ nonce, funder 0x00..0abc, nonce 7 */
    json_t *fields = json_pack("{s:s, s:s, s:s, s:s}", "id", "217718990589198399707058775523335", /* 0xabc<<96 | 7 */
                               "spender", "0x1111111111111111111111111111111111111111", "recipient",
                               "0x2222222222222222222222222222222222222222", "amount", "500");
    json_t *roles = NULL;
    assert_int_equal(gl_platform_apply_roles(&roles, gl_platform_event_map(p, "DepositTransfer"), fields, NULL, &err), GL_OK);
    assert_string_equal(json_string_value(json_object_get(roles, "payer")), "0x0000000000000000000000000000000000000abc");
    assert_string_equal(json_string_value(json_object_get(roles, "token")), "0x52908400098527886e0f7030069857d2e4169ee7");
    assert_string_equal(json_string_value(json_object_get(roles, "amount")), "500");
    assert_null(json_object_get(roles, "unknown"));
    json_decref(roles);
    json_decref(fields);

    /* Spheron-like specs string */
    fields = json_pack("{s:s, s:s, s:s, s:s}", "orderId", "3", "creator", "0x3333333333333333333333333333333333333333",
                       "token", "0x4444444444444444444444444444444444444444", "specs", "gpu=H100-SXM5-80GB;count=8;region=eu");
    assert_int_equal(gl_platform_apply_roles(&roles, gl_platform_event_map(p, "OrderCreated"), fields, NULL, &err), GL_OK);
    assert_string_equal(json_string_value(json_object_get(roles, "gpu_model")), "H100-SXM5-80GB");
    assert_string_equal(json_string_value(json_object_get(roles, "gpu_count")), "8");
    json_decref(roles);
    /* a specs string without the count: the role is unknown, the rest stays */
    json_object_set_new(fields, "specs", json_string("gpu=A100-40GB"));
    assert_int_equal(gl_platform_apply_roles(&roles, gl_platform_event_map(p, "OrderCreated"), fields, NULL, &err), GL_OK);
    assert_string_equal(json_string_value(json_object_get(roles, "gpu_model")), "A100-40GB");
    assert_string_equal(json_string_value(json_array_get(json_object_get(roles, "unknown"), 0)), "gpu_count");
    json_decref(roles);
    json_decref(fields);

    /* join: the lease's token comes from the order it names */
    fields = json_pack("{s:s, s:s, s:s, s:s, s:s}", "leaseId", "1", "requestId", "3", "acceptedPrice", "99",
                       "providerAddress", "0x5555555555555555555555555555555555555555", "tenantAddress",
                       "0x6666666666666666666666666666666666666666");
    assert_int_equal(gl_platform_apply_roles(&roles, gl_platform_event_map(p, "LeaseCreated"), fields, NULL, &err), GL_OK);
    json_t *j = json_object_get(roles, "token");
    assert_string_equal(json_string_value(json_object_get(j, "join")), "OrderCreated");
    assert_string_equal(json_string_value(json_object_get(j, "key")), "orderId");
    assert_string_equal(json_string_value(json_object_get(j, "value")), "3");
    assert_string_equal(json_string_value(json_object_get(j, "field")), "token");
    json_decref(roles);
    json_decref(fields);

    /* array element, indexed string hash, native token */
    fields = json_pack("{s:{s:s}, s:[s,s], s:s, s:s}", "taskUid", "indexed_hash",
                       "0x1c8aff950685c2ed4bc3174f3472287b56d9517b9c948127319a09a7a36deac8", "cpList",
                       "0x7777777777777777777777777777777777777777", "0x8888888888888888888888888888888888888888",
                       "user", "0x9999999999999999999999999999999999999999", "reward", "10");
    assert_int_equal(gl_platform_apply_roles(&roles, gl_platform_event_map(p, "TaskCreated"), fields, NULL, &err), GL_OK);
    assert_string_equal(json_string_value(json_object_get(roles, "provider")), "0x7777777777777777777777777777777777777777");
    assert_string_equal(json_string_value(json_object_get(json_object_get(roles, "lease_id"), "indexed_hash")),
                        "0x1c8aff950685c2ed4bc3174f3472287b56d9517b9c948127319a09a7a36deac8");
    assert_string_equal(json_string_value(json_object_get(roles, "token")), "native");
    json_decref(roles);
    json_decref(fields);

    /* tx.from and log.address */
    uint8_t from[20], deal[20];
    memset(from, 0xaa, 20);
    memset(deal, 0xbb, 20);
    gl_log_context ctx = {from, NULL, deal};
    fields = json_pack("{s:s}", "amount", "42");
    assert_int_equal(gl_platform_apply_roles(&roles, gl_platform_event_map(p, "Deposited"), fields, &ctx, &err), GL_OK);
    assert_string_equal(json_string_value(json_object_get(roles, "payer")), "0xaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
    assert_string_equal(json_string_value(json_object_get(roles, "provider")), "0xbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb");
    /* join keyed on the emitting contract: the deal's owner */
    j = json_object_get(roles, "buyer");
    assert_string_equal(json_string_value(json_object_get(j, "key")), "deal");
    assert_string_equal(json_string_value(json_object_get(j, "value")), "0xbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb");
    /* "42" matches the second alternative: its group is taken */
    assert_string_equal(json_string_value(json_object_get(roles, "gpu_model")), "2");
    json_decref(roles);
    json_decref(fields);
    gl_platform_free(p);
}

/* A bazaar-like event: bytes32 GPU model text, duration in minutes. */
static gl_code load_bazaar(gl_platform **p, const char *gpu_src, const char *dur_src, const char *extra_top,
                           gl_err *err)
{
    char *text = NULL;
    if (asprintf(&text,
                 "{\"format\":\"gpuledger-platform/1\",\"name\":\"bz\",\"platform\":\"bazaar\",\"chain_id\":31337%s,"
                 "\"contracts\":[{\"name\":\"Bazaar\",\"address\":\"0x0000000000000000000000000000000000000001\","
                 "\"start_block\":1,\"abis\":[{\"events\":[\"event Rented(bytes32 indexed rentalId, address indexed renter, "
                 "address indexed host, address payer, bytes32 gpu, uint16 units, uint32 rentMinutes, uint256 cost)\"]}]}],"
                 "\"events\":{\"Rented\":{\"kind\":\"lease\",\"buyer\":\"payer\",\"provider\":\"host\",\"amount\":\"cost\","
                 "\"token\":\"native\",\"gpu_count\":\"units\",\"gpu_model\":%s,\"duration\":%s}}}",
                 extra_top, gpu_src, dur_src) < 0)
        return GL_ENOMEM;
    json_error_t je;
    json_t *root = json_loads(text, 0, &je);
    free(text);
    if (!root)
        fail_msg("test JSON does not parse: %s at %d", je.text, je.column);
    gl_code rc = gl_platform_load_json(p, root, "bz.json", err);
    json_decref(root);
    return rc;
}

static void expect_bazaar_error(const char *gpu_src, const char *dur_src, const char *extra_top, const char *needle)
{
    gl_platform *p = NULL;
    gl_err err = {GL_OK, ""};
    assert_int_equal(load_bazaar(&p, gpu_src, dur_src, extra_top, &err), GL_EINVAL);
    assert_null(p);
    if (!strstr(err.msg, needle) || strncmp(err.msg, "bz.json: ", 9))
        fail_msg("error \"%s\" should start with the origin and mention \"%s\"", err.msg, needle);
}

/* The roles of one Rented log with `gpu` (hex) and `minutes`, filled into
 * a stored event. */
static void fill_rented(const gl_platform *p, const char *gpu, const char *minutes, const char *units, json_t **roles,
                        gl_store_event *ev)
{
    json_t *fields = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "rentalId",
                               "0x00000000000000000000000000000000000000000000000000000000000000ff", "renter",
                               "0x1111111111111111111111111111111111111111", "host",
                               "0x2222222222222222222222222222222222222222", "payer",
                               "0x3333333333333333333333333333333333333333", "gpu", gpu, "units", units, "rentMinutes",
                               minutes, "cost", "1234567");
    gl_err err;
    const gl_event_map *map = gl_platform_event_map(p, "Rented");
    assert_non_null(map);
    assert_int_equal(gl_platform_apply_roles(roles, map, fields, NULL, &err), GL_OK);
    memset(ev, 0, sizeof *ev);
    json_t *skipped = NULL;
    assert_int_equal(gl_indexer_event_fill(ev, map, *roles, &skipped, &err), GL_OK);
    json_decref(skipped);
    json_decref(fields);
}

/* "H100-80GB" as Solidity's bytes32("H100-80GB"): the 9 ASCII bytes
 * 48 31 30 30 2d 38 30 47 42, then 23 zero bytes. */
#define H100_80GB_B32 "0x483130302d383047420000000000000000000000000000000000000000000000"

static void test_bytes32_text_and_minutes(void **state)
{
    (void)state;
    gl_platform *p = NULL;
    gl_err err;
    assert_int_equal(load_bazaar(&p, "{\"field\":\"gpu\",\"as\":\"text\"}", "{\"field\":\"rentMinutes\",\"unit\":\"minutes\"}",
                                 "", &err), GL_OK);
    json_t *roles = NULL;
    gl_store_event ev;
    /* 90 minutes of 2 GPUs: 5400 s, 2 x 1.5 h = 3.000 GPU-hours */
    fill_rented(p, H100_80GB_B32, "90", "2", &roles, &ev);
    assert_string_equal(json_string_value(json_object_get(roles, "gpu_model")), "H100-80GB");
    assert_string_equal(json_string_value(json_object_get(roles, "duration")), "90");
    assert_null(json_object_get(roles, "unknown"));
    assert_string_equal(ev.gpu_model, "H100-80GB");
    assert_int_equal(ev.gpu_count, 2);
    assert_int_equal(ev.duration_s, 5400);
    assert_int_equal(ev.gpu_mhours, 3000);
    json_decref(roles);
    /* 50 minutes of 1 GPU: 833.33 milli-GPU-hours, kept as 833 (rounded down) */
    fill_rented(p, H100_80GB_B32, "50", "1", &roles, &ev);
    assert_int_equal(ev.duration_s, 3000);
    assert_int_equal(ev.gpu_mhours, 833);
    json_decref(roles);
    /* a full 32-byte text has no padding; it is still text */
    fill_rented(p, "0x4142434445464748494a4b4c4d4e4f505152535455565758595a303132333435", "1", "1", &roles, &ev);
    assert_string_equal(json_string_value(json_object_get(roles, "gpu_model")), "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345");
    json_decref(roles);
    /* not text: a control byte, a byte above 0x7e, text after the padding,
     * all zeros: the model is unknown and the other roles stay */
    static const char *const not_text[] = {
        "0x4831300a00000000000000000000000000000000000000000000000000000000",
        "0x48313030ff000000000000000000000000000000000000000000000000000000",
        "0x4831303000410000000000000000000000000000000000000000000000000000",
        "0x0000000000000000000000000000000000000000000000000000000000000000",
    };
    for (size_t i = 0; i < sizeof not_text / sizeof not_text[0]; i++) {
        fill_rented(p, not_text[i], "60", "4", &roles, &ev);
        assert_null(json_object_get(roles, "gpu_model"));
        assert_string_equal(json_string_value(json_array_get(json_object_get(roles, "unknown"), 0)), "gpu_model");
        assert_string_equal(ev.gpu_model, "");
        assert_int_equal(ev.gpu_mhours, 4000);
        json_decref(roles);
    }
    gl_platform_free(p);

    /* the other units: hours, seconds, blocks of 2.5 s */
    assert_int_equal(load_bazaar(&p, "\"gpu\"", "{\"field\":\"rentMinutes\",\"unit\":\"hours\"}", "", &err), GL_OK);
    fill_rented(p, H100_80GB_B32, "3", "2", &roles, &ev);
    assert_int_equal(ev.duration_s, 10800);
    assert_int_equal(ev.gpu_mhours, 6000);
    json_decref(roles);
    gl_platform_free(p);
    assert_int_equal(load_bazaar(&p, "\"gpu\"", "{\"field\":\"rentMinutes\",\"unit\":\"seconds\"}", "", &err), GL_OK);
    fill_rented(p, H100_80GB_B32, "900", "4", &roles, &ev);
    assert_int_equal(ev.duration_s, 900);
    assert_int_equal(ev.gpu_mhours, 1000);
    json_decref(roles);
    gl_platform_free(p);
    assert_int_equal(load_bazaar(&p, "\"gpu\"", "{\"field\":\"rentMinutes\",\"unit\":\"blocks\"}",
                                 ",\"block_time_seconds\":2.5", &err), GL_OK);
    fill_rented(p, H100_80GB_B32, "1440", "1", &roles, &ev); /* 1440 x 2.5 s = 3600 s */
    assert_int_equal(ev.duration_s, 3600);
    assert_int_equal(ev.gpu_mhours, 1000);
    json_decref(roles);
    gl_platform_free(p);

    /* what the loader refuses */
    const char *txt = "{\"field\":\"gpu\",\"as\":\"text\"}", *mins = "{\"field\":\"rentMinutes\",\"unit\":\"minutes\"}";
    expect_bazaar_error(txt, "{\"field\":\"rentMinutes\",\"unit\":\"blocks\"}", "",
                        "events.Rented.duration: a duration in blocks needs the definition's block_time_seconds");
    expect_bazaar_error(txt, "{\"field\":\"rentMinutes\",\"unit\":\"fortnights\"}", "", "unknown unit \"fortnights\"");
    expect_bazaar_error(txt, "\"rentMinutes\"", "", "events.Rented.duration: a duration is {\"field\", \"unit\"}");
    expect_bazaar_error(txt, "{\"field\":\"payer\",\"unit\":\"minutes\"}", "", "is not an unsigned integer");
    expect_bazaar_error(txt, "{\"field\":\"nosuch\",\"unit\":\"minutes\"}", "", "event Rented has no field \"nosuch\"");
    expect_bazaar_error("{\"field\":\"units\",\"as\":\"text\"}", mins, "", "is not bytesN or bytes");
    expect_bazaar_error("{\"field\":\"gpu\",\"as\":\"utf8\"}", mins, "", "unknown \"as\": \"utf8\"");
    expect_bazaar_error("{\"field\":\"gpu\",\"unit\":\"minutes\"}", mins, "", "\"unit\" belongs to the duration role only");
    expect_bazaar_error("{\"field\":\"gpu\",\"as\":\"text\",\"pattern\":\"(.*)\"}", mins, "", "unknown key \"pattern\"");
}

static void test_builtins_all_load(void **state)
{
    (void)state;
    size_t n;
    const gl_platform_builtin *b = gl_platform_builtins(&n);
    for (size_t i = 0; i < n; i++) {
        char name[128];
        snprintf(name, sizeof name, "%.*s", (int)(strlen(b[i].file) - 5), b[i].file);
        gl_platform *p = NULL;
        gl_err err;
        if (gl_platform_resolve(&p, name, &err))
            fail_msg("builtin %s: %s", b[i].file, err.msg);
        assert_string_equal(p->name, name);
        gl_platform_free(p);
    }
    gl_platform *p;
    gl_err err;
    assert_int_equal(gl_platform_resolve(&p, "no-such-market", &err), GL_EINVAL);
    assert_non_null(strstr(err.msg, "unknown platform \"no-such-market\""));
}

static void test_canonical_text(void **state)
{
    (void)state;
    /* keys out of order, with spaces: the canonical text is compact, its
     * keys sorted at every level (written out by hand), and the digest is
     * the keccak-256 of exactly those bytes (the store keeps both) */
    const char *text =
        "{ \"name\": \"m\", \"format\": \"gpuledger-platform/1\", \"chain_id\": 5, \"platform\": \"x\",\n"
        "  \"events\": {\"Paid\": {\"payer\": \"payer\", \"kind\": \"payment\", \"amount\": \"amount\"}},\n"
        "  \"contracts\": [{\"start_block\": 1, \"name\": \"C\",\n"
        "    \"address\": \"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed\",\n"
        "    \"abis\": [{\"events\": [\"event Paid(address indexed payer, uint256 amount)\"]}]}] }";
    const char *want =
        "{\"chain_id\":5,\"contracts\":[{\"abis\":[{\"events\":[\"event Paid(address indexed payer, uint256 amount)\"]}],"
        "\"address\":\"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed\",\"name\":\"C\",\"start_block\":1}],"
        "\"events\":{\"Paid\":{\"amount\":\"amount\",\"kind\":\"payment\",\"payer\":\"payer\"}},"
        "\"format\":\"gpuledger-platform/1\",\"name\":\"m\",\"platform\":\"x\"}";
    json_error_t je;
    json_t *root = json_loads(text, 0, &je);
    if (!root)
        fail_msg("test JSON does not parse: %s", je.text);
    gl_platform *p = NULL;
    gl_err err = {GL_OK, ""};
    if (gl_platform_load_json(&p, root, "m.json", &err))
        fail_msg("%s", err.msg);
    json_decref(root);
    assert_non_null(p->canonical);
    assert_string_equal(p->canonical, want);
    uint8_t h[32];
    gl_keccak256(want, strlen(want), h);
    assert_memory_equal(p->digest, h, 32);
    gl_platform_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_definition_loads),
        cmocka_unit_test(test_validation_errors_name_the_field),
        cmocka_unit_test(test_overlapping_abi_ranges_rejected),
        cmocka_unit_test(test_roles_from_every_source),
        cmocka_unit_test(test_bytes32_text_and_minutes),
        cmocka_unit_test(test_builtins_all_load),
        cmocka_unit_test(test_canonical_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
