#!/usr/bin/env bash
# compile-contracts.sh - compile every fixtures/contracts/*.sol with the
# pinned solc (npm package "solc", installed into tools/node_modules by
# scripts/setup.sh) into fixtures/contracts/build/CONTRACT.json, one file per
# contract defined in those sources:
#   {"contract", "source", "solc", "settings", "abi", "bytecode", "deployedBytecode"}
#
# The output is deterministic (fixed settings, sources named by file name,
# sorted keys where order is ours), so the artifacts are committed and
#   scripts/compile-contracts.sh --check
# recompiles into a temporary directory and fails (exit 1, with a diff
# summary) when the committed artifacts differ from a fresh compile or when
# one is missing or stale.  Exit 2: solc or node missing, or a compile error.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SRC_DIR="$ROOT/fixtures/contracts"
OUT_DIR="$SRC_DIR/build"
SOLC_DIR="$ROOT/tools/node_modules/solc"
CHECK=0

case "${1:-}" in
    --check) CHECK=1 ;;
    "") ;;
    -h|--help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "compile-contracts: unknown argument '$1'" >&2; exit 2 ;;
esac

if ! command -v node >/dev/null 2>&1; then
    echo "compile-contracts: node is not installed (run scripts/setup.sh)" >&2
    exit 2
fi
if [ ! -f "$SOLC_DIR/soljson.js" ]; then
    echo "compile-contracts: solc is not installed at $SOLC_DIR (run scripts/setup.sh)" >&2
    exit 2
fi

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
if (files.length === 0) {
    console.error('compile-contracts: no .sol files in ' + srcDir);
    process.exit(2);
}
// Fixed settings: an EVM version every supported anvil runs, the optimizer
// on, and the metadata hash kept (it is deterministic for fixed sources).
const settings = {
    evmVersion: 'cancun',
    optimizer: { enabled: true, runs: 200 },
    outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object', 'evm.deployedBytecode.object'] } },
};
const sources = {};
for (const f of files)
    sources[f] = { content: fs.readFileSync(path.join(srcDir, f), 'utf8') };
function findImports(p) {
    const full = path.join(srcDir, p);
    if (!full.startsWith(srcDir + path.sep) || !fs.existsSync(full))
        return { error: 'import not found under fixtures/contracts: ' + p };
    return { contents: fs.readFileSync(full, 'utf8') };
}
const out = JSON.parse(solc.compile(JSON.stringify({ language: 'Solidity', sources, settings }),
                                    { import: findImports }));
let failed = false;
for (const e of out.errors || []) {
    console.error(e.formattedMessage || e.message);
    if (e.severity === 'error') failed = true;
}
if (failed) process.exit(2);

const version = solc.version();
const seen = {};
for (const f of Object.keys(out.contracts || {}).sort()) {
    if (!files.includes(f)) continue; // imported from elsewhere
    for (const name of Object.keys(out.contracts[f]).sort()) {
        if (seen[name]) {
            console.error(`compile-contracts: contract ${name} is defined in ${seen[name]} and ${f}`);
            process.exit(2);
        }
        seen[name] = f;
        const c = out.contracts[f][name];
        const art = {
            contract: name,
            source: f,
            solc: version,
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
        if [ ! -f "$OUT_DIR/$name" ]; then
            echo "compile-contracts: fixtures/contracts/build/$name is missing (run scripts/compile-contracts.sh)" >&2
            status=1
        elif ! cmp -s "$f" "$OUT_DIR/$name"; then
            echo "compile-contracts: fixtures/contracts/build/$name differs from a fresh compile (run scripts/compile-contracts.sh)" >&2
            status=1
        fi
    done
    for f in "$OUT_DIR"/*.json; do
        [ -e "$f" ] || continue
        name="$(basename "$f")"
        if [ ! -f "$TMP/$name" ]; then
            echo "compile-contracts: fixtures/contracts/build/$name is stale: no source defines it" >&2
            status=1
        fi
    done
    [ "$status" = 0 ] && echo "compile-contracts: artifacts match a fresh compile ($(ls "$TMP" | wc -l) contracts)"
    exit "$status"
fi
echo "compile-contracts: wrote $(ls "$DEST"/*.json | wc -l) artifacts to fixtures/contracts/build"
