// Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
//
// What the server does with a POST /v1/recover body: parse, then the
// private-key operation on the client's value for an EC and an RSA key.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_keys.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto request = petera::ParseRecoveryRequest(text);
  if (request.ok()) {
    (void)petera::fuzz::EcKey().Recover(request->x);
    (void)petera::fuzz::RsaKey().Recover(request->x);
  }
  // Raw bytes straight into the point and number validation too.
  (void)petera::fuzz::EcKey().Recover({data, size});
  return 0;
}
