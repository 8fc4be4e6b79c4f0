#include "operator/workload.h"

#include <charconv>

#include "lib/common/sha256.h"
#include "operator/naming.h"

namespace ferry::operator_ {

namespace {

// The canary carries a digest of the template it was built from, so the
// reconciler compares one annotation instead of a template the API server
// has filled with defaults.
constexpr std::string_view kTemplateHashAnnotation = "ferry.dev/template-hash";

void SetEnv(Json& container, std::string_view name, std::string_view value) {
  Json& env = container["env"];
  if (!env.is_array()) env = Json::array();
  for (Json& var : env) {
    if (kube::StringField(var, "name") == name) {
      var = {{"name", name}, {"value", value}};
      return;
    }
  }
  env.push_back({{"name", name}, {"value", value}});
}

void PointContainers(Json& containers, std::string_view model, std::string_view version) {
  if (!containers.is_array()) return;
  for (Json& container : containers) {
    SetEnv(container, kEnvModelPath, VersionPath(model, version));
    SetEnv(container, kEnvModelVersion, version);
  }
}

bool IsFerryExpression(const Json& expression) {
  return kube::StringField(expression, "key").rfind(kReadyLabelPrefix, 0) == 0;
}

void RequireLabel(Json& pod_spec, const std::string& label) {
  Json& terms = pod_spec["affinity"]["nodeAffinity"]
                        ["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"];
  if (!terms.is_array() || terms.empty()) terms = Json::array({Json::object()});
  const Json ours = {{"key", label}, {"operator", "In"}, {"values", {"true"}}};
  for (Json& term : terms) {
    Json& expressions = term["matchExpressions"];
    if (!expressions.is_array()) expressions = Json::array();
    Json kept = Json::array();
    for (const Json& expression : expressions) {
      if (!IsFerryExpression(expression)) kept.push_back(expression);
    }
    kept.push_back(ours);
    expressions = std::move(kept);
  }
}

}  // namespace

void PointTemplateAt(Json& pod_template, std::string_view model, std::string_view version) {
  pod_template["metadata"]["annotations"][std::string(kVersionAnnotation)] = version;
  pod_template["metadata"]["labels"][std::string(kVersionLabel)] = VersionLabelValue(version);
  Json& spec = pod_template["spec"];
  PointContainers(spec["containers"], model, version);
  if (spec.contains("initContainers")) PointContainers(spec["initContainers"], model, version);
  RequireLabel(spec, ReadyLabel(model, version));
}

std::string TemplateVersion(const Json& pod_template) {
  return kube::StringField(
      kube::ObjectField(kube::ObjectField(pod_template, "metadata"), "annotations"),
      kVersionAnnotation);
}

bool TemplatePointedAt(const Json& pod_template, std::string_view model, std::string_view version) {
  Json pointed = pod_template;
  PointTemplateAt(pointed, model, version);
  return pointed == pod_template;
}

Json BuildTrackDeployment(const Json& stable, const Json& owner, const TrackSpec& spec) {
  const std::string& model = spec.model;
  const std::string& version = spec.version;
  const int32_t replicas = spec.replicas;
  const std::string track(spec.track);
  const Json& stable_spec = kube::ObjectField(stable, "spec");
  Json pod_template = kube::ObjectField(stable_spec, "template");
  for (const auto& [key, value] : spec.pod_labels) pod_template["metadata"]["labels"][key] = value;
  for (const auto& [key, value] : spec.pod_annotations) {
    pod_template["metadata"]["annotations"][key] = value;
  }
  pod_template["metadata"]["labels"][std::string(kTrackLabel)] = track;
  pod_template["metadata"]["labels"][std::string(kModelVersionLabel)] = kube::Name(owner);
  PointTemplateAt(pod_template, model, version);

  Json selector = kube::ObjectField(stable_spec, "selector");
  selector["matchLabels"][std::string(kTrackLabel)] = track;

  Json labels = kube::ObjectField(kube::ObjectField(stable, "metadata"), "labels");
  labels[std::string(kTrackLabel)] = track;
  labels[std::string(kModelVersionLabel)] = kube::Name(owner);

  Json canary = {
      {"apiVersion", "apps/v1"},
      {"kind", "Deployment"},
      {"metadata",
       {{"name", TrackName(kube::Name(stable), track)},
        {"namespace", kube::Namespace(stable)},
        {"labels", labels},
        {"annotations",
         {{std::string(kTemplateHashAnnotation), ToHex(Sha256Of(pod_template.dump()))},
          {std::string(kVersionAnnotation), version}}}}},
      {"spec", {{"replicas", replicas}, {"selector", selector}, {"template", pod_template}}}};
  if (stable_spec.contains("strategy")) canary["spec"]["strategy"] = stable_spec["strategy"];
  kube::SetControllerReference(canary, owner);
  return canary;
}

bool TrackDeploymentMatches(const Json& existing, const Json& wanted) {
  auto hash = [](const Json& object) {
    return kube::StringField(
        kube::ObjectField(kube::ObjectField(object, "metadata"), "annotations"),
        kTemplateHashAnnotation);
  };
  auto owner = [](const Json& object) {
    const Json& refs =
        kube::ObjectField(object, "metadata").value("ownerReferences", Json::array());
    return refs.is_array() && !refs.empty() ? kube::StringField(refs[0], "uid") : std::string();
  };
  return hash(existing) == hash(wanted) && owner(existing) == owner(wanted) &&
         kube::IntField(kube::ObjectField(existing, "spec"), "replicas", 1) ==
             kube::IntField(kube::ObjectField(wanted, "spec"), "replicas", 1);
}

std::string ServicePinnedVersion(const Json& service) {
  return kube::StringField(kube::ObjectField(kube::ObjectField(service, "spec"), "selector"),
                           kVersionLabel);
}

Json PinServicePatch(std::string_view version) {
  Json value = version.empty() ? Json(nullptr) : Json(VersionLabelValue(version));
  return {{"spec", {{"selector", {{std::string(kVersionLabel), value}}}}}};
}

std::optional<int32_t> FixedReplicas(const Json& deployment) {
  const std::string text =
      kube::StringField(kube::ObjectField(kube::ObjectField(deployment, "metadata"), "annotations"),
                        kFixedReplicasAnnotation);
  int32_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || error != std::errc() || end != text.data() + text.size() || value < 0) {
    return std::nullopt;
  }
  return value;
}

