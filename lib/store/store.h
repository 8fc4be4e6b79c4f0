// The node's model store: complete, verified, read-only versions of each model
// on one directory (the node's persistent volume), a `current` link per model
// that serving pods read, and the staging area new versions are built in.
//
// Invariants, whatever instant a process is killed at (docs/store.md shows why):
//  - <root>/<model>/current, when present, names a complete version whose files
//    match its files.json; it is switched by one rename, never edited.
//  - A complete version never changes: its files are 0444, its folders 0555,
//    and nothing is ever written through them (hard links are broken before a
//    staged file is written).
//  - Every change of what `current` names goes through a journal that the next
//    writer of that model rolls forward; removal is committed by state.json.
//  - One writer per model (an flock on <model>/.lock). Readers (List, Describe,
//    Verify, VersionPath, ReadManifest) take no lock.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "lib/common/result.h"
#include "lib/store/file_entry.h"
#include "lib/store/journal.h"
#include "lib/store/layout.h"
#include "lib/store/model_lock.h"
#include "lib/store/verified_record.h"

namespace ferry::store {

struct VersionInfo {
  std::string version;
  bool current = false;
  uint64_t bytes = 0;        // sum of its files' sizes (a hard-linked file counts in each version)
  std::string activated_at;  // RFC 3339 UTC of its last activation; empty if none is recorded
  std::string damage;        // why its metadata cannot be read; empty when it can
};

// What a reader sees of a model. Damage is reported, not fatal: a damaged
// state.json or files.json of one version leaves the rest readable.
struct ModelInfo {
  std::string model;
  std::optional<std::string> current;
  std::vector<VersionInfo> versions;  // most recently activated first
  std::vector<std::string> damage;    // model-level problems (current link, state.json)
};

class Store;

// A file a new version shares with a version the store holds: hard-linked
// from `source_path` of `version` to `entry.path` instead of fetched.
struct HeldFile {
  std::string version;
  std::string source_path;
  FileEntry entry;
};

// A version being built in <root>/<model>/staging/<version>/. It holds the
// model's lock until it is destroyed or handed to Store::Activate. Destroying
// it keeps the folder, so a later run resumes where this one stopped (after
// checking by content what it finds there); Abandon() deletes it.
//
// Only what this process checked by content counts as verified (see
// verified_record.h): files written and checked by the caller (MarkVerified),
// files hashed on resume (ResumeFiles) and linked files hashed as they are
// linked (LinkFromVersions).
class Staging {
 public:
  Staging(Staging&&) noexcept = default;
  Staging& operator=(Staging&&) noexcept = default;

  const std::filesystem::path& dir() const { return dir_; }
  std::string_view model() const { return layout_.model; }
  std::string_view version() const { return version_; }

  // The path to write `relative` to, its parent folders created. Refuses paths
  // that could leave the staging folder. If the name is a hard link into a
  // stored version (see LinkFromVersions) it is unlinked first, so that writing
  // through the returned path can never change a complete version.
  Result<std::filesystem::path> PathFor(std::string_view relative);

  // Hashes, on several threads, what an earlier run left in the staging folder
  // for `files`: a file whose size and SHA-256 are its entry's is recorded as
  // verified and kept; any other file under a listed name is deleted. Returns
  // how many files were kept.
  Result<size_t> ResumeFiles(std::span<const FileEntry> files);

  // Hard-links each file from the complete version it names (no copy; a copy
  // only if the filesystem refuses the link with EXDEV or EMLINK), then hashes
  // the linked files on several threads. A file whose bytes are not its
  // entry's (a damaged copy in the held version) is unlinked again and its
  // status is kCorrupt naming that copy, so the caller fetches it instead.
  // Returns one status per link, in order. The version being staged may be a
  // source itself: that is how a damaged complete version is repaired.
  std::vector<Status> LinkFromVersions(std::span<const HeldFile> links);
  // One file, at the same path in `from_version`.
  Status LinkFromVersion(std::string_view from_version, const FileEntry& entry);

  // Records that the caller wrote `entry.path` in this process and checked
  // its size and digest, so Activate need not hash it again.
  Status MarkVerified(const FileEntry& entry);
  bool IsVerified(const FileEntry& entry) const;

  // <model>/staging/.<version>.cache/, created (never through a symlink):
  // where a pull keeps fetched objects so that a re-run after a crash fetches
  // no verified byte twice. Deleted with the staging folder.
  Result<std::filesystem::path> CacheDir();

  // Deletes the staging folder and its cache now; Activate refuses it after.
  // Best effort: a folder it fails to delete is harmless (a later
  // BeginStaging resumes it, a later Abandon deletes it).
  void Abandon();

 private:
  friend class Store;
  Staging(ModelLayout layout, std::string version, ModelLock lock);

