/* test_store.c - the RocksDB store: byte layouts, round trips, ranges,
 * the appearances the store derives from events, transfers and txs,
 * rollback, chain bindings, the schema 1 -> 2 -> 3 migrations, the
 * analysis family, stored platform definitions, and refusing
 * foreign, newer, damaged or conflicting stores without touching them.
 *
 * Oracles: the byte layouts are checked against bytes written out by hand
 * from docs/STORE.md; derived appearances against (address, position,
 * role) lists written by hand from the rules in docs/STORE.md; "rollback
 * removes exactly the range" is checked by comparing a raw RocksDB dump
 * (read with the plain C API, not with the store's code) of a rolled-back
 * store with one that never held the range; schema 1 stores and damage are
 * made with plain RocksDB; "unchanged" means every file of the directory is
 * byte-identical. */
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <rocksdb/c.h>

#include "gpuledger/store.h"

#include "../support/storefiles.h"

/* ------------------------------------------------------------- helpers */

static void write_file(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    if (n)
        assert_int_equal(fwrite(data, 1, n, f), n);
    fclose(f);
}

static void copy_dir(const char *from, const char *to)
{
    assert_int_equal(mkdir(to, 0755), 0);
    DIR *d = opendir(from);
    assert_non_null(d);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        char *a = gl_test_path_join(from, e->d_name), *b = gl_test_path_join(to, e->d_name);
        gl_buf data = GL_BUF_INIT;
        gl_test_read_file(a, &data);
        write_file(b, data.data, data.len);
        gl_buf_release(&data);
        free(a);
        free(b);
    }
    closedir(d);
}

/* The stores in a and b must be equal byte for byte. */
static void expect_same_stores(const char *a, const char *b)
{
    gl_buf want = GL_BUF_INIT;
    gl_test_raw_dump(b, NULL, &want);
    gl_test_expect_dump(a, NULL, &want);
    gl_buf_release(&want);
}

static void expect_hex(const uint8_t *data, size_t n, const char *hex)
{
    char *got = gl_hex_encode_alloc(data, n, false);
    assert_non_null(got);
    assert_string_equal(got, hex);
    free(got);
}

static gl_store *open_new(const char *dir)
{
    gl_store_open_opts o = {.create = true, .created_by = "test_store"};
    gl_err err = {0};
    gl_store *s = gl_store_open(dir, &o, &err);
    if (!s)
        fail_msg("open %s: %s", dir, err.msg);
    return s;
}

static void commit_ok(gl_store_batch *b)
{
    gl_err err = {0};
    if (gl_store_batch_commit(b, &err) != GL_OK)
        fail_msg("commit: %s", err.msg);
}

/* --------------------------------------------------------- record makers */

/* Bytes that differ for every seed (splitmix64), so hashes and addresses
 * made from different seeds never collide. */
static void fill(uint8_t *p, size_t n, uint64_t seed)
{
    uint64_t x = seed;
    for (size_t i = 0; i < n; i += 8) {
        uint64_t z = (x += 0x9e3779b97f4a7c15ull);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        z ^= z >> 31;
        for (size_t j = 0; j < 8 && i + j < n; j++)
            p[i + j] = (uint8_t)(z >> (8 * j));
    }
}

static gl_store_block make_block(uint64_t chain, uint64_t n, unsigned variant)
{
    gl_store_block b;
    memset(&b, 0, sizeof b);
    b.chain_id = chain;
    b.number = n;
    fill(b.hash, 32, chain * 1000003 + n * 17 + variant);
    if (n)
        fill(b.parent_hash, 32, chain * 1000003 + (n - 1) * 17 + variant);
    b.timestamp = 1700000000 + n * 2;
    b.verified = GL_STORE_BLOCK_HASH_OK | GL_STORE_BLOCK_PARENT_OK;
    return b;
}

static gl_store_tx make_tx(uint64_t chain, uint64_t block, uint32_t i)
{
    gl_store_tx t;
    memset(&t, 0, sizeof t);
    t.chain_id = chain;
    t.block = block;
    t.index = i;
    fill(t.hash, 32, chain * 7 + block * 1009 + i);
    fill(t.from, 20, block + i);
    t.has_to = i % 2 == 0;
    if (t.has_to)
        fill(t.to, 20, block * 3 + i);
    t.value.w[0] = block * 1000 + i;
    t.value.w[3] = 0x8000000000000000ull; /* the top bit: 256-bit values survive */
    t.flags = GL_STORE_TX_SENDER_OK;
    return t;
}

static gl_store_event make_event(uint64_t chain, uint64_t block, uint32_t li)
{
    gl_store_event e;
    memset(&e, 0, sizeof e);
    e.chain_id = chain;
    e.block = block;
    e.log_index = li;
    strcpy(e.platform, "spheron-base");
    strcpy(e.name, "LeaseCreated");
    memset(e.contract, 0x8a, 20);
    fill(e.tx_hash, 32, block * 97 + li);
    e.tx_index = li / 2;
    e.has_tx_from = true;
    fill(e.tx_from, 20, 5);
    e.n_roles = 2;
    e.roles[0].role = GL_STORE_ROLE_BUYER;
    fill(e.roles[0].addr, 20, 100 + li);
    e.roles[1].role = GL_STORE_ROLE_PROVIDER;
    fill(e.roles[1].addr, 20, 200 + li);
    e.has_amount = true;
    e.amount.w[0] = 1000000 + li;
    e.amount.w[3] = 0x0123456789abcdefull;
    e.has_token = true;
    memset(e.token, 0x0b, 20);
    e.n_ids = 2;
    strcpy(e.ids[0].name, "leaseId");
    e.ids[0].value[31] = (uint8_t)li;
    strcpy(e.ids[1].name, "fizzId");
    e.ids[1].value[0] = 0xff;
    strcpy(e.gpu_model, "NVIDIA H100 80GB HBM3");
    e.gpu_count = 8;
    e.duration_s = 86400;
    e.gpu_mhours = 192000;
    e.verified = GL_STORE_EVENT_SENDER_OK | GL_STORE_EVENT_PROVEN;
    return e;
}

static gl_store_transfer make_transfer(uint64_t chain, uint64_t block, gl_store_pos_kind kind,
                                       uint32_t index, uint32_t sub)
{
    gl_store_transfer t;
    memset(&t, 0, sizeof t);
    t.pos = (gl_store_pos){chain, block, kind, index, sub};
    t.asset = kind == GL_STORE_POS_LOG ? GL_STORE_ASSET_ERC20 : GL_STORE_ASSET_NATIVE;
    if (t.asset != GL_STORE_ASSET_NATIVE)
        memset(t.token, 0x0b, 20);
    fill(t.from, 20, 300 + index);
    fill(t.to, 20, 400 + index);
    t.amount.w[0] = 5 + index;
    t.amount.w[2] = 7;
    fill(t.tx_hash, 32, block * 1009 + index);
    return t;
}

static void assert_event_eq(const gl_store_event *a, const gl_store_event *b)
{
    assert_int_equal(a->chain_id, b->chain_id);
    assert_int_equal(a->block, b->block);
    assert_int_equal(a->log_index, b->log_index);
    assert_string_equal(a->platform, b->platform);
    assert_string_equal(a->name, b->name);
    assert_memory_equal(a->contract, b->contract, 20);
    assert_memory_equal(a->tx_hash, b->tx_hash, 32);
    assert_int_equal(a->tx_index, b->tx_index);
    assert_int_equal(a->has_tx_from, b->has_tx_from);
    if (a->has_tx_from)
        assert_memory_equal(a->tx_from, b->tx_from, 20);
    assert_int_equal(a->n_roles, b->n_roles);
    for (size_t i = 0; i < a->n_roles; i++) {
        assert_int_equal(a->roles[i].role, b->roles[i].role);
        assert_memory_equal(a->roles[i].addr, b->roles[i].addr, 20);
    }
    assert_int_equal(a->has_amount, b->has_amount);
    if (a->has_amount)
        assert_int_equal(gl_u256_cmp(&a->amount, &b->amount), 0);
    assert_int_equal(a->has_token, b->has_token);
    if (a->has_token)
        assert_memory_equal(a->token, b->token, 20);
    assert_int_equal(a->n_ids, b->n_ids);
    for (size_t i = 0; i < a->n_ids; i++) {
        assert_string_equal(a->ids[i].name, b->ids[i].name);
        assert_memory_equal(a->ids[i].value, b->ids[i].value, 32);
    }
    assert_string_equal(a->gpu_model, b->gpu_model);
    assert_int_equal(a->gpu_count, b->gpu_count);
    assert_int_equal(a->duration_s, b->duration_s);
    assert_int_equal(a->gpu_mhours, b->gpu_mhours);
    assert_int_equal(a->verified, b->verified);
}

static void assert_tx_eq(const gl_store_tx *a, const gl_store_tx *b)
{
    assert_int_equal(a->chain_id, b->chain_id);
    assert_int_equal(a->block, b->block);
    assert_int_equal(a->index, b->index);
    assert_memory_equal(a->hash, b->hash, 32);
    assert_memory_equal(a->from, b->from, 20);
    assert_int_equal(a->has_to, b->has_to);
    if (a->has_to)
        assert_memory_equal(a->to, b->to, 20);
    assert_int_equal(gl_u256_cmp(&a->value, &b->value), 0);
    assert_int_equal(a->flags, b->flags);
}

static void assert_transfer_eq(const gl_store_transfer *a, const gl_store_transfer *b)
{
    assert_int_equal(a->pos.chain_id, b->pos.chain_id);
    assert_int_equal(a->pos.block, b->pos.block);
    assert_int_equal(a->pos.kind, b->pos.kind);
    assert_int_equal(a->pos.index, b->pos.index);
    assert_int_equal(a->pos.sub, b->pos.sub);
    assert_int_equal(a->asset, b->asset);
    assert_memory_equal(a->token, b->token, 20);
    assert_memory_equal(a->from, b->from, 20);
    assert_memory_equal(a->to, b->to, 20);
    assert_int_equal(gl_u256_cmp(&a->amount, &b->amount), 0);
    assert_int_equal(gl_u256_cmp(&a->token_id, &b->token_id), 0);
    assert_memory_equal(a->tx_hash, b->tx_hash, 32);
    assert_int_equal(a->flags, b->flags);
}

static void assert_block_eq(const gl_store_block *a, const gl_store_block *b)
{
    assert_int_equal(a->chain_id, b->chain_id);
    assert_int_equal(a->number, b->number);
    assert_memory_equal(a->hash, b->hash, 32);
    assert_memory_equal(a->parent_hash, b->parent_hash, 32);
    assert_int_equal(a->timestamp, b->timestamp);
    assert_int_equal(a->verified, b->verified);
}

/* Put one block's worth of records: the block, 3 txs (the second a
 * creation), 2 events (contract 8a..8a, two roles each), a native and a
 * token transfer.  The store adds 16 appearances: txs 2 + 1 + 2, events
 * 3 + 3, the native transfer 2, the token transfer 3. */
#define BLOCK_APPEARANCES 16
static void put_block_records(gl_store_batch *b, uint64_t chain, uint64_t n, unsigned variant)
{
    gl_err err = {0};
    gl_store_block blk = make_block(chain, n, variant);
    assert_int_equal(gl_store_batch_put_block(b, &blk, &err), GL_OK);
    for (uint32_t i = 0; i < 3; i++) {
        gl_store_tx t = make_tx(chain, n, i);
        assert_int_equal(gl_store_batch_put_tx(b, &t, &err), GL_OK);
    }
    for (uint32_t li = 0; li < 2; li++) {
        gl_store_event e = make_event(chain, n, li);
        strcpy(e.platform, chain == 1 ? "p1" : "p2");
        assert_int_equal(gl_store_batch_put_event(b, &e, &err), GL_OK);
    }
    gl_store_transfer t1 = make_transfer(chain, n, GL_STORE_POS_TX, 1, 0);
    gl_store_transfer t2 = make_transfer(chain, n, GL_STORE_POS_LOG, 1, 0);
    assert_int_equal(gl_store_batch_put_transfer(b, &t1, &err), GL_OK);
    assert_int_equal(gl_store_batch_put_transfer(b, &t2, &err), GL_OK);
    if (n % 5 == 0) {
        json_t *f = json_pack("{s:s, s:I}", "kind", "sender_mismatch", "block", (json_int_t)n);
        assert_int_equal(gl_store_batch_put_finding(b, chain, n, f, NULL, &err), GL_OK);
        json_decref(f);
    }
}

/* ----------------------------------------------------------- the layouts */

static void test_key_layouts(void **state)
{
    (void)state;
    uint8_t k[64];
    gl_store_key_block(k, 137, 0x0102030405ull);
    expect_hex(k, 16, "0000000000000089" "0000000102030405");
    gl_store_key_tx(k, 1, 2, 3);
    expect_hex(k, 20, "0000000000000001" "0000000000000002" "00000003");
    gl_store_pos p = {1, 2, GL_STORE_POS_LOG, 5, 0};
    gl_store_key_pos(k, &p);
    expect_hex(k, 25, "0000000000000001" "0000000000000002" "01" "00000005" "00000000");
    gl_store_appearance a = {.pos = p, .role = GL_STORE_ROLE_BUYER};
    memset(a.addr, 0x11, 20);
    assert_int_equal(gl_store_key_appearance(k, &a, true, NULL), GL_OK);
    expect_hex(k, 46, "1111111111111111111111111111111111111111"
                      "0000000000000001" "0000000000000002" "01" "00000005" "00000000" "05");
    assert_int_equal(gl_store_key_appearance(k, &a, false, NULL), GL_OK);
    expect_hex(k, 46, "0000000000000001" "0000000000000002" "01" "00000005" "00000000" "05"
                      "1111111111111111111111111111111111111111");
    gl_store_appearance back;
    assert_int_equal(gl_store_appearance_decode(&back, k, false, NULL), GL_OK);
    assert_int_equal(back.pos.index, 5);
    assert_int_equal(back.role, GL_STORE_ROLE_BUYER);
    a.role = (gl_store_role)0;
    assert_int_equal(gl_store_key_appearance(k, &a, true, NULL), GL_EINVAL);
    a.role = GL_STORE_ROLE_BUYER;
    a.pos.kind = GL_STORE_POS_TX;
    a.pos.sub = 1; /* a tx position has no sub */
    assert_int_equal(gl_store_key_appearance(k, &a, true, NULL), GL_EINVAL);

    gl_buf b = GL_BUF_INIT;
    assert_int_equal(gl_store_key_cursor(&b, 137, "golem-polygon", NULL), GL_OK);
    expect_hex(b.data, b.len, "0000000000000089" "676f6c656d2d706f6c79676f6e");
    gl_buf_release(&b);
    assert_int_equal(gl_store_key_cursor(&b, 137, "has space", NULL), GL_EINVAL);
    assert_int_equal(gl_store_key_cursor(&b, 0, "p", NULL), GL_EINVAL);
    gl_buf_release(&b);
}

static void test_value_layouts(void **state)
{
    (void)state;
    gl_err err = {0};
    gl_store_block blk = {.chain_id = 1, .number = 9, .timestamp = 100000000, .verified = 3};
    memset(blk.hash, 0xaa, 32);
    memset(blk.parent_hash, 0xbb, 32);
    uint8_t v[GL_STORE_TRANSFER_VAL_LEN];
    assert_int_equal(gl_store_block_encode(&blk, v, &err), GL_OK);
    expect_hex(v, 76, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                      "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
                      "0000000005f5e100" "00000003");

    gl_store_tx tx = {.chain_id = 1, .block = 2, .index = 3, .has_to = false, .flags = 4};
    memset(tx.hash, 0x01, 32);
    memset(tx.from, 0x02, 20);
    memset(tx.to, 0x03, 20); /* ignored: no 'to' */
    tx.value = gl_u256_from_u64(0x3e8);
    assert_int_equal(gl_store_tx_encode(&tx, v, &err), GL_OK);
    expect_hex(v, 109, "0101010101010101010101010101010101010101010101010101010101010101"
                       "0202020202020202020202020202020202020202"
                       "00" "0000000000000000000000000000000000000000"
                       "00000000000000000000000000000000000000000000000000000000000003e8"
                       "00000004");

    gl_store_transfer t = {.pos = {1, 2, GL_STORE_POS_LOG, 7, 0}, .asset = GL_STORE_ASSET_ERC20};
    memset(t.token, 0x0b, 20);
    memset(t.from, 0x0f, 20);
    memset(t.to, 0x70, 20);
    t.amount = gl_u256_from_u64(1);
    memset(t.tx_hash, 0xcc, 32);
    t.flags = 1;
    assert_int_equal(gl_store_transfer_encode(&t, v, &err), GL_OK);
    expect_hex(v, 161, "01" "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b"
                       "0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f"
                       "7070707070707070707070707070707070707070"
                       "0000000000000000000000000000000000000000000000000000000000000001"
                       "0000000000000000000000000000000000000000000000000000000000000000"
                       "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"
                       "00000001");
    /* A native transfer cannot sit at a log, a token transfer must. */
    t.asset = GL_STORE_ASSET_NATIVE;
    memset(t.token, 0, 20);
    assert_int_equal(gl_store_transfer_encode(&t, v, NULL), GL_EINVAL);
    t.asset = GL_STORE_ASSET_ERC20;
    t.pos.kind = GL_STORE_POS_TRACE;
    assert_int_equal(gl_store_transfer_encode(&t, v, NULL), GL_EINVAL);
}

static void test_event_tlv(void **state)
{
    (void)state;
    gl_err err = {0};
    gl_store_event e;
    memset(&e, 0, sizeof e);
    e.chain_id = 1;
    e.block = 2;
    e.log_index = 3;
    strcpy(e.platform, "p");
    strcpy(e.name, "E");
    memset(e.contract, 0x22, 20);
    memset(e.tx_hash, 0x33, 32);
    e.tx_index = 7;
    gl_buf b = GL_BUF_INIT;
    assert_int_equal(gl_store_event_encode(&e, &b, &err), GL_OK);
    const char *minimal = "01" "010170" "020145" "0314" "2222222222222222222222222222222222222222"
                          "0420" "3333333333333333333333333333333333333333333333333333333333333333"
                          "0504" "00000007";
    expect_hex(b.data, b.len, minimal);

    e.n_roles = 1;
    e.roles[0].role = GL_STORE_ROLE_BUYER;
    memset(e.roles[0].addr, 0x44, 20);
    e.has_amount = true;
    e.amount = gl_u256_from_u64(1000);
    gl_buf_reset(&b);
    assert_int_equal(gl_store_event_encode(&e, &b, &err), GL_OK);
    char want[1024];
    snprintf(want, sizeof want, "%s%s%s", minimal,
             "0715" "05" "4444444444444444444444444444444444444444",
             "0820" "00000000000000000000000000000000000000000000000000000000000003e8");
    expect_hex(b.data, b.len, want);

    uint8_t key[GL_STORE_EVENT_KEY_LEN];
    gl_store_key_event(key, 1, 2, 3);
    gl_store_event back;
    assert_int_equal(gl_store_event_decode(&back, key, sizeof key, b.data, b.len, &err), GL_OK);
    assert_event_eq(&e, &back);

    /* The full record round-trips. */
    gl_store_event full = make_event(1, 2, 3);
    gl_buf_reset(&b);
    assert_int_equal(gl_store_event_encode(&full, &b, &err), GL_OK);
    assert_int_equal(gl_store_event_decode(&back, key, sizeof key, b.data, b.len, &err), GL_OK);
    assert_event_eq(&full, &back);

    /* Strictness: an unknown critical field, fields out of order, a field
     * repeated, a truncated field, a missing required field, a bad format
     * byte.  An unknown optional field (>= 0x80) is skipped. */
    gl_buf bad = GL_BUF_INIT;
    uint8_t tmp[600];
    size_t n;
    assert_int_equal(gl_hex_decode(minimal, strlen(minimal), tmp, sizeof tmp, &n, NULL), GL_OK);
    gl_buf_append(&bad, tmp, n, NULL);
    gl_buf_append(&bad, "\x10\x01\x00", 3, NULL);
    assert_int_equal(gl_store_event_decode(&back, key, sizeof key, bad.data, bad.len, &err),
                     GL_EINVAL);
    assert_non_null(strstr(err.msg, "unknown critical field 0x10"));
    bad.len = n;
    gl_buf_append(&bad, "\x80\x02\xab\xcd", 4, NULL);
    assert_int_equal(gl_store_event_decode(&back, key, sizeof key, bad.data, bad.len, &err), GL_OK);
    bad.len = n;
    gl_buf_append(&bad, "\x01\x01q", 3, NULL); /* platform again, after tx index */
    assert_int_equal(gl_store_event_decode(&back, key, sizeof key, bad.data, bad.len, NULL),
                     GL_EINVAL);
    bad.len = n;
    gl_buf_append(&bad, "\x0c\x04\x00", 3, NULL); /* truncated */
    assert_int_equal(gl_store_event_decode(&back, key, sizeof key, bad.data, bad.len, NULL),
                     GL_EINVAL);
    assert_int_equal(gl_store_event_decode(&back, key, sizeof key, tmp, n - 6, NULL), GL_EINVAL);
    tmp[0] = 2;
    assert_int_equal(gl_store_event_decode(&back, key, sizeof key, tmp, n, NULL), GL_EINVAL);
    assert_int_equal(gl_store_event_decode(&back, key, 19, b.data, b.len, NULL), GL_EINVAL);
    gl_buf_release(&bad);

    /* Validation on the way in. */
    gl_buf_reset(&b);
    e.roles[0].role = (gl_store_role)99;
    assert_int_equal(gl_store_event_encode(&e, &b, NULL), GL_EINVAL);
    e.roles[0].role = GL_STORE_ROLE_BUYER;
    e.n_roles = GL_STORE_EVENT_ROLES_MAX + 1;
    assert_int_equal(gl_store_event_encode(&e, &b, NULL), GL_EINVAL);
    e.n_roles = 1;
    strcpy(e.name, "Lease Created");
    assert_int_equal(gl_store_event_encode(&e, &b, NULL), GL_EINVAL);
    strcpy(e.name, "E");
    strcpy(e.gpu_model, "H100\n");
    assert_int_equal(gl_store_event_encode(&e, &b, NULL), GL_EINVAL);
    assert_int_equal(b.len, 0);
    gl_buf_release(&b);
}

