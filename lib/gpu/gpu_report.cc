#include "lib/gpu/gpu_report.h"

#include <algorithm>
#include <utility>

namespace ferry::gpu {

bool NodeGpuReport::healthy() const {
  return !nvml.error && healthy_gpus() == static_cast<int>(gpus.size());
}

int NodeGpuReport::healthy_gpus() const {
  return static_cast<int>(std::count_if(gpus.begin(), gpus.end(),
                                        [](const GpuReport& gpu) { return gpu.health.healthy; }));
}

NodeGpuReport BuildReport(NodeReading reading, const HealthRules& rules, const XidStore* xids,
                          const XidWatcher* watcher) {
  NodeGpuReport report;
  report.nvml = std::move(reading.nvml);
  if (watcher != nullptr) report.xid_watcher = watcher->status();
  if (xids != nullptr) report.xid_events_recorded = xids->recorded();
  for (GpuReading& gpu_reading : reading.gpus) {
    GpuReport gpu;
    if (xids != nullptr) gpu.xid_counts = xids->CountsFor(gpu_reading.index);
    for (const auto& [xid, count] : gpu.xid_counts) {
      (rules.application_xids.contains(xid) ? gpu.xid_application : gpu.xid_critical)
          .push_back(xid);
    }
    gpu.health = JudgeGpu(gpu_reading, gpu.xid_counts, rules);
    gpu.reading = std::move(gpu_reading);
    report.gpus.push_back(std::move(gpu));
  }
  return report;
}

}  // namespace ferry::gpu
