// Deltas between versions of a model's files: what ferryctl diff/patch, the
// publisher and the node agent call.
//
// A delta rebuilds one target file from one or more base files. For
// safetensors it is tensor-aware: tensors are paired by name across all the
// bases (so shards whose tensors moved still pair up) and each target tensor
// is stored as unchanged (no payload), as a numeric difference from its
// partner, or fresh; the header JSON and any gaps are carried verbatim. Any
// other file gets a zstd delta against one base as reference prefix
// (`zstd --patch-from` semantics, long-distance matching).
//
// Guarantees: ApplyFile rebuilds the target bit for bit or fails and removes
// its output; it checks the bases it is given against the SHA-256 digests the
// delta names, and the output against the target's size and SHA-256. It
// streams, so its anonymous memory stays small (a few MiB plus the numeric
// models of one segment) whatever the size of the model. The format is
// versioned and laid out byte by byte in docs/delta-format.md.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "lib/common/result.h"
#include "lib/common/sha256.h"

namespace ferry::delta {

struct BaseFile {
  std::string name;  // path relative to the model root, e.g. "model-00001-of-00002.safetensors"
  std::filesystem::path path;
};

struct EncodeOptions {
  int zstd_level = 3;  // for the zstd parts: header JSON, gaps, generic deltas
  int threads = 0;     // numeric segments encoded at once; 0: one per core (up to 8)
};

struct EncodeStats {
  uint64_t target_bytes = 0, delta_bytes = 0;
  uint64_t tensors_unchanged = 0, tensors_diffed = 0, tensors_fresh = 0;
  bool tensor_aware = false;
};

// Writes to `delta_out` a delta that rebuilds `target` from `bases`.
Result<EncodeStats> EncodeFile(std::span<const BaseFile> bases, const std::filesystem::path& target,
                               const std::filesystem::path& delta_out,
                               const EncodeOptions& options = {});

struct DeltaInfo {
  uint64_t target_size = 0;
  Sha256Digest target_sha256{};
  std::vector<std::pair<std::string, Sha256Digest>> bases;  // the bases the delta references
  bool tensor_aware = false;
};

Result<DeltaInfo> ReadDeltaInfo(const std::filesystem::path& delta);

struct ApplyOptions {
  // True when the caller has verified that the files given have the digests
  // the delta names (the store did); otherwise ApplyFile hashes them first.
  bool bases_already_verified = false;
  // What the rebuilt file must be (a signed manifest says so): a delta whose
  // header declares another size or digest is refused before anything is
  // written.
  std::optional<uint64_t> expected_size = std::nullopt;
  std::optional<Sha256Digest> expected_sha256 = std::nullopt;
};

struct ApplyResult {
  uint64_t size = 0;
  Sha256Digest sha256{};
};

// Rebuilds the target into `out` (created or truncated; not fsynced: the
// caller fsyncs before activation). A failure before `out` is opened leaves
// it untouched (a delta that is missing, damaged, for other bases, or larger
// than the free space); a failure after removes it.
Result<ApplyResult> ApplyFile(std::span<const BaseFile> bases, const std::filesystem::path& delta,
                              const std::filesystem::path& out, const ApplyOptions& options = {});

}  // namespace ferry::delta
