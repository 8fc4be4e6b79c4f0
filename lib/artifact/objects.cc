#include "lib/artifact/objects.h"

#include <zstd.h>

#include <algorithm>

#include "lib/artifact/repository_layout.h"
#include "lib/common/file.h"

namespace ferry {
namespace {

// Atomic, so a reader never sees half an object even while publishing runs.
Status WriteObjectIfMissing(const std::filesystem::path& repository, const ChunkRef& chunk,
                            std::span<const uint8_t> compressed) {
  const std::filesystem::path path = repository / ObjectPath(chunk.sha256);
  std::error_code error;
  if (std::filesystem::exists(path, error)) return OkStatus();
  std::filesystem::create_directories(path.parent_path(), error);
  if (error) {
    return MakeError(ErrorCode::kIo,
                     "create " + path.parent_path().string() + ": " + error.message());
  }
  return WriteFileAtomically(
      path, std::string_view(reinterpret_cast<const char*>(compressed.data()), compressed.size()));
}

}  // namespace

Result<Blob> StoreBlob(const std::filesystem::path& repository, const std::filesystem::path& path,
                       uint64_t chunk_size, int zstd_level) {
  Result<MappedFile> file = MappedFile::Open(path);
  if (!file) return file.error();
  const std::span<const uint8_t> bytes = file->bytes();
  Blob blob;
  blob.size = bytes.size();
  blob.sha256 = Sha256Of(bytes);
  std::vector<uint8_t> compressed(ZSTD_compressBound(chunk_size));
  for (uint64_t offset = 0; offset < bytes.size(); offset += chunk_size) {
    const auto piece = bytes.subspan(offset, std::min<uint64_t>(chunk_size, bytes.size() - offset));
    ChunkRef chunk{Sha256Of(piece), piece.size(), 0};
    const size_t length =
        ZSTD_compress(compressed.data(), compressed.size(), piece.data(), piece.size(), zstd_level);
    if (ZSTD_isError(length)) {
      return MakeError(ErrorCode::kInternal,
                       "compress " + path.string() + ": " + ZSTD_getErrorName(length));
    }
    chunk.stored_size = length;
    if (Status s = WriteObjectIfMissing(repository, chunk, std::span(compressed).first(length));
        !s) {
      return s.error();
    }
    blob.chunks.push_back(chunk);
    file->DropPages(offset, piece.size());
  }
  return blob;
}

Status DecodeChunk(std::span<const uint8_t> stored, const ChunkRef& chunk,
                   std::vector<uint8_t>& out) {
  const std::string name = "object " + ToHex(chunk.sha256);
  if (stored.size() != chunk.stored_size) {
    return MakeError(ErrorCode::kCorrupt, name + " has " + std::to_string(stored.size()) +
                                              " bytes, the manifest says " +
                                              std::to_string(chunk.stored_size));
  }
  const unsigned long long content = ZSTD_getFrameContentSize(stored.data(), stored.size());
  if (content != chunk.size) {
    return MakeError(ErrorCode::kCorrupt, name + " is damaged (not the zstd frame expected)");
  }
  out.resize(chunk.size);
  const size_t length = ZSTD_decompress(out.data(), out.size(), stored.data(), stored.size());
  if (ZSTD_isError(length) || length != chunk.size) {
    return MakeError(ErrorCode::kCorrupt,
                     name + " is damaged: " +
                         (ZSTD_isError(length) ? ZSTD_getErrorName(length) : "wrong length"));
  }
  if (Sha256Of(std::span<const uint8_t>(out)) != chunk.sha256) {
    return MakeError(ErrorCode::kCorrupt, name + " does not hash to its name: it is damaged");
  }
  return OkStatus();
}

ChunkLoader LoadFromRepository(const std::filesystem::path& repository) {
  return [repository](const ChunkRef& chunk, std::vector<uint8_t>& plain) -> Status {
    const std::filesystem::path path = repository / ObjectPath(chunk.sha256);
    Result<std::string> stored = ReadFileToString(path);
    if (!stored) return stored.error();
    return DecodeChunk(std::span(reinterpret_cast<const uint8_t*>(stored->data()), stored->size()),
                       chunk, plain);
  };
}

Status AssembleBlob(const Blob& blob, const ChunkLoader& load, const std::filesystem::path& out) {
  Result<UniqueFd> file = CreateForWrite(out);
  if (!file) return file.error();
  Sha256 whole;
  std::vector<uint8_t> chunk_bytes;
  for (const ChunkRef& chunk : blob.chunks) {
    if (Status s = load(chunk, chunk_bytes); !s) return s;
    whole.Update(chunk_bytes);
    if (Status s = WriteAll(file->get(), chunk_bytes, out); !s) return s;
  }
  if (whole.Finish() != blob.sha256) {
    return MakeError(ErrorCode::kCorrupt,
                     out.string() + ": assembled bytes do not match the manifest's SHA-256");
  }
  return OkStatus();
}

}  // namespace ferry
