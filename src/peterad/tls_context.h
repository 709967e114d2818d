// Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
//
// The server's SSL_CTX, built from a KeyStore: TLS 1.2 minimum (1.3
// preferred), forward-secret AEAD suites only, ALPN http/1.1, stateless
// session tickets, no renegotiation, no compression, buffers released while a
// connection is idle. A reload builds a new context; connections keep the one
// they started with.
#ifndef PETERA_PETERAD_TLS_CONTEXT_H_
#define PETERA_PETERAD_TLS_CONTEXT_H_

#include <memory>

#include "petera/ossl.h"
#include "petera/result.h"
#include "peterad/client_auth.h"
#include "peterad/keystore.h"
#include "peterad/ocsp_staple.h"

namespace petera::peterad {

// Builds the server context for the keystore's TLS chain and key. With
// `clients`, the handshake also asks for a client certificate from its CAs
// (client_auth.h); with `ocsp`, it staples that response (ocsp_staple.h).
Result<std::shared_ptr<SSL_CTX>> MakeServerTlsContext(
    const KeyStore& keys, const ClientPolicy* clients = nullptr,
    std::shared_ptr<const OcspStaple> ocsp = nullptr);

}  // namespace petera::peterad

#endif  // PETERA_PETERAD_TLS_CONTEXT_H_
