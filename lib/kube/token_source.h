// The bearer token for requests. A projected service-account token expires
// and the kubelet writes a fresh one into the same file (through a symlink
// swap) well before it does; so a token from a file is re-read whenever the
// file changed and at least once a minute, never cached for the process's
// life. Thread-safe.
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>

#include "lib/common/result.h"

namespace ferry::kube {

class TokenSource {
 public:
  // A token that never changes (empty: send none).
  static std::unique_ptr<TokenSource> Fixed(std::string token);
  static std::unique_ptr<TokenSource> FromFile(std::filesystem::path file);
  TokenSource(std::string token, std::filesystem::path file)
      : file_(std::move(file)), token_(std::move(token)) {}

  TokenSource(const TokenSource&) = delete;
  TokenSource& operator=(const TokenSource&) = delete;

  // The token to send now; empty when there is none.
  Result<std::string> Token();

 private:
  std::filesystem::path file_;  // empty for a fixed token
  std::mutex mutex_;
  std::string token_;                                // guarded by mutex_
  std::filesystem::file_time_type read_mtime_{};     // guarded by mutex_
  std::chrono::steady_clock::time_point read_at_{};  // guarded by mutex_
};

}  // namespace ferry::kube
