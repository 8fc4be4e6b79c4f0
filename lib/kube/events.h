// Kubernetes Events (events.k8s.io/v1) about an object, so that
// `kubectl describe` and `kubectl events` show users why a rollout paused,
// failed or rolled back. Recording an event is best effort: a refusal is
// returned for the caller to log, never a reason to fail a reconcile.
#pragma once

#include <string>

#include "lib/kube/client.h"

namespace ferry::kube {

enum class EventType { kNormal, kWarning };

class EventRecorder {
 public:
  // `controller` names the reporter ("ferry.dev/operator"); `instance` the
  // replica (pod name), as the events API asks.
  EventRecorder(Client& client, std::string controller, std::string instance);

  // An event regarding `object` (which must carry apiVersion, kind and
  // metadata): `reason` is CamelCase ("Promoted"), `action` what was done
  // ("Promote"), `note` the human sentence. Returns the created Event.
  Result<Json> Record(const Json& object, EventType type, const std::string& reason,
                      const std::string& action, const std::string& note);

 private:
  Client& client_;
  const std::string controller_;
  const std::string instance_;
};

}  // namespace ferry::kube
