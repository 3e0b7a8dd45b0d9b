#!/usr/bin/env bash
# Load test of the PassKit web service over real HTTP on loopback, with wrk (Debian's `wrk`).
# Seeds 10,000 passes and 50,000 registrations, starts `passerelle serve` on that database,
# and prints requests/s and latency percentiles for the 304 path and the serial list.
# Usage: bench/web-service.sh [DATABASE_URL=sqlite://<tmp>/bench.db] [SECONDS=10] [CONNECTIONS=32]
# A postgres:// URL must name an empty database (or schema via ?options=-c%20search_path%3D...).
# BIN=path/to/passerelle runs that binary (built with `--features testkit`) instead of building one,
# to compare two builds in one sitting.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
WORK="$(mktemp -d -t passerelle-web.XXXXXX)"
DB="${1:-sqlite://$WORK/bench.db}"; SECS="${2:-10}"; CONNS="${3:-32}"
PORT="${PORT:-18080}"
command -v wrk >/dev/null || { echo "needs wrk: apt-get install wrk" >&2; exit 1; }
cd "$ROOT"
if [ -z "${BIN:-}" ]; then
  cargo build --release --quiet --features testkit   # `bench` exists only with the test doubles
  BIN="$ROOT/target/release/passerelle"
fi
export PASSERELLE_DATABASE_URL="$DB" PASSERELLE_LOG=warn

"$BIN" bench seed-web --targets "$WORK/targets.txt"
PASSERELLE_LISTEN="127.0.0.1:$PORT" "$BIN" serve 2>"$WORK/server.log" &
SERVER=$!
trap 'kill $SERVER 2>/dev/null; rm -rf "$WORK"' EXIT
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.2; done

SINCE="$(date -u -d '+1 minute' '+%a, %d %b %Y %H:%M:%S GMT')"
for mode in 304 list; do
  echo "## $mode ($CONNS connections, ${SECS}s, server and wrk share the machine's $(nproc) cores)"
  MODE=$mode SINCE="$SINCE" TARGETS="$WORK/targets.txt" \
    /usr/bin/time -f "wrk cpu: %U user + %S sys s" \
    wrk -t1 -c"$CONNS" -d"${SECS}s" --latency -s bench/wrk-web-service.lua "http://127.0.0.1:$PORT" 2>&1 |
    grep -E "Requests/sec|Latency  |50%|90%|99%|unexpected|Non-2xx|wrk cpu|errors"
done
