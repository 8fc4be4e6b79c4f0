#include "lib/pipeline/pull.h"

#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <map>
#include <mutex>
#include <set>

#include "lib/artifact/objects.h"
#include "lib/artifact/repository_layout.h"
#include "lib/artifact/signed_manifest.h"
#include "lib/common/file.h"
#include "lib/common/log.h"
#include "lib/common/parallel_for.h"
#include "lib/delta/delta.h"
#include "lib/store/store.h"

namespace ferry {
namespace {

namespace fs = std::filesystem;

// A version the store already holds, and where its files are.
struct HeldVersion {
  std::string version;
  fs::path path;
  Manifest manifest;
  std::map<std::string, const FileRecord*, std::less<>> files;  // by path, into `manifest`
};

// One held file with given contents: where a new version's file can be
// hard-linked from.
struct HeldCopy {
  const HeldVersion* held = nullptr;
  std::string path;
};

// A delta in the new manifest whose base version the store holds.
struct UsableDelta {
  const DeltaFile* delta = nullptr;
  const HeldVersion* held = nullptr;
};

// Size of the regular file at `path`, never following a symlink; 0 if there
// is none.
uint64_t PlainFileSize(const fs::path& path) {
  struct stat info {};
  if (::lstat(path.c_str(), &info) != 0 || !S_ISREG(info.st_mode)) return 0;
  return static_cast<uint64_t>(info.st_size);
}

// One pull's working state; Run() is the whole algorithm.
class PullRun {
 public:
  PullRun(fetch::Source& source, const VerifyingKey& key, const PullOptions& options,
          spdlog::logger& log)
      : source_(source), key_(key), options_(options), log_(log) {}

  Result<PullReport> Run() {
    Result<store::Store> opened = store::Store::Open(options_.store_root);
    if (!opened) return opened.error();
    store::Store& store = *opened;
    Result<std::optional<std::string>> current_version = store.CurrentVersion(options_.model);
    const bool held = store.VersionPath(options_.model, options_.version).ok();
    const bool current = current_version && *current_version == options_.version;
    if (held && !current) return SwitchToHeld(store);
    return Stage(store, /*repairing=*/held);
  }

  Error Cancelled() const {
    return MakeError(ErrorCode::kCancelled, "pull " + options_.model + " " + options_.version +
                                                " cancelled; what was staged is kept for a "
                                                "later run");
  }

 private:
  // The store holds the version complete: check its stored manifest against
  // the key (and pin), then switch to it (unless only staging was asked for).
  // Nothing is fetched, and the source is not even asked: a rollback must
  // work while the repository is down.
  Result<PullReport> SwitchToHeld(store::Store& store) {
    const std::string& model = options_.model;
    const std::string& version = options_.version;
    Result<std::string> bytes = store.ReadManifest(model, version);
    Result<std::string> signature = store.ReadSignature(model, version);
    if (!bytes) return bytes.error().Wrap("read the stored manifest of " + model + " " + version);
    if (!signature) return signature.error().Wrap("read the stored signature");
    Result<SignedManifest> stored = OpenSignedManifest(std::move(*bytes), std::move(*signature),
                                                       key_, model, version, std::nullopt);
    if (!stored) return stored.error().Wrap("the store's copy of " + model + " " + version);
    if (options_.pinned_manifest && *options_.pinned_manifest != stored->digest) {
      return MakeError(ErrorCode::kConflict,
                       "the store holds " + model + " " + version +
                           " with manifest sha256:" + ToHex(stored->digest) +
                           ", but sha256:" + ToHex(*options_.pinned_manifest) +
                           " is pinned; a version never changes: publish a new version, or "
                           "remove this one from the store first");
    }
    report_.manifest_digest = stored->digest;
    for (const FileRecord& file : stored->manifest.files) report_.version_bytes += file.blob.size;
    if (!options_.activate) {
      report_.already_held = true;
      log_.info("{} {} is held complete already; nothing fetched", model, version);
      return report_;
    }
    if (Status s = store.ActivateHeld(model, version, options_.keep_versions); !s) return s.error();
    report_.switched_to_held = true;
    log_.info("{} {} is now current: switched to the copy the store holds, nothing fetched", model,
              version);
    return report_;
  }

