// Capped exponential backoff with jitter, the one policy every retry in
// lib/kube uses: API requests after a 429/5xx or a broken connection, watch
// reconnects, and items that failed to reconcile. The delay after the n-th
// failure in a row is initial * factor^(n-1), capped at `max`, then shrunk by
// a random fraction of at most `jitter` so that clients which failed together
// do not all come back at the same instant. Not thread-safe: one per loop.
#pragma once

#include <chrono>
#include <cstdint>
#include <random>

namespace ferry::kube {

struct BackoffPolicy {
  std::chrono::milliseconds initial{200};
  std::chrono::milliseconds max{30'000};
  double factor = 2.0;
  double jitter = 0.5;  // in [0, 1]: each delay is drawn from [(1 - jitter) * d, d]
};

class Backoff {
 public:
  explicit Backoff(BackoffPolicy policy, uint64_t seed = std::random_device{}());

  // The delay to wait after one more failure.
  std::chrono::milliseconds Next();
  // After a success: the next failure waits `initial` again.
  void Reset() { failures_ = 0; }
  int failures() const { return failures_; }
  const BackoffPolicy& policy() const { return policy_; }

 private:
  BackoffPolicy policy_;
  int failures_ = 0;
  std::mt19937_64 random_;
};

}  // namespace ferry::kube
