/* conf_tx.c - ethereum/tests TransactionTests, plus the signed transactions
 * in the recorded mainnet blocks.
 *
 * TransactionTests/tt<name>/<file>.json: each test has `txbytes` and, per fork, the
 * expected `hash` and `sender` or the `exception` a client raises.  We judge
 * the latest fork each test lists.  A valid tx must decode, re-encode to the
 * same bytes, hash to `hash` and recover `sender`.  An exception about RLP
 * shape, field width, addresses, the tx type or signature values must be a
 * rejection by gl_tx_decode.  Exceptions that are about gas accounting or
 * account state, not about the transaction's encoding, are skipped with the
 * reason printed once (see skip_reason).
 *
 * mainnet-rpc, the eth_getBlockByNumber answers: every transaction object (OpenEthereum
 * format, with `raw`) goes through gl_tx_from_json; the encoding must equal
 * `raw`, the hash `hash`, the recovered sender `from`.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "conf.h"
#include "gpuledger/bytes.h"
#include "gpuledger/keccak.h"
#include "gpuledger/secp.h"
#include "gpuledger/tx.h"

/* Forks in order; the last one a test lists is the one judged. */
static const char *const forks[] = {
    "Frontier", "Homestead", "EIP150", "EIP158", "Byzantium", "Constantinople", "ConstantinopleFix",
    "Istanbul", "Berlin", "London", "Merge", "Paris", "Shanghai", "Cancun", "Prague", "Osaka",
};

static int fork_rank(const char *name)
{
    for (size_t i = 0; i < sizeof forks / sizeof forks[0]; i++)
        if (!strcmp(forks[i], name))
            return (int)i;
    return -1;
}

/* Exceptions a decoder cannot and should not raise: the transaction is well
 * formed, and only execution against a block or state rejects it.  NULL for
 * every other exception, which the decoder must raise. */
static const char *skip_reason(const char *exc)
{
    static const struct {
        const char *name, *why;
    } skips[] = {
        {"INTRINSIC_GAS_TOO_LOW", "gas accounting: gas limit below intrinsic gas"},
        {"GASLIMIT_PRICE_PRODUCT_OVERFLOW", "gas accounting: gas * price overflows 256 bits (balance check)"},
        {"PRIORITY_GREATER_THAN_MAX_FEE_PER_GAS", "fee validity against the block: tip above max fee"},
        {"INITCODE_SIZE_EXCEEDED", "EIP-3860 execution limit on init code size"},
        {"NONCE_TOO_BIG", "EIP-2681 account-nonce limit (2^64-1): a state rule, the field decodes"},
        {"INSUFFICIENT_ACCOUNT_FUNDS", "state: balance"},
        {"INSUFFICIENT_MAX_FEE_PER_GAS", "fee validity against the block base fee"},
        {"GAS_ALLOWANCE_EXCEEDED", "block gas limit"},
    };
    const char *dot = strrchr(exc, '.');
    const char *name = dot ? dot + 1 : exc;
    for (size_t i = 0; i < sizeof skips / sizeof skips[0]; i++)
        if (!strncmp(name, skips[i].name, strlen(skips[i].name)))
            return skips[i].why;
    return NULL;
}

/* Distinct skipped exception names, printed once each. */
typedef struct seen {
    char names[32][96];
    size_t n;
} seen;

static void note_skip(seen *sk, const char *exc, const char *why)
{
    for (size_t i = 0; i < sk->n; i++)
        if (!strcmp(sk->names[i], exc))
            return;
    if (sk->n < sizeof sk->names / sizeof sk->names[0]) {
        snprintf(sk->names[sk->n++], sizeof sk->names[0], "%s", exc);
        fprintf(stderr, "conformance tx: skipping %s (%s)\n", exc, why);
    }
}

static void hex_of(const uint8_t *d, size_t n, char *out) { gl_hex_encode(d, n, true, out); }