  // Builds the version in staging and activates it. `repairing`: the version
  // is the current one; every file of it is checked, and damaged ones are
  // fetched again and the version replaced, or, if nothing is damaged,
  // nothing changes.
  Result<PullReport> Stage(store::Store& store, bool repairing) {
    const std::string& model = options_.model;
    const std::string& version = options_.version;
    const std::string context = "pull " + model + " " + version;
    Result<SignedManifest> signed_manifest = ReadManifest();
    if (!signed_manifest) return signed_manifest.error();
    const Manifest& manifest = signed_manifest->manifest;
    report_.manifest_digest = signed_manifest->digest;
    for (const FileRecord& file : manifest.files) report_.version_bytes += file.blob.size;

    Result<store::Staging> staging = store.BeginStaging(model, version);
    if (!staging) return staging.error();
    // Described after BeginStaging: its recovery may have changed the model.
    Result<store::ModelInfo> info = store.Describe(model);
    if (repairing) {
      if (Status s = CheckSameAsStored(store, *signed_manifest); !s) return s.error();
      Status intact = store.Verify(model, version);
      if (intact) {
        staging->Abandon();
        report_.already_current = true;
        log_.info("{} {} is already the current version; every file checked intact", model,
                  version);
        return report_;
      }
      log_.warn("{}; repairing it", intact.error().message);
    }
    LoadHeldVersions(store, info ? info->versions : std::vector<store::VersionInfo>{});

    Result<fs::path> cache = staging->CacheDir();
    if (!cache) return cache.error().Wrap(context);
    cache_ = *cache;

    std::vector<store::FileEntry> entries;
    for (const FileRecord& file : manifest.files) {
      entries.push_back({file.path, file.blob.size, file.blob.sha256});
    }
    IndexDeltas(manifest);
    if (repairing) {
      // Every file is checked where it is, by linking it from the version
      // itself: what fails its hash is what gets fetched again.
      std::vector<store::HeldFile> links;
      for (const store::FileEntry& entry : entries) links.push_back({version, entry.path, entry});
      Link(links, *staging);
    } else {
      Result<size_t> resumed = staging->ResumeFiles(entries);
      if (!resumed) return resumed.error().Wrap(context);
      report_.files_resumed = *resumed;
      LinkHeldFiles(entries, *staging);
    }

    const std::vector<const ChunkRef*> objects = PlannedObjects(manifest, *staging);
    watched_.total_bytes = report_.version_bytes;
    for (const ChunkRef* chunk : objects) watched_.download_bytes += chunk->stored_size;
    for (size_t i = 0; i < entries.size(); ++i) {
      if (staging->IsVerified(entries[i])) watched_.present_bytes += entries[i].size;
    }
    if (Status s = CheckSpace(entries, *staging, watched_.download_bytes); !s) {
      return s.error().Wrap(context);
    }

    fetch::ProgressHooks hooks{options_.stop, nullptr};
    if (options_.on_progress) {
      hooks.on_add = [this](uint64_t done) {
        PullProgress now = Snapshot();
        now.downloaded_bytes = std::min(done, now.download_bytes);
        options_.on_progress(now);
      };
    }
    progress_.emplace("pull " + model + " " + version, watched_.download_bytes,
                      options_.plain_progress || !::isatty(STDERR_FILENO)
                          ? MakeLogger("ferry", LogFormat::kText)
                          : nullptr,
                      std::move(hooks));
    Notify(PullStage::kFetching);
    if (Status s = FetchObjects(objects); !s) return s.error().Wrap(context);

    Notify(PullStage::kStaging);
    for (size_t i = 0; i < manifest.files.size(); ++i) {
      if (staging->IsVerified(entries[i])) continue;
      if (options_.stop.stop_requested()) return Cancelled();
      if (Status s = FetchFile(manifest.files[i], entries[i], *staging); !s) {
        if (s.error().code == ErrorCode::kCancelled) return Cancelled();
        return s.error().Wrap(context + ": " + manifest.files[i].path);
      }
      Grow(entries[i].size);
    }
    progress_->Finish();

    Notify(PullStage::kVerifying);
    if (options_.stop.stop_requested()) return Cancelled();
    const bool activate = options_.activate || repairing;
    if (Status s = activate ? store.Activate(std::move(*staging), entries, signed_manifest->bytes,
                                             signed_manifest->signature, options_.keep_versions)
                            : store.Hold(std::move(*staging), entries, signed_manifest->bytes,
                                         signed_manifest->signature);
        !s) {
      return s.error();
    }
    log_.info(
        "{} {} is now {}{}: {} linked, {} patched from deltas, {} fetched whole, {} "
        "resumed, {} damaged held copies not used; {} bytes transferred",
        model, version, activate ? "current" : "held, verified (not current)",
        repairing ? " (repaired)" : "", report_.files_linked, report_.files_patched,
        report_.files_fetched, report_.files_resumed, report_.files_damaged, report_.bytes_fetched);
    return report_;
  }

