#include "lib/fetch/partial_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string>

namespace ferry::fetch {

Result<PartialFile> PartialFile::Open(const std::filesystem::path& path,
                                      std::optional<uint64_t> expected_size) {
  // O_APPEND: every write lands at the end whatever the offset, which is the
  // only place a download may write.
  // O_NOFOLLOW: a symlink planted under the destination's name must not aim
  // a download (which runs as root on a node) at a file elsewhere.
  const int raw =
      ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (raw < 0) return ErrnoError("open download destination", path, errno);
  UniqueFd fd(raw);
  struct stat info {};
  if (::fstat(fd.get(), &info) != 0) return ErrnoError("stat", path, errno);
  PartialFile file(std::move(fd), path, static_cast<uint64_t>(info.st_size), expected_size);
  if (expected_size && file.size_ > *expected_size) {
    if (Status restarted = file.Restart(); !restarted) return restarted.error();
  }
  return file;
}

Status PartialFile::Restart() {
  if (::ftruncate(fd_.get(), 0) != 0) return ErrnoError("truncate", path_, errno);
  size_ = 0;
  return OkStatus();
}

Status PartialFile::Append(std::string_view data) {
  if (expected_size_ && data.size() > *expected_size_ - size_) {
    return MakeError(ErrorCode::kCorrupt, "the source sent more than the expected " +
                                              std::to_string(*expected_size_) + " bytes");
  }
  if (Status written = WriteAll(fd_.get(), data, path_); !written) return written;
  size_ += data.size();
  return OkStatus();
}

Status PartialFile::CheckComplete(std::string_view source) const {
  if (!expected_size_ || size_ == *expected_size_) return OkStatus();
  return MakeError(ErrorCode::kCorrupt, std::string(source) + " ended after " +
                                            std::to_string(size_) + " bytes, expected " +
                                            std::to_string(*expected_size_));
}

}  // namespace ferry::fetch
