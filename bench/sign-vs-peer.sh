#!/usr/bin/env bash
# Passes signed per second: Passerelle beside passkit-generator (Node), same pass, one run.
#
# Both sign the loyalty template's pass (its pass.json and its whole image set, lproj
# strings included); Passerelle also prints `openssl speed rsa2048` from the same run.
# Needs node/npm (passkit-generator is installed from npm into a temp folder) and the
# peer scripts in ../shared/bench/peers (PEERS=... to point elsewhere).
# Usage: bench/sign-vs-peer.sh [SECONDS=5] [PEER_PASSES=1000]
set -euo pipefail
SECONDS_PER_RUN="${1:-5}"; PEER_N="${2:-1000}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PEERS="${PEERS:-$ROOT/../shared/bench/peers}"
WORK="$(mktemp -d -t passerelle-bench.XXXXXX)"; trap 'rm -rf "$WORK"' EXIT

cd "$ROOT"
cargo build --release --quiet --features testkit   # `bench` exists only with the test doubles
BIN="$ROOT/target/release/passerelle"

echo "## Passerelle"
PASSERELLE_LOG=error "$BIN" bench sign --template loyalty --seconds "$SECONDS_PER_RUN" | tee "$WORK/ours.txt"

echo "## passkit-generator (same pass.json and images)"
bash "$PEERS/gen-certs.sh" "$WORK/certs" >/dev/null
"$BIN" pass build --template loyalty --data pass-templates/loyalty/example.json -o "$WORK/ours.pkpass" >/dev/null 2>&1
mkdir -p "$WORK/model.pass"
( cd "$WORK/model.pass" && python3 - "$WORK/ours.pkpass" <<'PY'
import json, sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
for name in z.namelist():
    if name in ("manifest.json", "signature"):
        continue
    data = z.read(name)
    if name == "pass.json":
        p = json.loads(data)
        # The peer signs with its own stand-in certificate.
        p["passTypeIdentifier"], p["teamIdentifier"] = "pass.com.example.bench", "ABCDE12345"
        # The peer's script adds its own "points" header field per pass.
        for group in p["storeCard"].values():
            for f in group:
                if f["key"] == "points":
                    f["key"] = "balance"
        data = json.dumps(p).encode()
    import os
    os.makedirs(os.path.dirname(name) or ".", exist_ok=True)
    open(name, "wb").write(data)
PY
)
( cd "$WORK" && npm init -y >/dev/null 2>&1 && npm install --no-audit --no-fund "passkit-generator@${PKG_VERSION:-3.6.1}" >/dev/null 2>&1 )
for key in encrypted plain; do
  KEY=$([ "$key" = plain ] && echo plain || echo enc) \
    bash -c "cd '$WORK' && node '$PEERS/bench-passkit-generator.cjs' '$WORK/certs' '$WORK/model.pass' '$PEER_N' template" \
    | tee "$WORK/peer-$key.json"
done

python3 - "$WORK" <<'PY'
import json, re, sys
w = sys.argv[1]
ours = open(f"{w}/ours.txt").read()
one = float(re.search(r"passes/s, 1 thread:\s+(\d+)", ours).group(1))
for key in ("encrypted", "plain"):
    peer = json.load(open(f"{w}/peer-{key}.json"))["passes_per_s"]
    print(f"ratio, 1 core, vs passkit-generator ({key} key): {one / peer:.0f}x  ({one:.0f} vs {peer:.1f} passes/s)")
PY
