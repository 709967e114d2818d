// Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
//
// libcryptsetup-token-petera.so: libcryptsetup's external token plugin for
// tokens of type "petera" (luks_token.h). With it installed where
// libcryptsetup looks for plugins, `cryptsetup open`, systemd-cryptsetup
// and `cryptsetup luksDump` handle Petera-bound keyslots themselves: open
// recovers the keyslot's passphrase from the servers exactly as
// `petera luks pass` does (anchor and CRLs from the token, every chain
// validated, the servers asked at once, each within the token's timeout).
//
// Everything here runs inside another program, often as root at boot: the
// token is validated before use, nothing is printed but through
// libcryptsetup's log (and petera's one line per failed server on stderr,
// as the client prints it), and no exception or secret escapes.
#include <libcryptsetup.h>
#include <openssl/crypto.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <optional>
#include <string>
#include <utility>

#include "cli_io.h"
#include "decryption.h"
#include "petera/envelope.h"
#include "petera/luks_token.h"
#include "petera/pem.h"

#define PETERA_TOKEN_EXPORT extern "C" __attribute__((visibility("default")))

namespace {

using petera::ErrorCategory;

void Log(crypt_device* cd, int level, const std::string& text) {
  crypt_log(cd, level, (text + "\n").c_str());
}

// libcryptsetup tries the next token only after -ENOENT, -EPERM, -EAGAIN
// or -ENOANO; any other error ends its search. Servers out of reach are
// "hardware not present" (-EAGAIN, which systemd-cryptsetup also reads so);
// anything else makes this token unusable (-ENOENT).
int ErrnoOf(ErrorCategory category) {
  return category == ErrorCategory::kNetwork ? -EAGAIN : -ENOENT;
}

// A token with its envelope, both checked.
struct ParsedToken {
  petera::LuksToken token;
  petera::Envelope envelope;
};

petera::Result<ParsedToken> ParseToken(std::string_view json) {
  PETERA_ASSIGN_OR_RETURN(petera::LuksToken token, petera::ParseLuksToken(json));
  PETERA_ASSIGN_OR_RETURN(petera::Envelope envelope, petera::ParseEnvelope(token.envelope));
  return ParsedToken{std::move(token), std::move(envelope)};
}

// libcryptsetup validates a token right before it opens it. What
// cryptsetup_token_validate parsed is kept here for the open that follows,
// which would otherwise parse the same text again (OpenSSL 3.0 spends about
// half a millisecond decoding each certificate of the envelope). One slot,
// keyed by the token's whole JSON text and emptied by the open that uses it.
class ValidatedToken {
 public:
  void Keep(std::string json, ParsedToken parsed) {
    std::lock_guard<std::mutex> lock(mutex_);
    json_ = std::move(json);
    parsed_.emplace(std::move(parsed));
  }

  std::optional<ParsedToken> Take(std::string_view json) {
    std::lock_guard<std::mutex> lock(mutex_);
    std::optional<ParsedToken> out;
    if (parsed_ && json_ == json) out.emplace(std::move(*parsed_));
    parsed_.reset();
    json_.clear();
    return out;
  }

 private:
  std::mutex mutex_;
  std::string json_;
  std::optional<ParsedToken> parsed_;
};

ValidatedToken& LastValidated() {
  static ValidatedToken* slot = new ValidatedToken;  // never destroyed: no order at dlclose
  return *slot;
}

petera::Result<ParsedToken> ReadToken(crypt_device* cd, int token) {
  const char* json = nullptr;
  int r = crypt_token_json_get(cd, token, &json);
  if (r < 0 || json == nullptr) {
    return petera::Error(ErrorCategory::kCorrupt, "cannot read token " + std::to_string(token));
  }
  if (auto kept = LastValidated().Take(json)) return std::move(*kept);
  return ParseToken(json);
}

petera::Result<petera::SecretBytes> Recover(crypt_device* cd, int token) {
  PETERA_ASSIGN_OR_RETURN(ParsedToken parsed, ReadToken(cd, token));
  const petera::LuksToken& settings = parsed.token;
  PETERA_ASSIGN_OR_RETURN(petera::Anchor anchor, petera::Anchor::Load(settings.anchor));
  for (const auto& crl : settings.crls) PETERA_TRY(anchor.AddCrlFile(crl));
  anchor.set_ocsp_policy(settings.ocsp);
  std::shared_ptr<const petera::client::ClientCredential> credential;
  if (!settings.cert.empty()) {
    PETERA_ASSIGN_OR_RETURN(credential,
                            petera::client::LoadClientCredential(settings.cert, settings.key));
  }
  petera::client::Reporter reporter(false);
  return petera::client::DecryptEnvelope(anchor, parsed.envelope, {},
                                         std::chrono::seconds(settings.timeout_seconds),
                                         reporter, std::move(credential));
}

int Open(crypt_device* cd, int token, char** buffer, size_t* buffer_len) {
  auto passphrase = Recover(cd, token);
  if (!passphrase.ok()) {
    Log(cd, CRYPT_LOG_ERROR, "petera token " + std::to_string(token) + ": " +
                                 passphrase.error().message());
    return ErrnoOf(passphrase.error().category());
  }
  char* out = static_cast<char*>(std::malloc(passphrase->size()));
  if (out == nullptr) return -ENOMEM;
  std::memcpy(out, passphrase->secret_view().data(), passphrase->size());
  *buffer = out;
  *buffer_len = passphrase->size();
  return 0;
}

}  // namespace

