// Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
#include "petera/envelope.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "petera/trust.h"
#include "test_util.h"

namespace petera {
namespace {

using nlohmann::json;
using testing::EncryptTo;
using testing::LoadChain;
using testing::LoadKey;
using testing::SecretFromString;
using testing::SecretToString;

EncryptionTarget Target(const std::string& chain, const std::string& host = "localhost",
                        uint16_t port = 5700) {
  return {LoadChain(chain), Address{host, port}};
}

// Offline decryption with the private keys of these files.
Result<SecretBytes> Offline(const std::string& text, const std::vector<std::string>& keys) {
  auto env = ParseEnvelope(text);
  if (!env.ok()) return env.error();
  std::vector<EvpPkeyPtr> owned;
  std::vector<EVP_PKEY*> pointers;
  for (const auto& key : keys) {
    owned.push_back(LoadKey(key));
    pointers.push_back(owned.back().get());
  }
  return DecryptWithPrivateKeys(*env, pointers);
}

TEST(Envelope, IsAGeneralJsonJweWithOneRecipientPerServer) {
  std::string text = EncryptTo(SecretFromString("x"), {"s1/encrypt-ec.pem", "s2/encrypt-rsa.pem"});
  json doc = json::parse(text);
  EXPECT_EQ(doc["recipients"].size(), 2u);
  auto r0 = doc["recipients"][0]["header"];
  EXPECT_EQ(r0["alg"], "ECDH-ES+A256KW");
  EXPECT_EQ(r0["epk"]["crv"], "P-256");
  EXPECT_EQ(r0["server"], "localhost:5700");
  EXPECT_EQ(r0["x5c"].size(), 2u);
  EXPECT_EQ(doc["recipients"][1]["header"]["alg"], "RSA-OAEP-256");
  auto prot = Base64UrlDecode(doc["protected"].get<std::string>());
  json header = json::parse(std::string(prot->begin(), prot->end()));
  EXPECT_EQ(header["enc"], "A256GCM");
  EXPECT_EQ(header["petera"], 1);
}

TEST(Envelope, EveryRecipientAloneDecryptsTheSamePayload) {
  SecretBytes secret = SecretFromString(std::string("bin\0ary", 7));
  std::string text = EncryptTo(secret, {"s1/encrypt-ec.pem", "s2/encrypt-ec.pem", "s3/encrypt-rsa.pem"});
  for (const char* key : {"s1/decrypt.d/ec.pem", "s2/decrypt.d/ec.pem", "s3/decrypt.d/rsa.pem"}) {
    auto plain = Offline(text, {key});
    ASSERT_TRUE(plain.ok()) << key << ": " << plain.error().message();
    EXPECT_TRUE(plain->ConstantTimeEquals(secret)) << key;
  }
  auto stranger = Offline(text, {"s3/decrypt.d/ec.pem"});
  ASSERT_FALSE(stranger.ok());
  EXPECT_EQ(stranger.error().category(), ErrorCategory::kNotFound);
}

TEST(Envelope, EmptyAndLargestPayloadsRoundTrip) {
  SecretBytes empty;
  auto plain = Offline(EncryptTo(empty, {"s1/encrypt-ec.pem"}), {"s1/decrypt.d/ec.pem"});
  ASSERT_TRUE(plain.ok());
  EXPECT_TRUE(plain->empty());
  SecretBytes big(kMaxPayloadBytes);
  big.secret_data()[kMaxPayloadBytes - 1] = 7;
  std::string text = EncryptTo(big, {"s1/encrypt-ec.pem"});
  EXPECT_LE(text.size(), kMaxEnvelopeBytes);
  auto back = Offline(text, {"s1/decrypt.d/ec.pem"});
  ASSERT_TRUE(back.ok()) << back.error().message();
  EXPECT_TRUE(back->ConstantTimeEquals(big));
}

TEST(Envelope, RefusesPayloadOverTheLimitBeforeAnyWork) {
  SecretBytes big(kMaxPayloadBytes + 1);
  std::vector<EncryptionTarget> none;  // no targets: the size check comes first
  auto r = Encrypt(big, none);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().category(), ErrorCategory::kTooLarge);
  std::string huge(kMaxEnvelopeBytes + 1, ' ');
  auto p = ParseEnvelope(huge);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error().category(), ErrorCategory::kTooLarge);
}

