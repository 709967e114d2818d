// Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
#include "peterad/handler.h"

#include <gtest/gtest.h>

#include <string>

#include "petera/encoding.h"
#include "petera/recovery.h"
#include "probe.h"
#include "server_test_util.h"

namespace petera::peterad {
namespace {

using ::petera::testing::LeafPublicKey;
using ::petera::testing::PemBlocks;
using ::petera::testing::Pki;
using ::petera::testing::ReadText;
using ::petera::testing::StartProbe;
using ::petera::testing::Utc;

// Demo server s1: EC encryption chain; EC, RSA, P-384 and P-521 keys.
class HandlerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto loaded = KeyStore::Load(
        KeyStorePaths{Pki("s1/tls.pem"), Pki("s1/encrypt-ec.pem"), Pki("s1/decrypt.d")},
        Utc(2030, 1, 1));
    ASSERT_TRUE(loaded.ok()) << loaded.error().message();
    keys_ = new std::shared_ptr<const KeyStore>(loaded.value());
  }
  static void TearDownTestSuite() {
    delete keys_;
    keys_ = nullptr;
  }

  static Request Get(const std::string& target, http::verb verb = http::verb::get) {
    Request request{verb, target, 11};
    request.set(http::field::host, "localhost");
    return request;
  }

  static Request Post(const std::string& body, const std::string& content_type = "application/json",
                      const std::string& target = "/v1/recover") {
    Request request{http::verb::post, target, 11};
    request.set(http::field::host, "localhost");
    if (!content_type.empty()) request.set(http::field::content_type, content_type);
    request.body() = body;
    request.prepare_payload();
    return request;
  }

  static Response Answer(const Request& request, std::string* detail = nullptr) {
    return Handle(request, **keys_, nullptr, detail);
  }

  static std::string KidOf(const std::string& cert_file) {
    auto kid = KeyId(LeafPublicKey(Pki(cert_file)).get());
    EXPECT_TRUE(kid.ok());
    return kid.ok() ? *kid : std::string();
  }

  static std::string RecoverBody(const std::string& kid, const Bytes& x) {
    return SerializeRecoveryRequest(RecoveryRequest{kid, x});
  }

  // A blinded recovery through the handler recovers what encryption produced.
  static void ExpectRoundTrip(const std::string& cert_file) {
    auto probe = StartProbe(LeafPublicKey(Pki(cert_file)).get());
    ASSERT_TRUE(probe.ok()) << probe.error().message();
    std::string detail;
    Response response = Answer(Post(probe->RequestBody()), &detail);
    ASSERT_EQ(response.result(), http::status::ok) << response.body() << " " << detail;
    EXPECT_EQ(response[http::field::content_type], "application/json");
    auto answer = ParseRecoveryResponse(response.body());
    ASSERT_TRUE(answer.ok()) << answer.error().message();
    auto recovered = probe->blinding.Unblind(answer->y);
    ASSERT_TRUE(recovered.ok()) << recovered.error().message();
    ASSERT_EQ(recovered->size(), probe->expected.size());
    EXPECT_TRUE(recovered->ConstantTimeEquals(probe->expected));
    EXPECT_TRUE(detail.empty());
  }

  static void ExpectError(const Response& response, http::status status, const std::string& code) {
    EXPECT_EQ(response.result(), status);
    EXPECT_EQ(response.body(), R"({"error":")" + code + R"("})");
    EXPECT_EQ(response[http::field::content_type], "application/json");
    EXPECT_EQ(response[http::field::content_length], std::to_string(response.body().size()));
  }

  static std::shared_ptr<const KeyStore>* keys_;
};

std::shared_ptr<const KeyStore>* HandlerTest::keys_ = nullptr;

TEST_F(HandlerTest, ChainIsTheEncryptionChainLeafFirstAsPem) {
  Response response = Answer(Get("/v1/chain"));
  EXPECT_EQ(response.result(), http::status::ok);
  EXPECT_EQ(response[http::field::content_type], "application/pem-certificate-chain");
  EXPECT_EQ(response.body(), PemBlocks(ReadText(Pki("s1/encrypt-ec.pem")), "CERTIFICATE"));
  EXPECT_TRUE(response.keep_alive());
}

TEST_F(HandlerTest, HeadChainHasTheLengthButNoBody) {
  Response response = Answer(Get("/v1/chain", http::verb::head));
  EXPECT_EQ(response.result(), http::status::ok);
  EXPECT_TRUE(response.body().empty());
  EXPECT_EQ(response[http::field::content_length], std::to_string((*keys_)->chain_pem().size()));
}

TEST_F(HandlerTest, HealthReportsTheNumberOfKeys) {
  Response response = Answer(Get("/v1/health"));
  EXPECT_EQ(response.result(), http::status::ok);
  EXPECT_EQ(response.body(), R"({"status":"ok","keys":4})");
}

TEST_F(HandlerTest, QueryStringsAreIgnored) {
  EXPECT_EQ(Answer(Get("/v1/health?probe=1")).result(), http::status::ok);
}

