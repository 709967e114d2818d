// Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
//
// petera ANCHOR.pem encrypt [--threshold T] TARGET... < secret > secret.jwe
//
// Every target is validated before anything is encrypted: PEM files offline,
// hosts online (concurrently). One failure and nothing is written.
#include "encrypt_targets.h"

#include "chain_fetch.h"
#include "commands.h"
#include "petera/envelope.h"

namespace petera::client {

Result<PlannedTargets> ParseTargets(const std::vector<std::string>& texts, size_t threshold) {
  if (texts.empty()) return Error(ErrorCategory::kUsage, "encrypt needs at least one TARGET");
  if (texts.size() > kMaxRecipients) {
    return Error(ErrorCategory::kUsage,
                 "at most " + std::to_string(kMaxRecipients) + " targets are allowed");
  }
  if (threshold > texts.size()) {
    return Error(ErrorCategory::kUsage, "--threshold " + std::to_string(threshold) + " needs at least " +
                                            std::to_string(threshold) + " TARGETs, got " +
                                            std::to_string(texts.size()));
  }
  PlannedTargets planned;
  for (const auto& text : texts) {
    PETERA_ASSIGN_OR_RETURN(Target target, ParseTarget(text));
    planned.targets.push_back(std::move(target));
  }
  planned.resolved.resize(planned.targets.size());
  return planned;
}

Status LoadFiles(const Anchor& anchor, const Reporter& reporter, PlannedTargets& planned) {
  for (size_t i = 0; i < planned.targets.size(); ++i) {
    const Target& target = planned.targets[i];
    if (target.kind == Target::Kind::kHost) {
      planned.online.push_back(target.address);
      planned.online_index.push_back(i);
      continue;
    }
    PETERA_ASSIGN_OR_RETURN(FileTarget file, LoadFileTarget(anchor, target.text));
    reporter.Progress(target.text, "encryption certificate trusted for " +
                                       file.address.ToString() + ": " + file.verified.Describe());
    planned.resolved[i] = EncryptionTarget{std::move(file.chain), std::move(file.address)};
  }
  return OkStatus();
}

Result<std::vector<EncryptionTarget>> ResolveOnlineTargets(const Anchor& anchor,
                                                           PlannedTargets& planned,
                                                           const ClientSettings& settings) {
  PETERA_ASSIGN_OR_RETURN(auto fetched, FetchChains(anchor, planned.online, settings));
  for (size_t k = 0; k < fetched.size(); ++k) {
    planned.resolved[planned.online_index[k]] =
        EncryptionTarget{std::move(fetched[k].chain), std::move(fetched[k].address)};
  }
  std::vector<EncryptionTarget> targets;
  for (auto& resolved : planned.resolved) targets.push_back(std::move(*resolved));
  return targets;
}

Status RunEncrypt(const CommonOptions& options, const std::vector<std::string>& texts,
                  size_t threshold, bool allow_empty) {
  PETERA_ASSIGN_OR_RETURN(PlannedTargets planned, ParseTargets(texts, threshold));
  PETERA_ASSIGN_OR_RETURN(Anchor anchor, LoadAnchor(options));
  PETERA_ASSIGN_OR_RETURN(auto credential, LoadCredential(options));
  Reporter reporter(options.verbose);
  PETERA_TRY(LoadFiles(anchor, reporter, planned));
  // The whole input, bounded, before a single packet goes out.
  PETERA_ASSIGN_OR_RETURN(SecretBytes plaintext,
                          ReadStdinSecret(kMaxPayloadBytes, "the input to encrypt"));
  if (plaintext.empty() && !allow_empty) {
    return Error(ErrorCategory::kUsage,
                 "the input to encrypt is empty (an empty key is a mistake, often a failed "
                 "command before the pipe); give --allow-empty to encrypt it anyway");
  }
  ClientSettings settings{std::chrono::seconds(options.timeout_seconds), &reporter, {},
                          std::move(credential)};
  PETERA_ASSIGN_OR_RETURN(auto targets, ResolveOnlineTargets(anchor, planned, settings));
  PETERA_ASSIGN_OR_RETURN(std::string envelope, Encrypt(plaintext, targets, threshold));
  plaintext.Clear();
  if (envelope.empty() || envelope.back() != '\n') envelope += '\n';
  return WriteStdout(envelope);
}

}  // namespace petera::client
