// Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
#include "io_runner.h"


namespace petera::client {

IoRunner::IoRunner() : io_(std::make_unique<asio::io_context>(1)) {}

IoRunner::~IoRunner() {
  bool resolve_pending = false;
  for (auto& connection : connections_) {
    connection->Cancel();
    resolve_pending = resolve_pending || connection->resolve_pending();
  }
  connections_.clear();
  if (resolve_pending) {
    // A getaddrinfo() that timed out is still running in Asio's resolver
    // thread and cannot be interrupted; destroying the io_context would wait
    // for it, defeating --timeout. The process is about to finish its
    // command, so the context is left to the exit instead.
    (void)io_.release();
  }
}

void IoRunner::Add(std::shared_ptr<HttpsConnection> connection) {
  connections_.push_back(std::move(connection));
}

void IoRunner::Run() {
  io_->run();
  // Operations cancelled by Stop() complete at once; let them, so that
  // their handlers (and what they hold) are released now.
  io_->restart();
  io_->poll();
}

void IoRunner::Stop() {
  for (auto& connection : connections_) connection->Cancel();
  io_->stop();
}

}  // namespace petera::client