  PullProgress Snapshot() {
    std::lock_guard lock(watched_mutex_);
    return watched_;
  }

  void Notify(PullStage stage) {
    PullProgress now;
    {
      std::lock_guard lock(watched_mutex_);
      watched_.stage = stage;
      if (progress_)
        watched_.downloaded_bytes = std::min(progress_->done(), watched_.download_bytes);
      now = watched_;
    }
    if (options_.on_progress) options_.on_progress(now);
  }

  // One more file verified in staging.
  void Grow(uint64_t bytes) {
    {
      std::lock_guard lock(watched_mutex_);
      watched_.present_bytes += bytes;
    }
    Notify(PullStage::kStaging);
  }

  // Before a byte is fetched: the files still to write and the objects still
  // to download (they wait in the same filesystem's cache until assembled)
  // must fit, with `reserve_bytes` left over. Hard links take no space.
  Status CheckSpace(const std::vector<store::FileEntry>& entries, const store::Staging& staging,
                    uint64_t download_bytes) const {
    uint64_t to_write = 0;
    for (const store::FileEntry& entry : entries) {
      if (!staging.IsVerified(entry)) to_write += entry.size;
    }
    struct statvfs space {};
    if (::statvfs(staging.dir().c_str(), &space) != 0) {
      return ErrnoError("check free space of", staging.dir(), errno);
    }
    const uint64_t available = static_cast<uint64_t>(space.f_bavail) * space.f_frsize;
    const uint64_t needed = to_write + download_bytes + options_.reserve_bytes;
    if (needed <= available) return OkStatus();
    return MakeError(ErrorCode::kNoSpace,
                     "not enough disk space: needs " + std::to_string(needed) + " bytes (" +
                         std::to_string(to_write) + " to write, " + std::to_string(download_bytes) +
                         " to download, " + std::to_string(options_.reserve_bytes) +
                         " reserved) on " + options_.store_root.string() + ", " +
                         std::to_string(available) +
                         " available; free space or remove versions the node no longer needs; "
                         "nothing was fetched");
  }

  // The objects the files still missing need (a usable delta's, else the
  // file's own), each once, skipping those complete in the cache already.
  std::vector<const ChunkRef*> PlannedObjects(const Manifest& manifest,
                                              const store::Staging& staging) const {
    std::vector<const ChunkRef*> objects;
    std::set<Sha256Digest> seen;
    for (const FileRecord& file : manifest.files) {
      if (staging.IsVerified({file.path, file.blob.size, file.blob.sha256})) continue;
      const UsableDelta delta = DeltaFor(file);
      const Blob& blob = delta.delta != nullptr ? delta.delta->blob : file.blob;
      for (const ChunkRef& chunk : blob.chunks) {
        if (!seen.insert(chunk.sha256).second) continue;
        objects.push_back(&chunk);
      }
    }
    return objects;
  }

