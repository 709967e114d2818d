// Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
#include "petera/address.h"

#include <arpa/inet.h>

#include <charconv>

namespace petera {
namespace {

bool IsIpLiteral(const std::string& host) {
  unsigned char buf[sizeof(struct in6_addr)];
  return inet_pton(AF_INET, host.c_str(), buf) == 1 ||
         inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

bool IsIpv6Literal(const std::string& host) {
  unsigned char buf[sizeof(struct in6_addr)];
  return inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

// A DNS name: labels of letters, digits, '-' and '_', separated by dots.
bool IsHostName(std::string_view host) {
  if (host.empty() || host.size() > 253) return false;
  size_t label = 0;
  for (char c : host) {
    if (c == '.') {
      if (label == 0) return false;
      label = 0;
      continue;
    }
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '-' || c == '_';
    if (!ok || ++label > 63) return false;
  }
  return true;
}

Result<uint16_t> ParsePort(std::string_view text, std::string_view whole) {
  unsigned value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() ||
      value == 0 || value > 65535) {
    return Error(ErrorCategory::kUsage,
                 "invalid port in address '" + std::string(whole) + "'");
  }
  return static_cast<uint16_t>(value);
}

}  // namespace

bool Address::host_is_ip() const { return IsIpLiteral(host); }

std::string Address::ToString() const {
  std::string h = IsIpv6Literal(host) ? "[" + host + "]" : host;
  return h + ":" + std::to_string(port);
}

Result<Address> ParseAddress(std::string_view text) {
  Address address;
  std::string_view host = text;
  std::string_view port;
  if (!text.empty() && text.front() == '[') {
    size_t close = text.find(']');
    if (close == std::string_view::npos) {
      return Error(ErrorCategory::kUsage, "missing ']' in address '" + std::string(text) + "'");
    }
    host = text.substr(1, close - 1);
    std::string_view rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') {
        return Error(ErrorCategory::kUsage, "invalid address '" + std::string(text) + "'");
      }
      port = rest.substr(1);
      if (port.empty()) return ParsePort(port, text).error();
    }
    address.host = std::string(host);
    if (!IsIpv6Literal(address.host)) {
      return Error(ErrorCategory::kUsage,
                   "'" + address.host + "' in brackets is not an IPv6 address");
    }
  } else {
    size_t colon = text.rfind(':');
    if (colon != std::string_view::npos) {
      if (text.find(':') != colon) {
        return Error(ErrorCategory::kUsage, "write IPv6 addresses in brackets: '[" +
                                                std::string(text) + "]:PORT'");
      }
      host = text.substr(0, colon);
      port = text.substr(colon + 1);
      if (port.empty()) return ParsePort(port, text).error();
    }
    address.host = std::string(host);
    if (!IsIpLiteral(address.host) && !IsHostName(address.host)) {
      return Error(ErrorCategory::kUsage, "invalid host name '" + address.host + "'");
    }
  }
  if (!port.empty()) {
    PETERA_ASSIGN_OR_RETURN(address.port, ParsePort(port, text));
  }
  return address;
}

}  // namespace petera
