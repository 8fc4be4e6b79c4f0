// canary.capacity on the step machine alone. `fixed` trades stable pods for
// canary pods so that the two together never exceed the Deployment's
// replicas (for clusters whose GPUs are all taken): a stable pod goes before
// a canary pod comes, and promotion moves the user's Deployment without a
// surge. `surge` says so when a canary pod cannot be placed.
#include <gtest/gtest.h>

#include "operator/rollout.h"
#include "tests/operator/rollout_test_support.h"

namespace ferry::operator_ {
namespace {

using api::Phase;

api::ModelVersion Fixed(const std::string& steps_json) {
  api::ModelVersion mv = Canary(steps_json);
  std::get<api::CanaryStrategy>(*mv.spec.strategy).capacity = api::Capacity::kFixed;
  return mv;
}

api::ModelVersion AtStep(api::ModelVersion mv, int32_t step) {
  mv.status.phase = Phase::kProgressing;
  mv.status.current_step = step;
  mv.status.step_start_time = kT0;
  mv.status.stable_version = "1.0.0";
  return mv;
}

// The user's Deployment at `replicas`, every pod available; the annotation
// remembers 4.
Observed TradedTo(int32_t stable, int32_t canary) {
  Observed observed = Healthy();
  observed.stable = Deployment(stable, stable);
  observed.fixed_replicas = 4;
  if (canary > 0) observed.canary = Deployment(canary, canary);
  return observed;
}

TEST(CapacityTest, FixedTakesAStablePodAwayBeforeTheCanaryPodComes) {
  api::ModelVersion mv = AtStep(Fixed(R"([{"setWeight": 25}, {"pause": {}}])"), 0);
  Observed observed = Healthy();  // 4 stable pods, no annotation yet
  Decision d = Decide(mv, observed);
  ASSERT_TRUE(d.stable_scale.has_value());
  EXPECT_EQ(d.stable_scale->replicas, 3);
  EXPECT_EQ(d.stable_scale->original, 4) << "remembered on the Deployment";
  EXPECT_EQ(d.canary_replicas, 0) << "4 stable pods still run: no room yet";

  observed = TradedTo(3, 0);
  d = Decide(mv, observed);
  EXPECT_EQ(d.canary_replicas, 1);
  EXPECT_EQ(d.stable_scale->replicas, 3);
  EXPECT_EQ(d.status.current_step, 0);

  observed = TradedTo(3, 1);
  d = Decide(mv, observed);
  EXPECT_EQ(d.status.current_step, 1);
  EXPECT_EQ(d.status.canary_weight, 25);
  EXPECT_EQ(d.status.history.back().message, "step 0: 25% of traffic (1 of 4 pods) on 2.0.0");
}

TEST(CapacityTest, FixedCountsPodsNotReplicasSoATerminatingStablePodBlocksTheCanary) {
  api::ModelVersion mv = AtStep(Fixed(R"([{"setWeight": 50}])"), 0);
  Observed observed = TradedTo(2, 0);
  observed.stable->replicas = 3;  // scaled to 2, a third pod still counted
  Decision d = Decide(mv, observed);
  EXPECT_EQ(d.canary_replicas, 1) << "4 - 3 pods";
  EXPECT_EQ(d.stable_scale->replicas, 2);
}

TEST(CapacityTest, FixedPromotionTradesEverythingThenHandsBackInBatches) {
  api::ModelVersion mv = AtStep(Fixed(R"([{"setWeight": 25}])"), 1);  // past the last step
  Observed observed = TradedTo(3, 1);
  Decision d = Decide(mv, observed);
  EXPECT_EQ(d.stable_scale->replicas, 0) << "every pod to the canary first";
  EXPECT_FALSE(d.point_stable_at.has_value()) << "no rolling update while pods are left";
  EXPECT_EQ(d.canary_replicas, 1) << "3 stable pods still hold the room";

  observed = TradedTo(0, 4);
  observed.stable_points_at = "1.0.0";
  d = Decide(mv, observed);
  EXPECT_EQ(d.point_stable_at, "2.0.0") << "at zero replicas: no surge";
  EXPECT_EQ(d.stable_scale->replicas, 0);

  observed.stable_points_at = "2.0.0";
  d = Decide(mv, observed);
  EXPECT_EQ(d.canary_replicas, 3) << "a batch (a quarter) of canary pods goes first";
  EXPECT_EQ(d.stable_scale->replicas, 0) << "4 canary pods still run";

  observed.canary = Deployment(3, 3);
  d = Decide(mv, observed);
  EXPECT_EQ(d.stable_scale->replicas, 1);
  EXPECT_EQ(d.canary_replicas, 3) << "until the stable pod is available";

  observed.stable = Deployment(1, 1);
  d = Decide(mv, observed);
  EXPECT_EQ(d.canary_replicas, 2);

  observed.stable = Deployment(4, 4);
  observed.canary.reset();
  d = Decide(mv, observed);
  EXPECT_EQ(d.status.phase, Phase::kPromoted);
  EXPECT_EQ(d.stable_scale->replicas, 4);
  EXPECT_FALSE(d.stable_scale->original.has_value()) << "the annotation goes";
}

TEST(CapacityTest, AFixedRollbackRemovesCanaryPodsBeforeStablePodsComeBack) {
  api::ModelVersion mv = AtStep(Fixed(R"([{"setWeight": 50}])"), 0);
  Observed observed = TradedTo(2, 2);
  observed.canary->available = 1;
  observed.now = kT0 + std::chrono::seconds(61);  // past progressDeadlineSeconds (60)
  Decision d = Decide(mv, observed);
  EXPECT_EQ(d.status.phase, Phase::kRolledBack);
  EXPECT_EQ(d.canary_replicas, 0);
  EXPECT_EQ(d.stable_scale->replicas, 2) << "2 canary pods still run";
  EXPECT_EQ(d.stable_scale->original, 4);

  mv = After(mv, d);
  observed = TradedTo(2, 0);
  d = Decide(mv, observed);
  EXPECT_EQ(d.stable_scale->replicas, 4);
  EXPECT_EQ(d.stable_scale->original, 4) << "kept until the Deployment is back at 4";

  observed = TradedTo(4, 0);
  d = Decide(mv, observed);
  EXPECT_EQ(d.stable_scale->replicas, 4);
  EXPECT_FALSE(d.stable_scale->original.has_value());
}

TEST(CapacityTest, SurgeSaysWhenACanaryPodCannotBeScheduled) {
  api::ModelVersion mv = AtStep(Canary(R"([{"setWeight": 25}])"), 0);
  Observed observed = Healthy();
  observed.canary = Deployment(1, 0);
  observed.pods_unschedulable =
      "pod coder-server-canary-abc cannot be scheduled: 0/3 nodes are available: 3 "
      "Insufficient nvidia.com/gpu.";
  Decision d = Decide(mv, observed);
  EXPECT_FALSE(d.stable_scale.has_value()) << "surge leaves the stable replicas alone";
  EXPECT_EQ(ConditionOf(d, "PodsScheduled").status, "False");
  EXPECT_EQ(ConditionOf(d, "PodsScheduled").reason, "Unschedulable");
  EXPECT_NE(d.status.message.find("3 Insufficient nvidia.com/gpu"), std::string::npos)
      << d.status.message;
  EXPECT_NE(d.status.message.find("capacity: fixed"), std::string::npos) << d.status.message;

  mv = After(mv, d);
  observed.pods_unschedulable.reset();
  observed.canary = Deployment(1, 1);
  d = Decide(mv, observed);
  EXPECT_EQ(ConditionOf(d, "PodsScheduled").status, "True");
}

}  // namespace
}  // namespace ferry::operator_
