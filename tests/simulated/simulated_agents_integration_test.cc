// Shows the SIMULATED agents (tests/support/simulated_agents.h) against the real
// local cluster: the test writes ModelNode.spec as the operator would, and
// checks, field by field, the status the simulation reports through the
// status subresource, and each scripted fault. Uses the `cluster` fixture.
#include <gtest/gtest.h>

#include <regex>
#include <thread>

#include "lib/common/utc_time.h"
#include "tests/lib/kube/cluster_client.h"
#include "tests/support/simulated_agents.h"

namespace ferry::testing {
namespace {

using kube::Json;
using namespace std::chrono_literals;

constexpr int64_t kBytes = 13'478'000'000;  // SimulatedAgentsOptions::version_bytes
const std::string kDigest100 =
    "sha256:1000000000000000000000000000000000000000000000000000000000000001";

Json Source(const std::string& extra_key, const Json& extra_value, Json delta_from = nullptr) {
  Json source = {{"repository", "http://ferry-repo.ml.svc:8080"}, {extra_key, extra_value}};
  if (!delta_from.is_null()) source["deltaFrom"] = std::move(delta_from);
  return source;
}

// The status entry of one version, or null.
Json VersionEntry(const Json& model_node, const std::string& model, const std::string& version) {
  for (const Json& entry :
       kube::ObjectField(model_node, "status").value("versions", Json::array())) {
    if (entry.value("model", "") == model && entry.value("version", "") == version) return entry;
  }
  return nullptr;
}

Json ConditionOf(const Json& model_node, const std::string& type) {
  for (const Json& entry :
       kube::ObjectField(model_node, "status").value("conditions", Json::array())) {
    if (entry.value("type", "") == type) return entry;
  }
  return nullptr;
}

bool IsSha256(const Json& value) {
  return value.is_string() &&
         std::regex_match(value.get<std::string>(), std::regex("^sha256:[a-f0-9]{64}$"));
}

class SimulatedAgentsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    client_ = kube::NewClusterClient();
    ASSERT_NE(client_, nullptr);
    Result<std::vector<std::string>> nodes = SimulatedGpuNodeNames(*client_);
    ASSERT_TRUE(nodes) << nodes.error().message;
    ASSERT_EQ(*nodes, (std::vector<std::string>{"kwok-gpu-0", "kwok-gpu-1", "kwok-gpu-2"}));
    nodes_ = *nodes;
    // What an earlier run reported would be taken over as held versions:
    // start from no ModelNode at all, so every field below is this run's.
    for (const std::string& node : nodes_) {
      (void)client_->Delete(kube::types::ModelNodes(), "", node);
    }
    ASSERT_TRUE(kube::Eventually([&] {
      for (const std::string& node : nodes_) {
        if (client_->Get(kube::types::ModelNodes(), "", node)) return false;
      }
      return true;
    }));
    Result<std::unique_ptr<SimulatedAgents>> agents = SimulatedAgents::Start(*client_, nodes_);
    ASSERT_TRUE(agents) << agents.error().message;
    agents_ = std::move(*agents);
  }

  void TearDown() override {
    if (!agents_) return;
    // Deleted while the simulation runs: it must simply stop reporting on them.
    Status deleted = agents_->DeleteModelNodes();
    EXPECT_TRUE(deleted) << deleted.error().message;
    agents_.reset();
  }

  Json Get(const std::string& node) {
    Result<Json> object = client_->Get(kube::types::ModelNodes(), "", node);
    return object ? *object : Json(nullptr);
  }

  // Writes spec.models as the operator does (main resource; the status
  // subresource is the agents'), and returns the generation it made.
  int64_t WriteSpec(const std::string& node, const Json& models) {
    Result<Json> patched =
        client_->Patch(kube::types::ModelNodes(), "", node, kube::PatchType::kMerge,
                       {{"spec", {{"models", models}}}});
    EXPECT_TRUE(patched) << patched.error().message;
    return patched ? patched->at("metadata").value("generation", int64_t{0}) : -1;
  }

  // Waits until the status has acted on `generation` and `check` holds on the
  // object; the last object read is left in `last_`.
  bool WaitFor(const std::string& node, int64_t generation,
               const std::function<bool(const Json&)>& check,
               std::chrono::milliseconds timeout = 5s) {
    return kube::Eventually(
        [&] {
          last_ = Get(node);
          return !last_.is_null() &&
                 kube::ObjectField(last_, "status").value("observedGeneration", int64_t{-1}) ==
                     generation &&
                 check(last_);
        },
        timeout);
  }

  std::unique_ptr<kube::Client> client_;
  std::vector<std::string> nodes_;
  std::unique_ptr<SimulatedAgents> agents_;
  Json last_;
};

