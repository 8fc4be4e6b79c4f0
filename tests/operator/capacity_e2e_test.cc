// canary.capacity end to end on nodes whose GPUs are all taken: each stable
// pod asks for every GPU of a kwok node (8), as many pods as nodes. The real
// scheduler decides what fits; ferry-operator runs as its own process and
// the agents are SIMULATED (tests/support/simulated_agents.h).
//
// Serial: ModelNodes are cluster-wide, and the test takes every GPU.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <set>
#include <thread>

#include "tests/operator/operator_e2e_fixture.h"

namespace ferry::testing {
namespace {

using kube::Json;
using std::chrono::seconds;

constexpr int kMetricsPort = 26599;
const std::string kV1 = "/models/e2e-coder/versions/1.0.0";
const std::string kV2 = "/models/e2e-coder/versions/2.0.0";
const std::string kV2ReadyLabel = "ready.ferry.dev/e2e-coder_2.0.0";

class CapacityE2eTest : public OperatorE2eFixture {
 protected:
  void SetUp() override {
    OperatorE2eFixture::SetUp();
    if (HasFatalFailure()) return;
    StartOperator(kMetricsPort);
    replicas_ = static_cast<int>(nodes_.size());
    ASSERT_GE(replicas_, 2) << "needs at least two simulated GPU nodes";
    ApplyServing(replicas_, /*gpus_per_pod=*/8);
    ApplyVersion("coder-1", "1.0.0", "");
    ASSERT_TRUE(WaitForStatus("coder-1", Phase("Promoted"), seconds(90)));
    ASSERT_TRUE(kube::Eventually([&] { return PodVersions("app=coder") == Copies(replicas_, kV1); },
                                 seconds(60)));
  }

  int replicas_ = 0;
};

// Samples every pod of the model and every node's labels, over and over,
// while a rollout runs, and keeps what would break the contract.
class PodSampler {
 public:
  using KubectlFunction = std::function<ProcessResult(std::vector<std::string>)>;
  explicit PodSampler(KubectlFunction kubectl)
      : kubectl_(std::move(kubectl)), thread_([this] { Run(); }) {}
  ~PodSampler() { Stop(); }

  void Stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  int samples() const { return samples_; }
  int max_pods() const { return max_pods_; }
  std::vector<std::string> violations() {
    std::lock_guard lock(mutex_);
    return violations_;
  }

 private:
  void Run() {
    while (!stop_) {
      ProcessResult pods = kubectl_({"get", "pods", "-l", "app=coder", "-o", "json"});
      ProcessResult nodes = kubectl_({"get", "nodes", "-o", "json"});
      if (pods.exit_code == 0 && nodes.exit_code == 0)
        Check(Json::parse(pods.out), Json::parse(nodes.out));
    }
  }

  void Check(const Json& pods, const Json& nodes) {
    std::set<std::string> ready_nodes;
    for (const Json& node : nodes["items"]) {
      if (node["metadata"].value("labels", Json::object()).value(kV2ReadyLabel, "") == "true") {
        ready_nodes.insert(node["metadata"]["name"].get<std::string>());
      }
    }
    int count = 0;
    for (const Json& pod : pods["items"]) {
      if (pod["metadata"].contains("deletionTimestamp")) continue;  // its GPUs are being freed
      ++count;
      const bool canary =
          pod["metadata"].value("labels", Json::object()).value("ferry.dev/track", "") == "canary";
      const std::string node = pod["spec"].value("nodeName", "");
      if (canary && !node.empty() && !ready_nodes.count(node)) {
        std::lock_guard lock(mutex_);
        violations_.push_back("canary pod " + pod["metadata"]["name"].get<std::string>() +
                              " on node " + node + " without 2.0.0 Ready");
      }
    }
    max_pods_ = std::max(max_pods_.load(), count);
    ++samples_;
  }

