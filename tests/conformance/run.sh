#!/usr/bin/env bash
# run.sh - the conformance run (`make conformance-run`):
#
#   bash tests/conformance/run.sh BUILD_DIR VECTORS_DIR
#
# 1. BUILD_DIR/tests/conformance/conformance VECTORS_DIR: every family of
#    public vectors (RLP, trie, transactions, ...), counted vector by vector.
# 2. BUILD_DIR/gpuledger verify block on each recorded mainnet block in
#    VECTORS_DIR/mainnet-rpc (*eth_getBlockByNumber*): must exit 0, from a
#    file and from stdin.
# 3. The same blocks altered one field at a time in a temporary directory
#    (a header field; a transaction's value, r or s; for the block without
#    transactions, the header only): must exit 1, and the report must name
#    what was altered: the failing header-hash check shows the altered value
#    among the fields it hashed, a failing transaction check names the
#    transaction, and (these blocks carry Parity's `raw`) the raw check lists
#    the altered field.  Inputs that are not blocks must exit 2.
#
# Prints one line per failure on stderr, the counts on stdout, and ends with
# "conformance: N passed, N failed"; exits non-zero when anything failed.
# Needs bash and python3 (for editing JSON and reading reports).
set -u

if [ $# -ne 2 ]; then
    echo "usage: bash tests/conformance/run.sh BUILD_DIR VECTORS_DIR" >&2
    exit 2
fi
BUILD=$1
VECTORS=$2
GPULEDGER=$BUILD/gpuledger
CONF=$BUILD/tests/conformance/conformance
passed=0
failed=0

pass() { passed=$((passed + 1)); }
fail() { failed=$((failed + 1)); echo "FAIL $*" >&2; }

if ! command -v python3 >/dev/null 2>&1; then
    echo "conformance: python3 is needed to alter blocks and read reports" >&2
    echo "conformance: 0 passed, 1 failed"
    exit 1
fi
if [ ! -d "$VECTORS" ]; then
    echo "conformance: no vectors directory '$VECTORS'" >&2
    echo "conformance: 0 passed, 1 failed"
    exit 1
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/gpuledger-conformance.XXXXXX") || exit 1
trap 'rm -rf "$TMP"' EXIT

# ------------------------------------------------------------- 1. vectors
if [ -x "$CONF" ]; then
    "$CONF" "$VECTORS" >"$TMP/vectors.out"
    rc=$?
    cat "$TMP/vectors.out"
    line=$(grep -E '^vectors: [0-9]+ passed, [0-9]+ failed' "$TMP/vectors.out" | tail -n 1)
    if [ -n "$line" ]; then
        vp=$(echo "$line" | sed -E 's/^vectors: ([0-9]+) passed, ([0-9]+) failed.*/\1/')
        vf=$(echo "$line" | sed -E 's/^vectors: ([0-9]+) passed, ([0-9]+) failed.*/\2/')
        passed=$((passed + vp))
        failed=$((failed + vf))
        # a family that found no vectors fails the run without failing a vector
        if [ "$rc" -ne 0 ] && [ "$vf" -eq 0 ]; then
            fail "vectors: the runner exited $rc (a family found no vectors?)"
        fi
    else
        fail "vectors: the runner printed no counts (exit $rc)"
    fi
else
    fail "vectors: no runner at $CONF (build it with make conformance)"
fi

# ------------------------------------------------------- 2. mainnet blocks
if [ ! -x "$GPULEDGER" ]; then
    fail "blocks: no gpuledger binary at $GPULEDGER"
    echo "conformance: $passed passed, $failed failed"
    exit 1
fi

blocks=()
for f in "$VECTORS"/mainnet-rpc/*eth_getBlockByNumber*; do
    [ -f "$f" ] && blocks+=("$f")
done
if [ ${#blocks[@]} -eq 0 ]; then
    fail "blocks: no recorded blocks under $VECTORS/mainnet-rpc"
fi

nblock=0
for f in "${blocks[@]}"; do
    name=$(basename "$f" .json)
    "$GPULEDGER" verify block "$f" >"$TMP/report.json" 2>"$TMP/stderr"
    rc=$?
    if [ $rc -eq 0 ]; then pass; else fail "verify block $name: exit $rc: $(cat "$TMP/stderr")"; fi
    "$GPULEDGER" verify block - <"$f" >/dev/null 2>"$TMP/stderr"
    rc=$?
    if [ $rc -eq 0 ]; then pass; else fail "verify block - <$name: exit $rc: $(cat "$TMP/stderr")"; fi
    nblock=$((nblock + 1))
done
echo "blocks: ${#blocks[@]} recorded mainnet blocks verified (file and stdin)"

# ------------------------------------------------------ 3. altered blocks
# alter.py writes the altered copies and a manifest, one case per line:
#   FILE<TAB>KIND<TAB>FIELD<TAB>VALUE
# KIND is header (FIELD altered to VALUE), tx:I (transactions[I].FIELD) or
# input (not a block: exit 2 expected).
cat >"$TMP/alter.py" <<'PY'
import json, os, sys

out_dir, files = sys.argv[1], sys.argv[2:]
manifest = open(os.path.join(out_dir, "manifest.tsv"), "w")

def bump_hex(v):
    """Change the last hex digit (keeps the length, so the value stays well-formed)."""
    last = v[-1].lower()
    return v[:-1] + ("1" if last != "1" else "2")

def write(doc, base, tag):
    path = os.path.join(out_dir, "%s.%s.json" % (base, tag))
    with open(path, "w") as f:
        json.dump(doc, f)
    return path

for src in files:
    base = os.path.basename(src)[:-5]
    doc = json.load(open(src))
    blk = doc.get("result", doc)
    for field in ("stateRoot", "timestamp", "extraData", "parentHash"):
        d = json.loads(json.dumps(doc))
        b = d.get("result", d)
        if field == "timestamp":
            new = hex(int(b[field], 16) + 1)
        elif field == "extraData" and len(b[field]) <= 2:
            new = "0x01"
        else:
            new = bump_hex(b[field])
        b[field] = new
        manifest.write("%s\theader\t%s\t%s\n" % (write(d, base, field), field, new))
    txs = blk.get("transactions", [])
    if txs and isinstance(txs[0], dict):
        i = len(txs) - 1
        for field in ("value", "s", "r"):
            d = json.loads(json.dumps(doc))
            t = d.get("result", d)["transactions"][i]
            new = hex(int(t[field], 16) + 1) if field == "value" else bump_hex(t[field])
            t[field] = new
            manifest.write("%s\ttx:%d\t%s\t%s\n" % (write(d, base, "tx%d.%s" % (i, field)), i, field, new))
    # not blocks: a truncated file, a JSON-RPC error, a malformed transactions list
    path = os.path.join(out_dir, base + ".truncated.json")
    with open(path, "w") as f:
        f.write(open(src).read()[: 200])
    manifest.write("%s\tinput\t-\t-\n" % path)
    d = json.loads(json.dumps(doc))
    d.get("result", d)["transactions"] = "not a list"
    manifest.write("%s\tinput\ttransactions\t-\n" % write(d, base, "badtxs"))
err = {"jsonrpc": "2.0", "id": 1, "error": {"code": -32000, "message": "header not found"}}
manifest.write("%s\tinput\t-\t-\n" % write(err, "rpc", "error"))
PY

cat >"$TMP/check.py" <<'PY'
import json, sys

kind, field, value, report_path = sys.argv[1:5]
try:
    rep = json.load(open(report_path))
except Exception as e:
    print("the report is not JSON: %s" % e)
    sys.exit(1)
bad = [c for c in rep.get("checks", []) if c.get("status") == "mismatch"]
if rep.get("ok") is not False or not bad:
    print("no mismatch reported")
    sys.exit(1)
if kind == "header":
    for c in bad:
        if c.get("field") == "hash" and c.get("header", {}).get(field) == value:
            sys.exit(0)
    print("no failing header-hash check showing %s = %s" % (field, value))
    sys.exit(1)
i = kind.split(":")[1]
names = [c.get("field") for c in bad]
want = "transactions[%s].hash" % i
if want not in names:
    print("%s not among the mismatches %s" % (want, names))
    sys.exit(1)
raw = [c for c in bad if c.get("field") == "transactions[%s].raw" % i]
named = "transactions[%s].%s" % (i, field)
if not raw or named not in raw[0].get("differs", []):
    print("the raw check does not name %s (mismatches: %s)" % (named, names))
    sys.exit(1)
PY

if [ ${#blocks[@]} -gt 0 ]; then
    if python3 "$TMP/alter.py" "$TMP" "${blocks[@]}"; then
        nalt=0
        while IFS=$'\t' read -r file kind field value; do
            nalt=$((nalt + 1))
            what="$(basename "$file") ($kind $field)"
            "$GPULEDGER" verify block "$file" >"$TMP/report.json" 2>"$TMP/stderr"
            rc=$?
            if [ "$kind" = input ]; then
                if [ $rc -eq 2 ] && [ -s "$TMP/stderr" ]; then pass; else fail "$what: exit $rc, expected 2 with a reason"; fi
                continue
            fi
            if [ $rc -ne 1 ]; then
                fail "$what: exit $rc, expected 1: $(head -c 300 "$TMP/stderr")"
                continue
            fi
            if why=$(python3 "$TMP/check.py" "$kind" "$field" "$value" "$TMP/report.json"); then
                pass
            else
                fail "$what: $why"
            fi
        done <"$TMP/manifest.tsv"
        echo "altered: $nalt altered copies and non-blocks checked"
    else
        fail "altered: could not write the altered blocks"
    fi
fi

echo "conformance: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
