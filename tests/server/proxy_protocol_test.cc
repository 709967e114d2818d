// Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
#include "peterad/proxy_protocol.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace petera::peterad {
namespace {

using State = ProxyParse::State;

std::vector<uint8_t> Bytes(const std::string& text) { return {text.begin(), text.end()}; }

ProxyParse Parse(const std::vector<uint8_t>& data) { return ParseProxyHeader(data); }

const std::vector<uint8_t> kSignature = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D,
                                         0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};

// A v2 header: command byte, family byte, then `body`.
std::vector<uint8_t> V2(uint8_t command, uint8_t family, const std::vector<uint8_t>& body) {
  std::vector<uint8_t> out = kSignature;
  out.push_back(command);
  out.push_back(family);
  out.push_back(static_cast<uint8_t>(body.size() >> 8));
  out.push_back(static_cast<uint8_t>(body.size() & 0xFF));
  out.insert(out.end(), body.begin(), body.end());
  return out;
}

TEST(ProxyProtocolV1, ReadsTcp4AndTcp6AndStopsAtTheHeadersEnd) {
  std::string header = "PROXY TCP4 192.0.2.7 198.51.100.1 56324 5700\r\n";
  auto parsed = Parse(Bytes(header + "\x16\x03\x01"));  // then a TLS record
  ASSERT_EQ(parsed.state, State::kDone) << parsed.error;
  EXPECT_EQ(parsed.header.length, header.size());
  ASSERT_TRUE(parsed.header.source);
  EXPECT_EQ(parsed.header.source->address().to_string(), "192.0.2.7");
  EXPECT_EQ(parsed.header.source->port(), 56324);

  parsed = Parse(Bytes("PROXY TCP6 2001:db8::7 2001:db8::1 65535 5700\r\n"));
  ASSERT_EQ(parsed.state, State::kDone) << parsed.error;
  EXPECT_EQ(parsed.header.source->address().to_string(), "2001:db8::7");
  EXPECT_EQ(parsed.header.source->port(), 65535);

  parsed = Parse(Bytes("PROXY UNKNOWN\r\n"));
  ASSERT_EQ(parsed.state, State::kDone);
  EXPECT_FALSE(parsed.header.source) << "UNKNOWN keeps the balancer's own address";
  EXPECT_EQ(parsed.header.length, 15u);
}

TEST(ProxyProtocolV1, AsksForMoreUntilTheLineEnds) {
  std::string header = "PROXY TCP4 192.0.2.7 198.51.100.1 56324 5700\r\n";
  for (size_t n = 1; n < header.size(); ++n) {
    EXPECT_EQ(Parse(Bytes(header.substr(0, n))).state, State::kNeedMore) << n;
  }
}

TEST(ProxyProtocolV1, RefusesWhatIsNotAWellFormedHeader) {
  for (const char* bad : {
           "PROXY TCP4 192.0.2.7 198.51.100.1 56324\r\n",          // a field missing
           "PROXY TCP4 192.0.2.7 198.51.100.1 56324 5700 x\r\n",   // one too many
           "PROXY TCP4 2001:db8::7 198.51.100.1 1 2\r\n",          // wrong family
           "PROXY TCP6 192.0.2.7 2001:db8::1 1 2\r\n",
           "PROXY TCP4 192.0.2.300 198.51.100.1 1 2\r\n",          // bad address
           "PROXY TCP4 192.0.2.7 198.51.100.1 65536 2\r\n",        // bad port
           "PROXY TCP4 192.0.2.7 198.51.100.1 0123 2\r\n",         // leading zero
           "PROXY TCP4 192.0.2.7 198.51.100.1 -1 2\r\n",
           "PROXY TCP4  192.0.2.7 198.51.100.1 1 2\r\n",           // double space
           "PROXY UDP4 192.0.2.7 198.51.100.1 1 2\r\n",
           "PROXY TCP4 192.0.2.7 198.51.100.1 1 2\n",              // bare LF
           "PROXY TCP4 192.0.2.7 198.51.100.1 1 2\r\r\n",          // bare CR
           "PROXY TCP4 192.0.2.7\t198.51.100.1 1 2\r\n",          // not a space
           "\x16\x03\x01\x02\x00",                                 // TLS without a header
           "GET / HTTP/1.1\r\n"}) {
    EXPECT_EQ(Parse(Bytes(bad)).state, State::kInvalid) << bad;
  }
  // A NUL would end the address for inet_pton: the rest must not hide.
  std::string nul = std::string("PROXY TCP4 192.0.2.7") + '\0' + "x 198.51.100.1 1 2\r\n";
  EXPECT_EQ(Parse(Bytes(nul)).state, State::kInvalid);
  std::string endless = "PROXY TCP4 " + std::string(200, '1');
  auto parsed = Parse(Bytes(endless));
  EXPECT_EQ(parsed.state, State::kInvalid);
  EXPECT_NE(parsed.error.find("107"), std::string::npos);
}

