// Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
#include "petera/secret.h"

#include <openssl/crypto.h>

#include <cstring>
#include <new>

namespace petera {
namespace {

uint8_t* Allocate(size_t n) {
  if (n == 0) return nullptr;
  return new uint8_t[n]();
}

void Release(uint8_t* p, size_t capacity) {
  if (p == nullptr) return;
  OPENSSL_cleanse(p, capacity);
  delete[] p;
}

}  // namespace

SecretBytes::SecretBytes(size_t size)
    : data_(Allocate(size)), size_(size), capacity_(size) {}

SecretBytes::SecretBytes(const uint8_t* data, size_t size) : SecretBytes(size) {
  if (size > 0) std::memcpy(data_, data, size);
}

SecretBytes::~SecretBytes() { Release(data_, capacity_); }

SecretBytes::SecretBytes(const SecretBytes& other)
    : SecretBytes(other.data_, other.size_) {}

SecretBytes& SecretBytes::operator=(const SecretBytes& other) {
  if (this != &other) {
    SecretBytes copy(other);
    *this = std::move(copy);
  }
  return *this;
}

SecretBytes::SecretBytes(SecretBytes&& other) noexcept
    : data_(other.data_), size_(other.size_), capacity_(other.capacity_) {
  other.data_ = nullptr;
  other.size_ = 0;
  other.capacity_ = 0;
}

SecretBytes& SecretBytes::operator=(SecretBytes&& other) noexcept {
  if (this != &other) {
    Release(data_, capacity_);
    data_ = other.data_;
    size_ = other.size_;
    capacity_ = other.capacity_;
    other.data_ = nullptr;
    other.size_ = 0;
    other.capacity_ = 0;
  }
  return *this;
}

void SecretBytes::Resize(size_t size) {
  if (size <= capacity_) {
    if (size < size_) OPENSSL_cleanse(data_ + size, size_ - size);
    if (size > size_) std::memset(data_ + size_, 0, size - size_);
    size_ = size;
    return;
  }
  size_t capacity = capacity_ * 2 > size ? capacity_ * 2 : size;
  uint8_t* grown = Allocate(capacity);
  if (size_ > 0) std::memcpy(grown, data_, size_);
  Release(data_, capacity_);
  data_ = grown;
  size_ = size;
  capacity_ = capacity;
}

void SecretBytes::Clear() {
  Release(data_, capacity_);
  data_ = nullptr;
  size_ = 0;
  capacity_ = 0;
}

bool SecretBytes::ConstantTimeEquals(const SecretBytes& other) const {
  if (size_ != other.size_) return false;
  if (size_ == 0) return true;
  return CRYPTO_memcmp(data_, other.data_, size_) == 0;
}

}  // namespace petera
