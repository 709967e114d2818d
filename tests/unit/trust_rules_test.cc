// Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
//
// Certificates OpenSSL accepts and Petera refuses, each beside its
// well-formed twin that Petera accepts: CA leaves, extended key usage along
// the path, name constraints and wildcards, serial numbers, extensions that
// repeat or do not parse, odd RSA moduli. Built in memory.
#include <gtest/gtest.h>
#include <openssl/x509v3.h>

#include <string>

#include "cert_factory.h"
#include "petera/trust.h"

namespace petera {
namespace {

using testing::AnchorOf;
using testing::CertSpec;
using testing::ChainOf;
using testing::Issue;
using testing::Issued;

std::string Message(const Result<VerifiedChain>& r) {
  return r.ok() ? std::string("(trusted)") : r.error().message();
}

void ExpectRefused(const Result<VerifiedChain>& r, const std::string& fragment) {
  ASSERT_FALSE(r.ok()) << "expected refusal containing: " << fragment;
  EXPECT_EQ(r.error().category(), ErrorCategory::kTrust) << r.error().message();
  EXPECT_NE(r.error().message().find(fragment), std::string::npos) << r.error().message();
}

#define EXPECT_TRUSTED(expr)                  \
  do {                                        \
    auto trusted_result_ = (expr);            \
    EXPECT_TRUE(trusted_result_.ok()) << Message(trusted_result_); \
  } while (false)

CertSpec TlsSpec(std::vector<std::string> sans = {"DNS:localhost"}) {
  return {.cn = "tls", .sans = std::move(sans), .eku = "serverAuth",
          .key_usage = "digitalSignature"};
}

CertSpec EncSpec(std::vector<std::string> sans = {"DNS:localhost"}) {
  return {.cn = "enc", .sans = std::move(sans), .key_usage = "keyAgreement"};
}

class TrustRulesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = Issue({.cn = "Rules Root", .ca = true}, nullptr);
    inter_ = Issue({.cn = "Rules CA", .ca = true}, &root_);
    anchor_ = std::make_unique<Anchor>(AnchorOf({&root_}));
  }
  Result<VerifiedChain> Tls(const Issued& leaf, const Issued& ca, const std::string& name = "localhost") {
    return VerifyTlsChain(*anchor_, ChainOf(leaf, {&ca}), name);
  }
  Result<VerifiedChain> Enc(const Issued& leaf, const Issued& ca, const std::string& name = "localhost") {
    return VerifyEncryptionChain(*anchor_, ChainOf(leaf, {&ca}), name);
  }
  // An intermediate with one more property, under the root.
  Issued Inter(CertSpec spec) {
    spec.cn = "Rules CA";
    spec.ca = true;
    return Issue(spec, &root_);
  }
  Issued root_, inter_;
  std::unique_ptr<Anchor> anchor_;
};

// ---------------------------------------------------------------- CA leaves

TEST_F(TrustRulesTest, CaCertificateIsNeverATlsLeaf) {
  CertSpec spec = TlsSpec();
  EXPECT_TRUSTED(Tls(Issue(spec, &inter_), inter_));
  spec.ca = true;
  spec.key_usage = "digitalSignature,keyCertSign";
  ExpectRefused(Tls(Issue(spec, &inter_), inter_),
                "is a CA certificate (basicConstraints CA:TRUE) and cannot be a server's TLS certificate");
}

TEST_F(TrustRulesTest, CaCertificateIsNeverAnEncryptionLeaf) {
  CertSpec spec = EncSpec();
  EXPECT_TRUSTED(Enc(Issue(spec, &inter_), inter_));
  spec.ca = true;
  spec.key_usage = "keyAgreement,keyCertSign";
  Issued leaf = Issue(spec, &inter_);
  ExpectRefused(Enc(leaf, inter_), "cannot be a server's encryption certificate");
  ExpectRefused(VerifyStoredEncryptionChain(*anchor_, ChainOf(leaf, {&inter_}), "localhost"),
                "is a CA certificate");
}

// ---------------------------------------------------------------- EKU

TEST_F(TrustRulesTest, TlsLeafNeedsServerAuthNotJustAnyExtendedKeyUsage) {
  CertSpec spec = TlsSpec();
  spec.eku = "anyExtendedKeyUsage";
  ExpectRefused(Tls(Issue(spec, &inter_), inter_),
                "has anyExtendedKeyUsage but no serverAuth extended key usage");
  spec.eku = "serverAuth,anyExtendedKeyUsage";
  EXPECT_TRUSTED(Tls(Issue(spec, &inter_), inter_));
}

