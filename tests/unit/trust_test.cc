// Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
//
// Every trust rule both ways: a chain that passes, and a twin that fails for
// exactly one reason. Certificates come from certs-examples/make-pki.sh.
#include "petera/trust.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

#include "petera/pem.h"
#include "cert_factory.h"
#include "test_util.h"

namespace petera {
namespace {

using testing::LoadAnchor;
using testing::LoadChain;
using testing::Pki;

std::string Message(const Result<VerifiedChain>& r) {
  return r.ok() ? std::string("(trusted)") : r.error().message();
}

void ExpectRefused(const Result<VerifiedChain>& r, const std::string& fragment) {
  ASSERT_FALSE(r.ok()) << "expected refusal containing: " << fragment;
  EXPECT_EQ(r.error().category(), ErrorCategory::kTrust) << r.error().message();
  EXPECT_NE(r.error().message().find(fragment), std::string::npos) << r.error().message();
}

class TrustTest : public ::testing::Test {
 protected:
  Anchor anchor_ = LoadAnchor();
};

TEST_F(TrustTest, AcceptsTheTlsChainForEachOfItsNames) {
  auto chain = LoadChain("s1/tls.pem");
  for (const char* name : {"localhost", "127.0.0.1", "::1", "s1.petera.test"}) {
    auto r = VerifyTlsChain(anchor_, chain, name);
    EXPECT_TRUE(r.ok()) << name << ": " << Message(r);
  }
  auto r = VerifyTlsChain(anchor_, chain, "localhost");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->chain.size(), 3u);  // leaf, intermediate, root
  EXPECT_NE(r->Describe().find(" <- "), std::string::npos);
}

TEST_F(TrustTest, RefusesTlsNameNotInSubjectAltNameAndListsTheNames) {
  auto r = VerifyTlsChain(anchor_, LoadChain("s1/tls.pem"), "db1");
  ExpectRefused(r, "name db1 not in subjectAltName [");
  EXPECT_NE(r.error().message().find("127.0.0.1"), std::string::npos);
  ExpectRefused(VerifyTlsChain(anchor_, LoadChain("s1/tls.pem"), "10.0.0.2"),
                "name 10.0.0.2 not in subjectAltName");
}

TEST_F(TrustTest, NeverUsesTheCommonNameForTheHost) {
  // CN=localhost without subjectAltName: `openssl verify -verify_hostname`
  // accepts it (tests/pki checks that); Petera must not.
  ExpectRefused(VerifyTlsChain(anchor_, LoadChain("bad/tls-cn-only.pem"), "localhost"),
                "name localhost not in subjectAltName []");
}

TEST_F(TrustTest, RefusesNamesThatMatchOnlyOtherCertificates) {
  ExpectRefused(VerifyTlsChain(anchor_, LoadChain("bad/tls-wrongname.pem"), "localhost"),
                "not in subjectAltName [other.petera.test, 10.9.9.9]");
  EXPECT_TRUE(VerifyTlsChain(anchor_, LoadChain("bad/tls-wrongname.pem"), "other.petera.test").ok());
}

TEST_F(TrustTest, RefusesTlsCertificateWithoutServerAuth) {
  auto r = VerifyTlsChain(anchor_, LoadChain("bad/tls-noserverauth.pem"), "localhost");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().category(), ErrorCategory::kTrust);
}

TEST_F(TrustTest, RefusesEncryptionCertificateUsedAsTlsCertificate) {
  // No serverAuth in an encryption certificate.
  ASSERT_FALSE(VerifyTlsChain(anchor_, LoadChain("s1/encrypt-ec.pem"), "localhost").ok());
}

TEST_F(TrustTest, RefusesExpiredTlsChainWithTheDate) {
  auto r = VerifyTlsChain(anchor_, LoadChain("bad/expired-tls.pem"), "localhost");
  ExpectRefused(r, "expired on ");
}

TEST_F(TrustTest, AcceptsEncryptionChainsOfEveryKeyType) {
  for (const char* f : {"s1/encrypt-ec.pem", "s1/encrypt-rsa.pem", "s1/encrypt-p384.pem",
                        "s1/encrypt-p521.pem", "s2/encrypt-ec.pem", "s1/rotated/encrypt-ec.pem"}) {
    auto r = VerifyEncryptionChain(anchor_, LoadChain(f), "localhost");
    EXPECT_TRUE(r.ok()) << f << ": " << Message(r);
  }
}

TEST_F(TrustTest, RefusesEncryptionChainForAnotherServer) {
  ExpectRefused(VerifyEncryptionChain(anchor_, LoadChain("s1/encrypt-ec.pem"), "s2.petera.test"),
                "name s2.petera.test not in subjectAltName");
}

