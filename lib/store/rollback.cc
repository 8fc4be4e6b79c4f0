// Rollback: `current` goes back to the version activated before it, which
// the keep policy leaves on disk for exactly this. Nothing is copied; it is
// the same journaled switch an activation ends with.
#include "lib/store/current_link.h"
#include "lib/store/history.h"
#include "lib/store/journal.h"
#include "lib/store/recovery.h"
#include "lib/store/store.h"
#include "lib/store/tree.h"

namespace ferry::store {

Result<std::string> Store::Rollback(std::string_view model) {
  const std::string context = "roll back " + std::string(model);
  Result<ModelLayout> layout = ExistingLayout(model);
  if (!layout) return layout.error().Wrap(context);
  Result<ModelLock> lock = LockAndRecover(*layout);
  if (!lock) return lock.error().Wrap(context);
  Result<std::optional<std::string>> current = ReadCurrent(*layout);
  if (!current) return current.error().Wrap(context);
  if (!*current) {
    return MakeError(ErrorCode::kNotFound, context + ": no version is current yet");
  }
  Result<History> history = LoadHistory(layout->state());
  if (!history) return history.error().Wrap(context);

  const Activation* previous = nullptr;
  for (const Activation& a : history->activations) {
    if (a.version != **current) {
      previous = &a;
      break;
    }
  }
  if (previous == nullptr || !IsFolder(layout->version(previous->version))) {
    return MakeError(ErrorCode::kNotFound,
                     context + ": no earlier version is kept (current is " + **current +
                         "); activate with keep >= 2 to keep one for rollback");
  }
  const std::string target = previous->version;
  if (Status s = WriteJournal(layout->journal(), {"rollback", target, std::nullopt}); !s) {
    return s.error().Wrap(context);
  }
  if (Status s = RollForward(*layout, {"rollback", target, std::nullopt}); !s) {
    return MakeError(s.error().code, context + ": " + s.error().message +
                                         " (the switch is journaled: the next ferry run on this "
                                         "model finishes it)");
  }
  return target;
}

}  // namespace ferry::store
