// Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
#include "peterad/metrics.h"

#include <algorithm>
#include <cstdio>

namespace petera::peterad {
namespace {

constexpr std::array<std::string_view, kTimeoutPhases> kPhaseLabels = {
    "handshake", "idle", "header", "body", "write", "close"};
constexpr std::array<std::string_view, kRefusals> kRefusalLabels = {"max_connections",
                                                                    "per_client"};

std::string Number(double value) {
  char text[32];
  std::snprintf(text, sizeof(text), "%.9g", value);
  return text;
}

// Writes the HELP and TYPE lines of one metric family.
void Family(std::string& out, std::string_view name, std::string_view type,
            std::string_view help) {
  out.append("# HELP ").append(name).append(" ").append(help).append("\n");
  out.append("# TYPE ").append(name).append(" ").append(type).append("\n");
}

// name{labels} value
void Sample(std::string& out, std::string_view name, std::string_view labels,
            std::string_view value) {
  out.append(name);
  if (!labels.empty()) out.append("{").append(labels).append("}");
  out.append(" ").append(value).append("\n");
}

void Sample(std::string& out, std::string_view name, std::string_view labels,
            std::uint64_t value) {
  Sample(out, name, labels, std::to_string(value));
}

std::string Label(std::string_view name, std::string_view value) {
  return std::string(name) + "=\"" + EscapeLabelValue(value) + "\"";
}

}  // namespace

Endpoint EndpointOf(std::string_view target) {
  target = target.substr(0, target.find('?'));
  if (target == "/v1/recover") return Endpoint::kRecover;
  if (target == "/v1/chain") return Endpoint::kChain;
  if (target == "/v1/health") return Endpoint::kHealth;
  return Endpoint::kOther;
}

std::string_view EndpointLabel(Endpoint endpoint) {
  switch (endpoint) {
    case Endpoint::kRecover:
      return "/v1/recover";
    case Endpoint::kChain:
      return "/v1/chain";
    case Endpoint::kHealth:
      return "/v1/health";
    case Endpoint::kOther:
      break;
  }
  return "other";
}

std::string EscapeLabelValue(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

// --- Shard --------------------------------------------------------------------

void Metrics::Shard::CountRecovery(const std::string& kid, std::string_view result,
                                   std::chrono::nanoseconds latency) {
  double seconds = std::chrono::duration<double>(latency).count();
  size_t bucket = static_cast<size_t>(
      std::lower_bound(kLatencyBuckets.begin(), kLatencyBuckets.end(), seconds) -
      kLatencyBuckets.begin());
  std::lock_guard<std::mutex> lock(mu_);
  auto key = std::make_pair(kid, std::string(result));
  ++recoveries_[std::move(key)];
  ++latency_buckets_[bucket];
  latency_sum_ += seconds;
  ++latency_count_;
}

void Metrics::Shard::CountRequest(Endpoint endpoint, unsigned status) {
  std::lock_guard<std::mutex> lock(mu_);
  ++requests_[{endpoint, status}];
}

void Metrics::Shard::CountHandshake(std::string_view version, bool ok, bool timed_out,
                                    bool resumed) {
  std::string result = ok ? "ok" : (timed_out ? "timeout" : "failed");
  std::lock_guard<std::mutex> lock(mu_);
  ++handshakes_[{ok ? std::string(version) : std::string(), std::move(result)}];
  if (ok && resumed) ++resumptions_;
}

void Metrics::Shard::CountTimeout(TimeoutPhase phase) {
  std::lock_guard<std::mutex> lock(mu_);
  ++timeouts_[static_cast<size_t>(phase)];
}

void Metrics::Shard::CountRefusal(Refusal why) {
  std::lock_guard<std::mutex> lock(mu_);
  ++refusals_[static_cast<size_t>(why)];
}

// --- Metrics ------------------------------------------------------------------

Metrics::Metrics(size_t workers, std::string version, std::time_t start_time)
    : version_(std::move(version)), start_time_(start_time), last_good_load_(start_time) {
  for (size_t i = 0; i < std::max<size_t>(workers, 1); ++i) {
    shards_.push_back(std::make_unique<Shard>());
  }
}

void Metrics::CountReload(bool ok, std::time_t now) {
  std::lock_guard<std::mutex> lock(mu_);
  (ok ? reloads_ok_ : reloads_failed_)++;
  last_reload_ok_ = ok;
  if (ok) last_good_load_ = now;
}

std::string Metrics::Render(const MetricsSnapshot& snapshot) const {
  // Add the shards up.
  std::map<std::pair<std::string, std::string>, std::uint64_t> recoveries;
  std::array<std::uint64_t, kLatencyBuckets.size() + 1> buckets{};
  double latency_sum = 0;
  std::uint64_t latency_count = 0;
  std::map<std::pair<Endpoint, unsigned>, std::uint64_t> requests;
  std::map<std::pair<std::string, std::string>, std::uint64_t> handshakes;
  std::uint64_t resumptions = 0;
  std::array<std::uint64_t, kTimeoutPhases> timeouts{};
  std::array<std::uint64_t, kRefusals> refusals{};
  for (const auto& shard : shards_) {
    std::lock_guard<std::mutex> lock(shard->mu_);
    for (const auto& [key, n] : shard->recoveries_) recoveries[key] += n;
    for (size_t i = 0; i < buckets.size(); ++i) buckets[i] += shard->latency_buckets_[i];
    latency_sum += shard->latency_sum_;
    latency_count += shard->latency_count_;
    for (const auto& [key, n] : shard->requests_) requests[key] += n;
    for (const auto& [key, n] : shard->handshakes_) handshakes[key] += n;
    resumptions += shard->resumptions_;
    for (size_t i = 0; i < timeouts.size(); ++i) timeouts[i] += shard->timeouts_[i];
    for (size_t i = 0; i < refusals.size(); ++i) refusals[i] += shard->refusals_[i];
  }

  std::string out;
  out.reserve(4096 + 160 * snapshot.certificates.size() + 120 * recoveries.size());

  Family(out, "peterad_build_info", "gauge", "Always 1; the version of peterad.");
  Sample(out, "peterad_build_info", Label("version", version_), 1);
  Family(out, "peterad_start_time_seconds", "gauge",
         "When peterad started, in seconds since the Unix epoch.");
  Sample(out, "peterad_start_time_seconds", "", static_cast<std::uint64_t>(start_time_));

  Family(out, "peterad_recoveries_total", "counter",
         "POST /v1/recover requests answered, by key id (empty: no loaded key) and result "
         "(ok or the error code of the answer).");
  for (const auto& [key, n] : recoveries) {
    Sample(out, "peterad_recoveries_total",
           Label("kid", key.first) + "," + Label("result", key.second), n);
  }

  Family(out, "peterad_recover_duration_seconds", "histogram",
         "Time from the first byte of a POST /v1/recover request to its answer, ready to send.");
  std::uint64_t cumulative = 0;
  for (size_t i = 0; i < kLatencyBuckets.size(); ++i) {
    cumulative += buckets[i];
    Sample(out, "peterad_recover_duration_seconds_bucket",
           Label("le", Number(kLatencyBuckets[i])), cumulative);
  }
  cumulative += buckets.back();
  Sample(out, "peterad_recover_duration_seconds_bucket", Label("le", "+Inf"), cumulative);
  Sample(out, "peterad_recover_duration_seconds_sum", "", Number(latency_sum));
  Sample(out, "peterad_recover_duration_seconds_count", "", latency_count);

  Family(out, "peterad_http_requests_total", "counter",
         "HTTP requests answered, by endpoint and status code.");
  for (const auto& [key, n] : requests) {
    Sample(out, "peterad_http_requests_total",
           Label("endpoint", EndpointLabel(key.first)) + "," +
               Label("code", std::to_string(key.second)),
           n);
  }

  Family(out, "peterad_tls_handshakes_total", "counter",
         "TLS handshakes, by protocol version (empty when none was agreed) and result "
         "(ok, failed, timeout).");
  for (const auto& [key, n] : handshakes) {
    Sample(out, "peterad_tls_handshakes_total",
           Label("version", key.first) + "," + Label("result", key.second), n);
  }
  Family(out, "peterad_tls_resumptions_total", "counter",
         "TLS handshakes that resumed an earlier session.");
  Sample(out, "peterad_tls_resumptions_total", "", resumptions);

  Family(out, "peterad_connections_open", "gauge", "Client connections open now.");
  Sample(out, "peterad_connections_open", "",
         static_cast<std::uint64_t>(snapshot.open_connections));
  Family(out, "peterad_connections_refused_total", "counter",
         "Connections closed at once, by reason (--max-connections, "
         "--max-connections-per-client).");
  for (size_t i = 0; i < kRefusals; ++i) {
    Sample(out, "peterad_connections_refused_total", Label("reason", kRefusalLabels[i]),
           refusals[i]);
  }
  Family(out, "peterad_timeouts_total", "counter",
         "Connections a timeout ended, by the phase it ended.");
  for (size_t i = 0; i < kTimeoutPhases; ++i) {
    Sample(out, "peterad_timeouts_total", Label("phase", kPhaseLabels[i]), timeouts[i]);
  }

  Family(out, "peterad_keys_loaded", "gauge", "Decryption keys loaded from DECRYPT.d/.");
  Sample(out, "peterad_keys_loaded", "", static_cast<std::uint64_t>(snapshot.keys_loaded));
  {
    std::lock_guard<std::mutex> lock(mu_);
    Family(out, "peterad_reloads_total", "counter", "Reloads (SIGHUP), by result.");
    Sample(out, "peterad_reloads_total", Label("result", "ok"), reloads_ok_);
    Sample(out, "peterad_reloads_total", Label("result", "failed"), reloads_failed_);
    Family(out, "peterad_last_reload_successful", "gauge",
           "1 when the last reload succeeded (or none was asked for), 0 when it failed and "
           "the previous files are still served.");
    Sample(out, "peterad_last_reload_successful", "", last_reload_ok_ ? 1 : 0);
    Family(out, "peterad_last_good_load_timestamp_seconds", "gauge",
           "When the files served now were loaded, in seconds since the Unix epoch.");
    Sample(out, "peterad_last_good_load_timestamp_seconds", "",
           static_cast<std::uint64_t>(last_good_load_));
  }

  Family(out, "peterad_certificate_expiry_timestamp_seconds", "gauge",
         "notAfter of every certificate the server holds, in seconds since the Unix epoch, "
         "by role (tls, tls_chain, encryption, encryption_chain, decryption, client_ca), "
         "key id and subject.");
  // A certificate may appear twice in one role (an intermediate in two
  // decryption files): one sample per label set.
  std::map<std::string, std::time_t> expiry;
  for (const HeldCertificate& cert : snapshot.certificates) {
    std::string labels = Label("role", cert.role) + "," + Label("kid", cert.kid) + "," +
                         Label("subject", cert.subject);
    auto [it, added] = expiry.emplace(std::move(labels), cert.not_after);
    if (!added) it->second = std::min(it->second, cert.not_after);
  }
  for (const auto& [labels, when] : expiry) {
    Sample(out, "peterad_certificate_expiry_timestamp_seconds", labels,
           std::to_string(static_cast<long long>(when)));
  }
  if (snapshot.client_crl_next_update != 0) {
    Family(out, "peterad_client_crl_next_update_timestamp_seconds", "gauge",
           "The earliest nextUpdate of the --client-crl files, in seconds since the Unix "
           "epoch: a CRL past it refuses every client.");
    Sample(out, "peterad_client_crl_next_update_timestamp_seconds", "",
           std::to_string(static_cast<long long>(snapshot.client_crl_next_update)));
  }
  if (snapshot.ocsp) {
    Family(out, "peterad_ocsp_stapling", "gauge",
           "1 while the --ocsp-response is stapled to handshakes; 0 when the file is missing "
           "or the response expired.");
    Sample(out, "peterad_ocsp_stapling", "", snapshot.ocsp->stapling ? "1" : "0");
    if (snapshot.ocsp->have_response) {
      Family(out, "peterad_ocsp_response_valid_until_timestamp_seconds", "gauge",
             "When the loaded OCSP response stops being current (its nextUpdate), in seconds "
             "since the Unix epoch.");
      Sample(out, "peterad_ocsp_response_valid_until_timestamp_seconds", "",
             std::to_string(static_cast<long long>(snapshot.ocsp->valid_until)));
      Family(out, "peterad_ocsp_certificate_revoked", "gauge",
             "1 when the loaded OCSP response says the TLS certificate is revoked.");
      Sample(out, "peterad_ocsp_certificate_revoked", "", snapshot.ocsp->revoked ? "1" : "0");
    }
  }
  return out;
}

}  // namespace petera::peterad
