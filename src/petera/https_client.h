// Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
//
// An asynchronous HTTPS/1.1 client connection on Boost.Beast, made to run
// many at once on one io_context. Each connection has one deadline, the
// server's whole time budget (--timeout): resolving, connecting, the TLS
// handshake and every request share it. OpenSSL does not verify the peer;
// right after the handshake, before a byte of HTTP is sent, the server's
// chain is validated with VerifyTlsChain against the host actually contacted,
// and the OCSP response the server stapled, if any, with CheckStapledOcsp
// (the anchor's OCSP policy decides whether one is asked for and required).
#ifndef PETERA_CLIENT_HTTPS_CLIENT_H_
#define PETERA_CLIENT_HTTPS_CLIENT_H_

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/verb.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cli_io.h"
#include "client_credential.h"
#include "host_resolver.h"
#include "petera/address.h"
#include "petera/result.h"
#include "petera/trust.h"

namespace petera::client {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;

struct ClientSettings {
  std::chrono::seconds timeout{10};  // per server: connect and requests
  const Reporter* reporter = nullptr;  // -v progress lines, may be null
  // Name lookups, each in a thread of its own (host_resolver.h); empty means
  // ResolveWithGetaddrinfo. IP literals are never looked up.
  ResolveFunction resolve;
  // Presented when a server asks for a client certificate; may be null.
  std::shared_ptr<const ClientCredential> credential = nullptr;
};

struct HttpRequest {
  http::verb method = http::verb::get;
  std::string target;
  std::string content_type;  // empty: no body
  std::string body;
  uint64_t body_limit = 64 * 1024;  // largest answer body accepted
};

struct HttpResponse {
  unsigned status = 0;
  std::string content_type;
  std::string body;
};

// A TLS client context: TLS 1.2 at least with ECDHE AEAD suites only, groups
// X25519, P-256 and P-384, OpenSSL verification off (Petera validates the
// chain itself, see above), no compression or renegotiation. With
// `credential`, the client certificate a server may ask for.
Result<std::shared_ptr<asio::ssl::context>> MakeTlsContext(
    const ClientCredential* credential = nullptr);

class HttpsConnection : public std::enable_shared_from_this<HttpsConnection> {
 public:
  using ConnectHandler = std::function<void(Status)>;
  using ResponseHandler = std::function<void(Result<HttpResponse>)>;

  // `anchor` and `tls` must outlive the connection's last handler.
  static std::shared_ptr<HttpsConnection> Create(asio::io_context& io,
                                                 asio::ssl::context& tls,
                                                 const Anchor& anchor, Address address,
                                                 ClientSettings settings);

  // Resolves, connects, completes the handshake and validates the server's
  // TLS chain. The deadline starts with the first call.
  void Connect(ConnectHandler done);
  // Sends one request and reads the answer, connecting first when the
  // connection is not open (first use, or the server closed it).
  void Send(HttpRequest request, ResponseHandler done);
  // Stops everything at once: closes the socket, cancels the timer and
  // abandons a name lookup in flight. No handler is called afterwards.
  void Cancel();

  const Address& address() const { return address_; }

 private:
  using Stream = beast::ssl_stream<beast::tcp_stream>;
  enum class Phase { kResolve, kConnect, kHandshake, kWrite, kRead };

  HttpsConnection(asio::io_context& io, asio::ssl::context& tls, const Anchor& anchor,
                  Address address, ClientSettings settings);

  void Resolve();
  void OnResolved(Result<Endpoints> endpoints);
  void StartConnect();
  void Handshake();
  void VerifyPeer();
  Status CheckOcsp(const VerifiedChain& verified);
  void Write();
  void Read();
  void ReadBody();
  void FailRead(const boost::system::error_code& ec);
  void OnResponse();
  void Close();
  void FinishConnect(Status status);
  void FinishResponse(Result<HttpResponse> response);
  Error NetworkError(Phase phase, const boost::system::error_code& ec) const;
  std::string HostHeader() const;
  void Progress(const std::string& what) const;

  asio::io_context& io_;
  asio::ssl::context& tls_;
  const Anchor& anchor_;
  Address address_;
  ClientSettings settings_;
  std::shared_ptr<HostLookup> lookup_;  // the name lookup in flight, if any
  asio::steady_timer timer_;
  std::optional<Stream> stream_;
  beast::flat_buffer buffer_;
  std::vector<asio::ip::tcp::endpoint> endpoints_;
  HttpRequest pending_;
  http::request<http::string_body> request_;
  std::optional<http::response_parser<http::string_body>> parser_;
  std::chrono::steady_clock::time_point deadline_;
  bool deadline_set_ = false;
  bool open_ = false;
  bool cancelled_ = false;
  ConnectHandler connect_done_;
  ResponseHandler response_done_;
};

}  // namespace petera::client

#endif  // PETERA_CLIENT_HTTPS_CLIENT_H_
