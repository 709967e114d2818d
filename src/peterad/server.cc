// Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
#include "peterad/server.h"

#include <spdlog/spdlog.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <functional>
#include <span>

#include "peterad/session.h"

namespace petera::peterad {
namespace {

bool OutOfResources(const error_code& ec) {
  return ec == net::error::no_descriptors || ec == net::error::no_buffer_space ||
         ec == net::error::no_memory || ec.value() == ENFILE;
}

// At most one log line per second for a recurring condition.
bool RateLimit(std::atomic<int64_t>& last) {
  int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                    std::chrono::steady_clock::now().time_since_epoch())
                    .count();
  int64_t previous = last.load();
  return previous != now && last.compare_exchange_strong(previous, now);
}

std::atomic<int64_t> g_last_refusal_log{0};
std::atomic<int64_t> g_last_client_refusal_log{0};
std::atomic<int64_t> g_last_proxy_error_log{0};
std::atomic<int64_t> g_last_accept_error_log{0};

// Reads the PROXY header that starts a load balancer's connection, and
// not a byte more: peeks at what has arrived, waits briefly while it is an
// incomplete header (a balancer sends it in one write, so this is rare),
// then consumes exactly the header. Bounded by the handshake timeout.
class ProxyReader : public std::enable_shared_from_this<ProxyReader> {
 public:
  using Done = std::function<void(tcp::socket, Result<ProxyHeader>)>;

  ProxyReader(tcp::socket socket, std::chrono::milliseconds timeout, Done done)
      : socket_(std::move(socket)),
        deadline_(socket_.get_executor()),
        retry_(socket_.get_executor()),
        timeout_(timeout),
        done_(std::move(done)) {}

  void Start() {
    error_code ec;
    socket_.non_blocking(true, ec);
    deadline_.expires_after(timeout_);
    deadline_.async_wait([self = shared_from_this()](error_code wait_ec) {
      if (!wait_ec && !self->finished_) {
        self->timed_out_ = true;
        error_code ignored;
        self->socket_.cancel(ignored);
        self->retry_.cancel();
      }
    });
    Wait();
  }

 private:
  void Wait() {
    socket_.async_wait(tcp::socket::wait_read,
                       [self = shared_from_this()](error_code ec) { self->OnReadable(ec); });
  }

  void OnReadable(error_code ec) {
    if (timed_out_) return Fail("no complete PROXY header within the handshake timeout");
    if (ec) return Fail("connection error before the PROXY header: " + ec.message());
    size_t n = socket_.receive(boost::asio::buffer(buffer_), tcp::socket::message_peek, ec);
    if (ec == boost::asio::error::would_block) return Wait();
    if (ec || n == 0) return Fail("connection closed before its PROXY header");
    ProxyParse parsed = ParseProxyHeader(std::span<const uint8_t>(buffer_.data(), n));
    switch (parsed.state) {
      case ProxyParse::State::kInvalid:
        return Fail(parsed.error);
      case ProxyParse::State::kNeedMore:
        retry_.expires_after(std::chrono::milliseconds(5));
        retry_.async_wait([self = shared_from_this()](error_code wait_ec) {
          if (self->timed_out_ || wait_ec) {
            return self->Fail("no complete PROXY header within the handshake timeout");
          }
          self->Wait();
        });
        return;
      case ProxyParse::State::kDone:
        break;
    }
    // The header is all there (it was peeked): take exactly it.
    size_t taken = socket_.receive(boost::asio::buffer(buffer_.data(), parsed.header.length), 0, ec);
    if (ec || taken != parsed.header.length) return Fail("cannot consume the PROXY header");
    Finish(std::move(parsed.header));
  }

  void Fail(const std::string& why) { Finish(Error(ErrorCategory::kProtocol, why)); }

  void Finish(Result<ProxyHeader> header) {
    if (finished_) return;
    finished_ = true;
    deadline_.cancel();
    retry_.cancel();
    done_(std::move(socket_), std::move(header));
  }

  tcp::socket socket_;
  boost::asio::steady_timer deadline_;
  boost::asio::steady_timer retry_;
  std::chrono::milliseconds timeout_;
  Done done_;
  std::array<uint8_t, kProxyPeekBytes> buffer_{};
  bool timed_out_ = false;
  bool finished_ = false;
};

}  // namespace

