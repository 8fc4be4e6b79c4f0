// The parts of metadata every typed Ferry object carries, and the standard
// Condition, read strictly: a field of the wrong type is an error naming its
// path, never a silent default.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "lib/common/json_view.h"
#include "lib/common/result.h"
#include "lib/kube/object.h"

namespace ferry::api {

using Json = kube::Json;
using TimePoint = std::chrono::system_clock::time_point;

struct ObjectMeta {
  std::string name;
  std::string namespace_name;  // empty for cluster-scoped objects
  std::string uid;
  std::string resource_version;
  int64_t generation = 0;
  std::optional<TimePoint> creation_timestamp;
  std::optional<TimePoint> deletion_timestamp;
  std::map<std::string, std::string> labels;
  std::map<std::string, std::string> annotations;
  std::vector<std::string> finalizers;

  // "namespace/name", or "name" when cluster-scoped: the cache key.
  std::string Key() const;
};

Result<ObjectMeta> ParseObjectMeta(const JsonView& metadata);

// metav1.Condition.
struct Condition {
  std::string type;
  std::string status;  // "True", "False", "Unknown"
  std::string reason;  // CamelCase
  std::string message;
  int64_t observed_generation = 0;
  TimePoint last_transition_time{};

  bool operator==(const Condition&) const = default;
};

Result<std::vector<Condition>> ParseConditions(const JsonView& status);
Json ConditionsToJson(const std::vector<Condition>& conditions);
// Sets `condition` in `conditions` (added when absent). The transition time
// moves to `now` only when the status changes, so "since when" survives every
// reconcile that finds nothing new. Returns whether anything changed.
bool SetCondition(std::vector<Condition>& conditions, Condition condition, TimePoint now);
const Condition* FindCondition(const std::vector<Condition>& conditions, std::string_view type);
bool IsConditionTrue(const std::vector<Condition>& conditions, std::string_view type);

// A date-time member: an RFC 3339 UTC string.
Result<std::optional<TimePoint>> OptionalTime(const JsonView& object, std::string_view key);

}  // namespace ferry::api
