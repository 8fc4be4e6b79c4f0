#include "lib/fetch/low_speed.h"

#include <fcntl.h>
#include <sys/socket.h>

#include <algorithm>
#include <cmath>

namespace ferry::fetch {

using Clock = std::chrono::steady_clock;

namespace {

std::string Seconds(std::chrono::milliseconds duration) {
  const int64_t ms = duration.count();
  if (ms % 1000 == 0) return std::to_string(ms / 1000);
  return std::to_string(ms / 1000) + "." + std::to_string(ms % 1000 / 100);
}

}  // namespace

void LowSpeedWatchdog::Socket::Adopt(int fd) {
  std::lock_guard lock(mutex_);
  fd_ = UniqueFd(::fcntl(fd, F_DUPFD_CLOEXEC, 0));
}

void LowSpeedWatchdog::Socket::Shutdown() {
  std::lock_guard lock(mutex_);
  if (fd_.valid()) ::shutdown(fd_.get(), SHUT_RDWR);
}

LowSpeedWatchdog::LowSpeedWatchdog(uint64_t limit, std::chrono::milliseconds window)
    : limit_(window.count() > 0 ? limit : 0),
      window_(window),
      // A few samples per window, so a verdict comes at most a tick late.
      tick_(std::clamp<std::chrono::milliseconds>(window / 8, std::chrono::milliseconds(50),
                                                  std::chrono::seconds(1))) {
  if (limit_ > 0) thread_ = std::thread([this] { Run(); });
}

LowSpeedWatchdog::~LowSpeedWatchdog() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  stopping_changed_.notify_all();
  if (thread_.joinable()) thread_.join();
}

std::unique_ptr<LowSpeedWatchdog::Transfer> LowSpeedWatchdog::Watch(
    std::shared_ptr<Socket> socket) {
  if (limit_ == 0) return nullptr;
  return std::make_unique<Transfer>(*this, std::move(socket));
}

void LowSpeedWatchdog::Run() {
  std::unique_lock lock(mutex_);
  while (!stopping_changed_.wait_for(lock, tick_, [&] { return stopping_; })) {
    const Clock::time_point now = Clock::now();
    for (Transfer* transfer : transfers_) Check(*transfer, now);
  }
}

void LowSpeedWatchdog::Check(Transfer& transfer, Clock::time_point now) {
  if (transfer.verdict_ || transfer.paused_since_) return;
  const Clock::duration active = transfer.Active(now);
  std::deque<Transfer::Sample>& samples = transfer.samples_;
  const uint64_t bytes = transfer.bytes_.load(std::memory_order_relaxed);
  samples.push_back({active, bytes});
  // Keep the newest sample that is at least a window old, and those after it.
  while (samples.size() >= 2 && samples[1].active <= active - window_) samples.pop_front();
  const Transfer::Sample& oldest = samples.front();
  if (oldest.active > active - window_) return;  // younger than a window
  const double seconds = std::chrono::duration<double>(active - oldest.active).count();
  const double rate = static_cast<double>(bytes - oldest.bytes) / seconds;
  if (rate >= static_cast<double>(limit_)) return;
  transfer.verdict_ = "averaged " + std::to_string(std::llround(rate)) + " bytes/s over the last " +
                      Seconds(window_) + " s, below the low-speed limit of " +
                      std::to_string(limit_) + " bytes/s";
  transfer.socket_->Shutdown();
}

LowSpeedWatchdog::Transfer::Transfer(LowSpeedWatchdog& watchdog, std::shared_ptr<Socket> socket)
    : watchdog_(watchdog), socket_(std::move(socket)), start_(Clock::now()) {
  std::lock_guard lock(watchdog_.mutex_);
  samples_.push_back({Clock::duration::zero(), 0});
  watchdog_.transfers_.push_back(this);
}

LowSpeedWatchdog::Transfer::~Transfer() {
  std::lock_guard lock(watchdog_.mutex_);
  std::erase(watchdog_.transfers_, this);
}

void LowSpeedWatchdog::Transfer::Arrived(uint64_t bytes) {
  bytes_.fetch_add(bytes, std::memory_order_relaxed);
}

void LowSpeedWatchdog::Transfer::Pause() {
  std::lock_guard lock(watchdog_.mutex_);
  paused_since_ = Clock::now();
}

void LowSpeedWatchdog::Transfer::Resume() {
  std::lock_guard lock(watchdog_.mutex_);
  if (paused_since_) paused_ += Clock::now() - *paused_since_;
  paused_since_.reset();
}

std::optional<std::string> LowSpeedWatchdog::Transfer::verdict() const {
  std::lock_guard lock(watchdog_.mutex_);
  return verdict_;
}

Clock::duration LowSpeedWatchdog::Transfer::Active(Clock::time_point now) const {
  return now - start_ - paused_;
}

}  // namespace ferry::fetch
