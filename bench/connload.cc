// Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
//
// petera_connload: a small closed-loop HTTP/1.1 load generator for loopback
// benchmarks, for what wrk cannot do: a new connection per request.
//
//   --mode full       a new TLS connection per request, full handshake
//   --mode resume     a new TLS connection per request, resuming the session
//                     of the previous connection of the same worker (TLS 1.3
//                     ticket, PSK with (EC)DHE as every browser and curl do)
//   --mode keepalive  one TLS connection per worker, reused (cross-checks wrk)
//   --plain           plain TCP instead of TLS (Tang speaks plain HTTP)
//   --idle N --hold S opens N keep-alive connections one after the other,
//                     makes one request on each, prints "idle_ready=N" and
//                     keeps them open and silent for S seconds
//
// Every worker (--conns) runs one request at a time, until --duration
// seconds have passed or --max-requests have been sent in total. Request
// bodies come from --bodies (one per line, used round robin); without it the
// request is a GET. All sockets have --io-timeout, so nothing waits forever.
//
// Output, one line of key=value: mode conns requests errors resumed secs rps
// p50_ms p90_ms p99_ms max_ms client_cpu_s (and first_bad_status when a
// response was not 200).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cctype>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "petera/ossl.h"

namespace petera {
namespace {

using Clock = std::chrono::steady_clock;
using SslPtr = OsslPtr<SSL, SSL_free>;
using SessionPtr = OsslPtr<SSL_SESSION, SSL_SESSION_free>;

constexpr size_t kMaxResponseBytes = 1 << 20;

enum class Mode { kFull, kResume, kKeepAlive };

struct Options {
  std::string host = "127.0.0.1";
  uint16_t port = 0;
  std::string mode_name = "full";
  Mode mode = Mode::kFull;
  bool plain = false;
  unsigned conns = 1;
  double duration = 10;
  size_t max_requests = 1000000;
  std::string path = "/v1/recover";
  std::string bodies_file;
  std::string content_type = "application/json";
  std::string anchor;
  std::string cert;  // client certificate chain + key (PEM), for --client-ca servers
  double io_timeout = 5;
  size_t idle = 0;
  double hold = 10;
};

struct WorkerStats {
  std::vector<double> latencies_ms;
  size_t errors = 0;
  size_t resumed = 0;
  unsigned first_bad_status = 0;
};

// One client connection, plain or TLS, on a blocking socket with timeouts.
class Connection {
 public:
  Connection() = default;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection() { Close(); }

  bool Open(const Options& options, SSL_CTX* ctx, SSL_SESSION* resume) {
    fd_ = Dial(options);
    if (fd_ < 0) return false;
    if (ctx == nullptr) return true;
    ssl_.reset(SSL_new(ctx));
    if (!ssl_ || SSL_set_fd(ssl_.get(), fd_) != 1) return false;
    if (resume != nullptr && SSL_set_session(ssl_.get(), resume) != 1) return false;
    return SSL_connect(ssl_.get()) == 1;
  }

  bool WriteAll(std::string_view data) {
    while (!data.empty()) {
      long n = ssl_ ? SSL_write(ssl_.get(), data.data(), static_cast<int>(data.size()))
                    : ::write(fd_, data.data(), data.size());
      if (n <= 0) return false;
      data.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }

  // Appends what arrives to `buffer`; false on EOF, error or timeout.
  bool ReadSome(std::string& buffer) {
    char chunk[16384];
    long n = ssl_ ? SSL_read(ssl_.get(), chunk, sizeof(chunk)) : ::read(fd_, chunk, sizeof(chunk));
    if (n <= 0) return false;
    buffer.append(chunk, static_cast<size_t>(n));
    return true;
  }

  bool resumed() const { return ssl_ && SSL_session_reused(ssl_.get()) == 1; }
  SessionPtr TakeSession() const { return SessionPtr(ssl_ ? SSL_get1_session(ssl_.get()) : nullptr); }
  bool is_open() const { return fd_ >= 0; }

  void Close() {
    if (ssl_) SSL_shutdown(ssl_.get());  // sends close_notify, does not wait
    ssl_.reset();
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  static int Dial(const Options& options) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(options.port);
    if (inet_pton(AF_INET, options.host.c_str(), &address.sin_addr) != 1) return -1;
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    timeval timeout{};
    timeout.tv_sec = static_cast<time_t>(options.io_timeout);
    timeout.tv_usec = static_cast<suseconds_t>((options.io_timeout - static_cast<double>(timeout.tv_sec)) * 1e6);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));  // bounds connect too
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) != 0) {
      ::close(fd);
      return -1;
    }
    return fd;
  }

  int fd_ = -1;
  SslPtr ssl_;
};

