// Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
//
// Google Benchmark of libpetera's crypto core, per key type (P-256, P-384,
// P-521, RSA-3072):
//
//   Encrypt/KEY/recipients:N   petera::Encrypt of a 32-byte payload to N
//                              recipients of that key type
//   ClientBlind/KEY            StartRecovery: the client's blinding
//   ClientUnblind/KEY          Blinding::Unblind of a server answer
//   ServerRecover/KEY          RecoveryKey::Recover: the whole of the
//                              server's cryptographic work per request
//   Decrypt/KEY                one full recovery in-process: blind, server
//                              operation, unblind, unwrap, decrypt
//   ParseEnvelope/KEY          ParseEnvelope of a one-recipient envelope
//   KeyId/KEY                  petera::KeyId of a certificate's public key
//   Shamir/split/T:N           SplitSecret of a 32-byte content key into N
//                              shares, T of them needed (encrypt --threshold)
//   Shamir/combine/T           CombineShares of T shares (decrypt)
//   OcspCheck/KEY              CheckOcspResponse + CheckOcspCurrent of a
//                              response signed with a KEY issuer key: what
//                              petera adds to a handshake whose server
//                              staples
//
// Keys and self-signed certificates are made in-process at start-up.
#include <benchmark/benchmark.h>
#include <openssl/ocsp.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <string>
#include <utility>
#include <vector>

#include "petera/envelope.h"
#include "petera/ocsp.h"
#include "petera/ossl.h"
#include "petera/recovery.h"
#include "petera/secret.h"
#include "petera/shamir.h"

namespace petera {
namespace {

struct KeyType {
  const char* name;
  const char* algorithm;  // for EVP_PKEY_Q_keygen
  const char* curve;      // EC only
};

constexpr KeyType kKeyTypes[] = {
    {"P-256", "EC", "P-256"},
    {"P-384", "EC", "P-384"},
    {"P-521", "EC", "P-521"},
    {"RSA-3072", "RSA", nullptr},
};

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "petera_bench: %s: %s\n", what.c_str(), DrainSslErrors().c_str());
  std::exit(1);
}

template <typename T>
T Must(Result<T> result, const char* what) {
  if (!result.ok()) Die(std::string(what) + ": " + result.error().message());
  return std::move(result).value();
}

EvpPkeyPtr Generate(const KeyType& type) {
  EVP_PKEY* key = type.curve != nullptr
                      ? EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", type.curve)
                      : EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{3072});
  if (key == nullptr) Die(std::string("cannot generate ") + type.name + " key");
  return EvpPkeyPtr(key);
}

X509Ptr SelfSigned(EVP_PKEY* key) {
  X509Ptr cert(X509_new());
  if (!cert) Die("X509_new");
  X509_NAME* name = X509_get_subject_name(cert.get());
  const auto* cn = reinterpret_cast<const unsigned char*>("petera bench");
  if (X509_set_version(cert.get(), X509_VERSION_3) != 1 ||
      ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 1) != 1 ||
      X509_gmtime_adj(X509_getm_notBefore(cert.get()), 0) == nullptr ||
      X509_gmtime_adj(X509_getm_notAfter(cert.get()), 86400) == nullptr ||
      X509_set_pubkey(cert.get(), key) != 1 ||
      X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, cn, -1, -1, 0) != 1 ||
      X509_set_issuer_name(cert.get(), name) != 1 ||
      X509_sign(cert.get(), key, EVP_sha256()) <= 0) {
    Die("cannot make a certificate");
  }
  return cert;
}

// Everything one key type's benchmarks need, made once.
struct Fixture {
  std::string name;
  EvpPkeyPtr private_key;
  X509Ptr cert;
  RecoveryKey server;
  Envelope envelope;  // a 32-byte payload to this one recipient
};

SecretBytes Payload() {
  SecretBytes payload(32);
  if (RAND_bytes(payload.secret_data(), 32) != 1) Die("RAND_bytes");
  return payload;
}

EncryptionTarget TargetFor(const Fixture& f, uint16_t port) {
  EncryptionTarget target;
  X509_up_ref(f.cert.get());
  target.chain.emplace_back(f.cert.get());
  target.address = {"localhost", port};
  return target;
}

Fixture MakeFixture(const KeyType& type) {
  EvpPkeyPtr key = Generate(type);
  X509Ptr cert = SelfSigned(key.get());
  EVP_PKEY_up_ref(key.get());
  RecoveryKey server = Must(RecoveryKey::Create(EvpPkeyPtr(key.get())), "RecoveryKey");
  Fixture f{type.name, std::move(key), std::move(cert), std::move(server), {}};
  std::vector<EncryptionTarget> targets;
  targets.push_back(TargetFor(f, kDefaultPort));
  std::string text = Must(Encrypt(Payload(), targets), "Encrypt");
  f.envelope = Must(ParseEnvelope(text), "ParseEnvelope");
  return f;
}

