#!/usr/bin/env bash
# Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
#
# client_auth.sh: what client authorization (peterad --client-ca) adds to
# the server's CPU per recovery, for keep-alive requests, resumed TLS 1.3
# connections and full handshakes. See docs/benchmarks.md.
#
#   bench/client_auth.sh [BUILD_DIR]     (default: build, with -DPETERA_BENCH=ON)
#
# Three servers in turn, each fresh, on 127.0.0.1: without client
# authorization; with --client-ca; with --client-ca, a CRL and an allow-list.
# Each serves a fixed number of real recovery requests (P-256 key) from 4
# workers of petera_connload, which presents demo client laptop1 in every
# run (a server that does not ask never sees it). Server CPU is the
# scheduler's own figure (/proc/PID/task/*/schedstat) over the run.
# Everything runs under /tmp/petera-build.lock so that no build disturbs it.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${1:-$ROOT/build}
PETERAD=$BUILD/src/peterad/peterad
CONNLOAD=$BUILD/bench/petera_connload
MAKE_REQUESTS=$BUILD/bench/petera_make_requests
REPS=${REPS:-3}
for f in "$PETERAD" "$CONNLOAD" "$MAKE_REQUESTS"; do
  [[ -x $f ]] || { echo "client_auth.sh: missing $f (build with -DPETERA_BENCH=ON)" >&2; exit 2; }
done

WORK=$(mktemp -d /tmp/petera-bench-clientauth.XXXXXX)
SERVER=
cleanup() { [[ -z $SERVER ]] || kill "$SERVER" 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT
bash "$ROOT/certs-examples/make-pki.sh" "$WORK/pki" >/dev/null
PKI=$WORK/pki
"$MAKE_REQUESTS" "$PKI/s1/encrypt-ec.pem" 2000 >"$WORK/bodies.jsonl"
cp "$PKI/clients/laptop1.key-id" "$WORK/allow"
cp "$PKI/clients/crl.pem" "$WORK/crl.pem"
chmod 0644 "$WORK/allow" "$WORK/crl.pem"

sched_ns() { cat /proc/"$1"/task/*/schedstat | awk '{s+=$1} END{printf "%.0f\n", s}'; }

# serve ARGS...: starts peterad on a free port; sets SERVER and PORT.
serve() {
  PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  "$PETERAD" --listen "127.0.0.1:$PORT" --log-level warn --max-connections-per-client 0 "$@" \
    "$PKI/s1/tls.pem" "$PKI/s1/encrypt-ec.pem" "$PKI/s1/decrypt.d" 2>"$WORK/server.log" &
  SERVER=$!
  for _ in $(seq 100); do
    "$CONNLOAD" --port "$PORT" --mode keepalive --max-requests 1 --path /v1/health \
      >/dev/null 2>&1 && return 0
    sleep 0.05
  done
  cat "$WORK/server.log" >&2
  exit 1
}

# one MODE COUNT: server CPU microseconds per request of one run.
one() {
  local mode=$1 count=$2 s0 s1 out
  s0=$(sched_ns "$SERVER")
  out=$("$CONNLOAD" --port "$PORT" --mode "$mode" --conns 4 --duration 120 \
    --max-requests "$count" --bodies "$WORK/bodies.jsonl" --anchor "$PKI/anchor.pem" \
    --cert "$PKI/clients/laptop1.pem")
  s1=$(sched_ns "$SERVER")
  grep -q ' errors=0 ' <<<" $out " || { echo "client_auth.sh: errors: $out" >&2; exit 1; }
  local requests
  requests=$(grep -o 'requests=[0-9]*' <<<"$out" | cut -d= -f2)
  awk -v d="$((s1 - s0))" -v n="$requests" 'BEGIN{printf "%.1f\n", d / n / 1000}'
}

# median of REPS runs
median() { sort -n | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}'; }

declare -A COUNT=([keepalive]=20000 [resume]=4000 [full]=3000)
printf '%-34s %12s %12s %12s\n' "server CPU per recovery (us)" keepalive resume full
exec 9>/tmp/petera-build.lock
flock 9
for config in off ca ca+crl+allow; do
  case $config in
    off) serve ;;
    ca) serve --client-ca "$PKI/clients/ca.pem" ;;
    ca+crl+allow) serve --client-ca "$PKI/clients/ca.pem" --client-crl "$WORK/crl.pem" \
                    --client-allow "$WORK/allow" ;;
  esac
  row=()
  for mode in keepalive resume full; do
    one "$mode" 200 >/dev/null  # warm up
    row+=("$(for _ in $(seq "$REPS"); do one "$mode" "${COUNT[$mode]}"; done | median)")
  done
  kill "$SERVER"
  wait "$SERVER" 2>/dev/null || true
  SERVER=
  printf '%-34s %12s %12s %12s\n' "$config" "${row[@]}"
done
