#!/usr/bin/env bash
# run-tests.sh - run cmocka test binaries one by one and count the results.
#
#   bash scripts/run-tests.sh BUILD_DIR TEST_BIN...
#
# Each binary runs in its own process (a crash hides nothing else) with a
# time limit ($GPULEDGER_TEST_TIMEOUT seconds, default 900), its stdout
# shown when it ends and its stderr after that (blank lines dropped).  Tests are counted from cmocka's
# summary lines ("[  PASSED  ] N test(s)." / "[  FAILED  ] N test(s)" /
# "[  SKIPPED ] N test(s)"); a binary that exits non-zero without a failure
# count (crash, sanitizer report, failed group setup, time limit) or prints
# no summary at all counts as one failed test.  The last line is exactly
#
#   N passed, N failed          (", N skipped" added when some were)
#
# and the exit status is non-zero if anything failed or no test ran.
#
# Exported for the tests (an existing value is kept):
#   GPULEDGER_ROOT    the repository root
#   GPULEDGER_BIN     BUILD_DIR/gpuledger, absolute
#   GPULEDGER_ANVIL   tools/node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil
#   GPULEDGER_SOLCJS  tools/node_modules/solc/solc.js (run it with node)
#   CMOCKA_MESSAGE_OUTPUT=stdout, and ASan/UBSan options that make every
#   report fatal.
set -uo pipefail

if [ $# -lt 1 ]; then
    echo "usage: run-tests.sh BUILD_DIR TEST_BIN..." >&2
    exit 2
fi

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD_ARG=${1%/}
BUILD_DIR=$BUILD_ARG
shift
case "$BUILD_DIR" in /*) ;; *) BUILD_DIR=$PWD/$BUILD_DIR ;; esac

export GPULEDGER_ROOT=${GPULEDGER_ROOT:-$ROOT}
export GPULEDGER_BIN=${GPULEDGER_BIN:-$BUILD_DIR/gpuledger}
export GPULEDGER_ANVIL=${GPULEDGER_ANVIL:-$ROOT/tools/node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil}
export GPULEDGER_SOLCJS=${GPULEDGER_SOLCJS:-$ROOT/tools/node_modules/solc/solc.js}
export CMOCKA_MESSAGE_OUTPUT=${CMOCKA_MESSAGE_OUTPUT:-stdout}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:halt_on_error=1:detect_stack_use_after_return=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1:suppressions=$ROOT/tests/tsan.supp}
TIMEOUT=${GPULEDGER_TEST_TIMEOUT:-900}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/gpuledger-tests.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# Sum the N of every "[  LABEL ] N test(s)" in a file (anywhere on a line:
# cmocka's stderr newlines can glue two lines together).
count() {
    grep -o "\[ *$1 *\] [0-9][0-9]* test(s)" "$2" | awk '{ s += $(NF-1) } END { print s + 0 }'
}

total_pass=0 total_fail=0 total_skip=0 bad_bins=()
for bin in "$@"; do
    name=${bin#"$BUILD_ARG"/}
    name=${name#"$BUILD_DIR"/}
    echo "=== $name"
    if [ ! -x "$bin" ]; then
        echo "--- $name: not built or not executable"
        total_fail=$((total_fail + 1))
        bad_bins+=("$name (missing)")
        continue
    fi
    timeout --kill-after=10 "$TIMEOUT" "$bin" >"$tmp/out" 2>"$tmp/err" </dev/null
    rc=$?
    # cmocka 1.1 prints its summary on stderr even with
    # CMOCKA_MESSAGE_OUTPUT=stdout: show both, stdout first, and read both.
    cat "$tmp/out" "$tmp/err" >"$tmp/all"
    grep -v '^[[:space:]]*$' "$tmp/all"
    p=$(count PASSED "$tmp/all")
    f=$(count FAILED "$tmp/all")
    s=$(count SKIPPED "$tmp/all")
    summaries=$(grep -c '\[ *PASSED *\] [0-9]' "$tmp/all")
    why=
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
        case $rc in
            124|137) why="timed out after ${TIMEOUT}s" ;;
            *) why="exited with status $rc without a failed test count" ;;
        esac
        f=1
    elif [ "$summaries" -eq 0 ]; then
        why="printed no cmocka summary"
        f=$((f + 1))
    fi
    if [ -n "$why" ]; then
        echo "--- $name: $why: counted as a failure"
        bad_bins+=("$name ($why)")
    elif [ "$f" -gt 0 ]; then
        bad_bins+=("$name ($f failed)")
    fi
    skipped_note=
    [ "$s" -gt 0 ] && skipped_note=", $s skipped"
    echo "--- $name: $p ok, $f not ok$skipped_note"
    total_pass=$((total_pass + p))
    total_fail=$((total_fail + f))
    total_skip=$((total_skip + s))
done

echo
if [ ${#bad_bins[@]} -gt 0 ]; then
    echo "failing binaries:"
    printf '  %s\n' "${bad_bins[@]}"
fi
if [ $((total_pass + total_fail)) -eq 0 ]; then
    echo "no test ran"
fi
line="$total_pass passed, $total_fail failed"
[ "$total_skip" -gt 0 ] && line="$line, $total_skip skipped"
echo "$line"
[ "$total_fail" -eq 0 ] && [ $((total_pass + total_fail)) -gt 0 ]
