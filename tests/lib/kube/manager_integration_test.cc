// The Manager against the real local control plane: caches sync before any
// reconcile, readiness follows the caches, and with leader election exactly
// one of two managers runs its controllers, the other taking over when the
// leader stops or loses its Lease.
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <set>
#include <thread>

#include "lib/common/utc_time.h"
#include "lib/kube/enqueue.h"
#include "lib/kube/manager.h"
#include "tests/lib/kube/cluster_client.h"

namespace ferry::kube {
namespace {

using std::chrono::milliseconds;

// A manager watching the test's ConfigMaps with one controller that records
// which keys it reconciled and whether each was in the cache at the time.
struct Replica {
  Replica(const std::string& namespace_name, ManagerOptions options)
      : client(NewClusterClient()), manager(*client, std::move(options)) {
    InformerOptions watch;
    watch.type = types::ConfigMaps();
    watch.namespace_name = namespace_name;
    manager.Watch(watch);
    Controller& controller = manager.AddController(
        {.name = "recorder", .workers = 1}, [this](const std::string& key) -> Result<Action> {
          std::lock_guard lock(mutex);
          reconciled.insert(key);
          if (!manager.Of(types::ConfigMaps()).Get(key)) missing_from_cache.insert(key);
          return Action::Done();
        });
    manager.AddEventHandlers(types::ConfigMaps(), EnqueueObject(controller));
  }
  ~Replica() { (void)Stop(); }

  void Start() {
    thread = std::jthread([this](std::stop_token stop) {
      outcome = manager.Run(stop);
      finished = true;
    });
  }
  // Returns what Run returned.
  Status Stop() {
    if (thread.joinable()) {
      thread.request_stop();
      thread.join();
    }
    return outcome;
  }
  std::set<std::string> Reconciled() {
    std::lock_guard lock(mutex);
    return reconciled;
  }
  bool Reconciled(const std::string& key) { return Reconciled().contains(key); }

  std::unique_ptr<Client> client;
  Manager manager;
  std::mutex mutex;
  std::set<std::string> reconciled;          // guarded by mutex
  std::set<std::string> missing_from_cache;  // guarded by mutex
  Status outcome;                            // what Run returned; read once `finished` or joined
  std::atomic<bool> finished{false};
  std::jthread thread;  // last: joined before the rest is destroyed
};

class ManagerTest : public ClusterTest {
 protected:
  void CreateConfigMap(const std::string& name) {
    Result<Json> created = client_->Create(types::ConfigMaps(), ConfigMap(name));
    ASSERT_TRUE(created) << created.error().message;
  }
  std::string Key(const std::string& name) const { return namespace_ + "/" + name; }

