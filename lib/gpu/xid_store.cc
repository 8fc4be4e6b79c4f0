#include "lib/gpu/xid_store.h"

#include <algorithm>

namespace ferry::gpu {

XidStore::XidStore(size_t capacity) : capacity_(std::max<size_t>(capacity, 1)) {}

void XidStore::Count(std::map<uint64_t, uint64_t>& counts, uint64_t xid) {
  auto known = counts.find(xid);
  if (known != counts.end()) {
    ++known->second;
  } else if (counts.size() < kMaxDistinctXids) {
    counts.emplace(xid, 1);
  }
}

void XidStore::Record(std::optional<unsigned> gpu_index, uint64_t xid,
                      std::chrono::system_clock::time_point seen_at) {
  std::lock_guard lock(mutex_);
  ++recorded_;
  recent_.push_back(
      XidEvent{.sequence = recorded_, .gpu_index = gpu_index, .xid = xid, .seen_at = seen_at});
  if (recent_.size() > capacity_) recent_.pop_front();
  Count(gpu_index ? per_gpu_[*gpu_index] : unattributed_, xid);
}

std::vector<XidEvent> XidStore::EventsAfter(uint64_t after) const {
  std::lock_guard lock(mutex_);
  std::vector<XidEvent> events;
  for (const XidEvent& event : recent_) {
    if (event.sequence > after) events.push_back(event);
  }
  return events;
}

std::map<uint64_t, uint64_t> XidStore::CountsFor(unsigned gpu_index) const {
  std::lock_guard lock(mutex_);
  std::map<uint64_t, uint64_t> counts = unattributed_;
  if (auto gpu = per_gpu_.find(gpu_index); gpu != per_gpu_.end()) {
    for (const auto& [xid, count] : gpu->second) counts[xid] += count;
  }
  return counts;
}

uint64_t XidStore::recorded() const {
  std::lock_guard lock(mutex_);
  return recorded_;
}

}  // namespace ferry::gpu
