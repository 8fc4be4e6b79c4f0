#include "lib/kube/token_source.h"

#include <cctype>

#include "lib/common/file.h"

namespace ferry::kube {

std::unique_ptr<TokenSource> TokenSource::Fixed(std::string token) {
  return std::make_unique<TokenSource>(std::move(token), std::filesystem::path());
}

std::unique_ptr<TokenSource> TokenSource::FromFile(std::filesystem::path file) {
  return std::make_unique<TokenSource>(std::string(), std::move(file));
}

Result<std::string> TokenSource::Token() {
  std::lock_guard lock(mutex_);
  if (file_.empty()) return token_;
  constexpr auto kMaxAge = std::chrono::minutes(1);
  std::error_code error;
  const auto mtime = std::filesystem::last_write_time(file_, error);
  const auto now = std::chrono::steady_clock::now();
  const bool fresh = !token_.empty() && !error && mtime == read_mtime_ && now - read_at_ < kMaxAge;
  if (fresh) return token_;
  Result<std::string> text = ReadFileToString(file_);
  if (!text) {
    // Keep using the last good token through a brief gap in the rotation.
    if (!token_.empty()) return token_;
    return text.error().Wrap("read the bearer token");
  }
  std::string token = std::move(*text);
  while (!token.empty() && std::isspace(static_cast<unsigned char>(token.back()))) token.pop_back();
  token_ = std::move(token);
  read_mtime_ = mtime;
  read_at_ = now;
  return token_;
}

}  // namespace ferry::kube
