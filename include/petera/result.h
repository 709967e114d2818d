// Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
//
// The one error type of libpetera. Every function that can fail returns a
// Result<T> (or Status), marked [[nodiscard]]. An Error carries a category,
// which decides the CLI exit code and the HTTP status in one place
// (errors.cc), and a message meant for the person running the program or for
// the server log, never for a remote client.
#ifndef PETERA_RESULT_H_
#define PETERA_RESULT_H_

#include <string>
#include <utility>
#include <variant>

namespace petera {

enum class ErrorCategory {
  kUsage,     // bad command line, unreadable or unsuitable local file
  kTrust,     // a certificate or chain is not trusted
  kNetwork,   // a server could not be reached or did not answer in time
  kProtocol,  // a peer sent something malformed or refused the request
  kCorrupt,   // corrupt or tampered envelope, failed authentication
  kNotFound,  // unknown key id (server side)
  kTooLarge,  // input over a size limit
  kInternal,  // OpenSSL or system failure that is not the input's fault
};

class [[nodiscard]] Error {
 public:
  Error(ErrorCategory category, std::string message)
      : category_(category), message_(std::move(message)) {}

  ErrorCategory category() const { return category_; }
  const std::string& message() const { return message_; }

  // Returns the same error with `context: ` put in front of the message.
  Error Wrap(const std::string& context) const {
    return Error(category_, context + ": " + message_);
  }

 private:
  ErrorCategory category_;
  std::string message_;
};

// Exit codes of the petera CLI, documented in petera(1).
int ExitCode(ErrorCategory category);
// HTTP status a server answers with for an error of this category.
int HttpStatus(ErrorCategory category);
// A short machine-readable code for JSON error bodies ("bad_request", ...).
const char* ErrorCode(ErrorCategory category);

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Error error) : v_(std::move(error)) {}  // NOLINT: implicit by design

  bool ok() const { return std::holds_alternative<T>(v_); }
  explicit operator bool() const { return ok(); }

  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const Error& error() const { return std::get<Error>(v_); }

 private:
  std::variant<T, Error> v_;
};

struct Ok {};
using Status = Result<Ok>;

inline Status OkStatus() { return Ok{}; }

}  // namespace petera

// Propagates an error from an expression returning Result<T> or Status.
#define PETERA_TRY(expr)                              \
  do {                                                \
    auto petera_try_result_ = (expr);                 \
    if (!petera_try_result_.ok()) {                   \
      return petera_try_result_.error();              \
    }                                                 \
  } while (false)

#define PETERA_CONCAT_INNER_(a, b) a##b
#define PETERA_CONCAT_(a, b) PETERA_CONCAT_INNER_(a, b)

// Declares `lhs` from the value of a Result<T>, or returns its error.
#define PETERA_ASSIGN_OR_RETURN(lhs, expr) \
  PETERA_ASSIGN_OR_RETURN_IMPL_(PETERA_CONCAT_(petera_r_, __LINE__), lhs, expr)
#define PETERA_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                  \
  if (!tmp.ok()) return tmp.error();                  \
  lhs = std::move(tmp).value()

#endif  // PETERA_RESULT_H_