  fs::path CachedObject(const ChunkRef& chunk) const {
    return cache_ / "objects" / (ToHex(chunk.sha256) + ".zst");
  }

  // Makes the cached copy of `chunk` complete: an oversized leftover is
  // dropped, a complete one kept unchecked (its contents are checked when
  // decoded), a partial one resumed. Returns the bytes transferred now. With
  // `count_cached`, bytes found complete in the cache count as progress (a
  // resumed partial object is counted by the source itself).
  Result<uint64_t> FetchToCache(const ChunkRef& chunk, bool count_cached) {
    const fs::path cached = CachedObject(chunk);
    uint64_t before = PlainFileSize(cached);
    if (before > chunk.stored_size) {
      ::unlink(cached.c_str());
      before = 0;
    }
    if (before == chunk.stored_size) {
      if (count_cached) progress_->Add(before);
      return uint64_t{0};
    }
    if (options_.stop.stop_requested()) return Cancelled();
    if (Status s =
            source_.FetchToFile(ObjectPath(chunk.sha256), cached, chunk.stored_size, &*progress_);
        !s) {
      return s.error();
    }
    return chunk.stored_size - before;
  }

  // Downloads `objects` into the cache on parallel_fetches threads. Their
  // contents are checked when the files are assembled (CachedLoader), which
  // fetches a damaged one again; here only transfers fail.
  Status FetchObjects(const std::vector<const ChunkRef*>& objects) {
    std::mutex failure_mutex;
    std::optional<Error> failure;  // the first, which stops the others
    std::atomic<uint64_t> fetched{0};
    ParallelFor(objects.size(), static_cast<size_t>(std::max(1, options_.parallel_fetches)),
                [&](size_t i) {
                  {
                    std::lock_guard lock(failure_mutex);
                    if (failure) return;
                  }
                  Result<uint64_t> got = FetchToCache(*objects[i], /*count_cached=*/true);
                  if (got) {
                    fetched += *got;
                    return;
                  }
                  std::lock_guard lock(failure_mutex);
                  if (!failure) failure = got.error();
                });
    report_.bytes_fetched += fetched.load();
    if (failure && failure->code == ErrorCode::kCancelled) return Cancelled();
    if (failure) return *failure;
    return OkStatus();
  }

  Result<SignedManifest> ReadManifest() {
    const std::string& model = options_.model;
    const std::string& version = options_.version;
    Result<std::string> bytes = source_.ReadSmall(ManifestPath(model, version));
    if (!bytes) {
      if (bytes.error().code == ErrorCode::kNotFound) {
        return MakeError(ErrorCode::kNotFound,
                         model + " " + version + " is not published in " + source_.Describe());
      }
      return bytes.error();
    }
    Result<std::string> signature = source_.ReadSmall(SignaturePath(model, version), 4096);
    if (!signature) return signature.error().Wrap("signature of " + model + " " + version);
    return OpenSignedManifest(std::move(*bytes), std::move(*signature), key_, model, version,
                              options_.pinned_manifest);
  }

  // A repair rebuilds the version the store holds; the repository must still
  // publish the same version, byte for byte.
  Status CheckSameAsStored(const store::Store& store, const SignedManifest& fetched) const {
    Result<std::string> stored = store.ReadManifest(options_.model, options_.version);
    if (stored && Sha256Of(*stored) == fetched.digest) return OkStatus();
    return MakeError(ErrorCode::kConflict,
                     options_.model + " " + options_.version + " in " + source_.Describe() +
                         " is not the version the store holds under that name (its manifest " +
                         "differs); a version never changes: publish a new version");
  }

