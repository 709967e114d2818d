// Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
#include "petera/envelope.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>

#include <algorithm>
#include <optional>
#include <utility>

#include <nlohmann/json.hpp>

#include "json_util.h"
#include "petera/pem.h"
#include "petera/shamir.h"

namespace petera {
namespace {

using nlohmann::json;

constexpr const char* kAlgEc = "ECDH-ES+A256KW";
constexpr const char* kAlgRsa = "RSA-OAEP-256";
constexpr size_t kCekBytes = 32;
constexpr size_t kIvBytes = 12;
constexpr size_t kTagBytes = 16;
constexpr size_t kCommitmentBytes = 32;
// The HMAC message of the key commitment (docs/format.md section 6.4).
constexpr char kCommitmentLabel[] = "petera/v1 content key commitment";
// The protected header in base64url: enc, version and threshold, plus one
// 45-byte "bind" entry per recipient (about 4,000 characters for 64
// recipients).
constexpr size_t kMaxProtectedChars = 1024 + kMaxRecipients * 64;

Error Corrupt(const std::string& why) {
  DrainSslErrors();
  return Error(ErrorCategory::kCorrupt, "corrupt or tampered envelope: " + why);
}

std::string JoseCurve(const EC_GROUP* group) {
  switch (EC_GROUP_get_curve_name(group)) {
    case NID_X9_62_prime256v1: return "P-256";
    case NID_secp384r1: return "P-384";
    case NID_secp521r1: return "P-521";
    default: return "";
  }
}

std::string ProtectedHeader(const json& bindings, size_t threshold, const Bytes& commitment) {
  json header = {{"enc", "A256GCM"},
                 {"petera", kFormatVersion},
                 {"bind", bindings},
                 {"commit", Base64UrlEncode(commitment)}};
  if (threshold > 1) {
    // Critical: a JOSE library that does not know thresholds must refuse
    // the envelope rather than take a share for the content key.
    header["threshold"] = threshold;
    header["crit"] = {"threshold"};
  }
  return Base64UrlEncode(AsBytes(header.dump()));
}

// SHA-256 over kid, server, each x5c entry and the share number (when
// there is one), each followed by a zero byte.
std::string Binding(const json& header) {
  EvpMdCtxPtr ctx(EVP_MD_CTX_new());
  uint8_t digest[32];
  unsigned int len = 0;
  const uint8_t zero = 0;
  bool ok = ctx && EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) == 1;
  auto add = [&](const std::string& s) {
    ok = ok && EVP_DigestUpdate(ctx.get(), s.data(), s.size()) == 1 &&
         EVP_DigestUpdate(ctx.get(), &zero, 1) == 1;
  };
  add(header.at("kid").get<std::string>());
  add(header.at("server").get<std::string>());
  for (const auto& cert : header.at("x5c")) add(cert.get<std::string>());
  if (auto share = header.find("share"); share != header.end()) add(share->dump());
  ok = ok && EVP_DigestFinal_ex(ctx.get(), digest, &len) == 1 && len == 32;
  // A failure yields a value no honest binding equals (43 characters).
  if (!ok) return "!";
  return Base64UrlEncode(digest);
}

// AES-256-GCM over `in` with the protected header as AAD.
Status Seal(const SecretBytes& cek, const SecretBytes& plaintext, const std::string& aad,
            Bytes& iv, Bytes& ciphertext, Bytes& tag) {
  iv.resize(kIvBytes);
  tag.resize(kTagBytes);
  ciphertext.resize(plaintext.size());
  if (RAND_bytes(iv.data(), static_cast<int>(iv.size())) != 1) return SslError("RNG failure");
  EvpCipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  bool ok = ctx &&
            EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr,
                               cek.secret_view().data(), iv.data()) == 1 &&
            EVP_EncryptUpdate(ctx.get(), nullptr, &len, AsBytes(aad).data(),
                              static_cast<int>(aad.size())) == 1 &&
            EVP_EncryptUpdate(ctx.get(), ciphertext.data(), &len,
                              plaintext.secret_view().data(),
                              static_cast<int>(plaintext.size())) == 1 &&
            EVP_EncryptFinal_ex(ctx.get(), ciphertext.data() + len, &len) == 1 &&
            EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kTagBytes, tag.data()) == 1;
  if (!ok) return SslError("AES-GCM encryption failed");
  return OkStatus();
}

