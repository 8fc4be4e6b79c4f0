// The ModelVersion reconciler on the in-memory fake cluster with a fake
// clock: staging waves, the canary rollout through promotion, the status
// write that never loses a user's promote, slow requeue of permanent errors,
// and the finalizer. The test plays the parts that run elsewhere in a real
// cluster: the agents (it writes ModelNode.status — simulated agents) and
// the Deployment controller (it writes Deployment.status). The same
// behaviour is shown against the real control plane in tests/e2e.
#include <gtest/gtest.h>

#include "lib/api/model_node.h"
#include "lib/api/model_version.h"
#include "lib/common/utc_time.h"
#include "lib/kube/base64.h"
#include "operator/model_version_reconciler.h"
#include "operator/naming.h"
#include "operator/rollout.h"
#include "tests/support/fake_clock.h"
#include "tests/support/fake_cluster.h"
#include "tests/support/fake_event_recorder.h"

namespace ferry::operator_ {
namespace {

using kube::Json;
using std::chrono::seconds;
using testing::FakeClock;
using testing::FakeCluster;
using testing::FakeEventRecorder;
namespace types = kube::types;

class ReconcilerTest : public ::testing::Test {
 protected:
  ReconcilerTest()
      : cluster_(&clock_),
        reconciler_({.caches = cluster_,
                     .writer = cluster_,
                     .events = events_,
                     .clock = clock_,
                     .log = nullptr}) {}

  void SetUp() override {
    for (int i = 0; i < 3; ++i) AddNode("gpu-" + std::to_string(i));
    Json secret = {{"apiVersion", "v1"},
                   {"kind", "Secret"},
                   {"metadata", {{"name", "key"}, {"namespace", "ml"}}},
                   {"data", {{"public.key", kube::EncodeBase64("ed25519-public-key\n")}}}};
    ASSERT_TRUE(cluster_.Create(types::Secrets(), secret).ok());
    Json deployment = Json::parse(R"({"apiVersion": "apps/v1", "kind": "Deployment",
      "metadata": {"name": "coder-server", "namespace": "ml", "labels": {"app": "coder"}},
      "spec": {"replicas": 4, "selector": {"matchLabels": {"app": "coder"}},
               "template": {"metadata": {"labels": {"app": "coder"}},
                            "spec": {"containers": [{"name": "server", "image": "srv:1"}]}}}})");
    ASSERT_TRUE(cluster_.Create(types::Deployments(), deployment).ok());
  }

  void AddNode(const std::string& name) {
    Json node = {{"apiVersion", "v1"},
                 {"kind", "Node"},
                 {"metadata", {{"name", name}, {"labels", {{"ferry.dev/gpu", "true"}}}}}};
    ASSERT_TRUE(cluster_.Create(types::Nodes(), node).ok());
    Json model_node = {{"apiVersion", "ferry.dev/v1alpha1"},
                       {"kind", "ModelNode"},
                       {"metadata", {{"name", name}}},
                       {"spec", {{"models", Json::array()}}}};
    ASSERT_TRUE(cluster_.Create(types::ModelNodes(), model_node).ok());
    Heartbeat(name);
  }

  // A simulated agent's status write: versions as given, a fresh heartbeat.
  void WriteAgentStatus(const std::string& node, const Json& versions, bool healthy = true) {
    auto current = cluster_.Get(types::ModelNodes(), "", node);
    ASSERT_TRUE(current.ok());
    Json status = {{"observedGeneration", kube::IntField((*current)["metadata"], "generation")},
                   {"heartbeat", FormatTime(clock_.Now())},
                   {"heartbeatSeconds", 10},
                   {"totalGPUs", 8},
                   {"healthyGPUs", healthy ? 8 : 7},
                   {"versions", versions}};
    if (!healthy) {
      status["gpus"] = {{{"index", 3},
                         {"healthy", false},
                         {"reasons", {"critical XID 79 (GPU fell off the bus)"}}}};
    }
    auto written = cluster_.Patch(types::ModelNodes(), "", node, kube::PatchType::kMerge,
                                  {{"status", status}}, "status");
    ASSERT_TRUE(written.ok()) << written.error().message;
  }
  void Heartbeat(const std::string& node) {
    auto current = cluster_.Get(types::ModelNodes(), "", node);
    ASSERT_TRUE(current.ok());
    WriteAgentStatus(node, kube::ObjectField(*current, "status").value("versions", Json::array()));
  }

