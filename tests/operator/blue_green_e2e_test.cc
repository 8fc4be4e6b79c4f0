// Blue-green end to end against the real local control plane: ferry-operator
// as its own process, kubectl as the user, the real Deployment controller and
// scheduler (kwok runs the pods), and SIMULATED agents
// (tests/support/simulated_agents.h). Which pods serve is read from the
// Services' live selectors, as the endpoints controller reads them.
//
// Serial: ModelNodes are cluster-wide, so one simulation at a time.
#include <gtest/gtest.h>

#include <chrono>
#include <set>
#include <sstream>
#include <string>

#include "tests/operator/operator_e2e_fixture.h"

namespace ferry::testing {
namespace {

using kube::Json;
using std::chrono::seconds;

constexpr int kMetricsPort = 26598;
const std::string kV1 = "/models/e2e-coder/versions/1.0.0";
const std::string kV2 = "/models/e2e-coder/versions/2.0.0";

class BlueGreenE2eTest : public OperatorE2eFixture {
 protected:
  void SetUp() override {
    OperatorE2eFixture::SetUp();
    if (HasFatalFailure()) return;
    StartOperator(kMetricsPort);
    ApplyServing(3);
    ProcessResult preview = Kubectl({"apply", "-f", "-"}, R"(
apiVersion: v1
kind: Service
metadata: {name: coder-preview}
spec:
  selector: {app: coder}
  ports: [{port: 8000}]
)");
    ASSERT_EQ(preview.exit_code, 0) << preview.err;
    // v1 has no blue to run beside: it is staged and becomes stable.
    ApplyVersion("coder-1", "1.0.0", "");
    ASSERT_TRUE(WaitForStatus("coder-1", Phase("Promoted"), seconds(90)));
    ASSERT_TRUE(
        kube::Eventually([&] { return PodVersions("app=coder") == Copies(3, kV1); }, seconds(60)));
  }

  void ApplyBlueGreen(const std::string& fields) {
    ApplyVersion("coder-2", "2.0.0", R"(
  strategy:
    blueGreen:
      previewService: coder-preview
)" + fields);
  }

  // The model folders of the running pods the Service selects now.
  std::multiset<std::string> Served(const std::string& service) {
    const Json svc = Get("service", service);
    if (!svc.is_object()) return {};
    std::string selector;
    for (const auto& [key, value] : svc["spec"]["selector"].items()) {
      selector += (selector.empty() ? "" : ",") + key + "=" + value.get<std::string>();
    }
    return PodVersions(selector);
  }

  std::string PinOf(const std::string& service) {
    return Get("service", service)["spec"]["selector"].value("ferry.dev/version", "");
  }

  // Names of the running pods of the user's Deployment (blue).
  std::set<std::string> BluePods() {
    ProcessResult pods = Kubectl({"get", "pods", "-l", "app=coder,!ferry.dev/track", "-o",
                                  "jsonpath={.items[*].metadata.name}"});
    std::set<std::string> names;
    std::string name;
    for (std::istringstream words(pods.out); words >> name;) names.insert(name);
    return names;
  }
};

TEST_F(BlueGreenE2eTest, ManualPromotionSwitchesTheActiveServiceInOneMove) {
  ApplyBlueGreen("      scaleDownDelaySeconds: 5\n");
  ASSERT_TRUE(WaitForStatus("coder-2", Phase("Paused", 1), seconds(90)));
  const Json paused = Get("mv", "coder-2")["status"];
  EXPECT_EQ(paused["message"],
            "preview ready; Service coder-preview previews it; set status.promote to switch "
            "Service coder to it");
  // Green at full size on v2, seen only through the preview Service.
  EXPECT_TRUE(kube::Eventually(
      [&] { return PodVersions("ferry.dev/track=green") == Copies(3, kV2); }, seconds(30)));
  EXPECT_EQ(PinOf("coder"), "1.0.0");
  EXPECT_EQ(PinOf("coder-preview"), "2.0.0");
  EXPECT_EQ(Served("coder"), Copies(3, kV1));
  EXPECT_EQ(Served("coder-preview"), Copies(3, kV2));
  EXPECT_EQ(paused.value("canaryWeight", -1), 0);

  ProcessResult promoted = Kubectl({"patch", "mv", "coder-2", "--subresource=status",
                                    "--type=merge", "-p", R"({"status":{"promote":"step"}})"});
  ASSERT_EQ(promoted.exit_code, 0) << promoted.err;
  ASSERT_TRUE(WaitForStatus("coder-2", Phase("Promoted"), seconds(120)));
  EXPECT_TRUE(seen_.count("Progressing@2")) << "the scale-down delay was not observed";
  EXPECT_EQ(PinOf("coder"), "2.0.0");
  ASSERT_TRUE(
      kube::Eventually([&] { return PodVersions("app=coder") == Copies(3, kV2); }, seconds(60)))
      << "blue's pods were not replaced by 2.0.0";
  EXPECT_TRUE(
      kube::Eventually([&] { return !Get("deployment", "coder-server-green").is_object(); }));
  EXPECT_EQ(Served("coder"), Copies(3, kV2));
  ASSERT_TRUE(WaitForStatus("coder-1", Phase("Superseded"), seconds(30)));
  EXPECT_EQ(HistoryReasons("coder-2"),
            (std::vector<std::string>{"Staging", "Staged", "PreviewReady", "AwaitingPromotion",
                                      "Switched", "ScaleDownDelayEnded", "Promoted"}));
  for (const std::string& node : nodes_) {
    EXPECT_TRUE(kube::Eventually([&] {
      return agents_->StateOf(node, "e2e-coder", "2.0.0") == "Active";
    })) << node;
  }
}

TEST_F(BlueGreenE2eTest, AutoPromotionThenAnAbortInsideTheDelaySwitchesBackAtOnce) {
  ApplyBlueGreen("      autoPromotionSeconds: 2\n      scaleDownDelaySeconds: 600\n");
  const std::set<std::string> blue = BluePods();
  ASSERT_EQ(blue.size(), 3u);
  // Nobody promotes: the switch comes two seconds after green is ready.
  ASSERT_TRUE(WaitForStatus("coder-2", Phase("Progressing", 2), seconds(120)));
  EXPECT_EQ(PinOf("coder"), "2.0.0");
  EXPECT_EQ(Served("coder"), Copies(3, kV2));
  EXPECT_EQ(BluePods(), blue) << "blue must stay untouched inside the delay";
  EXPECT_EQ(Get("mv", "coder-2")["status"].value("canaryWeight", -1), 100);

  ProcessResult aborted = KubectlFerry({"abort", "coder-2"});
  ASSERT_EQ(aborted.exit_code, 0) << aborted.err;
  ASSERT_TRUE(WaitForStatus("coder-2", Phase("Aborted"), seconds(30)));
  // Back on the very same blue pods: nothing had to start again.
  EXPECT_EQ(PinOf("coder"), "1.0.0");
  EXPECT_EQ(Served("coder"), Copies(3, kV1));
  EXPECT_EQ(BluePods(), blue);
  EXPECT_TRUE(
      kube::Eventually([&] { return !Get("deployment", "coder-server-green").is_object(); }));
  EXPECT_EQ(Get("mv", "coder-2")["status"].value("canaryWeight", -1), 0);
  EXPECT_EQ(HistoryReasons("coder-2"),
            (std::vector<std::string>{"Staging", "Staged", "PreviewReady", "AwaitingAutoPromotion",
                                      "AutoPromoted", "Aborted"}));
  EXPECT_EQ(Get("mv", "coder-1")["status"]["phase"], "Promoted");
}

}  // namespace
}  // namespace ferry::testing
