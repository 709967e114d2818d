// Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
#include "peterad/metrics_listener.h"

#include <spdlog/spdlog.h>

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <chrono>
#include <optional>
#include <unordered_set>

#include "peterad/server.h"

namespace petera::peterad {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;
using error_code = boost::system::error_code;

constexpr std::chrono::seconds kRequestTimeout{10};
constexpr size_t kMaxConnections = 32;
constexpr std::uint32_t kHeaderLimit = 8192;
constexpr char kContentType[] = "text/plain; version=0.0.4; charset=utf-8";

}  // namespace

class MetricsListener::Impl : public std::enable_shared_from_this<MetricsListener::Impl> {
 public:
  Impl(tcp::acceptor acceptor, Render render)
      : acceptor_(std::move(acceptor)), render_(std::move(render)) {}

  void Accept() {
    acceptor_.async_accept([self = shared_from_this()](error_code ec, tcp::socket socket) {
      if (ec == net::error::operation_aborted || !self->acceptor_.is_open()) return;
      if (!ec) self->Serve(std::move(socket));
      self->Accept();
    });
  }

  void Stop() {
    error_code ignored;
    acceptor_.close(ignored);
    for (const auto& connection : connections_) connection->stream.close();
  }

  std::string Address() const {
    error_code ec;
    tcp::endpoint local = acceptor_.local_endpoint(ec);
    return ec ? std::string("?") : EndpointString(local);
  }

 private:
  struct Connection {
    explicit Connection(tcp::socket socket) : stream(std::move(socket)) {}
    beast::tcp_stream stream;
    beast::flat_buffer buffer;
    std::optional<http::request_parser<http::empty_body>> parser;
    http::response<http::string_body> response;
  };

  void Serve(tcp::socket socket) {
    if (connections_.size() >= kMaxConnections) return;  // closed at once
    auto connection = std::make_shared<Connection>(std::move(socket));
    connections_.insert(connection);
    Read(connection);
  }

  void Read(const std::shared_ptr<Connection>& c) {
    c->parser.emplace();
    c->parser->header_limit(kHeaderLimit);
    c->parser->body_limit(0);
    c->stream.expires_after(kRequestTimeout);
    http::async_read(c->stream, c->buffer, *c->parser,
                     [self = shared_from_this(), c](error_code ec, size_t) {
                       if (ec) return self->Close(c);
                       self->Respond(c);
                     });
  }

  void Respond(const std::shared_ptr<Connection>& c) {
    const auto& request = c->parser->get();
    auto& response = c->response;
    response = {};
    response.version(request.version());
    response.set(http::field::server, "peterad");
    response.keep_alive(request.keep_alive());
    std::string_view target = request.target();
    target = target.substr(0, target.find('?'));
    bool get = request.method() == http::verb::get || request.method() == http::verb::head;
    if (target != "/metrics") {
      response.result(http::status::not_found);
      response.set(http::field::content_type, "text/plain; charset=utf-8");
      response.body() = "peterad: metrics are at /metrics\n";
    } else if (!get) {
      response.result(http::status::method_not_allowed);
      response.set(http::field::allow, "GET, HEAD");
    } else {
      response.result(http::status::ok);
      response.set(http::field::content_type, kContentType);
      response.body() = render_();
    }
    response.prepare_payload();
    if (request.method() == http::verb::head) {
      size_t length = response.body().size();
      response.body().clear();
      response.content_length(length);
    }
    http::async_write(c->stream, response, [self = shared_from_this(), c](error_code ec, size_t) {
      if (ec || !c->response.keep_alive()) return self->Close(c);
      self->Read(c);
    });
  }

  void Close(const std::shared_ptr<Connection>& c) {
    error_code ignored;
    c->stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
    c->stream.close();
    connections_.erase(c);
  }

  tcp::acceptor acceptor_;
  Render render_;
  // All on the listener's one thread: no lock.
  std::unordered_set<std::shared_ptr<Connection>> connections_;
};

Result<std::unique_ptr<MetricsListener>> MetricsListener::Create(net::io_context& io,
                                                                 const tcp::endpoint& endpoint,
                                                                 Render render) {
  auto acceptor = OpenListeningSocket(io, endpoint);
  if (!acceptor.ok()) {
    return Error(ErrorCategory::kUsage, "--metrics: " + acceptor.error().message());
  }
  return std::unique_ptr<MetricsListener>(new MetricsListener(
      std::make_shared<Impl>(std::move(acceptor).value(), std::move(render))));
}

MetricsListener::~MetricsListener() { Stop(); }

void MetricsListener::Start() { impl_->Accept(); }

void MetricsListener::Stop() { impl_->Stop(); }

std::string MetricsListener::Address() const { return impl_->Address(); }

}  // namespace petera::peterad
