// Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
//
// petera_make_requests: prints N bodies of POST /v1/recover, one JSON object
// per line, for the leaf of an encryption chain. They are what a real client
// sends: a fresh envelope is encrypted to the chain and every line is a new
// blinding of its recipient (X = epk + e*G with a new random e for EC,
// c*r^e mod n with a new random r for RSA). Used by bench/load.sh to feed
// wrk and petera_connload.
//
//   petera_make_requests CHAIN.pem N > bodies.jsonl
//
// Exit status: 0 success, 1 failure, 2 usage.
#include <openssl/rand.h>

#include <charconv>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "petera/address.h"
#include "petera/envelope.h"
#include "petera/pem.h"
#include "petera/recovery.h"
#include "petera/secret.h"

namespace petera {
namespace {

constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;
constexpr size_t kMaxRequests = 100000;
constexpr size_t kSecretBytes = 32;

int Usage() {
  std::fputs("usage: petera_make_requests CHAIN.pem N   (1 <= N <= 100000)\n", stderr);
  return kExitUsage;
}

int Fail(const Error& error) {
  std::fprintf(stderr, "petera_make_requests: %s\n", error.message().c_str());
  return kExitFailure;
}

// An envelope with one recipient, the leaf of `chain_path`.
Result<Envelope> FreshEnvelope(const std::string& chain_path) {
  PETERA_ASSIGN_OR_RETURN(PemContents pem, LoadPemFile(chain_path));
  if (pem.certificates.empty()) {
    return Error(ErrorCategory::kUsage, chain_path + ": no certificate");
  }
  EncryptionTarget target;
  target.chain = std::move(pem.certificates);
  PETERA_ASSIGN_OR_RETURN(target.address, ParseAddress("127.0.0.1"));
  SecretBytes secret(kSecretBytes);
  if (RAND_bytes(secret.secret_data(), static_cast<int>(kSecretBytes)) != 1) {
    return SslError("cannot draw the test secret");
  }
  std::vector<EncryptionTarget> targets;
  targets.push_back(std::move(target));
  PETERA_ASSIGN_OR_RETURN(std::string text, Encrypt(secret, targets));
  return ParseEnvelope(text);
}

Status PrintRequests(const Recipient& recipient, size_t count) {
  for (size_t i = 0; i < count; ++i) {
    PETERA_ASSIGN_OR_RETURN(Blinding blinding, StartRecovery(recipient));
    std::string line = SerializeRecoveryRequest(RecoveryRequest{recipient.kid, blinding.request()});
    line.push_back('\n');
    if (std::fwrite(line.data(), 1, line.size(), stdout) != line.size()) {
      return Error(ErrorCategory::kUsage, "cannot write stdout");
    }
  }
  if (std::fflush(stdout) != 0) return Error(ErrorCategory::kUsage, "cannot write stdout");
  return OkStatus();
}

int Run(int argc, char** argv) {
  if (argc != 3) return Usage();
  std::string_view count_text = argv[2];
  size_t count = 0;
  auto [end, err] = std::from_chars(count_text.data(), count_text.data() + count_text.size(), count);
  if (err != std::errc() || end != count_text.data() + count_text.size() || count == 0 ||
      count > kMaxRequests) {
    return Usage();
  }
  auto envelope = FreshEnvelope(argv[1]);
  if (!envelope.ok()) return Fail(envelope.error());
  if (envelope->recipients.size() != 1) {
    return Fail(Error(ErrorCategory::kInternal, "expected exactly one recipient"));
  }
  Status printed = PrintRequests(envelope->recipients.front(), count);
  if (!printed.ok()) return Fail(printed.error());
  return 0;
}

}  // namespace
}  // namespace petera

int main(int argc, char** argv) { return petera::Run(argc, argv); }
