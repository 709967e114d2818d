// Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
//
// The one place where error categories become exit codes and HTTP statuses.
#include "petera/result.h"

namespace petera {

int ExitCode(ErrorCategory category) {
  switch (category) {
    case ErrorCategory::kUsage:
    case ErrorCategory::kTooLarge:
      return 2;
    case ErrorCategory::kTrust:
      return 3;
    case ErrorCategory::kNetwork:
      return 4;
    case ErrorCategory::kProtocol:
    case ErrorCategory::kNotFound:
      return 5;
    case ErrorCategory::kCorrupt:
      return 6;
    case ErrorCategory::kInternal:
      return 1;
  }
  return 1;
}

int HttpStatus(ErrorCategory category) {
  switch (category) {
    case ErrorCategory::kUsage:
    case ErrorCategory::kProtocol:
    case ErrorCategory::kCorrupt:
    case ErrorCategory::kTrust:
      return 400;
    case ErrorCategory::kNotFound:
      return 404;
    case ErrorCategory::kTooLarge:
      return 413;
    case ErrorCategory::kNetwork:
      return 503;
    case ErrorCategory::kInternal:
      return 500;
  }
  return 500;
}

const char* ErrorCode(ErrorCategory category) {
  switch (category) {
    case ErrorCategory::kUsage:
    case ErrorCategory::kProtocol:
    case ErrorCategory::kCorrupt:
    case ErrorCategory::kTrust:
      return "bad_request";
    case ErrorCategory::kNotFound:
      return "unknown_kid";
    case ErrorCategory::kTooLarge:
      return "too_large";
    case ErrorCategory::kNetwork:
      return "unavailable";
    case ErrorCategory::kInternal:
      return "internal";
  }
  return "internal";
}

}  // namespace petera
