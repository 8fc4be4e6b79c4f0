// The operator where things go wrong, against the real local control plane:
// ferry-operator SIGKILLed at every step and started again, a leader killed
// with a standby waiting, the API server restarted mid-rollout, canaries that
// never come up or land on a node whose GPU fails, abort and retry, a
// permanent error that must not turn into a hot loop, and promotes raced
// against the operator's own status writes. The agents are SIMULATED
// (tests/support/simulated_agents.h); kwok runs the pods, and keeps pods
// labelled ferry.dev/simulate=unready Running but never Ready
// (e2e/cluster/kwok-test-stages.yaml).
//
// Each test asserts what a user sees: phases, reasons, messages, history.
// Serial: ModelNodes are cluster-wide, and one test restarts kube-apiserver.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <sstream>
#include <thread>

#include "lib/common/utc_time.h"
#include "tests/operator/operator_e2e_fixture.h"
#include "tests/support/paths.h"

namespace ferry::testing {
namespace {

using kube::Eventually;
using kube::Json;
using std::chrono::milliseconds;
using std::chrono::seconds;

// Apart from the rollout test's 26481 and the cluster's 26580..26584.
constexpr int kMetricsPort = 26596;
constexpr int kStandbyMetricsPort = 26597;

const std::string kV1Path = "/models/e2e-coder/versions/1.0.0";
const std::string kV2Path = "/models/e2e-coder/versions/2.0.0";

// The rollout test's five steps, with a pause that must survive a restart.
const std::string kFiveSteps = R"(
  strategy:
    canary:
      steps:
        - setWeight: 20
        - pause: {}
        - setWeight: 50
        - pause: {duration: 10s}
        - setWeight: 100
)";

// The shortest rollout with a pause to act at.
const std::string kPauseThenFifty = R"(
  strategy:
    canary:
      steps:
        - setWeight: 20
        - pause: {}
        - setWeight: 60
)";

// What status.history of kPauseThenFifty says when it goes straight through.
const std::vector<std::string> kPauseThenFiftyHistory = {
    "Staging", "Staged", "WeightSet", "AwaitingPromotion", "PromoteStep", "WeightSet", "Promoted"};

std::string StepOf(const Json& status) {
  return status.value("phase", "") + "@" + std::to_string(status.value("currentStep", -1));
}

std::chrono::system_clock::time_point TimeOf(const Json& text) {
  auto parsed = text.is_string() ? ParseTime(text.get<std::string>()) : std::nullopt;
  EXPECT_TRUE(parsed) << text.dump();
  return parsed.value_or(std::chrono::system_clock::time_point{});
}

const Json* FindCondition(const Json& status, const std::string& type) {
  auto conditions = status.find("conditions");
  if (conditions == status.end() || !conditions->is_array()) return nullptr;
  for (const Json& condition : *conditions) {
    if (condition.value("type", "") == type) return &condition;
  }
  return nullptr;
}

// The sum of every sample of `metric` in a Prometheus text exposition;
// `metric` may end in a full label set ({verb="PATCH",code="409"}) for one.
double SumOf(const std::string& exposition, const std::string& metric) {
  double sum = 0;
  std::istringstream lines(exposition);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind(metric + "{", 0) != 0 && line.rfind(metric + " ", 0) != 0) continue;
    sum += std::stod(line.substr(line.rfind(' ') + 1));
  }
  return sum;
}

// Fails and resumes `version` on one node over and over, on a thread of its
// own, until destroyed; then leaves the version resumed.
class StagingChurn {
 public:
  StagingChurn(SimulatedAgents& agents, std::string node, std::string version)
      : agents_(agents), node_(std::move(node)), version_(std::move(version)), thread_([this] {
          while (!stopping_) {
            agents_.FailVersion(node_, "e2e-coder", version_, "simulated churn");
            std::this_thread::sleep_for(milliseconds(150));
            agents_.ResumeVersion(node_, "e2e-coder", version_);
            std::this_thread::sleep_for(milliseconds(250));
          }
        }) {}
  ~StagingChurn() {
    stopping_ = true;
    thread_.join();
    agents_.ResumeVersion(node_, "e2e-coder", version_);
  }
  StagingChurn(const StagingChurn&) = delete;
  StagingChurn& operator=(const StagingChurn&) = delete;