// What decrypt does before any network traffic (parse, validate each stored
// chain against the anchor for its recorded server), then the recovery.
Result<SecretBytes> CheckedOffline(const std::string& text, const std::string& key) {
  auto env = ParseEnvelope(text);
  if (!env.ok()) return env.error();
  Anchor anchor = testing::LoadAnchor();
  for (const auto& r : env->recipients) {
    auto trusted = VerifyStoredEncryptionChain(anchor, r.chain, r.address.host);
    if (!trusted.ok()) return trusted.error();
  }
  return DecryptWithPrivateKey(*env, LoadKey(key).get());
}

TEST(Envelope, FlippingAnyByteFailsWithoutPlaintext) {
  std::string text = EncryptTo(SecretFromString("secret"), {"s1/encrypt-ec.pem"});
  ASSERT_TRUE(CheckedOffline(text, "s1/decrypt.d/ec.pem").ok());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\n') continue;  // the trailing newline is not part of the JSON
    std::string t = text;
    t[i] = static_cast<char>(t[i] ^ 0x01);
    auto plain = CheckedOffline(t, "s1/decrypt.d/ec.pem");
    EXPECT_FALSE(plain.ok()) << "flip at " << i << " of " << text.size() << ": '"
                             << text.substr(i > 20 ? i - 20 : 0, 40) << "'";
  }
}

json Doc(const std::string& text) { return json::parse(text); }

std::string WithProtected(const std::string& text, const json& header) {
  json doc = Doc(text);
  doc["protected"] = Base64UrlEncode(AsBytes(header.dump()));
  return doc.dump();
}

TEST(Envelope, RefusesUnknownVersionsAndCriticalHeaders) {
  std::string text = EncryptTo(SecretFromString("x"), {"s1/encrypt-ec.pem"});
  auto v2 = ParseEnvelope(WithProtected(text, {{"enc", "A256GCM"}, {"petera", 2}}));
  ASSERT_FALSE(v2.ok());
  EXPECT_NE(v2.error().message().find("version 2"), std::string::npos);
  EXPECT_FALSE(ParseEnvelope(WithProtected(text, {{"enc", "A256GCM"}})).ok());
  EXPECT_FALSE(ParseEnvelope(WithProtected(
      text, {{"enc", "A256GCM"}, {"petera", 1}, {"crit", {"exp"}}, {"exp", 1}})).ok());
  EXPECT_FALSE(ParseEnvelope(WithProtected(text, {{"enc", "A128GCM"}, {"petera", 1}})).ok());
  EXPECT_FALSE(ParseEnvelope(WithProtected(text, {{"enc", "A256GCM"}, {"petera", 1}, {"zip", "DEF"}})).ok());
}

TEST(Envelope, RefusesStructuralDamage) {
  std::string text = EncryptTo(SecretFromString("x"), {"s1/encrypt-ec.pem"});
  auto mutate = [&](auto f) {
    json doc = Doc(text);
    f(doc);
    return ParseEnvelope(doc.dump());
  };
  EXPECT_FALSE(mutate([](json& d) { d.erase("tag"); }).ok());
  EXPECT_FALSE(mutate([](json& d) { d["aad"] = "AA"; }).ok());
  EXPECT_FALSE(mutate([](json& d) { d["recipients"] = json::array(); }).ok());
  EXPECT_FALSE(mutate([](json& d) { d["iv"] = "AAAA"; }).ok());
  EXPECT_FALSE(mutate([](json& d) { d["recipients"][0]["header"]["kid"] = "other"; }).ok());
  EXPECT_FALSE(mutate([](json& d) { d["recipients"][0]["header"]["alg"] = "RSA-OAEP-256"; }).ok());
  EXPECT_FALSE(mutate([](json& d) { d["recipients"][0]["header"]["epk"]["crv"] = "P-384"; }).ok());
  EXPECT_FALSE(mutate([](json& d) { d["recipients"][0]["header"]["server"] = "a b"; }).ok());
  EXPECT_FALSE(mutate([](json& d) { d["recipients"][0]["header"]["x5c"] = json::array(); }).ok());
  // Wrong JSON types where strings belong must fail cleanly, never throw.
  EXPECT_FALSE(mutate([](json& d) { d["recipients"][0]["header"]["epk"]["kty"] = 1; }).ok());
  EXPECT_FALSE(mutate([](json& d) { d["recipients"][0]["header"]["epk"]["crv"] = json::array(); }).ok());
  EXPECT_FALSE(mutate([](json& d) { d["recipients"][0]["header"]["kid"] = 5; }).ok());
  EXPECT_TRUE(mutate([](json&) {}).ok());
}

