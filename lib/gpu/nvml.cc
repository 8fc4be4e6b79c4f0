#include "lib/gpu/nvml.h"

#include <dlfcn.h>
#include <link.h>

#include <cstring>
#include <filesystem>
#include <string_view>
#include <utility>
#include <vector>

namespace ferry::gpu {
namespace {

// dlsym gives an object pointer; POSIX guarantees it converts to the
// function's type, which memcpy does without a cast the compiler doubts.
template <typename Fn>
Fn Symbol(void* library, const char* name) {
  void* address = dlsym(library, name);
  Fn function = nullptr;
  static_assert(sizeof(function) == sizeof(address));
  std::memcpy(&function, &address, sizeof(function));
  return function;
}

// Answers that mean "no such value here", not "NVML is failing".
bool MeansUnknown(nvml::Return code) {
  return code == nvml::kErrorNotSupported || code == nvml::kErrorFunctionNotFound;
}

std::string LastDlError() {
  const char* text = dlerror();
  return text != nullptr ? text : "unknown dlopen error";
}

// The path the loader resolved `library` to, or `fallback`.
std::string OpenedPath(void* library, const std::string& fallback) {
  link_map* map = nullptr;
  if (dlinfo(library, RTLD_DI_LINKMAP, &map) == 0 && map != nullptr && map->l_name != nullptr &&
      map->l_name[0] != '\0') {
    return map->l_name;
  }
  return fallback;
}

// Up to the first NUL, never past the buffer.
std::string FromBuffer(const std::vector<char>& buffer) {
  return std::string(buffer.data(), strnlen(buffer.data(), buffer.size()));
}

}  // namespace

void Nvml::LibraryCloser::operator()(void* handle) const {
  if (handle != nullptr) dlclose(handle);
}

Result<std::unique_ptr<Nvml>> Nvml::Open(const std::string& library) {
  dlerror();
  LibraryHandle handle(dlopen(library.c_str(), RTLD_NOW | RTLD_LOCAL));
  if (!handle) {
    const std::string why = LastDlError();
    // A bare name the loader cannot find means no driver is installed. A path
    // that exists but does not load is a broken installation, not an absence.
    std::error_code ignored;
    const bool names_a_file = library.find('/') != std::string::npos;
    if (!names_a_file || !std::filesystem::exists(library, ignored)) {
      return MakeError(ErrorCode::kNotFound, "NVML not found: " + why);
    }
    return MakeError(ErrorCode::kUnavailable, "cannot load " + library + ": " + why);
  }
  std::string path = OpenedPath(handle.get(), library);
  const FunctionTable functions = Resolve(handle.get());
  for (const auto& [function, name] :
       {std::pair<bool, const char*>{functions.init != nullptr, "nvmlInit_v2"},
        {functions.shutdown != nullptr, "nvmlShutdown"},
        {functions.device_count != nullptr, "nvmlDeviceGetCount_v2"},
        {functions.device_handle != nullptr, "nvmlDeviceGetHandleByIndex_v2"}}) {
    if (!function) {
      return MakeError(ErrorCode::kUnavailable,
                       path + " lacks " + name + "; the NVIDIA driver is too old or not NVML");
    }
  }
  if (const nvml::Return code = functions.init(); code != nvml::kSuccess) {
    // Describe() needs an object; the error text comes straight from the table.
    const char* text = functions.error_string != nullptr ? functions.error_string(code) : nullptr;
    return MakeError(ErrorCode::kUnavailable,
                     std::string("nvmlInit_v2: ") +
                         (text != nullptr ? text : "NVML error " + std::to_string(code)));
  }
  return std::make_unique<Nvml>(Key(), std::move(handle), std::move(path), functions);
}

Nvml::Nvml(Key, LibraryHandle library, std::string library_path, const FunctionTable& functions)
    : library_(std::move(library)), library_path_(std::move(library_path)), functions_(functions) {}

Nvml::~Nvml() { functions_.shutdown(); }

Nvml::FunctionTable Nvml::Resolve(void* library) {
  FunctionTable f;
  f.init = Symbol<nvml::InitFn>(library, "nvmlInit_v2");
  f.shutdown = Symbol<nvml::ShutdownFn>(library, "nvmlShutdown");
  f.error_string = Symbol<nvml::ErrorStringFn>(library, "nvmlErrorString");
  f.driver_version = Symbol<nvml::SystemGetDriverVersionFn>(library, "nvmlSystemGetDriverVersion");
  f.device_count = Symbol<nvml::DeviceGetCountFn>(library, "nvmlDeviceGetCount_v2");
  f.device_handle =
      Symbol<nvml::DeviceGetHandleByIndexFn>(library, "nvmlDeviceGetHandleByIndex_v2");
  f.uuid = Symbol<nvml::DeviceGetUuidFn>(library, "nvmlDeviceGetUUID");
  f.name = Symbol<nvml::DeviceGetNameFn>(library, "nvmlDeviceGetName");
  f.temperature = Symbol<nvml::DeviceGetTemperatureFn>(library, "nvmlDeviceGetTemperature");
  f.power_usage = Symbol<nvml::DeviceGetPowerUsageFn>(library, "nvmlDeviceGetPowerUsage");
  f.memory_info = Symbol<nvml::DeviceGetMemoryInfoFn>(library, "nvmlDeviceGetMemoryInfo");
  f.utilization =
      Symbol<nvml::DeviceGetUtilizationRatesFn>(library, "nvmlDeviceGetUtilizationRates");
  f.total_ecc_errors =
      Symbol<nvml::DeviceGetTotalEccErrorsFn>(library, "nvmlDeviceGetTotalEccErrors");
  f.retired_pages = Symbol<nvml::DeviceGetRetiredPagesFn>(library, "nvmlDeviceGetRetiredPages");
  f.retired_pages_pending = Symbol<nvml::DeviceGetRetiredPagesPendingStatusFn>(
      library, "nvmlDeviceGetRetiredPagesPendingStatus");
  f.remapped_rows = Symbol<nvml::DeviceGetRemappedRowsFn>(library, "nvmlDeviceGetRemappedRows");
  // Renamed in R535; older drivers export only the throttle name.
  for (const char* name :
       {"nvmlDeviceGetCurrentClocksEventReasons", "nvmlDeviceGetCurrentClocksThrottleReasons"}) {
    f.clock_event_reasons = Symbol<nvml::DeviceGetCurrentClocksEventReasonsFn>(library, name);
    if (f.clock_event_reasons != nullptr) {
      f.clock_event_reasons_name = name;
      break;
    }
  }
  f.event_set_create = Symbol<nvml::EventSetCreateFn>(library, "nvmlEventSetCreate");
  f.register_events = Symbol<nvml::DeviceRegisterEventsFn>(library, "nvmlDeviceRegisterEvents");
  f.supported_event_types =
      Symbol<nvml::DeviceGetSupportedEventTypesFn>(library, "nvmlDeviceGetSupportedEventTypes");
  f.event_set_wait = Symbol<nvml::EventSetWaitFn>(library, "nvmlEventSetWait_v2");
  f.event_set_free = Symbol<nvml::EventSetFreeFn>(library, "nvmlEventSetFree");
  return f;
}

std::string Nvml::Describe(nvml::Return code) const {
  if (functions_.error_string != nullptr) {
    if (const char* text = functions_.error_string(code)) return text;
  }
  return "NVML error " + std::to_string(code);
}

Error Nvml::Failure(const char* function, nvml::Return code) const {
  return MakeError(ErrorCode::kUnavailable, std::string(function) + ": " + Describe(code));
}

Reading<std::string> Nvml::DriverVersion() const {
  if (functions_.driver_version == nullptr) return std::optional<std::string>();
  std::vector<char> buffer(nvml::kDriverVersionBufferSize, '\0');
  const nvml::Return code = functions_.driver_version(buffer.data(), buffer.size());
  if (MeansUnknown(code)) return std::optional<std::string>();
  if (code != nvml::kSuccess) return Failure("nvmlSystemGetDriverVersion", code);
  return std::optional<std::string>(FromBuffer(buffer));
}

Result<unsigned> Nvml::DeviceCount() const {
  unsigned count = 0;
  const nvml::Return code = functions_.device_count(&count);
  if (code != nvml::kSuccess) return Failure("nvmlDeviceGetCount_v2", code);
  return count;
}

Result<nvml::Device> Nvml::DeviceHandle(unsigned index) const {
  nvml::Device device = nullptr;
  const nvml::Return code = functions_.device_handle(index, &device);
  if (code != nvml::kSuccess) return Failure("nvmlDeviceGetHandleByIndex_v2", code);
  return device;
}

template <typename Fn>
Reading<std::string> Nvml::ReadString(Fn function, const char* name, nvml::Device device,
                                      unsigned buffer_size) const {
  if (function == nullptr) return std::optional<std::string>();
  std::vector<char> buffer(buffer_size, '\0');
  const nvml::Return code = function(device, buffer.data(), buffer_size);
  if (MeansUnknown(code)) return std::optional<std::string>();
  if (code != nvml::kSuccess) return Failure(name, code);
  return std::optional<std::string>(FromBuffer(buffer));
}

Reading<std::string> Nvml::Uuid(nvml::Device device) const {
  return ReadString(functions_.uuid, "nvmlDeviceGetUUID", device, nvml::kDeviceUuidBufferSize);
}

Reading<std::string> Nvml::Name(nvml::Device device) const {
  return ReadString(functions_.name, "nvmlDeviceGetName", device, nvml::kDeviceNameBufferSize);
}

template <typename T, typename Call>
Reading<T> Nvml::Query(bool present, const char* name, Call call) const {
  if (!present) return std::optional<T>();
  T value{};
  const nvml::Return code = call(&value);
  if (MeansUnknown(code)) return std::optional<T>();
  if (code != nvml::kSuccess) return Failure(name, code);
  return std::optional<T>(value);
}

Reading<unsigned> Nvml::TemperatureC(nvml::Device device) const {
  return Query<unsigned>(functions_.temperature, "nvmlDeviceGetTemperature", [&](unsigned* out) {
    return functions_.temperature(device, nvml::kTemperatureGpu, out);
  });
}

Reading<unsigned> Nvml::PowerMilliwatts(nvml::Device device) const {
  return Query<unsigned>(functions_.power_usage, "nvmlDeviceGetPowerUsage",
                         [&](unsigned* out) { return functions_.power_usage(device, out); });
}

Reading<nvml::Memory> Nvml::MemoryInfo(nvml::Device device) const {
  return Query<nvml::Memory>(
      functions_.memory_info, "nvmlDeviceGetMemoryInfo",
      [&](nvml::Memory* out) { return functions_.memory_info(device, out); });
}

Reading<nvml::Utilization> Nvml::UtilizationRates(nvml::Device device) const {
  return Query<nvml::Utilization>(
      functions_.utilization, "nvmlDeviceGetUtilizationRates",
      [&](nvml::Utilization* out) { return functions_.utilization(device, out); });
}

Reading<uint64_t> Nvml::EccUncorrected(nvml::Device device, int counter_type) const {
  return Query<uint64_t>(functions_.total_ecc_errors, "nvmlDeviceGetTotalEccErrors",
                         [&](uint64_t* out) {
                           unsigned long long count = 0;
                           const nvml::Return code = functions_.total_ecc_errors(
                               device, nvml::kMemoryErrorTypeUncorrected, counter_type, &count);
                           *out = count;
                           return code;
                         });
}

Reading<uint64_t> Nvml::ClockEventReasons(nvml::Device device) const {
  return Query<uint64_t>(functions_.clock_event_reasons, functions_.clock_event_reasons_name,
                         [&](uint64_t* out) {
                           unsigned long long mask = 0;
                           const nvml::Return code = functions_.clock_event_reasons(device, &mask);
                           *out = mask;
                           return code;
                         });
}

Reading<uint64_t> Nvml::SupportedEventTypes(nvml::Device device) const {
  return Query<uint64_t>(
      functions_.supported_event_types, "nvmlDeviceGetSupportedEventTypes", [&](uint64_t* out) {
        unsigned long long types = 0;
        const nvml::Return code = functions_.supported_event_types(device, &types);
        *out = types;
        return code;
      });
}

Reading<nvml::EventSet> Nvml::CreateEventSet() const {
  return Query<nvml::EventSet>(
      functions_.event_set_create, "nvmlEventSetCreate",
      [&](nvml::EventSet* out) { return functions_.event_set_create(out); });
}

Reading<uint64_t> Nvml::RetiredPages(nvml::Device device) const {
  if (functions_.retired_pages == nullptr) return std::optional<uint64_t>();
  uint64_t total = 0;
  for (int cause : {nvml::kPageRetirementMultipleSingleBitEcc, nvml::kPageRetirementDoubleBitEcc}) {
    // A count of 0 asks for the count alone; the answer is "too small" when
    // pages exist. The one-element buffer satisfies drivers that refuse NULL.
    unsigned count = 0;
    unsigned long long unused_address = 0;
    const nvml::Return code = functions_.retired_pages(device, cause, &count, &unused_address);
    if (MeansUnknown(code)) return std::optional<uint64_t>();
    if (code != nvml::kSuccess && code != nvml::kErrorInsufficientSize) {
      return Failure("nvmlDeviceGetRetiredPages", code);
    }
    total += count;
  }
  return std::optional<uint64_t>(total);
}

Reading<bool> Nvml::RetiredPagesPending(nvml::Device device) const {
  if (functions_.retired_pages_pending == nullptr) return std::optional<bool>();
  int state = 0;
  const nvml::Return code = functions_.retired_pages_pending(device, &state);
  if (MeansUnknown(code)) return std::optional<bool>();
  if (code != nvml::kSuccess) return Failure("nvmlDeviceGetRetiredPagesPendingStatus", code);
  return std::optional<bool>(state == nvml::kFeatureEnabled);
}

Reading<RemappedRows> Nvml::RemappedRowsInfo(nvml::Device device) const {
  if (functions_.remapped_rows == nullptr) return std::optional<RemappedRows>();
  unsigned correctable = 0, uncorrectable = 0, pending = 0, failed = 0;
  const nvml::Return code =
      functions_.remapped_rows(device, &correctable, &uncorrectable, &pending, &failed);
  if (MeansUnknown(code)) return std::optional<RemappedRows>();
  if (code != nvml::kSuccess) return Failure("nvmlDeviceGetRemappedRows", code);
  return std::optional<RemappedRows>(RemappedRows{.correctable = correctable,
                                                  .uncorrectable = uncorrectable,
                                                  .pending = pending != 0,
                                                  .failed = failed != 0});
}

Reading<bool> Nvml::RegisterEvents(nvml::Device device, unsigned long long event_types,
                                   nvml::EventSet set) const {
  if (functions_.register_events == nullptr) return std::optional<bool>();
  const nvml::Return code = functions_.register_events(device, event_types, set);
  if (MeansUnknown(code)) return std::optional<bool>();
  if (code != nvml::kSuccess) return Failure("nvmlDeviceRegisterEvents", code);
  return std::optional<bool>(true);
}

Result<std::optional<nvml::EventData>> Nvml::WaitForEvent(nvml::EventSet set,
                                                          std::chrono::milliseconds timeout) const {
  if (functions_.event_set_wait == nullptr) {
    return MakeError(ErrorCode::kUnavailable, library_path_ + " lacks nvmlEventSetWait_v2");
  }
  nvml::EventData data{};
  const nvml::Return code =
      functions_.event_set_wait(set, &data, static_cast<unsigned>(timeout.count()));
  if (code == nvml::kErrorTimeout) return std::optional<nvml::EventData>();
  if (code != nvml::kSuccess) return Failure("nvmlEventSetWait_v2", code);
  return std::optional<nvml::EventData>(data);
}

void Nvml::FreeEventSet(nvml::EventSet set) const {
  if (functions_.event_set_free != nullptr && set != nullptr) functions_.event_set_free(set);
}

}  // namespace ferry::gpu
