#!/usr/bin/env bash
# setup.sh - install what gpuledger's build and tests need, and nothing else.
#
#   bash scripts/setup.sh
#
# 1. Debian packages (compiler, pkg-config, libsecp256k1, libcurl, jansson, yajl, libyaml, libxml2,
#    RocksDB, cmocka, nettle; graphviz, whose `dot` test_trace renders DOT with; python3-networkx, with
#    which test_trace reads its GEXF and GraphML back; chromium, in which
#    test_report renders the HTML report headless; Node.js and
#    npm if there is no npm): checked with dpkg-query; `apt-get update` and `apt-get install` run only when
#    something is missing.  Needs root (or sudo) only then.
# 2. Pinned test tools from the npm registry into tools/node_modules (never
#    system-wide): anvil (@foundry-rs/anvil-linux-amd64, its binary at
#    bin/anvil) and solcjs (solc), at the exact versions in
#    tools/package.json and tools/package-lock.json, with `npm ci`.  A stamp
#    file records the hash of those two files, so a second run is a no-op.
#
# Idempotent; everything it does is said on stderr.  Exits non-zero with the
# reason when something cannot be installed or does not run afterwards.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TOOLS=$ROOT/tools
NM=$TOOLS/node_modules
ANVIL=$NM/@foundry-rs/anvil-linux-amd64/bin/anvil
SOLCJS=$NM/solc/solc.js
STAMP=$NM/.gpuledger-setup.stamp

log() { printf 'setup: %s\n' "$*" >&2; }
die() { printf 'setup: error: %s\n' "$*" >&2; exit 1; }

# ---------------------------------------------------------------- Debian
DEB_PKGS=(build-essential pkg-config libsecp256k1-dev libcurl4-openssl-dev libjansson-dev libyajl-dev
          librocksdb-dev libcmocka-dev nettle-dev libyaml-dev libxml2-dev python3 graphviz python3-networkx
          chromium clang libclang-rt-14-dev)  # chromium: tests only (test_report renders the report headless); clang: make fuzz

deb_installed() {
    [ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null)" = installed ]
}

missing=()
for p in "${DEB_PKGS[@]}"; do
    deb_installed "$p" || missing+=("$p")
done
if ! command -v npm >/dev/null 2>&1 || ! command -v node >/dev/null 2>&1; then
    missing+=(nodejs npm)
fi

if [ ${#missing[@]} -gt 0 ]; then
    SUDO=
    if [ "$(id -u)" -ne 0 ]; then
        command -v sudo >/dev/null 2>&1 || die "missing Debian packages (${missing[*]}) and not root: install them or run as root"
        SUDO=sudo
    fi
    log "missing Debian packages: ${missing[*]}"
    log "running apt-get update"
    $SUDO apt-get update -qq >&2
    log "running apt-get install ${missing[*]}"
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
else
    log "Debian packages present (${#DEB_PKGS[@]} checked)"
fi

# ---------------------------------------------------------------- npm tools
[ -f "$TOOLS/package.json" ] && [ -f "$TOOLS/package-lock.json" ] ||
    die "tools/package.json or tools/package-lock.json is missing"

want=$(cat "$TOOLS/package.json" "$TOOLS/package-lock.json" | sha256sum | cut -d' ' -f1)
pinned() { # pinned NAME: the exact version tools/package.json asks for
    sed -n "s/^ *\"$1\": *\"\\([^\"]*\\)\".*/\\1/p" "$TOOLS/package.json" | head -n1
}
ANVIL_VERSION=$(pinned '@foundry-rs\/anvil-linux-amd64')
SOLC_VERSION=$(pinned solc)
[ -n "$ANVIL_VERSION" ] && [ -n "$SOLC_VERSION" ] || die "cannot read pinned versions from tools/package.json"

anvil_ok() {
    [ -x "$ANVIL" ] && "$ANVIL" --version 2>/dev/null | head -n1 | grep -qF "Version: $ANVIL_VERSION"
}

if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want" ] && anvil_ok && [ -f "$SOLCJS" ]; then
    log "tools up to date in tools/node_modules (anvil $ANVIL_VERSION, solc $SOLC_VERSION)"
    exit 0
fi

log "installing pinned tools into tools/node_modules: npm ci (anvil $ANVIL_VERSION, solc $SOLC_VERSION)"
rm -f "$STAMP"
# --ignore-scripts: nothing here needs an install script (the anvil binary
# ships inside its package), and none should run.
npm ci --prefix "$TOOLS" --ignore-scripts --no-audit --no-fund --loglevel=error >&2 ||
    die "npm ci in tools/ failed"

[ -f "$ANVIL" ] || die "the anvil package has no binary at $ANVIL"
if [ ! -x "$ANVIL" ]; then
    log "making $ANVIL executable"
    chmod +x "$ANVIL"
fi
anvil_ok || die "$ANVIL does not run or is not version $ANVIL_VERSION: $("$ANVIL" --version 2>&1 | head -n1)"
log "anvil: $("$ANVIL" --version | head -n1)"

solc_v=$(node "$SOLCJS" --version 2>&1) || die "solcjs does not run: $solc_v"
case "$solc_v" in
    "$SOLC_VERSION"+*) log "solc: $solc_v" ;;
    *) die "solcjs reports '$solc_v', expected $SOLC_VERSION" ;;
esac

echo "$want" >"$STAMP"
log "tools installed"
