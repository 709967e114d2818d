// Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
//
// Trust: every certificate Petera acts on is validated here, against the
// anchor the user passes, by one piece of code (OpenSSL's path validation,
// configured strictly, plus Petera's own rules on names, key usage and key
// strength). There are three entry points and no flags to mix them up:
//
//   VerifyTlsChain              a server's TLS chain, current time enforced
//   VerifyEncryptionChain       an encryption chain about to be encrypted to
//                               (fetched online or read from a PEM file),
//                               current time enforced
//   VerifyStoredEncryptionChain the chain stored in an envelope, at decrypt
//                               time: validity periods are NOT enforced, so
//                               that a secret stays recoverable after its
//                               encryption certificate expires
//
// Names are matched against DNS and IP subjectAltNames only, never the
// subject common name; wildcards follow RFC 6125 (whole left-most label only,
// never in IP addresses).
//
// Paths are built by Petera, not OpenSSL: from the leaf, every issuer
// candidate in the chain and the anchor is tried (so cross-signed and
// renewed CAs, chains out of order and several roots of one name all work),
// each complete path is validated by OpenSSL, and the first valid one wins.
// The search is bounded (paths of at most 9 certificates, 256 certificates
// entered, 64 complete paths validated). docs/security.md lists every rule.
#ifndef PETERA_TRUST_H_
#define PETERA_TRUST_H_

#include <ctime>
#include <string>
#include <string_view>
#include <vector>

#include "petera/ocsp.h"
#include "petera/ossl.h"
#include "petera/result.h"

namespace petera {

// The user's anchor: one or more CA certificates, and optional CRLs.
class Anchor {
 public:
  // Refuses an empty file, a file without certificates, and a file holding a
  // private key.
  static Result<Anchor> Load(const std::string& path);
  static Result<Anchor> FromPem(std::string_view pem, const std::string& source);

  // Adds a CRL file (PEM, one or more CRLs). Once any CRL is added, every
  // validation checks revocation for the whole chain and fails when a CRL for
  // some issuer in the chain is missing.
  Status AddCrlFile(const std::string& path);

  const std::vector<X509Ptr>& certificates() const { return roots_; }
  bool checks_revocation() const { return !crls_.empty(); }

  // What a TLS connection does about the OCSP response its server staples
  // (petera --ocsp; ocsp.h): kPrefer unless set.
  void set_ocsp_policy(OcspPolicy policy) { ocsp_policy_ = policy; }
  OcspPolicy ocsp_policy() const { return ocsp_policy_; }

 private:
  friend class ChainVerifier;
  std::vector<X509Ptr> roots_;
  std::vector<X509CrlPtr> crls_;
  OcspPolicy ocsp_policy_ = OcspPolicy::kPrefer;
};

// A chain that validated: leaf first, ending at the anchor certificate.
struct VerifiedChain {
  std::vector<X509Ptr> chain;

  X509* leaf() const { return chain.front().get(); }
  // "CN=leaf <- CN=intermediate <- CN=root; expires 2027-11-24"
  std::string Describe() const;
};

// Validates a server's TLS chain for `name` (the host the client connected
// to: DNS name or IP literal). `chain` is what the server sent, leaf first.
Result<VerifiedChain> VerifyTlsChain(const Anchor& anchor,
                                     const std::vector<X509Ptr>& chain,
                                     const std::string& name);

// Validates an encryption chain (leaf first) for the server `name` that
// decryption will contact.
Result<VerifiedChain> VerifyEncryptionChain(const Anchor& anchor,
                                            const std::vector<X509Ptr>& chain,
                                            const std::string& name);

// Like VerifyEncryptionChain, for a chain stored in an envelope: everything
// is checked except validity periods.
Result<VerifiedChain> VerifyStoredEncryptionChain(
    const Anchor& anchor, const std::vector<X509Ptr>& chain,
    const std::string& name);

// VerifyTlsChain and VerifyEncryptionChain at time `now` instead of the
// current time, for tests that put "now" on a validity boundary. A
// certificate is valid from its notBefore second through its notAfter
// second, both inclusive (RFC 5280 4.1.2.5).
Result<VerifiedChain> VerifyTlsChainAt(const Anchor& anchor,
                                       const std::vector<X509Ptr>& chain,
                                       const std::string& name, std::time_t now);
Result<VerifiedChain> VerifyEncryptionChainAt(const Anchor& anchor,
                                              const std::vector<X509Ptr>& chain,
                                              const std::string& name, std::time_t now);

// The rules on an encryption certificate's own key, which the Verify*
// functions apply to the leaf and peterad to the certificates it serves:
// an EC or RSA key; a keyUsage extension (without one X.509 allows every
// usage) with keyAgreement (EC) or keyEncipherment (RSA); and an RSA key
// must not also be allowed to sign
// (digitalSignature, nonRepudiation, keyCertSign, cRLSign), since the
// server applies it to whatever a client sends.
Status CheckEncryptionKeyUsage(X509* leaf);

// The DNS and IP subjectAltNames of a certificate, in order.
std::vector<std::string> SubjectAltNames(X509* cert);

}  // namespace petera

#endif  // PETERA_TRUST_H_
