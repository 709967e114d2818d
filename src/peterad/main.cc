// Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
//
// peterad: command line, process hardening, socket activation, signals
// (SIGHUP reloads, SIGTERM/SIGINT drain and exit) and sd_notify.
#include <openssl/crypto.h>
#include <openssl/opensslv.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <systemd/sd-daemon.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <bit>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cmath>
#include <ctime>
#include <exception>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "petera/address.h"
#include "petera/ocsp.h"
#include "peterad/keystore.h"
#include "peterad/logging.h"
#include "peterad/metrics.h"
#include "peterad/metrics_listener.h"
#include "peterad/server.h"
#include "peterad/tls_context.h"

#ifndef PETERA_VERSION
#define PETERA_VERSION "unknown"
#endif

namespace petera::peterad {
namespace {

namespace net = boost::asio;
using tcp = net::ip::tcp;
using error_code = boost::system::error_code;

constexpr int kExitOk = 0;
constexpr int kExitRefused = 1;
constexpr int kExitUsage = 2;

// OpenSSL's secure heap holds the private keys' secret numbers and the
// temporaries of each recovery. Measured on OpenSSL 3.0: under 2 KiB per key
// (RSA-3072) and under 4 KiB per recovery in flight. OpenSSL 3.0 does not
// fall back to the ordinary heap when the arena is full (the allocation, and
// with it the recovery or the key load, fails), so the arena is sized with a
// wide margin: 16 KiB per key file and 64 KiB per thread, doubled for keys
// added by reloads, at least 4 MiB, rounded up to a power of two (OpenSSL
// requires one). 4 MiB fits the unit's LimitMEMLOCK=8M; more keys than that
// covers (about 120) need a larger LimitMEMLOCK.
constexpr size_t kMinSecureHeapBytes = size_t{4} << 20;
constexpr size_t kSecureHeapBytesPerKey = size_t{16} << 10;
constexpr size_t kSecureHeapBytesPerThread = size_t{64} << 10;
size_t g_secure_heap_bytes = 0;

struct Options {
  KeyStorePaths paths;
  ClientPolicyPaths clients;
  std::vector<std::string> listen;
  std::vector<std::string> proxy_protocol_from;
  std::string metrics;
  std::string ocsp_response;
  unsigned threads = std::max(1u, std::thread::hardware_concurrency());
  size_t max_connections = 4096;
  size_t max_connections_per_client = 64;
  size_t max_requests_per_connection = 1000;
  double handshake_timeout = 10;
  double header_timeout = 10;
  double body_timeout = 10;
  double idle_timeout = 30;
  double write_timeout = 10;
  double drain_timeout = 10;
  std::string log_level = "info";
  bool check_only = false;
};

std::chrono::milliseconds Millis(double seconds) {
  return std::chrono::milliseconds(static_cast<long long>(std::llround(seconds * 1000.0)));
}

constexpr const char* kFooter = R"(
Files:
  TLS.pem      the TLS certificate chain (leaf first) and its private key
  ENCRYPT.pem  the encryption certificate chain handed to clients (no key!)
  DECRYPT.d/   one PEM file per decryption key: certificate + private key;
               keep old keys here after a rotation so old envelopes still open
Private-key files must not be readable or writable by others nor writable by
the group (chmod 600). peterad refuses to start on any problem with the
files, with a message naming the file and the fix.

Client authorization: with --client-ca, POST /v1/recover answers 403
client_not_authorized unless the client presents a certificate from that CA
that is valid now, has clientAuth in its extended key usage, is not revoked
by a --client-crl and, with --client-allow, is listed there (by the base64url
SHA-256 of its public key, DNS:name or URI:uri, one a line). GET /v1/chain
and /v1/health stay open. These files must not be writable by others.

Metrics: with --metrics ADDR:PORT, a plain-HTTP listener answers GET
/metrics in Prometheus' text format (recoveries by key and result, latency,
TLS handshakes, connections, timeouts, reloads, every certificate's expiry).
Bind it to loopback or a management network: it has no TLS and no
authentication (it serves no secrets).

OCSP stapling: with --ocsp-response FILE, the DER OCSP response for the TLS
certificate is stapled to every handshake whose client asks for it. It must
be about the first certificate of TLS.pem, signed by the next one (its
issuer) or by a responder that issuer delegated to, or peterad refuses to
start. A missing or expired file only warns (nothing is stapled).
petera-ocsp-refresh keeps the file current; SIGHUP loads it.

Listening: sockets passed by systemd (socket activation) are used when
present; otherwise each --listen, by default 0.0.0.0:5700 and [::]:5700.

Signals: SIGHUP re-reads every file (keys, client CA, CRLs, allow-list, OCSP)
without dropping connections (a failed reload keeps the old state);
SIGTERM/SIGINT stop accepting, finish the requests in progress and exit 0.

Exit status: 0 after a normal stop, 1 when the configuration is refused,
2 on a usage error. See peterad(8) and docs/protocol.md.)";

void AddOptions(CLI::App& app, Options& o) {
  app.add_option("TLS.pem", o.paths.tls, "TLS certificate chain and private key")
      ->type_name("FILE")->required();
  app.add_option("ENCRYPT.pem", o.paths.encrypt, "Encryption certificate chain")
      ->type_name("FILE")->required();
  app.add_option("DECRYPT.d", o.paths.decrypt_dir, "Directory of decryption keys")
      ->type_name("DIR")->required();
  app.add_option("--client-ca", o.clients.ca,
                 "Require a client certificate from these CA(s) for POST /v1/recover")
      ->type_name("FILE");
  app.add_option("--client-crl", o.clients.crls,
                 "CRL(s) of the client CA; revoked clients are refused (repeatable)")
      ->type_name("FILE");
  app.add_option("--client-allow", o.clients.allow,
                 "Allow-list: only the clients listed here may recover")
      ->type_name("FILE");
  app.add_option("--ocsp-response", o.ocsp_response,
                 "DER OCSP response for the TLS certificate, stapled to handshakes")
      ->type_name("FILE");
  app.add_option("--listen", o.listen, "Listen on ADDR:PORT or [IPv6]:PORT (repeatable)")
      ->type_name("ADDR:PORT");
  app.add_option("--threads", o.threads, "I/O threads (default: one per core)")
      ->type_name("N")
      ->check(CLI::Range(1u, 1024u).description(""))
      ->capture_default_str();
  app.add_option("--max-connections", o.max_connections,
                 "Open connections beyond which new ones are closed at once")
      ->type_name("N")
      ->check(CLI::Range(size_t{1}, size_t{1000000}).description(""))
      ->capture_default_str();
  app.add_option("--max-connections-per-client", o.max_connections_per_client,
                 "Open connections one client address may hold (0: no cap); clients behind "
                 "one NAT address share it")
      ->type_name("N")
      ->check(CLI::Range(size_t{0}, size_t{1000000}).description(""))
      ->capture_default_str();
  app.add_option("--proxy-protocol-from", o.proxy_protocol_from,
                 "Load balancers (CIDR, e.g. 10.0.0.0/8 or ::1/128; repeatable) whose "
                 "connections start with a PROXY protocol v1 or v2 header naming the client: "
                 "required from them, never honoured from anyone else")
      ->type_name("CIDR")
      ->check([](const std::string& text) {
        auto cidr = ParseCidr(text);
        return cidr.ok() ? std::string() : cidr.error().message();
      });
  app.add_option("--metrics", o.metrics,
                 "Serve Prometheus metrics over plain HTTP at http://ADDR:PORT/metrics "
                 "(off by default; e.g. 127.0.0.1:9570)")
      ->type_name("ADDR:PORT")
      ->check([](const std::string& text) {
        auto endpoint = ParseListenAddress(text);
        if (endpoint.ok()) return std::string();
        std::string message = endpoint.error().message();  // "--listen TEXT: why"
        return message.substr(message.find(' ') + 1);
      });
  app.add_option("--max-requests-per-connection", o.max_requests_per_connection,
                 "Requests after which a keep-alive connection is closed")
      ->type_name("N")
      ->check(CLI::Range(size_t{1}, size_t{1000000000}).description(""))
      ->capture_default_str();
  auto seconds = CLI::Range(0.001, 86400.0).description("");
  app.add_option("--handshake-timeout", o.handshake_timeout, "Seconds for the TLS handshake")
      ->type_name("SECONDS")->check(seconds)->capture_default_str();
  app.add_option("--header-timeout", o.header_timeout,
                 "Seconds to receive a request header (then 408)")
      ->type_name("SECONDS")->check(seconds)->capture_default_str();
  app.add_option("--body-timeout", o.body_timeout, "Seconds to receive a request body (then 408)")
      ->type_name("SECONDS")->check(seconds)->capture_default_str();
  app.add_option("--idle-timeout", o.idle_timeout,
                 "Seconds an idle keep-alive connection stays open")
      ->type_name("SECONDS")->check(seconds)->capture_default_str();
  app.add_option("--write-timeout", o.write_timeout, "Seconds to write a response")
      ->type_name("SECONDS")->check(seconds)->capture_default_str();
  app.add_option("--drain-timeout", o.drain_timeout,
                 "Seconds to finish requests in progress on SIGTERM")
      ->type_name("SECONDS")->check(seconds)->capture_default_str();
  app.add_option("--log-level", o.log_level,
                 "trace, debug, info, warn, error, critical or off")
      ->type_name("LEVEL")
      ->capture_default_str();
  app.add_flag("--check", o.check_only, "Check the files, print the summary and exit");
  app.set_version_flag("--version", std::string("peterad ") + PETERA_VERSION + " (" +
                                        OpenSSL_version(OPENSSL_VERSION) + ")");
  app.footer(kFooter);
}

// Regular, non-hidden entries of DECRYPT.d/ (0 when it cannot be listed:
// loading the keys reports that).
size_t CountKeyFiles(const std::string& dir) {
  std::error_code ec;
  size_t count = 0;
  std::filesystem::directory_iterator it(dir, ec);
  for (; !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (!name.empty() && name.front() != '.') ++count;
  }
  return count;
}

size_t SecureHeapBytes(size_t key_files, unsigned threads) {
  size_t need = 2 * key_files * kSecureHeapBytesPerKey + threads * kSecureHeapBytesPerThread;
  return std::bit_ceil(std::max(kMinSecureHeapBytes, need));
}

// The secure heap keeps private keys out of swap and core dumps. It must
// exist before the keys are loaded, and OpenSSL sets it up once per process.
void InitSecureHeap(const Options& options) {
  size_t bytes = SecureHeapBytes(CountKeyFiles(options.paths.decrypt_dir), options.threads);
  int result = CRYPTO_secure_malloc_init(bytes, 32);
  if (result == 0) {
    spdlog::warn("OpenSSL secure heap unavailable: private keys live in ordinary memory "
                 "and may be swapped out");
    return;
  }
  g_secure_heap_bytes = bytes;
  if (result != 1) {
    // 2: the arena works but mlock (or madvise) failed.
    spdlog::warn("OpenSSL secure heap of {} KiB could not be locked in memory: private keys "
                 "may be swapped out; raise LimitMEMLOCK (ulimit -l) above {} KiB",
                 bytes >> 10, (bytes >> 10) + 64);
  }
}

// No core dumps (they would hold private keys), no ptrace by other users.
void HardenProcess(const Options& options) {
  struct rlimit none {};
  if (setrlimit(RLIMIT_CORE, &none) != 0) spdlog::warn("cannot disable core dumps");
  if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) spdlog::warn("cannot clear the dumpable flag");
  // One descriptor per connection: use all the hard limit allows, so that
  // --max-connections, not EMFILE, is what bounds connections.
  struct rlimit files {};
  if (getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
    files.rlim_cur = files.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &files) != 0) spdlog::warn("cannot raise the open-file limit");
  }
  // OpenSSL writes to sockets with write(): a closed peer must not kill us.
  signal(SIGPIPE, SIG_IGN);
  InitSecureHeap(options);
}

