// Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
//
// What the client makes of a server's answers. Pure functions, so that every
// way a server can answer wrongly is tested without a socket. Anything the
// server says that ends up in a message is reduced to a short, printable
// code first.
#ifndef PETERA_CLIENT_RESPONSES_H_
#define PETERA_CLIENT_RESPONSES_H_

#include <string>
#include <vector>

#include "https_client.h"
#include "petera/ossl.h"
#include "petera/recovery.h"
#include "petera/result.h"

namespace petera::client {

inline constexpr uint64_t kChainAnswerLimit = 1u << 20;
inline constexpr uint64_t kRecoverAnswerLimit = 64 * 1024;
inline constexpr const char* kChainPath = "/v1/chain";
inline constexpr const char* kRecoverPath = "/v1/recover";

// The error a non-200 answer stands for: 404 is kNotFound (the server does
// not hold that key), anything else kProtocol. The message gives the status
// and the server's JSON error code when there is one.
Error ErrorFromAnswer(const HttpResponse& answer);

// The certificates of a GET /v1/chain answer, leaf first. Refuses another
// status or content type, private keys, CRLs and an empty chain.
Result<std::vector<X509Ptr>> ParseChainAnswer(const HttpResponse& answer);

// The request a POST /v1/recover carries.
HttpRequest MakeRecoverRequest(const RecoveryRequest& request);
HttpRequest MakeChainRequest();

// The body of a 200 answer to POST /v1/recover.
Result<RecoveryResponse> ParseRecoverAnswer(const HttpResponse& answer);

}  // namespace petera::client

#endif  // PETERA_CLIENT_RESPONSES_H_