class Server::Listener : public std::enable_shared_from_this<Listener> {
 public:
  Listener(Server& server, tcp::acceptor acceptor, size_t worker)
      : server_(server),
        acceptor_(std::move(acceptor)),
        worker_(worker),
        pause_(acceptor_.get_executor()) {}

  std::string Address() const {
    error_code ec;
    tcp::endpoint endpoint = acceptor_.local_endpoint(ec);
    return ec ? std::string("(unknown)") : EndpointString(endpoint);
  }

  void Start() {
    net::post(acceptor_.get_executor(), [self = shared_from_this()] { self->Accept(); });
  }

  void Accept() {
    acceptor_.async_accept([self = shared_from_this()](error_code ec, tcp::socket socket) {
      self->OnAccept(ec, std::move(socket));
    });
  }

  // Connections the kernel completed but nobody accepted yet would be reset
  // by the close: take them first (they get one answer each), then close.
  void Stop() {
    net::post(acceptor_.get_executor(), [self = shared_from_this()] {
      error_code ec;
      self->acceptor_.non_blocking(true, ec);
      while (!ec && self->acceptor_.is_open()) {
        tcp::socket socket(self->acceptor_.get_executor());
        self->acceptor_.accept(socket, ec);
        if (!ec) self->server_.Serve(std::move(socket), self->worker_);
      }
      error_code ignored;
      self->acceptor_.close(ignored);
      self->pause_.cancel();
      self->closed_ = true;
    });
  }

  bool closed() const { return closed_; }

 private:
  void OnAccept(error_code ec, tcp::socket socket) {
    if (ec == net::error::operation_aborted || !acceptor_.is_open()) return;
    if (!ec) {
      server_.Serve(std::move(socket), worker_);
      return Accept();
    }
    if (RateLimit(g_last_accept_error_log)) {
      spdlog::warn("accept on {} failed: {}", Address(), ec.message());
    }
    if (!OutOfResources(ec)) return Accept();
    // Out of descriptors or memory: give closing connections a moment.
    pause_.expires_after(std::chrono::milliseconds(100));
    pause_.async_wait([self = shared_from_this()](error_code wait_ec) {
      if (!wait_ec && self->acceptor_.is_open()) self->Accept();
    });
  }

  Server& server_;
  tcp::acceptor acceptor_;
  size_t worker_;
  net::steady_timer pause_;
  std::atomic<bool> closed_{false};
};

Server::Server(std::vector<net::io_context*> workers, ServerOptions options,
               std::shared_ptr<const ServingState> state, std::shared_ptr<Metrics> metrics)
    : workers_(std::move(workers)),
      options_(options),
      state_(std::make_shared<CurrentState>(std::move(state))),
      registry_(std::make_shared<Registry>(options.max_connections,
                                           options.max_connections_per_client, workers_.size())),
      metrics_(std::move(metrics)) {}

Server::~Server() = default;

std::string EndpointString(const tcp::endpoint& endpoint) {
  if (endpoint.address().is_v6()) {
    return "[" + endpoint.address().to_string() + "]:" + std::to_string(endpoint.port());
  }
  return endpoint.address().to_string() + ":" + std::to_string(endpoint.port());
}

Result<tcp::acceptor> OpenListeningSocket(net::io_context& io, const tcp::endpoint& endpoint) {
  tcp::acceptor acceptor(io);
  error_code ec;
  acceptor.open(endpoint.protocol(), ec);
  if (!ec && endpoint.address().is_v6()) acceptor.set_option(net::ip::v6_only(true), ec);
  if (!ec) acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    return Error(ErrorCategory::kUsage,
                 "cannot listen on " + EndpointString(endpoint) + ": " + ec.message());
  }
  return acceptor;
}

Status Server::Listen(const tcp::endpoint& endpoint) {
  std::string where = EndpointString(endpoint);
  PETERA_ASSIGN_OR_RETURN(tcp::acceptor acceptor, OpenListeningSocket(*workers_.front(), endpoint));
  error_code ec;
  int fd = acceptor.release(ec);
  if (ec) return Error(ErrorCategory::kInternal, "cannot listen on " + where + ": " + ec.message());
  return AddListeners(fd, endpoint.protocol(), where);
}

