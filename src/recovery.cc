// Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
#include "petera/recovery.h"

#include <openssl/core_names.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/sha.h>

#include <cstring>
#include <nlohmann/json.hpp>

#include "json_util.h"

namespace petera {
namespace {

Error RecoveryRefused(const std::string& why) {
  DrainSslErrors();
  return Error(ErrorCategory::kProtocol, why);
}

Result<Bytes> EncodePoint(const EC_GROUP* group, const EC_POINT* point, BN_CTX* ctx) {
  size_t n = EC_POINT_point2oct(group, point, POINT_CONVERSION_UNCOMPRESSED,
                                nullptr, 0, ctx);
  if (n == 0) return SslError("cannot encode point");
  Bytes out(n);
  if (EC_POINT_point2oct(group, point, POINT_CONVERSION_UNCOMPRESSED, out.data(),
                         n, ctx) != n) {
    return SslError("cannot encode point");
  }
  return out;
}

// Strict decoding of an uncompressed point: exactly 1 + 2 * field bytes,
// the 0x04 prefix, both coordinates below the field prime (oct2point refuses
// larger ones), on the curve, and not the point at infinity. With a fixed
// length and reduced coordinates this encoding is canonical: exactly one
// byte string stands for each point, so no re-encoding check is needed.
Result<EcPointPtr> DecodePoint(const EC_GROUP* group, std::span<const uint8_t> bytes,
                               BN_CTX* ctx) {
  size_t flen = FieldBytes(group);
  if (bytes.size() != 1 + 2 * flen || bytes[0] != 0x04) {
    return RecoveryRefused("point is not an uncompressed point of the key's curve");
  }
  EcPointPtr point(EC_POINT_new(group));
  if (!point) return SslError("cannot allocate point");
  if (EC_POINT_oct2point(group, point.get(), bytes.data(), bytes.size(), ctx) != 1) {
    return RecoveryRefused("point is not on the key's curve or out of range");
  }
  if (EC_POINT_is_at_infinity(group, point.get()) == 1 ||
      EC_POINT_is_on_curve(group, point.get(), ctx) != 1) {
    return RecoveryRefused("point is at infinity or not on the curve");
  }
  return point;
}

// A uniformly random scalar in [1, order - 1], in secure memory.
Result<BnPtr> RandomScalar(const EC_GROUP* group) {
  const BIGNUM* order = EC_GROUP_get0_order(group);
  BnPtr k(BN_secure_new());
  if (!k) return SslError("cannot allocate scalar");
  do {
    if (BN_priv_rand_range(k.get(), order) != 1) return SslError("RNG failure");
  } while (BN_is_zero(k.get()));
  return k;
}

Result<BnPtr> KeyBn(EVP_PKEY* key, const char* name, bool secret) {
  BIGNUM* raw = secret ? BN_secure_new() : BN_new();
  if (raw == nullptr) return SslError("cannot allocate number");
  if (EVP_PKEY_get_bn_param(key, name, &raw) != 1) {
    BN_clear_free(raw);
    return SslError(std::string("cannot read key parameter ") + name);
  }
  return BnPtr(raw);
}

}  // namespace

Status ValidateEcPoint(EVP_PKEY* key, std::span<const uint8_t> point) {
  PETERA_ASSIGN_OR_RETURN(EcGroupPtr group, GroupOfKey(key));
  BnCtxPtr ctx(BN_CTX_new());
  if (!ctx) return SslError("cannot allocate BN_CTX");
  PETERA_TRY(DecodePoint(group.get(), point, ctx.get()));
  return OkStatus();
}

namespace {

Result<EcPointPtr> PublicPointOf(EVP_PKEY* key, const EC_GROUP* group, BN_CTX* ctx) {
  size_t n = 0;
  if (EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_PUB_KEY, nullptr, 0, &n) != 1) {
    return SslError("cannot read public point");
  }
  Bytes buf(n);
  if (EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_PUB_KEY, buf.data(), n, &n) != 1) {
    return SslError("cannot read public point");
  }
  EcPointPtr point(EC_POINT_new(group));
  if (!point || EC_POINT_oct2point(group, point.get(), buf.data(), n, ctx) != 1) {
    return SslError("invalid public point");
  }
  return point;
}

