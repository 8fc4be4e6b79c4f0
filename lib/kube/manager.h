// The runtime of one operator process, after controller-runtime's Manager:
// the informers (one per watched type), the controllers that reconcile from
// their caches, and — when configured — the leader election that decides
// whether this replica's controllers run.
//
//   Watch / AddController / AddEventHandlers   (before Run, from one thread)
//   Run: start informers -> wait until every cache synced (or time out,
//        naming the type) -> [campaign] -> start controllers -> wait for stop
//
// Invariants:
//   - A controller never runs before every cache has synced, so a reconcile
//     never takes "not in the cache yet" for "does not exist".
//   - With leader election, controllers run only while this replica leads.
//     Losing the lease stops them and ends Run with an error: the process
//     should exit non-zero so that Kubernetes restarts it with clean state
//     (a stopped Controller does not start again, and in-memory state of a
//     former leader must not outlive its term).
//   - Ready() is true once every cache has synced, leading or not: a standby
//     replica is available, it serves /readyz and takes over at once.
// Ready, IsLeader, Stats and Of are thread-safe; registration is not and
// ends when Run begins (later calls throw std::logic_error).
#pragma once

#include <spdlog/logger.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <vector>

#include "lib/common/result.h"
#include "lib/kube/caches.h"
#include "lib/kube/client.h"
#include "lib/kube/controller.h"
#include "lib/kube/informer.h"
#include "lib/kube/leader_election.h"

namespace ferry::kube {

struct ManagerOptions {
  // Unset: controllers start as soon as the caches synced.
  std::optional<LeaderElectionOptions> leader_election{};
  // How long Run waits for the first list of every informer.
  std::chrono::milliseconds sync_timeout{60'000};
  std::shared_ptr<spdlog::logger> log{};  // may be null
};

struct ManagerStats {
  bool synced = false;   // every cache
  bool leading = false;  // controllers running
  uint64_t terms = 0;    // times the controllers were started (0 or 1 per process)
  std::map<std::string, InformerStats> informers;      // by CacheKey
  std::map<std::string, ControllerStats> controllers;  // by controller name
};

class Manager final : public Caches {
 public:
  Manager(Client& client, ManagerOptions options = {});
  ~Manager() override;  // stops whatever Run started, if Run is still going
  Manager(const Manager&) = delete;
  Manager& operator=(const Manager&) = delete;

  // The informer for options.type, created on the first call; later calls
  // for the same type return the same informer and must ask for the same
  // namespace and selectors (else std::invalid_argument). Add indexes and
  // handlers to it before Run; the manager starts and stops it.
  Informer& Watch(InformerOptions options);
  // Shorthand for Watch(type).AddEventHandlers; the type must be watched.
  void AddEventHandlers(const ResourceType& type, EventHandlers handlers);
  // A controller the manager owns and starts only once caches synced (and
  // while leading). Wire it to informers with lib/kube/enqueue.h.
  Controller& AddController(ControllerOptions options, Reconciler reconciler);

  // Blocks until `stop` is requested (ok) or something fails: a cache did
  // not sync in time (kUnavailable, naming the type), leader election was
  // misconfigured (kInvalidArgument) or leadership was lost (kUnavailable).
  // Everything started is stopped before it returns. Once per manager.
  Status Run(std::stop_token stop);

  // For /readyz: ok once every informer has synced.
  Status Ready() const;
  // Whether this replica's controllers are running (leading, or leader
  // election is off and the caches synced).
  bool IsLeader() const { return leading_; }
  ManagerStats Stats() const;

  // The cache of a watched type; std::out_of_range for any other.
  const Store& Of(const ResourceType& type) const override;

 private:
  // Waits for every informer's first list; the error names the laggard.
  Status WaitForSync(std::stop_token stop);
  // Runs the controllers until `stop`, then stops them.
  void Lead(std::stop_token stop);
  void StopInformers();
  void CheckNotStarted(const char* what) const;

  Client& client_;
  ManagerOptions options_;
  std::map<std::string, std::unique_ptr<Informer>> informers_;  // by CacheKey
  std::map<std::string, InformerOptions> informer_options_;     // as first asked for
  std::vector<std::unique_ptr<Controller>> controllers_;

  std::atomic<bool> started_{false};
  std::atomic<bool> synced_{false};
  std::atomic<bool> leading_{false};
  std::atomic<uint64_t> terms_{0};
};

}  // namespace ferry::kube