TEST(ProxyProtocolV2, ReadsIpv4AndIpv6AndSkipsTlvs) {
  std::vector<uint8_t> v4 = {192, 0, 2, 7, 198, 51, 100, 1, 0xDC, 0x04, 0x16, 0x44};
  std::vector<uint8_t> tlv = {0x04, 0x00, 0x03, 'a', 'b', 'c'};  // PP2_TYPE_NOOP
  std::vector<uint8_t> body = v4;
  body.insert(body.end(), tlv.begin(), tlv.end());
  auto header = V2(0x21, 0x11, body);
  auto with_tls = header;
  with_tls.push_back(0x16);
  auto parsed = Parse(with_tls);
  ASSERT_EQ(parsed.state, State::kDone) << parsed.error;
  EXPECT_EQ(parsed.header.length, header.size());
  EXPECT_EQ(parsed.header.source->address().to_string(), "192.0.2.7");
  EXPECT_EQ(parsed.header.source->port(), 0xDC04);

  std::vector<uint8_t> v6(36, 0);
  v6[0] = 0x20, v6[1] = 0x01, v6[2] = 0x0d, v6[3] = 0xb8, v6[15] = 7;
  v6[32] = 0x12, v6[33] = 0x34;
  parsed = Parse(V2(0x21, 0x21, v6));
  ASSERT_EQ(parsed.state, State::kDone) << parsed.error;
  EXPECT_EQ(parsed.header.source->address().to_string(), "2001:db8::7");
  EXPECT_EQ(parsed.header.source->port(), 0x1234);
}

TEST(ProxyProtocolV2, LocalAndUnspecKeepTheBalancersAddress) {
  auto parsed = Parse(V2(0x20, 0x00, {}));
  ASSERT_EQ(parsed.state, State::kDone);
  EXPECT_FALSE(parsed.header.source);
  EXPECT_EQ(parsed.header.length, 16u);
  parsed = Parse(V2(0x20, 0x11, std::vector<uint8_t>(12, 1)));  // LOCAL ignores addresses
  ASSERT_EQ(parsed.state, State::kDone);
  EXPECT_FALSE(parsed.header.source);
  parsed = Parse(V2(0x21, 0x00, {}));
  ASSERT_EQ(parsed.state, State::kDone);
  EXPECT_FALSE(parsed.header.source);
}

TEST(ProxyProtocolV2, AsksForMoreUntilTheAnnouncedLength) {
  auto header = V2(0x21, 0x11, std::vector<uint8_t>(12, 1));
  for (size_t n = 1; n < header.size(); ++n) {
    std::vector<uint8_t> part(header.begin(), header.begin() + static_cast<long>(n));
    EXPECT_EQ(Parse(part).state, State::kNeedMore) << n;
  }
}

TEST(ProxyProtocolV2, RefusesWhatIsNotAWellFormedHeader) {
  EXPECT_EQ(Parse(V2(0x11, 0x11, std::vector<uint8_t>(12))).state, State::kInvalid);  // v1 byte
  EXPECT_EQ(Parse(V2(0x22, 0x11, std::vector<uint8_t>(12))).state, State::kInvalid);  // command
  EXPECT_EQ(Parse(V2(0x21, 0x11, std::vector<uint8_t>(11))).state, State::kInvalid);  // short
  EXPECT_EQ(Parse(V2(0x21, 0x21, std::vector<uint8_t>(35))).state, State::kInvalid);
  EXPECT_EQ(Parse(V2(0x21, 0x12, std::vector<uint8_t>(12))).state, State::kInvalid);  // UDP
  EXPECT_EQ(Parse(V2(0x21, 0x31, std::vector<uint8_t>(216))).state, State::kInvalid);  // unix
  // A length past what peterad accepts is refused before it is read.
  auto huge = V2(0x21, 0x11, {});
  huge[14] = 0xFF, huge[15] = 0xFF;
  auto parsed = Parse(huge);
  EXPECT_EQ(parsed.state, State::kInvalid);
  auto bad_signature = V2(0x21, 0x11, std::vector<uint8_t>(12));
  bad_signature[7] = 'X';
  EXPECT_EQ(Parse(bad_signature).state, State::kInvalid);
}

TEST(Cidr, MatchesAddressesInsideTheRangeOnly) {
  namespace ip = boost::asio::ip;
  auto eight = ParseCidr("10.0.0.0/8");
  ASSERT_TRUE(eight.ok());
  EXPECT_TRUE(eight->Contains(ip::make_address("10.200.3.4")));
  EXPECT_TRUE(eight->Contains(ip::make_address("::ffff:10.1.2.3")));
  EXPECT_FALSE(eight->Contains(ip::make_address("11.0.0.1")));
  EXPECT_FALSE(eight->Contains(ip::make_address("::1")));
  auto one = ParseCidr("127.0.0.1");
  ASSERT_TRUE(one.ok());
  EXPECT_TRUE(one->Contains(ip::make_address("127.0.0.1")));
  EXPECT_FALSE(one->Contains(ip::make_address("127.0.0.2")));
  auto v6 = ParseCidr("2001:db8::/33");
  ASSERT_TRUE(v6.ok());
  EXPECT_TRUE(v6->Contains(ip::make_address("2001:db8:7fff::1")));
  EXPECT_FALSE(v6->Contains(ip::make_address("2001:db8:8000::1")));
  for (const char* bad : {"10.0.0.0/33", "::/129", "10.0.0.0/", "10.0.0.0/x", "host/8", ""}) {
    EXPECT_FALSE(ParseCidr(bad).ok()) << bad;
  }
}

}  // namespace
}  // namespace petera::peterad
