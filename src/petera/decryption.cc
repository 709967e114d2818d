// Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
//
// Trust first, network second: every recipient's stored chain is checked
// against the anchor (validity periods aside) before any server is
// contacted, and only trusted recipients are asked for. An envelope with a
// threshold T needs T of them.
#include "decryption.h"

#include "recovery_client.h"

namespace petera::client {
namespace {

struct TrustedRecipients {
  std::vector<size_t> trusted;
  std::vector<std::string> refusals;  // "ADDRESS: reason" per untrusted one
};

TrustedRecipients CheckRecipients(const Anchor& anchor, const Envelope& envelope,
                                  const Reporter& reporter) {
  TrustedRecipients out;
  for (size_t i = 0; i < envelope.recipients.size(); ++i) {
    const Recipient& recipient = envelope.recipients[i];
    std::string who = recipient.address.ToString();
    auto verified = VerifyStoredEncryptionChain(anchor, recipient.chain, recipient.address.host);
    if (!verified.ok()) {
      out.refusals.push_back(who + ": not contacted, encryption certificate not trusted: " +
                             verified.error().message());
      continue;
    }
    reporter.Progress(who, "stored encryption certificate trusted: " + verified->Describe());
    out.trusted.push_back(i);
  }
  return out;
}

Error NoneTrusted(const TrustedRecipients& recipients, const Reporter& reporter) {
  if (recipients.refusals.size() == 1) {
    return Error(ErrorCategory::kTrust, recipients.refusals.front());
  }
  for (const auto& line : recipients.refusals) reporter.Line(line);
  return Error(ErrorCategory::kTrust, "none of the " + std::to_string(recipients.refusals.size()) +
                                          " recipients of the envelope is trusted by the anchor");
}

// A threshold envelope needs `threshold` trusted recipients before any
// server is worth contacting.
Error TooFewTrusted(const TrustedRecipients& recipients, size_t threshold,
                    const Reporter& reporter) {
  for (const auto& line : recipients.refusals) reporter.Line(line);
  return Error(ErrorCategory::kTrust,
               "the envelope needs " + std::to_string(threshold) + " servers, but only " +
                   std::to_string(recipients.trusted.size()) + " of its " +
                   std::to_string(recipients.trusted.size() + recipients.refusals.size()) +
                   (recipients.trusted.size() == 1 ? " recipients is" : " recipients are") +
                   " trusted by the anchor");
}

Error Failed(const Envelope& envelope, const RecoveryOutcome& outcome,
             const TrustedRecipients& recipients, size_t contacted, const Reporter& reporter) {
  for (const auto& failure : outcome.failures) {
    reporter.Line(failure.address.ToString() + ": " + failure.error.message());
  }
  for (const auto& line : recipients.refusals) reporter.Line(line);
  std::string servers =
      std::to_string(contacted) + (contacted == 1 ? " server" : " servers") + " contacted";
  if (envelope.threshold == 1) {
    return Error(SummaryCategory(outcome.failures),
                 "decryption failed: no server could recover the key (" + servers + ")");
  }
  if (outcome.keys_recovered >= envelope.threshold) {
    return Error(ErrorCategory::kProtocol,
                 "decryption failed: recovered " + std::to_string(outcome.keys_recovered) +
                     " key shares, but no " + std::to_string(envelope.threshold) +
                     " of them open the envelope: at least one server answered wrongly (" +
                     servers + ")");
  }
  // Servers that gave a share and hold none of the others' keys failed at
  // nothing: the envelope asks for more than they have.
  ErrorCategory category =
      outcome.failures.empty() ? ErrorCategory::kNotFound : SummaryCategory(outcome.failures);
  return Error(category,
               "decryption failed: recovered " + std::to_string(outcome.keys_recovered) +
                   " of the " + std::to_string(envelope.threshold) +
                   " key shares the envelope needs (" + servers + ")");
}

std::string JoinAddresses(const std::vector<Address>& addresses) {
  std::string out;
  for (const auto& address : addresses) {
    if (!out.empty()) out += ", ";
    out += address.ToString();
  }
  return out;
}

}  // namespace

Result<SecretBytes> DecryptEnvelope(const Anchor& anchor, const Envelope& envelope,
                                    const std::vector<Address>& hosts,
                                    std::chrono::seconds timeout, const Reporter& reporter,
                                    std::shared_ptr<const ClientCredential> credential) {
  TrustedRecipients recipients = CheckRecipients(anchor, envelope, reporter);
  if (recipients.trusted.empty()) return NoneTrusted(recipients, reporter);
  if (recipients.trusted.size() < envelope.threshold) {
    return TooFewTrusted(recipients, envelope.threshold, reporter);
  }
  std::vector<ServerPlan> plan = hosts.empty()
                                     ? PlanFromEnvelope(envelope, recipients.trusted)
                                     : PlanForHosts(envelope, recipients.trusted, hosts);
  ClientSettings settings{timeout, &reporter, {}, std::move(credential)};
  PETERA_ASSIGN_OR_RETURN(RecoveryOutcome outcome,
                          RecoverFromServers(anchor, envelope, plan, settings));
  if (outcome.stopped) {
    if (outcome.stopped->category() != ErrorCategory::kCorrupt) return *outcome.stopped;
    return Error(ErrorCategory::kCorrupt,
                 "the envelope is corrupt or was tampered with: " + outcome.stopped->message());
  }
  if (!outcome.plaintext) return Failed(envelope, outcome, recipients, plan.size(), reporter);
  // Decrypted with honest answers; a wrong one means a server to look at.
  for (const auto& wrong : outcome.wrong_answers) {
    reporter.Line("warning: " + wrong.address.ToString() + ": " + wrong.error.message() +
                  "; decrypted with the other servers' answers");
  }
  reporter.Progress(JoinAddresses(outcome.contributors), "decrypted");
  return std::move(*outcome.plaintext);
}

}  // namespace petera::client
