#include "lib/fetch/rate_limiter.h"

#include <algorithm>
#include <thread>

namespace ferry::fetch {

RateLimiter::RateLimiter(uint64_t bytes_per_second)
    : rate_(static_cast<double>(bytes_per_second)),
      burst_(rate_ / 10),
      tokens_(burst_),
      refilled_(std::chrono::steady_clock::now()) {}

void RateLimiter::Acquire(uint64_t bytes) {
  if (rate_ == 0) return;
  std::chrono::duration<double> wait{0};
  {
    std::lock_guard lock(mutex_);
    const auto now = std::chrono::steady_clock::now();
    const std::chrono::duration<double> elapsed = now - refilled_;
    refilled_ = now;
    tokens_ = std::min(burst_, tokens_ + elapsed.count() * rate_) - static_cast<double>(bytes);
    if (tokens_ < 0) wait = std::chrono::duration<double>(-tokens_ / rate_);
  }
  std::this_thread::sleep_for(wait);
}

}  // namespace ferry::fetch
