// The typed ModelVersion and ModelNode: strict parsing whose errors name the
// failing path, status rendering, and the status patch the operator writes.
#include "lib/api/model_version.h"

#include <gtest/gtest.h>

#include "lib/api/model_node.h"
#include "lib/api/workload.h"
#include "lib/common/utc_time.h"

namespace ferry::api {
namespace {

Json ValidModelVersion() {
  return Json::parse(R"({
    "apiVersion": "ferry.dev/v1alpha1", "kind": "ModelVersion",
    "metadata": {"name": "coder-1-1-0", "namespace": "ml", "uid": "u1", "generation": 3,
                 "resourceVersion": "42", "creationTimestamp": "2026-12-01T00:00:00Z"},
    "spec": {
      "model": "coder", "version": "1.1.0",
      "source": {"repository": "http://repo", "publicKeySecretRef": {"name": "key"},
                 "deltaFrom": ["1.0.0"]},
      "serving": {"deployment": "coder-server", "service": "coder"},
      "staging": {"maxConcurrentNodes": 2, "minReadyNodes": 3},
      "strategy": {"canary": {"capacity": "fixed", "steps": [
        {"setWeight": 20}, {"pause": {}}, {"setWeight": 50}, {"pause": {"duration": "1h30m"}},
        {"analysis": {"webhook": {"url": "http://checks"}}}]}},
      "rollback": {"onFailure": false, "keepVersions": 3}
    },
    "status": {"phase": "Paused", "currentStep": 1, "promote": "step",
               "stepStartTime": "2026-12-01T00:05:00Z",
               "conditions": [{"type": "Staged", "status": "True", "reason": "MinReadyNodes",
                               "message": "", "lastTransitionTime": "2026-12-01T00:01:00Z"}],
               "history": [{"time": "2026-12-01T00:01:00Z", "phase": "Progressing", "step": 0}]}
  })");
}

TEST(ModelVersionParseTest, ReadsEveryPartOfAValidObject) {
  auto mv = ParseModelVersion(ValidModelVersion());
  ASSERT_TRUE(mv.ok()) << mv.error().message;
  EXPECT_EQ(mv->metadata.Key(), "ml/coder-1-1-0");
  EXPECT_EQ(mv->metadata.generation, 3);
  EXPECT_EQ(mv->spec.source.public_key_secret->key, "public.key");  // the default
  EXPECT_EQ(mv->spec.staging.min_ready_nodes, 3);
  EXPECT_FALSE(mv->spec.rollback.on_failure);
  const CanaryStrategy* canary = mv->spec.canary();
  ASSERT_NE(canary, nullptr);
  EXPECT_EQ(canary->capacity, Capacity::kFixed);
  EXPECT_EQ(canary->progress_deadline_seconds, 600);
  ASSERT_EQ(canary->steps.size(), 5u);
  EXPECT_EQ(std::get<SetWeightStep>(canary->steps[2]).weight, 50);
  EXPECT_FALSE(std::get<PauseStep>(canary->steps[1]).duration.has_value());
  EXPECT_EQ(std::get<PauseStep>(canary->steps[3]).duration, std::chrono::seconds(5400));
  EXPECT_EQ(std::get<AnalysisStep>(canary->steps[4]).webhook.timeout_seconds, 30);
  EXPECT_EQ(mv->status.phase, Phase::kPaused);
  EXPECT_EQ(mv->status.promote, PromoteRequest::kStep);
  EXPECT_EQ(mv->status.history.size(), 1u);
}

TEST(ModelVersionParseTest, ABadStepNamesItsPath) {
  Json object = ValidModelVersion();
  object["spec"]["strategy"]["canary"]["steps"][2]["pause"] = {{"duration", "10x"}};
  object["spec"]["strategy"]["canary"]["steps"][2].erase("setWeight");
  auto mv = ParseModelVersion(object);
  ASSERT_FALSE(mv.ok());
  EXPECT_EQ(mv.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(mv.error().message.rfind(
                "spec.strategy.canary.steps[2].pause.duration: \"10x\" is not a duration", 0),
            0u)
      << mv.error().message;

  object = ValidModelVersion();
  object["spec"]["strategy"]["canary"]["steps"][0]["pause"] = Json::object();
  mv = ParseModelVersion(object);
  ASSERT_FALSE(mv.ok());
  EXPECT_EQ(mv.error().message,
            "spec.strategy.canary.steps[0]: set exactly one of setWeight, pause, analysis");

  object = ValidModelVersion();
  object["spec"]["strategy"]["canary"]["steps"][0]["setWeight"] = 101;
  EXPECT_EQ(ParseModelVersion(object).error().message,
            "spec.strategy.canary.steps[0].setWeight: must be between 0 and 100, got 101");
}

TEST(ModelVersionParseTest, RulesTheSchemaAlsoHoldAreCheckedAgain) {
  Json object = ValidModelVersion();
  object["spec"]["source"].erase("publicKeySecretRef");
  EXPECT_EQ(ParseModelVersion(object).error().message,
            "spec.source: needs manifestDigest, publicKeySecretRef, or both");
  object = ValidModelVersion();
  object["spec"].erase("serving");
  EXPECT_EQ(ParseModelVersion(object).error().message,
            "spec: serving is required when strategy is set");
  object = ValidModelVersion();
  object["status"]["phase"] = "Sleeping";
  EXPECT_EQ(ParseModelVersion(object).error().message, "status.phase: unknown phase \"Sleeping\"");
  object = ValidModelVersion();
  object["metadata"]["creationTimestamp"] = "yesterday";
  EXPECT_EQ(ParseModelVersion(object).error().message,
            "metadata.creationTimestamp: expected an RFC 3339 UTC time, got \"yesterday\"");
}

TEST(DurationTest, HoursMinutesSecondsInThatOrder) {
  EXPECT_EQ(*ParseDuration("30s"), std::chrono::seconds(30));
  EXPECT_EQ(*ParseDuration("1h"), std::chrono::seconds(3600));
  EXPECT_EQ(*ParseDuration("2m5s"), std::chrono::seconds(125));
  for (const char* bad : {"", "5", "m", "1s1m", "1h1h", "1d", "-1s", "1234567890s"}) {
    EXPECT_FALSE(ParseDuration(bad).ok()) << bad;
  }
}

TEST(ModelVersionStatusTest, ThePatchCarriesOnlyChangesAndThePrecondition) {
  auto mv = ParseModelVersion(ValidModelVersion());
  ASSERT_TRUE(mv.ok());
  ModelVersionStatus after = mv->status;
  after.promote.reset();
  after.phase = Phase::kProgressing;
  after.current_step = 2;
  const Json patch = StatusPatch(mv->status, after, "42");
  EXPECT_EQ(patch["metadata"]["resourceVersion"], "42");
  EXPECT_EQ(patch["status"],
            Json::parse(R"({"phase": "Progressing", "currentStep": 2, "promote": null})"));
}

TEST(ModelVersionStatusTest, HistoryKeepsTheLatest32) {
  ModelVersionStatus status;
  for (int i = 0; i < 40; ++i) {
    HistoryEntry entry;
    entry.step = i;
    status.Record(entry);
  }
  ASSERT_EQ(status.history.size(), kMaxHistory);
  EXPECT_EQ(status.history.front().step, 8);
  EXPECT_EQ(status.history.back().step, 39);
}

TEST(ModelVersionStatusTest, RendersWhatItParses) {
  auto mv = ParseModelVersion(ValidModelVersion());
  ASSERT_TRUE(mv.ok());
  const Json rendered = mv->status.ToJson();
  auto again = ParseModelVersionStatus(JsonView(rendered, "status"));
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(again->ToJson(), rendered);
}

TEST(ConditionTest, TransitionTimeMovesOnlyWhenTheStatusChanges) {
  std::vector<Condition> conditions;
  const TimePoint t0 = *ParseTime("2026-12-01T00:00:00Z");
  const TimePoint t1 = *ParseTime("2026-12-01T00:01:00Z");
  Condition staged;
  staged.type = "Staged";
  staged.status = "False";
  staged.reason = "WaitingForNodes";
  EXPECT_TRUE(SetCondition(conditions, staged, t0));
  staged.message = "1 of 3";
  EXPECT_TRUE(SetCondition(conditions, staged, t1));
  EXPECT_EQ(conditions[0].last_transition_time, t0);
  EXPECT_FALSE(SetCondition(conditions, staged, t1));
  staged.status = "True";
  EXPECT_TRUE(SetCondition(conditions, staged, t1));
  EXPECT_EQ(conditions[0].last_transition_time, t1);
}

TEST(ModelNodeParseTest, ReadsSpecAndStatusAndJudgesTheNode) {
  const Json object = Json::parse(R"({
    "metadata": {"name": "gpu-1", "generation": 4},
    "spec": {"models": [{"model": "coder", "active": "1.0.0", "versions": [
      {"version": "1.0.0", "source": {"repository": "http://r", "publicKey": "k"}}]}]},
    "status": {"observedGeneration": 4, "heartbeat": "2026-12-01T00:00:00Z", "heartbeatSeconds": 5,
               "totalGPUs": 2, "healthyGPUs": 1,
               "versions": [{"model": "coder", "version": "1.0.0", "state": "Active"}],
               "gpus": [{"index": 0, "healthy": true},
                        {"index": 1, "healthy": false, "reasons": ["critical XID 79"], "xidCritical": [79]}]}
  })");
  auto node = ParseModelNode(object);
  ASSERT_TRUE(node.ok()) << node.error().message;
  EXPECT_TRUE(node->StatusIsCurrent());
  EXPECT_TRUE(node->HoldsReady("coder", "1.0.0"));
  EXPECT_FALSE(node->HoldsReady("coder", "1.1.0"));
  EXPECT_FALSE(node->GpusHealthy());
  const TimePoint beat = *ParseTime("2026-12-01T00:00:00Z");
  EXPECT_TRUE(node->HeartbeatFresh(beat + std::chrono::seconds(15)));
  EXPECT_FALSE(node->HeartbeatFresh(beat + std::chrono::seconds(16)));
  EXPECT_EQ(node->spec.ToJson()["models"], object["spec"]["models"]);

  Json bad = object;
  bad["status"]["versions"][0]["state"] = "Sleeping";
  EXPECT_EQ(ParseModelNode(bad).error().message,
            "status.versions[0].state: unknown state \"Sleeping\"");
  bad = object;
  bad["status"]["gpus"][1]["healthy"] = "no";
  EXPECT_EQ(ParseModelNode(bad).error().message,
            "status.gpus[1].healthy: expected true or false, got a string (\"no\")");
}

TEST(DeploymentProgressTest, RolledOutOnlyWhenTheLatestSpecIsObservedAndAvailable) {
  Json deployment = Json::parse(R"({"metadata": {"generation": 2}, "spec": {"replicas": 3},
    "status": {"observedGeneration": 1, "replicas": 3, "updatedReplicas": 3, "availableReplicas": 3}})");
  EXPECT_FALSE(ReadDeploymentProgress(deployment).RolledOut());  // spec not observed yet
  deployment["status"]["observedGeneration"] = 2;
  EXPECT_TRUE(ReadDeploymentProgress(deployment).RolledOut());
  deployment["status"]["replicas"] = 4;  // an old pod still runs
  EXPECT_FALSE(ReadDeploymentProgress(deployment).RolledOut());
}

}  // namespace
}  // namespace ferry::api
