// Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
//
// Petera's crypto core against Project Wycheproof's vectors (copied into
// tests/vectors/, see the README there): the server's EC point validation
// and multiplication, the blinded EC exchange, AES-256-GCM with the
// parameters the envelope uses, AES-256 key wrap, and RSA-OAEP-256 decoding
// after the raw RSA operation the server performs.
//
// Every vector of a file is one test case. A separate test per file asserts
// that the file loaded and produced cases, so a missing or empty file cannot
// pass silently.
#include <gtest/gtest.h>
#include <openssl/core_names.h>
#include <openssl/obj_mac.h>
#include <openssl/param_build.h>

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "petera/encoding.h"
#include "petera/envelope.h"
#include "petera/ossl.h"
#include "petera/recovery.h"
#include "petera/secret.h"

#ifndef PETERA_VECTORS_DIR
#error "PETERA_VECTORS_DIR must name the directory holding the Wycheproof files"
#endif

namespace petera {
namespace {

using nlohmann::json;
using ParamBldPtr = OsslPtr<OSSL_PARAM_BLD, OSSL_PARAM_BLD_free>;
using ParamPtr = OsslPtr<OSSL_PARAM, OSSL_PARAM_free>;

// ---- Loading ----------------------------------------------------------------

Bytes Hex(const std::string& hex) {
  Bytes out;
  out.reserve(hex.size() / 2);
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<uint8_t>(std::stoul(hex.substr(i, 2), nullptr, 16)));
  }
  return out;
}

std::string HexOf(std::span<const uint8_t> bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (uint8_t b : bytes) {
    out += kDigits[b >> 4];
    out += kDigits[b & 15];
  }
  return out;
}

// The parsed file, or a null document when it is missing or not JSON (the
// per-file count tests then fail).
json LoadFile(const std::string& name) {
  std::ifstream in(std::string(PETERA_VECTORS_DIR) + "/" + name);
  if (!in) return json();
  std::stringstream text;
  text << in.rdbuf();
  json doc = json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
  return doc.is_discarded() ? json() : doc;
}

// Calls `fn(group, test)` for every test of every group of a loaded file.
template <typename Fn>
void ForEachTest(const json& doc, Fn fn) {
  if (!doc.is_object() || !doc.contains("testGroups")) return;
  for (const auto& group : doc["testGroups"]) {
    for (const auto& test : group["tests"]) fn(group, test);
  }
}

std::string CaseName(int tc_id, const std::string& result) {
  return "tc" + std::to_string(tc_id) + "_" + result;
}

// ---- ECDH point validation ---------------------------------------------------

struct EcdhVector {
  std::string file;
  int nid = NID_undef;
  int tc_id = 0;
  std::string result;  // valid, invalid, acceptable
  std::string comment;
  Bytes public_point;
  Bytes private_scalar;
  Bytes shared;
};

void PrintTo(const EcdhVector& v, std::ostream* os) {
  *os << v.file << " tcId " << v.tc_id << " (" << v.result << ": " << v.comment << ")";
}

int CurveNid(const std::string& wycheproof_name) {
  if (wycheproof_name == "secp256r1") return NID_X9_62_prime256v1;
  if (wycheproof_name == "secp384r1") return NID_secp384r1;
  if (wycheproof_name == "secp521r1") return NID_secp521r1;
  return NID_undef;
}

const std::vector<EcdhVector>& EcdhVectors(const std::string& file) {
  static std::map<std::string, std::vector<EcdhVector>> cache;
  auto it = cache.find(file);
  if (it != cache.end()) return it->second;
  std::vector<EcdhVector>& out = cache[file];
  ForEachTest(LoadFile(file), [&](const json& group, const json& test) {
    EcdhVector v;
    v.file = file;
    v.nid = CurveNid(group.value("curve", ""));
    v.tc_id = test["tcId"].get<int>();
    v.result = test["result"].get<std::string>();
    v.comment = test.value("comment", "");
    v.public_point = Hex(test["public"].get<std::string>());
    v.private_scalar = Hex(test["private"].get<std::string>());
    v.shared = Hex(test["shared"].get<std::string>());
    out.push_back(std::move(v));
  });
  return out;
}