int RsaModulusBytes(EVP_PKEY* key) { return EVP_PKEY_get_size(key); }

// Reads x as a number with 0 < x < n, exactly modulus-length bytes.
Result<BnPtr> RsaInput(std::span<const uint8_t> x, const BIGNUM* n, int k) {
  if (x.size() != static_cast<size_t>(k)) {
    return RecoveryRefused("RSA value has the wrong length");
  }
  BnPtr c(BN_bin2bn(x.data(), static_cast<int>(x.size()), nullptr));
  if (!c) return SslError("cannot read number");
  if (BN_is_zero(c.get()) || BN_cmp(c.get(), n) >= 0) {
    return RecoveryRefused("RSA value is not in 0 < c < n");
  }
  return c;
}

Result<Bytes> BnToBytes(const BIGNUM* bn, int len) {
  Bytes out(static_cast<size_t>(len));
  if (BN_bn2binpad(bn, out.data(), len) != len) return SslError("number too large");
  return out;
}

}  // namespace

size_t FieldBytes(const EC_GROUP* group) {
  return static_cast<size_t>((EC_GROUP_get_degree(group) + 7) / 8);
}

namespace {

Result<std::string> HashSpki(const Bytes& der) {
  uint8_t digest[SHA256_DIGEST_LENGTH];
  if (SHA256(der.data(), der.size(), digest) == nullptr) return SslError("SHA-256 failed");
  return Base64UrlEncode(digest);
}

}  // namespace

Result<std::string> KeyIdOfCertificate(X509* cert) {
  X509_PUBKEY* spki = X509_get_X509_PUBKEY(cert);
  int n = spki == nullptr ? 0 : i2d_X509_PUBKEY(spki, nullptr);
  if (n <= 0) return SslError("cannot encode public key");
  Bytes der(static_cast<size_t>(n));
  unsigned char* p = der.data();
  if (i2d_X509_PUBKEY(spki, &p) != n) return SslError("cannot encode public key");
  return HashSpki(der);
}

Result<std::string> KeyId(EVP_PKEY* key) {
  int n = i2d_PUBKEY(key, nullptr);
  if (n <= 0) return SslError("cannot encode public key");
  Bytes der(static_cast<size_t>(n));
  unsigned char* p = der.data();
  if (i2d_PUBKEY(key, &p) != n) return SslError("cannot encode public key");
  return HashSpki(der);
}

Status CheckEncryptionKeyType(EVP_PKEY* key, const std::string& what) {
  if (EVP_PKEY_is_a(key, "EC")) {
    char curve[64] = {};
    if (EVP_PKEY_get_group_name(key, curve, sizeof(curve), nullptr) != 1) {
      return Error(ErrorCategory::kTrust, what + ": EC key without a named curve");
    }
    std::string c = curve;
    if (c == "prime256v1" || c == "secp384r1" || c == "secp521r1") return OkStatus();
    return Error(ErrorCategory::kTrust,
                 what + ": curve " + c + " is not supported (P-256, P-384, P-521)");
  }
  if (EVP_PKEY_is_a(key, "RSA")) {
    // Above the maximum, the envelope's and the protocol's length limits
    // (2,048 base64url characters for encrypted_key, x and y) could not
    // carry a value: encryption would succeed and recovery never could.
    static_assert((kMaxRsaBits / 8 * 4 + 2) / 3 <= 2048);
    int bits = EVP_PKEY_get_bits(key);
    if (bits >= kMinRsaBits && bits <= kMaxRsaBits) return OkStatus();
    return Error(ErrorCategory::kTrust, what + ": RSA key of " + std::to_string(bits) +
                                            " bits (" + std::to_string(kMinRsaBits) + " to " +
                                            std::to_string(kMaxRsaBits) + " supported)");
  }
  return Error(ErrorCategory::kTrust, what + ": not an EC or RSA key");
}

