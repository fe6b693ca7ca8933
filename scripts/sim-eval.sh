#!/usr/bin/env bash
# sim-eval.sh SCENARIO SEED OUT_DIR - the analyzer measured on a simulated market:
# starts a fresh anvil, plays SCENARIO with SEED (`gpuledger simulate`, truth
# in OUT_DIR/truth.json), indexes every market, expands the funding trail,
# analyzes, and writes `gpuledger eval --json` to OUT_DIR/eval.json (and the
# text summary to stdout).  Needs a built binary ($GPULEDGER_BIN, default
# build/release/gpuledger) and anvil ($GPULEDGER_ANVIL, default the pinned one).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
scenario=$1 seed=$2 out=$(realpath -m "$3")
bin=${GPULEDGER_BIN:-$root/build/release/gpuledger}
anvil=${GPULEDGER_ANVIL:-$root/tools/node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil}
rm -rf "$out"
mkdir -p "$out"
"$anvil" --host 127.0.0.1 --port 0 --timestamp 1700000000 --gas-limit 100000000 --prune-history \
    > "$out/anvil.log" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true' EXIT
url=
for _ in $(seq 1 300); do
    url=$(sed -n 's/^Listening on \(.*\)$/http:\/\/\1/p' "$out/anvil.log" | head -n 1)
    [ -n "$url" ] && break
    kill -0 "$pid" 2>/dev/null || { cat "$out/anvil.log" >&2; exit 1; }
    sleep 0.1
done
[ -n "$url" ] || { echo "sim-eval: anvil did not start" >&2; exit 1; }
"$bin" simulate --rpc "$url" --scenario "$scenario" --seed "$seed" --truth "$out/truth.json" \
    --platforms-out "$out/platforms" --quiet > "$out/simulate.json"
for def in "$out"/platforms/*.json; do
    "$bin" index --platform "$def" --rpc "$url" --db "$out/store" --confirmations 0 --quiet > /dev/null
done
"$bin" expand --db "$out/store" --rpc "$url" --confirmations 0 --depth "${EXPAND_DEPTH:-3}" --quiet > "$out/expand.txt"
"$bin" analyze --db "$out/store" --quiet > "$out/analyze.txt"
"$bin" eval --db "$out/store" --truth "$out/truth.json" --json > "$out/eval.json"
"$bin" eval --db "$out/store" --truth "$out/truth.json"
