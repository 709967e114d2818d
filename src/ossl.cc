// Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
#include "petera/ossl.h"

#include <openssl/err.h>

namespace petera {

std::string DrainSslErrors() {
  std::string out;
  unsigned long code = 0;
  while ((code = ERR_get_error()) != 0) {
    char buf[256];
    ERR_error_string_n(code, buf, sizeof(buf));
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out;
}

bool SameKey(const EVP_PKEY* a, const EVP_PKEY* b) {
  bool same = EVP_PKEY_eq(a, b) == 1;
  DrainSslErrors();
  return same;
}

Error SslError(const std::string& what, ErrorCategory category) {
  std::string queue = DrainSslErrors();
  if (queue.empty()) return Error(category, what);
  return Error(category, what + " (" + queue + ")");
}

}  // namespace petera
