// Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
#include "petera/secret.h"

#include <gtest/gtest.h>

#include <ostream>
#include <type_traits>

namespace petera {
namespace {

SecretBytes Pattern(size_t n) {
  SecretBytes s(n);
  for (size_t i = 0; i < n; ++i) s.secret_data()[i] = static_cast<uint8_t>(0xA0 + i);
  return s;
}

TEST(SecretBytes, ShrinkingWipesTheBytesCutOff) {
  SecretBytes s = Pattern(16);
  uint8_t* data = s.secret_data();
  s.Resize(4);
  EXPECT_EQ(s.size(), 4u);
  EXPECT_EQ(data[0], 0xA0);
  for (size_t i = 4; i < 16; ++i) EXPECT_EQ(data[i], 0) << i;  // still our allocation
}

TEST(SecretBytes, GrowingKeepsContentAndZeroFills) {
  SecretBytes s = Pattern(3);
  s.Resize(40);
  ASSERT_EQ(s.size(), 40u);
  EXPECT_EQ(s.secret_view()[2], 0xA2);
  EXPECT_EQ(s.secret_view()[39], 0);
}

TEST(SecretBytes, MoveLeavesTheSourceEmpty) {
  SecretBytes a = Pattern(8);
  SecretBytes b(std::move(a));
  EXPECT_EQ(b.size(), 8u);
  EXPECT_TRUE(a.empty());  // NOLINT(bugprone-use-after-move): documented state
  SecretBytes c;
  c = std::move(b);
  EXPECT_EQ(c.secret_view()[7], 0xA7);
  EXPECT_TRUE(b.empty());  // NOLINT(bugprone-use-after-move)
}

TEST(SecretBytes, CopiesAreIndependent) {
  SecretBytes a = Pattern(8);
  SecretBytes b = a;
  b.secret_data()[0] = 0;
  EXPECT_EQ(a.secret_view()[0], 0xA0);
  EXPECT_FALSE(a.ConstantTimeEquals(b));
}

TEST(SecretBytes, ConstantTimeEqualsComparesContentAndSize) {
  EXPECT_TRUE(Pattern(8).ConstantTimeEquals(Pattern(8)));
  EXPECT_FALSE(Pattern(8).ConstantTimeEquals(Pattern(9)));
  EXPECT_TRUE(SecretBytes().ConstantTimeEquals(SecretBytes()));
}

TEST(SecretBytes, ClearEmpties) {
  SecretBytes s = Pattern(8);
  s.Clear();
  EXPECT_TRUE(s.empty());
  EXPECT_EQ(s.secret_view().data(), nullptr);
}

// SecretBytes must not be printable: no stream operator exists for it.
template <typename T, typename = void>
struct Streamable : std::false_type {};
template <typename T>
struct Streamable<T, std::void_t<decltype(std::declval<std::ostream&>() << std::declval<T>())>>
    : std::true_type {};
static_assert(!Streamable<SecretBytes>::value, "SecretBytes must not be printable");

}  // namespace
}  // namespace petera
