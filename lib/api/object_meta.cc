#include "lib/api/object_meta.h"

#include "lib/common/utc_time.h"

namespace ferry::api {

std::string ObjectMeta::Key() const { return kube::ObjectKey(namespace_name, name); }

Result<std::optional<TimePoint>> OptionalTime(const JsonView& object, std::string_view key) {
  auto text = object.OptionalString(key);
  if (!text) return text.error();
  if (!*text) return std::optional<TimePoint>();
  auto time = ParseTime(**text);
  if (!time) {
    auto member = object.Required(key);
    return member->Invalid("expected an RFC 3339 UTC time, got \"" + **text + "\"");
  }
  return std::optional<TimePoint>(*time);
}

Result<ObjectMeta> ParseObjectMeta(const JsonView& metadata) {
  FirstError first;
  ObjectMeta meta;
  meta.name = first(metadata.RequiredString("name"));
  meta.namespace_name = first(metadata.StringOr("namespace", ""));
  meta.uid = first(metadata.StringOr("uid", ""));
  meta.resource_version = first(metadata.StringOr("resourceVersion", ""));
  meta.generation = first(metadata.IntOr("generation", 0));
  meta.creation_timestamp = first(OptionalTime(metadata, "creationTimestamp"));
  meta.deletion_timestamp = first(OptionalTime(metadata, "deletionTimestamp"));
  meta.labels = first(metadata.StringMapOr("labels"));
  meta.annotations = first(metadata.StringMapOr("annotations"));
  meta.finalizers = first(metadata.StringsOr("finalizers"));
  if (!first.ok()) return first.error();
  return meta;
}

Result<std::vector<Condition>> ParseConditions(const JsonView& status) {
  std::vector<Condition> conditions;
  auto items = status.ItemsOr("conditions");
  if (!items) return items.error();
  for (const JsonView& item : *items) {
    FirstError first;
    Condition condition;
    condition.type = first(item.RequiredString("type"));
    condition.status = first(item.RequiredString("status"));
    condition.reason = first(item.StringOr("reason", ""));
    condition.message = first(item.StringOr("message", ""));
    condition.observed_generation = first(item.IntOr("observedGeneration", 0));
    condition.last_transition_time =
        first(OptionalTime(item, "lastTransitionTime")).value_or(TimePoint{});
    if (!first.ok()) return first.error();
    conditions.push_back(std::move(condition));
  }
  return conditions;
}

Json ConditionsToJson(const std::vector<Condition>& conditions) {
  Json list = Json::array();
  for (const Condition& c : conditions) {
    Json entry = {{"type", c.type},
                  {"status", c.status},
                  {"reason", c.reason.empty() ? "Unknown" : c.reason},
                  {"message", c.message},
                  {"lastTransitionTime", FormatTime(c.last_transition_time)}};
    if (c.observed_generation > 0) entry["observedGeneration"] = c.observed_generation;
    list.push_back(std::move(entry));
  }
  return list;
}

bool SetCondition(std::vector<Condition>& conditions, Condition condition, TimePoint now) {
  for (Condition& existing : conditions) {
    if (existing.type != condition.type) continue;
    condition.last_transition_time =
        existing.status == condition.status ? existing.last_transition_time : now;
    if (existing == condition) return false;
    existing = std::move(condition);
    return true;
  }
  condition.last_transition_time = now;
  conditions.push_back(std::move(condition));
  return true;
}

const Condition* FindCondition(const std::vector<Condition>& conditions, std::string_view type) {
  for (const Condition& c : conditions) {
    if (c.type == type) return &c;
  }
  return nullptr;
}

bool IsConditionTrue(const std::vector<Condition>& conditions, std::string_view type) {
  const Condition* c = FindCondition(conditions, type);
  return c && c->status == "True";
}

}  // namespace ferry::api