  ModelLayout layout_;
  std::string version_;
  std::filesystem::path dir_;
  ModelLock lock_;
  VerifiedRecord record_;
  bool abandoned_ = false;
};

class Store {
 public:
  // Opens the store at `root`, creating the folder and its format marker
  // (<root>/.ferry-store) if missing. Takes no lock and recovers nothing: each
  // writing call recovers the model it touches.
  static Result<Store> Open(const std::filesystem::path& root);
  // For readers (ls, verify, inspection): opens a store that exists and
  // creates nothing; a missing folder or marker is kNotFound naming the path.
  static Result<Store> OpenExisting(const std::filesystem::path& root);

  const std::filesystem::path& root() const { return root_; }

  Result<std::vector<ModelInfo>> List() const;
  Result<ModelInfo> Describe(std::string_view model) const;
  // The version `current` names (none yet: nullopt), reading only the link:
  // what a caller needs who would otherwise Describe every version.
  Result<std::optional<std::string>> CurrentVersion(std::string_view model) const;

  // Takes the model's lock (failing at once with kUnavailable, naming the
  // holder's pid, if another process has it), recovers the model, and returns
  // the staging area for `version`, resuming one a previous run left behind.
  Result<Staging> BeginStaging(std::string_view model, std::string_view version);

  // Checks every staged file against `files` (size, and SHA-256 unless this
  // process recorded it as verified; the hashing runs on several threads),
  // refusing missing and extra files, symlinks and special files; makes the
  // version read-only and durable; stores the manifest and signature bytes;
  // makes it `current`; then removes versions beyond the `keep` most recently
  // activated (never the current one). A file whose size or digest is wrong is
  // deleted from staging and the rest of the staging folder is kept, so a
  // rerun fetches only that file again.
  // If `version` is already complete in the store, the staged copy replaces it
  // (a repair of damaged files; it must list the same files): the switch is
  // journaled like any activation, so a kill leaves one whole copy in place.
  Status Activate(Staging staging, std::span<const FileEntry> files,
                  std::string_view manifest_bytes, std::string_view signature_bytes, int keep = 2);

  // Like Activate, but the version only becomes complete in the store (listed
  // as staged in state.json, so no sweep takes it): `current` and the
  // activation history are not touched. A later ActivateHeld makes it current
  // with a symlink swap. That is how the agent readies a version on every node
  // before the operator moves traffic to it.
  Status Hold(Staging staging, std::span<const FileEntry> files, std::string_view manifest_bytes,
              std::string_view signature_bytes);
  // Makes the complete version `version` current: a journaled symlink swap
  // that reads and copies no file data, whatever its size (the operator's
  // rollback and a pull of a held version take this path). A staging folder a
  // killed pull of that version left behind is deleted. Activating the current
  // version changes nothing.
  Status ActivateHeld(std::string_view model, std::string_view version, int keep = 2);

  // Makes current the version activated before the current one, which must
  // still be complete in the store: a symlink swap and a state update, no data
  // copied. Returns that version. Rolling back twice returns to where it began.
  Result<std::string> Rollback(std::string_view model);

  // Re-hashes every file of `version` (default: the current one) against its
  // files.json; reports the first missing, extra or differing file by path.
  // The stored manifest, for re-checking its signature, comes from ReadManifest.
  Status Verify(std::string_view model,
                std::optional<std::string_view> version = std::nullopt) const;

  Result<std::string> ReadManifest(std::string_view model, std::string_view version) const;
  Result<std::string> ReadSignature(std::string_view model, std::string_view version) const;
  Result<std::vector<FileEntry>> ReadFiles(std::string_view model, std::string_view version) const;

  // <root>/<model>/versions/<version>, only for a complete version.
  Result<std::filesystem::path> VersionPath(std::string_view model, std::string_view version) const;

  // Deletes a complete version that is not current.
  Status Remove(std::string_view model, std::string_view version);

  // Takes the model's lock and finishes or cleans up whatever an interrupted
  // process left (the writing calls above do this first on their own).
  Status Recover(std::string_view model);

 private:
  explicit Store(std::filesystem::path root) : root_(std::move(root)) {}
  Result<ModelLayout> Layout(std::string_view model) const;
  Result<ModelLayout> ExistingLayout(std::string_view model) const;
  // Locks an existing model and recovers it: the start of every writing call.
  Result<ModelLock> LockAndRecover(const ModelLayout& layout);
  // Activate and Hold: check, seal and record the staged version, then roll
  // `journal` forward.
  Status Complete(Staging staging, std::span<const FileEntry> files,
                  std::string_view manifest_bytes, std::string_view signature_bytes,
                  const Journal& journal, const std::string& context);

  std::filesystem::path root_;
};

}  // namespace ferry::store
