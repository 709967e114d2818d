// Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
//
// petera [ANCHOR.pem] luks bind|list|unbind|pass|unlock|rebind -d DEVICE ...
//
// A bound keyslot has a random passphrase (256 bits, base64url) whose
// envelope is stored in a LUKS2 token of type "petera" assigned to it
// (luks_token.h). The keyslot uses PBKDF2 with the fewest iterations
// libcryptsetup allows: the entropy is in the passphrase, so unlocking
// costs milliseconds, not Argon2's seconds and memory.
//
// Header updates, each of which libcryptsetup makes atomic, are ordered so
// that an interruption at any point leaves the volume opening with its old
// passphrase, and never leaves a Petera keyslot without its token:
//   bind    1. a token holding the envelope, assigned to no keyslot
//           2. the keyslot, created and assigned to the token in one update
//   unbind  1. the keyslot destroyed (libcryptsetup unassigns it from its
//              tokens in the same update)
//           2. the token, now assigned to nothing, removed
//   rebind  1. a second token for the same keyslot   2. the old one removed
// The one state an interruption can leave behind is a Petera token assigned
// to no keyslot: it unlocks nothing, `list` shows it, and the next bind,
// unbind or rebind removes it.
#include <fcntl.h>
#include <libcryptsetup.h>
#include <openssl/rand.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>

#include "commands.h"
#include "decryption.h"
#include "encrypt_targets.h"
#include "petera/encoding.h"
#include "petera/envelope.h"
#include "petera/luks_token.h"
#include "petera/pem.h"

namespace petera::client {
namespace {

constexpr size_t kMaxKeyFileBytes = 8192;
constexpr size_t kPassphraseEntropyBytes = 32;
// A LUKS2 header's binary part; the rest of the metadata area is JSON.
constexpr uint64_t kLuks2BinaryHeaderBytes = 4096;
// Room kept for what bind adds besides the token: the keyslot's own JSON
// (about 400 bytes) and its digest entry.
constexpr uint64_t kKeyslotJsonAllowance = 1024;

Error UsageError(const std::string& message) { return Error(ErrorCategory::kUsage, message); }

std::string ErrnoText(int negative_errno) { return std::strerror(-negative_errno); }

// libcryptsetup's own messages: the last error is kept for ours, nothing is
// printed (petera prints one line).
void KeepLastError(int level, const char* message, void* usrptr) {
  if (level != CRYPT_LOG_ERROR || message == nullptr) return;
  std::string text(message);
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  *static_cast<std::string*>(usrptr) = text;
}

// The in-process handler of "petera" tokens while bind adds a keyslot: it
// hands libcryptsetup the new passphrase, which `usrptr` points to.
int HandBackPassphrase(struct crypt_device* /*cd*/, int /*token*/, char** buffer,
                       size_t* buffer_len, void* usrptr) {
  const auto* passphrase = static_cast<const SecretBytes*>(usrptr);
  if (passphrase == nullptr) return -EINVAL;
  char* copy = static_cast<char*>(std::malloc(passphrase->size()));
  if (copy == nullptr) return -ENOMEM;
  std::memcpy(copy, passphrase->secret_view().data(), passphrase->size());
  *buffer = copy;
  *buffer_len = passphrase->size();
  return 0;
}

void WipeAndFree(void* buffer, size_t buffer_len) {
  OPENSSL_cleanse(buffer, buffer_len);
  std::free(buffer);
}

// One opened LUKS2 volume.
class Volume {
 public:
  static Result<std::unique_ptr<Volume>> Open(const std::string& path) {
    auto volume = std::unique_ptr<Volume>(new Volume(path));
    // Tokens are handled here, never by a plugin found on the system (which
    // may be of another version).
    crypt_token_external_disable();
    int r = crypt_init(&volume->cd_, path.c_str());
    if (r < 0) return Error(ErrorCategory::kUsage, path + ": cannot open: " + ErrnoText(r));
    crypt_set_log_callback(volume->cd_, KeepLastError, &volume->last_error_);
    if (crypt_load(volume->cd_, CRYPT_LUKS2, nullptr) == 0) return volume;
    if (crypt_load(volume->cd_, CRYPT_LUKS1, nullptr) == 0) {
      return UsageError(path + " is a LUKS1 volume; Petera binds LUKS2 volumes (convert it with "
                               "'cryptsetup convert --type luks2 " + path + "')");
    }
    return UsageError(path + " is not a LUKS2 volume");
  }
  ~Volume() {
    if (cd_ != nullptr) crypt_free(cd_);
  }
  Volume(const Volume&) = delete;
  Volume& operator=(const Volume&) = delete;

