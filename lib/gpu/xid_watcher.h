// Watches for XID events: one thread owning an NVML event set registered for
// nvmlEventTypeXidCriticalError on every GPU, recording each event it gets
// (GPU index, XID, time) into an XidStore.
//
// Invariants:
// - The thread waits with a bounded timeout and checks its stop token
//   between waits, so destruction (or Stop) returns within about one timeout.
// - It never throws and never ends the process: a driver or GPU that cannot
//   deliver events is listed in status(), and a failing wait is kept as the
//   status's error and retried after a timeout's pause (no busy loop).
// - No thread runs when no GPU could be registered.
// - The Nvml and the store must outlive the watcher.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "lib/gpu/nvml.h"
#include "lib/gpu/nvml_event_set.h"
#include "lib/gpu/xid_store.h"

namespace ferry::gpu {

struct XidWatcherStatus {
  bool running = false;
  std::vector<unsigned> watched_gpus;      // registered for XID events
  std::vector<unsigned> unsupported_gpus;  // that do not deliver them
  // Why watching could not start on some or all GPUs, or the last failed
  // wait; nullopt while all is well.
  std::optional<std::string> error;
  uint64_t failed_waits = 0;
};

class XidWatcher {
 public:
  static constexpr std::chrono::milliseconds kDefaultWaitTimeout{250};

  // Registers every GPU NVML counts and, if any took, starts the thread.
  XidWatcher(const Nvml& nvml, XidStore& store,
             std::chrono::milliseconds wait_timeout = kDefaultWaitTimeout);
  ~XidWatcher();  // stops and joins
  XidWatcher(const XidWatcher&) = delete;
  XidWatcher& operator=(const XidWatcher&) = delete;

  // Stops the thread and waits for it; idempotent.
  void Stop();
  XidWatcherStatus status() const;

 private:
  void Register(const Nvml& nvml);
  Result<bool> RegisterXidEvents(const Nvml& nvml, nvml::Device device);
  void Run(const std::stop_token& stop);
  std::optional<unsigned> IndexOf(nvml::Device device) const;
  void RecordFailedWait(std::string error);

  XidStore& store_;
  const std::chrono::milliseconds wait_timeout_;
  std::optional<NvmlEventSet> events_;
  std::vector<std::pair<nvml::Device, unsigned>> devices_;  // handle -> index, fixed after start
  mutable std::mutex mutex_;                                // guards status_
  XidWatcherStatus status_;
  std::condition_variable_any pause_;  // the pause after a failed wait, cut short by Stop
  std::jthread thread_;                // last: it stops before anything it uses goes
};

}  // namespace ferry::gpu
