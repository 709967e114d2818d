// Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
#include "target.h"

#include <arpa/inet.h>

#include <filesystem>
#include <system_error>

#include "petera/pem.h"

namespace petera::client {
namespace {

bool LooksLikePath(const std::string& text) {
  return text.find('/') != std::string::npos ||
         (text.size() > 4 && text.compare(text.size() - 4, 4, ".pem") == 0);
}

bool IsIpLiteral(const std::string& name) {
  unsigned char buf[16];
  return inet_pton(AF_INET, name.c_str(), buf) == 1 ||
         inet_pton(AF_INET6, name.c_str(), buf) == 1;
}

std::string_view Trim(std::string_view s) {
  size_t begin = s.find_first_not_of(" \t\r");
  if (begin == std::string_view::npos) return {};
  size_t end = s.find_last_not_of(" \t\r");
  return s.substr(begin, end - begin + 1);
}

}  // namespace

Result<std::optional<Address>> FindServerLine(std::string_view text,
                                              const std::string& source) {
  std::optional<Address> found;
  bool in_block = false;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t eol = text.find('\n', pos);
    if (eol == std::string_view::npos) eol = text.size();
    std::string_view line = Trim(text.substr(pos, eol - pos));
    pos = eol + 1;
    if (line.starts_with("-----BEGIN ")) in_block = true;
    if (line.starts_with("-----END ")) in_block = false;
    if (in_block || !line.starts_with(kServerLinePrefix)) continue;
    if (found) {
      return Error(ErrorCategory::kUsage, source + ": more than one Petera-Server: line");
    }
    auto address = ParseAddress(Trim(line.substr(kServerLinePrefix.size())));
    if (!address.ok()) return address.error().Wrap(source + ": Petera-Server: line");
    found = std::move(address).value();
  }
  return found;
}

Result<Target> ParseTarget(const std::string& text) {
  Target target;
  target.text = text;
  std::error_code ec;
  auto status = std::filesystem::status(text, ec);
  if (!ec && std::filesystem::is_regular_file(status)) {
    target.kind = Target::Kind::kFile;
    return target;
  }
  if (!ec && std::filesystem::exists(status)) {
    return Error(ErrorCategory::kUsage, text + ": not a regular file");
  }
  if (LooksLikePath(text)) {
    return Error(ErrorCategory::kUsage, text + ": no such file");
  }
  auto address = ParseAddress(text);
  if (!address.ok()) return address.error().Wrap("target '" + text + "'");
  target.address = std::move(address).value();
  return target;
}

Result<ServerPem> ParseServerPem(std::string_view text, const std::string& source) {
  PETERA_ASSIGN_OR_RETURN(auto address, FindServerLine(text, source));
  PETERA_ASSIGN_OR_RETURN(PemContents contents, ParsePem(text, source));
  if (!contents.private_keys.empty()) {
    return Error(ErrorCategory::kUsage,
                 source + " holds a private key; an encryption target holds "
                          "certificates only (as written by petera fetch)");
  }
  if (!contents.crls.empty()) {
    return Error(ErrorCategory::kUsage, source + " holds a CRL; pass CRLs with --crl");
  }
  if (contents.certificates.empty()) {
    return Error(ErrorCategory::kUsage, source + " holds no certificate");
  }
  ServerPem pem;
  pem.address = std::move(address);
  pem.chain = std::move(contents.certificates);
  return pem;
}

Result<std::string> FormatServerPem(const Address& address,
                                    const std::vector<X509Ptr>& chain) {
  std::string out = std::string(kServerLinePrefix) + " " + address.ToString() + "\n";
  for (const auto& cert : chain) {
    PETERA_ASSIGN_OR_RETURN(std::string pem, CertificateToPem(cert.get()));
    out += pem;
  }
  return out;
}

Result<Address> AddressFromLeaf(X509* leaf) {
  std::vector<std::string> names = SubjectAltNames(leaf);
  const std::string* chosen = nullptr;
  for (const auto& name : names) {
    if (!IsIpLiteral(name) && name.find('*') == std::string::npos) {
      chosen = &name;
      break;
    }
  }
  for (const auto& name : names) {
    if (chosen == nullptr && IsIpLiteral(name)) chosen = &name;
  }
  if (chosen == nullptr) {
    return Error(ErrorCategory::kUsage,
                 "the leaf certificate " + SubjectName(leaf) +
                     " has no DNS or IP subjectAltName to take the server address from");
  }
  // An IP SAN is a bare literal ("::1"), not the "[::1]" ParseAddress wants.
  if (IsIpLiteral(*chosen)) return Address{*chosen, kDefaultPort};
  auto address = ParseAddress(*chosen);
  if (!address.ok()) return address.error().Wrap("subjectAltName of " + SubjectName(leaf));
  return address;
}

Result<Address> ServerAddressOf(const ServerPem& pem) {
  if (pem.address) return *pem.address;
  return AddressFromLeaf(pem.chain.front().get());
}

Result<FileTarget> LoadFileTarget(const Anchor& anchor, const std::string& path) {
  PETERA_ASSIGN_OR_RETURN(std::string text, ReadFile(path, kMaxPemBytes));
  PETERA_ASSIGN_OR_RETURN(ServerPem pem, ParseServerPem(text, path));
  PETERA_ASSIGN_OR_RETURN(Address address, ServerAddressOf(pem));
  auto verified = VerifyEncryptionChain(anchor, pem.chain, address.host);
  if (!verified.ok()) {
    return verified.error().Wrap(path + " (for " + address.ToString() + ")");
  }
  FileTarget target;
  target.address = std::move(address);
  target.chain = std::move(pem.chain);
  target.verified = std::move(verified).value();
  return target;
}

}  // namespace petera::client