// A private EC key from a raw scalar: the public point is computed with
// EC_POINT_mul and both go to EVP_PKEY_fromdata.
EvpPkeyPtr EcPrivateKey(int nid, const Bytes& scalar) {
  EcGroupPtr group(EC_GROUP_new_by_curve_name(nid));
  BnPtr d(BN_bin2bn(scalar.data(), static_cast<int>(scalar.size()), nullptr));
  BnCtxPtr ctx(BN_CTX_new());
  if (!group || !d || !ctx) return nullptr;
  EcPointPtr pub(EC_POINT_new(group.get()));
  if (!pub || EC_POINT_mul(group.get(), pub.get(), d.get(), nullptr, nullptr, ctx.get()) != 1) {
    return nullptr;
  }
  Bytes pub_bytes(EC_POINT_point2oct(group.get(), pub.get(), POINT_CONVERSION_UNCOMPRESSED,
                                     nullptr, 0, ctx.get()));
  if (pub_bytes.empty() ||
      EC_POINT_point2oct(group.get(), pub.get(), POINT_CONVERSION_UNCOMPRESSED,
                         pub_bytes.data(), pub_bytes.size(), ctx.get()) != pub_bytes.size()) {
    return nullptr;
  }
  ParamBldPtr bld(OSSL_PARAM_BLD_new());
  if (!bld ||
      OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, OBJ_nid2sn(nid),
                                      0) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_PRIV_KEY, d.get()) != 1 ||
      OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, pub_bytes.data(),
                                       pub_bytes.size()) != 1) {
    return nullptr;
  }
  ParamPtr params(OSSL_PARAM_BLD_to_param(bld.get()));
  EvpPkeyCtxPtr pctx(EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
  EVP_PKEY* key = nullptr;
  if (!params || !pctx || EVP_PKEY_fromdata_init(pctx.get()) != 1 ||
      EVP_PKEY_fromdata(pctx.get(), &key, EVP_PKEY_KEYPAIR, params.get()) != 1) {
    return nullptr;
  }
  return EvpPkeyPtr(key);
}

size_t FieldBytesOf(int nid) {
  EcGroupPtr group(EC_GROUP_new_by_curve_name(nid));
  return group ? FieldBytes(group.get()) : 0;
}

class EcdhPointValidation : public ::testing::TestWithParam<EcdhVector> {};

// The server operation: RecoveryKey::Recover must refuse every invalid point
// and return s*X, whose x-coordinate is the expected ECDH secret, for every
// valid one. "acceptable" vectors are compressed points: Petera's wire format
// is the uncompressed point only, so refusing them is intended; accepting one
// would still have to give the right secret.
TEST_P(EcdhPointValidation, ServerRefusesInvalidPointsAndMultipliesValidOnes) {
  const EcdhVector& v = GetParam();
  ASSERT_NE(v.nid, NID_undef);
  EvpPkeyPtr pkey = EcPrivateKey(v.nid, v.private_scalar);
  ASSERT_TRUE(pkey) << DrainSslErrors();
  auto key = RecoveryKey::Create(std::move(pkey));
  ASSERT_TRUE(key.ok()) << key.error().message();

  auto y = key->Recover(v.public_point);
  if (v.result == "invalid") {
    EXPECT_FALSE(y.ok()) << "accepted an invalid point";
    if (!y.ok()) {
      EXPECT_EQ(y.error().category(), ErrorCategory::kProtocol);
    }
    return;
  }
  if (v.result == "acceptable" && !y.ok()) {
    EXPECT_NE(v.public_point.at(0), 0x04) << "refused an acceptable uncompressed point";
    return;
  }
  ASSERT_TRUE(y.ok()) << y.error().message();
  size_t flen = FieldBytesOf(v.nid);
  ASSERT_EQ(y->size(), 1 + 2 * flen);
  EXPECT_EQ(y->at(0), 0x04);
  EXPECT_EQ(HexOf(std::span(*y).subspan(1, flen)), HexOf(v.shared));
}

