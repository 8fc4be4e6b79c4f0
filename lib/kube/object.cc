#include "lib/kube/object.h"

namespace ferry::kube {
namespace {

const Json* Member(const Json& object, std::string_view key) {
  if (!object.is_object()) return nullptr;
  const auto found = object.find(key);
  return found == object.end() ? nullptr : &*found;
}

std::string StringAt(const Json& object, const char* section, const char* field) {
  return StringField(ObjectField(object, section), field);
}

}  // namespace

std::string StringField(const Json& object, std::string_view key, std::string fallback) {
  const Json* member = Member(object, key);
  return member != nullptr && member->is_string() ? member->get<std::string>() : fallback;
}

int64_t IntField(const Json& object, std::string_view key, int64_t fallback) {
  const Json* member = Member(object, key);
  return member != nullptr && member->is_number_integer() ? member->get<int64_t>() : fallback;
}

bool BoolField(const Json& object, std::string_view key, bool fallback) {
  const Json* member = Member(object, key);
  return member != nullptr && member->is_boolean() ? member->get<bool>() : fallback;
}

const Json& ObjectField(const Json& object, std::string_view key) {
  static const Json kEmpty = Json::object();  // immutable: safe to share
  const Json* member = Member(object, key);
  return member != nullptr && member->is_object() ? *member : kEmpty;
}

std::string Name(const Json& object) { return StringAt(object, "metadata", "name"); }
std::string Namespace(const Json& object) { return StringAt(object, "metadata", "namespace"); }
std::string Uid(const Json& object) { return StringAt(object, "metadata", "uid"); }
std::string ResourceVersionOf(const Json& object) {
  return StringAt(object, "metadata", "resourceVersion");
}

std::map<std::string, std::string> Labels(const Json& object) {
  std::map<std::string, std::string> labels;
  for (const auto& [key, value] : ObjectField(ObjectField(object, "metadata"), "labels").items()) {
    if (value.is_string()) labels.emplace(key, value.get<std::string>());
  }
  return labels;
}

bool IsBeingDeleted(const Json& object) {
  return !StringAt(object, "metadata", "deletionTimestamp").empty();
}

std::string ObjectKey(std::string_view namespace_name, std::string_view name) {
  if (namespace_name.empty()) return std::string(name);
  return std::string(namespace_name) + "/" + std::string(name);
}

std::string ObjectKey(const Json& object) { return ObjectKey(Namespace(object), Name(object)); }

std::pair<std::string, std::string> SplitObjectKey(std::string_view key) {
  const size_t slash = key.find('/');
  if (slash == std::string_view::npos) return {"", std::string(key)};
  return {std::string(key.substr(0, slash)), std::string(key.substr(slash + 1))};
}

void SetControllerReference(Json& object, const Json& owner) {
  Json reference = {{"apiVersion", StringField(owner, "apiVersion")},
                    {"kind", StringField(owner, "kind")},
                    {"name", Name(owner)},
                    {"uid", Uid(owner)},
                    {"controller", true},
                    {"blockOwnerDeletion", true}};
  Json& references = object["metadata"]["ownerReferences"];
  if (!references.is_array()) references = Json::array();
  for (Json& existing : references) {
    if (BoolField(existing, "controller")) {
      existing = reference;
      return;
    }
  }
  references.push_back(std::move(reference));
}

std::optional<std::string> ControllerKeyOf(const Json& object, std::string_view kind) {
  const Json& metadata = ObjectField(object, "metadata");
  const auto references = metadata.find("ownerReferences");
  if (references == metadata.end() || !references->is_array()) return std::nullopt;
  for (const Json& reference : *references) {
    if (BoolField(reference, "controller") && StringField(reference, "kind") == kind) {
      return ObjectKey(Namespace(object), StringField(reference, "name"));
    }
  }
  return std::nullopt;
}

bool SetCondition(Json& status, const Condition& condition,
                  std::chrono::system_clock::time_point now) {
  Json& conditions = status["conditions"];
  if (!conditions.is_array()) conditions = Json::array();
  Json wanted = {{"type", condition.type},
                 {"status", condition.status},
                 {"reason", condition.reason},
                 {"message", condition.message}};
  if (condition.observed_generation != 0) {
    wanted["observedGeneration"] = condition.observed_generation;
  }
  for (Json& existing : conditions) {
    if (StringField(existing, "type") != condition.type) continue;
    wanted["lastTransitionTime"] =
        StringField(existing, "status") == condition.status
            ? StringField(existing, "lastTransitionTime", FormatTime(now))
            : FormatTime(now);
    if (existing == wanted) return false;
    existing = std::move(wanted);
    return true;
  }
  wanted["lastTransitionTime"] = FormatTime(now);
  conditions.push_back(std::move(wanted));
  return true;
}

std::optional<Condition> FindCondition(const Json& status, std::string_view type) {
  if (!status.is_object()) return std::nullopt;
  const auto conditions = status.find("conditions");
  if (conditions == status.end() || !conditions->is_array()) return std::nullopt;
  for (const Json& entry : *conditions) {
    if (StringField(entry, "type") != type) continue;
    return Condition{StringField(entry, "type"), StringField(entry, "status"),
                     StringField(entry, "reason"), StringField(entry, "message"),
                     IntField(entry, "observedGeneration")};
  }
  return std::nullopt;
}

}  // namespace ferry::kube
