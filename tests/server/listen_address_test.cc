// Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
#include <gtest/gtest.h>

#include "peterad/session.h"

#include "peterad/server.h"

namespace petera::peterad {
namespace {

TEST(ListenAddress, AcceptsIpv4AndBracketedIpv6) {
  auto v4 = ParseListenAddress("127.0.0.1:5700");
  ASSERT_TRUE(v4.ok()) << v4.error().message();
  EXPECT_EQ(v4->address().to_string(), "127.0.0.1");
  EXPECT_EQ(v4->port(), 5700);
  auto v6 = ParseListenAddress("[::1]:443");
  ASSERT_TRUE(v6.ok()) << v6.error().message();
  EXPECT_TRUE(v6->address().is_v6());
  EXPECT_EQ(v6->port(), 443);
  auto any6 = ParseListenAddress("[::]:5700");
  ASSERT_TRUE(any6.ok());
  EXPECT_TRUE(any6->address().is_unspecified());
}

TEST(ListenAddress, RefusesNamesBadPortsAndBareIpv6) {
  for (const char* bad : {"localhost:5700", "127.0.0.1", "127.0.0.1:0", "127.0.0.1:65536",
                          "127.0.0.1:57x", "::1:5700", "[::1]5700", ":5700", "[::1]:"}) {
    auto parsed = ParseListenAddress(bad);
    EXPECT_FALSE(parsed.ok()) << bad;
    if (!parsed.ok()) {
      EXPECT_EQ(parsed.error().category(), ErrorCategory::kUsage);
    }
  }
}

}  // namespace
// The per-client cap counts an address however it arrives: an IPv4 client
// on a dual-stack socket is its IPv4 address.
TEST(ClientKey, IsTheAddressAloneAndUnmapsIpv4MappedIpv6) {
  namespace ip = boost::asio::ip;
  EXPECT_EQ(ClientKey(ip::make_address("192.0.2.7")), "192.0.2.7");
  EXPECT_EQ(ClientKey(ip::make_address("::ffff:192.0.2.7")), "192.0.2.7");
  EXPECT_EQ(ClientKey(ip::make_address("2001:db8::1")), "2001:db8::1");
}

}  // namespace petera::peterad
