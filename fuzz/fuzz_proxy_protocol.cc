// Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
//
// The first bytes of a connection from a --proxy-protocol-from address,
// through peterad's PROXY protocol (v1 and v2) parser: it must never read
// past what it was given, and a header it accepts must lie within it.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "peterad/proxy_protocol.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto parsed = petera::peterad::ParseProxyHeader(std::span<const uint8_t>(data, size));
  if (parsed.state == petera::peterad::ProxyParse::State::kDone &&
      (parsed.header.length == 0 || parsed.header.length > size ||
       parsed.header.length > petera::peterad::kProxyPeekBytes)) {
    std::abort();
  }
  // Every prefix of an accepted header is a valid beginning.
  if (parsed.state == petera::peterad::ProxyParse::State::kDone) {
    for (size_t n = 1; n < parsed.header.length; ++n) {
      auto prefix = petera::peterad::ParseProxyHeader(std::span<const uint8_t>(data, n));
      if (prefix.state != petera::peterad::ProxyParse::State::kNeedMore) std::abort();
    }
  }
  return 0;
}
