// An NVML event set, owned: created through an Nvml, freed when this goes.
// Move-only; the Nvml must outlive it.
#pragma once

#include <chrono>
#include <optional>

#include "lib/common/result.h"
#include "lib/gpu/nvml.h"

namespace ferry::gpu {

class NvmlEventSet {
 public:
  // nullopt: this driver cannot make event sets or wait on them (a library
  // without nvmlEventSetCreate or nvmlEventSetWait_v2, or NOT_SUPPORTED).
  static Reading<NvmlEventSet> Create(const Nvml& nvml);

  NvmlEventSet(NvmlEventSet&& other) noexcept;
  NvmlEventSet& operator=(NvmlEventSet&& other) noexcept;
  NvmlEventSet(const NvmlEventSet&) = delete;
  NvmlEventSet& operator=(const NvmlEventSet&) = delete;
  ~NvmlEventSet();

  // Adds `event_types` of `device` to the set. false: the GPU does not
  // deliver them (NOT_SUPPORTED, or a driver without registration).
  Result<bool> Register(nvml::Device device, unsigned long long event_types) const;
  // The next event, or nullopt when none came within `timeout`.
  Result<std::optional<nvml::EventData>> Wait(std::chrono::milliseconds timeout) const;

 private:
  NvmlEventSet(const Nvml& nvml, nvml::EventSet set) : nvml_(&nvml), set_(set) {}

  const Nvml* nvml_;
  nvml::EventSet set_;  // nullptr once moved from
};

}  // namespace ferry::gpu
