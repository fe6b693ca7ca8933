/* test_index_build.c - the indexer's pure building blocks (no node):
 * role values into stored-event fields (gl_indexer_event_fill), values into
 * id words (gl_indexer_value_word), verification level names, and the
 * receipt encoding on a hand-built receipt, and a block's receipts root
 * (gl_indexer_receipts_root) where it needs no node.
 *
 * Oracles: values worked out by hand here (3 hours of 2 GPUs are 10800 s
 * and 6 GPU-hours = 6000 thousandths; 1000 is 0x03e8 in the last two
 * bytes), and for the receipt the RLP written out byte by byte from the
 * yellow paper's rules (EIP-2718: type byte, then the RLP list).  The
 * receipts root over real receipts is checked against anvil's own header
 * by test_index.c (--verify full).
 */
#include "index_testlib.h"

static gl_event_map lease_map(void)
{
    gl_event_map m;
    memset(&m, 0, sizeof m);
    m.event = "LeaseOpened";
    m.kind = GL_EVENT_LEASE;
    m.roles[GL_ROLE_LEASE_ID].kind = GL_SRC_FIELD;
    m.roles[GL_ROLE_LEASE_ID].field = "leaseId";
    return m;
}

static void test_event_fill(void **state)
{
    (void)state;
    gl_event_map m = lease_map();
    json_t *roles = json_pack(
        "{s:s, s:[s,s], s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "buyer", "0x1111111111111111111111111111111111111111",
        "provider", "0x2222222222222222222222222222222222222222", "0x3333333333333333333333333333333333333333",
        "amount", "1000", "token", "0x0000000000000000000000000000000000000000", "hours", "3", "gpu_count", "2",
        "gpu_model", "H100\x01 SXM\x7f", "lease_id", "258", "payer", "not an address");
    gl_store_event ev;
    memset(&ev, 0, sizeof ev);
    json_t *skipped = NULL;
    gl_err err;
    assert_int_equal(gl_indexer_event_fill(&ev, &m, roles, &skipped, &err), GL_OK);
    assert_int_equal(ev.n_roles, 3);
    assert_true(tl_has_role(&ev, GL_STORE_ROLE_BUYER, "0x1111111111111111111111111111111111111111"));
    assert_true(tl_has_role(&ev, GL_STORE_ROLE_PROVIDER, "0x2222222222222222222222222222222222222222"));
    assert_true(tl_has_role(&ev, GL_STORE_ROLE_PROVIDER, "0x3333333333333333333333333333333333333333"));
    assert_true(ev.has_amount);
    assert_int_equal(tl_u64(&ev.amount), 1000);
    assert_false(ev.has_token); /* the zero address is the native coin */
    assert_int_equal(ev.duration_s, 10800);
    assert_int_equal(ev.gpu_count, 2);
    assert_int_equal(ev.gpu_mhours, 6000);
    assert_string_equal(ev.gpu_model, "H100 SXM"); /* control characters dropped */
    const gl_store_id *id = tl_id(&ev, "leaseId");
    assert_non_null(id);
    assert_int_equal(id->value[30], 1);
    assert_int_equal(id->value[31], 2);
    assert_non_null(skipped);
    assert_int_equal(json_array_size(skipped), 1);
    assert_string_equal(json_string_value(json_array_get(skipped, 0)), "payer");
    json_decref(skipped);
    json_decref(roles);

    /* "native", a token address, seconds, a negative amount, a huge count. */
    roles = json_pack("{s:s, s:s, s:s, s:s}", "token", "0x00000000000000000000000000000000000000aa",
                      "duration_seconds", "90", "amount", "-5", "gpu_count", "4294967296");
    memset(&ev, 0, sizeof ev);
    assert_int_equal(gl_indexer_event_fill(&ev, &m, roles, &skipped, &err), GL_OK);
    assert_true(ev.has_token);
    assert_int_equal(ev.token[19], 0xaa);
    assert_int_equal(ev.duration_s, 90);
    assert_false(ev.has_amount);
    assert_int_equal(ev.gpu_count, 0);
    assert_int_equal(json_array_size(skipped), 2);
    json_decref(skipped);
    json_decref(roles);

    /* Blocks become seconds only with the platform's block time (2 s:
     * 450 blocks = 900 s = 0.25 h; 8 GPUs -> 2 GPU-hours = 2000 mGPUh). */
    roles = json_pack("{s:s, s:s}", "duration_blocks", "450", "gpu_count", "8");
    memset(&ev, 0, sizeof ev);
    assert_int_equal(gl_indexer_event_fill(&ev, &m, roles, &skipped, &err), GL_OK);
    assert_int_equal(ev.duration_s, 0);
    assert_string_equal(json_string_value(json_array_get(skipped, 0)), "duration_blocks");
    json_decref(skipped);
    m.block_time_ms = 2000;
    memset(&ev, 0, sizeof ev);
    assert_int_equal(gl_indexer_event_fill(&ev, &m, roles, NULL, &err), GL_OK);
    assert_int_equal(ev.duration_s, 900);
    assert_int_equal(ev.gpu_mhours, 2000);
    m.block_time_ms = 0;
    json_decref(roles);

    /* A model longer than the store's text cap is cut at a UTF-8
     * boundary: 63 two-byte characters fit in 127 bytes with 1 to spare. */
    char model[200] = "";
    for (int i = 0; i < 80; i++)
        strcat(model, "\xc3\xa9");
    roles = json_pack("{s:s}", "gpu_model", model);
    memset(&ev, 0, sizeof ev);
    assert_int_equal(gl_indexer_event_fill(&ev, &m, roles, NULL, &err), GL_OK);
    assert_int_equal(strlen(ev.gpu_model), 126);
    json_decref(roles);
}

