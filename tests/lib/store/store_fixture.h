// Helpers shared by the store tests and the crash helper program: files with
// known, seed-determined contents, written into a staging folder the way a
// fetcher would, and the entries that describe them.
#pragma once

#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "lib/common/file.h"
#include "lib/common/sha256.h"
#include "lib/store/store.h"

namespace ferry::store::testing {

struct TestFile {
  std::string path;
  std::string content;
  FileEntry entry() const { return {path, content.size(), Sha256Of(content)}; }
};

inline std::string RandomBytes(uint64_t seed, size_t size) {
  std::mt19937_64 random(seed);
  std::string bytes(size, '\0');
  for (char& c : bytes) c = static_cast<char>(random());
  return bytes;
}

inline std::vector<FileEntry> EntriesOf(const std::vector<TestFile>& files) {
  std::vector<FileEntry> entries;
  for (const TestFile& file : files) entries.push_back(file.entry());
  return entries;
}

inline Status WriteStaged(Staging& staging, const TestFile& file) {
  Result<std::filesystem::path> path = staging.PathFor(file.path);
  if (!path) return path.error();
  Result<UniqueFd> fd = CreateForWrite(*path);
  if (!fd) return fd.error();
  return WriteAll(fd->get(), file.content, *path);
}

inline Status WriteAllStaged(Staging& staging, const std::vector<TestFile>& files) {
  for (const TestFile& file : files) {
    if (Status s = WriteStaged(staging, file); !s) return s;
  }
  return OkStatus();
}

// Opens a store at `root` and activates `files` as version 1.0.0 of "coder":
// the starting point of tests that change a store with a version in service.
inline Result<Store> OpenWithFirstVersion(const std::filesystem::path& root,
                                          const std::vector<TestFile>& files) {
  Result<Store> store = Store::Open(root);
  if (!store) return store.error();
  Result<Staging> staging = store->BeginStaging("coder", "1.0.0");
  if (!staging) return staging.error();
  if (Status s = WriteAllStaged(*staging, files); !s) return s.error();
  if (Status s = store->Activate(std::move(*staging), EntriesOf(files), "m", "s"); !s) {
    return s.error();
  }
  return store;
}

// Stages `files` as `version` of `model` and activates it, with manifest and
// signature bytes that name the version.
inline Status StageAndActivate(Store& store, const std::string& model, const std::string& version,
                               const std::vector<TestFile>& files, int keep = 2) {
  Result<Staging> staging = store.BeginStaging(model, version);
  if (!staging) return staging.error();
  if (Status s = WriteAllStaged(*staging, files); !s) return s;
  return store.Activate(std::move(*staging), EntriesOf(files), "manifest " + version,
                        "signature " + version, keep);
}

// A small model-shaped version whose contents depend on `seed`.
inline std::vector<TestFile> ModelFiles(uint64_t seed) {
  return {{"config.json", RandomBytes(seed, 100)},
          {"model.safetensors", RandomBytes(seed + 1, 70000)},
          {"tokenizer/vocab.json", RandomBytes(seed + 2, 3000)}};
}

// The current version of `model`, as a reader sees it.
inline std::optional<std::string> CurrentOf(const Store& store, const std::string& model) {
  Result<ModelInfo> info = store.Describe(model);
  return info.ok() ? info->current : std::nullopt;
}

// The versions `model` holds, most recently activated first.
inline std::vector<std::string> VersionsOf(const Store& store, const std::string& model) {
  std::vector<std::string> names;
  Result<ModelInfo> info = store.Describe(model);
  if (info.ok()) {
    for (const VersionInfo& v : info->versions) names.push_back(v.version);
  }
  return names;
}

}  // namespace ferry::store::testing
