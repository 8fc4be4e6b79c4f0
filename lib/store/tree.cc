#include "lib/store/tree.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <ranges>

#include "lib/common/file.h"

namespace ferry::store {
namespace fs = std::filesystem;
namespace {

// A model of a few large files is synced file by file (the data must be
// written anyway); past this many files, one syncfs is cheaper.
constexpr size_t kFsyncEachFileUpTo = 64;

}  // namespace

Result<Tree> ScanTree(const fs::path& dir) {
  // The iterator would follow `dir` itself if it were a symlink.
  struct stat info {};
  if (::lstat(dir.c_str(), &info) != 0) return ErrnoError("stat", dir, errno);
  if (!S_ISDIR(info.st_mode)) {
    return MakeError(ErrorCode::kCorrupt,
                     dir.string() + " is not a folder (a symlink?); remove it and retry");
  }
  Tree tree;
  std::error_code error;
  fs::recursive_directory_iterator it(dir, error);
  for (; !error && it != fs::recursive_directory_iterator(); it.increment(error)) {
    const fs::file_status status = it->symlink_status(error);
    if (error) break;
    const std::string relative = it->path().lexically_relative(dir).generic_string();
    if (fs::is_directory(status)) {
      tree.directories.push_back(relative);
    } else if (fs::is_regular_file(status)) {
      tree.files.push_back(relative);
    } else {
      return MakeError(ErrorCode::kCorrupt,
                       it->path().string() +
                           (fs::is_symlink(status) ? " is a symlink" : " is not a regular file") +
                           "; a version holds only plain files and folders (remove it and retry)");
    }
  }
  if (error) return ErrnoError("list", dir, error.value());
  std::ranges::sort(tree.files);
  return tree;
}

bool IsFolder(const fs::path& path) {
  struct stat info {};
  return ::lstat(path.c_str(), &info) == 0 && S_ISDIR(info.st_mode);
}

Result<std::vector<std::string>> ListNames(const fs::path& dir) {
  std::vector<std::string> names;
  std::error_code error;
  fs::directory_iterator it(dir, error);
  for (; !error && it != fs::directory_iterator(); it.increment(error)) {
    names.push_back(it->path().filename().string());
  }
  if (error && error.value() != ENOENT) return ErrnoError("list", dir, error.value());
  return names;
}

Status SealTree(const fs::path& dir, const Tree& tree) {
  for (const std::string& file : tree.files) {
    const fs::path path = dir / file;
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
    if (!fd.valid()) return ErrnoError("open", path, errno);
    if (::fchmod(fd.get(), 0444) != 0) return ErrnoError("make read-only", path, errno);
    if (tree.files.size() <= kFsyncEachFileUpTo) {
      if (Status s = Fsync(fd.get(), path); !s) return s;
    }
  }
  // Children before parents, so each folder is synced after what it lists.
  // (Reverse iterators rather than views::reverse: clang 14, which builds the
  // fuzzers, cannot compile libstdc++ 12's range views.)
  for (auto sub = tree.directories.rbegin(); sub != tree.directories.rend(); ++sub) {
    const fs::path path = dir / *sub;
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!fd.valid()) return ErrnoError("open", path, errno);
    if (::fchmod(fd.get(), 0555) != 0) return ErrnoError("make read-only", path, errno);
    if (tree.files.size() <= kFsyncEachFileUpTo) {
      if (Status s = Fsync(fd.get(), path); !s) return s;
    }
  }
  if (tree.files.size() > kFsyncEachFileUpTo) {
    // One syncfs makes the whole tree durable at the cost of one journal
    // commit, where an fsync per file costs one each: minutes for 100,000
    // small files. (Linux reports writeback errors from syncfs since 5.8.)
    UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!fd.valid()) return ErrnoError("open", dir, errno);
    if (::syncfs(fd.get()) != 0) return ErrnoError("sync the filesystem of", dir, errno);
  }
  return FsyncDirectory(dir);
}

Status RemoveTree(const fs::path& path) {
  std::error_code error;
  const fs::file_status status = fs::symlink_status(path, error);
  if (error || !fs::exists(status)) {
    return error && error.value() != ENOENT ? ErrnoError("stat", path, error.value()) : OkStatus();
  }
  if (fs::is_directory(status)) {
    ::chmod(path.c_str(), 0755);
    for (fs::recursive_directory_iterator it(path, error), end; !error && it != end;
         it.increment(error)) {
      if (it->is_directory(error) && !it->is_symlink(error)) ::chmod(it->path().c_str(), 0755);
    }
    // A failed chmod shows up below as the removal's own, clearer error.
  }
  fs::remove_all(path, error);
  if (error) return ErrnoError("remove", path, error.value());
  return OkStatus();
}

}  // namespace ferry::store
