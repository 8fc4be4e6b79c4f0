// ModelNode (ferry.dev/v1alpha1, cluster-scoped, one per node), typed: what a
// node must hold (spec, written by the operator) and what it holds and how
// its GPUs are (status, written by the node's agent). docs/crds.md is the
// reference. The operator trusts status.versions only when
// status.observedGeneration equals metadata.generation, and treats a node
// whose heartbeat is older than three heartbeat periods as unavailable.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "lib/api/object_meta.h"

namespace ferry::api {

struct NodeVersionSource {
  std::string repository;
  std::optional<std::string> manifest_digest;
  std::optional<std::string> public_key;
  std::vector<std::string> delta_from;
  bool operator==(const NodeVersionSource&) const = default;
};

struct ModelVersionRef {
  std::string namespace_name;
  std::string name;
  bool operator==(const ModelVersionRef&) const = default;
};

struct NodeVersion {
  std::string version;
  NodeVersionSource source;
  std::optional<ModelVersionRef> model_version_ref;
  bool operator==(const NodeVersion&) const = default;
};

struct NodeModel {
  std::string model;
  std::optional<std::string> active;
  std::vector<NodeVersion> versions;
  bool operator==(const NodeModel&) const = default;

  const NodeVersion* Find(std::string_view version) const;
};

struct ModelNodeSpec {
  std::vector<NodeModel> models;
  bool operator==(const ModelNodeSpec&) const = default;

  const NodeModel* Find(std::string_view model) const;
  Json ToJson() const;
};

enum class VersionState {
  kPending,
  kFetching,
  kStaging,
  kVerifying,
  kReady,
  kActive,
  kFailed,
  kRemoving
};
std::string_view VersionStateName(VersionState state);
std::optional<VersionState> ParseVersionState(std::string_view name);

struct HeldVersion {
  std::string model;
  std::string version;
  VersionState state = VersionState::kPending;
  int64_t bytes = 0;
  int64_t total_bytes = 0;
  int64_t downloaded_bytes = 0;
  std::optional<std::string> delta_from;
  std::optional<std::string> digest;
  std::string message;
  std::optional<TimePoint> last_transition_time;
};

struct GpuStatus {
  int32_t index = 0;
  std::string uuid;
  std::string name;
  bool healthy = true;
  std::vector<std::string> reasons;
  std::vector<int64_t> xid_critical;
};

struct DiskStatus {
  int64_t capacity_bytes = 0;
  int64_t available_bytes = 0;
  int64_t store_bytes = 0;
};

struct ModelNodeStatus {
  int64_t observed_generation = 0;
  std::vector<HeldVersion> versions;
  std::optional<DiskStatus> disk;
  int32_t total_gpus = 0;
  int32_t healthy_gpus = 0;
  std::vector<GpuStatus> gpus;
  std::optional<TimePoint> heartbeat;
  std::optional<int32_t> heartbeat_seconds;
  std::string agent_version;
  std::vector<Condition> conditions;

  const HeldVersion* Find(std::string_view model, std::string_view version) const;
};

struct ModelNode {
  ObjectMeta metadata;
  ModelNodeSpec spec;
  ModelNodeStatus status;

  // The agent has acted on the spec as it is now.
  bool StatusIsCurrent() const { return status.observed_generation == metadata.generation; }
  // Heartbeat within three periods of `now` (a node that never reported is stale).
  bool HeartbeatFresh(TimePoint now) const;
  // Every GPU healthy and the GPUHealthy condition not False.
  bool GpusHealthy() const;
  // The agent reports `version` of `model` verified (Ready or Active).
  bool HoldsReady(std::string_view model, std::string_view version) const;
};

Result<ModelNode> ParseModelNode(const Json& object);

// The period assumed when an agent does not publish heartbeatSeconds.
inline constexpr std::chrono::seconds kDefaultHeartbeatPeriod{10};

}  // namespace ferry::api
