#include "lib/kube/leader_election.h"

#include <algorithm>
#include <random>
#include <thread>

#include "lib/kube/watch.h"

namespace ferry::kube {
namespace {

LeaseRecord ReadRecord(const Json& lease) {
  const Json& spec = ObjectField(lease, "spec");
  return {StringField(spec, "holderIdentity"), IntField(spec, "leaseDurationSeconds"),
          StringField(spec, "acquireTime"), StringField(spec, "renewTime"),
          IntField(spec, "leaseTransitions")};
}

Json SpecOf(const LeaseRecord& record) {
  Json spec = {{"holderIdentity", record.holder},
               {"leaseDurationSeconds", record.lease_duration_seconds},
               {"leaseTransitions", record.transitions}};
  if (!record.acquire_time.empty()) spec["acquireTime"] = record.acquire_time;
  if (!record.renew_time.empty()) spec["renewTime"] = record.renew_time;
  return spec;
}

}  // namespace

Result<std::unique_ptr<LeaderElector>> LeaderElector::Create(Client& client,
                                                             LeaderElectionOptions options) {
  if (options.lease_name.empty() || options.lease_namespace.empty() || options.identity.empty()) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "leader election needs a Lease name, its namespace and an identity");
  }
  if (!(options.retry_period < options.renew_deadline &&
        options.renew_deadline < options.lease_duration) ||
      options.lease_duration < std::chrono::seconds(1)) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "leader election needs retry period < renew deadline < lease duration, and a "
                     "lease duration of at least 1 s");
  }
  return std::make_unique<LeaderElector>(client, std::move(options));
}

LeaderElector::LeaderElector(Client& client, LeaderElectionOptions options)
    : client_(client), options_(std::move(options)) {}

bool LeaderElector::Sleep(std::chrono::milliseconds duration) {
  std::unique_lock lock(mutex_);
  wake_.wait_for(lock, duration, [&] { return stopping_ || released_seen_; });
  released_seen_ = false;
  return !stopping_;
}

void LeaderElector::Stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
}

Json LeaderElector::LeaseObject(const LeaseRecord& record,
                                const std::string& resource_version) const {
  Json metadata = {{"name", options_.lease_name}, {"namespace", options_.lease_namespace}};
  if (!resource_version.empty()) metadata["resourceVersion"] = resource_version;
  return {{"apiVersion", "coordination.k8s.io/v1"},
          {"kind", "Lease"},
          {"metadata", std::move(metadata)},
          {"spec", SpecOf(record)}};
}

Result<bool> LeaderElector::TryAcquireOrRenew() {
  const auto now = std::chrono::system_clock::now();
  const std::string now_text = FormatMicroTime(now);
  const int64_t duration_seconds =
      std::chrono::duration_cast<std::chrono::seconds>(options_.lease_duration).count();
  const ResourceType leases = types::Leases();

  Result<Json> current = client_.Get(leases, options_.lease_namespace, options_.lease_name);
  if (!current && current.error().code == ErrorCode::kNotFound) {
    const LeaseRecord mine{options_.identity, duration_seconds, now_text, now_text, 0};
    Result<Json> created = client_.Create(leases, LeaseObject(mine, ""));
    if (!created) return created.error();
    Observe(mine, ResourceVersionOf(*created), /*wrote=*/true);
    return true;
  }
  if (!current) return current.error();

  const LeaseRecord record = ReadRecord(*current);
  Observe(record, ResourceVersionOf(*current), /*wrote=*/false);
  const bool ours = record.holder == options_.identity;
  if (const auto until_expiry = UntilExpiry(); until_expiry && until_expiry->count() > 0) {
    return false;  // held by another, and not expired
  }

  LeaseRecord mine{options_.identity, duration_seconds, ours ? record.acquire_time : now_text,
                   now_text, ours ? record.transitions : record.transitions + 1};
  Json lease = *current;
  lease["spec"] = SpecOf(mine);
  Result<Json> updated = client_.Update(leases, lease);
  if (!updated) {
    // A conflict means someone else wrote first; we simply did not win this round.
    if (updated.error().code == ErrorCode::kConflict) return false;
    return updated.error();
  }
  Observe(mine, ResourceVersionOf(*updated), /*wrote=*/true);
  return true;
}

void LeaderElector::Observe(const LeaseRecord& record, std::string resource_version, bool wrote) {
  std::lock_guard lock(observed_mutex_);
  if (wrote || !observed_.record || !(*observed_.record == record)) {
    observed_.record = record;
    observed_.at = std::chrono::steady_clock::now();
  }
  observed_.resource_version = std::move(resource_version);
}

LeaderElector::Observation LeaderElector::Observed() const {
  std::lock_guard lock(observed_mutex_);
  return observed_;
}

std::optional<std::chrono::milliseconds> LeaderElector::UntilExpiry() const {
  const Observation seen = Observed();
  if (!seen.record || seen.record->holder.empty() || seen.record->holder == options_.identity) {
    return std::nullopt;
  }
  const auto expires = seen.at + std::chrono::seconds(seen.record->lease_duration_seconds);
  return std::chrono::ceil<std::chrono::milliseconds>(expires - std::chrono::steady_clock::now());
}

