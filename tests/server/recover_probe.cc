// Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
//
// Test-only helper for the end-to-end tests of peterad: the client half of a
// blinded recovery, driven over stdin/stdout so that Python does the HTTPS.
//
//   recover_probe kid CERT.pem       prints the kid of the first certificate
//   recover_probe request CERT.pem   prints a valid POST /v1/recover body for
//                                    a fresh random envelope key, and exits
//   recover_probe round CERT.pem     prints a request body line, reads the
//                                    answer body line from stdin, unblinds it
//                                    and compares with the value the envelope
//                                    encryption produced: prints
//                                    "expected=HEX", "recovered=HEX" and
//                                    "OK" (exit 0) or "MISMATCH" (exit 1)
//
// The values are throwaway test keys; a real client never prints them.
#include <iostream>
#include <string>

#include "petera/ossl.h"
#include "petera/pem.h"
#include "petera/recovery.h"
#include "probe.h"

namespace {

using petera::Error;
using petera::ErrorCategory;
using petera::Result;
using petera::testing::Hex;

Result<petera::X509Ptr> LoadLeaf(const std::string& path) {
  PETERA_ASSIGN_OR_RETURN(petera::PemContents pem, petera::LoadPemFile(path));
  if (pem.certificates.empty()) return Error(ErrorCategory::kUsage, path + ": no certificate");
  return std::move(pem.certificates.front());
}

int Fail(const std::string& message) {
  std::cerr << "recover_probe: " << message << "\n";
  return 2;
}

int Run(const std::string& mode, const std::string& path) {
  auto leaf = LoadLeaf(path);
  if (!leaf.ok()) return Fail(leaf.error().message());
  EVP_PKEY* key = X509_get0_pubkey(leaf->get());
  auto probe = petera::testing::StartProbe(key);
  if (!probe.ok()) return Fail(probe.error().message());
  if (mode == "kid") {
    std::cout << probe->kid << std::endl;
    return 0;
  }
  std::cout << probe->RequestBody() << std::endl;
  if (mode == "request") return 0;

  std::string line;
  if (!std::getline(std::cin, line)) return Fail("no answer on stdin");
  auto answer = petera::ParseRecoveryResponse(line);
  if (!answer.ok()) return Fail("answer: " + answer.error().message());
  auto recovered = probe->blinding.Unblind(answer->y);
  if (!recovered.ok()) return Fail("unblind: " + recovered.error().message());
  std::cout << "expected=" << Hex(probe->expected.secret_view()) << "\n"
            << "recovered=" << Hex(recovered->secret_view()) << "\n";
  bool same = recovered->size() == probe->expected.size() &&
              recovered->ConstantTimeEquals(probe->expected);
  std::cout << (same ? "OK" : "MISMATCH") << std::endl;
  return same ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) return Fail("usage: recover_probe kid|request|round CERT.pem");
  std::string mode = argv[1];
  if (mode != "kid" && mode != "request" && mode != "round") return Fail("unknown mode " + mode);
  return Run(mode, argv[2]);
}
