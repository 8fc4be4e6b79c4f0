// Objects are nlohmann::json as the API server sends them; these helpers read
// and write the parts every controller touches (metadata, owner references,
// conditions) so that no caller spells out the JSON paths by hand. Reading a
// field that is absent gives an empty value, never an exception.
#pragma once

#include <chrono>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "lib/common/utc_time.h"

namespace ferry::kube {

using Json = nlohmann::json;

// Fields of a JSON object read without trusting its shape: absent, null or
// of another type gives the fallback (nlohmann's value() would throw).
std::string StringField(const Json& object, std::string_view key, std::string fallback = "");
int64_t IntField(const Json& object, std::string_view key, int64_t fallback = 0);
bool BoolField(const Json& object, std::string_view key, bool fallback = false);
// The member `key` when it is an object, else an empty object.
const Json& ObjectField(const Json& object, std::string_view key);

std::string Name(const Json& object);
std::string Namespace(const Json& object);
std::string Uid(const Json& object);
std::string ResourceVersionOf(const Json& object);
std::map<std::string, std::string> Labels(const Json& object);
bool IsBeingDeleted(const Json& object);  // has a deletionTimestamp

// The cache and work-queue key: "namespace/name", or "name" when cluster-scoped.
std::string ObjectKey(const Json& object);
std::string ObjectKey(std::string_view namespace_name, std::string_view name);
// Splits a key back into {namespace, name}.
std::pair<std::string, std::string> SplitObjectKey(std::string_view key);

// Makes `owner` the controller of `object` (one owner reference with
// controller: true; garbage collection deletes `object` with its owner).
void SetControllerReference(Json& object, const Json& owner);
// The namespace-local key of the controlling owner of `kind`, if any.
std::optional<std::string> ControllerKeyOf(const Json& object, std::string_view kind);

// One entry of status.conditions, as the API conventions define it.
struct Condition {
  std::string type;
  std::string status;  // "True", "False" or "Unknown"
  std::string reason;  // CamelCase, machine-readable
  std::string message;
  int64_t observed_generation = 0;
};

// Sets `condition` in `status["conditions"]`, adding it when absent. The
// lastTransitionTime moves to `now` only when the condition's status changes,
// so that "since when" survives every reconcile that finds nothing new.
// Returns whether anything in the stored condition changed.
bool SetCondition(Json& status, const Condition& condition,
                  std::chrono::system_clock::time_point now = std::chrono::system_clock::now());
std::optional<Condition> FindCondition(const Json& status, std::string_view type);

}  // namespace ferry::kube