Result<EcGroupPtr> GroupOfKey(EVP_PKEY* key) {
  char curve[64] = {};
  if (!EVP_PKEY_is_a(key, "EC") ||
      EVP_PKEY_get_group_name(key, curve, sizeof(curve), nullptr) != 1) {
    return SslError("not an EC key with a named curve");
  }
  EcGroupPtr group(EC_GROUP_new_by_curve_name(OBJ_txt2nid(curve)));
  if (!group) return SslError(std::string("unknown curve ") + curve);
  return group;
}

Result<Bytes> EcPublicPoint(EVP_PKEY* key) {
  PETERA_ASSIGN_OR_RETURN(EcGroupPtr group, GroupOfKey(key));
  BnCtxPtr ctx(BN_CTX_new());
  if (!ctx) return SslError("cannot allocate BN_CTX");
  PETERA_ASSIGN_OR_RETURN(EcPointPtr point, PublicPointOf(key, group.get(), ctx.get()));
  return EncodePoint(group.get(), point.get(), ctx.get());
}

// ---- Wire format -----------------------------------------------------------

Result<RecoveryRequest> ParseRecoveryRequest(std::string_view text) {
  if (text.size() > kMaxRecoveryBodyBytes) {
    return Error(ErrorCategory::kTooLarge, "request body too large");
  }
  PETERA_ASSIGN_OR_RETURN(nlohmann::json doc, ParseJsonObject(text, "request"));
  RecoveryRequest request;
  PETERA_ASSIGN_OR_RETURN(request.kid, JsonString(doc, "kid", 64));
  PETERA_ASSIGN_OR_RETURN(std::string x, JsonString(doc, "x", 2048));
  PETERA_ASSIGN_OR_RETURN(request.x, Base64UrlDecode(x));
  if (doc.size() != 2) return Error(ErrorCategory::kProtocol, "unexpected members in request");
  return request;
}

std::string SerializeRecoveryRequest(const RecoveryRequest& request) {
  nlohmann::json doc = {{"kid", request.kid}, {"x", Base64UrlEncode(request.x)}};
  return doc.dump();
}

Result<RecoveryResponse> ParseRecoveryResponse(std::string_view text) {
  if (text.size() > kMaxRecoveryBodyBytes) {
    return Error(ErrorCategory::kProtocol, "answer too large");
  }
  PETERA_ASSIGN_OR_RETURN(nlohmann::json doc, ParseJsonObject(text, "answer"));
  PETERA_ASSIGN_OR_RETURN(std::string y, JsonString(doc, "y", 2048));
  RecoveryResponse response;
  PETERA_ASSIGN_OR_RETURN(response.y, Base64UrlDecode(y));
  return response;
}

// Written directly: base64url needs no JSON escaping, and this runs once
// per request on the server.
std::string SerializeRecoveryResponse(const RecoveryResponse& response) {
  std::string y = Base64UrlEncode(response.y);
  std::string out;
  out.reserve(y.size() + 9);
  out.append(R"({"y":")").append(y).append(R"("})");
  return out;
}

// ---- Server half -----------------------------------------------------------

Result<RecoveryKey> RecoveryKey::Create(EvpPkeyPtr key) {
  if (!key) return Error(ErrorCategory::kInternal, "no key");
  PETERA_TRY(CheckEncryptionKeyType(key.get(), "decryption key"));
  RecoveryKey out;
  PETERA_ASSIGN_OR_RETURN(out.kid_, KeyId(key.get()));
  if (EVP_PKEY_is_a(key.get(), "EC")) {
    PETERA_ASSIGN_OR_RETURN(out.group_, GroupOfKey(key.get()));
    PETERA_ASSIGN_OR_RETURN(out.scalar_, KeyBn(key.get(), OSSL_PKEY_PARAM_PRIV_KEY, true));
  } else {
    auto probe = KeyBn(key.get(), OSSL_PKEY_PARAM_RSA_D, true);
    if (!probe.ok()) return Error(ErrorCategory::kUsage, "RSA key has no private part");
  }
  out.key_ = std::move(key);
  return out;
}