Result<json> EcRecipient(EVP_PKEY* server_key, const SecretBytes& cek, json header) {
  PETERA_ASSIGN_OR_RETURN(EcGroupPtr group, GroupOfKey(server_key));
  // An ephemeral key c: epk = c*G, and Z = x(c*S) by plain ECDH.
  EvpPkeyPtr eph(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC",
                                   OBJ_nid2sn(EC_GROUP_get_curve_name(group.get()))));
  if (!eph) return SslError("cannot generate ephemeral key");
  PETERA_ASSIGN_OR_RETURN(Bytes epk, EcPublicPoint(eph.get()));
  size_t flen = FieldBytes(group.get());
  SecretBytes z(flen);
  size_t z_len = z.size();
  EvpPkeyCtxPtr derive(EVP_PKEY_CTX_new(eph.get(), nullptr));
  if (!derive || EVP_PKEY_derive_init(derive.get()) != 1 ||
      EVP_PKEY_derive_set_peer(derive.get(), server_key) != 1 ||
      EVP_PKEY_derive(derive.get(), z.secret_data(), &z_len) != 1 || z_len != flen) {
    return SslError("ECDH failed");
  }
  SecretBytes kek = ConcatKdfA256KW(z);
  if (kek.empty()) return SslError("key derivation failed");
  PETERA_ASSIGN_OR_RETURN(Bytes wrapped, AesKeyWrap(kek, cek));
  header["alg"] = kAlgEc;
  header["epk"] = {{"kty", "EC"},
                   {"crv", JoseCurve(group.get())},
                   {"x", Base64UrlEncode(std::span(epk).subspan(1, flen))},
                   {"y", Base64UrlEncode(std::span(epk).subspan(1 + flen, flen))}};
  return json{{"header", std::move(header)}, {"encrypted_key", Base64UrlEncode(wrapped)}};
}

Result<json> RsaRecipient(EVP_PKEY* server_key, const SecretBytes& cek, json header) {
  EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new(server_key, nullptr));
  if (!ctx || EVP_PKEY_encrypt_init(ctx.get()) != 1 ||
      EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_OAEP_PADDING) != 1 ||
      EVP_PKEY_CTX_set_rsa_oaep_md(ctx.get(), EVP_sha256()) != 1 ||
      EVP_PKEY_CTX_set_rsa_mgf1_md(ctx.get(), EVP_sha256()) != 1) {
    return SslError("cannot set up RSA-OAEP");
  }
  size_t len = 0;
  if (EVP_PKEY_encrypt(ctx.get(), nullptr, &len, cek.secret_view().data(), cek.size()) != 1) {
    return SslError("RSA-OAEP failed");
  }
  Bytes out(len);
  if (EVP_PKEY_encrypt(ctx.get(), out.data(), &len, cek.secret_view().data(), cek.size()) != 1) {
    return SslError("RSA-OAEP failed");
  }
  out.resize(len);
  header["alg"] = kAlgRsa;
  return json{{"header", std::move(header)}, {"encrypted_key", Base64UrlEncode(out)}};
}

// A recipient for `target` holding `key`: the content key, or share number
// `share` of it (0: no threshold).
Result<json> MakeRecipient(const EncryptionTarget& target, const SecretBytes& key,
                           uint8_t share) {
  if (target.chain.empty()) return Error(ErrorCategory::kUsage, "empty encryption chain");
  EVP_PKEY* server_key = X509_get0_pubkey(target.chain.front().get());
  if (server_key == nullptr) return SslError("certificate has no public key");
  PETERA_TRY(CheckEncryptionKeyType(server_key, "encryption certificate"));
  json header;
  PETERA_ASSIGN_OR_RETURN(std::string kid, KeyIdOfCertificate(target.chain.front().get()));
  header["kid"] = kid;
  json x5c = json::array();
  for (const auto& cert : target.chain) {
    PETERA_ASSIGN_OR_RETURN(auto der, CertificateToDer(cert.get()));
    x5c.push_back(Base64Encode(der));
  }
  header["x5c"] = std::move(x5c);
  header["server"] = target.address.ToString();
  if (share != 0) header["share"] = share;
  if (EVP_PKEY_is_a(server_key, "EC")) return EcRecipient(server_key, key, std::move(header));
  return RsaRecipient(server_key, key, std::move(header));
}

// ---- Parsing ---------------------------------------------------------------

Result<Bytes> B64Member(const json& doc, const char* key, size_t max_len) {
  auto s = JsonString(doc, key, max_len);
  if (!s.ok()) return Corrupt(s.error().message());
  auto bytes = Base64UrlDecode(*s);
  if (!bytes.ok()) return Corrupt(std::string("member '") + key + "' is not base64url");
  return bytes;
}

