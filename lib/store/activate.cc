// Turning a staging folder into the current version. The order is the crash
// protocol of docs/store.md: everything is verified, sealed and synced, then
// meta is written, and only then the journal, whose roll-forward (recovery.h)
// makes the change visible. A kill before the journal leaves the old version
// current and the staging folder resumable; a kill after it is finished by the
// next writer.
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <optional>

#include "lib/common/file.h"
#include "lib/common/names.h"
#include "lib/common/parallel_for.h"
#include "lib/store/current_link.h"
#include "lib/store/file_check.h"
#include "lib/store/file_list.h"
#include "lib/store/journal.h"
#include "lib/store/recovery.h"
#include "lib/store/store.h"
#include "lib/store/tree.h"

namespace ferry::store {
namespace {

Status MakeFolder(const std::filesystem::path& path) {
  if (::mkdir(path.c_str(), 0755) == 0) return FsyncDirectory(path.parent_path());
  if (errno == EEXIST && IsFolder(path)) return OkStatus();
  if (errno == EEXIST) {
    return MakeError(ErrorCode::kCorrupt,
                     path.string() + " exists but is not a folder; remove it and retry");
  }
  return ErrnoError("create folder", path, errno);
}

// Checks the staged tree against `files`, hashing on several threads every
// file this process has not verified yet. A file with the wrong size or digest
// is deleted, so the caller's next run fetches it again instead of trusting it.
Result<Tree> CheckStaged(const std::filesystem::path& dir, std::span<const FileEntry> files,
                         VerifiedRecord& record) {
  Result<Tree> tree = ScanTree(dir);
  if (!tree) return tree;
  if (Status s = CompareFileSets(tree->files, files); !s) return s.error();
  const std::vector<FileEntry> sorted = SortedByPath(files);
  std::vector<Status> checked(sorted.size());
  ParallelFor(sorted.size(), DefaultThreads(), [&](size_t i) {
    checked[i] = CheckFileContent(dir / sorted[i].path, sorted[i], record.Contains(sorted[i]));
  });
  std::optional<Error> first_damage;
  for (size_t i = 0; i < sorted.size(); ++i) {
    if (checked[i].ok()) continue;
    if (checked[i].error().code != ErrorCode::kCorrupt) return checked[i].error();
    ::unlink((dir / sorted[i].path).c_str());
    record.Forget(sorted[i].path);
    if (!first_damage) first_damage = checked[i].error();
  }
  if (first_damage) {
    return MakeError(ErrorCode::kCorrupt,
                     first_damage->message + " (removed from staging: fetch it again)");
  }
  return tree;
}

// Writes meta/<version>/. For a new version, whatever an earlier, interrupted
// attempt left there is replaced whole; for a version being repaired, the
// files are replaced one by one (atomically), so its meta is never missing.
Status WriteMeta(const ModelLayout& layout, std::string_view version,
                 std::span<const FileEntry> files, std::string_view manifest,
                 std::string_view signature, bool fresh) {
  if (fresh) {
    if (Status s = RemoveTree(layout.meta(version)); !s) return s;
  }
  if (Status s = MakeFolder(layout.meta(version)); !s) return s;
  if (Status s = WriteFileAtomically(layout.manifest(version), manifest); !s) return s;
  if (Status s = WriteFileAtomically(layout.signature(version), signature); !s) return s;
  return WriteFileAtomically(layout.files_json(version), EncodeFileList(files));
}

// Journals the switch to `version` (unless the caller did) and rolls it
// forward, then collects garbage.
Status Commit(const ModelLayout& layout, const Journal& journal, bool journaled = false) {
  if (!journaled) {
    if (Status s = WriteJournal(layout.journal(), journal); !s) return s;
  }
  if (Status s = RollForward(layout, journal); !s) {
    return MakeError(s.error().code, s.error().message +
                                         " (the switch is journaled: the next ferry run on this "
                                         "model finishes it)");
  }
  if (Status s = Sweep(layout); !s) {
    return MakeError(
        s.error().code,
        journal.version + (journal.switches_current() ? " is current" : " is held") +
            ", but removing old versions failed (retried on the next run): " + s.error().message);
  }
  return OkStatus();
}

// Moves the complete copy of `version` aside so that the journaled
// roll-forward puts the staged copy in its place. The journal is written
// first: a kill after the move leaves the staged copy to be moved into place
// by the next writer, so `current` never names a missing version for longer
// than the two renames take.
Status ReplaceStored(const ModelLayout& layout, const Journal& journal) {
  if (Status s = WriteJournal(layout.journal(), journal); !s) return s;
  if (Status s = MoveToTrash(layout, journal.version); !s) return s;
  return Commit(layout, journal, /*journaled=*/true);
}

}  // namespace

Result<Staging> Store::BeginStaging(std::string_view model, std::string_view version) {
  Result<ModelLayout> layout = Layout(model);
  if (!layout) return layout.error();
  if (Status s = ValidateVersion(version); !s) return s.error();
  const std::string context = "stage " + std::string(model) + " " + std::string(version);
  // Each made durable as it is created, so the journal never names a path
  // whose parent a power cut could take away.
  for (const std::filesystem::path& folder :
       {layout->dir(), layout->versions(), layout->meta(), layout->staging()}) {
    if (Status s = MakeFolder(folder); !s) return s.error().Wrap(context);
  }
  Result<ModelLock> lock = LockAndRecover(*layout);
  if (!lock) return lock.error().Wrap(context);
  if (Status s = MakeFolder(layout->staging(version)); !s) return s.error().Wrap(context);
  return Staging(*layout, std::string(version), std::move(*lock));
}

Status Store::ActivateHeld(std::string_view model, std::string_view version, int keep) {
  const std::string context = "activate " + std::string(model) + " " + std::string(version);
  Result<ModelLayout> layout = ExistingLayout(model);
  if (!layout) return layout.error().Wrap(context);
  if (Status s = ValidateVersion(version); !s) return s.error().Wrap(context);
  if (keep < 1) {
    return MakeError(ErrorCode::kInvalidArgument,
                     context + ": keep must be at least 1 (the current version)");
  }
  Result<ModelLock> lock = LockAndRecover(*layout);
  if (!lock) return lock.error().Wrap(context);
  if (!IsFolder(layout->version(version))) {
    return MakeError(ErrorCode::kNotFound, context + ": that version is not in the store");
  }
  // What a killed pull of this version left is of no use any more.
  if (Status s = RemoveTree(layout->staging(version)); !s) return s.error().Wrap(context);
  if (Status s = RemoveTree(layout->cache(version)); !s) return s.error().Wrap(context);
  Result<std::optional<std::string>> current = ReadCurrent(*layout);
  if (!current) return current.error().Wrap(context);
  if (*current == version) return OkStatus();
  if (Status s = Commit(*layout, {"activate", std::string(version), keep}); !s) {
    return s.error().Wrap(context);
  }
  return OkStatus();
}

Status Store::Activate(Staging staging, std::span<const FileEntry> files,
                       std::string_view manifest_bytes, std::string_view signature_bytes,
                       int keep) {
  const std::string context = "activate " + staging.layout_.model + " " + staging.version_;
  if (keep < 1) {
    return MakeError(ErrorCode::kInvalidArgument,
                     context + ": keep must be at least 1 (the current version)");
  }
  // Built before the call: the argument `staging` is moved from.
  const Journal journal{"activate", staging.version_, keep};
  return Complete(std::move(staging), files, manifest_bytes, signature_bytes, journal, context);
}

Status Store::Hold(Staging staging, std::span<const FileEntry> files,
                   std::string_view manifest_bytes, std::string_view signature_bytes) {
  const std::string context = "hold " + staging.layout_.model + " " + staging.version_;
  const Journal journal{std::string(kJournalHold), staging.version_, std::nullopt};
  return Complete(std::move(staging), files, manifest_bytes, signature_bytes, journal, context);
}

Status Store::Complete(Staging staging, std::span<const FileEntry> files,
                       std::string_view manifest_bytes, std::string_view signature_bytes,
                       const Journal& journal, const std::string& context) {
  const ModelLayout& layout = staging.layout_;
  const std::string& version = staging.version_;
  if (layout.root != root_) {
    return MakeError(ErrorCode::kInvalidArgument,
                     context + ": the staging belongs to the store at " + layout.root.string());
  }
  if (staging.abandoned_) {
    return MakeError(ErrorCode::kInvalidArgument, context + ": the staging was abandoned");
  }
  if (Status s = ValidateFileList(files); !s) return s.error().Wrap(context);
  const bool replaces_stored = IsFolder(layout.version(version));
  if (replaces_stored) {
    // Checked before meta is rewritten. Unreadable meta is damage to repair.
    Result<std::vector<FileEntry>> stored = ReadFileList(layout.files_json(version));
    if (stored && *stored != SortedByPath(files)) {
      return MakeError(ErrorCode::kConflict,
                       context +
                           ": the store holds this version with other files; a version never "
                           "changes: publish a new version, or remove this one first");
    }
  }

  Result<Tree> tree = CheckStaged(staging.dir_, files, staging.record_);
  if (!tree) {
    return tree.error().Wrap(context +
                             ": staged file check failed (the current version is "
                             "unchanged)");
  }
  if (Status s = SealTree(staging.dir_, *tree); !s) return s.error().Wrap(context);
  if (Status s = FsyncDirectory(layout.staging()); !s) return s.error().Wrap(context);
  if (Status s = WriteMeta(layout, version, files, manifest_bytes, signature_bytes,
                           /*fresh=*/!replaces_stored);
      !s) {
    return s.error().Wrap(context);
  }
  if (replaces_stored) {
    if (Status s = ReplaceStored(layout, journal); !s) return s.error().Wrap(context);
    return OkStatus();
  }
  if (Status s = Commit(layout, journal); !s) return s.error().Wrap(context);
  return OkStatus();
}

}  // namespace ferry::store
