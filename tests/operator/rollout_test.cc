// The rollout step machine on its own: every phase transition of
// docs/crds.md, driven by hand-made observations and a fixed "now" (no
// cluster, no clock, no sleeping).
#include "operator/rollout.h"

#include <gtest/gtest.h>

#include "lib/common/utc_time.h"
#include "operator/workload.h"
#include "tests/operator/rollout_test_support.h"

namespace ferry::operator_ {
namespace {

using api::Phase;
using std::chrono::seconds;

TEST(RolloutTest, StagingWaitsForMinReadyNodesThenStartsAtStepZero) {
  api::ModelVersion mv = Canary(R"([{"setWeight": 25}])");
  Observed observed = Healthy();
  observed.nodes.ready = 1;
  observed.staging_summary = "1 of 3 nodes ready, 2 staging";
  Decision d = Decide(mv, observed);
  EXPECT_EQ(d.status.phase, Phase::kStaging);
  EXPECT_EQ(d.status.message, "1 of 3 nodes ready, 2 staging");
  EXPECT_EQ(ConditionOf(d, "Staged").status, "False");
  EXPECT_EQ(ConditionOf(d, "Staged").reason, "WaitingForNodes");
  EXPECT_EQ(d.canary_replicas, 0);
  EXPECT_EQ(d.events.size(), 1u);

  mv = After(mv, d);
  observed.nodes.ready = 2;
  d = Decide(mv, observed);
  EXPECT_EQ(d.status.phase, Phase::kProgressing);
  EXPECT_EQ(d.status.current_step, 0);
  EXPECT_EQ(d.status.step_start_time, kT0);
  EXPECT_EQ(d.status.stable_version, "1.0.0");
  EXPECT_EQ(ConditionOf(d, "Staged").status, "True");
  EXPECT_EQ(d.status.history.back().reason, "Staged");
}

TEST(RolloutTest, SetWeightScalesTheCanaryAndGoesOnWhenItsPodsAreAvailable) {
  api::ModelVersion mv = Canary(R"([{"setWeight": 25}, {"pause": {}}])");
  mv = After(mv, Decide(mv, Healthy()));  // Progressing at step 0
  Observed observed = Healthy();
  Decision d = Decide(mv, observed);
  EXPECT_EQ(d.canary_replicas, 1);  // 25% of 4
  EXPECT_EQ(d.status.current_step, 0);
  EXPECT_EQ(d.status.message, "step 0: waiting for 1 canary pods (0 available)");

  observed.canary = Deployment(1, 0);
  EXPECT_EQ(Decide(mv, observed).status.current_step, 0);
  observed.canary = Deployment(1, 1);
  d = Decide(mv, observed);
  EXPECT_EQ(d.status.current_step, 1);
  EXPECT_EQ(d.status.canary_weight, 25);
  EXPECT_EQ(d.status.history.back().reason, "WeightSet");
}

TEST(RolloutTest, APauseWithoutDurationWaitsForPromoteWhichIsClearedWhenActedUpon) {
  api::ModelVersion mv = Canary(R"([{"setWeight": 50}, {"pause": {}}, {"setWeight": 100}])");
  mv.status.phase = Phase::kProgressing;
  mv.status.current_step = 1;
  mv.status.step_start_time = kT0;
  Observed observed = Healthy(kT0 + std::chrono::hours(5));
  observed.canary = Deployment(2, 2);
  Decision d = Decide(mv, observed);
  EXPECT_EQ(d.status.phase, Phase::kPaused);
  EXPECT_EQ(d.canary_replicas, 2);  // the weight of step 0 carries over
  EXPECT_EQ(ConditionOf(d, "Paused").reason, "AwaitingPromotion");
  EXPECT_FALSE(d.requeue_after.has_value());  // nothing but a promote moves it

  mv = After(mv, d);
  mv.status.promote = api::PromoteRequest::kStep;
  d = Decide(mv, observed);
  EXPECT_EQ(d.status.phase, Phase::kProgressing);
  EXPECT_EQ(d.status.current_step, 2);
  EXPECT_FALSE(d.status.promote.has_value());
  EXPECT_EQ(ConditionOf(d, "Paused").status, "False");
}

TEST(RolloutTest, APauseWithDurationCountsFromStepStartTime) {
  api::ModelVersion mv = Canary(R"([{"setWeight": 50}, {"pause": {"duration": "10s"}}])");
  mv.status.phase = Phase::kPaused;
  mv.status.current_step = 1;
  mv.status.step_start_time = kT0;
  Observed observed = Healthy(kT0 + seconds(4));
  observed.canary = Deployment(2, 2);
  Decision d = Decide(mv, observed);
  EXPECT_EQ(d.status.phase, Phase::kPaused);
  EXPECT_EQ(d.status.step_start_time, kT0);  // a restart does not reset it
  ASSERT_TRUE(d.requeue_after.has_value());
  EXPECT_EQ(*d.requeue_after, std::chrono::milliseconds(6001));
  observed.now = kT0 + seconds(10);
  d = Decide(mv, observed);
  EXPECT_EQ(d.status.current_step, 2);
  EXPECT_EQ(d.status.history.back().reason, "PauseEnded");
}

TEST(RolloutTest, AfterTheLastStepTheStableDeploymentMovesThenTheVersionIsPromoted) {
  api::ModelVersion mv = Canary(R"([{"setWeight": 50}])");
  mv.status.phase = Phase::kProgressing;
  mv.status.current_step = 1;
  mv.status.step_start_time = kT0;
  Observed observed = Healthy(kT0 + seconds(1));
  observed.canary = Deployment(2, 2);
  Decision d = Decide(mv, observed);
  EXPECT_EQ(d.point_stable_at, "2.0.0");
  EXPECT_EQ(d.canary_replicas, 2);  // the canary serves until stable has moved
  EXPECT_EQ(d.status.phase, Phase::kProgressing);

  observed.stable_points_at = "2.0.0";
  observed.stable = Deployment(4, 4);
  d = Decide(mv, observed);
  EXPECT_EQ(d.status.phase, Phase::kPromoted);
  EXPECT_EQ(d.status.stable_version, "2.0.0");
  EXPECT_EQ(d.status.promoted_time, kT0 + seconds(1));
  EXPECT_EQ(d.status.canary_weight, 100);
  EXPECT_EQ(d.canary_replicas, 0);
  EXPECT_EQ(ConditionOf(d, "Promoted").status, "True");
  EXPECT_EQ(ConditionOf(d, "Progressing").status, "False");
}

TEST(RolloutTest, TheFirstVersionOfAModelBecomesStableWithoutCanary) {
  api::ModelVersion mv = Canary(R"([{"setWeight": 50}, {"pause": {}}])");
  Observed observed = Healthy();
  observed.stable_version.reset();
  observed.stable_points_at = "";
  mv = After(mv, Decide(mv, observed));  // staged: Progressing
  Decision d = Decide(mv, observed);
  EXPECT_EQ(d.point_stable_at, "2.0.0");
  EXPECT_EQ(d.canary_replicas, 0);
  observed.stable_points_at = "2.0.0";
  d = Decide(After(mv, d), observed);
  EXPECT_EQ(d.status.phase, Phase::kPromoted);
}

TEST(RolloutTest, PromoteFullSkipsTheRemainingSteps) {
  api::ModelVersion mv = Canary(R"([{"setWeight": 10}, {"pause": {}}, {"setWeight": 50}])");
  mv.status.phase = Phase::kPaused;
  mv.status.current_step = 1;
  mv.status.promote = api::PromoteRequest::kFull;
  Decision d = Decide(mv, Healthy());
  EXPECT_EQ(d.status.current_step, 3);
  EXPECT_FALSE(d.status.promote.has_value());
  EXPECT_EQ(d.status.history.back().reason, "PromoteFull");
}

TEST(RolloutTest, CanaryPodsMissingTheDeadlineRollBack) {
  api::ModelVersion mv = Canary(R"([{"setWeight": 50}])");
  mv.status.phase = Phase::kProgressing;
  mv.status.current_step = 0;
  mv.status.step_start_time = kT0;
  Observed observed = Healthy(kT0 + seconds(61));
  observed.canary = Deployment(2, 1);
  Decision d = Decide(mv, observed);
  EXPECT_EQ(d.status.phase, Phase::kRolledBack);
  EXPECT_EQ(d.canary_replicas, 0);
  EXPECT_EQ(d.status.canary_weight, 0);
  EXPECT_EQ(d.status.message,
            "rolled back: canary pods not available within 60 s at step 0 (1 of 2 available); "
            "all traffic on version 1.0.0");
  EXPECT_EQ(ConditionOf(d, "Healthy").reason, "ProgressDeadlineExceeded");
  ASSERT_EQ(d.events.size(), 1u);
  EXPECT_TRUE(d.events[0].warning);
  EXPECT_FALSE(d.point_stable_at.has_value());  // stable never moved

  // RolledBack is final: nothing moves afterwards.
  Decision again = Decide(After(mv, d), observed);
  EXPECT_EQ(again.status.phase, Phase::kRolledBack);
  EXPECT_TRUE(again.events.empty());
}

TEST(RolloutTest, AFailedPromotionPointsStableBack) {
  api::ModelVersion mv = Canary(R"([{"setWeight": 50}])");
  mv.status.phase = Phase::kProgressing;
  mv.status.current_step = 1;
  mv.status.step_start_time = kT0;
  Observed observed = Healthy(kT0 + seconds(61));
  observed.stable_points_at = "2.0.0";
  observed.stable = Deployment(4, 1);
  Decision d = Decide(mv, observed);
  EXPECT_EQ(d.status.phase, Phase::kRolledBack);
  EXPECT_EQ(d.point_stable_at, "1.0.0");
}

TEST(RolloutTest, AnUnhealthyCanaryNodeRollsBack) {
  api::ModelVersion mv = Canary(R"([{"setWeight": 50}, {"pause": {}}])");
  mv.status.phase = Phase::kPaused;
  mv.status.current_step = 1;
  Observed observed = Healthy();
  observed.canary_node_failure = "node kwok-gpu-1 running canary pod p reports unhealthy GPUs";
  Decision d = Decide(mv, observed);
  EXPECT_EQ(d.status.phase, Phase::kRolledBack);
  EXPECT_EQ(ConditionOf(d, "Healthy").reason, "CanaryNodeUnhealthy");
}

TEST(RolloutTest, WithoutRollbackAFailureStopsInPlace) {
  api::ModelVersion mv = Canary(R"([{"setWeight": 50}])", /*rollback_on_failure=*/false);
  mv.status.phase = Phase::kProgressing;
  mv.status.current_step = 0;
  mv.status.step_start_time = kT0;
  Observed observed = Healthy(kT0 + seconds(61));
  observed.canary = Deployment(2, 0);
  Decision d = Decide(mv, observed);
  EXPECT_EQ(d.status.phase, Phase::kFailed);
  EXPECT_EQ(d.canary_replicas, 2);  // left for inspection
  EXPECT_EQ(Decide(After(mv, d), observed).canary_replicas, 2);
}

TEST(RolloutTest, StagingFailureRollsBack) {
  api::ModelVersion mv = Canary(R"([{"setWeight": 50}])");
  mv.status.phase = Phase::kStaging;
  Observed observed = Healthy();
  observed.nodes = {.desired = 3, .ready = 0, .failed = 2};
  observed.staging_failure = "staging failed on 2 nodes";
  Decision d = Decide(mv, observed);
  EXPECT_EQ(d.status.phase, Phase::kRolledBack);
  EXPECT_EQ(ConditionOf(d, "Healthy").reason, "StagingFailed");
}

TEST(RolloutTest, AbortThenRetryStartsAgainFromStepZero) {
  api::ModelVersion mv = Canary(R"([{"setWeight": 50}, {"pause": {}}])");
  mv.status.phase = Phase::kPaused;
  mv.status.current_step = 1;
  mv.status.canary_weight = 50;
  mv.status.abort = true;
  mv.status.promote = api::PromoteRequest::kStep;  // abort wins over promote
  Decision d = Decide(mv, Healthy());
  EXPECT_EQ(d.status.phase, Phase::kAborted);
  EXPECT_EQ(d.canary_replicas, 0);
  EXPECT_EQ(d.status.canary_weight, 0);
  EXPECT_FALSE(d.status.promote.has_value());
  mv = After(mv, d);
  EXPECT_EQ(Decide(mv, Healthy()).status.phase, Phase::kAborted);  // while abort stays true

  mv.status.abort = false;
  d = Decide(mv, Healthy(kT0 + seconds(30)));
  EXPECT_EQ(d.status.phase, Phase::kStaging);
  EXPECT_EQ(d.status.current_step, 0);
  EXPECT_EQ(d.status.history.back().reason, "Retry");
  d = Decide(After(mv, d), Healthy(kT0 + seconds(31)));
  EXPECT_EQ(d.status.phase, Phase::kProgressing);
  EXPECT_EQ(d.status.step_start_time, kT0 + seconds(31));
}

TEST(RolloutTest, AMissingObjectFailsAndResumesOnceItExists) {
  api::ModelVersion mv = Canary(R"([{"setWeight": 50}])");
  Observed observed = Healthy();
  observed.blocked = {{"DeploymentNotFound", "Deployment ml/coder-server not found: create it"}};
  Decision d = Decide(mv, observed);
  EXPECT_EQ(d.status.phase, Phase::kFailed);
  EXPECT_EQ(d.status.message, "Deployment ml/coder-server not found: create it");
  ASSERT_TRUE(d.requeue_after.has_value());
  EXPECT_EQ(*d.requeue_after, std::chrono::minutes(5));  // slow, not a hot loop
  mv = After(mv, d);
  d = Decide(mv, observed);
  EXPECT_TRUE(d.events.empty());  // the same failure is not recorded again
  observed.blocked.reset();
  d = Decide(mv, observed);
  EXPECT_EQ(d.status.phase, Phase::kStaging);
  EXPECT_EQ(d.status.history.back().reason, "Resumed");
}

TEST(RolloutTest, ADigestConflictIsFinal) {
  api::ModelVersion mv = Canary(R"([])");
  Observed observed = Healthy();
  observed.blocked = {{"DigestConflict", "another ModelVersion names 2.0.0"}};
  mv = After(mv, Decide(mv, observed));
  EXPECT_EQ(mv.status.phase, Phase::kFailed);
  observed.blocked.reset();
  EXPECT_EQ(Decide(mv, observed).status.phase, Phase::kFailed);
}

TEST(RolloutTest, SupersededBeforeOrAfterPromotion) {
  api::ModelVersion mv = Canary(R"([{"setWeight": 50}])");
  mv.status.phase = Phase::kProgressing;
  Observed observed = Healthy();
  observed.superseded_by = "superseded by ModelVersion ml/coder-3";
  Decision d = Decide(mv, observed);
  EXPECT_EQ(d.status.phase, Phase::kSuperseded);
  EXPECT_EQ(d.canary_replicas, 0);
  EXPECT_EQ(ConditionOf(d, "Promoted").reason, "NotPromoted");

  mv.status.phase = Phase::kPromoted;
  d = Decide(mv, observed);
  EXPECT_EQ(d.status.phase, Phase::kSuperseded);
  EXPECT_EQ(ConditionOf(d, "Promoted").reason, "Superseded");
}

TEST(RolloutTest, PromotedTurnsDegradedWhileNodesFailAndBack) {
  api::ModelVersion mv = Canary(R"([])");
  mv.status.phase = Phase::kPromoted;
  Observed observed = Healthy();
  observed.nodes.failed = 1;
  Decision d = Decide(mv, observed);
  EXPECT_EQ(d.status.phase, Phase::kDegraded);
  EXPECT_EQ(ConditionOf(d, "Healthy").reason, "NodesFailed");
  observed.nodes.failed = 0;
  EXPECT_EQ(Decide(After(mv, d), observed).status.phase, Phase::kPromoted);
}

TEST(RolloutTest, WithoutServingAStagedVersionIsPromotedAtOnce) {
  api::Json object = api::Json::parse(R"({"metadata": {"name": "v", "namespace": "ml"},
    "spec": {"model": "coder", "version": "1.0.0",
             "source": {"repository": "file:///r", "publicKeySecretRef": {"name": "k"}}}})");
  api::ModelVersion mv = *api::ParseModelVersion(object);
  Observed observed = Healthy();
  observed.stable_version.reset();
  mv = After(mv, Decide(mv, observed));
  EXPECT_EQ(mv.status.phase, Phase::kProgressing);
  EXPECT_EQ(Decide(mv, observed).status.phase, Phase::kPromoted);
}

TEST(RolloutTest, WeightCarriesThroughPausesAndCanaryReplicasRoundUp) {
  const std::vector<api::CanaryStep> steps = {api::SetWeightStep{20}, api::PauseStep{},
                                              api::SetWeightStep{50}};
  EXPECT_EQ(WeightAt(steps, 0), 20);
  EXPECT_EQ(WeightAt(steps, 1), 20);
  EXPECT_EQ(WeightAt(steps, 2), 50);
  EXPECT_EQ(CanaryReplicas(4, 20), 1);
  EXPECT_EQ(CanaryReplicas(4, 50), 2);
  EXPECT_EQ(CanaryReplicas(3, 1), 1);
  EXPECT_EQ(CanaryReplicas(3, 100), 3);
  EXPECT_EQ(CanaryReplicas(3, 0), 0);
}

}  // namespace
}  // namespace ferry::operator_