Status ParseProtected(const std::string& b64, Envelope& env) {
  auto raw = Base64UrlDecode(b64);
  if (!raw.ok()) return Corrupt("protected header is not base64url");
  std::string_view text(reinterpret_cast<const char*>(raw->data()), raw->size());
  auto doc = ParseJsonObject(text, "protected header", 4);
  if (!doc.ok()) return Corrupt(doc.error().message());
  auto enc = doc->find("enc");
  if (enc == doc->end() || *enc != "A256GCM") return Corrupt("content encryption is not A256GCM");
  auto version = doc->find("petera");
  if (version == doc->end() || !version->is_number_integer()) {
    return Corrupt("no Petera format version in the protected header");
  }
  if (*version != kFormatVersion) {
    return Error(ErrorCategory::kCorrupt,
                 "unsupported envelope format version " + version->dump() +
                     " (this petera reads version " + std::to_string(kFormatVersion) + ")");
  }
  if (doc->contains("zip")) return Corrupt("compressed envelopes are not supported");
  auto bind = doc->find("bind");
  if (bind == doc->end() || !bind->is_array() || bind->size() > kMaxRecipients) {
    return Corrupt("protected header does not bind the recipients");
  }
  for (const auto& b : *bind) {
    if (!b.is_string()) return Corrupt("protected header does not bind the recipients");
    env.bindings.push_back(b.get<std::string>());
  }
  if (doc->contains("commit")) {
    auto commitment = B64Member(*doc, "commit", 64);
    if (!commitment.ok() || commitment->size() != kCommitmentBytes) {
      return Corrupt("key commitment must be 32 bytes of base64url");
    }
    env.commitment = std::move(commitment).value();
  }
  bool threshold_critical = false;
  if (auto crit = doc->find("crit"); crit != doc->end()) {
    if (!crit->is_array() || crit->empty()) return Corrupt("crit is not a non-empty array");
    for (const auto& name : *crit) {
      if (name != "petera" && name != "threshold") {
        return Corrupt("unknown critical header " + name.dump());
      }
      threshold_critical = threshold_critical || name == "threshold";
    }
  }
  if (auto threshold = doc->find("threshold"); threshold != doc->end()) {
    if (!threshold->is_number_integer() || *threshold < 2 ||
        *threshold > static_cast<int>(kMaxRecipients)) {
      return Corrupt("threshold must be an integer from 2 to 64");
    }
    if (!threshold_critical) return Corrupt("threshold is not listed in crit");
    env.threshold = threshold->get<size_t>();
  } else if (threshold_critical) {
    return Corrupt("crit lists a threshold the header does not have");
  }
  for (const char* per_recipient : {"alg", "epk", "kid", "x5c", "server", "share"}) {
    if (doc->contains(per_recipient)) {
      return Corrupt(std::string("'") + per_recipient + "' belongs in the recipient header");
    }
  }
  return OkStatus();
}

Result<std::vector<X509Ptr>> ParseX5c(const json& header) {
  auto it = header.find("x5c");
  if (it == header.end() || !it->is_array() || it->empty() || it->size() > kMaxChainLength) {
    return Corrupt("recipient x5c must be an array of 1 to 8 certificates");
  }
  std::vector<X509Ptr> chain;
  for (const auto& entry : *it) {
    if (!entry.is_string() || entry.get_ref<const std::string&>().size() > 16384) {
      return Corrupt("x5c entry is not a certificate");
    }
    auto der = Base64Decode(entry.get_ref<const std::string&>());
    if (!der.ok()) return Corrupt("x5c entry is not base64");
    auto cert = CertificateFromDer(*der);
    if (!cert.ok()) return Corrupt("x5c entry is not a certificate");
    chain.push_back(std::move(cert).value());
  }
  return chain;
}

Result<Bytes> ParseEpk(const json& header, EVP_PKEY* key) {
  auto epk = header.find("epk");
  if (epk == header.end() || !epk->is_object()) return Corrupt("EC recipient without epk");
  auto group = GroupOfKey(key);
  if (!group.ok()) return Corrupt("recipient key is not EC");
  auto kty = JsonString(*epk, "kty", 8);
  auto crv = JsonString(*epk, "crv", 8);
  if (!kty.ok() || *kty != "EC" || !crv.ok() || *crv != JoseCurve(group->get())) {
    return Corrupt("epk is not on the certificate's curve");
  }
  size_t flen = FieldBytes(group->get());
  PETERA_ASSIGN_OR_RETURN(Bytes x, B64Member(*epk, "x", 128));
  PETERA_ASSIGN_OR_RETURN(Bytes y, B64Member(*epk, "y", 128));
  if (x.size() != flen || y.size() != flen) return Corrupt("epk coordinates have the wrong size");
  Bytes point{0x04};
  point.insert(point.end(), x.begin(), x.end());
  point.insert(point.end(), y.begin(), y.end());
  if (!ValidateEcPoint(key, point).ok()) return Corrupt("epk is not a point of the curve");
  return point;
}

