#!/usr/bin/env bash
# Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
#
# luks_unlock.sh: what unlocking a network-bound LUKS2 keyslot costs, end to
# end, in one run on the same image size:
#
#   petera-plugin  cryptsetup open --test-passphrase --token-only IMG
#                  (the token plugin recovers the passphrase from a peterad)
#   petera-pass    petera luks pass | cryptsetup open --test-passphrase --key-file -
#   clevis-tang    clevis luks pass | cryptsetup open --test-passphrase --key-file -
#                  (Clevis 19 bound to a local tangd, socket-activated as
#                  Debian runs it; Clevis also gives its keyslot a cheap PBKDF2)
#   floor          cryptsetup open --test-passphrase --key-slot S --key-file
#                  FILE on the Petera keyslot: what is left once recovery
#                  costs nothing (the token path, too, tries only its keyslot)
#   namespace      the private mount namespace the plugin runs in here, alone
#
#   bench/luks_unlock.sh [--runs N] [--build DIR]
#
# The plugin is not installed: as in the tests, cryptsetup runs in a private
# mount namespace where the build's plugin, stripped of its debug
# information as a package installs it, is bind-mounted over libcryptsetup's
# plugin directory; "namespace" measures that overhead so it can be taken
# off. Needs scripts/install-deps.sh --tang (tang, clevis) and
# a build (default build/). Servers listen on 127.0.0.1 only. Every
# measurement holds /tmp/petera-build.lock so that no build disturbs it.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=$ROOT/build
RUNS=30
while (($#)); do
  case $1 in
    --runs) RUNS=${2:?}; shift ;;
    --build) BUILD=$(cd "${2:?}" && pwd); shift ;;
    -h | --help) sed -n '4,25p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "usage: bench/luks_unlock.sh [--runs N] [--build DIR]" >&2; exit 2 ;;
  esac
  shift
done
PETERA=$BUILD/src/petera/petera
PETERAD=$BUILD/src/peterad/peterad
PLUGIN=$BUILD/src/luks/libcryptsetup-token-petera.so
PLUGIN_DIR=/usr/lib/x86_64-linux-gnu/cryptsetup
for tool in hyperfine clevis jose tang-show-keys /usr/libexec/tangd systemd-socket-activate unshare; do
  command -v "$tool" >/dev/null || { echo "luks_unlock.sh: $tool is missing (scripts/install-deps.sh --tang)" >&2; exit 2; }
done
[[ -x $PETERA && -x $PETERAD && -f $PLUGIN ]] || { echo "luks_unlock.sh: build first ($BUILD)" >&2; exit 2; }

WORK=$(mktemp -d /tmp/petera-luks-bench.XXXXXX)
chmod 755 "$WORK"
PIDS=()
cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() {
  local i
  for i in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0; sleep 0.05; done
  echo "luks_unlock.sh: nothing listens on port $1" >&2; exit 1
}

bash "$ROOT/certs-examples/make-pki.sh" "$WORK/pki" >/dev/null
PKI=$WORK/pki
PORT=$(free_port)
"$PETERAD" --listen "127.0.0.1:$PORT" "$PKI/s1/tls.pem" "$PKI/s1/encrypt-ec.pem" "$PKI/s1/decrypt.d" \
  2>"$WORK/peterad.log" &
PIDS+=($!)
wait_port "$PORT"

mkdir -p "$WORK/tang"
/usr/libexec/tangd-keygen "$WORK/tang"
TPORT=$(free_port)
systemd-socket-activate --accept --inetd -l "127.0.0.1:$TPORT" /usr/libexec/tangd "$WORK/tang" \
  2>"$WORK/tangd.log" &
PIDS+=($!)
wait_port "$TPORT"

printf 'initial passphrase' >"$WORK/initial.key"
for name in petera clevis; do
  truncate -s 64M "$WORK/$name.img"
  cryptsetup luksFormat --batch-mode --type luks2 --pbkdf pbkdf2 --pbkdf-force-iterations 1000 \
    --key-file "$WORK/initial.key" "$WORK/$name.img"
done
"$PETERA" "$PKI/anchor.pem" luks bind -d "$WORK/petera.img" --key-file "$WORK/initial.key" \
  "127.0.0.1:$PORT"
clevis luks bind -y -d "$WORK/clevis.img" -k "$WORK/initial.key" tang \
  "{\"url\":\"http://127.0.0.1:$TPORT\",\"thp\":\"$(tang-show-keys "$TPORT")\"}"
"$PETERA" luks pass -d "$WORK/petera.img" >"$WORK/petera.pass"
SLOT=$(cryptsetup luksDump --dump-json-metadata "$WORK/petera.img" |
  /usr/bin/python3 -c 'import json,sys; d=json.load(sys.stdin); print([t["keyslots"][0] for t in d["tokens"].values() if t["type"]=="petera"][0])')
mkdir -p "$WORK/plugins"
objcopy --strip-debug "$PLUGIN" "$WORK/plugins/$(basename "$PLUGIN")"

ns() { echo "unshare -m sh -c 'mount --bind $WORK/plugins $PLUGIN_DIR && $1'"; }
declare -A CMD=(
  [petera-plugin]=$(ns "cryptsetup open --test-passphrase --token-only $WORK/petera.img")
  [petera-pass]="$PETERA luks pass -d $WORK/petera.img | cryptsetup open --test-passphrase --key-file - $WORK/petera.img"
  [clevis-tang]="clevis luks pass -d $WORK/clevis.img -s 1 | cryptsetup open --test-passphrase --key-file - $WORK/clevis.img"
  [floor]="cryptsetup open --test-passphrase --key-slot $SLOT --key-file $WORK/petera.pass $WORK/petera.img"
  [namespace]=$(ns "true")
)
# Every command must succeed before it is timed.
for name in "${!CMD[@]}"; do
  bash -c "${CMD[$name]}" >/dev/null || { echo "luks_unlock.sh: $name fails" >&2; exit 1; }
done
args=()
for name in petera-plugin petera-pass clevis-tang floor namespace; do
  args+=(-n "$name" "${CMD[$name]}")
done
flock /tmp/petera-build.lock hyperfine --style basic --shell bash --warmup 3 --runs "$RUNS" \
  --export-markdown "$WORK/result.md" "${args[@]}"
echo
cat "$WORK/result.md"
