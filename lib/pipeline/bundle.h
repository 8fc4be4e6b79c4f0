// Offline bundles: a tar holding exactly what moves a store from one version of
// a model to another — the target's signed manifest, the delta chunks for files
// that changed, full chunks for files with no delta — laid out as a repository,
// so `ferryctl pull --bundle` reads it through the same Source interface as a
// folder or HTTP. Nothing in a bundle is trusted: pull verifies it all.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "lib/common/result.h"
#include "lib/fetch/source.h"

namespace ferry {

struct BundleReport {
  uint64_t objects = 0;
  uint64_t bytes = 0;  // of the archive
};

// Writes the bundle that moves a store holding `from` to `to` into `out`
// (through `out`.partial, renamed when complete). On failure nothing is left:
// neither `out` nor `out`.partial.
Result<BundleReport> CreateBundle(const std::filesystem::path& repository, const std::string& model,
                                  const std::string& from, const std::string& to,
                                  const std::filesystem::path& out);

// A Source over a bundle file.
Result<std::unique_ptr<fetch::Source>> OpenBundle(const std::filesystem::path& bundle);

}  // namespace ferry
