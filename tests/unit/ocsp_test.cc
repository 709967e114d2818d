// Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
//
// OCSP response checks (ocsp.h) on responses built here with OpenSSL's OCSP
// API, so that every field can be set: times in the past and future,
// statuses, signers, digests, several single responses. The end-to-end tests
// (tests/ocsp) use responses made by the openssl command line instead.
#include "petera/ocsp.h"

#include <gtest/gtest.h>
#include <openssl/err.h>
#include <openssl/ocsp.h>

#include <ctime>
#include <optional>
#include <string>
#include <vector>

#include "cert_factory.h"

namespace petera {
namespace {

using testing::CertSpec;
using testing::Issue;
using testing::Issued;

using OcspBasicPtr = OsslPtr<OCSP_BASICRESP, OCSP_BASICRESP_free>;
using OcspResponsePtr = OsslPtr<OCSP_RESPONSE, OCSP_RESPONSE_free>;
using Asn1TimePtr = OsslPtr<ASN1_TIME, ASN1_TIME_free>;

constexpr std::time_t kHour = 3600;

struct Status1 {
  X509* cert = nullptr;    // the certificate the status is about
  X509* issuer = nullptr;  // its issuer, for the CertID
  int status = V_OCSP_CERTSTATUS_GOOD;
  int reason = -1;
  const EVP_MD* id_md = nullptr;  // CertID hash; null: SHA-1
};

struct ResponseSpec {
  std::vector<Status1> statuses;
  std::time_t this_update = 0;
  std::time_t next_update = 0;  // 0: none
  const Issued* signer = nullptr;
  bool include_signer = false;
  const EVP_MD* md = EVP_sha256();
  int response_status = OCSP_RESPONSE_STATUS_SUCCESSFUL;
};

std::string Der(OCSP_RESPONSE* response) {
  unsigned char* der = nullptr;
  int length = i2d_OCSP_RESPONSE(response, &der);
  EXPECT_GT(length, 0);
  std::string out(reinterpret_cast<const char*>(der), static_cast<size_t>(length));
  OPENSSL_free(der);
  return out;
}

std::string MakeResponse(const ResponseSpec& spec) {
  if (spec.response_status != OCSP_RESPONSE_STATUS_SUCCESSFUL) {
    OcspResponsePtr response(OCSP_response_create(spec.response_status, nullptr));
    return Der(response.get());
  }
  OcspBasicPtr basic(OCSP_BASICRESP_new());
  Asn1TimePtr this_update(ASN1_GENERALIZEDTIME_set(nullptr, spec.this_update));
  Asn1TimePtr next_update(spec.next_update != 0
                              ? ASN1_GENERALIZEDTIME_set(nullptr, spec.next_update)
                              : nullptr);
  Asn1TimePtr revoked_at(ASN1_GENERALIZEDTIME_set(nullptr, spec.this_update - 10 * kHour));
  for (const Status1& s : spec.statuses) {
    OCSP_CERTID* id = OCSP_cert_to_id(s.id_md, s.cert, s.issuer);
    EXPECT_NE(id, nullptr);
    bool revoked = s.status == V_OCSP_CERTSTATUS_REVOKED;
    EXPECT_NE(OCSP_basic_add1_status(basic.get(), id, s.status, s.reason,
                                     revoked ? revoked_at.get() : nullptr, this_update.get(),
                                     next_update.get()),
              nullptr);
    OCSP_CERTID_free(id);
  }
  unsigned long flags = spec.include_signer ? 0 : OCSP_NOCERTS;
  EXPECT_EQ(OCSP_basic_sign(basic.get(), spec.signer->cert.get(), spec.signer->key.get(), spec.md,
                            nullptr, flags),
            1);
  OcspResponsePtr response(OCSP_response_create(OCSP_RESPONSE_STATUS_SUCCESSFUL, basic.get()));
  return Der(response.get());
}

class OcspTest : public ::testing::Test {
 protected:
  OcspTest()
      : root_(Issue({.cn = "Root", .ca = true}, nullptr)),
        ca_(Issue({.cn = "Intermediate", .ca = true}, &root_)),
        leaf_(Issue({.cn = "s1", .sans = {"DNS:s1.example"}, .eku = "serverAuth"}, &ca_)),
        other_leaf_(Issue({.cn = "s2", .sans = {"DNS:s2.example"}, .eku = "serverAuth"}, &ca_)),
        now_(std::time(nullptr)) {}

