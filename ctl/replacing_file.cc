#include "ctl/replacing_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <optional>
#include <random>
#include <string>

namespace ferry::ctl {
namespace {

namespace fs = std::filesystem;

// Long destination names are cut so that the temporary name stays within the
// 255 bytes a name may have.
constexpr size_t kMaxShownNameBytes = 120;
constexpr int kCreateAttempts = 16;

std::string RandomSuffix(std::random_device& random) {
  const uint64_t value = (static_cast<uint64_t>(random()) << 32) ^ random();
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(value));
  return hex;
}

}  // namespace

Result<ReplacingFile> ReplacingFile::Create(const fs::path& destination) {
  struct stat info {};
  const bool exists = ::lstat(destination.c_str(), &info) == 0;
  if (exists && !S_ISREG(info.st_mode)) {
    return MakeError(ErrorCode::kInvalidArgument,
                     destination.string() + (S_ISLNK(info.st_mode)
                                                 ? " is a symlink, which ferryctl never writes "
                                                   "through; remove it or name the file itself"
                                                 : " is not a regular file; give a new path or a "
                                                   "file to replace"));
  }
  // Permission bits of the file replaced, so that replacing it changes its
  // contents only; a new file is made as any new file (0644 less the umask).
  std::optional<mode_t> keep_mode;
  if (exists) keep_mode = info.st_mode & 0777;

  const fs::path folder = destination.parent_path().empty() ? "." : destination.parent_path();
  const std::string name = destination.filename().string().substr(0, kMaxShownNameBytes);
  std::random_device random;
  for (int attempt = 0; attempt < kCreateAttempts; ++attempt) {
    fs::path temporary = folder / ("." + name + ".ferryctl-" + RandomSuffix(random) + ".partial");
    UniqueFd fd(
        ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644));
    if (!fd.valid()) {
      if (errno == EEXIST) continue;
      return ErrnoError("create a temporary file beside", destination, errno);
    }
    if (::fstat(fd.get(), &info) != 0) {
      const int error_number = errno;
      ::unlink(temporary.c_str());
      return ErrnoError("stat", temporary, error_number);
    }
    ReplacingFile file(destination, std::move(temporary), std::move(fd), info.st_dev, info.st_ino);
    if (keep_mode && ::fchmod(file.fd_.get(), *keep_mode) != 0) {
      return ErrnoError("chmod", file.temporary_, errno);  // the destructor removes it
    }
    return file;
  }
  return MakeError(ErrorCode::kIo, "could not create a temporary file beside " +
                                       destination.string() + " under a fresh name in " +
                                       std::to_string(kCreateAttempts) + " attempts");
}

ReplacingFile::ReplacingFile(ReplacingFile&& other) noexcept
    : destination_(std::move(other.destination_)),
      temporary_(std::move(other.temporary_)),
      fd_(std::move(other.fd_)),
      device_(other.device_),
      inode_(other.inode_),
      done_(other.done_) {
  other.done_ = true;
}

ReplacingFile::~ReplacingFile() { RemoveTemporary(); }

void ReplacingFile::RemoveTemporary() {
  if (done_) return;
  done_ = true;
  struct stat info {};
  if (::lstat(temporary_.c_str(), &info) == 0 && info.st_dev == device_ && info.st_ino == inode_) {
    ::unlink(temporary_.c_str());
  }
}

Status ReplacingFile::Commit() {
  if (Status s = Fsync(fd_.get(), temporary_); !s) return s;
  struct stat info {};
  if (::lstat(temporary_.c_str(), &info) != 0 || info.st_dev != device_ || info.st_ino != inode_) {
    return MakeError(ErrorCode::kIo, "the temporary file " + temporary_.string() +
                                         " was removed or replaced while it was written; " +
                                         destination_.string() + " is unchanged, run again");
  }
  if (::rename(temporary_.c_str(), destination_.c_str()) != 0) {
    return ErrnoError("rename " + temporary_.string() + " to", destination_, errno);
  }
  done_ = true;
  return FsyncDirectory(destination_.parent_path().empty() ? "." : destination_.parent_path());
}

}  // namespace ferry::ctl
