// Where ApplyFile puts the rebuilt file: a bounded buffer that is hashed and
// written out whenever it fills, so memory stays the buffer's size whatever
// the file's. It never accepts more bytes than the size the delta declares, so
// a corrupt delta cannot fill the disk.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <vector>

#include "lib/common/file.h"
#include "lib/common/result.h"
#include "lib/common/sha256.h"

namespace ferry::delta {

class OutputSink {
 public:
  OutputSink(UniqueFd fd, std::filesystem::path path, uint64_t declared_size);

  // Free buffer space to write into (flushing first when little is left),
  // never more than the declared size still allows; then Commit what was used.
  Result<std::span<uint8_t>> Room();
  void Commit(size_t bytes) { fill_ += bytes; }
  // Copies `bytes` through (large spans go straight to the file).
  Status Append(std::span<const uint8_t> bytes);
  Status Flush();

  uint64_t size() const { return flushed_ + fill_; }
  // Flushes and ends the hash.
  Result<Sha256Digest> Finish();

 private:
  Status WriteOut(std::span<const uint8_t> bytes);
  UniqueFd fd_;
  std::filesystem::path path_;
  uint64_t declared_size_;
  std::vector<uint8_t> buffer_;
  size_t fill_ = 0;
  uint64_t flushed_ = 0;
  Sha256 hash_;
};

Error CorruptDelta(const std::string& what);

}  // namespace ferry::delta
