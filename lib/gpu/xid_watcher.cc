#include "lib/gpu/xid_watcher.h"

namespace ferry::gpu {

XidWatcher::XidWatcher(const Nvml& nvml, XidStore& store, std::chrono::milliseconds wait_timeout)
    : store_(store), wait_timeout_(wait_timeout) {
  Register(nvml);
  if (!devices_.empty()) {
    status_.running = true;
    thread_ = std::jthread([this](std::stop_token stop) { Run(stop); });
  }
}

XidWatcher::~XidWatcher() { Stop(); }

void XidWatcher::Stop() {
  if (thread_.joinable()) {
    thread_.request_stop();
    thread_.join();
  }
  std::lock_guard lock(mutex_);
  status_.running = false;
}

XidWatcherStatus XidWatcher::status() const {
  std::lock_guard lock(mutex_);
  return status_;
}

void XidWatcher::RecordFailedWait(std::string error) {
  std::lock_guard lock(mutex_);
  status_.error = std::move(error);
  ++status_.failed_waits;
}

// Runs before the thread starts, so status_ needs no lock here.
void XidWatcher::Register(const Nvml& nvml) {
  Result<unsigned> count = nvml.DeviceCount();
  if (!count.ok()) {
    status_.error = count.error().message;
    return;
  }
  Reading<NvmlEventSet> created = NvmlEventSet::Create(nvml);
  if (!created.ok() || !created->has_value()) {
    status_.error = created.ok() ? "XID events not supported by " + nvml.library_path()
                                 : created.error().message;
    for (unsigned index = 0; index < *count; ++index) status_.unsupported_gpus.push_back(index);
    return;
  }
  events_ = std::move(**created);
  for (unsigned index = 0; index < *count; ++index) {
    Result<nvml::Device> device = nvml.DeviceHandle(index);
    Result<bool> registered =
        device.ok() ? RegisterXidEvents(nvml, *device) : Result<bool>(device.error());
    if (registered.ok() && *registered) {
      devices_.emplace_back(*device, index);
      status_.watched_gpus.push_back(index);
      continue;
    }
    if (!registered.ok()) status_.error = registered.error().message;
    status_.unsupported_gpus.push_back(index);
  }
}

Result<bool> XidWatcher::RegisterXidEvents(const Nvml& nvml, nvml::Device device) {
  // Asking first spares a registration bound to fail on a GPU that delivers
  // no XID events; a driver that cannot answer the question is simply tried.
  Reading<uint64_t> supported = nvml.SupportedEventTypes(device);
  if (supported.ok() && supported->has_value() &&
      (**supported & nvml::kEventTypeXidCriticalError) == 0) {
    return false;
  }
  return events_->Register(device, nvml::kEventTypeXidCriticalError);
}

std::optional<unsigned> XidWatcher::IndexOf(nvml::Device device) const {
  for (const auto& [handle, index] : devices_) {
    if (handle == device) return index;
  }
  return std::nullopt;
}

void XidWatcher::Run(const std::stop_token& stop) {
  while (!stop.stop_requested()) {
    Result<std::optional<nvml::EventData>> event = events_->Wait(wait_timeout_);
    if (!event.ok()) {
      RecordFailedWait(event.error().message);
      std::mutex pause_mutex;
      std::unique_lock lock(pause_mutex);
      pause_.wait_for(lock, stop, wait_timeout_, [] { return false; });
      continue;
    }
    if (!event->has_value()) continue;
    const nvml::EventData& data = **event;
    if ((data.eventType & nvml::kEventTypeXidCriticalError) == 0) continue;
    store_.Record(IndexOf(data.device), data.eventData, std::chrono::system_clock::now());
  }
}

}  // namespace ferry::gpu
