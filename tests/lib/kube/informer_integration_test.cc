// Informers against the real local API server: the cache follows adds,
// updates and deletes; survives the API server being SIGKILLed and restarted;
// and, resuming from a resourceVersion that etcd has compacted away, gets 410
// Gone, lists again and loses nothing. These tests restart the shared
// cluster's kube-apiserver (e2e/cluster/restart), so they run serially.
#include <httplib.h>

#include <fstream>
#include <mutex>
#include <set>

#include "lib/kube/informer.h"
#include "tests/lib/kube/cluster_client.h"
#include "tests/support/paths.h"
#include "tests/support/process.h"

namespace ferry::kube {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// name -> resourceVersion, the part of the state a cache must agree on.
using Snapshot = std::map<std::string, std::string>;

Snapshot FromStore(const Store& store) {
  Snapshot snapshot;
  for (const ObjectPtr& object : store.List()) snapshot[Name(*object)] = ResourceVersionOf(*object);
  return snapshot;
}

class InformerTest : public ClusterTest {
 protected:
  Snapshot FreshList() {
    Result<ObjectList> list = client_->ListAll(types::ConfigMaps(), namespace_);
    EXPECT_TRUE(list) << list.error().message;
    Snapshot snapshot;
    if (!list) return snapshot;
    for (const Json& item : list->items) snapshot[Name(item)] = ResourceVersionOf(item);
    return snapshot;
  }

  InformerOptions Options() const {
    InformerOptions options;
    options.type = types::ConfigMaps();
    options.namespace_name = namespace_;
    options.page_size = 3;  // several pages even for a handful of objects
    options.backoff = {.initial = milliseconds(200), .max = milliseconds(2000)};
    return options;
  }

  void Create(const std::string& name) {
    Result<Json> created = client_->Create(types::ConfigMaps(), ConfigMap(name, {{"v", "1"}}));
    ASSERT_TRUE(created) << created.error().message;
  }
  void Change(const std::string& name) {
    Result<Json> patched = client_->Patch(types::ConfigMaps(), namespace_, name, PatchType::kMerge,
                                          {{"data", {{"v", "2"}}}});
    ASSERT_TRUE(patched) << patched.error().message;
  }
  void Remove(const std::string& name) {
    ASSERT_TRUE(client_->Delete(types::ConfigMaps(), namespace_, name));
  }

  // SIGKILLs the cluster's kube-apiserver and starts it again.
  static void RestartApiServer(int down_seconds = 0) {
    testing::ProcessResult restarted = testing::RunProcess(
        {testing::SourcePath("e2e/cluster/restart"), "--state", testing::ClusterState(),
         "--down-seconds", std::to_string(down_seconds), "kube-apiserver"});
    ASSERT_EQ(restarted.exit_code, 0) << restarted.err;
  }

  // The etcd behind the cluster, read from the running API server's flags.
  static std::string EtcdUrl() {
    std::ifstream pids(testing::ClusterState() + "/pids");
    std::string name, pid;
    while (pids >> name >> pid) {
      if (name != "kube-apiserver") continue;
      std::ifstream cmdline("/proc/" + pid + "/cmdline");
      std::string arg;
      while (std::getline(cmdline, arg, '\0')) {
        if (arg.rfind("--etcd-servers=", 0) == 0) return arg.substr(15);
      }
    }
    return {};
  }

