// Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
#include "io_runner.h"

namespace petera::client {

IoRunner::IoRunner() = default;

// Cancel() abandons any name lookup still running (host_resolver.h), after
// which its thread no longer touches the io_context: destroying it now never
// waits for a lookup that hangs.
IoRunner::~IoRunner() {
  for (auto& connection : connections_) connection->Cancel();
  connections_.clear();
}

void IoRunner::Add(std::shared_ptr<HttpsConnection> connection) {
  connections_.push_back(std::move(connection));
}

void IoRunner::Run() {
  io_.run();
  // Operations cancelled by Stop() complete at once; let them, so that
  // their handlers (and what they hold) are released now.
  io_.restart();
  io_.poll();
}

void IoRunner::Stop() {
  for (auto& connection : connections_) connection->Cancel();
  io_.stop();
}

}  // namespace petera::client
