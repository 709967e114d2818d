#!/usr/bin/env bash
# Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
#
# metrics.sh: what peterad --metrics costs. See docs/benchmarks.md.
#
#   bench/metrics.sh [BUILD_DIR]     (default: build, with -DPETERA_BENCH=ON)
#
# 1. Server CPU per recovery (keep-alive, P-256, 4 petera_connload workers)
#    for three fresh peterads: without --metrics; with --metrics, not
#    scraped; with --metrics scraped ten times a second throughout.
# 2. Server CPU per scrape of GET /metrics (after the recoveries above, so
#    the counters have values), over 2000 scrapes on one connection.
# Everything runs under /tmp/petera-build.lock so that no build disturbs it.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${1:-$ROOT/build}
PETERAD=$BUILD/src/peterad/peterad
CONNLOAD=$BUILD/bench/petera_connload
MAKE_REQUESTS=$BUILD/bench/petera_make_requests
REPS=${REPS:-3}
for f in "$PETERAD" "$CONNLOAD" "$MAKE_REQUESTS"; do
  [[ -x $f ]] || { echo "metrics.sh: missing $f (build with -DPETERA_BENCH=ON)" >&2; exit 2; }
done

WORK=$(mktemp -d /tmp/petera-bench-metrics.XXXXXX)
SERVER=
SCRAPER=
cleanup() {
  [[ -z $SCRAPER ]] || kill "$SCRAPER" 2>/dev/null || true
  [[ -z $SERVER ]] || kill "$SERVER" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
bash "$ROOT/certs-examples/make-pki.sh" "$WORK/pki" >/dev/null
PKI=$WORK/pki
"$MAKE_REQUESTS" "$PKI/s1/encrypt-ec.pem" 2000 >"$WORK/bodies.jsonl"

# shellcheck source=bench/server_lib.sh
source "$ROOT/bench/server_lib.sh"

# scrape PORT COUNT INTERVAL: COUNT scrapes of /metrics on one keep-alive
# connection, INTERVAL seconds apart.
cat >"$WORK/scrape.py" <<'PY'
import http.client, sys, time
port, count, interval = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
for _ in range(count):
    c.request("GET", "/metrics")
    r = c.getresponse()
    body = r.read()
    assert r.status == 200 and b"peterad_recoveries_total" in body
    time.sleep(interval)
PY

printf '%-40s %12s\n' "server CPU per recovery (us)" keepalive
exec 9>/tmp/petera-build.lock
flock 9
for config in off metrics metrics+scraped-10/s; do
  metrics_port=$(free_port)
  case $config in
    off) serve ;;
    *) serve --metrics "127.0.0.1:$metrics_port" ;;
  esac
  if [[ $config == *scraped* ]]; then
    python3 "$WORK/scrape.py" "$metrics_port" 100000 0.1 &
    SCRAPER=$!
  fi
  load keepalive 200 >/dev/null  # warm up
  row=$(for _ in $(seq "$REPS"); do load keepalive 20000; done | median)
  if [[ -n $SCRAPER ]]; then
    kill "$SCRAPER"
    wait "$SCRAPER" 2>/dev/null || true
    SCRAPER=
  fi
  printf '%-40s %12s\n' "$config" "$row"
  if [[ $config == metrics ]]; then
    s0=$(sched_ns "$SERVER")
    python3 "$WORK/scrape.py" "$metrics_port" 2000 0
    s1=$(sched_ns "$SERVER")
    scrape_us=$(awk -v d="$((s1 - s0))" 'BEGIN{printf "%.1f", d / 2000 / 1000}')
    bytes=$(curl -s "http://127.0.0.1:$metrics_port/metrics" | wc -c)
  fi
  stop_server
done
printf 'server CPU per scrape: %s us (%s bytes of exposition)\n' "$scrape_us" "$bytes"
