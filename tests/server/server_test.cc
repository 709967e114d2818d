// Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
//
// The server's threads: every worker accepts, and connections end up spread
// evenly over the workers whichever accepted them, still working after being
// handed from one worker to another. Real sockets and TLS on loopback.
#include "peterad/server.h"

#include <gtest/gtest.h>
#include <openssl/ssl.h>
#include <spdlog/spdlog.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <cstring>
#include <ctime>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "peterad/keystore.h"
#include "peterad/tls_context.h"
#include "peterad/tls_stream.h"
#include "server_test_util.h"

namespace petera::peterad {
namespace {

namespace net = boost::asio;
using tcp = net::ip::tcp;
using petera::testing::Pki;

std::shared_ptr<const ServingState> DemoState() {
  auto keys = KeyStore::Load(
      KeyStorePaths{Pki("s1/tls.pem"), Pki("s1/encrypt-ec.pem"), Pki("s1/decrypt.d")},
      std::time(nullptr));
  EXPECT_TRUE(keys.ok()) << keys.error().message();
  auto tls = MakeServerTlsContext(**keys);
  EXPECT_TRUE(tls.ok()) << tls.error().message();
  return std::make_shared<const ServingState>(ServingState{*keys, *tls, nullptr, nullptr});
}

// `n` io_contexts, each run by a thread of its own, as peterad runs them.
class Workers {
 public:
  explicit Workers(size_t n) {
    for (size_t i = 0; i < n; ++i) contexts_.push_back(std::make_unique<net::io_context>(1));
  }
  ~Workers() { Stop(); }
  std::vector<net::io_context*> pointers() const {
    std::vector<net::io_context*> out;
    for (const auto& c : contexts_) out.push_back(c.get());
    return out;
  }
  void Run() {
    for (auto& c : contexts_) threads_.emplace_back([ctx = c.get()] { ctx->run(); });
  }
  void Stop() {
    for (auto& c : contexts_) c->stop();
    for (auto& t : threads_) t.join();
    threads_.clear();
  }

 private:
  std::vector<std::unique_ptr<net::io_context>> contexts_;
  std::vector<std::thread> threads_;
};

bool WaitFor(const std::function<bool()>& condition) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return true;
}

// A blocking TLS client on one keep-alive connection.
class Client {
 public:
  Client(SSL_CTX* ctx, const tcp::endpoint& server) : socket_(io_) {
    socket_.connect(server);
    ssl_.reset(SSL_new(ctx));
    SSL_set_fd(ssl_.get(), socket_.native_handle());
  }
  bool Handshake() { return SSL_connect(ssl_.get()) == 1; }
  // GET /v1/health; the status line of the answer.
  std::string Health() {
    const std::string request = "GET /v1/health HTTP/1.1\r\nHost: s1.petera.test\r\n\r\n";
    if (SSL_write(ssl_.get(), request.data(), static_cast<int>(request.size())) <= 0) return "";
    std::string answer;
    char buf[4096];
    // The answer is small: read until the end of the JSON body.
    while (answer.find("}") == std::string::npos) {
      int n = SSL_read(ssl_.get(), buf, sizeof(buf));
      if (n <= 0) return "";
      answer.append(buf, static_cast<size_t>(n));
    }
    return answer.substr(0, answer.find("\r\n"));
  }
  // Sends a TLS 1.3 key update that asks the server for one in return
  // (which it sends before its next answer).
  bool SendKeyUpdate() {
    return SSL_key_update(ssl_.get(), SSL_KEY_UPDATE_REQUESTED) == 1 &&
           SSL_do_handshake(ssl_.get()) == 1;
  }
  // The file descriptor of the server's end of this connection: the server
  // runs in this process.
  int ServerEnd() {
    sockaddr_storage mine{}, peer{};
    socklen_t mine_size = sizeof(mine);
    if (getsockname(socket_.native_handle(), reinterpret_cast<sockaddr*>(&mine), &mine_size) != 0) {
      return -1;
    }
    for (int fd = 3; fd < 4096; ++fd) {
      socklen_t peer_size = sizeof(peer);
      if (fd != socket_.native_handle() &&
          getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &peer_size) == 0 &&
          peer_size == mine_size && std::memcmp(&peer, &mine, mine_size) == 0) {
        return fd;
      }
    }
    return -1;
  }
  // Waits (up to 10 s) until the server has read everything sent to it.
  bool ServerReadEverything() {
    int fd = ServerEnd();
    return fd >= 0 && WaitFor([fd] {
             int unread = -1;
             return ioctl(fd, FIONREAD, &unread) == 0 && unread == 0;
           });
  }
  // What the server sends until it closes the connection; nullopt when it
  // neither sends nor closes for 5 s.
  std::optional<std::string> ReadUntilClosed() {
    timeval patience{5, 0};
    setsockopt(socket_.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &patience, sizeof(patience));
    std::string answer;
    char buf[4096];
    for (;;) {
      int n = SSL_read(ssl_.get(), buf, sizeof(buf));
      if (n > 0) {
        answer.append(buf, static_cast<size_t>(n));
      } else if (SSL_get_error(ssl_.get(), n) == SSL_ERROR_WANT_READ) {
        return std::nullopt;  // the receive timeout
      } else {
        return answer;
      }
    }
  }

 private:
  net::io_context io_;
  tcp::socket socket_;
  SslPtr ssl_;
};