// Debug: how full the secure heap is; a warning when keys fill half of it,
// which leaves too little for the recoveries in flight.
void LogSecureHeap() {
  if (g_secure_heap_bytes == 0) return;
  size_t used = CRYPTO_secure_used();
  spdlog::debug("OpenSSL secure heap: {} of {} bytes in use", used, g_secure_heap_bytes);
  if (used > g_secure_heap_bytes / 2) {
    spdlog::warn("the keys fill {} of the {} bytes of OpenSSL's secure heap: restart peterad "
                 "so that it sizes the heap for them (and raise LimitMEMLOCK to match)",
                 used, g_secure_heap_bytes);
  }
}

Result<std::shared_ptr<const ServingState>> LoadState(const Options& options) {
  std::time_t now = std::time(nullptr);
  PETERA_ASSIGN_OR_RETURN(std::shared_ptr<const KeyStore> keys,
                          KeyStore::Load(options.paths, now));
  std::shared_ptr<const ClientPolicy> clients;
  if (options.clients.enabled()) {
    PETERA_ASSIGN_OR_RETURN(clients, ClientPolicy::Load(options.clients, now));
  }
  std::shared_ptr<const OcspStaple> ocsp;
  if (!options.ocsp_response.empty()) {
    PETERA_ASSIGN_OR_RETURN(ocsp, OcspStaple::Load(options.ocsp_response, keys->tls_chain(), now));
  }
  PETERA_ASSIGN_OR_RETURN(std::shared_ptr<SSL_CTX> tls,
                          MakeServerTlsContext(*keys, clients.get(), ocsp));
  return std::shared_ptr<const ServingState>(std::make_shared<const ServingState>(
      ServingState{std::move(keys), std::move(tls), std::move(clients), std::move(ocsp)}));
}

