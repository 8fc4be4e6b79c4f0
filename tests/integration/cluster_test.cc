// Proves the shared test cluster is a real Kubernetes control plane: the
// scheduler places a Deployment's pods onto the kwok-simulated nodes and the
// controller-manager reports it Available; the API server enforces the schemas
// in crds/. Uses the cluster that the `cluster` CTest fixture started.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>

#include "tests/integration/kubectl_namespace_test.h"

namespace ferry::testing {
namespace {

// A namespace of the test's own, deleted afterwards, so reruns start clean.
class ClusterTest : public KubectlNamespaceTest {
 protected:
  ClusterTest() : KubectlNamespaceTest("it") {}
};

TEST_F(ClusterTest, ApiServerReportsReadyAndThePinnedVersion) {
  ProcessResult readyz = Kubectl({"get", "--raw", "/readyz"});
  ASSERT_EQ(readyz.exit_code, 0) << readyz.err;
  EXPECT_EQ(readyz.out, "ok");

  ProcessResult version = Kubectl({"get", "--raw", "/version"});
  ASSERT_EQ(version.exit_code, 0) << version.err;
  EXPECT_EQ(nlohmann::json::parse(version.out)["gitVersion"].get<std::string>().rfind("v1.", 0), 0u)
      << version.out;
}

TEST_F(ClusterTest, SimulatedGpuNodesAreReady) {
  ProcessResult nodes = Kubectl({"get", "nodes", "-l", "ferry.dev/gpu=true", "-o", "json"});
  ASSERT_EQ(nodes.exit_code, 0) << nodes.err;
  const auto items = nlohmann::json::parse(nodes.out)["items"];
  ASSERT_EQ(items.size(), 3u);
  for (const auto& node : items) {
    EXPECT_EQ(node["status"]["allocatable"]["nvidia.com/gpu"], "8");
    bool ready = false;
    for (const auto& condition : node["status"]["conditions"]) {
      if (condition["type"] == "Ready") ready = condition["status"] == "True";
    }
    EXPECT_TRUE(ready) << node["metadata"]["name"];
  }
}

TEST_F(ClusterTest, DeploymentBecomesAvailableOnSimulatedNodes) {
  const std::string deployment = R"(
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 3
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      nodeSelector: {type: kwok}
      tolerations: [{key: kwok.x-k8s.io/node, operator: Exists, effect: NoSchedule}]
      topologySpreadConstraints:
      - {maxSkew: 1, topologyKey: kubernetes.io/hostname, whenUnsatisfiable: DoNotSchedule,
         labelSelector: {matchLabels: {app: web}}}
      containers: [{name: web, image: registry.invalid/web:1}]
)";
  ProcessResult applied = Kubectl({"apply", "-n", namespace_, "-f", "-"}, deployment);
  ASSERT_EQ(applied.exit_code, 0) << applied.err;

  ProcessResult waited = Kubectl(
      {"wait", "-n", namespace_, "deployment/web", "--for=condition=Available", "--timeout=90s"});
  ASSERT_EQ(waited.exit_code, 0) << waited.err;
  ProcessResult status = Kubectl({"get", "-n", namespace_, "deployment/web", "-o", "json"});
  ASSERT_EQ(status.exit_code, 0) << status.err;
  EXPECT_EQ(nlohmann::json::parse(status.out)["status"]["readyReplicas"], 3);

  // The pods really went through the scheduler onto kwok nodes and are Running.
  ProcessResult pods = Kubectl({"get", "pods", "-n", namespace_, "-l", "app=web", "-o", "json"});
  ASSERT_EQ(pods.exit_code, 0) << pods.err;
  const nlohmann::json pod_list = nlohmann::json::parse(pods.out);
  ASSERT_EQ(pod_list["items"].size(), 3u) << pods.out;
  std::set<std::string> nodes;
  for (const auto& pod : pod_list["items"]) {
    EXPECT_EQ(pod["status"]["phase"], "Running");
    nodes.insert(pod["spec"]["nodeName"].get<std::string>());
  }
  EXPECT_EQ(nodes.size(), 3u) << "the spread constraint puts one replica on each node";
  for (const auto& node : nodes) EXPECT_EQ(node.rfind("kwok-gpu-", 0), 0u) << node;
}

const char* kValidModelVersion = R"(
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

TEST_F(ClusterTest, ModelVersionSchemaAcceptsAValidObject) {
  ProcessResult applied = Kubectl({"apply", "-n", namespace_, "-f", "-"}, kValidModelVersion);
  ASSERT_EQ(applied.exit_code, 0) << applied.err;
  ProcessResult got = Kubectl({"get", "mv", "coder-1-1-0", "-n", namespace_, "-o", "json"});
  ASSERT_EQ(got.exit_code, 0) << got.err;
  EXPECT_EQ(nlohmann::json::parse(got.out)["spec"]["version"], "1.1.0");
}

TEST_F(ClusterTest, ApiServerRejectsAModelVersionThatViolatesTheSchema) {
  std::string bad = kValidModelVersion;
  const std::string digest =
      "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
  bad.replace(bad.find(digest), digest.size(), "md5:not-a-digest");
  ProcessResult applied = Kubectl({"apply", "-n", namespace_, "-f", "-"}, bad);
  EXPECT_NE(applied.exit_code, 0);
  EXPECT_NE(applied.err.find("spec.source.manifestDigest"), std::string::npos) << applied.err;

  ProcessResult listed = Kubectl({"get", "mv", "-n", namespace_, "-o", "name"});
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  EXPECT_EQ(listed.out, "") << "the rejected object must not be stored";
}

TEST_F(ClusterTest, ApiServerKeepsTheModelImmutable) {
  ProcessResult applied = Kubectl({"apply", "-n", namespace_, "-f", "-"}, kValidModelVersion);
  ASSERT_EQ(applied.exit_code, 0) << applied.err;
  ProcessResult patched = Kubectl({"patch", "mv", "coder-1-1-0", "-n", namespace_, "--type=merge",
                                   "-p", R"({"spec":{"model":"other-model"}})"});
  EXPECT_NE(patched.exit_code, 0);
  EXPECT_NE(patched.err.find("immutable"), std::string::npos) << patched.err;
}

}  // namespace
}  // namespace ferry::testing