Result<Recipient> ParseRecipient(const json& entry) {
  if (!entry.is_object()) return Corrupt("recipient is not an object");
  auto header = entry.find("header");
  if (header == entry.end() || !header->is_object()) return Corrupt("recipient without header");
  if (header->contains("crit")) return Corrupt("critical recipient headers are not supported");
  Recipient r;
  auto alg = JsonString(*header, "alg", 32);
  if (!alg.ok() || (*alg != kAlgEc && *alg != kAlgRsa)) {
    return Corrupt("recipient alg must be ECDH-ES+A256KW or RSA-OAEP-256");
  }
  r.alg = *alg;
  auto kid = JsonString(*header, "kid", 64);
  if (!kid.ok()) return Corrupt("recipient without kid");
  r.kid = *kid;
  PETERA_ASSIGN_OR_RETURN(r.chain, ParseX5c(*header));
  auto server = JsonString(*header, "server", 300);
  if (!server.ok()) return Corrupt("recipient without server address");
  auto address = ParseAddress(*server);
  if (!address.ok()) return Corrupt("recipient server address is invalid");
  r.address = *address;
  EVP_PKEY* key = r.server_key();
  if (key == nullptr || !CheckEncryptionKeyType(key, "recipient").ok()) {
    return Corrupt("recipient certificate has an unsupported key");
  }
  auto actual_kid = KeyIdOfCertificate(r.chain.front().get());
  if (!actual_kid.ok() || *actual_kid != r.kid) return Corrupt("recipient kid does not match x5c");
  if (r.is_ec() != static_cast<bool>(EVP_PKEY_is_a(key, "EC"))) {
    return Corrupt("recipient alg does not match its certificate's key");
  }
  if (auto share = header->find("share"); share != header->end()) {
    if (!share->is_number_integer() || *share < 1 || *share > static_cast<int>(kMaxShares)) {
      return Corrupt("recipient share must be an integer from 1 to 255");
    }
    r.share = share->get<uint8_t>();
  }
  r.binding = Binding(*header);
  PETERA_ASSIGN_OR_RETURN(r.encrypted_key, B64Member(entry, "encrypted_key", 2048));
  if (r.is_ec()) {
    PETERA_ASSIGN_OR_RETURN(r.epk, ParseEpk(*header, key));
    if (r.encrypted_key.size() != kCekBytes + 8) return Corrupt("wrapped key has the wrong size");
  } else if (r.encrypted_key.size() != static_cast<size_t>(EVP_PKEY_get_size(key))) {
    return Corrupt("encrypted key has the wrong size");
  }
  return r;
}

// The first two of `keys` that are the same key, as 1-based positions.
std::optional<std::pair<size_t, size_t>> RepeatedKey(const std::vector<EVP_PKEY*>& keys) {
  for (size_t i = 0; i < keys.size(); ++i) {
    for (size_t j = i + 1; j < keys.size(); ++j) {
      if (SameKey(keys[i], keys[j])) return std::make_pair(i + 1, j + 1);
    }
  }
  return std::nullopt;
}

// A threshold envelope has at least `threshold` recipients, each with a
// share number and a key of its own (a threshold counts keys: one key
// holding two shares would open them both); any other has no share.
Status CheckShares(const Envelope& env) {
  if (env.threshold == 1) {
    for (const auto& r : env.recipients) {
      if (r.share != 0) return Corrupt("recipient share in an envelope without a threshold");
    }
    return OkStatus();
  }
  if (env.threshold > env.recipients.size()) {
    return Corrupt("threshold " + std::to_string(env.threshold) + " is more than the " +
                   std::to_string(env.recipients.size()) + " recipients");
  }
  std::vector<bool> seen(kMaxShares + 1, false);
  for (const auto& r : env.recipients) {
    if (r.share == 0) return Corrupt("recipient without a share in a threshold envelope");
    if (seen[r.share]) return Corrupt("two recipients hold share " + std::to_string(r.share));
    seen[r.share] = true;
  }
  std::vector<EVP_PKEY*> keys;
  for (const auto& r : env.recipients) keys.push_back(r.server_key());
  if (auto repeated = RepeatedKey(keys)) {
    return Corrupt("recipients " + std::to_string(repeated->first) + " and " +
                   std::to_string(repeated->second) + " of a threshold envelope have the same key");
  }
  return OkStatus();
}