TEST(Envelope, RefusesAnEphemeralKeyOffTheCurveAsCorrupt) {
  std::string text = EncryptTo(SecretFromString("x"), {"s1/encrypt-ec.pem"});
  json doc = Doc(text);
  auto y = *Base64UrlDecode(doc["recipients"][0]["header"]["epk"]["y"].get<std::string>());
  y.back() ^= 1;
  doc["recipients"][0]["header"]["epk"]["y"] = Base64UrlEncode(y);
  auto env = ParseEnvelope(doc.dump());
  ASSERT_FALSE(env.ok());
  EXPECT_EQ(env.error().category(), ErrorCategory::kCorrupt);
}

TEST(Envelope, RecordsEachServerAddress) {
  std::vector<EncryptionTarget> targets;
  targets.push_back(Target("s1/encrypt-ec.pem", "localhost", 5701));
  targets.push_back(Target("s2/encrypt-ec.pem", "::1", 5702));
  auto env = ParseEnvelope(*Encrypt(SecretFromString("x"), targets));
  ASSERT_TRUE(env.ok());
  EXPECT_EQ(env->recipients[0].address, (Address{"localhost", 5701}));
  EXPECT_EQ(env->recipients[1].address, (Address{"::1", 5702}));
}

// ---- Threshold envelopes ----------------------------------------------------

json ProtectedOf(const std::string& text) {
  auto raw = Base64UrlDecode(Doc(text)["protected"].get<std::string>());
  return json::parse(std::string(raw->begin(), raw->end()));
}

const std::vector<std::string> kThreeServers = {"s1/encrypt-ec.pem", "s2/encrypt-ec.pem",
                                                "s3/encrypt-rsa.pem"};
const std::vector<std::string> kThreeKeys = {"s1/decrypt.d/ec.pem", "s2/decrypt.d/ec.pem",
                                             "s3/decrypt.d/rsa.pem"};

TEST(ThresholdEnvelope, AnyTwoOfThreeKeysDecryptAndOneDoesNot) {
  SecretBytes secret = SecretFromString("two of three");
  std::string text = EncryptTo(secret, kThreeServers, 2);
  for (size_t a = 0; a < 3; ++a) {
    for (size_t b = a + 1; b < 3; ++b) {
      auto plain = Offline(text, {kThreeKeys[a], kThreeKeys[b]});
      ASSERT_TRUE(plain.ok()) << a << "," << b << ": " << plain.error().message();
      EXPECT_TRUE(plain->ConstantTimeEquals(secret));
    }
    auto alone = Offline(text, {kThreeKeys[a]});
    ASSERT_FALSE(alone.ok()) << a;
    EXPECT_NE(alone.error().message().find("1 of the 2"), std::string::npos)
        << alone.error().message();
  }
  // The same key twice is still one recipient.
  EXPECT_FALSE(Offline(text, {kThreeKeys[0], kThreeKeys[0]}).ok());
  EXPECT_TRUE(Offline(text, kThreeKeys).ok());
}

TEST(ThresholdEnvelope, AllOfThreeNeedsEveryKey) {
  SecretBytes secret = SecretFromString("all three");
  std::string text = EncryptTo(secret, kThreeServers, 3);
  EXPECT_FALSE(Offline(text, {kThreeKeys[0], kThreeKeys[2]}).ok());
  auto plain = Offline(text, kThreeKeys);
  ASSERT_TRUE(plain.ok()) << plain.error().message();
  EXPECT_TRUE(plain->ConstantTimeEquals(secret));
}

