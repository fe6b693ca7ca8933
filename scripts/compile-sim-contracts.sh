#!/usr/bin/env bash
# compile-sim-contracts.sh - compile the simulator's own contracts
# (fixtures/sim/*.sol: the bridge and the hub) into fixtures/sim/build/NAME.json,
# with the same pinned solc and settings as scripts/compile-contracts.sh and
# the same artifact shape: {"contract", "source", "solc", "settings", "abi",
# "bytecode", "deployedBytecode"}.
#
#   scripts/compile-sim-contracts.sh          write the artifacts
#   scripts/compile-sim-contracts.sh --check  exit 1 when the committed ones differ
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SRC_DIR="$ROOT/fixtures/sim"
OUT_DIR="$SRC_DIR/build"
SOLC_DIR="$ROOT/tools/node_modules/solc"
CHECK=0
case "${1:-}" in
    --check) CHECK=1 ;;
    "") ;;
    *) echo "compile-sim-contracts: unknown argument '$1'" >&2; exit 2 ;;
esac
command -v node >/dev/null 2>&1 || { echo "compile-sim-contracts: node is not installed (run scripts/setup.sh)" >&2; exit 2; }
[ -f "$SOLC_DIR/soljson.js" ] || { echo "compile-sim-contracts: solc is not installed at $SOLC_DIR (run scripts/setup.sh)" >&2; exit 2; }

DEST="$OUT_DIR"
TMP=""
if [ "$CHECK" = 1 ]; then
    TMP="$(mktemp -d)"
    trap 'rm -rf "$TMP"' EXIT
    DEST="$TMP"
fi
mkdir -p "$DEST"

SOLC_DIR="$SOLC_DIR" SRC_DIR="$SRC_DIR" DEST="$DEST" node - <<'JS'
const fs = require('fs');
const path = require('path');
const solc = require(process.env.SOLC_DIR);
const srcDir = process.env.SRC_DIR, dest = process.env.DEST;
const files = fs.readdirSync(srcDir).filter(f => f.endsWith('.sol')).sort();
const settings = {
    evmVersion: 'cancun',
    optimizer: { enabled: true, runs: 200 },
    outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object', 'evm.deployedBytecode.object'] } },
};
const sources = {};
for (const f of files) sources[f] = { content: fs.readFileSync(path.join(srcDir, f), 'utf8') };
const out = JSON.parse(solc.compile(JSON.stringify({ language: 'Solidity', sources, settings })));
let failed = false;
for (const e of out.errors || []) {
    console.error(e.formattedMessage || e.message);
    if (e.severity === 'error') failed = true;
}
if (failed) process.exit(2);
for (const f of Object.keys(out.contracts || {}).sort()) {
    for (const name of Object.keys(out.contracts[f]).sort()) {
        const c = out.contracts[f][name];
        const art = {
            contract: name, source: f, solc: solc.version(),
            settings: { evmVersion: settings.evmVersion, optimizer: settings.optimizer },
            abi: c.abi,
            bytecode: '0x' + c.evm.bytecode.object,
            deployedBytecode: '0x' + c.evm.deployedBytecode.object,
        };
        fs.writeFileSync(path.join(dest, name + '.json'), JSON.stringify(art, null, 2) + '\n');
    }
}
JS

if [ "$CHECK" = 1 ]; then
    status=0
    for f in "$TMP"/*.json; do
        name="$(basename "$f")"
        if ! cmp -s "$f" "$OUT_DIR/$name" 2>/dev/null; then
            echo "compile-sim-contracts: fixtures/sim/build/$name differs from a fresh compile" >&2
            status=1
        fi
    done
    exit "$status"
fi
echo "compile-sim-contracts: wrote $(ls "$DEST"/*.json | wc -l) artifacts to fixtures/sim/build"
