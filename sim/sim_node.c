/* sim_node.c - the simulator's side of the node: the JSON-RPC calls that
 * anvil understands and the simulator relies on.
 *
 *   eth_chainId, eth_getBlockByNumber    where the chain is
 *   evm_setAutomine false                blocks only when the simulator mines
 *   anvil_setNextBlockBaseFeePerGas      every block has the scenario's base fee,
 *                                        so fees are known when signing
 *   eth_sendRawTransaction (batched)     our own signed transactions
 *   evm_mine [timestamp]                 the block, at the simulator's time
 *   eth_getBlockReceipts                 gas used, logs, status of each
 *
 * A transaction that is not in the block, reverted, or whose hash the node
 * reports differently is an error naming the action.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpuledger/sim_world.h"
#include "gpuledger/u256.h"

/* eth_sendRawTransaction calls per JSON-RPC batch: large enough to keep
 * HTTP round trips rare, small enough for any node's batch limit (anvil
 * has none; geth's default is 1000). */
#define SEND_BATCH 250

static gl_code call(sim_world *w, const char *method, json_t *params, json_t **res, gl_err *err)
{
    return gl_rpc_call(w->rpc, method, params, res, err);
}

static gl_code parse_qty(const json_t *v, const char *what, sim_amt *out, gl_err *err)
{
    gl_u256 u;
    if (!json_is_string(v) || gl_u256_parse_hex(&u, json_string_value(v), NULL) != GL_OK || u.w[2] || u.w[3])
        return gl_err_set(err, GL_ERPC, "node answered a bad %s", what);
    *out = (sim_amt)u.w[0] | (sim_amt)u.w[1] << 64;
    return GL_OK;
}

static gl_code parse_u64(const json_t *v, const char *what, uint64_t *out, gl_err *err)
{
    sim_amt a = 0;
    gl_code rc = parse_qty(v, what, &a, err);
    if (rc)
        return rc;
    if (a > UINT64_MAX)
        return gl_err_set(err, GL_ERPC, "node answered a %s beyond 64 bits", what);
    *out = (uint64_t)a;
    return GL_OK;
}

gl_code gl_simn_quantity(sim_world *w, const char *method, json_t *params, sim_amt *out, gl_err *err)
{
    json_t *res = NULL;
    gl_code rc = call(w, method, params, &res, err);
    if (!rc)
        rc = parse_qty(res, method, out, err);
    json_decref(res);
    return rc;
}

gl_code gl_simn_open(sim_world *w, uint64_t *head_number, uint64_t *head_time, uint64_t *gas_limit, gl_err *err)
{
    sim_amt cid;
    gl_code rc = gl_simn_quantity(w, "eth_chainId", NULL, &cid, err);
    if (rc)
        return rc;
    if (cid == 0 || cid > UINT64_MAX / 4)
        return gl_err_set(err, GL_ERPC, "node reports an unusable chain id");
    w->chain_id = (uint64_t)cid;
    json_t *blk = NULL;
    rc = call(w, "eth_getBlockByNumber", json_pack("[s,b]", "latest", 0), &blk, err);
    if (rc)
        return rc;
    if (!json_is_object(blk))
        rc = gl_err_set(err, GL_ERPC, "node has no latest block");
    if (!rc)
        rc = parse_u64(json_object_get(blk, "number"), "block number", head_number, err);
    if (!rc)
        rc = parse_u64(json_object_get(blk, "timestamp"), "block timestamp", head_time, err);
    if (!rc)
        rc = parse_u64(json_object_get(blk, "gasLimit"), "block gas limit", gas_limit, err);
    json_decref(blk);
    if (rc)
        return rc;
    json_t *res = NULL;
    rc = call(w, "evm_setAutomine", json_pack("[b]", 0), &res, err);
    json_decref(res);
    if (rc)
        gl_err_prefix(err, "the node must be anvil (or answer its evm_* methods): ");
    return rc;
}

static gl_code decode_hex(const json_t *v, uint8_t *out, size_t n, const char *what, gl_err *err)
{
    if (!json_is_string(v) || gl_hex_decode_exact(json_string_value(v), out, n, NULL) != GL_OK)
        return gl_err_set(err, GL_ERPC, "node answered a bad %s", what);
    return GL_OK;
}

