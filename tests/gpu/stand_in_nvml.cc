// A stand-in for libnvidia-ml.so.1, for tests only: a shared library that
// exports the NVML entry points Ferry uses, answering from a JSON script
// instead of a GPU, so that every health rule, every missing or unsupported
// function and NVML failing mid-run can be shown without NVIDIA hardware.
// It is not NVIDIA's library and knows nothing of real GPUs.
//
// The script is the file named by $FERRY_STAND_IN_NVML_SCRIPT, read at each
// nvmlInit_v2 (no variable: a driver with no GPUs):
//   {
//     "driverVersion": "550.54.15",
//     "results": {"nvmlEventSetCreate": 3},  // answers for a function, every GPU
//     "failAfterCalls": 12,    // calls from nvmlInit_v2 on that succeed; every
//     "failWith": 15,          // later call answers failWith (default 15, GPU is lost)
//     "gpus": [{
//       "uuid": "GPU-…", "name": "…", "temperatureC": 41, "powerMilliwatts": 71500,
//       "memory": {"total": 150000000000, "used": 1000000},
//       "utilization": {"gpu": 12, "memory": 3},
//       "eccUncorrectedVolatile": 0, "eccUncorrectedAggregate": 0,
//       "retiredPages": {"multipleSingleBit": 0, "doubleBit": 0}, "retiredPagesPending": false,
//       "remappedRows": {"correctable": 0, "uncorrectable": 0, "pending": false, "failed": false},
//       "clockEventReasons": 1, "supportedEvents": 8,
//       "results": {"nvmlDeviceGetPowerUsage": 15}  // answers for this GPU alone
//     }],
//     "events": [{"gpu": 0, "xid": 79, "afterMs": 50}]  // after nvmlInit_v2
//   }
// A value left out of a GPU answers NVML_ERROR_NOT_SUPPORTED. An event is
// delivered, once its time has come, through every event set its GPU is
// registered in. "failAfterCalls" counts every call but nvmlErrorString,
// nvmlShutdown and nvmlEventSetWait_v2 (whose timing varies), and once it has
// run out nvmlEventSetWait_v2 fails too, as a GPU that fell off the bus does.
//
// Built twice: as the current driver, and with FERRY_STAND_IN_OLD_DRIVER as
// an older one that lacks nvmlDeviceGetCurrentClocksEventReasons (it has only
// the throttle-reasons name), nvmlDeviceGetRemappedRows and
// nvmlEventSetWait_v2.
#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <fstream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <type_traits>
#include <vector>

#include "lib/gpu/nvml_api.h"

namespace nvml = ferry::gpu::nvml;

// The opaque types NVML hands out; defined here, where the handles are made.
struct ferry::gpu::nvml::DeviceOpaque {
  unsigned index;
};
struct ferry::gpu::nvml::EventSetOpaque {
  std::set<unsigned> registered;  // GPU indexes
  std::set<size_t> delivered;     // indexes into the script's events
};

