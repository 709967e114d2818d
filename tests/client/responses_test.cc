// Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
#include "responses.h"

#include <gtest/gtest.h>

#include "cert_factory.h"
#include "petera/pem.h"

namespace petera::client {
namespace {

HttpResponse Answer(unsigned status, std::string content_type, std::string body) {
  HttpResponse r;
  r.status = status;
  r.content_type = std::move(content_type);
  r.body = std::move(body);
  return r;
}

std::string LeafPem() {
  auto leaf = testing::Issue({.cn = "s1", .sans = {"DNS:s1.test"}}, nullptr);
  return CertificateToPem(leaf.cert.get()).value();
}

TEST(ErrorFromAnswer, NotFoundMeansTheServerLacksTheKey) {
  Error e = ErrorFromAnswer(Answer(404, "application/json", R"({"error":"unknown_kid"})"));
  EXPECT_EQ(e.category(), ErrorCategory::kNotFound);
  EXPECT_NE(e.message().find("HTTP 404 unknown_kid"), std::string::npos);
}

TEST(ErrorFromAnswer, OtherStatusesAreProtocolErrors) {
  for (unsigned status : {400u, 413u, 429u, 500u, 503u}) {
    Error e = ErrorFromAnswer(Answer(status, "application/json", R"({"error":"x"})"));
    EXPECT_EQ(e.category(), ErrorCategory::kProtocol) << status;
    EXPECT_NE(e.message().find("HTTP " + std::to_string(status)), std::string::npos);
  }
}

TEST(ErrorFromAnswer, NeverRepeatsArbitraryServerText) {
  Error e = ErrorFromAnswer(Answer(500, "application/json", "{\"error\":\"\\u001b[2Jpwned now\"}"));
  EXPECT_EQ(e.message().find("pwned"), std::string::npos);
  Error html = ErrorFromAnswer(Answer(502, "text/html", "<h1>Bad gateway</h1>"));
  EXPECT_EQ(html.message().find("gateway"), std::string::npos);
  EXPECT_NE(html.message().find("HTTP 502"), std::string::npos);
}

TEST(ParseChainAnswer, ReturnsTheCertificatesOfAGoodAnswer) {
  auto chain = ParseChainAnswer(
      Answer(200, "application/pem-certificate-chain; charset=utf-8", LeafPem()));
  ASSERT_TRUE(chain.ok()) << chain.error().message();
  EXPECT_EQ(chain->size(), 1u);
}

TEST(ParseChainAnswer, RefusesTheWrongContentType) {
  auto chain = ParseChainAnswer(Answer(200, "text/plain", LeafPem()));
  ASSERT_FALSE(chain.ok());
  EXPECT_EQ(chain.error().category(), ErrorCategory::kProtocol);
}

TEST(ParseChainAnswer, RefusesAPrivateKey) {
  auto leaf = testing::Issue({.cn = "s1"}, nullptr);
  BioPtr bio(BIO_new(BIO_s_mem()));
  ASSERT_EQ(PEM_write_bio_PrivateKey(bio.get(), leaf.key.get(), nullptr, nullptr, 0, nullptr,
                                     nullptr),
            1);
  char* data = nullptr;
  long n = BIO_get_mem_data(bio.get(), &data);
  std::string body = CertificateToPem(leaf.cert.get()).value() +
                     std::string(data, static_cast<size_t>(n));
  auto chain = ParseChainAnswer(Answer(200, "application/pem-certificate-chain", body));
  ASSERT_FALSE(chain.ok());
  EXPECT_NE(chain.error().message().find("private key"), std::string::npos);
}

TEST(ParseChainAnswer, RefusesGarbageAndErrors) {
  auto garbage = ParseChainAnswer(Answer(200, "application/pem-certificate-chain", "hello"));
  ASSERT_FALSE(garbage.ok());
  EXPECT_EQ(garbage.error().category(), ErrorCategory::kProtocol);
  auto refused = ParseChainAnswer(Answer(503, "application/json", R"({"error":"unavailable"})"));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().category(), ErrorCategory::kProtocol);
}

TEST(MakeRecoverRequest, PostsJsonWithABoundedAnswer) {
  HttpRequest request = MakeRecoverRequest(RecoveryRequest{"kid1", Bytes{4, 1, 2}});
  EXPECT_EQ(request.method, http::verb::post);
  EXPECT_EQ(request.target, "/v1/recover");
  EXPECT_EQ(request.content_type, "application/json");
  EXPECT_EQ(request.body_limit, kRecoverAnswerLimit);
  auto parsed = ParseRecoveryRequest(request.body);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->kid, "kid1");
  EXPECT_EQ(parsed->x, (Bytes{4, 1, 2}));
}

TEST(ParseRecoverAnswer, AcceptsTheServerSerialization) {
  std::string body = SerializeRecoveryResponse(RecoveryResponse{Bytes{4, 9, 9}});
  auto parsed = ParseRecoverAnswer(Answer(200, "application/json", body));
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->y, (Bytes{4, 9, 9}));
}

TEST(ParseRecoverAnswer, RefusesMalformedBodies) {
  for (const char* body : {"", "{", "[]", R"({"y":1})", R"({"y":"%%%"})"}) {
    auto parsed = ParseRecoverAnswer(Answer(200, "application/json", body));
    ASSERT_FALSE(parsed.ok()) << body;
    EXPECT_EQ(parsed.error().category(), ErrorCategory::kProtocol) << body;
  }
}

}  // namespace
}  // namespace petera::client
