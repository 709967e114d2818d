// Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
//
// Client authorization (peterad --client-ca): which machines may call
// POST /v1/recover.
//
// The TLS handshake asks for a client certificate but never fails over it,
// so that a client without one gets a 403 it can read and not a TLS alert.
// During the handshake OpenSSL checks only the client's proof that it holds
// the certificate's key (CertificateVerify). The certificate itself is
// judged here, for each recovery request, against the ClientPolicy current
// at that moment: a reload that adds a CRL or removes a line from the
// allow-list applies at once to connections already open and to resumed
// TLS sessions.
//
// Cost: a session keeps the verdict it got from a policy until the policy
// is replaced or the verdict's validity ends, so keep-alive requests cost a
// pointer comparison. The policy remembers accepted certificates (by the
// SHA-256 of their encoding) until the earliest expiry among their chain and
// the CRLs, so a client's later connections cost one hash, not a chain
// validation.
#ifndef PETERA_PETERAD_CLIENT_AUTH_H_
#define PETERA_PETERAD_CLIENT_AUTH_H_

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <ctime>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "petera/ossl.h"
#include "petera/result.h"

namespace petera::peterad {

struct ClientPolicyPaths {
  std::string ca;                 // --client-ca; empty: anyone may recover
  std::vector<std::string> crls;  // --client-crl
  std::string allow;              // --client-allow; empty: no allow-list
  bool enabled() const { return !ca.empty(); }
};

// An allow-list: one entry a line, `#` starts a comment line.
//   <43 base64url characters>   the SHA-256 of a client's public key
//   DNS:name                    a dNSName of the client's subjectAltName
//   URI:uri                     a uniformResourceIdentifier of it
struct AllowList {
  std::unordered_set<std::string> key_ids;
  std::unordered_set<std::string> dns_names;  // lower case
  std::unordered_set<std::string> uris;
  size_t size() const { return key_ids.size() + dns_names.size() + uris.size(); }
};

// Upper bounds on an allow-list file.
inline constexpr size_t kMaxAllowListBytes = 1 << 20;
inline constexpr size_t kMaxAllowLineBytes = 1024;

// Refuses anything but the three forms above, naming `source` and the line.
Result<AllowList> ParseAllowList(std::string_view text, const std::string& source);

// The verdict on one client certificate.
struct ClientVerdict {
  bool authorized = false;
  // For the log: "CN=laptop1.example.net key=<key id>", or "-" without a
  // certificate.
  std::string identity;
  // Refusals only: "no certificate", "untrusted (...)", "expired",
  // "not yet valid", "not for client authentication", "revoked",
  // "not allowed".
  std::string reason;
  // The verdict stands until then (the earliest notAfter of the chain and
  // nextUpdate of the CRLs); 0 for refusals, which are not remembered.
  std::time_t valid_until = 0;
};

class ClientPolicy {
 public:
  // Reads and checks the files; refuses (naming the file and the fix) a
  // file that cannot be read, holds something else, or that others may
  // write, and a CRL that no CA of --client-ca signed.
  static Result<std::shared_ptr<const ClientPolicy>> Load(const ClientPolicyPaths& paths,
                                                          std::time_t now);

  // Judges the certificate a client presented (`leaf` may be null; `sent`
  // is the rest of the chain it sent, or null) at the current time.
  // Thread-safe.
  ClientVerdict Check(X509* leaf, STACK_OF(X509) * sent) const;

  // The client CAs: their names go in the TLS CertificateRequest.
  const std::vector<X509Ptr>& cas() const { return cas_; }
  // "2 client CA(s), 1 CRL(s), allow-list of 3 entries" for the log.
  const std::string& summary() const { return summary_; }
  // The earliest nextUpdate of the CRLs; 0 when there is none.
  std::time_t crls_valid_until() const { return crls_valid_until_; }
  // Loud: a CA or CRL expired or expiring, which will refuse every client.
  const std::vector<std::string>& warnings() const { return warnings_; }

 private:
  ClientPolicy() = default;
  ClientVerdict Verify(X509* leaf, STACK_OF(X509) * sent, std::time_t now) const;
  bool Allowed(X509* leaf, const std::string& key_id) const;

  X509StorePtr store_;
  std::vector<X509Ptr> cas_;
  std::vector<X509CrlPtr> crls_;
  bool has_allow_list_ = false;
  AllowList allow_;
  std::time_t crls_valid_until_ = 0;  // earliest nextUpdate; 0: no CRL
  std::string summary_;
  std::vector<std::string> warnings_;

  struct Remembered {
    ClientVerdict verdict;
  };
  mutable std::mutex mu_;
  mutable std::unordered_map<std::string, Remembered> accepted_;
};

// Configures `ctx` to ask for (not require) a client certificate from the
// CAs of `policy`, leaving its judgement to ClientPolicy::Check.
Status RequestClientCertificates(SSL_CTX* ctx, const ClientPolicy& policy);

}  // namespace petera::peterad

#endif  // PETERA_PETERAD_CLIENT_AUTH_H_
