#include "lib/kube/enqueue.h"

namespace ferry::kube {

EventHandlers EnqueueMapped(Controller& controller,
                            std::function<std::vector<std::string>(const Json&)> keys_for) {
  auto enqueue = [&controller, keys_for = std::move(keys_for)](const ObjectPtr& object) {
    for (const std::string& key : keys_for(*object)) controller.Enqueue(key);
  };
  return {.on_add = enqueue,
          // Both sides of an update: a child that moved to another owner wakes both.
          .on_update =
              [enqueue](const ObjectPtr& old_object, const ObjectPtr& object) {
                enqueue(old_object);
                enqueue(object);
              },
          .on_delete = enqueue};
}

EventHandlers EnqueueObject(Controller& controller) {
  return EnqueueMapped(controller,
                       [](const Json& object) { return std::vector{ObjectKey(object)}; });
}

EventHandlers EnqueueController(Controller& controller, std::string owner_kind) {
  return EnqueueMapped(controller, [owner_kind = std::move(owner_kind)](const Json& object) {
    std::vector<std::string> keys;
    if (std::optional<std::string> owner = ControllerKeyOf(object, owner_kind)) {
      keys.push_back(std::move(*owner));
    }
    return keys;
  });
}

}  // namespace ferry::kube
