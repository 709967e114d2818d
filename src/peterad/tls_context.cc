// Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
#include "peterad/tls_context.h"

#include <openssl/ssl.h>
#include <openssl/tls1.h>

#include <cstring>
#include <utility>

#include "petera/tls_policy.h"

namespace petera::peterad {
namespace {

constexpr unsigned char kHttp11[] = {'h', 't', 't', 'p', '/', '1', '.', '1'};

// ALPN: http/1.1 or nothing. A client that offers ALPN without http/1.1
// gets the no_application_protocol alert (RFC 7301 section 3.2).
int SelectAlpn(SSL* /*ssl*/, const unsigned char** out, unsigned char* outlen,
               const unsigned char* in, unsigned int inlen, void* /*arg*/) {
  unsigned int i = 0;
  while (i < inlen) {
    unsigned int len = in[i];
    if (i + 1 + len > inlen) break;
    if (len == sizeof(kHttp11) && std::memcmp(in + i + 1, kHttp11, len) == 0) {
      *out = in + i + 1;
      *outlen = static_cast<unsigned char>(len);
      return SSL_TLSEXT_ERR_OK;
    }
    i += 1 + len;
  }
  return SSL_TLSEXT_ERR_ALERT_FATAL;
}

Status ConfigureProtocol(SSL_CTX* ctx) {
  PETERA_TRY(ApplyTlsPolicy(ctx));
  SSL_CTX_set_options(ctx, SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_SINGLE_ECDH_USE);
  SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ENABLE_PARTIAL_WRITE |
                            SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  // A request arrives as one TLS record: read it with one recv() instead of
  // one for the record header and one for the rest. Data read ahead counts
  // as pending (SSL_has_pending), which the session checks before waiting.
  SSL_CTX_set_read_ahead(ctx, 1);
  SSL_CTX_set_alpn_select_cb(ctx, SelectAlpn, nullptr);
  // Resumption through stateless tickets only: no server-side cache to grow.
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  if (SSL_CTX_set_num_tickets(ctx, 1) != 1) return SslError("cannot set the ticket count");
  return OkStatus();
}

Status ConfigureIdentity(SSL_CTX* ctx, const KeyStore& keys) {
  const std::vector<X509Ptr>& chain = keys.tls_chain();
  if (SSL_CTX_use_certificate(ctx, chain.front().get()) != 1) {
    return SslError("cannot use the TLS certificate");
  }
  for (size_t i = 1; i < chain.size(); ++i) {
    if (SSL_CTX_add1_chain_cert(ctx, chain[i].get()) != 1) {
      return SslError("cannot add a TLS chain certificate");
    }
  }
  if (SSL_CTX_use_PrivateKey(ctx, keys.tls_key()) != 1 ||
      SSL_CTX_check_private_key(ctx) != 1) {
    return SslError("cannot use the TLS private key");
  }
  return OkStatus();
}

}  // namespace

Result<std::shared_ptr<SSL_CTX>> MakeServerTlsContext(const KeyStore& keys,
                                                      const ClientPolicy* clients,
                                                      std::shared_ptr<const OcspStaple> ocsp) {
  SSL_CTX* raw = SSL_CTX_new(TLS_server_method());
  if (raw == nullptr) return SslError("cannot create the TLS context");
  std::shared_ptr<SSL_CTX> ctx(raw, SSL_CTX_free);
  PETERA_TRY(ConfigureProtocol(ctx.get()));
  PETERA_TRY(ConfigureIdentity(ctx.get(), keys));
  if (clients != nullptr) PETERA_TRY(RequestClientCertificates(ctx.get(), *clients));
  if (ocsp) PETERA_TRY(StapleOcspResponse(ctx.get(), std::move(ocsp)));
  return ctx;
}

}  // namespace petera::peterad