PETERA_TOKEN_EXPORT const char* cryptsetup_token_version(void) { return PETERA_VERSION; }

PETERA_TOKEN_EXPORT int cryptsetup_token_open(crypt_device* cd, int token, char** buffer,
                                              size_t* buffer_len, void* /*usrptr*/) {
  try {
    return Open(cd, token, buffer, buffer_len);
  } catch (...) {
    return -EINVAL;
  }
}

// Petera tokens have no PIN: with one given, open as without.
PETERA_TOKEN_EXPORT int cryptsetup_token_open_pin(crypt_device* cd, int token,
                                                  const char* /*pin*/, size_t /*pin_size*/,
                                                  char** buffer, size_t* buffer_len,
                                                  void* usrptr) {
  return cryptsetup_token_open(cd, token, buffer, buffer_len, usrptr);
}

PETERA_TOKEN_EXPORT void cryptsetup_token_buffer_free(void* buffer, size_t buffer_len) {
  OPENSSL_cleanse(buffer, buffer_len);
  std::free(buffer);
}

PETERA_TOKEN_EXPORT int cryptsetup_token_validate(crypt_device* cd, const char* json) {
  try {
    std::string text = json == nullptr ? "" : json;
    auto parsed = ParseToken(text);
    if (!parsed.ok()) {
      Log(cd, CRYPT_LOG_ERROR, "petera token: " + parsed.error().message());
      return -EINVAL;
    }
    LastValidated().Keep(std::move(text), std::move(parsed).value());
    return 0;
  } catch (...) {
    return -EINVAL;
  }
}

// Lines in luksDump's own layout, under the token's "N: petera" line.
PETERA_TOKEN_EXPORT void cryptsetup_token_dump(crypt_device* cd, const char* json) {
  try {
    auto parsed = petera::ParseLuksToken(json == nullptr ? "" : json);
    if (!parsed.ok()) {
      Log(cd, CRYPT_LOG_NORMAL, "\t" + parsed.error().message());
      return;
    }
    Log(cd, CRYPT_LOG_NORMAL, "\tAnchor:     " + parsed->anchor);
    for (const auto& crl : parsed->crls) Log(cd, CRYPT_LOG_NORMAL, "\tCRL:        " + crl);
    if (!parsed->cert.empty()) Log(cd, CRYPT_LOG_NORMAL, "\tClient:     " + parsed->cert);
    if (!parsed->key.empty()) Log(cd, CRYPT_LOG_NORMAL, "\tClient key: " + parsed->key);
    Log(cd, CRYPT_LOG_NORMAL, "\tTimeout:    " + std::to_string(parsed->timeout_seconds) + " s");
    Log(cd, CRYPT_LOG_NORMAL,
        std::string("\tOCSP:       ") + petera::OcspPolicyName(parsed->ocsp));
    auto envelope = petera::ParseEnvelope(parsed->envelope);
    if (!envelope.ok()) {
      Log(cd, CRYPT_LOG_NORMAL, "\t" + envelope.error().message());
      return;
    }
    Log(cd, CRYPT_LOG_NORMAL, "\tThreshold:  " + std::to_string(envelope->threshold) + " of " +
                                  std::to_string(envelope->recipients.size()));
    for (const auto& recipient : envelope->recipients) {
      X509* leaf = recipient.chain.front().get();
      Log(cd, CRYPT_LOG_NORMAL, "\tServer:     " + recipient.address.ToString() + " (" +
                                    petera::SubjectName(leaf) + ", until " +
                                    petera::NotAfterDate(leaf) + ")");
    }
  } catch (...) {
  }
}
