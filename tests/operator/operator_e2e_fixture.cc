#include "tests/operator/operator_e2e_fixture.h"

#include <httplib.h>
#include <signal.h>

#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include "tests/support/paths.h"

namespace ferry::testing {

using kube::Json;
using std::chrono::seconds;

std::multiset<std::string> Copies(size_t count, const std::string& value) {
  std::multiset<std::string> copies;
  for (size_t i = 0; i < count; ++i) copies.insert(value);
  return copies;
}

OperatorProcess::OperatorProcess(std::vector<std::string> argv, std::filesystem::path log_path,
                                 int metrics_port)
    : argv_(std::move(argv)), log_path_(std::move(log_path)), metrics_port_(metrics_port) {}

void OperatorProcess::Start() {
  process_ = std::make_unique<ChildProcess>(argv_, log_path_.string());
}

void OperatorProcess::Kill() {
  if (!process_) return;
  process_->Kill(SIGKILL);
  process_->Wait();
  process_.reset();
}

std::pair<int, std::string> OperatorProcess::Http(const std::string& path) const {
  httplib::Client client("127.0.0.1", metrics_port_);
  client.set_connection_timeout(2);
  client.set_read_timeout(5);
  auto answer = client.Get(path);
  if (!answer) return {-1, ""};
  return {answer->status, answer->body};
}

std::string OperatorProcess::Log() const {
  std::ifstream log(log_path_);
  std::stringstream text;
  text << log.rdbuf();
  return text.str();
}

OperatorE2eFixture::OperatorE2eFixture() {
  agent_options_.staging_delay = std::chrono::milliseconds(200);
  agent_options_.heartbeat = seconds(2);
}

void OperatorE2eFixture::SetUp() {
  kube::ClusterTest::SetUp();
  if (HasFatalFailure()) return;
  auto nodes = SimulatedGpuNodeNames(*client_);
  ASSERT_TRUE(nodes.ok()) << nodes.error().message;
  nodes_ = *nodes;
  auto agents = SimulatedAgents::Start(*client_, nodes_, agent_options_);
  ASSERT_TRUE(agents.ok()) << agents.error().message;
  agents_ = std::move(*agents);
  ClearModelFromNodes();
}

void OperatorE2eFixture::TearDown() {
  for (auto& process : operators_) process->Kill();
  if (HasFailure()) {
    for (const auto& process : operators_) {
      std::ifstream log(process->log_path());
      const std::string name = process->log_path().stem().string();
      std::string line;
      int lines = 0;
      while (std::getline(log, line) && ++lines < 400) std::cerr << name << ": " << line << "\n";
    }
  }
  for (const std::string& name : Names("modelversions")) {
    Kubectl({"patch", "mv", name, "--type=merge", "-p", R"({"metadata":{"finalizers":null}})"});
  }
  ClearModelFromNodes();
  agents_.reset();
  kube::ClusterTest::TearDown();
}

OperatorProcess& OperatorE2eFixture::StartOperator(int metrics_port,
                                                   const std::vector<std::string>& extra_flags,
                                                   const std::string& log_name) {
  std::vector<std::string> argv = {BinaryPath("ferry-operator"),
                                   "--kubeconfig",
                                   ClusterKubeconfig(),
                                   "--namespace",
                                   namespace_,
                                   "--metrics-addr",
                                   "127.0.0.1:" + std::to_string(metrics_port)};
  argv.insert(argv.end(), extra_flags.begin(), extra_flags.end());
  operators_.push_back(
      std::make_unique<OperatorProcess>(argv, temp_.path() / (log_name + ".log"), metrics_port));
  operators_.back()->Start();
  return *operators_.back();
}

void OperatorE2eFixture::ClearModelFromNodes() {
  for (const std::string& node : nodes_) {
    Kubectl({"patch", "mn", node, "--type=merge", "-p", R"({"spec":{"models":[]}})"});
  }
}

ProcessResult OperatorE2eFixture::Kubectl(std::vector<std::string> args, const std::string& input) {
  args.insert(args.begin(),
              {ClusterTool("kubectl"), "--kubeconfig", ClusterKubeconfig(), "-n", namespace_});
  return RunProcess(args, input);
}

std::vector<std::string> OperatorE2eFixture::Names(const std::string& resource) {
  ProcessResult listed = Kubectl({"get", resource, "-o", "jsonpath={.items[*].metadata.name}"});
  std::vector<std::string> names;
  std::string name;
  for (std::istringstream words(listed.out); words >> name;) names.push_back(name);
  return names;
}

Json OperatorE2eFixture::Get(const std::string& resource, const std::string& name) {
  ProcessResult got = Kubectl({"get", resource, name, "-o", "json"});
  if (got.exit_code != 0) return Json();
  return Json::parse(got.out);
}

void OperatorE2eFixture::PatchStatus(const std::string& name, const std::string& patch) {
  ProcessResult patched =
      Kubectl({"patch", "mv", name, "--subresource=status", "--type=merge", "-p", patch});
  ASSERT_EQ(patched.exit_code, 0) << patched.err;
}

ProcessResult OperatorE2eFixture::KubectlFerry(std::vector<std::string> args) {
  args.insert(args.begin(), {ClusterTool("kubectl"), "ferry"});
  args.insert(args.end(), {"-n", namespace_});
  const std::string bin = std::filesystem::path(BinaryPath("kubectl-ferry")).parent_path();
  const char* path = std::getenv("PATH");
  return RunProcess(args, "",
                    {{"PATH", bin + ":" + (path != nullptr ? path : "/usr/bin:/bin")},
                     {"KUBECONFIG", ClusterKubeconfig()}});
}

void OperatorE2eFixture::ApplyServing(int replicas, int gpus_per_pod) {
  const std::string resources =
      gpus_per_pod > 0
          ? ", resources: {limits: {nvidia.com/gpu: " + std::to_string(gpus_per_pod) + "}}"
          : "";
  // Pods that take GPUs roll one out before one comes in, as a GPU-full
  // cluster's Deployments must: a surge pod would wait for a GPU forever.
  const std::string strategy =
      gpus_per_pod > 0 ? "  strategy: {rollingUpdate: {maxSurge: 0, maxUnavailable: 1}}\n" : "";
  const std::string yaml = R"(
apiVersion: v1
kind: Secret
metadata: {name: signing-key}
stringData: {public.key: "ed25519 test public key\n"}
---
apiVersion: v1
kind: Service
metadata: {name: coder}
spec:
  selector: {app: coder}
  ports: [{port: 8000}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: coder-server}
spec:
  replicas: )" + std::to_string(replicas) +
                           "\n" + strategy + R"(  selector: {matchLabels: {app: coder}}
  template:
    metadata: {labels: {app: coder}}
    spec:
      nodeSelector: {type: kwok}
      tolerations: [{key: kwok.x-k8s.io/node, operator: Exists, effect: NoSchedule}]
      containers: [{name: server, image: registry.invalid/server:1)" +
                           resources + R"(}]
)";
  ProcessResult applied = Kubectl({"apply", "-f", "-"}, yaml);
  ASSERT_EQ(applied.exit_code, 0) << applied.err;
}