  crypt_device* cd() const { return cd_; }
  const std::string& path() const { return path_; }

  // "PATH: WHAT: libcryptsetup's reason" for a failed call.
  Error Failure(const std::string& what, int r) const {
    std::string why = last_error_.empty() ? ErrnoText(r) : last_error_;
    return Error(ErrorCategory::kInternal, path_ + ": " + what + ": " + why);
  }

  struct Token {
    int id;
    Result<LuksToken> parsed;
  };
  // Every token of type "petera", parsed (or why it does not parse).
  std::vector<Token> PeteraTokens() const {
    std::vector<Token> out;
    int max = crypt_token_max(CRYPT_LUKS2);
    for (int id = 0; id < max; ++id) {
      const char* type = nullptr;
      crypt_token_info info = crypt_token_status(cd_, id, &type);
      if (info == CRYPT_TOKEN_INACTIVE || info == CRYPT_TOKEN_INVALID || type == nullptr ||
          std::strcmp(type, kLuksTokenType) != 0) {
        continue;
      }
      const char* json = nullptr;
      bool readable = crypt_token_json_get(cd_, id, &json) >= 0 && json != nullptr;
      out.emplace_back(Token{id, readable ? ParseLuksToken(json)
                                          : Result<LuksToken>(Error(ErrorCategory::kCorrupt,
                                                                    "token cannot be read"))});
    }
    return out;
  }

  bool SlotActive(int slot) const {
    crypt_keyslot_info info = crypt_keyslot_status(cd_, slot);
    return info == CRYPT_SLOT_ACTIVE || info == CRYPT_SLOT_ACTIVE_LAST;
  }
  int ActiveSlotCount() const {
    int count = 0;
    for (int slot = 0; slot < crypt_keyslot_max(CRYPT_LUKS2); ++slot) count += SlotActive(slot);
    return count;
  }

  // Which keyslot `passphrase` opens (any, or only `slot`), without
  // activating anything.
  Result<int> SlotOpenedBy(const SecretBytes& passphrase, int slot = CRYPT_ANY_SLOT) const {
    int r = crypt_activate_by_passphrase(
        cd_, nullptr, slot, reinterpret_cast<const char*>(passphrase.secret_view().data()),
        passphrase.size(), 0);
    if (r >= 0) return r;
    if (r == -EPERM) {
      return UsageError(slot == CRYPT_ANY_SLOT
                            ? "no keyslot of " + path_ + " opens with the passphrase given"
                            : "keyslot " + std::to_string(slot) + " of " + path_ +
                                  " does not open with its Petera passphrase");
    }
    return Failure("cannot check the passphrase", r);
  }

  // Removes Petera tokens assigned to no keyslot: what an interrupted bind
  // or unbind leaves. They unlock nothing.
  Status RemoveUnboundTokens() {
    for (const auto& token : PeteraTokens()) {
      if (!token.parsed.ok() || !token.parsed->keyslots.empty()) continue;
      int r = crypt_token_json_set(cd_, token.id, nullptr);
      if (r < 0) return Failure("cannot remove unbound token " + std::to_string(token.id), r);
    }
    return OkStatus();
  }

