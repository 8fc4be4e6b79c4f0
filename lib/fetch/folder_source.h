// A repository on a local filesystem: a folder, a mounted USB disk, a network
// share. Paths are resolved under the canonical root and a symlink leading out
// of it is refused. Resuming is a copy that starts where the destination ends.
#pragma once

#include <filesystem>
#include <memory>

#include "lib/fetch/rate_limiter.h"
#include "lib/fetch/source.h"

namespace ferry::fetch {

class FolderSource final : public Source {
 public:
  // kNotFound unless `root` is an existing folder.
  static Result<std::unique_ptr<Source>> Open(const std::filesystem::path& root,
                                              const FetchOptions& options);

  std::string Describe() const override { return root_.string(); }
  Result<std::string> ReadSmall(std::string_view relative_path, uint64_t max_bytes) override;
  Status FetchToFile(std::string_view relative_path, const std::filesystem::path& destination,
                     std::optional<uint64_t> expected_size, Progress* progress) override;

  FolderSource(std::filesystem::path root, uint64_t bandwidth_limit);

 private:
  const std::filesystem::path root_;  // canonical
  RateLimiter limiter_;
  // Bytes copied between two looks at the bandwidth cap and the stop token:
  // under a cap, about a sixteenth of a second's worth, so that a cancelled
  // copy stops promptly instead of after a whole buffer's wait.
  const size_t block_;
};

}  // namespace ferry::fetch
