// The low-speed limit of FetchOptions, as curl's --speed-limit/--speed-time: a
// transfer that moves fewer than `limit` bytes/s, averaged over the last
// `window` of its life, is ended. A per-recv() timeout cannot do this: a
// server that sends a byte every few seconds, in its headers or its body,
// resets it forever. So one thread per Source samples every transfer under
// way a few times per window and, when one falls below the limit, shuts its
// socket down, which ends the blocked read at once; the transfer then reports
// the verdict (the rate and the window) instead of a broken connection.
//
// A transfer's clock stops while it waits on the Source's own bandwidth cap:
// a pace that we set is not the server's. A transfer shorter than one window
// is never judged. The socket is held as a duplicate of the client's
// descriptor, so shutting it down can never hit a descriptor number that the
// process has since reused for something else. Thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "lib/common/file.h"

namespace ferry::fetch {

class LowSpeedWatchdog {
 public:
  // The socket of one HTTP client, which may change from one exchange to the next.
  class Socket {
   public:
    // Called with each socket the client opens (httplib's socket_options).
    void Adopt(int fd);
    void Shutdown();

   private:
    std::mutex mutex_;
    UniqueFd fd_;  // guarded by mutex_
  };

  // One exchange under watch, from its construction to its destruction.
  class Transfer {
   public:
    Transfer(LowSpeedWatchdog& watchdog, std::shared_ptr<Socket> socket);
    ~Transfer();
    Transfer(const Transfer&) = delete;
    Transfer& operator=(const Transfer&) = delete;

    void Arrived(uint64_t bytes);
    // Bracket a wait on our own bandwidth cap.
    void Pause();
    void Resume();
    // Set once the watchdog ended the exchange: "averaged N bytes/s over the
    // last W s, below the low-speed limit of L bytes/s".
    std::optional<std::string> verdict() const;

   private:
    friend class LowSpeedWatchdog;
    using Clock = std::chrono::steady_clock;
    struct Sample {
      Clock::duration active;  // the transfer's clock
      uint64_t bytes;          // arrived by then
    };
    Clock::duration Active(Clock::time_point now) const;

    LowSpeedWatchdog& watchdog_;
    const std::shared_ptr<Socket> socket_;
    const Clock::time_point start_;
    std::atomic<uint64_t> bytes_ = 0;  // counted without the lock: it is the hot path
    // Guarded by the watchdog's mutex_.
    Clock::duration paused_{0};
    std::optional<Clock::time_point> paused_since_;
    std::deque<Sample> samples_;
    std::optional<std::string> verdict_;
  };

  // `limit` 0 disables the watchdog: Watch then returns null and no thread runs.
  LowSpeedWatchdog(uint64_t limit, std::chrono::milliseconds window);
  ~LowSpeedWatchdog();
  LowSpeedWatchdog(const LowSpeedWatchdog&) = delete;
  LowSpeedWatchdog& operator=(const LowSpeedWatchdog&) = delete;

  // Watches an exchange over `socket`; null when the watchdog is disabled.
  std::unique_ptr<Transfer> Watch(std::shared_ptr<Socket> socket);

 private:
  void Run();
  void Check(Transfer& transfer, std::chrono::steady_clock::time_point now);

  const uint64_t limit_;
  const std::chrono::milliseconds window_;
  const std::chrono::milliseconds tick_;
  mutable std::mutex mutex_;
  std::condition_variable stopping_changed_;
  bool stopping_ = false;             // guarded by mutex_
  std::vector<Transfer*> transfers_;  // guarded by mutex_; each unregisters itself
  std::thread thread_;
};

}  // namespace ferry::fetch
