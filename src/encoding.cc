// Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
//
// Strict base64 codecs. Table-driven, one pass, no allocation beyond the
// output (whose size follows from the input size, never from its content).
#include "petera/encoding.h"

#include <array>

namespace petera {
namespace {

constexpr char kStd[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr char kUrl[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

constexpr std::array<int8_t, 256> MakeReverse(const char* alphabet) {
  std::array<int8_t, 256> table{};
  for (auto& v : table) v = -1;
  for (int i = 0; i < 64; ++i) {
    table[static_cast<uint8_t>(alphabet[i])] = static_cast<int8_t>(i);
  }
  return table;
}

constexpr auto kStdReverse = MakeReverse(kStd);
constexpr auto kUrlReverse = MakeReverse(kUrl);

std::string Encode(std::span<const uint8_t> in, const char* alphabet, bool pad) {
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= in.size(); i += 3) {
    uint32_t v = (uint32_t{in[i]} << 16) | (uint32_t{in[i + 1]} << 8) | in[i + 2];
    out += alphabet[(v >> 18) & 63];
    out += alphabet[(v >> 12) & 63];
    out += alphabet[(v >> 6) & 63];
    out += alphabet[v & 63];
  }
  size_t rest = in.size() - i;
  if (rest == 0) return out;
  uint32_t v = uint32_t{in[i]} << 16;
  if (rest == 2) v |= uint32_t{in[i + 1]} << 8;
  out += alphabet[(v >> 18) & 63];
  out += alphabet[(v >> 12) & 63];
  if (rest == 2) out += alphabet[(v >> 6) & 63];
  if (pad) out.append(rest == 1 ? "==" : "=");
  return out;
}

// Decodes unpadded text into `out` (which must have room for the result).
bool DecodeInto(std::string_view text, const std::array<int8_t, 256>& rev,
                uint8_t* out) {
  if (text.size() % 4 == 1) return false;
  size_t o = 0;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    int8_t d = rev[static_cast<uint8_t>(c)];
    if (d < 0) return false;
    acc = (acc << 6) | static_cast<uint32_t>(d);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = static_cast<uint8_t>((acc >> bits) & 0xff);
    }
  }
  // Leftover bits must be zero, or two encodings would decode alike.
  return (acc & ((1u << bits) - 1)) == 0;
}

size_t DecodedSize(size_t n) { return n / 4 * 3 + (n % 4 == 0 ? 0 : n % 4 - 1); }

Error BadEncoding(const char* what) {
  return Error(ErrorCategory::kProtocol, std::string("invalid ") + what + " encoding");
}

}  // namespace

std::string Base64UrlEncode(std::span<const uint8_t> data) {
  return Encode(data, kUrl, false);
}

Result<Bytes> Base64UrlDecode(std::string_view text) {
  Bytes out(DecodedSize(text.size()));
  if (!DecodeInto(text, kUrlReverse, out.data())) return BadEncoding("base64url");
  return out;
}

Result<SecretBytes> Base64UrlDecodeSecret(std::string_view text) {
  SecretBytes out(DecodedSize(text.size()));
  if (!DecodeInto(text, kUrlReverse, out.secret_data())) {
    return BadEncoding("base64url");
  }
  return out;
}

std::string Base64Encode(std::span<const uint8_t> data) {
  return Encode(data, kStd, true);
}

Result<Bytes> Base64Decode(std::string_view text) {
  if (text.size() % 4 != 0) return BadEncoding("base64");
  size_t pad = 0;
  while (pad < 2 && pad < text.size() && text[text.size() - 1 - pad] == '=') ++pad;
  text.remove_suffix(pad);
  Bytes out(DecodedSize(text.size()));
  if (!DecodeInto(text, kStdReverse, out.data())) return BadEncoding("base64");
  return out;
}

std::string Printable(std::string_view text, bool keep_spaces) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(text.size());
  for (char ch : text) {
    auto c = static_cast<unsigned char>(ch);
    if ((c >= 0x21 && c <= 0x7e) || (c == 0x20 && keep_spaces)) {
      out += ch;
    } else {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    }
  }
  return out;
}

}  // namespace petera
