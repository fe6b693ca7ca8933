#!/usr/bin/env bash
# drill-kill.sh {index|expand|analyze|recover} [N] [SEED] - kill -9 a gpuledger
# command at N random moments (default 100) and check that every time the
# store opens and, once the command is run again to its end, the exports
# equal those of a clean, uninterrupted run byte for byte.
#
# Set-up (as scripts/sim-eval.sh): a fresh anvil, a simulated market
# ($DRILL_SCENARIO, default fixtures/scenarios/small.json, seed 1), then
#   index    nothing: `index` of every platform, in turn, into a new store
#   expand   the indexed store: `expand --depth 3 --batch 2`
#   analyze  the indexed and expanded store: `analyze`
#   recover  the indexed store with bytes flipped in the middle of its
#            write-ahead log (the last index run's batches are all still in
#            the log: RocksDB flushes at a reopen, not at close): `db recover`
# The clean run of the command on a copy of that store is the oracle and
# measures the run; kill i starts the command on a fresh copy, sleeps a
# moment drawn uniformly over the clean run's duration (a seeded generator:
# SEED repeats the moments; default the time), sends SIGKILL to the run's
# process group, and checks:
#   1. the store opens read-only (`db stats` exit 0); for index a store
#      whose creation was cut short, or not begun, is also accepted; `db
#      check`'s verdict is printed (INCOMPLETE is a state a kill may leave
#      and the next read-write open finishes, DAMAGED is a failure);
#   2. analyze: `flags` shows no analysis (exit 2) or exactly the clean one;
#      recover: the store is either untouched (every file byte for byte but
#      RocksDB's info LOG) or reads exactly as the clean recovery;
#   3. the command run again to its end (exit 0), and then the exports equal
#      the clean run's: `export events` and `export transfers` (JSONL, with
#      their exit status: a recovered store exports with 1), `db stats
#      --json` record counts, the trail's state file (trail-CHAIN.json),
#      `flags --all` and `entities`, and `db check`'s verdict.
# One line per kill, a summary at the end (kills that landed, the moments
# they covered in tenths of the clean run, mismatches, time taken); exit 1
# on any mismatch, 2 on a set-up failure.
#
# Environment: GPULEDGER_BIN (default build/release/gpuledger), GPULEDGER_ANVIL
# (default the pinned one), DRILL_SCENARIO, DRILL_DIR (work directory, default
# a new one under /tmp, removed at the end unless DRILL_KEEP=1).
set -uo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
mode=${1:-}
n=${2:-100}
seed=${3:-$(date +%s)}
case "$mode" in index | expand | analyze | recover) ;; *)
    echo "usage: drill-kill.sh {index|expand|analyze|recover} [N] [SEED]" >&2
    exit 2
    ;;
esac
case "$n$seed" in *[!0-9]*)
    echo "drill-kill: N and SEED are numbers" >&2
    exit 2
    ;;
esac
bin=${GPULEDGER_BIN:-$root/build/release/gpuledger}
anvil=${GPULEDGER_ANVIL:-$root/tools/node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil}
scenario=${DRILL_SCENARIO:-$root/fixtures/scenarios/small.json}
work=${DRILL_DIR:-}
[ -n "$work" ] || work=$(mktemp -d "${TMPDIR:-/tmp}/gpuledger-drill.XXXXXX")
mkdir -p "$work"
work=$(cd "$work" && pwd)

