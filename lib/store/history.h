// <model>/state.json: the model's activations, newest first, each version at
// most once, and the versions staged complete but never activated (the agent
// stages a version on every node before the operator asks for it). When no
// journal is pending, the first activation is the version `current` names and
// the second is where Rollback goes. A version on disk listed in neither is
// garbage and the sweep deletes it, which makes rewriting this file the commit
// point of a removal. Replaced atomically.
//
// {"format": 1, "activations": [{"version": "1.1.0", "activated_at": "2026-05-01T10:00:00Z"}],
//  "staged": [{"version": "1.2.0", "staged_at": "2026-05-02T09:00:00Z"}]}
// "staged" is optional, so a store that never staged without activating
// reads as before.
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

// A complete version that has never been current.
struct StagedVersion {
  std::string version;
  std::string staged_at;  // RFC 3339, UTC
  bool operator==(const StagedVersion&) const = default;
};

struct History {
  std::vector<Activation> activations;
  std::vector<StagedVersion> staged;  // oldest first

  const Activation* Find(std::string_view version) const;
  bool IsStaged(std::string_view version) const;
  // Moves `version` to the front (inserting it if new), stamped `activated_at`;
  // it is no longer merely staged.
  void RecordActivation(std::string_view version, std::string activated_at);
  // Lists `version` as staged, unless it was activated before (then it stays
  // where it is in the activations).
  void RecordStaged(std::string_view version, std::string staged_at);
  // Drops `version` from both lists.
  void Erase(std::string_view version);
  // Keeps the `keep` most recent activations; staged versions are not counted.
  void Truncate(size_t keep);
  bool operator==(const History&) const = default;
};

// A missing file is an empty history (a model never activated).
Result<History> LoadHistory(const std::filesystem::path& state);
Status SaveHistory(const std::filesystem::path& state, const History& history);

}  // namespace ferry::store
