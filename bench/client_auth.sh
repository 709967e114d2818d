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

# shellcheck source=bench/server_lib.sh
source "$ROOT/bench/server_lib.sh"

# one MODE COUNT: server CPU microseconds per request of one run.
one() { load "$1" "$2" --cert "$PKI/clients/laptop1.pem"; }

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
  stop_server
  printf '%-34s %12s %12s %12s\n' "$config" "${row[@]}"
done
