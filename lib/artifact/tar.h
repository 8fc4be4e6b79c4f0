// The POSIX ustar subset Ferry's offline bundles use: regular files only, names
// up to 255 bytes (prefix + name), sizes below 8 GiB (chunk objects are far
// smaller). Reading builds an index of member offsets so members are copied
// straight out of the archive, never extracted to disk first.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>

#include "lib/common/file.h"
#include "lib/common/result.h"

namespace ferry {

class TarWriter {
 public:
  // Writes to `path` + ".partial" and renames on Finish, so a bundle that
  // exists is complete. The partial file is created here, exclusively: one
  // that exists already (another run's, or the user's) is refused, never
  // truncated. Unless Finish succeeds, the destructor removes the partial
  // file — the one made here, checked by inode — so a failure leaves nothing.
  static Result<TarWriter> Create(const std::filesystem::path& path);
  ~TarWriter();
  TarWriter(TarWriter&& other) noexcept;
  TarWriter& operator=(TarWriter&&) = delete;
  TarWriter(const TarWriter&) = delete;
  TarWriter& operator=(const TarWriter&) = delete;

  Status AddFile(std::string_view name, const std::filesystem::path& source);
  Status AddBytes(std::string_view name, std::string_view contents);
  Status Finish();

 private:
  TarWriter(std::filesystem::path path, UniqueFd fd, dev_t device, ino_t inode)
      : path_(std::move(path)), fd_(std::move(fd)), device_(device), inode_(inode) {}
  std::filesystem::path PartialPath() const;
  Status WriteHeader(std::string_view name, uint64_t size);
  Status Pad(uint64_t size);
  std::filesystem::path path_;
  UniqueFd fd_;
  dev_t device_ = 0;
  ino_t inode_ = 0;
  bool done_ = false;  // renamed into place, or handed to another writer by a move
};

struct TarMember {
  uint64_t offset = 0;  // of the data, in the archive
  uint64_t size = 0;
};

class TarIndex {
 public:
  // Reads every header; a damaged header (bad checksum, bad size) is kCorrupt.
  static Result<TarIndex> Open(const std::filesystem::path& path);
  const TarMember* Find(std::string_view name) const;
  int fd() const { return fd_.get(); }
  const std::filesystem::path& path() const { return path_; }

 private:
  TarIndex(std::filesystem::path path, UniqueFd fd) : path_(std::move(path)), fd_(std::move(fd)) {}
  std::filesystem::path path_;
  UniqueFd fd_;
  std::map<std::string, TarMember, std::less<>> members_;
};

}  // namespace ferry