TEST_F(SimulatedAgentsTest, EveryNodeGetsAnOwnedModelNodeWithHealthyGpus) {
  for (const std::string& node : nodes_) {
    ASSERT_TRUE(
        WaitFor(node, 1, [](const Json& object) { return object["status"].contains("heartbeat"); }))
        << node << ": " << last_.dump();
    const Json& status = last_["status"];
    ASSERT_EQ(last_["metadata"]["ownerReferences"].size(), 1u);
    EXPECT_EQ(last_["metadata"]["ownerReferences"][0]["kind"], "Node");
    EXPECT_EQ(last_["metadata"]["ownerReferences"][0]["name"], node);
    EXPECT_EQ(last_["metadata"]["ownerReferences"][0]["uid"],
              (*client_->Get(kube::types::Nodes(), "", node))["metadata"]["uid"]);
    EXPECT_EQ(status["agentVersion"], "simulated");
    EXPECT_EQ(status["heartbeatSeconds"], 2);
    EXPECT_TRUE(ParseTime(status["heartbeat"].get<std::string>()).has_value()) << status;
    EXPECT_EQ(status["versions"], Json::array());
    EXPECT_EQ(status["totalGPUs"], 8);
    EXPECT_EQ(status["healthyGPUs"], 8);
    ASSERT_EQ(status["gpus"].size(), 8u);
    for (int i = 0; i < 8; ++i) {
      EXPECT_EQ(status["gpus"][i], (Json{{"index", i},
                                         {"uuid", "GPU-sim-" + node + "-" + std::to_string(i)},
                                         {"name", "Simulated GPU"},
                                         {"healthy", true}}));
    }
    EXPECT_EQ(ConditionOf(last_, "Ready")["status"], "True");
    EXPECT_EQ(ConditionOf(last_, "Ready")["reason"], "AgentRunning");
    EXPECT_EQ(ConditionOf(last_, "GPUHealthy")["status"], "True");
    EXPECT_EQ(ConditionOf(last_, "GPUHealthy")["reason"], "AllGPUsHealthy");
    EXPECT_EQ(ConditionOf(last_, "GPUHealthy")["message"], "8 of 8 GPUs healthy");
  }
}

TEST_F(SimulatedAgentsTest, StatusFollowsSpecThroughActivationRemovalAndDeltas) {
  const std::string node = nodes_[0];
  // Two versions, the first active: both staged, 1.0.0 becomes current.
  const Json v100 = {{"version", "1.0.0"}, {"source", Source("manifestDigest", kDigest100)}};
  const Json v110 = {{"version", "1.1.0"},
                     {"source", Source("publicKey", "simulated-public-key", {"1.0.0"})}};
  int64_t generation = WriteSpec(
      node,
      Json::array({{{"model", "sim-coder"}, {"active", "1.0.0"}, {"versions", {v100, v110}}}}));
  EXPECT_EQ(generation, 2);
  ASSERT_TRUE(WaitFor(node, generation, [](const Json& object) {
    return VersionEntry(object, "sim-coder", "1.0.0").value("state", "") == "Active" &&
           VersionEntry(object, "sim-coder", "1.1.0").value("state", "") == "Ready";
  })) << last_.dump(2);
  Json active = VersionEntry(last_, "sim-coder", "1.0.0");
  EXPECT_EQ(active["digest"], kDigest100);
  EXPECT_EQ(active["bytes"], kBytes);
  EXPECT_EQ(active["totalBytes"], kBytes);
  EXPECT_EQ(active["downloadedBytes"], kBytes);
  EXPECT_FALSE(active.contains("deltaFrom"));
  EXPECT_TRUE(ParseTime(active["lastTransitionTime"].get<std::string>()).has_value());
  Json ready = VersionEntry(last_, "sim-coder", "1.1.0");
  EXPECT_TRUE(IsSha256(ready["digest"])) << ready;
  EXPECT_NE(ready["digest"], kDigest100);
  // 1.0.0 was not held yet when 1.1.0 started, so no delta applied.
  EXPECT_FALSE(ready.contains("deltaFrom"));
  EXPECT_EQ(ready["downloadedBytes"], kBytes);
  EXPECT_EQ(last_["status"]["versions"].size(), 2u);
  EXPECT_EQ(last_["status"]["disk"]["storeBytes"], 2 * kBytes);
  EXPECT_EQ(agents_->StateOf(node, "sim-coder", "1.0.0"), "Active");
  EXPECT_EQ(agents_->StateOf(node, "sim-coder", "1.1.0"), "Ready");
  EXPECT_EQ(agents_->StateOf(node, "sim-coder", "9.9.9"), std::nullopt);

  // Promote 1.1.0 and drop 1.0.0 from the list: 1.0.0 leaves the status.
  generation = WriteSpec(
      node, Json::array({{{"model", "sim-coder"}, {"active", "1.1.0"}, {"versions", {v110}}}}));
  EXPECT_EQ(generation, 3);
  ASSERT_TRUE(WaitFor(node, generation, [](const Json& object) {
    return object["status"]["versions"].size() == 1 &&
           VersionEntry(object, "sim-coder", "1.1.0").value("state", "") == "Active";
  })) << last_.dump(2);
  EXPECT_TRUE(VersionEntry(last_, "sim-coder", "1.0.0").is_null());
  EXPECT_EQ(agents_->StateOf(node, "sim-coder", "1.0.0"), std::nullopt);

  // A version with a delta from one the node holds reports the delta.
  const Json v120 = {{"version", "1.2.0"},
                     {"source", Source("publicKey", "simulated-public-key", {"1.0.0", "1.1.0"})}};
  generation = WriteSpec(
      node,
      Json::array({{{"model", "sim-coder"}, {"active", "1.1.0"}, {"versions", {v110, v120}}}}));
  ASSERT_TRUE(WaitFor(node, generation, [](const Json& object) {
    return VersionEntry(object, "sim-coder", "1.2.0").value("state", "") == "Ready";
  })) << last_.dump(2);
  Json delta = VersionEntry(last_, "sim-coder", "1.2.0");
  EXPECT_EQ(delta["deltaFrom"], "1.1.0");
  EXPECT_EQ(delta["bytes"], kBytes);
  EXPECT_EQ(delta["downloadedBytes"], kBytes / 10);
  EXPECT_EQ(VersionEntry(last_, "sim-coder", "1.1.0")["state"], "Active");

  // The simulation never wrote spec: the generation moved only with our writes.
  EXPECT_EQ(Get(node)["metadata"]["generation"], 4);
  EXPECT_EQ(Get(node)["spec"]["models"][0]["versions"].size(), 2u);
}

