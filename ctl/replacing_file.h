// A file written beside its destination and renamed over it only when whole,
// for ferryctl's -o outputs (patch, diff). Until Commit the destination is
// untouched: a failure at any point, a missing input or a kill leaves the
// user's file byte for byte as it was.
//
// Invariants: the temporary file is created here, exclusively (O_EXCL), under
// a random name in the destination's folder (so the rename is atomic and
// cannot cross filesystems), and it is the only thing this class ever
// removes — checked by inode before removal, so a name that someone else
// reused is left alone. A destination that is a symlink is refused, as Ferry
// never writes through one.
#pragma once

#include <sys/types.h>

#include <filesystem>

#include "lib/common/file.h"
#include "lib/common/result.h"

namespace ferry::ctl {

class ReplacingFile {
 public:
  // `destination` must be absent or a regular file (see CheckOutputFile). The
  // temporary file gets the permission bits of the file it will replace, or
  // 0644 less the umask for a new one.
  static Result<ReplacingFile> Create(const std::filesystem::path& destination);
  ~ReplacingFile();
  ReplacingFile(ReplacingFile&& other) noexcept;
  ReplacingFile& operator=(ReplacingFile&&) = delete;
  ReplacingFile(const ReplacingFile&) = delete;
  ReplacingFile& operator=(const ReplacingFile&) = delete;

  // Where the writer writes (it may truncate or even remove it).
  const std::filesystem::path& temporary() const { return temporary_; }

  // Makes the temporary file durable (fsync) and renames it over the
  // destination, then fsyncs the folder.
  Status Commit();

 private:
  ReplacingFile(std::filesystem::path destination, std::filesystem::path temporary, UniqueFd fd,
                dev_t device, ino_t inode)
      : destination_(std::move(destination)),
        temporary_(std::move(temporary)),
        fd_(std::move(fd)),
        device_(device),
        inode_(inode) {}
  void RemoveTemporary();

  std::filesystem::path destination_;
  std::filesystem::path temporary_;
  UniqueFd fd_;
  dev_t device_ = 0;
  ino_t inode_ = 0;
  bool done_ = false;  // committed or removed: nothing left to clean up
};

}  // namespace ferry::ctl