  // Forces etcd to compact its whole history up to now, through its HTTP gateway.
  static void CompactEtcd() {
    const std::string url = EtcdUrl();
    ASSERT_FALSE(url.empty());
    httplib::Client etcd(url);
    auto range = etcd.Post("/v3/kv/range", R"({"key":"AA=="})", "application/json");
    ASSERT_TRUE(range && range->status == 200);
    const std::string revision = Json::parse(range->body)["header"]["revision"];
    auto compacted =
        etcd.Post("/v3/kv/compaction", Json({{"revision", revision}, {"physical", true}}).dump(),
                  "application/json");
    ASSERT_TRUE(compacted && compacted->status == 200) << (compacted ? compacted->body : "");
  }
};

TEST_F(InformerTest, CacheFollowsAddsUpdatesAndDeletesAndIndexes) {
  Create("before-1");
  Create("before-2");
  std::mutex mutex;
  std::vector<std::string> seen;  // "add x", "update x", "delete x"
  Informer informer(*client_, Options());
  informer.AddIndex("by-tier", IndexByLabel("tier"));
  informer.AddEventHandlers({.on_add =
                                 [&](const ObjectPtr& o) {
                                   std::lock_guard l(mutex);
                                   seen.push_back("add " + Name(*o));
                                 },
                             .on_update =
                                 [&](const ObjectPtr& old_object, const ObjectPtr& o) {
                                   std::lock_guard l(mutex);
                                   EXPECT_NE(ResourceVersionOf(*old_object), ResourceVersionOf(*o));
                                   seen.push_back("update " + Name(*o));
                                 },
                             .on_delete =
                                 [&](const ObjectPtr& o) {
                                   std::lock_guard l(mutex);
                                   seen.push_back("delete " + Name(*o));
                                 }});
  informer.Start();
  ASSERT_TRUE(informer.WaitForSync(seconds(30)));
  EXPECT_TRUE(informer.HasSynced());
  EXPECT_EQ(FromStore(informer.store()), FreshList());
  // The cache drops managedFields by default (nearly half of an object's memory).
  ASSERT_TRUE(informer.store().Get(namespace_ + "/before-1"));
  EXPECT_FALSE(ObjectField(*informer.store().Get(namespace_ + "/before-1"), "metadata")
                   .contains("managedFields"));

  Create("after");
  Change("before-1");
  Remove("before-2");
  Result<Json> tiered = client_->Patch(types::ConfigMaps(), namespace_, "after", PatchType::kMerge,
                                       {{"metadata", {{"labels", {{"tier", "gold"}}}}}});
  ASSERT_TRUE(tiered);
  ASSERT_TRUE(Eventually([&] { return FromStore(informer.store()) == FreshList(); }));
  ASSERT_TRUE(Eventually([&] { return informer.store().ByIndex("by-tier", "gold").size() == 1; }));
  EXPECT_EQ(Name(*informer.store().ByIndex("by-tier", "gold")[0]), "after");

  std::lock_guard lock(mutex);
  auto count = [&](const std::string& what) { return std::count(seen.begin(), seen.end(), what); };
  EXPECT_EQ(count("add before-1"), 1);
  EXPECT_EQ(count("add before-2"), 1);
  EXPECT_EQ(count("add after"), 1);
  EXPECT_EQ(count("update before-1"), 1);
  EXPECT_EQ(count("delete before-2"), 1);
  EXPECT_EQ(count("update after"), 1);
}

TEST_F(InformerTest, SurvivesTheApiServerBeingKilledAndRestarted) {
  for (int i = 0; i < 5; ++i) Create("cm-" + std::to_string(i));
  Informer informer(*client_, Options());
  informer.Start();
  ASSERT_TRUE(informer.WaitForSync(seconds(30)));
  ASSERT_EQ(informer.store().Size(), FreshList().size());

  RestartApiServer(/*down_seconds=*/2);
  // Changes right after the restart, while the informer is still backing off.
  Create("while-away");
  Change("cm-0");
  Remove("cm-1");
  Create("cm-9");
  ASSERT_TRUE(Eventually([&] { return FromStore(informer.store()) == FreshList(); }, seconds(60)))
      << "the cache never caught up after the API server restarted";
  const InformerStats stats = informer.stats();
  // The broken stream was noticed and the watch started again (resumed, or
  // re-listed if the new API server could not serve the old version).
  EXPECT_GE(stats.watch_failures + stats.expired, 1u);
  EXPECT_GE(stats.watches, 2u);
  EXPECT_TRUE(informer.store().Get(namespace_ + "/while-away"));
  EXPECT_FALSE(informer.store().Get(namespace_ + "/cm-1"));
  std::printf("after restart: %lu watches, %lu failures, %lu expired, %lu lists\n",
              static_cast<unsigned long>(stats.watches),
              static_cast<unsigned long>(stats.watch_failures),
              static_cast<unsigned long>(stats.expired), static_cast<unsigned long>(stats.lists));
}

TEST_F(InformerTest, ResumingFromACompactedVersionListsAgainAndLosesNothing) {
  for (int i = 0; i < 6; ++i) Create("old-" + std::to_string(i));
  Result<ObjectList> listed = client_->ListAll(types::ConfigMaps(), namespace_);
  ASSERT_TRUE(listed);
  const std::string stale_version = listed->resource_version;

  // History moves on after the version we will resume from...
  Create("new-0");
  Create("new-1");
  Change("old-0");
  Remove("old-1");
  Remove("old-2");
  // ...and etcd forgets it. The API server is restarted too, because its
  // watch cache would otherwise still replay the history etcd has dropped.
  CompactEtcd();
  RestartApiServer();

  InformerOptions options = Options();
  options.resume_resource_version = stale_version;
  Informer informer(*client_, options);
  informer.Start();
  ASSERT_TRUE(informer.WaitForSync(seconds(30)));
  ASSERT_TRUE(Eventually([&] { return FromStore(informer.store()) == FreshList(); }));
  const InformerStats stats = informer.stats();
  EXPECT_GE(stats.expired, 1u) << "the watch from the compacted version was not answered 410";
  EXPECT_GE(stats.lists, 1u);
  const Snapshot cached = FromStore(informer.store());
  EXPECT_TRUE(cached.contains("new-0") && cached.contains("new-1"));
  EXPECT_FALSE(cached.contains("old-1") || cached.contains("old-2"));
}

TEST_F(InformerTest, StopEndsAnIdleWatchPromptly) {
  Informer informer(*client_, Options());
  informer.Start();
  ASSERT_TRUE(informer.WaitForSync(seconds(30)));
  std::this_thread::sleep_for(milliseconds(300));  // the watch is open and silent
  const auto started = std::chrono::steady_clock::now();
  informer.Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - started, seconds(5));
}

}  // namespace
}  // namespace ferry::kube
