// A token bucket that caps the bytes per second of all transfers of one Source
// together. A caller takes what it needs at once, going into debt if the
// bucket is short, and sleeps until the debt is repaid; later callers wait
// behind that debt. So the long-run rate is exact whatever the piece sizes and
// however many threads share the bucket, and bursts stay within a tenth of a
// second's worth. Thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>

namespace ferry::fetch {

class RateLimiter {
 public:
  explicit RateLimiter(uint64_t bytes_per_second);  // 0 = unlimited

  // Blocks until `bytes` may pass.
  void Acquire(uint64_t bytes);

 private:
  const double rate_;   // bytes per second
  const double burst_;  // the most the bucket holds
  std::mutex mutex_;
  double tokens_;  // negative while in debt
  std::chrono::steady_clock::time_point refilled_;
};

}  // namespace ferry::fetch