namespace {

using Clock = std::chrono::steady_clock;
using Json = nlohmann::json;

struct ScriptedEvent {
  unsigned gpu = 0;
  unsigned long long xid = 0;
  Clock::time_point due;
};

// The library's state: NVML itself keeps process-wide state, and so must a
// stand-in for it. Guarded by `mutex`.
struct State {
  std::mutex mutex;
  std::condition_variable events_due;
  bool initialized = false;
  Json script = Json::object();
  std::deque<nvml::DeviceOpaque> devices;  // stable addresses: the handles
  std::vector<ScriptedEvent> events;
  std::deque<nvml::EventSetOpaque> event_sets;
  long calls = 0;
};

State& TheState() {
  static State state;
  return state;
}

nvml::Return ReadScript(State& state) {
  state.script = Json::object();
  state.devices.clear();
  state.events.clear();
  state.event_sets.clear();
  state.calls = 0;
  const char* path = std::getenv("FERRY_STAND_IN_NVML_SCRIPT");
  if (path != nullptr && *path != '\0') {
    std::ifstream file(path);
    std::stringstream text;
    text << file.rdbuf();
    try {
      state.script = Json::parse(text.str());
    } catch (const Json::exception& error) {
      std::fprintf(stderr, "stand-in NVML: cannot read the script %s: %s\n", path, error.what());
      return nvml::kErrorUnknown;
    }
  }
  const Json gpus = state.script.value("gpus", Json::array());
  for (unsigned index = 0; index < gpus.size(); ++index) state.devices.push_back({index});
  const Clock::time_point now = Clock::now();
  for (const Json& event : state.script.value("events", Json::array())) {
    state.events.push_back({.gpu = event.at("gpu").get<unsigned>(),
                            .xid = event.at("xid").get<unsigned long long>(),
                            .due = now + std::chrono::milliseconds(event.value("afterMs", 0))});
  }
  return nvml::kSuccess;
}

const Json& GpuScript(const State& state, unsigned index) {
  return state.script.at("gpus").at(index);
}

// The answer `function` must give before any value: uninitialised, the
// failure after "failAfterCalls", or one the script names. `counted` is false
// for the calls "failAfterCalls" does not count.
std::optional<nvml::Return> ScriptedResult(State& state, const char* function,
                                           const nvml::DeviceOpaque* device, bool counted = true) {
  if (!state.initialized) return nvml::kErrorUninitialized;
  if (counted) ++state.calls;
  if (state.script.contains("failAfterCalls") &&
      state.calls > state.script["failAfterCalls"].get<long>()) {
    return state.script.value("failWith", nvml::kErrorGpuIsLost);
  }
  if (device != nullptr) {
    const Json results = GpuScript(state, device->index).value("results", Json::object());
    if (results.contains(function)) return results.at(function).get<nvml::Return>();
  }
  const Json results = state.script.value("results", Json::object());
  if (results.contains(function)) return results.at(function).get<nvml::Return>();
  return std::nullopt;
}

bool Known(const State& state, nvml::Device device) {
  return std::any_of(state.devices.begin(), state.devices.end(),
                     [&](const nvml::DeviceOpaque& d) { return &d == device; });
}

nvml::Return CopyString(const std::string& value, char* out, unsigned length) {
  if (out == nullptr) return nvml::kErrorInvalidArgument;
  if (value.size() + 1 > length) return nvml::kErrorInsufficientSize;
  std::memcpy(out, value.c_str(), value.size() + 1);
  return nvml::kSuccess;
}

// The common shape of a device query: checks, scripted answers, then the
// GPU's value at `key` (NOT_SUPPORTED when the script leaves it out).
template <typename Fill>
nvml::Return DeviceQuery(const char* function, nvml::Device device, const char* key, Fill fill) {
  State& state = TheState();
  std::lock_guard lock(state.mutex);
  if (state.initialized && !Known(state, device)) return nvml::kErrorInvalidArgument;
  if (auto result = ScriptedResult(state, function, device)) return *result;
  const Json& gpu = GpuScript(state, device->index);
  if (!gpu.contains(key)) return nvml::kErrorNotSupported;
  return fill(gpu.at(key));
}

}  // namespace