TEST_F(TrustTest, RefusesExpiredAndNotYetValidEncryptionChainsWithDates) {
  ExpectRefused(VerifyEncryptionChain(anchor_, LoadChain("bad/expired-encrypt.pem"), "localhost"),
                "expired on 2021-01-01");
  ExpectRefused(VerifyEncryptionChain(anchor_, LoadChain("bad/notyet-encrypt.pem"), "localhost"),
                "is not valid before 2040-01-01");
}

TEST_F(TrustTest, StoredChainIgnoresValidityPeriodsOnly) {
  EXPECT_TRUE(VerifyStoredEncryptionChain(anchor_, LoadChain("bad/expired-encrypt.pem"), "localhost").ok());
  EXPECT_TRUE(VerifyStoredEncryptionChain(anchor_, LoadChain("bad/notyet-encrypt.pem"), "localhost").ok());
  // Everything else still holds in this mode.
  ExpectRefused(VerifyStoredEncryptionChain(anchor_, LoadChain("bad/otherroot-encrypt.pem"), "localhost"),
                "chain does not lead to any certificate in the anchor");
  ExpectRefused(VerifyStoredEncryptionChain(anchor_, LoadChain("s1/encrypt-ec.pem"), "db9"),
                "name db9 not in subjectAltName");
  ASSERT_FALSE(VerifyStoredEncryptionChain(anchor_, LoadChain("bad/rsa1024-encrypt.pem"), "localhost").ok());
}

TEST_F(TrustTest, RefusesChainsFromAnotherRoot) {
  ExpectRefused(VerifyTlsChain(anchor_, LoadChain("bad/otherroot-tls.pem"), "localhost"),
                "chain does not lead to any certificate in the anchor");
  ExpectRefused(VerifyEncryptionChain(anchor_, LoadChain("bad/otherroot-encrypt.pem"), "localhost"),
                "chain does not lead to any certificate in the anchor");
  // ...and the other root trusts its own chain but not ours.
  Anchor other = LoadAnchor("bad/otherroot-anchor.pem");
  EXPECT_TRUE(VerifyEncryptionChain(other, LoadChain("bad/otherroot-encrypt.pem"), "localhost").ok());
  ExpectRefused(VerifyEncryptionChain(other, LoadChain("s1/encrypt-ec.pem"), "localhost"),
                "chain does not lead to any certificate in the anchor");
}

TEST_F(TrustTest, RefusesALeafWithoutItsIntermediate) {
  auto chain = LoadChain("s1/encrypt-ec.pem");
  chain.resize(1);
  ExpectRefused(VerifyEncryptionChain(anchor_, chain, "localhost"),
                "chain does not lead to any certificate in the anchor");
}

TEST_F(TrustTest, RefusesWeakKeysAndWeakSignatures) {
  ExpectRefused(VerifyEncryptionChain(anchor_, LoadChain("bad/rsa1024-encrypt.pem"), "localhost"),
                "too weak");
  ExpectRefused(VerifyEncryptionChain(anchor_, LoadChain("bad/sha1-encrypt.pem"), "localhost"),
                "weak digest");
}

TEST_F(TrustTest, ChecksRevocationOnlyWhenCrlsAreGiven) {
  auto revoked = LoadChain("bad/revoked-encrypt.pem");
  EXPECT_TRUE(VerifyEncryptionChain(anchor_, revoked, "localhost").ok());
  Anchor with_crl = LoadAnchor();
  ASSERT_TRUE(with_crl.AddCrlFile(Pki("bad/crl.pem")).ok());
  EXPECT_TRUE(with_crl.checks_revocation());
  auto r = VerifyEncryptionChain(with_crl, revoked, "localhost");
  ExpectRefused(r, "is revoked");
  EXPECT_NE(r.error().message().find("serial "), std::string::npos);
  EXPECT_TRUE(VerifyEncryptionChain(with_crl, LoadChain("s1/encrypt-ec.pem"), "localhost").ok());
  EXPECT_TRUE(VerifyTlsChain(with_crl, LoadChain("s1/tls.pem"), "localhost").ok());
}

TEST_F(TrustTest, CrlFileMustHoldOnlyCrls) {
  Anchor a = LoadAnchor();
  EXPECT_FALSE(a.AddCrlFile(Pki("anchor.pem")).ok());
}

class AnchorLoadTest : public ::testing::Test {
 protected:
  std::string Write(const std::string& text) {
    path_ = ::testing::TempDir() + "/anchor-test.pem";
    std::ofstream(path_) << text;
    return path_;
  }
  void TearDown() override { std::remove(path_.c_str()); }
  std::string path_;
};

TEST_F(AnchorLoadTest, RefusesEmptyFile) {
  auto a = Anchor::Load(Write(""));
  ASSERT_FALSE(a.ok());
  EXPECT_NE(a.error().message().find("is empty"), std::string::npos);
}

