// Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
#include "peterad/keystore.h"

#include <gtest/gtest.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "petera/pem.h"
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

// The first certificate of a PEM file.
X509Ptr LeafCertificate(const std::string& path) {
  auto pem = LoadPemFile(path);
  if (!pem.ok() || pem->certificates.empty()) return nullptr;
  return std::move(pem->certificates.front());
}

std::string PemOf(EVP_PKEY* private_key, X509* cert) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509(bio.get(), cert) != 1 ||
      PEM_write_bio_PrivateKey(bio.get(), private_key, nullptr, nullptr, 0, nullptr,
                               nullptr) != 1) {
    return "";
  }
  char* data = nullptr;
  long size = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(size));
}

// A certificate for `subject_key` signed by `signing_key`, valid from 2020
// to 2045, with a keyUsage extension when `usage` is given (openssl
// configuration syntax, e.g. "critical,keyEncipherment").
X509Ptr SelfSigned(EVP_PKEY* signing_key, EVP_PKEY* subject_key, const char* cn,
                   const char* usage = nullptr) {
  X509Ptr cert(X509_new());
  if (!cert) return nullptr;
  OsslPtr<X509_EXTENSION, X509_EXTENSION_free> ext;
  if (usage != nullptr) {
    ext.reset(X509V3_EXT_nconf_nid(nullptr, nullptr, NID_key_usage, usage));
    if (!ext || X509_add_ext(cert.get(), ext.get(), -1) != 1) return nullptr;
  }
  X509_NAME* name = X509_get_subject_name(cert.get());
  bool ok = X509_set_version(cert.get(), X509_VERSION_3) == 1 &&
            ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 7) == 1 &&
            X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                       reinterpret_cast<const unsigned char*>(cn), -1, -1,
                                       0) == 1 &&
            X509_set_issuer_name(cert.get(), name) == 1 &&
            ASN1_TIME_set(X509_getm_notBefore(cert.get()), Utc(2020, 1, 1)) != nullptr &&
            ASN1_TIME_set(X509_getm_notAfter(cert.get()), Utc(2045, 1, 1)) != nullptr &&
            X509_set_pubkey(cert.get(), subject_key) == 1 &&
            X509_sign(cert.get(), signing_key, EVP_sha256()) > 0;
  return ok ? std::move(cert) : nullptr;
}

// A self-signed P-256 certificate whose SubjectPublicKeyInfo holds the
// compressed point: a valid encoding that OpenSSL does not write for the
// private key, so that its KeyId and KeyIdOfCertificate differ.
X509Ptr CompressedPointCertificate(EVP_PKEY* key) {
  EvpPkeyPtr compressed(EVP_PKEY_dup(key));
  if (!compressed ||
      EVP_PKEY_set_utf8_string_param(compressed.get(), OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT,
                                     OSSL_PKEY_EC_POINT_CONVERSION_FORMAT_COMPRESSED) != 1) {
    return nullptr;
  }
  return SelfSigned(key, compressed.get(), "compressed", "critical,keyAgreement");
}

TEST_F(KeyStoreTest, FindsTheKidClientsComputeFromTheEncryptionCertificate) {
  auto store = Load();
  ASSERT_TRUE(store.ok()) << store.error().message();
  X509Ptr leaf = LeafCertificate(Pki("s1/encrypt-ec.pem"));
  ASSERT_NE(leaf, nullptr);
  auto kid = KeyIdOfCertificate(leaf.get());
  ASSERT_TRUE(kid.ok()) << kid.error().message();
  EXPECT_NE(store.value()->Find(*kid), nullptr);
  EXPECT_EQ(store.value()->encryption_kid(), *kid);
}