 private:
  explicit Volume(std::string path) : path_(std::move(path)) {}
  crypt_device* cd_ = nullptr;
  std::string path_;
  std::string last_error_;
};

// ---- Passphrases -----------------------------------------------------------

Result<SecretBytes> ReadKeyFile(const std::string& path) {
  if (path == "-") return ReadStdinSecret(kMaxKeyFileBytes, "the key file");
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) return UsageError(path + ": cannot open: " + std::strerror(errno));
  SecretBytes out;
  Status read = ReadBounded(fd, kMaxKeyFileBytes, "key file " + path, out);
  close(fd);
  PETERA_TRY(read);
  if (out.empty()) return UsageError(path + ": the key file is empty");
  return out;
}

// Asks on the terminal, with echo off; never from the environment.
Result<SecretBytes> AskPassphrase(const std::string& device) {
  int fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) {
    return UsageError("no terminal to ask for " + device +
                      "'s passphrase: give it with --key-file FILE (- for stdin)");
  }
  std::string prompt = "Enter an existing passphrase of " + device + ": ";
  (void)!write(fd, prompt.data(), prompt.size());
  termios saved{};
  bool restore = tcgetattr(fd, &saved) == 0;
  if (restore) {
    termios quiet = saved;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    tcsetattr(fd, TCSAFLUSH, &quiet);
  }
  SecretBytes line(512);
  size_t len = 0;
  char c = 0;
  while (len < line.size() && read(fd, &c, 1) == 1 && c != '\n') line.secret_data()[len++] = static_cast<uint8_t>(c);
  c = 0;
  if (restore) tcsetattr(fd, TCSAFLUSH, &saved);
  (void)!write(fd, "\n", 1);
  close(fd);
  line.Resize(len);
  if (line.empty()) return UsageError("no passphrase given");
  return line;
}

// 256 random bits, base64url: printable, so that `luks pass` output can be
// typed at a prompt in an emergency.
Result<SecretBytes> NewPassphrase() {
  SecretBytes raw(kPassphraseEntropyBytes);
  if (RAND_priv_bytes(raw.secret_data(), static_cast<int>(raw.size())) != 1) {
    return Error(ErrorCategory::kInternal, "RNG failure");
  }
  std::string text = Base64UrlEncode(raw.secret_view());
  SecretBytes passphrase(reinterpret_cast<const uint8_t*>(text.data()), text.size());
  OPENSSL_cleanse(text.data(), text.size());
  return passphrase;
}

// ---- Tokens ------------------------------------------------------------------

std::string Absolute(const std::string& path) {
  char resolved[PATH_MAX];
  if (realpath(path.c_str(), resolved) != nullptr) return resolved;
  return path;
}

// The anchor and CRLs a token names, or those given on the command line;
// the OCSP policy given on the command line, else the token's.
Result<Anchor> TokenAnchor(const CommonOptions& options, const LuksToken& token) {
  Anchor anchor;
  if (!options.anchor.empty()) {
    PETERA_ASSIGN_OR_RETURN(anchor, LoadAnchor(options));
  } else {
    PETERA_ASSIGN_OR_RETURN(anchor, Anchor::Load(token.anchor));
    for (const auto& crl : token.crls) PETERA_TRY(anchor.AddCrlFile(crl));
  }
  anchor.set_ocsp_policy(options.ocsp_given ? options.ocsp : token.ocsp);
  return anchor;
}

// The client certificate given on the command line, else the token's.
Result<std::shared_ptr<const ClientCredential>> TokenCredential(const CommonOptions& options,
                                                                const LuksToken& token) {
  if (!options.cert.empty() || token.cert.empty()) return LoadCredential(options);
  return LoadClientCredential(token.cert, token.key);
}

// Recovers the passphrase a token holds, and checks it opens its keyslot.
Result<SecretBytes> RecoverPassphrase(const CommonOptions& options, const Volume& volume,
                                      const LuksToken& token, const Reporter& reporter) {
  PETERA_ASSIGN_OR_RETURN(Anchor anchor, TokenAnchor(options, token));
  PETERA_ASSIGN_OR_RETURN(auto credential, TokenCredential(options, token));
  PETERA_ASSIGN_OR_RETURN(Envelope envelope, ParseEnvelope(token.envelope));
  unsigned timeout = options.timeout_given ? options.timeout_seconds : token.timeout_seconds;
  PETERA_ASSIGN_OR_RETURN(SecretBytes passphrase,
                          DecryptEnvelope(anchor, envelope, {}, std::chrono::seconds(timeout),
                                          reporter, std::move(credential)));
  for (int slot : token.keyslots) {
    if (volume.SlotOpenedBy(passphrase, slot).ok()) return passphrase;
  }
  return Error(ErrorCategory::kCorrupt,
               "the passphrase recovered opens none of the token's keyslots");
}

struct Recovered {
  SecretBytes passphrase;
  int slot;
};

