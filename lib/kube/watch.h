// One watch request: the API server streams a JSON object per line
// ({"type": "ADDED", "object": {...}}) until it ends the request, the
// connection breaks, or we cancel. A Watch delivers each event in order and
// remembers the resourceVersion of the last one, so that whoever runs it can
// resume exactly there. Reconnecting, re-listing and backoff are the
// reflector's business (reflector.h), not this file's.
//
// A watch ends with:
//   ok            the server closed the stream (its timeout), or Cancel();
//   kExpired      the resourceVersion asked for is too old to serve (410,
//                 as an answer or as an ERROR event): list again;
//   kUnavailable  the connection broke or was silent longer than the idle
//                 timeout (a dead peer that sent no FIN is noticed this way);
//   other codes   the server refused the request (RBAC, bad selector).
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "lib/common/result.h"
#include "lib/kube/client.h"

namespace ferry::kube {

enum class WatchEventType { kAdded, kModified, kDeleted, kBookmark };

struct WatchEvent {
  WatchEventType type = WatchEventType::kAdded;
  Json object;  // for a bookmark, only metadata.resourceVersion is meaningful
};

struct WatchOptions {
  std::string resource_version;  // where to start; "" = from "now", after a synthetic list
  std::string label_selector;
  std::string field_selector;
  bool allow_bookmarks = true;
  // The server ends the request after this long (client-go picks 5-10 min).
  std::chrono::seconds server_timeout{300};
  // Longer than the API server's bookmark interval (about a minute), so that
  // only a dead connection stays silent this long.
  std::chrono::seconds idle_timeout{90};
};

// One line of a watch stream: the event, or the error an ERROR event or a
// malformed line stands for (see the header comment). Items get their
// apiVersion and kind, which watch events leave out.
Result<WatchEvent> ParseWatchFrame(std::string_view line, const ResourceType& type);

class Watch {
 public:
  Watch(Client& client, ResourceType type, std::string namespace_name, WatchOptions options);
  ~Watch();

  // Blocks, calling `on_event` for each event, until the watch ends (see the
  // header comment); `on_event` returning false ends it too (ok).
  Status Run(const std::function<bool(WatchEvent&&)>& on_event);
  // Thread-safe: makes Run return promptly.
  void Cancel();

  // The resourceVersion of the last event delivered (bookmarks included).
  const std::string& last_resource_version() const { return last_resource_version_; }
  uint64_t events() const { return events_; }

 private:
  Status HandleLine(std::string_view line, const std::function<bool(WatchEvent&&)>& on_event,
                    bool& stop);

  Client& client_;
  const ResourceType type_;
  const std::string namespace_;
  const WatchOptions options_;
  std::unique_ptr<Transport::Stream> stream_;
  std::string last_resource_version_;
  uint64_t events_ = 0;
};

}  // namespace ferry::kube