 private:
  SimulatedAgents& agents_;
  const std::string node_;
  const std::string version_;
  std::atomic<bool> stopping_ = false;
  std::thread thread_;  // last: it uses the members above
};

class OperatorRobustnessTest : public OperatorE2eFixture {
 protected:
  // Version 1.0.0 promoted on a Deployment of `replicas`: the stable version
  // every rollout below starts from (and rolls back to).
  void PromoteFirstVersion(int replicas = 5) {
    ApplyServing(replicas);
    ApplyVersion("coder-1", "1.0.0", "");
    ASSERT_TRUE(WaitForStatus("coder-1", Phase("Promoted"), seconds(90)));
    ASSERT_TRUE(Eventually([&] { return PodVersions("app=coder") == Copies(replicas, kV1Path); },
                           seconds(60)))
        << "stable pods did not all move to 1.0.0";
    seen_.clear();
  }

  Json StatusOf(const std::string& name) {
    const Json mv = Get("mv", name);
    return mv.is_object() ? mv.value("status", Json::object()) : Json::object();
  }

  bool CanaryGone() { return !Get("deployment", "coder-server-canary").is_object(); }

  // After a rollback or an abort: traffic and nodes back on 1.0.0.
  void ExpectBackOnFirstVersion() {
    EXPECT_TRUE(Eventually([&] { return CanaryGone(); })) << "the canary Deployment stayed";
    EXPECT_TRUE(
        Eventually([&] { return PodVersions("app=coder") == Copies(5, kV1Path); }, seconds(60)))
        << "stable pods are not all on 1.0.0";
    EXPECT_EQ(ActiveVersions(), std::vector<std::string>(nodes_.size(), "1.0.0"));
  }
};

TEST_F(OperatorRobustnessTest, SigkillAtEveryStepResumesWhereTheStatusSays) {
  OperatorProcess& ferry = StartOperator(kMetricsPort);
  ASSERT_NO_FATAL_FAILURE(PromoteFirstVersion());
  ApplyVersion("coder-2", "2.0.0", kFiveSteps);

  // Every new (phase, step) seen kills the operator, and so does the middle
  // of the timed pause: the next one must resume from the status alone.
  std::vector<std::string> killed_at;
  std::string last;
  bool promoted = false;
  std::optional<std::string> pause_start;  // step 3's stepStartTime when killed mid-pause
  const auto deadline = std::chrono::steady_clock::now() + seconds(300);
  Json status;
  while (std::chrono::steady_clock::now() < deadline) {
    status = StatusOf("coder-2");
    const std::string at = StepOf(status);
    if (status.value("phase", "") == "Promoted") break;
    if (status.contains("phase") && at != last) {
      last = at;
      ferry.Restart();
      killed_at.push_back(at);
    }
    if (at == "Paused@1" && !promoted) {
      PatchStatus("coder-2", R"({"status":{"promote":"step"}})");
      promoted = true;
    }
    if (at == "Paused@3" && !pause_start &&
        std::chrono::system_clock::now() >= TimeOf(status["stepStartTime"]) + seconds(4)) {
      pause_start = status["stepStartTime"].get<std::string>();
      ferry.Restart();
      killed_at.push_back("Paused@3 (mid-pause)");
      // The restarted operator keeps the pause's start, so the pause goes on.
      std::this_thread::sleep_for(seconds(3));
      const Json later = StatusOf("coder-2");
      if (StepOf(later) == "Paused@3") {
        EXPECT_EQ(later["stepStartTime"], *pause_start);
      }
    }
    std::this_thread::sleep_for(milliseconds(200));
  }
  std::string kills;
  for (const std::string& at : killed_at) kills += " " + at;
  std::printf("operator SIGKILLed %zu times, at:%s\n", killed_at.size(), kills.c_str());
  ASSERT_EQ(status.value("phase", ""), "Promoted") << status.dump();
  ASSERT_TRUE(pause_start) << "never saw the middle of the 10 s pause; killed at:" << kills;
  EXPECT_GE(killed_at.size(), 6u) << kills;

  const Json history = status["history"];
  std::vector<std::string> reasons;
  for (const Json& entry : history) reasons.push_back(entry.value("reason", ""));
  EXPECT_EQ(reasons, (std::vector<std::string>{
                         "Staging", "Staged", "WeightSet", "AwaitingPromotion", "PromoteStep",
                         "WeightSet", "PauseDuration", "PauseEnded", "WeightSet", "Promoted"}))
      << history.dump();
  // The pause was not restarted: it ended 10 s (and some slack for the
  // restart) after the start it had when the operator was killed.
  for (const Json& entry : history) {
    if (entry.value("reason", "") != "PauseEnded") continue;
    const auto took = TimeOf(entry["time"]) - TimeOf(Json(*pause_start));
    EXPECT_GE(took, seconds(10)) << history.dump();
    EXPECT_LE(took, seconds(16)) << history.dump();
  }
  EXPECT_TRUE(
      Eventually([&] { return PodVersions("app=coder") == Copies(5, kV2Path); }, seconds(60)));
}