/* Judge one test case. */
static void run_case(const gl_secp *ctx, conf_stats *st, seen *sk, const char *file, const char *name,
                     const json_t *test)
{
    const char *txhex = json_string_value(json_object_get(test, "txbytes"));
    const json_t *result = json_object_get(test, "result");
    const char *fork = NULL;
    int best = -2;
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)result, k, v) {
        int r = fork_rank(k);
        if (r < 0)
            fprintf(stderr, "conformance tx: %s: %s: unknown fork name %s (ranked newest)\n", file, name, k);
        r = r < 0 ? 1000 : r;
        if (r > best) {
            best = r;
            fork = k;
        }
    }
    if (!txhex || !fork) {
        conf_result(st, 0, file, name, "no txbytes or no fork result");
        return;
    }
    const json_t *want = json_object_get(result, fork);
    const char *exc = json_string_value(json_object_get(want, "exception"));
    gl_buf raw = GL_BUF_INIT;
    gl_err err;
    gl_err_clear(&err);
    gl_tx tx;
    gl_tx_init(&tx);
    if (gl_hex_decode_buf(txhex, &raw, &err) != GL_OK) {
        conf_result(st, 0, file, name, "bad txbytes hex: %s", err.msg);
        goto out;
    }
    gl_code rc = gl_tx_decode(&tx, raw.data, raw.len, &err);
    if (exc) {
        const char *why = skip_reason(exc);
        if (why) {
            note_skip(sk, exc, why);
            st->skipped++;
            goto out;
        }
        conf_result(st, rc != GL_OK, file, name, "[%s] expected rejection %s, but it decoded", fork, exc);
        goto out;
    }
    if (rc != GL_OK) {
        conf_result(st, 0, file, name, "[%s] valid tx rejected: %s", fork, err.msg);
        goto out;
    }
    uint8_t h[32], who[20];
    char hhex[67], whex[43];
    gl_buf again = GL_BUF_INIT;
    if (gl_tx_encode(&tx, &again, &err) != GL_OK || again.len != raw.len ||
        memcmp(again.data, raw.data, raw.len) != 0) {
        gl_buf_release(&again);
        conf_result(st, 0, file, name, "[%s] re-encoding differs from txbytes", fork);
        goto out;
    }
    gl_buf_release(&again);
    if (gl_tx_hash(&tx, h, &err) != GL_OK || gl_tx_recover_sender(ctx, &tx, who, &err) != GL_OK) {
        conf_result(st, 0, file, name, "[%s] %s", fork, err.msg);
        goto out;
    }
    hex_of(h, 32, hhex);
    hex_of(who, 20, whex);
    const char *wh = json_string_value(json_object_get(want, "hash"));
    const char *ws = json_string_value(json_object_get(want, "sender"));
    int ok = wh && ws && !strcasecmp(wh, hhex) && !strcasecmp(ws, whex);
    conf_result(st, ok, file, name, "[%s] hash %s sender %s, expected %s %s", fork, hhex, whex, wh ? wh : "?",
                ws ? ws : "?");
out:
    gl_tx_release(&tx);
    gl_buf_release(&raw);
}

static int is_json(const struct dirent *d)
{
    size_t n = strlen(d->d_name);
    return n > 5 && !strcmp(d->d_name + n - 5, ".json");
}

static int is_tt(const struct dirent *d) { return !strncmp(d->d_name, "tt", 2); }

static void run_transaction_tests(const char *dir, const gl_secp *ctx, conf_stats *st)
{
    char base[4096];
    snprintf(base, sizeof base, "%s/ethereum-tests/TransactionTests", dir);
    struct dirent **subs;
    int nsub = scandir(base, &subs, is_tt, alphasort);
    if (nsub < 0) {
        fprintf(stderr, "conformance tx: cannot read %s\n", base);
        return;
    }
    seen sk = {.n = 0};
    size_t skipped0 = st->skipped;
    for (int i = 0; i < nsub; i++) {
        char sub[4352];
        snprintf(sub, sizeof sub, "%s/%s", base, subs[i]->d_name);
        struct dirent **files;
        int nf = scandir(sub, &files, is_json, alphasort);
        for (int j = 0; j < nf; j++) {
            char path[4700], label[600];
            snprintf(path, sizeof path, "%s/%s", sub, files[j]->d_name);
            snprintf(label, sizeof label, "%s/%s", subs[i]->d_name, files[j]->d_name);
            json_error_t jerr;
            json_t *root = json_load_file(path, 0, &jerr);
            if (!root) {
                conf_result(st, 0, label, "-", "bad JSON: %s", jerr.text);
            } else {
                const char *name;
                json_t *test;
                json_object_foreach(root, name, test)
                    run_case(ctx, st, &sk, label, name, test);
                json_decref(root);
            }
            free(files[j]);
        }
        if (nf >= 0)
            free(files);
        free(subs[i]);
    }
    free(subs);
    fprintf(stderr, "conformance tx: TransactionTests: %zu skipped (not decoder concerns)\n",
            st->skipped - skipped0);
}