static void test_value_word(void **state)
{
    (void)state;
    uint8_t w[32];
    json_t *v = json_string("1000");
    assert_true(gl_indexer_value_word(v, w));
    assert_int_equal(w[30], 0x03);
    assert_int_equal(w[31], 0xe8);
    json_decref(v);
    v = json_string("0x00000000000000000000000000000000000000ff");
    assert_true(gl_indexer_value_word(v, w));
    assert_int_equal(w[31], 0xff);
    assert_int_equal(w[11], 0);
    json_decref(v);
    v = json_pack("{s:s}", "indexed_hash", "0x0101010101010101010101010101010101010101010101010101010101010101");
    assert_true(gl_indexer_value_word(v, w));
    assert_int_equal(w[0], 1);
    json_decref(v);
    v = json_string("-1");
    assert_false(gl_indexer_value_word(v, w));
    json_decref(v);
    v = json_true();
    assert_false(gl_indexer_value_word(v, w));
    json_decref(v);
}

static void test_verify_names(void **state)
{
    (void)state;
    gl_indexer_verify lv;
    gl_err err;
    const char *names[] = {"none", "senders", "headers", "full"};
    for (int i = 0; i < 4; i++) {
        assert_int_equal(gl_indexer_verify_parse(names[i], &lv, &err), GL_OK);
        assert_int_equal(lv, i);
        assert_string_equal(gl_indexer_verify_name(lv), names[i]);
    }
    assert_int_equal(gl_indexer_verify_parse("strict", &lv, &err), GL_EINVAL);
    assert_non_null(strstr(err.msg, "'strict'"));
}

