#include "lib/fetch/retry.h"

#include <algorithm>
#include <random>
#include <string>
#include <thread>

namespace ferry::fetch {
namespace {

// The wait before the next attempt after `failures` in a row: exponential,
// drawn from its upper half so that clients failing together spread out but
// never retry at once; at least what the server asked for, at most max_backoff.
std::chrono::milliseconds Backoff(const FetchOptions& options, int failures,
                                  std::chrono::milliseconds retry_after, std::mt19937& random) {
  const int doublings = std::min(failures - 1, 30);
  const std::chrono::milliseconds ceiling = std::min<std::chrono::milliseconds>(
      options.max_backoff, options.initial_backoff * (int64_t{1} << doublings));
  std::uniform_int_distribution<int64_t> jitter(ceiling.count() / 2, ceiling.count());
  return std::max(std::chrono::milliseconds(jitter(random)),
                  std::min(retry_after, options.max_backoff));
}

}  // namespace

Status RunWithRetries(const FetchOptions& options, const std::function<Attempt()>& attempt) {
  std::mt19937 random(std::random_device{}());
  int attempts = 0;
  int failures = 0;  // in a row, without progress
  while (true) {
    Attempt result = attempt();
    ++attempts;
    if (result.status.ok()) return result.status;
    failures = result.made_progress ? 1 : failures + 1;
    if (!result.transient) return result.status;
    if (failures >= options.max_attempts) {
      const Error& last = result.status.error();
      return MakeError(last.code,
                       last.message + " (gave up after " + std::to_string(attempts) + " attempts)");
    }
    const auto wait = Backoff(options, failures, result.retry_after, random);
    if (options.log) {
      options.log->warn("{}; retrying in {} ms", result.status.error().message, wait.count());
    }
    std::this_thread::sleep_for(wait);
  }
}

}  // namespace ferry::fetch
