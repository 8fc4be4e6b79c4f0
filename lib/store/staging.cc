// Filling a staging folder: writing files, linking unchanged ones from a
// stored version, checking what an earlier run left, and recording what this
// process verified by content.
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "lib/common/file.h"
#include "lib/common/names.h"
#include "lib/common/parallel_for.h"
#include "lib/common/sha256.h"
#include "lib/store/contained_path.h"
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

bool SameInode(const std::filesystem::path& a, const std::filesystem::path& b) {
  struct stat first {};
  struct stat second {};
  return ::lstat(a.c_str(), &first) == 0 && ::lstat(b.c_str(), &second) == 0 &&
         first.st_ino == second.st_ino && first.st_dev == second.st_dev;
}

// Makes `target` a link to (or, across filesystems, a copy of) `source`.
Status LinkOrCopy(const std::filesystem::path& source, const std::filesystem::path& target) {
  if (SameInode(source, target)) return OkStatus();
  if (::unlink(target.c_str()) != 0 && errno != ENOENT) return ErrnoError("unlink", target, errno);
  if (::link(source.c_str(), target.c_str()) == 0) return OkStatus();
  if (errno != EXDEV && errno != EMLINK) return ErrnoError("link", target, errno);
  return CopyFile(source, target);
}

// Whether the file at `path` has `entry`'s size and SHA-256; kCorrupt saying
// how it differs if not.
Status MatchesEntry(const std::filesystem::path& path, const FileEntry& entry) {
  struct stat info {};
  if (::lstat(path.c_str(), &info) != 0) return ErrnoError("stat", path, errno);
  if (static_cast<uint64_t>(info.st_size) != entry.size) {
    return MakeError(ErrorCode::kCorrupt, "has " + std::to_string(info.st_size) +
                                              " bytes, expected " + std::to_string(entry.size));
  }
  Result<Sha256Digest> digest = Sha256OfFile(path);
  if (!digest) return digest.error();
  if (*digest != entry.sha256) {
    return MakeError(ErrorCode::kCorrupt,
                     "has SHA-256 " + ToHex(*digest) + ", expected " + ToHex(entry.sha256));
  }
  return OkStatus();
}

}  // namespace

Staging::Staging(ModelLayout layout, std::string version, ModelLock lock)
    : layout_(std::move(layout)),
      version_(std::move(version)),
      dir_(layout_.staging(version_)),
      lock_(std::move(lock)),
      record_(dir_) {}

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
  record_.Forget(std::string(relative));
  return path;
}

Result<size_t> Staging::ResumeFiles(std::span<const FileEntry> files) {
  if (abandoned_) return MakeError(ErrorCode::kInvalidArgument, "this staging was abandoned");
  // Which listed names hold a plain file of the right size: only those can
  // be kept, and only after hashing.
  std::vector<const FileEntry*> candidates;
  for (const FileEntry& entry : files) {
    if (!ValidateRelativePath(entry.path).ok() || record_.Contains(entry)) continue;
    Result<std::filesystem::path> path = ExistingFileInside(dir_, entry.path);
    if (!path) continue;  // absent, or under a symlink: not ours to keep
    struct stat info {};
    if (::lstat(path->c_str(), &info) == 0 && static_cast<uint64_t>(info.st_size) == entry.size) {
      candidates.push_back(&entry);
    }
  }
  std::vector<Status> checked(candidates.size());
  ParallelFor(candidates.size(), DefaultThreads(), [&](size_t i) {
    checked[i] = MatchesEntry(dir_ / candidates[i]->path, *candidates[i]);
  });
  size_t kept = 0;
  for (size_t i = 0; i < candidates.size(); ++i) {
    const FileEntry& entry = *candidates[i];
    if (!checked[i].ok()) {
      ::unlink((dir_ / entry.path).c_str());
      continue;
    }
    if (Status s = record_.Add(entry); !s) return s.error();
    ++kept;
  }
  return kept;
}

