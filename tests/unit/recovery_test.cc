// Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
#include "petera/recovery.h"

#include <gtest/gtest.h>
#include <openssl/core_names.h>
#include <openssl/param_build.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>

#include "petera/envelope.h"
#include "petera/pem.h"
#include "test_util.h"

namespace petera {
namespace {

using testing::LoadChain;
using testing::LoadKey;

struct KeyCase {
  const char* chain;
  const char* key;
};

class BlindedRecoveryTest : public ::testing::TestWithParam<KeyCase> {};

// The blinded exchange recovers what direct decryption to the same key
// recovers, and the server never sees the value the client ends up with.
TEST_P(BlindedRecoveryTest, RecoversTheSameKeyAsDirectDecryption) {
  auto chain = LoadChain(GetParam().chain);
  auto server = RecoveryKey::Create(LoadKey(GetParam().key));
  ASSERT_TRUE(server.ok()) << server.error().message();
  EXPECT_EQ(server->kid(), *KeyId(X509_get0_pubkey(chain[0].get())));
  EXPECT_EQ(server->kid(), *KeyIdOfCertificate(chain[0].get()));

  SecretBytes secret(reinterpret_cast<const uint8_t*>("a disk key of a few bytes"), 25);
  std::vector<EncryptionTarget> targets;
  targets.push_back({std::move(chain), Address{"localhost", 5700}});
  auto text = Encrypt(secret, targets);
  ASSERT_TRUE(text.ok()) << text.error().message();
  auto env = ParseEnvelope(*text);
  ASSERT_TRUE(env.ok()) << env.error().message();
  const Recipient& r = env->recipients[0];

  auto blinding = StartRecovery(r);
  ASSERT_TRUE(blinding.ok()) << blinding.error().message();
  auto second = StartRecovery(r);
  ASSERT_TRUE(second.ok());
  EXPECT_NE(blinding->request(), second->request()) << "blinding must be fresh each time";
  EXPECT_NE(blinding->request(), r.is_ec() ? r.epk : r.encrypted_key);

  auto answer = server->Recover(blinding->request());
  ASSERT_TRUE(answer.ok()) << answer.error().message();
  auto unblinded = blinding->Unblind(*answer);
  ASSERT_TRUE(unblinded.ok()) << unblinded.error().message();
  auto cek = UnwrapContentKey(r, *unblinded);
  ASSERT_TRUE(cek.ok()) << cek.error().message();
  auto plain = DecryptPayload(*env, *cek);
  ASSERT_TRUE(plain.ok());
  EXPECT_TRUE(plain->ConstantTimeEquals(secret));
}

TEST_P(BlindedRecoveryTest, AWrongAnswerFailsWithoutPlaintext) {
  auto chain = LoadChain(GetParam().chain);
  auto server = RecoveryKey::Create(LoadKey(GetParam().key));
  ASSERT_TRUE(server.ok());
  SecretBytes secret(8);
  std::vector<EncryptionTarget> targets;
  targets.push_back({std::move(chain), Address{"localhost", 5700}});
  auto env = ParseEnvelope(*Encrypt(secret, targets));
  ASSERT_TRUE(env.ok());
  const Recipient& r = env->recipients[0];
  auto blinding = StartRecovery(r);
  ASSERT_TRUE(blinding.ok());
  // A different, valid request answered honestly is still the wrong answer.
  auto other = StartRecovery(r);
  auto answer = server->Recover(other->request());
  ASSERT_TRUE(answer.ok());
  auto unblinded = blinding->Unblind(*answer);
  if (unblinded.ok()) {
    EXPECT_FALSE(UnwrapContentKey(r, *unblinded).ok());
  } else {
    EXPECT_EQ(unblinded.error().category(), ErrorCategory::kCorrupt);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Keys, BlindedRecoveryTest,
    ::testing::Values(KeyCase{"s1/encrypt-ec.pem", "s1/decrypt.d/ec.pem"},
                      KeyCase{"s1/encrypt-p384.pem", "s1/decrypt.d/p384.pem"},
                      KeyCase{"s1/encrypt-p521.pem", "s1/decrypt.d/p521.pem"},
                      KeyCase{"s1/encrypt-rsa.pem", "s1/decrypt.d/rsa.pem"}));

class ServerValidationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto ec = RecoveryKey::Create(LoadKey("s1/decrypt.d/ec.pem"));
    auto rsa = RecoveryKey::Create(LoadKey("s1/decrypt.d/rsa.pem"));
    ASSERT_TRUE(ec.ok() && rsa.ok());
    ec_ = std::make_unique<RecoveryKey>(std::move(ec).value());
    rsa_ = std::make_unique<RecoveryKey>(std::move(rsa).value());
    point_ = *EcPublicPoint(X509_get0_pubkey(LoadChain("s1/encrypt-ec.pem")[0].get()));
  }
  void ExpectRefused(const RecoveryKey& key, const Bytes& x) {
    auto r = key.Recover(x);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().category(), ErrorCategory::kProtocol) << r.error().message();
  }
  std::unique_ptr<RecoveryKey> ec_, rsa_;
  Bytes point_;  // a valid P-256 point
};