TEST_F(KeyStoreTest, FindsAKeyWhoseCertificateEncodesThePublicKeyDifferently) {
  EvpPkeyPtr key(EVP_EC_gen("P-256"));
  ASSERT_NE(key, nullptr);
  X509Ptr cert = CompressedPointCertificate(key.get());
  ASSERT_NE(cert, nullptr);
  auto cert_kid = KeyIdOfCertificate(cert.get());
  auto canonical_kid = KeyId(key.get());
  ASSERT_TRUE(cert_kid.ok() && canonical_kid.ok());
  ASSERT_NE(*cert_kid, *canonical_kid) << "the certificate must encode the key differently";
  WriteText(decrypt_ + "/compressed.pem", PemOf(key.get(), cert.get()), 0600);
  auto cert_pem = CertificateToPem(cert.get());
  ASSERT_TRUE(cert_pem.ok());
  WriteText(encrypt_, *cert_pem, 0644);  // the leaf-has-a-key check must find it too

  auto store = Load();
  ASSERT_TRUE(store.ok()) << store.error().message();
  const KeyStore& keys = *store.value();
  EXPECT_EQ(keys.key_count(), 3u);
  const RecoveryKey* found = keys.Find(*cert_kid);
  ASSERT_NE(found, nullptr);
  EXPECT_EQ(EVP_PKEY_eq(found->pkey(), key.get()), 1);
  EXPECT_EQ(keys.Find(*canonical_kid), found);
  EXPECT_EQ(keys.encryption_kid(), *cert_kid);
}

// A self-signed certificate for `key` with the given keyUsage.
X509Ptr CertificateWithUsage(EVP_PKEY* key, const char* usage) {
  return SelfSigned(key, key, "usage", usage);
}

// Recovery applies an RSA key to whatever a client sends: with a
// certificate that lets it sign, the server would be a signing oracle.
TEST_F(KeyStoreTest, RefusesAnRsaDecryptionKeyWhoseCertificateMaySign) {
  EvpPkeyPtr key(EVP_RSA_gen(2048));
  ASSERT_NE(key, nullptr);
  X509Ptr cert = CertificateWithUsage(key.get(), "critical,keyEncipherment,digitalSignature");
  ASSERT_NE(cert, nullptr);
  WriteText(decrypt_ + "/signer.pem", PemOf(key.get(), cert.get()), 0600);
  ExpectRefusal({decrypt_ + "/signer.pem", "may also sign", "keyEncipherment alone"});
}

TEST_F(KeyStoreTest, RefusesAnEncryptionCertificateWhoseRsaKeyMaySign) {
  // The key file's certificate is fine; the one served to clients, for the
  // same key, allows signing.
  EvpPkeyPtr key(EVP_RSA_gen(2048));
  ASSERT_NE(key, nullptr);
  X509Ptr stored = CertificateWithUsage(key.get(), "critical,keyEncipherment");
  X509Ptr served = CertificateWithUsage(key.get(), "critical,keyEncipherment,nonRepudiation");
  ASSERT_TRUE(stored && served);
  WriteText(decrypt_ + "/rsa2.pem", PemOf(key.get(), stored.get()), 0600);
  ASSERT_TRUE(Load().ok()) << "the key file alone is acceptable";
  auto served_pem = CertificateToPem(served.get());
  ASSERT_TRUE(served_pem.ok());
  WriteText(encrypt_, *served_pem, 0644);
  ExpectRefusal({encrypt_, "may also sign"});
}

// What `openssl x509 -req` makes without an extensions file: X.509 lets a
// certificate without keyUsage do everything, signing included.
TEST_F(KeyStoreTest, RefusesAnRsaDecryptionKeyWhoseCertificateHasNoKeyUsage) {
  EvpPkeyPtr key(EVP_RSA_gen(2048));
  ASSERT_NE(key, nullptr);
  X509Ptr cert = SelfSigned(key.get(), key.get(), "no usage");
  ASSERT_NE(cert, nullptr);
  WriteText(decrypt_ + "/no-usage.pem", PemOf(key.get(), cert.get()), 0600);
  ExpectRefusal({decrypt_ + "/no-usage.pem", "has no keyUsage extension", "keyEncipherment alone"});
}

