// Posting one Kubernetes Event (events.k8s.io/v1) and folding a repeat into
// it, synchronously, with the result returned. This is the sending half of
// ClusterEventRecorder (event_sink.h); reconcilers record through the
// EventRecorder interface (event_recorder.h), which never blocks, instead of
// calling this directly.
//
// Invariants: every Event names its reporter (controller and instance, as the
// API requires) and carries eventTime; its note never exceeds the API's 1 KiB
// limit and is never cut inside a UTF-8 character; names from one poster are
// unique even when the clock hands out the same instant twice.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "lib/common/result.h"
#include "lib/kube/event_recorder.h"
#include "lib/kube/object.h"
#include "lib/kube/object_writer.h"

namespace ferry::kube {

// The API's limit on Event.note, in bytes.
inline constexpr size_t kMaxEventNoteBytes = 1024;

// `note` cut to at most `max_bytes`, at a UTF-8 character boundary.
std::string TruncateUtf8(std::string_view note, size_t max_bytes);

class EventPoster {
 public:
  // `controller` names the reporter ("ferry.dev/operator"); `instance` the
  // replica (pod name), as the events API asks. `writer` must outlive this.
  EventPoster(ObjectWriter& writer, std::string controller, std::string instance);

  // Creates an Event regarding `object` (which must carry apiVersion, kind
  // and metadata) that happened at `time`. Returns the created Event.
  Result<Json> Post(const Json& object, EventType type, const std::string& reason,
                    const std::string& action, const std::string& note,
                    std::chrono::system_clock::time_point time = std::chrono::system_clock::now());

  // Records on the Event `namespace_name/name` that it has now been seen
  // `count` times (at least 2), the last at `last_observed`: a merge patch of
  // its series. kNotFound when the Event is gone (Events expire after an hour).
  Result<Json> PostRepeat(std::string_view namespace_name, std::string_view name, int32_t count,
                          std::chrono::system_clock::time_point last_observed);

 private:
  std::string UniqueSuffix(std::chrono::system_clock::time_point time);

  ObjectWriter& writer_;
  const std::string controller_;
  const std::string instance_;
  std::atomic<int64_t> last_suffix_nanos_{0};
};

}  // namespace ferry::kube