  // Simulated agents: every listed version becomes Ready, `active` Active.
  void AgentsFollowSpec() {
    for (const kube::ObjectPtr& object : cluster_.Of(types::ModelNodes()).List()) {
      const api::ModelNode node = *api::ParseModelNode(*object);
      Json versions = Json::array();
      for (const api::NodeModel& model : node.spec.models) {
        for (const api::NodeVersion& version : model.versions) {
          versions.push_back({{"model", model.model},
                              {"version", version.version},
                              {"state", model.active == version.version ? "Active" : "Ready"}});
        }
      }
      WriteAgentStatus(node.metadata.name, versions);
    }
  }

  // The Deployment controller's part: every Deployment rolled out.
  void DeploymentsRollOut() {
    for (const kube::ObjectPtr& object : cluster_.Of(types::Deployments()).List()) {
      const int64_t replicas = kube::IntField(kube::ObjectField(*object, "spec"), "replicas", 1);
      Json status = {{"observedGeneration", kube::IntField((*object)["metadata"], "generation")},
                     {"replicas", replicas},
                     {"updatedReplicas", replicas},
                     {"readyReplicas", replicas},
                     {"availableReplicas", replicas}};
      ASSERT_TRUE(cluster_
                      .Patch(types::Deployments(), kube::Namespace(*object), kube::Name(*object),
                             kube::PatchType::kMerge, {{"status", status}}, "status")
                      .ok());
    }
  }

  void Apply(const std::string& name, const std::string& version, const Json& strategy,
             int max_concurrent = 4) {
    Json mv = {
        {"apiVersion", "ferry.dev/v1alpha1"},
        {"kind", "ModelVersion"},
        {"metadata", {{"name", name}, {"namespace", "ml"}}},
        {"spec",
         {{"model", "coder"},
          {"version", version},
          {"source", {{"repository", "http://repo"}, {"publicKeySecretRef", {{"name", "key"}}}}},
          {"nodeSelector", {{"ferry.dev/gpu", "true"}}},
          {"staging", {{"maxConcurrentNodes", max_concurrent}, {"minReadyNodes", 2}}},
          {"serving", {{"deployment", "coder-server"}, {"service", "coder"}}}}}};
    if (!strategy.is_null()) mv["spec"]["strategy"] = strategy;
    ASSERT_TRUE(cluster_.Create(types::ModelVersions(), mv).ok());
  }

  Result<kube::Action> Reconcile(const std::string& name) {
    return reconciler_.Reconcile("ml/" + name);
  }
  // Reconciles `name` `times` times, the agents and the Deployment controller
  // answering after each pass.
  void Drive(const std::string& name, int times) {
    for (int i = 0; i < times; ++i) {
      auto action = Reconcile(name);
      ASSERT_TRUE(action.ok()) << action.error().message;
      AgentsFollowSpec();
      DeploymentsRollOut();
    }
  }

  // Reconciles until a pass changes nothing (as watch events would keep
  // waking it), the agents and the Deployment controller answering.
  void Settle(const std::string& name) {
    for (int i = 0; i < 30; ++i) {
      cluster_.ResetCounters();
      Drive(name, 1);
      bool wrote = false;
      for (const testing::WriteRecord& write : cluster_.Writes()) {
        wrote = wrote ||
                (write.changed && write.type.plural != "modelnodes" &&
                 write.type.plural != "deployments") ||
                (write.changed && write.subresource.empty());
      }
      if (!wrote) return;
    }
    ADD_FAILURE() << name << " did not settle in 30 passes";
  }

  api::ModelVersion Get(const std::string& name) {
    return *api::ParseModelVersion(*cluster_.Get(types::ModelVersions(), "ml", name));
  }
  api::ModelNode Node(const std::string& name) {
    return *api::ParseModelNode(*cluster_.Get(types::ModelNodes(), "", name));
  }
  void PatchStatus(const std::string& name, const Json& status) {
    ASSERT_TRUE(cluster_
                    .Patch(types::ModelVersions(), "ml", name, kube::PatchType::kMerge,
                           {{"status", status}}, "status")
                    .ok());
  }
  Result<Json> Canary() { return cluster_.Get(types::Deployments(), "ml", "coder-server-canary"); }
  std::string StableVersion() {
    auto stable = cluster_.Get(types::Deployments(), "ml", "coder-server");
    return kube::StringField((*stable)["spec"]["template"]["metadata"]["annotations"],
                             "ferry.dev/model-version");
  }

