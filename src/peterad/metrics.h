// Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
//
// Metrics: what peterad counts for Prometheus (peterad --metrics), and the
// text exposition format it answers GET /metrics with.
//
// Counting stays off the recovery path's critical section: each I/O thread
// counts into a shard of its own (its own cache lines, its own mutex), which
// only that thread writes; a scrape locks each shard once to add them up.
// An uncontended lock is a few tens of nanoseconds against the milliseconds
// of one recovery (docs/benchmarks.md has the measurement).
//
// Label values are bounded: key ids are those of loaded keys only (a kid a
// client sends that matches no key is counted under kid=""), endpoints are
// the three of the protocol or "other", results and phases are fixed words.
// Nothing a client sends becomes a label, so no client can grow the output.
#ifndef PETERA_PETERAD_METRICS_H_
#define PETERA_PETERAD_METRICS_H_

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <ctime>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "peterad/keystore.h"

namespace petera::peterad {

// The endpoints of docs/protocol.md, and everything else.
enum class Endpoint { kRecover, kChain, kHealth, kOther };
inline constexpr size_t kEndpoints = 4;
// "/v1/recover" for "/v1/recover?x", anything unknown as kOther.
Endpoint EndpointOf(std::string_view target);
std::string_view EndpointLabel(Endpoint endpoint);

// The connection phases a timeout can end (server.h lists them).
enum class TimeoutPhase { kHandshake, kIdle, kHeader, kBody, kWrite, kClose };
inline constexpr size_t kTimeoutPhases = 6;

// Why a connection was closed at once, before its handshake.
enum class Refusal { kMaxConnections, kPerClient };
inline constexpr size_t kRefusals = 2;

// Upper bounds (seconds) of the recovery latency histogram's buckets; the
// last bucket, +Inf, is implicit.
inline constexpr std::array<double, 12> kLatencyBuckets = {
    0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5};

// What a scrape reports besides the counters: read from the serving state
// and the server when the scrape comes.
struct MetricsSnapshot {
  std::size_t open_connections = 0;
  std::size_t keys_loaded = 0;
  std::vector<HeldCertificate> certificates;
  // Earliest nextUpdate of the client CRLs; 0 when there is none.
  std::time_t client_crl_next_update = 0;
  // --ocsp-response: whether a response is stapled now, and about the file.
  struct Ocsp {
    bool stapling = false;
    bool have_response = false;  // the file exists and was checked
    bool revoked = false;
    std::time_t valid_until = 0;
  };
  std::optional<Ocsp> ocsp;  // nullopt without --ocsp-response
};

class Metrics {
 public:
  // The counters of one I/O thread. Written by that thread only, read by a
  // scrape: every member function is thread-safe.
  class alignas(64) Shard {
   public:
    // A POST /v1/recover answered: `kid` is the loaded key's id, or empty
    // when the request named no loaded key; `result` is "ok" or the error
    // code of the answer.
    void CountRecovery(const std::string& kid, std::string_view result,
                       std::chrono::nanoseconds latency);
    void CountRequest(Endpoint endpoint, unsigned status);
    // `version`: SSL_get_version's answer for a completed handshake.
    void CountHandshake(std::string_view version, bool ok, bool timed_out, bool resumed);
    void CountTimeout(TimeoutPhase phase);
    void CountRefusal(Refusal why);

   private:
    friend class Metrics;
    mutable std::mutex mu_;
    std::map<std::pair<std::string, std::string>, std::uint64_t> recoveries_;
    std::array<std::uint64_t, kLatencyBuckets.size() + 1> latency_buckets_{};
    double latency_sum_ = 0;
    std::uint64_t latency_count_ = 0;
    std::map<std::pair<Endpoint, unsigned>, std::uint64_t> requests_;
    std::map<std::pair<std::string, std::string>, std::uint64_t> handshakes_;
    std::uint64_t resumptions_ = 0;
    std::array<std::uint64_t, kTimeoutPhases> timeouts_{};
    std::array<std::uint64_t, kRefusals> refusals_{};
  };

  // One shard per I/O thread; `version` goes into peterad_build_info.
  Metrics(std::size_t workers, std::string version, std::time_t start_time);
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  Shard& shard(std::size_t worker) { return *shards_[worker]; }

  // A reload (SIGHUP) ended; the start counts as the first good load.
  void CountReload(bool ok, std::time_t now);

  // The whole exposition, in Prometheus' text format (version 0.0.4).
  std::string Render(const MetricsSnapshot& snapshot) const;

 private:
  std::vector<std::unique_ptr<Shard>> shards_;
  std::string version_;
  std::time_t start_time_;
  mutable std::mutex mu_;  // the reload fields
  std::uint64_t reloads_ok_ = 0;
  std::uint64_t reloads_failed_ = 0;
  bool last_reload_ok_ = true;
  std::time_t last_good_load_;
};

// Escapes a label value for the text format: backslash, double quote and
// newline. Exposed for tests.
std::string EscapeLabelValue(std::string_view value);

}  // namespace petera::peterad

#endif  // PETERA_PETERAD_METRICS_H_
