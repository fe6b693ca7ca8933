/* test_trie.c - Merkle-Patricia roots against hand-built nodes and
 * published roots.
 *
 * Oracles: (1) node encodings written out by hand from the yellow paper's
 * appendix D (hex-prefix, leaf/extension/branch, nodes under 32 bytes
 * embedded), hashed with keccak-256; (2) roots published on the Ethereum
 * wiki's "Patricia Tree" page and in the ethereumjs/merkle-patricia-tree
 * README: {doe: reindeer, dog: puppy, dogglesworth: cat} and {do: verb,
 * dog: puppy, doge: coin, horse: stallion}; (3) keccak(rlp("")) for the
 * empty trie.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "gpuledger/keccak.h"
#include "gpuledger/trie.h"

/* ------------------------------------------------------------- helpers */

static void hex_to_buf(const char *hex, gl_buf *out)
{
    gl_buf_reset(out);
    assert_int_equal(gl_hex_decode_buf(hex, out, NULL), GL_OK);
}

/* keccak of a node written out by hand, as hex. */
static void node_hash(const char *node_hex, uint8_t out[32])
{
    gl_buf b = GL_BUF_INIT;
    hex_to_buf(node_hex, &b);
    gl_keccak256(b.data, b.len, out);
    gl_buf_release(&b);
}

static void assert_root_hex(const uint8_t root[32], const char *want_hex)
{
    char got[67];
    gl_hex_encode(root, 32, true, got);
    assert_string_equal(got, want_hex);
}

static void assert_trie_node(gl_trie *t, const char *node_hex)
{
    uint8_t want[32], got[32];
    node_hash(node_hex, want);
    assert_int_equal(gl_trie_root(t, got, NULL), GL_OK);
    assert_memory_equal(got, want, 32);
}

static void put_hex(gl_trie *t, const char *khex, const char *v)
{
    gl_buf k = GL_BUF_INIT;
    hex_to_buf(khex, &k);
    assert_int_equal(gl_trie_put(t, k.data, k.len, (const uint8_t *)v, strlen(v), NULL), GL_OK);
    gl_buf_release(&k);
}

static void put_str(gl_trie *t, const char *k, const char *v)
{
    assert_int_equal(gl_trie_put(t, (const uint8_t *)k, strlen(k), (const uint8_t *)v, strlen(v), NULL),
                     GL_OK);
}

/* "80" repeated n times. */
static const char *empties(int n)
{
    static char buf[64];
    buf[0] = '\0';
    for (int i = 0; i < n; i++)
        strcat(buf, "80");
    return buf;
}

/* --------------------------------------------------------------- tests */

static void test_empty_root(void **state)
{
    (void)state;
    gl_trie *t = gl_trie_new(false, NULL);
    uint8_t root[32];
    assert_non_null(t);
    assert_int_equal(gl_trie_root(t, root, NULL), GL_OK);
    assert_root_hex(root, "0x56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421");
    assert_root_hex(GL_TRIE_EMPTY_ROOT, GL_TRIE_EMPTY_ROOT_HEX);
    node_hash("80", root); /* keccak(rlp("")) */
    assert_memory_equal(root, GL_TRIE_EMPTY_ROOT, 32);
    assert_int_equal(gl_trie_ordered_root(root, NULL, 0, NULL), GL_OK);
    assert_memory_equal(root, GL_TRIE_EMPTY_ROOT, 32);
    gl_trie_free(t);
}

/* One key: the root is a leaf [hp(path, leaf), value]. */
static void test_single_leaf(void **state)
{
    (void)state;
    gl_trie *t = gl_trie_new(false, NULL);
    put_hex(t, "0x01", "a");
    /* path nibbles 0,1 (even) -> hp 20 01; value 'a' is the single byte 61 */
    assert_trie_node(t, "c4" "822001" "61");
    gl_trie_free(t);

    t = gl_trie_new(false, NULL);
    assert_int_equal(gl_trie_put(t, (const uint8_t *)"", 0, (const uint8_t *)"a", 1, NULL), GL_OK);
    /* empty path: hp is the single byte 0x20 */
    assert_trie_node(t, "c2" "20" "61");
    gl_trie_free(t);
}

/* Two keys differing in the first nibble: a branch with two embedded leaves. */
static void test_branch_embedded(void **state)
{
    (void)state;
    char node[128];
    gl_trie *t = gl_trie_new(false, NULL);
    put_hex(t, "0x11", "b");
    put_hex(t, "0x01", "a");
    /* slot 0: leaf [hp '1' odd leaf = 31, 61]; slot 1: leaf [31, 62]; 14 empty slots; no value */
    snprintf(node, sizeof node, "d5" "c23161" "c23162" "%s", empties(15));
    assert_trie_node(t, node);
    gl_trie_free(t);
}

