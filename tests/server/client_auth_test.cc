// Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
#include "peterad/client_auth.h"

#include <gtest/gtest.h>
#include <openssl/x509.h>

#include <ctime>
#include <string>
#include <unordered_set>
#include <vector>

#include "petera/pem.h"
#include "server_test_util.h"

namespace petera::peterad {
namespace {

using ::petera::testing::Pki;
using ::petera::testing::ReadText;
using ::petera::testing::TempDir;
using ::petera::testing::WriteText;

// ---- The allow-list parser ---------------------------------------------------

constexpr char kKeyId[] = "sQmP3pTqmSL3hCI4J2viR-NCuMPppshVzyUt_T-_qAk";

TEST(AllowList, ReadsTheThreeFormsCommentsAndBlankLines) {
  auto list = ParseAllowList(std::string("# laptops\n\n  ") + kKeyId +
                                 "  \nDNS:Laptop1.Example.NET\r\nURI:spiffe://example.net/h/2\n"
                                 "\t# retired: DNS:laptop9.example.net\n",
                             "allow");
  ASSERT_TRUE(list.ok()) << list.error().message();
  EXPECT_EQ(list->key_ids, (std::unordered_set<std::string>{kKeyId}));
  EXPECT_EQ(list->dns_names, (std::unordered_set<std::string>{"laptop1.example.net"}));
  EXPECT_EQ(list->uris, (std::unordered_set<std::string>{"spiffe://example.net/h/2"}));
  EXPECT_EQ(list->size(), 3u);
}

TEST(AllowList, AnEmptyFileAllowsNobody) {
  auto list = ParseAllowList("# nobody for now\n", "allow");
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(list->size(), 0u);
}

TEST(AllowList, RefusesAnythingElseNamingTheLine) {
  struct Case {
    std::string text;
    std::string fragment;
  };
  const std::vector<Case> cases = {
      {"not-a-key-id\n", "allow:1: expected a key id"},
      {std::string("#\n") + kKeyId + "=\n", "allow:2: expected a key id"},  // padded
      {std::string(kKeyId).substr(1) + "\n", "allow:1"},                   // 42 characters
      {"DNS:\n", "allow:1: not a DNS name"},
      {"DNS:bad name.example\n", "allow:1: not a DNS name"},
      {"DNS:a..b\n", "not a DNS name"},
      {"DNS:trailing.dot.\n", "not a DNS name"},
      {"URI:no-scheme\n", "allow:1: not a URI"},
      {"URI:https://a b\n", "not a URI"},
      {"dns:lower.case.prefix\n", "expected a key id"},
      {"CN=laptop1\n", "expected a key id"},
      {std::string(2000, 'a') + "\n", "longer than 1024 bytes"},
  };
  for (const Case& c : cases) {
    auto list = ParseAllowList(c.text, "allow");
    ASSERT_FALSE(list.ok()) << c.text;
    EXPECT_NE(list.error().message().find(c.fragment), std::string::npos)
        << list.error().message() << "\nmissing: " << c.fragment;
  }
  EXPECT_FALSE(ParseAllowList(std::string(kMaxAllowListBytes + 1, '#'), "allow").ok());
}

// ---- The policy ------------------------------------------------------------------

X509Ptr Leaf(const std::string& relative) {
  auto pem = LoadPemFile(Pki(relative));
  EXPECT_TRUE(pem.ok()) << relative;
  return pem.ok() && !pem->certificates.empty() ? std::move(pem->certificates.front())
                                                : X509Ptr();
}

std::string FirstLine(const std::string& path) {
  std::string text = ReadText(path);
  return text.substr(0, text.find('\n'));
}

class ClientPolicyTest : public ::testing::Test {
 protected:
  void SetUp() override { WriteText(ca_, ReadText(Pki("clients/ca.pem")), 0644); }

  Result<std::shared_ptr<const ClientPolicy>> Load() {
    return ClientPolicy::Load(paths_, std::time(nullptr));
  }

  ClientVerdict Check(const std::string& client) {
    auto policy = Load();
    EXPECT_TRUE(policy.ok()) << policy.error().message();
    if (!policy.ok()) return {};
    X509Ptr leaf = Leaf(client);
    return (*policy)->Check(leaf.get(), nullptr);
  }

  void ExpectRefusal(const std::string& fragment) {
    auto policy = Load();
    ASSERT_FALSE(policy.ok());
    EXPECT_EQ(policy.error().category(), ErrorCategory::kUsage);
    EXPECT_NE(policy.error().message().find(fragment), std::string::npos)
        << policy.error().message() << "\nmissing: " << fragment;
  }