// A threshold needs a different server and key per target: one server
// (which keeps old keys after a rotation) or one key holding two shares
// would open both.
Status CheckDistinctTargets(const std::vector<EncryptionTarget>& targets) {
  auto named = [&](size_t position) {
    return std::to_string(position) + " (" + targets[position - 1].address.ToString() + ")";
  };
  for (size_t i = 0; i < targets.size(); ++i) {
    for (size_t j = i + 1; j < targets.size(); ++j) {
      if (targets[i].address == targets[j].address) {
        return Error(ErrorCategory::kUsage, "targets " + named(i + 1) + " and " + named(j + 1) +
                                                " are the same server: a threshold needs a "
                                                "different server per target");
      }
    }
  }
  std::vector<EVP_PKEY*> keys;
  for (const auto& target : targets) {
    if (target.chain.empty()) return Error(ErrorCategory::kUsage, "empty encryption chain");
    EVP_PKEY* key = X509_get0_pubkey(target.chain.front().get());
    if (key == nullptr) return SslError("certificate has no public key");
    keys.push_back(key);
  }
  if (auto repeated = RepeatedKey(keys)) {
    return Error(ErrorCategory::kUsage,
                 "targets " + named(repeated->first) + " and " + named(repeated->second) +
                     " have the same encryption key: a threshold counts keys, so each target "
                     "needs its own");
  }
  return OkStatus();
}

}  // namespace

EVP_PKEY* Recipient::server_key() const {
  return chain.empty() ? nullptr : X509_get0_pubkey(chain.front().get());
}

Result<std::string> Encrypt(const SecretBytes& plaintext,
                            const std::vector<EncryptionTarget>& targets, size_t threshold) {
  if (plaintext.size() > kMaxPayloadBytes) {
    return Error(ErrorCategory::kTooLarge, "input is larger than 16 MiB");
  }
  if (targets.empty() || targets.size() > kMaxRecipients) {
    return Error(ErrorCategory::kUsage, "need 1 to 64 encryption targets");
  }
  if (threshold < 1 || threshold > targets.size()) {
    return Error(ErrorCategory::kUsage, "the threshold must be from 1 to the number of targets (" +
                                            std::to_string(targets.size()) + ")");
  }
  SecretBytes cek(kCekBytes);
  if (RAND_priv_bytes(cek.secret_data(), static_cast<int>(cek.size())) != 1) {
    return SslError("RNG failure");
  }
  std::vector<Share> shares;
  if (threshold > 1) {
    PETERA_TRY(CheckDistinctTargets(targets));
    PETERA_ASSIGN_OR_RETURN(shares, SplitSecret(cek, threshold, targets.size()));
  }
  json recipients = json::array();
  json bindings = json::array();
  for (size_t i = 0; i < targets.size(); ++i) {
    PETERA_ASSIGN_OR_RETURN(json recipient,
                            shares.empty() ? MakeRecipient(targets[i], cek, 0)
                                           : MakeRecipient(targets[i], shares[i].y, shares[i].x));
    bindings.push_back(Binding(recipient["header"]));
    recipients.push_back(std::move(recipient));
  }
  PETERA_ASSIGN_OR_RETURN(Bytes commitment, KeyCommitment(cek));
  std::string protected_b64 = ProtectedHeader(bindings, threshold, commitment);
  Bytes iv, ciphertext, tag;
  PETERA_TRY(Seal(cek, plaintext, protected_b64, iv, ciphertext, tag));
  json doc = {{"protected", protected_b64},
              {"recipients", std::move(recipients)},
              {"iv", Base64UrlEncode(iv)},
              {"ciphertext", Base64UrlEncode(ciphertext)},
              {"tag", Base64UrlEncode(tag)}};
  return doc.dump() + "\n";
}