// Each worker watches its own descriptor of the same listening socket, so
// that each can accept without the others.
Status Server::AddListeners(int fd, const tcp& protocol, const std::string& where) {
  for (size_t i = 0; i < workers_.size(); ++i) {
    int own = i + 1 == workers_.size() ? fd : fcntl(fd, F_DUPFD_CLOEXEC, 3);
    if (own < 0) {
      int saved = errno;
      close(fd);
      return Error(ErrorCategory::kInternal,
                   "cannot listen on " + where + ": dup: " + std::strerror(saved));
    }
    tcp::acceptor acceptor(*workers_[i]);
    error_code ec;
    acceptor.assign(protocol, own, ec);
    if (ec) {
      close(own);
      if (own != fd) close(fd);
      return Error(ErrorCategory::kUsage, where + ": " + ec.message());
    }
    listeners_.push_back(std::make_shared<Listener>(*this, std::move(acceptor), i));
  }
  return OkStatus();
}

Status Server::Adopt(int fd) {
  sockaddr_storage address{};
  socklen_t length = sizeof(address);
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    return Error(ErrorCategory::kUsage, "socket " + std::to_string(fd) + " from systemd: " +
                                            std::strerror(errno));
  }
  if (address.ss_family != AF_INET && address.ss_family != AF_INET6) {
    return Error(ErrorCategory::kUsage, "socket " + std::to_string(fd) +
                                            " from systemd is not a TCP/IP socket "
                                            "(use ListenStream=PORT or ADDR:PORT)");
  }
  return AddListeners(fd, address.ss_family == AF_INET6 ? tcp::v6() : tcp::v4(),
                      "socket " + std::to_string(fd) + " from systemd");
}

std::vector<std::string> Server::Addresses() const {
  std::vector<std::string> out;
  for (size_t i = 0; i < listeners_.size(); i += workers_.size()) {
    out.push_back(listeners_[i]->Address());
  }
  return out;
}

void Server::Start() {
  for (const auto& listener : listeners_) {
    listener->Start();
  }
}

void Server::SetState(std::shared_ptr<const ServingState> state) {
  state_->Set(std::move(state));
}

void Server::Stop() {
  for (const auto& listener : listeners_) listener->Stop();
  registry_->StopAll();
}

size_t Server::active_connections() const { return registry_->size(); }

bool Server::Drained() const {
  return registry_->busy() == 0 &&
         std::all_of(listeners_.begin(), listeners_.end(),
                     [](const std::shared_ptr<Listener>& listener) { return listener->closed(); });
}

std::vector<size_t> Server::connections_per_worker() const { return registry_->PerWorker(); }

void Server::Serve(tcp::socket socket, size_t worker) {
  error_code ec;
  tcp::endpoint remote = socket.remote_endpoint(ec);
  if (ec) return;  // gone already
  std::string peer = EndpointString(remote);
  if (registry_->Full()) {
    CountRefusal(worker, Refusal::kMaxConnections);
    if (RateLimit(g_last_refusal_log)) {
      spdlog::warn("{}: refused, {} connections open (--max-connections)", peer,
                   options_.max_connections);
    }
    return;  // the socket closes here, at once
  }
  bool proxied = FromLoadBalancer(remote.address());
  if (!proxied && registry_->ClientFull(ClientKey(remote.address()))) {
    CountRefusal(worker, Refusal::kPerClient);
    LogClientRefusal(peer);
    return;
  }
  // Hand the connection over when another worker serves fewer: the socket
  // moves to that worker's io_context, and from then on lives there alone.
  size_t target = registry_->LeastLoaded(worker);
  if (target != worker) {
    tcp protocol = socket.local_endpoint(ec).protocol();
    int fd = ec ? -1 : socket.release(ec);
    if (fd < 0 || ec) return;  // the connection closes with `socket`
    socket = tcp::socket(*workers_[target]);
    socket.assign(protocol, fd, ec);
    if (ec) {
      close(fd);
      return;
    }
    worker = target;
  }
  if (!proxied) return StartSession(std::move(socket), worker, remote);
  // A load balancer's connection: its PROXY header names the client, which
  // the caps and the logs then see.
  if (!registry_->AddPending()) {
    CountRefusal(worker, Refusal::kMaxConnections);
    return;
  }
  auto reader = std::make_shared<ProxyReader>(
      std::move(socket), options_.handshake_timeout,
      [this, worker, remote, peer](tcp::socket conn, Result<ProxyHeader> header) {
        registry_->RemovePending();
        if (!header.ok()) {
          if (RateLimit(g_last_proxy_error_log)) {
            spdlog::warn("{}: closed, from a --proxy-protocol-from address: {}", peer,
                         header.error().message());
          }
          return;
        }
        tcp::endpoint client = header->source.value_or(remote);
        if (registry_->ClientFull(ClientKey(client.address()))) {
          CountRefusal(worker, Refusal::kPerClient);
          LogClientRefusal(EndpointString(client));
          return;
        }
        StartSession(std::move(conn), worker, client);
      });
  reader->Start();
}