// The first Petera token (for `slot`, when given) whose passphrase comes
// back; each failure is reported, the last one returned.
Result<Recovered> RecoverAny(const CommonOptions& options, const Volume& volume,
                             std::optional<int> slot, const Reporter& reporter) {
  std::vector<Error> failures;
  size_t tried = 0;
  for (const auto& token : volume.PeteraTokens()) {
    if (!token.parsed.ok()) {
      failures.push_back(token.parsed.error().Wrap(volume.path() + ": token " +
                                                   std::to_string(token.id)));
      continue;
    }
    const auto& slots = token.parsed->keyslots;
    if (slots.empty()) continue;
    if (slot && std::find(slots.begin(), slots.end(), *slot) == slots.end()) continue;
    ++tried;
    auto passphrase = RecoverPassphrase(options, volume, *token.parsed, reporter);
    if (!passphrase.ok()) {
      failures.push_back(passphrase.error());
      continue;
    }
    int opened = slots.front();
    for (int s : slots) {
      if ((!slot || s == *slot) && volume.SlotOpenedBy(*passphrase, s).ok()) {
        opened = s;
        break;
      }
    }
    return Recovered{std::move(passphrase).value(), opened};
  }
  if (tried == 0 && failures.empty()) {
    return UsageError(volume.path() + " has no Petera-bound keyslot" +
                      (slot ? " " + std::to_string(*slot) : std::string()));
  }
  for (size_t i = 0; i + 1 < failures.size(); ++i) reporter.Line(failures[i].message());
  return failures.back();
}

// Writes `token` as a new token; returns its id.
Result<int> AddToken(Volume& volume, const LuksToken& token) {
  PETERA_ASSIGN_OR_RETURN(std::string json, SerializeLuksToken(token));
  int id = crypt_token_json_set(volume.cd(), CRYPT_ANY_TOKEN, json.c_str());
  if (id < 0) return volume.Failure("cannot write the token", id);
  return id;
}

// Refuses, before anything is written, a token the metadata area cannot
// hold, and says how many recipients would fit.
Status CheckTokenFits(const Volume& volume, const LuksToken& token, size_t recipients) {
  uint64_t metadata = 0;
  uint64_t keyslots = 0;
  const char* current = nullptr;
  if (crypt_get_metadata_size(volume.cd(), &metadata, &keyslots) < 0 ||
      crypt_dump_json(volume.cd(), &current, 0) < 0 || current == nullptr) {
    return OkStatus();  // libcryptsetup refuses on write, before any change
  }
  PETERA_ASSIGN_OR_RETURN(std::string json, SerializeLuksToken(token));
  uint64_t area = metadata - kLuks2BinaryHeaderBytes;
  uint64_t used = std::strlen(current) + kKeyslotJsonAllowance;
  if (used + json.size() <= area) return OkStatus();
  uint64_t free = area > used ? area - used : 0;
  uint64_t per_recipient = json.size() / std::max<size_t>(recipients, 1);
  uint64_t fit = per_recipient == 0 ? 0 : free / per_recipient;
  return Error(ErrorCategory::kTooLarge,
               "the envelope for " + std::to_string(recipients) + " recipient" +
                   (recipients == 1 ? "" : "s") + " takes " + std::to_string(json.size()) +
                   " bytes, but " + volume.path() + "'s LUKS2 metadata has " +
                   std::to_string(free) + " bytes free (of " + std::to_string(area) +
                   "): about " + std::to_string(fit) +
                   " such recipients fit; use fewer servers or shorter chains");
}

LuksToken NewToken(const CommonOptions& options, std::string envelope) {
  LuksToken token;
  token.anchor = Absolute(options.anchor);
  for (const auto& crl : options.crls) token.crls.push_back(Absolute(crl));
  token.timeout_seconds = options.timeout_seconds;
  if (!options.cert.empty()) token.cert = Absolute(options.cert);
  if (!options.key.empty()) token.key = IsTpmHandle(options.key) ? options.key : Absolute(options.key);
  token.ocsp = options.ocsp;
  token.envelope = std::move(envelope);
  return token;
}

// The envelope of `passphrase` for `targets` (validated, online ones
// fetched): nothing is written when one fails.
Result<std::string> EncryptPassphrase(const CommonOptions& options, const Anchor& anchor,
                                      const std::vector<std::string>& targets, size_t threshold,
                                      const SecretBytes& passphrase, const Reporter& reporter) {
  PETERA_ASSIGN_OR_RETURN(PlannedTargets planned, ParseTargets(targets, threshold));
  PETERA_TRY(LoadFiles(anchor, reporter, planned));
  PETERA_ASSIGN_OR_RETURN(auto credential, LoadCredential(options));
  ClientSettings settings{std::chrono::seconds(options.timeout_seconds), &reporter, {},
                          std::move(credential)};
  PETERA_ASSIGN_OR_RETURN(auto resolved, ResolveOnlineTargets(anchor, planned, settings));
  return Encrypt(passphrase, resolved, threshold);
}