  // v1 applied and driven to Promoted.
  void PromoteV1() {
    Apply("coder-1", "1.0.0", Json());
    Settle("coder-1");
    ASSERT_EQ(Get("coder-1").status.phase, api::Phase::kPromoted) << Get("coder-1").status.message;
  }

  FakeClock clock_;
  FakeCluster cluster_;
  FakeEventRecorder events_;
  ModelVersionReconciler reconciler_;
};

TEST_F(ReconcilerTest, StagingGoesInWavesOfMaxConcurrentNodes) {
  Apply("coder-1", "1.0.0", Json(), /*max_concurrent=*/1);
  ASSERT_TRUE(Reconcile("coder-1").ok());  // adds the finalizer
  EXPECT_EQ(Get("coder-1").metadata.finalizers, std::vector<std::string>{"ferry.dev/cleanup"});
  ASSERT_TRUE(Reconcile("coder-1").ok());
  // One node at a time: only gpu-0 was asked to hold 1.0.0.
  EXPECT_NE(Node("gpu-0").spec.Find("coder"), nullptr);
  EXPECT_EQ(Node("gpu-1").spec.Find("coder"), nullptr);
  const api::ModelNode gpu0 = Node("gpu-0");
  const api::NodeVersion& listed = gpu0.spec.Find("coder")->versions.at(0);
  EXPECT_EQ(listed.source.public_key, "ed25519-public-key\n");  // copied from the Secret
  EXPECT_EQ(listed.model_version_ref, (api::ModelVersionRef{"ml", "coder-1"}));
  EXPECT_EQ(Get("coder-1").status.phase, api::Phase::kStaging);

  AgentsFollowSpec();  // gpu-0 ready: the slot frees for gpu-1
  ASSERT_TRUE(Reconcile("coder-1").ok());
  EXPECT_NE(Node("gpu-1").spec.Find("coder"), nullptr);
  EXPECT_EQ(Node("gpu-2").spec.Find("coder"), nullptr);
  // gpu-0 holds it verified, so it carries the label pods of 1.0.0 require.
  auto node = cluster_.Get(types::Nodes(), "", "gpu-0");
  EXPECT_EQ(kube::Labels(*node).at(ReadyLabel("coder", "1.0.0")), "true");
  EXPECT_EQ(
      kube::Labels(*cluster_.Get(types::Nodes(), "", "gpu-1")).count(ReadyLabel("coder", "1.0.0")),
      0u);
}

TEST_F(ReconcilerTest, TheFirstVersionBecomesStableAndActiveOnTheNodes) {
  PromoteV1();
  const api::ModelVersion v1 = Get("coder-1");
  EXPECT_EQ(v1.status.stable_version, "1.0.0");
  EXPECT_EQ(StableVersion(), "1.0.0");
  for (const char* name : {"gpu-0", "gpu-1", "gpu-2"}) {
    EXPECT_EQ(Node(name).spec.Find("coder")->active, "1.0.0") << name;
  }
  auto stable = cluster_.Get(types::Deployments(), "ml", "coder-server");
  const Json& env = (*stable)["spec"]["template"]["spec"]["containers"][0]["env"];
  EXPECT_EQ(env[0],
            Json({{"name", "FERRY_MODEL_PATH"}, {"value", "/models/coder/versions/1.0.0"}}));
  const Json& term =
      (*stable)["spec"]["template"]["spec"]["affinity"]["nodeAffinity"]
               ["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"][0];
  EXPECT_EQ(term["matchExpressions"][0]["key"], ReadyLabel("coder", "1.0.0"));
  EXPECT_TRUE(events_.Has("Promoted"));
}

TEST_F(ReconcilerTest, ACanaryRolloutThroughEveryStepToPromotion) {
  PromoteV1();
  Apply("coder-2", "2.0.0", Json::parse(R"({"canary": {"steps": [
      {"setWeight": 25}, {"pause": {}}, {"setWeight": 50}, {"pause": {"duration": "10s"}}]}})"));
  Settle("coder-2");  // finalizer, staged, step 0 scaled and available
  api::ModelVersion v2 = Get("coder-2");
  EXPECT_EQ(v2.status.phase, api::Phase::kPaused) << v2.status.message;
  EXPECT_EQ(v2.status.current_step, 1);
  EXPECT_EQ(v2.status.canary_weight, 25);
  EXPECT_EQ(v2.status.stable_version, "1.0.0");
  auto canary = Canary();
  ASSERT_TRUE(canary.ok());
  EXPECT_EQ((*canary)["spec"]["replicas"], 1);
  EXPECT_EQ((*canary)["spec"]["template"]["metadata"]["labels"]["app"],
            "coder");  // the Service selects it
  EXPECT_EQ((*canary)["spec"]["template"]["metadata"]["labels"]["ferry.dev/track"], "canary");
  EXPECT_EQ(StableVersion(), "1.0.0");
  // Both versions on every node, the stable one active.
  EXPECT_EQ(Node("gpu-0").spec.Find("coder")->versions.size(), 2u);
  EXPECT_EQ(Node("gpu-0").spec.Find("coder")->active, "1.0.0");

  Settle("coder-2");  // nothing moves without promote
  EXPECT_EQ(Get("coder-2").status.current_step, 1);
  PatchStatus("coder-2", {{"promote", "step"}});
  Settle("coder-2");
  v2 = Get("coder-2");
  EXPECT_EQ(v2.status.current_step, 3);
  EXPECT_EQ(v2.status.phase, api::Phase::kPaused);
  EXPECT_FALSE(v2.status.promote.has_value());
  EXPECT_EQ((*Canary())["spec"]["replicas"], 2);

  clock_.Advance(seconds(5));
  Settle("coder-2");
  EXPECT_EQ(Get("coder-2").status.current_step, 3);  // 5 of 10 s
  clock_.Advance(seconds(5));
  Settle("coder-2");
  v2 = Get("coder-2");
  EXPECT_EQ(v2.status.phase, api::Phase::kPromoted) << v2.status.message;
  EXPECT_EQ(StableVersion(), "2.0.0");
  EXPECT_EQ(Canary().error().code, ErrorCode::kNotFound);
  EXPECT_EQ(Node("gpu-1").spec.Find("coder")->active, "2.0.0");

  // v1 learns it was superseded, and the nodes keep it for a rollback.
  ASSERT_TRUE(Reconcile("coder-1").ok());
  EXPECT_EQ(Get("coder-1").status.phase, api::Phase::kSuperseded);
  EXPECT_NE(Node("gpu-1").spec.Find("coder")->Find("1.0.0"), nullptr);

  // Each transition is in the history once.
  std::vector<std::string> reasons;
  for (const api::HistoryEntry& entry : v2.status.history) reasons.push_back(entry.reason);
  EXPECT_EQ(reasons, (std::vector<std::string>{"Staging", "Staged", "WeightSet",
                                               "AwaitingPromotion", "PromoteStep", "WeightSet",
                                               "PauseDuration", "PauseEnded", "Promoted"}));
}

