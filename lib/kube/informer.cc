#include "lib/kube/informer.h"

#include <random>

namespace ferry::kube {

void StripManagedFields(Json& object) {
  if (auto metadata = object.find("metadata"); metadata != object.end() && metadata->is_object()) {
    metadata->erase("managedFields");
  }
}

Informer::Informer(Client& client, InformerOptions options)
    : client_(client), options_(std::move(options)) {}

Informer::~Informer() { Stop(); }

void Informer::AddEventHandlers(EventHandlers handlers) {
  handlers_.push_back(std::move(handlers));
}

void Informer::Start() {
  if (thread_.joinable()) return;
  thread_ = std::thread([this] { Loop(); });
}

void Informer::Stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    if (current_watch_ != nullptr) current_watch_->Cancel();
  }
  changed_.notify_all();
  if (thread_.joinable()) thread_.join();
}

bool Informer::WaitForSync(std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, timeout, [&] { return synced_ || stopping_; }) && synced_;
}

InformerStats Informer::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

std::string Informer::last_resource_version() const {
  std::lock_guard lock(mutex_);
  return resource_version_;
}

bool Informer::Sleep(std::chrono::milliseconds duration) {
  std::unique_lock lock(mutex_);
  changed_.wait_for(lock, duration, [&] { return stopping_.load(); });
  return !stopping_;
}

void Informer::Notify(const ObjectPtr& old_object, const ObjectPtr& object) {
  for (const EventHandlers& handlers : handlers_) {
    if (!old_object) {
      if (handlers.on_add) handlers.on_add(object);
    } else if (!object) {
      if (handlers.on_delete) handlers.on_delete(old_object);
    } else if (handlers.on_update) {
      handlers.on_update(old_object, object);
    }
  }
}

Status Informer::ListIntoStore(std::string& resource_version) {
  ListOptions list_options;
  list_options.label_selector = options_.label_selector;
  list_options.field_selector = options_.field_selector;
  list_options.limit = options_.page_size;
  // Page by page, each transformed as it arrives, so that the peak is the
  // cache's size plus one page rather than every page untransformed.
  std::vector<ObjectPtr> objects;
  Result<std::string> snapshot = client_.ListPages(
      options_.type, options_.namespace_name, list_options, [&](ObjectList& page) {
        for (Json& item : page.items) {
          if (options_.transform) options_.transform(item);
          objects.push_back(std::make_shared<const Json>(std::move(item)));
        }
      });
  if (!snapshot) return snapshot.error();
  store_.Replace(std::move(objects), [&](const ObjectPtr& old_object, const ObjectPtr& object) {
    Notify(old_object, object);
  });
  resource_version = std::move(*snapshot);
  {
    std::lock_guard lock(mutex_);
    ++stats_.lists;
    synced_ = true;
  }
  changed_.notify_all();
  return OkStatus();
}

void Informer::Apply(WatchEvent&& event) {
  if (event.type == WatchEventType::kBookmark) return;
  if (options_.transform) options_.transform(event.object);
  auto object = std::make_shared<const Json>(std::move(event.object));
  if (event.type == WatchEventType::kDeleted) {
    ObjectPtr old_object = store_.Remove(ObjectKey(*object));
    Notify(old_object ? old_object : object, nullptr);
  } else {
    ObjectPtr old_object = store_.Upsert(object);
    Notify(old_object, object);
  }
  std::lock_guard lock(mutex_);
  ++stats_.events;
}

void Informer::Loop() {
  Backoff backoff(options_.backoff);
  std::mt19937 random(std::random_device{}());
  const std::string what =
      options_.type.Describe() +
      (options_.namespace_name.empty() ? "" : " in " + options_.namespace_name);
  std::string resource_version = options_.resume_resource_version;
  while (!stopping_) {
    if (resource_version.empty()) {
      if (Status listed = ListIntoStore(resource_version); !listed) {
        const auto wait = backoff.Next();
        if (options_.log) {
          options_.log->warn("list {}: {}; again in {} ms", what, listed.error().message,
                             wait.count());
        }
        if (!Sleep(wait)) return;
        continue;
      }
    }
    {
      std::lock_guard lock(mutex_);
      resource_version_ = resource_version;
    }

    WatchOptions watch_options;
    watch_options.resource_version = resource_version;
    watch_options.label_selector = options_.label_selector;
    watch_options.field_selector = options_.field_selector;
    const int64_t base = options_.min_watch_timeout.count();
    watch_options.server_timeout =
        std::chrono::seconds(std::uniform_int_distribution<int64_t>(base, 2 * base)(random));
    watch_options.idle_timeout = options_.idle_timeout;
    Watch watch(client_, options_.type, options_.namespace_name, watch_options);
    {
      std::lock_guard lock(mutex_);
      if (stopping_) return;
      current_watch_ = &watch;
      ++stats_.watches;
    }
    const Status ended = watch.Run([&](WatchEvent&& event) {
      Apply(std::move(event));
      return !stopping_;
    });
    {
      std::lock_guard lock(mutex_);
      current_watch_ = nullptr;
      resource_version = watch.last_resource_version();
      resource_version_ = resource_version;
    }
    if (stopping_) return;
    if (ended.ok()) {
      backoff.Reset();
      continue;
    }
    if (ended.error().code == ErrorCode::kExpired) {
      {
        std::lock_guard lock(mutex_);
        ++stats_.expired;
      }
      if (options_.log) {
        options_.log->info("watch {}: {}; listing again", what, ended.error().message);
      }
      resource_version.clear();
      continue;
    }
    {
      std::lock_guard lock(mutex_);
      ++stats_.watch_failures;
    }
    if (watch.events() > 0) backoff.Reset();  // it worked for a while: start the backoff over
    const auto wait = backoff.Next();
    if (options_.log) {
      options_.log->warn("watch {}: {}; resuming from {} in {} ms", what, ended.error().message,
                         resource_version, wait.count());
    }
    if (!Sleep(wait)) return;
  }
}

}  // namespace ferry::kube