// Case-insensitive search for a header name at the start of a line.
size_t ContentLength(std::string_view head) {
  constexpr std::string_view kName = "\r\ncontent-length:";
  for (size_t i = 0; i + kName.size() <= head.size(); ++i) {
    bool match = true;
    for (size_t j = 0; j < kName.size() && match; ++j) {
      match = std::tolower(static_cast<unsigned char>(head[i + j])) == kName[j];
    }
    if (match) return static_cast<size_t>(std::strtoul(head.data() + i + kName.size(), nullptr, 10));
  }
  return 0;
}

// Whether a response header says "Connection: close" (names and the
// value in any case).
bool SaysClose(std::string_view head) {
  std::string lower(head);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return lower.find("\r\nconnection: close") != std::string::npos ||
         lower.find("\r\nconnection:close") != std::string::npos;
}

struct Response {
  unsigned status = 0;  // 0 when the connection failed
  bool close = false;   // the server closes the connection after it
};

Response ReadResponse(Connection& conn) {
  std::string buffer;
  size_t header_end = std::string::npos;
  while ((header_end = buffer.find("\r\n\r\n")) == std::string::npos) {
    if (buffer.size() > kMaxResponseBytes || !conn.ReadSome(buffer)) return {};
  }
  unsigned status = 0;
  if (std::sscanf(buffer.c_str(), "HTTP/1.%*d %u", &status) != 1) return {};
  std::string_view head = std::string_view(buffer).substr(0, header_end + 2);
  size_t need = header_end + 4 + ContentLength(head);
  if (need > kMaxResponseBytes) return {};
  bool close = SaysClose(head);
  while (buffer.size() < need) {
    if (!conn.ReadSome(buffer)) return {};
  }
  return {status, close};
}

