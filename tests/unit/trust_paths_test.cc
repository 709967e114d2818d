// Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
//
// Path building: every valid path through cross-signed, renewed and
// constrained CAs is found, in any order, within bounded work; and the
// validity period includes its last second. Hierarchies are built in memory.
#include <gtest/gtest.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <ctime>

#include "cert_factory.h"
#include "petera/trust.h"

namespace petera {
namespace {

using testing::AnchorOf;
using testing::ChainOf;
using testing::Issue;
using testing::Issued;

constexpr std::time_t kDay = 86400;

std::string Message(const Result<VerifiedChain>& r) {
  return r.ok() ? std::string("(trusted)") : r.error().message();
}

void ExpectRefused(const Result<VerifiedChain>& r, const std::string& fragment) {
  ASSERT_FALSE(r.ok()) << "expected refusal containing: " << fragment;
  EXPECT_EQ(r.error().category(), ErrorCategory::kTrust) << r.error().message();
  EXPECT_NE(r.error().message().find(fragment), std::string::npos) << r.error().message();
}

Issued Root(const std::string& cn, EVP_PKEY* key = nullptr, std::time_t not_after = 0) {
  return Issue({.cn = cn, .ca = true, .key = key, .not_after = not_after}, nullptr);
}

Issued Ca(const std::string& cn, const Issued& issuer, EVP_PKEY* key = nullptr,
          std::time_t not_after = 0) {
  return Issue({.cn = cn, .ca = true, .key = key, .not_after = not_after}, &issuer);
}

Issued EncryptionLeaf(const Issued& issuer, std::vector<std::string> sans = {"DNS:localhost"}) {
  return Issue({.cn = "enc", .sans = std::move(sans), .key_usage = "keyAgreement"}, &issuer);
}

// Root rotation: the new root R2 exists as a self-signed certificate and as
// a cross-certificate issued by the old root R1, with the same name and key.
class RootRotationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    r1_ = Root("Old Root");
    r2_ = Root("New Root");
    r2_cross_ = Ca("New Root", r1_, r2_.key.get());
    inter_ = Ca("Issuing CA", r2_);
    leaf_ = EncryptionLeaf(inter_);
  }
  Issued r1_, r2_, r2_cross_, inter_, leaf_;
};

TEST_F(RootRotationTest, OldAnchorTrustsTheNewHierarchyThroughTheCrossCertificate) {
  auto r = VerifyEncryptionChain(AnchorOf({&r1_}), ChainOf(leaf_, {&inter_, &r2_cross_}),
                                 "localhost");
  ASSERT_TRUE(r.ok()) << Message(r);
  EXPECT_EQ(r->chain.size(), 4u);
}

TEST_F(RootRotationTest, NewAnchorTrustsTheSameChainWithoutTheCrossCertificate) {
  auto r = VerifyEncryptionChain(AnchorOf({&r2_}), ChainOf(leaf_, {&inter_, &r2_cross_}),
                                 "localhost");
  ASSERT_TRUE(r.ok()) << Message(r);
  EXPECT_EQ(r->chain.size(), 3u);
}

TEST_F(RootRotationTest, ExpiredSelfSignedRootFallsBackToTheCrossCertificate) {
  // The anchor still holds R2's first self-signed certificate, now expired,
  // and R1. OpenSSL alone picks the expired R2 and stops there.
  std::time_t now = std::time(nullptr);
  Issued r2_expired = Root("New Root", r2_.key.get(), now - kDay);
  auto r = VerifyEncryptionChain(AnchorOf({&r2_expired, &r1_}),
                                 ChainOf(leaf_, {&inter_, &r2_cross_}), "localhost");
  ASSERT_TRUE(r.ok()) << Message(r);
  EXPECT_EQ(r->chain.size(), 4u);
}

TEST_F(RootRotationTest, ExpiredCrossCertificateIsRefusedWhenItIsTheOnlyPath) {
  Issued cross_expired = Issue({.cn = "New Root", .ca = true, .key = r2_.key.get(),
                                .not_before = std::time(nullptr) - 10 * kDay,
                                .not_after = std::time(nullptr) - kDay}, &r1_);
  auto chain = ChainOf(leaf_, {&inter_, &cross_expired});
  ExpectRefused(VerifyEncryptionChain(AnchorOf({&r1_}), chain, "localhost"),
                "certificate CN=New Root expired on ");
  // ...and accepted when the anchor also holds the new root itself.
  EXPECT_TRUE(VerifyEncryptionChain(AnchorOf({&r1_, &r2_}), chain, "localhost").ok());
}

