// Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
#include "cert_factory.h"

#include <openssl/rsa.h>
#include <openssl/x509v3.h>

#include <stdexcept>

#include "petera/pem.h"

namespace petera::testing {
namespace {

void AddExt(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  if (ext == nullptr || X509_add_ext(cert, ext, -1) != 1) {
    throw std::runtime_error("cannot add extension " + value);
  }
  X509_EXTENSION_free(ext);
}

std::string Join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ",") + s;
  return out;
}

EVP_PKEY* RsaKey(int bits) {
  EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, "RSA", nullptr));
  EVP_PKEY* key = nullptr;
  if (!ctx || EVP_PKEY_keygen_init(ctx.get()) != 1 ||
      EVP_PKEY_CTX_set_rsa_keygen_bits(ctx.get(), bits) != 1 ||
      EVP_PKEY_keygen(ctx.get(), &key) != 1) {
    throw std::runtime_error("cannot make an RSA key");
  }
  return key;
}

EVP_PKEY* KeyFor(const CertSpec& spec) {
  if (spec.key != nullptr) {
    if (EVP_PKEY_up_ref(spec.key) != 1) throw std::runtime_error("cannot reference key");
    return spec.key;
  }
  return spec.rsa ? RsaKey(spec.rsa_bits) : EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
}

void SetSerial(X509* c, const std::string& hex) {
  static long serial = 1000;
  if (hex.empty()) {
    ASN1_INTEGER_set(X509_get_serialNumber(c), ++serial);
    return;
  }
  BIGNUM* bn = nullptr;
  if (BN_hex2bn(&bn, hex.c_str()) == 0) throw std::runtime_error("bad serial " + hex);
  BnPtr owned(bn);
  if (BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(c)) == nullptr) {
    throw std::runtime_error("cannot set serial");
  }
}

void SetValidity(X509* c, const CertSpec& spec) {
  std::time_t now = std::time(nullptr);
  std::time_t from = spec.not_before != 0 ? spec.not_before : now - 86400;
  std::time_t to = spec.not_after != 0 ? spec.not_after : now + 365L * 86400;
  if (ASN1_TIME_set(X509_getm_notBefore(c), from) == nullptr ||
      ASN1_TIME_set(X509_getm_notAfter(c), to) == nullptr) {
    throw std::runtime_error("cannot set validity");
  }
}

}  // namespace

Issued Issue(const CertSpec& spec, const Issued* issuer) {
  Issued out;
  out.key.reset(KeyFor(spec));
  out.cert.reset(X509_new());
  X509* c = out.cert.get();
  X509_set_version(c, 2);
  SetSerial(c, spec.serial_hex);
  SetValidity(c, spec);
  X509_NAME* name = X509_get_subject_name(c);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>(spec.cn.c_str()), -1, -1, 0);
  X509* issuer_cert = issuer ? issuer->cert.get() : c;
  X509_set_issuer_name(c, X509_get_subject_name(issuer_cert));
  X509_set_pubkey(c, out.key.get());
  AddExt(c, issuer_cert, NID_subject_key_identifier, spec.ski);
  if (issuer != nullptr && !spec.aki.empty()) {
    AddExt(c, issuer_cert, NID_authority_key_identifier, spec.aki);
  }
  if (spec.ca) {
    std::string bc = "critical,CA:TRUE";
    if (spec.pathlen >= 0) bc += ",pathlen:" + std::to_string(spec.pathlen);
    AddExt(c, issuer_cert, NID_basic_constraints, bc);
    AddExt(c, issuer_cert, NID_key_usage,
           "critical," + (spec.key_usage.empty() ? "keyCertSign,cRLSign" : spec.key_usage));
  } else {
    AddExt(c, issuer_cert, NID_basic_constraints, "critical,CA:FALSE");
    if (!spec.key_usage.empty()) AddExt(c, issuer_cert, NID_key_usage, "critical," + spec.key_usage);
  }
  if (!spec.eku.empty()) AddExt(c, issuer_cert, NID_ext_key_usage, spec.eku);
  if (!spec.sans.empty()) AddExt(c, issuer_cert, NID_subject_alt_name, Join(spec.sans));
  if (!spec.name_constraints.empty()) {
    AddExt(c, issuer_cert, NID_name_constraints, spec.name_constraints);
  }
  for (const auto& [nid, value] : spec.extra) AddExt(c, issuer_cert, nid, value);
  EVP_PKEY* signer = issuer ? issuer->key.get() : out.key.get();
  if (X509_sign(c, signer, EVP_sha256()) <= 0) throw std::runtime_error("cannot sign");
  return out;
}

void AddRawExtension(Issued& cert, int nid, bool critical,
                     const std::vector<unsigned char>& der, EVP_PKEY* signer) {
  ASN1_OCTET_STRING* data = ASN1_OCTET_STRING_new();
  if (data == nullptr ||
      ASN1_OCTET_STRING_set(data, der.data(), static_cast<int>(der.size())) != 1) {
    throw std::runtime_error("cannot make extension data");
  }
  X509_EXTENSION* ext =
      X509_EXTENSION_create_by_OBJ(nullptr, OBJ_nid2obj(nid), critical ? 1 : 0, data);
  ASN1_OCTET_STRING_free(data);
  if (ext == nullptr || X509_add_ext(cert.cert.get(), ext, -1) != 1) {
    throw std::runtime_error("cannot add raw extension");
  }
  X509_EXTENSION_free(ext);
  if (X509_sign(cert.cert.get(), signer, EVP_sha256()) <= 0) {
    throw std::runtime_error("cannot sign");
  }
}

// Each certificate goes through DER and back, as it would over the network,
// so that nothing OpenSSL cached while building it is reused.
std::vector<X509Ptr> ChainOf(const Issued& leaf, const std::vector<const Issued*>& rest) {
  std::vector<X509Ptr> chain;
  auto copy = [&](X509* cert) {
    auto der = CertificateToDer(cert);
    if (!der.ok()) throw std::runtime_error(der.error().message());
    auto parsed = CertificateFromDer(*der);
    if (!parsed.ok()) throw std::runtime_error(parsed.error().message());
    chain.push_back(std::move(parsed).value());
  };
  copy(leaf.cert.get());
  for (const auto* ca : rest) copy(ca->cert.get());
  return chain;
}

Anchor AnchorOf(const std::vector<const Issued*>& roots) {
  std::string pem;
  for (const auto* root : roots) pem += CertificateToPem(root->cert.get()).value();
  auto anchor = Anchor::FromPem(pem, "generated");
  if (!anchor.ok()) throw std::runtime_error(anchor.error().message());
  return std::move(anchor).value();
}

}  // namespace petera::testing