TEST_F(SimulatedAgentsTest, VersionsPassThroughPendingAndFetching) {
  const std::string node = nodes_[1];
  agents_->SetStagingDelay(node, 1500ms);
  const int64_t generation = WriteSpec(
      node, Json::array(
                {{{"model", "sim-chat"},
                  {"versions",
                   {{{"version", "2.0.0"}, {"source", Source("manifestDigest", kDigest100)}}}}}}));
  ASSERT_TRUE(WaitFor(node, generation, [](const Json& object) {
    return VersionEntry(object, "sim-chat", "2.0.0").value("state", "") == "Pending";
  })) << last_.dump(2);
  EXPECT_EQ(VersionEntry(last_, "sim-chat", "2.0.0")["bytes"], 0);
  EXPECT_FALSE(VersionEntry(last_, "sim-chat", "2.0.0").contains("digest"));

  ASSERT_TRUE(WaitFor(node, generation, [](const Json& object) {
    return VersionEntry(object, "sim-chat", "2.0.0").value("state", "") == "Fetching";
  })) << last_.dump(2);
  Json fetching = VersionEntry(last_, "sim-chat", "2.0.0");
  EXPECT_EQ(fetching["bytes"], kBytes / 2);
  EXPECT_EQ(fetching["totalBytes"], kBytes);
  EXPECT_EQ(fetching["downloadedBytes"], kBytes / 2);
  EXPECT_FALSE(fetching.contains("digest"));

  agents_->ResetStagingDelay(node);
  EXPECT_TRUE(agents_->WaitForState(node, "sim-chat", "2.0.0", "Ready", 5s));
  // No `active` in spec: the agent leaves `current` alone, so Ready, not Active.
  ASSERT_TRUE(WaitFor(node, generation, [](const Json& object) {
    return VersionEntry(object, "sim-chat", "2.0.0").value("state", "") == "Ready";
  }));
  EXPECT_EQ(VersionEntry(last_, "sim-chat", "2.0.0")["digest"], kDigest100);
}

