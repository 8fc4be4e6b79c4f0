// What NVML says about this node's GPUs at one moment, before any judgement.
// Every field NVML may be unable to give is optional: nullopt means unknown
// (this GPU or driver does not report it), which is never a health problem by
// itself. Reading a GPU stops at the first call NVML fails to answer; that
// call's error is kept and the fields after it stay unknown.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "lib/common/result.h"
#include "lib/gpu/nvml.h"

namespace ferry::gpu {

struct GpuReading {
  unsigned index = 0;  // NVML device index
  std::optional<std::string> uuid;
  std::optional<std::string> name;
  std::optional<unsigned> temperature_c;
  std::optional<double> power_watts;
  std::optional<uint64_t> memory_used_bytes;
  std::optional<uint64_t> memory_total_bytes;
  std::optional<unsigned> utilization_gpu_percent;     // of the last sample period
  std::optional<unsigned> utilization_memory_percent;  // memory controller busy
  std::optional<uint64_t> ecc_uncorrected_volatile;    // since the driver loaded
  std::optional<uint64_t> ecc_uncorrected_aggregate;   // over the GPU's life
  std::optional<uint64_t> retired_pages;
  std::optional<bool> retired_pages_pending;
  std::optional<bool> remapped_rows_pending;
  std::optional<bool> remapping_failed;
  std::optional<uint64_t> clock_event_reasons;  // NVML's mask
  // Set when NVML stopped answering for this GPU ("nvmlDeviceGetPowerUsage:
  // GPU is lost").
  std::optional<std::string> nvml_error;
};

// NVML itself on this node.
struct NvmlState {
  bool present = false;  // the library loaded
  std::string library;   // the file it loaded from
  // Why NVML is absent (the loader's message), for people; not in the report.
  std::string absent_reason;
  std::optional<std::string> driver_version;
  // NVML is present but does not answer for the node as a whole (init or the
  // device count failed): no GPU can be read.
  std::optional<std::string> error;
};

struct NodeReading {
  NvmlState nvml;
  std::vector<GpuReading> gpus;  // by index
};

// Reads every GPU NVML counts.
NodeReading ReadNode(const Nvml& nvml);

// The reading when Nvml::Open failed with `open_error`: kNotFound means no
// NVML, hence no GPUs; anything else means NVML is there but not answering.
NodeReading ReadingWithoutNvml(const Error& open_error);

}  // namespace ferry::gpu