  LeaderElectionOptions Election(const std::string& identity) const {
    return {.lease_namespace = namespace_,
            .lease_name = "manager-test",
            .identity = identity,
            .lease_duration = milliseconds(3000),
            .renew_deadline = milliseconds(2000),
            .retry_period = milliseconds(300)};
  }
};

TEST_F(ManagerTest, SyncsCachesThenReconciles) {
  for (const char* name : {"a", "b", "c"}) CreateConfigMap(name);
  Replica replica(namespace_, {});
  Status before = replica.manager.Ready();
  ASSERT_FALSE(before);
  EXPECT_EQ(before.error().code, ErrorCode::kUnavailable);
  EXPECT_FALSE(replica.manager.IsLeader());

  replica.Start();
  EXPECT_TRUE(Eventually([&] { return replica.manager.Ready().ok(); }));
  EXPECT_TRUE(Eventually([&] { return replica.manager.IsLeader(); }));
  EXPECT_TRUE(Eventually([&] {
    return replica.Reconciled(Key("a")) && replica.Reconciled(Key("b")) &&
           replica.Reconciled(Key("c"));
  }));
  CreateConfigMap("d");
  EXPECT_TRUE(Eventually([&] { return replica.Reconciled(Key("d")); }));
  {
    std::lock_guard lock(replica.mutex);
    EXPECT_TRUE(replica.missing_from_cache.empty());  // never reconciled before the cache had it
  }
  ManagerStats stats = replica.manager.Stats();
  EXPECT_TRUE(stats.synced);
  EXPECT_EQ(stats.terms, 1u);
  EXPECT_GE(stats.controllers.at("recorder").reconciles, 4u);
  EXPECT_EQ(stats.informers.at(CacheKey(types::ConfigMaps())).lists, 1u);

  Status stopped = replica.Stop();
  EXPECT_TRUE(stopped) << stopped.error().message;
  EXPECT_FALSE(replica.manager.IsLeader());
}

TEST_F(ManagerTest, ACacheThatNeverSyncsIsAnErrorNamingIt) {
  Replica replica(namespace_, {.sync_timeout = milliseconds(1500)});
  // No such resource on the server: its list fails, so it never syncs.
  InformerOptions missing;
  missing.type = {"ferry.dev", "v1alpha1", "nosuchthings", "NoSuchThing", true};
  missing.namespace_name = namespace_;
  replica.manager.Watch(missing);
  replica.Start();
  std::this_thread::sleep_for(milliseconds(500));
  Status waiting = replica.manager.Ready();
  ASSERT_FALSE(waiting);
  EXPECT_NE(waiting.error().message.find("nosuchthings.ferry.dev"), std::string::npos)
      << waiting.error().message;
  ASSERT_TRUE(Eventually([&] { return replica.finished.load(); }));  // Run ends by itself
  replica.thread.join();
  ASSERT_FALSE(replica.outcome);
  EXPECT_EQ(replica.outcome.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(replica.outcome.error().message.find("nosuchthings.ferry.dev"), std::string::npos)
      << replica.outcome.error().message;
  EXPECT_TRUE(replica.Reconciled().empty());
}

TEST_F(ManagerTest, OnlyTheLeaderReconcilesAndTheStandbyTakesOver) {
  CreateConfigMap("first");
  Replica one(namespace_, {.leader_election = Election("one")});
  Replica two(namespace_, {.leader_election = Election("two")});
  one.Start();
  ASSERT_TRUE(Eventually([&] { return one.manager.IsLeader(); }));
  two.Start();
  // The standby is ready (its caches synced) but does not reconcile.
  ASSERT_TRUE(Eventually([&] { return two.manager.Ready().ok(); }));
  EXPECT_TRUE(Eventually([&] { return one.Reconciled(Key("first")); }));
  CreateConfigMap("second");
  EXPECT_TRUE(Eventually([&] { return one.Reconciled(Key("second")); }));
  std::this_thread::sleep_for(milliseconds(1000));
  EXPECT_FALSE(two.manager.IsLeader());
  EXPECT_TRUE(two.Reconciled().empty());

  // Stopping the leader releases the Lease: the standby leads at once and
  // reconciles everything, level-based, from its cache.
  Status stopped = one.Stop();
  EXPECT_TRUE(stopped) << stopped.error().message;
  EXPECT_FALSE(one.manager.IsLeader());
  EXPECT_TRUE(Eventually([&] { return two.manager.IsLeader(); }, milliseconds(10'000)));
  EXPECT_TRUE(
      Eventually([&] { return two.Reconciled(Key("first")) && two.Reconciled(Key("second")); }));
  CreateConfigMap("third");
  EXPECT_TRUE(Eventually([&] { return two.Reconciled(Key("third")); }));
  EXPECT_FALSE(one.Reconciled(Key("third")));
}

TEST_F(ManagerTest, LosingTheLeaseEndsRunWithAnError) {
  Replica replica(namespace_, {.leader_election = Election("victim")});
  replica.Start();
  ASSERT_TRUE(Eventually([&] { return replica.manager.IsLeader(); }));

  // Another holder takes the Lease over (as after a partition) and keeps it
  // fresh, so the victim's renewals fail until its renew deadline passes.
  std::atomic<bool> stealing{true};
  std::jthread thief([&] {
    while (stealing) {
      (void)RetryOnConflict([&]() -> Result<Json> {
        Result<Json> lease = client_->Get(types::Leases(), namespace_, "manager-test");
        if (!lease) return lease.error();
        (*lease)["spec"]["holderIdentity"] = "thief";
        (*lease)["spec"]["renewTime"] = FormatMicroTime(std::chrono::system_clock::now());
        return client_->Update(types::Leases(), *lease);
      });
      std::this_thread::sleep_for(milliseconds(200));
    }
  });
  ASSERT_TRUE(Eventually([&] { return replica.finished.load(); }, milliseconds(15'000)));
  replica.thread.join();
  stealing = false;
  ASSERT_FALSE(replica.outcome);
  EXPECT_EQ(replica.outcome.error().code, ErrorCode::kUnavailable)
      << replica.outcome.error().message;
  EXPECT_FALSE(replica.manager.IsLeader());
}

}  // namespace
}  // namespace ferry::kube
