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

bool TakesValue(const std::string& arg) { return arg == "--timeout" || arg == "--crl"; }

}  // namespace

SplitArguments SplitAnchor(const std::vector<std::string>& args) {
  SplitArguments out;
  bool before_command = true;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (before_command && IsCommand(arg)) {
      before_command = false;
      out.has_command = true;
    } else if (before_command && TakesValue(arg) && i + 1 < args.size()) {
      out.rest.push_back(arg);
      out.rest.push_back(args[++i]);
      continue;
    } else if (before_command && !IsOption(arg) && !out.anchor) {
      out.anchor = arg;
      continue;
    }
    out.rest.push_back(arg);
  }
  return out;
}

}  // namespace petera::client
