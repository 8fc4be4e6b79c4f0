#include "lib/kube/watch.h"

#include "lib/kube/api_error.h"

namespace ferry::kube {
namespace {

std::optional<WatchEventType> ParseType(const std::string& type) {
  if (type == "ADDED") return WatchEventType::kAdded;
  if (type == "MODIFIED") return WatchEventType::kModified;
  if (type == "DELETED") return WatchEventType::kDeleted;
  if (type == "BOOKMARK") return WatchEventType::kBookmark;
  return std::nullopt;
}

}  // namespace

Watch::Watch(Client& client, ResourceType type, std::string namespace_name, WatchOptions options)
    : client_(client),
      type_(std::move(type)),
      namespace_(std::move(namespace_name)),
      options_(std::move(options)),
      stream_(client_.transport().NewStream()),
      last_resource_version_(options_.resource_version) {}

Watch::~Watch() = default;

void Watch::Cancel() { stream_->Cancel(); }

Result<WatchEvent> ParseWatchFrame(std::string_view line, const ResourceType& type) {
  Json frame = Json::parse(line, nullptr, false);
  if (frame.is_discarded() || !frame.is_object()) {
    return MakeError(ErrorCode::kUnavailable,
                     "watch " + type.Describe() + ": the server sent a line that is not JSON");
  }
  const std::string event_name = StringField(frame, "type");
  Json& object = frame["object"];
  if (event_name == "ERROR") {
    // The stream's way to say 410 Gone (and, rarely, other failures).
    const int64_t code = IntField(object, "code", 500);
    const std::string message = StringField(object, "message", "watch failed");
    const ErrorCode error_code = code == 410   ? ErrorCode::kExpired
                                 : code >= 500 ? ErrorCode::kUnavailable
                                               : ErrorCode::kInternal;
    return MakeError(error_code, "watch " + type.Describe() + ": " + message);
  }
  const std::optional<WatchEventType> event_type = ParseType(event_name);
  if (!event_type || !object.is_object()) {
    return MakeError(ErrorCode::kUnavailable,
                     "watch " + type.Describe() + ": unexpected event type \"" + event_name + "\"");
  }
  if (*event_type != WatchEventType::kBookmark) {
    object["apiVersion"] = type.ApiVersion();
    object["kind"] = type.kind;
  }
  return WatchEvent{*event_type, std::move(object)};
}

Status Watch::HandleLine(std::string_view line, const std::function<bool(WatchEvent&&)>& on_event,
                         bool& stop) {
  Result<WatchEvent> event = ParseWatchFrame(line, type_);
  if (!event) return event.error();
  if (std::string version = ResourceVersionOf(event->object); !version.empty()) {
    last_resource_version_ = std::move(version);
  }
  ++events_;
  if (!on_event(std::move(*event))) stop = true;
  return OkStatus();
}

Status Watch::Run(const std::function<bool(WatchEvent&&)>& on_event) {
  std::string target = CollectionPath(type_, namespace_);
  AddQueryParameter(target, "watch", "true");
  AddQueryParameter(target, "resourceVersion", options_.resource_version);
  AddQueryParameter(target, "allowWatchBookmarks", options_.allow_bookmarks ? "true" : "");
  AddQueryParameter(target, "labelSelector", options_.label_selector);
  AddQueryParameter(target, "fieldSelector", options_.field_selector);
  AddQueryParameter(target, "timeoutSeconds", std::to_string(options_.server_timeout.count()));
  const HttpRequest request{"GET", target, "", ""};

  std::string pending;  // the start of a line whose end has not arrived
  Status failed;
  bool stop = false;
  Result<HttpResponse> answer =
      stream_->Run(request, options_.idle_timeout, [&](std::string_view data) {
        pending.append(data);
        size_t start = 0;
        for (size_t end; (end = pending.find('\n', start)) != std::string::npos; start = end + 1) {
          if (end == start) continue;
          failed = HandleLine(std::string_view(pending).substr(start, end - start), on_event, stop);
          if (!failed || stop) return false;
        }
        pending.erase(0, start);
        return true;
      });
  if (!failed) return failed;
  if (!answer) return answer.error();
  if (answer->status != 200) return ApiError(request, *answer);
  return OkStatus();
}

}  // namespace ferry::kube
