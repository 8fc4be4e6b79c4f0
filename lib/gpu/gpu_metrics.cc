#include "lib/gpu/gpu_metrics.h"

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "lib/gpu/clock_event_reasons.h"

namespace ferry::gpu {
namespace {

const std::vector<std::string> kGpuLabels = {"gpu", "uuid"};

template <typename T>
void SetIfKnown(GaugeFamily& family, const std::vector<std::string>& labels,
                const std::optional<T>& value) {
  if (value) family.WithLabels(labels).Set(static_cast<double>(*value));
}

// Brings a counter up to `total` (a count kept elsewhere that only grows).
void CountUpTo(Counter& counter, uint64_t total) {
  const double missing = static_cast<double>(total) - counter.value();
  if (missing > 0) counter.Inc(missing);
}

}  // namespace

GpuMetrics::GpuMetrics(MetricsRegistry& registry)
    : nvml_present_(registry.AddGauge("ferry_gpu_nvml_present",
                                      "1 when the NVIDIA management library (NVML) loaded.")),
      nvml_answering_(registry.AddGauge("ferry_gpu_nvml_answering",
                                        "1 when NVML answers for the node as a whole.")),
      healthy_(registry.AddGauge("ferry_gpu_healthy", "1 when the GPU passes every health rule.",
                                 kGpuLabels)),
      temperature_(
          registry.AddGauge("ferry_gpu_temperature_celsius", "GPU temperature.", kGpuLabels)),
      power_(
          registry.AddGauge("ferry_gpu_power_watts", "Power drawn by the GPU board.", kGpuLabels)),
      memory_used_(registry.AddGauge("ferry_gpu_memory_used_bytes",
                                     "GPU memory allocated or reserved.", kGpuLabels)),
      memory_total_(
          registry.AddGauge("ferry_gpu_memory_total_bytes", "GPU memory installed.", kGpuLabels)),
      utilization_(registry.AddGauge("ferry_gpu_utilization_percent",
                                     "Time a kernel ran in the last sample period.", kGpuLabels)),
      memory_utilization_(registry.AddGauge("ferry_gpu_memory_utilization_percent",
                                            "Time GPU memory was read or written in the last "
                                            "sample period.",
                                            kGpuLabels)),
      ecc_uncorrected_(registry.AddGauge(
          "ferry_gpu_ecc_uncorrected_errors",
          "Uncorrected ECC errors: since the driver loaded (volatile) or over the GPU's life "
          "(aggregate).",
          {"gpu", "uuid", "counter"})),
      retired_pages_(registry.AddGauge("ferry_gpu_retired_pages",
                                       "Memory pages retired for ECC errors.", kGpuLabels)),
      retired_pages_pending_(registry.AddGauge(
          "ferry_gpu_retired_pages_pending",
          "1 when retired pages wait for a driver reload to take effect.", kGpuLabels)),
      remapped_rows_pending_(registry.AddGauge("ferry_gpu_remapped_rows_pending",
                                               "1 when a row remapping waits for a GPU reset.",
                                               kGpuLabels)),
      remapping_failed_(registry.AddGauge("ferry_gpu_remapping_failed",
                                          "1 when a row remapping failed; the GPU needs service.",
                                          kGpuLabels)),
      clock_event_reason_(registry.AddGauge("ferry_gpu_clock_event_reason_active",
                                            "1 while NVML reports this clock event reason.",
                                            {"gpu", "uuid", "reason"})),
      xid_critical_(registry.AddCounter("ferry_gpu_xid_critical_total",
                                        "Critical XID events seen since the agent started.",
                                        {"gpu", "uuid", "xid"})),
      xid_application_(registry.AddCounter(
          "ferry_gpu_xid_application_total",
          "XID events caused by applications (not fatal to the GPU) seen since the agent started.",
          {"gpu", "uuid", "xid"})) {}

void GpuMetrics::Publish(const NodeGpuReport& report) {
  nvml_present_.WithLabels({}).Set(report.nvml.present ? 1 : 0);
  nvml_answering_.WithLabels({}).Set(report.nvml.present && !report.nvml.error ? 1 : 0);
  for (const GpuReport& gpu : report.gpus) {
    const GpuReading& r = gpu.reading;
    const std::vector<std::string> labels = {std::to_string(r.index), r.uuid.value_or("")};
    healthy_.WithLabels(labels).Set(gpu.health.healthy ? 1 : 0);
    SetIfKnown(temperature_, labels, r.temperature_c);
    SetIfKnown(power_, labels, r.power_watts);
    SetIfKnown(memory_used_, labels, r.memory_used_bytes);
    SetIfKnown(memory_total_, labels, r.memory_total_bytes);
    SetIfKnown(utilization_, labels, r.utilization_gpu_percent);
    SetIfKnown(memory_utilization_, labels, r.utilization_memory_percent);
    SetIfKnown(ecc_uncorrected_, {labels[0], labels[1], "volatile"}, r.ecc_uncorrected_volatile);
    SetIfKnown(ecc_uncorrected_, {labels[0], labels[1], "aggregate"}, r.ecc_uncorrected_aggregate);
    SetIfKnown(retired_pages_, labels, r.retired_pages);
    SetIfKnown(retired_pages_pending_, labels, r.retired_pages_pending);
    SetIfKnown(remapped_rows_pending_, labels, r.remapped_rows_pending);
    SetIfKnown(remapping_failed_, labels, r.remapping_failed);
    if (r.clock_event_reasons) {
      // Every named reason, 0 or 1, so a reason that clears shows as 0.
      const std::vector<std::string> all = ClockEventReasonNames(kClocksNamedReasons);
      const std::vector<std::string> active = ClockEventReasonNames(*r.clock_event_reasons);
      for (const std::string& reason : all) {
        const bool on = std::find(active.begin(), active.end(), reason) != active.end();
        clock_event_reason_.WithLabels({labels[0], labels[1], reason}).Set(on ? 1 : 0);
      }
    }
    for (const auto& [xid, count] : gpu.xid_counts) {
      const bool application = std::find(gpu.xid_application.begin(), gpu.xid_application.end(),
                                         xid) != gpu.xid_application.end();
      CountUpTo((application ? xid_application_ : xid_critical_)
                    .WithLabels({labels[0], labels[1], std::to_string(xid)}),
                count);
    }
  }
}

}  // namespace ferry::gpu