void Server::StartSession(tcp::socket socket, size_t worker, const tcp::endpoint& remote) {
  std::string peer = EndpointString(remote);
  error_code ec;
  socket.set_option(tcp::no_delay(true), ec);
  // The TLS session keeps this context (SSL_new holds a reference to it);
  // the keys are looked up again for every request.
  SslPtr ssl(SSL_new(state_->Get()->tls.get()));
  if (!ssl) {
    spdlog::warn("{}: cannot create a TLS session: {}", peer, DrainSslErrors());
    return;
  }
  auto stream = TlsStream::Create(std::move(socket), std::move(ssl));
  if (!stream.ok()) {
    spdlog::warn("{}: {}", peer, stream.error().message());
    return;
  }
  auto session = std::make_shared<Session>(std::move(stream).value(), state_, options_,
                                           registry_, peer,
                                           metrics_ ? &metrics_->shard(worker) : nullptr);
  switch (registry_->Add(session, worker, ClientKey(remote.address()))) {
    case Registry::Admission::kAdmitted:
      session->Start();
      // Stopping: StopAll() may have run before this session was added.
      if (registry_->stopping()) session->Stop();
      break;
    case Registry::Admission::kClientFull:
      CountRefusal(worker, Refusal::kPerClient);
      LogClientRefusal(peer);
      break;
    case Registry::Admission::kFull:
      CountRefusal(worker, Refusal::kMaxConnections);
      break;
  }
}

bool Server::FromLoadBalancer(const boost::asio::ip::address& address) const {
  return std::any_of(options_.proxy_protocol_from.begin(), options_.proxy_protocol_from.end(),
                     [&](const Cidr& range) { return range.Contains(address); });
}

void Server::CountRefusal(size_t worker, Refusal why) const {
  if (metrics_) metrics_->shard(worker).CountRefusal(why);
}

void Server::LogClientRefusal(const std::string& peer) const {
  if (RateLimit(g_last_client_refusal_log)) {
    spdlog::warn("{}: refused, this client address holds {} connections already "
                 "(--max-connections-per-client)",
                 peer, options_.max_connections_per_client);
  }
}

Result<tcp::endpoint> ParseListenAddress(const std::string& text) {
  std::string host;
  std::string port_text;
  if (!text.empty() && text.front() == '[') {
    size_t close = text.find("]:");
    if (close == std::string::npos) {
      return Error(ErrorCategory::kUsage, "--listen " + text + ": write IPv6 as [ADDR]:PORT");
    }
    host = text.substr(1, close - 1);
    port_text = text.substr(close + 2);
  } else {
    size_t colon = text.rfind(':');
    if (colon == std::string::npos || text.find(':') != colon) {
      return Error(ErrorCategory::kUsage,
                   "--listen " + text + ": expected ADDR:PORT or [IPv6]:PORT");
    }
    host = text.substr(0, colon);
    port_text = text.substr(colon + 1);
  }
  unsigned port = 0;
  auto [end, err] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (err != std::errc() || end != port_text.data() + port_text.size() || port == 0 ||
      port > 65535) {
    return Error(ErrorCategory::kUsage, "--listen " + text + ": bad port '" + port_text + "'");
  }
  error_code ec;
  net::ip::address address = net::ip::make_address(host, ec);
  if (ec) {
    return Error(ErrorCategory::kUsage,
                 "--listen " + text + ": '" + host + "' is not an IP address");
  }
  return tcp::endpoint(address, static_cast<unsigned short>(port));
}

}  // namespace petera::peterad
