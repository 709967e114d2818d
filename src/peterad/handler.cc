// Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
#include "peterad/handler.h"

#include <boost/beast/http/field.hpp>
#include <boost/beast/http/verb.hpp>
#include <cctype>
#include <string>

#include "petera/recovery.h"

namespace petera::peterad {
namespace {

constexpr std::string_view kJson = "application/json";
constexpr std::string_view kPemChain = "application/pem-certificate-chain";

// The path without a query string.
std::string_view PathOf(const Request& request) {
  std::string_view target = request.target();
  size_t query = target.find('?');
  return query == std::string_view::npos ? target : target.substr(0, query);
}

Response MakeResponse(const Request& request, http::status status,
                      std::string_view content_type, std::string body) {
  Response res{status, request.version()};
  res.set(http::field::server, kServerName);
  res.set(http::field::content_type, content_type);
  res.set(http::field::cache_control, "no-store");
  res.keep_alive(request.keep_alive());
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

// A HEAD answer has the headers of the GET answer and no body.
Response ForMethod(const Request& request, Response res) {
  if (request.method() == http::verb::head) {
    size_t length = res.body().size();
    res.body().clear();
    res.content_length(length);
  }
  return res;
}

Response Error(const Request& request, http::status status, std::string_view code) {
  return ForMethod(request, MakeErrorResponse(status, code, request.version(),
                                              request.keep_alive()));
}

Response MethodNotAllowed(const Request& request, std::string_view allow) {
  Response res = Error(request, http::status::method_not_allowed, "method_not_allowed");
  res.set(http::field::allow, allow);
  return res;
}

bool IsGetOrHead(const Request& request) {
  return request.method() == http::verb::get || request.method() == http::verb::head;
}

// "application/json", any case, optionally followed by parameters.
bool IsJsonContentType(std::string_view value) {
  size_t end = value.find(';');
  std::string_view type = value.substr(0, end);
  while (!type.empty() && (type.back() == ' ' || type.back() == '\t')) type.remove_suffix(1);
  if (type.size() != kJson.size()) return false;
  for (size_t i = 0; i < type.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(type[i])) != kJson[i]) return false;
  }
  return true;
}

// Adds to what the log line says about a request (the client's identity
// may be there already).
void SetDetail(std::string* log_detail, const std::string& text) {
  if (log_detail == nullptr) return;
  if (!log_detail->empty()) *log_detail += "; ";
  *log_detail += text;
}

Response HandleRecover(const Request& request, const KeyStore& keys, ClientGate* gate,
                       std::string* log_detail, RecoveryOutcome& outcome) {
  if (request.method() != http::verb::post) return MethodNotAllowed(request, "POST");
  outcome.recovery = true;
  auto refuse = [&](http::status status, std::string_view code) {
    outcome.result = code;
    return Error(request, status, code);
  };
  if (gate != nullptr && !gate->Authorize(log_detail)) {
    return refuse(http::status::forbidden, "client_not_authorized");
  }
  auto content_type = request.find(http::field::content_type);
  if (content_type == request.end() || !IsJsonContentType(content_type->value())) {
    return refuse(http::status::unsupported_media_type, "unsupported_media_type");
  }
  if (request.body().size() > kMaxRecoveryBodyBytes) {
    return refuse(http::status::payload_too_large, "too_large");
  }
  auto parsed = ParseRecoveryRequest(request.body());
  if (!parsed.ok()) {
    SetDetail(log_detail, parsed.error().message());
    ErrorCategory category = parsed.error().category();
    return refuse(static_cast<http::status>(HttpStatus(category)), ErrorCode(category));
  }
  const RecoveryKey* key = keys.Find(parsed->kid);
  if (key == nullptr) {
    SetDetail(log_detail, "no decryption key with this kid");
    return refuse(http::status::not_found, ErrorCode(ErrorCategory::kNotFound));
  }
  outcome.kid = key->kid();
  auto y = key->Recover(parsed->x);
  if (!y.ok()) {
    // One answer for every failure, whatever the reason (error blinding).
    SetDetail(log_detail, "recovery failed for kid " + key->kid() + ": " + y.error().message());
    return refuse(http::status::bad_request, "recovery_failed");
  }
  outcome.result = "ok";
  RecoveryResponse answer{std::move(y).value()};
  return MakeResponse(request, http::status::ok, kJson, SerializeRecoveryResponse(answer));
}

Response HandleChain(const Request& request, const KeyStore& keys) {
  if (!IsGetOrHead(request)) return MethodNotAllowed(request, "GET, HEAD");
  return ForMethod(request,
                   MakeResponse(request, http::status::ok, kPemChain, keys.chain_pem()));
}

Response HandleHealth(const Request& request, const KeyStore& keys) {
  if (!IsGetOrHead(request)) return MethodNotAllowed(request, "GET, HEAD");
  std::string body =
      R"({"status":"ok","keys":)" + std::to_string(keys.key_count()) + "}";
  return ForMethod(request, MakeResponse(request, http::status::ok, kJson, std::move(body)));
}

}  // namespace

Response MakeErrorResponse(http::status status, std::string_view code, unsigned version,
                           bool keep_alive) {
  Response res{status, version};
  res.set(http::field::server, kServerName);
  res.set(http::field::content_type, kJson);
  res.set(http::field::cache_control, "no-store");
  res.keep_alive(keep_alive);
  res.body() = R"({"error":")" + std::string(code) + R"("})";
  res.prepare_payload();
  return res;
}

Response Handle(const Request& request, const KeyStore& keys, ClientGate* gate,
                std::string* log_detail, RecoveryOutcome* outcome) {
  std::string_view path = PathOf(request);
  if (path == "/v1/recover") {
    RecoveryOutcome ignored;
    return HandleRecover(request, keys, gate, log_detail, outcome ? *outcome : ignored);
  }
  if (path == "/v1/chain") return HandleChain(request, keys);
  if (path == "/v1/health") return HandleHealth(request, keys);
  SetDetail(log_detail, "no such endpoint");
  return Error(request, http::status::not_found, "not_found");
}

}  // namespace petera::peterad
