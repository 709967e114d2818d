// Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
//
// petera ANCHOR.pem fetch HOST[:PORT] > host.pem
#include "chain_fetch.h"
#include "commands.h"
#include "target.h"

namespace petera::client {

Result<Anchor> LoadAnchor(const CommonOptions& options) {
  if (options.anchor.empty()) {
    return Error(ErrorCategory::kUsage, "no ANCHOR.pem given (petera ANCHOR.pem COMMAND ...)");
  }
  PETERA_ASSIGN_OR_RETURN(Anchor anchor, Anchor::Load(options.anchor));
  for (const auto& crl : options.crls) {
    PETERA_TRY(anchor.AddCrlFile(crl));
  }
  anchor.set_ocsp_policy(options.ocsp);
  return anchor;
}

Result<std::shared_ptr<const ClientCredential>> LoadCredential(const CommonOptions& options) {
  if (options.cert.empty()) {
    if (!options.key.empty()) return Error(ErrorCategory::kUsage, "--key needs --cert");
    return std::shared_ptr<const ClientCredential>();
  }
  return LoadClientCredential(options.cert, options.key);
}

Status RunFetch(const CommonOptions& options, const std::string& host) {
  PETERA_ASSIGN_OR_RETURN(Address address, ParseAddress(host));
  PETERA_ASSIGN_OR_RETURN(Anchor anchor, LoadAnchor(options));
  PETERA_ASSIGN_OR_RETURN(auto credential, LoadCredential(options));
  Reporter reporter(options.verbose);
  ClientSettings settings{std::chrono::seconds(options.timeout_seconds), &reporter, {},
                          std::move(credential)};
  PETERA_ASSIGN_OR_RETURN(auto fetched, FetchChains(anchor, {address}, settings));
  PETERA_ASSIGN_OR_RETURN(std::string pem,
                          FormatServerPem(fetched.front().address, fetched.front().chain));
  return WriteStdout(pem);
}

}  // namespace petera::client