static void test_label_tlv(void **state)
{
    (void)state;
    gl_store_label l;
    memset(&l, 0, sizeof l);
    memset(l.addr, 0x28, 20);
    strcpy(l.source, "labels.csv");
    strcpy(l.label, "Binance 14");
    strcpy(l.category, "exchange");
    l.confidence = 900;
    gl_buf b = GL_BUF_INIT;
    assert_int_equal(gl_store_label_encode(&l, &b, NULL), GL_OK);
    expect_hex(b.data, b.len, "01" "010a" "42696e616e6365203134" "0208" "65786368616e6765"
                              "0302" "0384");
    uint8_t key[64];
    memcpy(key, l.addr, 20);
    memcpy(key + 20, "labels.csv", 10);
    gl_store_label back;
    assert_int_equal(gl_store_label_decode(&back, key, 30, b.data, b.len, NULL), GL_OK);
    assert_string_equal(back.source, "labels.csv");
    assert_string_equal(back.label, "Binance 14");
    assert_string_equal(back.category, "exchange");
    assert_int_equal(back.confidence, 900);
    l.confidence = 1001;
    gl_buf_reset(&b);
    assert_int_equal(gl_store_label_encode(&l, &b, NULL), GL_EINVAL);
    gl_buf_release(&b);
}

static void test_roles(void **state)
{
    (void)state;
    gl_store_role r;
    for (int i = 1; i <= (int)GL_STORE_ROLE_LAST; i++) {
        const char *n = gl_store_role_name((gl_store_role)i);
        assert_non_null(n);
        assert_int_equal(gl_store_role_parse(n, &r, NULL), GL_OK);
        assert_int_equal((int)r, i);
    }
    assert_null(gl_store_role_name((gl_store_role)0));
    gl_err err = {0};
    assert_int_equal(gl_store_role_parse("landlord", &r, &err), GL_EINVAL);
    assert_string_equal(err.msg, "unknown role 'landlord'");
    /* Schema 3's families, in enum order (docs/STORE.md); appear_pos is gone. */
    static const char *const fams[] = {"meta",        "blocks",  "txs",      "txhash",
                                       "events",      "transfers", "appearances", "cursors",
                                       "findings",    "labels",  "analysis"};
    assert_int_equal(GL_STORE_CF_COUNT, sizeof fams / sizeof fams[0]);
    for (int i = 0; i < GL_STORE_CF_COUNT; i++)
        assert_string_equal(gl_store_family_name((gl_store_family)i), fams[i]);
    assert_null(gl_store_family_name((gl_store_family)GL_STORE_CF_COUNT));
}

/* ------------------------------------------------------------ round trips */

static void test_roundtrip_every_record(void **state)
{
    (void)state;
    char *dir = gl_test_tmpdir("gl_store");
    char *sdir = gl_test_path_join(dir, "db");
    gl_err err = {0};
    gl_store *s = open_new(sdir);
    gl_store_batch *b = gl_store_batch_new(s, &err);
    assert_non_null(b);

    gl_store_block blk = make_block(42161, 5856357, 0);
    gl_store_tx tx_call = make_tx(42161, 5856357, 0);   /* has a 'to' */
    gl_store_tx tx_create = make_tx(42161, 5856357, 1); /* contract creation */
    gl_store_event ev = make_event(42161, 5856357, 4);
    strcpy(ev.platform, "livepeer");
    gl_store_event ev_min;
    memset(&ev_min, 0, sizeof ev_min);
    ev_min.chain_id = 42161;
    ev_min.block = 5856357;
    ev_min.log_index = 5;
    strcpy(ev_min.platform, "livepeer");
    strcpy(ev_min.name, "DepositFunded");
    gl_store_transfer native = make_transfer(42161, 5856357, GL_STORE_POS_TX, 0, 0);
    gl_store_transfer internal = make_transfer(42161, 5856357, GL_STORE_POS_TRACE, 0, 3);
    gl_store_transfer erc20 = make_transfer(42161, 5856357, GL_STORE_POS_LOG, 4, 0);
    gl_store_transfer erc1155 = make_transfer(42161, 5856357, GL_STORE_POS_LOG, 6, 2);
    erc1155.asset = GL_STORE_ASSET_ERC1155;
    erc1155.token_id.w[3] = 0xdeadbeefull;
    /* ev's provider: the appearance read back below is one the store
     * derived from ev (an event at log 4 of the block). */
    gl_store_appearance ap = {.pos = {42161, 5856357, GL_STORE_POS_LOG, 4, 0},
                              .role = GL_STORE_ROLE_PROVIDER};
    memset(ap.addr, 0x5a, 20);
    memcpy(ev.roles[1].addr, ap.addr, 20);
    gl_store_label lab;
    memset(&lab, 0, sizeof lab);
    memset(lab.addr, 0x5a, 20);
    strcpy(lab.source, "exchanges.json");
    strcpy(lab.label, "Kraken 7");
    strcpy(lab.category, "exchange");
    lab.confidence = 1000;
    uint8_t defhash[32];
    fill(defhash, 32, 77);

    assert_int_equal(gl_store_batch_put_block(b, &blk, &err), GL_OK);
    assert_int_equal(gl_store_batch_put_tx(b, &tx_call, &err), GL_OK);
    assert_int_equal(gl_store_batch_put_tx(b, &tx_create, &err), GL_OK);
    assert_int_equal(gl_store_batch_put_event(b, &ev, &err), GL_OK);
    assert_int_equal(gl_store_batch_put_event(b, &ev_min, &err), GL_OK);
    assert_int_equal(gl_store_batch_put_transfer(b, &native, &err), GL_OK);
    assert_int_equal(gl_store_batch_put_transfer(b, &internal, &err), GL_OK);
    assert_int_equal(gl_store_batch_put_transfer(b, &erc20, &err), GL_OK);
    assert_int_equal(gl_store_batch_put_transfer(b, &erc1155, &err), GL_OK);
    json_t *f = json_pack("{s:s, s:s, s:{s:s}}", "kind", "sender_mismatch", "tx",
                          "0xabc", "evidence", "endpoint", "https://rpc.example/***");
    uint32_t seq = 99;
    assert_int_equal(gl_store_batch_put_finding(b, 42161, 5856357, f, &seq, &err), GL_OK);
    assert_int_equal(seq, 0);
    assert_int_equal(gl_store_batch_put_label(b, &lab, &err), GL_OK);
    assert_int_equal(gl_store_batch_set_cursor(b, 42161, "livepeer", 5856357, blk.hash, &err),
                     GL_OK);
    assert_int_equal(gl_store_batch_set_platform_hash(b, "livepeer", 42161, defhash, &err), GL_OK);
    assert_int_equal(gl_store_batch_count(b), 13);
    /* Appearances, by hand: tx_call from+to 2, tx_create from 1, ev
     * contract+buyer+provider 3, ev_min none (its contract is the zero
     * address, no roles), native 2, internal 2, erc20 3, erc1155 3. */
    assert_int_equal(gl_store_batch_appearances(b), 16);
    commit_ok(b);
    assert_int_equal(gl_store_batch_count(b), 0);
    assert_int_equal(gl_store_batch_appearances(b), 0);
    gl_store_batch_free(b);
    gl_store_close(s);

    /* Everything is read back after a reopen. */
    s = gl_store_open(sdir, NULL, &err);
    assert_non_null(s);
    bool found;
    gl_store_block blk2;
    assert_int_equal(gl_store_get_block(s, 42161, 5856357, &blk2, &found, &err), GL_OK);
    assert_true(found);
    assert_block_eq(&blk, &blk2);
    assert_int_equal(gl_store_get_block(s, 42161, 5856358, &blk2, &found, &err), GL_OK);
    assert_false(found);
    gl_store_tx tx2;
    assert_int_equal(gl_store_get_tx(s, 42161, 5856357, 1, &tx2, &found, &err), GL_OK);
    assert_true(found);
    assert_false(tx2.has_to);
    assert_tx_eq(&tx_create, &tx2);
    assert_int_equal(gl_store_get_tx_by_hash(s, 42161, tx_call.hash, &tx2, &found, &err), GL_OK);
    assert_true(found);
    assert_tx_eq(&tx_call, &tx2);
    assert_int_equal(gl_store_get_tx_by_hash(s, 1, tx_call.hash, &tx2, &found, &err), GL_OK);
    assert_false(found); /* keyed by chain */
    gl_store_event ev2;
    assert_int_equal(gl_store_get_event(s, 42161, 5856357, 4, &ev2, &found, &err), GL_OK);
    assert_true(found);
    assert_event_eq(&ev, &ev2);
    assert_int_equal(gl_store_get_event(s, 42161, 5856357, 5, &ev2, &found, &err), GL_OK);
    assert_true(found);
    assert_event_eq(&ev_min, &ev2);

    gl_store_iter *it = gl_store_iter_transfers(s, 42161, 0, UINT64_MAX - 1, &err);
    assert_non_null(it);
    const gl_store_transfer *want[] = {&native, &erc20, &erc1155, &internal}; /* key order */
    gl_store_transfer t2;
    bool end;
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(gl_store_next_transfer(it, &t2, &end, &err), GL_OK);
        assert_false(end);
        assert_transfer_eq(want[i], &t2);
    }
    assert_int_equal(gl_store_next_transfer(it, &t2, &end, &err), GL_OK);
    assert_true(end);
    /* Asking an iterator for another record type is refused. */
    assert_int_equal(gl_store_next_event(it, &ev2, &end, &err), GL_EINVAL);
    gl_store_iter_free(it);

    it = gl_store_iter_appearances(s, ap.addr, &err);
    gl_store_appearance ap2;
    assert_int_equal(gl_store_next_appearance(it, &ap2, &end, &err), GL_OK);
    assert_false(end);
    assert_memory_equal(ap2.addr, ap.addr, 20);
    assert_int_equal(ap2.pos.block, 5856357);
    assert_int_equal(ap2.pos.kind, GL_STORE_POS_LOG);
    assert_int_equal(ap2.pos.index, 4);
    assert_int_equal(ap2.role, GL_STORE_ROLE_PROVIDER);
    assert_int_equal(gl_store_next_appearance(it, &ap2, &end, &err), GL_OK);
    assert_true(end);
    gl_store_iter_free(it);

    it = gl_store_iter_findings(s, 42161, 5856357, 5856357, &err);
    gl_store_finding fd;
    assert_int_equal(gl_store_next_finding(it, &fd, &end, &err), GL_OK);
    assert_false(end);
    assert_int_equal(fd.seq, 0);
    assert_true(json_equal(fd.json, f));
    json_decref(fd.json);
    gl_store_iter_free(it);
    json_decref(f);

    it = gl_store_iter_labels(s, lab.addr, &err);
    gl_store_label lab2;
    assert_int_equal(gl_store_next_label(it, &lab2, &end, &err), GL_OK);
    assert_false(end);
    assert_memory_equal(lab2.addr, lab.addr, 20);
    assert_string_equal(lab2.source, lab.source);
    assert_string_equal(lab2.label, lab.label);
    assert_string_equal(lab2.category, lab.category);
    assert_int_equal(lab2.confidence, 1000);
    gl_store_iter_free(it);

    gl_store_cursor c;
    assert_int_equal(gl_store_get_cursor(s, 42161, "livepeer", &c, &found, &err), GL_OK);
    assert_true(found);
    assert_int_equal(c.block, 5856357);
    assert_memory_equal(c.hash, blk.hash, 32);
    assert_string_equal(c.name, "livepeer");
    uint64_t chain;
    assert_int_equal(gl_store_get_binding(s, "livepeer", &chain, &found, &err), GL_OK);
    assert_true(found);
    assert_int_equal(chain, 42161);
    uint8_t h2[32];
    assert_int_equal(gl_store_get_platform_hash(s, "livepeer", h2, &found, &err), GL_OK);
    assert_true(found);
    assert_memory_equal(h2, defhash, 32);
    char by[64];
    assert_int_equal(gl_store_get_created_by(s, by, sizeof by, &err), GL_OK);
    assert_string_equal(by, "test_store");

    /* Stats: counted by hand from the batch above.  meta: magic, schema,
     * created_by, chain/livepeer, defhash/livepeer; appearances: the 16
     * counted above (no two records imply the same key). */
    gl_store_stats st;
    assert_int_equal(gl_store_stats_get(s, &st, &err), GL_OK);
    const uint64_t expect[GL_STORE_CF_COUNT] = {5, 1, 2, 2, 2, 4, 16, 1, 1, 1, 0};
    for (int i = 0; i < GL_STORE_CF_COUNT; i++)
        assert_int_equal(st.records[i], expect[i]);
    assert_int_equal(gl_store_verify(s, &err), GL_OK);
    gl_store_close(s);
    gl_test_rm_rf(dir);
    free(sdir);
    free(dir);
}

/* ----------------------------------------------------------------- ranges */

static void test_ranges(void **state)
{
    (void)state;
    char *dir = gl_test_tmpdir("gl_store");
    gl_err err = {0};
    gl_store *s = open_new(dir);
    gl_store_batch *b = gl_store_batch_new(s, &err);
    for (uint64_t n = 10; n <= 20; n++)
        put_block_records(b, 1, n, 0);
    for (uint64_t n = 12; n <= 15; n++)
        put_block_records(b, 2, n, 0);
    /* Block numbers whose big-endian bytes differ in a high byte: order must
     * be numeric, not by the low byte. */
    put_block_records(b, 1, 0x100, 0);
    put_block_records(b, 1, 0x1ff, 0);
    commit_ok(b);

    gl_store_iter *it = gl_store_iter_events(s, 1, 12, 15, &err);
    assert_non_null(it);
    gl_store_event e;
    bool end;
    for (uint64_t n = 12; n <= 15; n++)
        for (uint32_t li = 0; li < 2; li++) {
            assert_int_equal(gl_store_next_event(it, &e, &end, &err), GL_OK);
            assert_false(end);
            assert_int_equal(e.chain_id, 1);
            assert_int_equal(e.block, n);
            assert_int_equal(e.log_index, li);
        }
    assert_int_equal(gl_store_next_event(it, &e, &end, &err), GL_OK);
    assert_true(end);
    gl_store_iter_free(it);

    uint64_t seen[8], ns = 0;
    it = gl_store_iter_blocks(s, 1, 20, UINT64_MAX, &err);
    gl_store_block blk;
    while (gl_store_next_block(it, &blk, &end, &err) == GL_OK && !end)
        seen[ns++] = blk.number;
    gl_store_iter_free(it);
    assert_int_equal(ns, 3);
    assert_int_equal(seen[0], 20);
    assert_int_equal(seen[1], 0x100);
    assert_int_equal(seen[2], 0x1ff);

    it = gl_store_iter_txs(s, 1, 21, 0xff, &err);
    gl_store_tx t;
    assert_int_equal(gl_store_next_tx(it, &t, &end, &err), GL_OK);
    assert_true(end);
    gl_store_iter_free(it);
    assert_null(gl_store_iter_txs(s, 1, 5, 4, &err));
    assert_int_equal(err.code, GL_EINVAL);

    /* An address's appearances across chains, chain then block order. */
    gl_store_event e12 = make_event(1, 12, 1);
    it = gl_store_iter_appearances(s, e12.roles[0].addr, &err);
    gl_store_appearance a;
    uint64_t chains[32], blocks[32];
    ns = 0;
    while (gl_store_next_appearance(it, &a, &end, &err) == GL_OK && !end) {
        assert_memory_equal(a.addr, e12.roles[0].addr, 20);
        assert_int_equal(a.role, GL_STORE_ROLE_BUYER);
        chains[ns] = a.pos.chain_id;
        blocks[ns++] = a.pos.block;
    }
    gl_store_iter_free(it);
    assert_int_equal(ns, 11 + 2 + 4);
    assert_int_equal(chains[0], 1);
    assert_int_equal(blocks[0], 10);
    assert_int_equal(blocks[12], 0x1ff);
    assert_int_equal(chains[13], 2);
    assert_int_equal(blocks[13], 12);
    assert_int_equal(blocks[16], 15);

    /* Findings: seq continues within a batch and across batches. */
    json_t *f = json_pack("{s:s}", "kind", "x");
    uint32_t seq;
    assert_int_equal(gl_store_batch_put_finding(b, 1, 10, f, &seq, &err), GL_OK);
    assert_int_equal(seq, 1); /* block 10 already holds finding 0 */
    assert_int_equal(gl_store_batch_put_finding(b, 1, 10, f, &seq, &err), GL_OK);
    assert_int_equal(seq, 2);
    assert_int_equal(gl_store_batch_put_finding(b, 1, 11, f, &seq, &err), GL_OK);
    assert_int_equal(seq, 0);
    commit_ok(b);
    assert_int_equal(gl_store_batch_put_finding(b, 1, 10, f, &seq, &err), GL_OK);
    assert_int_equal(seq, 3);
    commit_ok(b);
    json_t *arr = json_array();
    assert_int_equal(gl_store_batch_put_finding(b, 1, 10, arr, &seq, &err), GL_EINVAL);
    json_decref(arr);
    json_decref(f);
    it = gl_store_iter_findings(s, 1, 10, 11, &err);
    gl_store_finding fd;
    uint32_t seqs[8];
    ns = 0;
    while (gl_store_next_finding(it, &fd, &end, &err) == GL_OK && !end) {
        seqs[ns] = fd.seq;
        blocks[ns++] = fd.block;
        json_decref(fd.json);
    }
    gl_store_iter_free(it);
    assert_int_equal(ns, 5);
    assert_int_equal(seqs[0], 0);
    assert_int_equal(seqs[3], 3);
    assert_int_equal(blocks[4], 11);

    /* Labels: one address, or all. */
    gl_store_label l;
    memset(&l, 0, sizeof l);
    strcpy(l.label, "x");
    l.confidence = 500;
    for (int i = 0; i < 3; i++) {
        memset(l.addr, 0x10 * (i + 1), 20);
        strcpy(l.source, "src-a");
        assert_int_equal(gl_store_batch_put_label(b, &l, &err), GL_OK);
        strcpy(l.source, "src-b");
        assert_int_equal(gl_store_batch_put_label(b, &l, &err), GL_OK);
    }
    commit_ok(b);
    memset(l.addr, 0x20, 20);
    it = gl_store_iter_labels(s, l.addr, &err);
    ns = 0;
    while (gl_store_next_label(it, &l, &end, &err) == GL_OK && !end)
        ns++;
    gl_store_iter_free(it);
    assert_int_equal(ns, 2);
    it = gl_store_iter_labels(s, NULL, &err);
    ns = 0;
    while (gl_store_next_label(it, &l, &end, &err) == GL_OK && !end)
        ns++;
    gl_store_iter_free(it);
    assert_int_equal(ns, 6);

    gl_store_batch_free(b);
    gl_store_close(s);
    gl_test_rm_rf(dir);
    free(dir);
}

/* --------------------------------------------------------------- rollback */

static void build_two_chains(const char *dir, uint64_t last1, uint64_t last2)
{
    gl_err err = {0};
    gl_store *s = open_new(dir);
    gl_store_batch *b = gl_store_batch_new(s, &err);
    for (uint64_t n = 1; n <= last1; n++)
        put_block_records(b, 1, n, 0);
    for (uint64_t n = 1; n <= last2; n++)
        put_block_records(b, 2, n, 0);
    gl_store_block b1 = make_block(1, last1, 0), b2 = make_block(2, last2, 0);
    assert_int_equal(gl_store_batch_set_cursor(b, 1, "p1", last1, b1.hash, &err), GL_OK);
    assert_int_equal(gl_store_batch_set_cursor(b, 2, "p2", last2, b2.hash, &err), GL_OK);
    gl_store_label l;
    memset(&l, 0, sizeof l);
    memset(l.addr, 0x77, 20);
    strcpy(l.source, "s");
    strcpy(l.label, "l");
    assert_int_equal(gl_store_batch_put_label(b, &l, &err), GL_OK);
    commit_ok(b);
    gl_store_batch_free(b);
    gl_store_close(s);
}

