// SIMULATED ferry-agents (test code): see simulated_agents.h for what they
// report and the invariants they keep.
#include "tests/support/simulated_agents.h"

#include <algorithm>
#include <stdexcept>
#include <utility>

#include "lib/common/sha256.h"
#include "lib/common/utc_time.h"
#include "lib/kube/object.h"

namespace ferry::testing {
namespace {

using kube::Json;

constexpr int64_t kDiskCapacityBytes = 1'920'000'000'000;

// How the real agent will name the critical XIDs it watches (after NVIDIA's
// XID catalogue), so that messages read the same in tests as in production.
std::string DescribeXid(int xid) {
  static constexpr std::pair<int, const char*> kKnown[] = {
      {48, "double-bit ECC error"},
      {63, "ECC page retirement or row remapping event"},
      {64, "ECC page retirement or row remapping failure"},
      {74, "NVLink error"},
      {79, "GPU fell off the bus"},
      {92, "high single-bit ECC error rate"},
      {94, "contained ECC error"},
      {95, "uncontained ECC error"},
      {119, "GSP RPC timeout"},
  };
  std::string text = "critical XID " + std::to_string(xid);
  for (const auto& [code, meaning] : kKnown) {
    if (code == xid) return text + " (" + meaning + ")";
  }
  return text;
}

// A stand-in digest that is stable for one model and version, so repeated
// runs and several nodes report the same content for the same version.
std::string MadeUpDigest(const std::string& model, const std::string& version) {
  return "sha256:" + ToHex(Sha256Of("simulated " + model + "@" + version));
}

std::string Now() { return FormatTime(std::chrono::system_clock::now()); }

kube::InformerOptions ModelNodeInformerOptions(std::shared_ptr<spdlog::logger> log) {
  kube::InformerOptions options;
  options.type = kube::types::ModelNodes();
  options.log = std::move(log);
  return options;
}

}  // namespace

Result<std::vector<std::string>> SimulatedGpuNodeNames(kube::Client& client) {
  kube::ListOptions options;
  options.label_selector = "type=kwok,ferry.dev/gpu=true";
  Result<kube::ObjectList> nodes = client.ListAll(kube::types::Nodes(), "", options);
  if (!nodes) return nodes.error().Wrap("list the simulated GPU nodes");
  std::vector<std::string> names;
  for (const Json& node : nodes->items) names.push_back(kube::Name(node));
  std::sort(names.begin(), names.end());
  return names;
}

SimulatedAgents::SimulatedAgents(PassKey, kube::Client& client, std::vector<std::string> nodes,
                                 SimulatedAgentsOptions options)
    : client_(client),
      node_names_(std::move(nodes)),
      options_(std::move(options)),
      informer_(client, ModelNodeInformerOptions(options_.log)) {
  for (const std::string& name : node_names_) simulated_[name];
}

Result<std::unique_ptr<SimulatedAgents>> SimulatedAgents::Start(kube::Client& client,
                                                                std::vector<std::string> nodes,
                                                                SimulatedAgentsOptions options) {
  auto agents =
      std::make_unique<SimulatedAgents>(PassKey(), client, std::move(nodes), std::move(options));
  if (Status created = agents->CreateMissingModelNodes(); !created) return created.error();
  SimulatedAgents* self = agents.get();
  agents->informer_.AddEventHandlers({
      .on_add = [self](const kube::ObjectPtr&) { self->Wake(); },
      .on_update = [self](const kube::ObjectPtr&, const kube::ObjectPtr&) { self->Wake(); },
      .on_delete = [self](const kube::ObjectPtr&) { self->Wake(); },
  });
  agents->informer_.Start();
  if (!agents->informer_.WaitForSync(std::chrono::seconds(30))) {
    return MakeError(ErrorCode::kUnavailable,
                     "simulated agents: the ModelNode informer never synced");
  }
  agents->thread_ = std::thread(&SimulatedAgents::Loop, self);
  return agents;
}

SimulatedAgents::~SimulatedAgents() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_all();
  if (thread_.joinable()) thread_.join();
  informer_.Stop();
}

