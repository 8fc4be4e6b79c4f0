#include "lib/kube/event_sink.h"

#include <list>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>

namespace ferry::kube {

// The Event each recent series lives in, least recently seen last. Entries
// point into their list nodes' keys, which never move.
class ClusterEventRecorder::SeriesCache {
 public:
  struct Series {
    std::string event_namespace;
    std::string event_name;
    int32_t count = 1;
    std::chrono::system_clock::time_point last_observed;
  };

  explicit SeriesCache(size_t capacity) : capacity_(capacity == 0 ? 1 : capacity) {}

  // The series for `key`, now the most recent; null when unknown.
  Series* Find(const std::string& key) {
    auto found = index_.find(key);
    if (found == index_.end()) return nullptr;
    order_.splice(order_.begin(), order_, found->second);
    return &found->second->second;
  }

  void Put(const std::string& key, Series series) {
    Erase(key);
    order_.emplace_front(key, std::move(series));
    index_.emplace(order_.front().first, order_.begin());
    if (order_.size() > capacity_) {
      index_.erase(order_.back().first);
      order_.pop_back();
    }
  }

  void Erase(const std::string& key) {
    auto found = index_.find(key);
    if (found == index_.end()) return;
    auto node = found->second;
    index_.erase(found);
    order_.erase(node);
  }

 private:
  using Order = std::list<std::pair<std::string, Series>>;
  const size_t capacity_;
  Order order_;
  std::unordered_map<std::string_view, Order::iterator> index_;
};

namespace {

// The parts of `object` an Event's `regarding` is built from; the rest (spec,
// status) may be large and is not needed once Record returns.
Json SubjectOf(const Json& object) {
  Json metadata = {
      {"name", Name(object)}, {"uid", Uid(object)}, {"resourceVersion", ResourceVersionOf(object)}};
  if (!Namespace(object).empty()) metadata["namespace"] = Namespace(object);
  return {{"apiVersion", StringField(object, "apiVersion")},
          {"kind", StringField(object, "kind")},
          {"metadata", std::move(metadata)}};
}

// Repeats are the same (object, type, reason, action, note), as client-go's
// isomorphism key; the separator cannot occur in names, uids or kinds.
std::string SeriesKey(const Json& object, EventType type, const std::string& reason,
                      const std::string& action, const std::string& note) {
  std::string key;
  for (const std::string& part :
       {Uid(object), StringField(object, "kind"), Namespace(object), Name(object),
        std::string(type == EventType::kWarning ? "W" : "N"), reason, action}) {
    key += part;
    key += '\x1f';
  }
  key += note;
  return key;
}

std::string Describe(const Json& subject, const std::string& reason) {
  return StringField(subject, "kind") + " " + ObjectKey(subject) + " " + reason;
}

}  // namespace

ClusterEventRecorder::ClusterEventRecorder(ObjectWriter& writer, const Clock& clock,
                                           ClusterEventRecorderOptions options)
    : poster_(writer, options.controller, options.instance),
      clock_(clock),
      options_(std::move(options)),
      series_(std::make_unique<SeriesCache>(options_.max_series)),
      sender_([this] { Run(); }) {}

ClusterEventRecorder::~ClusterEventRecorder() {
  const bool drained = Flush(options_.shutdown_timeout);
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    abandon_ = !drained;
  }
  wake_.notify_all();
  sender_.join();
}

void ClusterEventRecorder::Record(const Json& object, EventType type, const std::string& reason,
                                  const std::string& action, const std::string& note) {
  // Everything is copied and keyed here, outside the lock, so the lock is
  // held only for the push.
  const std::string short_note = TruncateUtf8(note, kMaxEventNoteBytes);
  Pending event{.subject = SubjectOf(object),
                .type = type,
                .reason = reason,
                .action = action,
                .note = short_note,
                .time = clock_.Now(),
                .series_key = SeriesKey(object, type, reason, action, short_note)};
  bool accepted = false;
  {
    std::lock_guard lock(mu_);
    if (!stopping_ && queue_.size() < options_.queue_capacity) {
      queue_.push_back(std::move(event));
      ++accepted_;
      accepted = true;
    }
  }
  if (accepted) {
    wake_.notify_one();
  } else {
    NoteDrop(event);
  }
}