static void test_rollback_exact(void **state)
{
    (void)state;
    char *root = gl_test_tmpdir("gl_store");
    char *a = gl_test_path_join(root, "a"), *ref = gl_test_path_join(root, "ref");
    build_two_chains(a, 20, 20);
    build_two_chains(ref, 10, 20); /* the oracle: a store that never held 11..20 */

    gl_err err = {0};
    gl_store *s = gl_store_open(a, NULL, &err);
    assert_non_null(s);
    gl_store_tx gone = make_tx(1, 15, 0);
    bool found;
    gl_store_tx t;
    assert_int_equal(gl_store_get_tx_by_hash(s, 1, gone.hash, &t, &found, &err), GL_OK);
    assert_true(found);
    assert_int_equal(gl_store_rollback(s, 1, 11, &err), GL_OK);
    assert_int_equal(gl_store_get_tx_by_hash(s, 1, gone.hash, &t, &found, &err), GL_OK);
    assert_false(found);
    gl_store_cursor c;
    assert_int_equal(gl_store_get_cursor(s, 1, "p1", &c, &found, &err), GL_OK);
    assert_true(found);
    assert_int_equal(c.block, 10);
    gl_store_block b10 = make_block(1, 10, 0);
    assert_memory_equal(c.hash, b10.hash, 32);
    assert_int_equal(gl_store_verify(s, &err), GL_OK);
    gl_store_close(s);

    gl_buf da = GL_BUF_INIT, dr = GL_BUF_INIT;
    gl_test_raw_dump(a, NULL, &da);
    gl_test_raw_dump(ref, NULL, &dr);
    assert_true(da.len > 1000);
    assert_int_equal(da.len, dr.len);
    assert_memory_equal(da.data, dr.data, da.len);

    /* Rolling back past every block deletes the chain's cursor too; the
     * other chain is untouched. */
    s = gl_store_open(a, NULL, &err);
    assert_int_equal(gl_store_rollback(s, 1, 0, &err), GL_OK);
    assert_int_equal(gl_store_get_cursor(s, 1, "p1", &c, &found, &err), GL_OK);
    assert_false(found);
    assert_int_equal(gl_store_get_cursor(s, 2, "p2", &c, &found, &err), GL_OK);
    assert_true(found);
    assert_int_equal(c.block, 20);
    gl_store_stats st;
    assert_int_equal(gl_store_stats_get(s, &st, &err), GL_OK);
    assert_int_equal(st.records[GL_STORE_CF_BLOCKS], 20);
    assert_int_equal(st.records[GL_STORE_CF_APPEARANCES], 20 * BLOCK_APPEARANCES);
    assert_int_equal(st.records[GL_STORE_CF_TXHASH], 20 * 3);
    assert_int_equal(st.records[GL_STORE_CF_LABELS], 1);
    gl_store_close(s);

    gl_buf_release(&da);
    gl_buf_release(&dr);
    gl_test_rm_rf(root);
    free(a);
    free(ref);
    free(root);
}

/* A reorg and the new fork commit as one batch; puts after the rollback
 * survive it, puts before it are refused. */
static void test_rollback_in_batch(void **state)
{
    (void)state;
    char *root = gl_test_tmpdir("gl_store");
    char *a = gl_test_path_join(root, "a"), *ref = gl_test_path_join(root, "ref");
    build_two_chains(a, 20, 3);

    gl_err err = {0};
    gl_store *s = gl_store_open(a, NULL, &err);
    gl_store_batch *b = gl_store_batch_new(s, &err);
    gl_store_block nb = make_block(1, 1, 0);
    assert_int_equal(gl_store_batch_put_block(b, &nb, &err), GL_OK);
    assert_int_equal(gl_store_batch_rollback(b, 1, 11, &err), GL_EINVAL);
    assert_int_equal(gl_store_batch_count(b), 1);
    gl_store_batch_free(b);

    b = gl_store_batch_new(s, &err);
    assert_int_equal(gl_store_batch_rollback(b, 1, 11, &err), GL_OK);
    for (uint64_t n = 11; n <= 12; n++)
        put_block_records(b, 1, n, 1); /* the new fork */
    gl_store_block b12 = make_block(1, 12, 1);
    assert_int_equal(gl_store_batch_set_cursor(b, 1, "p1", 12, b12.hash, &err), GL_OK);
    commit_ok(b);
    gl_store_batch_free(b);
    gl_store_close(s);

    /* The oracle: blocks 1..10 of fork 0, then 11..12 of fork 1. */
    gl_store *r = open_new(ref);
    b = gl_store_batch_new(r, &err);
    for (uint64_t n = 1; n <= 10; n++)
        put_block_records(b, 1, n, 0);
    for (uint64_t n = 1; n <= 3; n++)
        put_block_records(b, 2, n, 0);
    for (uint64_t n = 11; n <= 12; n++)
        put_block_records(b, 1, n, 1);
    gl_store_block b3 = make_block(2, 3, 0);
    assert_int_equal(gl_store_batch_set_cursor(b, 1, "p1", 12, b12.hash, &err), GL_OK);
    assert_int_equal(gl_store_batch_set_cursor(b, 2, "p2", 3, b3.hash, &err), GL_OK);
    gl_store_label l;
    memset(&l, 0, sizeof l);
    memset(l.addr, 0x77, 20);
    strcpy(l.source, "s");
    strcpy(l.label, "l");
    assert_int_equal(gl_store_batch_put_label(b, &l, &err), GL_OK);
    commit_ok(b);
    gl_store_batch_free(b);
    gl_store_close(r);

    gl_buf da = GL_BUF_INIT, dr = GL_BUF_INIT;
    gl_test_raw_dump(a, NULL, &da);
    gl_test_raw_dump(ref, NULL, &dr);
    assert_int_equal(da.len, dr.len);
    assert_memory_equal(da.data, dr.data, da.len);
    gl_buf_release(&da);
    gl_buf_release(&dr);
    gl_test_rm_rf(root);
    free(a);
    free(ref);
    free(root);
}

/* ---------------------------------------------------------------- binding */

static void test_chain_binding(void **state)
{
    (void)state;
    char *dir = gl_test_tmpdir("gl_store");
    gl_err err = {0};
    gl_store *s = open_new(dir);
    gl_store_batch *b = gl_store_batch_new(s, &err);
    uint8_t h[32] = {0};
    assert_int_equal(gl_store_batch_set_cursor(b, 1, "golem-polygon", 5, h, &err), GL_OK);
    commit_ok(b);

    gl_store_event e = make_event(137, 6, 0);
    strcpy(e.platform, "golem-polygon");
    assert_int_equal(gl_store_batch_put_event(b, &e, &err), GL_EDB);
    char want[600];
    snprintf(want, sizeof want, "store '%s' holds chain 1 for platform 'golem-polygon', not 137",
             dir);
    assert_string_equal(err.msg, want);
    assert_int_equal(gl_store_batch_count(b), 0);

    /* Two batches race for a new name: the second to commit is refused as a
     * whole (its block is not written either). */
    gl_store_batch *b2 = gl_store_batch_new(s, &err);
    assert_int_equal(gl_store_batch_set_cursor(b, 5, "fresh", 1, h, &err), GL_OK);
    gl_store_block blk = make_block(6, 1, 0);
    assert_int_equal(gl_store_batch_put_block(b2, &blk, &err), GL_OK);
    assert_int_equal(gl_store_batch_set_cursor(b2, 6, "fresh", 1, h, &err), GL_OK);
    commit_ok(b);
    assert_int_equal(gl_store_batch_commit(b2, &err), GL_EDB);
    assert_non_null(strstr(err.msg, "holds chain 5 for platform 'fresh', not 6"));
    assert_int_equal(gl_store_batch_count(b2), 2); /* left as it was */
    bool found;
    gl_store_block got;
    assert_int_equal(gl_store_get_block(s, 6, 1, &got, &found, &err), GL_OK);
    assert_false(found);
    gl_store_batch_free(b2);
    /* Within one batch too. */
    assert_int_equal(gl_store_batch_set_cursor(b, 9, "other", 1, h, &err), GL_OK);
    assert_int_equal(gl_store_batch_set_platform_hash(b, "other", 10, h, &err), GL_EDB);
    gl_store_batch_free(b);
    gl_store_close(s);

    /* Opening with a conflicting expectation: refused, nothing changed. */
    gl_buf before = GL_BUF_INIT;
    gl_test_dir_snapshot(dir, &before);
    gl_store_binding bind = {"golem-polygon", 137};
    gl_store_open_opts o = {.create = true, .bindings = &bind, .n_bindings = 1};
    assert_null(gl_store_open(dir, &o, &err));
    assert_int_equal(err.code, GL_EDB);
    assert_string_equal(err.msg, want);
    gl_test_assert_dir_unchanged(dir, &before);
    bind.chain_id = 1;
    s = gl_store_open(dir, &o, &err);
    assert_non_null(s);
    gl_store_close(s);
    gl_buf_release(&before);
    gl_test_rm_rf(dir);
    free(dir);
}

/* ------------------------------------------------- refusals leave no trace */

static void make_store_with_data(const char *dir)
{
    build_two_chains(dir, 3, 2);
}

static void test_newer_schema_untouched(void **state)
{
    (void)state;
    char *dir = gl_test_tmpdir("gl_store");
    make_store_with_data(dir);
    gl_test_raw r;
    gl_test_raw_open(&r, dir, false);
    rocksdb_writeoptions_t *wo = rocksdb_writeoptions_create();
    char *e = NULL;
    rocksdb_put_cf(r.db, wo, gl_test_raw_cf(&r, "meta"), "schema_version", 14, "\0\0\0\x04", 4, &e);
    assert_null(e);
    rocksdb_writeoptions_destroy(wo);
    gl_test_raw_close(&r);

    gl_buf before = GL_BUF_INIT;
    gl_test_dir_snapshot(dir, &before);
    gl_err err = {0};
    gl_store_open_opts variants[] = {{0}, {.create = true}, {.read_only = true}};
    for (size_t i = 0; i < 3; i++) {
        assert_null(gl_store_open(dir, &variants[i], &err));
        assert_int_equal(err.code, GL_EDB);
        char want[600];
        snprintf(want, sizeof want,
                 "store '%s' has schema version 4, newer than this gpuledger understands (3): "
                 "use a newer gpuledger",
                 dir);
        assert_string_equal(err.msg, want);
        gl_test_assert_dir_unchanged(dir, &before);
    }
    gl_buf_release(&before);
    gl_test_rm_rf(dir);
    free(dir);
}

static void test_foreign_rocksdb_untouched(void **state)
{
    (void)state;
    char *root = gl_test_tmpdir("gl_store");
    char *dir = gl_test_path_join(root, "other");
    /* Another application's database, with its own data. */
    rocksdb_options_t *o = rocksdb_options_create();
    rocksdb_options_set_create_if_missing(o, 1);
    char *e = NULL;
    rocksdb_t *db = rocksdb_open(o, dir, &e);
    assert_null(e);
    rocksdb_writeoptions_t *wo = rocksdb_writeoptions_create();
    rocksdb_put(db, wo, "user:1", 6, "alice", 5, &e);
    assert_null(e);
    rocksdb_close(db);

    gl_buf before = GL_BUF_INIT;
    gl_err err = {0};
    gl_store_open_opts variants[] = {{0}, {.create = true}, {.read_only = true}};
    char want[600];
    snprintf(want, sizeof want,
             "'%s' is a RocksDB database but not a gpuledger store (no gpuledger meta)", dir);
    gl_test_dir_snapshot(dir, &before);
    for (size_t i = 0; i < 3; i++) {
        assert_null(gl_store_open(dir, &variants[i], &err));
        assert_int_equal(err.code, GL_EDB);
        assert_string_equal(err.msg, want);
        gl_test_assert_dir_unchanged(dir, &before);
    }

    /* Even with a family called "meta". */
    db = rocksdb_open(o, dir, &e);
    assert_null(e);
    rocksdb_column_family_handle_t *meta = rocksdb_create_column_family(db, o, "meta", &e);
    assert_null(e);
    rocksdb_put_cf(db, wo, meta, "magic", 5, "not-ours", 8, &e);
    assert_null(e);
    rocksdb_column_family_handle_destroy(meta);
    rocksdb_writeoptions_destroy(wo);
    rocksdb_close(db);
    rocksdb_options_destroy(o);

    gl_buf_reset(&before);
    gl_test_dir_snapshot(dir, &before);
    for (size_t i = 0; i < 3; i++) {
        assert_null(gl_store_open(dir, &variants[i], &err));
        assert_int_equal(err.code, GL_EDB);
        assert_string_equal(err.msg, want);
        gl_test_assert_dir_unchanged(dir, &before);
    }
    gl_buf_release(&before);
    gl_test_rm_rf(root);
    free(dir);
    free(root);
}

static void test_garbage_and_missing(void **state)
{
    (void)state;
    char *root = gl_test_tmpdir("gl_store");
    gl_err err = {0};
    gl_store_open_opts create = {.create = true};

    /* Files that are not RocksDB at all. */
    char *g = gl_test_path_join(root, "garbage");
    mkdir(g, 0755);
    char *f1 = gl_test_path_join(g, "notes.txt"), *f2 = gl_test_path_join(g, "000001.sst");
    write_file(f1, "hello\n", 6);
    write_file(f2, "\x01\x02garbage", 9);
    gl_buf before = GL_BUF_INIT;
    gl_test_dir_snapshot(g, &before);
    assert_null(gl_store_open(g, &create, &err));
    assert_int_equal(err.code, GL_EDB);
    assert_non_null(strstr(err.msg, "is not a gpuledger store: it holds files"));
    gl_test_assert_dir_unchanged(g, &before);

    /* A CURRENT file that points nowhere. */
    char *cur = gl_test_path_join(g, "CURRENT");
    write_file(cur, "MANIFEST-000009\n", 16);
    gl_buf_reset(&before);
    gl_test_dir_snapshot(g, &before);
    assert_null(gl_store_open(g, &create, &err));
    assert_int_equal(err.code, GL_EDB);
    assert_non_null(strstr(err.msg, g));
    gl_test_assert_dir_unchanged(g, &before);

    /* A regular file where the directory should be. */
    assert_null(gl_store_open(f1, &create, &err));
    assert_true(strstr(err.msg, "is not a directory") != NULL);

    /* Missing or empty without create: refused, not created. */
    char *m = gl_test_path_join(root, "missing");
    assert_null(gl_store_open(m, NULL, &err));
    assert_true(strstr(err.msg, "does not exist") != NULL);
    struct stat st;
    assert_int_not_equal(stat(m, &st), 0);
    gl_store_open_opts ro_create = {.create = true, .read_only = true};
    assert_null(gl_store_open(m, &ro_create, &err));
    assert_int_not_equal(stat(m, &st), 0);
    char *empty = gl_test_path_join(root, "empty");
    mkdir(empty, 0755);
    assert_null(gl_store_open(empty, NULL, &err));
    assert_true(strstr(err.msg, "empty directory") != NULL);
    gl_buf_reset(&before);
    gl_test_dir_snapshot(empty, &before);
    assert_int_equal(before.len, 0);
    /* ... and an empty directory with create becomes a store. */
    gl_store *s = gl_store_open(empty, &create, &err);
    assert_non_null(s);
    gl_store_close(s);
    assert_null(gl_store_open(NULL, NULL, &err));
    assert_int_equal(err.code, GL_EINVAL);

    gl_buf_release(&before);
    gl_test_rm_rf(root);
    free(g);
    free(f1);
    free(f2);
    free(cur);
    free(m);
    free(empty);
    free(root);
}

/* A store whose data sits in table files (a reopen replays the WAL into
 * level-0 tables). */
static void make_store_with_tables(const char *dir)
{
    make_store_with_data(dir);
    gl_err err = {0};
    gl_store *s = gl_store_open(dir, NULL, &err);
    assert_non_null(s);
    gl_store_close(s);
}

static void test_corrupt_manifest(void **state)
{
    (void)state;
    char *root = gl_test_tmpdir("gl_store");
    char *orig = gl_test_path_join(root, "orig");
    make_store_with_tables(orig);
    char names[4][256];
    assert_int_equal(gl_test_list_files(orig, "MANIFEST-", NULL, names, 4), 1);
    char *mpath = gl_test_path_join(orig, names[0]);
    long size = gl_test_file_size(mpath);
    free(mpath);
    assert_true(size > 40);
    const long offs[] = {0, 3, 7, 12, size / 2, size - 1};
    for (size_t i = 0; i < sizeof offs / sizeof offs[0]; i++) {
        char sub[32];
        snprintf(sub, sizeof sub, "copy%zu", i);
        char *copy = gl_test_path_join(root, sub);
        copy_dir(orig, copy);
        char *p = gl_test_path_join(copy, names[0]);
        gl_test_flip_byte(p, offs[i]);
        gl_buf before = GL_BUF_INIT;
        gl_test_dir_snapshot(copy, &before);
        gl_err err = {0};
        gl_store *s = gl_store_open(copy, NULL, &err);
        if (s)
            fail_msg("a MANIFEST with byte %ld flipped opened", offs[i]);
        assert_int_equal(err.code, GL_EDB);
        assert_non_null(strstr(err.msg, copy));
        assert_non_null(strstr(err.msg, "damaged"));
        gl_test_assert_dir_unchanged(copy, &before);
        gl_buf_release(&before);
        free(p);
        free(copy);
    }
    gl_test_rm_rf(root);
    free(orig);
    free(root);
}

static void test_corrupt_sst(void **state)
{
    (void)state;
    char *root = gl_test_tmpdir("gl_store");
    char *orig = gl_test_path_join(root, "orig");
    make_store_with_tables(orig);
    char names[32][256];
    size_t nsst = gl_test_list_files(orig, NULL, ".sst", names, 32);
    assert_true(nsst >= 3);
    unsigned tried = 0;
    for (size_t f = 0; f < nsst; f++) {
        char *p0 = gl_test_path_join(orig, names[f]);
        long size = gl_test_file_size(p0);
        free(p0);
        /* Inside the data blocks (the start of the file) and the middle;
         * the footer's padding is the one place a flip can go unseen. */
        const long offs[] = {0, 5, size / 3};
        for (size_t i = 0; i < 3; i++) {
            char sub[64];
            snprintf(sub, sizeof sub, "c%zu_%zu", f, i);
            char *copy = gl_test_path_join(root, sub);
            copy_dir(orig, copy);
            char *p = gl_test_path_join(copy, names[f]);
            gl_test_flip_byte(p, offs[i]);
            gl_err err = {0};
            gl_store *s = gl_store_open(copy, NULL, &err);
            gl_code rc = s ? gl_store_verify(s, &err) : err.code;
            if (rc != GL_EDB)
                fail_msg("table %s with byte %ld flipped: %s", names[f], offs[i],
                         s ? "verified clean" : err.msg);
            assert_non_null(strstr(err.msg, "damaged"));
            gl_store_close(s);
            tried++;
            free(p);
            gl_test_rm_rf(copy);
            free(copy);
        }
    }
    assert_true(tried >= 9);
    gl_test_rm_rf(root);
    free(orig);
    free(root);
}

static void test_interrupted_creation(void **state)
{
    (void)state;
    char *root = gl_test_tmpdir("gl_store");
    char *dir = gl_test_path_join(root, "half");
    /* What a kill during creation leaves: RocksDB made, some of our
     * families made, no meta written yet. */
    rocksdb_options_t *o = rocksdb_options_create();
    rocksdb_options_set_create_if_missing(o, 1);
    char *e = NULL;
    rocksdb_t *db = rocksdb_open(o, dir, &e);
    assert_null(e);
    rocksdb_column_family_handle_t *h = rocksdb_create_column_family(db, o, "meta", &e);
    assert_null(e);
    rocksdb_column_family_handle_destroy(h);
    h = rocksdb_create_column_family(db, o, "blocks", &e);
    assert_null(e);
    rocksdb_column_family_handle_destroy(h);
    rocksdb_close(db);
    rocksdb_options_destroy(o);

    gl_buf before = GL_BUF_INIT;
    gl_test_dir_snapshot(dir, &before);
    gl_err err = {0};
    assert_null(gl_store_open(dir, NULL, &err));
    assert_non_null(strstr(err.msg, "was interrupted"));
    gl_test_assert_dir_unchanged(dir, &before);
    gl_store_open_opts create = {.create = true, .created_by = "finisher"};
    gl_store *s = gl_store_open(dir, &create, &err);
    assert_non_null(s);
    char by[32];
    assert_int_equal(gl_store_get_created_by(s, by, sizeof by, &err), GL_OK);
    assert_string_equal(by, "finisher");
    gl_store_batch *b = gl_store_batch_new(s, &err);
    put_block_records(b, 1, 1, 0);
    commit_ok(b);
    gl_store_batch_free(b);
    gl_store_close(s);
    s = gl_store_open(dir, NULL, &err);
    assert_non_null(s);
    assert_int_equal(gl_store_verify(s, &err), GL_OK);
    gl_store_close(s);
    gl_buf_release(&before);

    /* Killed earlier still: RocksDB had not written CURRENT yet.  Only its
     * own creation files are there. */
    char *half = gl_test_path_join(root, "half2");
    mkdir(half, 0755);
    const char *files[] = {"LOCK", "IDENTITY", "LOG", "MANIFEST-000001", "000001.dbtmp"};
    for (size_t i = 0; i < 5; i++) {
        char *p = gl_test_path_join(half, files[i]);
        write_file(p, i == 1 ? "3f1c2a60-0000-4000-8000-000000000000\n" : "", i == 1 ? 37 : 0);
        free(p);
    }
    gl_buf_init(&before);
    gl_test_dir_snapshot(half, &before);
    assert_null(gl_store_open(half, NULL, &err));
    assert_non_null(strstr(err.msg, "was interrupted"));
    gl_test_assert_dir_unchanged(half, &before);
    s = gl_store_open(half, &create, &err);
    if (!s)
        fail_msg("finishing a creation killed before CURRENT: %s", err.msg);
    gl_store_close(s);
    s = gl_store_open(half, NULL, &err);
    assert_non_null(s);
    gl_store_close(s);
    gl_buf_release(&before);
    free(half);
    gl_test_rm_rf(root);
    free(dir);
    free(root);
}

