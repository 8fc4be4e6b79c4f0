#include "operator/rollout_metrics.h"

#include <map>

namespace ferry::operator_ {

namespace {

constexpr api::Phase kPhases[] = {api::Phase::kPending,     api::Phase::kStaging,
                                  api::Phase::kProgressing, api::Phase::kPaused,
                                  api::Phase::kPromoted,    api::Phase::kDegraded,
                                  api::Phase::kAborted,     api::Phase::kRolledBack,
                                  api::Phase::kSuperseded,  api::Phase::kFailed};

}  // namespace

RolloutMetrics::RolloutMetrics(MetricsRegistry& registry)
    : rollouts_(registry.AddGauge("ferry_rollouts", "ModelVersions by phase.", {"phase"})),
      transitions_(registry.AddCounter("ferry_rollout_transitions_total",
                                       "Rollout transitions written to a ModelVersion status.",
                                       {"phase", "reason"})),
      step_durations_(registry.AddHistogram("ferry_rollout_step_duration_seconds",
                                            "How long finished canary steps took.",
                                            ExponentialBuckets(1, 2, 16), {"kind"})) {}

void RolloutMetrics::Recount(const kube::Store& model_versions) {
  std::map<std::string, int> counts;
  for (api::Phase phase : kPhases) counts[std::string(api::PhaseName(phase))] = 0;
  for (const kube::ObjectPtr& object : model_versions.List()) {
    // A ModelVersion the operator has not written yet counts as Pending.
    std::string phase = kube::StringField(kube::ObjectField(*object, "status"), "phase");
    if (!api::ParsePhase(phase)) phase = "Pending";
    ++counts[phase];
  }
  for (const auto& [phase, count] : counts) rollouts_.WithLabels({phase}).Set(count);
}

void RolloutMetrics::ObserveTransition(api::Phase phase, const std::string& reason) {
  transitions_.WithLabels({std::string(api::PhaseName(phase)), reason}).Inc();
}

void RolloutMetrics::ObserveStep(const api::CanaryStep& step,
                                 std::chrono::system_clock::duration took) {
  const char* kind = std::holds_alternative<api::SetWeightStep>(step) ? "setWeight"
                     : std::holds_alternative<api::PauseStep>(step)   ? "pause"
                                                                      : "analysis";
  step_durations_.WithLabels({kind}).Observe(std::chrono::duration<double>(took).count());
}

}  // namespace ferry::operator_
