// SIMULATED ferry-agents, for the operator's integration and end-to-end tests
// until the real agent lands. For each named node a SimulatedAgents makes the
// ModelNode's status follow its spec the way an agent would, without any
// store, download or GPU behind it:
//
//   listed version:   Pending -delay-> Fetching -delay-> Ready (or Active when
//                     spec.models[].active names it; the previous Active one
//                     becomes Ready); digest = the spec's manifestDigest, else
//                     a made-up "sha256:" of the model and version;
//   unlisted version: removed from status, except the one `current` points at
//                     (Active), which stays until another becomes Active;
//   every write:      observedGeneration = the generation acted on, heartbeat
//                     refreshed; written again every heartbeat period even when
//                     nothing changed;
//   GPUs:             8 healthy "Simulated GPU"s unless a fault says otherwise.
//
// Invariants:
//   - it writes only through the status subresource (UpdateStatus with the
//     resourceVersion read, retried on conflict) and never writes spec;
//   - it creates each node's ModelNode when missing (owned by the Node, as the
//     real agent will) and never deletes one unless DeleteModelNodes is called;
//   - a node whose heartbeat was stopped gets no write at all, so its heartbeat
//     goes stale exactly as a dead agent's would, and its versions do not move;
//   - scripted faults hold until their Resume / Recover counterpart is called.
//
// One informer (with its own thread) watches ModelNodes and one simulation
// thread writes; the destructor stops both. Thread-safe. Naming a node that
// was not given at Start is a programming error and throws std::out_of_range.
#pragma once

#include <spdlog/logger.h>

#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "lib/common/result.h"
#include "lib/kube/client.h"
#include "lib/kube/informer.h"

namespace ferry::testing {

struct SimulatedAgentsOptions {
  // Time each simulated step (Pending -> Fetching, Fetching -> Ready) takes.
  std::chrono::milliseconds staging_delay{300};
  std::chrono::seconds heartbeat{2};  // also written as status.heartbeatSeconds
  int gpus = 8;
  int64_t version_bytes = 13'478'000'000;  // the made-up size of every version
  std::shared_ptr<spdlog::logger> log{};   // failed writes are logged at warn; may be null
};

// The names of the local cluster's simulated GPU nodes (kwok-gpu-0..N-1:
// labels type=kwok and ferry.dev/gpu=true), sorted.
Result<std::vector<std::string>> SimulatedGpuNodeNames(kube::Client& client);

class SimulatedAgents {
  struct PassKey {
    explicit PassKey() = default;
  };

 public:
  // Creates the missing ModelNodes, then starts watching and writing status.
  static Result<std::unique_ptr<SimulatedAgents>> Start(kube::Client& client,
                                                        std::vector<std::string> nodes,
                                                        SimulatedAgentsOptions options = {});
  // Use Start (the key keeps the constructor to it, which alone starts the threads).
  SimulatedAgents(PassKey, kube::Client& client, std::vector<std::string> nodes,
                  SimulatedAgentsOptions options);
  ~SimulatedAgents();  // stops the threads; leaves the ModelNodes in place
  SimulatedAgents(const SimulatedAgents&) = delete;
  SimulatedAgents& operator=(const SimulatedAgents&) = delete;

  // Scripted faults. Each takes effect at the next write, within milliseconds.
  //
  // The version is reported Failed with `message` (at once, whatever state it
  // was in, as a verification failure would) and never becomes Ready.
  void FailVersion(const std::string& node, const std::string& model, const std::string& version,
                   const std::string& message);
  // Clears that failure; the version starts again from Pending (an agent's retry).
  void ResumeVersion(const std::string& node, const std::string& model, const std::string& version);
  // GPU `gpu_index` reports critical XID `xid` (unhealthy, GPUHealthy False).
  void ReportCriticalXid(const std::string& node, int gpu_index, int xid);
  void RecoverGpu(const std::string& node, int gpu_index);  // healthy again, XIDs forgotten
  void StopHeartbeat(const std::string& node);
  void ResumeHeartbeat(const std::string& node);
  // Overrides options.staging_delay for one node, for versions already on
  // their way too (a long delay holds a node in Pending / Fetching).
  void SetStagingDelay(const std::string& node, std::chrono::milliseconds delay);
  void ResetStagingDelay(const std::string& node);

  // The state the simulation last wrote to the cluster for that version
  // ("Pending", "Ready", ...); nullopt when the version is not in that status.
  std::optional<std::string> StateOf(const std::string& node, const std::string& model,
                                     const std::string& version) const;
  // Waits until StateOf equals `state`; false after `timeout`.
  bool WaitForState(const std::string& node, const std::string& model, const std::string& version,
                    const std::string& state, std::chrono::milliseconds timeout) const;

  // Deletes the ModelNodes of the simulated nodes (tests own cleanup).
  Status DeleteModelNodes();

  const std::vector<std::string>& nodes() const { return node_names_; }

 private:
  using Clock = std::chrono::steady_clock;
  using VersionKey = std::pair<std::string, std::string>;  // model, version

  struct SimulatedVersion {
    std::string state{};  // Pending, Fetching, Ready, Active, Failed
    Clock::time_point since{};
    std::string transition_time{};  // RFC 3339, for lastTransitionTime
    std::string delta_from{};       // once Fetching: the held version the delta applies to
    std::string digest{};           // once Ready
    std::string message{};          // when Failed
  };

  struct SimulatedNode {
    std::map<VersionKey, SimulatedVersion> versions;
    std::map<VersionKey, std::string> failures;  // scripted: version -> message
    std::map<int, std::set<int>> critical_xids;  // scripted: GPU index -> XIDs
    std::optional<std::chrono::milliseconds> staging_delay;
    bool heartbeat_stopped = false;
    bool seeded = false;  // what the cluster's status already held was taken over
    kube::Json reported = kube::Json::object();  // the status last written (or found)
    std::string reported_body;                   // `reported` without heartbeat, to tell a change
    Clock::time_point last_write{};
    Clock::time_point retry_after{};
  };

  Status CreateMissingModelNodes();
  void Loop();
  // Moves `node`'s versions along `object`'s spec; returns when it next needs to act.
  Clock::time_point Advance(SimulatedNode& node, const kube::Json& object, Clock::time_point now);
  // The whole status but its heartbeat.
  kube::Json RenderStatus(const std::string& name, const SimulatedNode& node,
                          const kube::Json& object) const;
  // Advances `name` and writes its status when it changed or the heartbeat is
  // due; returns when it next needs to act.
  Clock::time_point Sync(const std::string& name, SimulatedNode& node, const kube::Json& object,
                         Clock::time_point now);
  SimulatedNode& NodeLocked(const std::string& name);
  const SimulatedNode& NodeLocked(const std::string& name) const;
  std::chrono::milliseconds DelayOf(const SimulatedNode& node) const;
  void Wake();

  kube::Client& client_;
  const std::vector<std::string> node_names_;
  const SimulatedAgentsOptions options_;
  kube::Informer informer_;

  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;         // wakes the loop: spec, faults, stopping
  mutable std::condition_variable written_;         // wakes WaitForState
  bool wake_ = false;                               // guarded by mutex_
  bool stopping_ = false;                           // guarded by mutex_
  std::map<std::string, SimulatedNode> simulated_;  // guarded by mutex_
  std::thread thread_;
};

}  // namespace ferry::testing
