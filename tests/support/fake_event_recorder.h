// An EventRecorder for reconciler unit tests: it keeps every Record call, in
// order, so a test can assert "the rollout recorded CanaryFailed once" without
// a cluster. Thread-safe (reconcilers may record from several workers);
// accessors return copies, so a test never reads under a concurrent Record.
#pragma once

#include <algorithm>
#include <cstddef>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "lib/kube/event_recorder.h"

namespace ferry::testing {

struct RecordedEvent {
  kube::Json object;  // as the reconciler passed it
  kube::EventType type = kube::EventType::kNormal;
  std::string reason;
  std::string action;
  std::string note;
};

class FakeEventRecorder final : public kube::EventRecorder {
 public:
  void Record(const kube::Json& object, kube::EventType type, const std::string& reason,
              const std::string& action, const std::string& note) override {
    std::lock_guard lock(mu_);
    events_.push_back({object, type, reason, action, note});
  }

  std::vector<RecordedEvent> events() const {
    std::lock_guard lock(mu_);
    return events_;
  }

  std::vector<RecordedEvent> WithReason(std::string_view reason) const {
    std::lock_guard lock(mu_);
    std::vector<RecordedEvent> found;
    std::copy_if(events_.begin(), events_.end(), std::back_inserter(found),
                 [&](const RecordedEvent& event) { return event.reason == reason; });
    return found;
  }

  size_t Count(std::string_view reason) const { return WithReason(reason).size(); }
  bool Has(std::string_view reason) const { return Count(reason) > 0; }

  // Warnings only, the ones `kubectl get events --field-selector type=Warning` shows.
  std::vector<RecordedEvent> Warnings() const {
    std::lock_guard lock(mu_);
    std::vector<RecordedEvent> found;
    std::copy_if(
        events_.begin(), events_.end(), std::back_inserter(found),
        [](const RecordedEvent& event) { return event.type == kube::EventType::kWarning; });
    return found;
  }

  void Clear() {
    std::lock_guard lock(mu_);
    events_.clear();
  }

 private:
  mutable std::mutex mu_;
  std::vector<RecordedEvent> events_;
};

}  // namespace ferry::testing
