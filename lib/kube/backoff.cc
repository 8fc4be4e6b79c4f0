#include "lib/kube/backoff.h"

#include <algorithm>
#include <cmath>

namespace ferry::kube {

Backoff::Backoff(BackoffPolicy policy, uint64_t seed) : policy_(policy), random_(seed) {
  policy_.jitter = std::clamp(policy_.jitter, 0.0, 1.0);
  policy_.factor = std::max(policy_.factor, 1.0);
}

std::chrono::milliseconds Backoff::Next() {
  ++failures_;
  const double uncapped = static_cast<double>(policy_.initial.count()) *
                          std::pow(policy_.factor, std::min(failures_ - 1, 62));
  const double ceiling = std::min(uncapped, static_cast<double>(policy_.max.count()));
  std::uniform_real_distribution<double> shrink(1.0 - policy_.jitter, 1.0);
  return std::chrono::milliseconds(static_cast<int64_t>(ceiling * shrink(random_)));
}

}  // namespace ferry::kube
