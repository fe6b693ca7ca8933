#!/usr/bin/env bash
# bench/run.sh BUILD_DIR - runs every benchmark binary and prints its figures.
# The figures worth keeping are copied by hand into bench/RESULTS.md with the
# date and machine; nothing here asserts a speed.
set -euo pipefail
build=${1:?usage: bench/run.sh BUILD_DIR}
echo "gpuledger benchmarks on $(nproc) cores, $(date -u +%F)"
# bench_analyze times networkx beside the analyzer's components: Debian's
# python3-networkx, installed here when missing (scripts/setup.sh installs it for test_trace too).  BENCH_NX=0
# skips the comparison.
if [ "${BENCH_NX:-1}" != 0 ] && ! python3 -c 'import networkx' 2>/dev/null; then
    echo "installing Debian's python3-networkx for bench_analyze"
    if [ "$(id -u)" = 0 ]; then
        apt-get install -y python3-networkx
    else
        sudo apt-get install -y python3-networkx
    fi
fi
for b in "$build"/bench/bench_*; do
    [ -x "$b" ] || continue
    echo "== $(basename "$b")"
    "$b"
done
