// The rollout of one ModelVersion as a step machine, after Argo Rollouts: the
// position lives in the status (phase, currentStep, stepStartTime), so any
// replica, restarted at any moment, continues from what the cluster shows.
// Decide is a pure function from what the reconciler observed to the status
// it should write and the workload it should arrange; it makes at most one
// transition per call (each one lands in status.history once), and the
// reconciler calls it again after writing.
//
// A blue-green rollout runs the same phases through four implicit steps
// (kBlueGreen*): green comes up, waits for promotion, takes the traffic for
// the scale-down delay, then the user's Deployment moves to the version.
//
// Phases (docs/crds.md):
//   Pending -> Staging -> Progressing <-> Paused -> Promoted <-> Degraded
//   any unfinished phase -> Aborted (status.abort) -> Staging (abort cleared: retry from step 0)
//   failure -> RolledBack (rollback.onFailure) | Failed
//   Promoted/Degraded -> Superseded (a later version promoted)
//   unpromoted -> Superseded (a newer version of the model applied meanwhile)
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "lib/api/model_version.h"
#include "lib/api/workload.h"

namespace ferry::operator_ {

struct Observed {
  api::TimePoint now{};
  // Another ModelVersion of the model that serves now (latest promoted).
  std::optional<std::string> stable_version;
  // Why this ModelVersion no longer rolls out, if it does not ("superseded by ...").
  std::optional<std::string> superseded_by;
  // A problem the user must fix before anything moves (missing Deployment or
  // Secret, conflicting digest): reason and message.
  std::optional<std::pair<std::string, std::string>> blocked;

  api::NodeCounts nodes;
  std::string staging_summary;  // "2/3 nodes ready, 1 staging"
  std::optional<std::string> staging_failure;

  // The user's Deployment (when spec.serving is set and it exists).
  std::optional<api::DeploymentProgress> stable;
  std::string stable_points_at;  // the version its pod template is pointed at
  // Its template carries every mark of stable_points_at (the version label
  // a blue-green rollout pins the active Service on among them).
  bool stable_template_pointed = false;
  // capacity: fixed — its replicas before the rollout traded any away.
  std::optional<int32_t> fixed_replicas;
  // Another ModelVersion of the model rolls out now (and owns the
  // Deployment's replicas).
  bool other_rollout_running = false;
  // The new version's Deployment: the canary, or blue-green's green one.
  std::optional<api::DeploymentProgress> canary;
  // A node running canary pods became unhealthy (message names it).
  std::optional<std::string> canary_node_failure;
  // A new-version pod the scheduler cannot place (its message).
  std::optional<std::string> pods_unschedulable;
};

// The positions of a blue-green rollout in status.currentStep.
inline constexpr int32_t kBlueGreenPreview = 0;     // green comes up beside blue
inline constexpr int32_t kBlueGreenAwaiting = 1;    // green ready: waits for promotion
inline constexpr int32_t kBlueGreenSwitched = 2;    // traffic on green; blue kept for the delay
inline constexpr int32_t kBlueGreenMoveStable = 3;  // the user's Deployment moves to the version

struct Event {
  bool warning = false;
  std::string reason;
  std::string message;
};

// capacity: fixed — the user's Deployment's replicas now, and the replicas
// it had before the rollout (kept on it in an annotation; absent: drop it).
struct StableScale {
  int32_t replicas = 0;
  std::optional<int32_t> original;
};

struct Decision {
  api::ModelVersionStatus status;
  // The new version's Deployment's replicas (the canary's, or blue-green's
  // green one's); 0 scales it down and then removes it.
  int32_t canary_replicas = 0;
  // The version the user's Deployment must be pointed at, when it must move:
  // this one on promotion, the stable one when a promotion is rolled back.
  std::optional<std::string> point_stable_at;
  std::optional<StableScale> stable_scale;
  // The version the active Service (spec.serving.service) and the preview
  // Service must select; "" removes the pin. Absent: leave them as they are.
  std::optional<std::string> active_service_version;
  std::optional<std::string> preview_service_version;
  std::optional<std::chrono::milliseconds> requeue_after;
  std::vector<Event> events;
};

api::ModelVersionStatus InitialStatus();
// Failed for a reason that goes away by itself once the user creates what
// was missing (a Deployment, a Secret, its key): such a rollout resumes.
bool IsResumableFailure(const api::ModelVersionStatus& status);
Decision Decide(const api::ModelVersion& mv, const Observed& observed);

// The canary weight in force at `step`: the last setWeight at or before it.
int32_t WeightAt(const std::vector<api::CanaryStep>& steps, size_t step);

}  // namespace ferry::operator_