extern "C" {

nvml::Return nvmlInit_v2() {
  State& state = TheState();
  std::lock_guard lock(state.mutex);
  if (const nvml::Return read = ReadScript(state); read != nvml::kSuccess) return read;
  state.initialized = true;
  if (auto result = ScriptedResult(state, "nvmlInit_v2", nullptr)) {
    state.initialized = *result == nvml::kSuccess;
    return *result;
  }
  return nvml::kSuccess;
}

nvml::Return nvmlShutdown() {
  State& state = TheState();
  std::lock_guard lock(state.mutex);
  if (!state.initialized) return nvml::kErrorUninitialized;
  state.initialized = false;
  return nvml::kSuccess;
}

const char* nvmlErrorString(nvml::Return result) {
  switch (result) {
    case nvml::kSuccess:
      return "Success";
    case nvml::kErrorUninitialized:
      return "Uninitialized";
    case nvml::kErrorInvalidArgument:
      return "Invalid Argument";
    case nvml::kErrorNotSupported:
      return "Not Supported";
    case nvml::kErrorNoPermission:
      return "Insufficient Permissions";
    case nvml::kErrorNotFound:
      return "Not Found";
    case nvml::kErrorInsufficientSize:
      return "Insufficient Size";
    case nvml::kErrorDriverNotLoaded:
      return "Driver Not Loaded";
    case nvml::kErrorTimeout:
      return "Timeout";
    case nvml::kErrorFunctionNotFound:
      return "Function Not Found";
    case nvml::kErrorGpuIsLost:
      return "GPU is lost";
    default:
      return "Unknown Error";
  }
}

nvml::Return nvmlSystemGetDriverVersion(char* version, unsigned int length) {
  State& state = TheState();
  std::lock_guard lock(state.mutex);
  if (auto result = ScriptedResult(state, "nvmlSystemGetDriverVersion", nullptr)) return *result;
  return CopyString(state.script.value("driverVersion", "stand-in"), version, length);
}

nvml::Return nvmlDeviceGetCount_v2(unsigned int* count) {
  State& state = TheState();
  std::lock_guard lock(state.mutex);
  if (auto result = ScriptedResult(state, "nvmlDeviceGetCount_v2", nullptr)) return *result;
  if (count == nullptr) return nvml::kErrorInvalidArgument;
  *count = static_cast<unsigned>(state.devices.size());
  return nvml::kSuccess;
}

nvml::Return nvmlDeviceGetHandleByIndex_v2(unsigned int index, nvml::Device* device) {
  State& state = TheState();
  std::lock_guard lock(state.mutex);
  if (auto result = ScriptedResult(state, "nvmlDeviceGetHandleByIndex_v2", nullptr)) {
    return *result;
  }
  if (device == nullptr || index >= state.devices.size()) return nvml::kErrorInvalidArgument;
  *device = &state.devices[index];
  return nvml::kSuccess;
}

nvml::Return nvmlDeviceGetUUID(nvml::Device device, char* uuid, unsigned int length) {
  return DeviceQuery("nvmlDeviceGetUUID", device, "uuid", [&](const Json& value) {
    return CopyString(value.get<std::string>(), uuid, length);
  });
}

nvml::Return nvmlDeviceGetName(nvml::Device device, char* name, unsigned int length) {
  return DeviceQuery("nvmlDeviceGetName", device, "name", [&](const Json& value) {
    return CopyString(value.get<std::string>(), name, length);
  });
}

nvml::Return nvmlDeviceGetTemperature(nvml::Device device, int sensor, unsigned int* celsius) {
  if (sensor != nvml::kTemperatureGpu) return nvml::kErrorInvalidArgument;
  return DeviceQuery("nvmlDeviceGetTemperature", device, "temperatureC", [&](const Json& value) {
    *celsius = value.get<unsigned>();
    return nvml::kSuccess;
  });
}

nvml::Return nvmlDeviceGetPowerUsage(nvml::Device device, unsigned int* milliwatts) {
  return DeviceQuery("nvmlDeviceGetPowerUsage", device, "powerMilliwatts", [&](const Json& value) {
    *milliwatts = value.get<unsigned>();
    return nvml::kSuccess;
  });
}

nvml::Return nvmlDeviceGetMemoryInfo(nvml::Device device, nvml::Memory* memory) {
  return DeviceQuery("nvmlDeviceGetMemoryInfo", device, "memory", [&](const Json& value) {
    memory->total = value.at("total").get<unsigned long long>();
    memory->used = value.at("used").get<unsigned long long>();
    memory->free = memory->total - memory->used;
    return nvml::kSuccess;
  });
}

nvml::Return nvmlDeviceGetUtilizationRates(nvml::Device device, nvml::Utilization* utilization) {
  return DeviceQuery("nvmlDeviceGetUtilizationRates", device, "utilization",
                     [&](const Json& value) {
                       utilization->gpu = value.at("gpu").get<unsigned>();
                       utilization->memory = value.at("memory").get<unsigned>();
                       return nvml::kSuccess;
                     });
}

nvml::Return nvmlDeviceGetTotalEccErrors(nvml::Device device, int error_type, int counter_type,
                                         unsigned long long* count) {
  if (error_type != nvml::kMemoryErrorTypeUncorrected) return nvml::kErrorNotSupported;
  const char* key = counter_type == nvml::kVolatileEcc    ? "eccUncorrectedVolatile"
                    : counter_type == nvml::kAggregateEcc ? "eccUncorrectedAggregate"
                                                          : nullptr;
  if (key == nullptr) return nvml::kErrorInvalidArgument;
  return DeviceQuery("nvmlDeviceGetTotalEccErrors", device, key, [&](const Json& value) {
    *count = value.get<unsigned long long>();
    return nvml::kSuccess;
  });
}

nvml::Return nvmlDeviceGetRetiredPages(nvml::Device device, int cause, unsigned int* page_count,
                                       unsigned long long* addresses) {
  return DeviceQuery("nvmlDeviceGetRetiredPages", device, "retiredPages", [&](const Json& value) {
    const char* key = cause == nvml::kPageRetirementMultipleSingleBitEcc ? "multipleSingleBit"
                      : cause == nvml::kPageRetirementDoubleBitEcc       ? "doubleBit"
                                                                         : nullptr;
    // As the reference documents it: NULL addresses are refused.
    if (key == nullptr || page_count == nullptr || addresses == nullptr) {
      return nvml::kErrorInvalidArgument;
    }
    const unsigned pages = value.value(key, 0u);
    const unsigned room = *page_count;
    *page_count = pages;
    if (room < pages) return nvml::kErrorInsufficientSize;
    for (unsigned i = 0; i < pages; ++i) addresses[i] = 0x1000ull * (i + 1);
    return nvml::kSuccess;
  });
}

nvml::Return nvmlDeviceGetRetiredPagesPendingStatus(nvml::Device device, int* is_pending) {
  return DeviceQuery("nvmlDeviceGetRetiredPagesPendingStatus", device, "retiredPagesPending",
                     [&](const Json& value) {
                       *is_pending = value.get<bool>() ? nvml::kFeatureEnabled : 0;
                       return nvml::kSuccess;
                     });
}

#ifndef FERRY_STAND_IN_OLD_DRIVER
nvml::Return nvmlDeviceGetRemappedRows(nvml::Device device, unsigned int* correctable_rows,
                                       unsigned int* uncorrectable_rows, unsigned int* is_pending,
                                       unsigned int* failure_occurred) {
  return DeviceQuery("nvmlDeviceGetRemappedRows", device, "remappedRows", [&](const Json& value) {
    *correctable_rows = value.value("correctable", 0u);
    *uncorrectable_rows = value.value("uncorrectable", 0u);
    *is_pending = value.value("pending", false) ? 1 : 0;
    *failure_occurred = value.value("failed", false) ? 1 : 0;
    return nvml::kSuccess;
  });
}

nvml::Return nvmlDeviceGetCurrentClocksEventReasons(nvml::Device device,
                                                    unsigned long long* reasons) {
  return DeviceQuery("nvmlDeviceGetCurrentClocksEventReasons", device, "clockEventReasons",
                     [&](const Json& value) {
                       *reasons = value.get<unsigned long long>();
                       return nvml::kSuccess;
                     });
}
#endif

// Current drivers keep the old name too.
nvml::Return nvmlDeviceGetCurrentClocksThrottleReasons(nvml::Device device,
                                                       unsigned long long* reasons) {
  return DeviceQuery("nvmlDeviceGetCurrentClocksThrottleReasons", device, "clockEventReasons",
                     [&](const Json& value) {
                       *reasons = value.get<unsigned long long>();
                       return nvml::kSuccess;
                     });
}

nvml::Return nvmlDeviceGetSupportedEventTypes(nvml::Device device,
                                              unsigned long long* event_types) {
  State& state = TheState();
  std::lock_guard lock(state.mutex);
  if (state.initialized && !Known(state, device)) return nvml::kErrorInvalidArgument;
  if (auto result = ScriptedResult(state, "nvmlDeviceGetSupportedEventTypes", device)) {
    return *result;
  }
  *event_types =
      GpuScript(state, device->index).value("supportedEvents", nvml::kEventTypeXidCriticalError);
  return nvml::kSuccess;
}

nvml::Return nvmlEventSetCreate(nvml::EventSet* set) {
  State& state = TheState();
  std::lock_guard lock(state.mutex);
  if (auto result = ScriptedResult(state, "nvmlEventSetCreate", nullptr)) return *result;
  if (set == nullptr) return nvml::kErrorInvalidArgument;
  *set = &state.event_sets.emplace_back();
  return nvml::kSuccess;
}

nvml::Return nvmlDeviceRegisterEvents(nvml::Device device, unsigned long long event_types,
                                      nvml::EventSet set) {
  State& state = TheState();
  std::lock_guard lock(state.mutex);
  if (state.initialized && (!Known(state, device) || set == nullptr)) {
    return nvml::kErrorInvalidArgument;
  }
  if (auto result = ScriptedResult(state, "nvmlDeviceRegisterEvents", device)) return *result;
  const unsigned long long supported =
      GpuScript(state, device->index).value("supportedEvents", nvml::kEventTypeXidCriticalError);
  if ((event_types & ~supported) != 0) return nvml::kErrorNotSupported;
  set->registered.insert(device->index);
  return nvml::kSuccess;
}

#ifndef FERRY_STAND_IN_OLD_DRIVER
nvml::Return nvmlEventSetWait_v2(nvml::EventSet set, nvml::EventData* data,
                                 unsigned int timeout_ms) {
  State& state = TheState();
  std::unique_lock lock(state.mutex);
  const Clock::time_point deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  while (true) {
    if (auto result = ScriptedResult(state, "nvmlEventSetWait_v2", nullptr, false)) {
      return *result;
    }
    if (set == nullptr || data == nullptr) return nvml::kErrorInvalidArgument;
    // The earliest event for this set not yet delivered through it.
    std::optional<size_t> next;
    for (size_t i = 0; i < state.events.size(); ++i) {
      const ScriptedEvent& event = state.events[i];
      if (!set->registered.contains(event.gpu) || set->delivered.contains(i)) continue;
      if (!next || event.due < state.events[*next].due) next = i;
    }
    const Clock::time_point now = Clock::now();
    if (next && state.events[*next].due <= now) {
      set->delivered.insert(*next);
      *data = nvml::EventData{.device = &state.devices[state.events[*next].gpu],
                              .eventType = nvml::kEventTypeXidCriticalError,
                              .eventData = state.events[*next].xid,
                              .gpuInstanceId = 0xFFFFFFFF,
                              .computeInstanceId = 0xFFFFFFFF};
      return nvml::kSuccess;
    }
    if (now >= deadline) return nvml::kErrorTimeout;
    state.events_due.wait_until(lock,
                                next ? std::min(deadline, state.events[*next].due) : deadline);
  }
}
#endif

nvml::Return nvmlEventSetFree(nvml::EventSet set) {
  State& state = TheState();
  std::lock_guard lock(state.mutex);
  if (set == nullptr) return nvml::kErrorInvalidArgument;
  // The sets live in a deque so handles stay valid; a freed one is emptied.
  set->registered.clear();
  return nvml::kSuccess;
}

}  // extern "C"

