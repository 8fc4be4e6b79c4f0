// Where reconcilers and other time-driven code read "now". Code that waits
// for a pause to end or a heartbeat to go stale takes a Clock, so tests drive
// it with a fake clock instead of sleeping (tests/support/fake_clock.h).
#pragma once

#include <chrono>

namespace ferry {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual std::chrono::system_clock::time_point Now() const = 0;
};

// The wall clock.
class SystemClock final : public Clock {
 public:
  std::chrono::system_clock::time_point Now() const override {
    return std::chrono::system_clock::now();
  }
};

}  // namespace ferry