Result<Envelope> ParseEnvelope(std::string_view text) {
  if (text.size() > kMaxEnvelopeBytes) {
    return Error(ErrorCategory::kTooLarge, "envelope is larger than the 16 MiB payload limit allows");
  }
  auto doc = ParseJsonObject(text, "envelope", 6);
  if (!doc.ok()) return Corrupt(doc.error().message());
  // The flattened serialization (RFC 7516 7.2.2), what JOSE libraries such
  // as jwcrypto write for one recipient, is that recipient's array of one.
  if (!doc->contains("recipients") && (doc->contains("header") || doc->contains("encrypted_key"))) {
    nlohmann::json recipient = nlohmann::json::object();
    for (const char* key : {"header", "encrypted_key"}) {
      if (auto it = doc->find(key); it != doc->end()) {
        recipient[key] = std::move(*it);
        doc->erase(key);
      }
    }
    (*doc)["recipients"] = nlohmann::json::array({std::move(recipient)});
  }
  for (const auto& [key, value] : doc->items()) {
    if (key != "protected" && key != "recipients" && key != "iv" && key != "ciphertext" &&
        key != "tag") {
      return Corrupt("unexpected member '" + key + "'");
    }
  }
  Envelope env;
  auto prot = JsonString(*doc, "protected", kMaxProtectedChars);
  if (!prot.ok()) return Corrupt("no protected header");
  env.protected_b64 = *prot;
  PETERA_TRY(ParseProtected(env.protected_b64, env));
  auto recipients = doc->find("recipients");
  if (recipients == doc->end() || !recipients->is_array() || recipients->empty() ||
      recipients->size() > kMaxRecipients) {
    return Corrupt("recipients must be an array of 1 to 64 entries");
  }
  for (const auto& entry : *recipients) {
    PETERA_ASSIGN_OR_RETURN(Recipient r, ParseRecipient(entry));
    env.recipients.push_back(std::move(r));
  }
  PETERA_TRY(CheckShares(env));
  PETERA_ASSIGN_OR_RETURN(env.iv, B64Member(*doc, "iv", 64));
  PETERA_ASSIGN_OR_RETURN(env.tag, B64Member(*doc, "tag", 64));
  PETERA_ASSIGN_OR_RETURN(env.ciphertext, B64Member(*doc, "ciphertext", kMaxEnvelopeBytes));
  if (env.iv.size() != kIvBytes) return Corrupt("iv must be 12 bytes");
  if (env.tag.size() != kTagBytes) return Corrupt("tag must be 16 bytes");
  if (env.ciphertext.size() > kMaxPayloadBytes) return Corrupt("ciphertext over 16 MiB");
  return env;
}

Result<Blinding> StartRecovery(const Recipient& recipient) {
  if (recipient.is_ec()) return Blinding::ForEc(recipient.server_key(), recipient.epk);
  return Blinding::ForRsa(recipient.server_key(), recipient.encrypted_key);
}

Result<SecretBytes> UnwrapContentKey(const Recipient& recipient, const SecretBytes& unblinded) {
  if (!recipient.is_ec()) {
    if (unblinded.size() != kCekBytes) return Corrupt("content key has the wrong size");
    return unblinded;
  }
  SecretBytes kek = ConcatKdfA256KW(unblinded);
  if (kek.empty()) return SslError("key derivation failed");
  PETERA_ASSIGN_OR_RETURN(SecretBytes cek, AesKeyUnwrap(kek, recipient.encrypted_key));
  if (cek.size() != kCekBytes) return Corrupt("content key has the wrong size");
  return cek;
}

Result<SecretBytes> CombineContentKey(const Envelope& env,
                                      const std::vector<UnwrappedKey>& unwrapped) {
  std::vector<Share> shares;
  std::vector<bool> used(env.recipients.size(), false);
  for (const auto& u : unwrapped) {
    if (shares.size() == env.threshold) break;
    if (u.recipient >= env.recipients.size() || used[u.recipient]) continue;
    used[u.recipient] = true;
    if (env.threshold == 1) return u.key;
    shares.push_back(Share{env.recipients[u.recipient].share, u.key});
  }
  if (shares.size() < env.threshold) {
    return Error(ErrorCategory::kUsage,
                 "need " + std::to_string(env.threshold) + " recipients' shares, have " +
                     std::to_string(shares.size()));
  }
  return CombineShares(shares);
}

Result<Bytes> KeyCommitment(const SecretBytes& cek) {
  Bytes out(kCommitmentBytes);
  unsigned int len = 0;
  if (HMAC(EVP_sha256(), cek.secret_view().data(), static_cast<int>(cek.size()),
           AsBytes(std::string_view(kCommitmentLabel)).data(), sizeof(kCommitmentLabel) - 1,
           out.data(), &len) == nullptr ||
      len != kCommitmentBytes) {
    return SslError("HMAC-SHA256 failed");
  }
  return out;
}

bool MatchesCommitment(const Envelope& env, const SecretBytes& cek) {
  if (env.commitment.empty()) return true;
  auto commitment = KeyCommitment(cek);
  return commitment.ok() && commitment->size() == env.commitment.size() &&
         CRYPTO_memcmp(commitment->data(), env.commitment.data(), kCommitmentBytes) == 0;
}