void LeaderElector::WatchLease(std::stop_token stop) {
  std::mutex watch_mutex;
  Watch* current = nullptr;
  std::stop_callback cancel(stop, [&] {
    std::lock_guard lock(watch_mutex);
    if (current != nullptr) current->Cancel();
  });
  while (!stop.stop_requested()) {
    WatchOptions options;
    options.field_selector = "metadata.name=" + options_.lease_name;
    options.idle_timeout = std::chrono::seconds(30);
    Watch watch(client_, types::Leases(), options_.lease_namespace, options);
    {
      std::lock_guard lock(watch_mutex);
      if (stop.stop_requested()) return;
      current = &watch;
    }
    (void)watch.Run([&](WatchEvent&& event) {
      if (event.type == WatchEventType::kAdded || event.type == WatchEventType::kModified) {
        const LeaseRecord record = ReadRecord(event.object);
        Observe(record, ResourceVersionOf(event.object), /*wrote=*/false);
        if (record.holder.empty()) {
          {
            std::lock_guard lock(mutex_);
            released_seen_ = true;
          }
          wake_.notify_all();
        }
      }
      return !stop.stop_requested();
    });
    {
      std::lock_guard lock(watch_mutex);
      current = nullptr;
    }
    // A failed watch only costs precision: polling goes on meanwhile.
    if (!stop.stop_requested()) std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

void LeaderElector::Release() {
  const Observation seen = Observed();
  if (!seen.record || seen.record->holder != options_.identity) return;
  const auto now_text = FormatMicroTime(std::chrono::system_clock::now());
  const LeaseRecord released{"", 1, now_text, now_text, seen.record->transitions};
  // With our last resourceVersion: if someone took the Lease meanwhile, leave it to them.
  if (Result<Json> updated =
          client_.Update(types::Leases(), LeaseObject(released, seen.resource_version));
      !updated && options_.log) {
    options_.log->warn("release Lease {}/{}: {}", options_.lease_namespace, options_.lease_name,
                       updated.error().message);
  }
}

Status LeaderElector::Run(const std::function<void(std::stop_token)>& lead) {
  std::mt19937 random(std::random_device{}());
  auto jittered = [&](std::chrono::milliseconds period) {
    std::uniform_real_distribution<double> factor(1.0, 1.2);
    return std::chrono::milliseconds(static_cast<int64_t>(period.count() * factor(random)));
  };
  const std::string lease = options_.lease_namespace + "/" + options_.lease_name;

  // Campaign: poll every retry period, and try again the moment the Lease
  // held by another expires by our clock.
  {
    std::jthread lease_watch([this](std::stop_token stop) { WatchLease(stop); });
    while (true) {
      if (stopping_) return OkStatus();
      Result<bool> acquired = TryAcquireOrRenew();
      if (acquired && *acquired) break;
      std::chrono::milliseconds wait = jittered(options_.retry_period);
      if (!acquired) {
        if (options_.log) {
          options_.log->warn("leader election on Lease {}: {}", lease, acquired.error().message);
        }
      } else if (const auto until_expiry = UntilExpiry()) {
        // A few milliseconds late rather than early; never a busy loop.
        wait = std::clamp(*until_expiry + std::chrono::milliseconds(5),
                          std::chrono::milliseconds(5), wait);
      }
      if (!Sleep(wait)) return OkStatus();
    }
  }
  if (options_.log) options_.log->info("{} now leads through Lease {}", options_.identity, lease);

  // Lead, renewing; the watchdog stops the lead function once the last good
  // renewal is renew_deadline old, whether or not a renewal is still in flight.
  std::stop_source lead_stop;
  std::mutex renew_mutex;
  std::condition_variable renewed;
  auto last_renewal = std::chrono::steady_clock::now();
  bool done = false;
  leading_ = true;
  std::thread leader([&] { lead(lead_stop.get_token()); });
  std::thread watchdog([&] {
    std::unique_lock lock(renew_mutex);
    while (!done) {
      const auto deadline = last_renewal + options_.renew_deadline;
      if (std::chrono::steady_clock::now() >= deadline) {
        leading_ = false;
        lead_stop.request_stop();
        return;
      }
      renewed.wait_until(lock, deadline);
    }
  });

  Status outcome;
  while (true) {
    if (!Sleep(options_.retry_period)) break;
    if (lead_stop.stop_requested()) {
      outcome = MakeError(ErrorCode::kUnavailable,
                          "lost Lease " + lease + ": could not renew it within the renew deadline");
      break;
    }
    Result<bool> renewal = TryAcquireOrRenew();
    if (renewal && *renewal) {
      std::lock_guard lock(renew_mutex);
      last_renewal = std::chrono::steady_clock::now();
      renewed.notify_all();
      continue;
    }
    if (renewal && !*renewal) {
      outcome = MakeError(ErrorCode::kUnavailable, "lost Lease " + lease + " to another holder");
      break;
    }
    if (options_.log) options_.log->warn("renew Lease {}: {}", lease, renewal.error().message);
  }
  const bool lost = !outcome.ok() || lead_stop.stop_requested();
  {
    std::lock_guard lock(renew_mutex);
    done = true;
    renewed.notify_all();
  }
  lead_stop.request_stop();
  leading_ = false;
  watchdog.join();
  leader.join();
  if (!lost) Release();  // a clean stop hands over at once
  if (options_.log) {
    options_.log->info("{} stopped leading Lease {}{}", options_.identity, lease,
                       outcome.ok() ? "" : ": " + outcome.error().message);
  }
  return outcome;
}

}  // namespace ferry::kube