Result<Bytes> RecoveryKey::Recover(std::span<const uint8_t> x) const {
  if (group_) {
    // One BN_CTX per thread, kept: allocating it in the secure heap per
    // request took the heap's global lock twice, which the server's I/O
    // threads then contended for. Its temporaries stay in the secure heap.
    // A failed allocation is retried by the next request.
    thread_local BnCtxPtr ctx;
    if (!ctx) ctx.reset(BN_CTX_secure_new());
    if (!ctx) return SslError("cannot allocate BN_CTX");
    PETERA_ASSIGN_OR_RETURN(EcPointPtr point, DecodePoint(group_.get(), x, ctx.get()));
    EcPointPtr y(EC_POINT_new(group_.get()));
    if (!y || EC_POINT_mul(group_.get(), y.get(), nullptr, point.get(), scalar_.get(),
                           ctx.get()) != 1) {
      return SslError("point multiplication failed");
    }
    return EncodePoint(group_.get(), y.get(), ctx.get());
  }
  int k = RsaModulusBytes(key_.get());
  PETERA_ASSIGN_OR_RETURN(BnPtr n, KeyBn(key_.get(), OSSL_PKEY_PARAM_RSA_N, false));
  PETERA_TRY(RsaInput(x, n.get(), k));
  EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new(key_.get(), nullptr));
  if (!ctx || EVP_PKEY_decrypt_init(ctx.get()) != 1 ||
      EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_NO_PADDING) != 1) {
    return SslError("cannot set up RSA operation");
  }
  Bytes out(static_cast<size_t>(k));
  size_t out_len = out.size();
  if (EVP_PKEY_decrypt(ctx.get(), out.data(), &out_len, x.data(), x.size()) != 1 ||
      out_len != out.size()) {
    return SslError("RSA private operation failed", ErrorCategory::kProtocol);
  }
  return out;
}

// ---- Client half -----------------------------------------------------------

Result<Blinding> Blinding::ForEc(EVP_PKEY* server_key, std::span<const uint8_t> epk) {
  Blinding b;
  b.is_ec_ = true;
  PETERA_ASSIGN_OR_RETURN(b.group_, GroupOfKey(server_key));
  BnCtxPtr ctx(BN_CTX_secure_new());
  if (!ctx) return SslError("cannot allocate BN_CTX");
  PETERA_ASSIGN_OR_RETURN(EcPointPtr c_g, DecodePoint(b.group_.get(), epk, ctx.get()));
  EcPointPtr x(EC_POINT_new(b.group_.get()));
  if (!x) return SslError("cannot allocate point");
  do {
    PETERA_ASSIGN_OR_RETURN(b.factor_, RandomScalar(b.group_.get()));
    if (EC_POINT_mul(b.group_.get(), x.get(), b.factor_.get(), nullptr, nullptr,
                     ctx.get()) != 1 ||
        EC_POINT_add(b.group_.get(), x.get(), x.get(), c_g.get(), ctx.get()) != 1) {
      return SslError("blinding failed");
    }
  } while (EC_POINT_is_at_infinity(b.group_.get(), x.get()) == 1);
  PETERA_ASSIGN_OR_RETURN(b.request_, EncodePoint(b.group_.get(), x.get(), ctx.get()));
  if (EVP_PKEY_up_ref(server_key) != 1) return SslError("cannot reference key");
  b.server_key_.reset(server_key);
  return b;
}

