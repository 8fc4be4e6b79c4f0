// What a stager has already verified, so that neither a resumed run nor
// Activate hashes a file twice (hashing a 100 GB model takes minutes).
// Kept at staging/.<version>.verified and replaced atomically on each change,
// so a crash leaves the previous record or the new one. An entry is trusted
// only while its file keeps the size, mtime and inode recorded with it: a
// rewritten or replaced file loses that trust and is hashed again.
//
// {"format": 1, "files": {"<path>": {"size": N, "sha256": "<hex>", "mtime_ns": M, "inode": I}}}
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
  // A missing or damaged record loads as an empty one: the record only saves
  // work, so losing it costs a re-hash, never correctness.
  static VerifiedRecord Load(std::filesystem::path record, std::filesystem::path dir);

  // Syncs the file and notes `entry` with its size, mtime and inode; the file
  // must exist under the folder with entry.size bytes. Save() makes the note
  // durable.
  Status Add(const FileEntry& entry);
  void Forget(const std::string& path);
  bool Contains(const FileEntry& entry) const;
  Status Save() const;

 private:
  struct Seen {
    uint64_t size = 0;
    Sha256Digest sha256{};
    int64_t mtime_ns = 0;
    uint64_t inode = 0;
  };
  VerifiedRecord(std::filesystem::path record, std::filesystem::path dir)
      : record_(std::move(record)), dir_(std::move(dir)) {}

  std::filesystem::path record_;  // the record file
  std::filesystem::path dir_;     // the staging folder its paths are relative to
  std::map<std::string, Seen> files_;
};

}  // namespace ferry::store
