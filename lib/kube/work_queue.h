// The queue between event sources (watches, timers) and a controller's
// workers, with client-go's workqueue semantics:
//   - a key is queued at most once: adding it again while it waits is a no-op,
//     because reconciling is level-triggered and one pass sees the latest state;
//   - a key handed out by Get is "processing" until Done(key), and is never
//     handed to a second worker meanwhile; adding it in that window marks it
//     dirty, and Done queues it again (at the back);
//   - ready keys come out in FIFO order; AddAfter holds a key back until its
//     delay has passed (a key waiting twice keeps the earlier time), and
//     AddRateLimited takes the delay from the rate limiter.
// Delays are served by Get itself through timed condition-variable waits, so
// the queue owns no thread. Thread-safe.
//
// Shutting down differs from client-go's ShutDown on purpose: keys still
// queued or waiting are dropped and Get returns nullopt at once instead of
// handing out the backlog first. Controllers re-list everything when they
// start again, so the backlog carries nothing worth delaying a stop for.
// Keys already processing stay so until their Done; ShutDownWithDrain also
// waits for those, as client-go's does.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "lib/kube/rate_limiter.h"

namespace ferry::kube {

class WorkQueue {
 public:
  // A null limiter means DefaultControllerRateLimiter().
  explicit WorkQueue(std::unique_ptr<ItemRateLimiter> limiter = nullptr);
  WorkQueue(const WorkQueue&) = delete;
  WorkQueue& operator=(const WorkQueue&) = delete;

  // Queues `key` unless it is already queued; ignored after ShutDown.
  void Add(const std::string& key);
  // Add(key) once `delay` has passed; at once if it is not positive.
  void AddAfter(const std::string& key, std::chrono::milliseconds delay);
  // AddAfter(key, limiter.When(key)): the next retry of a failing key.
  void AddRateLimited(const std::string& key);
  // Clears the key's retry history in the limiter (after a success); it does
  // not take the key out of the queue.
  void Forget(const std::string& key);
  // How often the key has been rate-limited since the last Forget.
  int NumRequeues(const std::string& key) const;

  // Blocks for the next ready key and marks it processing. nullopt once the
  // queue is shut down. The caller must call Done(key) when finished with it.
  std::optional<std::string> Get();
  // The caller has finished with `key`; queues it again if it was added meanwhile.
  void Done(const std::string& key);

  // Drops queued and waiting keys, ignores later adds and wakes every Get with
  // nullopt. Idempotent.
  void ShutDown();
  // ShutDown, then waits until every key handed out has been Done. Calling it
  // while holding a key of this queue waits forever.
  void ShutDownWithDrain();
  bool ShuttingDown() const;

  // Keys ready to be handed out (not those still waiting out a delay).
  size_t Len();

 private:
  using Clock = std::chrono::steady_clock;

  void AddLocked(const std::string& key);
  // Moves keys whose delay has passed into the ready queue.
  void PromoteDueLocked(Clock::time_point now);

  const std::unique_ptr<ItemRateLimiter> limiter_;

  mutable std::mutex mu_;
  // Signalled when a key becomes ready, a delay is added that may be sooner
  // than the one waited for, or on shut-down.
  std::condition_variable ready_;
  // Signalled when a key stops processing, for ShutDownWithDrain.
  std::condition_variable idle_;
  std::deque<std::string> queue_;  // ready keys, FIFO; each is also in dirty_
  // Keys that need processing: queued, or added while processing.
  std::unordered_set<std::string> dirty_;
  std::unordered_set<std::string> processing_;
  // Keys waiting out a delay, by ready time; equal times keep insertion order.
  std::multimap<Clock::time_point, std::string> waiting_;
  std::unordered_map<std::string, std::multimap<Clock::time_point, std::string>::iterator>
      waiting_by_key_;
  bool shutting_down_ = false;
};

}  // namespace ferry::kube
