// What this process has checked by content while staging a version, so that
// Activate does not hash a file twice. It lives in memory only, on purpose: a
// version is activated only when every file was checked by content in the run
// that activates it, so bytes that changed on disk while no process watched
// them (bit rot, a hand edit of a resumed staging file) can never ride on an
// earlier run's word. An entry is trusted only while its file keeps the size,
// mtime and inode recorded with it: a rewritten or replaced file is hashed again.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>

#include "lib/common/result.h"
#include "lib/store/file_entry.h"

namespace ferry::store {

class VerifiedRecord {
 public:
  explicit VerifiedRecord(std::filesystem::path dir) : dir_(std::move(dir)) {}

  // Notes `entry` with the size, mtime and inode its file has now; the file
  // must exist under the folder, reached without symlinks, with entry.size bytes.
  Status Add(const FileEntry& entry);
  void Forget(const std::string& path);
  bool Contains(const FileEntry& entry) const;

 private:
  struct Seen {
    uint64_t size = 0;
    Sha256Digest sha256{};
    int64_t mtime_ns = 0;
    uint64_t inode = 0;
  };

  std::filesystem::path dir_;  // the staging folder its paths are relative to
  std::map<std::string, Seen> files_;
};

}  // namespace ferry::store
