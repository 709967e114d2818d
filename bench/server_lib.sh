# Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
#
# Shared by the server benchmarks (client_auth.sh, metrics.sh): sourced, with
# PETERAD, CONNLOAD, PKI and WORK set. Starts peterad on a free loopback
# port, reads its CPU time, and runs petera_connload against it.

# Nanoseconds of CPU all threads of process $1 have used
# (/proc/PID/task/*/schedstat).
sched_ns() { cat /proc/"$1"/task/*/schedstat | awk '{s+=$1} END{printf "%.0f\n", s}'; }

# median of the numbers on stdin
median() { sort -n | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}'; }

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# serve ARGS...: starts peterad (s1, P-256) on a free port with ARGS; sets
# SERVER and PORT, returns once it answers.
serve() {
  PORT=$(free_port)
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

stop_server() {
  kill "$SERVER"
  wait "$SERVER" 2>/dev/null || true
  SERVER=
}

# load MODE COUNT [connload options...]: server CPU microseconds per request
# of one run of COUNT recoveries (bodies from $WORK/bodies.jsonl) by 4
# workers; fails on any error.
load() {
  local mode=$1 count=$2 s0 s1 out requests
  shift 2
  s0=$(sched_ns "$SERVER")
  out=$("$CONNLOAD" --port "$PORT" --mode "$mode" --conns 4 --duration 120 \
    --max-requests "$count" --bodies "$WORK/bodies.jsonl" --anchor "$PKI/anchor.pem" "$@")
  s1=$(sched_ns "$SERVER")
  grep -q ' errors=0 ' <<<" $out " || { echo "$(basename "$0"): errors: $out" >&2; exit 1; }
  requests=$(grep -o 'requests=[0-9]*' <<<"$out" | cut -d= -f2)
  awk -v d="$((s1 - s0))" -v n="$requests" 'BEGIN{printf "%.1f\n", d / n / 1000}'
}
