// The names Ferry's operator gives what it creates and the marks it puts on
// what it touches: one place, so the operator, the docs and the tests agree.
//
// - A pod is pointed at a version through the environment variables
//   FERRY_MODEL_PATH (/models/<model>/versions/<version>) and
//   FERRY_MODEL_VERSION on every container, and the pod-template annotation
//   ferry.dev/model-version. The user's pods mount the node's store at
//   /models themselves (a hostPath or PVC in their Deployment).
// - A node that holds a version verified carries the label
//   ready.ferry.dev/<model>_<version> = "true" (a hash-named key when that
//   would not fit a label); pods of a version require it through node
//   affinity, so they are never scheduled where the version is missing.
// - Every pod template pointed at a version also carries the label
//   ferry.dev/version=<version> ('+' becomes '_'; a hash when too long), so
//   that a blue-green rollout can pin a Service to one version's pods.
// - The canary Deployment of serving Deployment D is "D-canary"; its pods
//   carry ferry.dev/track=canary and the labels of D's pods, so D's Service
//   selects both and the replica ratio sets the traffic split.
// - The green Deployment of a blue-green rollout is "D-green" (pods labelled
//   ferry.dev/track=green); the active and preview Services select one
//   version through a ferry.dev/version entry the operator adds to their
//   selectors.
// - Under canary.capacity: fixed, the user's Deployment carries the
//   annotation ferry.dev/fixed-replicas with its replicas before the
//   rollout, while the operator trades its pods for canary pods.
#pragma once

#include <string>
#include <string_view>

namespace ferry::operator_ {

inline constexpr std::string_view kFinalizer = "ferry.dev/cleanup";
inline constexpr std::string_view kFieldManager = "ferry-operator";
inline constexpr std::string_view kEnvModelPath = "FERRY_MODEL_PATH";
inline constexpr std::string_view kEnvModelVersion = "FERRY_MODEL_VERSION";
inline constexpr std::string_view kVersionAnnotation = "ferry.dev/model-version";
inline constexpr std::string_view kTrackLabel = "ferry.dev/track";
inline constexpr std::string_view kCanaryTrack = "canary";
inline constexpr std::string_view kGreenTrack = "green";
inline constexpr std::string_view kVersionLabel = "ferry.dev/version";
inline constexpr std::string_view kFixedReplicasAnnotation = "ferry.dev/fixed-replicas";
// On canary pods: the ModelVersion that made them (namespace-local name).
inline constexpr std::string_view kModelVersionLabel = "ferry.dev/model-version-name";
inline constexpr std::string_view kReadyLabelPrefix = "ready.ferry.dev/";

// /models/<model>/versions/<version>
std::string VersionPath(std::string_view model, std::string_view version);
// The node label that says "this node holds model@version verified".
std::string ReadyLabel(std::string_view model, std::string_view version);
// The Deployment that runs the new version beside `deployment`: "<deployment>-<track>".
std::string TrackName(std::string_view deployment, std::string_view track);
std::string CanaryName(std::string_view deployment);
// The value of kVersionLabel for `version`: a valid label value.
std::string VersionLabelValue(std::string_view version);

}  // namespace ferry::operator_
