// The XID events seen since the agent started, shared between the watcher
// thread that records them and whoever reports. Thread-safe; bounded:
// - the recent events, in order, are kept up to a capacity (older ones drop
//   out, and sequence numbers show the gap to a reader that fell behind);
// - per GPU, a count per distinct XID, which is what health needs and stays
//   small (XIDs are the driver's few hundred codes; past kMaxDistinctXids
//   per GPU a new code is counted only in the totals).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <vector>

namespace ferry::gpu {

struct XidEvent {
  uint64_t sequence = 0;              // 1, 2, … in the order recorded
  std::optional<unsigned> gpu_index;  // nullopt: NVML named no GPU we know; counts for all
  uint64_t xid = 0;
  std::chrono::system_clock::time_point seen_at;
};

class XidStore {
 public:
  static constexpr size_t kDefaultCapacity = 1024;
  static constexpr size_t kMaxDistinctXids = 256;

  explicit XidStore(size_t capacity = kDefaultCapacity);
  XidStore(const XidStore&) = delete;
  XidStore& operator=(const XidStore&) = delete;

  void Record(std::optional<unsigned> gpu_index, uint64_t xid,
              std::chrono::system_clock::time_point seen_at);

  // The events still held whose sequence is above `after`, oldest first.
  std::vector<XidEvent> EventsAfter(uint64_t after) const;
  // XID -> times seen on `gpu_index`, events that named no GPU included.
  std::map<uint64_t, uint64_t> CountsFor(unsigned gpu_index) const;
  // Every event ever recorded (the last sequence number).
  uint64_t recorded() const;

 private:
  static void Count(std::map<uint64_t, uint64_t>& counts, uint64_t xid);

  const size_t capacity_;
  mutable std::mutex mutex_;  // guards everything below
  uint64_t recorded_ = 0;
  std::deque<XidEvent> recent_;
  std::map<unsigned, std::map<uint64_t, uint64_t>> per_gpu_;
  std::map<uint64_t, uint64_t> unattributed_;
};

}  // namespace ferry::gpu
