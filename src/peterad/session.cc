// Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
#include "peterad/session.h"

#include <spdlog/spdlog.h>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <algorithm>
#include <ctime>
#include <utility>

#include "petera/encoding.h"
#include "peterad/logging.h"

namespace petera::peterad {
namespace {

constexpr char kContinue[] = "HTTP/1.1 100 Continue\r\n\r\n";
constexpr size_t kMaxLoggedTarget = 200;
constexpr std::chrono::milliseconds kMaxLinger{2000};
// On a drain, how long a new connection may still take to finish its
// handshake and send its first request (a balancer's sends it at once).
constexpr std::chrono::milliseconds kFirstRequestGrace{1000};

bool IsHttpError(const error_code& ec) {
  return ec.category() == make_error_code(http::error::end_of_stream).category();
}

// The peer went away or broke the connection: nothing to answer.
bool PeerClosed(const error_code& ec) {
  return ec == http::error::end_of_stream || ec == http::error::partial_message ||
         !IsHttpError(ec);
}

}  // namespace

// --- Registry -----------------------------------------------------------------

bool Registry::Full() const {
  std::lock_guard<std::mutex> lock(mu_);
  return sessions_.size() + pending_ >= max_;
}

bool Registry::AddPending() {
  std::lock_guard<std::mutex> lock(mu_);
  if (sessions_.size() + pending_ >= max_) return false;
  ++pending_;
  return true;
}

void Registry::RemovePending() {
  std::lock_guard<std::mutex> lock(mu_);
  if (pending_ > 0) --pending_;
}

size_t Registry::LeastLoaded(size_t preferred) const {
  std::lock_guard<std::mutex> lock(mu_);
  size_t best = preferred;
  for (size_t i = 0; i < per_worker_.size(); ++i) {
    if (per_worker_[i] < per_worker_[best]) best = i;
  }
  return best;
}

Registry::Admission Registry::Add(const std::shared_ptr<Session>& session, size_t worker,
                                  const std::string& client) {
  std::lock_guard<std::mutex> lock(mu_);
  if (sessions_.size() + pending_ >= max_) return Admission::kFull;
  size_t& mine = per_client_[client];
  if (max_per_client_ != 0 && mine >= max_per_client_) return Admission::kClientFull;
  ++mine;
  sessions_.emplace(session.get(), Entry{session, worker, client});
  ++per_worker_[worker];
  return Admission::kAdmitted;
}

size_t Registry::busy() const {
  std::lock_guard<std::mutex> lock(mu_);
  return sessions_.size() + pending_;
}

bool Registry::stopping() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stopping_;
}

bool Registry::ClientFull(const std::string& client) const {
  if (max_per_client_ == 0) return false;
  std::lock_guard<std::mutex> lock(mu_);
  auto it = per_client_.find(client);
  return it != per_client_.end() && it->second >= max_per_client_;
}

void Registry::Remove(const Session* session) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = sessions_.find(session);
  if (it == sessions_.end()) return;  // never added: refused when full
  --per_worker_[it->second.worker];
  if (auto client = per_client_.find(it->second.client); client != per_client_.end()) {
    if (--client->second == 0) per_client_.erase(client);
  }
  sessions_.erase(it);
}

std::string ClientKey(const boost::asio::ip::address& address) {
  if (address.is_v6() && address.to_v6().is_v4_mapped()) {
    return boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, address.to_v6())
        .to_string();
  }
  return address.to_string();
}

void Registry::StopAll() {
  std::vector<std::weak_ptr<Session>> all;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    all.reserve(sessions_.size());
    for (const auto& [ptr, entry] : sessions_) all.push_back(entry.session);
  }
  for (const auto& weak : all) {
    if (auto session = weak.lock()) session->Stop();
  }
}

size_t Registry::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return sessions_.size();
}

std::vector<size_t> Registry::PerWorker() const {
  std::lock_guard<std::mutex> lock(mu_);
  return per_worker_;
}

// --- Session ------------------------------------------------------------------

Session::Session(TlsStream stream, std::shared_ptr<const CurrentState> state,
                 const ServerOptions& options, std::shared_ptr<Registry> registry,
                 std::string peer, Metrics::Shard* metrics)
    : stream_(std::move(stream)),
      state_(std::move(state)),
      options_(options),
      registry_(std::move(registry)),
      peer_(std::move(peer)),
      metrics_(metrics),
      timer_(stream_.get_executor()),
      buffer_(options.header_limit + options.body_limit + 1024) {}

Session::~Session() { registry_->Remove(this); }