/* A shared first byte: an extension over an embedded branch. */
static void test_extension(void **state)
{
    (void)state;
    char node[128];
    gl_trie *t = gl_trie_new(false, NULL);
    put_hex(t, "0x0001", "a");
    put_hex(t, "0x0011", "b");
    /* ext [hp '00' even ext = 00 00, branch (22 bytes, embedded)] */
    snprintf(node, sizeof node, "d9" "820000" "d5" "c23161" "c23162" "%s", empties(15));
    assert_trie_node(t, node);
    gl_trie_free(t);
}

/* A key that ends where another continues: the branch carries a value. */
static void test_branch_value(void **state)
{
    (void)state;
    char node[128];
    gl_trie *t = gl_trie_new(false, NULL);
    put_hex(t, "0x0102", "b");
    put_hex(t, "0x01", "a");
    /* ext [hp '01' even ext = 00 01, branch [slot 0: leaf ['2' odd leaf = 32, 62], 15 empty, value 61]] */
    snprintf(node, sizeof node, "d7" "820001" "d3" "c23262" "%s" "61", empties(15));
    assert_trie_node(t, node);
    gl_trie_free(t);
}

/* A child of 32 bytes or more is referenced by its hash. */
static void test_hashed_child(void **state)
{
    (void)state;
    const char *v32 = "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx";
    char leaf[128], node[256], h[67];
    uint8_t lh[32];
    gl_trie *t = gl_trie_new(false, NULL);
    put_hex(t, "0x01", v32);
    put_hex(t, "0x11", "b");
    /* slot 0: leaf [31, 32-byte value] = e2 31 a0 78*32: 36 bytes, so hashed */
    snprintf(leaf, sizeof leaf, "e2" "31" "a0" "%s",
             "7878787878787878787878787878787878787878787878787878787878787878");
    node_hash(leaf, lh);
    gl_hex_encode(lh, 32, false, h);
    snprintf(node, sizeof node, "f3" "a0%s" "c23162" "%s", h, empties(15));
    assert_trie_node(t, node);
    gl_trie_free(t);
}

/* The embedding boundary: a 31-byte child is inlined, a 32-byte one hashed. */
static void test_embed_boundary(void **state)
{
    (void)state;
    char node[256], h[67], leaf[128], v28[29], v29[30];
    uint8_t lh[32];
    memset(v28, 'y', 28);
    v28[28] = '\0';
    memset(v29, 'y', 29);
    v29[29] = '\0';
    const char *y28 = "79797979797979797979797979797979797979797979797979797979";
    gl_trie *t = gl_trie_new(false, NULL);
    put_hex(t, "0x01", v28);
    put_hex(t, "0x11", "b");
    /* slot 0: leaf [31, 28 bytes] = de 31 9c ..: 31 bytes, embedded as is */
    snprintf(node, sizeof node, "f1" "de319c%s" "c23162" "%s", y28, empties(15));
    assert_trie_node(t, node);
    gl_trie_free(t);

    t = gl_trie_new(false, NULL);
    put_hex(t, "0x01", v29);
    put_hex(t, "0x11", "b");
    /* slot 0: leaf [31, 29 bytes] = df 31 9d ..: 32 bytes, so hashed */
    snprintf(leaf, sizeof leaf, "df319d%s79", y28);
    node_hash(leaf, lh);
    gl_hex_encode(lh, 32, false, h);
    snprintf(node, sizeof node, "f3" "a0%s" "c23162" "%s", h, empties(15));
    assert_trie_node(t, node);
    gl_trie_free(t);
}

/* Secure trie: the path is keccak(key), 64 nibbles. */
static void test_secure_single(void **state)
{
    (void)state;
    uint8_t kh[32];
    char hk[67], node[160];
    gl_keccak256("dog", 3, kh);
    gl_hex_encode(kh, 32, false, hk);
    /* leaf [hp = 20 || keccak(dog) (33 bytes: a1 ...), "puppy" (85 7075707079)] */
    snprintf(node, sizeof node, "e8" "a120%s" "85" "7075707079", hk);
    gl_trie *t = gl_trie_new(true, NULL);
    put_str(t, "dog", "puppy");
    assert_trie_node(t, node);
    gl_trie_free(t);
}

