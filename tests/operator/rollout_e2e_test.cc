// End to end against the real local control plane: ferry-operator runs as
// its own process, users act through kubectl, the Deployment controller and
// scheduler are the real ones (kwok runs the pods), and the agents are
// SIMULATED (tests/support/simulated_agents.h) until the real one lands.
//
// Serial: ModelNodes are cluster-wide, so one simulation at a time.
#include <gtest/gtest.h>

#include <chrono>
#include <set>
#include <thread>

#include "tests/operator/operator_e2e_fixture.h"

namespace ferry::testing {
namespace {

using kube::Json;
using std::chrono::seconds;

constexpr int kMetricsPort = 26481;

// One operator for the whole test, started once the agents run.
class OperatorE2eTest : public OperatorE2eFixture {
 protected:
  void SetUp() override {
    OperatorE2eFixture::SetUp();
    if (HasFatalFailure()) return;
    StartOperator(kMetricsPort);
  }
};

TEST_F(OperatorE2eTest, CanaryRolloutThroughKubectlWithSimulatedAgents) {
  ApplyServing(5);
  // v1: no stable version yet, so it stages and becomes stable.
  ApplyVersion("coder-1", "1.0.0", "");
  ASSERT_TRUE(WaitForStatus("coder-1", Phase("Promoted"), seconds(90)));
  EXPECT_TRUE(seen_.count("Staging@-1") || seen_.count("Staging@0") ||
              seen_.count("Progressing@0"));
  ASSERT_TRUE(kube::Eventually(
      [&] { return PodVersions("app=coder") == Copies(5, "/models/e2e-coder/versions/1.0.0"); },
      seconds(60)))
      << "stable pods did not all move to 1.0.0";

  ApplyVersion("coder-2", "2.0.0", R"(
  strategy:
    canary:
      steps:
        - setWeight: 20
        - pause: {}
        - setWeight: 50
        - pause: {duration: 10s}
        - setWeight: 100
)");
  seen_.clear();
  ASSERT_TRUE(WaitForStatus("coder-2", Phase("Paused", 1), seconds(90)));
  // 20% of 5 replicas: one canary pod, on the new version's folder.
  EXPECT_TRUE(kube::Eventually([&] {
    return PodVersions("ferry.dev/track=canary") ==
           std::multiset<std::string>{"/models/e2e-coder/versions/2.0.0"};
  }));
  EXPECT_EQ(Get("mv", "coder-2")["status"]["canaryWeight"], 20);
  // A pause without duration waits for a person.
  std::this_thread::sleep_for(seconds(3));
  EXPECT_EQ(Get("mv", "coder-2")["status"]["currentStep"], 1);

  ProcessResult promoted = Kubectl({"patch", "mv", "coder-2", "--subresource=status",
                                    "--type=merge", "-p", R"({"status":{"promote":"step"}})"});
  ASSERT_EQ(promoted.exit_code, 0) << promoted.err;
  ASSERT_TRUE(WaitForStatus("coder-2", Phase("Paused", 3), seconds(60)));
  // 50% of 5: three canary pods, available before the step went on.
  EXPECT_EQ(PodVersions("ferry.dev/track=canary").size(), 3u);
  // The 10 s pause ended early by `kubectl ferry promote`, as a person would
  // (at once: the pause must not have ended by itself first).
  ProcessResult ferry_promoted = KubectlFerry({"promote", "coder-2"});
  ASSERT_EQ(ferry_promoted.exit_code, 0) << ferry_promoted.err;

  ASSERT_TRUE(WaitForStatus("coder-2", Phase("Promoted"), seconds(90)));
  EXPECT_EQ(Get("mv", "coder-2")["status"].value("promote", ""), "");  // cleared when acted upon
  for (const char* step : {"Progressing@0", "Paused@1", "Paused@3"}) {
    EXPECT_TRUE(seen_.count(step) || step == std::string("Progressing@0")) << step;
  }
  ASSERT_TRUE(kube::Eventually(
      [&] { return PodVersions("app=coder") == Copies(5, "/models/e2e-coder/versions/2.0.0"); },
      seconds(60)))
      << "stable pods did not all move to 2.0.0";
  EXPECT_TRUE(
      kube::Eventually([&] { return !Get("deployment", "coder-server-canary").is_object(); }));
  ASSERT_TRUE(WaitForStatus("coder-1", Phase("Superseded"), seconds(30)));

  // Every node still holds 1.0.0 (for a rollback without download) and serves 2.0.0.
  for (const std::string& node : nodes_) {
    const Json mn = Get("mn", node);
    bool holds_v1 = false;
    std::string active;
    for (const Json& model : mn["spec"]["models"]) {
      if (model["model"] != "e2e-coder") continue;
      active = model.value("active", "");
      for (const Json& version : model["versions"])
        holds_v1 = holds_v1 || version["version"] == "1.0.0";
    }
    EXPECT_TRUE(holds_v1) << node;
    EXPECT_EQ(active, "2.0.0") << node;
    EXPECT_TRUE(kube::Eventually([&] {
      return agents_->StateOf(node, "e2e-coder", "2.0.0") == "Active";
    })) << node;
  }
  // The history names each transition once.
  const Json history = Get("mv", "coder-2")["status"]["history"];
  std::vector<std::string> reasons;
  for (const Json& entry : history) reasons.push_back(entry.value("reason", ""));
  EXPECT_EQ(reasons, (std::vector<std::string>{
                         "Staging", "Staged", "WeightSet", "AwaitingPromotion", "PromoteStep",
                         "WeightSet", "PauseDuration", "PromoteStep", "WeightSet", "Promoted"}))
      << history.dump();
}

TEST_F(OperatorE2eTest, AMissingDeploymentFailsWithAMessageAndResumesWhenItIsCreated) {
  ApplyVersion("coder-1", "1.0.0", "");
  ASSERT_TRUE(WaitForStatus("coder-1", Phase("Failed"), seconds(60)));
  const Json status = Get("mv", "coder-1")["status"];
  EXPECT_EQ(status["message"].get<std::string>().rfind(
                "Secret " + namespace_ + "/signing-key not found", 0),
            0u)
      << status["message"];
  ApplyServing(2);
  ASSERT_TRUE(WaitForStatus("coder-1", Phase("Promoted"), seconds(90)));
}

TEST_F(OperatorE2eTest, InvalidModelVersionsAreRefusedByTheApiServer) {
  ProcessResult refused = Kubectl({"apply", "-f", "-"}, R"(
apiVersion: ferry.dev/v1alpha1
kind: ModelVersion
metadata: {name: bad}
spec:
  model: e2e-coder
  version: 1.0.0
  source: {repository: http://repo.invalid, publicKeySecretRef: {name: k}}
  serving: {deployment: coder-server}
  strategy:
    canary:
      steps: [{setWeight: 20, pause: {}}]
)");
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_NE(refused.err.find("each canary step sets exactly one of setWeight, pause, analysis"),
            std::string::npos)
      << refused.err;
}

}  // namespace
}  // namespace ferry::testing
