// Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
//
// The TLS policy that client and server share: TLS 1.2 at least, and for
// TLS 1.2 only forward-secret (ECDHE) AEAD suites and these groups. TLS 1.3
// suites are all forward-secret AEAD; OpenSSL's defaults stand for them.
#ifndef PETERA_TLS_POLICY_H_
#define PETERA_TLS_POLICY_H_

namespace petera {

inline constexpr const char* kTls12Ciphers =
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:"
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256";
inline constexpr const char* kTlsGroups = "X25519:P-256:P-384";

}  // namespace petera

#endif  // PETERA_TLS_POLICY_H_
