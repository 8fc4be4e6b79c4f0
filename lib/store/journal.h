// <model>/journal: the intent to make `version` current, or (op "hold") to
// make a staged version complete without making it current. It is written
// (atomically) once everything the change needs is durable, before the first
// step a reader could see, and removed after the last; whichever writer of the
// model finds it next rolls it forward (recovery.h). So a change, once
// journaled, always completes, and one not yet journaled never shows.
//
// {"format": 1, "op": "activate", "version": "1.1.0", "keep": 2}
// op is "activate" or "rollback" (for people reading it; both roll forward the
// same way) or "hold" (rolled forward without touching `current`); keep,
// present for activations, trims the history.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "lib/common/result.h"

namespace ferry::store {

inline constexpr std::string_view kJournalHold = "hold";

struct Journal {
  std::string op;
  std::string version;
  std::optional<int> keep;

  bool switches_current() const { return op != kJournalHold; }
};

// nullopt when there is no journal: nothing is in flight.
Result<std::optional<Journal>> ReadJournal(const std::filesystem::path& path);
Status WriteJournal(const std::filesystem::path& path, const Journal& journal);
// Removes the journal durably: the change it described is complete.
Status ClearJournal(const std::filesystem::path& path);

}  // namespace ferry::store
