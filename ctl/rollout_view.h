// What `kubectl ferry status|list|history` print, as pure functions from
// typed objects (and the time "now", for ages) to text, so that every line is
// unit-tested without a cluster. Nothing here reads the cluster, the clock or
// the environment.
//
// Conventions shared by the three views:
// - A step is shown as "done/total", done being status.currentStep (the
//   index of the step in force, which is also the number of steps finished),
//   as `kubectl get mv` and Argo Rollouts show it; the step in force follows
//   by kind: "setWeight 20", "pause", "pause 10m", "analysis <url>".
// - A value the status does not carry yet prints as "-", never as 0, so that
//   "the operator has not said" and "zero" stay apart.
// - Tables are aligned like kubectl's (columns three spaces apart, no
//   trailing blanks); times are RFC 3339 UTC, ages as kubectl writes them.
#pragma once

#include <string>
#include <vector>

#include "lib/api/model_node.h"
#include "lib/api/model_version.h"

namespace ferry::ctl {

// "setWeight 20", "pause", "pause 1h30m", "analysis http://checks/x".
std::string DescribeStep(const api::CanaryStep& step);
// "1/2 (now: pause)", "2/2 (all done)", "-" before the operator set a step,
// "blueGreen" or "no steps" for rollouts without canary steps.
std::string DescribeProgress(const api::ModelVersion& mv);
// kubectl's age: "45s", "5m30s", "12m", "3h15m", "20h", "3d4h", "45d", "2y10d".
std::string HumanAge(api::TimePoint created, api::TimePoint now);
// "42% of 2.9GiB"; "-" when the total is not known yet.
std::string StagingProgress(int64_t bytes, int64_t total_bytes);

// One ModelVersion in detail, with the staging progress of every ModelNode
// that lists this version in its spec or reports it in its status (others in
// `nodes` are ignored, so a caller may pass all of them). Nodes print in name
// order.
std::string RenderStatus(const api::ModelVersion& mv, const std::vector<api::ModelNode>& nodes);

// The `list` table, in the order given; a NAMESPACE column first when
// `all_namespaces`.
std::string RenderList(const std::vector<api::ModelVersion>& versions, bool all_namespaces,
                       api::TimePoint now);

// A block per ModelVersion in the order given (a model's versions in creation
// order, or a single one): name, version, phase, promotedTime, then the
// status.history entries oldest first.
std::string RenderHistory(const std::vector<api::ModelVersion>& versions);

}  // namespace ferry::ctl
