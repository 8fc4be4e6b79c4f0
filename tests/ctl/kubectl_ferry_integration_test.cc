// kubectl ferry against the shared cluster, run the way a person runs it:
// `kubectl ferry ...` with build/bin on PATH, so that kubectl's own plugin
// discovery finds the kubectl-ferry link and hands it the arguments. The
// status is written here through the status subresource, as the operator
// would write it (no operator runs in this cluster), and the test reads back
// what the plugin wrote.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "tests/support/paths.h"
#include "tests/support/process.h"

namespace ferry::testing {
namespace {

using nlohmann::json;

ProcessResult Kubectl(std::vector<std::string> args, const std::string& input = "") {
  args.insert(args.begin(), {ClusterTool("kubectl"), "--kubeconfig", ClusterKubeconfig()});
  return RunProcess(args, input);
}

// `kubectl ferry ARGS`: flags after the plugin's name, as kubectl requires.
// The kubeconfig comes from $KUBECONFIG, which the plugin reads as kubectl does.
ProcessResult KubectlFerry(std::vector<std::string> args) {
  args.insert(args.begin(), {ClusterTool("kubectl"), "ferry"});
  const std::string bin = std::filesystem::path(BinaryPath("kubectl-ferry")).parent_path();
  const char* path = std::getenv("PATH");
  return RunProcess(args, "",
                    {{"PATH", bin + ":" + (path != nullptr ? path : "/usr/bin:/bin")},
                     {"KUBECONFIG", ClusterKubeconfig()}});
}

const char* kModelVersion = R"(
apiVersion: ferry.dev/v1alpha1
kind: ModelVersion
metadata: {name: coder-1-1-0}
spec:
  model: coder-6.7b
  version: 1.1.0
  source:
    repository: http://ferry-repo.ml.svc:8080
    manifestDigest: sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
  serving: {deployment: coder-server}
  strategy:
    canary:
      steps: [{setWeight: 20}, {pause: {}}]
)";

json PausedStatus() {
  return json::parse(R"({
    "phase": "Paused", "currentStep": 1, "canaryWeight": 20, "stableVersion": "1.0.0",
    "nodes": {"desired": 3, "ready": 3, "failed": 0},
    "message": "step 1: paused; set status.promote to step or full to go on",
    "conditions": [
      {"type": "Staged", "status": "True", "reason": "MinReadyNodes", "message": "3/3 nodes ready",
       "lastTransitionTime": "2026-12-01T10:00:00Z"},
      {"type": "Paused", "status": "True", "reason": "AwaitingPromotion", "message": "",
       "lastTransitionTime": "2026-12-01T10:05:00Z"}],
    "history": [
      {"time": "2026-12-01T10:00:00Z", "phase": "Progressing", "step": 0, "weight": 20,
       "reason": "Staged", "message": "3/3 nodes ready"},
      {"time": "2026-12-01T10:05:00Z", "phase": "Paused", "step": 1, "weight": 20,
       "reason": "Pause", "message": "waiting for promote"}]
  })");
}

class KubectlFerryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    namespace_ = "kf-" + std::string(info->name());
    std::transform(namespace_.begin(), namespace_.end(), namespace_.begin(),
                   [](unsigned char c) { return std::isalnum(c) ? std::tolower(c) : '-'; });
    namespace_.resize(std::min<size_t>(namespace_.size(), 63));
    while (namespace_.back() == '-') namespace_.pop_back();
    Kubectl({"delete", "namespace", namespace_, "--ignore-not-found", "--wait=true"});
    ProcessResult created = Kubectl({"create", "namespace", namespace_});
    ASSERT_EQ(created.exit_code, 0) << created.err;
    ProcessResult applied = Kubectl({"apply", "-n", namespace_, "-f", "-"}, kModelVersion);
    ASSERT_EQ(applied.exit_code, 0) << applied.err;
  }
  void TearDown() override { Kubectl({"delete", "namespace", namespace_, "--wait=false"}); }

  // Merges `status` into the object's status, as the operator writes it.
  void WriteStatus(const json& status) {
    ProcessResult patched =
        Kubectl({"patch", "mv", "coder-1-1-0", "-n", namespace_, "--subresource=status",
                 "--type=merge", "-p", json{{"status", status}}.dump()});
    ASSERT_EQ(patched.exit_code, 0) << patched.err;
  }
  json Status() {
    ProcessResult got = Kubectl({"get", "mv", "coder-1-1-0", "-n", namespace_, "-o", "json"});
    EXPECT_EQ(got.exit_code, 0) << got.err;
    return json::parse(got.out).value("status", json::object());
  }

  std::string namespace_;
};

