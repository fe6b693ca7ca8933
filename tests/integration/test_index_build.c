/* test_index_build.c - the indexer's pure building blocks (no node):
 * role values into stored-event fields (gl_indexer_event_fill), values into
 * id words (gl_indexer_value_word), verification level names, and the
 * receipt encoding on a hand-built receipt.
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
    json_decref(r);
    gl_buf_release(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_event_fill),
        cmocka_unit_test(test_value_word),
        cmocka_unit_test(test_verify_names),
        cmocka_unit_test(test_receipt_encoding),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
