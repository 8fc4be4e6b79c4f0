// Prometheus metrics of the API requests a process makes, so an operator's
// /metrics shows how hard it drives the API server and how often it is
// throttled or refused. One set per registry, shared by every Client of the
// process (ClientOptions::metrics); families:
//   ferry_kube_requests_total{verb, code}        every attempt; code "error" when no answer
//   ferry_kube_request_duration_seconds{verb}    time to the answer
//   ferry_kube_request_retries_total              attempts that were retries
//   ferry_kube_client_throttled_seconds_total     time requests waited for the client's
//                                                 own QPS/burst bucket (--kube-qps)
#pragma once

#include <chrono>
#include <string>

#include "lib/common/metrics.h"

namespace ferry::kube {

class ClientMetrics {
 public:
  explicit ClientMetrics(MetricsRegistry& registry);

  // One attempt of `verb` that ended with HTTP `status` (0: no answer).
  void Observe(const std::string& verb, int status, std::chrono::steady_clock::duration took);
  void CountRetry() { retries_.WithLabels({}).Inc(); }
  void ObserveThrottled(std::chrono::steady_clock::duration waited);

 private:
  CounterFamily& requests_;
  HistogramFamily& durations_;
  CounterFamily& retries_;
  CounterFamily& throttled_;
};

}  // namespace ferry::kube
