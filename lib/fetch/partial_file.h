// The destination of one download, filled from the front. It is opened without
// truncation, so the bytes an earlier attempt or an earlier run left there stay
// and the transfer continues after them. Invariants: size() is the file's
// length; with an expected size the file never grows past it (a leftover that
// is already longer is discarded on Open, extra arriving bytes are refused).
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string_view>

#include "lib/common/file.h"
#include "lib/common/result.h"

namespace ferry::fetch {

class PartialFile {
 public:
  static Result<PartialFile> Open(const std::filesystem::path& path,
                                  std::optional<uint64_t> expected_size);

  uint64_t size() const { return size_; }
  std::optional<uint64_t> expected_size() const { return expected_size_; }

  // Empties the file, for a source that will send everything again.
  Status Restart();
  // Appends `data`; kCorrupt if that would pass the expected size.
  Status Append(std::string_view data);
  // kCorrupt unless the file has exactly the expected size (any size passes
  // when none was given). `source` names where the bytes came from.
  Status CheckComplete(std::string_view source) const;

 private:
  PartialFile(UniqueFd fd, std::filesystem::path path, uint64_t size,
              std::optional<uint64_t> expected_size)
      : fd_(std::move(fd)), path_(std::move(path)), size_(size), expected_size_(expected_size) {}

  UniqueFd fd_;
  std::filesystem::path path_;
  uint64_t size_;
  std::optional<uint64_t> expected_size_;
};

}  // namespace ferry::fetch
