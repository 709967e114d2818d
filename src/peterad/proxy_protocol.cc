// Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
#include "peterad/proxy_protocol.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstring>
#include <string_view>

namespace petera::peterad {
namespace {

namespace ip = boost::asio::ip;
using State = ProxyParse::State;

constexpr std::array<uint8_t, 12> kV2Signature = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D,
                                                   0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};
constexpr std::string_view kV1Prefix = "PROXY ";

ProxyParse Invalid(std::string why) {
  ProxyParse out;
  out.state = State::kInvalid;
  out.error = std::move(why);
  return out;
}

ProxyParse Done(size_t length, std::optional<ip::tcp::endpoint> source) {
  ProxyParse out;
  out.state = State::kDone;
  out.header.length = length;
  out.header.source = std::move(source);
  return out;
}

// Whether `data` is a prefix of `expected` (or starts with all of it).
bool Agrees(std::span<const uint8_t> data, std::span<const uint8_t> expected) {
  size_t n = std::min(data.size(), expected.size());
  return std::memcmp(data.data(), expected.data(), n) == 0;
}

// A decimal port: 1 to 5 digits, no sign, no leading zero (but "0" itself).
std::optional<uint16_t> ParsePort(std::string_view text) {
  if (text.empty() || text.size() > 5 || (text.size() > 1 && text[0] == '0')) return std::nullopt;
  unsigned value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value > 65535) return std::nullopt;
  return static_cast<uint16_t>(value);
}

std::vector<std::string_view> SplitSpaces(std::string_view line) {
  std::vector<std::string_view> fields;
  size_t start = 0;
  while (start <= line.size()) {
    size_t space = line.find(' ', start);
    if (space == std::string_view::npos) space = line.size();
    fields.push_back(line.substr(start, space - start));
    start = space + 1;
  }
  return fields;
}

ProxyParse ParseV1(std::span<const uint8_t> data) {
  std::string_view text(reinterpret_cast<const char*>(data.data()),
                        std::min(data.size(), kProxyV1MaxBytes));
  // Printable ASCII up to CR LF: any other byte (a NUL that would end an
  // address early, a bare CR or LF) makes it no header.
  size_t end = std::string_view::npos;
  for (size_t i = 0; i < text.size(); ++i) {
    auto c = static_cast<unsigned char>(text[i]);
    if (c == '\r') {
      if (i + 1 == text.size()) break;  // the LF may follow
      if (text[i + 1] != '\n') return Invalid("v1 header with a CR not followed by LF");
      end = i;
      break;
    }
    if (c < 0x20 || c > 0x7E) return Invalid("v1 header with a byte that is not printable ASCII");
  }
  if (end == std::string_view::npos) {
    if (data.size() >= kProxyV1MaxBytes) return Invalid("v1 header longer than 107 bytes");
    return {};
  }
  std::vector<std::string_view> f = SplitSpaces(text.substr(0, end));
  // f[0] is "PROXY".
  if (f.size() >= 2 && f[1] == "UNKNOWN") return Done(end + 2, std::nullopt);
  if (f.size() != 6 || (f[1] != "TCP4" && f[1] != "TCP6")) {
    return Invalid("v1 header is not PROXY TCP4|TCP6 SRC DST SPORT DPORT");
  }
  boost::system::error_code ec;
  auto source = ip::make_address(std::string(f[2]), ec);
  if (ec) return Invalid("v1 source address does not parse");
  auto destination = ip::make_address(std::string(f[3]), ec);
  if (ec) return Invalid("v1 destination address does not parse");
  bool v4 = f[1] == "TCP4";
  if (source.is_v4() != v4 || destination.is_v4() != v4) {
    return Invalid("v1 addresses are not of the family " + std::string(f[1]));
  }
  auto source_port = ParsePort(f[4]);
  if (!source_port || !ParsePort(f[5])) return Invalid("v1 port is not a number from 0 to 65535");
  return Done(end + 2, ip::tcp::endpoint(source, *source_port));
}