Result<SecretBytes> DecryptPayload(const Envelope& env, const SecretBytes& cek) {
  if (cek.size() != kCekBytes) return Corrupt("content key has the wrong size");
  if (!MatchesCommitment(env, cek)) {
    return Corrupt("the content key does not match the envelope's key commitment");
  }
  SecretBytes out(env.ciphertext.size());
  EvpCipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  const auto& aad = env.protected_b64;
  bool ok = ctx &&
            EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr,
                               cek.secret_view().data(), env.iv.data()) == 1 &&
            EVP_DecryptUpdate(ctx.get(), nullptr, &len, AsBytes(aad).data(),
                              static_cast<int>(aad.size())) == 1 &&
            EVP_DecryptUpdate(ctx.get(), out.secret_data(), &len, env.ciphertext.data(),
                              static_cast<int>(env.ciphertext.size())) == 1 &&
            EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kTagBytes,
                                const_cast<uint8_t*>(env.tag.data())) == 1 &&
            EVP_DecryptFinal_ex(ctx.get(), out.secret_data() + len, &len) == 1;
  if (!ok) {
    out.Clear();  // never release unauthenticated plaintext
    return Corrupt("authentication failed");
  }
  // The protected header is authentic now; so must the recipients be.
  bool bound = env.bindings.size() == env.recipients.size();
  for (size_t i = 0; bound && i < env.recipients.size(); ++i) {
    bound = env.recipients[i].binding == env.bindings[i];
  }
  if (!bound) {
    out.Clear();
    return Corrupt("recipient headers do not match the protected header");
  }
  return out;
}

namespace {

// What recipient `r` unwraps with its server's private key.
Result<SecretBytes> UnwrapWithPrivateKey(const Recipient& r, const RecoveryKey& key) {
  // Recovery with no blinding: the server operation on the raw value.
  auto raw = key.Recover(r.is_ec() ? std::span<const uint8_t>(r.epk)
                                   : std::span<const uint8_t>(r.encrypted_key));
  if (!raw.ok()) return raw.error();
  SecretBytes y(raw->data(), raw->size());
  OPENSSL_cleanse(raw->data(), raw->size());
  SecretBytes unblinded;
  if (r.is_ec()) {
    // x-coordinate of the uncompressed point.
    unblinded = SecretBytes(y.secret_view().data() + 1, (y.size() - 1) / 2);
  } else {
    PETERA_ASSIGN_OR_RETURN(unblinded, OaepSha256Decode(y));
  }
  return UnwrapContentKey(r, unblinded);
}

}  // namespace

Result<SecretBytes> DecryptWithPrivateKeys(const Envelope& env,
                                           const std::vector<EVP_PKEY*>& private_keys) {
  PayloadOpener opener(env);
  for (EVP_PKEY* private_key : private_keys) {
    if (EVP_PKEY_up_ref(private_key) != 1) return SslError("cannot reference key");
    PETERA_ASSIGN_OR_RETURN(RecoveryKey key, RecoveryKey::Create(EvpPkeyPtr(private_key)));
    for (size_t i = 0; i < env.recipients.size(); ++i) {
      const Recipient& r = env.recipients[i];
      // Compare keys, not key ids: a certificate's SPKI encoding may differ
      // from OpenSSL's re-encoding of the same key.
      if (!SameKey(r.server_key(), private_key)) continue;
      PETERA_ASSIGN_OR_RETURN(SecretBytes key_or_share, UnwrapWithPrivateKey(r, key));
      // The opener ignores a recipient offered twice (the same key given
      // twice).
      PETERA_ASSIGN_OR_RETURN(auto plaintext, opener.Offer(i, std::move(key_or_share)));
      if (plaintext) return std::move(*plaintext);
    }
  }
  if (opener.offered() == 0) {
    return Error(ErrorCategory::kNotFound, "no recipient of this envelope uses that key");
  }
  if (opener.offered() < env.threshold) {
    return Error(ErrorCategory::kNotFound,
                 "the keys given open " + std::to_string(opener.offered()) + " of the " +
                     std::to_string(env.threshold) + " recipients this envelope needs");
  }
  if (opener.payload_failure()) return *opener.payload_failure();
  return Corrupt("no key the recipients unwrapped matches the envelope's key commitment");
}

// ---- PayloadOpener ------------------------------------------------------

