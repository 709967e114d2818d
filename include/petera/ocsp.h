// Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
//
// OCSP responses (RFC 6960) for a server's TLS certificate: the one peterad
// staples from a file (--ocsp-response) and the one petera receives in the
// handshake. Both sides run the same checks, in two steps:
//
//   CheckOcspResponse   is this a response about `leaf`, signed by its
//                       issuer or by a responder the issuer delegated to?
//                       What does it say (good or revoked), and for when?
//   CheckOcspCurrent    is it current at `now`?
//
// peterad refuses a file that fails the first step and only warns about
// one that fails the second (availability first); petera refuses both.
//
// A response is trusted exactly as far as the issuer it is checked against:
// petera passes the issuer from the chain it validated against the anchor,
// peterad the certificate after the leaf in TLS.pem. The issuer signs the
// response itself, or issues a responder certificate (directly, with
// extendedKeyUsage OCSPSigning, valid at `now`, carried in the response) that
// signs it. SHA-1 and MD5 signatures are refused. Everything here is
// attacker input on the client: it is parsed once, bounded, and only read.
#ifndef PETERA_OCSP_H_
#define PETERA_OCSP_H_

#include <openssl/x509.h>

#include <cstddef>
#include <ctime>
#include <optional>
#include <string>
#include <string_view>

#include "petera/result.h"

namespace petera {

// The largest response accepted (a file, or what a server staples).
inline constexpr size_t kMaxOcspResponseBytes = 64 * 1024;
// Clock skew allowed on thisUpdate and nextUpdate.
inline constexpr std::time_t kOcspClockSkewSeconds = 300;
// A response without nextUpdate counts as current this long after its
// thisUpdate.
inline constexpr std::time_t kOcspMaxAgeWithoutNextUpdate = 7 * 24 * 3600;

// What petera does about a server's stapled OCSP response (--ocsp).
enum class OcspPolicy {
  kPrefer,   // check whatever is stapled; a server that staples nothing passes
  kRequire,  // also refuse a server that staples nothing
  kOff,      // neither ask nor check
};

// "prefer", "require" or "off".
Result<OcspPolicy> ParseOcspPolicy(std::string_view text);
const char* OcspPolicyName(OcspPolicy policy);

struct OcspStatus {
  bool revoked = false;
  std::time_t this_update = 0;
  std::time_t next_update = 0;  // 0: the response has none
  std::time_t revoked_at = 0;   // when revoked
  std::string reason;           // revoked: the CRL reason ("keyCompromise"), or empty
  std::string responder;        // "the issuer" or "responder CN=..."

  // The last second at which the response is current: nextUpdate, or
  // thisUpdate + kOcspMaxAgeWithoutNextUpdate without one (skew excluded).
  std::time_t valid_until() const;
  // "good, this update 2026-12-05 10:00:00 UTC, next update ..., signed by
  // the issuer" or "REVOKED since ... (keyCompromise), ...".
  std::string Describe() const;
};

// Parses a DER OCSP response and checks that it is a successful basic
// response with a single response about `leaf` (issued by `issuer`), signed
// as described above, and that it says good or revoked ("unknown" is an
// error). `now` decides the delegated responder certificate's validity.
// Errors are kTrust and say what is wrong.
Result<OcspStatus> CheckOcspResponse(std::string_view der, X509* leaf, X509* issuer,
                                     std::time_t now);

// Refuses a response that is not yet valid (thisUpdate more than the skew
// ahead of `now`) or no longer (valid_until() more than the skew behind).
Status CheckOcspCurrent(const OcspStatus& status, std::time_t now);

// Whether `leaf` demands a stapled OCSP response ("must-staple", RFC 7633:
// a TLS Feature extension listing status_request or status_request_v2). An
// extension that is present but cannot be read counts as demanding one.
bool RequiresStapledOcsp(X509* leaf);

// The client's whole decision for one connection: `stapled` is what the
// server sent (nullopt: nothing); `issuer` may be null when the leaf is
// itself the anchor (nothing to check then). Refuses a revoked, invalid or
// stale response, and a missing one under kRequire or, under kPrefer, when
// the leaf demands one (RequiresStapledOcsp). Returns the status that was
// checked, if any.
Result<std::optional<OcspStatus>> CheckStapledOcsp(OcspPolicy policy,
                                                   std::optional<std::string_view> stapled,
                                                   X509* leaf, X509* issuer, std::time_t now);

}  // namespace petera

#endif  // PETERA_OCSP_H_