static void test_read_only_and_in_use(void **state)
{
    (void)state;
    char *dir = gl_test_tmpdir("gl_store");
    make_store_with_data(dir);
    gl_buf before = GL_BUF_INIT;
    gl_test_dir_snapshot(dir, &before);
    gl_err err = {0};
    gl_store_open_opts ro = {.read_only = true};
    gl_store *s = gl_store_open(dir, &ro, &err);
    assert_non_null(s);
    assert_null(gl_store_batch_new(s, &err));
    assert_int_equal(err.code, GL_EINVAL);
    bool found;
    gl_store_block blk;
    assert_int_equal(gl_store_get_block(s, 1, 3, &blk, &found, &err), GL_OK);
    assert_true(found);
    assert_int_equal(gl_store_verify(s, &err), GL_OK);
    gl_store_close(s);
    gl_test_assert_dir_unchanged(dir, &before);

    /* A second read-write open is refused while the first is open; a
     * read-only one is fine. */
    gl_store *w = gl_store_open(dir, NULL, &err);
    assert_non_null(w);
    assert_null(gl_store_open(dir, NULL, &err));
    assert_int_equal(err.code, GL_EDB);
    assert_non_null(strstr(err.msg, "in use"));
    s = gl_store_open(dir, &ro, &err);
    assert_non_null(s);
    gl_store_close(s);
    gl_store_close(w);
    gl_buf_release(&before);
    gl_test_rm_rf(dir);
    free(dir);
}

static void test_invalid_puts_leave_batch(void **state)
{
    (void)state;
    char *dir = gl_test_tmpdir("gl_store");
    gl_err err = {0};
    gl_store *s = open_new(dir);
    gl_store_batch *b = gl_store_batch_new(s, &err);
    gl_store_block blk = make_block(0, 1, 0);
    assert_int_equal(gl_store_batch_put_block(b, &blk, &err), GL_EINVAL);
    assert_string_equal(err.msg, "chain id 0 is not a chain");
    gl_store_tx tx = make_tx(UINT64_MAX, 1, 0);
    assert_int_equal(gl_store_batch_put_tx(b, &tx, &err), GL_EINVAL);
    gl_store_event ev = make_event(1, 1, 0);
    strcpy(ev.platform, "");
    assert_int_equal(gl_store_batch_put_event(b, &ev, &err), GL_EINVAL);
    memset(ev.platform, 'x', GL_STORE_NAME_MAX - 1);
    ev.platform[GL_STORE_NAME_MAX - 1] = '\0'; /* 63 characters: the longest name */
    assert_int_equal(gl_store_batch_put_event(b, &ev, &err), GL_OK);
    char name64[GL_STORE_NAME_MAX + 1];
    memset(name64, 'x', GL_STORE_NAME_MAX);
    name64[GL_STORE_NAME_MAX] = '\0';
    gl_store_transfer t = make_transfer(1, 1, GL_STORE_POS_TX, 0, 0);
    t.asset = (gl_store_asset)9;
    assert_int_equal(gl_store_batch_put_transfer(b, &t, &err), GL_EINVAL);
    t = make_transfer(1, 1, (gl_store_pos_kind)7, 0, 0);
    assert_int_equal(gl_store_batch_put_transfer(b, &t, &err), GL_EINVAL);
    uint8_t h[32] = {0};
    assert_int_equal(gl_store_batch_set_cursor(b, 1, "with space", 1, h, &err), GL_EINVAL);
    assert_int_equal(gl_store_batch_set_cursor(b, 1, name64, 1, h, &err), GL_EINVAL);
    gl_store_label l;
    memset(&l, 0, sizeof l);
    strcpy(l.source, "s");
    assert_int_equal(gl_store_batch_put_label(b, &l, &err), GL_EINVAL); /* no label text */
    assert_int_equal(gl_store_batch_count(b), 1);
    /* Only the good event's: contract and two roles.  A refused record puts
     * none of its appearances. */
    assert_int_equal(gl_store_batch_appearances(b), 3);
    commit_ok(b);
    gl_store_stats st;
    assert_int_equal(gl_store_stats_get(s, &st, &err), GL_OK);
    assert_int_equal(st.records[GL_STORE_CF_EVENTS], 1);
    assert_int_equal(st.records[GL_STORE_CF_BLOCKS], 0);
    assert_int_equal(st.records[GL_STORE_CF_APPEARANCES], 3);
    assert_int_equal(st.records[GL_STORE_CF_TXS], 0);
    assert_int_equal(st.records[GL_STORE_CF_TRANSFERS], 0);
    gl_store_batch_free(b);
    gl_store_close(s);
    gl_test_rm_rf(dir);
    free(dir);
}

/* Put (del false) or delete one raw key of family `fam` of the store at dir,
 * with plain RocksDB: damage the store's own code would never write. */
static void raw_write(const char *dir, const char *fam, const void *k, size_t kl, bool del)
{
    gl_test_raw r;
    gl_test_raw_open(&r, dir, false);
    rocksdb_writeoptions_t *wo = rocksdb_writeoptions_create();
    char *e = NULL;
    if (del)
        rocksdb_delete_cf(r.db, wo, gl_test_raw_cf(&r, fam), k, kl, &e);
    else
        rocksdb_put_cf(r.db, wo, gl_test_raw_cf(&r, fam), k, kl, "", 0, &e);
    assert_null(e);
    rocksdb_writeoptions_destroy(wo);
    gl_test_raw_close(&r);
}

/* The appearances key, written out here from docs/STORE.md (address,
 * chain, block, kind, index, sub, role) rather than by the store's code. */
static void app_key(uint8_t out[GL_STORE_APPEARANCE_KEY_LEN], const uint8_t addr[20], uint64_t chain,
                    uint64_t block, gl_store_pos_kind kind, uint32_t index, uint32_t sub,
                    gl_store_role role)
{
    memcpy(out, addr, 20);
    for (int i = 0; i < 8; i++) {
        out[20 + i] = (uint8_t)(chain >> (56 - 8 * i));
        out[28 + i] = (uint8_t)(block >> (56 - 8 * i));
    }
    out[36] = (uint8_t)kind;
    for (int i = 0; i < 4; i++) {
        out[37 + i] = (uint8_t)(index >> (24 - 8 * i));
        out[41 + i] = (uint8_t)(sub >> (24 - 8 * i));
    }
    out[45] = (uint8_t)role;
}

/* "0x" and 40 lowercase hex digits, by snprintf. */
static void addr_hex(const uint8_t a[20], char out[43])
{
    out[0] = '0';
    out[1] = 'x';
    for (int i = 0; i < 20; i++)
        snprintf(out + 2 + 2 * i, 3, "%02x", a[i]);
}

/* gl_store_verify on the store at dir fails with GL_EDB and a message that
 * holds each of the NULL-terminated strings. */
static void expect_verify_fails(const char *dir, ...)
{
    gl_err err = {0};
    gl_store *s = gl_store_open(dir, NULL, &err);
    if (!s)
        fail_msg("open %s: %s", dir, err.msg);
    gl_code rc = gl_store_verify(s, &err);
    gl_store_close(s);
    if (rc != GL_EDB)
        fail_msg("verify found nothing wrong (%d)", (int)rc);
    va_list ap;
    va_start(ap, dir);
    for (const char *w; (w = va_arg(ap, const char *)) != NULL;)
        if (!strstr(err.msg, w))
            fail_msg("verify said '%s', which lacks '%s'", err.msg, w);
    va_end(ap);
}

static void expect_verify_ok(const char *dir)
{
    gl_err err = {0};
    gl_store *s = gl_store_open(dir, NULL, &err);
    if (!s)
        fail_msg("open %s: %s", dir, err.msg);
    if (gl_store_verify(s, &err) != GL_OK)
        fail_msg("verify: %s", err.msg);
    gl_store_close(s);
}

/* Damage that RocksDB's checksums cannot see: a record our decoder rejects,
 * an appearance no record implies, a record whose appearance is missing. */
static void test_verify_semantic_damage(void **state)
{
    (void)state;
    char *dir = gl_test_tmpdir("gl_store");
    make_store_with_data(dir);
    expect_verify_ok(dir);
    gl_test_raw r;
    gl_test_raw_open(&r, dir, false);
    rocksdb_writeoptions_t *wo = rocksdb_writeoptions_create();
    char *e = NULL;
    uint8_t k[GL_STORE_EVENT_KEY_LEN];
    gl_store_key_event(k, 1, 2, 0);
    gl_store_event good = make_event(1, 2, 0);
    strcpy(good.platform, "p1");
    gl_buf goodv = GL_BUF_INIT;
    assert_int_equal(gl_store_event_encode(&good, &goodv, NULL), GL_OK);
    rocksdb_put_cf(r.db, wo, gl_test_raw_cf(&r, "events"), (const char *)k, sizeof k, "\x01\x10\x00", 3,
                   &e);
    assert_null(e);
    rocksdb_writeoptions_destroy(wo);
    gl_test_raw_close(&r);

    gl_err err = {0};
    gl_store *s = gl_store_open(dir, NULL, &err);
    assert_non_null(s);
    bool found;
    gl_store_event ev;
    assert_int_equal(gl_store_get_event(s, 1, 2, 0, &ev, &found, &err), GL_EDB);
    assert_non_null(strstr(err.msg, "is damaged: bad record in 'events'"));
    gl_store_iter *it = gl_store_iter_events(s, 1, 0, 10, &err);
    bool end;
    assert_int_equal(gl_store_next_event(it, &ev, &end, &err), GL_OK); /* block 1 */
    assert_int_equal(gl_store_next_event(it, &ev, &end, &err), GL_OK);
    assert_int_equal(gl_store_next_event(it, &ev, &end, &err), GL_EDB);
    gl_store_iter_free(it);
    assert_int_equal(gl_store_verify(s, &err), GL_EDB);
    assert_non_null(strstr(err.msg, "'events' record at key 0x00000000000000010000000000000002"));
    gl_store_close(s);

    /* The event restored (its own bytes): clean again. */
    gl_test_raw_open(&r, dir, false);
    wo = rocksdb_writeoptions_create();
    rocksdb_put_cf(r.db, wo, gl_test_raw_cf(&r, "events"), (const char *)k, sizeof k,
                   (const char *)goodv.data, goodv.len, &e);
    assert_null(e);
    rocksdb_writeoptions_destroy(wo);
    gl_test_raw_close(&r);
    gl_buf_release(&goodv);
    expect_verify_ok(dir);

    /* Orphan appearances, one at a time: an address the event at (1, 2,
     * log 0) does not name; its buyer in a role it does not have; a tx
     * position with no tx or transfer; a trace position with no transfer;
     * a log item (sub 1) with no transfer. */
    uint8_t stranger[20], buyer[20], tx_from[20];
    memset(stranger, 0x99, 20);
    memcpy(buyer, good.roles[0].addr, 20);
    gl_store_tx tx0 = make_tx(1, 2, 0);
    memcpy(tx_from, tx0.from, 20);
    struct {
        const uint8_t *addr;
        gl_store_pos pos;
        gl_store_role role;
    } orphans[] = {
        {stranger, {1, 2, GL_STORE_POS_LOG, 0, 0}, GL_STORE_ROLE_BUYER},
        {buyer, {1, 2, GL_STORE_POS_LOG, 0, 0}, GL_STORE_ROLE_PROVIDER},
        {tx_from, {1, 2, GL_STORE_POS_TX, 7, 0}, GL_STORE_ROLE_TX_FROM},
        {tx_from, {1, 2, GL_STORE_POS_TRACE, 0, 1}, GL_STORE_ROLE_SENDER},
        {buyer, {1, 2, GL_STORE_POS_LOG, 0, 1}, GL_STORE_ROLE_BUYER},
        /* the tx at (1, 2, 0)'s sender as its recipient */
        {tx_from, {1, 2, GL_STORE_POS_TX, 0, 0}, GL_STORE_ROLE_TX_TO},
    };
    for (size_t i = 0; i < sizeof orphans / sizeof orphans[0]; i++) {
        uint8_t ak[GL_STORE_APPEARANCE_KEY_LEN];
        app_key(ak, orphans[i].addr, orphans[i].pos.chain_id, orphans[i].pos.block,
                orphans[i].pos.kind, orphans[i].pos.index, orphans[i].pos.sub, orphans[i].role);
        char *hex = gl_hex_encode_alloc(ak, sizeof ak, true);
        char want[200];
        snprintf(want, sizeof want, "'appearances' record at key %s", hex);
        free(hex);
        raw_write(dir, "appearances", ak, sizeof ak, false);
        expect_verify_fails(dir, "is damaged", want, "appearance that no record at its position implies",
                            (char *)NULL);
        raw_write(dir, "appearances", ak, sizeof ak, true);
        expect_verify_ok(dir);
    }

    /* Missing appearances, one at a time: the event's buyer, the token
     * transfer's token, the tx's recipient, the native transfer's sender. */
    gl_store_transfer tok = make_transfer(1, 3, GL_STORE_POS_LOG, 1, 0);
    gl_store_transfer nat = make_transfer(1, 3, GL_STORE_POS_TX, 1, 0);
    gl_store_tx tx2 = make_tx(1, 1, 2);
    struct {
        const uint8_t *addr;
        gl_store_pos pos;
        gl_store_role role;
        const char *fam, *role_name;
    } missing[] = {
        {buyer, {1, 2, GL_STORE_POS_LOG, 0, 0}, GL_STORE_ROLE_BUYER, "events", "buyer"},
        {tok.token, tok.pos, GL_STORE_ROLE_TOKEN, "transfers", "token"},
        {tx2.to, {1, 1, GL_STORE_POS_TX, 2, 0}, GL_STORE_ROLE_TX_TO, "txs", "tx_to"},
        {nat.from, nat.pos, GL_STORE_ROLE_SENDER, "transfers", "sender"},
    };
    for (size_t i = 0; i < sizeof missing / sizeof missing[0]; i++) {
        uint8_t ak[GL_STORE_APPEARANCE_KEY_LEN];
        app_key(ak, missing[i].addr, missing[i].pos.chain_id, missing[i].pos.block,
                missing[i].pos.kind, missing[i].pos.index, missing[i].pos.sub, missing[i].role);
        char ah[43], rec[120], what[160];
        addr_hex(missing[i].addr, ah);
        snprintf(rec, sizeof rec, "'%s' record at key 0x", missing[i].fam);
        snprintf(what, sizeof what, "its %s appearance of %s is missing", missing[i].role_name, ah);
        raw_write(dir, "appearances", ak, sizeof ak, true);
        expect_verify_fails(dir, "is damaged", rec, what, (char *)NULL);
        raw_write(dir, "appearances", ak, sizeof ak, false);
        expect_verify_ok(dir);
    }
    gl_test_rm_rf(dir);
    free(dir);
}

/* ------------------------------------------------- derived appearances */

typedef struct want_app {
    gl_store_pos pos;
    gl_store_role role;
} want_app;

/* The appearances of addr, in key order, are exactly want[0..n). */
static void expect_appearances(gl_store *s, const uint8_t addr[20], const want_app *want, size_t n)
{
    gl_err err = {0};
    gl_store_iter *it = gl_store_iter_appearances(s, addr, &err);
    assert_non_null(it);
    char ah[43];
    addr_hex(addr, ah);
    for (size_t i = 0;; i++) {
        gl_store_appearance a;
        bool end;
        assert_int_equal(gl_store_next_appearance(it, &a, &end, &err), GL_OK);
        if (end) {
            if (i != n)
                fail_msg("%s has %zu appearances, expected %zu", ah, i, n);
            break;
        }
        if (i >= n)
            fail_msg("%s has an appearance more than the %zu expected: block %llu kind %d "
                     "index %u role %d",
                     ah, n, (unsigned long long)a.pos.block, (int)a.pos.kind, a.pos.index,
                     (int)a.role);
        const want_app *w = &want[i];
        if (a.pos.chain_id != w->pos.chain_id || a.pos.block != w->pos.block ||
            a.pos.kind != w->pos.kind || a.pos.index != w->pos.index || a.pos.sub != w->pos.sub ||
            a.role != w->role || memcmp(a.addr, addr, 20))
            fail_msg("%s appearance %zu: chain %llu block %llu kind %d index %u sub %u role %d; "
                     "expected chain %llu block %llu kind %d index %u sub %u role %d",
                     ah, i, (unsigned long long)a.pos.chain_id, (unsigned long long)a.pos.block,
                     (int)a.pos.kind, a.pos.index, a.pos.sub, (int)a.role,
                     (unsigned long long)w->pos.chain_id, (unsigned long long)w->pos.block,
                     (int)w->pos.kind, w->pos.index, w->pos.sub, (int)w->role);
    }
    gl_store_iter_free(it);
}

static gl_store_event bare_event(uint64_t chain, uint64_t block, uint32_t li, const char *platform)
{
    gl_store_event e;
    memset(&e, 0, sizeof e);
    e.chain_id = chain;
    e.block = block;
    e.log_index = li;
    strcpy(e.platform, platform);
    strcpy(e.name, "E");
    memset(e.tx_hash, 0x31, 32);
    return e;
}

static gl_store_tx bare_tx(uint64_t chain, uint64_t block, uint32_t index, const uint8_t from[20],
                           const uint8_t *to)
{
    gl_store_tx t;
    memset(&t, 0, sizeof t);
    t.chain_id = chain;
    t.block = block;
    t.index = index;
    fill(t.hash, 32, chain * 131 + block * 7 + index);
    memcpy(t.from, from, 20);
    t.has_to = to != NULL;
    if (to)
        memcpy(t.to, to, 20);
    return t;
}

static gl_store_transfer bare_transfer(gl_store_pos pos, gl_store_asset asset, const uint8_t *token,
                                       const uint8_t from[20], const uint8_t to[20])
{
    gl_store_transfer t;
    memset(&t, 0, sizeof t);
    t.pos = pos;
    t.asset = asset;
    if (token)
        memcpy(t.token, token, 20);
    memcpy(t.from, from, 20);
    memcpy(t.to, to, 20);
    t.amount = gl_u256_from_u64(1);
    memset(t.tx_hash, 0x32, 32);
    return t;
}

#define LOGP(c, b, i, s) ((gl_store_pos){(c), (b), GL_STORE_POS_LOG, (i), (s)})
#define TXP(c, b, i) ((gl_store_pos){(c), (b), GL_STORE_POS_TX, (i), 0})
#define TRACEP(c, b, i, s) ((gl_store_pos){(c), (b), GL_STORE_POS_TRACE, (i), (s)})

/* What each kind of record implies, written out by hand: an event its
 * contract and its roles (not its tx's sender, not its token), a transfer
 * its sender, recipient and (not for the native coin) its token, a tx its
 * sender and recipient (none for a creation); never the zero address. */
