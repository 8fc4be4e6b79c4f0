// The manifest of one published model version: every file with its size,
// SHA-256 and the content-addressed chunks it is stored as, plus optional deltas
// from earlier versions. Signed (detached, Ed25519) over its exact bytes, so the
// bytes are what is trusted: callers verify the signature first, then parse.
//
// Invariants of a manifest that parsed: the format is one this build reads; model
// and version are valid names; every path is relative, normalised and unique and
// none is a directory of another; chunk sizes add up to their blob's size; every
// delta targets a listed file; chunkSize is at most kMaxChunkSize and no chunk
// is larger than chunkSize, nor stored in more bytes than zstd can need for
// it. See docs/formats.md.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "lib/common/names.h"
#include "lib/common/result.h"
#include "lib/common/sha256.h"

namespace ferry {

inline constexpr std::string_view kManifestFormat = "ferry.manifest/v1";

// The largest chunkSize a manifest may declare. Pulling holds one chunk in
// memory at a time, so this is what bounds a pull's memory, whatever a
// (signed, but possibly hostile) manifest says.
inline constexpr uint64_t kMaxChunkSize = uint64_t{64} << 20;

// One content-addressed object: `size` bytes whose SHA-256 is `sha256`, stored
// zstd-compressed in `stored_size` bytes under objects/ (see repository.h).
struct ChunkRef {
  Sha256Digest sha256{};
  uint64_t size = 0;
  uint64_t stored_size = 0;
};

// A sequence of bytes (a model file or a delta) and the chunks it is cut into.
struct Blob {
  uint64_t size = 0;
  Sha256Digest sha256{};
  std::vector<ChunkRef> chunks;

  // Bytes of its compressed objects: what a transfer of the blob costs.
  uint64_t StoredSize() const;
};

struct FileRecord {
  std::string path;  // relative to the model's root, '/'-separated
  Blob blob;
};

// A delta that rebuilds the file `path` of this version from files `bases` of
// the version `from` (tensors may move between shards, so there can be several).
struct DeltaFile {
  std::string path;
  std::vector<std::string> bases;
  Blob blob;
};

struct DeltaSet {
  std::string from;              // the earlier version
  Sha256Digest from_manifest{};  // SHA-256 of that version's manifest bytes
  std::vector<DeltaFile> files;  // files unchanged since `from` have no entry
};

struct Manifest {
  std::string model;
  std::string version;
  std::string created;  // RFC 3339, UTC
  uint64_t chunk_size = 0;
  std::vector<FileRecord> files;
  std::vector<DeltaSet> deltas;

  const FileRecord* FindFile(std::string_view path) const;
  const DeltaSet* FindDelta(std::string_view from) const;
  uint64_t TotalBytes() const;
};

Result<Manifest> ParseManifest(std::string_view json);
// Canonical JSON (fixed key order, 2-space indent): the bytes that get signed.
std::string SerializeManifest(const Manifest& manifest);

}  // namespace ferry