// The warnings about stapling at `now`: the response's own, and one when the
// TLS certificate demands a stapled response (RFC 7633) that is not stapled.
std::vector<std::string> StaplingWarnings(const ServingState& state, std::time_t now) {
  std::vector<std::string> warnings;
  if (state.ocsp) warnings = state.ocsp->Warnings(now);
  const std::vector<X509Ptr>& chain = state.keys->tls_chain();
  if (!chain.empty() && RequiresStapledOcsp(chain.front().get()) &&
      !(state.ocsp && state.ocsp->StaplesAt(now))) {
    warnings.push_back(std::string("the TLS certificate demands a stapled OCSP response (TLS "
                                   "feature status_request, RFC 7633 must-staple) and ") +
                       (state.ocsp ? "none is stapled now" : "no --ocsp-response is given") +
                       ": clients that check OCSP refuse this server until one is");
  }
  return warnings;
}

void LogState(const ServingState& state, const char* event) {
  const KeyStore& keys = *state.keys;
  spdlog::info("{}: encryption key {} ({}, expires {}), {} decryption key(s); TLS {} (expires {})",
               event, keys.encryption_kid(), keys.encryption_subject(),
               keys.encryption_not_after(), keys.key_count(), keys.tls_subject(),
               keys.tls_not_after());
  for (const std::string& note : keys.notes()) spdlog::info("{}", note);
  for (const std::string& warning : keys.warnings()) spdlog::warn("WARNING: {}", warning);
  if (state.clients) {
    spdlog::info("client authorization: {}", state.clients->summary());
    for (const std::string& warning : state.clients->warnings()) {
      spdlog::warn("WARNING: {}", warning);
    }
  } else {
    spdlog::info("client authorization: off (any client that reaches the server may recover)");
  }
  if (state.ocsp) spdlog::info("{}", state.ocsp->Summary());
  for (const std::string& warning : StaplingWarnings(state, std::time(nullptr))) {
    spdlog::warn("WARNING: {}", warning);
  }
  LogSecureHeap();
}