TimeoutPhase Session::TimeoutPhaseOf(Phase phase) {
  switch (phase) {
    case Phase::kHandshake:
      return TimeoutPhase::kHandshake;
    case Phase::kIdle:
      return TimeoutPhase::kIdle;
    case Phase::kHeader:
      return TimeoutPhase::kHeader;
    case Phase::kBody:
      return TimeoutPhase::kBody;
    case Phase::kHandle:
    case Phase::kWrite:
      return TimeoutPhase::kWrite;
    case Phase::kClosing:
      break;
  }
  return TimeoutPhase::kClose;
}

void Session::Start() {
  net::dispatch(stream_.get_executor(), [self = shared_from_this()] {
    self->phase_ = Phase::kHandshake;
    self->Arm(self->options_.handshake_timeout);
    // OpenSSL allocates its handshake buffers (~40 KiB) on the first step:
    // wait for the ClientHello so that silent connections cost no more than
    // their socket and this session.
    self->stream_.async_wait_readable([self](error_code ec) mutable {
      if (!ec && self->timed_out_) ec = net::error::timed_out;
      if (ec) return self->OnHandshake(ec);
      self->stream_.async_handshake([self](error_code ec2) { self->OnHandshake(ec2); });
    });
  });
}

void Session::Stop() {
  net::post(stream_.get_executor(), [self = shared_from_this()] { self->OnStop(); });
}

void Session::OnStop() {
  stopping_ = true;
  // Idle between requests: close now. A new connection (in its handshake
  // or before its first request) was made to be served: it gets its one
  // answer, within its timeouts and the drain's. Inside a request: finish
  // it. Either way the answer says "Connection: close" (Dispatch).
  if (phase_ == Phase::kIdle && !first_request_) return stream_.cancel();
  // In the handshake or waiting for the first request: a client that
  // connected only to wait holds the drain for kFirstRequestGrace at most.
  if (phase_ == Phase::kHandshake || phase_ == Phase::kIdle) ShortenDeadline(kFirstRequestGrace);
}

void Session::ShortenDeadline(std::chrono::milliseconds timeout) {
  Clock::time_point deadline = Clock::now() + timeout;
  if (timed_out_ || deadline_ <= deadline) return;
  deadline_ = deadline;
  if (!timer_pending_ || timer_.expiry() > deadline_) StartTimer();
}

// Each phase moves the deadline; the timer itself is only restarted when
// the new deadline is earlier than the pending wait. Otherwise the pending
// wait ends first and OnTimer waits again for the rest, so that a keep-alive
// request, with its four phases, usually costs no timer system call at all.
void Session::Arm(std::chrono::milliseconds timeout) {
  timed_out_ = false;
  stream_.reset_cancel();
  deadline_ = Clock::now() + timeout;
  if (timer_pending_ && timer_.expiry() <= deadline_) return;
  StartTimer();
}

void Session::StartTimer() {
  ++generation_;
  timer_pending_ = true;
  timer_.expires_at(deadline_);
  timer_.async_wait([self = shared_from_this(), generation = generation_](error_code ec) {
    self->OnTimer(ec, generation);
  });
}

void Session::OnTimer(error_code ec, unsigned generation) {
  if (generation != generation_) return;  // replaced by a wait for an earlier deadline
  timer_pending_ = false;
  if (ec || closed_) return;
  if (Clock::now() < deadline_) return StartTimer();  // the deadline moved on
  timed_out_ = true;
  if (metrics_ != nullptr) metrics_->CountTimeout(TimeoutPhaseOf(phase_));
  stream_.cancel();
}

void Session::OnHandshake(error_code ec) {
  if (metrics_ != nullptr) {
    SSL* ssl = stream_.ssl();
    metrics_->CountHandshake(SSL_get_version(ssl), !ec, timed_out_,
                             !ec && SSL_session_reused(ssl) == 1);
  }
  if (ec) {
    spdlog::debug("{}: TLS handshake failed: {}", peer_,
                  timed_out_ ? std::string("timed out") : ec.message());
    return Close();
  }
  WaitForRequest();
}

void Session::WaitForRequest() {
  phase_ = Phase::kIdle;
  if (stopping_ && !first_request_) return Shutdown();
  if (buffer_.size() > 0) return ReadHeader();  // a pipelined request
  buffer_.shrink_to_fit();                       // idle connections hold no buffer
  Arm(first_request_ ? options_.header_timeout : options_.idle_timeout);
  WaitReadable();
}

void Session::WaitReadable() {
  stream_.async_wait_readable([self = shared_from_this()](error_code ec) { self->OnReadable(ec); });
}

