// Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
//
// Builds small certificate hierarchies in memory, for trust rules that the
// demo PKI has no certificate for (wildcards, path length, CA flags,
// cross-signed and renewed CAs, name constraints, malformed fields).
#ifndef PETERA_TESTS_UNIT_CERT_FACTORY_H_
#define PETERA_TESTS_UNIT_CERT_FACTORY_H_

#include <ctime>
#include <string>
#include <utility>
#include <vector>

#include "petera/ossl.h"
#include "petera/trust.h"

namespace petera::testing {

struct Issued {
  X509Ptr cert;
  EvpPkeyPtr key;
};

struct CertSpec {
  std::string cn{};
  std::vector<std::string> sans{};  // "DNS:x" or "IP:1.2.3.4"
  bool ca = false;
  int pathlen = -1;               // with ca: -1 means no constraint
  std::string eku{};              // e.g. "serverAuth", empty for none
  std::string key_usage{};        // e.g. "keyAgreement"; empty: none (CA: keyCertSign,cRLSign)
  bool rsa = false;               // an RSA key instead of P-256
  int rsa_bits = 2048;            // with rsa
  EVP_PKEY* key = nullptr;        // reuse this key (renewals, cross-certificates)
  std::string name_constraints{}; // e.g. "critical,excluded;DNS:bad.example.com"
  std::string serial_hex{};       // e.g. "0", "-1"; empty: a fresh small serial
  std::time_t not_before = 0;     // 0: yesterday
  std::time_t not_after = 0;      // 0: a year from now
  std::string aki = "keyid";      // authorityKeyIdentifier when issued; empty: none
  std::string ski = "hash";       // subjectKeyIdentifier: "hash" or hex bytes
  std::vector<std::pair<int, std::string>> extra{};  // more extensions: NID, conf value
};

// Issues a certificate with a fresh P-256 (or RSA) key, or spec.key, signed by
// `issuer` (or self-signed when issuer is null), valid from yesterday for a
// year unless the spec says otherwise.
Issued Issue(const CertSpec& spec, const Issued* issuer);

// Appends an extension given as raw DER (for encodings no configuration
// string can produce), then signs the certificate again with `signer`.
void AddRawExtension(Issued& cert, int nid, bool critical,
                     const std::vector<unsigned char>& der, EVP_PKEY* signer);

// A chain, leaf first, holding new references to the given certificates.
std::vector<X509Ptr> ChainOf(const Issued& leaf, const std::vector<const Issued*>& rest);

// An anchor holding the given CA certificates.
Anchor AnchorOf(const std::vector<const Issued*>& roots);

}  // namespace petera::testing

#endif  // PETERA_TESTS_UNIT_CERT_FACTORY_H_