TEST_F(AnchorLoadTest, RefusesFileWithoutCertificate) {
  ASSERT_FALSE(Anchor::Load(Write("just text\n")).ok());
  auto a = Anchor::Load(Pki("bad/crl.pem"));
  ASSERT_FALSE(a.ok());
  EXPECT_NE(a.error().message().find("holds no certificate"), std::string::npos);
}

TEST_F(AnchorLoadTest, RefusesFileHoldingAPrivateKey) {
  auto a = Anchor::Load(Pki("s1/decrypt.d/ec.pem"));
  ASSERT_FALSE(a.ok());
  EXPECT_NE(a.error().message().find("private key"), std::string::npos);
}

TEST_F(AnchorLoadTest, RefusesLeafCertificatesAsAnchors) {
  auto a = Anchor::Load(Pki("s1/encrypt-ec.pem"));
  ASSERT_FALSE(a.ok());
  EXPECT_NE(a.error().message().find("not a CA certificate"), std::string::npos);
}

TEST_F(AnchorLoadTest, AcceptsSeveralRoots) {
  std::string both = *ReadFile(Pki("anchor.pem"), 1 << 20) +
                     *ReadFile(Pki("bad/otherroot-anchor.pem"), 1 << 20);
  auto a = Anchor::Load(Write(both));
  ASSERT_TRUE(a.ok()) << a.error().message();
  EXPECT_EQ(a->certificates().size(), 2u);
  EXPECT_TRUE(VerifyEncryptionChain(*a, LoadChain("s1/encrypt-ec.pem"), "localhost").ok());
  EXPECT_TRUE(VerifyEncryptionChain(*a, LoadChain("bad/otherroot-encrypt.pem"), "localhost").ok());
}

TEST(SubjectAltNames, ListsDnsAndIpNamesInOrder) {
  auto chain = LoadChain("s1/tls.pem");
  auto names = SubjectAltNames(chain[0].get());
  EXPECT_NE(std::find(names.begin(), names.end(), "localhost"), names.end());
  EXPECT_NE(std::find(names.begin(), names.end(), "127.0.0.1"), names.end());
  EXPECT_NE(std::find(names.begin(), names.end(), "::1"), names.end());
}

// Hierarchies built in memory, for rules the demo PKI has no example of.
class GeneratedChainTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = testing::Issue({.cn = "Test Root", .ca = true, .pathlen = 1}, nullptr);
    inter_ = testing::Issue({.cn = "Test Intermediate", .ca = true, .pathlen = 0}, &root_);
    auto pem = CertificateToPem(root_.cert.get());
    anchor_ = std::make_unique<Anchor>(Anchor::FromPem(*pem, "generated").value());
  }
  std::vector<X509Ptr> Chain(const testing::Issued& leaf,
                             std::vector<const testing::Issued*> cas) {
    std::vector<X509Ptr> chain;
    X509_up_ref(leaf.cert.get());
    chain.emplace_back(leaf.cert.get());
    for (const auto* ca : cas) {
      X509_up_ref(ca->cert.get());
      chain.emplace_back(ca->cert.get());
    }
    return chain;
  }
  testing::Issued Tls(std::vector<std::string> sans) {
    return testing::Issue({.cn = "localhost", .sans = std::move(sans), .eku = "serverAuth",
                           .key_usage = "digitalSignature"}, &inter_);
  }
  testing::Issued root_, inter_;
  std::unique_ptr<Anchor> anchor_;
};

TEST_F(GeneratedChainTest, WildcardCoversExactlyOneWholeLeftmostLabel) {
  auto leaf = Tls({"DNS:*.petera.test"});
  auto chain = Chain(leaf, {&inter_});
  EXPECT_TRUE(VerifyTlsChain(*anchor_, chain, "db1.petera.test").ok());
  EXPECT_FALSE(VerifyTlsChain(*anchor_, chain, "petera.test").ok());
  EXPECT_FALSE(VerifyTlsChain(*anchor_, chain, "a.db1.petera.test").ok());
}

TEST_F(GeneratedChainTest, RefusesPartialLabelWildcards) {
  auto leaf = Tls({"DNS:db*.petera.test"});
  ExpectRefused(VerifyTlsChain(*anchor_, Chain(leaf, {&inter_}), "db1.petera.test"),
                "not in subjectAltName [db*.petera.test]");
}

