// Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
#include "petera/address.h"

#include <gtest/gtest.h>

namespace petera {
namespace {

TEST(Address, DefaultsToPort5700) {
  auto a = ParseAddress("tang.example");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->host, "tang.example");
  EXPECT_EQ(a->port, 5700);
  EXPECT_FALSE(a->host_is_ip());
}

TEST(Address, ParsesNamePortIpv4AndBracketedIpv6) {
  EXPECT_EQ(*ParseAddress("db1:8443"), (Address{"db1", 8443}));
  EXPECT_EQ(*ParseAddress("192.0.2.7:1"), (Address{"192.0.2.7", 1}));
  auto v6 = ParseAddress("[2001:db8::1]:5701");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->host, "2001:db8::1");
  EXPECT_EQ(v6->port, 5701);
  EXPECT_TRUE(v6->host_is_ip());
  EXPECT_EQ(ParseAddress("[::1]")->port, 5700);
}

TEST(Address, PrintsInAFormItParsesBack) {
  for (const char* text : {"db1:8443", "[2001:db8::1]:5701", "10.0.0.1:5700"}) {
    auto a = ParseAddress(text);
    ASSERT_TRUE(a.ok()) << text;
    EXPECT_EQ(a->ToString(), text);
    EXPECT_EQ(*ParseAddress(a->ToString()), *a);
  }
}

TEST(Address, RefusesMalformedAddresses) {
  for (const char* text : {"", "db1:", "db1:0", "db1:65536", "db1:http", "2001:db8::1",
                           "[2001:db8::1", "[db1]:5700", "[::1]x", "bad host", "a..b",
                           "db1:12:13", "-x/y"}) {
    auto a = ParseAddress(text);
    EXPECT_FALSE(a.ok()) << text;
    if (!a.ok()) {
      EXPECT_EQ(a.error().category(), ErrorCategory::kUsage);
    }
  }
}

}  // namespace
}  // namespace petera