TEST_F(OperatorRobustnessTest, AStandbyReplicaTakesOverWhenTheLeaderIsKilled) {
  OperatorProcess& first = StartOperator(kMetricsPort, {"--leader-elect"}, "operator-a");
  OperatorProcess& second = StartOperator(kStandbyMetricsPort, {"--leader-elect"}, "operator-b");
  auto ready = [](const OperatorProcess& ferry) { return ferry.Http("/readyz").first == 200; };
  // A standby is ready too: its caches are warm for the moment it leads.
  ASSERT_TRUE(Eventually([&] { return ready(first) && ready(second); }, seconds(60)))
      << "/readyz: " << first.Http("/readyz").first << " and " << second.Http("/readyz").first;
  ASSERT_NO_FATAL_FAILURE(PromoteFirstVersion());
  ApplyVersion("coder-2", "2.0.0", kPauseThenFifty);
  ASSERT_TRUE(WaitForStatus("coder-2", Phase("Paused", 1), seconds(90)));

  // The Lease names the leader by host name and pid.
  const std::string holder = Get("lease", "ferry-operator")["spec"].value("holderIdentity", "");
  auto holds = [&](const OperatorProcess& ferry) {
    const std::string suffix = "-" + std::to_string(ferry.pid());
    return holder.size() > suffix.size() &&
           holder.compare(holder.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  ASSERT_TRUE(holds(first) != holds(second)) << "Lease holder " << holder;
  OperatorProcess& leader = holds(first) ? first : second;
  OperatorProcess& standby = holds(first) ? second : first;
  constexpr const char* kStarted = "controller(s) started";
  EXPECT_NE(leader.Log().find(kStarted), std::string::npos);
  EXPECT_EQ(standby.Log().find(kStarted), std::string::npos) << "the standby reconciled too";
  EXPECT_TRUE(ready(leader));
  EXPECT_TRUE(ready(standby));

  leader.Kill();
  PatchStatus("coder-2", R"({"status":{"promote":"step"}})");
  // The killed leader released nothing: the standby waits out the Lease (15 s).
  ASSERT_TRUE(WaitForStatus("coder-2", Phase("Promoted"), seconds(120)));
  EXPECT_NE(standby.Log().find(kStarted), std::string::npos);
  const std::string successor = Get("lease", "ferry-operator")["spec"].value("holderIdentity", "");
  EXPECT_TRUE(successor.ends_with("-" + std::to_string(standby.pid()))) << successor;
  EXPECT_EQ(HistoryReasons("coder-2"), kPauseThenFiftyHistory);
  EXPECT_TRUE(
      Eventually([&] { return PodVersions("app=coder") == Copies(5, kV2Path); }, seconds(60)));
}

TEST_F(OperatorRobustnessTest, TheRolloutContinuesAfterTheApiServerRestarts) {
  OperatorProcess& ferry = StartOperator(kMetricsPort);
  ASSERT_NO_FATAL_FAILURE(PromoteFirstVersion());
  ApplyVersion("coder-2", "2.0.0", kPauseThenFifty);
  ASSERT_TRUE(WaitForStatus("coder-2", Phase("Paused", 1), seconds(90)));

  ProcessResult restarted = RunProcess({SourcePath("e2e/cluster/restart"), "--state",
                                        ClusterState(), "--down-seconds", "3", "kube-apiserver"});
  ASSERT_EQ(restarted.exit_code, 0) << restarted.err;
  // kwok (the node simulator) may not renew the nodes' Leases for minutes
  // after losing its API server, and the node lifecycle controller then
  // keeps every simulated node NotReady: restarting kwok makes them
  // heartbeat again at once, as a real kubelet would.
  ProcessResult kwok =
      RunProcess({SourcePath("e2e/cluster/restart"), "--state", ClusterState(), "kwok"});
  ASSERT_EQ(kwok.exit_code, 0) << kwok.err;
  PatchStatus("coder-2", R"({"status":{"promote":"step"}})");
  // Generous on purpose: while the API server was down, kwok could not renew
  // the nodes' Leases, so the node lifecycle controller may mark every node
  // NotReady (and with it every pod) until the next heartbeats; the canary's
  // pods count as available again only after that, then the rollout goes on.
  ASSERT_TRUE(WaitForStatus("coder-2", Phase("Promoted"), seconds(300)))
      << Get("mv", "coder-2")["status"].dump();
  EXPECT_EQ(HistoryReasons("coder-2"), kPauseThenFiftyHistory);
  EXPECT_EQ(ferry.Http("/healthz").first, 200) << "the operator did not survive the outage";
  EXPECT_TRUE(
      Eventually([&] { return PodVersions("app=coder") == Copies(5, kV2Path); }, seconds(60)));
}

TEST_F(OperatorRobustnessTest, CanaryPodsThatNeverBecomeAvailableRollBack) {
  StartOperator(kMetricsPort);
  ASSERT_NO_FATAL_FAILURE(PromoteFirstVersion());
  ApplyVersion("coder-2", "2.0.0", R"(
  strategy:
    canary:
      canaryMetadata: {labels: {ferry.dev/simulate: unready}}
      progressDeadlineSeconds: 15
      steps:
        - setWeight: 50
        - pause: {}
)");
  ASSERT_TRUE(WaitForStatus("coder-2", Phase("RolledBack"), seconds(90)));
  const Json status = StatusOf("coder-2");
  // 50% of 5 replicas: 3 canary pods, none of them ever Ready.
  EXPECT_EQ(status.value("message", ""),
            "rolled back: canary pods not available within 15 s at step 0 (0 of 3 available); "
            "all traffic on version 1.0.0");
  EXPECT_EQ(status.value("canaryWeight", -1), 0);
  const Json* healthy = FindCondition(status, "Healthy");
  ASSERT_NE(healthy, nullptr) << status.dump();
  EXPECT_EQ((*healthy)["status"], "False");
  EXPECT_EQ((*healthy)["reason"], "ProgressDeadlineExceeded");
  EXPECT_EQ(HistoryReasons("coder-2"),
            (std::vector<std::string>{"Staging", "Staged", "ProgressDeadlineExceeded"}));
  EXPECT_TRUE(Eventually(
      [&] {
        ProcessResult events = Kubectl(
            {"get", "events", "--field-selector", "involvedObject.name=coder-2", "-o", "json"});
        if (events.exit_code != 0) return false;
        const Json listed = Json::parse(events.out);
        for (const Json& event : listed["items"]) {
          if (event.value("reason", "") == "ProgressDeadlineExceeded" &&
              event.value("type", "") == "Warning")
            return true;
        }
        return false;
      },
      seconds(30)))
      << "no Warning Event ProgressDeadlineExceeded on coder-2; events: "
      << Kubectl({"get", "events", "-o",
                  "custom-columns=OBJ:.involvedObject.name,TYPE:.type,"
                  "REASON:.reason,NOTE:.message"})
             .out;
  ExpectBackOnFirstVersion();
}

TEST_F(OperatorRobustnessTest, ACriticalXidOnACanaryNodeRollsBack) {
  StartOperator(kMetricsPort);
  ASSERT_NO_FATAL_FAILURE(PromoteFirstVersion());
  ApplyVersion("coder-2", "2.0.0", R"(
  strategy:
    canary:
      steps:
        - setWeight: 50
        - pause: {}
)");
  ASSERT_TRUE(WaitForStatus("coder-2", Phase("Paused", 1), seconds(90)));
  ProcessResult pods = Kubectl(
      {"get", "pods", "-l", "ferry.dev/track=canary", "-o", "jsonpath={.items[0].spec.nodeName}"});
  const std::string node = pods.out;
  ASSERT_TRUE(std::find(nodes_.begin(), nodes_.end(), node) != nodes_.end())
      << "no canary pod on a simulated node: '" << node << "' " << pods.err;

  agents_->ReportCriticalXid(node, 0, 79);  // GPU fallen off the bus
  ASSERT_TRUE(WaitForStatus("coder-2", Phase("RolledBack"), seconds(60)));
  const Json status = StatusOf("coder-2");
  const std::string message = status.value("message", "");
  EXPECT_EQ(
      message.rfind("rolled back: node " + node + " running canary pod coder-server-canary-", 0),
      0u)
      << message;
  EXPECT_TRUE(message.ends_with("; all traffic on version 1.0.0")) << message;
  const Json* healthy = FindCondition(status, "Healthy");
  ASSERT_NE(healthy, nullptr) << status.dump();
  EXPECT_EQ((*healthy)["reason"], "CanaryNodeUnhealthy");
  EXPECT_EQ(HistoryReasons("coder-2"),
            (std::vector<std::string>{"Staging", "Staged", "WeightSet", "AwaitingPromotion",
                                      "CanaryNodeUnhealthy"}));
  ExpectBackOnFirstVersion();
}

TEST_F(OperatorRobustnessTest, AbortThenRetryStartsAgainFromStepZero) {
  StartOperator(kMetricsPort);
  ASSERT_NO_FATAL_FAILURE(PromoteFirstVersion());
  ApplyVersion("coder-2", "2.0.0", kPauseThenFifty);
  ASSERT_TRUE(WaitForStatus("coder-2", Phase("Paused", 1), seconds(90)));

  PatchStatus("coder-2", R"({"status":{"abort":true}})");
  ASSERT_TRUE(WaitForStatus("coder-2", Phase("Aborted"), seconds(30)));
  EXPECT_EQ(StatusOf("coder-2").value("canaryWeight", -1), 0);
  ExpectBackOnFirstVersion();

  PatchStatus("coder-2", R"({"status":{"abort":null}})");
  auto retried_to_pause = [&](const Json& status) {
    const Json history = status.value("history", Json::array());
    const bool retried = std::any_of(history.begin(), history.end(), [](const Json& entry) {
      return entry.value("reason", "") == "Retry";
    });
    return retried && Phase("Paused", 1)(status);
  };
  ASSERT_TRUE(WaitForStatus("coder-2", retried_to_pause, seconds(60)));
  EXPECT_TRUE(Eventually([&] { return PodVersions("ferry.dev/track=canary").size() == 1; }));
  PatchStatus("coder-2", R"({"status":{"promote":"step"}})");
  ASSERT_TRUE(WaitForStatus("coder-2", Phase("Promoted"), seconds(90)));
  EXPECT_EQ(HistoryReasons("coder-2"),
            (std::vector<std::string>{
                "Staging", "Staged", "WeightSet", "AwaitingPromotion", "Aborted", "Retry", "Staged",
                "WeightSet", "AwaitingPromotion", "PromoteStep", "WeightSet", "Promoted"}));
  EXPECT_TRUE(
      Eventually([&] { return PodVersions("app=coder") == Copies(5, kV2Path); }, seconds(60)));
}

TEST_F(OperatorRobustnessTest, APermanentErrorIsNotRetriedInAHotLoop) {
  OperatorProcess& ferry = StartOperator(kMetricsPort);
  ProcessResult secret = Kubectl({"apply", "-f", "-"}, R"(
apiVersion: v1
kind: Secret
metadata: {name: signing-key}
stringData: {public.key: "ed25519 test public key\n"}
)");
  ASSERT_EQ(secret.exit_code, 0) << secret.err;
  ApplyVersion("coder-1", "1.0.0", "");  // serves coder-server, which does not exist
  ASSERT_TRUE(WaitForStatus("coder-1", Phase("Failed"), seconds(60)));
  const Json status = StatusOf("coder-1");
  const std::string prefix = "Deployment " + namespace_ + "/coder-server not found: ";
  EXPECT_EQ(status.value("message", "").rfind(prefix, 0), 0u) << status.value("message", "");
  const Json* healthy = FindCondition(status, "Healthy");
  ASSERT_NE(healthy, nullptr) << status.dump();
  EXPECT_EQ((*healthy)["reason"], "DeploymentNotFound");

  // Staging goes on meanwhile (the bytes can arrive before the Deployment);
  // once it is done nothing is left to write.
  for (const std::string& node : nodes_) {
    // Active when an earlier test left the node's current link on 1.0.0.
    EXPECT_TRUE(Eventually(
        [&] {
          const auto state = agents_->StateOf(node, "e2e-coder", "1.0.0");
          return state == "Ready" || state == "Active";
        },
        seconds(60)))
        << node << ": " << Get("mn", node).dump();
  }
  std::this_thread::sleep_for(seconds(5));
  auto requests = [&] {
    auto [code, body] = ferry.Http("/metrics");
    EXPECT_EQ(code, 200);
    return SumOf(body, "ferry_kube_requests_total");
  };
  const double before = requests();
  // Heartbeats (every 2 s on each node) keep waking the reconcile all along.
  std::this_thread::sleep_for(seconds(20));
  const double after = requests();
  std::printf("API requests in 20 s while Failed: %.0f\n", after - before);
  EXPECT_LT(after - before, 20) << ferry.Http("/metrics").second;
  EXPECT_EQ(StepOf(StatusOf("coder-1")), StepOf(status));
}

TEST_F(OperatorRobustnessTest, PromotesRacingStatusWritesAdvanceExactlyOneStepEach) {
  constexpr int kSteps = 15;
  OperatorProcess& ferry = StartOperator(kMetricsPort);
  ASSERT_NO_FATAL_FAILURE(PromoteFirstVersion());
  std::string strategy = "\n  strategy:\n    canary:\n      steps:\n";
  for (int i = 0; i < kSteps; ++i) strategy += "        - pause: {}\n";
  ApplyVersion("coder-2", "2.0.0", strategy);
  ASSERT_TRUE(WaitForStatus("coder-2", Phase("Paused", 0), seconds(90)));

  // One node's staging fails and recovers over and over: every turn changes
  // status.nodes, so the operator writes the status while promotes arrive.
  const std::string churned = nodes_.back();
  std::optional<StagingChurn> churn(std::in_place, *agents_, churned, "2.0.0");
  for (int step = 0; step < kSteps; ++step) {
    if (step == kSteps - 1) {
      // The last promote promotes: a failed node then would make it Degraded.
      churn.reset();
      EXPECT_TRUE(agents_->WaitForState(churned, "e2e-coder", "2.0.0", "Ready", seconds(30)));
    }
    PatchStatus("coder-2", R"({"status":{"promote":"step"}})");
    // Advancing goes through Progressing to the next pause; the last step
    // goes on to promotion.
    auto moved = [&](const Json& status) {
      return status.value("currentStep", -1) > step && !status.contains("promote") &&
             (step + 1 == kSteps || status.value("phase", "") == "Paused");
    };
    ASSERT_TRUE(WaitForStatus("coder-2", moved, seconds(30))) << "promote at step " << step;
    const Json status = StatusOf("coder-2");
    ASSERT_EQ(status.value("currentStep", -1), step + 1) << status.dump();
    if (step + 1 < kSteps) {
      ASSERT_EQ(status.value("phase", ""), "Paused") << status.dump();
    }
  }
  ASSERT_TRUE(WaitForStatus("coder-2", Phase("Promoted", kSteps), seconds(90)));
  const std::vector<std::string> reasons = HistoryReasons("coder-2");
  EXPECT_EQ(std::count(reasons.begin(), reasons.end(), "PromoteStep"), kSteps);
  EXPECT_EQ(std::count(reasons.begin(), reasons.end(), "AwaitingPromotion"), kSteps);
  EXPECT_EQ(reasons.back(), "Promoted");
  // How often a write of the operator lost to another writer (and was redone).
  const std::string metrics = ferry.Http("/metrics").second;
  std::printf("PATCHes refused with 409 Conflict (status, ModelNodes): %.0f\n",
              SumOf(metrics, "ferry_kube_requests_total{verb=\"PATCH\",code=\"409\"}"));
}

}  // namespace
}  // namespace ferry::testing