TEST(ThresholdEnvelope, MarksTheThresholdCriticalAndNumbersTheShares) {
  std::string text = EncryptTo(SecretFromString("x"), kThreeServers, 2);
  json header = ProtectedOf(text);
  EXPECT_EQ(header["threshold"], 2);
  EXPECT_EQ(header["crit"], json::array({"threshold"}));
  json doc = Doc(text);
  for (size_t i = 0; i < 3; ++i) EXPECT_EQ(doc["recipients"][i]["header"]["share"], i + 1);
  auto env = ParseEnvelope(text);
  ASSERT_TRUE(env.ok()) << env.error().message();
  EXPECT_EQ(env->threshold, 2u);
  EXPECT_EQ(env->recipients[2].share, 3);
}

TEST(ThresholdEnvelope, AThresholdOfOneIsThePlainFormat) {
  std::string text = EncryptTo(SecretFromString("x"), kThreeServers, 1);
  json header = ProtectedOf(text);
  EXPECT_FALSE(header.contains("threshold"));
  EXPECT_FALSE(header.contains("crit"));
  EXPECT_FALSE(Doc(text)["recipients"][0]["header"].contains("share"));
  EXPECT_TRUE(Offline(text, {kThreeKeys[1]}).ok());
}

TEST(ThresholdEnvelope, EncryptRefusesAnImpossibleThreshold) {
  std::vector<EncryptionTarget> targets;
  targets.push_back(Target("s1/encrypt-ec.pem", "localhost", 5700));
  targets.push_back(Target("s2/encrypt-ec.pem", "localhost", 5701));
  for (size_t threshold : {size_t{0}, size_t{3}}) {
    auto r = Encrypt(SecretFromString("x"), targets, threshold);
    ASSERT_FALSE(r.ok()) << threshold;
    EXPECT_EQ(r.error().category(), ErrorCategory::kUsage);
  }
}

TEST(ThresholdEnvelope, EncryptRefusesTheSameKeyTwice) {
  // One key holding two shares would open both: a threshold counts keys.
  std::vector<EncryptionTarget> targets;
  targets.push_back(Target("s1/encrypt-ec.pem", "a.example", 5700));
  targets.push_back(Target("s2/encrypt-ec.pem", "b.example", 5700));
  targets.push_back(Target("s1/encrypt-ec.pem", "c.example", 5700));
  auto r = Encrypt(SecretFromString("x"), targets, 2);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().category(), ErrorCategory::kUsage);
  EXPECT_NE(r.error().message().find("targets 1 (a.example:5700) and 3 (c.example:5700) have "
                                     "the same encryption key"),
            std::string::npos)
      << r.error().message();
  EXPECT_TRUE(Encrypt(SecretFromString("x"), targets, 1).ok());  // any one of them: harmless
}

TEST(ThresholdEnvelope, EncryptRefusesTheSameServerTwice) {
  // One server keeps its old keys after a rotation: two of its keys would
  // still be one server holding two shares.
  std::vector<EncryptionTarget> targets;
  targets.push_back(Target("s1/encrypt-ec.pem", "a.example", 5700));
  targets.push_back(Target("s2/encrypt-ec.pem", "a.example", 5700));
  auto r = Encrypt(SecretFromString("x"), targets, 2);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().category(), ErrorCategory::kUsage);
  EXPECT_NE(r.error().message().find("are the same server"), std::string::npos)
      << r.error().message();
  targets.back().address.port = 5701;
  EXPECT_TRUE(Encrypt(SecretFromString("x"), targets, 2).ok());
}

TEST(ThresholdEnvelope, RefusesTwoRecipientsWithTheSameKey) {
  std::string text = EncryptTo(SecretFromString("x"), kThreeServers, 2);
  json doc = Doc(text);
  json copy = doc["recipients"][0];
  copy["header"]["share"] = 2;
  doc["recipients"][1] = copy;
  auto env = ParseEnvelope(doc.dump());
  ASSERT_FALSE(env.ok());
  EXPECT_EQ(env.error().category(), ErrorCategory::kCorrupt);
  EXPECT_NE(env.error().message().find("same key"), std::string::npos) << env.error().message();
}