// The client half on the same vectors: Blinding::ForEc treats the vector's
// public point as an envelope's epk and the vector's key as the server's.
// The full exchange (random e, X = epk + e*G, Y = s*X, Y - e*S) must land on
// the same secret; invalid points must already be refused by the client.
TEST_P(EcdhPointValidation, BlindedExchangeGivesTheSameSharedSecret) {
  const EcdhVector& v = GetParam();
  EvpPkeyPtr pkey = EcPrivateKey(v.nid, v.private_scalar);
  ASSERT_TRUE(pkey) << DrainSslErrors();
  EVP_PKEY* server_public = pkey.get();
  EVP_PKEY_up_ref(server_public);
  EvpPkeyPtr public_ref(server_public);
  auto key = RecoveryKey::Create(std::move(pkey));
  ASSERT_TRUE(key.ok()) << key.error().message();

  auto blinding = Blinding::ForEc(public_ref.get(), v.public_point);
  if (v.result == "invalid") {
    EXPECT_FALSE(blinding.ok()) << "client blinded an invalid epk";
    return;
  }
  if (v.result == "acceptable" && !blinding.ok()) {
    EXPECT_NE(v.public_point.at(0), 0x04);
    return;
  }
  ASSERT_TRUE(blinding.ok()) << blinding.error().message();
  EXPECT_NE(HexOf(blinding->request()), HexOf(v.public_point)) << "request is not blinded";
  auto y = key->Recover(blinding->request());
  ASSERT_TRUE(y.ok()) << y.error().message();
  auto z = blinding->Unblind(*y);
  ASSERT_TRUE(z.ok()) << z.error().message();
  EXPECT_EQ(HexOf(z->secret_view()), HexOf(v.shared));
}

std::string EcdhName(const ::testing::TestParamInfo<EcdhVector>& info) {
  return CaseName(info.param.tc_id, info.param.result);
}

INSTANTIATE_TEST_SUITE_P(P256, EcdhPointValidation,
                         ::testing::ValuesIn(EcdhVectors("ecdh_secp256r1_ecpoint_test.json")),
                         EcdhName);
INSTANTIATE_TEST_SUITE_P(P384, EcdhPointValidation,
                         ::testing::ValuesIn(EcdhVectors("ecdh_secp384r1_ecpoint_test.json")),
                         EcdhName);
INSTANTIATE_TEST_SUITE_P(P521, EcdhPointValidation,
                         ::testing::ValuesIn(EcdhVectors("ecdh_secp521r1_ecpoint_test.json")),
                         EcdhName);

// Encodings Wycheproof's ecpoint files do not cover, made from a valid
// vector of each curve: hybrid form, the point at infinity, (0, 0), and, on
// P-521 where the 66-byte field leaves room, coordinates plus p (the same
// point modulo p, not a canonical encoding).
TEST(EcdhPointValidationExtra, ServerRefusesNonCanonicalAndDegenerateEncodings) {
  for (const char* file : {"ecdh_secp256r1_ecpoint_test.json", "ecdh_secp384r1_ecpoint_test.json",
                           "ecdh_secp521r1_ecpoint_test.json"}) {
    const auto& vectors = EcdhVectors(file);
    ASSERT_FALSE(vectors.empty()) << file;
    const EcdhVector& v = vectors.front();
    ASSERT_EQ(v.result, "valid");
    auto key = RecoveryKey::Create(EcPrivateKey(v.nid, v.private_scalar));
    ASSERT_TRUE(key.ok()) << key.error().message();
    ASSERT_TRUE(key->Recover(v.public_point).ok()) << file;
    size_t flen = FieldBytesOf(v.nid);

    std::vector<std::pair<std::string, Bytes>> bad;
    Bytes hybrid = v.public_point;
    hybrid[0] = static_cast<uint8_t>(0x06 | (v.public_point.back() & 1));
    bad.emplace_back("hybrid form", hybrid);
    bad.emplace_back("infinity (single zero byte)", Bytes{0x00});
    Bytes zeros(1 + 2 * flen, 0);
    bad.emplace_back("all-zero coordinates, no prefix", zeros);
    zeros[0] = 0x04;
    bad.emplace_back("(0, 0)", zeros);
    Bytes truncated(v.public_point.begin(), v.public_point.end() - 1);
    bad.emplace_back("truncated", truncated);
    Bytes extended = v.public_point;
    extended.push_back(0);
    bad.emplace_back("trailing byte", extended);
    if (v.nid == NID_secp521r1) {
      // p = 2^521 - 1; x + p fits in 66 bytes when x < 2^527 - 2^521 + 1.
      EcGroupPtr group(EC_GROUP_new_by_curve_name(v.nid));
      BnPtr p(BN_new()), x(BN_bin2bn(v.public_point.data() + 1, static_cast<int>(flen), nullptr));
      ASSERT_TRUE(group && p && x);
      ASSERT_EQ(EC_GROUP_get_curve(group.get(), p.get(), nullptr, nullptr, nullptr), 1);
      ASSERT_EQ(BN_add(x.get(), x.get(), p.get()), 1);
      Bytes shifted = v.public_point;
      ASSERT_EQ(BN_bn2binpad(x.get(), shifted.data() + 1, static_cast<int>(flen)),
                static_cast<int>(flen));
      bad.emplace_back("x + p", shifted);
    }
    for (const auto& [what, point] : bad) {
      EXPECT_FALSE(key->Recover(point).ok()) << file << ": accepted " << what;
    }
  }
}