static void test_derived_appearances(void **state)
{
    (void)state;
    char *dir = gl_test_tmpdir("gl_store");
    gl_err err = {0};
    gl_store *s = open_new(dir);
    gl_store_batch *b = gl_store_batch_new(s, &err);
    uint8_t A[20], P[20], C[20], T[20], D[20], Z[20];
    memset(A, 0xa1, 20);
    memset(P, 0xb2, 20);
    memset(C, 0xc3, 20);
    memset(T, 0x74, 20);
    memset(D, 0xdd, 20);
    memset(Z, 0, 20);

    /* chain 5 block 100 log 7: C's event naming A twice, P, C again, and
     * the zero address; its tx's sender D and token T are not roles. */
    gl_store_event e = bare_event(5, 100, 7, "p5");
    memcpy(e.contract, C, 20);
    e.has_tx_from = true;
    memcpy(e.tx_from, D, 20);
    e.has_amount = true;
    e.amount = gl_u256_from_u64(10);
    e.has_token = true;
    memcpy(e.token, T, 20);
    const gl_store_role roles[] = {GL_STORE_ROLE_BUYER, GL_STORE_ROLE_PROVIDER,
                                   GL_STORE_ROLE_PAYER, GL_STORE_ROLE_BENEFICIARY,
                                   GL_STORE_ROLE_OWNER};
    const uint8_t *raddr[] = {A, P, A, Z, C};
    e.n_roles = 5;
    for (size_t i = 0; i < 5; i++) {
        e.roles[i].role = roles[i];
        memcpy(e.roles[i].addr, raddr[i], 20);
    }
    assert_int_equal(gl_store_batch_put_event(b, &e, &err), GL_OK);
    assert_int_equal(gl_store_batch_appearances(b), 5); /* C, A, P, A, C */
    /* log 8: the zero address's event, naming A. */
    e = bare_event(5, 100, 8, "p5");
    e.n_roles = 1;
    e.roles[0].role = GL_STORE_ROLE_BUYER;
    memcpy(e.roles[0].addr, A, 20);
    assert_int_equal(gl_store_batch_put_event(b, &e, &err), GL_OK);
    assert_int_equal(gl_store_batch_appearances(b), 6);

    gl_store_transfer t = bare_transfer(LOGP(5, 100, 7, 0), GL_STORE_ASSET_ERC20, T, A, P);
    assert_int_equal(gl_store_batch_put_transfer(b, &t, &err), GL_OK);
    assert_int_equal(gl_store_batch_appearances(b), 9);
    t = bare_transfer(LOGP(5, 100, 9, 2), GL_STORE_ASSET_ERC1155, T, Z, P); /* a mint */
    t.token_id = gl_u256_from_u64(42);
    assert_int_equal(gl_store_batch_put_transfer(b, &t, &err), GL_OK);
    assert_int_equal(gl_store_batch_appearances(b), 11);
    t = bare_transfer(TXP(5, 100, 3), GL_STORE_ASSET_NATIVE, NULL, A, P);
    assert_int_equal(gl_store_batch_put_transfer(b, &t, &err), GL_OK);
    assert_int_equal(gl_store_batch_appearances(b), 13); /* no token */
    t = bare_transfer(TRACEP(5, 100, 3, 1), GL_STORE_ASSET_NATIVE, NULL, P, Z); /* a burn */
    assert_int_equal(gl_store_batch_put_transfer(b, &t, &err), GL_OK);
    assert_int_equal(gl_store_batch_appearances(b), 14);

    gl_store_tx tx = bare_tx(5, 100, 3, A, C);
    assert_int_equal(gl_store_batch_put_tx(b, &tx, &err), GL_OK);
    assert_int_equal(gl_store_batch_appearances(b), 16);
    tx = bare_tx(5, 100, 4, A, NULL); /* a creation */
    assert_int_equal(gl_store_batch_put_tx(b, &tx, &err), GL_OK);
    assert_int_equal(gl_store_batch_appearances(b), 17);
    tx = bare_tx(5, 101, 0, Z, P);
    assert_int_equal(gl_store_batch_put_tx(b, &tx, &err), GL_OK);
    assert_int_equal(gl_store_batch_appearances(b), 18);
    tx = bare_tx(1, 999999, 0, A, NULL); /* another chain, sorted first */
    assert_int_equal(gl_store_batch_put_tx(b, &tx, &err), GL_OK);
    assert_int_equal(gl_store_batch_appearances(b), 19);
    commit_ok(b);
    assert_int_equal(gl_store_batch_appearances(b), 0);

    /* Key order: chain, block, kind (tx < log < trace), index, sub, role. */
    const want_app wa[] = {
        {TXP(1, 999999, 0), GL_STORE_ROLE_TX_FROM},
        {TXP(5, 100, 3), GL_STORE_ROLE_TX_FROM},
        {TXP(5, 100, 3), GL_STORE_ROLE_SENDER},
        {TXP(5, 100, 4), GL_STORE_ROLE_TX_FROM},
        {LOGP(5, 100, 7, 0), GL_STORE_ROLE_SENDER},
        {LOGP(5, 100, 7, 0), GL_STORE_ROLE_BUYER},
        {LOGP(5, 100, 7, 0), GL_STORE_ROLE_PAYER},
        {LOGP(5, 100, 8, 0), GL_STORE_ROLE_BUYER},
    };
    const want_app wp[] = {
        {TXP(5, 100, 3), GL_STORE_ROLE_RECIPIENT},
        {LOGP(5, 100, 7, 0), GL_STORE_ROLE_RECIPIENT},
        {LOGP(5, 100, 7, 0), GL_STORE_ROLE_PROVIDER},
        {LOGP(5, 100, 9, 2), GL_STORE_ROLE_RECIPIENT},
        {TRACEP(5, 100, 3, 1), GL_STORE_ROLE_SENDER},
        {TXP(5, 101, 0), GL_STORE_ROLE_TX_TO},
    };
    const want_app wc[] = {
        {TXP(5, 100, 3), GL_STORE_ROLE_TX_TO},
        {LOGP(5, 100, 7, 0), GL_STORE_ROLE_CONTRACT},
        {LOGP(5, 100, 7, 0), GL_STORE_ROLE_OWNER},
    };
    const want_app wt[] = {
        {LOGP(5, 100, 7, 0), GL_STORE_ROLE_TOKEN},
        {LOGP(5, 100, 9, 2), GL_STORE_ROLE_TOKEN},
    };
    expect_appearances(s, A, wa, sizeof wa / sizeof wa[0]);
    expect_appearances(s, P, wp, sizeof wp / sizeof wp[0]);
    expect_appearances(s, C, wc, sizeof wc / sizeof wc[0]);
    expect_appearances(s, T, wt, sizeof wt / sizeof wt[0]);
    expect_appearances(s, D, NULL, 0);
    expect_appearances(s, Z, NULL, 0);
    gl_store_stats st;
    assert_int_equal(gl_store_stats_get(s, &st, &err), GL_OK);
    assert_int_equal(st.records[GL_STORE_CF_APPEARANCES], 8 + 6 + 3 + 2);
    assert_int_equal(gl_store_verify(s, &err), GL_OK);

    /* The same record put again: the same keys, nothing new. */
    assert_int_equal(gl_store_batch_put_tx(b, &tx, &err), GL_OK);
    assert_int_equal(gl_store_batch_appearances(b), 1);
    commit_ok(b);
    assert_int_equal(gl_store_stats_get(s, &st, &err), GL_OK);
    assert_int_equal(st.records[GL_STORE_CF_APPEARANCES], 19);
    gl_store_batch_free(b);
    gl_store_close(s);
    gl_test_rm_rf(dir);
    free(dir);
}

/* A rollback deletes the appearances of the records it removes and no
 * other: an address seen below and at or above the fork keeps those below;
 * one seen only above has none left; another chain is untouched.  Then a
 * rollback and a new fork in one batch. */
static void test_rollback_appearances(void **state)
{
    (void)state;
    char *dir = gl_test_tmpdir("gl_store");
    gl_err err = {0};
    gl_store *s = open_new(dir);
    gl_store_batch *b = gl_store_batch_new(s, &err);
    uint8_t A[20], B[20], C[20], K[20], T[20];
    memset(A, 0xa1, 20);
    memset(B, 0xb2, 20);
    memset(C, 0xc3, 20);
    memset(K, 0x4b, 20);
    memset(T, 0x74, 20);
    gl_store_event e = bare_event(7, 2, 0, "p7");
    memcpy(e.contract, C, 20);
    e.n_roles = 1;
    e.roles[0] = (gl_store_role_addr){GL_STORE_ROLE_BUYER, {0}};
    memcpy(e.roles[0].addr, A, 20);
    assert_int_equal(gl_store_batch_put_event(b, &e, &err), GL_OK);
    gl_store_transfer t = bare_transfer(LOGP(7, 4, 3, 0), GL_STORE_ASSET_ERC20, T, A, K);
    assert_int_equal(gl_store_batch_put_transfer(b, &t, &err), GL_OK);
    gl_store_tx tx = bare_tx(7, 5, 0, A, B);
    assert_int_equal(gl_store_batch_put_tx(b, &tx, &err), GL_OK);
    t = bare_transfer(TXP(7, 5, 0), GL_STORE_ASSET_NATIVE, NULL, A, B);
    assert_int_equal(gl_store_batch_put_transfer(b, &t, &err), GL_OK);
    e = bare_event(7, 6, 1, "p7");
    memcpy(e.contract, C, 20);
    e.n_roles = 2;
    e.roles[0] = (gl_store_role_addr){GL_STORE_ROLE_PROVIDER, {0}};
    memcpy(e.roles[0].addr, A, 20);
    e.roles[1] = (gl_store_role_addr){GL_STORE_ROLE_BUYER, {0}};
    memcpy(e.roles[1].addr, B, 20);
    assert_int_equal(gl_store_batch_put_event(b, &e, &err), GL_OK);
    tx = bare_tx(8, 5, 0, A, NULL);
    assert_int_equal(gl_store_batch_put_tx(b, &tx, &err), GL_OK);
    for (uint64_t n = 1; n <= 6; n++) {
        gl_store_block blk = make_block(7, n, 0);
        assert_int_equal(gl_store_batch_put_block(b, &blk, &err), GL_OK);
    }
    assert_int_equal(gl_store_batch_appearances(b), 2 + 3 + 2 + 2 + 3 + 1);
    commit_ok(b);

    const want_app a0[] = {
        {LOGP(7, 2, 0, 0), GL_STORE_ROLE_BUYER},  {LOGP(7, 4, 3, 0), GL_STORE_ROLE_SENDER},
        {TXP(7, 5, 0), GL_STORE_ROLE_TX_FROM},    {TXP(7, 5, 0), GL_STORE_ROLE_SENDER},
        {LOGP(7, 6, 1, 0), GL_STORE_ROLE_PROVIDER}, {TXP(8, 5, 0), GL_STORE_ROLE_TX_FROM},
    };
    const want_app b0[] = {
        {TXP(7, 5, 0), GL_STORE_ROLE_TX_TO},
        {TXP(7, 5, 0), GL_STORE_ROLE_RECIPIENT},
        {LOGP(7, 6, 1, 0), GL_STORE_ROLE_BUYER},
    };
    const want_app c0[] = {
        {LOGP(7, 2, 0, 0), GL_STORE_ROLE_CONTRACT},
        {LOGP(7, 6, 1, 0), GL_STORE_ROLE_CONTRACT},
    };
    const want_app k0[] = {{LOGP(7, 4, 3, 0), GL_STORE_ROLE_RECIPIENT}};
    const want_app t0[] = {{LOGP(7, 4, 3, 0), GL_STORE_ROLE_TOKEN}};
    expect_appearances(s, A, a0, 6);
    expect_appearances(s, B, b0, 3);
    expect_appearances(s, C, c0, 2);
    expect_appearances(s, K, k0, 1);
    expect_appearances(s, T, t0, 1);

    /* Chain 7 from block 5: the tx, the native transfer and the event at 6
     * go, with their 7 appearances. */
    assert_int_equal(gl_store_rollback(s, 7, 5, &err), GL_OK);
    const want_app a1[] = {
        {LOGP(7, 2, 0, 0), GL_STORE_ROLE_BUYER},
        {LOGP(7, 4, 3, 0), GL_STORE_ROLE_SENDER},
        {TXP(8, 5, 0), GL_STORE_ROLE_TX_FROM},
    };
    expect_appearances(s, A, a1, 3);
    expect_appearances(s, B, NULL, 0);
    expect_appearances(s, C, c0, 1);
    expect_appearances(s, K, k0, 1);
    expect_appearances(s, T, t0, 1);
    gl_store_stats st;
    assert_int_equal(gl_store_stats_get(s, &st, &err), GL_OK);
    assert_int_equal(st.records[GL_STORE_CF_APPEARANCES], 6);
    assert_int_equal(gl_store_verify(s, &err), GL_OK);

    /* From block 4 with a new block 4 in the same batch: B pays A. */
    assert_int_equal(gl_store_batch_rollback(b, 7, 4, &err), GL_OK);
    tx = bare_tx(7, 4, 2, B, A);
    assert_int_equal(gl_store_batch_put_tx(b, &tx, &err), GL_OK);
    gl_store_block blk = make_block(7, 4, 1);
    assert_int_equal(gl_store_batch_put_block(b, &blk, &err), GL_OK);
    assert_int_equal(gl_store_batch_appearances(b), 2);
    commit_ok(b);
    const want_app a2[] = {
        {LOGP(7, 2, 0, 0), GL_STORE_ROLE_BUYER},
        {TXP(7, 4, 2), GL_STORE_ROLE_TX_TO},
        {TXP(8, 5, 0), GL_STORE_ROLE_TX_FROM},
    };
    const want_app b2[] = {{TXP(7, 4, 2), GL_STORE_ROLE_TX_FROM}};
    expect_appearances(s, A, a2, 3);
    expect_appearances(s, B, b2, 1);
    expect_appearances(s, C, c0, 1);
    expect_appearances(s, K, NULL, 0);
    expect_appearances(s, T, NULL, 0);
    assert_int_equal(gl_store_stats_get(s, &st, &err), GL_OK);
    assert_int_equal(st.records[GL_STORE_CF_APPEARANCES], 5);
    assert_int_equal(gl_store_verify(s, &err), GL_OK);

    /* A rollback and the same records again in one batch: the keys the
     * rollback deletes are put back after it, and survive. */
    assert_int_equal(gl_store_batch_rollback(b, 7, 4, &err), GL_OK);
    assert_int_equal(gl_store_batch_put_tx(b, &tx, &err), GL_OK);
    commit_ok(b);
    expect_appearances(s, A, a2, 3);
    expect_appearances(s, B, b2, 1);
    assert_int_equal(gl_store_verify(s, &err), GL_OK);
    gl_store_batch_free(b);
    gl_store_close(s);
    gl_test_rm_rf(dir);
    free(dir);
}

/* ----------------------------------------------------- schema 1 -> 2 */

static const char *const v2_families[] = {"meta",      "blocks",      "txs",     "txhash",
                                          "events",    "transfers",   "appearances", "cursors",
                                          "findings",  "labels"};

static rocksdb_column_family_handle_t *cf_named(const char *const *names,
                                                rocksdb_column_family_handle_t *const *h, size_t n,
                                                const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(names[i], name))
            return h[i];
    fail_msg("no column family %s", name);
    return NULL;
}

/* A store as schema 1 wrote it, made here with plain RocksDB: its families
 * (appear_pos among them when with_appear_pos), the meta records with
 * schema_version `version`, and one block of chain 1 (block 10: a tx from
 * A to C, C's event naming A as buyer, a cursor), with the appearances the
 * old indexer wrote for them in both appearances and appear_pos. */
/* stale: also the appearances schema 1's indexer wrote that schema 2 does
 * not imply (the zero address's, a role the event does not hold). */