TEST_F(TrustRulesTest, TlsPathCaWhoseExtendedKeyUsageExcludesServerAuth) {
  Issued client_only = Inter({.eku = "clientAuth"});
  ExpectRefused(Tls(Issue(TlsSpec(), &client_only), client_only), "CN=Rules CA");
  Issued server = Inter({.eku = "serverAuth,clientAuth"});
  EXPECT_TRUSTED(Tls(Issue(TlsSpec(), &server), server));
  Issued any = Inter({.eku = "anyExtendedKeyUsage"});
  EXPECT_TRUSTED(Tls(Issue(TlsSpec(), &any), any));
}

TEST_F(TrustRulesTest, TlsPathAnchorWhoseExtendedKeyUsageExcludesServerAuth) {
  Issued root = Issue({.cn = "Mail Root", .ca = true, .eku = "emailProtection"}, nullptr);
  Issued inter = Issue({.cn = "Mail CA", .ca = true}, &root);
  auto r = VerifyTlsChain(AnchorOf({&root}), ChainOf(Issue(TlsSpec(), &inter), {&inter}),
                          "localhost");
  ExpectRefused(r, "CN=Mail Root");
}

TEST_F(TrustRulesTest, EncryptionPathCaMustAllowServerAuthOrAnyExtendedKeyUsage) {
  Issued mail = Inter({.eku = "emailProtection"});
  ExpectRefused(Enc(Issue(EncSpec(), &mail), mail),
                "is a CA whose extended key usage excludes serverAuth, so it may not issue a "
                "server's encryption certificate");
  Issued client = Inter({.eku = "clientAuth"});
  ExpectRefused(Enc(Issue(EncSpec(), &client), client), "excludes serverAuth");
  Issued server = Inter({.eku = "serverAuth"});
  EXPECT_TRUSTED(Enc(Issue(EncSpec(), &server), server));
  Issued any = Inter({.eku = "anyExtendedKeyUsage"});
  EXPECT_TRUSTED(Enc(Issue(EncSpec(), &any), any));
  EXPECT_TRUSTED(Enc(Issue(EncSpec(), &inter_), inter_));  // no EKU: unrestricted
}

// ---------------------------------------------------------------- name constraints

TEST_F(TrustRulesTest, WildcardThatMayMatchAnExcludedNameIsRefused) {
  Issued ca = Inter({.name_constraints = "critical,excluded;DNS:bad.example.com"});
  ExpectRefused(Tls(Issue(TlsSpec({"DNS:*.example.com"}), &ca), ca, "good.example.com"),
                "has wildcard *.example.com, which may match a name excluded by certificate CN=Rules CA");
  EXPECT_TRUSTED(Tls(Issue(TlsSpec({"DNS:good.example.com"}), &ca), ca, "good.example.com"));
  // A wildcard one level below the excluded subtree, or beside it, is fine.
  EXPECT_TRUSTED(Tls(Issue(TlsSpec({"DNS:*.other.example.com"}), &ca), ca, "x.other.example.com"));
  ExpectRefused(Tls(Issue(TlsSpec({"DNS:*.bad.example.com"}), &ca), ca, "x.bad.example.com"),
                "which may match a name excluded by");
}

TEST_F(TrustRulesTest, WildcardAndSubdomainOnlyExclusions) {
  // ".bad.example.com" excludes the subdomains of bad.example.com only:
  // "*.example.com" can match bad.example.com itself but nothing below it.
  Issued ca = Inter({.name_constraints = "critical,excluded;DNS:.bad.example.com"});
  EXPECT_TRUSTED(Tls(Issue(TlsSpec({"DNS:*.example.com"}), &ca), ca, "good.example.com"));
  Issued deep = Inter({.name_constraints = "critical,excluded;DNS:a.b.example.com"});
  EXPECT_TRUSTED(Tls(Issue(TlsSpec({"DNS:*.example.com"}), &deep), deep, "good.example.com"));
  Issued whole = Inter({.name_constraints = "critical,excluded;DNS:example.com"});
  ASSERT_FALSE(Tls(Issue(TlsSpec({"DNS:*.example.com"}), &whole), whole, "good.example.com").ok());
}

TEST_F(TrustRulesTest, WildcardMustLieInsideAPermittedSubtree) {
  Issued narrow = Inter({.name_constraints = "critical,permitted;DNS:good.example.com"});
  auto r = Tls(Issue(TlsSpec({"DNS:*.example.com"}), &narrow), narrow, "good.example.com");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().category(), ErrorCategory::kTrust);
  Issued wide = Inter({.name_constraints = "critical,permitted;DNS:example.com"});
  EXPECT_TRUSTED(Tls(Issue(TlsSpec({"DNS:*.example.com"}), &wide), wide, "x.example.com"));
  Issued dotted = Inter({.name_constraints = "critical,permitted;DNS:.example.com"});
  EXPECT_TRUSTED(Tls(Issue(TlsSpec({"DNS:*.example.com"}), &dotted), dotted, "x.example.com"));
}

