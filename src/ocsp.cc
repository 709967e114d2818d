// Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
#include "petera/ocsp.h"

#include <openssl/err.h>
#include <openssl/ocsp.h>
#include <openssl/x509v3.h>

#include <vector>

#include "petera/ossl.h"
#include "petera/pem.h"

namespace petera {
namespace {

using OcspResponsePtr = OsslPtr<OCSP_RESPONSE, OCSP_RESPONSE_free>;
using OcspBasicPtr = OsslPtr<OCSP_BASICRESP, OCSP_BASICRESP_free>;
using OcspCertIdPtr = OsslPtr<OCSP_CERTID, OCSP_CERTID_free>;

Error Bad(const std::string& why) { return Error(ErrorCategory::kTrust, "OCSP response " + why); }

// "OCSP response ..." becomes "stapled OCSP response ...".
Error Stapled(const Error& error) {
  return Error(error.category(), "stapled " + error.message());
}

const char* ResponseStatusName(int status) {
  switch (status) {
    case OCSP_RESPONSE_STATUS_MALFORMEDREQUEST: return "malformedRequest";
    case OCSP_RESPONSE_STATUS_INTERNALERROR: return "internalError";
    case OCSP_RESPONSE_STATUS_TRYLATER: return "tryLater";
    case OCSP_RESPONSE_STATUS_SIGREQUIRED: return "sigRequired";
    case OCSP_RESPONSE_STATUS_UNAUTHORIZED: return "unauthorized";
    default: return "an unknown status";
  }
}

// The single response about `leaf`, whatever hash its CertID uses.
Result<OCSP_SINGLERESP*> FindSingleResponse(OCSP_BASICRESP* basic, X509* leaf, X509* issuer) {
  int count = OCSP_resp_count(basic);
  if (count <= 0) return Bad("holds no certificate status");
  for (int i = 0; i < count; ++i) {
    OCSP_SINGLERESP* single = OCSP_resp_get0(basic, i);
    ASN1_OBJECT* md_oid = nullptr;
    if (single == nullptr ||
        OCSP_id_get0_info(nullptr, &md_oid, nullptr, nullptr,
                          const_cast<OCSP_CERTID*>(OCSP_SINGLERESP_get0_id(single))) != 1) {
      continue;
    }
    const EVP_MD* md = EVP_get_digestbyobj(md_oid);
    if (md == nullptr) continue;
    OcspCertIdPtr wanted(OCSP_cert_to_id(md, leaf, issuer));
    if (!wanted) return SslError("cannot compute the OCSP certificate id");
    if (OCSP_id_cmp(wanted.get(), OCSP_SINGLERESP_get0_id(single)) == 0) return single;
  }
  DrainSslErrors();
  return Bad("is for another certificate (its serial number or issuer differ from the "
             "server's TLS certificate)");
}

Status CheckSignatureAlgorithm(OCSP_BASICRESP* basic) {
  const X509_ALGOR* alg = OCSP_resp_get0_tbs_sigalg(basic);
  const ASN1_OBJECT* oid = nullptr;
  X509_ALGOR_get0(&oid, nullptr, nullptr, alg);
  int md = NID_undef;
  int pk = NID_undef;
  if (oid == nullptr || OBJ_find_sigid_algs(OBJ_obj2nid(oid), &md, &pk) != 1) {
    return Bad("has an unknown signature algorithm");
  }
  if (md == NID_sha1 || md == NID_md5 || md == NID_md5_sha1 || md == NID_md4) {
    return Bad("is signed with a weak digest (SHA-1 or MD5)");
  }
  return OkStatus();
}

// A responder certificate the issuer delegated to: issued by it directly,
// for OCSP signing, valid now, with a key of at least 112-bit strength.
Status CheckDelegatedResponder(X509* responder, X509* issuer, std::time_t now) {
  std::string who = "responder " + SubjectName(responder);
  EVP_PKEY* issuer_key = X509_get0_pubkey(issuer);
  if (issuer_key == nullptr || X509_check_issued(issuer, responder) != X509_V_OK ||
      X509_verify(responder, issuer_key) != 1) {
    DrainSslErrors();
    return Bad("is signed by " + who + ", which the TLS certificate's issuer did not issue");
  }
  uint32_t flags = X509_get_extension_flags(responder);
  if ((flags & EXFLAG_INVALID) != 0 || (flags & EXFLAG_XKUSAGE) == 0 ||
      (X509_get_extended_key_usage(responder) & XKU_OCSP_SIGN) == 0) {
    return Bad("is signed by " + who + ", whose extended key usage lacks OCSPSigning");
  }
  if ((flags & EXFLAG_KUSAGE) != 0 && (X509_get_key_usage(responder) & KU_DIGITAL_SIGNATURE) == 0) {
    return Bad("is signed by " + who + ", whose key usage lacks digitalSignature");
  }
  if (X509_cmp_time(X509_get0_notBefore(responder), &now) > 0 ||
      X509_cmp_time(X509_get0_notAfter(responder), &now) < 0) {
    return Bad("is signed by " + who + ", which is not valid now (" + NotBeforeDate(responder) +
               " to " + NotAfterDate(responder) + ")");
  }
  EVP_PKEY* key = X509_get0_pubkey(responder);
  if (key == nullptr || EVP_PKEY_get_security_bits(key) < 112) {
    return Bad("is signed by " + who + ", whose key is too weak");
  }
  return OkStatus();
}

// Who signed the response, checked; returns the signer's description.
Result<std::string> CheckSigner(OCSP_BASICRESP* basic, X509* issuer, std::time_t now) {
  PETERA_TRY(CheckSignatureAlgorithm(basic));
  // The signer named by the responder id, among the response's own
  // certificates and the issuer.
  X509StackPtr extra(sk_X509_new_null());
  if (!extra || sk_X509_push(extra.get(), issuer) <= 0) {
    return SslError("cannot look for the OCSP signer");
  }
  X509_up_ref(issuer);
  X509* signer = nullptr;
  if (OCSP_resp_get0_signer(basic, &signer, extra.get()) != 1 || signer == nullptr) {
    DrainSslErrors();
    return Bad("is signed by a responder that is neither the TLS certificate's issuer nor a "
               "certificate the response carries");
  }
  std::string who = "the issuer";
  if (!SameKey(X509_get0_pubkey(signer), X509_get0_pubkey(issuer))) {
    PETERA_TRY(CheckDelegatedResponder(signer, issuer, now));
    who = "responder " + SubjectName(signer);
  }
  EVP_PKEY* key = X509_get0_pubkey(signer);
  if (key == nullptr ||
      ASN1_item_verify(ASN1_ITEM_rptr(OCSP_RESPDATA), OCSP_resp_get0_tbs_sigalg(basic),
                       OCSP_resp_get0_signature(basic), OCSP_resp_get0_respdata(basic),
                       key) != 1) {
    DrainSslErrors();
    return Bad("has a signature that does not verify with the key of " + who);
  }
  return who;
}

}  // namespace

Result<OcspPolicy> ParseOcspPolicy(std::string_view text) {
  if (text == "prefer") return OcspPolicy::kPrefer;
  if (text == "require") return OcspPolicy::kRequire;
  if (text == "off") return OcspPolicy::kOff;
  return Error(ErrorCategory::kUsage, "the OCSP policy must be prefer, require or off, not '" +
                                          std::string(text) + "'");
}

const char* OcspPolicyName(OcspPolicy policy) {
  switch (policy) {
    case OcspPolicy::kPrefer: return "prefer";
    case OcspPolicy::kRequire: return "require";
    case OcspPolicy::kOff: return "off";
  }
  return "prefer";
}

std::time_t OcspStatus::valid_until() const {
  return next_update != 0 ? next_update : this_update + kOcspMaxAgeWithoutNextUpdate;
}

std::string OcspStatus::Describe() const {
  std::string out;
  if (revoked) {
    out = "REVOKED since " + FormatUtcTime(revoked_at) + (reason.empty() ? "" : " (" + reason + ")");
  } else {
    out = "good";
  }
  out += ", this update " + FormatUtcTime(this_update);
  out += next_update != 0 ? ", next update " + FormatUtcTime(next_update)
                          : ", no next update (current until " + FormatUtcTime(valid_until()) + ")";
  return out + ", signed by " + responder;
}

Result<OcspStatus> CheckOcspResponse(std::string_view der, X509* leaf, X509* issuer,
                                     std::time_t now) {
  if (der.empty()) return Bad("is empty");
  if (der.size() > kMaxOcspResponseBytes) return Bad("is larger than 64 KiB");
  if (leaf == nullptr || issuer == nullptr) return Bad("cannot be checked without the issuer");
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  OcspResponsePtr response(d2i_OCSP_RESPONSE(nullptr, &p, static_cast<long>(der.size())));
  if (!response || p != reinterpret_cast<const unsigned char*>(der.data()) + der.size()) {
    DrainSslErrors();
    return Bad("is not DER-encoded OCSP (or has trailing data)");
  }
  int response_status = OCSP_response_status(response.get());
  if (response_status != OCSP_RESPONSE_STATUS_SUCCESSFUL) {
    return Bad(std::string("says ") + ResponseStatusName(response_status) +
               " instead of a certificate status");
  }
  OcspBasicPtr basic(OCSP_response_get1_basic(response.get()));
  if (!basic) {
    DrainSslErrors();
    return Bad("is not a basic OCSP response");
  }
  PETERA_ASSIGN_OR_RETURN(OCSP_SINGLERESP * single, FindSingleResponse(basic.get(), leaf, issuer));
  OcspStatus status;
  PETERA_ASSIGN_OR_RETURN(status.responder, CheckSigner(basic.get(), issuer, now));

  int reason = -1;
  ASN1_GENERALIZEDTIME* revoked_at = nullptr;
  ASN1_GENERALIZEDTIME* this_update = nullptr;
  ASN1_GENERALIZEDTIME* next_update = nullptr;
  int cert_status =
      OCSP_single_get0_status(single, &reason, &revoked_at, &this_update, &next_update);
  if (cert_status == V_OCSP_CERTSTATUS_UNKNOWN) {
    return Bad("says the certificate's status is unknown to the responder");
  }
  if (cert_status != V_OCSP_CERTSTATUS_GOOD && cert_status != V_OCSP_CERTSTATUS_REVOKED) {
    return Bad("has an unreadable certificate status");
  }
  status.this_update = Asn1TimeToUnix(this_update);
  if (status.this_update == 0) return Bad("has no readable thisUpdate time");
  if (next_update != nullptr) {
    status.next_update = Asn1TimeToUnix(next_update);
    if (status.next_update == 0) return Bad("has an unreadable nextUpdate time");
    if (status.next_update < status.this_update) {
      return Bad("has a nextUpdate before its thisUpdate");
    }
  }
  if (cert_status == V_OCSP_CERTSTATUS_REVOKED) {
    status.revoked = true;
    status.revoked_at = Asn1TimeToUnix(revoked_at);
    if (reason >= 0) status.reason = OCSP_crl_reason_str(reason);
  }
  return status;
}

Status CheckOcspCurrent(const OcspStatus& status, std::time_t now) {
  if (status.this_update > now + kOcspClockSkewSeconds) {
    return Bad("is not valid yet (this update " + FormatUtcTime(status.this_update) +
               "; is a clock wrong?)");
  }
  if (status.valid_until() < now - kOcspClockSkewSeconds) {
    return Bad("expired at " + FormatUtcTime(status.valid_until()));
  }
  return OkStatus();
}

bool RequiresStapledOcsp(X509* leaf) {
  constexpr long kStatusRequest = 5;     // RFC 6066
  constexpr long kStatusRequestV2 = 17;  // RFC 6961
  // What decoding pushes on the error queue (a malformed extension, an
  // integer too large for a long) is dropped; the caller's errors stay.
  ERR_set_mark();
  int critical = -1;
  auto* features = static_cast<TLS_FEATURE*>(
      X509_get_ext_d2i(leaf, NID_tlsfeature, &critical, nullptr));
  bool required = false;
  if (features == nullptr) {
    // -1: no such extension; -2: several of it; otherwise present but not
    // readable. Only the first is no demand.
    required = critical != -1;
  } else {
    for (int i = 0; i < sk_ASN1_INTEGER_num(features); ++i) {
      long feature = ASN1_INTEGER_get(sk_ASN1_INTEGER_value(features, i));
      if (feature == kStatusRequest || feature == kStatusRequestV2) required = true;
    }
    TLS_FEATURE_free(features);
  }
  ERR_pop_to_mark();
  return required;
}

Result<std::optional<OcspStatus>> CheckStapledOcsp(OcspPolicy policy,
                                                   std::optional<std::string_view> stapled,
                                                   X509* leaf, X509* issuer, std::time_t now) {
  if (policy == OcspPolicy::kOff) return std::optional<OcspStatus>();
  if (!stapled) {
    if (policy == OcspPolicy::kRequire) {
      return Error(ErrorCategory::kTrust,
                   "the server stapled no OCSP response (--ocsp require)");
    }
    if (issuer != nullptr && RequiresStapledOcsp(leaf)) {
      return Error(ErrorCategory::kTrust,
                   "the server stapled no OCSP response, which its TLS certificate demands "
                   "(TLS feature status_request, RFC 7633 must-staple)");
    }
    return std::optional<OcspStatus>();
  }
  if (issuer == nullptr) {
    // The leaf is itself an anchor certificate: nothing above it to ask.
    if (policy == OcspPolicy::kRequire) {
      return Error(ErrorCategory::kTrust,
                   "the server's TLS certificate is itself the anchor: OCSP cannot apply "
                   "(--ocsp require)");
    }
    return std::optional<OcspStatus>();
  }
  auto status = CheckOcspResponse(*stapled, leaf, issuer, now);
  if (!status.ok()) return Stapled(status.error());
  if (status->revoked) {
    return Error(ErrorCategory::kTrust, "the server's TLS certificate is revoked (stapled OCSP "
                                        "response: " + status->Describe() + ")");
  }
  if (Status current = CheckOcspCurrent(*status, now); !current.ok()) {
    return Stapled(current.error());
  }
  return std::optional<OcspStatus>(std::move(status).value());
}

}  // namespace petera
