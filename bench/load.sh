#!/usr/bin/env bash
# Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
#
# load.sh: load benchmark of peterad on loopback, side by side with the
# hardware's own costs (openssl speed, openssl s_server + s_time) and, when
# installed (scripts/install-deps.sh --tang), with Tang and Clevis, all in
# one run. See docs/benchmarks.md for what is measured and how to read it.
#
#   bench/load.sh [--quick] [--no-build] [--no-tang] [--out DIR]
#
# Full mode takes about 10 minutes, --quick about 4 (plus the build and any
# wait for the build lock).
#
# --quick     2 s runs, one repetition, 5 hyperfine runs
# --no-build  use the binaries already in build-bench/
# --no-tang   skip Tang and Clevis even when installed
# --out DIR   results directory (default build-bench/results/<UTC timestamp>)
#
# Environment: DUR (seconds per load run), REPS (repetitions), HF_RUNS
# (hyperfine runs), LOG_LEVEL (peterad's, default info), PETERAD_ARGS (more
# peterad options), IDLE_CONNS (1000), LOCK_MAX (longest locked stretch, s).
#
# Every measurement runs while holding /tmp/petera-build.lock so that no
# build disturbs it, in stretches of at most LOCK_MAX seconds (default 480).
# Servers listen on 127.0.0.1 only; every load run is bounded in time and
# in count.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH=$ROOT/bench
BUILD_DIR=$ROOT/build-bench
LOCK_FILE=/tmp/petera-build.lock
PY=/usr/bin/python3

usage() { sed -n '4,21p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }

ARGS="$*"
QUICK=0 BUILD=1 TANG=1 OUT=
while (($#)); do
  case $1 in
    --quick) QUICK=1 ;;
    --no-build) BUILD=0 ;;
    --no-tang) TANG=0 ;;
    --out) OUT=${2:?--out needs a directory}; shift ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; exit 2 ;;
  esac
  shift
done
if ((QUICK)); then
  : "${DUR:=2}" "${REPS:=1}" "${HF_RUNS:=5}" "${SPEED_SECS:=1}" "${QUIET_MAX:=1}" "${IDLE_HOLD:=3}"
else
  : "${DUR:=4}" "${REPS:=3}" "${HF_RUNS:=20}" "${SPEED_SECS:=3}" "${QUIET_MAX:=1}" "${IDLE_HOLD:=4}"
fi
: "${LOG_LEVEL:=info}" "${IDLE_CONNS:=1000}" "${BODIES:=2000}" "${LOCK_MAX:=480}"
OUT=${OUT:-$BUILD_DIR/results/$(date -u +%Y%m%dT%H%M%SZ)}
RAW=$OUT/raw
mkdir -p "$RAW"
OUT=$(cd "$OUT" && pwd)
RAW=$OUT/raw
CLK_TCK=$(getconf CLK_TCK)
CONNS=(1 8 64)
KEYS=(p256 p521 rsa3072)
declare -A CHAIN=([p256]=encrypt-ec.pem [p521]=encrypt-p521.pem [rsa3072]=encrypt-rsa.pem)

PETERAD=$BUILD_DIR/src/peterad/peterad
PETERA=$BUILD_DIR/src/petera/petera
MAKE_REQUESTS=$BUILD_DIR/bench/petera_make_requests
CONNLOAD=$BUILD_DIR/bench/petera_connload

WORK=$(mktemp -d /tmp/petera-load.XXXXXX)
chmod 755 "$WORK"
PIDS=()

