// Where EncodeFile and ApplyFile write. The output is never one of their
// inputs (truncating it would pull a mapped file from under the codec), and
// it is removed unless the writer declares it complete, so a failure at any
// point leaves no half-written file behind.
#pragma once

#include <filesystem>
#include <span>
#include <system_error>
#include <utility>

#include "lib/common/result.h"

namespace ferry::delta {

inline Status CheckNotAnInput(const std::filesystem::path& out,
                              std::span<const std::filesystem::path> inputs) {
  for (const std::filesystem::path& input : inputs) {
    std::error_code error;
    if (std::filesystem::equivalent(out, input, error)) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "output " + out.string() + " is also an input; write it elsewhere");
    }
  }
  return OkStatus();
}

class ScopedRemoval {
 public:
  explicit ScopedRemoval(std::filesystem::path path) : path_(std::move(path)) {}
  ~ScopedRemoval() {
    std::error_code ignored;
    if (!kept_) std::filesystem::remove(path_, ignored);
  }
  ScopedRemoval(const ScopedRemoval&) = delete;
  ScopedRemoval& operator=(const ScopedRemoval&) = delete;

  void Keep() { kept_ = true; }

 private:
  std::filesystem::path path_;
  bool kept_ = false;
};

}  // namespace ferry::delta
