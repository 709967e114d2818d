// Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
//
// HttpsConnection against small in-process servers on loopback: a TLS
// server answering from a fixed text, one that only accepts TCP, and a closed
// port. Host names are resolved by fakes that answer 127.0.0.1 or hang.
#include "https_client.h"

#include <gtest/gtest.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>

#include "cert_factory.h"
#include "petera/pem.h"

namespace petera::client {
namespace {

using tcp = asio::ip::tcp;
using testing::Issue;
using testing::Issued;

// A one-connection TLS server that reads one request header and answers
// `answer`. It records how many bytes of application data it received.
class TinyTlsServer {
 public:
  // `configure` may restrict the server's TLS versions, suites or groups.
  TinyTlsServer(asio::io_context& io, const Issued& leaf, const Issued& issuer, std::string answer,
                const std::function<void(SSL_CTX*)>& configure = nullptr)
      : ctx_(asio::ssl::context::tls_server),
        acceptor_(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)),
        answer_(std::move(answer)) {
    SSL_CTX* native = ctx_.native_handle();
    if (configure) configure(native);
    SSL_CTX_use_certificate(native, leaf.cert.get());
    X509_up_ref(issuer.cert.get());
    SSL_CTX_add1_chain_cert(native, issuer.cert.get());
    X509_free(issuer.cert.get());
    SSL_CTX_use_PrivateKey(native, leaf.key.get());
    acceptor_.async_accept([this](const boost::system::error_code& ec, tcp::socket socket) {
      if (ec) return;
      stream_.emplace(std::move(socket), ctx_);
      stream_->async_handshake(asio::ssl::stream_base::server,
                               [this](const boost::system::error_code& hec) {
                                 if (!hec) ReadRequest();
                               });
    });
  }

  uint16_t port() const { return acceptor_.local_endpoint().port(); }
  size_t bytes_received() const { return bytes_received_; }

 private:
  void ReadRequest() {
    asio::async_read_until(*stream_, request_, "\r\n\r\n",
                           [this](const boost::system::error_code& ec, size_t n) {
                             bytes_received_ += request_.size();
                             if (ec || n == 0) return;
                             asio::async_write(*stream_, asio::buffer(answer_),
                                               [](const boost::system::error_code&, size_t) {});
                           });
  }

  asio::ssl::context ctx_;
  tcp::acceptor acceptor_;
  std::optional<asio::ssl::stream<tcp::socket>> stream_;
  asio::streambuf request_;
  std::string answer_;
  size_t bytes_received_ = 0;
};

class HttpsConnectionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = Issue({.cn = "Root", .ca = true, .pathlen = 1}, nullptr);
    inter_ = Issue({.cn = "Intermediate", .ca = true, .pathlen = 0}, &root_);
    leaf_ = Issue({.cn = "server",
                   .sans = {"IP:127.0.0.1", "DNS:localhost", "DNS:fast.test", "DNS:slow.test"},
                   .eku = "serverAuth"},
                  &inter_);
    tls_ = MakeTlsContext().value();
  }

  Anchor AnchorOf(const Issued& root) {
    return Anchor::FromPem(CertificateToPem(root.cert.get()).value(), "anchor").value();
  }

  // Sends GET / to 127.0.0.1:port and runs until the answer or error.
  Result<HttpResponse> Get(const Anchor& anchor, uint16_t port, uint64_t body_limit = 65536,
                           std::chrono::seconds timeout = std::chrono::seconds(10)) {
    return GetFrom(anchor, Address{"127.0.0.1", port}, ClientSettings{timeout, nullptr, {}},
                   body_limit);
  }

  Result<HttpResponse> GetFrom(const Anchor& anchor, Address address, ClientSettings settings,
                               uint64_t body_limit = 65536) {
    std::optional<Result<HttpResponse>> result;
    auto connection = HttpsConnection::Create(io_, *tls_, anchor, std::move(address),
                                              std::move(settings));
    HttpRequest request;
    request.target = "/v1/chain";
    request.body_limit = body_limit;
    connection->Send(std::move(request), [&](Result<HttpResponse> r) {
      result = std::move(r);
      io_.stop();
    });
    io_.run();
    io_.restart();
    if (!result) return Error(ErrorCategory::kInternal, "no result");
    return std::move(*result);
  }

  asio::io_context io_;
  std::shared_ptr<asio::ssl::context> tls_;
  Issued root_, inter_, leaf_;
};

