#include "lib/kube/rate_limiter.h"

#include <algorithm>
#include <cmath>
#include <utility>

namespace ferry::kube {

using std::chrono::milliseconds;
using std::chrono::nanoseconds;

ItemExponentialLimiter::ItemExponentialLimiter(milliseconds base, milliseconds max)
    : base_(std::max(base, milliseconds(0))), max_(std::max(max, milliseconds(0))) {}

milliseconds ItemExponentialLimiter::When(const std::string& key) {
  int exponent;
  {
    std::lock_guard lock(mu_);
    exponent = failures_[key]++;
  }
  // In floating point so that a key failing thousands of times saturates at
  // the cap instead of overflowing the shift.
  const double delay = static_cast<double>(base_.count()) * std::pow(2.0, std::min(exponent, 62));
  if (delay >= static_cast<double>(max_.count())) return max_;
  return milliseconds(static_cast<milliseconds::rep>(delay));
}

void ItemExponentialLimiter::Forget(const std::string& key) {
  std::lock_guard lock(mu_);
  failures_.erase(key);
}

int ItemExponentialLimiter::Failures(const std::string& key) const {
  std::lock_guard lock(mu_);
  const auto it = failures_.find(key);
  return it == failures_.end() ? 0 : it->second;
}

namespace {

nanoseconds IntervalFor(double qps) {
  // A floor well below anything useful keeps the division finite.
  const double seconds_per_token = 1.0 / std::max(qps, 1e-6);
  return nanoseconds(static_cast<nanoseconds::rep>(std::llround(seconds_per_token * 1e9)));
}

}  // namespace

TokenBucketLimiter::TokenBucketLimiter(double qps, int burst, NowFunction now)
    : interval_(IntervalFor(qps)),
      tolerance_(interval_ * (std::max(burst, 1) - 1)),
      now_(std::move(now)),
      debt_clears_at_(now_()) {}

milliseconds TokenBucketLimiter::When(const std::string&) {
  std::lock_guard lock(mu_);
  const auto now = now_();
  // An idle bucket refills only up to `burst`: debt cannot be paid in advance.
  debt_clears_at_ = std::max(debt_clears_at_, now);
  const nanoseconds wait = std::max(debt_clears_at_ - tolerance_ - now, nanoseconds(0));
  debt_clears_at_ += interval_;
  // Rounded up: a retry let out a fraction of a millisecond early would exceed the rate.
  return std::chrono::ceil<milliseconds>(wait);
}

MaxOfLimiter::MaxOfLimiter(std::vector<std::unique_ptr<ItemRateLimiter>> limiters)
    : limiters_(std::move(limiters)) {}

milliseconds MaxOfLimiter::When(const std::string& key) {
  milliseconds longest(0);
  for (const auto& limiter : limiters_) longest = std::max(longest, limiter->When(key));
  return longest;
}

void MaxOfLimiter::Forget(const std::string& key) {
  for (const auto& limiter : limiters_) limiter->Forget(key);
}

int MaxOfLimiter::Failures(const std::string& key) const {
  int most = 0;
  for (const auto& limiter : limiters_) most = std::max(most, limiter->Failures(key));
  return most;
}

std::unique_ptr<ItemRateLimiter> DefaultControllerRateLimiter() {
  std::vector<std::unique_ptr<ItemRateLimiter>> limiters;
  limiters.push_back(
      std::make_unique<ItemExponentialLimiter>(milliseconds(5), std::chrono::seconds(1000)));
  limiters.push_back(std::make_unique<TokenBucketLimiter>(10.0, 100));
  return std::make_unique<MaxOfLimiter>(std::move(limiters));
}

}  // namespace ferry::kube
