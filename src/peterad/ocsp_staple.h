// Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
//
// OCSP stapling (--ocsp-response FILE): the DER response for the TLS leaf
// that peterad hands to every client that asks for it (status_request, TLS
// 1.2 and 1.3). peterad never fetches or writes it: petera-ocsp-refresh does,
// and a SIGHUP loads the new file.
//
// At start and on reload the file is checked against the leaf and its
// issuer (the certificate after the leaf in TLS.pem), as clients check it
// (ocsp.h). A file that is not a response about this leaf, signed by its
// issuer or a responder it delegated to, refuses the start (and fails a
// reload). Availability comes first for the rest: a missing file or an
// expired response is a warning and nothing is stapled; a response that
// expires while peterad runs stops being stapled at that second.
#ifndef PETERA_PETERAD_OCSP_STAPLE_H_
#define PETERA_PETERAD_OCSP_STAPLE_H_

#include <openssl/ssl.h>

#include <ctime>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "petera/ocsp.h"
#include "petera/ossl.h"
#include "petera/result.h"

namespace petera::peterad {

class OcspStaple {
 public:
  // Reads and checks `path` for `tls_chain` (leaf first) at `now`.
  static Result<std::shared_ptr<const OcspStaple>> Load(const std::string& path,
                                                        const std::vector<X509Ptr>& tls_chain,
                                                        std::time_t now);

  const std::string& path() const { return path_; }
  // The response checked, or nullopt when the file does not exist.
  const std::optional<OcspStatus>& status() const { return status_; }
  // Whether the response is handed to clients at `now`: it exists and is
  // current (a revoked response is stapled too: clients must learn of it).
  bool StaplesAt(std::time_t now) const;
  // For the log at start and reload: one line on what is stapled, and the
  // warnings (missing, expired, expiring soon, revoked).
  std::string Summary() const;
  // Warnings about the response at `now` (also for the daily check).
  std::vector<std::string> Warnings(std::time_t now) const;

  // The DER response to staple; empty when there is none.
  const std::string& der() const { return der_; }

 private:
  OcspStaple() = default;

  std::string path_;
  std::string der_;
  std::optional<OcspStatus> status_;
};

// Makes `ctx` staple `staple` to the handshakes of clients that ask, while
// it is current. The context keeps the staple alive.
Status StapleOcspResponse(SSL_CTX* ctx, std::shared_ptr<const OcspStaple> staple);

}  // namespace petera::peterad

#endif  // PETERA_PETERAD_OCSP_STAPLE_H_
