// The blue-green rollout on the step machine alone: green comes up beside
// blue behind the preview Service, the active Service switches in one move
// on promotion (by hand or after autoPromotionSeconds), blue stays for the
// scale-down delay so that an abort switches back at once, and only then
// does the user's Deployment move to the version. No cluster, fixed "now".
#include <gtest/gtest.h>

#include "operator/rollout.h"
#include "tests/operator/rollout_test_support.h"

namespace ferry::operator_ {
namespace {

using api::Phase;
using std::chrono::milliseconds;
using std::chrono::seconds;

// At `position`, entered at kT0.
api::ModelVersion At(api::ModelVersion mv, int32_t position, Phase phase = Phase::kProgressing) {
  mv.status.phase = phase;
  mv.status.current_step = position;
  mv.status.step_start_time = kT0;
  mv.status.stable_version = "1.0.0";
  return mv;
}

TEST(BlueGreenTest, GreenComesUpAtFullSizeWhileTheActiveServiceStaysOnBlue) {
  api::ModelVersion mv = BlueGreen(R"({"previewService": "coder-preview"})");
  mv = After(mv, Decide(mv, Healthy()));  // staged: Progressing at the preview
  ASSERT_EQ(mv.status.phase, Phase::kProgressing);
  ASSERT_EQ(mv.status.current_step, kBlueGreenPreview);

  Observed observed = Healthy(kT0 + seconds(5));
  Decision d = Decide(mv, observed);
  EXPECT_EQ(d.canary_replicas, 4) << "green is as large as blue";
  EXPECT_EQ(d.active_service_version, "1.0.0") << "pinned to blue before green pods exist";
  EXPECT_EQ(d.preview_service_version, "2.0.0");
  EXPECT_FALSE(d.point_stable_at.has_value());
  EXPECT_EQ(d.status.canary_weight, 0);
  EXPECT_EQ(d.status.message,
            "preview: waiting for 4 pods of Deployment coder-server-green (0 available)");

  observed.canary = Deployment(4, 4);
  d = Decide(mv, observed);
  EXPECT_EQ(d.status.current_step, kBlueGreenAwaiting);
  EXPECT_EQ(d.status.history.back().reason, "PreviewReady");
  EXPECT_EQ(d.status.message,
            "Deployment coder-server-green runs version 2.0.0 on 4 pods; Service coder-preview "
            "previews it");
  EXPECT_EQ(d.active_service_version, "1.0.0");
}

TEST(BlueGreenTest, BluePodsWithoutTheVersionLabelAreLabelledBeforeTheServiceIsPinned) {
  api::ModelVersion mv = At(BlueGreen("{}"), kBlueGreenPreview);
  Observed observed = Healthy();
  observed.stable_template_pointed = false;  // pointed at 1.0.0 before the label existed
  Decision d = Decide(mv, observed);
  EXPECT_EQ(d.point_stable_at, "1.0.0");
  EXPECT_EQ(d.canary_replicas, 0);
  EXPECT_FALSE(d.active_service_version.has_value()) << "pinning now would select no pod";
  EXPECT_EQ(d.status.current_step, kBlueGreenPreview);

  observed.stable_template_pointed = true;
  observed.stable->updated = 3;  // still rolling
  EXPECT_FALSE(Decide(mv, observed).active_service_version.has_value());
}

TEST(BlueGreenTest, WithoutAutoPromotionTheReadyPreviewWaitsForPromote) {
  api::ModelVersion mv = At(BlueGreen("{}"), kBlueGreenAwaiting);
  Observed observed = Healthy(kT0 + std::chrono::hours(3));
  observed.canary = Deployment(4, 4);
  Decision d = Decide(mv, observed);
  EXPECT_EQ(d.status.phase, Phase::kPaused);
  EXPECT_EQ(ConditionOf(d, "Paused").reason, "AwaitingPromotion");
  EXPECT_FALSE(d.requeue_after.has_value()) << "nothing but a promote moves it";
  EXPECT_EQ(d.active_service_version, "1.0.0");

  mv = After(mv, d);
  mv.status.promote = api::PromoteRequest::kStep;
  d = Decide(mv, observed);
  EXPECT_EQ(d.status.current_step, kBlueGreenSwitched);
  EXPECT_EQ(d.status.phase, Phase::kProgressing);
  EXPECT_EQ(d.active_service_version, "2.0.0") << "the switch is this decision's";
  EXPECT_EQ(d.status.canary_weight, 100);
  EXPECT_FALSE(d.status.promote.has_value()) << "cleared in the write that acts on it";
  EXPECT_EQ(d.canary_replicas, 4);
  EXPECT_FALSE(d.point_stable_at.has_value()) << "blue is left alone for the delay";
  EXPECT_EQ(d.status.history.back().reason, "Switched");
}

TEST(BlueGreenTest, PromoteFullActsLikePromoteAndIsNotLostWhileGreenComesUp) {
  api::ModelVersion mv = At(BlueGreen("{}"), kBlueGreenPreview);
  mv.status.promote = api::PromoteRequest::kFull;
  Observed observed = Healthy();
  Decision d = Decide(mv, observed);
  EXPECT_EQ(d.status.current_step, kBlueGreenPreview);
  EXPECT_EQ(d.status.promote, api::PromoteRequest::kFull) << "kept until green is ready";

  observed.canary = Deployment(4, 4);
  mv = After(mv, d);
  mv = After(mv, Decide(mv, observed));  // PreviewReady
  ASSERT_EQ(mv.status.current_step, kBlueGreenAwaiting);
  d = Decide(mv, observed);
  EXPECT_EQ(d.status.current_step, kBlueGreenSwitched);
  EXPECT_FALSE(d.status.promote.has_value());
}

TEST(BlueGreenTest, AutoPromotionSwitchesOnceTheSecondsHavePassedSinceThePreviewWasReady) {
  api::ModelVersion mv =
      At(BlueGreen(R"({"autoPromotionSeconds": 30})"), kBlueGreenAwaiting, Phase::kPaused);
  Observed observed = Healthy(kT0 + seconds(10));
  observed.canary = Deployment(4, 4);
  Decision d = Decide(mv, observed);
  EXPECT_EQ(d.status.phase, Phase::kPaused);
  EXPECT_EQ(ConditionOf(d, "Paused").reason, "AwaitingAutoPromotion");
  EXPECT_EQ(d.requeue_after, milliseconds(20'001));

  observed.now = kT0 + seconds(30);
  d = Decide(mv, observed);
  EXPECT_EQ(d.status.current_step, kBlueGreenSwitched);
  EXPECT_EQ(d.status.history.back().reason, "AutoPromoted");
  EXPECT_EQ(d.active_service_version, "2.0.0");
}

TEST(BlueGreenTest, AbortInsideTheScaleDownDelaySwitchesBackToBlueAtOnce) {
  api::ModelVersion mv = At(BlueGreen(R"({"scaleDownDelaySeconds": 60})"), kBlueGreenSwitched);
  mv.status.canary_weight = 100;
  Observed observed = Healthy(kT0 + seconds(20));
  observed.canary = Deployment(4, 4);
  Decision d = Decide(mv, observed);
  EXPECT_EQ(d.active_service_version, "2.0.0");
  EXPECT_EQ(d.canary_replicas, 4);
  EXPECT_FALSE(d.point_stable_at.has_value());
  EXPECT_EQ(d.requeue_after, milliseconds(40'001));

  mv = After(mv, d);
  mv.status.abort = true;
  d = Decide(mv, observed);
  EXPECT_EQ(d.status.phase, Phase::kAborted);
  EXPECT_EQ(d.active_service_version, "1.0.0");
  EXPECT_EQ(d.canary_replicas, 0) << "green goes, after the Service left it";
  EXPECT_FALSE(d.point_stable_at.has_value()) << "blue never moved: nothing to roll";
  EXPECT_EQ(d.status.canary_weight, 0);
}

TEST(BlueGreenTest, AfterTheDelayTheUserDeploymentMovesThenTheVersionIsPromoted) {
  api::ModelVersion mv = At(BlueGreen(R"({"scaleDownDelaySeconds": 60})"), kBlueGreenSwitched);
  Observed observed = Healthy(kT0 + seconds(60));
  observed.canary = Deployment(4, 4);
  Decision d = Decide(mv, observed);
  EXPECT_EQ(d.status.current_step, kBlueGreenMoveStable);
  EXPECT_EQ(d.status.history.back().reason, "ScaleDownDelayEnded");

  mv = After(mv, d);
  d = Decide(mv, observed);
  EXPECT_EQ(d.point_stable_at, "2.0.0");
  EXPECT_EQ(d.canary_replicas, 4) << "green serves while blue's pods are replaced";
  EXPECT_EQ(d.active_service_version, "2.0.0");
  EXPECT_EQ(d.status.phase, Phase::kProgressing);

  observed.stable_points_at = "2.0.0";
  d = Decide(mv, observed);
  EXPECT_EQ(d.status.phase, Phase::kPromoted);
  EXPECT_EQ(d.canary_replicas, 0);
  EXPECT_EQ(d.status.stable_version, "2.0.0");
  EXPECT_EQ(d.status.current_step, kBlueGreenMoveStable);
  EXPECT_EQ(d.active_service_version, "2.0.0") << "the user's pods carry 2.0.0 now";
}

TEST(BlueGreenTest, PromoteInsideTheDelayEndsItEarly) {
  api::ModelVersion mv = At(BlueGreen(R"({"scaleDownDelaySeconds": 600})"), kBlueGreenSwitched);
  mv.status.promote = api::PromoteRequest::kStep;
  Observed observed = Healthy(kT0 + seconds(1));
  observed.canary = Deployment(4, 4);
  Decision d = Decide(mv, observed);
  EXPECT_EQ(d.status.current_step, kBlueGreenMoveStable);
  EXPECT_EQ(d.status.history.back().reason, "ScaleDownNow");
  EXPECT_FALSE(d.status.promote.has_value());
}

TEST(BlueGreenTest, GreenPodsMissingTheDeadlineRollBackWithTheServiceOnBlue) {
  api::ModelVersion mv = At(BlueGreen(R"({"progressDeadlineSeconds": 120})"), kBlueGreenPreview);
  Observed observed = Healthy(kT0 + seconds(121));
  observed.canary = Deployment(4, 1);
  observed.pods_unschedulable =
      "pod coder-server-green-x cannot be scheduled: 0/3 nodes are available";
  Decision d = Decide(mv, observed);
  EXPECT_EQ(d.status.phase, Phase::kRolledBack);
  EXPECT_EQ(ConditionOf(d, "Healthy").reason, "ProgressDeadlineExceeded");
  EXPECT_EQ(d.status.message,
            "rolled back: green pods not available within 120 s (1 of 4 available); all "
            "traffic on version 1.0.0");
  EXPECT_EQ(d.active_service_version, "1.0.0");
  EXPECT_EQ(d.canary_replicas, 0);
}

TEST(BlueGreenTest, ANewerVersionAppliedAfterTheSwitchSendsTrafficBackToBlue) {
  api::ModelVersion mv = At(BlueGreen("{}"), kBlueGreenSwitched);
  Observed observed = Healthy();
  observed.canary = Deployment(4, 4);
  observed.superseded_by = "superseded by ModelVersion ml/coder-3 (version 3.0.0)";
  Decision d = Decide(mv, observed);
  EXPECT_EQ(d.status.phase, Phase::kSuperseded);
  EXPECT_EQ(d.active_service_version, "1.0.0") << "green is about to go";
  EXPECT_EQ(d.canary_replicas, 0);
}

TEST(BlueGreenTest, TheFirstVersionOfAModelHasNoBlueAndMovesTheDeploymentDirectly) {
  api::ModelVersion mv = BlueGreen("{}");
  Observed observed = Healthy();
  observed.stable_version.reset();
  observed.stable_points_at = "";
  mv = After(mv, Decide(mv, observed));
  Decision d = Decide(mv, observed);
  EXPECT_EQ(d.point_stable_at, "2.0.0");
  EXPECT_EQ(d.canary_replicas, 0) << "no green without a blue";
}

TEST(BlueGreenTest, ACanaryRolloutRemovesAPinABlueGreenOneLeft) {
  api::ModelVersion mv = Canary(R"([{"setWeight": 50}])");
  mv = After(mv, Decide(mv, Healthy()));
  Decision d = Decide(mv, Healthy());
  EXPECT_EQ(d.active_service_version, "") << "canary pods must be selected by the Service";
  EXPECT_FALSE(d.preview_service_version.has_value());
}

}  // namespace
}  // namespace ferry::operator_
