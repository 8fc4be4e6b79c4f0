// Publishing a model version into a repository folder: store the files as
// chunk objects, make deltas from earlier versions, then write the signed
// manifest last, so a version is visible only once everything it names exists.
// Published versions are immutable: publishing one again is refused.
#pragma once

#include <spdlog/logger.h>

#include <filesystem>
#include <string>
#include <vector>

#include "lib/artifact/manifest.h"
#include "lib/artifact/sign.h"
#include "lib/artifact/signed_manifest.h"
#include "lib/common/result.h"

namespace ferry {

struct PublishOptions {
  std::filesystem::path repository;
  std::string model;
  std::string version;
  std::vector<std::string> delta_from;  // earlier versions of the model, already published
  // Files, and folders walked recursively; a file's path in the model is its
  // name, a folder's files keep their paths below it.
  std::vector<std::filesystem::path> inputs;
  uint64_t chunk_size = 8 << 20;
  int zstd_level = 3;
  // A delta is kept only when smaller than this share of the file's stored objects.
  double max_delta_ratio = 0.9;
};

struct PublishReport {
  Manifest manifest;
  Sha256Digest manifest_digest{};
  uint64_t stored_bytes = 0;  // compressed objects written (or already present)
};

Result<PublishReport> Publish(const PublishOptions& options, const SigningKey& key,
                              spdlog::logger& log);

// Reads a published version's manifest from a repository folder and checks it.
Result<SignedManifest> ReadPublishedManifest(const std::filesystem::path& repository,
                                             std::string_view model, std::string_view version,
                                             const VerifyingKey& key);

}  // namespace ferry