TEST(ThresholdEnvelope, RefusesAMalformedThresholdOrShares) {
  std::string text = EncryptTo(SecretFromString("x"), kThreeServers, 2);
  ASSERT_TRUE(ParseEnvelope(text).ok());
  auto with_header = [&](auto f) {
    json header = ProtectedOf(text);
    f(header);
    return ParseEnvelope(WithProtected(text, header));
  };
  auto with_doc = [&](auto f) {
    json doc = Doc(text);
    f(doc);
    return ParseEnvelope(doc.dump());
  };
  EXPECT_FALSE(with_header([](json& h) { h.erase("crit"); }).ok());
  EXPECT_FALSE(with_header([](json& h) { h.erase("threshold"); }).ok());
  EXPECT_FALSE(with_header([](json& h) { h["threshold"] = 4; }).ok());  // only 3 recipients
  EXPECT_FALSE(with_header([](json& h) { h["threshold"] = 1; }).ok());
  EXPECT_FALSE(with_header([](json& h) { h["threshold"] = "2"; }).ok());
  EXPECT_FALSE(with_header([](json& h) { h["crit"] = json::array(); }).ok());
  EXPECT_FALSE(with_doc([](json& d) { d["recipients"][1]["header"]["share"] = 1; }).ok());
  EXPECT_FALSE(with_doc([](json& d) { d["recipients"][1]["header"].erase("share"); }).ok());
  EXPECT_FALSE(with_doc([](json& d) { d["recipients"][1]["header"]["share"] = 0; }).ok());
  EXPECT_FALSE(with_doc([](json& d) { d["recipients"][1]["header"]["share"] = 256; }).ok());
  EXPECT_FALSE(with_doc([](json& d) { d["recipients"][1]["header"]["share"] = "2"; }).ok());
  std::string plain = EncryptTo(SecretFromString("x"), {"s1/encrypt-ec.pem"});
  json doc = Doc(plain);
  doc["recipients"][0]["header"]["share"] = 1;
  EXPECT_FALSE(ParseEnvelope(doc.dump()).ok());  // a share without a threshold
}

TEST(ThresholdEnvelope, SwappedShareNumbersGiveNoPlaintext) {
  std::string text = EncryptTo(SecretFromString("x"), kThreeServers, 2);
  json doc = Doc(text);
  doc["recipients"][0]["header"]["share"] = 2;
  doc["recipients"][1]["header"]["share"] = 1;
  auto plain = Offline(doc.dump(), {kThreeKeys[0], kThreeKeys[1]});
  ASSERT_FALSE(plain.ok());
  EXPECT_EQ(plain.error().category(), ErrorCategory::kCorrupt);
}

TEST(JwePrimitives, ConcatKdfMatchesRfc7518Construction) {
  // Recomputed independently: SHA-256(00000001 || Z || 0000000e
  // "ECDH-ES+A256KW" || 00000000 || 00000000 || 00000100).
  SecretBytes z(32);
  SecretBytes kek = ConcatKdfA256KW(z);
  EXPECT_EQ(Base64UrlEncode(kek.secret_view()), "TUzFNH3Y9qQ5Ln7nSZXi4H_KVkY08P3LZb5Z2-D8s-Q");
}

TEST(JwePrimitives, KeyWrapRoundTripsAndDetectsTampering) {
  SecretBytes kek(32), key(32);
  kek.secret_data()[0] = 1;
  key.secret_data()[5] = 9;
  auto wrapped = AesKeyWrap(kek, key);
  ASSERT_TRUE(wrapped.ok());
  EXPECT_EQ(wrapped->size(), 40u);
  auto back = AesKeyUnwrap(kek, *wrapped);
  ASSERT_TRUE(back.ok());
  EXPECT_TRUE(back->ConstantTimeEquals(key));
  (*wrapped)[3] ^= 1;
  EXPECT_FALSE(AesKeyUnwrap(kek, *wrapped).ok());
}

}  // namespace
}  // namespace petera
