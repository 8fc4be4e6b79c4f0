#include "lib/pipeline/publish.h"

#include <sys/stat.h>

#include <chrono>
#include <map>
#include <set>

#include "lib/artifact/objects.h"
#include "lib/artifact/repository_layout.h"
#include "lib/common/file.h"
#include "lib/common/utc_time.h"
#include "lib/delta/delta.h"

namespace ferry {
namespace {

namespace fs = std::filesystem;

struct InputFile {
  std::string path;   // in the model
  fs::path location;  // on disk
};

// Regular files only: a symlink in a published model would mean different
// bytes on every machine, so it is refused rather than followed.
Status AddInput(const fs::path& location, const std::string& path, std::vector<InputFile>& out) {
  struct stat info {};
  if (::lstat(location.c_str(), &info) != 0) return ErrnoError("stat", location, errno);
  if (S_ISLNK(info.st_mode)) {
    return MakeError(ErrorCode::kInvalidArgument,
                     location.string() + " is a symlink; publish the file it points to instead");
  }
  if (S_ISDIR(info.st_mode)) {
    std::error_code error;
    for (fs::directory_iterator it(location, error), end; it != end; it.increment(error)) {
      const std::string child = path.empty() ? it->path().filename().string()
                                             : path + "/" + it->path().filename().string();
      if (Status s = AddInput(it->path(), child, out); !s) return s;
    }
    if (error)
      return MakeError(ErrorCode::kIo, "list " + location.string() + ": " + error.message());
    return OkStatus();
  }
  if (!S_ISREG(info.st_mode)) {
    return MakeError(ErrorCode::kInvalidArgument, location.string() + " is not a regular file");
  }
  if (Status s = ValidateRelativePath(path); !s) return s;
  out.push_back({path, location});
  return OkStatus();
}

Result<std::vector<InputFile>> CollectInputs(const std::vector<fs::path>& inputs) {
  std::vector<InputFile> files;
  for (const fs::path& input : inputs) {
    std::error_code error;
    const bool is_directory = fs::is_directory(fs::symlink_status(input, error));
    if (Status s = AddInput(input, is_directory ? "" : input.filename().string(), files); !s) {
      return s.error();
    }
  }
  if (files.empty()) return MakeError(ErrorCode::kInvalidArgument, "no files to publish");
  std::set<std::string> seen;
  for (const InputFile& file : files) {
    if (!seen.insert(file.path).second) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "two inputs would both be '" + file.path + "' in the model; rename one");
    }
  }
  std::sort(files.begin(), files.end(),
            [](const InputFile& a, const InputFile& b) { return a.path < b.path; });
  return files;
}

bool IsSafetensors(std::string_view path) {
  constexpr std::string_view kSuffix = ".safetensors";
  return path.size() >= kSuffix.size() && path.substr(path.size() - kSuffix.size()) == kSuffix;
}

// Builds the delta set that moves `base` (an earlier version, its files
// materialised under `base_dir`) to the files being published.
Result<DeltaSet> MakeDeltaSet(const PublishOptions& options, const SignedManifest& base,
                              const std::vector<InputFile>& inputs,
                              const std::vector<FileRecord>& records, const fs::path& scratch,
                              spdlog::logger& log) {
  DeltaSet set{base.manifest.version, base.digest, {}};
  const fs::path base_dir = scratch / "base";
  std::map<std::string, fs::path> materialised;
  auto materialise = [&](const FileRecord& file) -> Result<fs::path> {
    if (auto it = materialised.find(file.path); it != materialised.end()) return it->second;
    const fs::path out = base_dir / std::to_string(materialised.size());
    fs::create_directories(base_dir);
    if (Status s = AssembleBlob(file.blob, LoadFromRepository(options.repository), out); !s) {
      return s.error().Wrap("rebuild " + file.path + " of " + base.manifest.version);
    }
    materialised[file.path] = out;
    return out;
  };

  for (size_t i = 0; i < inputs.size(); ++i) {
    const FileRecord& target = records[i];
    const FileRecord* same = base.manifest.FindFile(target.path);
    if (same != nullptr && same->blob.sha256 == target.blob.sha256) continue;  // unchanged

    std::vector<const FileRecord*> candidates;
    if (IsSafetensors(target.path)) {
      // Tensors are paired by name across every shard of the base.
      for (const FileRecord& file : base.manifest.files) {
        if (IsSafetensors(file.path)) candidates.push_back(&file);
      }
    } else if (same != nullptr) {
      candidates.push_back(same);
    }
    if (candidates.empty()) continue;

    std::vector<delta::BaseFile> bases;
    for (const FileRecord* candidate : candidates) {
      Result<fs::path> location = materialise(*candidate);
      if (!location) return location.error();
      bases.push_back({candidate->path, *location});
    }
    const fs::path delta_path = scratch / ("delta-" + std::to_string(i));
    Result<delta::EncodeStats> stats = delta::EncodeFile(bases, inputs[i].location, delta_path);
    if (!stats) return stats.error().Wrap("delta for " + target.path);
    if (stats->delta_bytes >= options.max_delta_ratio * target.blob.StoredSize()) {
      log.info("{}: delta from {} is {} bytes, not smaller than the objects; skipped", target.path,
               base.manifest.version, stats->delta_bytes);
      continue;
    }
    Result<delta::DeltaInfo> info = delta::ReadDeltaInfo(delta_path);
    if (!info) return info.error();
    DeltaFile file{target.path, {}, {}};
    for (const auto& [name, digest] : info->bases) file.bases.push_back(name);
    Result<Blob> blob =
        StoreBlob(options.repository, delta_path, options.chunk_size, options.zstd_level);
    if (!blob) return blob.error();
    file.blob = std::move(*blob);
    log.info("{}: delta from {}: {} bytes ({:.1f}% of {} bytes)", target.path,
             base.manifest.version, file.blob.size,
             100.0 * static_cast<double>(file.blob.size) / static_cast<double>(target.blob.size),
             target.blob.size);
    set.files.push_back(std::move(file));
    fs::remove(delta_path);
  }
  return set;
}

