// Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
#include "peterad/metrics.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "peterad/keystore.h"

namespace petera::peterad {
namespace {

using std::chrono::microseconds;
using std::chrono::milliseconds;

bool Has(const std::string& text, const std::string& line) {
  return text.find("\n" + line + "\n") != std::string::npos;
}

TEST(MetricsTest, EndpointsAreTheProtocolsOrOther) {
  EXPECT_EQ(EndpointOf("/v1/recover"), Endpoint::kRecover);
  EXPECT_EQ(EndpointOf("/v1/recover?x=1"), Endpoint::kRecover);
  EXPECT_EQ(EndpointOf("/v1/chain"), Endpoint::kChain);
  EXPECT_EQ(EndpointOf("/v1/health"), Endpoint::kHealth);
  EXPECT_EQ(EndpointOf("/v1/recover/"), Endpoint::kOther);
  EXPECT_EQ(EndpointOf("-"), Endpoint::kOther);
  EXPECT_EQ(EndpointOf(""), Endpoint::kOther);
  EXPECT_EQ(EndpointLabel(Endpoint::kOther), "other");
  EXPECT_EQ(EndpointLabel(Endpoint::kHealth), "/v1/health");
}

TEST(MetricsTest, LabelValuesAreEscaped) {
  EXPECT_EQ(EscapeLabelValue(R"(CN=a"b\c)"), R"(CN=a\"b\\c)");
  EXPECT_EQ(EscapeLabelValue("two\nlines"), "two\\nlines");
  EXPECT_EQ(EscapeLabelValue("plain"), "plain");
}

TEST(MetricsTest, ShardsAreAddedUp) {
  Metrics metrics(2, "1.2.3", 1700000000);
  metrics.shard(0).CountRecovery("kid-a", "ok", microseconds(300));
  metrics.shard(1).CountRecovery("kid-a", "ok", milliseconds(3));
  metrics.shard(1).CountRecovery("", "not_found", milliseconds(2000));
  metrics.shard(0).CountRequest(Endpoint::kRecover, 200);
  metrics.shard(1).CountRequest(Endpoint::kRecover, 200);
  metrics.shard(1).CountRequest(Endpoint::kOther, 404);
  metrics.shard(0).CountHandshake("TLSv1.3", true, false, false);
  metrics.shard(1).CountHandshake("TLSv1.3", true, false, true);
  metrics.shard(1).CountHandshake("", false, true, false);
  metrics.shard(0).CountTimeout(TimeoutPhase::kHeader);
  metrics.shard(1).CountRefusal(Refusal::kPerClient);
  std::string text = metrics.Render(MetricsSnapshot{7, 3, {}, 0, std::nullopt});

  EXPECT_TRUE(Has(text, R"(peterad_build_info{version="1.2.3"} 1)")) << text;
  EXPECT_TRUE(Has(text, "peterad_start_time_seconds 1700000000"));
  EXPECT_TRUE(Has(text, R"(peterad_recoveries_total{kid="kid-a",result="ok"} 2)"));
  EXPECT_TRUE(Has(text, R"(peterad_recoveries_total{kid="",result="not_found"} 1)"));
  EXPECT_TRUE(Has(text, R"(peterad_http_requests_total{endpoint="/v1/recover",code="200"} 2)"));
  EXPECT_TRUE(Has(text, R"(peterad_http_requests_total{endpoint="other",code="404"} 1)"));
  EXPECT_TRUE(Has(text, R"(peterad_tls_handshakes_total{version="TLSv1.3",result="ok"} 2)"));
  EXPECT_TRUE(Has(text, R"(peterad_tls_handshakes_total{version="",result="timeout"} 1)"));
  EXPECT_TRUE(Has(text, "peterad_tls_resumptions_total 1"));
  EXPECT_TRUE(Has(text, R"(peterad_timeouts_total{phase="header"} 1)"));
  EXPECT_TRUE(Has(text, R"(peterad_timeouts_total{phase="handshake"} 0)"));
  EXPECT_TRUE(Has(text, R"(peterad_connections_refused_total{reason="per_client"} 1)"));
  EXPECT_TRUE(Has(text, R"(peterad_connections_refused_total{reason="max_connections"} 0)"));
  EXPECT_TRUE(Has(text, "peterad_connections_open 7"));
  EXPECT_TRUE(Has(text, "peterad_keys_loaded 3"));
  // The histogram is cumulative: 0.3 ms, 3 ms and 2 s.
  EXPECT_TRUE(Has(text, R"(peterad_recover_duration_seconds_bucket{le="0.0005"} 1)"));
  EXPECT_TRUE(Has(text, R"(peterad_recover_duration_seconds_bucket{le="0.002"} 1)"));
  EXPECT_TRUE(Has(text, R"(peterad_recover_duration_seconds_bucket{le="0.005"} 2)"));
  EXPECT_TRUE(Has(text, R"(peterad_recover_duration_seconds_bucket{le="1"} 2)"));
  EXPECT_TRUE(Has(text, R"(peterad_recover_duration_seconds_bucket{le="5"} 3)"));
  EXPECT_TRUE(Has(text, R"(peterad_recover_duration_seconds_bucket{le="+Inf"} 3)"));
  EXPECT_TRUE(Has(text, "peterad_recover_duration_seconds_count 3"));
  EXPECT_TRUE(Has(text, "peterad_recover_duration_seconds_sum 2.0033"));
  // No CRL, no CRL metric.
  EXPECT_EQ(text.find("peterad_client_crl_next_update"), std::string::npos);
}

TEST(MetricsTest, EveryFamilyHasHelpAndType) {
  Metrics metrics(1, "v", 0);
  metrics.shard(0).CountRecovery("k", "ok", microseconds(1));
  std::string text = metrics.Render(MetricsSnapshot{
      0, 1, {{"tls", "", "CN=x", 5}}, 9, MetricsSnapshot::Ocsp{true, true, false, 77}});
  size_t families = 0;
  size_t pos = 0;
  while ((pos = text.find("# TYPE ", pos)) != std::string::npos) {
    size_t end = text.find(' ', pos + 7);
    std::string name = text.substr(pos + 7, end - pos - 7);
    EXPECT_NE(text.find("# HELP " + name + " "), std::string::npos) << name;
    ++families;
    ++pos;
  }
  EXPECT_EQ(families, 19u);
  EXPECT_TRUE(Has(text, "peterad_client_crl_next_update_timestamp_seconds 9"));
  EXPECT_TRUE(Has(text, "peterad_ocsp_stapling 1"));
  EXPECT_TRUE(Has(text, "peterad_ocsp_response_valid_until_timestamp_seconds 77"));
  EXPECT_TRUE(Has(text, "peterad_ocsp_certificate_revoked 0"));
}

TEST(MetricsTest, OcspWithoutAResponseSaysOnlyThatNothingIsStapled) {
  Metrics metrics(1, "v", 0);
  std::string text = metrics.Render(MetricsSnapshot{0, 1, {}, 0, MetricsSnapshot::Ocsp{}});
  EXPECT_TRUE(Has(text, "peterad_ocsp_stapling 0"));
  EXPECT_EQ(text.find("peterad_ocsp_response_valid_until"), std::string::npos);
  EXPECT_EQ(text.find("peterad_ocsp_certificate_revoked"), std::string::npos);
  // Without --ocsp-response, no OCSP family at all.
  EXPECT_EQ(metrics.Render(MetricsSnapshot{}).find("peterad_ocsp"), std::string::npos);
}

TEST(MetricsTest, ReloadsAreCounted) {
  Metrics metrics(1, "v", 100);
  metrics.CountReload(true, 200);
  metrics.CountReload(false, 300);
  std::string text = metrics.Render(MetricsSnapshot{});
  EXPECT_TRUE(Has(text, R"(peterad_reloads_total{result="ok"} 1)"));
  EXPECT_TRUE(Has(text, R"(peterad_reloads_total{result="failed"} 1)"));
  EXPECT_TRUE(Has(text, "peterad_last_reload_successful 0"));
  EXPECT_TRUE(Has(text, "peterad_last_good_load_timestamp_seconds 200"));
  metrics.CountReload(true, 400);
  text = metrics.Render(MetricsSnapshot{});
  EXPECT_TRUE(Has(text, "peterad_last_reload_successful 1"));
  EXPECT_TRUE(Has(text, "peterad_last_good_load_timestamp_seconds 400"));
}

TEST(MetricsTest, CertificatesAreOneSampleEachWithTheEarliestExpiry) {
  Metrics metrics(1, "v", 0);
  std::vector<HeldCertificate> certs = {
      {"tls", "", "CN=s1", 2000},
      {"decryption", "k1", R"(CN="quoted")", 1000},
      {"decryption_chain", "", "CN=CA", 5000},
      {"decryption_chain", "", "CN=CA", 4000},  // the same CA in two files
  };
  std::string text = metrics.Render(MetricsSnapshot{0, 1, certs, 0, std::nullopt});
  EXPECT_TRUE(Has(text,
      R"(peterad_certificate_expiry_timestamp_seconds{role="tls",kid="",subject="CN=s1"} 2000)"));
  EXPECT_TRUE(Has(text,
      R"(peterad_certificate_expiry_timestamp_seconds{role="decryption",kid="k1",subject="CN=\"quoted\""} 1000)"));
  EXPECT_TRUE(Has(text,
      R"(peterad_certificate_expiry_timestamp_seconds{role="decryption_chain",kid="",subject="CN=CA"} 4000)"));
  EXPECT_EQ(text.find("} 5000"), std::string::npos);
}

TEST(MetricsTest, CountingFromManyThreadsWhileScrapingLosesNothing) {
  constexpr size_t kThreads = 4;
  constexpr int kPerThread = 5000;
  Metrics metrics(kThreads, "v", 0);
  std::vector<std::thread> threads;
  for (size_t t = 0; t < kThreads; ++t) {
    threads.emplace_back([&metrics, t] {
      for (int i = 0; i < kPerThread; ++i) {
        metrics.shard(t).CountRecovery("k", "ok", microseconds(100));
        metrics.shard(t).CountRequest(Endpoint::kRecover, 200);
      }
    });
  }
  for (int i = 0; i < 20; ++i) metrics.Render(MetricsSnapshot{});
  for (std::thread& t : threads) t.join();
  std::string text = metrics.Render(MetricsSnapshot{});
  EXPECT_TRUE(Has(text, R"(peterad_recoveries_total{kid="k",result="ok"} 20000)"));
  EXPECT_TRUE(Has(text, "peterad_recover_duration_seconds_count 20000"));
}

TEST(ExpiryWarningsTest, WarnsWithinThirtyDaysButNotForDecryptionKeys) {
  constexpr std::time_t kDay = 86400;
  constexpr std::time_t kNow = 1800000000;
  std::vector<HeldCertificate> certs = {
      {"tls", "", "CN=soon", kNow + 10 * kDay},
      {"encryption", "k", "CN=later", kNow + 90 * kDay},
      {"encryption_chain", "", "CN=gone", kNow - 3 * kDay},
      {"decryption", "old", "CN=old key", kNow - 400 * kDay},
      {"client_ca", "", "CN=clients", kNow + 29 * kDay},
  };
  std::vector<std::string> warnings = ExpiryWarnings(certs, kNow);
  ASSERT_EQ(warnings.size(), 3u);
  EXPECT_EQ(warnings[0], "tls certificate CN=soon expires in 10 day(s): renew it and send SIGHUP");
  EXPECT_EQ(warnings[1],
            "encryption_chain certificate CN=gone EXPIRED 3 day(s) ago: renew it and send SIGHUP");
  EXPECT_EQ(warnings[2],
            "client_ca certificate CN=clients expires in 29 day(s): renew it and send SIGHUP");
}

}  // namespace
}  // namespace petera::peterad
