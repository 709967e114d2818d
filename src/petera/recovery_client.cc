// Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
#include "recovery_client.h"

#include <algorithm>
#include <functional>
#include <memory>

#include "io_runner.h"
#include "responses.h"

namespace petera::client {
namespace {

std::string ShortKid(const std::string& kid) { return "key " + kid.substr(0, 12); }

struct ServerResult {
  std::optional<SecretBytes> plaintext;
  std::optional<Error> error;
  bool corrupt = false;
};

// Works through one server's recipients on one connection.
class ServerRecovery : public std::enable_shared_from_this<ServerRecovery> {
 public:
  using Done = std::function<void(ServerResult)>;

  ServerRecovery(std::shared_ptr<HttpsConnection> connection, const Envelope& envelope,
                 std::vector<size_t> recipients, const ClientSettings& settings, Done done)
      : connection_(std::move(connection)),
        envelope_(envelope),
        recipients_(std::move(recipients)),
        settings_(settings),
        done_(std::move(done)) {}

  void Start() {
    connection_->Connect([self = shared_from_this()](Status status) {
      if (!status.ok()) return self->Fail(status.error());
      self->TryNext();
    });
  }

 private:
  void Progress(const std::string& what) const {
    if (settings_.reporter != nullptr) {
      settings_.reporter->Progress(connection_->address().ToString(), what);
    }
  }

  void TryNext() {
    if (next_ == recipients_.size()) return Fail(NoKeyError());
    const Recipient& recipient = envelope_.recipients[recipients_[next_++]];
    auto blinding = StartRecovery(recipient);
    if (!blinding.ok()) {
      Remember(blinding.error());
      return TryNext();
    }
    blinding_.emplace(std::move(blinding).value());
    Progress("asking for " + ShortKid(recipient.kid) + " (" + recipient.alg + ")");
    RecoveryRequest request{recipient.kid, blinding_->request()};
    connection_->Send(MakeRecoverRequest(request),
                      [self = shared_from_this(), &recipient](Result<HttpResponse> answer) {
                        self->OnAnswer(recipient, std::move(answer));
                      });
  }

  void OnAnswer(const Recipient& recipient, Result<HttpResponse> answer) {
    // A transport failure ends this server: the connection is gone and the
    // time budget is shared.
    if (!answer.ok()) return Fail(answer.error());
    auto cek = RecoverKey(recipient, *answer);
    if (!cek.ok()) {
      Progress(ShortKid(recipient.kid) + ": " + cek.error().message());
      Remember(cek.error());
      return TryNext();
    }
    Progress(ShortKid(recipient.kid) + ": content key recovered");
    auto plaintext = DecryptPayload(envelope_, *cek);
    ServerResult result;
    if (!plaintext.ok()) {
      result.error = plaintext.error();
      result.corrupt = true;
    } else {
      result.plaintext = std::move(plaintext).value();
    }
    done_(std::move(result));
  }

  Result<SecretBytes> RecoverKey(const Recipient& recipient, const HttpResponse& answer) {
    PETERA_ASSIGN_OR_RETURN(RecoveryResponse response, ParseRecoverAnswer(answer));
    auto unblinded = blinding_->Unblind(response.y);
    blinding_.reset();
    if (!unblinded.ok()) return unblinded.error().Wrap("cannot unblind the answer");
    auto cek = UnwrapContentKey(recipient, *unblinded);
    if (!cek.ok()) return cek.error().Wrap("cannot unwrap the content key");
    return cek;
  }

  void Remember(const Error& error) {
    if (error.category() == ErrorCategory::kNotFound) {
      ++not_found_;
      return;
    }
    if (!refusal_) refusal_ = error;
  }

  Error NoKeyError() const {
    if (refusal_) return *refusal_;
    if (recipients_.size() == 1) {
      return Error(ErrorCategory::kNotFound,
                   "server does not hold the key of this envelope (HTTP 404)");
    }
    return Error(ErrorCategory::kNotFound,
                 "server holds none of the " + std::to_string(recipients_.size()) +
                     " keys of this envelope (HTTP 404)");
  }

