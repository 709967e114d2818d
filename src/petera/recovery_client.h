// Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
//
// Decryption over the network: every server of a plan is contacted at once;
// on each, the recipients planned for it are tried in turn on the same
// keep-alive connection (StartRecovery -> POST /v1/recover -> Unblind ->
// UnwrapContentKey). Every key (or share) that comes back goes to a
// PayloadOpener, which tries it with what came before; as soon as a key
// opens the payload the other servers are cancelled on the spot. A wrong
// answer (a lying server) therefore costs nothing but the wait for the
// honest ones.
#ifndef PETERA_CLIENT_RECOVERY_CLIENT_H_
#define PETERA_CLIENT_RECOVERY_CLIENT_H_

#include <optional>
#include <string>
#include <vector>

#include "https_client.h"
#include "petera/address.h"
#include "petera/envelope.h"
#include "petera/result.h"
#include "petera/secret.h"
#include "petera/trust.h"

namespace petera::client {

// One server to contact and the recipients (indices into
// Envelope::recipients) to ask it for, in order.
struct ServerPlan {
  Address address;
  std::vector<size_t> recipients;
};

// One server per distinct recorded address of the `trusted` recipients,
// each with its recipients in envelope order.
std::vector<ServerPlan> PlanFromEnvelope(const Envelope& envelope,
                                         const std::vector<size_t>& trusted);

// The hosts the user named instead: each gets every trusted recipient, those
// recorded under the same host name first (a server that moved keeps its
// name), then the others.
std::vector<ServerPlan> PlanForHosts(const Envelope& envelope,
                                     const std::vector<size_t>& trusted,
                                     const std::vector<Address>& hosts);

struct ServerFailure {
  Address address;
  Error error;
};

struct RecoveryOutcome {
  std::optional<SecretBytes> plaintext;  // set on success
  // The servers whose keys were used, in the order they answered.
  std::vector<Address> contributors;
  // How many recipients gave their key (or share).
  size_t keys_recovered = 0;
  // Set when no further answer could help: kCorrupt when the key the
  // envelope commits to (or, without a commitment, every key that came
  // back) fails authentication, kProtocol when too many answers were wrong
  // to try every combination.
  std::optional<Error> stopped;
  // Servers whose answer is known to be wrong (PayloadOpener::wrong), also
  // when the envelope opened with the others'.
  std::vector<ServerFailure> wrong_answers;
  std::vector<ServerFailure> failures;  // in plan order, then wrong answers
};

Result<RecoveryOutcome> RecoverFromServers(const Anchor& anchor, const Envelope& envelope,
                                           const std::vector<ServerPlan>& plan,
                                           const ClientSettings& settings);

// The category that sums up a set of failures, for the exit code: corrupt
// before trust before protocol before network.
ErrorCategory SummaryCategory(const std::vector<ServerFailure>& failures);

}  // namespace petera::client

#endif  // PETERA_CLIENT_RECOVERY_CLIENT_H_
