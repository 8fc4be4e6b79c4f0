// Recovery and the sweep; the steps are those of docs/store.md.
#include "lib/store/recovery.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
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

Status MoveToTrash(const ModelLayout& layout, const std::string& version) {
  const std::filesystem::path from = layout.version(version);
  const std::filesystem::path to = layout.trash() / version;
  if (::mkdir(layout.trash().c_str(), 0755) != 0 && errno != EEXIST) {
    return ErrnoError("create folder", layout.trash(), errno);
  }
  if (Status s = RemoveTree(to); !s) return s;
  // Moving a folder to another parent needs write permission on it.
  if (::chmod(from.c_str(), 0755) != 0) return ErrnoError("make writable", from, errno);
  if (::rename(from.c_str(), to.c_str()) != 0) return ErrnoError("move to trash", from, errno);
  // Durable before anything in it is deleted, so a power cut can never bring
  // a half-deleted tree back into versions/.
  return FsyncDirectory(layout.versions());
}

}  // namespace

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
  ::unlink(layout.verified_record(version).c_str());  // only saved work; nothing needs it now
  if (::chmod(complete.c_str(), 0555) != 0) return ErrnoError("make read-only", complete, errno);
  if (Status s = FsyncDirectory(complete); !s) return s;

  Result<std::optional<std::string>> current = ReadCurrent(layout);
  if (!current) return current.error();
  if (*current != version) {
    if (Status s = SwitchCurrent(layout, version); !s) return s;
  }

  Result<History> history = LoadHistory(layout.state());
  if (!history) return history.error();
  History updated = *history;
  // Already at the front means a previous roll-forward got this far; keeping
  // its timestamp keeps this step idempotent.
  if (updated.activations.empty() || updated.activations.front().version != version) {
    updated.RecordActivation(version, FormatTime(std::chrono::system_clock::now()));
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
