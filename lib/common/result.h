// Results as values. A function that can fail in an expected way (bad input, a
// missing file, a refused connection) returns Result<T>: either the value or an
// Error that says what failed and, where it can, what the caller may do about it.
// Exceptions stay for programming errors: reading the value of a failed Result
// or the error of a successful one aborts.
#pragma once

#include <cstdlib>
#include <string>
#include <utility>
#include <variant>

namespace ferry {

// Broad classes of failure, so callers can decide on retries without parsing text.
enum class ErrorCode {
  kInvalidArgument,  // the caller's input is wrong; retrying will not help
  kNotFound,
  kAlreadyExists,
  kConflict,          // optimistic-concurrency loss; re-read and retry
  kUnavailable,       // transient (network, overload); retry with backoff
  kExpired,           // what was asked for is gone (a compacted resourceVersion); start afresh
  kPermissionDenied,  // the credentials lack the right; retrying will not help
  kCorrupt,           // data failed verification
  kIo,                // the operating system refused (disk full, permissions)
  kNoSpace,           // not enough room (disk space) for what was asked; nothing was written
  kCancelled,         // the caller asked the operation to stop
  kInternal,
};

struct Error {
  ErrorCode code = ErrorCode::kInternal;
  std::string message;

  // Prefixes context, so an error read at the top says where it came from:
  // "pull coder 1.1.0: fetch chunk ab12…: connection refused".
  Error Wrap(const std::string& context) const { return {code, context + ": " + message}; }
};

inline Error MakeError(ErrorCode code, std::string message) { return {code, std::move(message)}; }

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::move(value)) {}      // NOLINT: implicit by design
  Result(Error error) : state_(std::move(error)) {}  // NOLINT: implicit by design

  bool ok() const { return std::holds_alternative<T>(state_); }
  explicit operator bool() const { return ok(); }

  T& value() & { return Checked<T>(); }
  const T& value() const& { return Checked<T>(); }
  T&& value() && { return std::move(Checked<T>()); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  const Error& error() const { return Checked<Error>(); }

 private:
  template <typename U>
  U& Checked() {
    if (!std::holds_alternative<U>(state_)) std::abort();
    return std::get<U>(state_);
  }
  template <typename U>
  const U& Checked() const {
    if (!std::holds_alternative<U>(state_)) std::abort();
    return std::get<U>(state_);
  }

  std::variant<T, Error> state_;
};

// The result of an operation that produces nothing but may fail.
class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT: implicit by design

  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const {
    if (ok_) std::abort();
    return error_;
  }

 private:
  Error error_;
  bool ok_ = true;
};

inline Status OkStatus() { return {}; }

}  // namespace ferry
