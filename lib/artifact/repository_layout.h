// Where things live in a Ferry repository (a folder, or the same tree served
// over HTTP). Paths are relative to the repository's root and '/'-separated:
//
//   ferry-repo.json                          {"format": "ferry.repo/v1"}
//   models/<model>/<version>/manifest.json   the manifest's exact signed bytes
//   models/<model>/<version>/manifest.sig    the 64-byte Ed25519 signature
//   objects/<2 hex>/<64 hex>.zst             a chunk: zstd frame of the bytes whose SHA-256 is the
//   name
//
// Objects are shared by every model and version: identical chunks are stored once.
#pragma once

#include <string>
#include <string_view>

#include "lib/common/sha256.h"

namespace ferry {

inline constexpr std::string_view kRepositoryMarker = "ferry-repo.json";
inline constexpr std::string_view kRepositoryFormat = "ferry.repo/v1";

inline std::string VersionDirectory(std::string_view model, std::string_view version) {
  return "models/" + std::string(model) + "/" + std::string(version);
}
inline std::string ManifestPath(std::string_view model, std::string_view version) {
  return VersionDirectory(model, version) + "/manifest.json";
}
inline std::string SignaturePath(std::string_view model, std::string_view version) {
  return VersionDirectory(model, version) + "/manifest.sig";
}
inline std::string ObjectPath(const Sha256Digest& digest) {
  const std::string hex = ToHex(digest);
  return "objects/" + hex.substr(0, 2) + "/" + hex + ".zst";
}

}  // namespace ferry
