// Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
//
// The JOSE primitives under the envelope: Concat KDF, AES key wrap, and
// RSA-OAEP decoding for the blinded RSA path.
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include <array>
#include <cstring>

#include "petera/envelope.h"
#include "petera/recovery.h"

namespace petera {
namespace {

void PutBe32(uint8_t* out, uint32_t v) {
  out[0] = static_cast<uint8_t>(v >> 24);
  out[1] = static_cast<uint8_t>(v >> 16);
  out[2] = static_cast<uint8_t>(v >> 8);
  out[3] = static_cast<uint8_t>(v);
}

constexpr std::string_view kAlgA256KW = "ECDH-ES+A256KW";

}  // namespace

SecretBytes ConcatKdfA256KW(const SecretBytes& z) {
  // One SHA-256 round: counter || Z || OtherInfo, where OtherInfo is
  // AlgorithmID || PartyUInfo (empty) || PartyVInfo (empty) || SuppPubInfo.
  std::array<uint8_t, 4> counter{};
  PutBe32(counter.data(), 1);
  std::array<uint8_t, 4 + kAlgA256KW.size() + 4 + 4 + 4> other{};
  uint8_t* p = other.data();
  PutBe32(p, static_cast<uint32_t>(kAlgA256KW.size()));
  std::memcpy(p + 4, kAlgA256KW.data(), kAlgA256KW.size());
  p += 4 + kAlgA256KW.size();
  PutBe32(p, 0);
  PutBe32(p + 4, 0);
  PutBe32(p + 8, 256);
  SecretBytes out(32);
  unsigned int len = 0;
  EvpMdCtxPtr ctx(EVP_MD_CTX_new());
  bool ok = ctx && EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) == 1 &&
            EVP_DigestUpdate(ctx.get(), counter.data(), counter.size()) == 1 &&
            EVP_DigestUpdate(ctx.get(), z.secret_view().data(), z.size()) == 1 &&
            EVP_DigestUpdate(ctx.get(), other.data(), other.size()) == 1 &&
            EVP_DigestFinal_ex(ctx.get(), out.secret_data(), &len) == 1 && len == 32;
  if (!ok) out.Clear();  // callers treat an empty KEK as failure
  return out;
}

Result<Bytes> AesKeyWrap(const SecretBytes& kek, const SecretBytes& key) {
  if (kek.size() != 32 || key.size() < 16 || key.size() % 8 != 0) {
    return Error(ErrorCategory::kInternal, "invalid key wrap sizes");
  }
  EvpCipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  if (!ctx) return SslError("cannot allocate cipher");
  EVP_CIPHER_CTX_set_flags(ctx.get(), EVP_CIPHER_CTX_FLAG_WRAP_ALLOW);
  Bytes out(key.size() + 8);
  int len = 0, fin = 0;
  if (EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_wrap(), nullptr,
                         kek.secret_view().data(), nullptr) != 1 ||
      EVP_EncryptUpdate(ctx.get(), out.data(), &len, key.secret_view().data(),
                        static_cast<int>(key.size())) != 1 ||
      EVP_EncryptFinal_ex(ctx.get(), out.data() + len, &fin) != 1 ||
      static_cast<size_t>(len + fin) != out.size()) {
    return SslError("AES key wrap failed");
  }
  return out;
}

Result<SecretBytes> AesKeyUnwrap(const SecretBytes& kek, std::span<const uint8_t> wrapped) {
  if (kek.size() != 32) return Error(ErrorCategory::kInternal, "invalid KEK size");
  if (wrapped.size() < 24 || wrapped.size() % 8 != 0 || wrapped.size() > 1024) {
    return Error(ErrorCategory::kCorrupt, "wrapped key has an invalid length");
  }
  EvpCipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  if (!ctx) return SslError("cannot allocate cipher");
  EVP_CIPHER_CTX_set_flags(ctx.get(), EVP_CIPHER_CTX_FLAG_WRAP_ALLOW);
  SecretBytes out(wrapped.size());  // the cipher may write a full block
  int len = 0, fin = 0;
  if (EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_wrap(), nullptr,
                         kek.secret_view().data(), nullptr) != 1 ||
      EVP_DecryptUpdate(ctx.get(), out.secret_data(), &len, wrapped.data(),
                        static_cast<int>(wrapped.size())) != 1 ||
      EVP_DecryptFinal_ex(ctx.get(), out.secret_data() + len, &fin) != 1) {
    out.Clear();
    return SslError("key unwrap failed (wrong key or corrupt data)", ErrorCategory::kCorrupt);
  }
  out.Resize(static_cast<size_t>(len + fin));
  return out;
}

// RSA_padding_check_PKCS1_OAEP_mgf1 is deprecated in OpenSSL 3 but remains
// the only public, constant-time OAEP decoder that works on an encoded
// message the caller already holds (the blinded path removes r itself).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
Result<SecretBytes> OaepSha256Decode(const SecretBytes& encoded) {
  int k = static_cast<int>(encoded.size());
  SecretBytes out(encoded.size());
  int n = RSA_padding_check_PKCS1_OAEP_mgf1(out.secret_data(), k,
                                            encoded.secret_view().data(), k, k,
                                            nullptr, 0, EVP_sha256(), EVP_sha256());
  if (n < 0) {
    out.Clear();
    DrainSslErrors();
    return Error(ErrorCategory::kCorrupt, "OAEP decoding failed (wrong key or corrupt data)");
  }
  out.Resize(static_cast<size_t>(n));
  return out;
}
#pragma GCC diagnostic pop

}  // namespace petera
