// The GPU report as Prometheus metrics, on a registry main() owns. Each
// Publish sets the gauges from one report; the XID counters follow the
// store's counts (they only grow, as the store's do). Every per-GPU series
// is labelled gpu (the NVML index) and uuid. A value NVML does not report
// (unknown) is not exported, rather than exported as 0. Families:
//   ferry_gpu_nvml_present                 1 when libnvidia-ml loaded
//   ferry_gpu_nvml_answering               1 when NVML answers for the node
//   ferry_gpu_healthy{gpu,uuid}            1 healthy, 0 not (health_rules.h)
//   ferry_gpu_temperature_celsius, ferry_gpu_power_watts,
//   ferry_gpu_memory_used_bytes, ferry_gpu_memory_total_bytes,
//   ferry_gpu_utilization_percent, ferry_gpu_memory_utilization_percent
//   ferry_gpu_ecc_uncorrected_errors{gpu,uuid,counter="volatile"|"aggregate"}
//   ferry_gpu_retired_pages, ferry_gpu_retired_pages_pending,
//   ferry_gpu_remapped_rows_pending, ferry_gpu_remapping_failed
//   ferry_gpu_clock_event_reason_active{gpu,uuid,reason}   1 active, 0 not
//   ferry_gpu_xid_critical_total{gpu,uuid,xid}, ferry_gpu_xid_application_total{gpu,uuid,xid}
#pragma once

#include "lib/common/metrics.h"
#include "lib/gpu/gpu_report.h"

namespace ferry::gpu {

class GpuMetrics {
 public:
  explicit GpuMetrics(MetricsRegistry& registry);

  void Publish(const NodeGpuReport& report);

 private:
  GaugeFamily& nvml_present_;
  GaugeFamily& nvml_answering_;
  GaugeFamily& healthy_;
  GaugeFamily& temperature_;
  GaugeFamily& power_;
  GaugeFamily& memory_used_;
  GaugeFamily& memory_total_;
  GaugeFamily& utilization_;
  GaugeFamily& memory_utilization_;
  GaugeFamily& ecc_uncorrected_;
  GaugeFamily& retired_pages_;
  GaugeFamily& retired_pages_pending_;
  GaugeFamily& remapped_rows_pending_;
  GaugeFamily& remapping_failed_;
  GaugeFamily& clock_event_reason_;
  CounterFamily& xid_critical_;
  CounterFamily& xid_application_;
};

}  // namespace ferry::gpu
