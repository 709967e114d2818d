// Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
#include "cli_io.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "petera/encoding.h"

namespace petera::client {
namespace {

constexpr size_t kInitialCapacity = 64 * 1024;

std::string Limit(size_t max_bytes) {
  if (max_bytes % (1u << 20) == 0) return std::to_string(max_bytes >> 20) + " MiB";
  return std::to_string(max_bytes) + " bytes";
}

}  // namespace

Status ReadBounded(int fd, size_t max_bytes, const std::string& what,
                   SecretBytes& out) {
  out.Clear();
  size_t used = 0;
  for (;;) {
    if (used == out.size()) {
      // One byte past the limit is enough to know the input is too large.
      size_t grown = out.size() == 0 ? kInitialCapacity : out.size() * 2;
      out.Resize(grown < max_bytes + 1 ? grown : max_bytes + 1);
    }
    ssize_t n = read(fd, out.secret_data() + used, out.size() - used);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int saved = errno;
      out.Clear();
      return Error(ErrorCategory::kUsage,
                   "cannot read " + what + ": " + std::strerror(saved));
    }
    if (n == 0) break;
    used += static_cast<size_t>(n);
    if (used > max_bytes) {
      out.Clear();
      return Error(ErrorCategory::kTooLarge,
                   what + " is larger than " + Limit(max_bytes));
    }
  }
  out.Resize(used);
  return OkStatus();
}

Result<SecretBytes> ReadStdinSecret(size_t max_bytes, const std::string& what) {
  SecretBytes out;
  PETERA_TRY(ReadBounded(STDIN_FILENO, max_bytes, what, out));
  return out;
}

Result<std::string> ReadStdinText(size_t max_bytes, const std::string& what) {
  SecretBytes raw;
  PETERA_TRY(ReadBounded(STDIN_FILENO, max_bytes, what, raw));
  auto bytes = raw.secret_view();
  return std::string(bytes.begin(), bytes.end());
}

Status WriteStdout(std::span<const uint8_t> data) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = write(STDOUT_FILENO, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int saved = n < 0 ? errno : EIO;
      return Error(ErrorCategory::kInternal,
                   std::string("cannot write standard output: ") + std::strerror(saved));
    }
    done += static_cast<size_t>(n);
  }
  if (close(STDOUT_FILENO) != 0 && errno != EINTR) {
    return Error(ErrorCategory::kInternal,
                 std::string("cannot write standard output: ") + std::strerror(errno));
  }
  return OkStatus();
}

Status WriteStdout(std::string_view text) { return WriteStdout(AsBytes(text)); }

void Reporter::Line(const std::string& text) const {
  std::string line = "petera: " + text + "\n";
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

void Reporter::Progress(const std::string& who, const std::string& what) const {
  if (verbose_) Line(who + ": " + what);
}

}  // namespace petera::client
