// Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
#include "petera/luks_token.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace petera {
namespace {

using nlohmann::json;

const char* const kEnvelope = R"({"protected":"e30","recipients":[],"iv":"","ciphertext":"","tag":""})";

json Valid() {
  return {{"type", "petera"},
          {"keyslots", {"1"}},
          {"petera", {{"version", 1}, {"anchor", "/etc/petera/anchor.pem"}, {"timeout", 7}}},
          {"jwe", json::parse(kEnvelope)}};
}

void ExpectRefused(const json& token, const std::string& fragment) {
  auto parsed = ParseLuksToken(token.dump());
  ASSERT_FALSE(parsed.ok()) << token.dump();
  EXPECT_EQ(parsed.error().category(), ErrorCategory::kCorrupt);
  EXPECT_NE(parsed.error().message().find(fragment), std::string::npos)
      << parsed.error().message();
}

TEST(LuksToken, ReadsWhatItWrites) {
  LuksToken token;
  token.keyslots = {3, 31};
  token.anchor = "/etc/petera/anchor.pem";
  token.crls = {"/etc/petera/a.crl", "/etc/petera/b.crl"};
  token.timeout_seconds = 4;
  token.envelope = json::parse(kEnvelope).dump();
  auto text = SerializeLuksToken(token);
  ASSERT_TRUE(text.ok()) << text.error().message();
  json doc = json::parse(*text);
  EXPECT_EQ(doc["type"], "petera");
  EXPECT_EQ(doc["keyslots"], json({"3", "31"}));
  EXPECT_TRUE(doc["jwe"].is_object()) << "the envelope is stored as JSON, not as a string";
  auto back = ParseLuksToken(*text);
  ASSERT_TRUE(back.ok()) << back.error().message();
  EXPECT_EQ(back->keyslots, token.keyslots);
  EXPECT_EQ(back->anchor, token.anchor);
  EXPECT_EQ(back->crls, token.crls);
  EXPECT_EQ(back->timeout_seconds, 4u);
  EXPECT_EQ(back->envelope, token.envelope);
}

TEST(LuksToken, AcceptsNoKeyslotsAndDefaultsTheTimeout) {
  json token = Valid();
  token["keyslots"] = json::array();
  token["petera"].erase("timeout");
  auto parsed = ParseLuksToken(token.dump());
  ASSERT_TRUE(parsed.ok()) << parsed.error().message();
  EXPECT_TRUE(parsed->keyslots.empty());
  EXPECT_EQ(parsed->timeout_seconds, 10u);
}

TEST(LuksToken, RefusesAnythingOff) {
  json t = Valid();
  t["type"] = "clevis";
  ExpectRefused(t, "type is not 'petera'");
  for (const char* slot : {"32", "01", "-1", "", "1x", "100"}) {
    t = Valid();
    t["keyslots"] = {slot};
    ExpectRefused(t, "keyslot");
  }
  t = Valid();
  t["keyslots"] = {1};
  ExpectRefused(t, "not a string");
  t = Valid();
  t["keyslots"] = {"2", "2"};
  ExpectRefused(t, "listed twice");
  t = Valid();
  t["petera"]["version"] = 2;
  ExpectRefused(t, "unsupported token version 2");
  for (const char* anchor : {"anchor.pem", "", "/etc/petera/\nanchor.pem"}) {
    t = Valid();
    t["petera"]["anchor"] = anchor;
    ExpectRefused(t, "'anchor' must be an absolute path");
  }
  t = Valid();
  t["petera"]["crl"] = {"ca.crl"};
  ExpectRefused(t, "every 'crl' entry must be an absolute path");
  for (int timeout : {0, 3601, -5}) {
    t = Valid();
    t["petera"]["timeout"] = timeout;
    ExpectRefused(t, "'timeout'");
  }
  t = Valid();
  t["jwe"] = "a string";
  ExpectRefused(t, "no envelope");
  t = Valid();
  t.erase("petera");
  ExpectRefused(t, "no 'petera' settings");
  ExpectRefused(json::array(), "invalid Petera LUKS2 token");
  std::string huge(kMaxLuksTokenBytes + 1, ' ');
  EXPECT_FALSE(ParseLuksToken(huge).ok());
}

TEST(LuksToken, CarriesTheClientCertificateAndKey) {
  for (const std::string key : {"/etc/petera/client.key", "handle:0x81000001", ""}) {
    LuksToken token;
    token.anchor = "/etc/petera/anchor.pem";
    token.cert = "/etc/petera/client.pem";
    token.key = key;
    token.envelope = json::parse(kEnvelope).dump();
    auto text = SerializeLuksToken(token);
    ASSERT_TRUE(text.ok()) << text.error().message();
    EXPECT_EQ(json::parse(*text)["petera"].contains("key"), !key.empty());
    auto back = ParseLuksToken(*text);
    ASSERT_TRUE(back.ok()) << back.error().message();
    EXPECT_EQ(back->cert, "/etc/petera/client.pem");
    EXPECT_EQ(back->key, key);
  }
}

TEST(LuksToken, RefusesAClientKeyThatIsNeitherAPathNorATpmHandle) {
  json token = Valid();
  token["petera"]["cert"] = "client.pem";
  ExpectRefused(token, "'cert' must be an absolute path");
  token["petera"]["cert"] = "/etc/petera/client.pem";
  for (const char* key : {"client.key", "handle:81000001", "handle:0x", "handle:0x123456789",
                          "handle:0xg1", "pkcs11:object=x"}) {
    token["petera"]["key"] = key;
    ExpectRefused(token, "'key' must be an absolute path or handle:0x");
  }
  token["petera"].erase("cert");
  token["petera"]["key"] = "/etc/petera/client.key";
  ExpectRefused(token, "'key' without 'cert'");
  EXPECT_TRUE(IsTpmHandle("handle:0x81000001"));
  EXPECT_FALSE(IsTpmHandle("handle:0x810000010"));
}

TEST(LuksToken, CarriesTheOcspPolicyAndWritesOnlyANonDefaultOne) {
  for (OcspPolicy policy : {OcspPolicy::kPrefer, OcspPolicy::kRequire, OcspPolicy::kOff}) {
    LuksToken token;
    token.anchor = "/etc/petera/anchor.pem";
    token.ocsp = policy;
    token.envelope = json::parse(kEnvelope).dump();
    auto text = SerializeLuksToken(token);
    ASSERT_TRUE(text.ok()) << text.error().message();
    json settings = json::parse(*text)["petera"];
    EXPECT_EQ(settings.contains("ocsp"), policy != OcspPolicy::kPrefer);
    if (policy != OcspPolicy::kPrefer) {
      EXPECT_EQ(settings["ocsp"], OcspPolicyName(policy));
    }
    auto back = ParseLuksToken(*text);
    ASSERT_TRUE(back.ok()) << back.error().message();
    EXPECT_EQ(back->ocsp, policy);
  }
  EXPECT_EQ(ParseLuksToken(Valid().dump())->ocsp, OcspPolicy::kPrefer);
}

TEST(LuksToken, RefusesAnUnknownOcspPolicy) {
  json token = Valid();
  for (const json& bad : {json("yes"), json("REQUIRE"), json(""), json(1), json(true),
                          json::array({"require"}), json(std::string(100, 'r'))}) {
    token["petera"]["ocsp"] = bad;
    ExpectRefused(token, "'ocsp' must be");
  }
}

}  // namespace
}  // namespace petera