// What a scrape reports besides the counters.
MetricsSnapshot Snapshot(const ServingState& state, const Server& server) {
  MetricsSnapshot snapshot;
  snapshot.open_connections = server.active_connections();
  snapshot.keys_loaded = state.keys->key_count();
  snapshot.certificates = state.keys->certificates();
  if (state.clients) {
    for (const X509Ptr& ca : state.clients->cas()) {
      snapshot.certificates.push_back(HeldCertificate{
          "client_ca", "", SubjectName(ca.get()), Asn1TimeToUnix(X509_get0_notAfter(ca.get()))});
    }
    snapshot.client_crl_next_update = state.clients->crls_valid_until();
  }
  if (state.ocsp) {
    MetricsSnapshot::Ocsp ocsp;
    ocsp.stapling = state.ocsp->StaplesAt(std::time(nullptr));
    if (const auto& status = state.ocsp->status()) {
      ocsp.have_response = true;
      ocsp.revoked = status->revoked;
      ocsp.valid_until = status->valid_until();
    }
    snapshot.ocsp = ocsp;
  }
  return snapshot;
}

Status AddListeners(Server& server, const std::vector<std::string>& listen) {
  int fds = sd_listen_fds(1);
  if (fds < 0) return Error(ErrorCategory::kUsage, "sd_listen_fds failed");
  for (int fd = SD_LISTEN_FDS_START; fd < SD_LISTEN_FDS_START + fds; ++fd) {
    if (sd_is_socket(fd, AF_UNSPEC, SOCK_STREAM, 1) <= 0) {
      return Error(ErrorCategory::kUsage, "socket " + std::to_string(fd) +
                                              " from systemd is not a listening stream socket");
    }
    PETERA_TRY(server.Adopt(fd));
  }
  for (const std::string& text : listen) {
    PETERA_ASSIGN_OR_RETURN(auto endpoint, ParseListenAddress(text));
    PETERA_TRY(server.Listen(endpoint));
  }
  if (fds > 0 || !listen.empty()) return OkStatus();
  PETERA_TRY(server.Listen(tcp::endpoint(net::ip::address_v4::any(), kDefaultPort)));
  Status v6 = server.Listen(tcp::endpoint(net::ip::address_v6::any(), kDefaultPort));
  if (!v6.ok()) spdlog::info("not listening on IPv6: {}", v6.error().message());
  return OkStatus();
}

