#include "lib/gpu/report_table.h"

#include <spdlog/fmt/fmt.h>

#include <optional>
#include <string>
#include <vector>

#include "lib/gpu/clock_event_reasons.h"

namespace ferry::gpu {
namespace {

constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;

template <typename T>
std::string Or(const std::optional<T>& value, const char* format) {
  return value ? fmt::format(fmt::runtime(format), *value) : "-";
}

std::string Joined(const std::vector<std::string>& items) {
  if (items.empty()) return "-";
  std::string joined;
  for (const std::string& item : items) joined += (joined.empty() ? "" : "; ") + item;
  return joined;
}

std::string Memory(const GpuReading& gpu) {
  if (!gpu.memory_used_bytes || !gpu.memory_total_bytes) return "-";
  return fmt::format("{:.1f}/{:.1f} GiB", *gpu.memory_used_bytes / kGiB,
                     *gpu.memory_total_bytes / kGiB);
}

}  // namespace

std::string RenderTable(const NodeGpuReport& report) {
  const NvmlState& nvml = report.nvml;
  if (!nvml.present) return "no GPUs (" + nvml.absent_reason + ")\n";
  std::string out = fmt::format("NVML {} ({})", nvml.driver_version.value_or("driver ?"),
                                nvml.library.empty() ? "library ?" : nvml.library);
  if (nvml.error) return out + ": " + NvmlNotAnswering(*nvml.error) + "\n";
  out += fmt::format(": {} GPUs, {} healthy\n", report.gpus.size(), report.healthy_gpus());
  if (report.gpus.empty()) return out;
  out += fmt::format("{:<4}{:<8}{:<26}{:<42}{:<6}{:<9}{:<20}{:<6}{}\n", "GPU", "HEALTHY", "NAME",
                     "UUID", "TEMP", "POWER", "MEMORY", "UTIL", "REASONS / CLOCK EVENTS");
  for (const GpuReport& gpu : report.gpus) {
    const GpuReading& r = gpu.reading;
    std::vector<std::string> notes = gpu.health.reasons;
    if (r.clock_event_reasons) {
      for (const std::string& name : ClockEventReasonNames(*r.clock_event_reasons)) {
        notes.push_back(name);
      }
    }
    out +=
        fmt::format("{:<4}{:<8}{:<26}{:<42}{:<6}{:<9}{:<20}{:<6}{}\n", r.index,
                    gpu.health.healthy ? "yes" : "NO", r.name.value_or("-"), r.uuid.value_or("-"),
                    Or(r.temperature_c, "{}C"), Or(r.power_watts, "{:.1f} W"), Memory(r),
                    Or(r.utilization_gpu_percent, "{}%"), Joined(notes));
  }
  return out;
}

}  // namespace ferry::gpu
