// Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
//
// Loading certificates and keys from PEM. Errors name the source (a file
// name or "<stdin>") and the block that failed ("block 2 (CERTIFICATE)").
#ifndef PETERA_PEM_H_
#define PETERA_PEM_H_

#include <ctime>
#include <string>
#include <string_view>
#include <vector>

#include "petera/ossl.h"
#include "petera/result.h"

namespace petera {

// What one PEM text holds, block by block.
struct PemContents {
  std::vector<X509Ptr> certificates;  // in file order
  std::vector<EvpPkeyPtr> private_keys;
  std::vector<X509CrlPtr> crls;
};

// Upper bound on any PEM file Petera reads.
inline constexpr size_t kMaxPemBytes = 1 << 20;

// Parses every PEM block of `text`. Unknown block types are refused; text
// outside blocks (comments, "Petera-Server:" lines) is ignored. `source`
// names the text in error messages.
Result<PemContents> ParsePem(std::string_view text, const std::string& source);

// Reads a file (refusing more than kMaxPemBytes) and parses it.
Result<PemContents> LoadPemFile(const std::string& path);

// Reads a whole file of at most `max_bytes`.
Result<std::string> ReadFile(const std::string& path, size_t max_bytes);

// PEM encoding of one certificate.
Result<std::string> CertificateToPem(X509* cert);
// DER encoding of one certificate.
Result<std::vector<unsigned char>> CertificateToDer(X509* cert);
Result<X509Ptr> CertificateFromDer(const std::vector<unsigned char>& der);

// True when the private key belongs to the certificate's public key.
bool KeyMatchesCertificate(EVP_PKEY* key, X509* cert);

// One-line human description: "CN=x, O=y".
std::string SubjectName(X509* cert);
std::string IssuerName(X509* cert);
// "2027-11-24" style date of notAfter / notBefore.
std::string NotAfterDate(X509* cert);
std::string NotBeforeDate(X509* cert);
// Seconds since the Unix epoch of an ASN1_TIME, or 0 when it cannot be read.
std::time_t Asn1TimeToUnix(const ASN1_TIME* time);
// "2026-12-05 10:00:00 UTC".
std::string FormatUtcTime(std::time_t time);

}  // namespace petera

#endif  // PETERA_PEM_H_
