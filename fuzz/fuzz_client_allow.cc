// Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
//
// A --client-allow file through peterad's allow-list parser: whatever the
// bytes, it accepts only the three entry forms, and what it accepts reads
// back the same when written out again.
#include <algorithm>
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "peterad/client_auth.h"

namespace {

bool IsBase64Url(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '_';
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto parsed = petera::peterad::ParseAllowList(text, "allow");
  if (!parsed.ok()) {
    if (parsed.error().message().rfind("allow", 0) != 0) std::abort();  // names the file
    return 0;
  }
  std::string again;
  for (const std::string& id : parsed->key_ids) {
    if (id.size() != 43 || !std::all_of(id.begin(), id.end(), IsBase64Url)) std::abort();
    again += id + "\n";
  }
  for (const std::string& name : parsed->dns_names) {
    if (name.empty() || std::any_of(name.begin(), name.end(), [](char c) {
          return std::isupper(static_cast<unsigned char>(c)) != 0 || c == ' ' || c == '\n';
        })) {
      std::abort();
    }
    again += "DNS:" + name + "\n";
  }
  for (const std::string& uri : parsed->uris) {
    if (uri.find_first_of(" \t\r\n") != std::string::npos) std::abort();
    again += "URI:" + uri + "\n";
  }
  auto reparsed = petera::peterad::ParseAllowList(again, "again");
  if (!reparsed.ok() || reparsed->key_ids != parsed->key_ids ||
      reparsed->dns_names != parsed->dns_names || reparsed->uris != parsed->uris) {
    std::abort();
  }
  return 0;
}