TEST_F(ReconcilerTest, APromoteWrittenWhileTheOperatorWritesStatusIsNotLost) {
  PromoteV1();
  Apply("coder-2", "2.0.0", Json::parse(R"({"canary": {"steps": [
      {"pause": {}}, {"pause": {}}, {"pause": {}}]}})"));
  Settle("coder-2");
  ASSERT_EQ(Get("coder-2").status.phase, api::Phase::kPaused);
  ASSERT_EQ(Get("coder-2").status.current_step, 0);
  // A user promotes in between the reconciler's read and its status write.
  bool raced = false;
  cluster_.BeforeEachWrite([&](const testing::WriteRecord& write) {
    if (raced || write.type.plural != "modelversions" || write.subresource != "status") return;
    raced = true;
    PatchStatus("coder-2", {{"promote", "step"}});
  });
  clock_.Advance(seconds(1));
  PatchStatus("coder-2", {{"message", "something the operator rewrites"}});
  ASSERT_TRUE(Reconcile("coder-2").ok());
  ASSERT_TRUE(raced);
  const api::ModelVersion v2 = Get("coder-2");
  EXPECT_EQ(v2.status.current_step, 1);  // the racing promote was acted upon
  EXPECT_FALSE(v2.status.promote.has_value());
}

TEST_F(ReconcilerTest, AMissingDeploymentFailsWithAMessageAndDoesNotHotLoop) {
  ASSERT_TRUE(cluster_.Delete(types::Deployments(), "ml", "coder-server").ok());
  Apply("coder-1", "1.0.0", Json());
  ASSERT_TRUE(Reconcile("coder-1").ok());
  auto action = Reconcile("coder-1");
  ASSERT_TRUE(action.ok());
  api::ModelVersion v1 = Get("coder-1");
  EXPECT_EQ(v1.status.phase, api::Phase::kFailed);
  EXPECT_EQ(v1.status.message,
            "Deployment ml/coder-server not found: create the serving Deployment, or correct "
            "spec.serving.deployment");
  EXPECT_GE(action->requeue_after(), seconds(60));
  // Staging goes on meanwhile (the bytes are there once the Deployment is);
  // once the nodes settle, looking again writes nothing.
  ASSERT_TRUE(Reconcile("coder-1").ok());
  cluster_.ResetCounters();
  ASSERT_TRUE(Reconcile("coder-1").ok());
  for (const testing::WriteRecord& write : cluster_.Writes()) {
    EXPECT_FALSE(write.type.plural == "modelversions") << "wrote " << write.name;
  }
  EXPECT_EQ(events_.Count("DeploymentNotFound"), 1u);
}