Result<Blinding> Blinding::ForRsa(EVP_PKEY* server_key,
                                  std::span<const uint8_t> encrypted_key) {
  Blinding b;
  int k = RsaModulusBytes(server_key);
  PETERA_ASSIGN_OR_RETURN(BnPtr n, KeyBn(server_key, OSSL_PKEY_PARAM_RSA_N, false));
  PETERA_ASSIGN_OR_RETURN(BnPtr e, KeyBn(server_key, OSSL_PKEY_PARAM_RSA_E, false));
  auto c = RsaInput(encrypted_key, n.get(), k);
  if (!c.ok()) return Error(ErrorCategory::kCorrupt, "encrypted key is out of range");
  BnCtxPtr ctx(BN_CTX_secure_new());
  BnPtr r(BN_secure_new()), r_e(BN_secure_new()), blinded(BN_new()), inverse(BN_secure_new());
  if (!ctx || !r || !r_e || !blinded || !inverse) return SslError("cannot allocate numbers");
  // r must be invertible mod n; for a real modulus any r in [2, n) almost
  // always is, and the loop makes sure.
  BN_set_flags(r.get(), BN_FLG_CONSTTIME);
  BN_set_flags(inverse.get(), BN_FLG_CONSTTIME);
  do {
    if (BN_priv_rand_range(r.get(), n.get()) != 1) return SslError("RNG failure");
  } while (BN_cmp(r.get(), BN_value_one()) <= 0 ||
           BN_mod_inverse(inverse.get(), r.get(), n.get(), ctx.get()) == nullptr);
  DrainSslErrors();
  if (BN_mod_exp(r_e.get(), r.get(), e.get(), n.get(), ctx.get()) != 1 ||
      BN_mod_mul(blinded.get(), c->get(), r_e.get(), n.get(), ctx.get()) != 1) {
    return SslError("blinding failed");
  }
  PETERA_ASSIGN_OR_RETURN(b.request_, BnToBytes(blinded.get(), k));
  b.factor_ = std::move(inverse);  // keep r^-1: all Unblind needs
  if (EVP_PKEY_up_ref(server_key) != 1) return SslError("cannot reference key");
  b.server_key_.reset(server_key);
  return b;
}

Result<SecretBytes> Blinding::Unblind(std::span<const uint8_t> y) const {
  BnCtxPtr ctx(BN_CTX_secure_new());
  if (!ctx) return SslError("cannot allocate BN_CTX");
  if (is_ec_) {
    PETERA_ASSIGN_OR_RETURN(EcPointPtr answer, DecodePoint(group_.get(), y, ctx.get()));
    PETERA_ASSIGN_OR_RETURN(EcPointPtr s, PublicPointOf(server_key_.get(), group_.get(), ctx.get()));
    EcPointPtr t(EC_POINT_new(group_.get()));
    BnPtr x(BN_secure_new());
    if (!t || !x ||
        EC_POINT_mul(group_.get(), t.get(), nullptr, s.get(), factor_.get(), ctx.get()) != 1 ||
        EC_POINT_invert(group_.get(), t.get(), ctx.get()) != 1 ||
        EC_POINT_add(group_.get(), t.get(), answer.get(), t.get(), ctx.get()) != 1) {
      return SslError("unblinding failed");
    }
    if (EC_POINT_is_at_infinity(group_.get(), t.get()) == 1 ||
        EC_POINT_get_affine_coordinates(group_.get(), t.get(), x.get(), nullptr,
                                        ctx.get()) != 1) {
      return RecoveryRefused("server answer is not a usable point");
    }
    SecretBytes z(FieldBytes(group_.get()));
    if (BN_bn2binpad(x.get(), z.secret_data(), static_cast<int>(z.size())) < 0) {
      return SslError("cannot encode shared secret");
    }
    return z;
  }
  int k = RsaModulusBytes(server_key_.get());
  PETERA_ASSIGN_OR_RETURN(BnPtr n, KeyBn(server_key_.get(), OSSL_PKEY_PARAM_RSA_N, false));
  auto answer = RsaInput(y, n.get(), k);
  if (!answer.ok()) return answer.error();
  BnPtr m(BN_secure_new());
  if (!m || BN_mod_mul(m.get(), answer->get(), factor_.get(), n.get(), ctx.get()) != 1) {
    return SslError("unblinding failed");
  }
  SecretBytes em(static_cast<size_t>(k));
  if (BN_bn2binpad(m.get(), em.secret_data(), k) != k) return SslError("unblinding failed");
  return OaepSha256Decode(em);
}

}  // namespace petera