// ---- AES-256-GCM ---------------------------------------------------------------

struct GcmVector {
  int tc_id = 0;
  std::string result;
  std::string comment;
  Bytes key, iv, aad, msg, ct, tag;
};

void PrintTo(const GcmVector& v, std::ostream* os) {
  *os << "aes_gcm_test.json tcId " << v.tc_id << " (" << v.result << ": " << v.comment << ")";
}

// Only the parameters the envelope uses: 256-bit key, 96-bit IV, 128-bit tag.
const std::vector<GcmVector>& GcmVectors() {
  static const std::vector<GcmVector> vectors = [] {
    std::vector<GcmVector> out;
    ForEachTest(LoadFile("aes_gcm_test.json"), [&](const json& group, const json& test) {
      if (group["keySize"] != 256 || group["ivSize"] != 96 || group["tagSize"] != 128) return;
      GcmVector v;
      v.tc_id = test["tcId"].get<int>();
      v.result = test["result"].get<std::string>();
      v.comment = test.value("comment", "");
      v.key = Hex(test["key"].get<std::string>());
      v.iv = Hex(test["iv"].get<std::string>());
      v.aad = Hex(test["aad"].get<std::string>());
      v.msg = Hex(test["msg"].get<std::string>());
      v.ct = Hex(test["ct"].get<std::string>());
      v.tag = Hex(test["tag"].get<std::string>());
      out.push_back(std::move(v));
    });
    return out;
  }();
  return vectors;
}

// AES-256-GCM encryption with a given IV, the EVP sequence envelope.cc's
// Seal uses (which picks its IV itself and so cannot run known answers).
bool GcmSeal(const GcmVector& v, Bytes& ct, Bytes& tag) {
  EvpCipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  ct.assign(v.msg.size(), 0);
  tag.assign(16, 0);
  int len = 0;
  return ctx &&
         EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, v.key.data(), v.iv.data()) ==
             1 &&
         EVP_EncryptUpdate(ctx.get(), nullptr, &len, v.aad.data(),
                           static_cast<int>(v.aad.size())) == 1 &&
         EVP_EncryptUpdate(ctx.get(), ct.data(), &len, v.msg.data(),
                           static_cast<int>(v.msg.size())) == 1 &&
         EVP_EncryptFinal_ex(ctx.get(), ct.data() + len, &len) == 1 &&
         EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, 16, tag.data()) == 1;
}

class AesGcm : public ::testing::TestWithParam<GcmVector> {};

// Decryption goes through petera::DecryptPayload: an Envelope whose
// protected member (the AAD) holds the vector's AAD bytes.
TEST_P(AesGcm, DecryptPayloadOpensValidAndRefusesInvalid) {
  const GcmVector& v = GetParam();
  Envelope env;
  env.protected_b64.assign(v.aad.begin(), v.aad.end());
  env.iv = v.iv;
  env.ciphertext = v.ct;
  env.tag = v.tag;
  SecretBytes key(v.key.data(), v.key.size());
  auto plain = DecryptPayload(env, key);
  if (v.result == "invalid") {
    EXPECT_FALSE(plain.ok()) << "tag accepted";
    if (!plain.ok()) {
      EXPECT_EQ(plain.error().category(), ErrorCategory::kCorrupt);
    }
    return;
  }
  ASSERT_EQ(v.result, "valid");
  ASSERT_TRUE(plain.ok()) << plain.error().message();
  EXPECT_EQ(HexOf(plain->secret_view()), HexOf(v.msg));
}

// Valid vectors are known answers for encryption; an invalid vector's
// ciphertext and tag are a tampered encryption, so sealing its message must
// give something else.
TEST_P(AesGcm, SealingTheMessageGivesTheVectorsCiphertextAndTagOnlyWhenValid) {
  const GcmVector& v = GetParam();
  Bytes ct, tag;
  ASSERT_TRUE(GcmSeal(v, ct, tag)) << DrainSslErrors();
  if (v.result == "invalid") {
    EXPECT_NE(HexOf(ct) + HexOf(tag), HexOf(v.ct) + HexOf(v.tag));
    return;
  }
  EXPECT_EQ(HexOf(ct), HexOf(v.ct));
  EXPECT_EQ(HexOf(tag), HexOf(v.tag));
}

