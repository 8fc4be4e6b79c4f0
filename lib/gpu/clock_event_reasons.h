// NVML's clock-event (formerly "throttle") reasons: a bit mask saying why the
// GPU runs below its top clocks, turned into the names NVML gives the bits
// (without the nvmlClocksEventReason prefix), as docs/crds.md lists them.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ferry::gpu {

// The bits documented in NVML's NvmlClocksEventReasons group.
inline constexpr uint64_t kClocksGpuIdle = 0x1;
inline constexpr uint64_t kClocksApplicationsClocksSetting = 0x2;
inline constexpr uint64_t kClocksSwPowerCap = 0x4;
inline constexpr uint64_t kClocksHwSlowdown = 0x8;
inline constexpr uint64_t kClocksSyncBoost = 0x10;
inline constexpr uint64_t kClocksSwThermalSlowdown = 0x20;
inline constexpr uint64_t kClocksHwThermalSlowdown = 0x40;
inline constexpr uint64_t kClocksHwPowerBrakeSlowdown = 0x80;
inline constexpr uint64_t kClocksDisplayClockSetting = 0x100;

// Every bit above: the reasons that have names.
inline constexpr uint64_t kClocksNamedReasons = 0x1FF;

// The hardware slowdowns (clocks cut by half or more): a GPU at risk.
inline constexpr uint64_t kClocksHardwareSlowdowns =
    kClocksHwSlowdown | kClocksHwThermalSlowdown | kClocksHwPowerBrakeSlowdown;

// The names of the bits set in `mask`, lowest bit first. A bit newer than
// this list reads "Bit<n>" (e.g. "Bit9"), so it is still seen.
std::vector<std::string> ClockEventReasonNames(uint64_t mask);

}  // namespace ferry::gpu