TEST_F(TrustRulesTest, NamesThatAreNotHostNamesAreRefusedUnderNameConstraints) {
  Issued ca = Inter({.name_constraints = "critical,permitted;DNS:example.com"});
  for (const char* bad : {"DNS:_svc.example.com", "DNS:.example.com", "DNS:a..example.com",
                          "DNS:ok.example.com.", "DNS:-x.example.com", "DNS:f*.example.com",
                          "DNS:::1"}) {
    ExpectRefused(Tls(Issue(TlsSpec({"DNS:ok.example.com", bad}), &ca), ca, "ok.example.com"),
                  "not a valid host name, under the name constraints of certificate CN=Rules CA");
  }
  EXPECT_TRUSTED(Tls(Issue(TlsSpec({"DNS:ok.example.com", "DNS:xn--bcher-kva.example.com",
                                    "DNS:*.example.com", "DNS:a-1.example.com"}), &ca),
                     ca, "ok.example.com"));
}

TEST_F(TrustRulesTest, TrailingDotCannotEscapeAnExcludedSubtree) {
  Issued ca = Inter({.name_constraints = "critical,excluded;DNS:bad.example.com"});
  ExpectRefused(Tls(Issue(TlsSpec({"DNS:localhost", "DNS:bad.example.com."}), &ca), ca),
                "bad.example.com., not a valid host name");
}

TEST_F(TrustRulesTest, OddNamesWithoutNameConstraintsAreLeftAlone) {
  EXPECT_TRUSTED(Tls(Issue(TlsSpec({"DNS:localhost", "DNS:_svc.example.com"}), &inter_), inter_));
}

TEST_F(TrustRulesTest, NameConstraintsOfTheAnchorRootApply) {
  Issued root = Issue({.cn = "Constrained Root", .ca = true,
                       .name_constraints = "critical,permitted;DNS:example.com"}, nullptr);
  Issued inter = Issue({.cn = "Rules CA", .ca = true}, &root);
  Anchor anchor = AnchorOf({&root});
  auto inside = Issue(TlsSpec({"DNS:ok.example.com"}), &inter);
  EXPECT_TRUSTED(VerifyTlsChain(anchor, ChainOf(inside, {&inter}), "ok.example.com"));
  auto outside = Issue(TlsSpec({"DNS:localhost"}), &inter);
  ExpectRefused(VerifyTlsChain(anchor, ChainOf(outside, {&inter}), "localhost"),
                "has a name outside its issuers' name constraints");
  auto wildcard = Issue(TlsSpec({"DNS:*.test"}), &inter);
  ExpectRefused(VerifyTlsChain(anchor, ChainOf(wildcard, {&inter}), "x.test"),
                "which reaches outside the names permitted by certificate CN=Constrained Root");
}

TEST_F(TrustRulesTest, EndEntityWithNameConstraintsIsRefused) {
  CertSpec spec = EncSpec();
  spec.name_constraints = "critical,permitted;DNS:localhost";
  ExpectRefused(Enc(Issue(spec, &inter_), inter_),
                "is an end-entity certificate with name constraints");
  spec.name_constraints.clear();
  EXPECT_TRUSTED(Enc(Issue(spec, &inter_), inter_));
}

// ---------------------------------------------------------------- serial numbers

TEST_F(TrustRulesTest, SerialNumberMustBePositiveAndAtMostTwentyOctets) {
  CertSpec spec = EncSpec();
  for (const char* good : {"01", "7F" "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF"}) {
    spec.serial_hex = good;
    EXPECT_TRUSTED(Enc(Issue(spec, &inter_), inter_));
  }
  spec.serial_hex = "0";
  ExpectRefused(Enc(Issue(spec, &inter_), inter_), "has serial number zero");
  spec.serial_hex = "-01";
  ExpectRefused(Enc(Issue(spec, &inter_), inter_), "has a negative serial number");
  spec.serial_hex = "80" "00000000000000000000000000000000000000";  // 20 bytes, sign byte: 21
  ExpectRefused(Enc(Issue(spec, &inter_), inter_), "serial number of 21 octets");
  spec.serial_hex = "01" "0000000000000000000000000000000000000000";  // 21 bytes
  ExpectRefused(Enc(Issue(spec, &inter_), inter_), "serial number of 21 octets");
}

TEST_F(TrustRulesTest, SerialNumberRuleCoversIntermediates) {
  Issued zero = Inter({.serial_hex = "0"});
  ExpectRefused(Enc(Issue(EncSpec(), &zero), zero), "certificate CN=Rules CA has serial number zero");
}

// ---------------------------------------------------------------- extensions

