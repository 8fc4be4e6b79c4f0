#include "lib/gpu/health_rules.h"

#include <string_view>
#include <utility>

#include "lib/gpu/clock_event_reasons.h"

namespace ferry::gpu {
namespace {

// The XIDs an operator meets most, from NVIDIA's XID catalogue, so the
// reason says what to look at without a trip to the documentation.
std::string_view XidMeaning(uint64_t xid) {
  switch (xid) {
    case 48:
      return "double-bit ECC error";
    case 63:
      return "ECC page retirement or row remapping recorded";
    case 64:
      return "ECC page retirement or row remapping failed";
    case 74:
      return "NVLink error";
    case 79:
      return "GPU fell off the bus";
    case 92:
      return "high single-bit ECC error rate";
    case 94:
      return "contained ECC error";
    case 95:
      return "uncontained ECC error";
    case 119:
      return "GSP RPC timeout";
    case 120:
      return "GSP error";
    default:
      return "";
  }
}

std::string CriticalXidReason(uint64_t xid) {
  std::string reason = "critical XID " + std::to_string(xid);
  if (const std::string_view meaning = XidMeaning(xid); !meaning.empty()) {
    reason += " (" + std::string(meaning) + ")";
  }
  return reason;
}

}  // namespace

std::string NvmlNotAnswering(const std::string& error) { return "NVML not answering: " + error; }

GpuHealth JudgeGpu(const GpuReading& gpu, const std::map<uint64_t, uint64_t>& xids_seen,
                   const HealthRules& rules) {
  GpuHealth health;
  auto unhealthy = [&](std::string reason) {
    health.healthy = false;
    health.reasons.push_back(std::move(reason));
  };
  if (gpu.nvml_error) unhealthy(NvmlNotAnswering(*gpu.nvml_error));
  if (gpu.ecc_uncorrected_volatile.value_or(0) > 0) {
    unhealthy("uncorrected ECC errors: " + std::to_string(*gpu.ecc_uncorrected_volatile));
  }
  if (gpu.retired_pages_pending.value_or(false)) unhealthy("retired pages pending");
  if (gpu.remapped_rows_pending.value_or(false)) unhealthy("row remapping pending");
  if (gpu.remapping_failed.value_or(false)) unhealthy("row remapping failed");
  for (const auto& [xid, count] : xids_seen) {
    if (!rules.application_xids.contains(xid)) unhealthy(CriticalXidReason(xid));
  }
  if (const uint64_t slowdowns = gpu.clock_event_reasons.value_or(0) & kClocksHardwareSlowdowns) {
    std::string reason = "clocks slowed by hardware: ";
    const std::vector<std::string> names = ClockEventReasonNames(slowdowns);
    for (size_t i = 0; i < names.size(); ++i) reason += (i == 0 ? "" : ", ") + names[i];
    health.reasons.push_back(std::move(reason));
  }
  return health;
}

}  // namespace ferry::gpu
