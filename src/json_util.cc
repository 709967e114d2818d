// Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
#include "json_util.h"

namespace petera {
namespace {

// Measures nesting without parsing, so that a hostile document cannot make
// the parser (or the destructor) recurse deeply.
bool DepthWithin(std::string_view text, int max_depth) {
  int depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (in_string) {
      if (c == '\\') ++i;
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == '"') in_string = true;
    else if (c == '{' || c == '[') {
      if (++depth > max_depth) return false;
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  return true;
}

}  // namespace

Result<nlohmann::json> ParseJsonObject(std::string_view text, const std::string& what,
                                       int max_depth) {
  if (!DepthWithin(text, max_depth)) {
    return Error(ErrorCategory::kProtocol, what + " is nested too deeply");
  }
  nlohmann::json doc = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return Error(ErrorCategory::kProtocol, what + " is not valid JSON");
  if (!doc.is_object()) return Error(ErrorCategory::kProtocol, what + " is not a JSON object");
  return doc;
}

Result<std::string> JsonString(const nlohmann::json& doc, const char* key, size_t max_len) {
  auto it = doc.find(key);
  if (it == doc.end() || !it->is_string()) {
    return Error(ErrorCategory::kProtocol, std::string("missing string member '") + key + "'");
  }
  const auto& s = it->get_ref<const std::string&>();
  if (s.size() > max_len) {
    return Error(ErrorCategory::kProtocol, std::string("member '") + key + "' is too long");
  }
  return s;
}

}  // namespace petera
