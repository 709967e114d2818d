// Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
#include "client_credential.h"

#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "cert_factory.h"
#include "https_client.h"
#include "petera/pem.h"

namespace petera::client {
namespace {

using ::petera::testing::CertSpec;
using ::petera::testing::Issue;
using ::petera::testing::Issued;

std::string CertPem(X509* cert) { return CertificateToPem(cert).value(); }

std::string KeyPem(EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(n));
}

class ClientCredentialTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char templ[] = "/tmp/petera-credential-XXXXXX";
    ASSERT_NE(mkdtemp(templ), nullptr);
    dir_ = templ;
    ca_ = Issue(CertSpec{.cn = "Client CA", .ca = true}, nullptr);
    client_ = Issue(CertSpec{.cn = "laptop", .sans = {"DNS:laptop.example.net"},
                             .eku = "clientAuth", .key_usage = "digitalSignature"},
                    &ca_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string Write(const std::string& name, const std::string& text, mode_t mode) {
    std::string path = dir_ + "/" + name;
    std::ofstream(path) << text;
    chmod(path.c_str(), mode);
    return path;
  }

  void ExpectRefused(const std::string& cert, const std::string& key,
                     const std::string& fragment) {
    auto loaded = LoadClientCredential(cert, key);
    ASSERT_FALSE(loaded.ok()) << "loaded " << cert;
    EXPECT_EQ(loaded.error().category(), ErrorCategory::kUsage);
    EXPECT_NE(loaded.error().message().find(fragment), std::string::npos)
        << loaded.error().message() << "\nmissing: " << fragment;
  }

  std::string dir_;
  Issued ca_;
  Issued client_;
};

TEST_F(ClientCredentialTest, LoadsACertificateWithItsChainAndKey) {
  std::string path = Write("client.pem",
                           CertPem(client_.cert.get()) + CertPem(ca_.cert.get()) +
                               KeyPem(client_.key.get()),
                           0600);
  auto loaded = LoadClientCredential(path, "");
  ASSERT_TRUE(loaded.ok()) << loaded.error().message();
  EXPECT_EQ((*loaded)->chain.size(), 2u);
  EXPECT_EQ(X509_cmp((*loaded)->chain.front().get(), client_.cert.get()), 0);
  // And a TLS context takes it.
  auto tls = MakeTlsContext(loaded->get());
  ASSERT_TRUE(tls.ok()) << tls.error().message();
  EXPECT_EQ(X509_cmp(SSL_CTX_get0_certificate((*tls)->native_handle()), client_.cert.get()), 0);
}

TEST_F(ClientCredentialTest, TakesTheKeyFromASeparateFile) {
  std::string cert = Write("client.pem", CertPem(client_.cert.get()), 0644);
  std::string key = Write("client.key", KeyPem(client_.key.get()), 0600);
  auto loaded = LoadClientCredential(cert, key);
  ASSERT_TRUE(loaded.ok()) << loaded.error().message();
  ExpectRefused(cert, "", "no private key; add it to the file or name it with --key");
}

TEST_F(ClientCredentialTest, RefusesKeyFilesOthersMayReadOrWrite) {
  std::string both = CertPem(client_.cert.get()) + KeyPem(client_.key.get());
  ExpectRefused(Write("a.pem", both, 0644), "", "other users may read it; run: chmod 600");
  ExpectRefused(Write("b.pem", both, 0620), "", "others may write it");
  std::string cert = Write("c.pem", CertPem(client_.cert.get()), 0644);
  ExpectRefused(cert, Write("c.key", KeyPem(client_.key.get()), 0604), "other users may read");
  EXPECT_TRUE(LoadClientCredential(Write("d.pem", both, 0640), "").ok());  // group may read
}

TEST_F(ClientCredentialTest, RefusesMismatchesAndServerOnlyCertificates) {
  Issued other = Issue(CertSpec{.cn = "other", .eku = "clientAuth"}, &ca_);
  ExpectRefused(Write("a.pem", CertPem(client_.cert.get()) + KeyPem(other.key.get()), 0600), "",
                "the private key does not belong to the first certificate");
  Issued server = Issue(CertSpec{.cn = "server", .eku = "serverAuth"}, &ca_);
  ExpectRefused(Write("b.pem", CertPem(server.cert.get()) + KeyPem(server.key.get()), 0600), "",
                "not for client authentication");
  ExpectRefused(Write("c.pem", KeyPem(client_.key.get()), 0600), "", "no certificate");
  std::string both = Write("d.pem", CertPem(client_.cert.get()) + KeyPem(client_.key.get()), 0600);
  ExpectRefused(both, Write("d.key", KeyPem(client_.key.get()), 0600), "more than one private key");
  ExpectRefused(dir_ + "/missing.pem", "", "No such file");
  ExpectRefused(dir_, "", "not a regular file");
}

TEST_F(ClientCredentialTest, ATpmKeyThatCannotBeReachedIsRefusedSayingSo) {
  // No TPM here (tests/client/tpm_test.sh uses a software one): the
  // provider cannot start, or the key cannot be loaded. Either way a
  // one-line usage error that names the TPM, not a crash.
  std::string cert = Write("client.pem", CertPem(client_.cert.get()), 0644);
  std::string tss2 = Write("client.tss2.pem",
                           "-----BEGIN TSS2 PRIVATE KEY-----\nMAA=\n-----END TSS2 PRIVATE KEY-----\n",
                           0600);
  for (const std::string& key : {std::string("handle:0x81000001"), tss2}) {
    auto loaded = LoadClientCredential(cert, key);
    ASSERT_FALSE(loaded.ok()) << key;
    EXPECT_EQ(loaded.error().category(), ErrorCategory::kUsage);
    EXPECT_NE(loaded.error().message().find("TPM"), std::string::npos)
        << loaded.error().message();
    EXPECT_EQ(loaded.error().message().find('\n'), std::string::npos);
  }
}

TEST(ClientKeyFilePermissions, NameTheFix) {
  EXPECT_TRUE(CheckClientKeyFilePermissions("k", 0100600, 0, 1000).ok());
  EXPECT_TRUE(CheckClientKeyFilePermissions("k", 0100640, 1000, 1000).ok());
  auto other_user = CheckClientKeyFilePermissions("k", 0100600, 1001, 1000);
  ASSERT_FALSE(other_user.ok());
  EXPECT_NE(other_user.error().message().find("belongs to another user; run: chown 1000 k"),
            std::string::npos);
}

}  // namespace
}  // namespace petera::client
