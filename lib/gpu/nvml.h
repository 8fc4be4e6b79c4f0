// NVML, loaded at run time. An Nvml object is the one live session with the
// driver's management library: it dlopen()s libnvidia-ml.so.1 (or the path it
// is given), resolves the entry points Ferry uses, calls nvmlInit_v2, and on
// destruction calls nvmlShutdown and closes the library. main() owns it and
// hands references to whoever reads GPUs; nothing global.
//
// Invariants:
// - An Nvml exists only with NVML initialised; it never moves (readers and the
//   XID watcher hold references to it).
// - Four entry points are required (init, shutdown, device count, device
//   handle); without one the library is refused. Every other one is optional:
//   a function the library lacks, or one that answers NVML_ERROR_NOT_SUPPORTED
//   (or FUNCTION_NOT_FOUND), reads as nullopt ("unknown"), never as an error.
// - Any other failing answer is an Error whose message names the function and
//   NVML's own text ("nvmlDeviceGetPowerUsage: GPU is lost"), code kUnavailable.
// - Calls may come from several threads at once; NVML is thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "lib/common/result.h"
#include "lib/gpu/nvml_api.h"

namespace ferry::gpu {

// What drivers install; the loader's search path finds it.
inline constexpr char kNvmlLibraryName[] = "libnvidia-ml.so.1";

// A value NVML gave, nullopt when it cannot give one on this GPU or driver, or
// the error that says NVML did not answer.
template <typename T>
using Reading = Result<std::optional<T>>;

struct RemappedRows {
  unsigned correctable = 0;
  unsigned uncorrectable = 0;
  bool pending = false;  // waits for a GPU reset
  bool failed = false;   // a remapping failed in the past
};

class Nvml {
  // The entry points; nullptr where the library lacks one.
  struct FunctionTable {
    nvml::InitFn init = nullptr;
    nvml::ShutdownFn shutdown = nullptr;
    nvml::ErrorStringFn error_string = nullptr;
    nvml::SystemGetDriverVersionFn driver_version = nullptr;
    nvml::DeviceGetCountFn device_count = nullptr;
    nvml::DeviceGetHandleByIndexFn device_handle = nullptr;
    nvml::DeviceGetUuidFn uuid = nullptr;
    nvml::DeviceGetNameFn name = nullptr;
    nvml::DeviceGetTemperatureFn temperature = nullptr;
    nvml::DeviceGetPowerUsageFn power_usage = nullptr;
    nvml::DeviceGetMemoryInfoFn memory_info = nullptr;
    nvml::DeviceGetUtilizationRatesFn utilization = nullptr;
    nvml::DeviceGetTotalEccErrorsFn total_ecc_errors = nullptr;
    nvml::DeviceGetRetiredPagesFn retired_pages = nullptr;
    nvml::DeviceGetRetiredPagesPendingStatusFn retired_pages_pending = nullptr;
    nvml::DeviceGetRemappedRowsFn remapped_rows = nullptr;
    nvml::DeviceGetCurrentClocksEventReasonsFn clock_event_reasons = nullptr;
    const char* clock_event_reasons_name = "";  // which of the two names was found
    nvml::EventSetCreateFn event_set_create = nullptr;
    nvml::DeviceRegisterEventsFn register_events = nullptr;
    nvml::DeviceGetSupportedEventTypesFn supported_event_types = nullptr;
    nvml::EventSetWaitFn event_set_wait = nullptr;
    nvml::EventSetFreeFn event_set_free = nullptr;
  };
  struct LibraryCloser {
    void operator()(void* handle) const;
  };
  using LibraryHandle = std::unique_ptr<void, LibraryCloser>;
  // Lets only Open construct, through std::make_unique.
  class Key {
    friend class Nvml;
    Key() = default;
  };

 public:
  // Opens `library` (a file name searched the loader's way, or a path).
  // kNotFound: no such library here, which means no NVIDIA driver and so no
  // GPUs; kUnavailable: the library is there but unusable or NVML does not
  // answer (nvmlInit_v2 failed, e.g. "Driver Not Loaded").
  static Result<std::unique_ptr<Nvml>> Open(const std::string& library = kNvmlLibraryName);

  Nvml(Key, LibraryHandle library, std::string library_path, const FunctionTable& functions);
  ~Nvml();
  Nvml(const Nvml&) = delete;
  Nvml& operator=(const Nvml&) = delete;

  // The file the loader actually opened, to tell the driver's library from
  // another one of the same name.
  const std::string& library_path() const { return library_path_; }

  Reading<std::string> DriverVersion() const;
  Result<unsigned> DeviceCount() const;
  Result<nvml::Device> DeviceHandle(unsigned index) const;

  Reading<std::string> Uuid(nvml::Device device) const;
  Reading<std::string> Name(nvml::Device device) const;
  Reading<unsigned> TemperatureC(nvml::Device device) const;
  Reading<unsigned> PowerMilliwatts(nvml::Device device) const;
  Reading<nvml::Memory> MemoryInfo(nvml::Device device) const;
  Reading<nvml::Utilization> UtilizationRates(nvml::Device device) const;
  // Uncorrected errors, nvml::kVolatileEcc (since the driver loaded) or
  // nvml::kAggregateEcc (over the GPU's life).
  Reading<uint64_t> EccUncorrected(nvml::Device device, int counter_type) const;
  // Pages retired for multiple single-bit and for double-bit errors, together.
  Reading<uint64_t> RetiredPages(nvml::Device device) const;
  Reading<bool> RetiredPagesPending(nvml::Device device) const;
  Reading<RemappedRows> RemappedRowsInfo(nvml::Device device) const;
  // The clock-event reasons mask, through the current entry point or, on
  // drivers before it, the throttle-reasons one it renamed.
  Reading<uint64_t> ClockEventReasons(nvml::Device device) const;
  Reading<uint64_t> SupportedEventTypes(nvml::Device device) const;

  // Event sets, for NvmlEventSet. nullopt from CreateEventSet and
  // RegisterEvents: this driver or GPU does not deliver events.
  Reading<nvml::EventSet> CreateEventSet() const;
  Reading<bool> RegisterEvents(nvml::Device device, unsigned long long event_types,
                               nvml::EventSet set) const;
  // nullopt: nothing arrived within `timeout`.
  Result<std::optional<nvml::EventData>> WaitForEvent(nvml::EventSet set,
                                                      std::chrono::milliseconds timeout) const;
  void FreeEventSet(nvml::EventSet set) const;
  // Whether waiting can work at all (nvmlEventSetWait_v2 is there).
  bool CanWaitForEvents() const { return functions_.event_set_wait != nullptr; }

  // NVML's text for `code` ("GPU is lost"), or "NVML error <code>" when the
  // library has no nvmlErrorString.
  std::string Describe(nvml::Return code) const;

 private:
  static FunctionTable Resolve(void* library);
  // The error for a failed call to `function`.
  Error Failure(const char* function, nvml::Return code) const;
  // One value through an out-parameter, the shape of most NVML queries:
  // `call(&value)` unless the entry point is missing (`present` false).
  template <typename T, typename Call>
  Reading<T> Query(bool present, const char* name, Call call) const;
  // A string out of a fixed buffer NVML fills.
  template <typename Fn>
  Reading<std::string> ReadString(Fn function, const char* name, nvml::Device device,
                                  unsigned buffer_size) const;

  LibraryHandle library_;
  std::string library_path_;
  FunctionTable functions_;
};

}  // namespace ferry::gpu
