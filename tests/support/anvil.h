/* anvil.h - start and stop a real Ethereum node (anvil) for tests.
 *
 * gl_anvil_start() runs the anvil binary shipped in the npm package
 * @foundry-rs/anvil-linux-amd64 (installed by scripts/setup.sh) on
 * 127.0.0.1 with a kernel-chosen port (--port 0; the port is read from
 * anvil's "Listening on" line, so two tests never race for one), a fixed
 * genesis timestamp so that genesis and the blocks mined after it are the
 * same on every run, and the chain id the test asks for.  It returns once
 * the node answers eth_chainId with that chain id, or fails after a bounded
 * wait.  The node dies with the test process even when the test crashes
 * (PR_SET_PDEATHSIG); gl_anvil_stop() ends it politely (SIGTERM, then
 * SIGKILL after 5 s) and reaps it.
 *
 * The binary is found at $GPULEDGER_ANVIL, else under the repository root
 * (see gl_test_root) at tools/node_modules/@foundry-rs/anvil-linux-amd64/
 * bin/anvil.  anvil's output goes to a temporary file in $TMPDIR (or /tmp)
 * that is unlinked at once, so that a failing test leaves nothing behind;
 * set GPULEDGER_KEEP_ANVIL_LOG=1 to keep it (until gl_anvil_stop) and read
 * it at gl_anvil_log_path().
 *
 * The dev accounts below are anvil's defaults, derived from the public
 * mnemonic "test test test test test test test test test test test junk"
 * (BIP-44 path m/44'/60'/0'/0/i), each funded with 10000 ETH at genesis.
 * They are public knowledge: never use them for anything real.
 */
#ifndef GPULEDGER_TEST_ANVIL_H
#define GPULEDGER_TEST_ANVIL_H

#include <stdint.h>
#include <sys/types.h>

#include "gpuledger/err.h"

/* 2023-11-14T22:13:20Z: any fixed value would do; this one is recent
 * enough for every hardfork anvil knows. */
#define GL_ANVIL_GENESIS_TIMESTAMP 1700000000ULL
#define GL_ANVIL_DEFAULT_CHAIN_ID 31337ULL
#define GL_ANVIL_START_TIMEOUT_MS_DEFAULT 20000

#define GL_ANVIL_MNEMONIC "test test test test test test test test test test test junk"
#define GL_ANVIL_DEV_ACCOUNTS 10

typedef struct gl_anvil gl_anvil;

typedef struct gl_anvil_opts {
    uint64_t chain_id;             /* 0: GL_ANVIL_DEFAULT_CHAIN_ID */
    uint64_t timestamp;            /* 0: GL_ANVIL_GENESIS_TIMESTAMP */
    const char *const *extra_args; /* NULL-terminated, e.g. {"--no-mining", NULL}; may be NULL */
    int start_timeout_ms;          /* 0: GL_ANVIL_START_TIMEOUT_MS_DEFAULT */
} gl_anvil_opts;

/* Find the anvil binary (see above) and write its path into buf.
 * GL_EIO naming where it looked when there is none, or when
 * $GPULEDGER_ANVIL names something that is not executable. */
gl_code gl_anvil_find_binary(char *buf, size_t cap, gl_err *err);

/* Start a node.  `opts` may be NULL for all defaults.  On success *out is a
 * running node answering eth_chainId == chain_id.  On failure *out is NULL,
 * any child was killed and reaped, and the message says why (binary not
 * found, exited early with the tail of its log, no answer in time, wrong
 * chain id): GL_EIO, GL_EINVAL for bad options, GL_ENOMEM. */
gl_code gl_anvil_start(const gl_anvil_opts *opts, gl_anvil **out /* OUT */, gl_err *err);

/* "http://127.0.0.1:PORT".  Owned by the node. */
const char *gl_anvil_url(const gl_anvil *a);
uint16_t gl_anvil_port(const gl_anvil *a);
uint64_t gl_anvil_chain_id(const gl_anvil *a);
pid_t gl_anvil_pid(const gl_anvil *a);
/* The file anvil's output goes to, while GPULEDGER_KEEP_ANVIL_LOG is set;
 * "" otherwise (the file is already unlinked). */
const char *gl_anvil_log_path(const gl_anvil *a);

/* The last cap-1 bytes of anvil's output so far (stdout and stderr), with
 * control characters as spaces, NUL-terminated; "" if it cannot be read.
 * For failure messages.  cap must be > 0. */
void gl_anvil_log_tail(const gl_anvil *a, char *out, size_t cap);

/* Stop the node (SIGTERM, SIGKILL after 5 s), reap it, remove its log and
 * free.  NULL is a no-op.  Cannot fail. */
void gl_anvil_stop(gl_anvil *a);

/* Dev account i (0 <= i < GL_ANVIL_DEV_ACCOUNTS): its private key as
 * "0x" + 64 hex digits and its address as "0x" + 40 hex digits in EIP-55
 * checksum case.  NULL when i is out of range. */
const char *gl_anvil_dev_key(int i);
const char *gl_anvil_dev_address(int i);

#endif