void BenchEncrypt(benchmark::State& state, const Fixture* f, int recipients) {
  SecretBytes payload = Payload();
  std::vector<EncryptionTarget> targets;
  for (int i = 0; i < recipients; ++i) {
    targets.push_back(TargetFor(*f, static_cast<uint16_t>(kDefaultPort + i)));
  }
  for (auto _ : state) {
    auto envelope = Encrypt(payload, targets);
    if (!envelope.ok()) state.SkipWithError(envelope.error().message().c_str());
    benchmark::DoNotOptimize(envelope);
  }
}

void BenchClientBlind(benchmark::State& state, const Fixture* f) {
  const Recipient& r = f->envelope.recipients.front();
  for (auto _ : state) {
    auto blinding = StartRecovery(r);
    if (!blinding.ok()) state.SkipWithError(blinding.error().message().c_str());
    benchmark::DoNotOptimize(blinding);
  }
}

void BenchClientUnblind(benchmark::State& state, const Fixture* f) {
  Blinding blinding = Must(StartRecovery(f->envelope.recipients.front()), "StartRecovery");
  Bytes y = Must(f->server.Recover(blinding.request()), "Recover");
  for (auto _ : state) {
    auto unblinded = blinding.Unblind(y);
    if (!unblinded.ok()) state.SkipWithError(unblinded.error().message().c_str());
    benchmark::DoNotOptimize(unblinded);
  }
}

void BenchServerRecover(benchmark::State& state, const Fixture* f) {
  Blinding blinding = Must(StartRecovery(f->envelope.recipients.front()), "StartRecovery");
  for (auto _ : state) {
    auto y = f->server.Recover(blinding.request());
    if (!y.ok()) state.SkipWithError(y.error().message().c_str());
    benchmark::DoNotOptimize(y);
  }
}

Result<SecretBytes> DecryptOnce(const Fixture& f) {
  const Recipient& r = f.envelope.recipients.front();
  PETERA_ASSIGN_OR_RETURN(Blinding blinding, StartRecovery(r));
  PETERA_ASSIGN_OR_RETURN(Bytes y, f.server.Recover(blinding.request()));
  PETERA_ASSIGN_OR_RETURN(SecretBytes unblinded, blinding.Unblind(y));
  PETERA_ASSIGN_OR_RETURN(SecretBytes cek, UnwrapContentKey(r, unblinded));
  return DecryptPayload(f.envelope, cek);
}

void BenchDecrypt(benchmark::State& state, const Fixture* f) {
  for (auto _ : state) {
    auto plaintext = DecryptOnce(*f);
    if (!plaintext.ok()) state.SkipWithError(plaintext.error().message().c_str());
    benchmark::DoNotOptimize(plaintext);
  }
}

void BenchKeyId(benchmark::State& state, const Fixture* f) {
  EVP_PKEY* key = X509_get0_pubkey(f->cert.get());
  for (auto _ : state) {
    auto kid = KeyId(key);
    if (!kid.ok()) state.SkipWithError(kid.error().message().c_str());
    benchmark::DoNotOptimize(kid);
  }
}

void BenchParseEnvelope(benchmark::State& state, const Fixture* f) {
  std::vector<EncryptionTarget> targets;
  targets.push_back(TargetFor(*f, kDefaultPort));
  std::string text = Must(Encrypt(Payload(), targets), "Encrypt");
  for (auto _ : state) {
    auto envelope = ParseEnvelope(text);
    if (!envelope.ok()) state.SkipWithError(envelope.error().message().c_str());
    benchmark::DoNotOptimize(envelope);
  }
}

