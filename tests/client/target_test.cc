// Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
#include "target.h"

#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "cert_factory.h"
#include "petera/pem.h"

namespace petera::client {
namespace {

namespace fs = std::filesystem;
using testing::CertSpec;
using testing::Issue;
using testing::Issued;

std::string Pem(const Issued& issued) { return CertificateToPem(issued.cert.get()).value(); }

std::string KeyPem(EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(n));
}

std::vector<X509Ptr> ChainOf(const Issued& leaf) {
  std::vector<X509Ptr> chain;
  X509_up_ref(leaf.cert.get());
  chain.emplace_back(leaf.cert.get());
  return chain;
}

class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "petera-client-test-XXXXXX").string();
    path_ = mkdtemp(pattern.data());
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  std::string Write(const std::string& name, const std::string& text) const {
    std::string path = (fs::path(path_) / name).string();
    std::ofstream(path, std::ios::binary) << text;
    return path;
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

TEST(ParseTarget, ReadsHostsWithAndWithoutPort) {
  auto plain = ParseTarget("keys.example.net");
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->kind, Target::Kind::kHost);
  EXPECT_EQ(plain->address.host, "keys.example.net");
  EXPECT_EQ(plain->address.port, kDefaultPort);

  auto v6 = ParseTarget("[::1]:5701");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->address.host, "::1");
  EXPECT_EQ(v6->address.port, 5701);
}

TEST(ParseTarget, AnExistingRegularFileIsAnOfflineTarget) {
  TempDir dir;
  std::string path = dir.Write("s1.pem", "x");
  auto target = ParseTarget(path);
  ASSERT_TRUE(target.ok());
  EXPECT_EQ(target->kind, Target::Kind::kFile);
  EXPECT_EQ(target->text, path);
}

TEST(ParseTarget, AMissingPemFileIsAnErrorNotAHostName) {
  auto target = ParseTarget("surely-missing-file.pem");
  ASSERT_FALSE(target.ok());
  EXPECT_EQ(target.error().category(), ErrorCategory::kUsage);
  EXPECT_NE(target.error().message().find("no such file"), std::string::npos);
}

TEST(ParseTarget, RefusesADirectory) {
  TempDir dir;
  auto target = ParseTarget(dir.path());
  ASSERT_FALSE(target.ok());
  EXPECT_NE(target.error().message().find("not a regular file"), std::string::npos);
}

TEST(ParseTarget, RefusesAnInvalidAddress) {
  auto target = ParseTarget("bad host");
  ASSERT_FALSE(target.ok());
  EXPECT_EQ(target.error().category(), ErrorCategory::kUsage);
}

class ServerPemTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = Issue({.cn = "Root", .ca = true}, nullptr);
    leaf_ = Issue({.cn = "s1", .sans = {"DNS:s1.test", "IP:127.0.0.1"},
                   .key_usage = "keyAgreement"},
                  &root_);
  }
  Issued root_;
  Issued leaf_;
};

TEST_F(ServerPemTest, FormatAndParseRoundTrip) {
  Address address{"::1", 5701};
  auto text = FormatServerPem(address, ChainOf(leaf_));
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(text->rfind("Petera-Server: [::1]:5701\n-----BEGIN CERTIFICATE-----", 0), 0u);
  auto parsed = ParseServerPem(*text, "test");
  ASSERT_TRUE(parsed.ok());
  ASSERT_TRUE(parsed->address.has_value());
  EXPECT_EQ(*parsed->address, address);
  ASSERT_EQ(parsed->chain.size(), 1u);
  EXPECT_EQ(X509_cmp(parsed->chain[0].get(), leaf_.cert.get()), 0);
}

TEST_F(ServerPemTest, WithoutServerLineTheAddressComesFromTheFirstDnsName) {
  auto parsed = ParseServerPem(Pem(leaf_), "test");
  ASSERT_TRUE(parsed.ok());
  EXPECT_FALSE(parsed->address.has_value());
  auto address = ServerAddressOf(*parsed);
  ASSERT_TRUE(address.ok());
  EXPECT_EQ(address->host, "s1.test");
  EXPECT_EQ(address->port, kDefaultPort);
}

TEST(AddressFromLeaf, FallsBackToTheFirstIpWhenThereIsNoUsableDnsName) {
  auto leaf = Issue({.cn = "x", .sans = {"DNS:*.example.net", "IP:10.1.2.3", "IP:10.9.9.9"}},
                    nullptr);
  auto address = AddressFromLeaf(leaf.cert.get());
  ASSERT_TRUE(address.ok());
  EXPECT_EQ(address->host, "10.1.2.3");
}

