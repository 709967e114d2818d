// Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
//
// petera takes its anchor before the command ("petera ANCHOR.pem encrypt
// ..."), which CLI11 cannot express: a positional argument followed by a
// subcommand. SplitAnchor takes the anchor out first; CLI11 parses the rest.
#ifndef PETERA_CLIENT_ARGUMENTS_H_
#define PETERA_CLIENT_ARGUMENTS_H_

#include <optional>
#include <string>
#include <vector>

namespace petera::client {

inline const std::vector<std::string>& CommandNames() {
  static const std::vector<std::string> kNames = {"fetch",  "encrypt", "decrypt",
                                                  "verify", "inspect", "luks"};
  return kNames;
}

struct SplitArguments {
  std::optional<std::string> anchor;
  std::vector<std::string> rest;  // everything else, in order
  bool has_command = false;       // a command name appears
};

// The anchor is the first argument before the command that is neither an
// option nor the value of an option taking one (--timeout, --crl, --cert,
// --key, --threshold, --name). A command's own options given before the command
// (--threshold, --name, --tls, --encryption, --allow-empty) move to just
// after it, so that every option may come before or after the command.
// `args` excludes the program name.
SplitArguments SplitAnchor(const std::vector<std::string>& args);

}  // namespace petera::client

#endif  // PETERA_CLIENT_ARGUMENTS_H_