static void test_receipt_encoding(void **state)
{
    (void)state;
    /* Type 2, status 1, cumulativeGasUsed 0x5208, zero bloom, one log of
     * address 0x11.., one topic 0x22.., data 0x33. */
    char bloom[2 + 512 + 1] = "0x";
    memset(bloom + 2, '0', 512);
    bloom[514] = '\0';
    json_t *r = json_pack("{s:s, s:s, s:s, s:s, s:[{s:s, s:[s], s:s}]}", "type", "0x2", "status", "0x1",
                          "cumulativeGasUsed", "0x5208", "logsBloom", bloom, "logs", "address",
                          "0x1111111111111111111111111111111111111111", "topics",
                          "0x2222222222222222222222222222222222222222222222222222222222222222", "data", "0x33");
    gl_buf out = GL_BUF_INIT;
    gl_err err;
    assert_int_equal(gl_indexer_receipt_encode(&out, r, &err), GL_OK);
    /* log = [addr: 94+20 (21), [topic]: e1 a0+32 (34), data: 33 (1)]: 56
     * bytes of payload, so its list header is f8 38 (58 bytes in all);
     * the logs list is f8 3a + 58; the receipt's payload is status 01 (1) +
     * 82 5208 (3) + b9 0100 + 256 zero bytes (259) + 60 = 323 = 0x143. */
    gl_buf want = GL_BUF_INIT;
    uint8_t logb[58];
    size_t k = 0;
    logb[k++] = 0xf8;
    logb[k++] = 56;
    logb[k++] = 0x94;
    memset(logb + k, 0x11, 20);
    k += 20;
    logb[k++] = 0xe1;
    logb[k++] = 0xa0;
    memset(logb + k, 0x22, 32);
    k += 32;
    logb[k++] = 0x33;
    assert_int_equal(k, 58);
    /* logs list: 58 bytes -> f8 3a */
    size_t payload = 1 + 3 + 3 + 256 + 2 + 58;
    uint8_t head[] = {0x02, 0xf9, (uint8_t)(payload >> 8), (uint8_t)payload, 0x01, 0x82, 0x52, 0x08, 0xb9, 0x01, 0x00};
    gl_buf_append(&want, head, sizeof head, NULL);
    uint8_t zero[256] = {0};
    gl_buf_append(&want, zero, 256, NULL);
    uint8_t lh[] = {0xf8, 58};
    gl_buf_append(&want, lh, 2, NULL);
    gl_buf_append(&want, logb, 58, NULL);
    assert_int_equal(out.len, want.len);
    assert_memory_equal(out.data, want.data, want.len);
    gl_buf_release(&want);
    gl_buf_release(&out);
    /* A missing field is named; an OP-stack deposit receipt is refused. */
    json_object_del(r, "cumulativeGasUsed");
    assert_int_equal(gl_indexer_receipt_encode(&out, r, &err), GL_EINVAL);
    assert_non_null(strstr(err.msg, "cumulativeGasUsed"));
    assert_int_equal(out.len, 0);
    json_object_set_new(r, "cumulativeGasUsed", json_string("0x1"));
    json_object_set_new(r, "type", json_string("0x7e"));
    assert_int_equal(gl_indexer_receipt_encode(&out, r, &err), GL_ENOTSUP);
    /* A block's receipts root: no receipts hash to the empty trie's root
     * (keccak256(rlp(""))); a receipt that cannot be encoded is named by
     * its place, with its code; not a list is refused. */
    uint8_t root[32], empty[32];
    json_t *list = json_array();
    assert_int_equal(gl_indexer_receipts_root(root, list, &err), GL_OK);
    assert_int_equal(gl_hex_decode_exact("0x56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421", empty,
                                         32, NULL),
                     GL_OK);
    assert_memory_equal(root, empty, 32);
    json_object_set_new(r, "type", json_string("0x2"));
    json_array_append_new(list, json_deep_copy(r)); /* a copy: r changes next */
    json_object_set_new(r, "type", json_string("0x7e"));
    json_array_append(list, r);
    assert_int_equal(gl_indexer_receipts_root(root, list, &err), GL_ENOTSUP);
    assert_non_null(strstr(err.msg, "receipt 1: "));
    assert_int_equal(gl_indexer_receipts_root(root, r, &err), GL_EINVAL);
    json_decref(list);
    json_decref(r);
    gl_buf_release(&out);
}