TEST_F(ServerValidationTest, AcceptsAValidPoint) { EXPECT_TRUE(ec_->Recover(point_).ok()); }

TEST_F(ServerValidationTest, RefusesInfinityEmptyAndTruncatedPoints) {
  ExpectRefused(*ec_, Bytes{0x00});
  ExpectRefused(*ec_, Bytes{});
  ExpectRefused(*ec_, Bytes(point_.begin(), point_.end() - 1));
  Bytes longer = point_;
  longer.push_back(0);
  ExpectRefused(*ec_, longer);
}

TEST_F(ServerValidationTest, RefusesCompressedAndHybridEncodings) {
  Bytes compressed(point_.begin(), point_.begin() + 33);
  compressed[0] = static_cast<uint8_t>(0x02 | (point_.back() & 1));
  ExpectRefused(*ec_, compressed);
  Bytes hybrid = point_;
  hybrid[0] = static_cast<uint8_t>(0x06 | (point_.back() & 1));
  ExpectRefused(*ec_, hybrid);
}

TEST_F(ServerValidationTest, RefusesPointsOffTheCurve) {
  Bytes off = point_;
  off.back() ^= 1;
  ExpectRefused(*ec_, off);
}

TEST_F(ServerValidationTest, RefusesCoordinatesAtOrAboveTheFieldPrime) {
  Bytes big(65, 0xff);
  big[0] = 0x04;
  ExpectRefused(*ec_, big);
}

TEST_F(ServerValidationTest, RefusesAPointOfAnotherCurve) {
  Bytes p384 = *EcPublicPoint(X509_get0_pubkey(LoadChain("s1/encrypt-p384.pem")[0].get()));
  ExpectRefused(*ec_, p384);
}

TEST_F(ServerValidationTest, RefusesRsaValuesOutsideZeroToN) {
  size_t k = static_cast<size_t>(EVP_PKEY_get_size(rsa_->pkey()));
  ExpectRefused(*rsa_, Bytes(k, 0x00));          // c = 0
  ExpectRefused(*rsa_, Bytes(k, 0xff));          // c > n
  ExpectRefused(*rsa_, Bytes(k - 1, 0x01));      // wrong length
  BIGNUM* n = nullptr;
  ASSERT_EQ(EVP_PKEY_get_bn_param(rsa_->pkey(), "n", &n), 1);
  Bytes n_bytes(k);
  BN_bn2binpad(n, n_bytes.data(), static_cast<int>(k));
  BN_free(n);
  ExpectRefused(*rsa_, n_bytes);                 // c = n
  Bytes one(k, 0);
  one.back() = 1;
  EXPECT_TRUE(rsa_->Recover(one).ok());          // c = 1 is in range
}

TEST(RecoveryKey, RefusesPublicOnlyAndWeakKeys) {
  EvpPkeyPtr pub(X509_get_pubkey(LoadChain("s1/encrypt-ec.pem")[0].get()));
  EXPECT_FALSE(RecoveryKey::Create(std::move(pub)).ok());
  auto weak = LoadPemFile(testing::Pki("bad/rsa1024-encrypt-key.pem"));
  ASSERT_TRUE(weak.ok());
  EXPECT_FALSE(RecoveryKey::Create(std::move(weak->private_keys[0])).ok());
}

