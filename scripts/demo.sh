#!/usr/bin/env bash
# The demo, from a fresh Debian 12 machine: installs what is missing, builds,
# makes a demo PKI, starts two peterad servers on loopback and takes a secret
# through fetch, online and offline encrypt, a threshold, and decrypt. Stops the servers
# and removes its temporary files on the way out.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"

"$here/scripts/install-deps.sh"
echo "== building"
cmake -S "$here" -B "$here/build" >/dev/null
cmake --build "$here/build" -j"$(nproc)" --target petera peterad
petera="$here/build/src/petera/petera"
peterad="$here/build/src/peterad/peterad"

work=$(mktemp -d /tmp/petera-demo.XXXXXX)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
show() { printf '$ %s\n' "$*"; }

step "A demo PKI made with the openssl CLI (certs-examples/make-pki.sh)"
bash "$here/certs-examples/make-pki.sh" "$work/pki" >/dev/null
pki="$work/pki"
echo "root CA (the anchor), intermediate CA, and for each of three servers a TLS"
echo "certificate and EC and RSA encryption certificates: see certs-examples/README.md"

step "Two servers on loopback"
port1=$((20000 + RANDOM % 20000))
port2=$((port1 + 1))
"$peterad" --listen "127.0.0.1:$port1" "$pki/s1/tls.pem" "$pki/s1/encrypt-ec.pem" "$pki/s1/decrypt.d" 2>"$work/s1.log" &
pids+=($!)
"$peterad" --listen "127.0.0.1:$port2" "$pki/s2/tls.pem" "$pki/s2/encrypt-rsa.pem" "$pki/s2/decrypt.d" 2>"$work/s2.log" &
pids+=($!)
for port in "$port1" "$port2"; do
  for _ in $(seq 100); do
    curl -sf --cacert "$pki/anchor.pem" "https://localhost:$port/v1/health" >/dev/null && break
    sleep 0.1
  done
done
show "curl --cacert anchor.pem https://localhost:$port1/v1/health"
curl -sf --cacert "$pki/anchor.pem" "https://localhost:$port1/v1/health"; echo

step "fetch: server 2's encryption chain, for offline use"
show "petera anchor.pem fetch localhost:$port2 > s2.pem"
"$petera" "$pki/anchor.pem" fetch "localhost:$port2" > "$work/s2.pem"
head -n 1 "$work/s2.pem"

head -c 32 /dev/urandom > "$work/secret"
step "encrypt: online to server 1, offline to server 2 (mixed)"
show "petera anchor.pem encrypt localhost:$port1 s2.pem < secret > secret.jwe"
"$petera" "$pki/anchor.pem" encrypt "localhost:$port1" "$work/s2.pem" < "$work/secret" > "$work/secret.jwe"
echo "secret.jwe: $(wc -c < "$work/secret.jwe") bytes, a JWE with two recipients"

step "inspect: who can decrypt this envelope (no network)"
show "petera anchor.pem inspect < secret.jwe"
"$petera" "$pki/anchor.pem" inspect < "$work/secret.jwe"

step "decrypt: both servers up"
show "petera anchor.pem decrypt < secret.jwe > out"
"$petera" "$pki/anchor.pem" decrypt < "$work/secret.jwe" > "$work/out"
cmp "$work/secret" "$work/out" && echo "round trip OK: the output is the original secret"

step "encrypt --threshold 2: a second envelope that needs both servers together"
show "petera anchor.pem encrypt --threshold 2 localhost:$port1 s2.pem < secret > both.jwe"
"$petera" "$pki/anchor.pem" encrypt --threshold 2 "localhost:$port1" "$work/s2.pem" \
  < "$work/secret" > "$work/both.jwe"
"$petera" "$pki/anchor.pem" decrypt < "$work/both.jwe" > "$work/out-both"
cmp "$work/secret" "$work/out-both" && echo "round trip OK with a key share from each server"

step "decrypt: server 1 stopped, server 2 still answers"
kill "${pids[0]}"; wait "${pids[0]}" 2>/dev/null || true
"$petera" "$pki/anchor.pem" decrypt < "$work/secret.jwe" > "$work/out2"
cmp "$work/secret" "$work/out2" && echo "round trip OK through server 2"
if "$petera" --timeout 2 "$pki/anchor.pem" decrypt < "$work/both.jwe" > "$work/out-both2"; then
  echo "unexpected: the threshold envelope decrypted with one server" >&2
  exit 1
fi
[[ ! -s "$work/out-both2" ]] && echo "both.jwe is refused, nothing written: it needs both servers"

step "decrypt: both stopped: the secret stays locked"
kill "${pids[1]}"; wait "${pids[1]}" 2>/dev/null || true
if "$petera" --timeout 2 "$pki/anchor.pem" decrypt < "$work/secret.jwe" > "$work/out3"; then
  echo "unexpected: decrypted with no server" >&2
  exit 1
fi
[[ ! -s "$work/out3" ]] && echo "refused, nothing written"
pids=()
printf '\nDemo complete.\n'
