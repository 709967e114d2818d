// Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
//
// petera_envtool: a test-only driver of the envelope code, so that other
// JOSE implementations (jwcrypto) can be checked against it from a script.
//
//   petera_envtool encrypt [--threshold T] ADDR=CHAIN.pem...   stdin -> envelope
//   petera_envtool decrypt-blinded [--anchor ANCHOR.pem] KEY.pem...
//                                                envelope -> plaintext, with
//                                                the client and server halves
//                                                of the blinded exchange run
//                                                in-process
//   petera_envtool decrypt-offline KEY.pem       envelope -> plaintext
//
// No trust decisions are made unless --anchor is given (then every
// recipient's stored chain is checked with VerifyStoredEncryptionChain for
// its server name before recovery). Nothing is written to stdout unless the
// whole operation succeeded. Exit status: 0 success, 1 failure, 2 usage.
#include <openssl/crypto.h>

#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "petera/address.h"
#include "petera/envelope.h"
#include "petera/pem.h"
#include "petera/recovery.h"
#include "petera/secret.h"
#include "petera/trust.h"

namespace petera {
namespace {

constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;

int Fail(const Error& error) {
  std::fprintf(stderr, "petera_envtool: %s\n", error.message().c_str());
  return kExitFailure;
}

int Usage() {
  std::fputs(
      "usage: petera_envtool encrypt [--threshold T] ADDR=CHAIN.pem...\n"
      "       petera_envtool decrypt-blinded [--anchor ANCHOR.pem] KEY.pem...\n"
      "       petera_envtool decrypt-offline KEY.pem\n",
      stderr);
  return kExitUsage;
}

// Reads all of stdin, refusing more than `limit` bytes. The buffer grows as
// data arrives (SecretBytes wipes what it leaves behind).
Result<SecretBytes> ReadStdin(size_t limit) {
  constexpr size_t kChunk = 64 * 1024;
  SecretBytes data;
  size_t total = 0;
  while (total <= limit) {
    data.Resize(total + kChunk);
    size_t n = std::fread(data.secret_data() + total, 1, kChunk, stdin);
    total += n;
    if (n < kChunk) break;
  }
  if (std::ferror(stdin)) return Error(ErrorCategory::kUsage, "cannot read stdin");
  if (total > limit) return Error(ErrorCategory::kTooLarge, "stdin is over the size limit");
  data.Resize(total);
  return data;
}

Status WriteStdout(std::span<const uint8_t> bytes) {
  if (bytes.empty()) return OkStatus();  // an empty span may have no data()
  if (std::fwrite(bytes.data(), 1, bytes.size(), stdout) != bytes.size() ||
      std::fflush(stdout) != 0) {
    return Error(ErrorCategory::kUsage, "cannot write stdout");
  }
  return OkStatus();
}

Result<EvpPkeyPtr> LoadPrivateKey(const std::string& path) {
  PETERA_ASSIGN_OR_RETURN(PemContents pem, LoadPemFile(path));
  if (pem.private_keys.size() != 1) {
    return Error(ErrorCategory::kUsage, path + ": expected exactly one private key");
  }
  return std::move(pem.private_keys.front());
}

Result<EncryptionTarget> ParseTarget(const std::string& arg) {
  size_t eq = arg.find('=');
  if (eq == std::string::npos) {
    return Error(ErrorCategory::kUsage, "target '" + arg + "' is not ADDR=CHAIN.pem");
  }
  EncryptionTarget target;
  PETERA_ASSIGN_OR_RETURN(target.address, ParseAddress(arg.substr(0, eq)));
  std::string path = arg.substr(eq + 1);
  PETERA_ASSIGN_OR_RETURN(PemContents pem, LoadPemFile(path));
  if (pem.certificates.empty()) {
    return Error(ErrorCategory::kUsage, path + ": no certificate");
  }
  target.chain = std::move(pem.certificates);
  return target;
}

int RunEncrypt(std::vector<std::string> args) {
  size_t threshold = 1;
  if (args.size() >= 2 && args[0] == "--threshold") {
    threshold = std::strtoul(args[1].c_str(), nullptr, 10);
    args.erase(args.begin(), args.begin() + 2);
  }
  if (args.empty()) return Usage();
  std::vector<EncryptionTarget> targets;
  for (const auto& arg : args) {
    auto target = ParseTarget(arg);
    if (!target.ok()) return Fail(target.error());
    targets.push_back(std::move(target).value());
  }
  auto plaintext = ReadStdin(kMaxPayloadBytes);
  if (!plaintext.ok()) return Fail(plaintext.error());
  auto envelope = Encrypt(*plaintext, targets, threshold);
  if (!envelope.ok()) return Fail(envelope.error());
  auto written = WriteStdout(AsBytes(*envelope));
  return written.ok() ? 0 : Fail(written.error());
}

Result<Envelope> ReadEnvelope() {
  PETERA_ASSIGN_OR_RETURN(SecretBytes text, ReadStdin(kMaxEnvelopeBytes));
  auto view = text.secret_view();
  return ParseEnvelope(
      std::string_view(reinterpret_cast<const char*>(view.data()), view.size()));
}

// One recipient, the way petera and peterad do it, with the wire format in
// between: blind, serialize the request, parse it, recover, serialize the
// answer, parse it, unblind, unwrap, decrypt.
Result<SecretBytes> RecoverBlinded(const Envelope& env, const Recipient& r,
                                   const RecoveryKey& key) {
  PETERA_ASSIGN_OR_RETURN(Blinding blinding, StartRecovery(r));
  std::string request_json = SerializeRecoveryRequest({r.kid, blinding.request()});
  PETERA_ASSIGN_OR_RETURN(RecoveryRequest request, ParseRecoveryRequest(request_json));
  if (request.kid != key.kid()) return Error(ErrorCategory::kNotFound, "unknown kid");
  PETERA_ASSIGN_OR_RETURN(Bytes y, key.Recover(request.x));
  std::string answer_json = SerializeRecoveryResponse({y});
  PETERA_ASSIGN_OR_RETURN(RecoveryResponse answer, ParseRecoveryResponse(answer_json));
  PETERA_ASSIGN_OR_RETURN(SecretBytes unblinded, blinding.Unblind(answer.y));
  PETERA_ASSIGN_OR_RETURN(SecretBytes cek, UnwrapContentKey(r, unblinded));
  return DecryptPayload(env, cek);
}

int RunDecryptBlinded(std::vector<std::string> args) {
  std::optional<Anchor> anchor;
  if (args.size() >= 2 && args[0] == "--anchor") {
    auto loaded = Anchor::Load(args[1]);
    if (!loaded.ok()) return Fail(loaded.error());
    anchor = std::move(loaded).value();
    args.erase(args.begin(), args.begin() + 2);
  }
  if (args.empty()) return Usage();
  std::vector<RecoveryKey> keys;
  for (const auto& path : args) {
    auto pkey = LoadPrivateKey(path);
    if (!pkey.ok()) return Fail(pkey.error());
    auto key = RecoveryKey::Create(std::move(pkey).value());
    if (!key.ok()) return Fail(key.error().Wrap(path));
    keys.push_back(std::move(key).value());
  }
  auto env = ReadEnvelope();
  if (!env.ok()) return Fail(env.error());
  Error last(ErrorCategory::kNotFound, "no recipient of the envelope matches a given key");
  for (const auto& r : env->recipients) {
    for (const auto& key : keys) {
      if (key.kid() != r.kid) continue;
      if (anchor) {
        auto chain = VerifyStoredEncryptionChain(*anchor, r.chain, r.address.host);
        if (!chain.ok()) {
          last = chain.error().Wrap(r.address.ToString());
          continue;
        }
      }
      auto plaintext = RecoverBlinded(*env, r, key);
      if (!plaintext.ok()) {
        last = plaintext.error().Wrap(r.address.ToString());
        continue;
      }
      auto written = WriteStdout(plaintext->secret_view());
      return written.ok() ? 0 : Fail(written.error());
    }
  }
  return Fail(last);
}

int RunDecryptOffline(const std::vector<std::string>& args) {
  if (args.size() != 1) return Usage();
  auto pkey = LoadPrivateKey(args[0]);
  if (!pkey.ok()) return Fail(pkey.error());
  auto env = ReadEnvelope();
  if (!env.ok()) return Fail(env.error());
  auto plaintext = DecryptWithPrivateKey(*env, pkey->get());
  if (!plaintext.ok()) return Fail(plaintext.error());
  auto written = WriteStdout(plaintext->secret_view());
  return written.ok() ? 0 : Fail(written.error());
}

int Main(int argc, char** argv) {
  if (argc < 2) return Usage();
  std::string command = argv[1];
  std::vector<std::string> args(argv + 2, argv + argc);
  if (command == "encrypt") return RunEncrypt(args);
  if (command == "decrypt-blinded") return RunDecryptBlinded(std::move(args));
  if (command == "decrypt-offline") return RunDecryptOffline(args);
  return Usage();
}

}  // namespace
}  // namespace petera

int main(int argc, char** argv) { return petera::Main(argc, argv); }
