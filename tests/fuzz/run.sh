#!/usr/bin/env bash
# tests/fuzz/run.sh BUILD SECONDS [NAME...] - run the libFuzzer targets.
#
# For each target (all of BUILD/tests/fuzz/fuzz_* when no NAME is given):
# first replay its seed corpus tests/fuzz/corpus/NAME/ (every file, one by
# one: the crashes found before, kept as named files, must stay fixed), then
# fuzz for SECONDS from a working copy of it in BUILD/fuzz-corpus/NAME (new
# inputs stay there, outside the repository).  A crash leaves its input in
# BUILD/fuzz-artifacts/NAME/ and fails the run.  Ends with one line,
# "N passed, N failed"; a summary of each run (executions, coverage) is in
# BUILD/fuzz-logs/NAME.log.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
build=$1
secs=$2
shift 2
names=("$@")
if [ ${#names[@]} -eq 0 ]; then
    for f in tests/fuzz/fuzz_*.c; do
        n=${f#tests/fuzz/fuzz_}
        names+=("${n%.c}")
    done
fi
pass=0
fail=0
for n in "${names[@]}"; do
    bin=$build/tests/fuzz/fuzz_$n
    seeds=tests/fuzz/corpus/$n
    work=$build/fuzz-corpus/$n
    art=$build/fuzz-artifacts/$n/
    log=$build/fuzz-logs/$n.log
    mkdir -p "$work" "$art" "$(dirname "$log")"
    if [ ! -x "$bin" ]; then
        echo "fuzz $n: no binary $bin"
        fail=$((fail + 1))
        continue
    fi
    ok=1
    if [ -d "$seeds" ] && [ -n "$(ls -A "$seeds")" ]; then
        if ! nice "$bin" -runs=1 "$seeds"/* >"$log" 2>&1; then
            echo "fuzz $n: the seed corpus fails (see $log)"
            ok=0
        fi
        cp -n "$seeds"/* "$work"/ 2>/dev/null
    fi
    if [ $ok = 1 ]; then
        if nice "$bin" -max_total_time="$secs" -max_len=8192 -timeout=10 -rss_limit_mb=2048 \
            -artifact_prefix="$art" -print_final_stats=1 "$work" >>"$log" 2>&1; then
            execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | tail -1 | grep -o '[0-9]*$')
            cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1)
            echo "fuzz $n: ${execs:-?} runs in ${secs} s, ${cov:-cov ?}, corpus $(ls "$work" | wc -l) inputs"
        else
            echo "fuzz $n: FAILED, input in $art (see $log)"
            grep -m3 -E 'ERROR:|runtime error|deadly signal' "$log" | sed 's/^/    /'
            ok=0
        fi
    fi
    if [ $ok = 1 ]; then pass=$((pass + 1)); else fail=$((fail + 1)); fi
done
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
