// Content-addressed chunk objects: a blob (a model file or a delta) is cut into
// fixed-size chunks, each stored once as a zstd frame named by the SHA-256 of
// its uncompressed bytes. Decoding always checks size and digest, so a damaged
// object is an error, never wrong bytes.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <span>
#include <vector>

#include "lib/artifact/manifest.h"
#include "lib/common/result.h"

namespace ferry {

inline constexpr uint64_t kDefaultChunkSize = 8 << 20;

// Cuts the file at `path` into chunks of `chunk_size` bytes and stores each
// missing one under `repository`/objects/ (written to a temporary name and
// renamed, so a reader never sees half an object). Returns the blob's record.
Result<Blob> StoreBlob(const std::filesystem::path& repository, const std::filesystem::path& path,
                       uint64_t chunk_size, int zstd_level);

// Decompresses the object in `stored` and checks it is exactly `chunk`'s bytes.
// `out` is resized to chunk.size. kCorrupt names the object on any mismatch.
Status DecodeChunk(std::span<const uint8_t> stored, const ChunkRef& chunk,
                   std::vector<uint8_t>& out);

// Fills `plain` with a chunk's bytes, checked with DecodeChunk: read from a
// repository folder, a fetch cache or a bundle. Called once per chunk, in order.
using ChunkLoader = std::function<Status(const ChunkRef& chunk, std::vector<uint8_t>& plain)>;

// Loads chunks from a repository folder's objects.
ChunkLoader LoadFromRepository(const std::filesystem::path& repository);

// Writes `blob` to `out` (created or truncated) chunk by chunk, then checks the
// whole blob's SHA-256. Memory: one chunk. Does not fsync: the caller decides
// when durability matters.
Status AssembleBlob(const Blob& blob, const ChunkLoader& load, const std::filesystem::path& out);

}  // namespace ferry
