// Turning a staging folder into the current version. The order is the crash
// protocol of docs/store.md: everything is verified, sealed and synced, then
// meta is written, and only then the journal, whose roll-forward (recovery.h)
// makes the change visible. A kill before the journal leaves the old version
// current and the staging folder resumable; a kill after it is finished by the
// next writer.
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "lib/common/file.h"
#include "lib/common/names.h"
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

// Checks the staged tree against `files`. Each file hashed here is recorded
// as verified at once, so a run killed halfway through a large model does not
// hash the same files again. A file with the wrong size or digest is deleted,
// so the caller's next run fetches it again instead of trusting it.
Result<Tree> CheckStaged(const std::filesystem::path& dir, std::span<const FileEntry> files,
                         VerifiedRecord& record) {
  Result<Tree> tree = ScanTree(dir);
  if (!tree) return tree;
  if (Status s = CompareFileSets(tree->files, files); !s) return s.error();
  for (const FileEntry& entry : SortedByPath(files)) {
    const bool trusted = record.Contains(entry);
    const std::filesystem::path path = dir / entry.path;
    Status checked = CheckFileContent(path, entry, trusted);
    if (!checked && checked.error().code == ErrorCode::kCorrupt) {
      ::unlink(path.c_str());
      record.Forget(entry.path);
      [[maybe_unused]] const Status saved = record.Save();  // the mismatch is the error to report
      return MakeError(ErrorCode::kCorrupt,
                       checked.error().message + " (removed from staging: fetch it again)");
    }
    if (!checked) return checked.error();
    if (trusted) continue;
    if (Status s = record.Add(entry); !s) return s.error();
    if (Status s = record.Save(); !s) return s.error();
  }
  return tree;
}

Status WriteMeta(const ModelLayout& layout, std::string_view version,
                 std::span<const FileEntry> files, std::string_view manifest,
                 std::string_view signature) {
  // Whatever an earlier, interrupted attempt left here is replaced whole.
  if (Status s = RemoveTree(layout.meta(version)); !s) return s;
  if (Status s = MakeFolder(layout.meta(version)); !s) return s;
  if (Status s = WriteFileAtomically(layout.manifest(version), manifest); !s) return s;
  if (Status s = WriteFileAtomically(layout.signature(version), signature); !s) return s;
  return WriteFileAtomically(layout.files_json(version), EncodeFileList(files));
}

// Journals the switch to `version` and rolls it forward, then collects garbage.
Status Commit(const ModelLayout& layout, const Journal& journal) {
  if (Status s = WriteJournal(layout.journal(), journal); !s) return s;
  if (Status s = RollForward(layout, journal); !s) {
    return MakeError(s.error().code, s.error().message +
                                         " (the switch is journaled: the next ferry run on this "
                                         "model finishes it)");
  }
  if (Status s = Sweep(layout); !s) {
    return MakeError(s.error().code, journal.version +
                                         " is current, but removing old versions "
                                         "failed (retried on the next run): " +
                                         s.error().message);
  }
  return OkStatus();
}

// `version` is complete already: make it current unless it is, discarding
// the redundant staging folder.
Status ActivateStored(const ModelLayout& layout, Staging& staging, std::span<const FileEntry> files,
                      int keep) {
  const std::string version(staging.version());
  Result<std::vector<FileEntry>> stored = ReadFileList(layout.files_json(version));
  if (!stored) return stored.error();
  if (*stored != SortedByPath(files)) {
    return MakeError(ErrorCode::kConflict,
                     "the store holds this version with other files; a version never changes: "
                     "publish a new version, or remove this one first");
  }
  staging.Abandon();
  Result<std::optional<std::string>> current = ReadCurrent(layout);
  if (!current) return current.error();
  if (*current == version) return OkStatus();
  return Commit(layout, {"activate", version, keep});
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
  VerifiedRecord record =
      VerifiedRecord::Load(layout->verified_record(version), layout->staging(version));
  return Staging(*layout, std::string(version), std::move(*lock), std::move(record));
}

Status Store::Activate(Staging staging, std::span<const FileEntry> files,
                       std::string_view manifest_bytes, std::string_view signature_bytes,
                       int keep) {
  const ModelLayout& layout = staging.layout_;
  const std::string& version = staging.version_;
  const std::string context = "activate " + layout.model + " " + version;
  if (layout.root != root_) {
    return MakeError(ErrorCode::kInvalidArgument,
                     context + ": the staging belongs to the store at " + layout.root.string());
  }
  if (staging.abandoned_) {
    return MakeError(ErrorCode::kInvalidArgument, context + ": the staging was abandoned");
  }
  if (keep < 1) {
    return MakeError(ErrorCode::kInvalidArgument,
                     context + ": keep must be at least 1 (the current version)");
  }
  if (Status s = ValidateFileList(files); !s) return s.error().Wrap(context);
  if (IsFolder(layout.version(version))) {
    if (Status s = ActivateStored(layout, staging, files, keep); !s) return s.error().Wrap(context);
    return OkStatus();
  }

  Result<Tree> tree = CheckStaged(staging.dir_, files, staging.record_);
  if (!tree) {
    return tree.error().Wrap(context +
                             ": staged file check failed (the current version is "
                             "unchanged)");
  }
  if (Status s = SealTree(staging.dir_, *tree); !s) return s.error().Wrap(context);
  if (Status s = FsyncDirectory(layout.staging()); !s) return s.error().Wrap(context);
  if (Status s = WriteMeta(layout, version, files, manifest_bytes, signature_bytes); !s) {
    return s.error().Wrap(context);
  }
  if (Status s = Commit(layout, {"activate", version, keep}); !s) return s.error().Wrap(context);
  return OkStatus();
}

}  // namespace ferry::store
