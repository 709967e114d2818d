// Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
//
// PayloadOpener and the key commitment: decryption succeeds whenever enough
// right answers arrive, whatever wrong ones (a server holding an RSA
// recipient's key can forge one) arrive with them or before them.
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "cert_factory.h"
#include "petera/envelope.h"
#include "test_util.h"

namespace petera {
namespace {

using nlohmann::json;
using testing::EncryptTo;
using testing::LoadKey;
using testing::SecretFromString;

Envelope Parse(const std::string& text) {
  auto env = ParseEnvelope(text);
  if (!env.ok()) throw std::runtime_error(env.error().message());
  return std::move(env).value();
}

// What recipient `index` unwraps through the blinded exchange, the server
// side done with the private key in `key_file`: what an honest server gives.
SecretBytes Unwrapped(const Envelope& env, size_t index, const std::string& key_file) {
  const Recipient& r = env.recipients[index];
  auto key = RecoveryKey::Create(LoadKey(key_file));
  auto blinding = StartRecovery(r);
  if (!key.ok() || !blinding.ok()) throw std::runtime_error("cannot start recovery");
  auto y = key->Recover(blinding->request());
  if (!y.ok()) throw std::runtime_error(y.error().message());
  auto unblinded = blinding->Unblind(*y);
  if (!unblinded.ok()) throw std::runtime_error(unblinded.error().message());
  auto unwrapped = UnwrapContentKey(r, *unblinded);
  if (!unwrapped.ok()) throw std::runtime_error(unwrapped.error().message());
  return std::move(unwrapped).value();
}

// What a lying server makes the client unwrap: 32 bytes of its choice.
SecretBytes Forged() {
  SecretBytes key(32);
  if (RAND_bytes(key.secret_data(), 32) != 1) throw std::runtime_error("RNG failure");
  return key;
}

void ExpectOpens(const Result<std::optional<SecretBytes>>& r, const SecretBytes& secret) {
  ASSERT_TRUE(r.ok()) << r.error().message();
  ASSERT_TRUE(r->has_value());
  EXPECT_TRUE((*r)->ConstantTimeEquals(secret));
}

void ExpectNeedsMore(const Result<std::optional<SecretBytes>>& r) {
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_FALSE(r->has_value());
}

TEST(KeyCommitment, IsHmacSha256OfTheLabelUnderTheContentKey) {
  SecretBytes cek = SecretFromString("0123456789abcdef0123456789abcdef");
  auto commitment = KeyCommitment(cek);
  ASSERT_TRUE(commitment.ok());
  // Computed here with OpenSSL's EVP_MAC interface rather than HMAC().
  const std::string label = "petera/v1 content key commitment";
  uint8_t expected[32];
  size_t len = 0;
  EVP_MAC* mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  EVP_MAC_CTX* ctx = EVP_MAC_CTX_new(mac);
  char digest[] = "SHA256";
  OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string("digest", digest, 0),
                         OSSL_PARAM_construct_end()};
  ASSERT_EQ(EVP_MAC_init(ctx, cek.secret_view().data(), cek.size(), params), 1);
  ASSERT_EQ(EVP_MAC_update(ctx, AsBytes(label).data(), label.size()), 1);
  ASSERT_EQ(EVP_MAC_final(ctx, expected, &len, sizeof expected), 1);
  EVP_MAC_CTX_free(ctx);
  EVP_MAC_free(mac);
  EXPECT_EQ(*commitment, Bytes(expected, expected + 32));
}

TEST(KeyCommitment, TheProtectedHeaderCommitsToTheContentKey) {
  SecretBytes secret = SecretFromString("committed");
  Envelope env = Parse(EncryptTo(secret, {"s1/encrypt-ec.pem", "s2/encrypt-rsa.pem"}));
  ASSERT_EQ(env.commitment.size(), 32u);
  SecretBytes cek = Unwrapped(env, 1, "s2/decrypt.d/rsa.pem");
  EXPECT_TRUE(MatchesCommitment(env, cek));
  EXPECT_EQ(*KeyCommitment(cek), env.commitment);
  EXPECT_FALSE(MatchesCommitment(env, Forged()));
  // DecryptPayload itself refuses a key the envelope does not commit to.
  auto refused = DecryptPayload(env, Forged());
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message().find("key commitment"), std::string::npos);
}

TEST(PayloadOpener, AForgedKeyThatArrivesFirstIsNamedAndTheRightOneOpens) {
  SecretBytes secret = SecretFromString("the right plaintext");
  Envelope env = Parse(EncryptTo(secret, {"s1/encrypt-rsa.pem", "s2/encrypt-ec.pem"}));
  PayloadOpener opener(env);
  ExpectNeedsMore(opener.Offer(0, Forged()));
  EXPECT_EQ(opener.wrong(), std::vector<size_t>{0});
  EXPECT_FALSE(opener.payload_failure()) << "a forged key never reaches the payload";
  ExpectOpens(opener.Offer(1, Unwrapped(env, 1, "s2/decrypt.d/ec.pem")), secret);
  EXPECT_EQ(opener.used(), std::vector<size_t>{1});
  EXPECT_EQ(opener.offered(), 2u);
}