TEST(AddressFromLeaf, TakesABareIpv6SubjectAltName) {
  // SANs hold IPv6 addresses without brackets; ParseAddress would refuse them.
  auto leaf = Issue({.cn = "x", .sans = {"DNS:*.example.net", "IP:2001:db8::7", "IP:::1"}},
                    nullptr);
  auto address = AddressFromLeaf(leaf.cert.get());
  ASSERT_TRUE(address.ok()) << address.error().message();
  EXPECT_EQ(address->host, "2001:db8::7");
  EXPECT_EQ(address->port, kDefaultPort);
  EXPECT_EQ(address->ToString(), "[2001:db8::7]:5700");
}

TEST(AddressFromLeaf, PrefersADnsNameToAnEarlierIp) {
  auto leaf = Issue({.cn = "x", .sans = {"IP:::1", "DNS:keys.example.net"}}, nullptr);
  auto address = AddressFromLeaf(leaf.cert.get());
  ASSERT_TRUE(address.ok());
  EXPECT_EQ(address->host, "keys.example.net");
}

TEST(AddressFromLeaf, RefusesALeafWithoutSubjectAltName) {
  auto leaf = Issue({.cn = "localhost"}, nullptr);
  auto address = AddressFromLeaf(leaf.cert.get());
  ASSERT_FALSE(address.ok());
  EXPECT_EQ(address.error().category(), ErrorCategory::kUsage);
}

TEST_F(ServerPemTest, ServerLineInsideABlockIsNotTaken) {
  // Text after "-----BEGIN" belongs to the block; only outside lines count.
  auto line = FindServerLine("Petera-Server: a:1\n-----BEGIN X-----\nPetera-Server: b:2\n", "t");
  ASSERT_TRUE(line.ok());
  ASSERT_TRUE(line->has_value());
  EXPECT_EQ((*line)->host, "a");
}

TEST_F(ServerPemTest, RefusesTwoServerLines) {
  std::string text = "Petera-Server: a:1\nPetera-Server: b:2\n" + Pem(leaf_);
  auto parsed = ParseServerPem(text, "two.pem");
  ASSERT_FALSE(parsed.ok());
  EXPECT_NE(parsed.error().message().find("more than one"), std::string::npos);
}

TEST_F(ServerPemTest, RefusesAnInvalidServerLine) {
  auto parsed = ParseServerPem("Petera-Server: a:99999\n" + Pem(leaf_), "bad.pem");
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.error().category(), ErrorCategory::kUsage);
}

TEST_F(ServerPemTest, RefusesAFileWithAPrivateKey) {
  auto parsed = ParseServerPem(Pem(leaf_) + KeyPem(leaf_.key.get()), "key.pem");
  ASSERT_FALSE(parsed.ok());
  EXPECT_NE(parsed.error().message().find("private key"), std::string::npos);
}

TEST_F(ServerPemTest, LoadFileTargetValidatesForTheRecordedHost) {
  TempDir dir;
  auto anchor = Anchor::FromPem(Pem(root_), "root");
  ASSERT_TRUE(anchor.ok());
  std::string good = dir.Write("good.pem", "Petera-Server: 127.0.0.1:5701\n" + Pem(leaf_));
  auto target = LoadFileTarget(*anchor, good);
  ASSERT_TRUE(target.ok()) << target.error().message();
  EXPECT_EQ(target->address, (Address{"127.0.0.1", 5701}));
  EXPECT_EQ(target->verified.chain.size(), 2u);
}

TEST_F(ServerPemTest, LoadFileTargetRefusesANameTheCertificateDoesNotHave) {
  TempDir dir;
  auto anchor = Anchor::FromPem(Pem(root_), "root");
  ASSERT_TRUE(anchor.ok());
  std::string moved = dir.Write("moved.pem", "Petera-Server: other.test:5701\n" + Pem(leaf_));
  auto target = LoadFileTarget(*anchor, moved);
  ASSERT_FALSE(target.ok());
  EXPECT_EQ(target.error().category(), ErrorCategory::kTrust);
  EXPECT_NE(target.error().message().find(moved), std::string::npos);
}

TEST_F(ServerPemTest, LoadFileTargetRefusesAnotherRoot) {
  TempDir dir;
  Issued other = Issue({.cn = "Other Root", .ca = true}, nullptr);
  auto anchor = Anchor::FromPem(Pem(other), "other");
  ASSERT_TRUE(anchor.ok());
  auto target = LoadFileTarget(*anchor, dir.Write("s1.pem", Pem(leaf_)));
  ASSERT_FALSE(target.ok());
  EXPECT_EQ(target.error().category(), ErrorCategory::kTrust);
}

}  // namespace
}  // namespace petera::client