// ---- Commands --------------------------------------------------------------

Status Bind(const CommonOptions& options, const LuksOptions& luks) {
  PETERA_ASSIGN_OR_RETURN(PlannedTargets checked, ParseTargets(luks.targets, luks.threshold));
  (void)checked;
  PETERA_ASSIGN_OR_RETURN(Anchor anchor, LoadAnchor(options));
  PETERA_ASSIGN_OR_RETURN(auto volume, Volume::Open(luks.device));
  Reporter reporter(options.verbose);
  PETERA_ASSIGN_OR_RETURN(SecretBytes existing, luks.key_file.empty()
                                                    ? AskPassphrase(luks.device)
                                                    : ReadKeyFile(luks.key_file));
  PETERA_ASSIGN_OR_RETURN(int existing_slot, volume->SlotOpenedBy(existing));
  reporter.Progress(luks.device, "the passphrase given opens keyslot " +
                                     std::to_string(existing_slot));
  PETERA_ASSIGN_OR_RETURN(SecretBytes passphrase, NewPassphrase());
  PETERA_ASSIGN_OR_RETURN(std::string envelope,
                          EncryptPassphrase(options, anchor, luks.targets, luks.threshold,
                                            passphrase, reporter));
  LuksToken token = NewToken(options, std::move(envelope));
  PETERA_TRY(CheckTokenFits(*volume, token, luks.targets.size()));
  PETERA_TRY(volume->RemoveUnboundTokens());

  // 1. The token, assigned to no keyslot yet.
  PETERA_ASSIGN_OR_RETURN(int token_id, AddToken(*volume, token));
  // 2. The keyslot, created and assigned to the token in one update: its
  // passphrase comes from the token, through the handler registered here.
  crypt_pbkdf_type pbkdf{};
  pbkdf.type = CRYPT_KDF_PBKDF2;
  pbkdf.hash = "sha256";
  pbkdf.iterations = 1000;  // libcryptsetup's minimum for PBKDF2
  pbkdf.flags = CRYPT_PBKDF_NO_BENCHMARK;
  int r = crypt_set_pbkdf_type(volume->cd(), &pbkdf);
  if (r < 0) return volume->Failure("cannot select PBKDF2", r);
  crypt_keyslot_context* existing_kc = nullptr;
  crypt_keyslot_context* token_kc = nullptr;
  r = crypt_keyslot_context_init_by_passphrase(
      volume->cd(), reinterpret_cast<const char*>(existing.secret_view().data()), existing.size(),
      &existing_kc);
  if (r >= 0) {
    r = crypt_keyslot_context_init_by_token(volume->cd(), token_id, kLuksTokenType, nullptr, 0,
                                            &passphrase, &token_kc);
  }
  int slot = r;
  if (r >= 0) {
    slot = crypt_keyslot_add_by_keyslot_context(volume->cd(), existing_slot, existing_kc,
                                                CRYPT_ANY_SLOT, token_kc, 0);
  }
  crypt_keyslot_context_free(existing_kc);
  crypt_keyslot_context_free(token_kc);
  if (slot < 0) {
    Error failure = volume->Failure("cannot add the keyslot", slot);
    crypt_token_json_set(volume->cd(), token_id, nullptr);  // it unlocks nothing anyway
    return failure;
  }
  if (crypt_token_is_assigned(volume->cd(), token_id, slot) != 0) {
    r = crypt_token_assign_keyslot(volume->cd(), token_id, slot);
    if (r < 0) return volume->Failure("cannot assign the token to keyslot " + std::to_string(slot), r);
  }
  reporter.Progress(luks.device, "bound keyslot " + std::to_string(slot) + " (token " +
                                     std::to_string(token_id) + ")");
  return OkStatus();
}

