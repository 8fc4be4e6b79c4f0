// Leader election through a coordination.k8s.io/v1 Lease, as client-go does
// it, so that of several replicas exactly one reconciles at a time.
//
// A candidate takes the Lease when nobody holds it or when its holder has not
// renewed it for leaseDurationSeconds. "Has not renewed" is judged by the
// candidate's own clock, from when it last saw the Lease change, never by
// comparing the holder's renewTime with local time, so clock skew between
// nodes cannot make two leaders. Every write carries the Lease's
// resourceVersion, so two candidates racing for an expired Lease cannot both
// win: the API server refuses the second with a conflict.
//
// The leader renews every retry period. If it cannot renew for renew_deadline
// (< lease_duration) it stops leading at once: the lead function's stop token
// is triggered by a watchdog even while a renewal request still hangs, so the
// old leader has stopped before any other candidate can see the Lease as
// expired. On Stop, a leader releases the Lease (empty holder) so that a
// successor takes over at once instead of after lease_duration. Candidates
// watch the Lease while they wait (see WatchLease), so a dead leader is
// replaced one lease duration after its last renewal, not a poll later.
#pragma once

#include <spdlog/logger.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>

#include "lib/kube/client.h"

namespace ferry::kube {

struct LeaderElectionOptions {
  std::string lease_namespace;
  std::string lease_name;
  std::string identity;  // unique per replica: pod name, or host name + pid
  std::chrono::milliseconds lease_duration{15'000};
  std::chrono::milliseconds renew_deadline{10'000};
  std::chrono::milliseconds retry_period{2'000};
  std::shared_ptr<spdlog::logger> log{};  // may be null
};

// A Lease's spec as the election reads it.
struct LeaseRecord {
  std::string holder;
  int64_t lease_duration_seconds = 0;
  std::string acquire_time;
  std::string renew_time;
  int64_t transitions = 0;
  bool operator==(const LeaseRecord&) const = default;
};

class LeaderElector {
 public:
  // Checks that renew_deadline < lease_duration and retry_period < renew_deadline.
  static Result<std::unique_ptr<LeaderElector>> Create(Client& client,
                                                       LeaderElectionOptions options);
  LeaderElector(Client& client, LeaderElectionOptions options);  // use Create

  // Campaigns until this replica leads, then runs `lead` on a thread of its
  // own, renewing meanwhile. Returns when leadership ends: lost (renewal failed
  // for renew_deadline; returns kUnavailable) or given up through Stop (ok).
  // `lead` must return soon after its stop token is triggered; Run waits for it.
  Status Run(const std::function<void(std::stop_token)>& lead);

  // Thread-safe: ends Run, releasing the Lease when leading.
  void Stop();
  bool IsLeader() const { return leading_; }

 private:
  // One attempt to take or keep the Lease; true when we hold it afterwards.
  Result<bool> TryAcquireOrRenew();
  // Our Lease holding `record`, at `resource_version` ("" for a new one).
  Json LeaseObject(const LeaseRecord& record, const std::string& resource_version) const;
  void Release();
  // Waits, waking early when stopping or when the Lease was released; false
  // when stopping.
  bool Sleep(std::chrono::milliseconds duration);

  Client& client_;
  const LeaderElectionOptions options_;
  std::atomic<bool> leading_{false};
  std::atomic<bool> stopping_{false};
  std::atomic<bool> released_seen_{false};  // the watch saw the Lease given up: try at once
  std::mutex mutex_;
  std::condition_variable wake_;

  // What we last saw of the Lease, and when by our clock (see the header
  // comment). Written by the campaign and by the Lease watch.
  struct Observation {
    std::optional<LeaseRecord> record;
    std::chrono::steady_clock::time_point at{};
    std::string resource_version;
  };
  // Records a Lease as read; `wrote`: we just wrote it, so it is fresh now.
  void Observe(const LeaseRecord& record, std::string resource_version, bool wrote);
  Observation Observed() const;
  // How long until the Lease, held by another, expires by our clock; nullopt
  // when nobody else holds it.
  std::optional<std::chrono::milliseconds> UntilExpiry() const;
  // While campaigning, follows the Lease with a watch, so that each renewal is
  // seen as it happens and its expiry counted from then, not from our next
  // poll up to a retry period later: a dead leader is replaced one lease
  // duration after its last renewal.
  void WatchLease(std::stop_token stop);

  mutable std::mutex observed_mutex_;
  Observation observed_;  // guarded by observed_mutex_
};

}  // namespace ferry::kube
