// Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
#include "petera/pem.h"

#include <gtest/gtest.h>

#include "test_util.h"

namespace petera {
namespace {

using testing::Pki;

std::string Read(const std::string& relative) { return *ReadFile(Pki(relative), 1 << 20); }

TEST(Pem, LoadsAChainWithItsKey) {
  auto pem = LoadPemFile(Pki("s1/decrypt.d/ec.pem"));
  ASSERT_TRUE(pem.ok()) << pem.error().message();
  EXPECT_GE(pem->certificates.size(), 1u);
  ASSERT_EQ(pem->private_keys.size(), 1u);
  EXPECT_TRUE(KeyMatchesCertificate(pem->private_keys[0].get(), pem->certificates[0].get()));
}

TEST(Pem, KeyOfAnotherCertificateDoesNotMatch) {
  auto ec = LoadPemFile(Pki("s1/decrypt.d/ec.pem"));
  auto rsa = LoadPemFile(Pki("s1/decrypt.d/rsa.pem"));
  ASSERT_TRUE(ec.ok() && rsa.ok());
  EXPECT_FALSE(KeyMatchesCertificate(ec->private_keys[0].get(), rsa->certificates[0].get()));
}

TEST(Pem, IgnoresTextOutsideBlocks) {
  std::string text = "Petera-Server: localhost:5700\n# note\n" + Read("s1/encrypt-ec.pem");
  auto pem = ParsePem(text, "x.pem");
  ASSERT_TRUE(pem.ok());
  EXPECT_EQ(pem->certificates.size(), 2u);
}

TEST(Pem, NamesTheFileAndTheBlockThatFailed) {
  std::string good = Read("anchor.pem");
  std::string broken = good + "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
  auto pem = ParsePem(broken, "chain.pem");
  ASSERT_FALSE(pem.ok());
  EXPECT_NE(pem.error().message().find("chain.pem: block 2 (CERTIFICATE)"), std::string::npos)
      << pem.error().message();
}

TEST(Pem, RefusesBrokenBase64) {
  auto pem = ParsePem("-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n", "b.pem");
  ASSERT_FALSE(pem.ok());
  EXPECT_NE(pem.error().message().find("b.pem: block 1"), std::string::npos);
}

TEST(Pem, RefusesUnknownBlockTypesAndEncryptedKeys) {
  auto unknown = ParsePem("-----BEGIN FOO-----\nAAAA\n-----END FOO-----\n", "f.pem");
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.error().message().find("'FOO'"), std::string::npos);
  auto enc = ParsePem("-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n", "k.pem");
  ASSERT_FALSE(enc.ok());
  EXPECT_NE(enc.error().message().find("encrypted"), std::string::npos);
}

TEST(Pem, RefusesTextWithoutPem) {
  EXPECT_FALSE(ParsePem("", "e.pem").ok());
  EXPECT_FALSE(ParsePem("hello\n", "e.pem").ok());
}

TEST(Pem, RefusesFilesOverTheLimitAndMissingFiles) {
  std::string big(kMaxPemBytes + 1, 'a');
  auto pem = ParsePem(big, "big.pem");
  ASSERT_FALSE(pem.ok());
  EXPECT_EQ(pem.error().category(), ErrorCategory::kTooLarge);
  auto missing = LoadPemFile("/nonexistent/petera.pem");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message().find("/nonexistent/petera.pem"), std::string::npos);
}

TEST(Pem, RoundTripsCertificatesThroughPemAndDer) {
  auto chain = testing::LoadChain("s1/encrypt-ec.pem");
  auto der = CertificateToDer(chain[0].get());
  ASSERT_TRUE(der.ok());
  auto back = CertificateFromDer(*der);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(X509_cmp(back->get(), chain[0].get()), 0);
  auto pem = CertificateToPem(chain[0].get());
  ASSERT_TRUE(pem.ok());
  EXPECT_EQ(pem->rfind("-----BEGIN CERTIFICATE-----", 0), 0u);
  auto der_trailing = *der;
  der_trailing.push_back(0);
  EXPECT_FALSE(CertificateFromDer(der_trailing).ok());
}

TEST(Pem, DescribesNamesAndDates) {
  auto chain = testing::LoadChain("bad/expired-encrypt.pem");
  EXPECT_EQ(NotAfterDate(chain[0].get()), "2021-01-01");
  EXPECT_EQ(NotBeforeDate(chain[0].get()), "2020-01-01");
  EXPECT_NE(SubjectName(chain[0].get()).find("CN="), std::string::npos);
}

}  // namespace
}  // namespace petera