std::vector<std::string> BuildRequests(const Options& options, bool close) {
  std::vector<std::string> bodies;
  if (!options.bodies_file.empty()) {
    std::ifstream in(options.bodies_file);
    for (std::string line; std::getline(in, line);) {
      if (!line.empty()) bodies.push_back(line);
    }
  }
  std::string head = "Host: " + options.host + ":" + std::to_string(options.port) + "\r\n" +
                     "User-Agent: petera_connload\r\n" + (close ? "Connection: close\r\n" : "");
  std::vector<std::string> requests;
  if (bodies.empty() && options.bodies_file.empty()) {
    requests.push_back("GET " + options.path + " HTTP/1.1\r\n" + head + "\r\n");
  }
  for (const std::string& body : bodies) {
    requests.push_back("POST " + options.path + " HTTP/1.1\r\n" + head +
                       "Content-Type: " + options.content_type + "\r\n" +
                       "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body);
  }
  return requests;
}

OsslPtr<SSL_CTX, SSL_CTX_free> MakeClientContext(const Options& options) {
  OsslPtr<SSL_CTX, SSL_CTX_free> ctx(SSL_CTX_new(TLS_client_method()));
  if (!ctx || SSL_CTX_set_min_proto_version(ctx.get(), TLS1_3_VERSION) != 1) return nullptr;
  static const unsigned char kAlpn[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
  if (SSL_CTX_set_alpn_protos(ctx.get(), kAlpn, sizeof(kAlpn)) != 0) return nullptr;
  if (!options.cert.empty() &&
      (SSL_CTX_use_certificate_chain_file(ctx.get(), options.cert.c_str()) != 1 ||
       SSL_CTX_use_PrivateKey_file(ctx.get(), options.cert.c_str(), SSL_FILETYPE_PEM) != 1)) {
    return nullptr;
  }
  if (options.anchor.empty()) return ctx;
  if (SSL_CTX_load_verify_locations(ctx.get(), options.anchor.c_str(), nullptr) != 1) return nullptr;
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
  X509_VERIFY_PARAM* param = SSL_CTX_get0_param(ctx.get());
  if (X509_VERIFY_PARAM_set1_ip_asc(param, options.host.c_str()) != 1) return nullptr;
  return ctx;
}

struct Shared {
  const Options* options = nullptr;
  SSL_CTX* ctx = nullptr;  // null for --plain
  std::vector<std::string> requests;
  Clock::time_point deadline;
  std::atomic<size_t> issued{0};
};

void RecordFailure(WorkerStats& stats, unsigned status) {
  ++stats.errors;
  if (status != 0 && stats.first_bad_status == 0) stats.first_bad_status = status;
}

void Worker(Shared& shared, size_t index, WorkerStats& stats) {
  const Options& options = *shared.options;
  Connection conn;
  SessionPtr session;
  size_t next = index * 7919;  // spread the workers over the bodies
  while (Clock::now() < shared.deadline &&
         shared.issued.fetch_add(1) < options.max_requests) {
    const std::string& request = shared.requests[next++ % shared.requests.size()];
    auto start = Clock::now();
    if (!conn.is_open() && !conn.Open(options, shared.ctx, session.get())) {
      conn.Close();
      RecordFailure(stats, 0);
      std::this_thread::sleep_for(std::chrono::milliseconds(1));  // refused: do not spin
      continue;
    }
    Response response = conn.WriteAll(request) ? ReadResponse(conn) : Response{};
    auto end = Clock::now();
    if (response.status != 200) {
      conn.Close();
      RecordFailure(stats, response.status);
      continue;
    }
    if (conn.resumed()) ++stats.resumed;
    // A graceful close (--max-requests-per-connection) is no failure: the
    // next request opens a new connection.
    if (options.mode != Mode::kKeepAlive || response.close) {
      if (options.mode == Mode::kResume) session = conn.TakeSession();
      conn.Close();
    }
    stats.latencies_ms.push_back(std::chrono::duration<double, std::milli>(end - start).count());
  }
}

double ClientCpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

double Percentile(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) return 0;
  return sorted[static_cast<size_t>(q * static_cast<double>(sorted.size() - 1))];
}

int RunLoad(Shared& shared) {
  const Options& options = *shared.options;
  std::vector<WorkerStats> stats(options.conns);
  auto start = Clock::now();
  shared.deadline = start + std::chrono::duration_cast<Clock::duration>(
                                std::chrono::duration<double>(options.duration));
  std::vector<std::thread> threads;
  for (size_t i = 0; i < options.conns; ++i) {
    threads.emplace_back([&shared, &stats, i] { Worker(shared, i, stats[i]); });
  }
  for (std::thread& t : threads) t.join();
  double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  std::vector<double> all;
  size_t errors = 0, resumed = 0;
  unsigned bad_status = 0;
  for (const WorkerStats& s : stats) {
    all.insert(all.end(), s.latencies_ms.begin(), s.latencies_ms.end());
    errors += s.errors;
    resumed += s.resumed;
    if (bad_status == 0) bad_status = s.first_bad_status;
  }
  std::sort(all.begin(), all.end());
  std::printf(
      "mode=%s%s conns=%u requests=%zu errors=%zu resumed=%zu secs=%.3f rps=%.1f p50_ms=%.3f "
      "p90_ms=%.3f p99_ms=%.3f max_ms=%.3f client_cpu_s=%.3f",
      options.mode_name.c_str(), options.plain ? "+plain" : "", options.conns, all.size(), errors,
      resumed, seconds, static_cast<double>(all.size()) / seconds, Percentile(all, 0.50),
      Percentile(all, 0.90), Percentile(all, 0.99), all.empty() ? 0.0 : all.back(),
      ClientCpuSeconds());
  if (bad_status != 0) std::printf(" first_bad_status=%u", bad_status);
  std::printf("\n");
  return all.empty() ? 1 : 0;
}

// --idle N: N connections that each made one request and then stay silent.
int RunIdle(Shared& shared) {
  const Options& options = *shared.options;
  std::vector<std::unique_ptr<Connection>> open;
  size_t errors = 0;
  auto start = Clock::now();
  for (size_t i = 0; i < options.idle && Clock::now() - start < std::chrono::seconds(120); ++i) {
    auto conn = std::make_unique<Connection>();
    bool ok = conn->Open(options, shared.ctx, nullptr) &&
              conn->WriteAll(shared.requests[i % shared.requests.size()]) &&
              ReadResponse(*conn).status == 200;
    if (!ok) {
      ++errors;
      continue;
    }
    open.push_back(std::move(conn));
  }
  std::printf("idle_ready=%zu errors=%zu secs=%.3f\n", open.size(), errors,
              std::chrono::duration<double>(Clock::now() - start).count());
  std::fflush(stdout);
  std::this_thread::sleep_for(std::chrono::duration<double>(options.hold));
  open.clear();
  return errors == 0 ? 0 : 1;
}

void AddOptions(CLI::App& app, Options& o) {
  app.add_option("--host", o.host, "IPv4 address of the server")->capture_default_str();
  app.add_option("--port", o.port, "TCP port of the server")->required();
  app.add_option("--mode", o.mode_name, "full, resume or keepalive")
      ->check(CLI::IsMember({"full", "resume", "keepalive"}))
      ->capture_default_str();
  app.add_flag("--plain", o.plain, "Plain HTTP instead of HTTPS");
  app.add_option("--conns", o.conns, "Concurrent workers")->check(CLI::Range(1u, 4096u))
      ->capture_default_str();
  app.add_option("--duration", o.duration, "Seconds to run")->check(CLI::Range(0.1, 600.0))
      ->capture_default_str();
  app.add_option("--max-requests", o.max_requests, "Requests in total at most")
      ->check(CLI::Range(size_t{1}, size_t{100000000}))->capture_default_str();
  app.add_option("--path", o.path, "Request target")->capture_default_str();
  app.add_option("--bodies", o.bodies_file, "POST bodies, one per line")->check(CLI::ExistingFile);
  app.add_option("--content-type", o.content_type, "Content-Type of POST bodies")
      ->capture_default_str();
  app.add_option("--anchor", o.anchor, "Verify the server against this CA (default: no check)")
      ->check(CLI::ExistingFile);
  app.add_option("--cert", o.cert, "Client certificate chain and key (PEM) to present")
      ->check(CLI::ExistingFile);
  app.add_option("--io-timeout", o.io_timeout, "Seconds for any connect, read or write")
      ->check(CLI::Range(0.01, 60.0))->capture_default_str();
  app.add_option("--idle", o.idle, "Open this many idle keep-alive connections instead")
      ->check(CLI::Range(size_t{1}, size_t{100000}));
  app.add_option("--hold", o.hold, "Seconds to hold the idle connections")
      ->check(CLI::Range(0.0, 600.0))->capture_default_str();
}

int Main(int argc, char** argv) {
  Options options;
  CLI::App app{"Closed-loop HTTP/1.1 load over a new (TLS) connection per request.",
               "petera_connload"};
  AddOptions(app, options);
  CLI11_PARSE(app, argc, argv);
  options.mode = options.mode_name == "resume"      ? Mode::kResume
                 : options.mode_name == "keepalive" ? Mode::kKeepAlive
                                                    : Mode::kFull;
  OsslPtr<SSL_CTX, SSL_CTX_free> ctx;
  if (!options.plain) {
    ctx = MakeClientContext(options);
    if (!ctx) {
      std::fprintf(stderr, "petera_connload: TLS setup failed: %s\n", DrainSslErrors().c_str());
      return 2;
    }
  }
  Shared shared;
  shared.options = &options;
  shared.ctx = ctx.get();
  bool close = options.mode != Mode::kKeepAlive && options.idle == 0;
  shared.requests = BuildRequests(options, close);
  if (shared.requests.empty()) {
    std::fprintf(stderr, "petera_connload: %s has no bodies\n", options.bodies_file.c_str());
    return 2;
  }
  return options.idle > 0 ? RunIdle(shared) : RunLoad(shared);
}

}  // namespace
}  // namespace petera

int main(int argc, char** argv) { return petera::Main(argc, argv); }
