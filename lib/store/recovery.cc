// Recovery and the sweep; the steps are those of docs/store.md.
#include "lib/store/recovery.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <optional>
#include <set>

#include "lib/common/file.h"
#include "lib/common/utc_time.h"
#include "lib/store/current_link.h"
#include "lib/store/history.h"
#include "lib/store/tree.h"

namespace ferry::store {
namespace {

// WriteFileAtomically and SwitchCurrent name their temporaries
// "<name>.tmp-<pid>". The model folder holds only the store's names, so any
// such name there is one; in staging/ only the records' (which start with '.',
// unlike a version's staging folder) are.
bool IsLeftoverTemporary(std::string_view name, bool in_staging) {
  return name.find(".tmp-") != std::string_view::npos && (!in_staging || name.starts_with('.'));
}

Status RemoveLeftoverTemporaries(const std::filesystem::path& dir, bool in_staging) {
  Result<std::vector<std::string>> names = ListNames(dir);
  if (!names) return names.error();
  for (const std::string& name : *names) {
    if (!IsLeftoverTemporary(name, in_staging)) continue;
    if (::unlink((dir / name).c_str()) != 0 && errno != ENOENT) {
      return ErrnoError("remove", dir / name, errno);
    }
  }
  return OkStatus();
}

// Names the store makes in staging/ beside the versions' folders: a fetch
// cache per version, and the verified-files record older stores kept.
std::optional<std::string> CachedVersion(std::string_view name) {
  if (!name.starts_with('.') || !name.ends_with(".cache")) return std::nullopt;
  return std::string(name.substr(1, name.size() - 1 - std::string_view(".cache").size()));
}

bool IsLegacyRecord(std::string_view name) {
  return name.starts_with('.') && name.ends_with(".verified");
}

Status RemoveStaleStagingNames(const ModelLayout& layout) {
  Result<std::vector<std::string>> names = ListNames(layout.staging());
  if (!names) return names.error();
  for (const std::string& name : *names) {
    const std::optional<std::string> cached = CachedVersion(name);
    const bool stale_cache = cached && !IsFolder(layout.staging(*cached));
    if (!stale_cache && !IsLegacyRecord(name)) continue;
    if (Status s = RemoveTree(layout.staging() / name); !s) return s;
  }
  return OkStatus();
}

// trash/ as a real folder: a symlink planted under that name is removed, not
// followed (moving a version into it would carry the version, and the removal
// after, outside the store).
Status MakeOwnFolder(const std::filesystem::path& path) {
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (::mkdir(path.c_str(), 0755) != 0 && errno != EEXIST) {
      return ErrnoError("create folder", path, errno);
    }
    struct stat info {};
    if (::lstat(path.c_str(), &info) != 0) return ErrnoError("stat", path, errno);
    if (S_ISDIR(info.st_mode)) return OkStatus();
    if (::unlink(path.c_str()) != 0) return ErrnoError("remove", path, errno);
  }
  return MakeError(ErrorCode::kCorrupt, path.string() +
                                            " keeps being replaced by something "
                                            "that is not a folder; stop what does it");
}

}  // namespace

