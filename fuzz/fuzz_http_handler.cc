// Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
//
// Raw bytes as a client would send them after the TLS handshake: Beast's
// request parser with the server's limits, then the request handler with
// real keys. Needs PETERA_FUZZ_PKI, a demo PKI (scripts/fuzz.sh makes one).
#include <boost/beast/core/buffers_prefix.hpp>
#include <boost/beast/http/parser.hpp>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <string>

#include "peterad/handler.h"
#include "peterad/keystore.h"

namespace {

namespace http = boost::beast::http;

const petera::peterad::KeyStore& Keys() {
  static const auto keys = [] {
    const char* pki = std::getenv("PETERA_FUZZ_PKI");
    if (pki == nullptr) {
      std::fprintf(stderr, "set PETERA_FUZZ_PKI to a directory made by certs-examples/make-pki.sh\n");
      std::abort();
    }
    std::string dir(pki);
    auto loaded = petera::peterad::KeyStore::Load(
        {dir + "/s1/tls.pem", dir + "/s1/encrypt-ec.pem", dir + "/s1/decrypt.d"}, std::time(nullptr));
    if (!loaded.ok()) {
      std::fprintf(stderr, "%s\n", loaded.error().message().c_str());
      std::abort();
    }
    return std::move(loaded).value();
  }();
  return *keys;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto& keys = Keys();
  http::request_parser<http::string_body> parser;
  parser.header_limit(8192);
  parser.body_limit(4096);
  parser.eager(true);
  boost::beast::error_code ec;
  size_t offset = 0;
  while (offset < size && !parser.is_done()) {
    size_t used = parser.put(boost::asio::buffer(data + offset, size - offset), ec);
    if (ec || used == 0) break;
    offset += used;
  }
  if (!ec && parser.is_done()) {
    std::string detail;
    auto response = petera::peterad::Handle(parser.get(), keys, nullptr, &detail);
    if (response.body().size() > 65536) std::abort();  // answers stay small
  }
  return 0;
}
