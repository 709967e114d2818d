// Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
//
// The targets of an encryption, as `petera encrypt` and `petera luks bind`
// take them: every one validated before anything is encrypted, PEM files
// offline (LoadFiles), hosts online and concurrently
// (ResolveOnlineTargets). One failure and nothing is written.
#ifndef PETERA_CLIENT_ENCRYPT_TARGETS_H_
#define PETERA_CLIENT_ENCRYPT_TARGETS_H_

#include <optional>
#include <string>
#include <vector>

#include "cli_io.h"
#include "https_client.h"
#include "petera/envelope.h"
#include "petera/trust.h"
#include "target.h"

namespace petera::client {

// The targets in command-line order; online ones are filled in later.
struct PlannedTargets {
  std::vector<Target> targets;
  std::vector<std::optional<EncryptionTarget>> resolved;
  std::vector<Address> online;
  std::vector<size_t> online_index;  // position of each online target
};

// Parses the TARGET arguments; refuses none, more than 64, or fewer than
// `threshold`.
Result<PlannedTargets> ParseTargets(const std::vector<std::string>& texts, size_t threshold);
// Reads and validates the PEM-file targets.
Status LoadFiles(const Anchor& anchor, const Reporter& reporter, PlannedTargets& planned);
// Fetches and validates the online ones; returns every target in order.
Result<std::vector<EncryptionTarget>> ResolveOnlineTargets(const Anchor& anchor,
                                                           PlannedTargets& planned,
                                                           const ClientSettings& settings);

}  // namespace petera::client

#endif  // PETERA_CLIENT_ENCRYPT_TARGETS_H_
