// Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
//
// What the client does with a server's answer: parse, then unblind it for
// an EC and an RSA recipient.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "fuzz_keys.h"

namespace {

const petera::Blinding& EcBlinding() {
  static const petera::Blinding b = [] {
    auto point = petera::EcPublicPoint(petera::fuzz::EcKey().pkey());
    auto r = petera::Blinding::ForEc(petera::fuzz::EcKey().pkey(), *point);
    if (!r.ok()) std::abort();
    return std::move(r).value();
  }();
  return b;
}

const petera::Blinding& RsaBlinding() {
  static const petera::Blinding b = [] {
    petera::Bytes c(256, 0x01);
    auto r = petera::Blinding::ForRsa(petera::fuzz::RsaKey().pkey(), c);
    if (!r.ok()) std::abort();
    return std::move(r).value();
  }();
  return b;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto response = petera::ParseRecoveryResponse(text);
  if (response.ok()) {
    (void)EcBlinding().Unblind(response->y);
    (void)RsaBlinding().Unblind(response->y);
  }
  (void)EcBlinding().Unblind({data, size});
  return 0;
}