// Each entry point has exactly the type Ferry's declarations give it.
static_assert(std::is_same_v<decltype(&nvmlInit_v2), nvml::InitFn>);
static_assert(std::is_same_v<decltype(&nvmlShutdown), nvml::ShutdownFn>);
static_assert(std::is_same_v<decltype(&nvmlErrorString), nvml::ErrorStringFn>);
static_assert(
    std::is_same_v<decltype(&nvmlSystemGetDriverVersion), nvml::SystemGetDriverVersionFn>);
static_assert(std::is_same_v<decltype(&nvmlDeviceGetCount_v2), nvml::DeviceGetCountFn>);
static_assert(
    std::is_same_v<decltype(&nvmlDeviceGetHandleByIndex_v2), nvml::DeviceGetHandleByIndexFn>);
static_assert(std::is_same_v<decltype(&nvmlDeviceGetUUID), nvml::DeviceGetUuidFn>);
static_assert(std::is_same_v<decltype(&nvmlDeviceGetName), nvml::DeviceGetNameFn>);
static_assert(std::is_same_v<decltype(&nvmlDeviceGetTemperature), nvml::DeviceGetTemperatureFn>);
static_assert(std::is_same_v<decltype(&nvmlDeviceGetPowerUsage), nvml::DeviceGetPowerUsageFn>);
static_assert(std::is_same_v<decltype(&nvmlDeviceGetMemoryInfo), nvml::DeviceGetMemoryInfoFn>);
static_assert(
    std::is_same_v<decltype(&nvmlDeviceGetUtilizationRates), nvml::DeviceGetUtilizationRatesFn>);
