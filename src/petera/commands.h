// Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
//
// The commands of petera(1). Each returns OkStatus() after writing its
// whole output to stdout, or an Error whose message is the final stderr line
// (lines about individual servers are printed before it). Nothing reaches
// stdout unless the command succeeded.
#ifndef PETERA_CLIENT_COMMANDS_H_
#define PETERA_CLIENT_COMMANDS_H_

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cli_io.h"
#include "client_credential.h"
#include "petera/ocsp.h"
#include "petera/result.h"
#include "petera/trust.h"

namespace petera::client {

struct CommonOptions {
  std::string anchor;  // empty when not given (inspect and luks allow that)
  std::vector<std::string> crls;
  std::string cert;  // --cert: client certificate chain (and key)
  std::string key;   // --key: the client's key elsewhere (file, TPM)
  unsigned timeout_seconds = 10;
  bool timeout_given = false;  // --timeout was given (luks: else the token's)
  OcspPolicy ocsp = OcspPolicy::kPrefer;  // --ocsp
  bool ocsp_given = false;                // --ocsp was given (luks: else the token's)
  bool verbose = false;
};

// petera luks ACTION -d DEVICE ...
struct LuksOptions {
  std::string action;  // bind, list, unbind, pass, unlock, rebind
  std::string device;
  std::optional<int> slot;        // -s
  std::string key_file;           // bind: --key-file (- for stdin)
  size_t threshold = 1;           // bind, rebind: --threshold
  bool threshold_given = false;
  std::vector<std::string> targets;  // bind, rebind
  std::string name;                  // unlock: the device-mapper name
};

struct VerifyOptions {
  bool tls = false;         // --tls
  bool encryption = false;  // --encryption, the default
  std::string name;         // --name; empty: taken from the file
  std::string chain_path;   // CHAIN.pem
  std::string ocsp_response;  // --ocsp-response (with --tls): a DER file to check
};

// The anchor with every --crl file added and the --ocsp policy.
Result<Anchor> LoadAnchor(const CommonOptions& options);
// The --cert/--key credential, or null when --cert is not given.
Result<std::shared_ptr<const ClientCredential>> LoadCredential(const CommonOptions& options);

Status RunFetch(const CommonOptions& options, const std::string& host);
// `threshold`: how many of the targets decryption needs (1 to their number).
// Empty input is refused unless `allow_empty`.
Status RunEncrypt(const CommonOptions& options, const std::vector<std::string>& targets,
                  size_t threshold, bool allow_empty);
Status RunDecrypt(const CommonOptions& options, const std::vector<std::string>& hosts);
Status RunVerify(const CommonOptions& options, const VerifyOptions& verify);
Status RunInspect(const CommonOptions& options);
Status RunLuks(const CommonOptions& options, const LuksOptions& luks);

}  // namespace petera::client

#endif  // PETERA_CLIENT_COMMANDS_H_