TEST(PayloadOpener, ASecondOfferForTheSameRecipientIsIgnored) {
  SecretBytes secret = SecretFromString("once");
  Envelope env = Parse(EncryptTo(secret, {"s1/encrypt-ec.pem", "s2/encrypt-ec.pem"}));
  PayloadOpener opener(env);
  ExpectNeedsMore(opener.Offer(0, Forged()));
  ExpectNeedsMore(opener.Offer(0, Unwrapped(env, 0, "s1/decrypt.d/ec.pem")));
  EXPECT_EQ(opener.offered(), 1u);
  ExpectOpens(opener.Offer(1, Unwrapped(env, 1, "s2/decrypt.d/ec.pem")), secret);
}

TEST(PayloadOpener, AForgedShareFirstStillOpensTwoOfThreeWithTheHonestShares) {
  SecretBytes secret = SecretFromString("two honest shares");
  Envelope env = Parse(
      EncryptTo(secret, {"s1/encrypt-rsa.pem", "s2/encrypt-ec.pem", "s3/encrypt-ec.pem"}, 2));
  PayloadOpener opener(env);
  ExpectNeedsMore(opener.Offer(0, Forged()));
  ExpectNeedsMore(opener.Offer(1, Unwrapped(env, 1, "s2/decrypt.d/ec.pem")));
  ExpectOpens(opener.Offer(2, Unwrapped(env, 2, "s3/decrypt.d/ec.pem")), secret);
  EXPECT_EQ(opener.used(), (std::vector<size_t>{1, 2}));
  // The two honest shares fix the polynomial: the forged one is not on it.
  EXPECT_EQ(opener.wrong(), std::vector<size_t>{0});
}

TEST(PayloadOpener, TwoForgedSharesOfFiveStillOpenThreeOfFive) {
  SecretBytes secret = SecretFromString("three of five");
  const std::vector<std::string> chains = {"s1/encrypt-ec.pem", "s2/encrypt-ec.pem",
                                           "s3/encrypt-ec.pem", "s1/encrypt-rsa.pem",
                                           "s2/encrypt-rsa.pem"};
  Envelope env = Parse(EncryptTo(secret, chains, 3));
  PayloadOpener opener(env);
  ExpectNeedsMore(opener.Offer(3, Forged()));
  ExpectNeedsMore(opener.Offer(0, Unwrapped(env, 0, "s1/decrypt.d/ec.pem")));
  ExpectNeedsMore(opener.Offer(4, Forged()));
  ExpectNeedsMore(opener.Offer(1, Unwrapped(env, 1, "s2/decrypt.d/ec.pem")));
  ExpectOpens(opener.Offer(2, Unwrapped(env, 2, "s3/decrypt.d/ec.pem")), secret);
  EXPECT_EQ(opener.used(), (std::vector<size_t>{0, 1, 2}));
  EXPECT_EQ(opener.wrong(), (std::vector<size_t>{3, 4}));
}

TEST(PayloadOpener, AnHonestShareThatIsNotNeededIsNotCalledWrong) {
  SecretBytes secret = SecretFromString("all honest");
  Envelope env = Parse(
      EncryptTo(secret, {"s1/encrypt-ec.pem", "s2/encrypt-ec.pem", "s3/encrypt-ec.pem"}, 2));
  PayloadOpener opener(env);
  ExpectNeedsMore(opener.Offer(2, Unwrapped(env, 2, "s3/decrypt.d/ec.pem")));
  ExpectOpens(opener.Offer(0, Unwrapped(env, 0, "s1/decrypt.d/ec.pem")), secret);
  EXPECT_TRUE(opener.wrong().empty());
}

