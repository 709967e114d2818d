// Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
#include "arguments.h"

#include <algorithm>

namespace petera::client {
namespace {

bool IsCommand(const std::string& arg) {
  const auto& names = CommandNames();
  return std::find(names.begin(), names.end(), arg) != names.end();
}

bool IsOption(const std::string& arg) { return arg.size() > 1 && arg.front() == '-'; }

bool TakesValue(const std::string& arg) {
  return arg == "--timeout" || arg == "--crl" || arg == "--cert" || arg == "--key" ||
         arg == "--ocsp";
}

// Options of one command (encrypt's, verify's), alone or as --name=value.
bool IsCommandOption(const std::string& arg) {
  std::string name = arg.substr(0, arg.find('='));
  return name == "--threshold" || name == "--name" || name == "--tls" || name == "--encryption" ||
         name == "--allow-empty" || name == "--ocsp-response";
}

bool CommandOptionTakesValue(const std::string& arg) {
  return arg == "--threshold" || arg == "--name" || arg == "--ocsp-response";
}

}  // namespace

SplitArguments SplitAnchor(const std::vector<std::string>& args) {
  SplitArguments out;
  std::vector<std::string> held;  // command options given before the command
  bool before_command = true;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (before_command && IsCommand(arg)) {
      before_command = false;
      out.has_command = true;
      out.rest.push_back(arg);
      out.rest.insert(out.rest.end(), held.begin(), held.end());
      held.clear();
      continue;
    }
    if (before_command && IsCommandOption(arg)) {
      held.push_back(arg);
      if (CommandOptionTakesValue(arg) && i + 1 < args.size()) held.push_back(args[++i]);
      continue;
    }
    if (before_command && TakesValue(arg) && i + 1 < args.size()) {
      out.rest.push_back(arg);
      out.rest.push_back(args[++i]);
      continue;
    } else if (before_command && !IsOption(arg) && !out.anchor) {
      out.anchor = arg;
      continue;
    }
    out.rest.push_back(arg);
  }
  out.rest.insert(out.rest.end(), held.begin(), held.end());  // no command: CLI11 complains
  return out;
}

}  // namespace petera::client
