#include "lib/pipeline/pull.h"

#include <map>

#include "lib/artifact/objects.h"
#include "lib/artifact/repository_layout.h"
#include "lib/artifact/signed_manifest.h"
#include "lib/common/file.h"
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
};

// One pull's working state; Run() is the whole algorithm.
class PullRun {
 public:
  PullRun(fetch::Source& source, const VerifyingKey& key, const PullOptions& options,
          spdlog::logger& log)
      : source_(source), key_(key), options_(options), log_(log) {}

  Result<PullReport> Run() {
    const std::string& model = options_.model;
    const std::string& version = options_.version;
    Result<SignedManifest> signed_manifest = ReadManifest();
    if (!signed_manifest) return signed_manifest.error();
    const Manifest& manifest = signed_manifest->manifest;

    Result<store::Store> opened = store::Store::Open(options_.store_root);
    if (!opened) return opened.error();
    store::Store& store = *opened;
    Result<store::Staging> staging = store.BeginStaging(model, version);
    if (!staging) return staging.error();
    Result<store::ModelInfo> info = store.Describe(model);
    if (info && info->current == version) {
      staging->Abandon();
      report_.already_current = true;
      log_.info("{} {} is already the current version", model, version);
      return report_;
    }
    LoadHeldVersions(store, info ? info->versions : std::vector<store::VersionInfo>{});

    cache_ = options_.store_root / ".ferry-cache" / model / version;
    std::error_code error;
    fs::create_directories(cache_ / "objects", error);
    if (error)
      return MakeError(ErrorCode::kIo, "create " + cache_.string() + ": " + error.message());

    progress_.emplace("pull " + model + " " + version, PlannedBytes(manifest, *staging),
                      options_.plain_progress);
    std::vector<store::FileEntry> entries;
    for (const FileRecord& file : manifest.files) {
      store::FileEntry entry{file.path, file.blob.size, file.blob.sha256};
      if (Status s = StageFile(manifest, file, entry, *staging); !s) {
        return s.error().Wrap("pull " + model + " " + version + ": " + file.path);
      }
      entries.push_back(entry);
    }
    progress_->Finish();

    if (Status s = store.Activate(std::move(*staging), entries, signed_manifest->bytes,
                                  signed_manifest->signature, options_.keep_versions);
        !s) {
      return s.error();
    }
    fs::remove_all(cache_, error);
    log_.info(
        "{} {} is now current: {} linked, {} patched from deltas, {} fetched whole, {} "
        "resumed; {} bytes transferred",
        model, version, report_.files_linked, report_.files_patched, report_.files_fetched,
        report_.files_resumed, report_.bytes_fetched);
    return report_;
  }

 private:
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

  // The store verified these manifests before activating them, so they are trusted.
  void LoadHeldVersions(const store::Store& store,
                        const std::vector<store::VersionInfo>& versions) {
    for (const store::VersionInfo& held : versions) {
      Result<std::string> bytes = store.ReadManifest(options_.model, held.version);
      Result<fs::path> path = store.VersionPath(options_.model, held.version);
      if (!bytes || !path) continue;
      Result<Manifest> manifest = ParseManifest(*bytes);
      if (!manifest) continue;
      // The current version first: it is the likeliest base of a delta.
      auto at = held.current ? held_.begin() : held_.end();
      held_.insert(at, HeldVersion{held.version, *path, std::move(*manifest)});
    }
  }

  const HeldVersion* HeldWithFile(const Sha256Digest& digest, std::string* path) const {
    for (const HeldVersion& held : held_) {
      for (const FileRecord& file : held.manifest.files) {
        if (file.blob.sha256 == digest) {
          *path = file.path;
          return &held;
        }
      }
    }
    return nullptr;
  }

  // The delta for `file` from a held version, with that version.
  std::pair<const DeltaFile*, const HeldVersion*> DeltaFor(const Manifest& manifest,
                                                           const FileRecord& file) const {
    for (const HeldVersion& held : held_) {
      const DeltaSet* set = manifest.FindDelta(held.version);
      if (set == nullptr) continue;
      for (const DeltaFile& delta : set->files) {
        if (delta.path == file.path) return {&delta, &held};
      }
    }
    return {nullptr, nullptr};
  }