  // The store verified these manifests before activating them, so they are
  // trusted; their files are not (LinkFromVersions hashes what it links).
  void LoadHeldVersions(const store::Store& store,
                        const std::vector<store::VersionInfo>& versions) {
    for (const store::VersionInfo& held : versions) {
      if (!held.damage.empty()) continue;
      Result<std::string> bytes = store.ReadManifest(options_.model, held.version);
      Result<fs::path> path = store.VersionPath(options_.model, held.version);
      if (!bytes || !path) continue;
      Result<Manifest> manifest = ParseManifest(*bytes);
      if (!manifest) continue;
      // The current version first: it is the likeliest base of a delta.
      auto at = held.current ? held_.begin() : held_.end();
      held_.insert(at, HeldVersion{held.version, *path, std::move(*manifest), {}});
    }
    // Indexes built once, so the work per file does not grow with the number
    // of files (100,000-file models exist: tokenizers, shards, images).
    for (HeldVersion& held : held_) {
      for (const FileRecord& file : held.manifest.files) {
        held.files.emplace(file.path, &file);
        copies_.try_emplace(file.blob.sha256, HeldCopy{&held, file.path});
      }
    }
  }

  void IndexDeltas(const Manifest& manifest) {
    for (const HeldVersion& held : held_) {
      const DeltaSet* set = manifest.FindDelta(held.version);
      if (set == nullptr) continue;
      for (const DeltaFile& delta : set->files) {
        deltas_[delta.path].push_back({&delta, &held});
      }
    }
  }

  // Links every file not resumed that a held version has with the same
  // contents (whatever its path there); a held copy that fails its hash is
  // remembered as damaged and the file is fetched instead.
  void LinkHeldFiles(const std::vector<store::FileEntry>& entries, store::Staging& staging) {
    std::vector<store::HeldFile> links;
    for (const store::FileEntry& entry : entries) {
      if (staging.IsVerified(entry)) continue;
      const auto copy = copies_.find(entry.sha256);
      if (copy == copies_.end()) continue;
      links.push_back({copy->second.held->version, copy->second.path, entry});
    }
    Link(links, staging);
  }

  void Link(const std::vector<store::HeldFile>& links, store::Staging& staging) {
    const std::vector<Status> linked = staging.LinkFromVersions(links);
    for (size_t i = 0; i < links.size(); ++i) {
      if (linked[i].ok()) {
        ++report_.files_linked;
        continue;
      }
      if (linked[i].error().code == ErrorCode::kCorrupt) {
        ++report_.files_damaged;
        damaged_.insert({links[i].version, links[i].source_path});
      }
      log_.warn("{}; fetching it instead", linked[i].error().message);
    }
  }

  // The first delta for `file` whose bases are all undamaged.
  UsableDelta DeltaFor(const FileRecord& file) const {
    const auto found = deltas_.find(file.path);
    if (found == deltas_.end()) return {};
    for (const UsableDelta& candidate : found->second) {
      bool usable = true;
      for (const std::string& base : candidate.delta->bases) {
        usable = usable && !damaged_.contains({candidate.held->version, base});
      }
      if (usable) return candidate;
    }
    return {};
  }

  // A file no held version has: patched from a delta if one applies, else
  // assembled from its chunks.
  Status FetchFile(const FileRecord& file, const store::FileEntry& entry, store::Staging& staging) {
    Result<fs::path> out = staging.PathFor(file.path);
    if (!out) return out.error();
    std::optional<Error> delta_failure;
    if (const UsableDelta delta = DeltaFor(file); delta.delta != nullptr) {
      Status patched = ApplyDelta(*delta.delta, *delta.held, *out, entry);
      if (patched) {
        ++report_.files_patched;
        if (!report_.delta_from) report_.delta_from = delta.held->version;
        return staging.MarkVerified(entry);
      }
      delta_failure = patched.error().Wrap("the delta from " + delta.held->version);
      // The full objects come from the same source: if it is unreachable or
      // too slow now, asking it for more would only double the wait.
      if (delta_failure->code == ErrorCode::kUnavailable) return *delta_failure;
      log_.warn("{}: {}; fetching the whole file instead", file.path, delta_failure->message);
    }
    if (Status s = AssembleBlob(file.blob, CachedLoader(), *out); !s) {
      // A bundle carries only the delta: that the full objects are missing
      // says nothing, what broke the delta does.
      if (delta_failure && s.error().code == ErrorCode::kNotFound) {
        return MakeError(delta_failure->code,
                         delta_failure->message + ", and " + source_.Describe() +
                             " has no full objects for the file to fall back on");
      }
      return s;
    }
    ++report_.files_fetched;
    return staging.MarkVerified(entry);
  }