ProxyParse ParseV2(std::span<const uint8_t> data) {
  if (data.size() < 16) return {};
  uint8_t version = data[12] >> 4;
  uint8_t command = data[12] & 0x0F;
  if (version != 2) return Invalid("v2 header with version " + std::to_string(version));
  if (command > 1) return Invalid("v2 header with an unknown command");
  size_t length = (static_cast<size_t>(data[14]) << 8) | data[15];
  if (16 + length > kProxyV2MaxBytes) return Invalid("v2 header longer than peterad accepts");
  if (data.size() < 16 + length) return {};
  const uint8_t* body = data.data() + 16;
  uint8_t family = data[13] >> 4;
  uint8_t transport = data[13] & 0x0F;
  // LOCAL: the balancer speaks for itself; whatever follows is ignored.
  if (command == 0) return Done(16 + length, std::nullopt);
  if (family == 0 && transport == 0) return Done(16 + length, std::nullopt);  // UNSPEC
  if (transport != 1) return Invalid("v2 header for a transport other than TCP");
  if (family == 1) {  // AF_INET: src 4, dst 4, sport 2, dport 2
    if (length < 12) return Invalid("v2 IPv4 addresses cut short");
    ip::address_v4::bytes_type bytes;
    std::memcpy(bytes.data(), body, 4);
    uint16_t port = static_cast<uint16_t>((body[8] << 8) | body[9]);
    return Done(16 + length, ip::tcp::endpoint(ip::address_v4(bytes), port));
  }
  if (family == 2) {  // AF_INET6: src 16, dst 16, sport 2, dport 2
    if (length < 36) return Invalid("v2 IPv6 addresses cut short");
    ip::address_v6::bytes_type bytes;
    std::memcpy(bytes.data(), body, 16);
    uint16_t port = static_cast<uint16_t>((body[32] << 8) | body[33]);
    return Done(16 + length, ip::tcp::endpoint(ip::address_v6(bytes), port));
  }
  return Invalid("v2 header for an address family other than IPv4 or IPv6");
}

ip::address Unmapped(const ip::address& address) {
  if (address.is_v6() && address.to_v6().is_v4_mapped()) {
    return ip::make_address_v4(ip::v4_mapped, address.to_v6());
  }
  return address;
}

}  // namespace

ProxyParse ParseProxyHeader(std::span<const uint8_t> data) {
  if (data.empty()) return {};
  if (Agrees(data, kV2Signature)) {
    if (data.size() < kV2Signature.size()) return {};
    return ParseV2(data);
  }
  auto prefix = std::span(reinterpret_cast<const uint8_t*>(kV1Prefix.data()), kV1Prefix.size());
  if (Agrees(data, prefix)) {
    if (data.size() < prefix.size()) return {};
    return ParseV1(data);
  }
  return Invalid("no PROXY protocol header");
}

bool Cidr::Contains(const ip::address& raw) const {
  ip::address address = Unmapped(raw);
  if (address.is_v4() != network.is_v4()) return false;
  auto compare = [&](const auto& a, const auto& b) {
    unsigned bits = prefix;
    for (size_t i = 0; i < a.size() && bits > 0; ++i) {
      unsigned take = std::min(bits, 8u);
      auto mask = static_cast<uint8_t>(0xFF << (8 - take));
      if ((a[i] & mask) != (b[i] & mask)) return false;
      bits -= take;
    }
    return true;
  };
  if (address.is_v4()) return compare(address.to_v4().to_bytes(), network.to_v4().to_bytes());
  return compare(address.to_v6().to_bytes(), network.to_v6().to_bytes());
}

Result<Cidr> ParseCidr(const std::string& text) {
  std::string host = text;
  std::optional<unsigned> prefix;
  if (size_t slash = text.find('/'); slash != std::string::npos) {
    host = text.substr(0, slash);
    std::string bits = text.substr(slash + 1);
    unsigned value = 0;
    auto [end, ec] = std::from_chars(bits.data(), bits.data() + bits.size(), value);
    if (bits.empty() || ec != std::errc() || end != bits.data() + bits.size()) {
      return Error(ErrorCategory::kUsage, "'" + text + "': the prefix length is not a number");
    }
    prefix = value;
  }
  boost::system::error_code ec;
  ip::address network = ip::make_address(host, ec);
  if (ec) return Error(ErrorCategory::kUsage, "'" + text + "' is not an address or CIDR range");
  network = Unmapped(network);
  unsigned max = network.is_v4() ? 32 : 128;
  if (prefix && *prefix > max) {
    return Error(ErrorCategory::kUsage,
                 "'" + text + "': the prefix length is more than " + std::to_string(max));
  }
  return Cidr{network, prefix.value_or(max)};
}

}  // namespace petera::peterad