static gl_code parse_receipt(const json_t *r, sim_receipt *out, gl_err *err)
{
    gl_code rc = parse_u64(json_object_get(r, "gasUsed"), "gasUsed", &out->gas_used, err);
    if (!rc)
        rc = parse_qty(json_object_get(r, "effectiveGasPrice"), "effectiveGasPrice", &out->gas_price, err);
    json_t *ca = json_object_get(r, "contractAddress");
    if (!rc && json_is_string(ca)) {
        rc = decode_hex(ca, out->created, 20, "contractAddress", err);
        out->has_created = !rc;
    }
    json_t *logs = json_object_get(r, "logs");
    if (rc)
        return rc;
    if (!json_is_array(logs))
        return gl_err_set(err, GL_ERPC, "receipt without logs");
    out->nlogs = json_array_size(logs);
    out->logs = out->nlogs ? calloc(out->nlogs, sizeof *out->logs) : NULL;
    if (out->nlogs && !out->logs)
        return gl_err_set(err, GL_ENOMEM, "out of memory for logs");
    for (size_t i = 0; i < out->nlogs; i++) {
        json_t *l = json_array_get(logs, i);
        sim_log *lg = &out->logs[i];
        rc = decode_hex(json_object_get(l, "address"), lg->address, 20, "log address", err);
        if (!rc)
            rc = parse_u64(json_object_get(l, "logIndex"), "logIndex", &lg->index, err);
        json_t *topics = json_object_get(l, "topics");
        if (!rc && (!json_is_array(topics) || json_array_size(topics) > 4))
            rc = gl_err_set(err, GL_ERPC, "log with bad topics");
        for (size_t k = 0; !rc && k < json_array_size(topics); k++)
            rc = decode_hex(json_array_get(topics, k), lg->topics[k], 32, "topic", err);
        if (rc)
            return rc;
        lg->ntopics = (unsigned)json_array_size(topics);
        const char *data = json_string_value(json_object_get(l, "data"));
        if (!data)
            return gl_err_set(err, GL_ERPC, "log without data");
        size_t hl = strlen(data);
        size_t cap = hl / 2 + 1;
        uint8_t *buf = malloc(cap);
        size_t got = 0;
        if (!buf)
            return gl_err_set(err, GL_ENOMEM, "out of memory for log data");
        if (gl_hex_decode(data, hl, buf, cap, &got, NULL) != GL_OK) {
            free(buf);
            return gl_err_set(err, GL_ERPC, "log with bad data");
        }
        lg->data = buf;
        lg->len = got;
    }
    return GL_OK;
}

void gl_simn_receipts_free(sim_receipt *rcpts, size_t n, json_t *raw)
{
    for (size_t i = 0; rcpts && i < n; i++) {
        for (size_t k = 0; k < rcpts[i].nlogs; k++)
            free((void *)rcpts[i].logs[k].data);
        free(rcpts[i].logs);
    }
    free(rcpts);
    json_decref(raw);
}

static const char *tx_action(sim_world *w, size_t i)
{
    return gl_simf_task_name((sim_tk)w->txs.v[i].task.kind);
}

static gl_code send_all(sim_world *w, gl_err *err)
{
    size_t n = w->txs.n;
    const char *methods[SEND_BATCH];
    json_t *params[SEND_BATCH];
    json_t *results[SEND_BATCH];
    for (size_t i = 0; i < SEND_BATCH; i++)
        methods[i] = "eth_sendRawTransaction";
    for (size_t off = 0; off < n; off += SEND_BATCH) {
        size_t k = n - off < SEND_BATCH ? n - off : SEND_BATCH;
        for (size_t i = 0; i < k; i++)
            params[i] = json_pack("[s]", w->raws[off + i]);
        gl_code rc = gl_rpc_call_batch(w->rpc, k, methods, params, results, err);
        if (rc)
            return gl_err_prefix(err, "sending block %llu's transactions: ", (unsigned long long)w->blk_number);
        for (size_t i = 0; i < k; i++) {
            uint8_t h[32];
            gl_code bad = decode_hex(results[i], h, 32, "transaction hash", err);
            if (!bad && memcmp(h, w->txs.v[off + i].hash, 32))
                bad = gl_err_set(err, GL_EVERIFY, "node hashed %s's transaction differently",
                                 tx_action(w, off + i));
            if (bad) {
                for (size_t j = 0; j < k; j++)
                    json_decref(results[j]);
                return bad;
            }
        }
        for (size_t j = 0; j < k; j++)
            json_decref(results[j]);
    }
    return GL_OK;
}

