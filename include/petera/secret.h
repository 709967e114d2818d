// Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
//
// SecretBytes holds key material and plaintext. It wipes itself with
// OPENSSL_cleanse when destroyed or reassigned, and it cannot be printed:
// there is no operator<< and no fmt formatter. The bytes are reached only
// through the awkwardly named secret_view()/secret_data(), so a reviewer can
// grep for every place that touches them.
#ifndef PETERA_SECRET_H_
#define PETERA_SECRET_H_

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace petera {

class SecretBytes {
 public:
  SecretBytes() = default;
  explicit SecretBytes(size_t size);  // zero-filled
  SecretBytes(const uint8_t* data, size_t size);
  ~SecretBytes();

  SecretBytes(const SecretBytes& other);
  SecretBytes& operator=(const SecretBytes& other);
  SecretBytes(SecretBytes&& other) noexcept;
  SecretBytes& operator=(SecretBytes&& other) noexcept;

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

  // Grows or shrinks; bytes cut off are wiped, new bytes are zero.
  void Resize(size_t size);
  // Wipes and empties.
  void Clear();

  std::span<const uint8_t> secret_view() const { return {data_, size_}; }
  uint8_t* secret_data() { return data_; }

  // Constant-time comparison (CRYPTO_memcmp) for equal sizes.
  bool ConstantTimeEquals(const SecretBytes& other) const;

 private:
  uint8_t* data_ = nullptr;
  size_t size_ = 0;
  size_t capacity_ = 0;
};

}  // namespace petera

#endif  // PETERA_SECRET_H_
