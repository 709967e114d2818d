#!/usr/bin/env bash
# Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
#
# Builds the demo PKI with certs-examples/make-pki.sh into a temporary
# directory and checks with the openssl CLI that every good certificate
# verifies and every negative one fails, each for its intended reason.
# Prints one line per check and ends with "N passed, M failed".

# Helpers below are run through check(), which shellcheck cannot follow.
# shellcheck disable=SC2317

set -uo pipefail

SRC=${PETERA_SOURCE_DIR:-$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/../.." && pwd)}
MAKE_PKI=$SRC/certs-examples/make-pki.sh

TMP=$(mktemp -d "${TMPDIR:-/tmp}/petera-pki-test.XXXXXX")
trap 'rm -rf -- "$TMP"' EXIT
PKI=$TMP/pki
ANCHOR=$PKI/anchor.pem
INTER=$PKI/ca/intermediate.pem
CRL=$PKI/bad/crl.pem

passed=0
failed=0

pass() {
  printf 'ok    %s\n' "$1"
  passed=$((passed + 1))
}

fail() {
  printf 'FAIL  %s\n' "$1"
  [[ -n ${2:-} ]] && printf '%s\n' "$2" | sed 's/^/      | /'
  failed=$((failed + 1))
}

finish() {
  printf '%d passed, %d failed\n' "$passed" "$failed"
  [[ $failed -eq 0 ]]
  exit $?
}

# check NAME CMD...: the command must succeed.
check() {
  local name=$1 out
  shift
  if out=$("$@" 2>&1); then pass "$name"; else fail "$name" "$out"; fi
}

# check_not NAME CMD...: the command must fail.
check_not() {
  local name=$1 out
  shift
  if out=$("$@" 2>&1); then fail "$name" "$out"; else pass "$name"; fi
}

# check_eq NAME EXPECTED ACTUAL
check_eq() {
  if [[ $2 == "$3" ]]; then pass "$1"; else fail "$1" "expected: $2"$'\n'"actual:   $3"; fi
}

verify() {
  openssl verify -x509_strict -CAfile "$ANCHOR" -untrusted "$INTER" "$@"
}

# verify_ok NAME [openssl verify options] CERT
verify_ok() {
  local name=$1 out
  shift
  if out=$(verify "$@" 2>&1) && grep -q ': OK$' <<<"$out"; then
    pass "$name"
  else
    fail "$name" "$out"
  fi
}

# verify_fails NAME REASON [openssl verify options] CERT: verification must
# fail and openssl must name REASON (case-insensitive) as the error.
verify_fails() {
  local name=$1 reason=$2 out
  shift 2
  if out=$(verify "$@" 2>&1); then
    fail "$name" "verified, expected: $reason"$'\n'"$out"
  elif grep -qiF -- "$reason" <<<"$out"; then
    pass "$name"
  else
    fail "$name" "expected: $reason"$'\n'"$out"
  fi
}

epoch() { date -u -d "$1" +%s; }
mode() { stat -c %a -- "$1"; }
count() { grep -c -- "$1" "$2"; }
ext() { openssl x509 -noout -ext "$2" -in "$1" 2>/dev/null | sed -n '2,$p' | sed 's/^ *//'; }
text() { openssl x509 -noout -text -in "$1"; }
# pubkeys_match CHAIN_OR_CERT KEY: the first certificate's key is KEY's key.
pubkeys_match() {
  local cert_pub key_pub
  cert_pub=$(openssl x509 -noout -pubkey -in "$1") || return 1
  key_pub=$(openssl pkey -pubout -in "$2") || return 1
  [[ -n $cert_pub && $cert_pub == "$key_pub" ]]
}
# has_text CERT PATTERN...: the first certificate's text shows every PATTERN.
has_text() {
  local t p
  t=$(text "$1") || return 1
  shift
  for p in "$@"; do
    grep -q -- "$p" <<<"$t" || return 1
  done
}
# help_works: make-pki.sh --help exits 0 and explains its argument.
help_works() {
  local out
  out=$(bash "$MAKE_PKI" --help) && grep -q "Usage: make-pki.sh \[--root-curve P-256|P-384\] OUTDIR" <<<"$out"
}
no_staging_left() {
  local f
  for f in "$PKI"/.make-pki*; do
    [[ -e $f ]] && return 1
  done
  return 0
}
# verify_under ANCHOR CHAIN [options]: CHAIN's leaf verifies under ANCHOR
# with the rest of CHAIN as untrusted intermediates.
verify_under() {
  local anchor=$1 chain=$2
  shift 2
  openssl verify -x509_strict -CAfile "$anchor" -untrusted "$chain" "$@" "$chain"
}
# crl_signed_by CRL CAFILE
crl_signed_by() { openssl crl -noout -CAfile "$2" -in "$1"; }
# crl_lists CRL SERIAL
crl_lists() { openssl crl -noout -text -in "$1" | grep -q "Serial Number: $2$"; }
# second_cert CHAIN: prints the second certificate of CHAIN.
second_cert() {
  awk '/BEGIN CERTIFICATE/{n++} n==2{print} n==2 && /END CERTIFICATE/{exit}' "$1"
}

MID_2020=$(epoch 2020-06-01)
EARLY_2020=$(epoch '2020-01-01 00:00:01')
LATE_2044=$(epoch '2044-12-31 23:59:59')
IN_2041=$(epoch 2041-01-01)

# ------------------------------------------------------------ make-pki.sh

check "make-pki.sh --help exits 0 and explains OUTDIR" help_works
check_not "make-pki.sh without arguments fails" bash "$MAKE_PKI"

if out=$(bash "$MAKE_PKI" "$PKI" 2>&1); then
  pass "make-pki.sh builds the PKI"
else
  fail "make-pki.sh builds the PKI" "$out"
  finish
fi

tree_sum() { (cd "$PKI" && find . -type f -print0 | sort -z | xargs -0 sha256sum); }
before=$(tree_sum)
out=$(bash "$MAKE_PKI" "$PKI" 2>&1)
status=$?
if [[ $status -ne 0 ]] && grep -q "not empty" <<<"$out" && [[ $(tree_sum) == "$before" ]]; then
  pass "make-pki.sh refuses a non-empty OUTDIR and changes nothing"
else
  fail "make-pki.sh refuses a non-empty OUTDIR and changes nothing" "status $status: $out"
fi
check "make-pki.sh leaves no staging directory" no_staging_left
bad_curve_refused() {
  local out
  out=$(bash "$MAKE_PKI" --root-curve P-521 "$TMP/p521-root" 2>&1)
  [[ $? -eq 1 ]] && grep -q -- "--root-curve must be P-256 or P-384" <<<"$out" &&
    [[ ! -e $TMP/p521-root ]]
}
check "make-pki.sh refuses another --root-curve and creates nothing" bad_curve_refused
# The P-384 variant: same PKI, the root and its signatures on P-384/SHA-384.
if out=$(bash "$MAKE_PKI" --root-curve P-384 "$TMP/p384-root" 2>&1); then
  check "--root-curve P-384: root EC P-384 self-signed with ECDSA-SHA384" \
    has_text "$TMP/p384-root/anchor.pem" "NIST CURVE: P-384" "Signature Algorithm: ecdsa-with-SHA384"
  check "--root-curve P-384: intermediate P-256, signed with ECDSA-SHA384" \
    has_text "$TMP/p384-root/ca/intermediate.pem" "NIST CURVE: P-256" "Signature Algorithm: ecdsa-with-SHA384"
  check "--root-curve P-384: s1's TLS chain verifies under its anchor" \
    verify_under "$TMP/p384-root/anchor.pem" "$TMP/p384-root/s1/tls.pem" -purpose sslserver
  check_not "--root-curve P-384: s1's TLS chain does not verify under the P-256 anchor" \
    verify_under "$ANCHOR" "$TMP/p384-root/s1/tls.pem" -purpose sslserver
else
  fail "make-pki.sh --root-curve P-384 builds the PKI" "$out"
fi

# ------------------------------------------------------------ layout

expected=(anchor.pem ca/root.pem ca/root-key.pem ca/intermediate.pem ca/intermediate-key.pem
  s1/encrypt-p384.pem s1/encrypt-p521.pem s1/decrypt.d/p384.pem s1/decrypt.d/p521.pem
  s1/rotated/encrypt-ec.pem s1/rotated/ec.pem
  bad/expired-encrypt.pem bad/expired-encrypt-key.pem bad/notyet-encrypt.pem
  bad/expired-tls.pem bad/tls-noserverauth.pem bad/tls-wrongname.pem bad/tls-cn-only.pem
  bad/otherroot-anchor.pem bad/otherroot-tls.pem bad/otherroot-encrypt.pem
  bad/otherroot-encrypt-key.pem bad/sha1-encrypt.pem bad/rsa1024-encrypt.pem
  bad/revoked-encrypt.pem bad/crl.pem
  ca/clients/ca.pem ca/clients/ca-key.pem clients/ca.pem
  clients/crl.pem clients/crl-empty.pem clients/crl-laptop2.pem)
for name in laptop1 laptop2 expired no-client-auth revoked other-ca; do
  expected+=("clients/$name.pem" "clients/$name.key-id")
done
for n in 1 2 3; do
  expected+=("s$n/tls.pem" "s$n/encrypt-ec.pem" "s$n/encrypt-rsa.pem"
    "s$n/decrypt.d/ec.pem" "s$n/decrypt.d/rsa.pem")
done
missing=()
for f in "${expected[@]}"; do
  [[ -s $PKI/$f ]] || missing+=("$f")
done
check_eq "layout: every file of the documented layout exists" "" "${missing[*]}"
check "layout: anchor.pem is the root CA certificate" cmp "$ANCHOR" "$PKI/ca/root.pem"
for n in 2 3; do
  check_eq "layout: s$n/decrypt.d holds exactly ec.pem and rsa.pem" \
    "$PKI/s$n/decrypt.d/ec.pem $PKI/s$n/decrypt.d/rsa.pem" "$(echo "$PKI/s$n"/decrypt.d/*)"
done

# ------------------------------------------------------------ modes

private_files=(ca/root-key.pem ca/intermediate-key.pem s1/rotated/ec.pem
  bad/expired-encrypt-key.pem bad/otherroot-encrypt-key.pem
  bad/expired-tls.pem bad/tls-noserverauth.pem bad/tls-wrongname.pem
  bad/tls-cn-only.pem bad/otherroot-tls.pem ca/clients/ca-key.pem)
for name in laptop1 laptop2 expired no-client-auth revoked other-ca; do
  private_files+=("clients/$name.pem")
done
for n in 1 2 3; do
  private_files+=("s$n/tls.pem")
  for f in "$PKI/s$n"/decrypt.d/*.pem; do private_files+=("${f#"$PKI"/}"); done
done
for f in "${private_files[@]}"; do
  check_eq "mode: $f is 600" 600 "$(mode "$PKI/$f")"
done
for d in ca s1/decrypt.d s2/decrypt.d s3/decrypt.d s1/rotated; do
  check_eq "mode: directory $d is 700" 700 "$(mode "$PKI/$d")"
done
check_eq "mode: directory clients is 755" 755 "$(mode "$PKI/clients")"
for f in clients/ca.pem clients/crl.pem clients/crl-empty.pem clients/crl-laptop2.pem \
  clients/laptop1.key-id clients/laptop2.key-id; do
  check_eq "mode: $f is 644" 644 "$(mode "$PKI/$f")"
done
# Every file holding a private key, wherever it is, is 600.
loose=$(grep -rl -- "PRIVATE KEY" "$PKI" | while read -r f; do
  [[ $(mode "$f") == 600 ]] || echo "$f"
done)
check_eq "mode: no private key anywhere is readable by others" "" "$loose"

# ------------------------------------------------------------ file contents

for n in 1 2 3; do
  s=$PKI/s$n
  check_eq "content: s$n/tls.pem holds 2 certificates and 1 key" "2 1" \
    "$(count 'BEGIN CERTIFICATE' "$s/tls.pem") $(count 'BEGIN .*PRIVATE KEY' "$s/tls.pem")"
  for f in encrypt-ec.pem encrypt-rsa.pem; do
    check_eq "content: s$n/$f holds 2 certificates and no key" "2 0" \
      "$(count 'BEGIN CERTIFICATE' "$s/$f") $(grep -c 'PRIVATE KEY' "$s/$f")"
    check_eq "content: s$n/$f carries the intermediate second" \
      "$(cat "$INTER")" "$(second_cert "$s/$f")"
  done
done

# ------------------------------------------------------------ keys match

for f in "$PKI"/s[123]/tls.pem "$PKI"/s[123]/decrypt.d/*.pem "$PKI"/s1/rotated/ec.pem \
  "$PKI"/bad/{expired-tls,tls-noserverauth,tls-wrongname,tls-cn-only,otherroot-tls}.pem; do
  check "key matches certificate: ${f#"$PKI"/}" pubkeys_match "$f" "$f"
done
for n in 1 2 3; do
  check "key matches certificate: s$n/encrypt-ec.pem and decrypt.d/ec.pem" \
    pubkeys_match "$PKI/s$n/encrypt-ec.pem" "$PKI/s$n/decrypt.d/ec.pem"
  check "key matches certificate: s$n/encrypt-rsa.pem and decrypt.d/rsa.pem" \
    pubkeys_match "$PKI/s$n/encrypt-rsa.pem" "$PKI/s$n/decrypt.d/rsa.pem"
done
for c in 384 521; do
  check "key matches certificate: s1/encrypt-p$c.pem and decrypt.d/p$c.pem" \
    pubkeys_match "$PKI/s1/encrypt-p$c.pem" "$PKI/s1/decrypt.d/p$c.pem"
done
check "key matches certificate: s1/rotated/encrypt-ec.pem and rotated/ec.pem" \
  pubkeys_match "$PKI/s1/rotated/encrypt-ec.pem" "$PKI/s1/rotated/ec.pem"
check_not "rotation: the rotated key differs from the current one" \
  pubkeys_match "$PKI/s1/rotated/encrypt-ec.pem" "$PKI/s1/decrypt.d/ec.pem"
check_not "servers: s1 and s2 have different encryption keys" \
  pubkeys_match "$PKI/s1/encrypt-ec.pem" "$PKI/s2/decrypt.d/ec.pem"
for k in "$PKI"/bad/*-key.pem; do
  c=${k%-key.pem}.pem
  check "key matches certificate: ${c#"$PKI"/} and its -key.pem" pubkeys_match "$c" "$k"
done

# ------------------------------------------------------------ CA certificates

check_eq "root: basicConstraints critical CA:TRUE pathlen:1" \
  "X509v3 Basic Constraints: critical CA:TRUE, pathlen:1" \
  "$(openssl x509 -noout -ext basicConstraints -in "$ANCHOR" | xargs)"
check_eq "root: keyUsage critical keyCertSign, cRLSign" \
  "X509v3 Key Usage: critical Certificate Sign, CRL Sign" \
  "$(openssl x509 -noout -ext keyUsage -in "$ANCHOR" | xargs)"
check_eq "intermediate: basicConstraints critical CA:TRUE pathlen:0" \
  "X509v3 Basic Constraints: critical CA:TRUE, pathlen:0" \
  "$(openssl x509 -noout -ext basicConstraints -in "$INTER" | xargs)"
check_eq "intermediate: keyUsage critical keyCertSign, cRLSign" \
  "X509v3 Key Usage: critical Certificate Sign, CRL Sign" \
  "$(openssl x509 -noout -ext keyUsage -in "$INTER" | xargs)"
check "root: EC P-256 key signed with ECDSA-SHA256" \
  has_text "$ANCHOR" "NIST CURVE: P-256" "Signature Algorithm: ecdsa-with-SHA256"
check "intermediate: EC P-256 key signed by the root with ECDSA-SHA256" \
  has_text "$INTER" "NIST CURVE: P-256" "Signature Algorithm: ecdsa-with-SHA256"
verify_ok "intermediate verifies against the anchor" "$INTER"

# ------------------------------------------------------------ good certificates

good_dates() { # good_dates NAME CERT: valid 2020-01-01 .. 2045-01-01 exactly
  check_eq "$1: valid 2020-01-01 to 2045-01-01" \
    "notBefore=Jan  1 00:00:00 2020 GMT notAfter=Jan  1 00:00:00 2045 GMT" \
    "$(openssl x509 -noout -startdate -enddate -in "$2" | paste -sd' ')"
}
good_dates "root" "$ANCHOR"
good_dates "intermediate" "$INTER"

for n in 1 2 3; do
  tls=$PKI/s$n/tls.pem
  good_dates "s$n/tls.pem" "$tls"
  for name in localhost "s$n.petera.test"; do
    verify_ok "s$n/tls.pem verifies as sslserver for $name" \
      -purpose sslserver -verify_hostname "$name" "$tls"
  done
  for ip in 127.0.0.1 ::1; do
    verify_ok "s$n/tls.pem verifies as sslserver for $ip" -purpose sslserver -verify_ip "$ip" "$tls"
  done
  verify_ok "s$n/tls.pem verifies with CRL checks" -purpose sslserver -crl_check_all -CRLfile "$CRL" "$tls"
  verify_ok "s$n/tls.pem verifies on 2020-01-01" -purpose sslserver -attime "$EARLY_2020" "$tls"
  verify_ok "s$n/tls.pem verifies at the end of 2044" -purpose sslserver -attime "$LATE_2044" "$tls"
  other=$(( n % 3 + 1 ))
  verify_fails "s$n/tls.pem does not match s$other.petera.test" "hostname mismatch" \
    -purpose sslserver -verify_hostname "s$other.petera.test" "$tls"
  check_eq "s$n/tls.pem: SAN" \
    "DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1, DNS:s$n.petera.test" \
    "$(ext "$tls" subjectAltName)"
  check_eq "s$n/tls.pem: keyUsage critical digitalSignature" "X509v3 Key Usage: critical Digital Signature" \
    "$(openssl x509 -noout -ext keyUsage -in "$tls" | xargs)"
  check_eq "s$n/tls.pem: EKU serverAuth" "TLS Web Server Authentication" "$(ext "$tls" extendedKeyUsage)"

  for kind in ec rsa; do
    enc=$PKI/s$n/encrypt-$kind.pem
    good_dates "s$n/encrypt-$kind.pem" "$enc"
    verify_ok "s$n/encrypt-$kind.pem verifies" "$enc"
    verify_ok "s$n/encrypt-$kind.pem verifies with CRL checks" -crl_check_all -CRLfile "$CRL" "$enc"
    verify_ok "s$n/decrypt.d/$kind.pem verifies" "$PKI/s$n/decrypt.d/$kind.pem"
    check_eq "s$n/encrypt-$kind.pem: SAN" "DNS:localhost, IP Address:127.0.0.1, DNS:s$n.petera.test" \
      "$(ext "$enc" subjectAltName)"
    check_eq "s$n/encrypt-$kind.pem: no EKU" "" "$(ext "$enc" extendedKeyUsage)"
  done
  check_eq "s$n/encrypt-ec.pem: keyUsage critical keyAgreement only" \
    "X509v3 Key Usage: critical Key Agreement" \
    "$(openssl x509 -noout -ext keyUsage -in "$PKI/s$n/encrypt-ec.pem" | xargs)"
  check_eq "s$n/encrypt-rsa.pem: keyUsage critical keyEncipherment only" \
    "X509v3 Key Usage: critical Key Encipherment" \
    "$(openssl x509 -noout -ext keyUsage -in "$PKI/s$n/encrypt-rsa.pem" | xargs)"
  check "s$n/encrypt-ec.pem: EC P-256 key signed with ECDSA-SHA256" \
    has_text "$PKI/s$n/encrypt-ec.pem" "NIST CURVE: P-256" "Signature Algorithm: ecdsa-with-SHA256"
  check "s$n/encrypt-rsa.pem: RSA-3072 key" has_text "$PKI/s$n/encrypt-rsa.pem" "Public-Key: (3072 bit)"
  check "s$n/tls.pem: EC P-256 key" has_text "$tls" "NIST CURVE: P-256"
  # OpenSSL's sslserver purpose treats a leaf without EKU as good for any
  # purpose and counts keyAgreement and keyEncipherment as TLS key usages,
  # so `openssl verify -purpose sslserver` accepts the encryption
  # certificates. Petera has to require the serverAuth EKU on TLS leaves
  # itself; what these certificates guarantee is that they carry no EKU.
  verify_ok "s$n/encrypt-ec.pem: openssl's sslserver purpose accepts it (no EKU)" \
    -purpose sslserver "$PKI/s$n/encrypt-ec.pem"
done

for c in 384 521; do
  enc=$PKI/s1/encrypt-p$c.pem
  good_dates "s1/encrypt-p$c.pem" "$enc"
  verify_ok "s1/encrypt-p$c.pem verifies" -crl_check_all -CRLfile "$CRL" "$enc"
  verify_ok "s1/decrypt.d/p$c.pem verifies" "$PKI/s1/decrypt.d/p$c.pem"
  check "s1/encrypt-p$c.pem: EC P-$c key" has_text "$enc" "NIST CURVE: P-$c"
  check_eq "s1/encrypt-p$c.pem: keyUsage critical keyAgreement only" \
    "X509v3 Key Usage: critical Key Agreement" "$(openssl x509 -noout -ext keyUsage -in "$enc" | xargs)"
done
good_dates "s1/rotated/encrypt-ec.pem" "$PKI/s1/rotated/encrypt-ec.pem"
verify_ok "s1/rotated/encrypt-ec.pem verifies" -crl_check_all -CRLfile "$CRL" "$PKI/s1/rotated/encrypt-ec.pem"
verify_ok "s1/rotated/ec.pem verifies" "$PKI/s1/rotated/ec.pem"

# ------------------------------------------------------------ negatives

B=$PKI/bad

verify_fails "expired-encrypt.pem: expired" "certificate has expired" "$B/expired-encrypt.pem"
verify_ok "expired-encrypt.pem: fine on 2020-06-01 (expiry is its only fault)" \
  -attime "$MID_2020" "$B/expired-encrypt.pem"
check_eq "expired-encrypt.pem: valid 2020-01-01 to 2021-01-01" \
  "notBefore=Jan  1 00:00:00 2020 GMT notAfter=Jan  1 00:00:00 2021 GMT" \
  "$(openssl x509 -noout -startdate -enddate -in "$B/expired-encrypt.pem" | paste -sd' ')"

verify_fails "notyet-encrypt.pem: not yet valid" "certificate is not yet valid" "$B/notyet-encrypt.pem"
verify_ok "notyet-encrypt.pem: fine in 2041" -attime "$IN_2041" "$B/notyet-encrypt.pem"
check_eq "notyet-encrypt.pem: valid from 2040-01-01" "notBefore=Jan  1 00:00:00 2040 GMT" \
  "$(openssl x509 -noout -startdate -in "$B/notyet-encrypt.pem")"

verify_fails "expired-tls.pem: expired" "certificate has expired" \
  -purpose sslserver -verify_hostname localhost "$B/expired-tls.pem"
verify_ok "expired-tls.pem: fine on 2020-06-01" \
  -purpose sslserver -verify_hostname localhost -attime "$MID_2020" "$B/expired-tls.pem"

# OpenSSL 3.0 words X509_V_ERR_INVALID_PURPOSE "unsuitable certificate purpose".
verify_fails "tls-noserverauth.pem: refused for sslserver" "unsuitable certificate purpose" \
  -purpose sslserver "$B/tls-noserverauth.pem"
verify_ok "tls-noserverauth.pem: fine without a purpose" "$B/tls-noserverauth.pem"

verify_fails "tls-wrongname.pem: localhost mismatch" "hostname mismatch" \
  -purpose sslserver -verify_hostname localhost "$B/tls-wrongname.pem"
verify_fails "tls-wrongname.pem: 127.0.0.1 mismatch" "IP address mismatch" \
  -purpose sslserver -verify_ip 127.0.0.1 "$B/tls-wrongname.pem"
verify_ok "tls-wrongname.pem: fine for other.petera.test" \
  -purpose sslserver -verify_hostname other.petera.test "$B/tls-wrongname.pem"
verify_ok "tls-wrongname.pem: fine for 10.9.9.9" -purpose sslserver -verify_ip 10.9.9.9 "$B/tls-wrongname.pem"

# The openssl CLI has no switch for X509_CHECK_FLAG_NEVER_CHECK_SUBJECT: with
# no DNS SAN present OpenSSL falls back to the subject CN, so `openssl verify
# -verify_hostname localhost` accepts this certificate. Petera must not (it
# matches subjectAltName only), so what is asserted here is the material:
# CN=localhost and no subjectAltName at all; IPs are never taken from the CN.
verify_ok "tls-cn-only.pem: openssl's CN fallback accepts localhost" \
  -purpose sslserver -verify_hostname localhost "$B/tls-cn-only.pem"
check_eq "tls-cn-only.pem: subject is CN=localhost" "subject=CN = localhost" \
  "$(openssl x509 -noout -subject -in "$B/tls-cn-only.pem")"
check_eq "tls-cn-only.pem: has no subjectAltName" 0 \
  "$(text "$B/tls-cn-only.pem" | grep -c 'Subject Alternative Name')"
verify_fails "tls-cn-only.pem: 127.0.0.1 mismatch" "IP address mismatch" \
  -purpose sslserver -verify_ip 127.0.0.1 "$B/tls-cn-only.pem"

# The other root's chains carry their own intermediate, so offer the chain
# file as untrusted: the path then stops at a root we do not trust.
verify_fails "otherroot-tls.pem: not under our anchor" "unable to get local issuer certificate" \
  -purpose sslserver -untrusted "$B/otherroot-tls.pem" "$B/otherroot-tls.pem"
verify_fails "otherroot-encrypt.pem: not under our anchor" "unable to get local issuer certificate" \
  -untrusted "$B/otherroot-encrypt.pem" "$B/otherroot-encrypt.pem"
check "otherroot-tls.pem: verifies under otherroot-anchor.pem" \
  verify_under "$B/otherroot-anchor.pem" "$B/otherroot-tls.pem" -purpose sslserver -verify_hostname localhost
check "otherroot-encrypt.pem: verifies under otherroot-anchor.pem" \
  verify_under "$B/otherroot-anchor.pem" "$B/otherroot-encrypt.pem"
if ! out=$(verify_under "$B/otherroot-anchor.pem" "$PKI/s1/encrypt-ec.pem" 2>&1) &&
  grep -q "unable to get local issuer certificate" <<<"$out"; then
  pass "s1/encrypt-ec.pem: refused under otherroot-anchor.pem"
else
  fail "s1/encrypt-ec.pem: refused under otherroot-anchor.pem" "$out"
fi

# OpenSSL 3.0's `openssl verify` applies no security level to chains unless
# -auth_level is given, so by default it accepts both weak certificates.
# At -auth_level 1 (80 bits) SHA-1 (rated below 80 bits since 3.0) is refused
# while RSA-1024 (80 bits) still passes; at -auth_level 2 (112 bits) both are
# refused. Petera must refuse both (it verifies at level 2 or higher).
check_eq "sha1-encrypt.pem: signed with ECDSA-SHA1" 2 \
  "$(text "$B/sha1-encrypt.pem" | grep -c 'Signature Algorithm: ecdsa-with-SHA1$')"
verify_ok "sha1-encrypt.pem: accepted by openssl verify without -auth_level" "$B/sha1-encrypt.pem"
verify_fails "sha1-encrypt.pem: refused at -auth_level 1" "CA signature digest algorithm too weak" \
  -auth_level 1 "$B/sha1-encrypt.pem"
verify_fails "sha1-encrypt.pem: refused at -auth_level 2" "CA signature digest algorithm too weak" \
  -auth_level 2 "$B/sha1-encrypt.pem"

check "rsa1024-encrypt.pem: RSA-1024 key" has_text "$B/rsa1024-encrypt.pem" "Public-Key: (1024 bit)"
verify_ok "rsa1024-encrypt.pem: accepted by openssl verify without -auth_level" "$B/rsa1024-encrypt.pem"
verify_ok "rsa1024-encrypt.pem: accepted at -auth_level 1" -auth_level 1 "$B/rsa1024-encrypt.pem"
verify_fails "rsa1024-encrypt.pem: refused at -auth_level 2" "EE certificate key too weak" \
  -auth_level 2 "$B/rsa1024-encrypt.pem"
verify_ok "s1/encrypt-rsa.pem: RSA-3072 passes at -auth_level 2" -auth_level 2 "$PKI/s1/encrypt-rsa.pem"
verify_ok "s1/tls.pem: passes at -auth_level 2" -auth_level 2 -purpose sslserver "$PKI/s1/tls.pem"

verify_fails "revoked-encrypt.pem: revoked" "certificate revoked" \
  -crl_check_all -CRLfile "$CRL" "$B/revoked-encrypt.pem"
verify_ok "revoked-encrypt.pem: fine without CRLs" "$B/revoked-encrypt.pem"

# ------------------------------------------------------------ CRLs

check_eq "crl.pem: holds two CRLs" 2 "$(count 'BEGIN X509 CRL' "$CRL")"
awk -v dir="$TMP" '/BEGIN X509 CRL/{n++} {print > (dir "/crl" n ".pem")}' "$CRL"
check_eq "crl.pem: first CRL is the root's, valid until 2045" \
  "issuer=O = Petera Demo, CN = Petera Demo Root CA nextUpdate=Jan  1 00:00:00 2045 GMT" \
  "$(openssl crl -noout -issuer -nextupdate -in "$TMP/crl1.pem" 2>&1 | paste -sd' ')"
check_eq "crl.pem: second CRL is the intermediate's, valid until 2045" \
  "issuer=O = Petera Demo, CN = Petera Demo Intermediate CA nextUpdate=Jan  1 00:00:00 2045 GMT" \
  "$(openssl crl -noout -issuer -nextupdate -in "$TMP/crl2.pem" 2>&1 | paste -sd' ')"
check "crl.pem: the root's CRL is signed by the root" crl_signed_by "$TMP/crl1.pem" "$ANCHOR"
check "crl.pem: the intermediate's CRL is signed by the intermediate" crl_signed_by "$TMP/crl2.pem" "$INTER"
check_not "crl.pem: the intermediate's CRL is not signed by the root" crl_signed_by "$TMP/crl2.pem" "$ANCHOR"
revoked=$(openssl x509 -noout -serial -in "$B/revoked-encrypt.pem" | cut -d= -f2)
check "crl.pem: the intermediate's CRL lists revoked-encrypt.pem's serial" crl_lists "$TMP/crl2.pem" "$revoked"
check_eq "crl.pem: the root's CRL revokes nothing" 1 \
  "$(openssl crl -noout -text -in "$TMP/crl1.pem" 2>&1 | grep -c 'No Revoked Certificates')"
# -crl_check_all needs a CRL for every CA of the path: with only the
# intermediate's CRL the path is refused, so crl.pem really holds both.
verify_fails "crl_check_all needs the root's CRL too" "unable to get certificate CRL" \
  -crl_check_all -CRLfile "$TMP/crl2.pem" "$PKI/s1/encrypt-ec.pem"

# ------------------------------------------------------------ clients

C=$PKI/clients
CLIENT_CA=$C/ca.pem
# client_verify EXPECT NAME [openssl verify options] CERT: against the
# client CA alone, as a client certificate. EXPECT is "ok" or the error
# openssl must name (case-insensitive).
client_verify() {
  local expect=$1 name=$2 out
  shift 2
  out=$(openssl verify -x509_strict -purpose sslclient -CAfile "$CLIENT_CA" "$@" 2>&1)
  if [[ $expect == ok ]] && grep -q ': OK$' <<<"$out"; then
    pass "$name"
  elif [[ $expect != ok ]] && ! grep -q ': OK$' <<<"$out" && grep -qiF -- "$expect" <<<"$out"; then
    pass "$name"
  else
    fail "$name" "expected: $expect"$'\n'"$out"
  fi
}
# key_id FILE: the base64url SHA-256 of FILE's (first) certificate's SPKI.
key_id() {
  openssl x509 -in "$1" -noout -pubkey | openssl pkey -pubin -outform DER |
    openssl dgst -sha256 -binary | basenc --base64url | tr -d '=\n'
}
# crl_dates CRL: "lastUpdate=... nextUpdate=..." on one line.
crl_dates() { openssl crl -noout -lastupdate -nextupdate -in "$1" 2>&1 | paste -sd' '; }
serial_of() { openssl x509 -noout -serial -in "$1" | cut -d= -f2; }

# The client CA: a self-signed root of its own, one level deep.
check_eq "clients/ca.pem: subject and issuer are Petera Demo Client CA" \
  "subject=O = Petera Demo, CN = Petera Demo Client CA issuer=O = Petera Demo, CN = Petera Demo Client CA" \
  "$(openssl x509 -noout -subject -issuer -in "$CLIENT_CA" | paste -sd' ')"
check "clients/ca.pem: self-signed (verifies as its own anchor)" \
  openssl verify -x509_strict -check_ss_sig -CAfile "$CLIENT_CA" "$CLIENT_CA"
check_eq "clients/ca.pem: basicConstraints critical CA:TRUE pathlen:0" \
  "X509v3 Basic Constraints: critical CA:TRUE, pathlen:0" \
  "$(openssl x509 -noout -ext basicConstraints -in "$CLIENT_CA" | xargs)"
check_eq "clients/ca.pem: keyUsage critical keyCertSign, cRLSign" \
  "X509v3 Key Usage: critical Certificate Sign, CRL Sign" \
  "$(openssl x509 -noout -ext keyUsage -in "$CLIENT_CA" | xargs)"
check "clients/ca.pem: EC P-256 key signed with ECDSA-SHA256" \
  has_text "$CLIENT_CA" "NIST CURVE: P-256" "Signature Algorithm: ecdsa-with-SHA256"
good_dates "clients/ca.pem" "$CLIENT_CA"
check "clients/ca.pem: is ca/clients/ca.pem" cmp "$CLIENT_CA" "$PKI/ca/clients/ca.pem"
check "clients/ca.pem: ca/clients/ca-key.pem is its key" \
  pubkeys_match "$CLIENT_CA" "$PKI/ca/clients/ca-key.pem"
check_not "clients/ca.pem: not the server anchor" cmp -s "$CLIENT_CA" "$ANCHOR"
verify_fails "clients/laptop1.pem: not under the server anchor" "unable to get local issuer certificate" \
  -purpose sslclient "$C/laptop1.pem"

# Every client file: the certificate, then its PKCS#8 private key, 0600.
for name in laptop1 laptop2 expired no-client-auth revoked other-ca; do
  f=$C/$name.pem
  check_eq "clients/$name.pem: one certificate, then one PKCS#8 key" \
    "-----BEGIN CERTIFICATE----- -----BEGIN PRIVATE KEY-----" \
    "$(grep -- '-----BEGIN' "$f" | paste -sd' ')"
  check "clients/$name.pem: the key belongs to the certificate" pubkeys_match "$f" "$f"
  check "clients/$name.pem: EC P-256 key" has_text "$f" "NIST CURVE: P-256"
  check_eq "clients/$name.pem: subject CN=$name.example.net" "$name.example.net" \
    "$(openssl x509 -noout -subject -nameopt multiline -in "$f" | sed -n 's/^ *commonName *= //p')"
  check_eq "clients/$name.pem: SAN DNS:$name.example.net" "DNS:$name.example.net" \
    "$(ext "$f" subjectAltName)"
  check_eq "clients/$name.pem: keyUsage critical digitalSignature" \
    "X509v3 Key Usage: critical Digital Signature" \
    "$(openssl x509 -noout -ext keyUsage -in "$f" | xargs)"
  check_eq "clients/$name.key-id: the SHA-256 of its certificate's public key" \
    "$(key_id "$f")" "$(cat "$C/$name.key-id")"
done

for name in laptop1 laptop2; do
  f=$C/$name.pem
  good_dates "clients/$name.pem" "$f"
  check_eq "clients/$name.pem: EKU clientAuth only" "TLS Web Client Authentication" \
    "$(ext "$f" extendedKeyUsage)"
  check_eq "clients/$name.pem: basicConstraints critical CA:FALSE" \
    "X509v3 Basic Constraints: critical CA:FALSE" \
    "$(openssl x509 -noout -ext basicConstraints -in "$f" | xargs)"
  client_verify ok "clients/$name.pem: a client certificate of the client CA" "$f"
  client_verify ok "clients/$name.pem: valid on 2020-01-01" -attime "$EARLY_2020" "$f"
  client_verify ok "clients/$name.pem: valid at the end of 2044" -attime "$LATE_2044" "$f"
  client_verify ok "clients/$name.pem: passes with crl-empty.pem" -crl_check -CRLfile "$C/crl-empty.pem" "$f"
  client_verify ok "clients/$name.pem: passes with crl.pem" -crl_check -CRLfile "$C/crl.pem" "$f"
  verify_fails "clients/$name.pem: refused for sslserver" "unsuitable certificate purpose" \
    -CAfile "$CLIENT_CA" -purpose sslserver "$f"
  check "clients/$name.key-id: one line of 43 base64url characters" \
    grep -qxE '[A-Za-z0-9_-]{43}' "$C/$name.key-id"
  check_eq "clients/$name.key-id: a single line" 1 "$(wc -l <"$C/$name.key-id")"
done
check_not "clients: laptop1 and laptop2 have different key ids" \
  cmp -s "$C/laptop1.key-id" "$C/laptop2.key-id"
client_verify ok "clients/laptop1.pem: still passes with crl-laptop2.pem" \
  -crl_check -CRLfile "$C/crl-laptop2.pem" "$C/laptop1.pem"
client_verify "certificate revoked" "clients/laptop2.pem: revoked by crl-laptop2.pem" \
  -crl_check -CRLfile "$C/crl-laptop2.pem" "$C/laptop2.pem"

# Negatives: each fails for its own reason, and for nothing else.
client_verify "certificate has expired" "clients/expired.pem: expired" "$C/expired.pem"
client_verify ok "clients/expired.pem: fine on 2020-06-01 (expiry is its only fault)" \
  -attime "$MID_2020" "$C/expired.pem"
check_eq "clients/expired.pem: valid 2020-01-01 to 2021-01-01" \
  "notBefore=Jan  1 00:00:00 2020 GMT notAfter=Jan  1 00:00:00 2021 GMT" \
  "$(openssl x509 -noout -startdate -enddate -in "$C/expired.pem" | paste -sd' ')"

client_verify "unsuitable certificate purpose" "clients/no-client-auth.pem: refused for sslclient" \
  "$C/no-client-auth.pem"
check_eq "clients/no-client-auth.pem: EKU serverAuth only" "TLS Web Server Authentication" \
  "$(ext "$C/no-client-auth.pem" extendedKeyUsage)"
check "clients/no-client-auth.pem: fine without a purpose" \
  openssl verify -x509_strict -CAfile "$CLIENT_CA" "$C/no-client-auth.pem"

client_verify "unable to get local issuer certificate" "clients/other-ca.pem: not under the client CA" \
  "$C/other-ca.pem"
client_verify "unable to get local issuer certificate" \
  "clients/other-ca.pem: not under the client CA, even with its intermediate" \
  -untrusted "$PKI/ca/other/intermediate.pem" "$C/other-ca.pem"
check "clients/other-ca.pem: a client certificate of the other root" \
  openssl verify -x509_strict -purpose sslclient -CAfile "$PKI/ca/other/root.pem" \
  -untrusted "$PKI/ca/other/intermediate.pem" "$C/other-ca.pem"
check_eq "clients/other-ca.pem: EKU clientAuth only" "TLS Web Client Authentication" \
  "$(ext "$C/other-ca.pem" extendedKeyUsage)"

client_verify "certificate revoked" "clients/revoked.pem: revoked by crl.pem" \
  -crl_check -CRLfile "$C/crl.pem" "$C/revoked.pem"
client_verify ok "clients/revoked.pem: fine without a CRL" "$C/revoked.pem"
client_verify ok "clients/revoked.pem: fine with crl-empty.pem" \
  -crl_check -CRLfile "$C/crl-empty.pem" "$C/revoked.pem"

# The client CA's CRLs.
revoked=$(serial_of "$C/revoked.pem")
laptop1=$(serial_of "$C/laptop1.pem")
laptop2=$(serial_of "$C/laptop2.pem")
for crl in crl crl-empty crl-laptop2; do
  f=$C/$crl.pem
  check_eq "clients/$crl.pem: one CRL" 1 "$(count 'BEGIN X509 CRL' "$f")"
  check_eq "clients/$crl.pem: issued by the client CA" \
    "issuer=O = Petera Demo, CN = Petera Demo Client CA" \
    "$(openssl crl -noout -issuer -in "$f" 2>&1)"
  check "clients/$crl.pem: signed by the client CA" crl_signed_by "$f" "$CLIENT_CA"
  check_not "clients/$crl.pem: not signed by the server root" crl_signed_by "$f" "$ANCHOR"
  check_eq "clients/$crl.pem: runs from 2020-01-01 to 2045-01-01" \
    "lastUpdate=Jan  1 00:00:00 2020 GMT nextUpdate=Jan  1 00:00:00 2045 GMT" "$(crl_dates "$f")"
  check_not "clients/$crl.pem: does not list laptop1" crl_lists "$f" "$laptop1"
done
check_eq "clients/crl-empty.pem: revokes nothing" 1 \
  "$(openssl crl -noout -text -in "$C/crl-empty.pem" 2>&1 | grep -c 'No Revoked Certificates')"
check "clients/crl.pem: lists revoked.pem" crl_lists "$C/crl.pem" "$revoked"
check_not "clients/crl.pem: does not list laptop2" crl_lists "$C/crl.pem" "$laptop2"
check_eq "clients/crl.pem: lists exactly one certificate" 1 \
  "$(openssl crl -noout -text -in "$C/crl.pem" | grep -c 'Serial Number:')"
check "clients/crl-laptop2.pem: lists revoked.pem" crl_lists "$C/crl-laptop2.pem" "$revoked"
check "clients/crl-laptop2.pem: lists laptop2.pem" crl_lists "$C/crl-laptop2.pem" "$laptop2"
check_eq "clients/crl-laptop2.pem: lists exactly two certificates" 2 \
  "$(openssl crl -noout -text -in "$C/crl-laptop2.pem" | grep -c 'Serial Number:')"

finish
