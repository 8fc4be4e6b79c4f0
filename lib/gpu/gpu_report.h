// The GPU report of one node: what NVML said (NodeReading), the XIDs the
// watcher saw, and the health rules' verdict on each GPU. Rendered as the
// ModelNode's status.gpus[] (report_json.h), a table for people
// (report_table.h) and Prometheus gauges (gpu_metrics.h).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <vector>

#include "lib/gpu/gpu_reading.h"
#include "lib/gpu/health_rules.h"
#include "lib/gpu/xid_store.h"
#include "lib/gpu/xid_watcher.h"

namespace ferry::gpu {

struct GpuReport {
  GpuReading reading;
  std::map<uint64_t, uint64_t> xid_counts;  // every XID seen -> times seen
  std::vector<uint64_t> xid_critical;       // ascending
  std::vector<uint64_t> xid_application;    // ascending; recorded, not fatal
  GpuHealth health;
};

struct NodeGpuReport {
  NvmlState nvml;
  std::vector<GpuReport> gpus;
  std::optional<XidWatcherStatus> xid_watcher;  // when one ran
  uint64_t xid_events_recorded = 0;

  // NVML answered and every GPU is healthy (true with no GPUs at all).
  bool healthy() const;
  int healthy_gpus() const;
};

// `xids` and `watcher` may be null (a one-off report watches nothing).
NodeGpuReport BuildReport(NodeReading reading, const HealthRules& rules,
                          const XidStore* xids = nullptr, const XidWatcher* watcher = nullptr);

}  // namespace ferry::gpu
