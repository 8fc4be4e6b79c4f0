#include "lib/artifact/manifest.h"

#include <zstd.h>

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>
#include <set>

#include "lib/common/json_view.h"

namespace ferry {
namespace {

using nlohmann::json;

// Caps that keep a hostile manifest from costing unbounded memory or time.
constexpr size_t kMaxFiles = 100000;
constexpr size_t kMaxChunksPerBlob = 1 << 22;
constexpr uint64_t kMaxBlobSize = uint64_t{1} << 46;  // 64 TiB

Error Invalid(const std::string& message) {
  return MakeError(ErrorCode::kCorrupt, "invalid manifest: " + message);
}

// Field readers on lib/common/json_view.h: each names the field on failure,
// so an error reads "invalid manifest: files[3].chunks[0].size: expected a
// non-negative integer, got -1".
Error Invalid(const Error& error) { return Invalid(error.message); }

JsonView ViewOf(const json& object, const std::string& where) {
  return JsonView(object, where, ErrorCode::kCorrupt);
}

Result<std::string> StringField(const json& object, const char* key, const std::string& where) {
  auto text = ViewOf(object, where).RequiredString(key);
  if (!text) return Invalid(text.error());
  return text;
}

Result<uint64_t> SizeField(const json& object, const char* key, const std::string& where) {
  auto value = ViewOf(object, where).RequiredUint(key);
  if (!value) return Invalid(value.error());
  if (*value > kMaxBlobSize) return Invalid(where + "." + key + ": too large");
  return value;
}

Result<Sha256Digest> DigestField(const json& object, const char* key, const std::string& where) {
  auto text = StringField(object, key, where);
  if (!text) return text.error();
  constexpr std::string_view kPrefix = "sha256:";
  if (text->rfind(kPrefix, 0) != 0) {
    return Invalid(where + "." + key + ": expected \"sha256:<64 hex>\"");
  }
  auto digest = ParseSha256Hex(std::string_view(*text).substr(kPrefix.size()));
  if (!digest || ToHex(*digest) != text->substr(kPrefix.size())) {
    return Invalid(where + "." + key + ": expected \"sha256:<64 lowercase hex>\"");
  }
  return *digest;
}

Result<const json*> ArrayField(const json& object, const char* key, const std::string& where,
                               size_t max_items) {
  auto field = ViewOf(object, where).Required(key);
  if (!field) return Invalid(field.error());
  if (!field->json().is_array()) return Invalid(field->Invalid("expected an array"));
  if (field->json().size() > max_items) return Invalid(where + "." + key + ": too many entries");
  return &field->json();
}

// `max_chunk`: the manifest's chunkSize, already checked against kMaxChunkSize.
Result<Blob> ParseBlob(const json& object, const std::string& where, uint64_t max_chunk) {
  Blob blob;
  auto size = SizeField(object, "size", where);
  if (!size) return size.error();
  blob.size = *size;
  auto digest = DigestField(object, "sha256", where);
  if (!digest) return digest.error();
  blob.sha256 = *digest;
  auto chunks = ArrayField(object, "chunks", where, kMaxChunksPerBlob);
  if (!chunks) return chunks.error();
  uint64_t total = 0;
  for (size_t i = 0; i < (*chunks)->size(); ++i) {
    const std::string at = where + ".chunks[" + std::to_string(i) + "]";
    const json& entry = (**chunks)[i];
    ChunkRef chunk;
    auto chunk_digest = DigestField(entry, "sha256", at);
    if (!chunk_digest) return chunk_digest.error();
    auto chunk_size = SizeField(entry, "size", at);
    if (!chunk_size) return chunk_size.error();
    auto stored = SizeField(entry, "stored", at);
    if (!stored) return stored.error();
    if (*chunk_size == 0) return Invalid(at + ".size: chunks are never empty");
    if (*chunk_size > max_chunk) {
      return Invalid(at + ".size: " + std::to_string(*chunk_size) +
                     " bytes, larger than the manifest's chunkSize " + std::to_string(max_chunk));
    }
    if (*stored > ZSTD_compressBound(*chunk_size)) {
      return Invalid(at + ".stored: " + std::to_string(*stored) + " bytes for a chunk of " +
                     std::to_string(*chunk_size) + ", more than zstd can need");
    }
    chunk.sha256 = *chunk_digest;
    chunk.size = *chunk_size;
    chunk.stored_size = *stored;
    total += chunk.size;
    if (total > kMaxBlobSize) return Invalid(where + ": chunks add up to too much");
    blob.chunks.push_back(chunk);
  }
  if (total != blob.size) {
    return Invalid(where + ": chunks add up to " + std::to_string(total) + " bytes, size says " +
                   std::to_string(blob.size));
  }
  return blob;
}

// Adds a blob's fields to `entry`, in a fixed order.
void AddBlobFields(const Blob& blob, nlohmann::ordered_json& entry) {
  nlohmann::ordered_json chunks = nlohmann::ordered_json::array();
  for (const ChunkRef& chunk : blob.chunks) {
    chunks.push_back({{"sha256", "sha256:" + ToHex(chunk.sha256)},
                      {"size", chunk.size},
                      {"stored", chunk.stored_size}});
  }
  entry["size"] = blob.size;
  entry["sha256"] = "sha256:" + ToHex(blob.sha256);
  entry["chunks"] = std::move(chunks);
}

// No file may also be a directory of another ("a" and "a/b"), or the store
// could not lay both out.
Status CheckNoFileIsADirectory(const std::vector<FileRecord>& files) {
  std::set<std::string_view> paths;
  for (const FileRecord& file : files) paths.insert(file.path);
  for (const FileRecord& file : files) {
    for (size_t slash = file.path.find('/'); slash != std::string::npos;
         slash = file.path.find('/', slash + 1)) {
      if (paths.contains(std::string_view(file.path).substr(0, slash))) {
        return Invalid("'" + file.path.substr(0, slash) + "' is both a file and a directory");
      }
    }
  }
  return OkStatus();
}

}  // namespace

uint64_t Blob::StoredSize() const {
  uint64_t total = 0;
  for (const ChunkRef& chunk : chunks) total += chunk.stored_size;
  return total;
}

const FileRecord* Manifest::FindFile(std::string_view path) const {
  for (const FileRecord& file : files) {
    if (file.path == path) return &file;
  }
  return nullptr;
}

const DeltaSet* Manifest::FindDelta(std::string_view from) const {
  for (const DeltaSet& delta : deltas) {
    if (delta.from == from) return &delta;
  }
  return nullptr;
}

uint64_t Manifest::TotalBytes() const {
  uint64_t total = 0;
  for (const FileRecord& file : files) total += file.blob.size;
  return total;
}

Result<Manifest> ParseManifest(std::string_view text) {
  json root = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (root.is_discarded()) return Invalid("not JSON");
  auto format = StringField(root, "format", "manifest");
  if (!format) return format.error();
  if (*format != kManifestFormat) {
    return Invalid("format '" + *format + "' is not one this ferry reads (" +
                   std::string(kManifestFormat) + "); upgrade ferry");
  }
  Manifest manifest;
  for (auto [key, target] :
       {std::pair{"model", &manifest.model}, std::pair{"version", &manifest.version},
        std::pair{"created", &manifest.created}}) {
    auto value = StringField(root, key, "manifest");
    if (!value) return value.error();
    *target = *value;
  }
  if (Status s = ValidateModelName(manifest.model); !s) return Invalid(s.error().message);
  if (Status s = ValidateVersion(manifest.version); !s) return Invalid(s.error().message);
  auto chunk_size = SizeField(root, "chunkSize", "manifest");
  if (!chunk_size) return chunk_size.error();
  if (*chunk_size == 0 || *chunk_size > kMaxChunkSize) {
    return Invalid("chunkSize: " + std::to_string(*chunk_size) + " is outside 1.." +
                   std::to_string(kMaxChunkSize) + " (64 MiB)");
  }
  manifest.chunk_size = *chunk_size;

  auto files = ArrayField(root, "files", "manifest", kMaxFiles);
  if (!files) return files.error();
  std::set<std::string> seen;
  for (size_t i = 0; i < (*files)->size(); ++i) {
    const std::string at = "files[" + std::to_string(i) + "]";
    auto path = StringField((**files)[i], "path", at);
    if (!path) return path.error();
    if (Status s = ValidateRelativePath(*path); !s) return Invalid(at + ": " + s.error().message);
    if (!seen.insert(*path).second) return Invalid(at + ": '" + *path + "' is listed twice");
    auto blob = ParseBlob((**files)[i], at, manifest.chunk_size);
    if (!blob) return blob.error();
    manifest.files.push_back({*path, std::move(*blob)});
  }
  if (Status s = CheckNoFileIsADirectory(manifest.files); !s) return s.error();

  auto deltas = ArrayField(root, "deltas", "manifest", 64);
  if (!deltas) return deltas.error();
  for (size_t i = 0; i < (*deltas)->size(); ++i) {
    const std::string at = "deltas[" + std::to_string(i) + "]";
    const json& entry = (**deltas)[i];
    DeltaSet delta;
    auto from = StringField(entry, "from", at);
    if (!from) return from.error();
    if (Status s = ValidateVersion(*from); !s) return Invalid(at + ": " + s.error().message);
    if (*from == manifest.version) return Invalid(at + ": a version cannot be a delta from itself");
    if (manifest.FindDelta(*from) != nullptr) return Invalid(at + ": '" + *from + "' twice");
    delta.from = *from;
    auto from_manifest = DigestField(entry, "fromManifest", at);
    if (!from_manifest) return from_manifest.error();
    delta.from_manifest = *from_manifest;
    auto delta_files = ArrayField(entry, "files", at, kMaxFiles);
    if (!delta_files) return delta_files.error();
    for (size_t j = 0; j < (*delta_files)->size(); ++j) {
      const std::string file_at = at + ".files[" + std::to_string(j) + "]";
      const json& file = (**delta_files)[j];
      DeltaFile delta_file;
      auto path = StringField(file, "path", file_at);
      if (!path) return path.error();
      if (!seen.contains(*path)) {
        return Invalid(file_at + ": '" + *path + "' is not a file of this version");
      }
      delta_file.path = *path;
      auto bases = ArrayField(file, "bases", file_at, 4096);
      if (!bases) return bases.error();
      if ((*bases)->empty()) return Invalid(file_at + ".bases: empty");
      for (const json& base : **bases) {
        if (!base.is_string()) return Invalid(file_at + ".bases: expected strings");
        if (Status s = ValidateRelativePath(base.get<std::string>()); !s) {
          return Invalid(file_at + ".bases: " + s.error().message);
        }
        delta_file.bases.push_back(base.get<std::string>());
      }
      auto blob = ParseBlob(file, file_at, manifest.chunk_size);
      if (!blob) return blob.error();
      delta_file.blob = std::move(*blob);
      delta.files.push_back(std::move(delta_file));
    }
    manifest.deltas.push_back(std::move(delta));
  }
  return manifest;
}

std::string SerializeManifest(const Manifest& manifest) {
  // nlohmann's ordered_json keeps insertion order, which fixes the byte layout.
  nlohmann::ordered_json root;
  root["format"] = kManifestFormat;
  root["model"] = manifest.model;
  root["version"] = manifest.version;
  root["created"] = manifest.created;
  root["chunkSize"] = manifest.chunk_size;
  root["files"] = nlohmann::ordered_json::array();
  for (const FileRecord& file : manifest.files) {
    nlohmann::ordered_json entry = {{"path", file.path}};
    AddBlobFields(file.blob, entry);
    root["files"].push_back(std::move(entry));
  }
  root["deltas"] = nlohmann::ordered_json::array();
  for (const DeltaSet& delta : manifest.deltas) {
    nlohmann::ordered_json files = nlohmann::ordered_json::array();
    for (const DeltaFile& file : delta.files) {
      nlohmann::ordered_json entry = {{"path", file.path}, {"bases", file.bases}};
      AddBlobFields(file.blob, entry);
      files.push_back(std::move(entry));
    }
    root["deltas"].push_back({{"from", delta.from},
                              {"fromManifest", "sha256:" + ToHex(delta.from_manifest)},
                              {"files", files}});
  }
  return root.dump(2) + "\n";
}

}  // namespace ferry
