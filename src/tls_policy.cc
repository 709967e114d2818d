// Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
#include "petera/tls_policy.h"

#include <openssl/tls1.h>

#include "petera/ossl.h"

namespace petera {
namespace {

constexpr const char* kTls12Ciphers =
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:"
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256";
constexpr const char* kTlsGroups = "X25519:P-256:P-384";

}  // namespace

Status ApplyTlsPolicy(SSL_CTX* ctx) {
  if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1) {
    return SslError("cannot set the minimum TLS version");
  }
  if (SSL_CTX_set_cipher_list(ctx, kTls12Ciphers) != 1) {
    return SslError("cannot set the TLS 1.2 cipher list");
  }
  if (SSL_CTX_set1_groups_list(ctx, kTlsGroups) != 1) {
    return SslError("cannot set the key exchange groups");
  }
  SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
  return OkStatus();
}

}  // namespace petera