// Runs what is ready, writes the request lines that logged, then waits for
// more: under load, one write(2) of the log serves many requests.
void RunIo(net::io_context& ioc) {
  BatchThreadLog();
  for (;;) {
    try {
      while (!ioc.stopped()) {
        ioc.poll();
        FlushThreadLog();
        ioc.run_one();
      }
      FlushThreadLog();
      return;
    } catch (const std::exception& e) {
      FlushThreadLog();
      spdlog::error("unexpected exception in an I/O thread: {}", e.what());
    }
  }
}

// Runs the main thread: signals, reloads, and the drain at the end.
//
// Scrapes of --metrics are served here too, and the daily look at the
// certificates' expiry runs here.
class Controller {
 public:
  Controller(std::vector<net::io_context*> workers, Server& server, const Options& options,
             std::shared_ptr<const ServingState> state, std::shared_ptr<Metrics> metrics)
      : workers_(std::move(workers)),
        server_(server),
        options_(options),
        state_(std::move(state)),
        metrics_(std::move(metrics)),
        signals_(control_, SIGHUP, SIGTERM, SIGINT),
        drain_(control_),
        expiry_check_(control_),
        ocsp_expiry_(control_) {}

  // Binds --metrics (before the I/O threads start, so that a refusal stops
  // the start).
  Status ListenForMetrics() {
    if (options_.metrics.empty() || !metrics_) return OkStatus();
    PETERA_ASSIGN_OR_RETURN(auto endpoint, ParseListenAddress(options_.metrics));
    PETERA_ASSIGN_OR_RETURN(metrics_listener_,
                            MetricsListener::Create(control_, endpoint, [this] {
                              return metrics_->Render(Snapshot(*state_, server_));
                            }));
    metrics_listener_->Start();
    spdlog::info("metrics at http://{}/metrics", metrics_listener_->Address());
    return OkStatus();
  }

  void Run() {
    WaitForSignal();
    ScheduleExpiryCheck();
    ScheduleOcspExpiry();
    control_.run();
  }

