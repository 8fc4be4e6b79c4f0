// What the operator does to the serving workload: points a pod template at
// one version's folder (see naming.h for the marks it sets), and builds the
// canary Deployment from the user's Deployment. Pure JSON transformations;
// the reconciler decides when to write them.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "lib/kube/object.h"

namespace ferry::operator_ {

using Json = kube::Json;

// Sets FERRY_MODEL_PATH / FERRY_MODEL_VERSION on every container (init
// containers included), the version annotation, and a required node
// affinity on ReadyLabel(model, version) ANDed into each of the template's
// own node-selector terms (replacing any earlier Ferry term).
void PointTemplateAt(Json& pod_template, std::string_view model, std::string_view version);
// The version a pod template is pointed at, from its annotation; "" if none.
std::string TemplateVersion(const Json& pod_template);

struct CanarySpec {
  std::string model;
  std::string version;
  int32_t replicas = 0;
  std::map<std::string, std::string> pod_labels;  // canaryMetadata
  std::map<std::string, std::string> pod_annotations;
};

// The canary Deployment for `stable` (the user's Deployment), controlled by
// `owner` (the ModelVersion). Its selector and pod labels add
// ferry.dev/track=canary to the stable ones.
Json BuildCanary(const Json& stable, const Json& owner, const CanarySpec& canary);

// Whether `existing` (the canary in the cluster) already is what BuildCanary
// would make: same replicas, same owner, same template fingerprint.
bool CanaryMatches(const Json& existing, const Json& wanted);

// Replicas that carry `weight` percent of `total`: at least one for any
// weight above 0, never more than total.
int32_t CanaryReplicas(int32_t total, int32_t weight);

}  // namespace ferry::operator_