  TempDir dir_;
  std::string ca_ = dir_ / "client-ca.pem";
  ClientPolicyPaths paths_{ca_, {}, {}};
};

TEST_F(ClientPolicyTest, AcceptsAValidClientAndNamesIt) {
  ClientVerdict verdict = Check("clients/laptop1.pem");
  EXPECT_TRUE(verdict.authorized) << verdict.reason;
  EXPECT_NE(verdict.identity.find("CN=laptop1.example.net"), std::string::npos)
      << verdict.identity;
  EXPECT_NE(verdict.identity.find("key=" + FirstLine(Pki("clients/laptop1.key-id"))),
            std::string::npos)
      << verdict.identity;
  EXPECT_GT(verdict.valid_until, std::time(nullptr));
}

TEST_F(ClientPolicyTest, RefusesEachKindOfBadClientWithItsReason) {
  EXPECT_EQ(Check("clients/expired.pem").reason, "expired");
  EXPECT_EQ(Check("clients/no-client-auth.pem").reason, "not for client authentication");
  ClientVerdict other = Check("clients/other-ca.pem");
  EXPECT_FALSE(other.authorized);
  EXPECT_EQ(other.reason.rfind("untrusted (", 0), 0u) << other.reason;
  // A server certificate of the demo PKI is no client certificate either.
  EXPECT_FALSE(Check("s1/tls.pem").authorized);
  auto policy = Load();
  ASSERT_TRUE(policy.ok());
  ClientVerdict none = (*policy)->Check(nullptr, nullptr);
  EXPECT_FALSE(none.authorized);
  EXPECT_EQ(none.reason, "no certificate");
}

TEST_F(ClientPolicyTest, ACrlRevokesOnlyWhatItLists) {
  std::string crl = dir_ / "crl.pem";
  WriteText(crl, ReadText(Pki("clients/crl.pem")), 0644);
  paths_.crls = {crl};
  EXPECT_EQ(Check("clients/revoked.pem").reason, "revoked");
  EXPECT_TRUE(Check("clients/laptop2.pem").authorized);
  WriteText(crl, ReadText(Pki("clients/crl-laptop2.pem")), 0644);
  EXPECT_EQ(Check("clients/laptop2.pem").reason, "revoked");
  EXPECT_TRUE(Check("clients/laptop1.pem").authorized);
}

TEST_F(ClientPolicyTest, AnAllowListAdmitsByKeyIdOrName) {
  std::string allow = dir_ / "allow";
  paths_.allow = allow;
  WriteText(allow, FirstLine(Pki("clients/laptop1.key-id")) + "\n", 0644);
  EXPECT_TRUE(Check("clients/laptop1.pem").authorized);
  EXPECT_EQ(Check("clients/laptop2.pem").reason, "not allowed");
  WriteText(allow, "DNS:LAPTOP2.example.net\n", 0644);
  EXPECT_TRUE(Check("clients/laptop2.pem").authorized);
  EXPECT_EQ(Check("clients/laptop1.pem").reason, "not allowed");
  // Listing never makes an untrusted certificate acceptable.
  WriteText(allow, "DNS:laptop1.example.net\n", 0644);
  EXPECT_FALSE(Check("clients/expired.pem").authorized);
}

TEST_F(ClientPolicyTest, RemembersAnAcceptedCertificateOnlyWithinOnePolicy) {
  auto policy = Load();
  ASSERT_TRUE(policy.ok());
  X509Ptr leaf = Leaf("clients/laptop1.pem");
  ClientVerdict first = (*policy)->Check(leaf.get(), nullptr);
  ClientVerdict again = (*policy)->Check(leaf.get(), nullptr);
  EXPECT_TRUE(first.authorized);
  EXPECT_EQ(again.identity, first.identity);
  EXPECT_EQ(again.valid_until, first.valid_until);
  // A new policy (a reload) that de-lists it decides afresh.
  std::string allow = dir_ / "allow";
  WriteText(allow, "DNS:someone-else.example.net\n", 0644);
  paths_.allow = allow;
  auto reloaded = Load();
  ASSERT_TRUE(reloaded.ok());
  EXPECT_FALSE((*reloaded)->Check(leaf.get(), nullptr).authorized);
}

TEST_F(ClientPolicyTest, RefusesFilesOthersMayWriteOrThatHoldTheWrongThing) {
  WriteText(ca_, ReadText(Pki("clients/ca.pem")), 0664);
  ExpectRefusal("writable by its group; run: chmod go-w " + ca_);
  WriteText(ca_, ReadText(Pki("clients/ca.pem")), 0646);
  ExpectRefusal("writable by other users");
  WriteText(ca_, ReadText(Pki("clients/laptop1.pem")), 0600);
  ExpectRefusal("expected the client CA certificate(s) alone");
  WriteText(ca_, ReadText(Pki("anchor.pem")) + ReadText(Pki("clients/ca.pem")), 0644);
  ASSERT_TRUE(Load().ok());  // two CAs are fine
  WriteText(ca_, ReadText(Pki("clients/ca.pem")), 0644);

  std::string crl = dir_ / "crl.pem";
  paths_.crls = {crl};
  WriteText(crl, ReadText(Pki("bad/crl.pem")), 0644);  // the demo intermediate's CRL
  ExpectRefusal("a CRL not signed by any CA of " + ca_);
  WriteText(crl, ReadText(Pki("clients/ca.pem")), 0644);
  ExpectRefusal("expected one or more X509 CRLs alone");
  paths_.crls.clear();

  std::string allow = dir_ / "allow";
  paths_.allow = allow;
  WriteText(allow, "DNS:ok.example.net\nwhat is this\n", 0644);
  ExpectRefusal(allow + ":2: expected a key id");
  WriteText(allow, "DNS:ok.example.net\n", 0666);
  ExpectRefusal("writable by other users");
  paths_.allow = dir_ / "missing";
  ExpectRefusal("cannot open");
}

}  // namespace
}  // namespace petera::peterad
