// Filling a staging folder: writing files, linking unchanged ones from a
// stored version, and recording what the caller already verified.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "lib/common/file.h"
#include "lib/common/names.h"
#include "lib/store/contained_path.h"
#include "lib/store/file_list.h"
#include "lib/store/store.h"
#include "lib/store/tree.h"

namespace ferry::store {
namespace {

// The fallback when a filesystem cannot hard-link; Activate syncs it later.
Status CopyFile(const std::filesystem::path& from, const std::filesystem::path& to) {
  Result<MappedFile> source = MappedFile::Open(from);
  if (!source) return source.error();
  Result<UniqueFd> target = CreateForWrite(to);
  if (!target) return target.error();
  return WriteAll(target->get(), source->bytes(), to);
}

}  // namespace

Staging::Staging(ModelLayout layout, std::string version, ModelLock lock, VerifiedRecord record)
    : layout_(std::move(layout)),
      version_(std::move(version)),
      dir_(layout_.staging(version_)),
      lock_(std::move(lock)),
      record_(std::move(record)) {}

Result<std::filesystem::path> Staging::PathFor(std::string_view relative) {
  if (abandoned_) return MakeError(ErrorCode::kInvalidArgument, "this staging was abandoned");
  if (Status s = ValidateRelativePath(relative); !s) return s.error();
  Result<std::filesystem::path> path = PrepareFileInside(dir_, relative);
  if (!path) return path;
  // A name with other links may share its inode with a complete version;
  // writing through it would change that version, so it goes first.
  struct stat info {};
  if (::lstat(path->c_str(), &info) == 0 && info.st_nlink > 1 && ::unlink(path->c_str()) != 0) {
    return ErrnoError("unlink", *path, errno);
  }
  return path;
}

Status Staging::LinkFromVersion(std::string_view from_version, std::string_view relative) {
  if (abandoned_) return MakeError(ErrorCode::kInvalidArgument, "this staging was abandoned");
  const std::string context = "link " + std::string(relative) + " from version " +
                              std::string(from_version) + " of " + layout_.model;
  if (Status s = ValidateVersion(from_version); !s) return s.error().Wrap(context);
  if (Status s = ValidateRelativePath(relative); !s) return s.error().Wrap(context);
  if (from_version == version_ || !IsFolder(layout_.version(from_version))) {
    return MakeError(ErrorCode::kNotFound,
                     context + ": that version is not complete in the store; fetch the file");
  }
  Result<std::vector<FileEntry>> files = ReadFileList(layout_.files_json(from_version));
  if (!files) return files.error().Wrap(context);
  const auto entry = std::ranges::find(*files, relative, &FileEntry::path);
  if (entry == files->end()) {
    return MakeError(ErrorCode::kNotFound, context + ": that version has no such file");
  }
  Result<std::filesystem::path> source =
      ExistingFileInside(layout_.version(from_version), relative);
  if (!source) return source.error().Wrap(context);
  Result<std::filesystem::path> target = PrepareFileInside(dir_, relative);
  if (!target) return target.error().Wrap(context);

  struct stat from {};
  struct stat to {};
  const bool linked = ::lstat(source->c_str(), &from) == 0 && ::lstat(target->c_str(), &to) == 0 &&
                      from.st_ino == to.st_ino && from.st_dev == to.st_dev;
  if (!linked) {
    if (::unlink(target->c_str()) != 0 && errno != ENOENT) {
      return ErrnoError("unlink", *target, errno).Wrap(context);
    }
    if (::link(source->c_str(), target->c_str()) != 0) {
      if (errno != EXDEV && errno != EMLINK) {
        return ErrnoError("link", *target, errno).Wrap(context);
      }
      if (Status s = CopyFile(*source, *target); !s) return s.error().Wrap(context);
    }
  }
  // The stored version was verified when it was activated and is read-only.
  if (Status s = record_.Add(*entry); !s) return s.error().Wrap(context);
  return record_.Save();
}

Status Staging::MarkVerified(const FileEntry& entry) {
  if (abandoned_) return MakeError(ErrorCode::kInvalidArgument, "this staging was abandoned");
  if (Status s = ValidateRelativePath(entry.path); !s) return s;
  if (Status s = record_.Add(entry); !s) return s;
  return record_.Save();
}

bool Staging::IsVerified(const FileEntry& entry) const {
  return !abandoned_ && record_.Contains(entry);
}

void Staging::Abandon() {
  abandoned_ = true;
  ::unlink(layout_.verified_record(version_).c_str());
  [[maybe_unused]] const Status removed = RemoveTree(dir_);
}

}  // namespace ferry::store
