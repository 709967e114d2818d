// Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
//
// Fetching encryption chains from servers (GET /v1/chain), concurrently,
// with every chain validated against the anchor for the host it came from.
#ifndef PETERA_CLIENT_CHAIN_FETCH_H_
#define PETERA_CLIENT_CHAIN_FETCH_H_

#include <vector>

#include "https_client.h"
#include "petera/address.h"
#include "petera/ossl.h"
#include "petera/result.h"
#include "petera/trust.h"

namespace petera::client {

struct FetchedChain {
  Address address;
  std::vector<X509Ptr> chain;  // as the server sent it, leaf first
  VerifiedChain verified;
};

// Contacts every address at once on one io_context. All or nothing: the
// first failure cancels the other servers and is returned, its message
// starting with the address. On success the chains come in `addresses`
// order.
Result<std::vector<FetchedChain>> FetchChains(const Anchor& anchor,
                                              const std::vector<Address>& addresses,
                                              const ClientSettings& settings);

}  // namespace petera::client

#endif  // PETERA_CLIENT_CHAIN_FETCH_H_