INSTANTIATE_TEST_SUITE_P(
    Key256Iv96Tag128, AesGcm, ::testing::ValuesIn(GcmVectors()),
    [](const ::testing::TestParamInfo<GcmVector>& case_info) {
      return CaseName(case_info.param.tc_id, case_info.param.result);
    });

// ---- AES-256 key wrap ------------------------------------------------------------

struct KwVector {
  int tc_id = 0;
  std::string result;
  std::string comment;
  Bytes key, msg, ct;
};

void PrintTo(const KwVector& v, std::ostream* os) {
  *os << "aes_wrap_test.json tcId " << v.tc_id << " (" << v.result << ": " << v.comment << ")";
}

const std::vector<KwVector>& KwVectors() {
  static const std::vector<KwVector> vectors = [] {
    std::vector<KwVector> out;
    ForEachTest(LoadFile("aes_wrap_test.json"), [&](const json& group, const json& test) {
      if (group["keySize"] != 256) return;
      KwVector v;
      v.tc_id = test["tcId"].get<int>();
      v.result = test["result"].get<std::string>();
      v.comment = test.value("comment", "");
      v.key = Hex(test["key"].get<std::string>());
      v.msg = Hex(test["msg"].get<std::string>());
      v.ct = Hex(test["ct"].get<std::string>());
      out.push_back(std::move(v));
    });
    return out;
  }();
  return vectors;
}

class AesKeyWrapVectors : public ::testing::TestWithParam<KwVector> {};

// Valid: wrap gives the vector's ciphertext and unwrap gives the message.
// Invalid: unwrap refuses, and wrap refuses sizes RFC 3394 does not allow.
// Acceptable (an 8-byte key, RFC 3394's single-block case): Petera never
// wraps anything but 32-byte keys and refuses it; accepting it would still
// have to give the message.
TEST_P(AesKeyWrapVectors, WrapAndUnwrapFollowRfc3394) {
  const KwVector& v = GetParam();
  SecretBytes kek(v.key.data(), v.key.size());
  auto unwrapped = AesKeyUnwrap(kek, v.ct);
  SecretBytes msg(v.msg.data(), v.msg.size());
  bool wrappable_size = v.msg.size() >= 16 && v.msg.size() % 8 == 0;
  if (v.result == "invalid") {
    EXPECT_FALSE(unwrapped.ok()) << "unwrap accepted an invalid wrapping";
    if (!wrappable_size) {
      EXPECT_FALSE(AesKeyWrap(kek, msg).ok()) << "wrapped an invalid size";
    }
    return;
  }
  if (v.result == "acceptable" && !unwrapped.ok()) return;
  ASSERT_TRUE(unwrapped.ok()) << unwrapped.error().message();
  EXPECT_EQ(HexOf(unwrapped->secret_view()), HexOf(v.msg));
  if (v.result == "acceptable" && !wrappable_size) return;
  auto wrapped = AesKeyWrap(kek, msg);
  ASSERT_TRUE(wrapped.ok()) << wrapped.error().message();
  EXPECT_EQ(HexOf(*wrapped), HexOf(v.ct));
}

INSTANTIATE_TEST_SUITE_P(
    Kek256, AesKeyWrapVectors, ::testing::ValuesIn(KwVectors()),
    [](const ::testing::TestParamInfo<KwVector>& case_info) {
      return CaseName(case_info.param.tc_id, case_info.param.result);
    });

// ---- RSA-OAEP-256 after the raw RSA operation ------------------------------------

struct RsaKeyHex {
  std::string n, e, d, p, q, dp, dq, qinv;
};

struct OaepVector {
  std::string file;
  int tc_id = 0;
  std::string result;
  std::string comment;
  RsaKeyHex key;
  Bytes msg, ct;
};

void PrintTo(const OaepVector& v, std::ostream* os) {
  *os << v.file << " tcId " << v.tc_id << " (" << v.result << ": " << v.comment << ")";
}

struct OaepFile {
  std::vector<OaepVector> run;  // empty label
  size_t skipped_with_label = 0;
};

