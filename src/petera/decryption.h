// Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
//
// Decryption of a parsed envelope with the help of its servers, as
// `petera decrypt`, `petera luks` and the cryptsetup token plugin do it.
#ifndef PETERA_CLIENT_DECRYPTION_H_
#define PETERA_CLIENT_DECRYPTION_H_

#include <chrono>
#include <memory>
#include <vector>

#include "cli_io.h"
#include "client_credential.h"
#include "petera/address.h"
#include "petera/envelope.h"
#include "petera/result.h"
#include "petera/secret.h"
#include "petera/trust.h"

namespace petera::client {

// Checks every recipient's stored chain against `anchor`, then asks the
// trusted recipients' servers (or `hosts` instead, when given) at once,
// `timeout` each. Lines about single servers go to `reporter` before the
// error, whose message is the summary. `credential`: the client certificate
// for servers that ask for one, or null.
Result<SecretBytes> DecryptEnvelope(const Anchor& anchor, const Envelope& envelope,
                                    const std::vector<Address>& hosts,
                                    std::chrono::seconds timeout, const Reporter& reporter,
                                    std::shared_ptr<const ClientCredential> credential = nullptr);

}  // namespace petera::client

#endif  // PETERA_CLIENT_DECRYPTION_H_