anvil_pid=
run_pid=
cleanup() {
    [ -n "$run_pid" ] && kill -9 -- "-$run_pid" 2>/dev/null
    [ -n "$anvil_pid" ] && kill "$anvil_pid" 2>/dev/null && wait "$anvil_pid" 2>/dev/null
    [ "${DRILL_KEEP:-0}" = 1 ] || rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 143' TERM INT
die() {
    echo "drill-kill: $*" >&2
    exit 2
}
# Microseconds, without a fork (a loaded machine delays every fork).
now_us() {
    local t=${EPOCHREALTIME/[.,]/}
    echo $((10#$t))
}
now_ms() { echo $(($(now_us) / 1000)); }

# ------------------------------------------------------------------ set-up

t_start=$(now_ms)
"$anvil" --host 127.0.0.1 --port 0 --timestamp 1700000000 --gas-limit 100000000 --prune-history \
    >"$work/anvil.log" 2>&1 &
anvil_pid=$!
url=
for _ in $(seq 1 300); do
    url=$(sed -n 's/^Listening on \(.*\)$/http:\/\/\1/p' "$work/anvil.log" | head -n 1)
    [ -n "$url" ] && break
    kill -0 "$anvil_pid" 2>/dev/null || die "anvil did not start: $(cat "$work/anvil.log")"
    sleep 0.1
done
[ -n "$url" ] || die "anvil did not start"
"$bin" simulate --rpc "$url" --scenario "$scenario" --seed 1 --truth "$work/truth.json" \
    --platforms-out "$work/platforms" --quiet >"$work/simulate.json" 2>"$work/simulate.err" ||
    die "simulate failed: $(cat "$work/simulate.err")"
defs=("$work"/platforms/*.json)
[ -e "${defs[0]}" ] || die "simulate wrote no platform definitions"

# The command the drill kills, on store $1, as one shell line (run in its own
# process group, so that SIGKILL reaches the gpuledger process of the moment).
# Small batches make many commits for the kills to land between.
cmd_line() {
    local s=$1 line=
    case "$mode" in
    index)
        for def in "${defs[@]}"; do
            line+="'$bin' index --platform '$def' --rpc '$url' --db '$s' --confirmations 0 --quiet"
            line+=" --batch-logs 7 --block-chunk 3 --request-logs 50 --initial-span 12 >/dev/null && "
        done
        line+="true"
        ;;
    expand) line="'$bin' expand --db '$s' --rpc '$url' --confirmations 0 --depth 3 --batch 2 --quiet >/dev/null" ;;
    analyze) line="'$bin' analyze --db '$s' --quiet >/dev/null" ;;
    recover) line="'$bin' db recover --db '$s' >/dev/null" ;;
    esac
    printf '%s' "$line"
}

index_all() { # store: every platform, default options
    for def in "${defs[@]}"; do
        "$bin" index --platform "$def" --rpc "$url" --db "$1" --confirmations 0 --quiet >/dev/null 2>>"$work/setup.err" ||
            return 1
    done
}

base=$work/base
case "$mode" in
index) ;;
expand) index_all "$base" || die "index failed: $(cat "$work/setup.err")" ;;
analyze)
    index_all "$base" || die "index failed: $(cat "$work/setup.err")"
    "$bin" expand --db "$base" --rpc "$url" --confirmations 0 --depth 3 --quiet >/dev/null 2>>"$work/setup.err" ||
        die "expand failed: $(cat "$work/setup.err")"
    ;;
recover)
    index_all "$base" || die "index failed: $(cat "$work/setup.err")"
    wal=$(ls -S "$base"/*.log 2>/dev/null | head -n 1)
    [ -n "$wal" ] || die "the indexed store has no write-ahead log"
    size=$(stat -c %s "$wal")
    [ "$size" -gt 4096 ] || die "the write-ahead log holds $size bytes: too little to damage in the middle"
    # one byte flipped in the middle: a damaged record before the end
    off=$((size / 2))
    b=$(od -An -tu1 -j "$off" -N1 "$wal" | tr -d ' ')
    printf "$(printf '\\%03o' $((b ^ 0x5a)))" | dd of="$wal" bs=1 seek="$off" conv=notrunc status=none
    "$bin" db check --db "$base" >"$work/damaged-check.txt" 2>&1
    grep -q DAMAGED "$work/damaged-check.txt" || die "the flipped log is not seen as damaged: $(cat "$work/damaged-check.txt")"
    ;;
esac

fresh() { # a copy of the base store at $1 (for index: no store)
    rm -rf "$1" "$1.gpuledger-recover-tmp"
    [ "$mode" = index ] || cp -a "$base" "$1"
}

# Every file of store $1 but RocksDB's info log, with its bytes' hash.
files_digest() {
    (cd "$1" && find . -type f ! -name 'LOG' ! -name 'LOG.old.*' -print0 | sort -z | xargs -0r sha256sum)
}

# What is compared with the clean run, into directory $2, from store $1.
snapshot() {
    local s=$1 o=$2
    rm -rf "$o"
    mkdir -p "$o"
    for kind in events transfers; do
        "$bin" export "$kind" --db "$s" --format jsonl --out "$o/$kind.jsonl" >/dev/null 2>&1
        echo "exit $?" >"$o/$kind.status"
    done
    # one key a line: the store's path, table bytes and the recovery's time
    # and log directory left out (they differ between two equal stores)
    "$bin" db stats --db "$s" --json 2>/dev/null |
        grep -v -E '^[[:space:]]*"(store|sst_bytes|at|kept_log)":' >"$o/stats.json"
    "$bin" db check --db "$s" >"$o/check.raw" 2>&1
    echo "exit $? $(grep -o -m1 'healthy\|INCOMPLETE\|DAMAGED' "$o/check.raw")" >"$o/check.verdict"
    rm -f "$o/check.raw"
    for f in "$s"/trail-*.json; do [ -e "$f" ] && cp "$f" "$o/"; done
    if [ "$mode" = analyze ]; then
        "$bin" flags --db "$s" --all --format json >"$o/flags.json" 2>/dev/null
        echo "exit $?" >>"$o/flags.json"
        "$bin" entities --db "$s" --format csv >"$o/entities.csv" 2>/dev/null
        echo "exit $?" >>"$o/entities.csv"
    fi
}

# ------------------------------------------------------------- the oracle

# The run's duration: the shortest of three clean runs (a loaded machine
# only ever makes a run longer, and a moment past a run's end is a kill
# lost); the last run is the oracle.
ref=$work/ref
times=()
for _ in 1 2 3; do
    fresh "$ref"
    t0=$(now_ms)
    bash -c "$(cmd_line "$ref")" 2>"$work/clean.err" || die "clean run failed: $(cat "$work/clean.err")"
    times+=($(($(now_ms) - t0)))
done
clean_ms=$(printf '%s\n' "${times[@]}" | sort -n | head -n 1)
[ "$clean_ms" -ge 1 ] || clean_ms=1
snapshot "$ref" "$work/ref.out"
if [ "$mode" = recover ]; then
    grep -q INCOMPLETE "$work/ref.out/check.verdict" || die "the clean recovery is not INCOMPLETE: $(cat "$work/ref.out/check.verdict")"
    fresh "$work/untouched"
    files_digest "$work/untouched" >"$work/untouched.sha"
fi
if [ "$mode" = analyze ]; then
    head -c 2 "$work/ref.out/flags.json" | grep -q . || die "the clean analysis has no flags"
fi
echo "drill-kill $mode: seed $seed, $n kills, clean run ${clean_ms} ms (shortest of ${times[*]}) ($(basename "$scenario"), $bin)"

# --------------------------------------------------------------- the kills

RANDOM=$seed
mismatches=0 landed=0 finished=0
declare -a tenth=(0 0 0 0 0 0 0 0 0 0)
verdicts=
for i in $(seq 1 "$n"); do
    s=$work/killed
    fresh "$s"
    # a moment in [0, clean run): 30 bits of the seeded generator
    r=$(((RANDOM << 15) | RANDOM))
    d_us=$((clean_ms * 1000 * r / 1073741824))
    t0=$(now_us)
    setsid bash -c "$(cmd_line "$s")" 2>"$work/run.err" &
    run_pid=$!
    printf -v dur '%d.%06d' $((d_us / 1000000)) $((d_us % 1000000))
    sleep "$dur"
    kill -9 -- "-$run_pid" 2>/dev/null
    # the moment the kill was sent: later than drawn when the machine is busy
    # (no command substitution here: a subshell would reap the killed job
    # and bash would print "Killed")
    t=${EPOCHREALTIME/[.,]/}
    at_us=$((10#$t - t0))
    { wait "$run_pid"; } 2>/dev/null # without bash's "Killed" line
    st=$?
    run_pid=
    what="killed"
    if [ "$st" -eq 0 ]; then
        what="finished first"
        finished=$((finished + 1))
    elif [ "$st" -ne 137 ]; then
        echo "kill $i: the run exited $st before its kill: $(cat "$work/run.err")"
        mismatches=$((mismatches + 1))
        continue
    else
        landed=$((landed + 1))
        t=$((at_us * 10 / (clean_ms * 1000)))
        [ "$t" -le 9 ] || t=9
        tenth[t]=$((tenth[t] + 1))
    fi
    bad=
    # 1. the store opens
    opened="opens"
    if [ "$mode" = index ] && { [ ! -d "$s" ] || [ -z "$(ls -A "$s")" ]; }; then
        opened="no store yet"
    elif ! "$bin" db stats --db "$s" >"$work/stats.txt" 2>&1; then
        if [ "$mode" = index ] && grep -q "interrupted" "$work/stats.txt"; then
            opened="creation cut short"
        elif [ "$mode" = recover ] && grep -q "write-ahead log is corrupt" "$work/stats.txt"; then
            opened="refused as damaged"
        else
            opened="DOES NOT OPEN"
            bad="$bad; the store does not open: $(head -c 300 "$work/stats.txt")"
        fi
    fi
    verdict=-
    if [ -d "$s" ] && [ -n "$(ls -A "$s")" ]; then
        "$bin" db check --db "$s" >"$work/check.txt" 2>&1
        verdict=$(grep -o -m1 'healthy\|INCOMPLETE\|DAMAGED\|interrupted' "$work/check.txt")
        verdict=${verdict:-"exit $?"}
        case "$verdict" in DAMAGED) [ "$mode" = recover ] && [ "$opened" = "refused as damaged" ] ||
            bad="$bad; db check: DAMAGED" ;;
        esac
    fi
    case " $verdicts " in *" $verdict "*) ;; *) verdicts="$verdicts $verdict" ;; esac
    # 2. what a kill may leave
    if [ "$mode" = analyze ]; then
        "$bin" flags --db "$s" --all --format json >"$work/flags.json" 2>/dev/null
        fst=$?
        if [ "$fst" -eq 2 ] && [ ! -s "$work/flags.json" ]; then
            opened="$opened, no analysis"
        else
            echo "exit $fst" >>"$work/flags.json"
            if cmp -s "$work/flags.json" "$work/ref.out/flags.json"; then
                opened="$opened, the whole analysis"
            else
                bad="$bad; flags after the kill are neither none nor the clean run's"
            fi
        fi
    fi
    if [ "$mode" = recover ]; then
        if files_digest "$s" | cmp -s - "$work/untouched.sha"; then
            opened="$opened, untouched"
        else
            snapshot "$s" "$work/mid.out"
            if diff -r "$work/mid.out" "$work/ref.out" >"$work/diff.txt"; then
                opened="$opened, recovered"
            else
                bad="$bad; neither untouched nor recovered: $(head -c 600 "$work/diff.txt")"
            fi
        fi
    fi
    # 3. resume to the end, compare with the clean run
    if ! bash -c "$(cmd_line "$s")" 2>"$work/resume.err"; then
        bad="$bad; the run again failed: $(head -c 300 "$work/resume.err")"
    else
        snapshot "$s" "$work/got.out"
        # recover works in a copy beside the store: none may be left over
        [ -e "$s.gpuledger-recover-tmp" ] && bad="$bad; the run again left $s.gpuledger-recover-tmp behind"
        diff -r "$work/got.out" "$work/ref.out" >"$work/diff.txt" ||
            bad="$bad; after the run again, differs from the clean run: $(head -c 600 "$work/diff.txt")"
    fi
    pct=$((at_us * 100 / (clean_ms * 1000)))
    if [ -n "$bad" ]; then
        mismatches=$((mismatches + 1))
        echo "kill $i/$n at $((at_us / 1000)) ms ($pct%; drawn $((d_us / 1000))): $what, $opened, db check $verdict: MISMATCH${bad}"
        [ "${DRILL_KEEP:-0}" = 1 ] && cp -a "$s" "$work/mismatch-$i"
    else
        echo "kill $i/$n at $((at_us / 1000)) ms ($pct%; drawn $((d_us / 1000))): $what, $opened, db check $verdict; run again: equal to the clean run"
    fi
done

elapsed=$((($(now_ms) - t_start) / 1000))
echo "summary: $mode, seed $seed: $n kills, $landed landed before the run ended ($finished runs finished first);"
echo "  moments the kills landed at (tenths of the clean run's ${clean_ms} ms; the last counts later ones too): ${tenth[*]}"
echo "  db check verdicts after a kill:$verdicts"
echo "  $mismatches mismatches; $elapsed s in all"
[ "$mismatches" -eq 0 ]
