#include "lib/kube/client_metrics.h"

namespace ferry::kube {

ClientMetrics::ClientMetrics(MetricsRegistry& registry)
    : requests_(registry.AddCounter("ferry_kube_requests_total",
                                    "Requests sent to the Kubernetes API server, by verb and "
                                    "HTTP status (\"error\" when no answer came).",
                                    {"verb", "code"})),
      durations_(registry.AddHistogram("ferry_kube_request_duration_seconds",
                                       "Time from sending a request to its answer.",
                                       DefaultLatencyBuckets(), {"verb"})),
      retries_(registry.AddCounter("ferry_kube_request_retries_total",
                                   "Requests sent again after a 429, a 5xx or a broken "
                                   "connection.")),
      throttled_(registry.AddCounter("ferry_kube_client_throttled_seconds_total",
                                     "Time requests waited for the client's own rate limit "
                                     "(QPS and burst) before being sent.")) {}

void ClientMetrics::Observe(const std::string& verb, int status,
                            std::chrono::steady_clock::duration took) {
  requests_.WithLabels({verb, status == 0 ? "error" : std::to_string(status)}).Inc();
  durations_.WithLabels({verb}).Observe(std::chrono::duration<double>(took).count());
}

void ClientMetrics::ObserveThrottled(std::chrono::steady_clock::duration waited) {
  throttled_.WithLabels({}).Inc(std::chrono::duration<double>(waited).count());
}

}  // namespace ferry::kube