static_assert(
    std::is_same_v<decltype(&nvmlDeviceGetTotalEccErrors), nvml::DeviceGetTotalEccErrorsFn>);
static_assert(std::is_same_v<decltype(&nvmlDeviceGetRetiredPages), nvml::DeviceGetRetiredPagesFn>);
static_assert(std::is_same_v<decltype(&nvmlDeviceGetRetiredPagesPendingStatus),
                             nvml::DeviceGetRetiredPagesPendingStatusFn>);
static_assert(std::is_same_v<decltype(&nvmlDeviceGetCurrentClocksThrottleReasons),
                             nvml::DeviceGetCurrentClocksEventReasonsFn>);
static_assert(std::is_same_v<decltype(&nvmlDeviceGetSupportedEventTypes),
                             nvml::DeviceGetSupportedEventTypesFn>);
static_assert(std::is_same_v<decltype(&nvmlEventSetCreate), nvml::EventSetCreateFn>);
static_assert(std::is_same_v<decltype(&nvmlDeviceRegisterEvents), nvml::DeviceRegisterEventsFn>);
static_assert(std::is_same_v<decltype(&nvmlEventSetFree), nvml::EventSetFreeFn>);
#ifndef FERRY_STAND_IN_OLD_DRIVER
static_assert(std::is_same_v<decltype(&nvmlDeviceGetRemappedRows), nvml::DeviceGetRemappedRowsFn>);
static_assert(std::is_same_v<decltype(&nvmlDeviceGetCurrentClocksEventReasons),
                             nvml::DeviceGetCurrentClocksEventReasonsFn>);
static_assert(std::is_same_v<decltype(&nvmlEventSetWait_v2), nvml::EventSetWaitFn>);
#endif
