// Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
//
// petera [ANCHOR.pem] inspect < secret.jwe
//
// Describes an envelope without any network traffic and without decrypting.
#include <optional>

#include "commands.h"
#include "petera/envelope.h"
#include "petera/pem.h"

namespace petera::client {
namespace {

std::string TrustLine(const std::optional<Anchor>& anchor, const Recipient& recipient) {
  if (!anchor) return "not checked (no anchor given)";
  auto verified =
      VerifyStoredEncryptionChain(*anchor, recipient.chain, recipient.address.host);
  if (!verified.ok()) return "NOT trusted: " + verified.error().message();
  return "trusted by the anchor: " + verified->Describe();
}

std::string DescribeRecipient(const std::optional<Anchor>& anchor, const Recipient& recipient,
                              size_t number) {
  X509* leaf = recipient.chain.front().get();
  std::string out = "recipient " + std::to_string(number) + ": " +
                    recipient.address.ToString() + "\n";
  out += "  alg:         " + recipient.alg + "\n";
  out += "  kid:         " + recipient.kid + "\n";
  if (recipient.share != 0) out += "  share:       " + std::to_string(recipient.share) + "\n";
  out += "  certificate: " + SubjectName(leaf) + "\n";
  out += "  not after:   " + NotAfterDate(leaf) + "\n";
  out += "  trust:       " + TrustLine(anchor, recipient) + "\n";
  return out;
}

}  // namespace

Status RunInspect(const CommonOptions& options) {
  std::optional<Anchor> anchor;
  if (!options.anchor.empty()) {
    PETERA_ASSIGN_OR_RETURN(Anchor loaded, LoadAnchor(options));
    anchor = std::move(loaded);
  }
  PETERA_ASSIGN_OR_RETURN(std::string text, ReadStdinText(kMaxEnvelopeBytes, "the envelope"));
  auto parsed = ParseEnvelope(text);
  if (!parsed.ok()) return parsed.error();
  const Envelope& envelope = *parsed;
  size_t count = envelope.recipients.size();
  std::string out = "envelope: A256GCM, " + std::to_string(envelope.ciphertext.size()) +
                    " bytes of ciphertext, " + std::to_string(count) +
                    (count == 1 ? " recipient" : " recipients");
  if (envelope.threshold > 1) {
    out += ", any " + std::to_string(envelope.threshold) + " of which decrypt";
  }
  out += "\n";
  for (size_t i = 0; i < count; ++i) {
    out += DescribeRecipient(anchor, envelope.recipients[i], i + 1);
  }
  return WriteStdout(out);
}

}  // namespace petera::client