TEST_F(SimulatedAgentsTest, FailVersionReportsFailedUntilResumed) {
  const std::string node = nodes_[2];
  agents_->FailVersion(node, "sim-coder", "3.0.0", "manifest signature does not verify");
  const Json v300 = {{"version", "3.0.0"}, {"source", Source("publicKey", "simulated-public-key")}};
  const int64_t generation =
      WriteSpec(node, Json::array({{{"model", "sim-coder"}, {"versions", {v300}}}}));
  ASSERT_TRUE(WaitFor(node, generation, [](const Json& object) {
    return VersionEntry(object, "sim-coder", "3.0.0").value("state", "") == "Failed";
  })) << last_.dump(2);
  Json failed = VersionEntry(last_, "sim-coder", "3.0.0");
  EXPECT_EQ(failed["message"], "manifest signature does not verify");
  EXPECT_FALSE(failed.contains("digest"));
  // Well past the two steps of a staging: still Failed, never Ready.
  std::this_thread::sleep_for(1500ms);
  EXPECT_EQ(VersionEntry(Get(node), "sim-coder", "3.0.0")["state"], "Failed");
  EXPECT_EQ(agents_->StateOf(node, "sim-coder", "3.0.0"), "Failed");

  agents_->ResumeVersion(node, "sim-coder", "3.0.0");
  EXPECT_TRUE(agents_->WaitForState(node, "sim-coder", "3.0.0", "Ready", 5s));
  ASSERT_TRUE(WaitFor(node, generation, [](const Json& object) {
    return VersionEntry(object, "sim-coder", "3.0.0").value("state", "") == "Ready";
  }));
  EXPECT_FALSE(VersionEntry(last_, "sim-coder", "3.0.0").contains("message"));
}

TEST_F(SimulatedAgentsTest, ReportCriticalXidMarksOneGpuUnhealthy) {
  const std::string node = nodes_[0];
  ASSERT_TRUE(WaitFor(
      node, 1, [](const Json& object) { return object["status"].value("healthyGPUs", -1) == 8; }));
  agents_->ReportCriticalXid(node, 3, 79);
  ASSERT_TRUE(WaitFor(node, 1, [](const Json& object) {
    return object["status"].value("healthyGPUs", -1) == 7;
  })) << last_.dump(2);
  const Json& status = last_["status"];
  EXPECT_EQ(status["totalGPUs"], 8);
  EXPECT_EQ(status["gpus"][3], (Json{{"index", 3},
                                     {"uuid", "GPU-sim-" + node + "-3"},
                                     {"name", "Simulated GPU"},
                                     {"healthy", false},
                                     {"reasons", {"critical XID 79 (GPU fell off the bus)"}},
                                     {"xidCritical", {79}}}));
  for (int i : {0, 1, 2, 4, 5, 6, 7}) EXPECT_EQ(status["gpus"][i]["healthy"], true) << i;
  const Json gpu_healthy = ConditionOf(last_, "GPUHealthy");
  EXPECT_EQ(gpu_healthy["status"], "False");
  EXPECT_EQ(gpu_healthy["reason"], "CriticalXid");
  EXPECT_EQ(gpu_healthy["message"],
            "7 of 8 GPUs healthy: GPU 3: critical XID 79 (GPU fell off the bus)");
  EXPECT_EQ(ConditionOf(last_, "Ready")["status"], "True");
  // The other nodes are not affected.
  EXPECT_EQ(Get(nodes_[1])["status"]["healthyGPUs"], 8);

  agents_->RecoverGpu(node, 3);
  ASSERT_TRUE(WaitFor(
      node, 1, [](const Json& object) { return object["status"].value("healthyGPUs", -1) == 8; }));
  EXPECT_EQ(ConditionOf(last_, "GPUHealthy")["reason"], "AllGPUsHealthy");
}

TEST_F(SimulatedAgentsTest, StopHeartbeatFreezesTheStatus) {
  const std::string node = nodes_[1];
  ASSERT_TRUE(
      WaitFor(node, 1, [](const Json& object) { return object["status"].contains("heartbeat"); }));
  const std::string first = last_["status"]["heartbeat"];
  // It moves while running: every 2 s, at one-second resolution.
  ASSERT_TRUE(WaitFor(
      node, 1, [&](const Json& object) { return object["status"]["heartbeat"] != first; }, 5s));
  const std::string other_before = Get(nodes_[0])["status"]["heartbeat"];

  agents_->StopHeartbeat(node);
  std::this_thread::sleep_for(300ms);  // a write already in flight lands
  const Json stopped = Get(node);
  std::this_thread::sleep_for(5s);  // over two periods
  const Json later = Get(node);
  EXPECT_EQ(later["status"]["heartbeat"], stopped["status"]["heartbeat"]);
  EXPECT_EQ(later["metadata"]["resourceVersion"], stopped["metadata"]["resourceVersion"])
      << "no write at all while stopped";
  EXPECT_NE(Get(nodes_[0])["status"]["heartbeat"], other_before) << "other nodes keep beating";
  const auto age = std::chrono::system_clock::now() -
                   *ParseTime(later["status"]["heartbeat"].get<std::string>());
  EXPECT_GE(age, 5s);

  agents_->ResumeHeartbeat(node);
  ASSERT_TRUE(WaitFor(
      node, 1,
      [&](const Json& object) {
        return object["status"]["heartbeat"] != stopped["status"]["heartbeat"];
      },
      3s));
}

}  // namespace
}  // namespace ferry::testing
