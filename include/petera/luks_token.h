// Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
//
// The LUKS2 token of type "petera": what a volume's header holds so that a
// keyslot can be unlocked with no arguments, by `petera luks`, by the
// cryptsetup token plugin and at boot. docs/luks.md describes it:
//
//   {"type": "petera", "keyslots": ["1"],
//    "petera": {"version": 1, "anchor": "/etc/petera/anchor.pem",
//               "crl": ["/etc/petera/ca.crl"], "timeout": 10,
//               "cert": "/etc/petera/client.pem", "key": "handle:0x81000001",
//               "ocsp": "require"},
//    "jwe": { the envelope of the keyslot's passphrase }}
//
// A header is read as root at boot from a disk anyone may have written:
// ParseLuksToken checks everything before anything is used.
#ifndef PETERA_LUKS_TOKEN_H_
#define PETERA_LUKS_TOKEN_H_

#include <string>
#include <string_view>
#include <vector>

#include "petera/ocsp.h"
#include "petera/result.h"

namespace petera {

inline constexpr char kLuksTokenType[] = "petera";
inline constexpr int kLuksTokenVersion = 1;
// LUKS2 has at most 32 keyslots; a token's JSON is bounded well below the
// largest LUKS2 metadata area (4 MiB).
inline constexpr int kLuksMaxKeyslots = 32;
inline constexpr size_t kMaxLuksTokenBytes = 256 * 1024;
inline constexpr size_t kMaxLuksCrls = 16;
inline constexpr size_t kMaxLuksPathBytes = 4096;

struct LuksToken {
  std::vector<int> keyslots;  // 0 to 31, distinct
  std::string anchor;         // absolute path of the anchor PEM
  std::vector<std::string> crls;  // absolute paths of CRL files
  unsigned timeout_seconds = 10;  // per server, as petera --timeout
  std::string cert;  // absolute path of the client certificate (--cert), or empty
  std::string key;   // --key: an absolute path, "handle:0x..." (a TPM key), or empty
  OcspPolicy ocsp = OcspPolicy::kPrefer;  // --ocsp; written only when not "prefer"
  std::string envelope;           // the envelope, as JSON text
};

// Parses and checks a token's JSON: type, keyslots, version, absolute
// paths without control characters, the timeout's range, the OCSP policy
// (prefer, require or off), and an envelope
// that is a JSON object (ParseEnvelope checks the envelope itself).
// Errors are kCorrupt and say which member is wrong.
Result<LuksToken> ParseLuksToken(std::string_view json);

// "handle:0x81000001": a persistent TPM 2.0 key handle (1 to 8 hex digits).
bool IsTpmHandle(std::string_view spec);

// The token's JSON, as ParseLuksToken reads it.
Result<std::string> SerializeLuksToken(const LuksToken& token);

}  // namespace petera

#endif  // PETERA_LUKS_TOKEN_H_