TEST_F(ReconcilerTest, AMissingSecretSaysWhatToCreateAndResumesOnceItExists) {
  ASSERT_TRUE(cluster_.Delete(types::Secrets(), "ml", "key").ok());
  Apply("coder-1", "1.0.0", Json());
  Drive("coder-1", 2);
  EXPECT_EQ(Get("coder-1").status.phase, api::Phase::kFailed);
  EXPECT_NE(Get("coder-1").status.message.find("kubectl create secret generic key"),
            std::string::npos)
      << Get("coder-1").status.message;
  EXPECT_EQ(Node("gpu-0").spec.Find("coder"), nullptr);  // nothing unverifiable reaches a node
  Json secret = {{"apiVersion", "v1"},
                 {"kind", "Secret"},
                 {"metadata", {{"name", "key"}, {"namespace", "ml"}}},
                 {"data", {{"public.key", kube::EncodeBase64("k")}}}};
  ASSERT_TRUE(cluster_.Create(types::Secrets(), secret).ok());
  Settle("coder-1");
  EXPECT_EQ(Get("coder-1").status.phase, api::Phase::kPromoted) << Get("coder-1").status.message;
}

TEST_F(ReconcilerTest, TheSameVersionWithAnotherDigestFailsTheLaterModelVersion) {
  Json strategy;
  Apply("coder-1", "1.0.0", strategy);
  Apply("coder-1-again", "1.0.0", strategy);
  PatchStatus("coder-1", {{"phase", "Pending"}});
  auto set_digest = [&](const std::string& name, char hex) {
    auto object = cluster_.Get(types::ModelVersions(), "ml", name);
    (*object)["spec"]["source"]["manifestDigest"] = "sha256:" + std::string(64, hex);
    ASSERT_TRUE(cluster_.Update(types::ModelVersions(), *object).ok());
  };
  set_digest("coder-1", 'a');
  clock_.Advance(seconds(1));
  set_digest("coder-1-again", 'b');
  Drive("coder-1-again", 2);
  const api::ModelVersion later = Get("coder-1-again");
  EXPECT_EQ(later.status.phase, api::Phase::kFailed);
  EXPECT_NE(
      later.status.message.find("already names version 1.0.0 with manifestDigest sha256:aaaa"),
      std::string::npos)
      << later.status.message;
}

TEST_F(ReconcilerTest, ANodeWithAStaleHeartbeatIsSkippedAndNamed) {
  clock_.Advance(seconds(31));  // older than three 10 s periods
  Heartbeat("gpu-0");
  Heartbeat("gpu-1");
  Apply("coder-1", "1.0.0", Json());
  ASSERT_TRUE(Reconcile("coder-1").ok());
  ASSERT_TRUE(Reconcile("coder-1").ok());
  EXPECT_EQ(Node("gpu-2").spec.Find("coder"), nullptr);
  EXPECT_NE(Get("coder-1").status.message.find("skipped, heartbeat stale: gpu-2"),
            std::string::npos)
      << Get("coder-1").status.message;
}