TEST_F(KubectlFerryTest, PromoteWritesStepThenFullThroughTheStatusSubresource) {
  WriteStatus(PausedStatus());
  ProcessResult step = KubectlFerry({"promote", "coder-1-1-0", "-n", namespace_});
  ASSERT_EQ(step.exit_code, 0) << step.err;
  EXPECT_EQ(step.out, namespace_ + "/coder-1-1-0: promote step requested\n");
  json status = Status();
  EXPECT_EQ(status["promote"], "step");
  EXPECT_EQ(status["phase"], "Paused") << "nothing else in the status changes";
  EXPECT_EQ(status["conditions"].size(), 2u);

  ProcessResult full = KubectlFerry({"promote", "coder-1-1-0", "--full", "-n", namespace_});
  ASSERT_EQ(full.exit_code, 0) << full.err;
  EXPECT_EQ(Status()["promote"], "full");
}

TEST_F(KubectlFerryTest, AbortWritesTrueAndRetryClearsIt) {
  WriteStatus(PausedStatus());
  ProcessResult abort = KubectlFerry({"abort", "coder-1-1-0", "-n", namespace_});
  ASSERT_EQ(abort.exit_code, 0) << abort.err;
  EXPECT_EQ(Status()["abort"], true);

  ProcessResult promote = KubectlFerry({"promote", "coder-1-1-0", "-n", namespace_});
  EXPECT_EQ(promote.exit_code, 1) << "an aborted rollout is retried first";
  EXPECT_NE(promote.err.find("kubectl ferry retry coder-1-1-0"), std::string::npos) << promote.err;

  WriteStatus({{"phase", "Aborted"}});
  ProcessResult retry = KubectlFerry({"retry", "coder-1-1-0", "-n", namespace_});
  ASSERT_EQ(retry.exit_code, 0) << retry.err;
  EXPECT_FALSE(Status().contains("abort"));
}

TEST_F(KubectlFerryTest, PromoteOfAPromotedVersionIsRefused) {
  json status = PausedStatus();
  status["phase"] = "Promoted";
  status["currentStep"] = 2;
  status["canaryWeight"] = 100;
  status["stableVersion"] = "1.1.0";
  status["promotedTime"] = "2026-12-01T10:30:00Z";
  WriteStatus(status);
  ProcessResult promote = KubectlFerry({"promote", "coder-1-1-0", "-n", namespace_});
  EXPECT_EQ(promote.exit_code, 1);
  EXPECT_NE(promote.err.find("ModelVersion " + namespace_ + "/coder-1-1-0 is Promoted"),
            std::string::npos)
      << promote.err;
  EXPECT_FALSE(Status().contains("promote")) << "nothing was written";

  ProcessResult watch = KubectlFerry({"status", "coder-1-1-0", "--watch", "-n", namespace_});
  EXPECT_EQ(watch.exit_code, 0) << "a watch ends at once on a promoted rollout: " << watch.err;
}

TEST_F(KubectlFerryTest, RetryOfARolledBackVersionExplainsWhatToDo) {
  WriteStatus({{"phase", "RolledBack"}, {"message", "analysis failed"}});
  ProcessResult retry = KubectlFerry({"retry", "coder-1-1-0", "-n", namespace_});
  EXPECT_EQ(retry.exit_code, 1);
  EXPECT_NE(retry.err.find("apply a new ModelVersion"), std::string::npos) << retry.err;
  ProcessResult watch = KubectlFerry({"status", "coder-1-1-0", "-w", "-n", namespace_});
  EXPECT_EQ(watch.exit_code, 1) << "a watch that ends RolledBack fails";
  EXPECT_NE(watch.out.find("Phase:           RolledBack"), std::string::npos) << watch.out;
}

