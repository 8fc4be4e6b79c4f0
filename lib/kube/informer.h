// An informer keeps a Store equal to the API server's state of one resource
// type (optionally one namespace, optionally filtered by selectors) and tells
// handlers what changed. It is client-go's reflector and kube-rs's watcher in
// one loop, on a thread of its own:
//
//   list (paginated) -> replace the store -> watch from the list's version
//   -> apply each event -> on a clean end, watch again from the last version
//
// A broken or silent connection is re-watched from the last version seen,
// after a capped, jittered backoff (so a restarted API server is not stormed
// by every client at once). A 410 Gone (the version was compacted away) makes
// it list again; the store's Replace then reports exactly what changed while
// it was not looking, so no add, update or delete is lost. HasSynced turns
// true after the first list has been stored, and stays true.
//
// Handlers run on the informer's thread, in event order, after the store has
// been updated; they should be quick (enqueue a key, not reconcile).
#pragma once

#include <spdlog/logger.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "lib/kube/backoff.h"
#include "lib/kube/client.h"
#include "lib/kube/store.h"
#include "lib/kube/watch.h"

namespace ferry::kube {

struct EventHandlers {
  std::function<void(const ObjectPtr& object)> on_add;
  std::function<void(const ObjectPtr& old_object, const ObjectPtr& object)> on_update;
  std::function<void(const ObjectPtr& last_known)> on_delete;
};

// Removes metadata.managedFields (see InformerOptions::transform).
void StripManagedFields(Json& object);

struct InformerOptions {
  ResourceType type;
  std::string namespace_name;  // "" = all namespaces (or cluster-scoped)
  std::string label_selector;
  std::string field_selector;
  int64_t page_size = 500;
  // Each watch asks the server to end it after a random time between this
  // and twice this, so that many informers do not reconnect in step.
  std::chrono::seconds min_watch_timeout{300};
  std::chrono::seconds idle_timeout{90};  // see WatchOptions
  BackoffPolicy backoff{.initial = std::chrono::milliseconds(800),
                        .max = std::chrono::milliseconds(30'000)};
  // Start by watching from this version instead of listing (a restarted
  // process that knows where it stopped). A 410 falls back to a list.
  std::string resume_resource_version;
  // Applied to each object before it enters the cache. By default the
  // managedFields are dropped: nearly half the memory of a cached object, and
  // no reconciler reads them (server-side apply sends intent, not the cache).
  std::function<void(Json&)> transform = StripManagedFields;
  std::shared_ptr<spdlog::logger> log{};  // may be null
};

struct InformerStats {
  uint64_t lists = 0;
  uint64_t watches = 0;         // watch requests started
  uint64_t watch_failures = 0;  // ended by a broken connection or a refusal
  uint64_t expired = 0;         // ended by 410 Gone, followed by a list
  uint64_t events = 0;          // watch events applied (bookmarks excluded)
};

class Informer {
 public:
  Informer(Client& client, InformerOptions options);
  ~Informer();  // stops
  Informer(const Informer&) = delete;
  Informer& operator=(const Informer&) = delete;

  // Before Start.
  void AddEventHandlers(EventHandlers handlers);
  void AddIndex(const std::string& name, IndexFunction index) { store_.AddIndex(name, index); }

  void Start();
  // Ends the watch in flight and joins the thread; idempotent.
  void Stop();

  const Store& store() const { return store_; }
  bool HasSynced() const { return synced_; }
  bool WaitForSync(std::chrono::milliseconds timeout) const;
  InformerStats stats() const;
  std::string last_resource_version() const;

 private:
  void Loop();
  Status ListIntoStore(std::string& resource_version);
  void Apply(WatchEvent&& event);
  void Notify(const ObjectPtr& old_object, const ObjectPtr& object);
  // Sleeps, waking early when stopping; false when stopping.
  bool Sleep(std::chrono::milliseconds duration);

  Client& client_;
  const InformerOptions options_;
  Store store_;
  std::vector<EventHandlers> handlers_;

  std::atomic<bool> stopping_{false};
  std::atomic<bool> synced_{false};
  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;  // synced_ or stopping_ moved
  Watch* current_watch_ = nullptr;           // guarded by mutex_
  std::string resource_version_;             // guarded by mutex_
  InformerStats stats_;                      // guarded by mutex_
  std::thread thread_;
};

}  // namespace ferry::kube
