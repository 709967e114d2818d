// Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
#include "server_test_util.h"

#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "petera/pem.h"

namespace petera::testing {

std::string Pki(const std::string& relative) {
  const char* base = std::getenv("PETERA_TEST_PKI");
  if (base == nullptr) throw std::runtime_error("PETERA_TEST_PKI is not set (run through ctest)");
  return std::string(base) + "/" + relative;
}

std::string ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

void WriteText(const std::string& path, const std::string& text, unsigned mode) {
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    if (!out) throw std::runtime_error("cannot write " + path);
    out << text;
  }
  if (chmod(path.c_str(), static_cast<mode_t>(mode)) != 0) {
    throw std::runtime_error("cannot chmod " + path);
  }
}

std::string PemBlocks(const std::string& text, const std::string& type) {
  std::string out;
  size_t pos = 0;
  for (;;) {
    size_t begin = text.find("-----BEGIN ", pos);
    if (begin == std::string::npos) break;
    size_t line_end = text.find('\n', begin);
    size_t end = text.find("-----END ", line_end);
    if (line_end == std::string::npos || end == std::string::npos) break;
    size_t block_end = text.find('\n', end);
    block_end = block_end == std::string::npos ? text.size() : block_end + 1;
    std::string header = text.substr(begin, line_end - begin);
    if (header.find(type) != std::string::npos) {
      out += text.substr(begin, block_end - begin);
      if (out.back() != '\n') out += '\n';
    }
    pos = block_end;
  }
  return out;
}

EvpPkeyPtr LeafPublicKey(const std::string& path) {
  auto pem = LoadPemFile(path);
  if (!pem.ok() || pem->certificates.empty()) throw std::runtime_error("no certificate in " + path);
  return EvpPkeyPtr(X509_get_pubkey(pem->certificates.front().get()));
}

std::time_t Utc(int year, int month, int day) {
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  return timegm(&tm);
}

TempDir::TempDir() {
  std::string pattern =
      (std::filesystem::temp_directory_path() / "peterad-test-XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::string TempDir::MakeDir(const std::string& name) const {
  std::string dir = path_ + "/" + name;
  std::filesystem::create_directories(dir);
  chmod(dir.c_str(), 0700);
  return dir;
}

}  // namespace petera::testing