Status SimulatedAgents::CreateMissingModelNodes() {
  for (const std::string& name : node_names_) {
    Result<Json> node = client_.Get(kube::types::Nodes(), "", name);
    if (!node) return node.error().Wrap("simulated agent for node " + name);
    // As the real agent will: it makes its own ModelNode, owned by its Node so
    // that removing the Node removes what it reported.
    const Json model_node = {
        {"apiVersion", kube::types::ModelNodes().ApiVersion()},
        {"kind", "ModelNode"},
        {"metadata",
         {{"name", name},
          {"labels", {{"ferry.dev/simulated-agent", "true"}}},
          {"ownerReferences", Json::array({{{"apiVersion", "v1"},
                                            {"kind", "Node"},
                                            {"name", name},
                                            {"uid", kube::Uid(*node)}}})}}},
    };
    Result<Json> created = client_.Create(kube::types::ModelNodes(), model_node);
    if (!created && created.error().code != ErrorCode::kAlreadyExists) {
      return created.error().Wrap("simulated agent: create ModelNode " + name);
    }
  }
  return OkStatus();
}

Status SimulatedAgents::DeleteModelNodes() {
  for (const std::string& name : node_names_) {
    Status deleted = client_.Delete(kube::types::ModelNodes(), "", name);
    if (!deleted && deleted.error().code != ErrorCode::kNotFound) {
      return deleted.error().Wrap("delete ModelNode " + name);
    }
  }
  return OkStatus();
}

void SimulatedAgents::Wake() {
  {
    std::lock_guard lock(mutex_);
    wake_ = true;
  }
  changed_.notify_all();
}

SimulatedAgents::SimulatedNode& SimulatedAgents::NodeLocked(const std::string& name) {
  auto it = simulated_.find(name);
  if (it == simulated_.end()) throw std::out_of_range("not a simulated node: " + name);
  return it->second;
}

const SimulatedAgents::SimulatedNode& SimulatedAgents::NodeLocked(const std::string& name) const {
  auto it = simulated_.find(name);
  if (it == simulated_.end()) throw std::out_of_range("not a simulated node: " + name);
  return it->second;
}

std::chrono::milliseconds SimulatedAgents::DelayOf(const SimulatedNode& node) const {
  return node.staging_delay.value_or(options_.staging_delay);
}

void SimulatedAgents::Loop() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    wake_ = false;
    const Clock::time_point now = Clock::now();
    Clock::time_point next = now + std::chrono::minutes(1);
    for (const std::string& name : node_names_) {
      SimulatedNode& node = simulated_.at(name);
      if (node.heartbeat_stopped) continue;
      // Absent from the cache: deleted by the test, or not seen yet. Either
      // way there is nothing to report on until the informer brings it.
      kube::ObjectPtr object = informer_.store().Get(name);
      if (!object) continue;
      next = std::min(next, Sync(name, node, *object, now));
    }
    changed_.wait_until(lock, next, [this] { return wake_ || stopping_; });
  }
}