log() { printf '[%s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# ------------------------------------------------------------------ process helpers

# stop_pid PID: TERM, up to 3 s, then KILL. Only PIDs this script started.
stop_pid() {
  local pid=$1 i
  [[ -n $pid ]] || return 0
  kill -TERM "$pid" 2>/dev/null || return 0
  for ((i = 0; i < 60; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

cleanup() {
  local pid
  exec 9>&- 2>/dev/null || true  # drops the lock if held
  for pid in "${PIDS[@]}"; do stop_pid "$pid"; done
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
  "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

wait_port() { # PORT
  local i
  for ((i = 0; i < 200; i++)); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
    sleep 0.05
  done
  die "nothing listens on 127.0.0.1:$1"
}

# Measurements run under the build lock so that no build disturbs them. The
# lock is taken before the first measurement and kept, but never for more
# than LOCK_MAX seconds at a stretch: then it is let go for a moment so that
# waiting builds get their turn. Processes started in the background close
# fd 9 so that they never hold it.
LOCK_SINCE=-1
ensure_lock() {
  if ((LOCK_SINCE >= 0 && SECONDS - LOCK_SINCE >= LOCK_MAX)); then
    release_lock
    sleep 2
  fi
  ((LOCK_SINCE < 0)) || return 0
  exec 9>"$LOCK_FILE"
  log "waiting for the build lock"
  flock 9
  LOCK_SINCE=$SECONDS
  log "build lock held"
}
release_lock() {
  ((LOCK_SINCE >= 0)) || return 0
  flock -u 9
  exec 9>&-
  LOCK_SINCE=-1
}

# "user system" ticks of a process, reaped children included ("-": none)
cpu_ticks() { awk '{print $14+$16, $15+$17}' "/proc/$1/stat" 2>/dev/null || echo 0 0; }
# nanoseconds on CPU of a process's live threads (scheduler accounting)
sched_ns() { cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{s+=$1} END{printf "%.0f\n", s}'; }
# busy ticks of the whole machine (user+system+irq+softirq+steal). Niced
# work (a fuzzer at nice 19, say) is left out: it yields to the benchmark.
busy_ticks() { awk '/^cpu /{print $2+$4+$7+$8+$9; exit}' /proc/stat; }

# wait_quiet: other helpers share this machine. Wait up to QUIET_MAX s for
# it to use under 0.3 CPU, then measure anyway (each run records the load).
wait_quiet() {
  local tries=$((QUIET_MAX * 2)) b0 b1
  while ((tries-- > 0)); do
    b0=$(busy_ticks); sleep 0.5; b1=$(busy_ticks)
    ((b1 - b0 < CLK_TCK * 15 / 100)) && return 0
  done
  return 0
}

# measure NAME SERVER_PID REAP CMD...: runs CMD (output in raw/NAME.txt) and
# appends "#meta server_cpu_s=.. server_sched_s=.. client_cpu_s=.. busy_s=..
# wall_s=..": the server's CPU from its own accounting (REAP=1: wait for
# forked children to be reaped first), the load tool's, and the machine's.
measure() {
  local name=$1 spid=$2 reap=$3 file=$RAW/$1.txt tf
  shift 3
  ensure_lock
  wait_quiet
  tf=$(mktemp)
  local u0 k0 s0 b0 t0 u1 k1 s1 b1 t1
  read -r u0 k0 < <(cpu_ticks "$spid")
  s0=$(sched_ns "$spid") b0=$(busy_ticks) t0=$(date +%s.%N)
  { TIMEFORMAT='%U %S'; time "$@" >"$file" 2>&1; } 2>"$tf" || log "$name: load tool failed (see $file)"
  ((reap)) && sleep 0.5
  read -r u1 k1 < <(cpu_ticks "$spid")
  s1=$(sched_ns "$spid") b1=$(busy_ticks) t1=$(date +%s.%N)
  awk -v u="$((u1 - u0))" -v k="$((k1 - k0))" -v s="$((s1 - s0))" -v b="$((b1 - b0))" \
    -v hz="$CLK_TCK" -v t0="$t0" -v t1="$t1" \
    '{printf "#meta server_cpu_s=%.3f server_user_s=%.3f server_sys_s=%.3f server_sched_s=%.4f client_cpu_s=%.3f busy_s=%.3f wall_s=%.3f\n", (u+k)/hz, u/hz, k/hz, s/1e9, $1+$2, b/hz, t1-t0}' \
    "$tf" >>"$file"
  rm -f "$tf"
  log "$name: $(grep -hoE 'Requests/sec: *[0-9.]+|rps=[0-9.]+' "$file" | head -1) $(tail -1 "$file" | cut -d' ' -f2)"
}

wrk_threads() { (($1 < 2)) && echo 1 || echo 2; }

# ------------------------------------------------------------------ build, PKI, machine

build() {
  ((BUILD)) || return 0
  log "building Release in $BUILD_DIR"
  flock "$LOCK_FILE" cmake -S "$ROOT" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release \
    -DPETERA_TESTS=OFF -DPETERA_BENCH=ON >"$WORK/cmake.log" 2>&1 || { cat "$WORK/cmake.log" >&2; die "configure failed"; }
  flock "$LOCK_FILE" cmake --build "$BUILD_DIR" -j2 --target peterad petera petera_make_requests \
    petera_connload >"$WORK/build.log" 2>&1 || { tail -40 "$WORK/build.log" >&2; die "build failed"; }
}

machine_info() {
  {
    echo "date: $(date -u +%FT%TZ)"
    echo "nproc: $(nproc)"
    lscpu | grep -E 'Model name|^CPU\(s\)|Thread\(s\) per core|Hypervisor vendor|MHz' | sed 's/  */ /g'
    echo "kernel: $(uname -sr)"
    echo "openssl: $(openssl version)"
    echo "memory: $(awk '/MemTotal/{print $2" kB"}' /proc/meminfo)"
    dpkg-query -W -f '${Package} ${Version}\n' tang clevis jose wrk hyperfine libssl3 libboost-dev 2>/dev/null || true
    echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "settings: QUICK=$QUICK DUR=$DUR REPS=$REPS HF_RUNS=$HF_RUNS SPEED_SECS=$SPEED_SECS LOG_LEVEL=$LOG_LEVEL IDLE_CONNS=$IDLE_CONNS"
  } >"$OUT/machine.txt"
}

# ------------------------------------------------------------------ OpenSSL's own costs

openssl_limits() {
  local pki=$1 port spid
  log "openssl speed and s_server/s_time"
  # one core; rsa3072 "sign" is the private-key operation peterad does
  measure openssl_speed - 0 openssl speed -seconds "$SPEED_SECS" ecdhp256 ecdhp521 rsa3072 ecdsap256 ecdsap384
  # s_server with peterad's TLS certificate, chain and key, TLS 1.3, default groups
  mkdir -p "$WORK/www"
  printf '{"y":"%s"}' "$(head -c 65 /dev/urandom | base64 -w0 | tr '+/' '-_' | tr -d '=')" >"$WORK/www/r.json"
  port=$(free_port)
  (cd "$WORK/www" && exec openssl s_server -accept "127.0.0.1:$port" -cert "$pki/s1/tls.pem" \
    -key "$pki/s1/tls.pem" -cert_chain "$pki/ca/intermediate.pem" -tls1_3 -WWW -quiet \
    -naccept 1000000) >"$WORK/s_server.log" 2>&1 9>&- &
  spid=$!
  PIDS+=("$spid")
  wait_port "$port"
  echo | openssl s_client -connect "127.0.0.1:$port" -tls1_3 -brief 2>&1 | head -8 >"$RAW/s_server_negotiated.txt" || true
  local rep
  for rep in $(seq 1 "$REPS"); do
    measure "s_time_new_r$rep" "$spid" 0 openssl s_time -connect "127.0.0.1:$port" -new -time "$DUR" -www /r.json -tls1_3
    measure "s_time_reuse_r$rep" "$spid" 0 openssl s_time -connect "127.0.0.1:$port" -reuse -time "$DUR" -www /r.json -tls1_3
  done
  stop_pid "$spid"
}

# ------------------------------------------------------------------ peterad

# start_peterad DIR PORT LOGFILE [OPTION...] -> prints the PID
start_peterad() {
  local dir=$1 port=$2 logfile=$3 extra
  shift 3
  read -r -a extra <<<"${PETERAD_ARGS:-}"
  # Every load comes from 127.0.0.1: no per-client cap.
  "$PETERAD" --listen "127.0.0.1:$port" --log-level "$LOG_LEVEL" --max-connections-per-client 0 \
    "${extra[@]}" "$@" "$dir/tls.pem" \
    "$dir/encrypt-ec.pem" "$dir/decrypt.d" >"$logfile" 2>&1 9>&- &
  echo $!
}

check_recover() { # PORT BODIES ANCHOR
  local answer
  answer=$(curl -sS --max-time 5 --cacert "$3" -H 'Content-Type: application/json' \
    --data-binary "$(head -1 "$2")" "https://127.0.0.1:$1/v1/recover") || die "POST /v1/recover failed"
  [[ $answer == '{"y":"'* ]] || die "unexpected answer to POST /v1/recover: $answer"
}

petera_load() {
  local pki=$1 port pid key rep c
  port=$(free_port)
  pid=$(start_peterad "$pki/s1" "$port" "$WORK/peterad-load.log")
  PIDS+=("$pid")
  wait_port "$port"
  echo "peterad pid=$pid port=$port log_level=$LOG_LEVEL threads=default($(nproc)) extra=${PETERAD_ARGS:-}" >"$RAW/peterad_setup.txt"
  for key in "${KEYS[@]}"; do
    "$MAKE_REQUESTS" "$pki/s1/${CHAIN[$key]}" "$BODIES" >"$WORK/bodies-$key.jsonl"
    check_recover "$port" "$WORK/bodies-$key.jsonl" "$pki/anchor.pem"
    head -1 "$WORK/bodies-$key.jsonl" >"$RAW/petera_${key}_body_example.json"
  done
  for key in "${KEYS[@]}"; do
    log "peterad $key"
    for rep in $(seq 1 "$REPS"); do
      for c in "${CONNS[@]}"; do
        measure "petera_${key}_keepalive_c${c}_r$rep" "$pid" 0 wrk -t"$(wrk_threads "$c")" -c"$c" \
          -d"${DUR}s" --latency -s "$BENCH/recover.lua" "https://127.0.0.1:$port/v1/recover" -- \
          "$WORK/bodies-$key.jsonl"
        measure "petera_${key}_resume_c${c}_r$rep" "$pid" 0 "$CONNLOAD" --port "$port" --mode resume \
          --conns "$c" --duration "$DUR" --max-requests 2000000 --bodies "$WORK/bodies-$key.jsonl"
        measure "petera_${key}_full_c${c}_r$rep" "$pid" 0 "$CONNLOAD" --port "$port" --mode full \
          --conns "$c" --duration "$DUR" --max-requests 2000000 --bodies "$WORK/bodies-$key.jsonl"
      done
    done
    if [[ $key == p256 ]]; then  # our own keep-alive client, to cross-check wrk
      measure "check_p256_connload-keepalive_c8_r1" "$pid" 0 "$CONNLOAD" --port "$port" \
        --mode keepalive --conns 8 --duration "$DUR" --max-requests 5000000 --bodies "$WORK/bodies-p256.jsonl"
      threads1 "$pki"
      onecpu "$pki"
    fi
  done
  grep -c ' 200 ' "$WORK/peterad-load.log" >"$RAW/peterad_200_lines.txt" || true
  grep -E ' (warn|error|critical): ' "$WORK/peterad-load.log" | head -20 >"$RAW/peterad_warnings.txt" || true
  stop_pid "$pid"
}

# Diagnosis: the same server with a single I/O thread (--threads 1), which
# shows what handing work between I/O threads costs per request.
threads1() {
  local pki=$1 port pid c
  port=$(free_port)
  pid=$(start_peterad "$pki/s1" "$port" "$WORK/peterad-threads1.log" --threads 1)
  PIDS+=("$pid")
  wait_port "$port"
  for c in 1 8; do
    measure "diag_p256_threads1-keepalive_c${c}_r1" "$pid" 0 wrk -t"$(wrk_threads "$c")" -c"$c" \
      -d"${DUR}s" --latency -s "$BENCH/recover.lua" "https://127.0.0.1:$port/v1/recover" -- \
      "$WORK/bodies-p256.jsonl"
  done
  stop_pid "$pid"
}

# Diagnosis: at one connection the server sleeps and is woken for every
# request. With the server and wrk pinned to the same CPU that wake-up takes
# no interrupt from the other CPU; the difference to the ordinary
# one-connection row is what cross-CPU wake-ups cost the server here.
onecpu() {
  local pki=$1 port pid
  port=$(free_port)
  pid=$(start_peterad "$pki/s1" "$port" "$WORK/peterad-onecpu.log")
  PIDS+=("$pid")
  wait_port "$port"
  taskset -a -p -c 0 "$pid" >/dev/null
  measure "diag_p256_onecpu-keepalive_c1_r1" "$pid" 0 taskset -c 0 wrk -t1 -c1 \
    -d"${DUR}s" --latency -s "$BENCH/recover.lua" "https://127.0.0.1:$port/v1/recover" -- \
    "$WORK/bodies-p256.jsonl"
  stop_pid "$pid"
}

# 1,000 idle keep-alive TLS connections (each made one request) against a
# fresh server: its RSS growth per connection.
idle_memory() {
  local pki=$1 port pid rss0 rss1 fds out=$RAW/idle_connections.txt lpid i
  port=$(free_port)
  pid=$(start_peterad "$pki/s2" "$port" "$WORK/peterad-idle.log")
  PIDS+=("$pid")
  wait_port "$port"
  "$MAKE_REQUESTS" "$pki/s2/encrypt-ec.pem" 100 >"$WORK/bodies-idle.jsonl"
  log "idle connections: $IDLE_CONNS"
  ensure_lock
  "$CONNLOAD" --port "$port" --mode keepalive --conns 4 --duration 1 --max-requests 2000 \
    --bodies "$WORK/bodies-idle.jsonl" >"$WORK/idle-warmup.txt" 2>&1 || true
  sleep 1
  rss0=$(awk '/^VmRSS/{print $2}' "/proc/$pid/status")
  "$CONNLOAD" --port "$port" --idle "$IDLE_CONNS" --hold "$IDLE_HOLD" \
    --bodies "$WORK/bodies-idle.jsonl" >"$WORK/idle-client.txt" 2>&1 9>&- &
  lpid=$!
  for ((i = 0; i < 600; i++)); do grep -q idle_ready "$WORK/idle-client.txt" && break; sleep 0.1; done
  sleep 1
  rss1=$(awk '/^VmRSS/{print $2}' "/proc/$pid/status")
  fds=$(find "/proc/$pid/fd" -mindepth 1 -maxdepth 1 | wc -l)
  wait "$lpid" || true
  {
    cat "$WORK/idle-client.txt"
    echo "server_rss_before_kib=$rss0 server_rss_with_idle_kib=$rss1 server_open_fds=$fds"
    awk -v a="$rss0" -v b="$rss1" -v f="$WORK/idle-client.txt" 'BEGIN{
      while ((getline l < f) > 0) if (match(l, /idle_ready=[0-9]+/)) n = substr(l, RSTART+11, RLENGTH-11);
      if (n > 0) printf "rss_per_idle_connection_kib=%.1f connections=%d\n", (b-a)/n, n }'
  } >"$out"
  log "idle: $(tail -1 "$out")"
  stop_pid "$pid"
}

# ------------------------------------------------------------------ Tang and Clevis

TANG_SPID=() TANG_PORT=()
# start_tang NAME -> index into TANG_SPID/TANG_PORT; served like tangd.socket
# + tangd@.service: one tangd per connection, as _tang, stdin/stdout = socket
start_tang() {
  local db=$WORK/tang-$1 port
  mkdir -p "$db"
  /usr/libexec/tangd-keygen "$db" >/dev/null
  port=$(free_port)
  setpriv --reuid=_tang --regid=_tang --init-groups \
    systemd-socket-activate --accept --inetd -l "127.0.0.1:$port" \
    /usr/libexec/tangd "$db" 2>>"$WORK/tangd-$1.log" 9>&- &
  TANG_SPID+=("$!") TANG_PORT+=("$port")
  PIDS+=("$!")
  wait_port "$port"
}

tang_load() {
  local spid port kid rep c i
  start_tang load
  spid=${TANG_SPID[-1]} port=${TANG_PORT[-1]}
  curl -sSf --max-time 5 "http://127.0.0.1:$port/adv" >"$WORK/adv.jws"
  kid=$(jose fmt --json "$(cat "$WORK/adv.jws")" -g payload -y -o- | jose jwk use -i- -r -u deriveKey -o- |
    jose jwk thp -i- -a S256)
  # request bodies: the client's blinded P-521 point, as clevis sends it
  : >"$WORK/tang-bodies.jsonl"
  for i in $(seq 1 20); do
    jose jwk gen -i '{"alg":"ECMR"}' | jose jwk pub -i- -o- | tr -d '\n' >>"$WORK/tang-bodies.jsonl"
    echo >>"$WORK/tang-bodies.jsonl"
  done
  head -1 "$WORK/tang-bodies.jsonl" >"$WORK/tang-body1.jwk"
  local got want
  got=$(curl -sS --max-time 5 -X POST -H 'Content-Type: application/jwk+json' \
    --data-binary @"$WORK/tang-body1.jwk" "http://127.0.0.1:$port/rec/$kid" | jose fmt -j- -g x -u-)
  want=$(jose jwk exc -l "$WORK/tang-load/$kid.jwk" -r "$WORK/tang-body1.jwk" | jose fmt -j- -g x -u-)
  [[ -n $got && $got == "$want" ]] || die "tang recovery check failed"
  echo "tangd (tang $(dpkg-query -W -f '${Version}' tang)) via systemd-socket-activate --accept --inetd, kid=$kid, check OK" \
    >"$RAW/tang_setup.txt"
  log "tangd P-521"
  for rep in $(seq 1 "$REPS"); do
    for c in "${CONNS[@]}"; do
      measure "tang_p521_keepalive_c${c}_r$rep" "$spid" 1 wrk -t"$(wrk_threads "$c")" -c"$c" -d"${DUR}s" \
        --latency -s "$BENCH/recover.lua" "http://127.0.0.1:$port/rec/$kid" -- \
        "$WORK/tang-bodies.jsonl" application/jwk+json
      measure "tang_p521_newconn_c${c}_r$rep" "$spid" 1 "$CONNLOAD" --plain --port "$port" --mode full \
        --conns "$c" --duration "$DUR" --max-requests 2000000 --path "/rec/$kid" \
        --content-type application/jwk+json --bodies "$WORK/tang-bodies.jsonl"
    done
  done
  stop_pid "$spid"
}

# hf NAME CMD_PETERA CMD_CLEVIS: one hyperfine run of both clients
hf() {
  local name=$1 cmds=(-n petera "timeout 30 $2")
  [[ -n ${3:-} ]] && cmds+=(-n clevis "timeout 30 $3")
  ensure_lock
  wait_quiet
  hyperfine --style basic --warmup 2 --runs "$HF_RUNS" --export-json "$RAW/hf_$name.json" \
    "${cmds[@]}" >"$RAW/hf_$name.txt" 2>&1 || log "hyperfine $name failed (see $RAW/hf_$name.txt)"
  log "hf $name: $(grep -E 'Time \(mean' "$RAW/hf_$name.txt" | tr -s ' ' | tr '\n' ' ')"
}

clients() {
  local pki=$1 with_tang=$2 n pp=() ppid=() secret=$WORK/secret
  head -c 32 /dev/urandom | base64 >"$secret"
  for n in 1 2 3; do
    pp+=("$(free_port)")
    ppid+=("$(start_peterad "$pki/s$n" "${pp[-1]}" "$WORK/peterad-hf$n.log")")
    PIDS+=("${ppid[-1]}")
  done
  for n in 0 1 2; do wait_port "${pp[$n]}"; done
  local a=$pki/anchor.pem
  "$PETERA" "$a" encrypt "127.0.0.1:${pp[0]}" <"$secret" >"$WORK/p1.jwe"
  "$PETERA" "$a" encrypt "127.0.0.1:${pp[0]}" "127.0.0.1:${pp[1]}" "127.0.0.1:${pp[2]}" <"$secret" >"$WORK/p3.jwe"
  for n in p1 p3; do
    cmp -s <("$PETERA" "$a" decrypt <"$WORK/$n.jwe") "$secret" || die "petera $n round trip failed"
  done
  local c1='' c3='' pins=()
  if ((with_tang)); then
    local base=${#TANG_SPID[@]}
    for n in A B C; do start_tang "hf$n"; done
    for n in 0 1 2; do
      pins+=("$(printf '{"url":"http://127.0.0.1:%s","thp":"%s"}' "${TANG_PORT[$((base + n))]}" \
        "$(tang-show-keys "${TANG_PORT[$((base + n))]}")")")
    done
    clevis encrypt tang "${pins[0]}" <"$secret" >"$WORK/c1.jwe"
    clevis encrypt sss "{\"t\":1,\"pins\":{\"tang\":[${pins[0]},${pins[1]},${pins[2]}]}}" <"$secret" >"$WORK/c3.jwe"
    for n in c1 c3; do
      cmp -s <(clevis decrypt <"$WORK/$n.jwe") "$secret" || die "clevis $n round trip failed"
    done
    c1="clevis decrypt < $WORK/c1.jwe > /dev/null"
    c3="clevis decrypt < $WORK/c3.jwe > /dev/null"
  fi
  wc -c "$WORK"/*.jwe >"$RAW/hf_envelopes.txt"
  local p1="$PETERA $a decrypt < $WORK/p1.jwe > /dev/null" p3="$PETERA $a decrypt < $WORK/p3.jwe > /dev/null"
  log "petera decrypt vs clevis decrypt"
  hf one_server "$p1" "$c1"
  hf three_allup "$p3" "$c3"
  # the first server refuses connections: stopped, its port closed
  stop_pid "${ppid[0]}"
  ((with_tang)) && stop_pid "${TANG_SPID[$base]}"
  hf three_first_refused "$p3" "$c3"
  # the first server accepts TCP connections and never answers
  local ports=("${pp[0]}") hung
  ((with_tang)) && ports+=("${TANG_PORT[$base]}")
  "$PY" -c '
import socket, sys, time
held = []
for p in sys.argv[1:]:
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", int(p))); s.listen(4096); held.append(s)
time.sleep(600)' "${ports[@]}" 9>&- &
  hung=$!
  PIDS+=("$hung")
  for n in "${ports[@]}"; do wait_port "$n"; done
  hf three_first_hung "$p3" "$c3"
  stop_pid "$hung"  # closing the listener ends clevis' orphaned curl pins
  sleep 1
  { pgrep -af "127.0.0.1:${ports[-1]}/rec" || true; } >"$RAW/hf_leftover_processes.txt"
  for n in 1 2; do stop_pid "${ppid[$n]}"; done
}

# ------------------------------------------------------------------ main

main() {
  local start=$SECONDS with_tang=0
  if ((TANG)) && [[ -x /usr/libexec/tangd ]] && command -v clevis jose tang-show-keys >/dev/null; then
    with_tang=1
  elif ((TANG)); then
    log "Tang/Clevis not installed (scripts/install-deps.sh --tang): measuring Petera alone"
  fi
  command -v wrk hyperfine >/dev/null || die "wrk and hyperfine are needed (scripts/install-deps.sh)"
  build
  for f in "$PETERAD" "$PETERA" "$MAKE_REQUESTS" "$CONNLOAD"; do [[ -x $f ]] || die "missing $f"; done
  machine_info
  echo "bench/load.sh $ARGS" >"$OUT/command.txt"
  "$ROOT/certs-examples/make-pki.sh" "$WORK/pki" >"$WORK/pki.log" 2>&1 || die "make-pki.sh failed"
  log "results in $OUT"
  openssl_limits "$WORK/pki"
  petera_load "$WORK/pki"
  idle_memory "$WORK/pki"
  ((with_tang)) && tang_load
  clients "$WORK/pki" "$with_tang"
  release_lock
  echo "total_seconds=$((SECONDS - start))" >>"$OUT/machine.txt"
  "$PY" "$BENCH/report.py" "$OUT"
  if command -v gnuplot >/dev/null; then
    gnuplot -e "datafile='$OUT/throughput.dat'; outfile='$OUT/throughput.png'" "$BENCH/throughput.gp" ||
      log "gnuplot failed"
  fi
  log "done in $((SECONDS - start)) s: $OUT/results.md"
}

main