// A good OCSP response about the fixture's certificate, signed by its own key
// (the certificate is self-signed: it is its own issuer).
std::string OcspResponseFor(const Fixture& f) {
  using BasicPtr = OsslPtr<OCSP_BASICRESP, OCSP_BASICRESP_free>;
  using ResponsePtr = OsslPtr<OCSP_RESPONSE, OCSP_RESPONSE_free>;
  BasicPtr basic(OCSP_BASICRESP_new());
  OCSP_CERTID* id = OCSP_cert_to_id(nullptr, f.cert.get(), f.cert.get());
  ASN1_TIME* now = X509_gmtime_adj(nullptr, 0);
  ASN1_TIME* later = X509_gmtime_adj(nullptr, 86400);
  bool ok = basic && id && now && later &&
            OCSP_basic_add1_status(basic.get(), id, V_OCSP_CERTSTATUS_GOOD, 0, nullptr, now,
                                   later) != nullptr &&
            OCSP_basic_sign(basic.get(), f.cert.get(), f.private_key.get(), EVP_sha256(),
                            nullptr, OCSP_NOCERTS) == 1;
  OCSP_CERTID_free(id);
  ASN1_TIME_free(now);
  ASN1_TIME_free(later);
  if (!ok) Die("cannot make an OCSP response");
  ResponsePtr response(OCSP_response_create(OCSP_RESPONSE_STATUS_SUCCESSFUL, basic.get()));
  unsigned char* der = nullptr;
  int length = response ? i2d_OCSP_RESPONSE(response.get(), &der) : -1;
  if (length <= 0) Die("cannot encode an OCSP response");
  std::string out(reinterpret_cast<const char*>(der), static_cast<size_t>(length));
  OPENSSL_free(der);
  return out;
}

void BenchOcspCheck(benchmark::State& state, const Fixture* f) {
  std::string der = OcspResponseFor(*f);
  for (auto _ : state) {
    auto status = CheckOcspResponse(der, f->cert.get(), f->cert.get(), std::time(nullptr));
    if (!status.ok() || !CheckOcspCurrent(*status, std::time(nullptr)).ok()) {
      state.SkipWithError("the OCSP response does not check");
    }
    benchmark::DoNotOptimize(status);
  }
}

void BenchSplit(benchmark::State& state, size_t threshold, size_t count) {
  SecretBytes key(32);
  for (auto _ : state) {
    auto shares = SplitSecret(key, threshold, count);
    benchmark::DoNotOptimize(shares);
  }
}

void BenchCombine(benchmark::State& state, size_t threshold) {
  SecretBytes key(32);
  auto shares = SplitSecret(key, threshold, threshold);
  if (!shares.ok()) std::abort();
  for (auto _ : state) {
    auto combined = CombineShares(*shares);
    benchmark::DoNotOptimize(combined);
  }
}

void RegisterAll(const std::vector<Fixture>& fixtures) {
  for (auto [threshold, count] : {std::pair<size_t, size_t>{2, 3}, {3, 5}}) {
    std::string suffix = std::to_string(threshold) + ":" + std::to_string(count);
    benchmark::RegisterBenchmark(("Shamir/split/" + suffix).c_str(), BenchSplit, threshold, count)
        ->Unit(benchmark::kMicrosecond);
    benchmark::RegisterBenchmark(("Shamir/combine/" + std::to_string(threshold)).c_str(),
                                 BenchCombine, threshold)
        ->Unit(benchmark::kMicrosecond);
  }
  for (const Fixture& f : fixtures) {
    const Fixture* p = &f;
    for (int n : {1, 3}) {
      std::string name = "Encrypt/" + f.name + "/recipients:" + std::to_string(n);
      benchmark::RegisterBenchmark(name.c_str(), BenchEncrypt, p, n)
          ->Unit(benchmark::kMicrosecond);
    }
    benchmark::RegisterBenchmark(("ClientBlind/" + f.name).c_str(), BenchClientBlind, p)
        ->Unit(benchmark::kMicrosecond);
    benchmark::RegisterBenchmark(("ClientUnblind/" + f.name).c_str(), BenchClientUnblind, p)
        ->Unit(benchmark::kMicrosecond);
    benchmark::RegisterBenchmark(("ServerRecover/" + f.name).c_str(), BenchServerRecover, p)
        ->Unit(benchmark::kMicrosecond);
    benchmark::RegisterBenchmark(("Decrypt/" + f.name).c_str(), BenchDecrypt, p)
        ->Unit(benchmark::kMicrosecond);
    benchmark::RegisterBenchmark(("ParseEnvelope/" + f.name).c_str(), BenchParseEnvelope, p)
        ->Unit(benchmark::kMicrosecond);
    benchmark::RegisterBenchmark(("KeyId/" + f.name).c_str(), BenchKeyId, p)
        ->Unit(benchmark::kMicrosecond);
    benchmark::RegisterBenchmark(("OcspCheck/" + f.name).c_str(), BenchOcspCheck, p)
        ->Unit(benchmark::kMicrosecond);
  }
}

}  // namespace
}  // namespace petera

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  std::vector<petera::Fixture> fixtures;
  for (const auto& type : petera::kKeyTypes) fixtures.push_back(petera::MakeFixture(type));
  petera::RegisterAll(fixtures);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
