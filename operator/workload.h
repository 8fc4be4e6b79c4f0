// What the operator does to the serving workload: points a pod template at
// one version's folder (see naming.h for the marks it sets), builds the
// canary or green Deployment from the user's Deployment, and pins a Service
// to one version's pods. Pure JSON transformations; the reconciler decides
// when to write them.
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
// containers included), the version annotation and label, and a required
// node affinity on ReadyLabel(model, version) ANDed into each of the
// template's own node-selector terms (replacing any earlier Ferry term).
void PointTemplateAt(Json& pod_template, std::string_view model, std::string_view version);
// The version a pod template is pointed at, from its annotation; "" if none.
std::string TemplateVersion(const Json& pod_template);
// Whether PointTemplateAt(model, version) would leave the template as it is.
bool TemplatePointedAt(const Json& pod_template, std::string_view model, std::string_view version);

// A Deployment that runs the new version beside the user's: the canary, or
// the green one of a blue-green rollout.
struct TrackSpec {
  std::string_view track;  // kCanaryTrack or kGreenTrack
  std::string model;
  std::string version;
  int32_t replicas = 0;
  std::map<std::string, std::string> pod_labels;  // canaryMetadata
  std::map<std::string, std::string> pod_annotations;
};

// The track's Deployment for `stable` (the user's Deployment), named
// TrackName(stable, track) and controlled by `owner` (the ModelVersion). Its
// selector and pod labels add ferry.dev/track=<track> to the stable ones.
Json BuildTrackDeployment(const Json& stable, const Json& owner, const TrackSpec& spec);

// Whether `existing` (in the cluster) already is what BuildTrackDeployment
// would make: same replicas, same owner, same template fingerprint.
bool TrackDeploymentMatches(const Json& existing, const Json& wanted);

// The version label value a Service's selector pins, "" when it pins none.
std::string ServicePinnedVersion(const Json& service);
// A merge patch that pins the Service's selector to `version`'s pods, or
// removes the pin when `version` is empty.
Json PinServicePatch(std::string_view version);

// capacity: fixed — the user's Deployment's replicas before the rollout,
// from kFixedReplicasAnnotation, if it carries one.
std::optional<int32_t> FixedReplicas(const Json& deployment);
// Sets its replicas, and the annotation to `original` (removed when absent).
void ScaleWithinCapacity(Json& deployment, int32_t replicas, std::optional<int32_t> original);

// Why the scheduler cannot place `pod` (its PodScheduled condition's
// message), if it says it cannot.
std::optional<std::string> UnschedulableMessage(const Json& pod);

// Replicas that carry `weight` percent of `total`: at least one for any
// weight above 0, never more than total.
int32_t CanaryReplicas(int32_t total, int32_t weight);

}  // namespace ferry::operator_
