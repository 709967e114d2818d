// Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
//
// Shamir secret sharing over GF(2^8), byte by byte: a secret is split into
// n shares, any t of which give it back, while fewer than t say nothing
// about it. Envelopes with a threshold split their content key this way,
// one share per recipient (docs/format.md).
//
// The field is the AES field, GF(2)[x] / (x^8 + x^4 + x^3 + x + 1). Each
// byte of the secret is the constant term of a random polynomial of degree
// t - 1; share number i holds the polynomials' values at x = i. Arithmetic
// on secret values is constant time: no branch and no table index depends
// on them.
#ifndef PETERA_SHAMIR_H_
#define PETERA_SHAMIR_H_

#include <cstddef>
#include <cstdint>
#include <vector>

#include "petera/result.h"
#include "petera/secret.h"

namespace petera {

inline constexpr size_t kMaxShares = 255;

struct Share {
  uint8_t x = 0;  // 1 to 255
  SecretBytes y;  // as long as the secret
};

// Splits a non-empty `secret` into `count` shares numbered 1 to `count`, any
// `threshold` of which recover it (1 <= threshold <= count <= 255).
Result<std::vector<Share>> SplitSecret(const SecretBytes& secret, size_t threshold, size_t count);

// The secret back from shares with distinct numbers and equal lengths, by
// Lagrange interpolation at 0. From fewer shares than the threshold the
// result is an unrelated value: the caller must authenticate it (an
// envelope's tag does).
Result<SecretBytes> CombineShares(const std::vector<Share>& shares);

// Multiplication and inversion in GF(2^8) (the inverse of 0 is 0), exposed
// for tests.
uint8_t GfMul(uint8_t a, uint8_t b);
uint8_t GfInv(uint8_t a);

}  // namespace petera

#endif  // PETERA_SHAMIR_H_