const OaepFile& OaepVectors(const std::string& file) {
  static std::map<std::string, OaepFile> cache;
  auto it = cache.find(file);
  if (it != cache.end()) return it->second;
  OaepFile& out = cache[file];
  ForEachTest(LoadFile(file), [&](const json& group, const json& test) {
    if (!test["label"].get<std::string>().empty()) {
      ++out.skipped_with_label;  // Petera's OAEP label is always empty
      return;
    }
    const json& k = group["privateKey"];
    OaepVector v;
    v.file = file;
    v.tc_id = test["tcId"].get<int>();
    v.result = test["result"].get<std::string>();
    v.comment = test.value("comment", "");
    auto s = [&](const char* name) { return k[name].get<std::string>(); };
    v.key = {s("modulus"), s("publicExponent"), s("privateExponent"), s("prime1"),
             s("prime2"), s("exponent1"), s("exponent2"), s("coefficient")};
    v.msg = Hex(test["msg"].get<std::string>());
    v.ct = Hex(test["ct"].get<std::string>());
    out.run.push_back(std::move(v));
  });
  return out;
}

EvpPkeyPtr RsaPrivateKey(const RsaKeyHex& hex) {
  std::vector<std::pair<const char*, const std::string*>> parts = {
      {OSSL_PKEY_PARAM_RSA_N, &hex.n},           {OSSL_PKEY_PARAM_RSA_E, &hex.e},
      {OSSL_PKEY_PARAM_RSA_D, &hex.d},           {OSSL_PKEY_PARAM_RSA_FACTOR1, &hex.p},
      {OSSL_PKEY_PARAM_RSA_FACTOR2, &hex.q},     {OSSL_PKEY_PARAM_RSA_EXPONENT1, &hex.dp},
      {OSSL_PKEY_PARAM_RSA_EXPONENT2, &hex.dq},  {OSSL_PKEY_PARAM_RSA_COEFFICIENT1, &hex.qinv}};
  ParamBldPtr bld(OSSL_PARAM_BLD_new());
  if (!bld) return nullptr;
  std::vector<BnPtr> numbers;  // must outlive OSSL_PARAM_BLD_to_param
  for (const auto& [name, value] : parts) {
    Bytes raw = Hex(*value);
    numbers.emplace_back(BN_bin2bn(raw.data(), static_cast<int>(raw.size()), nullptr));
    if (!numbers.back() || OSSL_PARAM_BLD_push_BN(bld.get(), name, numbers.back().get()) != 1) {
      return nullptr;
    }
  }
  ParamPtr params(OSSL_PARAM_BLD_to_param(bld.get()));
  EvpPkeyCtxPtr pctx(EVP_PKEY_CTX_new_from_name(nullptr, "RSA", nullptr));
  EVP_PKEY* key = nullptr;
  if (!params || !pctx || EVP_PKEY_fromdata_init(pctx.get()) != 1 ||
      EVP_PKEY_fromdata(pctx.get(), &key, EVP_PKEY_KEYPAIR, params.get()) != 1) {
    return nullptr;
  }
  return EvpPkeyPtr(key);
}

class RsaOaep : public ::testing::TestWithParam<OaepVector> {};

// The server's RecoveryKey::Recover is c^d mod n on modulus-length input in
// 0 < c < n; OaepSha256Decode then removes the padding as the client does
// after unblinding. Valid vectors give the message; invalid ones fail at one
// of the two steps (malformed ciphertexts at the first).
TEST_P(RsaOaep, RawPrivateOperationThenOaepDecodeGivesTheMessage) {
  const OaepVector& v = GetParam();
  EvpPkeyPtr pkey = RsaPrivateKey(v.key);
  ASSERT_TRUE(pkey) << DrainSslErrors();
  auto key = RecoveryKey::Create(std::move(pkey));
  ASSERT_TRUE(key.ok()) << key.error().message();
  auto em = key->Recover(v.ct);
  if (!em.ok()) {
    EXPECT_EQ(v.result, "invalid") << "server refused a valid ciphertext: "
                                   << em.error().message();
    return;
  }
  SecretBytes encoded(em->data(), em->size());
  auto msg = OaepSha256Decode(encoded);
  if (v.result == "invalid") {
    EXPECT_FALSE(msg.ok()) << "OAEP decoding accepted an invalid padding";
    if (!msg.ok()) {
      EXPECT_EQ(msg.error().category(), ErrorCategory::kCorrupt);
    }
    return;
  }
  ASSERT_TRUE(msg.ok()) << msg.error().message();
  EXPECT_EQ(HexOf(msg->secret_view()), HexOf(v.msg));
}

