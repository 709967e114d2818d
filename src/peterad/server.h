// Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
//
// The network side of peterad: listeners and one session per connection.
// A session only moves bytes, enforces limits and per-phase timeouts, and
// calls Handle() (handler.h); a slow or idle client never delays another.
//
// Threads: the server runs on "workers", io_contexts that are each run by
// exactly one thread. Every listening socket is watched by every worker;
// whichever is free first accepts, and hands the connection to the worker
// with the fewest open connections. A connection then stays on its worker:
// all its handlers run on that worker's thread.
//
// Phases and their timeouts:
//   handshake   TLS handshake
//   idle        waiting for the first byte of a request (the first request
//               of a connection gets the header timeout instead)
//   header      from the first byte to the end of the header (then 408)
//   body        reading the body (then 408)
//   write       writing the response, and the TLS close_notify
#ifndef PETERA_PETERAD_SERVER_H_
#define PETERA_PETERAD_SERVER_H_

#include <openssl/ssl.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "petera/recovery.h"
#include "petera/result.h"
#include "peterad/client_auth.h"
#include "peterad/keystore.h"
#include "peterad/metrics.h"
#include "peterad/ocsp_staple.h"
#include "peterad/proxy_protocol.h"

namespace petera::peterad {

struct ServerOptions {
  std::chrono::milliseconds handshake_timeout{10000};
  std::chrono::milliseconds header_timeout{10000};
  std::chrono::milliseconds body_timeout{10000};
  std::chrono::milliseconds idle_timeout{30000};
  std::chrono::milliseconds write_timeout{10000};
  std::size_t max_connections = 4096;
  // Open connections one client address may hold (0: no such cap), so that
  // no single client can take every slot. Clients behind one NAT address
  // share it.
  std::size_t max_connections_per_client = 64;
  std::size_t header_limit = 8192;
  std::size_t body_limit = kMaxRecoveryBodyBytes;
  // The response to the last request a connection may make says
  // "Connection: close", so that no connection lives forever.
  std::size_t max_requests_per_connection = 1000;
  // Load balancers whose connections start with a PROXY protocol header
  // (required from them, never honoured from anyone else).
  std::vector<Cidr> proxy_protocol_from;
};

// What peterad serves; replaced as a whole on reload. New connections take
// their TLS context from the current state; every request, also on a
// connection opened before a reload, takes the keys of the current state.
struct ServingState {
  std::shared_ptr<const KeyStore> keys;
  std::shared_ptr<SSL_CTX> tls;
  // Who may recover (--client-ca); null: anyone who reaches the server.
  std::shared_ptr<const ClientPolicy> clients;
  // The OCSP response stapled (--ocsp-response); null without one. The TLS
  // context holds it too.
  std::shared_ptr<const OcspStaple> ocsp;
};

// The current ServingState, shared by the server and its sessions.
// Thread-safe.
class CurrentState {
 public:
  explicit CurrentState(std::shared_ptr<const ServingState> state) : state_(std::move(state)) {}

  std::shared_ptr<const ServingState> Get() const {
    std::lock_guard<std::mutex> lock(mu_);
    return state_;
  }
  void Set(std::shared_ptr<const ServingState> state) {
    std::lock_guard<std::mutex> lock(mu_);
    state_ = std::move(state);
  }

 private:
  mutable std::mutex mu_;
  std::shared_ptr<const ServingState> state_;
};

class Registry;

class Server {
 public:
  // `workers`: at least one; each must be run by exactly one thread, and
  // outlive the server.
  // `metrics`: where to count (one shard per worker), or null.
  Server(std::vector<boost::asio::io_context*> workers, ServerOptions options,
         std::shared_ptr<const ServingState> state, std::shared_ptr<Metrics> metrics = nullptr);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and listens on an address (IPv6 sockets are IPv6-only).
  Status Listen(const boost::asio::ip::tcp::endpoint& endpoint);
  // Serves a listening socket handed over by systemd (sd_listen_fds).
  Status Adopt(int fd);
  // "127.0.0.1:5700" for every listener.
  std::vector<std::string> Addresses() const;

  // Starts accepting on every listener.
  void Start();
  // Requests use the keys of `state` from now on, new connections also its
  // TLS context. Thread-safe.
  void SetState(std::shared_ptr<const ServingState> state);
  // Stops accepting and closes connections that are not inside a request;
  // the others close after their response. Thread-safe.
  void Stop();
  // Number of open connections. Thread-safe.
  std::size_t active_connections() const;
  // After Stop(): true once every listener has handed over what the kernel
  // had queued and closed, and no connection is open or reading its PROXY
  // header. Thread-safe.
  bool Drained() const;
  // Open connections per worker, in the order of `workers`. Thread-safe.
  std::vector<std::size_t> connections_per_worker() const;

 private:
  class Listener;

  // Adds one listener per worker for the listening socket `fd` (taken over:
  // closed on failure).
  Status AddListeners(int fd, const boost::asio::ip::tcp& protocol, const std::string& where);
  // Takes a connection accepted by worker `worker`: refuses it at once when
  // full, else moves it to the least loaded worker and starts a session
  // with the current state there (after its PROXY header, when it comes
  // from a load balancer).
  void Serve(boost::asio::ip::tcp::socket socket, std::size_t worker);
  // The session for a connection from `remote` (the client, as the PROXY
  // header named it, or the peer itself), on `worker`.
  void StartSession(boost::asio::ip::tcp::socket socket, std::size_t worker,
                    const boost::asio::ip::tcp::endpoint& remote);
  bool FromLoadBalancer(const boost::asio::ip::address& address) const;
  // One warning per interval at most: a flood must not flood the log too.
  void LogClientRefusal(const std::string& peer) const;
  void CountRefusal(std::size_t worker, Refusal why) const;

  std::vector<boost::asio::io_context*> workers_;
  ServerOptions options_;
  std::shared_ptr<CurrentState> state_;
  std::shared_ptr<Registry> registry_;
  std::shared_ptr<Metrics> metrics_;
  std::vector<std::shared_ptr<Listener>> listeners_;
};

// A socket bound to `endpoint` and listening (an IPv6 one IPv6-only),
// served by `io`. The error says "cannot listen on ADDR:PORT: why".
Result<boost::asio::ip::tcp::acceptor> OpenListeningSocket(
    boost::asio::io_context& io, const boost::asio::ip::tcp::endpoint& endpoint);

// "127.0.0.1:5700", "[::1]:5700"
std::string EndpointString(const boost::asio::ip::tcp::endpoint& endpoint);

// Parses a --listen value: "127.0.0.1:5700", "[::1]:5700", "0.0.0.0:5700",
// "[::]:5700". The address must be an IP literal.
Result<boost::asio::ip::tcp::endpoint> ParseListenAddress(const std::string& text);

}  // namespace petera::peterad

#endif  // PETERA_PETERAD_SERVER_H_
