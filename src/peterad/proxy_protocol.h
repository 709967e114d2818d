// Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
//
// The PROXY protocol (versions 1 and 2, as HAProxy specifies them): the
// header a TCP load balancer sends before the client's first byte, naming
// the client's address. peterad honours it only from the addresses given
// with --proxy-protocol-from, where it is then required; from anywhere
// else its bytes are simply not TLS.
//
// The parser is pure (no I/O), so that it can be unit-tested and fuzzed:
// the caller peeks at the connection's first bytes, parses, and consumes
// exactly the header's length, so that not a byte of TLS is taken.
#ifndef PETERA_PETERAD_PROXY_PROTOCOL_H_
#define PETERA_PETERAD_PROXY_PROTOCOL_H_

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "petera/result.h"

namespace petera::peterad {

// A v1 header is at most 107 bytes; a v2 header 16 bytes and the length it
// announces, which peterad bounds (addresses and a few TLVs fit easily).
inline constexpr size_t kProxyV1MaxBytes = 107;
inline constexpr size_t kProxyV2MaxBytes = 16 + 1024;
// Enough to decide: the most a header can be.
inline constexpr size_t kProxyPeekBytes = kProxyV2MaxBytes;

struct ProxyHeader {
  size_t length = 0;  // bytes to consume before TLS starts
  // The client's address and port; empty for v1 UNKNOWN and v2 LOCAL (the
  // balancer's own connection, such as a health check).
  std::optional<boost::asio::ip::tcp::endpoint> source;
};

struct ProxyParse {
  enum class State { kNeedMore, kDone, kInvalid } state = State::kNeedMore;
  ProxyHeader header;  // kDone
  std::string error;   // kInvalid: why, for the log
};

// Parses the start of a connection. kNeedMore: the bytes so far are a
// valid beginning, and more are needed.
ProxyParse ParseProxyHeader(std::span<const uint8_t> data);

// An address range, "10.0.0.0/8", "::1/128" or a single address.
struct Cidr {
  boost::asio::ip::address network;
  unsigned prefix = 0;
  bool Contains(const boost::asio::ip::address& address) const;
};
Result<Cidr> ParseCidr(const std::string& text);

}  // namespace petera::peterad

#endif  // PETERA_PETERAD_PROXY_PROTOCOL_H_
