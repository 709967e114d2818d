// Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
//
// Encryption targets as users write them, and the PEM file `petera fetch`
// writes: a "Petera-Server: host:port" line followed by the encryption chain,
// leaf first. A TARGET that names an existing regular file is read offline;
// anything else is a server address.
#ifndef PETERA_CLIENT_TARGET_H_
#define PETERA_CLIENT_TARGET_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "petera/address.h"
#include "petera/ossl.h"
#include "petera/result.h"
#include "petera/trust.h"

namespace petera::client {

inline constexpr std::string_view kServerLinePrefix = "Petera-Server:";

struct Target {
  enum class Kind { kHost, kFile };
  Kind kind = Kind::kHost;
  std::string text;  // as given on the command line
  Address address;   // kHost only
};

// A file when `text` names an existing regular file, a host otherwise.
// Something that looks like a path (has a '/' or ends in .pem) but does not
// exist is a usage error rather than a host name.
Result<Target> ParseTarget(const std::string& text);

// The contents of a server PEM file.
struct ServerPem {
  std::optional<Address> address;  // from the Petera-Server: line
  std::vector<X509Ptr> chain;      // leaf first
};

// The address of the "Petera-Server: host:port" line found outside the PEM
// blocks of `text`, if any. More than one such line is an error.
Result<std::optional<Address>> FindServerLine(std::string_view text, const std::string& source);

// Parses a server PEM. Refuses private keys and CRLs, a file without
// certificates, and more than one Petera-Server: line.
Result<ServerPem> ParseServerPem(std::string_view text, const std::string& source);

// The text `petera fetch` writes.
Result<std::string> FormatServerPem(const Address& address,
                                    const std::vector<X509Ptr>& chain);

// The leaf's first DNS subjectAltName that is not a wildcard, else its first
// IP one (IPv4 or IPv6), on the default port.
Result<Address> AddressFromLeaf(X509* leaf);

// The address decryption will contact for `pem`: its Petera-Server: line,
// else AddressFromLeaf.
Result<Address> ServerAddressOf(const ServerPem& pem);

// An encryption chain read from a file, validated exactly as one fetched
// online (VerifyEncryptionChain against the address's host).
struct FileTarget {
  Address address;
  std::vector<X509Ptr> chain;
  VerifiedChain verified;
};
Result<FileTarget> LoadFileTarget(const Anchor& anchor, const std::string& path);

}  // namespace petera::client

#endif  // PETERA_CLIENT_TARGET_H_
