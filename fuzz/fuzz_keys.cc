// Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
#include "fuzz_keys.h"

#include <cstdlib>

namespace petera::fuzz {
namespace {

RecoveryKey Make(EVP_PKEY* key) {
  auto r = RecoveryKey::Create(EvpPkeyPtr(key));
  if (!r.ok()) std::abort();
  return std::move(r).value();
}

}  // namespace

const RecoveryKey& EcKey() {
  static const RecoveryKey key = Make(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  return key;
}

const RecoveryKey& RsaKey() {
  static const RecoveryKey key =
      Make(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(2048)));
  return key;
}

}  // namespace petera::fuzz
