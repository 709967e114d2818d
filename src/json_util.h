// Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
//
// Internal: strict, exception-free JSON reading for untrusted input.
#ifndef PETERA_SRC_JSON_UTIL_H_
#define PETERA_SRC_JSON_UTIL_H_

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "petera/result.h"

namespace petera {

// Parses `text` as a JSON object nested at most `max_depth` deep. Errors are
// kProtocol and name `what`.
Result<nlohmann::json> ParseJsonObject(std::string_view text, const std::string& what,
                                       int max_depth = 8);

// The string member `key` of `doc`, at most `max_len` bytes.
Result<std::string> JsonString(const nlohmann::json& doc, const char* key, size_t max_len);

}  // namespace petera

#endif  // PETERA_SRC_JSON_UTIL_H_
