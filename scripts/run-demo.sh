#!/usr/bin/env bash
# run-demo.sh [OUT_DIR] - the main job, end to end.
#
# On the embedded default (no RPC given):
#   1. installs what is missing and builds (scripts/setup.sh, make);
#   2. starts a local chain (anvil, pinned in tools/) on a free loopback port;
#   3. plays the small GPU-market scenario on it with `gpuledger simulate`,
#      which writes the ground truth and one platform definition per market;
#   4. indexes every market into one RocksDB store with `gpuledger index`
#      (senders recovered, headers recomputed);
#   5. expands the funding trail of the wallets seen (`gpuledger expand`);
#   6. analyzes: entities and proxy flags (`gpuledger analyze`), scored
#      against the simulator's truth (`gpuledger eval`);
#   7. writes the outputs and prints what it found.
#
# Against a real chain: RPC=URL[,URL...] PLATFORM=NAME|FILE [FROM=N] [TO=N]
# (make run RPC=... PLATFORM=...): steps 2-3 and the evaluation are left out;
# the platform is indexed from FROM (default: the definition's start block,
# or the store's cursor) to TO (default: the head minus the confirmations),
# then expanded to depth 2 and analyzed.  Costs: see README "The main job
# against a real chain".
#
# Output (default ./demo-out): store/, events.csv, transfers.csv,
# entities.{json,csv}, flags.{json,csv}, volume.{csv,json}, top-flag.gexf
# (the fund-flow graph around the highest-scored flag, for Gephi),
# report.html (gpuledger report; EXPLORER=CHAIN_ID=BASE_URL links its
# evidence to a block explorer), and on
# the local chain truth.json, platforms/, eval.json.  A local chain is
# stopped at the end, whatever happens.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=$(realpath -m "${1:-demo-out}")
cd "$root"

bash scripts/setup.sh
make -s all
bin="$root/build/release/gpuledger"

rm -rf "$out"
mkdir -p "$out"

if [ -n "${RPC:-}" ]; then
    [ -n "${PLATFORM:-}" ] || { echo "run-demo: RPC given without PLATFORM (a built-in name: gpuledger platforms, or a definition file)" >&2; exit 2; }
    range=()
    [ -n "${FROM:-}" ] && range+=(--from "$FROM")
    [ -n "${TO:-}" ] && range+=(--to "$TO")
    echo "== index $PLATFORM (endpoint URLs are never printed with their keys)"
    "$bin" index --platform "$PLATFORM" --rpc "$RPC" --db "$out/store" "${range[@]}"
    echo "== expand the funding trail"
    "$bin" expand --db "$out/store" --rpc "$RPC" --depth 2
else
    anvil="$root/tools/node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil"
    log="$out/anvil.log"
    # --prune-history: anvil otherwise spills old states to ~/.foundry/anvil/tmp.
    "$anvil" --host 127.0.0.1 --port 0 --timestamp 1700000000 --gas-limit 100000000 --prune-history > "$log" 2>&1 &
    anvil_pid=$!
    trap 'kill "$anvil_pid" 2>/dev/null || true; wait "$anvil_pid" 2>/dev/null || true' EXIT
    url=
    for _ in $(seq 1 200); do
        url=$(sed -n 's/^Listening on \(.*\)$/http:\/\/\1/p' "$log" | head -n 1)
        [ -n "$url" ] && break
        kill -0 "$anvil_pid" 2>/dev/null || { cat "$log" >&2; echo "run-demo: anvil exited" >&2; exit 1; }
        sleep 0.1
    done
    [ -n "$url" ] || { echo "run-demo: anvil did not start" >&2; exit 1; }
    echo "== local chain at $url"

    echo "== simulate fixtures/scenarios/small.json (seed 1)"
    "$bin" simulate --rpc "$url" --scenario fixtures/scenarios/small.json --seed 1 \
        --truth "$out/truth.json" --platforms-out "$out/platforms"

    for def in "$out"/platforms/*.json; do
        echo "== index $(basename "$def" .json)"
        "$bin" index --platform "$def" --rpc "$url" --db "$out/store" --confirmations 0 --quiet
    done

    echo "== expand the funding trail"
    "$bin" expand --db "$out/store" --rpc "$url" --confirmations 0 --quiet
fi

echo "== analyze"
"$bin" analyze --db "$out/store" --quiet

echo "== db stats"
"$bin" db stats --db "$out/store"
"$bin" export events --db "$out/store" --format csv --out "$out/events.csv"
"$bin" export transfers --db "$out/store" --format csv --out "$out/transfers.csv"
"$bin" entities --db "$out/store" --format json > "$out/entities.json"
"$bin" entities --db "$out/store" --format csv > "$out/entities.csv"
"$bin" flags --db "$out/store" --format json > "$out/flags.json"
"$bin" flags --db "$out/store" --format csv > "$out/flags.csv"
"$bin" volume --db "$out/store" --by platform,day --format csv > "$out/volume.csv"
"$bin" volume --db "$out/store" --by platform,day --format json > "$out/volume.json"
top=$(python3 -c "import json,sys; f=json.load(open(sys.argv[1])); print(max(f, key=lambda x: x['score'])['address'] if f else '')" "$out/flags.json")
if [ -n "$top" ]; then
    "$bin" trace "$top" --db "$out/store" --direction both --hops 2 --format gexf --out "$out/top-flag.gexf" 2>/dev/null || true
fi

echo "== volume per platform, gross and net of self-dealing and circular flows (whole tokens)"
"$bin" volume --db "$out/store" --by platform --format csv 2>/dev/null |
    python3 -c "
import csv, sys
for r in csv.DictReader(sys.stdin):
    print(f\"  {r['platform']:<24} {r['token']:<5} gross {r['gross']:>28}  net {r['net']:>28}  leases {r['leases']}\")"

echo "== flagged proxy buyers (score, typology, who they buy for)"
python3 - "$out/flags.json" <<'PY'
import json, sys
flags = json.load(open(sys.argv[1]))
for f in sorted(flags, key=lambda f: -f["score"])[:15]:
    print(f"  {f['address']}  score {f['score']:.2f}  {f['typology']:<22} for {f['beneficiary'] or '(unknown)'}"
          f"  [{', '.join(f['families'])}]")
print(f"  {len(flags)} flagged in all; `gpuledger explain ADDR --db store` says why")
PY
if [ -f "$out/truth.json" ]; then
    "$bin" eval --db "$out/store" --truth "$out/truth.json" --json > "$out/eval.json"
    echo "== against the simulator's truth"
    "$bin" eval --db "$out/store" --truth "$out/truth.json"
fi
"$bin" report --db "$out/store" --out "$out" ${EXPLORER:+--explorer "$EXPLORER"} > /dev/null
echo "== wrote $out: events.csv ($(($(wc -l < "$out/events.csv") - 1)) events), transfers.csv, entities.{json,csv}, flags.{json,csv}, volume.{csv,json}, top-flag.gexf$( [ -f "$out/truth.json" ] && echo ', eval.json, truth.json')"
echo "== report: $out/report.html (one self-contained page: open it in any browser)"
