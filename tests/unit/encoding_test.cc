// Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
#include "petera/encoding.h"

#include <gtest/gtest.h>

namespace petera {
namespace {

std::string Str(const Bytes& b) { return std::string(b.begin(), b.end()); }

// RFC 4648 section 10 test vectors.
TEST(Base64, EncodesRfc4648Vectors) {
  EXPECT_EQ(Base64Encode(AsBytes("")), "");
  EXPECT_EQ(Base64Encode(AsBytes("f")), "Zg==");
  EXPECT_EQ(Base64Encode(AsBytes("fo")), "Zm8=");
  EXPECT_EQ(Base64Encode(AsBytes("foo")), "Zm9v");
  EXPECT_EQ(Base64Encode(AsBytes("foobar")), "Zm9vYmFy");
  EXPECT_EQ(Base64UrlEncode(AsBytes("fo")), "Zm8");
}

TEST(Base64, DecodesWhatItEncodes) {
  for (std::string s : {"", "f", "fo", "foo", "foob", "fooba", "foobar"}) {
    EXPECT_EQ(Str(*Base64Decode(Base64Encode(AsBytes(s)))), s);
    EXPECT_EQ(Str(*Base64UrlDecode(Base64UrlEncode(AsBytes(s)))), s);
  }
}

TEST(Base64Url, UsesTheUrlAlphabet) {
  const uint8_t bytes[] = {0xfb, 0xff, 0xbf};
  EXPECT_EQ(Base64UrlEncode(bytes), "-_-_");
  EXPECT_EQ(Base64Encode(bytes), "+/+/");
}

TEST(Base64Url, RefusesPaddingForeignCharactersAndBadLengths) {
  EXPECT_FALSE(Base64UrlDecode("Zg==").ok());
  EXPECT_FALSE(Base64UrlDecode("+/+/").ok());
  EXPECT_FALSE(Base64UrlDecode("Zm9v Zg").ok());
  EXPECT_FALSE(Base64UrlDecode("Z").ok());
  EXPECT_FALSE(Base64UrlDecode("Zm9vY").ok());
}

TEST(Base64Url, RefusesNonCanonicalTrailingBits) {
  EXPECT_TRUE(Base64UrlDecode("Zg").ok());
  EXPECT_FALSE(Base64UrlDecode("Zh").ok());  // same byte, stray low bits
  EXPECT_FALSE(Base64UrlDecode("Zm9").ok() && !Base64UrlDecode("Zm8").ok());
  EXPECT_FALSE(Base64UrlDecode("Zm9").ok());
}

TEST(Base64, RefusesMissingOrMisplacedPadding) {
  EXPECT_FALSE(Base64Decode("Zg").ok());
  EXPECT_FALSE(Base64Decode("Z===").ok());
  EXPECT_FALSE(Base64Decode("Zg=a").ok());
  EXPECT_FALSE(Base64Decode("-_-_").ok());
}

TEST(Base64Url, DecodesSecretsIntoWipedMemory) {
  auto s = Base64UrlDecodeSecret("Zm9vYmFy");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->size(), 6u);
  EXPECT_FALSE(Base64UrlDecodeSecret("Zm9vYmF=").ok());
}

TEST(Printable, KeepsVisibleAsciiAndEscapesEverythingElse) {
  EXPECT_EQ(Printable("/v1/recover?a=b~"), "/v1/recover?a=b~");
  EXPECT_EQ(Printable(std::string("a\0b", 3)), "a\\x00b");
  EXPECT_EQ(Printable("line\r\nforged"), "line\\x0d\\x0aforged");
  EXPECT_EQ(Printable("\x1b[2J\x7f"), "\\x1b[2J\\x7f");
  // 8-bit CSI, its UTF-8 form, and a stray continuation byte.
  EXPECT_EQ(Printable("\x9b\xc2\x9b\xff"), "\\x9b\\xc2\\x9b\\xff");
  EXPECT_EQ(Printable("a b"), "a\\x20b");
  EXPECT_EQ(Printable("a b\tc", /*keep_spaces=*/true), "a b\\x09c");
  EXPECT_EQ(Printable(""), "");
}

}  // namespace
}  // namespace petera