std::vector<Status> Staging::LinkFromVersions(std::span<const HeldFile> links) {
  std::vector<Status> results(links.size());
  std::vector<std::filesystem::path> targets(links.size());
  for (size_t i = 0; i < links.size(); ++i) {
    const HeldFile& link = links[i];
    const std::string context = "link " + link.entry.path + " from " + link.source_path +
                                " of version " + link.version + " of " + layout_.model;
    auto fail = [&](const Error& error) { results[i] = error.Wrap(context); };
    if (abandoned_) {
      fail(MakeError(ErrorCode::kInvalidArgument, "this staging was abandoned"));
      continue;
    }
    if (Status s = ValidateVersion(link.version); !s) {
      fail(s.error());
      continue;
    }
    if (Status s = ValidateRelativePath(link.entry.path); !s) {
      fail(s.error());
      continue;
    }
    if (Status s = ValidateRelativePath(link.source_path); !s) {
      fail(s.error());
      continue;
    }
    if (!IsFolder(layout_.version(link.version))) {
      fail(MakeError(ErrorCode::kNotFound,
                     "that version is not complete in the store; fetch the file"));
      continue;
    }
    Result<std::filesystem::path> source =
        ExistingFileInside(layout_.version(link.version), link.source_path);
    if (!source) {
      fail(source.error());
      continue;
    }
    Result<std::filesystem::path> target = PrepareFileInside(dir_, link.entry.path);
    if (!target) {
      fail(target.error());
      continue;
    }
    record_.Forget(link.entry.path);
    if (Status s = LinkOrCopy(*source, *target); !s) {
      fail(s.error());
      continue;
    }
    targets[i] = *target;
  }
  // A held version was verified when it was activated, but disks rot and
  // people edit files: every linked file is hashed before it may be used.
  ParallelFor(links.size(), DefaultThreads(), [&](size_t i) {
    if (!results[i].ok()) return;
    if (Status s = MatchesEntry(targets[i], links[i].entry); !s) {
      results[i] = MakeError(s.error().code, "the copy of " + links[i].source_path +
                                                 " in version " + links[i].version + " " +
                                                 s.error().message + ": it is damaged");
    }
  });
  for (size_t i = 0; i < links.size(); ++i) {
    if (targets[i].empty()) continue;
    if (results[i].ok()) results[i] = record_.Add(links[i].entry);
    if (!results[i].ok()) ::unlink(targets[i].c_str());
  }
  return results;
}

Status Staging::LinkFromVersion(std::string_view from_version, const FileEntry& entry) {
  const HeldFile link{std::string(from_version), entry.path, entry};
  return LinkFromVersions(std::span(&link, 1)).front();
}

Status Staging::MarkVerified(const FileEntry& entry) {
  if (abandoned_) return MakeError(ErrorCode::kInvalidArgument, "this staging was abandoned");
  if (Status s = ValidateRelativePath(entry.path); !s) return s;
  return record_.Add(entry);
}

bool Staging::IsVerified(const FileEntry& entry) const {
  return !abandoned_ && record_.Contains(entry);
}

Result<std::filesystem::path> Staging::CacheDir() {
  if (abandoned_) return MakeError(ErrorCode::kInvalidArgument, "this staging was abandoned");
  const std::filesystem::path cache = layout_.cache(version_);
  for (const std::filesystem::path& folder : {cache, cache / "objects"}) {
    if (::mkdir(folder.c_str(), 0755) != 0 && errno != EEXIST) {
      return ErrnoError("create folder", folder, errno);
    }
    if (!IsFolder(folder)) {
      return MakeError(ErrorCode::kCorrupt,
                       folder.string() +
                           " is not a folder (a symlink?); the store never "
                           "follows links it did not make: remove it and retry");
    }
  }
  return cache;
}

void Staging::Abandon() {
  abandoned_ = true;
  [[maybe_unused]] const Status cache_removed = RemoveTree(layout_.cache(version_));
  [[maybe_unused]] const Status removed = RemoveTree(dir_);
}

}  // namespace ferry::store
