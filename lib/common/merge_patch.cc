#include "lib/common/merge_patch.h"

namespace ferry {

nlohmann::json MergePatchBetween(const nlohmann::json& before, const nlohmann::json& after) {
  if (!before.is_object() || !after.is_object()) {
    return before == after ? nlohmann::json::object() : after;
  }
  nlohmann::json patch = nlohmann::json::object();
  for (const auto& [key, old_value] : before.items()) {
    if (!after.contains(key)) patch[key] = nullptr;
  }
  for (const auto& [key, new_value] : after.items()) {
    auto old_it = before.find(key);
    if (old_it == before.end()) {
      patch[key] = new_value;
    } else if (*old_it != new_value) {
      // A nested object patch; an object replacing a scalar is sent whole.
      patch[key] = old_it->is_object() && new_value.is_object()
                       ? MergePatchBetween(*old_it, new_value)
                       : new_value;
    }
  }
  return patch;
}

}  // namespace ferry
