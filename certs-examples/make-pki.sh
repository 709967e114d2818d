#!/usr/bin/env bash
# Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
#
# make-pki.sh [--root-curve P-256|P-384] OUTDIR: builds the demo PKI
# Petera's tests and examples use, with nothing but the openssl command line
# tool. See README.md beside this script for what every step does and why.

set -euo pipefail

readonly PROG=${0##*/}

usage() {
  cat <<EOF
Usage: $PROG [--root-curve P-256|P-384] OUTDIR
       $PROG --help

Builds a demo PKI for Petera in OUTDIR with the openssl command line tool:

  OUTDIR/anchor.pem          root CA certificate (the anchor clients pass)
  OUTDIR/ca/                 the CA keys and certificates (root, intermediate,
                             client CA, an unrelated "other" root), the openssl
                             ca configuration and databases, the CRLs
  OUTDIR/s1 s2 s3/           per server: tls.pem (chain + key), encrypt-ec.pem,
                             encrypt-rsa.pem (chains) and decrypt.d/ (chains +
                             keys); s1 also has P-384 and P-521 encryption
                             certificates and rotated/ (a second P-256 one)
  OUTDIR/bad/                negative material for tests: expired, not yet
                             valid, wrong purpose, wrong name, CN without SAN,
                             another root, SHA-1, RSA-1024, revoked, crl.pem
  OUTDIR/clients/            client authorization: ca.pem (the client CA,
                             peterad --client-ca), laptop1.pem laptop2.pem
                             (certificate + key, petera --cert) and their
                             .key-id files (peterad --client-allow); negatives
                             expired.pem, no-client-auth.pem, revoked.pem,
                             other-ca.pem; the client CA's CRLs crl.pem,
                             crl-empty.pem, crl-laptop2.pem (--client-crl)

--root-curve  the root CA's key: P-256 (the default, signing with SHA-256) or
              P-384 (SHA-384). The intermediate and every leaf are P-256 or
              RSA either way; a P-384 root costs every client about 0.6 ms
              more CPU per chain it checks with OpenSSL 3.0 (README.md).

Certificates are valid from 2020-01-01 to 2045-01-01 (demo lifetimes, far too
long for production; see README.md). OUTDIR must not exist or be empty: the
script never overwrites anything. Private keys are written with mode 0600 and
the directories holding them with mode 0700.
EOF
}

die() {
  printf '%s: error: %s\n' "$PROG" "$*" >&2
  exit 1
}

# ---------------------------------------------------------------- arguments

if [[ $# -eq 1 && ( $1 == --help || $1 == -h ) ]]; then
  usage
  exit 0
fi
ROOT_CURVE=P-256
if [[ $# -ge 1 && $1 == --root-curve ]]; then
  [[ $# -ge 2 ]] || { usage >&2; exit 2; }
  ROOT_CURVE=$2
  shift 2
fi
case $ROOT_CURVE in
  P-256) ROOT_MD=sha256 ;;
  P-384) ROOT_MD=sha384 ;;
  *) die "--root-curve must be P-256 or P-384, not '$ROOT_CURVE'" ;;
esac
if [[ $# -ne 1 || -z $1 || $1 == -* ]]; then
  usage >&2
  exit 2
fi
command -v openssl >/dev/null || die "openssl not found in PATH"

OUTDIR=$1
if [[ -e $OUTDIR && ! -d $OUTDIR ]]; then
  die "$OUTDIR exists and is not a directory"
fi
if [[ -d $OUTDIR && -n $(ls -A -- "$OUTDIR") ]]; then
  die "$OUTDIR is not empty; refusing to overwrite an existing PKI (choose a new or empty directory)"
fi

# Everything is private unless made public explicitly below.
umask 077

CREATED_OUTDIR=0
if [[ ! -d $OUTDIR ]]; then
  mkdir -p -- "$OUTDIR"
  CREATED_OUTDIR=1
fi
OUTDIR=$(cd -- "$OUTDIR" && pwd)

# The PKI is built in a staging directory inside OUTDIR and moved into place
# at the very end, so a failure never leaves a half-made PKI behind.
STAGE=$(mktemp -d "$OUTDIR/.make-pki.XXXXXX")
WORK=$STAGE/.work
BG_PIDS=()

cleanup() {
  local status=$?
  local pid
  for pid in "${BG_PIDS[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  rm -rf -- "$STAGE"
  if [[ $status -ne 0 && $CREATED_OUTDIR -eq 1 ]]; then
    rmdir -- "$OUTDIR" 2>/dev/null || true
  fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# run CMD...: runs an openssl step quietly, shows its output if it fails.
run() {
  if ! "$@" >"$WORK/last.log" 2>&1; then
    cat "$WORK/last.log" >&2
    die "step failed: $*"
  fi
}

# ---------------------------------------------------------------- constants

readonly GOOD_START=200101000000Z # 2020-01-01T00:00:00Z
readonly GOOD_END=450101000000Z   # 2045-01-01T00:00:00Z
readonly EXPIRED_END=210101000000Z
readonly NOTYET_START=400101000000Z
readonly ORG="/O=Petera Demo"

CA=$STAGE/ca
CNF=$CA/openssl.cnf
mkdir -p "$WORK" "$CA"

# The SAN of the certificate being issued comes from the environment so that
# one extension section serves every server.
export PKI_SAN="DNS:localhost"

# ---------------------------------------------------------------- RSA keys
# RSA key generation is the slow part: start all the RSA keys now, in the
# background, and let the EC work run meanwhile.

rsa_key_bg() { # rsa_key_bg BITS OUT
  openssl genpkey -algorithm RSA -pkeyopt "rsa_keygen_bits:$1" \
    -out "$2" >"$2.log" 2>&1 &
  BG_PIDS+=("$!")
}

for n in 1 2 3; do
  rsa_key_bg 3072 "$WORK/s$n-rsa.key"
done
rsa_key_bg 1024 "$WORK/rsa1024.key"

wait_rsa_keys() {
  local pid
  for pid in "${BG_PIDS[@]}"; do
    wait "$pid" || die "RSA key generation failed: $(cat "$WORK"/*.key.log)"
  done
  BG_PIDS=()
}

# ---------------------------------------------------------------- openssl.cnf
# One configuration for the five CAs (the demo root and intermediate, an
# unrelated "other" root and intermediate for negative tests, and the client
# CA). Paths are relative to OUTDIR/ca: run `openssl ca` from there.

ca_section() { # ca_section NAME CERT KEY MD
  cat <<EOF
[ ca_$1 ]
database        = db/$1/index.txt
new_certs_dir   = db/$1/newcerts
crlnumber       = db/$1/crlnumber
certificate     = $2
private_key     = $3
rand_serial     = yes
default_md      = $4
policy          = policy_petera
unique_subject  = no
email_in_dn     = no
copy_extensions = none
crl_extensions  = ext_crl

EOF
}

{
  cat <<'EOF'
# openssl configuration of the Petera demo PKI, written by make-pki.sh.
# Use it from this directory, e.g.
#   PKI_SAN="DNS:localhost,IP:127.0.0.1" openssl ca -config openssl.cnf \
#     -name ca_intermediate -extensions ext_encrypt_ec -in x.csr -out x.pem
# PKI_SAN must always be set (to anything) because this file refers to it.

[ ca ]
default_ca = ca_intermediate

[ req ]
distinguished_name = req_dn
string_mask        = utf8only
prompt             = no

[ req_dn ]
CN = unused (the subject is given with -subj)

[ policy_petera ]
organizationName       = optional
organizationalUnitName = optional
commonName             = supplied

EOF
  ca_section root root.pem root-key.pem sha384
  ca_section intermediate intermediate.pem intermediate-key.pem sha256
  ca_section otherroot other/root.pem other/root-key.pem sha384
  ca_section otherintermediate other/intermediate.pem other/intermediate-key.pem sha256
  ca_section clients clients/ca.pem clients/ca-key.pem sha256
  cat <<'EOF'
[ ext_root ]
basicConstraints     = critical, CA:TRUE, pathlen:1
keyUsage             = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash

[ ext_intermediate ]
basicConstraints       = critical, CA:TRUE, pathlen:0
keyUsage               = critical, keyCertSign, cRLSign
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always

# The client CA: a root of its own that signs machine certificates only.
[ ext_client_ca ]
basicConstraints     = critical, CA:TRUE, pathlen:0
keyUsage             = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash

[ ext_tls ]
basicConstraints       = critical, CA:FALSE
keyUsage               = critical, digitalSignature
extendedKeyUsage       = serverAuth
subjectAltName         = $ENV::PKI_SAN
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always

# Negative: a TLS certificate for clients only.
[ ext_tls_clientonly ]
basicConstraints       = critical, CA:FALSE
keyUsage               = critical, digitalSignature
extendedKeyUsage       = clientAuth
subjectAltName         = $ENV::PKI_SAN
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always

# Negative: the name is only in the subject CN, there is no SAN.
[ ext_tls_nosan ]
basicConstraints       = critical, CA:FALSE
keyUsage               = critical, digitalSignature
extendedKeyUsage       = serverAuth
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always

[ ext_encrypt_ec ]
basicConstraints       = critical, CA:FALSE
keyUsage               = critical, keyAgreement
subjectAltName         = $ENV::PKI_SAN
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always

[ ext_encrypt_rsa ]
basicConstraints       = critical, CA:FALSE
keyUsage               = critical, keyEncipherment
subjectAltName         = $ENV::PKI_SAN
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always

# A machine's certificate for peterad --client-ca (client authorization).
[ ext_client ]
basicConstraints       = critical, CA:FALSE
keyUsage               = critical, digitalSignature
extendedKeyUsage       = clientAuth
subjectAltName         = $ENV::PKI_SAN
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always

# Negative: a machine certificate without clientAuth.
[ ext_client_serveronly ]
basicConstraints       = critical, CA:FALSE
keyUsage               = critical, digitalSignature
extendedKeyUsage       = serverAuth
subjectAltName         = $ENV::PKI_SAN
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always

[ ext_crl ]
authorityKeyIdentifier = keyid:always
EOF
} >"$CNF"

for name in root intermediate otherroot otherintermediate clients; do
  mkdir -p "$CA/db/$name/newcerts"
  : >"$CA/db/$name/index.txt"
  echo 1000 >"$CA/db/$name/crlnumber"
done
mkdir -p "$CA/other" "$CA/clients"

# ---------------------------------------------------------------- helpers

ec_key() { # ec_key CURVE OUT
  run openssl genpkey -algorithm EC -pkeyopt "ec_paramgen_curve:$1" \
    -pkeyopt ec_param_enc:named_curve -out "$2"
}

# issue CA EXT SUBJECT KEY OUT START END [SAN] [extra openssl ca options...]
# Makes a request for KEY and has CA sign it with extension section EXT.
issue() {
  local ca=$1 ext=$2 subj=$3 key=$4 out=$5 start=$6 end=$7 san=${8:-DNS:localhost}
  shift 8 2>/dev/null || shift $#
  run openssl req -new -config "$CNF" -key "$key" -subj "$subj" -out "$WORK/req.csr"
  (
    cd "$CA"
    PKI_SAN=$san run openssl ca -batch -config "$CNF" -name "ca_$ca" \
      -extensions "$ext" -notext -startdate "$start" -enddate "$end" \
      "$@" -in "$WORK/req.csr" -out "$out"
  )
}

# make_ca NAME ISSUER EXT SUBJECT CURVE CERT KEY MD (ISSUER "self" = root)
make_ca() {
  local name=$1 issuer=$2 ext=$3 subj=$4 curve=$5 cert=$6 key=$7 md=$8
  ec_key "$curve" "$key"
  if [[ $issuer == self ]]; then
    issue "$name" "$ext" "$subj" "$key" "$cert" "$GOOD_START" "$GOOD_END" "" \
      -selfsign -keyfile "$key" -md "$md"
  else
    issue "$issuer" "$ext" "$subj" "$key" "$cert" "$GOOD_START" "$GOOD_END" "" -md "$md"
  fi
}

public() { chmod 0644 -- "$@"; }
private() { chmod 0600 -- "$@"; }

# ---------------------------------------------------------------- the CAs

make_ca root self ext_root "$ORG/CN=Petera Demo Root CA" "$ROOT_CURVE" \
  "$CA/root.pem" "$CA/root-key.pem" "$ROOT_MD"
make_ca intermediate root ext_intermediate "$ORG/CN=Petera Demo Intermediate CA" P-256 \
  "$CA/intermediate.pem" "$CA/intermediate-key.pem" "$ROOT_MD"
make_ca otherroot self ext_root "/O=Not Petera/CN=Unrelated Root CA" P-384 \
  "$CA/other/root.pem" "$CA/other/root-key.pem" sha384
make_ca otherintermediate otherroot ext_intermediate "/O=Not Petera/CN=Unrelated Intermediate CA" P-256 \
  "$CA/other/intermediate.pem" "$CA/other/intermediate-key.pem" sha384

# The client CA: a root of its own, one level (pathlen:0), for the machines
# that may recover (peterad --client-ca). It answers another question than
# the server CA ("is this one of our machines?"), so it is kept apart.
make_ca clients self ext_client_ca "$ORG/CN=Petera Demo Client CA" P-256 \
  "$CA/clients/ca.pem" "$CA/clients/ca-key.pem" sha256

cp "$CA/root.pem" "$STAGE/anchor.pem"
INTERMEDIATE=$CA/intermediate.pem
OTHER_INTERMEDIATE=$CA/other/intermediate.pem

# ---------------------------------------------------------------- leaves
# leaf CA EXT SUBJECT KEY SAN START END DEST_CHAIN [DEST_CHAIN_WITH_KEY] [ca options]
# Issues a leaf and writes its chain (leaf + intermediate) and, when asked,
# the chain followed by the private key.
leaf() {
  local ca=$1 ext=$2 subj=$3 key=$4 san=$5 start=$6 end=$7 chain=$8 withkey=${9:-}
  shift 9
  local inter=$INTERMEDIATE
  [[ $ca == otherintermediate ]] && inter=$OTHER_INTERMEDIATE
  issue "$ca" "$ext" "$subj" "$key" "$WORK/leaf.pem" "$start" "$end" "$san" "$@"
  if [[ -n $chain ]]; then
    cat "$WORK/leaf.pem" "$inter" >"$chain"
    public "$chain"
  fi
  if [[ -n $withkey ]]; then
    cat "$WORK/leaf.pem" "$inter" "$key" >"$withkey"
    private "$withkey"
  fi
}

tls_san() { echo "DNS:localhost,IP:127.0.0.1,IP:::1,DNS:s$1.petera.test"; }
enc_san() { echo "DNS:localhost,IP:127.0.0.1,DNS:s$1.petera.test"; }

for n in 1 2 3; do
  S=$STAGE/s$n
  mkdir -p "$S/decrypt.d"
  chmod 0755 "$S"
  chmod 0700 "$S/decrypt.d"

  ec_key P-256 "$WORK/s$n-tls.key"
  leaf intermediate ext_tls "$ORG/OU=TLS/CN=s$n.petera.test" "$WORK/s$n-tls.key" \
    "$(tls_san "$n")" "$GOOD_START" "$GOOD_END" "" "$S/tls.pem"

  ec_key P-256 "$WORK/s$n-ec.key"
  leaf intermediate ext_encrypt_ec "$ORG/OU=Encryption/CN=s$n.petera.test" "$WORK/s$n-ec.key" \
    "$(enc_san "$n")" "$GOOD_START" "$GOOD_END" "$S/encrypt-ec.pem" "$S/decrypt.d/ec.pem"
done

S1=$STAGE/s1
for curve in 384 521; do
  ec_key "P-$curve" "$WORK/s1-p$curve.key"
  leaf intermediate ext_encrypt_ec "$ORG/OU=Encryption/CN=s1.petera.test" "$WORK/s1-p$curve.key" \
    "$(enc_san 1)" "$GOOD_START" "$GOOD_END" "$S1/encrypt-p$curve.pem" "$S1/decrypt.d/p$curve.pem"
done

# Rotation: a second P-256 encryption certificate for s1. Its key goes into
# DECRYPT.d next to the old one when the operator rotates (see README.md).
mkdir -p "$S1/rotated"
chmod 0700 "$S1/rotated"
ec_key P-256 "$WORK/s1-rotated.key"
leaf intermediate ext_encrypt_ec "$ORG/OU=Encryption/CN=s1.petera.test" "$WORK/s1-rotated.key" \
  "$(enc_san 1)" "$GOOD_START" "$GOOD_END" "$S1/rotated/encrypt-ec.pem" "$S1/rotated/ec.pem"

# ---------------------------------------------------------------- negatives

BAD=$STAGE/bad
mkdir -p "$BAD"
chmod 0755 "$BAD"

# bad_encrypt NAME CA EXT KEY START END [ca options]: BAD/NAME.pem + NAME-key.pem
bad_encrypt() {
  local name=$1 ca=$2 ext=$3 key=$4 start=$5 end=$6
  shift 6
  leaf "$ca" "$ext" "$ORG/OU=Negative test/CN=$name" "$key" "$(enc_san 1)" \
    "$start" "$end" "$BAD/$name.pem" "" "$@"
  cp "$key" "$BAD/$name-key.pem"
  private "$BAD/$name-key.pem"
}

# bad_tls NAME CA EXT KEY SUBJECT SAN START END: BAD/NAME.pem (chain + key)
bad_tls() {
  leaf "$2" "$3" "$5" "$4" "$6" "$7" "$8" "" "$BAD/$1.pem"
}

ec_key P-256 "$WORK/bad.key"
bad_encrypt expired-encrypt intermediate ext_encrypt_ec "$WORK/bad.key" "$GOOD_START" "$EXPIRED_END"
ec_key P-256 "$WORK/bad.key"
bad_encrypt notyet-encrypt intermediate ext_encrypt_ec "$WORK/bad.key" "$NOTYET_START" "$GOOD_END"
ec_key P-256 "$WORK/bad.key"
bad_encrypt otherroot-encrypt otherintermediate ext_encrypt_ec "$WORK/bad.key" "$GOOD_START" "$GOOD_END"
ec_key P-256 "$WORK/bad.key"
bad_encrypt sha1-encrypt intermediate ext_encrypt_ec "$WORK/bad.key" "$GOOD_START" "$GOOD_END" -md sha1
ec_key P-256 "$WORK/bad.key"
bad_encrypt revoked-encrypt intermediate ext_encrypt_ec "$WORK/bad.key" "$GOOD_START" "$GOOD_END"
cp "$WORK/leaf.pem" "$WORK/revoked-leaf.pem"

ec_key P-256 "$WORK/bad.key"
bad_tls expired-tls intermediate ext_tls "$WORK/bad.key" "$ORG/OU=Negative test/CN=expired-tls" \
  "$(tls_san 1)" "$GOOD_START" "$EXPIRED_END"
ec_key P-256 "$WORK/bad.key"
bad_tls tls-noserverauth intermediate ext_tls_clientonly "$WORK/bad.key" \
  "$ORG/OU=Negative test/CN=tls-noserverauth" "$(tls_san 1)" "$GOOD_START" "$GOOD_END"
ec_key P-256 "$WORK/bad.key"
bad_tls tls-wrongname intermediate ext_tls "$WORK/bad.key" "$ORG/OU=Negative test/CN=other.petera.test" \
  "DNS:other.petera.test,IP:10.9.9.9" "$GOOD_START" "$GOOD_END"
ec_key P-256 "$WORK/bad.key"
bad_tls tls-cn-only intermediate ext_tls_nosan "$WORK/bad.key" "/CN=localhost" \
  "" "$GOOD_START" "$GOOD_END"
ec_key P-256 "$WORK/bad.key"
bad_tls otherroot-tls otherintermediate ext_tls "$WORK/bad.key" "/O=Not Petera/CN=s1.petera.test" \
  "$(tls_san 1)" "$GOOD_START" "$GOOD_END"
cp "$CA/other/root.pem" "$BAD/otherroot-anchor.pem"
public "$BAD/otherroot-anchor.pem"

# ---------------------------------------------------------------- clients
# CLIENTS/NAME.pem: a machine's certificate followed by its private key
# (0600), as petera --cert takes it; NAME.key-id: the base64url SHA-256 of
# its public key, as peterad --client-allow lists it.

CLIENTS=$STAGE/clients
mkdir -p "$CLIENTS"
chmod 0755 "$CLIENTS"

# client NAME CA EXT START END
client() {
  local name=$1 ca=$2 ext=$3 start=$4 end=$5
  local org=$ORG
  [[ $ca == otherintermediate ]] && org="/O=Not Petera"
  ec_key P-256 "$WORK/client.key"
  issue "$ca" "$ext" "$org/CN=$name.example.net" "$WORK/client.key" "$WORK/client.pem" \
    "$start" "$end" "DNS:$name.example.net"
  cat "$WORK/client.pem" "$WORK/client.key" >"$CLIENTS/$name.pem"
  private "$CLIENTS/$name.pem"
  openssl x509 -in "$WORK/client.pem" -noout -pubkey | openssl pkey -pubin -outform DER |
    openssl dgst -sha256 -binary | basenc --base64url | tr -d '=\n' >"$CLIENTS/$name.key-id"
  echo >>"$CLIENTS/$name.key-id"
  public "$CLIENTS/$name.key-id"
  cp "$WORK/client.pem" "$WORK/client-$name.crt"
}

client laptop1 clients ext_client "$GOOD_START" "$GOOD_END"
client laptop2 clients ext_client "$GOOD_START" "$GOOD_END"
client revoked clients ext_client "$GOOD_START" "$GOOD_END"
client expired clients ext_client "$GOOD_START" "$EXPIRED_END"
client no-client-auth clients ext_client_serveronly "$GOOD_START" "$GOOD_END"
client other-ca otherintermediate ext_client "$GOOD_START" "$GOOD_END"
cp "$CA/clients/ca.pem" "$CLIENTS/ca.pem"

# ---------------------------------------------------------------- RSA leaves

wait_rsa_keys
for n in 1 2 3; do
  leaf intermediate ext_encrypt_rsa "$ORG/OU=Encryption/CN=s$n.petera.test" "$WORK/s$n-rsa.key" \
    "$(enc_san "$n")" "$GOOD_START" "$GOOD_END" "$STAGE/s$n/encrypt-rsa.pem" "$STAGE/s$n/decrypt.d/rsa.pem"
done
bad_encrypt rsa1024-encrypt intermediate ext_encrypt_rsa "$WORK/rsa1024.key" "$GOOD_START" "$GOOD_END"

# ---------------------------------------------------------------- CRLs

(
  cd "$CA"
  run openssl ca -config "$CNF" -name ca_intermediate -revoke "$WORK/revoked-leaf.pem" \
    -crl_reason keyCompromise
  for name in root intermediate; do
    run openssl ca -batch -config "$CNF" -name "ca_$name" -gencrl \
      -crl_lastupdate "$GOOD_START" -crl_nextupdate "$GOOD_END" -out "$CA/$name-crl.pem"
  done
)
cat "$CA/root-crl.pem" "$CA/intermediate-crl.pem" >"$BAD/crl.pem"

# Client CRLs: none revoked, revoked.pem revoked, and laptop2 revoked too
# (a test swaps these files and reloads peterad).
client_crl() { # client_crl OUT
  (cd "$CA" && run openssl ca -batch -config "$CNF" -name ca_clients -gencrl \
    -crl_lastupdate "$GOOD_START" -crl_nextupdate "$GOOD_END" -out "$1")
}
client_crl "$CLIENTS/crl-empty.pem"
(cd "$CA" && run openssl ca -config "$CNF" -name ca_clients -revoke "$WORK/client-revoked.crt" \
  -crl_reason keyCompromise)
client_crl "$CLIENTS/crl.pem"
(cd "$CA" && run openssl ca -config "$CNF" -name ca_clients -revoke "$WORK/client-laptop2.crt" \
  -crl_reason superseded)
client_crl "$CLIENTS/crl-laptop2.pem"

# ---------------------------------------------------------------- finish

public "$STAGE/anchor.pem" "$BAD/crl.pem" "$CLIENTS"/ca.pem "$CLIENTS"/crl*.pem
for n in 1 2 3; do
  public "$STAGE/s$n/encrypt-ec.pem" "$STAGE/s$n/encrypt-rsa.pem"
  private "$STAGE/s$n/tls.pem" "$STAGE/s$n"/decrypt.d/*.pem
done
# ca/ stays 0700 as a whole (it holds the CA keys and databases); the
# certificates and CRLs in it are public, the keys are not.
public "$CA"/*.pem "$CA"/other/*.pem "$CA"/clients/*.pem
private "$CA"/*-key.pem "$CA"/other/*-key.pem "$CA"/clients/*-key.pem
chmod 0700 "$CA"
rm -rf -- "$WORK"

# Move the finished PKI into OUTDIR; the staging directory is removed by the
# exit trap.
mv -- "$STAGE"/* "$OUTDIR"/
chmod 0755 "$OUTDIR"

revoked_serial=$(openssl x509 -noout -serial -in "$OUTDIR/bad/revoked-encrypt.pem")
cat <<EOF
Petera demo PKI written to $OUTDIR (valid 2020-01-01 .. 2045-01-01):
  anchor.pem            root CA (EC $ROOT_CURVE, pathlen:1); keys and openssl.cnf in ca/ (0700)
  ca/intermediate.pem   intermediate CA (EC P-256, pathlen:0), issues every leaf
  s1 s2 s3/             tls.pem (EC P-256, serverAuth, chain+key, 0600),
                        encrypt-ec.pem (P-256), encrypt-rsa.pem (RSA-3072),
                        decrypt.d/ec.pem + rsa.pem (chain+key, 0600, dir 0700)
  s1/                   + encrypt-p384.pem, encrypt-p521.pem, decrypt.d/p384.pem, p521.pem,
                        rotated/encrypt-ec.pem + rotated/ec.pem (second P-256 key)
  bad/                  negative chains and keys, otherroot-anchor.pem, crl.pem
                        (root + intermediate CRLs; revoked serial ${revoked_serial#serial=})
  clients/              ca.pem (client CA, EC P-256), laptop1.pem, laptop2.pem (cert + key,
                        0600) and their .key-id; expired, no-client-auth, revoked and
                        other-ca negatives; crl.pem, crl-empty.pem, crl-laptop2.pem
EOF
