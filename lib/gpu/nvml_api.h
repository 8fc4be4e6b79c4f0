// The part of NVML's C interface Ferry calls, declared here from the NVML API
// Reference Guide rather than taken from NVIDIA's header, so that Ferry builds
// without CUDA and loads libnvidia-ml.so.1 only where a driver provides it.
//
// Only what crosses the library boundary is declared: the return codes, the
// opaque handles, the few structs passed by pointer (field order and types as
// documented; NVML's unversioned v1 layouts), the constants passed in, and one
// function-pointer type per entry point. Enums are passed as int: NVML's enums
// are C enums, int-sized on every ABI NVML ships for.
#pragma once

#include <cstdint>

namespace ferry::gpu::nvml {

// nvmlReturn_t.
using Return = int;
inline constexpr Return kSuccess = 0;
inline constexpr Return kErrorUninitialized = 1;
inline constexpr Return kErrorInvalidArgument = 2;
inline constexpr Return kErrorNotSupported = 3;
inline constexpr Return kErrorNoPermission = 4;
inline constexpr Return kErrorNotFound = 6;
inline constexpr Return kErrorInsufficientSize = 7;
inline constexpr Return kErrorDriverNotLoaded = 9;
inline constexpr Return kErrorTimeout = 10;
inline constexpr Return kErrorFunctionNotFound = 13;
inline constexpr Return kErrorGpuIsLost = 15;
inline constexpr Return kErrorUnknown = 999;

// nvmlDevice_t and nvmlEventSet_t: pointers to structs NVML never shows.
struct DeviceOpaque;
struct EventSetOpaque;
using Device = DeviceOpaque*;
using EventSet = EventSetOpaque*;

// nvmlMemory_t (v1): bytes.
struct Memory {
  unsigned long long total;
  unsigned long long free;
  unsigned long long used;
};

// nvmlUtilization_t: percent of the last sample period.
struct Utilization {
  unsigned int gpu;
  unsigned int memory;
};

// nvmlEventData_t as nvmlEventSetWait_v2 fills it.
struct EventData {
  Device device;
  unsigned long long eventType;
  unsigned long long eventData;  // the XID, for kEventTypeXidCriticalError
  unsigned int gpuInstanceId;
  unsigned int computeInstanceId;
};

// Buffer sizes the reference guarantees to be enough (the _V2 sizes).
inline constexpr unsigned int kDriverVersionBufferSize = 80;
inline constexpr unsigned int kDeviceUuidBufferSize = 96;
inline constexpr unsigned int kDeviceNameBufferSize = 96;

inline constexpr int kTemperatureGpu = 0;              // nvmlTemperatureSensors_t
inline constexpr int kMemoryErrorTypeUncorrected = 1;  // nvmlMemoryErrorType_t
inline constexpr int kVolatileEcc = 0;                 // nvmlEccCounterType_t
inline constexpr int kAggregateEcc = 1;
inline constexpr int kPageRetirementMultipleSingleBitEcc = 0;  // nvmlPageRetirementCause_t
inline constexpr int kPageRetirementDoubleBitEcc = 1;
inline constexpr int kFeatureEnabled = 1;  // nvmlEnableState_t

inline constexpr unsigned long long kEventTypeXidCriticalError = 0x8;

// The entry points, one type each, named after the function.
using InitFn = Return (*)();
using ShutdownFn = Return (*)();
using ErrorStringFn = const char* (*)(Return result);
using SystemGetDriverVersionFn = Return (*)(char* version, unsigned int length);
using DeviceGetCountFn = Return (*)(unsigned int* count);
using DeviceGetHandleByIndexFn = Return (*)(unsigned int index, Device* device);
using DeviceGetUuidFn = Return (*)(Device device, char* uuid, unsigned int length);
using DeviceGetNameFn = Return (*)(Device device, char* name, unsigned int length);
using DeviceGetTemperatureFn = Return (*)(Device device, int sensor, unsigned int* celsius);
using DeviceGetPowerUsageFn = Return (*)(Device device, unsigned int* milliwatts);
using DeviceGetMemoryInfoFn = Return (*)(Device device, Memory* memory);
using DeviceGetUtilizationRatesFn = Return (*)(Device device, Utilization* utilization);
using DeviceGetTotalEccErrorsFn = Return (*)(Device device, int error_type, int counter_type,
                                             unsigned long long* count);
using DeviceGetRetiredPagesFn = Return (*)(Device device, int cause, unsigned int* page_count,
                                           unsigned long long* addresses);
using DeviceGetRetiredPagesPendingStatusFn = Return (*)(Device device, int* is_pending);
using DeviceGetRemappedRowsFn = Return (*)(Device device, unsigned int* correctable_rows,
                                           unsigned int* uncorrectable_rows,
                                           unsigned int* is_pending,
                                           unsigned int* failure_occurred);
// nvmlDeviceGetCurrentClocksEventReasons, and the older name it replaced,
// nvmlDeviceGetCurrentClocksThrottleReasons: the same mask.
using DeviceGetCurrentClocksEventReasonsFn = Return (*)(Device device, unsigned long long* reasons);
using EventSetCreateFn = Return (*)(EventSet* set);
using DeviceRegisterEventsFn = Return (*)(Device device, unsigned long long event_types,
                                          EventSet set);
using DeviceGetSupportedEventTypesFn = Return (*)(Device device, unsigned long long* event_types);
using EventSetWaitFn = Return (*)(EventSet set, EventData* data, unsigned int timeout_ms);
using EventSetFreeFn = Return (*)(EventSet set);

}  // namespace ferry::gpu::nvml
