// The glue between informers and a controller: event handlers that turn
// "this object changed" into "reconcile this key". A controller watches its
// primary resource with EnqueueObject and the objects it creates with
// EnqueueController, so that a change to a child (a Deployment, a ModelNode)
// wakes the reconcile of its owner. Reconciles are level-based: the handler
// passes only a key, and the reconciler reads the current state from the cache.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "lib/kube/controller.h"
#include "lib/kube/informer.h"

namespace ferry::kube {

// The changed object's own key.
EventHandlers EnqueueObject(Controller& controller);
// The key of the object's controlling owner of `owner_kind` (same namespace),
// if it has one.
EventHandlers EnqueueController(Controller& controller, std::string owner_kind);
// Whatever keys `keys_for` maps the object to (e.g. every ModelVersion whose
// nodeSelector matches a changed Node).
EventHandlers EnqueueMapped(Controller& controller,
                            std::function<std::vector<std::string>(const Json&)> keys_for);

}  // namespace ferry::kube
