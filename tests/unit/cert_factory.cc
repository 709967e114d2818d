// Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
#include "cert_factory.h"

#include <openssl/x509v3.h>

#include <stdexcept>

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

}  // namespace

Issued Issue(const CertSpec& spec, const Issued* issuer) {
  Issued out;
  out.key.reset(spec.rsa ? EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(2048))
                         : EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  out.cert.reset(X509_new());
  X509* c = out.cert.get();
  static long serial = 1000;
  X509_set_version(c, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(c), ++serial);
  X509_gmtime_adj(X509_getm_notBefore(c), -86400);
  X509_gmtime_adj(X509_getm_notAfter(c), 365L * 86400);
  X509_NAME* name = X509_get_subject_name(c);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>(spec.cn.c_str()), -1, -1, 0);
  X509* issuer_cert = issuer ? issuer->cert.get() : c;
  X509_set_issuer_name(c, X509_get_subject_name(issuer_cert));
  X509_set_pubkey(c, out.key.get());
  AddExt(c, issuer_cert, NID_subject_key_identifier, "hash");
  if (issuer != nullptr) AddExt(c, issuer_cert, NID_authority_key_identifier, "keyid");
  if (spec.ca) {
    std::string bc = "critical,CA:TRUE";
    if (spec.pathlen >= 0) bc += ",pathlen:" + std::to_string(spec.pathlen);
    AddExt(c, issuer_cert, NID_basic_constraints, bc);
    AddExt(c, issuer_cert, NID_key_usage, "critical,keyCertSign,cRLSign");
  } else {
    AddExt(c, issuer_cert, NID_basic_constraints, "critical,CA:FALSE");
    if (!spec.key_usage.empty()) AddExt(c, issuer_cert, NID_key_usage, "critical," + spec.key_usage);
  }
  if (!spec.eku.empty()) AddExt(c, issuer_cert, NID_ext_key_usage, spec.eku);
  if (!spec.sans.empty()) AddExt(c, issuer_cert, NID_subject_alt_name, Join(spec.sans));
  EVP_PKEY* signer = issuer ? issuer->key.get() : out.key.get();
  if (X509_sign(c, signer, EVP_sha256()) <= 0) throw std::runtime_error("cannot sign");
  return out;
}

}  // namespace petera::testing
