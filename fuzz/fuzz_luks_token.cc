// Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
//
// A LUKS2 token of type "petera", as petera luks and the cryptsetup token
// plugin read it from a volume's header (as root, at boot, from a disk
// anyone may have written): the token parser, the envelope inside it, and
// the round trip through SerializeLuksToken.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "petera/envelope.h"
#include "petera/luks_token.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto token = petera::ParseLuksToken(text);
  if (!token.ok()) return 0;
  (void)petera::ParseEnvelope(token->envelope);
  // What was accepted must be written back and read again unchanged.
  auto written = petera::SerializeLuksToken(*token);
  if (!written.ok()) std::abort();
  auto again = petera::ParseLuksToken(*written);
  if (!again.ok() || again->keyslots != token->keyslots || again->anchor != token->anchor ||
      again->crls != token->crls || again->timeout_seconds != token->timeout_seconds ||
      again->envelope != token->envelope) {
    std::abort();
  }
  return 0;
}