static void make_v1_store(const char *dir, bool with_appear_pos, uint32_t version, bool stale)
{
    rocksdb_options_t *o = rocksdb_options_create();
    rocksdb_options_set_create_if_missing(o, 1);
    char *e = NULL;
    rocksdb_t *db = rocksdb_open(o, dir, &e);
    if (e)
        fail_msg("create %s: %s", dir, e);
    const char *names[12];
    size_t n = 0;
    for (size_t i = 0; i < 10; i++) {
        names[n++] = v2_families[i];
        if (i == 6 && with_appear_pos)
            names[n++] = "appear_pos";
    }
    rocksdb_column_family_handle_t *h[12];
    for (size_t i = 0; i < n; i++) {
        h[i] = rocksdb_create_column_family(db, o, names[i], &e);
        assert_null(e);
    }
#define CF(name) cf_named(names, h, n, (name))
    rocksdb_writeoptions_t *wo = rocksdb_writeoptions_create();
    rocksdb_writebatch_t *wb = rocksdb_writebatch_create();
    uint8_t ver[4] = {(uint8_t)(version >> 24), (uint8_t)(version >> 16), (uint8_t)(version >> 8),
                      (uint8_t)version};
    rocksdb_writebatch_put_cf(wb, CF("meta"), "magic", 5, "gpuledger-store", 15);
    rocksdb_writebatch_put_cf(wb, CF("meta"), "schema_version", 14, (const char *)ver, 4);
    rocksdb_writebatch_put_cf(wb, CF("meta"), "created_by", 10, "gpuledger 0.1", 13);
    rocksdb_writebatch_put_cf(wb, CF("meta"), "chain/p1", 8, "\0\0\0\0\0\0\0\x01", 8);

    uint8_t A[20], C[20], Z[20] = {0};
    memset(A, 0xa1, 20);
    memset(C, 0xc3, 20);
    gl_store_block blk = make_block(1, 10, 0);
    uint8_t k[64], v[GL_STORE_TRANSFER_VAL_LEN];
    gl_store_key_block(k, 1, 10);
    assert_int_equal(gl_store_block_encode(&blk, v, NULL), GL_OK);
    rocksdb_writebatch_put_cf(wb, CF("blocks"), (const char *)k, 16, (const char *)v, 76);
    gl_store_tx tx = bare_tx(1, 10, 0, A, C);
    gl_store_key_tx(k, 1, 10, 0);
    assert_int_equal(gl_store_tx_encode(&tx, v, NULL), GL_OK);
    rocksdb_writebatch_put_cf(wb, CF("txs"), (const char *)k, 20, (const char *)v, 109);
    uint8_t hk[40];
    memcpy(hk, k, 8);
    memcpy(hk + 8, tx.hash, 32);
    rocksdb_writebatch_put_cf(wb, CF("txhash"), (const char *)hk, 40, (const char *)k + 8, 12);
    gl_store_event ev = bare_event(1, 10, 2, "p1");
    memcpy(ev.contract, C, 20);
    ev.n_roles = 1;
    ev.roles[0].role = GL_STORE_ROLE_BUYER;
    memcpy(ev.roles[0].addr, A, 20);
    gl_buf eb = GL_BUF_INIT;
    assert_int_equal(gl_store_event_encode(&ev, &eb, NULL), GL_OK);
    gl_store_key_event(k, 1, 10, 2);
    rocksdb_writebatch_put_cf(wb, CF("events"), (const char *)k, 20, (const char *)eb.data, eb.len);
    gl_buf_release(&eb);
    gl_buf ck = GL_BUF_INIT;
    assert_int_equal(gl_store_key_cursor(&ck, 1, "p1", NULL), GL_OK);
    memset(v, 0, 8);
    v[7] = 10;
    memcpy(v + 8, blk.hash, 32);
    rocksdb_writebatch_put_cf(wb, CF("cursors"), (const char *)ck.data, ck.len, (const char *)v, 40);
    gl_buf_release(&ck);
    struct {
        const uint8_t *addr;
        gl_store_pos pos;
        gl_store_role role;
    } apps[] = {
        {A, TXP(1, 10, 0), GL_STORE_ROLE_TX_FROM},
        {C, TXP(1, 10, 0), GL_STORE_ROLE_TX_TO},
        {C, LOGP(1, 10, 2, 0), GL_STORE_ROLE_CONTRACT},
        {A, LOGP(1, 10, 2, 0), GL_STORE_ROLE_BUYER},
        {Z, LOGP(1, 10, 2, 0), GL_STORE_ROLE_SENDER},
        {A, LOGP(1, 10, 2, 0), GL_STORE_ROLE_PAYER},
    };
    for (size_t i = 0; i < (stale ? 6u : 4u); i++) {
        uint8_t ak[46], pk[46];
        app_key(ak, apps[i].addr, apps[i].pos.chain_id, apps[i].pos.block, apps[i].pos.kind,
                apps[i].pos.index, apps[i].pos.sub, apps[i].role);
        /* appear_pos: pos | role | addr, the same bytes rotated */
        memcpy(pk, ak + 20, 26);
        memcpy(pk + 26, ak, 20);
        rocksdb_writebatch_put_cf(wb, CF("appearances"), (const char *)ak, 46, "", 0);
        if (with_appear_pos)
            rocksdb_writebatch_put_cf(wb, CF("appear_pos"), (const char *)pk, 46, "", 0);
    }
#undef CF
    rocksdb_write(db, wo, wb, &e);
    assert_null(e);
    rocksdb_writebatch_destroy(wb);
    rocksdb_writeoptions_destroy(wo);
    for (size_t i = 0; i < n; i++)
        rocksdb_column_family_handle_destroy(h[i]);
    rocksdb_close(db);
    rocksdb_options_destroy(o);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The column families of dir, sorted, joined by commas. */
static void list_families(const char *dir, char *out, size_t cap)
{
    rocksdb_options_t *o = rocksdb_options_create();
    char *e = NULL;
    size_t n;
    char **names = rocksdb_list_column_families(o, dir, &n, &e);
    assert_null(e);
    qsort(names, n, sizeof *names, cmp_str);
    out[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        size_t l = strlen(out);
        snprintf(out + l, cap - l, "%s%s", i ? "," : "", names[i]);
    }
    rocksdb_list_column_families_destroy(names, n);
    rocksdb_options_destroy(o);
}

/* meta's schema_version as stored, read with plain RocksDB. */
static uint32_t raw_schema_version(const char *dir)
{
    gl_test_raw r;
    gl_test_raw_open(&r, dir, true);
    rocksdb_readoptions_t *ro = rocksdb_readoptions_create();
    char *e = NULL;
    size_t vl = 0;
    char *v = rocksdb_get_cf(r.db, ro, gl_test_raw_cf(&r, "meta"), "schema_version", 14, &vl, &e);
    assert_null(e);
    assert_non_null(v);
    assert_int_equal(vl, 4);
    const uint8_t *u = (const uint8_t *)v;
    uint32_t ver = (uint32_t)u[0] << 24 | (uint32_t)u[1] << 16 | (uint32_t)u[2] << 8 | u[3];
    free(v);
    rocksdb_readoptions_destroy(ro);
    gl_test_raw_close(&r);
    return ver;
}

/* Everything make_v1_store put reads back through the store. */
static void expect_v1_data(gl_store *s)
{
    gl_err err = {0};
    bool found;
    gl_store_block blk, want_blk = make_block(1, 10, 0);
    assert_int_equal(gl_store_get_block(s, 1, 10, &blk, &found, &err), GL_OK);
    assert_true(found);
    assert_block_eq(&want_blk, &blk);
    uint8_t A[20], C[20];
    memset(A, 0xa1, 20);
    memset(C, 0xc3, 20);
    gl_store_tx tx, want_tx = bare_tx(1, 10, 0, A, C);
    assert_int_equal(gl_store_get_tx_by_hash(s, 1, want_tx.hash, &tx, &found, &err), GL_OK);
    assert_true(found);
    assert_tx_eq(&want_tx, &tx);
    gl_store_event ev;
    assert_int_equal(gl_store_get_event(s, 1, 10, 2, &ev, &found, &err), GL_OK);
    assert_true(found);
    assert_string_equal(ev.platform, "p1");
    assert_memory_equal(ev.contract, C, 20);
    assert_int_equal(ev.n_roles, 1);
    assert_memory_equal(ev.roles[0].addr, A, 20);
    gl_store_cursor c;
    assert_int_equal(gl_store_get_cursor(s, 1, "p1", &c, &found, &err), GL_OK);
    assert_true(found);
    assert_int_equal(c.block, 10);
    assert_memory_equal(c.hash, want_blk.hash, 32);
    uint64_t chain;
    assert_int_equal(gl_store_get_binding(s, "p1", &chain, &found, &err), GL_OK);
    assert_true(found);
    assert_int_equal(chain, 1);
    char by[32];
    assert_int_equal(gl_store_get_created_by(s, by, sizeof by, &err), GL_OK);
    assert_string_equal(by, "gpuledger 0.1");
    const want_app wa[] = {{TXP(1, 10, 0), GL_STORE_ROLE_TX_FROM},
                           {LOGP(1, 10, 2, 0), GL_STORE_ROLE_BUYER}};
    const want_app wc[] = {{TXP(1, 10, 0), GL_STORE_ROLE_TX_TO},
                           {LOGP(1, 10, 2, 0), GL_STORE_ROLE_CONTRACT}};
    expect_appearances(s, A, wa, 2);
    expect_appearances(s, C, wc, 2);
    gl_store_stats st;
    assert_int_equal(gl_store_stats_get(s, &st, &err), GL_OK);
    /* meta: magic, schema_version, created_by, chain/p1 */
    const uint64_t expect[GL_STORE_CF_COUNT] = {4, 1, 1, 1, 1, 0, 4, 1, 0, 0, 0};
    for (int i = 0; i < GL_STORE_CF_COUNT; i++)
        assert_int_equal(st.records[i], expect[i]);
    assert_int_equal(gl_store_verify(s, &err), GL_OK);
}

static void test_migrate_v1(void **state)
{
    (void)state;
    char *root = gl_test_tmpdir("gl_store");
    char *v1 = gl_test_path_join(root, "v1"), *v1b = gl_test_path_join(root, "v1bulk");
    char *half = gl_test_path_join(root, "half"), *old = gl_test_path_join(root, "v0");
    make_v1_store(v1, true, 1, false);
    copy_dir(v1, v1b);
    char fams[512];
    list_families(v1, fams, sizeof fams);
    assert_string_equal(fams, "appear_pos,appearances,blocks,cursors,default,events,findings,"
                              "labels,meta,transfers,txhash,txs");
    const char *v3_list = "analysis,appearances,blocks,cursors,default,events,findings,labels,meta,"
                          "transfers,txhash,txs";

    /* Read-only: opens as it is, reads everything, changes nothing. */
    gl_buf before = GL_BUF_INIT;
    gl_test_dir_snapshot(v1, &before);
    gl_err err = {0};
    gl_store_open_opts ro = {.read_only = true};
    gl_store *s = gl_store_open(v1, &ro, &err);
    if (!s)
        fail_msg("read-only open of a schema 1 store: %s", err.msg);
    expect_v1_data(s);
    assert_null(gl_store_batch_new(s, &err));
    gl_store_close(s);
    gl_test_assert_dir_unchanged(v1, &before);
    gl_buf_release(&before);
    assert_int_equal(raw_schema_version(v1), 1);

    /* Read-write: appear_pos dropped, version 2, then 3 (the analysis
     * family created), the data intact. */
    s = gl_store_open(v1, NULL, &err);
    if (!s)
        fail_msg("read-write open of a schema 1 store: %s", err.msg);
    expect_v1_data(s);
    gl_store_close(s);
    list_families(v1, fams, sizeof fams);
    assert_string_equal(fams, v3_list);
    assert_int_equal(raw_schema_version(v1), 3);
    s = gl_store_open(v1, NULL, &err);
    assert_non_null(s);
    expect_v1_data(s);
    /* What schema 1 wrote, a schema 2 rollback finds from the records. */
    assert_int_equal(gl_store_rollback(s, 1, 10, &err), GL_OK);
    gl_store_stats st;
    assert_int_equal(gl_store_stats_get(s, &st, &err), GL_OK);
    assert_int_equal(st.records[GL_STORE_CF_APPEARANCES], 0);
    assert_int_equal(st.records[GL_STORE_CF_TXHASH], 0);
    assert_int_equal(gl_store_verify(s, &err), GL_OK);
    gl_store_close(s);

    /* A bulk writer migrates the same way. */
    gl_store_open_opts bulk = {.bulk_write = true, .create = true};
    s = gl_store_open(v1b, &bulk, &err);
    if (!s)
        fail_msg("bulk open of a schema 1 store: %s", err.msg);
    gl_store_close(s);
    list_families(v1b, fams, sizeof fams);
    assert_string_equal(fams, v3_list);
    assert_int_equal(raw_schema_version(v1b), 3);
    s = gl_store_open(v1b, &ro, &err);
    assert_non_null(s);
    expect_v1_data(s);
    gl_store_close(s);

    /* A migration killed after the drop, before the version: schema 1
     * without appear_pos, finished by the next read-write open. */
    make_v1_store(half, false, 1, false);
    s = gl_store_open(half, &ro, &err);
    assert_non_null(s);
    expect_v1_data(s);
    gl_store_close(s);
    assert_int_equal(raw_schema_version(half), 1);
    s = gl_store_open(half, NULL, &err);
    if (!s)
        fail_msg("open of a half-migrated store: %s", err.msg);
    expect_v1_data(s);
    gl_store_close(s);
    list_families(half, fams, sizeof fams);
    assert_string_equal(fams, v3_list);
    assert_int_equal(raw_schema_version(half), 3);

    /* Schema 1's stale appearances (the zero address's, a role the event
     * does not hold) are dropped: the migration rebuilds the family from
     * the records, so the store verifies and a rollback leaves nothing. */
    char *stale = gl_test_path_join(root, "stale");
    make_v1_store(stale, true, 1, true);
    s = gl_store_open(stale, &ro, &err);
    assert_non_null(s);
    assert_int_equal(gl_store_stats_get(s, &st, &err), GL_OK);
    assert_int_equal(st.records[GL_STORE_CF_APPEARANCES], 6);
    assert_int_equal(gl_store_verify(s, &err), GL_EDB); /* as schema 2 reads it */
    gl_store_close(s);
    s = gl_store_open(stale, NULL, &err);
    if (!s)
        fail_msg("migrating a store with stale appearances: %s", err.msg);
    expect_v1_data(s); /* exactly the 4 implied ones, and it verifies */
    assert_int_equal(gl_store_rollback(s, 1, 10, &err), GL_OK);
    assert_int_equal(gl_store_stats_get(s, &st, &err), GL_OK);
    assert_int_equal(st.records[GL_STORE_CF_APPEARANCES], 0);
    gl_store_close(s);
    free(stale);

    /* Schema 0 has no migration: refused untouched. */
    make_v1_store(old, true, 0, false);
    gl_buf_init(&before);
    gl_test_dir_snapshot(old, &before);
    assert_null(gl_store_open(old, NULL, &err));
    char want[700];
    snprintf(want, sizeof want,
             "store '%s' has schema version 0, older than 3, and no migration exists", old);
    assert_string_equal(err.msg, want);
    gl_test_assert_dir_unchanged(old, &before);
    gl_buf_release(&before);

    gl_test_rm_rf(root);
    free(v1);
    free(v1b);
    free(half);
    free(old);
    free(root);
}

/* Schema 2 has no appear_pos: a schema 2 store that holds one is damaged,
 * refused however it is opened, and left as it is. */
static void test_v2_with_appear_pos_damaged(void **state)
{
    (void)state;
    char *root = gl_test_tmpdir("gl_store");
    char *dir = gl_test_path_join(root, "bad"), *ok = gl_test_path_join(root, "ok");
    make_v1_store(dir, true, 2, false);
    gl_buf before = GL_BUF_INIT;
    gl_test_dir_snapshot(dir, &before);
    gl_err err = {0};
    char want[600];
    snprintf(want, sizeof want, "store '%s' is damaged: unknown column family 'appear_pos'", dir);
    gl_store_open_opts variants[] = {{0}, {.create = true}, {.read_only = true}, {.bulk_write = true}};
    for (size_t i = 0; i < sizeof variants / sizeof variants[0]; i++) {
        assert_null(gl_store_open(dir, &variants[i], &err));
        assert_int_equal(err.code, GL_EDB);
        assert_string_equal(err.msg, want);
        gl_test_assert_dir_unchanged(dir, &before);
    }
    gl_buf_release(&before);

    /* The same store without the family is a good schema 2 store. */
    make_v1_store(ok, false, 2, false);
    gl_store *s = gl_store_open(ok, NULL, &err);
    if (!s)
        fail_msg("open: %s", err.msg);
    expect_v1_data(s);
    gl_store_close(s);
    free(ok);
    gl_test_rm_rf(root);
    free(dir);
    free(root);
}


/* ------------------------------------------------- bulk appearances */

/* Build chain 1 blocks 1..n1 and chain 2 blocks 1..n2 (put_block_records,
 * BLOCK_APPEARANCES each, counted by hand) in batches of `per` blocks,
 * with opts o; close the store unless leave_open, then return it. */
static gl_store *build_bulk(const char *dir, const gl_store_open_opts *o, uint64_t n1, uint64_t n2, uint64_t per,
                            bool leave_open)
{
    gl_err err = {0};
    gl_store *s = gl_store_open(dir, o, &err);
    if (!s)
        fail_msg("open %s: %s", dir, err.msg);
    gl_store_batch *b = gl_store_batch_new(s, &err);
    assert_non_null(b);
    for (uint64_t c = 1; c <= 2; c++)
        for (uint64_t n = 1; n <= (c == 1 ? n1 : n2); n++) {
            put_block_records(b, c, n, 0);
            if (n % per == 0)
                commit_ok(b);
        }
    commit_ok(b);
    gl_store_batch_free(b);
    if (leave_open)
        return s;
    gl_store_close(s);
    return NULL;
}

static uint64_t count_family(const char *dir, gl_store_family cf)
{
    gl_err err = {0};
    gl_store_open_opts ro = {.read_only = true};
    gl_store *s = gl_store_open(dir, &ro, &err);
    if (!s)
        fail_msg("open %s: %s", dir, err.msg);
    gl_store_stats st;
    assert_int_equal(gl_store_stats_get(s, &st, &err), GL_OK);
    gl_store_close(s);
    return st.records[cf];
}

/* The raw value of meta key `key` (NULL when absent), by plain RocksDB. */
static char *raw_meta(const char *dir, const char *key, size_t *vl)
{
    gl_test_raw r;
    gl_test_raw_open(&r, dir, true);
    rocksdb_readoptions_t *ro = rocksdb_readoptions_create();
    char *e = NULL;
    char *v = rocksdb_get_cf(r.db, ro, gl_test_raw_cf(&r, "meta"), key, strlen(key), vl, &e);
    assert_null(e);
    rocksdb_readoptions_destroy(ro);
    gl_test_raw_close(&r);
    return v;
}

/* A bulk writer's appearances go through sorted table files (several, on
 * a thread, with 50 keys per file here): what is stored is byte for byte
 * what the ordinary path stores, the hand-counted number of keys, and it
 * verifies in both directions; no marker and no file is left behind. */
static void test_bulk_appearances(void **state)
{
    (void)state;
    char *root = gl_test_tmpdir("gl_store");
    char *bulk = gl_test_path_join(root, "bulk"), *plain = gl_test_path_join(root, "plain");
    gl_store_open_opts ob = {.create = true, .bulk_write = true, .ingest_keys = 50};
    gl_store_open_opts op = {.create = true};
    build_bulk(bulk, &ob, 30, 12, 4, false);
    build_bulk(plain, &op, 30, 12, 4, false);
    assert_int_equal(count_family(bulk, GL_STORE_CF_APPEARANCES), 42 * BLOCK_APPEARANCES);
    expect_verify_ok(bulk);
    gl_buf dp = GL_BUF_INIT;
    gl_test_raw_dump(plain, NULL, &dp);
    gl_test_expect_dump(bulk, NULL, &dp);
    size_t vl;
    char *m = raw_meta(bulk, "pending_appearances", &vl);
    assert_null(m);
    char *leftover = gl_test_path_join(bulk, "gpuledger-ingest.sst");
    assert_int_not_equal(access(leftover, F_OK), 0);
    /* the keys are in table files, not in a log replayed at open */
    gl_err err = {0};
    gl_store_open_opts ro = {.read_only = true};
    gl_store *s = gl_store_open(bulk, &ro, &err);
    gl_store_stats st;
    assert_int_equal(gl_store_stats_get(s, &st, &err), GL_OK);
    assert_true(st.sst_bytes[GL_STORE_CF_APPEARANCES] > 0);
    gl_store_close(s);
    /* Blocks put newest first: a hub's keys (every event's contract) then
     * arrive in reverse order, which the sort must still put right. */
    char *rev = gl_test_path_join(root, "rev");
    gl_store *r = gl_store_open(rev, &ob, &err);
    assert_non_null(r);
    gl_store_batch *b = gl_store_batch_new(r, &err);
    for (uint64_t c = 1; c <= 2; c++)
        for (uint64_t n = (c == 1 ? 30 : 12); n >= 1; n--)
            put_block_records(b, c, n, 0);
    commit_ok(b);
    gl_store_batch_free(b);
    gl_store_close(r);
    gl_test_expect_dump(rev, NULL, &dp);
    free(rev);
    gl_buf_release(&dp);
    free(leftover);
    gl_test_rm_rf(root);
    free(bulk);
    free(plain);
    free(root);
}

/* A writer that dies after committing records whose appearances were
 * gathered but not yet written (here: never closed, the process gone; and
 * once with a file being written on the ingest thread): the marker names
 * the blocks, a read-only open says the store is incomplete, and a
 * read-write open derives them, after which the store equals one written
 * without dying. */
static void test_bulk_killed(void **state)
{
    (void)state;
    char *root = gl_test_tmpdir("gl_store");
    char *plain = gl_test_path_join(root, "plain");
    gl_store_open_opts op = {.create = true};
    build_bulk(plain, &op, 10, 3, 5, false);
    gl_buf dp = GL_BUF_INIT;
    gl_test_raw_dump(plain, NULL, &dp);
    size_t keys[] = {1000, 20}; /* 1000: batches of 80 keys gather, none written */
    for (size_t k = 0; k < 2; k++) {
        char name[32];
        snprintf(name, sizeof name, "killed-%zu", k);
        char *dir = gl_test_path_join(root, name);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            gl_store_open_opts ob = {.create = true, .bulk_write = true, .ingest_keys = keys[k]};
            build_bulk(dir, &ob, 10, 3, 5, true);
            _exit(0); /* no close: what kill -9 leaves */
        }
        int status;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        size_t vl = 0;
        char *m = raw_meta(dir, "pending_appearances", &vl);
        if (k == 0) {
            /* nothing written: the marker spans chain 1 blocks 1..10 and
             * chain 2 blocks 1..3, in the order the chains were gathered */
            assert_non_null(m);
            assert_int_equal(vl, 48);
            expect_hex((const uint8_t *)m, vl,
                       "0000000000000001" "0000000000000001" "000000000000000a"
                       "0000000000000002" "0000000000000001" "0000000000000003");
            assert_int_equal(count_family(dir, GL_STORE_CF_APPEARANCES), 0);
            gl_err err = {0};
            gl_store_open_opts ro = {.read_only = true};
            gl_store *s = gl_store_open(dir, &ro, &err);
            assert_non_null(s);
            assert_int_equal(gl_store_verify(s, &err), GL_EDB);
            assert_non_null(strstr(err.msg, "is incomplete: the appearances of chain 1 blocks 1..10 and more"));
            gl_store_span sp[4];
            size_t nsp = 9;
            assert_int_equal(gl_store_pending_appearances(s, sp, 4, &nsp, &err), GL_OK);
            assert_int_equal(nsp, 2);
            assert_true(sp[0].chain_id == 1 && sp[0].first == 1 && sp[0].last == 10);
            assert_true(sp[1].chain_id == 2 && sp[1].first == 1 && sp[1].last == 3);
            assert_int_equal(gl_store_pending_appearances(s, sp, 1, &nsp, &err), GL_OK);
            assert_int_equal(nsp, 1);
            gl_store_close(s);
            /* a file the kill left half-written is removed by the open */
            char *f = gl_test_path_join(dir, "gpuledger-ingest.sst");
            write_file(f, "half a table", 12);
            expect_verify_ok(dir); /* a read-write open: derives them */
            assert_int_not_equal(access(f, F_OK), 0);
            free(f);
        } else {
            expect_verify_ok(dir);
        }
        free(m);
        m = raw_meta(dir, "pending_appearances", &vl);
        assert_null(m);
        {
            gl_err err = {0};
            gl_store_open_opts ro = {.read_only = true};
            gl_store *s = gl_store_open(dir, &ro, &err);
            gl_store_span sp[4];
            size_t nsp = 9;
            assert_int_equal(gl_store_pending_appearances(s, sp, 4, &nsp, &err), GL_OK);
            assert_int_equal(nsp, 0);
            gl_store_close(s);
        }
        assert_int_equal(count_family(dir, GL_STORE_CF_APPEARANCES), 13 * BLOCK_APPEARANCES);
        gl_test_expect_dump(dir, NULL, &dp);
        free(dir);
    }
    gl_buf_release(&dp);
    gl_test_rm_rf(root);
    free(plain);
    free(root);
}

/* A rollback after gathered puts: the gathered keys are written first, so
 * the rollback's deletes are not overtaken by them; what is put again
 * after the rollback is there. */
static void test_bulk_rollback(void **state)
{
    (void)state;
    char *root = gl_test_tmpdir("gl_store");
    char *dir = gl_test_path_join(root, "bulk");
    gl_store_open_opts ob = {.create = true, .bulk_write = true, .ingest_keys = 10000};
    gl_store *s = build_bulk(dir, &ob, 10, 2, 100, true); /* one batch of 192 keys, gathered */
    gl_err err = {0};
    assert_int_equal(gl_store_rollback(s, 1, 6, &err), GL_OK);
    gl_store_batch *b = gl_store_batch_new(s, &err);
    for (uint64_t n = 6; n <= 7; n++)
        put_block_records(b, 1, n, 1);
    commit_ok(b);
    gl_store_batch_free(b);
    gl_store_close(s);
    /* chain 1 blocks 1..7, chain 2 blocks 1..2 */
    assert_int_equal(count_family(dir, GL_STORE_CF_APPEARANCES), 9 * BLOCK_APPEARANCES);
    expect_verify_ok(dir);
    gl_test_rm_rf(root);
    free(dir);
    free(root);
}

/* Gathered keys are not visible until written; a small batch (fewer than
 * ingest_keys / 64 keys: a follower at the head) writes them, and its own
 * keys as an ordinary batch; gl_store_write_gathered writes the rest. */
static void test_bulk_small_batch(void **state)
{
    (void)state;
    char *root = gl_test_tmpdir("gl_store");
    char *dir = gl_test_path_join(root, "bulk");
    gl_store_open_opts ob = {.create = true, .bulk_write = true, .ingest_keys = 10000};
    gl_store *s = build_bulk(dir, &ob, 12, 0, 100, true); /* 192 keys: gathered */
    gl_err err = {0};
    gl_store_stats st;
    assert_int_equal(gl_store_stats_get(s, &st, &err), GL_OK);
    assert_int_equal(st.records[GL_STORE_CF_EVENTS], 12 * 2);
    assert_int_equal(st.records[GL_STORE_CF_APPEARANCES], 0);
    gl_store_batch *b = gl_store_batch_new(s, &err);
    put_block_records(b, 1, 13, 0); /* 16 keys */
    commit_ok(b);
    assert_int_equal(gl_store_stats_get(s, &st, &err), GL_OK);
    assert_int_equal(st.records[GL_STORE_CF_APPEARANCES], 13 * BLOCK_APPEARANCES);
    for (uint64_t n = 14; n <= 25; n++)
        put_block_records(b, 1, n, 0);
    commit_ok(b); /* 192 keys: gathered again */
    assert_int_equal(gl_store_stats_get(s, &st, &err), GL_OK);
    assert_int_equal(st.records[GL_STORE_CF_APPEARANCES], 13 * BLOCK_APPEARANCES);
    assert_int_equal(gl_store_write_gathered(s, &err), GL_OK);
    assert_int_equal(gl_store_stats_get(s, &st, &err), GL_OK);
    assert_int_equal(st.records[GL_STORE_CF_APPEARANCES], 25 * BLOCK_APPEARANCES);
    assert_int_equal(gl_store_verify(s, &err), GL_OK);
    gl_store_batch_free(b);
    gl_store_close(s);
    size_t vl;
    assert_null(raw_meta(dir, "pending_appearances", &vl));
    gl_test_rm_rf(root);
    free(dir);
    free(root);
}

/* Two addresses that share their first two bytes, interleaved at every
 * position and each with its roles out of order there (an event's buyer
 * and provider, then its transfer's sender and recipient): the sort of a
 * bulk writer's keys must still give what the ordinary path stores. */
static void put_twins(gl_store *s, uint64_t n)
{
    gl_err err = {0};
    uint8_t A[20], B[20], C[20];
    memset(A, 0, 20);
    memset(B, 0xff, 20);
    memset(C, 0x3c, 20);
    A[0] = B[0] = 0x77;
    A[1] = B[1] = 0x77;
    gl_store_batch *b = gl_store_batch_new(s, &err);
    assert_non_null(b);
    for (uint64_t blk = 1; blk <= n; blk++) {
        gl_store_event e = bare_event(1, blk, 0, "p");
        memcpy(e.contract, C, 20);
        e.n_roles = 2;
        e.roles[0].role = GL_STORE_ROLE_BUYER;
        memcpy(e.roles[0].addr, A, 20);
        e.roles[1].role = GL_STORE_ROLE_PROVIDER;
        memcpy(e.roles[1].addr, B, 20);
        assert_int_equal(gl_store_batch_put_event(b, &e, &err), GL_OK);
        gl_store_transfer t = bare_transfer(LOGP(1, blk, 0, 0), GL_STORE_ASSET_ERC20, C, B, A);
        assert_int_equal(gl_store_batch_put_transfer(b, &t, &err), GL_OK);
    }
    commit_ok(b);
    gl_store_batch_free(b);
}