TEST_F(HttpsConnectionTest, ReadsAnAnswerFromATrustedServer) {
  TinyTlsServer server(io_, leaf_, inter_,
                       "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                       "Content-Length: 5\r\n\r\nhello");
  auto answer = Get(AnchorOf(root_), server.port());
  ASSERT_TRUE(answer.ok()) << answer.error().message();
  EXPECT_EQ(answer->status, 200u);
  EXPECT_EQ(answer->content_type, "text/plain");
  EXPECT_EQ(answer->body, "hello");
  EXPECT_GT(server.bytes_received(), 0u);
}

TEST_F(HttpsConnectionTest, SendsNothingToAServerOutsideTheAnchor) {
  TinyTlsServer server(io_, leaf_, inter_, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
  Issued other = Issue({.cn = "Other Root", .ca = true}, nullptr);
  auto answer = Get(AnchorOf(other), server.port());
  ASSERT_FALSE(answer.ok());
  EXPECT_EQ(answer.error().category(), ErrorCategory::kTrust);
  EXPECT_NE(answer.error().message().find("TLS certificate not trusted"), std::string::npos);
  io_.poll();  // let the server see the connection close
  EXPECT_EQ(server.bytes_received(), 0u);
}

TEST_F(HttpsConnectionTest, RefusesAnAnswerOverTheBodyLimit) {
  std::string body(5000, 'a');
  TinyTlsServer server(io_, leaf_, inter_,
                       "HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n" + body);
  auto answer = Get(AnchorOf(root_), server.port(), 1024);
  ASSERT_FALSE(answer.ok()) << answer->status << " " << answer->body.size();
  EXPECT_EQ(answer.error().category(), ErrorCategory::kProtocol);
}

TEST_F(HttpsConnectionTest, RefusesAChunkedAnswerOverTheBodyLimit) {
  std::string chunk(5000, 'a');
  TinyTlsServer server(io_, leaf_, inter_,
                       "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1388\r\n" + chunk +
                           "\r\n0\r\n\r\n");
  auto answer = Get(AnchorOf(root_), server.port(), 1024);
  ASSERT_FALSE(answer.ok());
  EXPECT_EQ(answer.error().category(), ErrorCategory::kProtocol);
}

TEST_F(HttpsConnectionTest, RefusesAMalformedAnswer) {
  TinyTlsServer server(io_, leaf_, inter_, "SMTP ready\r\n\r\n");
  auto answer = Get(AnchorOf(root_), server.port());
  ASSERT_FALSE(answer.ok());
  EXPECT_EQ(answer.error().category(), ErrorCategory::kProtocol);
}

TEST_F(HttpsConnectionTest, GivesUpOnAServerThatNeverAnswers) {
  // Accepts TCP (the kernel completes the handshake) but never speaks TLS.
  tcp::acceptor silent(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  auto answer = Get(AnchorOf(root_), silent.local_endpoint().port(), 65536,
                    std::chrono::seconds(1));
  ASSERT_FALSE(answer.ok());
  EXPECT_EQ(answer.error().category(), ErrorCategory::kNetwork);
  EXPECT_NE(answer.error().message().find("timed out after 1 s"), std::string::npos);
}

TEST_F(HttpsConnectionTest, ReportsARefusedConnection) {
  uint16_t port = 0;
  {
    tcp::acceptor closed(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    port = closed.local_endpoint().port();
  }
  auto answer = Get(AnchorOf(root_), port);
  ASSERT_FALSE(answer.ok());
  EXPECT_EQ(answer.error().category(), ErrorCategory::kNetwork);
  EXPECT_NE(answer.error().message().find("cannot connect"), std::string::npos);
}

// A resolver fake: every name is 127.0.0.1 except `hanging`, whose lookup
// blocks until Release(). Shared with the lookup threads, which may outlive
// the test's io_context.
class FakeDns : public std::enable_shared_from_this<FakeDns> {
 public:
  explicit FakeDns(std::string hanging) : hanging_(std::move(hanging)) {}

  ResolveFunction Function() {
    return [self = shared_from_this()](const std::string& host, uint16_t port) {
      return self->Resolve(host, port);
    };
  }
  void Release() {
    std::lock_guard lock(mutex_);
    released_ = true;
    cv_.notify_all();
  }
  int lookups() const { return lookups_; }
  bool hung() const { return hung_; }

 private:
  Result<Endpoints> Resolve(const std::string& host, uint16_t port) {
    ++lookups_;
    if (host == hanging_) {
      hung_ = true;
      std::unique_lock lock(mutex_);
      cv_.wait(lock, [this] { return released_; });
      return Error(ErrorCategory::kNetwork, "cannot resolve " + host + ": released");
    }
    return Endpoints{tcp::endpoint(asio::ip::make_address("127.0.0.1"), port)};
  }

  std::string hanging_;
  std::atomic<int> lookups_{0};
  std::atomic<bool> hung_{false};
  std::mutex mutex_;
  std::condition_variable cv_;
  bool released_ = false;
};

const char* const kHello = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";

TEST_F(HttpsConnectionTest, NeverLooksUpAnIpLiteral) {
  TinyTlsServer server(io_, leaf_, inter_, kHello);
  auto dns = std::make_shared<FakeDns>("");
  auto answer = GetFrom(AnchorOf(root_), Address{"127.0.0.1", server.port()},
                        ClientSettings{std::chrono::seconds(10), nullptr, dns->Function()});
  ASSERT_TRUE(answer.ok()) << answer.error().message();
  EXPECT_EQ(dns->lookups(), 0);
}

TEST_F(HttpsConnectionTest, LooksUpAHostNameWithTheGivenResolver) {
  TinyTlsServer server(io_, leaf_, inter_, kHello);
  auto dns = std::make_shared<FakeDns>("");
  auto answer = GetFrom(AnchorOf(root_), Address{"fast.test", server.port()},
                        ClientSettings{std::chrono::seconds(10), nullptr, dns->Function()});
  ASSERT_TRUE(answer.ok()) << answer.error().message();
  EXPECT_EQ(answer->body, "hello");
  EXPECT_EQ(dns->lookups(), 1);
}

TEST_F(HttpsConnectionTest, AHangingLookupDoesNotHoldUpAnotherServer) {
  TinyTlsServer server(io_, leaf_, inter_, kHello);
  auto dns = std::make_shared<FakeDns>("slow.test");
  ClientSettings settings{std::chrono::seconds(3600), nullptr, dns->Function()};
  Anchor anchor = AnchorOf(root_);
  // The hanging lookup starts first; with one lookup thread for both, the
  // second would wait behind it (for the hour of the timeout).
  auto slow = HttpsConnection::Create(io_, *tls_, anchor, Address{"slow.test", server.port()},
                                      settings);
  bool slow_done = false;
  slow->Connect([&](Status) { slow_done = true; });
  auto answer = GetFrom(anchor, Address{"fast.test", server.port()}, settings);
  ASSERT_TRUE(answer.ok()) << answer.error().message();
  EXPECT_EQ(answer->body, "hello");
  EXPECT_FALSE(slow_done);
  slow->Cancel();
  dns->Release();
  io_.poll();
  EXPECT_FALSE(slow_done);
}

TEST_F(HttpsConnectionTest, GivesUpOnALookupThatHangs) {
  auto dns = std::make_shared<FakeDns>("slow.test");
  auto answer = GetFrom(AnchorOf(root_), Address{"slow.test", 5700},
                        ClientSettings{std::chrono::seconds(1), nullptr, dns->Function()});
  // The lookup is still blocked: the deadline did not wait for it.
  EXPECT_TRUE(dns->hung());
  dns->Release();
  ASSERT_FALSE(answer.ok());
  EXPECT_EQ(answer.error().category(), ErrorCategory::kNetwork);
  EXPECT_NE(answer.error().message().find("timed out after 1 s resolving the host name"),
            std::string::npos)
      << answer.error().message();
}

TEST_F(HttpsConnectionTest, ReportsAFailedLookup) {
  auto dns = std::make_shared<FakeDns>("");
  auto answer = GetFrom(AnchorOf(root_), Address{"name.invalid", 5700},
                        ClientSettings{std::chrono::seconds(10), nullptr,
                                       [](const std::string& host, uint16_t) -> Result<Endpoints> {
                                         return Error(ErrorCategory::kNetwork,
                                                      "cannot resolve " + host + ": no such name");
                                       }});
  ASSERT_FALSE(answer.ok());
  EXPECT_EQ(answer.error().category(), ErrorCategory::kNetwork);
  EXPECT_EQ(answer.error().message(), "cannot resolve name.invalid: no such name");
}

TEST(ResolveWithGetaddrinfo, ResolvesALiteralWithoutTheNetwork) {
  auto endpoints = ResolveWithGetaddrinfo("127.0.0.1", 5701);
  ASSERT_TRUE(endpoints.ok()) << endpoints.error().message();
  ASSERT_EQ(endpoints->size(), 1u);
  EXPECT_EQ(endpoints->front().address().to_string(), "127.0.0.1");
  EXPECT_EQ(endpoints->front().port(), 5701);
}

// TLS 1.2 servers offering one suite or group: the client takes only
// forward-secret AEAD suites and the groups X25519, P-256 and P-384.
void Tls12Only(SSL_CTX* ctx, const char* ciphers, const char* groups) {
  SSL_CTX_set_max_proto_version(ctx, TLS1_2_VERSION);
  ASSERT_EQ(SSL_CTX_set_cipher_list(ctx, ciphers), 1);
  ASSERT_EQ(SSL_CTX_set1_groups_list(ctx, groups), 1);
}

TEST_F(HttpsConnectionTest, AcceptsATls12ServerWithAnEcdheGcmSuite) {
  TinyTlsServer server(io_, leaf_, inter_, kHello, [](SSL_CTX* ctx) {
    Tls12Only(ctx, "ECDHE-ECDSA-AES128-GCM-SHA256", "P-256");
  });
  auto answer = Get(AnchorOf(root_), server.port());
  ASSERT_TRUE(answer.ok()) << answer.error().message();
  EXPECT_EQ(answer->body, "hello");
}

TEST_F(HttpsConnectionTest, RefusesATls12ServerWithOnlyACbcSuite) {
  TinyTlsServer server(io_, leaf_, inter_, kHello, [](SSL_CTX* ctx) {
    Tls12Only(ctx, "ECDHE-ECDSA-AES128-SHA:ECDHE-ECDSA-AES256-SHA384", "P-256");
  });
  auto answer = Get(AnchorOf(root_), server.port());
  ASSERT_FALSE(answer.ok());
  EXPECT_NE(answer.error().message().find("handshake"), std::string::npos)
      << answer.error().message();
  EXPECT_EQ(server.bytes_received(), 0u);
}

TEST_F(HttpsConnectionTest, RefusesATls12ServerWithOnlyAnotherGroup) {
  TinyTlsServer server(io_, leaf_, inter_, kHello, [](SSL_CTX* ctx) {
    Tls12Only(ctx, "ECDHE-ECDSA-AES128-GCM-SHA256", "P-521");
  });
  auto answer = Get(AnchorOf(root_), server.port());
  ASSERT_FALSE(answer.ok());
  EXPECT_NE(answer.error().message().find("handshake"), std::string::npos)
      << answer.error().message();
}

}  // namespace
}  // namespace petera::client
