#include "lib/gpu/gpu_reading.h"

#include <utility>

namespace ferry::gpu {
namespace {

// Moves a reading's value into `into`; false (with the error kept on `gpu`)
// when NVML did not answer, so the caller stops asking this GPU.
template <typename T>
bool Keep(Reading<T> reading, std::optional<T>& into, GpuReading& gpu) {
  if (!reading.ok()) {
    gpu.nvml_error = reading.error().message;
    return false;
  }
  into = std::move(*reading);
  return true;
}

GpuReading ReadGpu(const Nvml& nvml, unsigned index) {
  GpuReading gpu;
  gpu.index = index;
  Result<nvml::Device> device = nvml.DeviceHandle(index);
  if (!device.ok()) {
    gpu.nvml_error = device.error().message;
    return gpu;
  }
  const nvml::Device handle = *device;
  std::optional<unsigned> milliwatts;
  std::optional<nvml::Memory> memory;
  std::optional<nvml::Utilization> utilization;
  std::optional<RemappedRows> remapped;
  // In this order, the identity first so that a GPU failing later is still
  // named; the first unanswered call ends the reading, keeping what came before.
  [&] {
    if (!Keep(nvml.Uuid(handle), gpu.uuid, gpu)) return;
    if (!Keep(nvml.Name(handle), gpu.name, gpu)) return;
    if (!Keep(nvml.TemperatureC(handle), gpu.temperature_c, gpu)) return;
    if (!Keep(nvml.PowerMilliwatts(handle), milliwatts, gpu)) return;
    if (!Keep(nvml.MemoryInfo(handle), memory, gpu)) return;
    if (!Keep(nvml.UtilizationRates(handle), utilization, gpu)) return;
    if (!Keep(nvml.EccUncorrected(handle, nvml::kVolatileEcc), gpu.ecc_uncorrected_volatile, gpu)) {
      return;
    }
    if (!Keep(nvml.EccUncorrected(handle, nvml::kAggregateEcc), gpu.ecc_uncorrected_aggregate,
              gpu)) {
      return;
    }
    if (!Keep(nvml.RetiredPages(handle), gpu.retired_pages, gpu)) return;
    if (!Keep(nvml.RetiredPagesPending(handle), gpu.retired_pages_pending, gpu)) return;
    if (!Keep(nvml.RemappedRowsInfo(handle), remapped, gpu)) return;
    Keep(nvml.ClockEventReasons(handle), gpu.clock_event_reasons, gpu);
  }();
  if (milliwatts) gpu.power_watts = *milliwatts / 1000.0;
  if (memory) {
    gpu.memory_used_bytes = memory->used;
    gpu.memory_total_bytes = memory->total;
  }
  if (utilization) {
    gpu.utilization_gpu_percent = utilization->gpu;
    gpu.utilization_memory_percent = utilization->memory;
  }
  if (remapped) {
    gpu.remapped_rows_pending = remapped->pending;
    gpu.remapping_failed = remapped->failed;
  }
  return gpu;
}

}  // namespace

NodeReading ReadNode(const Nvml& nvml) {
  NodeReading node;
  node.nvml.present = true;
  node.nvml.library = nvml.library_path();
  Reading<std::string> driver = nvml.DriverVersion();
  if (!driver.ok()) {
    node.nvml.error = driver.error().message;
    return node;
  }
  node.nvml.driver_version = *driver;
  Result<unsigned> count = nvml.DeviceCount();
  if (!count.ok()) {
    node.nvml.error = count.error().message;
    return node;
  }
  for (unsigned index = 0; index < *count; ++index) node.gpus.push_back(ReadGpu(nvml, index));
  return node;
}

NodeReading ReadingWithoutNvml(const Error& open_error) {
  NodeReading node;
  if (open_error.code == ErrorCode::kNotFound) {
    node.nvml.absent_reason = open_error.message;
  } else {
    node.nvml.present = true;
    node.nvml.error = open_error.message;
  }
  return node;
}

}  // namespace ferry::gpu
