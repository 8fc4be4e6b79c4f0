#include "lib/gpu/clock_event_reasons.h"

#include <array>
#include <utility>

namespace ferry::gpu {
namespace {

constexpr std::array<std::pair<uint64_t, std::string_view>, 9> kNames = {{
    {kClocksGpuIdle, "GpuIdle"},
    {kClocksApplicationsClocksSetting, "ApplicationsClocksSetting"},
    {kClocksSwPowerCap, "SwPowerCap"},
    {kClocksHwSlowdown, "HwSlowdown"},
    {kClocksSyncBoost, "SyncBoost"},
    {kClocksSwThermalSlowdown, "SwThermalSlowdown"},
    {kClocksHwThermalSlowdown, "HwThermalSlowdown"},
    {kClocksHwPowerBrakeSlowdown, "HwPowerBrakeSlowdown"},
    {kClocksDisplayClockSetting, "DisplayClockSetting"},
}};

}  // namespace

std::vector<std::string> ClockEventReasonNames(uint64_t mask) {
  std::vector<std::string> names;
  for (int bit = 0; bit < 64; ++bit) {
    const uint64_t value = uint64_t{1} << bit;
    if ((mask & value) == 0) continue;
    std::string name = "Bit" + std::to_string(bit);
    for (const auto& [known, known_name] : kNames) {
      if (known == value) name = known_name;
    }
    names.push_back(std::move(name));
  }
  return names;
}

}  // namespace ferry::gpu
