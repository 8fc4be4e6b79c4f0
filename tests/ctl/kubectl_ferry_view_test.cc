// What `kubectl ferry` prints and writes, from hand-made typed objects: the
// status, list and history views (exact text, so a change of layout is a
// deliberate one) and the promote / abort / retry decisions for each phase.
#include <gtest/gtest.h>

#include "ctl/kubectl_plugin.h"
#include "ctl/kubectl_steer.h"
#include "ctl/kubectl_table.h"
#include "ctl/rollout_view.h"
#include "lib/common/utc_time.h"

namespace ferry::ctl {
namespace {

using api::Phase;

api::TimePoint At(const char* text) { return *ParseTime(text); }

api::Condition MakeCondition(std::string type, std::string status, std::string reason,
                             std::string message = "") {
  api::Condition condition;
  condition.type = std::move(type);
  condition.status = std::move(status);
  condition.reason = std::move(reason);
  condition.message = std::move(message);
  condition.last_transition_time = At("2026-12-01T10:00:00Z");
  return condition;
}

api::HistoryEntry MakeEntry(const char* time, Phase phase, std::optional<int32_t> step,
                            std::optional<int32_t> weight, std::string reason,
                            std::string message) {
  api::HistoryEntry entry;
  entry.time = At(time);
  entry.phase = phase;
  entry.step = step;
  entry.weight = weight;
  entry.reason = std::move(reason);
  entry.message = std::move(message);
  return entry;
}

// coder 1.1.0 in ml, steps setWeight 20, pause, setWeight 50, pause 10m.
api::ModelVersion Canary(const char* name, const char* version) {
  api::ModelVersion mv;
  mv.metadata.name = name;
  mv.metadata.namespace_name = "ml";
  mv.metadata.resource_version = "41";
  mv.metadata.creation_timestamp = At("2026-12-01T09:48:00Z");
  mv.spec.model = "coder-6.7b";
  mv.spec.version = version;
  api::CanaryStrategy canary;
  api::SetWeightStep twenty;
  twenty.weight = 20;
  api::SetWeightStep fifty;
  fifty.weight = 50;
  api::PauseStep wait;
  api::PauseStep ten_minutes;
  ten_minutes.duration = std::chrono::minutes(10);
  canary.steps = {twenty, wait, fifty, ten_minutes};
  mv.spec.strategy = canary;
  return mv;
}

api::ModelVersion MidCanary() {
  api::ModelVersion mv = Canary("coder-1-1-0", "1.1.0");
  api::ModelVersionStatus& s = mv.status;
  s.phase = Phase::kPaused;
  s.current_step = 1;
  s.canary_weight = 20;
  s.stable_version = "1.0.0";
  api::NodeCounts nodes;
  nodes.desired = 3;
  nodes.ready = 2;
  nodes.failed = 0;
  s.nodes = nodes;
  s.message = "step 1: paused; set status.promote to step or full to go on";
  s.conditions = {MakeCondition("Staged", "True", "MinReadyNodes", "2/3 nodes ready"),
                  MakeCondition("Paused", "True", "AwaitingPromotion")};
  return mv;
}

api::ModelNode Node(const char* name, std::optional<api::HeldVersion> held, bool listed = true) {
  api::ModelNode node;
  node.metadata.name = name;
  if (listed) {
    api::NodeModel model;
    model.model = "coder-6.7b";
    api::NodeVersion version;
    version.version = "1.1.0";
    model.versions = {version};
    node.spec.models = {model};
  }
  if (held) node.status.versions = {*held};
  return node;
}

api::HeldVersion Held(api::VersionState state, int64_t bytes, int64_t total,
                      std::string message = "") {
  api::HeldVersion held;
  held.model = "coder-6.7b";
  held.version = "1.1.0";
  held.state = state;
  held.bytes = bytes;
  held.total_bytes = total;
  held.message = std::move(message);
  return held;
}

TEST(RolloutViewTest, StatusOfARolloutMidCanary) {
  const int64_t gib = int64_t{1} << 30;
  const std::vector<api::ModelNode> nodes = {
      Node("gpu-c", std::nullopt), Node("gpu-a", Held(api::VersionState::kReady, 3 * gib, 3 * gib)),
      Node("gpu-b", Held(api::VersionState::kFetching, gib * 5 / 4, 3 * gib, "delta from 1.0.0")),
      Node("cpu-x", std::nullopt, /*listed=*/false),  // not meant to hold it: left out
  };
  EXPECT_EQ(RenderStatus(MidCanary(), nodes),
            "Name:            ml/coder-1-1-0\n"
            "Model:           coder-6.7b 1.1.0\n"
            "Phase:           Paused\n"
            "Step:            1/4 (now: pause)\n"
            "Canary weight:   20%\n"
            "Stable version:  1.0.0\n"
            "Nodes:           ready 2/3, failed 0\n"
            "Message:         step 1: paused; set status.promote to step or full to go on\n"
            "Conditions:\n"
            "  Staged=True MinReadyNodes: 2/3 nodes ready\n"
            "  Paused=True AwaitingPromotion\n"
            "Staging:\n"
            "  NODE    STATE      PROGRESS         MESSAGE\n"
            "  gpu-a   Ready      100% of 3.0GiB\n"
            "  gpu-b   Fetching   41% of 3.0GiB    delta from 1.0.0\n"
            "  gpu-c   -          -                not reported by the node's agent yet\n");
}

api::ModelVersion RolledBack() {
  api::ModelVersion mv = Canary("coder-1-2-0", "1.2.0");
  mv.metadata.creation_timestamp = At("2026-12-01T11:00:00Z");
  api::ModelVersionStatus& s = mv.status;
  s.phase = Phase::kRolledBack;
  s.current_step = 2;
  s.canary_weight = 0;
  s.stable_version = "1.1.0";
  api::NodeCounts nodes;
  nodes.desired = 3;
  nodes.ready = 3;
  nodes.failed = 1;
  s.nodes = nodes;
  s.message = "canary pods not available within 600s; all traffic on 1.1.0";
  s.conditions = {MakeCondition("Healthy", "False", "ProgressDeadlineExceeded", s.message),
                  MakeCondition("Promoted", "False", "NotPromoted")};
  s.history = {
      MakeEntry("2026-12-01T11:00:05Z", Phase::kStaging, 0, std::nullopt, "Created", ""),
      MakeEntry("2026-12-01T11:02:00Z", Phase::kProgressing, 0, 20, "Staged", "3/3 nodes ready"),
      MakeEntry("2026-12-01T11:15:00Z", Phase::kRolledBack, 2, 0, "ProgressDeadlineExceeded",
                s.message),
  };
  return mv;
}

TEST(RolloutViewTest, StatusOfARolledBackRollout) {
  EXPECT_EQ(RenderStatus(RolledBack(), {}),
            "Name:            ml/coder-1-2-0\n"
            "Model:           coder-6.7b 1.2.0\n"
            "Phase:           RolledBack\n"
            "Step:            2/4 (now: setWeight 50)\n"
            "Canary weight:   0%\n"
            "Stable version:  1.1.0\n"
            "Nodes:           ready 3/3, failed 1\n"
            "Message:         canary pods not available within 600s; all traffic on 1.1.0\n"
            "Conditions:\n"
            "  Healthy=False ProgressDeadlineExceeded: canary pods not available within 600s; "
            "all traffic on 1.1.0\n"
            "  Promoted=False NotPromoted\n"
            "Staging:         no node lists this version yet\n");
}

TEST(RolloutViewTest, StatusBeforeTheOperatorWroteAnythingShowsDashesAndPendingRequests) {
  api::ModelVersion mv = Canary("coder-1-1-0", "1.1.0");
  mv.status.promote = api::PromoteRequest::kFull;
  mv.status.abort = true;
  EXPECT_EQ(RenderStatus(mv, {}),
            "Name:            ml/coder-1-1-0\n"
            "Model:           coder-6.7b 1.1.0\n"
            "Phase:           -\n"
            "Step:            -\n"
            "Canary weight:   -\n"
            "Stable version:  -\n"
            "Nodes:           -\n"
            "Requested:       promote full (the operator has not acted on it yet)\n"
            "Requested:       abort (the operator has not acted on it yet)\n"
            "Message:         -\n"
            "Conditions:      -\n"
            "Staging:         no node lists this version yet\n");
}

TEST(RolloutViewTest, ListInOneNamespaceAndInAll) {
  api::ModelVersion plain;  // no strategy: distribution only
  plain.metadata.name = "embed-2-0-0";
  plain.metadata.namespace_name = "search";
  plain.spec.model = "embed";
  plain.spec.version = "2.0.0";
  const auto now = At("2026-12-01T12:00:00Z");
  EXPECT_EQ(RenderList({MidCanary(), RolledBack()}, false, now),
            "NAME          MODEL        VERSION   PHASE        STEP   WEIGHT   READY/DESIRED   "
            "STABLE   AGE\n"
            "coder-1-1-0   coder-6.7b   1.1.0     Paused       1/4    20       2/3             "
            "1.0.0    132m\n"
            "coder-1-2-0   coder-6.7b   1.2.0     RolledBack   2/4    0        3/3             "
            "1.1.0    60m\n");
  EXPECT_EQ(RenderList({MidCanary(), plain}, true, now),
            "NAMESPACE   NAME          MODEL        VERSION   PHASE    STEP   WEIGHT   "
            "READY/DESIRED   STABLE   AGE\n"
            "ml          coder-1-1-0   coder-6.7b   1.1.0     Paused   1/4    20       2/3"
            "             1.0.0    132m\n"
            "search      embed-2-0-0   embed        2.0.0     -        -      -        -"
            "               -        -\n");
}

TEST(RolloutViewTest, HistoryOfAModelsVersions) {
  api::ModelVersion promoted = Canary("coder-1-1-0", "1.1.0");
  promoted.status.phase = Phase::kPromoted;
  promoted.status.promoted_time = At("2026-12-01T10:30:00Z");
  EXPECT_EQ(RenderHistory({promoted, RolledBack()}),
            "coder-1-1-0   version 1.1.0   phase Promoted   promoted 2026-12-01T10:30:00Z\n"
            "  no history entries\n"
            "\n"
            "coder-1-2-0   version 1.2.0   phase RolledBack   promoted -\n"
            "  TIME                   PHASE         STEP   WEIGHT   REASON                     "
            "MESSAGE\n"
            "  2026-12-01T11:00:05Z   Staging       0      -        Created\n"
            "  2026-12-01T11:02:00Z   Progressing   0      20       Staged                     "
            "3/3 nodes ready\n"
            "  2026-12-01T11:15:00Z   RolledBack    2      0        ProgressDeadlineExceeded   "
            "canary pods not available within 600s; all traffic on 1.1.0\n");
}

TEST(RolloutViewTest, StepsAgesAndProgress) {
  api::AnalysisStep analysis;
  analysis.webhook.url = "http://checks/coder";
  EXPECT_EQ(DescribeStep(analysis), "analysis http://checks/coder");
  api::PauseStep pause;
  pause.duration = std::chrono::seconds(5400);
  EXPECT_EQ(DescribeStep(pause), "pause 1h30m");
  pause.duration = std::chrono::seconds(10);
  EXPECT_EQ(DescribeStep(pause), "pause 10s");

  api::ModelVersion done = MidCanary();
  done.status.current_step = 4;
  EXPECT_EQ(DescribeProgress(done), "4/4 (all done)");
  api::ModelVersion blue_green = MidCanary();
  blue_green.spec.strategy = api::BlueGreenStrategy{};
  EXPECT_EQ(DescribeProgress(blue_green), "blueGreen");

  const auto t0 = At("2026-12-01T00:00:00Z");
  using std::chrono::hours;
  using std::chrono::minutes;
  using std::chrono::seconds;
  EXPECT_EQ(HumanAge(t0, t0 + seconds(45)), "45s");
  EXPECT_EQ(HumanAge(t0, t0 + seconds(119)), "119s");
  EXPECT_EQ(HumanAge(t0, t0 + seconds(330)), "5m30s");
  EXPECT_EQ(HumanAge(t0, t0 + minutes(12)), "12m");
  EXPECT_EQ(HumanAge(t0, t0 + minutes(195)), "3h15m");
  EXPECT_EQ(HumanAge(t0, t0 + hours(20)), "20h");
  EXPECT_EQ(HumanAge(t0, t0 + hours(76)), "3d4h");
  EXPECT_EQ(HumanAge(t0, t0 + hours(24 * 45)), "45d");
  EXPECT_EQ(HumanAge(t0, t0 + hours(24 * (365 * 2 + 10))), "2y10d");
  EXPECT_EQ(HumanAge(t0 + seconds(5), t0), "<invalid>");

  EXPECT_EQ(StagingProgress(0, 0), "-");
  EXPECT_EQ(StagingProgress(512, 1000), "51% of 1000B");
  EXPECT_EQ(StagingProgress(int64_t{3} << 20, int64_t{6} << 20), "50% of 6.0MiB");
}

TEST(KubectlTableTest, AlignsByCodePointsAndLeavesNoTrailingBlanks) {
  EXPECT_EQ(FormatTable({{"A", "B", ""}, {"é", "longer", "x"}}, "> "),
            "> A   B\n"
            "> é   longer   x\n");
}

// --- promote / abort / retry ---

api::ModelVersion InPhase(Phase phase) {
  api::ModelVersion mv = MidCanary();
  mv.status.phase = phase;
  return mv;
}

TEST(KubectlSteerTest, PromoteWritesStepOrFullWithTheResourceVersionRead) {
  Result<SteerDecision> step = DecidePromote(MidCanary(), api::PromoteRequest::kStep);
  ASSERT_TRUE(step.ok()) << step.error().message;
  EXPECT_EQ(step->patch, api::Json::parse(R"({"metadata":{"resourceVersion":"41"},
                                              "status":{"promote":"step"}})"));
  EXPECT_EQ(step->summary, "ml/coder-1-1-0: promote step requested");
  Result<SteerDecision> full = DecidePromote(InPhase(Phase::kStaging), api::PromoteRequest::kFull);
  ASSERT_TRUE(full.ok()) << full.error().message;
  EXPECT_EQ(full->patch["status"], api::Json::parse(R"({"promote":"full"})"));
}

TEST(KubectlSteerTest, PromoteRefusesFinishedAndAbortedRollouts) {
  for (Phase phase : {Phase::kPromoted, Phase::kDegraded, Phase::kRolledBack, Phase::kSuperseded,
                      Phase::kFailed}) {
    Result<SteerDecision> refused = DecidePromote(InPhase(phase), api::PromoteRequest::kStep);
    ASSERT_FALSE(refused.ok()) << api::PhaseName(phase);
    EXPECT_NE(refused.error().message.find("ModelVersion ml/coder-1-1-0 is " +
                                           std::string(api::PhaseName(phase))),
              std::string::npos)
        << refused.error().message;
  }
  Result<SteerDecision> aborted =
      DecidePromote(InPhase(Phase::kAborted), api::PromoteRequest::kFull);
  ASSERT_FALSE(aborted.ok());
  EXPECT_NE(aborted.error().message.find("kubectl ferry retry coder-1-1-0"), std::string::npos)
      << aborted.error().message;
}

TEST(KubectlSteerTest, AbortWritesTrueOnceAndRefusesFinishedRollouts) {
  Result<SteerDecision> abort = DecideAbort(MidCanary());
  ASSERT_TRUE(abort.ok());
  EXPECT_EQ(abort->patch["status"], api::Json::parse(R"({"abort":true})"));
  Result<SteerDecision> again = DecideAbort(InPhase(Phase::kAborted));
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->patch.is_null());
  EXPECT_EQ(again->summary, "ml/coder-1-1-0: already aborted");
  EXPECT_FALSE(DecideAbort(InPhase(Phase::kPromoted)).ok());
}

TEST(KubectlSteerTest, RetryClearsAbortAndExplainsWhatCannotBeRetried) {
  Result<SteerDecision> retry = DecideRetry(InPhase(Phase::kAborted));
  ASSERT_TRUE(retry.ok());
  EXPECT_EQ(retry->patch["status"], api::Json::parse(R"({"abort":null})"));
  for (Phase phase : {Phase::kRolledBack, Phase::kFailed}) {
    Result<SteerDecision> refused = DecideRetry(InPhase(phase));
    ASSERT_FALSE(refused.ok());
    EXPECT_NE(refused.error().message.find("apply a new ModelVersion"), std::string::npos)
        << refused.error().message;
  }
  Result<SteerDecision> running = DecideRetry(MidCanary());
  ASSERT_FALSE(running.ok());
  EXPECT_NE(running.error().message.find("not aborted"), std::string::npos);
}

TEST(KubectlPluginTest, RecognisesItsNameInArgv0) {
  EXPECT_TRUE(InvokedAsKubectlPlugin("kubectl-ferry"));
  EXPECT_TRUE(InvokedAsKubectlPlugin("/usr/local/bin/kubectl-ferry"));
  EXPECT_FALSE(InvokedAsKubectlPlugin("ferryctl"));
  EXPECT_FALSE(InvokedAsKubectlPlugin("/opt/kubectl-ferry/ferryctl"));
  EXPECT_FALSE(InvokedAsKubectlPlugin("kubectl-ferry2"));
}

}  // namespace
}  // namespace ferry::ctl