TEST_F(GeneratedChainTest, IpAddressesNeverMatchWildcardsOrNames) {
  auto leaf = Tls({"DNS:*.0.0.1", "DNS:127.0.0.1"});
  ExpectRefused(VerifyTlsChain(*anchor_, Chain(leaf, {&inter_}), "127.0.0.1"),
                "name 127.0.0.1 not in subjectAltName");
  auto ip = Tls({"IP:127.0.0.1"});
  EXPECT_TRUE(VerifyTlsChain(*anchor_, Chain(ip, {&inter_}), "127.0.0.1").ok());
  ExpectRefused(VerifyTlsChain(*anchor_, Chain(ip, {&inter_}), "localhost"),
                "name localhost not in subjectAltName [127.0.0.1]");
}

TEST_F(GeneratedChainTest, EnforcesPathLengthConstraints) {
  // The intermediate has pathlen:0, so it cannot issue another CA.
  auto sub = testing::Issue({.cn = "Sub CA", .ca = true}, &inter_);
  auto leaf = testing::Issue({.cn = "leaf", .sans = {"DNS:localhost"}, .eku = "serverAuth"}, &sub);
  auto r = VerifyTlsChain(*anchor_, Chain(leaf, {&sub, &inter_}), "localhost");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().category(), ErrorCategory::kTrust);
}

TEST_F(GeneratedChainTest, RefusesALeafUsedAsAnIssuer) {
  auto not_ca = testing::Issue({.cn = "Not a CA", .sans = {"DNS:x"}}, &inter_);
  auto leaf = testing::Issue({.cn = "leaf", .sans = {"DNS:localhost"}, .eku = "serverAuth"}, &not_ca);
  ASSERT_FALSE(VerifyTlsChain(*anchor_, Chain(leaf, {&not_ca, &inter_}), "localhost").ok());
}

TEST_F(GeneratedChainTest, TlsLeafNeedsTheServerAuthExtendedKeyUsage) {
  auto none = testing::Issue({.cn = "leaf", .sans = {"DNS:localhost"}}, &inter_);
  ExpectRefused(VerifyTlsChain(*anchor_, Chain(none, {&inter_}), "localhost"),
                "no serverAuth extended key usage");
  auto client = testing::Issue({.cn = "leaf", .sans = {"DNS:localhost"}, .eku = "clientAuth"}, &inter_);
  ASSERT_FALSE(VerifyTlsChain(*anchor_, Chain(client, {&inter_}), "localhost").ok());
}

TEST_F(GeneratedChainTest, EncryptionLeafKeyUsageMustAllowKeyAgreement) {
  auto signing = testing::Issue({.cn = "enc", .sans = {"DNS:localhost"},
                                 .key_usage = "digitalSignature"}, &inter_);
  ExpectRefused(VerifyEncryptionChain(*anchor_, Chain(signing, {&inter_}), "localhost"),
                "does not allow keyAgreement");
  auto agreement = testing::Issue({.cn = "enc", .sans = {"DNS:localhost"},
                                   .key_usage = "keyAgreement"}, &inter_);
  EXPECT_TRUE(VerifyEncryptionChain(*anchor_, Chain(agreement, {&inter_}), "localhost").ok());
}

// Without keyUsage X.509 allows every usage: an RSA encryption certificate
// without it would make the server's recovery a signing oracle, so neither
// key type may omit it.
TEST_F(GeneratedChainTest, EncryptionLeafWithoutKeyUsageIsRefused) {
  auto ec = testing::Issue({.cn = "enc", .sans = {"DNS:localhost"}}, &inter_);
  ExpectRefused(VerifyEncryptionChain(*anchor_, Chain(ec, {&inter_}), "localhost"),
                "has no keyUsage extension; an encryption certificate needs keyUsage keyAgreement");
  auto rsa = testing::Issue({.cn = "enc", .sans = {"DNS:localhost"}, .rsa = true}, &inter_);
  ExpectRefused(VerifyEncryptionChain(*anchor_, Chain(rsa, {&inter_}), "localhost"),
                "needs keyUsage keyEncipherment (and no signing bit)");
  ExpectRefused(VerifyStoredEncryptionChain(*anchor_, Chain(rsa, {&inter_}), "localhost"),
                "has no keyUsage extension");
}

TEST_F(GeneratedChainTest, RsaEncryptionKeyMustNotAlsoSign) {
  auto signing = testing::Issue({.cn = "enc", .sans = {"DNS:localhost"},
                                 .key_usage = "keyEncipherment,digitalSignature", .rsa = true},
                                &inter_);
  ExpectRefused(VerifyEncryptionChain(*anchor_, Chain(signing, {&inter_}), "localhost"),
                "may also sign");
  auto encipher = testing::Issue({.cn = "enc", .sans = {"DNS:localhost"},
                                  .key_usage = "keyEncipherment", .rsa = true}, &inter_);
  EXPECT_TRUE(VerifyEncryptionChain(*anchor_, Chain(encipher, {&inter_}), "localhost").ok());
}

}  // namespace
}  // namespace petera
