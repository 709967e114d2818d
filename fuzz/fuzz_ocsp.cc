// Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
//
// OCSP responses (ocsp.h): what a server staples is attacker input to every
// client. The seeds in corpus/fuzz_ocsp are real responses, made with the
// openssl command line, about the leaf below and signed by the CA below (or
// by a responder it delegated to), so that mutations reach the signature,
// status and time checks. Only certificates are embedded, never a key.
#include <cstddef>
#include <cstdint>
#include <ctime>
#include <string_view>

#include "petera/ocsp.h"
#include "petera/pem.h"

namespace {

constexpr std::string_view kCaPem = R"(-----BEGIN CERTIFICATE-----
MIIBkzCCATmgAwIBAgIUV/4UwxsrkTg5bN7LJLPHNMwwSPAwCgYIKoZIzj0EAwIw
FzEVMBMGA1UEAwwMRnV6eiBPQ1NQIENBMB4XDTI2MTIwNTE2MTIxMVoXDTQ2MDIw
MzE2MTIxMVowFzEVMBMGA1UEAwwMRnV6eiBPQ1NQIENBMFkwEwYHKoZIzj0CAQYI
KoZIzj0DAQcDQgAE36A8ImX8QBz1NpghcnP2N5jUKS19t83K1ZQIEZOEdYP5SdGV
ERZYYgZsTwnTmIoLoQyDjGk3TkarB9uM1R6xGaNjMGEwHQYDVR0OBBYEFDgMk/p5
h6GIp4rJRCuGhzT20701MB8GA1UdIwQYMBaAFDgMk/p5h6GIp4rJRCuGhzT20701
MA8GA1UdEwEB/wQFMAMBAf8wDgYDVR0PAQH/BAQDAgEGMAoGCCqGSM49BAMCA0gA
MEUCIQDdi5ZdktR58k39SoM0MXLQNr/ekhrt/XH5iKTZDl6+FgIgLLux471R4WSb
wEwyn0XVYSGFBbT95K5ExJaanNg/nsg=
-----END CERTIFICATE-----
)";

constexpr std::string_view kLeafPem = R"(-----BEGIN CERTIFICATE-----
MIIBqTCCAU6gAwIBAgICEAAwCgYIKoZIzj0EAwIwFzEVMBMGA1UEAwwMRnV6eiBP
Q1NQIENBMB4XDTI2MDEwMTAwMDAwMFoXDTQ1MDEwMTAwMDAwMFowFDESMBAGA1UE
AwwJZnV6ei1sZWFmMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE9BAyiQTgfhmw
T42o57anI8GF+mfXy7z5moZCJLjS72nFPYgbKINqhwQdHHMXRZ76JWRrbOZUChDs
zJosXHx5P6OBjDCBiTAMBgNVHRMBAf8EAjAAMA4GA1UdDwEB/wQEAwIHgDATBgNV
HSUEDDAKBggrBgEFBQcDATAUBgNVHREEDTALgglsb2NhbGhvc3QwHQYDVR0OBBYE
FK+bD36HjmgtYa7jlqOIXTHOtevqMB8GA1UdIwQYMBaAFDgMk/p5h6GIp4rJRCuG
hzT20701MAoGCCqGSM49BAMCA0kAMEYCIQDuDV/Hih3QRz4JPk5M8cvPI4KtSwKm
GQpd96Q8cA3R5AIhAILwuyKKKgkCqT2hoBG+jlfXbpmJhFlgoGVQPSrSomWo
-----END CERTIFICATE-----
)";

// A time inside every seed's validity (2027-01-01).
constexpr std::time_t kNow = 1798761600;

struct Certificates {
  petera::X509Ptr ca;
  petera::X509Ptr leaf;
};

const Certificates& Load() {
  static const Certificates* certificates = [] {
    auto ca = petera::ParsePem(kCaPem, "ca");
    auto leaf = petera::ParsePem(kLeafPem, "leaf");
    if (!ca.ok() || !leaf.ok() || ca->certificates.empty() || leaf->certificates.empty()) {
      __builtin_trap();
    }
    return new Certificates{std::move(ca->certificates.front()),
                            std::move(leaf->certificates.front())};
  }();
  return *certificates;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const Certificates& certs = Load();
  std::string_view der(reinterpret_cast<const char*>(data), size);
  auto status = petera::CheckOcspResponse(der, certs.leaf.get(), certs.ca.get(), kNow);
  if (status.ok()) {
    (void)status->Describe();
    (void)petera::CheckOcspCurrent(*status, kNow);
  }
  for (auto policy : {petera::OcspPolicy::kPrefer, petera::OcspPolicy::kRequire}) {
    (void)petera::CheckStapledOcsp(policy, der, certs.leaf.get(), certs.ca.get(), kNow);
  }
  return 0;
}
