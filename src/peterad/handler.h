// Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
//
// The HTTP core of peterad, without I/O: one parsed request and the loaded
// keys in, one response out. The network code (server.cc) only moves bytes,
// enforces limits and timeouts, and calls Handle().
//
//   GET  /v1/chain    200 application/pem-certificate-chain, leaf first
//   POST /v1/recover  200 {"y": ...} for {"kid": ..., "x": ...}
//   GET  /v1/health   200 {"status":"ok","keys":N}
//
// Errors are {"error":"<code>"} with the status of docs/protocol.md. Every
// failure of the recovery computation itself gets the same 400
// {"error":"recovery_failed"}: the reason goes to the log only.
#ifndef PETERA_PETERAD_HANDLER_H_
#define PETERA_PETERAD_HANDLER_H_

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/beast/http/string_body.hpp>
#include <string>
#include <string_view>

#include "peterad/keystore.h"

namespace petera::peterad {

namespace http = boost::beast::http;

using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;

inline constexpr std::string_view kServerName = "peterad";

// Decides whether the client of a connection may recover (client_auth.h).
// Asked only for POST /v1/recover, before anything else of the request is
// looked at.
class ClientGate {
 public:
  virtual ~ClientGate() = default;
  // False: the answer is 403 client_not_authorized. Either way
  // `log_detail` receives the client's identity (and a refusal's reason).
  virtual bool Authorize(std::string* log_detail) = 0;
};

// What the metrics and the journal learn of a POST /v1/recover (nothing of
// what a client sends goes in unchecked: the kid is a loaded key's).
struct RecoveryOutcome {
  bool recovery = false;    // the request was a POST /v1/recover
  std::string kid;          // the id of the loaded key it named; empty: none
  std::string_view result;  // "ok" or the error code of the answer
};

// Answers one request. `gate`: null when every client may recover.
// `log_detail`, when given, receives a reason for the log when the answer is
// an error, and the client's identity when a gate was asked (never key
// material or recovered values). `outcome`, when given, is filled in for a
// POST /v1/recover.
Response Handle(const Request& request, const KeyStore& keys, ClientGate* gate = nullptr,
                std::string* log_detail = nullptr, RecoveryOutcome* outcome = nullptr);

// A JSON error response {"error":"<code>"}, with Content-Length set.
// `keep_alive` decides the Connection header; `version` is 10 or 11.
Response MakeErrorResponse(http::status status, std::string_view code,
                           unsigned version, bool keep_alive);

}  // namespace petera::peterad

#endif  // PETERA_PETERAD_HANDLER_H_