TEST_F(HandlerTest, RecoversForAnEcP256Key) { ExpectRoundTrip("s1/encrypt-ec.pem"); }
TEST_F(HandlerTest, RecoversForAnEcP384Key) { ExpectRoundTrip("s1/encrypt-p384.pem"); }
TEST_F(HandlerTest, RecoversForAnEcP521Key) { ExpectRoundTrip("s1/encrypt-p521.pem"); }
TEST_F(HandlerTest, RecoversForAnRsaKey) { ExpectRoundTrip("s1/encrypt-rsa.pem"); }

TEST_F(HandlerTest, AnswersUnknownKidWith404) {
  auto probe = StartProbe(LeafPublicKey(Pki("s2/encrypt-ec.pem")).get());
  ASSERT_TRUE(probe.ok());
  ExpectError(Answer(Post(probe->RequestBody())), http::status::not_found, "unknown_kid");
}

TEST_F(HandlerTest, EveryRecoveryFailureGetsTheSameVagueAnswer) {
  std::string ec = KidOf("s1/encrypt-ec.pem");
  std::string rsa = KidOf("s1/encrypt-rsa.pem");
  Bytes off_curve(65, 0x01);
  off_curve[0] = 0x04;
  Bytes out_of_range(65, 0xff);
  out_of_range[0] = 0x04;
  auto p384 = StartProbe(LeafPublicKey(Pki("s1/encrypt-p384.pem")).get());
  ASSERT_TRUE(p384.ok());
  Bytes modulus_or_more(384, 0xff);
  Bytes zero(384, 0x00);
  const std::vector<std::pair<std::string, Bytes>> cases = {
      {ec, off_curve},                    // not on the curve
      {ec, out_of_range},                 // coordinates >= p
      {ec, Bytes{0x00}},                  // the point at infinity
      {ec, p384->blinding.request()},     // a valid point of another curve
      {ec, Bytes(33, 0x02)},              // compressed form
      {rsa, modulus_or_more},             // c >= n
      {rsa, zero},                        // c = 0
      {rsa, Bytes(383, 0x01)},            // wrong length
  };
  for (const auto& [kid, x] : cases) {
    std::string detail;
    Response response = Answer(Post(RecoverBody(kid, x)), &detail);
    ExpectError(response, http::status::bad_request, "recovery_failed");
    EXPECT_FALSE(detail.empty()) << "the reason goes to the log";
  }
}

TEST_F(HandlerTest, MalformedJsonIs400) {
  ExpectError(Answer(Post("{not json")), http::status::bad_request, "bad_request");
  ExpectError(Answer(Post(R"({"kid":"a"})")), http::status::bad_request, "bad_request");
  ExpectError(Answer(Post(R"({"kid":"a","x":"***"})")), http::status::bad_request, "bad_request");
  ExpectError(Answer(Post("[]")), http::status::bad_request, "bad_request");
}

TEST_F(HandlerTest, OversizedBodyIs413) {
  std::string body = R"({"kid":"a","x":")" + std::string(kMaxRecoveryBodyBytes, 'A') + R"("})";
  ExpectError(Answer(Post(body)), http::status::payload_too_large, "too_large");
}

TEST_F(HandlerTest, PostWithoutJsonContentTypeIs415) {
  std::string body = RecoverBody(KidOf("s1/encrypt-ec.pem"), Bytes{0x00});
  ExpectError(Answer(Post(body, "")), http::status::unsupported_media_type,
              "unsupported_media_type");
  ExpectError(Answer(Post(body, "text/plain")), http::status::unsupported_media_type,
              "unsupported_media_type");
  ExpectError(Answer(Post(body, "application/jsonx")), http::status::unsupported_media_type,
              "unsupported_media_type");
}

TEST_F(HandlerTest, JsonContentTypeMayCarryParametersAndAnyCase) {
  auto probe = StartProbe(LeafPublicKey(Pki("s1/encrypt-ec.pem")).get());
  ASSERT_TRUE(probe.ok());
  EXPECT_EQ(Answer(Post(probe->RequestBody(), "Application/JSON; charset=utf-8")).result(),
            http::status::ok);
}

TEST_F(HandlerTest, WrongMethodIs405WithAllow) {
  Response get_recover = Answer(Get("/v1/recover"));
  ExpectError(get_recover, http::status::method_not_allowed, "method_not_allowed");
  EXPECT_EQ(get_recover[http::field::allow], "POST");
  Response post_chain = Answer(Post("{}", "application/json", "/v1/chain"));
  ExpectError(post_chain, http::status::method_not_allowed, "method_not_allowed");
  EXPECT_EQ(post_chain[http::field::allow], "GET, HEAD");
  Response delete_health = Answer(Get("/v1/health", http::verb::delete_));
  EXPECT_EQ(delete_health.result(), http::status::method_not_allowed);
}

TEST_F(HandlerTest, UnknownPathIs404NotFound) {
  ExpectError(Answer(Get("/")), http::status::not_found, "not_found");
  ExpectError(Answer(Get("/v1/chain/")), http::status::not_found, "not_found");
  ExpectError(Answer(Get("/v2/health")), http::status::not_found, "not_found");
}

