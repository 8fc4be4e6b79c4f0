// Whether a GPU is healthy, as a pure function of what NVML said and which
// XIDs were seen: the checks NVIDIA's DCGM health watches and the Kubernetes
// device plugin make. Every rule that fires adds one short reason; the
// reasons come in a fixed order, so the same GPU always reads the same.
//
// Unhealthy (the GPU should not take a new version's pods):
//   NVML not answering for it      "NVML not answering: <error>"
//   uncorrected volatile ECC > 0   "uncorrected ECC errors: <n>"
//   retired pages pending          "retired pages pending" (a driver reload retires them)
//   row remapping pending          "row remapping pending" (a GPU reset applies it)
//   row remapping failed           "row remapping failed"
//   a critical XID                 "critical XID <n>" (+ " (<what it means>)" for well-known ones)
// At risk, still healthy:
//   a hardware clock slowdown      "clocks slowed by hardware: <reason>, ..."
// An application XID (one a faulty program causes, e.g. 13 or 43) is
// recorded but neither unhealthy nor a reason. Unknown values fire nothing.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "lib/gpu/gpu_reading.h"

namespace ferry::gpu {

// XIDs a user program causes (illegal address, MMU fault, reset channel,
// preemptive cleanup, video decoder error): NVIDIA's device plugin skips the
// same ones by default.
inline const std::set<uint64_t> kDefaultApplicationXids = {13, 31, 43, 45, 68};

struct HealthRules {
  // Every other XID seen is critical.
  std::set<uint64_t> application_xids = kDefaultApplicationXids;
};

struct GpuHealth {
  bool healthy = true;
  std::vector<std::string> reasons;
};

// `xids_seen` maps each XID seen on this GPU to how often it was seen.
GpuHealth JudgeGpu(const GpuReading& gpu, const std::map<uint64_t, uint64_t>& xids_seen,
                   const HealthRules& rules);

// The reason for a node where NVML is present but not answering.
std::string NvmlNotAnswering(const std::string& error);

}  // namespace ferry::gpu
