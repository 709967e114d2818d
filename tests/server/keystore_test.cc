// Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
#include "peterad/keystore.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <string>
#include <vector>

#include "petera/recovery.h"
#include "server_test_util.h"

namespace petera::peterad {
namespace {

using ::petera::testing::LeafPublicKey;
using ::petera::testing::PemBlocks;
using ::petera::testing::Pki;
using ::petera::testing::ReadText;
using ::petera::testing::TempDir;
using ::petera::testing::Utc;
using ::petera::testing::WriteText;

// A copy of demo server s1 (EC encryption chain, EC and RSA decryption keys)
// that each test may break in one way.
class KeyStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    WriteText(tls_, ReadText(Pki("s1/tls.pem")), 0600);
    WriteText(encrypt_, ReadText(Pki("s1/encrypt-ec.pem")), 0644);
    WriteText(decrypt_ + "/ec.pem", ReadText(Pki("s1/decrypt.d/ec.pem")), 0600);
    WriteText(decrypt_ + "/rsa.pem", ReadText(Pki("s1/decrypt.d/rsa.pem")), 0600);
  }

  Result<std::shared_ptr<const KeyStore>> Load(std::time_t now = Utc(2030, 1, 1)) {
    return KeyStore::Load(KeyStorePaths{tls_, encrypt_, decrypt_}, now);
  }

  // Loading fails with one message containing every fragment.
  void ExpectRefusal(const std::vector<std::string>& fragments) {
    auto store = Load();
    ASSERT_FALSE(store.ok()) << "loaded although it should refuse";
    EXPECT_EQ(store.error().category(), ErrorCategory::kUsage);
    for (const std::string& fragment : fragments) {
      EXPECT_NE(store.error().message().find(fragment), std::string::npos)
          << "message: " << store.error().message() << "\nmissing: " << fragment;
    }
    EXPECT_EQ(store.error().message().find('\n'), std::string::npos) << "one line only";
  }

  static bool Contains(const std::vector<std::string>& lines, const std::string& fragment) {
    for (const std::string& line : lines) {
      if (line.find(fragment) != std::string::npos) return true;
    }
    return false;
  }

  TempDir dir_;
  std::string tls_ = dir_ / "tls.pem";
  std::string encrypt_ = dir_ / "encrypt.pem";
  std::string decrypt_ = dir_.MakeDir("decrypt.d");
};

TEST_F(KeyStoreTest, LoadsEveryDecryptionKeyAndTheEncryptionChain) {
  auto store = Load();
  ASSERT_TRUE(store.ok()) << store.error().message();
  const KeyStore& keys = *store.value();
  EXPECT_EQ(keys.key_count(), 2u);
  EXPECT_EQ(keys.chain_pem(), PemBlocks(ReadText(encrypt_), "CERTIFICATE"));
  auto kid = KeyId(LeafPublicKey(encrypt_).get());
  ASSERT_TRUE(kid.ok());
  EXPECT_EQ(keys.encryption_kid(), *kid);
  ASSERT_NE(keys.Find(*kid), nullptr);
  auto rsa_kid = KeyId(LeafPublicKey(decrypt_ + "/rsa.pem").get());
  ASSERT_TRUE(rsa_kid.ok());
  EXPECT_NE(keys.Find(*rsa_kid), nullptr);
  EXPECT_EQ(keys.Find("no-such-kid"), nullptr);
  EXPECT_EQ(keys.tls_chain().size(), 2u);
  EXPECT_NE(keys.tls_key(), nullptr);
  EXPECT_NE(keys.encryption_subject().find("s1.petera.test"), std::string::npos);
  EXPECT_EQ(keys.encryption_not_after(), "2045-01-01");
  EXPECT_TRUE(keys.warnings().empty());
}

TEST_F(KeyStoreTest, ServesAnRsaEncryptionChain) {
  WriteText(encrypt_, ReadText(Pki("s1/encrypt-rsa.pem")), 0644);
  auto store = Load();
  ASSERT_TRUE(store.ok()) << store.error().message();
  EXPECT_EQ(store.value()->chain_pem(), PemBlocks(ReadText(encrypt_), "CERTIFICATE"));
}