TEST_F(RootRotationTest, ConstrainedCrossCertificateIsAvoidedWhenAnotherPathExists) {
  Issued cross_constrained =
      Issue({.cn = "New Root", .ca = true, .key = r2_.key.get(),
             .name_constraints = "critical,permitted;DNS:elsewhere.test"}, &r1_);
  auto chain = ChainOf(leaf_, {&cross_constrained, &inter_});
  ExpectRefused(VerifyEncryptionChain(AnchorOf({&r1_}), chain, "localhost"),
                "name constraints");
  EXPECT_TRUE(VerifyEncryptionChain(AnchorOf({&r1_, &r2_}), chain, "localhost").ok());
}

TEST(PathBuildingTest, RenewedIntermediateIsFoundWhicheverComesFirst) {
  std::time_t now = std::time(nullptr);
  Issued root = Root("Root");
  Issued old_inter = Issue({.cn = "Issuing CA", .ca = true, .not_before = now - 400 * kDay,
                            .not_after = now - kDay}, &root);
  Issued new_inter = Ca("Issuing CA", root, old_inter.key.get());
  Issued leaf = EncryptionLeaf(new_inter);
  Anchor anchor = AnchorOf({&root});
  EXPECT_TRUE(VerifyEncryptionChain(anchor, ChainOf(leaf, {&old_inter, &new_inter}), "localhost").ok());
  EXPECT_TRUE(VerifyEncryptionChain(anchor, ChainOf(leaf, {&new_inter, &old_inter}), "localhost").ok());
  ExpectRefused(VerifyEncryptionChain(anchor, ChainOf(leaf, {&old_inter}), "localhost"),
                "certificate CN=Issuing CA expired on ");
}

TEST(PathBuildingTest, IntermediatesInAnyOrder) {
  Issued root = Root("Root");
  Issued upper = Ca("Upper CA", root);
  Issued lower = Ca("Lower CA", upper);
  Issued leaf = EncryptionLeaf(lower);
  Anchor anchor = AnchorOf({&root});
  using Order = std::vector<const Issued*>;
  for (const Order& order : {Order{&lower, &upper}, Order{&upper, &lower},
                             Order{&root, &upper, &lower}}) {
    auto r = VerifyEncryptionChain(anchor, ChainOf(leaf, order), "localhost");
    ASSERT_TRUE(r.ok()) << Message(r);
    EXPECT_EQ(r->chain.size(), 4u);
  }
  ExpectRefused(VerifyEncryptionChain(anchor, ChainOf(leaf, {&upper}), "localhost"),
                "does not lead to any certificate in the anchor");
}

TEST(PathBuildingTest, AnchorWithSeveralRootsOfOneName) {
  // The anchor holds a root's expired first certificate, its renewal (same
  // name and key) and an unrelated root of the same name.
  std::time_t now = std::time(nullptr);
  Issued renewed = Root("Shared Name");
  Issued expired = Issue({.cn = "Shared Name", .ca = true, .key = renewed.key.get(),
                          .not_before = now - 400 * kDay, .not_after = now - kDay}, nullptr);
  Issued impostor = Root("Shared Name");
  Issued inter = Ca("Issuing CA", renewed);
  Issued leaf = EncryptionLeaf(inter);
  auto chain = ChainOf(leaf, {&inter});
  for (const auto& roots : {std::vector<const Issued*>{&impostor, &expired, &renewed},
                            std::vector<const Issued*>{&renewed, &expired, &impostor},
                            std::vector<const Issued*>{&expired, &impostor, &renewed}}) {
    auto r = VerifyEncryptionChain(AnchorOf(roots), chain, "localhost");
    ASSERT_TRUE(r.ok()) << Message(r);
    EXPECT_EQ(X509_cmp(r->chain.back().get(), renewed.cert.get()), 0);
  }
  ExpectRefused(VerifyEncryptionChain(AnchorOf({&impostor, &expired}), chain, "localhost"),
                "certificate CN=Shared Name expired on ");
  ExpectRefused(VerifyEncryptionChain(AnchorOf({&impostor}), chain, "localhost"),
                "does not lead to any certificate in the anchor");
}

