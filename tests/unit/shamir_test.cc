// Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
#include "petera/shamir.h"

#include <gtest/gtest.h>
#include <openssl/rand.h>

#include <vector>

namespace petera {
namespace {

// Schoolbook multiplication modulo x^8 + x^4 + x^3 + x + 1 (0x11b), written
// independently of GfMul: multiply as polynomials, then reduce.
uint8_t ReferenceMul(uint8_t a, uint8_t b) {
  unsigned product = 0;
  for (int i = 0; i < 8; ++i) {
    if ((b >> i) & 1) product ^= static_cast<unsigned>(a) << i;
  }
  for (int bit = 14; bit >= 8; --bit) {
    if ((product >> bit) & 1) product ^= 0x11bu << (bit - 8);
  }
  return static_cast<uint8_t>(product);
}

SecretBytes RandomSecret(size_t size) {
  SecretBytes secret(size);
  EXPECT_EQ(RAND_bytes(secret.secret_data(), static_cast<int>(size)), 1);
  return secret;
}

// Every subset of `shares` with `size` elements.
std::vector<std::vector<Share>> Subsets(const std::vector<Share>& shares, size_t size) {
  std::vector<std::vector<Share>> out;
  const size_t n = shares.size();
  for (unsigned mask = 0; mask < (1u << n); ++mask) {
    if (static_cast<size_t>(__builtin_popcount(mask)) != size) continue;
    std::vector<Share> subset;
    for (size_t i = 0; i < n; ++i) {
      if ((mask >> i) & 1) subset.push_back(shares[i]);
    }
    out.push_back(std::move(subset));
  }
  return out;
}

TEST(GaloisField, MultiplicationMatchesFips197AndAReference) {
  EXPECT_EQ(GfMul(0x57, 0x83), 0xc1);  // FIPS 197, section 4.2
  EXPECT_EQ(GfMul(0x57, 0x13), 0xfe);  // FIPS 197, section 4.2.1
  for (unsigned a = 0; a < 256; ++a) {
    for (unsigned b = 0; b < 256; ++b) {
      ASSERT_EQ(GfMul(static_cast<uint8_t>(a), static_cast<uint8_t>(b)),
                ReferenceMul(static_cast<uint8_t>(a), static_cast<uint8_t>(b)))
          << a << " * " << b;
    }
  }
}

TEST(GaloisField, EveryNonZeroElementHasItsInverse) {
  EXPECT_EQ(GfInv(0), 0);
  for (unsigned a = 1; a < 256; ++a) {
    EXPECT_EQ(GfMul(static_cast<uint8_t>(a), GfInv(static_cast<uint8_t>(a))), 1) << a;
  }
}

TEST(Shamir, CombinesHandComputedShares) {
  // f(x) = 0x42 + 0x05 x: f(1) = 0x47, f(2) = 0x42 ^ (0x05 * 0x02) = 0x48.
  uint8_t one = 0x47, two = 0x48;
  std::vector<Share> shares{{1, SecretBytes(&one, 1)}, {2, SecretBytes(&two, 1)}};
  auto secret = CombineShares(shares);
  ASSERT_TRUE(secret.ok()) << secret.error().message();
  ASSERT_EQ(secret->size(), 1u);
  EXPECT_EQ(secret->secret_view()[0], 0x42);
}

TEST(Shamir, AnyThresholdOfSharesRecoversTheSecretAndFewerDoNot) {
  SecretBytes secret = RandomSecret(32);
  auto shares = SplitSecret(secret, 3, 5);
  ASSERT_TRUE(shares.ok()) << shares.error().message();
  ASSERT_EQ(shares->size(), 5u);
  for (size_t i = 0; i < shares->size(); ++i) {
    EXPECT_EQ((*shares)[i].x, i + 1);
    EXPECT_EQ((*shares)[i].y.size(), 32u);
    EXPECT_FALSE((*shares)[i].y.ConstantTimeEquals(secret)) << "share " << i + 1;
  }
  for (size_t size = 3; size <= 5; ++size) {
    for (const auto& subset : Subsets(*shares, size)) {
      auto back = CombineShares(subset);
      ASSERT_TRUE(back.ok()) << back.error().message();
      EXPECT_TRUE(back->ConstantTimeEquals(secret)) << size << " shares";
    }
  }
  for (size_t size = 1; size <= 2; ++size) {
    for (const auto& subset : Subsets(*shares, size)) {
      auto back = CombineShares(subset);
      ASSERT_TRUE(back.ok());
      EXPECT_FALSE(back->ConstantTimeEquals(secret)) << size << " shares";
    }
  }
}

TEST(Shamir, AThresholdOfOneMakesEveryShareTheSecret) {
  SecretBytes secret = RandomSecret(32);
  auto shares = SplitSecret(secret, 1, 3);
  ASSERT_TRUE(shares.ok());
  for (const auto& share : *shares) EXPECT_TRUE(share.y.ConstantTimeEquals(secret));
}

TEST(Shamir, SplitsAfreshEachTime) {
  SecretBytes secret = RandomSecret(32);
  auto first = SplitSecret(secret, 2, 2);
  auto second = SplitSecret(secret, 2, 2);
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_FALSE((*first)[0].y.ConstantTimeEquals((*second)[0].y));
}

TEST(Shamir, HandlesTheLargestNumberOfShares) {
  SecretBytes secret = RandomSecret(32);
  auto shares = SplitSecret(secret, kMaxShares, kMaxShares);
  ASSERT_TRUE(shares.ok());
  EXPECT_EQ(shares->back().x, 255);
  auto back = CombineShares(*shares);
  ASSERT_TRUE(back.ok());
  EXPECT_TRUE(back->ConstantTimeEquals(secret));
}

TEST(Shamir, RefusesImpossibleSplits) {
  SecretBytes secret = RandomSecret(32);
  EXPECT_FALSE(SplitSecret(secret, 0, 3).ok());
  EXPECT_FALSE(SplitSecret(secret, 4, 3).ok());
  EXPECT_FALSE(SplitSecret(secret, 2, 256).ok());
  EXPECT_FALSE(SplitSecret(SecretBytes(), 1, 1).ok());
}

TEST(Shamir, RefusesSharesThatCannotBeCombined) {
  SecretBytes a = RandomSecret(32), b = RandomSecret(32), short_one = RandomSecret(31);
  EXPECT_FALSE(CombineShares({}).ok());
  EXPECT_FALSE(CombineShares({{1, a}, {1, b}}).ok());         // the same number twice
  EXPECT_FALSE(CombineShares({{0, a}, {1, b}}).ok());         // number 0 is the secret
  EXPECT_FALSE(CombineShares({{1, a}, {2, short_one}}).ok());  // lengths differ
  EXPECT_TRUE(CombineShares({{1, a}, {2, b}}).ok());
}

}  // namespace
}  // namespace petera