  ResponseSpec Good() const {
    return ResponseSpec{.statuses = {{leaf_.cert.get(), ca_.cert.get()}},
                        .this_update = now_ - kHour,
                        .next_update = now_ + 24 * kHour,
                        .signer = &ca_};
  }
  Result<OcspStatus> Check(const std::string& der) const {
    return CheckOcspResponse(der, leaf_.cert.get(), ca_.cert.get(), now_);
  }
  Issued Responder(CertSpec spec, const Issued* issuer) const {
    if (spec.cn.empty()) spec.cn = "OCSP responder";
    return Issue(spec, issuer);
  }

  Issued root_;
  Issued ca_;
  Issued leaf_;
  Issued other_leaf_;
  std::time_t now_;
};

void ExpectError(const Result<OcspStatus>& result, const std::string& part) {
  ASSERT_FALSE(result.ok()) << "expected an error containing: " << part;
  EXPECT_EQ(result.error().category(), ErrorCategory::kTrust);
  EXPECT_NE(result.error().message().find(part), std::string::npos) << result.error().message();
}

TEST_F(OcspTest, GoodResponseFromTheIssuer) {
  ResponseSpec spec = Good();
  auto status = Check(MakeResponse(spec));
  ASSERT_TRUE(status.ok()) << status.error().message();
  EXPECT_FALSE(status->revoked);
  EXPECT_EQ(status->this_update, spec.this_update);
  EXPECT_EQ(status->next_update, spec.next_update);
  EXPECT_EQ(status->valid_until(), spec.next_update);
  EXPECT_EQ(status->responder, "the issuer");
  EXPECT_TRUE(CheckOcspCurrent(*status, now_).ok());
  EXPECT_EQ(status->Describe().rfind("good, this update ", 0), 0u) << status->Describe();
}

TEST_F(OcspTest, RevokedResponseSaysWhenAndWhy) {
  ResponseSpec spec = Good();
  spec.statuses[0].status = V_OCSP_CERTSTATUS_REVOKED;
  spec.statuses[0].reason = OCSP_REVOKED_STATUS_KEYCOMPROMISE;
  auto status = Check(MakeResponse(spec));
  ASSERT_TRUE(status.ok()) << status.error().message();
  EXPECT_TRUE(status->revoked);
  EXPECT_EQ(status->revoked_at, spec.this_update - 10 * kHour);
  EXPECT_EQ(status->reason, "keyCompromise");
  EXPECT_NE(status->Describe().find("REVOKED since"), std::string::npos);
}

TEST_F(OcspTest, UnknownStatusIsRefused) {
  ResponseSpec spec = Good();
  spec.statuses[0].status = V_OCSP_CERTSTATUS_UNKNOWN;
  ExpectError(Check(MakeResponse(spec)), "unknown");
}

TEST_F(OcspTest, ResponseForAnotherCertificateIsRefused) {
  ResponseSpec spec = Good();
  spec.statuses[0].cert = other_leaf_.cert.get();
  ExpectError(Check(MakeResponse(spec)), "another certificate");
}

TEST_F(OcspTest, FindsTheLeafAmongSeveralStatusesAndAnyCertIdHash) {
  ResponseSpec spec = Good();
  spec.statuses = {{other_leaf_.cert.get(), ca_.cert.get(), V_OCSP_CERTSTATUS_REVOKED, 1},
                   {leaf_.cert.get(), ca_.cert.get(), V_OCSP_CERTSTATUS_GOOD, -1, EVP_sha256()}};
  auto status = Check(MakeResponse(spec));
  ASSERT_TRUE(status.ok()) << status.error().message();
  EXPECT_FALSE(status->revoked);
}

TEST_F(OcspTest, SignatureByAnUnrelatedKeyIsRefused) {
  Issued stranger = Issue({.cn = "Intermediate", .ca = true}, nullptr);  // same name, other key
  ResponseSpec spec = Good();
  spec.signer = &stranger;
  ExpectError(Check(MakeResponse(spec)), "does not verify");
  // Carrying its certificate changes nothing: the name is the issuer's, so
  // the issuer's key is what the signature must verify with.
  spec.include_signer = true;
  ExpectError(Check(MakeResponse(spec)), "does not verify");
  Issued other_ca = Issue({.cn = "Other CA", .ca = true}, nullptr);
  spec.signer = &other_ca;
  ExpectError(Check(MakeResponse(spec)), "did not issue");
  spec.include_signer = false;
  ExpectError(Check(MakeResponse(spec)), "neither the TLS certificate's issuer");
}

TEST_F(OcspTest, TamperedSignatureIsRefused) {
  std::string der = MakeResponse(Good());
  der[der.size() - 5] ^= 0x01;  // inside the signature, the response's last field
  auto status = Check(der);
  ASSERT_FALSE(status.ok());
}

TEST_F(OcspTest, TamperedStatusIsRefused) {
  ResponseSpec spec = Good();
  std::string good = MakeResponse(spec);
  spec.statuses[0].status = V_OCSP_CERTSTATUS_REVOKED;
  std::string revoked = MakeResponse(spec);
  // The good response's signature on another body: splice the signature.
  const auto* p = reinterpret_cast<const unsigned char*>(good.data());
  OcspResponsePtr good_response(d2i_OCSP_RESPONSE(nullptr, &p, static_cast<long>(good.size())));
  p = reinterpret_cast<const unsigned char*>(revoked.data());
  OcspResponsePtr revoked_response(
      d2i_OCSP_RESPONSE(nullptr, &p, static_cast<long>(revoked.size())));
  OcspBasicPtr good_basic(OCSP_response_get1_basic(good_response.get()));
  OcspBasicPtr revoked_basic(OCSP_response_get1_basic(revoked_response.get()));
  ASSERT_TRUE(good_basic && revoked_basic);
  ASN1_OCTET_STRING* signature =
      const_cast<ASN1_OCTET_STRING*>(OCSP_resp_get0_signature(revoked_basic.get()));
  const ASN1_OCTET_STRING* good_signature = OCSP_resp_get0_signature(good_basic.get());
  ASSERT_EQ(ASN1_STRING_set(signature, ASN1_STRING_get0_data(good_signature),
                            ASN1_STRING_length(good_signature)),
            1);
  OcspResponsePtr forged(OCSP_response_create(OCSP_RESPONSE_STATUS_SUCCESSFUL,
                                              revoked_basic.get()));
  ExpectError(Check(Der(forged.get())), "does not verify");
}

TEST_F(OcspTest, DelegatedResponderWithOcspSigning) {
  Issued responder = Responder({.eku = "OCSPSigning", .key_usage = "digitalSignature"}, &ca_);
  ResponseSpec spec = Good();
  spec.signer = &responder;
  spec.include_signer = true;
  auto status = Check(MakeResponse(spec));
  ASSERT_TRUE(status.ok()) << status.error().message();
  EXPECT_EQ(status->responder, "responder CN=OCSP responder");
}

TEST_F(OcspTest, DelegatedResponderMustBeEntitled) {
  ResponseSpec spec = Good();
  spec.include_signer = true;

  Issued no_eku = Responder({}, &ca_);
  spec.signer = &no_eku;
  ExpectError(Check(MakeResponse(spec)), "lacks OCSPSigning");

  Issued server_eku = Responder({.eku = "serverAuth"}, &ca_);
  spec.signer = &server_eku;
  ExpectError(Check(MakeResponse(spec)), "lacks OCSPSigning");

  Issued no_signing = Responder({.eku = "OCSPSigning", .key_usage = "keyAgreement"}, &ca_);
  spec.signer = &no_signing;
  ExpectError(Check(MakeResponse(spec)), "lacks digitalSignature");

  Issued expired = Responder({.eku = "OCSPSigning", .not_before = now_ - 48 * kHour,
                              .not_after = now_ - 24 * kHour},
                             &ca_);
  spec.signer = &expired;
  ExpectError(Check(MakeResponse(spec)), "not valid now");

  // Issued by the root, not by the leaf's issuer: not a delegation.
  Issued by_root = Responder({.eku = "OCSPSigning"}, &root_);
  spec.signer = &by_root;
  ExpectError(Check(MakeResponse(spec)), "did not issue");

  // Delegated, but not carried in the response: nothing to check it with.
  Issued good = Responder({.eku = "OCSPSigning"}, &ca_);
  spec.signer = &good;
  spec.include_signer = false;
  ExpectError(Check(MakeResponse(spec)), "neither the TLS certificate's issuer");
}

TEST_F(OcspTest, WeakDigestIsRefused) {
  ResponseSpec spec = Good();
  spec.md = EVP_sha1();
  ExpectError(Check(MakeResponse(spec)), "weak digest");
}

TEST_F(OcspTest, UnsuccessfulAndMalformedResponsesAreRefused) {
  ResponseSpec spec = Good();
  spec.response_status = OCSP_RESPONSE_STATUS_TRYLATER;
  ExpectError(Check(MakeResponse(spec)), "tryLater");
  ExpectError(Check(""), "empty");
  ExpectError(Check("not DER"), "not DER-encoded");
  std::string good = MakeResponse(Good());
  ExpectError(Check(good + "x"), "trailing data");
  ExpectError(Check(good.substr(0, good.size() - 1)), "not DER-encoded");
  ExpectError(Check(std::string(kMaxOcspResponseBytes + 1, '\0')), "larger than 64 KiB");
  ExpectError(CheckOcspResponse(good, leaf_.cert.get(), nullptr, now_), "without the issuer");
}

TEST_F(OcspTest, CurrencyAllowsFiveMinutesOfSkewEachWay) {
  OcspStatus status;
  status.this_update = now_;
  status.next_update = now_ + kHour;
  EXPECT_TRUE(CheckOcspCurrent(status, now_ - kOcspClockSkewSeconds).ok());
  EXPECT_FALSE(CheckOcspCurrent(status, now_ - kOcspClockSkewSeconds - 1).ok());
  EXPECT_TRUE(CheckOcspCurrent(status, now_ + kHour + kOcspClockSkewSeconds).ok());
  auto late = CheckOcspCurrent(status, now_ + kHour + kOcspClockSkewSeconds + 1);
  ASSERT_FALSE(late.ok());
  EXPECT_NE(late.error().message().find("expired at"), std::string::npos);
}

TEST_F(OcspTest, WithoutNextUpdateAResponseLastsAWeek) {
  ResponseSpec spec = Good();
  spec.next_update = 0;
  auto status = Check(MakeResponse(spec));
  ASSERT_TRUE(status.ok()) << status.error().message();
  EXPECT_EQ(status->next_update, 0);
  EXPECT_EQ(status->valid_until(), spec.this_update + kOcspMaxAgeWithoutNextUpdate);
  EXPECT_TRUE(CheckOcspCurrent(*status, spec.this_update + kOcspMaxAgeWithoutNextUpdate).ok());
  EXPECT_FALSE(
      CheckOcspCurrent(*status, spec.this_update + kOcspMaxAgeWithoutNextUpdate + 3600).ok());
}

TEST_F(OcspTest, NextUpdateBeforeThisUpdateIsRefused) {
  ResponseSpec spec = Good();
  spec.next_update = spec.this_update - 1;
  ExpectError(Check(MakeResponse(spec)), "nextUpdate before its thisUpdate");
}

TEST_F(OcspTest, StapledDecisionFollowsThePolicy) {
  std::string good = MakeResponse(Good());
  ResponseSpec revoked_spec = Good();
  revoked_spec.statuses[0].status = V_OCSP_CERTSTATUS_REVOKED;
  std::string revoked = MakeResponse(revoked_spec);
  ResponseSpec stale_spec = Good();
  stale_spec.this_update = now_ - 48 * kHour;
  stale_spec.next_update = now_ - 24 * kHour;
  std::string stale = MakeResponse(stale_spec);
  X509* leaf = leaf_.cert.get();
  X509* ca = ca_.cert.get();
  using P = OcspPolicy;

  // off: nothing is looked at, not even garbage.
  auto off = CheckStapledOcsp(P::kOff, std::string_view("garbage"), leaf, ca, now_);
  ASSERT_TRUE(off.ok());
  EXPECT_FALSE(off->has_value());

  for (P policy : {P::kPrefer, P::kRequire}) {
    SCOPED_TRACE(OcspPolicyName(policy));
    auto ok = CheckStapledOcsp(policy, std::string_view(good), leaf, ca, now_);
    ASSERT_TRUE(ok.ok()) << ok.error().message();
    EXPECT_TRUE(ok->has_value());

    auto no = CheckStapledOcsp(policy, std::string_view(revoked), leaf, ca, now_);
    ASSERT_FALSE(no.ok());
    EXPECT_NE(no.error().message().find("revoked"), std::string::npos) << no.error().message();

    auto old = CheckStapledOcsp(policy, std::string_view(stale), leaf, ca, now_);
    ASSERT_FALSE(old.ok());
    EXPECT_NE(old.error().message().find("stapled OCSP response expired"), std::string::npos)
        << old.error().message();

    auto bad = CheckStapledOcsp(policy, std::string_view("garbage"), leaf, ca, now_);
    ASSERT_FALSE(bad.ok());
    EXPECT_EQ(bad.error().category(), ErrorCategory::kTrust);

    // The leaf is an anchor certificate itself: nothing to check against.
    auto anchored = CheckStapledOcsp(policy, std::string_view(good), leaf, nullptr, now_);
    EXPECT_EQ(anchored.ok(), policy == P::kPrefer);
  }

  auto missing = CheckStapledOcsp(P::kPrefer, std::nullopt, leaf, ca, now_);
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing->has_value());
  auto required = CheckStapledOcsp(P::kRequire, std::nullopt, leaf, ca, now_);
  ASSERT_FALSE(required.ok());
  EXPECT_NE(required.error().message().find("stapled no OCSP response"), std::string::npos);
}

// A leaf like leaf_ with a TLS Feature extension given as raw DER.
Issued WithTlsFeature(const Issued& ca, const std::vector<unsigned char>& der) {
  Issued leaf = Issue({.cn = "s1", .sans = {"DNS:s1.example"}, .eku = "serverAuth"}, &ca);
  testing::AddRawExtension(leaf, NID_tlsfeature, false, der, ca.key.get());
  return leaf;
}

TEST_F(OcspTest, MustStapleIsReadFromTheTlsFeatureExtension) {
  EXPECT_FALSE(RequiresStapledOcsp(leaf_.cert.get()));
  for (const char* value : {"status_request", "status_request_v2", "10, status_request"}) {
    SCOPED_TRACE(value);
    Issued leaf =
        Issue({.cn = "s1", .eku = "serverAuth", .extra = {{NID_tlsfeature, value}}}, &ca_);
    EXPECT_TRUE(RequiresStapledOcsp(leaf.cert.get()));
  }
  // SEQUENCE { INTEGER 10 }: a feature that is not about OCSP.
  EXPECT_FALSE(RequiresStapledOcsp(WithTlsFeature(ca_, {0x30, 0x03, 0x02, 0x01, 0x0a}).cert.get()));
  // Present but unreadable (an OCTET STRING, a truncated SEQUENCE): demands.
  EXPECT_TRUE(RequiresStapledOcsp(WithTlsFeature(ca_, {0x04, 0x01, 0x05}).cert.get()));
  EXPECT_TRUE(RequiresStapledOcsp(WithTlsFeature(ca_, {0x30, 0x03, 0x02, 0x01}).cert.get()));
  // A feature number too large for a long: no demand, and nothing left on
  // the error queue (an error pushed before stays).
  std::vector<unsigned char> huge = {0x30, 0x0b, 0x02, 0x09, 0x01};  // 2^64
  huge.resize(13, 0x00);
  Issued huge_leaf = WithTlsFeature(ca_, huge);
  ERR_clear_error();
  ERR_raise(ERR_LIB_USER, 1);
  EXPECT_FALSE(RequiresStapledOcsp(huge_leaf.cert.get()));
  EXPECT_EQ(ERR_GET_LIB(ERR_get_error()), ERR_LIB_USER);
  EXPECT_EQ(ERR_peek_error(), 0UL);
  // Twice: demands.
  Issued twice = WithTlsFeature(ca_, {0x30, 0x03, 0x02, 0x01, 0x0a});
  testing::AddRawExtension(twice, NID_tlsfeature, false, {0x30, 0x03, 0x02, 0x01, 0x0a},
                           ca_.key.get());
  EXPECT_TRUE(RequiresStapledOcsp(twice.cert.get()));
}

TEST_F(OcspTest, MustStapleMakesPreferRequireAStaple) {
  Issued leaf = Issue({.cn = "s1", .sans = {"DNS:s1.example"}, .eku = "serverAuth",
                       .extra = {{NID_tlsfeature, "status_request"}}},
                      &ca_);
  ResponseSpec spec = Good();
  spec.statuses = {{leaf.cert.get(), ca_.cert.get()}};
  std::string good = MakeResponse(spec);
  using P = OcspPolicy;

  auto missing = CheckStapledOcsp(P::kPrefer, std::nullopt, leaf.cert.get(), ca_.cert.get(), now_);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().category(), ErrorCategory::kTrust);
  EXPECT_NE(missing.error().message().find("must-staple"), std::string::npos)
      << missing.error().message();
  auto stapled = CheckStapledOcsp(P::kPrefer, std::string_view(good), leaf.cert.get(),
                                  ca_.cert.get(), now_);
  ASSERT_TRUE(stapled.ok()) << stapled.error().message();
  EXPECT_TRUE(stapled->has_value());
  // off is off; a leaf that is itself the anchor has nothing to ask about.
  EXPECT_TRUE(CheckStapledOcsp(P::kOff, std::nullopt, leaf.cert.get(), ca_.cert.get(), now_).ok());
  EXPECT_TRUE(CheckStapledOcsp(P::kPrefer, std::nullopt, leaf.cert.get(), nullptr, now_).ok());
}

TEST(OcspPolicyTest, ParsesItsThreeNames) {
  for (OcspPolicy policy : {OcspPolicy::kPrefer, OcspPolicy::kRequire, OcspPolicy::kOff}) {
    auto parsed = ParseOcspPolicy(OcspPolicyName(policy));
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(*parsed, policy);
  }
  EXPECT_FALSE(ParseOcspPolicy("Prefer").ok());
  EXPECT_FALSE(ParseOcspPolicy("").ok());
  EXPECT_FALSE(ParseOcspPolicy("yes").ok());
}

}  // namespace
}  // namespace petera