TEST(PathBuildingTest, ConstrainedPathFailsAndUnconstrainedAlternativeIsTaken) {
  Issued root = Root("Root");
  Issued constrained = Issue({.cn = "Constrained CA", .ca = true,
                              .name_constraints = "critical,excluded;DNS:localhost"}, &root);
  Issued inter_via_constrained = Ca("Issuing CA", constrained);
  Issued inter_direct = Ca("Issuing CA", root, inter_via_constrained.key.get());
  Issued leaf = EncryptionLeaf(inter_direct);
  Anchor anchor = AnchorOf({&root});
  auto both = ChainOf(leaf, {&inter_via_constrained, &constrained, &inter_direct});
  auto r = VerifyEncryptionChain(anchor, both, "localhost");
  ASSERT_TRUE(r.ok()) << Message(r);
  EXPECT_EQ(r->chain.size(), 3u);
  ExpectRefused(VerifyEncryptionChain(anchor, ChainOf(leaf, {&inter_via_constrained, &constrained}),
                                      "localhost"),
                "name constraints");
}

TEST(PathBuildingTest, ReportsTheLongestRefusedPathAndHowManyWereTried) {
  std::time_t now = std::time(nullptr);
  Issued root = Root("Root");
  Issued expired = Issue({.cn = "Issuing CA", .ca = true, .not_before = now - 400 * kDay,
                          .not_after = now - kDay}, &root);
  Issued bridge = Ca("Bridge CA", root);
  Issued expired_via_bridge = Issue({.cn = "Issuing CA", .ca = true, .key = expired.key.get(),
                                     .not_before = now - 400 * kDay, .not_after = now - 2 * kDay},
                                    &bridge);
  Issued leaf = EncryptionLeaf(expired);
  auto r = VerifyEncryptionChain(AnchorOf({&root}),
                                 ChainOf(leaf, {&expired, &expired_via_bridge, &bridge}),
                                 "localhost");
  ExpectRefused(r, "certificate CN=Issuing CA expired on ");
  ExpectRefused(r, "(the best of 2 paths to the anchor; none was valid)");
}

TEST(PathBuildingTest, CrossSigningLoopWithoutAnchorEnds) {
  Issued root = Root("Root");
  Issued a = Root("CA A");
  Issued b = Ca("CA B", a);
  Issued a_by_b = Ca("CA A", b, a.key.get());
  Issued leaf = EncryptionLeaf(a);
  ExpectRefused(VerifyEncryptionChain(AnchorOf({&root}), ChainOf(leaf, {&a_by_b, &b, &a}),
                                      "localhost"),
                "does not lead to any certificate in the anchor");
}

TEST(PathBuildingTest, HostilePileOfSameNamedCasIsBounded) {
  // Eight certificates of one name, different keys, no key identifiers:
  // each could issue every other, 7! orderings. The search stops at its
  // budget instead of trying them all.
  Issued root = Root("Root");
  Issued seed = Root("Pile");
  std::vector<Issued> pile;
  for (int i = 0; i < 7; ++i) {
    pile.push_back(Issue({.cn = "Pile", .ca = true, .aki = ""}, i == 0 ? &seed : &pile.back()));
  }
  Issued leaf = Issue({.cn = "enc", .sans = {"DNS:localhost"}, .key_usage = "keyAgreement",
                       .aki = ""}, &pile.back());
  std::vector<const Issued*> rest;
  for (const auto& p : pile) rest.push_back(&p);
  auto r = VerifyEncryptionChain(AnchorOf({&root}), ChainOf(leaf, rest), "localhost");
  ExpectRefused(r, "does not lead to any certificate in the anchor");
}

TEST(PathBuildingTest, PathsOfUpToNineCertificatesChainsOfUpToEight) {
  Issued root = Root("Root");
  std::vector<Issued> cas;
  for (int i = 0; i < 7; ++i) cas.push_back(Ca("CA " + std::to_string(i), i ? cas.back() : root));
  Issued leaf = EncryptionLeaf(cas.back());
  std::vector<const Issued*> rest;
  for (auto it = cas.rbegin(); it != cas.rend(); ++it) rest.push_back(&*it);
  // Leaf and 7 intermediates, root from the anchor: a path of 9.
  auto r = VerifyEncryptionChain(AnchorOf({&root}), ChainOf(leaf, rest), "localhost");
  ASSERT_TRUE(r.ok()) << Message(r);
  EXPECT_EQ(r->chain.size(), 9u);
  rest.push_back(&root);
  ExpectRefused(VerifyEncryptionChain(AnchorOf({&root}), ChainOf(leaf, rest), "localhost"),
                "more than 8 certificates");
}