TEST_F(TrustRulesTest, ExtensionThatAppearsTwiceIsRefused) {
  CertSpec spec = TlsSpec();
  spec.extra = {{NID_subject_alt_name, "DNS:other.test"}};
  ExpectRefused(Tls(Issue(spec, &inter_), inter_), "Subject Alternative Name extension more than once");
  Issued twice = Inter({.extra = {{NID_basic_constraints, "critical,CA:TRUE"}}});
  ExpectRefused(Tls(Issue(TlsSpec(), &twice), twice), "more than once");
}

std::vector<unsigned char> ExtensionDer(int nid, const char* value) {
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, nullptr, nid, value);
  const ASN1_OCTET_STRING* data = X509_EXTENSION_get_data(ext);
  std::vector<unsigned char> der(ASN1_STRING_get0_data(data),
                                 ASN1_STRING_get0_data(data) + ASN1_STRING_length(data));
  X509_EXTENSION_free(ext);
  return der;
}

TEST_F(TrustRulesTest, ExtensionThatDoesNotParseIsRefused) {
  auto aia = ExtensionDer(NID_info_access, "caIssuers;URI:http://ca.test/ca.pem");
  Issued good = Issue(EncSpec(), &inter_);
  testing::AddRawExtension(good, NID_info_access, false, aia, inter_.key.get());
  EXPECT_TRUSTED(Enc(good, inter_));

  std::vector<unsigned char> truncated(aia.begin(), aia.end() - 3);
  Issued cut = Issue(EncSpec(), &inter_);
  testing::AddRawExtension(cut, NID_info_access, false, truncated, inter_.key.get());
  ExpectRefused(Enc(cut, inter_), "has a malformed Authority Information Access extension");

  auto trailing = aia;
  trailing.push_back(0);
  trailing.push_back(0);
  Issued extra = Issue(EncSpec(), &inter_);
  testing::AddRawExtension(extra, NID_info_access, false, trailing, inter_.key.get());
  ExpectRefused(Enc(extra, inter_), "malformed Authority Information Access");

  Issued bad_ca = Inter({});
  testing::AddRawExtension(bad_ca, NID_info_access, false, truncated, root_.key.get());
  ExpectRefused(Enc(Issue(EncSpec(), &bad_ca), bad_ca), "CN=Rules CA has a malformed");
}

TEST_F(TrustRulesTest, PolicyConstraintsMustBeCritical) {
  Issued lax = Inter({.extra = {{NID_policy_constraints, "requireExplicitPolicy:3"}}});
  ExpectRefused(Enc(Issue(EncSpec(), &lax), lax),
                "has a policy constraints extension not marked critical");
  Issued strict = Inter({.extra = {{NID_policy_constraints, "critical,requireExplicitPolicy:3"}}});
  EXPECT_TRUSTED(Enc(Issue(EncSpec(), &strict), strict));
}

TEST_F(TrustRulesTest, AuthorityKeyIdentifierMustHoldTheKeyIdentifier) {
  CertSpec spec = EncSpec();
  spec.aki = "issuer:always";
  ExpectRefused(Enc(Issue(spec, &inter_), inter_),
                "has an authority key identifier without a key identifier");
  spec.aki = "keyid:always,issuer:always";
  EXPECT_TRUSTED(Enc(Issue(spec, &inter_), inter_));
  Issued ca = Inter({.aki = "issuer:always"});
  ExpectRefused(Enc(Issue(EncSpec(), &ca), ca), "CN=Rules CA has an authority key identifier");
}

// ---------------------------------------------------------------- RSA moduli

// OpenSSL makes an RSA key of an odd size n with n or n - 1 bits: 2052 and
// 2060 give a modulus of 2051 or 2052 (2059 or 2060) bits, never a multiple
// of 8, and an even size like 2056 gives exactly that many bits.
TEST_F(TrustRulesTest, RsaModulusMustBeAWholeNumberOfBytes) {
  CertSpec spec = {.cn = "enc", .sans = {"DNS:localhost"}, .key_usage = "keyEncipherment",
                   .rsa = true, .rsa_bits = 2052};
  Issued odd = Issue(spec, &inter_);
  ASSERT_NE(EVP_PKEY_get_bits(odd.key.get()) % 8, 0);
  ExpectRefused(Enc(odd, inter_), "bits, not a whole number of bytes");
  spec.rsa_bits = 2056;
  EXPECT_TRUSTED(Enc(Issue(spec, &inter_), inter_));
  Issued odd_ca = Inter({.rsa = true, .rsa_bits = 2060});
  ExpectRefused(Enc(Issue(EncSpec(), &odd_ca), odd_ca), "certificate CN=Rules CA has an RSA modulus of");
}

}  // namespace
}  // namespace petera
