// Removing a version that is not current. Dropping it from state.json is the
// commit point: from then on it is garbage, and the sweep (here, or in the
// next writer's recovery if this one is killed) deletes it by way of trash/.
#include "lib/common/names.h"
#include "lib/store/current_link.h"
#include "lib/store/history.h"
#include "lib/store/recovery.h"
#include "lib/store/store.h"
#include "lib/store/tree.h"

namespace ferry::store {

Status Store::Remove(std::string_view model, std::string_view version) {
  const std::string context = "remove " + std::string(model) + " " + std::string(version);
  Result<ModelLayout> layout = ExistingLayout(model);
  if (!layout) return layout.error().Wrap(context);
  if (Status s = ValidateVersion(version); !s) return s.error().Wrap(context);
  Result<ModelLock> lock = LockAndRecover(*layout);
  if (!lock) return lock.error().Wrap(context);
  Result<std::optional<std::string>> current = ReadCurrent(*layout);
  if (!current) return current.error().Wrap(context);
  if (*current == version) {
    return MakeError(ErrorCode::kInvalidArgument,
                     context + ": it is the current version; roll back or activate another first");
  }
  if (!IsFolder(layout->version(version))) {
    return MakeError(ErrorCode::kNotFound, context + ": no such version in the store");
  }
  Result<History> history = LoadHistory(layout->state());
  if (!history) return history.error().Wrap(context);
  history->Erase(version);
  if (Status s = SaveHistory(layout->state(), *history); !s) return s.error().Wrap(context);
  if (Status s = Sweep(*layout); !s) return s.error().Wrap(context);
  return OkStatus();
}

}  // namespace ferry::store
