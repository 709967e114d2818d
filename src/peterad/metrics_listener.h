// Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
//
// The metrics endpoint (peterad --metrics ADDR:PORT): plain HTTP/1.1 that
// answers GET /metrics with Metrics::Render's exposition. It runs on the
// main thread's io_context, apart from the I/O threads that serve clients,
// so that a scrape never waits behind a recovery or delays one.
//
// It is meant for loopback or a management network: no TLS, no
// authentication, nothing secret in what it serves (counts, key ids,
// certificate subjects and dates). Every connection has a 10 s deadline per
// request and at most 32 are open at once.
#ifndef PETERA_PETERAD_METRICS_LISTENER_H_
#define PETERA_PETERAD_METRICS_LISTENER_H_

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <functional>
#include <memory>
#include <string>

#include "petera/result.h"

namespace petera::peterad {

class MetricsListener {
 public:
  // Returns the body of GET /metrics.
  using Render = std::function<std::string()>;

  // Binds and listens on `endpoint`; serving starts with Start().
  static Result<std::unique_ptr<MetricsListener>> Create(boost::asio::io_context& io,
                                                         const boost::asio::ip::tcp::endpoint& endpoint,
                                                         Render render);
  ~MetricsListener();
  MetricsListener(const MetricsListener&) = delete;
  MetricsListener& operator=(const MetricsListener&) = delete;

  void Start();
  // Stops accepting and closes the open connections.
  void Stop();
  // "127.0.0.1:9570"
  std::string Address() const;

  class Impl;

 private:
  explicit MetricsListener(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<Impl> impl_;
};

}  // namespace petera::peterad

#endif  // PETERA_PETERAD_METRICS_LISTENER_H_
