// lib/kube's pieces together, as the operator will use them, against the real
// local API server: two informers (parents and the children they own) feed one
// controller; its level-based reconciler reads the caches and writes each
// parent's child count into an annotation. ConfigMaps stand in for
// ModelVersions and the objects they own.
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <set>

#include "lib/kube/enqueue.h"
#include "tests/lib/kube/cluster_client.h"

namespace ferry::kube {
namespace {

constexpr const char* kCountAnnotation = "ferry.dev/children";

class ControllerTest : public ClusterTest {
 protected:
  InformerOptions Watching(const std::string& role) const {
    InformerOptions options;
    options.type = types::ConfigMaps();
    options.namespace_name = namespace_;
    options.label_selector = "role=" + role;
    return options;
  }

  Json Parent(const std::string& name) const {
    Json parent = ConfigMap(name);
    parent["metadata"]["labels"] = {{"role", "parent"}};
    return parent;
  }

  void CreateChild(const std::string& name, const Json& parent) {
    Json child = ConfigMap(name);
    child["metadata"]["labels"] = {{"role", "child"}};
    SetControllerReference(child, parent);
    Result<Json> created = client_->Create(types::ConfigMaps(), child);
    ASSERT_TRUE(created) << created.error().message;
  }

  std::string CountOf(const std::string& parent) {
    Result<Json> object = client_->Get(types::ConfigMaps(), namespace_, parent);
    if (!object) return "missing";
    return StringField(ObjectField(ObjectField(*object, "metadata"), "annotations"),
                       kCountAnnotation, "unset");
  }
};

TEST_F(ControllerTest, ReconcilesOwnersFromTheirChildrenAndSettles) {
  Informer parents(*client_, Watching("parent"));
  Informer children(*client_, Watching("child"));
  children.AddIndex("owner", [](const Json& child) {
    std::optional<std::string> owner = ControllerKeyOf(child, "ConfigMap");
    return owner ? std::vector{*owner} : std::vector<std::string>{};
  });

  std::mutex mutex;
  std::set<std::string> in_flight;
  std::atomic<int> overlaps{0}, reconciles{0}, failed_once{0};
  Controller controller(
      {.name = "child-counter", .workers = 3}, [&](const std::string& key) -> Result<Action> {
        {
          std::lock_guard lock(mutex);
          if (!in_flight.insert(key).second) ++overlaps;
        }
        struct Leave {
          std::mutex& mutex;
          std::set<std::string>& in_flight;
          const std::string& key;
          ~Leave() {
            std::lock_guard lock(mutex);
            in_flight.erase(key);
          }
        } leave{mutex, in_flight, key};
        ++reconciles;
        const ObjectPtr parent = parents.store().Get(key);
        if (!parent) return Action::Done();  // deleted: nothing to do
        // The first reconcile of p2 fails, as a flaky dependency would; it is retried.
        if (Name(*parent) == "p2" && failed_once++ == 0) {
          return MakeError(ErrorCode::kUnavailable, "a dependency is briefly down");
        }
        const std::string count = std::to_string(children.store().ByIndex("owner", key).size());
        const Json& annotations = ObjectField(ObjectField(*parent, "metadata"), "annotations");
        if (StringField(annotations, kCountAnnotation) == count) return Action::Done();
        Result<Json> patched = client_->Patch(
            types::ConfigMaps(), Namespace(*parent), Name(*parent), PatchType::kMerge,
            {{"metadata", {{"annotations", {{kCountAnnotation, count}}}}}});
        if (!patched) return patched.error();
        return Action::Done();
      });
  // The informers' handlers hold the controller: stop them first, however the
  // test ends (this guard is destroyed before the controller is).
  struct StopInformersFirst {
    Informer& parents;
    Informer& children;
    ~StopInformersFirst() {
      parents.Stop();
      children.Stop();
    }
  } stop_informers_first{parents, children};
  parents.AddEventHandlers(EnqueueObject(controller));
  children.AddEventHandlers(EnqueueController(controller, "ConfigMap"));
  parents.Start();
  children.Start();
  ASSERT_TRUE(parents.WaitForSync(std::chrono::seconds(30)));
  ASSERT_TRUE(children.WaitForSync(std::chrono::seconds(30)));
  controller.Start();

  Result<Json> p1 = client_->Create(types::ConfigMaps(), Parent("p1"));
  Result<Json> p2 = client_->Create(types::ConfigMaps(), Parent("p2"));
  ASSERT_TRUE(p1 && p2);
  for (int i = 0; i < 3; ++i) CreateChild("p1-child-" + std::to_string(i), *p1);
  CreateChild("p2-child-0", *p2);
  EXPECT_TRUE(Eventually([&] { return CountOf("p1") == "3" && CountOf("p2") == "1"; }))
      << "p1: " << CountOf("p1") << ", p2: " << CountOf("p2");

  ASSERT_TRUE(client_->Delete(types::ConfigMaps(), namespace_, "p1-child-1"));
  EXPECT_TRUE(Eventually([&] { return CountOf("p1") == "2"; })) << CountOf("p1");

  // Level-based and idempotent: once the annotations are right, it goes quiet.
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  const int settled = reconciles;
  std::this_thread::sleep_for(std::chrono::seconds(1));
  EXPECT_EQ(reconciles.load(), settled) << "the controller kept reconciling a settled state";
  EXPECT_EQ(overlaps.load(), 0) << "one key was reconciled by two workers at once";
  const ControllerStats stats = controller.Stats();
  EXPECT_GE(stats.errors, 1u);  // p2's first attempt
  controller.Stop();
}

}  // namespace
}  // namespace ferry::kube