  uint64_t PlannedBytes(const Manifest& manifest, const store::Staging& staging) const {
    uint64_t total = 0;
    for (const FileRecord& file : manifest.files) {
      std::string ignored;
      if (staging.IsVerified({file.path, file.blob.size, file.blob.sha256}) ||
          HeldWithFile(file.blob.sha256, &ignored) != nullptr) {
        continue;
      }
      auto [delta, held] = DeltaFor(manifest, file);
      total += (delta != nullptr ? delta->blob : file.blob).StoredSize();
    }
    return total;
  }

  Status StageFile(const Manifest& manifest, const FileRecord& file, const store::FileEntry& entry,
                   store::Staging& staging) {
    if (staging.IsVerified(entry)) {
      ++report_.files_resumed;
      return OkStatus();
    }
    std::string held_path;
    if (const HeldVersion* held = HeldWithFile(file.blob.sha256, &held_path)) {
      if (held_path == file.path) {
        if (Status s = staging.LinkFromVersion(held->version, file.path); !s) return s;
        ++report_.files_linked;
        return staging.MarkVerified(entry);
      }
    }
    Result<fs::path> out = staging.PathFor(file.path);
    if (!out) return out.error();
    if (auto [delta, held] = DeltaFor(manifest, file); delta != nullptr) {
      Status patched = ApplyDelta(*delta, *held, *out, entry);
      if (patched) {
        ++report_.files_patched;
        return staging.MarkVerified(entry);
      }
      log_.warn("{}: delta from {} failed ({}); fetching the whole file instead", file.path,
                held->version, patched.error().message);
    }
    if (Status s = AssembleBlob(file.blob, CachedLoader(), *out); !s) return s;
    ++report_.files_fetched;
    return staging.MarkVerified(entry);
  }

  Status ApplyDelta(const DeltaFile& delta, const HeldVersion& held, const fs::path& out,
                    const store::FileEntry& entry) {
    std::vector<delta::BaseFile> bases;
    for (const std::string& base : delta.bases) {
      if (held.manifest.FindFile(base) == nullptr) {
        return MakeError(ErrorCode::kCorrupt, "base " + base + " is not in " + held.version);
      }
      bases.push_back({base, held.path / base});
    }
    const fs::path delta_file = cache_ / ("delta-" + ToHex(delta.blob.sha256));
    if (Status s = AssembleBlob(delta.blob, CachedLoader(), delta_file); !s) return s;
    Result<delta::ApplyResult> applied =
        delta::ApplyFile(bases, delta_file, out, {.bases_already_verified = true});
    std::error_code ignored;
    fs::remove(delta_file, ignored);
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
      const fs::path cached = cache_ / "objects" / (ToHex(chunk.sha256) + ".zst");
      for (int attempt = 0; attempt < 2; ++attempt) {
        std::error_code error;
        uint64_t before = fs::exists(cached, error) ? fs::file_size(cached, error) : 0;
        if (before > chunk.stored_size) {
          fs::remove(cached, error);
          before = 0;
        }
        // A complete object from an earlier, interrupted run is checked, not fetched.
        if (before != chunk.stored_size) {
          if (Status s = source_.FetchToFile(ObjectPath(chunk.sha256), cached, chunk.stored_size,
                                             &*progress_);
              !s) {
            return s.error();
          }
          report_.bytes_fetched += chunk.stored_size - std::min(before, chunk.stored_size);
        }
        Result<std::string> stored = ReadFileToString(cached);
        if (!stored) return stored.error();
        if (DecodeChunk(std::span(reinterpret_cast<const uint8_t*>(stored->data()), stored->size()),
                        chunk, plain)) {
          return OkStatus();
        }
        log_.warn("object {} arrived damaged; fetching it again", ToHex(chunk.sha256));
        fs::remove(cached, error);
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
  fs::path cache_;
  std::optional<fetch::Progress> progress_;
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
