// Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
//
// The CLI's terminal I/O: bounded reads of stdin, all-or-nothing writes to
// stdout, and the lines petera prints on stderr. Commands buffer their whole
// output and hand it over once the operation has succeeded, so stdout
// receives nothing on failure.
#ifndef PETERA_CLIENT_CLI_IO_H_
#define PETERA_CLIENT_CLI_IO_H_

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "petera/result.h"
#include "petera/secret.h"

namespace petera::client {

// Reads all of standard input into wiped memory. Refuses (kTooLarge) as soon
// as more than `max_bytes` arrive; `what` names the input in that message.
Result<SecretBytes> ReadStdinSecret(size_t max_bytes, const std::string& what);

// Reads all of standard input as text, with the same bound.
Result<std::string> ReadStdinText(size_t max_bytes, const std::string& what);

// Reads at most `max_bytes` from file descriptor `fd` into `out` (which is
// cleared first). Exposed for tests.
Status ReadBounded(int fd, size_t max_bytes, const std::string& what,
                   SecretBytes& out);

// Writes every byte to standard output and closes it, reporting short writes,
// EPIPE and close errors. Called once, after the operation succeeded.
Status WriteStdout(std::span<const uint8_t> data);
Status WriteStdout(std::string_view text);

// Lines on stderr, each prefixed "petera: ". Progress lines only with -v.
class Reporter {
 public:
  explicit Reporter(bool verbose) : verbose_(verbose) {}

  bool verbose() const { return verbose_; }
  // One line, always printed.
  void Line(const std::string& text) const;
  // "petera: WHO: WHAT", printed with -v only.
  void Progress(const std::string& who, const std::string& what) const;

 private:
  bool verbose_;
};

}  // namespace petera::client

#endif  // PETERA_CLIENT_CLI_IO_H_
