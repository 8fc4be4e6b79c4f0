// What the operator's end-to-end tests share: a namespace of the test's own
// on the real local control plane (the `cluster` CTest fixture), SIMULATED
// agents on its GPU nodes (tests/support/simulated_agents.h), ferry-operator
// processes started, killed and started again, and kubectl as the user.
//
// Invariants:
//   - every operator the fixture starts writes to its own log file, which a
//     restart appends to, so a failing test prints the whole story of each;
//   - TearDown kills (SIGKILL) only the operators it started, removes the
//     finalizers they left (no operator runs then to remove them), and clears
//     the test's model from the cluster-wide ModelNodes, so that the next
//     test starts from nodes without it;
//   - nothing here starts an operator by itself: each fixture or test says
//     how many and with which flags.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "lib/kube/client.h"
#include "tests/lib/kube/cluster_client.h"
#include "tests/support/process.h"
#include "tests/support/simulated_agents.h"
#include "tests/support/temp_dir.h"

namespace ferry::testing {

// `count` copies of `value`, for comparing against PodVersions.
std::multiset<std::string> Copies(size_t count, const std::string& value);

// One ferry-operator process, with the flags to start it again.
class OperatorProcess {
 public:
  OperatorProcess(std::vector<std::string> argv, std::filesystem::path log_path, int metrics_port);

  int pid() const { return process_ ? process_->pid() : -1; }
  int metrics_port() const { return metrics_port_; }
  const std::filesystem::path& log_path() const { return log_path_; }
  bool running() const { return process_ != nullptr; }

  void Start();
  // SIGKILL, a crash: no lease released, no write finished.
  void Kill();
  void Restart() {
    Kill();
    Start();
  }
  // GET http://127.0.0.1:<metrics port><path>; status -1 when no answer.
  std::pair<int, std::string> Http(const std::string& path) const;
  std::string Log() const;

 private:
  const std::vector<std::string> argv_;
  const std::filesystem::path log_path_;
  const int metrics_port_;
  std::unique_ptr<ChildProcess> process_;
};

class OperatorE2eFixture : public kube::ClusterTest {
 protected:
  OperatorE2eFixture();
  void SetUp() override;
  void TearDown() override;

  // Starts ferry-operator --namespace <the test's> --metrics-addr 127.0.0.1:<port>,
  // plus `extra_flags`; its log is <temp>/<log_name>.log.
  OperatorProcess& StartOperator(int metrics_port, const std::vector<std::string>& extra_flags = {},
                                 const std::string& log_name = "operator");

  // Earlier runs may have left entries for the test's model on the shared nodes.
  void ClearModelFromNodes();

  ProcessResult Kubectl(std::vector<std::string> args, const std::string& input = "");
  std::vector<std::string> Names(const std::string& resource);
  // The object as JSON, or null when kubectl cannot get it.
  kube::Json Get(const std::string& resource, const std::string& name);
  // A merge patch of the ModelVersion's status subresource, as a user writes
  // promote and abort.
  void PatchStatus(const std::string& name, const std::string& patch);

  // `kubectl ferry ARGS -n <the test's namespace>`, the plugin found on PATH.
  ProcessResult KubectlFerry(std::vector<std::string> args);

  // The signing-key Secret, the Service and the Deployment coder-server;
  // each pod asks for `gpus_per_pod` nvidia.com/gpu (kwok nodes have 8) and,
  // when it asks for any, rolls without a surge.
  void ApplyServing(int replicas, int gpus_per_pod = 0);
  // A ModelVersion of model e2e-coder serving coder-server; `strategy` is
  // YAML indented under spec.
  void ApplyVersion(const std::string& name, const std::string& version,
                    const std::string& strategy);

  // Polls the ModelVersion's status until `done` holds, recording every
  // (phase, step) seen on the way in seen_.
  bool WaitForStatus(const std::string& name, const std::function<bool(const kube::Json&)>& done,
                     std::chrono::seconds timeout = std::chrono::seconds(60));
  static std::function<bool(const kube::Json&)> Phase(const std::string& phase, int step = -1);

  // The model paths the running pods matching `selector` were given.
  std::multiset<std::string> PodVersions(const std::string& selector);
  // The reasons of status.history, oldest first.
  std::vector<std::string> HistoryReasons(const std::string& name);
  // The model's `active` version in each simulated node's ModelNode spec.
  std::vector<std::string> ActiveVersions();

  // Options for the simulated agents, read by SetUp.
  SimulatedAgentsOptions agent_options_;

  TempDir temp_;
  std::vector<std::string> nodes_;
  std::unique_ptr<SimulatedAgents> agents_;
  std::vector<std::unique_ptr<OperatorProcess>> operators_;
  std::set<std::string> seen_;
};

}  // namespace ferry::testing
