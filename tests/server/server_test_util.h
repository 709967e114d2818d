// Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
//
// Helpers for peterad's unit tests: the demo PKI (a ctest fixture made by
// certs-examples/make-pki.sh, found through PETERA_TEST_PKI), a temporary
// directory, and PEM text surgery to build broken configurations.
#ifndef PETERA_TESTS_SERVER_SERVER_TEST_UTIL_H_
#define PETERA_TESTS_SERVER_SERVER_TEST_UTIL_H_

#include <ctime>
#include <string>

#include "petera/ossl.h"

namespace petera::testing {

// Path of a demo PKI file, e.g. Pki("s1/encrypt-ec.pem").
std::string Pki(const std::string& relative);

std::string ReadText(const std::string& path);
void WriteText(const std::string& path, const std::string& text, unsigned mode = 0600);

// The PEM blocks of `text` whose type line contains `type` ("CERTIFICATE",
// "PRIVATE KEY"), concatenated, each ending in a newline.
std::string PemBlocks(const std::string& text, const std::string& type);

// The public key of the first certificate of a PEM file.
EvpPkeyPtr LeafPublicKey(const std::string& path);

// 00:00 UTC on the given day.
std::time_t Utc(int year, int month, int day);

// A fresh directory, removed with everything in it at destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  // path() + "/" + name
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }
  // Creates a subdirectory (mode 0700) and returns its path.
  std::string MakeDir(const std::string& name) const;

 private:
  std::string path_;
};

}  // namespace petera::testing

#endif  // PETERA_TESTS_SERVER_SERVER_TEST_UTIL_H_
