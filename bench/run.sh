#!/usr/bin/env bash
# bench/run.sh BUILD_DIR - runs every benchmark binary and prints its figures.
# The figures worth keeping are copied by hand into bench/RESULTS.md with the
# date and machine; nothing here asserts a speed.
set -euo pipefail
build=${1:?usage: bench/run.sh BUILD_DIR}
echo "gpuledger benchmarks on $(nproc) cores, $(date -u +%F)"
for b in "$build"/bench/bench_*; do
    [ -x "$b" ] || continue
    echo "== $(basename "$b")"
    "$b"
done
