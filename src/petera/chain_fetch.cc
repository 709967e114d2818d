// Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
#include "chain_fetch.h"

#include <optional>

#include "io_runner.h"
#include "responses.h"

namespace petera::client {
namespace {

Result<FetchedChain> ValidateAnswer(const Anchor& anchor, const Address& address,
                                    Result<HttpResponse> answer) {
  if (!answer.ok()) return answer.error();
  PETERA_ASSIGN_OR_RETURN(std::vector<X509Ptr> chain, ParseChainAnswer(*answer));
  auto verified = VerifyEncryptionChain(anchor, chain, address.host);
  if (!verified.ok()) return verified.error().Wrap("encryption certificate not trusted");
  FetchedChain fetched;
  fetched.address = address;
  fetched.chain = std::move(chain);
  fetched.verified = std::move(verified).value();
  return fetched;
}

}  // namespace

Result<std::vector<FetchedChain>> FetchChains(const Anchor& anchor,
                                              const std::vector<Address>& addresses,
                                              const ClientSettings& settings) {
  if (addresses.empty()) return std::vector<FetchedChain>{};
  PETERA_ASSIGN_OR_RETURN(auto tls, MakeTlsContext(settings.credential.get()));
  IoRunner runner;
  std::vector<std::optional<FetchedChain>> chains(addresses.size());
  std::optional<Error> failure;
  size_t remaining = addresses.size();
  for (size_t i = 0; i < addresses.size(); ++i) {
    auto connection = HttpsConnection::Create(runner.io(), *tls, anchor, addresses[i], settings);
    runner.Add(connection);
    connection->Send(MakeChainRequest(), [&, i](Result<HttpResponse> answer) {
      auto fetched = ValidateAnswer(anchor, addresses[i], std::move(answer));
      --remaining;
      if (!fetched.ok()) {
        failure = fetched.error().Wrap(addresses[i].ToString());
        return runner.Stop();  // all or nothing: no use waiting for the others
      }
      if (settings.reporter != nullptr) {
        settings.reporter->Progress(addresses[i].ToString(),
                                    "encryption certificate trusted: " + fetched->verified.Describe());
      }
      chains[i] = std::move(fetched).value();
      if (remaining == 0) runner.Stop();
    });
  }
  runner.Run();
  if (failure) return *failure;
  std::vector<FetchedChain> out;
  for (auto& chain : chains) {
    if (!chain) return Error(ErrorCategory::kInternal, "a server was not contacted");
    out.push_back(std::move(*chain));
  }
  return out;
}

}  // namespace petera::client
