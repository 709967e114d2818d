// Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
#include "petera/luks_token.h"

#include <algorithm>
#include <cctype>

#include <nlohmann/json.hpp>

#include "json_util.h"

namespace petera {
namespace {

using nlohmann::json;

Error Bad(const std::string& why) {
  return Error(ErrorCategory::kCorrupt, "invalid Petera LUKS2 token: " + why);
}

// Absolute, bounded, printable: the path is opened as root at boot.
bool IsSafePath(const std::string& path) {
  if (path.empty() || path.size() > kMaxLuksPathBytes || path.front() != '/') return false;
  return std::none_of(path.begin(), path.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return u < 0x20 || u == 0x7f;
  });
}

}  // namespace

bool IsTpmHandle(std::string_view spec) {
  constexpr std::string_view kPrefix = "handle:0x";
  if (spec.substr(0, kPrefix.size()) != kPrefix) return false;
  std::string_view digits = spec.substr(kPrefix.size());
  return !digits.empty() && digits.size() <= 8 &&
         std::all_of(digits.begin(), digits.end(),
                     [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; });
}

namespace {

Result<std::vector<int>> ParseKeyslots(const json& doc) {
  auto it = doc.find("keyslots");
  if (it == doc.end() || !it->is_array() || it->size() > kLuksMaxKeyslots) {
    return Bad("'keyslots' must be an array of at most 32 keyslot numbers");
  }
  std::vector<int> slots;
  for (const auto& entry : *it) {
    // LUKS2 writes keyslot numbers as decimal strings without leading zeros.
    if (!entry.is_string()) return Bad("a keyslot number is not a string");
    const auto& text = entry.get_ref<const std::string&>();
    if (text.empty() || text.size() > 2 || (text.size() == 2 && text[0] == '0') ||
        !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      return Bad("keyslot '" + text.substr(0, 8) + "' is not a number from 0 to 31");
    }
    int slot = std::stoi(text);
    if (slot >= kLuksMaxKeyslots) return Bad("keyslot " + text + " is not from 0 to 31");
    if (std::find(slots.begin(), slots.end(), slot) != slots.end()) {
      return Bad("keyslot " + text + " is listed twice");
    }
    slots.push_back(slot);
  }
  return slots;
}

Status ParseSettings(const json& doc, LuksToken& token) {
  auto it = doc.find("petera");
  if (it == doc.end() || !it->is_object()) return Bad("no 'petera' settings object");
  const json& settings = *it;
  auto version = settings.find("version");
  if (version == settings.end() || !version->is_number_integer()) {
    return Bad("no token version");
  }
  if (*version != kLuksTokenVersion) {
    return Bad("unsupported token version " + version->dump() + " (this Petera reads version " +
               std::to_string(kLuksTokenVersion) + ")");
  }
  auto anchor = JsonString(settings, "anchor", kMaxLuksPathBytes);
  if (!anchor.ok() || !IsSafePath(*anchor)) return Bad("'anchor' must be an absolute path");
  token.anchor = *anchor;
  if (auto crl = settings.find("crl"); crl != settings.end()) {
    if (!crl->is_array() || crl->size() > kMaxLuksCrls) {
      return Bad("'crl' must be an array of at most 16 paths");
    }
    for (const auto& path : *crl) {
      if (!path.is_string() || !IsSafePath(path.get<std::string>())) {
        return Bad("every 'crl' entry must be an absolute path");
      }
      token.crls.push_back(path.get<std::string>());
    }
  }
  if (settings.contains("cert")) {
    auto cert = JsonString(settings, "cert", kMaxLuksPathBytes);
    if (!cert.ok() || !IsSafePath(*cert)) return Bad("'cert' must be an absolute path");
    token.cert = *cert;
  }
  if (settings.contains("key")) {
    auto key = JsonString(settings, "key", kMaxLuksPathBytes);
    if (!key.ok() || (!IsSafePath(*key) && !IsTpmHandle(*key))) {
      return Bad("'key' must be an absolute path or handle:0x followed by 1 to 8 hex digits");
    }
    if (token.cert.empty()) return Bad("'key' without 'cert'");
    token.key = *key;
  }
  if (settings.contains("ocsp")) {
    auto ocsp = JsonString(settings, "ocsp", 16);
    auto policy = ocsp.ok() ? ParseOcspPolicy(*ocsp) : Result<OcspPolicy>(ocsp.error());
    if (!policy.ok()) return Bad("'ocsp' must be \"prefer\", \"require\" or \"off\"");
    token.ocsp = *policy;
  }
  if (auto timeout = settings.find("timeout"); timeout != settings.end()) {
    if (!timeout->is_number_unsigned() || *timeout < 1 || *timeout > 3600) {
      return Bad("'timeout' must be a whole number of seconds from 1 to 3600");
    }
    token.timeout_seconds = timeout->get<unsigned>();
  }
  return OkStatus();
}

}  // namespace

Result<LuksToken> ParseLuksToken(std::string_view text) {
  if (text.size() > kMaxLuksTokenBytes) return Bad("larger than 256 KiB");
  // The envelope nests 6 deep inside "jwe", the token 2 around it.
  auto doc = ParseJsonObject(text, "LUKS2 token", 8);
  if (!doc.ok()) return Bad(doc.error().message());
  auto type = JsonString(*doc, "type", 64);
  if (!type.ok() || *type != kLuksTokenType) return Bad("its type is not 'petera'");
  LuksToken token;
  PETERA_ASSIGN_OR_RETURN(token.keyslots, ParseKeyslots(*doc));
  PETERA_TRY(ParseSettings(*doc, token));
  auto jwe = doc->find("jwe");
  if (jwe == doc->end() || !jwe->is_object()) return Bad("no envelope ('jwe' object)");
  token.envelope = jwe->dump();
  return token;
}

Result<std::string> SerializeLuksToken(const LuksToken& token) {
  auto envelope = ParseJsonObject(token.envelope, "envelope", 6);
  if (!envelope.ok()) return envelope.error();
  json keyslots = json::array();
  for (int slot : token.keyslots) keyslots.push_back(std::to_string(slot));
  json settings = {{"version", kLuksTokenVersion},
                   {"anchor", token.anchor},
                   {"timeout", token.timeout_seconds}};
  if (!token.crls.empty()) settings["crl"] = token.crls;
  if (!token.cert.empty()) settings["cert"] = token.cert;
  if (!token.key.empty()) settings["key"] = token.key;
  if (token.ocsp != OcspPolicy::kPrefer) settings["ocsp"] = OcspPolicyName(token.ocsp);
  json doc = {{"type", kLuksTokenType},
              {"keyslots", std::move(keyslots)},
              {"petera", std::move(settings)},
              {"jwe", std::move(envelope).value()}};
  return doc.dump();
}

}  // namespace petera