TEST_F(KeyStoreTest, RefusesAPrivateKeyInEncryptPem) {
  std::string key = PemBlocks(ReadText(decrypt_ + "/ec.pem"), "PRIVATE KEY");
  WriteText(encrypt_, ReadText(encrypt_) + key, 0600);
  ExpectRefusal({encrypt_, "contains a private key", "remove the key block"});
}

TEST_F(KeyStoreTest, RefusesAKeyFileReadableByOthers) {
  chmod((decrypt_ + "/ec.pem").c_str(), 0604);
  ExpectRefusal({"readable by other users", "chmod 600 " + decrypt_ + "/ec.pem"});
}

TEST_F(KeyStoreTest, RefusesAKeyFileWritableByOthers) {
  chmod((decrypt_ + "/rsa.pem").c_str(), 0602);
  ExpectRefusal({"writable by other users", "chmod 600 " + decrypt_ + "/rsa.pem"});
}

TEST_F(KeyStoreTest, RefusesAKeyFileWritableByItsGroup) {
  chmod((decrypt_ + "/ec.pem").c_str(), 0620);
  ExpectRefusal({"writable by its group", "chmod 600 " + decrypt_ + "/ec.pem"});
}

TEST_F(KeyStoreTest, AcceptsAKeyFileReadableByItsGroup) {
  chmod((decrypt_ + "/ec.pem").c_str(), 0640);
  chmod(tls_.c_str(), 0640);
  auto store = Load();
  EXPECT_TRUE(store.ok()) << store.error().message();
}

TEST_F(KeyStoreTest, RefusesAWorldReadableTlsKeyFile) {
  chmod(tls_.c_str(), 0644);
  ExpectRefusal({"readable by other users", "chmod 600 " + tls_});
}

TEST(KeyFilePermissions, NamesTheChownThatFixesAForeignOwner) {
  Status status = CheckKeyFilePermissions("/k.pem", 0100600, 12345, 0);
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.error().message().find("chown root /k.pem"), std::string::npos)
      << status.error().message();
}

TEST(KeyFilePermissions, AcceptsFilesOfRootOrOfTheServiceUser) {
  EXPECT_TRUE(CheckKeyFilePermissions("/k.pem", 0100600, 0, 999).ok());
  EXPECT_TRUE(CheckKeyFilePermissions("/k.pem", 0100400, 999, 999).ok());
  EXPECT_TRUE(CheckKeyFilePermissions("/k.pem", 0100640, 999, 999).ok());
}

TEST_F(KeyStoreTest, RefusesAnEncryptionLeafWithoutItsDecryptionKey) {
  ASSERT_EQ(unlink((decrypt_ + "/ec.pem").c_str()), 0);
  ExpectRefusal({encrypt_, "has no private key in " + decrypt_, "add a file"});
}

TEST_F(KeyStoreTest, RefusesATlsKeyThatIsAlsoAnEncryptionKey) {
  WriteText(tls_, ReadText(decrypt_ + "/ec.pem"), 0600);
  ExpectRefusal({tls_, "also an encryption key", "separate key for TLS"});
}

TEST_F(KeyStoreTest, RefusesAnUnparsableEncryptPem) {
  WriteText(encrypt_, "-----BEGIN CERTIFICATE-----\nnot base64 at all!\n-----END CERTIFICATE-----\n",
            0644);
  ExpectRefusal({encrypt_, "fix or replace the file"});
}

TEST_F(KeyStoreTest, RefusesAnUnparsableDecryptionFile) {
  WriteText(decrypt_ + "/junk.pem", "hello\n", 0600);
  ExpectRefusal({decrypt_ + "/junk.pem"});
}

TEST_F(KeyStoreTest, RefusesADecryptionKeyThatDoesNotMatchItsCertificate) {
  std::string cert = PemBlocks(ReadText(decrypt_ + "/ec.pem"), "CERTIFICATE");
  std::string other_key = PemBlocks(ReadText(Pki("s1/decrypt.d/p384.pem")), "PRIVATE KEY");
  WriteText(decrypt_ + "/ec.pem", cert + other_key, 0600);
  ExpectRefusal({decrypt_ + "/ec.pem", "does not belong to the first certificate"});
}

TEST_F(KeyStoreTest, RefusesATlsKeyThatDoesNotMatchItsCertificate) {
  std::string cert = PemBlocks(ReadText(tls_), "CERTIFICATE");
  std::string other_key = PemBlocks(ReadText(Pki("s2/tls.pem")), "PRIVATE KEY");
  WriteText(tls_, cert + other_key, 0600);
  ExpectRefusal({tls_, "does not belong to the first certificate"});
}

