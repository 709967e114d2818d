// Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
#include "petera/shamir.h"

#include <openssl/rand.h>

#include <array>
#include <string>

#include "petera/ossl.h"

namespace petera {
namespace {

// The value at `x` of the polynomial whose constant term is `constant` and
// whose other coefficients, from degree 1 up, are coefficients[0..degree).
uint8_t Evaluate(uint8_t constant, const uint8_t* coefficients, size_t degree, uint8_t x) {
  uint8_t acc = 0;
  for (size_t k = degree; k > 0; --k) acc = static_cast<uint8_t>(GfMul(acc, x) ^ coefficients[k - 1]);
  return static_cast<uint8_t>(GfMul(acc, x) ^ constant);
}

}  // namespace

uint8_t GfMul(uint8_t a, uint8_t b) {
  uint8_t product = 0;
  for (int bit = 0; bit < 8; ++bit) {
    product ^= static_cast<uint8_t>(-(b & 1) & a);
    uint8_t reduce = static_cast<uint8_t>(-(a >> 7) & 0x1b);
    a = static_cast<uint8_t>((a << 1) ^ reduce);
    b = static_cast<uint8_t>(b >> 1);
  }
  return product;
}

uint8_t GfInv(uint8_t a) {
  // a^254 = a^-1 (the multiplicative group has order 255): 254 is 11111110
  // in binary, a fixed sequence of squarings and multiplications.
  uint8_t result = 1;
  uint8_t power = a;
  for (int bit = 1; bit < 8; ++bit) {
    power = GfMul(power, power);
    result = GfMul(result, power);
  }
  return result;
}

Result<std::vector<Share>> SplitSecret(const SecretBytes& secret, size_t threshold, size_t count) {
  if (secret.empty()) return Error(ErrorCategory::kUsage, "nothing to split");
  if (threshold < 1 || threshold > count || count > kMaxShares) {
    return Error(ErrorCategory::kUsage, "a threshold of " + std::to_string(threshold) + " of " +
                                            std::to_string(count) +
                                            " shares is impossible (1 <= t <= n <= 255)");
  }
  const size_t degree = threshold - 1;
  // Coefficients of degree 1 and up, `degree` per byte of the secret.
  SecretBytes coefficients(secret.size() * degree);
  if (!coefficients.empty() &&
      RAND_priv_bytes(coefficients.secret_data(), static_cast<int>(coefficients.size())) != 1) {
    return SslError("RNG failure");
  }
  std::vector<Share> shares(count);
  for (size_t i = 0; i < count; ++i) {
    Share& share = shares[i];
    share.x = static_cast<uint8_t>(i + 1);
    share.y = SecretBytes(secret.size());
    for (size_t b = 0; b < secret.size(); ++b) {
      share.y.secret_data()[b] = Evaluate(secret.secret_view()[b],
                                          coefficients.secret_data() + b * degree, degree, share.x);
    }
  }
  return shares;
}

Result<SecretBytes> CombineShares(const std::vector<Share>& shares) {
  if (shares.empty() || shares.size() > kMaxShares) {
    return Error(ErrorCategory::kUsage, "need 1 to 255 shares");
  }
  std::array<bool, 256> seen{};
  const size_t size = shares.front().y.size();
  for (const Share& share : shares) {
    if (share.x == 0 || seen[share.x]) {
      return Error(ErrorCategory::kCorrupt, "share numbers must be distinct and non-zero");
    }
    seen[share.x] = true;
    if (share.y.size() != size || size == 0) {
      return Error(ErrorCategory::kCorrupt, "shares differ in length");
    }
  }
  SecretBytes secret(size);
  for (size_t j = 0; j < shares.size(); ++j) {
    // The Lagrange basis polynomial of share j at 0: the product over the
    // other shares m of x_m / (x_m - x_j), where minus is XOR.
    uint8_t basis = 1;
    for (size_t m = 0; m < shares.size(); ++m) {
      if (m == j) continue;
      basis = GfMul(basis, GfMul(shares[m].x, GfInv(shares[m].x ^ shares[j].x)));
    }
    for (size_t b = 0; b < size; ++b) {
      secret.secret_data()[b] ^= GfMul(basis, shares[j].y.secret_view()[b]);
    }
  }
  return secret;
}

}  // namespace petera