TEST_F(ReconcilerTest, DeletingARolloutRemovesItsCanaryAndNodeEntriesButNotTheServedVersion) {
  PromoteV1();
  Apply("coder-2", "2.0.0",
        Json::parse(R"({"canary": {"steps": [{"setWeight": 50}, {"pause": {}}]}})"));
  Settle("coder-2");
  ASSERT_TRUE(Canary().ok());
  ASSERT_TRUE(cluster_.Delete(types::ModelVersions(), "ml", "coder-2").ok());
  ASSERT_TRUE(Get("coder-2").metadata.deletion_timestamp.has_value());  // held by the finalizer
  ASSERT_TRUE(Reconcile("coder-2").ok());
  EXPECT_EQ(cluster_.Get(types::ModelVersions(), "ml", "coder-2").error().code,
            ErrorCode::kNotFound);
  EXPECT_EQ(Canary().error().code, ErrorCode::kNotFound);
  const api::ModelNode gpu0 = Node("gpu-0");
  const api::NodeModel* entry = gpu0.spec.Find("coder");
  ASSERT_NE(entry, nullptr);
  EXPECT_EQ(entry->Find("2.0.0"), nullptr);
  EXPECT_NE(entry->Find("1.0.0"), nullptr);
  EXPECT_EQ(entry->active, "1.0.0");
}

TEST_F(ReconcilerTest, BlueGreenPinsTheActiveServiceBeforeGreenExistsAndSwitchesItOnPromote) {
  for (const char* name : {"coder", "coder-preview"}) {
    Json service = {{"apiVersion", "v1"},
                    {"kind", "Service"},
                    {"metadata", {{"name", name}, {"namespace", "ml"}}},
                    {"spec", {{"selector", {{"app", "coder"}}}}}};
    ASSERT_TRUE(cluster_.Create(types::Services(), service).ok());
  }
  PromoteV1();
  auto pin = [&](const std::string& service) {
    auto object = cluster_.Get(types::Services(), "ml", service);
    return kube::StringField((*object)["spec"]["selector"], "ferry.dev/version");
  };
  EXPECT_EQ(pin("coder"), "") << "a first version pins nothing";
  Apply("coder-2", "2.0.0", Json::parse(R"({"blueGreen": {"previewService": "coder-preview"}})"));
  cluster_.ResetCounters();
  Settle("coder-2");
  api::ModelVersion v2 = Get("coder-2");
  EXPECT_EQ(v2.status.phase, api::Phase::kPaused) << v2.status.message;
  EXPECT_EQ(v2.status.current_step, kBlueGreenAwaiting);
  EXPECT_EQ(pin("coder"), "1.0.0");
  EXPECT_EQ(pin("coder-preview"), "2.0.0");
  auto green = cluster_.Get(types::Deployments(), "ml", "coder-server-green");
  ASSERT_TRUE(green.ok());
  EXPECT_EQ((*green)["spec"]["replicas"], 4) << "as large as blue";
  EXPECT_EQ((*green)["spec"]["template"]["metadata"]["labels"]["ferry.dev/version"], "2.0.0");

  PatchStatus("coder-2", {{"promote", "step"}});
  ASSERT_TRUE(Reconcile("coder-2").ok());
  EXPECT_EQ(pin("coder"), "2.0.0");
  EXPECT_EQ(Get("coder-2").status.current_step, kBlueGreenSwitched);
  EXPECT_EQ(StableVersion(), "1.0.0") << "blue is left alone for the delay";

  clock_.Advance(std::chrono::seconds(30));  // scaleDownDelaySeconds' default
  Settle("coder-2");
  v2 = Get("coder-2");
  EXPECT_EQ(v2.status.phase, api::Phase::kPromoted) << v2.status.message;
  EXPECT_EQ(StableVersion(), "2.0.0");
  EXPECT_EQ(pin("coder"), "2.0.0");
  EXPECT_EQ(cluster_.Get(types::Deployments(), "ml", "coder-server-green").error().code,
            ErrorCode::kNotFound);
}

TEST_F(ReconcilerTest, BlueGreenWithoutItsServiceFailsWithAMessageAndResumesWhenItAppears) {
  PromoteV1();
  Apply("coder-2", "2.0.0", Json::parse(R"({"blueGreen": {}})"));
  Settle("coder-2");
  api::ModelVersion v2 = Get("coder-2");
  EXPECT_EQ(v2.status.phase, api::Phase::kFailed);
  EXPECT_EQ(v2.status.message,
            "Service ml/coder not found: create it (selecting the serving pods), or correct "
            "spec.serving.service");
  Json service = {{"apiVersion", "v1"},
                  {"kind", "Service"},
                  {"metadata", {{"name", "coder"}, {"namespace", "ml"}}},
                  {"spec", {{"selector", {{"app", "coder"}}}}}};
  ASSERT_TRUE(cluster_.Create(types::Services(), service).ok());
  Settle("coder-2");
  EXPECT_EQ(Get("coder-2").status.phase, api::Phase::kPaused) << Get("coder-2").status.message;
}

