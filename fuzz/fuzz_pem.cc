// Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
//
// PEM and certificate-chain loading: anchors, chains from files and from
// servers, key files; must-staple (TLS feature) extensions; and path
// building, with the input's last certificate as the anchor and the others
// as the chain.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <utility>
#include <vector>

#include "petera/ocsp.h"
#include "petera/pem.h"
#include "petera/trust.h"

namespace {

// The last certificate as the anchor (when it is a CA), the others, leaf
// first, as the chain a server would send.
void BuildPaths(std::vector<petera::X509Ptr> certificates) {
  if (certificates.size() < 2) return;
  auto root_pem = petera::CertificateToPem(certificates.back().get());
  if (!root_pem.ok()) return;
  auto anchor = petera::Anchor::FromPem(*root_pem, "fuzz");
  if (!anchor.ok()) return;
  certificates.pop_back();
  (void)petera::VerifyTlsChain(*anchor, certificates, "localhost");
  (void)petera::VerifyEncryptionChain(*anchor, certificates, "s1.petera.test");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto pem = petera::ParsePem(text, "fuzz");
  if (pem.ok() && !pem->certificates.empty()) {
    (void)petera::SubjectAltNames(pem->certificates.front().get());
    (void)petera::SubjectName(pem->certificates.front().get());
    (void)petera::RequiresStapledOcsp(pem->certificates.front().get());
    auto anchor = petera::Anchor::FromPem(text, "fuzz");
    if (anchor.ok()) {
      (void)petera::VerifyEncryptionChain(*anchor, pem->certificates, "localhost");
    }
    BuildPaths(std::move(pem->certificates));
  }
  return 0;
}
