#include "lib/store/verified_record.h"

#include <sys/stat.h>

#include <cerrno>

#include "lib/common/file.h"
#include "lib/store/contained_path.h"

namespace ferry::store {
namespace {

int64_t MtimeNs(const struct stat& info) {
  return static_cast<int64_t>(info.st_mtim.tv_sec) * 1'000'000'000 + info.st_mtim.tv_nsec;
}

}  // namespace

Status VerifiedRecord::Add(const FileEntry& entry) {
  Result<std::filesystem::path> path = ExistingFileInside(dir_, entry.path);
  if (!path) return path.error();
  struct stat info {};
  if (::lstat(path->c_str(), &info) != 0) return ErrnoError("stat", *path, errno);
  if (static_cast<uint64_t>(info.st_size) != entry.size) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "cannot record " + entry.path + " as verified: it has " +
                         std::to_string(info.st_size) + " bytes, the entry says " +
                         std::to_string(entry.size));
  }
  files_[entry.path] = {entry.size, entry.sha256, MtimeNs(info),
                        static_cast<uint64_t>(info.st_ino)};
  return OkStatus();
}

void VerifiedRecord::Forget(const std::string& path) { files_.erase(path); }

bool VerifiedRecord::Contains(const FileEntry& entry) const {
  const auto it = files_.find(entry.path);
  if (it == files_.end()) return false;
  const Seen& seen = it->second;
  struct stat info {};
  if (::lstat((dir_ / entry.path).c_str(), &info) != 0 || !S_ISREG(info.st_mode)) return false;
  return seen.size == entry.size && seen.sha256 == entry.sha256 &&
         static_cast<uint64_t>(info.st_size) == seen.size && MtimeNs(info) == seen.mtime_ns &&
         static_cast<uint64_t>(info.st_ino) == seen.inode;
}

}  // namespace ferry::store
