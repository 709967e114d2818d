// Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
//
// The client's own certificate (petera --cert, --key), presented to servers
// that authorize clients (peterad --client-ca). OpenSSL sends it only when a
// server asks for one.
//
//   --cert FILE   PEM: the client certificate first, then any intermediate
//                 CA certificates, and its private key unless --key names
//                 it. A file holding a private key is refused when other
//                 users may read it or anyone but its owner may write it.
//   --key SPEC    where the private key is instead: a PEM file (the same
//                 checks), a "TSS2 PRIVATE KEY" PEM file, or "handle:0x81..."
//                 for a key that stays inside a TPM 2.0; the last two use
//                 OpenSSL's tpm2 provider (Debian's tpm2-openssl), which
//                 reaches the TPM through /dev/tpmrm0 (the kernel's
//                 resource manager) or TPM2OPENSSL_TCTI.
#ifndef PETERA_CLIENT_CLIENT_CREDENTIAL_H_
#define PETERA_CLIENT_CLIENT_CREDENTIAL_H_

#include <openssl/ssl.h>

#include <memory>
#include <string>
#include <vector>

#include "petera/ossl.h"
#include "petera/result.h"

namespace petera::client {

// Signatures with a key held by the tpm2 provider go to that provider
// (client_credential.cc says why); everything else stays the default's.
inline constexpr char kTpmPropertyQuery[] = "?tpm2.signature=yes";

struct ClientCredential {
  std::vector<X509Ptr> chain;  // leaf first
  EvpPkeyPtr key;
  bool tpm = false;  // the key is in a TPM: TLS contexts need kTpmPropertyQuery
  std::string source;  // the --cert path, for messages
};

// Loads and checks a credential: the key must belong to the certificate,
// which must be meant for client authentication (clientAuth, when it has an
// extended key usage). `key_spec` empty: the key is in `cert_path`.
Result<std::shared_ptr<const ClientCredential>> LoadClientCredential(
    const std::string& cert_path, const std::string& key_spec);

// Refuses a file holding a private key that other users may read, or that
// its group or other users may write, or that belongs to someone other than
// root or `euid`; the message names the fix. Exposed for tests.
Status CheckClientKeyFilePermissions(const std::string& path, unsigned st_mode,
                                     unsigned st_uid, unsigned euid);

// Makes `ctx` present the credential when a server asks for a certificate.
Status UseClientCredential(SSL_CTX* ctx, const ClientCredential& credential);

}  // namespace petera::client

#endif  // PETERA_CLIENT_CLIENT_CREDENTIAL_H_
