// A Clock that moves only when a test moves it, so that code which waits for
// a pause to end or a heartbeat to go stale is tested without sleeping. It
// starts at 2026-12-01T00:00:00Z (a fixed date, so logs and timestamps in
// test output are the same on every run) unless given another start.
// Thread-safe: reconcilers on worker threads read it while the test moves it.
#pragma once

#include <chrono>
#include <mutex>

#include "lib/common/clock.h"

namespace ferry::testing {

class FakeClock final : public Clock {
 public:
  using time_point = std::chrono::system_clock::time_point;

  // 2026-12-01T00:00:00Z.
  static time_point DefaultStart() {
    return std::chrono::sys_days{std::chrono::year{2026} / 12 / 1};
  }

  FakeClock() : FakeClock(DefaultStart()) {}
  explicit FakeClock(time_point start) : now_(start) {}

  time_point Now() const override {
    std::lock_guard lock(mutex_);
    return now_;
  }
  void Advance(std::chrono::system_clock::duration by) {
    std::lock_guard lock(mutex_);
    now_ += by;
  }
  void Set(time_point to) {
    std::lock_guard lock(mutex_);
    now_ = to;
  }

 private:
  mutable std::mutex mutex_;
  time_point now_;  // guarded by mutex_
};

}  // namespace ferry::testing
