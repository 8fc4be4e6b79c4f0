// The rollout of one ModelVersion as a step machine, after Argo Rollouts: the
// position lives in the status (phase, currentStep, stepStartTime), so any
// replica, restarted at any moment, continues from what the cluster shows.
// Decide is a pure function from what the reconciler observed to the status
// it should write and the workload it should arrange; it makes at most one
// transition per call (each one lands in status.history once), and the
// reconciler calls it again after writing.
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
  std::optional<api::DeploymentProgress> canary;
  // A node running canary pods became unhealthy (message names it).
  std::optional<std::string> canary_node_failure;
};

struct Event {
  bool warning = false;
  std::string reason;
  std::string message;
};

struct Decision {
  api::ModelVersionStatus status;
  // The canary Deployment's replicas; 0 removes it.
  int32_t canary_replicas = 0;
  // The version the user's Deployment must be pointed at, when it must move:
  // this one on promotion, the stable one when a promotion is rolled back.
  std::optional<std::string> point_stable_at;
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
