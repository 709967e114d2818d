// Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
//
// Builds small certificate hierarchies in memory, for trust rules that the
// demo PKI has no certificate for (wildcards, path length, CA flags).
#ifndef PETERA_TESTS_UNIT_CERT_FACTORY_H_
#define PETERA_TESTS_UNIT_CERT_FACTORY_H_

#include <string>
#include <vector>

#include "petera/ossl.h"

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
  std::string key_usage{};        // e.g. "keyAgreement", empty for none
  bool rsa = false;               // an RSA-2048 key instead of P-256
};

// Issues a certificate with a fresh P-256 (or RSA-2048) key, signed by `issuer` (or
// self-signed when issuer is null), valid from yesterday for a year.
Issued Issue(const CertSpec& spec, const Issued* issuer);

}  // namespace petera::testing

#endif  // PETERA_TESTS_UNIT_CERT_FACTORY_H_
