// Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
#include "https_client.h"

#include <openssl/ssl.h>

#include <boost/asio/error.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <ctime>
#include <optional>
#include <string_view>
#include <utility>

#include "petera/ocsp.h"
#include "petera/ossl.h"
#include "petera/tls_policy.h"

#ifndef PETERA_VERSION
#define PETERA_VERSION "0"
#endif

namespace petera::client {
namespace {

using tcp = asio::ip::tcp;
using ErrorCode = boost::system::error_code;

constexpr uint32_t kHeaderLimit = 16 * 1024;
constexpr unsigned char kAlpnHttp11[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};

const char* PhaseName(int phase) {
  static const char* const kNames[] = {"resolving the host name", "connecting",
                                       "in the TLS handshake", "sending the request",
                                       "waiting for the answer"};
  return kNames[phase];
}

bool IsClosedByPeer(const ErrorCode& ec) {
  return ec == asio::error::eof || ec == asio::error::connection_reset ||
         ec == asio::ssl::error::stream_truncated || ec == beast::http::error::end_of_stream ||
         ec == asio::error::broken_pipe;
}

int RefuseOpensslVerification(X509_STORE_CTX* store, void* /*arg*/) {
  X509_STORE_CTX_set_error(store, X509_V_ERR_APPLICATION_VERIFICATION);
  return 0;
}

}  // namespace

Result<std::shared_ptr<asio::ssl::context>> MakeTlsContext(const ClientCredential* credential) {
  try {
    std::shared_ptr<asio::ssl::context> ctx;
    if (credential != nullptr && credential->tpm) {
      // Signatures with the TPM key go to the tpm2 provider.
      SSL_CTX* raw = SSL_CTX_new_ex(nullptr, kTpmPropertyQuery, TLS_client_method());
      if (raw == nullptr) return SslError("cannot create the TLS context");
      ctx = std::make_shared<asio::ssl::context>(raw);
    } else {
      ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
    }
    SSL_CTX* native = ctx->native_handle();
    PETERA_TRY(ApplyTlsPolicy(native));
    // Peer validation is Petera's own (VerifyTlsChain), right after the
    // handshake; OpenSSL's default store must play no part in it. Under
    // SSL_VERIFY_NONE OpenSSL would still build and check a chain against
    // that store, and ignore the result: the callback stands in for its
    // X509_verify_cert and fails, so that the work is skipped and nothing
    // could ever pass on OpenSSL's word were the mode changed.
    SSL_CTX_set_verify(native, SSL_VERIFY_NONE, nullptr);
    SSL_CTX_set_cert_verify_callback(native, RefuseOpensslVerification, nullptr);
    if (credential != nullptr) PETERA_TRY(UseClientCredential(native, *credential));
    return ctx;
  } catch (const boost::system::system_error& e) {
    return Error(ErrorCategory::kInternal,
                 std::string("cannot create the TLS context: ") + e.what());
  }
}

std::shared_ptr<HttpsConnection> HttpsConnection::Create(asio::io_context& io,
                                                         asio::ssl::context& tls,
                                                         const Anchor& anchor,
                                                         Address address,
                                                         ClientSettings settings) {
  return std::shared_ptr<HttpsConnection>(
      new HttpsConnection(io, tls, anchor, std::move(address), std::move(settings)));
}

HttpsConnection::HttpsConnection(asio::io_context& io, asio::ssl::context& tls,
                                 const Anchor& anchor, Address address,
                                 ClientSettings settings)
    : io_(io),
      tls_(tls),
      anchor_(anchor),
      address_(std::move(address)),
      settings_(std::move(settings)),
      timer_(io) {}

void HttpsConnection::Progress(const std::string& what) const {
  if (settings_.reporter != nullptr) settings_.reporter->Progress(address_.ToString(), what);
}

void HttpsConnection::Connect(ConnectHandler done) {
  connect_done_ = std::move(done);
  if (!deadline_set_) {
    deadline_ = std::chrono::steady_clock::now() + settings_.timeout;
    deadline_set_ = true;
  }
  Close();
  endpoints_.clear();
  if (!address_.host_is_ip()) return Resolve();
  ErrorCode ec;
  auto ip = asio::ip::make_address(address_.host, ec);
  if (ec) {
    return FinishConnect(Error(ErrorCategory::kUsage, "invalid IP address " + address_.host));
  }
  endpoints_.emplace_back(ip, address_.port);
  StartConnect();
}

void HttpsConnection::Resolve() {
  Progress("resolving " + address_.host);
  const ResolveFunction& resolve =
      settings_.resolve ? settings_.resolve : ResolveFunction(ResolveWithGetaddrinfo);
  auto lookup = HostLookup::Start(io_, resolve, address_.host, address_.port,
                                  [self = shared_from_this()](Result<Endpoints> endpoints) {
                                    self->OnResolved(std::move(endpoints));
                                  });
  if (!lookup.ok()) return FinishConnect(lookup.error());
  lookup_ = std::move(lookup).value();
  timer_.expires_at(deadline_);
  timer_.async_wait([self = shared_from_this()](const ErrorCode& ec) {
    if (ec || !self->lookup_ || self->cancelled_) return;
    // The lookup's thread is left to finish on its own; its answer is dropped.
    self->lookup_->Abandon();
    self->lookup_.reset();
    self->FinishConnect(self->NetworkError(Phase::kResolve, beast::error::timeout));
  });
}

void HttpsConnection::OnResolved(Result<Endpoints> endpoints) {
  lookup_.reset();
  if (cancelled_) return;
  timer_.cancel();
  if (!endpoints.ok()) return FinishConnect(endpoints.error());
  endpoints_ = std::move(endpoints).value();
  StartConnect();
}

void HttpsConnection::StartConnect() {
  Progress("connecting");
  try {
    stream_.emplace(io_, tls_);
  } catch (const boost::system::system_error& e) {
    return FinishConnect(Error(ErrorCategory::kInternal,
                               std::string("cannot create a TLS stream: ") + e.what()));
  }
  auto& tcp_stream = beast::get_lowest_layer(*stream_);
  tcp_stream.expires_at(deadline_);
  tcp_stream.async_connect(endpoints_, [self = shared_from_this()](const ErrorCode& ec,
                                                                   const tcp::endpoint&) {
    if (self->cancelled_) return;
    if (ec) return self->FinishConnect(self->NetworkError(Phase::kConnect, ec));
    self->Handshake();
  });
}

void HttpsConnection::Handshake() {
  SSL* ssl = stream_->native_handle();
  if (!address_.host_is_ip()) {
    // SSL_set_tlsext_host_name without the macro's C cast.
    if (SSL_ctrl(ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
                 const_cast<char*>(address_.host.c_str())) != 1) {
      return FinishConnect(SslError("cannot set the TLS server name"));
    }
  }
  if (SSL_set_alpn_protos(ssl, kAlpnHttp11, sizeof(kAlpnHttp11)) != 0) {
    return FinishConnect(SslError("cannot set ALPN"));
  }
  // Ask for the server's stapled OCSP response (SSL_set_tlsext_status_type
  // without the macro's C cast).
  if (anchor_.ocsp_policy() != OcspPolicy::kOff &&
      SSL_ctrl(ssl, SSL_CTRL_SET_TLSEXT_STATUS_REQ_TYPE, TLSEXT_STATUSTYPE_ocsp, nullptr) != 1) {
    return FinishConnect(SslError("cannot ask for a stapled OCSP response"));
  }
  beast::get_lowest_layer(*stream_).expires_at(deadline_);
  stream_->async_handshake(asio::ssl::stream_base::client,
                           [self = shared_from_this()](const ErrorCode& ec) {
                             if (self->cancelled_) return;
                             if (ec) {
                               return self->FinishConnect(
                                   self->NetworkError(Phase::kHandshake, ec));
                             }
                             self->VerifyPeer();
                           });
}

void HttpsConnection::VerifyPeer() {
  STACK_OF(X509)* peer = SSL_get_peer_cert_chain(stream_->native_handle());
  if (peer == nullptr || sk_X509_num(peer) == 0) {
    Close();
    return FinishConnect(Error(ErrorCategory::kProtocol, "server sent no TLS certificate"));
  }
  std::vector<X509Ptr> chain;
  for (int i = 0; i < sk_X509_num(peer); ++i) {
    X509* cert = sk_X509_value(peer, i);
    X509_up_ref(cert);
    chain.emplace_back(cert);
  }
  auto verified = VerifyTlsChain(anchor_, chain, address_.host);
  if (!verified.ok()) {
    Close();
    return FinishConnect(verified.error().Wrap("TLS certificate not trusted"));
  }
  Progress("TLS certificate trusted: " + verified->Describe());
  if (Status ocsp = CheckOcsp(*verified); !ocsp.ok()) {
    Close();
    return FinishConnect(ocsp.error().Wrap("TLS certificate not trusted"));
  }
  open_ = true;
  FinishConnect(OkStatus());
}

// The stapled OCSP response, checked against the chain just validated (the
// leaf's issuer is the next certificate of the path, which ends at the
// anchor).
Status HttpsConnection::CheckOcsp(const VerifiedChain& verified) {
  std::optional<std::string_view> stapled;
  if (anchor_.ocsp_policy() != OcspPolicy::kOff) {
    unsigned char* der = nullptr;
    long length = SSL_ctrl(stream_->native_handle(), SSL_CTRL_GET_TLSEXT_STATUS_REQ_OCSP_RESP, 0,
                           &der);
    if (der != nullptr && length > 0) {
      stapled.emplace(reinterpret_cast<const char*>(der), static_cast<size_t>(length));
    }
  }
  X509* issuer = verified.chain.size() > 1 ? verified.chain[1].get() : nullptr;
  PETERA_ASSIGN_OR_RETURN(std::optional<OcspStatus> status,
                          CheckStapledOcsp(anchor_.ocsp_policy(), stapled, verified.leaf(),
                                           issuer, std::time(nullptr)));
  if (status) Progress("stapled OCSP response: " + status->Describe());
  return OkStatus();
}

void HttpsConnection::Send(HttpRequest request, ResponseHandler done) {
  pending_ = std::move(request);
  response_done_ = std::move(done);
  if (open_) return Write();
  Connect([self = shared_from_this()](Status status) {
    if (!status.ok()) return self->FinishResponse(status.error());
    self->Write();
  });
}

std::string HttpsConnection::HostHeader() const { return address_.ToString(); }

void HttpsConnection::Write() {
  request_ = {};
  request_.method(pending_.method);
  request_.target(pending_.target);
  request_.version(11);
  request_.set(http::field::host, HostHeader());
  request_.set(http::field::user_agent, "petera/" PETERA_VERSION);
  if (!pending_.content_type.empty()) {
    request_.set(http::field::content_type, pending_.content_type);
    request_.body() = std::move(pending_.body);
  }
  request_.keep_alive(true);
  request_.prepare_payload();
  beast::get_lowest_layer(*stream_).expires_at(deadline_);
  http::async_write(*stream_, request_,
                    [self = shared_from_this()](const ErrorCode& ec, size_t) {
                      if (self->cancelled_) return;
                      if (ec) {
                        self->Close();
                        return self->FinishResponse(self->NetworkError(Phase::kWrite, ec));
                      }
                      self->Read();
                    });
}

// The header is read on its own first: Beast 1.74's eager parsing of a
// response loses the body_limit error of a too-long Content-Length, so the
// length is checked here before the body is read.
void HttpsConnection::Read() {
  parser_.emplace();
  parser_->header_limit(kHeaderLimit);
  parser_->body_limit(pending_.body_limit);
  beast::get_lowest_layer(*stream_).expires_at(deadline_);
  http::async_read_header(*stream_, buffer_, *parser_,
                          [self = shared_from_this()](const ErrorCode& ec, size_t) {
                            if (self->cancelled_) return;
                            if (ec) return self->FailRead(ec);
                            auto length = self->parser_->content_length();
                            if (length && *length > self->pending_.body_limit) {
                              return self->FailRead(http::error::body_limit);
                            }
                            self->ReadBody();
                          });
}

void HttpsConnection::ReadBody() {
  beast::get_lowest_layer(*stream_).expires_at(deadline_);
  http::async_read(*stream_, buffer_, *parser_,
                   [self = shared_from_this()](const ErrorCode& ec, size_t) {
                     if (self->cancelled_) return;
                     if (ec) return self->FailRead(ec);
                     self->OnResponse();
                   });
}

void HttpsConnection::FailRead(const ErrorCode& ec) {
  Close();
  FinishResponse(NetworkError(Phase::kRead, ec));
}

void HttpsConnection::OnResponse() {
  auto& message = parser_->get();
  if (message.body().size() > pending_.body_limit) return FailRead(http::error::body_limit);
  HttpResponse response;
  response.status = message.result_int();
  response.content_type = std::string(message[http::field::content_type]);
  response.body = std::move(message.body());
  if (!message.keep_alive()) Close();
  parser_.reset();
  FinishResponse(std::move(response));
}

void HttpsConnection::Close() {
  open_ = false;
  buffer_.clear();
  if (stream_) beast::get_lowest_layer(*stream_).close();
}

void HttpsConnection::Cancel() {
  if (cancelled_) return;
  cancelled_ = true;
  // The handlers may hold their owner, which holds this connection.
  connect_done_ = nullptr;
  response_done_ = nullptr;
  timer_.cancel();
  if (lookup_) lookup_->Abandon();
  lookup_.reset();
  Close();
}

// Completions are posted, never run inside the call that started the
// operation, so that callers see one order of events.
void HttpsConnection::FinishConnect(Status status) {
  ConnectHandler done = std::move(connect_done_);
  connect_done_ = nullptr;
  if (!done) return;
  asio::post(io_, [self = shared_from_this(), done = std::move(done),
                   status = std::move(status)]() {
    if (!self->cancelled_) done(status);
  });
}

void HttpsConnection::FinishResponse(Result<HttpResponse> response) {
  ResponseHandler done = std::move(response_done_);
  response_done_ = nullptr;
  if (!done) return;
  asio::post(io_, [self = shared_from_this(), done = std::move(done),
                   response = std::move(response)]() mutable {
    if (!self->cancelled_) done(std::move(response));
  });
}

Error HttpsConnection::NetworkError(Phase phase, const ErrorCode& ec) const {
  DrainSslErrors();
  const char* where = PhaseName(static_cast<int>(phase));
  if (ec == beast::error::timeout) {
    return Error(ErrorCategory::kNetwork, "timed out after " +
                                              std::to_string(settings_.timeout.count()) +
                                              " s " + where);
  }
  switch (phase) {
    case Phase::kResolve:  // only its timeout comes here
      return Error(ErrorCategory::kNetwork, "cannot resolve " + address_.host + ": " + ec.message());
    case Phase::kConnect:
      return Error(ErrorCategory::kNetwork, "cannot connect: " + ec.message());
    case Phase::kHandshake:
      if (IsClosedByPeer(ec)) {
        return Error(ErrorCategory::kNetwork, "connection closed in the TLS handshake");
      }
      return Error(ErrorCategory::kProtocol, "TLS handshake failed: " + ec.message());
    case Phase::kWrite:
      return Error(ErrorCategory::kNetwork, "cannot send the request: " + ec.message());
    case Phase::kRead:
      if (ec.category() == http::make_error_code(http::error::body_limit).category() &&
          ec != http::error::end_of_stream && ec != http::error::partial_message) {
        return Error(ErrorCategory::kProtocol, "malformed answer: " + ec.message());
      }
      if (IsClosedByPeer(ec) || ec == http::error::partial_message) {
        return Error(ErrorCategory::kNetwork, "connection closed before the answer");
      }
      return Error(ErrorCategory::kNetwork, "cannot read the answer: " + ec.message());
  }
  return Error(ErrorCategory::kNetwork, ec.message());
}

}  // namespace petera::client