static void test_published_roots(void **state)
{
    (void)state;
    static const char *const dogs[][2] = {{"doe", "reindeer"}, {"dog", "puppy"}, {"dogglesworth", "cat"}};
    static const int orders[6][3] = {{0, 1, 2}, {0, 2, 1}, {1, 0, 2}, {1, 2, 0}, {2, 0, 1}, {2, 1, 0}};
    uint8_t root[32];
    for (int o = 0; o < 6; o++) {
        gl_trie *t = gl_trie_new(false, NULL);
        for (int i = 0; i < 3; i++)
            put_str(t, dogs[orders[o][i]][0], dogs[orders[o][i]][1]);
        assert_int_equal(gl_trie_root(t, root, NULL), GL_OK);
        assert_root_hex(root, "0x8aad789dff2f538bca5d8ea56e8abe10f4c7ba3a5dea95fea4cd6e7c3a1168d3");
        assert_int_equal(gl_trie_count(t), 3);
        gl_trie_free(t);
    }
    gl_trie *t = gl_trie_new(false, NULL);
    put_str(t, "do", "verb");
    put_str(t, "dog", "puppy");
    put_str(t, "doge", "coin");
    put_str(t, "horse", "stallion");
    assert_int_equal(gl_trie_root(t, root, NULL), GL_OK);
    assert_root_hex(root, "0x5991bb8c6514148a29db676a14ac506cd2cd5775ace63c30a4fe457715e9ac84");
    gl_trie_free(t);
}

/* Updates and deletions: only the final set counts. */
static void test_updates_and_deletes(void **state)
{
    (void)state;
    uint8_t root[32];
    gl_trie *t = gl_trie_new(false, NULL);
    put_str(t, "dog", "wolf");
    put_str(t, "ether", "wookiedoo");
    put_str(t, "doe", "reindeer");
    put_str(t, "dogglesworth", "cat");
    put_str(t, "dog", "puppy");                               /* update */
    assert_int_equal(gl_trie_put(t, (const uint8_t *)"ether", 5, NULL, 0, NULL), GL_OK); /* delete */
    assert_int_equal(gl_trie_put(t, (const uint8_t *)"never", 5, NULL, 0, NULL), GL_OK); /* absent */
    assert_int_equal(gl_trie_count(t), 3);
    assert_int_equal(gl_trie_root(t, root, NULL), GL_OK);
    assert_root_hex(root, "0x8aad789dff2f538bca5d8ea56e8abe10f4c7ba3a5dea95fea4cd6e7c3a1168d3");
    /* roots can be taken repeatedly, and writes continue after */
    put_str(t, "extra", "x");
    assert_int_equal(gl_trie_put(t, (const uint8_t *)"extra", 5, NULL, 0, NULL), GL_OK);
    assert_int_equal(gl_trie_root(t, root, NULL), GL_OK);
    assert_root_hex(root, "0x8aad789dff2f538bca5d8ea56e8abe10f4c7ba3a5dea95fea4cd6e7c3a1168d3");
    /* delete everything: back to the empty root */
    const char *keys[] = {"dog", "doe", "dogglesworth"};
    for (int i = 0; i < 3; i++)
        assert_int_equal(gl_trie_put(t, (const uint8_t *)keys[i], strlen(keys[i]), NULL, 0, NULL), GL_OK);
    assert_int_equal(gl_trie_root(t, root, NULL), GL_OK);
    assert_memory_equal(root, GL_TRIE_EMPTY_ROOT, 32);
    gl_trie_free(t);
}

/* Many writes to one key stay one entry (memory bounded by the live set). */
static void test_many_updates(void **state)
{
    (void)state;
    gl_trie *t = gl_trie_new(false, NULL);
    char v[32];
    for (int i = 0; i < 200000; i++) {
        snprintf(v, sizeof v, "v%d", i);
        put_hex(t, "0x01", v);
    }
    put_hex(t, "0x01", "a");
    assert_int_equal(gl_trie_count(t), 1);
    assert_trie_node(t, "c4" "822001" "61");
    gl_trie_free(t);
}

static void test_key_limits(void **state)
{
    (void)state;
    static uint8_t key[GL_TRIE_KEY_MAX + 1];
    gl_err err = {0};
    uint8_t root[32];
    gl_trie *t = gl_trie_new(false, NULL);
    memset(key, 0xab, sizeof key);
    assert_int_equal(gl_trie_put(t, key, sizeof key, (const uint8_t *)"a", 1, &err), GL_ERANGE);
    assert_non_null(strstr(err.msg, "longer than"));
    assert_int_equal(gl_trie_count(t), 0);
    /* the longest keys are fine, and deep: two keys sharing all but the last nibble */
    assert_int_equal(gl_trie_put(t, key, GL_TRIE_KEY_MAX, (const uint8_t *)"a", 1, NULL), GL_OK);
    key[GL_TRIE_KEY_MAX - 1] = 0xac;
    assert_int_equal(gl_trie_put(t, key, GL_TRIE_KEY_MAX, (const uint8_t *)"b", 1, NULL), GL_OK);
    /* and a chain of prefixes: 1, 2, ..., 40 bytes of 0xab */
    memset(key, 0xab, sizeof key);
    for (size_t n = 1; n <= 40; n++)
        assert_int_equal(gl_trie_put(t, key, n, (const uint8_t *)"c", 1, NULL), GL_OK);
    assert_int_equal(gl_trie_root(t, root, NULL), GL_OK);
    /* a secure trie hashes any key length down to 32 bytes */
    gl_trie *s = gl_trie_new(true, NULL);
    assert_int_equal(gl_trie_put(s, key, sizeof key, (const uint8_t *)"a", 1, NULL), GL_OK);
    gl_trie_free(s);
    gl_trie_free(t);
}

