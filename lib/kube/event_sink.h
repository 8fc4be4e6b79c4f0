// ClusterEventRecorder: the EventRecorder that reconcilers get in production.
// It follows client-go's recorder with events.k8s.io/v1 semantics:
//
// - Record never touches the network. It copies what the Event needs onto a
//   bounded queue and returns; one thread of the recorder's own drains it.
//   When the queue is full the event is dropped and counted (and logged, at
//   most once per log_interval), so a slow or absent API server can never
//   stall a reconcile.
// - Repeats fold into a series. An event with the same regarding object,
//   type, reason, action and note as one last seen less than series_window
//   ago (measured from the event's own time, as Record read it from the
//   Clock) does not create an Event: it raises series.count and
//   series.lastObservedTime of the existing one with a merge patch. Repeats
//   that are queued together are sent as one patch carrying the final count.
//   The first occurrence, one after the window, and one whose Event has
//   expired (404 on the patch; Events live an hour) create a new Event.
// - A refusal is logged and counted, never retried: the next occurrence is
//   the retry, so an API server that refuses is not hammered.
// - The recent-series map is an LRU of at most max_series entries; an
//   evicted series simply starts a new Event on its next occurrence.
//
// Thread-safe. The writer and the clock must outlive the recorder. The
// destructor sends what is queued for at most shutdown_timeout, drops the
// rest, and joins the thread (after the one request in flight, which the
// writer's own timeouts bound).
#pragma once

#include <spdlog/logger.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "lib/common/clock.h"
#include "lib/kube/event_recorder.h"
#include "lib/kube/events.h"
#include "lib/kube/object_writer.h"

namespace ferry::kube {

struct ClusterEventRecorderOptions {
  std::string controller;  // reportingController, e.g. "ferry.dev/operator"
  std::string instance;    // reportingInstance: this replica (pod name)
  size_t queue_capacity = 1000;
  std::chrono::system_clock::duration series_window = std::chrono::minutes(6);
  size_t max_series = 4096;
  std::chrono::milliseconds shutdown_timeout = std::chrono::seconds(2);
  std::chrono::steady_clock::duration log_interval = std::chrono::seconds(5);
  std::shared_ptr<spdlog::logger> log{};  // drops and refusals at warn; may be null
};

// Counts since construction, for metrics and tests.
struct EventRecorderStats {
  uint64_t created = 0;   // Events created
  uint64_t repeated = 0;  // series patches that landed
  uint64_t folded = 0;    // repeats carried by a later patch of the same batch
  uint64_t dropped = 0;   // lost to a full queue or to shutdown
  uint64_t failed = 0;    // creates and patches the API server refused
};

class ClusterEventRecorder final : public EventRecorder {
 public:
  ClusterEventRecorder(ObjectWriter& writer, const Clock& clock,
                       ClusterEventRecorderOptions options);
  ~ClusterEventRecorder() override;
  ClusterEventRecorder(const ClusterEventRecorder&) = delete;
  ClusterEventRecorder& operator=(const ClusterEventRecorder&) = delete;

  void Record(const Json& object, EventType type, const std::string& reason,
              const std::string& action, const std::string& note) override;

  // Waits until everything recorded before the call has been sent (or
  // refused); false when `timeout` passed first.
  bool Flush(std::chrono::milliseconds timeout);

  uint64_t dropped() const { return dropped_.load(); }
  EventRecorderStats stats() const;

 private:
  // One recorded event, copied out of the caller's object so the queue
  // holds no reference into it.
  struct Pending {
    Json subject;  // apiVersion, kind and the identifying metadata only
    EventType type = EventType::kNormal;
    std::string reason, action, note;
    std::chrono::system_clock::time_point time;
    std::string series_key;  // what makes two events repeats of each other
  };
  class SeriesCache;

  void Run();
  // Sends one event; `last_of_its_kind` is false when a later event of the
  // same batch repeats it, so only the count needs updating. False when the
  // API server refused it.
  bool Deliver(const Pending& event, bool last_of_its_kind);
  void NoteDrop(const Pending& event);
  void NoteRefusal(const Pending& event, const Error& error);

  EventPoster poster_;
  const Clock& clock_;
  const ClusterEventRecorderOptions options_;
  std::unique_ptr<SeriesCache> series_;  // touched only by the sender thread

  std::mutex mu_;
  std::condition_variable wake_;     // sender: work queued or stop
  std::condition_variable drained_;  // Flush: a batch finished
  std::deque<Pending> queue_;        // guarded by mu_
  uint64_t accepted_ = 0;            // guarded by mu_: events queued so far
  uint64_t finished_ = 0;            // guarded by mu_: of those, sent, refused or dropped
  bool stopping_ = false;            // guarded by mu_: Record drops from now on
  bool abandon_ = false;             // guarded by mu_: drop what is still queued

  std::atomic<uint64_t> created_{0}, repeated_{0}, folded_{0}, dropped_{0}, failed_{0};
  std::mutex log_mu_;  // guards the two below
  std::chrono::steady_clock::time_point last_drop_log_{}, last_refusal_log_{};

  std::thread sender_;  // last: starts after everything above exists
};

}  // namespace ferry::kube
