// Prometheus metrics of a process's controllers, so /metrics shows how often
// each reconciles, how long that takes, how often it fails and how much work
// waits. One set per registry, shared by every Controller
// (ControllerOptions::metrics); families, each labelled by controller name:
//   ferry_controller_reconcile_total{controller, result}   result: success, requeue, error
//   ferry_controller_reconcile_duration_seconds{controller}
//   ferry_controller_queue_depth{controller}               keys ready and waiting for a worker
#pragma once

#include <chrono>
#include <string>

#include "lib/common/metrics.h"

namespace ferry::kube {

class ControllerMetrics {
 public:
  explicit ControllerMetrics(MetricsRegistry& registry);

  void ObserveReconcile(const std::string& controller, const char* result,
                        std::chrono::steady_clock::duration took);
  void SetQueueDepth(const std::string& controller, size_t depth);

 private:
  CounterFamily& reconciles_;
  HistogramFamily& durations_;
  GaugeFamily& depth_;
};

}  // namespace ferry::kube