/* Put the same records (put(s, n)) through a bulk writer with ingest_keys
 * and through an ordinary one: the bulk writer must store `keys`
 * appearances and the two stores be equal byte for byte. */
static void expect_bulk_as_plain(void (*put)(gl_store *, uint64_t), uint64_t n, size_t ingest_keys, uint64_t keys)
{
    char *root = gl_test_tmpdir("gl_store");
    char *bulk = gl_test_path_join(root, "bulk"), *plain = gl_test_path_join(root, "plain");
    gl_store_open_opts ob = {.create = true, .bulk_write = true, .ingest_keys = ingest_keys};
    gl_store_open_opts op = {.create = true};
    gl_err err = {0};
    gl_store *s = gl_store_open(bulk, &ob, &err);
    assert_non_null(s);
    put(s, n);
    gl_store_close(s);
    s = gl_store_open(plain, &op, &err);
    assert_non_null(s);
    put(s, n);
    gl_store_close(s);
    assert_int_equal(count_family(bulk, GL_STORE_CF_APPEARANCES), keys);
    expect_same_stores(bulk, plain);
    expect_verify_ok(bulk);
    gl_test_rm_rf(root);
    free(bulk);
    free(plain);
    free(root);
}

static void test_bulk_sort_twins(void **state)
{
    (void)state;
    /* per position: A buyer + recipient, B provider + sender, C contract +
     * token */
    expect_bulk_as_plain(put_twins, 300, 50, 300 * 6);
}

/* A crowd of 150 addresses that share their first 16 bytes (low, vanity
 * or test addresses do), in one bucket of the sort and far more than a
 * linear scan of the bucket's addresses would hold, each appearing at
 * positions spread over the whole file in a scrambled order of roles: the
 * bulk writer's sort must still give what the ordinary path stores. */
static void put_crowd(gl_store *s, uint64_t n)
{
    gl_err err = {0};
    uint8_t C[20];
    memset(C, 0x3c, 20);
    gl_store_batch *b = gl_store_batch_new(s, &err);
    assert_non_null(b);
    for (uint64_t blk = 1; blk <= n; blk++) {
        uint8_t X[20] = {0}, Y[20] = {0};
        X[18] = Y[18] = 0x01;
        X[19] = (uint8_t)(blk * 37 % 150);
        Y[19] = (uint8_t)(blk * 101 % 149);
        X[17] = (uint8_t)(blk % 2);
        gl_store_event e = bare_event(1, blk, 0, "p");
        memcpy(e.contract, C, 20);
        e.n_roles = 2;
        e.roles[0].role = GL_STORE_ROLE_PROVIDER;
        memcpy(e.roles[0].addr, Y, 20);
        e.roles[1].role = GL_STORE_ROLE_BUYER;
        memcpy(e.roles[1].addr, X, 20);
        assert_int_equal(gl_store_batch_put_event(b, &e, &err), GL_OK);
        gl_store_transfer t = bare_transfer(LOGP(1, blk, 0, 0), GL_STORE_ASSET_ERC20, C, Y, X);
        assert_int_equal(gl_store_batch_put_transfer(b, &t, &err), GL_OK);
    }
    commit_ok(b);
    gl_store_batch_free(b);
}

static void test_bulk_sort_crowd(void **state)
{
    (void)state;
    expect_bulk_as_plain(put_crowd, 3000, 100000, 3000 * 6);
}

/* A table file that cannot be written (here: a directory in its place):
 * the commit that meets the failure says so, the keys stay gathered and
 * marked, and once the way is clear they are written; nothing is lost. */
static void test_bulk_ingest_fails(void **state)
{
    (void)state;
    char *root = gl_test_tmpdir("gl_store");
    char *dir = gl_test_path_join(root, "bulk");
    gl_store_open_opts ob = {.create = true, .bulk_write = true, .ingest_keys = 50};
    gl_err err = {0};
    gl_store *s = gl_store_open(dir, &ob, &err);
    assert_non_null(s);
    char *blocker = gl_test_path_join(dir, "gpuledger-ingest.sst");
    assert_int_equal(mkdir(blocker, 0755), 0);
    gl_store_batch *b = gl_store_batch_new(s, &err);
    for (uint64_t n = 1; n <= 4; n++)
        put_block_records(b, 1, n, 0);
    commit_ok(b); /* 64 keys: a file started on the thread, which fails */
    for (uint64_t n = 5; n <= 8; n++)
        put_block_records(b, 1, n, 0);
    assert_int_equal(gl_store_batch_commit(b, &err), GL_EDB); /* committed; the earlier file's failure */
    assert_non_null(strstr(err.msg, "writing the appearances' table file"));
    gl_store_stats st;
    assert_int_equal(gl_store_stats_get(s, &st, &err), GL_OK);
    assert_int_equal(st.records[GL_STORE_CF_EVENTS], 8 * 2);
    assert_int_equal(st.records[GL_STORE_CF_APPEARANCES], 0);
    gl_store_span sp[2];
    size_t nsp;
    assert_int_equal(gl_store_pending_appearances(s, sp, 2, &nsp, &err), GL_OK);
    assert_int_equal(nsp, 1);
    assert_true(sp[0].chain_id == 1 && sp[0].first == 1 && sp[0].last == 8);
    assert_int_equal(gl_store_write_gathered(s, &err), GL_EDB); /* still blocked */
    assert_int_equal(rmdir(blocker), 0);
    assert_int_equal(gl_store_write_gathered(s, &err), GL_OK);
    assert_int_equal(gl_store_stats_get(s, &st, &err), GL_OK);
    assert_int_equal(st.records[GL_STORE_CF_APPEARANCES], 8 * BLOCK_APPEARANCES);
    assert_int_equal(gl_store_pending_appearances(s, sp, 2, &nsp, &err), GL_OK);
    assert_int_equal(nsp, 0);
    assert_int_equal(gl_store_verify(s, &err), GL_OK);
    gl_store_batch_free(b);
    gl_store_close(s);
    free(blocker);
    gl_test_rm_rf(root);
    free(dir);
    free(root);
}

/* A marker of the wrong size is damage: opens refuse it, naming it, and
 * change nothing. */
static void test_bulk_bad_marker(void **state)
{
    (void)state;
    char *root = gl_test_tmpdir("gl_store");
    char *dir = gl_test_path_join(root, "s");
    build_two_chains(dir, 2, 2);
    gl_test_raw r;
    gl_test_raw_open(&r, dir, false);
    rocksdb_writeoptions_t *wo = rocksdb_writeoptions_create();
    char *e = NULL;
    rocksdb_put_cf(r.db, wo, gl_test_raw_cf(&r, "meta"), "pending_appearances", 19, "12345", 5, &e);
    assert_null(e);
    rocksdb_writeoptions_destroy(wo);
    gl_test_raw_close(&r);
    gl_buf before = GL_BUF_INIT;
    gl_test_dir_snapshot(dir, &before);
    gl_err err = {0};
    assert_null(gl_store_open(dir, NULL, &err));
    char want[600];
    snprintf(want, sizeof want, "store '%s' is damaged: meta 'pending_appearances' has 5 bytes", dir);
    assert_string_equal(err.msg, want);
    gl_test_assert_dir_unchanged(dir, &before);
    gl_store_open_opts ro = {.read_only = true};
    assert_null(gl_store_open(dir, &ro, &err));
    assert_string_equal(err.msg, want);
    gl_test_assert_dir_unchanged(dir, &before);
    gl_buf_release(&before);
    gl_test_rm_rf(root);
    free(dir);
    free(root);
}

/* gl_store_write_gathered_begin: with nothing gathered (a small batch
 * writes its keys itself) it starts nothing; with keys gathered they go
 * to a file on the thread, which the next begin waits for (so they are in
 * by then) before handing over what was gathered since;
 * gl_store_write_gathered writes the rest, and the store equals one
 * written the ordinary way, marker gone. */
static void test_bulk_write_begin(void **state)
{
    (void)state;
    char *root = gl_test_tmpdir("gl_store");
    char *dir = gl_test_path_join(root, "bulk"), *plain = gl_test_path_join(root, "plain");
    gl_store_open_opts op = {.create = true};
    build_bulk(plain, &op, 40, 0, 10, false);
    gl_store_open_opts ob = {.create = true, .bulk_write = true, .ingest_keys = 64 * 100};
    gl_err err = {0};
    gl_store *s = gl_store_open(dir, &ob, &err);
    assert_non_null(s);
    gl_store_batch *b = gl_store_batch_new(s, &err);
    gl_store_stats st;
    for (uint64_t n = 1; n <= 40; n++) {
        put_block_records(b, 1, n, 0);
        if (n == 5 || n == 15 || n == 30)
            commit_ok(b);
        if (n == 5) { /* 80 keys, fewer than 100: written by the batch */
            assert_int_equal(gl_store_write_gathered_begin(s, &err), GL_OK);
            assert_int_equal(gl_store_stats_get(s, &st, &err), GL_OK);
            assert_int_equal(st.records[GL_STORE_CF_APPEARANCES], 5 * BLOCK_APPEARANCES);
        }
        if (n == 15) { /* 160 keys gathered: a file starts */
            assert_int_equal(gl_store_stats_get(s, &st, &err), GL_OK);
            assert_int_equal(st.records[GL_STORE_CF_APPEARANCES], 5 * BLOCK_APPEARANCES);
            assert_int_equal(gl_store_write_gathered_begin(s, &err), GL_OK);
        }
        if (n == 30) { /* waits for that file, starts one of 240 keys */
            assert_int_equal(gl_store_write_gathered_begin(s, &err), GL_OK);
            assert_int_equal(gl_store_stats_get(s, &st, &err), GL_OK);
            assert_true(st.records[GL_STORE_CF_APPEARANCES] >= 15 * BLOCK_APPEARANCES);
            assert_true(st.records[GL_STORE_CF_APPEARANCES] <= 30 * BLOCK_APPEARANCES);
        }
    }
    commit_ok(b);
    gl_store_batch_free(b);
    assert_int_equal(gl_store_write_gathered(s, &err), GL_OK);
    assert_int_equal(gl_store_stats_get(s, &st, &err), GL_OK);
    assert_int_equal(st.records[GL_STORE_CF_APPEARANCES], 40 * BLOCK_APPEARANCES);
    gl_store_close(s);
    size_t vl;
    assert_null(raw_meta(dir, "pending_appearances", &vl));
    expect_same_stores(dir, plain);
    gl_test_rm_rf(root);
    free(dir);
    free(plain);
    free(root);
}

/* ------------------------------------------------- bulk records */

/* Copy the events and transfers of chain/lo..hi from store `from` into
 * store `to` with plain RocksDB: what a kill between a batch's table files
 * of records and the batch itself leaves behind. */
static void raw_copy_records(const char *from, const char *to, uint64_t chain, uint64_t lo, uint64_t hi)
{
    gl_test_raw a, b;
    gl_test_raw_open(&a, from, true);
    gl_test_raw_open(&b, to, false);
    rocksdb_readoptions_t *ro = rocksdb_readoptions_create();
    rocksdb_writeoptions_t *wo = rocksdb_writeoptions_create();
    static const char *const fams[] = {"events", "transfers"};
    for (size_t f = 0; f < 2; f++) {
        rocksdb_iterator_t *it = rocksdb_create_iterator_cf(a.db, ro, gl_test_raw_cf(&a, fams[f]));
        for (rocksdb_iter_seek_to_first(it); rocksdb_iter_valid(it); rocksdb_iter_next(it)) {
            size_t kl, vl;
            const char *k = rocksdb_iter_key(it, &kl);
            const char *v = rocksdb_iter_value(it, &vl);
            uint64_t c = gl_store_be64_get((const uint8_t *)k), n = gl_store_be64_get((const uint8_t *)k + 8);
            if (c != chain || n < lo || n > hi)
                continue;
            char *e = NULL;
            rocksdb_put_cf(b.db, wo, gl_test_raw_cf(&b, fams[f]), k, kl, v, vl, &e);
            assert_null(e);
        }
        rocksdb_iter_destroy(it);
    }
    rocksdb_readoptions_destroy(ro);
    rocksdb_writeoptions_destroy(wo);
    gl_test_raw_close(&a);
    gl_test_raw_close(&b);
}

static void set_cursor_ok(const char *dir, uint64_t chain, const char *name, uint64_t block, const uint8_t hash[32])
{
    gl_err err = {0};
    gl_store *s = gl_store_open(dir, NULL, &err);
    if (!s)
        fail_msg("open %s: %s", dir, err.msg);
    gl_store_batch *b = gl_store_batch_new(s, &err);
    assert_int_equal(gl_store_batch_set_cursor(b, chain, name, block, hash, &err), GL_OK);
    commit_ok(b);
    gl_store_batch_free(b);
    gl_store_close(s);
}

/* A bulk writer's events and transfers go in as table files when a
 * batch holds ingest_keys / 256 of them or more (here every batch: 10
 * records a family against a bound of 1), and through the batch when it
 * holds fewer (a bound of 15): the store equals one written the ordinary
 * way byte for byte either way, the records stand in table files right
 * after the writes, and no marker or file is left.  A batch that rolls
 * back writes its records after its range deletes, not before. */
static void test_bulk_records(void **state)
{
    (void)state;
    char *root = gl_test_tmpdir("gl_store");
    char *plain = gl_test_path_join(root, "plain");
    gl_store_open_opts op = {.create = true};
    build_bulk(plain, &op, 30, 12, 5, false);
    gl_buf dp = GL_BUF_INIT;
    gl_test_raw_dump(plain, NULL, &dp);
    size_t keys[] = {256, 256 * 15};
    for (size_t k = 0; k < 2; k++) {
        char name[32];
        snprintf(name, sizeof name, "bulk-%zu", k);
        char *dir = gl_test_path_join(root, name);
        gl_store_open_opts ob = {.create = true, .bulk_write = true, .ingest_keys = keys[k]};
        gl_store *s = build_bulk(dir, &ob, 30, 12, 5, true);
        gl_err err = {0};
        gl_store_stats st;
        assert_int_equal(gl_store_stats_get(s, &st, &err), GL_OK);
        if (k == 0) {
            assert_true(st.sst_bytes[GL_STORE_CF_EVENTS] > 0);
            assert_true(st.sst_bytes[GL_STORE_CF_TRANSFERS] > 0);
        } else {
            assert_int_equal(st.sst_bytes[GL_STORE_CF_EVENTS], 0);
        }
        gl_store_close(s);
        gl_test_expect_dump(dir, NULL, &dp);
        size_t vl;
        assert_null(raw_meta(dir, "records_ahead", &vl));
        char *f = gl_test_path_join(dir, "gpuledger-records-events.sst");
        assert_int_not_equal(access(f, F_OK), 0);
        free(f);
        expect_verify_ok(dir);
        free(dir);
    }
    /* rollback and puts in one batch of a bulk writer */
    char *rb = gl_test_path_join(root, "rollback");
    gl_store_open_opts ob = {.create = true, .bulk_write = true, .ingest_keys = 256};
    gl_store *s = build_bulk(rb, &ob, 10, 2, 100, true);
    gl_err err = {0};
    gl_store_batch *b = gl_store_batch_new(s, &err);
    assert_int_equal(gl_store_batch_rollback(b, 1, 6, &err), GL_OK);
    for (uint64_t n = 6; n <= 8; n++)
        put_block_records(b, 1, n, 1);
    commit_ok(b);
    gl_store_batch_free(b);
    gl_store_close(s);
    assert_int_equal(count_family(rb, GL_STORE_CF_EVENTS), (8 + 2) * 2);
    assert_int_equal(count_family(rb, GL_STORE_CF_TRANSFERS), (8 + 2) * 2);
    expect_verify_ok(rb);
    free(rb);
    gl_buf_release(&dp);
    gl_test_rm_rf(root);
    free(plain);
    free(root);
}

/* Killed between a batch's table files of records and the batch: records
 * of chain 1 blocks 11..12 stand past every cursor, under the marker.  A
 * read-only open says the store is incomplete and names the span; a
 * read-write open rolls chain 1 back to block 11 (the records go, as do
 * their appearances; a cursor of another platform at block 12 comes back
 * to block 10 with its hash), chain 2 untouched: the store then equals
 * one that never saw blocks 11..12, byte for byte. */
static void test_bulk_records_killed(void **state)
{
    (void)state;
    char *root = gl_test_tmpdir("gl_store");
    char *full = gl_test_path_join(root, "full"), *killed = gl_test_path_join(root, "killed"), *want = gl_test_path_join(root, "want");
    gl_store_open_opts op = {.create = true};
    build_bulk(full, &op, 12, 3, 4, false);
    build_bulk(killed, &op, 10, 3, 5, false);
    build_bulk(want, &op, 10, 3, 5, false);
    gl_store_block b10 = make_block(1, 10, 0);
    uint8_t h12[32];
    memset(h12, 0x12, 32);
    set_cursor_ok(want, 1, "p1", 10, b10.hash);
    set_cursor_ok(want, 1, "other", 10, b10.hash);
    set_cursor_ok(killed, 1, "p1", 10, b10.hash);
    set_cursor_ok(killed, 1, "other", 12, h12);
    raw_copy_records(full, killed, 1, 11, 12);
    gl_test_raw r;
    gl_test_raw_open(&r, killed, false);
    rocksdb_writeoptions_t *wo = rocksdb_writeoptions_create();
    char *e = NULL;
    static const uint8_t mark[24] = {0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 11, 0, 0, 0, 0, 0, 0, 0, 12};
    rocksdb_put_cf(r.db, wo, gl_test_raw_cf(&r, "meta"), "records_ahead", 13, (const char *)mark, sizeof mark, &e);
    assert_null(e);
    rocksdb_writeoptions_destroy(wo);
    gl_test_raw_close(&r);
    assert_int_equal(count_family(killed, GL_STORE_CF_EVENTS), (10 + 3) * 2 + 2 * 2);

    gl_err err = {0};
    gl_store_open_opts ro = {.read_only = true};
    gl_store *s = gl_store_open(killed, &ro, &err);
    assert_non_null(s);
    assert_int_equal(gl_store_verify(s, &err), GL_EDB);
    assert_non_null(strstr(err.msg, "is incomplete: records of chain 1 blocks 11..12 were written without the batch "
                                    "that commits them (an interrupted bulk write); opening it read-write rolls "
                                    "the chain back to block 11"));
    gl_store_span sp[2];
    size_t nsp = 9;
    assert_int_equal(gl_store_records_ahead(s, sp, 2, &nsp, &err), GL_OK);
    assert_int_equal(nsp, 1);
    assert_true(sp[0].chain_id == 1 && sp[0].first == 11 && sp[0].last == 12);
    gl_store_close(s);
    /* a records file the kill left half-written goes too */
    char *f = gl_test_path_join(killed, "gpuledger-records-transfers.sst");
    write_file(f, "half a table", 12);
    expect_verify_ok(killed); /* read-write: rolls back */
    assert_int_not_equal(access(f, F_OK), 0);
    free(f);
    size_t vl;
    assert_null(raw_meta(killed, "records_ahead", &vl));
    expect_same_stores(killed, want);
    /* a marker of a wrong size refuses the open, as the other marker does */
    gl_test_raw_open(&r, killed, false);
    wo = rocksdb_writeoptions_create();
    rocksdb_put_cf(r.db, wo, gl_test_raw_cf(&r, "meta"), "records_ahead", 13, "12345", 5, &e);
    assert_null(e);
    rocksdb_writeoptions_destroy(wo);
    gl_test_raw_close(&r);
    assert_null(gl_store_open(killed, NULL, &err));
    assert_non_null(strstr(err.msg, "is damaged: meta 'records_ahead' has 5 bytes"));
    gl_test_rm_rf(root);
    free(full);
    free(killed);
    free(want);
    free(root);
}

/* ------------------------------------------------------------- analysis */

/* Every analysis record of s with the given prefix, as "key=value;" text
 * (keys and values here are printable but for 0xff, written as "~"). */
static void analysis_text(gl_store *s, const void *prefix, size_t plen, char *out, size_t cap)
{
    gl_err err = {0};
    gl_store_iter *it = gl_store_iter_analysis(s, prefix, plen, &err);
    if (!it)
        fail_msg("iter_analysis: %s", err.msg);
    out[0] = '\0';
    size_t n = 0;
    for (;;) {
        const uint8_t *k, *v;
        size_t kl, vl;
        bool end;
        assert_int_equal(gl_store_next_analysis(it, &k, &kl, &v, &vl, &end, &err), GL_OK);
        if (end)
            break;
        for (size_t i = 0; i < kl + 1 + vl + 1; i++) {
            uint8_t c = i < kl ? k[i] : i == kl ? '=' : i < kl + 1 + vl ? v[i - kl - 1] : ';';
            assert_true(n + 1 < cap);
            out[n++] = c == 0xff ? '~' : (char)c;
        }
        out[n] = '\0';
    }
    /* an exhausted iterator stays at its end */
    const uint8_t *k, *v;
    size_t kl, vl;
    bool end = false;
    assert_int_equal(gl_store_next_analysis(it, &k, &kl, &v, &vl, &end, &err), GL_OK);
    assert_true(end);
    gl_store_iter_free(it);
}

