#include "lib/kube/events.h"

#include <cstdio>

namespace ferry::kube {

std::string TruncateUtf8(std::string_view note, size_t max_bytes) {
  if (note.size() <= max_bytes) return std::string(note);
  size_t end = max_bytes;
  // Back off over continuation bytes (10xxxxxx) so no character is split;
  // the JSON encoder refuses a broken sequence.
  while (end > 0 && (static_cast<unsigned char>(note[end]) & 0xC0) == 0x80) --end;
  return std::string(note.substr(0, end));
}

EventPoster::EventPoster(ObjectWriter& writer, std::string controller, std::string instance)
    : writer_(writer), controller_(std::move(controller)), instance_(std::move(instance)) {}

std::string EventPoster::UniqueSuffix(std::chrono::system_clock::time_point time) {
  // Named like client-go's (the object's name and a hexadecimal timestamp),
  // but never the same twice: a fake clock, or two events in one tick, would
  // otherwise collide and be refused as AlreadyExists.
  int64_t nanos =
      std::chrono::duration_cast<std::chrono::nanoseconds>(time.time_since_epoch()).count();
  int64_t last = last_suffix_nanos_.load();
  do {
    if (nanos <= last) nanos = last + 1;
  } while (!last_suffix_nanos_.compare_exchange_weak(last, nanos));
  char suffix[32];
  std::snprintf(suffix, sizeof suffix, ".%llx", static_cast<unsigned long long>(nanos));
  return suffix;
}

Result<Json> EventPoster::Post(const Json& object, EventType type, const std::string& reason,
                               const std::string& action, const std::string& note,
                               std::chrono::system_clock::time_point time) {
  // Cluster-scoped objects get their events in "default", as kubectl expects.
  const std::string ns = Namespace(object).empty() ? "default" : Namespace(object);
  Json regarding = {{"apiVersion", StringField(object, "apiVersion")},
                    {"kind", StringField(object, "kind")},
                    {"name", Name(object)},
                    {"uid", Uid(object)},
                    {"resourceVersion", ResourceVersionOf(object)}};
  if (!Namespace(object).empty()) regarding["namespace"] = Namespace(object);
  Json event = {{"apiVersion", "events.k8s.io/v1"},
                {"kind", "Event"},
                {"metadata", {{"name", Name(object) + UniqueSuffix(time)}, {"namespace", ns}}},
                {"eventTime", FormatMicroTime(time)},
                {"reportingController", controller_},
                {"reportingInstance", instance_},
                {"action", action},
                {"reason", reason},
                {"note", TruncateUtf8(note, kMaxEventNoteBytes)},
                {"type", type == EventType::kWarning ? "Warning" : "Normal"},
                {"regarding", regarding}};
  return writer_.Create(types::Events(), event);
}

Result<Json> EventPoster::PostRepeat(std::string_view namespace_name, std::string_view name,
                                     int32_t count,
                                     std::chrono::system_clock::time_point last_observed) {
  const Json patch = {
      {"series", {{"count", count}, {"lastObservedTime", FormatMicroTime(last_observed)}}}};
  return writer_.Patch(types::Events(), namespace_name, name, PatchType::kMerge, patch);
}

}  // namespace ferry::kube