  void Fail(const Error& error) {
    ServerResult result;
    result.error = error;
    done_(std::move(result));
  }

  std::shared_ptr<HttpsConnection> connection_;
  const Envelope& envelope_;
  std::vector<size_t> recipients_;
  ClientSettings settings_;
  Done done_;
  size_t next_ = 0;
  std::optional<Blinding> blinding_;
  std::optional<Error> refusal_;
  size_t not_found_ = 0;
};

int Rank(ErrorCategory category) {
  switch (category) {
    case ErrorCategory::kCorrupt:
      return 5;
    case ErrorCategory::kTrust:
      return 4;
    case ErrorCategory::kProtocol:
    case ErrorCategory::kNotFound:
      return 3;
    case ErrorCategory::kNetwork:
      return 2;
    default:
      return 1;
  }
}

}  // namespace

std::vector<ServerPlan> PlanFromEnvelope(const Envelope& envelope,
                                         const std::vector<size_t>& trusted) {
  std::vector<ServerPlan> plan;
  for (size_t index : trusted) {
    const Address& address = envelope.recipients[index].address;
    auto it = std::find_if(plan.begin(), plan.end(),
                           [&](const ServerPlan& p) { return p.address == address; });
    if (it == plan.end()) {
      plan.push_back(ServerPlan{address, {index}});
    } else {
      it->recipients.push_back(index);
    }
  }
  return plan;
}

std::vector<ServerPlan> PlanForHosts(const Envelope& envelope,
                                     const std::vector<size_t>& trusted,
                                     const std::vector<Address>& hosts) {
  std::vector<ServerPlan> plan;
  for (const Address& host : hosts) {
    ServerPlan server{host, {}};
    for (size_t index : trusted) {
      if (envelope.recipients[index].address.host == host.host) server.recipients.push_back(index);
    }
    for (size_t index : trusted) {
      if (envelope.recipients[index].address.host != host.host) server.recipients.push_back(index);
    }
    plan.push_back(std::move(server));
  }
  return plan;
}

ErrorCategory SummaryCategory(const std::vector<ServerFailure>& failures) {
  ErrorCategory best = ErrorCategory::kInternal;
  int best_rank = 0;
  for (const auto& failure : failures) {
    int rank = Rank(failure.error.category());
    if (rank > best_rank) {
      best_rank = rank;
      best = failure.error.category();
    }
  }
  return best;
}

Result<RecoveryOutcome> RecoverFromServers(const Anchor& anchor, const Envelope& envelope,
                                           const std::vector<ServerPlan>& plan,
                                           const ClientSettings& settings) {
  RecoveryOutcome outcome;
  if (plan.empty()) return outcome;
  PETERA_ASSIGN_OR_RETURN(auto tls, MakeTlsContext());
  IoRunner runner;
  std::vector<std::optional<Error>> errors(plan.size());
  std::vector<std::shared_ptr<ServerRecovery>> workers;
  size_t remaining = plan.size();
  for (size_t i = 0; i < plan.size(); ++i) {
    auto connection = HttpsConnection::Create(runner.io(), *tls, anchor, plan[i].address, settings);
    runner.Add(connection);
    auto done = [&, i](ServerResult result) {
      --remaining;
      if (result.plaintext) {
        outcome.plaintext = std::move(result.plaintext);
        outcome.winner = plan[i].address;
        return runner.Stop();  // first valid answer wins
      }
      if (result.corrupt) {
        outcome.corrupt = result.error;
        return runner.Stop();  // every server would lead to the same payload
      }
      errors[i] = result.error;
      if (remaining == 0) runner.Stop();
    };
    workers.push_back(std::make_shared<ServerRecovery>(connection, envelope, plan[i].recipients,
                                                       settings, done));
  }
  for (auto& worker : workers) worker->Start();
  runner.Run();
  for (size_t i = 0; i < plan.size(); ++i) {
    if (errors[i]) outcome.failures.push_back(ServerFailure{plan[i].address, *errors[i]});
  }
  return outcome;
}

}  // namespace petera::client
