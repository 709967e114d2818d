// Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
//
// One client connection: TLS handshake, then HTTP/1.1 requests with
// keep-alive, each phase under its own timeout (server.h lists them). All of
// a session's handlers run on the one I/O thread that owns its socket.
#ifndef PETERA_PETERAD_SESSION_H_
#define PETERA_PETERAD_SESSION_H_

#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <chrono>
#include <cstddef>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "peterad/handler.h"
#include "peterad/metrics.h"
#include "peterad/server.h"
#include "peterad/tls_stream.h"

namespace petera::peterad {

class Session;

// The open connections: bounds their number, in all and per client
// address, counts them per I/O thread (server.h) and reaches them on Stop().
class Registry {
 public:
  // `max_per_client` 0: no cap per client address.
  Registry(std::size_t max_connections, std::size_t max_per_client, std::size_t workers)
      : max_(max_connections), max_per_client_(max_per_client), per_worker_(workers, 0) {}

  enum class Admission { kAdmitted, kFull, kClientFull };

  bool Full() const;
  // A connection whose PROXY header is being read counts against the cap
  // too: false when full. While stopping, connections are still admitted:
  // the listeners hand over what the kernel had queued before they close
  // (the caller then stops the session, which closes after one answer).
  bool AddPending();
  void RemovePending();
  // Whether `client` holds its whole share of connections already.
  bool ClientFull(const std::string& client) const;
  // The worker with the fewest open connections; `preferred` on a tie.
  std::size_t LeastLoaded(std::size_t preferred) const;
  // Anything but kAdmitted: the caller drops the session. `client` is the
  // address the per-client cap counts (ClientKey).
  Admission Add(const std::shared_ptr<Session>& session, std::size_t worker,
                const std::string& client);
  void Remove(const Session* session);
  // Marks the registry stopping and calls Stop() on every session.
  void StopAll();
  bool stopping() const;
  // Sessions and connections still reading their PROXY header.
  std::size_t busy() const;
  std::size_t size() const;
  std::vector<std::size_t> PerWorker() const;

 private:
  struct Entry {
    std::weak_ptr<Session> session;
    std::size_t worker;
    std::string client;
  };

  mutable std::mutex mu_;
  std::size_t max_;
  std::size_t max_per_client_;
  std::size_t pending_ = 0;
  bool stopping_ = false;
  std::unordered_map<const Session*, Entry> sessions_;
  std::unordered_map<std::string, std::size_t> per_client_;
  std::vector<std::size_t> per_worker_;
};

// The address a client's connections are counted under: the IP alone, an
// IPv4-mapped IPv6 address as the IPv4 address it is.
std::string ClientKey(const boost::asio::ip::address& address);

class Session : public std::enable_shared_from_this<Session>, private ClientGate {
 public:
  // `metrics`: the counters of the session's I/O thread, or null.
  Session(TlsStream stream, std::shared_ptr<const CurrentState> state,
          const ServerOptions& options, std::shared_ptr<Registry> registry, std::string peer,
          Metrics::Shard* metrics = nullptr);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  void Start();
  // Thread-safe: closes the connection now if it is between requests,
  // otherwise after the current response.
  void Stop();

 private:
  enum class Phase { kHandshake, kIdle, kHeader, kBody, kHandle, kWrite, kClosing };
  using Clock = std::chrono::steady_clock;
  static TimeoutPhase TimeoutPhaseOf(Phase phase);

  void Arm(std::chrono::milliseconds timeout);
  // Moves the deadline of the current phase earlier (never later).
  void ShortenDeadline(std::chrono::milliseconds timeout);
  void StartTimer();
  void OnTimer(error_code ec, unsigned generation);
  void OnStop();

  void OnHandshake(error_code ec);
  void WaitForRequest();
  void WaitReadable();
  void OnReadable(error_code ec);
  void ReadHeader();
  void OnHeader(error_code ec);
  void SendContinue();
  void ReadBody();
  void OnBody(error_code ec);
  void OnReadError(error_code ec);
  void Dispatch();
  // ClientGate: judges this connection's client certificate against the
  // current policy, reusing the last verdict while it stands.
  bool Authorize(std::string* log_detail) override;
  void RespondError(http::status status, const char* code, const std::string& detail);
  void Write(Response response);
  void OnWrite(error_code ec);
  void LogRequest(const error_code& ec);
  void Shutdown();
  void Linger();
  void DiscardInput();
  void Close();

  TlsStream stream_;
  std::shared_ptr<const CurrentState> state_;
  ServerOptions options_;
  std::shared_ptr<Registry> registry_;
  std::string peer_;
  Metrics::Shard* metrics_;
  net::steady_timer timer_;
  boost::beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  Response response_;

  Phase phase_ = Phase::kHandshake;
  Clock::time_point deadline_;
  bool timer_pending_ = false;
  unsigned generation_ = 0;
  bool timed_out_ = false;
  bool closed_ = false;
  bool stopping_ = false;
  bool first_request_ = true;
  std::size_t requests_ = 0;
  bool keep_alive_ = false;

  // The policy the verdict came from (held, so that its address cannot be
  // reused by a later one) and the verdict.
  std::shared_ptr<const ClientPolicy> verdict_policy_;
  ClientVerdict verdict_;
  std::shared_ptr<const ServingState> request_state_;  // during Dispatch only

  // For the request log line, kept until the response is written.
  Clock::time_point request_start_;
  std::string log_method_;
  std::string log_target_;
  std::string log_detail_;
  std::string log_client_;  // the client certificate's identity, when asked for
  RecoveryOutcome outcome_;
};

}  // namespace petera::peterad

#endif  // PETERA_PETERAD_SESSION_H_
