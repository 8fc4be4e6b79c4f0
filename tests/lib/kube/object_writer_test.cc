// The cases of object_writer_cases.cc on FakeCluster, and what only the fake
// has: its caches, the write hook for races, request counts and the write log.
#include <gtest/gtest.h>

#include <memory>
#include <optional>

#include "lib/common/utc_time.h"
#include "lib/kube/client.h"
#include "lib/kube/object.h"
#include "tests/support/fake_clock.h"
#include "tests/support/fake_cluster.h"

namespace ferry::kube {

namespace {
// One per test, made by SetUp (gtest runs tests one at a time).
struct FakeTarget {
  testing::FakeClock clock;
  testing::FakeCluster cluster{&clock};
};
std::unique_ptr<FakeTarget>& Target() {
  static std::unique_ptr<FakeTarget> target;
  return target;
}
}  // namespace

namespace writer_target {
const char* Name() { return "FakeCluster"; }
void SetUp() { Target() = std::make_unique<FakeTarget>(); }
void TearDown() { Target().reset(); }
ObjectWriter& Writer() { return Target()->cluster; }
std::string Namespace() { return "shop"; }
}  // namespace writer_target

namespace {

using testing::FakeCluster;
using testing::Verb;
using testing::WriteRecord;

Json ConfigMap(const std::string& name, const Json& data = Json::object()) {
  return {{"apiVersion", "v1"},
          {"kind", "ConfigMap"},
          {"metadata", {{"name", name}, {"namespace", "shop"}}},
          {"data", data}};
}

TEST(FakeClusterTest, CachesFollowWritesAndKeepIndexes) {
  FakeCluster cluster;
  cluster.StoreFor(types::ConfigMaps()).AddIndex("tier", IndexByLabel("tier"));
  Json web = ConfigMap("web");
  web["metadata"]["labels"] = {{"tier", "front"}};
  ASSERT_TRUE(cluster.Create(types::ConfigMaps(), web));

  const Caches& caches = cluster;
  ASSERT_NE(caches.Of(types::ConfigMaps()).Get("shop/web"), nullptr);
  EXPECT_EQ(caches.Of(types::ConfigMaps()).ByIndex("tier", "front").size(), 1u);
  EXPECT_EQ(caches.Of(types::ModelVersions()).Size(), 0u);

  ASSERT_TRUE(cluster.Delete(types::ConfigMaps(), "shop", "web"));
  EXPECT_EQ(caches.Of(types::ConfigMaps()).Get("shop/web"), nullptr);
  EXPECT_TRUE(caches.Of(types::ConfigMaps()).ByIndex("tier", "front").empty());
}

TEST(FakeClusterTest, TimestampsComeFromTheClock) {
  testing::FakeClock clock;
  FakeCluster cluster(&clock);
  Result<Json> created = cluster.Create(types::ConfigMaps(), ConfigMap("t"));
  ASSERT_TRUE(created);
  EXPECT_EQ((*created)["metadata"]["creationTimestamp"], "2026-12-01T00:00:00Z");
  clock.Advance(std::chrono::minutes(90));
  EXPECT_EQ(FormatTime(clock.Now()), "2026-12-01T01:30:00Z");
}

TEST(FakeClusterTest, HookSlipsAConflictingWriteBetweenReadAndWrite) {
  FakeCluster cluster;
  ASSERT_TRUE(cluster.Create(types::ConfigMaps(), ConfigMap("race", {{"n", "0"}})));
  Result<Json> read = cluster.Get(types::ConfigMaps(), "shop", "race");
  ASSERT_TRUE(read);

  int hook_calls = 0;
  cluster.BeforeEachWrite([&](const WriteRecord& record) {
    ++hook_calls;
    if (record.verb != Verb::kUpdate) return;
    // The hook's own write does not call the hook again.
    Result<Json> other = cluster.Patch(types::ConfigMaps(), "shop", "race", PatchType::kMerge,
                                       {{"data", {{"n", "other"}}}});
    EXPECT_TRUE(other);
  });
  Json mine = *read;
  mine["data"]["n"] = "mine";
  Result<Json> lost = cluster.Update(types::ConfigMaps(), mine);
  ASSERT_FALSE(lost);
  EXPECT_EQ(lost.error().code, ErrorCode::kConflict);
  EXPECT_EQ(hook_calls, 1);

  // The usual answer: re-read and try again (the hook races every attempt,
  // so remove it first).
  cluster.BeforeEachWrite(nullptr);
  Result<Json> won = RetryOnConflict([&]() -> Result<Json> {
    Result<Json> fresh = cluster.Get(types::ConfigMaps(), "shop", "race");
    if (!fresh) return fresh.error();
    (*fresh)["data"]["n"] = "mine";
    return cluster.Update(types::ConfigMaps(), *fresh);
  });
  ASSERT_TRUE(won) << won.error().message;
  EXPECT_EQ((*won)["data"]["n"], "mine");
}

TEST(FakeClusterTest, CountsRequestsAndLogsWrites) {
  FakeCluster cluster;
  Result<Json> created = cluster.Create(types::ConfigMaps(), ConfigMap("c", {{"a", "1"}}));
  ASSERT_TRUE(created);
  ASSERT_TRUE(cluster.Get(types::ConfigMaps(), "shop", "c"));
  EXPECT_FALSE(cluster.Get(types::ConfigMaps(), "shop", "absent"));
  ASSERT_TRUE(cluster.Update(types::ConfigMaps(), *created));  // changes nothing
  EXPECT_FALSE(cluster.Create(types::ConfigMaps(), ConfigMap("c")));

  EXPECT_EQ(cluster.RequestCount(), 5u);
  EXPECT_EQ(cluster.RequestCount(Verb::kGet), 2u);
  EXPECT_EQ(cluster.RequestCount(Verb::kCreate), 2u);
  std::vector<WriteRecord> writes = cluster.Writes();
  ASSERT_EQ(writes.size(), 2u);  // failed writes are not in the log
  EXPECT_EQ(writes[0].verb, Verb::kCreate);
  EXPECT_TRUE(writes[0].changed);
  EXPECT_EQ(writes[1].verb, Verb::kUpdate);
  EXPECT_FALSE(writes[1].changed);
  EXPECT_EQ(writes[1].name, "c");

  cluster.ResetCounters();
  EXPECT_EQ(cluster.RequestCount(), 0u);
  EXPECT_TRUE(cluster.Writes().empty());
}

TEST(FakeClusterTest, GarbageCollectionIsRecursiveAndHonoursFinalizers) {
  FakeCluster cluster;
  Result<Json> root = cluster.Create(types::ConfigMaps(), ConfigMap("root"));
  ASSERT_TRUE(root);
  Json child = ConfigMap("child");
  SetControllerReference(child, *root);
  Result<Json> created_child = cluster.Create(types::ConfigMaps(), child);
  ASSERT_TRUE(created_child);
  Json grandchild = ConfigMap("grandchild");
  SetControllerReference(grandchild, *created_child);
  grandchild["metadata"]["finalizers"] = {"ferry.dev/hold"};
  ASSERT_TRUE(cluster.Create(types::ConfigMaps(), grandchild));

  ASSERT_TRUE(cluster.Delete(types::ConfigMaps(), "shop", "root"));
  EXPECT_FALSE(cluster.Get(types::ConfigMaps(), "shop", "child"));
  Result<Json> held = cluster.Get(types::ConfigMaps(), "shop", "grandchild");
  ASSERT_TRUE(held);
  EXPECT_TRUE(IsBeingDeleted(*held));

  Result<Json> released =
      cluster.Patch(types::ConfigMaps(), "shop", "grandchild", PatchType::kMerge,
                    {{"metadata", {{"finalizers", nullptr}}}});
  ASSERT_TRUE(released) << released.error().message;
  Result<Json> gone = cluster.Get(types::ConfigMaps(), "shop", "grandchild");
  ASSERT_FALSE(gone);
  EXPECT_EQ(gone.error().code, ErrorCode::kNotFound);
}

TEST(FakeClusterTest, OrphanPropagationKeepsDependents) {
  FakeCluster cluster;
  Result<Json> owner = cluster.Create(types::ConfigMaps(), ConfigMap("owner"));
  ASSERT_TRUE(owner);
  Json dependent = ConfigMap("dependent");
  SetControllerReference(dependent, *owner);
  ASSERT_TRUE(cluster.Create(types::ConfigMaps(), dependent));
  ASSERT_TRUE(
      cluster.Delete(types::ConfigMaps(), "shop", "owner", {.propagation_policy = "Orphan"}));
  EXPECT_TRUE(cluster.Get(types::ConfigMaps(), "shop", "dependent"));
}

TEST(FakeClusterTest, StrategicMergeIsRefused) {
  FakeCluster cluster;
  ASSERT_TRUE(cluster.Create(types::ConfigMaps(), ConfigMap("s")));
  Result<Json> patched = cluster.Patch(types::ConfigMaps(), "shop", "s", PatchType::kStrategicMerge,
                                       {{"data", {{"a", "1"}}}});
  ASSERT_FALSE(patched);
  EXPECT_EQ(patched.error().code, ErrorCode::kInvalidArgument);
}

TEST(FakeClusterTest, ResourceVersionsAreClusterWideAndIncreasing) {
  FakeCluster cluster;
  Result<Json> a = cluster.Create(types::ConfigMaps(), ConfigMap("a"));
  Json mv = {{"apiVersion", "ferry.dev/v1alpha1"},
             {"kind", "ModelVersion"},
             {"metadata", {{"name", "b"}, {"namespace", "shop"}}},
             {"spec", {{"model", "m"}}}};
  Result<Json> b = cluster.Create(types::ModelVersions(), mv);
  ASSERT_TRUE(a && b);
  EXPECT_LT(std::stoll(ResourceVersionOf(*a)), std::stoll(ResourceVersionOf(*b)));
  EXPECT_NE(Uid(*a), Uid(*b));
}

}  // namespace
}  // namespace ferry::kube
