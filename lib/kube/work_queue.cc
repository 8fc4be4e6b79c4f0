#include "lib/kube/work_queue.h"

#include <utility>

namespace ferry::kube {

WorkQueue::WorkQueue(std::unique_ptr<ItemRateLimiter> limiter)
    : limiter_(limiter ? std::move(limiter) : DefaultControllerRateLimiter()) {}

void WorkQueue::Add(const std::string& key) {
  std::lock_guard lock(mu_);
  AddLocked(key);
}

void WorkQueue::AddLocked(const std::string& key) {
  if (shutting_down_) return;
  if (!dirty_.insert(key).second) return;  // already queued, or already due again after Done
  // A processing key waits in dirty_ alone; Done moves it to the queue.
  if (processing_.contains(key)) return;
  queue_.push_back(key);
  ready_.notify_one();
}

void WorkQueue::AddAfter(const std::string& key, std::chrono::milliseconds delay) {
  if (delay <= std::chrono::milliseconds(0)) {
    Add(key);
    return;
  }
  const Clock::time_point ready_at = Clock::now() + delay;
  std::lock_guard lock(mu_);
  if (shutting_down_) return;
  if (const auto found = waiting_by_key_.find(key); found != waiting_by_key_.end()) {
    if (found->second->first <= ready_at) return;  // the earlier wake-up already covers this one
    waiting_.erase(found->second);
  }
  const auto entry = waiting_.emplace(ready_at, key);
  waiting_by_key_[key] = entry;
  // Only a new earliest deadline changes how long blocked Gets should sleep.
  if (entry == waiting_.begin()) ready_.notify_all();
}

void WorkQueue::AddRateLimited(const std::string& key) { AddAfter(key, limiter_->When(key)); }

void WorkQueue::Forget(const std::string& key) { limiter_->Forget(key); }

int WorkQueue::NumRequeues(const std::string& key) const { return limiter_->Failures(key); }

std::optional<std::string> WorkQueue::Get() {
  std::unique_lock lock(mu_);
  while (true) {
    if (shutting_down_) return std::nullopt;
    PromoteDueLocked(Clock::now());
    if (!queue_.empty()) break;
    if (waiting_.empty()) {
      ready_.wait(lock);
    } else {
      // A copy: wait_until reads its deadline again after waking, and another
      // worker may have promoted (and freed) that entry meanwhile.
      const Clock::time_point next_due = waiting_.begin()->first;
      ready_.wait_until(lock, next_due);
    }
  }
  std::string key = std::move(queue_.front());
  queue_.pop_front();
  dirty_.erase(key);
  processing_.insert(key);
  // Promotion may have readied more than one key while only this Get was awake.
  if (!queue_.empty()) ready_.notify_one();
  return key;
}

void WorkQueue::Done(const std::string& key) {
  std::lock_guard lock(mu_);
  if (processing_.erase(key) == 0) return;
  // dirty_ is empty once shut down, so nothing is queued again then.
  if (dirty_.contains(key)) {
    queue_.push_back(key);
    ready_.notify_one();
  }
  if (processing_.empty()) idle_.notify_all();
}

void WorkQueue::ShutDown() {
  std::lock_guard lock(mu_);
  shutting_down_ = true;
  queue_.clear();
  dirty_.clear();
  waiting_.clear();
  waiting_by_key_.clear();
  ready_.notify_all();
}

void WorkQueue::ShutDownWithDrain() {
  ShutDown();
  std::unique_lock lock(mu_);
  idle_.wait(lock, [this] { return processing_.empty(); });
}

bool WorkQueue::ShuttingDown() const {
  std::lock_guard lock(mu_);
  return shutting_down_;
}

size_t WorkQueue::Len() {
  std::lock_guard lock(mu_);
  PromoteDueLocked(Clock::now());
  return queue_.size();
}

void WorkQueue::PromoteDueLocked(Clock::time_point now) {
  while (!waiting_.empty() && waiting_.begin()->first <= now) {
    const auto entry = waiting_.begin();
    std::string key = std::move(entry->second);
    waiting_by_key_.erase(key);
    waiting_.erase(entry);
    AddLocked(key);
  }
}

}  // namespace ferry::kube
