// Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
//
// PEM and certificate-chain loading: anchors, chains from files and from
// servers, key files.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "petera/pem.h"
#include "petera/trust.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto pem = petera::ParsePem(text, "fuzz");
  if (pem.ok() && !pem->certificates.empty()) {
    (void)petera::SubjectAltNames(pem->certificates.front().get());
    (void)petera::SubjectName(pem->certificates.front().get());
    auto anchor = petera::Anchor::FromPem(text, "fuzz");
    if (anchor.ok()) {
      (void)petera::VerifyEncryptionChain(*anchor, pem->certificates, "localhost");
    }
  }
  return 0;
}
