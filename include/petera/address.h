// Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
//
// Server addresses as users write them: "name", "name:port",
// "192.0.2.1:port", "[2001:db8::1]:port". The default port is 5700.
#ifndef PETERA_ADDRESS_H_
#define PETERA_ADDRESS_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "petera/result.h"

namespace petera {

inline constexpr uint16_t kDefaultPort = 5700;

struct Address {
  std::string host;  // a DNS name or an IP literal, without brackets
  uint16_t port = kDefaultPort;

  bool host_is_ip() const;
  // "name:port" or "[v6]:port".
  std::string ToString() const;
  bool operator==(const Address&) const = default;
};

Result<Address> ParseAddress(std::string_view text);

}  // namespace petera

#endif  // PETERA_ADDRESS_H_