SimulatedAgents::Clock::time_point SimulatedAgents::Sync(const std::string& name,
                                                         SimulatedNode& node, const Json& object,
                                                         Clock::time_point now) {
  if (!node.seeded) {
    // A restarted agent still holds what its store holds: take over the
    // verified versions an earlier status reported, and its conditions' times.
    node.seeded = true;
    node.reported = kube::ObjectField(object, "status");
    for (const Json& entry : node.reported.value("versions", Json::array())) {
      const std::string state = kube::StringField(entry, "state");
      if (state != "Ready" && state != "Active") continue;
      node.versions[{kube::StringField(entry, "model"), kube::StringField(entry, "version")}] = {
          .state = state,
          .since = now,
          .transition_time = kube::StringField(entry, "lastTransitionTime", Now()),
          .delta_from = kube::StringField(entry, "deltaFrom"),
          .digest = kube::StringField(entry, "digest"),
      };
    }
  }
  Clock::time_point next = Advance(node, object, now);
  if (now < node.retry_after) return std::min(next, node.retry_after);

  Json status = RenderStatus(name, node, object);
  std::string body = status.dump();
  if (body == node.reported_body && now - node.last_write < options_.heartbeat) {
    return std::min(next, node.last_write + options_.heartbeat);
  }

  // The first attempt writes over the cached object; after a conflict the
  // object is read afresh and its (possibly newer) spec acted upon.
  bool first = true;
  Result<Json> written = kube::RetryOnConflict([&]() -> Result<Json> {
    Json current = object;
    if (!first) {
      Result<Json> fresh = client_.Get(kube::types::ModelNodes(), "", name);
      if (!fresh) return fresh.error();
      current = std::move(*fresh);
      next = std::min(next, Advance(node, current, now));
      status = RenderStatus(name, node, current);
      body = status.dump();
    }
    first = false;
    current["status"] = status;
    current["status"]["heartbeat"] = Now();
    return client_.UpdateStatus(kube::types::ModelNodes(), current);
  });
  if (!written) {
    // Deleted under us: the informer's delete event ends the matter.
    if (written.error().code != ErrorCode::kNotFound && options_.log) {
      options_.log->warn("simulated agent {}: status write failed: {}", name,
                         written.error().message);
    }
    node.retry_after = now + std::chrono::milliseconds(500);
    return std::min(next, node.retry_after);
  }
  node.reported = kube::ObjectField(*written, "status");
  node.reported_body = std::move(body);
  node.last_write = now;
  written_.notify_all();
  return std::min(next, now + options_.heartbeat);
}

SimulatedAgents::Clock::time_point SimulatedAgents::Advance(SimulatedNode& node, const Json& object,
                                                            Clock::time_point now) {
  const std::chrono::milliseconds delay = DelayOf(node);
  Clock::time_point next = Clock::time_point::max();
  std::set<VersionKey> listed;
  std::map<std::string, std::string> active;  // model -> version spec wants current
  auto set_state = [](SimulatedVersion& version, std::string state, Clock::time_point since) {
    if (version.state == state) return;
    version.state = std::move(state);
    version.since = since;
    version.transition_time = Now();
  };
  auto holds = [&node](const VersionKey& key) {
    auto it = node.versions.find(key);
    return it != node.versions.end() &&
           (it->second.state == "Ready" || it->second.state == "Active");
  };

  for (const Json& model : kube::ObjectField(object, "spec").value("models", Json::array())) {
    const std::string model_name = kube::StringField(model, "model");
    if (model.contains("active")) active[model_name] = kube::StringField(model, "active");
    for (const Json& listed_version : model.value("versions", Json::array())) {
      const VersionKey key{model_name, kube::StringField(listed_version, "version")};
      const Json& source = kube::ObjectField(listed_version, "source");
      listed.insert(key);
      auto [it, added] = node.versions.try_emplace(key);
      SimulatedVersion& version = it->second;
      if (added) set_state(version, "Pending", now);

      // Failed while a cause holds: a scripted failure, or a spec that gives
      // nothing to verify against (the real agent must refuse it too).
      std::string failure;
      if (auto scripted = node.failures.find(key); scripted != node.failures.end()) {
        failure = scripted->second;
      } else if (!source.contains("manifestDigest") && !source.contains("publicKey")) {
        failure =
            "refusing an unverifiable version: its source has neither manifestDigest nor "
            "publicKey";
      }
      if (!failure.empty()) {
        set_state(version, "Failed", now);
        version.message = failure;
        continue;
      }
      if (version.state == "Failed") {  // its cause went away: retry from the start
        version = {};
        set_state(version, "Pending", now);
      }

      if (version.state == "Pending" && now >= version.since + delay) {
        set_state(version, "Fetching", version.since + delay);
        for (const Json& base : source.value("deltaFrom", Json::array())) {
          if (base.is_string() && holds({model_name, base.get<std::string>()})) {
            version.delta_from = base.get<std::string>();
            break;
          }
        }
      }
      if (version.state == "Fetching" && now >= version.since + delay) {
        set_state(version, "Ready", version.since + delay);
        version.digest =
            kube::StringField(source, "manifestDigest", MadeUpDigest(key.first, key.second));
      }
      if (version.state == "Pending" || version.state == "Fetching") {
        next = std::min(next, version.since + delay);
      }
    }
  }

  // `current` moves only to a verified version; the one it left stays Ready.
  for (const auto& [model, wanted] : active) {
    auto target = node.versions.find({model, wanted});
    if (target == node.versions.end() || target->second.state != "Ready") continue;
    for (auto& [key, version] : node.versions) {
      if (key.first == model && version.state == "Active") set_state(version, "Ready", now);
    }
    set_state(target->second, "Active", now);
  }

  // Removed from spec: gone from the store, except what `current` points at.
  std::erase_if(node.versions, [&listed](const auto& entry) {
    return !listed.contains(entry.first) && entry.second.state != "Active";
  });
  return next;
}