void ScaleWithinCapacity(Json& deployment, int32_t replicas, std::optional<int32_t> original) {
  deployment["spec"]["replicas"] = replicas;
  Json& annotations = deployment["metadata"]["annotations"];
  if (original) {
    annotations[std::string(kFixedReplicasAnnotation)] = std::to_string(*original);
  } else if (annotations.is_object()) {
    annotations.erase(std::string(kFixedReplicasAnnotation));
    if (annotations.empty()) deployment["metadata"].erase("annotations");
  }
}

std::optional<std::string> UnschedulableMessage(const Json& pod) {
  const Json& conditions = kube::ObjectField(pod, "status").value("conditions", Json::array());
  if (!conditions.is_array()) return std::nullopt;
  for (const Json& condition : conditions) {
    if (kube::StringField(condition, "type") == "PodScheduled" &&
        kube::StringField(condition, "status") == "False" &&
        kube::StringField(condition, "reason") == "Unschedulable") {
      return kube::StringField(condition, "message");
    }
  }
  return std::nullopt;
}

int32_t CanaryReplicas(int32_t total, int32_t weight) {
  if (weight <= 0 || total <= 0) return 0;
  const int64_t share = (static_cast<int64_t>(total) * weight + 99) / 100;
  return static_cast<int32_t>(std::min<int64_t>(std::max<int64_t>(share, 1), total));
}

}  // namespace ferry::operator_