void Session::OnReadable(error_code ec) {
  if (timed_out_ || (stopping_ && !first_request_)) return Shutdown();
  if (ec) return Close();
  // A readable socket is not yet a request: it may have held only a record
  // without application data (a TLS 1.3 key update), or the readiness may
  // be stale (a segment the handshake had already read). Until a byte of a
  // request has arrived the connection stays idle: a drain closes it at
  // once, and its deadline does not move.
  if (stream_.has_data(ec)) return ReadHeader();
  if (ec == net::error::would_block || ec == net::error::try_again) {
    // OpenSSL has processed every whole record it holds: what it keeps is
    // at most part of one, so wait for the socket itself (SSL_has_pending
    // would report that part and WaitReadable would spin on it).
    auto wait = ec == net::error::would_block ? tcp::socket::wait_read : tcp::socket::wait_write;
    return stream_.socket().async_wait(
        wait, [self = shared_from_this()](error_code ec2) { self->OnReadable(ec2); });
  }
  spdlog::debug("{}: connection closed between requests: {}", peer_, ec.message());
  Close();
}

void Session::ReadHeader() {
  phase_ = Phase::kHeader;
  parser_.emplace();
  parser_->header_limit(static_cast<std::uint32_t>(options_.header_limit));
  parser_->body_limit(static_cast<std::uint64_t>(options_.body_limit));
  request_start_ = Clock::now();
  Arm(options_.header_timeout);
  http::async_read_header(stream_, buffer_, *parser_,
                          [self = shared_from_this()](error_code ec, size_t) { self->OnHeader(ec); });
}

void Session::OnHeader(error_code ec) {
  if (ec) return OnReadError(ec);
  first_request_ = false;
  if (parser_->is_done()) return Dispatch();
  auto expect = parser_->get().find(http::field::expect);
  if (expect != parser_->get().end() &&
      boost::beast::iequals(expect->value(), "100-continue")) {
    return SendContinue();
  }
  ReadBody();
}

void Session::SendContinue() {
  phase_ = Phase::kBody;
  Arm(options_.write_timeout);
  net::async_write(stream_, net::buffer(kContinue, sizeof(kContinue) - 1),
                   [self = shared_from_this()](error_code ec, size_t) {
                     if (ec) return self->Close();
                     self->ReadBody();
                   });
}

void Session::ReadBody() {
  phase_ = Phase::kBody;
  Arm(options_.body_timeout);
  // A small body usually arrives with its header: parse what the buffer
  // holds first, and read only when more is needed.
  error_code parsed;
  while (buffer_.size() > 0 && !parser_->is_done()) {
    size_t used = parser_->put(buffer_.data(), parsed);
    buffer_.consume(used);
    if (parsed == http::error::need_more) parsed = {};
    if (parsed) return OnBody(parsed);
    if (used == 0) break;
  }
  if (parser_->is_done()) return OnBody({});
  http::async_read(stream_, buffer_, *parser_,
                   [self = shared_from_this()](error_code ec, size_t) { self->OnBody(ec); });
}

void Session::OnBody(error_code ec) {
  if (ec) return OnReadError(ec);
  Dispatch();
}

void Session::OnReadError(error_code ec) {
  if (ec == http::error::header_limit || ec == http::error::buffer_overflow) {
    return RespondError(http::status::request_header_fields_too_large, "header_too_large",
                        ec.message());
  }
  if (ec == http::error::body_limit) {
    return RespondError(http::status::payload_too_large, "too_large", ec.message());
  }
  if (timed_out_) {
    return RespondError(http::status::request_timeout, "timeout",
                        phase_ == Phase::kBody ? "body timed out" : "header timed out");
  }
  if (PeerClosed(ec)) {
    spdlog::debug("{}: connection closed while reading a request: {}", peer_, ec.message());
    return Close();
  }
  RespondError(http::status::bad_request, "bad_request", ec.message());
}

void Session::Dispatch() {
  phase_ = Phase::kHandle;
  Request request = parser_->release();
  parser_.reset();
  log_method_ = std::string(request.method_string());
  log_target_ = std::string(request.target().substr(0, kMaxLoggedTarget));
  log_detail_.clear();
  log_client_.clear();
  outcome_ = RecoveryOutcome();
  ++requests_;
  // The keys as of now: a reload also applies to connections already open.
  request_state_ = state_->Get();
  Response response = Handle(request, *request_state_->keys,
                             request_state_->clients ? this : nullptr, &log_detail_, &outcome_);
  request_state_.reset();
  bool last = stopping_ || requests_ >= options_.max_requests_per_connection;
  response.keep_alive(response.keep_alive() && !last);
  Write(std::move(response));
}