/* ---------------------------------------------------------------- mainnet blocks */

static int is_block_file(const struct dirent *d)
{
    return strstr(d->d_name, "eth_getBlockByNumber") && is_json(d);
}

static void run_block_txs(const char *file, const json_t *block, const gl_secp *ctx, conf_stats *st)
{
    const json_t *txs = json_object_get(block, "transactions");
    uint64_t number = 0;
    const char *num = json_string_value(json_object_get(block, "number"));
    if (num)
        number = strtoull(num, NULL, 16);
    /* Frontier (before Homestead, block 1150000) allowed s > n/2 */
    unsigned flags = number < 1150000 ? GL_TX_ALLOW_HIGH_S : 0;
    size_t i;
    json_t *t;
    json_array_foreach(txs, i, t) {
        if (!json_is_object(t))
            continue; /* hashes only */
        const char *hash = json_string_value(json_object_get(t, "hash"));
        const char *from = json_string_value(json_object_get(t, "from"));
        const char *rawhex = json_string_value(json_object_get(t, "raw"));
        char label[80];
        snprintf(label, sizeof label, "tx %s", hash ? hash : "?");
        gl_tx tx;
        gl_err err;
        gl_tx_init(&tx);
        gl_err_clear(&err);
        uint8_t h[32], who[20];
        char hhex[67], whex[43];
        gl_buf enc = GL_BUF_INIT;
        if (gl_tx_from_json_ex(&tx, t, flags, &err) != GL_OK || gl_tx_encode(&tx, &enc, &err) != GL_OK ||
            gl_tx_hash(&tx, h, &err) != GL_OK || gl_tx_recover_sender_ex(ctx, &tx, flags, who, &err) != GL_OK) {
            conf_result(st, 0, file, label, "%s", err.msg);
        } else {
            hex_of(h, 32, hhex);
            hex_of(who, 20, whex);
            char *ehex = gl_hex_encode_alloc(enc.data, enc.len, true);
            int ok = ehex && hash && from && !strcasecmp(hash, hhex) && !strcasecmp(from, whex) &&
                     (!rawhex || !strcasecmp(rawhex, ehex));
            conf_result(st, ok, file, label, "hash %s sender %s (want %s %s)%s", hhex, whex, hash ? hash : "?",
                        from ? from : "?", rawhex && ehex && strcasecmp(rawhex, ehex) ? ", raw differs" : "");
            free(ehex);
        }
        gl_buf_release(&enc);
        gl_tx_release(&tx);
    }
}

static void run_mainnet(const char *dir, const gl_secp *ctx, conf_stats *st)
{
    char base[4096];
    snprintf(base, sizeof base, "%s/mainnet-rpc", dir);
    struct dirent **files;
    int nf = scandir(base, &files, is_block_file, alphasort);
    if (nf < 0)
        return; /* optional: the TransactionTests are the family's core */
    for (int j = 0; j < nf; j++) {
        char path[4400];
        snprintf(path, sizeof path, "%s/%s", base, files[j]->d_name);
        json_error_t jerr;
        json_t *root = json_load_file(path, 0, &jerr);
        if (!root)
            conf_result(st, 0, files[j]->d_name, "-", "bad JSON: %s", jerr.text);
        else
            run_block_txs(files[j]->d_name, json_object_get(root, "result"), ctx, st);
        json_decref(root);
        free(files[j]);
    }
    free(files);
}

int conf_tx(const char *dir, conf_stats *st)
{
    gl_err err;
    gl_secp *ctx = gl_secp_new(&err);
    if (!ctx) {
        fprintf(stderr, "conformance tx: %s\n", err.msg);
        return 1;
    }
    run_transaction_tests(dir, ctx, st);
    size_t before = st->run;
    run_mainnet(dir, ctx, st);
    fprintf(stderr, "conformance tx: %zu mainnet transactions checked against their raw, hash and from\n",
            st->run - before);
    gl_secp_free(ctx);
    return 0;
}
