// A controller: a work queue of object keys and a pool of workers that hand
// each key to a reconciler, after kube-rs's Controller. The reconciler is
// told only the key ("namespace/name", or "name" for cluster-scoped objects)
// and reads the current state itself, so it may run any number of times for
// one change; its result says what to do next:
//   - Action::Done()             the object is settled: forget its failures;
//   - Action::RequeueAfter(d)    look again after d (polling a rollout step),
//                                and forget its failures, since this is no error;
//   - an Error                   log it and retry with the rate limiter's
//                                growing per-key delay.
// The queue guarantees that one key is never reconciled by two workers at
// once. An exception escaping the reconciler is a bug in it; the worker
// catches it, logs it and treats it as an error so one bad object cannot take
// the process down.
//
// Lifecycle: construct, Enqueue any number of keys, Start once; Stop (or the
// destructor) stops handing out keys, drops the backlog, lets running
// reconciles finish and joins the workers. A stopped controller does not start
// again. Stop must not be called from inside the reconciler.
#pragma once

#include <spdlog/logger.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "lib/common/result.h"
#include "lib/kube/rate_limiter.h"
#include "lib/kube/work_queue.h"

namespace ferry::kube {

class ControllerMetrics;

class Action {
 public:
  static Action Done() { return Action(false, std::chrono::milliseconds(0)); }
  static Action RequeueAfter(std::chrono::milliseconds delay) { return Action(true, delay); }

  bool requeue() const { return requeue_; }
  std::chrono::milliseconds requeue_after() const { return requeue_after_; }

 private:
  Action(bool requeue, std::chrono::milliseconds delay)
      : requeue_(requeue), requeue_after_(delay) {}

  bool requeue_;
  std::chrono::milliseconds requeue_after_;
};

using Reconciler = std::function<Result<Action>(const std::string& key)>;

struct ControllerOptions {
  std::string name = "controller";                  // prefixes log lines
  int workers = 2;                                  // at least 1 is started
  std::unique_ptr<ItemRateLimiter> rate_limiter{};  // null: DefaultControllerRateLimiter()
  std::shared_ptr<spdlog::logger> logger{};         // null: no logging
  ControllerMetrics* metrics = nullptr;             // null: none; must outlive the controller
};

// Counts since construction, for tests and metrics. Every reconcile ends in
// exactly one of: done, requeued (RequeueAfter) or error (an Error result or
// an exception), so reconciles = done + requeues + errors once workers are idle.
struct ControllerStats {
  uint64_t reconciles = 0;
  uint64_t errors = 0;
  uint64_t requeues = 0;
};

class Controller {
 public:
  Controller(ControllerOptions options, Reconciler reconciler);
  ~Controller();
  Controller(const Controller&) = delete;
  Controller& operator=(const Controller&) = delete;

  // Queues `key` for reconciling (de-duplicated); ignored once stopped.
  void Enqueue(const std::string& key);
  void EnqueueAfter(const std::string& key, std::chrono::milliseconds delay);

  // Launches the workers. Only the first call does anything, and none after Stop.
  void Start();
  // Graceful and idempotent: when it returns no reconcile is running and none
  // will start.
  void Stop();

  ControllerStats Stats() const;
  const std::string& name() const { return name_; }

 private:
  void Work();
  void ProcessOne(const std::string& key);
  // The reconciler's result, with an escaping exception turned into an Error.
  Result<Action> Invoke(const std::string& key);

  const std::string name_;
  const int worker_count_;
  const std::shared_ptr<spdlog::logger> logger_;
  ControllerMetrics* const metrics_;
  const Reconciler reconciler_;
  WorkQueue queue_;

  std::mutex lifecycle_mu_;  // serialises Start and Stop
  bool started_ = false;     // guarded by lifecycle_mu_
  bool stopped_ = false;     // guarded by lifecycle_mu_
  std::vector<std::thread> workers_;

  std::atomic<uint64_t> reconciles_{0};
  std::atomic<uint64_t> errors_{0};
  std::atomic<uint64_t> requeues_{0};
};

}  // namespace ferry::kube
