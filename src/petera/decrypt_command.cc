// Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
//
// petera ANCHOR.pem decrypt [HOST...] < secret.jwe > secret
#include "commands.h"
#include "decryption.h"
#include "petera/envelope.h"

namespace petera::client {
namespace {

Result<std::vector<Address>> ParseHosts(const std::vector<std::string>& hosts) {
  std::vector<Address> out;
  for (const auto& host : hosts) {
    auto address = ParseAddress(host);
    if (!address.ok()) return address.error().Wrap("HOST '" + host + "'");
    out.push_back(std::move(address).value());
  }
  return out;
}

}  // namespace

Status RunDecrypt(const CommonOptions& options, const std::vector<std::string>& host_texts) {
  PETERA_ASSIGN_OR_RETURN(Anchor anchor, LoadAnchor(options));
  PETERA_ASSIGN_OR_RETURN(auto credential, LoadCredential(options));
  PETERA_ASSIGN_OR_RETURN(std::vector<Address> hosts, ParseHosts(host_texts));
  PETERA_ASSIGN_OR_RETURN(std::string text, ReadStdinText(kMaxEnvelopeBytes, "the envelope"));
  PETERA_ASSIGN_OR_RETURN(Envelope envelope, ParseEnvelope(text));
  Reporter reporter(options.verbose);
  PETERA_ASSIGN_OR_RETURN(SecretBytes plaintext,
                          DecryptEnvelope(anchor, envelope, hosts,
                                          std::chrono::seconds(options.timeout_seconds), reporter,
                                          std::move(credential)));
  return WriteStdout(plaintext.secret_view());
}

}  // namespace petera::client