// The same vectors through the client's blinding: c * r^e goes to the
// server, the answer is multiplied by r^-1 and decoded. Invalid vectors fail
// at the client (a malformed ciphertext) or at decoding.
TEST_P(RsaOaep, BlindedExchangeGivesTheMessageOnlyWhenValid) {
  const OaepVector& v = GetParam();
  EvpPkeyPtr pkey = RsaPrivateKey(v.key);
  ASSERT_TRUE(pkey) << DrainSslErrors();
  EVP_PKEY* raw = pkey.get();
  EVP_PKEY_up_ref(raw);
  EvpPkeyPtr public_ref(raw);
  auto key = RecoveryKey::Create(std::move(pkey));
  ASSERT_TRUE(key.ok()) << key.error().message();
  auto blinding = Blinding::ForRsa(public_ref.get(), v.ct);
  if (!blinding.ok()) {
    EXPECT_EQ(v.result, "invalid") << "client refused a valid ciphertext";
    return;
  }
  EXPECT_NE(HexOf(blinding->request()), HexOf(v.ct)) << "request is not blinded";
  auto y = key->Recover(blinding->request());
  ASSERT_TRUE(y.ok()) << y.error().message();
  auto msg = blinding->Unblind(*y);
  if (v.result == "invalid") {
    EXPECT_FALSE(msg.ok()) << "unblinded an invalid padding";
    return;
  }
  ASSERT_TRUE(msg.ok()) << msg.error().message();
  EXPECT_EQ(HexOf(msg->secret_view()), HexOf(v.msg));
}

std::string OaepName(const ::testing::TestParamInfo<OaepVector>& info) {
  return CaseName(info.param.tc_id, info.param.result);
}

INSTANTIATE_TEST_SUITE_P(
    Rsa2048, RsaOaep,
    ::testing::ValuesIn(OaepVectors("rsa_oaep_2048_sha256_mgf1sha256_test.json").run), OaepName);
INSTANTIATE_TEST_SUITE_P(
    Rsa3072, RsaOaep,
    ::testing::ValuesIn(OaepVectors("rsa_oaep_3072_sha256_mgf1sha256_test.json").run), OaepName);

// ---- Every file loaded ---------------------------------------------------------------

size_t CountResult(const auto& vectors, const std::string& result) {
  size_t n = 0;
  for (const auto& v : vectors) {
    if (v.result == result) ++n;
  }
  return n;
}

TEST(WycheproofFiles, EveryEcdhFileYieldsValidAndInvalidVectors) {
  for (const char* file : {"ecdh_secp256r1_ecpoint_test.json", "ecdh_secp384r1_ecpoint_test.json",
                           "ecdh_secp521r1_ecpoint_test.json"}) {
    const auto& vectors = EcdhVectors(file);
    EXPECT_GT(CountResult(vectors, "valid"), 100u) << file;
    EXPECT_GT(CountResult(vectors, "invalid"), 10u) << file;
  }
}

TEST(WycheproofFiles, AesGcmFileYieldsVectorsForTheEnvelopeParameters) {
  EXPECT_GT(CountResult(GcmVectors(), "valid"), 10u);
  EXPECT_GT(CountResult(GcmVectors(), "invalid"), 10u);
}

TEST(WycheproofFiles, AesWrapFileYieldsVectorsFor256BitKeks) {
  EXPECT_GT(CountResult(KwVectors(), "valid"), 5u);
  EXPECT_GT(CountResult(KwVectors(), "invalid"), 20u);
}

TEST(WycheproofFiles, EveryOaepFileYieldsVectorsWithAnEmptyLabel) {
  for (const char* file : {"rsa_oaep_2048_sha256_mgf1sha256_test.json",
                           "rsa_oaep_3072_sha256_mgf1sha256_test.json"}) {
    const OaepFile& f = OaepVectors(file);
    EXPECT_GT(CountResult(f.run, "valid"), 5u) << file;
    EXPECT_GT(CountResult(f.run, "invalid"), 5u) << file;
    EXPECT_GT(f.skipped_with_label, 0u) << file << ": expected labelled vectors to skip";
  }
}

}  // namespace
}  // namespace petera
