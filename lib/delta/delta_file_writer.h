// Writes a delta file front to back and closes it with the trailer: the
// SHA-256 of every byte before it (docs/delta-format.md).
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>

#include "lib/common/file.h"
#include "lib/common/sha256.h"

namespace ferry::delta {

class DeltaFileWriter {
 public:
  DeltaFileWriter(UniqueFd fd, std::filesystem::path path)
      : fd_(std::move(fd)), path_(std::move(path)) {}

  Status Write(std::span<const uint8_t> bytes) {
    written_ += bytes.size();
    hash_.Update(bytes);
    return WriteAll(fd_.get(), bytes, path_);
  }
  // Appends the trailer; nothing may be written afterwards.
  Status Finish() {
    const Sha256Digest digest = hash_.Finish();
    written_ += digest.size();
    return WriteAll(fd_.get(), digest, path_);
  }
  uint64_t written() const { return written_; }

 private:
  UniqueFd fd_;
  std::filesystem::path path_;
  uint64_t written_ = 0;
  Sha256 hash_;
};

}  // namespace ferry::delta