// An RSA public key with a modulus of exactly `bits` bits (not a real key:
// only its size matters here).
EvpPkeyPtr RsaPublicKeyOfSize(int bits) {
  BnPtr n(BN_new());
  BnPtr e(BN_new());
  EXPECT_TRUE(n && e && BN_set_bit(n.get(), bits - 1) == 1 && BN_set_bit(n.get(), 0) == 1 &&
              BN_set_word(e.get(), RSA_F4) == 1);
  OsslPtr<OSSL_PARAM_BLD, OSSL_PARAM_BLD_free> build(OSSL_PARAM_BLD_new());
  EXPECT_TRUE(build && OSSL_PARAM_BLD_push_BN(build.get(), OSSL_PKEY_PARAM_RSA_N, n.get()) == 1 &&
              OSSL_PARAM_BLD_push_BN(build.get(), OSSL_PKEY_PARAM_RSA_E, e.get()) == 1);
  OsslPtr<OSSL_PARAM, OSSL_PARAM_free> params(OSSL_PARAM_BLD_to_param(build.get()));
  EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, "RSA", nullptr));
  EVP_PKEY* key = nullptr;
  EXPECT_TRUE(params && ctx && EVP_PKEY_fromdata_init(ctx.get()) == 1 &&
              EVP_PKEY_fromdata(ctx.get(), &key, EVP_PKEY_PUBLIC_KEY, params.get()) == 1);
  return EvpPkeyPtr(key);
}

TEST(CheckEncryptionKeyType, AcceptsRsaFrom2048To8192Bits) {
  for (int bits : {2048, 3072, 4096, 8192}) {
    EvpPkeyPtr key = RsaPublicKeyOfSize(bits);
    ASSERT_TRUE(key);
    EXPECT_TRUE(CheckEncryptionKeyType(key.get(), "test key").ok()) << bits;
  }
  // Below, too weak; above, its values would not fit the envelope's and the
  // protocol's limits, and encryption would succeed where recovery cannot.
  for (int bits : {2047, 8193, 12288, 15360}) {
    EvpPkeyPtr key = RsaPublicKeyOfSize(bits);
    ASSERT_TRUE(key);
    Status status = CheckEncryptionKeyType(key.get(), "test key");
    ASSERT_FALSE(status.ok()) << bits;
    EXPECT_NE(status.error().message().find("2048 to 8192 supported"), std::string::npos)
        << status.error().message();
  }
}

TEST(RecoveryWire, RoundTripsRequestAndResponse) {
  RecoveryRequest req{"abc", Bytes{1, 2, 3}};
  auto parsed = ParseRecoveryRequest(SerializeRecoveryRequest(req));
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->kid, "abc");
  EXPECT_EQ(parsed->x, req.x);
  // The exact bytes, as nlohmann::json::dump wrote them before the server
  // wrote them itself.
  EXPECT_EQ(SerializeRecoveryResponse({Bytes{9, 8}}), R"({"y":"CQg"})");
  EXPECT_EQ(SerializeRecoveryResponse({Bytes{0xfb, 0xff}}), R"({"y":"-_8"})");
  auto resp = ParseRecoveryResponse(SerializeRecoveryResponse({Bytes{9, 8}}));
  ASSERT_TRUE(resp.ok());
  EXPECT_EQ(resp->y, (Bytes{9, 8}));
}

TEST(RecoveryWire, RefusesMalformedRequests) {
  for (const char* body : {"", "[]", "{", "{\"kid\":1,\"x\":\"AA\"}", "{\"kid\":\"a\"}",
                           "{\"kid\":\"a\",\"x\":\"A\"}", "{\"kid\":\"a\",\"x\":\"AA\",\"z\":1}",
                           "{\"kid\":\"a\",\"x\":\"AA==\"}"}) {
    auto r = ParseRecoveryRequest(body);
    EXPECT_FALSE(r.ok()) << body;
  }
  std::string deep(1000, '[');
  EXPECT_FALSE(ParseRecoveryRequest(deep).ok());
  std::string huge = "{\"kid\":\"a\",\"x\":\"" + std::string(5000, 'A') + "\"}";
  auto r = ParseRecoveryRequest(huge);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().category(), ErrorCategory::kTooLarge);
}

}  // namespace
}  // namespace petera