Status EnsureRepository(const fs::path& repository) {
  std::error_code error;
  fs::create_directories(repository, error);
  if (error)
    return MakeError(ErrorCode::kIo, "create " + repository.string() + ": " + error.message());
  const fs::path marker = repository / kRepositoryMarker;
  if (fs::exists(marker)) return OkStatus();
  return WriteFileAtomically(marker, "{\"format\": \"" + std::string(kRepositoryFormat) + "\"}\n");
}

// A scratch folder inside the repository (same filesystem, so big temporary
// files do not land on a small /tmp), removed on every exit path.
class ScratchDir {
 public:
  explicit ScratchDir(fs::path path) : path_(std::move(path)) { fs::create_directories(path_); }
  ~ScratchDir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

}  // namespace

Result<SignedManifest> ReadPublishedManifest(const fs::path& repository, std::string_view model,
                                             std::string_view version, const VerifyingKey& key) {
  Result<std::string> bytes = ReadFileToString(repository / ManifestPath(model, version));
  if (!bytes) {
    if (bytes.error().code == ErrorCode::kNotFound) {
      return MakeError(ErrorCode::kNotFound, std::string(model) + " " + std::string(version) +
                                                 " is not published in " + repository.string());
    }
    return bytes.error();
  }
  Result<std::string> signature = ReadFileToString(repository / SignaturePath(model, version));
  if (!signature) return signature.error();
  return OpenSignedManifest(std::move(*bytes), std::move(*signature), key, model, version,
                            std::nullopt);
}

Result<PublishReport> Publish(const PublishOptions& options, const SigningKey& key,
                              spdlog::logger& log) {
  if (Status s = ValidateModelName(options.model); !s) return s.error();
  if (Status s = ValidateVersion(options.version); !s) return s.error();
  if (options.chunk_size < 4096 || options.chunk_size > kMaxChunkSize) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "chunk size must be from 4 KiB to 64 MiB (pulls hold one chunk in memory)");
  }
  if (Status s = EnsureRepository(options.repository); !s) return s.error();
  const fs::path manifest_path = options.repository / ManifestPath(options.model, options.version);
  if (fs::exists(manifest_path)) {
    return MakeError(ErrorCode::kAlreadyExists,
                     options.model + " " + options.version + " is already published in " +
                         options.repository.string() +
                         "; published versions never change: publish a new version");
  }
  Result<std::vector<InputFile>> inputs = CollectInputs(options.inputs);
  if (!inputs) return inputs.error();

  // Check the bases before the slow part, so a typo fails at once.
  std::vector<SignedManifest> bases;
  for (const std::string& from : options.delta_from) {
    Result<SignedManifest> base =
        ReadPublishedManifest(options.repository, options.model, from, key.Public());
    if (!base) return base.error().Wrap("--delta-from " + from);
    bases.push_back(std::move(*base));
  }

  PublishReport report;
  Manifest& manifest = report.manifest;
  manifest.model = options.model;
  manifest.version = options.version;
  manifest.created = FormatTime(std::chrono::system_clock::now());
  manifest.chunk_size = options.chunk_size;
  for (const InputFile& input : *inputs) {
    Result<Blob> blob =
        StoreBlob(options.repository, input.location, options.chunk_size, options.zstd_level);
    if (!blob) return blob.error();
    report.stored_bytes += blob->StoredSize();
    log.info("{}: {} bytes in {} chunk(s)", input.path, blob->size, blob->chunks.size());
    manifest.files.push_back({input.path, std::move(*blob)});
  }

  ScratchDir scratch(options.repository / (".publish-" + std::to_string(::getpid())));
  for (const SignedManifest& base : bases) {
    Result<DeltaSet> set =
        MakeDeltaSet(options, base, *inputs, manifest.files, scratch.path(), log);
    if (!set) return set.error();
    manifest.deltas.push_back(std::move(*set));
  }

  const std::string bytes = SerializeManifest(manifest);
  Result<std::string> signature = key.Sign(bytes);
  if (!signature) return signature.error();
  fs::create_directories(manifest_path.parent_path());
  // The signature first: a manifest that is visible always has its signature.
  if (Status s = WriteFileAtomically(
          options.repository / SignaturePath(options.model, options.version), *signature);
      !s) {
    return s.error();
  }
  if (Status s = WriteFileAtomically(manifest_path, bytes); !s) return s.error();
  report.manifest_digest = Sha256Of(std::string_view(bytes));
  return report;
}

}  // namespace ferry