TEST_F(ReconcilerTest, ACanaryNodeWithACriticalXidRollsBackWithoutTouchingTheNodesVersions) {
  PromoteV1();
  Apply("coder-2", "2.0.0",
        Json::parse(R"({"canary": {"steps": [{"setWeight": 50}, {"pause": {}}]}})"));
  Settle("coder-2");
  ASSERT_EQ(Get("coder-2").status.phase, api::Phase::kPaused);
  // The scheduler's part: a canary pod on gpu-1.
  Json pod = {
      {"apiVersion", "v1"},
      {"kind", "Pod"},
      {"metadata",
       {{"name", "coder-server-canary-x"},
        {"namespace", "ml"},
        {"labels", {{"ferry.dev/track", "canary"}, {"ferry.dev/model-version-name", "coder-2"}}}}},
      {"spec", {{"nodeName", "gpu-1"}}}};
  ASSERT_TRUE(cluster_.Create(types::Pods(), pod).ok());
  auto node = Node("gpu-1");
  WriteAgentStatus("gpu-1",
                   Json::parse(R"([{"model": "coder", "version": "1.0.0", "state": "Active"},
                                            {"model": "coder", "version": "2.0.0", "state": "Ready"}])"),
                   /*healthy=*/false);
  ASSERT_TRUE(Reconcile("coder-2").ok());
  const api::ModelVersion v2 = Get("coder-2");
  EXPECT_EQ(v2.status.phase, api::Phase::kRolledBack);
  EXPECT_NE(
      v2.status.message.find("node gpu-1 running canary pod coder-server-canary-x reports "
                             "unhealthy GPUs (GPU 3: critical XID 79 (GPU fell off the bus))"),
      std::string::npos)
      << v2.status.message;
  // The canary goes in two moves: scaled to zero, deleted once its pods are gone.
  auto scaled = Canary();
  ASSERT_TRUE(scaled.ok()) << scaled.error().message;
  EXPECT_EQ((*scaled)["spec"]["replicas"], 0);
  DeploymentsRollOut();
  ASSERT_TRUE(Reconcile("coder-2").ok());
  EXPECT_EQ(Canary().error().code, ErrorCode::kNotFound);
  EXPECT_EQ(StableVersion(), "1.0.0");
  EXPECT_EQ(events_.Warnings().size(), 1u);
  for (const char* name : {"gpu-0", "gpu-1", "gpu-2"}) {
    EXPECT_NE(Node(name).spec.Find("coder")->Find("1.0.0"), nullptr) << name;
    EXPECT_EQ(Node(name).spec.Find("coder")->active, "1.0.0") << name;
  }
}

}  // namespace
}  // namespace ferry::operator_

namespace ferry::operator_ {
namespace {

TEST(RolloutMetricsTest, TransitionsAndFinishedStepsAreCounted) {
  FakeClock clock;
  FakeCluster cluster(&clock);
  FakeEventRecorder events;
  MetricsRegistry registry;
  RolloutMetrics metrics(registry);
  ModelVersionReconciler reconciler(
      {.caches = cluster, .writer = cluster, .events = events, .clock = clock, .log = nullptr},
      &metrics);
  Json mv = {
      {"apiVersion", "ferry.dev/v1alpha1"},
      {"kind", "ModelVersion"},
      {"metadata", {{"name", "v1"}, {"namespace", "ml"}}},
      {"spec",
       {{"model", "coder"},
        {"version", "1.0.0"},
        {"source",
         {{"repository", "http://repo"}, {"manifestDigest", "sha256:" + std::string(64, 'a')}}}}}};
  ASSERT_TRUE(cluster.Create(types::ModelVersions(), mv).ok());
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(reconciler.Reconcile("ml/v1").ok());
  metrics.Recount(cluster.Of(types::ModelVersions()));
  const std::string text = registry.Render();
  // No nodes: it waits in Staging, and says so once.
  EXPECT_NE(text.find("ferry_rollout_transitions_total{phase=\"Staging\",reason=\"Staging\"} 1"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("ferry_rollouts{phase=\"Staging\"} 1"), std::string::npos) << text;
  EXPECT_NE(text.find("ferry_rollouts{phase=\"Promoted\"} 0"), std::string::npos) << text;
}

}  // namespace
}  // namespace ferry::operator_