// A Server on 127.0.0.1 (any port) with `n` running workers, and a client
// TLS context for it.
struct RunningServer {
  explicit RunningServer(size_t n)
      : workers(n),
        server(workers.pointers(), ServerOptions{}, DemoState()),
        client_tls(SSL_CTX_new(TLS_client_method())) {
    Status listening = server.Listen(tcp::endpoint(net::ip::make_address("127.0.0.1"), 0));
    EXPECT_TRUE(listening.ok());
    std::string address = server.Addresses().at(0);  // "127.0.0.1:PORT"
    endpoint = tcp::endpoint(net::ip::make_address("127.0.0.1"),
                             static_cast<unsigned short>(std::stoi(address.substr(10))));
    SSL_CTX_set_verify(client_tls.get(), SSL_VERIFY_NONE, nullptr);  // trust is not tested here
    // Sets up spdlog's registry on this thread before any worker logs, as
    // peterad's main() does (and keeps the test's output short).
    spdlog::set_level(spdlog::level::warn);
    server.Start();
    workers.Run();
  }
  ~RunningServer() {
    server.Stop();
    workers.Stop();
  }

  Workers workers;
  Server server;
  SslCtxPtr client_tls;
  tcp::endpoint endpoint;
};

TEST(ServerWorkers, SpreadsConnectionsEvenlyAndHandedOffOnesWork) {
  RunningServer running(2);
  Server& server = running.server;
  // One connection at a time, so that each choice of worker sees the last.
  std::vector<std::unique_ptr<Client>> clients;
  for (size_t i = 1; i <= 6; ++i) {
    clients.push_back(std::make_unique<Client>(running.client_tls.get(), running.endpoint));
    ASSERT_TRUE(clients.back()->Handshake()) << "connection " << i;
    ASSERT_TRUE(WaitFor([&] { return server.active_connections() == i; })) << "connection " << i;
  }
  EXPECT_EQ(server.connections_per_worker(), (std::vector<size_t>{3, 3}));
  // Each connection, wherever it was accepted, is served by its worker.
  for (int round = 0; round < 2; ++round) {
    for (auto& client : clients) EXPECT_EQ(client->Health(), "HTTP/1.1 200 OK");
  }
  clients.clear();
  EXPECT_TRUE(WaitFor([&] { return server.active_connections() == 0; }));
  EXPECT_EQ(server.connections_per_worker(), (std::vector<size_t>{0, 0}));
}

TEST(ServerWorkers, OneWorkerServesEverything) {
  RunningServer running(1);
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < 3; ++i) {
    clients.push_back(std::make_unique<Client>(running.client_tls.get(), running.endpoint));
    ASSERT_TRUE(clients.back()->Handshake());
    EXPECT_EQ(clients.back()->Health(), "HTTP/1.1 200 OK");
  }
  EXPECT_EQ(running.server.connections_per_worker(), (std::vector<size_t>{3}));
  clients.clear();
  EXPECT_TRUE(WaitFor([&] { return running.server.active_connections() == 0; }));
}

// A record without application data (here a key update) does not start a
// request: the connection is still between requests, so that a drain closes
// it at once rather than waiting for a request that never comes.
TEST(ServerStop, ClosesAtOnceAConnectionThatSentARecordButNoRequest) {
  RunningServer running(1);
  Client client(running.client_tls.get(), running.endpoint);
  ASSERT_TRUE(client.Handshake());
  ASSERT_EQ(client.Health(), "HTTP/1.1 200 OK");
  ASSERT_TRUE(client.SendKeyUpdate());
  ASSERT_TRUE(client.ServerReadEverything());
  running.server.Stop();
  EXPECT_EQ(client.ReadUntilClosed(), std::optional<std::string>(""));
}

// A connection accepted just before a drain (a load balancer's, say) was
// made to be served: it gets its answer, then the close.
TEST(ServerStop, AnswersTheFirstRequestOfANewConnection) {
  RunningServer running(1);
  Client client(running.client_tls.get(), running.endpoint);
  ASSERT_TRUE(client.Handshake());
  ASSERT_TRUE(client.ServerReadEverything());
  running.server.Stop();
  EXPECT_EQ(client.Health(), "HTTP/1.1 200 OK");
  EXPECT_EQ(client.ReadUntilClosed(), std::optional<std::string>(""));
}

// A new connection that does not use its chance holds the drain for a
// second, not for its timeouts (10 s each here): one that completed its
// handshake but sends no request, and one that never even says hello.
TEST(ServerStop, ClosesSilentNewConnectionsLongBeforeTheirTimeouts) {
  RunningServer running(1);
  Client quiet(running.client_tls.get(), running.endpoint);
  ASSERT_TRUE(quiet.Handshake());
  ASSERT_TRUE(quiet.ServerReadEverything());
  net::io_context io;
  tcp::socket mute(io);
  mute.connect(running.endpoint);
  ASSERT_TRUE(WaitFor([&] { return running.server.active_connections() == 2; }));
  running.server.Stop();
  EXPECT_EQ(quiet.ReadUntilClosed(), std::optional<std::string>(""));
  timeval patience{5, 0};
  setsockopt(mute.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &patience, sizeof(patience));
  char byte = 0;
  EXPECT_EQ(recv(mute.native_handle(), &byte, 1, 0), 0);  // closed, not timed out (-1)
  EXPECT_TRUE(WaitFor([&] { return running.server.Drained(); }));
}

TEST(ServerSessions, AnswersARequestThatFollowsAKeyUpdate) {
  RunningServer running(1);
  Client client(running.client_tls.get(), running.endpoint);
  ASSERT_TRUE(client.Handshake());
  ASSERT_TRUE(client.SendKeyUpdate());
  EXPECT_EQ(client.Health(), "HTTP/1.1 200 OK");
  EXPECT_EQ(client.Health(), "HTTP/1.1 200 OK");
}

}  // namespace
}  // namespace petera::peterad
