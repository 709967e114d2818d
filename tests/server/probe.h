// Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
//
// Test helper: the client half of one blinded recovery for a fresh random
// envelope key, with the value that the unblinded answer must equal.
#ifndef PETERA_TESTS_SERVER_PROBE_H_
#define PETERA_TESTS_SERVER_PROBE_H_

#include <string>

#include "petera/ossl.h"
#include "petera/recovery.h"
#include "petera/result.h"
#include "petera/secret.h"

namespace petera::testing {

struct Probe {
  Blinding blinding;
  // EC: the ECDH-ES shared secret an encryption to `server_key` produced.
  // RSA: the random content key that was OAEP-encrypted.
  SecretBytes expected;
  std::string kid;

  std::string RequestBody() const;
};

// Encrypts a random key to `server_key` (EC or RSA public key) as the
// envelope code does and starts its recovery.
Result<Probe> StartProbe(EVP_PKEY* server_key);

std::string Hex(std::span<const uint8_t> data);

}  // namespace petera::testing

#endif  // PETERA_TESTS_SERVER_PROBE_H_