  Status ApplyDelta(const DeltaFile& delta, const HeldVersion& held, const fs::path& out,
                    const store::FileEntry& entry) {
    std::vector<delta::BaseFile> bases;
    for (const std::string& base : delta.bases) {
      if (!held.files.contains(base)) {
        return MakeError(ErrorCode::kCorrupt, "base " + base + " is not in " + held.version);
      }
      bases.push_back({base, held.path / base});
    }
    const fs::path delta_file = cache_ / ("delta-" + ToHex(delta.blob.sha256));
    if (Status s = AssembleBlob(delta.blob, CachedLoader(), delta_file); !s) return s;
    // The manifest, not the delta's own header, says how large the file is:
    // a lying header is refused before a byte is written.
    Result<delta::ApplyResult> applied = delta::ApplyFile(bases, delta_file, out,
                                                          {.bases_already_verified = true,
                                                           .expected_size = entry.size,
                                                           .expected_sha256 = entry.sha256});
    ::unlink(delta_file.c_str());
    if (!applied) return applied.error();
    if (applied->sha256 != entry.sha256 || applied->size != entry.size) {
      return MakeError(ErrorCode::kCorrupt,
                       "the delta rebuilt other bytes than the manifest lists");
    }
    return OkStatus();
  }

  // Loads chunk objects through the cache: a complete, valid cached object is
  // used as is; a partial one is resumed; a damaged one is fetched once more.
  ChunkLoader CachedLoader() {
    return [this](const ChunkRef& chunk, std::vector<uint8_t>& plain) -> Status {
      const fs::path cached = CachedObject(chunk);
      for (int attempt = 0; attempt < 2; ++attempt) {
        // A complete object (fetched above, or by an earlier, interrupted
        // run) is checked, not fetched.
        Result<uint64_t> got = FetchToCache(chunk, /*count_cached=*/false);
        if (!got) return got.error();
        report_.bytes_fetched += *got;
        Result<std::string> stored = ReadFileToString(cached);
        if (!stored) return stored.error();
        if (DecodeChunk(std::span(reinterpret_cast<const uint8_t*>(stored->data()), stored->size()),
                        chunk, plain)) {
          return OkStatus();
        }
        log_.warn("object {} arrived damaged; fetching it again", ToHex(chunk.sha256));
        ::unlink(cached.c_str());
      }
      return MakeError(ErrorCode::kCorrupt, "object " + ToHex(chunk.sha256) + " from " +
                                                source_.Describe() +
                                                " is damaged at the source; republish the version");
    };
  }

  fetch::Source& source_;
  const VerifyingKey& key_;
  const PullOptions& options_;
  spdlog::logger& log_;
  std::vector<HeldVersion> held_;
  std::map<Sha256Digest, HeldCopy> copies_;                              // by contents
  std::map<std::string, std::vector<UsableDelta>, std::less<>> deltas_;  // by target path
  std::set<std::pair<std::string, std::string>> damaged_;  // (version, path) held copies
  fs::path cache_;
  std::optional<fetch::Progress> progress_;
  std::mutex watched_mutex_;
  PullProgress watched_;  // what on_progress is told
  PullReport report_;
};

}  // namespace

Result<PullReport> Pull(fetch::Source& source, const VerifyingKey& key, const PullOptions& options,
                        spdlog::logger& log) {
  if (Status s = ValidateModelName(options.model); !s) return s.error();
  if (Status s = ValidateVersion(options.version); !s) return s.error();
  return PullRun(source, key, options, log).Run();
}

}  // namespace ferry
