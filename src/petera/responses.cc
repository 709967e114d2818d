// Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
#include "responses.h"

#include <nlohmann/json.hpp>

#include "petera/pem.h"

namespace petera::client {
namespace {

constexpr size_t kMaxCodeLength = 40;

// The server's error code if the body is {"error": "code"} with a short code
// of letters, digits and '_' (nothing else is repeated to the user).
std::string ServerErrorCode(const std::string& body) {
  try {
    auto json = nlohmann::json::parse(body);
    if (!json.is_object() || !json.contains("error") || !json["error"].is_string()) return "";
    std::string code = json["error"].get<std::string>();
    if (code.empty() || code.size() > kMaxCodeLength) return "";
    for (char c : code) {
      bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                (c >= '0' && c <= '9') || c == '_' || c == '-';
      if (!ok) return "";
    }
    return code;
  } catch (const nlohmann::json::exception&) {
    return "";
  }
}

bool HasMediaType(const std::string& content_type, const std::string& wanted) {
  std::string type = content_type.substr(0, content_type.find(';'));
  while (!type.empty() && (type.back() == ' ' || type.back() == '\t')) type.pop_back();
  if (type.size() != wanted.size()) return false;
  for (size_t i = 0; i < type.size(); ++i) {
    char c = type[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != wanted[i]) return false;
  }
  return true;
}

}  // namespace

Error ErrorFromAnswer(const HttpResponse& answer) {
  std::string code = ServerErrorCode(answer.body);
  std::string status = "HTTP " + std::to_string(answer.status) + (code.empty() ? "" : " " + code);
  if (answer.status == 404) {
    return Error(ErrorCategory::kNotFound, "server does not hold the key (" + status + ")");
  }
  if (answer.status == 403 && code == "client_not_authorized") {
    return Error(ErrorCategory::kProtocol,
                 "server does not authorize this client (" + status +
                     "): it needs a client certificate it accepts (--cert), and its operator "
                     "may have revoked or de-listed this one");
  }
  return Error(ErrorCategory::kProtocol, "server refused the request (" + status + ")");
}

Result<std::vector<X509Ptr>> ParseChainAnswer(const HttpResponse& answer) {
  if (answer.status != 200) return ErrorFromAnswer(answer);
  if (!HasMediaType(answer.content_type, "application/pem-certificate-chain")) {
    return Error(ErrorCategory::kProtocol,
                 "encryption chain has the wrong content type (expected "
                 "application/pem-certificate-chain)");
  }
  auto parsed = ParsePem(answer.body, "encryption chain");
  if (!parsed.ok()) return Error(ErrorCategory::kProtocol, parsed.error().message());
  if (!parsed->private_keys.empty()) {
    return Error(ErrorCategory::kProtocol, "server sent a private key with its encryption chain");
  }
  if (!parsed->crls.empty() || parsed->certificates.empty()) {
    return Error(ErrorCategory::kProtocol, "encryption chain holds no certificate or a CRL");
  }
  return std::move(parsed->certificates);
}

HttpRequest MakeChainRequest() {
  HttpRequest request;
  request.method = http::verb::get;
  request.target = kChainPath;
  request.body_limit = kChainAnswerLimit;
  return request;
}

HttpRequest MakeRecoverRequest(const RecoveryRequest& recovery) {
  HttpRequest request;
  request.method = http::verb::post;
  request.target = kRecoverPath;
  request.content_type = "application/json";
  request.body = SerializeRecoveryRequest(recovery);
  request.body_limit = kRecoverAnswerLimit;
  return request;
}

Result<RecoveryResponse> ParseRecoverAnswer(const HttpResponse& answer) {
  if (answer.status != 200) return ErrorFromAnswer(answer);
  auto parsed = ParseRecoveryResponse(answer.body);
  if (!parsed.ok()) {
    return Error(ErrorCategory::kProtocol, "malformed recovery answer: " + parsed.error().message());
  }
  return parsed;
}

}  // namespace petera::client
