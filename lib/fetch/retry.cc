#include "lib/fetch/retry.h"

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <random>
#include <string>

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

Status RunWithRetries(const FetchOptions& options, const std::function<Attempt()>& attempt,
                      const std::stop_token& stop) {
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
    std::mutex mutex;
    std::condition_variable_any woken;
    std::unique_lock lock(mutex);
    if (woken.wait_for(lock, stop, wait, [] { return false; }) || stop.stop_requested()) {
      return MakeError(ErrorCode::kCancelled,
                       result.status.error().message + " (cancelled while waiting to retry)");
    }
  }
}

}  // namespace ferry::fetch