TEST_F(KeyStoreTest, RefusesAnEcKeyWhoseCertificateDoesNotAllowKeyAgreement) {
  EvpPkeyPtr key(EVP_EC_gen("P-256"));
  ASSERT_NE(key, nullptr);
  X509Ptr cert = CertificateWithUsage(key.get(), "critical,digitalSignature");
  ASSERT_NE(cert, nullptr);
  WriteText(decrypt_ + "/ec-signing.pem", PemOf(key.get(), cert.get()), 0600);
  ExpectRefusal({decrypt_ + "/ec-signing.pem", "does not allow keyAgreement"});
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

// A FIFO in place of a file used to hang open() at start and on reload.
// Each case below would block forever on the old code (ctest's timeout).
TEST_F(KeyStoreTest, RefusesAFifoInPlaceOfEncryptPemAtOnce) {
  ASSERT_EQ(unlink(encrypt_.c_str()), 0);
  ASSERT_EQ(mkfifo(encrypt_.c_str(), 0644), 0);
  ExpectRefusal({encrypt_, "not a regular file", "put a PEM file there"});
}

TEST_F(KeyStoreTest, RefusesAFifoInPlaceOfTlsPemAtOnce) {
  ASSERT_EQ(unlink(tls_.c_str()), 0);
  ASSERT_EQ(mkfifo(tls_.c_str(), 0600), 0);
  ExpectRefusal({tls_, "not a regular file"});
}

TEST_F(KeyStoreTest, SkipsAFifoOrADeviceInDecryptD) {
  ASSERT_EQ(mkfifo((decrypt_ + "/fifo.pem").c_str(), 0600), 0);
  ASSERT_EQ(symlink("/dev/null", (decrypt_ + "/null.pem").c_str()), 0);
  auto store = Load();
  ASSERT_TRUE(store.ok()) << store.error().message();
  EXPECT_EQ(store.value()->key_count(), 2u);
  EXPECT_TRUE(Contains(store.value()->notes(), "fifo.pem: skipped, not a regular file"));
  EXPECT_TRUE(Contains(store.value()->notes(), "null.pem: skipped, not a regular file"));
}

TEST_F(KeyStoreTest, RefusesADecryptDirectoryOthersOrItsGroupMayWrite) {
  ASSERT_EQ(chmod(decrypt_.c_str(), 0777), 0);
  ExpectRefusal({decrypt_, "writable by other users", "chmod go-w " + decrypt_});
  ASSERT_EQ(chmod(decrypt_.c_str(), 0770), 0);
  ExpectRefusal({decrypt_, "writable by its group", "chmod go-w " + decrypt_});
  ASSERT_EQ(chmod(decrypt_.c_str(), 0750), 0);
  EXPECT_TRUE(Load().ok()) << "group read is fine";
  // Sticky, as a Kubernetes Secret volume is: others cannot replace ours.
  ASSERT_EQ(chmod(decrypt_.c_str(), 01777), 0);
  EXPECT_TRUE(Load().ok()) << "sticky: others may add files but not replace ours";
}

// How Kubernetes mounts a Secret: each key a symlink through "..data" to
// a hidden, timestamped directory.
TEST_F(KeyStoreTest, LoadsAKubernetesStyleSymlinkedSecret) {
  std::string dir = dir_.MakeDir("secret");
  std::string stamped = dir + "/..2026_12_05_00_00_00.000000001";
  ASSERT_EQ(mkdir(stamped.c_str(), 0755), 0);
  WriteText(stamped + "/ec.pem", ReadText(Pki("s1/decrypt.d/ec.pem")), 0600);
  WriteText(stamped + "/rsa.pem", ReadText(Pki("s1/decrypt.d/rsa.pem")), 0600);
  ASSERT_EQ(symlink("..2026_12_05_00_00_00.000000001", (dir + "/..data").c_str()), 0);
  ASSERT_EQ(symlink("..data/ec.pem", (dir + "/ec.pem").c_str()), 0);
  ASSERT_EQ(symlink("..data/rsa.pem", (dir + "/rsa.pem").c_str()), 0);
  ASSERT_EQ(chmod(dir.c_str(), 01777), 0);
  auto store = KeyStore::Load(KeyStorePaths{tls_, encrypt_, dir}, Utc(2030, 1, 1));
  ASSERT_TRUE(store.ok()) << store.error().message();
  EXPECT_EQ(store.value()->key_count(), 2u);
  // The permission check applies to the file the link leads to.
  ASSERT_EQ(chmod((stamped + "/ec.pem").c_str(), 0644), 0);
  auto loose = KeyStore::Load(KeyStorePaths{tls_, encrypt_, dir}, Utc(2030, 1, 1));
  ASSERT_FALSE(loose.ok());
  EXPECT_NE(loose.error().message().find("readable by other users"), std::string::npos);
}

}  // namespace
}  // namespace petera::peterad
