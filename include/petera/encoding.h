// Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
//
// Base64 and base64url as used by JOSE: base64url without padding (RFC 7515
// section 2) for every JWE member, standard base64 with padding for x5c.
// Decoders are strict: wrong alphabet, padding where none belongs, or
// non-canonical trailing bits are refused.
#ifndef PETERA_ENCODING_H_
#define PETERA_ENCODING_H_

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "petera/result.h"
#include "petera/secret.h"

namespace petera {

using Bytes = std::vector<uint8_t>;

std::string Base64UrlEncode(std::span<const uint8_t> data);
Result<Bytes> Base64UrlDecode(std::string_view text);
// Decodes straight into wiped memory, for encoded secrets.
Result<SecretBytes> Base64UrlDecodeSecret(std::string_view text);

std::string Base64Encode(std::span<const uint8_t> data);
Result<Bytes> Base64Decode(std::string_view text);

// `text` with every byte outside visible ASCII (0x21-0x7e; with
// `keep_spaces`, also 0x20) written as \xNN: for putting what a peer sent
// (a request target, a certificate name) into a message or a log line,
// where it must not carry control characters, terminal escapes or invalid
// UTF-8.
std::string Printable(std::string_view text, bool keep_spaces = false);

inline std::span<const uint8_t> AsBytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

}  // namespace petera

#endif  // PETERA_ENCODING_H_
