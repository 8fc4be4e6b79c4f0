// The operator's own Prometheus metrics, beside the client's (API requests)
// and the controller's (reconciles, errors, queue depth):
//   ferry_rollouts{phase}                         ModelVersions by phase, recounted from the cache
//   ferry_rollout_transitions_total{phase,reason} every transition written to a status
//   ferry_rollout_step_duration_seconds{kind}     how long finished steps took
//                                                 (setWeight, pause, analysis)
// Thread-safe: recording is lock-free (lib/common/metrics.h).
#pragma once

#include <chrono>
#include <string>

#include "lib/api/model_version.h"
#include "lib/common/metrics.h"
#include "lib/kube/store.h"

namespace ferry::operator_ {

class RolloutMetrics {
 public:
  explicit RolloutMetrics(MetricsRegistry& registry);

  // Sets ferry_rollouts from every ModelVersion in `model_versions`.
  void Recount(const kube::Store& model_versions);
  void ObserveTransition(api::Phase phase, const std::string& reason);
  void ObserveStep(const api::CanaryStep& step, std::chrono::system_clock::duration took);

 private:
  GaugeFamily& rollouts_;
  CounterFamily& transitions_;
  HistogramFamily& step_durations_;
};

}  // namespace ferry::operator_