// The Petera token(s) assigned to `slot`.
std::vector<int> TokensOfSlot(const Volume& volume, int slot, std::optional<LuksToken>* first) {
  std::vector<int> ids;
  for (auto& token : volume.PeteraTokens()) {
    if (!token.parsed.ok()) continue;
    const auto& slots = token.parsed->keyslots;
    if (std::find(slots.begin(), slots.end(), slot) == slots.end()) continue;
    if (first != nullptr && !*first) *first = *token.parsed;
    ids.push_back(token.id);
  }
  return ids;
}

Status Unbind(const LuksOptions& luks) {
  if (!luks.slot) return UsageError("unbind needs the keyslot: -s SLOT (see petera luks list)");
  PETERA_ASSIGN_OR_RETURN(auto volume, Volume::Open(luks.device));
  int slot = *luks.slot;
  if (TokensOfSlot(*volume, slot, nullptr).empty()) {
    return UsageError("keyslot " + std::to_string(slot) + " of " + luks.device +
                      " is not bound to Petera (see petera luks list)");
  }
  if (volume->SlotActive(slot) && volume->ActiveSlotCount() == 1) {
    return UsageError("keyslot " + std::to_string(slot) + " is the last keyslot of " +
                      luks.device + ": removing it would lose the volume");
  }
  // 1. The keyslot: libcryptsetup unassigns it from its tokens as it goes.
  if (volume->SlotActive(slot)) {
    int r = crypt_keyslot_destroy(volume->cd(), slot);
    if (r < 0) return volume->Failure("cannot remove keyslot " + std::to_string(slot), r);
  }
  // 2. Its tokens, now assigned to nothing (and any other such leftover).
  return volume->RemoveUnboundTokens();
}

Status Rebind(const CommonOptions& options, const LuksOptions& luks) {
  if (!luks.slot) return UsageError("rebind needs the keyslot: -s SLOT (see petera luks list)");
  PETERA_ASSIGN_OR_RETURN(auto volume, Volume::Open(luks.device));
  int slot = *luks.slot;
  std::optional<LuksToken> old;
  std::vector<int> old_ids = TokensOfSlot(*volume, slot, &old);
  if (old_ids.empty()) {
    return UsageError("keyslot " + std::to_string(slot) + " of " + luks.device +
                      " is not bound to Petera (see petera luks list)");
  }
  Reporter reporter(options.verbose);
  PETERA_ASSIGN_OR_RETURN(Recovered recovered, RecoverAny(options, *volume, slot, reporter));
  PETERA_ASSIGN_OR_RETURN(Envelope old_envelope, ParseEnvelope(old->envelope));
  // By default the same servers, asked for their current certificates.
  std::vector<std::string> targets = luks.targets;
  if (targets.empty()) {
    for (const auto& recipient : old_envelope.recipients) {
      std::string address = recipient.address.ToString();
      if (std::find(targets.begin(), targets.end(), address) == targets.end()) {
        targets.push_back(address);
      }
    }
  }
  size_t threshold = luks.threshold_given ? luks.threshold : old_envelope.threshold;
  CommonOptions settings = options;
  if (settings.anchor.empty()) {
    settings.anchor = old->anchor;
    settings.crls = old->crls;
  }
  if (!settings.timeout_given) settings.timeout_seconds = old->timeout_seconds;
  if (!settings.ocsp_given) settings.ocsp = old->ocsp;
  if (settings.cert.empty()) {
    settings.cert = old->cert;
    settings.key = old->key;
  }
  PETERA_ASSIGN_OR_RETURN(Anchor anchor, LoadAnchor(settings));
  PETERA_ASSIGN_OR_RETURN(std::string envelope,
                          EncryptPassphrase(settings, anchor, targets, threshold,
                                            recovered.passphrase, reporter));
  LuksToken token = NewToken(settings, std::move(envelope));
  token.keyslots = {slot};
  PETERA_TRY(CheckTokenFits(*volume, token, targets.size()));
  PETERA_TRY(volume->RemoveUnboundTokens());
  // 1. The new token beside the old one: the keyslot is never without one.
  PETERA_ASSIGN_OR_RETURN(int token_id, AddToken(*volume, token));
  // 2. The old ones.
  for (int id : old_ids) {
    int r = crypt_token_json_set(volume->cd(), id, nullptr);
    if (r < 0) return volume->Failure("cannot remove the old token " + std::to_string(id), r);
  }
  reporter.Progress(luks.device, "keyslot " + std::to_string(slot) + " rebound (token " +
                                     std::to_string(token_id) + ")");
  return OkStatus();
}

