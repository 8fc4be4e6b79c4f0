#include "lib/gpu/report_json.h"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "lib/gpu/clock_event_reasons.h"

namespace ferry::gpu {
namespace {

// The bounds crds/modelnode.yaml sets on a gpus[] entry.
constexpr size_t kMaxUuid = 128;
constexpr size_t kMaxName = 256;
constexpr size_t kMaxReasons = 16;
constexpr size_t kMaxReason = 256;
constexpr size_t kMaxXids = 32;
constexpr size_t kMaxThrottleReasons = 16;
constexpr size_t kMaxThrottleReason = 64;

// At most `limit` bytes, never cutting a UTF-8 sequence (the schema counts
// characters, so a byte bound is on the safe side).
std::string Bounded(const std::string& text, size_t limit) {
  if (text.size() <= limit) return text;
  size_t end = limit;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  return text.substr(0, end);
}

nlohmann::ordered_json BoundedStrings(const std::vector<std::string>& items, size_t max_items,
                                      size_t max_length) {
  nlohmann::ordered_json list = nlohmann::ordered_json::array();
  for (size_t i = 0; i < items.size() && i < max_items; ++i) {
    list.push_back(Bounded(items[i], max_length));
  }
  return list;
}

// The schema's int64 and int32 fields, for counters NVML gives as unsigned.
int64_t AsInt64(uint64_t value) {
  return static_cast<int64_t>(std::min<uint64_t>(value, std::numeric_limits<int64_t>::max()));
}
int32_t AsInt32(uint64_t value) {
  return static_cast<int32_t>(std::min<uint64_t>(value, std::numeric_limits<int32_t>::max()));
}

nlohmann::ordered_json BoundedXids(const std::vector<uint64_t>& xids) {
  nlohmann::ordered_json list = nlohmann::ordered_json::array();
  for (size_t i = 0; i < xids.size() && i < kMaxXids; ++i) list.push_back(AsInt32(xids[i]));
  return list;
}

template <typename T>
void PutIfKnown(nlohmann::ordered_json& object, const char* key, const std::optional<T>& value) {
  if (value) object[key] = *value;
}

nlohmann::ordered_json IndexList(const std::vector<unsigned>& indexes) {
  nlohmann::ordered_json list = nlohmann::ordered_json::array();
  for (unsigned index : indexes) list.push_back(index);
  return list;
}

}  // namespace

nlohmann::ordered_json GpuJson(const GpuReport& gpu) {
  const GpuReading& r = gpu.reading;
  nlohmann::ordered_json entry;
  entry["index"] = r.index;
  if (r.uuid) entry["uuid"] = Bounded(*r.uuid, kMaxUuid);
  if (r.name) entry["name"] = Bounded(*r.name, kMaxName);
  entry["healthy"] = gpu.health.healthy;
  entry["reasons"] = BoundedStrings(gpu.health.reasons, kMaxReasons, kMaxReason);
  if (r.ecc_uncorrected_volatile) entry["eccUncorrected"] = AsInt64(*r.ecc_uncorrected_volatile);
  if (r.ecc_uncorrected_aggregate) {
    entry["eccUncorrectedAggregate"] = AsInt64(*r.ecc_uncorrected_aggregate);
  }
  if (r.retired_pages) entry["retiredPages"] = AsInt32(*r.retired_pages);
  PutIfKnown(entry, "retiredPagesPending", r.retired_pages_pending);
  PutIfKnown(entry, "remappedRowsPending", r.remapped_rows_pending);
  PutIfKnown(entry, "remappingFailed", r.remapping_failed);
  entry["xidCritical"] = BoundedXids(gpu.xid_critical);
  entry["xidApplication"] = BoundedXids(gpu.xid_application);
  PutIfKnown(entry, "temperatureC", r.temperature_c);
  PutIfKnown(entry, "powerWatts", r.power_watts);
  if (r.memory_used_bytes) entry["memoryUsedBytes"] = AsInt64(*r.memory_used_bytes);
  if (r.memory_total_bytes) entry["memoryTotalBytes"] = AsInt64(*r.memory_total_bytes);
  PutIfKnown(entry, "utilizationPercent", r.utilization_gpu_percent);
  PutIfKnown(entry, "memoryUtilizationPercent", r.utilization_memory_percent);
  if (r.clock_event_reasons) {
    entry["throttleReasons"] = BoundedStrings(ClockEventReasonNames(*r.clock_event_reasons),
                                              kMaxThrottleReasons, kMaxThrottleReason);
  }
  return entry;
}

nlohmann::ordered_json NodeReportJson(const NodeGpuReport& report) {
  nlohmann::ordered_json out;
  out["nvmlPresent"] = report.nvml.present;
  if (!report.nvml.library.empty()) out["nvmlLibrary"] = report.nvml.library;
  PutIfKnown(out, "driverVersion", report.nvml.driver_version);
  PutIfKnown(out, "nvmlError", report.nvml.error);
  out["gpus"] = nlohmann::ordered_json::array();
  for (const GpuReport& gpu : report.gpus) out["gpus"].push_back(GpuJson(gpu));
  if (report.xid_watcher) {
    const XidWatcherStatus& watcher = *report.xid_watcher;
    nlohmann::ordered_json status;
    status["running"] = watcher.running;
    status["watchedGPUs"] = IndexList(watcher.watched_gpus);
    status["unsupportedGPUs"] = IndexList(watcher.unsupported_gpus);
    status["eventsRecorded"] = report.xid_events_recorded;
    PutIfKnown(status, "error", watcher.error);
    if (watcher.failed_waits > 0) status["failedWaits"] = watcher.failed_waits;
    out["xidWatcher"] = std::move(status);
  }
  return out;
}

}  // namespace ferry::gpu