gl_code gl_simn_mine(sim_world *w, sim_receipt *rcpts, json_t **raw_receipts, gl_err *err)
{
    *raw_receipts = NULL;
    char hex[GL_U256_HEX_MAX];
    json_t *res = NULL;
    gl_code rc = call(w, "anvil_setNextBlockBaseFeePerGas",
                      json_pack("[s]", gl_u256_to_hex(&(gl_u256){{w->sc->base_fee_wei, 0, 0, 0}}, hex)), &res, err);
    json_decref(res);
    if (!rc)
        rc = send_all(w, err);
    if (!rc) {
        res = NULL;
        rc = call(w, "evm_mine", json_pack("[I]", (json_int_t)w->blk_time), &res, err);
        json_decref(res);
    }
    if (rc)
        return rc;
    json_t *rs = NULL;
    rc = call(w, "eth_getBlockReceipts",
              json_pack("[s]", gl_u256_to_hex(&(gl_u256){{w->blk_number, 0, 0, 0}}, hex)), &rs, err);
    if (rc)
        return rc;
    *raw_receipts = rs;
    size_t n = w->txs.n;
    if (!json_is_array(rs))
        return gl_err_set(err, GL_EVERIFY, "block %llu was not mined (no receipts)",
                          (unsigned long long)w->blk_number);
    if (json_array_size(rs) != n) {
        return gl_err_set(err, GL_EVERIFY, "block %llu holds %zu transactions, %zu were sent (%s's first): "
                          "block gas limit or a nonce gap", (unsigned long long)w->blk_number,
                          json_array_size(rs), n, tx_action(w, 0));
    }
    /* the node orders equal-fee transactions as sent; match by hash anyway */
    for (size_t j = 0; j < n; j++) {
        json_t *r = json_array_get(rs, j);
        uint8_t h[32];
        rc = decode_hex(json_object_get(r, "transactionHash"), h, 32, "transactionHash", err);
        if (rc)
            return rc;
        size_t i = j < n && !memcmp(w->txs.v[j].hash, h, 32) ? j : n;
        for (size_t k = 0; i == n && k < n; k++)
            if (!memcmp(w->txs.v[k].hash, h, 32))
                i = k;
        if (i == n)
            return gl_err_set(err, GL_EVERIFY, "block %llu holds a transaction the simulator did not send",
                              (unsigned long long)w->blk_number);
        uint64_t bn = 0;
        rc = parse_u64(json_object_get(r, "blockNumber"), "blockNumber", &bn, err);
        if (rc)
            return rc;
        if (bn != w->blk_number)
            return gl_err_set(err, GL_EVERIFY, "mined block is %llu, expected %llu", (unsigned long long)bn,
                              (unsigned long long)w->blk_number);
        const char *status = json_string_value(json_object_get(r, "status"));
        if (!status || strcmp(status, "0x1")) {
            char th[67];
            return gl_err_set(err, GL_EVERIFY, "block %llu: transaction %s (%s by %s) reverted",
                              (unsigned long long)w->blk_number, gl_hex_encode(h, 32, true, th), tx_action(w, i),
                              w->ents.v[w->addrs.v[w->txs.v[i].from].entity].id);
        }
        if (j == 0) {
            rc = decode_hex(json_object_get(r, "blockHash"), w->head_hash, 32, "blockHash", err);
            if (rc)
                return rc;
        }
        rc = parse_receipt(r, &rcpts[i], err);
        if (rc)
            return rc;
    }
    return GL_OK;
}