bool Session::Authorize(std::string* log_detail) {
  const std::shared_ptr<const ClientPolicy>& policy = request_state_->clients;
  // A refusal stands for the connection until a reload; an acceptance
  // until a reload or until its certificates or CRLs expire.
  if (policy != verdict_policy_ ||
      (verdict_.authorized && std::time(nullptr) >= verdict_.valid_until)) {
    SSL* ssl = stream_.ssl();
    verdict_ = policy->Check(SSL_get0_peer_certificate(ssl), SSL_get_peer_cert_chain(ssl));
    verdict_policy_ = policy;
  }
  log_client_ = verdict_.identity;
  if (log_detail != nullptr) {
    *log_detail = verdict_.authorized
                      ? "client " + verdict_.identity
                      : "client not authorized: " + verdict_.reason + ": " + verdict_.identity;
  }
  return verdict_.authorized;
}

void Session::RespondError(http::status status, const char* code, const std::string& detail) {
  unsigned version = 11;
  log_method_ = "-";
  log_target_ = "-";
  if (parser_ && parser_->is_header_done()) {
    version = parser_->get().version();
    log_method_ = std::string(parser_->get().method_string());
    log_target_ = std::string(parser_->get().target().substr(0, kMaxLoggedTarget));
  }
  parser_.reset();
  log_detail_ = detail;
  log_client_.clear();
  outcome_ = RecoveryOutcome();
  // The rest of the request cannot be trusted to be framed: close after.
  Write(MakeErrorResponse(status, code, version, false));
}

void Session::Write(Response response) {
  phase_ = Phase::kWrite;
  response_ = std::move(response);
  keep_alive_ = response_.keep_alive();
  // Counted before the answer leaves, so that a client holding its answer
  // always finds it in the next scrape.
  if (metrics_ != nullptr) {
    metrics_->CountRequest(EndpointOf(log_target_), response_.result_int());
    if (outcome_.recovery) {
      metrics_->CountRecovery(outcome_.kid, outcome_.result, Clock::now() - request_start_);
    }
  }
  Arm(options_.write_timeout);
  http::async_write(stream_, response_,
                    [self = shared_from_this()](error_code ec, size_t) { self->OnWrite(ec); });
}

void Session::OnWrite(error_code ec) {
  LogRequest(ec);
  response_ = Response();
  log_method_.clear();
  log_target_.clear();
  log_detail_.clear();
  if (ec) return Close();
  if (!keep_alive_) return Shutdown();
  WaitForRequest();
}

void Session::LogRequest(const error_code& ec) {
  auto elapsed = Clock::now() - request_start_;
  auto micros = std::chrono::duration_cast<std::chrono::microseconds>(elapsed);
  unsigned status = response_.result_int();
  Endpoint endpoint = EndpointOf(log_target_);
  // The method, target and detail come from the client: escaped, so that
  // they cannot forge lines or send terminal escapes to whoever reads them.
  std::string suffix;
  if (!log_detail_.empty()) suffix = " (" + Printable(log_detail_, /*keep_spaces=*/true) + ")";
  if (ec) suffix += " [write failed: " + (timed_out_ ? std::string("timed out") : ec.message()) + "]";
  std::string line = fmt::format("{} {} {} {} {}us{}", peer_, Printable(log_method_),
                                 Printable(log_target_), status, micros.count(), suffix);
  RequestLogFields fields{peer_, log_client_, outcome_.kid, outcome_.result,
                          EndpointLabel(endpoint), status, micros.count()};
  LogRequestLine(line, fields);
}

void Session::Shutdown() {
  phase_ = Phase::kClosing;
  Arm(options_.write_timeout);
  stream_.async_shutdown([self = shared_from_this()](error_code ec) {
    if (ec) return self->Close();
    self->Linger();
  });
}

// Half-closes and discards what the client still sends for a moment before
// closing, so that closing with unread input (a refused body, a pipelined
// request) does not reset the connection and destroy the answer in flight.
void Session::Linger() {
  error_code ec;
  stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
  if (ec) return Close();
  Arm(std::min(options_.write_timeout, kMaxLinger));
  DiscardInput();
}

void Session::DiscardInput() {
  stream_.socket().async_wait(tcp::socket::wait_read, [self = shared_from_this()](error_code ec) {
    if (ec || self->stream_.cancelled()) return self->Close();
    char discard[1024];
    error_code read_ec;
    size_t n = self->stream_.socket().read_some(net::buffer(discard), read_ec);
    if (read_ec == net::error::would_block) return self->DiscardInput();
    if (read_ec || n == 0) return self->Close();
    self->DiscardInput();
  });
}

void Session::Close() {
  phase_ = Phase::kClosing;
  closed_ = true;
  timer_.cancel();
  stream_.close();
}

}  // namespace petera::peterad
