// <model>/state.json: the model's activations, newest first, each version at
// most once. When no journal is pending, the first entry is the version
// `current` names and the second is where Rollback goes. A version on disk
// that is not listed here is garbage and the sweep deletes it, which makes
// rewriting this file the commit point of a removal. Replaced atomically.
//
// {"format": 1, "activations": [{"version": "1.1.0", "activated_at": "2026-05-01T10:00:00Z"}]}
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "lib/common/result.h"

namespace ferry::store {

struct Activation {
  std::string version;
  std::string activated_at;  // RFC 3339, UTC
  bool operator==(const Activation&) const = default;
};

struct History {
  std::vector<Activation> activations;

  const Activation* Find(std::string_view version) const;
  // Moves `version` to the front (inserting it if new), stamped `activated_at`.
  void RecordActivation(std::string_view version, std::string activated_at);
  void Erase(std::string_view version);
  // Keeps the `keep` most recent activations.
  void Truncate(size_t keep);
  bool operator==(const History&) const = default;
};

// A missing file is an empty history (a model never activated).
Result<History> LoadHistory(const std::filesystem::path& state);
Status SaveHistory(const std::filesystem::path& state, const History& history);

}  // namespace ferry::store
