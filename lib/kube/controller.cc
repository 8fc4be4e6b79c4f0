#include "lib/kube/controller.h"

#include <algorithm>
#include <exception>
#include <utility>

#include "lib/kube/controller_metrics.h"

namespace ferry::kube {

Controller::Controller(ControllerOptions options, Reconciler reconciler)
    : name_(std::move(options.name)),
      worker_count_(std::max(options.workers, 1)),
      logger_(std::move(options.logger)),
      metrics_(options.metrics),
      reconciler_(std::move(reconciler)),
      queue_(std::move(options.rate_limiter)) {}

Controller::~Controller() { Stop(); }

void Controller::Enqueue(const std::string& key) { queue_.Add(key); }

void Controller::EnqueueAfter(const std::string& key, std::chrono::milliseconds delay) {
  queue_.AddAfter(key, delay);
}

void Controller::Start() {
  std::lock_guard lock(lifecycle_mu_);
  if (started_ || stopped_) return;
  started_ = true;
  workers_.reserve(worker_count_);
  for (int i = 0; i < worker_count_; ++i) workers_.emplace_back([this] { Work(); });
  if (logger_) logger_->info("{}: started {} workers", name_, worker_count_);
}

void Controller::Stop() {
  std::lock_guard lock(lifecycle_mu_);
  if (stopped_) return;
  stopped_ = true;
  // Wakes idle workers with nullopt; busy ones find it on their next Get.
  queue_.ShutDown();
  for (std::thread& worker : workers_) worker.join();
  workers_.clear();
  if (logger_ && started_) logger_->info("{}: stopped", name_);
}

ControllerStats Controller::Stats() const {
  return {.reconciles = reconciles_.load(), .errors = errors_.load(), .requeues = requeues_.load()};
}

void Controller::Work() {
  while (std::optional<std::string> key = queue_.Get()) ProcessOne(*key);
}

void Controller::ProcessOne(const std::string& key) {
  ++reconciles_;
  const auto started = std::chrono::steady_clock::now();
  Result<Action> result = Invoke(key);
  if (metrics_ != nullptr) {
    const char* outcome = !result.ok() ? "error" : result->requeue() ? "requeue" : "success";
    metrics_->ObserveReconcile(name_, outcome, std::chrono::steady_clock::now() - started);
  }
  // Each branch re-adds before Done, so a key due again at once is held as
  // dirty and handed out only after this worker lets go of it.
  if (!result.ok()) {
    ++errors_;
    if (logger_) {
      logger_->warn("{}: reconcile {} failed (retry {}): {}", name_, key,
                    queue_.NumRequeues(key) + 1, result.error().message);
    }
    queue_.AddRateLimited(key);
  } else if (result->requeue()) {
    ++requeues_;
    queue_.Forget(key);
    queue_.AddAfter(key, result->requeue_after());
  } else {
    queue_.Forget(key);
  }
  queue_.Done(key);
  if (metrics_ != nullptr) metrics_->SetQueueDepth(name_, queue_.Len());
}

Result<Action> Controller::Invoke(const std::string& key) {
  try {
    return reconciler_(key);
  } catch (const std::exception& e) {
    if (logger_)
      logger_->error("{}: reconcile {} threw (a bug in the reconciler): {}", name_, key, e.what());
    return MakeError(ErrorCode::kInternal, std::string("reconciler threw: ") + e.what());
  } catch (...) {
    if (logger_)
      logger_->error("{}: reconcile {} threw a non-exception (a bug in the reconciler)", name_,
                     key);
    return MakeError(ErrorCode::kInternal, "reconciler threw a non-exception");
  }
}

}  // namespace ferry::kube
