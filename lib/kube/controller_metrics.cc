#include "lib/kube/controller_metrics.h"

namespace ferry::kube {

ControllerMetrics::ControllerMetrics(MetricsRegistry& registry)
    : reconciles_(registry.AddCounter("ferry_controller_reconcile_total",
                                      "Reconciles by controller and outcome (success, requeue, "
                                      "error).",
                                      {"controller", "result"})),
      durations_(registry.AddHistogram("ferry_controller_reconcile_duration_seconds",
                                       "Time one reconcile took.", DefaultLatencyBuckets(),
                                       {"controller"})),
      depth_(registry.AddGauge("ferry_controller_queue_depth",
                               "Keys ready to reconcile and waiting for a worker.",
                               {"controller"})) {}

void ControllerMetrics::ObserveReconcile(const std::string& controller, const char* result,
                                         std::chrono::steady_clock::duration took) {
  reconciles_.WithLabels({controller, result}).Inc();
  durations_.WithLabels({controller}).Observe(std::chrono::duration<double>(took).count());
}

void ControllerMetrics::SetQueueDepth(const std::string& controller, size_t depth) {
  depth_.WithLabels({controller}).Set(static_cast<double>(depth));
}

}  // namespace ferry::kube