TEST_F(HandlerTest, KeepAliveFollowsTheRequest) {
  Request close = Get("/v1/health");
  close.keep_alive(false);
  EXPECT_FALSE(Answer(close).keep_alive());
  Request http10{http::verb::get, "/v1/health", 10};
  Response response = Answer(http10);
  EXPECT_EQ(response.version(), 10u);
  EXPECT_FALSE(response.keep_alive());
}

TEST_F(HandlerTest, ResponsesAreNotCached) {
  EXPECT_EQ(Answer(Get("/v1/chain"))[http::field::cache_control], "no-store");
  EXPECT_EQ(Answer(Get("/nope"))[http::field::cache_control], "no-store");
}

// A gate that answers as told and counts how often it was asked.
class FakeGate : public ClientGate {
 public:
  explicit FakeGate(bool allow) : allow_(allow) {}
  bool Authorize(std::string* log_detail) override {
    ++asked;
    if (log_detail != nullptr) *log_detail = allow_ ? "client CN=fake" : "client not authorized";
    return allow_;
  }
  int asked = 0;

 private:
  bool allow_;
};

TEST_F(HandlerTest, ARefusingGateAnswers403BeforeLookingAtTheRequest) {
  FakeGate gate(false);
  std::string detail;
  // Not even a JSON body: the refusal comes first.
  Response response = Handle(Post("not json", "text/plain"), **keys_, &gate, &detail);
  EXPECT_EQ(response.result(), http::status::forbidden);
  EXPECT_EQ(response.body(), R"({"error":"client_not_authorized"})");
  EXPECT_EQ(gate.asked, 1);
  EXPECT_EQ(detail, "client not authorized");
}

TEST_F(HandlerTest, TheGateIsAskedOnlyForRecoveries) {
  FakeGate gate(false);
  EXPECT_EQ(Handle(Get("/v1/chain"), **keys_, &gate).result(), http::status::ok);
  EXPECT_EQ(Handle(Get("/v1/health"), **keys_, &gate).result(), http::status::ok);
  EXPECT_EQ(Handle(Get("/v1/recover"), **keys_, &gate).result(),
            http::status::method_not_allowed);
  EXPECT_EQ(gate.asked, 0);
}

TEST_F(HandlerTest, AnAllowingGateLetsTheRecoveryThroughAndTheLogNamesTheClient) {
  FakeGate gate(true);
  std::string detail;
  Response response =
      Handle(Post(RecoverBody("no-such-kid", Bytes(65, 4))), **keys_, &gate, &detail);
  EXPECT_EQ(response.result(), http::status::not_found);
  EXPECT_EQ(gate.asked, 1);
  EXPECT_EQ(detail, "client CN=fake; no decryption key with this kid");
}

TEST_F(HandlerTest, TheOutcomeNamesTheLoadedKeyAndTheResultOfARecovery) {
  auto probe = StartProbe(LeafPublicKey(Pki("s1/encrypt-ec.pem")).get());
  ASSERT_TRUE(probe.ok()) << probe.error().message();
  RecoveryOutcome ok;
  EXPECT_EQ(Handle(Post(probe->RequestBody()), **keys_, nullptr, nullptr, &ok).result(),
            http::status::ok);
  EXPECT_TRUE(ok.recovery);
  EXPECT_EQ(ok.kid, KidOf("s1/encrypt-ec.pem"));
  EXPECT_EQ(ok.result, "ok");

  // A kid the server does not hold never reaches the outcome.
  RecoveryOutcome unknown;
  Handle(Post(RecoverBody("client-chosen-kid", Bytes(65, 4))), **keys_, nullptr, nullptr,
         &unknown);
  EXPECT_TRUE(unknown.recovery);
  EXPECT_EQ(unknown.kid, "");
  EXPECT_EQ(unknown.result, "unknown_kid");

  FakeGate gate(false);
  RecoveryOutcome refused;
  Handle(Post(probe->RequestBody()), **keys_, &gate, nullptr, &refused);
  EXPECT_EQ(refused.result, "client_not_authorized");
  EXPECT_EQ(refused.kid, "");

  RecoveryOutcome bad;
  Handle(Post("{}"), **keys_, nullptr, nullptr, &bad);
  EXPECT_TRUE(bad.recovery);
  EXPECT_EQ(bad.result, "bad_request");

  RecoveryOutcome not_a_recovery;
  Handle(Get("/v1/recover"), **keys_, nullptr, nullptr, &not_a_recovery);
  Handle(Get("/v1/health"), **keys_, nullptr, nullptr, &not_a_recovery);
  EXPECT_FALSE(not_a_recovery.recovery);
}

TEST(ErrorResponse, IsJsonWithTheCodeAndTheConnectionHeader) {
  Response response = MakeErrorResponse(http::status::request_timeout, "timeout", 11, false);
  EXPECT_EQ(response.result(), http::status::request_timeout);
  EXPECT_EQ(response.body(), R"({"error":"timeout"})");
  EXPECT_FALSE(response.keep_alive());
  EXPECT_EQ(response[http::field::content_length], "19");
}

}  // namespace
}  // namespace petera::peterad
