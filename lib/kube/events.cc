#include "lib/kube/events.h"

#include <cstdio>

namespace ferry::kube {

EventRecorder::EventRecorder(Client& client, std::string controller, std::string instance)
    : client_(client), controller_(std::move(controller)), instance_(std::move(instance)) {}

Result<Json> EventRecorder::Record(const Json& object, EventType type, const std::string& reason,
                                   const std::string& action, const std::string& note) {
  const auto now = std::chrono::system_clock::now();
  // Names like client-go's: the object's name and a hexadecimal timestamp, unique enough.
  char suffix[32];
  std::snprintf(
      suffix, sizeof suffix, ".%llx",
      static_cast<unsigned long long>(
          std::chrono::duration_cast<std::chrono::nanoseconds>(now.time_since_epoch()).count()));
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
                {"metadata", {{"name", Name(object) + suffix}, {"namespace", ns}}},
                {"eventTime", FormatMicroTime(now)},
                {"reportingController", controller_},
                {"reportingInstance", instance_},
                {"action", action},
                {"reason", reason},
                {"note", note.substr(0, 1024)},  // the API's limit
                {"type", type == EventType::kWarning ? "Warning" : "Normal"},
                {"regarding", regarding}};
  return client_.Create(types::Events(), event);
}

}  // namespace ferry::kube
