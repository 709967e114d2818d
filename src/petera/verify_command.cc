// Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
//
// petera ANCHOR.pem verify [--tls [--ocsp-response FILE] | --encryption]
//                          [--name HOST] CHAIN.pem
//
// Runs the very checks that encrypt and every connection run, on a file.
#include <openssl/crypto.h>

#include <ctime>

#include "commands.h"
#include "petera/pem.h"
#include "target.h"

namespace petera::client {
namespace {

struct ChainFile {
  std::vector<X509Ptr> chain;
  std::optional<Address> server_line;
};

Result<ChainFile> ReadChainFile(const std::string& path) {
  PETERA_ASSIGN_OR_RETURN(std::string text, ReadFile(path, kMaxPemBytes));
  auto line = FindServerLine(text, path);
  auto contents = ParsePem(text, path);
  // A TLS.pem holds its private key too: wipe the text once parsed.
  OPENSSL_cleanse(text.data(), text.size());
  if (!line.ok()) return line.error();
  if (!contents.ok()) return contents.error();
  if (contents->certificates.empty()) {
    return Error(ErrorCategory::kUsage, path + " holds no certificate");
  }
  return ChainFile{std::move(contents->certificates), std::move(line).value()};
}

// --name, else the file's Petera-Server: host, else the leaf's first
// subjectAltName: the name encrypt would check the chain against.
Result<std::string> NameToCheck(const VerifyOptions& verify, const ChainFile& file) {
  if (!verify.name.empty()) {
    PETERA_ASSIGN_OR_RETURN(Address address, ParseAddress(verify.name));
    return address.host;
  }
  if (file.server_line) return file.server_line->host;
  auto address = AddressFromLeaf(file.chain.front().get());
  if (!address.ok()) return address.error().Wrap("give the server name with --name");
  return address->host;
}

// The response a server would staple, checked as a client checks it: for the
// leaf, signed by its issuer (or a responder it delegated to), good and
// current.
Result<OcspStatus> CheckResponseFile(const std::string& path, const VerifiedChain& verified) {
  if (verified.chain.size() < 2) {
    return Error(ErrorCategory::kUsage,
                 path + ": the TLS certificate is itself the anchor: no OCSP response applies");
  }
  PETERA_ASSIGN_OR_RETURN(std::string der, ReadFile(path, kMaxOcspResponseBytes));
  auto status = CheckOcspResponse(der, verified.leaf(), verified.chain[1].get(),
                                  std::time(nullptr));
  if (!status.ok()) return status.error().Wrap(path);
  if (status->revoked) {
    return Error(ErrorCategory::kTrust,
                 path + ": the TLS certificate is revoked: OCSP response " + status->Describe());
  }
  if (Status current = CheckOcspCurrent(*status, std::time(nullptr)); !current.ok()) {
    return current.error().Wrap(path);
  }
  return std::move(status).value();
}

}  // namespace

Status RunVerify(const CommonOptions& options, const VerifyOptions& verify) {
  PETERA_ASSIGN_OR_RETURN(Anchor anchor, LoadAnchor(options));
  PETERA_ASSIGN_OR_RETURN(ChainFile file, ReadChainFile(verify.chain_path));
  PETERA_ASSIGN_OR_RETURN(std::string name, NameToCheck(verify, file));
  std::string what = verify.tls ? "as a TLS server certificate for " + name
                                : "as an encryption certificate for " + name;
  auto verified = verify.tls ? VerifyTlsChain(anchor, file.chain, name)
                             : VerifyEncryptionChain(anchor, file.chain, name);
  if (!verified.ok()) return verified.error().Wrap(verify.chain_path + ": not trusted " + what);
  std::string ocsp;
  if (!verify.ocsp_response.empty()) {
    PETERA_ASSIGN_OR_RETURN(OcspStatus status, CheckResponseFile(verify.ocsp_response, *verified));
    ocsp = "; OCSP response " + status.Describe();
  }
  return WriteStdout(verify.chain_path + ": trusted " + what + ": " + verified->Describe() + ocsp +
                     "\n");
}

}  // namespace petera::client