Json SimulatedAgents::RenderStatus(const std::string& name, const SimulatedNode& node,
                                   const Json& object) const {
  const int64_t generation = kube::IntField(kube::ObjectField(object, "metadata"), "generation");
  const int64_t total = options_.version_bytes;
  int64_t store_bytes = 0;

  Json versions = Json::array();
  for (const auto& [key, version] : node.versions) {
    Json entry = {{"model", key.first},
                  {"version", key.second},
                  {"state", version.state},
                  {"lastTransitionTime", version.transition_time}};
    const bool delta = !version.delta_from.empty();
    if (version.state == "Pending") {
      entry["bytes"] = 0;
    } else if (version.state == "Fetching") {
      entry["bytes"] = total / 2;
      entry["totalBytes"] = total;
      entry["downloadedBytes"] = delta ? total / 20 : total / 2;
    } else if (version.state == "Ready" || version.state == "Active") {
      entry["bytes"] = total;
      entry["totalBytes"] = total;
      entry["downloadedBytes"] = delta ? total / 10 : total;
      entry["digest"] = version.digest;
    } else if (version.state == "Failed") {
      entry["message"] = version.message;
    }
    if (delta && version.state != "Failed") entry["deltaFrom"] = version.delta_from;
    store_bytes += kube::IntField(entry, "bytes");
    versions.push_back(std::move(entry));
  }

  Json gpus = Json::array();
  int healthy = 0;
  std::string problems;
  for (int i = 0; i < options_.gpus; ++i) {
    Json gpu = {{"index", i},
                {"uuid", "GPU-sim-" + name + "-" + std::to_string(i)},
                {"name", "Simulated GPU"},
                {"healthy", true}};
    if (auto xids = node.critical_xids.find(i); xids != node.critical_xids.end()) {
      Json reasons = Json::array();
      for (int xid : xids->second) {
        reasons.push_back(DescribeXid(xid));
        problems +=
            (problems.empty() ? "" : "; ") + ("GPU " + std::to_string(i) + ": ") + DescribeXid(xid);
      }
      gpu["healthy"] = false;
      gpu["reasons"] = std::move(reasons);
      gpu["xidCritical"] = Json(xids->second);
    } else {
      ++healthy;
    }
    gpus.push_back(std::move(gpu));
  }

  Json status = {
      {"observedGeneration", generation},
      {"versions", std::move(versions)},
      {"disk",
       {{"capacityBytes", kDiskCapacityBytes},
        {"availableBytes", std::max<int64_t>(0, kDiskCapacityBytes - store_bytes)},
        {"storeBytes", store_bytes}}},
      {"totalGPUs", options_.gpus},
      {"healthyGPUs", healthy},
      {"gpus", std::move(gpus)},
      {"heartbeatSeconds", options_.heartbeat.count()},
      {"agentVersion", "simulated"},
      {"conditions", node.reported.value("conditions", Json::array())},
  };
  kube::SetCondition(status, {.type = "Ready",
                              .status = "True",
                              .reason = "AgentRunning",
                              .message = "simulated ferry-agent (test code) is running"});
  if (problems.empty()) {
    kube::SetCondition(status, {.type = "GPUHealthy",
                                .status = "True",
                                .reason = "AllGPUsHealthy",
                                .message = std::to_string(healthy) + " of " +
                                           std::to_string(options_.gpus) + " GPUs healthy"});
  } else {
    kube::SetCondition(
        status, {.type = "GPUHealthy",
                 .status = "False",
                 .reason = "CriticalXid",
                 .message = std::to_string(healthy) + " of " + std::to_string(options_.gpus) +
                            " GPUs healthy: " + problems});
  }
  return status;
}