static void put_analysis_ok(gl_store_batch *b, const char *k, size_t kl, const char *v)
{
    gl_err err = {0};
    if (gl_store_batch_put_analysis(b, k, kl, v, strlen(v), &err) != GL_OK)
        fail_msg("put_analysis: %s", err.msg);
}

static void test_analysis_records(void **state)
{
    (void)state;
    char *root = gl_test_tmpdir("gl_store");
    char *dir = gl_test_path_join(root, "db");
    gl_store *s = open_new(dir);
    assert_true(gl_store_has_analysis_family(s));
    assert_int_equal(gl_store_schema_version(s), 3);
    gl_err err = {0};
    gl_store_batch *b = gl_store_batch_new(s, &err);
    assert_non_null(b);
    /* "e0" sorts right after every "e/..." key ('0' = '/' + 1), and "g"
     * right after "f\xff...": the bounds of the prefixes "e/" and "f\xff". */
    put_analysis_ok(b, "s", 1, "stamp1");
    put_analysis_ok(b, "e/2", 3, "bb");
    put_analysis_ok(b, "e/1", 3, "a");
    put_analysis_ok(b, "e0", 2, "x");
    put_analysis_ok(b, "f\xff\x01", 3, "y");
    put_analysis_ok(b, "g", 1, "z");
    put_analysis_ok(b, "m/x", 3, "");
    put_analysis_ok(b, "e/1", 3, "a2"); /* a later put of the same key wins */
    assert_int_equal(gl_store_batch_count(b), 8);
    /* bad keys are refused and leave the batch as it was */
    char big[GL_STORE_ANALYSIS_KEY_MAX + 1];
    memset(big, 'k', sizeof big);
    assert_int_equal(gl_store_batch_put_analysis(b, "k", 0, "v", 1, &err), GL_EINVAL);
    assert_int_equal(gl_store_batch_put_analysis(b, big, sizeof big, "v", 1, &err), GL_EINVAL);
    assert_int_equal(gl_store_batch_put_analysis(b, NULL, 1, "v", 1, &err), GL_EINVAL);
    assert_int_equal(gl_store_batch_put_analysis(b, "k", 1, NULL, 1, &err), GL_EINVAL);
    assert_int_equal(gl_store_batch_count(b), 8);
    put_analysis_ok(b, big, GL_STORE_ANALYSIS_KEY_MAX, "longest"); /* 255 bytes: the largest key */
    commit_ok(b);

    char text[2048];
    analysis_text(s, NULL, 0, text, sizeof text);
    char want[2048];
    snprintf(want, sizeof want, "e/1=a2;e/2=bb;e0=x;f~\x01=y;g=z;%.255s=longest;m/x=;s=stamp1;", big);
    assert_string_equal(text, want);
    analysis_text(s, "e/", 2, text, sizeof text);
    assert_string_equal(text, "e/1=a2;e/2=bb;");
    analysis_text(s, "f\xff", 2, text, sizeof text);
    assert_string_equal(text, "f~\x01=y;");
    analysis_text(s, "e/2", 3, text, sizeof text);
    assert_string_equal(text, "e/2=bb;");
    analysis_text(s, "\xff", 1, text, sizeof text); /* no bound: nothing at or past 0xff */
    assert_string_equal(text, "");
    analysis_text(s, "q", 1, text, sizeof text);
    assert_string_equal(text, "");
    assert_null(gl_store_iter_analysis(s, big, sizeof big, &err));
    assert_int_equal(err.code, GL_EINVAL);
    /* another record type from this iterator is refused */
    gl_store_iter *it = gl_store_iter_analysis(s, NULL, 0, &err);
    gl_store_cursor c;
    bool end;
    assert_int_equal(gl_store_next_cursor(it, &c, &end, &err), GL_EINVAL);
    gl_store_iter_free(it);

    char *v = NULL;
    size_t vl = 99;
    assert_int_equal(gl_store_get_analysis(s, "e/2", 3, &v, &vl, &err), GL_OK);
    assert_non_null(v);
    assert_int_equal(vl, 2);
    assert_memory_equal(v, "bb", 2);
    free(v);
    assert_int_equal(gl_store_get_analysis(s, "m/x", 3, &v, &vl, &err), GL_OK);
    assert_non_null(v); /* present, empty */
    assert_int_equal(vl, 0);
    free(v);
    assert_int_equal(gl_store_get_analysis(s, "e/3", 3, &v, &vl, &err), GL_OK);
    assert_null(v);
    assert_int_equal(vl, 0);
    assert_int_equal(gl_store_get_analysis(s, "", 0, &v, &vl, &err), GL_EINVAL);

    gl_store_stats st;
    assert_int_equal(gl_store_stats_get(s, &st, &err), GL_OK);
    assert_int_equal(st.records[GL_STORE_CF_ANALYSIS], 8);
    assert_int_equal(gl_store_verify(s, &err), GL_OK);

    /* A clear deletes what is stored and what the batch put before it;
     * puts after it survive. */
    put_analysis_ok(b, "before", 6, "gone");
    assert_int_equal(gl_store_batch_clear_analysis(b, &err), GL_OK);
    put_analysis_ok(b, "e/3", 3, "new");
    put_analysis_ok(b, "s", 1, "stamp2");
    commit_ok(b);
    analysis_text(s, NULL, 0, text, sizeof text);
    assert_string_equal(text, "e/3=new;s=stamp2;");
    assert_int_equal(gl_store_get_analysis(s, "e/1", 3, &v, &vl, &err), GL_OK);
    assert_null(v);
    /* A clear alone empties the family. */
    assert_int_equal(gl_store_batch_clear_analysis(b, &err), GL_OK);
    commit_ok(b);
    analysis_text(s, NULL, 0, text, sizeof text);
    assert_string_equal(text, "");
    assert_int_equal(gl_store_stats_get(s, &st, &err), GL_OK);
    assert_int_equal(st.records[GL_STORE_CF_ANALYSIS], 0);
    gl_store_batch_free(b);
    gl_store_close(s);
    gl_test_rm_rf(root);
    free(dir);
    free(root);
}

/* Analysis records are not block data: a rollback, alone or with puts in
 * its batch, leaves them byte for byte as they were. */
static void test_analysis_survives_rollback(void **state)
{
    (void)state;
    char *root = gl_test_tmpdir("gl_store");
    char *a = gl_test_path_join(root, "a"), *ref = gl_test_path_join(root, "ref");
    build_two_chains(a, 20, 20);
    build_two_chains(ref, 10, 20); /* the oracle: never held chain 1's 11..20 */
    const char *dirs[] = {a, ref};
    for (size_t i = 0; i < 2; i++) {
        gl_err err = {0};
        gl_store *s = gl_store_open(dirs[i], NULL, &err);
        assert_non_null(s);
        gl_store_batch *b = gl_store_batch_new(s, &err);
        put_analysis_ok(b, "s", 1, "stamp");
        put_analysis_ok(b, "e/\x01", 3, "entity one");
        put_analysis_ok(b, "l/\x00\x00\x00\x00\x00\x00\x00\x01", 10, "chain 1 lease");
        commit_ok(b);
        gl_store_batch_free(b);
        gl_store_close(s);
    }
    gl_err err = {0};
    gl_store *s = gl_store_open(a, NULL, &err);
    assert_int_equal(gl_store_rollback(s, 1, 11, &err), GL_OK);
    char *v;
    size_t vl;
    assert_int_equal(gl_store_get_analysis(s, "l/\x00\x00\x00\x00\x00\x00\x00\x01", 10, &v, &vl, &err), GL_OK);
    assert_int_equal(vl, 13);
    assert_memory_equal(v, "chain 1 lease", 13);
    free(v);
    gl_store_stats st;
    assert_int_equal(gl_store_stats_get(s, &st, &err), GL_OK);
    assert_int_equal(st.records[GL_STORE_CF_ANALYSIS], 3);
    assert_int_equal(gl_store_verify(s, &err), GL_OK);
    gl_store_close(s);
    expect_same_stores(a, ref);
    /* and every chain rolled back to 0 in one batch with puts after it */
    s = gl_store_open(a, NULL, &err);
    gl_store_batch *b = gl_store_batch_new(s, &err);
    assert_int_equal(gl_store_batch_rollback(b, 1, 0, &err), GL_OK);
    assert_int_equal(gl_store_batch_rollback(b, 2, 0, &err), GL_OK);
    put_analysis_ok(b, "t", 1, "after");
    commit_ok(b);
    gl_store_batch_free(b);
    assert_int_equal(gl_store_stats_get(s, &st, &err), GL_OK);
    assert_int_equal(st.records[GL_STORE_CF_BLOCKS], 0);
    assert_int_equal(st.records[GL_STORE_CF_ANALYSIS], 4);
    gl_store_close(s);
    gl_test_rm_rf(root);
    free(a);
    free(ref);
    free(root);
}

/* Turn the (schema 3) store at dir into what schema 2 wrote, with plain
 * RocksDB: schema_version 2 and, unless keep_family (a migration killed
 * between its two steps), no analysis family. */
static void make_v2(const char *dir, bool keep_family)
{
    gl_test_raw r;
    gl_test_raw_open(&r, dir, false);
    rocksdb_writeoptions_t *wo = rocksdb_writeoptions_create();
    char *e = NULL;
    rocksdb_put_cf(r.db, wo, gl_test_raw_cf(&r, "meta"), "schema_version", 14, "\0\0\0\x02", 4, &e);
    assert_null(e);
    if (!keep_family) {
        rocksdb_drop_column_family(r.db, gl_test_raw_cf(&r, "analysis"), &e);
        assert_null(e);
    }
    rocksdb_writeoptions_destroy(wo);
    gl_test_raw_close(&r);
}

static void test_migrate_v2(void **state)
{
    (void)state;
    char *root = gl_test_tmpdir("gl_store");
    char *v2 = gl_test_path_join(root, "v2"), *half = gl_test_path_join(root, "half"), *ref = gl_test_path_join(root, "ref");
    char *bulk = gl_test_path_join(root, "bulk");
    build_two_chains(ref, 5, 3); /* the oracle: the same data written as schema 3 */
    build_two_chains(v2, 5, 3);
    make_v2(v2, false);
    copy_dir(v2, bulk);
    build_two_chains(half, 5, 3);
    make_v2(half, true);
    char fams[512];
    list_families(v2, fams, sizeof fams);
    assert_string_equal(fams, "appearances,blocks,cursors,default,events,findings,labels,meta,"
                              "transfers,txhash,txs");
    const char *v3_list = "analysis,appearances,blocks,cursors,default,events,findings,labels,meta,"
                          "transfers,txhash,txs";

    /* Read-only: opens as it is, no analysis family, nothing written. */
    gl_buf before = GL_BUF_INIT, dump = GL_BUF_INIT;
    gl_test_dir_snapshot(v2, &before);
    gl_test_raw_dump(v2, NULL, &dump);
    gl_err err = {0};
    gl_store_open_opts ro = {.read_only = true};
    gl_store *s = gl_store_open(v2, &ro, &err);
    if (!s)
        fail_msg("read-only open of a schema 2 store: %s", err.msg);
    assert_false(gl_store_has_analysis_family(s));
    assert_int_equal(gl_store_schema_version(s), 2);
    char *v = (char *)"x";
    size_t vl = 7;
    assert_int_equal(gl_store_get_analysis(s, "s", 1, &v, &vl, &err), GL_OK);
    assert_null(v);
    assert_int_equal(vl, 0);
    char text[64];
    analysis_text(s, NULL, 0, text, sizeof text);
    assert_string_equal(text, "");
    analysis_text(s, "e/", 2, text, sizeof text);
    assert_string_equal(text, "");
    gl_store_stats st;
    assert_int_equal(gl_store_stats_get(s, &st, &err), GL_OK);
    assert_int_equal(st.records[GL_STORE_CF_ANALYSIS], 0);
    assert_int_equal(st.records[GL_STORE_CF_BLOCKS], 8);
    assert_int_equal(gl_store_verify(s, &err), GL_OK);
    gl_store_close(s);
    gl_test_assert_dir_unchanged(v2, &before);
    gl_test_expect_dump(v2, NULL, &dump);
    gl_buf_release(&before);
    gl_buf_release(&dump);
    assert_int_equal(raw_schema_version(v2), 2);

    /* Read-write: the family created, then version 3; every other record
     * as it was, so the store equals one written as schema 3. */
    s = gl_store_open(v2, NULL, &err);
    if (!s)
        fail_msg("read-write open of a schema 2 store: %s", err.msg);
    assert_true(gl_store_has_analysis_family(s));
    assert_int_equal(gl_store_schema_version(s), 3);
    gl_store_close(s);
    list_families(v2, fams, sizeof fams);
    assert_string_equal(fams, v3_list);
    assert_int_equal(raw_schema_version(v2), 3);
    expect_same_stores(v2, ref);
    s = gl_store_open(v2, NULL, &err);
    assert_non_null(s);
    gl_store_batch *b = gl_store_batch_new(s, &err);
    put_analysis_ok(b, "s", 1, "stamp");
    commit_ok(b);
    gl_store_batch_free(b);
    assert_int_equal(gl_store_get_analysis(s, "s", 1, &v, &vl, &err), GL_OK);
    assert_int_equal(vl, 5);
    free(v);
    assert_int_equal(gl_store_verify(s, &err), GL_OK);
    gl_store_close(s);

    /* A bulk writer migrates the same way. */
    gl_store_open_opts bo = {.bulk_write = true};
    s = gl_store_open(bulk, &bo, &err);
    if (!s)
        fail_msg("bulk open of a schema 2 store: %s", err.msg);
    gl_store_close(s);
    expect_same_stores(bulk, ref);

    /* Killed between creating the family and writing the version: a schema
     * 2 store with the family, read as schema 2, finished by a writer. */
    s = gl_store_open(half, &ro, &err);
    if (!s)
        fail_msg("read-only open of a half-migrated store: %s", err.msg);
    assert_int_equal(gl_store_schema_version(s), 2);
    assert_true(gl_store_has_analysis_family(s));
    gl_store_close(s);
    s = gl_store_open(half, NULL, &err);
    if (!s)
        fail_msg("open of a half-migrated store: %s", err.msg);
    gl_store_close(s);
    expect_same_stores(half, ref);

    /* Schema 3 requires the family: without it the store is damaged. */
    gl_test_raw r;
    gl_test_raw_open(&r, ref, false);
    char *e = NULL;
    rocksdb_drop_column_family(r.db, gl_test_raw_cf(&r, "analysis"), &e);
    assert_null(e);
    gl_test_raw_close(&r);
    gl_buf_init(&before);
    gl_test_dir_snapshot(ref, &before);
    char want[600];
    snprintf(want, sizeof want, "store '%s' is damaged: column family 'analysis' is missing", ref);
    gl_store_open_opts variants[] = {{0}, {.read_only = true}};
    for (size_t i = 0; i < 2; i++) {
        assert_null(gl_store_open(ref, &variants[i], &err));
        assert_string_equal(err.msg, want);
        gl_test_assert_dir_unchanged(ref, &before);
    }
    gl_buf_release(&before);
    gl_test_rm_rf(root);
    free(v2);
    free(half);
    free(ref);
    free(bulk);
    free(root);
}

/* ---------------------------------------------------- platform definitions */

static void test_platform_def(void **state)
{
    (void)state;
    char *root = gl_test_tmpdir("gl_store");
    char *dir = gl_test_path_join(root, "db");
    gl_store *s = open_new(dir);
    gl_err err = {0};
    /* keccak-256("abc"), the published vector */
    static const uint8_t abc_hash[32] = {
        0x4e, 0x03, 0x65, 0x7a, 0xea, 0x45, 0xa9, 0x4f, 0xc7, 0xd4, 0x7b, 0xa8, 0x26, 0xc8, 0xd6, 0x67,
        0xc0, 0xd1, 0xe6, 0xe3, 0x3a, 0x64, 0xa0, 0x36, 0xec, 0x44, 0xf5, 0x8f, 0xa1, 0x2d, 0x6c, 0x45};
    gl_store_batch *b = gl_store_batch_new(s, &err);
    assert_int_equal(gl_store_batch_set_platform_hash(b, "p", 7, abc_hash, &err), GL_OK);
    assert_int_equal(gl_store_batch_set_platform_def(b, "p", 7, "abc", &err), GL_OK);
    assert_int_equal(gl_store_batch_count(b), 2);
    /* refused, the batch unchanged */
    assert_int_equal(gl_store_batch_set_platform_def(b, "p", 7, "", &err), GL_EINVAL);
    assert_int_equal(gl_store_batch_set_platform_def(b, "p", 7, NULL, &err), GL_EINVAL);
    assert_int_equal(gl_store_batch_set_platform_def(b, "p", 0, "abc", &err), GL_EINVAL);
    assert_int_equal(gl_store_batch_set_platform_def(b, "bad name", 7, "abc", &err), GL_EINVAL);
    assert_int_equal(gl_store_batch_set_platform_def(b, "p", 8, "abc", &err), GL_EDB); /* bound to 7 */
    assert_int_equal(gl_store_batch_count(b), 2);
    commit_ok(b);
    gl_store_batch_free(b);
    char *json = (char *)"x";
    assert_int_equal(gl_store_get_platform_def(s, "p", &json, &err), GL_OK);
    assert_non_null(json);
    assert_string_equal(json, "abc");
    free(json);
    assert_int_equal(gl_store_get_platform_def(s, "q", &json, &err), GL_OK);
    assert_null(json);
    assert_int_equal(gl_store_get_platform_def(s, "no good", &json, &err), GL_EINVAL);
    gl_store_stats st;
    assert_int_equal(gl_store_stats_get(s, &st, &err), GL_OK);
    assert_int_equal(st.records[GL_STORE_CF_META], 6); /* magic, schema, created_by, chain/p, defhash/p, def/p */
    assert_int_equal(gl_store_verify(s, &err), GL_OK);
    gl_store_close(s);

    /* Another text under def/p: the hash no longer matches. */
    gl_test_raw r;
    gl_test_raw_open(&r, dir, false);
    rocksdb_writeoptions_t *wo = rocksdb_writeoptions_create();
    char *e = NULL;
    rocksdb_put_cf(r.db, wo, gl_test_raw_cf(&r, "meta"), "def/p", 5, "abd", 3, &e);
    assert_null(e);
    rocksdb_put_cf(r.db, wo, gl_test_raw_cf(&r, "meta"), "def/q", 5, "abc", 3, &e); /* a def without a hash */
    assert_null(e);
    rocksdb_writeoptions_destroy(wo);
    gl_test_raw_close(&r);
    gl_store_open_opts ro = {.read_only = true};
    s = gl_store_open(dir, &ro, &err);
    assert_non_null(s);
    char want[600];
    snprintf(want, sizeof want, "store '%s' is damaged: definition of 'p' does not match its hash", dir);
    assert_int_equal(gl_store_get_platform_def(s, "p", &json, &err), GL_EDB);
    assert_null(json);
    assert_string_equal(err.msg, want);
    assert_int_equal(gl_store_verify(s, &err), GL_EDB);
    assert_string_equal(err.msg, want);
    snprintf(want, sizeof want, "store '%s' is damaged: definition of 'q' does not match its hash", dir);
    assert_int_equal(gl_store_get_platform_def(s, "q", &json, &err), GL_EDB);
    assert_string_equal(err.msg, want);
    gl_store_close(s);
    gl_test_rm_rf(root);
    free(dir);
    free(root);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_key_layouts),
        cmocka_unit_test(test_value_layouts),
        cmocka_unit_test(test_event_tlv),
        cmocka_unit_test(test_label_tlv),
        cmocka_unit_test(test_roles),
        cmocka_unit_test(test_roundtrip_every_record),
        cmocka_unit_test(test_ranges),
        cmocka_unit_test(test_rollback_exact),
        cmocka_unit_test(test_rollback_in_batch),
        cmocka_unit_test(test_chain_binding),
        cmocka_unit_test(test_newer_schema_untouched),
        cmocka_unit_test(test_foreign_rocksdb_untouched),
        cmocka_unit_test(test_garbage_and_missing),
        cmocka_unit_test(test_corrupt_manifest),
        cmocka_unit_test(test_corrupt_sst),
        cmocka_unit_test(test_interrupted_creation),
        cmocka_unit_test(test_read_only_and_in_use),
        cmocka_unit_test(test_invalid_puts_leave_batch),
        cmocka_unit_test(test_verify_semantic_damage),
        cmocka_unit_test(test_derived_appearances),
        cmocka_unit_test(test_rollback_appearances),
        cmocka_unit_test(test_migrate_v1),
        cmocka_unit_test(test_v2_with_appear_pos_damaged),
        cmocka_unit_test(test_bulk_appearances),
        cmocka_unit_test(test_bulk_killed),
        cmocka_unit_test(test_bulk_rollback),
        cmocka_unit_test(test_bulk_small_batch),
        cmocka_unit_test(test_bulk_sort_twins),
        cmocka_unit_test(test_bulk_sort_crowd),
        cmocka_unit_test(test_bulk_ingest_fails),
        cmocka_unit_test(test_bulk_bad_marker),
        cmocka_unit_test(test_bulk_write_begin),
        cmocka_unit_test(test_bulk_records),
        cmocka_unit_test(test_bulk_records_killed),
        cmocka_unit_test(test_analysis_records),
        cmocka_unit_test(test_analysis_survives_rollback),
        cmocka_unit_test(test_migrate_v2),
        cmocka_unit_test(test_platform_def),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
