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

// Works through one server's recipients on one connection, handing each
// key (or share) it recovers to the caller.
class ServerRecovery : public std::enable_shared_from_this<ServerRecovery> {
 public:
  // Whether a recipient still needs recovering (another server may have
  // done it meanwhile).
  using Wanted = std::function<bool(size_t recipient)>;
  // Takes what a recipient unwrapped; false when nothing more is needed.
  using OnKey = std::function<bool(size_t recipient, SecretBytes key)>;
  // The server has been asked for all it could give: its refusal if it
  // refused anything, else no error when it gave a key or was not needed.
  using Done = std::function<void(std::optional<Error>)>;

  ServerRecovery(std::shared_ptr<HttpsConnection> connection, const Envelope& envelope,
                 std::vector<size_t> recipients, const ClientSettings& settings, Wanted wanted,
                 OnKey on_key, Done done)
      : connection_(std::move(connection)),
        envelope_(envelope),
        recipients_(std::move(recipients)),
        settings_(settings),
        wanted_(std::move(wanted)),
        on_key_(std::move(on_key)),
        done_(std::move(done)) {}

  void Start() {
    connection_->Connect([self = shared_from_this()](Status status) {
      if (!status.ok()) return self->done_(status.error());
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
    while (next_ < recipients_.size() && !wanted_(recipients_[next_])) ++next_;
    if (next_ == recipients_.size()) return Finish();
    size_t index = recipients_[next_++];
    const Recipient& recipient = envelope_.recipients[index];
    auto blinding = StartRecovery(recipient);
    if (!blinding.ok()) {
      Remember(blinding.error());
      return TryNext();
    }
    blinding_.emplace(std::move(blinding).value());
    Progress("asking for " + ShortKid(recipient.kid) + " (" + recipient.alg + ")");
    RecoveryRequest request{recipient.kid, blinding_->request()};
    connection_->Send(MakeRecoverRequest(request),
                      [self = shared_from_this(), index](Result<HttpResponse> answer) {
                        self->OnAnswer(index, std::move(answer));
                      });
  }

  void OnAnswer(size_t index, Result<HttpResponse> answer) {
    // A transport failure ends this server: the connection is gone and the
    // time budget is shared.
    if (!answer.ok()) return done_(answer.error());
    const Recipient& recipient = envelope_.recipients[index];
    auto key = RecoverKey(recipient, *answer);
    if (!key.ok()) {
      Progress(ShortKid(recipient.kid) + ": " + key.error().message());
      Remember(key.error());
      return TryNext();
    }
    Progress(ShortKid(recipient.kid) + ": " +
             (recipient.share == 0 ? std::string("content key recovered")
                                   : "share " + std::to_string(recipient.share) + " recovered"));
    ++recovered_;
    if (!on_key_(index, std::move(key).value())) return;
    TryNext();
  }

  Result<SecretBytes> RecoverKey(const Recipient& recipient, const HttpResponse& answer) {
    PETERA_ASSIGN_OR_RETURN(RecoveryResponse response, ParseRecoverAnswer(answer));
    auto unblinded = blinding_->Unblind(response.y);
    blinding_.reset();
    if (!unblinded.ok()) return unblinded.error().Wrap("cannot unblind the answer");
    auto key = UnwrapContentKey(recipient, *unblinded);
    if (!key.ok()) return key.error().Wrap("cannot unwrap the content key");
    return key;
  }

  void Remember(const Error& error) {
    if (error.category() == ErrorCategory::kNotFound) {
      ++not_found_;
      return;
    }
    if (!refusal_) refusal_ = error;
  }

  // Asked for all it could give: a refusal is worth reporting even after a
  // share (a threshold may still be short); 404s only when nothing came, and
  // nothing at all when every recipient was recovered elsewhere first.
  void Finish() {
    if (refusal_) return done_(*refusal_);
    if (recovered_ > 0 || not_found_ == 0) return done_(std::nullopt);
    if (not_found_ == 1) {
      return done_(Error(ErrorCategory::kNotFound,
                         "server does not hold the key it was asked for (HTTP 404)"));
    }
    done_(Error(ErrorCategory::kNotFound, "server holds none of the " +
                                              std::to_string(not_found_) +
                                              " keys it was asked for (HTTP 404)"));
  }

  std::shared_ptr<HttpsConnection> connection_;
  const Envelope& envelope_;
  std::vector<size_t> recipients_;
  ClientSettings settings_;
  Wanted wanted_;
  OnKey on_key_;
  Done done_;
  size_t next_ = 0;
  size_t recovered_ = 0;
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
  PETERA_ASSIGN_OR_RETURN(auto tls, MakeTlsContext(settings.credential.get()));
  IoRunner runner;
  std::vector<std::optional<Error>> errors(plan.size());
  PayloadOpener opener(envelope);
  // Which server answered for each recipient; the answers of the first to
  // do so are the only ones asked for.
  constexpr size_t kNobody = static_cast<size_t>(-1);
  std::vector<size_t> answered_by(envelope.recipients.size(), kNobody);
  bool finished = false;
  std::vector<std::shared_ptr<ServerRecovery>> workers;
  size_t remaining = plan.size();
  auto wanted = [&](size_t recipient) { return answered_by[recipient] == kNobody; };
  auto finish = [&] {
    finished = true;
    runner.Stop();
  };
  for (size_t i = 0; i < plan.size(); ++i) {
    auto connection = HttpsConnection::Create(runner.io(), *tls, anchor, plan[i].address, settings);
    runner.Add(connection);
    auto on_key = [&, i](size_t recipient, SecretBytes key) {
      if (finished) return false;
      if (answered_by[recipient] != kNobody) return true;  // two servers asked for it
      answered_by[recipient] = i;
      auto opened = opener.Offer(recipient, std::move(key));
      if (!opened.ok()) {
        outcome.stopped = opened.error();
      } else if (!*opened) {
        return true;
      } else {
        outcome.plaintext = std::move(**opened);
      }
      finish();
      return false;
    };
    auto done = [&, i](std::optional<Error> error) {
      --remaining;
      errors[i] = std::move(error);
      if (remaining == 0) runner.Stop();
    };
    workers.push_back(std::make_shared<ServerRecovery>(connection, envelope, plan[i].recipients,
                                                       settings, wanted, on_key, done));
  }
  for (auto& worker : workers) worker->Start();
  runner.Run();
  outcome.keys_recovered = opener.offered();
  for (size_t recipient : opener.used()) {
    const Address& address = plan[answered_by[recipient]].address;
    if (std::find(outcome.contributors.begin(), outcome.contributors.end(), address) ==
        outcome.contributors.end()) {
      outcome.contributors.push_back(address);
    }
  }
  for (size_t i = 0; i < plan.size(); ++i) {
    if (errors[i]) outcome.failures.push_back(ServerFailure{plan[i].address, *errors[i]});
  }
  for (size_t recipient : opener.wrong()) {
    const Recipient& r = envelope.recipients[recipient];
    std::string what = r.share == 0 ? "key" : "share " + std::to_string(r.share);
    std::string why = envelope.commitment.empty()
                          ? "its " + what + " for " + ShortKid(r.kid) + " does not open the envelope"
                          : "its " + what + " for " + ShortKid(r.kid) +
                                " is wrong (it does not match the envelope's key commitment)";
    ServerFailure wrong{plan[answered_by[recipient]].address,
                        Error(ErrorCategory::kProtocol, "wrong answer: " + why)};
    outcome.wrong_answers.push_back(wrong);
    if (!outcome.plaintext) outcome.failures.push_back(std::move(wrong));
  }
  // Without a commitment nothing tells a lying server from a damaged
  // envelope: when every key that came back failed the tag, say the latter.
  if (!outcome.plaintext && !outcome.stopped && envelope.commitment.empty() &&
      opener.payload_failure()) {
    outcome.stopped = opener.payload_failure();
  }
  return outcome;
}

}  // namespace petera::client