/* ------------------------------------------------- direct event filling */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint64_t rnd(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* A word for type t: usually a clean one (small, large, negative, zero),
 * sometimes dirty. */
static void rnd_word(uint8_t w[32], const gl_abi_type *t)
{
    for (int i = 0; i < 32; i++)
        w[i] = (uint8_t)rnd();
    unsigned shape = (unsigned)(rnd() % 8);
    if (shape == 0)
        return; /* raw: mostly dirty */
    if (shape == 1)
        memset(w, 0, 32);
    switch (t->kind) {
    case GL_ABI_UINT:
        memset(w, 0, 32 - t->bits / 8);
        if (shape == 2)
            memset(w, 0, 31); /* small */
        break;
    case GL_ABI_INT: {
        size_t nb = t->bits / 8;
        bool neg = shape >= 5;
        w[32 - nb] = (uint8_t)(neg ? (w[32 - nb] | 0x80) : (w[32 - nb] & 0x7f));
        memset(w, neg ? 0xff : 0x00, 32 - nb);
        break;
    }
    case GL_ABI_ADDRESS:
        memset(w, 0, 12);
        if (shape == 3)
            memset(w, 0, 32); /* the zero address */
        break;
    case GL_ABI_BOOL:
        memset(w, 0, 31);
        w[31] &= 1;
        break;
    case GL_ABI_FIXED_BYTES:
        memset(w + t->size, 0, 32 - t->size);
        break;
    case GL_ABI_BYTES: case GL_ABI_STRING: case GL_ABI_ARRAY: case GL_ABI_FIXED_ARRAY: case GL_ABI_TUPLE:
        break;
    }
}

/* The transfer ends as the indexer's JSON path picks them. */
static bool json_addr(const json_t *roles, const char *name, uint8_t a[20])
{
    const json_t *v = json_object_get(roles, name);
    if (json_is_array(v))
        v = json_array_get(v, 0);
    const char *s = json_string_value(v);
    return s && strlen(s) == 42 && gl_hex_decode_exact(s, a, 20, NULL) == GL_OK;
}

/* The direct path against the JSON path (gl_abi_decode_log,
 * gl_platform_apply_roles, the "no token, no amount" rule,
 * gl_indexer_event_fill, the transfer's ends): on random definitions over
 * every value type and role source, and random logs, clean and not, the
 * direct path either declines (exactly when the JSON path cannot decode)
 * or gives the same event, byte for byte, and the same transfer ends. */
static void test_direct_matches_json(void **state)
{
    (void)state;
    static const char *const sigs[] = {
        "event Transfer(address indexed from, address indexed to, uint256 value)",
        "event Lease(uint256 indexed leaseId, address indexed buyer, address provider, uint64 amount, "
        "address token, bytes32 tag)",
        "event Mixed(int16 indexed n, bytes20 indexed b20, uint8 small, int256 big, bool flag, bytes32 w, "
        "bytes4 sel, address who)",
        "event Anon(address indexed a, uint256 indexed v, address c) anonymous",
    };
    static const gl_source_kind kinds[] = {GL_SRC_NONE,        GL_SRC_FIELD,   GL_SRC_FIELD, GL_SRC_FIELD,
                                           GL_SRC_TX_FROM,     GL_SRC_TX_TO,   GL_SRC_LOG_ADDRESS,
                                           GL_SRC_NATIVE,      GL_SRC_CONST_ADDRESS};
    static const gl_role roles_used[] = {GL_ROLE_BUYER,  GL_ROLE_BENEFICIARY, GL_ROLE_PROVIDER, GL_ROLE_PAYER,
                                         GL_ROLE_AMOUNT, GL_ROLE_TOKEN,       GL_ROLE_LEASE_ID};
    size_t decided = 0, declined = 0, transfers = 0;
    for (size_t si = 0; si < sizeof sigs / sizeof sigs[0]; si++) {
        gl_abi_sig sig;
        gl_err err;
        if (gl_abi_sig_parse(&sig, sigs[si], &err))
            fail_msg("%s: %s", sigs[si], err.msg);
        const gl_abi_type *in = sig.inputs;
        for (int mi = 0; mi < 300; mi++) {
            gl_event_map m;
            memset(&m, 0, sizeof m);
            m.event = sig.name;
            m.kind = rnd() % 2 ? GL_EVENT_TRANSFER : GL_EVENT_LEASE;
            for (size_t r = 0; r < sizeof roles_used / sizeof roles_used[0]; r++) {
                gl_role_source *rs = &m.roles[roles_used[r]];
                rs->kind = kinds[rnd() % (sizeof kinds / sizeof kinds[0])];
                if (rs->kind == GL_SRC_FIELD)
                    rs->field = in->comps[rnd() % in->ncomps].name;
                if (rs->kind == GL_SRC_CONST_ADDRESS)
                    memset(rs->address, rnd() % 3 ? 0x5a : 0, 20);
            }
            gl_direct_plan plan;
            gl_indexer_direct_plan(&plan, &sig, &m);
            assert_true(plan.usable);
            for (int li = 0; li < 20; li++) {
                uint8_t topics[4][32], data[32 * 8];
                size_t nt = sig.anonymous ? 0 : 1, nd = 0;
                if (!sig.anonymous)
                    memcpy(topics[0], sig.hash, 32);
                for (size_t i = 0; i < in->ncomps; i++) {
                    if (in->comps[i].indexed)
                        rnd_word(topics[nt++], in->comps[i].type);
                    else
                        rnd_word(data + 32 * nd++, in->comps[i].type);
                }
                size_t len = 32 * nd;
                unsigned bad = (unsigned)(rnd() % 16);
                if (bad == 0 && len)
                    len -= 32; /* short */
                else if (bad == 1)
                    len += 32; /* trailing word */
                else if (bad == 2 && !sig.anonymous)
                    topics[0][5] ^= 1; /* another event */
                else if (bad == 3 && nt > 1)
                    nt--; /* a topic missing */
                uint8_t from[20], to[20], la[20];
                memset(from, 0x11, 20);
                memset(to, 0x22, 20);
                memset(la, 0x33, 20);
                gl_log_context ctx = {rnd() % 4 ? from : NULL, rnd() % 4 ? to : NULL, la};

                gl_store_event slow, fast;
                memset(&slow, 0, sizeof slow);
                memset(&fast, 0, sizeof fast);
                gl_direct_ends de;
                bool took = gl_indexer_direct_fill(&fast, &plan, (const uint8_t(*)[32])topics, nt, data, len, &ctx,
                                                   &de);
                json_t *fields = NULL, *roles = NULL;
                gl_code rc = gl_abi_decode_log(&fields, &sig, (const uint8_t(*)[32])topics, nt, data, len, 0, &err);
                if (rc) {
                    assert_int_equal(rc, GL_EINVAL);
                    if (took)
                        fail_msg("%s: direct took a log the decoder refuses (%s)", sigs[si], err.msg);
                    declined++;
                    continue;
                }
                if (!took)
                    fail_msg("%s: direct declined a log the decoder takes", sigs[si]);
                assert_int_equal(gl_platform_apply_roles(&roles, &m, fields, &ctx, &err), GL_OK);
                if (m.roles[GL_ROLE_TOKEN].kind != GL_SRC_NONE && !json_object_get(roles, "token"))
                    json_object_del(roles, "amount");
                assert_int_equal(gl_indexer_event_fill(&slow, &m, roles, NULL, &err), GL_OK);
                if (memcmp(&slow, &fast, sizeof slow)) {
                    char *txt = json_dumps(roles, JSON_SORT_KEYS);
                    fail_msg("%s, map %d log %d: the events differ; roles %s", sigs[si], mi, li, txt);
                }
                uint8_t sf[20], st[20];
                bool sends = (json_addr(roles, "payer", sf) || json_addr(roles, "buyer", sf)) &&
                             (json_addr(roles, "provider", st) || json_addr(roles, "beneficiary", st));
                assert_int_equal(sends, de.has_from && de.has_to);
                if (sends) {
                    assert_memory_equal(sf, de.from, 20);
                    assert_memory_equal(st, de.to, 20);
                    transfers++;
                }
                decided++;
                json_decref(fields);
                json_decref(roles);
            }
        }
        gl_abi_sig_release(&sig);
    }
    /* both kinds of outcome were met, many times */
    assert_true(decided > 5000 && declined > 3000 && transfers > 500);
}

/* Definitions the direct path leaves to the JSON path. */
static void test_direct_declines(void **state)
{
    (void)state;
    gl_abi_sig sig;
    gl_err err;
    gl_event_map m = lease_map(); /* lease_id from field leaseId */
    m.event = "LeaseOpened";
    gl_direct_plan plan;
    assert_int_equal(gl_abi_sig_parse(&sig, "event LeaseOpened(uint256 indexed leaseId, string specs)", &err), GL_OK);
    gl_indexer_direct_plan(&plan, &sig, &m); /* a string parameter */
    assert_false(plan.usable);
    gl_abi_sig_release(&sig);
    assert_int_equal(gl_abi_sig_parse(&sig, "event LeaseOpened(uint256 indexed leaseId, uint256 gpus)", &err), GL_OK);
    gl_indexer_direct_plan(&plan, &sig, &m);
    assert_true(plan.usable);
    m.roles[GL_ROLE_GPU_COUNT].kind = GL_SRC_FIELD; /* GPU roles: JSON path */
    m.roles[GL_ROLE_GPU_COUNT].field = "gpus";
    gl_indexer_direct_plan(&plan, &sig, &m);
    assert_false(plan.usable);
    m.roles[GL_ROLE_GPU_COUNT].kind = GL_SRC_NONE;
    m.roles[GL_ROLE_BUYER].kind = GL_SRC_JOIN; /* joins */
    gl_indexer_direct_plan(&plan, &sig, &m);
    assert_false(plan.usable);
    m.roles[GL_ROLE_BUYER].kind = GL_SRC_FIELD; /* a field the event lacks */
    m.roles[GL_ROLE_BUYER].field = "nobody";
    gl_indexer_direct_plan(&plan, &sig, &m);
    assert_false(plan.usable);
    gl_indexer_direct_plan(&plan, &sig, NULL);
    assert_false(plan.usable);
    gl_abi_sig_release(&sig);
    m.roles[GL_ROLE_BUYER].kind = GL_SRC_NONE;
    assert_int_equal(gl_abi_sig_parse(&sig, "event LeaseOpened(uint256 indexed leaseId, uint256)", &err), GL_OK);
    gl_indexer_direct_plan(&plan, &sig, &m); /* an unnamed parameter */
    assert_false(plan.usable);
    gl_abi_sig_release(&sig);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_event_fill),
        cmocka_unit_test(test_value_word),
        cmocka_unit_test(test_verify_names),
        cmocka_unit_test(test_receipt_encoding),
        cmocka_unit_test(test_direct_matches_json),
        cmocka_unit_test(test_direct_declines),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
