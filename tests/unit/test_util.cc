// Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
#include "test_util.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <stdexcept>

#include "petera/envelope.h"
#include "petera/pem.h"

namespace petera::testing {

std::string Pki(const std::string& relative) {
  const char* dir = std::getenv("PETERA_TEST_PKI");
  if (dir == nullptr) throw std::runtime_error("PETERA_TEST_PKI is not set (run through ctest)");
  return std::string(dir) + "/" + relative;
}

std::vector<X509Ptr> LoadChain(const std::string& relative) {
  auto pem = LoadPemFile(Pki(relative));
  if (!pem.ok()) throw std::runtime_error(pem.error().message());
  return std::move(pem->certificates);
}

EvpPkeyPtr LoadKey(const std::string& relative) {
  auto pem = LoadPemFile(Pki(relative));
  if (!pem.ok() || pem->private_keys.size() != 1) {
    throw std::runtime_error("no single private key in " + relative);
  }
  return std::move(pem->private_keys.front());
}

Anchor LoadAnchor(const std::string& relative) {
  auto anchor = Anchor::Load(Pki(relative));
  if (!anchor.ok()) throw std::runtime_error(anchor.error().message());
  return std::move(anchor).value();
}

SecretBytes SecretFromString(const std::string& s) {
  return SecretBytes(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

std::string SecretToString(const SecretBytes& s) {
  auto v = s.secret_view();
  return std::string(reinterpret_cast<const char*>(v.data()), v.size());
}

std::string EncryptTo(const SecretBytes& secret, const std::vector<std::string>& chains,
                      size_t threshold) {
  std::vector<EncryptionTarget> targets;
  for (size_t i = 0; i < chains.size(); ++i) {
    targets.push_back({LoadChain(chains[i]), Address{"localhost", static_cast<uint16_t>(5700 + i)}});
  }
  auto text = Encrypt(secret, targets, threshold);
  if (!text.ok()) throw std::runtime_error(text.error().message());
  return *text;
}

}  // namespace petera::testing
