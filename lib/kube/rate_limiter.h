// Per-item rate limiters for the work queue, after client-go's workqueue
// limiters. When(key) records one more failure of `key` (or one more retry of
// anything, for the overall bucket) and returns how long to wait before the key
// may be handed out again; Forget(key) says the key succeeded, so its next
// failure starts from the shortest delay. Every limiter here is thread-safe:
// all of a controller's workers share one. Time comes from an injectable
// now-function so that tests can drive the clock instead of sleeping.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace ferry::kube {

using NowFunction = std::function<std::chrono::steady_clock::time_point()>;

class ItemRateLimiter {
 public:
  virtual ~ItemRateLimiter() = default;

  // Counts one more retry of `key` and returns the delay before it may run again.
  virtual std::chrono::milliseconds When(const std::string& key) = 0;
  // `key` succeeded (or was given up on): its history is cleared.
  virtual void Forget(const std::string& key) = 0;
  // How many times When(key) has been asked since the last Forget(key).
  virtual int Failures(const std::string& key) const = 0;
};

// Delay base * 2^(n-1) for the n-th failure of a key in a row, capped at `max`:
// one broken object backs off on its own without slowing down the others.
class ItemExponentialLimiter final : public ItemRateLimiter {
 public:
  explicit ItemExponentialLimiter(std::chrono::milliseconds base = std::chrono::milliseconds(5),
                                  std::chrono::milliseconds max = std::chrono::seconds(1000));

  std::chrono::milliseconds When(const std::string& key) override;
  void Forget(const std::string& key) override;
  int Failures(const std::string& key) const override;

 private:
  const std::chrono::milliseconds base_;
  const std::chrono::milliseconds max_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, int> failures_;  // guarded by mu_; absent means 0
};

// One bucket for all keys: `burst` retries at once, then `qps` per second on
// average, so a storm of failures cannot hammer the API server. When() reserves
// a token even if it has to wait for it (the bucket goes into debt), as Go's
// rate.Limiter.Reserve does: the returned delay is the time until that
// reserved token would have been earned. Keys are not tracked: Forget is a no-op
// and Failures is 0.
class TokenBucketLimiter final : public ItemRateLimiter {
 public:
  // qps > 0 and burst >= 1; smaller values are raised to those bounds.
  TokenBucketLimiter(double qps, int burst, NowFunction now = std::chrono::steady_clock::now);

  std::chrono::milliseconds When(const std::string& key) override;
  void Forget(const std::string&) override {}
  int Failures(const std::string&) const override { return 0; }

 private:
  // Kept as a "theoretical arrival time" (GCRA) in whole nanoseconds rather than
  // a fractional token count, so equal inputs give equal delays, with no
  // rounding drift.
  const std::chrono::nanoseconds interval_;   // the time one token takes to earn
  const std::chrono::nanoseconds tolerance_;  // (burst - 1) intervals
  const NowFunction now_;
  std::mutex mu_;
  std::chrono::steady_clock::time_point debt_clears_at_;  // guarded by mu_
};

// The longest delay any of its limiters asks for. Every limiter sees every
// When and Forget, so each keeps its own count whichever one decided.
class MaxOfLimiter final : public ItemRateLimiter {
 public:
  explicit MaxOfLimiter(std::vector<std::unique_ptr<ItemRateLimiter>> limiters);

  std::chrono::milliseconds When(const std::string& key) override;
  void Forget(const std::string& key) override;
  int Failures(const std::string& key) const override;

 private:
  const std::vector<std::unique_ptr<ItemRateLimiter>> limiters_;
};

// client-go's DefaultControllerRateLimiter: per-item exponential from 5 ms up to
// 1000 s, and overall 10 qps with bursts of 100.
std::unique_ptr<ItemRateLimiter> DefaultControllerRateLimiter();

}  // namespace ferry::kube
