#!/usr/bin/env bash
# Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
#
# A client key that never leaves a TPM 2.0, end to end: a software TPM
# (swtpm) behind a resource manager (tpm2-abrmd on a private D-Bus, as the
# kernel's /dev/tpmrm0 is on real hardware), keys made inside it (a TSS2 PEM
# file and a persistent handle), certificates for them from the demo client
# CA, the real peterad with --client-ca, and the real petera with --key.
#
#   tpm_test.sh PETERA PETERAD SOURCE_DIR
#
# Everything listens on 127.0.0.1 on free ports and is stopped at exit.
set -euo pipefail
PETERA=$1 PETERAD=$2 SRC=$3

WORK=$(mktemp -d /tmp/petera-tpm-test.XXXXXX)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  [[ -f $WORK/swtpm.pid ]] && kill "$(cat "$WORK/swtpm.pid")" 2>/dev/null || true
  [[ -f $WORK/dbus.pid ]] && kill "$(cat "$WORK/dbus.pid")" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; for f in "$WORK"/*.log; do [[ -f $f ]] && sed "s|^|  $(basename "$f"): |" "$f" >&2; done; exit 1; }
pass() { echo "ok    $*"; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

bash "$SRC/certs-examples/make-pki.sh" "$WORK/pki" >/dev/null
PKI=$WORK/pki

# The software TPM, on free ports (never 2321: with no TCTI set, the TSS
# library tries localhost:2321 by itself).
# The swtpm TCTI expects the control port right after the TPM's.
TPM_PORT=$(python3 -c '
import socket
for _ in range(100):
    a = socket.socket(); a.bind(("127.0.0.1", 0)); port = a.getsockname()[1]
    b = socket.socket()
    try:
        b.bind(("127.0.0.1", port + 1)); print(port); break
    except OSError:
        pass
    finally:
        a.close(); b.close()
')
CTRL_PORT=$((TPM_PORT + 1))
mkdir "$WORK/state"
swtpm socket --tpm2 --tpmstate dir="$WORK/state" \
  --server type=tcp,port="$TPM_PORT",bindaddr=127.0.0.1 \
  --ctrl type=tcp,port="$CTRL_PORT",bindaddr=127.0.0.1 \
  --flags not-need-init,startup-clear --pid file="$WORK/swtpm.pid" \
  --log file="$WORK/swtpm.log",level=1 --daemon

# Its resource manager: a TPM has 3 transient object slots, and a TLS
# handshake with a TPM key needs more at once; /dev/tpmrm0 does this on real
# hardware, tpm2-abrmd on a private session bus here.
dbus-daemon --session --address="unix:path=$WORK/dbus.sock" --fork --nopidfile \
  --print-address=3 --print-pid=4 3>"$WORK/dbus.addr" 4>"$WORK/dbus.pid"
export DBUS_SESSION_BUS_ADDRESS
DBUS_SESSION_BUS_ADDRESS=$(head -1 "$WORK/dbus.addr")
root_opt=()
[[ $(id -u) -eq 0 ]] && root_opt=(--allow-root)
tpm2-abrmd --session "${root_opt[@]}" --flush-all \
  --tcti="swtpm:host=127.0.0.1,port=$TPM_PORT" >"$WORK/abrmd.log" 2>&1 &
PIDS+=($!)
export TPM2TOOLS_TCTI="tabrmd:bus_name=com.intel.tss2.Tabrmd,bus_type=session"
export TPM2OPENSSL_TCTI=$TPM2TOOLS_TCTI
for _ in $(seq 100); do
  tpm2_getcap properties-fixed >/dev/null 2>&1 && break
  sleep 0.1
done
tpm2_getcap properties-fixed >/dev/null 2>&1 || fail "tpm2-abrmd did not come up"

# Two keys made inside the TPM: a TSS2 PEM file (a blob only this TPM can
# load) and a persistent handle.
openssl genpkey -provider tpm2 -provider default -algorithm EC -pkeyopt group:P-256 \
  -out "$WORK/key.tss2.pem" 2>"$WORK/genpkey.log" || fail "openssl genpkey in the TPM"
chmod 600 "$WORK/key.tss2.pem"
grep -q -- "-----BEGIN TSS2 PRIVATE KEY-----" "$WORK/key.tss2.pem" || fail "not a TSS2 key"
{
  tpm2_createprimary -Q -C o -g sha256 -G ecc256 -c "$WORK/primary.ctx" &&
  tpm2_create -Q -C "$WORK/primary.ctx" -g sha256 -G ecc256 \
    -a "fixedtpm|fixedparent|sensitivedataorigin|userwithauth|sign" \
    -u "$WORK/key.pub" -r "$WORK/key.priv" &&
  tpm2_load -Q -C "$WORK/primary.ctx" -u "$WORK/key.pub" -r "$WORK/key.priv" -c "$WORK/key.ctx" &&
  tpm2_evictcontrol -Q -C o -c "$WORK/key.ctx" 0x81000001
} >"$WORK/tpm2-tools.log" 2>&1 || fail "making the persistent key"

# A client certificate for each key, from the demo client CA.
printf '%s\n' "extendedKeyUsage=clientAuth" "keyUsage=critical,digitalSignature" \
  "subjectAltName=DNS:tpm.example.net" >"$WORK/ext"
certify() { # certify KEY NAME
  openssl req -new -provider tpm2 -provider default -key "$1" -subj "/CN=$2.example.net" \
    -out "$WORK/$2.csr" 2>>"$WORK/req.log" || fail "CSR signed with $1"
  openssl x509 -req -in "$WORK/$2.csr" -CA "$PKI/clients/ca.pem" \
    -CAkey "$PKI/ca/clients/ca-key.pem" -CAcreateserial -days 30 -extfile "$WORK/ext" \
    -out "$WORK/$2.pem" 2>>"$WORK/req.log" || fail "certificate for $2"
}
certify "$WORK/key.tss2.pem" tpm-file
certify handle:0x81000001 tpm-handle

# The server authorizes clients of the demo client CA only.
PORT=$(free_port)
"$PETERAD" --listen "127.0.0.1:$PORT" --client-ca "$PKI/clients/ca.pem" \
  "$PKI/s1/tls.pem" "$PKI/s1/encrypt-ec.pem" "$PKI/s1/decrypt.d" >"$WORK/peterad.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do
  "$PETERA" "$PKI/anchor.pem" fetch "localhost:$PORT" >/dev/null 2>&1 && break
  sleep 0.1
done
printf 'tpm-bound secret' | "$PETERA" "$PKI/anchor.pem" encrypt "localhost:$PORT" \
  >"$WORK/secret.jwe" 2>"$WORK/encrypt.log" || fail "encrypt"

out=$("$PETERA" "$PKI/anchor.pem" decrypt <"$WORK/secret.jwe" 2>"$WORK/refused.log") && fail "decrypted without a certificate"
grep -q "does not authorize this client" "$WORK/refused.log" || fail "no 403 explanation"
pass "without a client certificate the server refuses"

for case in "tpm-file $WORK/key.tss2.pem" "tpm-handle handle:0x81000001"; do
  read -r name key <<<"$case"
  out=$("$PETERA" --cert "$WORK/$name.pem" --key "$key" "$PKI/anchor.pem" decrypt \
        <"$WORK/secret.jwe" 2>"$WORK/decrypt-$name.log") || fail "decrypt with $key"
  [[ $out == "tpm-bound secret" ]] || fail "decrypt with $key gave '$out'"
  for _ in $(seq 50); do
    grep -q "POST /v1/recover 200 .*client CN=$name.example.net" "$WORK/peterad.log" && break
    sleep 0.1
  done
  grep -q "POST /v1/recover 200 .*client CN=$name.example.net" "$WORK/peterad.log" ||
    fail "the server did not log $name's authorized recovery"
  pass "--key $key: recovered, the server names CN=$name.example.net"
done

# For docs/benchmarks.md, printed only: a decrypt's wall time with the key
# in the (software) TPM against the same with a key file.
cp "$PKI/clients/laptop1.pem" "$WORK/laptop1.pem"
for case in "file --cert $WORK/laptop1.pem" "tpm-handle --cert $WORK/tpm-handle.pem --key handle:0x81000001"; do
  read -r label args <<<"$case"
  start=$(date +%s%N)
  for _ in 1 2 3 4 5; do
    # shellcheck disable=SC2086
    "$PETERA" $args "$PKI/anchor.pem" decrypt <"$WORK/secret.jwe" >/dev/null 2>&1 ||
      fail "timed decrypt ($label)"
  done
  echo "timing: petera decrypt with a $label key: $(( ($(date +%s%N) - start) / 5000000 )) ms"
done

# A TPM key that does not belong to the certificate is refused before any
# connection; so is the TPM key with the other key's certificate.
if "$PETERA" --cert "$WORK/tpm-file.pem" --key handle:0x81000001 "$PKI/anchor.pem" \
     decrypt <"$WORK/secret.jwe" >/dev/null 2>"$WORK/mismatch.log"; then
  fail "a certificate with another key's TPM handle was accepted"
fi
grep -q "does not belong to the first certificate" "$WORK/mismatch.log" || fail "mismatch message"
pass "a certificate with another TPM key is refused"

# The LUKS token records the handle: unlocking needs no argument.
image=$WORK/volume.img
truncate -s 20M "$image"
printf 'old passphrase' >"$WORK/old.key"
chmod 600 "$WORK/old.key"
cryptsetup luksFormat --batch-mode --type luks2 --pbkdf pbkdf2 --pbkdf-force-iterations 1000 \
  --key-file "$WORK/old.key" "$image" >/dev/null
"$PETERA" --cert "$WORK/tpm-handle.pem" --key handle:0x81000001 "$PKI/anchor.pem" luks bind \
  -d "$image" --key-file "$WORK/old.key" "localhost:$PORT" 2>"$WORK/bind.log" || fail "luks bind"
"$PETERA" luks list -d "$image" | grep -q "key handle:0x81000001" || fail "luks list"
"$PETERA" luks pass -d "$image" >"$WORK/pass" 2>"$WORK/pass.log" || fail "luks pass"
cryptsetup open --test-passphrase --key-file "$WORK/pass" "$image" || fail "the passphrase"
pass "petera luks: the token's TPM handle unlocks with no argument"
echo "tpm_test: all passed"