void OperatorE2eFixture::ApplyVersion(const std::string& name, const std::string& version,
                                      const std::string& strategy) {
  std::string yaml = R"(
apiVersion: ferry.dev/v1alpha1
kind: ModelVersion
metadata: {name: )" + name +
                     R"(}
spec:
  model: e2e-coder
  version: )" + version +
                     R"(
  source:
    repository: http://repo.invalid
    publicKeySecretRef: {name: signing-key}
  nodeSelector: {ferry.dev/gpu: "true"}
  staging: {maxConcurrentNodes: 2, minReadyNodes: 2}
  serving: {deployment: coder-server, service: coder}
)" + strategy;
  ProcessResult applied = Kubectl({"apply", "-f", "-"}, yaml);
  ASSERT_EQ(applied.exit_code, 0) << applied.err;
}

bool OperatorE2eFixture::WaitForStatus(const std::string& name,
                                       const std::function<bool(const Json&)>& done,
                                       seconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    const Json mv = Get("mv", name);
    if (mv.is_object() && mv.contains("status")) {
      const Json& status = mv["status"];
      seen_.insert(status.value("phase", "") + "@" +
                   std::to_string(status.value("currentStep", -1)));
      if (done(status)) return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return false;
}

std::function<bool(const Json&)> OperatorE2eFixture::Phase(const std::string& phase, int step) {
  return [phase, step](const Json& status) {
    return status.value("phase", "") == phase &&
           (step < 0 || status.value("currentStep", -1) == step);
  };
}

std::multiset<std::string> OperatorE2eFixture::PodVersions(const std::string& selector) {
  ProcessResult pods = Kubectl({"get", "pods", "-l", selector, "-o", "json"});
  std::multiset<std::string> versions;
  if (pods.exit_code != 0) return versions;
  const Json listed = Json::parse(pods.out);
  for (const Json& pod : listed["items"]) {
    if (pod["metadata"].contains("deletionTimestamp")) continue;
    for (const Json& var : pod["spec"]["containers"][0].value("env", Json::array())) {
      if (var["name"] == "FERRY_MODEL_PATH") versions.insert(var["value"].get<std::string>());
    }
  }
  return versions;
}

std::vector<std::string> OperatorE2eFixture::HistoryReasons(const std::string& name) {
  std::vector<std::string> reasons;
  const Json mv = Get("mv", name);
  if (!mv.is_object()) return reasons;
  for (const Json& entry : mv["status"].value("history", Json::array())) {
    reasons.push_back(entry.value("reason", ""));
  }
  return reasons;
}

std::vector<std::string> OperatorE2eFixture::ActiveVersions() {
  std::vector<std::string> active;
  for (const std::string& node : nodes_) {
    std::string version;
    const Json mn = Get("mn", node);
    if (mn.is_object()) {
      for (const Json& model : mn["spec"].value("models", Json::array())) {
        if (model["model"] == "e2e-coder") version = model.value("active", "");
      }
    }
    active.push_back(version);
  }
  return active;
}

}  // namespace ferry::testing
