// Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
//
// The TLS policy that client and server share: TLS 1.2 at least, and for
// TLS 1.2 only forward-secret (ECDHE) AEAD suites and the groups X25519,
// P-256 and P-384; no compression, no renegotiation. TLS 1.3 suites are all
// forward-secret AEAD; OpenSSL's defaults stand for them.
#ifndef PETERA_TLS_POLICY_H_
#define PETERA_TLS_POLICY_H_

#include <openssl/ssl.h>

#include "petera/result.h"

namespace petera {

// Applies the policy to a client or server context.
Status ApplyTlsPolicy(SSL_CTX* ctx);

}  // namespace petera

#endif  // PETERA_TLS_POLICY_H_