Result<std::optional<SecretBytes>> PayloadOpener::Offer(size_t index, SecretBytes key) {
  if (index >= envelope_.recipients.size()) {
    return Error(ErrorCategory::kInternal, "no such recipient");
  }
  for (const auto& offer : offers_) {
    if (offer.index == index) return std::optional<SecretBytes>();
  }
  offers_.push_back(Offered{index, std::move(key)});
  if (envelope_.threshold == 1) return OfferKey(offers_.size() - 1);
  return OfferShare(offers_.size() - 1);
}

Result<std::optional<SecretBytes>> PayloadOpener::OfferKey(size_t position) {
  const Offered& offer = offers_[position];
  if (!MatchesCommitment(envelope_, offer.key)) {
    wrong_.push_back(offer.index);
    return std::optional<SecretBytes>();
  }
  auto opened = Try(offer.key, {position});
  // Without a commitment a key that fails the tag is as wrong as one that
  // misses the commitment: another recipient's key may still open it.
  if (opened.ok() && !*opened && envelope_.commitment.empty()) wrong_.push_back(offer.index);
  return opened;
}

Result<std::optional<SecretBytes>> PayloadOpener::OfferShare(size_t position) {
  const size_t t = envelope_.threshold;
  if (offers_.size() < t) return std::optional<SecretBytes>();
  // Every set of t offers that includes the new one: the new one plus t - 1
  // of the earlier ones, chosen as increasing positions `pick`.
  std::vector<size_t> pick(t - 1);
  for (size_t k = 0; k + 1 < t; ++k) pick[k] = k;
  std::vector<size_t> positions(t);
  std::vector<Share> shares(t);
  while (true) {
    if (combinations_ == kMaxCombinations || payload_tries_ == kMaxPayloadTries) {
      return Error(ErrorCategory::kProtocol,
                   "gave up after " + std::to_string(combinations_) +
                       " combinations of key shares: too many wrong answers");
    }
    ++combinations_;
    for (size_t k = 0; k + 1 < t; ++k) positions[k] = pick[k];
    positions[t - 1] = position;
    for (size_t k = 0; k < t; ++k) {
      const Offered& offer = offers_[positions[k]];
      shares[k] = Share{envelope_.recipients[offer.index].share, offer.key};
    }
    PETERA_ASSIGN_OR_RETURN(SecretBytes cek, CombineShares(shares));
    if (MatchesCommitment(envelope_, cek)) {
      PETERA_ASSIGN_OR_RETURN(auto opened, Try(cek, positions));
      if (opened) {
        FindWrongShares(cek);
        return opened;
      }
    }
    // The next choice of t - 1 among the `position` earlier offers.
    size_t k = t - 1;
    while (k > 0 && pick[k - 1] == position - (t - 1) + (k - 1)) --k;
    if (k == 0) return std::optional<SecretBytes>();
    ++pick[k - 1];
    for (size_t j = k; j + 1 < t; ++j) pick[j] = pick[j - 1] + 1;
  }
}

Result<std::optional<SecretBytes>> PayloadOpener::Try(const SecretBytes& cek,
                                                      const std::vector<size_t>& positions) {
  ++payload_tries_;
  auto plaintext = DecryptPayload(envelope_, cek);
  if (plaintext.ok()) {
    for (size_t position : positions) used_.push_back(offers_[position].index);
    return std::optional<SecretBytes>(std::move(plaintext).value());
  }
  // The one key the commitment allows does not open the payload: no other
  // answer can.
  if (!envelope_.commitment.empty()) return plaintext.error();
  payload_failure_ = plaintext.error();
  return std::optional<SecretBytes>();
}

void PayloadOpener::FindWrongShares(const SecretBytes& cek) {
  // The t shares that opened the payload fix the polynomial; any other
  // offer is right exactly when it gives the same key with t - 1 of them.
  std::vector<Share> shares;
  for (size_t k = 1; k < used_.size(); ++k) {
    for (const auto& offer : offers_) {
      if (offer.index == used_[k]) shares.push_back(Share{envelope_.recipients[offer.index].share, offer.key});
    }
  }
  for (const auto& offer : offers_) {
    if (std::find(used_.begin(), used_.end(), offer.index) != used_.end()) continue;
    shares.push_back(Share{envelope_.recipients[offer.index].share, offer.key});
    auto combined = CombineShares(shares);
    if (!combined.ok() || combined->size() != cek.size() ||
        CRYPTO_memcmp(combined->secret_view().data(), cek.secret_view().data(), cek.size()) != 0) {
      wrong_.push_back(offer.index);
    }
    shares.pop_back();
  }
}

}  // namespace petera