/* Ordered tries: key rlp(i). */
static void test_ordered_root(void **state)
{
    (void)state;
    char node[128];
    uint8_t root[32], want[32];
    gl_buf vals[3] = {GL_BUF_INIT, GL_BUF_INIT, GL_BUF_INIT};
    /* one value: leaf [hp(rlp(0) = 80: nibbles 8,0 even) = 20 80, "abc"] */
    gl_buf_append(&vals[0], "abc", 3, NULL);
    assert_int_equal(gl_trie_ordered_root(root, vals, 1, NULL), GL_OK);
    node_hash("c7" "822080" "83616263", want);
    assert_memory_equal(root, want, 32);
    /* two values: keys 80 and 01 -> branch, slot 0 leaf ['1' -> 31, "b"], slot 8 leaf ['0' -> 30, "a"] */
    gl_buf_reset(&vals[0]);
    gl_buf_append(&vals[0], "a", 1, NULL);
    gl_buf_append(&vals[1], "b", 1, NULL);
    assert_int_equal(gl_trie_ordered_root(root, vals, 2, NULL), GL_OK);
    char e7[16];
    snprintf(e7, sizeof e7, "%s", empties(7));
    snprintf(node, sizeof node, "d5" "c23162" "%s" "c23061" "%s" "80", e7, e7);
    node_hash(node, want);
    assert_memory_equal(root, want, 32);
    /* an empty value cannot be stored */
    gl_err err = {0};
    assert_int_equal(gl_trie_ordered_root(root, vals, 3, &err), GL_EINVAL);
    assert_non_null(strstr(err.msg, "value 2 is empty"));
    for (int i = 0; i < 3; i++)
        gl_buf_release(&vals[i]);
}

/* Past index 127 the keys are rlp(i) = 0x81 i, 0x82 hi lo, ...: the ordered
 * root must equal a general trie holding those keys. */
static void test_ordered_matches_general(void **state)
{
    (void)state;
    enum { N = 300 };
    static gl_buf vals[N];
    uint8_t r1[32], r2[32];
    gl_trie *t = gl_trie_new(false, NULL);
    for (int i = N - 1; i >= 0; i--) {
        char v[40];
        int n = snprintf(v, sizeof v, "transaction number %d", i);
        gl_buf_init(&vals[i]);
        gl_buf_append(&vals[i], v, (size_t)n, NULL);
        uint8_t key[3];
        size_t klen;
        if (i == 0) {
            key[0] = 0x80;
            klen = 1;
        } else if (i < 0x80) {
            key[0] = (uint8_t)i;
            klen = 1;
        } else if (i < 0x100) {
            key[0] = 0x81;
            key[1] = (uint8_t)i;
            klen = 2;
        } else {
            key[0] = 0x82;
            key[1] = (uint8_t)(i >> 8);
            key[2] = (uint8_t)i;
            klen = 3;
        }
        assert_int_equal(gl_trie_put(t, key, klen, vals[i].data, vals[i].len, NULL), GL_OK);
    }
    assert_int_equal(gl_trie_ordered_root(r1, vals, N, NULL), GL_OK);
    assert_int_equal(gl_trie_root(t, r2, NULL), GL_OK);
    assert_memory_equal(r1, r2, 32);
    assert_memory_not_equal(r1, GL_TRIE_EMPTY_ROOT, 32);
    for (int i = 0; i < N; i++)
        gl_buf_release(&vals[i]);
    gl_trie_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty_root),
        cmocka_unit_test(test_single_leaf),
        cmocka_unit_test(test_branch_embedded),
        cmocka_unit_test(test_extension),
        cmocka_unit_test(test_branch_value),
        cmocka_unit_test(test_hashed_child),
        cmocka_unit_test(test_embed_boundary),
        cmocka_unit_test(test_secure_single),
        cmocka_unit_test(test_published_roots),
        cmocka_unit_test(test_updates_and_deletes),
        cmocka_unit_test(test_many_updates),
        cmocka_unit_test(test_key_limits),
        cmocka_unit_test(test_ordered_root),
        cmocka_unit_test(test_ordered_matches_general),
    };
    return cmocka_run_group_tests_name("trie", tests, NULL, NULL);
}