Status MoveToTrash(const ModelLayout& layout, const std::string& version) {
  const std::filesystem::path from = layout.version(version);
  const std::filesystem::path to = layout.trash() / version;
  struct stat info {};
  if (::lstat(from.c_str(), &info) != 0) return ErrnoError("stat", from, errno);
  if (!S_ISDIR(info.st_mode)) {
    // Not something the store made (a version is always a real folder):
    // remove the name, and never chmod or walk what it may point at.
    if (::unlink(from.c_str()) != 0) return ErrnoError("remove", from, errno);
    return FsyncDirectory(layout.versions());
  }
  if (Status s = MakeOwnFolder(layout.trash()); !s) return s;
  if (Status s = RemoveTree(to); !s) return s;
  // Moving a folder to another parent needs write permission on it; the fd
  // (O_NOFOLLOW | O_DIRECTORY) is the folder lstat saw, not what a name
  // swapped in since would lead to.
  UniqueFd folder(::open(from.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!folder.valid()) return ErrnoError("open", from, errno);
  if (::fchmod(folder.get(), 0755) != 0) return ErrnoError("make writable", from, errno);
  if (::rename(from.c_str(), to.c_str()) != 0) return ErrnoError("move to trash", from, errno);
  // Durable before anything in it is deleted, so a power cut can never bring
  // a half-deleted tree back into versions/.
  return FsyncDirectory(layout.versions());
}

Status CheckOwnFolders(const ModelLayout& layout) {
  for (const std::filesystem::path& folder : {layout.versions(), layout.meta(), layout.staging()}) {
    struct stat info {};
    if (::lstat(folder.c_str(), &info) != 0) {
      if (errno == ENOENT) continue;
      return ErrnoError("stat", folder, errno);
    }
    if (!S_ISDIR(info.st_mode)) {
      return MakeError(ErrorCode::kCorrupt,
                       folder.string() +
                           " is not a folder (a symlink?); the store never follows links it did "
                           "not make: remove it and retry");
    }
  }
  return OkStatus();
}

Status RollForward(const ModelLayout& layout, const Journal& journal) {
  const std::string& version = journal.version;
  const std::filesystem::path complete = layout.version(version);
  if (!IsFolder(complete)) {
    // Both gone means someone deleted the folder by hand: there is nothing
    // to finish, and `current` still names a whole version.
    if (!IsFolder(layout.staging(version))) return ClearJournal(layout.journal());
    if (::rename(layout.staging(version).c_str(), complete.c_str()) != 0) {
      return ErrnoError("move staged version into place", complete, errno);
    }
    if (Status s = FsyncDirectory(layout.versions()); !s) return s;
    if (Status s = FsyncDirectory(layout.staging()); !s) return s;
  }
  // Only saved work for the staging that has just become the version.
  if (Status s = RemoveTree(layout.cache(version)); !s) return s;
  UniqueFd folder(::open(complete.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!folder.valid()) return ErrnoError("open", complete, errno);
  if (::fchmod(folder.get(), 0555) != 0) return ErrnoError("make read-only", complete, errno);
  if (Status s = FsyncDirectory(complete); !s) return s;

  if (journal.switches_current()) {
    Result<std::optional<std::string>> current = ReadCurrent(layout);
    if (!current) return current.error();
    if (*current != version) {
      if (Status s = SwitchCurrent(layout, version); !s) return s;
    }
  }

  Result<History> history = LoadHistory(layout.state());
  if (!history) return history.error();
  History updated = *history;
  const std::string now = FormatTime(std::chrono::system_clock::now());
  if (!journal.switches_current()) {
    // Already listed (staged or activated) means a previous roll-forward got
    // this far, or the version was held before: nothing to record.
    updated.RecordStaged(version, now);
  } else if (updated.activations.empty() || updated.activations.front().version != version) {
    // Already at the front means a previous roll-forward got this far; keeping
    // its timestamp keeps this step idempotent.
    updated.RecordActivation(version, now);
  }
  if (journal.keep) updated.Truncate(static_cast<size_t>(*journal.keep));
  if (updated != *history) {
    if (Status s = SaveHistory(layout.state(), updated); !s) return s;
  }
  return ClearJournal(layout.journal());
}

Status Sweep(const ModelLayout& layout) {
  Result<std::optional<std::string>> current = ReadCurrent(layout);
  if (!current) return current.error();
  Result<History> history = LoadHistory(layout.state());
  if (!history) return history.error();
  std::set<std::string> wanted;
  if (*current) wanted.insert(**current);
  for (const Activation& a : history->activations) wanted.insert(a.version);
  for (const StagedVersion& s : history->staged) wanted.insert(s.version);

  Result<std::vector<std::string>> versions = ListNames(layout.versions());
  if (!versions) return versions.error();
  for (const std::string& version : *versions) {
    if (wanted.contains(version)) continue;
    if (Status s = MoveToTrash(layout, version); !s) return s;
  }
  Result<std::vector<std::string>> metas = ListNames(layout.meta());
  if (!metas) return metas.error();
  for (const std::string& version : *metas) {
    if (IsFolder(layout.version(version))) continue;
    if (Status s = RemoveTree(layout.meta(version)); !s) return s;
  }
  if (Status s = RemoveTree(layout.trash()); !s) return s;
  if (Status s = RemoveLeftoverTemporaries(layout.dir(), /*in_staging=*/false); !s) return s;
  if (Status s = RemoveStaleStagingNames(layout); !s) return s;
  return RemoveLeftoverTemporaries(layout.staging(), /*in_staging=*/true);
}

Status Recover(const ModelLayout& layout) {
  Result<std::optional<Journal>> journal = ReadJournal(layout.journal());
  if (!journal) return journal.error();
  if (*journal) {
    if (Status s = RollForward(layout, **journal); !s) return s;
  }
  return Sweep(layout);
}

}  // namespace ferry::store
