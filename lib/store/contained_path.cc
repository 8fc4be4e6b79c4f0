#include "lib/store/contained_path.h"

#include <sys/stat.h>

#include <cerrno>
#include <string>

#include "lib/common/file.h"

namespace ferry::store {
namespace {

Error Refuse(const std::filesystem::path& path, const std::string& what) {
  return MakeError(ErrorCode::kCorrupt, path.string() + " " + what +
                                            "; the store refuses anything but plain files and "
                                            "folders inside a version (remove it and retry)");
}

// Walks every parent of `relative` under `base`, creating missing ones if
// `create` is set; returns the full path of the leaf, which is not checked.
Result<std::filesystem::path> WalkParents(const std::filesystem::path& base,
                                          std::string_view relative, bool create) {
  const std::filesystem::path rel(relative);
  std::filesystem::path path = base;
  for (auto it = rel.begin(); it != rel.end(); ++it) {
    path /= *it;
    if (std::next(it) == rel.end()) break;
    struct stat info {};
    if (::lstat(path.c_str(), &info) != 0) {
      if (errno != ENOENT || !create) return ErrnoError("stat", path, errno);
      if (::mkdir(path.c_str(), 0755) != 0 && errno != EEXIST) {
        return ErrnoError("create folder", path, errno);
      }
      if (::lstat(path.c_str(), &info) != 0) return ErrnoError("stat", path, errno);
    }
    if (S_ISLNK(info.st_mode)) return Refuse(path, "is a symlink");
    if (!S_ISDIR(info.st_mode)) return Refuse(path, "is not a folder");
  }
  return path;
}

}  // namespace

Result<std::filesystem::path> ExistingFileInside(const std::filesystem::path& base,
                                                 std::string_view relative) {
  Result<std::filesystem::path> path = WalkParents(base, relative, /*create=*/false);
  if (!path) return path;
  struct stat info {};
  if (::lstat(path->c_str(), &info) != 0) return ErrnoError("stat", *path, errno);
  if (S_ISLNK(info.st_mode)) return Refuse(*path, "is a symlink");
  if (!S_ISREG(info.st_mode)) return Refuse(*path, "is not a regular file");
  return path;
}

Result<std::filesystem::path> PrepareFileInside(const std::filesystem::path& base,
                                                std::string_view relative) {
  Result<std::filesystem::path> path = WalkParents(base, relative, /*create=*/true);
  if (!path) return path;
  struct stat info {};
  if (::lstat(path->c_str(), &info) != 0) {
    if (errno == ENOENT) return path;
    return ErrnoError("stat", *path, errno);
  }
  if (S_ISLNK(info.st_mode)) return Refuse(*path, "is a symlink");
  if (!S_ISREG(info.st_mode)) return Refuse(*path, "is not a regular file");
  return path;
}

}  // namespace ferry::store
