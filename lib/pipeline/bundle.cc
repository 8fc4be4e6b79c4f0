#include "lib/pipeline/bundle.h"

#include <fcntl.h>

#include <algorithm>
#include <cerrno>
#include <set>

#include "lib/artifact/manifest.h"
#include "lib/artifact/repository_layout.h"
#include "lib/artifact/tar.h"
#include "lib/common/names.h"

namespace ferry {
namespace {

namespace fs = std::filesystem;

Result<Manifest> ReadManifestFile(const fs::path& repository, const std::string& model,
                                  const std::string& version) {
  Result<std::string> bytes = ReadFileToString(repository / ManifestPath(model, version));
  if (!bytes) {
    return MakeError(bytes.error().code, model + " " + version + " is not published in " +
                                             repository.string() + " (" + bytes.error().message +
                                             ")");
  }
  return ParseManifest(*bytes);
}

class BundleSource final : public fetch::Source {
 public:
  explicit BundleSource(TarIndex index) : index_(std::move(index)) {}

  std::string Describe() const override { return "bundle " + index_.path().string(); }

  Result<std::string> ReadSmall(std::string_view relative_path, uint64_t max_bytes) override {
    Result<const TarMember*> member = Find(relative_path);
    if (!member) return member.error();
    if ((*member)->size > max_bytes) {
      return MakeError(ErrorCode::kInvalidArgument,
                       std::string(relative_path) + " in " + Describe() + " is too large");
    }
    std::string contents((*member)->size, '\0');
    if (Status s = ReadExactlyAt(
            index_.fd(), std::span(reinterpret_cast<uint8_t*>(contents.data()), contents.size()),
            (*member)->offset, index_.path());
        !s) {
      return s.error();
    }
    return contents;
  }

  Status FetchToFile(std::string_view relative_path, const fs::path& destination,
                     std::optional<uint64_t> expected_size, fetch::Progress* progress) override {
    Result<const TarMember*> found = Find(relative_path);
    if (!found) return found.error();
    const TarMember& member = **found;
    if (expected_size && member.size != *expected_size) {
      return MakeError(ErrorCode::kCorrupt, std::string(relative_path) + " in " + Describe() +
                                                " has another size than the manifest says");
    }
    std::error_code error;
    uint64_t have = fs::exists(destination, error) ? fs::file_size(destination, error) : 0;
    if (have > member.size) have = 0;
    Result<UniqueFd> out = have == 0 ? CreateForWrite(destination) : OpenForAppend(destination);
    if (!out) return out.error();
    if (progress != nullptr) progress->Add(have);
    std::vector<uint8_t> buffer(1 << 20);
    for (uint64_t at = have; at < member.size;) {
      const auto piece =
          std::span(buffer).first(std::min<uint64_t>(buffer.size(), member.size - at));
      if (Status s = ReadExactlyAt(index_.fd(), piece, member.offset + at, index_.path()); !s) {
        return s;
      }
      if (Status s = WriteAll(out->get(), piece, destination); !s) return s;
      if (progress != nullptr) progress->Add(piece.size());
      at += piece.size();
    }
    return OkStatus();
  }

 private:
  Result<const TarMember*> Find(std::string_view relative_path) const {
    const TarMember* member = index_.Find(relative_path);
    if (member == nullptr) {
      return MakeError(ErrorCode::kNotFound,
                       std::string(relative_path) + " is not in " + Describe() +
                           "; the bundle was made for another version than the store holds "
                           "(see `ferryctl ls --store`)");
    }
    return member;
  }

  static Result<UniqueFd> OpenForAppend(const fs::path& path) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
    if (fd < 0) return ErrnoError("open", path, errno);
    return UniqueFd(fd);
  }

  TarIndex index_;
};

}  // namespace

Result<BundleReport> CreateBundle(const fs::path& repository, const std::string& model,
                                  const std::string& from, const std::string& to,
                                  const fs::path& out) {
  // They become paths in the repository: nothing may climb out of it.
  if (Status s = ValidateModelName(model); !s) return s.error();
  if (Status s = ValidateVersion(from); !s) return s.error();
  if (Status s = ValidateVersion(to); !s) return s.error();
  Result<Manifest> target = ReadManifestFile(repository, model, to);
  if (!target) return target.error();
  Result<Manifest> base = ReadManifestFile(repository, model, from);
  if (!base) return base.error();
  const DeltaSet* deltas = target->FindDelta(from);

  // The chunks that move `from` to `to`, in manifest order, each once.
  std::vector<Sha256Digest> objects;
  std::set<Sha256Digest> seen;
  auto add = [&](const Blob& blob) {
    for (const ChunkRef& chunk : blob.chunks) {
      if (seen.insert(chunk.sha256).second) objects.push_back(chunk.sha256);
    }
  };
  for (const FileRecord& file : target->files) {
    const FileRecord* old = base->FindFile(file.path);
    if (old != nullptr && old->blob.sha256 == file.blob.sha256) continue;
    const DeltaFile* delta = nullptr;
    for (size_t i = 0; deltas != nullptr && i < deltas->files.size(); ++i) {
      if (deltas->files[i].path == file.path) delta = &deltas->files[i];
    }
    add(delta != nullptr ? delta->blob : file.blob);
  }

  // Every return from here before Finish removes OUT.partial (TarWriter's
  // destructor), so a failed bundle leaves nothing behind.
  Result<TarWriter> writer = TarWriter::Create(out);
  if (!writer) return writer.error();
  for (const std::string& name :
       {std::string(kRepositoryMarker), ManifestPath(model, to), SignaturePath(model, to)}) {
    if (Status s = writer->AddFile(name, repository / name); !s) return s.error();
  }
  for (const Sha256Digest& digest : objects) {
    if (Status s = writer->AddFile(ObjectPath(digest), repository / ObjectPath(digest)); !s) {
      return s.error();
    }
  }
  if (Status s = writer->Finish(); !s) return s.error();
  std::error_code error;
  return BundleReport{objects.size(), fs::file_size(out, error)};
}

Result<std::unique_ptr<fetch::Source>> OpenBundle(const fs::path& bundle) {
  Result<TarIndex> index = TarIndex::Open(bundle);
  if (!index) return index.error();
  return std::unique_ptr<fetch::Source>(std::make_unique<BundleSource>(std::move(*index)));
}

}  // namespace ferry
