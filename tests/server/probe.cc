// Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
#include "probe.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>

#include "petera/encoding.h"

namespace petera::testing {
namespace {

Result<Probe> StartEc(EVP_PKEY* server_key) {
  char curve[64] = {};
  size_t len = 0;
  if (EVP_PKEY_get_utf8_string_param(server_key, OSSL_PKEY_PARAM_GROUP_NAME, curve,
                                     sizeof(curve), &len) != 1) {
    return SslError("no curve name");
  }
  EvpPkeyPtr ephemeral(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", curve));
  if (!ephemeral) return SslError("keygen");
  EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new(ephemeral.get(), nullptr));
  size_t z_len = 0;
  if (!ctx || EVP_PKEY_derive_init(ctx.get()) != 1 ||
      EVP_PKEY_derive_set_peer(ctx.get(), server_key) != 1 ||
      EVP_PKEY_derive(ctx.get(), nullptr, &z_len) != 1) {
    return SslError("derive");
  }
  SecretBytes z(z_len);
  if (EVP_PKEY_derive(ctx.get(), z.secret_data(), &z_len) != 1) return SslError("derive");
  z.Resize(z_len);
  PETERA_ASSIGN_OR_RETURN(Bytes epk, EcPublicPoint(ephemeral.get()));
  PETERA_ASSIGN_OR_RETURN(Blinding blinding, Blinding::ForEc(server_key, epk));
  return Probe{std::move(blinding), std::move(z), {}};
}

Result<Probe> StartRsa(EVP_PKEY* server_key) {
  SecretBytes cek(32);
  if (RAND_bytes(cek.secret_data(), 32) != 1) return SslError("rand");
  EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new(server_key, nullptr));
  size_t out_len = 0;
  if (!ctx || EVP_PKEY_encrypt_init(ctx.get()) != 1 ||
      EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_OAEP_PADDING) != 1 ||
      EVP_PKEY_CTX_set_rsa_oaep_md(ctx.get(), EVP_sha256()) != 1 ||
      EVP_PKEY_CTX_set_rsa_mgf1_md(ctx.get(), EVP_sha256()) != 1 ||
      EVP_PKEY_encrypt(ctx.get(), nullptr, &out_len, cek.secret_view().data(), 32) != 1) {
    return SslError("oaep");
  }
  Bytes encrypted(out_len);
  if (EVP_PKEY_encrypt(ctx.get(), encrypted.data(), &out_len, cek.secret_view().data(), 32) != 1) {
    return SslError("oaep");
  }
  encrypted.resize(out_len);
  PETERA_ASSIGN_OR_RETURN(Blinding blinding,
                          Blinding::ForRsa(server_key, encrypted));
  return Probe{std::move(blinding), std::move(cek), {}};
}

}  // namespace

std::string Hex(std::span<const uint8_t> data) {
  static const char kDigits[] = "0123456789abcdef";
  std::string out;
  for (uint8_t b : data) {
    out += kDigits[b >> 4];
    out += kDigits[b & 15];
  }
  return out;
}

std::string Probe::RequestBody() const {
  return SerializeRecoveryRequest(RecoveryRequest{kid, blinding.request()});
}

Result<Probe> StartProbe(EVP_PKEY* server_key) {
  PETERA_ASSIGN_OR_RETURN(std::string kid, KeyId(server_key));
  auto probe = EVP_PKEY_is_a(server_key, "EC") ? StartEc(server_key) : StartRsa(server_key);
  if (probe.ok()) probe->kid = kid;
  return probe;
}

}  // namespace petera::testing
