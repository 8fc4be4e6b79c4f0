// ModelVersion (ferry.dev/v1alpha1), typed: one version of one model and the
// rollout that brings it to the nodes and to live traffic. docs/crds.md is the
// reference for every field; the API server has already enforced the CRD's
// schema and CEL rules, so parsing here refuses only what a schema cannot
// express or what a hand-made object (a test, an older CRD) may still carry,
// and names the failing path ("spec.strategy.canary.steps[2].pause.duration").
//
// The status renders itself as JSON; the operator writes the difference
// between the status it read and the one it wants as a merge patch (see
// StatusPatch), so that fields a user writes (promote, abort) are only
// touched when the operator means to.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "lib/api/object_meta.h"

namespace ferry::api {

enum class Phase {
  kPending,
  kStaging,
  kProgressing,
  kPaused,
  kPromoted,
  kDegraded,
  kAborted,
  kRolledBack,
  kSuperseded,
  kFailed,
};
std::string_view PhaseName(Phase phase);
std::optional<Phase> ParsePhase(std::string_view name);
// Phases a rollout does not leave by itself.
bool IsFinished(Phase phase);

struct SecretKeyRef {
  std::string name;
  std::string key = "public.key";
};

struct VersionSource {
  std::string repository;
  std::optional<std::string> manifest_digest;
  std::optional<SecretKeyRef> public_key_secret;
  std::vector<std::string> delta_from;
};

struct Adapter {
  std::string name;
  std::string path;
};

struct StagingPolicy {
  int32_t max_concurrent_nodes = 4;
  int32_t min_ready_nodes = 1;
};

struct Serving {
  std::string deployment;
  std::optional<std::string> service;
  std::optional<std::string> route;
};

struct SetWeightStep {
  int32_t weight = 0;
};
struct PauseStep {
  std::optional<std::chrono::seconds> duration;  // absent: wait for promote
};
struct WebhookAnalysis {
  std::string url;
  int32_t timeout_seconds = 30;
};
struct AnalysisStep {
  WebhookAnalysis webhook;
};
using CanaryStep = std::variant<SetWeightStep, PauseStep, AnalysisStep>;

enum class Capacity { kSurge, kFixed };

struct CanaryStrategy {
  std::vector<CanaryStep> steps;
  Capacity capacity = Capacity::kSurge;
  int32_t progress_deadline_seconds = 600;
  // Added to the canary pods only (canaryMetadata).
  std::map<std::string, std::string> pod_labels;
  std::map<std::string, std::string> pod_annotations;
};

struct BlueGreenStrategy {
  std::optional<std::string> preview_service;
  std::optional<int32_t> auto_promotion_seconds;  // absent: wait for promote
  int32_t scale_down_delay_seconds = 30;
  int32_t progress_deadline_seconds = 600;  // for the green pods, and for the final move
};

using Strategy = std::variant<CanaryStrategy, BlueGreenStrategy>;

struct RollbackPolicy {
  bool on_failure = true;
  int32_t keep_versions = 2;
};

struct ModelVersionSpec {
  std::string model;
  std::string version;
  VersionSource source;
  std::vector<Adapter> adapters;
  std::map<std::string, std::string> node_selector;
  StagingPolicy staging;
  std::optional<Serving> serving;
  std::optional<Strategy> strategy;
  RollbackPolicy rollback;

  const CanaryStrategy* canary() const {
    return strategy ? std::get_if<CanaryStrategy>(&*strategy) : nullptr;
  }
  const BlueGreenStrategy* blue_green() const {
    return strategy ? std::get_if<BlueGreenStrategy>(&*strategy) : nullptr;
  }
};

enum class PromoteRequest { kStep, kFull };

struct NodeCounts {
  int32_t desired = 0;
  int32_t ready = 0;
  int32_t failed = 0;
  bool operator==(const NodeCounts&) const = default;
};

struct HistoryEntry {
  TimePoint time{};
  Phase phase = Phase::kPending;
  std::optional<int32_t> step;
  std::optional<int32_t> weight;
  std::string reason;
  std::string message;
  bool operator==(const HistoryEntry&) const = default;
};

inline constexpr size_t kMaxHistory = 32;

struct ModelVersionStatus {
  std::optional<Phase> phase;
  int64_t observed_generation = 0;
  std::optional<int32_t> current_step;
  std::optional<TimePoint> step_start_time;
  std::optional<int32_t> canary_weight;
  std::optional<std::string> stable_version;
  std::optional<TimePoint> promoted_time;
  std::optional<NodeCounts> nodes;
  std::vector<Condition> conditions;
  std::optional<PromoteRequest> promote;  // written by users
  bool abort = false;                     // written by users
  std::string message;
  std::vector<HistoryEntry> history;

  Json ToJson() const;
  // Appends to history, dropping the oldest beyond kMaxHistory.
  void Record(HistoryEntry entry);
};

struct ModelVersion {
  ObjectMeta metadata;
  ModelVersionSpec spec;
  ModelVersionStatus status;
};

Result<ModelVersion> ParseModelVersion(const Json& object);
Result<ModelVersionSpec> ParseModelVersionSpec(const JsonView& spec);
Result<ModelVersionStatus> ParseModelVersionStatus(const JsonView& status);

// "1h30m", "10m", "45s" (the CRD's pattern); kInvalidArgument otherwise.
Result<std::chrono::seconds> ParseDuration(std::string_view text);

// The merge patch that turns status `before` into `after` on the status
// subresource, carrying `resource_version` as a precondition: fields that did
// not change are left out (so a promote a user wrote meanwhile is not
// overwritten unless the operator clears it), removed ones become null.
Json StatusPatch(const ModelVersionStatus& before, const ModelVersionStatus& after,
                 const std::string& resource_version);

}  // namespace ferry::api
