// Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
//
// One io_context for a batch of concurrent connections, and the way to stop
// them all at once: Stop() cancels every connection (their sockets close at
// once) and stops the loop, so that one slow server never holds up a result
// that is already known.
#ifndef PETERA_CLIENT_IO_RUNNER_H_
#define PETERA_CLIENT_IO_RUNNER_H_

#include <boost/asio/io_context.hpp>
#include <memory>
#include <vector>

#include "https_client.h"

namespace petera::client {

class IoRunner {
 public:
  IoRunner();
  ~IoRunner();
  IoRunner(const IoRunner&) = delete;
  IoRunner& operator=(const IoRunner&) = delete;

  asio::io_context& io() { return io_; }
  void Add(std::shared_ptr<HttpsConnection> connection);
  // Runs until Stop() or until no work is left.
  void Run();
  // Cancels every connection and stops the loop; safe inside a handler.
  void Stop();

 private:
  asio::io_context io_{1};
  std::vector<std::shared_ptr<HttpsConnection>> connections_;
};

}  // namespace petera::client

#endif  // PETERA_CLIENT_IO_RUNNER_H_