 private:
  void WaitForSignal() {
    signals_.async_wait([this](error_code ec, int signo) {
      if (ec) return;
      if (signo == SIGHUP) {
        Reload();
        return WaitForSignal();
      }
      BeginStop(signo);
    });
  }

  void Reload() {
    sd_notify(0, "RELOADING=1\nSTATUS=Reloading");
    spdlog::info("SIGHUP: reloading {}, {}, {}", options_.paths.tls, options_.paths.encrypt,
                 options_.paths.decrypt_dir);
    auto state = LoadState(options_);
    if (metrics_) metrics_->CountReload(state.ok(), std::time(nullptr));
    if (state.ok()) {
      state_ = state.value();
      server_.SetState(state.value());
      LogState(*state.value(), "reloaded");
      ScheduleExpiryCheck();  // the next look, a day after this one
      ScheduleOcspExpiry();
    } else {
      spdlog::error("reload failed, still serving the previous keys: {}",
                    state.error().message());
    }
    sd_notify(0, "READY=1\nSTATUS=Serving");
  }

  // Once a day while running (start and reload warn by themselves): a
  // warning for each certificate that expires within kExpiryWarningDays.
  void ScheduleExpiryCheck() {
    expiry_check_.expires_after(std::chrono::hours(24));
    expiry_check_.async_wait([this](error_code ec) {
      if (ec) return;
      std::time_t now = std::time(nullptr);
      for (const std::string& warning :
           ExpiryWarnings(Snapshot(*state_, server_).certificates, now)) {
        spdlog::warn("WARNING: {}", warning);
      }
      for (const std::string& warning : StaplingWarnings(*state_, now)) {
        spdlog::warn("WARNING: {}", warning);
      }
      ScheduleExpiryCheck();
    });
  }

  // The second after the stapled OCSP response expires, say that stapling
  // stopped (the handshakes stop stapling it by themselves).
  void ScheduleOcspExpiry() {
    ocsp_expiry_.cancel();
    std::shared_ptr<const OcspStaple> ocsp = state_->ocsp;
    std::time_t now = std::time(nullptr);
    if (!ocsp || !ocsp->StaplesAt(now)) return;
    std::time_t until = ocsp->status()->valid_until();
    ocsp_expiry_.expires_after(std::chrono::seconds(until - now + 1));
    ocsp_expiry_.async_wait([this, ocsp](error_code ec) {
      if (ec || state_->ocsp != ocsp) return;
      for (const std::string& warning : StaplingWarnings(*state_, std::time(nullptr))) {
        spdlog::warn("WARNING: {}", warning);
      }
    });
  }

  void BeginStop(int signo) {
    sd_notify(0, "STOPPING=1\nSTATUS=Stopping");
    spdlog::info("{}: no longer accepting; finishing {} open connection(s)",
                 signo == SIGTERM ? "SIGTERM" : "SIGINT", server_.active_connections());
    server_.Stop();
    deadline_ = std::chrono::steady_clock::now() + Millis(options_.drain_timeout);
    signals_.async_wait([this](error_code ec, int) {
      if (!ec) Finish("second signal");
    });
    PollDrain();
  }

  void PollDrain() {
    if (server_.Drained()) return Finish(nullptr);
    if (std::chrono::steady_clock::now() >= deadline_) return Finish("drain timeout");
    drain_.expires_after(std::chrono::milliseconds(20));
    drain_.async_wait([this](error_code ec) {
      if (!ec) PollDrain();
    });
  }

  void Finish(const char* cut_short) {
    if (cut_short != nullptr) {
      spdlog::warn("{}: closing {} connection(s) still open", cut_short,
                   server_.active_connections());
    }
    for (net::io_context* worker : workers_) worker->stop();
    if (metrics_listener_) metrics_listener_->Stop();
    expiry_check_.cancel();
    ocsp_expiry_.cancel();
    control_.stop();
  }

