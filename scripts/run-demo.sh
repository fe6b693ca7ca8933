#!/usr/bin/env bash
# run-demo.sh [OUT_DIR] - the main job on the embedded default, end to end:
#   1. installs what is missing and builds (scripts/setup.sh, make);
#   2. starts a local chain (anvil, pinned in tools/) on a free loopback port;
#   3. plays the small GPU-market scenario on it with `gpuledger simulate`,
#      which writes the ground truth and one platform definition per market;
#   4. indexes every market into one RocksDB store with `gpuledger index`
#      (senders recovered, headers recomputed);
#   5. expands the funding trail of the wallets seen (`gpuledger expand`);
#   6. analyzes: entities and proxy flags (`gpuledger analyze`), scored
#      against the simulator's truth (`gpuledger eval`);
#   7. prints what the store holds and what it found, and exports events,
#      transfers, entities and flags.
# Output (default ./demo-out): truth.json, platforms/, store/, events.csv,
# transfers.csv, entities.json, entities.csv, flags.json, flags.csv,
# eval.json, report.html (gpuledger report).  The chain is stopped at the end, whatever happens.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=$(realpath -m "${1:-demo-out}")
cd "$root"

bash scripts/setup.sh
make -s all
bin="$root/build/release/gpuledger"
anvil="$root/tools/node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil"

rm -rf "$out"
mkdir -p "$out"
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
    "$bin" index --platform "$def" --rpc "$url" --db "$out/store" --confirmations 0
done

echo "== expand the funding trail"
"$bin" expand --db "$out/store" --rpc "$url" --confirmations 0 --quiet

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
"$bin" eval --db "$out/store" --truth "$out/truth.json" --json > "$out/eval.json"

echo "== flagged proxy buyers (score, typology, who they buy for)"
python3 - "$out/flags.json" <<'PY'
import json, sys
flags = json.load(open(sys.argv[1]))
for f in sorted(flags, key=lambda f: -f["score"])[:15]:
    print(f"  {f['address']}  score {f['score']:.2f}  {f['typology']:<22} for {f['beneficiary'] or '(unknown)'}"
          f"  [{', '.join(f['families'])}]")
print(f"  {len(flags)} flagged in all; `gpuledger explain ADDR --db store` says why")
PY
echo "== against the simulator's truth"
"$bin" eval --db "$out/store" --truth "$out/truth.json"
echo "== report"
"$bin" report --db "$out/store" --out "$out" > /dev/null
echo "== wrote $out/events.csv ($(($(wc -l < "$out/events.csv") - 1)) events), $out/transfers.csv, $out/entities.{json,csv}, $out/flags.{json,csv}, $out/eval.json, $out/truth.json"
echo "== report: $out/report.html"