void SimulatedAgents::FailVersion(const std::string& node, const std::string& model,
                                  const std::string& version, const std::string& message) {
  {
    std::lock_guard lock(mutex_);
    NodeLocked(node).failures[{model, version}] = message;
    wake_ = true;
  }
  changed_.notify_all();
}

void SimulatedAgents::ResumeVersion(const std::string& node, const std::string& model,
                                    const std::string& version) {
  {
    std::lock_guard lock(mutex_);
    NodeLocked(node).failures.erase({model, version});
    wake_ = true;
  }
  changed_.notify_all();
}

void SimulatedAgents::ReportCriticalXid(const std::string& node, int gpu_index, int xid) {
  {
    std::lock_guard lock(mutex_);
    if (gpu_index < 0 || gpu_index >= options_.gpus) {
      throw std::out_of_range("simulated node " + node + " has no GPU " +
                              std::to_string(gpu_index));
    }
    NodeLocked(node).critical_xids[gpu_index].insert(xid);
    wake_ = true;
  }
  changed_.notify_all();
}

void SimulatedAgents::RecoverGpu(const std::string& node, int gpu_index) {
  {
    std::lock_guard lock(mutex_);
    NodeLocked(node).critical_xids.erase(gpu_index);
    wake_ = true;
  }
  changed_.notify_all();
}

void SimulatedAgents::StopHeartbeat(const std::string& node) {
  std::lock_guard lock(mutex_);
  NodeLocked(node).heartbeat_stopped = true;
}

void SimulatedAgents::ResumeHeartbeat(const std::string& node) {
  {
    std::lock_guard lock(mutex_);
    NodeLocked(node).heartbeat_stopped = false;
    wake_ = true;
  }
  changed_.notify_all();
}

void SimulatedAgents::SetStagingDelay(const std::string& node, std::chrono::milliseconds delay) {
  {
    std::lock_guard lock(mutex_);
    NodeLocked(node).staging_delay = delay;
    wake_ = true;
  }
  changed_.notify_all();
}

void SimulatedAgents::ResetStagingDelay(const std::string& node) {
  {
    std::lock_guard lock(mutex_);
    NodeLocked(node).staging_delay.reset();
    wake_ = true;
  }
  changed_.notify_all();
}

std::optional<std::string> SimulatedAgents::StateOf(const std::string& node,
                                                    const std::string& model,
                                                    const std::string& version) const {
  std::lock_guard lock(mutex_);
  for (const Json& entry : NodeLocked(node).reported.value("versions", Json::array())) {
    if (kube::StringField(entry, "model") == model &&
        kube::StringField(entry, "version") == version) {
      return kube::StringField(entry, "state");
    }
  }
  return std::nullopt;
}

bool SimulatedAgents::WaitForState(const std::string& node, const std::string& model,
                                   const std::string& version, const std::string& state,
                                   std::chrono::milliseconds timeout) const {
  const auto deadline = Clock::now() + timeout;
  std::unique_lock lock(mutex_);
  const SimulatedNode& simulated = NodeLocked(node);
  return written_.wait_until(lock, deadline, [&] {
    for (const Json& entry : simulated.reported.value("versions", Json::array())) {
      if (kube::StringField(entry, "model") == model &&
          kube::StringField(entry, "version") == version) {
        return kube::StringField(entry, "state") == state;
      }
    }
    return false;
  });
}

}  // namespace ferry::testing