std::string SubjectKeyIdHex(const Issued& cert) {
  const ASN1_OCTET_STRING* ski = X509_get0_subject_key_id(cert.cert.get());
  std::string hex;
  for (int i = 0; i < ASN1_STRING_length(ski); ++i) {
    char byte[3];
    std::snprintf(byte, sizeof(byte), "%02X", ASN1_STRING_get0_data(ski)[i]);
    hex += byte;
  }
  return hex;
}

TEST(PathBuildingTest, HostilePileThatReachesTheAnchorEveryWayIsBounded) {
  // Seven CAs named like the root, each claiming the root's key identifier:
  // every one is a candidate issuer of every other and of the leaf, and each
  // leads straight to the anchor. Thousands of orderings, none valid (the
  // leaf's real issuer is not in the chain); the search validates at most
  // its budget of complete paths.
  Issued root = Root("Pile");
  std::string root_id = SubjectKeyIdHex(root);
  std::vector<Issued> pile;
  for (int i = 0; i < 7; ++i) {
    pile.push_back(Issue({.cn = "Pile", .ca = true, .ski = root_id},
                         i == 0 ? &root : &pile.back()));
  }
  Issued real_issuer = Issue({.cn = "Pile", .ca = true, .ski = root_id}, &root);
  Issued leaf = EncryptionLeaf(real_issuer);
  std::vector<const Issued*> rest;
  for (const auto& p : pile) rest.push_back(&p);
  auto r = VerifyEncryptionChain(AnchorOf({&root}), ChainOf(leaf, rest), "localhost");
  ExpectRefused(r, "(the best of 64 paths to the anchor; none was valid)");
}

// RFC 5280 4.1.2.5: valid from notBefore through notAfter, both inclusive.
class ValidityBoundaryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::time_t now = std::time(nullptr);
    root_ = Issue({.cn = "Root", .ca = true, .not_before = now - 90 * kDay}, nullptr);
    inter_ = Issue({.cn = "Issuing CA", .ca = true, .not_before = now - 90 * kDay}, &root_);
    not_before_ = now - 30 * kDay;
    not_after_ = std::time(nullptr) + 30 * kDay;
    leaf_ = Issue({.cn = "tls", .sans = {"DNS:localhost"}, .eku = "serverAuth",
                   .key_usage = "digitalSignature", .not_before = not_before_,
                   .not_after = not_after_}, &inter_);
  }
  Result<VerifiedChain> At(std::time_t t) {
    return VerifyTlsChainAt(AnchorOf({&root_}), ChainOf(leaf_, {&inter_}), "localhost", t);
  }
  Issued root_, inter_, leaf_;
  std::time_t not_before_ = 0, not_after_ = 0;
};

TEST_F(ValidityBoundaryTest, ValidThroughTheNotAfterSecond) {
  EXPECT_TRUE(At(not_after_ - 1).ok());
  auto r = At(not_after_);
  EXPECT_TRUE(r.ok()) << Message(r);
  ExpectRefused(At(not_after_ + 1), "expired on ");
}

TEST_F(ValidityBoundaryTest, ValidFromTheNotBeforeSecond) {
  ExpectRefused(At(not_before_ - 1), "is not valid before ");
  auto r = At(not_before_);
  EXPECT_TRUE(r.ok()) << Message(r);
}

TEST_F(ValidityBoundaryTest, IntermediateNotAfterIsInclusiveToo) {
  std::time_t end = std::time(nullptr) + 10 * kDay;
  Issued inter = Ca("Short CA", root_, nullptr, end);
  Issued leaf = EncryptionLeaf(inter);
  auto chain = ChainOf(leaf, {&inter});
  EXPECT_TRUE(VerifyEncryptionChainAt(AnchorOf({&root_}), chain, "localhost", end).ok());
  ExpectRefused(VerifyEncryptionChainAt(AnchorOf({&root_}), chain, "localhost", end + 1),
                "certificate CN=Short CA expired on ");
}

}  // namespace
}  // namespace petera