  KubectlFunction kubectl_;
  std::atomic<bool> stop_{false};
  std::atomic<int> samples_{0};
  std::atomic<int> max_pods_{0};
  std::mutex mutex_;
  std::vector<std::string> violations_;  // guarded by mutex_
  std::thread thread_;
};

TEST_F(CapacityE2eTest, FixedCompletesOnFullGpusWithoutEverExceedingTheReplicas) {
  PodSampler sampler([this](std::vector<std::string> args) { return Kubectl(args); });
  ApplyVersion("coder-2", "2.0.0", R"(
  strategy:
    canary:
      capacity: fixed
      steps:
        - setWeight: 30
        - pause: {}
        - setWeight: 100
)");
  ASSERT_TRUE(WaitForStatus("coder-2", Phase("Paused", 1), seconds(120)));
  // One stable pod traded for one canary pod: the total is unchanged.
  EXPECT_TRUE(kube::Eventually([&] {
    return PodVersions("ferry.dev/track=canary") == Copies(1, kV2) &&
           PodVersions("app=coder,!ferry.dev/track") == Copies(replicas_ - 1, kV1);
  }));
  EXPECT_EQ(Get("deployment", "coder-server")["metadata"]["annotations"].value(
                "ferry.dev/fixed-replicas", ""),
            std::to_string(replicas_));
  ProcessResult promoted = KubectlFerry({"promote", "coder-2"});
  ASSERT_EQ(promoted.exit_code, 0) << promoted.err;
  ASSERT_TRUE(WaitForStatus("coder-2", Phase("Promoted"), seconds(300)));
  ASSERT_TRUE(kube::Eventually([&] { return PodVersions("app=coder") == Copies(replicas_, kV2); },
                               seconds(60)));
  sampler.Stop();

  EXPECT_GT(sampler.samples(), 10);
  EXPECT_LE(sampler.max_pods(), replicas_) << "stable + canary pods exceeded the replicas";
  EXPECT_EQ(sampler.violations(), std::vector<std::string>{});
  const Json deployment = Get("deployment", "coder-server");
  EXPECT_EQ(deployment["spec"]["replicas"], replicas_);
  EXPECT_FALSE(deployment["metadata"]
                   .value("annotations", Json::object())
                   .contains("ferry.dev/fixed-replicas"));
  EXPECT_TRUE(
      kube::Eventually([&] { return !Get("deployment", "coder-server-canary").is_object(); }));
  ASSERT_TRUE(WaitForStatus("coder-1", Phase("Superseded"), seconds(30)));
}

TEST_F(CapacityE2eTest, SurgeOnFullGpusLeavesTheCanaryPendingAndSaysSo) {
  ApplyVersion("coder-2", "2.0.0", R"(
  strategy:
    canary:
      steps:
        - setWeight: 30
        - pause: {}
)");
  ASSERT_TRUE(WaitForStatus(
      "coder-2",
      [](const Json& status) {
        for (const Json& condition : status.value("conditions", Json::array())) {
          if (condition["type"] == "PodsScheduled") {
            return condition["status"] == "False" && condition["reason"] == "Unschedulable";
          }
        }
        return false;
      },
      seconds(120)));
  const Json status = Get("mv", "coder-2")["status"];
  EXPECT_EQ(status["phase"], "Progressing");
  EXPECT_EQ(status["currentStep"], 0);
  const std::string message = status["message"];
  EXPECT_NE(message.find("Insufficient nvidia.com/gpu"), std::string::npos) << message;
  EXPECT_NE(message.find("capacity: fixed"), std::string::npos) << message;
  // The stable pods keep every GPU and all traffic.
  EXPECT_EQ(PodVersions("app=coder,!ferry.dev/track"), Copies(replicas_, kV1));

  ProcessResult aborted = KubectlFerry({"abort", "coder-2"});
  ASSERT_EQ(aborted.exit_code, 0) << aborted.err;
  ASSERT_TRUE(WaitForStatus("coder-2", Phase("Aborted"), seconds(30)));
  EXPECT_TRUE(
      kube::Eventually([&] { return !Get("deployment", "coder-server-canary").is_object(); }));
}

}  // namespace
}  // namespace ferry::testing
