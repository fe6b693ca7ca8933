/* bench_core.c - throughput of the primitives everything else stands on:
 * keccak-256 (MB/s over large and 32-byte inputs) and transaction sender
 * recovery (recoveries per second, signing hash included).
 *
 * Figures go to stdout, one "name: value unit" line each; bench/run.sh
 * collects them.  Not a test: nothing here asserts a speed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gpuledger/keccak.h"
#include "gpuledger/secp.h"
#include "gpuledger/tx.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void bench_keccak(void)
{
    size_t len = 64u << 20;
    uint8_t *buf = malloc(len), out[32];
    if (!buf)
        return;
    for (size_t i = 0; i < len; i++)
        buf[i] = (uint8_t)i;
    double t0 = now();
    gl_keccak256(buf, len, out);
    double dt = now() - t0;
    printf("keccak256 64 MiB: %.1f MB/s\n", (double)len / dt / 1e6);
    t0 = now();
    size_t n = 2000000;
    for (size_t i = 0; i < n; i++)
        gl_keccak256(out, 32, out);
    dt = now() - t0;
    printf("keccak256 32-byte inputs: %.0f hashes/s\n", (double)n / dt);
    free(buf);
}

static int bench_recover(void)
{
    gl_err err;
    gl_secp *ctx = gl_secp_new(&err);
    if (!ctx) {
        fprintf(stderr, "bench: %s\n", err.msg);
        return 1;
    }
    uint8_t key[32];
    memset(key, 0x46, sizeof key);
    gl_tx tx;
    gl_tx_init(&tx);
    tx.type = GL_TX_DYNAMIC_FEE;
    tx.chain_id = gl_u256_from_u64(1);
    tx.has_chain_id = true;
    tx.nonce = 7;
    tx.gas = 21000;
    tx.has_to = true;
    memset(tx.to, 0x35, 20);
    tx.value = gl_u256_from_u64(1000000000000000000ULL);
    if (gl_tx_sign(ctx, &tx, key, &err)) {
        fprintf(stderr, "bench: sign: %s\n", err.msg);
        return 1;
    }
    size_t n = 20000;
    uint8_t addr[20];
    double t0 = now();
    for (size_t i = 0; i < n; i++)
        if (gl_tx_recover_sender(ctx, &tx, addr, &err)) {
            fprintf(stderr, "bench: recover: %s\n", err.msg);
            return 1;
        }
    double dt = now() - t0;
    printf("sender recovery (EIP-1559 tx, signing hash included): %.0f recoveries/s\n", (double)n / dt);
    gl_tx_release(&tx);
    gl_secp_free(ctx);
    return 0;
}

int main(void)
{
    bench_keccak();
    return bench_recover();
}