TEST(PayloadOpener, GivesUpAfterItsBudgetOfCombinations) {
  // 30 recipients, any 20 of them: forged shares only. From the 20th offer
  // on, each offer tries every set of 20 that includes it: 1, 20, 210 and
  // 1540 sets, then 8855 for the 24th, which passes the budget of 10,000.
  testing::Issued root = testing::Issue({.cn = "Root", .ca = true}, nullptr);
  std::vector<EncryptionTarget> targets;
  for (uint16_t i = 0; i < 30; ++i) {
    testing::Issued leaf = testing::Issue({.cn = "enc", .sans = {"DNS:localhost"},
                                  .key_usage = "keyAgreement"}, &root);
    std::vector<X509Ptr> chain;
    chain.push_back(std::move(leaf.cert));
    targets.push_back({std::move(chain), Address{"localhost", static_cast<uint16_t>(6000 + i)}});
  }
  auto text = Encrypt(SecretFromString("x"), targets, 20);
  ASSERT_TRUE(text.ok()) << text.error().message();
  Envelope env = Parse(*text);
  PayloadOpener opener(env);
  for (size_t i = 0; i < 23; ++i) ExpectNeedsMore(opener.Offer(i, Forged()));
  auto last = opener.Offer(23, Forged());
  ASSERT_FALSE(last.ok());
  EXPECT_EQ(last.error().category(), ErrorCategory::kProtocol);
  EXPECT_NE(last.error().message().find("gave up after " +
                                        std::to_string(PayloadOpener::kMaxCombinations)),
            std::string::npos)
      << last.error().message();
}

// ---- Envelopes written before the commitment ------------------------------

// `text` as a writer without commitments would have made it: the protected
// header without "commit", the payload sealed again under it.
std::string WithoutCommitment(const std::string& text, const SecretBytes& cek,
                              const SecretBytes& plaintext) {
  json doc = json::parse(text);
  auto raw = Base64UrlDecode(doc["protected"].get<std::string>());
  json header = json::parse(std::string(raw->begin(), raw->end()));
  header.erase("commit");
  std::string aad = Base64UrlEncode(AsBytes(header.dump()));
  Bytes iv(12), ciphertext(plaintext.size()), tag(16);
  int len = 0;
  EvpCipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  bool ok = RAND_bytes(iv.data(), 12) == 1 &&
            EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, cek.secret_view().data(),
                               iv.data()) == 1 &&
            EVP_EncryptUpdate(ctx.get(), nullptr, &len, AsBytes(aad).data(),
                              static_cast<int>(aad.size())) == 1 &&
            EVP_EncryptUpdate(ctx.get(), ciphertext.data(), &len, plaintext.secret_view().data(),
                              static_cast<int>(plaintext.size())) == 1 &&
            EVP_EncryptFinal_ex(ctx.get(), ciphertext.data() + len, &len) == 1 &&
            EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, 16, tag.data()) == 1;
  if (!ok) throw std::runtime_error("AES-GCM failed");
  doc["protected"] = aad;
  doc["iv"] = Base64UrlEncode(iv);
  doc["ciphertext"] = Base64UrlEncode(ciphertext);
  doc["tag"] = Base64UrlEncode(tag);
  return doc.dump();
}

TEST(PayloadOpener, AnEnvelopeWithoutACommitmentStillOpensPastAForgedKey) {
  SecretBytes secret = SecretFromString("written before commitments");
  std::string text = EncryptTo(secret, {"s1/encrypt-rsa.pem", "s2/encrypt-ec.pem"});
  SecretBytes cek = Unwrapped(Parse(text), 1, "s2/decrypt.d/ec.pem");
  std::string old = WithoutCommitment(text, cek, secret);
  Envelope env = Parse(old);
  EXPECT_TRUE(env.commitment.empty());
  EXPECT_TRUE(MatchesCommitment(env, Forged())) << "nothing to check without a commitment";

  PayloadOpener opener(env);
  ExpectNeedsMore(opener.Offer(0, Forged()));
  EXPECT_EQ(opener.wrong(), std::vector<size_t>{0});
  ASSERT_TRUE(opener.payload_failure()) << "only the tag can tell here";
  EXPECT_EQ(opener.payload_failure()->category(), ErrorCategory::kCorrupt);
  ExpectOpens(opener.Offer(1, Unwrapped(env, 1, "s2/decrypt.d/ec.pem")), secret);

  // And offline, with the private keys, as before.
  auto plain = DecryptWithPrivateKey(env, LoadKey("s1/decrypt.d/rsa.pem").get());
  ASSERT_TRUE(plain.ok()) << plain.error().message();
  EXPECT_TRUE(plain->ConstantTimeEquals(secret));
}

TEST(PayloadOpener, AKeyTheEnvelopeCommitsToButThatFailsTheTagEndsTheSearch) {
  SecretBytes secret = SecretFromString("damaged");
  std::string text = EncryptTo(secret, {"s1/encrypt-ec.pem", "s2/encrypt-ec.pem"});
  json doc = json::parse(text);
  auto tag = Base64UrlDecode(doc["tag"].get<std::string>());
  (*tag)[0] ^= 1;
  doc["tag"] = Base64UrlEncode(*tag);
  Envelope env = Parse(doc.dump());
  PayloadOpener opener(env);
  auto r = opener.Offer(0, Unwrapped(env, 0, "s1/decrypt.d/ec.pem"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().category(), ErrorCategory::kCorrupt);
}

}  // namespace
}  // namespace petera
