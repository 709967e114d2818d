// Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
//
// Name resolution that never holds up another server. Asio's resolver runs
// every lookup of an io_context in one shared thread, one after the other, so
// a name that hangs in DNS would delay every other server's lookup until its
// own deadline passed. Here each lookup gets a thread of its own; its result
// is posted back to the io_context. A lookup that is abandoned (the
// connection timed out or was cancelled) is left to finish on its own and its
// result dropped: getaddrinfo() cannot be interrupted, and nobody waits for it.
#ifndef PETERA_CLIENT_HOST_RESOLVER_H_
#define PETERA_CLIENT_HOST_RESOLVER_H_

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "petera/result.h"

namespace petera::client {

using Endpoints = std::vector<boost::asio::ip::tcp::endpoint>;

// Resolves a host name to the endpoints to try, in order. Called in a thread
// of its own; it must not touch the io_context.
using ResolveFunction = std::function<Result<Endpoints>(const std::string& host, uint16_t port)>;

// getaddrinfo() for TCP; a failure is a kNetwork error naming the host.
Result<Endpoints> ResolveWithGetaddrinfo(const std::string& host, uint16_t port);

// One lookup in flight. Start() and Abandon() are called from the thread
// running the io_context, and `done` runs there too, unless Abandon() came
// first.
class HostLookup : public std::enable_shared_from_this<HostLookup> {
 public:
  using Handler = std::function<void(Result<Endpoints>)>;

  static Result<std::shared_ptr<HostLookup>> Start(boost::asio::io_context& io,
                                                   const ResolveFunction& resolve,
                                                   std::string host, uint16_t port,
                                                   Handler done);
  // Drops the lookup's result, whenever it comes, and `done` at once. Once it
  // returns, the lookup's thread no longer touches the io_context, which may
  // then be destroyed.
  void Abandon();

 private:
  HostLookup(boost::asio::io_context& io, Handler done) : io_(&io), done_(std::move(done)) {}

  void Work(const ResolveFunction& resolve, const std::string& host, uint16_t port);
  void Deliver(Result<Endpoints> result);

  std::mutex mutex_;
  boost::asio::io_context* io_;  // null once abandoned; guarded by mutex_
  Handler done_;                 // used in the io_context's thread only
};

}  // namespace petera::client

#endif  // PETERA_CLIENT_HOST_RESOLVER_H_