Status Pass(const CommonOptions& options, const LuksOptions& luks) {
  PETERA_ASSIGN_OR_RETURN(auto volume, Volume::Open(luks.device));
  Reporter reporter(options.verbose);
  PETERA_ASSIGN_OR_RETURN(Recovered recovered, RecoverAny(options, *volume, luks.slot, reporter));
  return WriteStdout(recovered.passphrase.secret_view());
}

Status Unlock(const CommonOptions& options, const LuksOptions& luks) {
  if (luks.name.empty()) return UsageError("unlock needs the NAME to open the volume as");
  PETERA_ASSIGN_OR_RETURN(auto volume, Volume::Open(luks.device));
  Reporter reporter(options.verbose);
  PETERA_ASSIGN_OR_RETURN(Recovered recovered, RecoverAny(options, *volume, luks.slot, reporter));
  int r = crypt_activate_by_passphrase(
      volume->cd(), luks.name.c_str(), recovered.slot,
      reinterpret_cast<const char*>(recovered.passphrase.secret_view().data()),
      recovered.passphrase.size(), 0);
  if (r < 0) return volume->Failure("cannot open it as " + luks.name, r);
  return OkStatus();
}

// "CN=s1.example.net until 2027-01-01" for each distinct leaf.
std::string Certificates(const Envelope& envelope) {
  std::string out;
  for (const auto& recipient : envelope.recipients) {
    X509* leaf = recipient.chain.front().get();
    std::string text = SubjectName(leaf) + " until " + NotAfterDate(leaf);
    if (out.find(text) != std::string::npos) continue;
    out += (out.empty() ? "" : "; ") + text;
  }
  return out;
}

Status List(const LuksOptions& luks) {
  PETERA_ASSIGN_OR_RETURN(auto volume, Volume::Open(luks.device));
  std::string out;
  for (const auto& token : volume->PeteraTokens()) {
    std::string id = "token " + std::to_string(token.id);
    if (!token.parsed.ok()) {
      out += "-: " + id + ": " + token.parsed.error().message() + "\n";
      continue;
    }
    std::string slots;
    for (int slot : token.parsed->keyslots) slots += (slots.empty() ? "" : ",") + std::to_string(slot);
    if (slots.empty()) {
      out += "-: " + id + ": bound to no keyslot (left by an interrupted bind or unbind; the "
                          "next bind, unbind or rebind removes it)\n";
      continue;
    }
    auto envelope = ParseEnvelope(token.parsed->envelope);
    if (!envelope.ok()) {
      out += slots + ": " + id + ": " + envelope.error().message() + "\n";
      continue;
    }
    std::string servers;
    for (const auto& recipient : envelope->recipients) {
      std::string address = recipient.address.ToString();
      if (servers.find(address) == std::string::npos) {
        servers += (servers.empty() ? "" : " ") + address;
      }
    }
    out += slots + ": " + id + ", any " + std::to_string(envelope->threshold) + " of " +
           std::to_string(envelope->recipients.size()) + ": " + servers + " [" +
           Certificates(*envelope) + "]" +
           (token.parsed->cert.empty() ? "" : ", client " + token.parsed->cert) +
           (token.parsed->key.empty() ? "" : " key " + token.parsed->key) +
           (token.parsed->ocsp == OcspPolicy::kPrefer
                ? ""
                : std::string(", OCSP ") + OcspPolicyName(token.parsed->ocsp)) +
           "\n";
  }
  return WriteStdout(out);
}

}  // namespace

Status RunLuks(const CommonOptions& options, const LuksOptions& luks) {
  static const crypt_token_handler kHandler = {kLuksTokenType, HandBackPassphrase, WipeAndFree,
                                               nullptr, nullptr};
  static const int registered = crypt_token_register(&kHandler);
  if (registered < 0 && registered != -EINVAL) {
    return Error(ErrorCategory::kInternal, "cannot register the petera token handler");
  }
  if (luks.action == "bind") return Bind(options, luks);
  if (luks.action == "unbind") return Unbind(luks);
  if (luks.action == "rebind") return Rebind(options, luks);
  if (luks.action == "pass") return Pass(options, luks);
  if (luks.action == "unlock") return Unlock(options, luks);
  return List(luks);
}

}  // namespace petera::client
