// Shows the kwok test stage of e2e/cluster/kwok-test-stages.yaml against the
// real local cluster: pods labelled ferry.dev/simulate=unready run but never
// become Ready (a canary that never becomes available, for rollback tests),
// while every other pod on the kwok nodes becomes Ready as before. Uses the
// `cluster` fixture.
#include <gtest/gtest.h>

#include <thread>

#include "tests/lib/kube/cluster_client.h"

namespace ferry::kube {
namespace {

using namespace std::chrono_literals;

Json Deployment(const std::string& namespace_name, const std::string& name, bool unready) {
  Json labels = {{"app", name}};
  if (unready) labels["ferry.dev/simulate"] = "unready";
  return {
      {"apiVersion", "apps/v1"},
      {"kind", "Deployment"},
      {"metadata", {{"name", name}, {"namespace", namespace_name}}},
      {"spec",
       {{"replicas", 2},
        {"selector", {{"matchLabels", {{"app", name}}}}},
        {"template",
         {{"metadata", {{"labels", labels}}},
          {"spec",
           {{"nodeSelector", {{"type", "kwok"}}},
            {"tolerations", Json::array({{{"key", "kwok.x-k8s.io/node"},
                                          {"operator", "Equal"},
                                          {"value", "fake"},
                                          {"effect", "NoSchedule"}}})},
            {"containers",
             Json::array({{{"name", "server"}, {"image", "registry.invalid/server:1"}}})}}}}}}}};
}

std::string ConditionStatus(const Json& pod, const std::string& type) {
  for (const Json& condition : ObjectField(pod, "status").value("conditions", Json::array())) {
    if (StringField(condition, "type") == type) return StringField(condition, "status");
  }
  return "";
}

class UnreadyPodsTest : public ClusterTest {
 protected:
  std::vector<Json> Pods(const std::string& app) {
    ListOptions options;
    options.label_selector = "app=" + app;
    Result<ObjectList> pods = client_->ListAll(types::Pods(), namespace_, options);
    EXPECT_TRUE(pods) << pods.error().message;
    return pods ? pods->items : std::vector<Json>{};
  }

  int64_t AvailableReplicas(const std::string& name) {
    Result<Json> deployment = client_->Get(types::Deployments(), namespace_, name);
    EXPECT_TRUE(deployment) << deployment.error().message;
    return deployment ? IntField(ObjectField(*deployment, "status"), "availableReplicas") : -1;
  }
};

TEST_F(UnreadyPodsTest, LabelledPodsRunButNeverBecomeReady) {
  ASSERT_TRUE(client_->Create(types::Deployments(), Deployment(namespace_, "canary", true)));
  ASSERT_TRUE(client_->Create(types::Deployments(), Deployment(namespace_, "stable", false)));

  // kwok has started both pods of the labelled Deployment: Running, with an
  // IP, containers started but not ready.
  ASSERT_TRUE(Eventually(
      [&] {
        std::vector<Json> pods = Pods("canary");
        if (pods.size() != 2) return false;
        for (const Json& pod : pods) {
          if (StringField(ObjectField(pod, "status"), "phase") != "Running") return false;
        }
        return true;
      },
      60s));
  // The unlabelled one becomes available as any Deployment does on kwok.
  ASSERT_TRUE(Eventually([&] { return AvailableReplicas("stable") == 2; }, 60s));

  const auto until = std::chrono::steady_clock::now() + 10s;
  int checks = 0;
  while (std::chrono::steady_clock::now() < until) {
    std::vector<Json> pods = Pods("canary");
    ASSERT_EQ(pods.size(), 2u);
    for (const Json& pod : pods) {
      const Json& status = ObjectField(pod, "status");
      EXPECT_EQ(StringField(status, "phase"), "Running") << Name(pod);
      EXPECT_FALSE(StringField(status, "podIP").empty()) << Name(pod);
      EXPECT_EQ(StringField(ObjectField(pod, "spec"), "nodeName").rfind("kwok-gpu-", 0), 0u);
      EXPECT_EQ(ConditionStatus(pod, "Ready"), "False") << pod.dump();
      EXPECT_EQ(ConditionStatus(pod, "ContainersReady"), "False") << Name(pod);
      const Json containers = status.value("containerStatuses", Json::array());
      ASSERT_EQ(containers.size(), 1u) << Name(pod);
      EXPECT_EQ(containers[0].value("ready", true), false);
      EXPECT_TRUE(containers[0]["state"].contains("running")) << containers[0];
    }
    EXPECT_EQ(AvailableReplicas("canary"), 0);
    ++checks;
    std::this_thread::sleep_for(500ms);
  }
  EXPECT_GE(checks, 10);

  // The Deployment controller saw the pods and still counts none ready.
  Result<Json> canary = client_->Get(types::Deployments(), namespace_, "canary");
  ASSERT_TRUE(canary);
  EXPECT_EQ(IntField(ObjectField(*canary, "status"), "replicas"), 2);
  EXPECT_EQ(IntField(ObjectField(*canary, "status"), "readyReplicas"), 0);
  EXPECT_EQ(AvailableReplicas("stable"), 2);
  for (const Json& pod : Pods("stable")) EXPECT_EQ(ConditionStatus(pod, "Ready"), "True");
}

}  // namespace
}  // namespace ferry::kube
