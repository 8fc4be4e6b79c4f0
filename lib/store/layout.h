// Where a model's pieces live under the store root: the on-disk contract that
// docs/store.md describes. Nothing else in the store builds these paths, and
// every name given to them has passed lib/common/names.h first.
//
//   <root>/<model>/versions/<version>/   complete versions (read-only)
//   <root>/<model>/meta/<version>/       manifest.json, manifest.sig, files.json
//   <root>/<model>/staging/<version>/    versions being built
//   <root>/<model>/staging/.<version>.cache/     objects fetched for that version
//   <root>/<model>/trash/                versions being deleted
//   <root>/<model>/{current,state.json,journal,.lock}
//
// Store-made names inside versions/, meta/, staging/ and trash/ start with '.',
// which no version name can, so they never collide.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace ferry::store {

struct ModelLayout {
  std::filesystem::path root;
  std::string model;

  std::filesystem::path dir() const { return root / model; }
  std::filesystem::path versions() const { return dir() / "versions"; }
  std::filesystem::path version(std::string_view v) const { return versions() / v; }
  std::filesystem::path meta() const { return dir() / "meta"; }
  std::filesystem::path meta(std::string_view v) const { return meta() / v; }
  std::filesystem::path manifest(std::string_view v) const { return meta(v) / "manifest.json"; }
  std::filesystem::path signature(std::string_view v) const { return meta(v) / "manifest.sig"; }
  std::filesystem::path files_json(std::string_view v) const { return meta(v) / "files.json"; }
  std::filesystem::path staging() const { return dir() / "staging"; }
  std::filesystem::path staging(std::string_view v) const { return staging() / v; }
  std::filesystem::path cache(std::string_view v) const {
    return staging() / ("." + std::string(v) + ".cache");
  }
  std::filesystem::path trash() const { return dir() / "trash"; }
  std::filesystem::path current() const { return dir() / "current"; }
  std::filesystem::path state() const { return dir() / "state.json"; }
  std::filesystem::path journal() const { return dir() / "journal"; }
  std::filesystem::path lock() const { return dir() / ".lock"; }
};

}  // namespace ferry::store