bool ClusterEventRecorder::Flush(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  const uint64_t target = accepted_;
  return drained_.wait_for(lock, timeout, [&] { return finished_ >= target; });
}

EventRecorderStats ClusterEventRecorder::stats() const {
  return {.created = created_.load(),
          .repeated = repeated_.load(),
          .folded = folded_.load(),
          .dropped = dropped_.load(),
          .failed = failed_.load()};
}

void ClusterEventRecorder::Run() {
  std::unique_lock lock(mu_);
  while (true) {
    wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
    if (stopping_ && (queue_.empty() || abandon_)) {
      dropped_ += queue_.size();
      finished_ += queue_.size();
      queue_.clear();
      drained_.notify_all();
      return;
    }
    // The whole queue at once, so repeats queued together fold into one patch.
    std::deque<Pending> batch;
    batch.swap(queue_);
    lock.unlock();
    std::unordered_map<std::string_view, size_t> last_index;
    for (size_t i = 0; i < batch.size(); ++i) last_index[batch[i].series_key] = i;
    // Once refused, the repeats in this batch are not tried again: that
    // would be a hot retry against a server that just said no.
    std::unordered_set<std::string_view> refused;
    for (size_t i = 0; i < batch.size(); ++i) {
      const std::string_view key = batch[i].series_key;
      if (refused.contains(key)) {
        ++failed_;
      } else if (!Deliver(batch[i], last_index[key] == i)) {
        refused.insert(key);
      }
    }
    lock.lock();
    finished_ += batch.size();
    drained_.notify_all();
  }
}

bool ClusterEventRecorder::Deliver(const Pending& event, bool last_of_its_kind) {
  SeriesCache::Series* series = series_->Find(event.series_key);
  if (series != nullptr && event.time - series->last_observed < options_.series_window) {
    ++series->count;
    series->last_observed = event.time;
    if (!last_of_its_kind) {
      ++folded_;
      return true;
    }
    Result<Json> patched = poster_.PostRepeat(series->event_namespace, series->event_name,
                                              series->count, series->last_observed);
    if (patched) {
      ++repeated_;
      return true;
    }
    if (patched.error().code != ErrorCode::kNotFound) {
      // The local count stays raised: the next repeat's patch carries it.
      NoteRefusal(event, patched.error());
      return false;
    }
    // The Event expired under the series: this occurrence starts a new one.
  }
  Result<Json> created =
      poster_.Post(event.subject, event.type, event.reason, event.action, event.note, event.time);
  if (!created) {
    series_->Erase(event.series_key);
    NoteRefusal(event, created.error());
    return false;
  }
  ++created_;
  series_->Put(event.series_key, {.event_namespace = Namespace(*created),
                                  .event_name = Name(*created),
                                  .count = 1,
                                  .last_observed = event.time});
  return true;
}

void ClusterEventRecorder::NoteDrop(const Pending& event) {
  const uint64_t dropped = ++dropped_;
  if (options_.log == nullptr) return;
  {
    std::lock_guard lock(log_mu_);
    const auto now = std::chrono::steady_clock::now();
    if (last_drop_log_ != std::chrono::steady_clock::time_point{} &&
        now - last_drop_log_ < options_.log_interval) {
      return;
    }
    last_drop_log_ = now;
  }
  options_.log->warn("event queue full ({} events): dropped {} ({} dropped so far)",
                     options_.queue_capacity, Describe(event.subject, event.reason), dropped);
}

void ClusterEventRecorder::NoteRefusal(const Pending& event, const Error& error) {
  const uint64_t failed = ++failed_;
  if (options_.log == nullptr) return;
  {
    std::lock_guard lock(log_mu_);
    const auto now = std::chrono::steady_clock::now();
    if (last_refusal_log_ != std::chrono::steady_clock::time_point{} &&
        now - last_refusal_log_ < options_.log_interval) {
      return;
    }
    last_refusal_log_ = now;
  }
  options_.log->warn("event {} not recorded: {} ({} refused so far)",
                     Describe(event.subject, event.reason), error.message, failed);
}

}  // namespace ferry::kube