TEST_F(KubectlFerryTest, StatusListAndHistoryShowTheRollout) {
  WriteStatus(PausedStatus());
  ProcessResult status = KubectlFerry({"status", "coder-1-1-0", "-n", namespace_});
  ASSERT_EQ(status.exit_code, 0) << status.err;
  EXPECT_NE(status.out.find("Phase:           Paused\n"), std::string::npos) << status.out;
  EXPECT_NE(status.out.find("Step:            1/2 (now: pause)\n"), std::string::npos)
      << status.out;
  EXPECT_NE(status.out.find("  Paused=True AwaitingPromotion\n"), std::string::npos) << status.out;

  ProcessResult list = KubectlFerry({"list", "-n", namespace_});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  EXPECT_EQ(list.out.rfind("NAME          MODEL        VERSION   PHASE    STEP   WEIGHT", 0), 0u)
      << list.out;
  EXPECT_NE(list.out.find("coder-1-1-0   coder-6.7b   1.1.0     Paused   1/2    20       3/3"),
            std::string::npos)
      << list.out;
  ProcessResult all = KubectlFerry({"list", "-A"});
  ASSERT_EQ(all.exit_code, 0) << all.err;
  // Other tests' namespaces are listed too, so columns are as wide as theirs.
  const size_t row = all.out.find("\n" + namespace_ + " ");
  ASSERT_NE(row, std::string::npos) << all.out;
  const std::string line = all.out.substr(row + 1, all.out.find('\n', row + 1) - row - 1);
  EXPECT_NE(line.find("   coder-1-1-0   coder-6.7b   1.1.0     Paused "), std::string::npos)
      << line;

  // By ModelVersion name, and by model (the field selector on spec.model).
  for (const char* name : {"coder-1-1-0", "coder-6.7b"}) {
    ProcessResult history = KubectlFerry({"history", name, "-n", namespace_});
    ASSERT_EQ(history.exit_code, 0) << name << ": " << history.err;
    EXPECT_EQ(history.out.rfind("coder-1-1-0   version 1.1.0   phase Paused   promoted -\n", 0), 0u)
        << history.out;
    EXPECT_NE(history.out.find("2026-12-01T10:05:00Z   Paused        1      20       Pause    "
                               "waiting for promote\n"),
              std::string::npos)
        << history.out;
  }
}

// A ModelNode (cluster-scoped, so named after this test's namespace and
// deleted at the end) that lists the version and reports it half staged.
TEST_F(KubectlFerryTest, StatusShowsStagingProgressFromModelNodes) {
  WriteStatus(PausedStatus());
  const std::string node = namespace_.substr(0, 50) + "-node";
  const std::string model_node = R"(
apiVersion: ferry.dev/v1alpha1
kind: ModelNode
metadata: {name: )" + node + R"(}
spec:
  models:
  - model: coder-6.7b
    versions:
    - version: 1.1.0
      source: {repository: 'http://ferry-repo.ml.svc:8080'}
)";
  ProcessResult applied = Kubectl({"apply", "-f", "-"}, model_node);
  ASSERT_EQ(applied.exit_code, 0) << applied.err;
  const json held = json::parse(R"({"status": {"versions": [
      {"model": "coder-6.7b", "version": "1.1.0", "state": "Fetching", "bytes": 1024,
       "totalBytes": 4096, "message": "delta from 1.0.0"}]}})");
  ProcessResult reported = Kubectl(
      {"patch", "modelnode", node, "--subresource=status", "--type=merge", "-p", held.dump()});
  EXPECT_EQ(reported.exit_code, 0) << reported.err;

  ProcessResult status = KubectlFerry({"status", "coder-1-1-0", "-n", namespace_});
  Kubectl({"delete", "modelnode", node, "--wait=false"});
  ASSERT_EQ(status.exit_code, 0) << status.err;
  EXPECT_NE(status.out.find("  " + node + "   Fetching   25% of 4.0KiB   delta from 1.0.0\n"),
            std::string::npos)
      << status.out;
}

TEST_F(KubectlFerryTest, AMissingModelVersionIsNotFound) {
  for (const char* command : {"status", "promote", "abort", "retry"}) {
    ProcessResult missing = KubectlFerry({command, "nope", "-n", namespace_});
    EXPECT_EQ(missing.exit_code, 1) << command;
    EXPECT_NE(missing.err.find("ModelVersion " + namespace_ + "/nope not found"), std::string::npos)
        << command << ": " << missing.err;
  }
  ProcessResult history = KubectlFerry({"history", "nope", "-n", namespace_});
  EXPECT_EQ(history.exit_code, 1);
  EXPECT_NE(history.err.find("not found"), std::string::npos) << history.err;
}

}  // namespace
}  // namespace ferry::testing
