// Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
//
// Helpers shared by the unit tests: the demo PKI made by
// certs-examples/make-pki.sh (a ctest fixture) and small loaders.
#ifndef PETERA_TESTS_UNIT_TEST_UTIL_H_
#define PETERA_TESTS_UNIT_TEST_UTIL_H_

#include <string>
#include <vector>

#include "petera/ossl.h"
#include "petera/secret.h"
#include "petera/trust.h"

namespace petera::testing {

// Path of a file of the demo PKI, e.g. Pki("s1/encrypt-ec.pem").
std::string Pki(const std::string& relative);

std::vector<X509Ptr> LoadChain(const std::string& relative);
EvpPkeyPtr LoadKey(const std::string& relative);
Anchor LoadAnchor(const std::string& relative = "anchor.pem");

SecretBytes SecretFromString(const std::string& s);
std::string SecretToString(const SecretBytes& s);

// `secret` encrypted to one demo server per chain, at localhost:5700,
// 5701, ... (a threshold refuses one server twice); throws on failure.
std::string EncryptTo(const SecretBytes& secret, const std::vector<std::string>& chains,
                      size_t threshold = 1);

}  // namespace petera::testing

#endif  // PETERA_TESTS_UNIT_TEST_UTIL_H_