TEST_F(KeyStoreTest, RefusesATlsFileWithoutKey) {
  WriteText(tls_, PemBlocks(ReadText(tls_), "CERTIFICATE"), 0600);
  ExpectRefusal({tls_, "exactly one private key"});
}

TEST_F(KeyStoreTest, RefusesAnEmptyDecryptDirectory) {
  ASSERT_EQ(unlink((decrypt_ + "/ec.pem").c_str()), 0);
  ASSERT_EQ(unlink((decrypt_ + "/rsa.pem").c_str()), 0);
  ExpectRefusal({decrypt_, "holds no key files"});
}

TEST_F(KeyStoreTest, RefusesMissingFiles) {
  ASSERT_EQ(unlink(tls_.c_str()), 0);
  ExpectRefusal({tls_});
}

TEST_F(KeyStoreTest, IgnoresHiddenFilesInTheDecryptDirectory) {
  WriteText(decrypt_ + "/.editor-swap", "garbage", 0644);
  auto store = Load();
  ASSERT_TRUE(store.ok()) << store.error().message();
  EXPECT_EQ(store.value()->key_count(), 2u);
}

TEST_F(KeyStoreTest, NotesTheSameKeyTwice) {
  WriteText(decrypt_ + "/ec-copy.pem", ReadText(decrypt_ + "/ec.pem"), 0600);
  auto store = Load();
  ASSERT_TRUE(store.ok()) << store.error().message();
  EXPECT_EQ(store.value()->key_count(), 2u);
  EXPECT_TRUE(Contains(store.value()->notes(), "same key as an earlier file"));
}

TEST_F(KeyStoreTest, AnExpiredDecryptionCertificateIsOnlyNoted) {
  WriteText(decrypt_ + "/old.pem",
            ReadText(Pki("bad/expired-encrypt.pem")) + ReadText(Pki("bad/expired-encrypt-key.pem")),
            0600);
  auto store = Load();
  ASSERT_TRUE(store.ok()) << store.error().message();
  EXPECT_EQ(store.value()->key_count(), 3u);
  EXPECT_TRUE(Contains(store.value()->notes(), "expired on 2021-01-01"));
  EXPECT_TRUE(store.value()->warnings().empty());
}

TEST_F(KeyStoreTest, AnExpiredEncryptionCertificateIsALoudWarningNotARefusal) {
  WriteText(decrypt_ + "/old.pem",
            ReadText(Pki("bad/expired-encrypt.pem")) + ReadText(Pki("bad/expired-encrypt-key.pem")),
            0600);
  WriteText(encrypt_, ReadText(Pki("bad/expired-encrypt.pem")), 0644);
  auto store = Load();
  ASSERT_TRUE(store.ok()) << store.error().message();
  EXPECT_TRUE(Contains(store.value()->warnings(), "EXPIRED on 2021-01-01"));
}

TEST_F(KeyStoreTest, CertificatesExpiringWithin30DaysAreWarned) {
  auto store = Load(Utc(2044, 12, 15));
  ASSERT_TRUE(store.ok()) << store.error().message();
  const auto& warnings = store.value()->warnings();
  EXPECT_TRUE(Contains(warnings, "TLS certificate")) << warnings.size();
  EXPECT_TRUE(Contains(warnings, "encryption certificate"));
  EXPECT_TRUE(Contains(warnings, "expires on 2045-01-01 (in 17 days)"));
}

TEST_F(KeyStoreTest, CertificatesExpiringLaterAreNotWarned) {
  auto store = Load(Utc(2044, 11, 1));
  ASSERT_TRUE(store.ok()) << store.error().message();
  EXPECT_TRUE(store.value()->warnings().empty());
}

TEST_F(KeyStoreTest, ExpiredTlsCertificateIsALoudWarningNotARefusal) {
  auto store = Load(Utc(2046, 1, 1));
  ASSERT_TRUE(store.ok()) << store.error().message();
  EXPECT_TRUE(Contains(store.value()->warnings(), "TLS certificate"));
  EXPECT_TRUE(Contains(store.value()->warnings(), "EXPIRED on 2045-01-01"));
}

}  // namespace
}  // namespace petera::peterad