  std::vector<net::io_context*> workers_;
  Server& server_;
  const Options& options_;
  std::shared_ptr<const ServingState> state_;  // the state served now
  std::shared_ptr<Metrics> metrics_;           // null without --metrics
  net::io_context control_;
  net::signal_set signals_;
  net::steady_timer drain_;
  net::steady_timer expiry_check_;
  net::steady_timer ocsp_expiry_;
  std::unique_ptr<MetricsListener> metrics_listener_;
  std::chrono::steady_clock::time_point deadline_;
};

ServerOptions ToServerOptions(const Options& o) {
  ServerOptions s;
  s.handshake_timeout = Millis(o.handshake_timeout);
  s.header_timeout = Millis(o.header_timeout);
  s.body_timeout = Millis(o.body_timeout);
  s.idle_timeout = Millis(o.idle_timeout);
  s.write_timeout = Millis(o.write_timeout);
  s.max_connections = o.max_connections;
  s.max_connections_per_client = o.max_connections_per_client;
  s.max_requests_per_connection = o.max_requests_per_connection;
  for (const std::string& text : o.proxy_protocol_from) {
    if (auto cidr = ParseCidr(text); cidr.ok()) s.proxy_protocol_from.push_back(*cidr);
  }
  return s;
}

int Serve(const Options& options) {
  auto state = LoadState(options);
  if (!state.ok()) {
    spdlog::error("{}", state.error().message());
    return kExitRefused;
  }
  LogState(*state.value(), options.check_only ? "checked" : "loaded");
  if (options.check_only) return kExitOk;

  // One io_context per I/O thread (server.h): concurrency hint 1 lets Asio
  // skip waking other threads for handlers posted by a connection's own.
  std::vector<std::unique_ptr<net::io_context>> contexts;
  std::vector<net::io_context*> workers;
  for (unsigned i = 0; i < options.threads; ++i) {
    contexts.push_back(std::make_unique<net::io_context>(1));
    workers.push_back(contexts.back().get());
  }
  std::shared_ptr<Metrics> metrics;
  if (!options.metrics.empty()) {
    metrics = std::make_shared<Metrics>(workers.size(), PETERA_VERSION, std::time(nullptr));
  }
  Server server(workers, ToServerOptions(options), state.value(), metrics);
  // Installs the signal handlers.
  Controller controller(workers, server, options, state.value(), metrics);
  if (Status listening = AddListeners(server, options.listen); !listening.ok()) {
    spdlog::error("{}", listening.error().message());
    return kExitRefused;
  }
  if (Status listening = controller.ListenForMetrics(); !listening.ok()) {
    spdlog::error("{}", listening.error().message());
    return kExitRefused;
  }
  std::string addresses;
  for (const std::string& a : server.Addresses()) addresses += (addresses.empty() ? "" : ", ") + a;
  server.Start();
  std::vector<std::thread> threads;
  for (net::io_context* worker : workers) threads.emplace_back([worker] { RunIo(*worker); });
  spdlog::info("peterad {} serving on {} with {} thread(s), at most {} connections",
               PETERA_VERSION, addresses, options.threads, options.max_connections);
  sd_notify(0, "READY=1\nSTATUS=Serving");

  controller.Run();
  for (std::thread& t : threads) t.join();
  spdlog::info("stopped");
  return kExitOk;
}

int Main(int argc, char** argv) {
  Options options;
  CLI::App app{"peterad: the Petera server. Answers blinded recovery requests for the keys in "
               "DECRYPT.d/ and hands out the ENCRYPT.pem chain, over HTTPS.",
               "peterad"};
  AddOptions(app, options);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return kExitUsage;
  }
  if (!options.clients.enabled() &&
      (!options.clients.crls.empty() || !options.clients.allow.empty())) {
    std::fprintf(stderr, "peterad: --client-crl and --client-allow need --client-ca\n");
    return kExitUsage;
  }
  if (Status logging = SetUpLogging(options.log_level); !logging.ok()) {
    std::fprintf(stderr, "peterad: %s\n", logging.error().message().c_str());
    return kExitUsage;
  }
  HardenProcess(options);
  return Serve(options);
}

}  // namespace
}  // namespace petera::peterad

int main(int argc, char** argv) { return petera::peterad::Main(argc, argv); }
